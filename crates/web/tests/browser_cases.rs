//! The case journey in a real browser (headless Chromium through chromedriver, as in
//! `browser.rs`; the driver is `support/driver.rs`): an administrator opens a case from a
//! household page, adds a plan item, sends a referral to a partner and logs a visit; the case
//! page and the caseload are saved as screenshots at a phone's and a desktop's width under
//! `target/screenshots/`. Without the browser the test says so and passes, unless
//! `HALVE_REQUIRE_BROWSER=1`.

use std::sync::Arc;

use fantoccini::{Client, Locator};
use halve_app::clock::{Clock, SystemClock};
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::measure::shipped_spec;
use halve_measure::Spec;
use halve_store::Backend;
use halve_store::testing::TestDb;
use halve_web::accounts::{DEMO_PASSWORD, create_demo_accounts};
use halve_web::{AppState, Config, serve};

#[path = "support/driver.rs"]
mod driver;
use driver::*;

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
