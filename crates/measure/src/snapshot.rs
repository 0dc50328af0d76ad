//! The in-memory snapshot the engine scans: one row per unit of identification, laid out
//! for speed.
//!
//! Each row is a bit-packed deprivation profile (`u32`, bit `j` = indicator `j`) and an
//! analysis weight (persons the unit stands for × sample weight). Rows are stored sorted by
//! *cell*, the finest combination of round (year) and subgroup values, so that a scan reads
//! each cell as one contiguous run and its small accumulators stay in L1 cache. Every coarser
//! figure (a whole round, one subgroup column) is a sum of cells, because all Alkire–Foster
//! measures are ratios of additive totals.
//!
//! Units with a missing indicator never enter a snapshot (complete case, as OPHI); the
//! builder only counts them.

use std::collections::HashMap;
use std::ops::Range;

use crate::sliced::Sliced;

/// A round of data, by its year (which may be fractional, e.g. 2018.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Year {
    pub value: f64,
    /// As first written in the data, e.g. `2010.0`.
    pub label: String,
}

/// A subgroup column and its distinct values, in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupColumn {
    pub name: String,
    pub values: Vec<String>,
}

/// A contiguous run of rows sharing a year and one value of every subgroup column.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub rows: Range<usize>,
    /// Index into [`Snapshot::years`] (0 when the snapshot has no year column).
    pub year: usize,
    /// One index per [`Snapshot::by`] column, into that column's values.
    pub groups: Vec<u32>,
}

/// The rows one measure run scans. Its layout is fixed once built; a unit's profile and
/// weight can be patched in place ([`Snapshot::set_row`]); what-if runs work on copies.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) indicators: Vec<String>,
    pub(crate) bits: Vec<u32>,
    pub(crate) weight: Vec<f64>,
    /// For each stored row, its position in the input (as pushed to the builder).
    pub(crate) input_index: Vec<u32>,
    /// The inverse: for each input position, its stored row (`u32::MAX` when dropped), so
    /// that one unit can be patched in place.
    pub(crate) position: Vec<u32>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) years: Vec<Year>,
    pub(crate) by: Vec<GroupColumn>,
    pub(crate) rows_read: usize,
    pub(crate) dropped: Vec<(String, usize)>,
    /// The same rows as bit planes ([`crate::sliced`]), when every weight is a whole number
    /// and the layout pays; the engine scans this instead of `bits` and `weight`.
    pub(crate) sliced: Option<Sliced>,
}

/// How the engine reads a snapshot. Both layouts give identical results; the choice is speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One `u32` profile and one `f64` weight per row: any weights.
    Rows,
    /// Bit planes of 512 rows: whole-number weights only (persons per household).
    Sliced,
}

impl Snapshot {
    /// The layout the engine scans.
    pub fn layout(&self) -> Layout {
        if self.sliced.is_some() {
            Layout::Sliced
        } else {
            Layout::Rows
        }
    }

    /// Chooses the layout (the builder picks [`Layout::Sliced`] when it is possible and
    /// compact). `false` when the sliced layout was asked for but a weight is not a whole
    /// number below 65,536.
    pub fn set_layout(&mut self, layout: Layout) -> bool {
        match layout {
            Layout::Rows => {
                self.sliced = None;
                true
            }
            Layout::Sliced => {
                if self.sliced.is_none() {
                    self.sliced =
                        Sliced::build(self.indicators.len(), &self.cells, &self.bits, &self.weight)
                            .ok();
                }
                self.sliced.is_some()
            }
        }
    }

    /// Bytes one scan of the current layout reads (for the bandwidth bound in benchmarks).
    pub fn scan_bytes(&self) -> usize {
        match &self.sliced {
            Some(s) => s.bytes(),
            None => self.bits.len() * (4 + 8),
        }
    }

    pub fn indicators(&self) -> &[String] {
        &self.indicators
    }
    pub fn len(&self) -> usize {
        self.bits.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
    /// Deprivation profiles in stored (cell) order.
    pub fn bits(&self) -> &[u32] {
        &self.bits
    }
    /// Analysis weights in stored (cell) order.
    pub fn weights(&self) -> &[f64] {
        &self.weight
    }
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
    /// Rounds, ascending; empty when the data has no year column.
    pub fn years(&self) -> &[Year] {
        &self.years
    }
    pub fn by(&self) -> &[GroupColumn] {
        &self.by
    }
    /// Units read, including those dropped for missing values.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }
    /// Units dropped as incomplete, per year label (a single entry with an empty label when
    /// there is no year column).
    pub fn dropped(&self) -> &[(String, usize)] {
        &self.dropped
    }
    pub fn rows_dropped(&self) -> usize {
        self.dropped.iter().map(|(_, n)| n).sum()
    }
    /// The input position of each stored row.
    pub fn input_index(&self) -> &[u32] {
        &self.input_index
    }

    /// The stored row of an input position, `None` when that unit was dropped as incomplete
    /// or never given.
    pub fn position_of(&self, input: usize) -> Option<usize> {
        match self.position.get(input) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// Replaces the deprivation profile and analysis weight of one stored unit, in place.
    ///
    /// This is how a live snapshot is kept current when a record changes without changing
    /// its round or subgroups: the unit stays in its cell, so the layout holds. A unit that
    /// was dropped as incomplete, or that moves to another cell, needs a rebuild instead.
    pub fn set_row(&mut self, input: usize, bits: u32, weight: f64) -> Result<(), BuildError> {
        let pos = self
            .position_of(input)
            .ok_or(BuildError::NotStored(input))?;
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(BuildError::BadWeight(weight));
        }
        let n = self.indicators.len();
        if n < 32 && bits >> n != 0 {
            return Err(BuildError::ExtraBits(bits, n));
        }
        self.bits[pos] = bits;
        self.weight[pos] = weight;
        if let Some(sliced) = &mut self.sliced
            && sliced.set_row(&self.cells, pos, bits, weight).is_err()
        {
            // A weight that needs another weight plane (or is no longer whole): lay the planes
            // out again, or fall back to the row layout.
            self.sliced =
                Sliced::build(self.indicators.len(), &self.cells, &self.bits, &self.weight).ok();
        }
        Ok(())
    }
}

/// Collects rows in any order and lays them out as a [`Snapshot`].
#[derive(Debug)]
pub struct SnapshotBuilder {
    indicators: Vec<String>,
    by_names: Vec<String>,
    has_year: bool,
    year_index: HashMap<u64, u32>,
    years: Vec<Year>,
    group_index: Vec<HashMap<String, u32>>,
    group_values: Vec<Vec<String>>,
    bits: Vec<u32>,
    weight: Vec<f64>,
    input_index: Vec<u32>,
    keys: Vec<u32>,
    pushed: usize,
    dropped: Vec<(String, usize)>,
}

/// Why a row could not be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("{got} subgroup values given, {want} subgroup columns declared")]
    GroupCount { got: usize, want: usize },
    #[error("a year is required for every row (the snapshot has a year column)")]
    MissingYear,
    #[error("a year was given but the snapshot has no year column")]
    UnexpectedYear,
    #[error("weight {0} is not a finite non-negative number")]
    BadWeight(f64),
    #[error("year {0} is not a finite number")]
    BadYear(f64),
    #[error("deprivation bits {0:#x} name indicators beyond the {1} declared")]
    ExtraBits(u32, usize),
    #[error("more than {} rows", u32::MAX)]
    TooManyRows,
    #[error("unit {0} is not stored in the snapshot (dropped as incomplete, or never given)")]
    NotStored(usize),
}

impl SnapshotBuilder {
    pub fn new(indicators: Vec<String>, by_names: Vec<String>, has_year: bool) -> SnapshotBuilder {
        let m = by_names.len();
        SnapshotBuilder {
            indicators,
            by_names,
            has_year,
            year_index: HashMap::new(),
            years: Vec::new(),
            group_index: vec![HashMap::new(); m],
            group_values: vec![Vec::new(); m],
            bits: Vec::new(),
            weight: Vec::new(),
            input_index: Vec::new(),
            keys: Vec::new(),
            pushed: 0,
            dropped: Vec::new(),
        }
    }

    fn check_year(&self, year: Option<(f64, &str)>) -> Result<(), BuildError> {
        match (self.has_year, year) {
            (true, None) => Err(BuildError::MissingYear),
            (false, Some(_)) => Err(BuildError::UnexpectedYear),
            (_, Some((v, _))) if !v.is_finite() => Err(BuildError::BadYear(v)),
            _ => Ok(()),
        }
    }

    /// Adds a complete unit. `year` is `(value, label)`; `groups` has one value per subgroup
    /// column.
    pub fn push(
        &mut self,
        bits: u32,
        weight: f64,
        year: Option<(f64, &str)>,
        groups: &[&str],
    ) -> Result<(), BuildError> {
        self.check_year(year)?;
        if groups.len() != self.by_names.len() {
            return Err(BuildError::GroupCount {
                got: groups.len(),
                want: self.by_names.len(),
            });
        }
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(BuildError::BadWeight(weight));
        }
        let n = self.indicators.len();
        if n < 32 && bits >> n != 0 {
            return Err(BuildError::ExtraBits(bits, n));
        }
        let input = u32::try_from(self.pushed).map_err(|_| BuildError::TooManyRows)?;
        let year_code = match year {
            None => 0,
            Some((value, label)) => {
                // Normalise -0.0 so that the same year always maps to one code.
                let key = (value + 0.0).to_bits();
                let next = self.years.len() as u32;
                *self.year_index.entry(key).or_insert_with(|| {
                    self.years.push(Year {
                        value,
                        label: label.to_string(),
                    });
                    next
                })
            }
        };
        self.keys.push(year_code);
        for (c, value) in groups.iter().enumerate() {
            let next = self.group_values[c].len() as u32;
            let code = match self.group_index[c].get(*value) {
                Some(&code) => code,
                None => {
                    self.group_index[c].insert(value.to_string(), next);
                    self.group_values[c].push(value.to_string());
                    next
                }
            };
            self.keys.push(code);
        }
        self.bits.push(bits);
        self.weight.push(weight);
        self.input_index.push(input);
        self.pushed += 1;
        Ok(())
    }

    /// Counts a unit dropped for a missing indicator value (complete case).
    pub fn push_dropped(&mut self, year: Option<(f64, &str)>) -> Result<(), BuildError> {
        self.check_year(year)?;
        let label = year.map(|(_, l)| l).unwrap_or("");
        match self.dropped.iter_mut().find(|(l, _)| l == label) {
            Some((_, n)) => *n += 1,
            None => self.dropped.push((label.to_string(), 1)),
        }
        self.pushed += 1;
        Ok(())
    }

    pub fn build(self) -> Snapshot {
        let m = self.by_names.len();
        let key_len = m + 1;

        // Years ascending; subgroup values in natural order (numerically when all are numbers).
        let mut year_order: Vec<usize> = (0..self.years.len()).collect();
        year_order.sort_by(|&a, &b| self.years[a].value.total_cmp(&self.years[b].value));
        let year_remap = inverse(&year_order);
        let years: Vec<Year> = year_order.iter().map(|&i| self.years[i].clone()).collect();

        let mut by = Vec::with_capacity(m);
        let mut group_remap = Vec::with_capacity(m);
        for (name, values) in self.by_names.into_iter().zip(self.group_values) {
            let order = natural_order(&values);
            group_remap.push(inverse(&order));
            by.push(GroupColumn {
                name,
                values: order.iter().map(|&i| values[i].clone()).collect(),
            });
        }

        let mut keys = self.keys;
        for key in keys.chunks_exact_mut(key_len) {
            if !years.is_empty() {
                key[0] = year_remap[key[0] as usize];
            }
            for c in 0..m {
                key[c + 1] = group_remap[c][key[c + 1] as usize];
            }
        }

        // Distinct cell keys, sorted, then a counting sort of rows by cell.
        let n = self.bits.len();
        let mut cell_of_key: HashMap<&[u32], u32> = HashMap::new();
        let mut row_cell = Vec::with_capacity(n);
        let mut distinct: Vec<&[u32]> = Vec::new();
        for key in keys.chunks_exact(key_len) {
            let next = distinct.len() as u32;
            let id = *cell_of_key.entry(key).or_insert_with(|| {
                distinct.push(key);
                next
            });
            row_cell.push(id);
        }
        let mut cell_order: Vec<usize> = (0..distinct.len()).collect();
        cell_order.sort_by(|&a, &b| distinct[a].cmp(distinct[b]));
        let cell_remap = inverse(&cell_order);
        let mut counts = vec![0usize; distinct.len()];
        for id in &mut row_cell {
            *id = cell_remap[*id as usize];
            counts[*id as usize] += 1;
        }
        let mut cells = Vec::with_capacity(distinct.len());
        let mut start = 0;
        let mut next_slot = Vec::with_capacity(distinct.len());
        for (slot, &old) in cell_order.iter().enumerate() {
            let key = distinct[old];
            let end = start + counts[slot];
            cells.push(Cell {
                rows: start..end,
                year: key[0] as usize,
                groups: key[1..].to_vec(),
            });
            next_slot.push(start);
            start = end;
        }
        let mut bits = vec![0u32; n];
        let mut weight = vec![0f64; n];
        let mut input_index = vec![0u32; n];
        for (row, &id) in row_cell.iter().enumerate() {
            let pos = next_slot[id as usize];
            next_slot[id as usize] += 1;
            bits[pos] = self.bits[row];
            weight[pos] = self.weight[row];
            input_index[pos] = self.input_index[row];
        }

        let mut position = vec![u32::MAX; self.pushed];
        for (pos, &input) in input_index.iter().enumerate() {
            position[input as usize] = pos as u32;
        }

        let mut dropped = self.dropped;
        dropped.sort_by(|a, b| {
            let va = years.iter().position(|y| y.label == a.0);
            let vb = years.iter().position(|y| y.label == b.0);
            va.cmp(&vb).then_with(|| a.0.cmp(&b.0))
        });
        let sliced = Sliced::build(self.indicators.len(), &cells, &bits, &weight)
            .ok()
            .filter(|s| s.is_worthwhile(n));
        Snapshot {
            indicators: self.indicators,
            bits,
            weight,
            input_index,
            position,
            cells,
            years,
            by,
            rows_read: self.pushed,
            dropped,
            sliced,
        }
    }
}

fn inverse(order: &[usize]) -> Vec<u32> {
    let mut inv = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        inv[old] = new as u32;
    }
    inv
}

/// Numbers sort as numbers (so area codes 2 < 10), anything else as text.
fn natural_order(values: &[String]) -> Vec<usize> {
    let nums: Option<Vec<f64>> = values
        .iter()
        .map(|v| v.trim().parse::<f64>().ok())
        .collect();
    let mut order: Vec<usize> = (0..values.len()).collect();
    match nums {
        Some(nums) => order.sort_by(|&a, &b| {
            nums[a]
                .total_cmp(&nums[b])
                .then_with(|| values[a].cmp(&values[b]))
        }),
        None => order.sort_by(|&a, &b| values[a].cmp(&values[b])),
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_into_sorted_cells() {
        let mut b = SnapshotBuilder::new(vec!["a".into(), "b".into()], vec!["area".into()], true);
        b.push(0b01, 1.0, Some((2018.5, "2018.5")), &["10"])
            .unwrap();
        b.push(0b10, 2.0, Some((2010.0, "2010")), &["2"]).unwrap();
        b.push_dropped(Some((2010.0, "2010"))).unwrap();
        b.push(0b11, 3.0, Some((2010.0, "2010")), &["10"]).unwrap();
        b.push(0b00, 4.0, Some((2010.0, "2010")), &["2"]).unwrap();
        let s = b.build();
        assert_eq!(
            s.years().iter().map(|y| y.value).collect::<Vec<_>>(),
            [2010.0, 2018.5]
        );
        assert_eq!(s.by()[0].values, ["2", "10"]);
        assert_eq!(s.cells().len(), 3);
        assert_eq!(s.cells()[0].rows, 0..2);
        assert_eq!(s.cells()[0].groups, [0]);
        assert_eq!(s.bits(), [0b10, 0b00, 0b11, 0b01]);
        assert_eq!(s.input_index(), [1, 4, 3, 0]);
        assert_eq!(s.rows_read(), 5);
        assert_eq!(s.rows_dropped(), 1);
        assert_eq!(s.dropped(), [("2010".to_string(), 1)]);
        assert_eq!(s.position_of(0), Some(3));
        assert_eq!(s.position_of(2), None);
        assert_eq!(s.position_of(9), None);
    }

    #[test]
    fn set_row_patches_one_unit_in_place() {
        let mut b = SnapshotBuilder::new(vec!["a".into(), "b".into()], vec!["area".into()], false);
        b.push(0b01, 1.0, None, &["10"]).unwrap();
        b.push_dropped(None).unwrap();
        b.push(0b10, 2.0, None, &["2"]).unwrap();
        let mut s = b.build();
        s.set_row(0, 0b11, 5.0).unwrap();
        assert_eq!(s.bits(), [0b10, 0b11]);
        assert_eq!(s.weights(), [2.0, 5.0]);
        assert_eq!(s.set_row(1, 0, 1.0), Err(BuildError::NotStored(1)));
        assert_eq!(s.set_row(2, 0b100, 1.0), Err(BuildError::ExtraBits(4, 2)));
        assert!(matches!(
            s.set_row(2, 0, f64::NAN),
            Err(BuildError::BadWeight(_))
        ));
    }

    #[test]
    fn builder_refuses_inconsistent_rows() {
        let mut b = SnapshotBuilder::new(vec!["a".into()], vec![], false);
        assert_eq!(
            b.push(0b10, 1.0, None, &[]),
            Err(BuildError::ExtraBits(2, 1))
        );
        assert_eq!(b.push(1, -1.0, None, &[]), Err(BuildError::BadWeight(-1.0)));
        assert_eq!(
            b.push(1, 1.0, Some((1.0, "1")), &[]),
            Err(BuildError::UnexpectedYear)
        );
        assert!(matches!(
            b.push(1, 1.0, None, &["x"]),
            Err(BuildError::GroupCount { .. })
        ));
    }
}
