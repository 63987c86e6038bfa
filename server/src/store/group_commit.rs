//! The group commit: one thread, with its own SQLite connection, writes every new run and
//! every history append. It takes all the writes waiting, writes them in one `BEGIN
//! IMMEDIATE` transaction with cached prepared statements (one fsync for many runs' records:
//! WAL + `synchronous=FULL` stays affordable), then tells each caller its write is durable.
//!
//! Its own thread, not sqlx's pool: through sqlx each statement is a round trip to the
//! connection's worker thread, two context switches; a group of a hundred statements cost
//! more in those switches than in SQLite (measured with `perf` under the hotpath bench).
//! Here a whole group is one hand-off in and one wake-up per caller out, and the blocking
//! `fsync` never occupies an async worker.
//!
//! Each append is fenced: it names the epoch its writer holds the run at, and the writer
//! checks the run's epoch inside the transaction (which holds SQLite's write lock, so no
//! claim can come between): a write at another epoch is refused alone, the rest commit.

use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use app::model::{RunEvent, RunStatus};
use rusqlite::{params, Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::{Recorded, StoreError, StoredRun, WorkflowVersion};

/// At most this many rows go into one group commit; more waiting writes go into the next
/// one, so a single commit never holds the write lock for long.
pub const MAX_GROUP_ROWS: usize = 1_024;
/// Prepared statements the writer keeps (it uses six).
const STATEMENT_CACHE: usize = 16;

/// A history record ready for its row: seq, time, JSON body (the same bytes watchers get).
pub struct EncodedRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub body: axum::extract::ws::Utf8Bytes,
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
    pub fn rows(&self) -> usize {
        self.rows.len() + usize::from(self.created.is_some())
    }
}

/// Why a write was not stored.
#[derive(Debug)]
pub enum WriteFailure {
    /// The run is at another epoch than the writer's: another process claimed it.
    Fenced,
    Failed(String),
}

impl WriteFailure {
    /// The store error for a write of run `run` at `epoch` that failed so.
    pub fn into_error(self, run: &str, epoch: i64) -> StoreError {
        match self {
            WriteFailure::Fenced => StoreError::Fenced {
                run: run.to_string(),
                epoch,
            },
            WriteFailure::Failed(e) => StoreError::Database(sqlx::Error::Protocol(e)),
        }
    }
}

/// A write waiting for the group commit, and who to tell when it is durable.
pub struct Append {
    pub write: Write,
    pub done: oneshot::Sender<Result<(), WriteFailure>>,
}

impl Append {
    /// Tells the writer how its write went: stored, or refused by fencing (`fenced`).
    pub fn stored(self, fenced: bool) {
        let _ = self.done.send(if fenced {
            Err(WriteFailure::Fenced)
        } else {
            Ok(())
        });
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

/// Opens the writer's connection to the (already migrated) database at `path` and starts
/// its thread; the thread ends when every sender is dropped.
pub fn start(path: &Path, busy_timeout: Duration) -> Result<mpsc::Sender<Append>, StoreError> {
    let open = || -> rusqlite::Result<Connection> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(busy_timeout)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    };
    let mut connection = open().map_err(|e| StoreError::Writer(e.to_string()))?;
    let (sender, appends) = mpsc::channel();
    std::thread::Builder::new()
        .name("group-commit".into())
        .spawn(move || run(&mut connection, appends))
        .map_err(|e| StoreError::Writer(e.to_string()))?;
    Ok(sender)
}

fn run(connection: &mut Connection, appends: mpsc::Receiver<Append>) {
    while let Ok(first) = appends.recv() {
        let mut rows = first.write.rows();
        let mut group = vec![first];
        while rows < MAX_GROUP_ROWS {
            match appends.try_recv() {
                Ok(next) => {
                    rows += next.write.rows();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        match write_group(connection, &group) {
            Ok(fenced) => {
                for (i, append) in group.into_iter().enumerate() {
                    append.stored(fenced.contains(&i));
                }
            }
            // One bad write must not fail the others that shared its commit: write each
            // on its own, so only the faulty one reports the error.
            Err(e) => {
                tracing::warn!(error = %e, appends = group.len(), "group commit failed; writing one by one");
                for append in group {
                    match write_group(connection, std::slice::from_ref(&append)) {
                        Ok(fenced) => append.stored(!fenced.is_empty()),
                        Err(e) => {
                            tracing::error!(error = %e, "history write failed");
                            let _ = append.done.send(Err(WriteFailure::Failed(e.to_string())));
                        }
                    }
                }
            }
        }
    }
}

/// Writes the group in one transaction; returns the indexes of the writes refused because
/// their run is at another epoch than theirs (nothing of those is written).
fn write_group(connection: &mut Connection, group: &[Append]) -> rusqlite::Result<Vec<usize>> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut fenced = Vec::new();
    {
        let mut version = tx.prepare_cached(
            "INSERT OR IGNORE INTO workflow_versions (hash, document) VALUES (?1, ?2)",
        )?;
        // A run that ends in its first write (its steps take no time) is inserted ended.
        let mut create = tx.prepare_cached(
            "INSERT INTO runs (id, workflow_id, workflow, version, input, status, started_at, \
             ended_at, speed, messages, diagnosis, outcome, owner, epoch) \
             VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING no",
        )?;
        // The write lock is held from the transaction's start: no claim can change a run's
        // epoch between this check and the commit.
        let mut number = tx.prepare_cached("SELECT no, epoch FROM runs WHERE id = ?1")?;
        let mut history = tx.prepare_cached(
            "INSERT INTO run_history (run, seq, at_ms, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut end = tx.prepare_cached(
            "UPDATE runs SET status = ?1, ended_at = ?2, messages = ?3, diagnosis = ?4, outcome = ?5 \
             WHERE no = ?6",
        )?;
        for (i, Append { write, .. }) in group.iter().enumerate() {
            let no = match &write.created {
                Some(NewRun { run, version: v }) => {
                    // The workflow document is stored once per distinct content; the run
                    // refers to it.
                    version.execute(params![v.hash, v.document])?;
                    let ended = write.ended.as_ref();
                    create.query_row(
                        params![
                            run.id,
                            run.workflow_id,
                            v.hash,
                            super::encode(&run.input),
                            ended.map_or(run.status, |e| e.status).as_str(),
                            run.started_at,
                            ended.map(|e| e.at_ms).or(run.ended_at),
                            run.speed,
                            ended.map(|e| e.messages.as_str()),
                            ended.and_then(|e| e.diagnosis.as_deref()),
                            ended.and_then(|e| e.outcome.as_deref()),
                            run.owner,
                            write.epoch,
                        ],
                        |row| row.get::<_, i64>(0),
                    )?
                }
                None => {
                    let (no, epoch): (i64, i64) = number
                        .query_row(params![write.run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
                    if epoch != write.epoch {
                        fenced.push(i);
                        continue;
                    }
                    no
                }
            };
            for row in &write.rows {
                history.execute(params![no, row.seq, row.at_ms, row.body.as_str()])?;
            }
            if let Some(ended) = write.ended.as_ref().filter(|_| write.created.is_none()) {
                end.execute(params![
                    ended.status.as_str(),
                    ended.at_ms,
                    ended.messages,
                    ended.diagnosis,
                    ended.outcome,
                    no
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(fenced)
}
