//! The run engine.
//!
//! - [`core`]: the pure, event-sourced transition function of one run (input → events +
//!   timers), with outcomes drawn from the run's seed.
//! - [`orchestrator`]: the run's orchestrator, owner of the command edges.
//! - [`bus`]: the event bus: subscriptions (event edges become topics) and the
//!   [`bus::EventBus`] transport that delivers.
//! - [`hub`]: live broadcast of durable history records to watchers.
//!
//! [`Engine`] drives each run in its own task: it feeds inputs to the core, appends the
//! events the core emits to the store *before* broadcasting them or acting on them, and
//! plays simulated time (scaled by the run's speed) with timers. On start it resumes every
//! run the store says is still running, by replaying its history.

pub mod bus;
pub mod core;
pub mod hub;
pub mod orchestrator;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::RunSummary;
use app::model::{Faults, RunEvent, RunRecord, RunStatus, Workflow};
use tokio::sync::{broadcast, mpsc};

use self::bus::{EventBus, InProcessBus};
use self::core::{Action, Input, RunCore};
use self::hub::RunHub;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError, StoredRun};

/// Run starts and ends buffered for the runs feed; a watcher further behind is told to
/// read the runs list again.
pub const FEED_BUFFER: usize = 1024;
/// A run's driver appends at most about this many records in one write (a batch closes
/// once it reaches the limit; the input that crossed it is not split).
pub const MAX_BATCH_RECORDS: usize = 512;

/// What a run is started with.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub input: serde_json::Value,
    pub seed: u64,
    /// Simulated time runs this many times faster than the wall clock.
    pub speed: f64,
    /// What is broken on purpose from the start.
    pub faults: Faults,
    /// An orchestrator shared with other runs, of limited capacity (the lab's load mode);
    /// `None`: the run's own orchestrator, never waiting.
    pub orchestrator: Option<Arc<OrchestratorPool>>,
    /// Told the run's summary when it ends.
    pub on_end: Option<mpsc::UnboundedSender<RunSummary>>,
}

impl RunOptions {
    pub fn new(input: serde_json::Value, seed: u64, speed: f64) -> Self {
        RunOptions {
            input,
            seed,
            speed,
            faults: Faults::default(),
            orchestrator: None,
            on_end: None,
        }
    }
}

/// An orchestrator serving many runs with limited capacity: it handles at most `capacity`
/// messages (replies, and the commands they lead to) at once, each taking `message_ms` of
/// simulated time. Beyond that, messages queue — the bottleneck the lab's load mode shows.
#[derive(Debug)]
pub struct OrchestratorPool {
    permits: tokio::sync::Semaphore,
    pub capacity: usize,
    pub message_ms: u64,
    waiting: std::sync::atomic::AtomicUsize,
}

impl OrchestratorPool {
    pub fn new(capacity: usize, message_ms: u64) -> Arc<Self> {
        Arc::new(OrchestratorPool {
            permits: tokio::sync::Semaphore::new(capacity),
            capacity,
            message_ms,
            waiting: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Messages waiting for the orchestrator right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
    hub: Arc<RunHub>,
    clock: Arc<dyn Clock>,
    /// Inboxes of the runs driven by this process (for cancel requests).
    inboxes: Mutex<HashMap<String, mpsc::UnboundedSender<Input>>>,
    metrics: Arc<Metrics>,
    /// Every run start and end, for the runs feed.
    feed: broadcast::Sender<RunSummary>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Engine {
            store,
            bus: Arc::new(InProcessBus),
            hub: Arc::new(RunHub::default()),
            clock,
            inboxes: Mutex::new(HashMap::new()),
            metrics: Arc::new(Metrics::default()),
            feed: broadcast::channel(FEED_BUFFER).0,
        })
    }

    pub fn hub(&self) -> &Arc<RunHub> {
        &self.hub
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Run starts and ends from now on.
    pub fn feed(&self) -> broadcast::Receiver<RunSummary> {
        self.feed.subscribe()
    }

    fn announce(&self, summary: RunSummary) {
        // Nobody listening is fine.
        let _ = self.feed.send(summary);
    }

    /// Stores a new run of `workflow` and starts driving it; returns the run as stored.
    pub async fn start_run(
        self: &Arc<Self>,
        workflow_id: &str,
        workflow: Workflow,
        options: RunOptions,
    ) -> Result<StoredRun, StoreError> {
        let run = StoredRun {
            id: uuid::Uuid::new_v4().simple().to_string(),
            workflow_id: workflow_id.to_string(),
            workflow,
            input: options.input.clone(),
            status: RunStatus::Running,
            started_at: self.clock.now_ms(),
            ended_at: None,
        };
        self.store.create_run(&run).await?;
        self.metrics.run_started();
        self.announce(RunSummary {
            id: run.id.clone(),
            workflow_id: run.workflow_id.clone(),
            status: RunStatus::Running,
            started_at: run.started_at,
            ended_at: None,
            messages: None,
            diagnosis: None,
        });
        let mut core = RunCore::new(&run.workflow, options.input, options.seed, options.speed)
            .with_faults(options.faults);
        let first = core.handle(Input::Start);
        self.spawn(&run, core, 0, first, options.orchestrator, options.on_end);
        Ok(run)
    }

    /// Asks a run in progress to stop. False when this process is not driving it.
    pub fn cancel(&self, run_id: &str) -> bool {
        self.inject(run_id, Input::Cancel)
    }

    /// Hands an input (a cancel, a fault) to a run in progress. False when this process is
    /// not driving it.
    pub fn inject(&self, run_id: &str, input: Input) -> bool {
        self.lock()
            .get(run_id)
            .is_some_and(|inbox| inbox.send(input).is_ok())
    }

    /// Resumes every run the store has as running (after a crash or restart): replays its
    /// history into a fresh core and re-arms what was in flight. Returns how many resumed.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, StoreError> {
        let runs = self.store.running_runs().await?;
        let count = runs.len();
        for run in runs {
            let history = self.store.history_after(&run.id, 0).await?;
            let (seed, speed) = history
                .iter()
                .find_map(|r| match &r.event {
                    RunEvent::RunStarted { seed, speed, .. } => Some((*seed, *speed)),
                    _ => None,
                })
                .unwrap_or((0, 1.0));
            let mut core = RunCore::new(&run.workflow, run.input.clone(), seed, speed);
            let actions = if history.is_empty() {
                core.handle(Input::Start)
            } else {
                for record in &history {
                    core.apply(&record.event);
                }
                core.resume(&run.id)
            };
            let last = history.last().map_or(0, |r| r.seq);
            tracing::info!(run = %run.id, records = history.len(), "resuming run");
            self.metrics.run_resumed();
            self.spawn(&run, core, last, actions, None, None);
        }
        Ok(count)
    }

    fn spawn(
        self: &Arc<Self>,
        run: &StoredRun,
        core: RunCore,
        seq: u64,
        first: Vec<Action>,
        orchestrator: Option<Arc<OrchestratorPool>>,
        on_end: Option<mpsc::UnboundedSender<RunSummary>>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let run_id = run.id.clone();
        self.hub.open(&run_id);
        self.lock().insert(run_id.clone(), tx.clone());
        let driver = Driver {
            run_id,
            workflow_id: run.workflow_id.clone(),
            started_at: run.started_at,
            core,
            engine: self.clone(),
            seq,
            inbox: tx,
            local: VecDeque::new(),
            orchestrator,
            on_end,
        };
        tokio::spawn(driver.drive(first, rx));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Input>>> {
        self.inboxes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Driver {
    run_id: String,
    workflow_id: String,
    started_at: i64,
    core: RunCore,
    engine: Arc<Engine>,
    seq: u64,
    inbox: mpsc::UnboundedSender<Input>,
    /// Inputs due now (zero-delay timers, in-process deliveries), handled in the current
    /// batch.
    local: VecDeque<Input>,
    orchestrator: Option<Arc<OrchestratorPool>>,
    on_end: Option<mpsc::UnboundedSender<RunSummary>>,
}

impl Driver {
    /// Handles inputs in batches: whatever can be handled at once — zero-delay timers and
    /// deliveries of the in-process bus, which never leave this run — is folded into one
    /// batch, up to [`MAX_BATCH_RECORDS`]; then the batch's records are appended in one
    /// write, and only once they are durable are they broadcast and its other effects
    /// (timers, deliveries through a bus that leaves the process) performed. A crash loses
    /// a whole batch or nothing, so no effect is ever based on a record that was lost.
    async fn drive(mut self, first: Vec<Action>, mut rx: mpsc::UnboundedReceiver<Input>) {
        let mut batch = Batch::default();
        self.absorb(first, &mut batch);
        loop {
            let full = batch.records.len() >= MAX_BATCH_RECORDS;
            let input = if self.core.is_finished() || full {
                None
            } else {
                rx.try_recv().ok().or_else(|| self.local.pop_front())
            };
            if let Some(input) = input {
                let actions = self.handle(input).await;
                self.absorb(actions, &mut batch);
                continue;
            }
            if let Err(e) = self.flush(std::mem::take(&mut batch)).await {
                // Without a durable history the run cannot go on truthfully: it stays
                // "running" in the store and resumes from its history at the next start.
                tracing::error!(run = %self.run_id, error = %e, "history write failed; run halted");
                break;
            }
            if self.core.is_finished() {
                break;
            }
            if !self.local.is_empty() {
                continue;
            }
            match rx.recv().await {
                Some(input) => {
                    let actions = self.handle(input).await;
                    self.absorb(actions, &mut batch);
                }
                None => break,
            }
        }
        self.engine.lock().remove(&self.run_id);
        self.engine.hub.close(&self.run_id);
    }

    /// Hands an input to the core; one that needs a shared orchestrator first waits for
    /// its capacity and takes its time.
    async fn handle(&mut self, input: Input) -> Vec<Action> {
        let Some(pool) = self
            .orchestrator
            .clone()
            .filter(|_| self.core.needs_orchestrator(&input))
        else {
            return self.core.handle(input);
        };
        use std::sync::atomic::Ordering;
        pool.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = pool.permits.acquire().await;
        pool.waiting.fetch_sub(1, Ordering::Relaxed);
        if pool.message_ms > 0 {
            let wait = pool.message_ms as f64 / 1000.0 / self.core.speed();
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
        let actions = self.core.handle(input);
        drop(permit);
        actions
    }

    /// Sorts the core's actions into the batch: records get their sequence numbers, work
    /// due now is queued to be handled in this same batch, the rest waits for the write.
    fn absorb(&mut self, actions: Vec<Action>, batch: &mut Batch) {
        let now = self.engine.clock.now_ms();
        for action in actions {
            match action {
                Action::Record(event) => {
                    self.seq += 1;
                    batch.records.push(RunRecord::new(self.seq, now, event));
                }
                Action::Timer { after_ms: 0, input } => self.local.push_back(input),
                Action::Deliver { message, edge } if self.engine.bus.in_process() => {
                    self.local.push_back(Input::Deliver { message, edge })
                }
                other => batch.effects.push(other),
            }
        }
    }

    /// Appends the batch's records in one write, then broadcasts them, then acts.
    async fn flush(&mut self, batch: Batch) -> Result<(), StoreError> {
        let Batch { records, effects } = batch;
        let writing = std::time::Instant::now();
        self.engine
            .store
            .append_history(&self.run_id, &records)
            .await?;
        let metrics = &self.engine.metrics;
        if !records.is_empty() {
            metrics.history_written(writing.elapsed().as_secs_f64());
        }
        let mut started = 0;
        for record in &records {
            match &record.event {
                RunEvent::StepStarted { .. } => started += 1,
                RunEvent::RunCompleted {
                    status,
                    diagnosis,
                    messages,
                } => {
                    metrics.run_ended(*status, messages);
                    let summary = RunSummary {
                        id: self.run_id.clone(),
                        workflow_id: self.workflow_id.clone(),
                        status: *status,
                        started_at: self.started_at,
                        ended_at: Some(record.at_ms),
                        messages: Some(*messages),
                        diagnosis: diagnosis.clone(),
                    };
                    if let Some(on_end) = &self.on_end {
                        let _ = on_end.send(summary.clone());
                    }
                    self.engine.announce(summary);
                }
                _ => {}
            }
        }
        metrics.steps_executed(started);
        self.engine.hub.publish(&self.run_id, &records);
        let speed = self.core.speed();
        for effect in effects {
            match effect {
                Action::Timer { after_ms, input } => {
                    let inbox = self.inbox.clone();
                    let wait = Duration::from_secs_f64(after_ms as f64 / 1000.0 / speed);
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        let _ = inbox.send(input);
                    });
                }
                // Handed to the bus only now that the publication is durable.
                Action::Deliver { message, edge } => {
                    self.engine
                        .bus
                        .publish(&self.run_id, message, edge, &self.inbox)
                }
                Action::Record(_) => unreachable!("records were taken out by absorb"),
            }
        }
        Ok(())
    }
}

/// What one write makes durable, and what waits for it.
#[derive(Default)]
struct Batch {
    records: Vec<RunRecord>,
    effects: Vec<Action>,
}
