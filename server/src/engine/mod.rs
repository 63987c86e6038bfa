//! The run engine.
//!
//! # Layout
//! - [`core`]: the pure, event-sourced transition function of one run (input → events +
//!   timers), with outcomes drawn from the run's seed. Its routes table holds the
//!   orchestrator's command edges and the bus's subscriptions.
//! - [`driver`]: a run's driver, in a task of its own: it feeds inputs to the core,
//!   appends the events the core emits to the store *before* anything sees or acts on them,
//!   and plays simulated time with timers.
//! - [`membership`]: this process's lease (renewed on its own schedule, fencing itself
//!   before it could lapse) and taking over the runs of processes whose lease ran out.
//! - [`control`]: changing a run in progress (cancel, faults, a crash) at the process that
//!   owns it, answered only once the change is durable in the run's history.
//! - [`peers`]: the other processes sharing the store — one seam, with a no-op for a
//!   process alone ([`peers::Alone`]) and the NATS bus ([`nats`]).
//! - [`children`]: sub-flows: the child runs sub-flow steps start, their undo runs, and
//!   telling a parent how its child ended.
//! - [`bus`]: the [`bus::EventBus`] that delivers published events: in process, or over
//!   NATS JetStream between processes ([`jetstream`]).
//! - [`inboxes`]: how timers, the bus and control requests reach the runs driven here.
//! - [`hub`]: live broadcast of durable history records to watchers.
//! - [`timers`]: the thread that plays every run's simulated time to the tens of
//!   microseconds.
//!
//! [`Engine`] holds what the drivers share. On start it claims and resumes, by replaying
//! its history, every run in progress that is its own or that no live process owns; then it
//! keeps its lease and claims the runs of processes whose lease ran out
//! ([`Engine::keep_membership`]). A run it lost (another process claimed it while this one
//! was paused or cut off) refuses its next append (fencing), and its driver stops.

pub mod bus;
pub mod calls;
pub mod children;
pub mod control;
pub mod core;
pub mod driver;
pub mod hub;
pub mod inboxes;
pub mod jetstream;
pub mod membership;
pub mod nats;
pub mod peers;
pub mod timers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::{ParentLink, RunSummary};
use app::model::{Faults, RunInput, RunStatus};
use tokio::sync::{broadcast, mpsc, oneshot};

use self::bus::{EventBus, InProcessBus};
use self::core::{Input, RunCore};
use self::driver::{Creation, Driver};
use self::hub::RunHub;
use self::inboxes::{Inboxes, RunInbox};
use self::peers::{Alone, Link, Peers};
use self::timers::Timers;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::{RunKind, Store, StoreError, StoredRun, WorkflowVersion, FIRST_EPOCH};

pub use self::membership::{Lease, Membership, CLAIM_BATCH, DEFAULT_LEASE, RENEWALS_PER_LEASE};

/// Run starts and ends buffered for the runs feed; a watcher further behind is told to
/// read the runs list again.
pub const FEED_BUFFER: usize = 1024;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{limit} runs are in progress, the most this server runs at once; try again when some have ended")]
    Busy { limit: usize },
    #[error("the history store is failing ({0}); runs in progress wait for it, new runs are refused until it recovers")]
    StoreFailing(#[source] StoreError),
    #[error("this process could not renew its lease in time and does not take runs until it can (another process may be taking its runs over); try another process or try again")]
    LeaseLapsing,
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// What a run is started with.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub input: RunInput,
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
    pub kind: RunKind,
    /// A child run: its id (made from its parent's) and the step that started it.
    pub child: Option<(String, ParentLink)>,
    /// How it begins: [`Input::Start`], or an undo run's [`Input::Undo`].
    pub first: Input,
}

impl RunOptions {
    pub fn new(input: impl Into<RunInput>, seed: u64, speed: f64) -> Self {
        RunOptions {
            input: input.into(),
            seed,
            speed,
            faults: Faults::default(),
            orchestrator: None,
            on_end: None,
            kind: RunKind::Run,
            child: None,
            first: Input::Start,
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
    waiting: AtomicUsize,
}

impl OrchestratorPool {
    pub fn new(capacity: usize, message_ms: u64) -> Arc<Self> {
        Arc::new(OrchestratorPool {
            permits: tokio::sync::Semaphore::new(capacity),
            capacity,
            message_ms,
            waiting: AtomicUsize::new(0),
        })
    }

    /// Messages waiting for the orchestrator right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// How the engine reaches beyond its process: the other processes, the event bus, and the
/// inboxes of its runs (which the bus delivers into).
pub struct Wiring {
    pub peers: Arc<dyn Peers>,
    pub events: Arc<dyn EventBus>,
    pub inboxes: Arc<Inboxes>,
}

impl Default for Wiring {
    /// A process alone, its events delivered in process.
    fn default() -> Self {
        Wiring {
            peers: Arc::new(Alone),
            events: Arc::new(InProcessBus),
            inboxes: Arc::default(),
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    peers: Arc<dyn Peers>,
    /// What carries events between a run's steps.
    events: Arc<dyn EventBus>,
    inboxes: Arc<Inboxes>,
    hub: Arc<RunHub>,
    clock: Arc<dyn Clock>,
    timers: Timers,
    metrics: Arc<Metrics>,
    /// Every run start and end, for the runs feed.
    feed: broadcast::Sender<RunSummary>,
    /// Runs driven (or being resumed) here right now, and the most allowed
    /// ([`Engine::set_max_in_flight`]).
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The last history write error while the store is failing; `None` once a write works.
    store_failure: Mutex<Option<String>>,
    /// Set by [`Engine::shut_down`]: no new runs; drivers stop after their current write.
    stopping: tokio::sync::watch::Sender<bool>,
    membership: Membership,
    lease: Lease,
    /// Claimed runs being resumed at once ([`membership::RESUMES_AT_ONCE`]).
    resuming: tokio::sync::Semaphore,
    /// The real services steps may call ([`Engine::set_services`]).
    services: std::sync::RwLock<Arc<calls::Services>>,
}

impl Engine {
    /// An engine that is the only process on its store (`local`).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::with_membership(store, clock, Membership::default())
    }

    /// An engine that is `membership.process` on `store`, alone.
    pub fn with_membership(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        membership: Membership,
    ) -> Arc<Self> {
        Self::wired(store, clock, membership, Wiring::default())
    }

    /// An engine that is `membership.process` among the processes sharing `store`, reaching
    /// them through `wiring`.
    pub fn wired(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        membership: Membership,
        wiring: Wiring,
    ) -> Arc<Self> {
        let lease = Lease::new(membership.lease, store.is_shared());
        Arc::new(Engine {
            store,
            peers: wiring.peers,
            events: wiring.events,
            inboxes: wiring.inboxes,
            hub: Arc::new(RunHub::default()),
            clock,
            timers: Timers::start(),
            metrics: Arc::new(Metrics::default()),
            feed: broadcast::channel(FEED_BUFFER).0,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(usize::MAX),
            store_failure: Mutex::new(None),
            stopping: tokio::sync::watch::channel(false).0,
            membership,
            lease,
            resuming: tokio::sync::Semaphore::new(membership::RESUMES_AT_ONCE),
            services: Default::default(),
        })
    }

    /// The real services steps may call: loopback, and what `--allow-service` adds.
    pub fn set_services(&self, services: calls::Services) {
        *self.services.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(services);
    }

    /// The real services steps may call, and the client that calls them.
    pub fn services(&self) -> Arc<calls::Services> {
        self.services
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The other processes (a no-op when this one is alone).
    pub fn peers(&self) -> &Arc<dyn Peers> {
        &self.peers
    }

    /// This process's id among those sharing the store.
    pub fn process(&self) -> &str {
        &self.membership.process
    }

    /// This process's lease.
    pub fn lease(&self) -> &Lease {
        &self.lease
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

    /// Whether this process can take new runs now, and if not, why (for `/api/ready`): the
    /// store answers `probe` within `within`, history writes work, the lease holds with its
    /// margin, the bus is connected, and it is not shutting down.
    pub async fn readiness(&self, within: Duration) -> Readiness {
        let mut problems = Vec::new();
        if self.is_shutting_down() {
            problems.push("shutting down".to_string());
        }
        match tokio::time::timeout(within, self.store.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => problems.push(format!("the store does not answer: {e}")),
            Err(_) => problems.push(format!("the store did not answer within {within:?}")),
        }
        if let Some(failure) = self.store_failure() {
            problems.push(format!(
                "history writes are failing ({failure}); runs in progress wait and retry"
            ));
        }
        let margin = self.lease.margin();
        if !self.lease.holds() {
            problems.push(format!(
                "this process's lease holds for {} ms more, less than its safety margin of {} ms: \
                 it stops acting on its runs until it renews it",
                margin.as_millis(),
                self.lease.fence_margin().as_millis()
            ));
        }
        let link = self.peers.link();
        if let Link::Down(why) = &link {
            problems.push(format!("the bus to the other processes is down ({why})"));
        }
        self.metrics.lease(margin, !self.lease.holds());
        Readiness {
            problems,
            lease_margin: margin,
            link,
            runs_in_flight: self.in_flight(),
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
        if !self.lease.holds() {
            return Err(StartError::LeaseLapsing);
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
        self.peers.publish_summary(&summary);
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
    /// store the run is what finds out it works again), while this process's lease is about
    /// to lapse, and during shutdown.
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
        let (id, parent) = match options.child {
            Some((id, parent)) => (id, Some(parent)),
            None => (run_id(), None),
        };
        let run = StoredRun {
            id,
            parent,
            workflow_id: workflow_id.to_string(),
            workflow: version.workflow.clone(),
            input: options.input.clone(),
            status: RunStatus::Running,
            started_at: self.clock.now_ms(),
            ended_at: None,
            speed: options.speed,
            owner: Some(self.membership.process.clone()),
            epoch: FIRST_EPOCH,
            kind: options.kind,
        };
        let mut core = RunCore::new(&run.workflow, options.input, options.seed, options.speed)
            .with_faults(options.faults)
            .with_id(&run.id)
            .with_real_calls();
        let first = core.handle(options.first);
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
            Ok(Err(e)) => Err(StartError::StoreFailing(e)),
            Err(_) => Err(StartError::ShuttingDown),
        }
    }

    fn spawn(
        self: &Arc<Self>,
        run: &StoredRun,
        core: RunCore,
        seq: u64,
        first: Vec<core::Action>,
        ties: Ties,
    ) {
        let (inputs, rx) = mpsc::unbounded_channel();
        let (controls, control_rx) = mpsc::unbounded_channel();
        self.hub.open(&run.id, seq == 0);
        self.inboxes.insert(
            &run.id,
            RunInbox {
                inputs: inputs.clone(),
                controls,
            },
        );
        let driver = Driver::new(self.clone(), run, core, seq, inputs, ties);
        tokio::spawn(driver.drive(first, rx, control_rx));
    }
}

/// Whether a process can take new runs, and what stands in the way.
#[derive(Debug)]
pub struct Readiness {
    /// Empty when ready.
    pub problems: Vec<String>,
    pub lease_margin: Duration,
    pub link: Link,
    pub runs_in_flight: usize,
}

/// Resolves once `stopping` says the engine shuts down (the watch's guard is not held
/// across an await, so the future stays `Send`).
pub async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
}

/// What a driver is tied to besides its run: the caller waiting for the run to be stored
/// (a new run), a shared orchestrator and who hears of its end (the lab's load mode).
#[derive(Default)]
pub(crate) struct Ties {
    pub creation: Option<Creation>,
    pub orchestrator: Option<Arc<OrchestratorPool>>,
    pub on_end: Option<mpsc::UnboundedSender<RunSummary>>,
}

/// A new run's id: 32 hex digits, random (from a generator seeded once per thread, not a
/// system call per run).
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
