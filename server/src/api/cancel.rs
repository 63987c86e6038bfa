//! One handler for every "stop it" endpoint — a run, a lab batch, a load test: `202` once
//! the stop is stored where whoever runs it will act on it (a run: durable in its history,
//! at its owner; a batch or load test: recorded for whoever computes it), `404` if unknown,
//! `409` if it is no longer running, `503` if it could not be confirmed. Each kind says
//! only how to stop it.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::error::AppError;
use super::AppState;

/// What can be cancelled: a run, a lab batch, a load test.
pub trait Cancellable {
    /// Stops it; `Ok` once the stop is stored.
    fn stop(state: &AppState, id: &str) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// `POST …/{id}/cancel`.
pub async fn cancel<K: Cancellable>(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    K::stop(&state, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
