//! The live snapshot follows the store's change feed: a committed assessment is patched in and
//! gives the figures a fresh read of the registry gives; a rolled-back one changes nothing; a
//! change to other records, or a write by another connection (another process), makes it
//! rebuild from the store. On every backend.

use halve_app::NoProgress;
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::live::{CatchUp, LiveSnapshot};
use halve_app::measure::{Grouping, MeasureOptions, measure_registry, shipped_spec};
use halve_domain::Assessment;
use halve_measure::{Report, Spec};
use halve_store::testing::TestDb;
use halve_store::{AuditEntry, Store};
use std::time::Duration;

fn spec() -> Spec {
    Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5.toml").unwrap()
}

fn options() -> MeasureOptions {
    MeasureOptions {
        by: vec![Grouping::District, Grouping::Sex],
        ..MeasureOptions::default()
    }
}

async fn assessments(store: &Store) -> Vec<Assessment> {
    let mut all = Vec::new();
    store
        .for_each_assessment(&mut |a| {
            all.push(a);
            Ok(())
        })
        .await
        .unwrap();
    all
}

/// Persons counted poor at the spec's first cutoff in the last round, province-wide.
fn poor_persons(report: &Report) -> f64 {
    let last = report
        .results
        .iter()
        .filter_map(|r| r.year)
        .fold(f64::MIN, f64::max);
    report
        .results
        .iter()
        .find(|r| {
            r.measure == "q" && r.year == Some(last) && r.by.is_none() && r.indicator.is_none()
        })
        .expect("q of the last round")
        .value
}

/// A deprived household of the last round, and the same assessment with the values of a
/// household deprived in nothing: it leaves poverty.
async fn lift(store: &Store) -> (Assessment, Assessment) {
    let all = assessments(store).await;
    let last = all.iter().map(|a| a.round).max().unwrap();
    let spec = spec();
    let profile = |a: &Assessment| halve_app::measure::deprivation_profile(&spec, a).unwrap();
    let poor = all
        .iter()
        .find(|a| a.round == last && profile(a).is_some_and(|b| b != 0))
        .expect("a deprived household")
        .clone();
    let clean = all
        .iter()
        .find(|a| a.round == last && profile(a) == Some(0))
        .expect("a household deprived in nothing");
    let lifted = Assessment {
        values: clean.values.clone(),
        ..poor.clone()
    };
    (poor, lifted)
}

fn assert_same(a: &Report, b: &Report) {
    assert_eq!(a.results.len(), b.results.len());
    for (x, y) in a.results.iter().zip(&b.results) {
        assert_eq!(
            (x.measure, &x.by, &x.group, &x.indicator, &x.year_label),
            (y.measure, &y.by, &y.group, &y.indicator, &y.year_label)
        );
        assert!(
            (x.value - y.value).abs() < 1e-9 || (x.value.is_nan() && y.value.is_nan()),
            "{x:?} vs {y:?}"
        );
    }
}

fn audit(action: &str, key: &str) -> AuditEntry {
    AuditEntry {
        at: "2026-11-29T00:00:00Z".into(),
        actor: "test".into(),
        action: action.into(),
        entity: "assessment".into(),
        entity_key: key.into(),
        before: None,
        after: None,
    }
}

#[tokio::test]
async fn the_live_snapshot_follows_committed_writes() {
    for db in TestDb::all().await {
        let demo = DemoOptions {
            households: 300,
            seed: 5,
        };
        build_demo(&db.store, &demo, &NoProgress).await.unwrap();
        // The audit head is read on every read here, so that another process's write below is
        // seen at once.
        let live = LiveSnapshot::with_head_interval(&db.store, spec(), options(), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(live.catch_up().await.unwrap(), CatchUp::default());
        let before = live.read().await.unwrap().report(None).unwrap();

        // A poor household of the last round takes the values of a household that is not
        // deprived in anything: it leaves poverty.
        let (poor, lifted) = lift(&db.store).await;

        // Rolled back: nothing happened.
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_assessments(std::slice::from_ref(&lifted))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(live.catch_up().await.unwrap(), CatchUp::default());
        assert_same(&live.read().await.unwrap().report(None).unwrap(), &before);

        // Committed: patched in place, and the same as reading the registry afresh.
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_assessments(std::slice::from_ref(&lifted))
            .await
            .unwrap();
        tx.append_audit(&audit("update", poor.household.as_str()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            live.catch_up().await.unwrap(),
            CatchUp {
                patched: 1,
                rebuilt: false
            }
        );
        let after = live.read().await.unwrap().report(None).unwrap();
        assert_eq!(
            poor_persons(&before) - poor_persons(&after),
            f64::from(poor.members),
            "the household's members leave the count"
        );
        let fresh = measure_registry(&db.store, &spec(), &options())
            .await
            .unwrap();
        assert_same(&after, &fresh);

        // Writing the same values again changes no row, so nothing is published.
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_assessments(std::slice::from_ref(&lifted))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(live.catch_up().await.unwrap(), CatchUp::default());

        // Another connection (as another process would) writes and audits: no change reaches
        // our feed, but the audit log moved, so the next read rebuilds.
        let other = Store::connect(&db.url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        tx.upsert_assessments(std::slice::from_ref(&poor))
            .await
            .unwrap();
        tx.append_audit(&audit("update", poor.household.as_str()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(live.catch_up().await.unwrap().rebuilt);
        let restored = live.read().await.unwrap().report(None).unwrap();
        assert_same(&restored, &before);
        other.close().await;
    }
}

#[tokio::test]
async fn a_change_to_other_records_rebuilds() {
    for db in TestDb::all().await {
        let demo = DemoOptions {
            households: 120,
            seed: 9,
        };
        build_demo(&db.store, &demo, &NoProgress).await.unwrap();
        let live = LiveSnapshot::new(&db.store, spec(), options())
            .await
            .unwrap();
        let mut households = Vec::new();
        db.store
            .for_each_household(&mut |h| {
                households.push(h);
                Ok(())
            })
            .await
            .unwrap();
        let mut moved = households[0].clone();
        moved.address = format!("{} (แก้ไข)", moved.address);
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_households(&[moved]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            live.catch_up().await.unwrap(),
            CatchUp {
                patched: 0,
                rebuilt: true
            }
        );
    }
}

#[tokio::test]
async fn an_audited_change_to_no_record_is_not_taken_for_another_process() {
    for db in TestDb::all().await {
        let demo = DemoOptions {
            households: 60,
            seed: 5,
        };
        build_demo(&db.store, &demo, &NoProgress).await.unwrap();
        // Checking the audit head on every read, so that any unexplained move would show.
        let live = LiveSnapshot::with_head_interval(&db.store, spec(), options(), Duration::ZERO)
            .await
            .unwrap();
        // An account or a definition edited in this process: audited, no record changed.
        let mut tx = db.store.begin().await.unwrap();
        tx.append_audit(&audit("edit_user", "worker"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(live.catch_up().await.unwrap(), CatchUp::default());
        // The same entry written by another connection (another process) still rebuilds.
        let other = Store::connect(&db.url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        tx.append_audit(&audit("edit_user", "worker"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(live.catch_up().await.unwrap().rebuilt);
        other.close().await;
    }
}

/// Households poor at the spec's first cutoff in the last round, from the engine's estimates.
fn poor_households(snapshot: &halve_app::measure::RegistrySnapshot) -> u64 {
    let run = snapshot.run(None).unwrap();
    let est = &run.estimates;
    let last = est.years.len() - 1;
    est.groups
        .iter()
        .find(|g| g.year == Some(last) && g.by.is_none())
        .unwrap()
        .at[0]
        .q_units
}

#[tokio::test]
async fn a_lifted_household_leaves_the_count_under_every_area_grouping() {
    for db in TestDb::all().await {
        let demo = DemoOptions {
            households: 400,
            seed: 3,
        };
        build_demo(&db.store, &demo, &NoProgress).await.unwrap();
        let options = MeasureOptions {
            by: vec![
                Grouping::Province,
                Grouping::District,
                Grouping::Subdistrict,
                Grouping::Village,
                Grouping::EcoZone,
            ],
            ..MeasureOptions::default()
        };
        let live = LiveSnapshot::new(&db.store, spec(), options).await.unwrap();
        let before = poor_households(&live.read().await.unwrap());
        let (_, lifted) = lift(&db.store).await;
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_assessments(std::slice::from_ref(&lifted))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after = poor_households(&live.read().await.unwrap());
        assert_eq!(after, before - 1);
        let fresh = halve_app::measure::RegistrySnapshot::build(
            &db.store,
            &spec(),
            &MeasureOptions {
                by: vec![Grouping::Village],
                ..MeasureOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(poor_households(&fresh), after);
    }
}
