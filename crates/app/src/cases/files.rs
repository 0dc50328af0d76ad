//! Case management's records as files: `partners.csv`, `cases.csv`, `case_needs.csv`,
//! `plan_items.csv`, `referrals.csv`, `visits.csv` and `case_alerts.csv`, written by
//! `halve export` (rows in id order) and read back by `halve import`, in the transaction of
//! the registry's files and after them, all or nothing.
//!
//! Records keep their ids, so a case's plan items and referrals still point at it after a
//! round trip (and importing the same files again rewrites the same rows). Days are Buddhist
//! Era dates as elsewhere; instants (a referral sent, an alert raised) are UTC timestamps
//! `YYYY-MM-DDTHH:MM:SSZ` in the Common Era, as in the audit log.

use std::collections::{HashMap, HashSet};

use halve_domain::case::{
    CaseAlertKind, CaseState, CloseReason, FundingSource, NeedCode, NeedSource, PartnerKind,
    PlanItemStatus, ReferralState,
};
use halve_domain::{BeDate, BeYear, Key, ParseError, Satang, parse_bool, parse_text};
use halve_io::{ErrorReport, Record, TableReader};
use halve_store::{
    CaseAlert, CaseNeed, CaseRecord, Partner, PlanItem, Referral, Store, StoreError, Tx, Visit,
};

use crate::clock::iso_utc;
use crate::import::FileSummary;
use crate::kinds::Kind;
use crate::{AppError, Progress};

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn instant(secs: i64) -> String {
    iso_utc(secs)
}

/// Reads `YYYY-MM-DDTHH:MM:SSZ` (UTC) back into Unix seconds.
pub fn parse_instant(raw: &str) -> Result<i64, ParseError> {
    let bad = || {
        ParseError::new(
            "instant.syntax",
            "เวลาต้องอยู่ในรูป YYYY-MM-DDTHH:MM:SSZ (ค.ศ. เวลาสากล)",
            "a time is YYYY-MM-DDTHH:MM:SSZ (Common Era, UTC)",
        )
    };
    let s = raw.trim();
    let (day, time) = s.split_once('T').ok_or_else(bad)?;
    let time = time.strip_suffix('Z').ok_or_else(bad)?;
    let day = BeDate::parse_ce(day).map_err(|_| bad())?;
    let parts: Vec<i64> = time
        .split(':')
        .map(|p| {
            (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<i64>().ok())
                .flatten()
                .ok_or_else(bad)
        })
        .collect::<Result<_, _>>()?;
    let [h, m, sec] = parts[..] else {
        return Err(bad());
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(bad());
    }
    // Day 719,163 since 1 January 1 CE is 1 January 1970.
    Ok((day.ordinal() - 719_163) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Writes the rows of one case kind, in id order, through `row`: what `halve export` writes
/// and the web app's downloads serve.
pub async fn export_rows(
    store: &Store,
    kind: Kind,
    row: &mut (dyn FnMut(Vec<String>) -> std::io::Result<()> + Send),
) -> Result<(), AppError> {
    match kind {
        Kind::Partners => {
            store
                .for_each_partner(&mut |p| {
                    row(vec![
                        p.code.to_string(),
                        p.name_th,
                        p.name_en,
                        p.kind.code().to_owned(),
                        p.ack_days.to_string(),
                        if p.active { "1" } else { "0" }.to_owned(),
                    ])
                })
                .await?
        }
        Kind::Cases => {
            store
                .for_each_case(&mut |c| {
                    row(vec![
                        c.id.to_string(),
                        c.household.to_string(),
                        c.worker,
                        c.state.code().to_owned(),
                        opt(c.close_reason.map(|r| r.code())),
                        c.opened_on.to_string(),
                        opt(c.ended_on),
                    ])
                })
                .await?
        }
        Kind::CaseNeeds => {
            store
                .for_each_need(&mut |n| {
                    row(vec![
                        n.case_id.to_string(),
                        n.need.to_string(),
                        n.source.code().to_owned(),
                        if n.confirmed { "1" } else { "0" }.to_owned(),
                    ])
                })
                .await?
        }
        Kind::PlanItems => {
            store
                .for_each_plan_item(&mut |p| {
                    row(vec![
                        p.id.to_string(),
                        p.case_id.to_string(),
                        p.intervention,
                        opt(p.partner),
                        p.status.code().to_owned(),
                        opt(p.start_on),
                        opt(p.end_on),
                        p.cost.to_plain(),
                        opt(p.funding.map(|f| f.code())),
                        p.note,
                    ])
                })
                .await?
        }
        Kind::Referrals => {
            store
                .for_each_referral(&mut |r| {
                    row(vec![
                        r.id.to_string(),
                        r.case_id.to_string(),
                        opt(r.plan_item),
                        r.partner.to_string(),
                        r.state.code().to_owned(),
                        r.sent_by,
                        instant(r.sent_at),
                        instant(r.deadline_at),
                        opt(r.acknowledged_at.map(instant)),
                        opt(r.closed_at.map(instant)),
                        opt(r.outcome),
                        r.note,
                    ])
                })
                .await?
        }
        Kind::Visits => {
            store
                .for_each_visit(&mut |v| {
                    row(vec![
                        v.id.to_string(),
                        v.case_id.to_string(),
                        v.visited_on.to_string(),
                        v.worker,
                        v.note,
                        opt(v.round),
                    ])
                })
                .await?
        }
        Kind::CaseAlerts => {
            store
                .for_each_alert(&mut |a| {
                    row(vec![
                        a.id.to_string(),
                        a.case_id.to_string(),
                        a.kind.code().to_owned(),
                        a.round.to_string(),
                        instant(a.raised_at),
                        opt(a.resolved_at.map(instant)),
                    ])
                })
                .await?
        }
        other => unreachable!("{other:?} is not a case kind"),
    }
    Ok(())
}

/// One row's cells by column name, collecting errors with their column.
struct Cells<'a> {
    record: &'a Record,
    columns: &'a HashMap<&'static str, usize>,
    errors: Vec<(&'static str, ParseError)>,
}

impl Cells<'_> {
    fn raw(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .map_or("", |&i| self.record.get(i))
            .trim()
    }

    fn req<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let raw = self.raw(column).to_owned();
        if raw.is_empty() {
            self.errors.push((
                column,
                ParseError::new("text.empty", "ต้องกรอกช่องนี้", "this field is required"),
            ));
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push((column, e));
                None
            }
        }
    }

    /// `Some(None)` for an empty cell, `None` after an error.
    fn opt<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<Option<T>> {
        let raw = self.raw(column).to_owned();
        if raw.is_empty() {
            return Some(None);
        }
        match parse(&raw) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                self.errors.push((column, e));
                None
            }
        }
    }

    fn fail(&mut self, column: &'static str, e: ParseError) {
        self.errors.push((column, e));
    }

    fn text(&self, column: &str, max: usize) -> Result<String, ParseError> {
        let raw = self.raw(column);
        if raw.is_empty() {
            Ok(String::new())
        } else {
            parse_text(raw, max)
        }
    }
}

fn id(raw: &str) -> Result<i64, ParseError> {
    halve_io::normalize_digits(raw)
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            ParseError::new(
                "id.syntax",
                "เลขที่ต้องเป็นจำนวนเต็มบวก",
                "an id is a positive whole number",
            )
        })
}

fn unknown(th: &str, en: &str) -> ParseError {
    ParseError::new("case.reference", th.to_owned(), en.to_owned())
}

/// Everything the case files of one import hold, parsed.
#[derive(Default)]
struct Parsed {
    partners: Vec<Partner>,
    cases: Vec<CaseRecord>,
    needs: Vec<CaseNeed>,
    items: Vec<PlanItem>,
    referrals: Vec<Referral>,
    visits: Vec<Visit>,
    alerts: Vec<CaseAlert>,
}

/// What rows may refer to: what the store holds plus what these files add.
struct Refs {
    partners: HashSet<String>,
    cases: HashSet<i64>,
    items: HashSet<i64>,
}

/// Reads the case files (in kind order), checks every row and its references, and writes
/// them in `tx` when no row anywhere failed. Summaries go to `summaries`, error reports to
/// `reports` (the caller rolls back when there is any).
pub(crate) async fn import(
    tx: &mut Tx,
    mut tables: Vec<(Kind, TableReader, Option<u64>)>,
    summaries: &mut Vec<FileSummary>,
    reports: &mut Vec<ErrorReport>,
    progress: &dyn Progress,
) -> Result<(), AppError> {
    if tables.is_empty() {
        return Ok(());
    }
    tables.sort_by_key(|(k, _, _)| *k);
    let mut refs = Refs {
        partners: tx
            .partners()
            .await?
            .into_iter()
            .map(|p| p.code.to_string())
            .collect(),
        cases: HashSet::new(),
        items: HashSet::new(),
    };
    let mut parsed = Parsed::default();
    let mut files = Vec::new();
    for (kind, mut table, lines) in tables {
        progress.start(table.file(), lines);
        let mut report = table.new_report();
        let mut rows = 0u64;
        match table.header().require(kind.required()) {
            Err(e) => {
                report.push_read_error(&e);
            }
            Ok(_) => {
                let columns: HashMap<&'static str, usize> = kind
                    .columns()
                    .iter()
                    .filter_map(|&c| table.header().index(c).map(|i| (c, i)))
                    .collect();
                let mut seen: HashMap<String, u64> = HashMap::new();
                loop {
                    let record = match table.next_record(&mut report) {
                        Ok(Some(r)) => r,
                        Ok(None) => break,
                        Err(e) => {
                            report.push_read_error(&e);
                            break;
                        }
                    };
                    rows += 1;
                    progress.advance(1);
                    let mut cells = Cells {
                        record: &record,
                        columns: &columns,
                        errors: Vec::new(),
                    };
                    let key = row(kind, &mut cells, tx, &mut refs, &mut parsed).await?;
                    for (column, e) in cells.errors {
                        report.push(record.line, Some(column), e.th, e.en);
                    }
                    if let Some(key) = key
                        && let Some(first) = seen.insert(key, record.line)
                    {
                        report.push(
                            record.line,
                            None,
                            format!("ซ้ำกับแถวที่ {first} ในไฟล์เดียวกัน"),
                            format!("the same record as line {first} of this file"),
                        );
                    }
                }
            }
        }
        progress.finish();
        files.push((table.file().to_owned(), kind, rows, report));
    }
    let failed = files.iter().any(|(_, _, _, r)| !r.is_empty()) || !reports.is_empty();
    for (file, kind, rows, report) in files {
        if report.is_empty() {
            summaries.push(FileSummary {
                file,
                kind,
                rows,
                written: rows,
            });
        } else {
            reports.push(report);
        }
    }
    if failed {
        return Ok(());
    }
    write(tx, &parsed).await?;
    Ok(())
}

async fn write(tx: &mut Tx, p: &Parsed) -> Result<(), StoreError> {
    for r in &p.partners {
        tx.save_partner(r).await?;
    }
    for r in &p.cases {
        tx.save_case(r).await?;
    }
    for r in &p.needs {
        tx.save_need(r).await?;
    }
    for r in &p.items {
        tx.save_plan_item(r).await?;
    }
    for r in &p.referrals {
        tx.save_referral(r).await?;
    }
    for r in &p.visits {
        tx.save_visit(r).await?;
    }
    for r in &p.alerts {
        tx.save_alert(r).await?;
    }
    tx.sync_case_ids().await
}

/// Parses one row of `kind` into `parsed`; returns its key for the duplicate check.
async fn row(
    kind: Kind,
    cells: &mut Cells<'_>,
    tx: &mut Tx,
    refs: &mut Refs,
    parsed: &mut Parsed,
) -> Result<Option<String>, AppError> {
    let known_case = |cells: &mut Cells<'_>, refs: &Refs, column| {
        cells.req(column, id).and_then(|case_id| {
            if refs.cases.contains(&case_id) {
                Some(case_id)
            } else {
                cells.fail(
                    column,
                    unknown(
                        "ไม่พบเคสเลขนี้: นำเข้า cases.csv ก่อน",
                        "no case has this id: import cases.csv first",
                    ),
                );
                None
            }
        })
    };
    let known_partner = |refs: &Refs, raw: &str| {
        let code = Key::parse(raw)?;
        if refs.partners.contains(code.as_str()) {
            Ok(code)
        } else {
            Err(unknown(
                "ไม่พบหน่วยงานภาคีรหัสนี้: นำเข้า partners.csv ก่อน",
                "no partner has this code: import partners.csv first",
            ))
        }
    };
    Ok(match kind {
        Kind::Partners => {
            let code = cells.req("partner_code", Key::parse);
            let name_th = cells.req("name_th", |s| parse_text(s, 200));
            let name_en = cells.req("name_en", |s| parse_text(s, 200));
            let partner_kind = cells.req("kind", PartnerKind::parse);
            let ack_days = cells.req("ack_days", |s| {
                halve_io::normalize_digits(s).parse::<u32>().map_err(|_| {
                    ParseError::new(
                        "ack_days.syntax",
                        "จำนวนวันต้องเป็นจำนวนเต็ม 0 ขึ้นไป",
                        "days are a whole number, 0 or more",
                    )
                })
            });
            let active = cells.opt("active", parse_bool).map(|b| b.unwrap_or(true));
            match (code, name_th, name_en, partner_kind, ack_days, active) {
                (
                    Some(code),
                    Some(name_th),
                    Some(name_en),
                    Some(kind),
                    Some(ack_days),
                    Some(active),
                ) if cells.errors.is_empty() => {
                    refs.partners.insert(code.to_string());
                    let key = code.to_string();
                    parsed.partners.push(Partner {
                        code,
                        name_th,
                        name_en,
                        kind,
                        ack_days,
                        active,
                    });
                    Some(key)
                }
                _ => None,
            }
        }
        Kind::Cases => {
            let case_id = cells.req("case_id", id);
            let house = cells.req("house_code", Key::parse);
            if let Some(h) = &house
                && !tx.household_exists(h.as_str()).await?
            {
                cells.fail(
                    "house_code",
                    unknown(
                        "ไม่พบครัวเรือนนี้ในทะเบียน: นำเข้า households.csv ก่อน",
                        "no household has this code: import households.csv first",
                    ),
                );
            }
            let worker = cells.req("worker", |s| parse_text(s, 100));
            let state = cells.req("state", CaseState::parse);
            let reason = cells.opt("close_reason", CloseReason::parse);
            let opened_on = cells.req("opened_on", BeDate::parse);
            let ended_on = cells.opt("ended_on", BeDate::parse);
            if let (Some(state), Some(reason)) = (state, reason)
                && (state == CaseState::Closed) != reason.is_some()
            {
                cells.fail(
                    "close_reason",
                    ParseError::new(
                        "case.close_reason",
                        "เคสที่ปิดต้องมีเหตุผล และมีได้เฉพาะเคสที่ปิด",
                        "a closed case has a close reason, and only a closed case has one",
                    ),
                );
            }
            match (case_id, house, worker, state, reason, opened_on, ended_on) {
                (
                    Some(id),
                    Some(household),
                    Some(worker),
                    Some(state),
                    Some(reason),
                    Some(o),
                    Some(e),
                ) if cells.errors.is_empty() => {
                    refs.cases.insert(id);
                    parsed.cases.push(CaseRecord {
                        id,
                        household,
                        worker,
                        state,
                        close_reason: reason,
                        opened_on: o,
                        ended_on: e,
                    });
                    Some(id.to_string())
                }
                _ => None,
            }
        }
        Kind::CaseNeeds => {
            let case_id = known_case(cells, refs, "case_id");
            let need = cells.req("need", NeedCode::parse);
            let source = cells.req("source", NeedSource::parse);
            let confirmed = cells
                .opt("confirmed", parse_bool)
                .map(|b| b.unwrap_or(false));
            match (case_id, need, source, confirmed) {
                (Some(case_id), Some(need), Some(source), Some(confirmed))
                    if cells.errors.is_empty() =>
                {
                    let key = format!("{case_id}|{need}");
                    parsed.needs.push(CaseNeed {
                        case_id,
                        need,
                        source,
                        confirmed,
                    });
                    Some(key)
                }
                _ => None,
            }
        }
        Kind::PlanItems => {
            let item_id = cells.req("plan_item_id", id);
            let case_id = known_case(cells, refs, "case_id");
            let intervention = cells.req("intervention", halve_domain::parse_indicator_name);
            let raw_partner = cells.raw("partner_code").to_owned();
            let partner = if raw_partner.is_empty() {
                Some(None)
            } else {
                match known_partner(refs, &raw_partner) {
                    Ok(p) => Some(Some(p)),
                    Err(e) => {
                        cells.fail("partner_code", e);
                        None
                    }
                }
            };
            let status = cells.req("status", PlanItemStatus::parse);
            let start_on = cells.opt("start_on", BeDate::parse);
            let end_on = cells.opt("end_on", BeDate::parse);
            let cost = cells
                .opt("cost", Satang::parse_non_negative)
                .map(|c| c.unwrap_or_default());
            let funding = cells.opt("funding", FundingSource::parse);
            let note = cells.text("note", 1000);
            let note = match note {
                Ok(n) => Some(n),
                Err(e) => {
                    cells.fail("note", e);
                    None
                }
            };
            match (
                item_id,
                case_id,
                intervention,
                partner,
                status,
                start_on,
                end_on,
                cost,
                funding,
                note,
            ) {
                (
                    Some(id),
                    Some(case_id),
                    Some(intervention),
                    Some(partner),
                    Some(status),
                    Some(start_on),
                    Some(end_on),
                    Some(cost),
                    Some(funding),
                    Some(note),
                ) if cells.errors.is_empty() => {
                    refs.items.insert(id);
                    parsed.items.push(PlanItem {
                        id,
                        case_id,
                        intervention,
                        partner,
                        status,
                        start_on,
                        end_on,
                        cost,
                        funding,
                        note,
                    });
                    Some(id.to_string())
                }
                _ => None,
            }
        }
        Kind::Referrals => {
            let referral_id = cells.req("referral_id", id);
            let case_id = known_case(cells, refs, "case_id");
            let plan_item = cells.opt("plan_item_id", |s| {
                let n = id(s)?;
                if refs.items.contains(&n) {
                    Ok(n)
                } else {
                    Err(unknown(
                        "ไม่พบรายการในแผนเลขนี้: นำเข้า plan_items.csv ก่อน",
                        "no plan item has this id: import plan_items.csv first",
                    ))
                }
            });
            let raw_partner = cells.raw("partner_code").to_owned();
            let partner = match known_partner(refs, &raw_partner) {
                Ok(p) => Some(p),
                Err(e) => {
                    cells.fail("partner_code", e);
                    None
                }
            };
            let state = cells.req("state", ReferralState::parse);
            let sent_by = cells.req("sent_by", |s| parse_text(s, 100));
            let sent_at = cells.req("sent_at", parse_instant);
            let deadline_at = cells.req("deadline_at", parse_instant);
            let acknowledged_at = cells.opt("acknowledged_at", parse_instant);
            let closed_at = cells.opt("closed_at", parse_instant);
            let outcome = cells.opt("outcome", |s| parse_text(s, 1000));
            let note = match cells.text("note", 1000) {
                Ok(n) => Some(n),
                Err(e) => {
                    cells.fail("note", e);
                    None
                }
            };
            match (
                referral_id,
                case_id,
                plan_item,
                partner,
                state,
                sent_by,
                sent_at,
                deadline_at,
                acknowledged_at,
                closed_at,
                outcome,
                note,
            ) {
                (
                    Some(id),
                    Some(case_id),
                    Some(plan_item),
                    Some(partner),
                    Some(state),
                    Some(sent_by),
                    Some(sent_at),
                    Some(deadline_at),
                    Some(acknowledged_at),
                    Some(closed_at),
                    Some(outcome),
                    Some(note),
                ) if cells.errors.is_empty() => {
                    parsed.referrals.push(Referral {
                        id,
                        case_id,
                        plan_item,
                        partner,
                        state,
                        sent_by,
                        sent_at,
                        deadline_at,
                        acknowledged_at,
                        closed_at,
                        outcome,
                        note,
                    });
                    Some(id.to_string())
                }
                _ => None,
            }
        }
        Kind::Visits => {
            let visit_id = cells.req("visit_id", id);
            let case_id = known_case(cells, refs, "case_id");
            let visited_on = cells.req("visited_on", BeDate::parse);
            let worker = cells.req("worker", |s| parse_text(s, 100));
            let round = cells.opt("assessment_round", BeYear::parse);
            let note = match cells.text("note", 1000) {
                Ok(n) => Some(n),
                Err(e) => {
                    cells.fail("note", e);
                    None
                }
            };
            match (visit_id, case_id, visited_on, worker, round, note) {
                (
                    Some(id),
                    Some(case_id),
                    Some(visited_on),
                    Some(worker),
                    Some(round),
                    Some(note),
                ) if cells.errors.is_empty() => {
                    parsed.visits.push(Visit {
                        id,
                        case_id,
                        visited_on,
                        worker,
                        note,
                        round,
                    });
                    Some(id.to_string())
                }
                _ => None,
            }
        }
        Kind::CaseAlerts => {
            let alert_id = cells.req("alert_id", id);
            let case_id = known_case(cells, refs, "case_id");
            let alert_kind = cells.req("kind", CaseAlertKind::parse);
            let round = cells.req("alert_round", BeYear::parse);
            let raised_at = cells.req("raised_at", parse_instant);
            let resolved_at = cells.opt("resolved_at", parse_instant);
            match (alert_id, case_id, alert_kind, round, raised_at, resolved_at) {
                (
                    Some(id),
                    Some(case_id),
                    Some(kind),
                    Some(round),
                    Some(raised_at),
                    Some(resolved_at),
                ) if cells.errors.is_empty() => {
                    parsed.alerts.push(CaseAlert {
                        id,
                        case_id,
                        kind,
                        round,
                        raised_at,
                        resolved_at,
                    });
                    Some(id.to_string())
                }
                _ => None,
            }
        }
        other => unreachable!("{other:?} is not a case kind"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip() {
        for secs in [0, 1_677_144_600, 1_764_400_000, 951_782_399] {
            assert_eq!(parse_instant(&instant(secs)).unwrap(), secs);
        }
        for bad in [
            "2025-01-01",
            "2025-01-01T25:00:00Z",
            "2025-01-01T10:00:00",
            "x",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }
}
