//! Crash recovery with a real server process: SIGKILL it in the middle of runs, start it
//! again on the same SQLite file, and every run completes with a gap-free history in which
//! no step attempt was started twice.

use crate::common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::eventually;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const RUNS: usize = 24;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(port: u16, database: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hybridflow"))
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database",
            database,
        ])
        .args(["--log", "warn", "--site-root", "/nonexistent"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server binary")
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    eventually(
        "the server's start",
        Duration::from_secs(20),
        Duration::from_millis(25),
        || async {
            http.get(format!("{base}/api/health"))
                .send()
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON body")
}

async fn history(port: u16, run: &str) -> Vec<Value> {
    let url = format!("ws://127.0.0.1:{port}/api/runs/{run}/events?after=0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("stream");
    let mut records = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Text(text) => records.push(serde_json::from_str(&text).unwrap()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_sigkill_and_complete_without_gaps_or_double_execution() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("crash.db").display().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(port, &database);
    wait_healthy(&http, &base).await;

    // Commands and events mixed, with flaky steps that retry: plenty in flight at any time.
    let step = |id: &str| {
        json!({"id": id, "label": id, "service": "S", "action": "a", "latency_ms": [80, 250],
               "failure_rate": 0.3, "retry": {"max_attempts": 8, "backoff_ms": 40}})
    };
    let workflow = json!({
        "name": "Crash",
        "nodes": [step("a"), step("b"), step("c"), step("d"), step("e"), step("f")],
        "edges": [
            {"from": "a", "to": "b", "kind": "command"},
            {"from": "b", "to": "c", "kind": "event"},
            {"from": "b", "to": "d", "kind": "event"},
            {"from": "c", "to": "e", "kind": "command"},
            {"from": "d", "to": "f", "kind": "command"}
        ]
    });
    let created: Value = http
        .post(format!("{base}/api/workflows"))
        .json(&workflow)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let mut runs = Vec::new();
    for seed in 0..RUNS {
        let run: Value = http
            .post(format!("{base}/api/workflows/{id}/runs"))
            .json(&json!({"seed": seed, "input": {}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        runs.push(run["id"].as_str().unwrap().to_string());
    }

    // Kill it while the runs are in progress.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let mut in_progress = 0;
    for run in &runs {
        let report = get_json(&http, format!("{base}/api/runs/{run}")).await;
        if report["status"] == "running" {
            in_progress += 1;
        }
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    assert!(
        in_progress > RUNS / 2,
        "the kill must hit runs in progress ({in_progress})"
    );

    let mut server = start(port, &database);
    wait_healthy(&http, &base).await;
    for run in &runs {
        let report = eventually(
            &format!("the end of run {run}"),
            Duration::from_secs(60),
            Duration::from_millis(50),
            || async {
                let report = get_json(&http, format!("{base}/api/runs/{run}")).await;
                if report["status"] != "running" {
                    Ok(report)
                } else {
                    Err(report.to_string())
                }
            },
        )
        .await;
        assert_eq!(report["status"], "completed", "{report}");
        for node in ["a", "b", "c", "d", "e", "f"] {
            assert_eq!(report["steps"][node]["state"], "succeeded", "{report}");
        }
    }

    let mut resumed = 0;
    for run in &runs {
        let records = history(port, run).await;
        // Gap-free, one end, no attempt started twice, idempotent steps run once per trigger.
        common::cluster::assert_whole(run, &records);
        if records.iter().any(|r| r["type"] == "RunResumed") {
            resumed += 1;
        }
    }
    // Runs still in progress at the kill were resumed from their history (a few may have
    // finished between the count and the kill).
    assert!(resumed > RUNS / 2, "only {resumed} runs were resumed");
    server.kill().unwrap();
    server.wait().unwrap();
}
