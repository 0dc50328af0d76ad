//! Figures from case management for the progress pages: exits by cause, and what each of the
//! council's five strategies delivered and how the indicators it targets changed.

use std::collections::{BTreeMap, HashMap};

use halve_domain::case::{CaseState, Catalogue, CloseReason, PlanItemStatus, Strategy};
use halve_domain::{AreaCode, AreaLevel, Key, Satang};
use halve_measure::Spec;
use halve_store::Store;

use crate::AppError;
use crate::measure::deprivation_profile;

/// How many cases ended one way in one area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitCount {
    pub area: AreaCode,
    /// Graduated or closed.
    pub state: CaseState,
    /// Why, for a closed case.
    pub reason: Option<CloseReason>,
    pub cases: u64,
}

/// Closed and graduated cases counted by area (at `level`, from the household's village) and
/// cause, ordered by area, then graduated before closed, then reason.
pub async fn exits_by_cause(store: &Store, level: AreaLevel) -> Result<Vec<ExitCount>, AppError> {
    let mut counts: BTreeMap<(AreaCode, CaseState, Option<CloseReason>), u64> = BTreeMap::new();
    for exit in store.case_exits().await? {
        let area = exit.village.at_level(level).unwrap_or(exit.village);
        *counts
            .entry((area, exit.state, exit.close_reason))
            .or_default() += 1;
    }
    Ok(counts
        .into_iter()
        .map(|((area, state, reason), cases)| ExitCount {
            area,
            state,
            reason,
            cases,
        })
        .collect())
}

/// What one strategy delivered, and the change in the indicators its help targets.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyResult {
    pub strategy: Strategy,
    /// Plan items done whose intervention serves the strategy.
    pub items_done: u64,
    /// Households that received at least one of them.
    pub households: u64,
    /// Their cost.
    pub cost: Satang,
    /// Treated pairs compared: (household, indicator) with the indicator targeted by the
    /// household's help of this strategy, deprived at the first round, assessed at both, in
    /// a cell that has comparison households.
    pub pairs: u64,
    /// Of those, pairs no longer deprived at the last round.
    pub resolved: u64,
    /// How many would have been resolved at the comparison households' rate of their cell:
    /// the sum over the pairs of their cell's rate.
    pub comparison_expected: f64,
    /// Treated pairs left out: no comparison household in their cell, or not assessed at
    /// both rounds.
    pub unmatched: u64,
}

impl StrategyResult {
    /// Share of treated pairs resolved, 0 to 1 (`None` without pairs).
    pub fn resolved_share(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.resolved as f64 / self.pairs as f64)
    }

    /// The comparison households' share, standardised to the treated pairs' cells.
    pub fn comparison_share(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.comparison_expected / self.pairs as f64)
    }
}

/// Strategy results with what they were computed under.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyReport {
    pub spec_id: String,
    pub spec_version: u32,
    /// The rounds compared (Buddhist Era years); equal when there is only one round, and
    /// then no pair is compared.
    pub from_round: Option<i32>,
    pub to_round: Option<i32>,
    /// The area level of the comparison cells.
    pub level: AreaLevel,
    /// One row per strategy, in the council's order.
    pub rows: Vec<StrategyResult>,
}

/// For each of the council's five strategies: the interventions delivered (plan items done
/// whose catalogue type serves it), their cost, and the change in the indicators they
/// target among the households that received them, against similar households that did not.
///
/// The method, a simple exact stratification, not a causal claim:
///
/// 1. Two rounds are compared: the first and the last assessment round in the registry.
///    A household's deprivation in an indicator is read under `spec` at each; a household
///    not assessed at both, or with a value missing, is left out.
/// 2. A *treated pair* of strategy S is a household and an indicator that a done plan item
///    of S is meant to solve (the catalogue's `indicators` of its type), where the household
///    was deprived in that indicator at the first round. It is *resolved* when the household
///    is not deprived in it at the last round. Help is counted whenever it was delivered.
/// 3. Its *cell* is the household's area at `level` and the indicator. The comparison
///    households of a cell are those deprived in that indicator at the first round, in that
///    area, that received no done help (of any strategy) meant to solve it. The cell's rate
///    is the share of them resolved.
/// 4. The comparison figure for S is the sum of the cell rates over S's treated pairs (what
///    the treated would show had they fared like their cells' comparison households); a
///    treated pair whose cell has no comparison household is counted as unmatched and left
///    out of both figures.
///
/// The difference between `resolved / pairs` and `comparison_expected / pairs` describes
/// what happened to households that were helped; households were not chosen at random, so
/// it is not the effect of the help.
pub async fn strategy_results(
    store: &Store,
    catalogue: &Catalogue,
    spec: &Spec,
    level: AreaLevel,
) -> Result<StrategyReport, AppError> {
    let rounds = store.rounds().await?;
    let from = rounds.first().map(|r| r.year);
    let to = rounds.last().map(|r| r.year);
    let index_of: HashMap<&str, usize> = spec
        .indicators
        .iter()
        .enumerate()
        .map(|(j, i)| (i.name.as_str(), j))
        .collect();
    let mask_of = |names: &std::collections::BTreeSet<String>| -> u32 {
        names
            .iter()
            .filter_map(|n| index_of.get(n.as_str()))
            .fold(0, |m, &j| m | (1 << j))
    };

    // Done help: per strategy, per household, the indicators targeted; and for any strategy.
    let mut case_household: HashMap<i64, Key> = HashMap::new();
    store
        .for_each_case(&mut |c| {
            case_household.insert(c.id, c.household);
            Ok(())
        })
        .await?;
    let mut rows: Vec<StrategyResult> = Strategy::ALL
        .iter()
        .map(|&strategy| StrategyResult {
            strategy,
            items_done: 0,
            households: 0,
            cost: Satang(0),
            pairs: 0,
            resolved: 0,
            comparison_expected: 0.0,
            unmatched: 0,
        })
        .collect();
    let mut treated: Vec<HashMap<Key, u32>> = vec![HashMap::new(); Strategy::ALL.len()];
    let mut treated_any: HashMap<Key, u32> = HashMap::new();
    let mut items = Vec::new();
    store
        .for_each_plan_item(&mut |p| {
            if p.status == PlanItemStatus::Done {
                items.push(p);
            }
            Ok(())
        })
        .await?;
    for p in items {
        let (Some(kind), Some(household)) = (
            catalogue.get(&p.intervention),
            case_household.get(&p.case_id),
        ) else {
            continue;
        };
        let s = usize::from(kind.strategy.number() - 1);
        rows[s].items_done += 1;
        rows[s].cost = Satang(rows[s].cost.0 + p.cost.0);
        let mask = mask_of(&kind.indicators);
        *treated[s].entry(household.clone()).or_default() |= mask;
        *treated_any.entry(household.clone()).or_default() |= mask;
    }
    for (row, t) in rows.iter_mut().zip(&treated) {
        row.households = t.len() as u64;
    }

    let (Some(from), Some(to)) = (from, to) else {
        return Ok(report(spec, None, None, level, rows));
    };
    if from == to {
        return Ok(report(spec, Some(from.be()), Some(to.be()), level, rows));
    }

    // Each household's area and its profiles at both rounds.
    let mut area_of: HashMap<Key, AreaCode> = HashMap::new();
    store
        .for_each_household(&mut |h| {
            area_of.insert(h.house_code, h.village.at_level(level).unwrap_or(h.village));
            Ok(())
        })
        .await?;
    let mut profiles: HashMap<Key, [Option<u32>; 2]> = HashMap::new();
    let mut failure = None;
    store
        .for_each_assessment(&mut |a| {
            let slot = if a.round == from {
                0
            } else if a.round == to {
                1
            } else {
                return Ok(());
            };
            match deprivation_profile(spec, &a) {
                Ok(p) => profiles.entry(a.household.clone()).or_default()[slot] = p,
                Err(e) => failure = Some(e),
            }
            Ok(())
        })
        .await?;
    if let Some(e) = failure {
        return Err(e);
    }

    // Comparison cells: (area, indicator) → (deprived at the first round, resolved).
    let mut cells: HashMap<(AreaCode, usize), (u64, u64)> = HashMap::new();
    for (household, p) in &profiles {
        let ([Some(before), Some(after)], Some(&area)) = (*p, area_of.get(household)) else {
            continue;
        };
        let helped = treated_any.get(household).copied().unwrap_or(0);
        for j in 0..spec.indicators.len() {
            let bit = 1 << j;
            if before & bit != 0 && helped & bit == 0 {
                let cell = cells.entry((area, j)).or_default();
                cell.0 += 1;
                cell.1 += u64::from(after & bit == 0);
            }
        }
    }
    for (row, t) in rows.iter_mut().zip(&treated) {
        for (household, &mask) in t {
            let (Some(&[Some(before), Some(after)]), Some(&area)) =
                (profiles.get(household), area_of.get(household))
            else {
                row.unmatched += u64::from((mask).count_ones());
                continue;
            };
            for j in 0..spec.indicators.len() {
                let bit = 1 << j;
                if mask & bit == 0 || before & bit == 0 {
                    continue;
                }
                match cells.get(&(area, j)) {
                    Some(&(n, resolved)) if n > 0 => {
                        row.pairs += 1;
                        row.resolved += u64::from(after & bit == 0);
                        row.comparison_expected += resolved as f64 / n as f64;
                    }
                    _ => row.unmatched += 1,
                }
            }
        }
    }
    Ok(report(spec, Some(from.be()), Some(to.be()), level, rows))
}

fn report(
    spec: &Spec,
    from: Option<i32>,
    to: Option<i32>,
    level: AreaLevel,
    rows: Vec<StrategyResult>,
) -> StrategyReport {
    StrategyReport {
        spec_id: spec.id.clone(),
        spec_version: spec.version,
        from_round: from,
        to_round: to,
        level,
        rows,
    }
}
