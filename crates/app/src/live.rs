//! The live measurement snapshot: a [`RegistrySnapshot`] that follows the store's change feed,
//! so that every read sees every committed write without reading the registry again.
//!
//! A read first drains the feed: each committed assessment is patched in
//! ([`RegistrySnapshot::apply_assessment`]: in place when the household keeps its cells, by a
//! layout from the rows in memory otherwise). Anything the snapshot cannot take by patching
//! (a change to households, persons or rounds; a feed that moved on without us; an audit log
//! that grew with no change on our feed, i.e. another process wrote) makes the next read
//! rebuild from the store. Since the store publishes before a commit returns, a write followed
//! by a read in the same process always sees the write; another process's write is seen
//! within [`HEAD_INTERVAL`] (the audit head is not read on every one of hundreds of reads per
//! second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use halve_measure::Spec;
use halve_store::{Change, Store, Subscription};
use tokio::sync::{Mutex, RwLock, RwLockReadGuard};

use crate::error::AppError;
use crate::measure::{MeasureOptions, RegistrySnapshot};

/// How a read caught up with the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Assessments patched in.
    pub patched: usize,
    /// Whether the snapshot was rebuilt from the store.
    pub rebuilt: bool,
}

/// A registry snapshot kept current by the store's change feed. Cheap to share: clone the
/// `Arc` it comes in.
pub struct LiveSnapshot {
    store: Store,
    spec: Spec,
    options: MeasureOptions,
    snapshot: RwLock<RegistrySnapshot>,
    /// The feed, the audit head the snapshot reflects (to notice other processes), and when
    /// that head was last read.
    follow: Mutex<(Subscription, i64, Option<Instant>)>,
    /// How often, at most, a read asks the database for the audit head: reads come in the
    /// hundreds per second under load, and another process's write may wait this long.
    head_interval: Duration,
}

/// The default of [`LiveSnapshot::set_head_interval`].
pub const HEAD_INTERVAL: Duration = Duration::from_secs(1);

impl LiveSnapshot {
    /// Builds the snapshot and starts following the store. The subscription is taken first,
    /// so a write that lands while the registry is being read is applied again afterwards
    /// (harmless: patching sets values, it does not add them).
    pub async fn new(
        store: &Store,
        spec: Spec,
        options: MeasureOptions,
    ) -> Result<Arc<LiveSnapshot>, AppError> {
        let subscription = store.subscribe();
        let head = store.audit_head().await?;
        let snapshot = RegistrySnapshot::build(store, &spec, &options).await?;
        Ok(Arc::new(LiveSnapshot {
            store: store.clone(),
            spec,
            options,
            snapshot: RwLock::new(snapshot),
            follow: Mutex::new((subscription, head, Some(Instant::now()))),
            head_interval: HEAD_INTERVAL,
        }))
    }

    /// Like [`LiveSnapshot::new`], checking the audit head for other processes' writes at most
    /// once per `interval` (zero: on every read).
    pub async fn with_head_interval(
        store: &Store,
        spec: Spec,
        options: MeasureOptions,
        interval: Duration,
    ) -> Result<Arc<LiveSnapshot>, AppError> {
        let live = LiveSnapshot::new(store, spec, options).await?;
        let mut live = Arc::into_inner(live).expect("just made");
        live.head_interval = interval;
        Ok(Arc::new(live))
    }

    /// The snapshot, current with every commit made before this call.
    pub async fn read(&self) -> Result<RwLockReadGuard<'_, RegistrySnapshot>, AppError> {
        self.catch_up().await?;
        Ok(self.snapshot.read().await)
    }

    /// The snapshot as of the last [`LiveSnapshot::catch_up`], without catching up again
    /// (for a caller that has just done so).
    pub async fn as_caught_up(&self) -> RwLockReadGuard<'_, RegistrySnapshot> {
        self.snapshot.read().await
    }

    /// Applies what the feed has brought since the last read; rebuilds when patching cannot
    /// do. Returns what it did.
    pub async fn catch_up(&self) -> Result<CatchUp, AppError> {
        let mut follow = self.follow.lock().await;
        let (subscription, seen_head, checked) = &mut *follow;
        let mut patches = Vec::new();
        let mut rebuild = false;
        let mut audited_here = false;
        loop {
            match subscription.try_next() {
                Ok(Some(changes)) => {
                    for change in changes.iter() {
                        match change {
                            Change::Assessment(a) => patches.push(a.clone()),
                            Change::Registry { .. } => rebuild = true,
                            Change::Audited => audited_here = true,
                        }
                    }
                }
                Ok(None) => break,
                Err(_lagged) => rebuild = true,
            }
        }
        let due = checked.is_none_or(|at| at.elapsed() >= self.head_interval);
        if due || !patches.is_empty() || rebuild || audited_here {
            let head = self.store.audit_head().await?;
            // Our own writes are audited too; only a head that moved without anything on our
            // feed means someone else wrote.
            if head != *seen_head && patches.is_empty() && !rebuild && !audited_here {
                rebuild = true;
            }
            *seen_head = head;
            *checked = Some(Instant::now());
        }
        if !rebuild && patches.is_empty() {
            return Ok(CatchUp::default());
        }
        let mut snapshot = self.snapshot.write().await;
        if !rebuild {
            for a in &patches {
                // A household or round the snapshot has never seen needs the store.
                if snapshot.apply_assessment(a).is_err() {
                    rebuild = true;
                    break;
                }
            }
        }
        if rebuild {
            *snapshot = RegistrySnapshot::build(&self.store, &self.spec, &self.options).await?;
            return Ok(CatchUp {
                patched: 0,
                rebuilt: true,
            });
        }
        Ok(CatchUp {
            patched: patches.len(),
            rebuilt: false,
        })
    }
}
