//! The dashboard's target panel: how far the province and each eco-zone are from "more than
//! half fewer by 2571", from the target engine (`halve_app::target`), never computed here.
//!
//! Building the panel reads persons, events and flags besides the assessments, which takes
//! seconds on a large registry, so it runs in the background: at start, and again whenever
//! the live figures have changed since the panel was computed. Until the first run ends the
//! page says the figures are being computed; afterwards it shows the last finished run with
//! the time it was computed, so a page never waits for it and never shows a figure that no
//! run produced.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halve_app::NoProgress;
use halve_app::measure::Grouping;
use halve_app::target::{ProgressOptions, RegistryPanel};
use halve_measure::{ProgressReport, Target};
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
    /// UTC, when the run started (it reflects the registry as of then).
    pub as_of: String,
}

pub struct TargetPanel {
    target: Target,
    state: RwLock<PanelState>,
    running: AtomicBool,
    /// The live figures' generation the last started run reflects.
    generation: AtomicU64,
}

impl TargetPanel {
    pub fn new(target: Target) -> Arc<TargetPanel> {
        Arc::new(TargetPanel {
            target,
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
            let result = handle.block_on(compute(&store, &panel.target));
            handle.block_on(async {
                let mut state = panel.state.write().await;
                match result {
                    Ok((province, zones)) => {
                        *state = PanelState::Ready(Arc::new(Ready {
                            province,
                            zones,
                            as_of: now_iso,
                        }))
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
) -> Result<(ProgressReport, ProgressReport), halve_app::AppError> {
    let options = ProgressOptions {
        by: Grouping::EcoZone,
        ..ProgressOptions::default()
    };
    let panel = RegistryPanel::build(store, target, &options, &NoProgress).await?;
    Ok((
        panel.report(Grouping::Province, &[])?,
        panel.report(Grouping::EcoZone, &[])?,
    ))
}
