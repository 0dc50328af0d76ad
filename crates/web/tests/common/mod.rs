//! The harness the web tests share: a small demo app on a fresh database per backend, and a
//! `Browser` (a cookie jar over the router, driven with tower's `oneshot`). The clock is a
//! test clock, so windows and deadlines can pass without waiting.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use halve_app::clock::Clock;
use halve_app::demo::{DemoOptions, build_demo};
use halve_domain::Household;
use halve_measure::Spec;
use halve_store::Store;
use halve_store::testing::TestDb;
use halve_web::accounts::{AccountRequest, DEMO_PASSWORD, create_account, create_demo_accounts};
use halve_web::{AppState, Config, router};
use tower::ServiceExt;

/// 2025-07-01T00:00:00Z: 1 July 2568 BE, after the demo's last round.
pub const NOW: i64 = 1_751_328_000;

pub struct TestClock(pub AtomicI64);

impl Clock for TestClock {
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct App {
    pub router: Router,
    pub clock: Arc<TestClock>,
    pub store: Store,
    /// A household in the test zone worker's area, and one outside it.
    pub inside: Household,
    pub outside: Household,
}

pub async fn app(db: &TestDb) -> App {
    let store = db.store.clone();
    build_demo(
        &store,
        &DemoOptions {
            households: 80,
            seed: 11,
        },
        &halve_app::NoProgress,
    )
    .await
    .expect("building a small demo");
    create_demo_accounts(&store, NOW).await.unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let spec = Spec::from_toml_str(
        halve_app::measure::shipped_spec("tpmap-5").unwrap(),
        "tpmap-5",
    )
    .unwrap();
    let mut config = Config::new(spec);
    config.secure_cookies = false;
    let state = AppState::new(store.clone(), clock.clone(), config)
        .await
        .unwrap();
    let mut households = Vec::new();
    store
        .for_each_household(&mut |h| {
            households.push(h);
            Ok(())
        })
        .await
        .unwrap();
    // Households with members now and assessments, so that their pages have something: the
    // first is the test zone worker's (their account covers its subdistrict), the first
    // outside that subdistrict is not.
    let mut usable = Vec::new();
    for h in households {
        let code = h.house_code.as_str().to_owned();
        if !store.persons_in(&code).await.unwrap().is_empty()
            && !store.assessments_of(&code).await.unwrap().is_empty()
        {
            usable.push(h);
        }
    }
    let inside = usable[0].clone();
    let subdistrict = inside.village.parent().unwrap();
    let outside = usable
        .iter()
        .find(|h| h.village.parent() != Some(subdistrict))
        .expect("the demo spans several subdistricts")
        .clone();
    create_account(
        &store,
        &AccountRequest {
            username: "worker".into(),
            display_name: None,
            password: DEMO_PASSWORD.into(),
            role: "zone_worker".into(),
            zones: Vec::new(),
            areas: vec![subdistrict.to_string()],
        },
        NOW,
    )
    .await
    .unwrap();
    App {
        router: router(state),
        clock,
        store,
        inside,
        outside,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The value of a hidden input in the page.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in the page: {}", self.body))
            + marker.len();
        self.body[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A browser: a cookie jar over the router.
pub struct Browser<'a> {
    pub app: &'a App,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a App) -> Browser<'a> {
        Browser {
            app,
            cookies: BTreeMap::new(),
        }
    }

    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request
                .headers_mut()
                .insert(header::COOKIE, jar.join("; ").parse().unwrap());
        }
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), value.into());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn try_login(&mut self, username: &str, password: &str) -> Reply {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.hidden("csrf");
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    pub async fn login(app: &'a App, username: &str) -> Browser<'a> {
        let mut b = Browser::new(app);
        let r = b.try_login(username, DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(b.cookies.contains_key("halve_session"));
        b
    }

    /// The session's CSRF token, read from a page's sign-out form.
    pub async fn csrf(&mut self) -> String {
        self.get("/").await.hidden("csrf")
    }
}

pub fn code(h: &Household) -> &str {
    h.house_code.as_str()
}

pub fn multipart(files: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "halve-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The form fields of a complete assessment: every indicator `value` (0 or 1), the income.
pub fn assessment_fields(
    spec_indicators: &[(String, bool)],
    value: &str,
    income: &str,
) -> Vec<(String, String)> {
    let mut fields = vec![
        ("round".to_string(), "2568".to_string()),
        ("assessed_on".to_string(), "2568-06-15".to_string()),
        ("members".to_string(), "4".to_string()),
    ];
    for (column, is_flag) in spec_indicators {
        let v = if *is_flag { value } else { income };
        fields.push((format!("v_{column}"), v.to_string()));
    }
    fields
}

pub fn indicators() -> Vec<(String, bool)> {
    let spec = Spec::from_toml_str(
        halve_app::measure::shipped_spec("tpmap-5").unwrap(),
        "tpmap-5",
    )
    .unwrap();
    spec.indicators
        .iter()
        .map(|i| {
            (
                i.rule.column().to_string(),
                matches!(i.rule, halve_measure::spec::Rule::Flag { .. }),
            )
        })
        .collect()
}

pub async fn latest_poor_households(b: &mut Browser<'_>) -> u64 {
    let m = b.get("/api/measures").await.json();
    assert_eq!(m["spec"], "tpmap-5");
    let rounds = m["rounds"].as_array().unwrap();
    let last = rounds.last().unwrap();
    assert_eq!(last["round"], "2568");
    last["figures"]["poor_households"].as_u64().unwrap()
}
