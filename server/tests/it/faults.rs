//! Partial failures of the distributed mode, as its users meet them: real server processes
//! on PostgreSQL and NATS, with a TCP proxy on loopback between one process and its
//! database or its bus (`common::proxy`) to reset, cut or stall that one link, and a NATS
//! server of the test's own to restart. One test per fault class; each checks, from the
//! store and from watchers, what must hold whatever the fault:
//!
//! - every record a watcher got is the record stored at that seq (nothing acted on, nor
//!   shown, that was not stored under the current epoch);
//! - no run is left running once things are quiet; every `201` is stored;
//! - no attempt started twice, no gap, one end (`assert_whole`);
//! - a cancel answered `202` is in the run's history, and the run ends cancelled;
//! - `/api/ready` tells the truth during the fault.

use crate::common;

use std::time::{Duration, Instant};

use common::cluster::{
    assert_seen_is_stored, assert_whole, create_workflow, event_chain, flaky_flow, long_flow,
    ready, report, signal, start_run, watch_texts, Shared,
};
use common::nats_server::NatsServer;
use common::proxy::{target_of, Mode, Proxy};
use common::{eventually, metric, metrics_at, ServerProcess};
use serde_json::{json, Value};

/// Short leases, so takeovers happen within the tests' patience.
const LEASE_MS: u64 = 1_500;

/// Waits until no run of the cluster is running, and returns how long that took.
async fn quiet(cluster: &Shared, within: Duration) -> Duration {
    let started = Instant::now();
    eventually(
        "every run ended",
        within,
        Duration::from_millis(200),
        || async {
            let running = cluster.running().await;
            if running.is_empty() {
                Ok(())
            } else {
                Err(format!("{} still running: {running:?}", running.len()))
            }
        },
    )
    .await;
    started.elapsed()
}

/// A run's stored history, as the JSON records it holds.
async fn stored_records(cluster: &Shared, run: &str) -> Vec<Value> {
    cluster
        .stored(run)
        .await
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).unwrap())
        .collect()
}

/// Waits until `server` says it is ready (200), then returns.
async fn until_ready(server: &ServerProcess) {
    eventually(
        "ready again",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            match ready(server).await {
                (200, _) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
}

/// Waits until `server` says it is not ready (503) for a reason that mentions `why`, and
/// returns what it said.
async fn until_not_ready(server: &ServerProcess, why: &str) -> String {
    eventually(
        &format!("the server saying it is not ready ({why})"),
        Duration::from_secs(5),
        Duration::from_millis(50),
        || async {
            match ready(server).await {
                (503, said) if said.contains(why) => Ok(said),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
}

/// Stores, through `server`, a choreographed flow with the constructs that decide, fan out
/// and nest — a for-each, a sub-flow (its child's end told to its parent at whichever
/// process owns it) and a decision its publisher makes on what the first step drew — and
/// the workflow its sub-flow runs; returns the flow's id.
async fn create_deciding(server: &ServerProcess) -> String {
    let payment = create_workflow(server, &event_chain("Payment", 3, [150, 300])).await;
    create_workflow(
        server,
        &json!({"name": "Deciding",
            "nodes": [
                {"id": "order", "label": "Order", "service": "Orders", "action": "place", "latency_ms": [100, 200],
                 "writes": {"tier": {"choose": [{"value": "gold", "p": 0.5}, {"value": "plain", "p": 0.5}]},
                            "items": ["a", "b", "c"]}},
                {"id": "check", "label": "Check items", "service": "Stock", "action": "check",
                 "latency_ms": [100, 300], "for_each": "items"},
                {"id": "pay", "label": "Pay", "service": "Payments", "action": "pay", "sub_flow": payment},
                {"id": "gold", "label": "Gold lane", "service": "Shipping", "action": "express", "latency_ms": 100},
                {"id": "plain", "label": "Plain lane", "service": "Shipping", "action": "post", "latency_ms": 100}],
            "edges": [
                {"from": "order", "to": "check", "kind": "event"},
                {"from": "check", "to": "pay", "kind": "event"},
                {"from": "pay", "to": "gold", "kind": "event", "event": "PaidGold",
                 "condition": "tier == 'gold'"},
                {"from": "pay", "to": "plain", "kind": "event", "event": "PaidPlain"}]}),
    )
    .await
}

/// Each run of [`create_deciding`]'s flow (ended) did everything once: its for-each ended
/// once, it started one child and heard its end once, took the lane its drawn tier says
/// (and not the other), and its child's history is whole and completed. Returns how many
/// of them ended after `since` (Unix ms): those the fault caught under way.
async fn check_deciding(cluster: &Shared, parents: &[String], since: i64) -> usize {
    let mut caught = 0;
    for parent in parents {
        let records = stored_records(cluster, parent).await;
        assert_whole(parent, &records);
        assert_eq!(records.last().unwrap()["status"], "completed", "{parent}");
        caught += usize::from(records.last().unwrap()["at_ms"].as_i64() > Some(since));
        let of = |kind: &str, node: &str| {
            records
                .iter()
                .filter(|r| r["type"] == kind && r["node"] == node)
                .count()
        };
        assert_eq!(
            of("ItemsDone", "check"),
            1,
            "{parent}: the for-each ended once"
        );
        assert_eq!(of("ChildStarted", "pay"), 1, "{parent}: one child");
        assert_eq!(of("ChildEnded", "pay"), 1, "{parent}: its end heard once");
        let tier = records
            .iter()
            .find(|r| r["type"] == "StepSucceeded" && r["node"] == "order")
            .map(|r| r["wrote"]["tier"].clone())
            .unwrap();
        let (lane, other) = if tier == "gold" {
            ("gold", "plain")
        } else {
            ("plain", "gold")
        };
        assert_eq!(
            of("StepSucceeded", lane),
            1,
            "{parent}: {tier} takes the {lane} lane"
        );
        assert_eq!(of("StepStarted", other), 0, "{parent}");
        let child = format!("{parent}.pay.1.1");
        let child_records = stored_records(cluster, &child).await;
        assert_whole(&child, &child_records);
        assert_eq!(
            child_records.last().unwrap()["status"],
            "completed",
            "{child}"
        );
    }
    caught
}

/// Whether a run's history says another process took it over.
fn taken_over(records: &[Value]) -> bool {
    records
        .iter()
        .any(|r| r["type"] == "RunResumed" && r["by"]["from"].is_string())
}

/// Watchers of each run, on `servers` in turn, from now until the run ends.
fn watch_all(
    servers: &[&ServerProcess],
    runs: &[String],
) -> Vec<tokio::task::JoinHandle<(Vec<String>, Option<u16>)>> {
    runs.iter()
        .enumerate()
        .map(|(i, run)| {
            let url = servers[i % servers.len()].ws_url(&format!("/api/runs/{run}/events?after=0"));
            tokio::spawn(watch_texts(url))
        })
        .collect()
}

/// Every watcher got only stored records, each once and in order, and all of them.
async fn check_watchers(
    cluster: &Shared,
    runs: &[String],
    watchers: Vec<tokio::task::JoinHandle<(Vec<String>, Option<u16>)>>,
) {
    for (run, watcher) in runs.iter().zip(watchers) {
        let (seen, close) = tokio::time::timeout(Duration::from_secs(30), watcher)
            .await
            .unwrap_or_else(|_| panic!("the watcher of {run} never ended"))
            .unwrap();
        let stored = cluster.stored(run).await;
        assert_seen_is_stored(run, &seen, &stored);
        assert_eq!(close, Some(1000), "{run}: the stream ends with the run");
        assert_eq!(
            seen.len(),
            stored.len(),
            "{run}: the watcher got every record"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_cut_off_from_its_database_past_its_lease_forks_no_history() {
    let cluster = Shared::new().await;
    let database = Proxy::start(target_of(&cluster.database)).await;
    let p1 = cluster
        .start_via(
            "p1",
            LEASE_MS,
            &database.in_url(&cluster.database),
            &cluster.bus.0,
            &[],
        )
        .await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p1, &flaky_flow("Cut off", [300, 700])).await;
    let deciding = create_deciding(&p1).await;
    let mut runs: Vec<String> =
        futures::future::join_all((0..40).map(|seed| start_run(&p1, &workflow, seed))).await;
    let parents: Vec<String> =
        futures::future::join_all((0..10).map(|seed| start_run(&p1, &deciding, seed))).await;
    runs.extend(parents.iter().cloned());
    let watchers = watch_all(&[&p1, &p2], &runs);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // p1's connections to PostgreSQL are reset, and stay refused for 6 s (4 leases).
    let cut_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    database.set(Mode::Cut);
    let cut = Instant::now();
    until_not_ready(&p1, "the store").await;
    let (status, why) = ready(&p2).await;
    assert_eq!(status, 200, "p2 is fine: {why}");
    // p1 fences itself before its lease runs out: it says so.
    until_not_ready(&p1, "lease").await;
    tokio::time::sleep(Duration::from_secs(6).saturating_sub(cut.elapsed())).await;
    database.set(Mode::Pass);

    quiet(&cluster, Duration::from_secs(60)).await;
    let mut taken = 0;
    for run in &runs {
        let records = stored_records(&cluster, run).await;
        assert_whole(run, &records);
        taken += usize::from(taken_over(&records));
    }
    assert!(taken > 0, "p2 took runs over while p1 was cut off");
    let caught = check_deciding(&cluster, &parents, cut_at).await;
    assert!(
        caught > 0,
        "some deciding run was under way when p1 was cut off"
    );
    check_watchers(&cluster, &runs, watchers).await;
    // p1 found out: its writes to what p2 took were refused, and it is ready again.
    let fenced = metric(
        &metrics_at(&p1.http, &p1.url("/metrics")).await,
        "hybridflow_writes_fenced_total",
    );
    assert!(fenced >= 1.0, "{fenced} writes fenced");
    until_ready(&p1).await;
    println!("{taken} of 50 runs taken over by p2 while p1 was cut off ({caught} of the 10 deciding runs under way)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_whose_bus_link_fails_at_the_claim_still_delivers_every_event() {
    let cluster = Shared::new().await;
    let bus = Proxy::start(target_of(&cluster.bus.0)).await;
    let mut p1 = cluster.start("p1", LEASE_MS).await;
    let p2 = cluster
        .start_via(
            "p2",
            LEASE_MS,
            &cluster.database,
            &bus.in_url(&cluster.bus.0),
            &[],
        )
        .await;
    let workflow = create_workflow(&p1, &event_chain("Events", 5, [300, 500])).await;
    let runs: Vec<String> =
        futures::future::join_all((0..30).map(|seed| start_run(&p1, &workflow, seed))).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    // p1 dies, and p2's link to the bus is cut for 3 s from then: p2 claims p1's runs
    // (after p1's lease) while it cannot publish their deliveries.
    p1.signal_and_wait("-KILL", Duration::from_secs(5));
    bus.set(Mode::Cut);
    tokio::time::sleep(Duration::from_secs(3)).await;
    bus.set(Mode::Pass);
    let took = quiet(&cluster, Duration::from_secs(60)).await;
    let mut taken = 0;
    for run in &runs {
        let records = stored_records(&cluster, run).await;
        assert_whole(run, &records);
        assert_eq!(records.last().unwrap()["status"], "completed", "{run}");
        let delivered = records
            .iter()
            .filter(|r| r["type"] == "EventDelivered")
            .count();
        assert!(delivered >= 4, "{run}: every event delivered ({delivered})");
        taken += usize::from(taken_over(&records));
    }
    assert!(taken > 0, "p2 took p1's runs over");
    let report = report(&p2, &runs[0]).await;
    assert_eq!(report["status"], "completed");
    println!(
        "{taken} runs taken over through a cut bus link; all ended {took:?} after it came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_of_the_nats_server_stalls_no_run() {
    let mut nats = NatsServer::start().await;
    let cluster = Shared::on_bus(nats.url()).await;
    let p1 = cluster.start("p1", LEASE_MS).await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p1, &event_chain("Restart", 6, [200, 400])).await;
    let deciding = create_deciding(&p1).await;
    let mut runs = Vec::new();
    let mut parents = Vec::new();
    for seed in 0..40 {
        let server = if seed % 2 == 0 { &p1 } else { &p2 };
        runs.push(start_run(server, &workflow, seed).await);
    }
    // The deciding runs (~1.5 s each) start last, so that some are under way when the bus
    // goes down however long starting the chains took on a loaded machine.
    for seed in 0..10 {
        let server = if seed % 2 == 0 { &p1 } else { &p2 };
        parents.push(start_run(server, &deciding, seed).await);
    }
    runs.extend(parents.iter().cloned());
    let watchers = watch_all(&[&p2, &p1], &runs);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The bus goes down for a second, and comes back with its stream on disk.
    let stopped_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    nats.stop();
    until_not_ready(&p1, "bus").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.restart().await;
    let back = Instant::now();
    quiet(&cluster, Duration::from_secs(60)).await;
    let took = back.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "every run ended {took:?} after the bus came back"
    );
    for run in &runs {
        let records = stored_records(&cluster, run).await;
        assert_whole(run, &records);
        assert_eq!(records.last().unwrap()["status"], "completed", "{run}");
    }
    let caught = check_deciding(&cluster, &parents, stopped_at).await;
    assert!(
        caught > 0,
        "some deciding run was under way when the bus went down"
    );
    check_watchers(&cluster, &runs, watchers).await;
    for server in [&p1, &p2] {
        until_ready(server).await;
    }
    println!("every run ended {took:?} after nats-server came back; {caught} of the deciding runs were under way");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_is_never_accepted_and_then_lost() {
    let cluster = Shared::new().await;
    let database = Proxy::start(target_of(&cluster.database)).await;
    let p1 = cluster
        .start_via(
            "p1",
            LEASE_MS,
            &database.in_url(&cluster.database),
            &cluster.bus.0,
            &[],
        )
        .await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p1, &flaky_flow("Cancels", [2_000, 3_000])).await;
    let mut runs = Vec::new();
    for seed in 0..4 {
        runs.push(start_run(&p1, &workflow, seed).await);
    }
    // p1's link to PostgreSQL stalls: its lease runs out and p2 takes the runs.
    database.set(Mode::Stall);
    for run in &runs {
        eventually(
            "p2 taking the runs over",
            Duration::from_secs(20),
            Duration::from_millis(100),
            || async {
                let owner = report(&p2, run).await["owner"].clone();
                if owner == "p2" {
                    Ok(())
                } else {
                    Err(owner.to_string())
                }
            },
        )
        .await;
    }
    let mut accepted = Vec::new();
    // A cancel sent to p1, which cannot reach the store nor own the run: refused, not lost.
    let cancel = p1
        .http
        .post(p1.url(&format!("/api/runs/{}/cancel", runs[0])))
        .json(&json!({}))
        .timeout(Duration::from_secs(40))
        .send()
        .await
        .unwrap();
    match cancel.status().as_u16() {
        202 => accepted.push(runs[0].clone()),
        503 => {}
        other => panic!("a cancel through a cut-off process answered {other}"),
    }
    // Through p2, which owns it: accepted once durable.
    let cancel = p2
        .post_json(&format!("/api/runs/{}/cancel", runs[1]), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    accepted.push(runs[1].clone());
    // p1 back: a cancel sent to it reaches p2, the owner the store names.
    database.set(Mode::Pass);
    until_ready(&p1).await;
    let cancel = p1
        .post_json(&format!("/api/runs/{}/cancel", runs[2]), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202, "{}", cancel.text().await.unwrap());
    accepted.push(runs[2].clone());
    quiet(&cluster, Duration::from_secs(30)).await;
    for run in &runs {
        let records = stored_records(&cluster, run).await;
        assert_whole(run, &records);
        if accepted.contains(run) {
            assert!(
                records.iter().any(|r| r["type"] == "CancelRequested"),
                "{run}: an accepted cancel is in its history"
            );
            assert_eq!(records.last().unwrap()["status"], "cancelled", "{run}");
        }
    }
    // A cancel of a run that has ended: 409 from any process.
    let again = p1
        .post_json(&format!("/api/runs/{}/cancel", runs[1]), &json!({}))
        .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_run_whose_resume_fails_is_tried_again_until_it_resumes() {
    let cluster = Shared::new().await;
    let p1 = cluster.start("p1", LEASE_MS).await;
    let workflow = create_workflow(&p1, &flaky_flow("Resume", [1_500, 2_500])).await;
    let mut runs = Vec::new();
    for seed in 0..8 {
        runs.push(start_run(&p1, &workflow, seed).await);
    }
    // p2 connects as a role of its own, which (unlike the cluster's owner, a superuser) a
    // permission can be taken from.
    let mut db = cluster.connect().await;
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let role = format!("hf_{}", uuid::Uuid::new_v4().simple());
    for statement in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'resume'"),
        format!("GRANT USAGE, CREATE ON SCHEMA \"{schema}\" TO {role}"),
        format!("GRANT ALL ON ALL TABLES IN SCHEMA \"{schema}\" TO {role}"),
        format!("GRANT ALL ON ALL SEQUENCES IN SCHEMA \"{schema}\" TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut db)
            .await
            .unwrap();
    }
    let mut as_role = url::Url::parse(&cluster.database).unwrap();
    as_role.set_username(&role).unwrap();
    as_role.set_password(Some("resume")).unwrap();
    let p2 = cluster
        .start_via("p2", LEASE_MS, as_role.as_str(), &cluster.bus.0, &[])
        .await;
    // The runs' history cannot be read by p2 (a permission taken away), and p1 stops.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "REVOKE SELECT ON run_history FROM {role}"
    )))
    .execute(&mut db)
    .await
    .unwrap();
    signal(&p1, "-STOP");
    let metrics = p2.url("/metrics");
    // Each run is tried five times, then released for any process to claim, then claimed
    // again: never left owned and undriven.
    let tries = runs.len() as f64 * 5.0;
    eventually(
        "p2 failing to resume p1's runs, then releasing them",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let failed = metric(
                &metrics_at(&p2.http, &metrics).await,
                "hybridflow_resumes_failed_total",
            );
            if failed >= tries {
                Ok(())
            } else {
                Err(format!("{failed} failed"))
            }
        },
    )
    .await;
    assert_eq!(cluster.running().await.len(), runs.len(), "none ended");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "GRANT SELECT ON run_history TO {role}"
    )))
    .execute(&mut db)
    .await
    .unwrap();
    quiet(&cluster, Duration::from_secs(40)).await;
    for run in &runs {
        let records = stored_records(&cluster, run).await;
        assert_whole(run, &records);
        // (Released in between, it was nobody's when p2 claimed it again.)
        assert!(
            records
                .iter()
                .any(|r| r["type"] == "RunResumed" && r["by"]["process"] == "p2"),
            "{run} was resumed by p2"
        );
    }
    signal(&p1, "-KILL");
    drop(p2);
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut db)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_owner_of_a_deleted_run_is_fenced_and_ready_again() {
    let cluster = Shared::new().await;
    let database = Proxy::start(target_of(&cluster.database)).await;
    let p1 = cluster
        .start_via(
            "p1",
            LEASE_MS,
            &database.in_url(&cluster.database),
            &cluster.bus.0,
            &[],
        )
        .await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p1, &flaky_flow("Deleted", [1_000, 2_000])).await;
    let mut runs = Vec::new();
    for seed in 0..10 {
        runs.push(start_run(&p1, &workflow, seed).await);
    }
    database.set(Mode::Stall);
    eventually(
        "p2 owning p1's runs",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let mut db = cluster.connect().await;
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE owner = 'p1'")
                .fetch_one(&mut db)
                .await
                .unwrap();
            if left == 0 {
                Ok(())
            } else {
                Err(format!("{left} still p1's"))
            }
        },
    )
    .await;
    // The workflow is deleted through p2: its runs are cancelled, and go once ended.
    let deleted = p2
        .http
        .delete(p2.url(&format!("/api/workflows/{workflow}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    eventually(
        "the runs gone from the store",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let mut db = cluster.connect().await;
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
                .fetch_one(&mut db)
                .await
                .unwrap();
            if left == 0 {
                Ok(())
            } else {
                Err(format!("{left} left"))
            }
        },
    )
    .await;
    // p1 comes back to runs that no longer exist: fenced, and ready again at once.
    database.set(Mode::Pass);
    until_ready(&p1).await;
    let mut ready_probes = 0;
    for _ in 0..20 {
        ready_probes += usize::from(ready(&p1).await.0 == 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready_probes, 20, "ready on every probe once back");
    let text = metrics_at(&p1.http, &p1.url("/metrics")).await;
    assert!(metric(&text, "hybridflow_writes_fenced_total") >= 1.0);
    assert_eq!(metric(&text, "hybridflow_runs_in_progress"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_never_waits_on_a_stalled_bus() {
    let cluster = Shared::new().await;
    let bus = Proxy::start(target_of(&cluster.bus.0)).await;
    let p1 = cluster
        .start_via(
            "p1",
            LEASE_MS,
            &cluster.database,
            &bus.in_url(&cluster.bus.0),
            &[],
        )
        .await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p2, &flaky_flow("Stalled", [400, 800])).await;
    let run = start_run(&p2, &workflow, 1).await;
    // p1 keeps publishing its own runs' records into a bus link that takes nothing: more
    // than its NATS client buffers (2,048 messages), so anything else asked of that client
    // waits.
    let own = create_workflow(&p1, &flaky_flow("Own", [5, 10])).await;
    bus.set(Mode::Stall);
    futures::future::join_all((0..300).map(|seed| start_run(&p1, &own, seed))).await;
    // A new watcher through p1 of p2's run: the stored history at once, then the rest.
    let started = Instant::now();
    let url = p1.ws_url(&format!("/api/runs/{run}/events?after=0"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("stream");
    use futures::StreamExt;
    let first = tokio::time::timeout(Duration::from_secs(2), socket.next())
        .await
        .expect("the stored history within 2 s, bus or not");
    assert!(matches!(
        first,
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_)))
    ));
    let first_after = started.elapsed();
    let (rest, close) = watch_texts(p1.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    assert_eq!(close, Some(1000), "followed to the end on the store");
    assert_seen_is_stored(&run, &rest, &cluster.stored(&run).await);
    assert_eq!(rest.len(), cluster.stored(&run).await.len());
    bus.set(Mode::Pass);
    quiet(&cluster, Duration::from_secs(30)).await;
    println!(
        "the first record reached a watcher {first_after:?} after it connected, the bus stalled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_batches_are_fenced_cancels_stored_first_and_load_tests_one_at_a_time() {
    let cluster = Shared::new().await;
    let database = Proxy::start(target_of(&cluster.database)).await;
    let p1 = cluster
        .start_via(
            "p1",
            LEASE_MS,
            &database.in_url(&cluster.database),
            &cluster.bus.0,
            &[],
        )
        .await;
    let p2 = cluster.start("p2", LEASE_MS).await;
    let workflow = create_workflow(&p1, &long_flow()).await;
    let started = p1
        .post_json(
            "/api/lab/batches",
            &json!({"workflow_id": workflow, "runs": 5000, "seed": 3, "input": {}}),
        )
        .await;
    assert_eq!(started.status(), 202);
    let batch = started.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/lab/batches/{batch}");
    eventually(
        "progress stored by p1",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let b: Value = p2.get_json(&path).await;
            let done: u64 = b["progress"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["done"].as_u64().unwrap())
                .sum();
            if done > 0 {
                Ok(())
            } else {
                Err(b.to_string())
            }
        },
    )
    .await;
    // p1's database link stalls: p2 claims the batch and computes it; a cancel through p2
    // is stored first; p1 comes back and its saves are refused.
    database.set(Mode::Stall);
    eventually(
        "p2 computing the batch",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || async {
            let b: Value = p2.get_json(&path).await;
            if b["owner"] == "p2" && b["state"] == "running" {
                Ok(())
            } else {
                Err(b["owner"].to_string())
            }
        },
    )
    .await;
    let cancel = p2.post_json(&format!("{path}/cancel"), &json!({})).await;
    assert_eq!(cancel.status(), 202);
    database.set(Mode::Pass);
    for server in [&p2, &p1] {
        let b: Value = eventually(
            "the batch cancelled",
            Duration::from_secs(20),
            Duration::from_millis(200),
            || async {
                let b: Value = server.get_json(&path).await;
                if b["state"] == "cancelled" {
                    Ok(b)
                } else {
                    Err(b["state"].to_string())
                }
            },
        )
        .await;
        assert_eq!(b["owner"], "p2");
    }
    // p1 would have finished it by now; whatever it computed, the cancel stands.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let b: Value = p1.get_json(&path).await;
    assert_eq!(b["state"], "cancelled", "not undone by p1: {b}");

    // Two load tests asked of two processes at once: one runs, the other is refused.
    let ask = json!({"workflow_id": workflow, "rate": 5, "seconds": 3});
    let (one, two) = tokio::join!(
        p1.post_json("/api/lab/loads", &ask),
        p2.post_json("/api/lab/loads", &ask)
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [202, 503],
        "one load test at a time in the cluster"
    );
}
