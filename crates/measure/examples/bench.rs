//! Times the engine on a synthetic national-scale snapshot (default: 27M households,
//! 17 indicators, 7,436 subdistricts, cutoffs 20 and 33).
//!
//! cargo run --release -p halve-measure --example bench -- [ROWS] [GROUPS] [THREADS]

use std::time::Instant;

use halve_measure::{Cutoff, Method, Ratio, SnapshotBuilder, estimate_with_threads};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().unwrap());
    let rows = args.next().unwrap_or(27_000_000);
    let groups = args.next().unwrap_or(7_436);
    let threads = args.next().unwrap_or(2);
    let nind = 17;

    // A cheap deterministic generator (xorshift) so that the benchmark needs no crate.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let t = Instant::now();
    let names: Vec<String> = (0..nind).map(|j| format!("i{j}")).collect();
    let mut b = SnapshotBuilder::new(names.clone(), vec!["area".into()], false);
    let labels: Vec<String> = (0..groups).map(|g| format!("{:06}", 800_000 + g)).collect();
    for i in 0..rows {
        let r = next();
        // Each indicator deprived with probability about 1/8, so scores spread around k.
        let mut bits = 0u32;
        let mut s = r;
        for j in 0..nind {
            if s & 7 == 0 {
                bits |= 1 << j;
            }
            s = s.rotate_right(3);
        }
        let members = 1 + (r >> 60) as u32 % 6;
        let group = &labels[i * groups / rows];
        b.push(bits, f64::from(members), None, &[group]).unwrap();
    }
    let snapshot = b.build();
    eprintln!(
        "built {} rows in {} cells in {:.1?}",
        snapshot.len(),
        snapshot.cells().len(),
        t.elapsed()
    );

    // Nested equal weights over 5 dimensions of 3/3/3/4/4 indicators.
    let sizes = [3u128, 3, 3, 4, 4];
    let mut weights = Vec::new();
    let mut dimensions = Vec::new();
    let mut start = 0;
    for (d, &s) in sizes.iter().enumerate() {
        weights.extend(std::iter::repeat_n(
            Ratio::new(1, 5 * s).unwrap(),
            s as usize,
        ));
        dimensions.push((format!("d{d}"), start..start + s as usize));
        start += s as usize;
    }
    let method = Method {
        indicators: names,
        weights,
        dimensions,
        cutoffs: vec![Cutoff::parse("20").unwrap(), Cutoff::parse("33").unwrap()],
    };
    // CPU time as well as wall time: on a shared machine the wall clock also counts waiting.
    let cpu_before = cpu_ticks();
    let runs = 5;
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        let est = estimate_with_threads(&snapshot, &method, threads).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        best = best.min(ms);
        let all = est.find(None, None).unwrap();
        eprintln!(
            "estimate: {ms:.1} ms on {threads} threads ({} groups; H20 = {:.4}, M0_33 = {:.4})",
            est.groups.len(),
            all.at[0].h,
            all.at[1].m0
        );
    }
    let cpu_ms = (cpu_ticks() - cpu_before) as f64 * 10.0 / f64::from(runs);
    println!("best of {runs}: {best:.1} ms wall; {cpu_ms:.0} ms CPU per run (all threads)");
}

/// User + system time of this process in clock ticks (1/100 s on Linux), 0 elsewhere.
fn cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14th and 15th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}
