//! The embedded default: SQLite in WAL mode through sqlx, migrated on open.
//!
//! (About 790 lines: one store behind every store trait — workflows and their versions,
//! runs, history, lab batches, retention — on one connection pool and one write discipline
//! (`BEGIN IMMEDIATE`, group commit), which is what a reader checks.)

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{LabDocument, LabStore, Replaced, RunStore, StoreError, StoredRun, WorkflowStore};
use crate::clock::Clock;

/// Connections in the pool: SQLite has one writer at a time, the rest serve readers
/// (WebSocket replays, GETs) concurrently under WAL.
const POOL_CONNECTIONS: u32 = 4;
/// How long a connection waits for the write lock before reporting the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How every write transaction starts: with the write lock taken at once (waiting up to
/// [`BUSY_TIMEOUT`] for it). A deferred transaction that reads before it writes fails at its
/// first write with `SQLITE_BUSY_SNAPSHOT`, without waiting, whenever another writer (the
/// group commit, busy under load) has committed since its read — retention never pruned
/// anything under load that way.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// At most this many history rows go into one group commit; more waiting appends go
/// into the next one, so a single commit never holds the write lock for long.
const MAX_GROUP_ROWS: usize = 1_024;
/// Rows per INSERT statement (4 parameters each, well under SQLite's parameter limit).
const ROWS_PER_STATEMENT: usize = 200;

pub struct SqliteStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    writer: mpsc::UnboundedSender<Append>,
}

/// A history record ready for its row: seq, time, JSON body.
struct EncodedRecord {
    seq: i64,
    at_ms: i64,
    body: String,
}

/// A write waiting for the group commit, and who to tell when it is durable.
struct Append {
    write: Write,
    done: oneshot::Sender<Result<(), String>>,
}

enum Write {
    /// A new run (written before any history in the same commit).
    Run(Box<StoredRun>),
    /// One run's history records, already encoded (by the caller's task, in parallel,
    /// so the single writer only writes), and the status they end the run with, if any.
    History {
        run_id: String,
        rows: Vec<EncodedRecord>,
        ended: Option<RunEnd>,
    },
}

/// How a run ended, for its row in `runs`.
struct RunEnd {
    status: RunStatus,
    at_ms: i64,
    /// JSON of the run's `MessageCounts`.
    messages: String,
    diagnosis: Option<String>,
    /// JSON of the run's outcome line, if any.
    outcome: Option<String>,
}

impl Write {
    fn rows(&self) -> usize {
        match self {
            Write::Run(_) => 1,
            Write::History { rows, .. } => rows.len(),
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed, with its folder) the database at `url` — a `sqlite:` URL or
    /// a plain file path — and applies pending migrations. Reports whether the file is new.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<(Self, bool), StoreError> {
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let filename = options.get_filename().to_path_buf();
        let is_new = !filename.exists();
        if let Some(folder) = filename.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_folder(folder)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let (writer, appends) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(pool.clone(), appends));
        Ok((
            SqliteStore {
                pool,
                clock,
                writer,
            },
            is_new,
        ))
    }
}

/// The history writer: takes every append waiting, writes them all in one transaction
/// (one fsync for many runs' records: WAL + `synchronous=FULL` stays affordable), then
/// tells each caller its records are durable.
async fn group_commit(pool: SqlitePool, mut appends: mpsc::UnboundedReceiver<Append>) {
    // The compact keys of the runs being written, so history rows need no lookup.
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
            // One bad write must not fail the others that shared its commit: write each
            // on its own, so only the faulty one reports the error.
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
}

async fn write_group(
    pool: &SqlitePool,
    group: &[Append],
    run_numbers: &mut HashMap<String, i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let mut created = Vec::new();
    for append in group {
        if let Write::Run(run) = &append.write {
            // The workflow document is stored once per distinct content; the run refers to it.
            let document = encode(&run.workflow);
            let version = content_hash(&document);
            sqlx::query("INSERT OR IGNORE INTO workflow_versions (hash, document) VALUES (?, ?)")
                .bind(&version)
                .bind(&document)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "INSERT INTO runs (id, workflow_id, workflow, version, input, status, started_at, ended_at, speed) VALUES (?, ?, '', ?, ?, ?, ?, ?, ?) RETURNING no",
            )
            .bind(&run.id)
            .bind(&run.workflow_id)
            .bind(&version)
            .bind(encode(&run.input))
            .bind(run.status.as_str())
            .bind(run.started_at)
            .bind(run.ended_at)
            .bind(run.speed)
            .fetch_one(&mut *tx)
            .await?;
            created.push((run.id.clone(), row.try_get::<i64, _>("no")?));
        }
    }
    // Numbers of runs not created in this process (resumed after a restart).
    for append in group {
        if let Write::History { run_id, .. } = &append.write {
            if !run_numbers.contains_key(run_id) && !created.iter().any(|(id, _)| id == run_id) {
                let no: i64 = sqlx::query_scalar("SELECT no FROM runs WHERE id = ?")
                    .bind(run_id)
                    .fetch_one(&mut *tx)
                    .await?;
                run_numbers.insert(run_id.clone(), no);
            }
        }
    }
    let numbers: HashMap<&str, i64> = created
        .iter()
        .map(|(id, no)| (id.as_str(), *no))
        .chain(run_numbers.iter().map(|(id, no)| (id.as_str(), *no)))
        .collect();
    let rows: Vec<(i64, &EncodedRecord)> = group
        .iter()
        .filter_map(|a| match &a.write {
            Write::History { run_id, rows, .. } => Some((run_id.as_str(), rows)),
            Write::Run(_) => None,
        })
        .flat_map(|(run_id, rows)| rows.iter().map(|r| (numbers[run_id], r)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO run_history (run, seq, at_ms, body) ");
        insert.push_values(chunk, |mut row, (run, record)| {
            row.push_bind(*run)
                .push_bind(record.seq)
                .push_bind(record.at_ms)
                .push_bind(record.body.as_str());
        });
        insert.build().execute(&mut *tx).await?;
    }
    for append in group {
        if let Write::History {
            run_id,
            ended: Some(end),
            ..
        } = &append.write
        {
            sqlx::query(
                "UPDATE runs SET status = ?, ended_at = ?, messages = ?, diagnosis = ?, outcome = ? \
                 WHERE id = ?",
            )
            .bind(end.status.as_str())
            .bind(end.at_ms)
            .bind(end.messages.as_str())
            .bind(end.diagnosis.as_deref())
            .bind(end.outcome.as_deref())
            .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    for (id, no) in created {
        run_numbers.insert(id, no);
    }
    for append in group {
        if let Write::History {
            run_id,
            ended: Some(_),
            ..
        } = &append.write
        {
            run_numbers.remove(run_id);
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Hands a write to the group commit and waits until it is durable.
    async fn write(&self, write: Write) -> Result<(), StoreError> {
        let (done, durable) = oneshot::channel();
        self.writer
            .send(Append { write, done })
            .map_err(|_| StoreError::WriterGone)?;
        durable
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e)))
    }
}

/// SQL built by this module from its own constants (table and column names), never from
/// input: every value is bound as a parameter.
fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

/// The key of a stored workflow version: the SHA-256 of its JSON, in hex.
fn content_hash(document: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(document.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deletes the runs numbered `runs` and their history, in `tx`.
async fn delete_runs(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    runs: &[i64],
) -> Result<(), StoreError> {
    for table in ["run_history WHERE run", "runs WHERE no"] {
        for chunk in runs.chunks(ROWS_PER_STATEMENT) {
            let mut delete = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} IN ("));
            let mut list = delete.separated(", ");
            for no in chunk {
                list.push_bind(*no);
            }
            delete.push(")");
            delete.build().execute(&mut **tx).await?;
        }
    }
    Ok(())
}

fn create_folder(folder: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
        path: folder.display().to_string(),
        source,
    })
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own types to JSON cannot fail: no maps with non-string keys, no
    // custom serialisers that error.
    serde_json::to_string(value).unwrap_or_default()
}

fn workflow_record(row: &sqlx::sqlite::SqliteRow) -> Result<WorkflowRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let workflow: Workflow = decode(&format!("workflow {id}"), row.try_get("document")?)?;
    Ok(WorkflowRecord {
        id,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        revision: row.try_get("revision")?,
        workflow,
    })
}

const WORKFLOW_COLUMNS: &str = "id, name, document, created_at, updated_at, revision";

#[async_trait]
impl WorkflowStore for SqliteStore {
    async fn insert_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<WorkflowRecord, StoreError> {
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(WorkflowRecord {
            id: id.to_string(),
            created_at: now,
            updated_at: now,
            revision: 1,
            workflow: workflow.clone(),
        })
    }

    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows ORDER BY updated_at DESC, rowid DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let record = workflow_record(row)?;
                Ok(WorkflowSummary {
                    id: record.id,
                    name: record.workflow.name,
                    nodes: record.workflow.nodes.len(),
                    edges: record.workflow.edges.len(),
                    updated_at: record.updated_at,
                })
            })
            .collect()
    }

    async fn get_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(workflow_record).transpose()
    }

    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError> {
        let now = self.clock.now_ms();
        let row = sqlx::query(
            "UPDATE workflows SET name = ?, document = ?, updated_at = ?, revision = revision + 1 \
             WHERE id = ? AND (? IS NULL OR revision = ?) RETURNING created_at, revision",
        )
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(id)
        .bind(if_revision)
        .bind(if_revision)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Replaced::Done(WorkflowRecord {
                id: id.to_string(),
                created_at: row.try_get("created_at")?,
                updated_at: now,
                revision: row.try_get("revision")?,
                workflow: workflow.clone(),
            }));
        }
        let current: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM workflows WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match current {
            Some(revision) => Replaced::Stale { revision },
            None => Replaced::Missing,
        })
    }

    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        for table in [Batch::TABLE, LoadTest::TABLE] {
            sqlx::query(sql(format!("DELETE FROM {table} WHERE workflow_id = ?")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM workflows WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// A run's columns, its workflow read from its stored version (or its own copy, for runs
/// stored before versions existed).
const RUN_COLUMNS: &str = "r.id AS id, r.workflow_id AS workflow_id, \
     COALESCE(v.document, r.workflow) AS workflow, r.input AS input, r.status AS status, \
     r.started_at AS started_at, r.ended_at AS ended_at, r.speed AS speed";
const RUN_FROM: &str = "runs r LEFT JOIN workflow_versions v ON v.hash = r.version";

fn stored_run(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRun, StoreError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    Ok(StoredRun {
        workflow_id: row.try_get("workflow_id")?,
        workflow: decode(&format!("run {id} workflow"), row.try_get("workflow")?)?,
        input: decode(&format!("run {id} input"), row.try_get("input")?)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        speed: row.try_get("speed")?,
        id,
    })
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(&self, run: &StoredRun) -> Result<(), StoreError> {
        self.write(Write::Run(Box::new(run.clone()))).await
    }

    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_run).transpose()
    }

    async fn running_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.status = 'running' ORDER BY r.started_at"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_run).collect()
    }

    async fn append_history(&self, run_id: &str, records: &[RunRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let ended = records.iter().find_map(|r| match &r.event {
            RunEvent::RunCompleted {
                status,
                diagnosis,
                messages,
                outcome,
            } => Some(RunEnd {
                status: *status,
                at_ms: r.at_ms,
                messages: serde_json::to_string(messages).unwrap_or_default(),
                diagnosis: diagnosis.clone(),
                outcome: outcome
                    .as_ref()
                    .map(|o| serde_json::to_string(o).unwrap_or_default()),
            }),
            _ => None,
        });
        let rows = records
            .iter()
            .map(|r| EncodedRecord {
                seq: r.seq as i64,
                at_ms: r.at_ms,
                body: encode(r),
            })
            .collect();
        self.write(Write::History {
            run_id: run_id.to_string(),
            rows,
            ended,
        })
        .await
    }

    async fn history_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run \
             WHERE r.id = ? AND h.seq > ? ORDER BY h.seq LIMIT ?",
        )
        .bind(run_id)
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                decode(&format!("run {run_id} event {seq}"), row.try_get("body")?)
            })
            .collect()
    }

    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, workflow_id, status, started_at, ended_at, messages, diagnosis, input, \
             outcome, speed FROM runs \
             WHERE workflow_id = ? ORDER BY started_at DESC, no DESC LIMIT ?",
        )
        .bind(workflow_id)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let status: String = row.try_get("status")?;
                let messages: Option<String> = row.try_get("messages")?;
                let input: String = row.try_get("input")?;
                let outcome: Option<String> = row.try_get("outcome")?;
                Ok(RunSummary {
                    workflow_id: row.try_get("workflow_id")?,
                    status: RunStatus::parse(&status).ok_or_else(|| {
                        StoreError::Corrupt(format!("run {id} status {status:?}"))
                    })?,
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    messages: messages
                        .map(|m| decode(&format!("run {id} messages"), &m))
                        .transpose()?,
                    diagnosis: row.try_get("diagnosis")?,
                    input: decode(&format!("run {id} input"), &input)?,
                    outcome: outcome
                        .map(|o| decode(&format!("run {id} outcome"), &o))
                        .transpose()?,
                    speed: Some(row.try_get("speed")?),
                    id,
                })
            })
            .collect()
    }

    async fn delete_ended_runs(
        &self,
        prefix: &str,
        keep: &str,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let runs: Vec<i64> = sqlx::query_scalar(
            "SELECT no FROM runs WHERE substr(workflow_id, 1, length(?1)) = ?1 \
             AND substr(workflow_id, 1, length(?2)) <> ?2 AND status <> 'running' LIMIT ?3",
        )
        .bind(prefix)
        .bind(keep)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&mut *tx)
        .await?;
        if runs.is_empty() {
            return Ok(0);
        }
        delete_runs(&mut tx, &runs).await?;
        tx.commit().await?;
        Ok(runs.len() as u64)
    }

    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        // Runs of deleted workflows (load-test runs belong to the lab, not to a workflow).
        let mut runs: Vec<i64> = sqlx::query_scalar(
            "SELECT r.no FROM runs r WHERE r.status <> 'running' \
             AND substr(r.workflow_id, 1, length(?1)) <> ?1 \
             AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id) LIMIT ?2",
        )
        .bind(crate::lab::LOAD_RUNS_PREFIX)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if keep > 0 {
            let keep = keep.min(i64::MAX as usize) as i64;
            let crowded: Vec<String> = sqlx::query_scalar(
                "SELECT workflow_id FROM runs WHERE status <> 'running' \
                 AND substr(workflow_id, 1, length(?1)) <> ?1 \
                 GROUP BY workflow_id HAVING COUNT(*) > ?2",
            )
            .bind(crate::lab::LOAD_RUNS_PREFIX)
            .bind(keep)
            .fetch_all(&mut *tx)
            .await?;
            for workflow_id in crowded {
                let room = limit - runs.len() as i64;
                if room <= 0 {
                    break;
                }
                let older: Vec<i64> = sqlx::query_scalar(
                    "SELECT no FROM runs WHERE workflow_id = ? AND status <> 'running' \
                     ORDER BY no DESC LIMIT ? OFFSET ?",
                )
                .bind(&workflow_id)
                .bind(room)
                .bind(keep)
                .fetch_all(&mut *tx)
                .await?;
                runs.extend(older);
            }
        }
        if runs.is_empty() {
            return Ok(0);
        }
        delete_runs(&mut tx, &runs).await?;
        // Versions no run refers to any more.
        sqlx::query(
            "DELETE FROM workflow_versions WHERE NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.version = workflow_versions.hash)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(runs.len() as u64)
    }
}

#[async_trait]
impl LabStore for SqliteStore {
    async fn save_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        self.save_document(batch).await
    }

    async fn get_batch(&self, id: &str) -> Result<Option<Batch>, StoreError> {
        self.get_document(id).await
    }

    async fn list_batches(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<Batch>, StoreError> {
        self.list_documents(workflow_id, limit).await
    }

    async fn running_batches(&self) -> Result<Vec<Batch>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body FROM lab_batches WHERE json_extract(body, '$.state') = 'running' \
             ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        decode_documents(&rows)
    }

    async fn save_load(&self, test: &LoadTest) -> Result<(), StoreError> {
        self.save_document(test).await
    }

    async fn get_load(&self, id: &str) -> Result<Option<LoadTest>, StoreError> {
        self.get_document(id).await
    }

    async fn list_loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError> {
        self.list_documents(workflow_id, limit).await
    }
}

impl SqliteStore {
    async fn save_document<T: LabDocument>(&self, doc: &T) -> Result<(), StoreError> {
        let body = serde_json::to_string(doc)
            .map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", T::WHAT, doc.id())))?;
        sqlx::query(sql(format!(
            "INSERT INTO {} (id, workflow_id, created_at, body) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            T::TABLE
        )))
        .bind(doc.id())
        .bind(doc.workflow_id())
        .bind(doc.created_at())
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_document<T: LabDocument>(&self, id: &str) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT body FROM {} WHERE id = ?", T::TABLE)))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let body: String = row.try_get("body")?;
            decode(&format!("{} {id}", T::WHAT), &body)
        })
        .transpose()
    }

    async fn list_documents<T: LabDocument>(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT id, body FROM {} WHERE workflow_id = ? \
             ORDER BY created_at DESC, rowid DESC LIMIT ?",
            T::TABLE
        )))
        .bind(workflow_id)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        decode_documents(&rows)
    }
}

/// Rows of `id` and `body` read back as lab documents.
fn decode_documents<T: LabDocument>(
    rows: &[sqlx::sqlite::SqliteRow],
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            decode(&format!("{} {id}", T::WHAT), &body)
        })
        .collect()
}
