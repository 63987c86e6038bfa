//! The `hybridflow` command line as a user's script runs it: the real binary as a child
//! process, its exit codes, its JSON output parsed, and its `--server` variants against a
//! real server.

use crate::common;

use std::process::{Command, Output};

use common::TestServer;
use serde_json::{json, Value};

fn hybridflow(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hybridflow"));
    command.args(args).env_remove("HYBRIDFLOW_SERVER");
    if stdin.is_none() {
        return command.output().expect("run hybridflow");
    }
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hybridflow");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn file(dir: &tempfile::TempDir, name: &str, content: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

const SAGA: &str = "name: Saga\norder -> pay\npay ~> ship : Paid\npay -!> refund\n";
const CAMUNDA: &str = include_str!("../../../app/tests/fixtures/order-fulfilment.bpmn");

#[test]
fn validate_exits_1_on_problems_and_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = file(&dir, "good.txt", SAGA);
    let bad = file(&dir, "bad.mmd", "flowchart LR\n  a --> b\n  b ==> c\n");
    let ok = hybridflow(&["validate", &good], None);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("good.txt: valid"));
    let out = hybridflow(&["validate", &good, &bad], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("bad.mmd: line 3: error:"), "{stdout}");
    let json = hybridflow(&["validate", "--json", &good, &bad], None);
    let lines: Vec<Value> = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[1]["problems"][0]["at"], "line 3");
    // A design warning (an event cycle) fails only --strict.
    let cycle = file(&dir, "cycle.txt", "a ~> b : X\nb ~> a : Y\n");
    let lenient = hybridflow(&["validate", &cycle], None);
    assert_eq!(lenient.status.code(), Some(0));
    assert!(text(&lenient.stdout).contains("e1: warning: edge e1 is part of an event cycle"));
    let strict = hybridflow(&["validate", "--strict", &cycle], None);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn convert_takes_any_format_in_and_gives_any_out() {
    let dir = tempfile::tempdir().unwrap();
    let bpmn = file(&dir, "order.bpmn", CAMUNDA);
    let mermaid = hybridflow(&["convert", &bpmn, "--to", "mermaid"], None);
    assert_eq!(mermaid.status.code(), Some(0), "{}", text(&mermaid.stderr));
    let mermaid = text(&mermaid.stdout);
    assert!(mermaid.contains("flowchart LR"));
    // Mermaid back in from standard input, out as the native JSON.
    let json = hybridflow(&["convert", "-", "--to", "json"], Some(&mermaid));
    let w: app::model::Workflow = serde_json::from_slice(&json.stdout).unwrap();
    let direct = app::model::formats::import(CAMUNDA, None).unwrap();
    assert_eq!(w.nodes, direct.nodes);
    assert_eq!(w.edges.len(), direct.edges.len());
    let asyncapi = hybridflow(&["convert", &bpmn, "--to", "asyncapi"], None);
    let doc: Value = serde_json::from_slice(&asyncapi.stdout).unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert!(doc["channels"]["ShipmentRequested"].is_object());
    let refused = hybridflow(
        &["convert", &bpmn, "--to", "bpmn", "--from", "conductor"],
        None,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("order.bpmn"));
    let usage = hybridflow(&["convert", &bpmn, "--to", "yaml"], None);
    assert_eq!(usage.status.code(), Some(2), "a usage error is clap's 2");
    // A Step Functions state machine in and out; a choreographed flow has none (its event
    // edge is named), exit code 1.
    let machine = file(
        &dir,
        "order.asl.json",
        include_str!("../../../app/tests/fixtures/order-state-machine.asl.json"),
    );
    let written = hybridflow(&["convert", &machine, "--to", "asl"], None);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    let doc: Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(doc["States"]["Amount?"]["Type"], "Choice");
    let events = file(&dir, "events.txt", "a ~> b : Done\n");
    let refused = hybridflow(&["convert", &events, "--to", "asl"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("cannot write it as asl: edges[0]: edge e1 is an event: a state machine commands every step"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn run_in_virtual_time_says_how_it_ended_by_exit_code_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let saga = file(&dir, "saga.txt", SAGA);
    let out = hybridflow(&["run", &saga, "--seed", "7", "--json", "--history"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcome = &lines.last().unwrap()["outcome"];
    assert_eq!(outcome["status"], "completed");
    assert_eq!(outcome["seed"], 7);
    assert!(outcome["virtual_ms"].as_u64().unwrap() > 0);
    assert!(lines.len() > 5, "the history comes first");
    assert!(lines[0]["at_ms"].is_u64());
    // The same seed gives the same run.
    let again = hybridflow(&["run", &saga, "--seed", "7", "--json", "--history"], None);
    assert_eq!(again.stdout, out.stdout);
    // A failure nobody handles: exit 3, and the story says why (in Korean when asked).
    let unhandled = file(&dir, "unhandled.txt", "a -> b\n");
    let failed = hybridflow(
        &[
            "run",
            &unhandled,
            "--faults",
            r#"{"services":{"b":{"down":true}}}"#,
            "--lang",
            "ko",
        ],
        None,
    );
    assert_eq!(failed.status.code(), Some(3), "{}", text(&failed.stdout));
    assert!(text(&failed.stdout).contains("failed"));
    assert!(text(&failed.stdout)
        .chars()
        .any(|c| ('가'..='힣').contains(&c)));
    let bad = hybridflow(
        &[
            "run",
            &saga,
            "--faults",
            r#"{"services":{"nobody":{"down":true}}}"#,
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("nobody"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn compare_prints_the_labs_table_and_reading() {
    let dir = tempfile::tempdir().unwrap();
    let saga = file(&dir, "saga.txt", SAGA);
    let json = hybridflow(&["compare", &saga, "--runs", "20", "--json"], None);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let result: Value = serde_json::from_slice(&json.stdout).unwrap();
    let styles = result["styles"].as_array().unwrap();
    assert_eq!(styles.len(), 3);
    for s in styles {
        assert_eq!(s["runs"], 20);
    }
    assert!(!result["reading"].as_array().unwrap().is_empty());
    let markdown = text(&hybridflow(&["compare", &saga, "--runs", "5", "--markdown"], None).stdout);
    assert!(markdown.contains("| style | succeeded |"), "{markdown}");
    assert_eq!(
        markdown.matches("\n| ").count(),
        4,
        "a header and a row per style: {markdown}"
    );
    let too_many = hybridflow(&["compare", &saga, "--runs", "999999"], None);
    assert_eq!(too_many.status.code(), Some(1));
}

#[test]
fn completions_and_help() {
    let bash = hybridflow(&["completions", "bash"], None);
    assert!(text(&bash.stdout).contains("complete -F"));
    let help = text(&hybridflow(&["--help"], None).stdout);
    for sub in [
        "serve", "validate", "convert", "run", "compare", "import", "export",
    ] {
        assert!(help.contains(&format!("  {sub} ")), "{sub} in {help}");
    }
    assert!(help.contains("Exit codes"));
}

#[tokio::test]
async fn import_export_and_run_against_a_running_server() {
    let server = TestServer::start().await;
    let base = server.url("");
    let dir = tempfile::tempdir().unwrap();
    let bpmn = file(&dir, "order.bpmn", CAMUNDA);
    let (b, p) = (base.clone(), bpmn.clone());
    let imported =
        tokio::task::spawn_blocking(move || hybridflow(&["import", &p, "--server", &b], None))
            .await
            .unwrap();
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    let id = text(&imported.stdout).trim().to_string();
    let record: Value = server.get_json(&format!("/api/workflows/{id}")).await;
    assert_eq!(record["name"], "Order fulfilment");
    let b = base.clone();
    let i = id.clone();
    let exported = tokio::task::spawn_blocking(move || {
        hybridflow(&["export", &i, "--to", "bpmn", "--server", &b], None)
    })
    .await
    .unwrap();
    assert!(text(&exported.stdout).contains("<bpmn:definitions"));
    let b = base.clone();
    let i = id.clone();
    let ran = tokio::task::spawn_blocking(move || {
        hybridflow(
            &[
                "run", &i, "--stored", "--server", &b, "--seed", "3", "--json",
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}{}",
        text(&ran.stdout),
        text(&ran.stderr)
    );
    let outcome: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(outcome["outcome"]["status"], "completed");
    assert_eq!(outcome["outcome"]["workflow_id"], id.as_str());
    // In words, it ends with the editor's address of the run.
    let (b, i) = (base.clone(), id.clone());
    let words = tokio::task::spawn_blocking(move || {
        hybridflow(
            &["run", &i, "--stored", "--server", &b, "--seed", "3"],
            None,
        )
    })
    .await
    .unwrap();
    let words = text(&words.stdout);
    let link = words.lines().last().unwrap();
    assert!(
        link.starts_with(&format!(
            "{}/?workflow={id}&run=",
            base.trim_end_matches('/')
        )),
        "{words}"
    );
    assert!(words.contains(": completed"), "{words}");
    // The server's refusal, with its problems, and exit code 1.
    let bad = file(&dir, "bad.mmd", "flowchart LR\n  a ==> b\n");
    let b = base.clone();
    let refused =
        tokio::task::spawn_blocking(move || hybridflow(&["import", &bad, "--server", &b], None))
            .await
            .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("422") && stderr.contains("line 2"),
        "{stderr}"
    );
    let nowhere = hybridflow(&["import", &bpmn, "--server", "http://127.0.0.1:9"], None);
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(text(&nowhere.stderr).contains("cannot reach the server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_end_is_refused_at_its_limit_not_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Something that is not Hybridflow answers `export` with a body that never ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let endless = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
        let mut sent = 0usize;
        while stream.write_all(chunk.as_bytes()).await.is_ok() {
            sent += 64 * 1024;
        }
        sent
    });
    let server = format!("http://{addr}");
    let exported = tokio::task::spawn_blocking(move || {
        hybridflow(&["export", "w", "--to", "json", "--server", &server], None)
    })
    .await
    .unwrap();
    assert_eq!(
        exported.status.code(),
        Some(1),
        "{}",
        text(&exported.stderr)
    );
    assert!(
        text(&exported.stderr).contains("sent more than 16777216 bytes; the limit is 16777216"),
        "{}",
        text(&exported.stderr)
    );
    let sent = endless.await.unwrap();
    assert!(
        sent < 64 * 1024 * 1024,
        "it stopped reading: {sent} bytes sent"
    );
}

#[test]
fn serving_on_a_port_in_use_says_so_in_one_line_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("busy.db");
    let out = Command::new(env!("CARGO_BIN_EXE_hybridflow"))
        .args(["--bind", &address, "--database", database.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output()
        .expect("run hybridflow");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("hybridflow:"))
        .collect();
    assert_eq!(
        lines,
        [format!(
            "hybridflow: {address} is already in use (another hybridflow?): stop what listens there, or pick another address with --bind 127.0.0.1:PORT (or HYBRIDFLOW_BIND)"
        )],
        "{stderr}"
    );
    assert!(
        !stderr.contains("Stack backtrace") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// `run --message NAME@MS[=DATA]` sends a waiting step its message at a virtual time: in
/// time, the wait ends and the story says so; too late, the timeout's saga runs; a message
/// that cannot be read is refused naming it, before anything runs.
#[test]
fn run_sends_a_waiting_step_its_message_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let confirm = file(
        &dir,
        "confirm.json",
        r#"{"name": "confirm",
            "nodes": [{"id": "order", "label": "Order", "service": "OrderService", "action": "place", "compensation": "cancel"},
                      {"id": "confirm", "label": "Await confirmation", "service": "PaymentService", "action": "await",
                       "wait": {"message": "PaymentConfirmed", "timeout_ms": 3000}},
                      {"id": "ship", "label": "Ship", "service": "ShippingService", "action": "ship"}],
            "edges": [{"from": "order", "to": "confirm", "kind": "command"},
                      {"from": "confirm", "to": "ship", "kind": "command"}]}"#,
    );
    let in_time = hybridflow(
        &[
            "run",
            &confirm,
            "--message",
            r#"PaymentConfirmed@800={"by": "bank"}"#,
        ],
        None,
    );
    assert_eq!(in_time.status.code(), Some(0), "{}", text(&in_time.stdout));
    assert!(
        text(&in_time.stdout).contains(
            "- Messages received: PaymentConfirmed (from outside) ended Await confirmation's wait"
        ),
        "{}",
        text(&in_time.stdout)
    );
    let late = hybridflow(
        &["run", &confirm, "--message", "PaymentConfirmed@5000"],
        None,
    );
    assert_eq!(late.status.code(), Some(4), "{}", text(&late.stdout));
    assert!(text(&late.stdout).contains("Await confirmation failed (timed out)"));
    for (bad, said) in [
        (
            "PaymentConfirmed@soon",
            "\"soon\" is not a time in milliseconds",
        ),
        ("PaymentConfirmed@5=[1]", "its data is not a JSON object"),
        ("@5", "name must be 1 to 200 characters, got 0"),
    ] {
        let refused = hybridflow(&["run", &confirm, "--message", bad], None);
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            text(&refused.stderr).contains(said),
            "{}",
            text(&refused.stderr)
        );
    }
}

/// With `--server`, the message is sent to the run on the server, in real time after its
/// start: the wait there ends and the run completes.
#[tokio::test]
async fn run_on_a_server_sends_its_messages_there() {
    let server = TestServer::start().await;
    let base = server.url("");
    let dir = tempfile::tempdir().unwrap();
    let confirm = file(
        &dir,
        "confirm.json",
        r#"{"name": "confirm remote",
            "nodes": [{"id": "order", "label": "Order", "service": "OrderService", "action": "place", "latency_ms": 10},
                      {"id": "confirm", "label": "Await confirmation", "service": "PaymentService", "action": "await",
                       "wait": {"message": "PaymentConfirmed", "timeout_ms": 60000}}],
            "edges": [{"from": "order", "to": "confirm", "kind": "command"}]}"#,
    );
    let ran = tokio::task::spawn_blocking(move || {
        hybridflow(
            &[
                "run",
                &confirm,
                "--server",
                &base,
                "--message",
                "PaymentConfirmed@300",
                "--json",
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}{}",
        text(&ran.stdout),
        text(&ran.stderr)
    );
    let outcome: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(outcome["outcome"]["status"], "completed");
    assert_eq!(outcome["outcome"]["messages"]["commands"], 1);
}

/// Offline, a sub-flow runs the workflow `--with` gives (by its name or its file's name);
/// without it the step fails, saying the workflow is not there.
#[test]
fn run_offline_runs_sub_flows_given_with_with() {
    let dir = tempfile::tempdir().unwrap();
    let payment = file(
        &dir,
        "payment.json",
        &json!({"name": "Payment", "nodes": [
            {"id": "charge", "label": "Charge", "service": "Payments", "action": "charge", "latency_ms": 40, "writes": {"paid": true}}],
            "edges": []})
        .to_string(),
    );
    let order = file(
        &dir,
        "order.json",
        &json!({"name": "Order", "nodes": [
            {"id": "pay", "label": "Pay", "service": "Orders", "action": "pay", "sub_flow": "payment"},
            {"id": "ship", "label": "Ship", "service": "Shipping", "action": "ship", "latency_ms": 10}],
            "edges": [{"from": "pay", "to": "ship", "kind": "command"}]})
        .to_string(),
    );
    let ran = hybridflow(&["run", &order, "--with", &payment], None);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert!(
        text(&ran.stdout).contains("Sub-flows: Pay ran child run"),
        "{}",
        text(&ran.stdout)
    );
    let alone = hybridflow(&["run", &order], None);
    assert_eq!(alone.status.code(), Some(3), "{}", text(&alone.stdout));
}

/// `hybridflow verify`: a choreographed saga that forgot its compensation route breaks
/// "nothing is left half done" (exit 6), its shortest schedule in words; as JSON, each
/// counterexample with its story; the same flow orchestrated breaks nothing (exit 0); the
/// bounds are checked (exit 2).
#[test]
fn verify_names_each_broken_invariant_with_a_shortest_schedule_and_exits_for_ci() {
    let dir = tempfile::tempdir().unwrap();
    let node = |id: &str, service: &str, compensation: Option<&str>| {
        let mut n =
            json!({"id": id, "label": id, "service": service, "action": id, "latency_ms": 100});
        if let Some(c) = compensation {
            n["compensation"] = json!(c);
        }
        n
    };
    let saga = |kind: &str| {
        json!({"name": "saga", "nodes": [node("order", "Orders", None), node("pay", "Payments", Some("refund")), node("ship", "Shipping", None)],
               "edges": [{"from": "order", "to": "pay", "kind": kind}, {"from": "pay", "to": "ship", "kind": kind}]})
        .to_string()
    };
    let events = file(&dir, "events.json", &saga("event"));
    let out = hybridflow(&["verify", &events, "--bus-faults", "0"], None);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("  ✗ nothing is left half done (every completed step with an undo action is kept or undone): ship fails (attempt 1): ship failed (service error)"),
        "{said}"
    );
    let out = hybridflow(&["verify", &events, "--json"], None);
    assert_eq!(out.status.code(), Some(6));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["workflow"], "saga");
    let stalled = doc["counterexamples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["invariant"] == "ends")
        .unwrap();
    assert_eq!(stalled["choices"][0]["type"], "delivery");
    assert_eq!(stalled["choices"][0]["choice"], "drop");
    assert!(stalled["story"]
        .as_str()
        .unwrap()
        .starts_with("the bus loses orderCompleted on its way to pay: stalled"));
    let commands = file(&dir, "commands.json", &saga("command"));
    let out = hybridflow(&["verify", &commands], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("No schedule breaks an invariant ("));
    let out = hybridflow(&["verify", &commands, "--max-faults", "9"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("9 is not in 0..=5"));
}
