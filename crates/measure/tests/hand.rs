//! Cases computed by hand, identification exactly at the cutoff, and what-if runs.

use halve_measure::{
    ClearBits, Cutoff, Method, Ratio, Snapshot, SnapshotBuilder, Spec, WhatIf, estimate, what_if,
};

/// Builds a snapshot of one round and one subgroup column `g` from (bits, weight, group).
fn snapshot(indicators: &[&str], rows: &[(u32, f64, &str)]) -> Snapshot {
    let mut b = SnapshotBuilder::new(
        indicators.iter().map(|s| s.to_string()).collect(),
        vec!["g".into()],
        false,
    );
    for &(bits, w, g) in rows {
        b.push(bits, w, None, &[g]).unwrap();
    }
    b.build()
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: got {got}, want {want}");
}

const SPEC: &str = r#"
id = "hand"
k = [50, 25]
[[dimension]]
name = "d1"
indicators = ["a", "b"]
[[dimension]]
name = "d2"
indicators = ["c"]
"#;

/// Nested equal weights: a = b = 1/4, c = 1/2. Five households (bits: a=1, b=2, c=4):
///
/// | unit | deprived | score | weight | poor at 50 | poor at 25 |
/// | u1   | a, b     | 1/2   | 2      | yes (c = k exactly) | yes |
/// | u2   | c        | 1/2   | 1      | yes        | yes |
/// | u3   | a        | 1/4   | 1      | no         | yes (c = k exactly) |
/// | u4   | —        | 0     | 4      | no         | no  |
/// | u5   | a, b, c  | 1     | 2      | yes        | yes |
///
/// n = 10. At k = 50: q = 5, H = 0.5; Σ w·c = 2·½ + 1·½ + 2·1 = 3.5, A = 0.7, M0 = 0.35;
/// hdk a = b = (2+2)/10 = 0.4, c = (1+2)/10 = 0.3; actb a = b = 0.1, c = 0.15 (sum 0.35);
/// pctb a = 2/7; dimensions d1 = 0.2, d2 = 0.15.
/// At k = 25: u3 joins: q = 6, H = 0.6; Σ w·c = 3.75, A = 0.625, M0 = 0.375; hdk a = 0.5.
/// Uncensored hd: a = (2+1+2)/10 = 0.5, b = 0.4, c = 0.3.
/// Subgroups: x = {u1, u2}, y = {u3, u4, u5}. x at k = 50: n = 3, q = 3, M0 = 1.5/3 = 0.5;
/// y: n = 7, q = 2, M0 = 2/7.
#[test]
fn five_households_by_hand() {
    let spec = Spec::from_toml_str(SPEC, "hand.toml").unwrap();
    let snap = snapshot(
        &["a", "b", "c"],
        &[
            (0b011, 2.0, "x"),
            (0b100, 1.0, "x"),
            (0b001, 1.0, "y"),
            (0b000, 4.0, "y"),
            (0b111, 2.0, "y"),
        ],
    );
    let method = Method::from_spec(&spec, None).unwrap();
    let est = estimate(&snap, &method).unwrap();
    let all = est.find(None, None).unwrap();
    assert_eq!(all.n_units, 5);
    close(all.n, 10.0, "n");
    close(all.hd[0], 0.5, "hd a");
    close(all.hd[1], 0.4, "hd b");
    close(all.hd[2], 0.3, "hd c");

    let k50 = &all.at[0];
    close(k50.h, 0.5, "H 50");
    close(k50.a, 0.7, "A 50");
    close(k50.m0, 0.35, "M0 50");
    close(k50.q, 5.0, "q 50");
    assert_eq!(k50.q_units, 3);
    close(k50.hdk()[0], 0.4, "hdk a");
    close(k50.hdk()[2], 0.3, "hdk c");
    close(k50.actb()[0], 0.1, "actb a");
    close(k50.actb()[2], 0.15, "actb c");
    close(k50.pctb()[0], 2.0 / 7.0, "pctb a");
    close(k50.dim_actb()[0], 0.2, "d1");
    close(k50.dim_actb()[1], 0.15, "d2");

    let k25 = &all.at[1];
    close(k25.h, 0.6, "H 25");
    close(k25.a, 0.625, "A 25");
    close(k25.m0, 0.375, "M0 25");
    close(k25.hdk()[0], 0.5, "hdk a 25");

    let x = est.find(None, Some((0, 0))).unwrap();
    let y = est.find(None, Some((0, 1))).unwrap();
    assert_eq!(est.by[0].values, ["x", "y"]);
    close(x.at[0].m0, 0.5, "M0 x");
    close(y.at[0].m0, 2.0 / 7.0, "M0 y");
    close(y.at[0].h, 2.0 / 7.0, "H y");
}

/// Weights 0.7, 0.1, 0.2 and k = 80: a unit deprived in the first two has c = 0.8 exactly and
/// is poor. In floats 0.7 + 0.1 = 0.7999999999999999 < 0.8, which would miss it.
#[test]
fn a_unit_exactly_at_the_cutoff_is_poor() {
    // The float trap this test guards against (black_box keeps it a run-time sum).
    let float_sum: f64 = std::hint::black_box(0.7f64) + std::hint::black_box(0.1);
    assert!(float_sum < 0.8);
    let spec = Spec::from_toml_str(
        r#"id = "edge"
k = [80]
[[dimension]]
name = "d"
indicators = [
  { name = "p", weight = 0.7 },
  { name = "q", weight = 0.1 },
  { name = "r", weight = "1/5" },
]
"#,
        "edge.toml",
    )
    .unwrap();
    let snap = snapshot(&["p", "q", "r"], &[(0b011, 1.0, "x"), (0b101, 1.0, "x")]);
    let method = Method::from_spec(&spec, None).unwrap();
    let scoring = method.scoring().unwrap();
    assert_eq!(scoring.total, 10);
    assert_eq!(scoring.units, [7, 1, 2]);
    assert!(scoring.is_poor(0b011, &spec.cutoffs[0]));
    let est = estimate(&snap, &method).unwrap();
    close(est.find(None, None).unwrap().at[0].h, 1.0, "H");

    // k = 100/3 with weights in sixths: c = 1/3 exactly is poor, c = 1/6 is not.
    let third = Cutoff::parse("100/3").unwrap();
    assert_eq!(third.fraction(), Ratio::new(1, 3).unwrap());
    let six = Spec::from_toml_str(
        "id = \"s\"\n[[dimension]]\nname = \"a\"\nindicators = [\"i1\", \"i2\"]\n[[dimension]]\nname = \"b\"\nindicators = [\"i3\", \"i4\", \"i5\"]\n",
        "s.toml",
    )
    .unwrap();
    let m = Method::from_spec(&six, Some(vec![third.clone()])).unwrap();
    let s = m.scoring().unwrap();
    // i3 + i4 = 1/6 + 1/6 = 1/3.
    assert!(s.is_poor(0b01100, &third));
    assert!(!s.is_poor(0b00100, &third));
    // k = 33.33 is below 1/3, so the same unit is poor there too, and at 33.34 it is not.
    assert!(s.is_poor(0b01100, &Cutoff::parse("33.33").unwrap()));
    assert!(!s.is_poor(0b01100, &Cutoff::parse("33.34").unwrap()));
}

#[test]
fn what_if_recomputes_on_a_copy() {
    let spec = Spec::from_toml_str(SPEC, "hand.toml").unwrap();
    let snap = snapshot(
        &["a", "b", "c"],
        &[
            (0b011, 2.0, "x"),
            (0b100, 1.0, "x"),
            (0b001, 1.0, "y"),
            (0b000, 4.0, "y"),
            (0b111, 2.0, "y"),
        ],
    );
    let before = snap.bits().to_vec();
    let method = Method::from_spec(&spec, None).unwrap();

    // Lift u5 (input row 4) out of deprivation in c: its score falls to 1/2, still poor at 50;
    // u2 (row 1) loses c: score 0, no longer poor. At k = 50: poor u1, u5 → q = 4, H = 0.4;
    // Σ w·c = 2·½ + 2·½ = 2, M0 = 0.2.
    let change = WhatIf {
        clear: vec![ClearBits {
            input_rows: vec![1, 4],
            indicators: vec![method.indicator("c").unwrap()],
        }],
        ..WhatIf::default()
    };
    let est = what_if(&snap, &method, &change).unwrap();
    let all = est.find(None, None).unwrap();
    close(all.at[0].h, 0.4, "H after");
    close(all.at[0].m0, 0.2, "M0 after");
    close(all.hd[2], 0.0, "hd c after");
    assert_eq!(snap.bits(), before, "the snapshot must not change");
    close(
        estimate(&snap, &method)
            .unwrap()
            .find(None, None)
            .unwrap()
            .at[0]
            .m0,
        0.35,
        "M0 untouched",
    );

    // Another k: at k = 100 only u5 is poor: H = 0.2, A = 1.
    let est = what_if(
        &snap,
        &method,
        &WhatIf {
            cutoffs: Some(vec![Cutoff::parse("100").unwrap()]),
            ..WhatIf::default()
        },
    )
    .unwrap();
    close(est.find(None, None).unwrap().at[0].h, 0.2, "H at 100");

    // Other weights: c alone carries everything (a, b a token 1/100 each); k = 50 keeps u2,
    // u5 and drops u1 (score 1/50).
    let w = |s: &str| Ratio::parse(s).unwrap();
    let est = what_if(
        &snap,
        &method,
        &WhatIf {
            weights: Some(vec![w("1/100"), w("1/100"), w("98/100")]),
            ..WhatIf::default()
        },
    )
    .unwrap();
    close(est.find(None, None).unwrap().at[0].h, 0.3, "H reweighted");
    // Weights that do not sum to 1 are refused.
    assert!(
        what_if(
            &snap,
            &method,
            &WhatIf {
                weights: Some(vec![w("1/2"), w("1/2"), w("1/2")]),
                ..WhatIf::default()
            },
        )
        .is_err()
    );
}

#[test]
fn many_indicators_use_several_bytes() {
    // 20 indicators in one dimension, 1/20 each; a unit deprived in the last 7 has c = 0.35.
    let names: Vec<String> = (0..20).map(|i| format!("i{i}")).collect();
    let list = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let spec = Spec::from_toml_str(
        &format!(
            "id = \"wide\"\nk = [35, 36]\n[[dimension]]\nname = \"d\"\nindicators = [{list}]\n"
        ),
        "wide.toml",
    )
    .unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let last7 = 0b1111111u32 << 13;
    let snap = snapshot(&refs, &[(last7, 1.0, "x"), (0b1, 3.0, "x")]);
    let est = estimate(&snap, &Method::from_spec(&spec, None).unwrap()).unwrap();
    let all = est.find(None, None).unwrap();
    close(all.at[0].h, 0.25, "H at 35");
    close(all.at[0].a, 0.35, "A at 35");
    close(all.at[1].h, 0.0, "H at 36");
    close(all.at[1].a, 0.0, "A when nobody is poor");
    close(all.at[0].hdk()[19], 0.25, "hdk of the last indicator");
    close(all.hd[0], 0.75, "hd of the first indicator");
}

#[test]
fn thirty_two_indicators_fill_the_profile() {
    let names: Vec<String> = (0..32).map(|i| format!("i{i}")).collect();
    let list = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let spec = Spec::from_toml_str(
        &format!(
            "id = \"full\"\nk = [100, 50]\n[[dimension]]\nname = \"d\"\nindicators = [{list}]\n"
        ),
        "full.toml",
    )
    .unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // Everything deprived; then the top 16 only (c = 1/2, exactly at k = 50).
    let snap = snapshot(&refs, &[(u32::MAX, 1.0, "x"), (0xFFFF_0000, 1.0, "x")]);
    let est = estimate(&snap, &Method::from_spec(&spec, None).unwrap()).unwrap();
    let all = est.find(None, None).unwrap();
    close(all.at[0].h, 0.5, "H at 100");
    close(all.at[1].h, 1.0, "H at 50");
    close(all.at[1].a, 0.75, "A at 50");
    close(all.hd[31], 1.0, "hd of bit 31");
    close(all.hd[0], 0.5, "hd of bit 0");
    // A 33rd indicator is refused.
    let list33 = format!("{list}, \"i32\"");
    let err = Spec::from_toml_str(
        &format!("id = \"over\"\n[[dimension]]\nname = \"d\"\nindicators = [{list33}]\n"),
        "over.toml",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("33 indicators: at most 32"),
        "{err}"
    );
}
