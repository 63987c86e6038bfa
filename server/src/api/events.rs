//! `GET /api/runs/{id}/events?after=<seq>`: a WebSocket that sends the run's history records
//! after `after` from the store, then the live ones, each exactly once and in `seq` order.
//! `GET /api/runs/feed`: a WebSocket that sends every run start and end ([`RunFeed`]).
//!
//! Both are counted against [`SocketLimits::max_open`] (503 past it), refuse client messages
//! over [`MAX_CLIENT_MESSAGE_BYTES`], and ping every [`SocketLimits::ping_every`]: a client
//! that answers nothing for two intervals is closed as dead.
//!
//! Gap-free by construction: the watcher subscribes to the live channel *before* it reads the
//! store, and the engine stores a record before it broadcasts it; so every record is either
//! in the store read or arrives live, and `seq` filters the overlap. A watcher that lags
//! behind the live buffer catches up from the store instead of losing records.

use std::sync::Arc;
use std::time::Duration;

use app::model::api::RunFeed;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use futures::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::error::AppError;
use super::runs::run_not_found;
use super::AppState;
use crate::config::SocketLimits;
use crate::engine::hub::LiveRecord;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Clients only ever send control frames here; anything larger than this is refused.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    after: u64,
}

pub async fn stream(
    State(state): State<AppState>,
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
    let upgrade = admit(&state, upgrade)?;
    if state.store.get_run(&run_id).await?.is_none() {
        return Err(run_not_found(&run_id));
    }
    let open = OpenSocket::new(state.engine.metrics());
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _open = open;
        if let Err(e) = follow(socket, state, run_id.clone(), query.after).await {
            tracing::debug!(run = %run_id, error = %e, "event stream ended");
        }
    }))
}

/// `GET /api/runs/feed`: run starts and ends, as they happen.
pub async fn feed(
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let upgrade = admit(&state, upgrade)?;
    let open = OpenSocket::new(state.engine.metrics());
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _open = open;
        if let Err(e) = follow_feed(socket, state).await {
            tracing::debug!(error = %e, "runs feed ended");
        }
    }))
}

/// The upgrade with the message caps applied, unless the server has as many sockets open
/// as it allows.
fn admit(
    state: &AppState,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<WebSocketUpgrade, AppError> {
    let upgrade = upgrade.map_err(|e| {
        AppError::bad_request(format!("this endpoint is a WebSocket: {}", e.body_text()))
    })?;
    let limit = state.sockets.max_open;
    if state.engine.metrics().websockets_open() >= limit as i64 {
        return Err(AppError::Unavailable(format!(
            "too many open WebSockets (the limit is {limit}); try again later"
        )));
    }
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES))
}

/// Counts a WebSocket as open from its admission until it is dropped.
struct OpenSocket(Arc<Metrics>);

impl OpenSocket {
    fn new(metrics: &Arc<Metrics>) -> Self {
        metrics.websocket_opened();
        OpenSocket(metrics.clone())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.websocket_closed();
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

/// Closes a connection whose client stopped answering (without waiting on it for long).
async fn hang_up(mut socket: WebSocket) -> Result<(), StreamError> {
    let frame = Message::Close(Some(CloseFrame {
        code: close_code::AWAY,
        reason: "no answer to pings: closed as dead".into(),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
    Ok(())
}

async fn follow_feed(mut socket: WebSocket, state: AppState) -> Result<(), StreamError> {
    let mut feed = state.engine.feed();
    let mut heartbeat = Heartbeat::new(state.sockets);
    loop {
        tokio::select! {
            received = feed.recv() => {
                let message = match received {
                    Ok(summary) => RunFeed::Run(summary),
                    // Never a silent gap: the client re-reads the list.
                    Err(RecvError::Lagged(_)) => RunFeed::Resync,
                    Err(RecvError::Closed) => return close(socket).await,
                };
                let text = serde_json::to_string(&message).unwrap_or_default();
                socket.send(Message::Text(text.into())).await?;
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => heartbeat.heard(),
            },
            alive = heartbeat.beat() => {
                if !alive {
                    return hang_up(socket).await;
                }
                socket.send(Message::Ping(Default::default())).await?;
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
}

/// Sends records after `last` until the run completes or the client goes away.
async fn follow(
    mut socket: WebSocket,
    state: AppState,
    run_id: String,
    mut last: u64,
) -> Result<(), StreamError> {
    let mut live = state.engine.hub().subscribe(&run_id);
    if catch_up(&mut socket, state.store.as_ref(), &run_id, &mut last).await? {
        return close(socket).await;
    }
    let Some(live) = live.as_mut() else {
        // Not in progress here: everything there is was in the store.
        return close(socket).await;
    };
    let mut heartbeat = Heartbeat::new(state.sockets);
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(record) => {
                    // Whatever else is already waiting goes out in the same write.
                    let mut ended = queue(&mut socket, record, &mut last).await?;
                    while !ended {
                        match live.try_recv() {
                            Ok(record) => ended = queue(&mut socket, record, &mut last).await?,
                            Err(_) => break,
                        }
                    }
                    socket.flush().await?;
                    if ended {
                        return close(socket).await;
                    }
                }
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                    let closed = matches!(received, Err(RecvError::Closed));
                    if !closed {
                        state.engine.metrics().stream_caught_up();
                    }
                    if catch_up(&mut socket, state.store.as_ref(), &run_id, &mut last).await?
                        || closed
                    {
                        return close(socket).await;
                    }
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                // Pongs (and the client's own pings, answered by the library) show it is alive.
                Some(Ok(_)) => heartbeat.heard(),
            },
            alive = heartbeat.beat() => {
                if !alive {
                    return hang_up(socket).await;
                }
                socket.send(Message::Ping(Default::default())).await?;
            }
        }
    }
}

/// Sends the stored records after `last`; true when the run's end was among them.
async fn catch_up(
    socket: &mut WebSocket,
    store: &dyn Store,
    run_id: &str,
    last: &mut u64,
) -> Result<bool, StreamError> {
    let mut ended = false;
    for record in store.history_after(run_id, *last).await? {
        ended = queue(socket, LiveRecord::new(&record), last).await?;
        if ended {
            break;
        }
    }
    socket.flush().await?;
    Ok(ended)
}

/// Queues a record (live ones come serialised by the hub) unless the client has it; the
/// caller flushes. True when it was the run's last.
async fn queue(
    socket: &mut WebSocket,
    record: LiveRecord,
    last: &mut u64,
) -> Result<bool, StreamError> {
    if record.seq <= *last {
        return Ok(false);
    }
    socket.feed(Message::Text(record.json)).await?;
    *last = record.seq;
    Ok(record.ends_run)
}

/// Ends the stream with a normal closure: the client has every record there will be.
async fn close(mut socket: WebSocket) -> Result<(), StreamError> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code: close_code::NORMAL,
            reason: "run completed".into(),
        })))
        .await?;
    Ok(())
}
