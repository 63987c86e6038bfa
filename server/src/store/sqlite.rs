//! The embedded default: SQLite in WAL mode through sqlx, migrated on open.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use app::model::api::{WorkflowRecord, WorkflowSummary};
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{RunStore, StoreError, StoredRun, WorkflowStore};
use crate::clock::Clock;

/// Connections in the pool: SQLite has one writer at a time, the rest serve readers
/// (WebSocket replays, GETs) concurrently under WAL.
const POOL_CONNECTIONS: u32 = 4;
/// How long a connection waits for the write lock before reporting the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
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
        Ok((SqliteStore { pool, clock }, is_new))
    }
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
        workflow,
    })
}

#[async_trait]
impl WorkflowStore for SqliteStore {
    async fn create_workflow(&self, workflow: &Workflow) -> Result<WorkflowRecord, StoreError> {
        let now = self.clock.now_ms();
        let id = uuid::Uuid::new_v4().simple().to_string();
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(WorkflowRecord {
            id,
            created_at: now,
            updated_at: now,
            workflow: workflow.clone(),
        })
    }

    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, document, created_at, updated_at FROM workflows ORDER BY updated_at DESC, id",
        )
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
        let row = sqlx::query(
            "SELECT id, name, document, created_at, updated_at FROM workflows WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(workflow_record).transpose()
    }

    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<Option<WorkflowRecord>, StoreError> {
        let now = self.clock.now_ms();
        let row = sqlx::query(
            "UPDATE workflows SET name = ?, document = ?, updated_at = ? WHERE id = ? RETURNING created_at",
        )
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(WorkflowRecord {
                id: id.to_string(),
                created_at: row.try_get("created_at")?,
                updated_at: now,
                workflow: workflow.clone(),
            })
        })
        .transpose()
    }

    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM workflows WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(&self, run: &StoredRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (id, workflow_id, workflow, input, status, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run.id)
        .bind(&run.workflow_id)
        .bind(encode(&run.workflow))
        .bind(encode(&run.input))
        .bind(run.status.as_str())
        .bind(run.started_at)
        .bind(run.ended_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, workflow_id, workflow, input, status, started_at, ended_at FROM runs WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        Ok(Some(StoredRun {
            id: row.try_get("id")?,
            workflow_id: row.try_get("workflow_id")?,
            workflow: decode(&format!("run {id} workflow"), row.try_get("workflow")?)?,
            input: decode(&format!("run {id} input"), row.try_get("input")?)?,
            status: RunStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
        }))
    }

    async fn append_history(&self, run_id: &str, records: &[RunRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for record in records {
            sqlx::query("INSERT INTO run_events (run_id, seq, at_ms, body) VALUES (?, ?, ?, ?)")
                .bind(run_id)
                .bind(record.seq as i64)
                .bind(record.at_ms)
                .bind(encode(record))
                .execute(&mut *tx)
                .await?;
            if let RunEvent::RunCompleted { status } = &record.event {
                sqlx::query("UPDATE runs SET status = ?, ended_at = ? WHERE id = ?")
                    .bind(status.as_str())
                    .bind(record.at_ms)
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn history_after(&self, run_id: &str, after: u64) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, body FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(run_id)
        .bind(after.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                decode(&format!("run {run_id} event {seq}"), row.try_get("body")?)
            })
            .collect()
    }
}
