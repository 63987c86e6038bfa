//! The API's description against the real server: every operation of /api/openapi.json
//! is served (its documented statuses, never "no API route"), every request example in it
//! is accepted, and the workflow JSON Schema accepts every shipped template and refuses
//! what the server refuses. The router is built from the same registrations as the
//! description, so a route cannot be served undescribed.

use crate::common;

use common::TestServer;
use serde_json::{json, Value};

/// The operations in an order where what an operation needs exists: creations first,
/// deletions last.
fn rank(method: &str, path: &str) -> u8 {
    match (method, path) {
        ("post", "/api/workflows") => 0,
        ("post", "/api/workflows/{id}/runs") => 1,
        ("post", "/api/lab/batches" | "/api/lab/loads") => 2,
        ("delete", _) => 9,
        (_, p) if p.ends_with("/cancel") => 8,
        _ => 5,
    }
}

#[tokio::test]
async fn every_described_operation_is_served_and_every_example_accepted() {
    let server = TestServer::start().await;
    let spec: Value = server.get_json("/api/openapi.json").await;
    assert_eq!(spec["openapi"], "3.1.0");
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.push((method.clone(), path.clone(), op.clone()));
        }
    }
    assert!(operations.len() >= 28, "{} operations", operations.len());
    operations.sort_by_key(|(m, p, _)| (rank(m, p), p.clone(), m.clone()));
    let mut ids: std::collections::HashMap<&str, String> = Default::default();
    let mut examples = 0;
    for (method, path, op) in &operations {
        let kind = if path.starts_with("/api/runs/") {
            "run"
        } else if path.starts_with("/api/lab/batches/") {
            "batch"
        } else if path.starts_with("/api/lab/loads/") {
            "load"
        } else {
            "workflow"
        };
        let mut url = path.replace("{id}", ids.get(kind).map_or("none", String::as_str));
        let mut query = Vec::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" && p["required"] == true {
                query.push(format!(
                    "{}={}",
                    p["name"].as_str().unwrap(),
                    ids["workflow"]
                ));
            }
        }
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut request = server
            .http
            .request(method.to_uppercase().parse().unwrap(), server.url(&url));
        let content = &op["requestBody"]["content"];
        let example = content
            .as_object()
            .and_then(|c| c.iter().next())
            .map(|(media, body)| (media.clone(), body["example"].clone()))
            .filter(|(_, e)| !e.is_null());
        if let Some((media, example)) = &example {
            examples += 1;
            let body = match example {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            request = request.header("content-type", media.as_str()).body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let documented = op["responses"].as_object().unwrap();
        assert!(
            documented.contains_key(&status.to_string()),
            "{method} {url}: {status} is not among the documented {:?}: {body}",
            documented.keys().collect::<Vec<_>>()
        );
        if example.is_some() {
            assert!(
                (200..300).contains(&status),
                "{method} {path}'s example was refused: {body}"
            );
        }
        match (method.as_str(), path.as_str()) {
            ("post", "/api/workflows") => {
                ids.insert("workflow", body["id"].as_str().unwrap().to_string());
            }
            ("post", "/api/workflows/{id}/runs") => {
                ids.insert("run", body["id"].as_str().unwrap().to_string());
            }
            ("post", "/api/lab/batches") => {
                ids.insert("batch", body["id"].as_str().unwrap().to_string());
            }
            ("post", "/api/lab/loads") => {
                ids.insert("load", body["id"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    assert!(examples >= 7, "only {examples} request examples");
    // What is not described is not served.
    let response = server
        .http
        .get(server.url("/api/not-described"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_workflow_schema_accepts_every_template_and_refuses_what_the_server_refuses() {
    let server = TestServer::start().await;
    let response = server
        .http
        .get(server.url("/api/schema/workflow.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/schema+json"
    );
    let schema: Value = response.json().await.unwrap();
    let in_docs: Value =
        serde_json::from_str(include_str!("../../../docs/workflow.schema.json")).unwrap();
    assert_eq!(
        schema, in_docs,
        "docs/workflow.schema.json is out of date: `cargo run -p server -- schema > docs/workflow.schema.json`"
    );
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    for example in app::model::examples::ALL {
        let doc = serde_json::to_value(app::model::examples::from_template(example)).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", example.key);
    }
    // A document naming its schema is one the server takes.
    let mut named = serde_json::to_value(app::model::examples::from_template(
        &app::model::examples::ALL[0],
    ))
    .unwrap();
    named["$schema"] = json!(server.url("/api/schema/workflow.json"));
    named.as_object_mut().unwrap().remove("template");
    assert!(validator.is_valid(&named));
    assert_eq!(
        server.post_json("/api/workflows", &named).await.status(),
        201
    );
    // What the schema refuses, the server refuses.
    for bad in [
        json!({"name": "x", "nodes": [{"id": "a", "label": "A", "service": "S", "action": "a", "colour": "red"}]}),
        json!({"name": "x", "edges": [{"from": "a", "to": "b", "kind": "telepathy"}]}),
        json!({"nodes": []}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
        let status = server.post_json("/api/workflows", &bad).await.status();
        assert!(status == 422 || status == 400, "{bad}: {status}");
    }
}

/// What the description says of a stale `If-Match` is what the server answers, and the page
/// made of the description shows it: its code rendered, a table of contents to every
/// operation.
#[tokio::test]
async fn the_api_page_says_what_the_server_answers_and_can_be_found_in() {
    let server = TestServer::start().await;
    let spec: Value = server.get_json("/api/openapi.json").await;
    let id = server
        .create_workflow(&json!({"name": "Docs", "nodes": [common::node("a")], "edges": []}))
        .await;
    let url = server.url(&format!("/api/workflows/{id}"));
    let doc = json!({"name": "Docs again", "nodes": [common::node("a")], "edges": []});
    let fresh = server
        .http
        .put(&url)
        .header("If-Match", "\"r1\"")
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let stale = server
        .http
        .put(&url)
        .header("If-Match", "\"r1\"")
        .json(&doc)
        .send()
        .await
        .unwrap();
    let status = stale.status().as_u16().to_string();
    let put = &spec["paths"]["/api/workflows/{id}"]["put"];
    assert!(
        put["responses"].get(&status).is_some(),
        "a stale If-Match is answered {status}, which the description does not list: {}",
        put["responses"]
    );
    assert!(
        put["description"].as_str().unwrap().contains(&status),
        "{}",
        put["description"]
    );

    let page = server
        .http
        .get(server.url("/docs/api"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    // Every operation has its article and a link to it in the contents.
    let contents = &page[page
        .find("<nav class=\"api-toc\"")
        .expect("a table of contents")..];
    let contents = &contents[..contents.find("</nav>").unwrap()];
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let anchor = format!(
                "op-{method}{}",
                path.to_lowercase().replace(['/', '{', '}', '.', '_'], "-")
            )
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
            assert!(
                contents.contains(&format!("href=\"#{anchor}\"")),
                "no link to {method} {path} ({anchor})"
            );
            assert!(
                page.contains(&format!("id=\"{anchor}\"")),
                "no article {anchor}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 28);
    // Backticks are rendered as code, outside the examples (<pre>) none is left.
    let prose: String = page
        .split("<pre>")
        .map(|part| part.split_once("</pre>").map_or(part, |(_, after)| after))
        .collect();
    assert!(
        !prose.contains('`'),
        "a literal backtick on the page: …{}…",
        {
            let at = prose.find('`').unwrap();
            &prose[at.saturating_sub(80)..(at + 80).min(prose.len())]
        }
    );
    assert!(
        page.contains("<code>If-Match: &lt;ETag&gt;</code>"),
        "the PUT description's code is not rendered"
    );
}

/// The call contract is published as OpenAPI `webhooks` (served in /api/openapi.json): a
/// request as the engine sends it, and the replies the demo services give, validate against
/// the schemas it names; a request missing its key does not.
#[tokio::test]
async fn the_call_contract_is_described_and_what_is_sent_matches_it() {
    use app::model::call::{CallKind, CallRequest};
    let server = TestServer::start().await;
    let spec: Value = server.get_json("/api/openapi.json").await;
    let post = &spec["webhooks"]["serviceCall"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CallRequest"
    );
    assert_eq!(post["parameters"][0]["name"], "Idempotency-Key");
    let text = spec["components"]["schemas"]
        .to_string()
        .replace("#/components/schemas/", "#/$defs/");
    let defs: Value = serde_json::from_str(&text).unwrap();
    let valid = |name: &str, value: &Value| {
        let schema = json!({"$defs": defs, "$ref": format!("#/$defs/{name}")});
        jsonschema::validator_for(&schema)
            .expect("a valid JSON Schema")
            .is_valid(value)
    };
    let sent = CallRequest {
        run: "3f2a".into(),
        step: "payment".into(),
        execution: 1,
        attempt: 2,
        idempotency_key: CallRequest::key_of("3f2a", "payment", 1),
        kind: CallKind::Event,
        event: Some("OrderPlaced".into()),
        action: None,
        data: json!({"order_id": "ord-1"}).as_object().cloned().unwrap(),
    };
    assert!(valid("CallRequest", &serde_json::to_value(&sent).unwrap()));
    let mut keyless = serde_json::to_value(&sent).unwrap();
    keyless.as_object_mut().unwrap().remove("idempotency_key");
    assert!(!valid("CallRequest", &keyless));
    for reply in [
        json!({"writes": {"paid": true, "payment_id": "pay-1"}}),
        json!({"failure": "card expired"}),
        json!({"writes": {}, "publish": ["PaymentCharged"]}),
    ] {
        assert!(valid("CallReply", &reply), "{reply}");
    }
    assert!(!valid("CallReply", &json!({"publish": "PaymentCharged"})));
}
