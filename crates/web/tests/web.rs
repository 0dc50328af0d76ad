//! The web app in process: every route, as each role, on SQLite and (when
//! `HALVE_TEST_POSTGRES_URL` is set) PostgreSQL, each test on a fresh demo database.
//!
//! Requests go through the whole router (access layer included) with tower's `oneshot`; a
//! small cookie jar plays the browser. The clock is a test clock, so throttling windows can
//! pass without waiting.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use halve_store::testing::TestDb;
use halve_web::accounts::DEMO_PASSWORD;

#[tokio::test]
async fn signing_in_sets_a_session_cookie_and_every_response_has_security_headers() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut visitor = Browser::new(&app);
        let r = visitor.get("/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/login?next=%2F");
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"));
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
        let api = visitor.get("/api/measures").await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        assert!(api.json()["error"].is_string());

        let form = visitor.get("/login").await;
        let csrf = form.hidden("csrf");
        let r = visitor
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", "admin"),
                    ("password", DEMO_PASSWORD),
                    ("next", "/areas"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/areas");
        let session = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("halve_session="))
            .unwrap()
            .to_owned();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
        assert!(
            !session.contains("Secure"),
            "not on loopback HTTP: {session}"
        );
        let token = session
            .split(';')
            .next()
            .unwrap()
            .split('=')
            .nth(1)
            .unwrap();
        assert_eq!(token.len(), 64);
        let page = visitor.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");

        // A next that leaves the site is ignored.
        let mut other = Browser::new(&app);
        let csrf = other.get("/login").await.hidden("csrf");
        let r = other
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", "admin"),
                    ("password", DEMO_PASSWORD),
                    ("next", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(r.location(), "/");

        // Signing out ends the session in the database, not only in the browser.
        let csrf = visitor.csrf().await;
        let stolen = visitor.cookies["halve_session"].clone();
        let r = visitor.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let mut thief = Browser::new(&app);
        thief.cookies.insert("halve_session".into(), stolen);
        assert_eq!(thief.get("/").await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn sessions_expire_after_idle_time() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "coordinator").await;
        assert_eq!(b.get("/").await.status, StatusCode::OK);
        app.clock.0.fetch_add(9 * 3600, Ordering::SeqCst);
        let r = b.get("/").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "an idle session has ended");
    }
}

#[tokio::test]
async fn each_role_sees_what_it_may_and_no_more() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mine = code(&app.inside).to_owned();
        let theirs = code(&app.outside).to_owned();

        // The viewer: aggregates only.
        let mut viewer = Browser::login(&app, "viewer").await;
        assert_eq!(viewer.get("/").await.status, StatusCode::OK);
        assert_eq!(viewer.get("/areas/80").await.status, StatusCode::OK);
        assert_eq!(viewer.get("/api/measures").await.status, StatusCode::OK);
        for path in [
            format!("/households/{mine}"),
            format!("/households/{mine}/assess"),
            "/search?q=a".to_string(),
            "/import".to_string(),
        ] {
            let r = viewer.get(&path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert!(!r.body.contains(&app.inside.address), "{path}");
        }
        for path in [
            format!("/api/households/{mine}"),
            "/api/households?q=a".to_string(),
        ] {
            let r = viewer.get(&path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert!(r.json().get("members").is_none());
        }
        let home = viewer.get("/").await.body;
        assert!(
            !home.contains("href=\"/search\""),
            "no search link for a viewer"
        );

        // The coordinator: every household, citizen IDs masked.
        let mut coordinator = Browser::login(&app, "coordinator").await;
        for house in [&mine, &theirs] {
            let r = coordinator.get(&format!("/households/{house}")).await;
            assert_eq!(r.status, StatusCode::OK, "{house}");
            assert!(r.body.contains(house.as_str()));
        }
        let persons = app.store.persons_in(&mine).await.unwrap();
        let with_id = persons.iter().find_map(|p| p.citizen_id);
        let api = coordinator.get(&format!("/api/households/{mine}")).await;
        assert_eq!(api.status, StatusCode::OK);
        if let Some(id) = with_id {
            assert!(!api.body.contains(&id.as_digits()));
            assert!(!api.body.contains(&id.to_string()));
            assert!(api.body.contains(&id.masked()));
            let page = coordinator.get(&format!("/households/{mine}")).await;
            assert!(!page.body.contains(&id.to_string()) && page.body.contains(&id.masked()));
        }

        // The admin sees whole IDs.
        let mut admin = Browser::login(&app, "admin").await;
        if let Some(id) = with_id {
            let page = admin.get(&format!("/households/{mine}")).await;
            assert!(page.body.contains(&id.to_string()));
        }

        // The zone worker: their household, and the other one is as if it did not exist, on
        // pages and on the API alike.
        let mut worker = Browser::login(&app, "worker").await;
        assert_eq!(
            worker.get(&format!("/households/{mine}")).await.status,
            StatusCode::OK
        );
        let missing = worker.get("/households/NO-SUCH-HOUSE").await;
        for path in [
            format!("/households/{theirs}"),
            format!("/households/{theirs}/assess"),
        ] {
            let r = worker.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                r.body, missing.body,
                "a refusal looks like a missing household"
            );
            assert!(!r.body.contains(&app.outside.address));
        }
        let api_missing = worker.get("/api/households/NO-SUCH-HOUSE").await;
        let api = worker.get(&format!("/api/households/{theirs}")).await;
        assert_eq!(api.status, StatusCode::NOT_FOUND);
        assert_eq!(api.body, api_missing.body);
        // Searching for it by code finds nothing either.
        let search = worker.get(&format!("/search?q={theirs}")).await;
        assert_eq!(search.status, StatusCode::OK);
        assert!(!search.body.contains(&format!("/households/{theirs}")));
        let api_search = worker.get(&format!("/api/households?q={theirs}")).await;
        assert_eq!(api_search.json()["households"], serde_json::json!([]));
        // Nor can it be recorded by posting straight to it.
        let csrf = worker.csrf().await;
        let r = worker
            .post(
                &format!("/households/{theirs}/assess"),
                &[("csrf", &csrf), ("form_token", "x")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A zone worker does not import.
        assert_eq!(worker.get("/import").await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn posts_without_the_right_token_are_refused() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mine = code(&app.inside).to_owned();
        let path = format!("/households/{mine}/assess");
        let mut worker = Browser::login(&app, "worker").await;
        let form = worker.get(&path).await;
        assert_eq!(form.status, StatusCode::OK);
        let token = form.hidden("form_token");
        let csrf = form.hidden("csrf");
        for bad in [None, Some("0".repeat(64)), Some(csrf[..63].to_owned())] {
            let mut fields = vec![("form_token", token.as_str()), ("members", "3")];
            if let Some(bad) = &bad {
                fields.push(("csrf", bad));
            }
            let r = worker.post(&path, &fields).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad:?}");
        }
        assert_eq!(
            worker.post("/logout", &[]).await.status,
            StatusCode::FORBIDDEN
        );
        // Another site's page, even with a stolen token, is refused by its origin.
        let r = worker
            .send(
                Request::post("/logout")
                    .header(header::HOST, "halve.local")
                    .header(header::ORIGIN, "https://evil.example")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("csrf={csrf}")))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The session's token from another session does not work either.
        let mut other = Browser::login(&app, "admin").await;
        let r = other.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Signing in needs the sign-in form's own token.
        let mut visitor = Browser::new(&app);
        let r = visitor
            .post(
                "/login",
                &[("username", "admin"), ("password", DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!visitor.cookies.contains_key("halve_session"));
        // Nothing was written by any of these.
        assert!(
            app.store
                .audit_log()
                .await
                .unwrap()
                .iter()
                .all(|e| e.entity != "assessment")
        );
        // And with the token, signing out works.
        assert_eq!(
            worker.post("/logout", &[("csrf", &csrf)]).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn an_assessment_is_validated_in_thai_recorded_once_audited_and_counted() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mine = code(&app.inside).to_owned();
        let path = format!("/households/{mine}/assess");
        let mut worker = Browser::login(&app, "worker").await;
        let before = latest_poor_households(&mut worker).await;
        let dashboard_before = worker.get("/").await.body;

        let form = worker.get(&path).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.body.contains("name=\"v_bmn08_housing\""),
            "built from the spec"
        );
        let token = form.hidden("form_token");
        let csrf = form.hidden("csrf");

        // Mistakes come back in Thai, with what was typed kept.
        let mut bad = vec![
            ("csrf".to_string(), csrf.clone()),
            ("form_token".to_string(), token.clone()),
            ("round".to_string(), "2568".to_string()),
            ("assessed_on".to_string(), "2569-01-01".to_string()),
            ("members".to_string(), "0".to_string()),
            ("v_income_per_person_year".to_string(), "abc".to_string()),
        ];
        bad.push(("v_bmn04_safe_food".into(), "1".into()));
        let fields: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = worker.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        for thai in [
            "วันที่สำรวจต้องไม่เป็นวันในอนาคต",
            "จำนวนสมาชิกต้องเป็นตัวเลข 1 ถึง 99",
            "กรุณาเลือกคำตอบข้อนี้",
            "ต้องเป็นตัวเลข หรือ NA ถ้าไม่เกี่ยวข้อง",
        ] {
            assert!(r.body.contains(thai), "{thai}");
        }
        assert!(r.body.contains("value=\"abc\""), "typed values are kept");
        // In English when asked.
        let r_en = worker.post(&format!("{path}?lang=en"), &fields).await;
        assert!(r_en.body.contains("cannot be in the future"));

        // The household's status decides which way the count must move.
        let api = worker.get(&format!("/api/households/{mine}")).await.json();
        let was_poor = api["assessments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["round"] == 2568)
            .is_some_and(|a| a["status"] == "poor");
        let (value, income, expected) = if was_poor {
            ("0", "100000", before - 1)
        } else {
            ("1", "1000", before + 1)
        };
        let mut good = assessment_fields(&indicators(), value, income);
        good.push(("csrf".into(), csrf.clone()));
        good.push(("form_token".into(), token.clone()));
        let fields: Vec<(&str, &str)> =
            good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = worker.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), format!("/households/{mine}?saved=1"));
        // The double tap: same form, same token.
        let again = worker.post(&path, &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.location(), r.location());

        let audit: Vec<_> = app
            .store
            .audit_log()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entity == "assessment")
            .collect();
        assert_eq!(audit.len(), 1, "one record for two submits");
        assert_eq!(audit[0].actor, "web:worker");
        assert_eq!(audit[0].entity_key, format!("2568/{mine}"));
        assert!(audit[0].before.is_some() && audit[0].after.is_some());
        assert!(audit[0].after.as_deref().unwrap().contains("\"members\":4"));
        let stored = app.store.assessments_of(&mine).await.unwrap();
        let latest = stored.iter().find(|a| a.round.be() == 2568).unwrap();
        assert_eq!(latest.members, 4);
        assert_eq!(stored.iter().filter(|a| a.round.be() == 2568).count(), 1);

        // The dashboard counts it at once.
        assert_eq!(latest_poor_households(&mut worker).await, expected);
        let dashboard_after = worker.get("/").await.body;
        assert_ne!(dashboard_before, dashboard_after);
        let page = worker.get(&format!("{}&lang=th", r.location())).await;
        assert!(page.body.contains("บันทึกแล้ว"));

        // A token from a form never issued is refused, and writes nothing.
        let mut forged = good.clone();
        forged.retain(|(k, _)| k != "form_token");
        forged.push(("form_token".into(), "f".repeat(64)));
        let fields: Vec<(&str, &str)> = forged
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            worker.post(&path, &fields).await.status,
            StatusCode::FORBIDDEN
        );
        let count = app
            .store
            .audit_log()
            .await
            .unwrap()
            .iter()
            .filter(|e| e.entity == "assessment")
            .count();
        assert_eq!(count, 1);
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_account_for_a_while() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::new(&app);
        for _ in 0..5 {
            let r = b.try_login("coordinator", "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"));
        }
        // Now even the right password is refused, without a word on whether it was right.
        let r = b.try_login("coordinator", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        assert!(!b.cookies.contains_key("halve_session"));
        // Another account is not locked by it.
        let r = Browser::new(&app).try_login("admin", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // A wrong name is answered as a wrong password.
        let r = b.try_login("nobody", "whatever-at-all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // After the window, the right password works again.
        app.clock.0.fetch_add(15 * 60 + 1, Ordering::SeqCst);
        let r = b.try_login("coordinator", DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn an_upload_with_errors_writes_nothing_and_shows_each_row() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let page = admin.get("/import").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = admin.csrf().await;
        let before = app.store.counts().await.unwrap();
        let village = app.inside.village.to_string();
        let bad = format!(
            "house_code,village_code,address\nNEW-1,{village},1 หมู่ 1\nNEW-2,99999999,2 หมู่ 1\n"
        );
        let (ct, body) = multipart(&[("households.csv", &bad)]);
        let upload = |csrf: &str, ct: &str, body: Vec<u8>| {
            Request::post(format!("/import?csrf={csrf}"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };
        let r = admin.send(upload(&csrf, &ct, body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("ไม่ได้บันทึกอะไรเลย"));
        assert!(r.body.contains("households.csv"));
        assert!(
            r.body.contains("<td class=\"num\">3</td>"),
            "the bad row's line"
        );
        assert_eq!(app.store.counts().await.unwrap(), before, "nothing written");
        // Without the token in the action, the upload is refused.
        let r = admin.send(upload("", &ct, body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let good = format!("house_code,village_code,address\nNEW-1,{village},1 หมู่ 1\n");
        let (ct, body) = multipart(&[("households.csv", &good)]);
        let r = admin.send(upload(&csrf, &ct, body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("นำเข้าเรียบร้อย"));
        assert_eq!(
            app.store.counts().await.unwrap().households,
            before.households + 1
        );
        assert_eq!(admin.get("/households/NEW-1").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn search_finds_names_ids_house_codes_and_villages_within_scope() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mine = code(&app.inside).to_owned();
        let persons = app.store.persons_in(&mine).await.unwrap();
        let person = &persons[0];
        let mut worker = Browser::login(&app, "worker").await;
        let link = format!("href=\"/households/{mine}\"");

        let prefix: String = person.first_name.chars().take(2).collect();
        let by_name = worker
            .get(&format!(
                "/search?q={}",
                serde_urlencoded::to_string([("x", format!("{prefix} {}", person.last_name))])
                    .unwrap()[2..]
                    .to_owned()
            ))
            .await;
        assert_eq!(by_name.status, StatusCode::OK);
        assert!(by_name.body.contains(&link), "by name prefix and surname");
        if let Some(id) = persons.iter().find_map(|p| p.citizen_id) {
            let r = worker.get(&format!("/search?q={id}")).await;
            assert!(r.body.contains(&link), "by citizen ID with dashes");
        }
        let r = worker.get(&format!("/search?q={mine}")).await;
        assert!(r.body.contains(&link), "by house code");
        let r = worker
            .get(&format!("/search?village={}", app.inside.village))
            .await;
        assert!(r.body.contains(&link), "by village");
        let r = worker.get("/search?q=1234567890123").await;
        assert!(r.body.contains("เลขประจำตัวประชาชนไม่ถูกต้อง"));
        // Wildcards are text, not patterns.
        let r = worker.get("/search?q=%25").await;
        assert!(!r.body.contains("href=\"/households/"));
        // The zone worker's name search never reaches outside their area.
        let inland_person = &app.store.persons_in(code(&app.outside)).await.unwrap()[0];
        let r = worker
            .get(&format!(
                "/search?q={}",
                serde_urlencoded::to_string([("x", &inland_person.first_name)]).unwrap()[2..]
                    .to_owned()
            ))
            .await;
        assert!(
            !r.body
                .contains(&format!("href=\"/households/{}\"", code(&app.outside)))
        );
        let mut coordinator = Browser::login(&app, "coordinator").await;
        let r = coordinator
            .get(&format!("/api/households?q={}", code(&app.outside)))
            .await;
        assert_eq!(r.json()["households"][0]["house_code"], code(&app.outside));
    }
}

#[tokio::test]
async fn areas_drill_down_from_province_to_village_in_both_languages() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "viewer").await;
        let r = b.get("/areas").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/areas/80");
        let village = app.inside.village;
        let subdistrict = village.parent().unwrap();
        let district = subdistrict.parent().unwrap();
        let province = b.get("/areas/80").await;
        assert_eq!(province.status, StatusCode::OK);
        assert!(
            province
                .body
                .contains(&format!("href=\"/areas/{district}\""))
        );
        let d = b.get(&format!("/areas/{district}")).await;
        assert!(d.body.contains(&format!("href=\"/areas/{subdistrict}\"")));
        let s = b.get(&format!("/areas/{subdistrict}")).await;
        assert!(s.body.contains(&format!("href=\"/areas/{village}\"")));
        let v = b.get(&format!("/areas/{village}")).await;
        assert_eq!(v.status, StatusCode::OK);
        assert!(v.body.contains("tpmap-5"), "figures name their spec");
        assert!(
            !v.body.contains("/search?village="),
            "no household list for a viewer"
        );
        assert_eq!(b.get("/areas/99").await.status, StatusCode::NOT_FOUND);
        assert_eq!(b.get("/areas/abc").await.status, StatusCode::NOT_FOUND);
        let api = b
            .get(&format!("/api/measures?area={district}"))
            .await
            .json();
        assert_eq!(api["of"]["area"], district.to_string());
        assert!(!api["rounds"].as_array().unwrap().is_empty());

        // Thai first; English on request, remembered.
        let th = b.get("/").await;
        assert!(th.body.contains("lang=\"th\"") && th.body.contains("ภาพรวม"));
        assert!(
            th.body.contains("id=\"progress\""),
            "the target panel's place"
        );
        let en = b.get("/?lang=en").await;
        assert!(en.body.contains("lang=\"en\"") && en.body.contains("Dashboard"));
        assert!(b.cookies.get("halve_lang").is_some_and(|l| l == "en"));
        let still = b.get("/areas/80").await;
        assert!(still.body.contains("lang=\"en\""));
    }
}

#[tokio::test]
async fn static_files_and_unknown_paths() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::new(&app);
        let css = b.get("/static/style.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(
            css.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert_eq!(b.get("/nothing-here").await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_dashboard_shows_progress_towards_the_target_once_computed() {
    use halve_app::target::{
        DEFAULT_TARGET, ProgressOptions, parse_target, progress_registry, shipped_target,
    };
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "coordinator").await;
        // The panel is computed in the background; the page says so until it is ready.
        let mut page = b.get("/").await;
        for _ in 0..300 {
            if page.body.contains("class=\"status-") {
                break;
            }
            assert!(
                page.body.contains("กำลังคำนวณ"),
                "computing, or ready, never missing"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            page = b.get("/").await;
        }
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("nst-halve-2571"), "the target is named");
        assert!(page.body.contains("tpmap-5"), "and the spec it uses");
        // The province's row shows what the target engine computes for it.
        let target = parse_target(shipped_target(DEFAULT_TARGET).unwrap(), DEFAULT_TARGET).unwrap();
        let report = progress_registry(
            &app.store,
            &target,
            &ProgressOptions::default(),
            &halve_app::NoProgress,
        )
        .await
        .unwrap();
        let last = report.rows.iter().map(|r| r.year).max().unwrap();
        let row = report.rows.iter().find(|r| r.year == last).unwrap();
        let expected = format!(
            "<td class=\"num\">{}</td>\n  <td class=\"num strong\">{}</td>",
            halve_domain::text::group_thousands(row.persons.baseline),
            halve_domain::text::group_thousands(row.persons.count)
        );
        assert!(page.body.contains(&expected), "{expected}");
        assert!(
            page.body
                .contains(row.persons.outlook.status.label(halve_measure::Lang::Th))
        );
    }
}

/// Polls `/api/progress` until the background panel has finished its first run.
async fn ready_progress(b: &mut Browser<'_>, query: &str) -> serde_json::Value {
    for _ in 0..300 {
        let r = b.get(&format!("/api/progress{query}")).await;
        if r.status == StatusCode::OK {
            return r.json();
        }
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the target panel never finished");
}

#[tokio::test]
async fn progress_by_area_and_each_households_standing_add_up() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "admin").await;
        let province = ready_progress(&mut b, "").await;
        assert_eq!(province["target"], "nst-halve-2571");
        assert_eq!(province["spec"], "tpmap-5");
        let rows = province["rows"].as_array().unwrap();
        let last = rows.last().unwrap();
        let latest_count =
            |row: &serde_json::Value, unit: &str| row[unit]["count"].as_u64().unwrap();
        // The districts' latest counts add up to the province's, persons and households.
        let districts = province["children"].as_array().unwrap();
        assert!(!districts.is_empty());
        for unit in ["persons", "households"] {
            let sum: u64 = districts.iter().map(|d| latest_count(d, unit)).sum();
            assert_eq!(sum, latest_count(last, unit), "{unit}");
        }
        // Every household's own standing, read one by one, adds up to its village's count.
        let mut in_target: BTreeMap<String, u64> = BTreeMap::new();
        let mut households = Vec::new();
        app.store
            .for_each_household(&mut |h| {
                households.push(h);
                Ok(())
            })
            .await
            .unwrap();
        let year = last["year"].as_i64().unwrap();
        for h in &households {
            let page = b
                .get(&format!("/api/households/{}", code(h).replace('/', "%2F")))
                .await
                .json();
            let standing = page["panel"]["rounds"]
                .as_array()
                .map(|rounds| {
                    rounds
                        .iter()
                        .any(|r| r["year"].as_i64() == Some(year) && r["state"] == "in")
                })
                .unwrap_or(false);
            *in_target.entry(h.village.to_string()).or_default() += u64::from(standing);
        }
        assert!(in_target.len() > 1, "the demo spans several villages");
        for (village, count) in &in_target {
            let v = ready_progress(&mut b, &format!("?area={village}")).await;
            let latest = v["rows"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(latest["year"].as_i64(), Some(year));
            assert_eq!(
                latest_count(&latest, "households"),
                *count,
                "village {village}"
            );
        }
        // A household's page shows its standing round by round.
        let page = b
            .get(&format!(
                "/households/{}",
                code(&app.inside).replace('/', "%2F")
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("สถานะในแผง"), "{}", page.body);
        // An unknown area is 404, not an empty report.
        assert_eq!(
            b.get("/api/progress?area=99").await.status,
            StatusCode::NOT_FOUND
        );
        // Viewers read progress (aggregates) too.
        let mut viewer = Browser::login(&app, "viewer").await;
        assert_eq!(ready_progress(&mut viewer, "").await["of"], province["of"]);
    }
}
