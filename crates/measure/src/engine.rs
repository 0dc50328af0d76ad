//! The Alkire–Foster engine: identification in exact integer arithmetic and one scan of the
//! snapshot that yields every measure for every round, subgroup and cutoff at once.
//!
//! Identification: weights are put over their least common denominator `L`, so each indicator
//! carries an integer number of weight units and a unit's score is an integer. A cutoff
//! `k = a/b` (as a share of 1) becomes the integer threshold `ceil(a·L/b)`; a unit is poor
//! iff its units reach it, which is the same as `units·b >= a·L`. A unit exactly at `c = k`
//! is therefore poor, with no float noise. Only the final ratios are floats.
//!
//! The scan: the score of a profile is the sum of small per-byte lookup tables. With the
//! cutoffs sorted, a unit's *level* is how many cutoffs it reaches (poor at the m-th cutoff
//! iff level > m), so one pass serves every `k`. Per level and per byte of the profile, a
//! 256-entry histogram of weights is kept for the current cell (a few KiB, in L1); at the end
//! of the cell it is expanded into per-indicator totals, population and score sums. Rows are
//! split across threads at row boundaries; cells cut by a boundary are summed afterwards.

use std::ops::Range;

use crate::rational::{Ratio, gcd};
use crate::sliced::{Circuit, Sliced};
use crate::snapshot::{GroupColumn, Snapshot, Year};
use crate::spec::{Cutoff, Spec};

/// Cutoffs above this many at once are refused (each adds a level of histograms).
pub const MAX_CUTOFFS: usize = 16;

/// Below this many rows a second thread costs more than it saves.
const PARALLEL_MIN_ROWS: usize = 200_000;

/// What to compute: indicator weights, dimensions and cutoffs.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    pub indicators: Vec<String>,
    pub weights: Vec<Ratio>,
    /// Name and indicator positions of each dimension, for dimension contributions.
    pub dimensions: Vec<(String, Range<usize>)>,
    pub cutoffs: Vec<Cutoff>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("no poverty cutoff k given (set `k` in the spec, or pass cutoffs explicitly)")]
    NoCutoffs,
    #[error("{0} cutoffs given; at most {MAX_CUTOFFS} at once")]
    TooManyCutoffs(usize),
    #[error("k = {0} is given twice")]
    DuplicateCutoff(String),
    #[error("{got} weights for {want} indicators")]
    WeightCount { got: usize, want: usize },
    #[error("weights sum to {0}, not exactly 1")]
    WeightsDoNotSumToOne(Ratio),
    #[error("indicator {0} has weight zero")]
    ZeroWeight(String),
    #[error("weights are too fine to compute with exactly (common denominator too large)")]
    WeightsTooFine,
    #[error("the method has {method} indicators but the snapshot has {snapshot}")]
    IndicatorMismatch { method: usize, snapshot: usize },
    #[error("unknown indicator \"{0}\"")]
    UnknownIndicator(String),
}

impl Method {
    /// The spec's weights and dimensions with the given cutoffs (the spec's own when `None`).
    pub fn from_spec(spec: &Spec, cutoffs: Option<Vec<Cutoff>>) -> Result<Method, EngineError> {
        let method = Method {
            indicators: spec.indicators.iter().map(|i| i.name.clone()).collect(),
            weights: spec.weights(),
            dimensions: spec
                .dimensions
                .iter()
                .map(|d| (d.name.clone(), d.indicators.clone()))
                .collect(),
            cutoffs: cutoffs.unwrap_or_else(|| spec.cutoffs.clone()),
        };
        method.scoring()?;
        Ok(method)
    }

    /// Checks weights and cutoffs and puts weights over a common denominator.
    pub fn scoring(&self) -> Result<Scoring, EngineError> {
        if self.cutoffs.is_empty() {
            return Err(EngineError::NoCutoffs);
        }
        if self.cutoffs.len() > MAX_CUTOFFS {
            return Err(EngineError::TooManyCutoffs(self.cutoffs.len()));
        }
        for (i, c) in self.cutoffs.iter().enumerate() {
            if self.cutoffs[..i].iter().any(|d| d.percent == c.percent) {
                return Err(EngineError::DuplicateCutoff(c.label.clone()));
            }
        }
        Scoring::new(&self.indicators, &self.weights)
    }

    /// Position of an indicator by name.
    pub fn indicator(&self, name: &str) -> Result<usize, EngineError> {
        self.indicators
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| EngineError::UnknownIndicator(name.to_string()))
    }
}

/// Weights as integer units over a common denominator `total` (`w_j = units_j / total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoring {
    pub units: Vec<u32>,
    pub total: u32,
}

impl Scoring {
    pub fn new(names: &[String], weights: &[Ratio]) -> Result<Scoring, EngineError> {
        if weights.len() != names.len() {
            return Err(EngineError::WeightCount {
                got: weights.len(),
                want: names.len(),
            });
        }
        let mut sum = Ratio::ZERO;
        let mut lcm: u128 = 1;
        for (w, name) in weights.iter().zip(names) {
            if w.is_zero() {
                return Err(EngineError::ZeroWeight(name.clone()));
            }
            sum = sum.checked_add(*w).ok_or(EngineError::WeightsTooFine)?;
            lcm = (lcm / gcd(lcm, w.denom()))
                .checked_mul(w.denom())
                .filter(|&l| l <= u128::from(u32::MAX))
                .ok_or(EngineError::WeightsTooFine)?;
        }
        if sum != Ratio::ONE {
            return Err(EngineError::WeightsDoNotSumToOne(sum));
        }
        // Units sum to exactly `lcm` (weights sum to 1), so every score fits in u32.
        let units = weights
            .iter()
            .map(|w| (w.numer() * (lcm / w.denom())) as u32)
            .collect();
        Ok(Scoring {
            units,
            total: lcm as u32,
        })
    }

    /// The least integer score (in units) that is poor at `cutoff`: `ceil(k · total)`.
    pub fn threshold(&self, cutoff: &Cutoff) -> u32 {
        let f = cutoff.fraction();
        let need = f.numer() * u128::from(self.total);
        need.div_ceil(f.denom()) as u32
    }

    /// Score of a profile in units.
    pub fn score(&self, bits: u32) -> u32 {
        self.units
            .iter()
            .enumerate()
            .filter(|(j, _)| bits >> j & 1 == 1)
            .map(|(_, u)| u)
            .sum()
    }

    /// Whether a profile is poor at `cutoff`, decided exactly: `units·b >= a·total`.
    pub fn is_poor(&self, bits: u32, cutoff: &Cutoff) -> bool {
        let f = cutoff.fraction();
        u128::from(self.score(bits)) * f.denom() >= f.numer() * u128::from(self.total)
    }
}

/// Measures at one cutoff for one population (a round, or a subgroup of it).
#[derive(Debug, Clone, PartialEq)]
pub struct AtCutoff {
    /// Headcount ratio q/n.
    pub h: f64,
    /// Intensity: mean score among the poor (0 when nobody is poor).
    pub a: f64,
    /// Adjusted headcount ratio, = H × A.
    pub m0: f64,
    /// Weighted number of poor.
    pub q: f64,
    /// Unweighted number of poor units of identification.
    pub q_units: u64,
    /// Per indicator `hdk`, `actb`, `pctb`, then per dimension `dim_actb`, `dim_pctb`, in one
    /// allocation (a national run has thousands of populations); read them through the
    /// methods of the same names.
    figures: Vec<f64>,
    indicators: usize,
}

impl AtCutoff {
    fn part(&self, i: usize) -> &[f64] {
        let n = self.indicators;
        let d = (self.figures.len() - 3 * n) / 2;
        let start = if i < 3 { i * n } else { 3 * n + (i - 3) * d };
        let len = if i < 3 { n } else { d };
        &self.figures[start..start + len]
    }
    /// Censored headcount ratio per indicator.
    pub fn hdk(&self) -> &[f64] {
        self.part(0)
    }
    /// Absolute contribution per indicator, w_j × hdk_j (sums to M0).
    pub fn actb(&self) -> &[f64] {
        self.part(1)
    }
    /// Percentage contribution per indicator as a share, actb_j / M0 (sums to 1).
    pub fn pctb(&self) -> &[f64] {
        self.part(2)
    }
    /// Absolute contribution per dimension (sums to M0).
    pub fn dim_actb(&self) -> &[f64] {
        self.part(3)
    }
    /// Percentage contribution per dimension as a share (sums to 1).
    pub fn dim_pctb(&self) -> &[f64] {
        self.part(4)
    }
}

/// All measures for one population.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupEstimate {
    /// Index into [`Estimates::years`], `None` when the data has no year column.
    pub year: Option<usize>,
    /// Index into [`Estimates::by`], `None` for the whole population of the round.
    pub by: Option<usize>,
    /// Index into that column's values.
    pub group: Option<usize>,
    /// Weighted population.
    pub n: f64,
    /// Unweighted number of units of identification.
    pub n_units: u64,
    /// Uncensored headcount ratio per indicator.
    pub hd: Vec<f64>,
    /// One entry per cutoff, in [`Estimates::cutoffs`] order.
    pub at: Vec<AtCutoff>,
}

/// The output of a measure run.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimates {
    pub method: Method,
    pub scoring: Scoring,
    pub years: Vec<Year>,
    pub by: Vec<GroupColumn>,
    pub groups: Vec<GroupEstimate>,
}

impl Estimates {
    pub fn cutoffs(&self) -> &[Cutoff] {
        &self.method.cutoffs
    }

    /// The estimate for a round (or the only one) and a subgroup (`None` for everyone).
    pub fn find(
        &self,
        year: Option<usize>,
        by_group: Option<(usize, usize)>,
    ) -> Option<&GroupEstimate> {
        self.groups.iter().find(|g| {
            g.year == year
                && match by_group {
                    None => g.by.is_none(),
                    Some((c, v)) => g.by == Some(c) && g.group == Some(v),
                }
        })
    }

    /// Float weight of each indicator, for display and contributions.
    pub fn weights_f64(&self) -> Vec<f64> {
        self.method.weights.iter().map(Ratio::to_f64).collect()
    }
}

/// A what-if: the same snapshot under other cutoffs, other weights, or with some units'
/// deprivations removed (as if a programme had lifted them). The snapshot is never changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhatIf {
    pub cutoffs: Option<Vec<Cutoff>>,
    pub weights: Option<Vec<Ratio>>,
    pub clear: Vec<ClearBits>,
}

/// Remove deprivation in `indicators` for the units at these input positions (the order in
/// which rows were given to the snapshot builder; dropped rows count too).
#[derive(Debug, Clone, PartialEq)]
pub struct ClearBits {
    pub input_rows: Vec<usize>,
    pub indicators: Vec<usize>,
}

/// Computes every measure for every round, subgroup and cutoff, on as many threads as the
/// machine offers when the snapshot is large enough to gain from them.
pub fn estimate(snapshot: &Snapshot, method: &Method) -> Result<Estimates, EngineError> {
    estimate_on(
        snapshot,
        own_source(snapshot),
        method,
        default_threads(snapshot.len()),
    )
}

/// The data a scan reads: the snapshot's own, or a what-if's modified copy.
#[derive(Clone, Copy)]
enum Source<'a> {
    Rows(&'a [u32]),
    Sliced(&'a Sliced),
}

fn own_source(snapshot: &Snapshot) -> Source<'_> {
    match &snapshot.sliced {
        Some(s) => Source::Sliced(s),
        None => Source::Rows(&snapshot.bits),
    }
}

/// [`estimate`] on exactly `threads` threads (at least 1), whatever the size: for tests that
/// check the parallel split and for benchmarks.
pub fn estimate_with_threads(
    snapshot: &Snapshot,
    method: &Method,
    threads: usize,
) -> Result<Estimates, EngineError> {
    estimate_on(snapshot, own_source(snapshot), method, threads.max(1))
}

fn default_threads(rows: usize) -> usize {
    if rows >= PARALLEL_MIN_ROWS {
        std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .min(8)
    } else {
        1
    }
}

/// Recomputes under a what-if, on a copy of the deprivation column when bits are cleared.
pub fn what_if(
    snapshot: &Snapshot,
    method: &Method,
    change: &WhatIf,
) -> Result<Estimates, EngineError> {
    let mut m = method.clone();
    if let Some(c) = &change.cutoffs {
        m.cutoffs = c.clone();
    }
    if let Some(w) = &change.weights {
        m.weights = w.clone();
    }
    if change.clear.is_empty() {
        return estimate(snapshot, &m);
    }
    let mut masks = Vec::with_capacity(change.clear.len());
    for clear in &change.clear {
        let mut mask = 0u32;
        for &j in &clear.indicators {
            if j >= snapshot.indicators.len() {
                return Err(EngineError::UnknownIndicator(format!("#{j}")));
            }
            mask |= 1 << j;
        }
        masks.push(mask);
    }
    // Rows dropped as incomplete are not measured, so there is nothing to clear in them.
    let stored = |clear: &ClearBits| {
        clear
            .input_rows
            .iter()
            .filter_map(|&row| snapshot.position_of(row))
            .collect::<Vec<_>>()
    };
    let threads = default_threads(snapshot.len());
    match &snapshot.sliced {
        Some(sliced) => {
            let mut copy = sliced.clone();
            for (clear, &mask) in change.clear.iter().zip(&masks) {
                for pos in stored(clear) {
                    copy.clear_bits(&snapshot.cells, pos, mask);
                }
            }
            estimate_on(snapshot, Source::Sliced(&copy), &m, threads)
        }
        None => {
            let mut bits = snapshot.bits.clone();
            for (clear, &mask) in change.clear.iter().zip(&masks) {
                for pos in stored(clear) {
                    bits[pos] &= !mask;
                }
            }
            estimate_on(snapshot, Source::Rows(&bits), &m, threads)
        }
    }
}

/// The precomputed parts of a scan.
struct Plan {
    nbytes: usize,
    /// Score units per value of each byte of a profile.
    table: Vec<[u32; 256]>,
    /// The same as floats, for the score sums at the end of a cell.
    table_f64: Vec<[f64; 256]>,
    /// Thresholds sorted ascending.
    thresholds: Vec<u32>,
    levels: usize,
    nind: usize,
    /// Indicator weights as floats, for contributions (converted once, not per population).
    weights: Vec<f64>,
}

impl Plan {
    /// Accumulator layout per level: rows, population, Σ w·units, then one total per indicator.
    fn stride(&self) -> usize {
        3 + self.nind
    }
    fn acc_len(&self) -> usize {
        self.levels * self.stride()
    }
}

fn estimate_on(
    snapshot: &Snapshot,
    source: Source<'_>,
    method: &Method,
    threads: usize,
) -> Result<Estimates, EngineError> {
    let scoring = method.scoring()?;
    let nind = method.indicators.len();
    if nind != snapshot.indicators.len() {
        return Err(EngineError::IndicatorMismatch {
            method: nind,
            snapshot: snapshot.indicators.len(),
        });
    }
    let nbytes = nind.div_ceil(8).max(1);
    let mut table = vec![[0u32; 256]; nbytes];
    for (b, row) in table.iter_mut().enumerate() {
        for (v, units) in row.iter_mut().enumerate() {
            *units = (0..8)
                .filter(|t| v >> t & 1 == 1)
                .filter_map(|t| scoring.units.get(b * 8 + t))
                .sum();
        }
    }
    let table_f64 = table.iter().map(|row| row.map(f64::from)).collect();
    // Sorted thresholds, and for each cutoff (in the caller's order) its sorted position.
    let raw: Vec<u32> = method
        .cutoffs
        .iter()
        .map(|c| scoring.threshold(c))
        .collect();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&i| raw[i]);
    let thresholds: Vec<u32> = order.iter().map(|&i| raw[i]).collect();
    let mut rank = vec![0usize; raw.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let plan = Plan {
        nbytes,
        table,
        table_f64,
        levels: thresholds.len() + 1,
        thresholds,
        nind,
        weights: method.weights.iter().map(Ratio::to_f64).collect(),
    };

    let cell_acc = match source {
        Source::Rows(bits) => scan(snapshot, bits, &plan, threads),
        Source::Sliced(sliced) => {
            let circuit = Circuit::new(&scoring.units, &plan.thresholds);
            scan_sliced(snapshot, sliced, &circuit, &plan, threads)
        }
    };
    let groups = aggregate(snapshot, &plan, &scoring, method, &rank, &cell_acc, threads);
    Ok(Estimates {
        method: method.clone(),
        scoring,
        years: snapshot.years.clone(),
        by: snapshot.by.clone(),
        groups,
    })
}

/// Runs the scan, in parallel when worthwhile; returns one accumulator per cell.
fn scan(snapshot: &Snapshot, bits: &[u32], plan: &Plan, threads: usize) -> Vec<f64> {
    let n = bits.len();
    let cells = &snapshot.cells;
    let acc_len = plan.acc_len();
    let mut out = vec![0f64; cells.len() * acc_len];
    if threads <= 1 || n < threads {
        scan_range(cells, bits, &snapshot.weight, plan, 0..n, &mut out, 0);
        return out;
    }
    let bounds: Vec<usize> = (0..=threads).map(|t| n * t / threads).collect();
    let partials: Vec<(usize, Vec<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let rows = w[0]..w[1];
                s.spawn(move || {
                    if rows.is_empty() {
                        return (0, Vec::new());
                    }
                    let first = cells.partition_point(|c| c.rows.end <= rows.start);
                    let last = cells.partition_point(|c| c.rows.start < rows.end);
                    let mut part = vec![0f64; (last - first) * acc_len];
                    scan_range(
                        &cells[first..last],
                        bits,
                        &snapshot.weight,
                        plan,
                        rows,
                        &mut part,
                        0,
                    );
                    (first, part)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan thread panicked"))
            .collect()
    });
    for (first, part) in partials {
        let dst = &mut out[first * acc_len..first * acc_len + part.len()];
        for (d, p) in dst.iter_mut().zip(&part) {
            *d += p;
        }
    }
    out
}

/// The bit-sliced scan: cells are dealt to threads in contiguous runs of about equal
/// superblocks, so no cell is split and each thread writes its own part of the output.
fn scan_sliced(
    snapshot: &Snapshot,
    sliced: &Sliced,
    circuit: &Circuit,
    plan: &Plan,
    threads: usize,
) -> Vec<f64> {
    let ncells = snapshot.cells.len();
    let acc_len = plan.acc_len();
    let mut out = vec![0f64; ncells * acc_len];
    let total = sliced.superblocks();
    if threads <= 1 || ncells < 2 {
        crate::sliced::scan_cells(sliced, circuit, 0..ncells, &mut out);
        return out;
    }
    // Cell boundaries nearest to equal shares of the superblocks.
    let mut bounds = vec![0usize];
    for t in 1..threads {
        let goal = total * t / threads;
        let c = sliced
            .first_cell_at(goal)
            .max(*bounds.last().expect("starts at 0"));
        bounds.push(c);
    }
    bounds.push(ncells);
    std::thread::scope(|s| {
        let mut rest = out.as_mut_slice();
        for w in bounds.windows(2) {
            let (part, tail) = rest.split_at_mut((w[1] - w[0]) * acc_len);
            rest = tail;
            let cells = w[0]..w[1];
            if cells.is_empty() {
                continue;
            }
            s.spawn(move || crate::sliced::scan_cells(sliced, circuit, cells, part));
        }
    });
    out
}

/// Scans the rows of `cells` that fall in `rows`, adding into `out` (one accumulator per
/// cell, starting at `out_first`).
fn scan_range(
    cells: &[crate::snapshot::Cell],
    bits: &[u32],
    weight: &[f64],
    plan: &Plan,
    rows: Range<usize>,
    out: &mut [f64],
    out_first: usize,
) {
    // One 256-entry weight histogram per level and byte: levels × nbytes × 2 KiB.
    let mut hist = vec![[0f64; 256]; plan.levels * plan.nbytes];
    let mut counts = vec![0u64; plan.levels];
    let acc_len = plan.acc_len();
    for (i, cell) in cells.iter().enumerate() {
        let start = cell.rows.start.max(rows.start);
        let end = cell.rows.end.min(rows.end);
        if start >= end {
            continue;
        }
        let b = &bits[start..end];
        let w = &weight[start..end];
        match plan.nbytes {
            1 => scan_cell::<1>(plan, b, w, &mut hist, &mut counts),
            2 => scan_cell::<2>(plan, b, w, &mut hist, &mut counts),
            3 => scan_cell::<3>(plan, b, w, &mut hist, &mut counts),
            _ => scan_cell::<4>(plan, b, w, &mut hist, &mut counts),
        }
        let at = (out_first + i) * acc_len;
        flush(plan, &mut hist, &mut counts, &mut out[at..at + acc_len]);
    }
}

#[inline(always)]
fn scan_cell<const NB: usize>(
    plan: &Plan,
    bits: &[u32],
    weight: &[f64],
    hist: &mut [[f64; 256]],
    counts: &mut [u64],
) {
    let table: &[[u32; 256]; NB] = plan.table[..NB].try_into().expect("NB byte tables");
    let thresholds = &plan.thresholds[..];
    let hist = &mut hist[..plan.levels * NB];
    let counts = &mut counts[..plan.levels];
    for (&b, &w) in bits.iter().zip(weight) {
        let bytes = b.to_le_bytes();
        let mut units = 0u32;
        for i in 0..NB {
            units += table[i][usize::from(bytes[i])];
        }
        let mut level = 0usize;
        for &t in thresholds {
            level += usize::from(units >= t);
        }
        counts[level] += 1;
        let h: &mut [[f64; 256]; NB] = (&mut hist[level * NB..(level + 1) * NB])
            .try_into()
            .expect("NB histograms per level");
        for i in 0..NB {
            h[i][usize::from(bytes[i])] += w;
        }
    }
}

/// Sum of 256 floats in eight independent lanes, so that it vectorises.
#[inline]
fn lane_sum(x: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    for c in x.chunks_exact(8) {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum()
}

/// Expands the per-byte histograms of a cell into its accumulator, and clears them.
///
/// The total of indicator `8b + t` is the sum of byte `b`'s histogram over values with bit `t`
/// set. Folding the histogram in halves yields all eight bit totals in about 512 vectorised
/// additions, instead of a branchy walk over every set bit of every value.
fn flush(plan: &Plan, hist: &mut [[f64; 256]], counts: &mut [u64], acc: &mut [f64]) {
    let stride = plan.stride();
    for level in 0..plan.levels {
        let rows = std::mem::take(&mut counts[level]);
        if rows == 0 {
            continue;
        }
        let a = &mut acc[level * stride..(level + 1) * stride];
        a[0] += rows as f64;
        let mut score = 0.0;
        for b in 0..plan.nbytes {
            let h = &mut hist[level * plan.nbytes + b];
            if b == 0 {
                // Every row lands once in each byte's histogram: byte 0's total is the population.
                a[1] += lane_sum(h);
            }
            let mut lanes = [0f64; 8];
            for (x, u) in h.chunks_exact(8).zip(plan.table_f64[b].chunks_exact(8)) {
                for i in 0..8 {
                    lanes[i] += x[i] * u[i];
                }
            }
            score += lanes.iter().sum::<f64>();
            // Folding destroys the histogram in place; it is cleared right after.
            let mut len = 256;
            for t in (0..8).rev() {
                let half = len / 2;
                let (lo, hi) = h[..len].split_at_mut(half);
                let j = b * 8 + t;
                if j < plan.nind {
                    a[3 + j] += if half >= 8 {
                        lane_sum(hi)
                    } else {
                        hi.iter().sum()
                    };
                }
                for (l, x) in lo.iter_mut().zip(hi.iter()) {
                    *l += x;
                }
                len = half;
            }
            *h = [0.0; 256];
        }
        a[2] += score;
    }
}

/// Sums cell accumulators into rounds and subgroups and turns totals into measures.
fn aggregate(
    snapshot: &Snapshot,
    plan: &Plan,
    scoring: &Scoring,
    method: &Method,
    rank: &[usize],
    cell_acc: &[f64],
    threads: usize,
) -> Vec<GroupEstimate> {
    let acc_len = plan.acc_len();
    let n_years = snapshot.years.len().max(1);
    // Targets per year: whole, then each column's groups in order.
    let mut col_offset = Vec::with_capacity(snapshot.by.len());
    let mut per_year = 1;
    for col in &snapshot.by {
        col_offset.push(per_year);
        per_year += col.values.len();
    }
    let mut totals = vec![0f64; n_years * per_year * acc_len];
    for (cell, acc) in snapshot.cells.iter().zip(cell_acc.chunks_exact(acc_len)) {
        let base = cell.year * per_year;
        let mut add = |target: usize| {
            let dst = &mut totals[target * acc_len..(target + 1) * acc_len];
            for (d, a) in dst.iter_mut().zip(acc) {
                *d += a;
            }
        };
        add(base);
        for (c, &g) in cell.groups.iter().enumerate() {
            add(base + col_offset[c] + g as usize);
        }
    }

    let has_year = !snapshot.years.is_empty();
    // Turning totals into measures is independent per population and, with thousands of
    // subgroups, as long as the scan itself: it is split across the same threads, in order.
    let populations = n_years * per_year;
    let estimate = |i: usize| {
        let (y, target) = (i / per_year, i % per_year);
        let (by, group) = if target == 0 {
            (None, None)
        } else {
            let c = col_offset.partition_point(|&o| o <= target) - 1;
            (Some(c), Some(target - col_offset[c]))
        };
        let t = &totals[i * acc_len..][..acc_len];
        measures(plan, scoring, method, rank, t).map(|est| GroupEstimate {
            year: has_year.then_some(y),
            by,
            group,
            ..est
        })
    };
    if threads <= 1 || populations < 1024 {
        return (0..populations).filter_map(estimate).collect();
    }
    let chunk = populations.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..populations)
            .step_by(chunk)
            .map(|start| {
                let estimate = &estimate;
                s.spawn(move || {
                    (start..(start + chunk).min(populations))
                        .filter_map(estimate)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("measure thread panicked"))
            .collect()
    })
}

/// Measures from the level totals of one population; `None` when it has no units.
fn measures(
    plan: &Plan,
    scoring: &Scoring,
    method: &Method,
    rank: &[usize],
    t: &[f64],
) -> Option<GroupEstimate> {
    let stride = plan.stride();
    let level = |l: usize| &t[l * stride..(l + 1) * stride];
    let n_units: f64 = (0..plan.levels).map(|l| level(l)[0]).sum();
    if n_units == 0.0 {
        return None;
    }
    let n: f64 = (0..plan.levels).map(|l| level(l)[1]).sum();
    let nind = plan.nind;
    let hd: Vec<f64> = (0..nind)
        .map(|j| (0..plan.levels).map(|l| level(l)[3 + j]).sum::<f64>() / n)
        .collect();
    let total_units = f64::from(scoring.total);
    let weights = &plan.weights;
    let at = rank
        .iter()
        .map(|&r| {
            // Poor at the r-th sorted cutoff: every level above r.
            let poor = r + 1..plan.levels;
            let q_units: f64 = poor.clone().map(|l| level(l)[0]).sum();
            let q: f64 = poor.clone().map(|l| level(l)[1]).sum();
            let score: f64 = poor.clone().map(|l| level(l)[2]).sum::<f64>() / total_units;
            let h = q / n;
            let a = if q > 0.0 { score / q } else { 0.0 };
            let m0 = score / n;
            let dims = method.dimensions.len();
            let mut figures = vec![0.0; 3 * nind + 2 * dims];
            let share = |x: f64| if m0 > 0.0 { x / m0 } else { 0.0 };
            for j in 0..nind {
                let hdk = poor.clone().map(|l| level(l)[3 + j]).sum::<f64>() / n;
                figures[j] = hdk;
                figures[nind + j] = hdk * weights[j];
                figures[2 * nind + j] = share(hdk * weights[j]);
            }
            for (d, (_, r)) in method.dimensions.iter().enumerate() {
                let actb: f64 = figures[nind + r.start..nind + r.end].iter().sum();
                figures[3 * nind + d] = actb;
                figures[3 * nind + dims + d] = share(actb);
            }
            AtCutoff {
                h,
                a,
                m0,
                q,
                q_units: q_units as u64,
                figures,
                indicators: nind,
            }
        })
        .collect();
    Some(GroupEstimate {
        year: None,
        by: None,
        group: None,
        n,
        n_units: n_units as u64,
        hd,
        at,
    })
}
