//! Storage: small traits, one per table family, so a PostgreSQL implementation can be added
//! beside [`sqlite::SqliteStore`] without touching any caller.
//!
//! - [`sqlite`]: the embedded default; its writes of runs and history go through
//!   `group_commit` (one thread, its own connection, one transaction per group).
//! - [`postgres`]: PostgreSQL, for several server processes sharing one database; its writes
//!   of runs and history go through `pg_group_commit` (one task, one transaction per group).
//! - [`memory`]: history in memory, for benchmarks.

mod group_commit;
pub mod memory;
mod pg_group_commit;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use crate::engine::hub::LiveRecord;

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunRecord, RunStatus, Workflow};
use async_trait::async_trait;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens the store `url` names: a `postgres://` URL connects to PostgreSQL, anything else is
/// an SQLite file path or `sqlite:` URL (created if missing). Both are migrated on open.
pub async fn open(
    url: &str,
    clock: Arc<dyn crate::clock::Clock>,
) -> Result<Arc<dyn Store>, StoreError> {
    Ok(if postgres::is_postgres_url(url) {
        Arc::new(PostgresStore::connect(url, clock).await?)
    } else {
        Arc::new(SqliteStore::open(url, clock).await?.0)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the history writer has stopped")]
    WriterGone,
    /// The run was claimed by another process since this one claimed it at `epoch`: its
    /// history is no longer this process's to write (fencing).
    #[error("run {run} belongs to another process now (this one held it at epoch {epoch})")]
    Fenced { run: String, epoch: i64 },
    #[error("the history writer cannot start: {0}")]
    Writer(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

/// How many history records a reader (a WebSocket catch-up, a run report, recovery) holds at
/// once: memory per request stays bounded whatever a run's length.
pub const HISTORY_PAGE: usize = 1_000;

/// Hands every record of a run's history after `after` to `apply`, reading a page of
/// [`HISTORY_PAGE`] at a time; returns the last `seq` seen (or `after`).
pub async fn replay_history(
    store: &dyn RunStore,
    run_id: &str,
    mut after: u64,
    mut apply: impl FnMut(&RunRecord),
) -> Result<u64, StoreError> {
    loop {
        let page = store.history_after(run_id, after, HISTORY_PAGE).await?;
        for record in &page {
            apply(record);
            after = record.seq;
        }
        if page.len() < HISTORY_PAGE {
            return Ok(after);
        }
    }
}

/// A history record with its JSON, encoded once: the store writes that text, and watchers
/// get the same bytes.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub record: RunRecord,
    pub json: axum::extract::ws::Utf8Bytes,
}

impl Recorded {
    pub fn new(record: RunRecord) -> Self {
        Recorded {
            json: encode(&record).into(),
            record,
        }
    }
}

/// A workflow as its runs use it: decoded once and shared by every run of that revision
/// (no copy per run), with its JSON document and the content hash its runs refer to.
#[derive(Debug)]
pub struct WorkflowVersion {
    pub workflow: Arc<Workflow>,
    /// The document as stored in `workflow_versions`.
    pub document: String,
    /// The SHA-256 of `document`, in hex: the version's key.
    pub hash: String,
}

impl WorkflowVersion {
    pub fn new(workflow: Workflow) -> Arc<Self> {
        let document = encode(&workflow);
        Arc::new(WorkflowVersion {
            hash: content_hash(&document),
            document,
            workflow: Arc::new(workflow),
        })
    }
}

/// The key of a stored workflow version: the SHA-256 of its JSON, in hex.
pub fn content_hash(document: &str) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let mut hex = String::with_capacity(64);
    for byte in sha2::Sha256::digest(document.as_bytes()) {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A line of the runs list from a run's row (its JSON columns decoded).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_summary(
    id: String,
    workflow_id: String,
    status: &str,
    started_at: i64,
    ended_at: Option<i64>,
    messages: Option<String>,
    diagnosis: Option<String>,
    input: &str,
    outcome: Option<String>,
    speed: f64,
) -> Result<RunSummary, StoreError> {
    fn decode<T: serde::de::DeserializeOwned>(
        id: &str,
        what: &str,
        text: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("run {id} {what}: {e}")))
    }
    Ok(RunSummary {
        workflow_id,
        status: RunStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} status {status:?}")))?,
        started_at,
        ended_at,
        messages: messages.map(|m| decode(&id, "messages", &m)).transpose()?,
        diagnosis,
        input: decode(&id, "input", input)?,
        outcome: outcome.map(|o| decode(&id, "outcome", &o)).transpose()?,
        speed: Some(speed),
        id,
    })
}

/// JSON of one of our own values.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own types to JSON cannot fail: no maps with non-string keys, no
    // custom serialisers that error.
    serde_json::to_string(value).unwrap_or_default()
}

/// Saved workflows.
#[async_trait]
pub trait WorkflowStore: Send + Sync {
    /// Stores a new workflow under `id` (a fresh id: [`WorkflowStore::create_workflow`]).
    async fn insert_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<WorkflowRecord, StoreError>;
    /// Stores a new workflow under a new id.
    async fn create_workflow(&self, workflow: &Workflow) -> Result<WorkflowRecord, StoreError> {
        self.insert_workflow(&uuid::Uuid::new_v4().simple().to_string(), workflow)
            .await
    }
    /// Keeps a shipped template stored under `id` as this build ships it: created when
    /// missing, replaced (a new revision) when it changed, left alone otherwise — in one
    /// step, so processes starting together on one database both succeed.
    async fn put_template(&self, id: &str, workflow: &Workflow) -> Result<(), StoreError>;
    /// Most recently updated first.
    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError>;
    async fn get_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError>;
    /// The workflow's current version, to start runs of (a store may keep it decoded
    /// between runs, as the SQLite store does until the workflow changes).
    async fn version(&self, id: &str) -> Result<Option<Arc<WorkflowVersion>>, StoreError> {
        Ok(self
            .get_workflow(id)
            .await?
            .map(|record| WorkflowVersion::new(record.workflow)))
    }
    /// Replaces the document and bumps its revision — only if its revision is still
    /// `if_revision` when one is given (the check and the write are one statement).
    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError>;
    /// Deletes the workflow with its lab batches and load tests (its ended runs go with the
    /// next [`RunStore::prune_runs`]). `false` when no workflow has that id.
    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError>;
}

/// What a conditional replace did.
#[derive(Debug)]
pub enum Replaced {
    Done(WorkflowRecord),
    /// The workflow is at another revision than the client read.
    Stale {
        revision: i64,
    },
    Missing,
}

/// A run as stored, without its history.
#[derive(Clone, Debug)]
pub struct StoredRun {
    pub id: String,
    pub workflow_id: String,
    pub workflow: Arc<Workflow>,
    pub input: serde_json::Value,
    pub status: RunStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The speed it is played at (simulated time ÷ wall time).
    pub speed: f64,
    /// The process driving it (its lease in [`OwnershipStore`]); `None` for runs stored
    /// before ownership was recorded.
    pub owner: Option<String>,
    /// Bumped by every claim: appends name the epoch their writer holds ([`RunStore::append_history`]).
    pub epoch: i64,
}

/// The epoch a process holds a run at when it created it.
pub const FIRST_EPOCH: i64 = 1;

/// A run a process claimed (at the run's new epoch), and which process held it before.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub run: StoredRun,
    pub previous: Option<String>,
}

/// A process with a lease, as the cluster view shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LeaseHolder {
    pub process: String,
    /// When its lease runs out (ms since the epoch, the store's clock) unless renewed.
    pub lease_until: i64,
    /// Runs in progress it owns.
    pub runs: u64,
}

/// Which process drives which run: each process holds a lease it renews while it lives; a
/// run in progress belongs to one process, and when that process's lease runs out, others
/// claim its runs (each claim bumps the run's epoch, which fences the previous owner's
/// appends). One lease per process, not one per run: renewing is one write per interval
/// whatever the number of runs in flight.
#[async_trait]
pub trait OwnershipStore: Send + Sync {
    /// Starts or extends `process`'s lease to `lease` from now, on the store's clock (one
    /// clock for every process).
    async fn renew_lease(
        &self,
        process: &str,
        lease: std::time::Duration,
    ) -> Result<(), StoreError>;
    /// Ends `process`'s lease now (it shuts down): others may claim its runs at once.
    async fn end_lease(&self, process: &str) -> Result<(), StoreError>;
    /// Claims for `process` up to `limit` runs in progress, oldest first, that are unowned,
    /// or owned by a process whose lease has run out, or (`own`: the process has just
    /// started) recorded as its own. Each one's epoch is bumped. Runs another process is
    /// writing right now are left for a later claim.
    async fn claim_runs(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError>;
    /// Processes whose lease has not run out, with the runs in progress each owns.
    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError>;
}
/// Runs and their append-only histories.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Stores a new run of `version` with its first history records, durably, in one write
    /// (for a run of steps that take no time, that is the whole run).
    async fn create_run(
        &self,
        run: &StoredRun,
        version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError>;
    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError>;
    /// Runs not yet ended, whichever process owns them.
    async fn running_runs(&self) -> Result<Vec<StoredRun>, StoreError>;
    /// Appends records durably (group-committed with other runs' appends); a
    /// `RunCompleted` among them also ends the run. Returns once they are durable.
    /// Refused with [`StoreError::Fenced`], storing nothing, unless the run is still at
    /// `epoch` (the writer's claim on it).
    async fn append_history(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<(), StoreError>;
    /// At most `limit` records with `seq > after`, in order (read a long history in pages of
    /// [`HISTORY_PAGE`]).
    async fn history_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError>;
    /// The same records as [`RunStore::history_after`], as watchers receive them: their
    /// stored JSON, not decoded and encoded again (a watcher catching up reads thousands).
    async fn history_json_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LiveRecord>, StoreError> {
        let records = self.history_after(run_id, after, limit).await?;
        Ok(records
            .into_iter()
            .map(|record| LiveRecord::from(&Recorded::new(record)))
            .collect())
    }
    /// A workflow's runs, newest first, at most `limit`.
    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError>;
    /// Deletes up to `limit` ended runs, with their history, whose workflow id starts with
    /// `prefix` but not with `keep`; returns how many went. (How the lab prunes the runs of
    /// earlier load tests, a chunk at a time so other writers are not held up.)
    async fn delete_ended_runs(
        &self,
        prefix: &str,
        keep: &str,
        limit: usize,
    ) -> Result<u64, StoreError>;
    /// Retention: deletes, with their history, up to `limit` ended runs that are older than
    /// the newest `keep` ended runs of their workflow (`keep == 0`: none for that reason), or
    /// whose workflow was deleted. Load-test runs are left to the lab. Returns how many went.
    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError>;
}

/// What the lab keeps: compare batches and load tests, each stored as one JSON body beside
/// its workflow and creation time, listed per workflow newest first.
pub trait LabDocument:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
    /// The SQL table that holds them.
    const TABLE: &'static str;
    /// What one is called in an error.
    const WHAT: &'static str;
    fn id(&self) -> &str;
    fn workflow_id(&self) -> &str;
    fn created_at(&self) -> i64;
}

/// A lab document stored in `$table`, called `$what` in errors.
macro_rules! lab_document {
    ($type:ty, $table:literal, $what:literal) => {
        impl LabDocument for $type {
            const TABLE: &'static str = $table;
            const WHAT: &'static str = $what;
            fn id(&self) -> &str {
                &self.id
            }
            fn workflow_id(&self) -> &str {
                &self.workflow_id
            }
            fn created_at(&self) -> i64 {
                self.created_at
            }
        }
    };
}

lab_document!(Batch, "lab_batches", "batch");
lab_document!(LoadTest, "lab_loads", "load test");

/// The lab's compare batches and load tests (request, progress and result in one body).
#[async_trait]
pub trait LabStore: Send + Sync {
    /// Inserts or replaces the batch.
    async fn save_batch(&self, batch: &Batch) -> Result<(), StoreError>;
    async fn get_batch(&self, id: &str) -> Result<Option<Batch>, StoreError>;
    /// A workflow's batches, newest first, at most `limit`.
    async fn list_batches(&self, workflow_id: &str, limit: usize)
        -> Result<Vec<Batch>, StoreError>;
    /// Batches stored as running: after a restart, the ones a crash interrupted.
    async fn running_batches(&self) -> Result<Vec<Batch>, StoreError>;
    /// Inserts or replaces the load test.
    async fn save_load(&self, test: &LoadTest) -> Result<(), StoreError>;
    /// Load tests stored as running (by any process).
    async fn running_loads(&self) -> Result<Vec<LoadTest>, StoreError>;
    async fn get_load(&self, id: &str) -> Result<Option<LoadTest>, StoreError>;
    /// A workflow's load tests, newest first, at most `limit`.
    async fn list_loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError>;
}

/// Everything the server needs from storage.
pub trait Store: WorkflowStore + RunStore + LabStore + OwnershipStore {}
impl<T: WorkflowStore + RunStore + LabStore + OwnershipStore> Store for T {}
