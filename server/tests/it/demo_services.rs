//! The demo services as real processes (`hybridflow demo-service <name>`) on loopback:
//! each speaks the call contract, fails as the data it receives says, honours the
//! idempotency key (the work done once however often a key is sent) and counts it at
//! `/stats`; bad bodies are refused saying why; a caller that goes away mid-call does not
//! lose the work.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::model::call::{CallKind, CallRequest, MAX_CALL_BODY_BYTES};
use serde_json::{json, Value};

/// A demo service process, killed when dropped.
pub(crate) struct DemoProcess {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DemoProcess {
    /// Starts `hybridflow demo-service <name>` on a free port and reads where it listens.
    pub fn start(name: &str) -> Self {
        Self::start_on(name, 0)
    }

    /// Starts it on `port` (0: a free one).
    pub fn start_on(name: &str, port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hybridflow"))
            .args(["demo-service", name, "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a demo service");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            line.starts_with(&format!("{name} listening on http://127.0.0.1:")),
            "{line}"
        );
        DemoProcess {
            child,
            url,
            http: reqwest::Client::new(),
        }
    }

    /// Kills it (SIGKILL) and waits until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn call(&self, request: &CallRequest) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}/", self.url))
            .json(request)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    /// Waits until it has seen `count` requests (`what` names the wait).
    pub async fn until_requests(&self, count: u64, what: &str) {
        crate::common::eventually(
            what,
            Duration::from_secs(10),
            Duration::from_millis(10),
            || async {
                match self.stats().await["requests"].as_u64() {
                    Some(n) if n >= count => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn request(step: &str, execution: u32, attempt: u32, data: Value) -> CallRequest {
    CallRequest {
        run: "run-1".into(),
        step: step.into(),
        execution,
        attempt,
        idempotency_key: CallRequest::key_of("run-1", step, execution),
        kind: CallKind::Command,
        event: None,
        action: None,
        data: data.as_object().cloned().unwrap_or_default(),
    }
}

#[tokio::test]
async fn payment_charges_once_per_key_and_declines_an_expired_card() {
    let payment = DemoProcess::start("payment");
    let charge = request("payment", 1, 1, json!({"card": "ok"}));
    let (status, first) = payment.call(&charge).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["writes"]["paid"], true);
    assert!(first["writes"]["payment_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("pay-")));
    // The same key again (a retry, a resend after a crash): the same answer, no new work.
    let (status, again) = payment.call(&charge).await;
    assert_eq!((status, &again), (200, &first));
    // An expired card: a business failure, remembered as such.
    let expired = request("payment", 2, 1, json!({"card": "expired"}));
    let (status, declined) = payment.call(&expired).await;
    assert_eq!(
        (status, declined),
        (422, json!({"failure": "card expired"}))
    );
    let stats = payment.stats().await;
    assert_eq!(stats["service"], "payment");
    assert_eq!(
        (stats["requests"].as_u64(), stats["executions"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        stats["keys"]["run-1/payment/1"],
        json!({"seen": 2, "executed": 1})
    );
    assert_eq!(
        stats["keys"]["run-1/payment/2"],
        json!({"seen": 1, "executed": 1})
    );
}

#[tokio::test]
async fn the_data_switches_a_service_down_flaky_or_slow() {
    let inventory = DemoProcess::start("inventory");
    // Down: every sending answers 503 and nothing is remembered or done.
    let down = request("stock", 1, 1, json!({"down": ["payment", "Inventory"]}));
    for _ in 0..2 {
        let (status, body) = inventory.call(&down).await;
        assert_eq!((status, body), (503, json!({"error": "inventory is down"})));
    }
    // Flaky: the first attempt fails, the retry (same key) does the work.
    let flaky = request("stock", 2, 1, json!({"flaky": "inventory"}));
    let (status, body) = inventory.call(&flaky).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "inventory failed this attempt (flaky)"})
        )
    );
    let retry = request("stock", 2, 2, json!({"flaky": "inventory"}));
    let (status, body) = inventory.call(&retry).await;
    assert_eq!((status, body), (200, json!({"writes": {"reserved": true}})));
    // Out of stock declines; another service's switch changes nothing here.
    let (status, body) = inventory
        .call(&request(
            "stock",
            3,
            1,
            json!({"stock": "none", "slow": "email"}),
        ))
        .await;
    assert_eq!((status, body), (422, json!({"failure": "out of stock"})));
    // Slow: it takes SLOW_MS longer.
    let started = Instant::now();
    let (status, _) = inventory
        .call(&request("stock", 4, 1, json!({"slow": "inventory"})))
        .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(server::demo::SLOW_MS));
    let stats = inventory.stats().await;
    assert_eq!(
        stats["keys"]["run-1/stock/1"],
        json!({"seen": 2, "executed": 0})
    );
    assert_eq!(
        stats["keys"]["run-1/stock/2"],
        json!({"seen": 2, "executed": 1})
    );
    assert_eq!(stats["executions"], 3);
}

/// A caller that goes away mid-call (its process killed) does not lose the work: the
/// service finishes it, and the key's next sending gets its answer without a second
/// execution — meanwhile a sending of the same key is told to try again (503), not run
/// twice.
#[tokio::test]
async fn a_key_sent_again_while_worked_on_or_after_the_caller_left_runs_once() {
    let fulfillment = DemoProcess::start("fulfillment");
    let ship = request("ship", 1, 1, json!({"slow": "fulfillment"}));
    let gone = tokio::time::timeout(Duration::from_millis(300), fulfillment.call(&ship)).await;
    assert!(gone.is_err(), "the slow call answered within 300 ms");
    let (status, body) = fulfillment.call(&ship).await;
    assert_eq!(
        (status, body),
        (
            503,
            json!({"error": "fulfillment is already working on run-1/ship/1"})
        )
    );
    tokio::time::sleep(Duration::from_millis(server::demo::SLOW_MS)).await;
    let (status, body) = fulfillment.call(&ship).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["writes"]["tracking"]
        .as_str()
        .is_some_and(|t| t.starts_with("trk-")));
    let stats = fulfillment.stats().await;
    assert_eq!(
        stats["keys"]["run-1/ship/1"],
        json!({"seen": 3, "executed": 1})
    );
}

#[tokio::test]
async fn a_bad_or_oversized_body_is_refused_saying_why() {
    let email = DemoProcess::start("email");
    let http = reqwest::Client::new();
    let post = |body: String| {
        http.post(format!("{}/", email.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let missing = post(r#"{"run": "r", "step": "email"}"#.into())
        .await
        .unwrap();
    assert_eq!(missing.status(), 422);
    let said: Value = missing.json().await.unwrap();
    assert!(
        said["error"]
            .as_str()
            .unwrap()
            .contains("missing field `execution`"),
        "{said}"
    );
    let huge = format!(r#"{{"pad": "{}"}}"#, "x".repeat(MAX_CALL_BODY_BYTES + 1));
    assert_eq!(post(huge).await.unwrap().status(), 413);
    assert_eq!(email.stats().await["requests"], 0);
}
