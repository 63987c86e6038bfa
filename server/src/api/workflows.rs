//! `/api/workflows`: the saved workflows.

use app::model::api::{WorkflowRecord, WorkflowSummary};
use app::model::parse_workflow;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
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
