//! Recording an assessment from a phone: a form built from the spec's indicators, checked
//! with messages in the user's language, written once however often it is sent, audited, and
//! taken into the live measures at once.
//!
//! The form has no HTML of its own per indicator: a 0/1 indicator becomes three choices
//! (deprived, not deprived, does not apply) and a rule on a raw value becomes a number box,
//! so a spec with a new indicator needs no new page. Each form carries a one-time token,
//! spent in the transaction that writes the assessment: a second submit of the same form
//! (a double tap, a resend on a weak network) finds it spent, writes nothing and lands on the
//! page the first one led to.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use halve_app::assess::Entry;
use halve_domain::{BeDate, BeYear, IndicatorValue, Key};
use halve_measure::Spec;
use halve_measure::spec::Rule;
use halve_store::FormTokenUse;
use minijinja::value::{Serde, Value};
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{Current, random_token, token_hash};
use crate::error::WebError;
use crate::household::{today, visible_household};
use crate::i18n::Lang;

/// The form field of an indicator's value.
fn field(column: &str) -> String {
    format!("v_{column}")
}

fn purpose(house_code: &str) -> String {
    format!("assess:{house_code}")
}

/// What was typed, as sent back to the form when something must be corrected.
#[derive(Clone, Debug, Default)]
struct Typed {
    round: String,
    assessed_on: String,
    members: String,
    values: BTreeMap<String, String>,
}

/// A checked form, ready to store.
#[derive(Debug, PartialEq)]
pub struct Checked {
    pub round: BeYear,
    pub assessed_on: BeDate,
    pub members: u16,
    pub values: BTreeMap<String, IndicatorValue>,
}

/// Checks a submitted form against the spec; errors are keyed by field, in `lang`.
pub fn check_form(
    spec: &Spec,
    rounds: &[BeYear],
    today: BeDate,
    form: &BTreeMap<String, String>,
    lang: Lang,
) -> Result<Checked, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let get = |k: &str| form.get(k).map(|s| s.trim()).unwrap_or("");
    let round = match get("round")
        .parse::<i32>()
        .ok()
        .and_then(|y| BeYear::new(y).ok())
    {
        Some(y) if rounds.contains(&y) => Some(y),
        _ => {
            errors.insert("round".into(), lang.t("err_round").to_owned());
            None
        }
    };
    let assessed_on = match BeDate::parse(get("assessed_on")) {
        Ok(d) if d > today => {
            errors.insert("assessed_on".into(), lang.t("err_future").to_owned());
            None
        }
        Ok(d) => Some(d),
        Err(e) if get("assessed_on").is_empty() => {
            let _ = e;
            errors.insert("assessed_on".into(), lang.t("err_required").to_owned());
            None
        }
        Err(e) => {
            errors.insert("assessed_on".into(), lang.pick(&e.th, &e.en).to_owned());
            None
        }
    };
    let digits = halve_domain::text::ascii_digits(get("members")).into_owned();
    let members = match digits.parse::<u16>() {
        Ok(n) if (1..=99).contains(&n) => Some(n),
        _ if digits.is_empty() => {
            errors.insert("members".into(), lang.t("err_required").to_owned());
            None
        }
        _ => {
            errors.insert("members".into(), lang.t("err_members").to_owned());
            None
        }
    };
    let mut values = BTreeMap::new();
    for ind in &spec.indicators {
        let column = ind.rule.column();
        let name = field(column);
        let raw = get(&name);
        if raw.is_empty() {
            errors.insert(name, lang.t("err_answer").to_owned());
            continue;
        }
        let parsed = match IndicatorValue::parse(raw) {
            Ok(Some(v)) => v,
            _ => {
                errors.insert(name, lang.t("err_number").to_owned());
                continue;
            }
        };
        let ok = match (&ind.rule, parsed) {
            (_, IndicatorValue::NotApplicable) => true,
            (Rule::Flag { .. }, IndicatorValue::Number(x)) => x == 0.0 || x == 1.0,
            (Rule::Compare { .. }, IndicatorValue::Number(x)) => x >= 0.0,
        };
        if !ok {
            let key = match ind.rule {
                Rule::Flag { .. } => "err_answer",
                Rule::Compare { .. } => "err_negative",
            };
            errors.insert(name, lang.t(key).to_owned());
            continue;
        }
        values.insert(column.to_owned(), parsed);
    }
    match (round, assessed_on, members) {
        (Some(round), Some(assessed_on), Some(members)) if errors.is_empty() => Ok(Checked {
            round,
            assessed_on,
            members,
            values,
        }),
        _ => Err(errors),
    }
}

/// The form's questions, grouped by dimension, with what was typed and what is wrong.
fn questions(spec: &Spec, lang: Lang, typed: &Typed, errors: &BTreeMap<String, String>) -> Json {
    let dims: Vec<Json> = spec
        .dimensions
        .iter()
        .map(|d| {
            let title = match lang {
                Lang::Th => d.title_th.clone(),
                Lang::En => d.title_en.clone(),
            }
            .unwrap_or_else(|| d.name.clone());
            let items: Vec<Json> = spec.indicators[d.indicators.clone()]
                .iter()
                .map(|ind| {
                    let column = ind.rule.column();
                    let name = field(column);
                    let title = match lang {
                        Lang::Th => ind.title_th.clone(),
                        Lang::En => ind.title_en.clone(),
                    }
                    .or_else(|| ind.title_th.clone())
                    .unwrap_or_else(|| ind.name.clone());
                    let (kind, rule) = match &ind.rule {
                        Rule::Flag { .. } => ("flag", String::new()),
                        Rule::Compare { op, threshold, .. } => (
                            "number",
                            format!("{} {op} {threshold}", lang.t("deprived_when")),
                        ),
                    };
                    json!({
                        "name": name,
                        "id": name.replace('_', "-"),
                        "title": title,
                        "kind": kind,
                        "rule": rule,
                        "value": typed.values.get(column).cloned().unwrap_or_default(),
                        "error": errors.get(&name),
                    })
                })
                .collect();
            json!({"title": title, "items": items})
        })
        .collect();
    json!(dims)
}

#[derive(serde::Deserialize, Default)]
pub struct FormQuery {
    round: Option<i32>,
}

pub async fn form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    axum::extract::Query(q): axum::extract::Query<FormQuery>,
) -> Result<Response, WebError> {
    let household = visible_household(&state, &current, &code).await?;
    if !current.role.records_assessments() {
        return Err(WebError::Forbidden);
    }
    let code = household.house_code.as_str().to_owned();
    let rounds = crate::live::rounds(&state.store).await?;
    let round = q
        .round
        .and_then(|y| rounds.iter().find(|r| r.year.be() == y))
        .or(rounds.last())
        .map(|r| r.year);
    let existing = match round {
        Some(y) => state
            .store
            .assessments_of(&code)
            .await?
            .into_iter()
            .find(|a| a.round == y),
        None => None,
    };
    let typed = Typed {
        round: round.map(|y| y.be().to_string()).unwrap_or_default(),
        assessed_on: existing
            .as_ref()
            .map_or_else(|| today(&state), |a| a.assessed_on)
            .to_string(),
        members: existing
            .as_ref()
            .map(|a| a.members.to_string())
            .unwrap_or_default(),
        values: existing
            .map(|a| {
                a.values
                    .into_iter()
                    .map(|(k, v)| (k, v.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let token = random_token();
    state
        .store
        .issue_form_token(
            &token_hash(&token),
            &current.session_hash,
            &purpose(&code),
            state.now(),
        )
        .await?;
    render(
        &state,
        &current,
        lang,
        &code,
        &token,
        &typed,
        &BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    current: &Current,
    lang: Lang,
    code: &str,
    token: &str,
    typed: &Typed,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let spec = &state.config.spec;
    let rounds: Vec<Json> = crate::live::rounds(&state.store)
        .await?
        .iter()
        .map(|r| json!({"year": r.year.be().to_string(), "label": r.label}))
        .collect();
    let page = Value::from(Serde(json!({
        "house_code": code,
        "segment": crate::household::segment(code),
        "form_token": token,
        "rounds": rounds,
        "round": typed.round,
        "assessed_on": typed.assessed_on,
        "members": typed.members,
        "dimensions": questions(spec, lang, typed, errors),
        "errors": errors,
        "has_errors": !errors.is_empty(),
        "spec": {"id": spec.id, "version": spec.version},
    })));
    let html = state.templates.page(
        "assess.html",
        lang,
        Some(current),
        &format!("/households/{code}/assess"),
        page,
    )?;
    Ok((status, html).into_response())
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let household = visible_household(&state, &current, &code).await?;
    if !current.role.records_assessments() {
        return Err(WebError::Forbidden);
    }
    let code = household.house_code.as_str().to_owned();
    let form: BTreeMap<String, String> = fields.into_iter().collect();
    let token = form.get("form_token").cloned().unwrap_or_default();
    let rounds: Vec<BeYear> = crate::live::rounds(&state.store)
        .await?
        .iter()
        .map(|r| r.year)
        .collect();
    let spec = &state.config.spec;
    let checked = match check_form(spec, &rounds, today(&state), &form, lang) {
        Ok(c) => c,
        Err(errors) => {
            let typed = Typed {
                round: form.get("round").cloned().unwrap_or_default(),
                assessed_on: form.get("assessed_on").cloned().unwrap_or_default(),
                members: form.get("members").cloned().unwrap_or_default(),
                values: spec
                    .indicators
                    .iter()
                    .map(|i| {
                        let c = i.rule.column().to_owned();
                        let v = form.get(&field(&c)).cloned().unwrap_or_default();
                        (c, v)
                    })
                    .collect(),
            };
            return render(
                &state,
                &current,
                lang,
                &code,
                &token,
                &typed,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };

    let outcome = format!("/households/{code}?saved=1");
    let mut tx = state.store.begin().await?;
    match tx
        .spend_form_token(
            &token_hash(&token),
            &current.session_hash,
            &purpose(&code),
            state.now(),
            &outcome,
        )
        .await?
    {
        FormTokenUse::Spent => {}
        FormTokenUse::AlreadyUsed { outcome } => {
            tx.rollback().await?;
            let to = outcome.unwrap_or_else(|| format!("/households/{code}"));
            return Ok(Redirect::to(&to).into_response());
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            return Err(WebError::Csrf);
        }
    }
    let entry = Entry {
        round: checked.round,
        household: Key::parse(&code).map_err(|_| WebError::NotFound)?,
        assessed_on: checked.assessed_on,
        members: checked.members,
        values: checked.values,
    };
    halve_app::assess::record(&mut tx, &current.actor(), &state.clock.now_iso(), entry).await?;
    // The live figures take the change from the store's change feed on their next read.
    tx.commit().await?;
    Ok(Redirect::to(&outcome).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::from_toml_str(
            halve_app::measure::shipped_spec("tpmap-5").unwrap(),
            "tpmap-5",
        )
        .unwrap()
    }

    fn full_form(spec: &Spec) -> BTreeMap<String, String> {
        let mut form = BTreeMap::new();
        form.insert("round".into(), "2568".into());
        form.insert("assessed_on".into(), "2568-03-01".into());
        form.insert("members".into(), "๓".into());
        for ind in &spec.indicators {
            let v = match ind.rule {
                Rule::Flag { .. } => "0",
                Rule::Compare { .. } => "40000",
            };
            form.insert(field(ind.rule.column()), v.into());
        }
        form
    }

    #[test]
    fn a_complete_form_is_accepted_and_thai_digits_read() {
        let spec = spec();
        let rounds = [BeYear::new(2568).unwrap()];
        let today = BeDate::parse("2568-06-01").unwrap();
        let checked = check_form(&spec, &rounds, today, &full_form(&spec), Lang::Th).unwrap();
        assert_eq!(checked.members, 3);
        assert_eq!(checked.values.len(), spec.indicators.len());
    }

    #[test]
    fn mistakes_are_named_field_by_field_in_thai() {
        let spec = spec();
        let rounds = [BeYear::new(2568).unwrap()];
        let today = BeDate::parse("2568-06-01").unwrap();
        let mut form = full_form(&spec);
        form.insert("members".into(), "0".into());
        form.insert("assessed_on".into(), "2569-01-01".into());
        form.insert(field("bmn04_safe_food"), "2".into());
        form.remove(&field("bmn08_housing"));
        form.insert(field("income_per_person_year"), "abc".into());
        let errors = check_form(&spec, &rounds, today, &form, Lang::Th).unwrap_err();
        assert_eq!(errors["members"], Lang::Th.t("err_members"));
        assert_eq!(errors["assessed_on"], Lang::Th.t("err_future"));
        assert_eq!(errors[&field("bmn04_safe_food")], Lang::Th.t("err_answer"));
        assert_eq!(errors[&field("bmn08_housing")], Lang::Th.t("err_answer"));
        assert_eq!(
            errors[&field("income_per_person_year")],
            Lang::Th.t("err_number")
        );
        assert!(
            errors
                .values()
                .all(|m| m.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)))
        );
    }
}
