//! The trade-off lab: one flow run as drawn, as all orchestration and as all choreography,
//! side by side, with faults injected on purpose.
//!
//! - [`simulate`]: the engine's core run in virtual time ([`simulate::VirtualRun`]).
//! - [`measure`]: what a finished run tells (outcome, latency, messages, blast radius) and
//!   what a workflow's shape costs in coupling.
//! - [`compare`]: a batch over the three styles on the same seeds, the fail-at-every-step
//!   matrix and the generated reading.
//! - [`load`]: load mode: real runs on the real engine at a given rate, each style's runs
//!   sharing one orchestrator of limited capacity; throughput and latency per second.
//!
//! [`Lab`] keeps the batches and the load test in progress (their progress and cancel
//! switches) and stores every one, running and finished, through the [`crate::store::LabStore`]. A batch
//! a restart interrupted is computed again at start-up ([`Lab::resume_interrupted`]); a load
//! test stored as running that this process is not running reads as cancelled.

pub mod compare;
pub mod load;
pub mod measure;
pub mod simulate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::sync::atomic::AtomicBool;

use app::model::lab::{Batch, BatchState, LabStyle, LoadRequest, LoadTest, StyleProgress};

use self::compare::{compare, CompareSpec, Progress};
use self::load::LoadSpec;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::store::{Store, StoreError};

/// The workflow id of a load test's runs starts with this (then the test's id and style).
pub const LOAD_RUNS_PREFIX: &str = "lab-load-";

/// Runs deleted per transaction when the runs of earlier load tests are pruned.
pub const PRUNE_CHUNK: usize = 1_000;

/// Batches in progress at once; more are refused until one ends.
pub const MAX_RUNNING_BATCHES: usize = 4;

type LoadEntry = (Arc<Mutex<LoadTest>>, Arc<AtomicBool>);

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
        if let Err(e) = self.store.save_load(&test).await {
            *self.lock_load() = None;
            return Err(e.into());
        }
        let lab = self.clone();
        tokio::spawn(async move {
            load::run_load(lab.engine.clone(), spec, shared.clone(), cancel).await;
            let finished = lock_test(&shared).clone();
            if let Err(e) = lab.store.save_load(&finished).await {
                tracing::error!(load = %finished.id, error = %e, "storing a finished load test failed");
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
        let keep = format!("{LOAD_RUNS_PREFIX}{kept}-");
        let mut deleted = 0;
        loop {
            match self
                .store
                .delete_ended_runs(LOAD_RUNS_PREFIX, &keep, PRUNE_CHUNK)
                .await
            {
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
            self.refresh_load(t);
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
        for t in &mut tests {
            self.refresh_load(t);
        }
        Ok(tests)
    }

    /// Stops the running load test after the runs it started; false when it is not running.
    pub fn cancel_load(&self, id: &str) -> bool {
        match self.lock_load().as_ref() {
            Some((test, cancel)) if lock_test(test).id == id => {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
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

    /// A stored load test still marked running: the one in progress here, or (interrupted
    /// by a restart) cancelled.
    fn refresh_load(&self, test: &mut LoadTest) {
        if test.state != BatchState::Running {
            return;
        }
        match self.running_load(&test.id) {
            Some(live) => *test = live,
            None => test.state = BatchState::Cancelled,
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
            progress: progress_of(&progress, spec.runs),
            result: None,
        };
        if let Err(e) = self.store.save_batch(&batch).await {
            self.lock().remove(&id);
            return Err(e.into());
        }
        self.compute(batch.clone(), spec, progress);
        Ok(batch)
    }

    /// After a restart: computes again the batches a crash interrupted (a batch is a pure
    /// function of its workflow, input, seed and faults, so the table is the one it would
    /// have had), unless their workflow changed since they began — those are cancelled.
    /// Returns how many were resumed.
    pub async fn resume_interrupted(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut resumed = 0;
        for mut batch in self.store.running_batches().await? {
            if self.lock().contains_key(&batch.id) {
                continue;
            }
            let record = self.store.get_workflow(&batch.workflow_id).await?;
            match record.filter(|r| r.updated_at <= batch.created_at) {
                Some(record) => {
                    let spec = CompareSpec {
                        workflow: record.workflow,
                        input: batch.input.clone(),
                        runs: batch.runs,
                        seed: batch.seed,
                        faults: batch.faults.clone(),
                    };
                    let progress = Arc::new(Progress::default());
                    self.lock().insert(batch.id.clone(), progress.clone());
                    self.compute(batch, spec, progress);
                    resumed += 1;
                }
                None => {
                    tracing::warn!(batch = %batch.id, "an interrupted batch's workflow changed or is gone: cancelled");
                    batch.state = BatchState::Cancelled;
                    self.store.save_batch(&batch).await?;
                }
            }
        }
        Ok(resumed)
    }

    /// Computes a batch registered as running on a blocking thread, then stores the result.
    fn compute(self: &Arc<Self>, batch: Batch, spec: CompareSpec, progress: Arc<Progress>) {
        let lab = self.clone();
        let mut finished = batch;
        tokio::spawn(async move {
            let work = progress.clone();
            let result = tokio::task::spawn_blocking(move || compare(&spec, &work))
                .await
                .ok()
                .flatten();
            if result.is_none() && lab.engine.is_shutting_down() {
                // Stopped by the shutdown, not by the user: it stays "running" in the store and
                // is computed again at the next start.
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
            if let Err(e) = lab.store.save_batch(&finished).await {
                tracing::error!(batch = %finished.id, error = %e, "storing a finished batch failed");
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
        let live = self.lock().clone();
        let Some(mut batch) = self.store.get_batch(id).await? else {
            return Ok(None);
        };
        refresh(&live, &mut batch);
        Ok(Some(batch))
    }

    pub async fn list(&self, workflow_id: &str, limit: usize) -> Result<Vec<Batch>, StoreError> {
        let live = self.lock().clone();
        let mut batches = self.store.list_batches(workflow_id, limit).await?;
        for b in &mut batches {
            refresh(&live, b);
        }
        Ok(batches)
    }

    /// Asks a running batch to stop; false when it is not running here.
    /// Shutdown: stops every batch's computation (without recording it as cancelled: each is
    /// computed again at the next start) and the load test in progress.
    pub fn shut_down(&self) {
        for progress in self.lock().values() {
            progress
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some((_, cancel)) = self.lock_load().as_ref() {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn cancel(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(progress) => {
                progress
                    .cancel
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A stored batch still marked running: its progress if `live` (the running set, read
/// before the store) holds it, else cancelled (a restart interrupted it).
fn refresh(live: &HashMap<String, Arc<Progress>>, batch: &mut Batch) {
    if batch.state != BatchState::Running {
        return;
    }
    match live.get(&batch.id) {
        Some(progress) => batch.progress = progress_of(progress, batch.runs),
        None => batch.state = BatchState::Cancelled,
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
