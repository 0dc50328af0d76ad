//! The one error type of the domain parsers, bilingual because it is shown to council workers.

use std::fmt;

/// Why a piece of text could not become a domain value.
///
/// Messages never contain the offending value: it may be a citizen ID or an income, and these
/// errors end up in logs and downloadable error reports. The caller knows the line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// A stable machine-readable code, e.g. `citizen_id.check_digit`.
    pub code: &'static str,
    pub th: String,
    pub en: String,
}

impl ParseError {
    pub fn new(code: &'static str, th: impl Into<String>, en: impl Into<String>) -> Self {
        ParseError {
            code,
            th: th.into(),
            en: en.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.th, self.en)
    }
}

impl std::error::Error for ParseError {}
