//! Live stream benchmark: `cargo bench -p server --bench live`.
//!
//! A real server (SQLite history, real sockets on 127.0.0.1) and tokio-tungstenite clients
//! in the same process:
//! - **fan-in**: 200 clients watch one busy run (`BUSY_CYCLES` event cycles of `BUSY_STEP_MS` steps,
//!   so the run makes a steady stream of changes rather than one burst; cancelled after
//!   `BUSY_SECONDS` if still going);
//! - **one each**: 1,000 clients each watch their own run of a 5-step flow.
//!
//! For each: whether every client received every record exactly once and in order, the
//! step changes per second the run(s) produced, the delivery latency (record time on the
//! server to arrival at the client, same clock, for records made after the client
//! connected) p50/p99, and the process's CPU time and resident memory (server and clients
//! together: they share the process).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

const FAN_IN_CLIENTS: usize = 200;
const BUSY_SECONDS: u64 = 5;
/// The busy run is this many event cycles, each step taking `BUSY_STEP_MS`: at most
/// 20 × 2 changes / 5 ms = 8,000 step changes per second; what it achieves is measured.
const BUSY_CYCLES: usize = 20;
const BUSY_STEP_MS: u64 = 5;
const OWN_RUN_CLIENTS: usize = 1000;

fn node(id: &str, latency: u64) -> Value {
    json!({"id": id, "label": id, "service": "S", "action": "go", "latency_ms": latency})
}

fn busy_loops() -> Value {
    let mut nodes = vec![node("start", 0)];
    let node = |id: &str, _| node(id, BUSY_STEP_MS);
    let mut edges = Vec::new();
    for i in 0..BUSY_CYCLES {
        let (x, y) = (format!("x{i}"), format!("y{i}"));
        nodes.push(node(&x, 0));
        nodes.push(node(&y, 0));
        edges.push(json!({"from": "start", "to": x, "kind": "event", "event": "Go"}));
        edges.push(json!({"from": x, "to": y, "kind": "event"}));
        edges.push(json!({"from": y, "to": x, "kind": "event"}));
    }
    json!({"name": "Busy loops", "nodes": nodes, "edges": edges})
}

fn five_steps() -> Value {
    let nodes: Vec<Value> = (0..5).map(|i| node(&format!("s{i}"), 200)).collect();
    let edges: Vec<Value> = (1..5)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": if i % 2 == 0 { "event" } else { "command" }}))
        .collect();
    json!({"name": "Five", "nodes": nodes, "edges": edges})
}

/// The fields of a record a client checks (parsing only these keeps the clients, which
/// share the process with the server, cheap).
#[derive(serde::Deserialize)]
struct Probe {
    seq: u64,
    at_ms: f64,
    state: Option<serde::de::IgnoredAny>,
}

/// What one client saw: records in order without gap or double, step changes, latencies.
#[derive(Default)]
struct Seen {
    records: u64,
    in_order: bool,
    step_changes: u64,
    latencies_ms: Vec<f64>,
}

async fn watch(base: String, run: String) -> Seen {
    let url = format!("ws://{base}/api/runs/{run}/events?after=0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    // Records made before the client was connected come from the history catch-up: their
    // age is not a delivery latency.
    let connected = now_ms();
    let mut seen = Seen {
        in_order: true,
        ..Default::default()
    };
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Text(text) => {
                let arrived = now_ms();
                let record: Probe = serde_json::from_str(&text).expect("record");
                seen.records += 1;
                seen.in_order &= record.seq == seen.records;
                if record.state.is_some() {
                    seen.step_changes += 1;
                }
                let made = record.at_ms;
                if made >= connected {
                    seen.latencies_ms.push(arrived - made);
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    seen
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn report(name: &str, seen: Vec<Seen>, expected: &[u64], elapsed: Duration, cpu: f64) {
    let complete = seen
        .iter()
        .zip(expected)
        .filter(|(s, want)| s.in_order && s.records == **want)
        .count();
    let mut latencies: Vec<f64> = seen.iter().flat_map(|s| s.latencies_ms.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let changes: u64 = seen.iter().map(|s| s.step_changes).sum();
    let delivered: u64 = seen.iter().map(|s| s.records).sum();
    println!(
        "{name}: {complete}/{} clients got every record once and in order; {delivered} records \
         delivered ({} made while connected); delivery latency of those p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms; {:.0} step changes/s delivered; \
         CPU {:.1} s over {:.1} s wall ({:.0}%); resident {:.0} MB",
        seen.len(),
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(0.0),
        changes as f64 / elapsed.as_secs_f64(),
        cpu,
        elapsed.as_secs_f64(),
        100.0 * cpu / elapsed.as_secs_f64(),
        support::resident_mb()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let server = Arc::new(support::Server::start().await);
    println!("live stream benchmark (server and clients in one process, 2 worker threads)");

    // Fan-in: 200 clients on one busy run.
    let workflow = server.create("/api/workflows", busy_loops()).await;
    let run = server
        .create(&format!("/api/workflows/{workflow}/runs"), json!({}))
        .await;
    let (cpu0, started) = (support::cpu_seconds(), Instant::now());
    let clients: Vec<_> = (0..FAN_IN_CLIENTS)
        .map(|_| tokio::spawn(watch(server.base.clone(), run.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(BUSY_SECONDS)).await;
    server
        .post(&format!("/api/runs/{run}/cancel"), json!({}))
        .await;
    let mut seen = Vec::new();
    for c in clients {
        seen.push(c.await.expect("client"));
    }
    let elapsed = started.elapsed();
    let report_of_run = server.get(&format!("/api/runs/{run}")).await.unwrap();
    let total = report_of_run["last_seq"].as_u64().unwrap();
    let run_ms = report_of_run["ended_at"].as_f64().unwrap_or(0.0)
        - report_of_run["started_at"].as_f64().unwrap_or(0.0);
    let produced = seen.first().map_or(0, |s| s.step_changes) as f64 / (run_ms / 1000.0);
    println!(
        "fan-in run produced {total} records in {:.2} s: {produced:.0} step changes/s ({})",
        run_ms / 1000.0,
        report_of_run["status"]
    );
    report(
        &format!("fan-in ({FAN_IN_CLIENTS} clients, one run)"),
        seen,
        &vec![total; FAN_IN_CLIENTS],
        elapsed,
        support::cpu_seconds() - cpu0,
    );

    // One each: 1,000 clients, each on its own run.
    let workflow = server.create("/api/workflows", five_steps()).await;
    let (cpu0, started) = (support::cpu_seconds(), Instant::now());
    let runs = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..OWN_RUN_CLIENTS)
        .map(|_| {
            let server = server.clone();
            let workflow = workflow.clone();
            let runs = runs.clone();
            tokio::spawn(async move {
                let run = server
                    .create(&format!("/api/workflows/{workflow}/runs"), json!({}))
                    .await;
                runs.lock().await.push(run.clone());
                (run.clone(), watch(server.base.clone(), run).await)
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut expected = Vec::new();
    for c in clients {
        let (run, s) = c.await.expect("client");
        let last = server.get(&format!("/api/runs/{run}")).await.unwrap()["last_seq"]
            .as_u64()
            .unwrap();
        expected.push(last);
        seen.push(s);
    }
    report(
        &format!("one each ({OWN_RUN_CLIENTS} clients, own runs)"),
        seen,
        &expected,
        started.elapsed(),
        support::cpu_seconds() - cpu0,
    );
    std::process::exit(0);
}
