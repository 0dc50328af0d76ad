//! Writing and reading the registry.
//!
//! Writes go through a [`Tx`]: a transaction that the importer fills batch by batch and then
//! commits, or drops to leave the database exactly as it was. Every write is an upsert that
//! touches a row only when a value differs, which makes a repeated import a no-op and lets it
//! report what it changed. Reads stream rows in key order (bytewise, on both backends), so an
//! export of the same registry is the same bytes everywhere.

use crate::rows::{self, RowGet};
use crate::{Backend, Inner, Store, StoreError, dispatch};
use futures_util::TryStreamExt;
use halve_domain::{
    Assessment, AssessmentRound, EcoZoneSet, Household, MembershipEvent, Person, PersonFlag,
    Village, WelfareCard,
};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

/// A value bound into a statement; the subset of types both backends encode the same way.
/// Text borrows from the rows being written where it can, so a batch is not copied before
/// it is bound.
#[derive(Debug)]
enum Val<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
}

fn text<'a>(s: impl Into<Cow<'a, str>>) -> Val<'a> {
    Val::Text(Some(s.into()))
}

fn opt_text<'a>(s: Option<impl Into<Cow<'a, str>>>) -> Val<'a> {
    Val::Text(s.map(Into::into))
}

/// The SQL type of a column, for PostgreSQL's typed arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
    Real,
    Bool,
}

impl Ty {
    fn pg_array(self) -> &'static str {
        match self {
            Ty::Text => "text[]",
            Ty::Int => "int8[]",
            Ty::Real => "float8[]",
            Ty::Bool => "bool[]",
        }
    }
}

/// One upsertable table: its columns, of which the first `key` form the primary key.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    types: &'static [Ty],
    key: usize,
}

const VILLAGE: Table = Table {
    name: "village",
    columns: &["code", "subdistrict", "name_th", "name_en"],
    types: &[Ty::Text, Ty::Text, Ty::Text, Ty::Text],
    key: 1,
};
const HOUSEHOLD: Table = Table {
    name: "household",
    columns: &["house_code", "village", "address", "lat", "lon"],
    types: &[Ty::Text, Ty::Text, Ty::Text, Ty::Real, Ty::Real],
    key: 1,
};
const PERSON: Table = Table {
    name: "person",
    columns: &[
        "person_code",
        "house_code",
        "citizen_id",
        "first_name",
        "last_name",
        "sex",
        "birth_date",
        "relation",
        "education",
        "occupation",
        "income_satang",
        "disability",
        "chronic_illness",
        "bedridden",
    ],
    types: &[
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Text,
        Ty::Int,
        Ty::Bool,
        Ty::Bool,
        Ty::Bool,
    ],
    key: 1,
};
const FLAG: Table = Table {
    name: "person_flag",
    columns: &["person_code", "flag", "as_of", "source"],
    types: &[Ty::Text, Ty::Text, Ty::Text, Ty::Text],
    key: 3,
};
const WELFARE: Table = Table {
    name: "welfare_card",
    columns: &["person_code", "as_of", "status", "source"],
    types: &[Ty::Text, Ty::Text, Ty::Text, Ty::Text],
    key: 2,
};
const EVENT: Table = Table {
    name: "membership_event",
    columns: &["person_code", "kind", "event_date", "house_code", "note"],
    types: &[Ty::Text, Ty::Text, Ty::Text, Ty::Text, Ty::Text],
    key: 3,
};
const ROUND: Table = Table {
    name: "assessment_round",
    columns: &["year", "round_date", "label"],
    types: &[Ty::Int, Ty::Text, Ty::Text],
    key: 1,
};
const ASSESSMENT: Table = Table {
    name: "assessment",
    columns: &["round_year", "house_code", "assessed_on", "members", "vals"],
    types: &[Ty::Int, Ty::Text, Ty::Text, Ty::Int, Ty::Text],
    key: 2,
};

/// Most parameters one SQLite statement may carry: under its limit of 32,766.
const MAX_PARAMS: usize = 30_000;
/// Rows per SQLite statement: more stop paying off and make the SQL text long (25, 100 and
/// 400 measured alike within noise; see bench/import-results.md). The page cache is left at
/// its default: a larger one (64 or 256 MiB) made bulk imports no faster, only bigger.
const SQLITE_ROWS_PER_STATEMENT: usize = 100;
/// Rows per PostgreSQL statement: one array parameter per column, so the limit is only the
/// size of one message.
const PG_ROWS_PER_STATEMENT: usize = 5_000;

impl Table {
    /// `INSERT … VALUES (…),(…) ON CONFLICT (key) DO UPDATE SET … WHERE <something differs>`.
    ///
    /// SQLite gets anonymous `?` parameters: the driver looks numbered ones up by name, one
    /// linear scan per parameter, which made wide multi-row statements quadratic.
    fn upsert_sql(&self, rows: usize, backend: Backend) -> String {
        let n = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.name,
            self.columns.join(", ")
        );
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..n {
                if c > 0 {
                    sql.push(',');
                }
                match backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => sql.push_str(&format!("${}", r * n + c + 1)),
                }
            }
            sql.push(')');
        }
        sql.push_str(&self.on_conflict());
        sql
    }

    /// PostgreSQL: `INSERT … SELECT * FROM UNNEST($1::text[], …) ON CONFLICT …`, one array
    /// parameter per column, so a statement of any number of rows has the same text (one
    /// prepared statement) and binds a handful of parameters.
    fn unnest_sql(&self) -> String {
        let arrays: Vec<String> = self
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("${}::{}", i + 1, t.pg_array()))
            .collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){}",
            self.name,
            self.columns.join(", "),
            arrays.join(", "),
            self.on_conflict()
        )
    }

    fn on_conflict(&self) -> String {
        let key = self.columns[..self.key].join(", ");
        let rest = &self.columns[self.key..];
        if rest.is_empty() {
            format!(" ON CONFLICT ({key}) DO NOTHING")
        } else {
            let set: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
            let differs: Vec<String> = rest
                .iter()
                .map(|c| format!("{}.{c} IS DISTINCT FROM excluded.{c}", self.name))
                .collect();
            format!(
                " ON CONFLICT ({key}) DO UPDATE SET {} WHERE {}",
                set.join(", "),
                differs.join(" OR ")
            )
        }
    }
}

/// How many rows of each kind a store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub villages: i64,
    pub households: i64,
    pub persons: i64,
    pub flags: i64,
    pub welfare_cards: i64,
    pub events: i64,
    pub rounds: i64,
    pub assessments: i64,
}

/// One line of the audit log: who did what to which record, and when. `before` and `after`
/// are JSON texts; the log is only ever appended to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// UTC time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An audit log row as read: at, actor, action, entity, entity key, before, after.
type AuditRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// An open write transaction. Dropping it without [`Tx::commit`] rolls everything back.
pub struct Tx {
    pub(crate) inner: TxInner,
    feed: crate::feed::Feed,
    /// What this transaction changed, published to the feed once it commits.
    pending: crate::feed::Pending,
}

pub(crate) enum TxInner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Store {
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match &self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(pool) => TxInner::Sqlite(pool.begin().await?),
            #[cfg(feature = "postgres")]
            Inner::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            feed: self.feed.clone(),
            pending: Default::default(),
        })
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let mut n = [0i64; 8];
        let tables = [
            "village",
            "household",
            "person",
            "person_flag",
            "welfare_card",
            "membership_event",
            "assessment_round",
            "assessment",
        ];
        for (slot, table) in n.iter_mut().zip(tables) {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            *slot = dispatch!(&self.inner, Inner, pool => {
                let (c,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
                c
            });
        }
        Ok(Counts {
            villages: n[0],
            households: n[1],
            persons: n[2],
            flags: n[3],
            welfare_cards: n[4],
            events: n[5],
            rounds: n[6],
            assessments: n[7],
        })
    }

    /// Streams every row of a query through `map` into `sink`, in the query's order.
    async fn stream<T>(
        &self,
        sql: &str,
        map: fn(&dyn RowGet) -> Result<T, StoreError>,
        sink: &mut (dyn FnMut(T) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = self.dialect(sql);
        dispatch!(&self.inner, Inner, pool => {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                sink(map(&row)?)?;
            }
        });
        Ok(())
    }

    pub async fn for_each_village(
        &self,
        sink: &mut (dyn FnMut(Village) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM village ORDER BY code{{{{C}}}}",
            rows::VILLAGE_COLUMNS
        );
        self.stream(&sql, |r| rows::village_from_row(r), sink).await
    }

    pub async fn for_each_household(
        &self,
        sink: &mut (dyn FnMut(Household) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM household ORDER BY house_code{{{{C}}}}",
            rows::HOUSEHOLD_COLUMNS
        );
        self.stream(&sql, |r| rows::household_from_row(r), sink)
            .await
    }

    pub async fn for_each_person(
        &self,
        sink: &mut (dyn FnMut(Person) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM person ORDER BY person_code{{{{C}}}}",
            rows::PERSON_COLUMNS
        );
        self.stream(&sql, |r| rows::person_from_row(r), sink).await
    }

    pub async fn for_each_flag(
        &self,
        sink: &mut (dyn FnMut(PersonFlag) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM person_flag ORDER BY person_code{{{{C}}}}, flag{{{{C}}}}, as_of",
            rows::FLAG_COLUMNS
        );
        self.stream(&sql, |r| rows::flag_from_row(r), sink).await
    }

    pub async fn for_each_welfare_card(
        &self,
        sink: &mut (dyn FnMut(WelfareCard) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM welfare_card ORDER BY person_code{{{{C}}}}, as_of",
            rows::WELFARE_COLUMNS
        );
        self.stream(&sql, |r| rows::welfare_from_row(r), sink).await
    }

    pub async fn for_each_event(
        &self,
        sink: &mut (dyn FnMut(MembershipEvent) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM membership_event \
             ORDER BY person_code{{{{C}}}}, event_date, kind{{{{C}}}}",
            rows::EVENT_COLUMNS
        );
        self.stream(&sql, |r| rows::event_from_row(r), sink).await
    }

    pub async fn rounds(&self) -> Result<Vec<AssessmentRound>, StoreError> {
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {} FROM assessment_round ORDER BY year",
            rows::ROUND_COLUMNS
        );
        self.stream(&sql, |r| rows::round_from_row(r), &mut |r| {
            out.push(r);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Assessments by round, then house code.
    pub async fn for_each_assessment(
        &self,
        sink: &mut (dyn FnMut(Assessment) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {} FROM assessment ORDER BY round_year, house_code{{{{C}}}}",
            rows::ASSESSMENT_COLUMNS
        );
        self.stream(&sql, |r| rows::assessment_from_row(r), sink)
            .await
    }

    /// The id of the newest audit entry (0 when there is none). Every write of the registry
    /// is audited, so a view that remembers this number can tell, cheaply, whether another
    /// process has written since.
    pub async fn audit_head(&self) -> Result<i64, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let (head,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM audit_log")
                .fetch_one(pool)
                .await?;
            Ok(head.unwrap_or(0))
        })
    }

    /// Every commit from now on, as it happens (see [`crate::Subscription`]).
    pub fn subscribe(&self) -> crate::Subscription {
        self.feed.subscribe()
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let rows: Vec<AuditRow> =
                sqlx::query_as(
                    "SELECT at, actor, action, entity, entity_key, before_value, after_value \
                     FROM audit_log ORDER BY id",
                )
                .fetch_all(pool)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(at, actor, action, entity, entity_key, before, after)| AuditEntry {
                    at,
                    actor,
                    action,
                    entity,
                    entity_key,
                    before,
                    after,
                })
                .collect())
        })
    }

    /// Stores an eco-zone set unless one for the same province and date exists; returns
    /// whether it was stored. Zone sets are versions: an existing one is never rewritten.
    pub async fn add_ecozone_set(&self, set: &EcoZoneSet) -> Result<bool, StoreError> {
        let province = set.province.to_string();
        let valid_from = set.valid_from.to_iso_ce();
        dispatch!(&self.inner, Inner, pool => {
            let mut tx = pool.begin().await?;
            let existing: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM ecozone_set WHERE province = $1 AND valid_from = $2",
            )
            .bind(&province)
            .bind(&valid_from)
            .fetch_optional(&mut *tx)
            .await?;
            if existing.is_some() {
                return Ok(false);
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO ecozone_set (province, valid_from, provisional, source) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&province)
            .bind(&valid_from)
            .bind(set.provisional)
            .bind(&set.source)
            .fetch_one(&mut *tx)
            .await?;
            for zone in &set.zones {
                sqlx::query("INSERT INTO ecozone (set_id, code, name_th, name_en) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(&zone.code)
                    .bind(&zone.name_th)
                    .bind(&zone.name_en)
                    .execute(&mut *tx)
                    .await?;
                for area in zone.districts.iter().chain(&zone.subdistricts) {
                    sqlx::query("INSERT INTO ecozone_area (set_id, area_code, zone_code) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(area.to_string())
                        .bind(&zone.code)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// (province, valid_from as CE ISO date, zone count) of every stored eco-zone set.
    pub async fn ecozone_sets(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            Ok(sqlx::query_as(
                "SELECT s.province, s.valid_from, COUNT(z.code) FROM ecozone_set s \
                 LEFT JOIN ecozone z ON z.set_id = s.id \
                 GROUP BY s.id, s.province, s.valid_from ORDER BY s.province, s.valid_from",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}

impl Tx {
    /// Notes a change made by this transaction's own SQL (outside the upserts), to be
    /// published when it commits: views built on `entity` must then be rebuilt.
    pub(crate) fn note_change(&mut self, entity: &'static str) {
        self.pending.registry(entity);
    }

    /// Commits, then tells the change feed what was committed.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let changes = self.pending.take();
        dispatch!(self.inner, TxInner, tx => tx.commit().await?);
        self.feed.publish(changes);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        dispatch!(self.inner, TxInner, tx => tx.rollback().await?);
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Upserts rows into `table` in as few statements as the backend allows; `vals` holds
    /// the rows one after another, each with one value per column. Returns how many rows
    /// were inserted or changed.
    async fn upsert(&mut self, table: &Table, vals: Vec<Val<'_>>) -> Result<u64, StoreError> {
        let n = table.columns.len();
        debug_assert_eq!(vals.len() % n, 0);
        if vals.is_empty() {
            return Ok(0);
        }
        let mut written = 0;
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            TxInner::Sqlite(tx) => {
                let per_statement = (MAX_PARAMS / n).min(SQLITE_ROWS_PER_STATEMENT);
                let mut full_sql: Option<Arc<str>> = None;
                let mut left = vals.len() / n;
                let mut vals = vals.into_iter();
                while left > 0 {
                    let rows = left.min(per_statement);
                    left -= rows;
                    let sql: Arc<str> = if rows == per_statement {
                        Arc::clone(full_sql.get_or_insert_with(|| {
                            table.upsert_sql(per_statement, Backend::Sqlite).into()
                        }))
                    } else {
                        table.upsert_sql(rows, Backend::Sqlite).into()
                    };
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    // By value: the driver keeps its own copy of every argument, so text is
                    // copied once, into it, and not cloned first.
                    for value in vals.by_ref().take(rows * n) {
                        query = match value {
                            Val::Text(v) => query.bind(v.map(|s| Arc::<str>::from(s.as_ref()))),
                            Val::Int(v) => query.bind(v),
                            Val::Real(v) => query.bind(v),
                            Val::Bool(v) => query.bind(v),
                        };
                    }
                    written += query.execute(&mut **tx).await?.rows_affected();
                }
            }
            #[cfg(feature = "postgres")]
            TxInner::Postgres(tx) => {
                let sql: Arc<str> = table.unnest_sql().into();
                for chunk in vals.chunks(PG_ROWS_PER_STATEMENT * n) {
                    let rows = chunk.len() / n;
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(Arc::clone(&sql)));
                    for (c, ty) in table.types.iter().enumerate() {
                        let column = (0..rows).map(|r| &chunk[r * n + c]);
                        query = match ty {
                            Ty::Text => query.bind(
                                column
                                    .map(|v| match v {
                                        Val::Text(t) => t.as_deref(),
                                        _ => unreachable!("column {c} of {} is text", table.name),
                                    })
                                    .collect::<Vec<Option<&str>>>(),
                            ),
                            Ty::Int => query.bind(
                                column
                                    .map(|v| match v {
                                        Val::Int(i) => *i,
                                        _ => unreachable!("column {c} of {} is int", table.name),
                                    })
                                    .collect::<Vec<Option<i64>>>(),
                            ),
                            Ty::Real => query.bind(
                                column
                                    .map(|v| match v {
                                        Val::Real(x) => *x,
                                        _ => unreachable!("column {c} of {} is real", table.name),
                                    })
                                    .collect::<Vec<Option<f64>>>(),
                            ),
                            Ty::Bool => query.bind(
                                column
                                    .map(|v| match v {
                                        Val::Bool(b) => *b,
                                        _ => unreachable!("column {c} of {} is bool", table.name),
                                    })
                                    .collect::<Vec<bool>>(),
                            ),
                        };
                    }
                    written += query.execute(&mut **tx).await?.rows_affected();
                }
            }
        }
        if written > 0 && table.name != ASSESSMENT.name {
            self.pending.registry(table.name);
        }
        Ok(written)
    }

    pub async fn upsert_villages(&mut self, rows: &[Village]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * VILLAGE.columns.len());
        for v in rows {
            vals.extend([
                text(v.code.to_string()),
                text(v.code.parent().map(|p| p.to_string()).unwrap_or_default()),
                text(v.name_th.as_str()),
                opt_text(v.name_en.as_deref()),
            ]);
        }
        self.upsert(&VILLAGE, vals).await
    }

    pub async fn upsert_households(&mut self, rows: &[Household]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * HOUSEHOLD.columns.len());
        for h in rows {
            vals.extend([
                text(h.house_code.as_str()),
                text(h.village.to_string()),
                text(h.address.as_str()),
                Val::Real(h.location.map(|p| p.lat)),
                Val::Real(h.location.map(|p| p.lon)),
            ]);
        }
        self.upsert(&HOUSEHOLD, vals).await
    }

    pub async fn upsert_persons(&mut self, rows: &[Person]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * PERSON.columns.len());
        for p in rows {
            vals.extend([
                text(p.person_code.as_str()),
                text(p.household.as_str()),
                opt_text(p.citizen_id.map(|c| c.as_digits())),
                text(p.first_name.as_str()),
                text(p.last_name.as_str()),
                text(p.sex.code()),
                opt_text(p.birth_date.map(|d| d.to_iso_ce())),
                text(p.relation.code()),
                opt_text(p.education.map(|e| e.code())),
                opt_text(p.occupation.as_deref()),
                Val::Int(p.income_year.map(|s| s.0)),
                Val::Bool(p.disability),
                Val::Bool(p.chronic_illness),
                Val::Bool(p.bedridden),
            ]);
        }
        self.upsert(&PERSON, vals).await
    }

    pub async fn upsert_flags(&mut self, rows: &[PersonFlag]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * FLAG.columns.len());
        for f in rows {
            vals.extend([
                text(f.person_code.as_str()),
                text(f.flag.code()),
                text(f.as_of.to_iso_ce()),
                text(f.source.as_str()),
            ]);
        }
        self.upsert(&FLAG, vals).await
    }

    pub async fn upsert_welfare_cards(&mut self, rows: &[WelfareCard]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * WELFARE.columns.len());
        for w in rows {
            vals.extend([
                text(w.person_code.as_str()),
                text(w.as_of.to_iso_ce()),
                text(w.status.code()),
                text(w.source.as_str()),
            ]);
        }
        self.upsert(&WELFARE, vals).await
    }

    pub async fn upsert_events(&mut self, rows: &[MembershipEvent]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * EVENT.columns.len());
        for e in rows {
            vals.extend([
                text(e.person_code.as_str()),
                text(e.kind.code()),
                text(e.date.to_iso_ce()),
                text(e.household.as_str()),
                text(e.note.as_str()),
            ]);
        }
        self.upsert(&EVENT, vals).await
    }

    pub async fn upsert_rounds(&mut self, rows: &[AssessmentRound]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * ROUND.columns.len());
        for r in rows {
            vals.extend([
                Val::Int(Some(i64::from(r.year.be()))),
                text(r.date.to_iso_ce()),
                text(r.label.as_str()),
            ]);
        }
        self.upsert(&ROUND, vals).await
    }

    pub async fn upsert_assessments(&mut self, rows: &[Assessment]) -> Result<u64, StoreError> {
        let mut vals = Vec::with_capacity(rows.len() * ASSESSMENT.columns.len());
        for a in rows {
            vals.extend([
                Val::Int(Some(i64::from(a.round.be()))),
                text(a.household.as_str()),
                text(a.assessed_on.to_iso_ce()),
                Val::Int(Some(i64::from(a.members))),
                text(rows::values_to_json(&a.values)),
            ]);
        }
        let written = self.upsert(&ASSESSMENT, vals).await?;
        if written > 0 {
            // Unchanged rows are skipped by the upsert but not told apart from changed ones;
            // patching a view with an unchanged assessment is harmless.
            self.pending.assessments(rows);
        }
        Ok(written)
    }

    pub async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.pending.audited();
        dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, entity, entity_key, before_value, after_value) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.entity)
            .bind(&entry.entity_key)
            .bind(&entry.before)
            .bind(&entry.after)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Every value of one text column, for reference checks before a bulk write.
    async fn column_set(&mut self, sql: &'static str) -> Result<HashSet<String>, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let mut out = HashSet::new();
            let mut rows = sqlx::query_as::<_, (String,)>(sql).fetch(&mut **tx);
            while let Some((v,)) = rows.try_next().await? {
                out.insert(v);
            }
            Ok(out)
        })
    }

    pub async fn village_codes(&mut self) -> Result<HashSet<String>, StoreError> {
        self.column_set("SELECT code FROM village").await
    }

    pub async fn house_codes(&mut self) -> Result<HashSet<String>, StoreError> {
        self.column_set("SELECT house_code FROM household").await
    }

    pub async fn round_years(&mut self) -> Result<HashSet<String>, StoreError> {
        self.column_set("SELECT CAST(year AS TEXT) FROM assessment_round")
            .await
    }

    /// Every stored person's code and citizen ID digits, streamed into `sink`: what an
    /// import's reference checks need, without collecting the rows first.
    pub async fn for_each_person_citizen_id(
        &mut self,
        sink: &mut (dyn FnMut(String, Option<String>) + Send),
    ) -> Result<(), StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let mut rows = sqlx::query_as::<_, (String, Option<String>)>(
                "SELECT person_code, citizen_id FROM person",
            )
            .fetch(&mut **tx);
            while let Some((person, cid)) = rows.try_next().await? {
                sink(person, cid);
            }
            Ok(())
        })
    }
}

/// Reads and one insert for changes made one record at a time (a birth, a death, a move):
/// each inside the transaction that writes the change, so that what is checked is what is
/// written over.
impl Tx {
    /// One person as stored now.
    pub async fn person(&mut self, person_code: &str) -> Result<Option<Person>, StoreError> {
        let sql = format!(
            "SELECT {} FROM person WHERE person_code = $1",
            rows::PERSON_COLUMNS
        );
        dispatch!(&mut self.inner, TxInner, tx => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(person_code)
                .fetch_optional(&mut **tx)
                .await?;
            row.as_ref().map(rows::person_from_row).transpose()
        })
    }

    /// Every membership event of one person, wherever it happened, in no particular order.
    pub async fn events_of_person(
        &mut self,
        person_code: &str,
    ) -> Result<Vec<MembershipEvent>, StoreError> {
        let sql = format!(
            "SELECT {} FROM membership_event WHERE person_code = $1",
            rows::EVENT_COLUMNS
        );
        dispatch!(&mut self.inner, TxInner, tx => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(person_code)
                .fetch_all(&mut **tx)
                .await?;
            rows.iter().map(rows::event_from_row).collect()
        })
    }

    /// The code of the person holding a citizen ID (its 13 digits), if any.
    pub async fn citizen_id_holder(&mut self, digits: &str) -> Result<Option<String>, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT person_code FROM person WHERE citizen_id = $1")
                    .bind(digits)
                    .fetch_optional(&mut **tx)
                    .await?;
            Ok(row.map(|(code,)| code))
        })
    }

    /// Person codes that begin with `prefix`, exactly (byte for byte, whatever the backend's
    /// `LIKE` does with case).
    pub async fn person_codes_starting_with(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let found: Vec<String> = dispatch!(&mut self.inner, TxInner, tx => {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT person_code FROM person WHERE person_code LIKE $1 ESCAPE '\\'",
            )
            .bind(pattern)
            .fetch_all(&mut **tx)
            .await?;
            rows.into_iter().map(|(code,)| code).collect()
        });
        Ok(found
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect())
    }

    /// Inserts a new person; `false` (and nothing written) when the person code is taken, so
    /// that a caller choosing codes can take the next one instead of overwriting a record
    /// written meanwhile by another transaction.
    pub async fn insert_person(&mut self, p: &Person) -> Result<bool, StoreError> {
        let placeholders: Vec<String> = (1..=PERSON.columns.len())
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "INSERT INTO person ({}) VALUES ({}) ON CONFLICT (person_code) DO NOTHING",
            PERSON.columns.join(", "),
            placeholders.join(", ")
        );
        let inserted = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(p.person_code.as_str())
                .bind(p.household.as_str())
                .bind(p.citizen_id.map(|c| c.as_digits()))
                .bind(p.first_name.as_str())
                .bind(p.last_name.as_str())
                .bind(p.sex.code())
                .bind(p.birth_date.map(|d| d.to_iso_ce()))
                .bind(p.relation.code())
                .bind(p.education.map(|e| e.code()))
                .bind(p.occupation.as_deref())
                .bind(p.income_year.map(|s| s.0))
                .bind(p.disability)
                .bind(p.chronic_illness)
                .bind(p.bedridden)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        if inserted > 0 {
            self.note_change(PERSON.name);
        }
        Ok(inserted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_sql_numbers_parameters_and_updates_only_changed_rows() {
        let sql = ROUND.upsert_sql(2, Backend::Postgres);
        assert!(
            ROUND
                .upsert_sql(2, Backend::Sqlite)
                .contains("VALUES (?,?,?),(?,?,?) ON")
        );
        assert_eq!(
            sql,
            "INSERT INTO assessment_round (year, round_date, label) VALUES ($1,$2,$3),($4,$5,$6) \
             ON CONFLICT (year) DO UPDATE SET round_date = excluded.round_date, label = \
             excluded.label WHERE assessment_round.round_date IS DISTINCT FROM \
             excluded.round_date OR assessment_round.label IS DISTINCT FROM excluded.label"
        );
        assert_eq!(
            ROUND.unnest_sql(),
            "INSERT INTO assessment_round (year, round_date, label) SELECT * FROM \
             UNNEST($1::int8[], $2::text[], $3::text[]) ON CONFLICT (year) DO UPDATE SET \
             round_date = excluded.round_date, label = excluded.label WHERE \
             assessment_round.round_date IS DISTINCT FROM excluded.round_date OR \
             assessment_round.label IS DISTINCT FROM excluded.label"
        );
        for table in [
            &VILLAGE,
            &HOUSEHOLD,
            &PERSON,
            &FLAG,
            &WELFARE,
            &EVENT,
            &ROUND,
            &ASSESSMENT,
        ] {
            assert_eq!(table.columns.len(), table.types.len(), "{}", table.name);
        }
        assert!(FLAG.upsert_sql(1, Backend::Sqlite).ends_with("ON CONFLICT (person_code, flag, as_of) DO UPDATE SET source = excluded.source WHERE person_flag.source IS DISTINCT FROM excluded.source"));
    }
}
