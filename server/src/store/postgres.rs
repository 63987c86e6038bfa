//! PostgreSQL, for a Hybridflow shared by a team (`--database postgres://…`): the same store
//! traits as SQLite, migrated on connect (`server/migrations/postgres/`), runs and history
//! written by one group-commit task ([`super::pg_group_commit`]).
//!
//! Several server processes may share one database: nothing here keeps state a write by
//! another process would make wrong (the decoded-version cache compares the stored document).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunRecord, RunStatus, Workflow};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::mpsc;

use super::group_commit::{encode_history, Append, NewRun, Write};
use super::{
    encode, Claimed, LabDocument, LabStore, LeaseHolder, OwnershipStore, Recorded, Replaced,
    RunStore, StoreError, StoredRun, WorkflowStore, WorkflowVersion,
};
use crate::clock::Clock;
use crate::engine::hub::LiveRecord;

/// Connections in the pool: the group-commit task holds one while it writes; readers
/// (WebSocket catch-ups, GETs, recovery) and the lab share the rest.
pub const POOL_CONNECTIONS: u32 = 8;
/// How long a request waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one statement may run before the server cancels it.
const STATEMENT_TIMEOUT: &str = "30s";
/// A transaction left open this long without a statement is ended by the server, with its
/// locks: a process paused (SIGSTOP) in the middle of a group commit must not keep its runs
/// from being claimed by the others for longer than about a lease.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "5s";
/// Workflow versions kept decoded for starting runs (as [`super::sqlite::MAX_CACHED_VERSIONS`]).
pub const MAX_CACHED_VERSIONS: usize = 256;

pub struct PostgresStore {
    pool: PgPool,
    /// A connection of its own for renewing leases: a process's liveness must not queue
    /// behind its data traffic (a lease that lapses under load hands its runs to others).
    leases: PgPool,
    clock: Arc<dyn Clock>,
    writer: mpsc::UnboundedSender<Append>,
    /// The last version decoded per workflow id, reused while the stored document is the same.
    versions: Mutex<HashMap<String, Arc<WorkflowVersion>>>,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/name`, with
    /// libpq's query parameters, e.g. `?options=-c search_path=…`) and applies pending
    /// migrations.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("hybridflow")
            .options([
                ("statement_timeout", STATEMENT_TIMEOUT),
                (
                    "idle_in_transaction_session_timeout",
                    IDLE_IN_TRANSACTION_TIMEOUT,
                ),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let leases = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        // Several processes starting at once on a new database: migrations hold an advisory
        // lock, so one applies them and the others wait and find them applied.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writer = super::pg_group_commit::start(pool.clone());
        Ok(PostgresStore {
            pool,
            leases,
            clock,
            writer,
            versions: Mutex::default(),
        })
    }

    /// The connection pool (tests and tools read the tables directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
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

    /// The `seq` and JSON `body` of at most `limit` history records with `seq > after`.
    async fn history_rows(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<PgRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run \
             WHERE r.id = $1 AND h.seq > $2 ORDER BY h.seq LIMIT $3",
        )
        .bind(run_id)
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// SQL built by this module from its own constants (table and column names), never from
/// input: every value is bound as a parameter.
fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn workflow_record(row: &PgRow) -> Result<WorkflowRecord, StoreError> {
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
impl WorkflowStore for PostgresStore {
    async fn insert_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<WorkflowRecord, StoreError> {
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
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
        // Every process of a cluster stores the templates as it starts: one statement each,
        // so two starting at once cannot both insert. A changed template replaces the
        // stored one (a new revision); an unchanged one is left alone.
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE \
             SET name = EXCLUDED.name, document = EXCLUDED.document, updated_at = $4, \
             revision = workflows.revision + 1 WHERE workflows.document <> EXCLUDED.document",
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
            "SELECT {WORKFLOW_COLUMNS} FROM workflows ORDER BY updated_at DESC, no DESC"
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
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(workflow_record).transpose()
    }

    async fn version(&self, id: &str) -> Result<Option<Arc<WorkflowVersion>>, StoreError> {
        // Another process may have changed the workflow: read the document each time (one
        // indexed row), decode it only when it differs from the one decoded last.
        let Some(document): Option<String> =
            sqlx::query_scalar("SELECT document FROM workflows WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        {
            let versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(version) = versions.get(id).filter(|v| v.document == document) {
                return Ok(Some(version.clone()));
            }
        }
        let workflow: Workflow = decode(&format!("workflow {id}"), &document)?;
        let version = WorkflowVersion::new(workflow);
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        if versions.len() >= MAX_CACHED_VERSIONS {
            versions.clear();
        }
        versions.insert(id.to_string(), version.clone());
        Ok(Some(version))
    }

    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError> {
        let now = self.clock.now_ms();
        let row = sqlx::query(
            "UPDATE workflows SET name = $1, document = $2, updated_at = $3, \
             revision = revision + 1 \
             WHERE id = $4 AND ($5::int8 IS NULL OR revision = $5) RETURNING created_at, revision",
        )
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(id)
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
            sqlx::query_scalar("SELECT revision FROM workflows WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match current {
            Some(revision) => Replaced::Stale { revision },
            None => Replaced::Missing,
        })
    }

    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in [Batch::TABLE, LoadTest::TABLE] {
            sqlx::query(sql(format!("DELETE FROM {table} WHERE workflow_id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM workflows WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

const RUN_COLUMNS: &str = "r.id AS id, r.workflow_id AS workflow_id, v.document AS workflow, \
     r.input AS input, r.status AS status, r.started_at AS started_at, r.ended_at AS ended_at, \
     r.speed AS speed, r.owner AS owner, r.epoch AS epoch";
const RUN_FROM: &str = "runs r JOIN workflow_versions v ON v.hash = r.version";

fn stored_run(row: &PgRow) -> Result<StoredRun, StoreError> {
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

/// Deletes the runs numbered `runs` and their history, in `tx`.
async fn delete_runs(tx: &mut Transaction<'_, Postgres>, runs: &[i64]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM run_history WHERE run = ANY($1)")
        .bind(runs)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM runs WHERE no = ANY($1)")
        .bind(runs)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait]
impl RunStore for PostgresStore {
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
            "SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_run).transpose()
    }

    async fn running_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.status = 'running' \
             ORDER BY r.started_at, r.no"
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
             WHERE workflow_id = $1 ORDER BY started_at DESC, no DESC LIMIT $2",
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
        let mut tx = self.pool.begin().await?;
        let runs: Vec<i64> = sqlx::query_scalar(
            "SELECT no FROM runs WHERE starts_with(workflow_id, $1) \
             AND NOT starts_with(workflow_id, $2) AND status <> 'running' LIMIT $3",
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
        let mut tx = self.pool.begin().await?;
        // One sweep at a time in the whole cluster: every process sweeps every second, and
        // concurrent sweeps would pick the same runs and wait on each other's deletes.
        let sweeping: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RETENTION_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !sweeping {
            return Ok(0);
        }
        // Runs of deleted workflows (load-test runs belong to the lab, not to a workflow).
        let mut runs: Vec<i64> = sqlx::query_scalar(
            "SELECT r.no FROM runs r WHERE r.status <> 'running' \
             AND NOT starts_with(r.workflow_id, $1) \
             AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id) LIMIT $2",
        )
        .bind(crate::lab::LOAD_RUNS_PREFIX)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if keep > 0 {
            let keep = keep.min(i64::MAX as usize) as i64;
            let crowded: Vec<String> = sqlx::query_scalar(
                "SELECT workflow_id FROM runs WHERE status <> 'running' \
                 AND NOT starts_with(workflow_id, $1) \
                 GROUP BY workflow_id HAVING COUNT(*) > $2",
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
                    "SELECT no FROM runs WHERE workflow_id = $1 AND status <> 'running' \
                     ORDER BY no DESC LIMIT $2 OFFSET $3",
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
        tx.commit().await?;
        // Versions no run refers to any more, in a statement of their own: a run being
        // created right now by any process may refer to one of them again, and then this
        // delete fails on that reference (and the next sweep tries again) rather than the
        // run's creation.
        if let Err(e) = sqlx::query(
            "DELETE FROM workflow_versions v WHERE NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.version = v.hash)",
        )
        .execute(&self.pool)
        .await
        {
            tracing::debug!(error = %e, "unused workflow versions stay until the next sweep");
        }
        Ok(runs.len() as u64)
    }
}

/// The database's clock in SQL: milliseconds since the Unix epoch. Leases are written and
/// compared on this one clock, whatever the processes' own clocks say.
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::int8";

/// The advisory lock a retention sweep holds (a constant of this schema's own: "hfretain").
const RETENTION_LOCK: i64 = 0x6866_7265_7461_696e;

/// How long a process's row stays after its lease ran out, once it owns no run in progress.
const FORGET_PROCESS_AFTER_MS: i64 = 3_600_000;

#[async_trait]
impl OwnershipStore for PostgresStore {
    async fn renew_lease(&self, process: &str, lease: Duration) -> Result<(), StoreError> {
        sqlx::query(sql(format!(
            "INSERT INTO processes (id, lease_until, started_at) VALUES ($1, {NOW_MS} + $2, {NOW_MS}) \
             ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until"
        )))
        .bind(process)
        .bind(lease.as_millis().min(i64::MAX as u128) as i64)
        .execute(&self.leases)
        .await?;
        sqlx::query(sql(format!(
            "DELETE FROM processes p WHERE p.lease_until < {NOW_MS} - $1 AND NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.owner = p.id AND r.status = 'running')"
        )))
        .bind(FORGET_PROCESS_AFTER_MS)
        .execute(&self.leases)
        .await?;
        Ok(())
    }

    async fn end_lease(&self, process: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE processes SET lease_until = 0 WHERE id = $1")
            .bind(process)
            .execute(&self.leases)
            .await?;
        Ok(())
    }

    async fn claim_runs(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        // One statement: the runs are chosen and locked (passing over those another
        // transaction holds: an append in progress, another process's claim), then claimed.
        let rows = sqlx::query(sql(format!(
            "WITH claimable AS (SELECT r.no, r.owner FROM runs r WHERE r.status = 'running' \
             AND (r.owner IS NULL OR ($2 AND r.owner = $1) OR (r.owner <> $1 AND NOT EXISTS \
             (SELECT 1 FROM processes p WHERE p.id = r.owner AND p.lease_until >= {NOW_MS}))) \
             ORDER BY r.no LIMIT $3 FOR UPDATE OF r SKIP LOCKED) \
             UPDATE runs r SET owner = $1, epoch = r.epoch + 1 FROM claimable c \
             WHERE r.no = c.no RETURNING r.id AS id, r.workflow_id AS workflow_id, \
             (SELECT v.document FROM workflow_versions v WHERE v.hash = r.version) AS workflow, \
             r.input AS input, r.status AS status, r.started_at AS started_at, \
             r.ended_at AS ended_at, r.speed AS speed, r.owner AS owner, r.epoch AS epoch, \
             c.owner AS previous, r.no AS no"
        )))
        .bind(process)
        .bind(own)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("no")?,
                    Claimed {
                        run: stored_run(row)?,
                        previous: row.try_get("previous")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        claimed.sort_by_key(|(no, _)| *no);
        Ok(claimed.into_iter().map(|(_, c)| c).collect())
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
impl LabStore for PostgresStore {
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
            "SELECT id, body FROM lab_batches WHERE (body::jsonb ->> 'state') = 'running' \
             ORDER BY created_at, no",
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
            "SELECT id, body FROM lab_loads WHERE (body::jsonb ->> 'state') = 'running' \
             ORDER BY created_at, no",
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

impl PostgresStore {
    async fn save_document<T: LabDocument>(&self, doc: &T) -> Result<(), StoreError> {
        sqlx::query(sql(format!(
            "INSERT INTO {} (id, workflow_id, created_at, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
            T::TABLE
        )))
        .bind(doc.id())
        .bind(doc.workflow_id())
        .bind(doc.created_at())
        .bind(encode(doc))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_document<T: LabDocument>(&self, id: &str) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT body FROM {} WHERE id = $1", T::TABLE)))
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
            "SELECT id, body FROM {} WHERE workflow_id = $1 \
             ORDER BY created_at DESC, no DESC LIMIT $2",
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
fn decode_documents<T: LabDocument>(rows: &[PgRow]) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            decode(&format!("{} {id}", T::WHAT), &body)
        })
        .collect()
}
