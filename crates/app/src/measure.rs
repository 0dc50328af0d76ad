//! Poverty measures of the registry: the bridge from stored households and assessments to the
//! Alkire–Foster engine of `halve_measure`, called alike by the CLI and the web app.
//!
//! [`RegistrySnapshot::build`] reads the store once and lays out one row per household per
//! round, its deprivations judged from the assessment's values by the spec's rules and its
//! analysis weight the members counted at the assessment. Area (province to village) and
//! eco-zone are properties of the household, so they are columns of that one row. Sex, age
//! band and vulnerability flag are properties of *persons*: a household's members split
//! across them, so each person-level grouping gets its own snapshot in which a household
//! contributes one unit per group it has members in, weighted by those members and carrying
//! the household's deprivations. The whole population is always taken from the household
//! snapshot, so a split never counts anyone twice in the totals. The snapshot is kept current
//! with [`RegistrySnapshot::apply_assessment`], in place when the household's row only changes
//! its values; what-ifs run on copies. Every report names the spec id and version.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use halve_domain::{
    AreaCode, AreaLevel, Assessment, BeDate, BeYear, EcoZoneSet, IndicatorValue, Key, Sex,
    VulnerabilityFlag,
};
use halve_measure::spec::Rule;
use halve_measure::{
    ClearBits, Cutoff, Estimates, Method, Ratio, Report, Run, Snapshot, SnapshotBuilder, Spec,
    WhatIf, estimate, what_if,
};
use halve_store::Store;

use crate::AppError;

/// A registry field that measures can be broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grouping {
    Province,
    District,
    Subdistrict,
    Village,
    /// The eco-zone (โซนภูมินิเวศ) of the household's village, by the zone set in force at
    /// the round's date.
    EcoZone,
    Sex,
    /// 0–14, 15–59, 60+ at the round's date (`unknown` without a birth date).
    AgeBand,
    /// The council's vulnerability flags. A person with two flags counts in both groups and
    /// one without any counts in `none`, so these groups overlap and do not sum to the whole.
    Flag,
}

impl Grouping {
    pub const ALL: [Grouping; 8] = [
        Grouping::Province,
        Grouping::District,
        Grouping::Subdistrict,
        Grouping::Village,
        Grouping::EcoZone,
        Grouping::Sex,
        Grouping::AgeBand,
        Grouping::Flag,
    ];

    /// The column name in reports (`by`).
    pub fn name(self) -> &'static str {
        match self {
            Grouping::Province => "province",
            Grouping::District => "district",
            Grouping::Subdistrict => "subdistrict",
            Grouping::Village => "village",
            Grouping::EcoZone => "ecozone",
            Grouping::Sex => "sex",
            Grouping::AgeBand => "age_band",
            Grouping::Flag => "flag",
        }
    }

    /// Reads a grouping name as the CLI and web forms give it.
    pub fn parse(raw: &str) -> Result<Grouping, AppError> {
        let s = raw.trim().to_lowercase().replace('-', "_");
        let found = match s.as_str() {
            "eco_zone" | "zone" => Some(Grouping::EcoZone),
            "age" => Some(Grouping::AgeBand),
            "vulnerability" | "vulnerability_flag" => Some(Grouping::Flag),
            _ => Grouping::ALL.into_iter().find(|g| g.name() == s),
        };
        found.ok_or_else(|| {
            let names: Vec<&str> = Grouping::ALL.iter().map(|g| g.name()).collect();
            AppError::Invalid(format!(
                "แยกกลุ่มตาม \"{raw}\" ไม่ได้ ใช้ได้: {0} (cannot group by \"{raw}\"; use one of: {0})",
                names.join(", ")
            ))
        })
    }

    /// Whether the grouping belongs to persons (members split across its groups) rather than
    /// to the household.
    pub fn is_person_level(self) -> bool {
        matches!(self, Grouping::Sex | Grouping::AgeBand | Grouping::Flag)
    }

    /// Whether every person lands in exactly one group, so that subgroups add up to the whole.
    pub fn is_partition(self) -> bool {
        self != Grouping::Flag
    }

    fn area_level(self) -> Option<AreaLevel> {
        match self {
            Grouping::Province => Some(AreaLevel::Province),
            Grouping::District => Some(AreaLevel::District),
            Grouping::Subdistrict => Some(AreaLevel::Subdistrict),
            Grouping::Village => Some(AreaLevel::Village),
            _ => None,
        }
    }
}

/// The group of a value the registry does not have (no birth date, no registered member,
/// no area at that level).
pub const UNKNOWN: &str = "unknown";
/// The flag group of persons with no vulnerability flag, and the zone group of villages
/// outside every zone.
pub const NONE: &str = "none";

/// The age band of a person born on `birth`, on `on`.
pub fn age_band(birth: Option<BeDate>, on: BeDate) -> &'static str {
    match birth.map(|b| on.years_since(b)) {
        None => UNKNOWN,
        Some(age) if age < 15 => "0-14",
        Some(age) if age < 60 => "15-59",
        Some(_) => "60+",
    }
}

/// The measurement profiles that ship with halve (`specs/`), by name: so that
/// `--spec tpmap-5` works wherever halve runs.
pub fn shipped_spec(name: &str) -> Option<&'static str> {
    Some(match name {
        "tpmap-5" => include_str!("../../../specs/tpmap-5.toml"),
        "global-mpi" => include_str!("../../../specs/global-mpi.toml"),
        "ppaos-5-capitals" => include_str!("../../../specs/ppaos-5-capitals.toml"),
        "council-5" => include_str!("../../../specs/council-5.toml"),
        _ => return None,
    })
}

/// What to measure besides the spec itself.
#[derive(Clone, Debug, Default)]
pub struct MeasureOptions {
    /// Cutoffs `k` instead of the spec's own.
    pub cutoffs: Option<Vec<Cutoff>>,
    /// Subgroup columns; every one is measured, each alone.
    pub by: Vec<Grouping>,
    /// Versions of the eco-zone set; empty means the shipped provisional draft.
    pub zone_sets: Vec<EcoZoneSet>,
}

/// Measures the whole registry under `spec`: every round, every cutoff, every subgroup asked
/// for, with changes between rounds. The report names the spec id and version.
pub async fn measure_registry(
    store: &Store,
    spec: &Spec,
    options: &MeasureOptions,
) -> Result<Report, AppError> {
    let snapshot = RegistrySnapshot::build(store, spec, options).await?;
    Ok(snapshot.run(options.cutoffs.clone())?.report)
}

/// The columns `spec` reads that are not among `names` (the indicator names the data has).
/// Empty when the spec binds.
pub fn unbound_columns(spec: &Spec, names: &HashSet<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ind in &spec.indicators {
        let column = ind.rule.column();
        if !names.contains(column) && !out.iter().any(|c| c == column) {
            out.push(column.to_string());
        }
    }
    out
}

/// The deprivation profile of an assessment (bit `j` = the spec's indicator `j`), or `None`
/// when a value the spec reads is missing (complete case, as OPHI: the household is dropped).
pub fn deprivation_profile(spec: &Spec, assessment: &Assessment) -> Result<Option<u32>, AppError> {
    let mut bits = 0u32;
    for (j, ind) in spec.indicators.iter().enumerate() {
        let deprived = match (assessment.values.get(ind.rule.column()), &ind.rule) {
            (None, _) => return Ok(None),
            // Not applicable (no child of that age, no elderly member) is never a deprivation.
            (Some(IndicatorValue::NotApplicable), _) => false,
            (Some(IndicatorValue::Number(x)), Rule::Flag { .. }) => {
                if *x == 1.0 {
                    true
                } else if *x == 0.0 {
                    false
                } else {
                    return Err(AppError::Invalid(format!(
                        "ครัวเรือน {} รอบ {}: ตัวชี้วัด {} มีค่า {x} ต้องเป็น 1 (ขาด) 0 (ไม่ขาด) หรือ NA \
                         (household {}, round {}: indicator {} is {x}, not 1 (deprived), 0 or NA)",
                        assessment.household,
                        assessment.round.be(),
                        ind.name,
                        assessment.household,
                        assessment.round.be(),
                        ind.name
                    )));
                }
            }
            (Some(IndicatorValue::Number(x)), Rule::Compare { op, threshold, .. }) => {
                op.holds(*x, *threshold)
            }
        };
        if deprived {
            bits |= 1 << j;
        }
    }
    Ok(Some(bits))
}

/// A what-if on the registry: other cutoffs, other weights, or households lifted out of
/// some deprivations. The live snapshot is never changed.
#[derive(Clone, Debug, Default)]
pub struct RegistryWhatIf {
    pub cutoffs: Option<Vec<Cutoff>>,
    /// One weight per indicator of the spec, in spec order, summing to 1.
    pub weights: Option<Vec<Ratio>>,
    pub lift: Vec<Lift>,
}

/// "These households are no longer deprived in these indicators" (in one round, or in all).
#[derive(Clone, Debug, Default)]
pub struct Lift {
    pub households: Vec<Key>,
    pub round: Option<BeYear>,
    /// Indicator names of the spec.
    pub indicators: Vec<String>,
}

/// How [`RegistrySnapshot::apply_assessment`] took the change in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The household's units were patched where they lie.
    InPlace,
    /// The layout changed (a new row, or a row entering or leaving the complete cases), so
    /// the snapshot was laid out again from the rows in memory, without the store.
    Rebuilt,
}

#[derive(Clone, Debug)]
struct RoundInfo {
    year: BeYear,
    date: BeDate,
    /// Fractional year, so that annualised changes use the real time between rounds.
    value: f64,
    label: String,
    /// Index into the zone sets: the one in force on the round's date.
    zone_set: Option<usize>,
}

#[derive(Clone, Debug)]
struct PersonInfo {
    sex: Sex,
    birth: Option<BeDate>,
    flags: Vec<VulnerabilityFlag>,
}

#[derive(Clone, Debug)]
struct HouseholdInfo {
    village: AreaCode,
    /// Persons registered in the household now.
    persons: Vec<PersonInfo>,
}

/// One household in one round.
#[derive(Clone, Debug)]
struct Row {
    household: Key,
    round: usize,
    members: u16,
    /// `None`: a value is missing, the row is dropped (complete case).
    bits: Option<u32>,
}

/// One engine snapshot: the household one (`grouping: None`) or one per person-level grouping.
#[derive(Clone, Debug)]
struct Part {
    grouping: Option<Grouping>,
    snapshot: Snapshot,
    /// For each row, the input positions of its units in this snapshot (consecutive, since a
    /// row's units are pushed together).
    units: Vec<Range<usize>>,
}

/// The registry laid out for measuring under one spec, kept current as assessments change.
#[derive(Clone, Debug)]
pub struct RegistrySnapshot {
    spec: Spec,
    cutoffs: Option<Vec<Cutoff>>,
    /// Household-level groupings first, then person-level ones, each once.
    by: Vec<Grouping>,
    zone_sets: Vec<EcoZoneSet>,
    rounds: Vec<RoundInfo>,
    round_index: HashMap<BeYear, usize>,
    households: HashMap<Key, HouseholdInfo>,
    rows: Vec<Row>,
    row_index: HashMap<(Key, BeYear), usize>,
    parts: Vec<Part>,
}

fn invalid(e: impl std::fmt::Display) -> AppError {
    AppError::Invalid(e.to_string())
}

impl RegistrySnapshot {
    /// Reads rounds, households, persons, flags and assessments from `store` and lays them
    /// out under `spec`. Refuses a spec that reads a column no assessment carries, since
    /// every household would then be dropped as incomplete.
    pub async fn build(
        store: &Store,
        spec: &Spec,
        options: &MeasureOptions,
    ) -> Result<RegistrySnapshot, AppError> {
        let mut by: Vec<Grouping> = Vec::new();
        for person_level in [false, true] {
            for g in &options.by {
                if g.is_person_level() == person_level && !by.contains(g) {
                    by.push(*g);
                }
            }
        }
        let zone_sets = if options.zone_sets.is_empty() {
            vec![EcoZoneSet::shipped_nakhon_si_thammarat()]
        } else {
            options.zone_sets.clone()
        };

        let mut rounds = Vec::new();
        for r in store.rounds().await? {
            // The zone set in force at the round; before the first set, the first set (a
            // classification of places, not a fact dated by the round).
            let zone_set = EcoZoneSet::in_force(&zone_sets, r.date)
                .or_else(|| zone_sets.iter().min_by_key(|s| s.valid_from))
                .and_then(|s| zone_sets.iter().position(|z| std::ptr::eq(z, s)));
            rounds.push(RoundInfo {
                year: r.year,
                date: r.date,
                // Rounds are named and compared by their Buddhist Era year, the unit in which
                // the council's target is set; annualised changes count whole years.
                value: f64::from(r.year.be()),
                label: r.year.be().to_string(),
                zone_set,
            });
        }
        for (i, r) in rounds.iter().enumerate() {
            if rounds[..i].iter().any(|o| o.value == r.value) {
                return Err(AppError::Invalid(format!(
                    "รอบ {} มีวันอ้างอิงซ้ำกับรอบอื่น (round {} has the same reference date as another round)",
                    r.label, r.label
                )));
            }
        }
        let round_index = rounds
            .iter()
            .enumerate()
            .map(|(i, r)| (r.year, i))
            .collect();

        let mut households: HashMap<Key, HouseholdInfo> = HashMap::new();
        store
            .for_each_household(&mut |h| {
                households.insert(
                    h.house_code,
                    HouseholdInfo {
                        village: h.village,
                        persons: Vec::new(),
                    },
                );
                Ok(())
            })
            .await?;
        // Persons are read only when a person-level grouping needs them.
        if by.iter().any(|g| g.is_person_level()) {
            let mut flags: HashMap<Key, BTreeSet<VulnerabilityFlag>> = HashMap::new();
            store
                .for_each_flag(&mut |f| {
                    flags.entry(f.person_code).or_default().insert(f.flag);
                    Ok(())
                })
                .await?;
            store
                .for_each_person(&mut |p| {
                    if let Some(h) = households.get_mut(&p.household) {
                        h.persons.push(PersonInfo {
                            sex: p.sex,
                            birth: p.birth_date,
                            flags: flags
                                .get(&p.person_code)
                                .map(|f| f.iter().copied().collect())
                                .unwrap_or_default(),
                        });
                    }
                    Ok(())
                })
                .await?;
        }

        let mut assessments = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        store
            .for_each_assessment(&mut |a| {
                names.extend(a.values.keys().cloned());
                assessments.push(a);
                Ok(())
            })
            .await?;
        let unbound = unbound_columns(spec, &names);
        if !assessments.is_empty() && !unbound.is_empty() {
            return Err(AppError::Invalid(format!(
                "เกณฑ์ {id} ใช้ตัวชี้วัดที่ไม่มีในข้อมูลการสำรวจ: {list} \
                 (spec {id} reads indicators no assessment carries: {list})",
                id = spec.id,
                list = unbound.join(", "),
            )));
        }

        let mut snap = RegistrySnapshot {
            spec: spec.clone(),
            cutoffs: options.cutoffs.clone(),
            by,
            zone_sets,
            rounds,
            round_index,
            households,
            rows: Vec::with_capacity(assessments.len()),
            row_index: HashMap::with_capacity(assessments.len()),
            parts: Vec::new(),
        };
        for a in &assessments {
            snap.add_row(a)?;
        }
        snap.lay_out()?;
        Ok(snap)
    }

    /// The spec this snapshot measures under.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The household snapshot: one unit per complete household-round.
    pub fn snapshot(&self) -> &Snapshot {
        &self.parts[0].snapshot
    }

    /// Household-rounds read, complete or not.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Household-rounds dropped because a value the spec reads is missing.
    pub fn rows_dropped(&self) -> usize {
        self.rows.iter().filter(|r| r.bits.is_none()).count()
    }

    /// The groupings measured, household-level first.
    pub fn groupings(&self) -> &[Grouping] {
        &self.by
    }

    /// Everything, at `cutoffs` (else those of the options, else the spec's).
    pub fn run(&self, cutoffs: Option<Vec<Cutoff>>) -> Result<Run, AppError> {
        let method = self.method(cutoffs)?;
        let parts = self
            .parts
            .iter()
            .map(|p| estimate(&p.snapshot, &method).map_err(invalid))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.finish(parts))
    }

    /// The report of [`RegistrySnapshot::run`].
    pub fn report(&self, cutoffs: Option<Vec<Cutoff>>) -> Result<Report, AppError> {
        Ok(self.run(cutoffs)?.report)
    }

    /// Everything under a what-if, on copies: the live snapshot is left as it is.
    pub fn what_if(&self, change: &RegistryWhatIf) -> Result<Run, AppError> {
        let method = self.method(change.cutoffs.clone())?;
        let mut lifts = Vec::new();
        for lift in &change.lift {
            let indicators = lift
                .indicators
                .iter()
                .map(|name| method.indicator(name).map_err(invalid))
                .collect::<Result<Vec<_>, _>>()?;
            let rows: Vec<usize> = match lift.round {
                // One round: each household's row is found by its key, so the cost follows
                // the households lifted, not the rows of the registry.
                Some(y) => {
                    let mut rows: Vec<usize> = lift
                        .households
                        .iter()
                        .filter_map(|h| self.row_index.get(&(h.clone(), y)).copied())
                        .collect();
                    rows.sort_unstable();
                    rows.dedup();
                    rows
                }
                None => {
                    let wanted: HashSet<&Key> = lift.households.iter().collect();
                    self.rows
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| wanted.contains(&r.household))
                        .map(|(i, _)| i)
                        .collect()
                }
            };
            lifts.push((rows, indicators));
        }
        let parts = self
            .parts
            .iter()
            .map(|p| {
                let clear = lifts
                    .iter()
                    .map(|(rows, indicators)| ClearBits {
                        input_rows: rows.iter().flat_map(|&r| p.units[r].clone()).collect(),
                        indicators: indicators.clone(),
                    })
                    .collect();
                let change = WhatIf {
                    cutoffs: None,
                    weights: change.weights.clone(),
                    clear,
                };
                what_if(&p.snapshot, &method, &change).map_err(invalid)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.finish(parts))
    }

    /// Takes a new or changed assessment in. The household and the round must be known to
    /// the snapshot (a new household or round needs [`RegistrySnapshot::build`] again).
    pub fn apply_assessment(&mut self, assessment: &Assessment) -> Result<Applied, AppError> {
        let Some(&round) = self.round_index.get(&assessment.round) else {
            return Err(AppError::Invalid(format!(
                "ไม่รู้จักรอบ {0} ในภาพรวมนี้ ต้องสร้างใหม่ (round {0} is not in this snapshot; build it again)",
                assessment.round.be()
            )));
        };
        if !self.households.contains_key(&assessment.household) {
            return Err(AppError::Invalid(format!(
                "ไม่รู้จักครัวเรือน {0} ในภาพรวมนี้ ต้องสร้างใหม่ (household {0} is not in this snapshot; build it again)",
                assessment.household
            )));
        }
        let bits = deprivation_profile(&self.spec, assessment)?;
        let key = (assessment.household.clone(), assessment.round);
        let Some(&r) = self.row_index.get(&key) else {
            self.add_row(assessment)?;
            self.lay_out()?;
            return Ok(Applied::Rebuilt);
        };
        let before = self.rows[r].bits;
        self.rows[r].bits = bits;
        self.rows[r].members = assessment.members;
        debug_assert_eq!(self.rows[r].round, round);
        let (Some(_), Some(bits)) = (before, bits) else {
            self.lay_out()?;
            return Ok(Applied::Rebuilt);
        };
        // The row keeps its cell in every part: its area, zone and members' groups are those
        // of the household, which the assessment does not change.
        for p in 0..self.parts.len() {
            let units = self.units_of(self.parts[p].grouping, r);
            let range = self.parts[p].units[r].clone();
            if units.len() != range.len() {
                self.lay_out()?;
                return Ok(Applied::Rebuilt);
            }
            for ((_, weight), input) in units.into_iter().zip(range) {
                self.parts[p]
                    .snapshot
                    .set_row(input, bits, weight)
                    .map_err(invalid)?;
            }
        }
        Ok(Applied::InPlace)
    }

    fn method(&self, cutoffs: Option<Vec<Cutoff>>) -> Result<Method, AppError> {
        Method::from_spec(&self.spec, cutoffs.or_else(|| self.cutoffs.clone())).map_err(invalid)
    }

    fn add_row(&mut self, a: &Assessment) -> Result<(), AppError> {
        let Some(&round) = self.round_index.get(&a.round) else {
            return Err(AppError::Invalid(format!(
                "การสำรวจของครัวเรือน {0} อยู่ในรอบ {1} ที่ไม่มีในทะเบียน \
                 (the assessment of household {0} is in round {1}, which is not registered)",
                a.household,
                a.round.be()
            )));
        };
        let key = (a.household.clone(), a.round);
        if self.row_index.contains_key(&key) {
            return Err(AppError::Invalid(format!(
                "household {} is assessed twice in round {}",
                a.household,
                a.round.be()
            )));
        }
        self.row_index.insert(key, self.rows.len());
        self.rows.push(Row {
            household: a.household.clone(),
            round,
            members: a.members,
            bits: deprivation_profile(&self.spec, a)?,
        });
        Ok(())
    }

    /// The units a row stands for in a part: group values and weights. The household part
    /// has one unit, with every household-level grouping's value; a person-level part has
    /// one per group the household's members fall in.
    fn units_of(&self, grouping: Option<Grouping>, r: usize) -> Vec<(Vec<String>, f64)> {
        let row = &self.rows[r];
        let round = &self.rounds[row.round];
        let members = f64::from(row.members);
        let household = self.households.get(&row.household);
        let Some(g) = grouping else {
            let values = self
                .by
                .iter()
                .filter(|g| !g.is_person_level())
                .map(|g| household_value(*g, household, round, &self.zone_sets))
                .collect();
            return vec![(values, members)];
        };
        let persons = household.map(|h| h.persons.as_slice()).unwrap_or_default();
        if persons.is_empty() {
            return vec![(vec![UNKNOWN.to_string()], members)];
        }
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for p in persons {
            match g {
                Grouping::Sex => *counts.entry(p.sex.code().to_string()).or_default() += 1,
                Grouping::AgeBand => {
                    *counts
                        .entry(age_band(p.birth, round.date).to_string())
                        .or_default() += 1
                }
                _ if p.flags.is_empty() => *counts.entry(NONE.to_string()).or_default() += 1,
                _ => {
                    for f in &p.flags {
                        *counts.entry(f.code().to_string()).or_default() += 1;
                    }
                }
            }
        }
        // The registry lists persons as registered now, the assessment counts members then:
        // the persons' shares are applied to the members counted, so the groups of a
        // household always add up to its weight in the household snapshot.
        let scale = members / persons.len() as f64;
        counts
            .into_iter()
            .map(|(value, n)| (vec![value], f64::from(n) * scale))
            .collect()
    }

    /// Lays every part out again from the rows in memory.
    fn lay_out(&mut self) -> Result<(), AppError> {
        let mut groupings = vec![None];
        groupings.extend(
            self.by
                .iter()
                .filter(|g| g.is_person_level())
                .map(|g| Some(*g)),
        );
        let indicators: Vec<String> = self
            .spec
            .indicators
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let mut parts = Vec::with_capacity(groupings.len());
        for grouping in groupings {
            let columns: Vec<String> = match grouping {
                None => self
                    .by
                    .iter()
                    .filter(|g| !g.is_person_level())
                    .map(|g| g.name().to_string())
                    .collect(),
                Some(g) => vec![g.name().to_string()],
            };
            let mut builder = SnapshotBuilder::new(indicators.clone(), columns, true);
            let mut units = Vec::with_capacity(self.rows.len());
            let mut next = 0usize;
            for (r, row) in self.rows.iter().enumerate() {
                let round = &self.rounds[row.round];
                let year = Some((round.value, round.label.as_str()));
                let start = next;
                match row.bits {
                    None => {
                        builder.push_dropped(year).map_err(invalid)?;
                        next += 1;
                    }
                    Some(bits) => {
                        for (values, weight) in self.units_of(grouping, r) {
                            let values: Vec<&str> = values.iter().map(String::as_str).collect();
                            builder.push(bits, weight, year, &values).map_err(invalid)?;
                            next += 1;
                        }
                    }
                }
                // Dropped rows take one input position too, but have no unit to patch.
                units.push(if row.bits.is_some() {
                    start..next
                } else {
                    start..start
                });
            }
            parts.push(Part {
                grouping,
                snapshot: builder.build(),
                units,
            });
        }
        self.parts = parts;
        Ok(())
    }

    /// Joins the parts' estimates into one: the whole population and household-level
    /// subgroups from the household part, person-level subgroups from their own parts.
    fn finish(&self, parts: Vec<Estimates>) -> Run {
        let mut parts = parts.into_iter();
        let mut merged = parts.next().expect("the household part always exists");
        for est in parts {
            let offset = merged.by.len();
            // Rounds are matched by label: a part lists only rounds it has units in.
            let year_map: Vec<Option<usize>> = est
                .years
                .iter()
                .map(|y| merged.years.iter().position(|m| m.label == y.label))
                .collect();
            merged.by.extend(est.by.iter().cloned());
            for mut g in est.groups {
                let (Some(c), Some(year)) = (g.by, g.year.and_then(|y| year_map[y])) else {
                    continue;
                };
                g.by = Some(offset + c);
                g.year = Some(year);
                merged.groups.push(g);
            }
        }
        // Per round: the whole, then the subgroups column by column (a stable sort keeps that).
        merged.groups.sort_by_key(|g| g.year);
        let report = Report::new(&self.spec, self.snapshot(), &merged);
        Run {
            estimates: merged,
            report,
        }
    }
}

fn household_value(
    g: Grouping,
    household: Option<&HouseholdInfo>,
    round: &RoundInfo,
    zone_sets: &[EcoZoneSet],
) -> String {
    let Some(h) = household else {
        return UNKNOWN.to_string();
    };
    if let Some(level) = g.area_level() {
        return h
            .village
            .at_level(level)
            .map_or_else(|| UNKNOWN.to_string(), |c| c.to_string());
    }
    round
        .zone_set
        .and_then(|s| zone_sets[s].zone_of(h.village))
        .map_or_else(|| NONE.to_string(), |z| z.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_are_taken_at_the_date() {
        let on = BeDate::parse("30/06/2566").unwrap();
        let born = |s: &str| Some(BeDate::parse(s).unwrap());
        assert_eq!(age_band(born("01/07/2551"), on), "0-14");
        assert_eq!(age_band(born("30/06/2551"), on), "15-59");
        assert_eq!(age_band(born("01/07/2506"), on), "15-59");
        assert_eq!(age_band(born("30/06/2506"), on), "60+");
        assert_eq!(age_band(None, on), UNKNOWN);
    }

    #[test]
    fn groupings_parse_by_name_and_alias() {
        for g in Grouping::ALL {
            assert_eq!(Grouping::parse(g.name()).unwrap(), g);
        }
        assert_eq!(Grouping::parse("eco-zone").unwrap(), Grouping::EcoZone);
        assert!(Grouping::parse("income").is_err());
        assert!(!Grouping::Flag.is_partition());
        assert!(Grouping::Sex.is_person_level() && !Grouping::District.is_person_level());
    }
}
