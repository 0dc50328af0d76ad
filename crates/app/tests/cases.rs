//! Case management's rules on every backend: opening (the worker's zone, one active case,
//! suggested needs), every case move including the refused ones, graduation only by the
//! target engine's rule, referral deadlines with a controllable clock, the duplicate-help
//! warning, partner isolation, visits with an assessment, re-opening on fall-back, strategy
//! results worked out by hand, export → import round trip, and the demo's cases.
//!
//! The registry (imported from CSV; one person per household so that "not vulnerable" is
//! known; incomes per person per year against the 38,000 baht line of `nst-halve-2571`):
//!
//! | household | village (zone) | 2566 | 2567 | 2568 | |
//! | --- | --- | --- | --- | --- | --- |
//! | G1 | 80010101 (city) | 20,000 in | 45,000 out | 45,000 out | graduated |
//! | G2 | 80010101 (city) | 20,000 in | 20,000 in | 45,000 out | out once: not yet |
//! | G3 | 80120101 (coast) | 20,000 in | 45,000 out | 45,000 out | graduated |
//! | G4 | 80120101 (coast) | — | — | 20,000, housing deprived; member bedridden | in |
//! | G5 | 80010101 (city) | 20,000 in | 20,000 in | 20,000 in | still in |

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use halve_app::NoProgress;
use halve_app::assess::Entry;
use halve_app::cases::{
    Actor, AreaScope, CaseError, CaseMove, HelpVia, NewPlanItem, NewReferral, NewVisit, OpenCase,
    add_need, add_plan_item, answer_referral, caseload, confirm_need, graduate, move_case,
    open_case, partner_inbox, record_visit, reopen_fallen_back, send_referral,
    set_plan_item_status, shipped_catalogue, strategy_results,
};
use halve_app::clock::Clock;
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::export::export_all;
use halve_app::import::import_paths;
use halve_app::measure::shipped_spec;
use halve_app::target::{
    DEFAULT_TARGET, ProgressOptions, RegistryPanel, parse_target, shipped_target,
};
use halve_domain::AssessmentRound;
use halve_domain::case::{
    CaseState, CloseReason, NeedCode, PartnerKind, PlanItemStatus, ReferralState, Strategy,
};
use halve_domain::{AreaLevel, BeDate, BeYear, EcoZoneSet, Key, Satang};
use halve_measure::Spec;
use halve_store::testing::TestDb;
use halve_store::{Partner, Store};

/// A clock the test moves.
struct TestClock(AtomicI64);

impl TestClock {
    fn set(&self, secs: i64) {
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// 2025-11-29T06:13:20Z, 29 Nov 2568 in Thailand.
const T0: i64 = 1_764_396_800;
const DAY: i64 = 86_400;

const WORKER: Actor<'static> = Actor {
    username: "somchai",
    audit_name: "web:somchai",
    partner: None,
};

fn partner_actor(code: &'static str) -> Actor<'static> {
    Actor {
        username: "partner-user",
        audit_name: "web:partner-user",
        partner: Some(code),
    }
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn tpmap() -> Spec {
    Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5.toml").unwrap()
}

fn zones() -> EcoZoneSet {
    EcoZoneSet::shipped_nakhon_si_thammarat()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn registry(store: &Store) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut assessments =
        String::from("round,house_code,assessed_on,members,bmn08_housing,income_per_person_year\n");
    for (h, incomes) in [
        ("G1", [Some(20_000), Some(45_000), Some(45_000)]),
        ("G2", [Some(20_000), Some(20_000), Some(45_000)]),
        ("G3", [Some(20_000), Some(45_000), Some(45_000)]),
        ("G4", [None, None, Some(20_000)]),
        ("G5", [Some(20_000), Some(20_000), Some(20_000)]),
    ] {
        for (round, income) in [2566, 2567, 2568].into_iter().zip(incomes) {
            if let Some(income) = income {
                let housing = if h == "G4" { 1 } else { 0 };
                assessments.push_str(&format!("{round},{h},{round}-02-01,1,{housing},{income}\n"));
            }
        }
    }
    let mut persons =
        String::from("person_code,house_code,first_name,last_name,sex,birth_date,relation\n");
    for h in 1..=5 {
        persons.push_str(&format!("P{h},G{h},ทดสอบ,ใจดี,female,2520-01-01,head\n"));
    }
    let files = vec![
        write(
            d,
            "v.csv",
            "village_code,name_th\n80010101,บ้านหนึ่ง\n80120101,บ้านสอง\n",
        ),
        write(
            d,
            "h.csv",
            "house_code,village_code,address\nG1,80010101,1\nG2,80010101,2\nG3,80120101,3\n\
             G4,80120101,4\nG5,80010101,5\n",
        ),
        write(d, "p.csv", &persons),
        write(
            d,
            "f.csv",
            "person_code,flag,source,as_of\nP4,bedridden,อสม.,2568-01-01\n",
        ),
        write(
            d,
            "r.csv",
            "year,date,label\n2566,2566-03-31,a\n2567,2567-03-31,b\n2568,2568-03-31,c\n",
        ),
        write(d, "a.csv", &assessments),
    ];
    import_paths(
        store,
        &files,
        "test",
        &TestClock(AtomicI64::new(T0)),
        &NoProgress,
    )
    .await
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    for (code, kind, days) in [
        ("hospital", PartnerKind::Hospital, 3),
        ("labour", PartnerKind::ProvincialOffice, 7),
        ("company", PartnerKind::Company, 10),
        ("closed-agency", PartnerKind::Other, 7),
    ] {
        tx.save_partner(&Partner {
            code: key(code),
            name_th: "หน่วยงาน".into(),
            name_en: "agency".into(),
            kind,
            ack_days: days,
            active: code != "closed-agency",
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The target of the hand registry: the shipped rule, line and graduation (two assessments
/// in a row out), with `poor` judged on housing alone (the registry carries no other
/// indicator).
const HAND_TARGET: &str = r#"
id = "hand-halve"
version = 1
rule = "low_income or (vulnerable and poor)"
baseline = 2566
horizon_years = 5
reduction = "1/2"
consecutive_out = 2
[poor]
spec = "hand"
spec_version = 1
[low_income]
[[low_income.threshold]]
from = 2566
to = 2571
baht = 38000
[vulnerable]
flags = ["elderly", "child", "disabled", "bedridden"]
"#;

const HAND_SPEC: &str = "id = \"hand\"\nversion = 1\nk = [100]\n[[dimension]]\n\
                         name = \"living\"\nindicators = [\"bmn08_housing\"]\n";

async fn panel(store: &Store) -> RegistryPanel {
    let target = parse_target(HAND_TARGET, "hand-halve.toml").unwrap();
    let options = ProgressOptions {
        keep_households: true,
        spec: Some(Spec::from_toml_str(HAND_SPEC, "hand.toml").unwrap()),
        ..ProgressOptions::default()
    };
    RegistryPanel::build(store, &target, &options, &NoProgress)
        .await
        .unwrap()
}

/// The panel of the shipped target, for the demo (which carries every tpmap-5 indicator).
async fn shipped_panel(store: &Store) -> RegistryPanel {
    let target = parse_target(shipped_target(DEFAULT_TARGET).unwrap(), "t.toml").unwrap();
    let options = ProgressOptions {
        keep_households: true,
        ..ProgressOptions::default()
    };
    RegistryPanel::build(store, &target, &options, &NoProgress)
        .await
        .unwrap()
}

/// Opens a case for `household` with an unlimited worker; returns its id.
async fn open(store: &Store, clock: &TestClock, household: &str) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let opened = open_case(
        &mut tx,
        &WORKER,
        clock,
        &OpenCase {
            household: &key(household),
            worker: "somchai",
            worker_scope: &AreaScope::everywhere(),
            zones: &zones(),
            spec: &tpmap(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    opened.case.id
}

async fn audit_len(store: &Store) -> usize {
    store.audit_log().await.unwrap().len()
}

#[tokio::test]
async fn opening_checks_the_household_the_zone_and_one_active_case() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let coast_only = AreaScope {
            everywhere: false,
            zones: vec!["coast".into()],
            areas: vec![],
        };
        let try_open = async |household: &str, scope: &AreaScope| {
            let mut tx = store.begin().await.unwrap();
            let r = open_case(
                &mut tx,
                &WORKER,
                &clock,
                &OpenCase {
                    household: &key(household),
                    worker: "somchai",
                    worker_scope: scope,
                    zones: &zones(),
                    spec: &tpmap(),
                },
            )
            .await;
            if r.is_ok() {
                tx.commit().await.unwrap();
            }
            r
        };
        let before = audit_len(store).await;
        assert!(matches!(
            try_open("NOPE", &AreaScope::everywhere()).await,
            Err(CaseError::NoHousehold)
        ));
        // G1 is in the city zone: a coast worker may not be assigned to it.
        let refused = try_open("G1", &coast_only).await.unwrap_err();
        assert!(matches!(refused, CaseError::WorkerOutsideZone));
        assert!(refused.to_string().contains("zone"));
        // An area scope covering the district works as well as a zone.
        let district = AreaScope {
            everywhere: false,
            zones: vec![],
            areas: vec![halve_domain::AreaCode::parse_syntax("8001").unwrap()],
        };
        assert!(try_open("G1", &district).await.is_ok());
        assert_eq!(
            audit_len(store).await,
            before + 1,
            "only the opening is audited"
        );
        assert!(matches!(
            try_open("G1", &AreaScope::everywhere()).await,
            Err(CaseError::AlreadyOpen(_))
        ));

        // G4: housing deprived and below the income line at 2568 (other indicators not
        // assessed), a bedridden member.
        let opened = try_open("G4", &coast_only).await.unwrap();
        let codes: Vec<String> = opened.suggested.iter().map(ToString::to_string).collect();
        assert_eq!(codes, ["bmn08_housing", "bmn22_income", "flag:bedridden"]);
        assert_eq!(opened.case.state, CaseState::Open);
        assert_eq!(opened.case.opened_on.to_string(), "2568-11-29");
        let id = opened.case.id;
        let mut tx = store.begin().await.unwrap();
        confirm_need(
            &mut tx,
            &WORKER,
            &clock,
            id,
            &NeedCode::parse("bmn08_housing").unwrap(),
            true,
        )
        .await
        .unwrap();
        add_need(
            &mut tx,
            &WORKER,
            &clock,
            id,
            &NeedCode::parse("bmn19_literacy").unwrap(),
        )
        .await
        .unwrap();
        assert!(
            confirm_need(
                &mut tx,
                &WORKER,
                &clock,
                id,
                &NeedCode::parse("bmn01_birth_weight").unwrap(),
                true
            )
            .await
            .is_err()
        );
        tx.commit().await.unwrap();
        let needs: Vec<(String, &str, bool)> = store
            .needs_of_case(id)
            .await
            .unwrap()
            .iter()
            .map(|n| (n.need.to_string(), n.source.code(), n.confirmed))
            .collect();
        assert_eq!(
            needs,
            [
                ("bmn08_housing".to_owned(), "suggested", true),
                ("bmn19_literacy".to_owned(), "added", true),
                ("bmn22_income".to_owned(), "suggested", false),
                ("flag:bedridden".to_owned(), "suggested", false),
            ]
        );
        // The audit log holds codes, never names.
        let log = store.audit_log().await.unwrap();
        assert!(log.iter().all(|e| !format!("{e:?}").contains("ทดสอบ")));
    }
}

#[tokio::test]
async fn every_case_move_allowed_and_refused() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let id = open(store, &clock, "G2").await;
        let mv = async |m: CaseMove| {
            let mut tx = store.begin().await.unwrap();
            let r = move_case(&mut tx, &WORKER, &clock, id, m).await;
            if r.is_ok() {
                tx.commit().await.unwrap();
            }
            r
        };
        // Open → in progress → closed → open → closed → ...
        assert_eq!(
            mv(CaseMove::Start).await.unwrap().state,
            CaseState::InProgress
        );
        let refused = mv(CaseMove::Start).await.unwrap_err();
        assert!(matches!(refused, CaseError::Move(_)));
        assert!(
            refused.to_string().contains("already in_progress")
                || refused.to_string().contains("cannot move")
        );
        assert!(matches!(
            mv(CaseMove::Reopen).await,
            Err(CaseError::Move(_))
        ));
        let closed = mv(CaseMove::Close(CloseReason::DeclinedHelp))
            .await
            .unwrap();
        assert_eq!(
            (
                closed.state,
                closed.close_reason,
                closed.ended_on.map(|d| d.to_string())
            ),
            (
                CaseState::Closed,
                Some(CloseReason::DeclinedHelp),
                Some("2568-11-29".into())
            )
        );
        let before = audit_len(store).await;
        assert!(matches!(
            mv(CaseMove::Close(CloseReason::Other)).await,
            Err(CaseError::Move(_))
        ));
        assert!(matches!(mv(CaseMove::Start).await, Err(CaseError::Move(_))));
        assert_eq!(audit_len(store).await, before, "a refusal writes nothing");
        let reopened = mv(CaseMove::Reopen).await.unwrap();
        assert_eq!(
            (reopened.state, reopened.close_reason, reopened.ended_on),
            (CaseState::Open, None, None)
        );
        // Re-opening is refused while the household has another active case.
        mv(CaseMove::Close(CloseReason::Duplicate)).await.unwrap();
        let other = open(store, &clock, "G2").await;
        assert!(matches!(mv(CaseMove::Reopen).await, Err(CaseError::AlreadyOpen(o)) if o == other));
        assert!(matches!(
            {
                let mut tx = store.begin().await.unwrap();
                move_case(&mut tx, &WORKER, &clock, 9999, CaseMove::Start).await
            },
            Err(CaseError::NoCase)
        ));
    }
}

#[tokio::test]
async fn graduation_only_by_the_target_engines_rule() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let panel = panel(store).await;
        let g1 = open(store, &clock, "G1").await;
        let g2 = open(store, &clock, "G2").await;
        let g5 = open(store, &clock, "G5").await;
        let grad = async |id: i64| {
            let mut tx = store.begin().await.unwrap();
            let r = graduate(&mut tx, &WORKER, &clock, id, &panel).await;
            if r.is_ok() {
                tx.commit().await.unwrap();
            }
            r
        };
        // G2 was out only at the latest assessment: one qualifying assessment of two.
        let e = grad(g2).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("needs 2 qualifying assessments in a row, has 1"),
            "{e}"
        );
        // G5 is still in the target population.
        let e = grad(g5).await.unwrap_err();
        assert!(
            e.to_string().contains("still in the target population"),
            "{e}"
        );
        assert_eq!(
            store.case(g2).await.unwrap().unwrap().state,
            CaseState::Open
        );
        // G1 was out in 2567 and 2568.
        let done = grad(g1).await.unwrap();
        assert_eq!(done.state, CaseState::Graduated);
        assert_eq!(
            done.ended_on.map(|d| d.to_string()).as_deref(),
            Some("2568-11-29")
        );
        // Graduating twice, or a closed case, is a refused move.
        assert!(matches!(grad(g1).await, Err(CaseError::Move(_))));
        let mut tx = store.begin().await.unwrap();
        move_case(
            &mut tx,
            &WORKER,
            &clock,
            g2,
            CaseMove::Close(CloseReason::MovedAway),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(grad(g2).await, Err(CaseError::Move(_))));
    }
}

#[tokio::test]
async fn referral_deadlines_answers_and_partner_isolation() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let catalogue = shipped_catalogue();
        let case = open(store, &clock, "G4").await;
        let other_case = open(store, &clock, "G5").await;
        let mut tx = store.begin().await.unwrap();
        let item = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: case,
                intervention: "bedridden_care".into(),
                partner: Some(key("hospital")),
                start_on: None,
                end_on: None,
                cost: Satang::from_baht(2_500),
                funding: None,
                note: String::new(),
            },
        )
        .await
        .unwrap()
        .value;
        let sent = send_referral(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewReferral {
                case_id: case,
                plan_item: Some(item.id),
                partner: key("hospital"),
                note: "ด่วน".into(),
            },
        )
        .await
        .unwrap()
        .value;
        send_referral(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewReferral {
                case_id: other_case,
                plan_item: None,
                partner: key("labour"),
                note: String::new(),
            },
        )
        .await
        .unwrap();
        // An inactive partner receives nothing.
        assert!(matches!(
            send_referral(
                &mut tx,
                &WORKER,
                &clock,
                catalogue,
                &NewReferral {
                    case_id: case,
                    plan_item: None,
                    partner: key("closed-agency"),
                    note: String::new(),
                },
            )
            .await,
            Err(CaseError::PartnerInactive(_))
        ));
        tx.commit().await.unwrap();
        assert_eq!(sent.deadline_at, T0 + 3 * DAY);
        // Sending started the case.
        assert_eq!(
            store.case(case).await.unwrap().unwrap().state,
            CaseState::InProgress
        );

        // At the deadline it is not late; a second later it is, by one day.
        clock.set(T0 + 3 * DAY);
        let inbox = partner_inbox(store, "hospital", &clock, true)
            .await
            .unwrap();
        assert_eq!((inbox.len(), inbox[0].overdue), (1, false));
        clock.set(T0 + 3 * DAY + 1);
        let inbox = partner_inbox(store, "hospital", &clock, true)
            .await
            .unwrap();
        assert_eq!((inbox[0].overdue, inbox[0].days_overdue), (true, 1));
        let load = caseload(store, "somchai", &clock, 30).await.unwrap();
        assert_eq!(
            load[0].row.case.id, case,
            "the case with an overdue referral comes first"
        );
        assert_eq!(load[0].row.overdue_referrals, 1);

        // Partner isolation: each inbox holds its own referrals only, and another partner
        // answering a referral hears that it does not exist.
        let labour = partner_inbox(store, "labour", &clock, false).await.unwrap();
        assert_eq!(labour.len(), 1);
        assert_eq!(labour[0].row.household.as_str(), "G5");
        assert!(inbox.iter().all(|e| e.row.household.as_str() == "G4"));
        let answer = async |actor: Actor<'_>, to: ReferralState, outcome: Option<&str>| {
            let mut tx = store.begin().await.unwrap();
            let r = answer_referral(&mut tx, &actor, &clock, sent.id, to, outcome).await;
            if r.is_ok() {
                tx.commit().await.unwrap();
            }
            r
        };
        assert!(matches!(
            answer(partner_actor("labour"), ReferralState::Acknowledged, None).await,
            Err(CaseError::NoReferral)
        ));
        assert!(matches!(
            answer(partner_actor("hospital"), ReferralState::Withdrawn, None).await,
            Err(CaseError::WorkersOnly)
        ));
        assert!(matches!(
            answer(partner_actor("hospital"), ReferralState::Done, Some("x")).await,
            Err(CaseError::Move(_))
        ));
        let acked = answer(partner_actor("hospital"), ReferralState::Acknowledged, None)
            .await
            .unwrap();
        assert_eq!(acked.acknowledged_at, Some(T0 + 3 * DAY + 1));
        let inbox = partner_inbox(store, "hospital", &clock, true)
            .await
            .unwrap();
        assert!(!inbox[0].overdue);
        assert!(matches!(
            answer(partner_actor("hospital"), ReferralState::Done, Some("  ")).await,
            Err(CaseError::OutcomeRequired)
        ));
        clock.set(T0 + 10 * DAY);
        let done = answer(
            partner_actor("hospital"),
            ReferralState::Done,
            Some("ส่งพยาบาลเยี่ยมแล้ว"),
        )
        .await
        .unwrap();
        assert_eq!(
            (done.state, done.closed_at, done.outcome.as_deref()),
            (
                ReferralState::Done,
                Some(T0 + 10 * DAY),
                Some("ส่งพยาบาลเยี่ยมแล้ว")
            )
        );
        // The loop closed: the plan item is done, and nothing moves a closed referral.
        let plan = store.plan_of_case(case).await.unwrap();
        assert_eq!(plan[0].status, PlanItemStatus::Done);
        assert_eq!(
            plan[0].end_on.map(|d| d.to_string()).as_deref(),
            Some("2568-12-09")
        );
        assert!(matches!(
            answer(WORKER, ReferralState::Withdrawn, None).await,
            Err(CaseError::Move(_))
        ));
        assert!(
            partner_inbox(store, "hospital", &clock, true)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            partner_inbox(store, "hospital", &clock, false)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn the_same_help_from_another_partner_is_a_warning() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let catalogue = shipped_catalogue();
        let case = open(store, &clock, "G5").await;
        let mut tx = store.begin().await.unwrap();
        let mut add = async |intervention: &str, partner: &str| {
            add_plan_item(
                &mut tx,
                &WORKER,
                &clock,
                catalogue,
                &NewPlanItem {
                    case_id: case,
                    intervention: intervention.into(),
                    partner: Some(key(partner)),
                    start_on: Some(BeDate::parse("2568-12-01").unwrap()),
                    end_on: Some(BeDate::parse("2569-02-01").unwrap()),
                    cost: Satang::from_baht(3_000),
                    funding: None,
                    note: String::new(),
                },
            )
            .await
            .unwrap()
        };
        let training = add("job_training", "labour").await;
        assert!(training.warnings.is_empty());
        let _ = add;
        let started = set_plan_item_status(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            case,
            training.value.id,
            PlanItemStatus::InProgress,
        )
        .await
        .unwrap();
        assert!(started.warnings.is_empty());
        // A job placement by a company solves the same indicators (work, income): a warning.
        let placement = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: case,
                intervention: "job_placement".into(),
                partner: Some(key("company")),
                start_on: None,
                end_on: None,
                cost: Satang(0),
                funding: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(placement.warnings.len(), 1);
        let w = &placement.warnings[0];
        assert_eq!(
            (
                w.intervention.as_str(),
                w.partner.as_str(),
                w.via,
                w.same_type
            ),
            (
                "job_training",
                "labour",
                HelpVia::PlanItem(training.value.id),
                false
            )
        );
        // The same training referred to a second partner: the same type of help.
        let referral = send_referral(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewReferral {
                case_id: case,
                plan_item: Some(placement.value.id),
                partner: key("hospital"),
                note: String::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(referral.warnings.len(), 1);
        assert!(!referral.warnings[0].same_type);
        // Help solving nothing in common (housing) warns of nothing; the same partner again
        // is not "another partner"; a refused item is not written.
        let housing = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: case,
                intervention: "housing_repair".into(),
                partner: Some(key("labour")),
                start_on: None,
                end_on: None,
                cost: Satang(0),
                funding: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
        assert!(housing.warnings.is_empty());
        let bad_dates = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: case,
                intervention: "job_training".into(),
                partner: Some(key("company")),
                start_on: Some(BeDate::parse("2569-01-01").unwrap()),
                end_on: Some(BeDate::parse("2568-12-01").unwrap()),
                cost: Satang(0),
                funding: None,
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(bad_dates, Err(CaseError::EndBeforeStart)));
        let unknown = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: case,
                intervention: "teleport".into(),
                partner: None,
                start_on: None,
                end_on: None,
                cost: Satang(0),
                funding: None,
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(unknown, Err(CaseError::UnknownIntervention(_))));
        tx.commit().await.unwrap();
        assert_eq!(store.plan_of_case(case).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn visits_record_an_assessment_in_the_same_transaction() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let case = open(store, &clock, "G4").await;
        let entry = |house: &str| Entry {
            round: BeYear::new(2568).unwrap(),
            household: key(house),
            assessed_on: BeDate::parse("2568-11-28").unwrap(),
            members: 1,
            values: [(
                "income_per_person_year".to_owned(),
                halve_domain::IndicatorValue::Number(50_000.0),
            )]
            .into(),
        };
        let mut tx = store.begin().await.unwrap();
        let wrong = record_visit(
            &mut tx,
            &WORKER,
            &clock,
            NewVisit {
                case_id: case,
                visited_on: BeDate::parse("2568-11-28").unwrap(),
                note: String::new(),
                assessment: Some(entry("G5")),
            },
        )
        .await;
        assert!(matches!(
            wrong,
            Err(CaseError::AssessmentOfAnotherHousehold)
        ));
        let future = record_visit(
            &mut tx,
            &WORKER,
            &clock,
            NewVisit {
                case_id: case,
                visited_on: BeDate::parse("2568-11-30").unwrap(),
                note: String::new(),
                assessment: None,
            },
        )
        .await;
        assert!(future.is_err());
        let visit = record_visit(
            &mut tx,
            &WORKER,
            &clock,
            NewVisit {
                case_id: case,
                visited_on: BeDate::parse("2568-11-28").unwrap(),
                note: "ครอบครัวมีรายได้จากงานใหม่".into(),
                assessment: Some(entry("G4")),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(visit.round, Some(BeYear::new(2568).unwrap()));
        assert_eq!(store.visits_of_case(case).await.unwrap(), vec![visit]);
        let stored = store.assessments_of("G4").await.unwrap();
        let latest = stored.last().unwrap();
        assert_eq!(
            latest.values.get("income_per_person_year"),
            Some(&halve_domain::IndicatorValue::Number(50_000.0))
        );
        // Values the visit did not carry are kept.
        assert_eq!(
            latest.values.get("bmn08_housing"),
            Some(&halve_domain::IndicatorValue::Number(1.0))
        );
        let load = caseload(store, "somchai", &clock, 30).await.unwrap();
        assert_eq!(
            load[0].row.last_visit.map(|d| d.to_string()).as_deref(),
            Some("2568-11-28")
        );
        assert_eq!(load[0].next_visit.to_string(), "2568-12-28");
        assert!(!load[0].visit_overdue);
    }
}

#[tokio::test]
async fn a_household_that_falls_back_reopens_its_case_once() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let g3 = open(store, &clock, "G3").await;
        let p = panel(store).await;
        let mut tx = store.begin().await.unwrap();
        graduate(&mut tx, &WORKER, &clock, g3, &p).await.unwrap();
        tx.commit().await.unwrap();
        // Nothing fell back yet.
        assert!(
            reopen_fallen_back(store, &WORKER, &clock, &p)
                .await
                .unwrap()
                .is_empty()
        );

        // A 2569 round finds G3 below the line again.
        let mut tx = store.begin().await.unwrap();
        tx.upsert_rounds(&[AssessmentRound {
            year: BeYear::new(2569).unwrap(),
            date: BeDate::parse("2569-03-31").unwrap(),
            label: "d".into(),
        }])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        halve_app::assess::record(
            &mut tx,
            "test",
            "2026-03-01T00:00:00Z",
            Entry {
                round: BeYear::new(2569).unwrap(),
                household: key("G3"),
                assessed_on: BeDate::parse("2569-02-01").unwrap(),
                members: 1,
                values: [(
                    "income_per_person_year".to_owned(),
                    halve_domain::IndicatorValue::Number(15_000.0),
                )]
                .into(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let p = panel(store).await;
        assert_eq!(
            reopen_fallen_back(store, &WORKER, &clock, &p)
                .await
                .unwrap(),
            vec![g3]
        );
        let case = store.case(g3).await.unwrap().unwrap();
        assert_eq!((case.state, case.ended_on), (CaseState::Open, None));
        let alerts = store.alerts_of_case(g3).await.unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (alerts[0].kind.code(), alerts[0].round.be()),
            ("fell_back", 2569)
        );
        // Idempotent.
        assert!(
            reopen_fallen_back(store, &WORKER, &clock, &p)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.alerts_of_case(g3).await.unwrap().len(), 1);
        let load = caseload(store, "somchai", &clock, 30).await.unwrap();
        assert_eq!(load[0].row.open_alerts, 1);
    }
}

#[tokio::test]
async fn strategy_results_and_exits_by_cause() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let catalogue = shipped_catalogue();
        let g1 = open(store, &clock, "G1").await;
        let g2 = open(store, &clock, "G2").await;
        let mut tx = store.begin().await.unwrap();
        let item = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: g1,
                intervention: "job_training".into(),
                partner: Some(key("labour")),
                start_on: None,
                end_on: None,
                cost: Satang(1_250_050),
                funding: None,
                note: String::new(),
            },
        )
        .await
        .unwrap()
        .value;
        set_plan_item_status(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            g1,
            item.id,
            PlanItemStatus::Done,
        )
        .await
        .unwrap();
        move_case(
            &mut tx,
            &WORKER,
            &clock,
            g2,
            CaseMove::Close(CloseReason::MovedAway),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let p = panel(store).await;
        let mut tx = store.begin().await.unwrap();
        graduate(&mut tx, &WORKER, &clock, g1, &p).await.unwrap();
        tx.commit().await.unwrap();

        // Income only: deprived below 38,000 baht.
        let spec = Spec::from_toml_str(
            "id = \"inc\"\nversion = 1\nk = [100]\n[[dimension]]\nname = \"income\"\n\
             indicators = [{ name = \"bmn22_income\", rule = \"income_per_person_year < 38000\" }]\n",
            "inc.toml",
        )
        .unwrap();
        let report = strategy_results(store, catalogue, &spec, AreaLevel::District)
            .await
            .unwrap();
        assert_eq!(
            (report.from_round, report.to_round),
            (Some(2566), Some(2568))
        );
        let occupation = report
            .rows
            .iter()
            .find(|r| r.strategy == Strategy::Occupation)
            .unwrap();
        // G1 (treated, district 8001) resolved; its cell's comparison households are G2
        // (resolved) and G5 (not): a rate of 1/2. G3 is in another district.
        assert_eq!(
            (
                occupation.items_done,
                occupation.households,
                occupation.cost
            ),
            (1, 1, Satang(1_250_050))
        );
        assert_eq!(
            (occupation.pairs, occupation.resolved, occupation.unmatched),
            (1, 1, 0)
        );
        assert_eq!(occupation.comparison_expected, 0.5);
        assert_eq!(occupation.resolved_share(), Some(1.0));
        assert_eq!(occupation.comparison_share(), Some(0.5));
        let wellbeing = &report.rows[0];
        assert_eq!((wellbeing.items_done, wellbeing.pairs), (0, 0));

        let exits = halve_app::cases::exits_by_cause(store, AreaLevel::District)
            .await
            .unwrap();
        let exits: Vec<(String, &str, Option<&str>, u64)> = exits
            .iter()
            .map(|e| {
                (
                    e.area.to_string(),
                    e.state.code(),
                    e.reason.map(|r| r.code()),
                    e.cases,
                )
            })
            .collect();
        assert_eq!(
            exits,
            [
                ("8001".to_owned(), "graduated", None, 1),
                ("8001".to_owned(), "closed", Some("moved_away"), 1),
            ]
        );
    }
}

fn read_dir(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn cases_export_and_import_back_byte_for_byte() {
    let mut exported = Vec::new();
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let clock = TestClock(AtomicI64::new(T0));
        let catalogue = shipped_catalogue();
        let g4 = open(store, &clock, "G4").await;
        let g2 = open(store, &clock, "G2").await;
        let mut tx = store.begin().await.unwrap();
        let item = add_plan_item(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewPlanItem {
                case_id: g4,
                intervention: "housing_repair".into(),
                partner: Some(key("labour")),
                start_on: Some(BeDate::parse("2568-12-01").unwrap()),
                end_on: None,
                cost: Satang(1_000_050),
                funding: Some(halve_domain::case::FundingSource::LocalGovernment),
                note: "หลังคา, ผนัง \"ด้านหลัง\"".into(),
            },
        )
        .await
        .unwrap()
        .value;
        let r = send_referral(
            &mut tx,
            &WORKER,
            &clock,
            catalogue,
            &NewReferral {
                case_id: g4,
                plan_item: Some(item.id),
                partner: key("labour"),
                note: String::new(),
            },
        )
        .await
        .unwrap()
        .value;
        answer_referral(
            &mut tx,
            &partner_actor("labour"),
            &clock,
            r.id,
            ReferralState::Declined,
            Some("นอกเกณฑ์"),
        )
        .await
        .unwrap();
        record_visit(
            &mut tx,
            &WORKER,
            &clock,
            NewVisit {
                case_id: g4,
                visited_on: BeDate::parse("2568-11-01").unwrap(),
                note: "พบครอบครัว".into(),
                assessment: None,
            },
        )
        .await
        .unwrap();
        move_case(
            &mut tx,
            &WORKER,
            &clock,
            g2,
            CaseMove::Close(CloseReason::Other),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let a = tempfile::tempdir().unwrap();
        export_all(store, a.path(), "test", &clock, &NoProgress)
            .await
            .unwrap();
        let first = read_dir(a.path());
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        for name in [
            "cases.csv",
            "referrals.csv",
            "visits.csv",
            "plan_items.csv",
            "partners.csv",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        let cases_csv = &first.iter().find(|(n, _)| n == "cases.csv").unwrap().1;
        assert!(
            cases_csv
                .starts_with("case_id,house_code,worker,state,close_reason,opened_on,ended_on\n")
        );
        assert!(cases_csv.contains(&format!(
            "{g2},G2,somchai,closed,other,2568-11-29,2568-11-29\n"
        )));

        // Into an empty database of every backend, and out again: the same bytes.
        for other in TestDb::all().await {
            import_paths(
                &other.store,
                &[a.path().to_path_buf()],
                "test",
                &clock,
                &NoProgress,
            )
            .await
            .unwrap();
            let b = tempfile::tempdir().unwrap();
            export_all(&other.store, b.path(), "test", &clock, &NoProgress)
                .await
                .unwrap();
            assert_eq!(read_dir(b.path()), first);
            // Ids continue after the imported ones.
            let next = open(&other.store, &clock, "G1").await;
            assert!(next > g2, "{next}");
            // Importing the same files again changes nothing.
            import_paths(
                &other.store,
                &[a.path().to_path_buf()],
                "test",
                &clock,
                &NoProgress,
            )
            .await
            .unwrap();
            assert_eq!(
                other.store.case(g4).await.unwrap(),
                store.case(g4).await.unwrap()
            );
        }
        exported.push(first);
    }
    // Both backends wrote the same files.
    if exported.len() == 2 {
        assert_eq!(exported[0], exported[1]);
    }
}

#[tokio::test]
async fn a_case_file_with_bad_references_imports_nothing() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let dir = tempfile::tempdir().unwrap();
        let cases = write(
            dir.path(),
            "cases.csv",
            "case_id,house_code,worker,state,close_reason,opened_on,ended_on\n\
             1,G1,somchai,open,,2568-01-01,\n\
             2,NOPE,somchai,open,,2568-01-01,\n\
             3,G2,somchai,closed,,2568-01-01,2568-02-01\n",
        );
        let visits = write(
            dir.path(),
            "visits.csv",
            "visit_id,case_id,visited_on,worker,note,assessment_round\n1,7,2568-01-05,somchai,,\n",
        );
        let clock = TestClock(AtomicI64::new(T0));
        let e = import_paths(store, &[cases, visits], "test", &clock, &NoProgress)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no household has this code"), "{e}");
        assert!(e.contains("a closed case has a close reason"), "{e}");
        assert!(e.contains("no case has this id"), "{e}");
        assert!(store.cases_of_household("G1").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_demo_carries_cases_in_every_state() {
    for db in TestDb::all().await {
        let store = &db.store;
        build_demo(
            store,
            &DemoOptions {
                households: 1_500,
                seed: DemoOptions::DEFAULT_SEED,
            },
            &NoProgress,
        )
        .await
        .unwrap();
        let mut states = std::collections::BTreeMap::new();
        let mut cases = Vec::new();
        store
            .for_each_case(&mut |c| {
                *states.entry(c.state.code()).or_insert(0) += 1;
                cases.push(c);
                Ok(())
            })
            .await
            .unwrap();
        for s in CaseState::ALL {
            assert!(
                states.get(s.code()).copied().unwrap_or(0) > 0,
                "no {s} case: {states:?}"
            );
        }
        let mut referral_states = std::collections::BTreeSet::new();
        store
            .for_each_referral(&mut |r| {
                referral_states.insert(r.state);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            referral_states.len(),
            ReferralState::ALL.len(),
            "{referral_states:?}"
        );
        let mut visits = 0;
        store
            .for_each_visit(&mut |_| {
                visits += 1;
                Ok(())
            })
            .await
            .unwrap();
        assert!(visits >= cases.len());
        // Every graduated case passes the target engine's rule.
        let p = shipped_panel(store).await;
        for c in cases.iter().filter(|c| c.state == CaseState::Graduated) {
            halve_app::cases::graduation_check(&p, &c.household).unwrap();
        }
        let partners = store.partners().await.unwrap();
        assert!(partners.len() >= 8);
        let clock = TestClock(AtomicI64::new(T0));
        let overdue: usize = {
            let mut n = 0;
            for partner in &partners {
                n += partner_inbox(store, partner.code.as_str(), &clock, true)
                    .await
                    .unwrap()
                    .iter()
                    .filter(|e| e.overdue)
                    .count();
            }
            n
        };
        assert!(overdue > 0);
    }
}
