//! Live fan-out of history records to WebSocket watchers. Records reach the hub only after
//! they are durable, already serialised (once, for the store and for every watcher).
//!
//! Per run in progress the hub keeps a broadcast channel, created when the first watcher
//! arrives, and the run's records so far while they are few ([`KEPT_RECORDS`]); it keeps
//! the records of the last [`RECENT_RUNS`] runs that ended, too. A watcher that arrives —
//! typically right after starting a run, whose steps may all be done by then — reads them
//! from memory, under the same lock as it subscribes: no gap, no double, no database read.
//! A longer history, or an older run, is read from the store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::store::{Recorded, StoredRecord};

/// Records buffered per watched run for slow watchers; a watcher that falls further behind
/// is told it lagged and catches up from the stored history.
pub const LIVE_BUFFER: usize = 1024;
/// A run's records kept in memory for watchers while it has at most this many; a longer
/// history is read from the store.
pub const KEPT_RECORDS: usize = 64;
/// Ended runs whose records stay in memory for watchers (at most [`KEPT_RECORDS`] each).
pub const RECENT_RUNS: usize = 512;

/// What a watcher arriving now gets.
pub enum Watch {
    /// The run is in progress here: its records after the watcher's `after`, when the hub
    /// still holds its whole history (`None`: read them from the store), then live ones.
    Live {
        kept: Option<Vec<StoredRecord>>,
        live: broadcast::Receiver<StoredRecord>,
    },
    /// The run ended a moment ago: its records after `after`, the last one ending it.
    Ended(Vec<StoredRecord>),
    /// Not in progress here and not recent: everything there is, is in the store.
    Stored,
}

#[derive(Default)]
struct Open {
    channel: Option<broadcast::Sender<StoredRecord>>,
    /// `None` once the history outgrew [`KEPT_RECORDS`].
    kept: Option<Vec<StoredRecord>>,
}

#[derive(Default)]
struct Runs {
    open: HashMap<String, Open>,
    recent: HashMap<String, Arc<[StoredRecord]>>,
    /// Recent runs, oldest first (for eviction).
    ended: VecDeque<String>,
}

#[derive(Default)]
pub struct RunHub {
    runs: Mutex<Runs>,
}

fn after(records: &[StoredRecord], seq: u64) -> Vec<StoredRecord> {
    records.iter().filter(|r| r.seq > seq).cloned().collect()
}

impl RunHub {
    /// Registers a run that is starting (`fresh`: its history starts empty, so the hub can
    /// hold all of it) or resuming (its earlier records are only in the store).
    pub fn open(&self, run_id: &str, fresh: bool) {
        let kept = fresh.then(Vec::new);
        self.lock().open.insert(
            run_id.to_string(),
            Open {
                channel: None,
                kept,
            },
        );
    }

    /// Subscribes a watcher that has every record up to `after`.
    pub fn watch(&self, run_id: &str, after_seq: u64) -> Watch {
        let mut runs = self.lock();
        if let Some(open) = runs.open.get_mut(run_id) {
            let live = open
                .channel
                .get_or_insert_with(|| broadcast::channel(LIVE_BUFFER).0)
                .subscribe();
            let kept = open.kept.as_deref().map(|kept| after(kept, after_seq));
            return Watch::Live { kept, live };
        }
        match runs.recent.get(run_id) {
            Some(records) => Watch::Ended(after(records, after_seq)),
            None => Watch::Stored,
        }
    }

    /// Whether the run is in progress here.
    pub fn is_open(&self, run_id: &str) -> bool {
        self.lock().open.contains_key(run_id)
    }

    /// Whether the run is in progress here or ended a moment ago (it exists).
    pub fn knows(&self, run_id: &str) -> bool {
        let runs = self.lock();
        runs.open.contains_key(run_id) || runs.recent.contains_key(run_id)
    }

    pub fn publish(&self, run_id: &str, records: &[Recorded]) {
        let mut runs = self.lock();
        let Some(open) = runs.open.get_mut(run_id) else {
            return;
        };
        if let Some(kept) = &mut open.kept {
            if kept.len() + records.len() <= KEPT_RECORDS {
                kept.extend(records.iter().map(StoredRecord::from));
            } else {
                open.kept = None;
            }
        }
        if let Some(tx) = &open.channel {
            for record in records {
                // No receiver left is fine: nobody is watching any more.
                let _ = tx.send(StoredRecord::from(record));
            }
        }
    }

    /// How many runs are in progress in this process.
    pub fn open_runs(&self) -> usize {
        self.lock().open.len()
    }

    /// Closes the run's channel: watchers see it closed once they drained it. A run that
    /// ended with a short history is kept among the recent ones.
    pub fn close(&self, run_id: &str) {
        let mut runs = self.lock();
        let Some(open) = runs.open.remove(run_id) else {
            return;
        };
        let Some(kept) = open.kept else { return };
        if !kept.last().is_some_and(|r| r.ends_run) {
            return; // stopped without an end (shutdown): it resumes later
        }
        if runs.ended.len() >= RECENT_RUNS {
            if let Some(oldest) = runs.ended.pop_front() {
                runs.recent.remove(&oldest);
            }
        }
        runs.ended.push_back(run_id.to_string());
        runs.recent.insert(run_id.to_string(), kept.into());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Runs> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still safe to use.
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{RunEvent, RunRecord, RunStatus};

    fn record(seq: u64, ends: bool) -> Recorded {
        let event = if ends {
            RunEvent::RunCompleted {
                status: RunStatus::Completed,
                diagnosis: None,
                messages: Default::default(),
                outcome: None,
            }
        } else {
            RunEvent::CancelRequested
        };
        Recorded::new(RunRecord::new(seq, 1, event))
    }

    fn seqs(records: &[StoredRecord]) -> Vec<u64> {
        records.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn a_watcher_gets_the_kept_records_after_its_seq_then_live_ones_and_a_recent_run_from_memory() {
        let hub = RunHub::default();
        hub.open("r", true);
        hub.publish("r", &[record(1, false), record(2, false)]);
        let Watch::Live {
            kept: Some(kept),
            mut live,
        } = hub.watch("r", 1)
        else {
            panic!("a fresh run in progress is watched from memory");
        };
        assert_eq!(seqs(&kept), [2]);
        hub.publish("r", &[record(3, true)]);
        assert_eq!(live.try_recv().unwrap().seq, 3, "then live, without a gap");
        hub.close("r");
        let Watch::Ended(rest) = hub.watch("r", 1) else {
            panic!("a run that just ended is kept");
        };
        assert_eq!(seqs(&rest), [2, 3]);
        assert!(rest.last().unwrap().ends_run);
        assert!(hub.knows("r"));
        assert!(matches!(hub.watch("other", 0), Watch::Stored));
    }

    #[test]
    fn a_long_history_a_resumed_run_and_runs_past_the_recent_ones_are_read_from_the_store() {
        let hub = RunHub::default();
        hub.open("long", true);
        let many: Vec<Recorded> = (1..=KEPT_RECORDS as u64 + 1)
            .map(|seq| record(seq, false))
            .collect();
        hub.publish("long", &many);
        assert!(matches!(
            hub.watch("long", 0),
            Watch::Live { kept: None, .. }
        ));
        hub.open("resumed", false);
        assert!(matches!(
            hub.watch("resumed", 0),
            Watch::Live { kept: None, .. }
        ));
        for i in 0..=RECENT_RUNS {
            let id = format!("run{i}");
            hub.open(&id, true);
            hub.publish(&id, &[record(1, true)]);
            hub.close(&id);
        }
        assert!(
            matches!(hub.watch("run0", 0), Watch::Stored),
            "the oldest went"
        );
        assert!(matches!(hub.watch("run1", 0), Watch::Ended(_)));
    }
}
