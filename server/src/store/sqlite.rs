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
use app::model::{RunRecord, RunStatus, Workflow};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::sync::Mutex;

use super::group_commit::{self, encode_history, Append, NewRun, Write};
use super::{
    encode, Claimed, LabDocument, LabStore, LeaseHolder, OwnershipStore, Recorded, Replaced,
    RunStore, StoreError, StoredRun, WorkflowStore, WorkflowVersion,
};
use crate::clock::Clock;
use crate::engine::hub::LiveRecord;

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

/// Rows per statement of the chunked deletes (well under SQLite's parameter limit).
const ROWS_PER_STATEMENT: usize = 200;

/// Workflow versions kept decoded for starting runs; past this, the cache starts again
/// empty (it only saves work: a miss reads the workflow from the database).
pub const MAX_CACHED_VERSIONS: usize = 256;

pub struct SqliteStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    writer: std::sync::mpsc::Sender<Append>,
    versions: Mutex<Versions>,
}

/// The current version of recently run workflows, by workflow id. Every change to a workflow
/// goes through this store and bumps `generation`, so a read that raced with a change
/// (began before it) is not cached.
#[derive(Default)]
struct Versions {
    generation: u64,
    by_workflow: HashMap<String, Arc<WorkflowVersion>>,
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
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writer = group_commit::start(&filename, BUSY_TIMEOUT)?;
        Ok((
            SqliteStore {
                pool,
                clock,
                writer,
                versions: Mutex::default(),
            },
            is_new,
        ))
    }

    /// Forgets cached versions: the workflow `id` changed.
    fn workflow_changed(&self, id: &str) {
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        versions.generation += 1;
        versions.by_workflow.remove(id);
    }
}

impl SqliteStore {
    /// The `seq` and JSON `body` of at most `limit` history records with `seq > after`.
    async fn history_rows(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run \
             WHERE r.id = ? AND h.seq > ? ORDER BY h.seq LIMIT ?",
        )
        .bind(run_id)
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Hands a write to the group commit and waits until it is durable.
    async fn write(&self, write: Write) -> Result<(), StoreError> {
        let (done, durable) = tokio::sync::oneshot::channel();
        let (run, epoch) = (write.run_id.clone(), write.epoch);
        self.writer
            .send(Append { write, done })
            .map_err(|_| StoreError::WriterGone)?;
        durable
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(|failure| failure.into_error(&run, epoch))
    }
}

/// SQL built by this module from its own constants (table and column names), never from
/// input: every value is bound as a parameter.
fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
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
        self.workflow_changed(id);
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

    async fn put_template(&self, id: &str, workflow: &Workflow) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        self.workflow_changed(id);
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE \
             SET name = excluded.name, document = excluded.document, updated_at = ?4, \
             revision = workflows.revision + 1 WHERE workflows.document <> excluded.document",
        )
        .bind(id)
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
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

    async fn version(&self, id: &str) -> Result<Option<Arc<WorkflowVersion>>, StoreError> {
        let generation = {
            let versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(version) = versions.by_workflow.get(id) {
                return Ok(Some(version.clone()));
            }
            versions.generation
        };
        let Some(record) = self.get_workflow(id).await? else {
            return Ok(None);
        };
        let version = WorkflowVersion::new(record.workflow);
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        if versions.generation == generation {
            if versions.by_workflow.len() >= MAX_CACHED_VERSIONS {
                versions.by_workflow.clear();
            }
            versions.by_workflow.insert(id.to_string(), version.clone());
        }
        Ok(Some(version))
    }

    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError> {
        let now = self.clock.now_ms();
        // Before the write: a run starting meanwhile must not cache what it read before.
        self.workflow_changed(id);
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
        self.workflow_changed(id);
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// A run's columns, its workflow read from its stored version (or its own copy, for runs
/// stored before versions existed).
const RUN_COLUMNS: &str = "r.id AS id, r.workflow_id AS workflow_id, \
     COALESCE(v.document, r.workflow) AS workflow, r.input AS input, r.status AS status, \
     r.started_at AS started_at, r.ended_at AS ended_at, r.speed AS speed, r.owner AS owner, r.epoch AS epoch";
const RUN_FROM: &str = "runs r LEFT JOIN workflow_versions v ON v.hash = r.version";

fn stored_run(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRun, StoreError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    Ok(StoredRun {
        workflow_id: row.try_get("workflow_id")?,
        workflow: Arc::new(decode(
            &format!("run {id} workflow"),
            row.try_get("workflow")?,
        )?),
        input: decode(&format!("run {id} input"), row.try_get("input")?)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        speed: row.try_get("speed")?,
        owner: row.try_get("owner")?,
        epoch: row.try_get("epoch")?,
        id,
    })
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(
        &self,
        run: &StoredRun,
        version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError> {
        let (rows, ended) = encode_history(first);
        self.write(Write {
            run_id: run.id.clone(),
            epoch: run.epoch,
            created: Some(NewRun {
                run: run.clone(),
                version: version.clone(),
            }),
            rows,
            ended,
        })
        .await
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

    async fn append_history(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let (rows, ended) = encode_history(records);
        self.write(Write {
            run_id: run_id.to_string(),
            epoch,
            created: None,
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
        let rows = self.history_rows(run_id, after, limit).await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                decode(&format!("run {run_id} event {seq}"), row.try_get("body")?)
            })
            .collect()
    }

    async fn history_json_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LiveRecord>, StoreError> {
        let rows = self.history_rows(run_id, after, limit).await?;
        rows.into_iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                LiveRecord::from_stored(run_id, body)
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
                super::run_summary(
                    row.try_get("id")?,
                    row.try_get("workflow_id")?,
                    &row.try_get::<String, _>("status")?,
                    row.try_get("started_at")?,
                    row.try_get("ended_at")?,
                    row.try_get("messages")?,
                    row.try_get("diagnosis")?,
                    &row.try_get::<String, _>("input")?,
                    row.try_get("outcome")?,
                    row.try_get("speed")?,
                )
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

/// The store's clock in SQL: milliseconds since the Unix epoch. Leases are written and
/// compared on this one clock, whatever the processes' own clocks say.
const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// How long a process's row stays after its lease ran out, once it owns no run in progress.
const FORGET_PROCESS_AFTER_MS: i64 = 3_600_000;

#[async_trait]
impl OwnershipStore for SqliteStore {
    async fn renew_lease(&self, process: &str, lease: Duration) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        sqlx::query(sql(format!(
            "INSERT INTO processes (id, lease_until, started_at) VALUES (?1, {NOW_MS} + ?2, {NOW_MS}) \
             ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until"
        )))
        .bind(process)
        .bind(lease.as_millis().min(i64::MAX as u128) as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sql(format!(
            "DELETE FROM processes WHERE lease_until < {NOW_MS} - ?1 AND NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.owner = processes.id AND r.status = 'running')"
        )))
        .bind(FORGET_PROCESS_AFTER_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_lease(&self, process: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE processes SET lease_until = 0 WHERE id = ?")
            .bind(process)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn claim_runs(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        // One writer at a time (the write lock is taken first): the check and the claim
        // cannot be split by another process's claim or append.
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let claimable: Vec<(i64, Option<String>)> = sqlx::query_as(sql(format!(
            "SELECT r.no, r.owner FROM runs r WHERE r.status = 'running' \
             AND (r.owner IS NULL OR (?2 AND r.owner = ?1) OR (r.owner <> ?1 AND NOT EXISTS \
             (SELECT 1 FROM processes p WHERE p.id = r.owner AND p.lease_until >= {NOW_MS}))) \
             ORDER BY r.no LIMIT ?3"
        )))
        .bind(process)
        .bind(own)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(claimable.len());
        for (no, previous) in claimable {
            sqlx::query("UPDATE runs SET owner = ?1, epoch = epoch + 1 WHERE no = ?2")
                .bind(process)
                .bind(no)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(sql(format!(
                "SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.no = ?"
            )))
            .bind(no)
            .fetch_one(&mut *tx)
            .await?;
            claimed.push(Claimed {
                run: stored_run(&row)?,
                previous,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql(format!(
            "SELECT p.id, p.lease_until, (SELECT COUNT(*) FROM runs r WHERE r.owner = p.id \
             AND r.status = 'running') FROM processes p WHERE p.lease_until >= {NOW_MS} \
             ORDER BY p.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(process, lease_until, runs)| LeaseHolder {
                process,
                lease_until,
                runs: runs.max(0) as u64,
            })
            .collect())
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

    async fn running_loads(&self) -> Result<Vec<LoadTest>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body FROM lab_loads WHERE json_extract(body, '$.state') = 'running' \
             ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        decode_documents(&rows)
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
