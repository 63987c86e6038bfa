//! What happens in a run: the history records the engine appends and the live stream sends,
//! and the fold of those records into the run's current view (used by the API and the UI).
//!
//! (About 520 lines, most of them the documented variants of [`RunEvent`]: the history's
//! vocabulary stays in one place, next to the fold that reads it.)

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::workflow::Outcome;

/// Where a step is in its life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    #[default]
    Pending,
    /// A `join: all` step that has some of its triggers and waits for the rest.
    Waiting,
    Running,
    /// An attempt failed; the next one is scheduled.
    Retrying,
    Succeeded,
    Failed,
    Compensating,
    Compensated,
    Skipped,
    Cancelled,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Waiting => "waiting",
            StepState::Running => "running",
            StepState::Retrying => "retrying",
            StepState::Succeeded => "succeeded",
            StepState::Failed => "failed",
            StepState::Compensating => "compensating",
            StepState::Compensated => "compensated",
            StepState::Skipped => "skipped",
            StepState::Cancelled => "cancelled",
        }
    }

    /// Work is under way (or scheduled) for the step.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            StepState::Running | StepState::Retrying | StepState::Compensating
        )
    }

    /// The step has finished one execution (it may still be triggered again by a cycle).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            StepState::Succeeded
                | StepState::Failed
                | StepState::Compensated
                | StepState::Skipped
                | StepState::Cancelled
        )
    }
}

/// Where a run is in its life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Running,
    /// Ended with no failure left unhandled.
    Completed,
    /// Ended with an unhandled failure, a failed compensation, or a runaway stop.
    Failed,
    /// A saga undid the completed steps after a failure.
    Compensated,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Compensated,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Compensated => "compensated",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != RunStatus::Running
    }
}

/// Who is responsible for a step's retries, timeout and failure: the run's orchestrator
/// (the step was commanded) or the step itself (it reacted to an event).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    #[default]
    Orchestrator,
    #[serde(rename = "self")]
    Itself,
}

/// Why a step started: the causality the live view draws.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum Cause {
    /// The step has no incoming edge: the run's start triggered it.
    Start,
    /// The orchestrator sent it command `message` along `edge`, after `from` finished.
    Command {
        edge: String,
        from: String,
        message: u64,
    },
    /// It received event `name` (message `message`), published by `from`, through its
    /// subscription `edge`.
    Event {
        edge: String,
        from: String,
        name: String,
        message: u64,
    },
    /// A retry of the same execution, scheduled by its owner.
    Retry { owner: Owner },
}

impl Cause {
    pub fn message(&self) -> Option<u64> {
        match self {
            Cause::Command { message, .. } | Cause::Event { message, .. } => Some(*message),
            _ => None,
        }
    }
}

/// Why an attempt failed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureReason {
    /// The simulated service failed (its `failure_rate`).
    Error,
    /// The input matched the step's `fail_when`.
    Rejected,
    /// The attempt took longer than `timeout_ms`.
    Timeout,
    /// The service is down (a fault injected on purpose), or the step is made to fail.
    Unavailable,
    /// The real service the step is bound to declined the work (a `4xx` reply, or a
    /// declared business failure): the failure route follows at once, without retries.
    Declined,
}

/// Messages of a run, by kind — what the trade-off lab compares.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    /// Commands the orchestrator sent.
    pub commands: u64,
    /// Replies and completion reports the orchestrator received.
    pub replies: u64,
    /// Events published on the bus.
    pub events: u64,
    /// Event deliveries to subscribers (one publication can have many).
    pub deliveries: u64,
    /// Queries a subscriber sent for run data its event did not carry (each one a request
    /// and a reply between two services).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queries: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl MessageCounts {
    /// Messages that passed through the orchestrator.
    pub fn orchestrator(&self) -> u64 {
        self.commands + self.replies
    }

    /// Every message of the run: commands, replies, events published and delivered, and
    /// each query's request and reply.
    pub fn total(&self) -> u64 {
        self.commands + self.replies + self.events + self.deliveries + 2 * self.queries
    }

    /// `other`'s counts added to these (summing runs).
    pub fn add(&mut self, other: &MessageCounts) {
        self.commands += other.commands;
        self.replies += other.replies;
        self.events += other.events;
        self.deliveries += other.deliveries;
        self.queries += other.queries;
    }
}

/// Where a message a step waits for came from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageSource {
    /// Sent to the run from outside: the editor's button or `POST /api/runs/{id}/messages`.
    Outside,
    /// The simulation: it arrived by itself (the wait's `arrives_ms`).
    Simulated,
    /// Published on the bus by another step.
    Event,
}

/// What a run was started with: shared, not copied, by everything that holds it (its
/// first record, its summaries, its story, the engine's copy).
pub type RunInput = std::sync::Arc<serde_json::Value>;

/// A loop a decision weighed (see [`RunEvent::Decided`]): the bounded edge, the step it
/// leads back to, the iterations that had run and its bound.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopTurn {
    pub edge: String,
    pub to: String,
    pub done: u32,
    pub max: u32,
}

impl LoopTurn {
    /// Whether its iterations are spent (the loop was not taken again).
    pub fn spent(&self) -> bool {
        self.done >= self.max
    }
}

/// One fact in a run's history. Every state change is one of these, appended to the
/// history before anything acts on it; replaying them rebuilds the run exactly.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RunEvent {
    RunStarted {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        input: RunInput,
        seed: u64,
        speed: f64,
        /// What is broken on purpose from the start.
        #[serde(default, skip_serializing_if = "Faults::is_none")]
        faults: Faults,
    },
    /// The faults in effect changed while the run was going (the lab's "break things").
    FaultsChanged {
        faults: Faults,
    },
    /// The orchestrator crashed: commands are not sent and replies wait until it is back.
    OrchestratorCrashed {
        /// How long it stays down.
        for_ms: u64,
        /// A standby takes over once the crashed one's lease has run out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        standby_lease_ms: Option<u64>,
    },
    /// The orchestrator is back (restarted, or the standby took over): it rebuilt its state
    /// from the run's history (`records` of them) and handles what waited.
    OrchestratorRecovered {
        down_ms: u64,
        standby: bool,
        records: u64,
        /// Replies and retries that waited for it.
        waited: u32,
    },
    /// The orchestrator sent `to` a command along `edge`.
    CommandSent {
        message: u64,
        edge: String,
        from: String,
        to: String,
        hops: u32,
    },
    /// The orchestrator heard from `from`: the reply to its command, or (`report`) the
    /// completion report of an event-started step whose successors are commanded.
    ReplyReceived {
        from: String,
        outcome: Outcome,
        report: bool,
    },
    /// `from` published `name` on the event bus; `subscribers` are the steps that will hear
    /// it (possibly none).
    EventPublished {
        message: u64,
        from: String,
        name: String,
        outcome: Outcome,
        subscribers: Vec<String>,
        /// The run data the event carries (see `Edge::payload`).
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        payload: serde_json::Map<String, serde_json::Value>,
    },
    /// The bus lost event message `message` on its way to `to` (a bus fault): `to` will
    /// never hear it.
    EventDropped {
        message: u64,
        edge: String,
        from: String,
        name: String,
        to: String,
    },
    /// The bus delivered event message `message` to subscriber `to` through `edge`.
    EventDelivered {
        message: u64,
        edge: String,
        from: String,
        name: String,
        to: String,
        hops: u32,
        /// A second delivery of a message already delivered (at-least-once delivery).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
    },
    /// A `join: all` step got one of its triggers and waits for the others.
    StepWaiting {
        node: String,
        edge: String,
        waiting_for: Vec<String>,
    },
    StepStarted {
        node: String,
        attempt: u32,
        /// Counts the step's executions in this run (cycles and duplicates start it again).
        execution: u32,
        owner: Owner,
        hops: u32,
        cause: Cause,
    },
    AttemptFailed {
        node: String,
        attempt: u32,
        reason: FailureReason,
    },
    RetryScheduled {
        node: String,
        /// The attempt that will run.
        attempt: u32,
        delay_ms: u64,
        by: Owner,
    },
    /// The orchestrator decided which of `node`'s conditional edges to follow on `outcome`:
    /// `taken` (edge ids; none when no condition held and there was no default edge), the
    /// run data the conditions read (`saw`), and why it could not decide, when it could not.
    Decided {
        node: String,
        outcome: Outcome,
        exclusive: bool,
        taken: Vec<String>,
        /// The steps the edges taken lead to, in the same order.
        to: Vec<String>,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        saw: serde_json::Map<String, serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
        /// The publishing service decided, not the orchestrator: `node` publishes only the
        /// events of the edges taken.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        publisher: bool,
        /// The loops among the branches (edges with `max_iterations`): how many of their
        /// iterations had run before this decision. A loop whose iterations are spent was
        /// not taken.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        loops: Vec<LoopTurn>,
    },
    /// Subscriber `to` checked its condition on event `message`, delivered through `edge`:
    /// it acts on it when the condition `passed`, else drops it. `saw`: the data it read.
    EventFiltered {
        message: u64,
        edge: String,
        to: String,
        name: String,
        passed: bool,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        saw: serde_json::Map<String, serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
    },
    /// For-each step `node` starts its attempt's work on the `items` items of run data
    /// field `field`, all at once; `problem`: why it cannot (the field is not a list, or a
    /// list longer than the limit) — the attempt then fails, rejected by its input.
    ItemsStarted {
        node: String,
        field: String,
        items: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
    },
    /// The items of for-each step `node`'s attempt are done: `failed` lists the items (from
    /// 0) that failed or ran past the step's timeout; the slowest took `slowest_ms`.
    ItemsDone {
        node: String,
        items: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        failed: Vec<u32>,
        slowest_ms: u64,
    },
    /// Step `node` waits: for `message` (failing after `timeout_ms` when it has one), or for
    /// `for_ms` (a timer).
    WaitStarted {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Sub-flow step `node` started run `run` of stored workflow `workflow` as its child
    /// (with the run data as its input) and waits for its outcome.
    ChildStarted {
        node: String,
        run: String,
        workflow: String,
        /// The child's input: this run's data when it started.
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        input: serde_json::Map<String, serde_json::Value>,
    },
    /// Step `node`'s child run `run` (or the undo run of its child) ended `status`, for
    /// `diagnosis` when it did not complete; what a completed child wrote into its run data
    /// (`wrote`) joins this run's.
    ChildEnded {
        node: String,
        run: String,
        status: RunStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diagnosis: Option<String>,
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        wrote: serde_json::Map<String, serde_json::Value>,
    },
    /// Step `node`'s attempt `attempt` called the real service it is bound to: how it
    /// answered (`status`, none when no answer came: refused, timed out, unreadable), how
    /// long it took, and what was wrong (`problem`: the service's declared failure, an error
    /// body's words, why no answer came). Headers are never recorded.
    ServiceCalled {
        node: String,
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        took_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
        /// A call of the saga undoing the step: its compensation action (`attempt` counts
        /// the undo calls).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undo: Option<String>,
    },
    /// The saga compensates step `node`'s completed child run `child` as a unit: undo run
    /// `run` undoes the child's completed steps.
    ChildUndoStarted {
        node: String,
        child: String,
        run: String,
    },
    /// This run is an undo run: it compensates, newest first, the completed steps of run
    /// `of` (a sub-flow's child whose parent's saga unwinds), and does nothing else.
    UndoStarted {
        of: String,
        compensate: Vec<String>,
    },
    /// Message `name` reached the run, from `source`, with `data` for the run data. `node`:
    /// the waiting step it ends; none when no step waits for it yet (the next step to wait
    /// for it takes it at once).
    MessageReceived {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        source: MessageSource,
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Subscriber `node` got event `message` through `edge` without run data it needs
    /// (`fields`) and asks the service of step `owner`, which wrote them, for them.
    QuerySent {
        message: u64,
        edge: String,
        name: String,
        node: String,
        owner: String,
        fields: Vec<String>,
    },
    /// `owner` answered `node`'s query with `answer` (fields it does not hold are absent).
    QueryAnswered {
        message: u64,
        edge: String,
        node: String,
        owner: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        answer: serde_json::Map<String, serde_json::Value>,
    },
    StepSucceeded {
        node: String,
        attempt: u32,
        /// What the step wrote into the run data (its `writes`, choices drawn from the
        /// seed), by field; recorded so that a replay rebuilds the run data exactly.
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        wrote: serde_json::Map<String, serde_json::Value>,
    },
    /// The last attempt failed.
    StepFailed {
        node: String,
        attempts: u32,
        reason: FailureReason,
    },
    /// A failure nobody handles: the run will end `failed` with this diagnosis.
    FailureUnhandled {
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<String>,
        diagnosis: String,
    },
    /// The orchestrator undoes, in this order, the steps it commanded that succeeded.
    SagaStarted {
        failed: String,
        compensate: Vec<String>,
    },
    CompensationStarted {
        node: String,
        action: String,
    },
    StepCompensated {
        node: String,
        action: String,
    },
    CompensationFailed {
        node: String,
        action: String,
    },
    /// The run ended before this step was ever triggered.
    StepSkipped {
        node: String,
    },
    StepCancelled {
        node: String,
    },
    CancelRequested,
    /// A runaway limit was reached; the run is stopped.
    RunawayStopped {
        reason: String,
    },
    /// The server restarted and resumed the run from its history; work that was in flight
    /// is sent again under the same idempotency key.
    RunResumed {
        resent: Vec<String>,
        /// The process that resumed it, and the one that held it before when that was
        /// another (a takeover: the other's lease ran out).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Takeover>,
    },
    RunCompleted {
        status: RunStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diagnosis: Option<String>,
        messages: MessageCounts,
        /// The run's outcome in one line, for the runs list (the first thing its story
        /// tells, see [`super::story`]); none when nothing happened but the steps' work.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<super::story::StoryLine>,
    },
}

impl RunEvent {
    /// The step whose state this event changes, and the new state.
    pub fn step_change(&self) -> Option<(&str, StepState)> {
        use RunEvent::*;
        match self {
            StepWaiting { node, .. } => Some((node, StepState::Waiting)),
            StepStarted { node, .. } => Some((node, StepState::Running)),
            RetryScheduled { node, .. } => Some((node, StepState::Retrying)),
            StepSucceeded { node, .. } => Some((node, StepState::Succeeded)),
            StepFailed { node, .. } => Some((node, StepState::Failed)),
            CompensationStarted { node, .. } => Some((node, StepState::Compensating)),
            StepCompensated { node, .. } => Some((node, StepState::Compensated)),
            CompensationFailed { node, .. } => Some((node, StepState::Failed)),
            StepSkipped { node } => Some((node, StepState::Skipped)),
            StepCancelled { node } => Some((node, StepState::Cancelled)),
            _ => None,
        }
    }
}

/// Which process resumed a run, at which epoch of its ownership, and from which process.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Takeover {
    pub process: String,
    pub epoch: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl Takeover {
    /// The process that held the run before, when it was another one.
    pub fn other(&self) -> Option<&str> {
        self.from.as_deref().filter(|from| *from != self.process)
    }
}

/// A history row as stored and streamed: the event with its place and time.
///
/// On the wire a step-state change also carries `node` and `state` at the top level, so a
/// client that only wants states needs no knowledge of event types.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Strictly increasing within a run, starting at 1, without gaps.
    pub seq: u64,
    /// Unix time in milliseconds.
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StepState>,
    #[serde(flatten)]
    pub event: RunEvent,
}

impl RunRecord {
    pub fn new(seq: u64, at_ms: i64, event: RunEvent) -> Self {
        let state = event.step_change().map(|(_, s)| s);
        RunRecord {
            seq,
            at_ms,
            state,
            event,
        }
    }
}

/// A step as the run sees it now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub state: StepState,
    /// The attempt number of the current (or last) execution.
    pub attempts: u32,
    /// How many times the step was executed in this run.
    #[serde(default)]
    pub executions: u32,
    /// The current attempt failed and nothing was decided yet (a retry or the step's
    /// failure): the orchestrator that decides is down.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attempt_failed: bool,
}

/// The current picture of a run, folded from its history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub status: RunStatus,
    pub steps: BTreeMap<String, StepView>,
    #[serde(default)]
    pub messages: MessageCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// The last record folded in; a live client resumes after it.
    pub last_seq: u64,
    /// The orchestrator has crashed and is not back yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub orchestrator_down: bool,
    /// Steps the orchestrator commanded and has not heard back from yet.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub awaiting_reply: BTreeSet<String>,
    /// Steps waiting now (for a message or a time), by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waiting: BTreeMap<String, Waiting>,
    /// The child runs of sub-flow steps, by step id: the latest, and the undo run that
    /// compensates it, once there is one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, ChildLink>,
}

/// A sub-flow step's child run: its id and workflow, how it ended (once it has), and the
/// undo run of a saga that compensated it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChildLink {
    pub run: String,
    pub workflow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
}

/// A wait under way: what for, since when (Unix ms, the record's time) and how long.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Simulated ms: a timer's time, or a message wait's timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
    pub since_ms: i64,
}

impl RunView {
    /// A view with every node of the workflow pending.
    pub fn new<'a>(node_ids: impl IntoIterator<Item = &'a str>) -> Self {
        RunView {
            status: RunStatus::Running,
            steps: node_ids
                .into_iter()
                .map(|id| (id.to_string(), StepView::default()))
                .collect(),
            ..Default::default()
        }
    }

    /// Whether `node` has ended its commanded attempt (done, or failed) but its reply waits
    /// for a crashed orchestrator (so what the orchestrator would decide next has not
    /// happened).
    pub fn reply_waiting(&self, node: &str) -> bool {
        self.orchestrator_down
            && self.awaiting_reply.contains(node)
            && self.steps.get(node).is_some_and(|s| {
                matches!(s.state, StepState::Succeeded | StepState::Failed)
                    || (s.state == StepState::Running && s.attempt_failed)
            })
    }

    /// Folds one record in. Records at or before `last_seq` are ignored, so replaying an
    /// overlapping stretch of history is harmless.
    pub fn apply(&mut self, record: &RunRecord) {
        if record.seq <= self.last_seq {
            return;
        }
        self.last_seq = record.seq;
        match &record.event {
            RunEvent::StepStarted {
                node,
                attempt,
                execution,
                ..
            } => {
                let step = self.steps.entry(node.clone()).or_default();
                step.state = StepState::Running;
                step.attempts = *attempt;
                step.executions = *execution;
                step.attempt_failed = false;
            }
            RunEvent::AttemptFailed { node, .. } => {
                self.steps.entry(node.clone()).or_default().attempt_failed = true;
            }
            RunEvent::CommandSent { to, .. } => {
                self.messages.commands += 1;
                self.awaiting_reply.insert(to.clone());
            }
            RunEvent::ReplyReceived { from, report, .. } => {
                self.messages.replies += 1;
                if !report {
                    self.awaiting_reply.remove(from);
                }
            }
            RunEvent::EventPublished { .. } => self.messages.events += 1,
            RunEvent::EventDelivered { .. } => self.messages.deliveries += 1,
            RunEvent::QuerySent { .. } => self.messages.queries += 1,
            RunEvent::WaitStarted {
                node,
                message,
                for_ms,
                timeout_ms,
            } => {
                self.waiting.insert(
                    node.clone(),
                    Waiting {
                        message: message.clone(),
                        for_ms: for_ms.or(*timeout_ms),
                        since_ms: record.at_ms,
                    },
                );
            }
            RunEvent::ChildStarted {
                node,
                run,
                workflow,
                ..
            } => {
                self.children.insert(
                    node.clone(),
                    ChildLink {
                        run: run.clone(),
                        workflow: workflow.clone(),
                        status: None,
                        undo: None,
                    },
                );
            }
            RunEvent::ChildEnded {
                node, run, status, ..
            } => {
                if let Some(child) = self.children.get_mut(node).filter(|c| &c.run == run) {
                    child.status = Some(*status);
                }
            }
            RunEvent::UndoStarted { compensate, .. } => {
                for node in compensate {
                    self.steps.entry(node.clone()).or_default().state = StepState::Succeeded;
                }
            }
            RunEvent::ChildUndoStarted { node, run, .. } => {
                if let Some(child) = self.children.get_mut(node) {
                    child.undo = Some(run.clone());
                }
            }
            RunEvent::FailureUnhandled { diagnosis, .. } if self.diagnosis.is_none() => {
                self.diagnosis = Some(diagnosis.clone());
            }
            RunEvent::OrchestratorCrashed { .. } => self.orchestrator_down = true,
            RunEvent::OrchestratorRecovered { .. } => self.orchestrator_down = false,
            RunEvent::RunCompleted {
                status, diagnosis, ..
            } => {
                self.orchestrator_down = false;
                self.awaiting_reply.clear();
                self.waiting.clear();
                self.status = *status;
                if diagnosis.is_some() {
                    self.diagnosis = diagnosis.clone();
                }
            }
            other => {
                if let Some((node, state)) = other.step_change() {
                    let step = self.steps.entry(node.to_string()).or_default();
                    step.state = state;
                    step.attempt_failed = false;
                    // Whatever the step does next, it no longer waits (a retry waits anew).
                    self.waiting.remove(node);
                }
            }
        }
    }
}
