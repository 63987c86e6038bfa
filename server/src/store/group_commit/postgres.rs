//! PostgreSQL's writer: one task gathers groups; each group is one transaction of a
//! statement per table, its rows sent as arrays and unnested by the server (a handful of
//! round trips whatever the group's size). Unlike SQLite, PostgreSQL takes several writing
//! transactions at once: up to [`GROUPS_IN_FLIGHT`] groups are written at a time, the next
//! one gathering while they commit (a run is in one group at a time: its next write waits
//! for the last).
//!
//! The runs a group appends to are read `FOR SHARE` at the start of its transaction; a
//! claim (`FOR UPDATE SKIP LOCKED`) passes over runs being written and takes them at a later
//! claim, and an append after a claim sees the new epoch.

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::mpsc;

use super::{gather, settle, Append, NewRun, Outcome};
use crate::store::StoreError;

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
            let group = gather(first, || appends.try_recv().ok());
            let pool = pool.clone();
            tokio::spawn(async move {
                let written = write_group(&pool, &group).await;
                if let Some(group) = settle(group, written) {
                    for append in group {
                        let written = write_group(&pool, std::slice::from_ref(&append)).await;
                        settle(vec![append], written);
                    }
                }
                drop(slot);
            });
        }
    });
    sender
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
    kind: Vec<&'static str>,
    parent_run: Vec<Option<&'a str>>,
    parent: Vec<Option<String>>,
}

/// Writes the group in one transaction; says for each write whether it was stored or
/// refused (nothing of a refused one is written).
async fn write_group(pool: &PgPool, group: &[Append]) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = pool.begin().await?;
    let (numbers, outcomes) = number_runs(&mut tx, group).await?;

    // History rows, in the order they were written.
    let (mut run, mut seq, mut at_ms, mut body) = (vec![], vec![], vec![], vec![]);
    // Runs that end here without being created here.
    let (mut ended_no, mut status, mut ended_at, mut messages, mut diagnosis, mut outcome) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (Append { write, .. }, done) in group.iter().zip(&outcomes) {
        if *done != Outcome::Stored {
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
    Ok(outcomes)
}

/// Creates the group's new runs (with their workflow versions), finds the compact key of
/// every run the group writes to, and which writes are refused.
async fn number_runs<'a>(
    tx: &mut Transaction<'_, Postgres>,
    group: &'a [Append],
) -> Result<(HashMap<&'a str, i64>, Vec<Outcome>), StoreError> {
    let mut numbers: HashMap<&str, i64> = HashMap::new();
    let mut created = NewRuns::default();
    let mut versions: HashMap<&str, &str> = HashMap::new();
    let mut appended_to: Vec<&str> = Vec::new();
    for Append { write, .. } in group {
        match &write.created {
            Some(NewRun { run, version }) => {
                versions.insert(&version.hash, &version.document);
                let ended = write.ended.as_ref();
                created.id.push(&run.id);
                created.workflow_id.push(&run.workflow_id);
                created.version.push(&version.hash);
                created.input.push(crate::store::encode(run.input.as_ref()));
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
                created.kind.push(run.kind.as_str());
                created
                    .parent_run
                    .push(run.parent.as_ref().map(|p| p.run.as_str()));
                created
                    .parent
                    .push(run.parent.as_ref().map(crate::store::encode));
            }
            None => appended_to.push(&write.run_id),
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
        // A run whose id is stored already is not created again (a retried creation whose
        // first commit went through): it returns no row.
        let rows = sqlx::query(
            "INSERT INTO runs (id, workflow_id, version, input, status, started_at, ended_at, \
             speed, messages, diagnosis, outcome, owner, epoch, kind, parent_run, parent) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::int8[], $7::int8[], $8::float8[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::int8[], $14::text[], $15::text[], $16::text[]) \
             ON CONFLICT (id) DO NOTHING RETURNING id, no",
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
        .bind(&created.kind)
        .bind(&created.parent_run)
        .bind(&created.parent)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            if let Some(Append { write, .. }) = group.iter().find(|a| a.write.run_id == id) {
                numbers.insert(&write.run_id, row.try_get("no")?);
            }
        }
    }
    let mut stored: HashMap<String, (i64, i64)> = HashMap::new();
    if !appended_to.is_empty() {
        // Locked against claims until this transaction ends.
        let rows = sqlx::query("SELECT id, no, epoch FROM runs WHERE id = ANY($1) FOR SHARE")
            .bind(&appended_to)
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            stored.insert(
                row.try_get("id")?,
                (row.try_get("no")?, row.try_get("epoch")?),
            );
        }
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for Append { write, .. } in group {
        let outcome = if write.created.is_some() {
            if numbers.contains_key(write.run_id.as_str()) {
                Outcome::Stored
            } else {
                Outcome::Duplicate
            }
        } else {
            match stored.get(&write.run_id) {
                Some((no, epoch)) if *epoch == write.epoch => {
                    numbers.insert(&write.run_id, *no);
                    Outcome::Stored
                }
                // Another process's now, or deleted: a stale writer's, refused.
                _ => Outcome::Fenced,
            }
        };
        outcomes.push(outcome);
    }
    Ok((numbers, outcomes))
}
