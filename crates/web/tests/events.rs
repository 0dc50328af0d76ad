//! The birth, death and move forms (`crates/web/src/events.rs`) driven through the whole
//! router on every backend: each change written once however often it is sent, audited with
//! the user as actor, refused in Thai with the values kept and nothing written, and kept to
//! the user's role and areas (the destination of a move included).

mod common;

use axum::http::StatusCode;
use common::*;
use halve_app::registry_edit::members_on;
use halve_domain::{BeDate, MembershipEvent, MembershipKind, Person};
use halve_store::testing::TestDb;
use std::collections::BTreeMap;

/// A word of this module's list, in Thai (`en` false) or English, as a page shows it (HTML
/// escaped as the templates escape it).
fn word(key: &str, en: bool) -> String {
    let words: BTreeMap<String, (String, String)> =
        toml::from_str(include_str!("../messages/events.toml")).unwrap();
    let (th, english) = words
        .get(key)
        .unwrap_or_else(|| panic!("no word {key}"))
        .clone();
    let text = if en { english } else { th };
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn th(key: &str) -> String {
    word(key, false)
}

/// A record code as one path segment, as the app writes links.
fn segment(code: &str) -> String {
    code.replace('%', "%25").replace('/', "%2F")
}

/// 1 July 2568 BE, the harness's day.
fn today() -> BeDate {
    BeDate::parse("2568-07-01").unwrap()
}

/// The persons living in a household now, by its events.
async fn members(app: &App, code: &str) -> Vec<Person> {
    let persons = app.store.persons_in(code).await.unwrap();
    let events = app.store.events_at(code).await.unwrap();
    members_on(&persons, &events, today())
        .into_iter()
        .cloned()
        .collect()
}

async fn events(app: &App, code: &str) -> Vec<MembershipEvent> {
    app.store.events_at(code).await.unwrap()
}

async fn audit_len(app: &App) -> usize {
    app.store.audit_log().await.unwrap().len()
}

fn household_path(code: &str) -> String {
    format!("/households/{}", segment(code))
}

fn member_path(code: &str, person: &Person, what: &str) -> String {
    format!(
        "{}/members/{}/{what}",
        household_path(code),
        segment(person.person_code.as_str())
    )
}

/// Opens a form and sends it with `fields`, its CSRF and one-time tokens added; returns the
/// reply and the form token, to send it again.
async fn send_form(b: &mut Browser<'_>, path: &str, fields: &[(&str, &str)]) -> (Reply, String) {
    let page = b.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = page.hidden("form_token");
    let reply = resend(b, path, &page.hidden("csrf"), &token, fields).await;
    (reply, token)
}

async fn resend(
    b: &mut Browser<'_>,
    path: &str,
    csrf: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf), ("form_token", token)];
    all.extend_from_slice(fields);
    b.post(path, &all).await
}

const BIRTH: &[(&str, &str)] = &[
    ("date", "20/06/2568"),
    ("first_name", "ด.ญ. ทดสอบเกิด"),
    ("last_name", "ใจงาม"),
    ("sex", "female"),
    ("relation", "grandchild"),
    ("citizen_id", ""),
    ("note", ""),
];

#[tokio::test]
async fn a_birth_is_written_once_however_often_it_is_sent_and_audited() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let code = code(&app.inside).to_owned();
        let mut b = Browser::login(&app, "admin").await;
        let path = format!("{}/birth", household_path(&code));
        let page = b.get(&path).await;
        assert!(page.body.contains(&th("ev_birth_title")));
        assert!(page.body.contains(&th("ev_date_hint")));
        let before = members(&app, &code).await.len();
        let audits = audit_len(&app).await;

        let (first, token) = send_form(&mut b, &path, BIRTH).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let outcome = format!("{}?saved=1", household_path(&code));
        assert_eq!(first.location(), outcome);
        // The same form again (a double tap, a resend): no second child, the same landing.
        let csrf = b.csrf().await;
        let again = resend(&mut b, &path, &csrf, &token, BIRTH).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.location(), outcome);

        let now = members(&app, &code).await;
        assert_eq!(now.len(), before + 1);
        let child = now
            .iter()
            .find(|p| p.first_name == "ด.ญ. ทดสอบเกิด")
            .expect("the child is a member");
        assert!(child.person_code.as_str().starts_with(&format!("{code}-")));
        assert_eq!(child.birth_date, Some(BeDate::parse("2568-06-20").unwrap()));
        let births: Vec<_> = events(&app, &code)
            .await
            .into_iter()
            .filter(|e| e.person_code == child.person_code)
            .collect();
        assert_eq!(births.len(), 1);
        assert_eq!(births[0].kind, MembershipKind::Birth);

        let log = app.store.audit_log().await.unwrap();
        assert_eq!(log.len(), audits + 1);
        let entry = log.last().unwrap();
        assert_eq!(entry.actor, "web:admin");
        assert_eq!(entry.action, "birth");
        assert_eq!(entry.entity_key, child.person_code.as_str());
        assert!(entry.before.is_none());
        assert!(entry.after.as_deref().unwrap().contains("ใจงาม"));

        // The household page shows the new member and the birth in its history.
        let page = b.get(&outcome).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("ด.ญ. ทดสอบเกิด ใจงาม"));
        let api = b
            .get(&format!("/api/households/{}", segment(&code)))
            .await
            .json();
        assert!(api.to_string().contains("ด.ญ. ทดสอบเกิด"));
    }
}

#[tokio::test]
async fn mistakes_come_back_in_thai_with_the_values_kept_and_nothing_written() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let code = code(&app.inside).to_owned();
        let mut b = Browser::login(&app, "coordinator").await;
        let path = format!("{}/birth", household_path(&code));
        let audits = audit_len(&app).await;
        let persons = app.store.persons_in(&code).await.unwrap().len();

        let wrong = [
            ("date", "2568-07-02"),
            ("first_name", " "),
            ("last_name", "ใจงาม"),
            ("sex", ""),
            ("relation", "child"),
            ("citizen_id", "1101700230709"),
        ];
        let (reply, token) = send_form(&mut b, &path, &wrong).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        for key in [
            "ev_errors",
            "ev_err_future",
            "ev_err_required",
            "ev_err_choose",
        ] {
            assert!(reply.body.contains(&th(key)), "{key}: {}", reply.body);
        }
        assert!(reply.body.contains("หลักตรวจสอบ"));
        assert!(reply.body.contains("value=\"ใจงาม\""));
        assert!(reply.body.contains("value=\"2568-07-02\""));
        assert!(reply.body.contains("<option value=\"child\" selected>"));
        assert!(reply.body.contains("aria-invalid=\"true\""));
        // The form keeps its token, so the corrected form is still accepted once.
        assert_eq!(reply.hidden("form_token"), token);

        // A rule of the registry (an ID already given to someone) is refused the same way.
        let taken = app
            .store
            .persons_in(&code)
            .await
            .unwrap()
            .into_iter()
            .find_map(|p| p.citizen_id)
            .expect("a member with a citizen ID")
            .as_digits();
        let mut with_taken_id = BIRTH.to_vec();
        with_taken_id.retain(|(k, _)| *k != "citizen_id");
        with_taken_id.push(("citizen_id", &taken));
        let csrf = b.csrf().await;
        let refused = resend(&mut b, &path, &csrf, &token, &with_taken_id).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains("เลขประจำตัวประชาชนนี้เป็นของบุคคลอื่นในทะเบียนแล้ว")
        );
        assert_eq!(audit_len(&app).await, audits);
        assert_eq!(app.store.persons_in(&code).await.unwrap().len(), persons);

        let ok = resend(&mut b, &path, &csrf, &token, BIRTH).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(audit_len(&app).await, audits + 1);

        // In English when asked.
        let en = b.get(&format!("{path}?lang=en")).await;
        assert!(en.body.contains(&word("ev_birth_title", true)));
        assert!(en.body.contains(&word("ev_date_hint", true)));
    }
}

#[tokio::test]
async fn a_death_is_recorded_once_and_the_person_is_no_longer_a_member() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let code = code(&app.inside).to_owned();
        let mut b = Browser::login(&app, "worker").await;
        let before = members(&app, &code).await;
        let dying = before.last().unwrap().clone();
        let path = member_path(&code, &dying, "death");
        let page = b.get(&path).await;
        assert!(page.body.contains(&th("ev_death_title")));
        assert!(page.body.contains(&dying.first_name));

        let fields = [("date", "2568-06-25"), ("note", "")];
        let (first, token) = send_form(&mut b, &path, &fields).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let csrf = b.csrf().await;
        let again = resend(&mut b, &path, &csrf, &token, &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);

        let deaths: Vec<_> = events(&app, &code)
            .await
            .into_iter()
            .filter(|e| e.person_code == dying.person_code && e.kind == MembershipKind::Death)
            .collect();
        assert_eq!(deaths.len(), 1);
        let after = members(&app, &code).await;
        assert_eq!(after.len(), before.len() - 1);
        assert!(after.iter().all(|p| p.person_code != dying.person_code));
        let entry = app.store.audit_log().await.unwrap().pop().unwrap();
        assert_eq!(
            (entry.actor.as_str(), entry.action.as_str()),
            ("web:worker", "death")
        );
        assert!(entry.before.as_deref().unwrap().contains("\"member\""));
        assert!(entry.after.as_deref().unwrap().contains("\"dead\""));

        // A second death form for the same person is refused on the page, in Thai.
        let (twice, _) = send_form(&mut b, &path, &[("date", "2568-06-26")]).await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(twice.body.contains("บุคคลนี้ถูกบันทึกว่าเสียชีวิตแล้ว"));
        // The form says so as soon as it is opened.
        let reopened = b.get(&path).await;
        assert_eq!(reopened.status, StatusCode::OK);
        assert!(reopened.body.contains(&th("ev_not_member")));
        assert!(!reopened.body.contains(&th("ev_errors")));
        // The household's history shows the death.
        let page = b.get(&household_path(&code)).await;
        assert!(page.body.contains(MembershipKind::Death.label_th()));
    }
}

#[tokio::test]
async fn a_move_re_registers_the_person_where_they_went() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let from = code(&app.inside).to_owned();
        let to = code(&app.outside).to_owned();
        let mut b = Browser::login(&app, "admin").await;
        let mover = members(&app, &from).await.last().unwrap().clone();
        let path = member_path(&from, &mover, "move");
        let fields = [
            ("date", "2568-06-25"),
            ("where", "household"),
            ("to", to.as_str()),
            ("relation", "relative"),
            ("note", "ไปอยู่กับญาติ"),
        ];
        let (first, token) = send_form(&mut b, &path, &fields).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let csrf = b.csrf().await;
        let again = resend(&mut b, &path, &csrf, &token, &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);

        assert!(
            members(&app, &from)
                .await
                .iter()
                .all(|p| p.person_code != mover.person_code)
        );
        let there = members(&app, &to).await;
        let moved = there
            .iter()
            .find(|p| p.person_code == mover.person_code)
            .expect("a member where they went");
        assert_eq!(moved.relation.code(), "relative");
        let mine = |evs: Vec<MembershipEvent>| {
            evs.into_iter()
                .filter(|e| e.person_code == mover.person_code)
                .filter(|e| e.date == BeDate::parse("2568-06-25").unwrap())
                .map(|e| e.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(mine(events(&app, &from).await), [MembershipKind::MoveOut]);
        assert_eq!(mine(events(&app, &to).await), [MembershipKind::MoveIn]);
        let page = b.get(&household_path(&to)).await;
        assert!(page.body.contains(&mover.first_name));

        // From there out of the registry: a move out only, the person in no household.
        let path = member_path(&to, &mover, "move");
        let (away, _) = send_form(
            &mut b,
            &path,
            &[("date", "2568-06-26"), ("where", "away"), ("to", "")],
        )
        .await;
        assert_eq!(away.status, StatusCode::SEE_OTHER, "{}", away.body);
        assert!(
            members(&app, &to)
                .await
                .iter()
                .all(|p| p.person_code != mover.person_code)
        );
        assert!(
            members(&app, &from)
                .await
                .iter()
                .all(|p| p.person_code != mover.person_code)
        );
    }
}

#[tokio::test]
async fn a_zone_worker_records_only_inside_their_areas_and_moves_only_into_them() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let inside = code(&app.inside).to_owned();
        let outside = code(&app.outside).to_owned();
        let mut b = Browser::login(&app, "worker").await;
        let audits = audit_len(&app).await;

        // A household outside answers as one that does not exist, on every form.
        let csrf = b.csrf().await;
        let outsider = members(&app, &outside).await.last().unwrap().clone();
        for path in [
            format!("{}/birth", household_path(&outside)),
            format!("{}/move-in", household_path(&outside)),
            member_path(&outside, &outsider, "death"),
            member_path(&outside, &outsider, "move"),
        ] {
            assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
            let posted = b
                .post(&path, &[("csrf", csrf.as_str()), ("date", "2568-06-25")])
                .await;
            assert_eq!(posted.status, StatusCode::NOT_FOUND, "{path}");
        }
        // A person not registered in the household is not found through it.
        assert_eq!(
            b.get(&member_path(&inside, &outsider, "death"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // A move into a household outside their areas is refused exactly like one into a
        // household that does not exist.
        let mover = members(&app, &inside).await.last().unwrap().clone();
        let path = member_path(&inside, &mover, "move");
        let mut bodies = Vec::new();
        for to in [outside.as_str(), "80019999-0001"] {
            let (reply, _) = send_form(
                &mut b,
                &path,
                &[
                    ("date", "2568-06-25"),
                    ("where", "household"),
                    ("to", to),
                    ("relation", "relative"),
                ],
            )
            .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(reply.body.contains(&th("ev_err_to_unknown")));
            bodies.push(
                reply
                    .body
                    .replace(to, "")
                    .replace(&reply.hidden("form_token"), ""),
            );
        }
        assert_eq!(bodies[0], bodies[1]);
        assert_eq!(audit_len(&app).await, audits);

        // Inside, the worker records.
        let (born, _) = send_form(
            &mut b,
            &format!("{}/move-in", household_path(&inside)),
            &[
                ("date", "2568-06-01"),
                ("first_name", "มานี"),
                ("last_name", "มาใหม่"),
                ("sex", "female"),
                ("relation", "non_relative"),
                ("birth_date", "01/02/2540"),
            ],
        )
        .await;
        assert_eq!(born.status, StatusCode::SEE_OTHER, "{}", born.body);
        assert!(
            members(&app, &inside)
                .await
                .iter()
                .any(|p| p.last_name == "มาใหม่")
        );
    }
}

#[tokio::test]
async fn viewers_and_forms_without_the_session_token_are_refused() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let code = code(&app.inside).to_owned();
        let path = format!("{}/birth", household_path(&code));
        let audits = audit_len(&app).await;

        let mut viewer = Browser::login(&app, "viewer").await;
        assert_eq!(viewer.get(&path).await.status, StatusCode::FORBIDDEN);
        let csrf = viewer.csrf().await;
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(BIRTH);
        assert_eq!(
            viewer.post(&path, &fields).await.status,
            StatusCode::FORBIDDEN
        );

        // An admin's form sent without the CSRF field never reaches the handler.
        let mut admin = Browser::login(&app, "admin").await;
        let page = admin.get(&path).await;
        let token = page.hidden("form_token");
        let mut fields = vec![("form_token", token.as_str())];
        fields.extend_from_slice(BIRTH);
        assert_eq!(
            admin.post(&path, &fields).await.status,
            StatusCode::FORBIDDEN
        );
        // Nor one with the CSRF field but a made-up form token.
        let csrf = admin.csrf().await;
        let forged = resend(&mut admin, &path, &csrf, "not-a-token", BIRTH).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(audit_len(&app).await, audits);
    }
}
