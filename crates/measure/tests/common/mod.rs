//! Helpers shared by the integration tests: load a CSV file through the crate's API (as the
//! CLI does) and compare a report with an expected long-format CSV.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use halve_measure::{Columns, Loader, Report, Spec, parse_cutoffs, run};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `HALVE_VALIDATION_DIR`, else `../shared/validation` beside the repository, if present.
pub fn validation_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HALVE_VALIDATION_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/validation"));
    dir.is_dir().then_some(dir)
}

pub fn read_csv(path: &Path) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while rdr.read_record(&mut record).unwrap() {
        let line = record.position().map_or(0, |p| p.line());
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    (header, rows)
}

/// Runs the whole pipeline on files, as `halve measure` does.
pub fn measure_files(spec: &Path, data: &Path, columns: &Columns, ks: Option<&str>) -> Report {
    let text = std::fs::read_to_string(spec).unwrap();
    let spec = Spec::from_toml_str(&text, &spec.display().to_string()).unwrap();
    let (header, rows) = read_csv(data);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut loader = Loader::new(&spec, columns, &header, &data.display().to_string()).unwrap();
    for (line, fields) in &rows {
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        loader.push(*line, &fields).unwrap();
    }
    let snapshot = loader.finish();
    let ks = ks.map(|k| parse_cutoffs(k).unwrap());
    run(&spec, &snapshot, ks).unwrap().report
}

fn num_key(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let x: f64 = s.parse().unwrap_or_else(|_| panic!("not a number: {s}"));
    format!("{x}")
}

/// Compares every row of an expected `measure,k,year,by,group,indicator,value` file; returns
/// the mismatches (empty when all agree within `tol`).
pub fn compare_results(report: &Report, expected: &Path, tol: f64) -> Vec<String> {
    let mut got = HashMap::new();
    for r in &report.results {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            r.measure,
            r.k,
            r.year.map(|y| format!("{y}")).unwrap_or_default(),
            r.by.as_deref().unwrap_or(""),
            r.group.as_deref().unwrap_or(""),
            r.indicator.as_deref().unwrap_or("")
        );
        got.insert(key, r.value);
    }
    let (header, rows) = read_csv(expected);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (m, k, y, b, g, i, v) = (
        col("measure"),
        col("k"),
        col("year"),
        col("by"),
        col("group"),
        col("indicator"),
        col("value"),
    );
    let mut bad = Vec::new();
    assert!(!rows.is_empty(), "{} has no rows", expected.display());
    for (line, row) in &rows {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            row[m],
            num_key(&row[k]),
            num_key(&row[y]),
            row[b],
            row[g],
            row[i]
        );
        let want: f64 = row[v].parse().unwrap();
        match got.get(&key) {
            None => bad.push(format!("line {line}: {key}: no such result")),
            Some(x) if (x - want).abs() > tol || x.is_nan() => {
                bad.push(format!("line {line}: {key}: got {x}, want {want}"))
            }
            Some(_) => {}
        }
    }
    bad
}

/// Compares an expected `measure,k,from,to,kind,annualised,value` file.
pub fn compare_changes(report: &Report, expected: &Path, tol: f64) -> Vec<String> {
    let mut got = HashMap::new();
    for c in &report.changes {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            c.measure, c.k, c.from, c.to, c.kind, c.annualised
        );
        got.insert(key, c.value);
    }
    let (header, rows) = read_csv(expected);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut bad = Vec::new();
    assert!(!rows.is_empty(), "{} has no rows", expected.display());
    for (line, row) in &rows {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            row[col("measure")],
            num_key(&row[col("k")]),
            num_key(&row[col("from")]),
            num_key(&row[col("to")]),
            row[col("kind")],
            row[col("annualised")]
        );
        let want: f64 = row[col("value")].parse().unwrap();
        match got.get(&key) {
            None => bad.push(format!("line {line}: {key}: no such change")),
            Some(x) if (x - want).abs() > tol || x.is_nan() => {
                bad.push(format!("line {line}: {key}: got {x}, want {want}"))
            }
            Some(_) => {}
        }
    }
    bad
}
