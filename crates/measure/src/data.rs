//! Binding a spec to a table of records (already read by the caller) and turning the records
//! into a [`Snapshot`].
//!
//! This is the edge where raw cells become deprivations, so every refusal names the data
//! source, the line and the column. The crate reads no files: callers (the CLI, the web app,
//! the store) hand over the header and one record at a time with its line number.

use crate::snapshot::{BuildError, Snapshot, SnapshotBuilder};
use crate::spec::{Rule, Spec};

/// Which columns carry the round, subgroups, sample weights and household size.
/// `weight` and `members` fall back to the spec's `weight` and `members` when `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub year: Option<String>,
    pub by: Vec<String>,
    pub weight: Option<String>,
    pub members: Option<String>,
}

/// A refused data set: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("{data}: column \"{column}\", needed by {needed_by}, is not in the header")]
    UnknownColumn {
        data: String,
        column: String,
        needed_by: String,
    },
    #[error("{data}: column \"{column}\" appears more than once in the header")]
    DuplicateColumn { data: String, column: String },
    #[error("{data}:{line}: column \"{column}\": {problem}")]
    BadValue {
        data: String,
        line: u64,
        column: String,
        problem: String,
    },
    #[error("{data}:{line}: {got} fields where the header has {want}")]
    FieldCount {
        data: String,
        line: u64,
        got: usize,
        want: usize,
    },
    #[error("{data}:{line}: {source}")]
    Build {
        data: String,
        line: u64,
        source: BuildError,
    },
}

enum Judge {
    Flag,
    Compare(crate::spec::CmpOp, f64),
}

/// A spec bound to one data set's header, ready to take records.
pub struct Loader {
    data: String,
    width: usize,
    indicators: Vec<(usize, Judge)>,
    year: Option<usize>,
    by: Vec<usize>,
    weight: Option<usize>,
    members: Option<usize>,
    names: Vec<String>,
    builder: SnapshotBuilder,
}

/// What a cell says about deprivation.
enum Cell {
    Deprived,
    NotDeprived,
    Missing,
}

/// Shortened so that a stray personal datum is not echoed at length into logs.
fn show(value: &str) -> String {
    let v: String = value.chars().take(24).collect();
    if v.len() < value.len() {
        format!("\"{v}…\"")
    } else {
        format!("\"{v}\"")
    }
}

fn is_na(v: &str) -> bool {
    v.eq_ignore_ascii_case("na") || v.eq_ignore_ascii_case("n/a")
}

impl Loader {
    /// Checks that every column the spec and `columns` name is in `header`.
    /// `data_name` (a file name) is used in every error.
    pub fn new(
        spec: &Spec,
        columns: &Columns,
        header: &[&str],
        data_name: &str,
    ) -> Result<Loader, DataError> {
        let find = |column: &str, needed_by: String| -> Result<usize, DataError> {
            let mut hits = header
                .iter()
                .enumerate()
                .filter(|(_, h)| h.trim() == column);
            match (hits.next(), hits.next()) {
                (Some((i, _)), None) => Ok(i),
                (Some(_), Some(_)) => Err(DataError::DuplicateColumn {
                    data: data_name.to_string(),
                    column: column.to_string(),
                }),
                (None, _) => Err(DataError::UnknownColumn {
                    data: data_name.to_string(),
                    column: column.to_string(),
                    needed_by,
                }),
            }
        };
        let mut indicators = Vec::with_capacity(spec.indicators.len());
        for (j, ind) in spec.indicators.iter().enumerate() {
            let needed_by = format!(
                "indicator \"{}\" ({})",
                ind.name,
                spec.indicator_location(j)
            );
            let col = find(ind.rule.column(), needed_by)?;
            let judge = match &ind.rule {
                Rule::Flag { .. } => Judge::Flag,
                Rule::Compare { op, threshold, .. } => Judge::Compare(*op, *threshold),
            };
            indicators.push((col, judge));
        }
        let year = columns
            .year
            .as_deref()
            .map(|c| find(c, "the year option".to_string()))
            .transpose()?;
        let by = columns
            .by
            .iter()
            .map(|c| find(c, "the subgroup (by) option".to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let weight_name = columns.weight.as_deref().or(spec.weight_column.as_deref());
        let weight = weight_name
            .map(|c| find(c, "the sample weight".to_string()))
            .transpose()?;
        let members_name = columns
            .members
            .as_deref()
            .or(spec.members_column.as_deref());
        let members = members_name
            .map(|c| find(c, "the household size (members)".to_string()))
            .transpose()?;
        let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        Ok(Loader {
            data: data_name.to_string(),
            width: header.len(),
            indicators,
            year,
            by: by.clone(),
            weight,
            members,
            builder: SnapshotBuilder::new(
                spec.indicators.iter().map(|i| i.name.clone()).collect(),
                by.iter().map(|&i| names[i].clone()).collect(),
                year.is_some(),
            ),
            names,
        })
    }

    fn bad(&self, line: u64, col: usize, problem: String) -> DataError {
        DataError::BadValue {
            data: self.data.clone(),
            line,
            column: self.names[col].clone(),
            problem,
        }
    }

    fn number(&self, line: u64, col: usize, raw: &str, what: &str) -> Result<f64, DataError> {
        let v = raw.trim();
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ if v.is_empty() => Err(self.bad(line, col, format!("{what} is blank"))),
            _ => Err(self.bad(line, col, format!("{} is not a number ({what})", show(v)))),
        }
    }

    fn judge(&self, line: u64, col: usize, judge: &Judge, raw: &str) -> Result<Cell, DataError> {
        let v = raw.trim();
        match (judge, v) {
            (_, "") => Ok(Cell::Missing),
            (Judge::Flag, "1") => Ok(Cell::Deprived),
            (Judge::Flag, "0") => Ok(Cell::NotDeprived),
            (_, v) if is_na(v) => Ok(Cell::NotDeprived),
            (Judge::Flag, v) => match v.parse::<f64>() {
                Ok(1.0) => Ok(Cell::Deprived),
                Ok(0.0) => Ok(Cell::NotDeprived),
                _ => Err(self.bad(
                    line,
                    col,
                    format!(
                        "{} is not 0 or 1 (1 = deprived; blank = missing; NA = not applicable)",
                        show(v)
                    ),
                )),
            },
            (Judge::Compare(op, threshold), v) => {
                let x = self.number(line, col, v, "the indicator's rule needs a number")?;
                Ok(if op.holds(x, *threshold) {
                    Cell::Deprived
                } else {
                    Cell::NotDeprived
                })
            }
        }
    }

    /// Adds one record; `line` is its line in the source, for messages.
    pub fn push(&mut self, line: u64, fields: &[&str]) -> Result<(), DataError> {
        if fields.len() != self.width {
            return Err(DataError::FieldCount {
                data: self.data.clone(),
                line,
                got: fields.len(),
                want: self.width,
            });
        }
        let year = match self.year {
            None => None,
            Some(c) => Some((
                self.number(line, c, fields[c], "the year")?,
                fields[c].trim(),
            )),
        };
        let mut bits = 0u32;
        let mut missing = false;
        for (j, (col, judge)) in self.indicators.iter().enumerate() {
            match self.judge(line, *col, judge, fields[*col])? {
                Cell::Deprived => bits |= 1 << j,
                Cell::NotDeprived => {}
                Cell::Missing => missing = true,
            }
        }
        let mut weight = 1.0;
        if let Some(c) = self.weight {
            weight = self.number(line, c, fields[c], "the sample weight")?;
        }
        if let Some(c) = self.members {
            weight *= self.number(line, c, fields[c], "the household size")?;
        }
        if weight < 0.0 {
            let c = self.weight.or(self.members).unwrap_or(0);
            return Err(self.bad(line, c, "weights cannot be negative".to_string()));
        }
        let build = |source| DataError::Build {
            data: self.data.clone(),
            line,
            source,
        };
        if missing {
            return self.builder.push_dropped(year).map_err(build);
        }
        let groups: Vec<&str> = self.by.iter().map(|&c| fields[c].trim()).collect();
        self.builder
            .push(bits, weight, year, &groups)
            .map_err(build)
    }

    pub fn finish(self) -> Snapshot {
        self.builder.build()
    }
}

/// Binds `spec` to `header` and loads all `records` (line number and fields).
pub fn load<'a, I>(
    spec: &Spec,
    columns: &Columns,
    header: &[&str],
    data_name: &str,
    records: I,
) -> Result<Snapshot, DataError>
where
    I: IntoIterator<Item = (u64, Vec<&'a str>)>,
{
    let mut loader = Loader::new(spec, columns, header, data_name)?;
    for (line, fields) in records {
        loader.push(line, &fields)?;
    }
    Ok(loader.finish())
}
