//! The bit-sliced layout must give exactly what the row layout gives: the same estimates,
//! bit for bit, on any whole-number weights, any cutoffs, any number of threads, after units
//! are patched in place (including weight changes that move a unit to another lane or force a
//! new layout) and under what-ifs that clear deprivations.

use halve_measure::{
    ClearBits, Cutoff, Estimates, Layout, Method, Ratio, Snapshot, SnapshotBuilder, WhatIf,
    estimate_with_threads, what_if,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    units: Vec<u32>,
    /// (bits, weight, year, group)
    rows: Vec<(u32, u32, u8, u8)>,
    ks: Vec<u32>,
    /// (input row, new bits, new weight)
    patches: Vec<(usize, u32, u32)>,
    /// (input rows, indicators) to clear in a what-if
    clear: (Vec<usize>, Vec<usize>),
}

fn mask(nind: usize) -> u32 {
    if nind == 32 {
        u32::MAX
    } else {
        (1 << nind) - 1
    }
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=32, 1usize..1500).prop_flat_map(|(nind, nrows)| {
        (
            prop::collection::vec(1u32..=40, nind),
            // Weights 0–9 (a household of 0 persons is a unit that counts for nothing), in
            // one or two rounds and up to three groups, so that cells hold several lanes.
            prop::collection::vec((any::<u32>(), 0u32..10, 0u8..2, 0u8..3), nrows),
            prop::collection::btree_set(1u32..=100, 1..4),
            prop::collection::vec((0..nrows, any::<u32>(), 0u32..12), 0..40),
            (
                prop::collection::vec(0..nrows, 0..60),
                prop::collection::vec(0..nind, 1..4),
            ),
        )
            .prop_map(move |(units, rows, ks, patches, clear)| Case {
                units,
                rows: rows
                    .into_iter()
                    .map(|(b, w, y, g)| (b & mask(nind), w, y, g))
                    .collect(),
                ks: ks.into_iter().collect(),
                patches: patches
                    .into_iter()
                    .map(|(r, b, w)| (r, b & mask(nind), w))
                    .collect(),
                clear,
            })
    })
}

fn method(c: &Case) -> Method {
    let total: u32 = c.units.iter().sum();
    let n = c.units.len();
    Method {
        indicators: (0..n).map(|j| format!("i{j}")).collect(),
        weights: c
            .units
            .iter()
            .map(|&u| Ratio::new(u128::from(u), u128::from(total)).unwrap())
            .collect(),
        dimensions: vec![("all".into(), 0..n)],
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
        let y = 2566.0 + f64::from(year);
        b.push(
            bits,
            f64::from(w),
            Some((y, &y.to_string())),
            &[&g.to_string()],
        )
        .unwrap();
    }
    b.build()
}

/// Estimates compared bit for bit, through their `Debug` text: a population of weight 0 has
/// NaN ratios in both layouts, and NaN is never `==` to itself.
fn same(a: &Estimates, b: &Estimates) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn both(c: &Case) -> (Snapshot, Snapshot) {
    let mut rows = snapshot(c);
    let mut sliced = rows.clone();
    assert!(rows.set_layout(Layout::Rows));
    assert!(sliced.set_layout(Layout::Sliced));
    assert_eq!(sliced.layout(), Layout::Sliced);
    (rows, sliced)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn sliced_layout_gives_the_row_layouts_estimates(c in case()) {
        let m = method(&c);
        let (mut rows, mut sliced) = both(&c);
        let want = estimate_with_threads(&rows, &m, 1).unwrap();
        for threads in [1, 2, 3] {
            let got = estimate_with_threads(&sliced, &m, threads).unwrap();
            prop_assert!(same(&got, &want), "{threads} thread(s)");
        }

        // Patch units in place in both; weights may change (moving a unit to another lane, or
        // to a new layout when its cell has no room for the weight).
        for &(input, bits, w) in &c.patches {
            rows.set_row(input, bits, f64::from(w)).unwrap();
            sliced.set_row(input, bits, f64::from(w)).unwrap();
        }
        prop_assert_eq!(sliced.layout(), Layout::Sliced);
        let want = estimate_with_threads(&rows, &m, 1).unwrap();
        let got = estimate_with_threads(&sliced, &m, 2).unwrap();
        prop_assert!(same(&got, &want), "after patches");

        let change = WhatIf {
            clear: vec![ClearBits {
                input_rows: c.clear.0.clone(),
                indicators: c.clear.1.clone(),
            }],
            ..WhatIf::default()
        };
        let want = what_if(&rows, &m, &change).unwrap();
        let got = what_if(&sliced, &m, &change).unwrap();
        prop_assert!(same(&got, &want), "what-if");
        // What-ifs work on copies.
        prop_assert!(same(
            &estimate_with_threads(&sliced, &m, 1).unwrap(),
            &estimate_with_threads(&rows, &m, 1).unwrap()
        ));
    }
}

#[test]
fn weights_that_are_not_whole_numbers_keep_the_row_layout() {
    let mut b = SnapshotBuilder::new(vec!["a".into()], vec![], false);
    for i in 0..2000 {
        b.push(i % 2, 1.5, None, &[]).unwrap();
    }
    let mut s = b.build();
    assert_eq!(s.layout(), Layout::Rows);
    assert!(!s.set_layout(Layout::Sliced));

    // A snapshot that starts sliced drops to the row layout when a patch brings a fraction.
    let mut b = SnapshotBuilder::new(vec!["a".into()], vec![], false);
    for i in 0..2000 {
        b.push(i % 2, 2.0, None, &[]).unwrap();
    }
    let mut s = b.build();
    assert_eq!(
        s.layout(),
        Layout::Sliced,
        "large whole-weight data is sliced"
    );
    let m = Method {
        indicators: vec!["a".into()],
        weights: vec![Ratio::ONE],
        dimensions: vec![("d".into(), 0..1)],
        cutoffs: vec![Cutoff::parse("100").unwrap()],
    };
    s.set_row(0, 1, 0.5).unwrap();
    assert_eq!(s.layout(), Layout::Rows);
    let e = estimate_with_threads(&s, &m, 1).unwrap();
    let all = e.find(None, None).unwrap();
    // Unit 0 (not deprived, weight 2) becomes deprived with weight 0.5: 1,000 deprived units
    // of weight 2 and one of 0.5, among 1,999 × 2 + 0.5 persons.
    assert_eq!(all.n, 3998.5);
    assert_eq!(all.at[0].q, 2000.5);
}

#[test]
fn tiny_cells_keep_the_row_layout() {
    // 300 cells of 2 rows would waste 510 of every 512 slots.
    let mut b = SnapshotBuilder::new(vec!["a".into()], vec!["g".into()], false);
    for i in 0..600 {
        b.push(1, 1.0, None, &[&(i / 2).to_string()]).unwrap();
    }
    assert_eq!(b.build().layout(), Layout::Rows);
}
