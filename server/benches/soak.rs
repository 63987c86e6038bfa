//! Soak: the real `hybridflow` binary, in its own process, for SOAK_SECONDS (default 600) at
//! SOAK_RATE runs/s (default 500) of a three-step flow, with SOAK_WATCHERS (default 50)
//! WebSocket watchers each following one run after another to its end, and the default
//! retention (`--keep-runs 300`). Every minute it prints the server's resident memory, the
//! database size, runs ended and the run latency (start to end, from the runs feed); at the
//! end, the figures #11 asks for: memory growth after warm-up (≤ 10 %), p99 latency of the
//! first vs the last minute (within 20 %), database size bounded by retention.
//!
//! `cargo bench -p server --bench soak`; `SOAK_SECONDS=120` for a shorter one.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use support::{free_local_addr, spawn_binary};
use tokio_tungstenite::tungstenite::Message;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The resident memory of process `pid`, in MB.
fn resident_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn database_mb(path: &Path) -> f64 {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len())
        })
        .sum::<u64>() as f64
        / 1e6
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let seconds = env("SOAK_SECONDS", 600);
    let rate = env("SOAK_RATE", 500);
    let watchers = env("SOAK_WATCHERS", 50);
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("soak.db");
    let addr = free_local_addr();
    let base = format!("http://{addr}");
    let mut server = spawn_binary(addr, &database, &["--log", "error"]).await;
    let pid = server.id();
    let http = reqwest::Client::new();
    let step = |id: &str| {
        json!({"id": id, "label": id, "service": format!("{id}Service"), "action": "act",
               "latency_ms": 5})
    };
    let flow = json!({"name": "soak", "nodes": [step("a"), step("b"), step("c")],
        "edges": [{"from": "a", "to": "b", "kind": "command"},
                  {"from": "b", "to": "c", "kind": "event", "event": "BDone"}]});
    let created: Value = http
        .post(format!("{base}/api/workflows"))
        .json(&flow)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let workflow = created["id"].as_str().unwrap().to_string();

    // Run latencies (ms) of the current minute, from the runs feed; the newest run started.
    let latencies: Arc<Mutex<Vec<i64>>> = Arc::default();
    let latest: Arc<Mutex<Option<String>>> = Arc::default();
    let ended = Arc::new(AtomicU64::new(0));
    {
        let (latencies, latest, ended) = (latencies.clone(), latest.clone(), ended.clone());
        let url = format!("ws://{addr}/api/runs/feed");
        tokio::spawn(async move {
            let (mut feed, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap();
            while let Some(Ok(message)) = feed.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let v: Value = serde_json::from_str(&text).unwrap_or_default();
                match v["ended_at"].as_i64() {
                    Some(end) => {
                        ended.fetch_add(1, Ordering::Relaxed);
                        let started = v["started_at"].as_i64().unwrap_or(end);
                        latencies.lock().unwrap().push(end - started);
                    }
                    None => *latest.lock().unwrap() = v["id"].as_str().map(str::to_string),
                }
            }
        });
    }
    // Watchers: each follows the newest run to its end, then the next.
    let watched = Arc::new(AtomicU64::new(0));
    for _ in 0..watchers {
        let (latest, watched) = (latest.clone(), watched.clone());
        tokio::spawn(async move {
            loop {
                let Some(run) = latest.lock().unwrap().clone() else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let url = format!("ws://{addr}/api/runs/{run}/events?after=0");
                if let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await {
                    while let Some(Ok(message)) = socket.next().await {
                        if matches!(message, Message::Close(_)) {
                            watched.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        });
    }
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let starter = {
        let (http, base, workflow, refused) = (
            http.clone(),
            base.clone(),
            workflow.clone(),
            refused.clone(),
        );
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(10));
            let per_tick = rate as f64 / 100.0;
            let mut owed = 0.0;
            while started.elapsed() < Duration::from_secs(seconds) {
                ticker.tick().await;
                owed += per_tick;
                while owed >= 1.0 {
                    owed -= 1.0;
                    let (http, url, refused) = (
                        http.clone(),
                        format!("{base}/api/workflows/{workflow}/runs"),
                        refused.clone(),
                    );
                    tokio::spawn(async move {
                        let ok = http
                            .post(url)
                            .json(&json!({}))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 201);
                        if !ok {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
        })
    };
    println!(
        "soak: {seconds} s at {rate} runs/s, {watchers} watchers, --keep-runs 300 (server pid {pid})"
    );
    println!("  minute  rss MB  db MB  runs ended/s  p50 ms  p99 ms  watched  refused");
    let mut minutes = Vec::new();
    let mut last_ended = 0;
    let mut minute = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(60).min(Duration::from_secs(seconds))).await;
        minute += 1;
        let mut window = std::mem::take(&mut *latencies.lock().unwrap());
        window.sort_unstable();
        let total = ended.load(Ordering::Relaxed);
        let row = (
            resident_mb(pid),
            database_mb(&database),
            (total - last_ended) as f64 / 60.0,
            percentile(&window, 0.5),
            percentile(&window, 0.99),
        );
        last_ended = total;
        println!(
            "  {minute:>6}  {:>6.0}  {:>5.1}  {:>12.0}  {:>6}  {:>6}  {:>7}  {:>7}",
            row.0,
            row.1,
            row.2,
            row.3,
            row.4,
            watched.load(Ordering::Relaxed),
            refused.load(Ordering::Relaxed)
        );
        minutes.push(row);
    }
    starter.abort();
    let runs: Vec<Value> = http
        .get(format!("{base}/api/workflows/{workflow}/runs?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();
    if minutes.len() >= 2 {
        let (first, last) = (minutes[0], minutes[minutes.len() - 1]);
        println!(
            "  memory after warm-up (minute 1 → {}): {:.0} → {:.0} MB ({:+.1} %)",
            minutes.len(),
            first.0,
            last.0,
            (last.0 / first.0 - 1.0) * 100.0
        );
        println!(
            "  p99 run latency, first vs last minute: {} vs {} ms ({:+.1} %)",
            first.4,
            last.4,
            (last.4 as f64 / first.4.max(1) as f64 - 1.0) * 100.0
        );
        println!(
            "  database: {:.1} MB after minute 1, {:.1} MB at the end; runs listed now: {}",
            first.1,
            last.1,
            runs.len()
        );
    }
    let stored = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(&stored)
        .await
        .unwrap();
    println!(
        "  runs stored at the end: {count} (retention keeps 300 ended + those in progress); {} runs ended in all",
        ended.load(Ordering::Relaxed)
    );
}
