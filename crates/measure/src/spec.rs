//! Measurement specifications: versioned TOML data that says which indicators make up the
//! measure, how each is judged deprived, how they are weighted and at which cutoffs `k`.
//!
//! A spec is data the council can change without a new release, so it is validated as
//! strictly as user input: every refusal names the spec file and, where TOML can tell, the
//! line. Weights and cutoffs are read into exact [`Ratio`]s here, so that identification
//! never meets float noise. Columns are only checked against real data headers when the spec
//! is bound to a data set (see [`crate::data`]).

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::rational::{Ratio, RatioError};

/// At most this many indicators fit the bit-packed deprivation profile of a unit.
pub const MAX_INDICATORS: usize = 32;

/// A validated measurement specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Stable identifier recorded with every figure (`id`, or `name` when `id` is absent).
    pub id: String,
    pub name: String,
    pub version: u32,
    /// A provisional spec is a draft: figures from it must say so.
    pub provisional: bool,
    pub title_th: Option<String>,
    pub title_en: Option<String>,
    pub description: Option<String>,
    pub dimensions: Vec<Dimension>,
    /// All indicators in spec order; indicator `j` is bit `j` of a deprivation profile.
    pub indicators: Vec<Indicator>,
    /// Default cutoffs, in percent; may be empty when the caller always supplies `k`.
    pub cutoffs: Vec<Cutoff>,
    pub unit_identification: String,
    pub unit_analysis: String,
    /// Column of sample weights, if any.
    pub weight_column: Option<String>,
    /// Column giving how many persons a row stands for (household size), if any.
    pub members_column: Option<String>,
    pub missing: MissingPolicy,
    /// The name the spec was read under (a file name), used in error messages.
    pub source_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub name: String,
    pub title_th: Option<String>,
    pub title_en: Option<String>,
    /// The positions of this dimension's indicators in [`Spec::indicators`].
    pub indicators: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub name: String,
    pub dimension: usize,
    pub rule: Rule,
    /// Exact weight; the weights of a spec sum to exactly 1.
    pub weight: Ratio,
    pub title_th: Option<String>,
    pub title_en: Option<String>,
    /// Line of the spec where the indicator is declared, for error messages.
    pub line: Option<usize>,
}

/// How a unit's raw value becomes "deprived" or not.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// The column holds 1 (deprived) or 0; blank is missing; `NA` is not applicable, which
    /// counts as not deprived (OPHI's convention: no school-age child is no deprivation).
    Flag { column: String },
    /// Deprived when `column op threshold` holds for the raw numeric value.
    Compare {
        column: String,
        op: CmpOp,
        threshold: f64,
    },
}

impl Rule {
    pub fn column(&self) -> &str {
        match self {
            Rule::Flag { column } | Rule::Compare { column, .. } => column,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Flag { column } => write!(f, "{column} == 1"),
            Rule::Compare {
                column,
                op,
                threshold,
            } => write!(f, "{column} {op} {threshold}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            CmpOp::Lt => value < threshold,
            CmpOp::Le => value <= threshold,
            CmpOp::Gt => value > threshold,
            CmpOp::Ge => value >= threshold,
            CmpOp::Eq => value == threshold,
            CmpOp::Ne => value != threshold,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// What to do with units that miss a value in some indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingPolicy {
    /// Drop the unit from every measure, as OPHI does.
    CompleteCase,
}

/// A poverty cutoff `k` in percent, kept both as written and as an exact ratio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cutoff {
    /// As the user wrote it (`33`, `33.33`, `100/3`), for labels and output.
    pub label: String,
    pub percent: Ratio,
}

impl Cutoff {
    /// Parses a cutoff in percent; it must lie in (0, 100].
    pub fn parse(text: &str) -> Result<Cutoff, CutoffError> {
        let percent = Ratio::parse(text).map_err(CutoffError::Number)?;
        Cutoff::from_ratio(text.trim().to_string(), percent)
    }

    fn from_ratio(label: String, percent: Ratio) -> Result<Cutoff, CutoffError> {
        if percent.is_zero() || percent > Ratio::from_integer(100) {
            return Err(CutoffError::OutOfRange(label));
        }
        Ok(Cutoff { label, percent })
    }

    /// The cutoff as a share of 1 (k = 33 gives 33/100).
    pub fn fraction(&self) -> Ratio {
        self.percent
            .checked_div(Ratio::from_integer(100))
            .expect("dividing by 100 cannot overflow a spec-sized ratio")
    }

    /// The percent value as a float, for JSON output.
    pub fn value(&self) -> f64 {
        self.percent.to_f64()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CutoffError {
    #[error("k: {0}")]
    Number(RatioError),
    #[error("k = {0} is outside (0, 100] (k is in percent)")]
    OutOfRange(String),
}

/// Where in a spec something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source_name: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source_name)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// A refused spec: where, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {kind}")]
pub struct SpecError {
    pub at: Location,
    /// Boxed to keep `Result<_, SpecError>` small on the happy path.
    pub kind: Box<SpecErrorKind>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecErrorKind {
    #[error("{0}")]
    Toml(String),
    #[error("the spec needs an `id` or a `name`")]
    NoId,
    #[error("the spec has no [[dimension]]")]
    NoDimensions,
    #[error("dimension \"{0}\" has no indicators")]
    EmptyDimension(String),
    #[error("dimension name \"{0}\" appears twice")]
    DuplicateDimension(String),
    #[error("indicator \"{0}\" appears twice")]
    DuplicateIndicator(String),
    #[error("{0} indicators: at most {MAX_INDICATORS} are supported")]
    TooManyIndicators(usize),
    #[error("indicator entry must be a name or a table {{ name, rule, weight, title_th }}: {0}")]
    BadIndicator(String),
    #[error("rule \"{0}\" is not of the form `column < number` (operators < <= > >= == !=)")]
    BadRule(String),
    #[error("weight of {what}: {err}")]
    BadWeight { what: String, err: RatioError },
    #[error("weight of {0} is zero; every indicator needs a positive weight")]
    ZeroWeight(String),
    #[error("weights sum to {0}, not exactly 1")]
    WeightsDoNotSumToOne(Ratio),
    #[error(
        "give weights either to every indicator, or to every dimension, or to none (equal nested weights); {0}"
    )]
    MixedWeights(String),
    #[error("weights are too fine to compute with exactly (common denominator too large)")]
    WeightsTooFine,
    #[error("{0}")]
    Cutoff(CutoffError),
    #[error("k = {0} is listed twice")]
    DuplicateCutoff(String),
    #[error("version must be a positive integer")]
    BadVersion,
    #[error("missing = \"{0}\" is not supported (only \"complete-case\")")]
    BadMissing(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    id: Option<String>,
    name: Option<String>,
    version: Option<Spanned<i64>>,
    #[serde(default)]
    provisional: bool,
    title_th: Option<String>,
    title_en: Option<String>,
    description: Option<String>,
    k: Option<Spanned<toml::Value>>,
    unit_identification: Option<String>,
    unit_analysis: Option<String>,
    weight: Option<String>,
    members: Option<String>,
    missing: Option<Spanned<String>>,
    #[serde(default)]
    dimension: Vec<Spanned<RawDimension>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    name: Spanned<String>,
    title_th: Option<String>,
    title_en: Option<String>,
    weight: Option<Spanned<toml::Value>>,
    indicators: Vec<Spanned<toml::Value>>,
}

/// One indicator as read, before weights are settled.
struct Draft {
    name: String,
    rule: Rule,
    weight: Option<Ratio>,
    title_th: Option<String>,
    title_en: Option<String>,
    line: Option<usize>,
}

struct Ctx<'a> {
    text: &'a str,
    source_name: &'a str,
}

impl Ctx<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    fn at(&self, span: Option<Range<usize>>) -> Location {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = self.line_col(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Location {
            source_name: self.source_name.to_string(),
            line,
            column,
        }
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        self.line_col(span.start).0
    }

    fn err(&self, span: Option<Range<usize>>, kind: SpecErrorKind) -> SpecError {
        SpecError {
            at: self.at(span),
            kind: Box::new(kind),
        }
    }
}

fn ratio_from_value(v: &toml::Value) -> Result<Ratio, RatioError> {
    match v {
        toml::Value::Integer(i) => u64::try_from(*i)
            .map(Ratio::from_integer)
            .map_err(|_| RatioError::Negative(i.to_string())),
        toml::Value::Float(f) => Ratio::from_f64_decimal(*f),
        toml::Value::String(s) => Ratio::parse(s),
        other => Err(RatioError::NotANumber(other.to_string())),
    }
}

fn value_label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

/// Parses `column op number`, e.g. `income_per_person_year < 38000`.
pub fn parse_rule(text: &str) -> Option<Rule> {
    // Two-character operators first, so that `<=` is not read as `<`.
    const OPS: [(&str, CmpOp); 6] = [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ];
    for (sym, op) in OPS {
        if let Some((lhs, rhs)) = text.split_once(sym) {
            let column = lhs.trim();
            let rhs = rhs.trim();
            if column.is_empty() || column.contains(['<', '>', '=', '!']) {
                return None;
            }
            let threshold: f64 = rhs.parse().ok()?;
            if !threshold.is_finite() {
                return None;
            }
            return Some(Rule::Compare {
                column: column.to_string(),
                op,
                threshold,
            });
        }
    }
    None
}

impl Spec {
    /// Reads and validates a spec from TOML text; `source_name` (usually the file name) is
    /// used in every error message.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Spec, SpecError> {
        let ctx = Ctx { text, source_name };
        let raw: RawSpec = toml::from_str(text)
            .map_err(|e| ctx.err(e.span(), SpecErrorKind::Toml(e.message().to_string())))?;

        let id = raw
            .id
            .clone()
            .or_else(|| raw.name.clone())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ctx.err(None, SpecErrorKind::NoId))?;
        let name = raw.name.clone().unwrap_or_else(|| id.clone());
        let version = match &raw.version {
            None => 1,
            Some(v) => u32::try_from(*v.get_ref())
                .ok()
                .filter(|&v| v >= 1)
                .ok_or_else(|| ctx.err(Some(v.span()), SpecErrorKind::BadVersion))?,
        };
        let missing = match &raw.missing {
            None => MissingPolicy::CompleteCase,
            Some(m) if m.get_ref() == "complete-case" => MissingPolicy::CompleteCase,
            Some(m) => {
                return Err(ctx.err(
                    Some(m.span()),
                    SpecErrorKind::BadMissing(m.get_ref().clone()),
                ));
            }
        };
        let cutoffs = match &raw.k {
            None => Vec::new(),
            Some(k) => read_cutoffs(&ctx, k)?,
        };
        let (dimensions, indicators) = read_dimensions(&ctx, &raw.dimension)?;

        Ok(Spec {
            id,
            name,
            version,
            provisional: raw.provisional,
            title_th: raw.title_th,
            title_en: raw.title_en,
            description: raw.description,
            dimensions,
            indicators,
            cutoffs,
            unit_identification: raw
                .unit_identification
                .unwrap_or_else(|| "household".to_string()),
            unit_analysis: raw.unit_analysis.unwrap_or_else(|| "person".to_string()),
            weight_column: raw.weight,
            members_column: raw.members,
            missing,
            source_name: source_name.to_string(),
        })
    }

    /// The indicator weights in spec order.
    pub fn weights(&self) -> Vec<Ratio> {
        self.indicators.iter().map(|i| i.weight).collect()
    }

    /// Where an indicator is declared, for messages about it.
    pub fn indicator_location(&self, index: usize) -> Location {
        Location {
            source_name: self.source_name.clone(),
            line: self.indicators.get(index).and_then(|i| i.line),
            column: None,
        }
    }
}

fn read_cutoffs(ctx: &Ctx<'_>, k: &Spanned<toml::Value>) -> Result<Vec<Cutoff>, SpecError> {
    let span = Some(k.span());
    let items: Vec<&toml::Value> = match k.get_ref() {
        toml::Value::Array(a) => a.iter().collect(),
        single => vec![single],
    };
    let mut out: Vec<Cutoff> = Vec::new();
    for item in items {
        let label = value_label(item);
        let percent = ratio_from_value(item)
            .map_err(|e| ctx.err(span.clone(), SpecErrorKind::Cutoff(CutoffError::Number(e))))?;
        let cutoff = Cutoff::from_ratio(label, percent)
            .map_err(|e| ctx.err(span.clone(), SpecErrorKind::Cutoff(e)))?;
        if out.iter().any(|c| c.percent == cutoff.percent) {
            return Err(ctx.err(span, SpecErrorKind::DuplicateCutoff(cutoff.label)));
        }
        out.push(cutoff);
    }
    Ok(out)
}

fn read_indicator(ctx: &Ctx<'_>, entry: &Spanned<toml::Value>) -> Result<Draft, SpecError> {
    let span = entry.span();
    let line = Some(ctx.line_of(span.clone()));
    let bad = |msg: String| ctx.err(Some(span.clone()), SpecErrorKind::BadIndicator(msg));
    match entry.get_ref() {
        toml::Value::String(name) if !name.trim().is_empty() => Ok(Draft {
            name: name.trim().to_string(),
            rule: Rule::Flag {
                column: name.trim().to_string(),
            },
            weight: None,
            title_th: None,
            title_en: None,
            line,
        }),
        toml::Value::Table(t) => {
            for key in t.keys() {
                if !matches!(
                    key.as_str(),
                    "name" | "rule" | "weight" | "title_th" | "title_en"
                ) {
                    return Err(bad(format!("unknown key `{key}`")));
                }
            }
            let text_field = |key: &str| -> Result<Option<String>, SpecError> {
                match t.get(key) {
                    None => Ok(None),
                    Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(bad(format!("`{key}` must be a string"))),
                }
            };
            let name = text_field("name")?
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("missing `name`".to_string()))?;
            let rule = match text_field("rule")? {
                None => Rule::Flag {
                    column: name.clone(),
                },
                Some(r) => parse_rule(&r)
                    .ok_or_else(|| ctx.err(Some(span.clone()), SpecErrorKind::BadRule(r)))?,
            };
            let weight = match t.get("weight") {
                None => None,
                Some(v) => Some(ratio_from_value(v).map_err(|err| {
                    ctx.err(
                        Some(span.clone()),
                        SpecErrorKind::BadWeight {
                            what: format!("indicator \"{name}\""),
                            err,
                        },
                    )
                })?),
            };
            Ok(Draft {
                title_th: text_field("title_th")?,
                title_en: text_field("title_en")?,
                name,
                rule,
                weight,
                line,
            })
        }
        other => Err(bad(other.to_string())),
    }
}

fn read_dimensions(
    ctx: &Ctx<'_>,
    raw: &[Spanned<RawDimension>],
) -> Result<(Vec<Dimension>, Vec<Indicator>), SpecError> {
    if raw.is_empty() {
        return Err(ctx.err(None, SpecErrorKind::NoDimensions));
    }
    let mut seen_dims = HashSet::new();
    let mut seen_inds = HashSet::new();
    let mut drafts: Vec<(usize, Draft)> = Vec::new();
    let mut dims = Vec::new();
    let mut dim_weights: Vec<(Option<Ratio>, Range<usize>)> = Vec::new();
    for (d, dim) in raw.iter().enumerate() {
        let span = dim.span();
        let dim = dim.get_ref();
        let dname = dim.name.get_ref().trim().to_string();
        if !seen_dims.insert(dname.clone()) {
            return Err(ctx.err(
                Some(dim.name.span()),
                SpecErrorKind::DuplicateDimension(dname),
            ));
        }
        if dim.indicators.is_empty() {
            return Err(ctx.err(Some(span), SpecErrorKind::EmptyDimension(dname)));
        }
        let start = drafts.len();
        for entry in &dim.indicators {
            let draft = read_indicator(ctx, entry)?;
            if !seen_inds.insert(draft.name.clone()) {
                return Err(ctx.err(
                    Some(entry.span()),
                    SpecErrorKind::DuplicateIndicator(draft.name),
                ));
            }
            drafts.push((d, draft));
        }
        let range = start..drafts.len();
        let dweight = match &dim.weight {
            None => None,
            Some(w) => Some(ratio_from_value(w.get_ref()).map_err(|err| {
                ctx.err(
                    Some(w.span()),
                    SpecErrorKind::BadWeight {
                        what: format!("dimension \"{dname}\""),
                        err,
                    },
                )
            })?),
        };
        dim_weights.push((dweight, range.clone()));
        dims.push(Dimension {
            name: dname,
            title_th: dim.title_th.clone(),
            title_en: dim.title_en.clone(),
            indicators: range,
        });
    }
    if drafts.len() > MAX_INDICATORS {
        return Err(ctx.err(None, SpecErrorKind::TooManyIndicators(drafts.len())));
    }

    let n_ind_weights = drafts.iter().filter(|(_, d)| d.weight.is_some()).count();
    let n_dim_weights = dim_weights.iter().filter(|(w, _)| w.is_some()).count();
    let first_line = raw.first().map(|d| d.span());
    let weights: Vec<Ratio> = if n_ind_weights > 0 {
        if n_ind_weights != drafts.len() || n_dim_weights > 0 {
            let missing = drafts
                .iter()
                .find(|(_, d)| d.weight.is_none())
                .map(|(_, d)| format!("indicator \"{}\" has none", d.name))
                .unwrap_or_else(|| "dimension weights given as well".to_string());
            return Err(ctx.err(first_line, SpecErrorKind::MixedWeights(missing)));
        }
        drafts.iter().map(|(_, d)| d.weight.unwrap()).collect()
    } else if n_dim_weights > 0 {
        if n_dim_weights != dim_weights.len() {
            let which = dims
                .iter()
                .zip(&dim_weights)
                .find(|(_, (w, _))| w.is_none())
                .map(|(d, _)| format!("dimension \"{}\" has none", d.name))
                .unwrap_or_default();
            return Err(ctx.err(first_line, SpecErrorKind::MixedWeights(which)));
        }
        let mut w = Vec::new();
        for (dw, range) in &dim_weights {
            let share = dw
                .unwrap()
                .checked_div(Ratio::from_integer(range.len() as u64))
                .ok_or_else(|| ctx.err(None, SpecErrorKind::WeightsTooFine))?;
            w.extend(std::iter::repeat_n(share, range.len()));
        }
        w
    } else {
        // Nested equal weights: 1/D per dimension, split equally among its indicators.
        let n_dims = dims.len() as u128;
        let mut w = Vec::new();
        for (_, range) in &dim_weights {
            let share = Ratio::new(1, n_dims * range.len() as u128).expect("non-zero");
            w.extend(std::iter::repeat_n(share, range.len()));
        }
        w
    };

    let mut sum = Ratio::ZERO;
    for ((_, d), w) in drafts.iter().zip(&weights) {
        if w.is_zero() {
            return Err(ctx.err(
                first_line.clone(),
                SpecErrorKind::ZeroWeight(d.name.clone()),
            ));
        }
        sum = sum
            .checked_add(*w)
            .ok_or_else(|| ctx.err(None, SpecErrorKind::WeightsTooFine))?;
    }
    if sum != Ratio::ONE {
        return Err(ctx.err(first_line, SpecErrorKind::WeightsDoNotSumToOne(sum)));
    }

    let indicators = drafts
        .into_iter()
        .zip(weights)
        .map(|((dimension, d), weight)| Indicator {
            name: d.name,
            dimension,
            rule: d.rule,
            weight,
            title_th: d.title_th,
            title_en: d.title_en,
            line: d.line,
        })
        .collect();
    Ok((dims, indicators))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(text: &str, expect: &str) {
        let err = Spec::from_toml_str(text, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expect),
            "error {err:?} does not contain {expect:?}"
        );
        assert!(
            err.starts_with("bad.toml"),
            "error {err:?} must name the file"
        );
    }

    const MINIMAL: &str = r#"name = "syn"
[[dimension]]
name = "d1"
indicators = ["d_nutr", "d_cm"]
[[dimension]]
name = "d2"
indicators = ["d_satt", "d_educ"]
"#;

    #[test]
    fn minimal_spec_gets_nested_equal_weights() {
        let spec = Spec::from_toml_str(MINIMAL, "syn.toml").unwrap();
        assert_eq!(spec.id, "syn");
        assert_eq!(spec.version, 1);
        assert!(!spec.provisional);
        assert_eq!(spec.indicators.len(), 4);
        let quarter = Ratio::new(1, 4).unwrap();
        assert!(spec.weights().iter().all(|w| *w == quarter));
        assert_eq!(spec.dimensions[1].indicators, 2..4);
        assert_eq!(spec.indicators[3].line, Some(7));
        assert!(spec.cutoffs.is_empty());
        assert_eq!(spec.missing, MissingPolicy::CompleteCase);
    }

    #[test]
    fn full_spec_reads_rules_fractions_and_cutoffs() {
        let text = r#"
id = "nst"
name = "Nakhon Si Thammarat"
version = 3
provisional = true
title_th = "ความยากจนหลายมิติ"
k = [20, 33.33, "100/3"]
weight = "w"
members = "hh_size"
[[dimension]]
name = "money"
title_th = "รายได้"
indicators = [
  { name = "low_income", rule = "income_per_person_year < 38000", weight = "1/2" },
]
[[dimension]]
name = "living"
indicators = [
  { name = "water", weight = 0.25, title_th = "น้ำ" },
  { name = "house", weight = "1/4", rule = "rooms<=0" },
]
"#;
        let spec = Spec::from_toml_str(text, "nst.toml").unwrap();
        assert_eq!(spec.id, "nst");
        assert_eq!(spec.version, 3);
        assert!(spec.provisional);
        assert_eq!(spec.weight_column.as_deref(), Some("w"));
        assert_eq!(
            spec.cutoffs
                .iter()
                .map(|c| c.label.as_str())
                .collect::<Vec<_>>(),
            ["20", "33.33", "100/3"]
        );
        assert_eq!(spec.cutoffs[2].fraction(), Ratio::new(1, 3).unwrap());
        assert_eq!(
            spec.indicators[0].rule,
            Rule::Compare {
                column: "income_per_person_year".into(),
                op: CmpOp::Lt,
                threshold: 38000.0
            }
        );
        assert_eq!(spec.indicators[1].rule.column(), "water");
        assert_eq!(spec.indicators[1].title_th.as_deref(), Some("น้ำ"));
        assert_eq!(spec.indicators[2].rule.to_string(), "rooms <= 0");
    }

    #[test]
    fn dimension_weights_are_split_equally() {
        let text = r#"name = "x"
[[dimension]]
name = "a"
weight = "2/3"
indicators = ["i1", "i2"]
[[dimension]]
name = "b"
weight = "1/3"
indicators = ["i3"]
"#;
        let spec = Spec::from_toml_str(text, "x.toml").unwrap();
        assert_eq!(spec.weights()[0], Ratio::new(1, 3).unwrap());
        assert_eq!(spec.weights()[2], Ratio::new(1, 3).unwrap());
    }

    #[test]
    fn bad_specs_are_refused_with_file_and_line() {
        check_err(
            "name = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [\n  { name = \"i1\", weight = 0.5 },\n  { name = \"i2\", weight = \"1/3\" },\n]\n",
            "weights sum to 5/6, not exactly 1",
        );
        check_err(
            "name = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\", \"i2\"]\n[[dimension]]\nname = \"b\"\nindicators = [\"i1\"]\n",
            "bad.toml:7:15: indicator \"i1\" appears twice",
        );
        check_err(
            "name = \"x\"\nk = [0]\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n",
            "bad.toml:2:5: k = 0 is outside (0, 100]",
        );
        check_err(
            "name = \"x\"\nk = [101]\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n",
            "k = 101 is outside",
        );
        check_err(
            "name = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = []\n",
            "bad.toml:2:1: dimension \"a\" has no indicators",
        );
        check_err("name = \"x\"\n", "has no [[dimension]]");
        check_err(
            "name = \"x\"\nwieght = \"w\"\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\"]\n",
            "bad.toml:2:1: unknown field `wieght`",
        );
        check_err(
            "name = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [{ name = \"inc\", rule = \"income ~ 5\" }]\n",
            "rule \"income ~ 5\" is not of the form",
        );
        check_err(
            "name = \"x\"\n[[dimension]]\nname = \"a\"\nindicators = [{ name = \"i1\", weight = 1 }, \"i2\"]\n",
            "indicator \"i2\" has none",
        );
        check_err("name = \"x\"\n[[dimension]\n", "bad.toml:2:");
    }

    #[test]
    fn parse_rule_reads_all_operators() {
        for (text, op) in [
            ("a < 1", CmpOp::Lt),
            ("a<=1", CmpOp::Le),
            ("a > -1.5", CmpOp::Gt),
            ("a >= 1", CmpOp::Ge),
            ("a == 1", CmpOp::Eq),
            ("a != 1", CmpOp::Ne),
        ] {
            match parse_rule(text) {
                Some(Rule::Compare { op: got, .. }) => assert_eq!(got, op, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(parse_rule("< 1").is_none());
        assert!(parse_rule("a < b").is_none());
        assert!(parse_rule("a = 1").is_none());
    }
}
