//! Account administration, for administrators only (everyone else gets 403): the list of
//! accounts with their role, areas, whether they are active or locked out and their open
//! sessions; creating an account; and on an account's page, editing its display name, role
//! and areas, deactivating or activating it, unlocking it after failed sign-ins and setting a
//! new password.
//!
//! The rules and the audit are [`crate::accounts`]'; this module reads forms, renders pages
//! and binds each write to its commit. Forms whose double submit would write twice (create,
//! edit, password) carry a one-time token spent in the write's transaction; the buttons
//! (deactivate, activate, unlock) ask for a state, so a second press finds it reached and
//! writes nothing. Every write ends in a redirect to the account's page (post-redirect-get).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use halve_domain::{AreaCode, BeDate};
use halve_store::{FormTokenUse, ScopeEntry, Tx, UserRecord};
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::{
    Current, PARTNER_SCOPE, Role, account_locked_for, account_subject, random_token, token_hash,
};
use crate::accounts::{self, AccountRequest, Change, MIN_PASSWORD, Problem, ProfileRequest};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::view;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users", get(list))
        .route("/users/new", get(new_form).post(create))
        .route("/users/{name}", get(show).post(edit))
        .route("/users/{name}/deactivate", post(deactivate))
        .route("/users/{name}/activate", post(activate))
        .route("/users/{name}/unlock", post(unlock))
        .route("/users/{name}/password", post(password))
}

const NEW_PURPOSE: &str = "user-new";

fn edit_purpose(username: &str) -> String {
    format!("user-edit:{username}")
}

fn password_purpose(username: &str) -> String {
    format!("user-password:{username}")
}

fn require_admin(current: &Current) -> Result<(), WebError> {
    if current.role == Role::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

/// An account's page, with a notice of what was just done.
fn account_path(username: &str, done: &str) -> String {
    format!("/users/{username}?done={done}")
}

/// Issues a one-time token of this session for a form.
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

/// Spends a form's one-time token in `tx`. `Ok(None)`: go on with the write; `Ok(Some(r))`:
/// the form was already sent, and `r` leads where the first submit did (the transaction is
/// rolled back).
async fn spend(
    state: &AppState,
    current: &Current,
    mut tx: Tx,
    token: &str,
    purpose: &str,
    outcome: &str,
) -> Result<Result<Tx, Response>, WebError> {
    match tx
        .spend_form_token(
            &token_hash(token),
            &current.session_hash,
            purpose,
            state.now(),
            outcome,
        )
        .await?
    {
        FormTokenUse::Spent => Ok(Ok(tx)),
        FormTokenUse::AlreadyUsed { outcome } => {
            tx.rollback().await?;
            let to = outcome.unwrap_or_else(|| "/users".into());
            Ok(Err(Redirect::to(&to).into_response()))
        }
        FormTokenUse::Unknown => {
            tx.rollback().await?;
            Err(WebError::Csrf)
        }
    }
}

/// A time as people read it: the Buddhist Era date and the hour in Thailand (UTC+7, no
/// daylight saving).
fn local_time(lang: Lang, unix: i64) -> String {
    let iso = halve_app::clock::iso_utc(unix + 7 * 3600);
    match BeDate::from_iso_ce(&iso[..10]) {
        Ok(date) => format!("{} {}", lang.date(date), &iso[11..16]),
        Err(_) => iso,
    }
}

/// What an account may see, in words: every area, or its zones and areas by name.
fn scope_words(state: &AppState, lang: Lang, user: &UserRecord) -> String {
    if Role::parse(&user.role) == Some(Role::Partner) {
        let codes: Vec<&str> = user
            .scope
            .iter()
            .filter(|e| e.kind == PARTNER_SCOPE)
            .map(|e| e.code.as_str())
            .collect();
        return lang
            .t("partner_account_scope")
            .replace("{code}", &codes.join(", "));
    }
    if Role::parse(&user.role) != Some(Role::ZoneWorker) {
        return lang.t("users_everywhere").to_owned();
    }
    let words: Vec<String> = user
        .scope
        .iter()
        .map(|e| match e.kind.as_str() {
            "zone" => state
                .zones
                .zones
                .iter()
                .find(|z| z.code == e.code)
                .map_or_else(
                    || e.code.clone(),
                    |z| lang.pick(&z.name_th, &z.name_en).to_owned(),
                ),
            _ => AreaCode::parse_syntax(&e.code)
                .ok()
                .and_then(|c| state.tree.get(c))
                .map_or_else(
                    || e.code.clone(),
                    |a| format!("{} {}", lang.pick(&a.name_th, &a.name_en), e.code),
                ),
        })
        .collect();
    if words.is_empty() {
        lang.t("users_nowhere").to_owned()
    } else {
        words.join(", ")
    }
}

fn role_label(lang: Lang, stored: &str) -> String {
    Role::parse(stored).map_or_else(
        || stored.to_owned(),
        |r| lang.t(&format!("role_{}", r.code())).to_owned(),
    )
}

/// Whether the account is locked out now, in words.
async fn locked_words(
    state: &AppState,
    lang: Lang,
    username: &str,
) -> Result<Option<String>, WebError> {
    Ok(account_locked_for(state, username).await?.map(|wait| {
        let minutes = (wait.max(1) + 59) / 60;
        lang.t("users_locked")
            .replace("{minutes}", &minutes.to_string())
    }))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let sessions: HashMap<i64, (i64, i64)> = state
        .store
        .open_sessions(state.now())
        .await?
        .into_iter()
        .map(|(id, count, last)| (id, (count, last)))
        .collect();
    let mut rows = Vec::new();
    for u in state.store.users().await? {
        let (count, last) = sessions.get(&u.id).copied().unwrap_or((0, 0));
        rows.push(json!({
            "username": u.username,
            "display_name": u.display_name,
            "role": role_label(lang, &u.role),
            "scope": scope_words(&state, lang, &u),
            "active": u.active,
            "locked": locked_words(&state, lang, &u.username).await?,
            "sessions": count,
            "last_sign_in": (count > 0).then(|| local_time(lang, last)),
            "you": u.id == current.user_id,
        }));
    }
    let html = state.templates.page(
        "users.html",
        lang,
        Some(&current),
        "/users",
        view(json!({ "accounts": rows })),
    )?;
    Ok(html.into_response())
}

/// The profile fields as typed (or as stored, on a fresh form).
#[derive(Clone, Debug, Default)]
struct Typed {
    username: String,
    display_name: String,
    role: String,
    zones: Vec<String>,
    areas: String,
    /// The partner code a partner account is bound to.
    partner: String,
}

impl Typed {
    fn of(user: &UserRecord) -> Typed {
        let pick = |kind: &str| -> Vec<String> {
            user.scope
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e: &ScopeEntry| e.code.clone())
                .collect()
        };
        Typed {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: Role::parse(&user.role).map_or_else(|| user.role.clone(), |r| r.code().into()),
            zones: pick("zone"),
            areas: pick("area").join(" "),
            partner: pick(PARTNER_SCOPE).join(" "),
        }
    }

    /// Reads a submitted form; repeated `zone` fields are the ticked zones.
    fn from_form(fields: &[(String, String)]) -> Typed {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Typed {
            username: get("username").trim().to_owned(),
            display_name: get("display_name"),
            role: get("role"),
            zones: fields
                .iter()
                .filter(|(k, _)| k == "zone")
                .map(|(_, v)| v.clone())
                .collect(),
            areas: get("areas"),
            partner: get("partner").trim().to_owned(),
        }
    }

    /// The typed area codes: separated by spaces or commas.
    fn area_list(&self) -> Vec<String> {
        self.areas
            .split([' ', ',', '\n', '\t', '\r'])
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn profile(&self) -> ProfileRequest {
        ProfileRequest {
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            zones: self.zones.clone(),
            areas: self.area_list(),
        }
    }

    fn json(&self, state: &AppState, lang: Lang) -> (Json, Json, Json) {
        let typed = json!({
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "areas": self.areas,
            "partner": self.partner,
        });
        let roles: Vec<Json> = Role::ALL
            .iter()
            .map(|r| json!({"code": r.code(), "label": lang.t(&format!("role_{}", r.code()))}))
            .collect();
        let zones: Vec<Json> = state
            .zones
            .zones
            .iter()
            .map(|z| {
                json!({
                    "code": z.code,
                    "name": lang.pick(&z.name_th, &z.name_en),
                    "checked": self.zones.contains(&z.code),
                })
            })
            .collect();
        (typed, json!(roles), json!(zones))
    }
}

/// Field → message, in the request's language.
type Errors = BTreeMap<&'static str, String>;

fn errors_of(problems: impl IntoIterator<Item = Problem>, lang: Lang) -> Errors {
    let mut errors = Errors::new();
    for p in problems {
        errors.entry(p.field()).or_insert_with(|| p.message(lang));
    }
    errors
}

fn password_hint(lang: Lang) -> String {
    lang.t("users_password_hint")
        .replace("{min}", &MIN_PASSWORD.to_string())
}

pub async fn new_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let token = issue(&state, &current, NEW_PURPOSE).await?;
    let typed = Typed {
        role: Role::ZoneWorker.code().into(),
        ..Typed::default()
    };
    render_new(
        &state,
        &current,
        lang,
        &token,
        &typed,
        &Errors::new(),
        StatusCode::OK,
    )
}

fn render_new(
    state: &AppState,
    current: &Current,
    lang: Lang,
    token: &str,
    typed: &Typed,
    errors: &Errors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (typed, roles, zones) = typed.json(state, lang);
    let html = state.templates.page(
        "user_new.html",
        lang,
        Some(current),
        "/users/new",
        view(json!({
            "form_token": token,
            "typed": typed,
            "roles": roles,
            "zones": zones,
            "errors": errors,
            "has_errors": !errors.is_empty(),
            "min_password": MIN_PASSWORD,
            "password_hint": password_hint(lang),
        })),
    )?;
    Ok((status, html).into_response())
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let typed = Typed::from_form(&fields);
    let field = |k: &str| {
        fields
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let token = field("form_token").to_owned();
    let request = AccountRequest {
        username: typed.username.clone(),
        display_name: Some(typed.display_name.clone()),
        password: field("password").to_owned(),
        role: typed.role.clone(),
        zones: typed.zones.clone(),
        areas: typed.area_list(),
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut checked = accounts::check_new(&request).map_err(|p| problems.extend(p.into_values()));
    if let Ok(c) = &mut checked
        && let Err(p) =
            accounts::bind_partner(&state.store, c.role, &typed.partner, &mut c.scope).await?
    {
        problems.push(p);
    }
    if let Err(p) = accounts::check_password(&request.password, field("password_confirm")) {
        problems.push(p);
    }
    let checked = match checked {
        Ok(c) if problems.is_empty() => c,
        _ => {
            let errors = errors_of(problems, lang);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_new(&state, &current, lang, &token, &typed, &errors, status);
        }
    };
    let hash = accounts::hash_off_thread(&request.password).await?;
    let outcome = account_path(&checked.username, "created");
    let tx = state.store.begin().await?;
    let mut tx = match spend(&state, &current, tx, &token, NEW_PURPOSE, &outcome).await? {
        Ok(tx) => tx,
        Err(already) => return Ok(already),
    };
    let at = state.clock.now_iso();
    let change = Change {
        by: &current,
        at: &at,
    };
    match accounts::create_in(&mut tx, &change, &checked, &hash, state.now()).await? {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&outcome).into_response())
        }
        Err(problem) => {
            // The token was spent in the rolled-back transaction: still good for a retry.
            tx.rollback().await?;
            let errors = errors_of([problem], lang);
            render_new(
                &state,
                &current,
                lang,
                &token,
                &typed,
                &errors,
                StatusCode::CONFLICT,
            )
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The notice for `?done=`: only known words, never the query's text.
fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    let key = match done? {
        "created" => "users_done_created",
        "saved" => "users_done_saved",
        "unchanged" => "users_done_unchanged",
        "deactivated" => "users_done_deactivated",
        "activated" => "users_done_activated",
        "unlocked" => "users_done_unlocked",
        "password" => "users_done_password",
        _ => return None,
    };
    Some(lang.t(key))
}

async fn stored(state: &AppState, username: &str) -> Result<UserRecord, WebError> {
    state
        .store
        .user_by_name(username)
        .await?
        .ok_or(WebError::NotFound)
}

/// What an account's page shows besides the stored account.
struct PageState<'a> {
    typed: Typed,
    /// The edit form's token: kept when the form comes back with errors, so it can be sent
    /// again; fresh otherwise.
    edit_token: Option<&'a str>,
    errors: Errors,
    notice: Option<&'static str>,
    status: StatusCode,
}

async fn render_account(
    state: &AppState,
    current: &Current,
    lang: Lang,
    user: &UserRecord,
    page: PageState<'_>,
) -> Result<Response, WebError> {
    let edit_token = match page.edit_token {
        Some(t) => t.to_owned(),
        None => issue(state, current, &edit_purpose(&user.username)).await?,
    };
    let password_token = issue(state, current, &password_purpose(&user.username)).await?;
    let now = state.now();
    let window = state.config.throttle_window_secs;
    let (failures, _) = state
        .store
        .login_failures_since(&account_subject(&user.username), now - window)
        .await?;
    let (sessions, last) = state
        .store
        .open_sessions(now)
        .await?
        .into_iter()
        .find(|(id, _, _)| *id == user.id)
        .map_or((0, 0), |(_, n, last)| (n, last));
    let failures_words = (failures > 0).then(|| {
        lang.t("users_failures")
            .replace("{count}", &failures.to_string())
            .replace("{window}", &(window / 60).to_string())
    });
    let (typed, roles, zones) = page.typed.json(state, lang);
    let html = state.templates.page(
        "user.html",
        lang,
        Some(current),
        &format!("/users/{}", user.username),
        view(json!({
            "account": {
                "username": user.username,
                "active": user.active,
                "you": user.id == current.user_id,
                "locked": locked_words(state, lang, &user.username).await?,
                "failures": failures_words,
                "sessions": sessions,
                "last_sign_in": (sessions > 0).then(|| local_time(lang, last)),
            },
            "edit_token": edit_token,
            "password_token": password_token,
            "typed": typed,
            "roles": roles,
            "zones": zones,
            "errors": page.errors,
            "has_errors": !page.errors.is_empty(),
            "notice": page.notice,
            "min_password": MIN_PASSWORD,
            "password_hint": password_hint(lang),
        })),
    )?;
    Ok((page.status, html).into_response())
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(name): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let user = stored(&state, &name).await?;
    let page = PageState {
        typed: Typed::of(&user),
        edit_token: None,
        errors: Errors::new(),
        notice: notice(lang, q.done.as_deref()),
        status: StatusCode::OK,
    };
    render_account(&state, &current, lang, &user, page).await
}

pub async fn edit(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let user = stored(&state, &name).await?;
    let typed = Typed {
        username: user.username.clone(),
        ..Typed::from_form(&fields)
    };
    let token = fields
        .iter()
        .find(|(k, _)| k == "form_token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let again = |errors: Errors, status: StatusCode| PageState {
        typed: typed.clone(),
        edit_token: Some(&token),
        errors,
        notice: None,
        status,
    };
    let profile = match accounts::check_profile_change(&user.username, &typed.profile()) {
        Ok(mut p) => {
            match accounts::bind_partner(&state.store, p.1, &typed.partner, &mut p.2).await? {
                Ok(()) => p,
                Err(problem) => {
                    let page = again(errors_of([problem], lang), StatusCode::UNPROCESSABLE_ENTITY);
                    return render_account(&state, &current, lang, &user, page).await;
                }
            }
        }
        Err(problems) => {
            let page = again(
                errors_of(problems.into_values(), lang),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            return render_account(&state, &current, lang, &user, page).await;
        }
    };
    let at = state.clock.now_iso();
    let change = Change {
        by: &current,
        at: &at,
    };
    let mut tx = state.store.begin().await?;
    let changed = match accounts::edit(&mut tx, &change, &user.username, &profile).await? {
        Ok(changed) => changed,
        Err(problem) => {
            tx.rollback().await?;
            let page = again(errors_of([problem], lang), StatusCode::CONFLICT);
            return render_account(&state, &current, lang, &user, page).await;
        }
    };
    // Spent after the change, so that its outcome says what happened; a second submit rolls
    // back whatever it did and lands where the first one did.
    let outcome = account_path(&user.username, if changed { "saved" } else { "unchanged" });
    let purpose = edit_purpose(&user.username);
    let tx = match spend(&state, &current, tx, &token, &purpose, &outcome).await? {
        Ok(tx) => tx,
        Err(already) => return Ok(already),
    };
    tx.commit().await?;
    Ok(Redirect::to(&outcome).into_response())
}

/// Deactivates or activates an account, then shows its page.
async fn set_active(
    state: &AppState,
    current: &Current,
    lang: Lang,
    name: &str,
    active: bool,
) -> Result<Response, WebError> {
    require_admin(current)?;
    let at = state.clock.now_iso();
    let change = Change {
        by: current,
        at: &at,
    };
    let mut tx = state.store.begin().await?;
    match accounts::set_active(&mut tx, &change, name, active).await? {
        Ok(_) => {
            tx.commit().await?;
            let done = if active { "activated" } else { "deactivated" };
            Ok(Redirect::to(&account_path(name, done)).into_response())
        }
        Err(problem) => {
            tx.rollback().await?;
            let user = stored(state, name).await?;
            let page = PageState {
                typed: Typed::of(&user),
                edit_token: None,
                errors: Errors::from([("access", problem.message(lang))]),
                notice: None,
                status: StatusCode::CONFLICT,
            };
            render_account(state, current, lang, &user, page).await
        }
    }
}

pub async fn deactivate(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    set_active(&state, &current, lang, &name, false).await
}

pub async fn activate(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    set_active(&state, &current, lang, &name, true).await
}

pub async fn unlock(
    State(state): State<Arc<AppState>>,
    current: Current,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let at = state.clock.now_iso();
    let change = Change {
        by: &current,
        at: &at,
    };
    let mut tx = state.store.begin().await?;
    accounts::unlock(&mut tx, &change, &name).await?;
    tx.commit().await?;
    Ok(Redirect::to(&account_path(&name, "unlocked")).into_response())
}

pub async fn password(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_admin(&current)?;
    let user = stored(&state, &name).await?;
    let field = |k: &str| {
        fields
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if let Err(problem) = accounts::check_password(field("password"), field("password_confirm")) {
        let page = PageState {
            typed: Typed::of(&user),
            edit_token: None,
            errors: errors_of([problem], lang),
            notice: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return render_account(&state, &current, lang, &user, page).await;
    }
    let hash = accounts::hash_off_thread(field("password")).await?;
    let outcome = account_path(&user.username, "password");
    let purpose = password_purpose(&user.username);
    let tx = state.store.begin().await?;
    let mut tx = match spend(
        &state,
        &current,
        tx,
        field("form_token"),
        &purpose,
        &outcome,
    )
    .await?
    {
        Ok(tx) => tx,
        Err(already) => return Ok(already),
    };
    let at = state.clock.now_iso();
    let change = Change {
        by: &current,
        at: &at,
    };
    accounts::set_password(&mut tx, &change, &user.username, &hash).await?;
    tx.commit().await?;
    Ok(Redirect::to(&outcome).into_response())
}
