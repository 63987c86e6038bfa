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
    let laid_out = app::model::formats::import(&native_valid, None).expect("the 2,000 steps");
    // BPMN is verbose (a shape and a flow with its diagram edge per step): about 1,000 of
    // our steps fit in the 1 MiB a document may have.
    let mut thousand = laid_out.clone();
    thousand.nodes.truncate(1000);
    thousand.edges.truncate(999);
    let bpmn_thousand =
        app::model::formats::export(&thousand, app::model::formats::ExportFormat::Bpmn).unwrap();
    let export = |f| app::model::formats::export(&laid_out, f).unwrap();
    let mermaid_valid = export(app::model::formats::ExportFormat::Mermaid);
    let bpmn_valid = export(app::model::formats::ExportFormat::Bpmn);
    let mermaid_names = format!(
        "flowchart LR\n{}",
        megabyte(|i| format!("  s{i}[Step {i}]"), "\n")
    );
    let bpmn_tasks = format!(
        "<definitions><process id=\"p\">{}</process></definitions>",
        megabyte(|i| format!("<task id=\"t{i}\" name=\"Task {i}\"/>"), "")
    );
    let bpmn_gateways = format!(
        "<definitions><process id=\"p\">{}</process></definitions>",
        megabyte(|i| format!("<exclusiveGateway id=\"g{i}\"/>\n"), "")
    );
    let bpmn_sub_processes = format!(
        "<definitions><process id=\"p\">{}</process></definitions>",
        megabyte(|i| format!("<subProcess id=\"s{i}\"/>\n"), "")
    );
    let bpmn_elements = format!(
        "<definitions>{}</definitions>",
        megabyte(|_| "<documentation/>".to_string(), "")
    );
    vec![
        (
            "mermaid",
            "2,000 steps as exported (accepted, positions kept)",
            mermaid_valid,
        ),
        (
            "mermaid",
            "1 MiB of distinct steps (refused at 2,000 steps)",
            mermaid_names,
        ),
        (
            "bpmn",
            "1,000 steps as exported, with DI (accepted)",
            bpmn_thousand,
        ),
        (
            "bpmn",
            "2,000 steps as exported: over 1 MiB (refused, 413)",
            bpmn_valid,
        ),
        (
            "bpmn",
            "1 MiB of exclusive gateways (every one refused by id and line)",
            bpmn_gateways,
        ),
        (
            "bpmn",
            "1 MiB of tasks (refused at 2,000 steps)",
            bpmn_tasks,
        ),
        (
            "bpmn",
            "1 MiB of sub-processes (each refused by id and line)",
            bpmn_sub_processes,
        ),
        (
            "bpmn",
            "990 tasks x 100 message flows x 990 tasks, 160 KB (refused before pairing)",
            include_str!("../../app/tests/fixtures/message-flow-fan.bpmn").to_string(),
        ),
        (
            "bpmn",
            "1 MiB of empty elements (refused at 50,000 elements)",
            bpmn_elements,
        ),
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
                    match format {
                        "text" | "mermaid" => "text/plain",
                        "bpmn" => "application/xml",
                        _ => "application/json",
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
    // The lab's conversion of the largest workflow (2,000 steps in a chain, each able to
    // fail, with 5,000 edges: its design warnings are worked out before and after).
    let nodes: Vec<serde_json::Value> = (0..2000)
        .map(|i| {
            json!({"id": format!("s{i}"), "label": format!("Step {i}"), "service": "S",
                        "action": "a", "failure_rate": 0.1, "compensation": "undo"})
        })
        .collect();
    let edges: Vec<serde_json::Value> = (0..5000)
        .map(|i| {
            let (from, to) = if i < 1999 {
                (i, i + 1)
            } else {
                (i % 1999, (i * 7) % 2000)
            };
            let kind = if i % 2 == 0 { "event" } else { "command" };
            json!({"from": format!("s{from}"), "to": format!("s{to}"), "kind": kind})
        })
        .collect();
    let created: serde_json::Value = http
        .post(format!("{base}/api/workflows"))
        .json(&json!({"name": "2000 steps", "nodes": nodes, "edges": edges}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("created");
    let id = created["id"].as_str().expect("an id").to_string();
    for to in ["orchestration", "choreography"] {
        let mut times = Vec::new();
        let mut status = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let response = http
                .post(format!("{base}/api/lab/convert"))
                .json(&json!({"workflow_id": id, "to": to}))
                .send()
                .await
                .expect("convert");
            status = response.status().as_u16();
            let _ = response.bytes().await;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  convert to {to:<13} {status}  {:>7.1} / {:>7.1} ms  2,000 steps, 5,000 edges, every step can fail",
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
