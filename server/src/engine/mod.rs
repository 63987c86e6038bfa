//! The run engine.
//!
//! - [`core`]: the pure, event-sourced transition function of one run (input → events +
//!   timers), with outcomes drawn from the run's seed.
//!   Its routes table holds the orchestrator's command edges and the bus's subscriptions.
//! - [`bus`]: the [`bus::EventBus`] transport that delivers published events.
//! - [`cluster`]: the NATS bus between server processes sharing one database: runs'
//!   records live on every process, the runs feed, cancel and fault requests to a run's owner.
//! - [`jetstream`]: event deliveries over NATS JetStream between the processes of a cluster.
//! - [`hub`]: live broadcast of durable history records to watchers.
//! - [`timers`]: the thread that plays every run's simulated time to the tens of
//!   microseconds.
//!
//! [`Engine`] drives each run in its own task: it feeds inputs to the core, appends the
//! events the core emits to the store *before* broadcasting them or acting on them, and
//! plays simulated time (scaled by the run's speed) with timers. On start it claims and
//! resumes, by replaying its history, every run in progress that is its own or that no live
//! process owns; then it renews its lease and claims the runs of processes whose lease ran
//! out ([`Engine::keep_membership`]). A run it lost (another process claimed it while this
//! one was paused or cut off) refuses its next append (fencing), and its driver stops.
//!
//! (About 670 lines: the [`Engine`] and its per-run `Driver` — admission, the write-ahead
//! loop, timers, recovery and shutdown — share one lifecycle and are read together.)

pub mod bus;
pub mod cluster;
pub mod core;
pub mod hub;
pub mod jetstream;
pub mod timers;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::RunSummary;
use app::model::{Faults, RunEvent, RunRecord, RunStatus, Takeover};
use tokio::sync::{broadcast, mpsc, oneshot};

use self::bus::{Deliver, EventBus, InProcessBus};
use self::core::{Action, Input, RunCore};
use self::hub::RunHub;
use self::timers::Timers;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::{
    replay_history, Claimed, Recorded, Store, StoreError, StoredRun, WorkflowVersion, FIRST_EPOCH,
};

/// Run starts and ends buffered for the runs feed; a watcher further behind is told to
/// read the runs list again.
pub const FEED_BUFFER: usize = 1024;
/// A run's driver appends at most about this many records in one write (a batch closes
/// once it reaches the limit; the input that crossed it is not split).
pub const MAX_BATCH_RECORDS: usize = 512;

/// The first wait before a failed history write is tried again; it doubles up to
/// [`WRITE_RETRY_MAX`]. A disk that fills up or a database locked by another program gets
/// retried, not given up on: the run goes on once the store takes writes again.
pub const WRITE_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest wait between two tries of a failed history write.
pub const WRITE_RETRY_MAX: Duration = Duration::from_secs(2);

/// How long a process's lease lasts unless renewed: after a process dies, its runs wait at
/// most this long (plus a claim interval) before another process resumes them.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5);
/// Leases are renewed, and expired ones looked for, this many times per lease.
pub const RENEWALS_PER_LEASE: u32 = 3;
/// Runs claimed in one go (a restart with many runs in progress claims in several).
pub const CLAIM_BATCH: usize = 256;

/// This process among those that share the store: its id (unique among them, stable across
/// its restarts so it takes its own runs back at once) and its lease.
#[derive(Clone, Debug)]
pub struct Membership {
    pub process: String,
    pub lease: Duration,
}

impl Default for Membership {
    fn default() -> Self {
        Membership {
            process: "local".into(),
            lease: DEFAULT_LEASE,
        }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{limit} runs are in progress, the most this server runs at once; try again when some have ended")]
    Busy { limit: usize },
    #[error("the history store is failing ({0}); runs in progress wait for it, new runs are refused until it recovers")]
    StoreFailing(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the run could not be started: {0}")]
    Failed(String),
}

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
    /// Event deliveries over JetStream, once this process uses the cluster's events stream;
    /// in this process otherwise.
    events: std::sync::OnceLock<Arc<jetstream::JetStreamBus>>,
    hub: Arc<RunHub>,
    clock: Arc<dyn Clock>,
    timers: Timers,
    /// Inboxes of the runs driven by this process (for cancel requests).
    inboxes: Mutex<HashMap<String, mpsc::UnboundedSender<Input>>>,
    metrics: Arc<Metrics>,
    /// Every run start and end, for the runs feed.
    feed: broadcast::Sender<RunSummary>,
    /// Runs driven here right now, and the most allowed ([`Engine::set_max_in_flight`]).
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The last history write error while the store is failing; `None` once a write works.
    store_failure: Mutex<Option<String>>,
    /// Set by [`Engine::shut_down`]: no new runs; drivers stop after their current write.
    stopping: tokio::sync::watch::Sender<bool>,
    membership: Membership,
    /// The bus to the other processes, when there are others.
    cluster: std::sync::OnceLock<Arc<cluster::Cluster>>,
}

impl Engine {
    /// An engine that is the only process on its store (`local`).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::with_membership(store, clock, Membership::default())
    }

    /// An engine that is `membership.process` among the processes sharing `store`.
    pub fn with_membership(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        membership: Membership,
    ) -> Arc<Self> {
        Arc::new(Engine {
            store,
            events: std::sync::OnceLock::new(),
            hub: Arc::new(RunHub::default()),
            clock,
            timers: Timers::start(),
            inboxes: Mutex::new(HashMap::new()),
            metrics: Arc::new(Metrics::default()),
            feed: broadcast::channel(FEED_BUFFER).0,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(usize::MAX),
            store_failure: Mutex::new(None),
            stopping: tokio::sync::watch::channel(false).0,
            membership,
            cluster: std::sync::OnceLock::new(),
        })
    }

    /// Joins the other processes on `cluster`: from now on this process's runs are live on
    /// theirs and theirs on this one, the runs feed is the cluster's, and cancel and fault
    /// requests reach a run's owner wherever they arrive.
    pub async fn join_cluster(
        self: &Arc<Self>,
        cluster: Arc<cluster::Cluster>,
        controlled: Arc<dyn cluster::Controlled>,
    ) -> Result<(), cluster::ClusterError> {
        cluster.serve(self, controlled).await?;
        let _ = self.cluster.set(cluster);
        Ok(())
    }

    /// The bus to the other processes, if this one has joined them.
    pub fn cluster(&self) -> Option<&Arc<cluster::Cluster>> {
        self.cluster.get()
    }

    /// From now on, events between a run's steps travel over `events` (set before runs
    /// start: a run's deliveries all take one way).
    pub fn use_event_stream(&self, events: Arc<jetstream::JetStreamBus>) {
        let _ = self.events.set(events);
    }

    /// What carries events between a run's steps.
    fn bus(&self) -> &dyn EventBus {
        match self.events.get() {
            Some(events) => &**events,
            None => &InProcessBus,
        }
    }

    /// This process's id among those sharing the store.
    pub fn process(&self) -> &str {
        &self.membership.process
    }

    /// At most `limit` runs in progress at once; [`Engine::start_run`] refuses more.
    pub fn set_max_in_flight(&self, limit: usize) {
        self.max_in_flight.store(limit, Ordering::SeqCst);
    }

    /// Runs driven by this process right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Why the store is failing, while it is (a history write failed and none has worked
    /// since).
    pub fn store_failure(&self) -> Option<String> {
        self.store_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store_failed(&self, error: &StoreError) {
        let mut failure = self.store_failure.lock().unwrap_or_else(|p| p.into_inner());
        if failure.is_none() {
            tracing::error!(%error, "the history store is failing; runs wait and retry");
        }
        *failure = Some(error.to_string());
    }

    fn store_works(&self) {
        let mut failure = self.store_failure.lock().unwrap_or_else(|p| p.into_inner());
        if failure.take().is_some() {
            tracing::info!("the history store takes writes again; runs go on");
        }
    }

    /// Stops starting runs and tells every driver to stop after its current write (its run
    /// stays `running` in the store and resumes at the next start). Returns at once.
    pub fn shut_down(&self) {
        self.stopping.send_replace(true);
    }

    /// Watches for [`Engine::shut_down`].
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Takes a run slot, or says why not.
    fn admit(&self) -> Result<(), StartError> {
        if self.is_shutting_down() {
            return Err(StartError::ShuttingDown);
        }
        let limit = self.max_in_flight.load(Ordering::SeqCst);
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= limit {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(StartError::Busy { limit });
        }
        Ok(())
    }

    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
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
        if let Some(cluster) = self.cluster() {
            cluster.publish_summary(&summary);
        }
        self.announce_locally(summary);
    }

    /// Whether anyone here follows the runs feed.
    pub fn feed_watched(&self) -> bool {
        self.feed.receiver_count() > 0
    }

    /// Tells this process's runs feed only (what another process announced).
    pub fn announce_locally(&self, summary: RunSummary) {
        // Nobody listening is fine.
        let _ = self.feed.send(summary);
    }

    /// Stores a new run of `version` and starts driving it; returns the run as stored.
    /// Refused past the cap on runs in flight, while the store is failing (the attempt to
    /// store the run is what finds out it works again), and during shutdown.
    ///
    /// The run is stored in the same durable write as its first records: a run whose steps
    /// take no time is created, run and ended in one commit, and the caller hears back once
    /// it is durable.
    ///
    /// Not cancellable: the work runs in its own task, so a caller dropped half-way (a client
    /// that disconnects, and with it its request handler) can never leave a run stored but
    /// not driven, nor its slot taken.
    pub async fn start_run(
        self: &Arc<Self>,
        workflow_id: &str,
        version: Arc<WorkflowVersion>,
        options: RunOptions,
    ) -> Result<StoredRun, StartError> {
        self.admit()?;
        let run = StoredRun {
            id: run_id(),
            workflow_id: workflow_id.to_string(),
            workflow: version.workflow.clone(),
            input: options.input.clone(),
            status: RunStatus::Running,
            started_at: self.clock.now_ms(),
            ended_at: None,
            speed: options.speed,
            owner: Some(self.membership.process.clone()),
            epoch: FIRST_EPOCH,
        };
        let mut core = RunCore::new(&run.workflow, options.input, options.seed, options.speed)
            .with_faults(options.faults);
        let first = core.handle(Input::Start);
        let (reply, stored) = oneshot::channel();
        let creation = Creation {
            run: run.clone(),
            version,
            reply,
        };
        let ties = Ties {
            creation: Some(creation),
            orchestrator: options.orchestrator,
            on_end: options.on_end,
        };
        self.spawn(&run, core, 0, first, ties);
        match stored.await {
            Ok(Ok(())) => Ok(run),
            Ok(Err(e)) => Err(StartError::StoreFailing(e.to_string())),
            Err(_) => Err(StartError::ShuttingDown),
        }
    }

    /// Applies `control` (cancel, faults, an orchestrator crash) to a run in progress,
    /// here or, through the cluster's bus, on the process that drives it. False when no
    /// process drives it (it ended, or waits for a process to take it over).
    pub async fn control(&self, run_id: &str, control: cluster::Control) -> bool {
        if self.control_locally(run_id, control.clone()) {
            return true;
        }
        let Some(cluster) = self.cluster() else {
            return false;
        };
        let owner = match self.store.get_run(run_id).await {
            Ok(Some(run)) if !run.status.is_final() => run.owner,
            _ => None,
        };
        match owner {
            Some(owner) if owner != self.membership.process => {
                let target = cluster::Target::Run {
                    run: run_id.to_string(),
                    control,
                };
                cluster.control(&owner, target).await
            }
            _ => false,
        }
    }

    /// Applies `control` to a run this process drives. False when it drives no such run.
    pub fn control_locally(&self, run_id: &str, control: cluster::Control) -> bool {
        use cluster::Control;
        self.inject(
            run_id,
            match control {
                Control::Cancel => Input::Cancel,
                Control::Faults { faults } => Input::SetFaults(faults),
                Control::CrashOrchestrator {
                    for_ms,
                    standby_lease_ms,
                } => Input::CrashOrchestrator {
                    for_ms,
                    standby_lease_ms,
                },
            },
        )
    }

    /// Hands an input to a run in progress. False when this process is not driving it.
    fn inject(&self, run_id: &str, input: Input) -> bool {
        self.lock()
            .get(run_id)
            .is_some_and(|inbox| inbox.send(input).is_ok())
    }

    /// Takes the lease and claims every run in progress that is this process's own (it is
    /// starting again after a crash or restart) or that no live process owns, and resumes
    /// them: each one's history is replayed into a fresh core and what was in flight re-armed.
    /// Returns how many resumed.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, StoreError> {
        self.store
            .renew_lease(&self.membership.process, self.membership.lease)
            .await?;
        let mut resumed = 0;
        loop {
            let claimed = self.claim(true).await?;
            resumed += claimed.0;
            if claimed.0 < claimed.1 || claimed.1 == 0 {
                return Ok(resumed);
            }
        }
    }

    /// Renews this process's lease and claims the runs of processes whose lease ran out,
    /// [`RENEWALS_PER_LEASE`] times per lease, until shutdown; then ends the lease, so the
    /// others claim this process's runs at once rather than when the lease runs out.
    pub async fn keep_membership(self: Arc<Self>) {
        let every = self.membership.lease / RENEWALS_PER_LEASE;
        let mut stopping = self.stopping.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped(&mut stopping) => break,
            }
            let process = &self.membership.process;
            if let Err(e) = self.store.renew_lease(process, self.membership.lease).await {
                tracing::warn!(error = %e, "could not renew this process's lease");
                continue;
            }
            match self.claim(false).await {
                Ok((0, _)) => {}
                Ok((claimed, _)) => {
                    tracing::info!(claimed, "took over runs whose owner's lease ran out")
                }
                Err(e) => tracing::warn!(error = %e, "could not claim runs"),
            }
        }
    }

    /// Gives up this process's lease now (after shutdown: its runs are taken at once).
    pub async fn end_membership(&self) {
        if let Err(e) = self.store.end_lease(&self.membership.process).await {
            tracing::warn!(error = %e, "could not end this process's lease");
        }
    }

    /// Claims up to a batch of runs (`own`: this process's own too) within the room left
    /// under the cap on runs in flight, and resumes them. Returns how many it claimed and
    /// how many it asked for.
    async fn claim(self: &Arc<Self>, own: bool) -> Result<(usize, usize), StoreError> {
        if self.is_shutting_down() {
            return Ok((0, 0));
        }
        let room = self
            .max_in_flight
            .load(Ordering::SeqCst)
            .saturating_sub(self.in_flight())
            .min(CLAIM_BATCH);
        if room == 0 {
            return Ok((0, 0));
        }
        let claimed = self
            .store
            .claim_runs(&self.membership.process, own, room)
            .await?;
        let count = claimed.len();
        for claim in claimed {
            // One run's unreadable history must not keep the others from resuming.
            let id = claim.run.id.clone();
            if let Err(e) = self.resume(claim).await {
                tracing::error!(run = %id, error = %e, "could not resume a claimed run");
            }
        }
        Ok((count, room))
    }

    /// Replays a claimed run's history into a fresh core and drives it from there.
    async fn resume(self: &Arc<Self>, claim: Claimed) -> Result<(), StoreError> {
        let Claimed { run, previous } = claim;
        // The run's first record says how it started; the rest is replayed a page at a
        // time, so recovery holds one page of a long history in memory, not all of it.
        let first = self.store.history_after(&run.id, 0, 1).await?;
        let (seed, speed) = first
            .iter()
            .find_map(|r| match &r.event {
                RunEvent::RunStarted { seed, speed, .. } => Some((*seed, *speed)),
                _ => None,
            })
            .unwrap_or((0, 1.0));
        let mut core = RunCore::new(&run.workflow, run.input.clone(), seed, speed);
        let mut records = 0usize;
        let last = replay_history(self.store.as_ref(), &run.id, 0, |record| {
            core.apply(&record.event);
            records += 1;
        })
        .await?;
        let by = Takeover {
            process: self.membership.process.clone(),
            epoch: run.epoch,
            from: previous,
        };
        let actions = if records == 0 {
            core.handle(Input::Start)
        } else {
            core.resume(&run.id, Some(by))
        };
        tracing::info!(run = %run.id, records, epoch = run.epoch, "resuming run");
        self.metrics.run_resumed();
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.spawn(&run, core, last, actions, Ties::default());
        if let Some(events) = self.events.get() {
            // What the run's previous owner left in the events stream reaches it here.
            let (events, engine, id) = (events.clone(), self.clone(), run.id.clone());
            tokio::spawn(async move {
                if let Err(e) = events.replay(&id, &engine).await {
                    tracing::warn!(run = %id, error = %e, "could not replay the run's deliveries");
                }
            });
        }
        Ok(())
    }

    fn spawn(
        self: &Arc<Self>,
        run: &StoredRun,
        core: RunCore,
        seq: u64,
        first: Vec<Action>,
        ties: Ties,
    ) {
        let Ties {
            creation,
            orchestrator,
            on_end,
        } = ties;
        let (tx, rx) = mpsc::unbounded_channel();
        let run_id = run.id.clone();
        self.hub.open(&run_id, seq == 0);
        self.lock().insert(run_id.clone(), tx.clone());
        let driver = Driver {
            run_id,
            workflow_id: run.workflow_id.clone(),
            started_at: run.started_at,
            core,
            engine: self.clone(),
            epoch: run.epoch,
            seq,
            deliver: {
                let inbox = tx.clone();
                // A closed inbox means the run has ended: nobody is left to deliver to.
                Arc::new(move |message, edge| {
                    let _ = inbox.send(Input::Deliver { message, edge });
                })
            },
            inbox: tx,
            creation,
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
    /// The epoch this process holds the run at: its appends are refused at any other.
    epoch: i64,
    seq: u64,
    inbox: mpsc::UnboundedSender<Input>,
    /// A new run, stored with its first write.
    creation: Option<Creation>,
    /// How the bus hands this run its deliveries.
    deliver: Deliver,
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
        let mut stopping = self.engine.stopping.subscribe();
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
            let written = std::mem::take(&mut batch);
            if let Some(creation) = self.creation.take() {
                if !self.create(creation, &written.records).await {
                    break;
                }
            } else if !self.write_durably(&written.records).await {
                // Shutting down before the write went through: the run stays "running" in
                // the store and resumes from its history at the next start. Or another
                // process owns the run now: it goes on there.
                break;
            }
            self.act(written);
            if self.engine.is_shutting_down() {
                break;
            }
            if self.core.is_finished() {
                break;
            }
            if !self.local.is_empty() {
                continue;
            }
            let next = tokio::select! {
                input = rx.recv() => input,
                // Shutting down while waiting (for a timer, a delivery): nothing is lost,
                // the run resumes from its history at the next start.
                _ = stopped(&mut stopping) => None,
            };
            match next {
                Some(input) => {
                    let actions = self.handle(input).await;
                    self.absorb(actions, &mut batch);
                }
                None => break,
            }
        }
        self.engine.lock().remove(&self.run_id);
        self.engine.hub.close(&self.run_id);
        self.engine.release();
        // Its pending timers find its inbox closed (dropped with `rx`) and are skipped.
    }

    /// Stores the new run with its first records, and tells the caller of
    /// [`Engine::start_run`] how it went. A run that could not be stored does not exist: it
    /// is not retried, its driver stops. False then.
    async fn create(&mut self, creation: Creation, records: &[Recorded]) -> bool {
        let Creation {
            run,
            version,
            reply,
        } = creation;
        let engine = &self.engine;
        let writing = std::time::Instant::now();
        if let Err(e) = engine.store.create_run(&run, &version, records).await {
            engine.store_failed(&e);
            let _ = reply.send(Err(e));
            return false;
        }
        engine
            .metrics
            .history_written(writing.elapsed().as_secs_f64());
        engine.store_works();
        engine.metrics.run_started();
        engine.announce(RunSummary {
            id: run.id,
            workflow_id: run.workflow_id,
            status: RunStatus::Running,
            started_at: run.started_at,
            ended_at: None,
            messages: None,
            diagnosis: None,
            input: run.input,
            outcome: None,
            speed: Some(run.speed),
        });
        let _ = reply.send(Ok(()));
        true
    }

    /// Appends `records` durably, trying again with backoff while the store fails (a full
    /// disk, an I/O error, a lock held too long). A retry first asks the store whether the
    /// failed write went through after all, so no record is written twice. False only when
    /// the server shuts down first.
    async fn write_durably(&mut self, records: &[Recorded]) -> bool {
        let mut wait = WRITE_RETRY_FIRST;
        let mut failed = false;
        let mut stopping = self.engine.stopping.subscribe();
        loop {
            let writing = std::time::Instant::now();
            let written = if failed {
                self.already_written(records).await
            } else {
                Ok(false)
            };
            let result = match written {
                Ok(true) => Ok(()),
                Ok(false) => {
                    self.engine
                        .store
                        .append_history(&self.run_id, self.epoch, records)
                        .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    if !records.is_empty() {
                        self.engine
                            .metrics
                            .history_written(writing.elapsed().as_secs_f64());
                    }
                    if failed {
                        self.engine.store_works();
                    }
                    return true;
                }
                Err(StoreError::Fenced { epoch, .. }) => {
                    tracing::info!(run = %self.run_id, epoch, "another process owns this run now; stopping here");
                    self.engine.metrics.run_lost();
                    return false;
                }
                Err(e) => {
                    failed = true;
                    self.engine.store_failed(&e);
                    tracing::warn!(run = %self.run_id, error = %e, retry_in = ?wait, "history write failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped(&mut stopping) => return false,
                    }
                    wait = (wait * 2).min(WRITE_RETRY_MAX);
                }
            }
        }
    }

    /// Whether the first of `records` is in the store already (a write reported as failed
    /// that went through).
    async fn already_written(&self, records: &[Recorded]) -> Result<bool, StoreError> {
        let Some(Recorded { record: first, .. }) = records.first() else {
            return Ok(true);
        };
        let found = self
            .engine
            .store
            .history_after(&self.run_id, first.seq - 1, 1)
            .await?;
        Ok(found.first().is_some_and(|r| r.seq == first.seq))
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
                    batch
                        .records
                        .push(Recorded::new(RunRecord::new(self.seq, now, event)));
                }
                Action::Timer { after_ms: 0, input } => self.local.push_back(input),
                Action::Deliver { message, edge } if self.engine.bus().in_process() => {
                    self.local.push_back(Input::Deliver { message, edge })
                }
                other => batch.effects.push(other),
            }
        }
    }

    /// Once the batch's records are durable: broadcasts them, then acts.
    fn act(&mut self, batch: Batch) {
        let Batch { records, effects } = batch;
        let metrics = &self.engine.metrics;
        let mut started = 0;
        for Recorded { record, .. } in &records {
            match &record.event {
                RunEvent::StepStarted { .. } => started += 1,
                RunEvent::RunCompleted {
                    status,
                    diagnosis,
                    messages,
                    outcome,
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
                        input: self.core.input().clone(),
                        outcome: outcome.clone(),
                        speed: Some(self.core.speed()),
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
        if let Some(cluster) = self.engine.cluster() {
            cluster.publish_records(&self.run_id, &records);
        }
        let speed = self.core.speed();
        for effect in effects {
            match effect {
                Action::Timer { after_ms, input } => {
                    let wait = Duration::from_secs_f64(after_ms as f64 / 1000.0 / speed);
                    self.engine.timers.set(wait, self.inbox.clone(), input);
                }
                // Handed to the bus only now that the publication is durable.
                Action::Deliver { message, edge } => {
                    self.engine
                        .bus()
                        .publish(&self.run_id, message, edge, &self.deliver)
                }
                Action::Record(_) => unreachable!("records were taken out by absorb"),
            }
        }
    }
}

/// Resolves once `stopping` says the engine shuts down (the watch's guard is not held
/// across an await, so the future stays `Send`).
pub async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
}

/// What a driver is tied to besides its run: the caller waiting for the run to be stored
/// (a new run), a shared orchestrator and who hears of its end (the lab's load mode).
#[derive(Default)]
struct Ties {
    creation: Option<Creation>,
    orchestrator: Option<Arc<OrchestratorPool>>,
    on_end: Option<mpsc::UnboundedSender<RunSummary>>,
}

/// A run to store with its first write, and who waits to hear it is stored.
struct Creation {
    run: StoredRun,
    version: Arc<WorkflowVersion>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// A new run's id: 32 hex digits, random (from a generator seeded once per thread, not a
/// system call per run).
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What one write makes durable, and what waits for it.
#[derive(Default)]
struct Batch {
    records: Vec<Recorded>,
    effects: Vec<Action>,
}
