//! Several real server processes on one PostgreSQL schema of the test's own and one NATS
//! bus (a subject prefix of the test's own), with what the cluster and fault tests check:
//! a run's history read from the store and over WebSockets, and the invariants every
//! history must keep.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::ServerProcess;

/// A cluster's shared parts: its database and its bus.
pub struct Shared {
    pub database: String,
    /// The bus's URL and this cluster's subject prefix.
    pub bus: (String, String),
}

impl Shared {
    pub async fn new() -> Shared {
        Shared {
            database: super::postgres_schema().await,
            bus: super::nats_bus().await,
        }
    }

    /// The same database, on a bus of the test's own (a NATS server it can restart).
    pub async fn on_bus(url: String) -> Shared {
        Shared {
            database: super::postgres_schema().await,
            bus: (url, format!("test{}", uuid::Uuid::new_v4().simple())),
        }
    }

    /// Process `process` with a lease of `lease_ms`, reaching the database at `database`
    /// and the bus at `bus` (the cluster's own, or through a proxy), with `extra` flags.
    pub async fn start_via(
        &self,
        process: &str,
        lease_ms: u64,
        database: &str,
        bus: &str,
        extra: &[&str],
    ) -> ServerProcess {
        let lease = lease_ms.to_string();
        let mut flags = vec![
            "--process-id",
            process,
            "--lease-ms",
            &lease,
            "--bus",
            bus,
            "--bus-prefix",
            &self.bus.1,
            "--site-root",
            "/nonexistent",
        ];
        flags.extend_from_slice(extra);
        ServerProcess::start(Path::new(database), &flags).await
    }

    /// Process `process` with a lease of `lease_ms`, straight to the database and the bus.
    pub async fn start(&self, process: &str, lease_ms: u64) -> ServerProcess {
        self.start_via(process, lease_ms, &self.database, &self.bus.0, &[])
            .await
    }

    /// A connection to the cluster's database, to read what is stored.
    pub async fn connect(&self) -> sqlx::PgConnection {
        <sqlx::PgConnection as sqlx::Connection>::connect(&self.database)
            .await
            .expect("connect to the cluster's database")
    }

    /// A run's history as stored: (seq, the record's JSON text).
    pub async fn stored(&self, run: &str) -> Vec<(u64, String)> {
        let mut db = self.connect().await;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run \
             WHERE r.id = $1 ORDER BY h.seq",
        )
        .bind(run)
        .fetch_all(&mut db)
        .await
        .expect("a run's history");
        rows.into_iter()
            .map(|(seq, body)| (seq as u64, body))
            .collect()
    }

    /// Runs not ended, by id.
    pub async fn running(&self) -> Vec<String> {
        let mut db = self.connect().await;
        sqlx::query_scalar("SELECT id FROM runs WHERE status = 'running' ORDER BY id")
            .fetch_all(&mut db)
            .await
            .expect("runs in progress")
    }
}

/// A flow of commands and events whose steps take time and sometimes fail and retry.
pub fn flaky_flow(name: &str, latency: [u64; 2]) -> Value {
    let step = |id: &str| {
        json!({"id": id, "label": id, "service": "S", "action": "a", "latency_ms": latency,
               "failure_rate": 0.25, "retry": {"max_attempts": 8, "backoff_ms": 40}})
    };
    json!({
        "name": name,
        "nodes": [step("a"), step("b"), step("c"), step("d")],
        "edges": [
            {"from": "a", "to": "b", "kind": "command"},
            {"from": "b", "to": "c", "kind": "event"},
            {"from": "c", "to": "d", "kind": "command"}
        ]
    })
}

/// A chain of `steps` steps joined by events (each delivery crosses the bus), each taking
/// `latency` ms.
pub fn event_chain(name: &str, steps: usize, latency: [u64; 2]) -> Value {
    let nodes: Vec<Value> = (0..steps)
        .map(|i| {
            json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": format!("S{i}"),
                   "action": "a", "latency_ms": latency})
        })
        .collect();
    let edges: Vec<Value> = (1..steps)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "event"}))
        .collect();
    json!({"name": name, "nodes": nodes, "edges": edges})
}

/// A long, flaky flow: a lab batch of 5,000 runs of it takes seconds to compute.
pub fn long_flow() -> Value {
    let steps: Vec<Value> = (0..24)
        .map(|i| {
            json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": "S", "action": "a",
                   "latency_ms": [10, 50], "failure_rate": 0.3,
                   "retry": {"max_attempts": 6, "backoff_ms": 10}})
        })
        .collect();
    let edges: Vec<Value> = (1..24)
        .map(|i| {
            let kind = if i % 2 == 0 { "event" } else { "command" };
            json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": kind})
        })
        .collect();
    json!({"name": "Batches", "nodes": steps, "edges": edges})
}

pub async fn create_workflow(server: &ServerProcess, workflow: &Value) -> String {
    let created: Value = server
        .post_json("/api/workflows", workflow)
        .await
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

pub async fn start_run(server: &ServerProcess, workflow: &str, seed: usize) -> String {
    let response = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"seed": seed, "input": {}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let run: Value = response.json().await.unwrap();
    run["id"].as_str().unwrap().to_string()
}

/// Every record of a run, read over a WebSocket from `server`.
pub async fn history(server: &ServerProcess, run: &str) -> Vec<Value> {
    watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")))
        .await
        .0
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message of `socket`, as JSON.
pub async fn next_message(socket: &mut Socket) -> Value {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("the socket closed: {other:?}"),
        }
    }
}

/// What a WebSocket to `url` sends until it closes: its text messages as JSON, and the
/// close code.
pub async fn watch(url: String) -> (Vec<Value>, Option<u16>) {
    let (texts, close) = watch_texts(url).await;
    let records = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    (records, close)
}

/// What a WebSocket to `url` sends until it closes (or `patience` passes): its text
/// messages as they came, and the close code.
pub async fn watch_texts(url: String) -> (Vec<String>, Option<u16>) {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("stream");
    let mut texts = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Text(text) => texts.push(text.to_string()),
            Message::Close(frame) => return (texts, frame.map(|f| u16::from(f.code))),
            _ => {}
        }
    }
    (texts, None)
}

/// The run's history has every seq from 1 once, ends with one `RunCompleted`, and started
/// no step attempt twice (every step is idempotent: a resumed attempt is re-sent under its
/// key, not started again).
pub fn assert_whole(run: &str, records: &[Value]) {
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap in {run}"
    );
    let mut starts: HashMap<(String, u64, u64), usize> = HashMap::new();
    for r in records.iter().filter(|r| r["type"] == "StepStarted") {
        let key = (
            r["node"].as_str().unwrap().to_string(),
            r["execution"].as_u64().unwrap(),
            r["attempt"].as_u64().unwrap(),
        );
        *starts.entry(key).or_default() += 1;
        assert_eq!(r["execution"], 1, "a step executed twice in {run}");
    }
    assert!(
        starts.values().all(|&n| n == 1),
        "an attempt started twice in {run}: {starts:?}"
    );
    let ends = records
        .iter()
        .filter(|r| r["type"] == "RunCompleted")
        .count();
    assert_eq!(ends, 1, "{run} ends once");
    assert_eq!(records.last().unwrap()["type"], "RunCompleted");
}

/// Every record a watcher got is the stored record at its seq, byte for byte, each once and
/// in order (a watcher may have stopped early, so it may have fewer).
pub fn assert_seen_is_stored(run: &str, seen: &[String], stored: &[(u64, String)]) {
    let by_seq: HashMap<u64, &str> = stored.iter().map(|(s, b)| (*s, b.as_str())).collect();
    let mut last = 0;
    for text in seen {
        let seq = serde_json::from_str::<Value>(text).unwrap()["seq"]
            .as_u64()
            .unwrap();
        assert!(seq > last, "{run}: seq {seq} after {last}");
        last = seq;
        assert_eq!(
            by_seq.get(&seq).copied(),
            Some(text.as_str()),
            "{run}: a watcher got a record the store does not hold at seq {seq}"
        );
    }
}

pub async fn report(server: &ServerProcess, run: &str) -> Value {
    server.get_json(&format!("/api/runs/{run}")).await
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Sends `signal` (`-STOP`, `-CONT`) to the process.
pub fn signal(server: &ServerProcess, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {signal}");
}

/// The status of `GET /api/ready` on `server` (0 when it does not answer within a second),
/// and its message.
pub async fn ready(server: &ServerProcess) -> (u16, String) {
    let asked = server
        .http
        .get(server.url("/api/ready"))
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    match asked {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}
