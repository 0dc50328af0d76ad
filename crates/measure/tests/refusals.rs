//! Bad specs and bad data are refused with a message naming the file, line and column.

use halve_measure::{Columns, DataError, Loader, Spec, load};

const SPEC: &str = r#"id = "r"
k = [33]
[[dimension]]
name = "d1"
indicators = ["a", { name = "inc", rule = "income < 38000" }]
[[dimension]]
name = "d2"
indicators = ["c"]
"#;

fn spec() -> Spec {
    Spec::from_toml_str(SPEC, "r.toml").unwrap()
}

/// Loads `rows` (each with its line number) under the header and returns the error text.
fn data_error(columns: &Columns, header: &[&str], rows: &[(u64, &[&str])]) -> String {
    let records = rows.iter().map(|(l, f)| (*l, f.to_vec()));
    load(&spec(), columns, header, "survey.csv", records)
        .unwrap_err()
        .to_string()
}

fn check(got: String, want: &str) {
    assert!(got.contains(want), "{got:?} should contain {want:?}");
}

#[test]
fn non_binary_flag_names_file_line_and_column() {
    let got = data_error(
        &Columns::default(),
        &["a", "income", "c"],
        &[(2, &["1", "5000", "0"]), (3, &["2", "5000", "0"])],
    );
    assert_eq!(
        got,
        "survey.csv:3: column \"a\": \"2\" is not 0 or 1 (1 = deprived; blank = missing; NA = not applicable)"
    );
}

#[test]
fn unparseable_numbers_are_refused() {
    check(
        data_error(
            &Columns::default(),
            &["a", "income", "c"],
            &[(7, &["1", "12k", "0"])],
        ),
        "survey.csv:7: column \"income\": \"12k\" is not a number",
    );
    let weighted = Columns {
        weight: Some("w".into()),
        year: Some("year".into()),
        ..Columns::default()
    };
    check(
        data_error(
            &weighted,
            &["a", "income", "c", "w", "year"],
            &[(4, &["1", "1", "0", "", "2566"])],
        ),
        "survey.csv:4: column \"w\": the sample weight is blank",
    );
    check(
        data_error(
            &weighted,
            &["a", "income", "c", "w", "year"],
            &[(5, &["1", "1", "0", "1", "two"])],
        ),
        "survey.csv:5: column \"year\": \"two\" is not a number",
    );
    check(
        data_error(
            &weighted,
            &["a", "income", "c", "w", "year"],
            &[(6, &["1", "1", "0", "-2", "2566"])],
        ),
        "survey.csv:6: column \"w\": weights cannot be negative",
    );
    check(
        data_error(
            &Columns::default(),
            &["a", "income", "c"],
            &[(9, &["1", "1"])],
        ),
        "survey.csv:9: 2 fields where the header has 3",
    );
}

#[test]
fn unknown_columns_name_the_spec_line() {
    let err = Loader::new(&spec(), &Columns::default(), &["a", "c"], "survey.csv")
        .err()
        .unwrap();
    assert!(matches!(err, DataError::UnknownColumn { .. }));
    assert_eq!(
        err.to_string(),
        "survey.csv: column \"income\", needed by indicator \"inc\" (r.toml:5), is not in the header"
    );
    let by = Columns {
        by: vec!["district".into()],
        ..Columns::default()
    };
    check(
        Loader::new(&spec(), &by, &["a", "income", "c"], "survey.csv")
            .err()
            .unwrap()
            .to_string(),
        "column \"district\", needed by the subgroup (by) option",
    );
    check(
        Loader::new(
            &spec(),
            &Columns::default(),
            &["a", "income", "c", "a"],
            "survey.csv",
        )
        .err()
        .unwrap()
        .to_string(),
        "column \"a\" appears more than once",
    );
}

#[test]
fn blanks_are_dropped_and_na_is_not_deprived() {
    let snap = load(
        &spec(),
        &Columns::default(),
        &["a", "income", "c"],
        "survey.csv",
        [
            (2, vec!["1", "", "0"]),
            (3, vec!["NA", "100", "0.0"]),
            (4, vec!["", "100", "1"]),
            (5, vec!["1.0", "NA", "1"]),
        ],
    )
    .unwrap();
    assert_eq!(snap.rows_read(), 4);
    assert_eq!(snap.rows_dropped(), 2);
    // Row 3: a = NA (0), inc deprived, c = 0; row 5: a = 1, inc NA (0), c = 1.
    let mut bits = snap.bits().to_vec();
    bits.sort();
    assert_eq!(bits, [0b010, 0b101]);
}

#[test]
fn bad_specs_name_the_file_and_line() {
    let cases: [(&str, &str); 5] = [
        (
            "id = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [\n  { name = \"i1\", weight = \"1/2\" },\n  { name = \"i2\", weight = \"1/3\" },\n]\n",
            "x.toml:2:1: weights sum to 5/6, not exactly 1",
        ),
        (
            "id = \"x\"\nk = [20, 150]\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n",
            "x.toml:2:5: k = 150 is outside (0, 100]",
        ),
        (
            "id = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n[[dimension]]\nname = \"b\"\nindicators = [\"i2\", \"i1\"]\n",
            "x.toml:7:21: indicator \"i1\" appears twice",
        ),
        (
            "id = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n[[dimension]]\nname = \"b\"\nindicators = []\n",
            "x.toml:5:1: dimension \"b\" has no indicators",
        ),
        ("id = \"x\"\nk = [20\n", "x.toml:2:"),
    ];
    for (text, want) in cases {
        let got = Spec::from_toml_str(text, "x.toml").unwrap_err().to_string();
        assert!(got.starts_with(want), "{got:?} should start with {want:?}");
    }
}
