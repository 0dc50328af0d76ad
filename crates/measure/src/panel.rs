//! The panel: what became of every unit (household or person) of the baseline cohort, and who
//! joined the target population since, counted per area and round.
//!
//! Input is columnar and compact: per unit a fixed leaf area index, and per unit and round one
//! [`State`] byte (not yet in the registry; present and in the target population; present and
//! not in it; present but not assessed; gone, with its cause) and optionally a `u16` weight
//! (for households: the persons of the target population living in them). Units are grouped by
//! area (a [`PanelBuilder`] groups them), so that a scan writes each area's counters while
//! they are hot in cache and threads work on disjoint runs of areas without merging.
//!
//! Round 0 is the baseline. The units in the target population then are the cohort, frozen;
//! each later round every cohort unit falls in one [`Class`]: still in, re-entered, exited once
//! (out, not yet graduated), graduated (out in `consecutive_out` assessments in a row),
//! present but not assessed, or gone by cause. Units in the target population that are not of
//! the cohort are newcomers, new to the registry or already present at the baseline. Between
//! consecutive rounds, transition counts (from one [`Flow`] to another) are kept separately for
//! the cohort and for everyone else; from them alone the stock, the cohort's exits and
//! re-entries and the newcomers follow, independently of the classification, which is how the
//! tests check the identity stock = baseline − exits + re-entries + newcomers ([`Flows`]).
//!
//! Counts per leaf area sum exactly into any grouping ([`PanelCounts::rollup`]).

use std::fmt;

/// A unit's standing in one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    /// Not in the registry yet (not born, not moved in, not registered).
    NotYet = 0,
    /// In the registry and in the target population.
    In = 1,
    /// In the registry, assessed, and not in the target population.
    Out = 2,
    /// In the registry, but whether it is in the target population is not known this round
    /// (no assessment, or a value the rule needs is missing).
    Unassessed = 3,
    Died = 4,
    /// Moved away (out of the registry's area).
    Moved = 5,
    /// The record was merged into another record of the same household or person.
    Merged = 6,
    /// The record was withdrawn as registered in error.
    Corrected = 7,
}

impl State {
    pub const ALL: [State; 8] = [
        State::NotYet,
        State::In,
        State::Out,
        State::Unassessed,
        State::Died,
        State::Moved,
        State::Merged,
        State::Corrected,
    ];

    pub fn from_u8(b: u8) -> Option<State> {
        State::ALL.get(usize::from(b)).copied()
    }

    pub fn is_present(self) -> bool {
        matches!(self, State::In | State::Out | State::Unassessed)
    }

    pub fn is_gone(self) -> bool {
        (self as u8) >= State::Died as u8
    }

    pub fn flow(self) -> Flow {
        match self {
            State::NotYet => Flow::NotYet,
            State::In => Flow::In,
            State::Out => Flow::Out,
            State::Unassessed => Flow::Unassessed,
            _ => Flow::Gone,
        }
    }
}

/// The states of a transition matrix: the gone causes taken together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flow {
    NotYet = 0,
    In = 1,
    Out = 2,
    Unassessed = 3,
    Gone = 4,
}

impl Flow {
    pub const ALL: [Flow; 5] = [
        Flow::NotYet,
        Flow::In,
        Flow::Out,
        Flow::Unassessed,
        Flow::Gone,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flow::NotYet => "not_yet",
            Flow::In => "in",
            Flow::Out => "out",
            Flow::Unassessed => "unassessed",
            Flow::Gone => "gone",
        }
    }
}

/// What a unit is, in one round, with respect to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Cohort, in the target population in every assessment since the baseline.
    StillIn = 0,
    /// Cohort, back in after having been out or gone.
    ReEntered = 1,
    /// Cohort, out of the target population, not yet in enough assessments in a row.
    ExitedOnce = 2,
    /// Cohort, out in `consecutive_out` assessments in a row (a verified state).
    Graduated = 3,
    /// Cohort, in the registry but not assessed this round.
    CohortUnassessed = 4,
    Died = 5,
    Moved = 6,
    Merged = 7,
    Corrected = 8,
    /// Not of the cohort, in the target population, and not in the registry at the baseline.
    NewcomerNew = 9,
    /// Not of the cohort, in the target population, in the registry at the baseline but not
    /// then in the target population (or not then assessed).
    NewcomerExisting = 10,
    /// Not of the cohort, present and out of the target population.
    OtherOut = 11,
    /// Not of the cohort, present and not assessed.
    OtherUnassessed = 12,
}

/// Number of [`Class`]es.
pub const CLASSES: usize = 13;

impl Class {
    pub const ALL: [Class; CLASSES] = [
        Class::StillIn,
        Class::ReEntered,
        Class::ExitedOnce,
        Class::Graduated,
        Class::CohortUnassessed,
        Class::Died,
        Class::Moved,
        Class::Merged,
        Class::Corrected,
        Class::NewcomerNew,
        Class::NewcomerExisting,
        Class::OtherOut,
        Class::OtherUnassessed,
    ];

    /// Column names in reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::StillIn => "still_in",
            Class::ReEntered => "reentered",
            Class::ExitedOnce => "exited_once",
            Class::Graduated => "graduated",
            Class::CohortUnassessed => "unassessed",
            Class::Died => "died",
            Class::Moved => "moved",
            Class::Merged => "merged",
            Class::Corrected => "corrected",
            Class::NewcomerNew => "newcomer_new",
            Class::NewcomerExisting => "newcomer_existing",
            Class::OtherOut => "other_out",
            Class::OtherUnassessed => "other_unassessed",
        }
    }

    pub fn is_cohort(self) -> bool {
        (self as usize) <= Class::Corrected as usize
    }

    /// Whether units of this class are in the target population.
    pub fn is_in(self) -> bool {
        matches!(
            self,
            Class::StillIn | Class::ReEntered | Class::NewcomerNew | Class::NewcomerExisting
        )
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a panel could not be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanelError {
    #[error("panel: {what} has {found} entries, expected {expected}")]
    Length {
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("panel: unit {unit} has area {area}, but there are only {areas} areas")]
    AreaOutOfRange {
        unit: usize,
        area: u32,
        areas: usize,
    },
    #[error("panel: units are not grouped by area (unit {unit}); use a PanelBuilder")]
    NotGrouped { unit: usize },
    #[error("panel: unit {unit} has state byte {byte} in round {round}, which is not a state")]
    BadState { unit: usize, round: usize, byte: u8 },
    #[error("panel: at least one round (the baseline) is needed")]
    NoRounds,
    #[error("panel: consecutive_out must be at least 1")]
    BadRule,
}

/// A panel in memory, borrowed: what the engine scans.
#[derive(Clone, Copy, Debug)]
pub struct PanelView<'a> {
    rounds: usize,
    areas: usize,
    area: &'a [u32],
    states: &'a [u8],
    weights: Option<&'a [u16]>,
}

impl<'a> PanelView<'a> {
    /// `area[u]` is unit `u`'s leaf area (< `areas`), non-decreasing in `u`; `states` and
    /// `weights` are unit-major (`states[u * rounds + t]`). The grouping and the state bytes
    /// are checked during the scan, not here.
    pub fn new(
        rounds: usize,
        areas: usize,
        area: &'a [u32],
        states: &'a [u8],
        weights: Option<&'a [u16]>,
    ) -> Result<PanelView<'a>, PanelError> {
        if rounds == 0 {
            return Err(PanelError::NoRounds);
        }
        let expected = area.len() * rounds;
        if states.len() != expected {
            return Err(PanelError::Length {
                what: "states",
                found: states.len(),
                expected,
            });
        }
        if let Some(w) = weights
            && w.len() != expected
        {
            return Err(PanelError::Length {
                what: "weights",
                found: w.len(),
                expected,
            });
        }
        Ok(PanelView {
            rounds,
            areas,
            area,
            states,
            weights,
        })
    }

    pub fn units(&self) -> usize {
        self.area.len()
    }

    pub fn rounds(&self) -> usize {
        self.rounds
    }

    pub fn areas(&self) -> usize {
        self.areas
    }
}

/// Collects units in any order and lays them out grouped by area (a stable counting sort, so
/// units of one area keep the order they were pushed in).
#[derive(Clone, Debug)]
pub struct PanelBuilder {
    rounds: usize,
    areas: usize,
    weighted: bool,
    area: Vec<u32>,
    states: Vec<u8>,
    weights: Vec<u16>,
}

impl PanelBuilder {
    pub fn new(rounds: usize, areas: usize, weighted: bool) -> PanelBuilder {
        PanelBuilder {
            rounds,
            areas,
            weighted,
            area: Vec::new(),
            states: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Adds a unit; `states` (and `weights`, for a weighted panel) hold one entry per round.
    pub fn push(&mut self, area: u32, states: &[State], weights: &[u16]) {
        assert_eq!(states.len(), self.rounds, "one state per round");
        self.area.push(area);
        self.states.extend(states.iter().map(|&s| s as u8));
        if self.weighted {
            assert_eq!(weights.len(), self.rounds, "one weight per round");
            self.weights.extend_from_slice(weights);
        }
    }

    pub fn units(&self) -> usize {
        self.area.len()
    }

    /// The units grouped by area. Areas out of range are kept in place (the scan reports
    /// them).
    pub fn build(self) -> Panel {
        let r = self.rounds;
        let n = self.area.len();
        let mut start = vec![0usize; self.areas + 1];
        let sorted = self.area.windows(2).all(|w| w[0] <= w[1]);
        if sorted || self.area.iter().any(|&a| a as usize >= self.areas) {
            return Panel {
                rounds: r,
                areas: self.areas,
                area: self.area,
                states: self.states,
                weights: self.weighted.then_some(self.weights),
            };
        }
        for &a in &self.area {
            start[a as usize + 1] += 1;
        }
        for i in 0..self.areas {
            start[i + 1] += start[i];
        }
        let mut area = vec![0u32; n];
        let mut states = vec![0u8; n * r];
        let mut weights = if self.weighted {
            vec![0u16; n * r]
        } else {
            Vec::new()
        };
        for u in 0..n {
            let a = self.area[u] as usize;
            let to = start[a];
            start[a] += 1;
            area[to] = self.area[u];
            states[to * r..(to + 1) * r].copy_from_slice(&self.states[u * r..(u + 1) * r]);
            if self.weighted {
                weights[to * r..(to + 1) * r].copy_from_slice(&self.weights[u * r..(u + 1) * r]);
            }
        }
        Panel {
            rounds: r,
            areas: self.areas,
            area,
            states,
            weights: self.weighted.then_some(weights),
        }
    }
}

/// A panel that owns its columns, grouped by area.
#[derive(Clone, Debug)]
pub struct Panel {
    rounds: usize,
    areas: usize,
    area: Vec<u32>,
    states: Vec<u8>,
    weights: Option<Vec<u16>>,
}

impl Panel {
    pub fn view(&self) -> PanelView<'_> {
        PanelView::new(
            self.rounds,
            self.areas,
            &self.area,
            &self.states,
            self.weights.as_deref(),
        )
        .expect("a built panel has consistent lengths")
    }
}

/// The graduation rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PanelRules {
    /// Assessments in a row out of the target population that make a graduate.
    pub consecutive_out: u8,
}

/// Counters per area and round: class counts in units and weight, and the transitions from
/// the previous round (zero in round 0) for the cohort and for the other units.
const UNITS: usize = 0;
const WEIGHTS: usize = CLASSES;
const MOVES: usize = 2 * CLASSES;
const FLOWS: usize = 5;
const STRIDE: usize = MOVES + 2 * FLOWS * FLOWS;

/// Counts of a panel: per area, per round, per class (units and weights), and transitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelCounts {
    areas: usize,
    rounds: usize,
    cells: Vec<u64>,
}

/// The flows of one area up to one round, taken from the transition counts alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    /// Units in the target population now (stock).
    pub stock: u64,
    /// Cohort size: units in the target population at the baseline.
    pub baseline: u64,
    /// Cohort moves out of the target population (to out, unassessed, gone) since the
    /// baseline, counted each time.
    pub exits: u64,
    /// Cohort moves back into it since the baseline.
    pub reentries: u64,
    /// Units not of the cohort in the target population now.
    pub newcomers: u64,
}

impl PanelCounts {
    fn zeroed(areas: usize, rounds: usize) -> PanelCounts {
        PanelCounts {
            areas,
            rounds,
            cells: vec![0; areas * rounds * STRIDE],
        }
    }

    pub fn areas(&self) -> usize {
        self.areas
    }

    pub fn rounds(&self) -> usize {
        self.rounds
    }

    fn cell(&self, area: usize, round: usize) -> &[u64] {
        let at = (area * self.rounds + round) * STRIDE;
        &self.cells[at..at + STRIDE]
    }

    /// Units of `class` in `area` at `round`.
    pub fn units(&self, area: usize, round: usize, class: Class) -> u64 {
        self.cell(area, round)[UNITS + class as usize]
    }

    /// Weight of those units: for units in the target population, their weight in that round;
    /// for cohort units out of it or gone, their weight at the baseline (what left); for other
    /// units, their weight in that round.
    pub fn weight(&self, area: usize, round: usize, class: Class) -> u64 {
        self.cell(area, round)[WEIGHTS + class as usize]
    }

    /// Units that moved from `from` in round `round − 1` to `to` in `round`, among the
    /// cohort or among the others. Zero in round 0.
    pub fn transition(&self, area: usize, round: usize, cohort: bool, from: Flow, to: Flow) -> u64 {
        let block = if cohort { 0 } else { FLOWS * FLOWS };
        self.cell(area, round)[MOVES + block + from as usize * FLOWS + to as usize]
    }

    /// Units in the target population (by the classification).
    pub fn stock_units(&self, area: usize, round: usize) -> u64 {
        Class::ALL
            .iter()
            .filter(|c| c.is_in())
            .map(|&c| self.units(area, round, c))
            .sum()
    }

    /// Their weight.
    pub fn stock_weight(&self, area: usize, round: usize) -> u64 {
        Class::ALL
            .iter()
            .filter(|c| c.is_in())
            .map(|&c| self.weight(area, round, c))
            .sum()
    }

    /// Cohort size (units).
    pub fn baseline_units(&self, area: usize) -> u64 {
        self.units(area, 0, Class::StillIn)
    }

    /// Cohort weight at the baseline.
    pub fn baseline_weight(&self, area: usize) -> u64 {
        self.weight(area, 0, Class::StillIn)
    }

    /// Stock, baseline, exits, re-entries and newcomers of `area` at `round`, from the
    /// transition counts only (round 0 from the classification, which there is the state).
    pub fn flows(&self, area: usize, round: usize) -> Flows {
        let baseline = self.baseline_units(area);
        let mut f = Flows {
            stock: baseline,
            baseline,
            ..Flows::default()
        };
        for t in 1..=round {
            let mut exits = 0;
            let mut reentries = 0;
            let mut stock = 0;
            let mut newcomers = 0;
            for from in Flow::ALL {
                for to in Flow::ALL {
                    let c = self.transition(area, t, true, from, to);
                    let o = self.transition(area, t, false, from, to);
                    if from == Flow::In && to != Flow::In {
                        exits += c;
                    }
                    if from != Flow::In && to == Flow::In {
                        reentries += c;
                    }
                    if to == Flow::In {
                        stock += c + o;
                        newcomers += o;
                    }
                }
            }
            f.exits += exits;
            f.reentries += reentries;
            f.stock = stock;
            f.newcomers = newcomers;
        }
        f
    }

    /// Sums leaf areas into groups: `group_of[leaf]` is the leaf's group (< `groups`), or
    /// `u32::MAX` to leave the leaf out. Counts are integers, so every sum is exact.
    pub fn rollup(&self, group_of: &[u32], groups: usize) -> PanelCounts {
        assert_eq!(group_of.len(), self.areas, "one group per leaf area");
        let mut out = PanelCounts::zeroed(groups, self.rounds);
        let block = self.rounds * STRIDE;
        for (leaf, &g) in group_of.iter().enumerate() {
            if g == u32::MAX {
                continue;
            }
            let g = g as usize;
            assert!(g < groups, "group {g} of leaf {leaf} is out of range");
            let src = &self.cells[leaf * block..(leaf + 1) * block];
            let dst = &mut out.cells[g * block..(g + 1) * block];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        }
        out
    }

    /// Every area together.
    pub fn total(&self) -> PanelCounts {
        self.rollup(&vec![0; self.areas], 1)
    }
}

/// Classifies every unit of `view` in every round and counts per area; `threads` (at least
/// one) split the units at area boundaries. Panels of up to 6 rounds are counted by history
/// (each unit's whole history is one key, classified once per area), longer ones unit by
/// unit.
pub fn classify(
    view: &PanelView<'_>,
    rules: PanelRules,
    threads: usize,
) -> Result<PanelCounts, PanelError> {
    run_scan(view, rules, threads, view.rounds <= MAX_TABLE_ROUNDS)
}

/// [`classify`] always unit by unit, whatever the number of rounds: the same counts, more
/// slowly. For tests and benchmarks that compare the two scans.
pub fn classify_each(
    view: &PanelView<'_>,
    rules: PanelRules,
    threads: usize,
) -> Result<PanelCounts, PanelError> {
    run_scan(view, rules, threads, false)
}

/// One unit's class in every round (`None` where it is not counted: not yet in the registry,
/// or gone without having been of the cohort), by the same rule the scans count with: what a
/// household page shows beside the area's counts.
pub fn classes_of(states: &[State], rules: PanelRules) -> Vec<Option<Class>> {
    if states.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Step::default(); states.len()];
    steps(states, rules, &mut out);
    out.into_iter().map(|s| s.class).collect()
}

fn run_scan(
    view: &PanelView<'_>,
    rules: PanelRules,
    threads: usize,
    by_history: bool,
) -> Result<PanelCounts, PanelError> {
    if rules.consecutive_out == 0 {
        return Err(PanelError::BadRule);
    }
    let mut counts = PanelCounts::zeroed(view.areas, view.rounds);
    let n = view.units();
    let threads = threads.clamp(1, n.max(1));
    // Cut the units into runs of about equal size, each starting where an area starts, so
    // that every run owns whole areas and its own slice of the counters.
    let mut cuts = vec![0usize];
    for i in 1..threads {
        let mut u = n * i / threads;
        let last = *cuts.last().expect("starts with 0");
        if u <= last {
            continue;
        }
        let a = view.area[u];
        u = view.area[..u].partition_point(|&x| x < a);
        if u > last {
            cuts.push(u);
        }
    }
    cuts.push(n);
    let block = view.rounds * STRIDE;
    // Area ranges of each run: from the first unit's area to the next run's first area.
    let mut area_cuts: Vec<usize> = cuts[..cuts.len() - 1]
        .iter()
        .map(|&u| {
            if u == 0 {
                0
            } else {
                (view.area[u] as usize).min(view.areas)
            }
        })
        .collect();
    area_cuts.push(view.areas);
    for w in area_cuts.windows(2) {
        if w[0] > w[1] {
            return Err(PanelError::NotGrouped { unit: 0 });
        }
    }
    let mut slices = Vec::with_capacity(cuts.len() - 1);
    let mut rest: &mut [u64] = &mut counts.cells;
    for w in area_cuts.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * block);
        slices.push(head);
        rest = tail;
    }
    let table = by_history.then(|| Table::new(view.rounds, rules));
    let results: Vec<Result<(), PanelError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = slices
            .into_iter()
            .enumerate()
            .map(|(i, out)| {
                let units = cuts[i]..cuts[i + 1];
                let areas = area_cuts[i]..area_cuts[i + 1];
                let view = *view;
                let table = table.as_ref();
                scope.spawn(move || match table {
                    Some(table) => scan_histories(&view, table, units, areas, out),
                    None => scan(&view, rules, units, areas, out),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for r in results {
        r?;
    }
    Ok(counts)
}

/// What one unit is in one round: its class (if counted), whether its weight is taken at the
/// baseline rather than in the round, and its transition cell from the previous round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Step {
    class: Option<Class>,
    base_weight: bool,
    /// Index into the transition counters (cohort block first); `None` in round 0.
    transition: Option<u8>,
}

/// The classification itself: a unit's steps from its states, round by round. Both scans
/// use it, the table scan through a table of its results.
fn steps(states: &[State], rules: PanelRules, out: &mut [Step]) {
    let first = states[0];
    let cohort = first == State::In;
    let present_at_baseline = first.is_present();
    // Since the baseline: whether the unit has been out or gone, and its current run of
    // out-assessments (a missed assessment does not break a run; a departure does).
    let mut left = false;
    let mut run = 0u8;
    let mut prev = first;
    for (t, &state) in states.iter().enumerate() {
        let class = if cohort {
            if t == 0 {
                Some(Class::StillIn)
            } else {
                Some(match state {
                    State::In => {
                        run = 0;
                        if left {
                            Class::ReEntered
                        } else {
                            Class::StillIn
                        }
                    }
                    State::Out => {
                        left = true;
                        run = run.saturating_add(1);
                        if run >= rules.consecutive_out {
                            Class::Graduated
                        } else {
                            Class::ExitedOnce
                        }
                    }
                    State::Unassessed => Class::CohortUnassessed,
                    gone => {
                        left = true;
                        run = 0;
                        match gone {
                            State::Died => Class::Died,
                            State::Moved => Class::Moved,
                            State::Merged => Class::Merged,
                            // A cohort unit cannot be "not yet" after the baseline: its record
                            // vanished, which is what a correction is.
                            _ => Class::Corrected,
                        }
                    }
                })
            }
        } else {
            match state {
                State::In if present_at_baseline => Some(Class::NewcomerExisting),
                State::In => Some(Class::NewcomerNew),
                State::Out => Some(Class::OtherOut),
                State::Unassessed => Some(Class::OtherUnassessed),
                _ => None,
            }
        };
        let block = if cohort { 0 } else { FLOWS * FLOWS };
        out[t] = Step {
            class,
            base_weight: cohort && state != State::In,
            transition: (t > 0)
                .then(|| (block + prev.flow() as usize * FLOWS + state.flow() as usize) as u8),
        };
        prev = state;
    }
}

/// Panels of at most this many rounds are counted by history (8 states per round: 3 bits).
const MAX_TABLE_ROUNDS: usize = 6;

/// The steps of every possible history of a short panel, keyed by the states' 3-bit codes
/// (round 0 in the lowest bits).
struct Table {
    rounds: usize,
    steps: Vec<Step>,
}

impl Table {
    fn new(rounds: usize, rules: PanelRules) -> Table {
        let keys = 1usize << (3 * rounds);
        let mut steps = vec![Step::default(); keys * rounds];
        let mut states = vec![State::NotYet; rounds];
        for key in 0..keys {
            for (t, s) in states.iter_mut().enumerate() {
                *s = State::ALL[(key >> (3 * t)) & 7];
            }
            self::steps(&states, rules, &mut steps[key * rounds..(key + 1) * rounds]);
        }
        Table { rounds, steps }
    }
}

/// Checks a unit's area against the run's and the previous unit's.
fn check_area(
    view: &PanelView<'_>,
    u: usize,
    areas: &std::ops::Range<usize>,
    prev: u32,
) -> Result<u32, PanelError> {
    let a = view.area[u];
    if a as usize >= view.areas {
        return Err(PanelError::AreaOutOfRange {
            unit: u,
            area: a,
            areas: view.areas,
        });
    }
    if a < prev || !areas.contains(&(a as usize)) {
        return Err(PanelError::NotGrouped { unit: u });
    }
    Ok(a)
}

fn bad_state(view: &PanelView<'_>, u: usize) -> PanelError {
    let r = view.rounds;
    let (round, &byte) = view.states[u * r..(u + 1) * r]
        .iter()
        .enumerate()
        .find(|(_, b)| State::from_u8(**b).is_none())
        .expect("called on a unit with a bad state");
    PanelError::BadState {
        unit: u,
        round,
        byte,
    }
}

/// Adds `units` units (and weights) of one history to an area's counters.
fn add_steps(cells: &mut [u64], steps: &[Step], units: u64, weights: &[u64]) {
    for (t, step) in steps.iter().enumerate() {
        let cell = &mut cells[t * STRIDE..(t + 1) * STRIDE];
        if let Some(class) = step.class {
            cell[UNITS + class as usize] += units;
            cell[WEIGHTS + class as usize] += if step.base_weight {
                weights[0]
            } else {
                weights[t]
            };
        }
        if let Some(tr) = step.transition {
            cell[MOVES + tr as usize] += units;
        }
    }
}

/// Counts by history: within an area, every unit adds one to its history's count and its
/// weights to the history's sums; at the end of the area each history seen is classified
/// once, through the table. A few hundred histories stand for thousands of units, so the
/// work per unit is a handful of additions whatever the number of classes.
fn scan_histories(
    view: &PanelView<'_>,
    table: &Table,
    units: std::ops::Range<usize>,
    areas: std::ops::Range<usize>,
    out: &mut [u64],
) -> Result<(), PanelError> {
    // A fixed number of rounds lets the compiler unroll the per-unit loops.
    match table.rounds {
        1 => scan_fixed::<1>(view, table, units, areas, out),
        2 => scan_fixed::<2>(view, table, units, areas, out),
        3 => scan_fixed::<3>(view, table, units, areas, out),
        4 => scan_fixed::<4>(view, table, units, areas, out),
        5 => scan_fixed::<5>(view, table, units, areas, out),
        6 => scan_fixed::<6>(view, table, units, areas, out),
        _ => unreachable!("tables are built for at most {MAX_TABLE_ROUNDS} rounds"),
    }
}

fn scan_fixed<const R: usize>(
    view: &PanelView<'_>,
    table: &Table,
    units: std::ops::Range<usize>,
    areas: std::ops::Range<usize>,
    out: &mut [u64],
) -> Result<(), PanelError> {
    debug_assert_eq!(view.rounds, R);
    let block = R * STRIDE;
    let keys = 1usize << (3 * R);
    let mut count = vec![0u64; keys];
    let mut sums = vec![[0u64; R]; if view.weights.is_some() { keys } else { 0 }];
    let mut seen: Vec<u32> = Vec::new();
    let ones = [1u64; R];
    let mut flush = |area: u32, count: &mut [u64], sums: &mut [[u64; R]], seen: &mut Vec<u32>| {
        let cells = &mut out[(area as usize - areas.start) * block..][..block];
        for &key in seen.iter() {
            let key = key as usize;
            let n = count[key];
            // Unweighted units weigh 1 each: their sums are their count.
            let weights = match sums.get_mut(key) {
                Some(w) => std::mem::replace(w, [0; R]),
                None => ones.map(|_| n),
            };
            add_steps(cells, &table.steps[key * R..(key + 1) * R], n, &weights);
            count[key] = 0;
        }
        seen.clear();
    };
    let mut area = areas.start as u32;
    let mut first = true;
    for u in units {
        let a = view.area[u];
        if a != area || first {
            // Only where the area changes: the order and range checks.
            check_area(
                view,
                u,
                &areas,
                if first { areas.start as u32 } else { area },
            )?;
            if !first {
                flush(area, &mut count, &mut sums, &mut seen);
            }
            area = a;
            first = false;
        }
        let states: &[u8; R] = view.states[u * R..(u + 1) * R]
            .try_into()
            .expect("R states per unit");
        let mut key = 0usize;
        let mut bad = 0u8;
        for (t, &b) in states.iter().enumerate() {
            key |= usize::from(b & 7) << (3 * t);
            bad |= b;
        }
        if bad > 7 {
            return Err(bad_state(view, u));
        }
        if count[key] == 0 {
            seen.push(key as u32);
        }
        count[key] += 1;
        if let Some(w) = view.weights {
            let w: &[u16; R] = w[u * R..(u + 1) * R].try_into().expect("R weights");
            for (s, &x) in sums[key].iter_mut().zip(w) {
                *s += u64::from(x);
            }
        }
    }
    if !first {
        flush(area, &mut count, &mut sums, &mut seen);
    }
    Ok(())
}

/// Counts unit by unit, for panels too long for a table of histories.
fn scan(
    view: &PanelView<'_>,
    rules: PanelRules,
    units: std::ops::Range<usize>,
    areas: std::ops::Range<usize>,
    out: &mut [u64],
) -> Result<(), PanelError> {
    let r = view.rounds;
    let block = r * STRIDE;
    let mut area = areas.start as u32;
    let mut states = vec![State::NotYet; r];
    let mut out_steps = vec![Step::default(); r];
    let mut weights = vec![1u64; r];
    for u in units {
        area = check_area(view, u, &areas, area)?;
        for (t, &b) in view.states[u * r..(u + 1) * r].iter().enumerate() {
            states[t] = State::from_u8(b).ok_or_else(|| bad_state(view, u))?;
        }
        if let Some(w) = view.weights {
            for (x, &y) in weights.iter_mut().zip(&w[u * r..(u + 1) * r]) {
                *x = u64::from(y);
            }
        }
        steps(&states, rules, &mut out_steps);
        let cells = &mut out[(area as usize - areas.start) * block..][..block];
        add_steps(cells, &out_steps, 1, &weights);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    fn counts(units: &[(u32, &[State])], areas: usize, k: u8) -> PanelCounts {
        let rounds = units[0].1.len();
        let mut b = PanelBuilder::new(rounds, areas, false);
        for (a, s) in units {
            b.push(*a, s, &[]);
        }
        let panel = b.build();
        classify(&panel.view(), PanelRules { consecutive_out: k }, 2).unwrap()
    }

    #[test]
    fn a_household_that_leaves_and_comes_back() {
        // In at the baseline, moved away in round 1, back and still in target in round 2,
        // out in rounds 3 and 4 (graduates at 4 with k = 2).
        let c = counts(&[(0, &[In, Moved, In, Out, Out])], 1, 2);
        let class_at = |t| {
            Class::ALL
                .into_iter()
                .find(|&cl| c.units(0, t, cl) == 1)
                .unwrap()
        };
        assert_eq!(
            (0..5).map(class_at).collect::<Vec<_>>(),
            [
                Class::StillIn,
                Class::Moved,
                Class::ReEntered,
                Class::ExitedOnce,
                Class::Graduated
            ]
        );
        let f = c.flows(0, 2);
        assert_eq!((f.baseline, f.exits, f.reentries, f.stock), (1, 1, 1, 1));
        assert_eq!(c.transition(0, 2, true, Flow::Gone, Flow::In), 1);
    }

    #[test]
    fn a_departure_breaks_a_run_but_a_missed_assessment_does_not() {
        let c = counts(
            &[
                (0, &[In, Out, Unassessed, Out]),
                (0, &[In, Out, Moved, Out]),
            ],
            1,
            2,
        );
        assert_eq!(c.units(0, 3, Class::Graduated), 1);
        assert_eq!(c.units(0, 3, Class::ExitedOnce), 1);
        assert_eq!(c.units(0, 2, Class::CohortUnassessed), 1);
    }

    #[test]
    fn builder_groups_units_by_area_and_threads_agree() {
        let units: Vec<(u32, Vec<State>)> = (0..200u32)
            .map(|i| {
                let s = |x: u32| State::ALL[(x % 8) as usize];
                (
                    (i * 7) % 5,
                    vec![s(i), s(i / 3 + 1), s(i / 7 + 2), s(i * 3)],
                )
            })
            .collect();
        let mut b = PanelBuilder::new(4, 5, true);
        for (a, s) in &units {
            b.push(*a, s, &[1, 2, 3, 4]);
        }
        let panel = b.build();
        let one = classify(&panel.view(), PanelRules { consecutive_out: 2 }, 1).unwrap();
        for threads in 2..6 {
            let many = classify(&panel.view(), PanelRules { consecutive_out: 2 }, threads).unwrap();
            assert_eq!(one, many, "{threads} threads");
        }
        let total = one.total();
        for t in 0..4 {
            let sum: u64 = (0..5).map(|a| one.stock_units(a, t)).sum();
            assert_eq!(total.stock_units(0, t), sum);
        }
    }

    #[test]
    fn ungrouped_and_bad_input_is_refused() {
        let area = [1u32, 0];
        let states = [1u8, 1, 1, 1];
        let view = PanelView::new(2, 2, &area, &states, None).unwrap();
        assert!(matches!(
            classify(&view, PanelRules { consecutive_out: 2 }, 1),
            Err(PanelError::NotGrouped { .. })
        ));
        let area = [0u32, 0];
        let states = [1u8, 9, 1, 1];
        let view = PanelView::new(2, 1, &area, &states, None).unwrap();
        assert!(matches!(
            classify(&view, PanelRules { consecutive_out: 2 }, 1),
            Err(PanelError::BadState { byte: 9, .. })
        ));
        let area = [0u32, 3];
        let states = [1u8; 4];
        let view = PanelView::new(2, 2, &area, &states, None).unwrap();
        assert!(matches!(
            classify(&view, PanelRules { consecutive_out: 2 }, 1),
            Err(PanelError::AreaOutOfRange { area: 3, .. })
        ));
        assert!(PanelView::new(2, 1, &area, &states[..3], None).is_err());
        assert!(PanelView::new(0, 1, &[], &[], None).is_err());
    }
}
