//! Boundary import (GeoJSON) on every available backend: a good file of two districts of
//! Nakhon Si Thammarat is stored with one audit entry and imports again as a no-op; bad files
//! are refused as a whole with an error naming each bad feature, and nothing is written.

use std::path::{Path, PathBuf};

use halve_app::AppError;
use halve_app::NoProgress;
use halve_app::boundaries::{CODE_PROPERTIES, import_boundaries, parse_geojson};
use halve_app::clock::FixedClock;
use halve_app::import::import_paths;
use halve_domain::AreaTree;
use halve_store::Store;
use halve_store::testing::TestDb;

const CLOCK: FixedClock = FixedClock(1_764_400_000);

/// A closed square ring of side 0.1° with its south-west corner at (lon, lat).
fn ring(lon: f64, lat: f64) -> String {
    let (e, n) = (lon + 0.1, lat + 0.1);
    format!("[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]")
}

fn feature(properties: &str, geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{properties},"geometry":{geometry}}}"#)
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",\n")
    )
}

fn polygon(lon: f64, lat: f64) -> String {
    format!(r#"{{"type":"Polygon","coordinates":[{}]}}"#, ring(lon, lat))
}

/// Mueang (8001) as an OCHA-style feature (`ADM2_PCODE` = `TH8001`, with its province's code
/// too) and Tha Sala (8008) as a two-part MultiPolygon with a plain numeric `code`.
fn two_districts() -> String {
    collection(&[
        feature(
            r#"{"ADM2_PCODE":"TH8001","ADM1_PCODE":"TH80","ADM2_EN":"Mueang"}"#,
            &polygon(99.9, 8.4),
        ),
        feature(
            r#"{"code":8008}"#,
            &format!(
                r#"{{"type":"MultiPolygon","coordinates":[[{}],[{}]]}}"#,
                ring(99.85, 8.6),
                ring(100.0, 8.7)
            ),
        ),
    ])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn audit_count(store: &Store) -> usize {
    store.audit_log().await.unwrap().len()
}

#[tokio::test]
async fn a_good_file_is_stored_once_with_one_audit_entry() {
    for db in TestDb::all().await {
        let store = &db.store;
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "nst-districts.geojson", &two_districts());
        let summary = import_paths(
            store,
            std::slice::from_ref(&path),
            "test",
            &CLOCK,
            &NoProgress,
        )
        .await
        .unwrap();
        assert!(summary.files.is_empty());
        assert_eq!(summary.boundaries.len(), 1);
        let b = &summary.boundaries[0];
        assert_eq!(
            (b.file.as_str(), b.features, b.written),
            ("nst-districts.geojson", 2, 2)
        );
        assert!(summary.to_string().contains("2 areas, 2 new or changed"));

        let tree = AreaTree::shipped();
        let stored = store
            .boundaries_within(tree.resolve("80").unwrap())
            .await
            .unwrap();
        let codes: Vec<String> = stored.iter().map(|b| b.area.to_string()).collect();
        assert_eq!(codes, ["8001", "8008"]);
        assert_eq!(stored[0].source, "nst-districts.geojson");
        assert_eq!(stored[0].imported_at, "2025-11-29T07:06:40Z");
        // The geometry is kept as given, without the properties.
        let geometry: serde_json::Value = serde_json::from_str(&stored[1].geometry).unwrap();
        assert_eq!(geometry["type"], "MultiPolygon");
        assert_eq!(geometry["coordinates"].as_array().unwrap().len(), 2);
        assert!(!stored[0].geometry.contains("Mueang"));

        let log = store.audit_log().await.unwrap();
        let entry = log.last().unwrap();
        assert_eq!(entry.entity, "area_boundary");
        assert_eq!(entry.entity_key, "nst-districts.geojson");
        assert_eq!(entry.actor, "test");
        let after: serde_json::Value =
            serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
        assert_eq!(after["files"][0]["written"], 2);

        // The same file again changes nothing (but is still audited: someone did import it).
        let before = audit_count(store).await;
        let again = import_paths(store, &[path], "test", &CLOCK, &NoProgress)
            .await
            .unwrap();
        assert_eq!(again.boundaries[0].written, 0);
        assert_eq!(audit_count(store).await, before + 1);
        assert_eq!(store.boundary_count().await.unwrap(), 2);
    }
}

/// Imports `text` as one file and expects a refusal whose text holds every `expect` and
/// leaves the store without boundaries and without a new audit entry.
async fn check_refused(store: &Store, text: &str, expect: &[&str]) {
    let before = audit_count(store).await;
    let err = import_boundaries(
        store,
        vec![("bad.geojson".into(), text.as_bytes().to_vec())],
        "test",
        &CLOCK,
    )
    .await
    .expect_err("the file must be refused");
    assert!(matches!(err, AppError::Rejected(_)), "{err:?}");
    let message = err.to_string();
    for e in expect {
        assert!(message.contains(e), "{e:?} not in {message}");
    }
    assert!(message.contains("bad.geojson"), "{message}");
    assert_eq!(store.boundary_count().await.unwrap(), 0, "nothing written");
    assert_eq!(audit_count(store).await, before, "nothing audited");
}

#[tokio::test]
async fn bad_files_are_refused_whole_with_each_bad_feature_named() {
    for db in TestDb::all().await {
        let store = &db.store;
        let good = feature(r#"{"code":"8001"}"#, &polygon(99.9, 8.4));
        check_refused(
            store,
            "{\"type\": \"FeatureCollection\",",
            &["not valid JSON"],
        )
        .await;
        check_refused(
            store,
            r#"{"type":"Feature"}"#,
            &["must be a GeoJSON FeatureCollection"],
        )
        .await;
        check_refused(store, &collection(&[]), &["holds no features"]).await;

        // One good feature and several bad ones: every bad one is named, none is written.
        let unclosed =
            r#"{"type":"Polygon","coordinates":[[[99.9,8.4],[100.0,8.4],[100.0,8.5],[99.9,8.5]]]}"#;
        let utm = r#"{"type":"Polygon","coordinates":[[[600000,930000],[601000,930000],[601000,931000],[600000,930000]]]}"#;
        let text = collection(&[
            good.clone(),
            feature(r#"{"code":"8099"}"#, &polygon(99.9, 8.4)),
            feature(r#"{"name":"no code"}"#, &polygon(99.9, 8.4)),
            feature(
                r#"{"code":"8002"}"#,
                r#"{"type":"Point","coordinates":[99.9,8.4]}"#,
            ),
            feature(r#"{"code":"8003"}"#, unclosed),
            feature(r#"{"code":"8004"}"#, utm),
            feature(r#"{"code":"TH8001"}"#, &polygon(99.9, 8.4)),
        ]);
        check_refused(
            store,
            &text,
            &[
                "features[1].properties.code: ไม่พบรหัสอำเภอนี้ในทะเบียนพื้นที่ (no district has this code)",
                "features[2].properties",
                "no area code: expected one of the properties code, area_code",
                "features[3].geometry: ",
                "must be a Polygon or MultiPolygon",
                "features[4].geometry.coordinates",
                "not closed rings",
                "features[5].geometry.coordinates",
                "outside Thailand",
                "features[6].properties: ",
                "the same area code as features[0]",
            ],
        )
        .await;

        // Two files giving the same area: refused too, naming the other file.
        let one = collection(std::slice::from_ref(&good));
        let err = import_boundaries(
            store,
            vec![
                ("a.geojson".into(), one.clone().into_bytes()),
                ("b.geojson".into(), one.into_bytes()),
            ],
            "test",
            &CLOCK,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("area 8001 is also in a.geojson"));
        assert_eq!(store.boundary_count().await.unwrap(), 0);

        // Boundary and registry files are imported apart.
        let dir = tempfile::tempdir().unwrap();
        let geo = write(dir.path(), "d.geojson", &two_districts());
        let csv = write(
            dir.path(),
            "villages.csv",
            "village_code,name_th\n80010101,บ้าน\n",
        );
        let err = import_paths(store, &[geo, csv], "test", &CLOCK, &NoProgress)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid(_)));
        assert_eq!(store.boundary_count().await.unwrap(), 0);
        assert_eq!(store.counts().await.unwrap().villages, 0);
    }
}

#[test]
fn errors_never_repeat_the_value_and_codes_are_found_under_any_listed_name() {
    let tree = AreaTree::shipped();
    for name in CODE_PROPERTIES {
        let text = collection(&[feature(
            &format!(r#"{{"{}":"800101"}}"#, name.to_lowercase()),
            &polygon(99.9, 8.4),
        )]);
        let parsed = parse_geojson("x.geojson", text.as_bytes(), tree).unwrap();
        assert_eq!(parsed[0].area.to_string(), "800101", "{name}");
    }
    // A value that is not a code is not repeated in the message.
    let text = collection(&[feature(r#"{"code":"secret-1234567"}"#, &polygon(99.9, 8.4))]);
    let report = parse_geojson("x.geojson", text.as_bytes(), tree).unwrap_err();
    assert!(!report.to_string().contains("secret"), "{report}");
    // A byte-order mark is allowed, as spreadsheet tools write one.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(two_districts().as_bytes());
    assert_eq!(parse_geojson("x.geojson", &bom, tree).unwrap().len(), 2);
}
