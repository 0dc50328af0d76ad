//! The application layer: what halve does, independent of how it is asked.
//!
//! The `halve` command and (later) the web app call these functions and nothing below them, so
//! no business rule lives in a CLI command or a route handler. Long work reports through
//! [`Progress`]; failures come back as [`AppError`], worded for the council's workers.

pub mod assess;
pub mod boundaries;
pub mod cases;
pub mod clock;
pub mod demo;
pub mod error;
pub mod export;
pub mod import;
pub mod kinds;
pub mod live;
pub mod measure;
pub mod progress;
pub mod registry_edit;
pub mod target;
pub mod versions;

pub use error::AppError;
pub use progress::{NoProgress, Progress};
