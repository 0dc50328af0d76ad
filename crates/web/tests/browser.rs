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

use std::sync::Arc;

use fantoccini::{Client, Locator};
use halve_app::clock::{Clock, SystemClock};
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::measure::{deprivation_profile, shipped_spec};
use halve_domain::Assessment;
use halve_measure::Spec;
use halve_store::testing::TestDb;
use halve_store::{Backend, Store};
use halve_web::accounts::{DEMO_PASSWORD, create_demo_accounts};
use halve_web::{AppState, Config, serve};

fn spec() -> Spec {
    Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5").unwrap()
}

#[path = "support/driver.rs"]
mod driver;
use driver::*;

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
