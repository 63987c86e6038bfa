//! Live fan-out of history records to WebSocket watchers: one broadcast channel per run in
//! progress, created when the first watcher arrives (a run nobody watches costs one map
//! entry). Records reach the hub only after they are durable, so a watcher that subscribes
//! first and then reads the stored history can never miss one. Each record is serialised
//! once, here, and the same bytes go to every watcher.

use std::collections::HashMap;
use std::sync::Mutex;

use app::model::{RunEvent, RunRecord};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

/// Records buffered per watched run for slow watchers; a watcher that falls further behind
/// is told it lagged and catches up from the stored history.
pub const LIVE_BUFFER: usize = 1024;

/// A durable record as watchers receive it: its JSON text, made once for all of them.
#[derive(Clone, Debug)]
pub struct LiveRecord {
    pub seq: u64,
    /// The run's last record (`RunCompleted`).
    pub ends_run: bool,
    pub json: Utf8Bytes,
}

impl LiveRecord {
    pub fn new(record: &RunRecord) -> Self {
        LiveRecord {
            seq: record.seq,
            ends_run: matches!(record.event, RunEvent::RunCompleted { .. }),
            json: serde_json::to_string(record).unwrap_or_default().into(),
        }
    }
}

type Channel = Option<broadcast::Sender<LiveRecord>>;

#[derive(Default)]
pub struct RunHub {
    runs: Mutex<HashMap<String, Channel>>,
}

impl RunHub {
    /// Registers a run that is starting (or resuming) in this process.
    pub fn open(&self, run_id: &str) {
        self.lock().insert(run_id.to_string(), None);
    }

    /// `None` when the run is not in progress here: its whole history is already stored.
    pub fn subscribe(&self, run_id: &str) -> Option<broadcast::Receiver<LiveRecord>> {
        let mut runs = self.lock();
        let channel = runs.get_mut(run_id)?;
        Some(
            channel
                .get_or_insert_with(|| broadcast::channel(LIVE_BUFFER).0)
                .subscribe(),
        )
    }

    pub fn publish(&self, run_id: &str, records: &[RunRecord]) {
        let Some(tx) = self.lock().get(run_id).cloned().flatten() else {
            return; // nobody watches: nothing to serialise
        };
        for record in records {
            // No receiver left is fine: nobody is watching any more.
            let _ = tx.send(LiveRecord::new(record));
        }
    }

    /// How many runs are in progress in this process.
    pub fn open_runs(&self) -> usize {
        self.lock().len()
    }

    /// Closes the run's channel: watchers see it closed once they drained it.
    pub fn close(&self, run_id: &str) {
        self.lock().remove(run_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still safe to use.
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
