//! The trade-off lab: one flow run as drawn, as all orchestration and as all choreography,
//! side by side, with faults injected on purpose.
//!
//! - [`simulate`]: the engine's core run in virtual time ([`simulate::VirtualRun`]).
//! - [`measure`]: what a finished run tells (outcome, latency, messages, blast radius) and
//!   what a workflow's shape costs in coupling.
//! - [`compare`]: a batch over the three styles on the same seeds, the fail-at-every-step
//!   matrix and the generated reading.
//! - [`real`]: a compare batch of a flow that calls real services, run as real runs (their
//!   latencies measured), the fail matrix simulated.
//! - [`load`]: load mode: real runs on the real engine at a given rate, each style's runs
//!   sharing one orchestrator of limited capacity; throughput and latency per second.
//!
//! [`Lab`] keeps the batches and the load test in progress (their progress and cancel
//! switches) and stores every one, running and finished, through the [`crate::store::LabStore`]
//! — a running one's progress every [`PROGRESS_SAVE_EVERY`], by the process computing it
//! (`owner`) at the epoch it holds it at, as runs are: a save at another epoch is refused
//! (a paused process cannot overwrite what another took over), so every process sharing
//! the database shows it. A cancel is stored first, then the owner is nudged (through the
//! other processes' seam); whoever computes it stops at its next save at the latest, and a
//! process that takes it over ends it cancelled. A batch whose process stopped (a restart
//! here, or another process's lease ran out) is claimed and computed again
//! ([`Lab::resume_interrupted`]); a load test left running by a process that stopped reads
//! as cancelled. One load test at a time in the whole cluster: the store decides.

pub mod compare;
pub mod load;
pub mod measure;
pub mod real;
pub mod simulate;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::RunSummary;
use app::model::lab::{
    Batch, BatchState, LabStyle, LoadRequest, LoadTest, RealRuns, StyleProgress,
};
use async_trait::async_trait;

use self::compare::{compare, CompareSpec, Progress};
use self::load::LoadSpec;
use crate::clock::Clock;
use crate::engine::peers::{Answer, Local, Target};
use crate::engine::Engine;
use crate::store::{CancelStored, LabSaved, Store, StoreError, FIRST_EPOCH};

/// Runs deleted per transaction when the runs of earlier load tests are pruned.
pub const PRUNE_CHUNK: usize = 1_000;

/// Batches in progress at once; more are refused until one ends.
pub const MAX_RUNNING_BATCHES: usize = 4;

/// How long a change asked of a run here by another process may wait to be durable before
/// the answer goes back (under the bus's request timeout).
pub const REMOTE_CONTROL_WAIT: Duration = Duration::from_millis(2_500);

/// How often a running batch's or load test's progress is stored (what other processes
/// show of it).
pub const PROGRESS_SAVE_EVERY: Duration = Duration::from_secs(1);

type LoadEntry = (Arc<Mutex<LoadTest>>, Arc<AtomicBool>);

/// What a cancel of a lab batch or load test found.
#[derive(Debug)]
pub enum Cancelled {
    /// Stored: whoever computes it stops it.
    Stored,
    /// It is no longer running.
    Ended(BatchState),
    Missing,
}

pub struct Lab {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    engine: Arc<Engine>,
    running: Mutex<HashMap<String, Arc<Progress>>>,
    /// The load test in progress, if any (one at a time).
    load: Mutex<Option<LoadEntry>>,
}

/// Why a batch could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{MAX_RUNNING_BATCHES} batches are already running; wait for one to end or cancel it")]
    Busy,
    #[error("a load test is already running (or deleting the runs of the one before); wait for it to end or cancel it")]
    LoadBusy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Lab {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, engine: Arc<Engine>) -> Arc<Lab> {
        Arc::new(Lab {
            store,
            clock,
            engine,
            running: Mutex::new(HashMap::new()),
            load: Mutex::new(None),
        })
    }

    /// Starts a load test (one at a time), stored as running; returns it as it starts.
    pub async fn start_load(
        self: &Arc<Self>,
        workflow_id: &str,
        request: LoadRequest,
        spec: LoadSpec,
    ) -> Result<LoadTest, LabError> {
        let test = LoadTest {
            id: uuid::Uuid::new_v4().simple().to_string(),
            workflow_id: workflow_id.to_string(),
            workflow_name: spec.workflow.name.clone(),
            created_at: self.clock.now_ms(),
            state: BatchState::Running,
            request,
            styles: Vec::new(),
            reading: Vec::new(),
            owner: Some(self.engine.process().to_string()),
        };
        let shared = Arc::new(Mutex::new(test.clone()));
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut load = self.lock_load();
            if load.is_some() {
                return Err(LabError::LoadBusy);
            }
            *load = Some((shared.clone(), cancel.clone()));
        }
        // One at a time in the whole cluster, decided by the store in one step: load tests'
        // runs share the engine's capacity, and each deletes the runs of the ones before it.
        match self.store.insert_load(&test).await {
            Ok(true) => {}
            Ok(false) => {
                *self.lock_load() = None;
                return Err(LabError::LoadBusy);
            }
            Err(e) => {
                *self.lock_load() = None;
                return Err(e.into());
            }
        }
        let lab = self.clone();
        tokio::spawn(async move {
            let running = load::run_load(lab.engine.clone(), spec, shared.clone(), cancel.clone());
            tokio::pin!(running);
            let mut saving = tokio::time::interval(PROGRESS_SAVE_EVERY);
            saving.tick().await;
            let mut fenced = false;
            loop {
                tokio::select! {
                    _ = &mut running => break,
                    _ = saving.tick() => {
                        let now = lock_test(&shared).clone();
                        match lab.store.save_load(&now, FIRST_EPOCH).await {
                            Ok(LabSaved::Saved) => {}
                            Ok(LabSaved::CancelRequested) => cancel.store(true, Ordering::Relaxed),
                            Ok(LabSaved::Fenced) => {
                                // Marked cancelled by another process (this one's lease ran
                                // out): it is not this one's to write any more.
                                fenced = true;
                                cancel.store(true, Ordering::Relaxed);
                            }
                            Err(e) => tracing::warn!(load = %now.id, error = %e, "storing a load test's progress failed"),
                        }
                    }
                }
            }
            let finished = lock_test(&shared).clone();
            if !fenced {
                if let Err(e) = lab.store.save_load(&finished, FIRST_EPOCH).await {
                    tracing::error!(load = %finished.id, error = %e, "storing a finished load test failed");
                }
            }
            lab.prune_load_runs(&finished.id).await;
            *lab.lock_load() = None;
        });
        Ok(test)
    }

    /// Deletes the runs of every load test but `kept` (their figures stay), a chunk at a
    /// time: a load test at the limits writes 450,000 runs, and one test's worth is enough to
    /// look into. Runs still going are left alone.
    async fn prune_load_runs(&self, kept: &str) {
        let keep = load::load_runs_prefix(kept);
        let mut deleted = 0;
        loop {
            match self.store.delete_load_runs(&keep, PRUNE_CHUNK).await {
                Ok(0) => break,
                Ok(n) => deleted += n,
                Err(e) => {
                    tracing::error!(error = %e, "deleting the runs of earlier load tests failed");
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
        if deleted > 0 {
            tracing::info!(deleted, "deleted the runs of earlier load tests");
        }
    }

    /// The load test: its figures so far while it runs, as stored once it ended.
    pub async fn load(&self, id: &str) -> Result<Option<LoadTest>, StoreError> {
        if let Some(test) = self.running_load(id) {
            return Ok(Some(test));
        }
        let mut test = self.store.get_load(id).await?;
        if let Some(t) = test.as_mut() {
            self.refresh_load(t, &mut None).await?;
        }
        Ok(test)
    }

    /// A workflow's load tests, newest first.
    pub async fn loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError> {
        let mut tests = self.store.list_loads(workflow_id, limit).await?;
        let mut live = None;
        for t in &mut tests {
            self.refresh_load(t, &mut live).await?;
        }
        Ok(tests)
    }

    /// Stops the running load test after the runs it started; false when it is not running.
    pub fn cancel_load(&self, id: &str) -> bool {
        match self.lock_load().as_ref() {
            Some((test, cancel)) if lock_test(test).id == id => {
                cancel.store(true, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    fn running_load(&self, id: &str) -> Option<LoadTest> {
        self.lock_load()
            .as_ref()
            .map(|(t, _)| lock_test(t).clone())
            .filter(|t| t.id == id)
    }

    /// A stored load test still marked running: the one in progress here, one another live
    /// process runs (as it last stored it), or (its process stopped) cancelled. `live`: the
    /// processes alive, read once per listing when needed.
    async fn refresh_load(
        &self,
        test: &mut LoadTest,
        live: &mut Option<HashSet<String>>,
    ) -> Result<(), StoreError> {
        if test.state != BatchState::Running {
            return Ok(());
        }
        if let Some(here) = self.running_load(&test.id) {
            *test = here;
        } else if !self.runs_elsewhere(&test.owner, live).await? {
            test.state = BatchState::Cancelled;
        }
        Ok(())
    }

    /// Whether `owner` is another process than this one, and alive (`live`: filled on first
    /// use).
    async fn runs_elsewhere(
        &self,
        owner: &Option<String>,
        live: &mut Option<HashSet<String>>,
    ) -> Result<bool, StoreError> {
        let Some(owner) = owner.as_deref().filter(|o| *o != self.engine.process()) else {
            return Ok(false);
        };
        if live.is_none() {
            let holders = self.store.lease_holders().await?;
            *live = Some(holders.into_iter().map(|h| h.process).collect());
        }
        Ok(live.as_ref().is_some_and(|live| live.contains(owner)))
    }

    /// Stores a cancel of the load test, and has whoever runs it stop at once.
    pub async fn cancel_load_anywhere(&self, id: &str) -> Result<Cancelled, StoreError> {
        let stored = self.store.cancel_load(id).await?;
        Ok(self
            .nudge(stored, Target::Load { load: id.into() }, |lab| {
                lab.cancel_load(id)
            })
            .await)
    }

    /// Stores a cancel of the batch, and has whoever computes it stop at once.
    pub async fn cancel_anywhere(&self, id: &str) -> Result<Cancelled, StoreError> {
        let stored = self.store.cancel_batch(id).await?;
        Ok(self
            .nudge(stored, Target::Batch { batch: id.into() }, |lab| {
                lab.cancel(id)
            })
            .await)
    }

    /// After a cancel was stored: stops it here if it runs here, else tells its owner (who
    /// would otherwise stop at its next save).
    async fn nudge(
        &self,
        stored: CancelStored,
        target: Target,
        here: impl FnOnce(&Lab) -> bool,
    ) -> Cancelled {
        match stored {
            CancelStored::Stored { owner } => {
                if !here(self) {
                    if let Some(owner) = owner.filter(|o| o != self.engine.process()) {
                        let peers = self.engine.peers().clone();
                        tokio::spawn(async move { peers.ask(&owner, target).await });
                    }
                }
                Cancelled::Stored
            }
            CancelStored::Ended(state) => Cancelled::Ended(state),
            CancelStored::Missing => Cancelled::Missing,
        }
    }

    fn lock_load(&self) -> std::sync::MutexGuard<'_, Option<LoadEntry>> {
        self.load.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the batch as running and computes it on a blocking thread; returns at once.
    pub async fn start(
        self: &Arc<Self>,
        workflow_id: &str,
        spec: CompareSpec,
    ) -> Result<Batch, LabError> {
        let progress = Arc::new(Progress::default());
        let id = uuid::Uuid::new_v4().simple().to_string();
        {
            let mut running = self.lock();
            if running.len() >= MAX_RUNNING_BATCHES {
                return Err(LabError::Busy);
            }
            running.insert(id.clone(), progress.clone());
        }
        let batch = Batch {
            id: id.clone(),
            workflow_id: workflow_id.to_string(),
            workflow_name: spec.workflow.name.clone(),
            created_at: self.clock.now_ms(),
            state: BatchState::Running,
            runs: spec.runs,
            seed: spec.seed,
            input: spec.input.clone(),
            faults: spec.faults.clone(),
            message_ms: spec.message_ms,
            progress: progress_of(&progress, spec.runs),
            verify: spec.verify,
            result: None,
            owner: Some(self.engine.process().to_string()),
        };
        if let Err(e) = self.store.insert_batch(&batch).await {
            self.lock().remove(&id);
            return Err(e.into());
        }
        self.compute(batch.clone(), FIRST_EPOCH, spec, progress);
        Ok(batch)
    }

    /// Claims and computes again the batches whose process stopped — a crash or restart of
    /// this one (`own`), or another whose lease ran out — (a batch is a pure function of
    /// its workflow, input, seed and faults, so the table is the one it would have had),
    /// unless a cancel was stored for them or their workflow changed since they began:
    /// those end cancelled. Returns how many were resumed. Called at start-up, and every
    /// lease by a process with others.
    pub async fn resume_interrupted(self: &Arc<Self>, own: bool) -> Result<usize, StoreError> {
        let room = MAX_RUNNING_BATCHES.saturating_sub(self.lock().len());
        if room == 0 || !self.engine.lease().holds() {
            return Ok(0);
        }
        let mut resumed = 0;
        for claim in self
            .store
            .claim_batches(self.engine.process(), own, room)
            .await?
        {
            let (mut batch, epoch) = (claim.doc, claim.epoch);
            let record = self.store.get_workflow(&batch.workflow_id).await?;
            let record = record.filter(|r| r.updated_at <= batch.created_at);
            match record {
                Some(record) if !claim.cancel_requested => {
                    let spec = CompareSpec {
                        input: batch.input.clone(),
                        runs: batch.runs,
                        seed: batch.seed,
                        faults: batch.faults.clone(),
                        message_ms: batch.message_ms,
                        verify: batch.verify,
                        library: library(self.store.as_ref(), &record.workflow).await?,
                        workflow: record.workflow,
                    };
                    let progress = Arc::new(Progress::default());
                    self.lock().insert(batch.id.clone(), progress.clone());
                    self.compute(batch, epoch, spec, progress);
                    resumed += 1;
                }
                _ => {
                    tracing::warn!(batch = %batch.id, cancel = claim.cancel_requested, "an interrupted batch was cancelled, or its workflow changed or is gone: ended cancelled");
                    batch.state = BatchState::Cancelled;
                    self.store.save_batch(&batch, epoch).await?;
                }
            }
        }
        Ok(resumed)
    }

    /// Computes a batch registered as running (held at `epoch`) on a blocking thread,
    /// saving its progress; stops when a cancel is stored for it, or when another process
    /// took it over (then it saves nothing more).
    fn compute(
        self: &Arc<Self>,
        batch: Batch,
        epoch: i64,
        spec: CompareSpec,
        progress: Arc<Progress>,
    ) {
        let lab = self.clone();
        let mut finished = batch;
        tokio::spawn(async move {
            let work = progress.clone();
            // A flow that calls real services runs real runs (async, waiting on them);
            // otherwise the batch is pure CPU work, off the async workers.
            let computing = if spec.verify.is_none() && RealRuns::of(&spec.workflow).is_some() {
                tokio::spawn(real::compare_real(
                    lab.engine.clone(),
                    lab.store.clone(),
                    finished.id.clone(),
                    spec,
                    work,
                ))
            } else {
                tokio::task::spawn_blocking(move || compare(&spec, &work))
            };
            tokio::pin!(computing);
            let mut saving = tokio::time::interval(PROGRESS_SAVE_EVERY);
            saving.tick().await;
            let mut fenced = false;
            let result = loop {
                tokio::select! {
                    result = &mut computing => break result.ok().flatten(),
                    _ = saving.tick() => {
                        let mut now = finished.clone();
                        now.progress = progress_of(&progress, now.runs);
                        match lab.store.save_batch(&now, epoch).await {
                            Ok(LabSaved::Saved) => {}
                            Ok(LabSaved::CancelRequested) => progress.cancel.store(true, Ordering::Relaxed),
                            Ok(LabSaved::Fenced) => {
                                tracing::info!(batch = %now.id, epoch, "another process computes this batch now; stopping here");
                                fenced = true;
                                progress.cancel.store(true, Ordering::Relaxed);
                            }
                            Err(e) => tracing::warn!(batch = %now.id, error = %e, "storing a batch's progress failed"),
                        }
                    }
                }
            };
            if fenced || (result.is_none() && lab.engine.is_shutting_down()) {
                // Another process's now; or stopped by the shutdown, not by the user: it
                // stays "running" in the store and is computed again at the next start.
                lab.lock().remove(&finished.id);
                return;
            }
            finished.state = if result.is_some() {
                BatchState::Done
            } else {
                BatchState::Cancelled
            };
            finished.progress = progress_of(&progress, finished.runs);
            finished.result = result;
            match lab.store.save_batch(&finished, epoch).await {
                Ok(LabSaved::Fenced) => {
                    tracing::info!(batch = %finished.id, "another process took this batch over; its end is that one's to store")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(batch = %finished.id, error = %e, "storing a finished batch failed")
                }
            }
            lab.lock().remove(&finished.id);
        });
    }

    /// The batch with its current progress. A batch stored as running that this process
    /// is not computing was interrupted by a restart: it reads as cancelled.
    ///
    /// The running set is read before the store: a batch leaves the set only after its end
    /// is stored, so one the set no longer holds reads as it ended (read the other way
    /// round, a batch finishing between the two reads would read as cancelled).
    pub async fn get(&self, id: &str) -> Result<Option<Batch>, StoreError> {
        let here = self.lock().clone();
        let Some(mut batch) = self.store.get_batch(id).await? else {
            return Ok(None);
        };
        self.refresh(&here, &mut batch, &mut None).await?;
        Ok(Some(batch))
    }

    pub async fn list(&self, workflow_id: &str, limit: usize) -> Result<Vec<Batch>, StoreError> {
        let here = self.lock().clone();
        let mut batches = self.store.list_batches(workflow_id, limit).await?;
        let mut live = None;
        for b in &mut batches {
            self.refresh(&here, b, &mut live).await?;
        }
        Ok(batches)
    }

    /// A stored batch still marked running: its progress if `here` (the running set, read
    /// before the store) holds it; as stored if another live process computes it; else
    /// cancelled (its process stopped; it is computed again when one takes it).
    async fn refresh(
        &self,
        here: &HashMap<String, Arc<Progress>>,
        batch: &mut Batch,
        live: &mut Option<HashSet<String>>,
    ) -> Result<(), StoreError> {
        if batch.state != BatchState::Running {
            return Ok(());
        }
        match here.get(&batch.id) {
            Some(progress) => batch.progress = progress_of(progress, batch.runs),
            None if self.runs_elsewhere(&batch.owner, live).await? => {}
            None => batch.state = BatchState::Cancelled,
        }
        Ok(())
    }

    /// Asks a running batch to stop; false when it is not running here.
    /// Shutdown: stops every batch's computation (without recording it as cancelled: each is
    /// computed again at the next start) and the load test in progress.
    pub fn shut_down(&self) {
        for progress in self.lock().values() {
            progress.cancel.store(true, Ordering::Relaxed);
        }
        if let Some((_, cancel)) = self.lock_load().as_ref() {
            cancel.store(true, Ordering::Relaxed);
        }
    }

    pub fn cancel(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(progress) => {
                progress.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Local for Lab {
    async fn apply(&self, target: Target) -> Answer {
        let done = |applied: bool| {
            if applied {
                Answer::Applied
            } else {
                Answer::NotHere
            }
        };
        match target {
            Target::Run { run, control } => {
                self.engine
                    .control_here(&run, control, REMOTE_CONTROL_WAIT)
                    .await
            }
            Target::Batch { batch } => done(self.cancel(&batch)),
            Target::Load { load } => done(self.cancel_load(&load)),
        }
    }

    fn feed_watched(&self) -> bool {
        self.engine.feed_watched()
    }

    fn announce(&self, summary: RunSummary) {
        self.engine.announce_locally(summary);
    }
}

fn lock_test(test: &Mutex<LoadTest>) -> std::sync::MutexGuard<'_, LoadTest> {
    test.lock().unwrap_or_else(|p| p.into_inner())
}

fn progress_of(progress: &Progress, total: u32) -> Vec<StyleProgress> {
    LabStyle::ALL
        .into_iter()
        .enumerate()
        .map(|(i, style)| StyleProgress {
            style,
            done: progress.done(i),
            total,
        })
        .collect()
}

/// The stored workflows `workflow`'s sub-flow steps run, and those theirs run, … — at most
/// [`crate::api::workflows::MAX_SUB_FLOWS_READ`] of them — for the lab to simulate them.
pub async fn library(
    store: &dyn Store,
    workflow: &app::model::Workflow,
) -> Result<simulate::Library, StoreError> {
    let mut found = std::collections::BTreeMap::new();
    let mut wanted: Vec<String> = workflow
        .nodes
        .iter()
        .filter_map(|n| n.sub_flow.clone())
        .collect();
    let mut asked = std::collections::HashSet::new();
    while let Some(id) = wanted.pop() {
        if asked.len() >= crate::api::workflows::MAX_SUB_FLOWS_READ || !asked.insert(id.clone()) {
            continue;
        }
        if let Some(record) = crate::store::named_workflow(store, &id).await? {
            wanted.extend(
                record
                    .workflow
                    .nodes
                    .iter()
                    .filter_map(|n| n.sub_flow.clone()),
            );
            found.insert(id, record.workflow);
        }
    }
    Ok(Arc::new(found))
}
