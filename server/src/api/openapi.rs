//! The API described: OpenAPI 3.1 at `/api/openapi.json`, generated from the handlers'
//! own annotations and the model's types (utoipa), and the JSON Schema of the workflow
//! document at `/api/schema/workflow.json` (the same types; a copy is in `docs/`).
//!
//! The router is built from the same registrations as the document ([`routes`]): a route
//! cannot be served without being described.

use std::sync::LazyLock;

use app::model::api::ErrorBody;
use app::model::Workflow;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{events, lab, runs, workflows, AppState};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hybridflow API",
        description = "Draw, run and compare orchestrated and choreographed workflows. Every refusal is an ErrorBody: a stable `code`, an English `error`, and `details` naming the node, edge, field, line or limit. State-changing requests and WebSocket upgrades must come from this server's own origin (or none, for scripts); the Host must be one it serves.",
        license(name = "MIT")
    ),
    tags(
        (name = "workflows", description = "Workflows: the native document, imports and exports in every format"),
        (name = "runs", description = "Runs: start one, read it, break things during it, cancel it"),
        (name = "live", description = "WebSockets: a run's history live, the runs feed"),
        (name = "lab", description = "The trade-off lab: conversions, batches compared on the same seeds, load tests"),
        (name = "service", description = "Health, readiness, metrics, and this description")
    ),
    components(schemas(ErrorBody, Workflow))
)]
struct ApiDoc;

/// Every API route with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(super::health))
        .routes(routes!(super::ready))
        .routes(routes!(super::metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(workflow_schema_json))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(workflows::import))
        .routes(routes!(workflows::export))
        .routes(routes!(
            workflows::read,
            workflows::replace,
            workflows::delete
        ))
        .routes(routes!(runs::start, runs::list))
        .routes(routes!(events::feed))
        .routes(routes!(runs::read))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::faults))
        .routes(routes!(events::stream))
        .routes(routes!(lab::convert))
        .routes(routes!(lab::list, lab::start))
        .routes(routes!(lab::read))
        .routes(routes!(lab::cancel_batch))
        .routes(routes!(lab::list_loads, lab::start_load))
        .routes(routes!(lab::read_load))
        .routes(routes!(lab::cancel_load))
}

/// The OpenAPI document, as served.
pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let (_, spec) = routes().split_for_parts();
    serde_json::to_value(&spec).unwrap_or_default()
});

/// The JSON Schema (2020-12) of the workflow document: the `Workflow` schema of [`SPEC`]
/// with every schema it refers to under `$defs`; a document may name it in `"$schema"`.
pub static WORKFLOW_SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let schemas = SPEC["components"]["schemas"].clone();
    let mut defs = Map::new();
    let mut todo = vec!["Workflow".to_string()];
    while let Some(name) = todo.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = schemas[&name].clone();
        let text = schema.to_string();
        for r in text.split("\"#/components/schemas/").skip(1) {
            if let Some(end) = r.find('"') {
                todo.push(r[..end].to_string());
            }
        }
        defs.insert(name, schema);
    }
    let workflow = defs.remove("Workflow").unwrap_or_default();
    let mut doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hybridflow.dev/schema/workflow.json",
        "title": "Hybridflow workflow",
        "description": "A workflow as Hybridflow stores, imports and exports it: steps (nodes) and the commands and events (edges) between them. A document may name this schema in \"$schema\".",
    });
    if let (Value::Object(d), Value::Object(w)) = (&mut doc, workflow) {
        d.extend(w);
        if let Some(Value::Object(properties)) = d.get_mut("properties") {
            properties.insert(
                "$schema".into(),
                json!({"type": "string", "description": "This schema's address, for editors; ignored by Hybridflow."}),
            );
        }
        d.insert("$defs".into(), Value::Object(defs));
    }
    let text = doc.to_string().replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap_or_default()
});

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service", summary = "This API's OpenAPI 3.1 description", responses((status = 200, description = "The OpenAPI document", body = serde_json::Value)))]
pub async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(SPEC.clone()),
    )
}

/// `GET /api/schema/workflow.json`.
#[utoipa::path(get, path = "/api/schema/workflow.json", tag = "service", summary = "The JSON Schema of the workflow document", responses((status = 200, description = "JSON Schema 2020-12", content_type = "application/schema+json", body = serde_json::Value)))]
pub async fn workflow_schema_json() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/schema+json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WORKFLOW_SCHEMA.to_string(),
    )
}
