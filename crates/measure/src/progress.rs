//! Progress towards a [`Target`]: per area and round, the count against its milestone, the
//! change since the baseline, the projection to the horizon, a status, and what became of the
//! baseline cohort; rendered as JSON, CSV or an aligned Thai or English table.
//!
//! Two counts are judged, separately, because they can disagree: the **stock** (how many are
//! in the target population now) and the **cohort** (what the baseline cohort's members still
//! followed in the registry and assessed look like now). The stock can fall because people
//! died, moved away or had their records merged while every remaining baseline household
//! stays poor; the cohort figure then does not fall, and its status says so.
//!
//! ## The status rule
//!
//! With baseline count `B > 0`, count `S` at `t` years after the baseline, horizon `h`,
//! reduction `r`, target `T = B·(1 − r)` (exact) and margin `m`:
//!
//! - the **projection** `P` to the horizon continues the observed pace along the target's
//!   path: geometric `P = B·(S/B)^(h/t)` (the same yearly rate), linear
//!   `P = max(0, B + (S − B)·h/t)` (the same yearly amount); from the horizon on, `P = S`;
//! - **on track** when `P` meets the target (`P < T`, or `P ≤ T` for a target that is not
//!   strict); before the horizon this is the same as `S` meeting the milestone of year `t`,
//!   since the milestones follow the same path;
//! - **at risk** when not on track but `P ≤ T·(1 + m)`;
//! - **off track** otherwise;
//! - **no data yet** at the baseline round (nothing observed since), or when no count exists
//!   (a cohort none of whose members is still followed and assessed);
//! - **nothing to reduce** when `B = 0`.
//!
//! The **year the target would be met** at the current pace is where the same path through
//! the baseline and the latest count reaches `T`: geometric `baseline + t·ln(T/B)/ln(S/B)`,
//! linear `baseline + t·(B − T)/(B − S)`; none when the count has not fallen.
//!
//! The cohort's figure is its **equivalent count** `B·in/known`: of the cohort members still
//! in the registry and assessed (`known` = still in, re-entered, exited once, graduated), the
//! share in the target population (`in` = still in, re-entered), scaled to the baseline.
//! Members who died, moved away, were merged or corrected, or were not assessed count neither
//! as success nor as failure.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use crate::change;
use crate::panel::{Class, Flow, PanelCounts};
use crate::rational::Ratio;
use crate::report::{Lang, write_rows};
use crate::spec::{Cutoff, Spec};
use crate::target::Target;

/// How an area stands against the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTrack,
    AtRisk,
    OffTrack,
    NoData,
    NothingToReduce,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::NoData => "no_data",
            Status::NothingToReduce => "nothing_to_reduce",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::Th, Status::OnTrack) => "ตามเป้า",
            (Lang::Th, Status::AtRisk) => "เสี่ยง",
            (Lang::Th, Status::OffTrack) => "ไม่ตามเป้า",
            (Lang::Th, Status::NoData) => "ยังไม่มีข้อมูล",
            (Lang::Th, Status::NothingToReduce) => "ไม่มีให้ลด",
            (Lang::En, Status::OnTrack) => "on track",
            (Lang::En, Status::AtRisk) => "at risk",
            (Lang::En, Status::OffTrack) => "off track",
            (Lang::En, Status::NoData) => "no data yet",
            (Lang::En, Status::NothingToReduce) => "nothing to reduce",
        }
    }
}

/// A count judged against the target: the figures of the module's status rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outlook {
    /// The milestone for this round (the baseline at the baseline, the target from the
    /// horizon on).
    pub milestone: f64,
    /// `(S/B − 1)·100`; `None` without a baseline or a count.
    pub change_pct: Option<f64>,
    /// `((S/B)^(1/t) − 1)·100`; `None` at the baseline.
    pub annual_change_pct: Option<f64>,
    /// The count the current pace gives at the horizon.
    pub projection: Option<f64>,
    /// Fractional Buddhist Era year at which the current pace reaches the target.
    pub met_year: Option<f64>,
    /// Whether the count already meets the target.
    pub target_met: bool,
    pub status: Status,
}

/// Judges `count` (a whole count when `exact` is given, so that "met" is decided exactly)
/// against the target of `baseline`, `years` after the baseline. See the module's rule.
pub fn outlook(
    target: &Target,
    baseline: u64,
    count: Option<f64>,
    exact: Option<u64>,
    years: f64,
) -> Outlook {
    let b = baseline as f64;
    let t_value = target.target_of(baseline);
    let t = t_value.to_f64();
    let h = f64::from(target.horizon_years);
    let milestone = b * target.milestone_share(years);
    let target_met = match (exact, count) {
        (Some(c), _) => target.meets(c, t_value),
        (None, Some(s)) => target.meets_f64(s, t_value),
        (None, None) => false,
    };
    let mut out = Outlook {
        milestone,
        change_pct: None,
        annual_change_pct: None,
        projection: None,
        met_year: None,
        target_met,
        status: Status::NoData,
    };
    if baseline == 0 {
        out.status = Status::NothingToReduce;
        return out;
    }
    let Some(s) = count else {
        return out;
    };
    out.change_pct = Some(change::relative(b, s));
    if years <= 0.0 {
        return out;
    }
    out.annual_change_pct = Some(change::annualised_relative(b, s, 0.0, years));
    let ratio = s / b;
    let projection = if years >= h {
        s
    } else {
        match target.path {
            crate::target::Path::Geometric => b * ratio.powf(h / years),
            crate::target::Path::Linear => (b + (s - b) * h / years).max(0.0),
        }
    };
    out.projection = Some(projection);
    let on_track = if years >= h {
        target_met
    } else {
        target.meets_f64(projection, t_value)
    };
    let margin = t * (1.0 + target.at_risk_margin.to_f64());
    out.status = if on_track {
        Status::OnTrack
    } else if projection <= margin {
        Status::AtRisk
    } else {
        Status::OffTrack
    };
    let start = f64::from(target.baseline);
    out.met_year = if s >= b {
        None
    } else if s <= 0.0 {
        Some(start + years)
    } else {
        Some(
            start
                + match target.path {
                    crate::target::Path::Geometric => years * (t / b).ln() / ratio.ln(),
                    crate::target::Path::Linear => years * (b - t) / (b - s),
                },
        )
    };
    out
}

/// What became of the baseline cohort, and who joined, in one area and round (persons or
/// households).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cohort {
    /// Cohort size: in the target population at the baseline.
    pub baseline: u64,
    pub still_in: u64,
    pub reentered: u64,
    pub exited_once: u64,
    pub graduated: u64,
    pub unassessed: u64,
    pub died: u64,
    pub moved: u64,
    pub merged: u64,
    pub corrected: u64,
    /// In the target population, not of the cohort, new to the registry since the baseline.
    pub newcomers_new: u64,
    /// In the target population, not of the cohort, in the registry at the baseline.
    pub newcomers_existing: u64,
    /// Cohort moves out of / back into the target population since the baseline (from the
    /// transition counts); `None` for figures summed from weights.
    pub exits: Option<u64>,
    pub reentries: Option<u64>,
    /// Present, not of the cohort, not assessed.
    pub others_unassessed: u64,
    /// The cohort's equivalent count (see the module), `None` when no member is followed.
    pub equivalent: Option<f64>,
}

impl Cohort {
    fn from_counts(c: &PanelCounts, area: usize, round: usize, weighted: bool) -> Cohort {
        let get = |class| {
            if weighted {
                c.weight(area, round, class)
            } else {
                c.units(area, round, class)
            }
        };
        let flows = (!weighted).then(|| c.flows(area, round));
        let baseline = if weighted {
            c.baseline_weight(area)
        } else {
            c.baseline_units(area)
        };
        let mut out = Cohort {
            baseline,
            still_in: get(Class::StillIn),
            reentered: get(Class::ReEntered),
            exited_once: get(Class::ExitedOnce),
            graduated: get(Class::Graduated),
            unassessed: get(Class::CohortUnassessed),
            died: get(Class::Died),
            moved: get(Class::Moved),
            merged: get(Class::Merged),
            corrected: get(Class::Corrected),
            newcomers_new: get(Class::NewcomerNew),
            newcomers_existing: get(Class::NewcomerExisting),
            exits: flows.map(|f| f.exits),
            reentries: flows.map(|f| f.reentries),
            others_unassessed: get(Class::OtherUnassessed),
            equivalent: None,
        };
        let inside = out.still_in + out.reentered;
        let known = inside + out.exited_once + out.graduated;
        out.equivalent = (known > 0).then(|| baseline as f64 * inside as f64 / known as f64);
        out
    }

    /// Cohort members who left the registry, whatever the cause.
    pub fn left(&self) -> u64 {
        self.died + self.moved + self.merged + self.corrected
    }
}

/// One kind of unit (persons or households) in one area and round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// In the target population now.
    pub count: u64,
    pub baseline: u64,
    /// `baseline × (1 − reduction)`, exactly (as `n/d` or an integer).
    pub target: String,
    #[serde(skip)]
    pub target_exact: Ratio,
    /// The largest count that meets the target.
    pub target_max: Option<u64>,
    pub outlook: Outlook,
    pub cohort: Cohort,
    pub cohort_outlook: Outlook,
    /// Moves from the previous round to this one; `None` at the baseline and for figures
    /// summed from weights.
    pub transitions: Option<Transitions>,
}

/// Transition matrices `[from][to]` between the previous round and this one, over the flows
/// not yet, in, out, unassessed, gone ([`ProgressReport::flows`]): for the baseline cohort
/// and for everyone else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transitions {
    pub cohort: [[u64; 5]; 5],
    pub others: [[u64; 5]; 5],
}

impl Transitions {
    fn from_counts(c: &PanelCounts, area: usize, round: usize) -> Transitions {
        let mut out = Transitions::default();
        for from in Flow::ALL {
            for to in Flow::ALL {
                out.cohort[from as usize][to as usize] = c.transition(area, round, true, from, to);
                out.others[from as usize][to as usize] = c.transition(area, round, false, from, to);
            }
        }
        out
    }

    /// Everyone's moves from `from` to `to`.
    pub fn total(&self, from: Flow, to: Flow) -> u64 {
        self.cohort[from as usize][to as usize] + self.others[from as usize][to as usize]
    }
}

impl Figures {
    fn new(
        target: &Target,
        c: &PanelCounts,
        area: usize,
        round: usize,
        years: f64,
        weighted: bool,
    ) -> Figures {
        let (count, baseline) = if weighted {
            (c.stock_weight(area, round), c.baseline_weight(area))
        } else {
            (c.stock_units(area, round), c.baseline_units(area))
        };
        let cohort = Cohort::from_counts(c, area, round, weighted);
        let exact = target.target_of(baseline);
        Figures {
            count,
            baseline,
            target: exact.to_string(),
            target_exact: exact,
            target_max: target.max_count(exact),
            outlook: outlook(target, baseline, Some(count as f64), Some(count), years),
            cohort_outlook: outlook(target, baseline, cohort.equivalent, None, years),
            cohort,
            transitions: (round > 0 && !weighted).then(|| Transitions::from_counts(c, area, round)),
        }
    }
}

/// One area in one round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgressRow {
    /// `province`, `district`, `subdistrict`, `village`, `zone`, or `all`.
    pub level: String,
    pub area_code: String,
    pub area_name_th: String,
    pub area_name_en: String,
    /// Buddhist Era year of the round.
    pub year: i32,
    pub round: String,
    pub years_since_baseline: f64,
    pub persons: Figures,
    pub households: Figures,
}

/// An area (or zone, or the whole) of a report, as the caller names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub code: String,
    pub name_th: String,
    pub name_en: String,
}

/// A round of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// Buddhist Era year.
    pub year: i32,
    pub label: String,
    /// Years since the baseline round (fractional allowed).
    pub years: f64,
}

/// An income line a report used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineUsed {
    pub year: i32,
    pub baht: f64,
    pub provisional: bool,
}

/// Everything `halve progress` prints, with the definitions that produced it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgressReport {
    pub target: String,
    pub target_version: u32,
    pub target_provisional: bool,
    pub target_name_th: String,
    pub target_name_en: String,
    pub rule: String,
    pub spec: Option<String>,
    pub spec_version: Option<u32>,
    pub spec_provisional: Option<bool>,
    /// The poverty cutoff of the spec, in percent, as written.
    pub k: Option<String>,
    pub baseline: i32,
    pub horizon: i32,
    pub reduction: String,
    pub strict: bool,
    pub path: &'static str,
    /// The yearly change the path asks for in its first year, in percent.
    pub required_annual_change_pct: f64,
    pub consecutive_out: u8,
    pub at_risk_margin: String,
    pub income_lines: Vec<LineUsed>,
    /// The grouping the rows are by.
    pub by: String,
    pub rounds: Vec<i32>,
    /// The flows of the transition matrices, in their order.
    pub flows: [&'static str; 5],
    pub rows: Vec<ProgressRow>,
}

impl ProgressReport {
    /// An empty report under `target`, with the spec and cutoff that decided `poor`.
    pub fn new(
        target: &Target,
        spec: Option<(&Spec, &Cutoff)>,
        income_lines: Vec<LineUsed>,
        by: &str,
        rounds: &[Round],
    ) -> ProgressReport {
        ProgressReport {
            target: target.id.clone(),
            target_version: target.version,
            target_provisional: target.provisional,
            target_name_th: target.name_th.clone(),
            target_name_en: target.name_en.clone(),
            rule: target.rule.to_string(),
            spec: spec.map(|(s, _)| s.id.clone()),
            spec_version: spec.map(|(s, _)| s.version),
            spec_provisional: spec.map(|(s, _)| s.provisional),
            k: spec.map(|(_, k)| k.label.clone()),
            baseline: target.baseline,
            horizon: target.horizon_year(),
            reduction: target.reduction.to_string(),
            strict: target.strict,
            path: target.path.name(),
            required_annual_change_pct: target.required_rate(),
            consecutive_out: target.consecutive_out,
            at_risk_margin: target.at_risk_margin.to_string(),
            income_lines,
            by: by.to_string(),
            rounds: rounds.iter().map(|r| r.year).collect(),
            flows: Flow::ALL.map(Flow::name),
            rows: Vec::new(),
        }
    }

    /// Appends a row per group and round: `households` (and `persons`, else the households'
    /// weights stand for persons) hold one area per group, in `groups` order.
    pub fn add_rows(
        &mut self,
        target: &Target,
        level: &str,
        groups: &[Group],
        rounds: &[Round],
        households: &PanelCounts,
        persons: Option<&PanelCounts>,
    ) {
        assert_eq!(households.areas(), groups.len(), "one group per area");
        assert_eq!(
            households.rounds(),
            rounds.len(),
            "one round per panel round"
        );
        for (g, group) in groups.iter().enumerate() {
            for (t, round) in rounds.iter().enumerate() {
                let person_figures = match persons {
                    Some(p) => Figures::new(target, p, g, t, round.years, false),
                    None => Figures::new(target, households, g, t, round.years, true),
                };
                self.rows.push(ProgressRow {
                    level: level.to_string(),
                    area_code: group.code.clone(),
                    area_name_th: group.name_th.clone(),
                    area_name_en: group.name_en.clone(),
                    year: round.year,
                    round: round.label.clone(),
                    years_since_baseline: round.years,
                    persons: person_figures,
                    households: Figures::new(target, households, g, t, round.years, false),
                });
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The CSV columns, in order.
    pub fn csv_header() -> Vec<&'static str> {
        let mut h = vec![
            "area_code",
            "area_name",
            "area_name_en",
            "level",
            "year",
            "round",
            "years_since_baseline",
            "persons",
            "households",
            "baseline_persons",
            "baseline_households",
            "target_persons",
            "target_max_persons",
            "milestone_persons",
            "change_pct",
            "annual_change_pct",
            "projected_persons",
            "met_year",
            "target_met",
            "status",
            "target_households",
            "milestone_households",
            "projected_households",
            "status_households",
        ];
        for unit in ["persons", "households"] {
            h.extend(COHORT_COLUMNS.iter().map(|c| match (unit, *c) {
                ("persons", c) => c.0,
                (_, c) => c.1,
            }));
        }
        h.extend([
            "target",
            "target_version",
            "spec",
            "spec_version",
            "k",
            "provisional",
        ]);
        h
    }

    /// One row per area and round, with [`ProgressReport::csv_header`]'s columns.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", Self::csv_header().join(","))?;
        let provisional = self.target_provisional || self.spec_provisional == Some(true);
        for r in &self.rows {
            let p = &r.persons;
            let h = &r.households;
            let mut f: Vec<String> = vec![
                csv_field(&r.area_code),
                csv_field(&r.area_name_th),
                csv_field(&r.area_name_en),
                r.level.clone(),
                r.year.to_string(),
                csv_field(&r.round),
                num(r.years_since_baseline),
                p.count.to_string(),
                h.count.to_string(),
                p.baseline.to_string(),
                h.baseline.to_string(),
                decimal(p.target_exact),
                opt_u64(p.target_max),
                num(p.outlook.milestone),
                opt_num(p.outlook.change_pct),
                opt_num(p.outlook.annual_change_pct),
                opt_num(p.outlook.projection),
                opt_num(p.outlook.met_year),
                u8::from(p.outlook.target_met).to_string(),
                p.outlook.status.code().to_string(),
                decimal(h.target_exact),
                num(h.outlook.milestone),
                opt_num(h.outlook.projection),
                h.outlook.status.code().to_string(),
            ];
            for fig in [p, h] {
                let c = &fig.cohort;
                f.extend([
                    c.baseline.to_string(),
                    c.still_in.to_string(),
                    c.reentered.to_string(),
                    c.exited_once.to_string(),
                    c.graduated.to_string(),
                    c.unassessed.to_string(),
                    c.died.to_string(),
                    c.moved.to_string(),
                    c.merged.to_string(),
                    c.corrected.to_string(),
                    c.newcomers_new.to_string(),
                    c.newcomers_existing.to_string(),
                    opt_u64(c.exits),
                    opt_u64(c.reentries),
                    opt_num(c.equivalent),
                    fig.cohort_outlook.status.code().to_string(),
                ]);
            }
            f.extend([
                csv_field(&self.target),
                self.target_version.to_string(),
                self.spec.clone().unwrap_or_default(),
                self.spec_version.map(|v| v.to_string()).unwrap_or_default(),
                self.k.clone().unwrap_or_default(),
                u8::from(provisional).to_string(),
            ]);
            writeln!(out, "{}", f.join(","))?;
        }
        Ok(())
    }

    /// An aligned table for people: the definition, then per round the stock of every area
    /// against its milestone, then per round after the baseline what became of the cohort,
    /// then the transitions of the whole between consecutive rounds.
    pub fn write_table(&self, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
        let l = match lang {
            Lang::Th => &TH,
            Lang::En => &EN,
        };
        let name = match lang {
            Lang::Th => &self.target_name_th,
            Lang::En => &self.target_name_en,
        };
        write!(
            out,
            "{} {} ({} {})",
            l.target, self.target, l.version, self.target_version
        )?;
        if self.target_provisional {
            write!(out, " [{}]", l.provisional)?;
        }
        writeln!(out, ": {name}")?;
        writeln!(out, "{}: {}", l.rule, self.rule)?;
        if let (Some(spec), Some(v), Some(k)) = (&self.spec, self.spec_version, &self.k) {
            write!(
                out,
                "poor = {} {spec} ({} {v}), k = {k}%",
                l.poor_under, l.version
            )?;
            if self.spec_provisional == Some(true) {
                write!(out, " [{}]", l.provisional)?;
            }
            writeln!(out)?;
        }
        if !self.income_lines.is_empty() {
            let lines: Vec<String> = self
                .income_lines
                .iter()
                .map(|i| {
                    format!(
                        "{} {}{}",
                        i.year,
                        thousands(i.baht),
                        if i.provisional { "*" } else { "" }
                    )
                })
                .collect();
            writeln!(out, "{}: {}", l.income_lines, lines.join(", "))?;
        }
        let more = if self.strict { l.more_than } else { "" };
        writeln!(
            out,
            "{} {} → {} {}: {} {more}{} ({}, {:.2}% {}); {} {} {}",
            l.baseline,
            self.baseline,
            l.horizon,
            self.horizon,
            l.reduce_by,
            self.reduction,
            match self.path {
                "geometric" => l.geometric,
                _ => l.linear,
            },
            self.required_annual_change_pct,
            l.per_year,
            l.graduation,
            self.consecutive_out,
            l.assessments_in_a_row
        )?;
        writeln!(out, "{}", l.status_rule)?;
        for (t, &year) in self.rounds.iter().enumerate() {
            writeln!(out)?;
            let rows: Vec<&ProgressRow> = self.rows.iter().filter(|r| r.year == year).collect();
            let label = rows.first().map(|r| r.round.clone()).unwrap_or_default();
            writeln!(out, "{} {year} ({label})", l.year)?;
            let mut table = vec![vec![
                l.area.to_string(),
                l.persons.into(),
                l.milestone.into(),
                format!("{} {}", l.target_max, self.horizon),
                l.change.into(),
                l.per_year_pct.into(),
                format!("{} {}", l.projected, self.horizon),
                l.status.into(),
                l.met.into(),
                l.households.into(),
                l.households_status.into(),
            ]];
            for r in &rows {
                let p = &r.persons;
                table.push(vec![
                    area_label(r, lang),
                    p.count.to_string(),
                    format!("{:.1}", p.outlook.milestone),
                    p.target_max.map_or("–".into(), |m| m.to_string()),
                    opt_pct(p.outlook.change_pct),
                    opt_pct(p.outlook.annual_change_pct),
                    p.outlook
                        .projection
                        .map_or("–".into(), |x| format!("{x:.1}")),
                    p.outlook.status.label(lang).into(),
                    p.outlook.met_year.map_or("–".into(), |y| format!("{y:.1}")),
                    r.households.count.to_string(),
                    r.households.outlook.status.label(lang).into(),
                ]);
            }
            write_rows(out, &table)?;
            if t == 0 {
                continue;
            }
            writeln!(out)?;
            writeln!(out, "{} ({} {year})", l.cohort_title, l.year)?;
            let mut table = vec![vec![
                l.area.to_string(),
                l.cohort.into(),
                l.still_in.into(),
                l.reentered.into(),
                l.exited_once.into(),
                l.graduated.into(),
                l.unassessed.into(),
                l.died.into(),
                l.moved.into(),
                l.merged.into(),
                l.corrected.into(),
                l.newcomers_new.into(),
                l.newcomers_existing.into(),
                l.equivalent.into(),
                l.cohort_status.into(),
            ]];
            for r in &rows {
                let c = &r.persons.cohort;
                table.push(vec![
                    area_label(r, lang),
                    c.baseline.to_string(),
                    c.still_in.to_string(),
                    c.reentered.to_string(),
                    c.exited_once.to_string(),
                    c.graduated.to_string(),
                    c.unassessed.to_string(),
                    c.died.to_string(),
                    c.moved.to_string(),
                    c.merged.to_string(),
                    c.corrected.to_string(),
                    c.newcomers_new.to_string(),
                    c.newcomers_existing.to_string(),
                    c.equivalent.map_or("–".into(), |x| format!("{x:.1}")),
                    r.persons.cohort_outlook.status.label(lang).into(),
                ]);
            }
            write_rows(out, &table)?;
        }
        // The whole's transitions: the last row's area is the whole when the caller added
        // one, else the single area shown.
        let code = self
            .rows
            .last()
            .map(|r| r.area_code.clone())
            .unwrap_or_default();
        for pair in self.rounds.windows(2) {
            let Some(m) = self
                .rows
                .iter()
                .rev()
                .find(|r| r.area_code == code && r.year == pair[1])
                .and_then(|r| r.persons.transitions.as_ref())
            else {
                continue;
            };
            writeln!(out)?;
            writeln!(
                out,
                "{} {} → {} ({}: {})",
                l.transitions, pair[0], pair[1], l.persons, code
            )?;
            let mut table = vec![{
                let mut h = vec![format!("{} \\ {}", pair[0], pair[1])];
                h.extend(Flow::ALL.iter().map(|f| flow_label(*f, lang).to_string()));
                h
            }];
            for from in Flow::ALL {
                let mut row = vec![flow_label(from, lang).to_string()];
                row.extend(Flow::ALL.iter().map(|&to| m.total(from, to).to_string()));
                table.push(row);
            }
            write_rows(out, &table)?;
        }
        Ok(())
    }
}

/// Cohort columns of the CSV: (persons name, households name).
const COHORT_COLUMNS: [(&str, &str); 16] = [
    ("cohort_persons", "cohort_households"),
    ("cohort_still_in_persons", "cohort_still_in_households"),
    ("cohort_reentered_persons", "cohort_reentered_households"),
    (
        "cohort_exited_once_persons",
        "cohort_exited_once_households",
    ),
    ("cohort_graduated_persons", "cohort_graduated_households"),
    ("cohort_unassessed_persons", "cohort_unassessed_households"),
    ("cohort_died_persons", "cohort_died_households"),
    ("cohort_moved_persons", "cohort_moved_households"),
    ("cohort_merged_persons", "cohort_merged_households"),
    ("cohort_corrected_persons", "cohort_corrected_households"),
    ("newcomer_new_persons", "newcomer_new_households"),
    ("newcomer_existing_persons", "newcomer_existing_households"),
    ("exits_persons", "exits_households"),
    ("reentries_persons", "reentries_households"),
    ("cohort_equivalent_persons", "cohort_equivalent_households"),
    ("cohort_status", "cohort_status_households"),
];

fn area_label(r: &ProgressRow, lang: Lang) -> String {
    let name = match lang {
        Lang::Th => &r.area_name_th,
        Lang::En => &r.area_name_en,
    };
    if r.area_code.is_empty() || r.area_code == *name {
        name.clone()
    } else {
        format!("{} {name}", r.area_code)
    }
}

fn flow_label(f: Flow, lang: Lang) -> &'static str {
    match (lang, f) {
        (Lang::Th, Flow::NotYet) => "ยังไม่มีในทะเบียน",
        (Lang::Th, Flow::In) => "อยู่ในกลุ่มเป้าหมาย",
        (Lang::Th, Flow::Out) => "พ้นกลุ่มเป้าหมาย",
        (Lang::Th, Flow::Unassessed) => "ไม่ได้สำรวจ",
        (Lang::Th, Flow::Gone) => "ออกจากทะเบียน",
        (Lang::En, Flow::NotYet) => "not yet",
        (Lang::En, Flow::In) => "in",
        (Lang::En, Flow::Out) => "out",
        (Lang::En, Flow::Unassessed) => "unassessed",
        (Lang::En, Flow::Gone) => "gone",
    }
}

struct Labels {
    target: &'static str,
    version: &'static str,
    provisional: &'static str,
    rule: &'static str,
    poor_under: &'static str,
    income_lines: &'static str,
    baseline: &'static str,
    horizon: &'static str,
    reduce_by: &'static str,
    more_than: &'static str,
    geometric: &'static str,
    linear: &'static str,
    per_year: &'static str,
    graduation: &'static str,
    assessments_in_a_row: &'static str,
    status_rule: &'static str,
    year: &'static str,
    area: &'static str,
    persons: &'static str,
    milestone: &'static str,
    target_max: &'static str,
    change: &'static str,
    per_year_pct: &'static str,
    projected: &'static str,
    status: &'static str,
    met: &'static str,
    households: &'static str,
    households_status: &'static str,
    cohort_title: &'static str,
    cohort: &'static str,
    still_in: &'static str,
    reentered: &'static str,
    exited_once: &'static str,
    graduated: &'static str,
    unassessed: &'static str,
    died: &'static str,
    moved: &'static str,
    merged: &'static str,
    corrected: &'static str,
    newcomers_new: &'static str,
    newcomers_existing: &'static str,
    equivalent: &'static str,
    cohort_status: &'static str,
    transitions: &'static str,
}

const TH: Labels = Labels {
    target: "เป้าหมาย",
    version: "รุ่น",
    provisional: "ฉบับร่าง",
    rule: "ผู้ที่นับ",
    poor_under: "จนหลายมิติตามเกณฑ์",
    income_lines: "เส้นรายได้ (บาท/คน/ปี; * = ฉบับร่าง)",
    baseline: "ปีฐาน",
    horizon: "ปีเป้าหมาย",
    reduce_by: "ลดลง",
    more_than: "มากกว่า ",
    geometric: "เส้นทางแบบเรขาคณิต",
    linear: "เส้นทางแบบเส้นตรง",
    per_year: "ต่อปี",
    graduation: "พ้น (ยืนยัน) เมื่ออยู่นอกกลุ่มเป้าหมาย",
    assessments_in_a_row: "รอบการสำรวจติดกัน",
    status_rule: "สถานะ: ตามเป้า = คาดการณ์ ณ ปีเป้าหมายถึงเป้า; เสี่ยง = พลาดเป้าไม่เกินเกณฑ์เผื่อ; ไม่ตามเป้า = พลาดมากกว่านั้น",
    year: "ปี",
    area: "พื้นที่",
    persons: "คน",
    milestone: "หมุดหมาย",
    target_max: "เป้าไม่เกิน",
    change: "เปลี่ยน %",
    per_year_pct: "% ต่อปี",
    projected: "คาดการณ์",
    status: "สถานะ",
    met: "ถึงเป้าปี",
    households: "ครัวเรือน",
    households_status: "สถานะครัวเรือน",
    cohort_title: "กลุ่มฐาน: คนที่อยู่ในกลุ่มเป้าหมายเมื่อปีฐาน",
    cohort: "กลุ่มฐาน",
    still_in: "ยังอยู่",
    reentered: "กลับเข้ามา",
    exited_once: "พ้น (ครั้งเดียว)",
    graduated: "พ้น (ยืนยัน)",
    unassessed: "ไม่ได้สำรวจ",
    died: "เสียชีวิต",
    moved: "ย้ายออก",
    merged: "รวมระเบียน",
    corrected: "แก้ไขระเบียน",
    newcomers_new: "เข้าใหม่ (คนใหม่)",
    newcomers_existing: "เข้าใหม่ (คนเดิม)",
    equivalent: "เทียบเท่า",
    cohort_status: "สถานะกลุ่มฐาน",
    transitions: "การเปลี่ยนสถานะ",
};

const EN: Labels = Labels {
    target: "Target",
    version: "version",
    provisional: "provisional",
    rule: "Who counts",
    poor_under: "multidimensionally poor under",
    income_lines: "Income lines (baht/person/year; * = provisional)",
    baseline: "Baseline",
    horizon: "horizon",
    reduce_by: "reduce by",
    more_than: "more than ",
    geometric: "geometric path",
    linear: "linear path",
    per_year: "per year",
    graduation: "graduated when out of the target population in",
    assessments_in_a_row: "assessments in a row",
    status_rule: "Status: on track = the projection to the horizon meets the target; at risk = misses it by no more than the margin; off track = misses it by more",
    year: "Year",
    area: "Area",
    persons: "persons",
    milestone: "milestone",
    target_max: "at most",
    change: "change %",
    per_year_pct: "% a year",
    projected: "projected",
    status: "status",
    met: "met in",
    households: "households",
    households_status: "households status",
    cohort_title: "The baseline cohort: persons in the target population at the baseline",
    cohort: "cohort",
    still_in: "still in",
    reentered: "re-entered",
    exited_once: "exited once",
    graduated: "graduated",
    unassessed: "not assessed",
    died: "died",
    moved: "moved away",
    merged: "merged",
    corrected: "corrected",
    newcomers_new: "new (new people)",
    newcomers_existing: "new (registered)",
    equivalent: "equivalent",
    cohort_status: "cohort status",
    transitions: "Transitions",
};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A float for CSV: rounded to 4 decimals, trailing zeros dropped; empty when undefined.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let mut s = format!("{x:.4}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

fn opt_num(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

fn opt_u64(x: Option<u64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn opt_pct(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:+.1}%"),
        _ => "–".into(),
    }
}

/// An exact ratio as a decimal when it has a finite one of at most 6 places, else `n/d`.
fn decimal(r: Ratio) -> String {
    let (n, d) = (r.numer(), r.denom());
    let mut scale = 1u128;
    for _ in 0..=6 {
        if scale.is_multiple_of(d) {
            let whole = n / d;
            let frac = (n % d) * (scale / d);
            if scale == 1 {
                return whole.to_string();
            }
            let places = scale.ilog10() as usize;
            let mut s = format!("{whole}.{frac:0places$}");
            while s.ends_with('0') {
                s.pop();
            }
            return s;
        }
        scale *= 10;
    }
    r.to_string()
}

fn thousands(x: f64) -> String {
    let whole = x.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    let mut s = String::new();
    if whole < 0 {
        s.push('-');
    }
    let _ = write!(s, "{out}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str = r#"
id = "t"
rule = "low_income"
baseline = 2566
horizon_years = 5
reduction = "1/2"
[low_income]
[[low_income.threshold]]
from = 2566
to = 2571
baht = 38000
"#;

    fn target() -> Target {
        Target::from_toml_str(TARGET, "t.toml").unwrap()
    }

    #[test]
    fn decimals_are_exact_or_fractions() {
        assert_eq!(decimal(Ratio::new(45, 2).unwrap()), "22.5");
        assert_eq!(decimal(Ratio::new(40, 2).unwrap()), "20");
        assert_eq!(decimal(Ratio::new(1, 8).unwrap()), "0.125");
        assert_eq!(decimal(Ratio::new(62, 3).unwrap()), "62/3");
        assert_eq!(num(12.3456789), "12.3457");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(f64::NAN), "");
        assert_eq!(thousands(38000.0), "38,000");
    }

    #[test]
    fn the_status_rule_by_hand() {
        let t = target();
        // Baseline 100, 2 years on, geometric: the milestone is 100·0.5^(2/5) = 75.79.
        let m = 100.0 * 0.5f64.powf(0.4);
        // 75 persons: projection 100·0.75^(5/2) = 48.71 < 50: on track.
        let o = outlook(&t, 100, Some(75.0), Some(75), 2.0);
        assert!((o.milestone - m).abs() < 1e-9);
        assert_eq!(o.status, Status::OnTrack);
        assert!((o.projection.unwrap() - 100.0 * 0.75f64.powf(2.5)).abs() < 1e-9);
        // It meets 50 at 2566 + 2·ln(0.5)/ln(0.75) = 2570.818.
        assert!((o.met_year.unwrap() - (2566.0 + 2.0 * 0.5f64.ln() / 0.75f64.ln())).abs() < 1e-9);
        assert_eq!(o.change_pct, Some(-25.0));
        // 77 persons: projection 100·0.77^2.5 = 52.03, within 10 % of 50: at risk.
        assert_eq!(
            outlook(&t, 100, Some(77.0), Some(77), 2.0).status,
            Status::AtRisk
        );
        // 80: projection 57.2 > 55: off track.
        assert_eq!(
            outlook(&t, 100, Some(80.0), Some(80), 2.0).status,
            Status::OffTrack
        );
        // A rising count is never met.
        let up = outlook(&t, 100, Some(110.0), Some(110), 1.0);
        assert_eq!((up.status, up.met_year), (Status::OffTrack, None));
        // At the horizon, exactly half is not "more than half".
        let half = outlook(&t, 100, Some(50.0), Some(50), 5.0);
        assert_eq!(half.projection, Some(50.0));
        assert!(!half.target_met);
        assert_eq!(half.status, Status::AtRisk);
        assert_eq!(
            outlook(&t, 100, Some(49.0), Some(49), 5.0).status,
            Status::OnTrack
        );
        // The baseline round, no count, no baseline.
        assert_eq!(
            outlook(&t, 100, Some(100.0), Some(100), 0.0).status,
            Status::NoData
        );
        assert_eq!(outlook(&t, 100, None, None, 2.0).status, Status::NoData);
        assert_eq!(
            outlook(&t, 0, Some(3.0), Some(3), 2.0).status,
            Status::NothingToReduce
        );
        // Linear path: 100 → 80 in 2 years goes on to 50 at the horizon, exactly half: at
        // risk; 79 goes to 47.5: on track, met in 2566 + 2·50/21.
        let mut lin = target();
        lin.path = crate::target::Path::Linear;
        let o = outlook(&lin, 100, Some(80.0), Some(80), 2.0);
        assert_eq!((o.milestone, o.projection), (80.0, Some(50.0)));
        assert_eq!(o.status, Status::AtRisk);
        let o = outlook(&lin, 100, Some(79.0), Some(79), 2.0);
        assert_eq!(o.status, Status::OnTrack);
        assert!((o.met_year.unwrap() - (2566.0 + 100.0 / 21.0)).abs() < 1e-9);
    }

    #[test]
    fn status_agrees_with_the_projection_and_the_milestone() {
        for path in [crate::target::Path::Geometric, crate::target::Path::Linear] {
            let mut t = target();
            t.path = path;
            for b in [1u64, 7, 100, 2_345] {
                for years in [0.5, 1.0, 2.0, 3.5, 4.0] {
                    for s in 0..=(b + b / 5 + 1) {
                        let o = outlook(&t, b, Some(s as f64), Some(s), years);
                        let p = o.projection.unwrap();
                        let target_value = b as f64 / 2.0;
                        assert_eq!(
                            o.status == Status::OnTrack,
                            p < target_value,
                            "{b} {s} {years}"
                        );
                        // Before the horizon, on track ⟺ below the milestone, up to rounding
                        // at the boundary.
                        if (s as f64 - o.milestone).abs() > 1e-6 {
                            assert_eq!(
                                o.status == Status::OnTrack,
                                (s as f64) < o.milestone,
                                "{path:?} b={b} s={s} t={years}"
                            );
                        }
                        // The met year falls within the horizon exactly when the projection
                        // reaches the target.
                        if let Some(y) = o.met_year
                            && (p - target_value).abs() > 1e-6
                        {
                            assert_eq!(y <= 2571.0, p <= target_value, "{b} {s} {years}");
                        }
                        if o.status != Status::OnTrack {
                            assert_eq!(
                                o.status == Status::AtRisk,
                                p <= target_value * 1.1,
                                "{b} {s} {years}"
                            );
                        }
                    }
                }
            }
        }
    }
}
