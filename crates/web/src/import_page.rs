//! The import page: upload CSV or XLSX files, see each row's error, and nothing is written
//! unless every file is clean. GeoJSON files (`.geojson`, `.json`) are area boundaries for
//! the maps, imported on their own by `halve_app::boundaries` under the same rule.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use halve_io::{OpenOptions, TableReader};
use serde_json::{Value as Json, json};

use crate::AppState;
use crate::access::Current;
use crate::error::WebError;
use crate::i18n::Lang;

use crate::pages::view;

pub async fn import_form(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
) -> Result<Response, WebError> {
    if !current.role.imports() {
        return Err(WebError::Forbidden);
    }
    import_page(&state, &current, lang, json!({}), StatusCode::OK)
}

fn import_page(
    state: &AppState,
    current: &Current,
    lang: Lang,
    extra: Json,
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut page = json!({ "errors": [], "summary": [], "done": false, "failed": false });
    if let (Some(p), Some(e)) = (page.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let html = state
        .templates
        .page("import.html", lang, Some(current), "/import", view(page))?;
    Ok((status, html).into_response())
}

pub async fn import(
    State(state): State<Arc<AppState>>,
    current: Current,
    lang: Lang,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    if !current.role.imports() {
        return Err(WebError::Forbidden);
    }
    let mut tables = Vec::new();
    let mut geojson = Vec::new();
    let mut errors = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| WebError::BadRequest("multipart".into()))?
    {
        let Some(name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
        if halve_app::boundaries::is_boundary_file(&name) {
            geojson.push((name, bytes.to_vec()));
            continue;
        }
        match TableReader::from_upload(&name, bytes.to_vec(), &OpenOptions::new()) {
            Ok(t) => tables.push((t, None)),
            Err(e) => {
                let row = e.to_row_error();
                errors.push(json!({
                    "file": row.file, "line": row.line, "column": row.column,
                    "reason": lang.pick(&row.reason_th, &row.reason_en),
                }));
            }
        }
    }
    if !geojson.is_empty() {
        if !tables.is_empty() || !errors.is_empty() {
            return import_page(
                &state,
                &current,
                lang,
                json!({"failed": true, "message": lang.t("ch_import_mixed")}),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        return import_boundaries(&state, &current, lang, geojson).await;
    }
    if tables.is_empty() && errors.is_empty() {
        return import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "message": lang.t("import_no_file")}),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if !errors.is_empty() {
        return import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "errors": errors}),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (store, clock, actor) = (state.store.clone(), state.clock.clone(), current.actor());
    let result = crate::live::off_thread(move || async move {
        Ok(halve_app::import::import_tables(
            &store,
            tables,
            &actor,
            clock.as_ref(),
            &halve_app::NoProgress,
        )
        .await)
    })
    .await?;
    match result {
        Ok(summary) => {
            let files: Vec<Json> = summary
                .files
                .iter()
                .map(|f| {
                    json!({
                        "file": f.file,
                        "kind": lang.pick(f.kind.label_th(), f.kind.file_stem()),
                        "rows": f.rows,
                        "written": f.written,
                    })
                })
                .collect();
            import_page(
                &state,
                &current,
                lang,
                json!({"done": true, "summary": files}),
                StatusCode::OK,
            )
        }
        Err(halve_app::AppError::Rejected(reports)) => {
            let errors: Vec<Json> = reports
                .iter()
                .flat_map(|r| r.iter())
                .map(|row| {
                    json!({
                        "file": row.file, "line": row.line, "column": row.column,
                        "reason": lang.pick(&row.reason_th, &row.reason_en),
                    })
                })
                .collect();
            import_page(
                &state,
                &current,
                lang,
                json!({"failed": true, "errors": errors}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(halve_app::AppError::Read(e)) => {
            let row = e.to_row_error();
            import_page(
                &state,
                &current,
                lang,
                json!({"failed": true, "errors": [{
                    "file": row.file, "line": row.line, "column": row.column,
                    "reason": lang.pick(&row.reason_th, &row.reason_en),
                }]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(halve_app::AppError::Invalid(message)) => import_page(
            &state,
            &current,
            lang,
            json!({"failed": true, "message": message}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e.into()),
    }
}

/// Imports boundary files and shows what they did, or every error with nothing written.
async fn import_boundaries(
    state: &AppState,
    current: &Current,
    lang: Lang,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Response, WebError> {
    // Parsing a large file is work for a thread of its own, as for the tables.
    let (store, clock, actor) = (state.store.clone(), state.clock.clone(), current.actor());
    let result = crate::live::off_thread(move || async move {
        Ok(halve_app::boundaries::import_boundaries(&store, files, &actor, clock.as_ref()).await)
    })
    .await?;
    match result {
        Ok(summaries) => {
            let files: Vec<Json> = summaries
                .iter()
                .map(|s| {
                    json!({
                        "file": s.file,
                        "kind": lang.t("ch_boundaries"),
                        "rows": s.features,
                        "written": s.written,
                    })
                })
                .collect();
            import_page(
                state,
                current,
                lang,
                json!({"done": true, "summary": files}),
                StatusCode::OK,
            )
        }
        Err(halve_app::AppError::Rejected(reports)) => {
            let errors: Vec<Json> = reports
                .iter()
                .flat_map(|r| r.iter())
                .map(|row| {
                    json!({
                        "file": row.file, "line": row.line, "column": row.column,
                        "reason": lang.pick(&row.reason_th, &row.reason_en),
                    })
                })
                .collect();
            import_page(
                state,
                current,
                lang,
                json!({"failed": true, "errors": errors}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(halve_app::AppError::Invalid(message)) => import_page(
            state,
            current,
            lang,
            json!({"failed": true, "message": message}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e.into()),
    }
}
