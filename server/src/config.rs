//! The server's flags and environment variables.

use std::net::SocketAddr;

use clap::Parser;

/// The built site, as `make build` (the site builder, `server/site`) leaves it.
const DEFAULT_SITE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");

/// Hybridflow: draw, run and compare orchestrated and choreographed workflows.
#[derive(Clone, Debug, Parser)]
#[command(name = "hybridflow", version)]
pub struct Config {
    /// Address to listen on. Loopback by default: expose it deliberately.
    #[arg(long, env = "HYBRIDFLOW_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// The database: an SQLite file path (its folder is created) or `sqlite:` URL, or a
    /// PostgreSQL URL (`postgres://user:password@host:port/name`) for several processes
    /// sharing one database.
    #[arg(long, env = "DATABASE_URL", default_value = "data/hybridflow.db")]
    pub database: String,
    /// Log filter in tracing's EnvFilter syntax, e.g. `info` or `server=debug,info`.
    #[arg(long, env = "HYBRIDFLOW_LOG", default_value = "info")]
    pub log: String,
    /// Folder of the built site (the `pkg/` bundle and the public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = DEFAULT_SITE_ROOT)]
    pub site_root: String,
    /// Most WebSockets open at once (run streams and runs feeds); more are refused with 503.
    #[arg(long, env = "HYBRIDFLOW_MAX_WEBSOCKETS", default_value_t = DEFAULT_MAX_WEBSOCKETS)]
    pub max_websockets: usize,
    /// Seconds between pings on a WebSocket; a client silent for two of them is closed.
    #[arg(long, env = "HYBRIDFLOW_WS_PING_SECS", default_value_t = DEFAULT_WS_PING_SECS)]
    pub ws_ping_secs: f64,
    /// Most WebSockets one client (one IP address) may have open at once; more get 503.
    #[arg(long, env = "HYBRIDFLOW_MAX_WEBSOCKETS_PER_CLIENT", default_value_t = DEFAULT_MAX_WEBSOCKETS_PER_CLIENT)]
    pub max_websockets_per_client: usize,
    /// Seconds a WebSocket send may wait on a client that does not read; then it is closed
    /// with 1013 (try again later), and the browser resumes where it was.
    #[arg(long, env = "HYBRIDFLOW_WS_SEND_TIMEOUT_SECS", default_value_t = DEFAULT_WS_SEND_TIMEOUT_SECS)]
    pub ws_send_timeout_secs: f64,
    /// Most connections open at once (kept 128 below the process's limit on open files);
    /// more are answered 503 and closed.
    #[arg(long, env = "HYBRIDFLOW_MAX_CONNECTIONS", default_value_t = crate::connections::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Most connections one client (one IP address) may hold open at once; more get 503.
    #[arg(long, env = "HYBRIDFLOW_MAX_CONNECTIONS_PER_CLIENT", default_value_t = crate::connections::DEFAULT_MAX_CONNECTIONS_PER_CLIENT)]
    pub max_connections_per_client: usize,
    /// Most runs in progress at once (started here and not yet ended); more get 503.
    #[arg(long, env = "HYBRIDFLOW_MAX_RUNS", default_value_t = DEFAULT_MAX_RUNS_IN_FLIGHT)]
    pub max_runs: usize,
    /// Ended runs kept per workflow; older ones are deleted with their history in the
    /// background (0 keeps every run).
    #[arg(long, env = "HYBRIDFLOW_KEEP_RUNS", default_value_t = DEFAULT_KEEP_RUNS)]
    pub keep_runs: usize,
    /// An origin (`https://host[:port]`) this server is also reached at, e.g. behind a reverse
    /// proxy or on a LAN; repeat the flag (or separate with commas) for several. Requests to
    /// any other Host than these and the loopback names are refused.
    #[arg(
        long = "public-origin",
        env = "HYBRIDFLOW_PUBLIC_ORIGIN",
        value_delimiter = ','
    )]
    pub public_origins: Vec<String>,
    /// This process's id among the processes sharing one database (PostgreSQL): unique
    /// among them and the same across its restarts, so a restarted process takes its own
    /// runs back at once. Default: `<host name>:<port>`.
    #[arg(long, env = "HYBRIDFLOW_PROCESS_ID")]
    pub process_id: Option<String>,
    /// Milliseconds a process's lease lasts unless renewed (a third of it between
    /// renewals): how long the runs of a process that died wait before another takes them.
    #[arg(long, env = "HYBRIDFLOW_LEASE_MS", default_value_t = DEFAULT_LEASE_MS)]
    pub lease_ms: u64,
    /// The NATS server (`nats://host:port`) between the processes sharing one PostgreSQL
    /// database: a run is live on every process, the runs feed is the cluster's, cancel and
    /// fault requests reach the process that drives the run. Without it each process serves
    /// live only the runs it drives.
    #[arg(long, env = "HYBRIDFLOW_BUS")]
    pub bus: Option<String>,
    /// The first token of this cluster's NATS subjects: clusters sharing one NATS server
    /// need different ones.
    #[arg(long, env = "HYBRIDFLOW_BUS_PREFIX", default_value = crate::engine::nats::DEFAULT_PREFIX)]
    pub bus_prefix: String,
    /// With `--bus`: keep event deliveries between a run's steps inside the process that
    /// drives the run, instead of sending them through the bus's JetStream stream.
    #[arg(long, env = "HYBRIDFLOW_LOCAL_EVENTS")]
    pub local_events: bool,
    /// A NATS server (`nats://host:port`) for steps bound to a service by a NATS subject
    /// (request/reply), when this process is alone (with `--bus` the bus's connection is
    /// used).
    #[arg(long, env = "HYBRIDFLOW_NATS")]
    pub nats: Option<String>,
    /// A host (`HOST` or `HOST:PORT`) steps bound to real services may call, besides
    /// loopback (always allowed, and the only one by default); repeat the flag (or separate
    /// with commas) for several. A workflow calling any other is refused when saved.
    #[arg(
        long = "allow-service",
        env = "HYBRIDFLOW_ALLOW_SERVICE",
        value_delimiter = ','
    )]
    pub allow_services: Vec<String>,
}

/// [`crate::engine::DEFAULT_LEASE`] in milliseconds.
pub const DEFAULT_LEASE_MS: u64 = crate::engine::DEFAULT_LEASE.as_millis() as u64;
/// The shortest lease: renewals must not crowd the database.
pub const MIN_LEASE_MS: u64 = 300;
/// The longest lease: a dead process's runs should not wait longer.
pub const MAX_LEASE_MS: u64 = 600_000;

pub const DEFAULT_MAX_WEBSOCKETS: usize = 4096;
pub const DEFAULT_WS_PING_SECS: f64 = 20.0;
/// One browser tab holds two (its run stream and the runs feed): 256 is a lot of tabs, and
/// still stops one client from holding every slot.
pub const DEFAULT_MAX_WEBSOCKETS_PER_CLIENT: usize = 256;
/// Long enough for a slow link to take a catch-up, short enough that a stalled reader frees
/// its slot and its buffered records.
pub const DEFAULT_WS_SEND_TIMEOUT_SECS: f64 = 10.0;
/// The engine bench holds 10,000 runs of a 10-step flow in flight in a few hundred MB
/// (`cargo bench -p server --bench engine`, memory part): this is that figure.
pub const DEFAULT_MAX_RUNS_IN_FLIGHT: usize = 10_000;
/// A few hundred runs per workflow: every recent run stays inspectable, storage stays bounded.
pub const DEFAULT_KEEP_RUNS: usize = 300;

impl Config {
    pub fn settings(&self) -> Settings {
        let seconds = |s: f64| std::time::Duration::from_secs_f64(s.clamp(0.05, 3600.0));
        Settings {
            database: self.database.clone(),
            site_root: self.site_root.clone(),
            sockets: SocketLimits {
                max_open: self.max_websockets,
                max_per_client: self.max_websockets_per_client,
                ping_every: seconds(self.ws_ping_secs),
                send_timeout: seconds(self.ws_send_timeout_secs),
            },
            connections: crate::connections::ConnectionLimits {
                max_open: self.max_connections.max(1),
                max_per_client: self.max_connections_per_client.max(1),
                ..Default::default()
            },
            max_runs_in_flight: self.max_runs,
            keep_runs: self.keep_runs,
            retention_sweep: crate::retention::SWEEP_EVERY,
            public_origins: self.public_origins.clone(),
            bus: self.bus.clone().filter(|url| !url.trim().is_empty()),
            bus_prefix: self.bus_prefix.clone(),
            local_events: self.local_events,
            allow_services: self.allow_services.clone(),
            nats: self.nats.clone().filter(|url| !url.trim().is_empty()),
            membership: crate::engine::Membership {
                process: self
                    .process_id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .unwrap_or_else(|| format!("{}:{}", host_name(), self.bind.port())),
                lease: std::time::Duration::from_millis(
                    self.lease_ms.clamp(MIN_LEASE_MS, MAX_LEASE_MS),
                ),
            },
        }
    }
}

/// This machine's name (`localhost` when it cannot be read).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// What [`crate::run`] needs, independent of how it was configured.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database: String,
    pub site_root: String,
    pub sockets: SocketLimits,
    /// The accept loop's limits (header timeout, connections in all and per client).
    pub connections: crate::connections::ConnectionLimits,
    pub max_runs_in_flight: usize,
    /// Ended runs kept per workflow (0: all).
    pub keep_runs: usize,
    /// How often the retention sweep runs.
    pub retention_sweep: std::time::Duration,
    pub public_origins: Vec<String>,
    /// This process among those sharing the database, and its lease.
    pub membership: crate::engine::Membership,
    /// The NATS URL of the bus between processes, if any.
    pub bus: Option<String>,
    /// The first token of the bus's subjects.
    pub bus_prefix: String,
    /// Event deliveries stay in the driving process even with a bus.
    pub local_events: bool,
    /// Hosts steps may call besides loopback (`--allow-service`).
    pub allow_services: Vec<String>,
    /// The NATS server for calls over NATS when there is no bus (`--nats`).
    pub nats: Option<String>,
}

impl Settings {
    /// The defaults, on `database` with the site in `site_root`.
    pub fn new(database: impl Into<String>, site_root: impl Into<String>) -> Settings {
        Settings {
            database: database.into(),
            site_root: site_root.into(),
            sockets: SocketLimits::default(),
            connections: Default::default(),
            max_runs_in_flight: DEFAULT_MAX_RUNS_IN_FLIGHT,
            keep_runs: DEFAULT_KEEP_RUNS,
            retention_sweep: crate::retention::SWEEP_EVERY,
            public_origins: Vec::new(),
            membership: crate::engine::Membership::default(),
            bus: None,
            bus_prefix: crate::engine::nats::DEFAULT_PREFIX.into(),
            local_events: false,
            allow_services: Vec::new(),
            nats: None,
        }
    }
}

/// How many WebSockets may be open, in all and per client, how often each is pinged, and
/// how long a send may wait on a client that does not read.
#[derive(Clone, Copy, Debug)]
pub struct SocketLimits {
    pub max_open: usize,
    pub max_per_client: usize,
    pub ping_every: std::time::Duration,
    pub send_timeout: std::time::Duration,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            max_open: DEFAULT_MAX_WEBSOCKETS,
            max_per_client: DEFAULT_MAX_WEBSOCKETS_PER_CLIENT,
            ping_every: std::time::Duration::from_secs_f64(DEFAULT_WS_PING_SECS),
            send_timeout: std::time::Duration::from_secs_f64(DEFAULT_WS_SEND_TIMEOUT_SECS),
        }
    }
}
