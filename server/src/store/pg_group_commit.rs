//! PostgreSQL's group commit: one task takes every run creation and history append waiting,
//! writes them in one transaction (a statement per table, each row set sent as arrays and
//! unnested by the server: a handful of round trips whatever the group's size), and tells
//! each caller once the commit is durable. The same write discipline as SQLite's writer
//! ([`super::group_commit`]): many runs' records share one commit's WAL flush.

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::mpsc;

use super::group_commit::{Append, NewRun, MAX_GROUP_ROWS};

/// Starts the writer on the current runtime; it ends when every sender is dropped.
pub fn start(pool: PgPool) -> mpsc::UnboundedSender<Append> {
    let (sender, mut appends) = mpsc::unbounded_channel::<Append>();
    tokio::spawn(async move {
        // The compact keys of runs this process writes, so history rows need no lookup.
        let mut run_numbers: HashMap<String, i64> = HashMap::new();
        while let Some(first) = appends.recv().await {
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
            match write_group(&pool, &group, &mut run_numbers).await {
                Ok(()) => {
                    for append in group {
                        let _ = append.done.send(Ok(()));
                    }
                }
                // As in SQLite's writer: one bad write must not fail the others.
                Err(e) => {
                    tracing::warn!(error = %e, appends = group.len(), "group commit failed; writing one by one");
                    for append in group {
                        let result =
                            write_group(&pool, std::slice::from_ref(&append), &mut run_numbers)
                                .await
                                .map_err(|e| e.to_string());
                        if let Err(e) = &result {
                            tracing::error!(error = %e, "history write failed");
                        }
                        let _ = append.done.send(result);
                    }
                }
            }
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
}

async fn write_group(
    pool: &PgPool,
    group: &[Append],
    run_numbers: &mut HashMap<String, i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let numbers = number_runs(&mut tx, group, run_numbers).await?;

    // History rows, in the order they were written.
    let (mut run, mut seq, mut at_ms, mut body) = (vec![], vec![], vec![], vec![]);
    // Runs that end here without being created here.
    let (mut ended_no, mut status, mut ended_at, mut messages, mut diagnosis, mut outcome) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for Append { write, .. } in group {
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
    for Append { write, .. } in group {
        if write.ended.is_some() {
            run_numbers.remove(&write.run_id);
        } else if let Some(no) = numbers.get(write.run_id.as_str()) {
            run_numbers.insert(write.run_id.clone(), *no);
        }
    }
    Ok(())
}

/// Creates the group's new runs (with their workflow versions) and finds the compact key of
/// every run the group writes to.
async fn number_runs<'a>(
    tx: &mut Transaction<'_, Postgres>,
    group: &'a [Append],
    run_numbers: &HashMap<String, i64>,
) -> Result<HashMap<&'a str, i64>, sqlx::Error> {
    let mut numbers: HashMap<&str, i64> = HashMap::new();
    let mut created = NewRuns::default();
    let mut versions: HashMap<&str, &str> = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    for Append { write, .. } in group {
        match (&write.created, run_numbers.get(&write.run_id)) {
            (Some(NewRun { run, version }), _) => {
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
            }
            (None, Some(no)) => {
                numbers.insert(&write.run_id, *no);
            }
            (None, None) => unknown.push(&write.run_id),
        }
    }
    if !created.id.is_empty() {
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
             speed, messages, diagnosis, outcome) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::int8[], $7::int8[], $8::float8[], $9::text[], $10::text[], $11::text[]) \
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
        .fetch_all(&mut **tx)
        .await?;
        remember(&mut numbers, group, rows)?;
    }
    if !unknown.is_empty() {
        let rows = sqlx::query("SELECT id, no FROM runs WHERE id = ANY($1)")
            .bind(&unknown)
            .fetch_all(&mut **tx)
            .await?;
        remember(&mut numbers, group, rows)?;
        if let Some(missing) = unknown.iter().find(|id| !numbers.contains_key(*id)) {
            return Err(sqlx::Error::Protocol(format!(
                "history for run {missing}, which is not stored"
            )));
        }
    }
    Ok(numbers)
}

/// Records the `(id, no)` rows under the group's own run ids (borrowed from the group).
fn remember<'a>(
    numbers: &mut HashMap<&'a str, i64>,
    group: &'a [Append],
    rows: Vec<sqlx::postgres::PgRow>,
) -> Result<(), sqlx::Error> {
    let by_id: HashMap<String, i64> = rows
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("no")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    for Append { write, .. } in group {
        if let Some(no) = by_id.get(&write.run_id) {
            numbers.insert(&write.run_id, *no);
        }
    }
    Ok(())
}
