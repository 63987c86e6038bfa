//! `/api/lab/...`: the trade-off lab.
//!
//! - `POST /api/workflows/{id}/verify` ([`VerifyRequest`]) → 202 with a batch that
//!   verifies instead of sampling: every schedule within the bounds for the flow as drawn,
//!   all orchestrated and all choreographed; read, listed and cancelled as batches are.
//! - `POST /api/workflows/{id}/test` → 200 with a [`TestReport`]: the stored workflow's
//!   scenarios run in virtual time, each passed or failed with its differences; at most
//!   [`MAX_RUNNING_TESTS`] at once (503 past that), answered within [`TEST_TIME_LIMIT`].
//! - `POST /api/lab/convert` `{"workflow_id", "to": "orchestration"|"choreography"}` → 201
//!   with the saved copy's id, the converted workflow, and what it lost.
//! - `POST /api/lab/batches` ([`CompareRequest`]) → 202 with the batch (running); `runs`
//!   is 1..=[`MAX_LAB_RUNS`] (default [`DEFAULT_LAB_RUNS`]; 1..=[`MAX_REAL_LAB_RUNS`] when
//!   steps call real services: then they are real runs), `seed` 0..=[`MAX_SEED`]
//!   (random when absent), `faults` within their limits, `message_ms` (the orchestrator's
//!   time per message, the hop cost) 0..=[`MAX_ORCHESTRATOR_MESSAGE_MS`]; 503 when
//!   [`crate::lab::MAX_RUNNING_BATCHES`] are running.
//! - `GET /api/lab/batches?workflow=ID[&limit=N]` → the workflow's batches, newest first.
//! - `GET /api/lab/batches/{id}` → one batch: progress while running, results when done.
//! - `POST /api/lab/batches/{id}/cancel` → 202, or 409 when it is not running.
//! - `POST /api/lab/loads` ([`LoadRequest`]) → 202 with the load test; `rate`
//!   1..=[`MAX_LOAD_RATE`] runs/s, `seconds` 1..=[`MAX_LOAD_SECONDS`] per style, `capacity`
//!   1..=[`MAX_ORCHESTRATOR_CAPACITY`] messages at once (absent: unlimited), `message_ms`
//!   0..=[`MAX_ORCHESTRATOR_MESSAGE_MS`], `speed` as for runs; 503 while one is running.
//! - `GET /api/lab/loads?workflow=ID[&limit=N]` → the workflow's load tests, newest first
//!   (stored like batches, without their per-second figures).
//! - `GET /api/lab/loads/{id}` → its per-second figures so far, or as stored once it ended;
//!   `POST /api/lab/loads/{id}/cancel` → 202 or 409.

use app::model::api::ErrorBody;
use app::model::api::{MAX_SEED, MAX_SPEED, MIN_SPEED};
use app::model::convert::convert_with;
use app::model::lab::{
    Batch, BatchSummary, CompareRequest, ConvertRequest, ConvertResponse, LoadRequest, LoadSummary,
    LoadTest, RealRuns, DEFAULT_LAB_RUNS, MAX_BATCHES_LISTED, MAX_LAB_RUNS, MAX_LOAD_RATE,
    MAX_LOAD_SECONDS, MAX_ORCHESTRATOR_CAPACITY, MAX_ORCHESTRATOR_MESSAGE_MS, MAX_REAL_LAB_RUNS,
};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::cancel::Cancellable;
use super::error::AppError;
use super::workflows::not_found;
use super::{AppJson, AppState, RequestBody};
use crate::lab::compare::CompareSpec;
use crate::lab::load::LoadSpec;
use crate::lab::{Cancelled, LabError};
use crate::store::state_word;
use app::model::scenario::TestReport;
use app::model::validate::MAX_STRING_CHARS;
use app::model::verify::{VerifyBounds, VerifyRequest};

/// The most scenario runs (`POST /api/workflows/{id}/test`) under way at once.
pub const MAX_RUNNING_TESTS: usize = 2;
/// How long a workflow's scenarios may take before the request is answered 503.
pub const TEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);
static RUNNING_TESTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_RUNNING_TESTS);

fn lab_error(e: LabError) -> AppError {
    match e {
        LabError::Busy | LabError::LoadBusy => AppError::Unavailable(e.to_string()),
        LabError::Store(e) => AppError::from(e),
    }
}

fn batch_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no lab batch with id {id:?}"))
}

/// What is wrong with the orchestrator's ms per message of a compare or load request.
fn message_ms_problem(message_ms: u64) -> Option<String> {
    (message_ms > MAX_ORCHESTRATOR_MESSAGE_MS).then(|| {
        format!("message_ms must be at most {MAX_ORCHESTRATOR_MESSAGE_MS}, got {message_ms}")
    })
}

/// The checks a compare and a load request share (and the command line's `run` and
/// `compare`).
pub(crate) fn seed_and_input_problems(seed: Option<u64>, input: Option<&Value>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(seed) = seed {
        if seed > MAX_SEED {
            problems.push(format!("seed must be at most {MAX_SEED}, got {seed}"));
        }
    }
    if let Some(problem) = input.and_then(app::model::api::input_problem) {
        problems.push(format!("input {problem}"));
    }
    problems
}

#[utoipa::path(post, path = "/api/lab/convert", tag = "lab", summary = "Copy a workflow converted to all orchestration or all choreography", request_body(content = ConvertRequest, example = json!({"workflow_id": "template-order-orchestrated", "to": "choreography"})), responses((status = 201, description = "The copy, and what the conversion lost", body = ConvertResponse), (status = 404, description = "No such thing", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn convert(
    State(state): State<AppState>,
    AppJson(request): AppJson<ConvertRequest>,
) -> Result<(StatusCode, Json<ConvertResponse>), AppError> {
    let record = state
        .store
        .get_workflow(&request.workflow_id)
        .await?
        .ok_or_else(|| not_found(&request.workflow_id))?;
    if let Some(name) = &request.name {
        let chars = name.chars().count();
        if name.trim().is_empty() || chars > MAX_STRING_CHARS {
            return Err(AppError::invalid(
                ConvertRequest::WHAT,
                vec![format!(
                    "name must be 1 to {MAX_STRING_CHARS} characters, got {chars}"
                )],
            ));
        }
    }
    // Converting lints the workflow before and after: CPU work, off the async workers.
    let (to, rules) = (request.to, request.rules.unwrap_or_default());
    let mut conversion =
        super::off_workers(move || convert_with(&record.workflow, to, rules)).await?;
    if let Some(name) = request.name {
        conversion.workflow.name = name;
    }
    let saved = state.store.create_workflow(&conversion.workflow).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConvertResponse {
            id: saved.id,
            conversion,
        }),
    ))
}

#[utoipa::path(post, path = "/api/lab/batches", tag = "lab", summary = "Compare the styles on the same seeds (a batch)", request_body(content = CompareRequest, example = json!({"workflow_id": "template-order-orchestrated", "runs": 20, "seed": 1})), responses((status = 202, description = "Started; read it until it is done", body = Batch), (status = 404, description = "No such thing", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    AppJson(request): AppJson<CompareRequest>,
) -> Result<(StatusCode, Json<Batch>), AppError> {
    start_batch(&state, request).await
}

#[utoipa::path(post, path = "/api/workflows/{id}/verify", tag = "lab", summary = "Verify a workflow: every schedule of failures within bounds, each style side by side (a background job)",
    params(("id" = String, Path, description = "The workflow's id")),
    request_body(content = VerifyRequest, example = json!({"max_faults": 2, "bus_faults": 1})),
    responses((status = 202, description = "Started: a lab batch with `verify`; read it (GET /api/lab/batches/{id}) for its progress (schedules explored per style) and, once done, `result.verifications`; cancel it with POST /api/lab/batches/{id}/cancel", body = Batch), (status = 404, description = "No such thing", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody), (status = 503, description = "As many lab batches as allowed are running", body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(request): AppJson<VerifyRequest>,
) -> Result<(StatusCode, Json<Batch>), AppError> {
    let defaults = VerifyBounds::default();
    let bounds = VerifyBounds {
        max_faults: request.max_faults.unwrap_or(defaults.max_faults),
        bus_faults: request.bus_faults.unwrap_or(defaults.bus_faults),
        crash: request.crash.unwrap_or(defaults.crash),
    };
    start_batch(
        &state,
        CompareRequest {
            workflow_id: id,
            input: request.input,
            runs: None,
            seed: request.seed,
            faults: Default::default(),
            message_ms: 0,
            verify: Some(bounds),
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/workflows/{id}/test", tag = "lab", summary = "Run a workflow's scenarios as tests",
    description = "Each scenario the stored document keeps runs in virtual time on the engine's core — its input, faults and seed — and is checked against what it expects (outcome, step states) and the flow's assertions (`never` orderings, `always` facts). Deterministic: the same document gives the same report.",
    params(("id" = String, Path, description = "The workflow's id")),
    responses((status = 200, description = "Every scenario, passed or failed with its differences", body = TestReport), (status = 404, description = "No such thing", body = ErrorBody), (status = 503, description = "As many scenario runs as allowed are under way, or they took too long", body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TestReport>, AppError> {
    let record = state
        .store
        .get_workflow(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let permit = RUNNING_TESTS.try_acquire().map_err(|_| {
        AppError::Unavailable(format!(
            "{MAX_RUNNING_TESTS} workflows' scenarios are running; try again when one has ended"
        ))
    })?;
    let library = crate::lab::library(state.store.as_ref(), &record.workflow).await?;
    // CPU work, off the async workers; the permit is held until it is done.
    let work = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        crate::verify::scenarios::run_scenarios(&library, &record.workflow)
    });
    match tokio::time::timeout(TEST_TIME_LIMIT, work).await {
        Ok(Ok(report)) => Ok(Json(report)),
        Ok(Err(e)) => Err(AppError::Unavailable(format!("the scenarios stopped: {e}"))),
        Err(_) => Err(AppError::Unavailable(format!(
            "the scenarios took more than {} s",
            TEST_TIME_LIMIT.as_secs()
        ))),
    }
}

/// Checks and starts a batch (a compare, or a verification when it has `verify`).
async fn start_batch(
    state: &AppState,
    request: CompareRequest,
) -> Result<(StatusCode, Json<Batch>), AppError> {
    let record = state
        .store
        .get_workflow(&request.workflow_id)
        .await?
        .ok_or_else(|| not_found(&request.workflow_id))?;
    let mut problems = Vec::new();
    // A verification runs schedules, not a number of runs.
    let runs = match request.verify {
        Some(_) => 0,
        None => request.runs.unwrap_or(DEFAULT_LAB_RUNS),
    };
    let real = RealRuns::of(&record.workflow);
    if request.verify.is_none() && !(1..=MAX_LAB_RUNS).contains(&runs) {
        problems.push(format!(
            "runs must be from 1 to {MAX_LAB_RUNS} per style, got {runs}"
        ));
    } else if let Some(real) = real.as_ref().filter(|_| request.verify.is_none()) {
        if runs > MAX_REAL_LAB_RUNS {
            let steps: Vec<&str> = real.services.iter().map(|s| s.label.as_str()).collect();
            problems.push(format!(
                "runs must be from 1 to {MAX_REAL_LAB_RUNS} per style when steps call real services ({}): each run calls them; got {runs}",
                steps.join(", ")
            ));
        }
    }
    problems.extend(seed_and_input_problems(
        request.seed,
        request.input.as_ref(),
    ));
    problems.extend(request.faults.problems_for(&record.workflow));
    problems.extend(message_ms_problem(request.message_ms));
    if let Some(bounds) = &request.verify {
        problems.extend(bounds.problems());
    }
    if !problems.is_empty() {
        return Err(AppError::invalid("compare request", problems));
    }
    let library = crate::lab::library(state.store.as_ref(), &record.workflow).await?;
    let spec = CompareSpec {
        workflow: record.workflow,
        input: request
            .input
            .unwrap_or_else(|| Value::Object(Default::default())),
        runs,
        seed: request
            .seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0 & MAX_SEED),
        faults: request.faults,
        message_ms: request.message_ms,
        verify: request.verify,
        library,
    };
    let batch = state
        .lab
        .start(&request.workflow_id, spec)
        .await
        .map_err(lab_error)?;
    Ok((StatusCode::ACCEPTED, Json(batch)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The workflow's id.
    workflow: String,
    /// At most this many.
    limit: Option<usize>,
}

/// The `workflow` and `limit` of a list query, checked.
fn list_query(
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(String, usize), AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(format!(
            "invalid query: give `workflow` (an id) and optionally `limit` from 1 to {MAX_BATCHES_LISTED} ({})",
            e.body_text()
        ))
    })?;
    let limit = query.limit.unwrap_or(MAX_BATCHES_LISTED);
    if !(1..=MAX_BATCHES_LISTED).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "invalid query: `limit` must be from 1 to {MAX_BATCHES_LISTED}, got {limit}"
        )));
    }
    Ok((query.workflow, limit))
}

#[utoipa::path(get, path = "/api/lab/batches", tag = "lab", summary = "A workflow's batches", params(ListQuery), responses((status = 200, description = "Newest first", body = Vec<BatchSummary>), (status = 400, description = "A bad query", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<BatchSummary>>, AppError> {
    let (workflow, limit) = list_query(query)?;
    let batches = state.lab.list(&workflow, limit).await?;
    Ok(Json(
        batches
            .into_iter()
            .map(|b| BatchSummary {
                id: b.id,
                workflow_id: b.workflow_id,
                workflow_name: b.workflow_name,
                created_at: b.created_at,
                state: b.state,
                runs: b.runs,
                seed: b.seed,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/lab/batches/{id}", tag = "lab", summary = "A batch: progress, then the table and its reading", params(("id" = String, Path, description = "The batch's id")), responses((status = 200, description = "The batch", body = Batch), (status = 404, description = "No such thing", body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Batch>, AppError> {
    let batch = state
        .lab
        .get(&id)
        .await?
        .ok_or_else(|| batch_not_found(&id))?;
    Ok(Json(batch))
}

/// `POST /api/lab/batches/{id}/cancel`.
pub struct Batches;

impl Cancellable for Batches {
    async fn stop(state: &AppState, id: &str) -> Result<(), AppError> {
        cancelled(
            state.lab.cancel_anywhere(id).await?,
            || batch_not_found(id),
            |now| format!("lab batch {id:?} is not running (it is {now})"),
        )
    }
}

/// A lab cancel's answer: stored (202), or why not.
fn cancelled(
    outcome: Cancelled,
    missing: impl FnOnce() -> AppError,
    ended: impl FnOnce(&str) -> String,
) -> Result<(), AppError> {
    match outcome {
        Cancelled::Stored => Ok(()),
        Cancelled::Ended(state) => Err(AppError::Conflict(ended(state_word(state)))),
        Cancelled::Missing => Err(missing()),
    }
}

#[utoipa::path(post, path = "/api/lab/loads", tag = "lab", summary = "A load test of the styles on the live engine", request_body(content = LoadRequest, example = json!({"workflow_id": "template-order-orchestrated", "rate": 5, "seconds": 1})), responses((status = 202, description = "Started", body = LoadTest), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "Another load test is running", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn start_load(
    State(state): State<AppState>,
    AppJson(request): AppJson<LoadRequest>,
) -> Result<(StatusCode, Json<LoadTest>), AppError> {
    let record = state
        .store
        .get_workflow(&request.workflow_id)
        .await?
        .ok_or_else(|| not_found(&request.workflow_id))?;
    let mut problems = Vec::new();
    if !(1..=MAX_LOAD_RATE).contains(&request.rate) {
        problems.push(format!(
            "rate must be from 1 to {MAX_LOAD_RATE} runs per second, got {}",
            request.rate
        ));
    }
    if !(1..=MAX_LOAD_SECONDS).contains(&request.seconds) {
        problems.push(format!(
            "seconds must be from 1 to {MAX_LOAD_SECONDS}, got {}",
            request.seconds
        ));
    }
    if let Some(c) = request.capacity {
        if !(1..=MAX_ORCHESTRATOR_CAPACITY).contains(&c) {
            problems.push(format!(
                "capacity must be from 1 to {MAX_ORCHESTRATOR_CAPACITY} messages at once, got {c}"
            ));
        }
    }
    problems.extend(message_ms_problem(request.message_ms));
    if let Some(speed) = request.speed {
        if !(MIN_SPEED..=MAX_SPEED).contains(&speed) {
            problems.push(format!(
                "speed must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}"
            ));
        }
    }
    problems.extend(seed_and_input_problems(
        request.seed,
        request.input.as_ref(),
    ));
    if !problems.is_empty() {
        return Err(AppError::invalid("load request", problems));
    }
    let spec = LoadSpec {
        workflow: record.workflow,
        input: request
            .input
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default())),
        rate: request.rate,
        seconds: request.seconds,
        capacity: request.capacity,
        message_ms: request.message_ms,
        seed: request
            .seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0 & MAX_SEED),
        speed: request.speed.unwrap_or(1.0),
    };
    let workflow_id = request.workflow_id.clone();
    let test = state
        .lab
        .start_load(&workflow_id, request, spec)
        .await
        .map_err(lab_error)?;
    Ok((StatusCode::ACCEPTED, Json(test)))
}

#[utoipa::path(get, path = "/api/lab/loads", tag = "lab", summary = "A workflow's load tests", params(ListQuery), responses((status = 200, description = "Newest first", body = Vec<LoadSummary>), (status = 400, description = "A bad query", body = ErrorBody)))]
pub async fn list_loads(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<LoadSummary>>, AppError> {
    let (workflow, limit) = list_query(query)?;
    let tests = state.lab.loads(&workflow, limit).await?;
    Ok(Json(
        tests
            .into_iter()
            .map(|t| LoadSummary {
                id: t.id,
                workflow_id: t.workflow_id,
                workflow_name: t.workflow_name,
                created_at: t.created_at,
                state: t.state,
                request: t.request,
            })
            .collect(),
    ))
}

fn load_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no load test with id {id:?}"))
}

#[utoipa::path(get, path = "/api/lab/loads/{id}", tag = "lab", summary = "A load test", params(("id" = String, Path, description = "The load test's id")), responses((status = 200, description = "The load test", body = LoadTest), (status = 404, description = "No such thing", body = ErrorBody)))]
pub async fn read_load(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<LoadTest>, AppError> {
    let test = state.lab.load(&id).await?;
    test.map(Json).ok_or_else(|| load_not_found(&id))
}

/// `POST /api/lab/loads/{id}/cancel`.
pub struct Loads;

impl Cancellable for Loads {
    async fn stop(state: &AppState, id: &str) -> Result<(), AppError> {
        cancelled(
            state.lab.cancel_load_anywhere(id).await?,
            || load_not_found(id),
            |now| format!("load test {id:?} is not running (it is {now})"),
        )
    }
}

/// `POST /api/lab/batches/{id}/cancel`.
#[utoipa::path(post, path = "/api/lab/batches/{id}/cancel", tag = "lab", summary = "Cancel a batch", params(("id" = String, Path, description = "The batch's id")), responses((status = 202, description = "Being cancelled"), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "The batch has ended", body = ErrorBody)))]
pub async fn cancel_batch(
    state: State<AppState>,
    id: Path<String>,
) -> Result<StatusCode, AppError> {
    super::cancel::cancel::<Batches>(state, id).await
}

/// `POST /api/lab/loads/{id}/cancel`.
#[utoipa::path(post, path = "/api/lab/loads/{id}/cancel", tag = "lab", summary = "Cancel a load test", params(("id" = String, Path, description = "The load test's id")), responses((status = 202, description = "Being cancelled"), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "The load test has ended", body = ErrorBody)))]
pub async fn cancel_load(state: State<AppState>, id: Path<String>) -> Result<StatusCode, AppError> {
    super::cancel::cancel::<Loads>(state, id).await
}
