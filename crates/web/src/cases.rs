//! Case management pages: a household's case with its needs, plan, referrals and visits,
//! and a worker's caseload.
//!
//! The pages are a thin layer over `halve_app::cases`, which holds every rule (which moves a
//! case may make, who may be its worker, when it has graduated, when help is given twice).
//! This module decides only who may ask (records roles, within their areas, exactly as the
//! household pages do) and how the answer is shown. Every form that writes carries a one-time
//! token spent in the write's own transaction, one per form of the page, so a double tap
//! writes once and lands where the first submit did; a refusal re-shows the page with the
//! rule's own words and a 422, and nothing is written.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use halve_app::cases::{
    self as core, Actor, AreaScope, CaseError, CaseMove, NewPlanItem, NewReferral, NewVisit,
    OpenCase, duplicate_help, shipped_catalogue, thai_date,
};
use halve_domain::case::{
    CaseState, CloseReason, FundingSource, NeedCode, PlanItemStatus, ReferralState, days_overdue,
    referral_overdue,
};
use halve_domain::{BeDate, Household, Key, Satang, VulnerabilityFlag};
use halve_store::{CaseRecord, FormTokenUse, Tx};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{Current, Role, Scope, random_token, token_hash};
use crate::error::WebError;
use crate::household::{segment, today, village_label, visible_household};
use crate::i18n::Lang;
use crate::pages::{indicator_title, view};
use crate::target_panel::PanelState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/households/{code}/case", post(open))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/move", post(move_case))
        .route("/cases/{id}/needs", post(needs))
        .route("/cases/{id}/plan", post(add_plan))
        .route("/cases/{id}/plan/{item}", post(plan_status))
        .route("/cases/{id}/referrals", post(send_referral))
        .route("/cases/{id}/referrals/{rid}/withdraw", post(withdraw))
        .route("/cases/{id}/visits", post(visit))
        .route("/cases/{id}/worker", post(assign))
        .route("/caseload", get(caseload))
}

// ---------------------------------------------------------------------------------------------
// Access, tokens and errors.

/// The forms of a case page, each with its own one-time token.
const FORMS: [&str; 7] = [
    "move", "need", "plan", "item", "referral", "visit", "worker",
];

fn purpose(case_id: i64, form: &str) -> String {
    format!("case:{case_id}:{form}")
}

fn open_purpose(house_code: &str) -> String {
    format!("case-open:{house_code}")
}

async fn issue(state: &AppState, current: &Current, purpose: &str) -> Result<String, WebError> {
    let token = random_token();
    state
        .store
        .issue_form_token(
            &token_hash(&token),
            &current.session_hash,
            purpose,
            state.now(),
        )
        .await?;
    Ok(token)
}

/// What spending a form's token allowed.
enum Spend {
    Go(Tx),
    /// Already spent (a double submit) or unknown: answer with this and write nothing.
    Answer(Response),
}

async fn spend(
    state: &AppState,
    current: &Current,
    token: &str,
    purpose: &str,
    outcome: &str,
) -> Result<Spend, WebError> {
    let mut tx = state.store.begin().await?;
    match tx
        .spend_form_token(
            &token_hash(token),
            &current.session_hash,
            purpose,
            state.now(),
            outcome,
        )
        .await?
    {
        FormTokenUse::Spent => Ok(Spend::Go(tx)),
        FormTokenUse::AlreadyUsed { outcome: to } => {
            tx.rollback().await?;
            let to = to.unwrap_or_else(|| outcome.to_owned());
            Ok(Spend::Answer(Redirect::to(&to).into_response()))
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            Err(WebError::Csrf)
        }
    }
}

/// A case the user may see, with its household: 404 for a case that does not exist or whose
/// household is outside the user's areas, 403 for roles that never see records.
async fn visible_case(
    state: &AppState,
    current: &Current,
    id: i64,
) -> Result<(CaseRecord, Household), WebError> {
    current.require_records()?;
    let case = state.store.case(id).await?.ok_or(WebError::NotFound)?;
    let household = visible_household(state, current, case.household.as_str()).await?;
    Ok((case, household))
}

fn writer(current: &Current) -> Result<(), WebError> {
    if current.role.records_assessments() {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

fn area_scope(scope: &Scope) -> AreaScope {
    AreaScope {
        everywhere: scope.everywhere,
        zones: scope.zones.clone(),
        areas: scope.areas.clone(),
    }
}

/// A refusal to show on the page, or an error that is not the user's to correct.
enum Refusal {
    Show(String),
    Web(WebError),
}

fn refusal(e: CaseError, lang: Lang) -> Refusal {
    match e {
        CaseError::NoCase | CaseError::NoHousehold => Refusal::Web(WebError::NotFound),
        CaseError::Store(e) => Refusal::Web(WebError::Store(e)),
        CaseError::App(e) => Refusal::Web(WebError::App(e)),
        other => {
            let (th, en) = other.th_en();
            Refusal::Show(lang.pick(&th, &en).to_owned())
        }
    }
}

/// Who may be a household's worker: active zone workers whose areas hold it, and the user
/// asking when their own areas do (an administrator or coordinator may take a case).
async fn eligible_workers(
    state: &AppState,
    current: &Current,
    household: &Household,
) -> Result<Vec<(String, String, AreaScope)>, WebError> {
    let mut out = Vec::new();
    for u in state.store.users().await? {
        let Some(role) = Role::parse(&u.role) else {
            continue;
        };
        if !u.active {
            continue;
        }
        let scope = Scope::of(role, &u.scope);
        let mine = u.username == current.username;
        if (role == Role::ZoneWorker || mine) && scope.allows(household.village, &state.zones) {
            out.push((
                u.username.clone(),
                u.display_name.clone(),
                area_scope(&scope),
            ));
        }
    }
    Ok(out)
}

fn actor<'a>(current: &'a Current, audit: &'a str) -> Actor<'a> {
    Actor {
        username: &current.username,
        audit_name: audit,
        partner: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Labels.

fn code_en(code: &str) -> String {
    code.replace('_', " ")
}

fn case_state_label(s: CaseState, lang: Lang) -> String {
    lang.pick(s.label_th(), &code_en(s.code())).to_owned()
}

fn need_label(state: &AppState, need: &NeedCode, lang: Lang) -> String {
    match need {
        NeedCode::Indicator(name) => {
            let spec = &state.config.spec;
            spec.indicators
                .iter()
                .position(|i| &i.name == name)
                .map(|j| indicator_title(spec, j, lang))
                .unwrap_or_else(|| name.clone())
        }
        NeedCode::Flag(f) => lang.pick(f.label_th(), &code_en(f.code())).to_owned(),
    }
}

fn intervention_label(code: &str, lang: Lang) -> String {
    shipped_catalogue()
        .get(code)
        .map(|t| lang.pick(&t.name_th, &t.name_en).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// Baht from satang, grouped, with two decimals only when there are satang.
pub fn baht_text(s: Satang) -> String {
    let a = s.0.unsigned_abs();
    let sign = if s.0 < 0 { "-" } else { "" };
    let whole = halve_domain::text::group_thousands(a / 100);
    if a.is_multiple_of(100) {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{:02}", a % 100)
    }
}

/// An instant as the Thai date and time of day it was in Thailand.
fn instant(secs: i64, lang: Lang) -> String {
    let iso = halve_app::clock::iso_utc(secs + 7 * 3600);
    format!("{} {}", lang.date(thai_date(secs)), &iso[11..16])
}

// ---------------------------------------------------------------------------------------------
// The household page's case section.

/// The case section of a household page: its latest case, or the form to open one.
pub(crate) async fn household_section(
    state: &AppState,
    current: &Current,
    household: &Household,
    lang: Lang,
) -> Result<Json, WebError> {
    let code = household.house_code.as_str();
    let cases = state.store.cases_of_household(code).await?;
    let latest = cases
        .iter()
        .find(|c| c.state.is_active())
        .or_else(|| cases.iter().max_by_key(|c| c.id));
    let can_open = current.role.records_assessments() && !cases.iter().any(|c| c.state.is_active());
    let mut section = json!({
        "case": latest.map(|c| json!({
            "id": c.id,
            "state": c.state.code(),
            "state_label": case_state_label(c.state, lang),
            "worker": c.worker,
            "opened_on": lang.date(c.opened_on),
        })),
        "can_open": can_open,
    });
    if can_open {
        let workers = eligible_workers(state, current, household).await?;
        let default = workers
            .iter()
            .find(|w| w.0 == current.username && current.role == Role::ZoneWorker)
            .or_else(|| workers.iter().find(|w| w.0 != current.username))
            .or(workers.first())
            .map(|w| w.0.clone());
        section["workers"] = json!(
            workers
                .iter()
                .map(|(u, d, _)| json!({"username": u, "name": d, "selected": Some(u) == default.as_ref()}))
                .collect::<Vec<_>>()
        );
        section["form_token"] = json!(issue(state, current, &open_purpose(code)).await?);
    }
    Ok(section)
}

async fn open(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let household = visible_household(&state, &current, &code).await?;
    writer(&current)?;
    let code = household.house_code.as_str().to_owned();
    let chosen = form.get("worker").map(|s| s.trim()).unwrap_or("");
    let workers = eligible_workers(&state, &current, &household).await?;
    let back = format!("/households/{}", segment(&code));
    let Some((worker, _, scope)) = workers.iter().find(|w| w.0 == chosen) else {
        let (th, en) = CaseError::WorkerOutsideZone.th_en();
        return problem_page(&state, &current, lang, &back, lang.pick(&th, &en));
    };
    let token = form.get("form_token").cloned().unwrap_or_default();
    // The case's number is known only after the write: a double submit goes to the household.
    let mut tx = match spend(&state, &current, &token, &open_purpose(&code), &back).await? {
        Spend::Go(tx) => tx,
        Spend::Answer(r) => return Ok(r),
    };
    let audit = current.actor();
    let req = OpenCase {
        household: &household.house_code,
        worker,
        worker_scope: scope,
        zones: &state.zones,
        spec: &state.config.spec,
    };
    match core::open_case(
        &mut tx,
        &actor(&current, &audit),
        state.clock.as_ref(),
        &req,
    )
    .await
    {
        Ok(opened) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/cases/{}", opened.case.id)).into_response())
        }
        Err(e) => {
            drop(tx);
            match refusal(e, lang) {
                Refusal::Web(e) => Err(e),
                Refusal::Show(m) => problem_page(&state, &current, lang, &back, &m),
            }
        }
    }
}

/// A refusal on the household page's form: a short page with the reason and the way back.
fn problem_page(
    state: &AppState,
    current: &Current,
    lang: Lang,
    back: &str,
    message: &str,
) -> Result<Response, WebError> {
    let html = state.templates.page(
        "case_problem.html",
        lang,
        Some(current),
        back,
        view(json!({"message": message, "back": back})),
    )?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

// ---------------------------------------------------------------------------------------------
// The case page.

/// A form that was refused: which one, why, and what was typed, to show again.
struct Problem {
    form: &'static str,
    message: String,
    typed: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct CasePageQuery {
    saved: Option<String>,
    warned: Option<String>,
}

async fn case_page(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<CasePageQuery>,
) -> Result<Response, WebError> {
    let (case, household) = visible_case(&state, &current, id).await?;
    let notice = if q.warned.is_some() {
        Some("warned")
    } else if q.saved.is_some() {
        Some("saved")
    } else {
        None
    };
    render_case(
        &state,
        &current,
        lang,
        &case,
        &household,
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_case(
    state: &AppState,
    current: &Current,
    lang: Lang,
    case: &CaseRecord,
    household: &Household,
    problem: Option<Problem>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let id = case.id;
    let code = household.house_code.as_str();
    let now = state.now();
    let catalogue = shipped_catalogue();
    let partners = state.store.partners().await?;
    let partner_name = |k: &Key| {
        partners
            .iter()
            .find(|p| &p.code == k)
            .map(|p| lang.pick(&p.name_th, &p.name_en).to_owned())
            .unwrap_or_else(|| k.as_str().to_owned())
    };
    let can_write = current.role.records_assessments();
    let active = case.state.is_active();

    let moves: Vec<Json> = case
        .state
        .next()
        .iter()
        .map(|to| {
            let action = match to {
                CaseState::InProgress => "start",
                CaseState::Graduated => "graduate",
                CaseState::Closed => "close",
                CaseState::Open => "reopen",
            };
            json!({"action": action, "label": lang.t(&format!("case_move_{action}"))})
        })
        .collect();
    let reasons: Vec<Json> = CloseReason::ALL
        .iter()
        .map(|r| json!({"code": r.code(), "label": lang.pick(r.label_th(), &code_en(r.code()))}))
        .collect();

    let needs = state.store.needs_of_case(id).await?;
    let needs_view: Vec<Json> = needs
        .iter()
        .map(|n| {
            json!({
                "code": n.need.to_string(),
                "label": need_label(state, &n.need, lang),
                "source": lang.pick(n.source.label_th(), &code_en(n.source.code())),
                "confirmed": n.confirmed,
            })
        })
        .collect();
    let mut addable: Vec<Json> = Vec::new();
    for ind in &state.config.spec.indicators {
        let need = NeedCode::Indicator(ind.name.clone());
        if !needs.iter().any(|n| n.need == need) {
            addable
                .push(json!({"code": need.to_string(), "label": need_label(state, &need, lang)}));
        }
    }
    for f in VulnerabilityFlag::ALL {
        let need = NeedCode::Flag(*f);
        if !needs.iter().any(|n| n.need == need) {
            addable
                .push(json!({"code": need.to_string(), "label": need_label(state, &need, lang)}));
        }
    }

    let (items, all_referrals) = state.store.help_of_household(code).await?;
    let plan = state.store.plan_of_case(id).await?;
    let plan_view: Vec<Json> = plan
        .iter()
        .map(|p| {
            let warnings: Vec<Json> = if p.status.is_active() {
                duplicate_help(
                    catalogue,
                    &p.intervention,
                    p.partner.as_ref(),
                    &items,
                    &all_referrals,
                    Some(p.id),
                )
                .iter()
                .map(|d| {
                    json!({
                        "intervention": intervention_label(&d.intervention, lang),
                        "partner": partner_name(&d.partner),
                        "same_type": d.same_type,
                    })
                })
                .collect()
            } else {
                Vec::new()
            };
            let strategy = catalogue.get(&p.intervention).map(|t| t.strategy.number());
            json!({
                "id": p.id,
                "intervention": intervention_label(&p.intervention, lang),
                "strategy": strategy,
                "partner": p.partner.as_ref().map(&partner_name),
                "status": p.status.code(),
                "status_label": lang.pick(p.status.label_th(), &code_en(p.status.code())),
                "start_on": p.start_on.map(|d| lang.date(d)),
                "end_on": p.end_on.map(|d| lang.date(d)),
                "cost": baht_text(p.cost),
                "funding": p.funding.map(|f| lang.pick(f.label_th(), &code_en(f.code())).to_owned()),
                "note": p.note,
                "next": p.status.next().iter().map(|s| json!({
                    "code": s.code(),
                    "label": lang.t(&format!("case_item_to_{}", s.code())),
                })).collect::<Vec<_>>(),
                "warnings": warnings,
            })
        })
        .collect();
    let interventions: Vec<Json> = catalogue
        .interventions
        .iter()
        .map(|t| {
            json!({
                "code": t.code,
                "label": lang.pick(&t.name_th, &t.name_en),
                "strategy": t.strategy.number(),
            })
        })
        .collect();
    let partner_options: Vec<Json> = partners
        .iter()
        .filter(|p| p.active)
        .map(|p| {
            json!({
                "code": p.code.as_str(),
                "label": lang.pick(&p.name_th, &p.name_en),
                "days": p.ack_days,
            })
        })
        .collect();
    let funding: Vec<Json> = FundingSource::ALL
        .iter()
        .map(|f| json!({"code": f.code(), "label": lang.pick(f.label_th(), &code_en(f.code()))}))
        .collect();

    let referrals = state.store.referrals_of_case(id).await?;
    let referrals_view: Vec<Json> = referrals
        .iter()
        .map(|r| {
            let item = r.plan_item.and_then(|i| plan.iter().find(|p| p.id == i));
            json!({
                "id": r.id,
                "partner": partner_name(&r.partner),
                "item": item.map(|p| intervention_label(&p.intervention, lang)),
                "state": r.state.code(),
                "state_label": lang.pick(r.state.label_th(), &code_en(r.state.code())),
                "sent_at": instant(r.sent_at, lang),
                "deadline": instant(r.deadline_at, lang),
                "overdue": referral_overdue(r.state, r.deadline_at, now),
                "days_overdue": days_overdue(r.state, r.deadline_at, now),
                "acknowledged_at": r.acknowledged_at.map(|t| instant(t, lang)),
                "closed_at": r.closed_at.map(|t| instant(t, lang)),
                "outcome": r.outcome,
                "note": r.note,
                "withdrawable": r.state.next().contains(&ReferralState::Withdrawn),
            })
        })
        .collect();
    let referable: Vec<Json> = plan
        .iter()
        .filter(|p| p.status.is_active())
        .map(|p| json!({"id": p.id, "label": intervention_label(&p.intervention, lang)}))
        .collect();

    let visits: Vec<Json> = state
        .store
        .visits_of_case(id)
        .await?
        .iter()
        .rev()
        .map(|v| {
            json!({
                "on": lang.date(v.visited_on),
                "worker": v.worker,
                "note": v.note,
                "round": v.round.map(|r| r.be()),
            })
        })
        .collect();
    let alerts: Vec<Json> = state
        .store
        .alerts_of_case(id)
        .await?
        .iter()
        .filter(|a| a.resolved_at.is_none())
        .map(|a| {
            json!({
                "kind": lang.pick(a.kind.label_th(), &code_en(a.kind.code())),
                "round": a.round.be(),
                "raised_at": instant(a.raised_at, lang),
            })
        })
        .collect();

    let workers: Vec<Json> = if can_write {
        eligible_workers(state, current, household)
            .await?
            .iter()
            .map(|(u, d, _)| json!({"username": u, "name": d, "selected": u == &case.worker}))
            .collect()
    } else {
        Vec::new()
    };

    let mut tokens = serde_json::Map::new();
    if can_write {
        for form in FORMS {
            tokens.insert(
                form.to_owned(),
                json!(issue(state, current, &purpose(id, form)).await?),
            );
        }
    }
    let (problem_form, problem_message, typed) = match problem {
        Some(p) => (Some(p.form), Some(p.message), p.typed),
        None => (None, None, BTreeMap::new()),
    };
    // What each form shows in its fields: what was typed when it was the one refused.
    let fill = |form: &str| -> Json {
        let mut m = serde_json::Map::new();
        for k in [
            "intervention",
            "partner",
            "start_on",
            "end_on",
            "cost",
            "funding",
            "note",
            "plan_item",
            "visited_on",
        ] {
            let v = if problem_form == Some(form) {
                typed.get(k).cloned().unwrap_or_default()
            } else {
                String::new()
            };
            m.insert(k.to_owned(), json!(v));
        }
        Json::Object(m)
    };
    let page = view(json!({
        "id": id,
        "house_code": code,
        "segment": segment(code),
        "village": village_label(state, household, lang).await?,
        "state": case.state.code(),
        "state_label": case_state_label(case.state, lang),
        "close_reason": case.close_reason.map(|r| lang.pick(r.label_th(), &code_en(r.code())).to_owned()),
        "worker": case.worker,
        "opened_on": lang.date(case.opened_on),
        "ended_on": case.ended_on.map(|d| lang.date(d)),
        "active": active,
        "can_write": can_write,
        "moves": moves,
        "reasons": reasons,
        "alerts": alerts,
        "needs": needs_view,
        "addable": addable,
        "plan": plan_view,
        "interventions": interventions,
        "partners": partner_options,
        "funding": funding,
        "referrals": referrals_view,
        "referable": referable,
        "visits": visits,
        "workers": workers,
        "today": today(state).to_string(),
        "tokens": tokens,
        "problem_form": problem_form,
        "problem": problem_message,
        "fill": {"plan": fill("plan"), "referral": fill("referral"), "visit": fill("visit")},
        "notice": notice,
    }));
    let html = state.templates.page(
        "case.html",
        lang,
        Some(current),
        &format!("/cases/{id}"),
        page,
    )?;
    Ok((status, html).into_response())
}

/// Runs one write of a case page: checks access, spends the form's token, calls `write` in
/// the transaction, commits and redirects to the case page; a refusal re-shows the page with
/// the reason and what was typed, 422, nothing written.
async fn write_case<F>(
    state: &AppState,
    current: &Current,
    lang: Lang,
    id: i64,
    form_name: &'static str,
    form: BTreeMap<String, String>,
    write: F,
) -> Result<Response, WebError>
where
    F: AsyncFnOnce(&mut Tx, &Actor<'_>) -> Result<bool, CaseError>,
{
    let (case, household) = visible_case(state, current, id).await?;
    writer(current)?;
    let token = form.get("form_token").cloned().unwrap_or_default();
    let saved = format!("/cases/{id}?saved=1");
    let mut tx = match spend(state, current, &token, &purpose(id, form_name), &saved).await? {
        Spend::Go(tx) => tx,
        Spend::Answer(r) => return Ok(r),
    };
    let audit = current.actor();
    match write(&mut tx, &actor(current, &audit)).await {
        Ok(warned) => {
            if warned {
                // The first submit's outcome stays `saved`; the warning itself stays on the
                // page beside the plan item for as long as both helps are active.
                tx.commit().await?;
                return Ok(Redirect::to(&format!("/cases/{id}?warned=1")).into_response());
            }
            tx.commit().await?;
            Ok(Redirect::to(&saved).into_response())
        }
        Err(e) => {
            drop(tx);
            match refusal(e, lang) {
                Refusal::Web(e) => Err(e),
                Refusal::Show(message) => {
                    let mut typed = form;
                    typed.remove("form_token");
                    typed.remove("csrf");
                    let problem = Problem {
                        form: form_name,
                        message,
                        typed,
                    };
                    render_case(
                        state,
                        current,
                        lang,
                        &case,
                        &household,
                        Some(problem),
                        None,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
            }
        }
    }
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(|s| s.trim()).unwrap_or("")
}

/// A refusal worded by this page (a field the core never sees in that shape).
fn invalid(code: &'static str, lang_key: &str) -> CaseError {
    CaseError::Invalid(halve_domain::ParseError::new(
        code,
        Lang::Th.t(lang_key),
        Lang::En.t(lang_key),
    ))
}

fn optional_date(raw: &str) -> Result<Option<BeDate>, CaseError> {
    if raw.is_empty() {
        Ok(None)
    } else {
        Ok(Some(BeDate::parse(raw)?))
    }
}

async fn move_case(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let action = field(&form, "action").to_owned();
    let reason = field(&form, "reason").to_owned();
    let panel = if action == "graduate" {
        match state.target_state().await {
            PanelState::Ready(r) => Some(r),
            _ => None,
        }
    } else {
        None
    };
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "move",
        form,
        async |tx, actor| {
            let clock = clock.as_ref();
            match action.as_str() {
                "start" => core::move_case(tx, actor, clock, id, CaseMove::Start).await?,
                "reopen" => core::move_case(tx, actor, clock, id, CaseMove::Reopen).await?,
                "close" => {
                    let reason = CloseReason::parse(&reason)
                        .map_err(|_| invalid("case.reason", "case_err_reason"))?;
                    core::move_case(tx, actor, clock, id, CaseMove::Close(reason)).await?
                }
                "graduate" => {
                    let ready = panel.ok_or_else(|| invalid("case.panel", "case_err_panel"))?;
                    core::graduate(tx, actor, clock, id, &ready.panel).await?
                }
                _ => return Err(invalid("case.action", "case_err_action")),
            };
            Ok(false)
        },
    )
    .await
}

async fn needs(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let action = field(&form, "action").to_owned();
    let need = NeedCode::parse(field(&form, "need"));
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "need",
        form,
        async |tx, actor| {
            let clock = clock.as_ref();
            let need = need.map_err(|_| invalid("case.need", "case_err_need"))?;
            match action.as_str() {
                "add" => {
                    core::add_need(tx, actor, clock, id, &need).await?;
                }
                "confirm" | "unconfirm" => {
                    core::confirm_need(tx, actor, clock, id, &need, action == "confirm").await?;
                }
                "remove" => {
                    core::remove_need(tx, actor, clock, id, &need).await?;
                }
                _ => return Err(invalid("case.action", "case_err_action")),
            }
            Ok(false)
        },
    )
    .await
}

async fn add_plan(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let read = || -> Result<NewPlanItem, CaseError> {
        let intervention = field(&form, "intervention");
        if intervention.is_empty() {
            return Err(invalid("case.intervention", "case_err_intervention"));
        }
        let partner = match field(&form, "partner") {
            "" => None,
            p => Some(Key::parse(p)?),
        };
        let cost = match field(&form, "cost") {
            "" => Satang(0),
            c => Satang::parse_non_negative(c)?,
        };
        let funding = match field(&form, "funding") {
            "" => None,
            f => Some(FundingSource::parse(f)?),
        };
        Ok(NewPlanItem {
            case_id: id,
            intervention: intervention.to_owned(),
            partner,
            start_on: optional_date(field(&form, "start_on"))?,
            end_on: optional_date(field(&form, "end_on"))?,
            cost,
            funding,
            note: field(&form, "note").to_owned(),
        })
    };
    let new = read();
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "plan",
        form,
        async |tx, actor| {
            let added =
                core::add_plan_item(tx, actor, clock.as_ref(), shipped_catalogue(), &new?).await?;
            Ok(!added.warnings.is_empty())
        },
    )
    .await
}

async fn plan_status(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((id, item)): Path<(i64, i64)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let status = PlanItemStatus::parse(field(&form, "status"));
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "item",
        form,
        async |tx, actor| {
            let status = status.map_err(|_| invalid("case.action", "case_err_action"))?;
            let moved = core::set_plan_item_status(
                tx,
                actor,
                clock.as_ref(),
                shipped_catalogue(),
                id,
                item,
                status,
            )
            .await?;
            Ok(!moved.warnings.is_empty())
        },
    )
    .await
}

async fn send_referral(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let read = || -> Result<NewReferral, CaseError> {
        let partner = match field(&form, "partner") {
            "" => return Err(invalid("case.partner", "case_err_partner")),
            p => Key::parse(p)?,
        };
        let plan_item = match field(&form, "plan_item") {
            "" => None,
            i => Some(i.parse().map_err(|_| CaseError::NoPlanItem)?),
        };
        Ok(NewReferral {
            case_id: id,
            plan_item,
            partner,
            note: field(&form, "note").to_owned(),
        })
    };
    let new = read();
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "referral",
        form,
        async |tx, actor| {
            let sent =
                core::send_referral(tx, actor, clock.as_ref(), shipped_catalogue(), &new?).await?;
            Ok(!sent.warnings.is_empty())
        },
    )
    .await
}

async fn withdraw(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((id, rid)): Path<(i64, i64)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "referral",
        form,
        async |tx, actor| {
            // A referral of another case answers as one that does not exist.
            match tx.referral(rid).await? {
                Some(r) if r.case_id == id => {}
                _ => return Err(CaseError::NoReferral),
            }
            core::answer_referral(
                tx,
                actor,
                clock.as_ref(),
                rid,
                ReferralState::Withdrawn,
                None,
            )
            .await?;
            Ok(false)
        },
    )
    .await
}

async fn visit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let visited_on = match field(&form, "visited_on") {
        "" => Err(invalid("case.visit_date", "case_err_visit_date")),
        d => BeDate::parse(d).map_err(CaseError::from),
    };
    let note = field(&form, "note").to_owned();
    let clock = state.clock.clone();
    write_case(
        &state,
        &current,
        lang,
        id,
        "visit",
        form,
        async |tx, actor| {
            let new = NewVisit {
                case_id: id,
                visited_on: visited_on?,
                note,
                assessment: None,
            };
            core::record_visit(tx, actor, clock.as_ref(), new).await?;
            Ok(false)
        },
    )
    .await
}

async fn assign(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let (_, household) = visible_case(&state, &current, id).await?;
    let chosen = field(&form, "worker").to_owned();
    // The core checks the scope handed to it; only accounts the page offers are handed over.
    let scope = eligible_workers(&state, &current, &household)
        .await?
        .into_iter()
        .find(|w| w.0 == chosen)
        .map(|w| w.2);
    let clock = state.clock.clone();
    let zones = &state.zones;
    write_case(
        &state,
        &current,
        lang,
        id,
        "worker",
        form,
        async |tx, actor| {
            let scope = scope.ok_or(CaseError::WorkerOutsideZone)?;
            core::assign_worker(tx, actor, clock.as_ref(), id, &chosen, &scope, zones).await?;
            Ok(false)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The caseload.

#[derive(Deserialize, Default)]
struct CaseloadQuery {
    worker: Option<String>,
    zone: Option<String>,
}

async fn caseload(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    current.require_records()?;
    let chooses = matches!(current.role, Role::Admin | Role::Coordinator);
    let worker = q.worker.clone().filter(|w| !w.trim().is_empty());
    let zone = q.zone.clone().filter(|z| !z.trim().is_empty());
    let users = state.store.users().await?;
    // Whose cases: one's own; a coordinator or administrator may pick a worker or a zone.
    let (names, zone_filter): (Vec<String>, Option<String>) = match (chooses, worker, zone) {
        (true, Some(w), _) => (vec![w], None),
        (true, None, Some(z)) => (users.iter().map(|u| u.username.clone()).collect(), Some(z)),
        _ => (vec![current.username.clone()], None),
    };
    let clock = state.clock.as_ref();
    let mut entries = Vec::new();
    for name in &names {
        let load = core::caseload(&state.store, name, clock, core::DEFAULT_VISIT_EVERY_DAYS)
            .await
            .map_err(|e| match e {
                CaseError::Store(e) => WebError::Store(e),
                other => WebError::App(other.into()),
            })?;
        entries.extend(load);
    }
    entries.retain(|e| {
        current.scope.allows(e.row.village, &state.zones)
            && zone_filter.as_ref().is_none_or(|z| {
                state
                    .zones
                    .zone_of(e.row.village)
                    .is_some_and(|found| &found.code == z)
            })
    });
    // The same order the core gives one worker's list, over several workers.
    entries.sort_by_key(|e| {
        let urgent = e.row.overdue_referrals > 0 || e.row.open_alerts > 0;
        (!urgent, e.next_visit, e.row.case.id)
    });
    let today = today(&state);
    let rows: Vec<Json> = entries
        .iter()
        .map(|e| {
            let code = e.row.case.household.as_str();
            json!({
                "id": e.row.case.id,
                "house_code": code,
                "worker": e.row.case.worker,
                "state_label": case_state_label(e.row.case.state, lang),
                "village": e.row.village.to_string(),
                "last_visit": e.row.last_visit.map(|d| lang.date(d)),
                "next_visit": lang.date(e.next_visit),
                "visit_overdue": e.visit_overdue,
                "visit_today": e.next_visit == today,
                "open_referrals": e.row.open_referrals,
                "overdue_referrals": e.row.overdue_referrals,
                "open_alerts": e.row.open_alerts,
            })
        })
        .collect();
    let overdue_referrals: i64 = entries.iter().map(|e| e.row.overdue_referrals).sum();
    let visits_overdue = entries.iter().filter(|e| e.visit_overdue).count();
    let workers: Vec<Json> = if chooses {
        users
            .iter()
            .filter(|u| u.active && u.role == Role::ZoneWorker.code())
            .map(|u| json!({"username": u.username, "name": u.display_name, "selected": Some(&u.username) == q.worker.as_ref()}))
            .collect()
    } else {
        Vec::new()
    };
    let zones: Vec<Json> = if chooses {
        state
            .zones
            .zones
            .iter()
            .map(|z| json!({"code": z.code, "label": lang.pick(&z.name_th, &z.name_en), "selected": Some(&z.code) == q.zone.as_ref()}))
            .collect()
    } else {
        Vec::new()
    };
    let whose = match (&zone_filter, names.as_slice()) {
        (Some(z), _) => json!({"zone": z}),
        (None, [one]) => json!({"worker": one}),
        _ => Json::Null,
    };
    let page = view(json!({
        "rows": rows,
        "count": entries.len(),
        "overdue_referrals": overdue_referrals,
        "visits_overdue": visits_overdue,
        "chooses": chooses,
        "workers": workers,
        "zones": zones,
        "whose": whose,
        "every_days": core::DEFAULT_VISIT_EVERY_DAYS,
    }));
    Ok(state
        .templates
        .page("caseload.html", lang, Some(&current), "/caseload", page)?
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baht_is_grouped_with_satang_only_when_there_are_some() {
        assert_eq!(baht_text(Satang(0)), "0");
        assert_eq!(baht_text(Satang(150_000)), "1,500");
        assert_eq!(baht_text(Satang(123_456_705)), "1,234,567.05");
        assert_eq!(baht_text(Satang(-5)), "-0.05");
    }

    #[test]
    fn instants_are_shown_in_thai_time() {
        // 2025-06-30T17:30:00Z is 00:30 on 1 July 2568 in Thailand.
        assert_eq!(instant(1_751_304_600, Lang::En), "1 Jul 2568 BE 00:30");
    }
}
