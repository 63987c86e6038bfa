//! The JSON REST API and the run event stream, under `/api`.
//!
//! - [`workflows`]: create, list, read, replace, delete, import and export workflows.
//! - [`runs`]: start a run, list a workflow's runs, read a run's current state, cancel it.
//!
//! `GET /metrics` (Prometheus text) is served here too.
//! - [`events`]: the WebSockets: a run's history replayed then followed live, and the runs
//!   feed (starts and ends); both capped in number and pinged.
//! - [`lab`]: the trade-off lab: convert a workflow's style, start / read / list / cancel
//!   compare batches.
//! - [`guard`]: who may talk to the server: Host allowlist (DNS rebinding), Origin and
//!   `Sec-Fetch-Site` for state-changing requests and upgrades, body media types, and the
//!   security headers of every response.
//! - [`error`]: [`error::AppError`], the one error type every handler returns (and logs,
//!   through [`error::log_failures`]); [`AppJson`] the one JSON body extractor.
//! - [`cancel`]: the one handler that cancels a run, a lab batch or a load test.
//! - [`openapi`]: the routes with their OpenAPI 3.1 description (`/api/openapi.json`)
//!   and the workflow document's JSON Schema (`/api/schema/workflow.json`).

pub mod cancel;
pub mod error;
pub mod events;
pub mod guard;
pub mod lab;
pub mod openapi;
pub mod runs;
pub mod workflows;

use std::sync::Arc;

use app::model::validate::MAX_DOCUMENT_BYTES;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{Json, Router};

use self::error::AppError;
use crate::config::SocketLimits;
use crate::engine::Engine;
use crate::lab::Lab;
use crate::store::Store;
use app::model::api::ErrorBody;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub lab: Arc<Lab>,
    pub sockets: SocketLimits,
    /// WebSockets open per client address, counted at admission.
    pub clients: Arc<events::ClientSockets>,
    /// Ended runs kept per workflow (retention; 0 keeps all).
    pub keep_runs: usize,
}

/// Runs CPU-heavy work (parsing, importing, validating or exporting a document) on the
/// blocking pool, so that one large request cannot stall the async workers serving others.
pub async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("a worker task failed: {e}")))
}

/// The longest an API request may take before it is answered `503`: a database link that
/// stalls must not pile up requests waiting for it forever. (A WebSocket's request ends at
/// its upgrade; what it streams afterwards has limits of its own.)
pub const REQUEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    // Every route is registered with its description (`openapi`): the two cannot drift.
    let (routes, _) = openapi::routes().split_for_parts();
    routes
        .route("/api/{*rest}", axum::routing::any(unknown_route))
        .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(axum::middleware::from_fn(error::log_failures))
        .with_state(state)
}

/// Answers `503` for a request still unanswered after [`REQUEST_TIME_LIMIT`].
async fn time_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIME_LIMIT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Unavailable(format!(
            "the request took longer than {} s (the database may be unreachable); try again",
            REQUEST_TIME_LIMIT.as_secs()
        ))
        .into_response(),
    }
}

#[utoipa::path(get, path = "/api/health", tag = "service", summary = "Liveness", responses((status = 200, description = "The server is up", body = serde_json::Value, example = json!({"status":"ok","service":"hybridflow","version":"0.1.0"}))))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "service": "hybridflow",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// How long readiness waits for the store to answer its probe.
pub const READY_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /api/ready`: whether this server can take new runs now — 200 while its store
/// answers and takes writes, its lease holds with its safety margin, its bus (when it has
/// other processes) is connected, and it is not shutting down; 503 (with `Retry-After`)
/// naming each of those that fails. `/api/health` stays a liveness check: the process
/// answers.
#[utoipa::path(get, path = "/api/ready", tag = "service", summary = "Readiness", description = "503 while the store does not answer or history writes fail, while this process's lease is about to lapse (it stops acting on its runs), while the bus to the other processes is down, and during shutdown; the message names each.", responses((status = 200, description = "Ready to take runs", body = serde_json::Value), (status = 503, description = "Not ready, and why", body = ErrorBody)))]
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Json<serde_json::Value>, AppError> {
    let readiness = state.engine.readiness(READY_PROBE_TIMEOUT).await;
    if !readiness.problems.is_empty() {
        return Err(AppError::Unavailable(format!(
            "not ready: {}",
            readiness.problems.join("; ")
        )));
    }
    let bus = match readiness.link {
        crate::engine::peers::Link::Alone => "none",
        _ => "connected",
    };
    Ok(Json(serde_json::json!({
        "status": "ready",
        "store": "ok",
        "bus": bus,
        "lease_margin_ms": readiness.lease_margin.as_millis() as u64,
        "runs_in_flight": readiness.runs_in_flight,
    })))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "service", summary = "Prometheus metrics", responses((status = 200, description = "The OpenMetrics text", content_type = "text/plain", body = String)))]
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    let engine = &state.engine;
    engine
        .metrics()
        .lease(engine.lease().margin(), !engine.lease().holds());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        engine.metrics().render(),
    )
}

async fn unknown_route(uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!("no API route {}", uri.path()))
}

/// A JSON body as `T`: malformed JSON is 400, well-formed JSON of the wrong shape 422, both
/// saying what `what` (e.g. "run request") was expected to be.
pub fn parse_json<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = format!("invalid {what}: {e}");
        if e.is_data() {
            AppError::Unprocessable {
                message,
                details: Vec::new(),
            }
        } else {
            AppError::bad_request(message)
        }
    })
}

/// What a JSON request body is called in its errors ("invalid compare request: …").
pub trait RequestBody: serde::de::DeserializeOwned {
    const WHAT: &'static str;
}

impl RequestBody for app::model::lab::ConvertRequest {
    const WHAT: &'static str = "convert request";
}
impl RequestBody for app::model::lab::CompareRequest {
    const WHAT: &'static str = "compare request";
}
impl RequestBody for app::model::verify::VerifyRequest {
    const WHAT: &'static str = "verify request";
}
impl RequestBody for app::model::lab::LoadRequest {
    const WHAT: &'static str = "load request";
}
impl RequestBody for app::model::api::FaultRequest {
    const WHAT: &'static str = "fault request";
}
impl RequestBody for app::model::api::MessageRequest {
    const WHAT: &'static str = "message";
}

/// A JSON request body parsed as `T`, its rejection an [`AppError`] that says exactly what
/// is wrong: past the size cap (413), unreadable (400), not JSON (400), the wrong shape
/// (422, naming the field).
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: RequestBody> axum::extract::FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let body = body_bytes(Bytes::from_request(request, state).await)?;
        parse_json(T::WHAT, &body).map(AppJson)
    }
}

/// The request body, or the precise reason it could not be read (413 past the size cap).
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!(
                "the request body exceeds the limit of {MAX_DOCUMENT_BYTES} bytes"
            ))
        } else {
            AppError::bad_request(rejection.body_text())
        }
    })
}
