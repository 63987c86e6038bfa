//! The pure heart of a run: one input in, the implied history events and timers out.
//!
//! Event sourcing, as Restate does it: [`RunCore::handle`] only *decides*; every change of
//! state happens in [`RunCore::apply`], called for each event the core emits. Replaying a
//! stored history through `apply` therefore rebuilds the exact state, and
//! [`RunCore::resume`] re-arms whatever was in flight — crash recovery is a replay.
//! No I/O, no clock, no randomness of its own: outcomes are drawn from the run's seed, so
//! the same workflow, input and seed always give the same latencies and failures, whatever
//! the coordination style or the scheduling.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use app::model::faults::OrchestratorCrash;
use app::model::{
    Cause, EdgeKind, FailureReason, Faults, Join, MessageCounts, Node, Outcome, Owner, RunEvent,
    RunStatus, StepState, Workflow,
};

use super::bus::Subscriptions;
use super::orchestrator::Orchestrator;

/// A run executes at most this many step executions: event cycles are allowed, endless
/// ones are not.
pub const MAX_STEP_EXECUTIONS: u32 = 10_000;
/// A causal chain (trigger after trigger) is at most this long.
pub const MAX_CHAIN_HOPS: u32 = 1_000;

/// What can happen to a run. Node and edge references are indices into the workflow.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Start,
    /// The simulated work of an attempt is over (its outcome is drawn from the seed).
    AttemptDone {
        node: usize,
        execution: u32,
        attempt: u32,
    },
    /// A retry's backoff has elapsed.
    RetryDue {
        node: usize,
        execution: u32,
        attempt: u32,
    },
    CompensationDone {
        node: usize,
    },
    /// The bus delivers event `message` through subscription `edge`.
    Deliver {
        message: u64,
        edge: usize,
    },
    /// The bus delivers `message` through `edge` once more (at-least-once delivery).
    Redeliver {
        message: u64,
        edge: usize,
    },
    Cancel,
    /// The faults in effect change (the lab breaking things during a run).
    SetFaults(Faults),
    /// The orchestrator crashes now, for `for_ms` (or until a standby's lease runs out).
    CrashOrchestrator {
        for_ms: u64,
        standby_lease_ms: Option<u64>,
    },
    /// The crashed orchestrator is back, or its standby took over.
    OrchestratorBack,
    /// The orchestrator hears that `node` succeeded (after an outage: the step did its work
    /// and published its events while nobody was there to hear its reply).
    Heard {
        node: usize,
    },
    /// The orchestrator hears that the attempt it commanded of `node` failed (after an
    /// outage) and decides: retry, or the step has failed.
    FailureHeard {
        node: usize,
    },
}

/// What the driver must do after the recorded events are durable.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Append to the history (then broadcast).
    Record(RunEvent),
    /// Feed `input` back after `after_ms` of simulated time.
    Timer { after_ms: u64, input: Input },
    /// Hand an event to the bus for delivery through subscription `edge`.
    Deliver { message: u64, edge: usize },
}

/// The deterministic plan of one attempt: how long it takes and how it ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttemptPlan {
    pub duration_ms: u64,
    pub failure: Option<FailureReason>,
}

#[derive(Clone, Debug, Default)]
struct Step {
    state: StepState,
    attempt: u32,
    execution: u32,
    owner: Owner,
    hops: u32,
    /// Messages that started this step (duplicates of these are recognised).
    seen: HashSet<u64>,
    /// `join: all`: incoming edges that have delivered a trigger.
    arrived: HashSet<usize>,
    /// Non-idempotent duplicates received while running: each runs once more afterwards.
    queued: VecDeque<(u64, usize, u32)>,
    last_reason: Option<FailureReason>,
    /// The orchestrator commanded this step, its attempt failed while the orchestrator was
    /// down, and the retry-or-fail decision waits for it to come back.
    failure_unheard: bool,
}

struct EdgeInfo {
    id: String,
    from: usize,
    to: usize,
    name: String,
}

pub struct RunCore {
    nodes: Vec<Node>,
    edges: Vec<EdgeInfo>,
    index: HashMap<String, usize>,
    incoming: Vec<Vec<usize>>,
    roots: Vec<usize>,
    orchestrator: Orchestrator,
    subscriptions: Subscriptions,
    input: serde_json::Value,
    seed: u64,
    speed: f64,

    steps: Vec<Step>,
    next_message: u64,
    /// Publications not yet delivered, by (message, subscription edge) → hops.
    undelivered: BTreeMap<(u64, usize), u32>,
    /// Delivered messages, for redelivery: (message, edge) → hops.
    delivered: HashMap<(u64, usize), u32>,
    /// Orchestrator-owned successes with a compensation, in completion order.
    completed: Vec<usize>,
    saga: Option<VecDeque<usize>>,
    saga_ran: bool,
    compensation_failed: bool,
    cancelled: bool,
    runaway: bool,
    unhandled: Vec<String>,
    executions: u32,
    counts: MessageCounts,
    status: Option<RunStatus>,
    out: Vec<Action>,

    /// What is broken on purpose (from `RunStarted` and `FaultsChanged`).
    faults: Faults,
    /// While the orchestrator is down: how long the outage lasts, and whether a standby
    /// ends it.
    orchestrator_down: Option<OrchestratorCrash>,
    /// Inputs that need the orchestrator and arrived while it was down, in order.
    stalled: Vec<Input>,
    /// Events the bus lost: (message, subscription edge).
    dropped: Vec<(u64, usize)>,
    /// Steps that succeeded while the orchestrator was down and that it has not heard of
    /// yet (rebuilt by replay, so a resumed run still delivers their replies).
    unheard: Vec<usize>,
    /// History records applied so far (what a recovering orchestrator rebuilds from).
    applied: u64,
}

impl RunCore {
    pub fn new(workflow: &Workflow, input: serde_json::Value, seed: u64, speed: f64) -> Self {
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let edges: Vec<EdgeInfo> = workflow
            .edges
            .iter()
            .map(|e| EdgeInfo {
                id: e.id.clone(),
                from: index[&e.from],
                to: index[&e.to],
                name: match e.kind {
                    EdgeKind::Event => workflow.event_name(e),
                    EdgeKind::Command => String::new(),
                },
            })
            .collect();
        let mut incoming = vec![Vec::new(); workflow.nodes.len()];
        for (i, e) in edges.iter().enumerate() {
            incoming[e.to].push(i);
        }
        let roots = (0..workflow.nodes.len())
            .filter(|&n| incoming[n].is_empty())
            .collect();
        RunCore {
            nodes: workflow.nodes.clone(),
            orchestrator: Orchestrator::new(workflow, &index),
            subscriptions: Subscriptions::new(workflow, &index),
            edges,
            index,
            incoming,
            roots,
            input,
            seed,
            speed,
            steps: vec![Step::default(); workflow.nodes.len()],
            next_message: 1,
            undelivered: BTreeMap::new(),
            delivered: HashMap::new(),
            completed: Vec::new(),
            saga: None,
            saga_ran: false,
            compensation_failed: false,
            cancelled: false,
            runaway: false,
            unhandled: Vec::new(),
            executions: 0,
            counts: MessageCounts::default(),
            status: None,
            out: Vec::new(),
            faults: Faults::default(),
            orchestrator_down: None,
            stalled: Vec::new(),
            dropped: Vec::new(),
            unheard: Vec::new(),
            applied: 0,
        }
    }

    /// Starts the run with these faults in effect (before [`Input::Start`]).
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    pub fn status(&self) -> Option<RunStatus> {
        self.status
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_some()
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn counts(&self) -> MessageCounts {
        self.counts
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn state_of(&self, id: &str) -> Option<StepState> {
        self.node_index(id).map(|i| self.steps[i].state)
    }

    /// Handles one input and returns what to record and do, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        if self.status.is_none() {
            self.decide(input);
            self.settle();
        }
        std::mem::take(&mut self.out)
    }

    /// After replaying a stored history through [`RunCore::apply`]: what was in flight is
    /// started again — attempts re-sent under their idempotency key (no new `StepStarted`),
    /// retries and compensations re-armed, undelivered events delivered.
    pub fn resume(&mut self, run_id: &str) -> Vec<Action> {
        if self.status.is_some() {
            return Vec::new();
        }
        let mut resent = Vec::new();
        let mut timers = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let key = format!(
                "{run_id}/{}/{}/{}",
                self.nodes[i].id, step.execution, step.attempt
            );
            match step.state {
                StepState::Running if step.failure_unheard => {
                    // Its attempt failed; only the orchestrator's decision waits (below).
                }
                StepState::Running => {
                    let plan = self.plan(i, step.execution, step.attempt);
                    timers.push(Action::Timer {
                        after_ms: plan.duration_ms,
                        input: Input::AttemptDone {
                            node: i,
                            execution: step.execution,
                            attempt: step.attempt,
                        },
                    });
                    resent.push(key);
                }
                StepState::Retrying => {
                    let delay = self.nodes[i]
                        .retry
                        .as_ref()
                        .map_or(0, |r| r.delay_before(step.attempt + 1));
                    timers.push(Action::Timer {
                        after_ms: delay,
                        input: Input::RetryDue {
                            node: i,
                            execution: step.execution,
                            attempt: step.attempt + 1,
                        },
                    });
                }
                StepState::Compensating => {
                    let plan = self.plan_compensation(i);
                    timers.push(Action::Timer {
                        after_ms: plan.duration_ms,
                        input: Input::CompensationDone { node: i },
                    });
                    resent.push(format!("{key}/compensate"));
                }
                _ => {}
            }
        }
        for &node in &self.unheard {
            self.stalled.push(Input::Heard { node });
        }
        for node in 0..self.steps.len() {
            if self.steps[node].failure_unheard && self.steps[node].state == StepState::Running {
                self.stalled.push(Input::FailureHeard { node });
            }
        }
        if let Some(crash) = &self.orchestrator_down {
            timers.push(Action::Timer {
                after_ms: crash.outage_ms(),
                input: Input::OrchestratorBack,
            });
        }
        for &(message, edge) in self.undelivered.keys() {
            timers.push(Action::Deliver { message, edge });
            resent.push(format!("{run_id}/event/{message}/{}", self.edges[edge].id));
        }
        self.emit(RunEvent::RunResumed { resent });
        self.out.extend(timers);
        self.settle();
        std::mem::take(&mut self.out)
    }

    // ---- decisions -------------------------------------------------------------------

    /// Whether handling `input` needs the orchestrator: replies to its commands, the
    /// retries it schedules, its saga, and the commands that follow a step it hears from.
    pub fn needs_orchestrator(&self, input: &Input) -> bool {
        match input {
            Input::AttemptDone { node, .. } | Input::Heard { node } => self.hears_from(*node),
            // An event-started step retries by itself.
            Input::RetryDue { node, .. } => self.steps[*node].owner == Owner::Orchestrator,
            Input::CompensationDone { .. } | Input::FailureHeard { .. } => true,
            _ => false,
        }
    }

    /// Whether `input` must wait while the orchestrator is down: as
    /// [`RunCore::needs_orchestrator`], except that an attempt's end is the step's own to
    /// record — a success with the events it publishes, or a failed attempt — and only what
    /// the orchestrator decides from it waits (see [`RunCore::failure_waits`]).
    fn waits_for_orchestrator(&self, input: &Input) -> bool {
        match input {
            Input::AttemptDone { .. } => false,
            other => self.needs_orchestrator(other),
        }
    }

    /// Whether, with the orchestrator down, what follows a failed `attempt` of `node` waits
    /// for it: the retry of a step it commanded is its decision; an event-started step retries
    /// by itself, and only its last failure, which the orchestrator must hear because commands
    /// follow it, waits.
    fn failure_waits(&self, node: usize, attempt: u32) -> bool {
        self.orchestrator_down.is_some()
            && match self.steps[node].owner {
                Owner::Orchestrator => true,
                Owner::Itself => {
                    self.orchestrator.commands_anything(node)
                        && attempt >= self.nodes[node].max_attempts()
                }
            }
    }

    /// Whether the orchestrator must hear how `node` ends: it commanded it, or commands
    /// follow it.
    fn hears_from(&self, node: usize) -> bool {
        self.steps[node].owner == Owner::Orchestrator || self.orchestrator.commands_anything(node)
    }

    fn decide(&mut self, input: Input) {
        if self.orchestrator_down.is_some() && self.waits_for_orchestrator(&input) {
            self.stalled.push(input);
            return;
        }
        match input {
            Input::Start => {
                self.emit(RunEvent::RunStarted {
                    input: self.input.clone(),
                    seed: self.seed,
                    speed: self.speed,
                    faults: self.faults.clone(),
                });
                if let Some(crash) = self.faults.orchestrator.clone() {
                    self.out.push(Action::Timer {
                        after_ms: crash.at_ms,
                        input: Input::CrashOrchestrator {
                            for_ms: crash.for_ms,
                            standby_lease_ms: crash.standby_lease_ms,
                        },
                    });
                }
                for root in self.roots.clone() {
                    self.trigger(root, Cause::Start, 0, None);
                }
            }
            Input::AttemptDone {
                node,
                execution,
                attempt,
            } => {
                let step = &self.steps[node];
                if step.state != StepState::Running
                    || step.execution != execution
                    || step.attempt != attempt
                {
                    return; // stale: a resent attempt already reported
                }
                match self.plan(node, execution, attempt).failure {
                    None => self.succeed(node),
                    Some(reason) => self.attempt_failed(node, reason),
                }
            }
            Input::RetryDue {
                node,
                execution,
                attempt,
            } => {
                let step = &self.steps[node];
                if step.state != StepState::Retrying
                    || step.execution != execution
                    || step.attempt + 1 != attempt
                {
                    return;
                }
                let owner = step.owner;
                let hops = step.hops;
                self.start_attempt(
                    node,
                    attempt,
                    execution,
                    owner,
                    hops,
                    Cause::Retry { owner },
                );
            }
            Input::CompensationDone { node } => {
                if self.steps[node].state != StepState::Compensating {
                    return;
                }
                let action = self.nodes[node].compensation.clone().unwrap_or_default();
                let name = self.nodes[node].id.clone();
                if self.plan_compensation(node).failure.is_some() {
                    self.emit(RunEvent::CompensationFailed { node: name, action });
                } else {
                    self.emit(RunEvent::StepCompensated { node: name, action });
                }
                self.next_compensation();
            }
            Input::Deliver { message, edge } => {
                let Some(&hops) = self.undelivered.get(&(message, edge)) else {
                    return; // already delivered
                };
                self.deliver(message, edge, hops, false);
            }
            Input::Redeliver { message, edge } => {
                let Some(&hops) = self.delivered.get(&(message, edge)) else {
                    return;
                };
                self.deliver(message, edge, hops, true);
            }
            Input::Cancel => {
                self.emit(RunEvent::CancelRequested);
            }
            Input::SetFaults(faults) => {
                self.emit(RunEvent::FaultsChanged { faults });
            }
            Input::CrashOrchestrator {
                for_ms,
                standby_lease_ms,
            } => {
                if self.orchestrator_down.is_some() {
                    return; // already down
                }
                self.emit(RunEvent::OrchestratorCrashed {
                    for_ms,
                    standby_lease_ms,
                });
                let outage = self.orchestrator_down.as_ref().map_or(0, |c| c.outage_ms());
                self.out.push(Action::Timer {
                    after_ms: outage,
                    input: Input::OrchestratorBack,
                });
            }
            Input::Heard { node } => {
                if self.steps[node].owner == Owner::Orchestrator {
                    self.emit(RunEvent::ReplyReceived {
                        from: self.nodes[node].id.clone(),
                        outcome: Outcome::Success,
                        report: false,
                    });
                }
                self.command(node, Outcome::Success);
            }
            Input::FailureHeard { node } => {
                let step = &self.steps[node];
                if step.state == StepState::Running && step.failure_unheard {
                    let reason = step.last_reason.unwrap_or(FailureReason::Error);
                    self.decide_after_failure(node, reason);
                }
            }
            Input::OrchestratorBack => {
                let Some(crash) = self.orchestrator_down.clone() else {
                    return;
                };
                let waiting = std::mem::take(&mut self.stalled);
                self.emit(RunEvent::OrchestratorRecovered {
                    down_ms: crash.outage_ms(),
                    standby: crash.standby_lease_ms.is_some_and(|l| l < crash.for_ms),
                    records: self.applied,
                    waited: waiting.len() as u32,
                });
                for input in waiting {
                    self.decide(input);
                }
            }
        }
    }

    fn deliver(&mut self, message: u64, edge: usize, hops: u32, duplicate: bool) {
        let e = &self.edges[edge];
        let (to, from) = (e.to, e.from);
        self.emit(RunEvent::EventDelivered {
            message,
            edge: e.id.clone(),
            from: self.nodes[from].id.clone(),
            name: e.name.clone(),
            to: self.nodes[to].id.clone(),
            hops,
            duplicate,
        });
        let cause = Cause::Event {
            edge: self.edges[edge].id.clone(),
            from: self.nodes[from].id.clone(),
            name: self.edges[edge].name.clone(),
            message,
        };
        self.trigger(to, cause, hops, Some(edge));
    }

    /// A trigger reaches `node`: start it, make it wait (join all), or absorb it.
    fn trigger(&mut self, node: usize, cause: Cause, hops: u32, edge: Option<usize>) {
        if hops > MAX_CHAIN_HOPS {
            return self.stop_runaway(format!(
                "a causal chain reached {hops} hops at step {} (limit {MAX_CHAIN_HOPS}): an event cycle that never ends",
                self.nodes[node].id
            ));
        }
        let step = &self.steps[node];
        if let Some(message) = cause.message() {
            if step.seen.contains(&message) {
                if self.nodes[node].is_idempotent() {
                    return; // recognised duplicate: nothing runs twice
                }
                if step.state.is_active() {
                    self.steps[node]
                        .queued
                        .push_back((message, edge.unwrap_or(usize::MAX), hops));
                    return;
                }
                return self.start_execution(node, cause, hops);
            }
        }
        if self.nodes[node].join_mode() == Join::All {
            if let Some(edge) = edge {
                if matches!(step.state, StepState::Pending | StepState::Waiting) {
                    let mut arrived = step.arrived.clone();
                    arrived.insert(edge);
                    let waiting_for: Vec<String> = self.incoming[node]
                        .iter()
                        .filter(|e| {
                            !arrived.contains(e) && self.can_arrive(**e, &mut HashSet::new())
                        })
                        .map(|e| self.edges[*e].id.clone())
                        .collect();
                    if !waiting_for.is_empty() {
                        self.emit(RunEvent::StepWaiting {
                            node: self.nodes[node].id.clone(),
                            edge: self.edges[edge].id.clone(),
                            waiting_for,
                        });
                        return;
                    }
                }
            }
        }
        match self.steps[node].state {
            StepState::Running | StepState::Retrying | StepState::Compensating => {
                // join any: the step is already under way for an earlier trigger
            }
            _ => self.start_execution(node, cause, hops),
        }
    }

    fn start_execution(&mut self, node: usize, cause: Cause, hops: u32) {
        if self.executions >= MAX_STEP_EXECUTIONS {
            return self.stop_runaway(format!(
                "the run executed {MAX_STEP_EXECUTIONS} steps (the limit) and step {} was about to run again",
                self.nodes[node].id
            ));
        }
        let owner = match &cause {
            Cause::Command { .. } => Owner::Orchestrator,
            Cause::Event { .. } => Owner::Itself,
            Cause::Retry { owner } => *owner,
            Cause::Start => {
                if self.orchestrator.commands_anything(node) {
                    Owner::Orchestrator
                } else {
                    Owner::Itself
                }
            }
        };
        let execution = self.steps[node].execution + 1;
        self.start_attempt(node, 1, execution, owner, hops, cause);
    }

    fn start_attempt(
        &mut self,
        node: usize,
        attempt: u32,
        execution: u32,
        owner: Owner,
        hops: u32,
        cause: Cause,
    ) {
        self.emit(RunEvent::StepStarted {
            node: self.nodes[node].id.clone(),
            attempt,
            execution,
            owner,
            hops,
            cause,
        });
        let plan = self.plan(node, execution, attempt);
        self.out.push(Action::Timer {
            after_ms: plan.duration_ms,
            input: Input::AttemptDone {
                node,
                execution,
                attempt,
            },
        });
    }

    fn succeed(&mut self, node: usize) {
        let attempt = self.steps[node].attempt;
        self.emit(RunEvent::StepSucceeded {
            node: self.nodes[node].id.clone(),
            attempt,
        });
        if self.orchestrator_down.is_some() && self.hears_from(node) {
            // The step publishes its own events; its reply waits for the orchestrator.
            self.publish(node, Outcome::Success);
            self.stalled.push(Input::Heard { node });
            self.run_queued(node);
            return;
        }
        if self.steps[node].owner == Owner::Orchestrator {
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome: Outcome::Success,
                report: false,
            });
        }
        self.follow(node, Outcome::Success);
        self.run_queued(node);
    }

    fn attempt_failed(&mut self, node: usize, reason: FailureReason) {
        let attempt = self.steps[node].attempt;
        self.emit(RunEvent::AttemptFailed {
            node: self.nodes[node].id.clone(),
            attempt,
            reason,
        });
        if self.failure_waits(node, attempt) {
            // The service failed now; what follows is the orchestrator's to decide.
            self.stalled.push(Input::FailureHeard { node });
            return;
        }
        self.decide_after_failure(node, reason);
    }

    /// After a failed attempt: a retry, or the step has failed and what follows that.
    fn decide_after_failure(&mut self, node: usize, reason: FailureReason) {
        let step = &self.steps[node];
        let (attempt, owner) = (step.attempt, step.owner);
        if attempt < self.nodes[node].max_attempts() {
            let delay = self.nodes[node]
                .retry
                .as_ref()
                .map_or(0, |r| r.delay_before(attempt + 1));
            self.emit(RunEvent::RetryScheduled {
                node: self.nodes[node].id.clone(),
                attempt: attempt + 1,
                delay_ms: delay,
                by: owner,
            });
            let execution = self.steps[node].execution;
            self.out.push(Action::Timer {
                after_ms: delay,
                input: Input::RetryDue {
                    node,
                    execution,
                    attempt: attempt + 1,
                },
            });
            return;
        }
        self.emit(RunEvent::StepFailed {
            node: self.nodes[node].id.clone(),
            attempts: attempt,
            reason,
        });
        if owner == Owner::Orchestrator {
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome: Outcome::Failure,
                report: false,
            });
        }
        let handled = self.follow(node, Outcome::Failure);
        if !handled {
            match owner {
                Owner::Orchestrator => self.start_saga(node, reason),
                Owner::Itself => {
                    // Nobody owns the chain: all the step can do is publish its failure.
                    let label = &self.nodes[node].label;
                    let name = Workflow::default_event_name(label, Outcome::Failure);
                    let message = self.next_message;
                    self.emit(RunEvent::EventPublished {
                        message,
                        from: self.nodes[node].id.clone(),
                        name: name.clone(),
                        outcome: Outcome::Failure,
                        subscribers: Vec::new(),
                    });
                    let diagnosis = format!(
                        "{} failed ({}) after {attempt} attempt{} and published {name}, but nobody subscribes to it: the failure is unhandled",
                        self.nodes[node].label,
                        reason_text(reason),
                        if attempt == 1 { "" } else { "s" },
                    );
                    self.emit(RunEvent::FailureUnhandled {
                        node: self.nodes[node].id.clone(),
                        event: Some(name),
                        diagnosis,
                    });
                }
            }
        }
        self.run_queued(node);
    }

    /// Sends the orchestrator's commands and publishes the step's events for `outcome`.
    /// Returns whether anything follows.
    fn follow(&mut self, node: usize, outcome: Outcome) -> bool {
        let commanded = self.command(node, outcome);
        if self.runaway {
            return true;
        }
        let published = self.publish(node, outcome);
        commanded || published
    }

    /// The orchestrator's part of what follows `node`'s `outcome`: the report of an
    /// event-started step, and the commands. Returns whether any command follows.
    fn command(&mut self, node: usize, outcome: Outcome) -> bool {
        let commands = if self.saga.is_some() || self.saga_ran {
            Vec::new() // the orchestrator is undoing the workflow: it commands nothing new
        } else {
            self.orchestrator.routes(node, outcome).to_vec()
        };
        if commands.is_empty() {
            return false;
        }
        let hops = self.steps[node].hops + 1;
        if !commands.is_empty() && self.steps[node].owner == Owner::Itself {
            // An event-started step tells the orchestrator it is done: one message.
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome,
                report: true,
            });
        }
        for edge in commands {
            let message = self.next_message;
            let to = self.edges[edge].to;
            self.emit(RunEvent::CommandSent {
                message,
                edge: self.edges[edge].id.clone(),
                from: self.nodes[node].id.clone(),
                to: self.nodes[to].id.clone(),
                hops,
            });
            let cause = Cause::Command {
                edge: self.edges[edge].id.clone(),
                from: self.nodes[node].id.clone(),
                message,
            };
            self.trigger(to, cause, hops, Some(edge));
            if self.runaway {
                return true;
            }
        }
        true
    }

    /// The step's own part of what follows its `outcome`: its events, handed to the bus.
    /// Returns whether it published anything.
    fn publish(&mut self, node: usize, outcome: Outcome) -> bool {
        let publications = self.subscriptions.publications(node, outcome).to_vec();
        if publications.is_empty() {
            return false;
        }
        for (name, subscribers) in publications {
            let message = self.next_message;
            self.emit(RunEvent::EventPublished {
                message,
                from: self.nodes[node].id.clone(),
                name,
                outcome,
                subscribers: subscribers
                    .iter()
                    .map(|e| self.nodes[self.edges[*e].to].id.clone())
                    .collect(),
            });
            for edge in subscribers {
                self.hand_to_bus(message, edge);
            }
        }
        true
    }

    /// Hands a publication to the bus for one subscriber, with the bus's faults: lost,
    /// late, or delivered twice (each drawn from the seed).
    fn hand_to_bus(&mut self, message: u64, edge: usize) {
        let bus = self.faults.bus.clone();
        if bus.drop > 0.0 && unit(self.bus_draw(message, edge, 1)) < bus.drop {
            let e = &self.edges[edge];
            self.emit(RunEvent::EventDropped {
                message,
                edge: e.id.clone(),
                from: self.nodes[e.from].id.clone(),
                name: e.name.clone(),
                to: self.nodes[e.to].id.clone(),
            });
            return;
        }
        if bus.delay_ms == 0 {
            self.out.push(Action::Deliver { message, edge });
        } else {
            self.out.push(Action::Timer {
                after_ms: bus.delay_ms,
                input: Input::Deliver { message, edge },
            });
        }
        if bus.duplicate > 0.0 && unit(self.bus_draw(message, edge, 2)) < bus.duplicate {
            self.out.push(Action::Timer {
                after_ms: bus.delay_ms + 1,
                input: Input::Redeliver { message, edge },
            });
        }
    }

    /// Runs the non-idempotent duplicates that arrived while the step was busy.
    fn run_queued(&mut self, node: usize) {
        if let Some((message, edge, hops)) = self.steps[node].queued.pop_front() {
            if edge != usize::MAX && !self.runaway {
                let e = &self.edges[edge];
                let cause = Cause::Event {
                    edge: e.id.clone(),
                    from: self.nodes[e.from].id.clone(),
                    name: e.name.clone(),
                    message,
                };
                self.start_execution(node, cause, hops);
            }
        }
    }

    fn start_saga(&mut self, failed: usize, reason: FailureReason) {
        let compensate: Vec<usize> = self
            .completed
            .iter()
            .rev()
            .copied()
            .filter(|&n| self.steps[n].state == StepState::Succeeded)
            .collect();
        if compensate.is_empty() {
            let diagnosis = format!(
                "{} failed ({}) after {} attempt(s); the orchestrator has no failure route for it and nothing to compensate",
                self.nodes[failed].label,
                reason_text(reason),
                self.steps[failed].attempt,
            );
            self.emit(RunEvent::FailureUnhandled {
                node: self.nodes[failed].id.clone(),
                event: None,
                diagnosis,
            });
            return;
        }
        self.emit(RunEvent::SagaStarted {
            failed: self.nodes[failed].id.clone(),
            compensate: compensate
                .iter()
                .map(|&n| self.nodes[n].id.clone())
                .collect(),
        });
        self.next_compensation();
    }

    fn next_compensation(&mut self) {
        let Some(next) = self.saga.as_ref().and_then(|q| q.front().copied()) else {
            return;
        };
        self.emit(RunEvent::CompensationStarted {
            node: self.nodes[next].id.clone(),
            action: self.nodes[next].compensation.clone().unwrap_or_default(),
        });
        let plan = self.plan_compensation(next);
        self.out.push(Action::Timer {
            after_ms: plan.duration_ms,
            input: Input::CompensationDone { node: next },
        });
    }

    fn stop_runaway(&mut self, reason: String) {
        if !self.runaway {
            self.emit(RunEvent::RunawayStopped { reason });
        }
    }

    /// Ends the run when nothing can happen any more; starts `join: all` steps whose
    /// remaining edges can no longer arrive.
    fn settle(&mut self) {
        if self.status.is_some() {
            return;
        }
        let stopping = self.cancelled || self.runaway;
        if !stopping {
            loop {
                let ready: Vec<usize> = (0..self.steps.len())
                    .filter(|&n| self.steps[n].state == StepState::Waiting)
                    .filter(|&n| {
                        self.incoming[n].iter().all(|e| {
                            self.steps[n].arrived.contains(e)
                                || !self.can_arrive(*e, &mut HashSet::new())
                        })
                    })
                    .collect();
                if ready.is_empty() || self.runaway {
                    break;
                }
                for n in ready {
                    let cause = Cause::Start;
                    let hops = self.steps[n].hops;
                    self.start_execution(n, cause, hops);
                }
            }
            let busy = self.steps.iter().any(|s| s.state.is_active())
                || !self.undelivered.is_empty()
                || !self.stalled.is_empty()
                || self.saga.is_some();
            if busy {
                return;
            }
        }
        for n in 0..self.steps.len() {
            let id = self.nodes[n].id.clone();
            match self.steps[n].state {
                StepState::Pending | StepState::Waiting => {
                    self.emit(RunEvent::StepSkipped { node: id })
                }
                s if s.is_active() => self.emit(RunEvent::StepCancelled { node: id }),
                _ => {}
            }
        }
        let (status, diagnosis) = if self.cancelled {
            (
                RunStatus::Cancelled,
                Some("cancelled on request".to_string()),
            )
        } else if self.runaway {
            (RunStatus::Failed, self.unhandled.first().cloned())
        } else if self.saga_ran {
            if self.compensation_failed {
                (
                    RunStatus::Failed,
                    Some("a compensation failed: the saga could not undo every step".to_string()),
                )
            } else {
                (RunStatus::Compensated, self.unhandled.first().cloned())
            }
        } else if let Some(stall) = self.stall() {
            (RunStatus::Failed, Some(stall))
        } else if let Some(first) = self.unhandled.first() {
            (RunStatus::Failed, Some(first.clone()))
        } else {
            (RunStatus::Completed, None)
        };
        self.emit(RunEvent::RunCompleted {
            status,
            diagnosis,
            messages: self.counts,
        });
    }

    /// Where the run stalled because the bus lost an event its subscriber was waiting for.
    fn stall(&self) -> Option<String> {
        let (message, edge) = self.dropped.iter().copied().find(|&(_, e)| {
            matches!(
                self.steps[self.edges[e].to].state,
                StepState::Pending | StepState::Waiting | StepState::Skipped
            )
        })?;
        let e = &self.edges[edge];
        let never: Vec<&str> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == StepState::Skipped)
            .map(|(i, _)| self.nodes[i].label.as_str())
            .collect();
        Some(format!(
            "stalled: the bus lost {} (message {message}) from {} to {}; nobody resends it, so {} never ran",
            e.name,
            self.nodes[e.from].label,
            self.nodes[e.to].label,
            never.join(", ")
        ))
    }

    /// Whether `edge` may still deliver a trigger: its source is at work, or may yet start.
    fn can_arrive(&self, edge: usize, visiting: &mut HashSet<usize>) -> bool {
        let source = self.edges[edge].from;
        match self.steps[source].state {
            StepState::Running | StepState::Retrying | StepState::Waiting => true,
            StepState::Pending => {
                if !visiting.insert(source) {
                    return false; // a cycle nothing enters
                }
                let arriving = self.incoming[source]
                    .iter()
                    .any(|e| self.can_arrive(*e, visiting));
                arriving
                    || self
                        .undelivered
                        .keys()
                        .any(|(_, e)| self.edges[*e].to == source)
            }
            _ => self.undelivered.keys().any(|(_, e)| *e == edge),
        }
    }

    // ---- outcomes drawn from the seed ------------------------------------------------

    /// How attempt `attempt` of execution `execution` of `node` goes.
    pub fn plan(&self, node: usize, execution: u32, attempt: u32) -> AttemptPlan {
        let spec = &self.nodes[node];
        let fault = self
            .faults
            .service(&spec.service)
            .cloned()
            .unwrap_or_default();
        let latency = {
            let (min, max) = spec.latency().bounds();
            let drawn = min + self.draw(node, execution, attempt, 1) % (max - min + 1);
            (drawn as f64 * fault.slow.unwrap_or(1.0)).round() as u64
        };
        let failure = if fault.down || self.faults.fail_step.as_deref() == Some(spec.id.as_str()) {
            Some(FailureReason::Unavailable)
        } else if spec
            .fail_when
            .as_ref()
            .is_some_and(|f| f.matches(&self.input))
        {
            Some(FailureReason::Rejected)
        } else if unit(self.draw(node, execution, attempt, 2)) < spec.failure_rate.unwrap_or(0.0)
            || unit(self.draw(node, execution, attempt, 5)) < fault.flaky.unwrap_or(0.0)
        {
            Some(FailureReason::Error)
        } else {
            None
        };
        match spec.timeout_ms {
            Some(timeout) if latency > timeout => AttemptPlan {
                duration_ms: timeout,
                failure: Some(FailureReason::Timeout),
            },
            _ => AttemptPlan {
                duration_ms: latency,
                failure,
            },
        }
    }

    fn plan_compensation(&self, node: usize) -> AttemptPlan {
        let spec = &self.nodes[node];
        let fault = self
            .faults
            .service(&spec.service)
            .cloned()
            .unwrap_or_default();
        let (min, max) = spec.latency().bounds();
        let execution = self.steps[node].execution;
        let drawn = min + self.draw(node, execution, 0, 3) % (max - min + 1);
        AttemptPlan {
            duration_ms: (drawn as f64 * fault.slow.unwrap_or(1.0)).round() as u64,
            failure: if fault.down {
                Some(FailureReason::Unavailable)
            } else {
                (unit(self.draw(node, execution, 0, 4)) < spec.failure_rate.unwrap_or(0.0))
                    .then_some(FailureReason::Error)
            },
        }
    }

    /// A pseudo-random number for the bus's handling of one delivery.
    fn bus_draw(&self, message: u64, edge: usize, purpose: u64) -> u64 {
        splitmix(
            splitmix(self.seed ^ 0x6a09_e667_f3bc_c908 ^ (message << 20) ^ edge as u64) ^ purpose,
        )
    }

    /// A pseudo-random number that depends only on the seed and what it is for.
    fn draw(&self, node: usize, execution: u32, attempt: u32, purpose: u64) -> u64 {
        let mut h = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for byte in self.nodes[node].id.bytes() {
            h = splitmix(h ^ u64::from(byte));
        }
        splitmix(h ^ (u64::from(execution) << 40) ^ (u64::from(attempt) << 8) ^ purpose)
    }

    // ---- state changes: the only place the state is mutated ----------------------------

    fn emit(&mut self, event: RunEvent) {
        self.apply(&event);
        self.out.push(Action::Record(event));
    }

    /// Applies one history event to the state. Used for new events and for replay.
    pub fn apply(&mut self, event: &RunEvent) {
        use RunEvent::*;
        let idx = |core: &Self, id: &str| core.index.get(id).copied();
        self.applied += 1;
        match event {
            RunStarted { faults, .. } | FaultsChanged { faults } => self.faults = faults.clone(),
            OrchestratorCrashed {
                for_ms,
                standby_lease_ms,
            } => {
                self.orchestrator_down = Some(OrchestratorCrash {
                    at_ms: 0,
                    for_ms: *for_ms,
                    standby_lease_ms: *standby_lease_ms,
                })
            }
            OrchestratorRecovered { .. } => {
                // What waited is handled right after, in the same batch of records.
                self.orchestrator_down = None;
                self.unheard.clear();
            }
            EventDropped { message, edge, .. } => {
                if let Some(e) = self.edges.iter().position(|x| x.id == *edge) {
                    self.undelivered.remove(&(*message, e));
                    self.dropped.push((*message, e));
                }
            }
            CommandSent { message, .. } => {
                self.counts.commands += 1;
                self.next_message = self.next_message.max(message + 1);
            }
            ReplyReceived { .. } => self.counts.replies += 1,
            EventPublished {
                message,
                from,
                name,
                outcome,
                ..
            } => {
                self.counts.events += 1;
                self.next_message = self.next_message.max(message + 1);
                if let Some(from) = idx(self, from) {
                    let hops = self.steps[from].hops + 1;
                    let subscribers: Vec<usize> = self
                        .subscriptions
                        .publications(from, *outcome)
                        .iter()
                        .filter(|(n, _)| n == name)
                        .flat_map(|(_, subs)| subs.iter().copied())
                        .collect();
                    for edge in subscribers {
                        self.undelivered.insert((*message, edge), hops);
                    }
                }
            }
            EventDelivered {
                message,
                edge,
                hops,
                ..
            } => {
                self.counts.deliveries += 1;
                if let Some(e) = self.edges.iter().position(|x| x.id == *edge) {
                    self.undelivered.remove(&(*message, e));
                    self.delivered.insert((*message, e), *hops);
                }
            }
            StepWaiting { node, edge, .. } => {
                if let (Some(n), Some(e)) = (
                    idx(self, node),
                    self.edges.iter().position(|x| x.id == *edge),
                ) {
                    self.steps[n].state = StepState::Waiting;
                    self.steps[n].arrived.insert(e);
                }
            }
            StepStarted {
                node,
                attempt,
                execution,
                owner,
                hops,
                cause,
            } => {
                if let Some(n) = idx(self, node) {
                    let step = &mut self.steps[n];
                    if *attempt == 1 {
                        self.executions += 1;
                        step.arrived.clear();
                    }
                    step.state = StepState::Running;
                    step.attempt = *attempt;
                    step.execution = *execution;
                    step.owner = *owner;
                    step.hops = *hops;
                    if let Some(message) = cause.message() {
                        step.seen.insert(message);
                    }
                }
            }
            AttemptFailed {
                node,
                attempt,
                reason,
            } => {
                if let Some(n) = idx(self, node) {
                    let waits = self.failure_waits(n, *attempt);
                    let step = &mut self.steps[n];
                    step.last_reason = Some(*reason);
                    step.failure_unheard = waits;
                }
            }
            RetryScheduled { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Retrying;
                    self.steps[n].failure_unheard = false;
                }
            }
            StepSucceeded { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Succeeded;
                    if self.orchestrator_down.is_some()
                        && self.hears_from(n)
                        && !self.unheard.contains(&n)
                    {
                        self.unheard.push(n);
                    }
                    if self.steps[n].owner == Owner::Orchestrator
                        && self.nodes[n].compensation.is_some()
                    {
                        self.completed.retain(|&c| c != n);
                        self.completed.push(n);
                    }
                }
            }
            StepFailed { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Failed;
                    self.steps[n].failure_unheard = false;
                }
            }
            FailureUnhandled { diagnosis, .. } => self.unhandled.push(diagnosis.clone()),
            SagaStarted { compensate, .. } => {
                self.saga = Some(compensate.iter().filter_map(|id| idx(self, id)).collect());
                self.saga_ran = true;
            }
            CompensationStarted { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Compensating;
                }
            }
            StepCompensated { node, .. } | CompensationFailed { node, .. } => {
                if let Some(n) = idx(self, node) {
                    let failed = matches!(event, CompensationFailed { .. });
                    self.steps[n].state = if failed {
                        StepState::Failed
                    } else {
                        StepState::Compensated
                    };
                    self.compensation_failed |= failed;
                    if let Some(queue) = self.saga.as_mut() {
                        queue.retain(|&q| q != n);
                        if queue.is_empty() {
                            self.saga = None;
                        }
                    }
                }
            }
            StepSkipped { node } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Skipped;
                }
            }
            StepCancelled { node } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Cancelled;
                }
            }
            CancelRequested => self.cancelled = true,
            RunawayStopped { reason } => {
                self.runaway = true;
                self.unhandled.insert(0, reason.clone());
            }
            RunResumed { .. } => {}
            RunCompleted { status, .. } => self.status = Some(*status),
        }
    }
}

fn reason_text(reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::Error => "service error",
        FailureReason::Rejected => "rejected by its input",
        FailureReason::Timeout => "timed out",
        FailureReason::Unavailable => "service down",
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A number in [0, 1) from 53 random bits.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}
