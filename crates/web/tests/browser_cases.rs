//! The case journey in a real browser (headless Chromium through chromedriver, as in
//! `browser.rs`, whose driver helpers are copied here): an administrator opens a case from a
//! household page, adds a plan item, sends a referral to a partner and logs a visit; the case
//! page and the caseload are saved as screenshots at a phone's and a desktop's width under
//! `target/screenshots/`. Without the browser the test says so and passes, unless
//! `HALVE_REQUIRE_BROWSER=1`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use halve_app::clock::{Clock, SystemClock};
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::measure::shipped_spec;
use halve_measure::Spec;
use halve_store::Backend;
use halve_store::testing::TestDb;
use halve_web::accounts::{DEMO_PASSWORD, create_demo_accounts};
use halve_web::{AppState, Config, serve};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

/// chromedriver and chromium, or why not.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver = std::env::var_os("HALVE_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    let chrome = std::env::var_os("HALVE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if driver.exists() && chrome.exists() {
        return Some((driver, chrome));
    }
    let required = std::env::var("HALVE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "HALVE_REQUIRE_BROWSER=1 but {} or {} is missing",
        driver.display(),
        chrome.display()
    );
    eprintln!("note: chromium/chromedriver not installed; browser tests not run");
    None
}

/// A chromedriver process on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(path: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(driver: &Driver, chrome: &Path) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome,
            // As the machine's notes require: no sandbox as root, and no background
            // networking, which this closed network refuses.
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={},{}", PHONE.0, PHONE.1),
                "--lang=th",
            ],
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

fn screenshots() -> PathBuf {
    // The build directory in use (each engineer may have their own), else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The element, once the page that follows a click has loaded it: WebDriver's `find` does
/// not wait, and a loaded CI machine can take seconds to answer a form.
async fn wait_for(client: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    match client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(locator)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            // Leave the page that was there for whoever reads the failure.
            if let Ok(png) = client.screenshot().await {
                let _ = std::fs::write(screenshots().join("failure.png"), png);
            }
            let url = client.current_url().await.map(|u| u.to_string());
            panic!("{locator:?} did not appear on {url:?}: {e}");
        }
    }
}

/// Saves the current page at a phone's and a desktop's width.
async fn shoot(client: &Client, name: &str) {
    for (label, (w, h)) in [("phone", PHONE), ("desktop", DESKTOP)] {
        client.set_window_size(w, h).await.unwrap();
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG of {name}");
        std::fs::write(screenshots().join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    wait_for(client, Locator::Css(css))
        .await
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &Client, id: &str, text: &str) {
    let e = wait_for(client, Locator::Id(id)).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_opened_planned_referred_and_visited_in_the_browser() {
    let Some((driver_path, chrome)) = browser() else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    build_demo(
        &db.store,
        &DemoOptions {
            households: 400,
            seed: 3,
        },
        &halve_app::NoProgress,
    )
    .await
    .unwrap();
    let now = SystemClock.unix_seconds();
    create_demo_accounts(&db.store, now).await.unwrap();
    // A household with members and assessments and no case yet.
    let mut households = Vec::new();
    db.store
        .for_each_household(&mut |h| {
            households.push(h);
            Ok(())
        })
        .await
        .unwrap();
    let mut target = None;
    for h in households {
        let c = h.house_code.as_str().to_owned();
        if !db.store.persons_in(&c).await.unwrap().is_empty()
            && !db.store.assessments_of(&c).await.unwrap().is_empty()
            && db.store.cases_of_household(&c).await.unwrap().is_empty()
        {
            target = Some(h);
            break;
        }
    }
    let household = target.expect("a household without a case");
    let code = household.house_code.as_str().to_owned();
    let spec = Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5").unwrap();
    let mut config = Config::new(spec);
    config.secure_cookies = false;
    let state = AppState::new(db.store.clone(), Arc::new(SystemClock), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(state, listener));
    let driver = Driver::start(&driver_path).await;
    let client = connect(&driver, &chrome).await;

    client.goto(&format!("{base}/login")).await.unwrap();
    type_into(&client, "username", "admin").await;
    type_into(&client, "password", DEMO_PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for(&client, Locator::Css("form[action='/logout']")).await;

    // Open a case from the household page.
    let segment = code.replace('%', "%25").replace('/', "%2F");
    client
        .goto(&format!("{base}/households/{segment}"))
        .await
        .unwrap();
    click(&client, "#case form button[type=submit]").await;
    wait_for(&client, Locator::Id("plan-intervention")).await;
    let url = client.current_url().await.unwrap();
    let id: i64 = url.path().strip_prefix("/cases/").unwrap().parse().unwrap();
    let cases = db.store.cases_of_household(&code).await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, id);

    // Add a plan item from the catalogue, with a partner and a cost.
    click(&client, "#plan-intervention option:nth-child(2)").await;
    click(&client, "#plan-partner option:nth-child(2)").await;
    type_into(&client, "plan-cost", "2,500.75").await;
    click(&client, "#plan-funding option:nth-child(2)").await;
    click(
        &client,
        &format!("form[action='/cases/{id}/plan'] button[type=submit]"),
    )
    .await;
    wait_for(&client, Locator::Css("p.ok, p.warn")).await;
    let plan = db.store.plan_of_case(id).await.unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].cost, halve_domain::Satang(250_075));

    // Send it to a partner.
    click(&client, "#ref-item option:nth-child(2)").await;
    click(&client, "#ref-partner option:nth-child(2)").await;
    click(
        &client,
        &format!("form[action='/cases/{id}/referrals'] button[type=submit]"),
    )
    .await;
    wait_for(&client, Locator::Css("[id^='referral-']")).await;
    assert_eq!(db.store.referrals_of_case(id).await.unwrap().len(), 1);

    // Log today's visit.
    type_into(&client, "visit-note", "เยี่ยมบ้าน คุยเรื่องแผนซ่อมบ้าน").await;
    click(
        &client,
        &format!("form[action='/cases/{id}/visits'] button[type=submit]"),
    )
    .await;
    wait_for(&client, Locator::Css("p.ok")).await;
    assert_eq!(db.store.visits_of_case(id).await.unwrap().len(), 1);
    shoot(&client, "case").await;

    // The caseload of the worker the case went to.
    let worker = db.store.case(id).await.unwrap().unwrap().worker;
    client
        .goto(&format!("{base}/caseload?worker={worker}"))
        .await
        .unwrap();
    wait_for(&client, Locator::Css(&format!("a[href='/cases/{id}']"))).await;
    shoot(&client, "caseload").await;

    client.close().await.unwrap();
    server.abort();
}
