//! The pure heart of a run: one input in, the implied history events and timers out.
//!
//! Event sourcing, as Restate does it: [`RunCore::handle`] only *decides*; every change of
//! state happens in [`RunCore::apply`], called for each event the core emits. Replaying a
//! stored history through `apply` therefore rebuilds the exact state, and
//! [`RunCore::resume`] re-arms whatever was in flight — crash recovery is a replay.
//! No I/O, no clock, no randomness of its own: outcomes are drawn from the run's seed, so
//! the same workflow, input and seed always give the same latencies and failures, whatever
//! the coordination style or the scheduling.
//!
//! - [`decide`]: what an input means — triggers, attempts, outcomes, the orchestrator's
//!   outages, settling the run (emits events, changes nothing itself).
//! - [`apply`]: every change of state, one history event at a time.
//! - [`resume`]: re-arming what was in flight after a replay (crash recovery).
//! - [`routes`]: the `(step, outcome) → edges` table — the orchestrator's commands and the
//!   bus's subscriptions — and following it.
//! - [`saga`]: compensating, newest first, what the orchestrator had completed.
//! - [`settle`]: whether the run is over, and the diagnosis that says why.
//! - [`draws`]: the seeded draws: latencies, failures, the bus's losses and duplicates.
//! - [`script`]: a schedule forced instead of the draws (which attempts fail, which
//!   deliveries the bus loses, duplicates or holds back), for the explorer.
//!
//! One field lives outside `apply`: `stalled`, the inputs held back while the orchestrator
//! is down. It is derived, not recorded: `decide` queues into it and drains it when the
//! orchestrator is back, and `resume` rebuilds it from what the history says the
//! orchestrator has not heard (`unheard`, `failure_unheard`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use app::model::faults::{OrchestratorCrash, ServiceFault};
use app::model::story::Story;
use app::model::{
    Cause, Decide, EdgeKind, FailureReason, Faults, Join, MessageCounts, Node, Outcome, Owner,
    RunEvent, RunInput, RunStatus, StepState, Takeover, Workflow,
};

mod apply;
mod decide;
mod draws;
mod resume;
mod routes;
mod saga;
pub mod script;
mod settle;

pub use self::routes::{Publication, Routes};

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
    /// The backoff before undo call `attempt` of `node` (through its real service) has
    /// elapsed.
    UndoCallDue {
        node: usize,
        attempt: u32,
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
    /// Step `owner`'s service answers the query the subscriber of `edge` sent about event
    /// `message` (for run data the event did not carry).
    Answered {
        message: u64,
        edge: usize,
        owner: usize,
    },
    /// The simulated message a waiting step waits for arrives by itself.
    Arrives {
        node: usize,
        execution: u32,
        attempt: u32,
    },
    /// A message reaches the run from outside (the editor's button, the API), with data
    /// for the run data.
    Message {
        name: String,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// The real service that attempt `attempt` of `node` called has answered (or could not
    /// be reached): see [`Called`].
    CallAnswered {
        node: usize,
        execution: u32,
        attempt: u32,
        called: Box<Called>,
    },
    /// The lab's simulation has nothing left to deliver: a step still waiting for a
    /// message will never get it.
    NothingMoreComes,
    /// Child run `run` (a sub-flow step's, or the undo run of one) ended `status`; what a
    /// completed child wrote into its run data is `wrote`.
    ChildEnded {
        run: String,
        status: RunStatus,
        diagnosis: Option<String>,
        wrote: serde_json::Map<String, serde_json::Value>,
    },
    /// The first input of an undo run (instead of [`Input::Start`]): compensate `steps`
    /// (completed steps of run `of`, newest first) and nothing else.
    Undo {
        of: String,
        steps: Vec<String>,
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

/// How a call to a real service went, as the driver saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Called {
    /// The reply's HTTP status; none when no reply came.
    pub status: Option<u16>,
    pub took_ms: u64,
    pub answer: CallAnswer,
}

/// What a call's reply means to the run (see [`app::model::call`]).
#[derive(Clone, Debug, PartialEq)]
pub enum CallAnswer {
    /// Success: what the step writes, and (in choreography) the events it publishes.
    Done {
        writes: serde_json::Map<String, serde_json::Value>,
        publish: Option<Vec<String>>,
    },
    /// A business failure (a `4xx`, a declared `failure`): the failure route, no retry.
    Declined { failure: String },
    /// No usable answer (a `5xx`, a timeout, a refused connection, an unreadable body):
    /// retried per the step's policy.
    Broken { timed_out: bool, problem: String },
}

impl CallAnswer {
    /// What was wrong, as the history records it (none for a success).
    pub fn problem(&self) -> Option<String> {
        match self {
            CallAnswer::Done { .. } => None,
            CallAnswer::Declined { failure } => Some(failure.clone()),
            CallAnswer::Broken { problem, .. } => Some(problem.clone()),
        }
    }
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
    /// Start child run `run` of stored workflow `workflow` for sub-flow step `node`, with
    /// `input` and `seed` — unless it exists already (then, if it has ended, feed back its
    /// [`Input::ChildEnded`]).
    StartChild {
        node: usize,
        run: String,
        workflow: String,
        input: serde_json::Map<String, serde_json::Value>,
        seed: u64,
    },
    /// Start undo run `run` for step `node`'s completed child run `child`, unless it exists
    /// already (then, if it has ended, feed back its [`Input::ChildEnded`]).
    UndoChild {
        node: usize,
        child: String,
        run: String,
    },
    /// Cancel child run `run`: its step no longer waits for it.
    CancelChild { run: String },
    /// Call the real service `node` is bound to with `request` (sent again, under the same
    /// idempotency key, when a resumed run finds the attempt under way); its answer comes
    /// back as [`Input::CallAnswered`].
    Call {
        node: usize,
        execution: u32,
        attempt: u32,
        request: Box<app::model::call::CallRequest>,
        /// Where to, and the headers' environment variables.
        binding: Box<app::model::call::ServiceCall>,
        /// The step's timeout: no answer within it is a timed-out attempt.
        timeout_ms: Option<u64>,
    },
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
    /// A for-each step's attempt under way: how many items it works on, or that its list
    /// was refused (from `ItemsStarted`).
    items: u32,
    items_refused: bool,
    /// A sub-flow step's child run of its latest attempt, and the undo run compensating it.
    child: Option<String>,
    /// The child's input, as recorded when it started (a resumed run starts it with the
    /// same).
    child_input: serde_json::Map<String, serde_json::Value>,
    undo: Option<String>,
    /// What the completed child wrote into its run data (written by the step on success).
    child_wrote: serde_json::Map<String, serde_json::Value>,
    /// When its attempt under way started (Unix ms, from the `StepStarted` record, when the
    /// replay gave record times): how much of a wait's time a resumed run has left.
    since_ms: Option<i64>,
    /// The event message (and its name) that started its execution under way, if an event
    /// did: what a real service bound to it is told it received.
    trigger: Option<(u64, String)>,
    /// The fields its last success wrote (what its events carry by default, with those it
    /// declares: a real service may write others).
    wrote_fields: Vec<String>,
    /// The events its real service named in its reply, while that success is followed.
    publish_only: Option<Vec<String>>,
    /// While the saga undoes it through its real service: the undo calls answered so far
    /// (the one under way is the next).
    undo_calls: u32,
}

struct EdgeInfo {
    id: String,
    from: usize,
    to: usize,
    name: String,
    /// Its condition is applied by the orchestrator or the publisher (not on delivery).
    decided_at_source: bool,
    /// Its subscriber applies its condition to each event it hears.
    filtered: bool,
    /// The fields its event carries, when the edge lists them.
    payload: Option<Vec<String>>,
    /// A loop's bound: at most this many times in a run.
    max_iterations: Option<u32>,
}

/// A delivered event whose subscriber asked for run data the event did not carry: the
/// services it still waits for, and what those that answered said.
#[derive(Clone, Debug, Default)]
struct Querying {
    hops: u32,
    waiting: Vec<usize>,
    answers: serde_json::Map<String, serde_json::Value>,
}

pub struct RunCore {
    /// The run's id (what its child runs' ids are made from); empty in the lab.
    id: String,
    nodes: Vec<Node>,
    edges: Vec<EdgeInfo>,
    index: HashMap<String, usize>,
    incoming: Vec<Vec<usize>>,
    roots: Vec<usize>,
    /// The command edges and the event subscriptions, by (step, outcome).
    routes: Routes,
    input: RunInput,
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
    /// Why it ended as it did (from `RunCompleted`).
    diagnosis: Option<String>,
    out: Vec<Action>,

    /// What is broken on purpose (from `RunStarted` and `FaultsChanged`).
    faults: Faults,
    /// While the orchestrator is down: how long the outage lasts, and whether a standby
    /// ends it.
    orchestrator_down: Option<OrchestratorCrash>,
    /// Inputs that need the orchestrator and arrived while it was down, in order. Derived,
    /// not recorded (see the module's doc): `resume` rebuilds it after a replay.
    stalled: Vec<Input>,
    /// Events the bus lost: (message, subscription edge).
    dropped: Vec<(u64, usize)>,
    /// Steps that succeeded while the orchestrator was down and that it has not heard of
    /// yet (rebuilt by replay, so a resumed run still delivers their replies).
    unheard: Vec<usize>,
    /// History records applied so far (what a recovering orchestrator rebuilds from).
    applied: u64,
    /// What happened so far, in words: the outcome line `RunCompleted` carries.
    story: Story,
    /// What the steps wrote into the run data, over the input's fields (applied from
    /// `StepSucceeded`, so a replay rebuilds it). The input itself is not copied: most runs
    /// write nothing.
    written: serde_json::Map<String, serde_json::Value>,
    /// Each edge's condition, read (`None`: none, or one that cannot be read — the
    /// validator refuses those before a run starts).
    conditions: Vec<Option<std::sync::Arc<app::model::condition::Condition>>>,
    /// Which step owns each run data field a step writes (the first that writes it); the
    /// input's fields belong to the step a run starts at.
    owner_of: HashMap<String, usize>,
    /// What each event carries, by message (only those that carry something).
    payloads: HashMap<u64, serde_json::Map<String, serde_json::Value>>,
    /// Delivered events whose subscriber waits for the answers to its queries.
    querying: BTreeMap<(u64, usize), Querying>,
    /// What a subscriber's queries about an event brought back, by (message, subscriber
    /// step): with the event's payload, what a real service bound to it is sent.
    answered: HashMap<(u64, usize), serde_json::Map<String, serde_json::Value>>,
    /// Messages that reached the run before any step waited for them, by name, in order.
    inbox: Vec<String>,
    /// How many times each edge with a loop bound was followed (applied from the commands
    /// sent and the events published through it).
    iterations: HashMap<usize, u32>,
    /// Whether any edge has a loop bound (most flows have none: nothing to count).
    loops: bool,
    /// The time of the history record being replayed (Unix ms; [`RunCore::apply_record`]).
    clock_ms: Option<i64>,
    /// A schedule forced instead of the seed's failures and bus faults (the explorer's).
    script: Option<std::sync::Arc<script::Script>>,
    /// Steps bound to a real service call it ([`RunCore::with_real_calls`]).
    real_calls: bool,
}

impl RunCore {
    pub fn new(workflow: &Workflow, input: impl Into<RunInput>, seed: u64, speed: f64) -> Self {
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
                decided_at_source: e.decided_at_source(),
                filtered: e.filtered_by_subscriber(),
                payload: e.payload.clone(),
                max_iterations: e.max_iterations,
                id: e.id.clone(),
                from: index[&e.from],
                to: index[&e.to],
                name: match e.kind {
                    EdgeKind::Event => {
                        Workflow::event_name_from(e, &workflow.nodes[index[&e.from]].label)
                    }
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
        let conditions = workflow
            .edges
            .iter()
            .map(|e| {
                e.condition
                    .as_deref()
                    .and_then(|c| app::model::condition::Condition::shared(c).ok())
            })
            .collect();
        let mut owner_of = HashMap::new();
        for (i, node) in workflow.nodes.iter().enumerate() {
            for field in node.writes.keys() {
                owner_of.entry(field.clone()).or_insert(i);
            }
        }
        RunCore {
            id: String::new(),
            owner_of,
            payloads: HashMap::new(),
            querying: BTreeMap::new(),
            answered: HashMap::new(),
            inbox: Vec::new(),
            iterations: HashMap::new(),
            loops: workflow.edges.iter().any(|e| e.max_iterations.is_some()),
            clock_ms: None,
            script: None,
            real_calls: false,
            conditions,
            written: serde_json::Map::new(),
            nodes: workflow.nodes.clone(),
            routes: Routes::new(workflow, &index),
            edges,
            index,
            incoming,
            roots,
            input: input.into(),
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
            diagnosis: None,
            out: Vec::new(),
            faults: Faults::default(),
            orchestrator_down: None,
            stalled: Vec::new(),
            dropped: Vec::new(),
            unheard: Vec::new(),
            applied: 0,
            story: Story::new(),
        }
    }

    /// Starts the run with these faults in effect (before [`Input::Start`]).
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Runs the schedule `script` forces instead of drawing failures and bus faults from
    /// the seed (see [`script`]).
    pub fn with_script(mut self, script: std::sync::Arc<script::Script>) -> Self {
        self.script = Some(script);
        self
    }

    /// Steps bound to a real service call it (a live run), instead of being simulated (the
    /// lab's virtual time, where every step is).
    pub fn with_real_calls(mut self) -> Self {
        self.real_calls = true;
        self
    }

    /// The run is `id` (its children's ids are made from it).
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    /// What the steps wrote into the run data (and messages brought), without the input.
    pub fn wrote(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.written
    }

    /// The steps a saga of this run would compensate now, newest first: what an undo run of
    /// it undoes.
    pub fn to_undo(&self) -> Vec<String> {
        self.compensable()
            .into_iter()
            .map(|n| self.nodes[n].id.clone())
            .collect()
    }

    /// The diagnosis of the run's end, once it has ended (from its `RunCompleted`).
    pub fn diagnosis(&self) -> Option<String> {
        self.diagnosis.clone()
    }

    /// The run data so far: the input's fields, and what the steps wrote over them.
    pub fn data(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut data = self.input.as_object().cloned().unwrap_or_default();
        for (field, value) in &self.written {
            data.insert(field.clone(), value.clone());
        }
        data
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

    /// What the run was started with.
    pub fn input(&self) -> &RunInput {
        &self.input
    }

    pub fn counts(&self) -> MessageCounts {
        self.counts
    }

    /// The id of step `node`.
    pub fn node_id(&self, node: usize) -> &str {
        &self.nodes[node].id
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

    fn emit(&mut self, event: RunEvent) {
        self.apply(&event);
        self.out.push(Action::Record(event));
    }
}

fn reason_text(reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::Error => "service error",
        FailureReason::Rejected => "rejected by its input",
        FailureReason::Timeout => "timed out",
        FailureReason::Unavailable => "service down",
        FailureReason::Declined => "declined by its service",
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
