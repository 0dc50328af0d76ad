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
        // Every migration of crates/store/migrations/, each once.
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sql")
            })
            .count();
        assert_eq!(db.store.migrate().await.unwrap(), files);
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

// Access to the web app (accounts, sessions, throttling, one-time form tokens) and the reads
// of its pages (one household, scoped search).

fn scope(kind: &str, code: &str) -> halve_store::ScopeEntry {
    halve_store::ScopeEntry {
        kind: kind.into(),
        code: code.into(),
    }
}

#[tokio::test]
async fn accounts_and_sessions_live_until_they_expire_or_end() {
    use halve_store::NewUser;
    for db in TestDb::all().await {
        let s = &db.store;
        let entries = [scope("zone", "coast"), scope("area", "8001")];
        let worker = NewUser {
            username: "somsri",
            display_name: "สมศรี",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            role: "zone_worker",
            scope: &entries,
        };
        let id = s.add_user(&worker, 100).await.unwrap();
        let taken = s.add_user(&worker, 100).await.unwrap_err();
        // SQLite names no constraint, PostgreSQL does: either way a refusal without the name.
        assert!(
            matches!(&taken, StoreError::Constraint { .. })
                || matches!(&taken, StoreError::Database { summary, .. } if summary == "UniqueViolation"),
            "{taken:?}"
        );
        assert!(
            !taken.to_string().contains("somsri"),
            "no stored value in errors"
        );
        let admin = NewUser {
            username: "admin",
            display_name: "admin",
            password_hash: "x",
            role: "admin",
            scope: &[],
        };
        s.add_user(&admin, 100).await.unwrap();
        let found = s.user_by_name("somsri").await.unwrap().unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.role, "zone_worker");
        assert!(found.active);
        assert_eq!(
            found.scope,
            vec![scope("area", "8001"), scope("zone", "coast")]
        );
        assert!(s.user_by_name("nobody").await.unwrap().is_none());
        let names: Vec<String> = s
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["admin", "somsri"]);
        assert!(s.set_password_hash("somsri", "new").await.unwrap());
        assert!(!s.set_password_hash("nobody", "new").await.unwrap());
        assert_eq!(
            s.user_by_name("somsri")
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "new"
        );

        s.create_session("hash-1", id, "csrf-1", 1_000, 2_000)
            .await
            .unwrap();
        let session = s.session("hash-1", 1_500).await.unwrap().unwrap();
        assert_eq!(session.user.username, "somsri");
        assert_eq!(session.csrf_token, "csrf-1");
        assert!(
            s.session("hash-1", 2_000).await.unwrap().is_none(),
            "expired"
        );
        assert!(s.session("other", 1_500).await.unwrap().is_none());
        s.touch_session("hash-1", 1_900, 3_000).await.unwrap();
        assert_eq!(
            s.session("hash-1", 2_500).await.unwrap().unwrap().last_seen,
            1_900
        );
        s.create_session("hash-2", id, "csrf-2", 1_000, 1_200)
            .await
            .unwrap();
        assert_eq!(s.prune_access(2_600, 0, 0).await.unwrap(), 1, "hash-2 only");
        s.end_session("hash-1").await.unwrap();
        assert!(s.session("hash-1", 2_500).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn failed_sign_ins_are_counted_by_subject_within_a_window() {
    for db in TestDb::all().await {
        let s = &db.store;
        s.record_login_failure(&["user:a", "ip:127.0.0.1"], 100)
            .await
            .unwrap();
        s.record_login_failure(&["user:a"], 200).await.unwrap();
        s.record_login_failure(&["user:b"], 300).await.unwrap();
        assert_eq!(
            s.login_failures_since("user:a", 0).await.unwrap(),
            (2, Some(100))
        );
        assert_eq!(
            s.login_failures_since("user:a", 150).await.unwrap(),
            (1, Some(200))
        );
        assert_eq!(
            s.login_failures_since("ip:127.0.0.1", 0).await.unwrap(),
            (1, Some(100))
        );
        assert_eq!(
            s.login_failures_since("user:c", 0).await.unwrap(),
            (0, None)
        );
        s.clear_login_failures("user:a").await.unwrap();
        assert_eq!(s.login_failures_since("user:a", 0).await.unwrap().0, 0);
        assert_eq!(s.login_failures_since("user:b", 0).await.unwrap().0, 1);
        s.prune_access(1_000, 0, 1_000).await.unwrap();
        assert_eq!(s.login_failures_since("user:b", 0).await.unwrap().0, 0);
    }
}

#[tokio::test]
async fn a_form_token_is_spent_once_and_only_with_its_write() {
    use halve_store::FormTokenUse;
    for db in TestDb::all().await {
        let s = &db.store;
        s.issue_form_token("t1", "session-a", "assess:H1", 100)
            .await
            .unwrap();
        // Spent in a transaction that rolls back: still unspent.
        let mut tx = s.begin().await.unwrap();
        let used = tx
            .spend_form_token("t1", "session-a", "assess:H1", 110, "/households/H1")
            .await;
        assert_eq!(used.unwrap(), FormTokenUse::Spent);
        tx.rollback().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        let used = tx
            .spend_form_token(
                "t1",
                "session-a",
                "assess:H1",
                120,
                "/households/H1?saved=1",
            )
            .await;
        assert_eq!(used.unwrap(), FormTokenUse::Spent);
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert_eq!(
            tx.spend_form_token("t1", "session-a", "assess:H1", 130, "/x")
                .await
                .unwrap(),
            FormTokenUse::AlreadyUsed {
                outcome: Some("/households/H1?saved=1".into())
            }
        );
        // Another session's or another form's token is not this one.
        assert_eq!(
            tx.spend_form_token("t1", "session-b", "assess:H1", 130, "/x")
                .await
                .unwrap(),
            FormTokenUse::Unknown
        );
        assert_eq!(
            tx.spend_form_token("t1", "session-a", "assess:H2", 130, "/x")
                .await
                .unwrap(),
            FormTokenUse::Unknown
        );
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn one_household_is_read_whole_and_searches_stay_in_their_areas() {
    use halve_store::{AreaFilter, SearchBy};
    for db in TestDb::all().await {
        seeded(&db).await;
        let s = &db.store;
        assert_eq!(
            s.household("H1").await.unwrap().unwrap(),
            household("H1", "80010101")
        );
        assert!(s.household("H9").await.unwrap().is_none());
        assert_eq!(s.persons_in("H1").await.unwrap().len(), 1);
        assert!(s.persons_in("H2").await.unwrap().is_empty());
        assert_eq!(
            s.village("80010101").await.unwrap().unwrap().name_th,
            "บ้านทดสอบ"
        );
        assert_eq!(s.villages_in("800101").await.unwrap().len(), 1);
        assert!(s.assessments_of("H1").await.unwrap().is_empty());
        assert!(s.events_at("H1").await.unwrap().is_empty());

        let all = AreaFilter::default();
        let houses = |hits: Vec<halve_store::SearchHit>| -> Vec<String> {
            hits.iter()
                .map(|h| h.household.house_code.as_str().to_owned())
                .collect()
        };
        let by_name = s
            .search_households(&SearchBy::Name(vec!["สม".into(), "ใจ".into()]), &all, 50)
            .await
            .unwrap();
        assert_eq!(houses(by_name.clone()), ["H1"]);
        assert_eq!(
            by_name[0].person.as_ref().unwrap().person_code.as_str(),
            "P1"
        );
        // A whole name is a prefix of itself; the character after the prefix's last is not.
        let whole = SearchBy::Name(vec!["สมศรี".into()]);
        assert_eq!(
            houses(s.search_households(&whole, &all, 50).await.unwrap()),
            ["H1"]
        );
        let next = SearchBy::Name(vec!["สย".into()]);
        assert!(
            s.search_households(&next, &all, 50)
                .await
                .unwrap()
                .is_empty()
        );
        let miss = SearchBy::Name(vec!["ใจ".into(), "ดำ".into()]);
        assert!(
            s.search_households(&miss, &all, 50)
                .await
                .unwrap()
                .is_empty()
        );
        let wildcard = SearchBy::Name(vec!["%".into()]);
        assert!(
            s.search_households(&wildcard, &all, 50)
                .await
                .unwrap()
                .is_empty()
        );
        let by_id = SearchBy::CitizenId("1101700230708".into());
        assert_eq!(
            houses(s.search_households(&by_id, &all, 50).await.unwrap()),
            ["H1"]
        );
        let by_code = SearchBy::HouseCode("H2".into());
        assert_eq!(
            houses(s.search_households(&by_code, &all, 50).await.unwrap()),
            ["H2"]
        );
        let by_village = SearchBy::Village("80010101".into());
        assert_eq!(
            houses(s.search_households(&by_village, &all, 50).await.unwrap()),
            ["H1", "H2"]
        );
        assert_eq!(
            s.search_households(&by_village, &all, 1)
                .await
                .unwrap()
                .len(),
            1
        );
        let here = AreaFilter {
            include: vec!["8001".into()],
            ..AreaFilter::default()
        };
        let elsewhere = AreaFilter {
            include: vec!["8002".into()],
            ..AreaFilter::default()
        };
        let excluded = AreaFilter {
            include: vec!["8001".into()],
            exclude: vec!["800101".into()],
            nothing: false,
        };
        let nothing = AreaFilter {
            nothing: true,
            ..AreaFilter::default()
        };
        for by in [&by_id, &by_code, &by_village] {
            assert!(!s.search_households(by, &here, 50).await.unwrap().is_empty());
            for f in [&elsewhere, &excluded, &nothing] {
                assert!(
                    s.search_households(by, f, 50).await.unwrap().is_empty(),
                    "{by:?} {f:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn record_changes_round_trip_and_unchanged_ones_are_not_rewritten() {
    use halve_store::{RecordChange, RecordChangeKind, RecordEntity};
    for db in TestDb::all().await {
        seeded(&db).await;
        let merge = RecordChange {
            entity: RecordEntity::Household,
            code: Key::parse("H2").unwrap(),
            change: RecordChangeKind::Merged,
            date: BeDate::parse("2567-01-15").unwrap(),
            into: Some(Key::parse("H1").unwrap()),
            note: "ครัวเรือนซ้ำ".into(),
        };
        let correction = RecordChange {
            entity: RecordEntity::Person,
            code: Key::parse("P1").unwrap(),
            change: RecordChangeKind::Corrected,
            date: BeDate::parse("2567-02-01").unwrap(),
            into: None,
            note: String::new(),
        };
        let mut tx = db.store.begin().await.unwrap();
        let written = tx
            .upsert_record_changes(&[correction.clone(), merge.clone()])
            .await
            .unwrap();
        assert_eq!(written, 2);
        tx.commit().await.unwrap();
        // By entity, then code: households before persons.
        assert_eq!(
            db.store.record_changes().await.unwrap(),
            vec![merge.clone(), correction.clone()]
        );
        let mut tx = db.store.begin().await.unwrap();
        assert_eq!(
            tx.upsert_record_changes(std::slice::from_ref(&merge))
                .await
                .unwrap(),
            0,
            "{:?}: an identical change is not rewritten",
            db.store.backend()
        );
        let mut later = merge.clone();
        later.date = BeDate::parse("2567-03-01").unwrap();
        assert_eq!(tx.upsert_record_changes(&[later.clone()]).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert_eq!(
            db.store.record_changes().await.unwrap(),
            vec![later, correction]
        );
    }
}
