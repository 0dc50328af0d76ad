//! Reproduces the reference results in `../shared/validation/` (computed with OPHI's method by
//! mpitb 0.2 and checked against mpitbR 1.0.1) through the crate's API. The data there is not
//! ours to commit (syn_cdta is GPL-3), so this test skips with a note when it is absent; when
//! present, any mismatch fails.

mod common;

use common::{compare_changes, compare_results, measure_files, repo_root, validation_dir};
use halve_measure::Columns;

fn assert_none(what: &str, bad: Vec<String>) {
    assert!(
        bad.is_empty(),
        "{what}: {} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn toy_reference() {
    let Some(dir) = validation_dir() else {
        println!("note: ../shared/validation not found (set HALVE_VALIDATION_DIR); skipped");
        return;
    };
    let columns = Columns {
        by: vec!["region".into()],
        ..Columns::default()
    };
    let report = measure_files(
        &repo_root().join("specs/toy.toml"),
        &dir.join("toy.csv"),
        &columns,
        Some("50"),
    );
    assert_none(
        "toy",
        compare_results(&report, &dir.join("toy_expected.csv"), 1e-9),
    );
}

#[test]
fn syn_cdta_reference() {
    let Some(dir) = validation_dir() else {
        println!("note: ../shared/validation not found (set HALVE_VALIDATION_DIR); skipped");
        return;
    };
    let columns = Columns {
        year: Some("year".into()),
        by: vec!["area".into()],
        weight: Some("weight".into()),
        members: None,
    };
    let report = measure_files(
        &repo_root().join("specs/syn_cdta.toml"),
        &dir.join("syn_cdta.csv"),
        &columns,
        Some("20,33"),
    );
    // Complete case leaves 14,903 of 15,000 rows (README of the reference).
    assert_eq!(report.units_read, 15_000);
    assert_eq!(report.units_read - report.units_dropped_incomplete, 14_903);
    assert_none(
        "syn_cdta",
        compare_results(&report, &dir.join("syn_cdta_expected.csv"), 1e-9),
    );
    assert_none(
        "syn_cdta changes",
        compare_changes(&report, &dir.join("syn_cdta_changes_expected.csv"), 1e-7),
    );
}
