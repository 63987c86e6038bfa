//! Live fan-out of history records to WebSocket watchers: one broadcast channel per run in
//! progress. Records reach the hub only after they are durable, so a watcher that subscribes
//! first and then reads the stored history can never miss one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::RunRecord;
use tokio::sync::broadcast;

/// Records buffered per run for slow watchers; a watcher that falls further behind is told
/// it lagged and catches up from the stored history.
pub const LIVE_BUFFER: usize = 1024;

#[derive(Default)]
pub struct RunHub {
    runs: Mutex<HashMap<String, broadcast::Sender<Arc<RunRecord>>>>,
}

impl RunHub {
    /// Opens the channel of a run that is starting.
    pub fn open(&self, run_id: &str) {
        let (tx, _) = broadcast::channel(LIVE_BUFFER);
        self.lock().insert(run_id.to_string(), tx);
    }

    /// `None` when the run is not in progress here: its whole history is already stored.
    pub fn subscribe(&self, run_id: &str) -> Option<broadcast::Receiver<Arc<RunRecord>>> {
        self.lock().get(run_id).map(broadcast::Sender::subscribe)
    }

    pub fn publish(&self, run_id: &str, record: RunRecord) {
        if let Some(tx) = self.lock().get(run_id) {
            // No receiver is fine: nobody is watching.
            let _ = tx.send(Arc::new(record));
        }
    }

    /// Closes the run's channel: watchers see it closed once they drained it.
    pub fn close(&self, run_id: &str) {
        self.lock().remove(run_id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<RunRecord>>>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still safe to use.
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
