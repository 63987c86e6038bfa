//! The explorer: every schedule of a flow's failures and bus faults, within bounds, run on
//! the engine's own core in virtual time ([`crate::lab::simulate`]) and checked against the
//! invariants a designer means by "nothing is left half done".
//!
//! A schedule is a [`Script`]: which attempts fail or time out, which deliveries the bus
//! drops, duplicates or holds back past the others, whether (and when) the orchestrator
//! crashes, with a standby or without; the rest goes well. The search runs the
//! flow with no fault, reads from its history where a fault could happen (each attempt of
//! a step that works, each delivery of an event), and runs again with one more fault at
//! each such point — breadth first, so the first schedule that breaks an invariant is a
//! shortest one — up to `max_faults` faults on attempts and `bus_faults` on the bus. Each
//! script runs once (a set of those run); a set of the histories they gave counts the
//! distinct states reached.
//!
//! The reduction: faults found at independent points commute — failing A then losing the
//! event to B is the schedule losing the event to B then failing A — so a set of faults runs
//! once however the search reached it ([`Exploration::reduced`] counts the orders merged);
//! [`Bounds::reduce`] off runs every order, for the comparison the bench prints. Virtual
//! time fixes one interleaving of concurrent steps per schedule (the latencies drawn), so
//! there are no interleavings left to reduce.
//!
//! [`scenarios`] runs a document's scenarios as tests: one run each, checked against what
//! it expects and the flow's own assertions (which the explorer checks on every schedule).

pub mod scenarios;

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use app::model::lab::LabOutcome;
use app::model::scenario::{broken_facts, broken_orderings, Difference};
use app::model::{RunEvent, Workflow};
use serde_json::Value;

pub use app::model::verify::{
    BusChoice, Choice, Counterexample, Coverage, Exploration, Forced, Invariant,
};

use crate::engine::core::script::Script;
use crate::lab::measure::facts;
use crate::lab::simulate::VirtualRun;

/// Faults on attempts per schedule, unless told otherwise.
pub const DEFAULT_MAX_FAULTS: usize = app::model::verify::DEFAULT_MAX_FAULTS as usize;
/// Faults on the bus per schedule, unless told otherwise.
pub const DEFAULT_BUS_FAULTS: usize = app::model::verify::DEFAULT_BUS_FAULTS as usize;
/// The most faults of either kind a schedule may be asked to hold.
pub const MAX_FAULT_BOUND: usize = app::model::verify::MAX_FAULT_BOUND as usize;
/// The most schedules one exploration runs; past it, the result says it stopped there.
pub const MAX_SCHEDULES: usize = app::model::verify::MAX_SCHEDULES as usize;

/// How far the search goes.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_faults: usize,
    pub bus_faults: usize,
    pub max_schedules: usize,
    /// Whether the orchestrator may crash (once a schedule, counted as a fault).
    pub crash: bool,
    /// Explore each set of faults once, however its faults were found (the reduction);
    /// `false` runs every order in which the search reaches a set — as a search over
    /// sequences of choices would — for comparing the two.
    pub reduce: bool,
}

impl From<app::model::verify::VerifyBounds> for Bounds {
    fn from(b: app::model::verify::VerifyBounds) -> Self {
        Bounds {
            max_faults: b.max_faults as usize,
            bus_faults: b.bus_faults as usize,
            max_schedules: MAX_SCHEDULES,
            crash: b.crash,
            reduce: true,
        }
    }
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_faults: DEFAULT_MAX_FAULTS,
            bus_faults: DEFAULT_BUS_FAULTS,
            max_schedules: MAX_SCHEDULES,
            crash: true,
            reduce: true,
        }
    }
}

/// The invariants a simulated run of `workflow` breaks, its outcome being `outcome`.
fn broken(workflow: &Workflow, outcome: LabOutcome, history: &[(u64, RunEvent)]) -> Vec<Invariant> {
    let mut broken = Vec::new();
    match outcome {
        LabOutcome::Stalled => broken.push(Invariant::Ends),
        LabOutcome::Inconsistent => broken.push(Invariant::AllOrCompensated),
        // A failure of a step the orchestrator commanded is its saga's to handle: when
        // the flow has one (an undo action anywhere), a failure before anything needed
        // undoing ends the run cleanly.
        LabOutcome::Unhandled if !(has_saga(workflow) && only_commanded_failed(history)) => {
            broken.push(Invariant::NoUnhandledFailure)
        }
        _ => {}
    }
    let careless: HashSet<&str> = workflow
        .nodes
        .iter()
        .filter(|n| !n.is_idempotent())
        .map(|n| n.id.as_str())
        .collect();
    let mut worked: HashSet<(&str, u64)> = HashSet::new();
    let mut twice = false;
    let mut unheard = false;
    // Per message: deliveries, and those their subscriber's condition dropped.
    let mut delivered: std::collections::HashMap<u64, (u32, u32)> =
        std::collections::HashMap::new();
    for (_, event) in history {
        match event {
            RunEvent::StepStarted {
                node,
                attempt: 1,
                cause,
                ..
            } if careless.contains(node.as_str()) => {
                if let Some(message) = cause.message() {
                    twice |= !worked.insert((node.as_str(), message));
                }
            }
            // A failure event nobody hears is an unhandled failure, said as such.
            RunEvent::EventPublished {
                subscribers,
                outcome: app::model::Outcome::Success,
                ..
            } => unheard |= subscribers.is_empty(),
            RunEvent::EventDelivered {
                message,
                duplicate: false,
                ..
            } => delivered.entry(*message).or_default().0 += 1,
            RunEvent::EventFiltered {
                message,
                passed: false,
                ..
            } => delivered.entry(*message).or_default().1 += 1,
            _ => {}
        }
    }
    if twice {
        broken.push(Invariant::AtMostOnce);
    }
    // …or every subscriber it reached dropped it.
    unheard |= delivered
        .values()
        .any(|&(reached, dropped)| reached > 0 && dropped == reached);
    if unheard {
        broken.push(Invariant::EveryEventHeard);
    }
    broken
}

/// The flow's own assertions a schedule breaks: `never` orderings on its history, `always`
/// facts on its final data (a run that ended).
fn asserted(
    workflow: &Workflow,
    history: &[(u64, RunEvent)],
    data: Option<&serde_json::Map<String, Value>>,
) -> Vec<Difference> {
    let mut out = broken_orderings(&workflow.assertions, history);
    if let Some(data) = data {
        out.extend(broken_facts(&workflow.assertions, data));
    }
    out
}

/// Whether `workflow` has a saga: some step with an undo action.
fn has_saga(workflow: &Workflow) -> bool {
    workflow.nodes.iter().any(|n| n.compensation.is_some())
}

/// Whether every step that failed for good in `history` was the orchestrator's.
fn only_commanded_failed(history: &[(u64, RunEvent)]) -> bool {
    let mut owner: std::collections::HashMap<&str, app::model::Owner> =
        std::collections::HashMap::new();
    let mut all = true;
    for (_, event) in history {
        match event {
            RunEvent::StepStarted { node, owner: o, .. } => {
                owner.insert(node.as_str(), *o);
            }
            RunEvent::StepFailed { node, .. } => {
                all &= owner.get(node.as_str()) == Some(&app::model::Owner::Orchestrator);
            }
            _ => {}
        }
    }
    all
}

/// Where a fault could happen in a run, and which faults may happen there.
struct Point {
    choice: Choice,
    bus: bool,
    /// An attempt of a step with a timeout: it may also time out.
    times_out: bool,
}

/// Runs `workflow` on `input` to its end with the faults `schedule` forces (latencies drawn
/// from `seed`): what a counterexample replayed as a run with `faults.schedule` does.
pub fn run_schedule(
    workflow: &Workflow,
    input: &Value,
    seed: u64,
    schedule: &[Choice],
) -> VirtualRun {
    let mut workflow = workflow.clone();
    workflow.assign_edge_ids();
    let faults = app::model::Faults {
        schedule: schedule.to_vec(),
        ..app::model::Faults::default()
    };
    VirtualRun::complete(&workflow, input.clone(), seed, faults)
}

/// Every schedule of `workflow` on `input` within `bounds`, breadth first; stops early when
/// `cancel` is set.
pub fn explore(
    workflow: &Workflow,
    input: &Value,
    seed: u64,
    bounds: Bounds,
    cancel: &AtomicBool,
) -> Exploration {
    explore_counting(workflow, input, seed, bounds, cancel, &AtomicU32::new(0))
}

/// [`explore`], counting each schedule run in `done` as it goes (a progress bar's).
pub fn explore_counting(
    workflow: &Workflow,
    input: &Value,
    seed: u64,
    bounds: Bounds,
    cancel: &AtomicBool,
    done: &AtomicU32,
) -> Exploration {
    // Deliveries are told apart by their edge's id: every edge has one.
    let mut workflow = workflow.clone();
    workflow.assign_edge_ids();
    let workflow = &workflow;
    let started = std::time::Instant::now();
    let mut found = Exploration::default();
    let mut tried: HashSet<Script> = HashSet::new();
    // Without the reduction: each order of choices, once.
    let mut orders: HashSet<String> = HashSet::new();
    let mut histories: HashSet<u64> = HashSet::new();
    let mut seen = Seen::default();
    let mut queue: VecDeque<(Script, Vec<Choice>)> = VecDeque::new();
    queue.push_back((Script::default(), Vec::new()));
    tried.insert(Script::default());
    while let Some((script, choices)) = queue.pop_front() {
        if cancel.load(Ordering::Relaxed) || found.schedules as usize >= bounds.max_schedules {
            found.truncated = true;
            break;
        }
        let run = run_schedule(workflow, input, seed, &choices);
        if !happened(&script, &run.history) {
            // A fault forced where nothing happened any more (an earlier one stopped it):
            // the same schedule as the script without it.
            continue;
        }
        found.schedules += 1;
        done.fetch_add(1, Ordering::Relaxed);
        if histories.insert(history_hash(&run.history)) {
            found.states += 1;
            seen.add(&run.history);
        }
        if let Some(facts) = facts(workflow, &run) {
            let data = run.is_finished().then(|| run.core.data());
            // The built-in invariants once each; each of the flow's own assertions once.
            let mut found_here: Vec<(Invariant, Option<Difference>)> =
                broken(workflow, facts.outcome, &run.history)
                    .into_iter()
                    .map(|i| (i, None))
                    .collect();
            found_here.extend(
                asserted(workflow, &run.history, data.as_ref())
                    .into_iter()
                    .map(|d| (Invariant::Asserted, Some(d))),
            );
            found.broken += u64::from(!found_here.is_empty());
            for (invariant, broke) in found_here {
                let which = broke.as_ref().and_then(Difference::assertion);
                if !found.counterexamples.iter().any(|c| {
                    c.invariant == invariant
                        && c.broke.as_ref().and_then(Difference::assertion) == which
                }) {
                    found.counterexamples.push(Counterexample {
                        invariant,
                        choices: choices.clone(),
                        outcome: facts.outcome,
                        diagnosis: facts.diagnosis.clone(),
                        broke,
                    });
                }
            }
        }
        let (faults, bus_faults) = script.faults();
        for point in points(workflow, &run.history)
            .into_iter()
            .filter(|p| bounds.crash || !matches!(p.choice, Choice::Crash { .. }))
        {
            let options: &[Choice] = &alternatives(&point);
            for option in options {
                let fits = if point.bus {
                    bus_faults < bounds.bus_faults
                } else {
                    faults < bounds.max_faults
                };
                if !fits {
                    continue;
                }
                let mut next = script.clone();
                if !next.add(option) {
                    continue;
                }
                let mut more = choices.clone();
                more.push(option.clone());
                let new = if bounds.reduce {
                    tried.insert(next.clone())
                } else {
                    orders.insert(serde_json::to_string(&more).unwrap_or_default())
                };
                if new {
                    queue.push_back((next, more));
                } else if bounds.reduce {
                    // The same faults, found in another order: one schedule.
                    found.reduced += 1;
                }
            }
        }
    }
    found.counterexamples.sort_by_key(|c| c.invariant);
    found.coverage = seen.coverage(workflow);
    found.took_us = started.elapsed().as_micros() as u64;
    found
}

/// What the histories explored so far exercised.
#[derive(Default)]
struct Seen {
    steps: HashSet<String>,
    edges: HashSet<String>,
    compensations: HashSet<String>,
}

impl Seen {
    fn add(&mut self, history: &[(u64, RunEvent)]) {
        for (_, event) in history {
            match event {
                RunEvent::StepSucceeded { node, .. } => {
                    self.steps.insert(node.clone());
                }
                RunEvent::CommandSent { edge, .. } | RunEvent::EventDelivered { edge, .. } => {
                    self.edges.insert(edge.clone());
                }
                RunEvent::StepCompensated { node, .. } => {
                    self.compensations.insert(node.clone());
                }
                _ => {}
            }
        }
    }

    /// Each list in the workflow's order.
    fn coverage(&self, workflow: &Workflow) -> Coverage {
        let split = |all: Vec<&String>, seen: &HashSet<String>| -> (Vec<String>, Vec<String>) {
            let (yes, no): (Vec<&String>, Vec<&String>) =
                all.into_iter().partition(|id| seen.contains(*id));
            (
                yes.into_iter().cloned().collect(),
                no.into_iter().cloned().collect(),
            )
        };
        let (steps, steps_never) =
            split(workflow.nodes.iter().map(|n| &n.id).collect(), &self.steps);
        let (edges, edges_never) =
            split(workflow.edges.iter().map(|e| &e.id).collect(), &self.edges);
        let (compensations, compensations_never) = split(
            workflow
                .nodes
                .iter()
                .filter(|n| n.compensation.is_some())
                .map(|n| &n.id)
                .collect(),
            &self.compensations,
        );
        Coverage {
            steps,
            edges,
            compensations,
            steps_never,
            edges_never,
            compensations_never,
        }
    }
}

/// Where faults could happen in a run: each attempt of a step that works (not a wait, a
/// timer or a sub-flow), each first delivery of an event, each moment the orchestrator acts
/// (a crash counts as a fault on attempts; one per schedule).
fn points(workflow: &Workflow, history: &[(u64, RunEvent)]) -> Vec<Point> {
    let works = |id: &str| {
        workflow
            .nodes
            .iter()
            .find(|n| n.id == id)
            .is_some_and(|n| n.wait.is_none() && n.sub_flow.is_none())
    };
    let mut out = Vec::new();
    // The orchestrator may crash just before anything it does: each distinct moment it
    // sends a command or hears a reply.
    let mut moments = std::collections::BTreeSet::new();
    for (at, event) in history {
        if matches!(
            event,
            RunEvent::CommandSent { .. } | RunEvent::ReplyReceived { .. }
        ) {
            moments.insert(*at);
        }
    }
    out.extend(moments.into_iter().map(|at_ms| Point {
        choice: Choice::Crash {
            at_ms,
            standby: false,
        },
        bus: false,
        times_out: false,
    }));
    for (_, event) in history {
        match event {
            RunEvent::StepStarted {
                node,
                attempt,
                execution,
                ..
            } if works(node) => out.push(Point {
                choice: Choice::Attempt {
                    node: node.clone(),
                    execution: *execution,
                    attempt: *attempt,
                    forced: Forced::Fail,
                },
                bus: false,
                times_out: workflow
                    .nodes
                    .iter()
                    .any(|n| n.id == *node && n.timeout_ms.is_some()),
            }),
            RunEvent::EventDelivered {
                message,
                edge,
                name,
                to,
                duplicate: false,
                ..
            } => out.push(Point {
                choice: Choice::Delivery {
                    message: *message,
                    edge: edge.clone(),
                    event: name.clone(),
                    to: to.clone(),
                    choice: BusChoice::Drop,
                },
                bus: true,
                times_out: false,
            }),
            _ => {}
        }
    }
    out
}

/// The faults that may happen at `point`: an attempt fails, or times out when its step has
/// a timeout; a delivery is lost, doubled or held back.
fn alternatives(point: &Point) -> Vec<Choice> {
    match &point.choice {
        Choice::Attempt { .. } => [Forced::Fail, Forced::TimeOut]
            .into_iter()
            .filter(|f| *f == Forced::Fail || point.times_out)
            .map(|forced| match point.choice.clone() {
                Choice::Attempt {
                    node,
                    execution,
                    attempt,
                    ..
                } => Choice::Attempt {
                    node,
                    execution,
                    attempt,
                    forced,
                },
                other => other,
            })
            .collect(),
        Choice::Delivery { .. } => [BusChoice::Drop, BusChoice::Duplicate, BusChoice::HoldBack]
            .into_iter()
            .map(|choice| match point.choice.clone() {
                Choice::Delivery {
                    message,
                    edge,
                    event,
                    to,
                    ..
                } => Choice::Delivery {
                    message,
                    edge,
                    event,
                    to,
                    choice,
                },
                other => other,
            })
            .collect(),
        Choice::Crash { at_ms, .. } => [false, true]
            .into_iter()
            .map(|standby| Choice::Crash {
                at_ms: *at_ms,
                standby,
            })
            .collect(),
    }
}

/// Whether every fault `script` forces happened in `history`: each attempt was made, each
/// delivery handed to the bus.
fn happened(script: &Script, history: &[(u64, RunEvent)]) -> bool {
    let mut attempts = HashSet::new();
    let mut deliveries = HashSet::new();
    let mut crashed = false;
    for (_, event) in history {
        match event {
            RunEvent::OrchestratorCrashed { .. } => crashed = true,
            RunEvent::StepStarted {
                node,
                execution,
                attempt,
                ..
            } => {
                attempts.insert((node.as_str(), *execution, *attempt));
            }
            RunEvent::EventDelivered { message, edge, .. }
            | RunEvent::EventDropped { message, edge, .. } => {
                deliveries.insert((*message, edge.as_str()));
            }
            _ => {}
        }
    }
    (script.crash.is_none() || crashed)
        && script
            .attempts
            .keys()
            .all(|(n, e, a)| attempts.contains(&(n.as_str(), *e, *a)))
        && script
            .deliveries
            .keys()
            .all(|(m, e)| deliveries.contains(&(*m, e.as_str())))
}

/// A run's history as one number: its events and their virtual times.
fn history_hash(history: &[(u64, RunEvent)]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (at, event) in history {
        at.hash(&mut hasher);
        serde_json::to_string(event)
            .unwrap_or_default()
            .hash(&mut hasher);
    }
    hasher.finish()
}
