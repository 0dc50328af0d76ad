//! The specs and targets pages and their API, through the whole router, on SQLite and (when
//! `HALVE_TEST_POSTGRES_URL` is set) PostgreSQL: every role reads, only administrators edit,
//! an edit is one new version however often it is sent, refusals keep the text and write
//! nothing, and a version's page shows what changed.

mod common;

use axum::http::StatusCode;
use common::*;
use halve_app::measure::shipped_spec;
use halve_app::versions::Kind;
use halve_store::testing::TestDb;

const EDIT: &str = "/specs/spec/tpmap-5/edit";

fn edited() -> String {
    shipped_spec("tpmap-5").unwrap().replace(
        "income_per_person_year < 38000",
        "income_per_person_year < 40000",
    )
}

/// The edit form's one-time token, fetched as `b`.
async fn form_token(b: &mut Browser<'_>) -> String {
    let form = b.get(EDIT).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    form.hidden("form_token")
}

/// A page's text with minijinja's escaped slashes read back (`1&#x2f;20` is shown as `1/20`);
/// `<`, `>`, `&` and quotes stay escaped.
fn slashes(body: &str) -> String {
    body.replace("&#x2f;", "/")
}

async fn stored_versions(app: &App) -> usize {
    app.store.definition_versions().await.unwrap().len()
}

#[tokio::test]
async fn every_role_reads_the_list_the_versions_and_the_api_and_sees_what_the_server_uses() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        for role in ["admin", "coordinator", "coast", "viewer", "worker"] {
            let mut b = Browser::login(&app, role).await;
            let list = b.get("/specs").await;
            assert_eq!(list.status, StatusCode::OK, "{role}");
            for id in [
                "tpmap-5",
                "global-mpi",
                "council-5",
                "nst-halve-2571",
                "nst-halve-2571-literal",
            ] {
                assert!(
                    list.body.contains(&format!(
                        "/specs/{}/{id}/1\"",
                        if id.starts_with("nst") {
                            "target"
                        } else {
                            "spec"
                        }
                    )),
                    "{role} {id}"
                );
            }
            assert!(list.body.contains("ระบบที่ทำงานอยู่ขณะนี้ใช้"), "{role}");
            assert!(list.body.contains("ระบบจะใช้เมื่อเริ่มทำงานครั้งถัดไป"));
            // Two things are in use: the server's spec and its target.
            assert_eq!(
                list.body.matches("class=\"specs-badge\"").count(),
                2,
                "{role}"
            );
            assert_eq!(list.body.contains(EDIT), role == "admin", "{role}");

            let mut spec = b.get("/specs/spec/tpmap-5/1").await;
            assert_eq!(spec.status, StatusCode::OK);
            spec.body = slashes(&spec.body);
            // Dimensions and indicators, Thai titles, exact weights and their percentages.
            assert!(spec.body.contains("สุขภาพ") && spec.body.contains("Health"));
            assert!(spec.body.contains("เด็กแรกเกิดมีน้ำหนัก 2,500 กรัมขึ้นไป"));
            assert!(spec.body.contains(">1/20<") && spec.body.contains(">5%<"));
            assert!(spec.body.contains(">1/5<") && spec.body.contains(">20%<"));
            assert!(spec.body.contains("income_per_person_year &lt; 38000"));
            assert!(spec.body.contains("ระบบที่ทำงานอยู่ใช้รุ่นนี้"));
            assert!(spec.body.contains("ฉบับร่าง"));
            assert!(spec.body.contains("รุ่นแรก ไม่มีรุ่นก่อนหน้าให้เทียบ"));

            let mut target = b.get("/specs/target/nst-halve-2571/1?lang=en").await;
            assert_eq!(target.status, StatusCode::OK);
            target.body = slashes(&target.body);
            assert!(target.body.contains("low_income or (vulnerable and poor)"));
            assert!(target.body.contains("38,000"));
            assert!(target.body.contains("2560–2564") && target.body.contains("2565–2571"));
            assert!(target.body.contains("1/2 (50%)"));
            assert!(target.body.contains(">2571 (5 years)<"));
            assert!(
                target
                    .body
                    .contains("pregnant</code>: Holds for (days from when recorded) 280 days")
            );

            let api = b.get("/api/specs").await;
            assert_eq!(api.status, StatusCode::OK);
            let api = api.json();
            assert_eq!(api["server"]["spec"]["id"], "tpmap-5");
            assert_eq!(api["server"]["spec"]["version"], 1);
            assert_eq!(api["server"]["target"]["id"], "nst-halve-2571");
            let defs = api["definitions"].as_array().unwrap();
            assert_eq!(defs.len(), 6);
            let tpmap = defs.iter().find(|d| d["id"] == "tpmap-5").unwrap();
            assert_eq!(tpmap["versions"][0]["in_use"], true);
            assert_eq!(tpmap["versions"][0]["origin"], "shipped");

            let one = b.get("/api/specs/spec/global-mpi/1").await.json();
            assert_eq!(one["version"], 1);
            assert_eq!(one["in_use"], false);
            assert_eq!(one["toml"], shipped_spec("global-mpi").unwrap());
            assert_eq!(one["previous"], serde_json::Value::Null);
            let dims = one["summary"]["dimensions"].as_array().unwrap();
            assert!(!dims.is_empty());
            assert!(
                dims.iter()
                    .all(|d| d["weight"].is_string() && d["percent"].is_string())
            );
        }
    }
}

#[tokio::test]
async fn unknown_kinds_ids_and_versions_are_not_found_and_signed_out_visitors_sign_in() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "admin").await;
        for path in [
            "/specs/spec/tpmap-5/2",
            "/specs/spec/tpmap-5/0",
            "/specs/spec/tpmap-5/x",
            "/specs/spec/nope/1",
            "/specs/target/tpmap-5/1",
            "/specs/widget/tpmap-5/1",
            "/specs/spec/nope/edit",
        ] {
            assert_eq!(b.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(
            b.get("/api/specs/spec/tpmap-5/9").await.status,
            StatusCode::NOT_FOUND
        );
        let mut visitor = Browser::new(&app);
        assert_eq!(visitor.get("/specs").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            visitor.get("/api/specs").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn only_administrators_edit_and_a_post_without_the_session_token_is_refused() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let text = edited();
        for role in ["coordinator", "coast", "viewer", "worker"] {
            let mut b = Browser::login(&app, role).await;
            assert_eq!(b.get(EDIT).await.status, StatusCode::FORBIDDEN, "{role}");
            let csrf = b.csrf().await;
            let r = b
                .post(
                    EDIT,
                    &[
                        ("csrf", &csrf),
                        ("form_token", "x"),
                        ("toml", &text),
                        ("note", ""),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}");
        }
        let mut admin = Browser::login(&app, "admin").await;
        let token = form_token(&mut admin).await;
        // No CSRF field, then a wrong one: the access layer refuses before the handler.
        let r = admin
            .post(
                EDIT,
                &[("form_token", &token), ("toml", &text), ("note", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = admin
            .post(
                EDIT,
                &[
                    ("csrf", "0000"),
                    ("form_token", &token),
                    ("toml", &text),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The session token but a forged form token.
        let csrf = admin.csrf().await;
        let r = admin
            .post(
                EDIT,
                &[
                    ("csrf", &csrf),
                    ("form_token", "forged"),
                    ("toml", &text),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(stored_versions(&app).await, 0);
    }
}

#[tokio::test]
async fn an_admin_edit_is_one_new_version_however_often_sent_audited_and_shown_with_its_diff() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let form = admin.get(EDIT).await;
        assert_eq!(form.status, StatusCode::OK);
        // The latest text in the textarea, escaped; the rule about the version number.
        assert!(form.body.contains("income_per_person_year &lt; 38000"));
        assert!(
            form.body
                .contains("ระบบจะตั้ง version ในข้อความเป็นรุ่นถัดไปให้ (รุ่น 2)")
        );
        let token = form.hidden("form_token");
        let csrf = admin.csrf().await;
        // As a browser sends a textarea: CRLF line endings.
        let text = edited().replace('\n', "\r\n");
        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("toml", text.as_str()),
            ("note", "เส้นรายได้ใหม่"),
        ];
        let first = admin.post(EDIT, &fields).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        assert_eq!(first.location(), "/specs/spec/tpmap-5/2?saved=1");
        // The double tap: same token, same landing page, no second version.
        let second = admin.post(EDIT, &fields).await;
        assert_eq!(second.status, StatusCode::SEE_OTHER);
        assert_eq!(second.location(), first.location());
        assert_eq!(stored_versions(&app).await, 1);

        let stored = app
            .store
            .definition_version(Kind::Spec, "tpmap-5", 2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.text,
            edited().replace("version = 1\n", "version = 2\n")
        );
        assert_eq!(stored.saved_by, "web:admin");
        assert_eq!(stored.note, "เส้นรายได้ใหม่");
        let audit = app.store.audit_log().await.unwrap();
        let entry = audit.last().unwrap();
        assert_eq!(
            (
                entry.actor.as_str(),
                entry.entity.as_str(),
                entry.entity_key.as_str()
            ),
            ("web:admin", "spec", "tpmap-5")
        );
        assert_eq!(entry.at, "2025-07-01T00:00:00Z");
        let after: serde_json::Value =
            serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
        assert_eq!(after["version"], 2);

        let page = admin.get(first.location()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("บันทึกเป็นรุ่นใหม่แล้ว"));
        // Not in use by the running server, which says when it would be.
        assert!(page.body.contains("ระบบที่ทำงานอยู่ไม่ได้ใช้รุ่นนี้"));
        assert!(page.body.contains("เส้นรายได้ใหม่"));
        // The diff against version 1: the version line and the income rule, nothing else.
        assert!(page.body.contains("href=\"/specs/spec/tpmap-5/1\""));
        let removed: Vec<&str> = page
            .body
            .match_indices("<del>")
            .map(|(i, _)| &page.body[i..])
            .collect();
        let added: Vec<&str> = page
            .body
            .match_indices("<ins>")
            .map(|(i, _)| &page.body[i..])
            .collect();
        assert_eq!((removed.len(), added.len()), (2, 2), "{}", page.body);
        assert!(removed[0].contains("− version = 1</del>"));
        assert!(added[0].contains("+ version = 2</ins>"));
        assert!(
            removed[1]
                .split("</del>")
                .next()
                .unwrap()
                .contains("&lt; 38000")
        );
        assert!(
            added[1]
                .split("</ins>")
                .next()
                .unwrap()
                .contains("&lt; 40000")
        );
        assert!(page.body.contains("บรรทัดที่ไม่เปลี่ยน"));

        // The list shows the new version, not in use; a newer one than the server's.
        let list = admin.get("/specs").await;
        assert!(list.body.contains("href=\"/specs/spec/tpmap-5/2\""));
        assert!(list.body.contains("มีรุ่นใหม่กว่าที่ระบบใช้อยู่"));
        let api = admin.get("/api/specs/spec/tpmap-5/2").await.json();
        assert_eq!(api["origin"], "stored");
        assert_eq!(api["previous"], 1);
        assert_eq!(api["in_use"], false);
        assert_eq!(api["toml"], stored.text.as_str());
        // The next edit form starts from version 2 and announces version 3.
        let form = admin.get(EDIT).await;
        assert!(form.body.contains("&lt; 40000"));
        assert!(form.body.contains("(รุ่น 3)"));
    }
}

#[tokio::test]
async fn refusals_are_shown_in_thai_with_the_text_kept_and_nothing_written() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let head = app.store.audit_head().await.unwrap();
        let shipped = shipped_spec("tpmap-5").unwrap();
        let cases: Vec<(String, &str)> = vec![
            (
                format!("{}\n</textarea><b>oops", edited()),
                "ข้อความไม่ผ่านการตรวจ: บรรทัด",
            ),
            (
                edited().replace("id = \"tpmap-5\"", "id = \"tpmap-6\""),
                "แก้รหัส (id) ไม่ได้: ต้องเป็น tpmap-5 ไม่ใช่ tpmap-6",
            ),
            (shipped.to_owned(), "ไม่มีอะไรเปลี่ยนจากรุ่น 1"),
            (String::new(), "ข้อความว่าง"),
        ];
        for (text, message) in cases {
            let token = form_token(&mut admin).await;
            let csrf = admin.csrf().await;
            let r = admin
                .post(
                    EDIT,
                    &[
                        ("csrf", &csrf),
                        ("form_token", &token),
                        ("toml", &text),
                        ("note", "n"),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
            assert!(r.body.contains(message), "{message}: {}", r.body);
            assert!(r.body.contains("ยังบันทึกไม่ได้ ไม่มีอะไรถูกบันทึก"));
            // The text comes back as typed, escaped: it cannot close the textarea.
            assert!(!r.body.contains("</textarea><b>"));
            if text.contains("oops") {
                assert!(r.body.contains("&lt;&#x2f;textarea&gt;&lt;b&gt;oops"));
                // The parser's own words are shown too.
                assert!(r.body.contains("ตัวอ่านแจ้งว่า"));
            }
            // The same token is still good: the refusal spent nothing.
            assert_eq!(r.hidden("form_token"), token);
        }
        // In English on request.
        let token = form_token(&mut admin).await;
        let csrf = admin.csrf().await;
        let r = admin
            .post(
                &format!("{EDIT}?lang=en"),
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("toml", shipped),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Nothing changed from version 1"));
        assert_eq!(stored_versions(&app).await, 0);
        assert_eq!(app.store.audit_head().await.unwrap(), head);
    }
}

#[tokio::test]
async fn a_target_is_edited_like_a_spec() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let path = "/specs/target/nst-halve-2571/edit";
        let form = admin.get(path).await;
        assert_eq!(form.status, StatusCode::OK);
        let token = form.hidden("form_token");
        let csrf = admin.csrf().await;
        let text = halve_app::target::shipped_target("nst-halve-2571")
            .unwrap()
            .replace("at_risk_margin = \"1/10\"", "at_risk_margin = \"1/20\"");
        let r = admin
            .post(
                path,
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("toml", &text),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/specs/target/nst-halve-2571/2?saved=1");
        let page = admin.get("/specs/target/nst-halve-2571/2").await;
        assert!(slashes(&page.body).contains("1/20 (5%)"));
        assert_eq!(page.body.matches("<ins>").count(), 2);
    }
}
