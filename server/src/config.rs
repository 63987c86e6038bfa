//! The server's flags and environment variables.

use std::net::SocketAddr;

use clap::Parser;

/// The built site, as `cargo leptos build` leaves it in this workspace.
const DEFAULT_SITE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");

/// Hybridflow: draw, run and compare orchestrated and choreographed workflows.
#[derive(Clone, Debug, Parser)]
#[command(name = "hybridflow", version)]
pub struct Config {
    /// Address to listen on. Loopback by default: expose it deliberately.
    #[arg(long, env = "HYBRIDFLOW_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// The SQLite database: a file path (its folder is created) or a `sqlite:` URL.
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
}

pub const DEFAULT_MAX_WEBSOCKETS: usize = 4096;
pub const DEFAULT_WS_PING_SECS: f64 = 20.0;

impl Config {
    pub fn settings(&self) -> Settings {
        Settings {
            database: self.database.clone(),
            site_root: self.site_root.clone(),
            sockets: SocketLimits {
                max_open: self.max_websockets,
                ping_every: std::time::Duration::from_secs_f64(
                    self.ws_ping_secs.clamp(0.05, 3600.0),
                ),
            },
        }
    }
}

/// What [`crate::run`] needs, independent of how it was configured.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database: String,
    pub site_root: String,
    pub sockets: SocketLimits,
}

/// How many WebSockets may be open, and how often each is pinged.
#[derive(Clone, Copy, Debug)]
pub struct SocketLimits {
    pub max_open: usize,
    pub ping_every: std::time::Duration,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            max_open: DEFAULT_MAX_WEBSOCKETS,
            ping_every: std::time::Duration::from_secs_f64(DEFAULT_WS_PING_SECS),
        }
    }
}
