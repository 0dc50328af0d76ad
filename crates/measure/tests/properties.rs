//! Properties of Alkire–Foster measures that must hold on any data, checked on random
//! snapshots against a naive reference computed row by row in exact arithmetic.

use halve_measure::{
    Cutoff, Estimates, Method, Ratio, Snapshot, SnapshotBuilder, estimate_with_threads,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    units: Vec<u32>,
    /// (bits, weight in quarters, year, group)
    rows: Vec<(u32, u32, u8, u8)>,
    ks: Vec<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=20).prop_flat_map(|nind| {
        (
            prop::collection::vec(1u32..=12, nind),
            prop::collection::vec((0u32..(1u32 << nind), 1u32..=16, 0u8..2, 0u8..4), 1..150),
            prop::collection::btree_set(1u32..=100, 1..5),
        )
            .prop_map(|(units, rows, ks)| Case {
                units,
                rows,
                ks: ks.into_iter().collect(),
            })
    })
}

fn method(c: &Case) -> Method {
    let total: u32 = c.units.iter().sum();
    let n = c.units.len();
    let half = n / 2;
    Method {
        indicators: (0..n).map(|j| format!("i{j}")).collect(),
        weights: c
            .units
            .iter()
            .map(|&u| Ratio::new(u128::from(u), u128::from(total)).unwrap())
            .collect(),
        dimensions: vec![("first".into(), 0..half), ("second".into(), half..n)],
        cutoffs: c
            .ks
            .iter()
            .map(|k| Cutoff::parse(&k.to_string()).unwrap())
            .collect(),
    }
}

fn snapshot(c: &Case) -> Snapshot {
    let names = (0..c.units.len()).map(|j| format!("i{j}")).collect();
    let mut b = SnapshotBuilder::new(names, vec!["g".into()], true);
    for &(bits, w, year, g) in &c.rows {
        let y = 2560.0 + f64::from(year) * 2.5;
        b.push(
            bits,
            f64::from(w) / 4.0,
            Some((y, &y.to_string())),
            &[&g.to_string()],
        )
        .unwrap();
    }
    b.build()
}

/// Naive H, A, M0, hdk per indicator of the rows selected, straight from the definitions.
fn naive(c: &Case, k: u32, keep: impl Fn(u8, u8) -> bool) -> (f64, f64, f64, Vec<f64>) {
    let total: u32 = c.units.iter().sum();
    let (mut n, mut q, mut s) = (0.0, 0.0, 0.0);
    let mut hdk = vec![0.0; c.units.len()];
    for &(bits, w, year, g) in &c.rows {
        if !keep(year, g) {
            continue;
        }
        let w = f64::from(w) / 4.0;
        let units: u32 = (0..c.units.len())
            .filter(|j| bits >> j & 1 == 1)
            .map(|j| c.units[j])
            .sum();
        n += w;
        // c = units/total >= k/100, exactly.
        if units * 100 >= k * total {
            q += w;
            s += w * f64::from(units) / f64::from(total);
            for (j, h) in hdk.iter_mut().enumerate() {
                if bits >> j & 1 == 1 {
                    *h += w;
                }
            }
        }
    }
    let a = if q > 0.0 { s / q } else { 0.0 };
    (q / n, a, s / n, hdk.into_iter().map(|h| h / n).collect())
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9
}

fn run(c: &Case, threads: usize) -> Estimates {
    estimate_with_threads(&snapshot(c), &method(c), threads).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn engine_matches_the_definitions(c in case()) {
        let est = run(&c, 1);
        for g in &est.groups {
            let year = ((est.years[g.year.unwrap()].value - 2560.0) / 2.5) as u8;
            let group = g.group.map(|v| est.by[0].values[v].parse::<u8>().unwrap());
            for (ci, &k) in c.ks.iter().enumerate() {
                let (h, a, m0, hdk) = naive(&c, k, |y, gg| y == year && group.is_none_or(|x| x == gg));
                let at = &g.at[ci];
                prop_assert!(near(at.h, h), "H {} vs {}", at.h, h);
                prop_assert!(near(at.a, a), "A {} vs {}", at.a, a);
                prop_assert!(near(at.m0, m0), "M0 {} vs {}", at.m0, m0);
                for (got, want) in at.hdk().iter().zip(&hdk) {
                    prop_assert!(near(*got, *want));
                }
            }
        }
    }

    #[test]
    fn identities_hold(c in case()) {
        let est = run(&c, 1);
        for g in &est.groups {
            for at in &g.at {
                // M0 = H × A.
                prop_assert!(near(at.m0, at.h * at.a));
                // Contributions sum to M0, and to 100 %.
                prop_assert!(near(at.actb().iter().sum::<f64>(), at.m0));
                prop_assert!(near(at.dim_actb().iter().sum::<f64>(), at.m0));
                if at.m0 > 0.0 {
                    prop_assert!(near(at.pctb().iter().sum::<f64>(), 1.0));
                    prop_assert!(near(at.dim_pctb().iter().sum::<f64>(), 1.0));
                }
                // Censored headcounts never exceed uncensored ones.
                for j in 0..at.hdk().len() {
                    prop_assert!(at.hdk()[j] <= g.hd[j] + 1e-12);
                }
            }
        }
    }

    #[test]
    fn subgroups_decompose_the_whole(c in case()) {
        let est = run(&c, 1);
        for whole in est.groups.iter().filter(|g| g.by.is_none()) {
            let parts: Vec<_> = est.groups.iter()
                .filter(|g| g.year == whole.year && g.by == Some(0))
                .collect();
            prop_assert!(near(parts.iter().map(|p| p.n).sum::<f64>(), whole.n));
            for ci in 0..c.ks.len() {
                let m0: f64 = parts.iter().map(|p| p.n / whole.n * p.at[ci].m0).sum();
                let h: f64 = parts.iter().map(|p| p.n / whole.n * p.at[ci].h).sum();
                prop_assert!(near(m0, whole.at[ci].m0), "M0 {} vs {}", m0, whole.at[ci].m0);
                prop_assert!(near(h, whole.at[ci].h));
            }
        }
    }

    #[test]
    fn headcount_falls_as_k_rises(c in case()) {
        // c.ks is ascending (it came from a set).
        let est = run(&c, 1);
        for g in &est.groups {
            for pair in g.at.windows(2) {
                prop_assert!(pair[1].h <= pair[0].h);
                prop_assert!(pair[1].m0 <= pair[0].m0 + 1e-15);
            }
        }
    }

    #[test]
    fn threads_do_not_change_results(c in case(), threads in 2usize..5) {
        let one = run(&c, 1);
        let many = run(&c, threads);
        prop_assert_eq!(one.groups.len(), many.groups.len());
        for (a, b) in one.groups.iter().zip(&many.groups) {
            prop_assert_eq!(a.n_units, b.n_units);
            for (x, y) in a.at.iter().zip(&b.at) {
                prop_assert!(near(x.h, y.h) && near(x.a, y.a) && near(x.m0, y.m0));
                prop_assert_eq!(x.q_units, y.q_units);
            }
        }
    }

    #[test]
    fn a_unit_exactly_at_k_is_poor(units in prop::collection::vec(1u32..=30, 1..20), pick in any::<u32>()) {
        let n = units.len();
        let bits = (pick & ((1u64 << n) - 1) as u32).max(1);
        let total: u32 = units.iter().sum();
        let score: u32 = (0..n).filter(|j| bits >> j & 1 == 1).map(|j| units[j]).sum();
        // k in percent = 100·score/total, written as an exact fraction.
        let at = Cutoff::parse(&format!("{}/{}", 100 * score, total)).unwrap();
        let c = Case { units: units.clone(), rows: vec![(bits, 4, 0, 0)], ks: vec![] };
        let mut m = method(&c);
        m.cutoffs = vec![at];
        if score < total {
            // Just above the score, in exact terms: (100·score + 1)/total percent.
            m.cutoffs.push(Cutoff::parse(&format!("{}/{}", 100 * score + 1, total)).unwrap());
        }
        let est = estimate_with_threads(&snapshot(&c), &m, 1).unwrap();
        let all = &est.groups[0];
        prop_assert_eq!(all.at[0].h, 1.0);
        if score < total {
            prop_assert_eq!(all.at[1].h, 0.0);
        }
    }
}
