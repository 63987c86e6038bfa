//! Storage faults lose nothing and tell the truth; a SIGTERM loses nothing either. Both
//! against the real `hybridflow` binary in its own process, on a real SQLite file — and the
//! fault is SQLite itself refusing writes (a trigger that raises "database or disk is full"
//! on every insert, installed by another connection, as a full disk would refuse them).

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use common::{eventually, metric, metrics_at, node_taking, ServerProcess};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// a -command-> b -command-> c, each step `ms` long.
fn chain(ms: u64) -> Value {
    json!({
        "name": "Chain",
        "nodes": [node_taking("a", ms), node_taking("b", ms), node_taking("c", ms)],
        "edges": [
            {"from": "a", "to": "b", "kind": "command"},
            {"from": "b", "to": "c", "kind": "command"}
        ]
    })
}

async fn create(server: &ServerProcess, doc: &Value) -> String {
    let response = server.post_json("/api/workflows", doc).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

async fn start(server: &ServerProcess, workflow: &str) -> reqwest::Response {
    server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await
}

/// Every record and the close code a watcher gets, read in the background.
fn watch(url: String) -> tokio::task::JoinHandle<(Vec<Value>, Option<u16>)> {
    tokio::spawn(async move {
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("connect");
        let mut records = Vec::new();
        while let Some(Ok(message)) = socket.next().await {
            match message {
                Message::Text(text) => records.push(serde_json::from_str(&text).unwrap()),
                Message::Close(frame) => return (records, frame.map(|f| u16::from(f.code))),
                _ => {}
            }
        }
        (records, None)
    })
}

async fn sql(database: &std::path::Path, statements: &'static str) {
    let url = format!("sqlite://{}", database.display());
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("open the file");
    sqlx::raw_sql(statements)
        .execute(&pool)
        .await
        .expect("statements");
    pool.close().await;
}

const REFUSE_WRITES: &str = "
    CREATE TRIGGER disk_full_history BEFORE INSERT ON run_history
        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
    CREATE TRIGGER disk_full_runs BEFORE INSERT ON runs
        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";
const TAKE_WRITES: &str = "
    DROP TRIGGER disk_full_history;
    DROP TRIGGER disk_full_runs;";

async fn run_state(server: &ServerProcess, run: &str) -> Value {
    server.get_json(&format!("/api/runs/{run}")).await
}

async fn wait_status(server: &ServerProcess, run: &str, within: Duration) -> Value {
    eventually(
        &format!("the end of run {run}"),
        within,
        Duration::from_millis(25),
        || async {
            let state = run_state(server, run).await;
            if state["status"] != "running" {
                Ok(state)
            } else {
                Err(state.to_string())
            }
        },
    )
    .await
}

/// Checks a whole history: seqs 1..n, each step started exactly `once` times.
fn assert_whole(records: &[Value], steps: &[&str]) {
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap or double"
    );
    let mut started: HashMap<&str, usize> = HashMap::new();
    for r in records.iter().filter(|r| r["type"] == "StepStarted") {
        *started.entry(r["node"].as_str().unwrap()).or_default() += 1;
    }
    for step in steps {
        assert_eq!(started.get(step), Some(&1), "{step} attempted {started:?}");
    }
    assert_eq!(
        records
            .iter()
            .filter(|r| r["type"] == "RunCompleted")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_failing_store_halts_nothing_loses_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("faults.db");
    let server = ServerProcess::start(&database, &[]).await;
    let workflow = create(&server, &chain(300)).await;
    let response = start(&server, &workflow).await;
    assert_eq!(response.status(), 201);
    let run: Value = response.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    let watcher = watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")));
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The disk fills up while step a is at work.
    sql(&database, REFUSE_WRITES).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let ready = server
        .http
        .get(server.url("/api/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "ready while the store refuses writes");
    assert!(ready.headers().contains_key("retry-after"));
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("disk is full"),
        "{body}"
    );
    let refused = start(&server, &workflow).await;
    assert_eq!(refused.status(), 503, "a new run while the store fails");
    assert_eq!(run_state(&server, &run).await["status"], "running");
    assert!(!watcher.is_finished(), "the watcher was told the run ended");
    let health = server
        .http
        .get(server.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "liveness is not readiness");

    // Space again: the run goes on from where it was, and ends.
    sql(&database, TAKE_WRITES).await;
    let ended = wait_status(&server, &run, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let (records, close) = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("the watcher ends")
        .unwrap();
    assert_eq!(close, Some(1000));
    assert_whole(&records, &["a", "b", "c"]);
    let ready = server
        .http
        .get(server.url("/api/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(start(&server, &workflow).await.status(), 201);
}

#[tokio::test]
async fn a_run_killed_while_the_store_fails_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("killed.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let workflow = create(&server, &chain(200)).await;
    let run: Value = start(&server, &workflow).await.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sql(&database, REFUSE_WRITES).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    sql(&database, TAKE_WRITES).await;

    let server = ServerProcess::start(&database, &[]).await;
    let ended = wait_status(&server, &run, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let (records, close) = watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")))
        .await
        .unwrap();
    assert_eq!(close, Some(1000));
    assert_whole(&records, &["a", "b", "c"]);
}

#[tokio::test]
async fn sigterm_closes_streams_with_1001_exits_in_time_and_runs_resume() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("term.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let workflow = create(
        &server,
        &json!({
            "name": "Long",
            "nodes": [node_taking("a", 50), node_taking("b", 2_000), node_taking("c", 50)],
            "edges": [
                {"from": "a", "to": "b", "kind": "command"},
                {"from": "b", "to": "c", "kind": "event", "event": "BDone"}
            ]
        }),
    )
    .await;
    let run: Value = start(&server, &workflow).await.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    let watcher = watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")));
    let feed = watch(server.ws_url("/api/runs/feed"));
    // Both streams are open before the signal (a fixed pause was not enough under load).
    let metrics = server.url("/metrics");
    eventually(
        "two open WebSockets",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || async {
            let text = metrics_at(&server.http, &metrics).await;
            match metric(&text, "hybridflow_websockets_open") {
                open if open >= 2.0 => Ok(()),
                open => Err(format!("{open} open")),
            }
        },
    )
    .await;

    let (took, status) = server.signal_and_wait("-TERM", Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let (seen, close) = watcher.await.unwrap();
    assert_eq!(
        close,
        Some(1001),
        "the run stream is told the server goes away"
    );
    assert_eq!(feed.await.unwrap().1, Some(1001), "so is the runs feed");

    let server = ServerProcess::start(&database, &[]).await;
    let ended = wait_status(&server, &run, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let after = seen.last().map_or(0, |r| r["seq"].as_u64().unwrap());
    let (rest, close) = watch(server.ws_url(&format!("/api/runs/{run}/events?after={after}")))
        .await
        .unwrap();
    assert_eq!(close, Some(1000));
    let mut records = seen;
    records.extend(rest);
    assert_whole(&records, &["a", "b", "c"]);
}

/// Until `step` of `run` waits.
async fn waiting_for(server: &ServerProcess, run: &str, step: &str) {
    eventually(
        &format!("{step} waiting"),
        Duration::from_secs(10),
        Duration::from_millis(25),
        || async {
            let state = run_state(server, run).await;
            if state["waiting"][step].is_object() {
                Ok(())
            } else {
                Err(state.to_string())
            }
        },
    )
    .await
}

/// SIGKILL while a step waits for a message, and while a timer runs: the restarted process
/// arms the wait again, the message sent after the restart ends it, the timer ends when it
/// was due — a durable deadline, not started over by the restart — and each history is
/// whole: every step started once, no gap, one end.
#[tokio::test]
async fn a_run_killed_while_it_waits_resumes_its_wait_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("waits.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let waits = create(
        &server,
        &json!({"name": "waits",
            "nodes": [node_taking("order", 10),
                      {"id": "confirm", "label": "Await confirmation", "service": "PaymentService", "action": "await",
                       "wait": {"message": "PaymentConfirmed", "timeout_ms": 120000}},
                      {"id": "pause", "label": "Cooling-off", "service": "OrderService", "action": "pause",
                       "wait": {"for_ms": PAUSE_MS}},
                      node_taking("ship", 10)],
            "edges": [{"from": "order", "to": "confirm", "kind": "command"},
                      {"from": "confirm", "to": "pause", "kind": "command"},
                      {"from": "pause", "to": "ship", "kind": "command"}]}),
    )
    .await;
    let run: Value = start(&server, &waits).await.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    waiting_for(&server, &run, "confirm").await;
    // Killed mid-wait: nothing but the history survives.
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    waiting_for(&server, &run, "confirm").await;
    let sent = server
        .post_json(
            &format!("/api/runs/{run}/messages"),
            &json!({"name": "PaymentConfirmed"}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    // Now the timer runs: kill it again in the middle of it.
    waiting_for(&server, &run, "pause").await;
    tokio::time::sleep(Duration::from_millis(PAUSE_MS / 2)).await;
    let mut server = server;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    let ended = wait_status(&server, &run, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let (records, _) = watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")))
        .await
        .unwrap();
    assert_whole(&records, &["order", "confirm", "pause", "ship"]);
    let kinds = |kind: &str| records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!(kinds("MessageReceived"), 1);
    assert_eq!(kinds("RunResumed"), 2);
    // The wait for the message was armed again, not started again: one WaitStarted each.
    assert_eq!(kinds("WaitStarted"), 2);
    // The timer kept its deadline: it ended PAUSE_MS after it started (give or take the
    // scheduling), not PAUSE_MS after the restart, which came half-way through it.
    let at = |kind: &str, node: &str| {
        records
            .iter()
            .rev()
            .find(|r| r["type"] == kind && r["node"] == node)
            .and_then(|r| r["at_ms"].as_i64())
            .unwrap_or_else(|| panic!("{kind} {node}"))
    };
    let resumed = records
        .iter()
        .rev()
        .find(|r| r["type"] == "RunResumed")
        .and_then(|r| r["at_ms"].as_i64())
        .unwrap();
    let (started, ended) = (at("WaitStarted", "pause"), at("StepSucceeded", "pause"));
    let due = started + PAUSE_MS as i64;
    assert!(
        resumed - started >= PAUSE_MS as i64 / 2,
        "killed half-way through the timer"
    );
    // Due at `due`, or at once if the restart came later; started over, it would end a
    // whole PAUSE_MS after the restart.
    assert!(
        ended >= due && ended < due.max(resumed) + 1_000,
        "the timer ended {} ms after it started, {} ms after the restart {} ms after it started",
        ended - started,
        ended - resumed,
        resumed - started
    );
}

/// The timer of the waits test: long enough to kill the process half-way through it.
const PAUSE_MS: u64 = 3_000;

/// SIGKILL in the middle of a loop: the restarted process goes on round it from where the
/// history says it was — the bound counts the turns made before the kill — and the history
/// is whole: each turn's charge is a new execution, no attempt is made twice, the default
/// edge follows once the bound is spent.
#[tokio::test]
async fn a_run_killed_in_the_middle_of_a_loop_goes_on_round_it_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("loops.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let mut charge = node_taking("charge", 250);
    charge["failure_rate"] = json!(1.0);
    let looping = create(
        &server,
        &json!({"name": "loop",
            "nodes": [node_taking("order", 10), charge, node_taking("ask", 250), node_taking("cancel", 10)],
            "edges": [{"from": "order", "to": "charge", "kind": "command"},
                      {"from": "charge", "to": "ask", "kind": "command", "on": "failure", "max_iterations": 3},
                      {"from": "ask", "to": "charge", "kind": "command"},
                      {"from": "charge", "to": "cancel", "kind": "command", "on": "failure"}]}),
    )
    .await;
    let run: Value = start(&server, &looping).await.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    // Round the loop once: order → charge, charge → ask, ask → charge.
    eventually(
        "the second charge",
        Duration::from_secs(10),
        Duration::from_millis(10),
        || async {
            let state = run_state(&server, &run).await;
            if state["messages"]["commands"].as_u64() >= Some(3) {
                Ok(())
            } else {
                Err(state.to_string())
            }
        },
    )
    .await;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    let ended = wait_status(&server, &run, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let (records, _) = watch(server.ws_url(&format!("/api/runs/{run}/events?after=0")))
        .await
        .unwrap();
    assert_whole(&records, &["order", "cancel"]);
    let executions = |step: &str| -> Vec<u64> {
        records
            .iter()
            .filter(|r| r["type"] == "StepStarted" && r["node"] == step)
            .map(|r| r["execution"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(executions("charge"), [1, 2, 3, 4]);
    assert_eq!(executions("ask"), [1, 2, 3]);
    let turns: Vec<u64> = records
        .iter()
        .filter(|r| r["type"] == "Decided")
        .map(|r| r["loops"][0]["done"].as_u64().unwrap())
        .collect();
    assert_eq!(turns, [0, 1, 2, 3]);
    let resumed = records
        .iter()
        .position(|r| r["type"] == "RunResumed")
        .expect("resumed");
    let decided_before = records[..resumed]
        .iter()
        .filter(|r| r["type"] == "Decided")
        .count();
    assert!(decided_before >= 1, "killed mid-loop, after a turn");
}

/// SIGKILL while a sub-flow's child run waits: after the restart both resume — the child's
/// wait is armed again, the parent waits for the same child (not a second one) — the
/// message sent to the child ends it, the parent hears its end and goes on; each history
/// is whole, and the child's input is the parent's run data as it was when it started.
#[tokio::test]
async fn a_run_killed_while_its_child_runs_resumes_with_the_same_child() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("children.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let mut charge = node_taking("charge", 20);
    charge["writes"] = json!({"paid": true});
    let payment = create(
        &server,
        &json!({"name": "payment",
            "nodes": [charge,
                      {"id": "confirm", "label": "Await confirmation", "service": "PaymentService", "action": "await",
                       "wait": {"message": "PaymentConfirmed", "timeout_ms": 120000}}],
            "edges": [{"from": "charge", "to": "confirm", "kind": "command"}]}),
    )
    .await;
    let mut order = node_taking("order", 10);
    order["writes"] = json!({"order": 7});
    let mut pay = node_taking("pay", 0);
    pay["sub_flow"] = json!(payment);
    let parent_flow = create(
        &server,
        &json!({"name": "order",
            "nodes": [order, pay, node_taking("ship", 10)],
            "edges": [{"from": "order", "to": "pay", "kind": "command"},
                      {"from": "pay", "to": "ship", "kind": "command"}]}),
    )
    .await;
    let run: Value = start(&server, &parent_flow).await.json().await.unwrap();
    let parent = run["id"].as_str().unwrap().to_string();
    let child = format!("{parent}.pay.1.1");
    waiting_for(&server, &child, "confirm").await;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    waiting_for(&server, &child, "confirm").await;
    assert_eq!(run_state(&server, &parent).await["status"], "running");
    let sent = server
        .post_json(
            &format!("/api/runs/{child}/messages"),
            &json!({"name": "PaymentConfirmed", "data": {"confirmed_by": "bank"}}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let ended = wait_status(&server, &parent, Duration::from_secs(20)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    assert_eq!(ended["children"]["pay"]["status"], "completed");
    let (parent_records, _) = watch(server.ws_url(&format!("/api/runs/{parent}/events?after=0")))
        .await
        .unwrap();
    assert_whole(&parent_records, &["order", "pay", "ship"]);
    let of = |records: &[Value], kind: &str| -> Vec<Value> {
        records
            .iter()
            .filter(|r| r["type"] == kind)
            .cloned()
            .collect()
    };
    assert_eq!(of(&parent_records, "ChildStarted").len(), 1);
    assert_eq!(of(&parent_records, "ChildEnded").len(), 1);
    assert_eq!(of(&parent_records, "RunResumed").len(), 1);
    // What the child wrote, and the message's data, joined the parent's run data.
    let pay_done = of(&parent_records, "StepSucceeded")
        .into_iter()
        .find(|r| r["node"] == "pay")
        .unwrap();
    assert_eq!(pay_done["wrote"]["paid"], true);
    assert_eq!(pay_done["wrote"]["confirmed_by"], "bank");
    let (child_records, _) = watch(server.ws_url(&format!("/api/runs/{child}/events?after=0")))
        .await
        .unwrap();
    assert_whole(&child_records, &["charge", "confirm"]);
    assert_eq!(of(&child_records, "RunStarted").len(), 1);
    assert_eq!(
        of(&child_records, "RunStarted")[0]["input"],
        json!({"order": 7})
    );
}

/// The store refuses every write while a sub-flow's child runs (its timer ends during the
/// outage, so its end cannot be recorded, nor told to its parent): nothing is lost — once
/// writes are taken again the child records its end, the parent hears it once and goes on,
/// and both histories are whole.
#[tokio::test]
async fn a_store_refusing_writes_while_a_child_runs_loses_neither_run() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("child-store.db");
    let server = ServerProcess::start(&database, &[]).await;
    let mut charge = node_taking("charge", 20);
    charge["writes"] = json!({"paid": true});
    let payment = create(
        &server,
        &json!({"name": "payment",
            "nodes": [charge,
                      {"id": "settle", "label": "Settlement", "service": "PaymentService", "action": "settle",
                       "wait": {"for_ms": 600}}],
            "edges": [{"from": "charge", "to": "settle", "kind": "command"}]}),
    )
    .await;
    let mut pay = node_taking("pay", 0);
    pay["sub_flow"] = json!(payment);
    let parent_flow = create(
        &server,
        &json!({"name": "order",
            "nodes": [node_taking("order", 10), pay, node_taking("ship", 10)],
            "edges": [{"from": "order", "to": "pay", "kind": "command"},
                      {"from": "pay", "to": "ship", "kind": "command"}]}),
    )
    .await;
    let run: Value = start(&server, &parent_flow).await.json().await.unwrap();
    let parent = run["id"].as_str().unwrap().to_string();
    let child = format!("{parent}.pay.1.1");
    waiting_for(&server, &child, "settle").await;
    sql(&database, REFUSE_WRITES).await;
    // The timer ends meanwhile; neither run can record anything.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(run_state(&server, &child).await["status"], "running");
    assert_eq!(run_state(&server, &parent).await["status"], "running");
    sql(&database, TAKE_WRITES).await;
    let ended = wait_status(&server, &parent, Duration::from_secs(30)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    assert_eq!(ended["children"]["pay"]["status"], "completed");
    let records = |run: String| {
        let url = server.ws_url(&format!("/api/runs/{run}/events?after=0"));
        async move { watch(url).await.unwrap().0 }
    };
    let parent_records = records(parent.clone()).await;
    assert_whole(&parent_records, &["order", "pay", "ship"]);
    let count =
        |records: &[Value], kind: &str| records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!(count(&parent_records, "ChildStarted"), 1);
    assert_eq!(count(&parent_records, "ChildEnded"), 1, "heard once");
    let child_records = records(child).await;
    assert_whole(&child_records, &["charge", "settle"]);
    let pay_done = parent_records
        .iter()
        .find(|r| r["type"] == "StepSucceeded" && r["node"] == "pay")
        .unwrap();
    assert_eq!(
        pay_done["wrote"]["paid"], true,
        "what the child wrote reached its parent"
    );
}
