//! SQLite's writer: one thread with its own connection writes every group in one
//! `BEGIN IMMEDIATE` transaction with cached prepared statements (WAL + `synchronous=FULL`
//! stays affordable: one fsync per group). Its own thread, not sqlx's pool: a whole group is
//! one hand-off in and one wake-up per caller out, and the blocking fsync never occupies an
//! async worker.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{gather, settle, Append, NewRun, Outcome};
use crate::store::StoreError;

/// Prepared statements the writer keeps (it uses six).
const STATEMENT_CACHE: usize = 16;

/// Opens the writer's connection to the database at `path` (WAL from then on, for every
/// connection) and starts its thread; the thread ends when every sender is dropped.
pub fn start(path: &Path, busy_timeout: Duration) -> Result<mpsc::Sender<Append>, StoreError> {
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(busy_timeout)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let (sender, appends) = mpsc::channel();
    std::thread::Builder::new()
        .name("group-commit".into())
        .spawn(move || run(&mut connection, appends))
        .map_err(StoreError::WriterThread)?;
    Ok(sender)
}

fn run(connection: &mut Connection, appends: mpsc::Receiver<Append>) {
    while let Ok(first) = appends.recv() {
        let group = gather(first, || appends.try_recv().ok());
        let written = write_group(connection, &group).map_err(StoreError::from);
        if let Some(group) = settle(group, written) {
            for append in group {
                let written = write_group(connection, std::slice::from_ref(&append));
                settle(vec![append], written.map_err(StoreError::from));
            }
        }
    }
}

/// Writes the group in one transaction; says for each write whether it was stored or
/// refused (nothing of a refused one is written).
fn write_group(connection: &mut Connection, group: &[Append]) -> rusqlite::Result<Vec<Outcome>> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(group.len());
    {
        let mut version = tx.prepare_cached(
            "INSERT OR IGNORE INTO workflow_versions (hash, document) VALUES (?1, ?2)",
        )?;
        // A run that ends in its first write (its steps take no time) is inserted ended.
        let mut create = tx.prepare_cached(
            "INSERT INTO runs (id, workflow_id, workflow, version, input, status, started_at, \
             ended_at, speed, messages, diagnosis, outcome, owner, epoch, kind, parent_run, parent) \
             VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
             ON CONFLICT (id) DO NOTHING RETURNING no",
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
        for Append { write, .. } in group {
            let no = match &write.created {
                Some(NewRun { run, version: v }) => {
                    // The workflow document is stored once per distinct content; the run
                    // refers to it.
                    version.execute(params![v.hash, v.document])?;
                    let ended = write.ended.as_ref();
                    let created = create
                        .query_row(
                            params![
                                run.id,
                                run.workflow_id,
                                v.hash,
                                crate::store::encode(run.input.as_ref()),
                                ended.map_or(run.status, |e| e.status).as_str(),
                                run.started_at,
                                ended.map(|e| e.at_ms).or(run.ended_at),
                                run.speed,
                                ended.map(|e| e.messages.as_str()),
                                ended.and_then(|e| e.diagnosis.as_deref()),
                                ended.and_then(|e| e.outcome.as_deref()),
                                run.owner,
                                write.epoch,
                                run.kind.as_str(),
                                run.parent.as_ref().map(|p| p.run.as_str()),
                                run.parent.as_ref().map(crate::store::encode),
                            ],
                            |row| row.get::<_, i64>(0),
                        )
                        .optional()?;
                    match created {
                        Some(no) => no,
                        None => {
                            outcomes.push(Outcome::Duplicate);
                            continue;
                        }
                    }
                }
                None => {
                    let stored: Option<(i64, i64)> = number
                        .query_row(params![write.run_id], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()?;
                    match stored {
                        Some((no, epoch)) if epoch == write.epoch => no,
                        // Another process's now, or deleted: a stale writer's, refused.
                        _ => {
                            outcomes.push(Outcome::Fenced);
                            continue;
                        }
                    }
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
            outcomes.push(Outcome::Stored);
        }
    }
    tx.commit()?;
    Ok(outcomes)
}
