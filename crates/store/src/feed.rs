//! The change feed: what each committed transaction changed, told to whoever keeps a view of
//! the registry in memory (the live measurement snapshot above all), so that the view can be
//! patched instead of read again from the database.
//!
//! A [`Tx`](crate::Tx) notes its changes as it writes and publishes them only once its commit
//! has succeeded: a rolled-back or dropped transaction tells nobody anything. Publishing
//! happens before `commit` returns, so a reader in the same process that drains its
//! [`Subscription`] after a write sees that write (read-your-writes). The feed is in-process:
//! another process writing to the same database (a `halve import` beside `halve serve`) is not
//! seen; views that care compare [`Store::audit_head`](crate::Store::audit_head) to notice.

use std::sync::Arc;

use halve_domain::Assessment;
use tokio::sync::broadcast;

/// Commits kept for slow subscribers before they are told they lagged.
const CAPACITY: usize = 256;
/// A transaction that writes more assessments than this is published as one
/// [`Change::Registry`]: rebuilding is then cheaper than patching one by one.
pub const MAX_PATCHES: usize = 10_000;

/// One committed change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// An assessment was written (new, or with other values) and committed.
    Assessment(Assessment),
    /// Other records changed (`entity` names the table): views built on them must be rebuilt.
    Registry { entity: &'static str },
    /// The transaction wrote audit entries (an account, a definition, or any of the above):
    /// the audit log's head moved because of this process, not another one.
    Audited,
}

/// The sending side, shared by a [`Store`](crate::Store) and its transactions.
#[derive(Clone, Debug)]
pub(crate) struct Feed {
    sender: broadcast::Sender<Arc<[Change]>>,
}

impl Feed {
    pub(crate) fn new() -> Feed {
        Feed {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
        }
    }

    pub(crate) fn publish(&self, changes: Vec<Change>) {
        if !changes.is_empty() {
            // No subscriber is not an error: nobody keeps a view.
            let _ = self.sender.send(changes.into());
        }
    }
}

/// Changes noted by an open transaction, published on commit.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    changes: Vec<Change>,
    assessments: usize,
}

impl Pending {
    pub(crate) fn assessments(&mut self, written: &[Assessment]) {
        self.assessments += written.len();
        if self.assessments > MAX_PATCHES {
            self.changes.retain(|c| !matches!(c, Change::Assessment(_)));
            self.registry("assessment");
        } else {
            self.changes
                .extend(written.iter().cloned().map(Change::Assessment));
        }
    }

    pub(crate) fn registry(&mut self, entity: &'static str) {
        let change = Change::Registry { entity };
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    pub(crate) fn audited(&mut self) {
        if !self.changes.contains(&Change::Audited) {
            self.changes.push(Change::Audited);
        }
    }

    pub(crate) fn take(&mut self) -> Vec<Change> {
        self.assessments = 0;
        std::mem::take(&mut self.changes)
    }
}

/// What a subscriber missed by reading too slowly: it must rebuild its view from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the change feed moved on without this subscriber ({0} commits missed)")]
pub struct Lagged(pub u64);

/// The receiving side: every commit after [`Store::subscribe`](crate::Store::subscribe), in
/// order.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<[Change]>>,
}

impl Subscription {
    /// The next commit's changes if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Result<Option<Arc<[Change]>>, Lagged> {
        match self.receiver.try_recv() {
            Ok(changes) => Ok(Some(changes)),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed) => {
                Ok(None)
            }
            Err(broadcast::error::TryRecvError::Lagged(n)) => Err(Lagged(n)),
        }
    }

    /// Waits for the next commit's changes; `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Result<Arc<[Change]>, Lagged>> {
        match self.receiver.recv().await {
            Ok(changes) => Some(Ok(changes)),
            Err(broadcast::error::RecvError::Closed) => None,
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(Lagged(n))),
        }
    }
}
