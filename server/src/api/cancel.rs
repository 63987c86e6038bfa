//! One handler for every "stop it" endpoint — a run, a lab batch, a load test: look it up
//! (404 if unknown), refuse with 409 if it is no longer running, else ask its owner to stop
//! it (202). Each kind says only how to look up, how to stop, and its words.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::error::AppError;
use super::AppState;

/// What can be cancelled: a run, a lab batch, a load test.
pub trait Cancellable {
    /// Whether `id` is still running, and its state in words; `None` when unknown.
    fn lookup(
        state: &AppState,
        id: &str,
    ) -> impl Future<Output = Result<Option<(bool, String)>, AppError>> + Send;
    /// Asks its owner to stop it; false when nothing is running it.
    fn stop(state: &AppState, id: &str) -> impl Future<Output = bool> + Send;
    fn not_found(id: &str) -> AppError;
    /// Why a cancel is refused (it is no longer running).
    fn refusal(id: &str, now: &str) -> String;
}

/// `POST …/{id}/cancel`.
pub async fn cancel<K: Cancellable>(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let (running, now) = K::lookup(&state, &id)
        .await?
        .ok_or_else(|| K::not_found(&id))?;
    if !running || !K::stop(&state, &id).await {
        return Err(AppError::Conflict(K::refusal(&id, &now)));
    }
    Ok(StatusCode::ACCEPTED)
}
