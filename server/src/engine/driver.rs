//! A run's driver: one task per run in progress here. It feeds the run's inputs to its core
//! in batches, appends each batch's records to the store, and only once they are durable
//! broadcasts them and acts on them (timers, deliveries, telling who waits). Nothing acts on
//! a record that is not stored under the epoch this process holds the run at:
//!
//! - a write is tried again while the store fails; before a try after a failure the store
//!   is asked what became of the last one ([`crate::store::RunStore::check_append`]): stored
//!   as written (go on), absent (write it again), or the run is another process's now
//!   (stop);
//! - nothing is written while this process's lease is about to lapse (self-fencing: the
//!   driver waits for a renewal, see `membership`);
//! - a new run whose creation failed is looked up before it is created again, and the
//!   caller hears `503` only if it is not known to be stored; a run found stored after the
//!   caller heard `503` is cancelled, so nothing runs that its caller was told did not start;
//! - a change asked of the run (cancel, faults, a crash) is answered once durable;
//! - a delivery handed to a bus that leaves the process is kept until it arrives; overdue,
//!   it is published again as a new try, and after [`BUS_TRIES`] made here.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use app::model::api::{ParentLink, RunSummary};
use app::model::{RunEvent, RunRecord, RunStatus};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::bus::{Deliver, Delivery};
use super::children::{ChildOutcome, ChildStart};
use super::core::{Action, Input, RunCore};
use super::inboxes::ControlRequest;
use super::peers::Answer;
use super::{stopped, Engine, OrchestratorPool, Ties};
use crate::store::{Appended, Recorded, StoreError, StoredRun, WorkflowVersion};

/// A run's driver appends at most about this many records in one write (a batch closes
/// once it reaches the limit; the input that crossed it is not split).
pub const MAX_BATCH_RECORDS: usize = 512;
/// The first wait before a failed history write is tried again; it doubles up to
/// [`WRITE_RETRY_MAX`]. A disk that fills up or a database that drops its connections gets
/// retried, not given up on: the run goes on once the store takes writes again.
pub const WRITE_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest wait between two tries of a failed history write.
pub const WRITE_RETRY_MAX: Duration = Duration::from_secs(2);
/// How long a new run's creation is tried before its caller hears that the store is
/// failing (`503`).
pub const CREATE_PATIENCE: Duration = Duration::from_secs(5);
/// A delivery handed to a bus that leaves the process and not back within this is
/// published again (a new try, under a new key).
pub const DELIVERY_PATIENCE: Duration = Duration::from_secs(2);
/// Tries of a delivery on the bus before the driver makes it in its own process.
pub const BUS_TRIES: u32 = 3;

/// A run to store with its first write, and who waits to hear it is stored.
pub(crate) struct Creation {
    pub run: StoredRun,
    pub version: Arc<WorkflowVersion>,
    pub reply: oneshot::Sender<Result<(), StoreError>>,
}

/// What became of a batch's write.
enum Written {
    Durable,
    /// Another process owns the run now, or it is gone.
    Fenced,
    /// Shutting down before it went through: the run stays `running` in the store and
    /// resumes from its history at the next start.
    Stopped,
    /// A new run that is not stored (its caller heard why).
    NotCreated,
}

/// A delivery handed to a bus that leaves the process, not back yet.
struct Pending {
    since: Instant,
    tries: u32,
}

/// What one write makes durable, and what waits for it.
#[derive(Default)]
struct Batch {
    records: Vec<Recorded>,
    effects: Vec<Action>,
    /// Callers of changes in this batch, told once it is durable.
    replies: Vec<oneshot::Sender<Answer>>,
}

pub(crate) struct Driver {
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
    pending: HashMap<(u64, usize), Pending>,
    /// The run whose sub-flow step started this one: told how it ends.
    parent: Option<ParentLink>,
}

/// What the driver waits for between batches.
enum Next {
    Input(Option<Input>),
    Control(Option<ControlRequest>),
    Overdue,
    Stop,
}

impl Driver {
    pub(crate) fn new(
        engine: Arc<Engine>,
        run: &StoredRun,
        core: RunCore,
        seq: u64,
        inbox: mpsc::UnboundedSender<Input>,
        ties: Ties,
    ) -> Driver {
        let Ties {
            creation,
            orchestrator,
            on_end,
        } = ties;
        let deliver: Deliver = {
            let inbox = inbox.clone();
            // A closed inbox means the run has ended: nobody is left to deliver to.
            Arc::new(move |message, edge| {
                let _ = inbox.send(Input::Deliver { message, edge });
            })
        };
        Driver {
            run_id: run.id.clone(),
            workflow_id: run.workflow_id.clone(),
            started_at: run.started_at,
            core,
            engine,
            epoch: run.epoch,
            seq,
            inbox,
            creation,
            deliver,
            local: VecDeque::new(),
            orchestrator,
            on_end,
            pending: HashMap::new(),
            parent: run.parent.clone(),
        }
    }

    /// Handles inputs in batches: whatever can be handled at once — zero-delay timers and
    /// deliveries of the in-process bus, which never leave this run — is folded into one
    /// batch, up to [`MAX_BATCH_RECORDS`]; then the batch's records are appended in one
    /// write, and only once they are durable are they broadcast and its other effects
    /// (timers, deliveries through a bus that leaves the process, answers to changes)
    /// performed. A crash loses a whole batch or nothing, so no effect is ever based on a
    /// record that was lost.
    pub(crate) async fn drive(
        mut self,
        first: Vec<Action>,
        mut rx: mpsc::UnboundedReceiver<Input>,
        mut controls: mpsc::UnboundedReceiver<ControlRequest>,
    ) {
        let mut batch = Batch::default();
        let mut stopping = self.engine.stopping.subscribe();
        self.absorb(first, &mut batch);
        loop {
            let open = !self.core.is_finished() && batch.records.len() < MAX_BATCH_RECORDS;
            if open {
                if let Ok(request) = controls.try_recv() {
                    self.control(request, &mut batch);
                    continue;
                }
                if let Some(input) = rx.try_recv().ok().or_else(|| self.local.pop_front()) {
                    let actions = self.handle(input).await;
                    self.absorb(actions, &mut batch);
                    continue;
                }
            }
            let mut written = std::mem::take(&mut batch);
            let outcome = match self.creation.take() {
                Some(creation) => self.create(creation, &written.records).await,
                None => self.write_durably(&written.records).await,
            };
            match outcome {
                Written::Durable => {}
                Written::Fenced => {
                    for reply in written.replies.drain(..) {
                        let _ = reply.send(Answer::Fenced);
                    }
                    break;
                }
                // Changes in the batch are answered `NotHere` (their senders dropped).
                Written::Stopped | Written::NotCreated => break,
            }
            for reply in written.replies.drain(..) {
                let _ = reply.send(Answer::Applied);
            }
            self.act(written);
            if self.engine.is_shutting_down() || self.core.is_finished() {
                break;
            }
            if !self.local.is_empty() {
                continue;
            }
            let overdue_at = self
                .pending
                .values()
                .map(|p| p.since + DELIVERY_PATIENCE)
                .min();
            let next = tokio::select! {
                input = rx.recv() => Next::Input(input),
                request = controls.recv() => Next::Control(request),
                _ = sleep_until(overdue_at), if overdue_at.is_some() => Next::Overdue,
                // Shutting down while waiting (for a timer, a delivery): nothing is lost,
                // the run resumes from its history at the next start.
                _ = stopped(&mut stopping) => Next::Stop,
            };
            match next {
                Next::Input(Some(input)) => {
                    let actions = self.handle(input).await;
                    self.absorb(actions, &mut batch);
                }
                Next::Control(Some(request)) => self.control(request, &mut batch),
                Next::Overdue => self.overdue(),
                Next::Input(None) | Next::Control(None) | Next::Stop => break,
            }
        }
        self.engine.inboxes.remove(&self.run_id);
        self.engine.hub.close(&self.run_id);
        self.engine.release();
        // Its pending timers find its inbox closed (dropped with `rx`) and are skipped;
        // changes still queued are answered `NotHere` (dropped with `controls`).
    }

    /// A change asked of the run: handled in the current batch, answered once it is durable.
    fn control(&mut self, request: ControlRequest, batch: &mut Batch) {
        if self.core.is_finished() {
            let _ = request.reply.send(Answer::Ended);
            return;
        }
        let actions = self.core.handle(request.input);
        self.absorb(actions, batch);
        batch.replies.push(request.reply);
    }

    /// Stores the new run with its first records, and tells the caller of
    /// [`Engine::start_run`] how it went, trying again while the store fails for up to
    /// [`CREATE_PATIENCE`]. A try after a failure first looks whether the last one went
    /// through after all. Once the caller has heard `503` the run is never created; if it
    /// turns out to be stored nonetheless, it is cancelled.
    async fn create(&mut self, creation: Creation, records: &[Recorded]) -> Written {
        let Creation {
            run,
            version,
            reply,
        } = creation;
        let engine = self.engine.clone();
        let mut reply = Some(reply);
        let deadline = Instant::now() + CREATE_PATIENCE;
        let mut wait = WRITE_RETRY_FIRST;
        let mut tried = false;
        let mut stopping = engine.stopping.subscribe();
        loop {
            let writing = std::time::Instant::now();
            let result = if !tried {
                engine.store.create_run(&run, &version, records).await
            } else {
                match engine.store.get_run(&run.id).await {
                    Ok(Some(_)) => Ok(()),
                    Ok(None) if reply.is_some() => {
                        engine.store.create_run(&run, &version, records).await
                    }
                    // Told it did not start, and it did not: nothing more to do.
                    Ok(None) => return Written::NotCreated,
                    Err(e) => Err(e),
                }
            };
            tried = true;
            match result {
                Ok(()) => {
                    engine
                        .metrics
                        .history_written(writing.elapsed().as_secs_f64());
                    engine.store_works();
                    engine.metrics.run_started();
                    engine.announce(RunSummary {
                        id: run.id.clone(),
                        workflow_id: run.workflow_id.clone(),
                        status: RunStatus::Running,
                        started_at: run.started_at,
                        ended_at: None,
                        messages: None,
                        diagnosis: None,
                        input: run.input.clone(),
                        outcome: None,
                        speed: Some(run.speed),
                        parent: run.parent.clone(),
                        children: Vec::new(),
                    });
                    match reply.take() {
                        Some(reply) => {
                            let _ = reply.send(Ok(()));
                        }
                        None => {
                            tracing::warn!(run = %run.id, "a run whose start was answered 503 turned out stored: cancelling it");
                            self.local.push_front(Input::Cancel);
                        }
                    }
                    return Written::Durable;
                }
                Err(e) => {
                    engine.store_failed(&e);
                    let shutting_down = engine.is_shutting_down();
                    if Instant::now() >= deadline || shutting_down {
                        if let Some(reply) = reply.take() {
                            let _ = reply.send(Err(e));
                        }
                        if shutting_down {
                            // Stored or not, the next start finds out (a stored run is
                            // claimed and resumed).
                            return Written::NotCreated;
                        }
                    } else {
                        tracing::warn!(run = %run.id, error = %e, retry_in = ?wait, "storing a new run failed; retrying");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped(&mut stopping) => {}
                    }
                    wait = (wait * 2).min(WRITE_RETRY_MAX);
                }
            }
        }
    }

    /// Appends `records` durably, trying again with backoff while the store fails (a full
    /// disk, an I/O error, a connection reset). A try after a failure first asks the store
    /// what became of the last one, so no record is written twice and none is taken as
    /// stored that is not. Waits, before each try, while this process's lease is about to
    /// lapse.
    async fn write_durably(&mut self, records: &[Recorded]) -> Written {
        if records.is_empty() {
            return Written::Durable;
        }
        let engine = self.engine.clone();
        let mut wait = WRITE_RETRY_FIRST;
        let mut failed = false;
        let mut stopping = engine.stopping.subscribe();
        loop {
            if !engine.lease.held(&mut stopping).await {
                return Written::Stopped;
            }
            let writing = std::time::Instant::now();
            let result = if failed {
                match engine
                    .store
                    .check_append(&self.run_id, self.epoch, records)
                    .await
                {
                    Ok(Appended::Stored) => Ok(()),
                    Ok(Appended::Absent) => {
                        engine
                            .store
                            .append_history(&self.run_id, self.epoch, records)
                            .await
                    }
                    Ok(Appended::Fenced) => Err(StoreError::Fenced {
                        run: self.run_id.clone(),
                        epoch: self.epoch,
                    }),
                    Err(e) => Err(e),
                }
            } else {
                engine
                    .store
                    .append_history(&self.run_id, self.epoch, records)
                    .await
            };
            match result {
                Ok(()) => {
                    engine
                        .metrics
                        .history_written(writing.elapsed().as_secs_f64());
                    if failed {
                        engine.store_works();
                    }
                    return Written::Durable;
                }
                Err(StoreError::Fenced { epoch, .. }) => {
                    tracing::info!(run = %self.run_id, epoch, "another process owns this run now (or it is gone); stopping here");
                    engine.metrics.write_fenced();
                    engine.metrics.run_lost();
                    if failed {
                        engine.store_works();
                    }
                    return Written::Fenced;
                }
                Err(e) => {
                    failed = true;
                    engine.store_failed(&e);
                    tracing::warn!(run = %self.run_id, error = %e, retry_in = ?wait, "history write failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped(&mut stopping) => return Written::Stopped,
                    }
                    wait = (wait * 2).min(WRITE_RETRY_MAX);
                }
            }
        }
    }

    /// Hands an input to the core; one that needs a shared orchestrator first waits for
    /// its capacity and takes its time.
    async fn handle(&mut self, input: Input) -> Vec<Action> {
        if let Input::Deliver { message, edge } = &input {
            self.pending.remove(&(*message, *edge));
        }
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
                Action::Deliver { message, edge } if self.engine.events.in_process() => {
                    self.local.push_back(Input::Deliver { message, edge })
                }
                other => batch.effects.push(other),
            }
        }
    }

    /// Once the batch's records are durable: broadcasts them, then acts.
    fn act(&mut self, batch: Batch) {
        let Batch {
            records, effects, ..
        } = batch;
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
                        parent: self.parent.clone(),
                        children: Vec::new(),
                    };
                    if let Some(on_end) = &self.on_end {
                        let _ = on_end.send(summary.clone());
                    }
                    if let Some(parent) = self.parent.clone() {
                        let outcome = ChildOutcome {
                            status: *status,
                            diagnosis: diagnosis.clone(),
                            wrote: self.core.wrote().clone(),
                        };
                        let (engine, run) = (self.engine.clone(), self.run_id.clone());
                        tokio::spawn(
                            async move { engine.tell_parent(&parent, &run, outcome).await },
                        );
                    }
                    self.engine.announce(summary);
                }
                _ => {}
            }
        }
        metrics.steps_executed(started);
        self.engine.hub.publish(&self.run_id, &records);
        self.engine.peers.publish_records(&self.run_id, &records);
        let speed = self.core.speed();
        for effect in effects {
            match effect {
                Action::Timer { after_ms, input } => {
                    let wait = Duration::from_secs_f64(after_ms as f64 / 1000.0 / speed);
                    self.engine.timers.set(wait, self.inbox.clone(), input);
                }
                // Handed to the bus only now that the publication is durable.
                Action::Deliver { message, edge } => self.hand_to_bus(message, edge, 0),
                // Children start only once their parent's record of them is durable.
                Action::StartChild {
                    node,
                    run,
                    workflow,
                    input,
                    seed,
                } => {
                    let start = ChildStart {
                        parent: self.link(node),
                        run,
                        workflow,
                        input,
                        seed,
                        speed,
                    };
                    tokio::spawn(self.engine.clone().start_child(start));
                }
                Action::UndoChild { node, child, run } => {
                    let parent = self.link(node);
                    tokio::spawn(self.engine.clone().undo_child(parent, child, run));
                }
                Action::CancelChild { run } => {
                    tokio::spawn(self.engine.clone().cancel_child(run));
                }
                // Called only now that the attempt's start is durable; the answer comes
                // back as an input (a stale one, for an attempt over, changes nothing).
                Action::Call {
                    node,
                    execution,
                    attempt,
                    request,
                    binding,
                    timeout_ms,
                } => {
                    let services = self.engine.services();
                    let inbox = self.inbox.clone();
                    tokio::spawn(async move {
                        let called = services.call(&binding, &request, timeout_ms).await;
                        let _ = inbox.send(Input::CallAnswered {
                            node,
                            execution,
                            attempt,
                            called: Box::new(called),
                        });
                    });
                }
                Action::Record(_) => unreachable!("records were taken out by absorb"),
            }
        }
    }

    /// How this run's step `node` is named as a child's parent.
    fn link(&self, node: usize) -> ParentLink {
        ParentLink {
            run: self.run_id.clone(),
            node: self.core.node_id(node).to_string(),
            workflow_id: self.workflow_id.clone(),
        }
    }

    /// Publishes a delivery on the bus (its `attempt`th try) and keeps it until it arrives.
    fn hand_to_bus(&mut self, message: u64, edge: usize, attempt: u32) {
        let delivery = Delivery {
            run_id: &self.run_id,
            epoch: self.epoch,
            attempt,
            message,
            edge,
        };
        self.engine.events.publish(delivery, &self.deliver);
        if !self.engine.events.in_process() {
            self.pending.insert(
                (message, edge),
                Pending {
                    since: Instant::now(),
                    tries: attempt + 1,
                },
            );
        }
    }

    /// Deliveries the bus has not brought back in time: published again, as a new try, or
    /// after [`BUS_TRIES`] made here.
    fn overdue(&mut self) {
        let now = Instant::now();
        let due: Vec<((u64, usize), u32)> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.since + DELIVERY_PATIENCE)
            .map(|(key, p)| (*key, p.tries))
            .collect();
        for ((message, edge), tries) in due {
            if tries >= BUS_TRIES {
                self.pending.remove(&(message, edge));
                tracing::warn!(run = %self.run_id, message, tries, "the bus did not deliver an event; delivering it in this process");
                self.engine.metrics.delivery_here();
                self.local.push_back(Input::Deliver { message, edge });
            } else {
                tracing::info!(run = %self.run_id, message, tries, "an event delivery is overdue on the bus; publishing it again");
                self.engine.metrics.delivery_again();
                self.hand_to_bus(message, edge, tries);
            }
        }
        self.engine.events.overdue();
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
