//! A real server for tests: bound to port 0 on loopback, on a fresh SQLite file, stopped
//! when the handle is dropped.

#![allow(dead_code)] // each module uses a different part of this helper

pub mod cluster;
pub mod nats_server;
pub mod proxy;

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use server::config::{Settings, SocketLimits};
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// A server on a fresh database.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir).await
    }

    /// A server on the database inside `dir` (which may already hold one).
    pub async fn start_in(dir: tempfile::TempDir) -> TestServer {
        Self::start_with(dir, SocketLimits::default()).await
    }

    /// A server with its own WebSocket limits, on the database inside `dir`.
    pub async fn start_with(dir: tempfile::TempDir, sockets: SocketLimits) -> TestServer {
        Self::start_configured(dir, |s| s.sockets = sockets).await
    }

    /// A server whose settings `configure` changes, on the database inside `dir`.
    pub async fn start_configured(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Settings),
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::serve(dir, configure, listener).await
    }

    /// A server whose connections have tiny send buffers (accepted sockets inherit the
    /// listener's), so a client that stops reading holds up its sender almost at once.
    pub async fn start_with_small_send_buffers(
        configure: impl FnOnce(&mut Settings),
    ) -> TestServer {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_send_buffer_size(4096).expect("send buffer");
        socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let listener = socket.listen(1024).expect("listen");
        let dir = tempfile::tempdir().expect("temp dir");
        Self::serve(dir, configure, listener).await
    }

    async fn serve(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Settings),
        listener: tokio::net::TcpListener,
    ) -> TestServer {
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings::new(
            dir.path().join("data/test.db").display().to_string(),
            dir.path().join("site").display().to_string(),
        );
        configure(&mut settings);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::run(listener, settings, async {
                let _ = stopped.await;
            })
            .await
            .expect("server run");
        });
        let server = TestServer {
            addr,
            http: reqwest::Client::new(),
            dir,
            stop: Some(stop),
            task: Some(task),
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        wait_healthy(
            &self.http,
            &self.url("/api/health"),
            Duration::from_secs(10),
        )
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Stops the server and hands back its folder, so another server can reopen the database.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"))
    }

    /// `GET path`, decoded as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON body")
    }

    /// How many workflows are stored.
    pub async fn workflow_count(&self) -> usize {
        self.get_json::<Vec<serde_json::Value>>("/api/workflows")
            .await
            .len()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Creates a workflow and returns its id.
    pub async fn create_workflow(&self, doc: &serde_json::Value) -> String {
        let response = self.post_json("/api/workflows", doc).await;
        assert_eq!(response.status(), 201, "create workflow");
        let body: serde_json::Value = response.json().await.expect("json");
        body["id"].as_str().expect("id").to_string()
    }

    /// Starts a run of `workflow` with `input` and waits for its end (30 s: room for
    /// retries against real services): its report and its whole history.
    pub async fn run_to_end(
        &self,
        workflow: &str,
        input: serde_json::Value,
    ) -> (serde_json::Value, Vec<Value>) {
        let started: serde_json::Value = self
            .post_json(
                &format!("/api/workflows/{workflow}/runs"),
                &serde_json::json!({"input": input}),
            )
            .await
            .json()
            .await
            .expect("json");
        self.end_of(started["id"].as_str().expect("a run id")).await
    }

    /// Waits (30 s) for run `id` to end: its report and its whole history.
    pub async fn end_of(&self, id: &str) -> (serde_json::Value, Vec<Value>) {
        let report = eventually(
            "the run's end",
            Duration::from_secs(30),
            Duration::from_millis(50),
            || async {
                let report: serde_json::Value = self.get_json(&format!("/api/runs/{id}")).await;
                if report["status"] == "running" {
                    Err(report.to_string())
                } else {
                    Ok(report)
                }
            },
        )
        .await;
        let records = collect(self.ws_url(&format!("/api/runs/{id}/events?after=0"))).await;
        (report, records)
    }

    /// Polls `GET /api/runs/{id}` until the run is no longer running.
    pub async fn wait_run(&self, run_id: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let run: serde_json::Value = self.get_json(&format!("/api/runs/{run_id}")).await;
            if run["status"] != "running" {
                return run;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "run {run_id} did not finish: {run}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Polls `health` until it answers 200, at most `within`.
async fn wait_healthy(http: &reqwest::Client, health: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(r) = http.get(health).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not become healthy at {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A node of the native format whose work takes `latency_ms`.
pub fn node_taking(id: &str, latency_ms: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "label": id.to_uppercase(),
        "service": format!("{}Service", id),
        "action": "act",
        "position": {"x": 0, "y": 0},
        "latency_ms": latency_ms
    })
}

/// A node of the native format with a short fixed latency.
pub fn node(id: &str) -> serde_json::Value {
    node_taking(id, 20)
}

/// Reads every message of the stream until the server closes it.
pub async fn collect(url: String) -> Vec<Value> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    let mut records = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Some(message) = tokio::time::timeout_at(deadline, socket.next())
        .await
        .expect("stream ended in time")
    {
        match message.expect("frame") {
            Message::Text(text) => records.push(serde_json::from_str(&text).unwrap()),
            Message::Close(frame) => {
                let frame = frame.expect("the server says why it closes");
                assert_eq!(
                    u16::from(frame.code),
                    1000,
                    "a normal closure after the run's end"
                );
                break;
            }
            _ => {}
        }
    }
    records
}

/// The real `hybridflow` binary as a child process, on a database file of the test's, so a
/// test can kill it (SIGKILL), stop it (SIGTERM) and start it again on the same file.
pub struct ServerProcess {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub database: std::path::PathBuf,
    child: Option<std::process::Child>,
}

impl ServerProcess {
    /// Starts the binary on `database` with `extra` flags and waits until it answers.
    pub async fn start(database: &std::path::Path, extra: &[&str]) -> ServerProcess {
        // A free port: bind 0, read it, let it go (the server binds it a moment later).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        // HYBRIDFLOW_TEST_LOGS=<folder>: each process's log, at `info`, in a file of its own
        // there (what happened inside the processes of a test that failed).
        let logs = std::env::var_os("HYBRIDFLOW_TEST_LOGS").map(std::path::PathBuf::from);
        let (stdout, stderr) = match &logs {
            Some(folder) => {
                std::fs::create_dir_all(folder).expect("the logs folder");
                let name = format!("{}-{port}.log", uuid::Uuid::new_v4().simple());
                let file = std::fs::File::create(folder.join(name)).expect("a log file");
                let copy = file.try_clone().expect("a log file");
                (
                    std::process::Stdio::from(file),
                    std::process::Stdio::from(copy),
                )
            }
            None => (std::process::Stdio::null(), std::process::Stdio::inherit()),
        };
        // HYBRIDFLOW_BINARY: another build of the server (what the tests find in an older one).
        let binary = std::env::var("HYBRIDFLOW_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hybridflow").to_string());
        let child = std::process::Command::new(binary)
            .arg("--bind")
            .arg(addr.to_string())
            .arg("--database")
            .arg(database)
            .arg("--log")
            .arg(if logs.is_some() { "info" } else { "warn" })
            .args(extra)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start the hybridflow binary");
        let server = ServerProcess {
            addr,
            http: reqwest::Client::new(),
            database: database.to_path_buf(),
            child: Some(child),
        };
        wait_healthy(
            &server.http,
            &server.url("/api/health"),
            Duration::from_secs(20),
        )
        .await;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends `signal` (e.g. `-TERM`, `-KILL`) and waits for the process to exit, at most
    /// `within`; returns how long it took and its exit status.
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        within: Duration,
    ) -> (Duration, std::process::ExitStatus) {
        let started = std::time::Instant::now();
        let sent = std::process::Command::new("kill")
            .arg(signal)
            .arg(self.pid().to_string())
            .status()
            .expect("kill");
        assert!(sent.success(), "kill {signal} failed");
        let mut child = self.child.take().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return (started.elapsed(), status);
            }
            if started.elapsed() > within {
                let _ = child.kill();
                panic!("the server did not exit within {within:?} of {signal}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON body")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` every `every` until it gives `Some`, for at most `within`: the one way
/// tests wait for something to happen. Past the deadline it panics, saying what never
/// happened and what `check` saw last.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("{what} did not happen within {within:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

/// One figure of the server's Prometheus text (panics naming it when it is absent).
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// The server's Prometheus text, from `url` (its `/metrics`).
pub async fn metrics_at(http: &reqwest::Client, url: &str) -> String {
    http.get(url)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// Waits until a WebSocket to `url` is accepted again (`what`: the slot that frees).
pub async fn socket_accepted(what: &str, url: &str) {
    eventually(
        what,
        Duration::from_secs(5),
        Duration::from_millis(20),
        || async {
            tokio_tungstenite::connect_async(url)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
}

/// Where the tests' PostgreSQL is: `make test` starts it (`server/services/postgres.sh`) and
/// sets this variable to its URL.
pub const POSTGRES_URL_VARIABLE: &str = "HYBRIDFLOW_TEST_POSTGRES";

/// How long a test's schema is kept before a later test drops it (tests never share one).
const TEST_SCHEMA_LIFETIME_SECS: u64 = 3600;

/// The URL of a fresh, empty schema in the tests' PostgreSQL database: every connection made
/// with it works in that schema (`search_path`). Schemas older than an hour, left by earlier
/// test runs, are dropped on the way.
pub async fn postgres_schema() -> String {
    let base = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VARIABLE} is not set: run the tests with `make test-rust`, which starts \
             PostgreSQL (server/services/postgres.sh start) and sets it to \
             `server/services/postgres.sh url`"
        )
    });
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to the tests' PostgreSQL");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'test\\_%'")
            .fetch_all(&mut admin)
            .await
            .expect("list schemas");
    for schema in schemas {
        let born: Option<u64> = schema.split('_').nth(1).and_then(|s| s.parse().ok());
        if born.is_some_and(|born| born + TEST_SCHEMA_LIFETIME_SECS < now) {
            // Another test run may be dropping it too: either may fail, neither matters.
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .execute(&mut admin)
            .await;
        }
    }
    let schema = format!("test_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .expect("create the test's schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Where the tests' NATS server is: `make test` starts it (`server/services/nats.sh`) and
/// sets this variable to its URL.
pub const NATS_URL_VARIABLE: &str = "HYBRIDFLOW_TEST_NATS";

/// The tests' NATS URL, and a subject prefix of this test's own (tests share the server).
/// The events streams of tests older than an hour, left by earlier test runs, are deleted
/// on the way (each cluster creates its own).
pub async fn nats_bus() -> (String, String) {
    let url = std::env::var(NATS_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{NATS_URL_VARIABLE} is not set: run the tests with `make test-rust`, which starts \
             NATS (server/services/nats.sh start) and sets it"
        )
    });
    let client = async_nats::connect(&url)
        .await
        .expect("connect to the tests' NATS");
    let jetstream = async_nats::jetstream::new(client);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut streams = jetstream.streams();
    let mut old = Vec::new();
    while let Some(Ok(info)) = streams.next().await {
        let lifetime = TEST_SCHEMA_LIFETIME_SECS as i64;
        if info.config.name.starts_with("TEST") && info.created.unix_timestamp() + lifetime < now {
            old.push(info.config.name);
        }
    }
    for name in old {
        // Another test run may be deleting it too: either may fail, neither matters.
        let _ = jetstream.delete_stream(&name).await;
    }
    (url, format!("test{}", uuid::Uuid::new_v4().simple()))
}

/// Waits until the batch or load test at `path` is no longer running.
pub async fn wait_ended(server: &TestServer, path: &str, seconds: u64) -> Value {
    eventually(
        &format!("the end of {path}"),
        Duration::from_secs(seconds),
        Duration::from_millis(20),
        || async {
            let value: Value = server.get_json(path).await;
            if value["state"] != "running" {
                Ok(value)
            } else {
                Err(value.to_string())
            }
        },
    )
    .await
}
