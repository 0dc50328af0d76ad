//! The dashboard's target panel: how far the province and each eco-zone are from "more than
//! half fewer by 2571", from the target engine (`halve_app::target`), never computed here.
//!
//! Building the panel reads persons, events and flags besides the assessments, which takes
//! seconds on a large registry, so it runs in the background: at start, and again whenever
//! the live figures have changed since the panel was computed. Until the first run ends the
//! page says the figures are being computed; afterwards it shows the last finished run with
//! the time it was computed, so a page never waits for it and never shows a figure that no
//! run produced. One run serves every page: the province, the eco-zones, each district,
//! subdistrict and village ([`Ready::rows_for`]), and each household
//! ([`RegistryPanel::household`] on [`Ready::panel`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halve_app::NoProgress;
use halve_app::measure::Grouping;
use halve_app::target::{ProgressOptions, RegistryPanel};
use halve_measure::{ProgressReport, ProgressRow, Target};
use halve_store::Store;
use tokio::sync::RwLock;

/// What the panel has to show.
#[derive(Clone)]
pub enum PanelState {
    /// The first run has not finished.
    Computing,
    Ready(Arc<Ready>),
    /// The last run failed (the reason is in the server's log, without personal data).
    Failed,
}

/// One finished run.
pub struct Ready {
    pub province: ProgressReport,
    pub zones: ProgressReport,
    /// By district, subdistrict and village, for the area pages.
    pub districts: ProgressReport,
    pub subdistricts: ProgressReport,
    pub villages: ProgressReport,
    /// The panel the reports came from, kept for the household pages.
    pub panel: RegistryPanel,
    /// UTC, when the run started (it reflects the registry as of then).
    pub as_of: String,
    /// Area or zone code → (report, row indices in round order).
    index: HashMap<String, (Level, Vec<usize>)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Province,
    Zone,
    District,
    Subdistrict,
    Village,
}

impl Ready {
    fn new(panel: RegistryPanel, reports: [ProgressReport; 5], as_of: String) -> Ready {
        let [province, zones, districts, subdistricts, villages] = reports;
        let mut index: HashMap<String, (Level, Vec<usize>)> = HashMap::new();
        for (level, report) in [
            (Level::Province, &province),
            (Level::Zone, &zones),
            (Level::District, &districts),
            (Level::Subdistrict, &subdistricts),
            (Level::Village, &villages),
        ] {
            for (i, row) in report.rows.iter().enumerate() {
                // The whole closes every report of several areas; the province has its own.
                if row.level == "all" {
                    continue;
                }
                index
                    .entry(row.area_code.clone())
                    .or_insert_with(|| (level, Vec::new()))
                    .1
                    .push(i);
            }
        }
        Ready {
            province,
            zones,
            districts,
            subdistricts,
            villages,
            panel,
            as_of,
            index,
        }
    }

    fn report(&self, level: Level) -> &ProgressReport {
        match level {
            Level::Province => &self.province,
            Level::Zone => &self.zones,
            Level::District => &self.districts,
            Level::Subdistrict => &self.subdistricts,
            Level::Village => &self.villages,
        }
    }

    /// Every round of one area (province, district, subdistrict or village code) or eco-zone
    /// (zone code), oldest first; empty for a code the registry has no household in.
    pub fn rows_for(&self, code: &str) -> Vec<&ProgressRow> {
        self.index.get(code).map_or_else(Vec::new, |(level, rows)| {
            let report = self.report(*level);
            rows.iter().map(|&i| &report.rows[i]).collect()
        })
    }

    /// The latest round's row of each child of an area: districts of the province,
    /// subdistricts of a district, villages of a subdistrict (in code order); the zones for
    /// `"zones"`.
    pub fn children_rows(&self, code: &str) -> Vec<&ProgressRow> {
        let (report, prefix) = match self.index.get(code).map(|(l, _)| *l) {
            _ if code == "zones" => (&self.zones, ""),
            Some(Level::Province) => (&self.districts, code),
            Some(Level::District) => (&self.subdistricts, code),
            Some(Level::Subdistrict) => (&self.villages, code),
            _ => return Vec::new(),
        };
        let last = report.rows.iter().map(|r| r.year).max();
        report
            .rows
            .iter()
            .filter(|r| Some(r.year) == last && r.level != "all" && r.area_code.starts_with(prefix))
            .collect()
    }
}

pub struct TargetPanel {
    target: Target,
    /// The spec that decides `poor` when it is the server's own (an edited version the
    /// shipped files do not hold); `None`: the shipped spec the target names.
    spec: Option<halve_measure::Spec>,
    state: RwLock<PanelState>,
    running: AtomicBool,
    /// The live figures' generation the last started run reflects.
    generation: AtomicU64,
}

impl TargetPanel {
    /// A panel following `target`; `server_spec` is used for `poor` when the target names
    /// its id (and its version, if the target pins one).
    pub fn new(target: Target, server_spec: &halve_measure::Spec) -> Arc<TargetPanel> {
        let spec = target
            .poor
            .as_ref()
            .filter(|p| {
                p.spec == server_spec.id && p.spec_version.is_none_or(|v| v == server_spec.version)
            })
            .map(|_| server_spec.clone());
        Arc::new(TargetPanel {
            target,
            spec,
            state: RwLock::new(PanelState::Computing),
            running: AtomicBool::new(false),
            generation: AtomicU64::new(u64::MAX),
        })
    }

    pub async fn state(&self) -> PanelState {
        self.state.read().await.clone()
    }

    /// Starts a run in the background unless one is running or the last one already reflects
    /// `generation` of the live figures.
    pub fn refresh(self: &Arc<Self>, store: &Store, generation: u64, now_iso: String) {
        if self.generation.load(Ordering::SeqCst) == generation
            || self.running.swap(true, Ordering::SeqCst)
        {
            return;
        }
        self.generation.store(generation, Ordering::SeqCst);
        let (panel, store) = (self.clone(), store.clone());
        let handle = tokio::runtime::Handle::current();
        // The panel's reads are not `Send` (progress reporting), so the run gets a blocking
        // thread of its own, where it may take its time.
        tokio::task::spawn_blocking(move || {
            let result = handle.block_on(compute(&store, &panel.target, panel.spec.clone()));
            handle.block_on(async {
                let mut state = panel.state.write().await;
                match result {
                    Ok((panel, reports)) => {
                        *state = PanelState::Ready(Arc::new(Ready::new(panel, reports, now_iso)))
                    }
                    Err(e) => {
                        tracing::warn!("target panel: {e}");
                        if matches!(*state, PanelState::Computing) {
                            *state = PanelState::Failed;
                        }
                    }
                }
            });
            panel.running.store(false, Ordering::SeqCst);
        });
    }
}

async fn compute(
    store: &Store,
    target: &Target,
    spec: Option<halve_measure::Spec>,
) -> Result<(RegistryPanel, [ProgressReport; 5]), halve_app::AppError> {
    let options = ProgressOptions {
        by: Grouping::EcoZone,
        keep_households: true,
        spec,
        ..ProgressOptions::default()
    };
    let panel = RegistryPanel::build(store, target, &options, &NoProgress).await?;
    let reports = [
        panel.report(Grouping::Province, &[])?,
        panel.report(Grouping::EcoZone, &[])?,
        panel.report(Grouping::District, &[])?,
        panel.report(Grouping::Subdistrict, &[])?,
        panel.report(Grouping::Village, &[])?,
    ];
    Ok((panel, reports))
}
