//! Errors of the application layer, each worded for the person who must act on it.

use halve_io::{ErrorReport, ReadError};
use halve_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input had errors; nothing was written. Each file's report lists its errors with
    /// their lines.
    #[error("{}", reports_text(.0))]
    Rejected(Vec<ErrorReport>),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn reports_text(reports: &[ErrorReport]) -> String {
    let mut out = String::from(
        "ข้อมูลมีข้อผิดพลาด ไม่ได้บันทึกอะไรเลย (the input has errors; nothing was written):\n",
    );
    for r in reports {
        out.push_str(&r.to_string());
    }
    out
}
