//! `/api/workflows/{id}/runs` and `/api/runs/{id}`: starting runs and reading their state.

use app::model::api::ErrorBody;
use app::model::api::{
    FaultRequest, MessageRequest, RunReport, RunRequest, RunSummary, MAX_RUNS_LISTED, MAX_SEED,
};
use app::model::log::Trace;
use app::model::story::Story;
use app::model::RunView;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::cancel::Cancellable;
use super::error::AppError;
use super::workflows::not_found;
use super::{body_bytes, parse_json, AppJson, AppState};
use crate::engine::peers::Control;
use crate::engine::RunOptions;
use crate::store::{replay_history, StoredRun};

pub fn run_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no run with id {id:?}"))
}

#[utoipa::path(post, path = "/api/workflows/{id}/runs", tag = "runs", summary = "Start a run", description = "The body may be empty. Same workflow, input and seed: same latencies and failures.", params(("id" = String, Path, description = "The workflow's id", example = "template-order-orchestrated")), request_body(content = RunRequest, example = json!({"input": {"amount": 42}, "seed": 7})), responses((status = 201, description = "Started", body = RunReport), (status = 404, description = "No such thing", body = ErrorBody), (status = 503, description = "Too many runs in progress, or shutting down", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    Path(workflow_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<RunReport>), AppError> {
    let body = body_bytes(body)?;
    let request = parse_run_request(&body)?;
    // Decoded once per revision, shared by its runs (the store keeps it between runs).
    let version = state
        .store
        .version(&workflow_id)
        .await?
        .ok_or_else(|| not_found(&workflow_id))?;
    let faults = request.faults.unwrap_or_default();
    let problems = faults.problems_for(&version.workflow);
    if !problems.is_empty() {
        return Err(AppError::invalid("run request", problems));
    }
    // Every sub-flow it runs must be there, and none may lead back.
    let problems = super::workflows::sub_flow_problems(
        state.store.as_ref(),
        Some(&workflow_id),
        &version.workflow,
        true,
    )
    .await?;
    if !problems.is_empty() {
        return Err(app::model::DocumentError::Invalid(problems).into());
    }
    let options = RunOptions {
        input: request
            .input
            .unwrap_or(Value::Object(Default::default()))
            .into(),
        seed: request
            .seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0 & MAX_SEED),
        speed: request.speed.unwrap_or(1.0),
        faults,
        orchestrator: None,
        on_end: None,
        kind: crate::store::RunKind::Run,
        child: None,
        first: crate::engine::core::Input::Start,
    };
    let run = state
        .engine
        .start_run(&workflow_id, version, options)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(report(&run, &RunView::new(node_ids(&run)))),
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (default and limit: 100).
    limit: Option<usize>,
}

/// `GET /api/workflows/{id}/runs?limit=N`: the workflow's runs, newest first.
#[utoipa::path(get, path = "/api/workflows/{id}/runs", tag = "runs", summary = "A workflow's runs", params(("id" = String, Path, description = "The workflow's id"), ListQuery), responses((status = 200, description = "Newest first", body = Vec<RunSummary>), (status = 400, description = "A bad limit", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(workflow_id): Path<String>,
    query: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RunSummary>>, AppError> {
    let axum::extract::Query(query) = query.map_err(|e| {
        AppError::bad_request(format!(
            "invalid query: `limit` must be a whole number from 1 to {MAX_RUNS_LISTED} ({})",
            e.body_text()
        ))
    })?;
    let limit = query.limit.unwrap_or(MAX_RUNS_LISTED);
    if !(1..=MAX_RUNS_LISTED).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "invalid query: `limit` must be from 1 to {MAX_RUNS_LISTED}, got {limit}"
        )));
    }
    if state.store.get_workflow(&workflow_id).await?.is_none() {
        return Err(not_found(&workflow_id));
    }
    Ok(Json(state.store.list_runs(&workflow_id, limit).await?))
}

/// An empty body is a run with no input; anything else must be a [`RunRequest`].
fn parse_run_request(body: &[u8]) -> Result<RunRequest, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RunRequest::default());
    }
    let request: RunRequest = parse_json("run request", body)?;
    let problems = request.problems();
    if problems.is_empty() {
        return Ok(request);
    }
    Err(AppError::Unprocessable {
        message: format!(
            "invalid run request: {}",
            problems
                .iter()
                .map(|(field, message)| format!("{field} {message}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        details: problems
            .iter()
            .map(|(field, message)| serde_json::json!({"field": field, "message": message}))
            .collect(),
    })
}

/// `POST /api/runs/{id}/cancel`: stops a run in progress (202, once the cancel is durable
/// in its history); 409 when it has ended, 503 when its owner could not confirm it.
pub struct Runs;

impl Cancellable for Runs {
    async fn stop(state: &AppState, id: &str) -> Result<(), AppError> {
        Ok(state.engine.control(id, Control::Cancel).await?)
    }
}

#[utoipa::path(get, path = "/api/runs/{id}", tag = "runs", summary = "A run: its steps, messages, story and owner", params(("id" = String, Path, description = "The run's id")), responses((status = 200, description = "The run now", body = RunReport), (status = 404, description = "No such thing", body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunReport>, AppError> {
    let run = state
        .store
        .get_run(&id)
        .await?
        .ok_or_else(|| run_not_found(&id))?;
    let mut view = RunView::new(node_ids(&run));
    let mut story = Story::new();
    let mut trace = Trace::new(&run.workflow);
    replay_history(state.store.as_ref(), &id, 0, |record| {
        view.apply(record);
        story.apply(&record.event);
        trace.apply(&record.event);
    })
    .await?;
    let mut report = report(&run, &view);
    report.story = story.lines(&run.workflow, app::i18n::Locale::en);
    report.visibility = Some(trace.visibility());
    Ok(Json(report))
}

fn node_ids(run: &StoredRun) -> impl Iterator<Item = &str> {
    run.workflow.nodes.iter().map(|n| n.id.as_str())
}

fn report(run: &StoredRun, view: &RunView) -> RunReport {
    RunReport {
        id: run.id.clone(),
        workflow_id: run.workflow_id.clone(),
        status: view.status,
        started_at: run.started_at,
        ended_at: run.ended_at,
        input: run.input.clone(),
        steps: view.steps.clone(),
        messages: view.messages,
        diagnosis: view.diagnosis.clone(),
        last_seq: view.last_seq,
        waiting: view.waiting.clone(),
        owner: run.owner.clone(),
        story: Vec::new(),
        visibility: None,
        parent: run.parent.clone(),
        children: view.children.clone(),
    }
}

/// `POST /api/runs/{id}/faults`: changes the faults of a run in progress and/or crashes
/// its orchestrator now (202); 409 when the run has ended, 422 on bad values.
#[utoipa::path(post, path = "/api/runs/{id}/faults", tag = "runs", summary = "Break things during a run", params(("id" = String, Path, description = "The run's id")), request_body(content = FaultRequest, example = json!({"faults": {"bus": {"duplicate": 0.5}}})), responses((status = 202, description = "In effect from now on (durable in the run's history)"), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "The run has ended", body = ErrorBody), (status = 503, description = "The run's owner could not confirm the change (it is being taken over): not applied, try again", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(request): AppJson<FaultRequest>,
) -> Result<StatusCode, AppError> {
    let run = state
        .store
        .get_run(&id)
        .await?
        .ok_or_else(|| run_not_found(&id))?;
    let problems = request.problems_for(&run.workflow);
    if !problems.is_empty() {
        return Err(AppError::invalid("fault request", problems));
    }
    if run.status.is_final() {
        return Err(AppError::Conflict(format!(
            "run {id:?} has already ended ({})",
            run.status.as_str()
        )));
    }
    // Each change is answered once durable in the run's history, at its owner.
    if let Some(faults) = request.faults {
        state
            .engine
            .control(&id, Control::Faults { faults })
            .await?;
    }
    if let Some(crash) = request.crash_orchestrator {
        let crash = Control::CrashOrchestrator {
            for_ms: crash.for_ms,
            standby_lease_ms: crash.standby_lease_ms,
        };
        state.engine.control(&id, crash).await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/runs/{id}/messages`: a message for a run in progress (202 once durable in its
/// history); 409 when the run has ended, 422 on a bad name or data.
#[utoipa::path(post, path = "/api/runs/{id}/messages", tag = "runs", summary = "Send a run a message (ends a step's wait)", description = "Correlated by run and name: the step of the run that waits for a message of this name stops waiting (its data goes into the run data). When no step waits for it yet, the run keeps it, and the next step to wait for it takes it at once. The run's history records it (`MessageReceived`).", params(("id" = String, Path, description = "The run's id")), request_body(content = MessageRequest, example = json!({"name": "PaymentConfirmed", "data": {"confirmed_by": "bank"}})), responses((status = 202, description = "Received: durable in the run's history"), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "The run has ended", body = ErrorBody), (status = 503, description = "The run's owner could not confirm the message (it is being taken over): not received, try again", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(request): AppJson<MessageRequest>,
) -> Result<StatusCode, AppError> {
    let problems = request.problems();
    if !problems.is_empty() {
        return Err(AppError::invalid("message", problems));
    }
    let run = state
        .store
        .get_run(&id)
        .await?
        .ok_or_else(|| run_not_found(&id))?;
    if run.status.is_final() {
        return Err(AppError::Conflict(format!(
            "run {id:?} has already ended ({})",
            run.status.as_str()
        )));
    }
    state
        .engine
        .control(
            &id,
            Control::Message {
                name: request.name,
                data: request.data,
            },
        )
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/runs/{id}/cancel`.
#[utoipa::path(post, path = "/api/runs/{id}/cancel", tag = "runs", summary = "Cancel a run in progress", params(("id" = String, Path, description = "The run's id")), responses((status = 202, description = "Being cancelled: the cancel is durable in the run's history"), (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "The run has ended", body = ErrorBody), (status = 503, description = "The run's owner could not confirm the cancel (it is being taken over): not applied, try again", body = ErrorBody)))]
pub async fn cancel_run(state: State<AppState>, id: Path<String>) -> Result<StatusCode, AppError> {
    super::cancel::cancel::<Runs>(state, id).await
}
