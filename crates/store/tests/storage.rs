//! The storage behaviour suite: every test runs on SQLite and, when `HALVE_TEST_POSTGRES_URL`
//! is set, on PostgreSQL too, each time on a fresh database dropped afterwards.

use halve_domain::{
    AreaTree, Assessment, AssessmentRound, BeDate, BeYear, CitizenId, EcoZoneSet, GeoPoint,
    Household, IndicatorValue, Key, Person, Relation, Satang, Sex, Village,
};
use halve_store::testing::TestDb;
use halve_store::{AuditEntry, Backend, Store, StoreError};
use std::collections::BTreeMap;

fn village(code: &str) -> Village {
    Village {
        code: AreaTree::shipped().resolve(code).unwrap(),
        name_th: "บ้านทดสอบ".into(),
        name_en: None,
    }
}

fn household(code: &str, village: &str) -> Household {
    Household {
        house_code: Key::parse(code).unwrap(),
        village: AreaTree::shipped().resolve(village).unwrap(),
        address: "1 หมู่ 1".into(),
        location: Some(GeoPoint::new(8.43, 99.96).unwrap()),
    }
}

fn person(code: &str, house: &str, cid: Option<&str>) -> Person {
    Person {
        person_code: Key::parse(code).unwrap(),
        household: Key::parse(house).unwrap(),
        citizen_id: cid.map(|c| CitizenId::parse(c).unwrap()),
        first_name: "สมศรี".into(),
        last_name: "ใจดี".into(),
        sex: Sex::Female,
        birth_date: Some(BeDate::parse("2510-05-01").unwrap()),
        relation: Relation::Head,
        education: None,
        occupation: Some("กรีดยาง".into()),
        income_year: Some(Satang::from_baht(36_000)),
        disability: false,
        chronic_illness: true,
        bedridden: false,
    }
}

async fn persons(store: &Store) -> Vec<Person> {
    let mut out = Vec::new();
    store
        .for_each_person(&mut |p| {
            out.push(p);
            Ok(())
        })
        .await
        .unwrap();
    out
}

/// A registry with one village, two households and one person.
async fn seeded(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    tx.upsert_villages(&[village("80010101")]).await.unwrap();
    tx.upsert_households(&[household("H1", "80010101"), household("H2", "80010101")])
        .await
        .unwrap();
    tx.upsert_persons(&[person("P1", "H1", Some("1101700230708"))])
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn migrations_are_idempotent_and_required() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::unmigrated(backend).await else {
            continue;
        };
        assert!(matches!(
            db.store.check_schema().await,
            Err(StoreError::NotInitialised)
        ));
        assert_eq!(db.store.migrate().await.unwrap(), 1);
        assert_eq!(db.store.migrate().await.unwrap(), 0);
        db.store.check_schema().await.unwrap();
    }
}

#[tokio::test]
async fn records_round_trip_and_unchanged_rows_are_not_rewritten() {
    for db in TestDb::all().await {
        seeded(&db).await;
        assert_eq!(
            persons(&db.store).await,
            vec![person("P1", "H1", Some("1101700230708"))]
        );

        let mut tx = db.store.begin().await.unwrap();
        let same = tx
            .upsert_persons(&[person("P1", "H1", Some("1101700230708"))])
            .await
            .unwrap();
        assert_eq!(
            same,
            0,
            "{:?}: an identical row is not rewritten",
            db.store.backend()
        );
        let mut moved = person("P1", "H2", Some("1101700230708"));
        moved.income_year = None;
        assert_eq!(tx.upsert_persons(&[moved.clone()]).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert_eq!(persons(&db.store).await, vec![moved]);

        let counts = db.store.counts().await.unwrap();
        assert_eq!(
            (counts.villages, counts.households, counts.persons),
            (1, 2, 1)
        );
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    for db in TestDb::all().await {
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_villages(&[village("80010101")]).await.unwrap();
        tx.upsert_households(&[household("H1", "80010101")])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        // Dropping without commit is a rollback too.
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_villages(&[village("80010102")]).await.unwrap();
        drop(tx);
        assert_eq!(db.store.counts().await.unwrap().villages, 0);
    }
}

#[tokio::test]
async fn one_citizen_id_belongs_to_one_person_and_errors_do_not_quote_it() {
    for db in TestDb::all().await {
        seeded(&db).await;
        let mut tx = db.store.begin().await.unwrap();
        let err = tx
            .upsert_persons(&[person("P2", "H2", Some("1101700230708"))])
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("1101700230708"), "{text}");
        assert!(
            matches!(
                err,
                StoreError::Constraint { .. } | StoreError::Database { .. }
            ),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn references_are_enforced() {
    for db in TestDb::all().await {
        let mut tx = db.store.begin().await.unwrap();
        let err = tx
            .upsert_households(&[household("H1", "80010199")])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Constraint { .. } | StoreError::Database { .. }
            ),
            "{:?}: {err:?}",
            db.store.backend()
        );
    }
}

#[tokio::test]
async fn reads_are_in_bytewise_key_order_on_every_backend() {
    for db in TestDb::all().await {
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_villages(&[village("80010101")]).await.unwrap();
        // Locale collations put "a" between "B" and "b" or ignore punctuation; bytes don't.
        let codes = ["b-1", "B-2", "a_1", "a-1", "A.1", "10", "9"];
        let houses: Vec<Household> = codes.iter().map(|c| household(c, "80010101")).collect();
        tx.upsert_households(&houses).await.unwrap();
        tx.commit().await.unwrap();
        let mut got = Vec::new();
        db.store
            .for_each_household(&mut |h| {
                got.push(h.house_code.to_string());
                Ok(())
            })
            .await
            .unwrap();
        let mut expected: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        expected.sort();
        assert_eq!(got, expected, "{:?}", db.store.backend());
    }
}

#[tokio::test]
async fn rounds_keep_their_own_assessments() {
    for db in TestDb::all().await {
        seeded(&db).await;
        let year = |y| BeYear::new(y).unwrap();
        let round = |y: i32| AssessmentRound {
            year: year(y),
            date: BeDate::parse(&format!("{y}-06-30")).unwrap(),
            label: format!("จปฐ. {y}"),
        };
        let assessment = |y: i32, housing: f64| Assessment {
            round: year(y),
            household: Key::parse("H1").unwrap(),
            assessed_on: BeDate::parse(&format!("{y}-03-01")).unwrap(),
            members: 3,
            values: BTreeMap::from([
                ("bmn08_housing".to_owned(), IndicatorValue::Number(housing)),
                ("bmn15_preschool".to_owned(), IndicatorValue::NotApplicable),
                (
                    "income_per_person_year".to_owned(),
                    IndicatorValue::Number(37_999.5),
                ),
            ]),
        };
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_rounds(&[round(2566), round(2567)]).await.unwrap();
        tx.upsert_assessments(&[assessment(2566, 1.0), assessment(2567, 0.0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut stored = Vec::new();
        db.store
            .for_each_assessment(&mut |a| {
                stored.push(a);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(stored, vec![assessment(2566, 1.0), assessment(2567, 0.0)]);
        assert_eq!(
            db.store.rounds().await.unwrap(),
            vec![round(2566), round(2567)]
        );
    }
}

#[tokio::test]
async fn eco_zone_sets_are_versions_never_rewritten() {
    for db in TestDb::all().await {
        let set = EcoZoneSet::shipped_nakhon_si_thammarat();
        assert!(db.store.add_ecozone_set(&set).await.unwrap());
        assert!(!db.store.add_ecozone_set(&set).await.unwrap());
        assert_eq!(
            db.store.ecozone_sets().await.unwrap(),
            vec![("80".to_owned(), "2023-01-01".to_owned(), 6)]
        );
    }
}

#[tokio::test]
async fn the_audit_log_is_appended_in_order() {
    for db in TestDb::all().await {
        let entry = |action: &str| AuditEntry {
            at: "2026-11-29T07:00:00Z".into(),
            actor: "cli:test".into(),
            action: action.into(),
            entity: "persons".into(),
            entity_key: "persons.csv".into(),
            before: None,
            after: Some(r#"{"rows":1}"#.into()),
        };
        let mut tx = db.store.begin().await.unwrap();
        tx.append_audit(&entry("import")).await.unwrap();
        tx.append_audit(&entry("export")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            db.store.audit_log().await.unwrap(),
            vec![entry("import"), entry("export")]
        );
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_by_name() {
    let err = Store::connect("mysql://localhost/halve")
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("mysql"));
}
