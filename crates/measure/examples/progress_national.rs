//! The national-scale benchmark of the target engine: progress for a whole country (27 million
//! households, 5 rounds) by subdistrict, rolled up to districts and provinces (see
//! BENCHMARKS.md, "Progress (target engine)", and bench/progress_numpy.py, the peer).
//!
//! ```text
//! progress_national gen DIR [HOUSEHOLDS] [SUBDISTRICTS] [ROUNDS]   write the seeded panel
//! progress_national bench DIR [RUNS]                              time it, 2 threads and 1
//! progress_national dump DIR OUT                                  the counts, for the peer
//! ```
//!
//! The data (little-endian raw arrays, households sorted by subdistrict, never committed):
//! `area.u32` (subdistrict index), `states.u8` (one `State` byte per household and round,
//! household-major), `weights.u16` (persons of the target population in the household that
//! round), and `meta.txt` (households, rounds, subdistricts, seed). Each subdistrict has its
//! own baseline share in the target population and its own pace of exits; households arrive,
//! leave (died, moved, merged, corrected), come back, go unassessed, as a Markov chain.
//!
//! Districts and provinces are a synthetic hierarchy of Thailand's sizes: subdistrict `g` of
//! `S` lies in district `g·928/S`, district `d` in province `d·77/928`.
//!
//! What `bench` times, from the arrays in memory: `classify` (every household classified in
//! every round, counted per subdistrict with its transitions), then the rollups to 928
//! districts, 77 provinces and the nation, and the progress rows (milestone, change, rate,
//! projection, status, met year, cohort figures) of all 8,442 areas in all rounds.

mod common;

use common::{Rng, median, result, write_raw};
use std::path::Path;
use std::time::Instant;

use halve_measure::Target;
use halve_measure::panel::{
    Class, Flow, PanelCounts, PanelRules, PanelView, State, classify, classify_each,
};
use halve_measure::progress::{Group, ProgressReport, Round};

const SEED: u64 = 25_660_223;
const DISTRICTS: usize = 928;
const PROVINCES: usize = 77;

const TARGET: &str = r#"
id = "bench-halve"
rule = "low_income"
baseline = 2566
horizon_years = 5
reduction = "1/2"
consecutive_out = 2
[low_income]
[[low_income.threshold]]
from = 2566
to = 2575
baht = 38000
"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let num = |i: usize, default: usize| arg(i).map_or(default, |a| a.parse().expect("number"));
    match arg(0) {
        Some("gen") => generate(
            Path::new(arg(1).expect("DIR")),
            num(2, 27_000_000),
            num(3, 7_436),
            num(4, 5),
        ),
        Some("bench") => bench(Path::new(arg(1).expect("DIR")), num(2, 11)),
        Some("dump") => dump(
            Path::new(arg(1).expect("DIR")),
            Path::new(arg(2).expect("OUT")),
        ),
        _ => {
            eprintln!(
                "usage: progress_national gen DIR [HH] [SUBDISTRICTS] [ROUNDS] | bench DIR [RUNS] | dump DIR OUT"
            );
            std::process::exit(2);
        }
    }
}

/// One subdistrict's dynamics.
struct Params {
    share_in: f64,
    exit: f64,
    reenter: f64,
}

fn step(s: State, p: &Params, rng: &mut Rng) -> State {
    use State::*;
    let r = rng.unit();
    let arrive = |r: f64| if r < p.share_in { In } else { Out };
    match s {
        NotYet => {
            if r < 0.02 {
                arrive(rng.unit())
            } else {
                NotYet
            }
        }
        In | Out => {
            let (stay, other) = if s == In { (In, Out) } else { (Out, In) };
            let change = if s == In { p.exit } else { p.reenter };
            let mut edge = change;
            if r < edge {
                return other;
            }
            for (q, to) in [
                (0.02, Unassessed),
                (0.004, Died),
                (0.008, Moved),
                (0.0008, Merged),
                (0.0004, Corrected),
            ] {
                edge += q;
                if r < edge {
                    return to;
                }
            }
            stay
        }
        Unassessed => {
            if r < 0.9 {
                arrive(rng.unit())
            } else {
                Unassessed
            }
        }
        Moved => {
            if r < 0.05 {
                arrive(rng.unit())
            } else {
                Moved
            }
        }
        gone => gone,
    }
}

fn generate(dir: &Path, households: usize, subdistricts: usize, rounds: usize) {
    std::fs::create_dir_all(dir).expect("creating the data folder");
    let mut rng = Rng(SEED);
    // Uneven subdistricts (about 1 to 10), summing exactly to the households asked for.
    let weights: Vec<f64> = (0..subdistricts).map(|_| 0.3 + 2.7 * rng.unit()).collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| (households as f64 * w / total) as usize)
        .collect();
    let mut short = households - sizes.iter().sum::<usize>();
    for s in sizes.iter_mut() {
        if short == 0 {
            break;
        }
        *s += 1;
        short -= 1;
    }
    let mut area = Vec::with_capacity(households);
    let mut states = Vec::with_capacity(households * rounds);
    let mut persons = Vec::with_capacity(households * rounds);
    for (g, &size) in sizes.iter().enumerate() {
        let p = Params {
            share_in: 0.05 + 0.4 * rng.unit(),
            exit: 0.06 + 0.24 * rng.unit(),
            reenter: 0.01 + 0.03 * rng.unit(),
        };
        for _ in 0..size {
            area.push(g as u32);
            let members = 1 + (rng.next() % 6) as u16;
            let r = rng.unit();
            let mut s = if r < 0.03 {
                State::NotYet
            } else if r < 0.05 {
                State::Unassessed
            } else if rng.unit() < p.share_in {
                State::In
            } else {
                State::Out
            };
            for t in 0..rounds {
                if t > 0 {
                    s = step(s, &p, &mut rng);
                }
                states.push(s as u8);
                persons.push(if s == State::In { members } else { 0 });
            }
        }
    }
    write_raw(&dir.join("area.u32"), &u32_bytes(&area));
    write_raw(&dir.join("states.u8"), &states);
    write_raw(&dir.join("weights.u16"), &u16_bytes(&persons));
    std::fs::write(
        dir.join("meta.txt"),
        format!("{households} {rounds} {subdistricts} {SEED}\n"),
    )
    .expect("writing meta.txt");
    eprintln!(
        "wrote {households} households × {rounds} rounds in {subdistricts} subdistricts ({} to {} households each) to {}",
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap(),
        dir.display()
    );
}

fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u16_bytes(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

struct Data {
    households: usize,
    rounds: usize,
    subdistricts: usize,
    area: Vec<u32>,
    states: Vec<u8>,
    weights: Vec<u16>,
}

fn load(dir: &Path) -> Data {
    let meta = std::fs::read_to_string(dir.join("meta.txt")).expect("run `gen` first");
    let f: Vec<usize> = meta
        .split_whitespace()
        .map(|x| x.parse().expect("meta.txt"))
        .collect();
    let read = |name: &str| std::fs::read(dir.join(name)).expect(name);
    let area_bytes = read("area.u32");
    let weight_bytes = read("weights.u16");
    Data {
        households: f[0],
        rounds: f[1],
        subdistricts: f[2],
        area: area_bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        states: read("states.u8"),
        weights: weight_bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect(),
    }
}

fn groups(n: usize, prefix: &str) -> Vec<Group> {
    (0..n)
        .map(|i| Group {
            code: format!("{prefix}{i}"),
            name_th: format!("{prefix}{i}"),
            name_en: format!("{prefix}{i}"),
        })
        .collect()
}

/// The full computation: classification and counts by subdistrict, rollups, progress rows.
fn progress(
    view: &PanelView<'_>,
    target: &Target,
    threads: usize,
    rounds: &[Round],
    names: &[Vec<Group>; 4],
    maps: &[Vec<u32>; 2],
) -> (PanelCounts, ProgressReport) {
    let rules = PanelRules {
        consecutive_out: target.consecutive_out,
    };
    let subs = classify(view, rules, threads).expect("the generated panel is valid");
    let districts = subs.rollup(&maps[0], DISTRICTS);
    let provinces = districts.rollup(&maps[1], PROVINCES);
    let nation = provinces.total();
    let mut report = ProgressReport::new(target, None, Vec::new(), "subdistrict", rounds);
    for (level, counts, groups) in [
        ("subdistrict", &subs, &names[0]),
        ("district", &districts, &names[1]),
        ("province", &provinces, &names[2]),
        ("all", &nation, &names[3]),
    ] {
        report.add_rows(target, level, groups, rounds, counts, None);
    }
    (subs, report)
}

/// What the timed computation needs besides the panel: the target, the rounds, the names of
/// the areas of each level and the maps from one level to the next.
struct Setup {
    target: Target,
    rounds: Vec<Round>,
    names: [Vec<Group>; 4],
    maps: [Vec<u32>; 2],
}

fn setup(d: &Data) -> Setup {
    let target = Target::from_toml_str(TARGET, "bench.toml").expect("the bench target");
    let rounds: Vec<Round> = (0..d.rounds)
        .map(|t| Round {
            year: 2566 + t as i32,
            label: format!("{}", 2566 + t),
            years: t as f64,
        })
        .collect();
    let names = [
        groups(d.subdistricts, "s"),
        groups(DISTRICTS, "d"),
        groups(PROVINCES, "p"),
        groups(1, "all"),
    ];
    let maps = [
        (0..d.subdistricts)
            .map(|g| (g * DISTRICTS / d.subdistricts) as u32)
            .collect(),
        (0..DISTRICTS)
            .map(|g| (g * PROVINCES / DISTRICTS) as u32)
            .collect(),
    ];
    Setup {
        target,
        rounds,
        names,
        maps,
    }
}

fn bench(dir: &Path, runs: usize) {
    let t0 = Instant::now();
    let d = load(dir);
    eprintln!("loaded in {:.1} s", t0.elapsed().as_secs_f64());
    let view = PanelView::new(
        d.rounds,
        d.subdistricts,
        &d.area,
        &d.states,
        Some(&d.weights),
    )
    .expect("consistent arrays");
    let Setup {
        target,
        rounds,
        names,
        maps,
    } = setup(&d);
    result("households", d.households);
    result("rounds", d.rounds);
    result("subdistricts", d.subdistricts);
    let bytes = d.area.len() * 4 + d.states.len() + d.weights.len() * 2;
    result("input_mb", format!("{:.0}", bytes as f64 / 1e6));
    for threads in [2, 1] {
        let rules = PanelRules {
            consecutive_out: target.consecutive_out,
        };
        // Warm-up, then timed runs.
        let (_, report) = progress(&view, &target, threads, &rounds, &names, &maps);
        let mut classify_ms = Vec::new();
        let mut full_ms = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let counts = classify(&view, rules, threads).expect("valid");
            classify_ms.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&counts);
            let t = Instant::now();
            let out = progress(&view, &target, threads, &rounds, &names, &maps);
            full_ms.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&out);
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        result(
            &format!("classify_ms_{threads}t"),
            format!(
                "{:.1} (min {:.1})",
                median(&mut classify_ms.clone()),
                min(&classify_ms)
            ),
        );
        result(
            &format!("full_ms_{threads}t"),
            format!(
                "{:.1} (min {:.1})",
                median(&mut full_ms.clone()),
                min(&full_ms)
            ),
        );
        // The unit-by-unit scan (used beyond 6 rounds), for comparison.
        let mut each_ms = Vec::new();
        for _ in 0..runs.clamp(1, 3) {
            let t = Instant::now();
            let counts = classify_each(&view, rules, threads).expect("valid");
            each_ms.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&counts);
        }
        result(
            &format!("classify_each_ms_{threads}t"),
            format!(
                "{:.1} (min {:.1})",
                median(&mut each_ms.clone()),
                min(&each_ms)
            ),
        );
        if threads == 2 {
            result("rows", report.rows.len());
            let nation = report.rows.iter().rfind(|r| r.level == "all").unwrap();
            result(
                "nation_last_round",
                format!(
                    "households {} of baseline {} ({}), persons {} of {}",
                    nation.households.count,
                    nation.households.baseline,
                    nation.households.outlook.status.code(),
                    nation.persons.count,
                    nation.persons.baseline
                ),
            );
            let last = *report.rounds.last().unwrap();
            let mut by_status = std::collections::BTreeMap::new();
            for r in report
                .rows
                .iter()
                .filter(|r| r.level == "subdistrict" && r.year == last)
            {
                *by_status
                    .entry(r.persons.outlook.status.code())
                    .or_insert(0) += 1;
            }
            result("subdistrict_status_last_round", format!("{by_status:?}"));
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    result(
        "loadavg",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(","),
    );
}

/// The subdistrict counts as raw little-endian u64, per subdistrict and round: units of the
/// 13 classes, their weights, then the cohort's and the others' 5 × 5 transitions.
fn dump(dir: &Path, out: &Path) {
    let d = load(dir);
    let view = PanelView::new(
        d.rounds,
        d.subdistricts,
        &d.area,
        &d.states,
        Some(&d.weights),
    )
    .expect("consistent arrays");
    let target = setup(&d).target;
    let c = classify(
        &view,
        PanelRules {
            consecutive_out: target.consecutive_out,
        },
        2,
    )
    .expect("valid");
    let mut bytes = Vec::new();
    for a in 0..d.subdistricts {
        for t in 0..d.rounds {
            for cl in Class::ALL {
                bytes.extend(c.units(a, t, cl).to_le_bytes());
            }
            for cl in Class::ALL {
                bytes.extend(c.weight(a, t, cl).to_le_bytes());
            }
            for cohort in [true, false] {
                for from in Flow::ALL {
                    for to in Flow::ALL {
                        bytes.extend(c.transition(a, t, cohort, from, to).to_le_bytes());
                    }
                }
            }
        }
    }
    write_raw(out, &bytes);
    eprintln!(
        "wrote the counts of {} subdistricts to {}",
        d.subdistricts,
        out.display()
    );
}
