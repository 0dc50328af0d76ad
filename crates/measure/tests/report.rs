//! The outputs people and programs read: long CSV, one JSON object, an aligned table. Every
//! one names the spec id and version.

use halve_measure::{Columns, Lang, Report, Spec, load, run, write_table};

const SPEC: &str = r#"id = "out"
version = 4
title_th = "ทดสอบผลลัพธ์"
title_en = "Output test"
k = [50]
[[dimension]]
name = "d1"
title_th = "มิติหนึ่ง"
indicators = ["a", "b"]
[[dimension]]
name = "d2"
indicators = ["c"]
"#;

/// Two rounds of the five households of `hand.rs`; in 2571 u1 escapes (its `b` is cleared).
/// 2566: H = 0.5, M0 = 0.35 (see hand.rs). 2571: poor u2, u5: q = 3, H = 0.3,
/// Σ w·c = 1·½ + 2·1 = 2.5, M0 = 0.25, A = 2.5/3.
fn report() -> (Spec, halve_measure::Run) {
    let spec = Spec::from_toml_str(SPEC, "out.toml").unwrap();
    let header = ["year", "g", "w", "a", "b", "c"];
    let mut rows = Vec::new();
    for (year, u1b) in [("2566", "1"), ("2571", "0")] {
        for r in [
            ["x", "2", "1", u1b, "0"],
            ["x", "1", "0", "0", "1"],
            ["y", "1", "1", "0", "0"],
            ["y", "4", "0", "0", "0"],
            ["y", "2", "1", "1", "1"],
        ] {
            let mut f = vec![year];
            f.extend(r);
            rows.push((rows.len() as u64 + 2, f));
        }
    }
    let columns = Columns {
        year: Some("year".into()),
        by: vec!["g".into()],
        weight: Some("w".into()),
        members: None,
    };
    let snap = load(&spec, &columns, &header, "out.csv", rows).unwrap();
    let run = run(&spec, &snap, None).unwrap();
    (spec, run)
}

fn csv(report: &Report) -> String {
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn csv_has_the_reference_columns_and_the_spec() {
    let (_, run) = report();
    let text = csv(&run.report);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "measure,k,year,by,group,indicator,value,spec,spec_version"
    );
    assert_eq!(lines.next().unwrap(), "H,50,2566,,,,0.5,out,4");
    assert!(text.contains("\nM0,50,2571,,,,0.25,out,4\n"));
    assert!(text.contains("\nH,50,2566,g,y,,0.2857142857142857,out,4\n"));
    assert!(text.contains("\npctb_dim,50,2566,,,d2,"));
    assert!(text.contains("\nn_units,50,2571,g,x,,2,out,4\n"));
}

#[test]
fn json_is_one_object_with_results_and_changes() {
    let (_, run) = report();
    let doc: serde_json::Value = serde_json::from_str(&run.report.to_json()).unwrap();
    assert_eq!(doc["spec"], "out");
    assert_eq!(doc["spec_version"], 4);
    let first = &doc["results"][0];
    assert_eq!(
        first,
        &serde_json::json!({
            "measure": "H", "k": 50, "year": 2566.0, "by": null, "group": null,
            "indicator": null, "value": 0.5
        })
    );
    let changes = doc["changes"].as_array().unwrap();
    // One pair of rounds × 4 kinds × 1 cutoff × 3 measures.
    assert_eq!(changes.len(), 12);
    let find = |m: &str, kind: &str, ann: bool| {
        changes
            .iter()
            .find(|c| c["measure"] == m && c["kind"] == kind && c["annualised"] == ann)
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert!((find("H", "abs", false) - -0.2).abs() < 1e-12);
    assert!((find("H", "abs", true) - -0.04).abs() < 1e-12);
    assert!((find("M0", "rel", false) - (0.25 / 0.35 - 1.0) * 100.0).abs() < 1e-9);
    let ann = ((0.3f64 / 0.5).powf(0.2) - 1.0) * 100.0;
    assert!((find("H", "rel", true) - ann).abs() < 1e-9);
    assert_eq!(changes[0]["from"], 2566.0);
    assert_eq!(changes[0]["to"], 2571.0);
}

#[test]
fn tables_speak_thai_by_default_and_english_on_request() {
    let (spec, run) = report();
    let mut th = Vec::new();
    write_table(&spec, &run.report, &run.estimates, Lang::Th, &mut th).unwrap();
    let th = String::from_utf8(th).unwrap();
    assert!(th.starts_with("ข้อกำหนด out (รุ่น 4): ทดสอบผลลัพธ์\n"), "{th}");
    assert!(th.contains("ทั้งหมด"));
    assert!(th.contains("มิติ: มิติหนึ่ง"));
    assert!(th.contains("50.00%"));
    let mut en = Vec::new();
    write_table(&spec, &run.report, &run.estimates, Lang::En, &mut en).unwrap();
    let en = String::from_utf8(en).unwrap();
    assert!(
        en.starts_with("Spec out (version 4): Output test\n"),
        "{en}"
    );
    assert!(en.contains("Changes (everyone)"));
    assert!(en.contains("2566 → 2571"));
}

#[test]
fn subgroup_changes_are_available_to_callers() {
    let (_, run) = report();
    let est = &run.estimates;
    // Group x = {u1, u2}: 2566 both poor (H = 1); 2571 only u2 (H = 1/3).
    let x = halve_measure::group_changes(est, Some((0, 0)));
    let h = x
        .iter()
        .find(|c| c.measure == "H" && c.kind == halve_measure::ChangeKind::Abs && !c.annualised)
        .unwrap();
    assert!((h.value - (1.0 / 3.0 - 1.0)).abs() < 1e-12);
    assert_eq!(halve_measure::changes(est).len(), x.len());
}
