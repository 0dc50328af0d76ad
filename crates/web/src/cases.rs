//! Case management pages: a household's case with its needs, plan, referrals and visits,
//! and a worker's caseload.

use std::sync::Arc;

use axum::Router;

use crate::AppState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
