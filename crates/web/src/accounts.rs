//! Accounts: creating them (the `halve user` command, the demo and the administrators' page)
//! and changing them (the administrators' page). The checks on a name, a role, its areas and
//! a password; the rules that keep the app administered (no administrator deactivates or
//! demotes themself, the last active administrator stays); and the audit line of every
//! change, which names who changed what, never a password or its hash.
//!
//! The changes run in the caller's transaction, so that the page can spend its one-time form
//! token in the same commit: a second submit of the same form writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use halve_domain::{AreaTree, EcoZoneSet};
use halve_store::{AuditEntry, NewUser, ScopeEntry, Store, StoreError, Tx, UserRecord};
use serde_json::json;

use crate::WebError;
use crate::access::{Current, PARTNER_SCOPE, Role, account_subject, hash_password};
use crate::i18n::Lang;

/// The password of the demo's accounts, printed by `halve demo`. Demo data only: the demo
/// refuses to write into a registry that holds anything else.
pub const DEMO_PASSWORD: &str = "halve-demo-2566";

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

/// An account to create, as typed.
#[derive(Clone, Debug, Default)]
pub struct AccountRequest {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: String,
    pub zones: Vec<String>,
    pub areas: Vec<String>,
}

/// What an account may be changed to, as typed on its page.
#[derive(Clone, Debug, Default)]
pub struct ProfileRequest {
    pub display_name: String,
    pub role: String,
    pub zones: Vec<String>,
    pub areas: Vec<String>,
}

/// Something wrong with an account as typed, or a change the rules refuse. Messages never
/// repeat a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Username,
    Taken,
    DisplayName,
    Role,
    Password,
    PasswordsDiffer,
    UnknownZone(String),
    Area {
        code: String,
        th: String,
        en: String,
    },
    NeedsScope,
    /// An administrator deactivating themself or changing their own role.
    OwnAccount,
    /// The change would leave no active administrator.
    LastAdmin,
    /// A partner account without a partner code.
    PartnerMissing,
    /// A partner code not in the partner directory, or of a partner no longer active.
    UnknownPartner(String),
}

/// Problems by form field, one per field.
pub type Problems = BTreeMap<&'static str, Problem>;

impl Problem {
    /// The form field the problem is about.
    pub fn field(&self) -> &'static str {
        match self {
            Problem::Username | Problem::Taken => "username",
            Problem::DisplayName => "display_name",
            Problem::Role | Problem::OwnAccount | Problem::LastAdmin => "role",
            Problem::Password | Problem::PasswordsDiffer => "password",
            Problem::UnknownZone(_) | Problem::Area { .. } | Problem::NeedsScope => "scope",
            Problem::PartnerMissing | Problem::UnknownPartner(_) => "partner",
        }
    }

    /// The message in one language, from `messages/users.toml`.
    pub(crate) fn message(&self, lang: Lang) -> String {
        match self {
            Problem::Username => lang.t("users_err_username").to_owned(),
            Problem::Taken => lang.t("users_err_taken").to_owned(),
            Problem::DisplayName => lang
                .t("users_err_display_name")
                .replace("{max}", &MAX_DISPLAY_NAME.to_string()),
            Problem::Role => lang.t("users_err_role").to_owned(),
            Problem::Password => lang
                .t("users_err_password")
                .replace("{min}", &MIN_PASSWORD.to_string()),
            Problem::PasswordsDiffer => lang.t("users_err_passwords_differ").to_owned(),
            Problem::UnknownZone(zone) => {
                let known: Vec<String> = EcoZoneSet::shipped_nakhon_si_thammarat()
                    .zones
                    .iter()
                    .map(|z| z.code.clone())
                    .collect();
                lang.t("users_err_zone")
                    .replace("{zone}", zone)
                    .replace("{known}", &known.join(", "))
            }
            Problem::Area { code, th, en } => lang
                .t("users_err_area")
                .replace("{code}", code)
                .replace("{reason}", lang.pick(th, en)),
            Problem::NeedsScope => lang.t("users_err_needs_scope").to_owned(),
            Problem::OwnAccount => lang.t("users_err_own_account").to_owned(),
            Problem::LastAdmin => lang.t("users_err_last_admin").to_owned(),
            Problem::PartnerMissing => lang.t("partner_err_account_missing").to_owned(),
            Problem::UnknownPartner(code) => lang
                .t("partner_err_account_unknown")
                .replace("{code}", code),
        }
    }

    /// Thai, then English in brackets: for the command line.
    pub fn bilingual(&self) -> String {
        format!("{} ({})", self.message(Lang::Th), self.message(Lang::En))
    }
}

/// An account checked and ready to store (its password is hashed separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Vec<ScopeEntry>,
}

/// A name may be typed in a URL and in a shell: ASCII letters, digits and `. _ - @`, 1 to 64
/// of them. `new` would be hidden behind the page that creates accounts (`/users/new`), and a
/// name of dots is a path segment browsers rewrite.
fn username_ok(username: &str) -> bool {
    !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
        && username != "new"
        && !username.bytes().all(|b| b == b'.')
}

/// Checks what any account carries: its display name (the username when left empty), role
/// and scope. Zones are the shipped eco-zones; areas are resolved in the shipped area tree.
fn check_profile(
    username: &str,
    display_name: Option<&str>,
    role: &str,
    zones: &[String],
    areas: &[String],
    problems: &mut Problems,
) -> Option<(String, Role, Vec<ScopeEntry>)> {
    let mut note = |p: Problem| {
        problems.entry(p.field()).or_insert(p);
    };
    let display = match display_name.map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(username.to_owned()),
        Some(d) if d.chars().count() > MAX_DISPLAY_NAME || d.chars().any(char::is_control) => {
            note(Problem::DisplayName);
            None
        }
        Some(d) => Some(d.to_owned()),
    };
    let role = Role::parse(role);
    if role.is_none() {
        note(Problem::Role);
    }
    let known = EcoZoneSet::shipped_nakhon_si_thammarat();
    // A set: the same zone or area twice is one line of the scope.
    let mut scope = BTreeSet::new();
    for z in zones.iter().map(|z| z.trim()).filter(|z| !z.is_empty()) {
        if known.zones.iter().any(|k| k.code == z) {
            scope.insert(ScopeEntry {
                kind: "zone".into(),
                code: z.to_owned(),
            });
        } else {
            note(Problem::UnknownZone(z.to_owned()));
        }
    }
    for a in areas.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        match AreaTree::shipped().resolve(a) {
            Ok(code) => {
                scope.insert(ScopeEntry {
                    kind: "area".into(),
                    code: code.to_string(),
                });
            }
            Err(e) => note(Problem::Area {
                code: a.to_owned(),
                th: e.th,
                en: e.en,
            }),
        }
    }
    // A worker whose zones or areas were all mistyped hears about those, not this.
    let scope_typed = !zones.iter().chain(areas).all(|s| s.trim().is_empty());
    if role == Some(Role::ZoneWorker) && scope.is_empty() && !scope_typed {
        note(Problem::NeedsScope);
    }
    Some((display?, role?, scope.into_iter().collect()))
}

/// Binds a checked profile to its partner: for a partner account, its scope becomes the one
/// row of kind `partner` naming `partner`, which must be an active partner of the directory
/// (zones and areas typed with it are dropped: a partner works no area). Any other role
/// ignores `partner` and keeps its scope.
pub async fn bind_partner(
    store: &Store,
    role: Role,
    partner: &str,
    scope: &mut Vec<ScopeEntry>,
) -> Result<Result<(), Problem>, WebError> {
    if role != Role::Partner {
        return Ok(Ok(()));
    }
    let code = partner.trim();
    if code.is_empty() {
        return Ok(Err(Problem::PartnerMissing));
    }
    Ok(match store.partner(code).await? {
        Some(p) if p.active => {
            *scope = vec![ScopeEntry {
                kind: PARTNER_SCOPE.into(),
                code: p.code.to_string(),
            }];
            Ok(())
        }
        _ => Err(Problem::UnknownPartner(code.chars().take(40).collect())),
    })
}

/// Checks an account to create: every problem found, one per field.
pub fn check_new(request: &AccountRequest) -> Result<CheckedAccount, Problems> {
    let mut problems = Problems::new();
    let username = request.username.trim();
    if !username_ok(username) {
        problems.insert("username", Problem::Username);
    }
    if request.password.chars().count() < MIN_PASSWORD {
        problems.insert("password", Problem::Password);
    }
    let profile = check_profile(
        username,
        request.display_name.as_deref(),
        &request.role,
        &request.zones,
        &request.areas,
        &mut problems,
    );
    match profile {
        Some((display_name, role, scope)) if problems.is_empty() => Ok(CheckedAccount {
            username: username.to_owned(),
            display_name,
            role,
            scope,
        }),
        _ => Err(problems),
    }
}

/// Checks a changed profile of the account `username`.
pub fn check_profile_change(
    username: &str,
    request: &ProfileRequest,
) -> Result<(String, Role, Vec<ScopeEntry>), Problems> {
    let mut problems = Problems::new();
    match check_profile(
        username,
        Some(&request.display_name),
        &request.role,
        &request.zones,
        &request.areas,
        &mut problems,
    ) {
        Some(profile) if problems.is_empty() => Ok(profile),
        _ => Err(problems),
    }
}

/// Checks a new password and its confirmation.
pub fn check_password(password: &str, confirm: &str) -> Result<(), Problem> {
    if password.chars().count() < MIN_PASSWORD {
        Err(Problem::Password)
    } else if password != confirm {
        Err(Problem::PasswordsDiffer)
    } else {
        Ok(())
    }
}

/// An argon2id hash, computed off the async threads (it takes tens of milliseconds on
/// purpose).
pub async fn hash_off_thread(password: &str) -> Result<String, WebError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// Whether a store error is a second account of the same name: SQLite names no constraint,
/// PostgreSQL reports a unique violation.
fn is_taken(e: &StoreError) -> bool {
    matches!(e, StoreError::Constraint { .. })
        || matches!(e, StoreError::Database { summary, .. } if summary == "UniqueViolation")
}

/// Checks and creates an account; returns its id. Messages are bilingual and never repeat
/// the password. For the command line and the demo: not audited, as the audit log records
/// what is done through the web app. A partner account needs
/// [`create_account_for_partner`].
pub async fn create_account(
    store: &Store,
    request: &AccountRequest,
    now: i64,
) -> Result<i64, WebError> {
    create_account_for_partner(store, request, "", now).await
}

/// [`create_account`], with the partner code a partner account is bound to (checked against
/// the partner directory; ignored for other roles).
pub async fn create_account_for_partner(
    store: &Store,
    request: &AccountRequest,
    partner: &str,
    now: i64,
) -> Result<i64, WebError> {
    let mut checked = check_new(request).map_err(|problems| {
        let first = problems
            .into_values()
            .next()
            .expect("an error has a problem");
        WebError::BadRequest(first.bilingual())
    })?;
    bind_partner(store, checked.role, partner, &mut checked.scope)
        .await?
        .map_err(|p| WebError::BadRequest(p.bilingual()))?;
    if store.user_by_name(&checked.username).await?.is_some() {
        return Err(WebError::BadRequest(Problem::Taken.bilingual()));
    }
    let hash = hash_off_thread(&request.password).await?;
    store
        .add_user(&new_user(&checked, &hash), now)
        .await
        .map_err(|e| {
            if is_taken(&e) {
                WebError::BadRequest(Problem::Taken.bilingual())
            } else {
                e.into()
            }
        })
}

fn new_user<'a>(checked: &'a CheckedAccount, hash: &'a str) -> NewUser<'a> {
    NewUser {
        username: &checked.username,
        display_name: &checked.display_name,
        password_hash: hash,
        role: checked.role.code(),
        scope: &checked.scope,
    }
}

/// An account as the audit log keeps it: everything but the password hash.
fn audit_json(user: &UserRecord) -> serde_json::Value {
    json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "scope": user.scope.iter().map(|e| json!({"kind": e.kind, "code": e.code})).collect::<Vec<_>>(),
    })
}

/// Who changes an account, and when (UTC, as the audit log writes it).
pub(crate) struct Change<'a> {
    pub by: &'a Current,
    pub at: &'a str,
}

impl Change<'_> {
    async fn audit(
        &self,
        tx: &mut Tx,
        action: &str,
        username: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), StoreError> {
        tx.append_audit(&AuditEntry {
            at: self.at.to_owned(),
            actor: self.by.actor(),
            action: action.to_owned(),
            entity: "account".into(),
            entity_key: username.to_owned(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        })
        .await
    }
}

/// The outcome of a change: done (with what it reports), or refused by a rule.
pub(crate) type Outcome<T> = Result<T, Problem>;

/// Creates a checked account in `tx` and audits it; refused when the name is taken. On a
/// refusal the transaction is spent (PostgreSQL aborts it): roll it back.
pub(crate) async fn create_in(
    tx: &mut Tx,
    change: &Change<'_>,
    checked: &CheckedAccount,
    hash: &str,
    now: i64,
) -> Result<Outcome<i64>, WebError> {
    if tx.user_by_name(&checked.username).await?.is_some() {
        return Ok(Err(Problem::Taken));
    }
    let id = match tx.add_user(&new_user(checked, hash), now).await {
        Ok(id) => id,
        Err(e) if is_taken(&e) => return Ok(Err(Problem::Taken)),
        Err(e) => return Err(e.into()),
    };
    let after = tx
        .user_by_name(&checked.username)
        .await?
        .ok_or(WebError::NotFound)?;
    change
        .audit(
            tx,
            "create",
            &checked.username,
            None,
            Some(audit_json(&after)),
        )
        .await?;
    Ok(Ok(id))
}

/// Whether `user` is an active administrator and no other is (`admins`: the active
/// administrators, locked by the transaction).
fn last_admin(user: &UserRecord, admins: &[i64]) -> bool {
    user.active
        && Role::parse(&user.role) == Some(Role::Admin)
        && admins.iter().all(|&id| id == user.id)
}

/// Changes an account's display name, role and scope; returns whether anything changed.
/// Nobody changes their own role, and the last active administrator keeps theirs.
pub(crate) async fn edit(
    tx: &mut Tx,
    change: &Change<'_>,
    username: &str,
    (display_name, role, scope): &(String, Role, Vec<ScopeEntry>),
) -> Result<Outcome<bool>, WebError> {
    // Lock first: what the rule reads must not change before the commit.
    let admins = tx.lock_active_users(Role::Admin.code()).await?;
    let before = tx.user_by_name(username).await?.ok_or(WebError::NotFound)?;
    let role_changes = Role::parse(&before.role) != Some(*role);
    if role_changes && before.id == change.by.user_id {
        return Ok(Err(Problem::OwnAccount));
    }
    if role_changes && last_admin(&before, &admins) {
        return Ok(Err(Problem::LastAdmin));
    }
    if before.display_name == *display_name && !role_changes && before.scope == *scope {
        return Ok(Ok(false));
    }
    tx.update_user(before.id, display_name, role.code(), scope)
        .await?;
    let after = tx.user_by_name(username).await?.ok_or(WebError::NotFound)?;
    change
        .audit(
            tx,
            "update",
            username,
            Some(audit_json(&before)),
            Some(audit_json(&after)),
        )
        .await?;
    Ok(Ok(true))
}

/// Activates or deactivates an account; returns whether it changed. Deactivating ends the
/// account's sessions in the same commit; nobody deactivates themself, and the last active
/// administrator stays active.
pub(crate) async fn set_active(
    tx: &mut Tx,
    change: &Change<'_>,
    username: &str,
    active: bool,
) -> Result<Outcome<bool>, WebError> {
    let admins = tx.lock_active_users(Role::Admin.code()).await?;
    let before = tx.user_by_name(username).await?.ok_or(WebError::NotFound)?;
    if !active && before.id == change.by.user_id {
        return Ok(Err(Problem::OwnAccount));
    }
    if !active && last_admin(&before, &admins) {
        return Ok(Err(Problem::LastAdmin));
    }
    if before.active == active {
        return Ok(Ok(false));
    }
    tx.set_user_active(before.id, active).await?;
    let ended = if active {
        0
    } else {
        tx.end_user_sessions(before.id, None).await?
    };
    let mut after = audit_json(&UserRecord {
        active,
        ..before.clone()
    });
    after["sessions_ended"] = json!(ended);
    let action = if active { "activate" } else { "deactivate" };
    change
        .audit(tx, action, username, Some(audit_json(&before)), Some(after))
        .await?;
    Ok(Ok(true))
}

/// Forgets the account's failed sign-ins, so that a locked account may sign in again at
/// once; returns how many there were (nothing is audited when there were none).
pub(crate) async fn unlock(
    tx: &mut Tx,
    change: &Change<'_>,
    username: &str,
) -> Result<u64, WebError> {
    let user = tx.user_by_name(username).await?.ok_or(WebError::NotFound)?;
    let cleared = tx
        .clear_login_failures(&account_subject(&user.username))
        .await?;
    if cleared > 0 {
        change
            .audit(
                tx,
                "unlock",
                username,
                Some(json!({"username": user.username, "failed_sign_ins": cleared})),
                Some(json!({"username": user.username, "failed_sign_ins": 0})),
            )
            .await?;
    }
    Ok(cleared)
}

/// Sets an account's password hash and ends its sessions (but the changer's own, when they
/// change their own password); returns the sessions ended. The audit says the password
/// changed, nothing of it.
pub(crate) async fn set_password(
    tx: &mut Tx,
    change: &Change<'_>,
    username: &str,
    hash: &str,
) -> Result<u64, WebError> {
    let user = tx.user_by_name(username).await?.ok_or(WebError::NotFound)?;
    tx.set_user_password_hash(user.id, hash).await?;
    let keep = (user.id == change.by.user_id).then_some(change.by.session_hash.as_str());
    let ended = tx.end_user_sessions(user.id, keep).await?;
    let mut after = audit_json(&user);
    after["password_changed"] = json!(true);
    after["sessions_ended"] = json!(ended);
    change
        .audit(
            tx,
            "set_password",
            username,
            Some(audit_json(&user)),
            Some(after),
        )
        .await?;
    Ok(ended)
}

/// The demo's accounts: (username, role, scope description).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &[&str]); 4] = [
    ("admin", "ผู้ดูแลระบบ (admin)", "admin", &[]),
    (
        "coordinator",
        "ผู้ประสานงานจังหวัด (coordinator)",
        "coordinator",
        &[],
    ),
    (
        "coast",
        "ผู้ปฏิบัติงานโซนชายฝั่ง (coast zone worker)",
        "zone_worker",
        &["coast"],
    ),
    ("viewer", "ผู้ชม (viewer)", "viewer", &[]),
];

/// The demo's partner account: (username, display name, partner code). The partner is one
/// the demo's cases create (`halve_app::cases::demo`), the provincial hospital.
pub const DEMO_PARTNER_ACCOUNT: (&str, &str, &str) = (
    "hospital",
    "โรงพยาบาลศูนย์ (partner: provincial hospital)",
    "hospital-nst",
);

/// Creates the demo's accounts (one per role; the zone worker works the coast, the partner
/// account answers for the provincial hospital) unless the database has accounts already.
/// Returns whether it created them. The partner account is left out when the registry has
/// no such partner (a demo built without cases).
pub async fn create_demo_accounts(store: &Store, now: i64) -> Result<bool, WebError> {
    if !store.users().await?.is_empty() {
        return Ok(false);
    }
    for (username, display, role, zones) in DEMO_ACCOUNTS {
        create_account(
            store,
            &AccountRequest {
                username: username.into(),
                display_name: Some(display.into()),
                password: DEMO_PASSWORD.into(),
                role: role.into(),
                zones: zones.iter().map(|z| z.to_string()).collect(),
                areas: Vec::new(),
            },
            now,
        )
        .await?;
    }
    let (username, display, partner) = DEMO_PARTNER_ACCOUNT;
    if store.partner(partner).await?.is_some_and(|p| p.active) {
        create_account_for_partner(
            store,
            &AccountRequest {
                username: username.into(),
                display_name: Some(display.into()),
                password: DEMO_PASSWORD.into(),
                role: Role::Partner.code().into(),
                zones: Vec::new(),
                areas: Vec::new(),
            },
            partner,
            now,
        )
        .await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(username: &str, role: &str, zones: &[&str], areas: &[&str]) -> AccountRequest {
        AccountRequest {
            username: username.into(),
            display_name: None,
            password: "long enough password".into(),
            role: role.into(),
            zones: zones.iter().map(|z| z.to_string()).collect(),
            areas: areas.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn a_good_account_is_checked_with_its_scope_resolved_and_deduplicated() {
        let checked = check_new(&request(
            "somsri",
            "worker",
            &["coast", "coast"],
            &["801201", "๘๐๑๒๐๑"],
        ));
        let checked = checked.unwrap();
        assert_eq!(checked.display_name, "somsri", "the username stands in");
        assert_eq!(checked.role, Role::ZoneWorker);
        let kinds: Vec<(&str, &str)> = checked
            .scope
            .iter()
            .map(|e| (e.kind.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(kinds[0], ("area", "801201"));
        assert_eq!(kinds.last().unwrap(), &("zone", "coast"));
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut bad = request("no spaces", "root", &["moon"], &[]);
        bad.password = "short".into();
        bad.display_name = Some("x".repeat(MAX_DISPLAY_NAME + 1));
        let problems = check_new(&bad).unwrap_err();
        assert_eq!(problems["username"], Problem::Username);
        assert_eq!(problems["password"], Problem::Password);
        assert_eq!(problems["role"], Problem::Role);
        assert_eq!(problems["display_name"], Problem::DisplayName);
        assert_eq!(problems["scope"], Problem::UnknownZone("moon".into()));
        for reserved in ["new", ".", ".."] {
            let problems = check_new(&request(reserved, "viewer", &[], &[])).unwrap_err();
            assert_eq!(problems["username"], Problem::Username, "{reserved}");
        }
        let problems = check_new(&request("w", "zone_worker", &[], &[])).unwrap_err();
        assert_eq!(problems["scope"], Problem::NeedsScope);
        let problems = check_new(&request("w", "zone_worker", &[], &["99"])).unwrap_err();
        assert!(matches!(&problems["scope"], Problem::Area { code, .. } if code == "99"));
        assert_eq!(check_password("0123456789", "0123456789"), Ok(()));
        assert_eq!(
            check_password("012345678", "012345678"),
            Err(Problem::Password)
        );
        assert_eq!(
            check_password("0123456789", "0123456780"),
            Err(Problem::PasswordsDiffer)
        );
    }

    #[test]
    fn the_last_active_administrator_is_the_only_one_left() {
        let user = |id, role: &str, active| UserRecord {
            id,
            username: format!("u{id}"),
            display_name: String::new(),
            password_hash: String::new(),
            role: role.into(),
            active,
            scope: Vec::new(),
        };
        assert!(last_admin(&user(1, "admin", true), &[1]));
        assert!(
            last_admin(&user(1, "admin", true), &[]),
            "none locked: keep it"
        );
        assert!(!last_admin(&user(1, "admin", true), &[1, 2]));
        assert!(
            !last_admin(&user(1, "viewer", true), &[1]),
            "not an administrator"
        );
        assert!(
            !last_admin(&user(1, "admin", false), &[2]),
            "already inactive"
        );
    }

    #[test]
    fn messages_are_thai_then_english_and_never_hold_the_password() {
        let mut bad = request("somsri", "viewer", &[], &[]);
        bad.password = "secret99".into();
        let problems = check_new(&bad).unwrap_err();
        let text = problems["password"].bilingual();
        assert!(text.contains("10"), "{text}");
        assert!(!text.contains("secret99"));
        let all = [
            Problem::Username,
            Problem::Taken,
            Problem::DisplayName,
            Problem::Role,
            Problem::Password,
            Problem::PasswordsDiffer,
            Problem::UnknownZone("moon".into()),
            Problem::Area {
                code: "99".into(),
                th: "ไม่มี".into(),
                en: "none".into(),
            },
            Problem::NeedsScope,
            Problem::OwnAccount,
            Problem::LastAdmin,
        ];
        for p in all {
            let (th, en) = (p.message(Lang::Th), p.message(Lang::En));
            assert!(
                th.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)),
                "{p:?}"
            );
            assert!(
                en.is_ascii() && en.len() > 5 && !en.contains('{'),
                "{p:?}: {en}"
            );
            assert!(!th.contains('{'), "{p:?}: {th}");
        }
        assert!(
            Problem::UnknownZone("moon".into())
                .message(Lang::En)
                .contains("coast")
        );
    }
}
