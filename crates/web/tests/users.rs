//! Account administration through the whole router, as each role, on SQLite and (when
//! `HALVE_TEST_POSTGRES_URL` is set) PostgreSQL: creating, editing, deactivating, activating,
//! unlocking and setting passwords, each audited and refused to everyone but administrators;
//! and the client address the sign-in throttle counts, behind a trusted proxy or not.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::*;
use halve_store::AuditEntry;
use halve_store::testing::TestDb;
use halve_web::accounts::DEMO_PASSWORD;
use halve_web::{AppState, Config, router};

/// The audit lines about accounts, oldest first.
async fn account_audit(app: &App) -> Vec<AuditEntry> {
    app.store
        .audit_log()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == "account")
        .collect()
}

fn json(text: &Option<String>) -> serde_json::Value {
    serde_json::from_str(text.as_deref().expect("a value")).unwrap()
}

/// No audit line holds a password or a hash of one.
fn assert_no_secrets(lines: &[AuditEntry], passwords: &[&str]) {
    for e in lines {
        for text in [&e.before, &e.after].into_iter().flatten() {
            assert!(!text.contains("argon2"), "{text}");
            assert!(!text.contains("password_hash"), "{text}");
            for p in passwords {
                assert!(!text.contains(p), "{text}");
            }
        }
    }
}

const NEW_PASSWORD: &str = "ใหม่-long-enough-1";

#[tokio::test]
async fn an_admin_lists_and_creates_accounts_once_each_audited() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let list = admin.get("/users").await;
        assert_eq!(list.status, StatusCode::OK);
        for name in ["admin", "coordinator", "coast", "viewer", "worker"] {
            assert!(
                list.body.contains(&format!("href=\"/users/{name}\"")),
                "{name}"
            );
        }
        assert!(list.body.contains("ผู้ปฏิบัติงานโซน"), "roles in Thai");
        assert!(
            list.body.contains("ชายฝั่ง"),
            "the coast worker's zone by name"
        );
        let english = admin.get("/users?lang=en").await;
        assert!(english.body.contains("Accounts") && english.body.contains("zone worker"));
        admin.get("/users?lang=th").await;

        let form = admin.get("/users/new").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.hidden("csrf");
        let token = form.hidden("form_token");
        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("username", "somsri"),
            ("display_name", "สมศรี ใจดี"),
            ("role", "zone_worker"),
            ("zone", "coast"),
            ("areas", "801201, 8012"),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ];
        let r = admin.post("/users/new", &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/users/somsri?done=created");
        // The same form again (a double tap): nothing more is written.
        let again = admin.post("/users/new", &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.location(), "/users/somsri?done=created");

        let page = admin.get("/users/somsri?done=created").await;
        assert!(page.body.contains("สร้างบัญชีแล้ว"));
        let stored = app.store.user_by_name("somsri").await.unwrap().unwrap();
        assert_eq!(stored.display_name, "สมศรี ใจดี");
        assert_eq!(stored.role, "zone_worker");
        let scope: Vec<(&str, &str)> = stored
            .scope
            .iter()
            .map(|e| (e.kind.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            scope,
            [("area", "8012"), ("area", "801201"), ("zone", "coast")]
        );

        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 1, "audited once");
        let line = &audit[0];
        assert_eq!(
            (line.actor.as_str(), line.action.as_str()),
            ("web:admin", "create")
        );
        assert_eq!(line.entity_key, "somsri");
        assert!(line.before.is_none());
        let after = json(&line.after);
        assert_eq!(after["role"], "zone_worker");
        assert_eq!(after["active"], true);
        assert!(line.at.ends_with('Z'));
        assert_no_secrets(&audit, &[NEW_PASSWORD]);

        let mut somsri = Browser::new(&app);
        let r = somsri.try_login("somsri", NEW_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a_bad_new_account_is_named_field_by_field_and_nothing_is_written() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let before = app.store.users().await.unwrap().len();
        let form = admin.get("/users/new").await;
        let (csrf, token) = (form.hidden("csrf"), form.hidden("form_token"));
        let r = admin
            .post(
                "/users/new",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("username", "has space"),
                    ("role", "zone_worker"),
                    ("zone", "moon"),
                    ("password", "short-pw"),
                    ("password_confirm", "short-pw"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("ชื่อผู้ใช้ต้องเป็นอักษรอังกฤษ"));
        assert!(
            r.body.contains("ไม่รู้จักโซน &quot;moon&quot;") || r.body.contains("ไม่รู้จักโซน \"moon\"")
        );
        assert!(r.body.contains("รหัสผ่านต้องยาวอย่างน้อย 10"));
        assert!(
            !r.body.contains("short-pw"),
            "a password is never sent back"
        );
        // A zone worker without areas, and passwords that differ.
        let r = admin
            .post(
                "/users/new",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("username", "somchai"),
                    ("role", "zone_worker"),
                    ("password", NEW_PASSWORD),
                    ("password_confirm", "something else entirely"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("ผู้ปฏิบัติงานโซนต้องมีอย่างน้อยหนึ่งโซน"));
        assert!(r.body.contains("รหัสผ่านทั้งสองช่องไม่ตรงกัน"));
        // A taken name, in English.
        let r = admin
            .post(
                "/users/new?lang=en",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("username", "viewer"),
                    ("role", "viewer"),
                    ("password", NEW_PASSWORD),
                    ("password_confirm", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("This username is taken"), "{}", r.body);
        assert_eq!(app.store.users().await.unwrap().len(), before);
        assert!(account_audit(&app).await.is_empty());
        // The token was not spent by the refusals: the corrected form goes through.
        let r = admin
            .post(
                "/users/new",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("username", "somchai"),
                    ("role", "viewer"),
                    ("password", NEW_PASSWORD),
                    ("password_confirm", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(app.store.users().await.unwrap().len(), before + 1);
    }
}

#[tokio::test]
async fn only_administrators_reach_the_account_pages() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        for who in ["coordinator", "worker", "coast", "viewer"] {
            let mut b = Browser::login(&app, who).await;
            for path in ["/users", "/users/new", "/users/admin"] {
                assert_eq!(
                    b.get(path).await.status,
                    StatusCode::FORBIDDEN,
                    "{who} {path}"
                );
            }
            let csrf = b.csrf().await;
            let posts: [(&str, Vec<(&str, &str)>); 6] = [
                (
                    "/users/new",
                    vec![
                        ("username", "intruder"),
                        ("role", "admin"),
                        ("password", NEW_PASSWORD),
                        ("password_confirm", NEW_PASSWORD),
                    ],
                ),
                ("/users/viewer", vec![("role", "admin")]),
                ("/users/admin/deactivate", vec![]),
                ("/users/viewer/activate", vec![]),
                ("/users/admin/unlock", vec![]),
                (
                    "/users/admin/password",
                    vec![
                        ("password", NEW_PASSWORD),
                        ("password_confirm", NEW_PASSWORD),
                    ],
                ),
            ];
            for (path, mut fields) in posts {
                fields.push(("csrf", csrf.as_str()));
                let r = b.post(path, &fields).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {path}");
            }
        }
        assert!(app.store.user_by_name("intruder").await.unwrap().is_none());
        let admin = app.store.user_by_name("admin").await.unwrap().unwrap();
        assert!(admin.active);
        assert!(account_audit(&app).await.is_empty());
        assert_eq!(
            Browser::new(&app)
                .try_login("admin", DEMO_PASSWORD)
                .await
                .status,
            StatusCode::SEE_OTHER,
            "the password is unchanged"
        );
        // Not signed in: to the sign-in page.
        let r = Browser::new(&app).get("/users").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location().starts_with("/login"));
    }
}

#[tokio::test]
async fn an_edit_changes_role_and_areas_once_and_is_audited_before_and_after() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let mut worker = Browser::login(&app, "worker").await;
        let outside = format!("/households/{}", code(&app.outside));
        assert_eq!(worker.get(&outside).await.status, StatusCode::NOT_FOUND);
        let subdistrict = app.inside.village.parent().unwrap().to_string();
        let page = admin.get("/users/worker").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains(&format!("name=\"areas\" value=\"{subdistrict}\""))
        );
        let (csrf, token) = (page.hidden("csrf"), page.hidden("form_token"));

        // Mistakes first: nothing is written, and what was typed comes back.
        let r = admin
            .post(
                "/users/worker",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("display_name", "คนทำงาน"),
                    ("role", "zone_worker"),
                    ("areas", "99999999"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("รหัสพื้นที่ &quot;99999999&quot;")
                || r.body.contains("รหัสพื้นที่ \"99999999\""),
            "{}",
            r.body
        );
        assert!(r.body.contains("value=\"คนทำงาน\""));
        let r = admin
            .post(
                "/users/worker",
                &[
                    ("csrf", &csrf),
                    ("form_token", &token),
                    ("role", "zone_worker"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(account_audit(&app).await.is_empty());
        assert_eq!(worker.get(&outside).await.status, StatusCode::NOT_FOUND);

        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("display_name", "  ผู้ประสานงานใหม่ "),
            ("role", "coordinator"),
        ];
        let r = admin.post("/users/worker", &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/users/worker?done=saved");
        let again = admin.post("/users/worker", &fields).await;
        assert_eq!(again.location(), "/users/worker?done=saved");
        let stored = app.store.user_by_name("worker").await.unwrap().unwrap();
        assert_eq!(stored.display_name, "ผู้ประสานงานใหม่");
        assert_eq!(stored.role, "coordinator");
        assert!(stored.scope.is_empty());

        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 1, "one edit, one line");
        assert_eq!(audit[0].action, "update");
        assert_eq!(audit[0].entity_key, "worker");
        let (before, after) = (json(&audit[0].before), json(&audit[0].after));
        assert_eq!(before["role"], "zone_worker");
        assert_eq!(before["scope"][0]["code"], subdistrict.as_str());
        assert_eq!(after["role"], "coordinator");
        assert_eq!(after["display_name"], "ผู้ประสานงานใหม่");
        assert_no_secrets(&audit, &[]);

        // The account's open session follows at once: a coordinator sees every area.
        assert_eq!(worker.get(&outside).await.status, StatusCode::OK);

        // An unchanged form writes no audit line.
        let page = admin.get("/users/worker").await;
        let r = admin
            .post(
                "/users/worker",
                &[
                    ("csrf", &csrf),
                    ("form_token", &page.hidden("form_token")),
                    ("display_name", "ผู้ประสานงานใหม่"),
                    ("role", "coordinator"),
                ],
            )
            .await;
        assert_eq!(r.location(), "/users/worker?done=unchanged");
        assert_eq!(account_audit(&app).await.len(), 1);
        // An unknown account is 404.
        assert_eq!(
            admin.get("/users/nobody").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn deactivation_signs_the_account_out_at_once_until_it_is_activated() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let mut viewer = Browser::login(&app, "viewer").await;
        let mut other_device = Browser::login(&app, "viewer").await;
        assert_eq!(viewer.get("/").await.status, StatusCode::OK);
        let csrf = admin.csrf().await;

        let r = admin
            .post("/users/viewer/deactivate", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/users/viewer?done=deactivated");
        for b in [&mut viewer, &mut other_device] {
            let r = b.get("/").await;
            assert_eq!(r.status, StatusCode::SEE_OTHER);
            assert!(r.location().starts_with("/login"));
        }
        let r = Browser::new(&app).try_login("viewer", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let stored = app.store.user_by_name("viewer").await.unwrap().unwrap();
        assert!(!stored.active);
        assert!(admin.get("/users").await.body.contains("ระงับแล้ว"));

        // Pressed twice: nothing more is written.
        admin
            .post("/users/viewer/deactivate", &[("csrf", &csrf)])
            .await;
        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "deactivate");
        assert_eq!(json(&audit[0].before)["active"], true);
        let after = json(&audit[0].after);
        assert_eq!(after["active"], false);
        assert_eq!(after["sessions_ended"], 2);

        let r = admin
            .post("/users/viewer/activate", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.location(), "/users/viewer?done=activated");
        let r = Browser::new(&app).try_login("viewer", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // The old sessions stay ended.
        assert_eq!(viewer.get("/").await.status, StatusCode::SEE_OTHER);
        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 2);
        assert_eq!(audit[1].action, "activate");
    }
}

#[tokio::test]
async fn unlocking_lets_a_locked_account_sign_in_within_the_window() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut viewer = Browser::new(&app);
        for _ in 0..5 {
            let r = viewer.try_login("viewer", "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = viewer.try_login("viewer", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked");

        let mut admin = Browser::login(&app, "admin").await;
        let list = admin.get("/users").await;
        assert!(list.body.contains("ถูกล็อกชั่วคราว อีก 15 นาที"), "{}", list.body);
        let page = admin.get("/users/viewer").await;
        assert!(page.body.contains("ลงชื่อเข้าใช้ผิด 5 ครั้ง"));
        assert!(page.body.contains("/users/viewer/unlock"));
        let csrf = page.hidden("csrf");
        let r = admin.post("/users/viewer/unlock", &[("csrf", &csrf)]).await;
        assert_eq!(r.location(), "/users/viewer?done=unlocked");
        let page = admin.get("/users/viewer").await;
        assert!(
            !page.body.contains("/users/viewer/unlock"),
            "nothing left to unlock"
        );

        // No time has passed, yet the right password works.
        let r = viewer.try_login("viewer", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // Pressed again with nothing to clear: nothing more is written.
        admin.post("/users/viewer/unlock", &[("csrf", &csrf)]).await;
        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "unlock");
        assert_eq!(json(&audit[0].before)["failed_sign_ins"], 5);
        assert_eq!(json(&audit[0].after)["failed_sign_ins"], 0);
    }
}

#[tokio::test]
async fn no_administrator_deactivates_or_demotes_themself_and_one_always_stays() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let csrf = admin.csrf().await;
        let r = admin
            .post("/users/admin/deactivate", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("ระงับบัญชีหรือเปลี่ยนบทบาทของตัวเองไม่ได้"));
        let page = admin.get("/users/admin").await;
        let r = admin
            .post(
                "/users/admin",
                &[
                    ("csrf", &csrf),
                    ("form_token", &page.hidden("form_token")),
                    ("display_name", "ผู้ดูแล"),
                    ("role", "viewer"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            app.store.user_by_name("admin").await.unwrap().unwrap().role,
            "admin"
        );
        assert!(account_audit(&app).await.is_empty());
        // The own display name may change.
        let r = admin
            .post(
                "/users/admin",
                &[
                    ("csrf", &csrf),
                    ("form_token", &page.hidden("form_token")),
                    ("display_name", "ผู้ดูแล"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(r.location(), "/users/admin?done=saved");

        // Two administrators deactivating each other at the same moment: one of them stays.
        let page = admin.get("/users/coordinator").await;
        let r = admin
            .post(
                "/users/coordinator",
                &[
                    ("csrf", &csrf),
                    ("form_token", &page.hidden("form_token")),
                    ("display_name", "coordinator"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(r.location(), "/users/coordinator?done=saved");
        let mut second = Browser::login(&app, "coordinator").await;
        let second_csrf = second.csrf().await;
        let (first_fields, second_fields) =
            ([("csrf", csrf.as_str())], [("csrf", second_csrf.as_str())]);
        let (a, b) = tokio::join!(
            admin.post("/users/coordinator/deactivate", &first_fields),
            second.post("/users/admin/deactivate", &second_fields),
        );
        let active: Vec<String> = app
            .store
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.active && u.role == "admin")
            .map(|u| u.username)
            .collect();
        assert_eq!(active.len(), 1, "{active:?}: {} {}", a.status, b.status);
        // One wins, whichever got there first. The other either ran alongside (its
        // transaction then waited for the first and found the last administrator) or after
        // (its session had already ended).
        let won = |r: &Reply| r.location().ends_with("?done=deactivated");
        let lost = |r: &Reply| {
            (r.status == StatusCode::CONFLICT && r.body.contains("บัญชีนี้เป็นคนสุดท้าย"))
                || r.location().starts_with("/login")
        };
        assert!(
            (won(&a) && lost(&b)) || (won(&b) && lost(&a)),
            "{} {} / {} {}",
            a.status,
            a.location(),
            b.status,
            b.location()
        );
        let deactivations = account_audit(&app)
            .await
            .iter()
            .filter(|e| e.action == "deactivate")
            .count();
        assert_eq!(deactivations, 1);
    }
}

#[tokio::test]
async fn a_new_password_ends_the_accounts_sessions_but_the_changers_own() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let mut viewer = Browser::login(&app, "viewer").await;
        let page = admin.get("/users/viewer").await;
        let (csrf, token) = (page.hidden("csrf"), page.hidden("form_token"));
        // The password form's token is the second one on the page.
        let password_token = page
            .body
            .rsplit("name=\"form_token\" value=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        assert_ne!(password_token, token);

        let short = admin
            .post(
                "/users/viewer/password",
                &[
                    ("csrf", &csrf),
                    ("form_token", &password_token),
                    ("password", "too-short"),
                    ("password_confirm", "too-short"),
                ],
            )
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(short.body.contains("รหัสผ่านต้องยาวอย่างน้อย 10"));
        assert_eq!(
            viewer.get("/").await.status,
            StatusCode::OK,
            "nothing changed"
        );

        let fields = [
            ("csrf", csrf.as_str()),
            ("form_token", password_token.as_str()),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ];
        let r = admin.post("/users/viewer/password", &fields).await;
        assert_eq!(r.location(), "/users/viewer?done=password");
        let r = viewer.get("/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "signed out");
        let mut fresh = Browser::new(&app);
        assert_eq!(
            fresh.try_login("viewer", DEMO_PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            fresh.try_login("viewer", NEW_PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        // Sent twice: set once.
        admin.post("/users/viewer/password", &fields).await;
        let audit = account_audit(&app).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "set_password");
        let after = json(&audit[0].after);
        assert_eq!(after["password_changed"], true);
        assert_eq!(after["sessions_ended"], 1);
        assert_no_secrets(&audit, &[NEW_PASSWORD, DEMO_PASSWORD]);

        // An administrator's own new password keeps the session they set it from.
        let mut elsewhere = Browser::login(&app, "admin").await;
        let page = admin.get("/users/admin").await;
        let own_token = page
            .body
            .rsplit("name=\"form_token\" value=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let r = admin
            .post(
                "/users/admin/password",
                &[
                    ("csrf", &csrf),
                    ("form_token", &own_token),
                    ("password", NEW_PASSWORD),
                    ("password_confirm", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.location(), "/users/admin?done=password");
        assert_eq!(admin.get("/users").await.status, StatusCode::OK);
        assert_eq!(elsewhere.get("/").await.status, StatusCode::SEE_OTHER);
    }
}

// Client addresses for the sign-in throttle.

/// The demo app again, on the same database, with another configuration.
async fn app_with(db: &TestDb, configure: impl FnOnce(&mut Config)) -> App {
    let base = app(db).await;
    let spec = halve_measure::Spec::from_toml_str(
        halve_app::measure::shipped_spec("tpmap-5").unwrap(),
        "tpmap-5",
    )
    .unwrap();
    let mut config = Config::new(spec);
    config.secure_cookies = false;
    configure(&mut config);
    let state: Arc<AppState> = AppState::new(base.store.clone(), base.clock.clone(), config)
        .await
        .unwrap();
    App {
        router: router(state),
        ..base
    }
}

/// A sign-in as it arrives over a connection from `peer`, with an `X-Forwarded-For` header.
async fn sign_in_from(b: &mut Browser<'_>, peer: &str, forwarded: &str, username: &str) -> Reply {
    let csrf = b.get("/login").await.hidden("csrf");
    let body = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("username", username),
        ("password", "wrong password!"),
        ("next", "/"),
    ])
    .unwrap();
    let peer: SocketAddr = SocketAddr::new(peer.parse::<IpAddr>().unwrap(), 50_000);
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded)
        .extension(ConnectInfo(peer))
        .body(Body::from(body))
        .unwrap();
    b.send(request).await
}

async fn failures_of(app: &App, subject: &str) -> i64 {
    app.store.login_failures_since(subject, 0).await.unwrap().0
}

#[tokio::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    for db in TestDb::all().await {
        let app = app_with(&db, |c| {
            c.trusted_proxies = vec!["10.0.0.1".parse().unwrap()];
            c.max_failures_per_ip = 3;
        })
        .await;
        let mut b = Browser::new(&app);
        // Through the proxy: each client is counted under its own address.
        for i in 0..3 {
            let r = sign_in_from(&mut b, "10.0.0.1", "198.51.100.7", &format!("nobody{i}")).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = sign_in_from(&mut b, "10.0.0.1", "198.51.100.7", "nobody9").await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "this client is throttled"
        );
        let r = sign_in_from(&mut b, "10.0.0.1", "6.6.6.6, 198.51.100.8", "nobody9").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "another client is not");
        assert_eq!(failures_of(&app, "ip:198.51.100.7").await, 3);
        assert_eq!(failures_of(&app, "ip:198.51.100.8").await, 1);
        assert_eq!(
            failures_of(&app, "ip:6.6.6.6").await,
            0,
            "left of the proxy's entry"
        );
        assert_eq!(failures_of(&app, "ip:10.0.0.1").await, 0, "not the proxy");

        // A peer that is no trusted proxy is counted under its own address, whatever it
        // writes in the header: changing the header does not escape the throttle.
        for i in 0..3 {
            let forged = format!("192.0.2.{i}");
            let r = sign_in_from(&mut b, "203.0.113.5", &forged, "nobody").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = sign_in_from(&mut b, "203.0.113.5", "192.0.2.99", "nobody").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(failures_of(&app, "ip:203.0.113.5").await, 3);
        assert_eq!(failures_of(&app, "ip:192.0.2.0").await, 0);
    }
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    for db in TestDb::all().await {
        let app = app_with(&db, |c| c.max_failures_per_ip = 3).await;
        let mut b = Browser::new(&app);
        for i in 0..3 {
            let forged = format!("198.51.100.{i}");
            let r = sign_in_from(&mut b, "10.0.0.1", &forged, &format!("nobody{i}")).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let r = sign_in_from(&mut b, "10.0.0.1", "198.51.100.50", "nobody").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(failures_of(&app, "ip:10.0.0.1").await, 3);
        assert_eq!(failures_of(&app, "ip:198.51.100.0").await, 0);
    }
}
