//! Who may talk to the server: Host names (DNS rebinding), Origin and Sec-Fetch-Site for
//! what changes state, body media types, and the headers that stop framing and sniffing.

use crate::common;

use common::{node, TestServer};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

async fn refused(response: reqwest::Response, status: u16, says: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains(says), "{error:?} should say {says:?}");
    body
}

#[tokio::test]
async fn a_rebound_host_is_refused_and_nothing_changes() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    let before = server.workflow_count().await;
    // DNS rebinding: the page's own name, re-resolved to 127.0.0.1. Host and Origin agree,
    // which is exactly why Origin alone is not enough.
    let evil = format!("evil.example:{port}");
    let response = server
        .http
        .get(server.url("/api/workflows"))
        .header("Host", &evil)
        .send()
        .await
        .unwrap();
    refused(response, 421, "does not answer to Host").await;
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Host", &evil)
        .header("Origin", format!("http://{evil}"))
        .json(&json!({"name": "Sneaky", "nodes": [], "edges": []}))
        .send()
        .await
        .unwrap();
    refused(response, 421, "evil.example").await;
    // Pages too: a rebound page cannot even read the app.
    let response = server
        .http
        .get(server.url("/"))
        .header("Host", &evil)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 421);
    // The loopback names with the server's port are served.
    for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let response = server
            .http
            .get(server.url("/api/workflows"))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    assert_eq!(server.workflow_count().await, before);
}

#[tokio::test]
async fn a_public_origin_is_served_behind_a_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir, |s| {
        s.public_origins = vec!["https://flow.example.org".into()];
    })
    .await;
    let create = |host: &str, origin: &str| {
        server
            .http
            .post(server.url("/api/workflows"))
            .header("Host", host.to_string())
            .header("Origin", origin.to_string())
            .json(&json!({"name": "Proxied", "nodes": [node("a")], "edges": []}))
            .send()
    };
    // The proxy forwards the public Host, or its own loopback one: both are served.
    assert_eq!(
        create("flow.example.org", "https://flow.example.org")
            .await
            .unwrap()
            .status(),
        201
    );
    let own = server.addr.to_string();
    assert_eq!(
        create(&own, "https://flow.example.org")
            .await
            .unwrap()
            .status(),
        201
    );
    refused(
        create("other.example.org", "https://other.example.org")
            .await
            .unwrap(),
        421,
        "other.example.org",
    )
    .await;
    refused(
        create(&own, "https://other.example.org").await.unwrap(),
        403,
        "cross-origin",
    )
    .await;
}

#[tokio::test]
async fn cross_site_requests_and_simple_bodies_are_refused() {
    let server = TestServer::start().await;
    let before = server.workflow_count().await;
    let doc = json!({"name": "X", "nodes": [node("a")], "edges": []});
    // No Origin, but the browser says the request comes from another site.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&doc)
        .send()
        .await
        .unwrap();
    refused(response, 403, "Sec-Fetch-Site").await;
    // A "simple" request: JSON sent as text/plain needs no preflight, so it is refused.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Content-Type", "text/plain")
        .body(doc.to_string())
        .send()
        .await
        .unwrap();
    refused(response, 415, "application/json").await;
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap();
    refused(response, 415, "application/x-www-form-urlencoded").await;
    assert_eq!(server.workflow_count().await, before, "nothing was stored");
    // The same-origin browser request and the text import pass.
    let response = server
        .http
        .post(server.url("/api/workflows"))
        .header("Sec-Fetch-Site", "same-origin")
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let response = server
        .http
        .post(server.url("/api/workflows/import?format=text"))
        .header("Content-Type", "text/plain; charset=utf-8")
        .body("a -> b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn websocket_upgrades_from_another_site_are_refused() {
    let server = TestServer::start().await;
    let mut request = server
        .ws_url("/api/runs/feed")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a cross-site upgrade was not refused: {other:?}"),
    }
    let mut request = server
        .ws_url("/api/runs/feed")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", format!("http://{}", server.addr).parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

#[tokio::test]
async fn every_response_forbids_framing_and_sniffing() {
    let server = TestServer::start().await;
    for path in ["/", "/api/health", "/api/nothing", "/lab"] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    }
    // A page's scripts run only with its own nonce: the hydration starter carries it, and
    // no inline script is allowed otherwise.
    let page = server.http.get(server.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    let nonce = script_src
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce in {csp}"));
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script lacks it"
    );
    let again = server.http.get(server.url("/")).send().await.unwrap();
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(nonce),
        "a nonce is used once"
    );
    // Refusals carry them too.
    let response = server
        .http
        .get(server.url("/"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 421);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

/// `count` connections that send half a request's headers and then nothing.
async fn half_sent(server: &TestServer, count: usize) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::new();
    for _ in 0..count {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let _ = stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await;
        held.push(stream);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_hold_no_slot_for_long_and_never_starve_the_others() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir, |s| {
        s.connections.max_open = 40;
        s.connections.max_per_client = 40;
        s.connections.header_read_timeout = Duration::from_millis(800);
    })
    .await;
    // A client of its own each time: no connection kept from before.
    let health = || {
        reqwest::Client::new()
            .get(server.url("/api/health"))
            .header("Connection", "close")
            .timeout(Duration::from_secs(3))
            .send()
    };
    // More half-sent requests than the server takes connections: the one past the cap is
    // answered at once, saying why, rather than left waiting.
    let mut held = half_sent(&server, 60).await;
    let asked = Instant::now();
    let busy = health().await.expect("an answer, not a hang");
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "2");
    assert!(busy
        .text()
        .await
        .unwrap()
        .contains("too many connections are open"));
    assert!(asked.elapsed() < Duration::from_secs(2));
    // The half-sent ones are closed once they have taken longer than the header read
    // timeout; then everyone is served again.
    let mut closed = 0;
    for stream in &mut held {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            // An answer first (408 or 503), then the close.
            Ok(Ok(_)) => {
                if let Ok(Ok(0)) | Ok(Err(_)) =
                    tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await
                {
                    closed += 1
                }
            }
            Err(_) => {}
        }
    }
    assert_eq!(closed, held.len(), "every half-sent request is closed");
    drop(held);
    let ok = health().await.unwrap();
    assert_eq!(ok.status(), 200);
}
