//! The what-if page: other cutoffs or weights, or an intervention that solves chosen
//! indicators for selected households, computed on copies; live data never changes.

use std::sync::Arc;

use axum::Router;

use crate::AppState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
