//! Charts and maps drawn on the server as SVG: accessible (title, labels, a table beside
//! them) and printable.

use std::sync::Arc;

use axum::Router;

use crate::AppState;

/// This module's routes, merged into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
