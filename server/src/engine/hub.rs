//! Live fan-out of history records to WebSocket watchers: one broadcast channel per run in
//! progress, created when the first watcher arrives (a run nobody watches costs one map
//! entry). Records reach the hub only after they are durable, so a watcher that subscribes
//! first and then reads the stored history can never miss one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::RunRecord;
use tokio::sync::broadcast;

/// Records buffered per watched run for slow watchers; a watcher that falls further behind
/// is told it lagged and catches up from the stored history.
pub const LIVE_BUFFER: usize = 1024;

type Channel = Option<broadcast::Sender<Arc<RunRecord>>>;

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
    pub fn subscribe(&self, run_id: &str) -> Option<broadcast::Receiver<Arc<RunRecord>>> {
        let mut runs = self.lock();
        let channel = runs.get_mut(run_id)?;
        Some(
            channel
                .get_or_insert_with(|| broadcast::channel(LIVE_BUFFER).0)
                .subscribe(),
        )
    }

    pub fn publish(&self, run_id: &str, records: Vec<RunRecord>) {
        if let Some(Some(tx)) = self.lock().get(run_id) {
            for record in records {
                // No receiver left is fine: nobody is watching any more.
                let _ = tx.send(Arc::new(record));
            }
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
