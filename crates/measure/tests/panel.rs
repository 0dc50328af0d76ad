//! The panel engine and progress figures: hand-made panels whose answers are worked out in the
//! comments, an independent re-statement of the classification checked on random panels, the
//! identity stock = baseline − exits + re-entries + newcomers for every area and round, and
//! the consistency of targets across a grouping.

use State::*;
use halve_measure::panel::{
    Class, Flow, PanelBuilder, PanelCounts, PanelRules, PanelView, State, classify, classify_each,
};
use halve_measure::progress::{Group, ProgressReport, Round, Status};
use halve_measure::{Ratio, Target};
use proptest::prelude::*;

const TARGET: &str = r#"
id = "hand"
version = 2
rule = "low_income"
baseline = 2566
horizon_years = 5
reduction = "1/2"
consecutive_out = 2
[low_income]
[[low_income.threshold]]
from = 2566
to = 2571
baht = 38000
"#;

fn target() -> Target {
    Target::from_toml_str(TARGET, "hand.toml").unwrap()
}

/// Counts of units given as (area, states, weights); weights empty for an unweighted panel.
fn check(units: &[(u32, Vec<State>, Vec<u16>)], areas: usize, k: u8) -> PanelCounts {
    let rounds = units[0].1.len();
    let weighted = !units[0].2.is_empty();
    let mut b = PanelBuilder::new(rounds, areas, weighted);
    for (a, s, w) in units {
        b.push(*a, s, w);
    }
    let panel = b.build();
    let counts = classify(&panel.view(), PanelRules { consecutive_out: k }, 2).unwrap();
    assert_identity(&counts);
    counts
}

fn unit(area: u32, states: &[State]) -> (u32, Vec<State>, Vec<u16>) {
    (area, states.to_vec(), Vec::new())
}

/// The classes of area 0 in round `t`, as (class, units) for the non-zero ones.
fn classes(c: &PanelCounts, area: usize, t: usize) -> Vec<(Class, u64)> {
    Class::ALL
        .into_iter()
        .map(|cl| (cl, c.units(area, t, cl)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// stock = baseline − exits + re-entries + newcomers, with every term taken from the
/// transition counts, and the classification agreeing with them: still in + re-entered is
/// what is left of the cohort in the target population, newcomers are newcomers.
fn assert_identity(c: &PanelCounts) {
    for a in 0..c.areas() {
        for t in 0..c.rounds() {
            let f = c.flows(a, t);
            assert_eq!(
                f.stock as i64,
                f.baseline as i64 - f.exits as i64 + f.reentries as i64 + f.newcomers as i64,
                "area {a} round {t}: {f:?}"
            );
            assert_eq!(c.stock_units(a, t), f.stock, "area {a} round {t}");
            assert_eq!(
                (c.units(a, t, Class::StillIn) + c.units(a, t, Class::ReEntered)) as i64,
                f.baseline as i64 - f.exits as i64 + f.reentries as i64,
                "area {a} round {t}"
            );
            assert_eq!(
                c.units(a, t, Class::NewcomerNew) + c.units(a, t, Class::NewcomerExisting),
                f.newcomers,
                "area {a} round {t}"
            );
            // Every cohort unit is in exactly one cohort class.
            let cohort: u64 = Class::ALL
                .iter()
                .filter(|cl| cl.is_cohort())
                .map(|&cl| c.units(a, t, cl))
                .sum();
            assert_eq!(cohort, f.baseline, "area {a} round {t}");
        }
    }
}

#[test]
fn a_household_that_leaves_and_comes_back() {
    // One household: in at 2566; all members moved away before 2567; back in 2568, still
    // poor; out in 2569 and 2570 (graduates in 2570, the second out-assessment in a row).
    let c = check(&[unit(0, &[In, Moved, In, Out, Out])], 1, 2);
    assert_eq!(classes(&c, 0, 0), [(Class::StillIn, 1)]);
    assert_eq!(classes(&c, 0, 1), [(Class::Moved, 1)]);
    assert_eq!(classes(&c, 0, 2), [(Class::ReEntered, 1)]);
    assert_eq!(classes(&c, 0, 3), [(Class::ExitedOnce, 1)]);
    assert_eq!(classes(&c, 0, 4), [(Class::Graduated, 1)]);
    // Flows: it left once (2567) and came back once (2568), then left again (2569).
    let f = c.flows(0, 4);
    assert_eq!((f.baseline, f.exits, f.reentries, f.stock), (1, 2, 1, 0));
    assert_eq!(c.transition(0, 1, true, Flow::In, Flow::Gone), 1);
    assert_eq!(c.transition(0, 2, true, Flow::Gone, Flow::In), 1);
}

#[test]
fn a_death_a_merge_and_a_correction_are_departures_not_exits_from_poverty() {
    // Four baseline households, all poor: A dies out in 2567, B is merged into C in 2568, D
    // was registered in error (withdrawn in 2567). C stays poor throughout.
    let c = check(
        &[
            unit(0, &[In, Died, Died]),
            unit(0, &[In, In, Merged]),
            unit(0, &[In, In, In]),
            unit(0, &[In, Corrected, Corrected]),
        ],
        1,
        2,
    );
    assert_eq!(
        classes(&c, 0, 1),
        [(Class::StillIn, 2), (Class::Died, 1), (Class::Corrected, 1)]
    );
    assert_eq!(
        classes(&c, 0, 2),
        [
            (Class::StillIn, 1),
            (Class::Died, 1),
            (Class::Merged, 1),
            (Class::Corrected, 1)
        ]
    );
    // Stock falls from 4 to 1: 75 % fewer, but nobody graduated and the one household still
    // followed is still poor: the cohort's equivalent count is 4 · 1/1 = 4.
    let t = target();
    let mut report = ProgressReport::new(&t, None, Vec::new(), "village", &rounds(3));
    report.add_rows(&t, "village", &[group("v")], &rounds(3), &c, None);
    let last = report.rows.last().unwrap();
    assert_eq!(last.households.count, 1);
    assert_eq!(last.households.cohort.equivalent, Some(4.0));
    assert_eq!(last.households.cohort.left(), 3);
    assert_eq!(last.households.cohort.graduated, 0);
}

#[test]
fn graduation_needs_two_consecutive_out_assessments() {
    let c = check(
        &[
            // Out, out: graduates at the second.
            unit(0, &[In, Out, Out, Out]),
            // Out, in, out: never two in a row.
            unit(0, &[In, Out, In, Out]),
            // Out, not assessed, out: a missed assessment does not break the run.
            unit(0, &[In, Out, Unassessed, Out]),
            // Out, moved away, back out: a departure does.
            unit(0, &[In, Out, Moved, Out]),
        ],
        1,
        2,
    );
    assert_eq!(classes(&c, 0, 1), [(Class::ExitedOnce, 4)]);
    assert_eq!(
        classes(&c, 0, 2),
        [
            (Class::ReEntered, 1),
            (Class::Graduated, 1),
            (Class::CohortUnassessed, 1),
            (Class::Moved, 1)
        ]
    );
    assert_eq!(
        classes(&c, 0, 3),
        [(Class::ExitedOnce, 2), (Class::Graduated, 2)]
    );
    // With k = 3 nobody has graduated by round 3 except the first household.
    let c3 = check(
        &[unit(0, &[In, Out, Out, Out]), unit(0, &[In, Out, Out, In])],
        1,
        3,
    );
    assert_eq!(
        classes(&c3, 0, 3),
        [(Class::ReEntered, 1), (Class::Graduated, 1)]
    );
}

#[test]
fn newcomers_are_new_or_already_registered() {
    let c = check(
        &[
            unit(0, &[In, In, In]),
            // Registered at the baseline but not then poor; poor from 2567.
            unit(0, &[Out, In, In]),
            // Not assessed at the baseline; poor in 2568.
            unit(0, &[Unassessed, Out, In]),
            // Moved in in 2567, poor.
            unit(0, &[NotYet, In, Out]),
            // Born or moved in, never poor.
            unit(0, &[NotYet, NotYet, Out]),
        ],
        1,
        2,
    );
    assert_eq!(
        classes(&c, 0, 1),
        [
            (Class::StillIn, 1),
            (Class::NewcomerNew, 1),
            (Class::NewcomerExisting, 1),
            (Class::OtherOut, 1)
        ]
    );
    assert_eq!(
        classes(&c, 0, 2),
        [
            (Class::StillIn, 1),
            (Class::NewcomerExisting, 2),
            (Class::OtherOut, 2)
        ]
    );
}

fn rounds(n: usize) -> Vec<Round> {
    (0..n)
        .map(|t| Round {
            year: 2566 + t as i32,
            label: format!("จปฐ. {}", 2566 + t),
            years: t as f64,
        })
        .collect()
}

fn group(code: &str) -> Group {
    Group {
        code: code.into(),
        name_th: code.into(),
        name_en: code.into(),
    }
}

#[test]
fn a_target_met_by_departures_is_not_a_success_for_the_cohort() {
    // Ten poor households at 2566. By 2571 six have left (three died, two moved away, one
    // merged) and a newcomer household that arrived in 2567 moved away again in 2569. The
    // four baseline households still followed are poor in every round.
    let mut units = Vec::new();
    for _ in 0..4 {
        units.push(unit(0, &[In; 6]));
    }
    for cause in [Died, Died, Died, Moved, Moved, Merged] {
        units.push(unit(0, &[In, In, cause, cause, cause, cause]));
    }
    units.push(unit(0, &[NotYet, In, In, Moved, Moved, Moved]));
    let c = check(&units, 1, 2);
    let t = target();
    let mut report = ProgressReport::new(&t, None, Vec::new(), "province", &rounds(6));
    report.add_rows(&t, "province", &[group("80")], &rounds(6), &c, None);
    // Stock 2571: 4 households, below the target of 10/2 = 5: met, on track.
    let last = report.rows.last().unwrap();
    let h = &last.households;
    assert_eq!((h.count, h.baseline), (4, 10));
    assert_eq!(h.target, "5");
    assert!(h.outlook.target_met);
    assert_eq!(h.outlook.status, Status::OnTrack);
    // The cohort: 4 of the 4 still followed are in the target population, so its equivalent
    // count is 10 · 4/4 = 10: off track, nothing was achieved for it.
    assert_eq!(h.cohort.equivalent, Some(10.0));
    assert_eq!(h.cohort_outlook.status, Status::OffTrack);
    assert!(!h.cohort_outlook.target_met);
    assert_eq!((h.cohort.died, h.cohort.moved, h.cohort.merged), (3, 2, 1));
    // In 2568 the newcomer made the stock 5 (4 + 1): the newcomer counted, the cohort not.
    let r2568 = &report.rows[2];
    assert_eq!(r2568.households.count, 5);
    assert_eq!(r2568.households.cohort.newcomers_new, 1);
}

#[test]
fn area_targets_add_up_to_the_province_exactly() {
    // Three zones of 7, 11 and 13 baseline persons; with a reduction of 1/3 the targets are
    // 14/3, 22/3 and 26/3, adding up to 62/3, the province's target for 31.
    let mut t = target();
    t.reduction = Ratio::new(1, 3).unwrap();
    let mut units = Vec::new();
    for (area, n) in [(0u32, 7), (1, 11), (2, 13)] {
        for i in 0..n {
            let later = if i % 3 == 0 { Out } else { In };
            units.push(unit(area, &[In, later, later]));
        }
    }
    let c = check(&units, 3, 2);
    let groups: Vec<Group> = ["a", "b", "c"].map(group).to_vec();
    let mut report = ProgressReport::new(&t, None, Vec::new(), "zone", &rounds(3));
    report.add_rows(&t, "zone", &groups, &rounds(3), &c, None);
    report.add_rows(&t, "all", &[group("all")], &rounds(3), &c.total(), None);
    let mut sum = Ratio::ZERO;
    let mut milestones = 0.0;
    for r in report
        .rows
        .iter()
        .filter(|r| r.level == "zone" && r.year == 2568)
    {
        sum = sum.checked_add(r.households.target_exact).unwrap();
        milestones += r.households.outlook.milestone;
    }
    let all = report
        .rows
        .iter()
        .find(|r| r.level == "all" && r.year == 2568)
        .unwrap();
    assert_eq!(sum, Ratio::new(62, 3).unwrap());
    assert_eq!(sum, all.households.target_exact);
    assert_eq!(all.households.target, "62/3");
    assert!((milestones - all.households.outlook.milestone).abs() < 1e-9);
    // Stock: the zones' counts add up to the whole's.
    let zones: u64 = report
        .rows
        .iter()
        .filter(|r| r.level == "zone" && r.year == 2568)
        .map(|r| r.households.count)
        .sum();
    assert_eq!(zones, all.households.count);
    // A third of each zone (i % 3 == 0: 3, 4 and 5 households) left the target population.
    assert_eq!(all.households.count, 31 - 12);
}

#[test]
fn weighted_panels_count_persons_now_and_at_the_baseline() {
    // A household of 3 target persons at the baseline: 2 in 2567 (one member died), then out.
    // Persons now count while in; the baseline weight stands for what left.
    let c = check(&[(0, vec![In, In, Out], vec![3, 2, 0])], 1, 2);
    assert_eq!(c.weight(0, 0, Class::StillIn), 3);
    assert_eq!(c.weight(0, 1, Class::StillIn), 2);
    assert_eq!(c.weight(0, 2, Class::ExitedOnce), 3);
    assert_eq!(c.stock_weight(0, 2), 0);
}

// ---------------------------------------------------------------------------------------
// The classification stated a second way: by looking back over each unit's history rather
// than carrying a running state, checked on random panels.

fn expected_class(states: &[State], t: usize, k: u8) -> Option<Class> {
    let s = states[t];
    if states[0] != In {
        return match s {
            In if states[0].is_present() => Some(Class::NewcomerExisting),
            In => Some(Class::NewcomerNew),
            Out => Some(Class::OtherOut),
            Unassessed => Some(Class::OtherUnassessed),
            _ => None,
        };
    }
    if t == 0 {
        return Some(Class::StillIn);
    }
    let away = |x: State| !matches!(x, In | Unassessed);
    Some(match s {
        In if states[1..t].iter().any(|&x| away(x)) => Class::ReEntered,
        In => Class::StillIn,
        Out => {
            // Out-assessments in a row ending at t: back over unassessed rounds, stopped by an
            // in-assessment, a departure, or the baseline.
            let mut run = 0;
            for u in (1..=t).rev() {
                match states[u] {
                    Out => run += 1,
                    Unassessed => {}
                    _ => break,
                }
            }
            if run >= k {
                Class::Graduated
            } else {
                Class::ExitedOnce
            }
        }
        Unassessed => Class::CohortUnassessed,
        Died => Class::Died,
        Moved => Class::Moved,
        Merged => Class::Merged,
        Corrected | NotYet => Class::Corrected,
    })
}

fn any_state() -> impl Strategy<Value = State> {
    // Mostly in and out, so that runs and re-entries happen.
    prop_oneof![
        4 => Just(In),
        4 => Just(Out),
        1 => Just(Unassessed),
        1 => Just(NotYet),
        1 => Just(Died),
        1 => Just(Moved),
        1 => Just(Merged),
        1 => Just(Corrected),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_engine_agrees_with_the_look_back_statement(
        // Up to 6 rounds are counted by history, longer panels unit by unit: both are tried.
        rounds in 1usize..9,
        areas in 1usize..5,
        k in 1u8..4,
        threads in 1usize..4,
        raw in prop::collection::vec(
            (0u32..5, prop::collection::vec((any_state(), 0u16..6), 8)),
            0..80,
        ),
    ) {
        let units: Vec<(u32, Vec<State>, Vec<u16>)> = raw
            .iter()
            .map(|(a, sw)| {
                (
                    a % areas as u32,
                    sw[..rounds].iter().map(|x| x.0).collect(),
                    sw[..rounds].iter().map(|x| x.1).collect(),
                )
            })
            .collect();
        let mut b = PanelBuilder::new(rounds, areas, true);
        for (a, s, w) in &units {
            b.push(*a, s, w);
        }
        let panel = b.build();
        let c = classify(&panel.view(), PanelRules { consecutive_out: k }, threads).unwrap();
        assert_identity(&c);
        let each = classify_each(&panel.view(), PanelRules { consecutive_out: k }, threads).unwrap();
        prop_assert_eq!(&c, &each);
        let mut units_exp = vec![0u64; areas * rounds * Class::ALL.len()];
        let mut weight_exp = vec![0u64; areas * rounds * Class::ALL.len()];
        for (a, s, w) in &units {
            for t in 0..rounds {
                if let Some(cl) = expected_class(s, t, k) {
                    let i = (*a as usize * rounds + t) * Class::ALL.len() + cl as usize;
                    units_exp[i] += 1;
                    let cohort = s[0] == In;
                    weight_exp[i] += u64::from(if s[t] == In || !cohort { w[t] } else { w[0] });
                }
            }
        }
        for a in 0..areas {
            for t in 0..rounds {
                for cl in Class::ALL {
                    let i = (a * rounds + t) * Class::ALL.len() + cl as usize;
                    prop_assert_eq!(c.units(a, t, cl), units_exp[i], "area {} round {} {}", a, t, cl);
                    prop_assert_eq!(c.weight(a, t, cl), weight_exp[i], "area {} round {} {}", a, t, cl);
                }
            }
        }
        // Transitions: every unit moves once between consecutive rounds.
        for t in 1..rounds {
            let mut n = 0;
            for a in 0..areas {
                for cohort in [true, false] {
                    for from in Flow::ALL {
                        for to in Flow::ALL {
                            n += c.transition(a, t, cohort, from, to);
                        }
                    }
                }
            }
            prop_assert_eq!(n, units.len() as u64);
        }
        // The whole is the sum of its areas, and a rollup to groups sums exactly.
        let total = c.total();
        let halves: Vec<u32> = (0..areas as u32).map(|a| a % 2).collect();
        let two = c.rollup(&halves, 2);
        for t in 0..rounds {
            let sum: u64 = (0..areas).map(|a| c.stock_units(a, t)).sum();
            prop_assert_eq!(total.stock_units(0, t), sum);
            prop_assert_eq!(two.stock_units(0, t) + two.stock_units(1, t), sum);
            prop_assert_eq!(total.flows(0, t), {
                let mut f = c.flows(0, t);
                for a in 1..areas {
                    let g = c.flows(a, t);
                    f.stock += g.stock;
                    f.baseline += g.baseline;
                    f.exits += g.exits;
                    f.reentries += g.reentries;
                    f.newcomers += g.newcomers;
                }
                f
            });
        }
    }
}

#[test]
fn a_borrowed_view_of_raw_arrays_counts_like_the_builder() {
    // The benchmark hands the engine raw arrays; the same units through a builder agree.
    let area = [0u32, 0, 1, 1, 1];
    let states: Vec<u8> = [
        [In, Out, Out],
        [Out, In, In],
        [In, In, Died],
        [NotYet, In, In],
        [In, Unassessed, In],
    ]
    .iter()
    .flatten()
    .map(|&s| s as u8)
    .collect();
    let view = PanelView::new(3, 2, &area, &states, None).unwrap();
    let raw = classify(&view, PanelRules { consecutive_out: 2 }, 2).unwrap();
    let mut b = PanelBuilder::new(3, 2, false);
    for (u, &a) in area.iter().enumerate() {
        let s: Vec<State> = states[u * 3..u * 3 + 3]
            .iter()
            .map(|&x| State::from_u8(x).unwrap())
            .collect();
        b.push(a, &s, &[]);
    }
    assert_eq!(
        raw,
        classify(&b.build().view(), PanelRules { consecutive_out: 2 }, 1).unwrap()
    );
    assert_eq!(raw.units(0, 2, Class::Graduated), 1);
    assert_eq!(raw.units(1, 2, Class::StillIn), 1);
    assert_eq!(raw.units(1, 2, Class::NewcomerNew), 1);
}
