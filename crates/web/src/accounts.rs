//! Creating accounts, from the `halve user` command and for the demo: the checks on a role,
//! its areas and the password, then the hash and the store.

use halve_domain::{AreaTree, EcoZoneSet};
use halve_store::{NewUser, ScopeEntry, Store};

use crate::WebError;
use crate::access::{Role, hash_password};

/// The password of the demo's accounts, printed by `halve demo`. Demo data only: the demo
/// refuses to write into a registry that holds anything else.
pub const DEMO_PASSWORD: &str = "halve-demo-2566";

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

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

/// Checks and creates an account; returns its id. Messages are bilingual and never repeat
/// the password.
pub async fn create_account(
    store: &Store,
    request: &AccountRequest,
    now: i64,
) -> Result<i64, WebError> {
    let bad = |m: &str| Err(WebError::BadRequest(m.to_owned()));
    let username = request.username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
    {
        return bad("ชื่อผู้ใช้ต้องเป็นอักษรอังกฤษ ตัวเลข หรือ . _ - @ ไม่เกิน 64 ตัว \
             (a username is 1 to 64 letters, digits or . _ - @)");
    }
    let Some(role) = Role::parse(&request.role) else {
        return bad("บทบาทต้องเป็น admin, coordinator, zone_worker หรือ viewer \
             (the role is admin, coordinator, zone_worker or viewer)");
    };
    if request.password.chars().count() < MIN_PASSWORD {
        return bad("รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร (a password has at least 10 characters)");
    }
    let zones = EcoZoneSet::shipped_nakhon_si_thammarat();
    let mut scope = Vec::new();
    for z in &request.zones {
        if !zones.zones.iter().any(|known| known.code == *z) {
            let list: Vec<&str> = zones.zones.iter().map(|z| z.code.as_str()).collect();
            return Err(WebError::BadRequest(format!(
                "ไม่รู้จักโซน \"{z}\" ใช้ได้: {0} (unknown zone \"{z}\"; use one of {0})",
                list.join(", ")
            )));
        }
        scope.push(ScopeEntry {
            kind: "zone".into(),
            code: z.clone(),
        });
    }
    for a in &request.areas {
        let code = AreaTree::shipped().resolve(a).map_err(|e| {
            WebError::BadRequest(format!(
                "รหัสพื้นที่ \"{a}\": {} (area code \"{a}\": {})",
                e.th, e.en
            ))
        })?;
        scope.push(ScopeEntry {
            kind: "area".into(),
            code: code.to_string(),
        });
    }
    if role == Role::ZoneWorker && scope.is_empty() {
        return bad("ผู้ปฏิบัติงานโซนต้องมี --zone หรือ --area อย่างน้อยหนึ่ง \
             (a zone worker needs at least one --zone or --area)");
    }
    if store.user_by_name(username).await?.is_some() {
        return bad("มีชื่อผู้ใช้นี้แล้ว (this username is taken)");
    }
    let password = request.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let display = request
        .display_name
        .clone()
        .unwrap_or_else(|| username.to_owned());
    let id = store
        .add_user(
            &NewUser {
                username,
                display_name: &display,
                password_hash: &hash,
                role: role.code(),
                scope: &scope,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            halve_store::StoreError::Constraint { .. } => {
                WebError::BadRequest("มีชื่อผู้ใช้นี้แล้ว (this username is taken)".into())
            }
            other => other.into(),
        })?;
    Ok(id)
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

/// Creates the demo's four accounts (one per role; the zone worker works the coast) unless
/// the database has accounts already. Returns whether it created them.
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
    Ok(true)
}
