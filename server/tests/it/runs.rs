//! Runs end to end: a mixed command/event workflow executes in the right order with a
//! gap-free history, and the WebSocket replays then follows it without gaps or duplicates.

use crate::common;

use std::time::Duration;

use common::{collect, eventually, node_taking, TestServer};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// validate -command-> charge; charge ~event~> notify and ledger (one publication, two
/// subscribers); x ~> y ~> x is a cycle nothing enters: both are skipped.
fn mixed(latency_ms: u64) -> Value {
    let node = |id: &str| node_taking(id, latency_ms);
    json!({
        "name": "Mixed",
        "nodes": [node("validate"), node("charge"), node("notify"), node("ledger"), node("x"), node("y")],
        "edges": [
            {"from": "validate", "to": "charge", "kind": "command"},
            {"from": "charge", "to": "notify", "kind": "event", "event": "PaymentCharged"},
            {"from": "charge", "to": "ledger", "kind": "event", "event": "PaymentCharged"},
            {"from": "x", "to": "y", "kind": "event"},
            {"from": "y", "to": "x", "kind": "event"}
        ]
    })
}

async fn start_run(server: &TestServer, workflow_id: &str) -> String {
    let response = server
        .post_json(
            &format!("/api/workflows/{workflow_id}/runs"),
            &json!({"input": {"order": 7}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let run: Value = response.json().await.unwrap();
    assert_eq!(run["status"], "running");
    run["id"].as_str().unwrap().to_string()
}

fn types(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r.get("node") {
            Some(node) => format!("{}:{}", r["type"].as_str().unwrap(), node.as_str().unwrap()),
            None => r["type"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn position(types: &[String], wanted: &str) -> usize {
    types
        .iter()
        .position(|t| t == wanted)
        .unwrap_or_else(|| panic!("{wanted} missing from {types:?}"))
}

#[tokio::test]
async fn a_mixed_run_follows_commands_and_events_in_order() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&mixed(30)).await;
    let run_id = start_run(&server, &workflow).await;
    let run = server.wait_run(&run_id).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["workflow_id"], workflow.as_str());
    assert_eq!(run["input"], json!({"order": 7}));
    for step in ["validate", "charge", "notify", "ledger"] {
        assert_eq!(run["steps"][step]["state"], "succeeded", "{run}");
        assert_eq!(run["steps"][step]["attempts"], 1, "{run}");
    }
    for step in ["x", "y"] {
        assert_eq!(run["steps"][step]["state"], "skipped", "{run}");
        assert_eq!(run["steps"][step]["attempts"], 0, "{run}");
    }

    // The stored history, replayed over the socket from the start.
    let records = collect(server.ws_url(&format!("/api/runs/{run_id}/events?after=0"))).await;
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(run["last_seq"].as_u64().unwrap(), seqs.len() as u64);
    let t = types(&records);
    assert_eq!(t[0], "RunStarted");
    assert_eq!(t.last().unwrap(), "RunCompleted");
    assert!(position(&t, "StepStarted:validate") < position(&t, "StepSucceeded:validate"));
    assert!(position(&t, "StepSucceeded:validate") < position(&t, "CommandSent"));
    assert!(position(&t, "CommandSent") < position(&t, "StepStarted:charge"));
    assert!(position(&t, "StepSucceeded:charge") < position(&t, "EventPublished"));
    assert!(position(&t, "EventPublished") < position(&t, "StepStarted:notify"));
    assert!(position(&t, "EventPublished") < position(&t, "StepStarted:ledger"));
    assert!(position(&t, "StepSucceeded:notify") < position(&t, "StepSkipped:x"));
    assert!(position(&t, "StepSucceeded:ledger") < position(&t, "StepSkipped:y"));

    // Causes: the command names the orchestrator's edge; the event names its publisher.
    let started = |node: &str| {
        records
            .iter()
            .find(|r| r["type"] == "StepStarted" && r["node"] == node)
            .unwrap()
            .clone()
    };
    assert_eq!(started("validate")["cause"], json!({"by": "start"}));
    assert_eq!(started("charge")["cause"]["by"], "command");
    assert_eq!(started("charge")["cause"]["from"], "validate");
    assert_eq!(started("notify")["cause"]["by"], "event");
    assert_eq!(started("notify")["cause"]["name"], "PaymentCharged");
    assert_eq!(started("ledger")["cause"]["from"], "charge");
    let published: Vec<&Value> = records
        .iter()
        .filter(|r| r["type"] == "EventPublished")
        .collect();
    assert_eq!(
        published.len(),
        1,
        "one publication fans out to both subscribers"
    );
    assert_eq!(published[0]["subscribers"], json!(["notify", "ledger"]));
    // Step-state changes carry node and state at the top level, with a timestamp.
    let succeeded = records
        .iter()
        .find(|r| r["type"] == "StepSucceeded")
        .unwrap();
    assert_eq!(succeeded["state"], "succeeded");
    assert!(succeeded["at_ms"].as_i64().unwrap() > 1_600_000_000_000);
}

#[tokio::test]
async fn replay_then_live_without_gap_or_duplicate() {
    // Slow steps, so the watchers join while the run is in progress.
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&mixed(150)).await;
    let run_id = start_run(&server, &workflow).await;
    let url = |after: u64| server.ws_url(&format!("/api/runs/{run_id}/events?after={after}"));

    // One watcher from the very start, one joining mid-run after the first few records.
    let from_start = tokio::spawn(collect(url(0)));
    let (run, last) = eventually(
        "the run's first records",
        Duration::from_secs(10),
        Duration::from_millis(10),
        || async {
            let run: Value = server.get_json(&format!("/api/runs/{run_id}")).await;
            let last = run["last_seq"].as_u64().unwrap();
            if last >= 4 {
                Ok((run, last))
            } else {
                Err(run.to_string())
            }
        },
    )
    .await;
    assert_eq!(
        run["status"], "running",
        "the run must still be live: {run}"
    );
    let joined_after = last - 1;
    let mid_run = collect(url(joined_after)).await;
    let from_start = from_start.await.unwrap();

    let seqs = |records: &[Value]| {
        records
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let all = seqs(&from_start);
    assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(from_start.last().unwrap()["type"], "RunCompleted");
    assert_eq!(
        seqs(&mid_run),
        ((joined_after + 1)..=all.len() as u64).collect::<Vec<_>>(),
        "the late watcher gets exactly the records after its `after`"
    );
    assert_eq!(
        &from_start[joined_after as usize..],
        &mid_run[..],
        "both saw the same records"
    );

    // After the run: a reconnect with `after` gets the rest of the history, then the close.
    let tail = collect(url(all.len() as u64 - 2)).await;
    assert_eq!(seqs(&tail), vec![all.len() as u64 - 1, all.len() as u64]);
}

#[tokio::test]
async fn the_stream_checks_origin_and_input() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&mixed(5)).await;
    let run_id = start_run(&server, &workflow).await;
    let path = format!("/api/runs/{run_id}/events?after=0");

    let mut foreign = server.ws_url(&path).into_client_request().unwrap();
    foreign
        .headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(foreign).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a foreign Origin must be refused, got {other:?}"),
    }

    let mut own = server.ws_url(&path).into_client_request().unwrap();
    own.headers_mut()
        .insert("Origin", format!("http://{}", server.addr).parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(own)
        .await
        .expect("own origin");
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("RunStarted"));

    match tokio_tungstenite::connect_async(server.ws_url("/api/runs/nope/events")).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!("an unknown run must be 404, got {other:?}"),
    }
    match tokio_tungstenite::connect_async(
        server.ws_url(&format!("/api/runs/{run_id}/events?after=x")),
    )
    .await
    {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("a bad `after` must be 400, got {other:?}"),
    }
}

#[tokio::test]
async fn run_requests_are_checked_and_seeds_reproduce_runs() {
    let server = TestServer::start().await;
    let flaky = |id: &str| {
        json!({"id": id, "label": id, "service": "S", "action": "a", "latency_ms": [1, 30],
               "failure_rate": 0.5, "retry": {"max_attempts": 3, "backoff_ms": 5}})
    };
    let workflow = server
        .create_workflow(&json!({"name": "Seeded", "nodes": [flaky("a"), flaky("b"), flaky("c")],
            "edges": [{"from": "a", "to": "b", "kind": "command"}, {"from": "a", "to": "c", "kind": "event"}]}))
        .await;
    let runs = format!("/api/workflows/{workflow}/runs");

    for (body, field) in [
        (json!({"seed": 9007199254740992u64}), "seed"),
        (json!({"speed": 0}), "speed"),
        (json!({"speed": 20000}), "speed"),
        (json!({"input": [1, 2]}), "input"),
    ] {
        let response = server.post_json(&runs, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["details"][0]["field"], field, "{error}");
    }
    let response = server.post_json(&runs, &json!({"seed": -1})).await;
    assert_eq!(response.status(), 422);
    // A run holds its input while it runs: an input past the limit is refused, saying how
    // large it is and what the limit is; one at the limit runs.
    let limit = app::model::api::MAX_RUN_INPUT_BYTES;
    let padded = |bytes: usize| json!({"note": "x".repeat(bytes - r#"{"note":""}"#.len())});
    let response = server
        .post_json(&runs, &json!({"input": padded(limit + 1)}))
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["details"][0]["message"],
        format!("is {} bytes as JSON; the limit is {limit} bytes", limit + 1)
    );
    let response = server
        .post_json(&runs, &json!({"input": padded(limit)}))
        .await;
    assert_eq!(response.status(), 201);

    // The same seed: the same attempts, outcomes and order (times aside).
    let story = |records: Vec<Value>| -> Vec<Value> {
        records
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("at_ms");
                r
            })
            .collect()
    };
    let mut stories = Vec::new();
    for seed in [5, 5, 6] {
        let response = server
            .post_json(&runs, &json!({"seed": seed, "speed": 4, "input": {"k": 1}}))
            .await;
        assert_eq!(response.status(), 201);
        let run: Value = response.json().await.unwrap();
        let id = run["id"].as_str().unwrap().to_string();
        server.wait_run(&id).await;
        let records = collect(server.ws_url(&format!("/api/runs/{id}/events?after=0"))).await;
        assert_eq!(records[0]["seed"], seed);
        assert_eq!(records[0]["speed"], 4.0);
        stories.push(story(records));
    }
    assert_eq!(stories[0], stories[1]);
    assert_ne!(stories[0], stories[2]);

    // Cancel: accepted while running, refused once the run has ended.
    let slow = server
        .create_workflow(&json!({"name": "Slow", "nodes": [node_taking("a", 5_000)], "edges": []}))
        .await;
    let run: Value = server
        .post_json(&format!("/api/workflows/{slow}/runs"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap();
    let cancel = server
        .post_json(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    let ended = server.wait_run(id).await;
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(ended["steps"]["a"]["state"], "cancelled");
    let again = server
        .post_json(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(again.status(), 409);
    let unknown = server.post_json("/api/runs/nope/cancel", &json!({})).await;
    assert_eq!(unknown.status(), 404);
}

async fn error_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_string()
}

/// `POST /api/runs/{id}/messages`: a step waiting for the message stops waiting, its data
/// goes into the run data, and the run goes on; bad names and data, unknown runs and ended
/// runs are refused, saying why.
#[tokio::test]
async fn a_message_sent_to_a_run_ends_the_wait_of_the_step_waiting_for_it() {
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": "t",
            "nodes": [node_taking("order", 10),
                      {"id": "confirm", "label": "Await confirmation", "service": "PaymentService", "action": "await",
                       "wait": {"message": "PaymentConfirmed", "timeout_ms": 60000}},
                      node_taking("ship", 10)],
            "edges": [{"from": "order", "to": "confirm", "kind": "command"},
                      {"from": "confirm", "to": "ship", "kind": "command", "condition": "confirmed_by == 'bank'"}]}))
        .await;
    let run: Value = server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap().to_string();
    // The step waits, and says for what.
    eventually(
        "the wait",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let server = &server;
            let id = id.clone();
            async move {
                let report: Value = server.get_json(&format!("/api/runs/{id}")).await;
                let waiting = &report["waiting"]["confirm"];
                if waiting["message"] == "PaymentConfirmed" && waiting["for_ms"] == 60000 {
                    Ok(())
                } else {
                    Err(report.to_string())
                }
            }
        },
    )
    .await;
    for (body, says) in [
        (
            json!({"name": ""}),
            "name must be 1 to 200 characters, got 0",
        ),
        (
            json!({"name": "PaymentConfirmed", "data": {"2x": 1}}),
            "data: \"2x\" is not a field name",
        ),
        (
            json!({"name": "PaymentConfirmed", "data": {"note": "x".repeat(600)}}),
            "data.note: longer than 512 bytes as JSON",
        ),
    ] {
        let refused = server
            .post_json(&format!("/api/runs/{id}/messages"), &body)
            .await;
        assert!(error_of(refused, 422).await.contains(says), "{body}");
    }
    let unknown = server
        .post_json(
            "/api/runs/nope/messages",
            &json!({"name": "PaymentConfirmed"}),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let sent = server
        .post_json(
            &format!("/api/runs/{id}/messages"),
            &json!({"name": "PaymentConfirmed", "data": {"confirmed_by": "bank"}}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let ended = server.wait_run(&id).await;
    assert_eq!(ended["status"], "completed");
    assert_eq!(ended["steps"]["ship"]["state"], "succeeded");
    let history = collect(server.ws_url(&format!("/api/runs/{id}/events?after=0"))).await;
    assert!(history.iter().any(|r| r["type"] == "MessageReceived"
        && r["node"] == "confirm"
        && r["source"] == "outside"
        && r["data"]["confirmed_by"] == "bank"));
    let late = server
        .post_json(
            &format!("/api/runs/{id}/messages"),
            &json!({"name": "PaymentConfirmed"}),
        )
        .await;
    assert!(error_of(late, 409).await.contains("has already ended"));
}
