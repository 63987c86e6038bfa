//! Storage: small traits, one per table family, and what they store.
//!
//! # Layout
//! - [`record`]: a history record as the store writes it and watchers receive it
//!   ([`Recorded`], [`StoredRecord`], [`JsonText`]): its JSON made once.
//! - [`sql`]: the one SQL implementation of every trait ([`SqlStore`]), for SQLite (the
//!   embedded default) and PostgreSQL (several processes on one database); only the
//!   [`sql::Dialect`] differs between them.
//! - [`group_commit`]: how runs and history are written: every waiting write in one
//!   transaction, each fenced by its run's epoch — on a thread with its own SQLite
//!   connection, or in a task on PostgreSQL; the gathering and the fallback are shared.
//! - [`memory`]: the same traits without durability, for benchmarks.
//!
//! Migrations are in `server/migrations/{sqlite,postgres}/`. The conformance suite
//! (`server/tests/it/conformance.rs`) runs one set of tests on every implementation.

pub mod group_commit;
pub mod memory;
pub mod record;
pub mod sql;

use std::sync::Arc;

use app::model::api::{ParentLink, RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, BatchState, LoadTest};
use app::model::{RunRecord, RunStatus, Workflow};
use async_trait::async_trait;

pub use memory::MemoryStore;
pub use record::{JsonText, Recorded, StoredRecord};
pub use sql::SqlStore;

/// Opens the store `url` names: a `postgres://` URL connects to PostgreSQL, anything else is
/// an SQLite file path or `sqlite:` URL (created if missing). Both are migrated on open.
pub async fn open(
    url: &str,
    clock: Arc<dyn crate::clock::Clock>,
) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::open(url, clock).await?))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the history writer's database error: {0}")]
    Writer(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored {what} is not readable: {source}")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the history writer has stopped")]
    WriterGone,
    /// The run was claimed by another process since this one claimed it at `epoch`, or it
    /// was deleted: its history is no longer this process's to write (fencing).
    #[error("run {run} is not this process's to write any more (it held it at epoch {epoch})")]
    Fenced { run: String, epoch: i64 },
    #[error("no run with id {0} is stored")]
    UnknownRun(String),
    #[error("{what} {id} is stored already")]
    Duplicate { what: &'static str, id: String },
    #[error("the history writer cannot start: {0}")]
    WriterThread(#[source] std::io::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("the database URL is not valid: {0}")]
    Url(String),
}

impl StoreError {
    /// Whether the database cannot be reached right now (a connection refused or reset, no
    /// connection free in time), as opposed to an error in what was asked of it.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            ),
            StoreError::WriterGone => true,
            _ => false,
        }
    }

    /// A stored JSON text (`what` names it) that does not decode.
    pub fn decode(what: impl Into<String>, source: serde_json::Error) -> Self {
        StoreError::Decode {
            what: what.into(),
            source,
        }
    }
}

/// How many history records a reader (a WebSocket catch-up, a run report, recovery) holds at
/// once: memory per request stays bounded whatever a run's length.
pub const HISTORY_PAGE: usize = 1_000;

/// Hands every record of a run's history after `after` to `apply`, reading a page of
/// [`HISTORY_PAGE`] at a time; returns the last `seq` seen (or `after`).
/// The stored workflow a sub-flow names: by id, or else the one workflow with that name (a
/// BPMN call activity's `calledElement` or a Conductor `SUB_WORKFLOW`'s name names a
/// process, not one of this store's ids). Several with the name: none (which is meant is not
/// known).
pub async fn named_workflow(
    store: &(impl WorkflowStore + ?Sized),
    reference: &str,
) -> Result<Option<WorkflowRecord>, StoreError> {
    if let Some(record) = store.get_workflow(reference).await? {
        return Ok(Some(record));
    }
    let named: Vec<WorkflowSummary> = store
        .list_workflows()
        .await?
        .into_iter()
        .filter(|w| w.name == reference)
        .collect();
    match named.as_slice() {
        [one] => store.get_workflow(&one.id).await,
        _ => Ok(None),
    }
}

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
    /// between runs).
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
    // Boxed: a workflow (with its scenarios) is far larger than the other answers.
    Done(Box<WorkflowRecord>),
    /// The workflow is at another revision than the client read.
    Stale {
        revision: i64,
    },
    Missing,
}

/// What a run is for: a user's run of a workflow, one of the many runs a lab load test
/// starts (kept by the lab, not by retention; each test deletes the runs of the ones
/// before), or a real run of a compare batch on real services (deleted by the batch once
/// it has read them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunKind {
    #[default]
    Run,
    Load,
    Lab,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Run => "run",
            RunKind::Load => "load",
            RunKind::Lab => "lab",
        }
    }

    pub fn parse(text: &str) -> Option<RunKind> {
        match text {
            "run" => Some(RunKind::Run),
            "load" => Some(RunKind::Load),
            "lab" => Some(RunKind::Lab),
            _ => None,
        }
    }
}

/// A run as stored, without its history.
#[derive(Clone, Debug)]
pub struct StoredRun {
    pub id: String,
    pub workflow_id: String,
    pub workflow: Arc<Workflow>,
    /// Shared by the run's row, its core and its summaries: one copy per run.
    pub input: Arc<serde_json::Value>,
    pub status: RunStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The speed it is played at (simulated time ÷ wall time).
    pub speed: f64,
    /// The process driving it (its lease in [`OwnershipStore`]); `None` for runs stored
    /// before ownership was recorded, or released by a process that could not resume them.
    pub owner: Option<String>,
    /// Bumped by every claim: appends name the epoch their writer holds ([`RunStore::append_history`]).
    pub epoch: i64,
    pub kind: RunKind,
    /// The run whose sub-flow step started this one, when it is a child run.
    pub parent: Option<ParentLink>,
}

/// The epoch a process holds a run (or a lab batch) at when it created it.
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

/// What a store found of a write it had reported as failed (a connection reset before the
/// answer, a commit whose outcome was not heard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Every record is stored, as written, and the run is still at the writer's epoch.
    Stored,
    /// Nothing of it is stored and the run is still at the writer's epoch: write it again.
    Absent,
    /// The run is at another epoch, or gone, or other records hold those seqs: the run is
    /// not the writer's any more, whatever became of the write.
    Fenced,
}

/// What a write of `records` at `epoch` became, from what the store holds: the run's epoch
/// (`None`: it is not stored) and the records it holds from the first one's seq on.
pub fn appended(
    stored_epoch: Option<i64>,
    epoch: i64,
    stored: &[(u64, &str)],
    records: &[Recorded],
) -> Appended {
    if stored_epoch != Some(epoch) {
        return Appended::Fenced;
    }
    match (stored.first(), records.first()) {
        (_, None) => Appended::Stored,
        (Some((seq, _)), Some(first)) if *seq == first.record.seq => {
            let same = stored.len() == records.len()
                && stored
                    .iter()
                    .zip(records)
                    .all(|((seq, text), r)| *seq == r.record.seq && *text == r.json.as_str());
            if same {
                Appended::Stored
            } else {
                Appended::Fenced
            }
        }
        _ => Appended::Absent,
    }
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
    /// Gives up a run `process` claimed at `epoch` and could not resume: it becomes unowned
    /// (any process, this one too, claims it again). False when it is not `process`'s at
    /// `epoch` any more.
    async fn release_run(
        &self,
        run_id: &str,
        process: &str,
        epoch: i64,
    ) -> Result<bool, StoreError>;
    /// Processes whose lease has not run out, with the runs in progress each owns.
    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError>;
}

/// Runs and their append-only histories.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Stores a new run of `version` with its first history records, durably, in one write
    /// (for a run of steps that take no time, that is the whole run). Refused with
    /// [`StoreError::Duplicate`] when a run with its id is stored already.
    async fn create_run(
        &self,
        run: &StoredRun,
        version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError>;
    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError>;
    /// The ids of the runs of `workflow_id` not yet ended, whichever process owns them.
    async fn running_runs(&self, workflow_id: &str) -> Result<Vec<String>, StoreError>;
    /// Appends records durably (group-committed with other runs' appends); a
    /// `RunCompleted` among them also ends the run. Returns once they are durable.
    /// Refused with [`StoreError::Fenced`], storing nothing, unless the run is stored and
    /// still at `epoch` (the writer's claim on it).
    async fn append_history(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<(), StoreError>;
    /// After [`RunStore::append_history`] failed: whether those records were stored after
    /// all, exactly as written, with the run still at `epoch`.
    async fn check_append(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<Appended, StoreError> {
        let Some(first) = records.first() else {
            return Ok(Appended::Stored);
        };
        let stored_epoch = self.get_run(run_id).await?.map(|run| run.epoch);
        let stored = self
            .history_json_after(run_id, first.record.seq - 1, records.len())
            .await?;
        let stored: Vec<(u64, &str)> = stored.iter().map(|r| (r.seq, r.json.as_str())).collect();
        Ok(appended(stored_epoch, epoch, &stored, records))
    }
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
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let records = self.history_after(run_id, after, limit).await?;
        Ok(records
            .into_iter()
            .map(|record| StoredRecord::from(&Recorded::new(record)))
            .collect())
    }
    /// A workflow's runs, newest first, at most `limit`.
    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError>;
    /// Deletes up to `limit` ended load-test runs, with their history, but those whose
    /// workflow id starts with `keep` (the latest test's); returns how many went. (How the
    /// lab prunes the runs of earlier load tests, a chunk at a time so other writers are
    /// not held up.)
    async fn delete_load_runs(&self, keep: &str, limit: usize) -> Result<u64, StoreError>;
    /// Deletes up to `limit` ended lab runs ([`RunKind::Lab`]), with their history, whose
    /// workflow id starts with `prefix` (a compare batch's); returns how many went.
    async fn delete_lab_runs(&self, prefix: &str, limit: usize) -> Result<u64, StoreError>;
    /// Retention: deletes, with their history, up to `limit` ended runs that are older than
    /// the newest `keep` ended runs of their workflow (`keep == 0`: none for that reason), or
    /// whose workflow was deleted. Load-test runs are left to the lab. Returns how many went.
    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError>;
    /// Whether the store answers at all (a statement that touches nothing).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// What the lab keeps: compare batches and load tests, each stored as one JSON body beside
/// its workflow, creation time, state, owner and epoch, listed per workflow newest first.
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
    fn state(&self) -> BatchState;
    /// The state as the store's `state` column holds it (which is what counts: a cancel
    /// the store recorded, or a dead process's test marked cancelled, changes only it).
    fn set_state(&mut self, state: BatchState);
    fn owner(&self) -> Option<&str>;
    fn set_owner(&mut self, owner: Option<String>);
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
            fn state(&self) -> BatchState {
                self.state
            }
            fn set_state(&mut self, state: BatchState) {
                self.state = state;
            }
            fn owner(&self) -> Option<&str> {
                self.owner.as_deref()
            }
            fn set_owner(&mut self, owner: Option<String>) {
                self.owner = owner;
            }
        }
    };
}

lab_document!(Batch, "lab_batches", "batch");
lab_document!(LoadTest, "lab_loads", "load test");

/// The word the store keeps for a lab document's state.
pub fn state_word(state: BatchState) -> &'static str {
    match state {
        BatchState::Running => "running",
        BatchState::Done => "done",
        BatchState::Cancelled => "cancelled",
    }
}

/// A stored state word read back.
pub fn parse_state(word: &str) -> Option<BatchState> {
    match word {
        "running" => Some(BatchState::Running),
        "done" => Some(BatchState::Done),
        "cancelled" => Some(BatchState::Cancelled),
        _ => None,
    }
}

/// What a fenced save of a running lab document did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabSaved {
    Saved,
    /// Saved, and a cancel was stored for it meanwhile: its owner stops it.
    CancelRequested,
    /// Not saved: another process claimed it since (or it is gone).
    Fenced,
}

/// A running lab document a process claimed, at its new epoch.
#[derive(Clone, Debug)]
pub struct LabClaim<T> {
    pub doc: T,
    pub epoch: i64,
    /// A cancel was stored for it: the claimer ends it cancelled instead of going on.
    pub cancel_requested: bool,
}

/// What storing a cancel of a lab document found.
#[derive(Clone, Debug, PartialEq)]
pub enum CancelStored {
    /// Stored: whoever computes it stops it (its owner now, named here, or the next one).
    Stored {
        owner: Option<String>,
    },
    /// It is no longer running.
    Ended(BatchState),
    Missing,
}

/// The lab's compare batches and load tests (request, progress and result in one body).
/// Each running one belongs to a process at an epoch, like a run: saves name the epoch and
/// are refused at any other, and cancels are stored first, so no paused process can undo
/// one.
#[async_trait]
pub trait LabStore: Send + Sync {
    /// Stores a new batch, owned by its `owner` at [`FIRST_EPOCH`].
    async fn insert_batch(&self, batch: &Batch) -> Result<(), StoreError>;
    /// Replaces the batch's body and state if it is still at `epoch`.
    async fn save_batch(&self, batch: &Batch, epoch: i64) -> Result<LabSaved, StoreError>;
    async fn get_batch(&self, id: &str) -> Result<Option<Batch>, StoreError>;
    /// A workflow's batches, newest first, at most `limit`.
    async fn list_batches(&self, workflow_id: &str, limit: usize)
        -> Result<Vec<Batch>, StoreError>;
    /// Claims for `process` up to `limit` running batches that are unowned, or whose
    /// owner's lease ran out, or (`own`: it has just started) its own; bumps each one's
    /// epoch.
    async fn claim_batches(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<LabClaim<Batch>>, StoreError>;
    /// Stores a cancel of the batch, if it is running.
    async fn cancel_batch(&self, id: &str) -> Result<CancelStored, StoreError>;
    /// Stores a new load test unless another one runs on a live process (one at a time in
    /// the whole cluster, decided by the store): false then. Load tests left running by a
    /// process whose lease ran out are marked cancelled first.
    async fn insert_load(&self, test: &LoadTest) -> Result<bool, StoreError>;
    /// Replaces the load test's body and state if it is still at `epoch`.
    async fn save_load(&self, test: &LoadTest, epoch: i64) -> Result<LabSaved, StoreError>;
    async fn get_load(&self, id: &str) -> Result<Option<LoadTest>, StoreError>;
    /// A workflow's load tests, newest first, at most `limit`.
    async fn list_loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError>;
    /// Stores a cancel of the load test, if it is running.
    async fn cancel_load(&self, id: &str) -> Result<CancelStored, StoreError>;
}

/// Everything the server needs from storage.
pub trait Store: WorkflowStore + RunStore + LabStore + OwnershipStore {
    /// Whether other processes may share this store (PostgreSQL): only then can a lease
    /// run out under a live process and its runs be taken.
    fn is_shared(&self) -> bool {
        false
    }
}
