//! Progress of the registry towards a target ("halve in five years"): from stored households,
//! persons, membership events, flags, record changes and assessments to the panels of
//! `halve_measure::panel`, and from them to a `ProgressReport`, called alike by the CLI and
//! the web app.
//!
//! Each round is taken on its reference date. A person's household then is rebuilt from their
//! membership events (births and moves in place them, deaths and moves out take them away; a
//! person without events lives in the household they are registered in now). A person is in
//! the target population when the target's rule holds for them: `low_income` and `poor` are
//! facts of their household's assessment in that round (the income column below the year's
//! line; poor under the target's spec at its cutoff), `vulnerable` is theirs (one of the
//! target's flags recorded on or before the date, within its validity). A household is in the
//! target population when one of its members is, and its weight is how many are (a household
//! assessed without any registered member is judged on its own terms, with `vulnerable`
//! unknown, and adds no persons). Unknowns
//! (no assessment, a missing value) stay unknown, in three-valued logic, so a household known
//! to be low-income counts even when its deprivations are incomplete.
//!
//! Households that are no longer there left by the cause recorded: a record change (merged,
//! corrected) first; else died when every member present at its last round has died since,
//! else moved. Persons likewise: a record change of theirs or of their household, death, or a
//! move away. Households are counted in their village; persons in the village of the household
//! they lived in when first counted (the baseline for the cohort), so a person who moves
//! within the province is followed, not counted twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use halve_domain::{
    AreaCode, AreaLevel, AreaTree, BeDate, EcoZoneSet, IndicatorValue, Key, MembershipKind,
    VulnerabilityFlag,
};
use halve_measure::panel::{
    Class, PanelBuilder, PanelCounts, PanelRules, State, classes_of, classify,
};
use halve_measure::progress::{Group, LineUsed, ProgressReport, Round};
use halve_measure::{Cutoff, Ratio, Spec, Target, Term};
use halve_store::{RecordChangeKind, RecordEntity, Store};

use crate::measure::{Grouping, deprivation_profile, shipped_spec, unbound_columns};
use crate::{AppError, Progress};

/// The target definitions that ship with halve (`targets/`), by id.
pub fn shipped_target(name: &str) -> Option<&'static str> {
    Some(match name {
        "nst-halve-2571" => include_str!("../../../targets/nst-halve-2571.toml"),
        "nst-halve-2571-literal" => include_str!("../../../targets/nst-halve-2571-literal.toml"),
        _ => return None,
    })
}

/// The target `halve progress` uses unless told otherwise.
pub const DEFAULT_TARGET: &str = "nst-halve-2571";

/// Reads a target definition (the text of a file, or of a shipped target) and checks what the
/// measure crate cannot: that its vulnerability flags exist.
pub fn parse_target(text: &str, source_name: &str) -> Result<Target, AppError> {
    let target = Target::from_toml_str(text, source_name).map_err(invalid)?;
    flags_of(&target)?;
    Ok(target)
}

/// What to compute besides the target itself.
#[derive(Clone, Debug)]
pub struct ProgressOptions {
    /// Province, district, subdistrict, village or eco-zone.
    pub by: Grouping,
    /// Versions of the eco-zone set; empty means the shipped provisional draft. One set
    /// serves every round (the one in force at the latest round), so that a zone's baseline
    /// and its later counts cover the same places.
    pub zone_sets: Vec<EcoZoneSet>,
    /// The spec that decides `poor`, instead of the shipped one the target names; it must
    /// have the id (and, when the target pins one, the version) the target names.
    pub spec: Option<Spec>,
    /// Threads of the panel scan; 0 uses what the machine offers.
    pub threads: usize,
    /// Keep every household's state per round, for [`RegistryPanel::household`] (the web
    /// app's household page). Off by default: at national scale it is gigabytes that a
    /// report by area never needs.
    pub keep_households: bool,
}

impl Default for ProgressOptions {
    fn default() -> Self {
        ProgressOptions {
            by: Grouping::Province,
            zone_sets: Vec::new(),
            spec: None,
            threads: 0,
            keep_households: false,
        }
    }
}

/// Progress of the whole registry towards `target`, by `options.by`, with the whole added
/// when there is more than one area. Every row names the target and spec it was computed
/// under.
pub async fn progress_registry(
    store: &Store,
    target: &Target,
    options: &ProgressOptions,
    progress: &dyn Progress,
) -> Result<ProgressReport, AppError> {
    let panel = RegistryPanel::build(store, target, options, progress).await?;
    panel.report(options.by, &options.zone_sets)
}

fn invalid(e: impl std::fmt::Display) -> AppError {
    AppError::Invalid(e.to_string())
}

fn flags_of(target: &Target) -> Result<HashMap<VulnerabilityFlag, Option<u32>>, AppError> {
    let mut out = HashMap::new();
    if let Some(v) = &target.vulnerable {
        for code in &v.flags {
            let flag = VulnerabilityFlag::parse(code).map_err(|_| {
                AppError::Invalid(format!(
                    "{src}: ไม่รู้จักกลุ่มเปราะบาง \"{code}\" ใช้ได้: {list} \
                     ({src}: unknown vulnerability flag \"{code}\"; use one of: {list})",
                    src = target.source_name,
                    list = VulnerabilityFlag::ALL
                        .iter()
                        .map(|f| f.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            out.insert(flag, v.valid_days.get(code).copied());
        }
    }
    Ok(out)
}

/// One round as the panel takes it.
#[derive(Clone, Debug)]
struct RoundInfo {
    year: i32,
    date: BeDate,
    label: String,
    /// The income line of the year, when the rule reads `low_income`.
    line: Option<f64>,
}

/// A household's assessment in one round, reduced to the two terms the rule may read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Assessed {
    low_income: Option<bool>,
    poor: Option<bool>,
}

/// A membership event, indexed.
#[derive(Clone, Copy, Debug)]
struct Event {
    date: BeDate,
    kind: MembershipKind,
    household: u32,
}

/// The order of events on one day: a move out before a move in (a move within the registry
/// is one of each), and death last, since nothing follows it.
fn rank(kind: MembershipKind) -> u8 {
    match kind {
        MembershipKind::MoveOut => 0,
        MembershipKind::MoveIn | MembershipKind::Birth => 1,
        MembershipKind::Death => 2,
    }
}

/// The registry laid out as two panels (households and persons) at village level, under one
/// target; reports by any grouping are rolled up from it without reading the store again.
#[derive(Clone, Debug)]
pub struct RegistryPanel {
    target: Target,
    spec: Option<(Spec, Cutoff)>,
    rounds: Vec<RoundInfo>,
    /// Leaf area index → village code.
    villages: Vec<AreaCode>,
    village_names: HashMap<AreaCode, (String, String)>,
    households: PanelCounts,
    persons: PanelCounts,
    /// The latest round's date, for choosing the eco-zone set.
    latest: BeDate,
    /// Per household (when [`ProgressOptions::keep_households`]): its states, round by round.
    kept: Option<HashMap<Key, Box<[State]>>>,
}

/// One household in the panel: in each round from the baseline on, whether it was in the
/// target population and what it was with respect to the baseline cohort.
#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdPanel {
    pub rounds: Vec<HouseholdRound>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdRound {
    /// Buddhist Era year of the round.
    pub year: i32,
    pub label: String,
    pub state: State,
    /// `None` where the panel does not count it (not yet in the registry, or gone without
    /// having been of the cohort).
    pub class: Option<Class>,
}

impl RegistryPanel {
    /// Reads the registry once and classifies every household and person in every round from
    /// the target's baseline on.
    pub async fn build(
        store: &Store,
        target: &Target,
        options: &ProgressOptions,
        progress: &dyn Progress,
    ) -> Result<RegistryPanel, AppError> {
        let terms = target.rule.terms();
        let flags = flags_of(target)?;
        let spec = if terms.contains(&Term::Poor) {
            Some(bind_spec(target, options.spec.as_ref())?)
        } else {
            None
        };

        // Rounds from the baseline on; earlier ones say nothing about progress since then.
        let mut rounds = Vec::new();
        for r in store.rounds().await? {
            let year = r.year.be();
            if year < target.baseline {
                continue;
            }
            let line = if terms.contains(&Term::LowIncome) {
                Some(target.threshold(year).map_err(invalid)?.baht)
            } else {
                None
            };
            rounds.push(RoundInfo {
                year,
                date: r.date,
                label: r.label,
                line,
            });
        }
        if rounds.first().map(|r| r.year) != Some(target.baseline) {
            return Err(AppError::Invalid(format!(
                "ทะเบียนไม่มีรอบสำรวจปีฐาน {b} ของเป้าหมาย {id}: นำเข้ารอบสำรวจปี {b} ก่อน \
                 (the registry has no assessment round for the baseline year {b} of target \
                 {id}: import the {b} round first)",
                b = target.baseline,
                id = target.id
            )));
        }
        let n_rounds = rounds.len();
        let round_of: HashMap<i32, usize> = rounds
            .iter()
            .enumerate()
            .map(|(i, r)| (r.year, i))
            .collect();

        progress.start("อ่านทะเบียน (reading the registry)", None);
        let mut house_index: HashMap<Key, u32> = HashMap::new();
        let mut house_village: Vec<AreaCode> = Vec::new();
        store
            .for_each_household(&mut |h| {
                house_index.insert(h.house_code, house_village.len() as u32);
                house_village.push(h.village);
                Ok(())
            })
            .await?;
        let mut village_names = HashMap::new();
        store
            .for_each_village(&mut |v| {
                let en = v.name_en.clone().unwrap_or_else(|| v.name_th.clone());
                village_names.insert(v.code, (v.name_th, en));
                Ok(())
            })
            .await?;
        let mut person_index: HashMap<Key, u32> = HashMap::new();
        let mut person_home: Vec<u32> = Vec::new();
        let mut person_birth: Vec<Option<BeDate>> = Vec::new();
        store
            .for_each_person_home(&mut |person, household, birth| {
                let Some(&h) = house_index.get(&household) else {
                    return Ok(());
                };
                person_index.insert(person, person_home.len() as u32);
                person_home.push(h);
                person_birth.push(birth);
                Ok(())
            })
            .await?;
        progress.advance((house_village.len() + person_home.len()) as u64);

        let mut events: Vec<(u32, Event)> = Vec::new();
        store
            .for_each_event(&mut |e| {
                if let (Some(&p), Some(&h)) = (
                    person_index.get(&e.person_code),
                    house_index.get(&e.household),
                ) {
                    events.push((
                        p,
                        Event {
                            date: e.date,
                            kind: e.kind,
                            household: h,
                        },
                    ));
                }
                Ok(())
            })
            .await?;
        events.sort_by_key(|(p, e)| (*p, e.date, rank(e.kind)));

        let mut person_flags: Vec<(u32, VulnerabilityFlag, BeDate)> = Vec::new();
        if !flags.is_empty() {
            store
                .for_each_flag(&mut |f| {
                    if flags.contains_key(&f.flag)
                        && let Some(&p) = person_index.get(&f.person_code)
                    {
                        person_flags.push((p, f.flag, f.as_of));
                    }
                    Ok(())
                })
                .await?;
            person_flags.sort_by_key(|(p, _, _)| *p);
        }

        let mut house_change: HashMap<u32, (RecordChangeKind, BeDate)> = HashMap::new();
        let mut person_change: HashMap<u32, (RecordChangeKind, BeDate)> = HashMap::new();
        for c in store.record_changes().await? {
            let (map, index) = match c.entity {
                RecordEntity::Household => (&mut house_change, &house_index),
                RecordEntity::Person => (&mut person_change, &person_index),
            };
            if let Some(&i) = index.get(&c.code) {
                map.insert(i, (c.change, c.date));
            }
        }

        // Assessments, reduced to the rule's two household terms.
        let mut assessed: Vec<Option<Assessed>> = vec![None; house_village.len() * n_rounds];
        let mut names: HashSet<String> = HashSet::new();
        let mut any = false;
        let mut poor_of: HashMap<u32, bool> = HashMap::new();
        let income_column = target.low_income.as_ref().map(|l| l.column.clone());
        let mut failure: Option<AppError> = None;
        store
            .for_each_assessment(&mut |a| {
                if failure.is_some() {
                    return Ok(());
                }
                let (Some(&t), Some(&h)) =
                    (round_of.get(&a.round.be()), house_index.get(&a.household))
                else {
                    return Ok(());
                };
                any = true;
                names.extend(a.values.keys().cloned());
                let low_income = match (&income_column, rounds[t].line) {
                    (Some(column), Some(line)) => match a.values.get(column) {
                        Some(IndicatorValue::Number(x)) => Some(*x < line),
                        // Not applicable is never a shortfall, as in every spec.
                        Some(IndicatorValue::NotApplicable) => Some(false),
                        None => None,
                    },
                    _ => None,
                };
                let poor = match &spec {
                    None => None,
                    Some((spec, cutoff)) => match deprivation_profile(spec, &a) {
                        Err(e) => {
                            failure = Some(e);
                            return Ok(());
                        }
                        Ok(None) => None,
                        Ok(Some(bits)) => Some(
                            *poor_of
                                .entry(bits)
                                .or_insert_with(|| is_poor(spec, cutoff, bits)),
                        ),
                    },
                };
                assessed[h as usize * n_rounds + t] = Some(Assessed { low_income, poor });
                Ok(())
            })
            .await?;
        if let Some(e) = failure {
            return Err(e);
        }
        if any {
            if let Some((spec, _)) = &spec {
                let unbound = unbound_columns(spec, &names);
                if !unbound.is_empty() {
                    return Err(AppError::Invalid(format!(
                        "เกณฑ์ {id} ของเป้าหมายใช้ตัวชี้วัดที่ไม่มีในข้อมูลการสำรวจ: {list} \
                         (spec {id} of the target reads indicators no assessment carries: {list})",
                        id = spec.id,
                        list = unbound.join(", ")
                    )));
                }
            }
            if let Some(column) = &income_column
                && !names.contains(column)
            {
                return Err(AppError::Invalid(format!(
                    "ไม่มีข้อมูลการสำรวจใดมีรายได้ {column} ที่เป้าหมายใช้ \
                     (no assessment carries the income column {column} the target reads)"
                )));
            }
        }
        progress.finish();

        progress.start(
            "จัดกลุ่มเป้าหมายรายรอบ (classifying every round)",
            Some(person_home.len() as u64),
        );
        // Where every person is on each round's date.
        let dates: Vec<BeDate> = rounds.iter().map(|r| r.date).collect();
        let n_persons = person_home.len();
        let mut location: Vec<Option<u32>> = vec![None; n_persons * n_rounds];
        let mut dead: Vec<bool> = vec![false; n_persons * n_rounds];
        let mut ever_here: Vec<bool> = vec![false; n_persons * n_rounds];
        let mut e = 0;
        for p in 0..n_persons {
            let start = e;
            while e < events.len() && events[e].0 as usize == p {
                e += 1;
            }
            let mine = &events[start..e];
            let mut home = match mine.first() {
                None => Some(person_home[p]),
                Some((_, ev))
                    if matches!(ev.kind, MembershipKind::Birth | MembershipKind::MoveIn) =>
                {
                    None
                }
                Some((_, ev)) => Some(ev.household),
            };
            let mut was_here = home.is_some();
            let mut died = false;
            let mut next = 0;
            for (t, date) in dates.iter().enumerate() {
                while next < mine.len() && mine[next].1.date <= *date {
                    let ev = mine[next].1;
                    match ev.kind {
                        MembershipKind::Birth | MembershipKind::MoveIn => {
                            if !died {
                                home = Some(ev.household);
                                was_here = true;
                            }
                        }
                        MembershipKind::MoveOut => {
                            if home == Some(ev.household) {
                                home = None;
                            }
                        }
                        MembershipKind::Death => {
                            home = None;
                            died = true;
                        }
                    }
                    next += 1;
                }
                location[p * n_rounds + t] = home;
                dead[p * n_rounds + t] = died;
                ever_here[p * n_rounds + t] = was_here;
            }
        }

        let mut flag_start = vec![0usize; n_persons + 1];
        for (p, _, _) in &person_flags {
            flag_start[*p as usize + 1] += 1;
        }
        for p in 0..n_persons {
            flag_start[p + 1] += flag_start[p];
        }
        let vulnerable = |p: u32, date: BeDate| -> bool {
            let p = p as usize;
            person_flags[flag_start[p]..flag_start[p + 1]]
                .iter()
                .any(|&(_, flag, as_of)| {
                    if as_of > date {
                        return false;
                    }
                    if let Some(Some(days)) = flags.get(&flag)
                        && date.ordinal() - as_of.ordinal() > i64::from(*days)
                    {
                        return false;
                    }
                    // A child stops being one at 18, whatever the flag's date.
                    !(flag == VulnerabilityFlag::Child
                        && person_birth[p].is_some_and(|b| date.years_since(b) >= 18))
                })
        };
        let judge = |p: Option<u32>, a: Option<Assessed>, date: BeDate| -> Option<bool> {
            target.rule.eval(&|term| match term {
                Term::LowIncome => a.and_then(|a| a.low_income),
                Term::Poor => a.and_then(|a| a.poor),
                Term::Vulnerable => p.map(|p| vulnerable(p, date)),
            })
        };
        let retired = |change: Option<&(RecordChangeKind, BeDate)>, date: BeDate| {
            change.and_then(|&(kind, on)| {
                (on <= date).then_some(match kind {
                    RecordChangeKind::Merged => State::Merged,
                    RecordChangeKind::Corrected => State::Corrected,
                })
            })
        };

        // Leaf areas: the villages households are in, in code order.
        let villages: Vec<AreaCode> = house_village
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let leaf_of: HashMap<AreaCode, u32> = villages
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, i as u32))
            .collect();

        // Persons' states first: a household's state is made of its members'.
        let mut person_state = vec![State::NotYet; n_persons * n_rounds];
        for p in 0..n_persons {
            for (t, &date) in dates.iter().enumerate() {
                let i = p * n_rounds + t;
                person_state[i] = if let Some(s) = retired(person_change.get(&(p as u32)), date) {
                    s
                } else if let Some(h) = location[i] {
                    if let Some(s) = retired(house_change.get(&h), date) {
                        s
                    } else {
                        let a = assessed[h as usize * n_rounds + t];
                        match judge(Some(p as u32), a, date) {
                            Some(true) => State::In,
                            Some(false) => State::Out,
                            None => State::Unassessed,
                        }
                    }
                } else if dead[i] {
                    State::Died
                } else if ever_here[i] {
                    State::Moved
                } else {
                    State::NotYet
                };
            }
        }
        // Members of every household in every round: those living there whose own record
        // has not been merged or withdrawn.
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); house_village.len() * n_rounds];
        for p in 0..n_persons {
            for t in 0..n_rounds {
                if let Some(h) = location[p * n_rounds + t]
                    && person_state[p * n_rounds + t].is_present()
                {
                    members[h as usize * n_rounds + t].push(p as u32);
                }
            }
        }
        let mut person_panel = PanelBuilder::new(n_rounds, villages.len(), false);
        for p in 0..n_persons {
            let states = &person_state[p * n_rounds..(p + 1) * n_rounds];
            let Some(first) = states.iter().position(|s| s.is_present()) else {
                continue;
            };
            let home = location[p * n_rounds + first].expect("present means in a household");
            person_panel.push(leaf_of[&house_village[home as usize]], states, &[]);
        }
        progress.advance(n_persons as u64);

        let mut household_panel = PanelBuilder::new(n_rounds, villages.len(), true);
        let mut kept: Option<Vec<Box<[State]>>> = options
            .keep_households
            .then(|| Vec::with_capacity(house_village.len()));
        let mut states = vec![State::NotYet; n_rounds];
        let mut weights = vec![0u16; n_rounds];
        for h in 0..house_village.len() {
            let mut last_members: &[u32] = &[];
            let mut seen = false;
            for (t, &date) in dates.iter().enumerate() {
                let i = h * n_rounds + t;
                let here = &members[i];
                let a = assessed[i];
                weights[t] = 0;
                states[t] = if let Some(s) = retired(house_change.get(&(h as u32)), date) {
                    s
                } else if !here.is_empty() || a.is_some() {
                    seen = true;
                    last_members = here;
                    let status = if here.is_empty() {
                        judge(None, a, date)
                    } else {
                        let mut any_unknown = false;
                        let mut inside = 0u32;
                        for &p in here {
                            match person_state[p as usize * n_rounds + t] {
                                State::In => inside += 1,
                                State::Out => {}
                                _ => any_unknown = true,
                            }
                        }
                        weights[t] = u16::try_from(inside).unwrap_or(u16::MAX);
                        if inside > 0 {
                            Some(true)
                        } else if any_unknown {
                            None
                        } else {
                            Some(false)
                        }
                    };
                    match status {
                        Some(true) => State::In,
                        Some(false) => State::Out,
                        None => State::Unassessed,
                    }
                } else if seen {
                    let all_died = !last_members.is_empty()
                        && last_members
                            .iter()
                            .all(|&p| dead[p as usize * n_rounds + t]);
                    if all_died { State::Died } else { State::Moved }
                } else {
                    State::NotYet
                };
            }
            if states.iter().any(|s| s.is_present()) {
                household_panel.push(leaf_of[&house_village[h]], &states, &weights);
            }
            if let Some(kept) = kept.as_mut() {
                kept.push(states.clone().into_boxed_slice());
            }
        }
        progress.finish();

        let threads = if options.threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            options.threads
        };
        let rules = PanelRules {
            consecutive_out: target.consecutive_out,
        };
        let households =
            classify(&household_panel.build().view(), rules, threads).map_err(invalid)?;
        let persons = classify(&person_panel.build().view(), rules, threads).map_err(invalid)?;
        let latest = rounds.last().expect("the baseline round exists").date;
        let kept = kept.map(|states| {
            house_index
                .into_iter()
                .map(|(key, h)| (key, states[h as usize].clone()))
                .collect()
        });
        Ok(RegistryPanel {
            target: target.clone(),
            spec,
            rounds,
            villages,
            village_names,
            households,
            persons,
            latest,
            kept,
        })
    }

    /// One household's standing in every round, when the panel was built with
    /// [`ProgressOptions::keep_households`]; `None` otherwise or for an unknown household.
    pub fn household(&self, code: &Key) -> Option<HouseholdPanel> {
        let states = self.kept.as_ref()?.get(code)?;
        let rules = PanelRules {
            consecutive_out: self.target.consecutive_out,
        };
        let classes = classes_of(states, rules);
        Some(HouseholdPanel {
            rounds: self
                .rounds
                .iter()
                .zip(states.iter().zip(classes))
                .map(|(r, (&state, class))| HouseholdRound {
                    year: r.year,
                    label: r.label.clone(),
                    state,
                    class,
                })
                .collect(),
        })
    }

    /// The target this panel was built under.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The household panel's counts at village level (leaf areas in [`RegistryPanel::villages`]
    /// order).
    pub fn households(&self) -> &PanelCounts {
        &self.households
    }

    /// The person panel's counts at village level.
    pub fn persons(&self) -> &PanelCounts {
        &self.persons
    }

    /// The leaf areas of the panels.
    pub fn villages(&self) -> &[AreaCode] {
        &self.villages
    }

    /// The report by `by` (province, district, subdistrict, village or eco-zone), with a row
    /// for the whole when there is more than one area.
    pub fn report(
        &self,
        by: Grouping,
        zone_sets: &[EcoZoneSet],
    ) -> Result<ProgressReport, AppError> {
        let (groups, group_of) = self.groups(by, zone_sets)?;
        let rounds: Vec<Round> = self
            .rounds
            .iter()
            .map(|r| Round {
                year: r.year,
                label: r.label.clone(),
                years: f64::from(r.year - self.target.baseline),
            })
            .collect();
        let lines = self
            .rounds
            .iter()
            .filter_map(|r| {
                let line = r.line?;
                let provisional = self.target.threshold(r.year).ok()?.provisional;
                Some(LineUsed {
                    year: r.year,
                    baht: line,
                    provisional,
                })
            })
            .collect();
        let level = match by {
            Grouping::EcoZone => "zone",
            other => other.name(),
        };
        let mut report = ProgressReport::new(
            &self.target,
            self.spec.as_ref().map(|(s, k)| (s, k)),
            lines,
            level,
            &rounds,
        );
        let households = self.households.rollup(&group_of, groups.len());
        let persons = self.persons.rollup(&group_of, groups.len());
        report.add_rows(
            &self.target,
            level,
            &groups,
            &rounds,
            &households,
            Some(&persons),
        );
        if groups.len() > 1 {
            let all = Group {
                code: "all".into(),
                name_th: "ทั้งหมด".into(),
                name_en: "all areas".into(),
            };
            report.add_rows(
                &self.target,
                "all",
                &[all],
                &rounds,
                &self.households.total(),
                Some(&self.persons.total()),
            );
        }
        Ok(report)
    }

    /// The groups of a grouping, in code order (zones in their set's order, `none` last),
    /// and the group of every leaf.
    fn groups(
        &self,
        by: Grouping,
        zone_sets: &[EcoZoneSet],
    ) -> Result<(Vec<Group>, Vec<u32>), AppError> {
        let tree = AreaTree::shipped();
        let mut keys: Vec<String> = Vec::with_capacity(self.villages.len());
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        match by {
            Grouping::EcoZone => {
                let shipped;
                let sets = if zone_sets.is_empty() {
                    shipped = vec![EcoZoneSet::shipped_nakhon_si_thammarat()];
                    &shipped[..]
                } else {
                    zone_sets
                };
                let set = EcoZoneSet::in_force(sets, self.latest)
                    .or_else(|| sets.iter().min_by_key(|s| s.valid_from))
                    .expect("at least one zone set");
                for z in &set.zones {
                    order.push(z.code.clone());
                    groups.insert(
                        z.code.clone(),
                        Group {
                            code: z.code.clone(),
                            name_th: z.name_th.clone(),
                            name_en: z.name_en.clone(),
                        },
                    );
                }
                for v in &self.villages {
                    let key = set
                        .zone_of(*v)
                        .map_or_else(|| "none".to_string(), |z| z.code.clone());
                    if !groups.contains_key(&key) {
                        order.push(key.clone());
                        groups.insert(
                            key.clone(),
                            Group {
                                code: key.clone(),
                                name_th: "นอกโซน".into(),
                                name_en: "outside every zone".into(),
                            },
                        );
                    }
                    keys.push(key);
                }
                // Zones without a single household in the registry are left out.
                let used: HashSet<&String> = keys.iter().collect();
                order.retain(|k| used.contains(k));
            }
            Grouping::Province | Grouping::District | Grouping::Subdistrict | Grouping::Village => {
                let level = match by {
                    Grouping::Province => AreaLevel::Province,
                    Grouping::District => AreaLevel::District,
                    Grouping::Subdistrict => AreaLevel::Subdistrict,
                    _ => AreaLevel::Village,
                };
                for v in &self.villages {
                    let code = v.at_level(level).unwrap_or(*v);
                    let key = code.to_string();
                    if !groups.contains_key(&key) {
                        let (name_th, name_en) = if level == AreaLevel::Village {
                            self.village_names
                                .get(&code)
                                .cloned()
                                .unwrap_or_else(|| (key.clone(), key.clone()))
                        } else {
                            tree.get(code).map_or_else(
                                || (key.clone(), key.clone()),
                                |a| (a.name_th.clone(), a.name_en.clone()),
                            )
                        };
                        groups.insert(
                            key.clone(),
                            Group {
                                code: key.clone(),
                                name_th,
                                name_en,
                            },
                        );
                        order.push(key.clone());
                    }
                    keys.push(key);
                }
                order.sort();
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "ความก้าวหน้าแยกตาม {0} ไม่ได้: ใช้ province, zone, district, subdistrict หรือ \
                     village (progress cannot be broken down by {0}: use province, zone, \
                     district, subdistrict or village)",
                    other.name()
                )));
            }
        }
        let index: HashMap<&String, u32> = order
            .iter()
            .enumerate()
            .map(|(i, k)| (k, i as u32))
            .collect();
        let group_of = keys.iter().map(|k| index[k]).collect();
        let groups = order.iter().map(|k| groups[k].clone()).collect();
        Ok((groups, group_of))
    }
}

/// The spec and cutoff that decide `poor`: the one given, else the shipped one the target
/// names; its id, and version when the target pins one, must match.
fn bind_spec(target: &Target, given: Option<&Spec>) -> Result<(Spec, Cutoff), AppError> {
    let poor = target
        .poor
        .as_ref()
        .expect("a rule reading `poor` has a [poor] section");
    let spec = match given {
        Some(s) => s.clone(),
        None => {
            let text = shipped_spec(&poor.spec).ok_or_else(|| {
                AppError::Invalid(format!(
                    "{src}: ไม่รู้จักเกณฑ์ \"{name}\" (unknown measurement spec \"{name}\"; the \
                     shipped ones are tpmap-5, global-mpi, ppaos-5-capitals, council-5)",
                    src = target.source_name,
                    name = poor.spec
                ))
            })?;
            Spec::from_toml_str(text, &format!("{}.toml", poor.spec)).map_err(invalid)?
        }
    };
    if spec.id != poor.spec {
        return Err(AppError::Invalid(format!(
            "เป้าหมาย {t} ใช้เกณฑ์ {want} แต่ได้รับเกณฑ์ {got} (target {t} is defined with spec \
             {want}, not {got})",
            t = target.id,
            want = poor.spec,
            got = spec.id
        )));
    }
    if let Some(v) = poor.spec_version
        && v != spec.version
    {
        return Err(AppError::Invalid(format!(
            "เป้าหมาย {t} รุ่น {tv} กำหนดด้วยเกณฑ์ {s} รุ่น {v} แต่เกณฑ์ที่มีเป็นรุ่น {have}: \
             ออกเป้าหมายรุ่นใหม่ (target {t} version {tv} was defined with spec {s} version {v}, \
             but version {have} is loaded: a changed spec needs a new version of the target)",
            t = target.id,
            tv = target.version,
            s = spec.id,
            have = spec.version
        )));
    }
    let cutoff = match &poor.k {
        Some(k) => k.clone(),
        None => spec.cutoffs.first().cloned().ok_or_else(|| {
            AppError::Invalid(format!(
                "เกณฑ์ {0} ไม่มีค่า k: ระบุ k ในส่วน [poor] ของเป้าหมาย (spec {0} has no default k: \
                 give k in the target's [poor] section)",
                spec.id
            ))
        })?,
    };
    Ok((spec, cutoff))
}

/// Whether a deprivation profile is poor at `cutoff`: its exact score is at least `k`.
fn is_poor(spec: &Spec, cutoff: &Cutoff, bits: u32) -> bool {
    let mut score = Ratio::ZERO;
    for (j, ind) in spec.indicators.iter().enumerate() {
        if bits & (1 << j) != 0 {
            score = score
                .checked_add(ind.weight)
                .expect("weights of a valid spec add up exactly");
        }
    }
    score >= cutoff.fraction()
}
