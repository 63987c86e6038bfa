//! The run's hot path, measured from outside: `cargo bench -p server --bench hotpath`.
//!
//! The real `hybridflow` binary runs in its own process on a fresh SQLite file (WAL,
//! `synchronous=FULL`); this bench is only the load generator: plain HTTP/1.1 over
//! keep-alive connections (a few lines, not a client library, so the client's own cost stays
//! small) and WebSockets. It prints the client's CPU beside the server's so that cost stays
//! visible. A run's completion is observed through the runs feed (`/api/runs/feed`), as a
//! user's page does, or through the run's own stream when the variant watches each run.
//!
//! For each flow — a 3-step command chain, the same as an event chain, a 5-step command
//! chain, the 3-step chain watched over its WebSocket, with `latency_ms: 1` per step (each
//! step its own durable append), and both 3-step chains with each step bound to a demo
//! service in its own process (its work a real HTTP call: the server's added CPU per call
//! is the difference from the simulated chain, over 3) — it prints: one run at a time (p50, p99), 50
//! concurrent clients (runs/s, p50, p99), and the server's CPU per run (all its threads,
//! from `/proc/<pid>/task/*/schedstat`, in nanoseconds).
//!
//! The same load generator drives any other engine's HTTP endpoint, for the comparison
//! script (`server/benches/compare/compare.sh`): `HOTPATH_URL=http://127.0.0.1:1880/flow3
//! HOTPATH_PID=<server pid> HOTPATH_NAME=Node-RED` posts `{}` to the URL and takes its
//! response as the run's end.
//!
//! Knobs: `HOTPATH_SECONDS` (each concurrent phase, default 5), `HOTPATH_SERIAL` (runs one
//! at a time, default 2,000), `HOTPATH_CONCURRENCY` (default 50), `HOTPATH_ONLY=<flow name>`
//! (one flow), `HOTPATH_HOLD=1` (print the server's pid and wait 30 s under load before
//! measuring, for `perf record -p`).
//!
//! The distributed mode: `HOTPATH_CLUSTER=<n>` runs `n` processes on the project's
//! PostgreSQL and NATS (started by `server/services/*.sh` if needed; a fresh schema), the
//! clients spread over them round-robin, every process's CPU counted;
//! `HOTPATH_LOCAL_EVENTS=1` keeps event deliveries in-process (`--local-events`) instead of
//! JetStream.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
    host: String,
    line: String,
}

impl Connection {
    async fn open(host: &str) -> Connection {
        let stream = TcpStream::connect(host).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Connection {
            reader: BufReader::new(stream),
            host: host.to_string(),
            line: String::new(),
        }
    }

    /// POSTs `body` to `path`; returns the status and the response body.
    async fn post(&mut self, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.reader
            .get_mut()
            .write_all(&request)
            .await
            .expect("send");
        self.line.clear();
        self.reader
            .read_line(&mut self.line)
            .await
            .expect("status line");
        let status: u16 = self
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {:?}", self.line));
        let mut length = None;
        let mut chunked = false;
        loop {
            self.line.clear();
            self.reader.read_line(&mut self.line).await.expect("header");
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let mut response = Vec::new();
        if chunked {
            loop {
                self.line.clear();
                self.reader
                    .read_line(&mut self.line)
                    .await
                    .expect("chunk size");
                let size = usize::from_str_radix(self.line.trim(), 16).expect("chunk size");
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).await.expect("chunk");
                if size == 0 {
                    break;
                }
                response.extend_from_slice(&chunk[..size]);
            }
        } else {
            response.resize(length.unwrap_or(0), 0);
            self.reader.read_exact(&mut response).await.expect("body");
        }
        (status, response)
    }
}

/// The `"id"` of a JSON object (the first one in the text).
fn id_of(text: &[u8]) -> String {
    let text = std::str::from_utf8(text).expect("utf-8");
    let start = text.find("\"id\":\"").expect("an id") + 6;
    let end = text[start..].find('"').expect("end of id") + start;
    text[start..end].to_string()
}

/// Where a run's end is waited for: its waiter, or its end seen before anyone waited.
enum Slot {
    Waiting(oneshot::Sender<()>),
    Ended,
}

/// The runs feed: every run's end, handed to whoever waits for it.
#[derive(Default)]
struct Ends {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Ends {
    /// Subscribes to the runs feed now (before any run starts: an end announced before
    /// the subscription would never be seen), then follows it in a task.
    async fn follow(self: Arc<Self>, host: String) {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{host}/api/runs/feed"))
            .await
            .expect("runs feed");
        tokio::spawn(self.read(socket));
    }

    async fn read(
        self: Arc<Self>,
        mut socket: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<TcpStream>,
        >,
    ) {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            if text.contains("\"status\":\"running\"") {
                continue;
            }
            if text.contains("\"type\":\"resync\"") {
                panic!("the runs feed lagged: this client fell behind");
            }
            let id = id_of(text.as_bytes());
            let mut slots = self.slots.lock().unwrap();
            match slots.remove(&id) {
                Some(Slot::Waiting(done)) => {
                    let _ = done.send(());
                }
                _ => {
                    slots.insert(id, Slot::Ended);
                }
            }
        }
    }

    async fn wait(&self, id: String) {
        let (done, ended) = oneshot::channel();
        {
            let mut slots = self.slots.lock().unwrap();
            if let Some(Slot::Ended) = slots.remove(&id) {
                return;
            }
            slots.insert(id, Slot::Waiting(done));
        }
        tokio::time::timeout(Duration::from_secs(30), ended)
            .await
            .expect("the run ended within 30 s")
            .expect("feed alive");
    }
}

/// How a run is started and its end observed.
#[derive(Clone)]
enum Target {
    /// A Hybridflow workflow: POST its runs, the end through the runs feed (or, `watch`,
    /// through the run's own WebSocket).
    Hybridflow {
        /// The processes' addresses: client `i` talks to `hosts[i % n]`.
        hosts: Vec<String>,
        path: String,
        ends: Arc<Ends>,
        watch: bool,
    },
    /// Any engine's request-response endpoint: the response is the run's end.
    Endpoint { host: String, path: String },
}

const RUN_BODY: &[u8] = br#"{"input":{"order":1},"seed":7}"#;

impl Target {
    /// One run, start to end, on `connection`; returns how long it took.
    async fn run(&self, connection: &mut Connection) -> Duration {
        let began = Instant::now();
        match self {
            Target::Hybridflow {
                path, ends, watch, ..
            } => {
                let (status, body) = connection.post(path, RUN_BODY).await;
                assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                let id = id_of(&body);
                if *watch {
                    let host = connection.host.clone();
                    watch_run(&host, &id).await;
                } else {
                    ends.wait(id).await;
                }
            }
            Target::Endpoint { path, .. } => {
                let (status, body) = connection.post(path, b"{}").await;
                assert!(
                    (200..300).contains(&status),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
        began.elapsed()
    }

    /// The address client `i` talks to.
    fn host(&self, i: usize) -> &str {
        match self {
            Target::Hybridflow { hosts, .. } => &hosts[i % hosts.len()],
            Target::Endpoint { host, .. } => host,
        }
    }
}

/// Watches a run over its WebSocket until its last record.
async fn watch_run(host: &str, id: &str) {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{host}/api/runs/{id}/events"))
            .await
            .expect("run stream");
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if text.contains("\"type\":\"RunCompleted\"") {
                let _ = socket.close(None).await;
                return;
            }
        }
    }
    panic!("run {id}'s stream ended before its last record");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Processes besides the servers whose CPU a run costs too (PostgreSQL's and NATS's, in
/// the distributed mode).
static SERVICES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();

/// The pids of the processes named `name` (`pgrep -x`).
fn pids_named(name: &str) -> Vec<u32> {
    let out = std::process::Command::new("pgrep")
        .args(["-x", name])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// One flow's figures.
struct Figures {
    serial_p50: f64,
    serial_p99: f64,
    serial_cpu_ms: f64,
    runs_per_s: f64,
    concurrent_p50: f64,
    concurrent_p99: f64,
    server_cpu_ms: f64,
    client_cpu_ms: f64,
    /// PostgreSQL's and NATS's CPU per run in the concurrent phase (distributed mode).
    services_cpu_ms: Option<f64>,
}

async fn measure(target: &Target, pids: &[u32]) -> Figures {
    let server_cpu = || {
        pids.iter()
            .map(|pid| support::process_cpu_seconds(*pid))
            .sum::<f64>()
    };
    let serial_runs: usize = env_or("HOTPATH_SERIAL", 2_000);
    let seconds: f64 = env_or("HOTPATH_SECONDS", 5.0);
    let concurrency: usize = env_or("HOTPATH_CONCURRENCY", 50);

    // Warm up: connections, caches, the allocator's pools.
    let mut connection = Connection::open(target.host(0)).await;
    for _ in 0..200 {
        target.run(&mut connection).await;
    }

    // One at a time.
    let server_before = server_cpu();
    let mut serial = Vec::with_capacity(serial_runs);
    for _ in 0..serial_runs {
        serial.push(target.run(&mut connection).await);
    }
    let serial_cpu_ms = (server_cpu() - server_before) * 1000.0 / serial_runs as f64;
    serial.sort();

    if std::env::var("HOTPATH_HOLD").is_ok() {
        println!("    holding 30 s of load on pid {pids:?} (perf record -p <pid> now)");
        concurrent(target, concurrency, 30.0).await;
    }

    // Many at once.
    let services = SERVICES.get().cloned().unwrap_or_default();
    let services_cpu = || {
        services
            .iter()
            .map(|pid| support::process_cpu_seconds(*pid))
            .sum::<f64>()
    };
    let services_before = services_cpu();
    let server_before = server_cpu();
    let client_before = support::cpu_seconds();
    let (mut latencies, elapsed) = concurrent(target, concurrency, seconds).await;
    let server_cpu = server_cpu() - server_before;
    let services_used = services_cpu() - services_before;
    let client_cpu = support::cpu_seconds() - client_before;
    latencies.sort();
    let runs = latencies.len() as f64;
    Figures {
        serial_p50: percentile(&serial, 0.5),
        serial_p99: percentile(&serial, 0.99),
        serial_cpu_ms,
        runs_per_s: runs / elapsed.as_secs_f64(),
        concurrent_p50: percentile(&latencies, 0.5),
        concurrent_p99: percentile(&latencies, 0.99),
        server_cpu_ms: server_cpu * 1000.0 / runs,
        client_cpu_ms: client_cpu * 1000.0 / runs,
        services_cpu_ms: (!services.is_empty()).then(|| services_used * 1000.0 / runs),
    }
}

/// `clients` connections each running runs back to back for `seconds`.
async fn concurrent(target: &Target, clients: usize, seconds: f64) -> (Vec<Duration>, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let target = target.clone();
            let stop = stop.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let mut connection = Connection::open(target.host(i)).await;
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    latencies.push(target.run(&mut connection).await);
                    count.fetch_add(1, Ordering::Relaxed);
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("worker"));
    }
    (all, began.elapsed())
}

fn print_header() {
    println!(
        "{:<44} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "flow",
        "1×p50 ms",
        "1×p99 ms",
        "1×cpu ms",
        "runs/s",
        "p50 ms",
        "p99 ms",
        "server cpu",
        "client cpu"
    );
}

fn print_row(name: &str, f: &Figures) {
    println!(
        "{:<44} {:>9.3} {:>9.3} {:>10.3} {:>9.0} {:>9.2} {:>9.2} {:>8.3} ms {:>8.3} ms",
        name,
        f.serial_p50,
        f.serial_p99,
        f.serial_cpu_ms,
        f.runs_per_s,
        f.concurrent_p50,
        f.concurrent_p99,
        f.server_cpu_ms,
        f.client_cpu_ms
    );
    if let Some(services) = f.services_cpu_ms {
        println!(
            "{:<44} PostgreSQL + NATS CPU per run (concurrent phase): {services:.3} ms",
            ""
        );
    }
}

/// A chain of `steps` steps joined by `kind` edges, each taking `latency_ms`.
/// [`chain`] with each step bound to a demo service (`urls`, one per step): its work a real
/// HTTP call, in its own process.
fn real_chain(name: &str, kind: &str, urls: &[String]) -> Value {
    let mut doc = chain(name, urls.len(), kind, 0);
    for (node, url) in doc["nodes"].as_array_mut().unwrap().iter_mut().zip(urls) {
        node["call"] = json!({"http": {"url": url}});
    }
    doc
}

fn chain(name: &str, steps: usize, kind: &str, latency_ms: u64) -> Value {
    let nodes: Vec<_> = (0..steps)
        .map(|i| json!({"id": format!("s{i}"), "label": format!("Step {i}"), "service": format!("Service{i}"), "action": "work", "latency_ms": latency_ms}))
        .collect();
    let edges: Vec<_> = (1..steps)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": kind}))
        .collect();
    json!({"name": name, "nodes": nodes, "edges": edges})
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Ok(url) = std::env::var("HOTPATH_URL") {
        return endpoint(&url).await;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let processes: usize = env_or("HOTPATH_CLUSTER", 0);
    let cluster = if processes > 0 {
        Some(support::ClusterParts::new("hotpath").await)
    } else {
        None
    };
    let mut children = Vec::new();
    let mut hosts = Vec::new();
    for n in 1..=processes.max(1) {
        let addr = support::free_local_addr();
        let process = format!("p{n}");
        let child = match &cluster {
            Some(parts) => {
                let mut extra = vec!["--log", "warn"];
                if std::env::var("HOTPATH_LOCAL_EVENTS").is_ok() {
                    extra.push("--local-events");
                }
                let flags = parts.flags(&process, &extra);
                support::spawn_binary(addr, std::path::Path::new(&parts.database), &flags).await
            }
            None => {
                support::spawn_binary(addr, &dir.path().join("hotpath.db"), &["--log", "warn"])
                    .await
            }
        };
        children.push(Killed(child));
        hosts.push(addr.to_string());
    }
    let pids: Vec<u32> = children.iter().map(|c| c.0.id()).collect();
    if cluster.is_some() {
        // Every PostgreSQL backend lives as long as its connection: those of the servers'
        // pools are among these for the whole bench.
        let mut services = pids_named("postgres");
        services.extend(pids_named("nats-server"));
        let _ = SERVICES.set(services);
    }
    // Three demo services, each its own process (their CPU is not the server's), for the
    // chains on real services.
    let mut urls = Vec::new();
    for name in ["order", "payment", "fulfillment"] {
        let addr = support::free_local_addr();
        children.push(Killed(support::spawn_demo_service(name, addr).await));
        urls.push(format!("http://{addr}/"));
    }
    let host = hosts[0].clone();
    let ends = Arc::new(Ends::default());
    // The runs feed of the first process: with a cluster, every process's runs.
    ends.clone().follow(host.clone()).await;

    let flows = [
        (
            "3-step command chain",
            chain("hot3", 3, "command", 0),
            false,
        ),
        ("3-step event chain", chain("hot3e", 3, "event", 0), false),
        (
            "5-step command chain",
            chain("hot5", 5, "command", 0),
            false,
        ),
        (
            "3-step command chain, watched over its WS",
            chain("hot3w", 3, "command", 0),
            true,
        ),
        (
            "3-step command chain, latency_ms: 1",
            chain("hot3l", 3, "command", 1),
            false,
        ),
        (
            "3-step command chain on real services",
            real_chain("hot3r", "command", &urls),
            false,
        ),
        (
            "3-step event chain on real services",
            real_chain("hot3er", "event", &urls),
            false,
        ),
    ];
    let only = std::env::var("HOTPATH_ONLY").ok();
    match &cluster {
        None => println!(
            "Hybridflow (pid {}, SQLite WAL synchronous=FULL), {} concurrent clients",
            pids[0],
            env_or("HOTPATH_CONCURRENCY", 50usize)
        ),
        Some(_) => println!(
            "Hybridflow, {processes} process(es) {pids:?} on PostgreSQL + NATS (events over {}), {} concurrent clients",
            if std::env::var("HOTPATH_LOCAL_EVENTS").is_ok() { "the driving process" } else { "JetStream" },
            env_or("HOTPATH_CONCURRENCY", 50usize)
        ),
    }
    print_header();
    for (name, document, watch) in flows {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        // A connection of its own: one kept from the flow before sat idle through its
        // measurement, longer than the server keeps an idle connection.
        let mut setup = Connection::open(&host).await;
        let (status, body) = setup
            .post("/api/workflows", document.to_string().as_bytes())
            .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let workflow = id_of(&body);
        let target = Target::Hybridflow {
            hosts: hosts.clone(),
            path: format!("/api/workflows/{workflow}/runs"),
            ends: ends.clone(),
            watch,
        };
        let figures = measure(&target, &pids).await;
        print_row(name, &figures);
    }
    drop(children);
    if let Some(parts) = cluster {
        parts.remove().await;
    }
}

/// The server process, killed when the bench ends, even by a panic.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Drives another engine's endpoint (`HOTPATH_URL`; its server's processes `HOTPATH_PID`,
/// comma-separated when it has several, e.g. Restate's server and its service endpoint).
async fn endpoint(url: &str) {
    let pids: Vec<u32> = std::env::var("HOTPATH_PID")
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    assert!(
        !pids.is_empty(),
        "HOTPATH_PID: the pid of the server behind {url}"
    );
    let name = std::env::var("HOTPATH_NAME").unwrap_or_else(|_| url.to_string());
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let target = Target::Endpoint {
        host: host.to_string(),
        path: format!("/{path}"),
    };
    let figures = measure(&target, &pids).await;
    if std::env::var("HOTPATH_NO_HEADER").is_err() {
        print_header();
    }
    print_row(&name, &figures);
}
