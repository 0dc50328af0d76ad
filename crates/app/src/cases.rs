//! Case management's application rules: opening a case, needs from deprivations, plans,
//! closed-loop referrals with deadlines, the duplicate-help warning, visits and graduation by
//! the target engine's rule.
//!
//! Every function that writes takes the caller's transaction (so the web app can spend its
//! one-time form token in it and a double submit writes once), the [`Actor`] making the
//! change and a [`Clock`]; it checks the rules, writes, and appends one audit entry per
//! record changed (who, when, what, before and after as JSON of codes, dates and amounts,
//! never names or free text). A refusal is a [`CaseError`], bilingual, and nothing is written:
//! the checks come before the first write, and the caller drops the transaction on error.
//!
//! Days (a case opened, a visit) are Buddhist Era dates of Thai local time (UTC+7); instants
//! (a referral sent, acknowledged, closed) are Unix seconds from the clock, so that deadlines
//! are exact and tests control them.

pub mod catalogue;
pub mod demo;
pub mod files;
pub mod results;

pub use catalogue::{check_against, shipped_catalogue};
pub use results::{ExitCount, StrategyResult, exits_by_cause, strategy_results};

use std::collections::BTreeSet;

use halve_domain::case::{
    CaseAlertKind, CaseState, Catalogue, CloseReason, FundingSource, MoveRefused, NeedCode,
    NeedSource, PlanItemStatus, ReferralSide, ReferralState, acknowledgement_deadline,
    days_overdue, referral_overdue,
};
use halve_domain::{AreaCode, BeDate, EcoZoneSet, Key, ParseError, Satang};
use halve_measure::Spec;
use halve_measure::panel::{Class, State};
use halve_store::{
    AuditEntry, CaseAlert, CaseNeed, CaseRecord, CaseloadRow, HouseholdFacts, InboxRow, PlanItem,
    Referral, Store, StoreError, Tx, Visit,
};
use serde_json::json;

use crate::AppError;
use crate::assess;
use crate::clock::{Clock, iso_utc};
use crate::measure::deprivation_profile;
use crate::target::RegistryPanel;

/// Who is making a change.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// The account's username: a case's worker is one.
    pub username: &'a str,
    /// The name the audit log records (the web app writes `web:USERNAME`).
    pub audit_name: &'a str,
    /// For an account of a partner agency, the partner's code: such an account may only
    /// answer referrals sent to that partner.
    pub partner: Option<&'a str>,
}

/// Where an account may work, mirroring the web app's scope: everywhere, or in listed
/// eco-zones and areas (province down to village). Passed in as data, so this crate does not
/// depend on the web app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AreaScope {
    pub everywhere: bool,
    pub zones: Vec<String>,
    pub areas: Vec<AreaCode>,
}

impl AreaScope {
    pub fn everywhere() -> AreaScope {
        AreaScope {
            everywhere: true,
            ..AreaScope::default()
        }
    }

    /// Whether a household of `village` is inside the scope.
    pub fn allows(&self, village: AreaCode, zones: &EcoZoneSet) -> bool {
        self.everywhere
            || self.areas.iter().any(|a| a.contains(village))
            || zones
                .zone_of(village)
                .is_some_and(|z| self.zones.contains(&z.code))
    }
}

/// Why a case action was refused. Messages are bilingual and carry codes and states only.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("ไม่พบครัวเรือนนี้ (no such household)")]
    NoHousehold,
    #[error("ไม่พบเคสนี้ (no such case)")]
    NoCase,
    #[error("ไม่พบรายการในแผนนี้ในเคสนี้ (no such plan item in this case)")]
    NoPlanItem,
    #[error("ไม่พบการส่งต่อนี้ (no such referral)")]
    NoReferral,
    #[error(
        "ผู้ดูแลเคสต้องทำงานในโซนหรือพื้นที่ของครัวเรือนนี้ \
         (the assigned worker must belong to the household's zone or area)"
    )]
    WorkerOutsideZone,
    #[error(
        "ครัวเรือนนี้มีเคสที่ยังเปิดอยู่แล้ว เลขที่ {0} (the household already has an active case, number {0})"
    )]
    AlreadyOpen(i64),
    #[error("{0}")]
    Move(#[from] MoveRefused),
    #[error("{th} ({en})")]
    NotGraduated { th: String, en: String },
    #[error("ไม่มีความช่วยเหลือรหัส {0} ในรายการ (no intervention of code {0} in the catalogue)")]
    UnknownIntervention(String),
    #[error("ไม่พบหน่วยงานภาคีรหัส {0} (no partner of code {0})")]
    UnknownPartner(String),
    #[error("หน่วยงานภาคี {0} ไม่ได้เปิดรับการส่งต่อแล้ว (partner {0} is no longer active)")]
    PartnerInactive(String),
    #[error("การส่งต่อนี้ไม่ได้ส่งถึงหน่วยงานของคุณ (this referral was not sent to your agency)")]
    NotYourReferral,
    #[error("เฉพาะผู้ปฏิบัติงานทำรายการนี้ได้ (only a worker can do this: send or withdraw a referral)")]
    WorkersOnly,
    #[error("ต้องบันทึกผลการดำเนินการ (an outcome is required)")]
    OutcomeRequired,
    #[error("เคสนี้ปิดหรือพ้นความยากจนแล้ว ต้องเปิดเคสใหม่ก่อน (the case is not active: re-open it first)")]
    CaseNotActive,
    #[error(
        "การประเมินที่บันทึกต้องเป็นของครัวเรือนในเคสนี้ (the assessment must be of this case's household)"
    )]
    AssessmentOfAnotherHousehold,
    #[error("วันที่สิ้นสุดต้องไม่ก่อนวันที่เริ่ม (the end date cannot be before the start date)")]
    EndBeforeStart,
    #[error("{0}")]
    Invalid(ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl CaseError {
    /// A stable code per kind of refusal, for pages that word it from their own messages.
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NoHousehold => "no_household",
            CaseError::NoCase => "no_case",
            CaseError::NoPlanItem => "no_plan_item",
            CaseError::NoReferral => "no_referral",
            CaseError::WorkerOutsideZone => "worker_outside_zone",
            CaseError::AlreadyOpen(_) => "already_open",
            CaseError::Move(_) => "move_refused",
            CaseError::NotGraduated { .. } => "not_graduated",
            CaseError::UnknownIntervention(_) => "unknown_intervention",
            CaseError::UnknownPartner(_) => "unknown_partner",
            CaseError::PartnerInactive(_) => "partner_inactive",
            CaseError::NotYourReferral => "not_your_referral",
            CaseError::WorkersOnly => "workers_only",
            CaseError::OutcomeRequired => "outcome_required",
            CaseError::CaseNotActive => "case_not_active",
            CaseError::AssessmentOfAnotherHousehold => "assessment_of_another_household",
            CaseError::EndBeforeStart => "end_before_start",
            CaseError::Invalid(e) => e.code,
            CaseError::Store(_) => "store",
            CaseError::App(_) => "app",
        }
    }

    /// The message in Thai and in English, for a page showing one language.
    pub fn th_en(&self) -> (String, String) {
        match self {
            CaseError::Move(m) => (m.th(), m.en()),
            CaseError::NotGraduated { th, en } => (th.clone(), en.clone()),
            CaseError::Invalid(e) => (e.th.clone(), e.en.clone()),
            other => {
                // Every other message is written "ไทย (English)".
                let text = other.to_string();
                match text.split_once(" (") {
                    Some((th, en)) => (th.to_owned(), en.trim_end_matches(')').to_owned()),
                    None => (text.clone(), text),
                }
            }
        }
    }
}

impl From<ParseError> for CaseError {
    fn from(e: ParseError) -> CaseError {
        CaseError::Invalid(e)
    }
}

impl From<CaseError> for AppError {
    fn from(e: CaseError) -> AppError {
        match e {
            CaseError::Store(e) => AppError::Store(e),
            CaseError::App(e) => e,
            other => AppError::Invalid(other.to_string()),
        }
    }
}

/// Thai local time is UTC+7 all year.
const THAI_OFFSET: i64 = 7 * 3600;

/// The Buddhist Era date in Thailand at Unix time `secs`.
pub fn thai_date(secs: i64) -> BeDate {
    let iso = iso_utc(secs + THAI_OFFSET);
    BeDate::parse_ce(&iso[..10]).expect("a clock's date is a real day")
}

fn audit(
    actor: &Actor<'_>,
    clock: &dyn Clock,
    action: &str,
    entity: &str,
    key: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    AuditEntry {
        at: clock.now_iso(),
        actor: actor.audit_name.to_owned(),
        action: action.to_owned(),
        entity: entity.to_owned(),
        entity_key: key.to_string(),
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
    }
}

fn case_json(c: &CaseRecord) -> serde_json::Value {
    json!({
        "household": c.household.as_str(),
        "worker": c.worker,
        "state": c.state.code(),
        "close_reason": c.close_reason.map(|r| r.code()),
        "opened_on": c.opened_on.to_string(),
        "ended_on": c.ended_on.map(|d| d.to_string()),
    })
}

fn plan_json(p: &PlanItem) -> serde_json::Value {
    json!({
        "case": p.case_id,
        "intervention": p.intervention,
        "partner": p.partner.as_ref().map(|k| k.as_str()),
        "status": p.status.code(),
        "start_on": p.start_on.map(|d| d.to_string()),
        "end_on": p.end_on.map(|d| d.to_string()),
        "cost": p.cost.to_plain(),
        "funding": p.funding.map(|f| f.code()),
    })
}

/// A referral for the audit log: its codes and instants; the outcome and note are free text
/// (they may name people), so only whether there is one is kept.
fn referral_json(r: &Referral) -> serde_json::Value {
    json!({
        "case": r.case_id,
        "plan_item": r.plan_item,
        "partner": r.partner.as_str(),
        "state": r.state.code(),
        "sent_at": r.sent_at,
        "deadline_at": r.deadline_at,
        "acknowledged_at": r.acknowledged_at,
        "closed_at": r.closed_at,
        "has_outcome": r.outcome.is_some(),
    })
}

async fn load_case(tx: &mut Tx, case_id: i64) -> Result<CaseRecord, CaseError> {
    tx.case(case_id).await?.ok_or(CaseError::NoCase)
}

/// Writes a case's new state and audits the change.
async fn write_case(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    action: &str,
    before: &CaseRecord,
    after: &CaseRecord,
) -> Result<(), CaseError> {
    tx.save_case(after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        action,
        "case",
        after.id,
        Some(case_json(before)),
        Some(case_json(after)),
    ))
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Opening a case, and its needs.

/// What opening a case needs from the caller.
pub struct OpenCase<'a> {
    pub household: &'a Key,
    /// The worker assigned, and where that worker may work.
    pub worker: &'a str,
    pub worker_scope: &'a AreaScope,
    pub zones: &'a EcoZoneSet,
    /// The spec whose deprivations suggest needs (the server's spec).
    pub spec: &'a Spec,
}

/// A case just opened, with the needs suggested for the worker to confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub case: CaseRecord,
    pub suggested: Vec<NeedCode>,
}

/// Opens a case for a household: it must exist, the worker must be allowed in its zone or
/// area, and it must have no active case. Needs are suggested from its latest assessment's
/// deprivations under `spec` and its members' flags, unconfirmed.
pub async fn open_case(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    req: &OpenCase<'_>,
) -> Result<Opened, CaseError> {
    let facts = tx
        .household_facts(req.household.as_str())
        .await?
        .ok_or(CaseError::NoHousehold)?;
    if !req.worker_scope.allows(facts.village, req.zones) {
        return Err(CaseError::WorkerOutsideZone);
    }
    if let Some(active) = tx
        .cases_of_household(req.household.as_str())
        .await?
        .into_iter()
        .find(|c| c.state.is_active())
    {
        return Err(CaseError::AlreadyOpen(active.id));
    }
    let suggested = suggest_needs(req.spec, &facts)?;
    let mut case = CaseRecord {
        id: 0,
        household: req.household.clone(),
        worker: req.worker.to_owned(),
        state: CaseState::Open,
        close_reason: None,
        opened_on: thai_date(clock.unix_seconds()),
        ended_on: None,
    };
    case.id = match tx.save_case(&case).await {
        Ok(id) => id,
        // Another worker opened one in a transaction that committed meanwhile: the unique
        // index of active cases refused ours.
        Err(StoreError::Constraint { .. }) => return Err(CaseError::AlreadyOpen(0)),
        Err(StoreError::Database { summary, .. }) if summary == "UniqueViolation" => {
            return Err(CaseError::AlreadyOpen(0));
        }
        Err(e) => return Err(e.into()),
    };
    tx.append_audit(&audit(
        actor,
        clock,
        "create",
        "case",
        case.id,
        None,
        Some(case_json(&case)),
    ))
    .await?;
    for need in &suggested {
        tx.save_need(&CaseNeed {
            case_id: case.id,
            need: need.clone(),
            source: NeedSource::Suggested,
            confirmed: false,
        })
        .await?;
    }
    if !suggested.is_empty() {
        let codes: Vec<String> = suggested.iter().map(ToString::to_string).collect();
        tx.append_audit(&audit(
            actor,
            clock,
            "suggest",
            "case_need",
            case.id,
            None,
            Some(json!({ "needs": codes })),
        ))
        .await?;
    }
    Ok(Opened { case, suggested })
}

/// The needs halve suggests for a household: the indicators of `spec` it is deprived in at
/// its latest assessment (in spec order), then its members' vulnerability flags. A latest
/// assessment with values missing suggests the indicators it does show deprived.
pub fn suggest_needs(spec: &Spec, facts: &HouseholdFacts) -> Result<Vec<NeedCode>, AppError> {
    let mut out = Vec::new();
    if let Some(latest) = facts.assessments.last() {
        match deprivation_profile(spec, latest)? {
            Some(bits) => {
                for (j, ind) in spec.indicators.iter().enumerate() {
                    if bits & (1 << j) != 0 {
                        out.push(NeedCode::Indicator(ind.name.clone()));
                    }
                }
            }
            None => {
                // Complete-case measurement drops this household; for suggestions, each
                // indicator is judged on the value it has.
                for ind in &spec.indicators {
                    let mut one = latest.clone();
                    one.values.retain(|k, _| k == ind.rule.column());
                    let single = Spec {
                        indicators: vec![ind.clone()],
                        ..spec.clone()
                    };
                    if one.values.contains_key(ind.rule.column())
                        && deprivation_profile(&single, &one)? == Some(1)
                    {
                        out.push(NeedCode::Indicator(ind.name.clone()));
                    }
                }
            }
        }
    }
    out.extend(facts.flags.iter().map(|&f| NeedCode::Flag(f)));
    Ok(out)
}

/// The worker confirms a suggested need (or takes a confirmation back).
pub async fn confirm_need(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    need: &NeedCode,
    confirmed: bool,
) -> Result<CaseNeed, CaseError> {
    load_case(tx, case_id).await?;
    let before = tx
        .needs_of_case(case_id)
        .await?
        .into_iter()
        .find(|n| &n.need == need)
        .ok_or(CaseError::Invalid(ParseError::new(
            "need.unknown",
            "เคสนี้ไม่มีความต้องการนี้",
            "the case has no such need",
        )))?;
    let after = CaseNeed {
        confirmed,
        ..before.clone()
    };
    tx.save_need(&after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "update",
        "case_need",
        format!("{case_id}/{need}"),
        Some(json!({ "confirmed": before.confirmed })),
        Some(json!({ "confirmed": confirmed })),
    ))
    .await?;
    Ok(after)
}

/// The worker adds a need halve did not suggest (confirmed at once); adding a suggested one
/// confirms it.
pub async fn add_need(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    need: &NeedCode,
) -> Result<CaseNeed, CaseError> {
    load_case(tx, case_id).await?;
    let before = tx
        .needs_of_case(case_id)
        .await?
        .into_iter()
        .find(|n| &n.need == need);
    let after = CaseNeed {
        case_id,
        need: need.clone(),
        source: before.as_ref().map_or(NeedSource::Added, |b| b.source),
        confirmed: true,
    };
    tx.save_need(&after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        if before.is_some() { "update" } else { "create" },
        "case_need",
        format!("{case_id}/{need}"),
        before.map(|b| json!({ "source": b.source.code(), "confirmed": b.confirmed })),
        Some(json!({ "source": after.source.code(), "confirmed": true })),
    ))
    .await?;
    Ok(after)
}

/// Removes a need from a case.
pub async fn remove_need(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    need: &NeedCode,
) -> Result<bool, CaseError> {
    load_case(tx, case_id).await?;
    let removed = tx.remove_need(case_id, need).await?;
    if removed {
        tx.append_audit(&audit(
            actor,
            clock,
            "delete",
            "case_need",
            format!("{case_id}/{need}"),
            Some(json!({ "need": need.to_string() })),
            None,
        ))
        .await?;
    }
    Ok(removed)
}

/// Gives a case to another worker, who must be allowed in the household's zone or area.
pub async fn assign_worker(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    worker: &str,
    worker_scope: &AreaScope,
    zones: &EcoZoneSet,
) -> Result<CaseRecord, CaseError> {
    let before = load_case(tx, case_id).await?;
    let facts = tx
        .household_facts(before.household.as_str())
        .await?
        .ok_or(CaseError::NoHousehold)?;
    if !worker_scope.allows(facts.village, zones) {
        return Err(CaseError::WorkerOutsideZone);
    }
    let after = CaseRecord {
        worker: worker.to_owned(),
        ..before.clone()
    };
    write_case(tx, actor, clock, "assign", &before, &after).await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Case states.

/// A move of a case other than graduation (which needs the target engine: [`graduate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseMove {
    /// Open → in progress (also made by starting a plan item or sending a referral).
    Start,
    Close(CloseReason),
    /// Graduated or closed → open.
    Reopen,
}

/// Moves a case as the state rules allow.
pub async fn move_case(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    mv: CaseMove,
) -> Result<CaseRecord, CaseError> {
    let before = load_case(tx, case_id).await?;
    let (to, reason) = match mv {
        CaseMove::Start => (CaseState::InProgress, None),
        CaseMove::Close(r) => (CaseState::Closed, Some(r)),
        CaseMove::Reopen => (CaseState::Open, None),
    };
    let state = before.state.move_to(to)?;
    if mv == CaseMove::Reopen
        && let Some(active) = tx
            .cases_of_household(before.household.as_str())
            .await?
            .into_iter()
            .find(|c| c.state.is_active() && c.id != case_id)
    {
        return Err(CaseError::AlreadyOpen(active.id));
    }
    let today = thai_date(clock.unix_seconds());
    let after = CaseRecord {
        state,
        close_reason: reason,
        ended_on: (!state.is_active()).then_some(today),
        ..before.clone()
    };
    let action = match mv {
        CaseMove::Start => "start",
        CaseMove::Close(_) => "close",
        CaseMove::Reopen => "reopen",
    };
    write_case(tx, actor, clock, action, &before, &after).await?;
    Ok(after)
}

/// An open case moves to in progress when help starts.
async fn start_if_open(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case: &CaseRecord,
) -> Result<(), CaseError> {
    if case.state == CaseState::Open {
        move_case(tx, actor, clock, case.id, CaseMove::Start).await?;
    }
    Ok(())
}

/// Whether the target engine's graduation rule holds for a household in `panel` (built with
/// `keep_households`): in the latest round it is classed graduated (of the baseline cohort,
/// out of the target population in `consecutive_out` assessments in a row). A household that
/// entered after the baseline is never classed so by the panel; for it the same rule is read
/// off its states: out in the last `consecutive_out` rounds in a row, having been in before.
/// The refusal says why, in the worker's words.
pub fn graduation_check(panel: &RegistryPanel, household: &Key) -> Result<(), CaseError> {
    let need = usize::from(panel.target().consecutive_out);
    let refuse = |th: String, en: String| Err(CaseError::NotGraduated { th, en });
    let Some(h) = panel.household(household) else {
        return refuse(
            "ยังไม่มีผลการประเมินของครัวเรือนนี้ในข้อมูลเป้าหมาย".into(),
            "the household is not in the target panel (no assessment yet)".into(),
        );
    };
    let Some(last) = h.rounds.last() else {
        return refuse(
            "ยังไม่มีรอบการสำรวจ".into(),
            "there is no assessment round yet".into(),
        );
    };
    if last.class == Some(Class::Graduated) {
        return Ok(());
    }
    let trailing_out = h
        .rounds
        .iter()
        .rev()
        .take_while(|r| r.state == State::Out)
        .count();
    let was_in = h.rounds.iter().any(|r| r.state == State::In);
    if last.class != Some(Class::ExitedOnce) && was_in && trailing_out >= need {
        // Not of the cohort, but out as many times in a row as the rule asks.
        return Ok(());
    }
    match last.state {
        State::In => refuse(
            format!(
                "ครัวเรือนยังอยู่ในกลุ่มเป้าหมายในการสำรวจล่าสุด ({}) ต้องพ้นกลุ่มเป้าหมาย {need} ครั้งติดต่อกัน",
                last.year
            ),
            format!(
                "the household is still in the target population at the latest assessment \
                 ({}); it needs {need} qualifying assessments in a row",
                last.year
            ),
        ),
        State::Out => refuse(
            format!("ต้องพ้นกลุ่มเป้าหมาย {need} ครั้งติดต่อกัน ตอนนี้ {trailing_out} ครั้ง: รอการสำรวจครั้งถัดไป"),
            format!(
                "needs {need} qualifying assessments in a row, has {trailing_out}: wait for the \
                 next assessment"
            ),
        ),
        _ => refuse(
            format!(
                "การสำรวจล่าสุด ({}) ไม่มีผลประเมินที่ใช้ตัดสินได้ ต้องพ้นกลุ่มเป้าหมาย {need} ครั้งติดต่อกัน",
                last.year
            ),
            format!(
                "the latest round ({}) has no assessment that decides; it needs {need} \
                 qualifying assessments in a row",
                last.year
            ),
        ),
    }
}

/// Moves an open or in-progress case to graduated, only when the target engine's graduation
/// rule holds ([`graduation_check`]). The web app passes the panel it keeps; the CLI and
/// tests build one with `ProgressOptions { keep_households: true, .. }`.
pub async fn graduate(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    panel: &RegistryPanel,
) -> Result<CaseRecord, CaseError> {
    let before = load_case(tx, case_id).await?;
    let state = before.state.move_to(CaseState::Graduated)?;
    graduation_check(panel, &before.household)?;
    let after = CaseRecord {
        state,
        close_reason: None,
        ended_on: Some(thai_date(clock.unix_seconds())),
        ..before.clone()
    };
    write_case(tx, actor, clock, "graduate", &before, &after).await?;
    Ok(after)
}

/// Re-opens every graduated case whose household is back in the target population in the
/// panel's latest round, with a `fell_back` alert for that round. Idempotent: a re-opened
/// case is no longer graduated, and one alert per case and round is kept. Returns the ids of
/// the cases re-opened. A household that has another active case meanwhile is alerted but
/// not re-opened (one active case per household).
pub async fn reopen_fallen_back(
    store: &Store,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    panel: &RegistryPanel,
) -> Result<Vec<i64>, CaseError> {
    let mut tx = store.begin().await?;
    let mut reopened = Vec::new();
    for case in tx.cases_in_state(&[CaseState::Graduated]).await? {
        let Some(h) = panel.household(&case.household) else {
            continue;
        };
        let Some(last) = h.rounds.last() else {
            continue;
        };
        if last.state != State::In {
            continue;
        }
        let round = halve_domain::BeYear::new(last.year)?;
        let alert = CaseAlert {
            id: 0,
            case_id: case.id,
            kind: CaseAlertKind::FellBack,
            round,
            raised_at: clock.unix_seconds(),
            resolved_at: None,
        };
        if let Some(id) = tx.save_alert(&alert).await? {
            tx.append_audit(&audit(
                actor,
                clock,
                "create",
                "case_alert",
                id,
                None,
                Some(json!({ "case": case.id, "kind": "fell_back", "round": last.year })),
            ))
            .await?;
        }
        let other_active = tx
            .cases_of_household(case.household.as_str())
            .await?
            .iter()
            .any(|c| c.state.is_active());
        if !other_active {
            move_case(&mut tx, actor, clock, case.id, CaseMove::Reopen).await?;
            reopened.push(case.id);
        }
    }
    tx.commit().await?;
    Ok(reopened)
}

/// Marks an alert as dealt with.
pub async fn resolve_alert(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    case_id: i64,
    alert_id: i64,
) -> Result<CaseAlert, CaseError> {
    let before = tx
        .alerts_of_case(case_id)
        .await?
        .into_iter()
        .find(|a| a.id == alert_id)
        .ok_or(CaseError::NoCase)?;
    let after = CaseAlert {
        resolved_at: Some(before.resolved_at.unwrap_or(clock.unix_seconds())),
        ..before.clone()
    };
    tx.save_alert(&after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "resolve",
        "case_alert",
        alert_id,
        Some(json!({ "resolved_at": before.resolved_at })),
        Some(json!({ "resolved_at": after.resolved_at })),
    ))
    .await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Plans, referrals and the duplicate-help warning.

/// Help the household is already getting from another partner, shown as a warning (not an
/// error) when a plan item or referral would give it the same help again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateHelp {
    /// The intervention already being given.
    pub intervention: String,
    pub partner: Key,
    pub via: HelpVia,
    /// The very same type of help (else: a type solving an indicator or flag in common).
    pub same_type: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpVia {
    PlanItem(i64),
    Referral(i64),
}

/// The help a household is being given by partners other than `partner` (any partner when
/// `None`) that is the same as, or overlaps, `intervention`: plan items in progress and
/// referrals sent or acknowledged (a referral's help is its plan item's intervention).
/// `skip_item` leaves out the plan item being referred itself.
pub fn duplicate_help(
    catalogue: &Catalogue,
    intervention: &str,
    partner: Option<&Key>,
    items: &[PlanItem],
    referrals: &[Referral],
    skip_item: Option<i64>,
) -> Vec<DuplicateHelp> {
    let Some(wanted) = catalogue.get(intervention) else {
        return Vec::new();
    };
    let other = |p: &Key| partner != Some(p);
    let compare = |code: &str| -> Option<bool> {
        if code == intervention {
            Some(true)
        } else {
            catalogue
                .get(code)
                .is_some_and(|t| t.overlaps(wanted))
                .then_some(false)
        }
    };
    let mut out = Vec::new();
    for item in items {
        if item.status != PlanItemStatus::InProgress || Some(item.id) == skip_item {
            continue;
        }
        if let Some(p) = &item.partner
            && other(p)
            && let Some(same_type) = compare(&item.intervention)
        {
            out.push(DuplicateHelp {
                intervention: item.intervention.clone(),
                partner: p.clone(),
                via: HelpVia::PlanItem(item.id),
                same_type,
            });
        }
    }
    for r in referrals {
        if !r.state.is_open() || !other(&r.partner) {
            continue;
        }
        let Some(item) = r.plan_item.and_then(|id| items.iter().find(|i| i.id == id)) else {
            continue;
        };
        if Some(item.id) == skip_item {
            continue;
        }
        // The same help, already listed through its plan item with the same partner.
        if out
            .iter()
            .any(|d| d.via == HelpVia::PlanItem(item.id) && d.partner == r.partner)
        {
            continue;
        }
        if let Some(same_type) = compare(&item.intervention) {
            out.push(DuplicateHelp {
                intervention: item.intervention.clone(),
                partner: r.partner.clone(),
                via: HelpVia::Referral(r.id),
                same_type,
            });
        }
    }
    out
}

/// A plan item to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPlanItem {
    pub case_id: i64,
    pub intervention: String,
    pub partner: Option<Key>,
    pub start_on: Option<BeDate>,
    pub end_on: Option<BeDate>,
    pub cost: Satang,
    pub funding: Option<FundingSource>,
    pub note: String,
}

/// A write that went through, with the duplicate-help warnings to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithWarnings<T> {
    pub value: T,
    pub warnings: Vec<DuplicateHelp>,
}

async fn active_partner(tx: &mut Tx, code: &Key) -> Result<halve_store::Partner, CaseError> {
    let p = tx
        .partner(code.as_str())
        .await?
        .ok_or_else(|| CaseError::UnknownPartner(code.to_string()))?;
    if !p.active {
        return Err(CaseError::PartnerInactive(code.to_string()));
    }
    Ok(p)
}

fn check_note(note: &str) -> Result<String, CaseError> {
    let note = note.trim();
    if note.is_empty() {
        return Ok(String::new());
    }
    Ok(halve_domain::parse_text(note, 1000)?)
}

/// Adds an intervention of the catalogue to an active case's plan, as planned.
pub async fn add_plan_item(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    catalogue: &Catalogue,
    new: &NewPlanItem,
) -> Result<WithWarnings<PlanItem>, CaseError> {
    let case = load_case(tx, new.case_id).await?;
    if !case.state.is_active() {
        return Err(CaseError::CaseNotActive);
    }
    if catalogue.get(&new.intervention).is_none() {
        return Err(CaseError::UnknownIntervention(new.intervention.clone()));
    }
    if let Some(p) = &new.partner {
        active_partner(tx, p).await?;
    }
    if let (Some(s), Some(e)) = (new.start_on, new.end_on)
        && e < s
    {
        return Err(CaseError::EndBeforeStart);
    }
    if new.cost.0 < 0 {
        return Err(ParseError::new(
            "money.negative",
            "จำนวนเงินต้องไม่ติดลบ",
            "the amount cannot be negative",
        )
        .into());
    }
    let note = check_note(&new.note)?;
    let (items, referrals) = tx.help_of_household(case.household.as_str()).await?;
    let warnings = duplicate_help(
        catalogue,
        &new.intervention,
        new.partner.as_ref(),
        &items,
        &referrals,
        None,
    );
    let mut item = PlanItem {
        id: 0,
        case_id: case.id,
        intervention: new.intervention.clone(),
        partner: new.partner.clone(),
        status: PlanItemStatus::Planned,
        start_on: new.start_on,
        end_on: new.end_on,
        cost: new.cost,
        funding: new.funding,
        note,
    };
    item.id = tx.save_plan_item(&item).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "create",
        "plan_item",
        item.id,
        None,
        Some(plan_json(&item)),
    ))
    .await?;
    Ok(WithWarnings {
        value: item,
        warnings,
    })
}

/// Moves a plan item as its rules allow; starting or finishing help starts an open case.
/// Returns duplicate-help warnings when the item goes into progress.
pub async fn set_plan_item_status(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    catalogue: &Catalogue,
    case_id: i64,
    item_id: i64,
    status: PlanItemStatus,
) -> Result<WithWarnings<PlanItem>, CaseError> {
    let case = load_case(tx, case_id).await?;
    let before = tx
        .plan_item(item_id)
        .await?
        .filter(|p| p.case_id == case_id)
        .ok_or(CaseError::NoPlanItem)?;
    let status = before.status.move_to(status)?;
    if status.is_active() && !case.state.is_active() {
        return Err(CaseError::CaseNotActive);
    }
    let mut warnings = Vec::new();
    if status == PlanItemStatus::InProgress {
        let (items, referrals) = tx.help_of_household(case.household.as_str()).await?;
        warnings = duplicate_help(
            catalogue,
            &before.intervention,
            before.partner.as_ref(),
            &items,
            &referrals,
            Some(item_id),
        );
    }
    let today = thai_date(clock.unix_seconds());
    let after = PlanItem {
        status,
        start_on: match status {
            PlanItemStatus::InProgress | PlanItemStatus::Done => before.start_on.or(Some(today)),
            _ => before.start_on,
        },
        end_on: match status {
            PlanItemStatus::Done => before.end_on.or(Some(today)),
            PlanItemStatus::InProgress => None,
            _ => before.end_on,
        },
        ..before.clone()
    };
    tx.save_plan_item(&after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "update",
        "plan_item",
        item_id,
        Some(plan_json(&before)),
        Some(plan_json(&after)),
    ))
    .await?;
    if matches!(status, PlanItemStatus::InProgress | PlanItemStatus::Done) {
        start_if_open(tx, actor, clock, &case).await?;
    }
    Ok(WithWarnings {
        value: after,
        warnings,
    })
}

/// A referral to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReferral {
    pub case_id: i64,
    /// The plan item the partner is asked to deliver, if any.
    pub plan_item: Option<i64>,
    pub partner: Key,
    pub note: String,
}

/// Sends a referral from an active case to an active partner; its acknowledgement deadline is
/// the partner's days from now. An open case moves to in progress.
pub async fn send_referral(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    catalogue: &Catalogue,
    new: &NewReferral,
) -> Result<WithWarnings<Referral>, CaseError> {
    if actor.partner.is_some() {
        return Err(CaseError::WorkersOnly);
    }
    let case = load_case(tx, new.case_id).await?;
    if !case.state.is_active() {
        return Err(CaseError::CaseNotActive);
    }
    let partner = active_partner(tx, &new.partner).await?;
    let item = match new.plan_item {
        Some(id) => Some(
            tx.plan_item(id)
                .await?
                .filter(|p| p.case_id == case.id)
                .ok_or(CaseError::NoPlanItem)?,
        ),
        None => None,
    };
    let note = check_note(&new.note)?;
    let (items, referrals) = tx.help_of_household(case.household.as_str()).await?;
    let warnings = item
        .as_ref()
        .map(|i| {
            duplicate_help(
                catalogue,
                &i.intervention,
                Some(&new.partner),
                &items,
                &referrals,
                Some(i.id),
            )
        })
        .unwrap_or_default();
    let now = clock.unix_seconds();
    let mut referral = Referral {
        id: 0,
        case_id: case.id,
        plan_item: new.plan_item,
        partner: new.partner.clone(),
        state: ReferralState::Sent,
        sent_by: actor.username.to_owned(),
        sent_at: now,
        deadline_at: acknowledgement_deadline(now, partner.ack_days),
        acknowledged_at: None,
        closed_at: None,
        outcome: None,
        note,
    };
    referral.id = tx.save_referral(&referral).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "create",
        "referral",
        referral.id,
        None,
        Some(referral_json(&referral)),
    ))
    .await?;
    start_if_open(tx, actor, clock, &case).await?;
    Ok(WithWarnings {
        value: referral,
        warnings,
    })
}

/// Moves a referral along its loop. Acknowledging, doing and declining are the partner's
/// (an account of that partner, or a coordinator acting for it: `actor.partner` is `None`),
/// and doing or declining needs an outcome; withdrawing is a worker's. A referral done
/// finishes its plan item, if that item is still active.
pub async fn answer_referral(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    referral_id: i64,
    to: ReferralState,
    outcome: Option<&str>,
) -> Result<Referral, CaseError> {
    let before = tx
        .referral(referral_id)
        .await?
        .ok_or(CaseError::NoReferral)?;
    if let Some(mine) = actor.partner {
        if mine != before.partner.as_str() {
            // Answers exactly like a referral that does not exist: a partner learns nothing
            // of other partners' referrals.
            return Err(CaseError::NoReferral);
        }
        if to.made_by() == ReferralSide::Worker {
            return Err(CaseError::WorkersOnly);
        }
    }
    let state = before.state.move_to(to)?;
    let outcome = match outcome.map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => Some(halve_domain::parse_text(o, 1000)?),
        None if state.needs_outcome() => return Err(CaseError::OutcomeRequired),
        None => None,
    };
    let now = clock.unix_seconds();
    let after = Referral {
        state,
        acknowledged_at: if state == ReferralState::Acknowledged {
            Some(now)
        } else {
            before.acknowledged_at
        },
        closed_at: if state.is_open() {
            before.closed_at
        } else {
            Some(now)
        },
        outcome: outcome.or(before.outcome.clone()),
        ..before.clone()
    };
    tx.save_referral(&after).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        match state {
            ReferralState::Acknowledged => "acknowledge",
            ReferralState::Done => "done",
            ReferralState::Declined => "decline",
            ReferralState::Withdrawn => "withdraw",
            ReferralState::Sent => "send",
        },
        "referral",
        referral_id,
        Some(referral_json(&before)),
        Some(referral_json(&after)),
    ))
    .await?;
    if state == ReferralState::Done
        && let Some(item_id) = after.plan_item
        && let Some(item) = tx.plan_item(item_id).await?
        && item.status.is_active()
    {
        let done = PlanItem {
            status: PlanItemStatus::Done,
            start_on: item.start_on.or(Some(thai_date(now))),
            end_on: item.end_on.or(Some(thai_date(now))),
            ..item.clone()
        };
        tx.save_plan_item(&done).await?;
        tx.append_audit(&audit(
            actor,
            clock,
            "update",
            "plan_item",
            item_id,
            Some(plan_json(&item)),
            Some(plan_json(&done)),
        ))
        .await?;
    }
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Visits.

/// A visit to log, with the assessment taken during it, if one was.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVisit {
    pub case_id: i64,
    pub visited_on: BeDate,
    pub note: String,
    pub assessment: Option<assess::Entry>,
}

/// Logs a visit by the acting worker; an assessment taken during it is recorded in the same
/// transaction through [`assess::record`] (so it reaches the live figures when the caller
/// commits). A visit may not be dated after today.
pub async fn record_visit(
    tx: &mut Tx,
    actor: &Actor<'_>,
    clock: &dyn Clock,
    new: NewVisit,
) -> Result<Visit, CaseError> {
    let case = load_case(tx, new.case_id).await?;
    if new.visited_on > thai_date(clock.unix_seconds()) {
        return Err(ParseError::new(
            "visit.future",
            "วันที่เยี่ยมต้องไม่เลยวันนี้",
            "a visit cannot be dated after today",
        )
        .into());
    }
    let note = check_note(&new.note)?;
    let mut round = None;
    if let Some(entry) = new.assessment {
        if entry.household != case.household {
            return Err(CaseError::AssessmentOfAnotherHousehold);
        }
        round = Some(entry.round);
        assess::record(tx, actor.audit_name, &clock.now_iso(), entry).await?;
    }
    let mut visit = Visit {
        id: 0,
        case_id: case.id,
        visited_on: new.visited_on,
        worker: actor.username.to_owned(),
        note,
        round,
    };
    visit.id = tx.save_visit(&visit).await?;
    tx.append_audit(&audit(
        actor,
        clock,
        "create",
        "visit",
        visit.id,
        None,
        Some(json!({
            "case": case.id,
            "visited_on": visit.visited_on.to_string(),
            "round": visit.round.map(|r| r.be()),
        })),
    ))
    .await?;
    Ok(visit)
}

// ---------------------------------------------------------------------------------------------
// Views.

/// Days between visits the caseload asks for, unless the caller says otherwise.
pub const DEFAULT_VISIT_EVERY_DAYS: i64 = 30;

/// One line of a worker's caseload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseloadEntry {
    pub row: CaseloadRow,
    /// The day the next visit is due: `visit_every_days` after the last visit, or after
    /// the case opened when nobody has visited yet.
    pub next_visit: BeDate,
    pub visit_overdue: bool,
}

fn add_days(d: BeDate, days: i64) -> BeDate {
    // Ordinals count days from 1 January 1 CE; go through Unix seconds to get a date back.
    let unix_epoch_ordinal = 719_163;
    let secs = (d.ordinal() + days - unix_epoch_ordinal) * 86_400;
    BeDate::parse_ce(&iso_utc(secs)[..10]).expect("a real day")
}

/// A worker's active cases, most urgent first: cases with overdue referrals or open alerts,
/// then by the day the next visit is due, then by case number.
pub async fn caseload(
    store: &Store,
    worker: &str,
    clock: &dyn Clock,
    visit_every_days: i64,
) -> Result<Vec<CaseloadEntry>, CaseError> {
    let now = clock.unix_seconds();
    let today = thai_date(now);
    let mut out: Vec<CaseloadEntry> = store
        .caseload(worker, now)
        .await?
        .into_iter()
        .map(|row| {
            let from = row.last_visit.unwrap_or(row.case.opened_on);
            let next_visit = add_days(from, visit_every_days);
            CaseloadEntry {
                visit_overdue: next_visit < today,
                next_visit,
                row,
            }
        })
        .collect();
    out.sort_by_key(|e| {
        let urgent = e.row.overdue_referrals > 0 || e.row.open_alerts > 0;
        (!urgent, e.next_visit, e.row.case.id)
    });
    Ok(out)
}

/// One referral of a partner's inbox, with its lateness now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxEntry {
    pub row: InboxRow,
    pub overdue: bool,
    pub days_overdue: i64,
}

/// The referrals sent to `partner` and only those (overdue first, then newest), with the
/// household code and village they concern and nothing else of the household.
pub async fn partner_inbox(
    store: &Store,
    partner: &str,
    clock: &dyn Clock,
    open_only: bool,
) -> Result<Vec<InboxEntry>, CaseError> {
    let now = clock.unix_seconds();
    let mut out: Vec<InboxEntry> = store
        .partner_inbox(partner, open_only)
        .await?
        .into_iter()
        .map(|row| {
            let r = &row.referral;
            InboxEntry {
                overdue: referral_overdue(r.state, r.deadline_at, now),
                days_overdue: days_overdue(r.state, r.deadline_at, now),
                row,
            }
        })
        .collect();
    // Stable: within each group the store's newest-first order stays.
    out.sort_by_key(|e| !e.overdue);
    Ok(out)
}

/// Every need of a case as a set, for pages that tick boxes.
pub async fn need_set(store: &Store, case_id: i64) -> Result<BTreeSet<NeedCode>, CaseError> {
    Ok(store
        .needs_of_case(case_id)
        .await?
        .into_iter()
        .map(|n| n.need)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_come_apart_into_thai_and_english() {
        let (th, en) = CaseError::WorkerOutsideZone.th_en();
        assert!(th.starts_with("ผู้ดูแลเคส") && !th.contains('('), "{th}");
        assert_eq!(
            en,
            "the assigned worker must belong to the household's zone or area"
        );
        let (th, en) = CaseError::AlreadyOpen(7).th_en();
        assert!(th.ends_with("เลขที่ 7"), "{th}");
        assert_eq!(en, "the household already has an active case, number 7");
        let moved = CaseError::from(
            CaseState::Closed
                .move_to(CaseState::InProgress)
                .unwrap_err(),
        );
        assert_eq!(moved.code(), "move_refused");
        assert_eq!(
            moved.th_en().1,
            "a case cannot move from closed to in_progress"
        );
    }

    #[test]
    fn thai_dates_are_utc_plus_seven() {
        // 2023-02-22T17:00:00Z is midnight of 23 Feb 2566 in Thailand.
        assert_eq!(thai_date(1_677_085_200).to_string(), "2566-02-23");
        assert_eq!(thai_date(1_677_085_199).to_string(), "2566-02-22");
    }

    #[test]
    fn adding_days_crosses_months_and_leap_days() {
        let d = BeDate::parse("2567-02-28").unwrap();
        assert_eq!(add_days(d, 1).to_string(), "2567-02-29");
        assert_eq!(add_days(d, 2).to_string(), "2567-03-01");
        assert_eq!(add_days(d, 30).to_string(), "2567-03-29");
    }
}
