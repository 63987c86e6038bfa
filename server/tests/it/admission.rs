//! Admission limits with clear answers: runs in flight, WebSockets in all and per client
//! (counted atomically), and a send timeout that frees the slot of a client that stops
//! reading — which then resumes where it was.

use crate::common;

use std::time::Duration;

use common::{eventually, metric, metrics_at, node_taking, socket_accepted, TestServer};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, Message};

async fn start_run(server: &TestServer, workflow: &str) -> reqwest::Response {
    server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await
}

#[tokio::test]
async fn runs_past_the_cap_are_refused_with_retry_after_until_some_end() {
    let server =
        TestServer::start_configured(tempfile::tempdir().unwrap(), |s| s.max_runs_in_flight = 2)
            .await;
    let workflow = server
        .create_workflow(&json!({"name": "Slow", "nodes": [node_taking("a", 400)], "edges": []}))
        .await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let response = start_run(&server, &workflow).await;
        assert_eq!(response.status(), 201);
        let run: Value = response.json().await.unwrap();
        runs.push(run["id"].as_str().unwrap().to_string());
    }
    let response = start_run(&server, &workflow).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("2 runs are in progress"),
        "{body}"
    );
    let listed: Vec<Value> = server
        .get_json(&format!("/api/workflows/{workflow}/runs"))
        .await;
    assert_eq!(listed.len(), 2, "the refused run was not stored");
    for run in &runs {
        server.wait_run(run).await;
    }
    // Slots are given back when runs end (the driver's last act, just after the end is
    // stored: poll briefly).
    eventually(
        "a freed run slot",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || async {
            match start_run(&server, &workflow).await.status().as_u16() {
                201 => Ok(()),
                status => Err(status.to_string()),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn websockets_are_capped_per_client_and_counted_atomically() {
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |s| {
        s.sockets.max_per_client = 2;
    })
    .await;
    let url = server.ws_url("/api/runs/feed");
    let (first, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let (_second, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()["retry-after"], "2");
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("the limit per client is 2"), "{body}");
        }
        other => panic!("a third socket from one client was not refused: {other:?}"),
    }
    drop(first);
    socket_accepted("the slot given back", &url).await;

    // Many upgrades at once against one free slot: exactly one gets it.
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |s| {
        s.sockets.max_open = 1;
    })
    .await;
    let url = server.ws_url("/api/runs/feed");
    let attempts = (0..24).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { tokio_tungstenite::connect_async(url.as_str()).await })
    });
    let results = futures::future::join_all(attempts).await;
    let admitted: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.unwrap().ok())
        .collect();
    assert_eq!(admitted.len(), 1, "the cap of 1 was passed by several");
}

/// A chain of `steps` zero-latency steps (under the 1,000-hop limit): thousands of records.
fn long_chain(steps: usize) -> Value {
    let nodes: Vec<Value> = (0..steps)
        .map(|i| node_taking(&format!("s{i}"), 0))
        .collect();
    let edges: Vec<Value> = (1..steps)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "command"}))
        .collect();
    json!({"name": "Long chain", "nodes": nodes, "edges": edges})
}

#[tokio::test]
async fn a_reader_too_slow_is_closed_and_resumes_without_gap() {
    let server = TestServer::start_with_small_send_buffers(|s| {
        s.sockets.send_timeout = Duration::from_millis(300);
    })
    .await;
    let workflow = server.create_workflow(&long_chain(900)).await;
    let response = start_run(&server, &workflow).await;
    let run: Value = response.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    let ended = server.wait_run(&run).await;
    assert_eq!(ended["status"], "completed");
    let last = ended["last_seq"].as_u64().unwrap();

    // A client with a tiny receive buffer that reads nothing: the catch-up cannot be sent.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let url = server.ws_url(&format!("/api/runs/{run}/events?after=0"));
    let (mut slow, _) = tokio_tungstenite::client_async(url.as_str(), stream)
        .await
        .unwrap();
    // Its slot is freed while it still holds the connection.
    eventually(
        "the slot of a reader that reads nothing freed",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            let text = metrics_at(&server.http, &server.url("/metrics")).await;
            match metric(&text, "hybridflow_websockets_open") {
                0.0 => Ok(()),
                open => Err(format!("{open} open")),
            }
        },
    )
    .await;
    // What it did get arrives in order; then the stream ends without "run completed".
    let mut seqs = Vec::new();
    let mut completed = false;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(5), slow.next()).await
    {
        match message {
            Message::Text(text) => {
                let record: Value = serde_json::from_str(&text).unwrap();
                seqs.push(record["seq"].as_u64().unwrap());
            }
            Message::Close(frame) => {
                completed = frame.is_some_and(|f| u16::from(f.code) == 1000);
                break;
            }
            _ => {}
        }
    }
    assert!(
        !completed,
        "a shed reader must not be told the run completed"
    );
    assert!((seqs.len() as u64) < last, "the reader was not cut off");
    // Resuming after the last record it has gives exactly the rest.
    let after = seqs.last().copied().unwrap_or(0);
    let rest =
        common::collect(server.ws_url(&format!("/api/runs/{run}/events?after={after}"))).await;
    seqs.extend(rest.iter().map(|r| r["seq"].as_u64().unwrap()));
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "gap or double");
}
