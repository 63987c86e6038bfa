//! Several real server processes on one PostgreSQL database (a fresh schema per test) and
//! one NATS bus (a subject prefix per test): runs survive the SIGKILL of the process that
//! drives them and stay live for a watcher on another process, a process paused past its
//! lease cannot write to the runs the others took over (fencing), and cancel requests and the
//! runs feed work from any process.

use crate::common;

use std::time::Duration;

use common::cluster::{
    assert_whole, create_workflow, flaky_flow, history, long_flow, next_message, now_ms, report,
    start_run, watch, Shared,
};
use common::{eventually, metric, metrics_at};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Short leases, so takeovers happen within the test's patience (not so short that a
/// process busy with 100 runs on this 2-core machine misses its renewals).
const LEASE_MS: u64 = 1_500;
/// A lease, then up to a renewal interval before a survivor looks, then the claim and the
/// replay: a run of a dead process is resumed within this.
const TAKEOVER_WITHIN_MS: i64 = LEASE_MS as i64 + LEASE_MS as i64 / 3 + 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_a_killed_process_complete_on_the_others_without_gaps_or_double_execution() {
    const RUNS: usize = 300;
    let cluster = Shared::new().await;
    let mut servers = [
        cluster.start("p1", LEASE_MS).await,
        cluster.start("p2", LEASE_MS).await,
        cluster.start("p3", LEASE_MS).await,
    ];
    let workflow = create_workflow(&servers[0], &flaky_flow("Cluster", [500, 900])).await;
    // And lean events: each subscriber asks Orders for the address its event does not
    // carry (a query and its answer, re-sent by whoever resumes a run waiting for one).
    let querying = create_workflow(
        &servers[0],
        &json!({"name": "Lean events",
            "nodes": [
                {"id": "order", "label": "Order", "service": "Orders", "action": "place",
                 "latency_ms": [300, 600], "writes": {"address": "Seoul"}},
                {"id": "pack", "label": "Pack", "service": "Stock", "action": "pack",
                 "latency_ms": [300, 600], "reads": ["address"]},
                {"id": "ship", "label": "Ship", "service": "Shipping", "action": "ship",
                 "latency_ms": [300, 600], "reads": ["address"]}],
            "edges": [
                {"from": "order", "to": "pack", "kind": "event", "payload": []},
                {"from": "pack", "to": "ship", "kind": "event", "payload": []}]}),
    )
    .await;
    // Each run belongs to the process that received its request; started all at once.
    let runs: Vec<String> = futures::future::join_all(
        (0..RUNS).map(|seed| start_run(&servers[seed % 3], &workflow, seed)),
    )
    .await;
    let asking: Vec<String> = futures::future::join_all(
        (0..30).map(|seed| start_run(&servers[seed % 3], &querying, seed)),
    )
    .await;
    for (i, run) in runs.iter().enumerate().take(6) {
        let owner = report(&servers[(i + 1) % 3], run).await["owner"].clone();
        assert_eq!(
            owner,
            format!("p{}", i % 3 + 1),
            "any process reports the owner"
        );
    }

    // SIGKILL p1 while its runs are in progress (each takes 2 s or more). A watcher on p2
    // of one of them goes on live through the takeover.
    let watched = runs[0].clone();
    let watcher = tokio::spawn(watch(
        servers[1].ws_url(&format!("/api/runs/{watched}/events?after=0")),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed_at = now_ms();
    servers[0].signal_and_wait("-KILL", Duration::from_secs(5));
    // Records stamped after this were written by the survivors.
    let dead_at = now_ms();

    let survivors = &servers[1..];
    for (i, run) in runs.iter().enumerate() {
        let server = &survivors[i % 2];
        let done = eventually(
            &format!("the end of run {run}"),
            Duration::from_secs(60),
            Duration::from_millis(50),
            || async {
                let report = report(server, run).await;
                if report["status"] != "running" {
                    Ok(report)
                } else {
                    Err(report.to_string())
                }
            },
        )
        .await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    // Every lean run asked twice and heard both answers, once each, wherever it ended —
    // p1's among them, taken over (some in the middle of a query).
    let mut asked_over = 0;
    for (i, run) in asking.iter().enumerate() {
        let server = &survivors[i % 2];
        let done = eventually(
            &format!("the end of run {run}"),
            Duration::from_secs(60),
            Duration::from_millis(50),
            || async {
                let report = report(server, run).await;
                if report["status"] != "running" {
                    Ok(report)
                } else {
                    Err(report.to_string())
                }
            },
        )
        .await;
        assert_eq!(done["status"], "completed", "{done}");
        let records = history(server, run).await;
        assert_whole(run, &records);
        let count = |kind: &str| records.iter().filter(|r| r["type"] == kind).count();
        assert_eq!(
            (count("QuerySent"), count("QueryAnswered")),
            (2, 2),
            "{run}"
        );
        if i % 3 == 0 && records.iter().any(|r| r["type"] == "RunResumed") {
            asked_over += 1;
        }
    }
    assert!(asked_over > 0, "some of p1's lean runs were taken over");
    let mut slowest = 0;
    let mut taken_over = 0;
    for (i, run) in runs.iter().enumerate() {
        let records = history(&survivors[i % 2], run).await;
        assert_whole(run, &records);
        let ended_at = records.last().unwrap()["at_ms"].as_i64().unwrap();
        if i % 3 == 0 && ended_at > dead_at {
            // One of p1's runs that ended after p1 died: a survivor took it over, in time,
            // and said so in the run's history.
            taken_over += 1;
            let resumed = records
                .iter()
                .find(|r| r["type"] == "RunResumed")
                .unwrap_or_else(|| panic!("{run} was in progress on p1 and not resumed"));
            let by = &resumed["by"];
            assert!(by["process"] == "p2" || by["process"] == "p3", "{resumed}");
            assert_eq!(by["from"], "p1", "{resumed}");
            assert_eq!(by["epoch"], 2, "{resumed}");
            let after = resumed["at_ms"].as_i64().unwrap() - killed_at;
            assert!(
                after <= TAKEOVER_WITHIN_MS,
                "{run} resumed {after} ms after the kill (lease {LEASE_MS} ms)"
            );
            slowest = slowest.max(after);
        }
    }
    assert!(
        taken_over > RUNS / 3 / 2,
        "the kill must hit p1's runs in progress ({taken_over})"
    );
    let (records, close) = watcher.await.unwrap();
    assert_eq!(close, Some(1000), "the stream ends normally with the run");
    assert_whole(&watched, &records);
    assert_eq!(
        records,
        history(&survivors[0], &watched).await,
        "every record once"
    );
    let live_after_kill = records
        .iter()
        .filter(|r| r["at_ms"].as_i64().unwrap() > killed_at)
        .count();
    assert!(
        live_after_kill > 1,
        "the watcher saw the run go on after the kill"
    );
    // The event deliveries between the runs' steps travelled over JetStream: every run
    // delivered at least one (b → c), each stored once in the cluster's events stream.
    let client = async_nats::connect(&cluster.bus.0).await.unwrap();
    let mut stream = async_nats::jetstream::new(client)
        .get_stream(format!("{}_EVENTS", cluster.bus.1.to_uppercase()))
        .await
        .expect("the events stream");
    let stored = stream.info().await.unwrap().state.messages;
    assert!(stored >= RUNS as u64, "{stored} deliveries in the stream");
    println!(
        "{taken_over} of p1's runs were in progress at the kill; all resumed by p2 and p3 within {slowest} ms (lease {LEASE_MS} ms); {asked_over} of p1's lean runs taken over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_past_its_lease_cannot_write_to_the_runs_taken_over() {
    let cluster = Shared::new().await;
    let mut paused = cluster.start("p1", LEASE_MS).await;
    let survivor = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&paused, &flaky_flow("Fenced", [250, 400])).await;
    let mut runs = Vec::new();
    for seed in 0..6 {
        runs.push(start_run(&paused, &workflow, seed).await);
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let sent = std::process::Command::new("kill")
        .args(["-STOP", &paused.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // p2 takes the runs over once p1's lease has run out, and completes them.
    for run in &runs {
        eventually(
            &format!("{run}'s takeover and end on p2"),
            Duration::from_secs(30),
            Duration::from_millis(50),
            || async {
                let report = report(&survivor, run).await;
                if report["status"] != "running" && report["owner"] == "p2" {
                    Ok(())
                } else {
                    Err(report.to_string())
                }
            },
        )
        .await;
    }
    let before: Vec<usize> = {
        let mut counts = Vec::new();
        for run in &runs {
            counts.push(history(&survivor, run).await.len());
        }
        counts
    };
    // p1 wakes up: its timers are all due, its drivers try to write — and are refused.
    let sent = std::process::Command::new("kill")
        .args(["-CONT", &paused.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let metrics_url = paused.url("/metrics");
    let lost = eventually(
        "p1 finding out its runs are lost",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            let lost = metric(
                &metrics_at(&paused.http, &metrics_url).await,
                "hybridflow_runs_lost_total",
            );
            if lost >= runs.len() as f64 {
                Ok(lost)
            } else {
                Err(format!("{lost} lost"))
            }
        },
    )
    .await;
    assert_eq!(lost, runs.len() as f64);
    assert_eq!(
        metric(
            &metrics_at(&paused.http, &metrics_url).await,
            "hybridflow_runs_in_progress"
        ),
        0.0,
        "p1 drives none of them any more"
    );
    for (run, count) in runs.iter().zip(before) {
        let records = history(&survivor, run).await;
        assert_eq!(records.len(), count, "p1 wrote nothing to {run}");
        assert_whole(run, &records);
        assert_eq!(report(&paused, run).await["owner"], "p2");
    }
    paused.signal_and_wait("-KILL", Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_faults_and_the_runs_feed_work_from_any_process() {
    let cluster = Shared::new().await;
    let owner = cluster.start("p1", LEASE_MS).await;
    let other = cluster.start("p2", LEASE_MS).await;
    let (mut feed, _) = tokio_tungstenite::connect_async(other.ws_url("/api/runs/feed"))
        .await
        .expect("feed");
    let workflow = create_workflow(&owner, &flaky_flow("Remote", [3_000, 4_000])).await;
    let run = start_run(&owner, &workflow, 1).await;
    let also = start_run(&owner, &workflow, 2).await;
    // p2's runs feed hears of p1's runs.
    let started: Vec<(Value, Value)> =
        vec![next_message(&mut feed).await, next_message(&mut feed).await]
            .into_iter()
            .map(|m| (m["id"].clone(), m["status"].clone()))
            .collect();
    assert_eq!(
        started,
        [
            (json!(run), json!("running")),
            (json!(also), json!("running"))
        ]
    );

    // Faults and cancel sent to p2 reach p1, which drives the runs.
    let faults = other
        .post_json(
            &format!("/api/runs/{also}/faults"),
            &json!({"faults": {"services": {"S": {"down": true}}}}),
        )
        .await;
    assert_eq!(faults.status(), 202, "{}", faults.text().await.unwrap());
    let cancel = other
        .post_json(&format!("/api/runs/{run}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    let ended = next_message(&mut feed).await;
    assert_eq!(
        (&ended["id"], &ended["status"]),
        (&json!(run), &json!("cancelled"))
    );
    assert_eq!(report(&other, &run).await["status"], "cancelled");
    assert_eq!(report(&other, &run).await["owner"], "p1");
    // p1 applied the faults sent to p2: its run's stream on p2 (followed through the bus)
    // says so.
    let (mut stream, _) =
        tokio_tungstenite::connect_async(other.ws_url(&format!("/api/runs/{also}/events")))
            .await
            .expect("stream");
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Text(text) = message {
                if serde_json::from_str::<Value>(&text).unwrap()["type"] == "FaultsChanged" {
                    return;
                }
            }
        }
        panic!("the stream ended without FaultsChanged");
    })
    .await
    .expect("FaultsChanged within 10 s");
    let cancel = other
        .post_json(&format!("/api/runs/{also}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    // A run that has ended: 409 from any process.
    let again = other
        .post_json(&format!("/api/runs/{run}/cancel"), &json!({}))
        .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_batches_are_seen_and_cancelled_anywhere_and_outlive_their_process() {
    let cluster = Shared::new().await;
    let mut first = cluster.start("p1", LEASE_MS).await;
    let second = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&first, &long_flow()).await;
    let start_batch = |seed: u64| {
        let first = &first;
        let workflow = workflow.clone();
        async move {
            let response = first
                .post_json(
                    "/api/lab/batches",
                    &json!({"workflow_id": workflow, "runs": 5000, "seed": seed, "input": {}}),
                )
                .await;
            assert_eq!(response.status(), 202);
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let cancelled = start_batch(1).await;
    let resumed = start_batch(2).await;
    // p2 shows p1's batches running, with the progress p1 stores.
    let seen = eventually(
        "p1's batch progress on p2",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let batch: Value = second
                .get_json(&format!("/api/lab/batches/{resumed}"))
                .await;
            let done: u64 = batch["progress"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["done"].as_u64().unwrap())
                .sum();
            if batch["state"] == "running" && done > 0 {
                Ok(batch)
            } else {
                Err(batch.to_string())
            }
        },
    )
    .await;
    assert_eq!(seen["owner"], "p1");
    // Cancelled through p2.
    let cancel = second
        .post_json(&format!("/api/lab/batches/{cancelled}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    eventually(
        "the cancelled batch's end",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let batch: Value = second
                .get_json(&format!("/api/lab/batches/{cancelled}"))
                .await;
            if batch["state"] == "cancelled" {
                Ok(())
            } else {
                Err(batch["state"].to_string())
            }
        },
    )
    .await;
    // p1 dies while computing the other batch: p2 computes it again, to the end.
    let before: Value = second
        .get_json(&format!("/api/lab/batches/{resumed}"))
        .await;
    assert_eq!(before["state"], "running", "still computing at the kill");
    first.signal_and_wait("-KILL", Duration::from_secs(5));
    let done = eventually(
        "the batch's end on p2",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || async {
            let batch: Value = second
                .get_json(&format!("/api/lab/batches/{resumed}"))
                .await;
            if batch["state"] == "done" {
                Ok(batch)
            } else {
                Err(batch["state"].to_string())
            }
        },
    )
    .await;
    assert_eq!(done["owner"], "p2");
    assert!(done["result"].is_object(), "{done}");
}

/// A sub-flow across processes: the parent and its waiting child are driven by p1; p1 is
/// killed; p2 takes both over (the child's start is found, not made twice), the message
/// sent to the child through p2 ends it, and the parent — owned by p2 now — hears its end
/// and completes. Each history is whole and fenced: nothing p1 wrote after the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_run_and_its_parent_are_taken_over_together_and_the_parent_hears_the_end() {
    let cluster = Shared::new().await;
    let mut p1 = cluster.start("p1", LEASE_MS).await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let child_flow = create_workflow(
        &p1,
        &json!({"name": "Confirm", "nodes": [
            {"id": "charge", "label": "Charge", "service": "Payments", "action": "charge", "latency_ms": 20, "writes": {"paid": true}},
            {"id": "confirm", "label": "Confirm", "service": "Payments", "action": "await",
             "wait": {"message": "PaymentConfirmed", "timeout_ms": 120000}}],
            "edges": [{"from": "charge", "to": "confirm", "kind": "command"}]}),
    )
    .await;
    let parent_flow = create_workflow(
        &p1,
        &json!({"name": "Order", "nodes": [
            {"id": "pay", "label": "Pay", "service": "Orders", "action": "pay", "sub_flow": child_flow},
            {"id": "ship", "label": "Ship", "service": "Shipping", "action": "ship", "latency_ms": 20}],
            "edges": [{"from": "pay", "to": "ship", "kind": "command"}]}),
    )
    .await;
    let parent = start_run(&p1, &parent_flow, 4).await;
    let child = format!("{parent}.pay.1.1");
    eventually(
        "the child waiting",
        Duration::from_secs(10),
        Duration::from_millis(25),
        || async {
            let r = report(&p2, &child).await;
            if r["waiting"]["confirm"].is_object() {
                Ok(())
            } else {
                Err(r.to_string())
            }
        },
    )
    .await;
    assert_eq!(report(&p2, &child).await["owner"], "p1");
    p1.signal_and_wait("-KILL", Duration::from_secs(5));
    // p2 takes both over.
    for run in [&parent, &child] {
        eventually(
            &format!("{run} on p2"),
            Duration::from_millis(TAKEOVER_WITHIN_MS as u64 + 5_000),
            Duration::from_millis(50),
            || async {
                let r = report(&p2, run).await;
                if r["owner"] == "p2" {
                    Ok(())
                } else {
                    Err(r.to_string())
                }
            },
        )
        .await;
    }
    let sent = p2
        .post_json(
            &format!("/api/runs/{child}/messages"),
            &json!({"name": "PaymentConfirmed"}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let ended = eventually(
        "the parent's end",
        Duration::from_secs(20),
        Duration::from_millis(50),
        || async {
            let r = report(&p2, &parent).await;
            if r["status"] != "running" {
                Ok(r)
            } else {
                Err(r.to_string())
            }
        },
    )
    .await;
    assert_eq!(ended["status"], "completed", "{ended}");
    assert_eq!(ended["children"]["pay"]["status"], "completed");
    let parent_records = history(&p2, &parent).await;
    assert_whole(&parent, &parent_records);
    let count =
        |records: &[Value], kind: &str| records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!(count(&parent_records, "ChildStarted"), 1);
    assert_eq!(count(&parent_records, "ChildEnded"), 1);
    let child_records = history(&p2, &child).await;
    assert_whole(&child, &child_records);
    assert_eq!(count(&child_records, "RunStarted"), 1);
    let paid = parent_records
        .iter()
        .find(|r| r["type"] == "StepSucceeded" && r["node"] == "pay")
        .unwrap();
    assert_eq!(paid["wrote"]["paid"], true);
}
