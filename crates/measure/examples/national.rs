//! The national-scale benchmark of the measurement engine (see bench/README.md and
//! BENCHMARKS.md). Three modes, all driven by bench/measure-national.sh:
//!
//! ```text
//! national gen DIR [HOUSEHOLDS] [SUBDISTRICTS]   write the seeded data set as raw arrays
//! national bench DIR [RUNS]                      time the full recompute + the bandwidth ceiling
//! national dump DIR HOUSEHOLDS OUT               halve's measures on a prefix, for the peers
//! ```
//!
//! The data (little-endian raw arrays, one entry per household, sorted by subdistrict as a
//! snapshot is): `bits.u32` (bit j = deprived in indicator j, 17 indicators), `members.u8`
//! (persons in the household, 1–6), `sub.u16` (subdistrict index 0..7436). Subdistrict `g`
//! is labelled `100000 + g`, so that its natural order is its index.
//!
//! Method: 17 indicators in 5 dimensions of 3/3/3/4/4 indicators, nested equal weights
//! (1/15 and 1/20), households identify, persons count (analysis weight = members),
//! cutoffs k = 20 and 33.
//!
//! Results written by `bench` and `dump` (`*.f64`, raw little-endian f64): one record of
//! [`RECORD`] numbers per population, the nation first (group -1) then each subdistrict in
//! order: group, n, hd[17], then for k = 20 and k = 33: H, A, M0, hdk[17], actb[17], pctb[17].

mod common;

use common::{Rng, median, read_raw, result, write_raw};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use halve_measure::{Cutoff, Estimates, Layout, Method, Ratio, Snapshot, SnapshotBuilder};

const NIND: usize = 17;
const SIZES: [usize; 5] = [3, 3, 3, 4, 4];
const RECORD: usize = 2 + NIND + 2 * (3 + 3 * NIND);
const LABEL_BASE: usize = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let num = |i: usize, default: usize| arg(i).map_or(default, |a| a.parse().expect("number"));
    match arg(0) {
        Some("gen") => generate(
            Path::new(arg(1).expect("DIR")),
            num(2, 27_000_000),
            num(3, 7_436),
        ),
        Some("bench") => bench(Path::new(arg(1).expect("DIR")), num(2, 11)),
        Some("dump") => {
            let dir = Path::new(arg(1).expect("DIR"));
            let n = num(2, 0);
            let out = PathBuf::from(arg(3).expect("OUT"));
            let snapshot = build(dir, Some(n));
            let est = halve_measure::estimate(&snapshot, &method()).unwrap();
            write_results(&est, &out);
            eprintln!(
                "wrote {} populations of {n} households to {}",
                est.groups.len(),
                out.display()
            );
        }
        _ => {
            eprintln!(
                "usage: national gen DIR [HH] [SUBDISTRICTS] | bench DIR [RUNS] | dump DIR HH OUT"
            );
            std::process::exit(2);
        }
    }
}

/// Subdistricts of uneven size (826 to 8,958 households at national scale), each with
/// its own level of deprivation; within a subdistrict households differ in how deprived they
/// are overall, so deprivations are correlated as in real data.
fn generate(dir: &Path, rows: usize, groups: usize) {
    let t = Instant::now();
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng(20_260_529);
    let sizes: Vec<f64> = (0..groups)
        .map(|_| 0.3 + 2.2 * rng.unit() * rng.unit() + rng.unit())
        .collect();
    let total: f64 = sizes.iter().sum();
    let mut counts: Vec<usize> = sizes
        .iter()
        .map(|s| (rows as f64 * s / total) as usize)
        .collect();
    let mut short = rows - counts.iter().sum::<usize>();
    for c in counts.iter_mut() {
        if short == 0 {
            break;
        }
        *c += 1;
        short -= 1;
    }
    let ind_mult: Vec<f64> = (0..NIND).map(|_| 0.5 + rng.unit()).collect();
    let hh_mult = [0.3, 0.8, 1.4, 2.6];
    let mut bits = Vec::with_capacity(rows);
    let mut members = Vec::with_capacity(rows);
    let mut sub = Vec::with_capacity(rows);
    for (g, &count) in counts.iter().enumerate() {
        let base = 0.04 + 0.18 * rng.unit();
        // Per household class and indicator: deprived iff a random byte is below this.
        let thr: Vec<[u16; NIND]> = hh_mult
            .iter()
            .map(|m| std::array::from_fn(|j| (base * m * ind_mult[j] * 256.0).min(250.0) as u16))
            .collect();
        for _ in 0..count {
            let r0 = rng.next();
            let r1 = rng.next();
            let r2 = rng.next();
            let class = &thr[(r2 >> 62) as usize];
            let mut b = 0u32;
            for (j, &t) in class.iter().enumerate() {
                let byte = match j {
                    0..8 => r0 >> (8 * j),
                    8..16 => r1 >> (8 * (j - 8)),
                    _ => r2,
                } as u8;
                if u16::from(byte) < t {
                    b |= 1 << j;
                }
            }
            let p = (r2 >> 8) % 100;
            let m = match p {
                0..28 => 1u8,
                28..59 => 2,
                59..79 => 3,
                79..91 => 4,
                91..97 => 5,
                _ => 6,
            };
            bits.push(b);
            members.push(m);
            sub.push(g as u16);
        }
    }
    write_raw(
        &dir.join("bits.u32"),
        &bits
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    write_raw(&dir.join("members.u8"), &members);
    write_raw(
        &dir.join("sub.u16"),
        &sub.iter()
            .flat_map(|b| b.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let persons: u64 = members.iter().map(|&m| u64::from(m)).sum();
    std::fs::write(
        dir.join("meta.json"),
        format!(
            "{{\"households\": {rows}, \"persons\": {persons}, \"subdistricts\": {groups}, \"indicators\": {NIND}, \"seed\": 20260529}}\n"
        ),
    )
    .unwrap();
    eprintln!(
        "generated {rows} households ({persons} persons) in {groups} subdistricts in {:.1?}",
        t.elapsed()
    );
}

/// The snapshot of the first `limit` households (all when `None`), built as halve builds one.
fn build(dir: &Path, limit: Option<usize>) -> Snapshot {
    let bits = read_raw(&dir.join("bits.u32"));
    let members = read_raw(&dir.join("members.u8"));
    let sub = read_raw(&dir.join("sub.u16"));
    let n = limit.unwrap_or(members.len()).min(members.len());
    let names: Vec<String> = (0..NIND).map(|j| format!("i{:02}", j + 1)).collect();
    let groups = sub
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = (0..=usize::from(groups))
        .map(|g| (LABEL_BASE + g).to_string())
        .collect();
    let mut b = SnapshotBuilder::new(names, vec!["subdistrict".into()], false);
    for i in 0..n {
        let bits = u32::from_le_bytes(bits[4 * i..4 * i + 4].try_into().unwrap());
        let g = u16::from_le_bytes([sub[2 * i], sub[2 * i + 1]]);
        b.push(
            bits,
            f64::from(members[i]),
            None,
            &[&labels[usize::from(g)]],
        )
        .unwrap();
    }
    b.build()
}

fn method() -> Method {
    let mut weights = Vec::new();
    let mut dimensions = Vec::new();
    let mut start = 0;
    for (d, &s) in SIZES.iter().enumerate() {
        weights.extend(std::iter::repeat_n(
            Ratio::new(1, 5 * s as u128).unwrap(),
            s,
        ));
        dimensions.push((format!("d{}", d + 1), start..start + s));
        start += s;
    }
    Method {
        indicators: (0..NIND).map(|j| format!("i{:02}", j + 1)).collect(),
        weights,
        dimensions,
        cutoffs: vec![Cutoff::parse("20").unwrap(), Cutoff::parse("33").unwrap()],
    }
}

fn write_results(est: &Estimates, out: &Path) {
    let mut v: Vec<f64> = Vec::with_capacity(est.groups.len() * RECORD);
    for g in &est.groups {
        let id = match g.group {
            None => -1.0,
            Some(i) => (est.by[0].values[i].parse::<usize>().unwrap() - LABEL_BASE) as f64,
        };
        v.push(id);
        v.push(g.n);
        v.extend(&g.hd);
        for at in &g.at {
            v.extend([at.h, at.a, at.m0]);
            v.extend(at.hdk());
            v.extend(at.actb());
            v.extend(at.pctb());
        }
    }
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::File::create(out)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
}

fn bench(dir: &Path, runs: usize) {
    let t = Instant::now();
    let mut snapshot = build(dir, None);
    eprintln!(
        "snapshot: {} households in {} cells, built in {:.1?}",
        snapshot.len(),
        snapshot.cells().len(),
        t.elapsed()
    );
    let method = method();
    let rows = snapshot.len();
    result("households", rows);
    result("subdistricts", snapshot.by()[0].values.len());

    // Both layouts, the bit-sliced one (what halve uses for whole-number weights) first. The
    // row layout is the previous engine, kept for weights that are not whole numbers: it is
    // the in-house peer, and its results must be identical.
    let mut reference: Option<Estimates> = None;
    let mut engine_bytes = 0;
    // NATIONAL_LAYOUTS=sliced times only the sliced layout (for profiling).
    let only = std::env::var("NATIONAL_LAYOUTS").unwrap_or_default();
    for (layout, tag) in [(Layout::Sliced, "sliced"), (Layout::Rows, "rows")] {
        if !only.is_empty() && !only.split(',').any(|l| l == tag) {
            continue;
        }
        assert!(snapshot.set_layout(layout), "{tag} layout");
        let bytes = snapshot.scan_bytes();
        result(&format!("{tag}_bytes"), bytes);
        for threads in [2usize, 1] {
            // One warm-up, then the timed runs.
            let warm = halve_measure::estimate_with_threads(&snapshot, &method, threads).unwrap();
            let cpu0 = cpu_ticks();
            let mut ms = Vec::with_capacity(runs);
            for _ in 0..runs {
                let t = Instant::now();
                let e = halve_measure::estimate_with_threads(&snapshot, &method, threads).unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(&e);
            }
            let cpu_ms = (cpu_ticks() - cpu0) as f64 * 10.0 / runs as f64;
            let min = ms.iter().cloned().fold(f64::INFINITY, f64::min);
            let med = median(&mut ms);
            eprintln!(
                "engine ({tag}), {threads} thread(s): median {med:.1} ms, min {min:.1} ms over {runs} runs; {cpu_ms:.0} ms CPU per run"
            );
            // The sliced layout is the engine; its keys keep the names the driver reads.
            let key = if tag == "sliced" {
                format!("engine_t{threads}")
            } else {
                format!("rows_t{threads}")
            };
            result(&format!("{key}_median_ms"), format!("{med:.2}"));
            result(&format!("{key}_min_ms"), format!("{min:.2}"));
            result(&format!("{key}_cpu_ms"), format!("{cpu_ms:.0}"));
            result(&format!("{key}_runs"), runs);
            match &reference {
                None => reference = Some(warm),
                Some(r) => assert!(
                    r.groups == warm.groups,
                    "{tag} layout, {threads} thread(s): estimates differ"
                ),
            }
        }
        if tag == "sliced" {
            engine_bytes = bytes;
        }
    }
    result("engine_bytes", engine_bytes);
    let est = reference.unwrap();
    result("populations", est.groups.len());
    let all = est.find(None, None).unwrap();
    result("persons", all.n);
    result("H20", all.at[0].h);
    result("M0_33", all.at[1].m0);
    write_results(&est, &dir.join("halve_results.f64"));
    drop(snapshot);

    // STREAM-style read bandwidth: sum a u64 array on 1 and 2 threads. Two sizes: 2 GiB
    // (well beyond any cache: main memory) and the engine's own working set.
    for (label, bytes) in [("2gib", 2usize << 30), ("engine_size", engine_bytes)] {
        let words = bytes / 8;
        let data: Vec<u64> = (0..words as u64).collect();
        for threads in [2usize, 1] {
            let reps = runs.max(5);
            let mut gbs = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t = Instant::now();
                let s = read_sum(&data, threads);
                let secs = t.elapsed().as_secs_f64();
                std::hint::black_box(s);
                gbs.push(bytes as f64 / secs / 1e9);
            }
            let best = gbs.iter().cloned().fold(0.0, f64::max);
            let med = median(&mut gbs);
            eprintln!(
                "read bandwidth ({label}, {threads} thread(s)): best {best:.2} GB/s, median {med:.2} GB/s"
            );
            result(
                &format!("bw_{label}_t{threads}_best_gbs"),
                format!("{best:.3}"),
            );
            result(
                &format!("bw_{label}_t{threads}_median_gbs"),
                format!("{med:.3}"),
            );
        }
    }
}

/// Sum of all words, split across `threads` threads; eight independent lanes vectorise.
fn read_sum(data: &[u64], threads: usize) -> u64 {
    let chunk = data.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut lanes = [0u64; 8];
                    let mut it = part.chunks_exact(8);
                    for c in &mut it {
                        for i in 0..8 {
                            lanes[i] = lanes[i].wrapping_add(c[i]);
                        }
                    }
                    let rest: u64 = it.remainder().iter().fold(0, |a, &x| a.wrapping_add(x));
                    lanes.iter().fold(rest, |a, &x| a.wrapping_add(x))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold(0, u64::wrapping_add)
    })
}

/// User + system time of this process in clock ticks (1/100 s on Linux), 0 elsewhere.
fn cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}
