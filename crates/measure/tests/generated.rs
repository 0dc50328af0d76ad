//! The project's own generated data (scripts/gen-measure-fixtures.py) against expected values
//! computed once by the reference implementation mpitb 0.2 (see fixtures/README.md): three
//! rounds with a fractional year, two subgroup columns, sample weights × household size,
//! explicit fractional weights, a rule on a raw value, NA and missing cells.

mod common;

use common::{compare_changes, compare_results, fixtures, measure_files};
use halve_measure::Columns;

#[test]
fn generated_households_match_mpitb() {
    let dir = fixtures();
    let columns = Columns {
        year: Some("year".into()),
        by: vec!["district".into(), "zone".into()],
        ..Columns::default()
    };
    let report = measure_files(
        &dir.join("gen.toml"),
        &dir.join("gen_households.csv"),
        &columns,
        None,
    );
    assert_eq!(report.spec, "gen-fixture");
    assert_eq!(report.spec_version, 2);
    assert!(report.provisional);
    assert_eq!(report.units_read, 1200);
    let bad = compare_results(&report, &dir.join("gen_expected.csv"), 1e-9);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
    let bad = compare_changes(&report, &dir.join("gen_changes_expected.csv"), 1e-9);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
