//! The what-if page: other cutoffs or weights, or an intervention that solves chosen
//! indicators for selected households, computed on copies; live data never changes.
//!
//! `GET /what-if` (a form of GET parameters, so a what-if is a shareable link that works
//! without JavaScript) and `GET /api/what-if` (the same question, JSON) answer with the
//! figures now and under the what-if side by side, per round and, for the latest round, per
//! eco-zone and district, each naming its spec; and with what the what-if does to the target.
//! Any signed-in role may ask: only aggregates are shown. A zone worker chooses households
//! within their areas only. The question is read in [`params`]; the snapshot and the
//! household index it runs on are in [`engine`].
//!
//! The target population is `low_income or (vulnerable and poor)` (by default; the rule is the
//! target's). Lifting deprivations changes only the `poor` part, and only under the target's
//! own spec and cutoff; whether a lifted household leaves the target population depends on its
//! income and its members' flags, which only the target panel knows. Rebuilding that panel
//! takes tens of seconds on a large registry, far beyond a what-if, so the page gives the
//! exact range instead: the count under the what-if lies between the count now minus the
//! households the intervention lifts out of poverty (as the target counts poverty) and the
//! count now, and it says whether the milestone is met at either end.

mod engine;
mod params;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json as JsonResponse, Response};
use axum::routing::get;
use halve_app::measure::{Grouping, Lift, RegistryWhatIf};
use halve_domain::{AreaCode, BeYear, EcoZoneSet, Key, VulnerabilityFlag};
use halve_measure::Spec;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{Current, Scope};
use crate::error::WebError;
use crate::i18n::{Lang, grouped, percent};
use crate::live::Figures;
use crate::pages::{area_name, indicator_title, view};
use crate::target_panel::PanelState;
use engine::{Index, Table};
use params::{Problem, Question, Typed};

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/what-if", get(page))
        .route("/api/what-if", get(api))
}

type Pairs = Query<Vec<(String, String)>>;

/// A question refused: its problems and the status to answer with.
struct Refused {
    status: StatusCode,
    problems: Vec<Problem>,
}

/// Everything a what-if answers.
struct Answer {
    spec_id: String,
    spec_version: u32,
    provisional: bool,
    question: Question,
    /// The latest round's label, where the intervention acts.
    latest: Option<String>,
    /// Households chosen (measured in the latest round and matching every condition).
    selected: u64,
    /// Of those, deprived in at least one indicator the intervention solves.
    changed: u64,
    now: Table,
    then: Table,
    target: TargetEffect,
    /// Milliseconds spent choosing the households and computing, for the API's
    /// `Server-Timing` header (the benchmark reads it).
    timing: (f64, f64),
}

/// What the what-if does to the target, as far as it can be known exactly.
enum TargetEffect {
    /// The target panel's first run has not finished.
    Computing,
    Failed,
    /// The target's `poor` is not decided by the spec in use (or the rule has no `poor`).
    OtherSpec,
    /// The panel's latest round is not the snapshot's.
    OtherRound,
    Ready(Box<TargetFigures>),
}

struct TargetFigures {
    target_id: String,
    target_version: u32,
    provisional: bool,
    rule: String,
    spec_id: String,
    cutoff: String,
    round: String,
    as_of: String,
    persons_now: u64,
    persons_milestone: f64,
    households_now: u64,
    households_milestone: f64,
    /// Households the intervention lifts out of poverty as the target counts poverty.
    lifted_out: u64,
    /// Whether the question has an intervention at all.
    has_lift: bool,
}

impl TargetFigures {
    /// The least households in the target population under the what-if.
    fn households_low(&self) -> u64 {
        self.households_now.saturating_sub(self.lifted_out)
    }

    /// `already`, `no`, or `maybe` (with how many lifted households must leave).
    fn meets(&self) -> (&'static str, u64) {
        let m = self.households_milestone;
        if self.households_now as f64 <= m {
            ("already", 0)
        } else if self.households_low() as f64 > m {
            ("no", 0)
        } else {
            ("maybe", (self.households_now as f64 - m).ceil() as u64)
        }
    }
}

/// Whether a zone worker may choose an area: it lies within one of their areas or zones.
/// Households are also checked one by one against the scope, so a district that a zone only
/// partly covers never lets another zone's households in.
fn area_allowed(scope: &Scope, area: AreaCode, zones: &EcoZoneSet) -> bool {
    scope.everywhere
        || scope.areas.iter().any(|a| a.contains(area))
        || zones
            .zones
            .iter()
            .filter(|z| scope.zones.contains(&z.code))
            .any(|z| {
                z.districts.iter().any(|d| d.contains(area))
                    || z.subdistricts.iter().any(|s| s.contains(area))
            })
}

/// The households the question chooses, within the user's scope, and the keys of those the
/// intervention changes (a household not deprived in any solved indicator is left out of the
/// lift: clearing what is not there changes nothing).
fn select(index: &Index, q: &Question, scope: &Scope, zones: &EcoZoneSet) -> (u64, u64, Vec<Key>) {
    let allowed: Vec<bool> = index
        .villages
        .iter()
        .map(|&v| scope.allows(v, zones) && q.area.is_none_or(|a| a.contains(v)))
        .collect();
    let flag = q.flag.map_or(0, engine::flag_bit);
    let (mut selected, mut changed, mut keys) = (0u64, 0u64, Vec::new());
    for h in &index.households {
        let Some(bits) = h.bits else { continue };
        if !allowed[h.village as usize] || h.flags & flag != flag || bits & q.deprived != q.deprived
        {
            continue;
        }
        selected += 1;
        if bits & q.solve != 0 {
            changed += 1;
            keys.push(h.key.clone());
        }
    }
    (selected, changed, keys)
}

fn names(spec: &Spec, mask: u32) -> Vec<String> {
    spec.indicators
        .iter()
        .enumerate()
        .filter(|(j, _)| mask >> j & 1 == 1)
        .map(|(_, i)| i.name.clone())
        .collect()
}

/// Reads, checks and answers a question.
async fn answer(
    state: &Arc<AppState>,
    current: &Current,
    pairs: &[(String, String)],
) -> Result<(Typed, Result<Answer, Refused>), WebError> {
    let spec = &state.config.spec;
    let (typed, question) = params::read(pairs, spec, state.tree);
    let question = match question {
        Ok(q) => q,
        Err(problems) => {
            let refused = Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                problems,
            };
            return Ok((typed, Err(refused)));
        }
    };
    if let Some(area) = question.area
        && !area_allowed(&current.scope, area, &state.zones)
    {
        let refused = Refused {
            status: StatusCode::FORBIDDEN,
            problems: vec![Problem {
                field: "area".into(),
                key: "whatif_err_area_scope",
                detail: String::new(),
            }],
        };
        return Ok((typed, Err(refused)));
    }

    // The target panel follows the dashboard's figures; asking for them keeps it fresh.
    state.live.measures().await?;
    state
        .target_panel
        .refresh(&state.store, state.live.generation(), state.clock.now_iso());
    let panel = state.target_panel.state().await;

    let engine = engine::engine(state).await?;
    let live = engine.current().await?;
    let latest: Option<BeYear> = live.index.latest;
    let started = std::time::Instant::now();
    let (selected, changed, keys) = select(&live.index, &question, &current.scope, &state.zones);
    let solve = names(spec, question.solve);
    let mut change = RegistryWhatIf {
        cutoffs: Some(vec![question.cutoff.clone()]),
        weights: question.weights_changed.then(|| question.weights.clone()),
        lift: if keys.is_empty() || solve.is_empty() {
            Vec::new()
        } else {
            vec![Lift {
                households: keys,
                round: latest,
                indicators: solve,
            }]
        },
    };
    let selected_at = std::time::Instant::now();
    let (now, then) = engine::run_pair(&live.snapshot, &change)?;
    let target = target_effect(
        state,
        &panel,
        &live.snapshot,
        &mut change,
        latest,
        (&now, &then),
    )?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let timing = (ms(selected_at - started), ms(selected_at.elapsed()));
    drop(live);
    Ok((
        typed,
        Ok(Answer {
            spec_id: spec.id.clone(),
            spec_version: spec.version,
            provisional: spec.provisional,
            question,
            latest: latest.map(|y| y.be().to_string()),
            selected,
            changed,
            now,
            then,
            target,
            timing,
        }),
    ))
}

fn target_effect(
    state: &AppState,
    panel: &PanelState,
    snapshot: &halve_app::measure::RegistrySnapshot,
    change: &mut RegistryWhatIf,
    latest: Option<BeYear>,
    (now, then): (&Table, &Table),
) -> Result<TargetEffect, WebError> {
    let ready = match panel {
        PanelState::Computing => return Ok(TargetEffect::Computing),
        PanelState::Failed => return Ok(TargetEffect::Failed),
        PanelState::Ready(r) => r,
    };
    let target = &state.config.target;
    let spec = &state.config.spec;
    let Some(poor) = target
        .poor
        .as_ref()
        .filter(|p| p.spec == spec.id && p.spec_version.is_none_or(|v| v == spec.version))
    else {
        return Ok(TargetEffect::OtherSpec);
    };
    let Some(cutoff) = poor.k.clone().or_else(|| spec.cutoffs.first().cloned()) else {
        return Ok(TargetEffect::OtherSpec);
    };
    let report = &ready.province;
    let last = report.rows.iter().map(|r| r.year).max();
    let row = report
        .rows
        .iter()
        .filter(|r| Some(r.year) == last)
        .find(|r| r.level != "all")
        .or_else(|| report.rows.iter().find(|r| Some(r.year) == last));
    let (Some(row), Some(latest)) = (row, latest) else {
        return Ok(TargetEffect::OtherRound);
    };
    if row.year != latest.be() {
        return Ok(TargetEffect::OtherRound);
    }
    let has_lift = !change.lift.is_empty();
    let same = |c: &halve_measure::Cutoff| c.percent == cutoff.percent;
    // When the what-if already ran under the target's rules (its cutoff, the spec's weights,
    // and the live figures at that cutoff too), its figures say it; otherwise the lift is run
    // again under them.
    let ran_under_target = change.weights.is_none()
        && change
            .cutoffs
            .as_deref()
            .is_some_and(|c| c.len() == 1 && same(&c[0]))
        && spec.cutoffs.first().is_some_and(same);
    let label = latest.be().to_string();
    let lifted_out = if !has_lift {
        0
    } else if ran_under_target {
        now.total_of(&label)
            .zip(then.total_of(&label))
            .map_or(0, |(n, t)| {
                n.poor_households.saturating_sub(t.poor_households)
            })
    } else {
        engine::poor_households_at(snapshot, &cutoff, change, latest)?
            .map_or(0, |(before, after)| before.saturating_sub(after))
    };
    Ok(TargetEffect::Ready(Box::new(TargetFigures {
        target_id: report.target.clone(),
        target_version: report.target_version,
        provisional: report.target_provisional,
        rule: target.rule.to_string(),
        spec_id: format!("{} {}", poor.spec, spec.version),
        cutoff: cutoff.label.clone(),
        round: row.round.clone(),
        as_of: ready.as_of.clone(),
        persons_now: row.persons.count,
        persons_milestone: row.persons.outlook.milestone,
        households_now: row.households.count,
        households_milestone: row.households.outlook.milestone,
        lifted_out,
        has_lift,
    })))
}

fn problem_text(p: &Problem, lang: Lang) -> String {
    lang.t(p.key).replace("{x}", &p.detail)
}

// ---- JSON ----

fn figures_json(f: Option<&Figures>) -> Json {
    f.map_or(Json::Null, |f| {
        json!({
            "persons": f.persons,
            "households": f.households,
            "poor_persons": f.poor_persons,
            "poor_households": f.poor_households,
            "h": f.h,
            "a": f.a,
            "m0": f.m0,
            "hd": f.hd,
        })
    })
}

fn difference_json(now: Option<&Figures>, then: Option<&Figures>) -> Json {
    match (now, then) {
        (Some(n), Some(t)) => json!({
            "poor_persons": t.poor_persons - n.poor_persons,
            "poor_households": t.poor_households as i64 - n.poor_households as i64,
            "h": t.h - n.h,
            "a": t.a - n.a,
            "m0": t.m0 - n.m0,
        }),
        _ => Json::Null,
    }
}

fn groups_json(a: &Answer, grouping: Grouping, codes: &[(String, String)]) -> Json {
    let Some(latest) = &a.latest else {
        return json!([]);
    };
    codes
        .iter()
        .filter_map(|(code, name)| {
            let now = a.now.group_of(grouping, code, latest);
            let then = a.then.group_of(grouping, code, latest);
            (now.is_some() || then.is_some()).then(|| {
                json!({
                    "code": code,
                    "name": name,
                    "now": figures_json(now),
                    "what_if": figures_json(then),
                    "difference": difference_json(now, then),
                })
            })
        })
        .collect()
}

fn zone_codes(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    state
        .zones
        .zones
        .iter()
        .map(|z| (z.code.clone(), lang.pick(&z.name_th, &z.name_en).to_owned()))
        .collect()
}

fn district_codes(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    state
        .tree
        .children(state.zones.province)
        .map(|d| {
            (
                d.code.to_string(),
                lang.pick(&d.name_th, &d.name_en).to_owned(),
            )
        })
        .collect()
}

fn target_json(t: &TargetEffect) -> Json {
    match t {
        TargetEffect::Computing => json!({"state": "computing"}),
        TargetEffect::Failed => json!({"state": "failed"}),
        TargetEffect::OtherSpec => json!({"state": "other_spec"}),
        TargetEffect::OtherRound => json!({"state": "other_round"}),
        TargetEffect::Ready(f) => {
            let (meets, need) = f.meets();
            json!({
                "state": "ready",
                "target": f.target_id,
                "target_version": f.target_version,
                "provisional": f.provisional,
                "rule": f.rule,
                "poor_under": {"spec": f.spec_id, "k": f.cutoff},
                "round": f.round,
                "as_of": f.as_of,
                "persons": {"now": f.persons_now, "milestone": f.persons_milestone},
                "households": {
                    "now": f.households_now,
                    "milestone": f.households_milestone,
                    "lifted_out_of_poverty": f.lifted_out,
                    "what_if_at_least": f.households_low(),
                    "what_if_at_most": f.households_now,
                    "meets_milestone": meets,
                    "must_leave": need,
                },
                "has_intervention": f.has_lift,
            })
        }
    }
}

fn answer_json(state: &AppState, a: &Answer) -> Json {
    let spec = &state.config.spec;
    let q = &a.question;
    let rounds: Vec<Json> = a
        .now
        .rounds
        .iter()
        .map(|label| {
            let (now, then) = (a.now.total_of(label), a.then.total_of(label));
            json!({
                "round": label,
                "now": figures_json(now),
                "what_if": figures_json(then),
                "difference": difference_json(now, then),
            })
        })
        .collect();
    json!({
        "spec": {"id": a.spec_id, "version": a.spec_version, "provisional": a.provisional},
        "live_data_changed": false,
        "cutoff": {"now": a.now.cutoff_label, "what_if": a.then.cutoff_label},
        "weights": spec.indicators.iter().zip(spec.weights()).zip(&q.weights).map(|((i, now), then)| json!({
            "indicator": i.name,
            "now": now.to_string(),
            "what_if": if q.weights_changed { then.to_string() } else { now.to_string() },
        })).collect::<Vec<_>>(),
        "selection": {
            "area": q.area.map(|c| c.to_string()),
            "flag": q.flag.map(|f| f.code()),
            "deprived": names(spec, q.deprived),
            "solve": names(spec, q.solve),
            "round": a.latest,
            "households": a.selected,
            "households_changed": a.changed,
        },
        "rounds": rounds,
        "latest": {
            "round": a.latest,
            "zones": groups_json(a, Grouping::EcoZone, &zone_codes(state, Lang::En)),
            "districts": groups_json(a, Grouping::District, &district_codes(state, Lang::En)),
        },
        "target": target_json(&a.target),
    })
}

fn problems_json(problems: &[Problem]) -> Json {
    problems
        .iter()
        .map(|p| {
            json!({
                "field": p.field,
                "th": problem_text(p, Lang::Th),
                "en": problem_text(p, Lang::En),
            })
        })
        .collect()
}

async fn api(
    State(state): State<Arc<AppState>>,
    current: Current,
    Query(pairs): Pairs,
) -> Result<Response, WebError> {
    let (_, outcome) = answer(&state, &current, &pairs).await?;
    Ok(match outcome {
        Ok(a) => {
            let timing = format!(
                "select;dur={:.2}, compute;dur={:.2}",
                a.timing.0, a.timing.1
            );
            (
                [(axum::http::HeaderName::from_static("server-timing"), timing)],
                JsonResponse(answer_json(&state, &a)),
            )
                .into_response()
        }
        Err(r) => (
            r.status,
            JsonResponse(json!({"errors": problems_json(&r.problems)})),
        )
            .into_response(),
    })
}

// ---- the page ----

fn signed(x: f64, text: String) -> String {
    if x > 0.0 { format!("+{text}") } else { text }
}

/// One figure's row: now, under the what-if, the difference.
fn row(
    label: &str,
    now: Option<&Figures>,
    then: Option<&Figures>,
    pick: fn(&Figures) -> f64,
    fmt: fn(f64) -> String,
) -> Json {
    let n = now.map(pick);
    let t = then.map(pick);
    let diff = n.zip(t).map(|(n, t)| t - n);
    json!({
        "label": label,
        "now": n.map(fmt).unwrap_or_default(),
        "then": t.map(fmt).unwrap_or_default(),
        "diff": diff.map(|d| signed(d, fmt(d))).unwrap_or_default(),
        "better": diff.is_some_and(|d| d < 0.0),
        "worse": diff.is_some_and(|d| d > 0.0),
    })
}

fn fmt_count(x: f64) -> String {
    grouped(x)
}
fn fmt_share(x: f64) -> String {
    percent(x)
}
fn fmt_m0(x: f64) -> String {
    format!("{x:.4}")
}

fn figure_rows(lang: Lang, now: Option<&Figures>, then: Option<&Figures>) -> Vec<Json> {
    vec![
        row(
            lang.t("whatif_poor_persons"),
            now,
            then,
            |f| f.poor_persons,
            fmt_count,
        ),
        row(
            lang.t("whatif_poor_households"),
            now,
            then,
            |f| f.poor_households as f64,
            fmt_count,
        ),
        row(lang.t("whatif_h"), now, then, |f| f.h, fmt_share),
        row(lang.t("whatif_a"), now, then, |f| f.a, fmt_share),
        row(lang.t("whatif_m0"), now, then, |f| f.m0, fmt_m0),
    ]
}

fn groups_view(a: &Answer, grouping: Grouping, codes: &[(String, String)]) -> Vec<Json> {
    let Some(latest) = &a.latest else {
        return Vec::new();
    };
    codes
        .iter()
        .filter_map(|(code, name)| {
            let now = a.now.group_of(grouping, code, latest);
            let then = a.then.group_of(grouping, code, latest);
            (now.is_some() || then.is_some()).then(|| {
                json!({
                    "name": name,
                    "poor": row("", now, then, |f| f.poor_households as f64, fmt_count),
                    "h": row("", now, then, |f| f.h, fmt_share),
                })
            })
        })
        .collect()
}

fn target_view(t: &TargetEffect, lang: Lang) -> Json {
    let f = match t {
        TargetEffect::Computing => return json!({"state": "computing"}),
        TargetEffect::Failed => return json!({"state": "failed"}),
        TargetEffect::OtherSpec => return json!({"state": "other_spec"}),
        TargetEffect::OtherRound => return json!({"state": "other_round"}),
        TargetEffect::Ready(f) => f,
    };
    let (meets, need) = f.meets();
    let n = |x: u64| grouped(x as f64);
    json!({
        "state": "ready",
        "target": f.target_id,
        "target_version": f.target_version,
        "provisional": f.provisional,
        "rule": f.rule,
        "poor_under": lang.t("whatif_target_poor_under").replace("{x}", &f.spec_id).replace("{y}", &f.cutoff),
        "round": lang.t("whatif_round").replace("{x}", &f.round),
        "as_of": f.as_of,
        "persons_now": n(f.persons_now),
        "persons_milestone": grouped(f.persons_milestone),
        "households_now": n(f.households_now),
        "households_milestone": grouped(f.households_milestone),
        "lifted": n(f.lifted_out),
        "range": if f.lifted_out == 0 { n(f.households_now) } else {
            lang.t("whatif_target_between").replace("{a}", &n(f.households_low())).replace("{b}", &n(f.households_now))
        },
        "meets": meets,
        "meets_text": lang.t(match meets {
            "already" => "whatif_target_meets_already",
            "no" => "whatif_target_meets_no",
            _ => "whatif_target_meets_maybe",
        }).replace("{x}", &n(need)),
        "has_lift": f.has_lift,
    })
}

fn form_view(state: &AppState, current: &Current, typed: &Typed, lang: Lang) -> Json {
    let spec = &state.config.spec;
    let indicators: Vec<Json> = spec
        .indicators
        .iter()
        .enumerate()
        .map(|(j, ind)| {
            json!({
                "name": ind.name,
                "title": indicator_title(spec, j, lang),
                "weight": typed.weights.get(j).cloned().unwrap_or_default(),
                "deprived": typed.deprived.contains(&ind.name),
                "solve": typed.solve.contains(&ind.name),
            })
        })
        .collect();
    let cutoffs: Vec<Json> = spec
        .cutoffs
        .iter()
        .map(|c| json!({"value": c.label, "selected": typed.k == c.label}))
        .collect();
    let flags: Vec<Json> = VulnerabilityFlag::ALL
        .iter()
        .map(|f| {
            json!({
                "code": f.code(),
                "label": lang.t(&format!("whatif_flag_{}", f.code())),
                "selected": typed.flag == f.code(),
            })
        })
        .collect();
    // Areas offered: the user's own areas, or the districts of the province; any code may be
    // typed.
    let areas: Vec<Json> = if current.scope.everywhere {
        district_codes(state, lang)
            .into_iter()
            .map(|(code, name)| json!({"code": code, "name": name}))
            .collect()
    } else {
        current
            .scope
            .areas
            .iter()
            .map(|&code| json!({"code": code.to_string(), "name": area_name(state, code, lang)}))
            .collect()
    };
    json!({
        "typed": typed,
        "indicators": indicators,
        "cutoffs": cutoffs,
        "flags": flags,
        "areas": areas,
    })
}

fn answer_view(state: &AppState, a: &Answer, lang: Lang) -> Json {
    let rounds: Vec<Json> = a
        .now
        .rounds
        .iter()
        .rev()
        .map(|label| {
            json!({
                "title": lang.t("whatif_round").replace("{x}", label),
                "rows": figure_rows(lang, a.now.total_of(label), a.then.total_of(label)),
            })
        })
        .collect();
    json!({
        "spec": {"id": a.spec_id, "version": a.spec_version, "provisional": a.provisional},
        "cutoff_now": a.now.cutoff_label,
        "cutoff_then": a.then.cutoff_label,
        "weights_changed": a.question.weights_changed,
        "latest": a.latest,
        "selected_title": lang.t("whatif_selected").replace("{x}", a.latest.as_deref().unwrap_or("-")),
        "selected": grouped(a.selected as f64),
        "changed": grouped(a.changed as f64),
        "has_solve": a.question.solve != 0,
        "rounds": rounds,
        "zones": groups_view(a, Grouping::EcoZone, &zone_codes(state, lang)),
        "districts": groups_view(a, Grouping::District, &district_codes(state, lang)),
        "target": target_view(&a.target, lang),
    })
}

async fn page(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Query(pairs): Pairs,
) -> Result<Response, WebError> {
    // A first visit (nothing asked but perhaps the language) shows the form with the spec's
    // own values and no result.
    let asked = pairs.iter().any(|(k, _)| k != "lang");
    let (typed, outcome) = if asked {
        let (typed, outcome) = answer(&state, &current, &pairs).await?;
        (typed, Some(outcome))
    } else {
        (params::read(&[], &state.config.spec, state.tree).0, None)
    };
    let mut status = StatusCode::OK;
    let (result, errors) = match &outcome {
        None => (Json::Null, Json::Null),
        Some(Ok(a)) => (answer_view(&state, a, lang), Json::Null),
        Some(Err(r)) => {
            status = r.status;
            let mut errors = serde_json::Map::new();
            for p in &r.problems {
                errors
                    .entry(p.field.clone())
                    .or_insert_with(|| Json::String(problem_text(p, lang)));
            }
            (Json::Null, Json::Object(errors))
        }
    };
    let page = view(json!({
        "form": form_view(&state, &current, &typed, lang),
        "result": result,
        "errors": errors,
        "has_errors": !errors.is_null(),
        "spec": {"id": state.config.spec.id, "version": state.config.spec.version},
    }));
    let html = state
        .templates
        .page("whatif.html", lang, Some(&current), "/what-if", page)?;
    Ok((status, html).into_response())
}
