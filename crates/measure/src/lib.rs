//! The measurement engine of halve: Alkire–Foster multidimensional poverty, computed the way
//! OPHI computes it, exactly at the cutoff and fast enough for a whole country.
//!
//! A [`Spec`] (versioned TOML data) names the indicators, their deprivation rules, weights and
//! cutoffs. Bound to a table's header it turns records into a [`Snapshot`]: bit-packed
//! deprivation profiles sorted by round and subgroup. [`estimate`] scans the snapshot once for
//! every round, subgroup and cutoff; [`changes`] compares rounds; [`Report`] flattens it all
//! into records with the spec id and version attached, and renders JSON, CSV or a table.
//!
//! This crate reads no files and knows no database or HTTP: callers hand it text and records.

pub mod change;
pub mod data;
pub mod engine;
pub mod panel;
pub mod progress;
pub mod rational;
pub mod report;
mod sliced;
pub mod snapshot;
pub mod spec;
pub mod target;

pub use change::{Change, ChangeKind, changes, group_changes};
pub use data::{Columns, DataError, Loader, load};
pub use engine::{
    AtCutoff, ClearBits, EngineError, Estimates, GroupEstimate, Method, Scoring, WhatIf, estimate,
    estimate_with_threads, what_if,
};
pub use panel::{
    Class, Flow, Panel, PanelBuilder, PanelCounts, PanelError, PanelRules, PanelView, State,
    classes_of, classify,
};
pub use progress::{Outlook, ProgressReport, ProgressRow, Status, outlook};
pub use rational::{Ratio, RatioError};
pub use report::{ChangeRecord, Lang, Report, ResultRecord, write_table};
pub use snapshot::{BuildError, Cell, GroupColumn, Layout, Snapshot, SnapshotBuilder, Year};
pub use spec::{Cutoff, CutoffError, Spec, SpecError};
pub use target::{Target, TargetError, Term};

/// Parses a comma-separated list of cutoffs in percent, e.g. `20,33.33,100/3`.
pub fn parse_cutoffs(text: &str) -> Result<Vec<Cutoff>, CutoffError> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Cutoff::parse)
        .collect()
}

/// A finished measure run: the estimates and their report.
#[derive(Debug, Clone)]
pub struct Run {
    pub estimates: Estimates,
    pub report: Report,
}

/// Estimates everything for `snapshot` under `spec`, with `cutoffs` instead of the spec's own
/// when given, and builds the report.
pub fn run(
    spec: &Spec,
    snapshot: &Snapshot,
    cutoffs: Option<Vec<Cutoff>>,
) -> Result<Run, EngineError> {
    let method = Method::from_spec(spec, cutoffs)?;
    let estimates = estimate(snapshot, &method)?;
    let report = Report::new(spec, snapshot, &estimates);
    Ok(Run { estimates, report })
}
