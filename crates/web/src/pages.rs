//! The pages: sign-in, dashboard and areas (the registry pages are in `household`, the
//! import page in `import_page`).
//!
//! Handlers check access, read from the store or the live measures, and hand plain view data
//! to a template. Views only read figures: they compute no poverty measure (household
//! deprivations come from `halve_app::measure::deprivation_profile` under the server's spec).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use halve_app::measure::Grouping;
use halve_domain::{AreaCode, AreaLevel};
use halve_measure::Spec;
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

pub(crate) fn view(v: Json) -> Value {
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

pub(crate) fn indicator_title(spec: &Spec, j: usize, lang: Lang) -> String {
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

pub(crate) fn area_name(state: &AppState, code: AreaCode, lang: Lang) -> String {
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
