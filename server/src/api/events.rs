//! `GET /api/runs/{id}/events?after=<seq>`: a WebSocket that sends the run's history records
//! after `after` from the store, then the live ones, each exactly once and in `seq` order.
//! `GET /api/runs/feed`: a WebSocket that sends every run start and end ([`RunFeed`]).
//!
//! Both are admitted against [`SocketLimits::max_open`] and [`SocketLimits::max_per_client`]
//! (counted atomically at admission: two upgrades cannot both take the last slot; `503`
//! past either), refuse client messages over [`MAX_CLIENT_MESSAGE_BYTES`], and ping every
//! [`SocketLimits::ping_every`]: a client that answers nothing for two intervals is closed as
//! dead. A send that waits longer than [`SocketLimits::send_timeout`] on a client that does
//! not read closes it with `1013` (try again later): the browser resumes from `after`.
//! History is read from the store in pages of [`HISTORY_PAGE`] records, so a catch-up holds
//! one page in memory whatever the run's length.
//!
//! Gap-free by construction: the watcher subscribes to the live channel *before* it reads the
//! store, and the engine stores a record before it broadcasts it; so every record is either
//! in the store read or arrives live, and `seq` filters the overlap. A watcher that lags
//! behind the live buffer catches up from the store instead of losing records.

use app::model::api::ErrorBody;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::RunFeed;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Response;
use futures::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::error::AppError;
use super::runs::run_not_found;
use super::AppState;
use crate::config::SocketLimits;
use crate::engine::hub::Watch;
use crate::engine::peers::{Link, RecordBatches};
use crate::engine::stopped;
use crate::metrics::Metrics;
use crate::store::{JsonText, StoreError, StoredRecord, HISTORY_PAGE};

/// Runs-feed messages sent in one write at most (those already waiting when one arrives).
pub const FEED_WRITE_MESSAGES: usize = 64;

/// Clients only ever send control frames here; anything larger than this is refused.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Send the records after this seq (0: the whole history).
    #[serde(default)]
    after: u64,
}

#[utoipa::path(get, path = "/api/runs/{id}/events", tag = "live", summary = "A run's history, live (WebSocket)", description = "Upgrade to a WebSocket: every history record after `after`, then each new one as it is written; 1000 when the run ends, 1001 on shutdown, 1013 for a reader too slow. The Origin must be this server's.", params(("id" = String, Path, description = "The run's id"), EventsQuery), responses((status = 101, description = "Switching to the WebSocket"), (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody), (status = 404, description = "No such thing", body = ErrorBody), (status = 503, description = "Too many WebSockets", body = ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(run_id): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(format!(
            "invalid query: `after` must be a non-negative integer ({})",
            e.body_text()
        ))
    })?;
    let (upgrade, open) = admit(&state, peer.ip(), upgrade)?;
    // A run in progress or just ended is known without reading the store.
    if !state.engine.hub().knows(&run_id) && state.store.get_run(&run_id).await?.is_none() {
        return Err(run_not_found(&run_id));
    }
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _open = open;
        if let Err(e) = follow(socket, state, run_id.clone(), query.after).await {
            tracing::debug!(run = %run_id, error = %e, "event stream ended");
        }
    }))
}

/// `GET /api/runs/feed`: run starts and ends, as they happen.
#[utoipa::path(get, path = "/api/runs/feed", tag = "live", summary = "Every run's start and end, live (WebSocket)", responses((status = 101, description = "Switching to the WebSocket"), (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody), (status = 503, description = "Too many WebSockets", body = ErrorBody)))]
pub async fn feed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let (upgrade, open) = admit(&state, peer.ip(), upgrade)?;
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _open = open;
        if let Err(e) = follow_feed(socket, state).await {
            tracing::debug!(error = %e, "runs feed ended");
        }
    }))
}

/// The upgrade with the message caps applied and its slot taken, unless the server or this
/// client has as many sockets open as allowed.
fn admit(
    state: &AppState,
    client: IpAddr,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<(WebSocketUpgrade, OpenSocket), AppError> {
    let upgrade = upgrade.map_err(|e| {
        AppError::bad_request(format!("this endpoint is a WebSocket: {}", e.body_text()))
    })?;
    let open = state
        .clients
        .admit(client, state.sockets, state.engine.metrics())?;
    Ok((
        upgrade
            .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
            .max_frame_size(MAX_CLIENT_MESSAGE_BYTES),
        open,
    ))
}

/// The WebSockets open, in all and per client address. A slot is taken (atomically, before
/// the upgrade) by [`ClientSockets::admit`] and given back when its [`OpenSocket`] drops.
#[derive(Default)]
pub struct ClientSockets {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

impl ClientSockets {
    fn admit(
        self: &Arc<Self>,
        client: IpAddr,
        limits: SocketLimits,
        metrics: &Arc<Metrics>,
    ) -> Result<OpenSocket, AppError> {
        let limit = limits.max_open;
        if self.total.fetch_add(1, Ordering::SeqCst) >= limit {
            self.total.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Unavailable(format!(
                "too many open WebSockets (the limit is {limit}); try again later"
            )));
        }
        {
            let mut clients = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
            let open = clients.entry(client).or_default();
            if *open >= limits.max_per_client {
                drop(clients);
                self.total.fetch_sub(1, Ordering::SeqCst);
                return Err(AppError::Unavailable(format!(
                    "too many open WebSockets from {client} (the limit per client is {}); \
                     close some tabs or try again later",
                    limits.max_per_client
                )));
            }
            *open += 1;
        }
        metrics.websocket_opened();
        Ok(OpenSocket {
            metrics: metrics.clone(),
            sockets: self.clone(),
            client,
        })
    }

    fn release(&self, client: IpAddr) {
        let mut clients = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = clients.get_mut(&client) {
            *open -= 1;
            if *open == 0 {
                clients.remove(&client);
            }
        }
        self.total.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One admitted WebSocket's slot, held from its admission until it is dropped.
struct OpenSocket {
    metrics: Arc<Metrics>,
    sockets: Arc<ClientSockets>,
    client: IpAddr,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.metrics.websocket_closed();
        self.sockets.release(self.client);
    }
}

/// Runs a send or flush, or fails with [`StreamError::SlowReader`] once it has waited
/// `limit` on a client that does not read.
async fn in_time<T>(
    limit: Duration,
    send: impl std::future::Future<Output = Result<T, axum::Error>>,
) -> Result<T, StreamError> {
    match tokio::time::timeout(limit, send).await {
        Ok(sent) => Ok(sent?),
        Err(_) => Err(StreamError::SlowReader),
    }
}

/// Pings on a schedule, and tells when the client has been silent too long.
struct Heartbeat {
    every: Duration,
    ticker: tokio::time::Interval,
    heard: tokio::time::Instant,
}

impl Heartbeat {
    fn new(limits: SocketLimits) -> Self {
        let every = limits.ping_every;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Heartbeat {
            every,
            ticker,
            heard: tokio::time::Instant::now(),
        }
    }

    fn heard(&mut self) {
        self.heard = tokio::time::Instant::now();
    }

    /// Waits until the next ping is due; false when the client has answered nothing for
    /// two intervals.
    async fn beat(&mut self) -> bool {
        self.ticker.tick().await;
        self.heard.elapsed() <= self.every * 2
    }
}

async fn follow_feed(mut socket: WebSocket, state: AppState) -> Result<(), StreamError> {
    let ended = feed_loop(&mut socket, &state).await;
    finish(socket, ended).await
}

async fn feed_loop(socket: &mut WebSocket, state: &AppState) -> Result<Ending, StreamError> {
    let mut feed = state.engine.feed();
    let mut heartbeat = Heartbeat::new(state.sockets);
    let limit = state.sockets.send_timeout;
    let mut stopping = state.engine.stopping();
    loop {
        tokio::select! {
            _ = stopped(&mut stopping) => return Ok(Ending::ShuttingDown),
            received = feed.recv() => {
                // What else is already waiting goes out in the same write (one system call
                // for many runs' starts and ends under load).
                let mut received = Some(received);
                let mut queued = 0;
                while let Some(next) = received.take() {
                    let message = match next {
                        Ok(summary) => RunFeed::Run(Box::new(summary)),
                        // Never a silent gap: the client re-reads the list.
                        Err(RecvError::Lagged(_)) => RunFeed::Resync,
                        Err(RecvError::Closed) => return Ok(Ending::Complete),
                    };
                    let text = serde_json::to_string(&message).unwrap_or_default();
                    in_time(limit, socket.feed(Message::Text(text.into()))).await?;
                    queued += 1;
                    if queued < FEED_WRITE_MESSAGES {
                        received = match feed.try_recv() {
                            Err(TryRecvError::Empty) => None,
                            Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                            Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
                            Ok(summary) => Some(Ok(summary)),
                        };
                    }
                }
                in_time(limit, socket.flush()).await?;
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(Ending::Gone),
                Some(Ok(_)) => heartbeat.heard(),
            },
            alive = heartbeat.beat() => {
                if !alive {
                    return Ok(Ending::Dead);
                }
                in_time(limit, socket.send(Message::Ping(Default::default()))).await?;
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("the client did not read in time")]
    SlowReader,
}

/// How a stream ends (when it ends without an error).
enum Ending {
    /// Everything there will be was sent: closed normally (`1000`).
    Complete,
    /// The client stopped answering pings: closed as dead (`1001`).
    Dead,
    /// The client went away.
    Gone,
    /// The run's stream stopped before the run ended: closed with `1012` (service restart)
    /// so the client resumes later.
    Interrupted,
    /// The server is shutting down: closed with `1001` (going away).
    ShuttingDown,
    /// A run followed on the cluster's bus is driven by this process now: follow it here,
    /// after the record with this seq.
    Rejoin(u64),
}

/// Closes the socket the way its ending calls for: `1000` once the client has every record
/// there will be, `1001` for a dead client or a shutdown, `1012` when the run's stream stopped
/// early, `1013` for a client too slow to read — the last three tell it to resume later.
async fn finish(socket: WebSocket, ended: Result<Ending, StreamError>) -> Result<(), StreamError> {
    let (code, reason) = match &ended {
        Ok(Ending::Gone) | Ok(Ending::Rejoin(_)) => return Ok(()),
        Ok(Ending::Complete) => (close_code::NORMAL, "run completed"),
        Ok(Ending::Dead) => (close_code::AWAY, "no answer to pings: closed as dead"),
        Ok(Ending::ShuttingDown) => (close_code::AWAY, "the server is shutting down"),
        Ok(Ending::Interrupted) => (
            close_code::RESTART,
            "the run is paused on the server; resume later",
        ),
        Err(StreamError::SlowReader) => {
            (close_code::AGAIN, "too slow to read: reconnect and resume")
        }
        Err(_) => return ended.map(|_| ()),
    };
    close_with(socket, code, reason).await;
    ended.map(|_| ())
}

/// Sends a close frame, waiting at most a second on a client that may not be reading.
async fn close_with(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
}

/// Sends records after `last` until the run completes or the client goes away.
async fn follow(
    mut socket: WebSocket,
    state: AppState,
    run_id: String,
    last: u64,
) -> Result<(), StreamError> {
    let mut last = last;
    let ended = loop {
        match follow_loop(&mut socket, &state, &run_id, last).await {
            // This process drives the run now (it took it over): follow it here.
            Ok(Ending::Rejoin(sent)) => last = sent,
            ended => break ended,
        }
    };
    finish(socket, ended).await
}

async fn follow_loop(
    socket: &mut WebSocket,
    state: &AppState,
    run_id: &str,
    mut last: u64,
) -> Result<Ending, StreamError> {
    let limit = state.sockets.send_timeout;
    let mut live = match state.engine.hub().watch(run_id, last) {
        // In memory: a run just started or just ended, with a short history.
        Watch::Live {
            kept: Some(kept),
            live,
        } => {
            if send_all(socket, limit, kept, &mut last).await? {
                return Ok(Ending::Complete);
            }
            live
        }
        Watch::Live { kept: None, live } => {
            if catch_up(socket, state, run_id, &mut last).await? {
                return Ok(Ending::Complete);
            }
            live
        }
        Watch::Ended(records) => {
            send_all(socket, limit, records, &mut last).await?;
            return Ok(Ending::Complete);
        }
        Watch::Stored => {
            // Not in progress here: another process drives it (or will, once it takes it
            // over); or, alone, everything there is was in the store (a run still running
            // there waits to be resumed: the client comes back later).
            if state.engine.peers().link() != Link::Alone {
                return follow_remote(socket, state, run_id, last).await;
            }
            if catch_up(socket, state, run_id, &mut last).await? {
                return Ok(Ending::Complete);
            }
            return Ok(Ending::Interrupted);
        }
    };
    let live = &mut live;
    let mut heartbeat = Heartbeat::new(state.sockets);
    let mut stopping = state.engine.stopping();
    loop {
        tokio::select! {
            _ = stopped(&mut stopping) => return Ok(Ending::ShuttingDown),
            received = live.recv() => match received {
                Ok(record) => {
                    // Whatever else is already waiting goes out in the same write.
                    let mut ended = queue(socket, limit, record, &mut last).await?;
                    while !ended {
                        match live.try_recv() {
                            Ok(record) => ended = queue(socket, limit, record, &mut last).await?,
                            Err(_) => break,
                        }
                    }
                    in_time(limit, socket.flush()).await?;
                    if ended {
                        return Ok(Ending::Complete);
                    }
                }
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                    let closed = matches!(received, Err(RecvError::Closed));
                    if !closed {
                        state.engine.metrics().stream_caught_up();
                    }
                    if catch_up(socket, state, run_id, &mut last).await? {
                        return Ok(Ending::Complete);
                    }
                    if closed
                        && !state.engine.is_shutting_down()
                        && state.engine.peers().link() != Link::Alone
                    {
                        // This process lost the run to another (its lease ran out): follow
                        // it there.
                        return follow_remote(socket, state, run_id, last).await;
                    }
                    if closed {
                        // The run's driver stopped without an end. On a shutdown, say so
                        // (its drivers stop at the same moment the shutdown is announced,
                        // and either may be seen first); else the history store failed: the
                        // run is not complete, and the client should come back and resume.
                        if state.engine.is_shutting_down() {
                            return Ok(Ending::ShuttingDown);
                        }
                        return Ok(Ending::Interrupted);
                    }
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(Ending::Gone),
                // Pongs (and the client's own pings, answered by the library) show it is alive.
                Some(Ok(_)) => heartbeat.heard(),
            },
            alive = heartbeat.beat() => {
                if !alive {
                    return Ok(Ending::Dead);
                }
                in_time(limit, socket.send(Message::Ping(Default::default()))).await?;
            }
        }
    }
}

/// How long a watcher of a run driven elsewhere waits for the bus before it looks in the
/// store (a batch the bus dropped, or an owner that died between its write and publishing).
pub const REMOTE_RECHECK: Duration = Duration::from_secs(1);
/// How often a watcher of a run driven elsewhere looks whether this process took it over
/// (a process gets none of its own messages back from the bus).
pub const TAKEOVER_CHECK: Duration = Duration::from_millis(100);

/// How often a watcher of a run driven elsewhere tries again to subscribe to its records
/// on the bus, while it cannot (it reads the store every [`REMOTE_RECHECK`] meanwhile).
pub const SUBSCRIBE_AGAIN: Duration = Duration::from_secs(2);

/// Follows a run another process drives: the stored history first (never waiting on the
/// bus), then each batch its owner publishes on the bus. A record that skips ahead of the
/// last one sent (the bus delivers at most once; a batch published between the store read
/// and the subscription) is preceded by a catch-up from the store, and so is a quiet
/// second, so the client gets every record once, in order. A bus that cannot be reached (a
/// subscription that does not come through in time) leaves the watcher on the store,
/// read every [`REMOTE_RECHECK`]. The run's owner may change meanwhile: the new one
/// publishes on the same subject.
async fn follow_remote(
    socket: &mut WebSocket,
    state: &AppState,
    run_id: &str,
    mut last: u64,
) -> Result<Ending, StreamError> {
    use futures::StreamExt;
    let limit = state.sockets.send_timeout;
    if catch_up(socket, state, run_id, &mut last).await? {
        return Ok(Ending::Complete);
    }
    let peers = state.engine.peers().clone();
    let subscribe = || async {
        match peers.follow(run_id).await {
            Ok(batches) => batches,
            Err(e) => {
                tracing::debug!(run = %run_id, error = %e, "following a run on the bus failed; reading the store");
                None
            }
        }
    };
    let mut batches: Option<RecordBatches> = subscribe().await;
    if batches.is_some() && catch_up(socket, state, run_id, &mut last).await? {
        return Ok(Ending::Complete);
    }
    let mut heartbeat = Heartbeat::new(state.sockets);
    let mut stopping = state.engine.stopping();
    let mut quiet = tokio::time::interval(REMOTE_RECHECK);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut here = tokio::time::interval(TAKEOVER_CHECK);
    here.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut again = tokio::time::interval(SUBSCRIBE_AGAIN);
    again.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = {
            let subscribed = batches.is_some();
            let next_batch = async {
                match batches.as_mut() {
                    Some(batches) => batches.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = here.tick() => Remote::Here,
                _ = stopped(&mut stopping) => Remote::Stop,
                batch = next_batch => Remote::Batch(batch),
                _ = quiet.tick() => Remote::Quiet,
                _ = again.tick(), if !subscribed => Remote::Subscribe,
                incoming = socket.recv() => Remote::Incoming(incoming.is_some_and(|m| {
                    m.is_ok_and(|m| !matches!(m, Message::Close(_)))
                })),
                alive = heartbeat.beat() => Remote::Beat(alive),
            }
        };
        match event {
            Remote::Here => {
                if state.engine.hub().is_open(run_id) {
                    return Ok(Ending::Rejoin(last));
                }
            }
            Remote::Stop => return Ok(Ending::ShuttingDown),
            Remote::Batch(None) => {
                // The subscription ended (the bus went away): on the store until it is back.
                batches = None;
            }
            Remote::Batch(Some(batch)) => {
                quiet.reset();
                let text = String::from_utf8_lossy(&batch);
                for line in text.split('\n') {
                    let record = StoredRecord::from_json(run_id, line)?;
                    if record.seq > last + 1 && catch_up(socket, state, run_id, &mut last).await? {
                        return Ok(Ending::Complete);
                    }
                    if queue(socket, limit, record, &mut last).await? {
                        in_time(limit, socket.flush()).await?;
                        return Ok(Ending::Complete);
                    }
                }
                in_time(limit, socket.flush()).await?;
            }
            Remote::Quiet => {
                if catch_up(socket, state, run_id, &mut last).await? {
                    return Ok(Ending::Complete);
                }
            }
            Remote::Subscribe => batches = subscribe().await,
            Remote::Incoming(false) => return Ok(Ending::Gone),
            Remote::Incoming(true) => heartbeat.heard(),
            Remote::Beat(false) => return Ok(Ending::Dead),
            Remote::Beat(true) => {
                in_time(limit, socket.send(Message::Ping(Default::default()))).await?
            }
        }
    }
}

/// What a watcher of a run driven elsewhere woke up for.
enum Remote {
    /// Time to look whether this process drives the run now.
    Here,
    Stop,
    /// A batch of records from the bus (`None`: the subscription ended).
    Batch(Option<bytes::Bytes>),
    /// Nothing from the bus for a while: read the store.
    Quiet,
    /// Time to try subscribing again.
    Subscribe,
    /// Something from the client (`false`: it went away).
    Incoming(bool),
    /// A ping is due (`false`: the client stopped answering).
    Beat(bool),
}

/// Sends the stored records after `last`, a page at a time; true when the run's end was
/// among them.
async fn catch_up(
    socket: &mut WebSocket,
    state: &AppState,
    run_id: &str,
    last: &mut u64,
) -> Result<bool, StreamError> {
    let limit = state.sockets.send_timeout;
    loop {
        let page = state
            .store
            .history_json_after(run_id, *last, HISTORY_PAGE)
            .await?;
        let full = page.len() >= HISTORY_PAGE;
        for record in page {
            if queue(socket, limit, record, last).await? {
                in_time(limit, socket.flush()).await?;
                return Ok(true);
            }
        }
        in_time(limit, socket.flush()).await?;
        if !full {
            return Ok(false);
        }
    }
}

/// Sends records the hub held; true when the last one ended the run.
async fn send_all(
    socket: &mut WebSocket,
    limit: Duration,
    records: Vec<StoredRecord>,
    last: &mut u64,
) -> Result<bool, StreamError> {
    let mut ended = false;
    for record in records {
        ended = queue(socket, limit, record, last).await?;
        if ended {
            break;
        }
    }
    in_time(limit, socket.flush()).await?;
    Ok(ended)
}

/// Queues a record (live ones come serialised by the hub) unless the client has it; the
/// caller flushes. True when it was the run's last.
async fn queue(
    socket: &mut WebSocket,
    limit: Duration,
    record: StoredRecord,
    last: &mut u64,
) -> Result<bool, StreamError> {
    if record.seq <= *last {
        return Ok(false);
    }
    in_time(limit, socket.feed(text(&record.json))).await?;
    *last = record.seq;
    Ok(record.ends_run)
}

/// A record's JSON as a text message, without copying it.
fn text(json: &JsonText) -> Message {
    match axum::extract::ws::Utf8Bytes::try_from(json.to_bytes()) {
        Ok(text) => Message::Text(text),
        // Cannot happen (the text is a `str`); copied rather than lost.
        Err(_) => Message::Text(json.as_str().into()),
    }
}
