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
    components(schemas(ErrorBody, Workflow, app::model::call::CallRequest, app::model::call::CallReply))
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
        .routes(routes!(runs::message))
        .routes(routes!(events::stream))
        .routes(routes!(lab::convert))
        .routes(routes!(lab::list, lab::start))
        .routes(routes!(lab::read))
        .routes(routes!(lab::verify))
        .routes(routes!(lab::test))
        .routes(routes!(lab::cancel_batch))
        .routes(routes!(lab::list_loads, lab::start_load))
        .routes(routes!(lab::read_load))
        .routes(routes!(lab::cancel_load))
}

/// The OpenAPI document, as served.
pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let (_, spec) = routes().split_for_parts();
    let mut spec = serde_json::to_value(&spec).unwrap_or_default();
    spec["webhooks"] = call_contract();
    spec
});

/// The call contract, as OpenAPI 3.1 `webhooks`: what Hybridflow sends a real service a
/// step is bound to (`call.http`), and what each reply means — enough to generate a
/// service's stub from.
fn call_contract() -> Value {
    serde_json::json!({"serviceCall": {"post": {
    "summary": "What a service bound to a step receives, for each attempt",
    "description": "A POST to the step's `call.http.url`: the same JSON whether the orchestrator commands the step (`kind: command`, `data` the run data) or the bus delivers it an event (`kind: event`, `event` its name, `data` the event's payload); when the saga undoes the step, `kind: undo` with the compensation's name in `action`, under the key with `/undo` (2xx: compensated, 4xx: its compensation failed, 5xx: retried). Made once the attempt's start is durable; sent again under the same idempotency key after a crash, and for every retry of the execution. A step bound by a NATS subject gets the same JSON as a NATS request (the key also as a header; a `Nats-Service-Error-Code` header on the reply stands for its status). No redirects are followed; a reply is read up to 256 KiB.",
    "operationId": "serviceCall",
    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": true,
        "description": "The same as the body's `idempotency_key`: `<run>/<step>/<execution>`.",
        "schema": {"type": "string"}}],
    "requestBody": {"required": true, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/CallRequest"}}}},
    "responses": {
        "2XX": {"description": "Success: the step writes the reply's `writes` into the run data; in choreography `publish` picks which of its events it publishes; a `failure` makes it a business failure. An empty body writes nothing.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CallReply"}}}},
        "4XX": {"description": "A business failure: the step fails at once onto its failure route (reason `declined`), not retried. `failure` or `error` in a JSON body is recorded as what was wrong.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CallReply"}}}},
        "5XX": {"description": "Retried per the step's retry policy, with the same idempotency key (as are a refused connection, an unreadable or oversized reply, and no answer within the step's timeout)."}
    }}}})
}

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

/// HTML text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The schema a body or answer names: its component's name, or its type.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema["type"].as_str() {
        Some("array") => format!("array of {}", schema_name(&schema["items"])),
        Some(t) => t.to_string(),
        None => "any".into(),
    }
}

/// `GET /docs/api`: the OpenAPI description as a page to read, grouped by tag, each
/// operation with its parameters, body (and example) and answers; the schemas last.
pub fn docs_page() -> String {
    use std::fmt::Write as _;
    let spec = &*SPEC;
    let mut out = String::new();
    let title = spec["info"]["title"].as_str().unwrap_or("API");
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><link rel=\"stylesheet\" href=\"/pkg/hybridflow.css\"></head><body class=\"api-docs-page\"><main class=\"api-docs\"><header><nav><a href=\"/\">← Hybridflow</a><a href=\"/api/openapi.json\">openapi.json (OpenAPI {v})</a><a href=\"/api/schema/workflow.json\">workflow.json (JSON Schema)</a></nav><h1>{t}</h1><p>{d}</p></header>",
        t = escape(title),
        v = escape(spec["openapi"].as_str().unwrap_or("")),
        d = prose(spec["info"]["description"].as_str().unwrap_or("")),
    );
    // The table of contents: every tag and, under it, every operation, each a link.
    let mut toc =
        String::from("<nav class=\"api-toc\" aria-label=\"Contents\"><h2>Contents</h2><ol>");
    let mut body = String::new();
    for tag in spec["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or("");
        let _ = write!(toc, "<li><a href=\"#{n}\">{n}</a><ol>", n = escape(name));
        let out = &mut body;
        let _ = write!(
            out,
            "<section class=\"tag\" id=\"{n}\"><h2>{n}</h2><p>{d}</p>",
            n = escape(name),
            d = prose(tag["description"].as_str().unwrap_or(""))
        );
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                if !op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == name))
                {
                    continue;
                }
                let anchor = operation_anchor(method, path);
                let _ = write!(
                    toc,
                    "<li><a href=\"#{a}\"><span class=\"method {m}\">{m}</span> {p}</a> {s}</li>",
                    a = anchor,
                    m = escape(method),
                    p = escape(path),
                    s = escape(op["summary"].as_str().unwrap_or(""))
                );
                let _ = write!(
                    out,
                    "<article class=\"operation\" id=\"{a}\"><h3><span class=\"method {m}\">{m}</span> {p}</h3><p><strong>{s}</strong></p>",
                    a = anchor,
                    m = escape(method),
                    p = escape(path),
                    s = prose(op["summary"].as_str().unwrap_or(""))
                );
                if let Some(d) = op["description"].as_str() {
                    let _ = write!(out, "<p>{}</p>", prose(d));
                }
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    out.push_str("<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>What</th></tr>");
                    for p in params {
                        let _ = write!(
                            out,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(p["name"].as_str().unwrap_or("")),
                            escape(p["in"].as_str().unwrap_or("")),
                            if p["required"] == true { "yes" } else { "no" },
                            prose(p["description"].as_str().unwrap_or(""))
                        );
                    }
                    out.push_str("</table>");
                }
                for (media, body) in op["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    let _ = write!(
                        out,
                        "<p>Body: <code>{}</code> ({})</p>",
                        escape(&schema_name(&body["schema"])),
                        escape(media)
                    );
                    match &body["example"] {
                        Value::Null => {}
                        Value::String(s) => {
                            let _ = write!(out, "<pre>{}</pre>", escape(s));
                        }
                        e => {
                            let pretty = serde_json::to_string_pretty(e).unwrap_or_default();
                            let _ = write!(out, "<pre>{}</pre>", escape(&pretty));
                        }
                    }
                }
                out.push_str("<table><tr><th>Answer</th><th>What</th><th>Body</th></tr>");
                for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    let body = r["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| schema_name(&c["schema"]))
                        .unwrap_or_default();
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        escape(status),
                        prose(r["description"].as_str().unwrap_or("")),
                        escape(&body)
                    );
                }
                out.push_str("</table></article>");
            }
        }
        out.push_str("</section>");
        toc.push_str("</ol></li>");
    }
    toc.push_str("<li><a href=\"#schemas\">Schemas</a></li></ol></nav>");
    out.push_str(&toc);
    out.push_str(&body);
    out.push_str("<section class=\"tag\" id=\"schemas\"><h2>Schemas</h2>");
    for (name, schema) in spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        let _ = write!(
            out,
            "<details id=\"schema-{n}\"><summary><code>{n}</code></summary><pre>{s}</pre></details>",
            n = escape(name),
            s = escape(&pretty)
        );
    }
    out.push_str("</section></main></body></html>");
    out
}

/// A description's text as HTML: escaped, with `code` spans (the descriptions are written
/// in Markdown's backticks, which a reader should not see).
fn prose(text: &str) -> String {
    let mut html = String::new();
    let mut parts = text.split('`').peekable();
    let mut code = false;
    while let Some(part) = parts.next() {
        // A lone backtick at the end stays as it is.
        if code && parts.peek().is_none() && !text.ends_with('`') {
            html.push('`');
            html.push_str(&escape(part));
            break;
        }
        if code {
            html.push_str("<code>");
            html.push_str(&escape(part));
            html.push_str("</code>");
        } else {
            html.push_str(&escape(part));
        }
        code = !code;
    }
    html
}

/// The id of an operation's article: `op-put-api-workflows-id`.
fn operation_anchor(method: &str, path: &str) -> String {
    let mut anchor = format!("op-{method}");
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            anchor.push(c.to_ascii_lowercase());
        } else if !anchor.ends_with('-') {
            anchor.push('-');
        }
    }
    anchor.trim_end_matches('-').to_string()
}

/// The page of [`docs_page`], made once.
pub static DOCS_PAGE: LazyLock<String> = LazyLock::new(docs_page);
