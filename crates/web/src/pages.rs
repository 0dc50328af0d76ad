//! The pages: sign-in, dashboard and areas (the registry pages are in `household`, the
//! import page in `import_page`).
//!
//! Handlers check access, read from the store or the live measures, and hand plain view data
//! to a template. Views only read figures: they compute no poverty measure (household
//! deprivations come from `halve_app::measure::deprivation_profile` under the server's spec).
//!
//! The dashboard and every area page carry the same progress panels (`progress_panels`): the
//! latest round against the baseline and the milestone, the trajectory chart and the map of
//! the areas below (a tile grid, or a choropleth once boundaries are imported), all from the
//! target panel's rows of that area ([`crate::target_panel::Ready::rows_for`] and
//! `children_rows`) and drawn by [`crate::charts`]; the dashboard adds the eco-zone map.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use halve_app::measure::Grouping;
use halve_domain::{AreaCode, AreaLevel};
use halve_measure::{ProgressRow, Spec, Status};
use minijinja::value::{Serde, Value};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{
    self, Current, LOGIN_COOKIE, MaybeCurrent, SESSION_COOKIE, SignInError, random_token,
};
use crate::charts::trajectory::{self, Trajectory, Unit};
use crate::charts::{self, Cell, Chart, MapArea, MapWords, choropleth, tilegrid};
use crate::error::WebError;
use crate::i18n::{Lang, grouped, percent};
use crate::live::{Figures, Measures};
use crate::target_panel::PanelState;

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

/// `?unit=households` draws the trajectory in households instead of persons.
#[derive(Deserialize, Default)]
pub struct ChartQuery {
    unit: Option<String>,
}

pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Query(q): Query<ChartQuery>,
) -> Result<Response, WebError> {
    let m = state.live.measures().await?;
    let panel = state.target_state().await;
    let progress = target_view(&panel, lang);
    let unit = Unit::parse(q.unit.as_deref());
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
    let boundaries = state.store.boundaries_within(province).await?;
    let children = tree_children(&state, province, lang);
    let mut panels = progress_panels(
        &state,
        &panel,
        &province.to_string(),
        &children,
        &boundaries,
        lang,
        unit,
    );
    panels["zone_map"] = zone_map(&state, &panel, &boundaries, lang, unit);
    let page = view(json!({
        "spec": spec_view(&m, spec, lang),
        "rounds": rounds_view(&m, &m.total),
        "top": top_deprivations(spec, &m.total, lang),
        "zones": zones,
        "districts": districts,
        "province": {"code": province.to_string(), "name": area_name(&state, province, lang)},
        "zones_provisional": state.zones.provisional,
        "progress": progress,
        "panels": panels,
    }));
    Ok(state
        .templates
        .page("dashboard.html", lang, Some(&current), "/", page)?
        .into_response())
}

/// The target panel: for the province and each zone, the latest round's persons in the
/// target population against the baseline and the milestone, with both statuses.
fn target_view(state: &PanelState, lang: Lang) -> Json {
    let ready = match state {
        PanelState::Computing => return json!({"state": "computing"}),
        PanelState::Failed => return json!({"state": "failed"}),
        PanelState::Ready(r) => r,
    };
    let mlang = measure_lang(lang);
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
                    "baseline": charts::count(p.baseline),
                    "count": charts::count(p.count),
                    "milestone": charts::decimal(p.outlook.milestone),
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

fn measure_lang(lang: Lang) -> halve_measure::Lang {
    match lang {
        Lang::Th => halve_measure::Lang::Th,
        Lang::En => halve_measure::Lang::En,
    }
}

/// An area below the page's area, as its map shows it.
struct Child {
    code: String,
    name: String,
    /// What fits on a tile.
    short: String,
}

/// What fits on a tile of a district's or subdistrict's name: "Mueang" for the capital
/// district (its full name repeats the province's), else the name.
fn short_name(name: &str) -> String {
    for prefix in ["เมือง", "Mueang "] {
        if name.starts_with(prefix) && name.len() > prefix.len() {
            return prefix.trim().to_owned();
        }
    }
    name.to_owned()
}

/// The children of a province or district in the shipped tree.
fn tree_children(state: &AppState, code: AreaCode, lang: Lang) -> Vec<Child> {
    state
        .tree
        .children(code)
        .map(|a| {
            let name = lang.pick(&a.name_th, &a.name_en).to_owned();
            Child {
                code: a.code.to_string(),
                short: short_name(&name),
                name,
            }
        })
        .collect()
}

fn trajectory_words(lang: Lang, unit: Unit) -> trajectory::Words {
    let t = |k: &str| lang.t(k).to_owned();
    let (title, axis) = match unit {
        Unit::Persons => ("ch_trajectory_persons", "ch_persons"),
        Unit::Households => ("ch_trajectory_households", "ch_households"),
    };
    trajectory::Words {
        title: t(title),
        caption: t("ch_trajectory_caption"),
        year_axis: t("ch_year_axis"),
        count_axis: t(axis),
        legend_count: t("ch_legend_count"),
        legend_path: t("ch_legend_path"),
        legend_projection: t("ch_legend_projection"),
        baseline: t("ch_baseline"),
        target: t("ch_target"),
        at_most: t("ch_at_most"),
        col_year: t("ch_col_year"),
        col_count: t("ch_col_count"),
        col_milestone: t("ch_col_milestone"),
        col_projection: t("ch_col_projection"),
        col_status: t("ch_col_status"),
    }
}

fn status_legend(lang: Lang) -> Vec<(Status, String)> {
    let mlang = measure_lang(lang);
    charts::STATUSES
        .iter()
        .map(|s| (*s, s.label(mlang).to_owned()))
        .collect()
}

/// The words of a map: `title` and `caption` keys, the heads after area and status.
fn map_words(
    lang: Lang,
    title: &str,
    caption: &str,
    areas: &[MapArea],
    extra: &[&str],
) -> MapWords {
    // The description counts areas by status, so the picture's text says what its colours do.
    let mlang = measure_lang(lang);
    let by_status: Vec<String> = charts::STATUSES
        .iter()
        .filter_map(|s| {
            let n = areas.iter().filter(|a| a.status == *s).count();
            (n > 0).then(|| format!("{} {n}", s.label(mlang)))
        })
        .collect();
    let mut head = vec![
        lang.t("ch_col_area").to_owned(),
        lang.t("ch_col_status").to_owned(),
    ];
    head.extend(extra.iter().map(|k| lang.t(k).to_owned()));
    MapWords {
        title: lang.t(title).to_owned(),
        desc: format!("{}: {}", lang.t("ch_map_desc"), by_status.join(", ")),
        caption: lang.t(caption).to_owned(),
        head,
        legend: status_legend(lang),
    }
}

/// The figures a map's table shows of an area's latest row: now, baseline, milestone.
fn row_cells(row: Option<&ProgressRow>, unit: Unit) -> Vec<String> {
    match row {
        Some(r) => {
            let f = unit.of(r);
            vec![
                charts::count(f.count),
                charts::count(f.baseline),
                charts::decimal(f.outlook.milestone),
            ]
        }
        None => vec![String::new(), String::new(), String::new()],
    }
}

/// The status a map shows for a row (no row: no data).
fn row_status(row: Option<&ProgressRow>, unit: Unit) -> Status {
    row.map_or(Status::NoData, |r| unit.of(r).outlook.status)
}

/// A map of areas: drawn from their boundaries when any has one, else as a tile grid laid out
/// for `parent`. Returns the chart, its kind and the names of areas drawn without a boundary.
fn area_map(
    id: &str,
    parent: &str,
    areas: Vec<MapArea>,
    boundaries: &[halve_store::Boundary],
    words: &MapWords,
) -> (Option<Chart>, &'static str, Vec<String>) {
    let mut shapes: HashMap<String, choropleth::Polygons> = boundaries
        .iter()
        .filter_map(|b| Some((b.area.to_string(), choropleth::parse_geometry(&b.geometry)?)))
        .collect();
    if areas.iter().any(|a| shapes.contains_key(&a.code)) {
        let missing = areas
            .iter()
            .filter(|a| !shapes.contains_key(&a.code))
            .map(|a| a.name.clone())
            .collect();
        let with_shapes: Vec<(MapArea, Option<choropleth::Polygons>)> = areas
            .into_iter()
            .map(|a| {
                let shape = shapes.remove(&a.code);
                (a, shape)
            })
            .collect();
        return (
            choropleth::choropleth(id, &with_shapes, words),
            "choropleth",
            missing,
        );
    }
    let codes: Vec<&str> = areas.iter().map(|a| a.code.as_str()).collect();
    let cells = tilegrid::place(parent, &codes);
    let placed: Vec<(MapArea, (u32, u32))> = areas.into_iter().zip(cells).collect();
    (
        tilegrid::tile_grid(id, &placed, words),
        "tilegrid",
        Vec::new(),
    )
}

/// The progress panels of one area: the latest round against the baseline and the
/// milestone, the trajectory chart, and the map of the areas below it (none for a village).
fn progress_panels(
    state: &AppState,
    panel: &PanelState,
    code: &str,
    children: &[Child],
    boundaries: &[halve_store::Boundary],
    lang: Lang,
    unit: Unit,
) -> Json {
    let mlang = measure_lang(lang);
    let ready = match panel {
        PanelState::Ready(r) => Some(r.as_ref()),
        _ => None,
    };
    let rows = ready.map(|r| r.rows_for(code)).unwrap_or_default();
    let child_rows: HashMap<&str, &ProgressRow> = ready
        .map(|r| r.children_rows(code))
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.area_code.as_str(), r))
        .collect();
    let target = &state.config.target;
    let headline = rows.last().map(|row| {
        let f = unit.of(row);
        let c = &f.cohort_outlook;
        json!({
            "round": row.round,
            "count": charts::count(f.count),
            "baseline": charts::count(f.baseline),
            "baseline_year": target.baseline,
            "milestone": charts::decimal(f.outlook.milestone),
            "target": f.target_max.map_or_else(|| format!("< {}", f.target), |m| format!("{} {}", lang.t("ch_at_most"), charts::count(m))),
            "horizon": target.horizon_year(),
            "change": f.outlook.change_pct.map(|c| format!("{c:+.1}%")),
            "met_year": f.outlook.met_year.map(|y| format!("{y:.1}")),
            "status": f.outlook.status.label(mlang),
            "status_code": f.outlook.status.code(),
            "symbol": charts::look(f.outlook.status).symbol,
            "cohort_status": c.status.label(mlang),
        })
    });
    let chart = Trajectory::from_rows(&rows, unit, target, mlang)
        .and_then(|t| trajectory::chart("ch-trajectory", &t, &trajectory_words(lang, unit)));
    let areas: Vec<MapArea> = children
        .iter()
        .map(|c| {
            let row = child_rows.get(c.code.as_str()).copied();
            let status = row_status(row, unit);
            MapArea {
                code: c.code.clone(),
                name: c.name.clone(),
                short: c.short.clone(),
                status,
                status_label: status.label(mlang).to_owned(),
                href: Some(format!("/areas/{}", c.code)),
                group: None,
                cells: row_cells(row, unit),
            }
        })
        .collect();
    let words = map_words(
        lang,
        "ch_map_children",
        "ch_map_children_caption",
        &areas,
        &["progress_count", "progress_baseline", "progress_milestone"],
    );
    let (map, kind, missing) = area_map("ch-children", code, areas, boundaries, &words);
    json!({
        "state": match panel {
            PanelState::Ready(_) => "ready",
            PanelState::Computing => "computing",
            PanelState::Failed => "failed",
        },
        "unit": unit.code(),
        "headline": headline,
        "trajectory": chart,
        "map": map,
        "map_kind": kind,
        "missing": missing,
        "as_of": ready.map(|r| r.as_of.clone()),
    })
}

/// The dashboard's eco-zone map: every district of the province, grouped by its zone and
/// coloured by the zone's status; its table has one row per zone.
fn zone_map(
    state: &AppState,
    panel: &PanelState,
    boundaries: &[halve_store::Boundary],
    lang: Lang,
    unit: Unit,
) -> Json {
    let mlang = measure_lang(lang);
    let zone_rows: HashMap<&str, &ProgressRow> = match panel {
        PanelState::Ready(r) => r
            .children_rows("zones")
            .into_iter()
            .map(|r| (r.area_code.as_str(), r))
            .collect(),
        _ => HashMap::new(),
    };
    let province = state.zones.province;
    let areas: Vec<MapArea> = tree_children(state, province, lang)
        .into_iter()
        .map(|c| {
            let zone = AreaCode::parse_syntax(&c.code)
                .ok()
                .and_then(|code| state.zones.zone_of(code));
            let status = row_status(
                zone.and_then(|z| zone_rows.get(z.code.as_str()).copied()),
                unit,
            );
            let zone_name = zone.map(|z| lang.pick(&z.name_th, &z.name_en).to_owned());
            MapArea {
                status_label: format!(
                    "{}{}",
                    zone_name
                        .as_ref()
                        .map(|z| format!("{z}: "))
                        .unwrap_or_default(),
                    status.label(mlang)
                ),
                code: c.code.clone(),
                name: c.name,
                short: c.short,
                status,
                href: Some(format!("/areas/{}", c.code)),
                group: zone.map(|z| z.code.clone()),
                cells: Vec::new(),
            }
        })
        .collect();
    let mut words = map_words(lang, "ch_map_zones", "ch_map_zones_caption", &areas, &[]);
    words.head = [
        "ch_col_zone",
        "ch_col_status",
        "progress_count",
        "progress_baseline",
        "progress_milestone",
        "ch_col_districts",
    ]
    .iter()
    .map(|k| lang.t(k).to_owned())
    .collect();
    let zone_table_rows: Vec<Vec<Cell>> = state
        .zones
        .zones
        .iter()
        .map(|z| {
            let row = zone_rows.get(z.code.as_str()).copied();
            let status = row_status(row, unit);
            let districts: Vec<String> = z
                .districts
                .iter()
                .map(|d| area_name(state, *d, lang))
                .collect();
            let mut cells = vec![
                Cell::head(lang.pick(&z.name_th, &z.name_en), None),
                Cell::text(format!(
                    "{} {}",
                    charts::look(status).symbol,
                    status.label(mlang)
                )),
            ];
            cells.extend(row_cells(row, unit).into_iter().map(Cell::num));
            cells.push(Cell::text(districts.join(", ")));
            cells
        })
        .collect();
    let (map, kind, missing) =
        area_map("ch-zones", &province.to_string(), areas, boundaries, &words);
    let map = map.map(|mut chart| {
        chart.table.rows = zone_table_rows;
        chart
    });
    json!({"map": map, "map_kind": kind, "missing": missing})
}

pub async fn areas_root(State(state): State<Arc<AppState>>, _current: Current) -> Redirect {
    Redirect::to(&format!("/areas/{}", state.zones.province))
}

pub async fn area(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, WebError> {
    let code = state.tree.resolve(&code).map_err(|_| WebError::NotFound)?;
    let m = state.live.measures().await?;
    let panel = state.target_state().await;
    let unit = Unit::parse(q.unit.as_deref());
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
    let (map_children, children): (Vec<Child>, Vec<Json>) = match code.level() {
        AreaLevel::Province | AreaLevel::District => {
            let child = if code.level() == AreaLevel::Province {
                Grouping::District
            } else {
                Grouping::Subdistrict
            };
            (
                tree_children(&state, code, lang),
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
                ),
            )
        }
        AreaLevel::Subdistrict => {
            let villages = state.store.villages_in(&code.to_string()).await?;
            let named: Vec<(String, String, String)> = villages
                .iter()
                .map(|v| {
                    let own = match (lang, &v.name_en) {
                        (Lang::En, Some(en)) => en.clone(),
                        _ => v.name_th.clone(),
                    };
                    (
                        v.code.to_string(),
                        format!("{} {} {own}", lang.t("village_no"), v.code.number() % 100),
                        format!("{} {}", lang.t("village_no"), v.code.number() % 100),
                    )
                })
                .collect();
            (
                named
                    .iter()
                    .map(|(code, name, short)| Child {
                        code: code.clone(),
                        name: name.clone(),
                        short: short.clone(),
                    })
                    .collect(),
                children_view(
                    &m,
                    Grouping::Village,
                    named.into_iter().map(|(code, name, _)| (code, name, true)),
                ),
            )
        }
        AreaLevel::Village => (Vec::new(), Vec::new()),
    };
    let boundaries = if map_children.is_empty() {
        Vec::new()
    } else {
        state.store.boundaries_within(code).await?
    };
    let panels = progress_panels(
        &state,
        &panel,
        &code.to_string(),
        &map_children,
        &boundaries,
        lang,
        unit,
    );
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
        "progress": target_view(&panel, lang),
        "panels": panels,
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
