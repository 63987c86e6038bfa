//! `/api/workflows`: the saved workflows.

use app::model::api::{WorkflowRecord, WorkflowSummary};
use app::model::formats::{self, ExportFormat, ImportError, ImportFormat};
use app::model::parse_workflow;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::AppError;
use super::{body_bytes, AppState};

pub fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no workflow with id {id:?}"))
}

pub async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WorkflowRecord>), AppError> {
    let workflow = parse_workflow(&body_bytes(body)?)?;
    let record = state.store.create_workflow(&workflow).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Debug, serde::Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `POST /api/workflows/import[?format=native|article|conductor|text]`: the body in any
/// supported format (detected when not named) becomes a new workflow, or nothing is stored.
pub async fn import(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WorkflowRecord>), AppError> {
    let format = match query.format.as_deref() {
        None => None,
        Some(name) => Some(ImportFormat::parse(name).ok_or_else(|| {
            AppError::bad_request(format!(
                "unknown import format {name:?}; use one of {}",
                ImportFormat::NAMES
            ))
        })?),
    };
    let body = body_bytes(body)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| AppError::bad_request(format!("the body is not UTF-8 text: {e}")))?;
    let workflow = formats::import(text, format).map_err(|e| match e {
        ImportError::Document(d) => AppError::from(d),
        ImportError::Unsupported(problems) => AppError::Unprocessable {
            message: ImportError::Unsupported(problems.clone()).to_string(),
            details: problems
                .iter()
                .map(|p| serde_json::to_value(p).unwrap_or_default())
                .collect(),
        },
    })?;
    let record = state.store.create_workflow(&workflow).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// `GET /api/workflows/{id}/export?format=json|mermaid|text`.
pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, AppError> {
    let name = query.format.as_deref().unwrap_or("json");
    let format = ExportFormat::parse(name).ok_or_else(|| {
        AppError::bad_request(format!(
            "unknown export format {name:?}; use one of {}",
            ExportFormat::NAMES
        ))
    })?;
    let record = state
        .store
        .get_workflow(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let content_type = match format {
        ExportFormat::Json => "application/json",
        ExportFormat::Mermaid | ExportFormat::Text => "text/plain; charset=utf-8",
    };
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        formats::export(&record.workflow, format),
    )
        .into_response())
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<WorkflowSummary>>, AppError> {
    Ok(Json(state.store.list_workflows().await?))
}

pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WorkflowRecord>, AppError> {
    let record = state.store.get_workflow(&id).await?;
    record.map(Json).ok_or_else(|| not_found(&id))
}

pub async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<WorkflowRecord>, AppError> {
    let workflow = parse_workflow(&body_bytes(body)?)?;
    let record = state.store.update_workflow(&id, &workflow).await?;
    record.map(Json).ok_or_else(|| not_found(&id))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if state.store.delete_workflow(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
