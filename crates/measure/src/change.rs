//! Changes of H, A and M0 between rounds: absolute and relative, each raw and annualised.
//!
//! The plan's target is stated as a change ("halve in five years"), so these are first-class
//! figures. Years may be fractional (a survey fielded across two calendar years is dated
//! 2018.5). Formulas follow OPHI (Alkire, Roche & Vaz 2017):
//! absolute `X2 − X1`; annualised absolute `(X2 − X1)/(t2 − t1)`; relative
//! `(X2/X1 − 1)·100`; annualised relative `((X2/X1)^(1/(t2 − t1)) − 1)·100`.
//! Halving in five years is an annualised relative change of about −12.94 %/yr.

use crate::engine::Estimates;

/// Absolute change `x2 − x1`.
pub fn absolute(x1: f64, x2: f64) -> f64 {
    x2 - x1
}

/// Absolute change per year.
pub fn annualised_absolute(x1: f64, x2: f64, t1: f64, t2: f64) -> f64 {
    (x2 - x1) / (t2 - t1)
}

/// Relative change in percent; NaN when the start is zero (no meaningful base).
pub fn relative(x1: f64, x2: f64) -> f64 {
    if x1 == 0.0 {
        return f64::NAN;
    }
    (x2 / x1 - 1.0) * 100.0
}

/// Compound yearly relative change in percent; NaN when the start is zero.
pub fn annualised_relative(x1: f64, x2: f64, t1: f64, t2: f64) -> f64 {
    if x1 == 0.0 {
        return f64::NAN;
    }
    ((x2 / x1).powf(1.0 / (t2 - t1)) - 1.0) * 100.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Difference in the measure's own units.
    Abs,
    /// Relative change, in percent.
    Rel,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Abs => "abs",
            ChangeKind::Rel => "rel",
        }
    }
}

/// One change figure of the whole population.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `H`, `A` or `M0`.
    pub measure: &'static str,
    /// Index into the estimates' cutoffs.
    pub cutoff: usize,
    /// Indices into the estimates' years.
    pub from: usize,
    pub to: usize,
    pub kind: ChangeKind,
    pub annualised: bool,
    pub value: f64,
}

/// The pairs of rounds compared: each consecutive pair, and first to last when there are
/// more than two rounds.
pub fn round_pairs(n_years: usize) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = (1..n_years).map(|i| (i - 1, i)).collect();
    if n_years > 2 {
        pairs.push((0, n_years - 1));
    }
    pairs
}

/// Changes of H, A and M0 for the whole population, for every cutoff and pair of rounds.
/// Empty without at least two rounds.
pub fn changes(est: &Estimates) -> Vec<Change> {
    group_changes(est, None)
}

/// Changes for one subgroup (`(column, value)` indices into [`Estimates::by`]), or for the
/// whole population with `None`. A pair of rounds where the group is absent is skipped.
pub fn group_changes(est: &Estimates, group: Option<(usize, usize)>) -> Vec<Change> {
    let mut out = Vec::new();
    for (from, to) in round_pairs(est.years.len()) {
        let (Some(g1), Some(g2)) = (est.find(Some(from), group), est.find(Some(to), group)) else {
            continue;
        };
        let (t1, t2) = (est.years[from].value, est.years[to].value);
        for (kind, annualised) in [
            (ChangeKind::Abs, false),
            (ChangeKind::Abs, true),
            (ChangeKind::Rel, false),
            (ChangeKind::Rel, true),
        ] {
            for cutoff in 0..est.cutoffs().len() {
                let (a, b) = (&g1.at[cutoff], &g2.at[cutoff]);
                for (measure, x1, x2) in [("H", a.h, b.h), ("A", a.a, b.a), ("M0", a.m0, b.m0)] {
                    let value = match (kind, annualised) {
                        (ChangeKind::Abs, false) => absolute(x1, x2),
                        (ChangeKind::Abs, true) => annualised_absolute(x1, x2, t1, t2),
                        (ChangeKind::Rel, false) => relative(x1, x2),
                        (ChangeKind::Rel, true) => annualised_relative(x1, x2, t1, t2),
                    };
                    out.push(Change {
                        measure,
                        cutoff,
                        from,
                        to,
                        kind,
                        annualised,
                        value,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn hand_computed_changes() {
        // H falls from 0.40 to 0.30 over 2010 → 2015.
        close(absolute(0.40, 0.30), -0.10);
        close(annualised_absolute(0.40, 0.30, 2010.0, 2015.0), -0.02);
        // 0.30/0.40 = 0.75: a 25 % fall.
        close(relative(0.40, 0.30), -25.0);
        // Halving over 5 years: 0.5^(1/5) = 0.870550563296..., so −12.9449436704 %/yr.
        close(
            annualised_relative(0.40, 0.20, 2566.0, 2571.0),
            (0.5f64.powf(0.2) - 1.0) * 100.0,
        );
        assert!((annualised_relative(0.40, 0.20, 2566.0, 2571.0) + 12.944_943_670_4).abs() < 1e-9);
        // Quadrupling over 2 years doubles each year: +100 %/yr.
        close(annualised_relative(0.1, 0.4, 1.0, 3.0), 100.0);
        // Fractional years: 2010 → 2018.5 is 8.5 years.
        close(annualised_absolute(0.5, 0.33, 2010.0, 2018.5), -0.17 / 8.5);
        // No base, no relative change.
        assert!(relative(0.0, 0.1).is_nan());
        assert!(annualised_relative(0.0, 0.1, 1.0, 2.0).is_nan());
    }

    #[test]
    fn pairs_are_consecutive_then_first_to_last() {
        assert_eq!(round_pairs(1), []);
        assert_eq!(round_pairs(2), [(0, 1)]);
        assert_eq!(round_pairs(4), [(0, 1), (1, 2), (2, 3), (0, 3)]);
    }
}
