//! Trade-off lab benchmark: `cargo bench -p server --bench lab`. Prints its numbers.
//!
//! 1. Compare: the e-commerce flow (orchestrated template, input `{"stock": "none"}` so
//!    every run fails and is compensated or not), 3 styles × 500 runs: the time of the
//!    computation alone, and end to end through `POST /api/lab/batches` until the stored
//!    result reads back. Runs are simulated in virtual time, so the runs' speed factor does
//!    not enter; the figure is the wall time of 1,500 runs.
//! 2. Load: a 5-step flow with zero latency (commands and events alternating), 2,000 runs
//!    started per second for 5 s per style on the real engine (in-process bus, SQLite
//!    history, no orchestrator limit): runs started and completed per second, latency;
//!    meanwhile the editor page (`GET /`) and `GET /api/workflows` are requested every
//!    100 ms and their response times reported (is the UI responsive under load?).
//! 3. Prune: the next load test's end deletes that test's runs; the time until the slot for
//!    another test frees is the time to delete them.
//! 4. On real services (run after 1, before 2): the e-commerce template bound to the demo
//!    services (each its own process): a compare of 3 × 50 real runs — its time, the
//!    latencies it measured beside the simulated ones, the calls per run and their time —
//!    and a load test at 100 runs/s for 3 s per style against them (`LAB_ONLY=real` stops
//!    after it).

mod support;

use std::time::{Duration, Instant};

use app::model::examples::ecommerce_orchestrated;
use app::model::Faults;
use serde_json::{json, Value};
use server::lab::compare::{compare, CompareSpec, Progress};

const COMPARE_RUNS: u32 = 500;
const LOAD_RATE: u32 = 2_000;
const LOAD_SECONDS: u32 = 5;
/// Real runs per style of the compare on real services.
const REAL_RUNS: u32 = 50;
/// Runs started per second by the load test on real services.
const REAL_LOAD_RATE: u32 = 100;

fn five_steps() -> Value {
    let nodes: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": format!("S{i}"), "action": "go", "latency_ms": 0}))
        .collect();
    let edges: Vec<Value> = (1..5)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": if i % 2 == 0 { "event" } else { "command" }}))
        .collect();
    json!({"name": "Five", "nodes": nodes, "edges": edges})
}

/// Compare and load on the e-commerce template bound to the demo services (each its own
/// process on loopback): how long a batch of real runs takes, the latencies it measures
/// beside the simulated ones of the same flow, the calls per run and their time; then a
/// load test's throughput and latency against the services.
async fn real_services(server: &support::Server) {
    let mut services = Vec::new();
    let mut workflow = app::model::examples::ecommerce_real_orchestrated();
    for node in workflow.nodes.iter_mut().filter(|n| n.call.is_some()) {
        // The template's bound steps are named as the demo services are.
        let addr = support::free_local_addr();
        services.push(support::spawn_demo_service(&node.id, addr).await);
        if let Some(http) = node.call.as_mut().and_then(|c| c.http.as_mut()) {
            http.url = format!("http://{addr}/");
        }
    }
    let simulated = compare(
        &CompareSpec {
            workflow: workflow.clone(),
            input: json!({}),
            runs: REAL_RUNS,
            seed: 1,
            faults: Faults::default(),
            message_ms: 0,
            library: Default::default(),
            verify: None,
        },
        &Progress::default(),
    )
    .expect("not cancelled");
    let id = server
        .create("/api/workflows", serde_json::to_value(&workflow).unwrap())
        .await;
    let started = Instant::now();
    let batch = server
        .create(
            "/api/lab/batches",
            json!({"workflow_id": id, "input": {}, "runs": REAL_RUNS, "seed": 1}),
        )
        .await;
    let done = loop {
        let b = server
            .get(&format!("/api/lab/batches/{batch}"))
            .await
            .unwrap();
        if b["state"] != "running" {
            assert_eq!(b["state"], "done", "{b}");
            break b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed().as_secs_f64();
    println!(
        "compare on real services, 3 × {REAL_RUNS} real runs (+3 reference runs, 8 at once): {took:.2} s ({:.0} runs/s)",
        f64::from(REAL_RUNS * 3 + 3) / took
    );
    for (real, sim) in done["result"]["styles"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&simulated.styles)
    {
        let runs = real["runs"].as_f64().unwrap().max(1.0);
        println!(
            "  {:<14} measured p50 {} ms, p95 {} ms (simulated: p50 {} ms, p95 {} ms); {:.1} calls per run, a call p50 {} ms, p95 {} ms",
            real["style"].as_str().unwrap(),
            real["latency_ms"]["p50"],
            real["latency_ms"]["p95"],
            sim.latency_ms.p50,
            sim.latency_ms.p95,
            real["service_calls"].as_f64().unwrap_or(0.0) / runs,
            // Absent when every call took under a millisecond.
            real["call_ms"]["p50"].as_u64().unwrap_or(0),
            real["call_ms"]["p95"].as_u64().unwrap_or(0),
        );
    }
    let test = server
        .create(
            "/api/lab/loads",
            json!({"workflow_id": id, "rate": REAL_LOAD_RATE, "seconds": 3, "seed": 1, "speed": 10.0}),
        )
        .await;
    let done = loop {
        let t = server.get(&format!("/api/lab/loads/{test}")).await.unwrap();
        if t["state"] != "running" {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for style in done["styles"].as_array().unwrap() {
        println!(
            "  load on real services at {REAL_LOAD_RATE}/s × 3 s, {:<14} {}/{} completed, {:.0} runs/s, p50 {} ms, p95 {} ms",
            style["style"].as_str().unwrap(),
            style["completed"],
            style["started"],
            style["throughput"].as_f64().unwrap_or(0.0),
            style["latency_ms"]["p50"],
            style["latency_ms"]["p95"],
        );
    }
    for mut service in services {
        let _ = service.kill();
        let _ = service.wait();
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("lab benchmark (2 worker threads)");

    // 1a. The compare computation alone.
    let spec = CompareSpec {
        workflow: ecommerce_orchestrated(),
        input: json!({"stock": "none"}),
        runs: COMPARE_RUNS,
        seed: 1,
        faults: Faults::default(),
        message_ms: 0,
        library: Default::default(),
        verify: None,
    };
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || compare(&spec, &Progress::default()))
        .await
        .unwrap()
        .expect("not cancelled");
    let alone = started.elapsed();
    let counted: u32 = result.styles.iter().map(|s| s.runs).sum();
    println!(
        "compare e-commerce 3 × {COMPARE_RUNS}: {counted} runs simulated + fail matrix in {:.0} ms ({:.0} runs/s)",
        alone.as_secs_f64() * 1000.0,
        counted as f64 / alone.as_secs_f64()
    );

    // 1c. The same compare on flows that decide and loop (issue #27): runs/s against the
    // e-commerce flow's, in the same run (compare the ratio, not the number).
    for (name, workflow, input) in [
        (
            "payment by amount (decisions)",
            app::model::examples::payment_by_amount(),
            json!({"amount": 1500}),
        ),
        (
            "card retry loop (a bounded loop)",
            app::model::examples::card_retry_loop(),
            json!({}),
        ),
        (
            "order items (a for-each of 3)",
            app::model::examples::order_items_for_each(),
            json!({}),
        ),
    ] {
        let spec = CompareSpec {
            workflow,
            input,
            runs: COMPARE_RUNS,
            seed: 1,
            faults: Faults::default(),
            message_ms: 0,
            library: Default::default(),
            verify: None,
        };
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || compare(&spec, &Progress::default()))
            .await
            .unwrap()
            .expect("not cancelled");
        let took = started.elapsed();
        let counted: u32 = result.styles.iter().map(|s| s.runs).sum();
        println!(
            "compare {name} 3 × {COMPARE_RUNS}: {counted} runs + fail matrix in {:.0} ms ({:.0} runs/s, {:.2}× the e-commerce flow's)",
            took.as_secs_f64() * 1000.0,
            counted as f64 / took.as_secs_f64(),
            (counted as f64 / took.as_secs_f64()) / (f64::from(COMPARE_RUNS * 3) / alone.as_secs_f64()),
        );
    }
    if std::env::var("LAB_ONLY").as_deref() == Ok("compare") {
        return;
    }

    // 4. The same e-commerce flow on real services (issue #29).
    let server = support::Server::start().await;
    real_services(&server).await;
    if std::env::var("LAB_ONLY").as_deref() == Ok("real") {
        return;
    }

    // 1b. End to end through the API.
    let workflow = server
        .create(
            "/api/workflows",
            serde_json::to_value(ecommerce_orchestrated()).unwrap(),
        )
        .await;
    let started = Instant::now();
    let batch = server
        .create(
            "/api/lab/batches",
            json!({"workflow_id": workflow, "input": {"stock": "none"}, "runs": COMPARE_RUNS, "seed": 1}),
        )
        .await;
    loop {
        let b = server
            .get(&format!("/api/lab/batches/{batch}"))
            .await
            .unwrap();
        if b["state"] != "running" {
            assert_eq!(b["state"], "done");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "compare through the API (start, poll, stored result read back): {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    // 2. Load mode on the real engine, with the UI's requests timed meanwhile.
    let workflow = server.create("/api/workflows", five_steps()).await;
    let (cpu0, wall0) = (support::cpu_seconds(), Instant::now());
    let test = server
        .create(
            "/api/lab/loads",
            json!({"workflow_id": workflow, "rate": LOAD_RATE, "seconds": LOAD_SECONDS, "seed": 1}),
        )
        .await;
    let mut page_ms = Vec::new();
    let mut api_ms = Vec::new();
    let done = loop {
        let t = Instant::now();
        let page = server
            .http
            .get(format!("http://{}/", server.base))
            .send()
            .await
            .expect("page");
        assert!(page.status().is_success());
        let _ = page.bytes().await;
        page_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        server.get("/api/workflows").await.expect("workflows");
        api_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let state = server.get(&format!("/api/lab/loads/{test}")).await.unwrap();
        if state["state"] != "running" {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall = wall0.elapsed().as_secs_f64();
    println!(
        "load: {LOAD_RATE} runs/s asked for {LOAD_SECONDS} s per style, 5 zero-latency steps, SQLite history:"
    );
    for s in done["styles"].as_array().unwrap() {
        let seconds = s["seconds"].as_array().unwrap();
        let started_in_window: u64 = seconds
            .iter()
            .take(LOAD_SECONDS as usize)
            .map(|x| x["started"].as_u64().unwrap())
            .sum();
        println!(
            "  {:<13} started {} ({:.0}/s), completed {} (throughput {:.0}/s), latency p50 {} ms p95 {} ms p99 {} ms",
            s["style"].as_str().unwrap(),
            s["started"],
            started_in_window as f64 / LOAD_SECONDS as f64,
            s["completed"],
            s["throughput"].as_f64().unwrap(),
            s["latency_ms"]["p50"],
            s["latency_ms"]["p95"],
            s["latency_ms"]["p99"],
        );
    }
    page_ms.sort_by(f64::total_cmp);
    api_ms.sort_by(f64::total_cmp);
    println!(
        "  UI during the load: GET / p50 {:.1} ms p99 {:.1} ms, GET /api/workflows p50 {:.1} ms p99 {:.1} ms ({} samples each)",
        pct(&page_ms, 0.5),
        pct(&page_ms, 0.99),
        pct(&api_ms, 0.5),
        pct(&api_ms, 0.99),
        page_ms.len()
    );
    println!(
        "  CPU {:.1} s over {:.1} s wall ({:.0}% of 2 cores), resident {:.0} MB",
        support::cpu_seconds() - cpu0,
        wall,
        100.0 * (support::cpu_seconds() - cpu0) / wall,
        support::resident_mb()
    );

    // 3. The next load test's end deletes this one's runs (a chunk at a time); the slot for
    //    a new test frees once that is done.
    let runs: u64 = done["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["started"].as_u64().unwrap())
        .sum();
    let small = json!({"workflow_id": workflow, "rate": 1, "seconds": 1, "seed": 2});
    let next = server.create("/api/lab/loads", small.clone()).await;
    while server.get(&format!("/api/lab/loads/{next}")).await.unwrap()["state"] == "running" {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pruning = Instant::now();
    loop {
        let response = server
            .http
            .post(format!("http://{}/api/lab/loads", server.base))
            .json(&small)
            .send()
            .await
            .expect("post");
        if response.status().is_success() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = pruning.elapsed().as_secs_f64();
    println!(
        "prune: the {runs} runs of that load test (with their history) deleted in {:.2} s ({:.0} runs/s)",
        took,
        runs as f64 / took
    );
    std::process::exit(0);
}
