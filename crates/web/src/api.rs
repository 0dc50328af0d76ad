//! The JSON API under `/api/`: the same reads as the pages, under the same access rules
//! (sign-in by the same session cookie; viewers get aggregates only; a household outside the
//! user's areas is 404 like one that does not exist). Every figure names its spec.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use halve_app::measure::Grouping;
use halve_domain::AreaLevel;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::access::Current;
use crate::error::WebError;
use crate::household::{
    assessments_view, find_households, read_search, shown_id, visible_household,
};
use crate::i18n::Lang;
use crate::live::Figures;

/// Errors as JSON, with the status the pages would give.
pub struct ApiError(WebError);

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        ApiError(e)
    }
}

impl From<halve_store::StoreError> for ApiError {
    fn from(e: halve_store::StoreError) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}

#[derive(Deserialize, Default)]
pub struct MeasuresQuery {
    area: Option<String>,
    zone: Option<String>,
}

fn rounds_json(labels: &[String], rounds: &[Option<Figures>]) -> Vec<serde_json::Value> {
    labels
        .iter()
        .zip(rounds)
        .filter_map(|(label, f)| f.as_ref().map(|f| json!({"round": label, "figures": f})))
        .collect()
}

/// `/api/measures[?area=CODE|zone=CODE]`: figures per round, with the spec.
pub async fn measures(
    State(state): State<Arc<AppState>>,
    _current: Current,
    Query(q): Query<MeasuresQuery>,
) -> Result<Response, ApiError> {
    let m = state.live.measures().await?;
    let (what, rounds) = match (&q.area, &q.zone) {
        (Some(area), _) => {
            let code = state.tree.resolve(area).map_err(|_| WebError::NotFound)?;
            let grouping = match code.level() {
                AreaLevel::Province => Grouping::Province,
                AreaLevel::District => Grouping::District,
                AreaLevel::Subdistrict => Grouping::Subdistrict,
                AreaLevel::Village => Grouping::Village,
            };
            let rounds = m.group(grouping, &code.to_string()).unwrap_or(&[]);
            (json!({"area": code.to_string()}), rounds)
        }
        (None, Some(zone)) => {
            let rounds = m.group(Grouping::EcoZone, zone).ok_or(WebError::NotFound)?;
            (json!({"zone": zone}), rounds)
        }
        (None, None) => (json!({"registry": true}), &m.total[..]),
    };
    let indicators: Vec<&str> = state
        .config
        .spec
        .indicators
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    Ok(Json(json!({
        "spec": m.spec_id,
        "spec_version": m.spec_version,
        "provisional": m.provisional,
        "k": m.cutoff_label,
        "of": what,
        "indicators": indicators,
        "rounds": rounds_json(&m.rounds, rounds),
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct HouseholdsQuery {
    q: Option<String>,
}

/// `/api/households?q=…`: search, as the registry page does.
pub async fn households(
    State(state): State<Arc<AppState>>,
    current: Current,
    Query(q): Query<HouseholdsQuery>,
) -> Result<Response, ApiError> {
    current.require_records()?;
    let by = match read_search(q.q.as_deref().unwrap_or_default()) {
        Ok(Some(by)) => by,
        Ok(None) => return Ok(Json(json!({"households": []})).into_response()),
        Err(key) => return Err(WebError::BadRequest(Lang::En.t(key).into()).into()),
    };
    let hits = find_households(&state, &current, &by).await?;
    let list: Vec<serde_json::Value> = hits
        .iter()
        .map(|h| {
            json!({
                "house_code": h.household.house_code.as_str(),
                "village": h.household.village.to_string(),
                "person": h.person.as_ref().map(|p| json!({
                    "person_code": p.person_code.as_str(),
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "citizen_id": shown_id(p.citizen_id, &current),
                })),
            })
        })
        .collect();
    Ok(Json(json!({"households": list})).into_response())
}

/// `/api/households/{code}`: a household with its members and assessments.
pub async fn household(
    State(state): State<Arc<AppState>>,
    current: Current,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let h = visible_household(&state, &current, &code).await?;
    let code = h.house_code.as_str();
    let persons = state.store.persons_in(code).await?;
    let events = state.store.events_at(code).await?;
    let today = crate::household::today(&state);
    // Members living there today, as the household page lists them.
    let members: Vec<serde_json::Value> =
        halve_app::registry_edit::members_on(&persons, &events, today)
            .into_iter()
            .map(|p| {
                json!({
                    "person_code": p.person_code.as_str(),
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "citizen_id": shown_id(p.citizen_id, &current),
                    "sex": p.sex.code(),
                    "birth_date": p.birth_date.map(|d| d.to_string()),
                    "relation": p.relation.code(),
                })
            })
            .collect();
    let assessments = state.store.assessments_of(code).await?;
    let spec = &state.config.spec;
    let panel = match state.target_state().await {
        crate::target_panel::PanelState::Ready(ready) => {
            ready.panel.household(&h.house_code).map(|p| {
                let t = ready.panel.target();
                json!({
                    "target": t.id,
                    "target_version": t.version,
                    "as_of": ready.as_of,
                    "rounds": p.rounds.iter().map(|r| json!({
                        "round": r.label,
                        "year": r.year,
                        "state": crate::household::state_code(r.state),
                        "class": r.class.map(|c| c.name()),
                    })).collect::<Vec<_>>(),
                })
            })
        }
        _ => None,
    };
    Ok(Json(json!({
        "panel": panel,
        "house_code": code,
        "village": h.village.to_string(),
        "address": h.address,
        "members": members,
        "spec": spec.id,
        "spec_version": spec.version,
        "assessments": assessments_view(spec, &assessments, Lang::En)?,
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct ProgressQuery {
    area: Option<String>,
    zone: Option<String>,
}

/// `/api/progress[?area=CODE|zone=CODE]`: progress towards the target of one area (the
/// province by default) or eco-zone, every round, with the latest round of each child area;
/// 503 with `Retry-After` while the first run of the target panel is still computing.
pub async fn progress(
    State(state): State<Arc<AppState>>,
    _current: Current,
    Query(q): Query<ProgressQuery>,
) -> Result<Response, ApiError> {
    use crate::target_panel::PanelState;
    let code = match (&q.area, &q.zone) {
        (Some(area), _) => state
            .tree
            .resolve(area)
            .map_err(|_| WebError::NotFound)?
            .to_string(),
        (None, Some(zone)) => zone.clone(),
        (None, None) => state.zones.province.to_string(),
    };
    let ready = match state.target_state().await {
        PanelState::Ready(r) => r,
        PanelState::Computing => {
            let mut r = (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"state": "computing"})),
            )
                .into_response();
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 5.into());
            return Ok(r);
        }
        PanelState::Failed => {
            return Err(WebError::Internal("the target panel failed".into()).into());
        }
    };
    let rows = ready.rows_for(&code);
    if rows.is_empty() {
        return Err(WebError::NotFound.into());
    }
    let children = if q.zone.is_some() {
        Vec::new()
    } else {
        ready.children_rows(&code)
    };
    let r = &ready.province;
    Ok(Json(json!({
        "state": "ready",
        "as_of": ready.as_of,
        "target": r.target,
        "target_version": r.target_version,
        "target_provisional": r.target_provisional,
        "rule": r.rule,
        "spec": r.spec,
        "spec_version": r.spec_version,
        "k": r.k,
        "baseline": r.baseline,
        "horizon": r.horizon,
        "reduction": r.reduction,
        "of": code,
        "rows": rows,
        "children": children,
    }))
    .into_response())
}
