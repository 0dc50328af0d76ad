//! The what-if's question as a query string, read and checked: the cutoff k, the weights, the
//! households chosen and the indicators the intervention solves.
//!
//! Everything is a GET parameter, so a what-if is a link that can be shared and needs no
//! JavaScript. Numbers are read as exact rationals (`12.5`, `20/3`), so "the weights add up
//! to 100 %" is decided exactly, never within a float's noise. Each problem names its field and
//! a message key of `messages/whatif.toml`; nothing is computed while any remains.

use halve_domain::{AreaCode, AreaTree, VulnerabilityFlag};
use halve_measure::{Cutoff, Ratio, RatioError, Scoring, Spec};

/// The query parameter of an indicator's weight: `w.<indicator name>`.
pub const WEIGHT_PREFIX: &str = "w.";

/// What the form shows back: the values as typed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Typed {
    pub k: String,
    pub k_other: String,
    /// One per indicator, in spec order.
    pub weights: Vec<String>,
    pub area: String,
    pub flag: String,
    pub deprived: Vec<String>,
    pub solve: Vec<String>,
}

/// A checked question.
#[derive(Clone, Debug)]
pub struct Question {
    pub cutoff: Cutoff,
    pub weights: Vec<Ratio>,
    /// Whether the weights differ from the spec's (otherwise the spec's are used as they are).
    pub weights_changed: bool,
    pub area: Option<AreaCode>,
    pub flag: Option<VulnerabilityFlag>,
    /// Indicators (bits, spec order) a chosen household must be deprived in, all of them.
    pub deprived: u32,
    /// Indicators the intervention solves for the chosen households.
    pub solve: u32,
}

/// One thing wrong with the question: the field and the message key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub key: &'static str,
    /// Put in the message's `{x}`.
    pub detail: String,
}

impl Problem {
    fn new(field: impl Into<String>, key: &'static str) -> Problem {
        Problem {
            field: field.into(),
            key,
            detail: String::new(),
        }
    }
}

/// A weight as a percentage people can type back: a decimal when it has one, else `n/d`.
pub fn percent_text(weight: Ratio) -> String {
    let p = weight
        .checked_mul(Ratio::from_integer(100))
        .expect("a spec weight times 100 fits");
    // A fraction has a finite decimal exactly when its denominator is 2^a·5^b; it then
    // needs max(a, b) places.
    let (mut den, mut twos, mut fives) = (p.denom(), 0u32, 0u32);
    while den % 2 == 0 {
        den /= 2;
        twos += 1;
    }
    while den % 5 == 0 {
        den /= 5;
        fives += 1;
    }
    let places = twos.max(fives);
    if den != 1 {
        return p.to_string();
    }
    if places == 0 {
        return p.numer().to_string();
    }
    let scaled = p.numer() * 10u128.pow(places) / p.denom();
    let digits = format!("{scaled:0>width$}", width = places as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - places as usize);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// Reads the query's pairs against `spec` and the area tree.
pub fn read(
    pairs: &[(String, String)],
    spec: &Spec,
    tree: &AreaTree,
) -> (Typed, Result<Question, Vec<Problem>>) {
    let one = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let many = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    let spec_weights = spec.weights();
    let any_weight = pairs.iter().any(|(k, _)| k.starts_with(WEIGHT_PREFIX));
    let typed = Typed {
        k: one("k"),
        k_other: one("k_other"),
        weights: spec
            .indicators
            .iter()
            .zip(&spec_weights)
            .map(|(ind, w)| {
                if any_weight {
                    one(&format!("{WEIGHT_PREFIX}{}", ind.name))
                } else {
                    percent_text(*w)
                }
            })
            .collect(),
        area: one("area"),
        flag: one("flag"),
        deprived: many("deprived"),
        solve: many("solve"),
    };
    let mut problems = Vec::new();

    // k: a typed value wins over the choice; neither means the spec's first cutoff.
    let (k_field, k_text) = if !typed.k_other.is_empty() {
        ("k_other", typed.k_other.as_str())
    } else {
        ("k", typed.k.as_str())
    };
    let cutoff = if k_text.is_empty() {
        spec.cutoffs.first().cloned()
    } else {
        match Cutoff::parse(k_text) {
            Ok(c) => Some(c),
            Err(_) => {
                problems.push(Problem::new(k_field, "whatif_err_k"));
                None
            }
        }
    };

    let mut weights = Vec::with_capacity(spec_weights.len());
    let mut sum = Some(Ratio::ZERO);
    for (ind, text) in spec.indicators.iter().zip(&typed.weights) {
        let field = format!("{WEIGHT_PREFIX}{}", ind.name);
        if text.is_empty() {
            problems.push(Problem::new(field, "whatif_err_weight_missing"));
            sum = None;
            continue;
        }
        match Ratio::parse(text) {
            Ok(p) if p.is_zero() => {
                problems.push(Problem::new(field, "whatif_err_weight_zero"));
                sum = None;
            }
            Ok(p) => {
                sum = sum.and_then(|s| s.checked_add(p));
                weights.push(p);
            }
            Err(e) => {
                let key = match e {
                    RatioError::Negative(_) => "whatif_err_weight_negative",
                    RatioError::TooPrecise(_) => "whatif_err_weight_fine",
                    _ => "whatif_err_weight_number",
                };
                problems.push(Problem::new(field, key));
                sum = None;
            }
        }
    }
    let hundred = Ratio::from_integer(100);
    let mut weights_changed = false;
    if let Some(sum) = sum
        && weights.len() == spec_weights.len()
    {
        if sum != hundred {
            problems.push(Problem {
                field: "weights".into(),
                key: "whatif_err_weight_sum",
                detail: percent_text(sum.checked_div(hundred).expect("dividing by 100 fits")),
            });
        } else {
            let shares: Option<Vec<Ratio>> =
                weights.iter().map(|w| w.checked_div(hundred)).collect();
            match shares {
                Some(shares) => {
                    let names: Vec<String> =
                        spec.indicators.iter().map(|i| i.name.clone()).collect();
                    if Scoring::new(&names, &shares).is_err() {
                        problems.push(Problem::new("weights", "whatif_err_weight_fine"));
                    }
                    weights_changed = shares != spec_weights;
                    weights = shares;
                }
                None => problems.push(Problem::new("weights", "whatif_err_weight_fine")),
            }
        }
    }

    let area = if typed.area.is_empty() {
        None
    } else {
        match AreaCode::parse_syntax(&typed.area) {
            Ok(code) if tree.get(code).is_some() => Some(code),
            _ => {
                problems.push(Problem::new("area", "whatif_err_area"));
                None
            }
        }
    };
    let flag = if typed.flag.is_empty() {
        None
    } else {
        match VulnerabilityFlag::parse(&typed.flag) {
            Ok(f) => Some(f),
            Err(_) => {
                problems.push(Problem::new("flag", "whatif_err_flag"));
                None
            }
        }
    };
    let mut mask_of = |field: &str, names: &[String]| {
        let mut mask = 0u32;
        for name in names {
            match spec.indicators.iter().position(|i| &i.name == name) {
                Some(j) => mask |= 1 << j,
                None => problems.push(Problem::new(field, "whatif_err_indicator")),
            }
        }
        mask
    };
    let deprived = mask_of("deprived", &typed.deprived);
    let solve = mask_of("solve", &typed.solve);

    let question = match cutoff {
        Some(cutoff) if problems.is_empty() => Ok(Question {
            cutoff,
            weights,
            weights_changed,
            area,
            flag,
            deprived,
            solve,
        }),
        _ => {
            if problems.is_empty() {
                // A spec always has a cutoff (it does not parse without one).
                problems.push(Problem::new("k", "whatif_err_k"));
            }
            Err(problems)
        }
    };
    (typed, question)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_print_as_decimals_when_they_have_one() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(percent_text(r(1, 5)), "20");
        assert_eq!(percent_text(r(1, 8)), "12.5");
        assert_eq!(percent_text(r(1, 20)), "5");
        assert_eq!(percent_text(r(1, 15)), "20/3");
        assert_eq!(percent_text(r(1, 400)), "0.25");
        assert_eq!(percent_text(r(3, 1000)), "0.3");
        // What is printed reads back to the same weight.
        for (n, d) in [(1, 8), (1, 15), (1, 400), (7, 160), (1, 3)] {
            let back = Ratio::parse(&percent_text(r(n, d))).unwrap();
            assert_eq!(back.checked_div(Ratio::from_integer(100)).unwrap(), r(n, d));
        }
    }
}
