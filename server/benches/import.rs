//! How long the largest documents take, in every format, through the real API — and how
//! the rest of the server answers meanwhile (imports run on the blocking pool, not on the
//! async workers). Goal (#11): a 1 MiB document of any format answered well under a second.
//!
//! `cargo bench -p server --bench import`

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::Server;

/// Grows `piece(i)` until the text is just under 1 MiB.
fn megabyte(mut piece: impl FnMut(usize) -> String, sep: &str) -> String {
    let mut parts = Vec::new();
    let mut len = 0;
    let mut i = 0;
    while len < 1024 * 1024 - 256 {
        let p = piece(i);
        len += p.len() + sep.len();
        parts.push(p);
        i += 1;
    }
    parts.pop();
    parts.join(sep)
}

fn documents() -> Vec<(&'static str, &'static str, String)> {
    let text_names = megabyte(|i| format!("step{i}"), "\n");
    let text_valid = (1..2000)
        .map(|i| format!("n{} -> n{i}", i - 1))
        .collect::<Vec<_>>()
        .join("\n");
    let fork: Vec<Value> = (0..100).map(|_| json!([])).collect();
    let mut tasks = vec![json!({"name": "s", "type": "SIMPLE"})];
    for f in 0..8 {
        tasks.push(json!({"name": format!("f{f}"), "type": "FORK_JOIN", "forkTasks": fork}));
    }
    let bomb = json!({"name": "bomb", "tasks": tasks}).to_string();
    let conductor_big = format!(
        "{{\"name\": \"big\", \"tasks\": [{}]}}",
        megabyte(
            |i| format!("{{\"name\": \"t{i}\", \"type\": \"SIMPLE\"}}"),
            ","
        )
    );
    let article_big = format!(
        "{{\"workflow\": {{\"name\": \"big\", \"steps\": [{}]}}}}",
        megabyte(
            |i| format!("{{\"name\": \"s{i}\", \"service\": \"S\", \"action\": \"a\"}}"),
            ","
        )
    );
    let native_big = format!(
        "{{\"name\": \"big\", \"edges\": [], \"nodes\": [{}]}}",
        megabyte(
            |i| format!(
                "{{\"id\": \"n{i}\", \"label\": \"L\", \"service\": \"S\", \"action\": \"a\"}}"
            ),
            ","
        )
    );
    let nodes: Vec<Value> = (0..2000)
        .map(|i| json!({"id": format!("n{i}"), "label": format!("Step {i}"), "service": "S", "action": "a"}))
        .collect();
    let edges: Vec<Value> = (1..2000)
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}"), "kind": if i % 2 == 0 {"command"} else {"event"}}))
        .collect();
    let native_valid = json!({"name": "2000 steps", "nodes": nodes, "edges": edges}).to_string();
    vec![
        (
            "text",
            "1 MiB of distinct names (refused at 2,000 steps)",
            text_names,
        ),
        ("text", "2,000-step chain (accepted, laid out)", text_valid),
        (
            "conductor",
            "8 forks of 100 branches, 2 KB (refused at 5,000 exits)",
            bomb,
        ),
        (
            "conductor",
            "1 MiB of tasks (refused at 2,000 steps)",
            conductor_big,
        ),
        (
            "article",
            "1 MiB of steps (refused at 2,000 steps)",
            article_big,
        ),
        (
            "native",
            "1 MiB of nodes (refused before the typed parse)",
            native_big,
        ),
        (
            "native",
            "2,000 nodes, 1,999 edges (accepted)",
            native_valid,
        ),
    ]
}

#[tokio::main]
async fn main() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.base);
    // Health is polled all along from its own task: its worst latency shows whether an
    // import holds up the async workers.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            let mut latencies = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let _ = http.get(format!("{base}/api/health")).send().await;
                let took = t.elapsed();
                worst = worst.max(took);
                latencies.push(took);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies.sort();
            let p99 = latencies[latencies.len() * 99 / 100];
            (latencies.len(), p99, worst)
        })
    };
    println!("import: each document 3 times through POST /api/workflows/import (min / max)");
    for (format, what, body) in documents() {
        let mut times = Vec::new();
        let mut status = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let response = http
                .post(format!("{base}/api/workflows/import?format={format}"))
                .header(
                    "Content-Type",
                    if format == "text" {
                        "text/plain"
                    } else {
                        "application/json"
                    },
                )
                .body(body.clone())
                .send()
                .await
                .expect("import");
            status = response.status().as_u16();
            let _ = response.bytes().await;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  {format:<9} {:>8} bytes  {status}  {:>7.1} / {:>7.1} ms  {what}",
            body.len(),
            times[0].as_secs_f64() * 1000.0,
            times[2].as_secs_f64() * 1000.0,
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (polls, p99, worst) = poller.await.unwrap();
    println!(
        "GET /api/health meanwhile: {polls} requests, p99 {:.1} ms, worst {:.1} ms",
        p99.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0
    );
}
