//! The bit-sliced layout of a snapshot and the scan that runs on it: the fast path of the
//! engine when every analysis weight is a whole number (persons per household, as in a
//! registry).
//!
//! Rows are stored as bit planes, 512 rows (eight 64-bit *lanes*) per *superblock*: one plane
//! says which slots hold a row, one plane per indicator, and one word per lane holds the
//! weight that every row of that lane shares. Within a cell, rows are grouped by weight so that
//! each lane holds one weight. A household with 17 indicators costs about 19 bits instead of
//! the row layout's 96 (a `u32` profile and an `f64` weight), and the scan does whole-word
//! logic instead of a table lookup and three scattered additions per row:
//!
//! 1. the deprivation score of 512 rows at once, as bit-sliced binary numbers: indicators with
//!    the same weight are counted together (a ripple counter), then each count is added in,
//!    shifted by the set bits of its weight in units;
//! 2. `score >= threshold` for every cutoff, as a bit-sliced comparison: one mask of poor rows
//!    per cutoff;
//! 3. for each mask and indicator, the population count of `indicator & mask` per lane, times
//!    the lane's weight: every weighted total, exactly, as integers.
//!
//! All three are word operations on eight lanes, which map onto AVX-512 registers one to one;
//! the scan is compiled for AVX-512 (with its vector population count) and portably, and the
//! processor's best is picked at run time. The totals are the same integers the row layout
//! sums, so both layouts give bit-identical estimates; the tests check that.
//!
//! A row's slot is recorded, so one unit can be patched in place: a new profile is rewritten in
//! its slot; a new weight moves the row to a free slot of a lane with that weight (or an empty
//! lane) in the same cell, and only when the cell has none is the layout built again.

use crate::snapshot::Cell;

const LANES: usize = 8;
/// Rows per superblock.
pub(crate) const SB_ROWS: usize = 64 * LANES;
/// Weights at or above this take the row layout (products with a lane's counts stay exact).
const MAX_WEIGHT: f64 = (1u64 << 32) as f64;
/// Score bits are at most 32 (weights over a `u32` common denominator).
const MAX_SCORE_BITS: usize = 32;
/// Superblocks ahead of the scan that are prefetched.
const PREFETCH: usize = 4;
/// Plane 0 marks occupied slots; plane 1 holds the lane weights; indicators follow.
const VALID: usize = 0;
const WEIGHT: usize = 1;
const FIRST_INDICATOR: usize = 2;

type V = [u64; LANES];
const ZERO: V = [0; LANES];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sliced {
    nind: usize,
    /// First superblock of each cell, and one past the last.
    cell_sb: Vec<u32>,
    /// For each stored row (cell order), its slot: superblock × 512 + lane × 64 + bit.
    slot: Vec<u32>,
    /// Per cell, the totals that no method changes: `[units, population, Σ weight × deprived
    /// in j …]`. Kept exact as rows are patched, so a scan only counts the poor.
    base: Vec<u64>,
    /// Per superblock: the occupancy plane, the lane weights, then one plane per indicator.
    data: Vec<u64>,
}

/// Why a snapshot cannot take the bit-sliced layout, or a patch needs a new layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsliceable {
    /// A weight is not a whole number below 2^32.
    Weights,
    /// The patched row's cell has no free slot with its new weight.
    Full,
    /// More than 2^32 slots.
    TooLarge,
}

fn whole_weight(w: f64) -> Option<u64> {
    (w.fract() == 0.0 && (0.0..MAX_WEIGHT).contains(&w)).then_some(w as u64)
}

impl Sliced {
    fn sb_words(&self) -> usize {
        (FIRST_INDICATOR + self.nind) * LANES
    }
    pub(crate) fn superblocks(&self) -> usize {
        self.cell_sb.last().map_or(0, |&s| s as usize)
    }
    /// The first cell whose superblocks start at or after `sb`.
    pub(crate) fn first_cell_at(&self, sb: usize) -> usize {
        self.cell_sb[..self.cell_sb.len() - 1].partition_point(|&s| (s as usize) < sb)
    }
    /// Bytes the scan reads: the planes, and the per-cell totals it starts from.
    pub(crate) fn bytes(&self) -> usize {
        (self.data.len() + self.base.len()) * 8
    }

    /// Lays out rows that are already in cell order: within each cell, rows of equal weight
    /// fill lanes together (in row order), each weight starting a fresh lane.
    pub(crate) fn build(
        nind: usize,
        cells: &[Cell],
        bits: &[u32],
        weight: &[f64],
    ) -> Result<Sliced, Unsliceable> {
        let whole: Vec<u64> = weight
            .iter()
            .map(|&w| whole_weight(w).ok_or(Unsliceable::Weights))
            .collect::<Result<_, _>>()?;
        // Per cell: its rows sorted by weight (stable), and how many lanes that takes.
        let mut order: Vec<u32> = Vec::with_capacity(bits.len());
        let mut cell_sb = Vec::with_capacity(cells.len() + 1);
        let mut lane_starts: Vec<usize> = Vec::with_capacity(bits.len() / 32);
        let mut total = 0usize;
        for cell in cells {
            cell_sb.push(u32::try_from(total).map_err(|_| Unsliceable::TooLarge)?);
            let from = order.len();
            order.extend(cell.rows.clone().map(|r| r as u32));
            order[from..].sort_by_key(|&r| whole[r as usize]);
            let mut lanes = 0usize;
            let mut i = from;
            while i < order.len() {
                let w = whole[order[i] as usize];
                let run = order[i..].partition_point(|&r| whole[r as usize] == w);
                lane_starts.push(i);
                lanes += run.div_ceil(64);
                i += run;
            }
            total += lanes.div_ceil(LANES);
        }
        cell_sb.push(u32::try_from(total).map_err(|_| Unsliceable::TooLarge)?);
        if total
            .checked_mul(SB_ROWS)
            .is_none_or(|s| s > u32::MAX as usize)
        {
            return Err(Unsliceable::TooLarge);
        }
        let mut sliced = Sliced {
            nind,
            cell_sb,
            slot: vec![0; bits.len()],
            base: vec![0; cells.len() * (2 + nind)],
            data: Vec::new(),
        };
        sliced.data = vec![0; total * sliced.sb_words()];
        let mut next_run = 0;
        for (c, cell) in cells.iter().enumerate() {
            let mut lane = sliced.cell_sb[c] as usize * LANES;
            let mut i = cell.rows.start;
            let end = cell.rows.end;
            while i < end {
                debug_assert_eq!(lane_starts[next_run], i);
                next_run += 1;
                let w = whole[order[i] as usize];
                let run_end = i + order[i..end].partition_point(|&r| whole[r as usize] == w);
                for chunk_start in (i..run_end).step_by(64) {
                    sliced.set_lane_weight(lane, w);
                    for (bit, k) in (chunk_start..run_end.min(chunk_start + 64)).enumerate() {
                        let row = order[k] as usize;
                        let slot = lane * 64 + bit;
                        sliced.slot[row] = slot as u32;
                        sliced.write(slot, true, bits[row]);
                        sliced.count(c, bits[row], w, true);
                    }
                    lane += 1;
                }
                i = run_end;
            }
        }
        Ok(sliced)
    }

    /// Whether the layout is compact enough to pay: cells far smaller than a superblock each
    /// waste most of theirs, and the row scan is fast on such small data anyway.
    pub(crate) fn is_worthwhile(&self, rows: usize) -> bool {
        self.superblocks() * SB_ROWS <= 2 * rows + SB_ROWS
    }

    fn word(&self, lane: usize, plane: usize) -> usize {
        (lane / LANES) * self.sb_words() + plane * LANES + lane % LANES
    }

    /// Adds (or takes away) one row's contribution to its cell's method-free totals.
    fn count(&mut self, cell: usize, bits: u32, weight: u64, add: bool) {
        let n = 2 + self.nind;
        let base = &mut self.base[cell * n..(cell + 1) * n];
        let apply = |x: &mut u64, v: u64| {
            if add {
                *x += v;
            } else {
                *x -= v;
            }
        };
        apply(&mut base[0], 1);
        apply(&mut base[1], weight);
        for j in 0..self.nind {
            if bits >> j & 1 == 1 {
                apply(&mut base[2 + j], weight);
            }
        }
    }

    /// The indicator bits stored in one slot.
    fn bits_at(&self, slot: usize) -> u32 {
        let lane = slot / 64;
        (0..self.nind)
            .filter(|&j| self.data[self.word(lane, FIRST_INDICATOR + j)] >> (slot % 64) & 1 == 1)
            .fold(0, |b, j| b | 1 << j)
    }

    fn lane_weight(&self, lane: usize) -> u64 {
        self.data[self.word(lane, WEIGHT)]
    }

    fn set_lane_weight(&mut self, lane: usize, w: u64) {
        let at = self.word(lane, WEIGHT);
        self.data[at] = w;
    }

    /// Writes one slot: occupied or not, and its indicator bits.
    fn write(&mut self, slot: usize, present: bool, bits: u32) {
        let lane = slot / 64;
        let bit = 1u64 << (slot % 64);
        let set = |data: &mut [u64], at: usize, on: bool| {
            if on {
                data[at] |= bit;
            } else {
                data[at] &= !bit;
            }
        };
        let at = self.word(lane, VALID);
        set(&mut self.data, at, present);
        for j in 0..self.nind {
            let at = self.word(lane, FIRST_INDICATOR + j);
            set(&mut self.data, at, present && bits >> j & 1 == 1);
        }
    }

    /// Replaces one stored row's profile and weight in place. `Err` when the weight is not a
    /// whole number, or the row's cell has no free slot for it (the caller builds again).
    pub(crate) fn set_row(
        &mut self,
        cells: &[Cell],
        row: usize,
        bits: u32,
        weight: f64,
    ) -> Result<(), Unsliceable> {
        let w = whole_weight(weight).ok_or(Unsliceable::Weights)?;
        let slot = self.slot[row] as usize;
        let c = cells.partition_point(|cell| cell.rows.end <= row);
        let (old_bits, old_weight) = (self.bits_at(slot), self.lane_weight(slot / 64));
        if old_weight == w {
            self.count(c, old_bits, old_weight, false);
            self.count(c, bits, w, true);
            self.write(slot, true, bits);
            return Ok(());
        }
        // Move the row to a free slot of a lane that has its weight, or to an empty lane.
        let lanes = self.cell_sb[c] as usize * LANES..self.cell_sb[c + 1] as usize * LANES;
        let mut target = None;
        for lane in lanes {
            let valid = self.data[self.word(lane, VALID)];
            if valid == u64::MAX {
                continue;
            }
            if valid == 0 {
                target.get_or_insert(lane);
            }
            if self.lane_weight(lane) == w {
                target = Some(lane);
                break;
            }
        }
        let lane = target.ok_or(Unsliceable::Full)?;
        self.count(c, old_bits, old_weight, false);
        self.count(c, bits, w, true);
        let free = (!self.data[self.word(lane, VALID)]).trailing_zeros() as usize;
        self.write(slot, false, 0);
        self.set_lane_weight(lane, w);
        let new = lane * 64 + free;
        self.write(new, true, bits);
        self.slot[row] = new as u32;
        Ok(())
    }

    /// Clears indicator `mask` bits of one stored row (for what-if copies).
    pub(crate) fn clear_bits(&mut self, cells: &[Cell], row: usize, mask: u32) {
        let slot = self.slot[row] as usize;
        let c = cells.partition_point(|cell| cell.rows.end <= row);
        let (old, w) = (self.bits_at(slot), self.lane_weight(slot / 64));
        self.count(c, old, w, false);
        self.count(c, old & !mask, w, true);
        let bit = 1u64 << (slot % 64);
        for j in 0..self.nind {
            if mask >> j & 1 == 1 {
                let at = self.word(slot / 64, FIRST_INDICATOR + j);
                self.data[at] &= !bit;
            }
        }
    }
}

/// How the score of a profile is formed, for the bit-sliced adder: indicators grouped by
/// their weight in units.
#[derive(Debug, Clone)]
pub(crate) struct Circuit {
    /// Per distinct weight: its units, its indicators, and the bits its count needs.
    classes: Vec<(u32, Vec<usize>, usize)>,
    /// Bits of the largest score (the sum of all units).
    score_bits: usize,
    /// Sorted thresholds in units.
    thresholds: Vec<u32>,
    units: Vec<u32>,
}

impl Circuit {
    pub(crate) fn new(units: &[u32], thresholds: &[u32]) -> Circuit {
        let mut classes: Vec<(u32, Vec<usize>, usize)> = Vec::new();
        for (j, &u) in units.iter().enumerate() {
            match classes.iter_mut().find(|(v, _, _)| *v == u) {
                Some((_, inds, _)) => inds.push(j),
                None => classes.push((u, vec![j], 0)),
            }
        }
        for (_, inds, width) in &mut classes {
            *width = (usize::BITS - inds.len().leading_zeros()) as usize;
        }
        let total: u64 = units.iter().map(|&u| u64::from(u)).sum();
        let score_bits = ((64 - total.leading_zeros()) as usize).clamp(1, MAX_SCORE_BITS);
        Circuit {
            classes,
            score_bits,
            thresholds: thresholds.to_vec(),
            units: units.to_vec(),
        }
    }
}

/// 512 bits of one plane, and the word operations the scan needs. Two implementations: plain
/// arrays (any processor; the compiler vectorises them as it can) and AVX-512 registers.
trait Lanes: Copy {
    fn zero() -> Self;
    fn ones() -> Self;
    /// The `LANES` words at the start of `words`.
    fn load(words: &[u64]) -> Self;
    fn and(self, o: Self) -> Self;
    /// `self & !o`.
    fn andnot(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    /// Adds the population count of each word of `x` to the matching word of `self`.
    fn add_popcount(self, x: Self) -> Self;
    /// Adds the population count of each word of `x` times the matching word of `w` (below
    /// 2^32) to the matching word of `self`.
    fn add_popcount_times(self, x: Self, w: Self) -> Self;
    fn sum(self) -> u64;
    /// Asks for the cache lines of `words` ahead of their use (a hint; may do nothing).
    #[inline(always)]
    fn prefetch(_words: &[u64]) {}
}

impl Lanes for V {
    #[inline(always)]
    fn zero() -> V {
        ZERO
    }
    #[inline(always)]
    fn ones() -> V {
        [u64::MAX; LANES]
    }
    #[inline(always)]
    fn load(words: &[u64]) -> V {
        words[..LANES].try_into().expect("LANES words")
    }
    #[inline(always)]
    fn and(self, o: V) -> V {
        std::array::from_fn(|i| self[i] & o[i])
    }
    #[inline(always)]
    fn andnot(self, o: V) -> V {
        std::array::from_fn(|i| self[i] & !o[i])
    }
    #[inline(always)]
    fn or(self, o: V) -> V {
        std::array::from_fn(|i| self[i] | o[i])
    }
    #[inline(always)]
    fn xor(self, o: V) -> V {
        std::array::from_fn(|i| self[i] ^ o[i])
    }
    #[inline(always)]
    fn add_popcount(self, x: V) -> V {
        std::array::from_fn(|i| self[i] + u64::from(x[i].count_ones()))
    }
    #[inline(always)]
    fn add_popcount_times(self, x: V, w: V) -> V {
        std::array::from_fn(|i| self[i] + u64::from(x[i].count_ones()) * w[i])
    }
    #[inline(always)]
    fn sum(self) -> u64 {
        self.iter().sum()
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! The AVX-512 lanes. Each method is one instruction; they are only ever inlined into
    //! `scan_avx512`, which is compiled for, and only called on, processors with these
    //! features.
    use super::{LANES, Lanes};
    use std::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub(super) struct Z(__m512i);

    // SAFETY (every block below): the intrinsics need AVX-512F/VPOPCNTDQ, which the only
    // caller (`scan_avx512`) is compiled with and checks for at run time; `load` reads
    // `LANES` words that the assert proves are there.
    impl Lanes for Z {
        #[inline(always)]
        fn zero() -> Z {
            Z(unsafe { _mm512_setzero_si512() })
        }
        #[inline(always)]
        fn ones() -> Z {
            Z(unsafe { _mm512_set1_epi64(-1) })
        }
        #[inline(always)]
        fn load(words: &[u64]) -> Z {
            assert!(words.len() >= LANES);
            Z(unsafe { _mm512_loadu_si512(words.as_ptr().cast()) })
        }
        #[inline(always)]
        fn and(self, o: Z) -> Z {
            Z(unsafe { _mm512_and_si512(self.0, o.0) })
        }
        #[inline(always)]
        fn andnot(self, o: Z) -> Z {
            Z(unsafe { _mm512_andnot_si512(o.0, self.0) })
        }
        #[inline(always)]
        fn or(self, o: Z) -> Z {
            Z(unsafe { _mm512_or_si512(self.0, o.0) })
        }
        #[inline(always)]
        fn xor(self, o: Z) -> Z {
            Z(unsafe { _mm512_xor_si512(self.0, o.0) })
        }
        #[inline(always)]
        fn add_popcount(self, x: Z) -> Z {
            Z(unsafe { _mm512_add_epi64(self.0, _mm512_popcnt_epi64(x.0)) })
        }
        #[inline(always)]
        fn add_popcount_times(self, x: Z, w: Z) -> Z {
            // Counts (at most 64) and weights (below 2^32) fit the low halves `mul_epu32` takes.
            Z(
                unsafe {
                    _mm512_add_epi64(self.0, _mm512_mul_epu32(_mm512_popcnt_epi64(x.0), w.0))
                },
            )
        }
        #[inline(always)]
        fn sum(self) -> u64 {
            unsafe { _mm512_reduce_add_epi64(self.0) as u64 }
        }
        #[inline(always)]
        fn prefetch(words: &[u64]) {
            for line in words.chunks(LANES) {
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
            }
        }
    }
}

/// Scans the superblocks of `cells` (a run of whole cells) and writes each cell's totals into
/// `out` in the engine's per-level layout: for each level (how many cutoffs the score
/// reaches), `[units, population, Σ weight × score, Σ weight × deprived in j …]`.
pub(crate) fn scan_cells(
    sliced: &Sliced,
    circuit: &Circuit,
    cells: std::ops::Range<usize>,
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
        {
            // SAFETY: the features this function is compiled with were detected just now.
            return unsafe { scan_avx512(sliced, circuit, cells, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: as above.
            return unsafe { scan_avx2(sliced, circuit, cells, out) };
        }
    }
    scan_generic::<V>(sliced, circuit, cells, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn scan_avx512(sliced: &Sliced, circuit: &Circuit, cells: std::ops::Range<usize>, out: &mut [f64]) {
    scan_generic::<avx512::Z>(sliced, circuit, cells, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn scan_avx2(sliced: &Sliced, circuit: &Circuit, cells: std::ops::Range<usize>, out: &mut [f64]) {
    scan_generic::<V>(sliced, circuit, cells, out)
}

#[inline(always)]
fn scan_generic<L: Lanes>(
    sliced: &Sliced,
    circuit: &Circuit,
    cells: std::ops::Range<usize>,
    out: &mut [f64],
) {
    let nind = sliced.nind;
    let sets = circuit.thresholds.len() + 1;
    let acc_len = sets * (3 + nind);
    // Per set of the poor at each sorted cutoff, lane-wise sums: units, population, then each
    // indicator's weighted count. The set of everyone is the cell's stored `base`.
    let per_set = 2 + nind;
    let mut acc = vec![L::zero(); (sets - 1) * per_set];
    let mut masks = vec![L::zero(); sets - 1];
    let mut planes = vec![L::zero(); nind];
    let mut score = [L::zero(); MAX_SCORE_BITS];
    let words = sliced.sb_words();
    let first_cell = cells.start;
    for c in cells {
        let sbs = sliced.cell_sb[c] as usize..sliced.cell_sb[c + 1] as usize;
        for sb in sbs {
            let block = &sliced.data[sb * words..(sb + 1) * words];
            // The hardware prefetcher loses the stream between the scan's bursts of loads.
            if let Some(ahead) = sliced
                .data
                .get((sb + PREFETCH) * words..(sb + PREFETCH + 1) * words)
            {
                L::prefetch(ahead);
            }
            let valid = L::load(&block[VALID * LANES..]);
            let weight = L::load(&block[WEIGHT * LANES..]);
            for (j, x) in planes.iter_mut().enumerate() {
                *x = L::load(&block[(FIRST_INDICATOR + j) * LANES..]);
            }
            score_of(circuit, &planes, &mut score);
            for (m, &t) in circuit.thresholds.iter().enumerate() {
                masks[m] = at_least(&score[..circuit.score_bits], t).and(valid);
            }
            for (m, &mask) in masks.iter().enumerate() {
                let a = &mut acc[m * per_set..(m + 1) * per_set];
                a[0] = a[0].add_popcount(mask);
                a[1] = a[1].add_popcount_times(mask, weight);
                for (slot, &x) in a[2..].iter_mut().zip(&planes) {
                    *slot = slot.add_popcount_times(mask.and(x), weight);
                }
            }
        }
        let dst = &mut out[(c - first_cell) * acc_len..(c - first_cell + 1) * acc_len];
        let base = &sliced.base[c * per_set..(c + 1) * per_set];
        flush(circuit, nind, sets, base, &mut acc, dst);
    }
}

/// Turns a cell's cumulative set totals into per-level totals (level `l` = in set `l` but
/// not in set `l + 1`), adds them to `dst`, and clears the accumulators.
#[inline(always)]
fn flush<L: Lanes>(
    circuit: &Circuit,
    nind: usize,
    sets: usize,
    base: &[u64],
    acc: &mut [L],
    dst: &mut [f64],
) {
    let per_set = 2 + nind;
    let stride = 3 + nind;
    // cum[m] = [units, population, Σ w·g_j …] as exact integers: everyone, the poor at each
    // cutoff, and one extra empty set.
    let mut cum = vec![0u64; (sets + 1) * per_set];
    cum[..per_set].copy_from_slice(base);
    for (c, a) in cum[per_set..]
        .chunks_exact_mut(per_set)
        .zip(acc.chunks_exact(per_set))
    {
        for (x, v) in c.iter_mut().zip(a) {
            *x = v.sum();
        }
    }
    for l in 0..sets {
        let (this, next) = cum[l * per_set..(l + 2) * per_set].split_at(per_set);
        let d = &mut dst[l * stride..(l + 1) * stride];
        d[0] += (this[0] - next[0]) as f64;
        d[1] += (this[1] - next[1]) as f64;
        let mut score: u128 = 0;
        for j in 0..nind {
            let t = this[2 + j] - next[2 + j];
            d[3 + j] += t as f64;
            score += u128::from(t) * u128::from(circuit.units[j]);
        }
        d[2] += score as f64;
    }
    acc.fill(L::zero());
}

/// The bit-sliced score of 512 rows: bit `b` of every row's score in `score[b]` (only the
/// circuit's `score_bits` are written).
#[inline(always)]
fn score_of<L: Lanes>(circuit: &Circuit, planes: &[L], score: &mut [L; MAX_SCORE_BITS]) {
    let top = circuit.score_bits;
    score[..top].fill(L::zero());
    for (units, inds, width) in &circuit.classes {
        // How many of this class's indicators each row is deprived in; the counter's width is
        // a constant in each arm, so the counter stays in registers.
        let count = match width {
            1 => widen(count_of::<L, 1>(planes, inds)),
            2 => widen(count_of::<L, 2>(planes, inds)),
            3 => widen(count_of::<L, 3>(planes, inds)),
            4 => widen(count_of::<L, 4>(planes, inds)),
            5 => widen(count_of::<L, 5>(planes, inds)),
            _ => count_of::<L, 6>(planes, inds),
        };
        // score += count × units, one shifted addition per set bit of units.
        let mut u = *units;
        while u != 0 {
            let shift = u.trailing_zeros() as usize;
            u &= u - 1;
            let mut carry = L::zero();
            for b in shift..top {
                let x = if b - shift < *width {
                    count[b - shift]
                } else {
                    L::zero()
                };
                let s = score[b];
                let half = s.xor(x);
                score[b] = half.xor(carry);
                carry = s.and(x).or(carry.and(half));
            }
        }
    }
}

/// A ripple counter of `W` bits: how many of `inds`' planes have each row's bit set.
#[inline(always)]
fn count_of<L: Lanes, const W: usize>(planes: &[L], inds: &[usize]) -> [L; W] {
    let mut count = [L::zero(); W];
    for &j in inds {
        let mut carry = planes[j];
        for bit in count.iter_mut() {
            let next = bit.and(carry);
            *bit = bit.xor(carry);
            carry = next;
        }
    }
    count
}

#[inline(always)]
fn widen<L: Lanes, const W: usize>(count: [L; W]) -> [L; 6] {
    std::array::from_fn(|b| if b < W { count[b] } else { L::zero() })
}

/// Rows whose score is at least `t`: scanning from the top bit, a row is above `t` once it has
/// a 1 where `t` has a 0 with all higher bits equal.
#[inline(always)]
fn at_least<L: Lanes>(score: &[L], t: u32) -> L {
    if (score.len() as u32) < 32 && t >> score.len() != 0 {
        return L::zero();
    }
    let mut above = L::zero();
    let mut equal = L::ones();
    for b in (0..score.len()).rev() {
        if t >> b & 1 == 1 {
            equal = equal.and(score[b]);
        } else {
            above = above.or(equal.and(score[b]));
            equal = equal.andnot(score[b]);
        }
    }
    above.or(equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_score(units: &[u32], bits: u32) -> u32 {
        (0..units.len())
            .filter(|j| bits >> j & 1 == 1)
            .map(|j| units[j])
            .sum()
    }

    #[test]
    fn every_compiled_scan_gives_the_same_totals() {
        // Three cells of uneven size, weights 0–6, 17 indicators with nested-equal-like units.
        let units = [4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3];
        let sizes = [1200usize, 37, 700];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut bits = Vec::new();
        let mut weight = Vec::new();
        let mut cells = Vec::new();
        for (c, &n) in sizes.iter().enumerate() {
            let start = bits.len();
            for _ in 0..n {
                let r = next();
                bits.push((r as u32) & 0x1ffff & (r >> 32) as u32);
                weight.push((r >> 60) as f64 % 7.0);
            }
            cells.push(Cell {
                rows: start..bits.len(),
                year: 0,
                groups: vec![c as u32],
            });
        }
        let sliced = Sliced::build(units.len(), &cells, &bits, &weight).unwrap();
        let circuit = Circuit::new(&units, &[12, 20, 33]);
        let len = cells.len() * 4 * (3 + units.len());
        let mut portable = vec![0.0; len];
        scan_generic::<V>(&sliced, &circuit, 0..cells.len(), &mut portable);
        let mut best = vec![0.0; len];
        scan_cells(&sliced, &circuit, 0..cells.len(), &mut best);
        assert_eq!(portable, best);
        // And both agree with a plain count: units and population of each cell.
        for (c, cell) in cells.iter().enumerate() {
            let at = c * 4 * (3 + units.len());
            let stride = 3 + units.len();
            let rows: f64 = (0..4).map(|l| portable[at + l * stride]).sum();
            let persons: f64 = (0..4).map(|l| portable[at + l * stride + 1]).sum();
            assert_eq!(rows, cell.rows.len() as f64);
            assert_eq!(persons, weight[cell.rows.clone()].iter().sum::<f64>());
        }
    }

    #[test]
    fn bit_sliced_score_and_comparison_match_scalar_arithmetic() {
        // Units of nested equal weights over 3/3/3/4/4 indicators (L = 60), and an uneven
        // set with a wide spread, each with thresholds on both sides of every score.
        for units in [
            vec![4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3],
            vec![1, 7, 30, 2, 13, 7, 40],
        ] {
            let n = units.len();
            let total: u32 = units.iter().sum();
            let circuit = Circuit::new(&units, &[]);
            // 512 profiles from a fixed xorshift stream, plus all-zero and all-one.
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut profiles: Vec<u32> = (0..SB_ROWS - 2)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x as u32) & ((1u32 << n) - 1)
                })
                .collect();
            profiles.push(0);
            profiles.push((1u32 << n) - 1);
            let planes: Vec<V> = (0..n)
                .map(|j| {
                    let mut v = ZERO;
                    for (r, &p) in profiles.iter().enumerate() {
                        if p >> j & 1 == 1 {
                            v[r / 64] |= 1 << (r % 64);
                        }
                    }
                    v
                })
                .collect();
            let mut score = [ZERO; MAX_SCORE_BITS];
            score_of(&circuit, &planes, &mut score);
            for (r, &p) in profiles.iter().enumerate() {
                let want = scalar_score(&units, p);
                let got: u32 = (0..circuit.score_bits)
                    .map(|b| ((score[b][r / 64] >> (r % 64)) & 1) as u32 * (1 << b))
                    .sum();
                assert_eq!(got, want, "profile {p:#b}");
            }
            for t in 0..=total + 1 {
                let ge = at_least(&score[..circuit.score_bits], t);
                for (r, &p) in profiles.iter().enumerate() {
                    let got = (ge[r / 64] >> (r % 64)) & 1 == 1;
                    assert_eq!(got, scalar_score(&units, p) >= t, "t = {t}, {p:#b}");
                }
            }
        }
    }
}
