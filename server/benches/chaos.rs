//! Chaos: for a given time, keep starting runs of a mix of flows (command chains, event
//! chains, sagas, fork/joins, steps with `idempotent: false`) on the real `hybridflow`
//! binary, SIGKILL it at random moments and start it again on the same SQLite file. At the
//! end, wait for every run to end and check through the API and the database: every run
//! ended, every history gap-free with one start and one end, no attempt executed twice,
//! no run the server acknowledged missing.
//!
//! `cargo bench -p server --bench chaos` (5 minutes); `CHAOS_SECONDS=60` for a shorter one.
//! Goal (#11): 5 minutes, ≥ 1,000 runs, ≥ 20 kills, 0 lost, 0 doubled.
//!
//! `CHAOS_CLUSTER=3`: the distributed mode instead — three processes on the project's
//! PostgreSQL and NATS (started by `server/services/*.sh` if needed; a fresh schema), runs
//! started on any live one, a random process SIGKILLed every 5–15 s and started again
//! 0.05–4 s later (its lease is 2 s: some of its runs are taken over by the others, the rest
//! it takes back), the same checks at the end on PostgreSQL. Goal (#15): 5 minutes, 0 lost,
//! 0 doubled.

mod support;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{free_local_addr, spawn_binary};

/// A tiny deterministic generator (xorshift), so a chaos run can be repeated by its seed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

fn step(id: &str, ms: u64) -> Value {
    json!({"id": id, "label": id, "service": format!("{id}Service"), "action": "act",
           "latency_ms": [ms / 2, ms]})
}

/// The mix of flows every run is drawn from.
fn flows() -> Vec<Value> {
    vec![
        json!({"name": "command chain", "nodes": [step("a", 40), step("b", 40), step("c", 40)],
               "edges": [{"from": "a", "to": "b", "kind": "command"},
                         {"from": "b", "to": "c", "kind": "command"}]}),
        json!({"name": "event chain", "nodes": [step("a", 40), step("b", 40), step("c", 40)],
               "edges": [{"from": "a", "to": "b", "kind": "event"},
                         {"from": "b", "to": "c", "kind": "event"}]}),
        json!({"name": "saga",
               "nodes": [
                   {"id": "order", "label": "Order", "service": "Orders", "action": "place",
                    "latency_ms": 30, "compensation": "cancel"},
                   {"id": "pay", "label": "Pay", "service": "Payments", "action": "charge",
                    "latency_ms": 30, "compensation": "refund",
                    "retry": {"max_attempts": 3, "backoff_ms": 20}},
                   {"id": "ship", "label": "Ship", "service": "Shipping", "action": "ship",
                    "latency_ms": 30, "failure_rate": 0.5}],
               "edges": [{"from": "order", "to": "pay", "kind": "command"},
                         {"from": "pay", "to": "ship", "kind": "command"}]}),
        json!({"name": "fork join",
               "nodes": [step("start", 20), step("left", 60), step("right", 90),
                         {"id": "join", "label": "Join", "service": "Orchestrator",
                          "action": "join", "latency_ms": 0, "join": "all"}],
               "edges": [{"from": "start", "to": "left", "kind": "command"},
                         {"from": "start", "to": "right", "kind": "event", "event": "Go"},
                         {"from": "left", "to": "join", "kind": "command"},
                         {"from": "right", "to": "join", "kind": "command"}]}),
        json!({"name": "not idempotent",
               "nodes": [step("a", 30),
                         {"id": "b", "label": "B", "service": "Ledger", "action": "post",
                          "latency_ms": 30, "idempotent": false,
                          "retry": {"max_attempts": 2, "backoff_ms": 10}, "failure_rate": 0.3}],
               "edges": [{"from": "a", "to": "b", "kind": "event", "event": "Posted"}]}),
    ]
}

/// The server with the chaos run's flags: no retention (every run is checked at the end),
/// no cap on runs in flight.
async fn spawn(addr: SocketAddr, database: &Path) -> std::process::Child {
    spawn_binary(
        addr,
        database,
        &["--log", "error", "--keep-runs", "0", "--max-runs", "100000"],
    )
    .await
}

fn database_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `CHAOS_SECONDS` (300), `CHAOS_RATE` (8 runs/s) and `CHAOS_SEED`.
fn knobs() -> (u64, u64, u64) {
    let knob = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    (
        knob("CHAOS_SECONDS", 300),
        knob("CHAOS_RATE", 8),
        knob("CHAOS_SEED", 0x5eed_cafe),
    )
}

/// Stores every flow of the mix on the server at `base`; returns their ids.
async fn create_flows(http: &reqwest::Client, base: &str) -> Vec<String> {
    let mut workflows = Vec::new();
    for flow in flows() {
        let created: Value = http
            .post(format!("{base}/api/workflows"))
            .json(&flow)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        workflows.push(created["id"].as_str().unwrap().to_string());
    }
    workflows
}

/// One member of the chaos cluster: its address and id, and its process while it runs.
struct Member {
    addr: SocketAddr,
    id: String,
    child: Option<std::process::Child>,
    /// When it starts again after a kill.
    back_at: Option<Instant>,
}

/// The flags of the chaos run's cluster members: as [`spawn`]'s, with a 2 s lease.
async fn spawn_member(parts: &support::ClusterParts, member: &Member) -> std::process::Child {
    let flags = parts.flags(
        &member.id,
        &[
            "--log",
            "error",
            "--keep-runs",
            "0",
            "--max-runs",
            "100000",
            "--lease-ms",
            "2000",
        ],
    );
    spawn_binary(member.addr, Path::new(&parts.database), &flags).await
}

#[tokio::main]
async fn main() {
    let members: usize = std::env::var("CHAOS_CLUSTER")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if members > 0 {
        return cluster(members).await;
    }
    let (seconds, rate, seed) = knobs();
    let mut dice = Dice(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let database: PathBuf = dir.path().join("chaos.db");
    let addr = free_local_addr();
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut server = spawn(addr, &database).await;
    let workflows = create_flows(&http, &base).await;
    println!(
        "chaos: {seconds} s, {rate} runs/s of {} flows, SIGKILL every 5–15 s (seed {seed:#x})",
        workflows.len()
    );

    let started = Instant::now();
    let mut acknowledged: HashSet<String> = HashSet::new();
    let mut refused = 0u64;
    let mut kills = 0u64;
    let mut next_kill = started + Duration::from_secs(dice.between(5, 15));
    let tick = Duration::from_millis(1000 / rate.max(1));
    while started.elapsed() < Duration::from_secs(seconds) {
        if Instant::now() >= next_kill {
            let _ = server.kill();
            let _ = server.wait();
            kills += 1;
            tokio::time::sleep(Duration::from_millis(dice.between(50, 500))).await;
            server = spawn(addr, &database).await;
            next_kill = Instant::now() + Duration::from_secs(dice.between(5, 15));
        }
        let workflow = &workflows[dice.between(0, workflows.len() as u64 - 1) as usize];
        let body = json!({"seed": dice.next() >> 12, "speed": 1.0});
        match http
            .post(format!("{base}/api/workflows/{workflow}/runs"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 201 => {
                let run: Value = r.json().await.unwrap_or_default();
                if let Some(id) = run["id"].as_str() {
                    acknowledged.insert(id.to_string());
                }
            }
            _ => refused += 1,
        }
        tokio::time::sleep(tick).await;
    }
    // A last restart mid-flight, then let everything end.
    let _ = server.kill();
    let _ = server.wait();
    kills += 1;
    let mut server = spawn(addr, &database).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let pool = sqlx::SqlitePool::connect(&database_url(&database))
        .await
        .unwrap();
    loop {
        let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE status = 'running'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if running == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    // Every run in the database, and every run the server acknowledged.
    let runs: Vec<(i64, String, String)> = sqlx::query_as("SELECT no, id, status FROM runs")
        .fetch_all(&pool)
        .await
        .unwrap();
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT run, seq, body FROM run_history ORDER BY run, seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    let summary = format!(
        "  {:.0} s, {} runs stored ({} acknowledged, {} refused while down), {{records}} records, {kills} kills",
        started.elapsed().as_secs_f64(),
        runs.len(),
        acknowledged.len(),
        refused
    );
    check(&acknowledged, &runs, rows, &summary);
}

/// The checks at the end: every acknowledged run stored and ended once, every history
/// gap-free, no attempt started twice. Exits 1 on a failure.
fn check(
    acknowledged: &HashSet<String>,
    runs: &[(i64, String, String)],
    rows: Vec<(i64, i64, String)>,
    summary: &str,
) {
    let stored: HashSet<&str> = runs.iter().map(|(_, id, _)| id.as_str()).collect();
    let missing = acknowledged
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .count();
    let unfinished = runs.iter().filter(|(_, _, s)| s == "running").count();
    let mut histories: HashMap<i64, Vec<(i64, Value)>> = HashMap::new();
    for (run, seq, body) in rows {
        histories
            .entry(run)
            .or_default()
            .push((seq, serde_json::from_str(&body).unwrap()));
    }
    let (mut gaps, mut doubled, mut bad_ends, mut records) = (0, 0, 0, 0);
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for (no, _, status) in runs {
        *by_status.entry(status.clone()).or_default() += 1;
        let history = histories.get(no).map(Vec::as_slice).unwrap_or(&[]);
        records += history.len();
        if !history
            .iter()
            .enumerate()
            .all(|(i, (seq, _))| *seq == i as i64 + 1)
        {
            gaps += 1;
        }
        let ends = history
            .iter()
            .filter(|(_, r)| r["type"] == "RunCompleted")
            .count();
        let starts = history
            .iter()
            .filter(|(_, r)| r["type"] == "RunStarted")
            .count();
        if ends != 1 || starts != 1 {
            bad_ends += 1;
        }
        let mut attempts = HashSet::new();
        for (_, r) in history.iter().filter(|(_, r)| r["type"] == "StepStarted") {
            let key = (
                r["node"].to_string(),
                r["execution"].to_string(),
                r["attempt"].to_string(),
            );
            if !attempts.insert(key) {
                doubled += 1;
            }
        }
    }
    let lost = missing + unfinished + bad_ends;
    println!("{}", summary.replace("{records}", &records.to_string()));
    let mut statuses: Vec<_> = by_status.into_iter().collect();
    statuses.sort();
    println!("  outcomes: {statuses:?}");
    println!(
        "  lost: {lost} (acknowledged but missing {missing}, not ended {unfinished}, without one start and one end {bad_ends}); gaps: {gaps}; attempts executed twice: {doubled}"
    );
    let pass = lost == 0 && gaps == 0 && doubled == 0;
    println!("  {}", if pass { "PASS" } else { "FAIL" });
    if !pass {
        std::process::exit(1);
    }
}

/// The chaos run on a cluster of `size` processes sharing PostgreSQL and NATS.
async fn cluster(size: usize) {
    let (seconds, rate, seed) = knobs();
    let mut dice = Dice(seed | 1);
    let parts = support::ClusterParts::new("chaos").await;
    let mut members: Vec<Member> = (1..=size)
        .map(|n| Member {
            addr: support::free_local_addr(),
            id: format!("p{n}"),
            child: None,
            back_at: None,
        })
        .collect();
    for member in &mut members {
        member.child = Some(spawn_member(&parts, member).await);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let workflows = create_flows(&http, &format!("http://{}", members[0].addr)).await;
    println!(
        "chaos on a cluster of {size} processes (PostgreSQL + NATS): {seconds} s, {rate} runs/s of {} flows, a random process SIGKILLed every 5–15 s (seed {seed:#x})",
        workflows.len()
    );
    let started = Instant::now();
    let mut acknowledged: HashSet<String> = HashSet::new();
    let (mut refused, mut kills, mut next) = (0u64, 0u64, 0usize);
    let mut next_kill = started + Duration::from_secs(dice.between(5, 15));
    let tick = Duration::from_millis(1000 / rate.max(1));
    while started.elapsed() < Duration::from_secs(seconds) {
        let now = Instant::now();
        for member in &mut members {
            if member.back_at.is_some_and(|at| now >= at) {
                member.child = Some(spawn_member(&parts, member).await);
                member.back_at = None;
            }
        }
        if now >= next_kill {
            let alive: Vec<usize> = (0..members.len())
                .filter(|i| members[*i].child.is_some())
                .collect();
            // Never all at once: one process always serves.
            if alive.len() > 1 {
                let victim = alive[dice.between(0, alive.len() as u64 - 1) as usize];
                if let Some(mut child) = members[victim].child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                members[victim].back_at =
                    Some(Instant::now() + Duration::from_millis(dice.between(50, 4000)));
                kills += 1;
            }
            next_kill = Instant::now() + Duration::from_secs(dice.between(5, 15));
        }
        let alive: Vec<usize> = (0..members.len())
            .filter(|i| members[*i].child.is_some())
            .collect();
        let member = &members[alive[next % alive.len()]];
        next += 1;
        let workflow = &workflows[dice.between(0, workflows.len() as u64 - 1) as usize];
        let body = json!({"seed": dice.next() >> 12, "speed": 1.0});
        match http
            .post(format!(
                "http://{}/api/workflows/{workflow}/runs",
                member.addr
            ))
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 201 => {
                let run: Value = r.json().await.unwrap_or_default();
                if let Some(id) = run["id"].as_str() {
                    acknowledged.insert(id.to_string());
                }
            }
            _ => refused += 1,
        }
        tokio::time::sleep(tick).await;
    }
    // Everyone back, then let everything end.
    for member in &mut members {
        if member.child.is_none() {
            member.child = Some(spawn_member(&parts, member).await);
        }
    }
    let pool = sqlx::PgPool::connect(&parts.database).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE status = 'running'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if running == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let taken_over: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM run_history WHERE body LIKE '%\"type\":\"RunResumed\"%' \
         AND body LIKE '%\"from\"%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    for member in &mut members {
        if let Some(mut child) = member.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
    let runs: Vec<(i64, String, String)> = sqlx::query_as("SELECT no, id, status FROM runs")
        .fetch_all(&pool)
        .await
        .unwrap();
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT run, seq, body FROM run_history ORDER BY run, seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let summary = format!(
        "  {:.0} s, {} runs stored ({} acknowledged, {} refused), {{records}} records, {kills} kills, {taken_over} resumptions after a kill",
        started.elapsed().as_secs_f64(),
        runs.len(),
        acknowledged.len(),
        refused
    );
    let remove = parts.remove();
    // The checks exit on a failure: the schema goes first.
    remove.await;
    check(&acknowledged, &runs, rows, &summary);
}
