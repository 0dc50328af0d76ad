//! The pages: sign-in, dashboard, areas, registry search, household, import.
//!
//! Handlers check access, read from the store or the live measures, and hand plain view data
//! to a template. Views only read figures: they compute no poverty measure (household
//! deprivations come from `halve_app::measure::deprivation_profile` under the server's spec).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Extension, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use halve_app::measure::{Grouping, deprivation_profile};
use halve_domain::{AreaCode, AreaLevel, BeDate, CitizenId, Household, Key, Person};
use halve_io::{OpenOptions, TableReader};
use halve_measure::{Method, Spec};
use halve_store::{SearchBy, SearchHit};
use minijinja::value::{Serde, Value};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{
    self, Current, LOGIN_COOKIE, MaybeCurrent, SESSION_COOKIE, SignInError, random_token,
};
use crate::error::WebError;
use crate::i18n::{Lang, grouped, percent};
use crate::live::{Figures, Measures};

fn view(v: Json) -> Value {
    Value::from(Serde(v))
}

/// A `next` target that stays on this site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<Arc<AppState>>,
    MaybeCurrent(current): MaybeCurrent,
    lang: Lang,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if current.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    login_page(&state, lang, q.next.as_deref(), None, StatusCode::OK)
}

fn login_page(
    state: &AppState,
    lang: Lang,
    next: Option<&str>,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let token = random_token();
    let page = state.templates.page(
        "login.html",
        lang,
        None,
        "/login",
        view(json!({
            "login_csrf": token,
            "next": safe_next(next),
            "message": message,
        })),
    )?;
    let mut response = (status, page).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        access::cookie(state, LOGIN_COOKIE, &token, 3600),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    lang: Lang,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let client = client.map(|Extension(ConnectInfo(addr))| addr);
    match access::sign_in(&state, &form.username, &form.password, client).await? {
        Ok(token) => {
            let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
            let max_age = state.config.session_idle_secs;
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                access::cookie(&state, SESSION_COOKIE, &token, max_age),
            );
            headers.append(
                header::SET_COOKIE,
                access::cookie(&state, LOGIN_COOKIE, "", 0),
            );
            Ok(response)
        }
        Err(SignInError::Wrong) => login_page(
            &state,
            lang,
            form.next.as_deref(),
            Some(lang.t("login_wrong").into()),
            StatusCode::UNAUTHORIZED,
        ),
        Err(SignInError::Throttled { retry_after }) => {
            let minutes = (retry_after + 59) / 60;
            let message = lang
                .t("login_throttled")
                .replace("{minutes}", &minutes.to_string());
            let mut r = login_page(
                &state,
                lang,
                form.next.as_deref(),
                Some(message),
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            Ok(r)
        }
    }
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    current: Current,
) -> Result<Response, WebError> {
    state.store.end_session(&current.session_hash).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        access::cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// One round's figures as the templates show them.
fn figures_view(label: &str, f: &Figures) -> Json {
    json!({
        "round": label,
        "persons": grouped(f.persons),
        "households": grouped(f.households as f64),
        "poor_persons": grouped(f.poor_persons),
        "poor_households": grouped(f.poor_households as f64),
        "h": percent(f.h),
        "h_bar": (f.h * 100.0).clamp(0.0, 100.0),
        "a": percent(f.a),
        "m0": format!("{:.3}", f.m0),
    })
}

fn rounds_view(m: &Measures, rounds: &[Option<Figures>]) -> Vec<Json> {
    m.rounds
        .iter()
        .zip(rounds)
        .filter_map(|(label, f)| f.as_ref().map(|f| figures_view(label, f)))
        .collect()
}

fn indicator_title(spec: &Spec, j: usize, lang: Lang) -> String {
    let ind = &spec.indicators[j];
    match lang {
        Lang::Th => ind.title_th.clone(),
        Lang::En => ind.title_en.clone(),
    }
    .or_else(|| ind.title_th.clone())
    .unwrap_or_else(|| ind.name.clone())
}

/// The indicators most households are deprived in, in the latest round they have figures.
fn top_deprivations(spec: &Spec, rounds: &[Option<Figures>], lang: Lang) -> Vec<Json> {
    let Some(latest) = rounds.iter().rev().flatten().next() else {
        return Vec::new();
    };
    let mut order: Vec<usize> = (0..latest.hd.len().min(spec.indicators.len())).collect();
    order.sort_by(|&a, &b| latest.hd[b].total_cmp(&latest.hd[a]));
    order
        .into_iter()
        .take(5)
        .filter(|&j| latest.hd[j] > 0.0)
        .map(|j| {
            json!({
                "title": indicator_title(spec, j, lang),
                "share": percent(latest.hd[j]),
                "bar": (latest.hd[j] * 100.0).clamp(0.0, 100.0),
            })
        })
        .collect()
}

fn spec_view(m: &Measures, spec: &Spec, lang: Lang) -> Json {
    let title = match lang {
        Lang::Th => spec.title_th.clone(),
        Lang::En => spec.title_en.clone(),
    }
    .unwrap_or_else(|| spec.name.clone());
    json!({
        "id": m.spec_id,
        "version": m.spec_version,
        "provisional": m.provisional,
        "title": title,
        "cutoff": m.cutoff_label,
        "dropped": grouped(m.units_dropped as f64),
    })
}

/// The latest-round figures of a list of groups (areas or zones) as table rows; `link` says
/// whether the group has an area page.
fn children_view(
    m: &Measures,
    grouping: Grouping,
    children: impl Iterator<Item = (String, String, bool)>,
) -> Vec<Json> {
    let latest = m.latest();
    children
        .map(|(code, name, link)| {
            let f = m
                .group(grouping, &code)
                .and_then(|rounds| latest.and_then(|l| rounds.get(l)).cloned().flatten());
            json!({
                "code": code,
                "name": name,
                "link": link,
                "figures": f.as_ref().map(|f| figures_view("", f)),
            })
        })
        .collect()
}

fn area_name(state: &AppState, code: AreaCode, lang: Lang) -> String {
    state
        .tree
        .get(code)
        .map(|a| lang.pick(&a.name_th, &a.name_en).to_owned())
        .unwrap_or_else(|| code.to_string())
}

pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    let m = state.live.measures().await?;
    state
        .target_panel
        .refresh(&state.store, state.live.generation(), state.clock.now_iso());
    let progress = target_view(&state.target_panel.state().await, lang);
    let spec = &state.config.spec;
    let zones = children_view(
        &m,
        Grouping::EcoZone,
        state.zones.zones.iter().map(|z| {
            (
                z.code.clone(),
                lang.pick(&z.name_th, &z.name_en).to_owned(),
                false,
            )
        }),
    );
    let province = state.zones.province;
    let districts = children_view(
        &m,
        Grouping::District,
        state.tree.children(province).map(|a| {
            (
                a.code.to_string(),
                lang.pick(&a.name_th, &a.name_en).to_owned(),
                true,
            )
        }),
    );
    let page = view(json!({
        "spec": spec_view(&m, spec, lang),
        "rounds": rounds_view(&m, &m.total),
        "top": top_deprivations(spec, &m.total, lang),
        "zones": zones,
        "districts": districts,
        "province": {"code": province.to_string(), "name": area_name(&state, province, lang)},
        "zones_provisional": state.zones.provisional,
        "progress": progress,
    }));
    Ok(state
        .templates
        .page("dashboard.html", lang, Some(&current), "/", page)?
        .into_response())
}

/// The target panel: for the province and each zone, the latest round's persons in the
/// target population against the baseline and the milestone, with both statuses.
fn target_view(state: &crate::target_panel::PanelState, lang: Lang) -> Json {
    use crate::target_panel::PanelState;
    let ready = match state {
        PanelState::Computing => return json!({"state": "computing"}),
        PanelState::Failed => return json!({"state": "failed"}),
        PanelState::Ready(r) => r,
    };
    let mlang = match lang {
        Lang::Th => halve_measure::Lang::Th,
        Lang::En => halve_measure::Lang::En,
    };
    let latest = |report: &halve_measure::ProgressReport| -> Vec<Json> {
        let last = report.rows.iter().map(|r| r.year).max();
        report
            .rows
            .iter()
            // The zone report closes with the whole province, which has its own row above.
            .filter(|r| Some(r.year) == last && r.level != "all")
            .map(|r| {
                let p = &r.persons;
                json!({
                    "code": r.area_code,
                    "name": lang.pick(&r.area_name_th, &r.area_name_en),
                    "round": r.round,
                    "baseline": halve_domain::text::group_thousands(p.baseline),
                    "count": halve_domain::text::group_thousands(p.count),
                    "milestone": halve_domain::text::group_thousands(p.outlook.milestone.round() as u64),
                    "target": p.target,
                    "change": p.outlook.change_pct.map(|c| format!("{c:+.1}%")).unwrap_or_default(),
                    "status": p.outlook.status.label(mlang),
                    "status_code": p.outlook.status.code(),
                    "cohort_status": p.cohort_outlook.status.label(mlang),
                    "cohort_status_code": p.cohort_outlook.status.code(),
                })
            })
            .collect()
    };
    let report = &ready.province;
    json!({
        "state": "ready",
        "target": report.target,
        "target_version": report.target_version,
        "provisional": report.target_provisional,
        "name": lang.pick(&report.target_name_th, &report.target_name_en),
        "spec": report.spec,
        "spec_version": report.spec_version,
        "horizon": report.horizon,
        "province": latest(&ready.province),
        "zones": latest(&ready.zones),
        "as_of": ready.as_of,
    })
}

pub async fn areas_root(State(state): State<Arc<AppState>>, _current: Current) -> Redirect {
    Redirect::to(&format!("/areas/{}", state.zones.province))
}

pub async fn area(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let code = state.tree.resolve(&code).map_err(|_| WebError::NotFound)?;
    let m = state.live.measures().await?;
    let spec = &state.config.spec;
    let grouping = match code.level() {
        AreaLevel::Province => Grouping::Province,
        AreaLevel::District => Grouping::District,
        AreaLevel::Subdistrict => Grouping::Subdistrict,
        AreaLevel::Village => Grouping::Village,
    };
    let name = match code.level() {
        AreaLevel::Village => {
            let village = state
                .store
                .village(&code.to_string())
                .await?
                .ok_or(WebError::NotFound)?;
            match (lang, village.name_en) {
                (Lang::En, Some(en)) => en,
                _ => village.name_th,
            }
        }
        _ => area_name(&state, code, lang),
    };
    let mut crumbs = Vec::new();
    let mut parent = code.parent();
    while let Some(p) = parent {
        crumbs.push(json!({"code": p.to_string(), "name": area_name(&state, p, lang)}));
        parent = p.parent();
    }
    crumbs.reverse();
    let children: Vec<Json> = match code.level() {
        AreaLevel::Province | AreaLevel::District => {
            let child = if code.level() == AreaLevel::Province {
                Grouping::District
            } else {
                Grouping::Subdistrict
            };
            children_view(
                &m,
                child,
                state.tree.children(code).map(|a| {
                    (
                        a.code.to_string(),
                        lang.pick(&a.name_th, &a.name_en).to_owned(),
                        true,
                    )
                }),
            )
        }
        AreaLevel::Subdistrict => {
            let villages = state.store.villages_in(&code.to_string()).await?;
            children_view(
                &m,
                Grouping::Village,
                villages.into_iter().map(|v| {
                    let name = match (lang, &v.name_en) {
                        (Lang::En, Some(en)) => en.clone(),
                        _ => v.name_th.clone(),
                    };
                    (
                        v.code.to_string(),
                        format!("{} {} {name}", lang.t("village_no"), v.code.number()),
                        true,
                    )
                }),
            )
        }
        AreaLevel::Village => Vec::new(),
    };
    let rounds = m.group(grouping, &code.to_string()).unwrap_or(&[]);
    let page = view(json!({
        "code": code.to_string(),
        "name": name,
        "level": lang.pick(code.level().name_th(), code.level().name_en()),
        "crumbs": crumbs,
        "spec": spec_view(&m, spec, lang),
        "rounds": rounds_view(&m, rounds),
        "top": top_deprivations(spec, rounds, lang),
        "children": children,
        "is_village": code.level() == AreaLevel::Village,
    }));
    Ok(state
        .templates
        .page(
            "area.html",
            lang,
            Some(&current),
            &format!("/areas/{code}"),
            page,
        )?
        .into_response())
}

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

async fn village_label(state: &AppState, h: &Household, lang: Lang) -> Result<String, WebError> {
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
    let mut members = Vec::new();
    for p in &persons {
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
    let events: Vec<Json> = state
        .store
        .events_at(&code)
        .await?
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
    let page = view(json!({
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

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn import_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    if !current.role.imports() {
        return Err(WebError::Forbidden);
    }
    import_page(&state, &current, lang, json!({}), StatusCode::OK)
}

fn import_page(
    state: &AppState,
    current: &Current,
    lang: Lang,
    extra: Json,
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut page = json!({ "errors": [], "summary": [], "done": false, "failed": false });
    if let (Some(p), Some(e)) = (page.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let html = state
        .templates
        .page("import.html", lang, Some(current), "/import", view(page))?;
    Ok((status, html).into_response())
}

pub async fn import(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    if !current.role.imports() {
        return Err(WebError::Forbidden);
    }
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| WebError::BadRequest("multipart".into()))?
    {
        let Some(name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
        match TableReader::from_upload(&name, bytes.to_vec(), &OpenOptions::new()) {
            Ok(t) => tables.push((t, None)),
            Err(e) => {
                let row = e.to_row_error();
                errors.push(json!({
                    "file": row.file, "line": row.line, "column": row.column,
                    "reason": lang.pick(&row.reason_th, &row.reason_en),
                }));
            }
        }
    }
    if tables.is_empty() && errors.is_empty() {
        return import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "message": lang.t("import_no_file")}),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if !errors.is_empty() {
        return import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "errors": errors}),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (store, clock, actor) = (state.store.clone(), state.clock.clone(), current.actor());
    let result = crate::live::off_thread(move || async move {
        Ok(halve_app::import::import_tables(
            &store,
            tables,
            &actor,
            clock.as_ref(),
            &halve_app::NoProgress,
        )
        .await)
    })
    .await?;
    match result {
        Ok(summary) => {
            let files: Vec<Json> = summary
                .files
                .iter()
                .map(|f| {
                    json!({
                        "file": f.file,
                        "kind": lang.pick(f.kind.label_th(), f.kind.file_stem()),
                        "rows": f.rows,
                        "written": f.written,
                    })
                })
                .collect();
            import_page(
                &state,
                &current,
                lang,
                json!({"done": true, "summary": files}),
                StatusCode::OK,
            )
        }
        Err(halve_app::AppError::Rejected(reports)) => {
            let errors: Vec<Json> = reports
                .iter()
                .flat_map(|r| r.iter())
                .map(|row| {
                    json!({
                        "file": row.file, "line": row.line, "column": row.column,
                        "reason": lang.pick(&row.reason_th, &row.reason_en),
                    })
                })
                .collect();
            import_page(
                &state,
                &current,
                lang,
                json!({"failed": true, "errors": errors}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(halve_app::AppError::Read(e)) => {
            let row = e.to_row_error();
            import_page(
                &state,
                &current,
                lang,
                json!({"failed": true, "errors": [{
                    "file": row.file, "line": row.line, "column": row.column,
                    "reason": lang.pick(&row.reason_th, &row.reason_en),
                }]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(halve_app::AppError::Invalid(message)) => import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "message": message}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e.into()),
    }
}
