//! The web app of halve: the pages council workers and coordinators use from a phone, and
//! the JSON API, served by axum from one binary.
//!
//! Pages are rendered on the server from minijinja templates embedded in the binary, Thai
//! first with an English switch, and work without JavaScript. Every request passes through
//! [`access`]: the session is read from the database, every POST must carry the session's
//! synchronizer token, and every response carries the security headers. What a user may see
//! follows their role and areas ([`access::Role`], [`access::Scope`]). Figures come from the
//! live [`halve_app::measure::RegistrySnapshot`], which an assessment recorded here patches
//! in place; no route computes poverty itself, and every figure names its spec.
//!
//! This crate speaks no SQL: it calls `halve-store` and `halve-app`.

pub mod access;
pub mod accounts;
mod api;
mod assess;
mod cases;
mod charts;
mod error;
mod events;
mod household;
mod i18n;
mod import_page;
mod live;
mod pages;
mod partners;
mod render;
mod specs;
mod target_panel;
mod users;
mod whatif;

/// The templates and word lists, listed by `build.rs`.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use halve_app::clock::Clock;
use halve_domain::{AreaTree, EcoZoneSet};
use halve_measure::Spec;
use halve_store::Store;

pub use error::WebError;
pub use live::Live;

/// How the server behaves; [`Config::new`] gives the defaults for a spec.
#[derive(Clone, Debug)]
pub struct Config {
    /// The measurement spec the dashboard and the assessment form use.
    pub spec: Spec,
    /// Whether cookies get the `Secure` flag (true unless served on loopback over HTTP).
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle_secs: i64,
    /// Failed sign-ins counted over this window…
    pub throttle_window_secs: i64,
    /// …lock the account after this many…
    pub max_failures_per_account: i64,
    /// …and the client address after this many.
    pub max_failures_per_ip: i64,
    /// The largest upload the import page takes, in bytes.
    pub max_upload_bytes: usize,
    /// The target the dashboard's progress panel follows.
    pub target: halve_measure::Target,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see
    /// [`access::client_ip`]); empty: the connection's peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Config {
    pub fn new(spec: Spec) -> Config {
        Config {
            spec,
            secure_cookies: true,
            session_idle_secs: 8 * 3600,
            throttle_window_secs: 15 * 60,
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            max_upload_bytes: 64 * 1024 * 1024,
            target: halve_app::target::parse_target(
                halve_app::target::shipped_target(halve_app::target::DEFAULT_TARGET)
                    .expect("the default target is shipped"),
                halve_app::target::DEFAULT_TARGET,
            )
            .expect("the shipped default target parses (tested in halve-app)"),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything a request handler may use.
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub live: Live,
    /// The eco-zones in force (the shipped draft until zones are edited in the app).
    pub zones: EcoZoneSet,
    pub tree: &'static AreaTree,
    templates: render::Templates,
    target_panel: Arc<target_panel::TargetPanel>,
}

impl AppState {
    /// Reads the registry into the live snapshot and prepares the templates.
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<Arc<AppState>, WebError> {
        let live = Live::build(&store, &config.spec).await?;
        let target_panel = target_panel::TargetPanel::new(config.target.clone(), &config.spec);
        target_panel.refresh(&store, live.generation(), clock.now_iso());
        Ok(Arc::new(AppState {
            store,
            clock,
            config,
            live,
            zones: EcoZoneSet::shipped_nakhon_si_thammarat(),
            tree: AreaTree::shipped(),
            templates: render::Templates::new(),
            target_panel,
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// The target panel's last finished run, after asking for a new run if the live figures
    /// have moved since (the run itself happens in the background).
    pub(crate) async fn target_state(&self) -> target_panel::PanelState {
        self.target_panel
            .refresh(&self.store, self.live.generation(), self.clock.now_iso());
        self.target_panel.state().await
    }
}

/// Every route of the app, with the access and security layer around them.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/areas", get(pages::areas_root))
        .route("/areas/{code}", get(pages::area))
        .route("/search", get(household::search))
        .route("/households/{code}", get(household::household))
        .route(
            "/households/{code}/assess",
            get(assess::form).post(assess::submit),
        )
        .route(
            "/import",
            get(import_page::import_form).post(import_page::import),
        )
        .route("/static/style.css", get(render::stylesheet))
        .route("/api/measures", get(api::measures))
        .route("/api/progress", get(api::progress))
        .route("/api/households", get(api::households))
        .route("/api/households/{code}", get(api::household))
        .merge(whatif::routes())
        .merge(charts::routes())
        .merge(specs::routes())
        .merge(events::routes())
        .merge(users::routes())
        .merge(cases::routes())
        .merge(partners::routes())
        .fallback(pages::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_upload_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::layer,
        ))
        .with_state(state)
}

/// Serves the app on `listener` until the process ends.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
