//! The what-if page and API, on both backends: the figures under a what-if equal those
//! computed independently here from the stored assessments with the change made, the live
//! figures and the database are untouched, bad questions are refused in Thai, and what each
//! role may choose.

mod common;

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use common::*;
use halve_app::measure::deprivation_profile;
use halve_domain::{Assessment, Key};
use halve_measure::{Ratio, Spec};
use halve_store::Store;
use halve_store::testing::TestDb;

fn spec() -> Spec {
    Spec::from_toml_str(
        halve_app::measure::shipped_spec("tpmap-5").unwrap(),
        "tpmap-5",
    )
    .unwrap()
}

/// The registry's latest-round assessments, each household's registered flags and village,
/// read straight from the store.
struct Registry {
    latest: Vec<Assessment>,
    flags: HashMap<Key, HashSet<String>>,
    village: HashMap<Key, String>,
}

async fn registry(store: &Store) -> Registry {
    let latest_year = store.rounds().await.unwrap().iter().map(|r| r.year).max();
    let mut latest = Vec::new();
    store
        .for_each_assessment(&mut |a| {
            if Some(a.round) == latest_year {
                latest.push(a);
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut village = HashMap::new();
    store
        .for_each_household(&mut |h| {
            village.insert(h.house_code, h.village.to_string());
            Ok(())
        })
        .await
        .unwrap();
    let mut household_of = HashMap::new();
    store
        .for_each_person(&mut |p| {
            household_of.insert(p.person_code, p.household);
            Ok(())
        })
        .await
        .unwrap();
    let mut flags: HashMap<Key, HashSet<String>> = HashMap::new();
    store
        .for_each_flag(&mut |f| {
            if let Some(h) = household_of.get(&f.person_code) {
                flags
                    .entry(h.clone())
                    .or_default()
                    .insert(f.flag.code().to_string());
            }
            Ok(())
        })
        .await
        .unwrap();
    Registry {
        latest,
        flags,
        village,
    }
}

/// Poor households and poor persons of the latest round, by the definition (a household is
/// poor when the weights of its deprivations reach k), in exact rationals, with `lift(a)`
/// giving the deprivations to clear for a household.
fn expected(
    reg: &Registry,
    weights: &[Ratio],
    k_percent: Ratio,
    lift: impl Fn(&Assessment, u32) -> u32,
) -> (u64, f64, f64) {
    let spec = spec();
    let k = k_percent.checked_div(Ratio::from_integer(100)).unwrap();
    let (mut poor_households, mut poor_persons, mut persons) = (0u64, 0f64, 0f64);
    for a in &reg.latest {
        let Some(bits) = deprivation_profile(&spec, a).unwrap() else {
            continue;
        };
        let bits = bits & !lift(a, bits);
        persons += f64::from(a.members);
        let mut score = Ratio::ZERO;
        for (j, w) in weights.iter().enumerate() {
            if bits >> j & 1 == 1 {
                score = score.checked_add(*w).unwrap();
            }
        }
        if score >= k {
            poor_households += 1;
            poor_persons += f64::from(a.members);
        }
    }
    (poor_households, poor_persons, persons)
}

fn latest_round(json: &serde_json::Value) -> &serde_json::Value {
    json["rounds"].as_array().unwrap().last().unwrap()
}

fn check(round: &serde_json::Value, side: &str, want: (u64, f64, f64)) {
    let f = &round[side];
    assert_eq!(
        f["poor_households"].as_u64().unwrap(),
        want.0,
        "{side}: {round}"
    );
    assert_eq!(
        f["poor_persons"].as_f64().unwrap(),
        want.1,
        "{side}: {round}"
    );
    assert_eq!(f["persons"].as_f64().unwrap(), want.2, "{side}: {round}");
    let h = f["h"].as_f64().unwrap();
    assert!((h - want.1 / want.2).abs() < 1e-12, "{side}: H {h}");
}

/// The indicator most households are deprived in, in the latest round.
fn most_common(reg: &Registry) -> usize {
    let spec = spec();
    let mut counts = vec![0u32; spec.indicators.len()];
    for a in &reg.latest {
        if let Some(bits) = deprivation_profile(&spec, a).unwrap() {
            for (j, c) in counts.iter_mut().enumerate() {
                *c += bits >> j & 1;
            }
        }
    }
    (0..counts.len()).max_by_key(|&j| counts[j]).unwrap()
}

#[tokio::test]
async fn an_intervention_gives_the_figures_of_the_data_changed_and_changes_nothing() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let reg = registry(&app.store).await;
        let spec = spec();
        let j = most_common(&reg);
        let solved = &spec.indicators[j].name;
        let mut b = Browser::login(&app, "coordinator").await;

        let measures_before = b.get("/api/measures").await.body;
        let audit_before = app.store.audit_log().await.unwrap().len();

        // Households with an elderly member, lifted out of the most common deprivation.
        let r = b
            .get(&format!("/api/what-if?flag=elderly&solve={solved}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json = r.json();
        assert_eq!(json["spec"]["id"], "tpmap-5");
        assert_eq!(json["spec"]["version"], spec.version);
        let elderly = |a: &Assessment| {
            reg.flags
                .get(&a.household)
                .is_some_and(|f| f.contains("elderly"))
        };
        let weights = spec.weights();
        let k = spec.cutoffs[0].percent;
        let now = expected(&reg, &weights, k, |_, _| 0);
        let then = expected(
            &reg,
            &weights,
            k,
            |a, _| {
                if elderly(a) { 1 << j } else { 0 }
            },
        );
        let round = latest_round(&json);
        check(round, "now", now);
        check(round, "what_if", then);
        // The test would pass vacuously if nothing moved.
        assert!(
            then.0 < now.0,
            "the intervention lifts someone: {now:?} {then:?}"
        );
        let chosen = reg
            .latest
            .iter()
            .filter(|a| elderly(a) && deprivation_profile(&spec, a).unwrap().is_some())
            .count() as u64;
        assert_eq!(json["selection"]["households"], chosen);
        assert_eq!(
            round["difference"]["poor_households"].as_i64().unwrap(),
            then.0 as i64 - now.0 as i64
        );

        // Other weights and another k, with households chosen by deprivation and area.
        let n = spec.indicators.len();
        let mut query = format!("k_other=40&deprived={solved}&solve={solved}");
        let area = app.inside.village.parent().unwrap().to_string();
        query.push_str(&format!("&area={area}"));
        let mut weights = Vec::new();
        for (i, ind) in spec.indicators.iter().enumerate() {
            let w = if i == 0 {
                "50".to_string()
            } else {
                format!("50/{}", n - 1)
            };
            weights.push(
                Ratio::parse(&w)
                    .unwrap()
                    .checked_div(Ratio::from_integer(100))
                    .unwrap(),
            );
            query.push_str(&format!("&w.{}={}", ind.name, w.replace('/', "%2F")));
        }
        let r = b.get(&format!("/api/what-if?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json = r.json();
        let in_area = |a: &Assessment| reg.village[&a.household].starts_with(&area);
        let then = expected(&reg, &weights, Ratio::from_integer(40), |a, bits| {
            if in_area(a) && bits >> j & 1 == 1 {
                1 << j
            } else {
                0
            }
        });
        let round = latest_round(&json);
        check(round, "now", now);
        check(round, "what_if", then);
        assert_eq!(json["cutoff"]["what_if"], "40");

        // The live figures and the database are as they were.
        assert_eq!(b.get("/api/measures").await.body, measures_before);
        assert_eq!(app.store.audit_log().await.unwrap().len(), audit_before);
        let after = registry(&app.store).await;
        assert_eq!(after.latest, reg.latest);

        // The page shows the same question's answer, in Thai, naming its spec.
        let page = b
            .get(&format!("/what-if?flag=elderly&solve={solved}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("ผลการลองสมมติ"), "{}", page.body);
        assert!(page.body.contains("tpmap-5"));
        assert!(page.body.contains("ข้อมูลจริงไม่เปลี่ยน"));
    }
}

#[tokio::test]
async fn weights_that_do_not_add_up_and_bad_cutoffs_are_refused_in_thai() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let spec = spec();
        let mut b = Browser::login(&app, "viewer").await;

        // Every weight 5 % except the first at 6 %: 101 % in all.
        let mut query = String::new();
        for (i, ind) in spec.indicators.iter().enumerate() {
            let w = if i == 0 { "6" } else { "5" };
            query.push_str(&format!("&w.{}={w}", ind.name));
        }
        let sum: u32 = 6 + 5 * (spec.indicators.len() as u32 - 1);
        let r = b.get(&format!("/what-if?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains(&format!("น้ำหนักรวมกันได้ร้อยละ {sum} ต้องเท่ากับ 100 พอดี")),
            "{}",
            r.body
        );
        assert!(!r.body.contains("ผลการลองสมมติ"), "no result is shown");
        let r = b.get(&format!("/api/what-if?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["errors"][0]["field"], "weights");
        assert!(r.json().get("rounds").is_none());

        // Thirds that add up exactly are accepted (no float noise): the first three
        // indicators get 100/3 % less a share, the rest split what is left.
        let n = spec.indicators.len();
        let mut query = String::new();
        for (i, ind) in spec.indicators.iter().enumerate() {
            let w = if i < 3 {
                "20/3".to_string()
            } else {
                format!("80/{}", n - 3)
            };
            query.push_str(&format!("&w.{}={}", ind.name, w.replace('/', "%2F")));
        }
        let r = b.get(&format!("/api/what-if?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        for (query, field) in [
            ("k_other=0", "k_other"),
            ("k_other=150", "k_other"),
            ("k_other=abc", "k_other"),
            ("k=-3", "k"),
            (&format!("w.{}=-5", spec.indicators[0].name)[..], "w."),
            (&format!("w.{}=x", spec.indicators[0].name)[..], "w."),
            ("solve=no_such_indicator", "solve"),
            ("flag=astronaut", "flag"),
            ("area=99999999", "area"),
        ] {
            let r = b.get(&format!("/api/what-if?{query}")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{query}: {}",
                r.body
            );
            let errors = r.json()["errors"].clone();
            assert!(
                errors.as_array().unwrap().iter().any(|e| e["field"]
                    .as_str()
                    .unwrap()
                    .starts_with(field)
                    && !e["th"].as_str().unwrap().is_empty()),
                "{query}: {errors}"
            );
            let page = b.get(&format!("/what-if?{query}")).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert!(page.body.contains("กรุณาแก้ไขข้อมูลที่ทำเครื่องหมายไว้"));
        }
    }
}

#[tokio::test]
async fn a_zone_worker_chooses_only_within_their_areas_and_a_viewer_may_ask() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let reg = registry(&app.store).await;
        let spec = spec();
        let solved = &spec.indicators[most_common(&reg)].name;

        let mut anonymous = Browser::new(&app);
        assert_eq!(
            anonymous.get("/api/what-if").await.status,
            StatusCode::UNAUTHORIZED
        );

        let mut worker = Browser::login(&app, "worker").await;
        let outside = app.outside.village.parent().unwrap().to_string();
        let r = worker
            .get(&format!("/api/what-if?area={outside}&solve={solved}"))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.json().get("rounds").is_none());
        let page = worker.get(&format!("/what-if?area={outside}")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("พื้นที่นี้อยู่นอกพื้นที่ที่บัญชีของคุณดูแล"));

        // Without an area, the worker's households are those of their subdistrict only.
        let inside = app.inside.village.parent().unwrap().to_string();
        let r = worker.get(&format!("/api/what-if?solve={solved}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mine = reg
            .latest
            .iter()
            .filter(|a| {
                reg.village[&a.household].starts_with(&inside)
                    && deprivation_profile(&spec, a).unwrap().is_some()
            })
            .count() as u64;
        assert!(mine > 0);
        assert_eq!(r.json()["selection"]["households"], mine);
        let r = worker
            .get(&format!("/api/what-if?area={inside}&solve={solved}"))
            .await;
        assert_eq!(r.json()["selection"]["households"], mine);

        let mut viewer = Browser::login(&app, "viewer").await;
        let page = viewer.get("/what-if").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("ลองสมมติ"));
        let r = viewer.get(&format!("/api/what-if?solve={solved}")).await;
        assert_eq!(r.status, StatusCode::OK);
        let all = reg
            .latest
            .iter()
            .filter(|a| deprivation_profile(&spec, a).unwrap().is_some())
            .count() as u64;
        assert_eq!(r.json()["selection"]["households"], all);
        let page = viewer
            .get(&format!("/what-if?solve={solved}&lang=en"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Computed on a copy"));
    }
}
