//! `/api/workflows`: the saved workflows.

use app::model::api::ErrorBody;
use app::model::api::{WorkflowRecord, WorkflowSummary};
use app::model::examples::is_template_id;
use app::model::formats::{self, ExportFormat, ImportError, ImportFormat};
use app::model::validate::MAX_SUB_FLOW_DEPTH;
use app::model::{parse_workflow, DocumentError, Problem, Workflow};
use app::ui::common::language::{self, for_request};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;
use std::sync::Arc;

use super::error::{etag, AppError};
use super::{body_bytes, off_workers, AppState};
use crate::store::Replaced;

pub fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no workflow with id {id:?}"))
}

/// A stored workflow as a response, with its revision as `ETag`.
fn tagged(status: StatusCode, record: WorkflowRecord) -> Response {
    let tag = etag(record.revision);
    (status, [(header::ETAG, tag)], Json(record)).into_response()
}

#[utoipa::path(post, path = "/api/workflows", tag = "workflows", summary = "Store a workflow", description = "The native document (JSON Schema: /api/schema/workflow.json); refused as a whole with every problem, by node, edge and field.", request_body(content = Workflow, example = json!({"name": "Order saga", "nodes": [{"id": "order", "label": "Place order", "service": "Orders", "action": "place"}, {"id": "pay", "label": "Charge card", "service": "Payments", "action": "charge"}], "edges": [{"from": "order", "to": "pay", "kind": "event", "event": "OrderPlaced"}]})), responses((status = 201, description = "Stored; its ETag is its revision", body = WorkflowRecord), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body_bytes(body)?;
    let workflow = off_workers(move || parse_workflow(&body)).await??;
    refuse_cycles(&state, None, &workflow).await?;
    let record = state.store.create_workflow(&workflow).await?;
    Ok(tagged(StatusCode::CREATED, record))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// The format: on import native, article, conductor, text, mermaid, bpmn or asl (detected when absent); on export json (default), mermaid, text, bpmn, asyncapi or asl.
    format: Option<String>,
}

/// `POST /api/workflows/import[?format=native|article|conductor|text|mermaid|bpmn|asl]`: the body in any
/// supported format (detected when not named) becomes a new workflow, or nothing is stored.
#[utoipa::path(post, path = "/api/workflows/import", tag = "workflows", summary = "Import a workflow from any supported format", description = "Native JSON, the article's steps JSON, a Conductor subset, the text form, Mermaid flowchart, BPMN 2.0 XML or an AWS Step Functions state machine (Amazon States Language; detected unless `format` names it). Nothing is stored unless all of it imports; what cannot be mapped is named (line, element id and type), in the language `Accept-Language` asks for (Korean or English; the answer's `Content-Language` says which).", params(FormatQuery, ("Accept-Language" = Option<String>, Header, description = "The language of the problems: `ko` for Korean, English otherwise", example = "ko")), request_body(content = String, content_type = "text/plain", example = "name: Order saga\norder -> pay\npay ~> ship : PaymentCompleted\n"), responses((status = 201, description = "Stored", body = WorkflowRecord), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    // The problems are said in the language the request accepts (English unless it asks
    // for Korean); paths, fields and ids stay as the input has them.
    let l = for_request(
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
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
    std::str::from_utf8(&body)
        .map_err(|e| AppError::bad_request(format!("the body is not UTF-8 text: {e}")))?;
    let imported = off_workers(move || {
        let text = std::str::from_utf8(&body).unwrap_or_default();
        formats::import_in(text, format, l)
    })
    .await?;
    let workflow = match imported {
        Ok(workflow) => workflow,
        Err(e) => {
            let error = match e {
                ImportError::Document(d) => AppError::from_document(d, l),
                ImportError::Unsupported(ref problems) => {
                    AppError::unprocessable(e.said(l), problems)
                }
            };
            let mut response = error.into_response();
            response.headers_mut().insert(
                header::CONTENT_LANGUAGE,
                header::HeaderValue::from_static(language::tag(l)),
            );
            return Ok(response);
        }
    };
    refuse_cycles(&state, None, &workflow).await?;
    let record = state.store.create_workflow(&workflow).await?;
    Ok(tagged(StatusCode::CREATED, record))
}

/// `GET /api/workflows/{id}/export?format=json|mermaid|text|bpmn|asyncapi|asl`.
#[utoipa::path(get, path = "/api/workflows/{id}/export", tag = "workflows", summary = "Export a workflow", description = "`format`: json (default), mermaid, text, bpmn (BPMN 2.0 XML with its diagram), asyncapi (AsyncAPI 3.0 of its events) or asl (an AWS Step Functions state machine). What has no form in the format (an event edge in a state machine, say) is refused by step and edge, in the language `Accept-Language` asks for.", params(("id" = String, Path, description = "The workflow's id", example = "template-order-orchestrated"), FormatQuery, ("Accept-Language" = Option<String>, Header, description = "The language of the problems: `ko` for Korean, English otherwise")), responses((status = 200, description = "The workflow in the format", body = String), (status = 400, description = "Unknown format", body = ErrorBody), (status = 404, description = "No such thing", body = ErrorBody), (status = 422, description = "The workflow has no form in this format: every problem listed", body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // What has no form in the format is said in the language the request accepts.
    let l = for_request(
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
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
    let content_type = match format.media_type() {
        "text/plain" => "text/plain; charset=utf-8",
        "application/xml" => "application/xml; charset=utf-8",
        other => other,
    };
    let text = match off_workers(move || formats::export_in(&record.workflow, format, l)).await? {
        Ok(text) => text,
        Err(refused) => {
            let message = refused.said(format, l);
            let mut response = AppError::unprocessable(message, &refused.0).into_response();
            response.headers_mut().insert(
                header::CONTENT_LANGUAGE,
                header::HeaderValue::from_static(language::tag(l)),
            );
            return Ok(response);
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// `GET /api/workflows`: the user's workflows, most recently updated first (the shipped
/// templates are stored too, read-only, and left out).
#[utoipa::path(get, path = "/api/workflows", tag = "workflows", summary = "The user's workflows", responses((status = 200, description = "Most recently updated first (templates left out)", body = Vec<WorkflowSummary>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<WorkflowSummary>>, AppError> {
    let mut list = state.store.list_workflows().await?;
    list.retain(|w| !is_template_id(&w.id));
    Ok(Json(list))
}

/// A shipped template is read-only: changing it is refused, nothing changes.
fn writable(id: &str) -> Result<(), AppError> {
    if is_template_id(id) {
        return Err(AppError::Forbidden(format!(
            "workflow {id:?} is a shipped template, which is read-only: open it from Templates \
             to work on a copy"
        )));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/workflows/{id}", tag = "workflows", summary = "One workflow", params(("id" = String, Path, description = "The workflow's id", example = "template-order-orchestrated")), responses((status = 200, description = "The record; its ETag is its revision", body = WorkflowRecord), (status = 404, description = "No such thing", body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = state.store.get_workflow(&id).await?;
    let record = record.ok_or_else(|| not_found(&id))?;
    Ok(tagged(StatusCode::OK, record))
}

/// The revision an `If-Match` names (`"r7"`, as our `ETag`s say), `None` without one or for
/// `*`; a malformed one is a 400.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('r')
        .and_then(|n| n.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "If-Match {text:?} is not a revision of this server (an ETag such as \"r3\")"
            ))
        })
}

/// `PUT /api/workflows/{id}`: replaces the document. With `If-Match`, only if the stored
/// revision is still that one; otherwise `412` with the current revision, and nothing changes.
#[utoipa::path(put, path = "/api/workflows/{id}", tag = "workflows", summary = "Replace a workflow", description = "With `If-Match: <ETag>` a stale revision is refused with 412 (its body names the stored revision). Templates are read-only (403).", params(("id" = String, Path, description = "The workflow's id")), request_body(content = Workflow), responses((status = 200, description = "Stored as a new revision", body = WorkflowRecord), (status = 403, description = "A read-only template", body = ErrorBody), (status = 404, description = "No such thing", body = ErrorBody), (status = 412, description = "Changed since the If-Match revision", body = ErrorBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 422, description = "Well-formed but refused: every problem listed", body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    writable(&id)?;
    let expected = if_match(&headers)?;
    let body = body_bytes(body)?;
    let workflow = off_workers(move || parse_workflow(&body)).await??;
    refuse_cycles(&state, Some(&id), &workflow).await?;
    match state
        .store
        .update_workflow(&id, &workflow, expected)
        .await?
    {
        Replaced::Done(record) => Ok(tagged(StatusCode::OK, *record)),
        Replaced::Missing => Err(not_found(&id)),
        Replaced::Stale { revision } => Err(AppError::PreconditionFailed {
            message: format!(
                "workflow {id:?} changed since it was read (it is at revision {revision}, the \
                 request expected {}): reload it or overwrite it",
                expected.unwrap_or_default()
            ),
            revision,
        }),
    }
}

/// `DELETE /api/workflows/{id}`: the workflow, its lab documents and its runs (those in
/// progress are cancelled first; their history goes once they have ended).
#[utoipa::path(delete, path = "/api/workflows/{id}", tag = "workflows", summary = "Delete a workflow and its runs", params(("id" = String, Path, description = "The workflow's id")), responses((status = 204, description = "Deleted"), (status = 403, description = "A read-only template", body = ErrorBody), (status = 404, description = "No such thing", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    writable(&id)?;
    if !state.store.delete_workflow(&id).await? {
        return Err(not_found(&id));
    }
    // Cancelled at their owners, all at once; one whose owner cannot confirm in time is
    // ended by retention once it ends (its workflow is gone).
    let running = state.store.running_runs(&id).await?;
    let cancels = running.iter().map(|run| {
        state
            .engine
            .control(run, crate::engine::peers::Control::Cancel)
    });
    for (run, cancelled) in running.iter().zip(futures::future::join_all(cancels).await) {
        if let Err(e) = cancelled {
            tracing::info!(run = %run, error = %e, "a run of a deleted workflow was not cancelled");
        }
    }
    crate::retention::prune_now(state.store.as_ref(), state.keep_runs).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses `workflow` (to be stored as `id`) when its sub-flows form a cycle.
/// Refuses what this server could not run: a cycle of sub-flows, a call to a service it
/// may not call.
async fn refuse_cycles(
    state: &AppState,
    id: Option<&str>,
    workflow: &Workflow,
) -> Result<(), AppError> {
    let mut problems = sub_flow_problems(state.store.as_ref(), id, workflow, false).await?;
    problems.extend(state.engine.services().problems(workflow));
    if problems.is_empty() {
        return Ok(());
    }
    Err(DocumentError::Invalid(problems).into())
}

/// How many stored workflows a sub-flow check reads at most (the walk through what
/// sub-flows run, and what those run, stops there).
pub const MAX_SUB_FLOWS_READ: usize = 256;

/// What is wrong with the sub-flows of `workflow` (stored as `id`; `None` while new): a
/// sub-flow step whose workflow leads back to `id` or to itself — a cycle of sub-flows —
/// or nests deeper than [`MAX_SUB_FLOW_DEPTH`]; with `unknown`, also one naming a workflow
/// that is not stored (a run needs it; a save allows it, the workflow may come later).
/// Each problem names the step and the chain of workflows.
pub async fn sub_flow_problems(
    store: &dyn crate::store::Store,
    id: Option<&str>,
    workflow: &Workflow,
    unknown: bool,
) -> Result<Vec<Problem>, AppError> {
    let mut problems = Vec::new();
    let mut read: HashMap<String, Option<Arc<Workflow>>> = HashMap::new();
    for (i, node) in workflow.nodes.iter().enumerate() {
        let Some(first) = &node.sub_flow else {
            continue;
        };
        let problem = |message: String| Problem {
            path: format!("nodes[{i}].sub_flow"),
            node: Some(node.id.clone()),
            edge: None,
            field: "sub_flow".into(),
            message,
        };
        // Depth first through what the sub-flow runs, with the chain that led there.
        let root = id.unwrap_or("this workflow").to_string();
        let mut stack = vec![vec![root.clone(), first.clone()]];
        let mut found = None;
        while let Some(chain) = stack.pop() {
            let here = chain.last().cloned().unwrap_or_default();
            if chain[..chain.len() - 1].contains(&here) {
                found = Some(format!(
                    "step {} runs sub-flow {first}, and that leads back: {} — a cycle of sub-flows is refused",
                    node.id,
                    chain.join(" → ")
                ));
                break;
            }
            if chain.len() - 1 > MAX_SUB_FLOW_DEPTH {
                found = Some(format!(
                    "step {} runs sub-flow {first}, and sub-flows nest deeper than {MAX_SUB_FLOW_DEPTH} levels from there: {}",
                    node.id,
                    chain.join(" → ")
                ));
                break;
            }
            if !read.contains_key(&here) {
                if read.len() >= MAX_SUB_FLOWS_READ {
                    found = Some(format!(
                        "step {} runs sub-flow {first}, which leads to more than {MAX_SUB_FLOWS_READ} workflows",
                        node.id
                    ));
                    break;
                }
                let stored = match id {
                    Some(me) if me == here => None,
                    _ => crate::store::named_workflow(store, &here)
                        .await?
                        .map(|r| Arc::new(r.workflow)),
                };
                read.insert(here.clone(), stored);
            }
            match read.get(&here).cloned().flatten() {
                Some(called) => {
                    for next in called.nodes.iter().filter_map(|n| n.sub_flow.clone()) {
                        let mut longer = chain.clone();
                        longer.push(next);
                        stack.push(longer);
                    }
                }
                None if unknown && chain.len() == 2 && Some(here.as_str()) != id => {
                    found = Some(format!(
                        "step {} runs sub-flow {first}, and there is no workflow with id or name {first:?}",
                        node.id
                    ));
                    break;
                }
                None => {}
            }
        }
        problems.extend(found.map(problem));
    }
    Ok(problems)
}
