//! End to end in a real browser: headless Debian Chromium, driven through chromedriver (the
//! WebDriver protocol) by fantoccini, against the app served on a loopback port.
//!
//! The journey of a council worker: sign in, find a household by its code, record an
//! assessment that lifts it out of every deprivation, and see the dashboard's count of poor
//! households fall by one. Screenshots of the main pages, at a phone's width and a desktop's,
//! are saved under `target/screenshots/` for people to look at.
//!
//! The browser must be installed (`apt-get install chromium chromium-driver`; `.ci/run` does
//! it). Without it the test says so and passes, unless `HALVE_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which turns a missing browser into a failure: CI never skips it silently.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use halve_app::clock::{Clock, SystemClock};
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::measure::{deprivation_profile, shipped_spec};
use halve_domain::Assessment;
use halve_measure::Spec;
use halve_store::testing::TestDb;
use halve_store::{Backend, Store};
use halve_web::accounts::{DEMO_PASSWORD, create_demo_accounts};
use halve_web::{AppState, Config, serve};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

fn spec() -> Spec {
    Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5").unwrap()
}

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
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
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

/// The dashboard's poor households in the latest round (the figures table's last row).
async fn poor_households(client: &Client, base: &str) -> u64 {
    client.goto(&format!("{base}/")).await.unwrap();
    let cell = client
        .find(Locator::Css(
            "table.measures tbody tr:last-child td:nth-of-type(4)",
        ))
        .await
        .expect("the figures table");
    let text = cell.text().await.unwrap();
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("a count, not {text:?}"))
}

/// A household of the latest round that is poor under the spec (deprived in something,
/// complete), and that round.
async fn poor_household(store: &Store, spec: &Spec) -> Assessment {
    let mut all = Vec::new();
    store
        .for_each_assessment(&mut |a| {
            all.push(a);
            Ok(())
        })
        .await
        .unwrap();
    let last = all.iter().map(|a| a.round).max().unwrap();
    all.into_iter()
        .find(|a| {
            a.round == last
                && deprivation_profile(spec, a)
                    .unwrap()
                    .is_some_and(|b| b != 0)
        })
        .expect("a poor household in the latest round")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_finds_a_household_records_an_assessment_and_the_dashboard_count_falls() {
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
    let spec = spec();
    let target = poor_household(&db.store, &spec).await;
    let mut config = Config::new(spec.clone());
    config.secure_cookies = false;
    let state = AppState::new(db.store.clone(), Arc::new(SystemClock), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(state, listener));

    let driver = Driver::start(&driver_path).await;
    let client = connect(&driver, &chrome).await;

    // Sign in.
    client.goto(&format!("{base}/login")).await.unwrap();
    shoot(&client, "login").await;
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(DEMO_PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, Locator::Css("form[action='/logout']")).await;
    let before = poor_households(&client, &base).await;
    assert!(before > 0);
    shoot(&client, "dashboard").await;

    // Find the household by its code, from the search form.
    let code = target.household.as_str();
    client.goto(&format!("{base}/search")).await.unwrap();
    client
        .find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys(code)
        .await
        .unwrap();
    client
        .find(Locator::Css("form[role=search] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let hit = wait_for(&client, Locator::LinkText(code)).await;
    shoot(&client, "search").await;
    hit.click().await.unwrap();
    let record = wait_for(&client, Locator::Css("a.button[href$='/assess']")).await;
    shoot(&client, "household").await;

    // Record the assessment: nothing deprived, and a sufficient income.
    record.click().await.unwrap();
    let round = target.round.be().to_string();
    wait_for(
        &client,
        Locator::Css(&format!("#round option[value='{round}']")),
    )
    .await
    .click()
    .await
    .unwrap();
    shoot(&client, "assess").await;
    for ind in &spec.indicators {
        let name = format!("v_{}", ind.rule.column());
        match ind.rule {
            halve_measure::spec::Rule::Flag { .. } => client
                .find(Locator::Css(&format!("input[name='{name}'][value='0']")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap(),
            halve_measure::spec::Rule::Compare { .. } => {
                let input = client
                    .find(Locator::Css(&format!("input[name='{name}']")))
                    .await
                    .unwrap();
                input.clear().await.unwrap();
                input.send_keys("120000").await.unwrap();
            }
        }
    }
    client
        .find(Locator::Css("form.assess button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let saved = wait_for(&client, Locator::Css("p.ok[role=status]")).await;
    assert!(!saved.text().await.unwrap().is_empty());

    // The dashboard counts one poor household fewer.
    let after = poor_households(&client, &base).await;
    assert_eq!(after, before - 1, "the lifted household leaves the count");

    // The other main pages, for people to look at: each loads whole (its heading is there).
    let district = target
        .household
        .as_str()
        .get(..4)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    let mut pages = vec![
        ("area-province", "/areas/80".to_string()),
        ("what-if", "/what-if".to_string()),
        ("specs", "/specs".to_string()),
        ("users", "/users".to_string()),
    ];
    if let Some(d) = district {
        pages.push(("area-district", format!("/areas/{d}")));
    }
    for (name, path) in pages {
        client.goto(&format!("{base}{path}")).await.unwrap();
        wait_for(&client, Locator::Css("main h1")).await;
        shoot(&client, name).await;
    }

    client.close().await.unwrap();
    drop(driver);
    server.abort();
}
