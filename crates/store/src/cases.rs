//! Case management's tables: partners, cases, needs, plan items, referrals and visits.
//!
//! Records are plain data with domain-typed fields. Writes go through a [`Tx`], so that an
//! application function writes a change and its audit entry in one transaction; each record
//! kind has one `save_*` that inserts a record whose `id` is 0 (and returns the id the
//! database gave it) or writes the record of that id, as an import of exported files does.
//! After saving explicit ids, [`Tx::sync_case_ids`] moves PostgreSQL's identity sequences past
//! them (SQLite's AUTOINCREMENT follows by itself).
//!
//! Reads are on [`Tx`] (what an application rule checks before it writes, in the same
//! transaction) and, for pages, on [`Store`] through a short read transaction. What the rules
//! are (who may move a referral, when a case may graduate) is the application's business, not
//! this module's; the one rule the schema itself enforces is one active case per household.
//! Case writes are not published on the change feed: no measure depends on them.

use crate::registry::TxInner;
use crate::rows;
use crate::{Store, StoreError, Tx, dispatch};
use futures_util::TryStreamExt;
use halve_domain::case::{
    CaseAlertKind, CaseState, CloseReason, FundingSource, NeedCode, NeedSource, PartnerKind,
    PlanItemStatus, ReferralState,
};
use halve_domain::{AreaCode, Assessment, BeDate, BeYear, Key, Satang, VulnerabilityFlag};
use std::collections::BTreeSet;

/// A partner agency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    pub code: Key,
    pub name_th: String,
    pub name_en: String,
    pub kind: PartnerKind,
    /// Days it has to acknowledge a referral.
    pub ack_days: u32,
    pub active: bool,
}

/// A household's case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRecord {
    /// 0 for a case not saved yet.
    pub id: i64,
    pub household: Key,
    /// The responsible worker's username.
    pub worker: String,
    pub state: CaseState,
    /// Set exactly when the state is closed.
    pub close_reason: Option<CloseReason>,
    pub opened_on: BeDate,
    /// The day it graduated or closed.
    pub ended_on: Option<BeDate>,
}

/// A need of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseNeed {
    pub case_id: i64,
    pub need: NeedCode,
    pub source: NeedSource,
    pub confirmed: bool,
}

/// One intervention of a case's plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanItem {
    /// 0 for an item not saved yet.
    pub id: i64,
    pub case_id: i64,
    /// A code of the intervention catalogue.
    pub intervention: String,
    pub partner: Option<Key>,
    pub status: PlanItemStatus,
    pub start_on: Option<BeDate>,
    pub end_on: Option<BeDate>,
    pub cost: Satang,
    pub funding: Option<FundingSource>,
    pub note: String,
}

/// A referral of a case to a partner. Instants are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    /// 0 for a referral not saved yet.
    pub id: i64,
    pub case_id: i64,
    pub plan_item: Option<i64>,
    pub partner: Key,
    pub state: ReferralState,
    pub sent_by: String,
    pub sent_at: i64,
    pub deadline_at: i64,
    pub acknowledged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub outcome: Option<String>,
    pub note: String,
}

/// A visit in the logbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    /// 0 for a visit not saved yet.
    pub id: i64,
    pub case_id: i64,
    pub visited_on: BeDate,
    pub worker: String,
    pub note: String,
    /// The round of the assessment recorded during the visit, if one was.
    pub round: Option<BeYear>,
}

/// Something about a case that needs attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseAlert {
    /// 0 for an alert not saved yet.
    pub id: i64,
    pub case_id: i64,
    pub kind: CaseAlertKind,
    pub round: BeYear,
    pub raised_at: i64,
    pub resolved_at: Option<i64>,
}

/// One line of a worker's caseload: an active case and the facts the page sorts it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseloadRow {
    pub case: CaseRecord,
    pub village: AreaCode,
    pub last_visit: Option<BeDate>,
    /// Referrals sent or acknowledged.
    pub open_referrals: i64,
    /// Referrals still only sent after their deadline, at the `now` of the read.
    pub overdue_referrals: i64,
    pub open_alerts: i64,
}

/// One referral in a partner's inbox, with the household it concerns and nothing more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxRow {
    pub referral: Referral,
    pub household: Key,
    pub village: AreaCode,
}

/// What a case needs from the registry to suggest needs and check scope: the household's
/// village, its assessments (oldest round first) and its members' current flags.
#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdFacts {
    pub village: AreaCode,
    pub assessments: Vec<Assessment>,
    pub flags: BTreeSet<VulnerabilityFlag>,
}

/// A closed or graduated case with the village of its household, for exits by cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseExit {
    pub state: CaseState,
    pub close_reason: Option<CloseReason>,
    pub village: AreaCode,
}

fn corrupt(table: &'static str, column: &'static str) -> StoreError {
    StoreError::Corrupt { table, column }
}

fn date(s: &str, table: &'static str, column: &'static str) -> Result<BeDate, StoreError> {
    BeDate::from_iso_ce(s).map_err(|_| corrupt(table, column))
}

fn opt_date(
    s: Option<String>,
    table: &'static str,
    column: &'static str,
) -> Result<Option<BeDate>, StoreError> {
    s.map(|s| date(&s, table, column)).transpose()
}

fn key(s: &str, table: &'static str, column: &'static str) -> Result<Key, StoreError> {
    Key::parse(s).map_err(|_| corrupt(table, column))
}

fn area(s: &str, table: &'static str, column: &'static str) -> Result<AreaCode, StoreError> {
    AreaCode::parse_syntax(s).map_err(|_| corrupt(table, column))
}

fn year(y: i64, table: &'static str, column: &'static str) -> Result<BeYear, StoreError> {
    i32::try_from(y)
        .ok()
        .and_then(|y| BeYear::new(y).ok())
        .ok_or(corrupt(table, column))
}

type PartnerRow = (String, String, String, String, i64, bool);
const PARTNER_COLUMNS: &str = "code, name_th, name_en, kind, ack_days, active";

fn partner_from(r: PartnerRow) -> Result<Partner, StoreError> {
    const T: &str = "partner";
    Ok(Partner {
        code: key(&r.0, T, "code")?,
        name_th: r.1,
        name_en: r.2,
        kind: PartnerKind::parse(&r.3).map_err(|_| corrupt(T, "kind"))?,
        ack_days: u32::try_from(r.4).map_err(|_| corrupt(T, "ack_days"))?,
        active: r.5,
    })
}

type CaseRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);
const CASE_COLUMNS: &str = "c.id, c.house_code, c.worker, c.state, c.close_reason, c.opened_on, \
                            c.ended_on";

fn case_from(r: CaseRow) -> Result<CaseRecord, StoreError> {
    const T: &str = "case_file";
    Ok(CaseRecord {
        id: r.0,
        household: key(&r.1, T, "house_code")?,
        worker: r.2,
        state: CaseState::parse(&r.3).map_err(|_| corrupt(T, "state"))?,
        close_reason: r
            .4
            .map(|c| CloseReason::parse(&c).map_err(|_| corrupt(T, "close_reason")))
            .transpose()?,
        opened_on: date(&r.5, T, "opened_on")?,
        ended_on: opt_date(r.6, T, "ended_on")?,
    })
}

type NeedRow = (i64, String, String, bool);
const NEED_COLUMNS: &str = "case_id, code, source, confirmed";

fn need_from(r: NeedRow) -> Result<CaseNeed, StoreError> {
    const T: &str = "case_need";
    Ok(CaseNeed {
        case_id: r.0,
        need: NeedCode::parse(&r.1).map_err(|_| corrupt(T, "code"))?,
        source: NeedSource::parse(&r.2).map_err(|_| corrupt(T, "source"))?,
        confirmed: r.3,
    })
}

type PlanRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
    String,
);
const PLAN_COLUMNS: &str = "p.id, p.case_id, p.intervention, p.partner, p.status, p.start_on, \
                            p.end_on, p.cost_satang, p.funding, p.note";

fn plan_from(r: PlanRow) -> Result<PlanItem, StoreError> {
    const T: &str = "plan_item";
    Ok(PlanItem {
        id: r.0,
        case_id: r.1,
        intervention: r.2,
        partner: r.3.map(|p| key(&p, T, "partner")).transpose()?,
        status: PlanItemStatus::parse(&r.4).map_err(|_| corrupt(T, "status"))?,
        start_on: opt_date(r.5, T, "start_on")?,
        end_on: opt_date(r.6, T, "end_on")?,
        cost: Satang(r.7),
        funding: r
            .8
            .map(|f| FundingSource::parse(&f).map_err(|_| corrupt(T, "funding")))
            .transpose()?,
        note: r.9,
    })
}

type ReferralRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
);
const REFERRAL_COLUMNS: &str = "r.id, r.case_id, r.plan_item_id, r.partner, r.state, r.sent_by, \
                                r.sent_at, r.deadline_at, r.acknowledged_at, r.closed_at, \
                                r.outcome, r.note";

fn referral_from(r: ReferralRow) -> Result<Referral, StoreError> {
    const T: &str = "referral";
    Ok(Referral {
        id: r.0,
        case_id: r.1,
        plan_item: r.2,
        partner: key(&r.3, T, "partner")?,
        state: ReferralState::parse(&r.4).map_err(|_| corrupt(T, "state"))?,
        sent_by: r.5,
        sent_at: r.6,
        deadline_at: r.7,
        acknowledged_at: r.8,
        closed_at: r.9,
        outcome: r.10,
        note: r.11,
    })
}

type VisitRow = (i64, i64, String, String, String, Option<i64>);
const VISIT_COLUMNS: &str = "id, case_id, visited_on, worker, note, round_year";

fn visit_from(r: VisitRow) -> Result<Visit, StoreError> {
    const T: &str = "visit";
    Ok(Visit {
        id: r.0,
        case_id: r.1,
        visited_on: date(&r.2, T, "visited_on")?,
        worker: r.3,
        note: r.4,
        round: r.5.map(|y| year(y, T, "round_year")).transpose()?,
    })
}

type AlertRow = (i64, i64, String, i64, i64, Option<i64>);
const ALERT_COLUMNS: &str = "id, case_id, kind, round_year, raised_at, resolved_at";

fn alert_from(r: AlertRow) -> Result<CaseAlert, StoreError> {
    const T: &str = "case_alert";
    Ok(CaseAlert {
        id: r.0,
        case_id: r.1,
        kind: CaseAlertKind::parse(&r.2).map_err(|_| corrupt(T, "kind"))?,
        round: year(r.3, T, "round_year")?,
        raised_at: r.4,
        resolved_at: r.5,
    })
}

/// Runs a `SELECT` in a transaction and maps every row: `fetch_all!(tx, RowType, sql, binds…)`.
macro_rules! fetch_all {
    ($self:expr, $row:ty, $sql:expr $(, $bind:expr)*) => {{
        let sql: String = $sql;
        let rows: Vec<$row> = dispatch!(&mut $self.inner, TxInner, tx => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                $(.bind($bind))*
                .fetch_all(&mut **tx)
                .await?
        });
        rows
    }};
}

/// Streams a `SELECT` over the whole table into `sink`, mapping each row.
macro_rules! stream_all {
    ($store:expr, $row:ty, $sql:expr, $map:expr, $sink:expr) => {{
        let sql = $store.dialect($sql);
        dispatch!(&$store.inner, Inner, pool => {
            let mut rows = sqlx::query_as::<_, $row>(sqlx::AssertSqlSafe(sql)).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                $sink($map(row)?)?;
            }
        });
        Ok(())
    }};
}

use crate::Inner;

type Sink<'a, T> = &'a mut (dyn FnMut(T) -> std::io::Result<()> + Send);

const ID_TABLES: [&str; 5] = ["case_file", "plan_item", "referral", "visit", "case_alert"];

impl Tx {
    /// Inserts a partner or rewrites the one of its code.
    pub async fn save_partner(&mut self, p: &Partner) -> Result<(), StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(
                "INSERT INTO partner (code, name_th, name_en, kind, ack_days, active) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET \
                 name_th = excluded.name_th, name_en = excluded.name_en, kind = excluded.kind, \
                 ack_days = excluded.ack_days, active = excluded.active",
            )
            .bind(p.code.as_str())
            .bind(&p.name_th)
            .bind(&p.name_en)
            .bind(p.kind.code())
            .bind(i64::from(p.ack_days))
            .bind(p.active)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    pub async fn partner(&mut self, code: &str) -> Result<Option<Partner>, StoreError> {
        let rows = fetch_all!(
            self,
            PartnerRow,
            format!("SELECT {PARTNER_COLUMNS} FROM partner WHERE code = $1"),
            code
        );
        rows.into_iter().next().map(partner_from).transpose()
    }

    /// Every partner, by code (bytewise).
    pub async fn partners(&mut self) -> Result<Vec<Partner>, StoreError> {
        let sql = self.dialect(&format!(
            "SELECT {PARTNER_COLUMNS} FROM partner ORDER BY code{{{{C}}}}"
        ));
        let rows = fetch_all!(self, PartnerRow, sql);
        rows.into_iter().map(partner_from).collect()
    }

    /// Inserts a case (`id` 0; returns the new id) or writes the case of its id.
    pub async fn save_case(&mut self, c: &CaseRecord) -> Result<i64, StoreError> {
        let sql = save_sql("case_file", CASE_SAVE, c.id == 0);
        Ok(dispatch!(&mut self.inner, TxInner, tx => {
            let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
                .bind(c.household.as_str())
                .bind(&c.worker)
                .bind(c.state.code())
                .bind(c.close_reason.map(|r| r.code()))
                .bind(c.opened_on.to_iso_ce())
                .bind(c.ended_on.map(|d| d.to_iso_ce()));
            if c.id != 0 {
                q = q.bind(c.id);
            }
            q.fetch_one(&mut **tx).await?.0
        }))
    }

    /// Inserts or confirms a need (by case and code).
    pub async fn save_need(&mut self, n: &CaseNeed) -> Result<(), StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(
                "INSERT INTO case_need (case_id, code, source, confirmed) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (case_id, code) DO UPDATE SET source = excluded.source, \
                 confirmed = excluded.confirmed",
            )
            .bind(n.case_id)
            .bind(n.need.to_string())
            .bind(n.source.code())
            .bind(n.confirmed)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Removes a need from a case; whether it was there.
    pub async fn remove_need(&mut self, case_id: i64, need: &NeedCode) -> Result<bool, StoreError> {
        Ok(dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query("DELETE FROM case_need WHERE case_id = $1 AND code = $2")
                .bind(case_id)
                .bind(need.to_string())
                .execute(&mut **tx)
                .await?
                .rows_affected()
        }) > 0)
    }

    /// Inserts a plan item (`id` 0; returns the new id) or writes the item of its id.
    pub async fn save_plan_item(&mut self, p: &PlanItem) -> Result<i64, StoreError> {
        let sql = save_sql("plan_item", PLAN_SAVE, p.id == 0);
        Ok(dispatch!(&mut self.inner, TxInner, tx => {
            let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
                .bind(p.case_id)
                .bind(&p.intervention)
                .bind(p.partner.as_ref().map(|k| k.as_str()))
                .bind(p.status.code())
                .bind(p.start_on.map(|d| d.to_iso_ce()))
                .bind(p.end_on.map(|d| d.to_iso_ce()))
                .bind(p.cost.0)
                .bind(p.funding.map(|f| f.code()))
                .bind(&p.note);
            if p.id != 0 {
                q = q.bind(p.id);
            }
            q.fetch_one(&mut **tx).await?.0
        }))
    }

    /// Inserts a referral (`id` 0; returns the new id) or writes the referral of its id.
    pub async fn save_referral(&mut self, r: &Referral) -> Result<i64, StoreError> {
        let sql = save_sql("referral", REFERRAL_SAVE, r.id == 0);
        Ok(dispatch!(&mut self.inner, TxInner, tx => {
            let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
                .bind(r.case_id)
                .bind(r.plan_item)
                .bind(r.partner.as_str())
                .bind(r.state.code())
                .bind(&r.sent_by)
                .bind(r.sent_at)
                .bind(r.deadline_at)
                .bind(r.acknowledged_at)
                .bind(r.closed_at)
                .bind(r.outcome.as_deref())
                .bind(&r.note);
            if r.id != 0 {
                q = q.bind(r.id);
            }
            q.fetch_one(&mut **tx).await?.0
        }))
    }

    /// Inserts a visit (`id` 0; returns the new id) or writes the visit of its id.
    pub async fn save_visit(&mut self, v: &Visit) -> Result<i64, StoreError> {
        let sql = save_sql("visit", VISIT_SAVE, v.id == 0);
        Ok(dispatch!(&mut self.inner, TxInner, tx => {
            let mut q = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
                .bind(v.case_id)
                .bind(v.visited_on.to_iso_ce())
                .bind(&v.worker)
                .bind(&v.note)
                .bind(v.round.map(|y| i64::from(y.be())));
            if v.id != 0 {
                q = q.bind(v.id);
            }
            q.fetch_one(&mut **tx).await?.0
        }))
    }

    /// Inserts an alert (`id` 0) or writes the alert of its id. An alert of the same case,
    /// kind and round that already exists is left as it is: returns `None` then.
    pub async fn save_alert(&mut self, a: &CaseAlert) -> Result<Option<i64>, StoreError> {
        if a.id == 0 {
            let rows: Vec<(i64,)> = dispatch!(&mut self.inner, TxInner, tx => {
                sqlx::query_as(
                    "INSERT INTO case_alert (case_id, kind, round_year, raised_at, resolved_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (case_id, kind, round_year) DO NOTHING RETURNING id",
                )
                .bind(a.case_id)
                .bind(a.kind.code())
                .bind(i64::from(a.round.be()))
                .bind(a.raised_at)
                .bind(a.resolved_at)
                .fetch_all(&mut **tx)
                .await?
            });
            return Ok(rows.first().map(|r| r.0));
        }
        let sql = save_sql("case_alert", ALERT_SAVE, false);
        Ok(Some(dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql))
                .bind(a.case_id)
                .bind(a.kind.code())
                .bind(i64::from(a.round.be()))
                .bind(a.raised_at)
                .bind(a.resolved_at)
                .bind(a.id)
                .fetch_one(&mut **tx)
                .await?
                .0
        })))
    }

    /// Moves PostgreSQL's identity sequences past the highest stored ids, after records were
    /// saved with explicit ids (an import), so the next insert does not collide with them.
    pub async fn sync_case_ids(&mut self) -> Result<(), StoreError> {
        #[cfg(feature = "postgres")]
        if let TxInner::Postgres(tx) = &mut self.inner {
            for table in ID_TABLES {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn case(&mut self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        let rows = fetch_all!(
            self,
            CaseRow,
            format!("SELECT {CASE_COLUMNS} FROM case_file c WHERE c.id = $1"),
            id
        );
        rows.into_iter().next().map(case_from).transpose()
    }

    /// Every case of a household, oldest first.
    pub async fn cases_of_household(
        &mut self,
        house_code: &str,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let rows = fetch_all!(
            self,
            CaseRow,
            format!("SELECT {CASE_COLUMNS} FROM case_file c WHERE c.house_code = $1 ORDER BY c.id"),
            house_code
        );
        rows.into_iter().map(case_from).collect()
    }

    /// Every case in one of `states`, by id.
    pub async fn cases_in_state(
        &mut self,
        states: &[CaseState],
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let list = state_list(states.iter().map(|s| s.code()));
        let rows = fetch_all!(
            self,
            CaseRow,
            format!(
                "SELECT {CASE_COLUMNS} FROM case_file c WHERE c.state IN ({list}) ORDER BY c.id"
            )
        );
        rows.into_iter().map(case_from).collect()
    }

    pub async fn needs_of_case(&mut self, case_id: i64) -> Result<Vec<CaseNeed>, StoreError> {
        let sql = self.dialect(&format!(
            "SELECT {NEED_COLUMNS} FROM case_need WHERE case_id = $1 ORDER BY code{{{{C}}}}"
        ));
        let rows = fetch_all!(self, NeedRow, sql, case_id);
        rows.into_iter().map(need_from).collect()
    }

    pub async fn plan_item(&mut self, id: i64) -> Result<Option<PlanItem>, StoreError> {
        let rows = fetch_all!(
            self,
            PlanRow,
            format!("SELECT {PLAN_COLUMNS} FROM plan_item p WHERE p.id = $1"),
            id
        );
        rows.into_iter().next().map(plan_from).transpose()
    }

    pub async fn plan_of_case(&mut self, case_id: i64) -> Result<Vec<PlanItem>, StoreError> {
        let rows = fetch_all!(
            self,
            PlanRow,
            format!("SELECT {PLAN_COLUMNS} FROM plan_item p WHERE p.case_id = $1 ORDER BY p.id"),
            case_id
        );
        rows.into_iter().map(plan_from).collect()
    }

    pub async fn referral(&mut self, id: i64) -> Result<Option<Referral>, StoreError> {
        let rows = fetch_all!(
            self,
            ReferralRow,
            format!("SELECT {REFERRAL_COLUMNS} FROM referral r WHERE r.id = $1"),
            id
        );
        rows.into_iter().next().map(referral_from).transpose()
    }

    pub async fn referrals_of_case(&mut self, case_id: i64) -> Result<Vec<Referral>, StoreError> {
        let rows = fetch_all!(
            self,
            ReferralRow,
            format!("SELECT {REFERRAL_COLUMNS} FROM referral r WHERE r.case_id = $1 ORDER BY r.id"),
            case_id
        );
        rows.into_iter().map(referral_from).collect()
    }

    /// The plan items and referrals of every case of a household (for the duplicate-help
    /// check), by id.
    pub async fn help_of_household(
        &mut self,
        house_code: &str,
    ) -> Result<(Vec<PlanItem>, Vec<Referral>), StoreError> {
        let items = fetch_all!(
            self,
            PlanRow,
            format!(
                "SELECT {PLAN_COLUMNS} FROM plan_item p JOIN case_file c ON c.id = p.case_id \
                 WHERE c.house_code = $1 ORDER BY p.id"
            ),
            house_code
        );
        let referrals = fetch_all!(
            self,
            ReferralRow,
            format!(
                "SELECT {REFERRAL_COLUMNS} FROM referral r JOIN case_file c ON c.id = r.case_id \
                 WHERE c.house_code = $1 ORDER BY r.id"
            ),
            house_code
        );
        Ok((
            items.into_iter().map(plan_from).collect::<Result<_, _>>()?,
            referrals
                .into_iter()
                .map(referral_from)
                .collect::<Result<_, _>>()?,
        ))
    }

    pub async fn visits_of_case(&mut self, case_id: i64) -> Result<Vec<Visit>, StoreError> {
        let rows = fetch_all!(
            self,
            VisitRow,
            format!("SELECT {VISIT_COLUMNS} FROM visit WHERE case_id = $1 ORDER BY visited_on, id"),
            case_id
        );
        rows.into_iter().map(visit_from).collect()
    }

    pub async fn alerts_of_case(&mut self, case_id: i64) -> Result<Vec<CaseAlert>, StoreError> {
        let rows = fetch_all!(
            self,
            AlertRow,
            format!("SELECT {ALERT_COLUMNS} FROM case_alert WHERE case_id = $1 ORDER BY id"),
            case_id
        );
        rows.into_iter().map(alert_from).collect()
    }

    /// A worker's active cases (open or in progress), by id, with what the caseload page
    /// needs; referrals are overdue when still only sent with a deadline before `now`.
    pub async fn caseload(
        &mut self,
        worker: &str,
        now: i64,
    ) -> Result<Vec<CaseloadRow>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            String,
            Option<String>,
            i64,
            i64,
            i64,
        );
        let rows = fetch_all!(
            self,
            Row,
            format!(
                "SELECT {CASE_COLUMNS}, h.village, \
                 (SELECT MAX(v.visited_on) FROM visit v WHERE v.case_id = c.id), \
                 (SELECT COUNT(*) FROM referral r WHERE r.case_id = c.id \
                    AND r.state IN ('sent', 'acknowledged')), \
                 (SELECT COUNT(*) FROM referral r WHERE r.case_id = c.id \
                    AND r.state = 'sent' AND r.deadline_at < $2), \
                 (SELECT COUNT(*) FROM case_alert a WHERE a.case_id = c.id \
                    AND a.resolved_at IS NULL) \
                 FROM case_file c JOIN household h ON h.house_code = c.house_code \
                 WHERE c.worker = $1 AND c.state IN ('open', 'in_progress') ORDER BY c.id"
            ),
            worker,
            now
        );
        rows.into_iter()
            .map(|r| {
                Ok(CaseloadRow {
                    case: case_from((r.0, r.1, r.2, r.3, r.4, r.5, r.6))?,
                    village: area(&r.7, "household", "village")?,
                    last_visit: opt_date(r.8, "visit", "visited_on")?,
                    open_referrals: r.9,
                    overdue_referrals: r.10,
                    open_alerts: r.11,
                })
            })
            .collect()
    }

    /// The referrals sent to one partner, and only those, newest first; with `open_only`,
    /// only those sent or acknowledged.
    pub async fn partner_inbox(
        &mut self,
        partner: &str,
        open_only: bool,
    ) -> Result<Vec<InboxRow>, StoreError> {
        type Row = (
            i64,
            i64,
            Option<i64>,
            String,
            String,
            String,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
            String,
            String,
            String,
        );
        let open = if open_only {
            " AND r.state IN ('sent', 'acknowledged')"
        } else {
            ""
        };
        let rows = fetch_all!(
            self,
            Row,
            format!(
                "SELECT {REFERRAL_COLUMNS}, c.house_code, h.village FROM referral r \
                 JOIN case_file c ON c.id = r.case_id \
                 JOIN household h ON h.house_code = c.house_code \
                 WHERE r.partner = $1{open} ORDER BY r.sent_at DESC, r.id DESC"
            ),
            partner
        );
        rows.into_iter()
            .map(|r| {
                Ok(InboxRow {
                    referral: referral_from((
                        r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11,
                    ))?,
                    household: key(&r.12, "case_file", "house_code")?,
                    village: area(&r.13, "household", "village")?,
                })
            })
            .collect()
    }

    /// Closed and graduated cases with their household's village (for exits by cause).
    pub async fn case_exits(&mut self) -> Result<Vec<CaseExit>, StoreError> {
        type Row = (String, Option<String>, String);
        let rows = fetch_all!(
            self,
            Row,
            "SELECT c.state, c.close_reason, h.village FROM case_file c \
             JOIN household h ON h.house_code = c.house_code \
             WHERE c.state IN ('graduated', 'closed') ORDER BY c.id"
                .to_owned()
        );
        rows.into_iter()
            .map(|r| {
                Ok(CaseExit {
                    state: CaseState::parse(&r.0).map_err(|_| corrupt("case_file", "state"))?,
                    close_reason: r
                        .1
                        .map(|c| {
                            CloseReason::parse(&c).map_err(|_| corrupt("case_file", "close_reason"))
                        })
                        .transpose()?,
                    village: area(&r.2, "household", "village")?,
                })
            })
            .collect()
    }

    /// A household's village, assessments (oldest round first) and its members' flags;
    /// `None` when there is no such household.
    pub async fn household_facts(
        &mut self,
        house_code: &str,
    ) -> Result<Option<HouseholdFacts>, StoreError> {
        let village: Vec<(String,)> = fetch_all!(
            self,
            (String,),
            "SELECT village FROM household WHERE house_code = $1".to_owned(),
            house_code
        );
        let Some((village,)) = village.into_iter().next() else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {} FROM assessment WHERE house_code = $1 ORDER BY round_year",
            rows::ASSESSMENT_COLUMNS
        );
        let assessments = dispatch!(&mut self.inner, TxInner, tx => {
            let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(house_code)
                .fetch_all(&mut **tx)
                .await?;
            found
                .iter()
                .map(rows::assessment_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        let flags: Vec<(String,)> = fetch_all!(
            self,
            (String,),
            "SELECT DISTINCT f.flag FROM person_flag f \
             JOIN person p ON p.person_code = f.person_code WHERE p.house_code = $1"
                .to_owned(),
            house_code
        );
        Ok(Some(HouseholdFacts {
            village: area(&village, "household", "village")?,
            assessments,
            flags: flags
                .iter()
                // A flag code this build does not know serves no need: skipped.
                .filter_map(|(f,)| VulnerabilityFlag::parse(f).ok())
                .collect(),
        }))
    }

    /// The codes of the households of a village, bytewise (the demo picks cases from them).
    pub async fn house_codes_in_village(
        &mut self,
        village: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = self.dialect(
            "SELECT house_code FROM household WHERE village = $1 ORDER BY house_code{{C}}",
        );
        let rows: Vec<(String,)> = fetch_all!(self, (String,), sql, village);
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    fn dialect(&self, sql: &str) -> String {
        match self.backend() {
            crate::Backend::Sqlite => sql.replace("{{C}}", ""),
            crate::Backend::Postgres => sql.replace("{{C}}", " COLLATE \"C\""),
        }
    }
}

const CASE_SAVE: &[&str] = &[
    "house_code",
    "worker",
    "state",
    "close_reason",
    "opened_on",
    "ended_on",
];
const PLAN_SAVE: &[&str] = &[
    "case_id",
    "intervention",
    "partner",
    "status",
    "start_on",
    "end_on",
    "cost_satang",
    "funding",
    "note",
];
const REFERRAL_SAVE: &[&str] = &[
    "case_id",
    "plan_item_id",
    "partner",
    "state",
    "sent_by",
    "sent_at",
    "deadline_at",
    "acknowledged_at",
    "closed_at",
    "outcome",
    "note",
];
const VISIT_SAVE: &[&str] = &["case_id", "visited_on", "worker", "note", "round_year"];
const ALERT_SAVE: &[&str] = &["case_id", "kind", "round_year", "raised_at", "resolved_at"];

/// `INSERT … RETURNING id` of a new row (the database picks the id), or, for a row whose id
/// is known, the same with the id as the last parameter and an update on conflict.
fn save_sql(table: &str, columns: &[&str], new: bool) -> String {
    let n = columns.len();
    let params: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    if new {
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) RETURNING id",
            columns.join(", "),
            params.join(", ")
        )
    } else {
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            "INSERT INTO {table} ({}, id) VALUES ({}, ${}) ON CONFLICT (id) DO UPDATE SET {} \
             RETURNING id",
            columns.join(", "),
            params.join(", "),
            n + 1,
            set.join(", ")
        )
    }
}

/// `'a', 'b'` from codes (the domain's fixed English codes, never user text).
fn state_list<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    codes
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Runs one read in a transaction of its own (rolled back: it writes nothing).
    async fn read<T>(
        &self,
        f: impl AsyncFnOnce(&mut Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.begin().await?;
        let out = f(&mut tx).await;
        tx.rollback().await?;
        out
    }

    pub async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        self.read(async |tx| tx.partners().await).await
    }

    pub async fn partner(&self, code: &str) -> Result<Option<Partner>, StoreError> {
        self.read(async |tx| tx.partner(code).await).await
    }

    pub async fn case(&self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        self.read(async |tx| tx.case(id).await).await
    }

    pub async fn cases_of_household(
        &self,
        house_code: &str,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        self.read(async |tx| tx.cases_of_household(house_code).await)
            .await
    }

    pub async fn needs_of_case(&self, case_id: i64) -> Result<Vec<CaseNeed>, StoreError> {
        self.read(async |tx| tx.needs_of_case(case_id).await).await
    }

    pub async fn plan_of_case(&self, case_id: i64) -> Result<Vec<PlanItem>, StoreError> {
        self.read(async |tx| tx.plan_of_case(case_id).await).await
    }

    pub async fn referral(&self, id: i64) -> Result<Option<Referral>, StoreError> {
        self.read(async |tx| tx.referral(id).await).await
    }

    pub async fn referrals_of_case(&self, case_id: i64) -> Result<Vec<Referral>, StoreError> {
        self.read(async |tx| tx.referrals_of_case(case_id).await)
            .await
    }

    pub async fn visits_of_case(&self, case_id: i64) -> Result<Vec<Visit>, StoreError> {
        self.read(async |tx| tx.visits_of_case(case_id).await).await
    }

    pub async fn alerts_of_case(&self, case_id: i64) -> Result<Vec<CaseAlert>, StoreError> {
        self.read(async |tx| tx.alerts_of_case(case_id).await).await
    }

    pub async fn help_of_household(
        &self,
        house_code: &str,
    ) -> Result<(Vec<PlanItem>, Vec<Referral>), StoreError> {
        self.read(async |tx| tx.help_of_household(house_code).await)
            .await
    }

    pub async fn caseload(&self, worker: &str, now: i64) -> Result<Vec<CaseloadRow>, StoreError> {
        self.read(async |tx| tx.caseload(worker, now).await).await
    }

    pub async fn partner_inbox(
        &self,
        partner: &str,
        open_only: bool,
    ) -> Result<Vec<InboxRow>, StoreError> {
        self.read(async |tx| tx.partner_inbox(partner, open_only).await)
            .await
    }

    pub async fn case_exits(&self) -> Result<Vec<CaseExit>, StoreError> {
        self.read(async |tx| tx.case_exits().await).await
    }

    pub async fn for_each_partner(&self, sink: Sink<'_, Partner>) -> Result<(), StoreError> {
        stream_all!(
            self,
            PartnerRow,
            &format!("SELECT {PARTNER_COLUMNS} FROM partner ORDER BY code{{{{C}}}}"),
            partner_from,
            sink
        )
    }

    pub async fn for_each_case(&self, sink: Sink<'_, CaseRecord>) -> Result<(), StoreError> {
        stream_all!(
            self,
            CaseRow,
            &format!("SELECT {CASE_COLUMNS} FROM case_file c ORDER BY c.id"),
            case_from,
            sink
        )
    }

    pub async fn for_each_need(&self, sink: Sink<'_, CaseNeed>) -> Result<(), StoreError> {
        stream_all!(
            self,
            NeedRow,
            &format!("SELECT {NEED_COLUMNS} FROM case_need ORDER BY case_id, code{{{{C}}}}"),
            need_from,
            sink
        )
    }

    pub async fn for_each_plan_item(&self, sink: Sink<'_, PlanItem>) -> Result<(), StoreError> {
        stream_all!(
            self,
            PlanRow,
            &format!("SELECT {PLAN_COLUMNS} FROM plan_item p ORDER BY p.id"),
            plan_from,
            sink
        )
    }

    pub async fn for_each_referral(&self, sink: Sink<'_, Referral>) -> Result<(), StoreError> {
        stream_all!(
            self,
            ReferralRow,
            &format!("SELECT {REFERRAL_COLUMNS} FROM referral r ORDER BY r.id"),
            referral_from,
            sink
        )
    }

    pub async fn for_each_visit(&self, sink: Sink<'_, Visit>) -> Result<(), StoreError> {
        stream_all!(
            self,
            VisitRow,
            &format!("SELECT {VISIT_COLUMNS} FROM visit ORDER BY id"),
            visit_from,
            sink
        )
    }

    pub async fn for_each_alert(&self, sink: Sink<'_, CaseAlert>) -> Result<(), StoreError> {
        stream_all!(
            self,
            AlertRow,
            &format!("SELECT {ALERT_COLUMNS} FROM case_alert ORDER BY id"),
            alert_from,
            sink
        )
    }
}
