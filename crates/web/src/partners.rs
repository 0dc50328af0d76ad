//! Partner agencies' pages: the referral inbox partner users work from, the partner
//! directory, the strategy results, and the case files as CSV.
//!
//! These pages are thin: the rules (which referral a partner may answer, deadlines, the
//! comparison behind the strategy results) are `halve_app::cases`'s. What is decided here is
//! who sees what. A partner account sees its own partner's referrals with the least of each
//! household they need (house code, village, the help asked for and the needs it answers),
//! never a member, a citizen ID or another household; `access::layer` closes every other page
//! to it. Coordinators and administrators read any partner's inbox, without the answer forms:
//! answering is the partner's word. The strategy results and exits are aggregates, for every
//! role. The exports carry every case's household code, worker and notes, so they are for
//! administrators and coordinators only; a zone worker gets 403 rather than a file filtered by
//! area, as the core's streams carry no village to filter on cheaply.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use halve_app::cases::{self, Actor, CaseError, InboxEntry};
use halve_app::kinds::Kind;
use halve_domain::AreaLevel;
use halve_domain::case::ReferralState;
use halve_store::{AuditEntry, FormTokenUse};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{Current, Role, random_token, token_hash};
use crate::error::WebError;
use crate::i18n::{Lang, percent};
use crate::pages::{area_name, view};

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/{id}", post(answer))
        .route("/partners", get(directory))
        .route("/strategies", get(strategies))
        .route("/export/cases.csv", get(export_cases))
        .route("/export/referrals.csv", get(export_referrals))
        .route("/export/visits.csv", get(export_visits))
}

/// The area level whose cells the strategy comparison matches households within.
const COMPARISON_LEVEL: AreaLevel = AreaLevel::District;

/// A Unix instant as a Thai date.
fn day(lang: Lang, secs: i64) -> String {
    lang.date(cases::thai_date(secs))
}

/// The purpose of the one-time token of a referral's answer forms.
fn answer_purpose(id: i64) -> String {
    format!("referral-answer:{id}")
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

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    partner: Option<String>,
    /// The referral just answered, for the notice.
    answered: Option<i64>,
}

/// Whose inbox a request reads, and whether it may answer: a partner account its own only
/// (a `partner` parameter naming another is refused), coordinators and administrators any,
/// read-only.
fn inbox_owner(current: &Current, asked: Option<&str>) -> Result<(String, bool), WebError> {
    let asked = asked.map(str::trim).filter(|p| !p.is_empty());
    match (current.role, &current.partner) {
        (Role::Partner, Some(mine)) => match asked {
            Some(other) if other != mine => Err(WebError::Forbidden),
            _ => Ok((mine.clone(), true)),
        },
        (Role::Admin | Role::Coordinator, _) => asked
            .map(|p| (p.to_owned(), false))
            .ok_or(WebError::NotFound),
        _ => Err(WebError::Forbidden),
    }
}

pub async fn inbox(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    if matches!(current.role, Role::Admin | Role::Coordinator) && q.partner.is_none() {
        return Ok(Redirect::to("/partners").into_response());
    }
    let (partner, answers) = inbox_owner(&current, q.partner.as_deref())?;
    let notice = q.answered.map(|id| {
        lang.t("partner_inbox_answered")
            .replace("{id}", &id.to_string())
    });
    render_inbox(
        &state,
        &current,
        lang,
        &partner,
        answers,
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

/// A refusal shown on one referral of the page.
struct Refusal {
    referral: i64,
    message: String,
    outcome: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_inbox(
    state: &AppState,
    current: &Current,
    lang: Lang,
    partner: &str,
    answers: bool,
    notice: Option<String>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let Some(p) = state.store.partner(partner).await? else {
        return Err(WebError::NotFound);
    };
    let mut entries = cases::partner_inbox(&state.store, partner, state.clock.as_ref(), false)
        .await
        .map_err(case_internal)?;
    // Newest first; lateness is marked on each line rather than sorted on.
    entries.sort_by_key(|e| {
        (
            std::cmp::Reverse(e.row.referral.sent_at),
            std::cmp::Reverse(e.row.referral.id),
        )
    });
    let mut rows = Vec::with_capacity(entries.len());
    for e in &entries {
        let token = if answers && e.row.referral.state.is_open() {
            Some(issue(state, current, &answer_purpose(e.row.referral.id)).await?)
        } else {
            None
        };
        let refusal = refusal.as_ref().filter(|r| r.referral == e.row.referral.id);
        rows.push(entry_json(state, lang, e, token, refusal).await?);
    }
    let overdue = entries.iter().filter(|e| e.overdue).count();
    let html = state.templates.page(
        "inbox.html",
        lang,
        Some(current),
        "/inbox",
        view(json!({
            "partner": {
                "code": p.code.to_string(),
                "name": lang.pick(&p.name_th, &p.name_en),
                "ack_days": p.ack_days,
            },
            "answers": answers,
            "rows": rows,
            "overdue": overdue,
            "notice": notice,
            "query": if answers { String::new() } else { format!("?partner={partner}") },
        })),
    )?;
    Ok((status, html).into_response())
}

/// One line of the inbox: the referral and, of its household, only what the help needs.
async fn entry_json(
    state: &AppState,
    lang: Lang,
    e: &InboxEntry,
    token: Option<String>,
    refusal: Option<&Refusal>,
) -> Result<Json, WebError> {
    let r = &e.row.referral;
    let catalogue = cases::shipped_catalogue();
    let item = match r.plan_item {
        Some(id) => state
            .store
            .plan_of_case(r.case_id)
            .await?
            .into_iter()
            .find(|p| p.id == id),
        None => None,
    };
    let kind = item.as_ref().and_then(|i| catalogue.get(&i.intervention));
    // The needs of the case the help answers; with no plan item, every need of the case.
    let needs: Vec<String> = state
        .store
        .needs_of_case(r.case_id)
        .await?
        .into_iter()
        .filter(|n| kind.is_none_or(|k| k.solves(&n.need)))
        .map(|n| n.need.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let next: Vec<&str> = r
        .state
        .next()
        .iter()
        .filter(|s| s.made_by() == halve_domain::case::ReferralSide::Partner)
        .map(|s| s.code())
        .collect();
    Ok(json!({
        "id": r.id,
        "house_code": e.row.household.to_string(),
        "village": area_name(state, e.row.village, lang),
        "intervention": kind.map(|k| lang.pick(&k.name_th, &k.name_en).to_owned())
            .or_else(|| item.as_ref().map(|i| i.intervention.clone())),
        "needs": needs,
        "note": r.note,
        "state": r.state.code(),
        "state_label": state_label(lang, r.state),
        "open": r.state.is_open(),
        "sent_on": day(lang, r.sent_at),
        "deadline_on": day(lang, r.deadline_at),
        "acknowledged_on": r.acknowledged_at.map(|t| day(lang, t)),
        "closed_on": r.closed_at.map(|t| day(lang, t)),
        "outcome": r.outcome,
        "overdue": e.overdue,
        "overdue_words": e.overdue.then(|| lang.t("partner_inbox_overdue_days")
            .replace("{days}", &e.days_overdue.to_string())),
        "can_acknowledge": next.contains(&"acknowledged"),
        "can_finish": next.contains(&"done"),
        "can_decline": next.contains(&"declined"),
        "form_token": token,
        "error": refusal.map(|f| f.message.clone()),
        "typed_outcome": refusal.map(|f| f.outcome.clone()).unwrap_or_default(),
    }))
}

fn state_label(lang: Lang, s: ReferralState) -> String {
    lang.t(&format!("partner_state_{}", s.code())).to_owned()
}

/// A core refusal where none is expected (a read): an internal error, without its words.
fn case_internal(e: CaseError) -> WebError {
    match e {
        CaseError::Store(s) => WebError::Store(s),
        CaseError::App(a) => WebError::App(a),
        other => WebError::Internal(other.code().into()),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    outcome: String,
}

/// Acknowledges, finishes or declines a referral, as its partner. The one-time token is
/// spent in the same transaction as the answer, so a second submit changes nothing and lands
/// where the first did; a refusal rolls both back and shows the page again with the reason.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let (partner, answers) = inbox_owner(&current, None).map_err(|e| match e {
        // Coordinators read inboxes; answering is the partner's.
        WebError::NotFound => WebError::Forbidden,
        e => e,
    })?;
    if !answers {
        return Err(WebError::Forbidden);
    }
    let refuse = |message: String| Refusal {
        referral: id,
        message,
        outcome: form.outcome.clone(),
    };
    let to = match ReferralState::parse(&form.to) {
        Ok(s @ (ReferralState::Acknowledged | ReferralState::Done | ReferralState::Declined)) => s,
        _ => {
            let r = refuse(lang.t("partner_err_answer").to_owned());
            return unprocessable(&state, &current, lang, &partner, r).await;
        }
    };
    let outcome_path = format!("/inbox?answered={id}#r{id}");
    let mut tx = state.store.begin().await?;
    match tx
        .spend_form_token(
            &token_hash(&form.form_token),
            &current.session_hash,
            &answer_purpose(id),
            state.now(),
            &outcome_path,
        )
        .await?
    {
        FormTokenUse::Spent => {}
        FormTokenUse::AlreadyUsed { outcome } => {
            tx.rollback().await?;
            return Ok(Redirect::to(&outcome.unwrap_or(outcome_path)).into_response());
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            return Err(WebError::Csrf);
        }
    }
    let audit_name = current.actor();
    let actor = Actor {
        username: &current.username,
        audit_name: &audit_name,
        partner: Some(&partner),
    };
    let outcome = Some(form.outcome.as_str()).filter(|o| !o.trim().is_empty());
    match cases::answer_referral(&mut tx, &actor, state.clock.as_ref(), id, to, outcome).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&outcome_path).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            match e {
                // Another partner's referral answers like a missing one.
                CaseError::NoReferral | CaseError::NotYourReferral => Err(WebError::NotFound),
                CaseError::Store(s) => Err(WebError::Store(s)),
                CaseError::App(a) => Err(WebError::App(a)),
                other => {
                    let (th, en) = other.th_en();
                    let r = refuse(lang.pick(&th, &en).to_owned());
                    unprocessable(&state, &current, lang, &partner, r).await
                }
            }
        }
    }
}

async fn unprocessable(
    state: &AppState,
    current: &Current,
    lang: Lang,
    partner: &str,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render_inbox(
        state,
        current,
        lang,
        partner,
        true,
        None,
        Some(refusal),
        status,
    )
    .await
}

/// The partner directory, for every role that sees records.
pub async fn directory(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    current.require_records()?;
    let reads_inboxes = matches!(current.role, Role::Admin | Role::Coordinator);
    let rows: Vec<Json> = state
        .store
        .partners()
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "code": p.code.to_string(),
                "name": lang.pick(&p.name_th, &p.name_en),
                "kind": lang.pick(p.kind.label_th(), &p.kind.code().replace('_', " ")).to_owned(),
                "ack_days": p.ack_days,
                "active": p.active,
            })
        })
        .collect();
    let html = state.templates.page(
        "partners.html",
        lang,
        Some(&current),
        "/partners",
        view(json!({ "rows": rows, "reads_inboxes": reads_inboxes })),
    )?;
    Ok(html.into_response())
}

/// The five strategies' results and the exits by cause: aggregates, for every role.
pub async fn strategies(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    let spec = &state.config.spec;
    let report = cases::results::strategy_results(
        &state.store,
        cases::shipped_catalogue(),
        spec,
        COMPARISON_LEVEL,
    )
    .await?;
    let rows: Vec<Json> = report
        .rows
        .iter()
        .map(|r| {
            let share = |s: Option<f64>| s.map_or_else(|| "–".to_owned(), percent);
            json!({
                "number": r.strategy.number(),
                "name": lang.pick(r.strategy.label_th(), r.strategy.label_en()),
                "items_done": r.items_done,
                "households": r.households,
                "cost": r.cost.to_string(),
                "pairs": r.pairs,
                "resolved": r.resolved,
                "resolved_share": share(r.resolved_share()),
                "comparison_share": share(r.comparison_share()),
                "unmatched": r.unmatched,
            })
        })
        .collect();
    // Exits for the whole province, by cause.
    let mut exits: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in cases::exits_by_cause(&state.store, AreaLevel::Province).await? {
        let cause = match e.reason {
            Some(r) => lang
                .pick(r.label_th(), &r.code().replace('_', " "))
                .to_owned(),
            None => lang.pick(e.state.label_th(), e.state.code()).to_owned(),
        };
        *exits.entry((e.state.code().to_owned(), cause)).or_default() += e.cases;
    }
    let exits: Vec<Json> = exits
        .into_iter()
        .map(|((state_code, cause), cases)| {
            json!({"graduated": state_code == "graduated", "cause": cause, "cases": cases})
        })
        .collect();
    let html = state.templates.page(
        "strategies.html",
        lang,
        Some(&current),
        "/strategies",
        view(json!({
            "rows": rows,
            "exits": exits,
            "spec_id": report.spec_id,
            "spec_version": report.spec_version,
            "from_round": report.from_round,
            "to_round": report.to_round,
            "compared": report.from_round.is_some() && report.from_round != report.to_round,
            "level": lang.t(match COMPARISON_LEVEL {
                AreaLevel::Province => "partner_level_province",
                AreaLevel::District => "partner_level_district",
                AreaLevel::Subdistrict => "partner_level_subdistrict",
                AreaLevel::Village => "partner_level_village",
            }),
        })),
    )?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------------
// Exports.

/// Refuses every role but administrators and coordinators.
fn require_export(current: &Current) -> Result<(), WebError> {
    if current.role.imports() {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

/// A CSV download of `kind`, in the columns and order `halve export` writes, audited as an
/// export by its user.
async fn csv_download(
    state: &AppState,
    current: &Current,
    kind: Kind,
    rows: Vec<Vec<String>>,
) -> Result<Response, WebError> {
    let bytes = halve_io::csv_to_bytes(kind.columns(), &rows)
        .map_err(|e| WebError::Internal(format!("csv: {e}")))?;
    let mut tx = state.store.begin().await?;
    tx.append_audit(&AuditEntry {
        at: state.clock.now_iso(),
        actor: current.actor(),
        action: "export".into(),
        entity: kind.file_stem().into(),
        entity_key: format!("{}.csv", kind.file_stem()),
        before: None,
        after: Some(json!({"rows": rows.len()}).to_string()),
    })
    .await?;
    tx.commit().await?;
    let disposition = format!("attachment; filename=\"{}.csv\"", kind.file_stem());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Every row of a case kind, from the same function `halve export` writes them with.
async fn download(state: &AppState, current: &Current, kind: Kind) -> Result<Response, WebError> {
    require_export(current)?;
    let mut rows = Vec::new();
    halve_app::cases::files::export_rows(&state.store, kind, &mut |row| {
        rows.push(row);
        Ok(())
    })
    .await?;
    csv_download(state, current, kind, rows).await
}

pub async fn export_cases(
    State(state): State<Arc<AppState>>,
    current: Current,
) -> Result<Response, WebError> {
    download(&state, &current, Kind::Cases).await
}

pub async fn export_referrals(
    State(state): State<Arc<AppState>>,
    current: Current,
) -> Result<Response, WebError> {
    download(&state, &current, Kind::Referrals).await
}

pub async fn export_visits(
    State(state): State<Arc<AppState>>,
    current: Current,
) -> Result<Response, WebError> {
    download(&state, &current, Kind::Visits).await
}
