//! The live measures behind the dashboard and the area pages.
//!
//! One [`LiveSnapshot`] of the registry under the server's spec, grouped by every area level
//! and eco-zone, is read at start and follows the store's change feed: an assessment recorded
//! anywhere in this process is patched in, an import makes it read the registry again, and so
//! does a write by another process (noticed through the audit log). After each change the
//! figures are computed once into [`Measures`], which requests share without recomputing.

use std::collections::HashMap;
use std::sync::Arc;

use halve_app::live::{CatchUp, LiveSnapshot};
use halve_app::measure::{Grouping, MeasureOptions, RegistrySnapshot};
use halve_domain::AssessmentRound;
use halve_measure::Spec;
use halve_store::Store;
use tokio::sync::RwLock;

use crate::WebError;

/// The groupings the app shows: every area level and the eco-zone.
const GROUPINGS: [Grouping; 5] = [
    Grouping::Province,
    Grouping::District,
    Grouping::Subdistrict,
    Grouping::Village,
    Grouping::EcoZone,
];

/// The figures of one population (the province, an area, a zone) in one round, at the
/// spec's first cutoff.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Figures {
    /// Persons (members counted at the assessments).
    pub persons: f64,
    pub households: u64,
    /// Poor persons.
    pub poor_persons: f64,
    pub poor_households: u64,
    /// Headcount ratio.
    pub h: f64,
    /// Intensity among the poor.
    pub a: f64,
    pub m0: f64,
    /// Uncensored headcount ratio per indicator, in spec order.
    pub hd: Vec<f64>,
}

/// Every figure the pages show, for every round, with the spec that produced them.
#[derive(Debug)]
pub struct Measures {
    pub spec_id: String,
    pub spec_version: u32,
    pub provisional: bool,
    pub cutoff_label: String,
    /// Round labels (BE years), oldest first.
    pub rounds: Vec<String>,
    /// The whole registry, per round.
    pub total: Vec<Option<Figures>>,
    /// (grouping name, group value) → per round.
    groups: HashMap<(String, String), Vec<Option<Figures>>>,
    pub units_dropped: usize,
}

impl Measures {
    fn from_snapshot(snapshot: &RegistrySnapshot) -> Result<Measures, WebError> {
        let run = snapshot.run(None)?;
        let est = &run.estimates;
        let spec = snapshot.spec();
        let rounds: Vec<String> = est.years.iter().map(|y| y.label.clone()).collect();
        let n_rounds = rounds.len().max(1);
        let mut total = vec![None; n_rounds];
        let mut groups: HashMap<(String, String), Vec<Option<Figures>>> = HashMap::new();
        for g in &est.groups {
            let Some(at) = g.at.first() else { continue };
            let figures = Figures {
                persons: g.n,
                households: g.n_units,
                poor_persons: at.q,
                poor_households: at.q_units,
                h: at.h,
                a: at.a,
                m0: at.m0,
                hd: g.hd.clone(),
            };
            let round = g.year.unwrap_or(0);
            match (g.by, g.group) {
                (Some(c), Some(v)) => {
                    let key = (est.by[c].name.clone(), est.by[c].values[v].clone());
                    groups.entry(key).or_insert_with(|| vec![None; n_rounds])[round] =
                        Some(figures);
                }
                _ => total[round] = Some(figures),
            }
        }
        Ok(Measures {
            spec_id: spec.id.clone(),
            spec_version: spec.version,
            provisional: spec.provisional,
            cutoff_label: est
                .cutoffs()
                .first()
                .map(|c| c.label.clone())
                .unwrap_or_default(),
            rounds,
            total,
            groups,
            units_dropped: run.report.units_dropped_incomplete,
        })
    }

    /// An area's or a zone's figures per round (`None` in rounds where it had no household).
    pub fn group(&self, grouping: Grouping, value: &str) -> Option<&[Option<Figures>]> {
        self.groups
            .get(&(grouping.name().to_string(), value.to_string()))
            .map(Vec::as_slice)
    }

    /// The latest round's index, if any round has figures.
    pub fn latest(&self) -> Option<usize> {
        self.total.iter().rposition(Option::is_some)
    }
}

/// The live snapshot and its figures, shared by every request.
pub struct Live {
    snapshot: Arc<LiveSnapshot>,
    /// The figures computed after the last change the snapshot took in.
    measures: RwLock<Arc<Measures>>,
    /// How many times the figures have been recomputed: views derived from the registry
    /// (the target panel) compare it to know they are stale.
    generation: std::sync::atomic::AtomicU64,
}

impl Live {
    pub async fn build(store: &Store, spec: &Spec) -> Result<Live, WebError> {
        let options = MeasureOptions {
            by: GROUPINGS.to_vec(),
            ..MeasureOptions::default()
        };
        let snapshot = LiveSnapshot::new(store, spec.clone(), options).await?;
        let measures = Arc::new(Measures::from_snapshot(&*snapshot.read().await?)?);
        Ok(Live {
            snapshot,
            measures: RwLock::new(measures),
            generation: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The figures as of every commit made so far. They are recomputed only when the
    /// store's change feed brought something (or another process wrote); otherwise every
    /// request shares the same ones and reading a page never runs the engine.
    pub async fn measures(&self) -> Result<Arc<Measures>, WebError> {
        let caught = self.snapshot.catch_up().await?;
        if caught != CatchUp::default() {
            let snapshot = self.snapshot.as_caught_up().await;
            let fresh = Arc::new(Measures::from_snapshot(&snapshot)?);
            *self.measures.write().await = fresh;
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(self.measures.read().await.clone())
    }

    /// Bumped each time the figures are recomputed after a change.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The assessment rounds of the registry, oldest first.
pub async fn rounds(store: &Store) -> Result<Vec<AssessmentRound>, WebError> {
    Ok(store.rounds().await?)
}

/// Runs a future that is not `Send` to completion on a blocking thread of the runtime, so that
/// a handler's own future stays `Send` as axum requires. The import is such a future (its
/// parser thread and progress reporting are not `Send`), and heavy enough to deserve a
/// thread of its own anyway.
pub async fn off_thread<T, F, Fut>(make: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, WebError>>,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(make()))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}
