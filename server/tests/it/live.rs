//! The live side of runs: the runs list and the runs feed, `/metrics`, and the limits on
//! WebSockets (how many, how large a client message, how long a silent client lives).

use crate::common;

use std::time::Duration;

use common::{collect, eventually, metric, node_taking, socket_accepted, TestServer};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::config::SocketLimits;
use tokio_tungstenite::tungstenite::{self, Message};

/// a -command-> b ~event~> c, each step 5 ms.
fn chain() -> Value {
    json!({
        "name": "Chain",
        "nodes": [node_taking("a", 5), node_taking("b", 5), node_taking("c", 5)],
        "edges": [
            {"from": "a", "to": "b", "kind": "command"},
            {"from": "b", "to": "c", "kind": "event", "event": "BDone"}
        ]
    })
}

async fn start(server: &TestServer, workflow: &str) -> String {
    let response = server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await;
    assert_eq!(response.status(), 201);
    let run: Value = response.json().await.unwrap();
    run["id"].as_str().unwrap().to_string()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn the_feed_announces_starts_and_ends_and_the_list_shows_them_newest_first() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&chain()).await;
    let (mut feed, _) = tokio_tungstenite::connect_async(server.ws_url("/api/runs/feed"))
        .await
        .expect("feed");

    let first = start(&server, &workflow).await;
    server.wait_run(&first).await;
    let second = start(&server, &workflow).await;
    server.wait_run(&second).await;

    let mut seen = Vec::new();
    while seen.len() < 4 {
        seen.push(next_text(&mut feed).await);
    }
    let at = |id: &str, status: &str| {
        seen.iter()
            .position(|m| m["type"] == "run" && m["id"] == id && m["status"] == status)
            .unwrap_or_else(|| panic!("{id} {status} not in {seen:?}"))
    };
    assert!(at(&first, "running") < at(&first, "completed"));
    assert!(at(&first, "completed") < at(&second, "running"));
    assert!(at(&second, "running") < at(&second, "completed"));
    let ended = &seen[at(&second, "completed")];
    assert_eq!(ended["workflow_id"], workflow.as_str());
    assert_eq!(ended["messages"]["commands"], 1, "{ended}");
    assert_eq!(ended["messages"]["events"], 1, "{ended}");
    assert!(ended["ended_at"].as_i64().unwrap() >= ended["started_at"].as_i64().unwrap());

    let list: Vec<Value> = server
        .get_json(&format!("/api/workflows/{workflow}/runs"))
        .await;
    let ids: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(list[1]["status"], "completed");
    assert_eq!(list[1]["messages"]["deliveries"], 1);
    let one: Vec<Value> = server
        .get_json(&format!("/api/workflows/{workflow}/runs?limit=1"))
        .await;
    assert_eq!(one.len(), 1);

    let refused = server
        .http
        .get(server.url(&format!("/api/workflows/{workflow}/runs?limit=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("`limit` must be from 1 to 200"),
        "{body}"
    );
    let missing = server
        .http
        .get(server.url("/api/workflows/nope/runs"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn metrics(server: &TestServer) -> String {
    let response = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_runs_steps_messages_writes_and_sockets() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&chain()).await;
    let run = start(&server, &workflow).await;
    server.wait_run(&run).await;

    let text = metrics(&server).await;
    assert_eq!(metric(&text, "hybridflow_runs_started_total"), 1.0);
    assert_eq!(
        metric(&text, "hybridflow_runs_ended_total{status=\"completed\"}"),
        1.0
    );
    assert_eq!(metric(&text, "hybridflow_runs_in_progress"), 0.0);
    assert_eq!(metric(&text, "hybridflow_step_executions_total"), 3.0);
    assert_eq!(
        metric(&text, "hybridflow_messages_total{kind=\"command\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "hybridflow_messages_total{kind=\"delivery\"}"),
        1.0
    );
    assert!(metric(&text, "hybridflow_history_write_seconds_count") >= 3.0);
    assert_eq!(metric(&text, "hybridflow_websockets_open"), 0.0);

    let (feed, _) = tokio_tungstenite::connect_async(server.ws_url("/api/runs/feed"))
        .await
        .unwrap();
    assert_eq!(
        metric(&metrics(&server).await, "hybridflow_websockets_open"),
        1.0
    );
    drop(feed);
    eventually(
        "the socket counted closed",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || async {
            match metric(&metrics(&server).await, "hybridflow_websockets_open") {
                0.0 => Ok(()),
                open => Err(format!("{open} open")),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn sockets_past_the_limit_are_refused_with_503_until_one_closes() {
    let limits = SocketLimits {
        max_open: 2,
        ..SocketLimits::default()
    };
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), limits).await;
    let url = server.ws_url("/api/runs/feed");
    let (first, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let (_second, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("the limit is 2"), "{body}");
        }
        other => panic!("a third socket was not refused: {other:?}"),
    }
    drop(first);
    socket_accepted("the freed slot reused", &url).await;
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed_one_that_answers_stays() {
    let limits = SocketLimits {
        ping_every: Duration::from_millis(100),
        ..SocketLimits::default()
    };
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), limits).await;
    let url = server.ws_url("/api/runs/feed");

    // Reading answers pings (tungstenite queues the pong): this one stays open, read all
    // along by its own task.
    let (answering, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let reader = tokio::spawn(async move {
        let mut answering = answering;
        let mut pings = 0;
        let until = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(Some(message)) = tokio::time::timeout_at(until, answering.next()).await {
            match message.expect("frame") {
                Message::Ping(_) => pings += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        (answering, pings)
    });

    // This one reads nothing, so it answers nothing: closed as dead (1001).
    let (mut silent, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut closed = None;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(2), silent.next()).await
    {
        if let Message::Close(frame) = message {
            closed = frame;
            break;
        }
    }
    let frame = closed.expect("the silent client got a close frame");
    assert_eq!(u16::from(frame.code), 1001);
    assert!(frame.reason.contains("no answer to pings"));

    // The answering client was pinged all along and is still served.
    let (mut answering, pings) = reader.await.unwrap();
    assert!(pings >= 8, "pinged {pings} times");
    answering.send(Message::Ping(vec![7].into())).await.unwrap();
    let pong = loop {
        match answering.next().await.expect("open").expect("frame") {
            Message::Pong(data) => break data,
            _ => continue,
        }
    };
    assert_eq!(pong.as_ref(), [7]);
}

#[tokio::test]
async fn a_client_message_over_the_cap_ends_the_connection() {
    let server = TestServer::start().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(server.ws_url("/api/runs/feed"))
        .await
        .unwrap();
    let big = "x".repeat(server::api::events::MAX_CLIENT_MESSAGE_BYTES + 1);
    let _ = socket.send(Message::Text(big.into())).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server kept an oversize client");
}

/// `start` publishes Go to ten event cycles (x_i ~> y_i ~> x_i) that run, without latency,
/// until the runaway limit: tens of thousands of records, as fast as the engine goes.
/// (Its first step takes 300 ms, so a watcher that connects right after the start reads a
/// short history and is live, not still reading the store, when the loops begin.)
fn busy_loops() -> Value {
    let mut nodes = vec![node_taking("start", 300)];
    let mut edges = Vec::new();
    for i in 0..10 {
        let (x, y) = (format!("x{i}"), format!("y{i}"));
        nodes.push(node_taking(&x, 0));
        nodes.push(node_taking(&y, 0));
        edges.push(json!({"from": "start", "to": x, "kind": "event", "event": "Go"}));
        edges.push(json!({"from": x, "to": y, "kind": "event"}));
        edges.push(json!({"from": y, "to": x, "kind": "event"}));
    }
    json!({"name": "Busy loops", "nodes": nodes, "edges": edges})
}

#[tokio::test]
async fn a_watcher_that_falls_behind_catches_up_from_history_without_gap_or_double() {
    // This watcher stops reading on purpose for as long as the run takes: no send timeout.
    let server = TestServer::start_with_small_send_buffers(|s| {
        s.sockets.send_timeout = Duration::from_secs(600);
    })
    .await;
    let workflow = server.create_workflow(&busy_loops()).await;
    let run = start(&server, &workflow).await;
    // A client with a tiny receive buffer that reads nothing while the run produces far
    // more than the live buffer holds: the server's side of it must fall behind.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let url = server.ws_url(&format!("/api/runs/{run}/events?after=0"));
    let (mut slow, _) = tokio_tungstenite::client_async(url.as_str(), stream)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    eventually(
        "six live buffers of history",
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async {
            let view: Value = server.get_json(&format!("/api/runs/{run}")).await;
            let last = view["last_seq"].as_u64().unwrap();
            if last >= 6 * server::engine::hub::LIVE_BUFFER as u64 {
                Ok(())
            } else {
                Err(format!("last seq {last}"))
            }
        },
    )
    .await;
    let cancel = server
        .post_json(&format!("/api/runs/{run}/cancel"), &json!({}))
        .await;
    // (409: the loops already reached the cap on step executions and the run ended.)
    assert!(
        cancel.status().is_success() || cancel.status() == 409,
        "{}",
        cancel.status()
    );
    server.wait_run(&run).await;

    let mut seqs = Vec::new();
    loop {
        let message = tokio::time::timeout_at(deadline, slow.next())
            .await
            .expect("the whole history in time")
            .expect("open")
            .expect("frame");
        match message {
            Message::Text(text) => {
                let record: Value = serde_json::from_str(&text).unwrap();
                seqs.push(record["seq"].as_u64().unwrap());
            }
            Message::Close(frame) => {
                assert_eq!(u16::from(frame.unwrap().code), 1000);
                break;
            }
            _ => {}
        }
    }
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert!(seqs == expected, "records missing or doubled");
    assert!(seqs.len() >= 6 * server::engine::hub::LIVE_BUFFER);
    let caught_up = metric(&metrics(&server).await, "hybridflow_stream_catch_ups_total");
    assert!(caught_up >= 1.0, "the watcher never fell behind");
}

/// Forty zero-latency steps chained by events: every hop happens at once, inside the run.
fn instant_event_chain(steps: usize) -> Value {
    let nodes: Vec<Value> = (0..steps)
        .map(|i| node_taking(&format!("s{i}"), 0))
        .collect();
    let edges: Vec<Value> = (1..steps)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "event"}))
        .collect();
    json!({"name": "Instant chain", "nodes": nodes, "edges": edges})
}

#[tokio::test]
async fn work_due_at_once_is_written_in_one_batch_and_the_history_stays_complete() {
    let server = TestServer::start().await;
    let workflow = server.create_workflow(&instant_event_chain(40)).await;
    let run = start(&server, &workflow).await;
    let ended = server.wait_run(&run).await;
    assert_eq!(ended["status"], "completed");

    let history = collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    let seqs: Vec<u64> = history.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let started = history
        .iter()
        .filter(|r| r["type"] == "StepStarted")
        .count();
    assert_eq!(started, 40);
    // 40 starts, 40 successes, 39 publications and 39 deliveries, yet no more than a few
    // writes: the in-process deliveries and zero-delay attempts join the open batch.
    let writes = metric(
        &metrics(&server).await,
        "hybridflow_history_write_seconds_count",
    );
    assert!(
        writes <= 3.0,
        "{writes} writes for {} records",
        history.len()
    );
}
