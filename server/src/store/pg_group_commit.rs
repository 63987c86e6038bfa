//! PostgreSQL's group commit: one task takes every run creation and history append waiting,
//! writes them in one transaction (a statement per table, each row set sent as arrays and
//! unnested by the server: a handful of round trips whatever the group's size), and tells
//! each caller once the commit is durable. The same write discipline as SQLite's writer
//! ([`super::group_commit`]): many runs' records share one commit's WAL flush. Unlike
//! SQLite, PostgreSQL takes several writing transactions at once: up to
//! [`GROUPS_IN_FLIGHT`] groups are written at a time, the next one gathering while they
//! commit (a run is in one group at a time: its next write waits for the last).
//!
//! Each append is fenced: the runs a group writes to are read `FOR SHARE` at the start of
//! its transaction, and a write whose epoch is not its run's is refused alone. A claim
//! (`FOR UPDATE SKIP LOCKED`) passes over runs being written and takes them at a later
//! claim, and an append after a claim sees the new epoch: a process that lost a run cannot
//! write to it.

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::mpsc;

use super::group_commit::{Append, NewRun, WriteFailure, MAX_GROUP_ROWS};

/// Groups written at once (each on its own connection of the pool). Measured with the
/// hotpath bench: one group at a time left PostgreSQL's second core idle while a commit
/// was flushed.
pub const GROUPS_IN_FLIGHT: usize = 3;

/// Starts the writer on the current runtime; it ends when every sender is dropped.
pub fn start(pool: PgPool) -> mpsc::UnboundedSender<Append> {
    let (sender, mut appends) = mpsc::unbounded_channel::<Append>();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(GROUPS_IN_FLIGHT));
    tokio::spawn(async move {
        while let Some(first) = appends.recv().await {
            // Wait for a free slot first: what arrives meanwhile joins this group.
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
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
            let pool = pool.clone();
            tokio::spawn(async move {
                write_and_tell(&pool, group).await;
                drop(slot);
            });
        }
    });
    sender
}

/// Writes a group and tells each writer how its write went.
async fn write_and_tell(pool: &PgPool, group: Vec<Append>) {
    match write_group(pool, &group).await {
        Ok(fenced) => {
            for (i, append) in group.into_iter().enumerate() {
                append.stored(fenced.contains(&i));
            }
        }
        // As in SQLite's writer: one bad write must not fail the others.
        Err(e) => {
            tracing::warn!(error = %e, appends = group.len(), "group commit failed; writing one by one");
            for append in group {
                match write_group(pool, std::slice::from_ref(&append)).await {
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

/// The columns of the runs a group creates, one array per column.
#[derive(Default)]
struct NewRuns<'a> {
    id: Vec<&'a str>,
    workflow_id: Vec<&'a str>,
    version: Vec<&'a str>,
    input: Vec<String>,
    status: Vec<&'static str>,
    started_at: Vec<i64>,
    ended_at: Vec<Option<i64>>,
    speed: Vec<f64>,
    messages: Vec<Option<&'a str>>,
    diagnosis: Vec<Option<&'a str>>,
    outcome: Vec<Option<&'a str>>,
    owner: Vec<Option<&'a str>>,
    epoch: Vec<i64>,
}

/// Writes the group in one transaction; returns the indexes of the writes refused because
/// their run is at another epoch than theirs (nothing of those is written).
async fn write_group(pool: &PgPool, group: &[Append]) -> Result<Vec<usize>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (numbers, fenced) = number_runs(&mut tx, group).await?;

    // History rows, in the order they were written.
    let (mut run, mut seq, mut at_ms, mut body) = (vec![], vec![], vec![], vec![]);
    // Runs that end here without being created here.
    let (mut ended_no, mut status, mut ended_at, mut messages, mut diagnosis, mut outcome) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (i, Append { write, .. }) in group.iter().enumerate() {
        if fenced.contains(&i) {
            continue;
        }
        let no = numbers[write.run_id.as_str()];
        for row in &write.rows {
            run.push(no);
            seq.push(row.seq);
            at_ms.push(row.at_ms);
            body.push(row.body.as_str());
        }
        if let Some(end) = write.ended.as_ref().filter(|_| write.created.is_none()) {
            ended_no.push(no);
            status.push(end.status.as_str());
            ended_at.push(end.at_ms);
            messages.push(end.messages.as_str());
            diagnosis.push(end.diagnosis.as_deref());
            outcome.push(end.outcome.as_deref());
        }
    }
    if !run.is_empty() {
        sqlx::query(
            "INSERT INTO run_history (run, seq, at_ms, body) \
             SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[])",
        )
        .bind(&run)
        .bind(&seq)
        .bind(&at_ms)
        .bind(&body)
        .execute(&mut *tx)
        .await?;
    }
    if !ended_no.is_empty() {
        sqlx::query(
            "UPDATE runs r SET status = u.status, ended_at = u.ended_at, messages = u.messages, \
             diagnosis = u.diagnosis, outcome = u.outcome \
             FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[]) \
             AS u (no, status, ended_at, messages, diagnosis, outcome) WHERE r.no = u.no",
        )
        .bind(&ended_no)
        .bind(&status)
        .bind(&ended_at)
        .bind(&messages)
        .bind(&diagnosis)
        .bind(&outcome)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(fenced)
}

/// Creates the group's new runs (with their workflow versions), finds the compact key of
/// every run the group writes to, and which writes are fenced off (by index).
async fn number_runs<'a>(
    tx: &mut Transaction<'_, Postgres>,
    group: &'a [Append],
) -> Result<(HashMap<&'a str, i64>, Vec<usize>), sqlx::Error> {
    let mut numbers: HashMap<&str, i64> = HashMap::new();
    let mut fenced = Vec::new();
    let mut created = NewRuns::default();
    let mut versions: HashMap<&str, &str> = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    for Append { write, .. } in group {
        match &write.created {
            Some(NewRun { run, version }) => {
                versions.insert(&version.hash, &version.document);
                let ended = write.ended.as_ref();
                created.id.push(&run.id);
                created.workflow_id.push(&run.workflow_id);
                created.version.push(&version.hash);
                created.input.push(super::encode(&run.input));
                created
                    .status
                    .push(ended.map_or(run.status, |e| e.status).as_str());
                created.started_at.push(run.started_at);
                created
                    .ended_at
                    .push(ended.map(|e| e.at_ms).or(run.ended_at));
                created.speed.push(run.speed);
                created.messages.push(ended.map(|e| e.messages.as_str()));
                created
                    .diagnosis
                    .push(ended.and_then(|e| e.diagnosis.as_deref()));
                created
                    .outcome
                    .push(ended.and_then(|e| e.outcome.as_deref()));
                created.owner.push(run.owner.as_deref());
                created.epoch.push(write.epoch);
            }
            None => unknown.push(&write.run_id),
        }
    }
    if !created.id.is_empty() {
        // In one order in every group: two groups adding the same new versions wait for
        // each other in turn, never in a circle.
        let mut versions: Vec<(&str, &str)> = versions.into_iter().collect();
        versions.sort_unstable();
        let (hashes, documents): (Vec<&str>, Vec<&str>) = versions.into_iter().unzip();
        sqlx::query(
            "INSERT INTO workflow_versions (hash, document) \
             SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hashes)
        .bind(&documents)
        .execute(&mut **tx)
        .await?;
        let rows = sqlx::query(
            "INSERT INTO runs (id, workflow_id, version, input, status, started_at, ended_at, \
             speed, messages, diagnosis, outcome, owner, epoch) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::int8[], $7::int8[], $8::float8[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::int8[]) \
             RETURNING id, no",
        )
        .bind(&created.id)
        .bind(&created.workflow_id)
        .bind(&created.version)
        .bind(&created.input)
        .bind(&created.status)
        .bind(&created.started_at)
        .bind(&created.ended_at)
        .bind(&created.speed)
        .bind(&created.messages)
        .bind(&created.diagnosis)
        .bind(&created.outcome)
        .bind(&created.owner)
        .bind(&created.epoch)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            if let Some(Append { write, .. }) = group.iter().find(|a| a.write.run_id == id) {
                numbers.insert(&write.run_id, row.try_get("no")?);
            }
        }
    }
    if !unknown.is_empty() {
        // Locked against claims until this transaction ends.
        let rows = sqlx::query("SELECT id, no, epoch FROM runs WHERE id = ANY($1) FOR SHARE")
            .bind(&unknown)
            .fetch_all(&mut **tx)
            .await?;
        let stored: HashMap<String, (i64, i64)> = rows
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    (row.try_get("no")?, row.try_get("epoch")?),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        for (i, Append { write, .. }) in group.iter().enumerate() {
            if write.created.is_some() {
                continue;
            }
            match stored.get(&write.run_id) {
                Some((no, epoch)) if *epoch == write.epoch => {
                    numbers.insert(&write.run_id, *no);
                }
                Some(_) => fenced.push(i),
                None => {
                    return Err(sqlx::Error::Protocol(format!(
                        "history for run {}, which is not stored",
                        write.run_id
                    )))
                }
            }
        }
    }
    Ok((numbers, fenced))
}
