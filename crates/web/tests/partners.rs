//! Partner accounts, the referral inbox, the partner directory, the strategy results and the
//! case exports through the whole router, on SQLite and (when `HALVE_TEST_POSTGRES_URL` is
//! set) PostgreSQL: a partner sees only its own referrals and nothing of any household page;
//! deadlines follow the test clock; answers are written once; the strategy page shows the
//! core's figures; exports are refused to all but administrators and coordinators.

mod common;

use axum::http::StatusCode;
use common::*;
use halve_app::cases::shipped_catalogue;
use halve_domain::AreaLevel;
use halve_domain::case::{DAY_SECONDS, ReferralState};
use halve_measure::Spec;
use halve_store::testing::TestDb;
use halve_store::{CaseRecord, Referral};

const HOSPITAL: &str = "hospital-nst";

async fn referrals(app: &App) -> Vec<Referral> {
    let mut out = Vec::new();
    app.store
        .for_each_referral(&mut |r| {
            out.push(r);
            Ok(())
        })
        .await
        .unwrap();
    out
}

async fn active_case(app: &App) -> CaseRecord {
    let mut out = Vec::new();
    app.store
        .for_each_case(&mut |c| {
            out.push(c);
            Ok(())
        })
        .await
        .unwrap();
    out.into_iter()
        .find(|c| c.state.is_active())
        .expect("the demo has an active case")
}

/// A referral to `partner` sent now (by the test clock) with `days` to acknowledge.
async fn send(app: &App, partner: &str, days: i64) -> i64 {
    let case = active_case(app).await;
    let now = app.clock.0.load(std::sync::atomic::Ordering::SeqCst);
    let mut tx = app.store.begin().await.unwrap();
    let id = tx
        .save_referral(&Referral {
            id: 0,
            case_id: case.id,
            plan_item: None,
            partner: halve_domain::Key::parse(partner).unwrap(),
            state: ReferralState::Sent,
            sent_by: "coast".into(),
            sent_at: now,
            deadline_at: now + days * DAY_SECONDS,
            acknowledged_at: None,
            closed_at: None,
            outcome: None,
            note: String::new(),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn referral(app: &App, id: i64) -> Referral {
    app.store.referral(id).await.unwrap().expect("stored")
}

/// The referral ids the inbox page lists.
fn listed(body: &str) -> Vec<i64> {
    body.split("<li id=\"r")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The section of the page about one referral.
fn section(body: &str, id: i64) -> &str {
    let start = body
        .find(&format!("<li id=\"r{id}\""))
        .unwrap_or_else(|| panic!("referral {id} not listed"));
    let rest = &body[start..];
    &rest[..rest.find("</li>").unwrap()]
}

/// The one-time token of a referral's forms.
fn token_of(body: &str, id: i64) -> String {
    let s = section(body, id);
    let marker = "name=\"form_token\" value=\"";
    let at = s.find(marker).expect("an answer form") + marker.len();
    s[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_partner_sees_only_its_own_referrals_and_no_household() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mine = send(&app, HOSPITAL, 3).await;
        let theirs = send(&app, "pao-nst", 3).await;
        let mut b = Browser::login(&app, "hospital").await;

        let home = b.get("/").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER);
        assert_eq!(home.location(), "/inbox");
        let page = b.get("/inbox").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut shown = listed(&page.body);
        shown.sort();
        let mut expected: Vec<i64> = referrals(&app)
            .await
            .into_iter()
            .filter(|r| r.partner.as_str() == HOSPITAL)
            .map(|r| r.id)
            .collect();
        expected.sort();
        assert_eq!(shown, expected);
        assert!(shown.contains(&mine) && !shown.contains(&theirs));
        // Of the household, the code and village, never its members.
        let case = active_case(&app).await;
        assert!(section(&page.body, mine).contains(case.household.as_str()));
        for h in [&app.inside, &app.outside] {
            for p in app.store.persons_in(code(h)).await.unwrap() {
                if let Some(id) = &p.citizen_id {
                    assert!(!page.body.contains(&id.as_digits()));
                }
                assert!(!page.body.contains(&p.first_name), "a member's name");
            }
        }

        // Another partner's inbox, by parameter, and its referral, by id.
        assert_eq!(
            b.get("/inbox?partner=pao-nst").await.status,
            StatusCode::FORBIDDEN
        );
        let csrf = page.hidden("csrf");
        let token = token_of(&page.body, mine);
        let r = b
            .post(
                &format!("/inbox/{theirs}"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "acknowledged"),
                ],
            )
            .await;
        // Refused before the referral is even read (no form of this inbox is for it), exactly
        // as for a referral that does not exist.
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = b
            .post(
                "/inbox/999999",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "acknowledged"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(referral(&app, theirs).await.state, ReferralState::Sent);

        // Every household page, search and the API are closed.
        for path in [
            format!("/households/{}", code(&app.inside)),
            format!("/households/{}", code(&app.outside)),
            format!("/households/{}/assess", code(&app.inside)),
            format!("/search?q={}", code(&app.inside)),
            "/api/households".to_owned(),
            format!("/api/households/{}", code(&app.inside)),
            "/api/measures".to_owned(),
            "/areas".to_owned(),
            "/partners".to_owned(),
            "/users".to_owned(),
            "/export/referrals.csv".to_owned(),
        ] {
            assert_eq!(b.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(b.get("/strategies").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn deadlines_answers_and_double_submits() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let on_time = send(&app, HOSPITAL, 3).await;
        let late = send(&app, HOSPITAL, 3).await;
        let mut b = Browser::login(&app, "hospital").await;
        let page = b.get("/inbox").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            !section(&page.body, late).contains("overdue"),
            "{}",
            page.body
        );
        let csrf = page.hidden("csrf");

        // Acknowledged within the deadline, twice with the same form: written once.
        let token = token_of(&page.body, on_time);
        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", &token),
            ("to", "acknowledged"),
        ];
        let first = b.post(&format!("/inbox/{on_time}"), &fields).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let second = b.post(&format!("/inbox/{on_time}"), &fields).await;
        assert_eq!(second.status, StatusCode::SEE_OTHER);
        assert_eq!(second.location(), first.location());
        let r = referral(&app, on_time).await;
        assert_eq!(r.state, ReferralState::Acknowledged);
        assert_eq!(r.acknowledged_at, Some(common::NOW));
        let acks = app
            .store
            .audit_log()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entity == "referral" && e.entity_key == on_time.to_string())
            .filter(|e| e.action == "acknowledge")
            .count();
        assert_eq!(acks, 1);

        // At the deadline itself it is on time; a second later it is overdue.
        app.clock
            .0
            .fetch_add(3 * DAY_SECONDS, std::sync::atomic::Ordering::SeqCst);
        // Sessions end after hours idle: sign in again after days.
        let mut b = Browser::login(&app, "hospital").await;
        let page = b.get("/inbox").await;
        assert!(!section(&page.body, late).contains("overdue"));
        app.clock
            .0
            .fetch_add(DAY_SECONDS + 1, std::sync::atomic::Ordering::SeqCst);
        let mut b = Browser::login(&app, "hospital").await;
        let page = b.get("/inbox").await;
        let csrf = page.hidden("csrf");
        assert!(
            section(&page.body, late).contains("overdue"),
            "{}",
            page.body
        );
        assert!(!section(&page.body, on_time).contains("overdue"));
        // Acknowledging late still records when.
        let token = token_of(&page.body, late);
        let r = b
            .post(
                &format!("/inbox/{late}"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "acknowledged"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = referral(&app, late).await;
        assert_eq!(r.state, ReferralState::Acknowledged);
        assert_eq!(r.acknowledged_at, Some(common::NOW + 4 * DAY_SECONDS + 1));

        // Done needs an outcome: refused in Thai with nothing written, then done.
        let page = b.get("/inbox").await;
        let token = token_of(&page.body, on_time);
        let refused = b
            .post(
                &format!("/inbox/{on_time}"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "done"),
                    ("outcome", " "),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("ต้องบันทึกผลการดำเนินการ"),
            "{}",
            refused.body
        );
        assert_eq!(
            referral(&app, on_time).await.state,
            ReferralState::Acknowledged
        );
        let done = b
            .post(
                &format!("/inbox/{on_time}"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "done"),
                    ("outcome", "ให้บริการกายภาพบำบัดแล้ว"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let r = referral(&app, on_time).await;
        assert_eq!(r.state, ReferralState::Done);
        assert_eq!(r.outcome.as_deref(), Some("ให้บริการกายภาพบำบัดแล้ว"));

        // Declined with an outcome.
        let page = b.get("/inbox").await;
        let token = token_of(&page.body, late);
        let declined = b
            .post(
                &format!("/inbox/{late}"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("to", "declined"),
                    ("outcome", "นอกพื้นที่ให้บริการ"),
                ],
            )
            .await;
        assert_eq!(declined.status, StatusCode::SEE_OTHER);
        let r = referral(&app, late).await;
        assert_eq!(r.state, ReferralState::Declined);
        assert_eq!(r.outcome.as_deref(), Some("นอกพื้นที่ให้บริการ"));

        // A coordinator reads the inbox but has no forms and may not answer.
        let mut c = Browser::login(&app, "coordinator").await;
        let other = send(&app, HOSPITAL, 3).await;
        let page = c.get(&format!("/inbox?partner={HOSPITAL}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(listed(&page.body).contains(&other));
        assert!(!page.body.contains("name=\"form_token\""));
        let csrf = c.csrf().await;
        let r = c
            .post(
                &format!("/inbox/{other}"),
                &[("csrf", &csrf), ("to", "acknowledged")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let mut v = Browser::login(&app, "viewer").await;
        assert_eq!(
            v.get(&format!("/inbox?partner={HOSPITAL}")).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_strategy_page_shows_the_cores_figures() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let spec = Spec::from_toml_str(
            halve_app::measure::shipped_spec("tpmap-5").unwrap(),
            "tpmap-5",
        )
        .unwrap();
        let report = halve_app::cases::results::strategy_results(
            &app.store,
            shipped_catalogue(),
            &spec,
            AreaLevel::District,
        )
        .await
        .unwrap();
        assert!(
            report.rows.iter().any(|r| r.items_done > 0),
            "demo has help"
        );
        let mut v = Browser::login(&app, "viewer").await;
        let page = v.get("/strategies").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("ไม่ใช่ข้อสรุปเชิงเหตุและผล"));
        assert!(
            page.body
                .contains(&format!("{} v{}", report.spec_id, report.spec_version))
        );
        for r in &report.rows {
            let n = r.strategy.number();
            let cell = |what: &str, value: String| {
                let expected = format!("id=\"s{n}-{what}\">{value}<");
                assert!(page.body.contains(&expected), "{expected}");
            };
            cell("items", r.items_done.to_string());
            cell("households", r.households.to_string());
            cell("cost", r.cost.to_string());
            cell("pairs", r.pairs.to_string());
            cell("resolved", r.resolved.to_string());
            cell("unmatched", r.unmatched.to_string());
        }
        let exits: u64 = halve_app::cases::exits_by_cause(&app.store, AreaLevel::Province)
            .await
            .unwrap()
            .iter()
            .map(|e| e.cases)
            .sum();
        assert!(exits > 0 && page.body.contains("id=\"exits\""));
    }
}

#[tokio::test]
async fn exports_carry_every_row_and_are_refused_to_others() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut a = Browser::login(&app, "admin").await;
        let csv = a.get("/export/referrals.csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        let all = referrals(&app).await;
        assert!(!all.is_empty());
        let mut lines = csv.body.lines();
        assert!(lines.next().unwrap().starts_with("referral_id,case_id"));
        let ids: Vec<i64> = lines
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids, all.iter().map(|r| r.id).collect::<Vec<_>>());
        let cases = a.get("/export/cases.csv").await;
        assert_eq!(cases.status, StatusCode::OK);
        assert!(
            cases
                .body
                .contains(active_case(&app).await.household.as_str())
        );
        let mut c = Browser::login(&app, "coordinator").await;
        assert_eq!(c.get("/export/visits.csv").await.status, StatusCode::OK);
        for who in ["viewer", "coast", "worker"] {
            let mut b = Browser::login(&app, who).await;
            for path in [
                "/export/cases.csv",
                "/export/referrals.csv",
                "/export/visits.csv",
            ] {
                assert_eq!(
                    b.get(path).await.status,
                    StatusCode::FORBIDDEN,
                    "{who} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn administrators_bind_partner_accounts_to_a_known_partner() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut a = Browser::login(&app, "admin").await;
        let form = a.get("/users/new").await;
        let fields = |partner: &'static str, token: String, csrf: String| {
            vec![
                ("csrf".to_owned(), csrf),
                ("form_token".to_owned(), token),
                ("username".to_owned(), "baac".to_owned()),
                ("role".to_owned(), "partner".to_owned()),
                ("partner".to_owned(), partner.to_owned()),
                ("password".to_owned(), "long enough password".to_owned()),
                (
                    "password_confirm".to_owned(),
                    "long enough password".to_owned(),
                ),
            ]
        };
        let csrf = form.hidden("csrf");
        let token = form.hidden("form_token");
        let send = |f: Vec<(String, String)>| f;
        let bad = send(fields("no-such-partner", token.clone(), csrf.clone()));
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = a.post("/users/new", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("no-such-partner"));
        assert!(app.store.user_by_name("baac").await.unwrap().is_none());
        let good = fields("baac-nst", token, csrf);
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = a.post("/users/new", &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let user = app.store.user_by_name("baac").await.unwrap().unwrap();
        assert_eq!(user.role, "partner");
        assert_eq!(user.scope.len(), 1);
        assert_eq!(
            (user.scope[0].kind.as_str(), user.scope[0].code.as_str()),
            ("partner", "baac-nst")
        );
    }
}
