//! `GET /api/runs/{id}/events?after=<seq>`: a WebSocket that sends the run's history records
//! after `after` from the store, then the live ones, each exactly once and in `seq` order.
//!
//! Gap-free by construction: the watcher subscribes to the live channel *before* it reads the
//! store, and the engine stores a record before it broadcasts it; so every record is either
//! in the store read or arrives live, and `seq` filters the overlap. A watcher that lags
//! behind the live buffer catches up from the store instead of losing records.

use std::sync::Arc;

use app::model::{RunEvent, RunRecord};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::error::AppError;
use super::runs::run_not_found;
use super::AppState;
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
    let upgrade = upgrade.map_err(|e| {
        AppError::bad_request(format!("this endpoint is a WebSocket: {}", e.body_text()))
    })?;
    if state.store.get_run(&run_id).await?.is_none() {
        return Err(run_not_found(&run_id));
    }
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            if let Err(e) = follow(socket, state, run_id.clone(), query.after).await {
                tracing::debug!(run = %run_id, error = %e, "event stream ended");
            }
        }))
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
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(record) => {
                    if record.seq <= last {
                        continue;
                    }
                    if send(&mut socket, &record, &mut last).await? {
                        return close(socket).await;
                    }
                }
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                    let closed = matches!(received, Err(RecvError::Closed));
                    if catch_up(&mut socket, state.store.as_ref(), &run_id, &mut last).await?
                        || closed
                    {
                        return close(socket).await;
                    }
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => {} // pings are answered by the library; nothing else is expected
            },
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
    for record in store.history_after(run_id, *last).await? {
        if send(socket, &Arc::new(record), last).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn send(
    socket: &mut WebSocket,
    record: &Arc<RunRecord>,
    last: &mut u64,
) -> Result<bool, StreamError> {
    let text = serde_json::to_string(record.as_ref()).unwrap_or_default();
    socket.send(Message::Text(text.into())).await?;
    *last = record.seq;
    Ok(matches!(record.event, RunEvent::RunCompleted { .. }))
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
