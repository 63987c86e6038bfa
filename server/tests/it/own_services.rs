//! The README's "Writing your own service": its Python and Rust examples — the very files
//! the README shows — as real processes a step is bound to: a run completes with what the
//! service wrote, an expired card is declined once, the saga's undo is answered, a key sent
//! twice is worked once.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{eventually, TestServer};

const PYTHON: &str = "docs/examples/payment_service.py";
const RUST: &str = "server/examples/payment_service.rs";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A process killed when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn started(command: &mut Command, port: u16) -> Service {
    let service = Service(
        command
            .arg(port.to_string())
            .current_dir(repo())
            // Python's server logs each request: not the tests' output.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the example service"),
    );
    eventually(
        "the example service listening",
        Duration::from_secs(20),
        Duration::from_millis(50),
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
    service
}

/// Order (simulated) → Payment (the example service); runs it with a good and an expired
/// card, and sends one key twice.
async fn bound_and_run(port: u16, language: &str) {
    let url = format!("http://127.0.0.1:{port}/");
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": format!("Own {language} service"),
            "nodes": [{"id": "order", "label": "Order", "service": "Orders", "action": "place", "latency_ms": 10},
                      {"id": "payment", "label": "Payment", "service": "Payments", "action": "charge",
                       "call": {"http": {"url": url}}}],
            "edges": [{"from": "order", "to": "payment", "kind": "command"}]}))
        .await;
    for (input, status) in [
        (json!({"card": "ok"}), "completed"),
        (json!({"card": "expired"}), "failed"),
    ] {
        let (report, records) = server.run_to_end(&workflow, input).await;
        assert_eq!(report["status"], status, "{language}: {report}");
        let called: Vec<&Value> = records
            .iter()
            .filter(|r| r["type"] == "ServiceCalled")
            .collect();
        assert_eq!(called.len(), 1, "{called:?}");
        if status == "completed" {
            let wrote = records
                .iter()
                .find(|r| r["type"] == "StepSucceeded" && r["node"] == "payment")
                .unwrap();
            assert_eq!(
                wrote["wrote"],
                json!({"paid": true, "charged_by": language})
            );
        } else {
            assert_eq!(
                (called[0]["status"].clone(), called[0]["problem"].clone()),
                (json!(422), json!("card expired"))
            );
        }
    }
    // Shipping fails after Payment: the saga asks the service to undo the charge.
    let saga = server
        .create_workflow(&json!({"name": format!("Own {language} service, undone"),
            "nodes": [{"id": "payment", "label": "Payment", "service": "Payments", "action": "charge",
                       "compensation": "refund", "call": {"http": {"url": url}}},
                      {"id": "ship", "label": "Shipping", "service": "Shipping", "action": "ship",
                       "failure_rate": 1.0}],
            "edges": [{"from": "payment", "to": "ship", "kind": "command"}]}))
        .await;
    let (report, records) = server.run_to_end(&saga, json!({"card": "ok"})).await;
    assert_eq!(report["status"], "compensated", "{language}: {report}");
    let undo = records
        .iter()
        .find(|r| r["type"] == "ServiceCalled" && r["undo"] == "refund")
        .expect("an undo call");
    assert_eq!(undo["status"], 200, "{undo}");
    assert!(records
        .iter()
        .any(|r| r["type"] == "StepCompensated" && r["node"] == "payment"));
    // What it answered the undo, asked again under its key (answered from memory): a refund.
    let run = report["id"].as_str().unwrap();
    let again = json!({"run": run, "step": "payment", "execution": 1, "attempt": 1,
                       "idempotency_key": format!("{run}/payment/1/undo"), "kind": "undo",
                       "action": "refund", "data": {"card": "ok"}});
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"writes": {"refunded": true}})
    );
    // The same key twice: the same answer (the work done once).
    let http = reqwest::Client::new();
    let call = json!({"run": "r", "step": "payment", "execution": 1, "attempt": 1,
                      "idempotency_key": "r/payment/1", "kind": "command", "data": {"card": "ok"}});
    let mut answers = Vec::new();
    for attempt in [1, 2] {
        let mut call = call.clone();
        call["attempt"] = json!(attempt);
        let answer = http.post(&url).json(&call).send().await.unwrap();
        answers.push((
            answer.status().as_u16(),
            answer.json::<Value>().await.unwrap(),
        ));
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_serves_a_bound_step() {
    let port = free_port();
    let _service = started(Command::new("python3").arg(PYTHON), port).await;
    bound_and_run(port, "python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_example_serves_a_bound_step() {
    // `cargo test` builds the server's examples beside its test binaries.
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples/payment_service");
    assert!(
        binary.exists(),
        "{} is not built: `cargo test --workspace` builds it, or `cargo build -p server --example payment_service`",
        binary.display()
    );
    let port = free_port();
    let _service = started(&mut Command::new(binary), port).await;
    bound_and_run(port, "rust").await;
}

/// The README shows both examples as they are (so what it shows is what these tests run).
#[test]
fn the_readme_shows_the_examples_as_they_are() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for file in [PYTHON, RUST] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        assert!(
            readme.contains(text.trim_end()),
            "README.md does not show {file} as it is"
        );
    }
}
