//! The measurement specs and targets: view them, and (admins) edit them, each edit a new
//! version.

use std::sync::Arc;

use axum::Router;

use crate::AppState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
