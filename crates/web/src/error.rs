//! Errors of the web app and the HTTP status each one becomes, decided here at the edge only.
//!
//! Pages get a short bilingual page, the API a JSON object; neither repeats a stored value.
//! A refused household looks exactly like a missing one (404), so that asking by code does
//! not tell a user outside the household's area that it exists.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use halve_app::AppError;
use halve_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in, on a page: go to the sign-in page, then back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    /// Not signed in, on the API.
    #[error("not signed in")]
    Unauthenticated,
    /// The role may not see this kind of data.
    #[error("forbidden")]
    Forbidden,
    /// No such record, or one outside the user's areas.
    #[error("not found")]
    NotFound,
    #[error("bad or missing CSRF token")]
    Csrf,
    #[error("request too large")]
    TooLarge,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Store(_) | WebError::App(_) | WebError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// (Thai, English) words for the person who got the error.
    pub fn words(&self) -> (&'static str, &'static str) {
        match self {
            WebError::SignIn { .. } | WebError::Unauthenticated => {
                ("กรุณาเข้าสู่ระบบ", "Please sign in")
            }
            WebError::Forbidden => ("บัญชีของคุณไม่มีสิทธิ์ดูข้อมูลนี้", "Your account may not see this"),
            WebError::NotFound => ("ไม่พบข้อมูลที่ขอ", "Not found"),
            WebError::Csrf => (
                "แบบฟอร์มไม่ถูกต้องหรือหมดอายุ กรุณาเปิดหน้าเดิมใหม่แล้วส่งอีกครั้ง",
                "The form is invalid or has expired: reload the page and send it again",
            ),
            WebError::TooLarge => ("ไฟล์หรือข้อมูลใหญ่เกินไป", "The upload is too large"),
            WebError::BadRequest(_) => ("คำขอไม่ถูกต้อง", "Bad request"),
            WebError::Store(_) | WebError::App(_) | WebError::Internal(_) => (
                "ระบบขัดข้อง กรุณาลองใหม่ภายหลัง",
                "Something went wrong; please try again later",
            ),
        }
    }

    fn log(&self) {
        if self.status().is_server_error() {
            // Store errors carry codes and constraint names only, never a stored value.
            tracing::error!(error = %self, "request failed");
        }
    }

    /// The JSON form, for the API.
    pub fn into_json(self) -> Response {
        self.log();
        let (th, en) = self.words();
        let body = serde_json::json!({ "error": en, "error_th": th });
        (self.status(), axum::Json(body)).into_response()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        if let WebError::SignIn { next } = &self {
            let target = format!(
                "/login?next={}",
                serde_urlencoded::to_string([("n", next.as_str())])
                    .map(|s| s[2..].to_owned())
                    .unwrap_or_default()
            );
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        if matches!(self, WebError::Unauthenticated) {
            return self.into_json();
        }
        let (th, en) = self.words();
        let page = format!(
            "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <link rel=\"stylesheet\" href=\"/static/style.css\"><title>halve: {en}</title></head>\
             <body><main class=\"narrow\"><h1>{th}</h1><p lang=\"en\">{en}</p>\
             <p><a href=\"/\">หน้าแรก (home)</a></p></main></body></html>"
        );
        (self.status(), Html(page)).into_response()
    }
}
