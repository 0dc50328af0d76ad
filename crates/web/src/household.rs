//! The registry pages: search for a household (names, citizen ID, house code, village) and a
//! household's own page with its members, assessments, deprivations and history. Every read
//! is checked against the user's role and areas; a household out of scope is answered exactly
//! as one that does not exist.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use halve_app::measure::deprivation_profile;
use halve_domain::{AreaLevel, BeDate, CitizenId, Household, Key, Person};
use halve_measure::panel::State as PanelUnitState;
use halve_measure::{Method, Spec};
use halve_store::{SearchBy, SearchHit};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::Current;
use crate::error::WebError;
use crate::i18n::Lang;

use crate::pages::{area_name, indicator_title, view};

/// How a search box's text is read: a citizen ID, a village code, a house code, or names.
pub fn read_search(q: &str) -> Result<Option<SearchBy>, &'static str> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(None);
    }
    let compact: String = halve_domain::text::ascii_digits(q)
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    if compact.len() == 13 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return CitizenId::parse(&compact)
            .map(|id| Some(SearchBy::CitizenId(id.as_digits())))
            .map_err(|_| "search_bad_citizen_id");
    }
    if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(SearchBy::Village(compact)));
    }
    if q.is_ascii()
        && !q.contains(' ')
        && let Ok(key) = Key::parse(q)
        && q.bytes().any(|b| b.is_ascii_digit())
    {
        return Ok(Some(SearchBy::HouseCode(key.as_str().to_owned())));
    }
    Ok(Some(SearchBy::Name(
        q.split_whitespace().map(str::to_owned).collect(),
    )))
}

/// A citizen ID as this role may see it.
pub fn shown_id(id: Option<CitizenId>, current: &Current) -> Option<String> {
    id.map(|id| {
        if current.role.sees_citizen_ids() {
            id.to_string()
        } else {
            id.masked()
        }
    })
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
    village: Option<String>,
}

/// Households a user may see that match a search, each checked against their scope.
pub async fn find_households(
    state: &AppState,
    current: &Current,
    by: &SearchBy,
) -> Result<Vec<SearchHit>, WebError> {
    let filter = current.scope.filter(&state.zones);
    let hits = state.store.search_households(by, &filter, 50).await?;
    Ok(hits
        .into_iter()
        .filter(|h| current.scope.allows(h.household.village, &state.zones))
        .collect())
}

pub async fn search(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    current.require_records()?;
    let text = query
        .village
        .clone()
        .filter(|v| !v.is_empty())
        .or(query.q.clone())
        .unwrap_or_default();
    let mut message = None;
    let mut results = Vec::new();
    let mut searched = false;
    match read_search(&text) {
        Err(key) => message = Some(lang.t(key).to_owned()),
        Ok(None) => {}
        Ok(Some(by)) => {
            searched = true;
            for hit in find_households(&state, &current, &by).await? {
                results.push(hit_view(&state, &current, lang, &hit).await?);
            }
        }
    }
    let page = view(json!({
        "q": text,
        "message": message,
        "searched": searched,
        "results": results,
    }));
    Ok(state
        .templates
        .page("search.html", lang, Some(&current), "/search", page)?
        .into_response())
}

async fn hit_view(
    state: &AppState,
    current: &Current,
    lang: Lang,
    hit: &SearchHit,
) -> Result<Json, WebError> {
    let village = village_label(state, &hit.household, lang).await?;
    Ok(json!({
        "house_code": hit.household.house_code.as_str(),
        "segment": segment(hit.household.house_code.as_str()),
        "address": hit.household.address,
        "village": village,
        "person": hit.person.as_ref().map(|p| json!({
            "name": format!("{} {}", p.first_name, p.last_name),
            "citizen_id": shown_id(p.citizen_id, current),
        })),
    }))
}

pub(crate) async fn village_label(
    state: &AppState,
    h: &Household,
    lang: Lang,
) -> Result<String, WebError> {
    let name = state
        .store
        .village(&h.village.to_string())
        .await?
        .map(|v| match (lang, v.name_en) {
            (Lang::En, Some(en)) => en,
            _ => v.name_th,
        })
        .unwrap_or_default();
    let subdistrict = h
        .village
        .parent()
        .map(|s| area_name(state, s, lang))
        .unwrap_or_default();
    let district = h
        .village
        .at_level(AreaLevel::District)
        .map(|d| area_name(state, d, lang))
        .unwrap_or_default();
    Ok(format!(
        "{} {} {name}, {subdistrict}, {district}",
        lang.t("village_no"),
        h.village.number()
    ))
}

/// A record code as one path segment: a house code may hold `/`.
pub fn segment(code: &str) -> String {
    code.replace('%', "%25").replace('/', "%2F")
}

/// A household the user may see, or 404 exactly as for a household that does not exist.
pub async fn visible_household(
    state: &AppState,
    current: &Current,
    code: &str,
) -> Result<Household, WebError> {
    current.require_records()?;
    let household = state
        .store
        .household(code)
        .await?
        .ok_or(WebError::NotFound)?;
    if !current.scope.allows(household.village, &state.zones) {
        return Err(WebError::NotFound);
    }
    Ok(household)
}

fn person_view(p: &Person, current: &Current, lang: Lang, today: BeDate) -> Json {
    json!({
        "code": p.person_code.as_str(),
        "segment": segment(p.person_code.as_str()),
        "name": format!("{} {}", p.first_name, p.last_name),
        "citizen_id": shown_id(p.citizen_id, current),
        "sex": match lang { Lang::Th => p.sex.label_th(), Lang::En => p.sex.code() },
        "relation": match lang { Lang::Th => p.relation.label_th(), Lang::En => p.relation.code() },
        "birth": p.birth_date.map(|d| lang.date(d)),
        "age": p.birth_date.map(|d| today.years_since(d)),
        "flags": Vec::<String>::new(),
        "welfare": Json::Null,
    })
}

/// Today in the server's clock, as a Buddhist Era date.
pub fn today(state: &AppState) -> BeDate {
    let iso = halve_app::clock::iso_utc(state.now());
    BeDate::parse_ce(&iso[..10]).expect("the clock gives a real day")
}

/// The rounds of a household's assessments with their deprivations under the spec.
pub fn assessments_view(
    spec: &Spec,
    assessments: &[halve_domain::Assessment],
    lang: Lang,
) -> Result<Vec<Json>, WebError> {
    let method =
        Method::from_spec(spec, None).map_err(|e| WebError::Internal(format!("spec: {e}")))?;
    let scoring = method
        .scoring()
        .map_err(|e| WebError::Internal(format!("spec: {e}")))?;
    let cutoff = method.cutoffs.first().cloned();
    let mut out = Vec::new();
    for a in assessments {
        let bits = deprivation_profile(spec, a)?;
        let deprived: Vec<String> = bits
            .map(|b| {
                (0..spec.indicators.len())
                    .filter(|j| b & (1 << j) != 0)
                    .map(|j| indicator_title(spec, j, lang))
                    .collect()
            })
            .unwrap_or_default();
        let status = match (bits, &cutoff) {
            (None, _) => lang.t("status_incomplete"),
            (Some(b), Some(c)) if scoring.is_poor(b, c) => lang.t("status_poor"),
            (Some(_), _) => lang.t("status_not_poor"),
        };
        out.push(json!({
            "round": a.round.be(),
            "assessed_on": lang.date(a.assessed_on),
            "members": a.members,
            "deprived": deprived,
            "status": status,
            "complete": bits.is_some(),
        }));
    }
    Ok(out)
}

pub async fn household(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let household = visible_household(&state, &current, &code).await?;
    let code = household.house_code.as_str().to_owned();
    let today = today(&state);
    let persons = state.store.persons_in(&code).await?;
    let flags = state.store.flags_in(&code).await?;
    let cards = state.store.welfare_cards_in(&code).await?;
    let events_here = state.store.events_at(&code).await?;
    // Registered here is not living here: the dead and those who moved out are in the history.
    let living = halve_app::registry_edit::members_on(&persons, &events_here, today);
    let mut members = Vec::new();
    for p in living {
        let mut v = person_view(p, &current, lang, today);
        let mut person_flags: Vec<String> = flags
            .iter()
            .filter(|f| f.person_code == p.person_code)
            .map(|f| match lang {
                Lang::Th => f.flag.label_th().to_owned(),
                Lang::En => f.flag.code().replace('_', " "),
            })
            .collect();
        person_flags.dedup();
        v["flags"] = json!(person_flags);
        if let Some(card) = cards.iter().rev().find(|c| c.person_code == p.person_code) {
            v["welfare"] = json!(format!(
                "{} ({})",
                match lang {
                    Lang::Th => card.status.label_th(),
                    Lang::En => card.status.code(),
                },
                lang.date(card.as_of)
            ));
        }
        members.push(v);
    }
    let assessments = state.store.assessments_of(&code).await?;
    let spec = &state.config.spec;
    let events: Vec<Json> = events_here
        .into_iter()
        .map(|e| {
            let who = persons
                .iter()
                .find(|p| p.person_code == e.person_code)
                .map(|p| format!("{} {}", p.first_name, p.last_name))
                .unwrap_or_else(|| e.person_code.as_str().to_owned());
            json!({
                "date": lang.date(e.date),
                "kind": match lang { Lang::Th => e.kind.label_th(), Lang::En => e.kind.code() },
                "who": who,
            })
        })
        .collect();
    let panel = household_panel_view(&state, &household, lang).await;
    let case = crate::cases::household_section(&state, &current, &household, lang).await?;
    let page = view(json!({
        "panel": panel,
        "case": case,
        "house_code": code,
        "segment": segment(&code),
        "address": household.address,
        "village": village_label(&state, &household, lang).await?,
        "village_code": household.village.to_string(),
        "members": members,
        "assessments": assessments_view(spec, &assessments, lang)?,
        "events": events,
        "spec": {"id": spec.id, "version": spec.version, "provisional": spec.provisional},
        "can_record": current.role.records_assessments(),
        "saved": q.saved.is_some(),
    }));
    Ok(state
        .templates
        .page(
            "household.html",
            lang,
            Some(&current),
            &format!("/households/{code}"),
            page,
        )?
        .into_response())
}

/// The household's standing in the target panel, round by round, from the last finished run
/// of the target panel (the same run the dashboard's figures come from).
async fn household_panel_view(state: &AppState, household: &Household, lang: Lang) -> Json {
    use crate::target_panel::PanelState;
    let ready = match state.target_state().await {
        PanelState::Computing => return json!({"state": "computing"}),
        PanelState::Failed => return json!({"state": "failed"}),
        PanelState::Ready(r) => r,
    };
    let target = ready.panel.target();
    let head = json!({
        "target": target.id,
        "target_version": target.version,
        "rule": target.rule.to_string(),
        "as_of": ready.as_of,
    });
    let Some(mine) = ready.panel.household(&household.house_code) else {
        return json!({"state": "absent", "head": head});
    };
    let rounds: Vec<Json> = mine
        .rounds
        .iter()
        .map(|r| {
            json!({
                "year": r.year,
                "round": r.label,
                "in": lang.t(&format!("state_{}", state_code(r.state))),
                "is_in": r.state == PanelUnitState::In,
                "class": r.class.map(|c| lang.t(&format!("class_{}", c.name()))),
            })
        })
        .collect();
    json!({"state": "ready", "head": head, "rounds": rounds})
}

/// A panel state's name, as the API and the word list (`state_…`) spell it.
pub fn state_code(state: PanelUnitState) -> &'static str {
    match state {
        PanelUnitState::NotYet => "not_yet",
        PanelUnitState::In => "in",
        PanelUnitState::Out => "out",
        PanelUnitState::Unassessed => "unassessed",
        PanelUnitState::Died => "died",
        PanelUnitState::Moved => "moved",
        PanelUnitState::Merged => "merged",
        PanelUnitState::Corrected => "corrected",
    }
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}
