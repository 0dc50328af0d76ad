//! Births, deaths and moves recorded from a phone form, each change audited.
//!
//! Four forms, reached from the household page: a birth and an arrival from outside the
//! registry (each a new person in the household), and a member's death or move (to another
//! household of the registry, or out of it). Each is plain HTML with Buddhist Era dates typed
//! as text (no date picker a cheap phone may lack), checked with messages in the user's
//! language and the values kept, and written by `halve_app::registry_edit` in the transaction
//! that spends the form's one-time token, so a double submit writes once and lands where the
//! first one did. A zone worker reaches only households of their areas, and may move a person
//! only into one of them; a destination outside answers like one that does not exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use halve_app::registry_edit::{
    self, Birth, Death, Destination, EditError, Move, MoveIn, Refusal, Standing, standing,
    thai_today,
};
use halve_domain::{BeDate, CitizenId, Household, Key, Person, Relation, Sex, parse_text};
use halve_store::FormTokenUse;
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{Current, random_token, token_hash};
use crate::error::WebError;
use crate::household::{segment, today, visible_household};
use crate::i18n::Lang;
use crate::pages::view;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/households/{code}/birth",
            get(birth_form).post(birth_submit),
        )
        .route(
            "/households/{code}/move-in",
            get(move_in_form).post(move_in_submit),
        )
        .route(
            "/households/{code}/members/{person}/death",
            get(death_form).post(death_submit),
        )
        .route(
            "/households/{code}/members/{person}/move",
            get(move_form).post(move_submit),
        )
}

/// The four changes, each one form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Birth,
    MoveIn,
    Death,
    Move,
}

impl Kind {
    /// The last segment of the form's path.
    fn slug(self) -> &'static str {
        match self {
            Kind::Birth => "birth",
            Kind::MoveIn => "move-in",
            Kind::Death => "death",
            Kind::Move => "move",
        }
    }

    /// The form's name in templates and word keys.
    fn name(self) -> &'static str {
        match self {
            Kind::Birth => "birth",
            Kind::MoveIn => "move_in",
            Kind::Death => "death",
            Kind::Move => "move",
        }
    }
}

/// What a form is about: a household the user may record in, and the member for a death or a
/// move.
struct Subject {
    household: Household,
    person: Option<Person>,
}

impl Subject {
    fn code(&self) -> &str {
        self.household.house_code.as_str()
    }

    fn path(&self, kind: Kind) -> String {
        match &self.person {
            Some(p) => format!(
                "/households/{}/members/{}/{}",
                segment(self.code()),
                segment(p.person_code.as_str()),
                kind.slug()
            ),
            None => format!("/households/{}/{}", segment(self.code()), kind.slug()),
        }
    }

    fn purpose(&self, kind: Kind) -> String {
        purpose(
            kind,
            self.code(),
            self.person.as_ref().map(|p| p.person_code.as_str()),
        )
    }
}

/// What a form's one-time token is for: one kind of change in one household (to one member).
fn purpose(kind: Kind, house_code: &str, person: Option<&str>) -> String {
    match person {
        Some(p) => format!("event:{}:{house_code}:{p}", kind.name()),
        None => format!("event:{}:{house_code}", kind.name()),
    }
}

/// The household (and member) of a request, or the refusal the rest of the app gives: 404
/// for a household out of scope or a person not registered in it, 403 for viewers.
async fn subject(
    state: &AppState,
    current: &Current,
    code: &str,
    person: Option<&str>,
) -> Result<Subject, WebError> {
    let household = visible_household(state, current, code).await?;
    if !current.role.records_assessments() {
        return Err(WebError::Forbidden);
    }
    let person = match person {
        None => None,
        Some(wanted) => Some(
            state
                .store
                .persons_in(household.house_code.as_str())
                .await?
                .into_iter()
                .find(|p| p.person_code.as_str() == wanted)
                .ok_or(WebError::NotFound)?,
        ),
    };
    Ok(Subject { household, person })
}

/// A checked form: what the application layer is asked to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    Birth {
        date: BeDate,
        first_name: String,
        last_name: String,
        sex: Sex,
        relation: Relation,
        citizen_id: Option<CitizenId>,
        note: String,
    },
    MoveIn {
        date: BeDate,
        first_name: String,
        last_name: String,
        sex: Sex,
        birth_date: Option<BeDate>,
        relation: Relation,
        citizen_id: Option<CitizenId>,
        note: String,
    },
    Death {
        date: BeDate,
        note: String,
    },
    Move {
        date: BeDate,
        /// `None`: out of the registry.
        to: Option<(Key, Relation)>,
        note: String,
    },
}

/// Reads a submitted form of `kind`; errors are keyed by field, in `lang`. `today` is the day
/// in Thailand, as the application layer will judge it.
pub fn check_form(
    kind: Kind,
    form: &BTreeMap<String, String>,
    today: BeDate,
    lang: Lang,
) -> Result<Checked, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let get = |k: &str| form.get(k).map(|s| s.trim()).unwrap_or("");
    let date_field = |errors: &mut BTreeMap<String, String>, name: &str, required: bool| {
        let raw = get(name);
        if raw.is_empty() {
            if required {
                errors.insert(name.to_owned(), lang.t("ev_err_required").to_owned());
            }
            return None;
        }
        match BeDate::parse(raw) {
            Ok(d) if d > today => {
                errors.insert(name.to_owned(), lang.t("ev_err_future").to_owned());
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errors.insert(name.to_owned(), lang.pick(&e.th, &e.en).to_owned());
                None
            }
        }
    };
    let date = date_field(&mut errors, "date", true);
    let text = |errors: &mut BTreeMap<String, String>, name: &str, max: usize| match parse_text(
        get(name),
        max,
    ) {
        Ok(s) => Some(s),
        Err(_) if get(name).is_empty() => {
            errors.insert(name.to_owned(), lang.t("ev_err_required").to_owned());
            None
        }
        Err(e) => {
            errors.insert(name.to_owned(), lang.pick(&e.th, &e.en).to_owned());
            None
        }
    };
    let note = if get("note").is_empty() {
        Some(String::new())
    } else {
        text(&mut errors, "note", 500)
    };
    let coded = |errors: &mut BTreeMap<String, String>, name: &str| -> Option<String> {
        let raw = get(name);
        if raw.is_empty() {
            errors.insert(name.to_owned(), lang.t("ev_err_choose").to_owned());
            None
        } else {
            Some(raw.to_owned())
        }
    };
    let relation = |errors: &mut BTreeMap<String, String>, name: &str| {
        coded(errors, name).and_then(|raw| match Relation::parse(&raw) {
            Ok(r) => Some(r),
            Err(_) => {
                errors.insert(name.to_owned(), lang.t("ev_err_choose").to_owned());
                None
            }
        })
    };
    let citizen_id = |errors: &mut BTreeMap<String, String>| {
        let raw = get("citizen_id");
        if raw.is_empty() {
            return Some(None);
        }
        match CitizenId::parse(raw) {
            Ok(id) => Some(Some(id)),
            Err(e) => {
                errors.insert("citizen_id".into(), lang.pick(&e.th, &e.en).to_owned());
                None
            }
        }
    };
    let checked = match kind {
        Kind::Birth | Kind::MoveIn => {
            let first_name = text(&mut errors, "first_name", 100);
            let last_name = text(&mut errors, "last_name", 100);
            let sex = coded(&mut errors, "sex").and_then(|raw| match Sex::parse(&raw) {
                Ok(s) => Some(s),
                Err(_) => {
                    errors.insert("sex".into(), lang.t("ev_err_choose").to_owned());
                    None
                }
            });
            let relation = relation(&mut errors, "relation");
            let citizen_id = citizen_id(&mut errors);
            let birth_date = if kind == Kind::MoveIn {
                let born = date_field(&mut errors, "birth_date", false);
                if let (Some(b), Some(d)) = (born, date)
                    && b > d
                {
                    errors.insert("birth_date".into(), lang.t("ev_err_born_after").to_owned());
                }
                born
            } else {
                None
            };
            match (date, first_name, last_name, sex, relation, citizen_id, note) {
                (
                    Some(date),
                    Some(first_name),
                    Some(last_name),
                    Some(sex),
                    Some(relation),
                    Some(citizen_id),
                    Some(note),
                ) if errors.is_empty() => Some(if kind == Kind::Birth {
                    Checked::Birth {
                        date,
                        first_name,
                        last_name,
                        sex,
                        relation,
                        citizen_id,
                        note,
                    }
                } else {
                    Checked::MoveIn {
                        date,
                        first_name,
                        last_name,
                        sex,
                        birth_date,
                        relation,
                        citizen_id,
                        note,
                    }
                }),
                _ => None,
            }
        }
        Kind::Death => match (date, note) {
            (Some(date), Some(note)) if errors.is_empty() => Some(Checked::Death { date, note }),
            _ => None,
        },
        Kind::Move => {
            let to = match get("where") {
                "household" => {
                    let house = match get("to") {
                        "" => {
                            errors.insert("to".into(), lang.t("ev_err_required").to_owned());
                            None
                        }
                        raw => match Key::parse(raw) {
                            Ok(k) => Some(k),
                            Err(e) => {
                                errors.insert("to".into(), lang.pick(&e.th, &e.en).to_owned());
                                None
                            }
                        },
                    };
                    let relation = relation(&mut errors, "relation");
                    house.zip(relation).map(Some)
                }
                "away" => Some(None),
                _ => {
                    errors.insert("where".into(), lang.t("ev_err_choose").to_owned());
                    None
                }
            };
            match (date, to, note) {
                (Some(date), Some(to), Some(note)) if errors.is_empty() => {
                    Some(Checked::Move { date, to, note })
                }
                _ => None,
            }
        }
    };
    checked.ok_or(errors)
}

/// The choices of a coded field, labelled in `lang`.
fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    th: fn(T) -> &'static str,
    lang: Lang,
) -> Json {
    json!(
        all.iter()
            .map(|&v| json!({
                "code": code(v),
                "label": match lang { Lang::Th => th(v).to_owned(), Lang::En => code(v).replace('_', " ") },
            }))
            .collect::<Vec<_>>()
    )
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    current: &Current,
    lang: Lang,
    kind: Kind,
    subject: &Subject,
    token: &str,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let path = subject.path(kind);
    // Every field has a value in the page, so the template never prints an undefined one.
    let mut values = values.clone();
    for name in FIELDS {
        values.entry((*name).to_owned()).or_default();
    }
    let page = view(json!({
        "kind": kind.name(),
        "title": lang.t(&format!("ev_{}_title", kind.name())),
        "help": lang.t(&format!("ev_{}_help", kind.name())),
        "date_label": lang.t(&format!("ev_{}_date", kind.name())),
        "action": path,
        "house_code": subject.code(),
        "segment": segment(subject.code()),
        "person": subject.person.as_ref().map(|p| json!({
            "code": p.person_code.as_str(),
            "name": format!("{} {}", p.first_name, p.last_name),
        })),
        "form_token": token,
        "values": values,
        "errors": errors,
        // A notice on a fresh form is not a failed submission.
        "has_errors": status != StatusCode::OK && !errors.is_empty(),
        "sexes": choices(Sex::ALL, Sex::code, Sex::label_th, lang),
        "relations": choices(Relation::ALL, Relation::code, Relation::label_th, lang),
    }));
    let html = state
        .templates
        .page("event_form.html", lang, Some(current), &path, page)?;
    Ok((status, html).into_response())
}

/// The fields of the four forms.
const FIELDS: &[&str] = &[
    "date",
    "first_name",
    "last_name",
    "sex",
    "relation",
    "birth_date",
    "citizen_id",
    "where",
    "to",
    "note",
];

/// The values a fresh form starts with.
fn fresh_values(state: &AppState, kind: Kind) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    values.insert("date".to_owned(), today(state).to_string());
    match kind {
        Kind::Birth => {
            values.insert("relation".to_owned(), Relation::Child.code().to_owned());
        }
        Kind::Move => {
            values.insert("where".to_owned(), "household".to_owned());
        }
        Kind::MoveIn | Kind::Death => {}
    }
    values
}

async fn show(
    state: Arc<AppState>,
    current: Current,
    lang: Lang,
    kind: Kind,
    code: String,
    person: Option<String>,
) -> Result<Response, WebError> {
    let subject = subject(&state, &current, &code, person.as_deref()).await?;
    let token = random_token();
    state
        .store
        .issue_form_token(
            &token_hash(&token),
            &current.session_hash,
            &subject.purpose(kind),
            state.now(),
        )
        .await?;
    // Said at once rather than after the form is filled in: the person is registered here but
    // has died or moved out (the form would be refused).
    let mut notices = BTreeMap::new();
    if let Some(p) = &subject.person {
        let events = state.store.events_at(subject.code()).await?;
        if standing(p, &events, today(&state)) != Standing::Member(p.household.clone()) {
            notices.insert("person".to_owned(), lang.t("ev_not_member").to_owned());
        }
    }
    render(
        &state,
        &current,
        lang,
        kind,
        &subject,
        &token,
        &fresh_values(&state, kind),
        &notices,
        StatusCode::OK,
    )
}

/// Where a person's form in a household the user may see led, if its token was spent.
/// Spending is tried and rolled back, so an unspent token stays as it was.
async fn spent_outcome(
    state: &AppState,
    current: &Current,
    code: &str,
    person: &str,
    kind: Kind,
    token: &str,
) -> Result<Option<String>, WebError> {
    let household = visible_household(state, current, code).await?;
    let purpose = purpose(kind, household.house_code.as_str(), Some(person));
    let mut tx = state.store.begin().await?;
    let used = tx
        .spend_form_token(
            &token_hash(token),
            &current.session_hash,
            &purpose,
            state.now(),
            "",
        )
        .await?;
    tx.rollback().await?;
    Ok(match used {
        FormTokenUse::AlreadyUsed { outcome } => {
            Some(outcome.unwrap_or_else(|| format!("/households/{}", segment(code))))
        }
        FormTokenUse::Spent | FormTokenUse::Unknown => None,
    })
}

/// Refusals of the application layer as form errors, in `lang`; the first reason per field.
fn refusal_errors(refusals: &[Refusal], lang: Lang) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    for r in refusals {
        errors
            .entry(r.field.to_owned())
            .or_insert_with(|| lang.pick(&r.th, &r.en).to_owned());
    }
    errors
}

async fn submit(
    state: Arc<AppState>,
    current: Current,
    lang: Lang,
    kind: Kind,
    code: String,
    person: Option<String>,
    fields: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let form: BTreeMap<String, String> = fields.into_iter().collect();
    let token = form.get("form_token").cloned().unwrap_or_default();
    let subject = match subject(&state, &current, &code, person.as_deref()).await {
        Err(WebError::NotFound) if person.is_some() => {
            // A member who has moved to another household is no longer found here: a resent
            // form of that move lands where the first one did.
            let wanted = person.as_deref().unwrap_or_default();
            return match spent_outcome(&state, &current, &code, wanted, kind, &token).await? {
                Some(outcome) => Ok(Redirect::to(&outcome).into_response()),
                None => Err(WebError::NotFound),
            };
        }
        found => found?,
    };
    let values: BTreeMap<String, String> = form
        .iter()
        .filter(|(k, _)| FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let at = state.clock.now_iso();
    let today = thai_today(&at).unwrap_or_else(|| today(&state));
    let refuse = |errors: BTreeMap<String, String>| {
        render(
            &state,
            &current,
            lang,
            kind,
            &subject,
            &token,
            &values,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let checked = match check_form(kind, &form, today, lang) {
        Ok(c) => c,
        Err(errors) => return refuse(errors),
    };
    // The destination of a move is checked against the user's areas before anything else: one
    // outside them is answered as one that does not exist.
    if let Checked::Move {
        to: Some((to, _)), ..
    } = &checked
    {
        let visible = match state.store.household(to.as_str()).await? {
            Some(h) => current.scope.allows(h.village, &state.zones),
            None => false,
        };
        if !visible {
            let mut errors = BTreeMap::new();
            errors.insert("to".to_owned(), lang.t("ev_err_to_unknown").to_owned());
            return refuse(errors);
        }
    }

    let household = subject.household.house_code.clone();
    let outcome = format!("/households/{}?saved=1", segment(subject.code()));
    let mut tx = state.store.begin().await?;
    match tx
        .spend_form_token(
            &token_hash(&token),
            &current.session_hash,
            &subject.purpose(kind),
            state.now(),
            &outcome,
        )
        .await?
    {
        FormTokenUse::Spent => {}
        FormTokenUse::AlreadyUsed { outcome } => {
            tx.rollback().await?;
            let to = outcome.unwrap_or_else(|| format!("/households/{}", segment(subject.code())));
            return Ok(Redirect::to(&to).into_response());
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            return Err(WebError::Csrf);
        }
    }
    let actor = current.actor();
    let person_key = subject.person.as_ref().map(|p| p.person_code.clone());
    let done = match (checked, person_key) {
        (
            Checked::Birth {
                date,
                first_name,
                last_name,
                sex,
                relation,
                citizen_id,
                note,
            },
            _,
        ) => {
            let birth = Birth {
                household,
                date,
                first_name,
                last_name,
                sex,
                relation,
                citizen_id,
                note,
            };
            registry_edit::record_birth(&mut tx, &actor, &at, birth).await
        }
        (
            Checked::MoveIn {
                date,
                first_name,
                last_name,
                sex,
                birth_date,
                relation,
                citizen_id,
                note,
            },
            _,
        ) => {
            let arrival = MoveIn {
                household,
                date,
                first_name,
                last_name,
                sex,
                birth_date,
                relation,
                citizen_id,
                note,
            };
            registry_edit::record_move_in(&mut tx, &actor, &at, arrival).await
        }
        (Checked::Death { date, note }, Some(person)) => {
            let death = Death {
                household,
                person,
                date,
                note,
            };
            registry_edit::record_death(&mut tx, &actor, &at, death).await
        }
        (Checked::Move { date, to, note }, Some(person)) => {
            let to = match to {
                Some((house_code, relation)) => Destination::Household {
                    house_code,
                    relation,
                },
                None => Destination::Away,
            };
            let change = Move {
                household,
                person,
                date,
                to,
                note,
            };
            registry_edit::record_move(&mut tx, &actor, &at, change).await
        }
        (Checked::Death { .. } | Checked::Move { .. }, None) => {
            tx.rollback().await?;
            return Err(WebError::NotFound);
        }
    };
    match done {
        Ok(_) => {
            // The live figures take the change from the store's change feed on their next read.
            tx.commit().await?;
            Ok(Redirect::to(&outcome).into_response())
        }
        Err(EditError::Refused(refusals)) => {
            // The token goes back unspent with the rollback, so the corrected form can be sent.
            tx.rollback().await?;
            refuse(refusal_errors(&refusals, lang))
        }
        Err(e) => {
            tx.rollback().await?;
            Err(WebError::App(e.into()))
        }
    }
}

async fn birth_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    show(state, current, lang, Kind::Birth, code, None).await
}

async fn birth_submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    submit(state, current, lang, Kind::Birth, code, None, fields).await
}

async fn move_in_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    show(state, current, lang, Kind::MoveIn, code, None).await
}

async fn move_in_submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    submit(state, current, lang, Kind::MoveIn, code, None, fields).await
}

async fn death_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((code, person)): Path<(String, String)>,
) -> Result<Response, WebError> {
    show(state, current, lang, Kind::Death, code, Some(person)).await
}

async fn death_submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((code, person)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    submit(
        state,
        current,
        lang,
        Kind::Death,
        code,
        Some(person),
        fields,
    )
    .await
}

async fn move_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((code, person)): Path<(String, String)>,
) -> Result<Response, WebError> {
    show(state, current, lang, Kind::Move, code, Some(person)).await
}

async fn move_submit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path((code, person)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    submit(state, current, lang, Kind::Move, code, Some(person), fields).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn today() -> BeDate {
        BeDate::parse("2568-07-01").unwrap()
    }

    #[test]
    fn a_birth_form_reads_thai_digits_and_day_first_dates() {
        let checked = check_form(
            Kind::Birth,
            &form(&[
                ("date", "๑๕/๐๖/๒๕๖๘"),
                ("first_name", " ด.ช. ภูมิ "),
                ("last_name", "ใจดี"),
                ("sex", "male"),
                ("relation", "grandchild"),
                ("citizen_id", "1-1017-00230-70-8"),
                ("note", ""),
            ]),
            today(),
            Lang::Th,
        )
        .unwrap();
        assert_eq!(
            checked,
            Checked::Birth {
                date: BeDate::parse("2568-06-15").unwrap(),
                first_name: "ด.ช. ภูมิ".into(),
                last_name: "ใจดี".into(),
                sex: Sex::Male,
                relation: Relation::Grandchild,
                citizen_id: Some(CitizenId::parse("1101700230708").unwrap()),
                note: String::new(),
            }
        );
    }

    #[test]
    fn mistakes_are_named_field_by_field_in_the_users_language() {
        let errors = check_form(
            Kind::MoveIn,
            &form(&[
                ("date", "2568-07-02"),
                ("first_name", ""),
                ("last_name", "ใจดี"),
                ("sex", "x"),
                ("citizen_id", "1101700230709"),
                ("birth_date", "2025-01-01"),
            ]),
            today(),
            Lang::Th,
        )
        .unwrap_err();
        assert_eq!(errors["date"], Lang::Th.t("ev_err_future"));
        assert_eq!(errors["first_name"], Lang::Th.t("ev_err_required"));
        assert_eq!(errors["sex"], Lang::Th.t("ev_err_choose"));
        assert_eq!(errors["relation"], Lang::Th.t("ev_err_choose"));
        assert!(errors["citizen_id"].contains("หลักตรวจสอบ"));
        // A Common Era year where the Buddhist Era is expected is named as such.
        assert!(errors["birth_date"].contains("ค.ศ."));
        assert_eq!(errors.len(), 6);
        let en = check_form(Kind::Death, &form(&[]), today(), Lang::En).unwrap_err();
        assert_eq!(en["date"], Lang::En.t("ev_err_required"));
    }

    #[test]
    fn a_move_goes_to_a_household_with_a_relation_or_away() {
        let away = check_form(
            Kind::Move,
            &form(&[("date", "2568-06-01"), ("where", "away"), ("to", "ignored")]),
            today(),
            Lang::Th,
        )
        .unwrap();
        assert!(matches!(away, Checked::Move { to: None, .. }));
        let errors = check_form(
            Kind::Move,
            &form(&[
                ("date", "2568-06-01"),
                ("where", "household"),
                ("to", "บ้าน 1"),
            ]),
            today(),
            Lang::Th,
        )
        .unwrap_err();
        assert!(errors.contains_key("to"));
        assert_eq!(errors["relation"], Lang::Th.t("ev_err_choose"));
        let none = check_form(
            Kind::Move,
            &form(&[("date", "2568-06-01")]),
            today(),
            Lang::Th,
        )
        .unwrap_err();
        assert_eq!(none["where"], Lang::Th.t("ev_err_choose"));
    }
}
