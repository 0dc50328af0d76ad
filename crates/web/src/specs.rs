//! The measurement specs and targets: view them, and (admins) edit them, each edit a new
//! version.
//!
//! Every signed-in role may read every version (definitions are not personal data): the list
//! marks what the running server computes with, a version's page shows it readably (weights
//! as exact fractions), its raw TOML and what changed from the version before it. Only
//! administrators edit. An edit is checked and stored by `halve_app::versions::save`, which
//! owns the rules (same parsers as the measures, id kept, version set to the next number,
//! "nothing changed" refused, audited); this module shows the form, spends its one-time
//! token in the same transaction, and shows refusals in the user's language with the text
//! kept. A saved version is not taken up by the running server; the pages say so. The same
//! reads answer as JSON under `/api/specs`.

mod diff;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use halve_app::versions::{self, Definition, EditError, Kind, Listed, Origin, Parsed};
use halve_measure::spec::Rule as SpecRule;
use halve_measure::target::Path as TargetPath;
use halve_measure::{Ratio, Spec, Target};
use halve_store::FormTokenUse;
use minijinja::value::{Serde, Value};
use serde_json::{Value as JsonValue, json};

use crate::AppState;
use crate::access::{Current, Role, random_token, token_hash};
use crate::api::ApiError;
use crate::error::WebError;
use crate::i18n::{Lang, grouped};

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/specs", get(index))
        .route("/specs/{kind}/{id}/edit", get(edit_form).post(edit_submit))
        .route("/specs/{kind}/{id}/{version}", get(view))
        .route("/api/specs", get(api_index))
        .route("/api/specs/{kind}/{id}/{version}", get(api_view))
}

/// Unchanged lines shown around each change of a diff.
const DIFF_CONTEXT: usize = 3;

fn kind_of(code: &str) -> Result<Kind, WebError> {
    Kind::parse(code).ok_or(WebError::NotFound)
}

fn version_of(raw: &str) -> Result<u32, WebError> {
    // Digits only: `+3` or ` 3` would parse but name the page twice.
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebError::NotFound);
    }
    raw.parse().map_err(|_| WebError::NotFound)
}

/// Whether the running server computes with this version.
fn in_use(state: &AppState, kind: Kind, id: &str, version: u32) -> bool {
    match kind {
        Kind::Spec => state.config.spec.id == id && state.config.spec.version == version,
        Kind::Target => state.config.target.id == id && state.config.target.version == version,
    }
}

/// A ratio as a percentage: exact when it has at most two decimals, else rounded half up
/// to two and marked `≈`. `1/5` → `20%`, `1/8` → `12.5%`, `1/3` → `≈ 33.33%`.
pub fn percent(r: Ratio) -> String {
    let (num, den) = (r.numer(), r.denom());
    let Some(scaled) = num.checked_mul(10_000) else {
        return format!("≈ {:.2}%", r.to_f64() * 100.0);
    };
    let exact = scaled % den == 0;
    let hundredths = (scaled + den / 2) / den;
    let mut text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    if exact {
        format!("{text}%")
    } else {
        format!("≈ {text}%")
    }
}

fn pick(lang: Lang, th: &Option<String>, en: &Option<String>, fallback: &str) -> String {
    match lang {
        Lang::Th => th.clone().or_else(|| en.clone()),
        Lang::En => en.clone().or_else(|| th.clone()),
    }
    .unwrap_or_else(|| fallback.to_owned())
}

/// A spec, readably: every title in both languages plus the one of `lang`, weights as exact
/// fractions with their percentages, a dimension's weight the exact sum of its indicators'.
fn spec_summary(spec: &Spec, lang: Lang) -> JsonValue {
    let dimensions: Vec<JsonValue> = spec
        .dimensions
        .iter()
        .map(|d| {
            let inds = &spec.indicators[d.indicators.clone()];
            let weight = inds
                .iter()
                .try_fold(Ratio::ZERO, |acc, i| acc.checked_add(i.weight))
                .expect("a parsed spec's weights add up within range");
            let indicators: Vec<JsonValue> = inds
                .iter()
                .map(|i| {
                    let rule = match &i.rule {
                        SpecRule::Flag { column } => format!("{column} = 1"),
                        other => other.to_string(),
                    };
                    json!({
                        "name": i.name,
                        "title": pick(lang, &i.title_th, &i.title_en, &i.name),
                        "title_th": i.title_th,
                        "title_en": i.title_en,
                        "column": i.rule.column(),
                        "rule": rule,
                        "weight": i.weight.to_string(),
                        "percent": percent(i.weight),
                    })
                })
                .collect();
            json!({
                "name": d.name,
                "title": pick(lang, &d.title_th, &d.title_en, &d.name),
                "title_th": d.title_th,
                "title_en": d.title_en,
                "weight": weight.to_string(),
                "percent": percent(weight),
                "indicators": indicators,
            })
        })
        .collect();
    let cutoffs: Vec<JsonValue> = spec
        .cutoffs
        .iter()
        .map(|c| {
            json!({
                "label": c.label,
                "percent": c.percent.to_string(),
                "share": percent(c.fraction()),
            })
        })
        .collect();
    json!({
        "id": spec.id,
        "version": spec.version,
        "title": pick(lang, &spec.title_th, &spec.title_en, &spec.name),
        "title_th": spec.title_th,
        "title_en": spec.title_en,
        "provisional": spec.provisional,
        "description": spec.description,
        "cutoffs": cutoffs,
        "unit_identification": spec.unit_identification,
        "unit_analysis": spec.unit_analysis,
        "dimensions": dimensions,
    })
}

/// A target, readably: rule, baseline and horizon, the reduction as a fraction and a
/// percentage, and its terms' details (income lines by year range, flags, the spec of
/// `poor`).
fn target_summary(target: &Target, lang: Lang) -> JsonValue {
    let poor = target.poor.as_ref().map(|p| {
        json!({
            "spec": p.spec,
            "spec_version": p.spec_version,
            "k": p.k.as_ref().map(|k| k.label.clone()),
        })
    });
    let low_income = target.low_income.as_ref().map(|l| {
        let lines: Vec<JsonValue> = l
            .thresholds
            .iter()
            .map(|t| {
                json!({
                    "from": t.from,
                    "to": t.to,
                    "baht": t.baht,
                    "baht_text": grouped(t.baht),
                    "provisional": t.provisional,
                    "source": t.source,
                })
            })
            .collect();
        json!({"column": l.column, "thresholds": lines})
    });
    let vulnerable = target.vulnerable.as_ref().map(|v| {
        json!({
            "flags": v.flags,
            "valid_days": v.valid_days,
        })
    });
    let title = match lang {
        Lang::Th => &target.name_th,
        Lang::En => &target.name_en,
    };
    json!({
        "id": target.id,
        "version": target.version,
        "title": if title.is_empty() { &target.id } else { title },
        "name_th": target.name_th,
        "name_en": target.name_en,
        "provisional": target.provisional,
        "source": target.source,
        "description": target.description,
        "rule": target.rule.to_string(),
        "baseline": target.baseline,
        "horizon_years": target.horizon_years,
        "horizon": i64::from(target.baseline) + i64::from(target.horizon_years),
        "reduction": target.reduction.to_string(),
        "reduction_percent": percent(target.reduction),
        "strict": target.strict,
        "path": target.path.name(),
        "path_geometric": target.path == TargetPath::Geometric,
        "consecutive_out": target.consecutive_out,
        "at_risk_margin": target.at_risk_margin.to_string(),
        "at_risk_percent": percent(target.at_risk_margin),
        "poor": poor,
        "low_income": low_income,
        "vulnerable": vulnerable,
    })
}

fn summary(parsed: &Parsed, lang: Lang) -> JsonValue {
    match parsed {
        Parsed::Spec(s) => spec_summary(s, lang),
        Parsed::Target(t) => target_summary(t, lang),
    }
}

fn title_of(parsed: &Parsed, lang: Lang) -> String {
    match parsed {
        Parsed::Spec(s) => pick(lang, &s.title_th, &s.title_en, &s.name),
        Parsed::Target(t) => match lang {
            Lang::Th if !t.name_th.is_empty() => t.name_th.clone(),
            _ if !t.name_en.is_empty() => t.name_en.clone(),
            _ => t.id.clone(),
        },
    }
}

fn origin_json(origin: &Origin) -> JsonValue {
    match origin {
        Origin::Shipped => json!({"origin": "shipped"}),
        Origin::Stored {
            saved_by,
            saved_at,
            note,
        } => json!({
            "origin": "stored",
            "saved_by": saved_by,
            "saved_at": saved_at,
            "note": note,
        }),
    }
}

/// The whole catalogue with titles of the newest versions and in-use marks.
async fn catalogue_json(state: &AppState, lang: Lang) -> Result<Vec<JsonValue>, WebError> {
    let listed: Vec<Listed> = versions::catalogue(&state.store).await?;
    let mut out = Vec::with_capacity(listed.len());
    for l in listed {
        let newest = l.versions.last().map_or(0, |v| v.version);
        let title = match versions::definition(&state.store, l.kind, &l.id, newest).await? {
            Some(d) => title_of(&d.parse()?, lang),
            None => l.id.clone(),
        };
        let versions: Vec<JsonValue> = l
            .versions
            .iter()
            .map(|v| {
                let mut row = origin_json(&v.origin);
                row["version"] = json!(v.version);
                row["in_use"] = json!(in_use(state, l.kind, &l.id, v.version));
                row["latest"] = json!(v.version == newest);
                row
            })
            .collect();
        let using = match l.kind {
            Kind::Spec => (state.config.spec.id == l.id).then_some(state.config.spec.version),
            Kind::Target => (state.config.target.id == l.id).then_some(state.config.target.version),
        };
        out.push(json!({
            "kind": l.kind.code(),
            "segment": segment(&l.id),
            "id": l.id,
            "title": title,
            "versions": versions,
            "newest": newest,
            "newer_than_in_use": using.is_some_and(|u| newest > u),
        }));
    }
    Ok(out)
}

/// What the running server computes with, and whether each is in the catalogue.
fn server_json(state: &AppState, catalogue: &[JsonValue]) -> JsonValue {
    let listed = |kind: Kind, id: &str, version: u32| {
        catalogue.iter().any(|c| {
            c["kind"] == kind.code()
                && c["id"] == id
                && c["versions"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().any(|v| v["version"] == version))
        })
    };
    let (spec, target) = (&state.config.spec, &state.config.target);
    json!({
        "spec": {
            "id": spec.id,
            "version": spec.version,
            "listed": listed(Kind::Spec, &spec.id, spec.version),
        },
        "target": {
            "id": target.id,
            "version": target.version,
            "listed": listed(Kind::Target, &target.id, target.version),
        },
    })
}

/// `GET /specs`: every spec and target with its versions.
pub async fn index(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    let catalogue = catalogue_json(&state, lang).await?;
    let server = server_json(&state, &catalogue);
    let (specs, targets): (Vec<JsonValue>, Vec<JsonValue>) =
        catalogue.into_iter().partition(|c| c["kind"] == "spec");
    let page = Value::from(Serde(json!({
        "server": server,
        "specs": specs,
        "targets": targets,
        "can_edit": current.role == Role::Admin,
    })));
    Ok(state
        .templates
        .page("spec_list.html", lang, Some(&current), "/specs", page)?
        .into_response())
}

/// One version with its summary, and the diff against the version before it.
async fn version_json(
    state: &AppState,
    def: &Definition,
    lang: Lang,
) -> Result<(JsonValue, Option<(u32, JsonValue)>), WebError> {
    let parsed = def.parse()?;
    let mut out = origin_json(&def.origin);
    out["kind"] = json!(def.kind.code());
    out["id"] = json!(def.id);
    out["segment"] = json!(segment(&def.id));
    out["version"] = json!(def.version);
    out["in_use"] = json!(in_use(state, def.kind, &def.id, def.version));
    out["toml"] = json!(def.text);
    out["summary"] = summary(&parsed, lang);
    let previous = versions::previous(&state.store, def.kind, &def.id, def.version).await?;
    let diff = previous.map(|p| {
        let lines = diff::lines(&p.text, &def.text);
        let changed = lines.iter().any(|l| l.op != diff::Op::Same);
        (
            p.version,
            json!({
                "rows": diff::rows(&lines, DIFF_CONTEXT),
                "changed": changed,
            }),
        )
    });
    Ok((out, diff))
}

/// `GET /specs/{kind}/{id}/{version}`.
pub async fn view(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((kind, id, version)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let kind = kind_of(&kind)?;
    let version = version_of(&version)?;
    let def = versions::definition(&state.store, kind, &id, version)
        .await?
        .ok_or(WebError::NotFound)?;
    let (definition, diff) = version_json(&state, &def, lang).await?;
    let latest = versions::latest(&state.store, kind, &id)
        .await?
        .map_or(version, |d| d.version);
    let page = Value::from(Serde(json!({
        "def": definition,
        "is_spec": kind == Kind::Spec,
        "diff": diff.as_ref().map(|(_, d)| d),
        "diff_from": diff.as_ref().map(|(v, _)| v),
        "latest": latest,
        "is_latest": latest == version,
        "can_edit": current.role == Role::Admin,
        "saved": query.contains_key("saved"),
        "server": {
            "spec": {"id": state.config.spec.id, "version": state.config.spec.version},
            "target": {"id": state.config.target.id, "version": state.config.target.version},
        },
    })));
    let path = format!("/specs/{}/{}/{}", kind.code(), segment(&id), version);
    Ok(state
        .templates
        .page("spec_view.html", lang, Some(&current), &path, page)?
        .into_response())
}

/// An id as a path segment. Ids are plain (`tpmap-5`); anything else is percent-encoded so
/// a link cannot break out of its segment.
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn purpose(kind: Kind, id: &str) -> String {
    format!("specs:{}:{id}", kind.code())
}

fn require_admin(current: &Current) -> Result<(), WebError> {
    if current.role == Role::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

/// What the edit form shows.
struct EditView<'a> {
    kind: Kind,
    id: &'a str,
    based_on: u32,
    next: u32,
    text: &'a str,
    note: &'a str,
    token: &'a str,
    errors: Vec<String>,
    parser: Option<String>,
}

fn render_edit(
    state: &AppState,
    current: &Current,
    lang: Lang,
    view: EditView<'_>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = Value::from(Serde(json!({
        "kind": view.kind.code(),
        "is_spec": view.kind == Kind::Spec,
        "id": view.id,
        "segment": segment(view.id),
        "based_on": view.based_on,
        "version_rule": lang.t("specs_edit_version_rule").replace("{version}", &view.next.to_string()),
        "text": view.text,
        "note": view.note,
        "form_token": view.token,
        "errors": view.errors,
        "parser": view.parser,
        "max_note": versions::MAX_NOTE_CHARS,
        "server": {
            "spec": {"id": state.config.spec.id, "version": state.config.spec.version},
            "target": {"id": state.config.target.id, "version": state.config.target.version},
        },
    })));
    let path = format!("/specs/{}/{}/edit", view.kind.code(), segment(view.id));
    let html = state
        .templates
        .page("spec_edit.html", lang, Some(current), &path, page)?;
    Ok((status, html).into_response())
}

/// The latest version of a definition and the number its next version would get now.
async fn latest_and_next(
    state: &AppState,
    kind: Kind,
    id: &str,
) -> Result<(Definition, u32), WebError> {
    let listed = versions::catalogue(&state.store).await?;
    let max = listed
        .iter()
        .find(|l| l.kind == kind && l.id == id)
        .and_then(|l| l.versions.iter().map(|v| v.version).max())
        .ok_or(WebError::NotFound)?;
    let latest = versions::latest(&state.store, kind, id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((latest, max + 1))
}

/// `GET /specs/{kind}/{id}/edit` (administrators).
pub async fn edit_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let kind = kind_of(&kind)?;
    let (latest, next) = latest_and_next(&state, kind, &id).await?;
    let token = random_token();
    state
        .store
        .issue_form_token(
            &token_hash(&token),
            &current.session_hash,
            &purpose(kind, &id),
            state.now(),
        )
        .await?;
    render_edit(
        &state,
        &current,
        lang,
        EditView {
            kind,
            id: &id,
            based_on: latest.version,
            next,
            text: &latest.text,
            note: "",
            token: &token,
            errors: Vec::new(),
            parser: None,
        },
        StatusCode::OK,
    )
}

/// An edit's refusal in the user's words: the messages, and the parser's own words if it
/// was the parser that refused.
fn refusal_words(e: &EditError, lang: Lang) -> (Vec<String>, Option<String>) {
    let t = |key: &str| lang.t(key).to_owned();
    match e {
        EditError::Empty => (vec![t("specs_err_empty")], None),
        EditError::TooLong => (
            vec![t("specs_err_too_long").replace("{max}", &versions::MAX_TEXT_BYTES.to_string())],
            None,
        ),
        EditError::NoteTooLong => (
            vec![
                t("specs_err_note_too_long")
                    .replace("{max}", &versions::MAX_NOTE_CHARS.to_string()),
            ],
            None,
        ),
        EditError::Invalid(r) => {
            let mut head = t("specs_err_invalid");
            match (r.line, r.column) {
                (Some(line), Some(column)) => {
                    head.push_str(": ");
                    head.push_str(
                        &t("specs_err_at_col")
                            .replace("{line}", &line.to_string())
                            .replace("{column}", &column.to_string()),
                    );
                }
                (Some(line), None) => {
                    head.push_str(": ");
                    head.push_str(&t("specs_err_at").replace("{line}", &line.to_string()));
                }
                _ => {}
            }
            (vec![head], Some(r.message.clone()))
        }
        EditError::IdChanged { expected, found } => (
            vec![
                t("specs_err_id_changed")
                    .replace("{expected}", expected)
                    .replace("{found}", found),
            ],
            None,
        ),
        EditError::NothingChanged { latest } => (
            vec![t("specs_err_nothing_changed").replace("{latest}", &latest.to_string())],
            None,
        ),
        EditError::VersionNotSet { version } => (
            vec![t("specs_err_version_not_set").replace("{version}", &version.to_string())],
            None,
        ),
        EditError::UnknownSpec { spec, version } => {
            let name = match version {
                Some(v) => format!("{spec} {} {v}", lang.t("version")),
                None => spec.clone(),
            };
            (
                vec![t("specs_err_unknown_spec").replace("{spec}", &name)],
                None,
            )
        }
        EditError::VersionTaken { version } => (
            vec![t("specs_err_taken").replace("{version}", &version.to_string())],
            None,
        ),
        // The caller turns these into 404 and 500 before asking for words.
        EditError::Unknown | EditError::Store(_) | EditError::App(_) => {
            (vec![lang.t("specs_err_invalid").to_owned()], None)
        }
    }
}

/// `POST /specs/{kind}/{id}/edit` (administrators): check, store as the next version, audit,
/// and go to the new version's page; or show the form again with the text kept.
pub async fn edit_submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((kind, id)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let kind = kind_of(&kind)?;
    let form: BTreeMap<String, String> = fields.into_iter().collect();
    let token = form.get("form_token").cloned().unwrap_or_default();
    let text = form.get("toml").cloned().unwrap_or_default();
    let note = form.get("note").cloned().unwrap_or_default();
    let (latest, next) = latest_and_next(&state, kind, &id).await?;

    // The token is spent first, so a double submit waits for the first and then finds it
    // spent; the page it is sent to is the version this save expects to create, and the
    // save is refused if another one took that number meanwhile.
    let outcome = format!("/specs/{}/{}/{next}?saved=1", kind.code(), segment(&id));
    let mut tx = state.store.begin().await?;
    match tx
        .spend_form_token(
            &token_hash(&token),
            &current.session_hash,
            &purpose(kind, &id),
            state.now(),
            &outcome,
        )
        .await?
    {
        FormTokenUse::Spent => {}
        FormTokenUse::AlreadyUsed { outcome } => {
            tx.rollback().await?;
            let to = outcome.unwrap_or_else(|| "/specs".into());
            return Ok(Redirect::to(&to).into_response());
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            return Err(WebError::Csrf);
        }
    }
    let edit = versions::Edit {
        kind,
        id: &id,
        text: &text,
        note: &note,
        actor: &current.actor(),
        at: &state.clock.now_iso(),
    };
    let result = match versions::save(&mut tx, &edit).await {
        Ok(saved) if saved.after != next => Err(EditError::VersionTaken { version: next }),
        other => other,
    };
    let refusal = match result {
        Ok(_) => {
            tx.commit().await?;
            return Ok(Redirect::to(&outcome).into_response());
        }
        Err(e) => e,
    };
    tx.rollback().await?;
    let status = match &refusal {
        EditError::Unknown => return Err(WebError::NotFound),
        EditError::Store(_) | EditError::App(_) => {
            return Err(match refusal {
                EditError::Store(e) => e.into(),
                EditError::App(e) => e.into(),
                _ => unreachable!(),
            });
        }
        EditError::VersionTaken { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let (errors, parser) = refusal_words(&refusal, lang);
    render_edit(
        &state,
        &current,
        lang,
        EditView {
            kind,
            id: &id,
            based_on: latest.version,
            next,
            text: &versions::normalise(&text),
            note: &note,
            token: &token,
            errors,
            parser,
        },
        status,
    )
}

/// `GET /api/specs`: what the server uses, and every spec and target with its versions.
pub async fn api_index(
    State(state): State<Arc<AppState>>,
    _current: Current,
    lang: Lang,
) -> Result<Json<JsonValue>, ApiError> {
    let catalogue = catalogue_json(&state, lang).await?;
    let server = server_json(&state, &catalogue);
    Ok(Json(json!({
        "server": server,
        "definitions": catalogue,
    })))
}

/// `GET /api/specs/{kind}/{id}/{version}`: one version, its TOML and its summary.
pub async fn api_view(
    State(state): State<Arc<AppState>>,
    _current: Current,
    lang: Lang,
    Path((kind, id, version)): Path<(String, String, String)>,
) -> Result<Json<JsonValue>, ApiError> {
    let kind = kind_of(&kind)?;
    let version = version_of(&version)?;
    let def = versions::definition(&state.store, kind, &id, version)
        .await
        .map_err(WebError::from)?
        .ok_or(WebError::NotFound)?;
    let (mut out, diff) = version_json(&state, &def, lang).await?;
    out["previous"] = json!(diff.map(|(v, _)| v));
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact_or_marked_rounded() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(percent(r(1, 5)), "20%");
        assert_eq!(percent(r(1, 8)), "12.5%");
        assert_eq!(percent(r(1, 16)), "6.25%");
        assert_eq!(percent(r(1, 3)), "≈ 33.33%");
        assert_eq!(percent(r(2, 3)), "≈ 66.67%");
        assert_eq!(percent(r(1, 15)), "≈ 6.67%");
        assert_eq!(percent(r(1, 1)), "100%");
        assert_eq!(percent(r(1, 200)), "0.5%");
        assert_eq!(percent(r(1, 30000)), "≈ 0%");
    }

    #[test]
    fn ids_stay_inside_their_path_segment() {
        assert_eq!(segment("tpmap-5"), "tpmap-5");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn versions_in_paths_are_plain_digits() {
        assert_eq!(version_of("12").unwrap(), 12);
        for bad in ["", "+1", " 1", "1.0", "x", "99999999999"] {
            assert!(version_of(bad).is_err(), "{bad}");
        }
    }
}
