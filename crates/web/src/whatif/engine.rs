//! The what-if engine: a measurement snapshot of its own, grouped only as the what-if page
//! shows its figures (province, district, eco-zone), and a per-household index for choosing
//! households (village, the flags of its members, its deprivations in the latest round).
//!
//! The snapshot follows the store's change feed like the dashboard's
//! ([`halve_app::live::LiveSnapshot`]). The index is read from the store once and then follows
//! the feed too: an assessment recorded in the latest round patches one household's bits, any
//! other change (or a write by another process, which the snapshot notices) reads it again.
//! Both are per [`AppState`], made on the first what-if and kept while the state lives.
//!
//! Nothing here writes: a what-if runs on copies of the snapshot's columns
//! ([`RegistrySnapshot::what_if`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, Weak};

use halve_app::live::LiveSnapshot;
use halve_app::measure::{
    Grouping, MeasureOptions, RegistrySnapshot, RegistryWhatIf, deprivation_profile,
};
use halve_domain::{AreaCode, Assessment, BeYear, Key, VulnerabilityFlag};
use halve_measure::{Cutoff, Run, Spec};
use halve_store::{Change, Store, Subscription};
use tokio::sync::{Mutex, OnceCell, RwLockReadGuard};

use crate::AppState;
use crate::error::WebError;
use crate::live::{Figures, off_thread};

/// The groupings of the what-if's snapshot: the province (the whole) and the two breakdowns
/// the page shows. Fewer groupings than the dashboard's mean fewer, larger cells, so a
/// what-if scans faster.
pub const GROUPINGS: [Grouping; 3] = [Grouping::Province, Grouping::District, Grouping::EcoZone];

/// The bit of a flag in [`Household::flags`].
pub fn flag_bit(flag: VulnerabilityFlag) -> u16 {
    let i = VulnerabilityFlag::ALL
        .iter()
        .position(|f| *f == flag)
        .expect("every flag is in ALL");
    1 << i
}

/// One household as the selection sees it.
#[derive(Clone, Debug)]
pub struct Household {
    pub key: Key,
    /// Index into [`Index::villages`].
    pub village: u32,
    /// The flags of the persons registered in it now ([`flag_bit`]).
    pub flags: u16,
    /// Its deprivations in the latest round under the server's spec; `None` when it was not
    /// assessed then or a value the spec reads is missing (it is not measured).
    pub bits: Option<u32>,
}

/// Every household, for choosing the ones a what-if lifts.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// The latest round (Buddhist Era year), if any.
    pub latest: Option<BeYear>,
    pub villages: Vec<AreaCode>,
    pub households: Vec<Household>,
    by_key: HashMap<Key, u32>,
}

impl Index {
    async fn read(store: &Store, spec: &Spec) -> Result<Index, WebError> {
        let latest = store.rounds().await?.iter().map(|r| r.year).max();
        let mut index = Index {
            latest,
            ..Index::default()
        };
        let mut village_of: HashMap<AreaCode, u32> = HashMap::new();
        store
            .for_each_household(&mut |h| {
                let next = village_of.len() as u32;
                let village = *village_of.entry(h.village).or_insert(next);
                if village == next {
                    index.villages.push(h.village);
                }
                index
                    .by_key
                    .insert(h.house_code.clone(), index.households.len() as u32);
                index.households.push(Household {
                    key: h.house_code,
                    village,
                    flags: 0,
                    bits: None,
                });
                Ok(())
            })
            .await?;
        let mut household_of: HashMap<Key, u32> = HashMap::new();
        store
            .for_each_person(&mut |p| {
                if let Some(&h) = index.by_key.get(&p.household) {
                    household_of.insert(p.person_code, h);
                }
                Ok(())
            })
            .await?;
        store
            .for_each_flag(&mut |f| {
                if let Some(&h) = household_of.get(&f.person_code) {
                    index.households[h as usize].flags |= flag_bit(f.flag);
                }
                Ok(())
            })
            .await?;
        drop(household_of);
        store
            .for_each_assessment(&mut |a| {
                if Some(a.round) == index.latest {
                    index.patch(spec, &a);
                }
                Ok(())
            })
            .await?;
        Ok(index)
    }

    /// Takes an assessment of the latest round in; others do not concern the selection.
    fn patch(&mut self, spec: &Spec, a: &Assessment) {
        if Some(a.round) != self.latest {
            return;
        }
        if let Some(&h) = self.by_key.get(&a.household) {
            // A value the spec cannot read leaves the household unmeasured, as the snapshot
            // does (it refuses the whole registry then, so this does not arise in practice).
            self.households[h as usize].bits = deprivation_profile(spec, a).ok().flatten();
        }
    }
}

/// The snapshot and the index of one app.
pub struct Engine {
    live: Arc<LiveSnapshot>,
    spec: Spec,
    store: Store,
    index: Mutex<IndexState>,
}

struct IndexState {
    feed: Subscription,
    index: Option<Arc<Index>>,
}

/// One engine per live [`AppState`]: the state has no slot for it, so engines are kept here,
/// keyed by a weak pointer (a state dropped and another made at the same address is not
/// mistaken for it).
type Engines = Vec<(Weak<AppState>, Arc<OnceCell<Arc<Engine>>>)>;
static ENGINES: StdMutex<Engines> = StdMutex::new(Vec::new());

/// The engine of `state`, made on first use.
pub async fn engine(state: &Arc<AppState>) -> Result<Arc<Engine>, WebError> {
    let cell = {
        let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
        engines.retain(|(weak, _)| weak.strong_count() > 0);
        let me = Arc::downgrade(state);
        match engines.iter().find(|(weak, _)| weak.ptr_eq(&me)) {
            Some((_, cell)) => cell.clone(),
            None => {
                let cell = Arc::new(OnceCell::new());
                engines.push((me, cell.clone()));
                cell
            }
        }
    };
    let engine = cell
        .get_or_try_init(|| {
            let (store, spec, zones) = (
                state.store.clone(),
                state.config.spec.clone(),
                state.zones.clone(),
            );
            async move {
                let options = MeasureOptions {
                    by: GROUPINGS.to_vec(),
                    zone_sets: vec![zones],
                    ..MeasureOptions::default()
                };
                let feed = store.subscribe();
                let live = {
                    let (store, spec) = (store.clone(), spec.clone());
                    off_thread(move || async move {
                        Ok(LiveSnapshot::new(&store, spec, options).await?)
                    })
                    .await?
                };
                Ok::<_, WebError>(Arc::new(Engine {
                    live,
                    spec,
                    store,
                    index: Mutex::new(IndexState { feed, index: None }),
                }))
            }
        })
        .await?;
    Ok(engine.clone())
}

/// The snapshot and index of one request, both caught up with every commit made before it.
pub struct Current<'a> {
    pub snapshot: RwLockReadGuard<'a, RegistrySnapshot>,
    pub index: Arc<Index>,
}

impl Engine {
    /// Catches the snapshot and the index up with the store.
    pub async fn current(&self) -> Result<Current<'_>, WebError> {
        let caught = self.live.catch_up().await?;
        let mut state = self.index.lock().await;
        let mut rebuild = caught.rebuilt || state.index.is_none();
        let mut patches = Vec::new();
        loop {
            match state.feed.try_next() {
                Ok(Some(changes)) => {
                    for change in changes.iter() {
                        match change {
                            Change::Assessment(a) => patches.push(a.clone()),
                            Change::Registry { .. } => rebuild = true,
                            Change::Audited => {}
                        }
                    }
                }
                Ok(None) => break,
                Err(_lagged) => rebuild = true,
            }
        }
        if rebuild {
            // Subscribed before reading, so a write that lands meanwhile is patched again
            // next time (harmless: a patch sets, it does not add).
            state.feed = self.store.subscribe();
            let (store, spec) = (self.store.clone(), self.spec.clone());
            let index = off_thread(move || async move { Index::read(&store, &spec).await }).await?;
            state.index = Some(Arc::new(index));
        } else if !patches.is_empty() {
            let index = state.index.as_mut().expect("read above");
            // In place when no request holds it; otherwise on a copy, which later requests get.
            let index = Arc::make_mut(index);
            for a in &patches {
                index.patch(&self.spec, a);
            }
        }
        let index = state.index.clone().expect("read above");
        drop(state);
        Ok(Current {
            snapshot: self.live.as_caught_up().await,
            index,
        })
    }
}

/// Figures of one run, per round, for the whole and per (grouping, value).
#[derive(Debug, Default)]
pub struct Table {
    /// Round labels, oldest first.
    pub rounds: Vec<String>,
    pub total: Vec<Option<Figures>>,
    pub groups: HashMap<(String, String), Vec<Option<Figures>>>,
    pub cutoff_label: String,
}

impl Table {
    /// The figures of `run` at its first cutoff.
    pub fn of(run: &Run) -> Table {
        let est = &run.estimates;
        let rounds: Vec<String> = est.years.iter().map(|y| y.label.clone()).collect();
        let n = rounds.len().max(1);
        let mut table = Table {
            total: vec![None; n],
            rounds,
            groups: HashMap::new(),
            cutoff_label: est
                .cutoffs()
                .first()
                .map(|c| c.label.clone())
                .unwrap_or_default(),
        };
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
                    table.groups.entry(key).or_insert_with(|| vec![None; n])[round] = Some(figures);
                }
                _ => table.total[round] = Some(figures),
            }
        }
        table
    }

    /// A round's figures by its label.
    pub fn total_of(&self, round: &str) -> Option<&Figures> {
        let r = self.rounds.iter().position(|l| l == round)?;
        self.total.get(r)?.as_ref()
    }

    /// A group's figures in a round, by the round's label.
    pub fn group_of(&self, grouping: Grouping, value: &str, round: &str) -> Option<&Figures> {
        let r = self.rounds.iter().position(|l| l == round)?;
        self.groups
            .get(&(grouping.name().to_string(), value.to_string()))?
            .get(r)?
            .as_ref()
    }
}

/// The live figures (the spec's own cutoff and weights) and the figures under `change`,
/// from the same snapshot.
pub fn run_pair(
    snapshot: &RegistrySnapshot,
    change: &RegistryWhatIf,
) -> Result<(Table, Table), WebError> {
    let now = snapshot.run(None)?;
    let what_if = snapshot.what_if(change)?;
    Ok((Table::of(&now), Table::of(&what_if)))
}

/// Poor households in `round` at `cutoff` under the spec's weights, without and with the
/// lifts of `change`: what the target's `poor` term sees of the intervention. `change` is
/// borrowed mutably only to run its lifts under other rules without copying the household
/// list; it is as it was on return.
pub fn poor_households_at(
    snapshot: &RegistrySnapshot,
    cutoff: &Cutoff,
    change: &mut RegistryWhatIf,
    round: BeYear,
) -> Result<Option<(u64, u64)>, WebError> {
    let before = snapshot.run(Some(vec![cutoff.clone()]))?;
    let cutoffs = change.cutoffs.replace(vec![cutoff.clone()]);
    let weights = change.weights.take();
    let after = snapshot.what_if(change);
    change.cutoffs = cutoffs;
    change.weights = weights;
    let label = round.be().to_string();
    let (before, after) = (Table::of(&before), Table::of(&after?));
    Ok(before
        .total_of(&label)
        .zip(after.total_of(&label))
        .map(|(b, a)| (b.poor_households, a.poor_households)))
}
