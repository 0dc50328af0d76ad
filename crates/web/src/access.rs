//! Who is asking and what they may see: roles and areas, sessions, sign-in with throttling,
//! CSRF protection and the security headers, all in one request layer so that no route can
//! forget them.
//!
//! [`layer`] runs before every route. It reads the session cookie and puts the signed-in
//! [`Current`] user (or none) into the request; it refuses any POST whose synchronizer token
//! (form field or query parameter `csrf`) does not match the session's, or, before sign-in,
//! the sign-in cookie's; and it adds the security headers to every response. Routes then ask
//! [`Current`] what the user may do: [`Role`] says which kinds of data, [`Scope`] which
//! households.
//!
//! Sign-in is throttled per account and per client address. Behind a reverse proxy every
//! connection comes from the proxy, so the layer also puts the client's address, as the
//! proxies listed in [`crate::Config::trusted_proxies`] report it ([`client_ip`]), in place of
//! the peer's in the request's `ConnectInfo`, as a proxy's own "real IP" module would: what
//! runs after it, the sign-in throttle above all, sees the client. A header from any other
//! peer is never believed, since anyone can send one.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use halve_domain::{AreaCode, EcoZoneSet};
use halve_store::{AreaFilter, ScopeEntry, UserRecord};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "halve_session";
/// The double-submit cookie of the sign-in form, the one form sent before a session exists.
pub const LOGIN_COOKIE: &str = "halve_login";
pub const LANG_COOKIE: &str = "halve_lang";

/// What a user may do, by kind of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    /// Provincial coordinator: every area, names and records, but citizen IDs masked.
    Coordinator,
    /// Sees and records only the households of their zones or areas.
    ZoneWorker,
    /// Aggregates only: never a person's or a household's data.
    Viewer,
    /// An account of a partner agency, bound to one partner code: only the referrals sent
    /// to that partner (see [`partner_may_visit`]).
    Partner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Coordinator,
        Role::ZoneWorker,
        Role::Viewer,
        Role::Partner,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::ZoneWorker => "zone_worker",
            Role::Viewer => "viewer",
            Role::Partner => "partner",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        let s = raw.trim().to_lowercase().replace('-', "_");
        match s.as_str() {
            "coordinator" | "provincial_coordinator" => Some(Role::Coordinator),
            "worker" => Some(Role::ZoneWorker),
            _ => Role::ALL.into_iter().find(|r| r.code() == s),
        }
    }

    /// Households, persons and assessments, within the user's scope.
    pub fn sees_records(self) -> bool {
        !matches!(self, Role::Viewer | Role::Partner)
    }

    /// Whole citizen IDs: those who verify identities in the field, and administrators.
    pub fn sees_citizen_ids(self) -> bool {
        matches!(self, Role::Admin | Role::ZoneWorker)
    }

    pub fn records_assessments(self) -> bool {
        !matches!(self, Role::Viewer | Role::Partner)
    }

    pub fn imports(self) -> bool {
        matches!(self, Role::Admin | Role::Coordinator)
    }
}

/// The households a user may see: everything, or those in some eco-zones or areas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub everywhere: bool,
    pub zones: Vec<String>,
    pub areas: Vec<AreaCode>,
}

impl Scope {
    /// The scope of a stored account: admins, coordinators and viewers see every area; a
    /// zone worker sees their zones and areas only (nothing when they have none); a partner
    /// account sees no area at all (its one scope row names its partner, not a place).
    pub fn of(role: Role, entries: &[ScopeEntry]) -> Scope {
        let mut scope = Scope {
            everywhere: !matches!(role, Role::ZoneWorker | Role::Partner),
            zones: Vec::new(),
            areas: Vec::new(),
        };
        for e in entries {
            match e.kind.as_str() {
                "zone" if role != Role::Partner => scope.zones.push(e.code.clone()),
                // A stored code that no longer parses widens nothing: it is skipped.
                "area" if role != Role::Partner => {
                    scope.areas.extend(AreaCode::parse_syntax(&e.code).ok())
                }
                _ => {}
            }
        }
        scope
    }

    /// Whether a household of this village is visible.
    pub fn allows(&self, village: AreaCode, zones: &EcoZoneSet) -> bool {
        self.everywhere
            || self.areas.iter().any(|a| a.contains(village))
            || zones
                .zone_of(village)
                .is_some_and(|z| self.zones.contains(&z.code))
    }

    /// The same scope as code prefixes for the store's searches. It may let through a little
    /// more than [`Scope::allows`] (a subdistrict moved into another zone), never less; callers
    /// check every hit with `allows`.
    pub fn filter(&self, zones: &EcoZoneSet) -> AreaFilter {
        if self.everywhere {
            return AreaFilter::default();
        }
        let mut include: Vec<String> = self.areas.iter().map(|a| a.to_string()).collect();
        for zone in zones.zones.iter().filter(|z| self.zones.contains(&z.code)) {
            include.extend(zone.districts.iter().map(|d| d.to_string()));
            include.extend(zone.subdistricts.iter().map(|s| s.to_string()));
        }
        AreaFilter {
            nothing: include.is_empty(),
            include,
            exclude: Vec::new(),
        }
    }
}

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct Current {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// The session's synchronizer token, for the forms of the page.
    pub csrf: String,
    /// SHA-256 of the session token: one-time form tokens are tied to it.
    pub session_hash: String,
    /// For a partner account, the code of its partner (its scope row of kind `partner`).
    pub partner: Option<String>,
}

impl Current {
    fn from_record(user: &UserRecord, csrf: String, session_hash: String) -> Option<Current> {
        let role = Role::parse(&user.role)?;
        let partner = partner_of(role, &user.scope);
        // A partner account that lost its partner row is no account: it may see nothing.
        if role == Role::Partner && partner.is_none() {
            return None;
        }
        Some(Current {
            user_id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role,
            scope: Scope::of(role, &user.scope),
            csrf,
            session_hash,
            partner,
        })
    }

    /// The actor written in the audit log.
    pub fn actor(&self) -> String {
        format!("web:{}", self.username)
    }

    /// Refuses roles that may not see records.
    pub fn require_records(&self) -> Result<(), WebError> {
        if self.role.sees_records() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }
}

/// The partner code of a partner account's scope; `None` for every other role, whatever
/// rows it has.
pub fn partner_of(role: Role, entries: &[ScopeEntry]) -> Option<String> {
    (role == Role::Partner)
        .then(|| entries.iter().find(|e| e.kind == PARTNER_SCOPE))
        .flatten()
        .map(|e| e.code.clone())
}

/// The `kind` of the scope row that binds a partner account to its partner.
pub const PARTNER_SCOPE: &str = "partner";

/// Whether a partner account may open `path` at all. Partner accounts are outsiders to the
/// council: they get their inbox, the strategy results (aggregates the council publishes)
/// and signing out; the home page sends them to their inbox (the dashboard's area figures
/// are not theirs to browse), and every other page and the whole API answer 403 before any
/// handler runs, so a page added later is closed to them until it is listed here.
pub fn partner_may_visit(path: &str) -> bool {
    matches!(path, "/inbox" | "/strategies" | "/logout" | "/login")
        || path.starts_with("/inbox/")
        || path.starts_with("/static/")
}

/// The request's user, or a redirect to the sign-in page (pages) / 401 (API).
impl FromRequestParts<Arc<AppState>> for Current {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Option<Current>>() {
            Some(Some(current)) => Ok(current.clone()),
            _ if parts.uri.path().starts_with("/api/") => Err(WebError::Unauthenticated),
            _ => Err(WebError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            }),
        }
    }
}

/// The signed-in user if any, for pages that also serve visitors (the sign-in page).
pub struct MaybeCurrent(pub Option<Current>);

impl FromRequestParts<Arc<AppState>> for MaybeCurrent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeCurrent(
            parts.extensions.get::<Option<Current>>().cloned().flatten(),
        ))
    }
}

/// 32 random bytes from the operating system, as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex(&bytes)
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// An argon2id PHC string of a password (default parameters: 19 MiB, 2 passes). Slow on
/// purpose: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, WebError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| WebError::Internal("password hashing failed".into()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A well-formed hash of no one's password, verified against when the account does not
/// exist, so that a wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password(&random_token()).expect("hashing a random password")
    });
    &DECOY
}

/// Why a sign-in failed; the page says the same thing for a wrong name or a wrong password.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    Wrong,
    /// Too many failures lately: try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
}

/// Checks a name and password with throttling; on success opens a session and returns its
/// token (for the cookie). `client` is the request's `ConnectInfo`: behind a trusted proxy,
/// the client the proxy names (see [`layer`]).
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<SocketAddr>,
) -> Result<Result<String, SignInError>, WebError> {
    let now = state.now();
    let config = &state.config;
    let since = now - config.throttle_window_secs;
    let account = account_subject(username);
    let ip = client.map(|c| format!("ip:{}", c.ip()));
    let mut retry_after = account_locked_for(state, username).await?;
    if let Some(ip) = &ip {
        let (failures, first) = state.store.login_failures_since(ip, since).await?;
        if failures >= config.max_failures_per_ip {
            let wait = first.map(|f| f + config.throttle_window_secs - now);
            retry_after = retry_after.max(wait);
        }
    }
    if let Some(wait) = retry_after {
        tracing::warn!("sign-in refused: too many recent failures");
        return Ok(Err(SignInError::Throttled {
            retry_after: wait.max(1),
        }));
    }

    let user = state
        .store
        .user_by_name(username.trim())
        .await?
        .filter(|u| u.active);
    let phc = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| matches) else {
        let mut subjects = vec![account.as_str()];
        subjects.extend(ip.as_deref());
        state.store.record_login_failure(&subjects, now).await?;
        return Ok(Err(SignInError::Wrong));
    };
    state.store.clear_login_failures(&account).await?;
    // Sign-ins are rare enough to carry the housekeeping: expired sessions, form tokens
    // older than a day, failures older than the throttling window.
    state.store.prune_access(now, now - 86_400, since).await?;
    let token = random_token();
    state
        .store
        .create_session(
            &token_hash(&token),
            user.id,
            &random_token(),
            now,
            now + config.session_idle_secs,
        )
        .await?;
    Ok(Ok(token))
}

/// The subject an account's failed sign-ins are counted under: the name as typed at sign-in,
/// trimmed and lower-cased, so that `Admin` and `admin ` count as one.
pub(crate) fn account_subject(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

/// Seconds until an account may try to sign in again, when too many recent failures lock it
/// out now; `None` when it may try.
pub(crate) async fn account_locked_for(
    state: &AppState,
    username: &str,
) -> Result<Option<i64>, WebError> {
    let now = state.now();
    let window = state.config.throttle_window_secs;
    let (failures, first) = state
        .store
        .login_failures_since(&account_subject(username), now - window)
        .await?;
    Ok(if failures >= state.config.max_failures_per_account {
        first.map(|f| f + window - now)
    } else {
        None
    })
}

/// The client's address, for a request that came from `peer`: the peer itself unless it is
/// one of the `trusted` proxies; then the right-most address in `X-Forwarded-For` (every such
/// header, in order) that is not a trusted proxy. Each proxy appends the address it was
/// reached from, so reading from the right stops at the first address no trusted proxy
/// vouches for: anything left of it the client may have written itself. Entries that are no
/// address are skipped (`addr:port` and `[v6]:port` count as their address); when none is
/// left, the peer stands. IPv4-mapped IPv6 addresses are read as IPv4, so one client has
/// one address whichever socket took it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    if !is_trusted(peer) {
        return peer;
    }
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    values
        .iter()
        .flat_map(|v| v.split(','))
        .rev()
        .filter_map(forwarded_entry)
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

/// One entry of `X-Forwarded-For`, if it is an address.
fn forwarded_entry(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .or_else(|_| raw.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Puts the client's address in place of a trusted proxy's in the request's `ConnectInfo`
/// (see the module documentation). Without `ConnectInfo` (in-process tests) nothing changes.
fn resolve_client(state: &AppState, parts: &mut Parts) {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
        return;
    };
    let client = client_ip(peer.ip(), &parts.headers, &state.config.trusted_proxies);
    if client != peer.ip() {
        // The port was the proxy's (or the same peer's, when only the form of the address
        // changed); no one reads it but for logs.
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(client, 0)));
    }
}

/// `Set-Cookie` for a cookie of this app.
pub fn cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie names and values are ASCII tokens")
}

/// The value of a request cookie.
pub fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The `csrf` field of a URL-encoded body or query string.
fn csrf_field(encoded: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(encoded);
    pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v)
}

fn serde_urlencoded_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(encoded).unwrap_or_default()
}

/// Resolves the session, enforces CSRF on POST, remembers the language asked for, and adds
/// the security headers. See the module documentation.
pub async fn layer(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    resolve_client(&state, &mut parts);
    let is_static = parts.uri.path().starts_with("/static/");
    let mut current = None;
    if !is_static {
        match resolve_session(&state, &parts.headers).await {
            Ok(c) => current = c,
            Err(e) => return with_headers(e.into_response(), false),
        }
    }
    let body = if parts.method == Method::POST {
        match check_csrf(&state, &parts, current.as_ref(), body).await {
            Ok(body) => body,
            Err(e) => return with_headers(e.into_response(), false),
        }
    } else {
        body
    };
    let lang_asked = Lang::from_query(parts.uri.query());
    if current.as_ref().is_some_and(|c| c.role == Role::Partner) {
        let path = parts.uri.path();
        if path == "/" {
            let to = axum::response::Redirect::to("/inbox").into_response();
            return with_headers(to, false);
        }
        if !partner_may_visit(path) {
            return with_headers(WebError::Forbidden.into_response(), false);
        }
    }
    parts.extensions.insert(current);
    parts.extensions.insert(Lang::of(&parts));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(lang) = lang_asked {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookie(&state, LANG_COOKIE, lang.code(), 365 * 86_400),
        );
    }
    with_headers(response, is_static)
}

async fn resolve_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Current>, WebError> {
    let Some(token) = read_cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let now = state.now();
    let Some(session) = state.store.session(&hash, now).await? else {
        return Ok(None);
    };
    // Sliding expiry, written at most once a minute per session to spare the database.
    if now - session.last_seen >= 60 {
        state
            .store
            .touch_session(&hash, now, now + state.config.session_idle_secs)
            .await?;
    }
    Ok(Current::from_record(
        &session.user,
        session.csrf_token,
        hash,
    ))
}

/// Refuses a POST without the right synchronizer token; returns the body to pass on.
async fn check_csrf(
    state: &AppState,
    parts: &Parts,
    current: Option<&Current>,
    body: Body,
) -> Result<Body, WebError> {
    // A browser names the page a form came from; another site's page is refused outright.
    if let (Some(origin), Some(host)) = (
        parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) && origin != "null"
        && origin.split_once("://").map(|(_, h)| h) != Some(host)
    {
        return Err(WebError::Csrf);
    }
    let expected = match current {
        Some(c) => c.csrf.clone(),
        None if parts.uri.path() == "/login" => match read_cookie(&parts.headers, LOGIN_COOKIE) {
            Some(v) if !v.is_empty() => v.to_owned(),
            _ => return Err(WebError::Csrf),
        },
        // Nothing else may be posted without a session: sign in first.
        None => {
            return Err(WebError::SignIn { next: "/".into() });
        }
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (given, body) = if is_form {
        let bytes: Bytes = axum::body::to_bytes(body, state.config.max_upload_bytes)
            .await
            .map_err(|_| WebError::TooLarge)?;
        (csrf_field(&bytes), Body::from(bytes))
    } else {
        // Uploads (multipart) carry the token in the form's action URL instead.
        (
            parts.uri.query().and_then(|q| csrf_field(q.as_bytes())),
            body,
        )
    };
    match given {
        Some(given) if same_secret(&given, &expected) => Ok(body),
        _ => {
            tracing::warn!(
                path = parts.uri.path(),
                "POST refused: bad or missing CSRF token"
            );
            Err(WebError::Csrf)
        }
    }
}

/// The headers every response carries. No page runs script, so the policy allows none.
fn with_headers(mut response: Response, is_static: bool) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    if is_static {
        set(h, header::CACHE_CONTROL, "public, max-age=86400");
    } else {
        // Pages hold personal data: no shared or back-button copies of them.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// The client address, when the server knows it (not in in-process tests).
pub fn client_addr(parts_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halve_domain::AreaTree;

    #[test]
    fn roles_parse_and_say_what_they_may_see() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(
            Role::parse("provincial-coordinator"),
            Some(Role::Coordinator)
        );
        assert!(Role::parse("root").is_none());
        assert!(!Role::Viewer.sees_records());
        assert!(!Role::Coordinator.sees_citizen_ids());
        assert!(Role::ZoneWorker.sees_citizen_ids());
    }

    #[test]
    fn scopes_follow_zones_and_areas() {
        let zones = EcoZoneSet::shipped_nakhon_si_thammarat();
        let tree = AreaTree::shipped();
        let city_village = AreaCode::village(tree.resolve("800101").unwrap(), 1).unwrap();
        let coast_village = AreaCode::village(tree.resolve("801201").unwrap(), 1).unwrap();
        let coast = Scope::of(
            Role::ZoneWorker,
            &[ScopeEntry {
                kind: "zone".into(),
                code: "coast".into(),
            }],
        );
        assert!(coast.allows(coast_village, &zones));
        assert!(!coast.allows(city_village, &zones));
        let filter = coast.filter(&zones);
        assert!(filter.include.iter().any(|c| c == "8012"));
        let area = Scope::of(
            Role::ZoneWorker,
            &[ScopeEntry {
                kind: "area".into(),
                code: "800101".into(),
            }],
        );
        assert!(area.allows(city_village, &zones));
        assert!(!area.allows(coast_village, &zones));
        let nothing = Scope::of(Role::ZoneWorker, &[]);
        assert!(!nothing.allows(city_village, &zones));
        assert!(nothing.filter(&zones).nothing);
        assert!(Scope::of(Role::Coordinator, &[]).allows(coast_village, &zones));
    }

    #[test]
    fn tokens_are_random_hex_and_compared_in_full() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(token_hash("x").len(), 64);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &a[..63]));
    }

    /// The client of a request from `peer` with these `X-Forwarded-For` headers, behind the
    /// proxies 10.0.0.1 and 10.0.0.2.
    fn client(peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let trusted: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        client_ip(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"]), "203.0.113.9");
        assert_eq!(client("203.0.113.9", &[]), "203.0.113.9");
        // Through one proxy: the address it appended.
        assert_eq!(client("10.0.0.1", &["198.51.100.1"]), "198.51.100.1");
        // What the client wrote itself is left of what the proxy appended: not believed.
        assert_eq!(
            client("10.0.0.1", &["1.1.1.1, 2.2.2.2, 198.51.100.1"]),
            "198.51.100.1"
        );
        // Through two proxies: past both, to the first address neither vouches for.
        assert_eq!(
            client("10.0.0.2", &["6.6.6.6, 198.51.100.1, 10.0.0.1"]),
            "198.51.100.1"
        );
        // Several headers are one list, in order.
        assert_eq!(
            client("10.0.0.2", &["6.6.6.6", "198.51.100.1", "10.0.0.1"]),
            "198.51.100.1"
        );
        // Malformed entries are skipped; ports and brackets are read through.
        assert_eq!(
            client("10.0.0.1", &["198.51.100.1, unknown, , 999.1.1.1"]),
            "198.51.100.1"
        );
        assert_eq!(client("10.0.0.1", &["198.51.100.1:4711"]), "198.51.100.1");
        assert_eq!(client("10.0.0.1", &["[2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(client("10.0.0.1", &["2001:db8::7"]), "2001:db8::7");
        // Nothing usable, or only proxies: the peer stands.
        assert_eq!(client("10.0.0.1", &[]), "10.0.0.1");
        assert_eq!(client("10.0.0.1", &["garbage"]), "10.0.0.1");
        assert_eq!(client("10.0.0.2", &["10.0.0.1"]), "10.0.0.2");
        // A proxy seen over an IPv6 socket as an IPv4-mapped address is still that proxy, and
        // a mapped client address is its IPv4 one.
        assert_eq!(
            client("::ffff:10.0.0.1", &["::ffff:198.51.100.1"]),
            "198.51.100.1"
        );
        assert_eq!(client("::ffff:203.0.113.9", &["1.1.1.1"]), "203.0.113.9");
    }

    #[test]
    fn failures_of_one_account_count_under_one_subject() {
        assert_eq!(account_subject(" Admin "), "user:admin");
        assert_eq!(account_subject("admin"), account_subject("ADMIN"));
    }

    #[test]
    fn csrf_fields_are_read_from_encoded_forms() {
        assert_eq!(csrf_field(b"a=1&csrf=abc%20d"), Some("abc d".into()));
        assert_eq!(csrf_field(b"a=1"), None);
    }
}
