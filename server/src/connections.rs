//! Serving HTTP connections (hyper, HTTP/1.1 and HTTP/2, WebSocket upgrades included) with
//! what bounds each one and all of them:
//!
//! - a connection must send a request's headers within [`HEADER_READ_TIMEOUT`], and they
//!   may be at most [`MAX_HEADERS`] headers in [`MAX_HEADER_BYTES`] (HTTP/1), or
//!   [`MAX_HEADER_LIST_BYTES`] (HTTP/2, with at most [`MAX_STREAMS`] requests at once): a
//!   client that opens connections and sends half a request holds each for seconds, not
//!   minutes;
//! - at most [`ConnectionLimits::max_open`] connections are open at once, in all (kept
//!   [`RESERVED_FILES`] below the process's limit on open files, so the database, the bus
//!   and the files always find one) and [`ConnectionLimits::max_per_client`] per client
//!   address. A connection past either has its request answered `503` with `Retry-After`
//!   (it must send it within [`REFUSAL_TIMEOUT`]; at most [`MAX_REFUSING`] are being
//!   answered so at once, others are closed at once), rather than left to wait or to
//!   exhaust the process's files.
//!
//! Shutting down stops accepting and lets the connections open finish their request (the
//! caller bounds how long).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

/// How long a client has to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most headers in an HTTP/1 request.
pub const MAX_HEADERS: usize = 100;
/// The read buffer an HTTP/1 connection may grow to while reading a request's head.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most bytes of headers in an HTTP/2 request.
pub const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
/// Most requests at once on one HTTP/2 connection.
pub const MAX_STREAMS: u32 = 128;
/// Open files kept free for everything but client connections (the database's
/// connections, the bus, the site's files, the history writer).
pub const RESERVED_FILES: usize = 128;
/// How long a connection past the caps has to send the request its `503` answers.
pub const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);
/// Connections past the caps being answered `503` at once; more are closed unanswered.
pub const MAX_REFUSING: usize = 64;
/// Connections open at once unless configured otherwise (and below the file limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 8_192;
/// Connections one client address may hold unless configured otherwise: above the
/// WebSockets a client may hold, with room for its requests.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 1_024;

/// What bounds the connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_open: usize,
    pub max_per_client: usize,
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_open: DEFAULT_MAX_CONNECTIONS,
            max_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

impl ConnectionLimits {
    /// The most connections this process can really hold: its configured cap, kept
    /// [`RESERVED_FILES`] below its limit on open files.
    pub fn effective_max_open(&self) -> usize {
        match open_files_limit() {
            Some(files) => self
                .max_open
                .min(files.saturating_sub(RESERVED_FILES).max(1)),
            None => self.max_open,
        }
    }
}

/// The process's (soft) limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Connections open now, in all and per client address.
#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// One admitted connection's place, given back when it closes.
struct Admitted {
    open: Arc<Mutex<Open>>,
    client: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(n) = open.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

/// Answers every request of a connection past the caps `503`, and closes it.
async fn refuse(stream: tokio::net::TcpStream) {
    let answer = hyper::service::service_fn(|_request| async {
        let body = "too many connections are open; try again in a couple of seconds";
        hyper::Response::builder()
            .status(hyper::StatusCode::SERVICE_UNAVAILABLE)
            .header(hyper::header::RETRY_AFTER, "2")
            .header(hyper::header::CONNECTION, "close")
            .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                body.as_bytes(),
            )))
    });
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(REFUSAL_TIMEOUT)
        .keep_alive(false);
    let served = http1.serve_connection(TokioIo::new(stream), answer);
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT * 2, served).await;
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits
/// for the connections open to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max_open = limits.effective_max_open();
    let open = Arc::new(Mutex::new(Open::default()));
    let refusing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST_BYTES);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files or memory for a moment: wait rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let admitted = admit(&open, peer.ip(), max_open, limits.max_per_client);
        let Some(admitted) = admitted else {
            use std::sync::atomic::Ordering;
            if refusing.fetch_add(1, Ordering::SeqCst) < MAX_REFUSING {
                let refusing = refusing.clone();
                tokio::spawn(async move {
                    refuse(stream).await;
                    refusing.fetch_sub(1, Ordering::SeqCst);
                });
            } else {
                refusing.fetch_sub(1, Ordering::SeqCst);
                drop(stream);
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service =
            hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
                router.clone(),
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                },
            ));
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _admitted = admitted;
            if let Err(e) = watched.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A place for a new connection from `client`, unless the caps are reached.
fn admit(
    open: &Arc<Mutex<Open>>,
    client: IpAddr,
    max_open: usize,
    max_per_client: usize,
) -> Option<Admitted> {
    let mut state = open.lock().unwrap_or_else(|p| p.into_inner());
    let of_client = state.by_client.get(&client).copied().unwrap_or(0);
    if state.total >= max_open || of_client >= max_per_client {
        return None;
    }
    state.total += 1;
    *state.by_client.entry(client).or_default() += 1;
    Some(Admitted {
        open: open.clone(),
        client,
    })
}
