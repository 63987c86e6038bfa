//! Steps bound to real services, against the demo services as real processes (and, for
//! the replies no demo service gives, a small HTTP server on a real socket): a flow on them
//! completes in both styles with each step executed once; a declined card follows the
//! failure route at once; a flaky service is retried under the same key; a service killed
//! mid-run is retried, then its failure is handled, and the next run after its restart
//! works; redirects, oversized and slow replies are handled by the rules; a link reset
//! halfway through a reply, or before it, is retried under the same key; a server
//! SIGKILLed with a call in flight sends it again under the same key after its restart,
//! and the service does the work once; the saga's undo of a bound step is a real call
//! (retried, failed when the service is gone, asked again after a SIGKILL, done once); a
//! call to a host the server may not call is refused when the workflow is saved.

use std::net::TcpListener;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{collect, eventually, wait_ended, TestServer};
use crate::demo_services::DemoProcess;

fn bound(id: &str, label: &str, url: &str) -> Value {
    json!({"id": id, "label": label, "service": label, "action": id,
           "call": {"http": {"url": format!("{url}/")}},
           "retry": {"max_attempts": 3, "backoff_ms": 100}})
}

/// The shop's four demo services, each its own process: Order, Payment, Fulfillment, Email.
fn demo_shop() -> [DemoProcess; 4] {
    ["order", "payment", "fulfillment", "email"].map(DemoProcess::start)
}

/// Order → Payment → Fulfillment → Email on `kind` edges, each step a demo service.
fn shop(name: &str, kind: &str, services: &[&DemoProcess; 4]) -> Value {
    let [order, payment, fulfillment, email] = services;
    let mut order = bound("order", "Order", &order.url);
    order["compensation"] = json!("cancel");
    let mut payment = bound("payment", "Payment", &payment.url);
    payment["compensation"] = json!("refund");
    json!({"name": name,
        "nodes": [order, payment, bound("fulfillment", "Fulfillment", &fulfillment.url),
                  bound("email", "Email", &email.url)],
        "edges": [{"from": "order", "to": "payment", "kind": kind},
                  {"from": "payment", "to": "fulfillment", "kind": kind},
                  {"from": "fulfillment", "to": "email", "kind": kind}]})
}

fn of<'a>(records: &'a [Value], kind: &str, node: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["type"] == kind && r["node"] == node)
        .collect()
}

fn told(report: &Value) -> Vec<String> {
    report["story"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_on_real_services_completes_in_both_styles_each_step_executed_once() {
    let [order, payment, fulfillment, email] = demo_shop();
    let services = [&order, &payment, &fulfillment, &email];
    let server = TestServer::start().await;
    for kind in ["command", "event"] {
        let workflow = server
            .create_workflow(&shop(&format!("Shop by {kind}"), kind, &services))
            .await;
        let (report, records) = server.run_to_end(&workflow, json!({"card": "ok"})).await;
        assert_eq!(report["status"], "completed", "{kind}: {report}");
        for step in ["order", "payment", "fulfillment", "email"] {
            let called = of(&records, "ServiceCalled", step);
            assert_eq!(called.len(), 1, "{kind} {step}: {called:?}");
            assert_eq!(called[0]["status"], 200);
            assert!(called[0]["took_ms"].as_u64().is_some());
        }
        // What the services answered is the run's data, and what the events carried on.
        let wrote = |step: &str| of(&records, "StepSucceeded", step)[0]["wrote"].clone();
        assert!(wrote("order")["order_id"]
            .as_str()
            .unwrap()
            .starts_with("ord-"));
        assert_eq!(wrote("payment")["paid"], true);
        assert!(wrote("fulfillment")["tracking"]
            .as_str()
            .unwrap()
            .starts_with("trk-"));
        if kind == "event" {
            let published = records
                .iter()
                .find(|r| r["type"] == "EventPublished" && r["from"] == "order")
                .unwrap();
            assert!(published["payload"]["order_id"].is_string(), "{published}");
        }
    }
    // Each service did each run's work once: two keys, each sent and executed once.
    for service in services {
        let stats = service.stats().await;
        let keys = stats["keys"].as_object().unwrap();
        assert_eq!(keys.len(), 2, "{stats}");
        for (key, counted) in keys {
            assert_eq!(counted, &json!({"seen": 1, "executed": 1}), "{key}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_card_is_declined_once_and_the_saga_undoes_the_order() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Declined",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let (report, records) = server
        .run_to_end(&workflow, json!({"card": "expired"}))
        .await;
    assert_eq!(report["status"], "compensated", "{report}");
    let called = of(&records, "ServiceCalled", "payment");
    assert_eq!(called.len(), 1, "a decline is not retried: {called:?}");
    assert_eq!(called[0]["status"], 422);
    assert_eq!(called[0]["problem"], "card expired");
    let failed = of(&records, "StepFailed", "payment");
    assert_eq!(failed[0]["reason"], "declined");
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(of(&records, "StepCompensated", "order").len(), 1);
    assert!(
        told(&report)
            .iter()
            .any(|l| l.contains("Payment failed (its service declined it)")),
        "{:?}",
        told(&report)
    );
    assert!(fulfillment.stats().await["keys"]
        .as_object()
        .unwrap()
        .is_empty());
    // The saga's undo of Order is a real call to the Order service: its compensation named,
    // under the step's key with /undo, the order cancelled once.
    let undo: Vec<&Value> = of(&records, "ServiceCalled", "order")
        .into_iter()
        .filter(|c| c["undo"] == "cancel")
        .collect();
    assert_eq!(undo.len(), 1, "{undo:?}");
    assert_eq!(undo[0]["status"], 200);
    let run = report["id"].as_str().unwrap();
    let stats = order.stats().await;
    assert_eq!(
        stats["keys"][format!("{run}/order/1/undo")],
        json!({"seen": 1, "executed": 1}),
        "{stats}"
    );
    // And the log says it in words (steps named by id here; the page gives labels).
    let log: Vec<String> = records
        .iter()
        .filter(|r| r["type"] == "ServiceCalled" && r["node"] == "order")
        .map(|r| {
            let event: app::model::RunEvent = serde_json::from_value(r.clone()).unwrap();
            app::model::log::describe(&event, app::i18n::Locale::en).text
        })
        .collect();
    assert!(
        log.iter()
            .any(|l| l.starts_with("order asked its service to undo it (cancel): 200 in ")),
        "{log:?}"
    );
}

/// The saga's undo calls follow the step's retry policy: a flaky Order fails the first undo
/// call and is called again under the same key; an Order gone for good fails its
/// compensation after its attempts, said in the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_calls_are_retried_and_a_service_gone_fails_its_compensation() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Undone for real",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let (report, records) = server
        .run_to_end(&workflow, json!({"card": "expired", "flaky": "order"}))
        .await;
    assert_eq!(report["status"], "compensated", "{report}");
    let calls: Vec<(Option<&str>, u64, u64)> = of(&records, "ServiceCalled", "order")
        .iter()
        .map(|c| {
            (
                c["undo"].as_str(),
                c["attempt"].as_u64().unwrap(),
                c["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            (None, 1, 503),
            (None, 2, 200),
            (Some("cancel"), 1, 503),
            (Some("cancel"), 2, 200)
        ]
    );
    let run = report["id"].as_str().unwrap();
    let undo = &order.stats().await["keys"][format!("{run}/order/1/undo")];
    assert_eq!(undo, &json!({"seen": 2, "executed": 1}));

    // Order goes away once it has taken the order (Payment is slow, then declines): its
    // undo calls cannot connect, 3 attempts, then the compensation failed.
    let mut order = order;
    let workflow = server
        .create_workflow(&shop(
            "Undo gone",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let started: Value = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": {"card": "expired", "slow": "payment"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let run = started["id"].as_str().unwrap().to_string();
    payment.until_requests(2, "Payment's call under way").await;
    order.kill();
    let (report, records) = server.end_of(&run).await;
    let failed = of(&records, "CompensationFailed", "order");
    assert_eq!(failed.len(), 1, "{report}");
    let undo: Vec<&Value> = of(&records, "ServiceCalled", "order")
        .into_iter()
        .filter(|c| c["undo"] == "cancel")
        .collect();
    assert_eq!(undo.len(), 3, "{undo:?}");
    assert!(undo
        .iter()
        .all(|c| c["problem"].as_str().unwrap().starts_with("cannot connect")));
    assert!(of(&records, "StepCompensated", "order").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_service_is_retried_under_the_same_key_and_does_the_work_once() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Flaky",
            "event",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let (report, records) = server
        .run_to_end(&workflow, json!({"flaky": "payment"}))
        .await;
    assert_eq!(report["status"], "completed", "{report}");
    let called: Vec<(Value, Value)> = of(&records, "ServiceCalled", "payment")
        .iter()
        .map(|r| (r["attempt"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(called, [(json!(1), json!(503)), (json!(2), json!(200))]);
    let stats = payment.stats().await;
    let keys = stats["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys.values().next().unwrap(),
        &json!({"seen": 2, "executed": 1})
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_killed_mid_run_is_retried_then_handled_and_after_its_restart_the_next_run_works()
{
    let order = DemoProcess::start("order");
    let payment_port = free_port();
    let mut payment = DemoProcess::start_on("payment", payment_port);
    let fulfillment = DemoProcess::start("fulfillment");
    let email = DemoProcess::start("email");
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Outage",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    // Order takes 1.5 s: Payment is killed while it works.
    let started: Value = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": {"slow": "order"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    payment.kill();
    let (report, records) = server.end_of(&id).await;
    assert_eq!(report["status"], "compensated", "{report}");
    let called = of(&records, "ServiceCalled", "payment");
    assert_eq!(called.len(), 3, "three attempts: {called:?}");
    for call in &called {
        assert!(call["status"].is_null());
        assert!(
            call["problem"]
                .as_str()
                .unwrap()
                .starts_with("cannot connect"),
            "{call}"
        );
    }
    assert_eq!(
        of(&records, "StepFailed", "payment")[0]["reason"],
        "unavailable"
    );
    assert!(
        told(&report)
            .iter()
            .any(|l| l.contains("Payment failed (the service was down, after 3 attempts) → the orchestrator undid what it had done (a saga)")),
        "{:?}",
        told(&report)
    );
    // Back on its port: the next run goes through.
    let payment = DemoProcess::start_on("payment", payment_port);
    let (report, _) = server.run_to_end(&workflow, json!({})).await;
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(payment.stats().await["executions"], 1);
}

/// A service that answers what no demo service does: a redirect, a reply over the size
/// limit, no answer in time.
async fn odd_service() -> String {
    use axum::routing::post;
    let router = axum::Router::new()
        .route(
            "/echo",
            post(|axum::Json(call): axum::Json<Value>| async move {
                axum::Json(json!({"writes": {"saw": call["data"], "kind": call["kind"]}}))
            }),
        )
        .route(
            "/redirect",
            post(|| async {
                (
                    axum::http::StatusCode::FOUND,
                    [(axum::http::header::LOCATION, "http://127.0.0.1:9/elsewhere")],
                )
            }),
        )
        .route(
            "/huge",
            post(|| async {
                let pad = "x".repeat(app::model::call::MAX_CALL_BODY_BYTES);
                axum::Json(json!({"writes": {"pad": pad}}))
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A subscriber bound to a real service that reads a field its event does not carry: the
/// engine asks the field's owner (a query, as for a simulated step), and the service gets
/// the event's payload with the answer — all the data the step may see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_what_its_queries_brought_back_with_the_event() {
    let odd = odd_service().await;
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": "Queried", "nodes": [
            {"id": "order", "label": "Order", "service": "Orders", "action": "place",
             "writes": {"order_id": "ord-1"}},
            {"id": "payment", "label": "Payment", "service": "Payments", "action": "charge",
             "writes": {"payment_id": "pay-1"}},
            {"id": "notify", "label": "Notify", "service": "Email", "action": "send",
             "reads": ["order_id"], "call": {"http": {"url": format!("{odd}/echo")}}}],
            "edges": [{"from": "order", "to": "payment", "kind": "event"},
                      {"from": "payment", "to": "notify", "kind": "event"}]}))
        .await;
    let (report, records) = server.run_to_end(&workflow, json!({})).await;
    assert_eq!(report["status"], "completed", "{report}");
    let asked = of(&records, "QuerySent", "notify");
    assert_eq!(asked.len(), 1, "{records:?}");
    assert_eq!(asked[0]["fields"], json!(["order_id"]));
    assert_eq!(asked[0]["owner"], "order");
    let wrote = &of(&records, "StepSucceeded", "notify")[0]["wrote"];
    assert_eq!(wrote["kind"], "event");
    assert_eq!(
        wrote["saw"],
        json!({"payment_id": "pay-1", "order_id": "ord-1"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_oversized_and_slow_replies_are_handled_by_the_rules() {
    let odd = odd_service().await;
    let server = TestServer::start().await;
    let one = |path: &str| {
        json!({"name": format!("Odd {path}"), "nodes": [{
            "id": "call", "label": "Call", "service": "Odd", "action": "call",
            "call": {"http": {"url": format!("{odd}/{path}")}},
            "timeout_ms": 300, "retry": {"max_attempts": 2, "backoff_ms": 50}}], "edges": []})
    };
    let mut seen = Vec::new();
    for path in ["redirect", "huge", "slow"] {
        let workflow = server.create_workflow(&one(path)).await;
        let (report, records) = server.run_to_end(&workflow, json!({})).await;
        assert_eq!(report["status"], "failed", "{path}: {report}");
        let called = of(&records, "ServiceCalled", "call");
        let failed = of(&records, "StepFailed", "call");
        seen.push((
            path,
            called.len(),
            called[0]["problem"].as_str().unwrap().to_string(),
            failed[0]["reason"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(
        seen,
        [
            (
                "redirect",
                1,
                "the service answered 302, a redirect to http://127.0.0.1:9/elsewhere; redirects are not followed".to_string(),
                "declined".to_string()
            ),
            (
                "huge",
                2,
                format!(
                    "the reply is more than {0} bytes; the limit is {0}",
                    app::model::call::MAX_CALL_BODY_BYTES
                ),
                "unavailable".to_string()
            ),
            (
                "slow",
                2,
                "no answer within 300 ms".to_string(),
                "timeout".to_string()
            ),
        ]
    );
}

/// A service on a raw socket whose link breaks as it answers: the first request's reply is
/// cut halfway through its body (a reset), the second's connection is reset before any
/// answer, the third is answered whole. Returns its URL and the idempotency keys it got.
async fn breaking_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = keys.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                // One request per connection: its head, then its body.
                let mut read = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    read.extend_from_slice(&buf[..n]);
                    if let Some(at) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&read[..head_end]).to_ascii_lowercase();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
                };
                let length: usize = header("content-length").unwrap().trim().parse().unwrap();
                while read.len() < head_end + length {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    read.extend_from_slice(&buf[..n]);
                }
                let attempt = {
                    let mut keys = seen.lock().unwrap();
                    keys.push(header("idempotency-key").unwrap().trim().to_string());
                    keys.len()
                };
                let whole = r#"{"writes": {"receipt": "r-1"}}"#;
                match attempt {
                    1 => {
                        // The head and half the body, then the link is reset.
                        let cut = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                            whole.len(),
                            &whole[..10]
                        );
                        socket.write_all(cut.as_bytes()).await.unwrap();
                        socket.flush().await.unwrap();
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        socket.set_zero_linger().unwrap();
                    }
                    2 => socket.set_zero_linger().unwrap(),
                    _ => {
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{whole}",
                            whole.len()
                        );
                        socket.write_all(answer.as_bytes()).await.unwrap();
                    }
                }
                // Dropped: with no linger, a reset, not a clean close.
            });
        }
    });
    (url, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_reset_mid_reply_is_retried_under_the_same_key() {
    let (url, keys) = breaking_service().await;
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&json!({"name": "Breaking link", "nodes": [{
            "id": "pay", "label": "Payment", "service": "Payments", "action": "charge",
            "call": {"http": {"url": url}},
            "retry": {"max_attempts": 3, "backoff_ms": 50}}], "edges": []}))
        .await;
    let (report, records) = server.run_to_end(&workflow, json!({})).await;
    assert_eq!(report["status"], "completed", "{report}");
    let called = of(&records, "ServiceCalled", "pay");
    let seen: Vec<(u64, Option<u64>, String)> = called
        .iter()
        .map(|c| {
            (
                c["attempt"].as_u64().unwrap(),
                c["status"].as_u64(),
                c["problem"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    // Cut halfway: the status came, the body did not — a broken call, retried; then reset
    // before any answer: no status. Each said as what happened to the link.
    assert_eq!(
        seen,
        [
            (
                1,
                Some(200),
                "the connection broke while the reply came in: Connection reset by peer (os error 104)".to_string()
            ),
            (
                2,
                None,
                "the connection broke before an answer came: Connection reset by peer (os error 104)".to_string()
            ),
            (3, Some(200), String::new()),
        ]
    );
    // Nothing of the cut reply was taken: the run has the whole reply's data only.
    let succeeded = of(&records, "StepSucceeded", "pay");
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0]["wrote"], json!({"receipt": "r-1"}));
    // The same key every time: a service that honours it does the work once.
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    let run = report["id"].as_str().unwrap();
    assert_eq!(keys[0], format!("{run}/pay/1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_host_the_server_may_not_call_is_refused_when_saved() {
    let doc = |url: &str| {
        json!({"name": "Elsewhere", "nodes": [{
            "id": "payment", "label": "Payment", "service": "Payments", "action": "charge",
            "call": {"http": {"url": url}}}], "edges": []})
    };
    let server = TestServer::start().await;
    let refused = server
        .post_json("/api/workflows", &doc("http://10.1.2.3:8080/charge"))
        .await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    let problem = &body["details"][0];
    assert_eq!(problem["path"], "nodes[0].call.http.url");
    assert_eq!(problem["node"], "payment");
    assert_eq!(
        problem["message"],
        "step Payment (payment) calls 10.1.2.3:8080, which this server may not call: only loopback; start it with --allow-service 10.1.2.3:8080 to allow it"
    );
    assert_eq!(server.workflow_count().await, 0);
    // Secrets never go in the document; only http is called.
    for (url, said) in [
        (
            "http://user:secret@127.0.0.1:4102/",
            "carries a user or password",
        ),
        (
            "https://127.0.0.1:4102/",
            "only http:// URLs are called (got https://)",
        ),
    ] {
        let refused = server.post_json("/api/workflows", &doc(url)).await;
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.unwrap();
        assert!(
            body["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains(said),
            "{body}"
        );
    }
    // A server told it may call that host stores it.
    let allowing = TestServer::start_configured(tempfile::tempdir().unwrap(), |settings| {
        settings.allow_services = vec!["10.1.2.3:8080".into()];
    })
    .await;
    allowing
        .create_workflow(&doc("http://10.1.2.3:8080/charge"))
        .await;
}

/// The end of run `run` that the restarted `server` resumed.
async fn resumed_end(server: &crate::common::ServerProcess, run: &str) -> Value {
    eventually(
        "the resumed run's end",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let report: Value = server.get_json(&format!("/api/runs/{run}")).await;
            if report["status"] == "running" {
                Err(report.to_string())
            } else {
                Ok(report)
            }
        },
    )
    .await
}

/// SIGKILL with a call in flight: after the restart the run's owner sends the unanswered
/// call again under the same idempotency key; the service, which finished the work the
/// first time, does not do it twice — it answers from memory (or says it is still at it,
/// and the retry, same key, gets the answer). The history has no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_a_call_in_flight_sends_it_again_and_the_work_is_done_once() {
    use crate::common::ServerProcess;
    let payment = DemoProcess::start("payment");
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("calls.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let mut step = bound("payment", "Payment", &payment.url);
    step["retry"] = json!({"max_attempts": 6, "backoff_ms": 300});
    let created: Value = server
        .post_json(
            "/api/workflows",
            &json!({"name": "In flight", "nodes": [step], "edges": []}),
        )
        .await
        .json()
        .await
        .unwrap();
    let workflow = created["id"].as_str().unwrap();
    let started: Value = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": {"slow": "payment"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let run = started["id"].as_str().unwrap().to_string();
    payment
        .until_requests(1, "the call reaching the service")
        .await;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    let report = resumed_end(&server, &run).await;
    assert_eq!(report["status"], "completed", "{report}");
    let records = collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    let seqs: Vec<u64> = records.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gap");
    let resumed = records
        .iter()
        .find(|r| r["type"] == "RunResumed")
        .expect("resumed");
    assert_eq!(
        resumed["resent"],
        json!([format!("{run}/payment/1/1")]),
        "{resumed}"
    );
    // Every answer it heard came under the one key; the last was the work's.
    let called = of(&records, "ServiceCalled", "payment");
    assert_eq!(called.last().unwrap()["status"], 200, "{called:?}");
    let stats = payment.stats().await;
    assert_eq!(
        stats["keys"][format!("{run}/payment/1")]["executed"],
        1,
        "{stats}"
    );
    assert!(
        stats["keys"][format!("{run}/payment/1")]["seen"].as_u64() >= Some(2),
        "{stats}"
    );
    assert_eq!(stats["keys"].as_object().unwrap().len(), 1);
}

/// A step bound by a NATS subject: each attempt a request carrying the contract (its key
/// also as a header), the reply's writes the run data; a reply with the NATS service
/// framework's error code 422 declines; nobody listening is retried, then handled. A server
/// without a NATS connection refuses saving such a step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_bound_by_a_nats_subject_is_a_request_and_its_reply() {
    use futures::StreamExt;
    let (url, _) = crate::common::nats_bus().await;
    let subject = format!(
        "test.payment.{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let client = async_nats::connect(&url).await.unwrap();
    let mut asked = client.subscribe(subject.clone()).await.unwrap();
    let responder = client.clone();
    tokio::spawn(async move {
        while let Some(message) = asked.next().await {
            let call: Value = serde_json::from_slice(&message.payload).unwrap();
            let key = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Idempotency-Key"))
                .map(|v| v.to_string());
            let mut headers = async_nats::HeaderMap::new();
            let body = if key.as_deref() != call["idempotency_key"].as_str() {
                headers.insert("Nats-Service-Error-Code", "500");
                json!({"error": "the key header and the body differ"})
            } else if call["data"]["card"] == "expired" {
                headers.insert("Nats-Service-Error-Code", "422");
                json!({"failure": "card expired"})
            } else {
                json!({"writes": {"paid": true, "via": "nats", "kind": call["kind"]}})
            };
            if let Some(reply) = message.reply {
                let _ = responder
                    .publish_with_headers(reply, headers, body.to_string().into())
                    .await;
            }
        }
    });
    let doc = |subject: &str| {
        json!({"name": "Over NATS", "nodes": [
            {"id": "order", "label": "Order", "service": "Orders", "action": "place", "latency_ms": 10},
            {"id": "payment", "label": "Payment", "service": "Payments", "action": "charge",
             "call": {"nats": {"subject": subject}}, "retry": {"max_attempts": 2, "backoff_ms": 50}}],
            "edges": [{"from": "order", "to": "payment", "kind": "event"}]})
    };
    let alone = TestServer::start().await;
    let refused = alone.post_json("/api/workflows", &doc(&subject)).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["details"][0]["message"],
        format!("step Payment (payment) calls its service over NATS ({subject}), but this server has no NATS connection: start it with --bus or --nats URL")
    );
    let nats = url.clone();
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), move |settings| {
        settings.nats = Some(nats);
    })
    .await;
    let workflow = server.create_workflow(&doc(&subject)).await;
    let (report, records) = server.run_to_end(&workflow, json!({"card": "ok"})).await;
    assert_eq!(report["status"], "completed", "{report}");
    let wrote = &of(&records, "StepSucceeded", "payment")[0]["wrote"];
    assert_eq!(
        wrote,
        &json!({"paid": true, "via": "nats", "kind": "event"})
    );
    assert_eq!(of(&records, "ServiceCalled", "payment")[0]["status"], 200);
    let (report, records) = server
        .run_to_end(&workflow, json!({"card": "expired"}))
        .await;
    assert_eq!(report["status"], "failed", "{report}");
    let called = of(&records, "ServiceCalled", "payment");
    assert_eq!(called.len(), 1, "declined, not retried");
    assert_eq!(
        (called[0]["status"].clone(), called[0]["problem"].clone()),
        (json!(422), json!("card expired"))
    );
    // Nobody listening on a subject: retried, then the failure is handled as any.
    let silent = server
        .create_workflow(&doc(&format!("{subject}.nobody")))
        .await;
    let (report, records) = server.run_to_end(&silent, json!({})).await;
    assert_eq!(report["status"], "failed", "{report}");
    let called = of(&records, "ServiceCalled", "payment");
    assert_eq!(called.len(), 2);
    assert_eq!(
        called[0]["problem"],
        format!("no service answers on {subject}.nobody")
    );
}

/// Payment answers after [`server::demo::SLOW_MS`] when the data says so: any latency
/// above it was measured on the real service, not simulated (no step has a latency set).
fn slow_payment() -> Value {
    json!({"card": "ok", "slow": "payment"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labs_compare_runs_real_runs_against_real_services() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Compared for real",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    // Real runs are capped lower than simulated ones, saying why.
    let many = json!({"workflow_id": workflow, "runs": 201, "seed": 1});
    let refused = server.post_json("/api/lab/batches", &many).await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    assert!(
        refused["error"].as_str().unwrap().contains(
            "runs must be from 1 to 200 per style when steps call real services (Order, Payment, Fulfillment, Email): each run calls them; got 201"
        ),
        "{refused}"
    );

    let request = json!({"workflow_id": workflow, "runs": 3, "seed": 7, "input": slow_payment()});
    let started = server.post_json("/api/lab/batches", &request).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let batch = wait_ended(&server, &format!("/api/lab/batches/{id}"), 60).await;
    assert_eq!(batch["state"], "done", "{batch}");
    let result = &batch["result"];
    let called: Vec<&str> = result["real"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(called, ["Order", "Payment", "Fulfillment", "Email"]);
    assert_eq!(
        result["real"]["services"][1]["endpoint"],
        format!("{}/", payment.url)
    );
    for style in result["styles"].as_array().unwrap() {
        let name = &style["style"];
        assert_eq!(style["runs"], 3, "{name}");
        assert_eq!(style["outcomes"]["succeeded"], 3, "{name}: {style}");
        // Every run waited for the slow Payment, for real.
        let p50 = style["latency_ms"]["p50"].as_u64().unwrap();
        assert!(p50 >= server::demo::SLOW_MS, "{name}: p50 {p50} ms");
        assert_eq!(
            style["service_calls"], 12,
            "{name}: 4 calls in each of 3 runs"
        );
        assert!(style["call_ms"]["max"].as_u64().unwrap() >= server::demo::SLOW_MS);
    }
    let reading: Vec<&str> = result["reading"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        reading.iter().any(|l| l.starts_with(
            "these are real runs: each style's 3 runs called the 4 real services bound to Order, Payment, Fulfillment, Email, so their latencies are measured, not simulated"
        )),
        "{reading:?}"
    );
    assert!(
        reading.iter().any(|l| l.starts_with(
            "calls to real services per run, and what a call took (median, p95): as drawn 4.0 ("
        )),
        "{reading:?}"
    );
    // The fail-at-every-step matrix is still there (simulated).
    assert_eq!(result["matrix"]["rows"].as_array().unwrap().len(), 4);
    // Payment did the work of each run once: 3 styles × (3 runs + 1 reference run).
    let stats = payment.stats().await;
    let keys = stats["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 12, "{stats}");
    assert!(keys.values().all(|k| k["executed"] == 1), "{stats}");
    // The batch's real runs were read, then deleted: only their figures stay.
    assert_no_runs_left(&server, &id).await;
}

/// A batch's real runs were deleted once read: none left under any style.
async fn assert_no_runs_left(server: &TestServer, batch: &str) {
    let path = server.dir.path().join("data/test.db").display().to_string();
    let store =
        server::store::SqlStore::open(&path, std::sync::Arc::new(server::clock::SystemClock))
            .await
            .unwrap();
    for style in app::model::lab::LabStyle::ALL {
        let tag = server::lab::real::real_runs_of(batch, style);
        let left = server::store::RunStore::list_runs(&store, &tag, 100)
            .await
            .unwrap();
        assert!(left.is_empty(), "{tag}: {left:?}");
    }
}

/// Cancelling a compare of real runs mid-way: no more runs start, those under way are
/// cancelled, the batch ends cancelled and none of its runs is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compare_of_real_runs_cancelled_mid_way_stops_its_runs_and_leaves_none() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Cancelled for real",
            "command",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let request = json!({"workflow_id": workflow, "runs": 50, "seed": 2, "input": slow_payment()});
    let started = server.post_json("/api/lab/batches", &request).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    payment.until_requests(1, "the first real run paying").await;
    let cancel = server
        .post_json(&format!("/api/lab/batches/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), 202);
    let batch = wait_ended(&server, &format!("/api/lab/batches/{id}"), 30).await;
    assert_eq!(batch["state"], "cancelled", "{batch}");
    assert!(batch["result"].is_null(), "{batch}");
    // Only the first wave was started: 8 runs and the reference run, not 3 × 50.
    let stats = payment.stats().await;
    let paid = stats["keys"].as_object().unwrap().len();
    assert!((1..=9).contains(&paid), "{stats}");
    assert_no_runs_left(&server, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labs_load_mode_calls_real_services_and_measures_their_latency() {
    let [order, payment, fulfillment, email] = demo_shop();
    let server = TestServer::start().await;
    let workflow = server
        .create_workflow(&shop(
            "Loaded for real",
            "event",
            &[&order, &payment, &fulfillment, &email],
        ))
        .await;
    let request = json!({"workflow_id": workflow, "rate": 4, "seconds": 1, "seed": 3, "input": slow_payment()});
    let started = server.post_json("/api/lab/loads", &request).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let test = wait_ended(&server, &format!("/api/lab/loads/{id}"), 90).await;
    assert_eq!(test["state"], "done", "{test}");
    for style in test["styles"].as_array().unwrap() {
        assert_eq!(style["completed"], 4, "{style}");
        let p50 = style["latency_ms"]["p50"].as_u64().unwrap();
        assert!(
            p50 >= server::demo::SLOW_MS,
            "{}: p50 {p50} ms",
            style["style"]
        );
    }
    // Each of the 12 runs paid once, for real.
    let stats = payment.stats().await;
    let keys = stats["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 12, "{stats}");
    assert!(keys.values().all(|k| k["executed"] == 1), "{stats}");
}

/// SIGKILL while the saga's undo call is in flight: after the restart the undo is asked
/// again under its key (`RunResumed` names it), the service cancels the order once, the
/// step is compensated, and the history has no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_undo_asks_again_and_the_undo_is_done_once() {
    use crate::common::ServerProcess;
    let [order, payment, fulfillment, email] = demo_shop();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("undo.db");
    let mut server = ServerProcess::start(&database, &[]).await;
    let created: Value = server
        .post_json(
            "/api/workflows",
            &shop(
                "Undo in flight",
                "command",
                &[&order, &payment, &fulfillment, &email],
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let workflow = created["id"].as_str().unwrap();
    // Order is slow (its work and its undo): the undo call is under way for 1.5 s.
    let started: Value = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": {"card": "expired", "slow": "order"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let run = started["id"].as_str().unwrap().to_string();
    let undo_key = format!("{run}/order/1/undo");
    eventually(
        "the undo call reaching Order",
        Duration::from_secs(15),
        Duration::from_millis(10),
        || async {
            let stats = order.stats().await;
            match stats["keys"][&undo_key]["seen"].as_u64() {
                Some(n) if n >= 1 => Ok(()),
                _ => Err(stats.to_string()),
            }
        },
    )
    .await;
    server.signal_and_wait("-KILL", Duration::from_secs(5));
    let server = ServerProcess::start(&database, &[]).await;
    let report = resumed_end(&server, &run).await;
    assert_eq!(report["status"], "compensated", "{report}");
    let records = collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    let seqs: Vec<u64> = records.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gap");
    let resumed = records
        .iter()
        .find(|r| r["type"] == "RunResumed")
        .expect("resumed");
    assert_eq!(
        resumed["resent"],
        json!([format!("{run}/order/1/1/undo")]),
        "{resumed}"
    );
    assert_eq!(of(&records, "StepCompensated", "order").len(), 1);
    let stats = order.stats().await;
    assert_eq!(stats["keys"][&undo_key]["executed"], 1, "{stats}");
    assert!(
        stats["keys"][&undo_key]["seen"].as_u64() >= Some(2),
        "{stats}"
    );
}
