//! Measuring the registry: the shipped profiles load and bind, a small registry whose answers
//! are worked out by hand below comes out right on every backend, the snapshot follows a
//! changed assessment, and the demo province keeps the Alkire–Foster invariants.

use halve_app::NoProgress;
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::measure::{
    Applied, Grouping, Lift, MeasureOptions, RegistrySnapshot, RegistryWhatIf, measure_registry,
    unbound_columns,
};
use halve_domain::{
    AreaTree, Assessment, AssessmentRound, BeDate, BeYear, Household, IndicatorValue, Key, Person,
    PersonFlag, Relation, Sex, Village, VulnerabilityFlag,
};
use halve_measure::{Cutoff, Ratio, Report, ResultRecord, Spec};
use halve_store::Store;
use halve_store::testing::TestDb;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

const SHIPPED: [&str; 4] = ["tpmap-5", "global-mpi", "ppaos-5-capitals", "council-5"];

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn load_spec(id: &str) -> Spec {
    let name = format!("{id}.toml");
    let text = std::fs::read_to_string(specs_dir().join(&name)).unwrap();
    Spec::from_toml_str(&text, &name).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn every_spec_file_loads_and_the_shipped_profiles_bind_to_the_demo() {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(specs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = Spec::from_toml_str(&text, &name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{}.toml", spec.id), name, "file named after its id");
        ids.push(spec.id);
    }
    let names: HashSet<String> = halve_app::demo::indicator_names()
        .map(str::to_owned)
        .collect();
    for id in SHIPPED {
        assert!(ids.iter().any(|i| i == id), "{id} is shipped");
        let spec = load_spec(id);
        assert!(spec.provisional, "{id}: every shipped profile is a draft");
        assert!(spec.title_th.is_some() && spec.title_en.is_some(), "{id}");
        assert!(spec.description.is_some(), "{id}: source notes");
        assert!(!spec.cutoffs.is_empty(), "{id}: default k");
        assert_eq!(unbound_columns(&spec, &names), Vec::<String>::new(), "{id}");
        // Every demo indicator is used, BMN 22 through its rule on the raw income.
        let columns: HashSet<&str> = spec.indicators.iter().map(|i| i.rule.column()).collect();
        assert_eq!(
            columns.len(),
            halve_app::demo::indicator_names().count(),
            "{id}"
        );
        let bmn22 = spec.indicators.iter().find(|i| i.name == "bmn22_income");
        assert_eq!(
            bmn22.unwrap().rule.to_string(),
            "income_per_person_year < 38000",
            "{id}"
        );
    }
    // A spec naming a column the data lacks does not bind.
    let mut fewer = names.clone();
    fewer.remove("bmn28_disability_care");
    assert_eq!(
        unbound_columns(&load_spec("tpmap-5"), &fewer),
        ["bmn28_disability_care"]
    );
}

#[test]
fn shipped_cutoffs_mean_what_their_notes_say() {
    let percent = |c: &Cutoff| c.fraction();
    // Union: k is exactly the smallest weight, so one deprivation is enough.
    for id in ["tpmap-5", "council-5"] {
        let spec = load_spec(id);
        let smallest = spec.weights().into_iter().min().unwrap();
        assert_eq!(percent(&spec.cutoffs[0]), smallest, "{id}");
        assert_eq!(spec.dimensions.len(), 5, "{id}");
    }
    let tpmap = load_spec("tpmap-5");
    let dims: Vec<&str> = tpmap.dimensions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(dims, ["health", "living", "education", "income", "access"]);
    let mpi = load_spec("global-mpi");
    assert_eq!(percent(&mpi.cutoffs[0]), Ratio::new(1, 3).unwrap());
    assert_eq!(mpi.weights(), tpmap.weights(), "nested equal weights");
    // PPAOS: mean score 4 − 3c, so the cuts 3.25 / 2.50 / 1.75 are c = 1/4, 1/2, 3/4, and
    // each capital weighs 1/5.
    let ppaos = load_spec("ppaos-5-capitals");
    let ks: Vec<Ratio> = ppaos.cutoffs.iter().map(percent).collect();
    let cut = |mean: u128| Ratio::new(400 - mean, 300).unwrap(); // c = (4 − mean) / 3
    assert_eq!(ks, [cut(325), cut(250), cut(175)]);
    let capitals: Vec<&str> = ppaos.dimensions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        capitals,
        ["human", "physical", "economic", "natural", "social"]
    );
    for d in &ppaos.dimensions {
        let mut sum = Ratio::ZERO;
        for w in &ppaos.weights()[d.indicators.clone()] {
            sum = sum.checked_add(*w).unwrap();
        }
        assert_eq!(sum, Ratio::new(1, 5).unwrap(), "{}", d.name);
    }
}

// ---------------------------------------------------------------------------------------
// The hand-made registry.
//
// Spec: living {housing 1/4, drinking water 1/4}, income {BMN 22 1/2}; k = 50 and 25.
// Round 2566 (30/06/2566):
//   H1 district 8001, 3 members (F 40, F 10, M 70 elderly): housing, income 30,000 → c = 3/4
//   H2 district 8001, 2 members (F 30, M 35):               nothing, income 50,000 → c = 0
//   H3 district 8012, 4 members (M 40, M 12, F 38, F 9):    housing + water, 40,000 → c = 1/2
//   H4 district 8012, 1 member  (F 80 elderly + disabled):  water NA, income 20,000 → c = 1/2
//   H5 district 8012, 5 members (2 persons registered):     housing missing → dropped
// Complete: n = 10 persons in 4 households. At k = 50 poor: H1 (3), H3 (4, exactly at k),
// H4 (1) → q = 8, H = 0.8; Σc = 3·3/4 + 4·1/2 + 1·1/2 = 4.75, A = 4.75/8 = 0.59375,
// M0 = 0.475. District 8001: 3 poor of 5 → H = 0.6; 8012: 5 of 5 → H = 1.
// Sex: female 2+1+2+1 = 6, of whom poor 2+2+1 = 5; male 1+1+2 = 4, poor 1+2 = 3.
// Age: 0-14 F10, M12, F9 = 3 (all poor); 15-59 F40, F30, M35, M40, F38 = 5 (poor 3);
// 60+ M70, F80 = 2 (both poor).
// Round 2567 (30/06/2567): only H1, now with nothing and income 50,000 → H = 0.
// ---------------------------------------------------------------------------------------

const HAND_SPEC: &str = r#"
id = "hand"
version = 3
k = [50, 25]
[[dimension]]
name = "living"
indicators = ["bmn08_housing", "bmn09_drinking_water"]
[[dimension]]
name = "income"
indicators = [{ name = "bmn22_income", rule = "income_per_person_year < 38000" }]
"#;

fn hand_spec() -> Spec {
    Spec::from_toml_str(HAND_SPEC, "hand.toml").unwrap()
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn date(s: &str) -> BeDate {
    BeDate::parse(s).unwrap()
}

fn person(code: &str, house: &str, sex: Sex, born: &str) -> Person {
    Person {
        person_code: key(code),
        household: key(house),
        citizen_id: None,
        first_name: "ทดสอบ".into(),
        last_name: "ใจดี".into(),
        sex,
        birth_date: Some(date(born)),
        relation: Relation::Relative,
        education: None,
        occupation: None,
        income_year: None,
        disability: false,
        chronic_illness: false,
        bedridden: false,
    }
}

fn assessment(house: &str, round: i32, members: u16, values: &[(&str, &str)]) -> Assessment {
    let mut map = BTreeMap::new();
    for (name, raw) in values {
        if let Some(v) = IndicatorValue::parse(raw).unwrap() {
            map.insert(name.to_string(), v);
        }
    }
    Assessment {
        round: BeYear::new(round).unwrap(),
        household: key(house),
        assessed_on: date(&format!("01/06/{round}")),
        members,
        values: map,
    }
}

fn hand_assessments() -> Vec<Assessment> {
    vec![
        assessment(
            "H1",
            2566,
            3,
            &[
                ("bmn08_housing", "1"),
                ("bmn09_drinking_water", "0"),
                ("income_per_person_year", "30000"),
            ],
        ),
        assessment(
            "H2",
            2566,
            2,
            &[
                ("bmn08_housing", "0"),
                ("bmn09_drinking_water", "0"),
                ("income_per_person_year", "50000"),
            ],
        ),
        assessment(
            "H3",
            2566,
            4,
            &[
                ("bmn08_housing", "1"),
                ("bmn09_drinking_water", "1"),
                ("income_per_person_year", "40000"),
            ],
        ),
        assessment(
            "H4",
            2566,
            1,
            &[
                ("bmn08_housing", "0"),
                ("bmn09_drinking_water", "NA"),
                ("income_per_person_year", "20000"),
            ],
        ),
        assessment(
            "H5",
            2566,
            5,
            &[
                ("bmn09_drinking_water", "1"),
                ("income_per_person_year", "10000"),
            ],
        ),
        assessment(
            "H1",
            2567,
            3,
            &[
                ("bmn08_housing", "0"),
                ("bmn09_drinking_water", "0"),
                ("income_per_person_year", "50000"),
            ],
        ),
    ]
}

async fn write_hand_registry(store: &Store) {
    let tree = AreaTree::shipped();
    let village = |code: &str| Village {
        code: tree.resolve(code).unwrap(),
        name_th: "บ้านทดสอบ".into(),
        name_en: None,
    };
    let household = |code: &str, v: &str| Household {
        house_code: key(code),
        village: tree.resolve(v).unwrap(),
        address: "1 หมู่ 1".into(),
        location: None,
    };
    let flag = |p: &str, f: VulnerabilityFlag| PersonFlag {
        person_code: key(p),
        flag: f,
        source: "พมจ.".into(),
        as_of: date("01/01/2566"),
    };
    let round = |y: i32| AssessmentRound {
        year: BeYear::new(y).unwrap(),
        date: date(&format!("30/06/{y}")),
        label: format!("จปฐ. {y}"),
    };
    let mut tx = store.begin().await.unwrap();
    tx.upsert_villages(&[village("80010101"), village("80120101")])
        .await
        .unwrap();
    tx.upsert_households(&[
        household("H1", "80010101"),
        household("H2", "80010101"),
        household("H3", "80120101"),
        household("H4", "80120101"),
        household("H5", "80120101"),
    ])
    .await
    .unwrap();
    tx.upsert_persons(&[
        person("P11", "H1", Sex::Female, "01/01/2526"),
        person("P12", "H1", Sex::Female, "01/01/2556"),
        person("P13", "H1", Sex::Male, "01/01/2496"),
        person("P21", "H2", Sex::Female, "01/01/2536"),
        person("P22", "H2", Sex::Male, "01/01/2531"),
        person("P31", "H3", Sex::Male, "01/01/2526"),
        person("P32", "H3", Sex::Male, "01/01/2554"),
        person("P33", "H3", Sex::Female, "01/01/2528"),
        person("P34", "H3", Sex::Female, "01/01/2557"),
        person("P41", "H4", Sex::Female, "01/01/2486"),
        person("P51", "H5", Sex::Male, "01/01/2520"),
        person("P52", "H5", Sex::Female, "01/01/2520"),
    ])
    .await
    .unwrap();
    tx.upsert_flags(&[
        flag("P13", VulnerabilityFlag::Elderly),
        flag("P41", VulnerabilityFlag::Elderly),
        flag("P41", VulnerabilityFlag::Disabled),
    ])
    .await
    .unwrap();
    tx.upsert_rounds(&[round(2566), round(2567)]).await.unwrap();
    tx.upsert_assessments(&hand_assessments()).await.unwrap();
    tx.commit().await.unwrap();
}

/// The one figure matching every field given.
fn figure(
    report: &Report,
    measure: &str,
    k: f64,
    year: &str,
    by: Option<(&str, &str)>,
    indicator: Option<&str>,
) -> f64 {
    let hits: Vec<&ResultRecord> = report
        .results
        .iter()
        .filter(|r| {
            r.measure == measure
                && close(r.k, k)
                && r.year_label.as_deref() == Some(year)
                && r.by.as_deref() == by.map(|b| b.0)
                && r.group.as_deref() == by.map(|b| b.1)
                && r.indicator.as_deref() == indicator
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{measure} k={k} {year} {by:?} {indicator:?}: {hits:?}"
    );
    hits[0].value
}

fn all_groupings() -> MeasureOptions {
    MeasureOptions {
        by: Grouping::ALL.to_vec(),
        ..MeasureOptions::default()
    }
}

#[tokio::test]
async fn hand_registry_gives_the_hand_computed_measures() {
    for db in TestDb::all().await {
        write_hand_registry(&db.store).await;
        let spec = hand_spec();
        let report = measure_registry(&db.store, &spec, &all_groupings())
            .await
            .unwrap();
        let backend = db.store.backend().name();
        assert_eq!((report.spec.as_str(), report.spec_version), ("hand", 3));
        assert!(!report.provisional);
        assert_eq!(report.units_read, 6, "{backend}");
        assert_eq!(report.units_dropped_incomplete, 1, "{backend}");

        let f = |m: &str, k: f64, by: Option<(&str, &str)>| figure(&report, m, k, "2566", by, None);
        assert!(close(f("n", 50.0, None), 10.0), "{backend}");
        assert!(close(f("n_units", 50.0, None), 4.0));
        assert!(close(f("q_units", 50.0, None), 3.0), "H3 at c = k is poor");
        assert!(close(f("H", 50.0, None), 0.8));
        assert!(close(f("A", 50.0, None), 0.59375));
        assert!(close(f("M0", 50.0, None), 0.475));
        // At k = 25 the same three households are poor: nobody has c = 1/4 alone.
        assert!(close(f("H", 25.0, None), 0.8));
        // Indicators: housing deprives H1 and H3 (7 of 10 persons), water H3 (4; NA is not
        // deprived), income H1 and H4 (4).
        let hd = |ind: &str| figure(&report, "hd", 50.0, "2566", None, Some(ind));
        assert!(close(hd("bmn08_housing"), 0.7));
        assert!(close(hd("bmn09_drinking_water"), 0.4));
        assert!(close(hd("bmn22_income"), 0.4));
        let dim = |d: &str| figure(&report, "actb_dim", 50.0, "2566", None, Some(d));
        assert!(close(dim("living") + dim("income"), 0.475));
        assert!(close(dim("income"), 0.5 * 0.4));

        assert!(close(f("H", 50.0, Some(("district", "8001"))), 0.6));
        assert!(close(f("H", 50.0, Some(("district", "8012"))), 1.0));
        assert!(close(f("n", 50.0, Some(("province", "80"))), 10.0));
        assert!(close(f("n", 50.0, Some(("village", "80120101"))), 5.0));
        assert!(close(f("n", 50.0, Some(("subdistrict", "800101"))), 5.0));
        assert!(close(f("H", 50.0, Some(("ecozone", "coast"))), 1.0));
        assert!(close(f("H", 50.0, Some(("ecozone", "city"))), 0.6));

        // Members split by sex: 6 women (5 poor), 4 men (3 poor); the parts make the whole.
        assert!(close(f("n", 50.0, Some(("sex", "female"))), 6.0));
        assert!(close(f("n", 50.0, Some(("sex", "male"))), 4.0));
        assert!(close(f("H", 50.0, Some(("sex", "female"))), 5.0 / 6.0));
        assert!(close(f("H", 50.0, Some(("sex", "male"))), 0.75));
        assert!(close(f("n_units", 50.0, Some(("sex", "male"))), 3.0));
        assert!(close(
            f("q", 50.0, Some(("sex", "female"))) + f("q", 50.0, Some(("sex", "male"))),
            f("q", 50.0, None)
        ));
        assert!(close(f("n", 50.0, Some(("age_band", "0-14"))), 3.0));
        assert!(close(f("H", 50.0, Some(("age_band", "0-14"))), 1.0));
        assert!(close(f("n", 50.0, Some(("age_band", "15-59"))), 5.0));
        assert!(close(f("H", 50.0, Some(("age_band", "15-59"))), 0.6));
        assert!(close(f("n", 50.0, Some(("age_band", "60+"))), 2.0));
        // Flags overlap: the person with two flags counts in both.
        assert!(close(f("n", 50.0, Some(("flag", "elderly"))), 2.0));
        assert!(close(f("n", 50.0, Some(("flag", "disabled"))), 1.0));
        assert!(close(f("n", 50.0, Some(("flag", "none"))), 8.0));

        // The next round and the change to it.
        assert!(close(figure(&report, "H", 50.0, "2567", None, None), 0.0));
        let change = report
            .changes
            .iter()
            .find(|c| c.measure == "H" && c.kind == "abs" && !c.annualised && close(c.k, 50.0))
            .unwrap();
        assert!(close(change.value, -0.8));
    }
}

#[tokio::test]
async fn a_changed_assessment_is_patched_in_and_agrees_with_a_rebuild() {
    for db in TestDb::all().await {
        write_hand_registry(&db.store).await;
        let spec = hand_spec();
        let options = all_groupings();
        let mut snap = RegistrySnapshot::build(&db.store, &spec, &options)
            .await
            .unwrap();
        let h = |r: &Report, by| figure(r, "H", 50.0, "2566", by, None);

        // A what-if: H3 no longer lacks housing → c = 1/4, not poor; the live data stays.
        let lifted = snap
            .what_if(&RegistryWhatIf {
                lift: vec![Lift {
                    households: vec![key("H3")],
                    round: Some(BeYear::new(2566).unwrap()),
                    indicators: vec!["bmn08_housing".into()],
                }],
                ..RegistryWhatIf::default()
            })
            .unwrap()
            .report;
        assert!(close(h(&lifted, None), 0.4));
        assert!(close(h(&lifted, Some(("sex", "male"))), 0.25));
        assert_eq!(lifted.spec, "hand");
        assert!(close(h(&snap.report(None).unwrap(), None), 0.8));
        // Another k: at 100 only a household deprived in everything is poor, and none is.
        let at100 = snap
            .what_if(&RegistryWhatIf {
                cutoffs: Some(vec![Cutoff::parse("100").unwrap()]),
                ..RegistryWhatIf::default()
            })
            .unwrap()
            .report;
        assert!(close(figure(&at100, "H", 100.0, "2566", None, None), 0.0));

        // H2 now lacks housing and water: c = 1/2 = k, poor. Same row, so patched in place.
        let changed = assessment(
            "H2",
            2566,
            2,
            &[
                ("bmn08_housing", "1"),
                ("bmn09_drinking_water", "1"),
                ("income_per_person_year", "50000"),
            ],
        );
        assert_eq!(snap.apply_assessment(&changed).unwrap(), Applied::InPlace);
        let patched = snap.report(None).unwrap();
        assert!(close(h(&patched, None), 1.0));
        assert!(close(h(&patched, Some(("district", "8001"))), 1.0));
        assert!(close(h(&patched, Some(("sex", "male"))), 1.0));

        // H5 completes its assessment: a row joins the complete cases, so it is laid out anew.
        let completed = assessment(
            "H5",
            2566,
            5,
            &[
                ("bmn08_housing", "0"),
                ("bmn09_drinking_water", "1"),
                ("income_per_person_year", "10000"),
            ],
        );
        assert_eq!(snap.apply_assessment(&completed).unwrap(), Applied::Rebuilt);
        let after = snap.report(None).unwrap();
        assert!(close(figure(&after, "n", 50.0, "2566", None, None), 15.0));
        assert_eq!(after.units_dropped_incomplete, 0);
        // H5: 5 members over one man and one woman → 2.5 each.
        assert!(close(
            figure(&after, "n", 50.0, "2566", Some(("sex", "male")), None),
            4.0 + 2.5
        ));

        // The same changes written to the store and measured afresh give the same figures.
        let mut tx = db.store.begin().await.unwrap();
        tx.upsert_assessments(&[changed, completed]).await.unwrap();
        tx.commit().await.unwrap();
        let fresh = measure_registry(&db.store, &spec, &options).await.unwrap();
        assert_eq!(fresh.results.len(), after.results.len());
        for (a, b) in fresh.results.iter().zip(&after.results) {
            assert_eq!(
                (a.measure, &a.by, &a.group, &a.indicator, &a.year_label),
                (b.measure, &b.by, &b.group, &b.indicator, &b.year_label)
            );
            assert!(close(a.value, b.value), "{a:?} vs {b:?}");
        }

        // Unknown rounds and households are refused rather than guessed.
        assert!(
            snap.apply_assessment(&assessment("H9", 2566, 1, &[]))
                .is_err()
        );
        assert!(
            snap.apply_assessment(&assessment("H1", 2570, 1, &[]))
                .is_err()
        );
    }
}

#[tokio::test]
async fn a_spec_the_data_cannot_feed_is_refused() {
    for db in TestDb::all().await {
        write_hand_registry(&db.store).await;
        let err = measure_registry(&db.store, &load_spec("tpmap-5"), &all_groupings())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("bmn01_birth_weight"), "{err}");
    }
}

/// Union identification recomputed independently of the engine: per round, persons in
/// complete households and persons in households deprived in anything.
fn union_by_hand(assessments: &[Assessment]) -> HashMap<i32, (f64, f64)> {
    let mut out: HashMap<i32, (f64, f64)> = HashMap::new();
    for a in assessments {
        let mut complete = true;
        let mut deprived = false;
        for name in halve_app::demo::indicator_names() {
            match a.values.get(name) {
                None => complete = false,
                Some(IndicatorValue::NotApplicable) => {}
                Some(IndicatorValue::Number(x)) => {
                    deprived |= if name == "income_per_person_year" {
                        *x < 38_000.0
                    } else {
                        *x == 1.0
                    }
                }
            }
        }
        if complete {
            let e = out.entry(a.round.be()).or_default();
            e.0 += f64::from(a.members);
            if deprived {
                e.1 += f64::from(a.members);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_demo_keeps_the_invariants() {
    for db in TestDb::all().await {
        let options = DemoOptions {
            households: 200,
            seed: 11,
        };
        build_demo(&db.store, &options, &NoProgress).await.unwrap();
        let mut assessments = Vec::new();
        db.store
            .for_each_assessment(&mut |a| {
                assessments.push(a);
                Ok(())
            })
            .await
            .unwrap();
        let expected = union_by_hand(&assessments);

        for id in SHIPPED {
            let spec = load_spec(id);
            let report = measure_registry(&db.store, &spec, &all_groupings())
                .await
                .unwrap();
            assert_eq!((report.spec.as_str(), report.spec_version), (id, 1));
            assert!(report.provisional);
            assert_eq!(report.units_read, assessments.len());
            check_invariants(id, &report);
            if id == "tpmap-5" {
                for (year, (n, q)) in &expected {
                    let y = year.to_string();
                    assert!(close(figure(&report, "n", 5.0, &y, None, None), *n));
                    assert!(close(figure(&report, "q", 5.0, &y, None, None), *q), "{y}");
                }
            }
        }
    }
}

fn check_invariants(id: &str, report: &Report) {
    let whole: Vec<&ResultRecord> = report.results.iter().filter(|r| r.by.is_none()).collect();
    let find = |m: &str, k: f64, y: &Option<String>, by: &Option<String>, g: &Option<String>| {
        report
            .results
            .iter()
            .find(|r| {
                r.measure == m
                    && r.k == k
                    && &r.year_label == y
                    && &r.by == by
                    && &r.group == g
                    && r.indicator.is_none()
            })
            .map(|r| r.value)
            .unwrap()
    };
    let mut checked = 0;
    for r in whole.iter().filter(|r| r.measure == "H") {
        let (k, y) = (r.k, &r.year_label);
        let n = find("n", k, y, &None, &None);
        let m0 = find("M0", k, y, &None, &None);
        let a = find("A", k, y, &None, &None);
        assert!(close(m0, r.value * a), "{id} {y:?} k={k}: M0 = H × A");
        // Contributions add up to M0.
        let actb: f64 = report
            .results
            .iter()
            .filter(|x| x.measure == "actb" && x.k == k && &x.year_label == y && x.by.is_none())
            .map(|x| x.value)
            .sum();
        assert!(close(actb, m0), "{id} {y:?} k={k}: Σ actb = M0");
        for g in Grouping::ALL {
            let by = Some(g.name().to_string());
            let groups: Vec<&ResultRecord> = report
                .results
                .iter()
                .filter(|x| x.measure == "n" && x.k == k && &x.year_label == y && x.by == by)
                .collect();
            assert!(!groups.is_empty(), "{id} {y:?}: groups of {}", g.name());
            let (mut sn, mut sq, mut sm) = (0.0, 0.0, 0.0);
            for x in &groups {
                let ng = x.value;
                sn += ng;
                sq += find("q", k, y, &by, &x.group);
                sm += ng * find("M0", k, y, &by, &x.group);
            }
            if g.is_partition() {
                assert!(
                    (sn - n).abs() < 1e-6,
                    "{id} {y:?} {}: Σn {sn} ≠ {n}",
                    g.name()
                );
                assert!(
                    (sq - r.value * n).abs() < 1e-6,
                    "{id} {y:?} {}: Σq",
                    g.name()
                );
                assert!((sm - m0 * n).abs() < 1e-6, "{id} {y:?} {}: ΣnM0", g.name());
            } else {
                assert!(sn >= n - 1e-6, "{id}: overlapping flags cover everyone");
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}
