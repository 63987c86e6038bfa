//! What the benchmarks share.

#![allow(dead_code)] // each bench uses a different part

use std::time::Duration;

use serde_json::Value;

/// The fault suite's TCP proxy (`server/tests/it/common/proxy.rs`), for the chaos bench's
/// nemeses: one file, shared.
#[path = "../../tests/it/common/proxy.rs"]
pub mod proxy;

/// The fault suite's NATS server of its own (`server/tests/it/common/nats_server.rs`).
#[path = "../../tests/it/common/nats_server.rs"]
pub mod nats_server;

/// This process's resident memory, in MB.
pub fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process so far.
pub fn cpu_seconds() -> f64 {
    process_cpu_seconds(std::process::id())
}

/// CPU time (user + system) of every thread of process `pid`, in seconds, to the
/// nanosecond (`schedstat`'s first field); falls back to `stat`'s clock ticks.
pub fn process_cpu_seconds(pid: u32) -> f64 {
    let mut total_ns = 0u64;
    let mut found = false;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Some(ns) = std::fs::read_to_string(task.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            {
                total_ns += ns;
                found = true;
            }
        }
    }
    if found {
        return total_ns as f64 / 1e9;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks of 1/100 s).
    (ticks(11) + ticks(12)) / 100.0
}

/// A loopback address with a port free right now (bound, read, let go: the server binds it
/// a moment later).
pub fn free_local_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// The real `hybridflow` binary (or `HYBRIDFLOW_BINARY`) on `addr` and `database`, with `extra` flags, its output
/// discarded; once it answers `GET /api/health`.
pub async fn spawn_binary(
    addr: std::net::SocketAddr,
    database: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    // HYBRIDFLOW_BINARY: another build of the server (an A/B comparison in one sitting).
    let binary = std::env::var("HYBRIDFLOW_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hybridflow").to_string());
    let child = std::process::Command::new(binary)
        .args(["--bind", &addr.to_string(), "--database"])
        .arg(database)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start hybridflow");
    healthy(child, &format!("http://{addr}/api/health"), "the server").await
}

/// `child` once `url` answers with success (30 s at most; killed, and a panic, if not).
async fn healthy(mut child: std::process::Child, url: &str, what: &str) -> std::process::Child {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return child;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} did not start");
}

/// `hybridflow demo-service <name>` on `addr` (a real process, its own CPU), once it
/// answers `GET /health`.
pub async fn spawn_demo_service(name: &str, addr: std::net::SocketAddr) -> std::process::Child {
    let binary = std::env::var("HYBRIDFLOW_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hybridflow").to_string());
    let child = std::process::Command::new(binary)
        .args(["demo-service", name, "--bind", &addr.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a demo service");
    healthy(
        child,
        &format!("http://{addr}/health"),
        &format!("the demo service {name}"),
    )
    .await
}

/// A real server on a free port and a fresh SQLite file.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let mut settings = server::config::Settings::new(
            dir.path().join("bench.db").display().to_string(),
            dir.path().join("site").display().to_string(),
        );
        // The benches are one client holding many sockets and runs on purpose.
        settings.sockets.max_per_client = usize::MAX;
        settings.max_runs_in_flight = usize::MAX;
        settings.keep_runs = 0;
        tokio::spawn(async move {
            server::run(listener, settings, std::future::pending())
                .await
                .expect("serve")
        });
        let server = Server {
            base: format!("127.0.0.1:{}", addr.port()),
            http: reqwest::Client::new(),
            _dir: dir,
        };
        for _ in 0..200 {
            if server.get("/api/health").await.is_some() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    pub async fn get(&self, path: &str) -> Option<Value> {
        let r = self
            .http
            .get(format!("http://{}{path}", self.base))
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("http://{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .unwrap_or(Value::Null) // e.g. 202 with no body
    }

    /// Creates a workflow, or starts a run of one: the new thing's id.
    pub async fn create(&self, path: &str, body: Value) -> String {
        self.post(path, body).await["id"]
            .as_str()
            .expect("an id")
            .to_string()
    }
}

/// Starts one of the project's services (`postgres` or `nats`, by
/// `server/services/<name>.sh start`: installed and started if missing) and returns its URL.
#[allow(dead_code)] // the benches that run a cluster use it
pub fn service_url(name: &str) -> String {
    let script = format!("{}/services/{name}.sh", env!("CARGO_MANIFEST_DIR"));
    let started = std::process::Command::new(&script)
        .arg("start")
        .status()
        .expect("run the service script");
    assert!(started.success(), "{script} start failed");
    let url = std::process::Command::new(&script)
        .arg("url")
        .output()
        .expect("the service's URL");
    String::from_utf8(url.stdout).unwrap().trim().to_string()
}

/// A cluster's shared parts for a bench: a fresh schema in the project's PostgreSQL (its URL,
/// with `search_path` set) and the project's NATS with a subject prefix of its own.
#[allow(dead_code)] // the benches that run a cluster use it
pub struct ClusterParts {
    pub database: String,
    pub bus: String,
    pub prefix: String,
    base: String,
    schema: String,
}

#[allow(dead_code)] // the benches that run a cluster use it
impl ClusterParts {
    pub async fn new(name: &str) -> ClusterParts {
        let base = service_url("postgres");
        let bus = service_url("nats");
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let schema = format!("bench_{name}_{stamp}");
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut admin)
            .await
            .expect("a schema for the bench");
        ClusterParts {
            database: format!("{base}?options=-c%20search_path%3D{schema}"),
            bus,
            prefix: schema.replace('_', ""),
            base,
            schema,
        }
    }

    /// Drops the bench's schema (its runs and history) and its events stream once its
    /// processes are stopped.
    pub async fn remove(&self) {
        if let Ok(client) = async_nats::connect(&self.bus).await {
            let stream = format!("{}_EVENTS", self.prefix.to_uppercase());
            let _ = async_nats::jetstream::new(client)
                .delete_stream(&stream)
                .await;
        }
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&self.base)
            .await
            .expect("connect to PostgreSQL");
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.schema
        )))
        .execute(&mut admin)
        .await;
    }

    /// The same PostgreSQL schema, on another bus (a NATS server of the caller's own).
    pub fn on_bus(mut self, bus: String) -> ClusterParts {
        self.bus = bus;
        self
    }

    /// The flags of cluster member `process` (plus `extra`).
    pub fn flags<'a>(&'a self, process: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut flags = vec![
            "--bus",
            self.bus.as_str(),
            "--bus-prefix",
            self.prefix.as_str(),
            "--process-id",
            process,
        ];
        flags.extend_from_slice(extra);
        flags
    }
}
