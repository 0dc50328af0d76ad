//! Progress reporting for long work (imports, exports, the demo), without tying the
//! application layer to a terminal: the CLI draws bars, tests and the web app count or ignore.

/// Receives progress of one long task at a time.
pub trait Progress: Send + Sync {
    /// A new phase begins, with its total number of units if known (bytes, rows).
    fn start(&self, label: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The phase is over.
    fn finish(&self);
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
