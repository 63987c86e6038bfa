//! The REST API against a real server on port 0 and a real SQLite file: round trips and
//! every error status.

use crate::common;

use common::{node, TestServer};
use serde_json::{json, Value};

#[tokio::test]
async fn health_and_the_shipped_templates() {
    let server = TestServer::start().await;
    let health: Value = server.get_json("/api/health").await;
    assert_eq!(health["status"], "ok");

    // A new database holds the article's scenarios as read-only templates, and the user's
    // list holds only the user's own work: nothing yet.
    let list: Vec<Value> = server.get_json("/api/workflows").await;
    assert!(
        list.is_empty(),
        "no example is copied into the user's list: {list:?}"
    );
    for example in app::model::examples::ALL {
        let id = app::model::examples::template_id(example.key);
        let record: Value = server.get_json(&format!("/api/workflows/{id}")).await;
        assert_eq!(record["id"], id.as_str());
        assert_eq!(record["template"], example.key);
    }
    let template = app::model::examples::template_id("order-orchestrated");
    let record: Value = server.get_json(&format!("/api/workflows/{template}")).await;
    assert_eq!(record["name"], "OrderProcessing");
    assert_eq!(record["nodes"].as_array().unwrap().len(), 3);

    // A template is read-only: replacing or deleting it is refused and changes nothing.
    let put = server
        .http
        .put(server.url(&format!("/api/workflows/{template}")))
        .json(&json!({"name": "Mine", "nodes": [node("a")], "edges": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);
    let body: Value = put.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("read-only"),
        "{body}"
    );
    let delete = server
        .http
        .delete(server.url(&format!("/api/workflows/{template}")))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 403);
    let after: Value = server.get_json(&format!("/api/workflows/{template}")).await;
    assert_eq!(after, record);

    // It runs like any workflow (the lessons and the lab use it).
    let run = server
        .post_json(&format!("/api/workflows/{template}/runs"), &json!({}))
        .await;
    assert_eq!(run.status(), 201);
    let run: Value = run.json().await.unwrap();
    let report = server.wait_run(run["id"].as_str().unwrap()).await;
    assert_eq!(report["status"], "completed", "{report}");
    // Orchestrated: the orchestrator's record holds the run; three steps one after another.
    let full: Value = server
        .get_json(&format!("/api/runs/{}", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        full["visibility"],
        json!({"state_places": 1, "logs_to_read": 1, "longest_chain": 3}),
        "{full}"
    );
    let events = app::model::examples::template_id("order-choreographed");
    let run: Value = server
        .post_json(&format!("/api/workflows/{events}/runs"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    server.wait_run(run["id"].as_str().unwrap()).await;
    let full: Value = server
        .get_json(&format!("/api/runs/{}", run["id"].as_str().unwrap()))
        .await;
    // Choreographed: each of the three services holds its part; the broker's log too.
    assert_eq!(
        full["visibility"],
        json!({"state_places": 3, "logs_to_read": 4, "longest_chain": 3}),
        "{full}"
    );

    // Restarting on the same file keeps the user's work and stores the templates once.
    let id = server
        .create_workflow(&json!({"name": "Mine", "nodes": [node("a")], "edges": []}))
        .await;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let list: Vec<Value> = server.get_json("/api/workflows").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let again: Value = server.get_json(&format!("/api/workflows/{template}")).await;
    assert_eq!(
        again["revision"], record["revision"],
        "an unchanged template is left alone"
    );
}

#[tokio::test]
async fn workflow_round_trip() {
    let server = TestServer::start().await;
    let doc = json!({
        "name": "Order",
        "nodes": [
            {"id": "order", "label": "Order Placement", "service": "OrderService", "action": "place", "position": {"x": 80, "y": 120}},
            {"id": "payment", "label": "Payment", "service": "PaymentService", "action": "charge", "position": {"x": 320, "y": 120}},
            {"id": "email", "label": "Email", "service": "EmailService", "action": "send", "position": {"x": 560, "y": 120}}
        ],
        "edges": [
            {"from": "order", "to": "payment", "kind": "command"},
            {"id": "notify", "from": "payment", "to": "email", "kind": "event", "event": "PaymentCharged"},
            {"from": "payment", "to": "email", "kind": "event", "on": "failure"}
        ]
    });
    let response = server.post_json("/api/workflows", &doc).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "Order");
    let edge_ids: Vec<&str> = created["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        edge_ids,
        ["e1", "notify", "e2"],
        "missing edge ids are assigned, given ones kept"
    );
    assert_eq!(created["edges"][2]["on"], "failure");
    assert!(
        created["edges"][0].get("on").is_none(),
        "the default outcome is left out"
    );

    let read: Value = server.get_json(&format!("/api/workflows/{id}")).await;
    assert_eq!(read, created);

    let mut changed = created.clone();
    for field in ["id", "created_at", "updated_at", "revision"] {
        changed.as_object_mut().unwrap().remove(field);
    }
    changed["name"] = json!("Order v2");
    changed["nodes"][0]["position"] = json!({"x": 10.5, "y": 20});
    let response = server
        .http
        .put(server.url(&format!("/api/workflows/{id}")))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let read: Value = server.get_json(&format!("/api/workflows/{id}")).await;
    assert_eq!(read["name"], "Order v2");
    assert_eq!(read["nodes"][0]["position"]["x"], 10.5);
    assert_eq!(read["created_at"], created["created_at"]);

    let response = server
        .http
        .delete(server.url(&format!("/api/workflows/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for _ in 0..2 {
        let gone = server
            .http
            .get(server.url(&format!("/api/workflows/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 404);
    }
    let again = server
        .http
        .delete(server.url(&format!("/api/workflows/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

async fn error_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error bodies are JSON");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert!(body["details"].is_array(), "{body}");
    body
}

#[tokio::test]
async fn every_error_status_with_a_json_body() {
    let server = TestServer::start().await;
    let count = || async { server.workflow_count().await };
    let before = count().await;

    // Malformed JSON: 400, with where it broke.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let body = error_of(response, 400).await;
    assert!(body["error"].as_str().unwrap().contains("line 1"), "{body}");

    // An invalid workflow: 422, every problem at once, each naming node/edge and field.
    let bad = json!({
        "name": "Bad",
        "nodes": [node("a"), node("a"), {"id": "b", "label": "", "service": "S", "action": "x"}],
        "edges": [
            {"from": "a", "to": "ghost", "kind": "command"},
            {"id": "k", "from": "a", "to": "b", "kind": "message"}
        ]
    });
    let body = error_of(server.post_json("/api/workflows", &bad).await, 422).await;
    let details = body["details"].as_array().unwrap();
    let has = |path: &str, fragment: &str| {
        details
            .iter()
            .any(|d| d["path"] == path && d["message"].as_str().unwrap_or("").contains(fragment))
    };
    assert!(has("nodes[1].id", "duplicate node id \"a\""), "{body}");
    assert!(has("nodes[2].label", "must not be empty"), "{body}");
    assert!(has("edges[0].to", "unknown node \"ghost\""), "{body}");
    assert!(has("edges[1].kind", "\"command\" or \"event\""), "{body}");
    assert_eq!(details.len(), 4, "{body}");
    let kind = details
        .iter()
        .find(|d| d["path"] == "edges[1].kind")
        .unwrap();
    assert_eq!(kind["edge"], "k");
    assert_eq!(kind["field"], "kind");

    // Unknown fields are refused, naming the field.
    let body = error_of(
        server
            .post_json(
                "/api/workflows",
                &json!({"name": "X", "nodes": [], "edges": [], "colour": "red"}),
            )
            .await,
        422,
    )
    .await;
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );

    // Limits: a string over 200 characters; a body over 1 MiB.
    let long = "x".repeat(201);
    let body = error_of(
        server
            .post_json(
                "/api/workflows",
                &json!({"name": long, "nodes": [], "edges": []}),
            )
            .await,
        422,
    )
    .await;
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 200"),
        "{body}"
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024));
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    error_of(response, 413).await;

    // Unknown ids: 404 for workflows, runs, and runs of unknown workflows.
    let response = server
        .http
        .put(server.url("/api/workflows/nope"))
        .json(&json!({"name": "X", "nodes": [], "edges": []}))
        .send()
        .await
        .unwrap();
    error_of(response, 404).await;
    error_of(
        server
            .post_json("/api/workflows/nope/runs", &json!({}))
            .await,
        404,
    )
    .await;
    let response = server
        .http
        .get(server.url("/api/runs/nope"))
        .send()
        .await
        .unwrap();
    error_of(response, 404).await;
    let response = server
        .http
        .get(server.url("/api/nothing/here"))
        .send()
        .await
        .unwrap();
    error_of(response, 404).await;

    // A malformed run request is refused before anything is stored.
    let id = server
        .create_workflow(&json!({"name": "One", "nodes": [node("a")], "edges": []}))
        .await;
    let response = server
        .http
        .post(server.url(&format!("/api/workflows/{id}/runs")))
        .header("Content-Type", "application/json")
        .body("{\"input\": ")
        .send()
        .await
        .unwrap();
    error_of(response, 400).await;
    let body = error_of(
        server
            .post_json(&format!("/api/workflows/{id}/runs"), &json!({"inptu": {}}))
            .await,
        422,
    )
    .await;
    assert!(body["error"].as_str().unwrap().contains("inptu"), "{body}");

    // A state-changing request from another site's page: 403, nothing stored.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Origin", "http://evil.example")
        .json(&json!({"name": "Sneaky", "nodes": [], "edges": []}))
        .send()
        .await
        .unwrap();
    error_of(response, 403).await;
    // The same request from the server's own origin passes.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Origin", format!("http://{}", server.addr))
        .json(&json!({"name": "Own", "nodes": [], "edges": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    assert_eq!(
        count().await,
        before + 2,
        "only the two valid creates were stored"
    );
}

#[tokio::test]
async fn import_every_format_and_export_it_again() {
    let server = TestServer::start().await;
    let import = |body: String, format: Option<&str>| {
        let url = match format {
            Some(f) => server.url(&format!("/api/workflows/import?format={f}")),
            None => server.url("/api/workflows/import"),
        };
        server
            .http
            .post(url)
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
    };
    let article = r#"{"workflow": {"name": "OrderProcessing", "steps": [
        {"name": "ValidateOrder", "service": "OrderService", "action": "validate"},
        {"name": "ChargePayment", "service": "PaymentService", "action": "charge"}]}}"#;
    let conductor = json!({"name": "c", "tasks": [
        {"name": "a", "taskReferenceName": "a", "type": "SIMPLE"},
        {"name": "b", "taskReferenceName": "b", "type": "SIMPLE"}]})
    .to_string();
    let native = json!({"name": "n", "nodes": [node("a")], "edges": []}).to_string();
    for (body, format, nodes) in [
        (article.to_string(), None, 2),
        (conductor.clone(), Some("conductor"), 2),
        ("a >> b >> c".to_string(), None, 3),
        (native, Some("native"), 1),
    ] {
        let response = import(body, format).await.unwrap();
        assert_eq!(response.status(), 201, "{format:?}");
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["nodes"].as_array().unwrap().len(), nodes);
    }

    let response = import("order -> pay\npay ~> mail : Paid\n".into(), Some("text"))
        .await
        .unwrap();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let export = |format: &str| {
        server
            .http
            .get(server.url(&format!("/api/workflows/{id}/export?format={format}")))
            .send()
    };
    let mermaid = export("mermaid").await.unwrap();
    assert_eq!(mermaid.status(), 200);
    assert!(mermaid.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let mermaid = mermaid.text().await.unwrap();
    assert!(mermaid.starts_with("---\ntitle: ") && mermaid.contains("\nflowchart LR\n"));
    assert!(mermaid.contains("order --> pay") && mermaid.contains("pay -. Paid .-> mail"));
    let bpmn = export("bpmn").await.unwrap();
    assert!(bpmn.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let bpmn = bpmn.text().await.unwrap();
    assert!(bpmn.contains("<bpmn:process ") && bpmn.contains("<bpmndi:BPMNDiagram "));
    let asyncapi: Value = export("asyncapi").await.unwrap().json().await.unwrap();
    assert_eq!(asyncapi["channels"]["Paid"]["address"], "Paid");
    // What the server exports, it imports again (BPMN sent as XML).
    let back = server
        .http
        .post(server.url("/api/workflows/import?format=bpmn"))
        .header("content-type", "application/xml")
        .body(bpmn)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 201);
    let text = export("text").await.unwrap().text().await.unwrap();
    assert!(text.contains("pay ~> mail : Paid"));
    let json: Value = export("json").await.unwrap().json().await.unwrap();
    assert_eq!(json["edges"][1]["event"], "Paid");
    error_of(export("pdf").await.unwrap(), 400).await;

    // Refusals name the line or task, and store nothing.
    let before = server.workflow_count().await;
    let body = error_of(
        import("a -> b\nnonsense here\n".into(), None)
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["details"][0]["path"], "line 2");
    let body = error_of(
        import(
            json!({"name": "x", "tasks": [{"name": "w", "taskReferenceName": "w", "type": "KAFKA_PUBLISH"}]}).to_string(),
            None,
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("\"w\" has type KAFKA_PUBLISH"),
        "{body}"
    );
    error_of(import("{\"workflow\": ".into(), None).await.unwrap(), 400).await;
    error_of(import("a -> b".into(), Some("yaml")).await.unwrap(), 400).await;
    let after = server.workflow_count().await;
    assert_eq!(before, after);
}

/// An import asked for in Korean is refused in Korean — the summary, every problem and where
/// it is, particles fitting the names — while paths given by the input (a task's place)
/// stay as written; English is still the default, and nothing is stored either way.
#[tokio::test]
async fn an_import_refused_in_the_language_the_request_accepts() {
    let server = TestServer::start().await;
    let refuse = |body: String, language: Option<&'static str>| {
        let mut request = server
            .http
            .post(server.url("/api/workflows/import"))
            .header("Content-Type", "text/plain")
            .body(body);
        if let Some(language) = language {
            request = request.header("Accept-Language", language);
        }
        request.send()
    };
    let before = server.workflow_count().await;
    let text = "order -> pay\norder => ship\n".to_string();

    let response = refuse(text.clone(), Some("ko-KR,ko;q=0.9,en;q=0.5"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-language"], "ko");
    let body = error_of(response, 422).await;
    assert_eq!(body["details"][0]["path"], "2번째 줄");
    assert_eq!(
        body["details"][0]["message"],
        "\"order => ship\"는 읽을 수 없습니다. `a -> b`, `a ~> b : Event`, `a >> b` 또는 단계 이름을 쓰세요"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("가져올 수 없습니다: 2번째 줄: "),
        "{body}"
    );

    // Without the header, or asking for a language there is none of, it is English.
    for language in [None, Some("fr-FR")] {
        let response = refuse(text.clone(), language).await.unwrap();
        assert_eq!(response.headers()["content-language"], "en");
        let body = error_of(response, 422).await;
        assert_eq!(body["details"][0]["path"], "line 2");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("cannot import: line 2: expected"),
            "{body}"
        );
    }

    // A Conductor task of a type it does not read, a BPMN gateway, a limit: each in Korean.
    let conductor = json!({"name": "x", "tasks": [{"name": "w", "taskReferenceName": "w", "type": "KAFKA_PUBLISH"}]});
    let body = error_of(
        refuse(conductor.to_string(), Some("ko")).await.unwrap(),
        422,
    )
    .await;
    assert_eq!(body["details"][0]["path"], "tasks[0].type");
    assert_eq!(
        body["details"][0]["message"],
        "태스크 \"w\"의 유형 KAFKA_PUBLISH는 Hybridflow가 가져오지 않습니다(가져오는 유형: SIMPLE, FORK_JOIN, JOIN, EVENT, SWITCH, DECISION, WAIT, DO_WHILE, FORK_JOIN_DYNAMIC, SUB_WORKFLOW)"
    );
    let bpmn = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
<task id="a"/><complexGateway id="choose"/></process></definitions>"#;
    let body = error_of(refuse(bpmn.into(), Some("ko")).await.unwrap(), 422).await;
    assert_eq!(body["details"][0]["path"], "2번째 줄");
    assert!(
        body["details"][0]["message"].as_str().unwrap().starts_with(
            "complexGateway \"choose\"는 Hybridflow가 모델링하지 않는 규칙으로 경로를 고릅니다."
        ),
        "{body}"
    );
    let nested = (0..40).fold(
        json!([{"name": "x", "type": "SIMPLE"}]),
        |inner, _| json!([{"name": "f", "type": "FORK_JOIN", "forkTasks": [inner]}]),
    );
    let body = error_of(
        refuse(
            json!({"name": "deep", "tasks": nested}).to_string(),
            Some("ko"),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("포크와 스위치가 32단계보다 깊게 중첩되어 있습니다. 최대 32단계입니다"),
        "{body}"
    );
    // A native document that breaks the model: its problems in Korean too.
    let body = error_of(
        refuse(
            json!({"name": "", "nodes": [], "edges": []}).to_string(),
            Some("ko"),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["error"], "워크플로에 문제가 1개 있습니다");
    assert_eq!(body["details"][0]["message"], "비어 있으면 안 됩니다");
    assert_eq!(server.workflow_count().await, before);
}
