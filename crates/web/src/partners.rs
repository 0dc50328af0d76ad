//! Partner agencies' pages: the referral inbox partner users work from, the partner
//! directory, and the strategy results.

use std::sync::Arc;

use axum::Router;

use crate::AppState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
