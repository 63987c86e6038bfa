//! The one SQL store: every store trait, written once, for SQLite (the embedded default, WAL)
//! and PostgreSQL (several server processes on one database), through sqlx's `Any` driver.
//! What differs between the two is the [`Dialect`]: a few SQL fragments (the store's clock,
//! the column that orders rows by creation, how a claim locks what it takes), how a write
//! transaction starts, and the group-commit writer ([`super::group_commit`]).
//!
//! Statements use `$1`-style parameters, which both databases read. Runs and history are
//! written only by the group commit; everything else is a statement or a short transaction
//! here. SQLite's write transactions start with `BEGIN IMMEDIATE`: a deferred transaction
//! that reads before it writes fails at its first write with `SQLITE_BUSY_SNAPSHOT`, without
//! waiting, whenever the group commit (busy under load) committed since its read.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunRecord, RunStatus, Workflow};
use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, ConnectOptions, Row, Transaction};

use super::group_commit::{self, Append, NewRun, Write};
use super::{
    encode, parse_state, state_word, Appended, CancelStored, Claimed, LabClaim, LabDocument,
    LabSaved, LabStore, LeaseHolder, OwnershipStore, Recorded, Replaced, RunKind, RunStore, Store,
    StoreError, StoredRecord, StoredRun, WorkflowStore, WorkflowVersion, FIRST_EPOCH,
};
use crate::clock::Clock;

/// SQLite: connections in the pool. SQLite has one writer at a time (the group commit has
/// its own connection); these serve readers (WebSocket catch-ups, GETs) concurrently under
/// WAL, and the short write transactions here.
const SQLITE_CONNECTIONS: u32 = 4;
/// PostgreSQL: connections in the pool, for readers, recovery and the lab (the group
/// commit has [`group_commit::postgres::GROUPS_IN_FLIGHT`] of its own, leases one).
pub const POSTGRES_CONNECTIONS: u32 = 8;
/// SQLite: how long a connection waits for the write lock before reporting the database
/// busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// PostgreSQL: how long a request waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL: the longest one statement may run before the server cancels it.
const STATEMENT_TIMEOUT: &str = "30s";
/// PostgreSQL: a transaction left open this long without a statement is ended by the
/// server, with its locks: a process paused (SIGSTOP) in the middle of a group commit must
/// not keep its runs from being claimed by the others for longer than about a lease.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "5s";
/// How long the connection that renews leases waits for its answer before giving up on
/// that renewal (the next one comes on schedule).
const LEASE_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Rows per statement of the chunked deletes and claims (well under either database's
/// parameter limit).
const ROWS_PER_STATEMENT: usize = 200;

/// Workflow versions kept decoded for starting runs; past this, the cache starts again
/// empty (it only saves work: a miss reads the workflow from the database).
pub const MAX_CACHED_VERSIONS: usize = 256;

/// How long a process's row stays after its lease ran out, once it owns no run in progress.
const FORGET_PROCESS_AFTER_MS: i64 = 3_600_000;

/// The advisory lock a PostgreSQL retention sweep holds (a constant of this schema's own:
/// "hfretain"): one sweep at a time in the whole cluster.
const RETENTION_LOCK: i64 = 0x6866_7265_7461_696e;

/// The SQL that differs between the two databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The store's clock: milliseconds since the Unix epoch. Leases are written and
    /// compared on this one clock, whatever the processes' own clocks say.
    fn now_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Dialect::Postgres => "(extract(epoch FROM clock_timestamp()) * 1000)::int8",
        }
    }

    /// The column that orders a table's rows by creation (listings break ties by it).
    fn created_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "no",
        }
    }

    /// A run's workflow document: its stored version, or (SQLite, runs stored before
    /// versions existed) its own copy.
    fn run_workflow(self) -> &'static str {
        match self {
            Dialect::Sqlite => "COALESCE(v.document, r.workflow)",
            Dialect::Postgres => "v.document",
        }
    }

    /// What a claim's selection adds so two processes never take the same row: PostgreSQL
    /// locks the rows it picks, passing over those another transaction holds (an append in
    /// progress, another claim); SQLite's write lock is held from the transaction's start.
    fn lock_for_claim(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// How a transaction that writes starts.
    fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Whether other processes may share the database.
    fn shared(self) -> bool {
        self == Dialect::Postgres
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// How history and new runs reach their writer.
enum Writer {
    Sqlite(std::sync::mpsc::Sender<Append>),
    Postgres(tokio::sync::mpsc::UnboundedSender<Append>),
}

impl Writer {
    fn send(&self, append: Append) -> Result<(), StoreError> {
        let sent = match self {
            Writer::Sqlite(writer) => writer.send(append).is_ok(),
            Writer::Postgres(writer) => writer.send(append).is_ok(),
        };
        sent.then_some(()).ok_or(StoreError::WriterGone)
    }
}

pub struct SqlStore {
    dialect: Dialect,
    pool: AnyPool,
    /// A connection of its own for renewing leases (PostgreSQL): a process's liveness must
    /// not queue behind its data traffic (a lease that lapses under load hands its runs to
    /// others). SQLite: the pool.
    leases: AnyPool,
    clock: Arc<dyn Clock>,
    writer: Writer,
    versions: Mutex<Versions>,
}

/// Decoded workflow versions, by workflow id. With SQLite every change to a workflow goes
/// through this store and bumps `generation`, so a read that raced with a change (began
/// before it) is not cached, and a cached version is used without reading. With PostgreSQL
/// another process may change a workflow: its document is read each time and decoded only
/// when it differs from the cached one.
#[derive(Default)]
struct Versions {
    generation: u64,
    by_workflow: HashMap<String, Arc<WorkflowVersion>>,
}

/// SQL built by this module from its own constants (table and column names, dialect
/// fragments), never from input: every value is bound as a parameter.
fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

/// `$from, $from+1, …` for `count` parameters.
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::decode(what, e))
}

fn limit(n: usize) -> i64 {
    n.min(i64::MAX as usize) as i64
}

impl SqlStore {
    /// Opens the store `url` names (see [`super::open`]) and applies pending migrations.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        if is_postgres_url(url) {
            Self::connect_postgres(url, clock).await
        } else {
            Self::open_sqlite(url, clock).await
        }
    }

    /// The SQLite file at `url` (a `sqlite:` URL or a plain path), created with its folder
    /// if missing.
    async fn open_sqlite(url: &str, clock: Arc<dyn Clock>) -> Result<SqlStore, StoreError> {
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?.create_if_missing(true);
        let filename = options.get_filename().to_path_buf();
        if let Some(folder) = filename.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_folder(folder)?;
        }
        // The writer's connection first: it creates the file and puts it in WAL mode, which
        // every connection opened after it uses.
        let writer = group_commit::sqlite::start(&filename, BUSY_TIMEOUT)?;
        let any = AnyConnectOptions::from_url(&options.to_url_lossy())?;
        let pool = AnyPoolOptions::new()
            .max_connections(SQLITE_CONNECTIONS)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    // The driver's defaults are these already (foreign keys on, a 5 s busy
                    // timeout, synchronous=FULL); said here so no default can change them.
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *connection)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *connection)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(any)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqlStore {
            dialect: Dialect::Sqlite,
            leases: pool.clone(),
            pool,
            clock,
            writer: Writer::Sqlite(writer),
            versions: Mutex::default(),
        })
    }

    /// The PostgreSQL database at `url` (`postgres://user:password@host:port/name`, with
    /// libpq's query parameters, e.g. `?options=-c search_path=…`).
    async fn connect_postgres(url: &str, clock: Arc<dyn Clock>) -> Result<SqlStore, StoreError> {
        let url = postgres_url(url)?;
        let options = AnyConnectOptions::from_url(
            &url::Url::parse(&url).map_err(|e| StoreError::Url(e.to_string()))?,
        )?;
        let pool = AnyPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let leases = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(LEASE_CONNECT_TIMEOUT)
            .connect_with(options)
            .await?;
        // Several processes starting at once on a new database: migrations hold an advisory
        // lock, so one applies them and the others wait and find them applied.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writes = sqlx::postgres::PgPoolOptions::new()
            .max_connections(group_commit::postgres::GROUPS_IN_FLIGHT as u32)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(sqlx::postgres::PgConnectOptions::from_str(url.as_str())?)
            .await?;
        Ok(SqlStore {
            dialect: Dialect::Postgres,
            pool,
            leases,
            clock,
            writer: Writer::Postgres(group_commit::postgres::start(writes)),
            versions: Mutex::default(),
        })
    }

    /// The connection pool (tests and tools read the tables directly).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that writes (on SQLite, with the write lock taken at once).
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.pool.begin_with(self.dialect.begin_write()).await?)
    }

    /// Hands a write to the group commit and waits until it is durable.
    async fn write(&self, write: Write) -> Result<(), StoreError> {
        let (done, durable) = tokio::sync::oneshot::channel();
        let (run, epoch) = (write.run_id.clone(), write.epoch);
        self.writer.send(Append { write, done })?;
        durable
            .await
            .map_err(|_| StoreError::WriterGone)?
            .map_err(|failure| failure.into_error(&run, epoch))
    }

    /// Forgets cached versions: the workflow `id` changed (here).
    fn workflow_changed(&self, id: &str) {
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        versions.generation += 1;
        versions.by_workflow.remove(id);
    }

    /// The `seq` and JSON `body` of at most `limit` history records with `seq > after`.
    async fn history_rows(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT h.seq, h.body FROM run_history h JOIN runs r ON r.no = h.run \
             WHERE r.id = $1 AND h.seq > $2 ORDER BY h.seq LIMIT $3",
        )
        .bind(run_id)
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A run's columns, its workflow read from its stored version.
    fn run_columns(&self) -> String {
        format!(
            "r.id AS id, r.workflow_id AS workflow_id, {} AS workflow, r.input AS input, \
             r.status AS status, r.started_at AS started_at, r.ended_at AS ended_at, \
             r.speed AS speed, r.owner AS owner, r.epoch AS epoch, r.kind AS kind, \
             r.parent AS parent \
             FROM runs r LEFT JOIN workflow_versions v ON v.hash = r.version",
            self.dialect.run_workflow()
        )
    }

    /// The condition (on `r`, a row with an `owner`) under which `$1` (a process) may
    /// claim: unowned, or `$2` (it has just started) and its own, or its owner's lease ran
    /// out.
    fn claimable(&self, r: &str) -> String {
        format!(
            "({r}.owner IS NULL OR ($2 AND {r}.owner = $1) OR ({r}.owner <> $1 AND NOT EXISTS \
             (SELECT 1 FROM processes p WHERE p.id = {r}.owner AND p.lease_until >= {})))",
            self.dialect.now_ms()
        )
    }
}

/// The PostgreSQL URL with what every connection of ours sets: its application name, and
/// the statement and idle-in-transaction timeouts (added to the URL's own `options`).
fn postgres_url(url: &str) -> Result<String, StoreError> {
    let mut parsed = url::Url::parse(url).map_err(|e| StoreError::Url(e.to_string()))?;
    let ours = format!(
        "-c statement_timeout={STATEMENT_TIMEOUT} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT}"
    );
    let mut pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match pairs.iter_mut().find(|(k, _)| k == "options") {
        Some((_, options)) => *options = format!("{options} {ours}"),
        None => pairs.push(("options".into(), ours)),
    }
    if !pairs.iter().any(|(k, _)| k == "application_name") {
        pairs.push(("application_name".into(), "hybridflow".into()));
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(parsed.into())
}

fn create_folder(folder: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
        path: folder.display().to_string(),
        source,
    })
}

fn workflow_record(row: &AnyRow) -> Result<WorkflowRecord, StoreError> {
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

fn stored_run(row: &AnyRow) -> Result<StoredRun, StoreError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let kind: String = row.try_get("kind")?;
    Ok(StoredRun {
        workflow_id: row.try_get("workflow_id")?,
        workflow: Arc::new(decode(
            &format!("run {id} workflow"),
            row.try_get("workflow")?,
        )?),
        input: Arc::new(decode(&format!("run {id} input"), row.try_get("input")?)?),
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        speed: row.try_get("speed")?,
        owner: row.try_get("owner")?,
        epoch: row.try_get("epoch")?,
        kind: RunKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} kind {kind:?}")))?,
        parent: json_column(row, &id, "parent")?,
        id,
    })
}

/// A JSON column of a run's row, decoded (`None` when NULL).
fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    id: &str,
    column: &str,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| decode(&format!("run {id} {column}"), &t))
        .transpose()
}

/// A line of the runs list from a run's row (its JSON columns decoded).
fn run_summary(row: &AnyRow) -> Result<RunSummary, StoreError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    Ok(RunSummary {
        workflow_id: row.try_get("workflow_id")?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        messages: json_column(row, &id, "messages")?,
        diagnosis: row.try_get("diagnosis")?,
        input: json_column(row, &id, "input")?.unwrap_or_default(),
        outcome: json_column(row, &id, "outcome")?,
        speed: Some(row.try_get("speed")?),
        parent: json_column(row, &id, "parent")?,
        children: Vec::new(),
        id,
    })
}

/// Deletes the runs numbered `runs` and their history, in `tx`.
/// Retention's condition on a run `r`: it is no child of a run still running.
macro_rules! parent_ended {
    () => {
        "NOT EXISTS (SELECT 1 FROM runs p WHERE p.id = r.parent_run AND p.status = 'running')"
    };
}

impl SqlStore {
    /// Deletes, with their history, the runs `select` picks (`$1`: a workflow id prefix,
    /// `$2`: at most this many) in one transaction; returns how many went.
    async fn delete_ended(
        &self,
        select: &'static str,
        prefix: &str,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let runs: Vec<i64> = sqlx::query_scalar(select)
            .bind(prefix)
            .bind(self::limit(limit))
            .fetch_all(&mut *tx)
            .await?;
        if runs.is_empty() {
            return Ok(0);
        }
        delete_runs(&mut tx, &runs).await?;
        tx.commit().await?;
        Ok(runs.len() as u64)
    }
}

async fn delete_runs(tx: &mut Transaction<'_, Any>, runs: &[i64]) -> Result<(), StoreError> {
    for table in ["run_history WHERE run", "runs WHERE no"] {
        for chunk in runs.chunks(ROWS_PER_STATEMENT) {
            let statement = format!("DELETE FROM {table} IN ({})", placeholders(1, chunk.len()));
            let mut delete = sqlx::query(sql(statement));
            for no in chunk {
                delete = delete.bind(*no);
            }
            delete.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

const WORKFLOW_COLUMNS: &str = "id, name, document, created_at, updated_at, revision";

#[async_trait]
impl WorkflowStore for SqlStore {
    async fn insert_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<WorkflowRecord, StoreError> {
        let now = self.clock.now_ms();
        self.workflow_changed(id);
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
        self.workflow_changed(id);
        sqlx::query(
            "INSERT INTO workflows (id, name, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE \
             SET name = excluded.name, document = excluded.document, updated_at = $4, \
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
            "SELECT {WORKFLOW_COLUMNS} FROM workflows ORDER BY updated_at DESC, {} DESC",
            self.dialect.created_order()
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
        let generation = {
            let versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
            if !self.dialect.shared() {
                if let Some(version) = versions.by_workflow.get(id) {
                    return Ok(Some(version.clone()));
                }
            }
            versions.generation
        };
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
            if let Some(version) = versions
                .by_workflow
                .get(id)
                .filter(|v| v.document == document)
            {
                return Ok(Some(version.clone()));
            }
        }
        let version = WorkflowVersion::new(decode(&format!("workflow {id}"), &document)?);
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
            "UPDATE workflows SET name = $1, document = $2, updated_at = $3, \
             revision = revision + 1 \
             WHERE id = $4 AND (CAST($5 AS BIGINT) IS NULL OR revision = $5) \
             RETURNING created_at, revision",
        )
        .bind(&workflow.name)
        .bind(encode(workflow))
        .bind(now)
        .bind(id)
        .bind(if_revision)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Replaced::Done(Box::new(WorkflowRecord {
                id: id.to_string(),
                created_at: row.try_get("created_at")?,
                updated_at: now,
                revision: row.try_get("revision")?,
                workflow: workflow.clone(),
            })));
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
        let mut tx = self.begin_write().await?;
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
        self.workflow_changed(id);
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl RunStore for SqlStore {
    async fn create_run(
        &self,
        run: &StoredRun,
        version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError> {
        let created = NewRun {
            run: run.clone(),
            version: version.clone(),
        };
        self.write(Write::new(&run.id, run.epoch, Some(created), first))
            .await
    }

    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {} WHERE r.id = $1",
            self.run_columns()
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_run).transpose()
    }

    async fn running_runs(&self, workflow_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM runs WHERE status = 'running' AND workflow_id = $1")
                .bind(workflow_id)
                .fetch_all(&self.pool)
                .await?,
        )
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
        self.write(Write::new(run_id, epoch, None, records)).await
    }

    async fn check_append(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<Appended, StoreError> {
        let Some(first) = records.first() else {
            return Ok(Appended::Stored);
        };
        // The epoch alone (a run's whole row would decode its workflow).
        let stored_epoch: Option<i64> = sqlx::query_scalar("SELECT epoch FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?;
        let rows = self
            .history_rows(run_id, first.record.seq - 1, records.len())
            .await?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let body: String = row.try_get("body")?;
            stored.push((seq as u64, body));
        }
        let stored: Vec<(u64, &str)> = stored.iter().map(|(s, b)| (*s, b.as_str())).collect();
        Ok(super::appended(stored_epoch, epoch, &stored, records))
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
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let rows = self.history_rows(run_id, after, limit).await?;
        rows.into_iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                StoredRecord::from_json(run_id, body)
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
             outcome, speed, parent FROM runs \
             WHERE workflow_id = $1 ORDER BY started_at DESC, no DESC LIMIT $2",
        )
        .bind(workflow_id)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut runs = rows
            .iter()
            .map(run_summary)
            .collect::<Result<Vec<_>, _>>()?;
        // Their child runs, in one more query.
        for chunk in runs.chunks_mut(ROWS_PER_STATEMENT) {
            let statement = format!(
                "SELECT id, parent_run FROM runs WHERE parent_run IN ({}) ORDER BY started_at, no",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sql(statement));
            for run in chunk.iter() {
                query = query.bind(run.id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                let parent: String = row.try_get("parent_run")?;
                if let Some(run) = chunk.iter_mut().find(|r| r.id == parent) {
                    run.children.push(row.try_get("id")?);
                }
            }
        }
        Ok(runs)
    }

    async fn delete_load_runs(&self, keep: &str, limit: usize) -> Result<u64, StoreError> {
        self.delete_ended(
            "SELECT no FROM runs WHERE kind = 'load' AND status <> 'running' \
             AND substr(workflow_id, 1, length($1)) <> $1 LIMIT $2",
            keep,
            limit,
        )
        .await
    }

    async fn delete_lab_runs(&self, prefix: &str, limit: usize) -> Result<u64, StoreError> {
        self.delete_ended(
            "SELECT no FROM runs WHERE kind = 'lab' AND status <> 'running' \
             AND substr(workflow_id, 1, length($1)) = $1 LIMIT $2",
            prefix,
            limit,
        )
        .await
    }

    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError> {
        let limit = self::limit(limit);
        let mut tx = self.begin_write().await?;
        if self.dialect == Dialect::Postgres {
            // One sweep at a time in the whole cluster: every process sweeps every second,
            // and concurrent sweeps would pick the same runs and wait on each other's
            // deletes. (SQLite's write lock, taken at the start, does this there.)
            let sweeping: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                .bind(RETENTION_LOCK)
                .fetch_one(&mut *tx)
                .await?;
            if !sweeping {
                return Ok(0);
            }
        }
        // Runs of deleted workflows (load-test runs belong to the lab, not to a workflow).
        // Never a child run whose parent still runs: its saga may yet undo the child, and
        // the undo run reads what the child did from its history.
        let mut runs: Vec<i64> = sqlx::query_scalar(concat!(
            "SELECT r.no FROM runs r WHERE r.status <> 'running' AND r.kind = 'run' \
             AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = r.workflow_id) AND ",
            parent_ended!(),
            " LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if keep > 0 {
            let crowded: Vec<String> = sqlx::query_scalar(
                "SELECT workflow_id FROM runs WHERE status <> 'running' AND kind = 'run' \
                 GROUP BY workflow_id HAVING COUNT(*) > $1",
            )
            .bind(self::limit(keep))
            .fetch_all(&mut *tx)
            .await?;
            for workflow_id in crowded {
                let room = limit - runs.len() as i64;
                if room <= 0 {
                    break;
                }
                let older: Vec<i64> = sqlx::query_scalar(concat!(
                    "SELECT r.no FROM runs r WHERE r.workflow_id = $1 AND r.status <> 'running' AND ",
                    parent_ended!(),
                    " ORDER BY r.no DESC LIMIT $2 OFFSET $3"
                ))
                .bind(&workflow_id)
                .bind(room)
                .bind(self::limit(keep))
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
        // created right now (by any process) may refer to one of them again, and then this
        // delete fails on that reference (and the next sweep tries again) rather than the
        // run's creation.
        if let Err(e) = sqlx::query(
            "DELETE FROM workflow_versions WHERE NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.version = workflow_versions.hash)",
        )
        .execute(&self.pool)
        .await
        {
            tracing::debug!(error = %e, "unused workflow versions stay until the next sweep");
        }
        Ok(runs.len() as u64)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl OwnershipStore for SqlStore {
    async fn renew_lease(&self, process: &str, lease: Duration) -> Result<(), StoreError> {
        let now = self.dialect.now_ms();
        sqlx::query(sql(format!(
            "INSERT INTO processes (id, lease_until, started_at) VALUES ($1, {now} + $2, {now}) \
             ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until"
        )))
        .bind(process)
        .bind(lease.as_millis().min(i64::MAX as u128) as i64)
        .execute(&self.leases)
        .await?;
        sqlx::query(sql(format!(
            "DELETE FROM processes WHERE lease_until < {now} - $1 AND NOT EXISTS \
             (SELECT 1 FROM runs r WHERE r.owner = processes.id AND r.status = 'running')"
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
        let mut tx = self.begin_write().await?;
        let claimable: Vec<(i64, Option<String>)> = sqlx::query_as(sql(format!(
            "SELECT r.no, r.owner FROM runs r WHERE r.status = 'running' AND {} \
             ORDER BY r.no LIMIT $3{}",
            self.claimable("r"),
            self.dialect.lock_for_claim()
        )))
        .bind(process)
        .bind(own)
        .bind(self::limit(limit))
        .fetch_all(&mut *tx)
        .await?;
        if claimable.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed = Vec::with_capacity(claimable.len());
        for chunk in claimable.chunks(ROWS_PER_STATEMENT) {
            let numbers = placeholders(2, chunk.len());
            let mut claim = sqlx::query(sql(format!(
                "UPDATE runs SET owner = $1, epoch = epoch + 1 WHERE no IN ({numbers})"
            )))
            .bind(process);
            let mut read = sqlx::query(sql(format!(
                "SELECT r.no AS no, {} WHERE r.no IN ({})",
                self.run_columns(),
                placeholders(1, chunk.len())
            )));
            for (no, _) in chunk {
                claim = claim.bind(*no);
                read = read.bind(*no);
            }
            claim.execute(&mut *tx).await?;
            let previous: HashMap<i64, Option<String>> = chunk.iter().cloned().collect();
            for row in read.fetch_all(&mut *tx).await? {
                let no: i64 = row.try_get("no")?;
                claimed.push((
                    no,
                    Claimed {
                        run: stored_run(&row)?,
                        previous: previous.get(&no).cloned().flatten(),
                    },
                ));
            }
        }
        tx.commit().await?;
        claimed.sort_by_key(|(no, _)| *no);
        Ok(claimed.into_iter().map(|(_, c)| c).collect())
    }

    async fn release_run(
        &self,
        run_id: &str,
        process: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET owner = NULL \
             WHERE id = $1 AND owner = $2 AND epoch = $3 AND status = 'running'",
        )
        .bind(run_id)
        .bind(process)
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql(format!(
            "SELECT p.id, p.lease_until, (SELECT COUNT(*) FROM runs r WHERE r.owner = p.id \
             AND r.status = 'running') FROM processes p WHERE p.lease_until >= {} \
             ORDER BY p.id",
            self.dialect.now_ms()
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

/// A lab document read back: its body, with the state the store's column holds.
fn lab_document<T: LabDocument>(row: &AnyRow) -> Result<T, StoreError> {
    let id: String = row.try_get("id")?;
    let body: String = row.try_get("body")?;
    let state: String = row.try_get("state")?;
    let mut doc: T = decode(&format!("{} {id}", T::WHAT), &body)?;
    doc.set_state(
        parse_state(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("{} {id} state {state:?}", T::WHAT)))?,
    );
    Ok(doc)
}

impl SqlStore {
    async fn insert_document<T: LabDocument>(
        &self,
        doc: &T,
        executor: &mut sqlx::AnyConnection,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sql(format!(
            "INSERT INTO {} (id, workflow_id, created_at, body, state, owner, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            T::TABLE
        )))
        .bind(doc.id())
        .bind(doc.workflow_id())
        .bind(doc.created_at())
        .bind(encode(doc))
        .bind(state_word(doc.state()))
        .bind(doc.owner())
        .bind(FIRST_EPOCH)
        .execute(executor)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn save_document<T: LabDocument>(
        &self,
        doc: &T,
        epoch: i64,
    ) -> Result<LabSaved, StoreError> {
        // A cancel stored meanwhile wins over an ending: the document ends cancelled.
        let cancel: Option<i64> = sqlx::query_scalar(sql(format!(
            "UPDATE {} SET body = $1, state = CASE WHEN cancel_requested <> 0 AND $2 <> 'running' \
             THEN 'cancelled' ELSE $2 END WHERE id = $3 AND epoch = $4 RETURNING cancel_requested",
            T::TABLE
        )))
        .bind(encode(doc))
        .bind(state_word(doc.state()))
        .bind(doc.id())
        .bind(epoch)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match cancel {
            None => LabSaved::Fenced,
            Some(0) => LabSaved::Saved,
            Some(_) => LabSaved::CancelRequested,
        })
    }

    async fn get_document<T: LabDocument>(&self, id: &str) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT id, body, state FROM {} WHERE id = $1",
            T::TABLE
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(lab_document).transpose()
    }

    async fn list_documents<T: LabDocument>(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT id, body, state FROM {} WHERE workflow_id = $1 \
             ORDER BY created_at DESC, {} DESC LIMIT $2",
            T::TABLE,
            self.dialect.created_order()
        )))
        .bind(workflow_id)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lab_document).collect()
    }

    async fn claim_documents<T: LabDocument>(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<LabClaim<T>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(sql(format!(
            "SELECT d.id FROM {} d WHERE d.state = 'running' AND {} \
             ORDER BY d.created_at LIMIT $3{}",
            T::TABLE,
            self.claimable("d"),
            self.dialect.lock_for_claim()
        )))
        .bind(process)
        .bind(own)
        .bind(self::limit(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(sql(format!(
                "UPDATE {} SET owner = $1, epoch = epoch + 1 WHERE id = $2 \
                 RETURNING id, body, state, epoch, cancel_requested",
                T::TABLE
            )))
            .bind(process)
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            let mut doc: T = lab_document(&row)?;
            doc.set_owner(Some(process.to_string()));
            let cancel: i64 = row.try_get("cancel_requested")?;
            claimed.push(LabClaim {
                doc,
                epoch: row.try_get("epoch")?,
                cancel_requested: cancel != 0,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn cancel_document<T: LabDocument>(&self, id: &str) -> Result<CancelStored, StoreError> {
        let owner: Option<Option<String>> = sqlx::query_scalar(sql(format!(
            "UPDATE {} SET cancel_requested = 1 WHERE id = $1 AND state = 'running' \
             RETURNING owner",
            T::TABLE
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(owner) = owner {
            return Ok(CancelStored::Stored { owner });
        }
        Ok(match self.get_document::<T>(id).await? {
            Some(doc) => CancelStored::Ended(doc.state()),
            None => CancelStored::Missing,
        })
    }
}

#[async_trait]
impl LabStore for SqlStore {
    async fn insert_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        if self.insert_document(batch, &mut connection).await? {
            Ok(())
        } else {
            Err(StoreError::Duplicate {
                what: Batch::WHAT,
                id: batch.id.clone(),
            })
        }
    }

    async fn save_batch(&self, batch: &Batch, epoch: i64) -> Result<LabSaved, StoreError> {
        self.save_document(batch, epoch).await
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

    async fn claim_batches(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<LabClaim<Batch>>, StoreError> {
        self.claim_documents(process, own, limit).await
    }

    async fn cancel_batch(&self, id: &str) -> Result<CancelStored, StoreError> {
        self.cancel_document::<Batch>(id).await
    }

    async fn insert_load(&self, test: &LoadTest) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // A test left running by a process that stopped (its lease ran out) reads as
        // cancelled, and is no longer in the way (nor that process's to save, should it
        // come back).
        sqlx::query(sql(format!(
            "UPDATE lab_loads SET state = 'cancelled', epoch = epoch + 1 \
             WHERE state = 'running' AND \
             (owner IS NULL OR NOT EXISTS (SELECT 1 FROM processes p \
             WHERE p.id = lab_loads.owner AND p.lease_until >= {}))",
            self.dialect.now_ms()
        )))
        .execute(&mut *tx)
        .await?;
        // At most one row is `running` (a unique index on it): the insert does nothing when
        // another test runs.
        let inserted = self.insert_document(test, &mut tx).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn save_load(&self, test: &LoadTest, epoch: i64) -> Result<LabSaved, StoreError> {
        self.save_document(test, epoch).await
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

    async fn cancel_load(&self, id: &str) -> Result<CancelStored, StoreError> {
        self.cancel_document::<LoadTest>(id).await
    }
}

impl Store for SqlStore {
    fn is_shared(&self) -> bool {
        self.dialect.shared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_postgres_settings_join_the_url_s_own_options() {
        let url =
            postgres_url("postgres://u:p@127.0.0.1:5/db?options=-c%20search_path%3Dt1").unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        assert_eq!(
            pairs["options"],
            "-c search_path=t1 -c statement_timeout=30s -c idle_in_transaction_session_timeout=5s"
        );
        assert_eq!(pairs["application_name"], "hybridflow");
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
