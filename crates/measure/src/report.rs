//! Estimates as flat records and as text: JSON for programs, CSV for spreadsheets and the
//! reference comparison, aligned tables (Thai or English) for people.
//!
//! Every output names the spec id and version that produced it, because figures are only
//! comparable under the same spec. Records are long-format (`measure, k, year, by, group,
//! indicator, value`), the shape of OPHI's result frames, so that one schema carries national,
//! subgroup and indicator figures alike.

use std::io::{self, Write};

use serde::Serialize;

use crate::change::{Change, changes};
use crate::engine::Estimates;
use crate::snapshot::Snapshot;
use crate::spec::Spec;

/// One figure. `measure` is one of `H`, `A`, `M0`, `n` (weighted population), `q`
/// (weighted poor), `n_units`, `q_units` (unweighted units of identification), per indicator
/// `hd`, `hdk`, `actb`, `pctb`, and per dimension `actb_dim`, `pctb_dim` (the dimension's
/// name in `indicator`). `pctb` is a share of 1, like OPHI's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRecord {
    pub measure: &'static str,
    /// The cutoff in percent.
    #[serde(serialize_with = "as_given")]
    pub k: f64,
    #[serde(skip)]
    pub k_label: String,
    pub year: Option<f64>,
    #[serde(skip)]
    pub year_label: Option<String>,
    pub by: Option<String>,
    pub group: Option<String>,
    pub indicator: Option<String>,
    /// `null` in JSON when undefined (e.g. a relative change from zero).
    pub value: f64,
}

/// One change of a whole-population figure between two rounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRecord {
    pub measure: &'static str,
    #[serde(serialize_with = "as_given")]
    pub k: f64,
    #[serde(skip)]
    pub k_label: String,
    pub from: f64,
    pub to: f64,
    #[serde(skip)]
    pub from_label: String,
    #[serde(skip)]
    pub to_label: String,
    /// `abs`, or `rel` (in percent).
    pub kind: &'static str,
    pub annualised: bool,
    pub value: f64,
}

/// Everything one `measure` run prints, with the spec that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub spec: String,
    pub spec_version: u32,
    pub provisional: bool,
    pub units_read: usize,
    pub units_dropped_incomplete: usize,
    pub results: Vec<ResultRecord>,
    pub changes: Vec<ChangeRecord>,
}

/// Flattens estimates into records: per round, per cutoff, the whole population then each
/// subgroup.
pub fn result_records(est: &Estimates) -> Vec<ResultRecord> {
    let mut out = Vec::new();
    let names = &est.method.indicators;
    for g in &est.groups {
        let (year, year_label) = match g.year {
            Some(y) => (Some(est.years[y].value), Some(est.years[y].label.clone())),
            None => (None, None),
        };
        let (by, group) = match (g.by, g.group) {
            (Some(c), Some(v)) => (
                Some(est.by[c].name.clone()),
                Some(est.by[c].values[v].clone()),
            ),
            _ => (None, None),
        };
        for (ci, cutoff) in est.cutoffs().iter().enumerate() {
            let at = &g.at[ci];
            let mut push = |measure: &'static str, indicator: Option<&str>, value: f64| {
                out.push(ResultRecord {
                    measure,
                    k: cutoff.value(),
                    k_label: cutoff.label.clone(),
                    year,
                    year_label: year_label.clone(),
                    by: by.clone(),
                    group: group.clone(),
                    indicator: indicator.map(str::to_string),
                    value,
                })
            };
            push("H", None, at.h);
            push("A", None, at.a);
            push("M0", None, at.m0);
            push("n", None, g.n);
            push("q", None, at.q);
            push("n_units", None, g.n_units as f64);
            push("q_units", None, at.q_units as f64);
            for (j, name) in names.iter().enumerate() {
                push("hd", Some(name), g.hd[j]);
                push("hdk", Some(name), at.hdk()[j]);
                push("actb", Some(name), at.actb()[j]);
                push("pctb", Some(name), at.pctb()[j]);
            }
            for (d, (name, _)) in est.method.dimensions.iter().enumerate() {
                push("actb_dim", Some(name), at.dim_actb()[d]);
                push("pctb_dim", Some(name), at.dim_pctb()[d]);
            }
        }
    }
    out
}

pub fn change_records(est: &Estimates, list: &[Change]) -> Vec<ChangeRecord> {
    list.iter()
        .map(|c| {
            let cutoff = &est.cutoffs()[c.cutoff];
            ChangeRecord {
                measure: c.measure,
                k: cutoff.value(),
                k_label: cutoff.label.clone(),
                from: est.years[c.from].value,
                to: est.years[c.to].value,
                from_label: est.years[c.from].label.clone(),
                to_label: est.years[c.to].label.clone(),
                kind: c.kind.as_str(),
                annualised: c.annualised,
                value: c.value,
            }
        })
        .collect()
}

impl Report {
    pub fn new(spec: &Spec, snapshot: &Snapshot, est: &Estimates) -> Report {
        Report {
            spec: spec.id.clone(),
            spec_version: spec.version,
            provisional: spec.provisional,
            units_read: snapshot.rows_read(),
            units_dropped_incomplete: snapshot.rows_dropped(),
            results: result_records(est),
            changes: change_records(est, &changes(est)),
        }
    }

    /// One JSON object: spec, counts, `results` and `changes`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("records always serialise")
    }

    /// Results in the reference layout (`measure,k,year,by,group,indicator,value`), then
    /// `spec,spec_version` columns.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "measure,k,year,by,group,indicator,value,spec,spec_version"
        )?;
        let spec = csv_field(&self.spec);
        for r in &self.results {
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                r.measure,
                csv_field(&r.k_label),
                csv_field(r.year_label.as_deref().unwrap_or("")),
                csv_field(r.by.as_deref().unwrap_or("")),
                csv_field(r.group.as_deref().unwrap_or("")),
                csv_field(r.indicator.as_deref().unwrap_or("")),
                number(r.value),
                spec,
                self.spec_version
            )?;
        }
        Ok(())
    }

    /// Changes in the reference layout (`measure,k,from,to,kind,annualised,value`), then
    /// `spec,spec_version`.
    pub fn write_changes_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "measure,k,from,to,kind,annualised,value,spec,spec_version"
        )?;
        for c in &self.changes {
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                c.measure,
                csv_field(&c.k_label),
                csv_field(&c.from_label),
                csv_field(&c.to_label),
                c.kind,
                c.annualised,
                number(c.value),
                csv_field(&self.spec),
                self.spec_version
            )?;
        }
        Ok(())
    }
}

/// Cutoffs print as written: `20`, not `20.0`.
fn as_given<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        s.serialize_i64(*x as i64)
    } else {
        s.serialize_f64(*x)
    }
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Language of people-facing tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Th,
    En,
}

struct Labels {
    spec: &'static str,
    version: &'static str,
    provisional: &'static str,
    read: &'static str,
    dropped: &'static str,
    year: &'static str,
    group: &'static str,
    everyone: &'static str,
    indicator: &'static str,
    dimension: &'static str,
    weight: &'static str,
    changes: &'static str,
    per_year: &'static str,
    units: &'static str,
    poor_units: &'static str,
}

const TH: Labels = Labels {
    spec: "ข้อกำหนด",
    version: "รุ่น",
    provisional: "ฉบับร่าง",
    read: "หน่วยที่อ่าน",
    dropped: "ตัดออกเพราะข้อมูลไม่ครบ",
    year: "ปี",
    group: "กลุ่ม",
    everyone: "ทั้งหมด",
    indicator: "ตัวชี้วัด",
    dimension: "มิติ",
    weight: "น้ำหนัก",
    changes: "การเปลี่ยนแปลง (ทั้งหมด)",
    per_year: "ต่อปี",
    units: "หน่วย",
    poor_units: "หน่วยจน",
};

const EN: Labels = Labels {
    spec: "Spec",
    version: "version",
    provisional: "provisional",
    read: "units read",
    dropped: "dropped as incomplete",
    year: "Year",
    group: "Group",
    everyone: "everyone",
    indicator: "Indicator",
    dimension: "Dimension",
    weight: "weight",
    changes: "Changes (everyone)",
    per_year: "per year",
    units: "units",
    poor_units: "poor units",
};

/// Display width in a terminal: Thai vowel and tone marks above or below a consonant take no
/// column of their own.
fn width(s: &str) -> usize {
    s.chars()
        .filter(|&c| {
            !matches!(c, '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}')
                && !('\u{0300}'..='\u{036F}').contains(&c)
        })
        .count()
}

/// Writes rows as aligned columns: the first left-aligned, the rest right-aligned.
pub(crate) fn write_rows(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - width(cell);
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", x * 100.0)
    } else {
        "–".to_string()
    }
}

fn dec(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".to_string()
    }
}

fn count(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// An aligned table for people: per round and cutoff, H, A, M0 and counts by group, then the
/// indicators and dimensions of the whole population, then changes.
pub fn write_table(
    spec: &Spec,
    report: &Report,
    est: &Estimates,
    lang: Lang,
    out: &mut dyn Write,
) -> io::Result<()> {
    let l = match lang {
        Lang::Th => &TH,
        Lang::En => &EN,
    };
    let title = match lang {
        Lang::Th => spec.title_th.as_deref().or(spec.title_en.as_deref()),
        Lang::En => spec.title_en.as_deref().or(spec.title_th.as_deref()),
    }
    .unwrap_or(&spec.name);
    write!(
        out,
        "{} {} ({} {})",
        l.spec, spec.id, l.version, spec.version
    )?;
    if spec.provisional {
        write!(out, " [{}]", l.provisional)?;
    }
    writeln!(out, ": {title}")?;
    writeln!(
        out,
        "{}: {}; {}: {}",
        l.read, report.units_read, l.dropped, report.units_dropped_incomplete
    )?;
    let ind_title = |j: usize| -> String {
        let i = &spec.indicators[j];
        match lang {
            Lang::Th => i.title_th.clone().or(i.title_en.clone()),
            Lang::En => i.title_en.clone().or(i.title_th.clone()),
        }
        .map_or_else(|| i.name.clone(), |t| format!("{t} ({})", i.name))
    };
    let dim_title = |d: usize| -> String {
        let dim = &spec.dimensions[d];
        match lang {
            Lang::Th => dim.title_th.clone().or(dim.title_en.clone()),
            Lang::En => dim.title_en.clone().or(dim.title_th.clone()),
        }
        .unwrap_or_else(|| dim.name.clone())
    };
    let weights = est.weights_f64();
    let n_years = est.years.len().max(1);
    for y in 0..n_years {
        let year = (!est.years.is_empty()).then_some(y);
        for (ci, cutoff) in est.cutoffs().iter().enumerate() {
            writeln!(out)?;
            match year {
                Some(y) => writeln!(
                    out,
                    "{} {} · k = {}%",
                    l.year, est.years[y].label, cutoff.label
                )?,
                None => writeln!(out, "k = {}%", cutoff.label)?,
            }
            let mut rows = vec![vec![
                l.group.to_string(),
                "H".into(),
                "A".into(),
                "M0".into(),
                "n".into(),
                "q".into(),
                l.units.into(),
                l.poor_units.into(),
            ]];
            for g in est.groups.iter().filter(|g| g.year == year) {
                let name = match (g.by, g.group) {
                    (Some(c), Some(v)) => format!("{} = {}", est.by[c].name, est.by[c].values[v]),
                    _ => l.everyone.to_string(),
                };
                let at = &g.at[ci];
                rows.push(vec![
                    name,
                    pct(at.h),
                    pct(at.a),
                    dec(at.m0),
                    count(g.n),
                    count(at.q),
                    g.n_units.to_string(),
                    at.q_units.to_string(),
                ]);
            }
            write_rows(out, &rows)?;
            if let Some(g) = est.find(year, None) {
                let at = &g.at[ci];
                writeln!(out)?;
                let mut rows = vec![vec![
                    l.indicator.to_string(),
                    l.weight.into(),
                    "hd".into(),
                    "hdk".into(),
                    "actb".into(),
                    "pctb".into(),
                ]];
                for (j, w) in weights.iter().enumerate() {
                    rows.push(vec![
                        ind_title(j),
                        dec(*w),
                        pct(g.hd[j]),
                        pct(at.hdk()[j]),
                        dec(at.actb()[j]),
                        pct(at.pctb()[j]),
                    ]);
                }
                for d in 0..spec.dimensions.len() {
                    rows.push(vec![
                        format!("{}: {}", l.dimension, dim_title(d)),
                        String::new(),
                        String::new(),
                        String::new(),
                        dec(at.dim_actb()[d]),
                        pct(at.dim_pctb()[d]),
                    ]);
                }
                write_rows(out, &rows)?;
            }
        }
    }
    if !report.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", l.changes)?;
        let mut rows = vec![vec![
            "k".to_string(),
            l.year.to_string(),
            String::new(),
            "abs".into(),
            format!("abs {}", l.per_year),
            "rel %".into(),
            format!("rel % {}", l.per_year),
        ]];
        let mut i = 0;
        let list = &report.changes;
        while i < list.len() {
            // Records come in blocks; gather the four kinds of one measure, cutoff and pair.
            let c = &list[i];
            let find = |kind: &str, ann: bool| {
                list.iter()
                    .find(|d| {
                        d.measure == c.measure
                            && d.k_label == c.k_label
                            && d.from_label == c.from_label
                            && d.to_label == c.to_label
                            && d.kind == kind
                            && d.annualised == ann
                    })
                    .map(|d| d.value)
            };
            if c.kind == "abs" && !c.annualised {
                let f = |v: Option<f64>, p: usize| {
                    v.filter(|x| x.is_finite())
                        .map_or("–".to_string(), |x| format!("{x:.p$}"))
                };
                rows.push(vec![
                    c.k_label.clone(),
                    format!("{} → {}", c.from_label, c.to_label),
                    c.measure.to_string(),
                    f(find("abs", false), 4),
                    f(find("abs", true), 4),
                    f(find("rel", false), 2),
                    f(find("rel", true), 2),
                ]);
            }
            i += 1;
        }
        write_rows(out, &rows)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_marks_take_no_width() {
        assert_eq!(width("ทั้งหมด"), 5);
        assert_eq!(width("abc"), 3);
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
