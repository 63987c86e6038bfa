//! `/api/lab/...` and `/api/runs/{id}/faults` through a real server on a real SQLite file:
//! precise 4xx on bad parameters, a compare batch from start to stored result, the same
//! table for the same seed, conversion saving a copy, and a live fault in a run's history.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use app::model::examples::ecommerce_orchestrated;
use app::model::lab::Batch;
use common::{collect, eventually, node_taking, wait_ended, TestServer};
use serde_json::{json, Value};
use server::clock::{Clock, SystemClock};
use server::store::{LabStore, RunStore, SqlStore, WorkflowStore};

async fn error_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_string()
}

async fn wait_batch(server: &TestServer, id: &str) -> Value {
    wait_ended(server, &format!("/api/lab/batches/{id}"), 30).await
}

#[tokio::test]
async fn bad_compare_parameters_are_refused_precisely_and_nothing_starts() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let cases = [
        (
            json!({"workflow_id": workflow, "runs": 0}),
            422,
            "runs must be from 1 to 5000 per style, got 0",
        ),
        (
            json!({"workflow_id": workflow, "runs": 5001}),
            422,
            "runs must be from 1 to 5000 per style, got 5001",
        ),
        (
            json!({"workflow_id": workflow, "faults": {"bus": {"drop": 1.5}}}),
            422,
            "faults.bus.drop must be a probability between 0 and 1, got 1.5",
        ),
        (
            json!({"workflow_id": workflow, "faults": {"services": {"Nope": {"down": true}}}}),
            422,
            "faults.services.Nope: no step of this workflow uses a service called Nope",
        ),
        (
            json!({"workflow_id": workflow, "faults": {"services": {"PaymentService": {"slow": 0.5}}}}),
            422,
            "faults.services.PaymentService.slow must be between 1 and 100",
        ),
        (
            json!({"workflow_id": workflow, "faults": {"orchestrator": {"for_ms": 700000}}}),
            422,
            "faults.orchestrator.for_ms must be at most 600000 ms, got 700000",
        ),
        (
            json!({"workflow_id": workflow, "input": [1]}),
            422,
            "input must be a JSON object",
        ),
        (
            json!({"workflow_id": workflow, "runs": "many"}),
            422,
            "invalid compare request",
        ),
        (
            json!({"workflow_id": workflow, "speed": 2}),
            422,
            "unknown field `speed`",
        ),
        (
            json!({"workflow_id": workflow, "message_ms": 1001}),
            422,
            "message_ms must be at most 1000, got 1001",
        ),
        (
            json!({"workflow_id": "missing"}),
            404,
            "no workflow with id \"missing\"",
        ),
    ];
    for (body, status, expected) in cases {
        let message = error_of(server.post_json("/api/lab/batches", &body).await, status).await;
        assert!(message.contains(expected), "{body}: {message}");
    }
    let listed: Vec<Value> = server
        .get_json(&format!("/api/lab/batches?workflow={workflow}"))
        .await;
    assert!(listed.is_empty());
    let response = server
        .http
        .get(server.url("/api/lab/batches?limit=5"))
        .send()
        .await
        .unwrap();
    assert!(error_of(response, 400).await.contains("give `workflow`"));
}

#[tokio::test]
async fn a_compare_batch_runs_to_a_stored_table_that_the_same_seed_reproduces() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let request =
        json!({"workflow_id": workflow, "input": {"stock": "none"}, "runs": 40, "seed": 11});
    let response = server.post_json("/api/lab/batches", &request).await;
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    assert_eq!(started["state"], "running");
    let first = wait_batch(&server, started["id"].as_str().unwrap()).await;
    assert_eq!(first["state"], "done", "{first}");
    assert!(first["progress"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["done"] == 40));
    let styles = first["result"]["styles"].as_array().unwrap();
    assert_eq!(styles.len(), 3);
    assert_eq!(styles[0]["outcomes"]["compensated"], 40);
    assert_eq!(styles[2]["style"], "choreography");
    assert_eq!(styles[2]["outcomes"]["inconsistent"], 40);
    assert_eq!(
        first["result"]["matrix"]["rows"].as_array().unwrap().len(),
        6
    );

    let again: Value = server
        .post_json("/api/lab/batches", &request)
        .await
        .json()
        .await
        .unwrap();
    let again = wait_batch(&server, again["id"].as_str().unwrap()).await;
    assert_eq!(again["result"], first["result"], "same seed, same table");

    // Listed newest first; a finished batch cannot be cancelled.
    let listed: Vec<Value> = server
        .get_json(&format!("/api/lab/batches?workflow={workflow}"))
        .await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], again["id"]);
    let cancel = server
        .post_json(
            &format!("/api/lab/batches/{}/cancel", first["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert!(error_of(cancel, 409).await.contains("is not running"));

    // Stored: the table survives a restart.
    let id = first["id"].as_str().unwrap().to_string();
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let stored: Value = server.get_json(&format!("/api/lab/batches/{id}")).await;
    assert_eq!(stored["result"], first["result"]);
}

#[tokio::test]
async fn the_hop_cost_is_modelled_in_a_compare_batch_when_asked() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let batch = |message_ms: u64| {
        let server = &server;
        let workflow = workflow.clone();
        async move {
            let request =
                json!({"workflow_id": workflow, "runs": 10, "seed": 3, "message_ms": message_ms});
            let started: Value = server
                .post_json("/api/lab/batches", &request)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(started["message_ms"].as_u64().unwrap_or(0), message_ms);
            wait_batch(server, started["id"].as_str().unwrap()).await
        }
    };
    let (free, costly) = (batch(0).await, batch(25).await);
    let p50 = |b: &Value, i: usize| {
        b["result"]["styles"][i]["latency_ms"]["p50"]
            .as_u64()
            .unwrap()
    };
    let replies = |b: &Value, i: usize| {
        b["result"]["styles"][i]["messages"]["replies"]
            .as_u64()
            .unwrap()
            / 10
    };
    // Orchestration (1) pays 25 ms for each reply of a run on the same seeds; choreography
    // (2) has no orchestrator and pays nothing.
    assert!(replies(&costly, 1) >= 3, "{costly}");
    assert!(
        p50(&costly, 1) >= p50(&free, 1) + 25 * (replies(&costly, 1) - 1),
        "{} vs {}",
        p50(&costly, 1),
        p50(&free, 1)
    );
    assert_eq!(p50(&costly, 2), p50(&free, 2));
    let reading = costly["result"]["reading"].to_string();
    assert!(
        reading.contains("the hop cost is modelled: the orchestrator spends 25 ms"),
        "{reading}"
    );
    let reading = free["result"]["reading"].to_string();
    assert!(
        reading.contains("the hop cost is not modelled here"),
        "{reading}"
    );
}

#[tokio::test]
async fn a_batch_a_crash_interrupted_is_computed_again_at_start_up_unless_its_workflow_changed() {
    let server = TestServer::start().await;
    let doc = serde_json::to_value(ecommerce_orchestrated()).unwrap();
    let (kept, edited) = (
        server.create_workflow(&doc).await,
        server.create_workflow(&doc).await,
    );
    // The same batch computed without interruption, for reference.
    let request = json!({"workflow_id": kept, "input": {"stock": "none"}, "runs": 30, "seed": 5});
    let reference: Value = server
        .post_json("/api/lab/batches", &request)
        .await
        .json()
        .await
        .unwrap();
    let reference = wait_batch(&server, reference["id"].as_str().unwrap()).await;
    let dir = server.stop().await;

    // What a crash leaves: two batches stored as running that nobody computes; then the
    // second one's workflow is edited.
    let path = dir.path().join("data/test.db").display().to_string();
    {
        let store = SqlStore::open(&path, Arc::new(SystemClock)).await.unwrap();
        for (id, workflow) in [("interrupted", &kept), ("stale", &edited)] {
            let batch: Batch = serde_json::from_value(json!({
                "id": id, "workflow_id": workflow, "workflow_name": "E-commerce",
                "created_at": SystemClock.now_ms(), "state": "running", "runs": 30, "seed": 5,
                "input": {"stock": "none"}, "progress": []
            }))
            .unwrap();
            store.insert_batch(&batch).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut changed = ecommerce_orchestrated();
        changed.name = "edited after the batch began".into();
        store
            .update_workflow(&edited, &changed, None)
            .await
            .unwrap();
    }

    let server = TestServer::start_in(dir).await;
    let resumed = wait_batch(&server, "interrupted").await;
    assert_eq!(resumed["state"], "done", "{resumed}");
    assert_eq!(
        resumed["result"], reference["result"],
        "the table it would have had"
    );
    let stale = wait_batch(&server, "stale").await;
    assert_eq!(stale["state"], "cancelled", "{stale}");
}

#[tokio::test]
async fn a_large_batch_can_be_cancelled_while_it_runs() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let started: Value = server
        .post_json(
            "/api/lab/batches",
            &json!({"workflow_id": workflow, "runs": 5000, "seed": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap();
    let cancel = server
        .post_json(&format!("/api/lab/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    let ended = wait_batch(&server, id).await;
    assert_eq!(ended["state"], "cancelled");
    assert!(ended["result"].is_null());
    let done: u64 = ended["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .sum();
    assert!(done < 15000, "stopped early: {done}");
}

#[tokio::test]
async fn converting_saves_a_copy_and_says_what_it_lost() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let before = server.workflow_count().await;
    let response = server
        .post_json(
            "/api/lab/convert",
            &json!({"workflow_id": workflow, "to": "choreography"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let converted: Value = response.json().await.unwrap();
    let copy: Value = server
        .get_json(&format!(
            "/api/workflows/{}",
            converted["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(copy["name"], "E-commerce (orchestrated) (as choreography)");
    assert!(copy["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "event"));
    assert!(converted["lost"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["kind"] == "uncompensated"
            && w["message"]
                .as_str()
                .unwrap()
                .starts_with("saga over Order Placement, Payment")));
    assert_eq!(
        server.workflow_count().await,
        before + 1,
        "a copy beside the original"
    );
    let original: Value = server.get_json(&format!("/api/workflows/{workflow}")).await;
    assert!(original["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "command"));
    let bad = server
        .post_json(
            "/api/lab/convert",
            &json!({"workflow_id": workflow, "to": "hybrid"}),
        )
        .await;
    assert!(error_of(bad, 422)
        .await
        .contains("unknown variant `hybrid`"));

    // A page in Korean names the copy in Korean; a name out of bounds is refused.
    let named = server
        .post_json(
            "/api/lab/convert",
            &json!({"workflow_id": workflow, "to": "orchestration", "name": "전자상거래 (오케스트레이션 방식)"}),
        )
        .await;
    assert_eq!(named.status(), 201);
    let named: Value = named.json().await.unwrap();
    assert_eq!(
        named["workflow"]["name"],
        "전자상거래 (오케스트레이션 방식)"
    );
    let count = server.workflow_count().await;
    for name in [String::new(), "가".repeat(201)] {
        let refused = server
            .post_json(
                "/api/lab/convert",
                &json!({"workflow_id": workflow, "to": "orchestration", "name": name}),
            )
            .await;
        assert!(error_of(refused, 422)
            .await
            .contains("name must be 1 to 200 characters"));
    }
    assert_eq!(server.workflow_count().await, count, "nothing stored");
}

/// A decision converted through the API: the caller says who decides in choreography, and
/// the answer says where the rule went; an unknown choice is refused and stores nothing.
#[tokio::test]
async fn converting_a_decision_says_where_its_rule_went() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": "t",
            "nodes": [{"id": "check", "label": "Check", "service": "Payments", "action": "a"},
                      {"id": "review", "label": "Review", "service": "Risk", "action": "a"},
                      {"id": "ship", "label": "Ship", "service": "Shipping", "action": "a"}],
            "edges": [{"from": "check", "to": "review", "kind": "command", "condition": "amount > 100"},
                      {"from": "check", "to": "ship", "kind": "command"}]}))
        .await;
    let by = |rules: &'static str| json!({"workflow_id": workflow, "to": "choreography", "rules": rules});
    let response = server
        .post_json("/api/lab/convert", &by("subscriber"))
        .await;
    assert_eq!(response.status(), 201);
    let converted: Value = response.json().await.unwrap();
    assert_eq!(
        converted["moved"],
        json!([{"node": "check", "outcome": "success", "now": "subscribers", "known_by": ["Risk", "Shipping"]}])
    );
    let copy: Value = server
        .get_json(&format!(
            "/api/workflows/{}",
            converted["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(copy["edges"][1]["condition"], "!(amount > 100)");
    assert_eq!(copy["edges"][1]["decided_by"], "subscriber");
    let response = server.post_json("/api/lab/convert", &by("publisher")).await;
    let converted: Value = response.json().await.unwrap();
    assert_eq!(converted["moved"][0]["now"], "publisher");
    assert_eq!(
        converted["moved"][0]["events"],
        json!(["CheckToReview", "CheckCompleted"])
    );
    let count = server.workflow_count().await;
    let refused = server.post_json("/api/lab/convert", &by("everyone")).await;
    assert!(error_of(refused, 422)
        .await
        .contains("unknown variant `everyone`"));
    assert_eq!(server.workflow_count().await, count, "nothing stored");
}

#[tokio::test]
async fn a_live_run_takes_an_orchestrator_crash_and_a_fault_change_into_its_history() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": "t",
            "nodes": [node_taking("a", 150), node_taking("b", 150), node_taking("c", 150)],
            "edges": [{"from": "a", "to": "b", "kind": "command"}, {"from": "a", "to": "c", "kind": "event"}]}))
        .await;
    let run: Value = server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap();
    let bad = server
        .post_json(
            &format!("/api/runs/{id}/faults"),
            &json!({"crash_orchestrator": {"for_ms": 0}}),
        )
        .await;
    assert!(error_of(bad, 422)
        .await
        .contains("crash_orchestrator.for_ms must be more than 0"));
    let crash = server
        .post_json(
            &format!("/api/runs/{id}/faults"),
            &json!({"crash_orchestrator": {"for_ms": 200}, "faults": {"services": {"cService": {"slow": 2}}}}),
        )
        .await;
    assert_eq!(crash.status(), 202);
    let ended = server.wait_run(id).await;
    assert_eq!(ended["status"], "completed");
    let history = collect(server.ws_url(&format!("/api/runs/{id}/events?after=0"))).await;
    let kinds: Vec<&str> = history
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for kind in [
        "FaultsChanged",
        "OrchestratorCrashed",
        "OrchestratorRecovered",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let late = server
        .post_json(
            &format!("/api/runs/{id}/faults"),
            &json!({"crash_orchestrator": {"for_ms": 10}}),
        )
        .await;
    assert!(error_of(late, 409).await.contains("has already ended"));
}

/// a -> b -> c, zero latency: every run needs the orchestrator three times.
fn instant_chain() -> Value {
    json!({"name": "Instant chain",
        "nodes": [node_taking("a", 0), node_taking("b", 0), node_taking("c", 0)],
        "edges": [{"from": "a", "to": "b", "kind": "command"}, {"from": "b", "to": "c", "kind": "command"}]})
}

#[tokio::test]
async fn load_mode_shows_the_orchestrator_bottleneck_and_refuses_bad_rates() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&instant_chain()).await;
    for (body, expected) in [
        (
            json!({"workflow_id": workflow, "rate": 0, "seconds": 1}),
            "rate must be from 1 to 5000 runs per second, got 0",
        ),
        (
            json!({"workflow_id": workflow, "rate": 10, "seconds": 31}),
            "seconds must be from 1 to 30, got 31",
        ),
        (
            json!({"workflow_id": workflow, "rate": 10, "seconds": 1, "capacity": 0}),
            "capacity must be from 1 to 100000 messages at once, got 0",
        ),
        (
            json!({"workflow_id": workflow, "rate": 10, "seconds": 1, "message_ms": 5000}),
            "message_ms must be at most 1000, got 5000",
        ),
    ] {
        let message = error_of(server.post_json("/api/lab/loads", &body).await, 422).await;
        assert!(message.contains(expected), "{body}: {message}");
    }

    // One orchestrator handling one message at a time, 20 ms each: at most 50 messages/s,
    // about 16 runs/s of this chain; 50 runs/s are asked for.
    let request = json!({"workflow_id": workflow, "rate": 50, "seconds": 1, "capacity": 1, "message_ms": 20, "seed": 1});
    let response = server.post_json("/api/lab/loads", &request).await;
    assert_eq!(response.status(), 202);
    let test: Value = response.json().await.unwrap();
    let id = test["id"].as_str().unwrap();
    let busy = server.post_json("/api/lab/loads", &request).await;
    assert!(error_of(busy, 503)
        .await
        .contains("a load test is already running"));

    let done = wait_ended(&server, &format!("/api/lab/loads/{id}"), 60).await;
    assert_eq!(done["state"], "done", "{done}");
    let styles = done["styles"].as_array().unwrap();
    assert_eq!(styles.len(), 3);
    let (orchestrated, choreographed) = (&styles[1], &styles[2]);
    for s in [orchestrated, choreographed] {
        assert_eq!(s["started"], 50, "{s}");
        assert_eq!(s["completed"], 50, "every run ends: {s}");
    }
    assert!(
        orchestrated["peak_waiting"].as_u64().unwrap() > 0,
        "{orchestrated}"
    );
    assert_eq!(choreographed["peak_waiting"], 0);
    let p95 = |s: &Value| s["latency_ms"]["p95"].as_u64().unwrap();
    assert!(
        p95(orchestrated) > 10 * p95(choreographed).max(5),
        "{} vs {}",
        p95(orchestrated),
        p95(choreographed)
    );
    assert!(
        orchestrated["throughput"].as_f64().unwrap()
            < choreographed["throughput"].as_f64().unwrap()
    );
    // The headline first, then a line per style (as drawn, orchestration, choreography).
    let line = |i: usize| done["reading"][i].as_str().unwrap_or_default().to_string();
    assert!(line(0).starts_with("Headline: at "), "{}", done["reading"]);
    assert!(
        line(2).starts_with("orchestration: "),
        "{}",
        done["reading"]
    );
    assert!(
        line(2).contains("it fell behind: a bottleneck"),
        "{}",
        done["reading"]
    );

    // Stored and listed like batches; an ended test cannot be stopped; it survives a restart.
    let listed: Vec<Value> = server
        .get_json(&format!("/api/lab/loads?workflow={workflow}"))
        .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], done["id"]);
    assert_eq!(listed[0]["state"], "done");
    assert_eq!(listed[0]["request"]["capacity"], 1);
    let stop = server
        .post_json(&format!("/api/lab/loads/{id}/cancel"), &json!({}))
        .await;
    assert!(error_of(stop, 409).await.contains("is not running"));
    // A second test ends: the first one's runs are deleted (its figures stay), its own kept.
    let second = json!({"workflow_id": workflow, "rate": 5, "seconds": 1, "seed": 2});
    let second: Value = server
        .post_json("/api/lab/loads", &second)
        .await
        .json()
        .await
        .unwrap();
    let second_id = second["id"].as_str().unwrap().to_string();
    let t = wait_ended(&server, &format!("/api/lab/loads/{second_id}"), 60).await;
    assert_eq!(t["state"], "done", "{t}");
    // The slot frees only after the pruning: a third test can start now.
    let third = json!({"workflow_id": workflow, "rate": 1, "seconds": 1, "seed": 3});
    let third = eventually(
        "a free load test slot",
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async {
            let response = server.post_json("/api/lab/loads", &third).await;
            match response.status().as_u16() {
                202 => Ok(response.json::<Value>().await.unwrap()),
                status => Err(format!("{status}")),
            }
        },
    )
    .await;
    let third_id = third["id"].as_str().unwrap().to_string();
    wait_ended(&server, &format!("/api/lab/loads/{third_id}"), 60).await;
    let id = id.to_string();
    {
        // Read beside the running server (SQLite in WAL mode): a test is told "done" first,
        // and its predecessors' runs are deleted right after.
        let path = server.dir.path().join("data/test.db").display().to_string();
        let store = SqlStore::open(&path, Arc::new(SystemClock)).await.unwrap();
        let runs = |test: &str| {
            let store = &store;
            let workflow =
                server::lab::load::load_runs_of(test, app::model::lab::LabStyle::Orchestration);
            async move { store.list_runs(&workflow, 1000).await.unwrap().len() }
        };
        assert_eq!(runs(&id).await, 0, "the first test's runs are gone");
        eventually(
            "the second's runs deleted once the third ended",
            Duration::from_secs(30),
            Duration::from_millis(50),
            || async {
                match runs(&second_id).await {
                    0 => Ok(()),
                    n => Err(format!("{n} left")),
                }
            },
        )
        .await;
        assert_eq!(runs(&third_id).await, 1, "the last test's runs are kept");
    }
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let stored: Value = server.get_json(&format!("/api/lab/loads/{id}")).await;
    assert_eq!(stored, done, "read back as it ended, figures and all");
    let response = server
        .http
        .get(server.url("/api/lab/loads?workflow=x&limit=0"))
        .send()
        .await
        .unwrap();
    assert!(error_of(response, 400)
        .await
        .contains("`limit` must be from 1 to 100, got 0"));
}

/// `POST /api/workflows/{id}/verify`: a background job (a lab batch that verifies) that
/// explores every schedule of the flow as drawn, all orchestrated and all choreographed:
/// the choreographed saga that forgot its compensation route leaves an order half done
/// when Shipping fails; orchestrated, no schedule breaks anything. Its progress counts the
/// schedules; it is cancelled like any batch; bounds past the limit are refused.
#[tokio::test]
async fn verifying_shows_each_style_side_by_side_with_its_shortest_counterexample() {
    let server = TestServer::start().await;
    let mut pay = node_taking("pay", 100);
    pay["compensation"] = json!("refund");
    let workflow = server
        .create_workflow(&json!({"name": "forgetful saga",
            "nodes": [node_taking("order", 100), pay, node_taking("ship", 100)],
            "edges": [{"from": "order", "to": "pay", "kind": "event"},
                      {"from": "pay", "to": "ship", "kind": "event"}]}))
        .await;
    let started = server
        .post_json(&format!("/api/workflows/{workflow}/verify"), &json!({}))
        .await;
    assert_eq!(started.status(), 202);
    let started: Value = started.json().await.unwrap();
    assert_eq!(started["state"], "running");
    assert_eq!(
        started["verify"],
        json!({"max_faults": 2, "bus_faults": 1, "crash": true})
    );
    let id = started["id"].as_str().unwrap().to_string();
    let done = wait_batch(&server, &id).await;
    assert_eq!(done["state"], "done", "{done}");
    let batch: Batch = serde_json::from_value(done.clone()).unwrap();
    let result = batch.result.unwrap();
    let by = |style: &str| {
        result
            .verifications
            .iter()
            .find(|v| serde_json::to_value(v.style).unwrap() == style)
            .unwrap_or_else(|| panic!("{style}: {done}"))
            .exploration
            .clone()
    };
    let drawn = by("as-drawn");
    let half_done = drawn
        .counterexamples
        .iter()
        .find(|c| c.invariant == app::model::verify::Invariant::AllOrCompensated)
        .unwrap();
    assert_eq!(
        half_done.story(&serde_json::from_value(json!({"name": "x", "nodes": [], "edges": []})).unwrap(), app::i18n::Locale::en),
        "ship fails (attempt 1): SHIP failed (service error) after 1 attempt and published SHIPFailed, but nobody subscribes to it: the failure is unhandled"
    );
    assert!(by("orchestration").counterexamples.is_empty(), "{done}");
    assert_eq!(
        by("choreography").counterexamples.len(),
        drawn.counterexamples.len()
    );
    let explored: u64 = done["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .sum();
    let schedules: u64 = result
        .verifications
        .iter()
        .map(|v| v.exploration.schedules)
        .sum();
    assert_eq!(explored, schedules, "the progress counts schedules");

    // Past the limits: refused, naming the field and the limit.
    let refused = server
        .post_json(
            &format!("/api/workflows/{workflow}/verify"),
            &json!({"max_faults": 9}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body.to_string()
            .contains("verify.max_faults must be at most 5, got 9"),
        "{body}"
    );
    // A big search cancelled while it runs ends cancelled, with no result.
    let big = server
        .create_workflow(&serde_json::to_value(ecommerce_orchestrated()).unwrap())
        .await;
    let started: Value = server
        .post_json(
            &format!("/api/workflows/{big}/verify"),
            &json!({"max_faults": 5, "bus_faults": 5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap();
    let cancel = server
        .post_json(&format!("/api/lab/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    let ended = wait_batch(&server, id).await;
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert!(ended["result"].is_null());
}
