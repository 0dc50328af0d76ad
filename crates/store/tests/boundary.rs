//! Area boundaries on SQLite and (when `HALVE_TEST_POSTGRES_URL` is set) PostgreSQL: written
//! in a transaction, read back by parent, replaced when they differ, untouched when they don't,
//! and gone when the transaction is rolled back.

use halve_domain::{AreaCode, AreaTree};
use halve_store::testing::TestDb;
use halve_store::{Boundary, Store};

fn code(raw: &str) -> AreaCode {
    AreaTree::shipped().resolve(raw).unwrap()
}

fn square(lon: f64, lat: f64) -> String {
    format!(
        r#"{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}],[{lon},{lat}]]]}}"#,
        lon + 0.1,
        lon + 0.1,
        lat + 0.1,
        lat + 0.1
    )
}

fn boundary(raw: &str, geometry: String, source: &str, at: &str) -> Boundary {
    Boundary {
        area: code(raw),
        geometry,
        source: source.into(),
        imported_at: at.into(),
    }
}

async fn write(store: &Store, rows: &[Boundary]) -> u64 {
    let mut tx = store.begin().await.unwrap();
    let n = tx.upsert_boundaries(rows).await.unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn boundaries_are_stored_read_by_parent_and_replaced_only_when_they_differ() {
    for db in TestDb::all().await {
        let store = &db.store;
        let first = [
            boundary(
                "8002",
                square(99.8, 8.5),
                "a.geojson",
                "2025-07-01T00:00:00Z",
            ),
            boundary(
                "8001",
                square(99.9, 8.4),
                "a.geojson",
                "2025-07-01T00:00:00Z",
            ),
            boundary(
                "800101",
                square(99.9, 8.4),
                "a.geojson",
                "2025-07-01T00:00:00Z",
            ),
            boundary(
                "9001",
                square(100.5, 7.0),
                "a.geojson",
                "2025-07-01T00:00:00Z",
            ),
        ];
        assert_eq!(write(store, &first).await, 4);
        assert_eq!(store.boundary_count().await.unwrap(), 4);

        // The children of a province, by code, and nothing of another level or province.
        let districts = store.boundaries_within(code("80")).await.unwrap();
        let codes: Vec<String> = districts.iter().map(|b| b.area.to_string()).collect();
        assert_eq!(codes, ["8001", "8002"]);
        assert_eq!(districts[0], first[1]);
        let subdistricts = store.boundaries_within(code("8001")).await.unwrap();
        assert_eq!(subdistricts.len(), 1);
        assert_eq!(subdistricts[0].area, code("800101"));
        assert!(
            store
                .boundaries_within(code("8003"))
                .await
                .unwrap()
                .is_empty()
        );

        // The same file again writes nothing and keeps the first import time.
        let again: Vec<Boundary> = first
            .iter()
            .map(|b| Boundary {
                imported_at: "2025-08-01T00:00:00Z".into(),
                ..b.clone()
            })
            .collect();
        assert_eq!(write(store, &again).await, 0);
        assert_eq!(
            store.boundary(code("8001")).await.unwrap().unwrap(),
            first[1]
        );

        // A new geometry replaces the old one, with its own time and source.
        let moved = boundary(
            "8001",
            square(99.7, 8.3),
            "b.geojson",
            "2025-08-01T00:00:00Z",
        );
        assert_eq!(write(store, std::slice::from_ref(&moved)).await, 1);
        assert_eq!(store.boundary(code("8001")).await.unwrap().unwrap(), moved);
        assert_eq!(store.boundary_count().await.unwrap(), 4);

        // A rolled-back transaction leaves nothing behind.
        let mut tx = store.begin().await.unwrap();
        tx.upsert_boundaries(&[boundary("8003", square(99.6, 8.4), "c.geojson", "x")])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(store.boundary(code("8003")).await.unwrap().is_none());
        assert_eq!(store.boundary_count().await.unwrap(), 4);
    }
}
