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
//! PostgreSQL (a fresh schema) and a NATS server of the bench's own, each process reaching
//! both through a TCP proxy of its own; runs started on any live one, and every 5–15 s a
//! nemesis (`CHAOS_NEMESES`, a comma-separated list, all by default):
//!
//! - `kill`: a random process SIGKILLed, started again 0.05–4 s later;
//! - `stop`: one paused (SIGSTOP) past its 2 s lease, then continued;
//! - `reset`: one's database connections reset mid-whatever;
//! - `cut`: one's database link cut for 1–6 s (every connection reset, none taken);
//! - `stall`: one's bus link stalled for 1–5 s (nothing gets through);
//! - `nats`: the NATS server killed and started again a second later.
//!
//! A watcher follows one run in ten, on a random process. At the end, the same checks on
//! PostgreSQL, and every record a watcher got must be the stored one (else the history
//! forked). Goal (#25): 10 minutes, 0 lost, 0 forked, 0 stuck, 0 doubled.

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

/// One member of the chaos cluster: its address and id, its process while it runs, and
/// the proxies between it and the database and the bus.
struct Member {
    addr: SocketAddr,
    id: String,
    child: Option<std::process::Child>,
    /// When it starts again after a kill.
    back_at: Option<Instant>,
    /// Paused (SIGSTOP) until then.
    paused_until: Option<Instant>,
    database: support::proxy::Proxy,
    bus: support::proxy::Proxy,
}

impl Member {
    /// Whether it serves requests now.
    fn serving(&self) -> bool {
        self.child.is_some() && self.paused_until.is_none()
    }
}

/// The flags of a chaos cluster member: its database and bus through its proxies, a 2 s
/// lease, no retention, no cap on runs in flight.
async fn spawn_member(parts: &support::ClusterParts, member: &Member) -> std::process::Child {
    let database = member.database.in_url(&parts.database);
    let bus = member.bus.in_url(&parts.bus);
    let flags = [
        "--bus",
        bus.as_str(),
        "--bus-prefix",
        parts.prefix.as_str(),
        "--process-id",
        member.id.as_str(),
        "--log",
        "error",
        "--keep-runs",
        "0",
        "--max-runs",
        "100000",
        "--lease-ms",
        "2000",
    ];
    spawn_binary(member.addr, Path::new(&database), &flags).await
}

/// The nemeses `CHAOS_NEMESES` names (all by default).
fn nemeses() -> Vec<&'static str> {
    const ALL: [&str; 6] = ["kill", "stop", "reset", "cut", "stall", "nats"];
    match std::env::var("CHAOS_NEMESES") {
        Ok(list) => ALL
            .into_iter()
            .filter(|n| list.split(',').any(|l| l.trim() == *n))
            .collect(),
        Err(_) => ALL.to_vec(),
    }
}

/// Something a nemesis did that is undone later.
enum Undo {
    Continue(usize),
    Restore(usize),
    Nats,
}

impl Undo {
    /// Undoes it now: the process continued, its links restored, the NATS server started.
    async fn now(self, members: &mut [Member], nats: &mut support::nats_server::NatsServer) {
        match self {
            Undo::Continue(i) => {
                if let Some(child) = &members[i].child {
                    let _ = Command::new("kill")
                        .args(["-CONT", &child.id().to_string()])
                        .status();
                }
                members[i].paused_until = None;
            }
            Undo::Restore(i) => {
                members[i].database.set(support::proxy::Mode::Pass);
                members[i].bus.set(support::proxy::Mode::Pass);
            }
            Undo::Nats => nats.restart().await,
        }
    }
}

/// What a watcher got of one run: the run, and each record's seq and text.
type Watched = (String, Vec<(u64, String)>);

/// Follows `run` on the process at `addr` until it ends or the connection does.
async fn watch_run(addr: SocketAddr, run: String) -> Watched {
    use futures::StreamExt;
    let url = format!("ws://{addr}/api/runs/{run}/events?after=0");
    let mut seen = Vec::new();
    if let Ok(Ok((mut socket, _))) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    {
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_secs(60), socket.next()).await
        {
            match message {
                tokio_tungstenite::tungstenite::Message::Text(text) => {
                    let seq = serde_json::from_str::<Value>(&text).unwrap_or_default()["seq"]
                        .as_u64()
                        .unwrap_or(0);
                    seen.push((seq, text.to_string()));
                }
                tokio_tungstenite::tungstenite::Message::Close(_) => break,
                _ => {}
            }
        }
    }
    (run, seen)
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

/// The chaos run on a cluster of `size` processes sharing PostgreSQL and NATS, under the
/// nemeses.
async fn cluster(size: usize) {
    let (seconds, rate, seed) = knobs();
    let nemeses = nemeses();
    let mut dice = Dice(seed | 1);
    let mut nats = support::nats_server::NatsServer::start().await;
    let parts = support::ClusterParts::new("chaos").await.on_bus(nats.url());
    let mut members = Vec::new();
    for n in 1..=size {
        members.push(Member {
            addr: support::free_local_addr(),
            id: format!("p{n}"),
            child: None,
            back_at: None,
            paused_until: None,
            database: support::proxy::Proxy::start(proxy_target(&parts.database)).await,
            bus: support::proxy::Proxy::start(proxy_target(&parts.bus)).await,
        });
    }
    for member in &mut members {
        member.child = Some(spawn_member(&parts, member).await);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let workflows = create_flows(&http, &format!("http://{}", members[0].addr)).await;
    println!(
        "chaos on a cluster of {size} processes (PostgreSQL + NATS, each through proxies): {seconds} s, {rate} runs/s of {} flows, a nemesis every 5–15 s of {nemeses:?} (seed {seed:#x})",
        workflows.len()
    );
    let started = Instant::now();
    let mut acknowledged: HashSet<String> = HashSet::new();
    let (mut refused, mut next) = (0u64, 0usize);
    let mut done: HashMap<&'static str, u64> = HashMap::new();
    let mut undo: Vec<(Instant, Undo)> = Vec::new();
    let mut watchers = Vec::new();
    let mut next_nemesis = started + Duration::from_secs(dice.between(5, 15));
    let tick = Duration::from_millis(1000 / rate.max(1));
    while started.elapsed() < Duration::from_secs(seconds) {
        let now = Instant::now();
        for member in &mut members {
            if member.back_at.is_some_and(|at| now >= at) {
                member.child = Some(spawn_member(&parts, member).await);
                member.back_at = None;
            }
        }
        let due: Vec<Undo> = {
            let (due, later): (Vec<_>, Vec<_>) = undo.drain(..).partition(|(at, _)| now >= *at);
            undo = later;
            due.into_iter().map(|(_, u)| u).collect()
        };
        for u in due {
            u.now(&mut members, &mut nats).await;
        }
        if now >= next_nemesis && !nemeses.is_empty() {
            let nemesis = nemeses[dice.between(0, nemeses.len() as u64 - 1) as usize];
            let serving: Vec<usize> = (0..members.len())
                .filter(|i| members[*i].serving())
                .collect();
            // Never every process at once: one always serves.
            if serving.len() > 1 {
                let victim = serving[dice.between(0, serving.len() as u64 - 1) as usize];
                let member = &mut members[victim];
                match nemesis {
                    "kill" => {
                        if let Some(mut child) = member.child.take() {
                            let _ = child.kill();
                            let _ = child.wait();
                        }
                        member.back_at =
                            Some(Instant::now() + Duration::from_millis(dice.between(50, 4000)));
                    }
                    "stop" => {
                        if let Some(child) = &member.child {
                            let _ = Command::new("kill")
                                .args(["-STOP", &child.id().to_string()])
                                .status();
                        }
                        let until =
                            Instant::now() + Duration::from_millis(dice.between(2500, 4500));
                        member.paused_until = Some(until);
                        undo.push((until, Undo::Continue(victim)));
                    }
                    "reset" => member.database.reset(),
                    "cut" => {
                        member.database.set(support::proxy::Mode::Cut);
                        let until = Instant::now() + Duration::from_secs(dice.between(1, 6));
                        undo.push((until, Undo::Restore(victim)));
                    }
                    "stall" => {
                        member.bus.set(support::proxy::Mode::Stall);
                        let until = Instant::now() + Duration::from_secs(dice.between(1, 5));
                        undo.push((until, Undo::Restore(victim)));
                    }
                    _ => {
                        if !undo.iter().any(|(_, u)| matches!(u, Undo::Nats)) {
                            nats.stop();
                            undo.push((Instant::now() + Duration::from_secs(1), Undo::Nats));
                        }
                    }
                }
                *done.entry(nemesis).or_default() += 1;
            }
            next_nemesis = Instant::now() + Duration::from_secs(dice.between(5, 15));
        }
        let serving: Vec<usize> = (0..members.len())
            .filter(|i| members[*i].serving())
            .collect();
        if serving.is_empty() {
            tokio::time::sleep(tick).await;
            continue;
        }
        let member = &members[serving[next % serving.len()]];
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
                    if acknowledged.len().is_multiple_of(10) {
                        let at = members
                            [serving[dice.between(0, serving.len() as u64 - 1) as usize]]
                            .addr;
                        watchers.push(tokio::spawn(watch_run(at, id.to_string())));
                    }
                }
            }
            _ => refused += 1,
        }
        tokio::time::sleep(tick).await;
    }
    // Everything undone and everyone back, then let everything end.
    for (_, u) in undo.drain(..) {
        u.now(&mut members, &mut nats).await;
    }
    for member in &mut members {
        if member.child.is_none() {
            member.child = Some(spawn_member(&parts, member).await);
        }
    }
    let pool = sqlx::PgPool::connect(&parts.database).await.unwrap();
    let quiet_from = Instant::now();
    let deadline = quiet_from + Duration::from_secs(120);
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
    let quiet_after = quiet_from.elapsed();
    let taken_over: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM run_history WHERE body LIKE '%\"type\":\"RunResumed\"%' \
         AND body LIKE '%\"from\":\"%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // Every record a watcher got is the one stored at its seq.
    let (mut watched, mut seen_records, mut forked) = (0, 0, 0);
    for watcher in watchers {
        let Ok((run, seen)) = watcher.await else {
            continue;
        };
        watched += 1;
        let stored: Vec<(i64, String)> = sqlx::query_as(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run WHERE r.id = $1",
        )
        .bind(&run)
        .fetch_all(&pool)
        .await
        .unwrap();
        let stored: HashMap<u64, String> = stored
            .into_iter()
            .map(|(seq, body)| (seq as u64, body))
            .collect();
        for (seq, text) in seen {
            seen_records += 1;
            if stored.get(&seq) != Some(&text) {
                forked += 1;
            }
        }
    }
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
    let mut done: Vec<_> = done.into_iter().collect();
    done.sort();
    let summary = format!(
        "  {:.0} s, {} runs stored ({} acknowledged, {} refused), {{records}} records, nemeses {done:?}, {taken_over} runs taken over; quiet {:.1} s after the last nemesis\n  watchers: {watched} runs, {seen_records} records seen, {forked} not as stored (forked)",
        started.elapsed().as_secs_f64(),
        runs.len(),
        acknowledged.len(),
        refused,
        quiet_after.as_secs_f64()
    );
    let remove = parts.remove();
    // The checks exit on a failure: the schema goes first.
    remove.await;
    if forked > 0 {
        println!("{summary}");
        println!("  FAIL: {forked} records watchers got are not the stored ones");
        std::process::exit(1);
    }
    check(&acknowledged, &runs, rows, &summary);
}

/// The address a proxy to `url`'s server forwards to.
fn proxy_target(url: &str) -> SocketAddr {
    support::proxy::target_of(url)
}
