//! Targets: the council's promise ("more than half fewer vulnerable and low-income people by
//! 2571 than in 2566") as versioned data that every progress figure is computed under.
//!
//! A [`Target`] says who counts (a small boolean rule over the terms `low_income`,
//! `vulnerable` and `poor`, with the income lines per year and the vulnerability flags held as
//! data), from which baseline year, over how many years, by how much (an exact fraction), by
//! which path the milestones fall (geometric or linear), when a household that left the target
//! population counts as graduated, and how close to the target a projection must come to be
//! "at risk" rather than "off track". It is read from TOML like a measurement spec, validated
//! as strictly, and every refusal names the file and, where TOML can tell, the line. A changed
//! definition is a new version: figures are only comparable under one stated definition.
//!
//! This module knows nothing of the registry: vulnerability flags are kept as their codes and
//! checked by the caller that binds the target to data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::rational::Ratio;
use crate::spec::{Cutoff, Location};

/// The three facts a target population rule is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// The household's income per person per year is below the year's line.
    LowIncome,
    /// The person holds one of the target's vulnerability flags on the round's date.
    Vulnerable,
    /// The household is multidimensionally poor under the target's spec at its cutoff.
    Poor,
}

impl Term {
    pub const ALL: [Term; 3] = [Term::LowIncome, Term::Vulnerable, Term::Poor];

    pub fn name(self) -> &'static str {
        match self {
            Term::LowIncome => "low_income",
            Term::Vulnerable => "vulnerable",
            Term::Poor => "poor",
        }
    }
}

/// A target population rule: `low_income or (vulnerable and poor)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Term(Term),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

impl Rule {
    /// Parses a rule: the terms `low_income`, `vulnerable`, `poor`; `not`, `and`, `or` (in
    /// that order of precedence) and parentheses. The error says what was expected where.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let tokens = tokenize(text)?;
        let mut p = RuleParser { tokens, at: 0 };
        let rule = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(rule),
            Some((tok, pos)) => Err(format!("unexpected `{tok}` at character {}", pos + 1)),
        }
    }

    /// Evaluates the rule in three-valued (Kleene) logic: `None` is "not known" (a value
    /// missing from the assessment). `false and unknown` is `false`, `true or unknown` is
    /// `true`, so a household known to be low-income counts even when its deprivations are
    /// incomplete.
    pub fn eval(&self, term: &impl Fn(Term) -> Option<bool>) -> Option<bool> {
        match self {
            Rule::Term(t) => term(*t),
            Rule::Not(r) => r.eval(term).map(|b| !b),
            Rule::And(a, b) => match (a.eval(term), b.eval(term)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Rule::Or(a, b) => match (a.eval(term), b.eval(term)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        }
    }

    /// The terms the rule reads.
    pub fn terms(&self) -> BTreeSet<Term> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<Term>) {
        match self {
            Rule::Term(t) => {
                out.insert(*t);
            }
            Rule::Not(r) => r.collect(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A binary rule inside another of a different kind is always parenthesised, even
        // where precedence would not need it: people read `a or (b and c)` right away.
        fn go(r: &Rule, parent: Option<bool>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let is_and = match r {
                Rule::And(..) => Some(true),
                Rule::Or(..) => Some(false),
                _ => None,
            };
            let open = matches!((parent, is_and), (Some(p), Some(me)) if p != me);
            if open {
                f.write_str("(")?;
            }
            match r {
                Rule::Term(t) => f.write_str(t.name())?,
                Rule::Not(x) => {
                    f.write_str("not ")?;
                    // `not` binds tightest: anything binary under it needs parentheses.
                    if matches!(**x, Rule::And(..) | Rule::Or(..)) {
                        f.write_str("(")?;
                        go(x, None, f)?;
                        f.write_str(")")?;
                    } else {
                        go(x, None, f)?;
                    }
                }
                Rule::And(a, b) | Rule::Or(a, b) => {
                    go(a, is_and, f)?;
                    f.write_str(if is_and == Some(true) {
                        " and "
                    } else {
                        " or "
                    })?;
                    go(b, is_and, f)?;
                }
            }
            if open {
                f.write_str(")")?;
            }
            Ok(())
        }
        go(self, None, f)
    }
}

fn tokenize(text: &str) -> Result<Vec<(String, usize)>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push((c.to_string(), i));
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), start));
        } else {
            return Err(format!("unexpected `{c}` at character {}", i + 1));
        }
    }
    Ok(out)
}

struct RuleParser {
    tokens: Vec<(String, usize)>,
    at: usize,
}

impl RuleParser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(|(t, _)| t.as_str())
    }

    fn or(&mut self) -> Result<Rule, String> {
        let mut left = self.and()?;
        while self.peek() == Some("or") {
            self.at += 1;
            left = Rule::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Rule, String> {
        let mut left = self.unary()?;
        while self.peek() == Some("and") {
            self.at += 1;
            left = Rule::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Rule, String> {
        let Some((tok, pos)) = self.tokens.get(self.at).cloned() else {
            return Err("the rule ends where a term was expected".into());
        };
        self.at += 1;
        match tok.as_str() {
            "not" => Ok(Rule::Not(Box::new(self.unary()?))),
            "(" => {
                let inner = self.or()?;
                if self.peek() != Some(")") {
                    return Err(format!("`(` at character {} is not closed", pos + 1));
                }
                self.at += 1;
                Ok(inner)
            }
            name => Term::ALL
                .into_iter()
                .find(|t| t.name() == name)
                .map(Rule::Term)
                .ok_or_else(|| {
                    format!(
                        "`{name}` at character {} is not a term (low_income, vulnerable, poor)",
                        pos + 1
                    )
                }),
        }
    }
}

/// How milestones fall from the baseline to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The same relative fall each year: milestone = baseline × (1 − r)^(t/h). Halving in five
    /// years is −12.94 % a year.
    Geometric,
    /// The same absolute fall each year: milestone = baseline × (1 − r·t/h).
    Linear,
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Geometric => "geometric",
            Path::Linear => "linear",
        }
    }
}

/// An income line for a range of years, in baht per person per year.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// Buddhist Era years, inclusive.
    pub from: i32,
    pub to: i32,
    pub baht: f64,
    pub provisional: bool,
    pub source: String,
}

/// The `low_income` term: the assessment's raw income column below the year's line.
#[derive(Clone, Debug, PartialEq)]
pub struct LowIncome {
    pub column: String,
    pub thresholds: Vec<Threshold>,
}

/// The `poor` term: multidimensionally poor under a named spec at a cutoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Poor {
    pub spec: String,
    /// When given, the spec bound must have this version.
    pub spec_version: Option<u32>,
    /// `None`: the spec's first cutoff.
    pub k: Option<Cutoff>,
}

/// The `vulnerable` term: any of these flags (their codes), as of the round's date.
#[derive(Clone, Debug, PartialEq)]
pub struct Vulnerable {
    pub flags: Vec<String>,
    /// Flags that hold only this many days after they were recorded (a pregnancy, a
    /// household situation the survey re-establishes each round). Flags not listed hold from
    /// the day recorded on.
    pub valid_days: BTreeMap<String, u32>,
}

/// A validated target definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: String,
    pub version: u32,
    pub name_th: String,
    pub name_en: String,
    /// A draft: figures computed under it must say so.
    pub provisional: bool,
    pub source: String,
    pub description: Option<String>,
    /// Who is in the target population (persons; a household is in it when a member is).
    pub rule: Rule,
    /// Buddhist Era year of the baseline round.
    pub baseline: i32,
    pub horizon_years: u32,
    /// The promised fall, e.g. 1/2.
    pub reduction: Ratio,
    /// "More than" the reduction: the target is met only when the count is strictly below
    /// baseline × (1 − reduction).
    pub strict: bool,
    pub path: Path,
    /// Assessments in a row out of the target population that make a graduate.
    pub consecutive_out: u8,
    /// A projection that misses the target by at most this share of the target is "at risk".
    pub at_risk_margin: Ratio,
    pub poor: Option<Poor>,
    pub low_income: Option<LowIncome>,
    pub vulnerable: Option<Vulnerable>,
    /// The name the target was read under (a file name), for messages.
    pub source_name: String,
}

/// A refused target definition: where, and why (Thai, then English).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {kind}")]
pub struct TargetError {
    pub at: Location,
    pub kind: Box<TargetErrorKind>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetErrorKind {
    #[error("อ่านไฟล์เป้าหมายไม่ได้ (not a valid target file): {0}")]
    Toml(String),
    #[error("เป้าหมายต้องมี id (the target needs an `id`)")]
    NoId,
    #[error("version ต้องเป็นจำนวนเต็มบวก (version must be a positive integer)")]
    BadVersion,
    #[error("กฎกลุ่มเป้าหมายไม่ถูกต้อง (the target population rule is not valid): {0}")]
    BadRule(String),
    #[error(
        "{field}: ต้องเป็นเศษส่วนหรือทศนิยม เช่น \"1/2\" ({field} must be a fraction or decimal, e.g. \"1/2\"): {reason}"
    )]
    BadNumber { field: String, reason: String },
    #[error("reduction ต้องมากกว่า 0 และน้อยกว่า 1 (the reduction must lie strictly between 0 and 1)")]
    ReductionOutOfRange,
    #[error("horizon_years ต้องเป็น 1 ปีขึ้นไป (horizon_years must be at least 1)")]
    BadHorizon,
    #[error("baseline ต้องเป็นปี พ.ศ. เช่น 2566 (baseline must be a Buddhist Era year such as 2566)")]
    BadBaseline,
    #[error("consecutive_out ต้องอยู่ระหว่าง 1 ถึง 10 (consecutive_out must be between 1 and 10)")]
    BadConsecutive,
    #[error(
        "path ต้องเป็น geometric หรือ linear (path must be \"geometric\" or \"linear\"), not \"{0}\""
    )]
    BadPath(String),
    #[error("กฎใช้ {0} แต่ไม่มีส่วน [{0}] (the rule uses `{0}` but the target has no [{0}] section)")]
    MissingSection(&'static str),
    #[error("ส่วน [{0}] ไม่ถูกใช้ในกฎ (the [{0}] section is not used by the rule)")]
    UnusedSection(&'static str),
    #[error(
        "ช่วงปีของเส้นรายได้ไม่ถูกต้อง {from}–{to} (income line years {from}–{to} are not a valid Buddhist Era range)"
    )]
    BadThresholdYears { from: i32, to: i32 },
    #[error("ปี {0} มีเส้นรายได้มากกว่าหนึ่งค่า (the year {0} has more than one income line)")]
    OverlappingThresholds(i32),
    #[error("เส้นรายได้ต้องเป็นจำนวนบวก (an income line must be a positive number of baht)")]
    BadThresholdValue,
    #[error(
        "[low_income] ต้องมีเส้นรายได้อย่างน้อยหนึ่งช่วงปี (the [low_income] section needs at least one threshold)"
    )]
    NoThresholds,
    #[error(
        "[vulnerable] ต้องระบุกลุ่มเปราะบางอย่างน้อยหนึ่งกลุ่ม (the [vulnerable] section needs at least one flag)"
    )]
    NoFlags,
    #[error(
        "valid_days ของ {0} ไม่อยู่ในรายการ flags (valid_days names `{0}`, which is not among the flags)"
    )]
    ValidDaysNotAFlag(String),
    #[error("k: {0}")]
    BadCutoff(String),
    #[error(
        "ไม่มีเส้นรายได้ของปี {0} ในเป้าหมาย (the target has no income line for the year {0}): \
         add it to [low_income] as a new version of the target"
    )]
    NoThreshold(i32),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: Option<String>,
    version: Option<Spanned<i64>>,
    name_th: Option<String>,
    name_en: Option<String>,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    source: String,
    description: Option<String>,
    rule: Spanned<String>,
    baseline: Spanned<i64>,
    horizon_years: Spanned<i64>,
    reduction: Spanned<toml::Value>,
    #[serde(default = "yes")]
    strict: bool,
    path: Option<Spanned<String>>,
    consecutive_out: Option<Spanned<i64>>,
    at_risk_margin: Option<Spanned<toml::Value>>,
    poor: Option<Spanned<RawPoor>>,
    low_income: Option<Spanned<RawLowIncome>>,
    vulnerable: Option<Spanned<RawVulnerable>>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoor {
    spec: String,
    spec_version: Option<u32>,
    k: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLowIncome {
    #[serde(default = "income_column")]
    column: String,
    #[serde(default)]
    threshold: Vec<Spanned<RawThreshold>>,
}

fn income_column() -> String {
    "income_per_person_year".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    from: i32,
    to: i32,
    baht: f64,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVulnerable {
    flags: Vec<String>,
    #[serde(default)]
    valid_days: BTreeMap<String, u32>,
}

struct Ctx<'a> {
    text: &'a str,
    source_name: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Option<Range<usize>>, kind: TargetErrorKind) -> TargetError {
        let (line, column) = match span {
            Some(s) => {
                let before = &self.text[..s.start.min(self.text.len())];
                let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
                (Some(line), Some(col))
            }
            None => (None, None),
        };
        TargetError {
            at: Location {
                source_name: self.source_name.to_string(),
                line,
                column,
            },
            kind: Box::new(kind),
        }
    }
}

fn ratio_of(v: &toml::Value) -> Result<Ratio, String> {
    match v {
        toml::Value::Integer(i) => u64::try_from(*i)
            .map(Ratio::from_integer)
            .map_err(|_| format!("{i} is negative")),
        toml::Value::Float(f) => Ratio::from_f64_decimal(*f).map_err(|e| e.to_string()),
        toml::Value::String(s) => Ratio::parse(s).map_err(|e| e.to_string()),
        other => Err(format!("{other} is not a number")),
    }
}

/// `1 − r` for `r` in [0, 1].
fn complement(r: Ratio) -> Ratio {
    Ratio::new(r.denom() - r.numer().min(r.denom()), r.denom()).expect("denominator is positive")
}

/// Buddhist Era years a target may name: the Thai calendar's recent past and near future.
const YEARS: std::ops::RangeInclusive<i32> = 2400..=2800;

impl Target {
    /// Reads and validates a target from TOML text; `source_name` (usually the file name)
    /// starts every error message.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Target, TargetError> {
        let ctx = Ctx { text, source_name };
        let raw: RawTarget = toml::from_str(text)
            .map_err(|e| ctx.err(e.span(), TargetErrorKind::Toml(e.message().to_string())))?;
        let id = raw
            .id
            .clone()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ctx.err(None, TargetErrorKind::NoId))?;
        let version = match &raw.version {
            None => 1,
            Some(v) => u32::try_from(*v.get_ref())
                .ok()
                .filter(|&v| v >= 1)
                .ok_or_else(|| ctx.err(Some(v.span()), TargetErrorKind::BadVersion))?,
        };
        let rule = Rule::parse(raw.rule.get_ref())
            .map_err(|e| ctx.err(Some(raw.rule.span()), TargetErrorKind::BadRule(e)))?;
        let baseline = i32::try_from(*raw.baseline.get_ref())
            .ok()
            .filter(|y| YEARS.contains(y))
            .ok_or_else(|| ctx.err(Some(raw.baseline.span()), TargetErrorKind::BadBaseline))?;
        let horizon_years = u32::try_from(*raw.horizon_years.get_ref())
            .ok()
            .filter(|&h| (1..=100).contains(&h))
            .ok_or_else(|| ctx.err(Some(raw.horizon_years.span()), TargetErrorKind::BadHorizon))?;
        let number = |field: &str, v: &Spanned<toml::Value>| {
            ratio_of(v.get_ref()).map_err(|reason| {
                ctx.err(
                    Some(v.span()),
                    TargetErrorKind::BadNumber {
                        field: field.to_string(),
                        reason,
                    },
                )
            })
        };
        let reduction = number("reduction", &raw.reduction)?;
        if reduction.is_zero() || reduction >= Ratio::ONE {
            return Err(ctx.err(
                Some(raw.reduction.span()),
                TargetErrorKind::ReductionOutOfRange,
            ));
        }
        let path = match &raw.path {
            None => Path::Geometric,
            Some(p) => match p.get_ref().trim() {
                "geometric" => Path::Geometric,
                "linear" => Path::Linear,
                other => {
                    return Err(ctx.err(Some(p.span()), TargetErrorKind::BadPath(other.into())));
                }
            },
        };
        let consecutive_out = match &raw.consecutive_out {
            None => 2,
            Some(c) => u8::try_from(*c.get_ref())
                .ok()
                .filter(|c| (1..=10).contains(c))
                .ok_or_else(|| ctx.err(Some(c.span()), TargetErrorKind::BadConsecutive))?,
        };
        let at_risk_margin = match &raw.at_risk_margin {
            None => Ratio::new(1, 10).expect("non-zero"),
            Some(m) => number("at_risk_margin", m)?,
        };

        let terms = rule.terms();
        let check_section = |term: Term, present: bool, span: Option<Range<usize>>| {
            let name = term.name();
            match (terms.contains(&term), present) {
                (true, false) => {
                    Err(ctx.err(Some(raw.rule.span()), TargetErrorKind::MissingSection(name)))
                }
                (false, true) => Err(ctx.err(span, TargetErrorKind::UnusedSection(name))),
                _ => Ok(()),
            }
        };
        check_section(
            Term::Poor,
            raw.poor.is_some(),
            raw.poor.as_ref().map(|p| p.span()),
        )?;
        check_section(
            Term::LowIncome,
            raw.low_income.is_some(),
            raw.low_income.as_ref().map(|p| p.span()),
        )?;
        check_section(
            Term::Vulnerable,
            raw.vulnerable.is_some(),
            raw.vulnerable.as_ref().map(|p| p.span()),
        )?;

        let poor = match raw.poor {
            None => None,
            Some(p) => {
                let span = p.span();
                let p = p.into_inner();
                let k = match &p.k {
                    None => None,
                    Some(k) => {
                        let label = match k.get_ref() {
                            toml::Value::String(s) => s.trim().to_string(),
                            toml::Value::Float(f) => format!("{f}"),
                            other => other.to_string(),
                        };
                        Some(Cutoff::parse(&label).map_err(|e| {
                            ctx.err(Some(k.span()), TargetErrorKind::BadCutoff(e.to_string()))
                        })?)
                    }
                };
                if p.spec.trim().is_empty() {
                    return Err(ctx.err(
                        Some(span),
                        TargetErrorKind::BadRule("[poor] needs a `spec`".into()),
                    ));
                }
                Some(Poor {
                    spec: p.spec.trim().to_string(),
                    spec_version: p.spec_version,
                    k,
                })
            }
        };

        let low_income = match raw.low_income {
            None => None,
            Some(l) => {
                let span = l.span();
                let l = l.into_inner();
                if l.threshold.is_empty() {
                    return Err(ctx.err(Some(span), TargetErrorKind::NoThresholds));
                }
                let mut seen = BTreeSet::new();
                let mut thresholds = Vec::new();
                for t in l.threshold {
                    let span = t.span();
                    let t = t.into_inner();
                    if !YEARS.contains(&t.from) || !YEARS.contains(&t.to) || t.from > t.to {
                        return Err(ctx.err(
                            Some(span),
                            TargetErrorKind::BadThresholdYears {
                                from: t.from,
                                to: t.to,
                            },
                        ));
                    }
                    if !(t.baht.is_finite() && t.baht > 0.0) {
                        return Err(ctx.err(Some(span), TargetErrorKind::BadThresholdValue));
                    }
                    for y in t.from..=t.to {
                        if !seen.insert(y) {
                            return Err(ctx.err(
                                Some(span.clone()),
                                TargetErrorKind::OverlappingThresholds(y),
                            ));
                        }
                    }
                    thresholds.push(Threshold {
                        from: t.from,
                        to: t.to,
                        baht: t.baht,
                        provisional: t.provisional,
                        source: t.source,
                    });
                }
                thresholds.sort_by_key(|t| t.from);
                Some(LowIncome {
                    column: l.column,
                    thresholds,
                })
            }
        };

        let vulnerable = match raw.vulnerable {
            None => None,
            Some(v) => {
                let span = v.span();
                let v = v.into_inner();
                let flags: Vec<String> = v
                    .flags
                    .iter()
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect();
                if flags.is_empty() {
                    return Err(ctx.err(Some(span), TargetErrorKind::NoFlags));
                }
                if let Some(name) = v.valid_days.keys().find(|k| !flags.contains(k)) {
                    return Err(
                        ctx.err(Some(span), TargetErrorKind::ValidDaysNotAFlag(name.clone()))
                    );
                }
                Some(Vulnerable {
                    flags,
                    valid_days: v.valid_days,
                })
            }
        };

        Ok(Target {
            name_th: raw.name_th.unwrap_or_else(|| id.clone()),
            name_en: raw.name_en.unwrap_or_else(|| id.clone()),
            id,
            version,
            provisional: raw.provisional,
            source: raw.source,
            description: raw.description,
            rule,
            baseline,
            horizon_years,
            reduction,
            strict: raw.strict,
            path,
            consecutive_out,
            at_risk_margin,
            poor,
            low_income,
            vulnerable,
            source_name: source_name.to_string(),
        })
    }

    /// The Buddhist Era year by which the target must be met.
    pub fn horizon_year(&self) -> i32 {
        self.baseline + self.horizon_years as i32
    }

    /// The income line of a Buddhist Era year, or an error naming the year (never a silent
    /// default: a round outside every listed range means the definition must be extended).
    pub fn threshold(&self, year: i32) -> Result<&Threshold, TargetError> {
        self.low_income
            .as_ref()
            .and_then(|l| {
                l.thresholds
                    .iter()
                    .find(|t| (t.from..=t.to).contains(&year))
            })
            .ok_or_else(|| TargetError {
                at: Location {
                    source_name: self.source_name.clone(),
                    line: None,
                    column: None,
                },
                kind: Box::new(TargetErrorKind::NoThreshold(year)),
            })
    }

    /// The share of the baseline that the target leaves: 1 − reduction (1/2 for halving).
    pub fn remaining_share(&self) -> Ratio {
        complement(self.reduction)
    }

    /// The target count for a baseline count, exactly: baseline × (1 − reduction). Targets of
    /// areas add up to the target of their union, because the product distributes exactly.
    pub fn target_of(&self, baseline: u64) -> Ratio {
        Ratio::from_integer(baseline)
            .checked_mul(self.remaining_share())
            .expect("a count times a share of small terms fits u128")
    }

    /// Whether `count` meets a target value: below it when strict, at most it otherwise.
    pub fn meets(&self, count: u64, target: Ratio) -> bool {
        let c = u128::from(count) * target.denom();
        if self.strict {
            c < target.numer()
        } else {
            c <= target.numer()
        }
    }

    /// [`Target::meets`] for a figure that is not a whole count (a projection).
    pub fn meets_f64(&self, value: f64, target: Ratio) -> bool {
        let t = target.to_f64();
        if self.strict { value < t } else { value <= t }
    }

    /// The largest whole count that meets a target value (`None` when none does: a strict
    /// target of 0).
    pub fn max_count(&self, target: Ratio) -> Option<u64> {
        let floor = target.numer() / target.denom();
        let exact = target.numer().is_multiple_of(target.denom());
        let max = if self.strict && exact {
            floor.checked_sub(1)?
        } else {
            floor
        };
        u64::try_from(max).ok()
    }

    /// The milestone as a share of the baseline, `years` after the baseline: 1 at the
    /// baseline, 1 − reduction from the horizon on.
    pub fn milestone_share(&self, years: f64) -> f64 {
        let h = f64::from(self.horizon_years);
        let t = years.clamp(0.0, h);
        let keep = self.remaining_share().to_f64();
        if t >= h {
            return keep;
        }
        match self.path {
            Path::Geometric => keep.powf(t / h),
            Path::Linear => 1.0 - self.reduction.to_f64() * t / h,
        }
    }

    /// The yearly relative change the target asks for, in percent (−12.94 for halving in
    /// five years on the geometric path; on the linear path, the first year's).
    pub fn required_rate(&self) -> f64 {
        (self.milestone_share(1.0) - 1.0) * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "t"
rule = "low_income or (vulnerable and poor)"
baseline = 2566
horizon_years = 5
reduction = "1/2"
[poor]
spec = "tpmap-5"
[low_income]
[[low_income.threshold]]
from = 2560
to = 2571
baht = 38000
[vulnerable]
flags = ["elderly", "pregnant"]
valid_days = { pregnant = 300 }
"#;

    fn check_err(text: &str, expect: &str) {
        let err = Target::from_toml_str(text, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{err:?} does not contain {expect:?}");
        assert!(err.starts_with("bad.toml"), "{err:?} names the file");
    }

    #[test]
    fn rules_parse_with_precedence_and_print_back() {
        use Term::*;
        let t = |x| Box::new(Rule::Term(x));
        assert_eq!(
            Rule::parse("low_income or vulnerable and poor").unwrap(),
            Rule::Or(t(LowIncome), Box::new(Rule::And(t(Vulnerable), t(Poor))))
        );
        assert_eq!(
            Rule::parse("(low_income or vulnerable) and not poor").unwrap(),
            Rule::And(
                Box::new(Rule::Or(t(LowIncome), t(Vulnerable))),
                Box::new(Rule::Not(t(Poor)))
            )
        );
        for text in [
            "low_income or (vulnerable and poor)",
            "(low_income or vulnerable) and poor",
            "not (poor or vulnerable)",
            "low_income or vulnerable or poor",
            "low_income and (vulnerable or not poor)",
        ] {
            let rule = Rule::parse(text).unwrap();
            assert_eq!(Rule::parse(&rule.to_string()).unwrap(), rule, "{text}");
        }
        assert_eq!(
            Rule::parse("vulnerable or low_income").unwrap().to_string(),
            "vulnerable or low_income"
        );
        assert_eq!(
            Rule::parse("low_income or vulnerable and poor")
                .unwrap()
                .to_string(),
            "low_income or (vulnerable and poor)"
        );
        assert_eq!(
            Rule::parse("not (poor and vulnerable)")
                .unwrap()
                .to_string(),
            "not (poor and vulnerable)"
        );
        for bad in [
            "",
            "poor and",
            "rich",
            "(poor",
            "poor)",
            "poor & vulnerable",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_values_follow_kleene_logic() {
        let rule = Rule::parse("low_income or (vulnerable and poor)").unwrap();
        let eval = |l: Option<bool>, v: Option<bool>, p: Option<bool>| {
            rule.eval(&|t| match t {
                Term::LowIncome => l,
                Term::Vulnerable => v,
                Term::Poor => p,
            })
        };
        // Low income decides alone, whatever is unknown.
        assert_eq!(eval(Some(true), None, None), Some(true));
        // Not vulnerable: poverty does not matter.
        assert_eq!(eval(Some(false), Some(false), None), Some(false));
        // Vulnerable with unknown poverty: unknown.
        assert_eq!(eval(Some(false), Some(true), None), None);
        assert_eq!(eval(None, Some(false), Some(true)), None);
        assert_eq!(eval(Some(false), Some(true), Some(true)), Some(true));
        let not = Rule::parse("not poor").unwrap();
        assert_eq!(not.eval(&|_| None), None);
        assert_eq!(not.eval(&|_| Some(false)), Some(true));
    }

    #[test]
    fn a_minimal_target_gets_the_defaults() {
        let t = Target::from_toml_str(MINIMAL, "t.toml").unwrap();
        assert_eq!((t.id.as_str(), t.version), ("t", 1));
        assert!(t.strict);
        assert_eq!(t.path, Path::Geometric);
        assert_eq!(t.consecutive_out, 2);
        assert_eq!(t.at_risk_margin, Ratio::new(1, 10).unwrap());
        assert_eq!(t.horizon_year(), 2571);
        assert_eq!(
            t.low_income.as_ref().unwrap().column,
            "income_per_person_year"
        );
        assert_eq!(t.threshold(2566).unwrap().baht, 38000.0);
        let err = t.threshold(2572).unwrap_err().to_string();
        assert!(err.contains("2572") && err.starts_with("t.toml"), "{err}");
        assert_eq!(t.vulnerable.as_ref().unwrap().valid_days["pregnant"], 300);
        assert_eq!(t.poor.as_ref().unwrap().k, None);
    }

    #[test]
    fn targets_are_exact_and_strict() {
        let mut t = Target::from_toml_str(MINIMAL, "t.toml").unwrap();
        // Halving 45 persons: the target is 45/2; "more than half" allows at most 22.
        let target = t.target_of(45);
        assert_eq!(target, Ratio::new(45, 2).unwrap());
        assert_eq!(t.max_count(target), Some(22));
        assert!(t.meets(22, target) && !t.meets(23, target));
        // 40 → 20 exactly: 20 is half, not more than half.
        let even = t.target_of(40);
        assert!(!t.meets(20, even) && t.meets(19, even));
        assert_eq!(t.max_count(even), Some(19));
        assert_eq!(t.max_count(t.target_of(0)), None);
        t.strict = false;
        assert!(t.meets(20, even));
        assert_eq!(t.max_count(even), Some(20));
        // Area targets add up to the province's, exactly: 1/3 off 7 + 11 + 13 areas.
        t.reduction = Ratio::new(1, 3).unwrap();
        let mut sum = Ratio::ZERO;
        for b in [7u64, 11, 13] {
            sum = sum.checked_add(t.target_of(b)).unwrap();
        }
        assert_eq!(sum, t.target_of(31));
        assert_eq!(sum, Ratio::new(62, 3).unwrap());
    }

    #[test]
    fn milestones_follow_the_path() {
        let mut t = Target::from_toml_str(MINIMAL, "t.toml").unwrap();
        assert_eq!(t.milestone_share(0.0), 1.0);
        assert_eq!(t.milestone_share(5.0), 0.5);
        assert_eq!(t.milestone_share(9.0), 0.5);
        // 0.5^(1/5) = 0.870550563296…: −12.94 % a year.
        assert!((t.milestone_share(1.0) - 0.870_550_563_296_124).abs() < 1e-12);
        assert!((t.required_rate() + 12.944_943_670_387_6).abs() < 1e-9);
        assert!((t.milestone_share(2.5) - 0.5f64.sqrt()).abs() < 1e-12);
        t.path = Path::Linear;
        assert_eq!(t.milestone_share(1.0), 0.9);
        assert_eq!(t.milestone_share(2.5), 0.75);
        assert!((t.required_rate() + 10.0).abs() < 1e-12);
    }

    #[test]
    fn bad_targets_are_refused_with_file_and_line() {
        let with = |from: &str, to: &str| MINIMAL.replacen(from, to, 1);
        check_err(&with("id = \"t\"\n", ""), "needs an `id`");
        check_err(&with("\"1/2\"", "\"3/2\""), "strictly between 0 and 1");
        check_err(&with("\"1/2\"", "\"0\""), "strictly between 0 and 1");
        check_err(&with("\"1/2\"", "\"half\""), "reduction must be a fraction");
        check_err(
            &with("low_income or (vulnerable and poor)", "low_income or rich"),
            "bad.toml:3:8: กฎกลุ่มเป้าหมายไม่ถูกต้อง",
        );
        check_err(
            &with("baseline = 2566", "baseline = 2023"),
            "Buddhist Era year",
        );
        check_err(
            &with(
                "reduction = \"1/2\"",
                "reduction = \"1/2\"\npath = \"curved\"",
            ),
            "\"curved\"",
        );
        check_err(
            &with("\"low_income or (vulnerable and poor)\"", "\"low_income\""),
            "[poor] section is not used",
        );
        check_err(
            &with("[poor]\nspec = \"tpmap-5\"\n", ""),
            "has no [poor] section",
        );
        check_err(
            &with(
                "baht = 38000",
                "baht = 38000\n[[low_income.threshold]]\nfrom = 2571\nto = 2572\nbaht = 40000",
            ),
            "the year 2571 has more than one income line",
        );
        check_err(
            &with("baht = 38000", "baht = -1"),
            "positive number of baht",
        );
        check_err(
            &with(
                "valid_days = { pregnant = 300 }",
                "valid_days = { child = 300 }",
            ),
            "`child`, which is not among the flags",
        );
        check_err(&with("id = \"t\"", "id = \"t\"\nspeed = 1"), "bad.toml:3:1");
        check_err(
            &with("spec = \"tpmap-5\"", "spec = \"tpmap-5\"\nk = 0"),
            "k: k = 0 is outside",
        );
    }
}
