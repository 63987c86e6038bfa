//! The group commit: one writer takes every run creation and history append waiting, writes
//! them in one transaction, and tells each caller once the commit is durable — many runs'
//! records share one fsync (SQLite) or one WAL flush (PostgreSQL).
//!
//! - [`sqlite`]: one thread with its own SQLite connection and cached prepared statements
//!   (through sqlx each statement was a round trip to a worker thread: measured with
//!   `perf`, those hand-offs were most of a run's CPU), one group at a time.
//! - [`postgres`]: one task; each group's rows go as arrays unnested by the server, up to
//!   [`postgres::GROUPS_IN_FLIGHT`] groups at a time.
//!
//! What both share is here: what a write is ([`Write`]), how a group is gathered
//! ([`gather`]), and how callers are told ([`settle`]): a group that fails as a whole is
//! written again one write at a time, so one bad write does not fail the others.
//!
//! Each write is fenced: it names the epoch its writer holds the run at, and the writer
//! checks the run's epoch inside the transaction (under SQLite's write lock; with the runs
//! read `FOR SHARE` on PostgreSQL, so no claim comes between): a write at another epoch,
//! or to a run that is no longer stored (deleted while a stale owner still drove it), is
//! refused alone and the rest commit.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use app::model::{RunEvent, RunStatus};
use tokio::sync::oneshot;

use super::{JsonText, Recorded, StoreError, StoredRun, WorkflowVersion};

/// At most this many rows go into one group commit; more waiting writes go into the next
/// one, so a single commit never holds the write lock for long.
pub const MAX_GROUP_ROWS: usize = 1_024;

/// A history record ready for its row: seq, time, JSON body (the same bytes watchers get).
pub struct EncodedRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub body: JsonText,
}

/// How a run ended, for its row in `runs`.
pub struct RunEnd {
    pub status: RunStatus,
    pub at_ms: i64,
    /// JSON of the run's `MessageCounts`.
    pub messages: String,
    pub diagnosis: Option<String>,
    /// JSON of the run's outcome line, if any.
    pub outcome: Option<String>,
}

/// A run to create in the same commit as its first records.
pub struct NewRun {
    pub run: StoredRun,
    pub version: Arc<WorkflowVersion>,
}

/// One run's write: its creation (the first write only), its records, already encoded (by
/// the caller's task, in parallel, so the single writer only writes), and the status they
/// end the run with, if any.
pub struct Write {
    pub run_id: String,
    /// The epoch the writer holds the run at: the write is refused at any other.
    pub epoch: i64,
    pub created: Option<NewRun>,
    pub rows: Vec<EncodedRecord>,
    pub ended: Option<RunEnd>,
}

impl Write {
    /// A run's records (and its creation, when `created`), encoded for their rows.
    pub fn new(run_id: &str, epoch: i64, created: Option<NewRun>, records: &[Recorded]) -> Write {
        let (rows, ended) = encode_history(records);
        Write {
            run_id: run_id.to_string(),
            epoch,
            created,
            rows,
            ended,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows.len() + usize::from(self.created.is_some())
    }
}

/// Why a write was not stored.
#[derive(Debug)]
pub enum WriteFailure {
    /// The run is at another epoch than the writer's, or is gone: another process claimed
    /// it, or it was deleted.
    Fenced,
    /// A run with the new run's id is stored already.
    Duplicate,
    Failed(StoreError),
}

impl WriteFailure {
    /// The store error for a write of run `run` at `epoch` that failed so.
    pub fn into_error(self, run: &str, epoch: i64) -> StoreError {
        match self {
            WriteFailure::Fenced => StoreError::Fenced {
                run: run.to_string(),
                epoch,
            },
            WriteFailure::Duplicate => StoreError::Duplicate {
                what: "run",
                id: run.to_string(),
            },
            WriteFailure::Failed(e) => e,
        }
    }
}

/// How each write of a group that committed went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Fenced,
    Duplicate,
}

/// A write waiting for the group commit, and who to tell when it is durable.
pub struct Append {
    pub write: Write,
    pub done: oneshot::Sender<Result<(), WriteFailure>>,
}

impl Append {
    fn tell(self, outcome: Outcome) {
        let _ = self.done.send(match outcome {
            Outcome::Stored => Ok(()),
            Outcome::Fenced => Err(WriteFailure::Fenced),
            Outcome::Duplicate => Err(WriteFailure::Duplicate),
        });
    }

    fn fail(self, error: StoreError) {
        let _ = self.done.send(Err(WriteFailure::Failed(error)));
    }
}

/// Records as rows, and how they end the run if they do.
pub fn encode_history(records: &[Recorded]) -> (Vec<EncodedRecord>, Option<RunEnd>) {
    let ended = records
        .iter()
        .find_map(|Recorded { record: r, .. }| match &r.event {
            RunEvent::RunCompleted {
                status,
                diagnosis,
                messages,
                outcome,
            } => Some(RunEnd {
                status: *status,
                at_ms: r.at_ms,
                messages: super::encode(messages),
                diagnosis: diagnosis.clone(),
                outcome: outcome.as_ref().map(super::encode),
            }),
            _ => None,
        });
    let rows = records
        .iter()
        .map(|r| EncodedRecord {
            seq: r.record.seq as i64,
            at_ms: r.record.at_ms,
            body: r.json.clone(),
        })
        .collect();
    (rows, ended)
}

/// A group: `first`, then whatever else is waiting (`next`), up to [`MAX_GROUP_ROWS`] rows.
pub fn gather(first: Append, mut next: impl FnMut() -> Option<Append>) -> Vec<Append> {
    let mut rows = first.write.rows();
    let mut group = vec![first];
    while rows < MAX_GROUP_ROWS {
        match next() {
            Some(append) => {
                rows += append.write.rows();
                group.push(append);
            }
            None => break,
        }
    }
    group
}

/// Tells each writer of a group how its write went, once the group's transaction ended:
/// committed, each with its outcome; or failed as a whole, and then the group is handed
/// back to be written again one write at a time (`Some`), so only a faulty write reports
/// the error.
pub fn settle(
    group: Vec<Append>,
    written: Result<Vec<Outcome>, StoreError>,
) -> Option<Vec<Append>> {
    match written {
        Ok(outcomes) => {
            for (append, outcome) in group.into_iter().zip(outcomes) {
                append.tell(outcome);
            }
            None
        }
        Err(e) if group.len() == 1 => {
            tracing::error!(error = %e, run = %group[0].write.run_id, "history write failed");
            if let Some(append) = group.into_iter().next() {
                append.fail(e);
            }
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, appends = group.len(), "group commit failed; writing one by one");
            Some(group)
        }
    }
}
