//! The case management pages end to end over the router, on both databases: opening a case
//! from a household page, the case page's forms (needs, plan, referrals, visits, states,
//! worker), the caseload, and who may see or change what.

mod common;
use common::*;

use axum::http::StatusCode;
use halve_app::target::{
    DEFAULT_TARGET, ProgressOptions, RegistryPanel, parse_target, shipped_target,
};
use halve_domain::case::{CaseState, PlanItemStatus};
use halve_domain::{Household, Satang};
use halve_store::testing::TestDb;

/// The one-time token of the form posting to `action` (a page has one per form).
fn token_in(body: &str, action: &str) -> String {
    let at = body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form to {action} in the page: {body}"));
    let marker = "name=\"form_token\" value=\"";
    let start = at + body[at..].find(marker).expect("a form token") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// A household of the test worker's subdistrict with members, assessments and no case yet.
async fn fresh_household(app: &App) -> Household {
    let mut all = Vec::new();
    app.store
        .for_each_household(&mut |h| {
            all.push(h);
            Ok(())
        })
        .await
        .unwrap();
    let sub = app.inside.village.parent();
    for h in all {
        let code = h.house_code.as_str().to_owned();
        if h.village.parent() == sub
            && !app.store.persons_in(&code).await.unwrap().is_empty()
            && !app.store.assessments_of(&code).await.unwrap().is_empty()
            && app
                .store
                .cases_of_household(&code)
                .await
                .unwrap()
                .is_empty()
        {
            return h;
        }
    }
    panic!("no household without a case in the worker's subdistrict");
}

fn seg(h: &Household) -> String {
    code(h).replace('/', "%2F")
}

/// Opens a case from the household page, with the worker the form offers first.
async fn open_case(b: &mut Browser<'_>, h: &Household, worker: &str) -> i64 {
    let page = b.get(&format!("/households/{}", seg(h))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let action = format!("/households/{}/case", seg(h));
    let token = token_in(&page.body, &action);
    let csrf = page.hidden("csrf");
    let r = b
        .post(
            &action,
            &[("csrf", &csrf), ("form_token", &token), ("worker", worker)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location()
        .strip_prefix("/cases/")
        .unwrap()
        .parse()
        .unwrap()
}

/// Posts a form of the case page: reads the page, then sends `fields` with its tokens.
async fn case_post(b: &mut Browser<'_>, id: i64, action: &str, fields: &[(&str, &str)]) -> Reply {
    let page = b.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = token_in(&page.body, action);
    let csrf = page.hidden("csrf");
    let mut all = vec![("csrf", csrf.as_str()), ("form_token", token.as_str())];
    all.extend_from_slice(fields);
    b.post(action, &all).await
}

async fn wait_for_panel(b: &mut Browser<'_>) {
    for _ in 0..300 {
        if b.get("/api/progress").await.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the target panel never finished");
}

#[tokio::test]
async fn a_worker_opens_a_case_from_the_household_page_once_however_often_sent() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let page = w.get(&format!("/households/{}", seg(&h))).await;
        assert!(page.body.contains("ครัวเรือนนี้ยังไม่มีเคส"));
        let action = format!("/households/{}/case", seg(&h));
        let token = token_in(&page.body, &action);
        let csrf = page.hidden("csrf");
        // Without the session's CSRF token: refused, nothing written.
        let forged = w
            .post(&action, &[("form_token", &token), ("worker", "worker")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            app.store
                .cases_of_household(code(&h))
                .await
                .unwrap()
                .is_empty()
        );
        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("worker", "worker"),
        ];
        let first = w.post(&action, &fields).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        assert!(first.location().starts_with("/cases/"));
        let again = w.post(&action, &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
        let cases = app.store.cases_of_household(code(&h)).await.unwrap();
        assert_eq!(cases.len(), 1, "a double submit opens one case");
        assert_eq!(cases[0].worker, "worker");
        assert_eq!(cases[0].state, CaseState::Open);
        // The household page now links the case, with its state and worker.
        let page = w.get(&format!("/households/{}", seg(&h))).await;
        assert!(
            page.body
                .contains(&format!("href=\"/cases/{}\"", cases[0].id))
        );
        assert!(page.body.contains("เปิดเคส"));
        assert!(
            !page.body.contains(&action),
            "no second case while one is active"
        );
        // Suggested needs come from the household's deprivations and flags.
        let needs = app.store.needs_of_case(cases[0].id).await.unwrap();
        let case_page = w.get(&format!("/cases/{}", cases[0].id)).await;
        for n in &needs {
            assert!(case_page.body.contains(&format!("value=\"{}\"", n.need)));
        }
        // A viewer never sees a household, nor opens a case; a worker never outside the area.
        let mut v = Browser::login(&app, "viewer").await;
        let vcsrf = v.csrf().await;
        let r = v
            .post(
                &action,
                &[("csrf", &vcsrf), ("form_token", "x"), ("worker", "worker")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let out = format!("/households/{}/case", seg(&app.outside));
        let r = w
            .post(
                &out,
                &[("csrf", &csrf), ("form_token", "x"), ("worker", "worker")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_its_access_allows() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut admin = Browser::login(&app, "admin").await;
        let id = open_case(&mut admin, &h, "worker").await;
        for user in ["admin", "coordinator", "worker"] {
            let mut b = Browser::login(&app, user).await;
            let r = b.get(&format!("/cases/{id}")).await;
            assert_eq!(r.status, StatusCode::OK, "{user}");
            assert!(r.body.contains(code(&h)), "{user}");
            assert_eq!(b.get("/caseload").await.status, StatusCode::OK, "{user}");
        }
        let mut v = Browser::login(&app, "viewer").await;
        assert_eq!(
            v.get(&format!("/cases/{id}")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(v.get("/caseload").await.status, StatusCode::FORBIDDEN);
        let vcsrf = v.csrf().await;
        for path in [
            "move",
            "needs",
            "plan",
            "plan/1",
            "referrals",
            "referrals/1/withdraw",
            "visits",
            "worker",
        ] {
            let r = v
                .post(
                    &format!("/cases/{id}/{path}"),
                    &[("csrf", &vcsrf), ("form_token", "x")],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "viewer posting {path}");
        }
        // A case of a household outside the worker's area answers as a missing one.
        let mut other = Vec::new();
        for c in app
            .store
            .cases_of_household(code(&app.outside))
            .await
            .unwrap()
        {
            other.push(c.id);
        }
        let other_id = match other.first() {
            Some(&id) => id,
            None => open_case(&mut admin, &app.outside, "admin").await,
        };
        let mut w = Browser::login(&app, "worker").await;
        let wcsrf = w.csrf().await;
        assert_eq!(
            w.get(&format!("/cases/{other_id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(w.get("/cases/999999").await.status, StatusCode::NOT_FOUND);
        let r = w
            .post(
                &format!("/cases/{other_id}/visits"),
                &[
                    ("csrf", &wcsrf),
                    ("form_token", "x"),
                    ("visited_on", "2568-06-30"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            app.store
                .visits_of_case(other_id)
                .await
                .unwrap()
                .iter()
                .all(|v| v.worker != "worker")
        );
        // The worker's caseload lists their case; a coordinator finds it by worker.
        assert!(
            w.get("/caseload")
                .await
                .body
                .contains(&format!("href=\"/cases/{id}\""))
        );
        let mut c = Browser::login(&app, "coordinator").await;
        let page = c.get("/caseload?worker=worker").await;
        assert!(page.body.contains(&format!("href=\"/cases/{id}\"")));
        assert!(
            !c.get("/caseload")
                .await
                .body
                .contains(&format!("href=\"/cases/{id}\""))
        );
        // A zone worker cannot look at another worker's caseload by asking.
        let page = w.get("/caseload?worker=admin").await;
        assert!(!page.body.contains(&format!("href=\"/cases/{other_id}\"")) || other.is_empty());
        // A forged or reused form token writes nothing.
        let r = w
            .post(
                &format!("/cases/{id}/visits"),
                &[
                    ("csrf", &wcsrf),
                    ("form_token", "forged"),
                    ("visited_on", "2568-06-30"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(app.store.visits_of_case(id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_plan_item_costs_exact_satang_and_a_referral_is_sent_once_with_its_deadline() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let id = open_case(&mut w, &h, "worker").await;
        let partners = app.store.partners().await.unwrap();
        let active: Vec<_> = partners.iter().filter(|p| p.active).collect();
        let intervention = &halve_app::cases::shipped_catalogue().interventions[0].code;
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/plan"),
            &[
                ("intervention", intervention),
                ("partner", active[0].code.as_str()),
                ("start_on", "2568-07-01"),
                ("end_on", "2568-09-30"),
                ("cost", "๑,๕๐๐.๕๐"),
                ("funding", "province"),
                ("note", ""),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let plan = app.store.plan_of_case(id).await.unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].cost, Satang(150_050));
        assert_eq!(plan[0].status, PlanItemStatus::Planned);
        let page = w.get(&format!("/cases/{id}")).await;
        assert!(page.body.contains("1,500.50 บาท"));

        // Sending twice with the same form sends one referral.
        let page = w.get(&format!("/cases/{id}")).await;
        let action = format!("/cases/{id}/referrals");
        let token = token_in(&page.body, &action);
        let csrf = page.hidden("csrf");
        let item = plan[0].id.to_string();
        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("plan_item", item.as_str()),
            ("partner", active[0].code.as_str()),
            ("note", ""),
        ];
        assert_eq!(w.post(&action, &fields).await.status, StatusCode::SEE_OTHER);
        assert_eq!(w.post(&action, &fields).await.status, StatusCode::SEE_OTHER);
        let referrals = app.store.referrals_of_case(id).await.unwrap();
        assert_eq!(referrals.len(), 1, "a double submit sends once");
        let r0 = &referrals[0];
        assert_eq!(r0.sent_at, NOW);
        assert_eq!(r0.deadline_at, NOW + i64::from(active[0].ack_days) * 86_400);
        // Sending moved the case into progress.
        assert_eq!(
            app.store.case(id).await.unwrap().unwrap().state,
            CaseState::InProgress
        );
        let page = w.get(&format!("/cases/{id}")).await;
        assert!(page.body.contains("ส่งแล้ว"));
        assert!(!page.body.contains("class=\"overdue\""));
        // Past the deadline the referral is overdue, on the case page and in the caseload.
        app.clock
            .0
            .store(r0.deadline_at + 1, std::sync::atomic::Ordering::SeqCst);
        // A week on, the session has ended: sign in again.
        let mut w = Browser::login(&app, "worker").await;
        let page = w.get(&format!("/cases/{id}")).await;
        assert!(page.body.contains("class=\"overdue\""));
        assert!(page.body.contains("เกินกำหนด 1 วัน"));
        let load = w.get("/caseload").await;
        assert!(load.body.contains("ส่งต่อเกินกำหนด 1"), "{}", load.body);
        // The worker withdraws it.
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/referrals/{}/withdraw", r0.id),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            app.store.referral(r0.id).await.unwrap().unwrap().state,
            halve_domain::case::ReferralState::Withdrawn
        );
    }
}

#[tokio::test]
async fn the_duplicate_help_warning_shows_before_and_after_sending() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let id = open_case(&mut w, &h, "worker").await;
        let partners = app.store.partners().await.unwrap();
        let active: Vec<_> = partners.iter().filter(|p| p.active).collect();
        let intervention = &halve_app::cases::shipped_catalogue().interventions[0].code;
        let first = [
            ("intervention", intervention.as_str()),
            ("partner", active[0].code.as_str()),
            ("cost", "0"),
        ];
        let r = case_post(&mut w, id, &format!("/cases/{id}/plan"), &first).await;
        assert_eq!(r.location(), format!("/cases/{id}?saved=1"));
        assert!(
            !w.get(&format!("/cases/{id}"))
                .await
                .body
                .contains("duplicate-help")
        );
        let item = app.store.plan_of_case(id).await.unwrap()[0].id;
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/plan/{item}"),
            &[("status", "in_progress")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The same help from another partner: saved, with the warning.
        let second = [
            ("intervention", intervention.as_str()),
            ("partner", active[1].code.as_str()),
            ("cost", "0"),
        ];
        let r = case_post(&mut w, id, &format!("/cases/{id}/plan"), &second).await;
        assert_eq!(r.location(), format!("/cases/{id}?warned=1"));
        let page = w.get(r.location()).await;
        assert!(
            page.body
                .contains("ได้รับความช่วยเหลือแบบเดียวกันจากหน่วยงานอื่นอยู่แล้ว")
        );
        assert!(
            page.body.contains(&active[0].name_th),
            "the partner already helping is named"
        );
        // Sending the second item to its partner warns again, and the warning stays.
        let second_item = app
            .store
            .plan_of_case(id)
            .await
            .unwrap()
            .iter()
            .find(|p| p.id != item)
            .unwrap()
            .id;
        let item_s = second_item.to_string();
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/referrals"),
            &[("plan_item", &item_s), ("partner", active[1].code.as_str())],
        )
        .await;
        assert_eq!(r.location(), format!("/cases/{id}?warned=1"));
        assert_eq!(
            app.store.referrals_of_case(id).await.unwrap().len(),
            1,
            "a warning does not stop the referral"
        );
        assert!(
            w.get(&format!("/cases/{id}"))
                .await
                .body
                .contains("duplicate-help")
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_in_thai_and_nothing_is_written() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let id = open_case(&mut w, &h, "worker").await;
        let intervention = &halve_app::cases::shipped_catalogue().interventions[0].code;
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/plan"),
            &[
                ("intervention", intervention),
                ("cost", "12.345"),
                ("note", "ซ่อมหลังคา"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("จำนวนเงินมีทศนิยมได้ไม่เกิน 2 ตำแหน่ง"));
        assert!(r.body.contains("ซ่อมหลังคา"), "what was typed is kept");
        assert!(app.store.plan_of_case(id).await.unwrap().is_empty());
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/plan"),
            &[
                ("intervention", intervention),
                ("start_on", "2568-09-01"),
                ("end_on", "2568-08-01"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("วันที่สิ้นสุดต้องไม่ก่อนวันที่เริ่ม"));
        // A visit after today (1 July 2568 by the test clock).
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/visits"),
            &[("visited_on", "2568-07-02"), ("note", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("วันที่เยี่ยมต้องไม่เลยวันนี้"));
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/move"),
            &[("action", "close"), ("reason", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("กรุณาเลือกเหตุผลที่ปิดเคส"));
        // The worker may be only someone whose areas hold the household.
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/worker"),
            &[("worker", "coordinator")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("ผู้ดูแลเคสต้องทำงานในโซนหรือพื้นที่ของครัวเรือนนี้"));
        // English when asked.
        let page = w.get(&format!("/cases/{id}?lang=en")).await;
        let token = token_in(&page.body, &format!("/cases/{id}/visits"));
        let csrf = page.hidden("csrf");
        let r = w
            .post(
                &format!("/cases/{id}/visits"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("visited_on", "2568-07-02"),
                ],
            )
            .await;
        assert!(r.body.contains("a visit cannot be dated after today"));
        assert!(app.store.visits_of_case(id).await.unwrap().is_empty());
        let c = app.store.case(id).await.unwrap().unwrap();
        assert_eq!((c.state, c.worker.as_str()), (CaseState::Open, "worker"));
        // And the same forms, well filled, go through.
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/visits"),
            &[("visited_on", "2568-07-01"), ("note", "เยี่ยมบ้าน")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let visits = app.store.visits_of_case(id).await.unwrap();
        assert_eq!(visits.len(), 1);
        assert_eq!(visits[0].visited_on.to_string(), "2568-07-01");
        let page = w.get(&format!("/cases/{id}")).await;
        assert!(page.body.contains("เยี่ยมบ้าน"));
        // The next visit is due 30 days after this one (the English choice above stays).
        let load = w.get("/caseload").await;
        assert!(load.body.contains("31 Jul 2568 BE"), "{}", load.body);
    }
}

#[tokio::test]
async fn needs_are_confirmed_added_and_removed() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let id = open_case(&mut w, &h, "worker").await;
        let action = format!("/cases/{id}/needs");
        let r = case_post(
            &mut w,
            id,
            &action,
            &[("action", "add"), ("need", "flag:bedridden")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let find = async |code: &str| {
            app.store
                .needs_of_case(id)
                .await
                .unwrap()
                .into_iter()
                .find(|n| n.need.to_string() == code)
        };
        assert!(find("flag:bedridden").await.unwrap().confirmed);
        let r = case_post(
            &mut w,
            id,
            &action,
            &[("action", "unconfirm"), ("need", "flag:bedridden")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(!find("flag:bedridden").await.unwrap().confirmed);
        let r = case_post(
            &mut w,
            id,
            &action,
            &[("action", "remove"), ("need", "flag:bedridden")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(find("flag:bedridden").await.is_none());
        let r = case_post(
            &mut w,
            id,
            &action,
            &[("action", "add"), ("need", "no such thing!")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn graduation_is_refused_with_the_rules_reason_and_a_closed_case_reopens() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let h = fresh_household(&app).await;
        let mut w = Browser::login(&app, "worker").await;
        let id = open_case(&mut w, &h, "worker").await;
        wait_for_panel(&mut w).await;
        // The reason the target engine gives, from a panel built here, not the web app's.
        let target = parse_target(shipped_target(DEFAULT_TARGET).unwrap(), DEFAULT_TARGET).unwrap();
        let panel = RegistryPanel::build(
            &app.store,
            &target,
            &ProgressOptions {
                keep_households: true,
                ..ProgressOptions::default()
            },
            &halve_app::NoProgress,
        )
        .await
        .unwrap();
        let expected = halve_app::cases::graduation_check(&panel, &h.house_code);
        let r = case_post(
            &mut w,
            id,
            &format!("/cases/{id}/move"),
            &[("action", "graduate")],
        )
        .await;
        match expected {
            Ok(()) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER);
                assert_eq!(
                    app.store.case(id).await.unwrap().unwrap().state,
                    CaseState::Graduated
                );
            }
            Err(e) => {
                let (th, _) = e.th_en();
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
                assert!(r.body.contains(&th), "{th}");
                assert!(th.contains("ครั้งติดต่อกัน"), "{th}");
                assert_eq!(
                    app.store.case(id).await.unwrap().unwrap().state,
                    CaseState::Open
                );
                // Closed with a reason, then re-opened.
                let r = case_post(
                    &mut w,
                    id,
                    &format!("/cases/{id}/move"),
                    &[("action", "close"), ("reason", "moved_away")],
                )
                .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
                let c = app.store.case(id).await.unwrap().unwrap();
                assert_eq!(c.state, CaseState::Closed);
                let page = w.get(&format!("/cases/{id}")).await;
                assert!(page.body.contains("ย้ายออกนอกพื้นที่"));
                let r = case_post(
                    &mut w,
                    id,
                    &format!("/cases/{id}/move"),
                    &[("action", "reopen")],
                )
                .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
                assert_eq!(
                    app.store.case(id).await.unwrap().unwrap().state,
                    CaseState::Open
                );
            }
        }
        // A demo case that graduated by the rule re-opens and graduates again.
        let mut admin = Browser::login(&app, "admin").await;
        let graduated = app.store.case_exits().await.unwrap().len();
        let _ = graduated;
        let mut found = None;
        for n in 1..200 {
            if let Some(c) = app.store.case(n).await.unwrap()
                && c.state == CaseState::Graduated
            {
                found = Some(c);
                break;
            }
        }
        let c = found.expect("the demo has a graduated case");
        let r = case_post(
            &mut admin,
            c.id,
            &format!("/cases/{}/move", c.id),
            &[("action", "reopen")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(halve_app::cases::graduation_check(&panel, &c.household).is_ok());
        let r = case_post(
            &mut admin,
            c.id,
            &format!("/cases/{}/move", c.id),
            &[("action", "graduate")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            app.store.case(c.id).await.unwrap().unwrap().state,
            CaseState::Graduated
        );
    }
}
