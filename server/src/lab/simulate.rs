//! A run of the engine's core in virtual time: timers fire in time order, in-process
//! deliveries at once, nothing sleeps and nothing is written. The same core as live runs,
//! so the lab measures the engine's real rules; virtual time makes every figure exact and
//! reproducible from the seed. An orchestrator may spend time on each message it handles
//! ([`VirtualRun::complete_with`]): the hop cost, with no limit on how many at once.

use std::collections::BTreeMap;

use app::model::{Faults, MessageCounts, RunEvent, RunStatus, Workflow};
use serde_json::Value;

use app::model::validate::{child_gone, no_such_sub_flow, sub_flow_refusal};

use crate::engine::core::{Action, Input, RunCore};

/// A simulated run handles at most this many inputs (the core's own runaway limits stop
/// long before; this only guards the lab against a bug looping forever).
pub const MAX_SIMULATED_INPUTS: usize = 1_000_000;

/// The stored workflows a simulated run's sub-flow steps may run, by id.
pub type Library = std::sync::Arc<BTreeMap<String, Workflow>>;

/// A child run simulated for a sub-flow step: what its undo run needs.
struct SimulatedChild {
    workflow: Workflow,
    input: Value,
    seed: u64,
    to_undo: Vec<String>,
}

pub struct VirtualRun {
    pub core: RunCore,
    /// What sub-flow steps may run, and the workflows running above this run (itself
    /// included) — a child of one of those would be a cycle.
    library: Library,
    above: Vec<String>,
    faults: Faults,
    children: std::collections::HashMap<String, SimulatedChild>,
    /// Virtual milliseconds since the start.
    pub now: u64,
    order: u64,
    /// What is due, and whether it already waited for the orchestrator.
    queue: BTreeMap<(u64, u64), (Input, bool)>,
    /// Virtual ms the orchestrator spends on each message it handles.
    message_ms: u64,
    /// Every event with the virtual time it happened at.
    pub history: Vec<(u64, RunEvent)>,
    handled: usize,
    /// The core was told nothing more comes.
    quiet: bool,
}

impl VirtualRun {
    pub fn new(workflow: &Workflow, input: Value, seed: u64, faults: Faults) -> VirtualRun {
        VirtualRun::new_in(&Library::default(), workflow, input, seed, faults)
    }

    /// A run whose sub-flow steps run the workflows of `library` as child runs, each
    /// simulated to its end when it starts (its virtual time is the step's).
    pub fn new_in(
        library: &Library,
        workflow: &Workflow,
        input: Value,
        seed: u64,
        faults: Faults,
    ) -> VirtualRun {
        VirtualRun::begin(
            library,
            Vec::new(),
            workflow,
            input,
            seed,
            faults,
            Input::Start,
        )
    }

    fn begin(
        library: &Library,
        above: Vec<String>,
        workflow: &Workflow,
        input: Value,
        seed: u64,
        faults: Faults,
        first: Input,
    ) -> VirtualRun {
        let mut run = VirtualRun {
            core: RunCore::new(workflow, input, seed, 1.0).with_faults(faults.clone()),
            library: library.clone(),
            above,
            faults,
            children: std::collections::HashMap::new(),
            now: 0,
            order: 0,
            queue: BTreeMap::new(),
            message_ms: 0,
            history: Vec::new(),
            handled: 0,
            quiet: false,
        };
        let actions = run.core.handle(first);
        run.absorb(actions);
        run
    }

    /// A run whose core was rebuilt elsewhere (e.g. replayed from a history), at `now`,
    /// with nothing queued yet.
    pub fn from_core(core: RunCore, now: u64, history: Vec<(u64, RunEvent)>) -> VirtualRun {
        VirtualRun {
            core,
            library: Library::default(),
            above: Vec::new(),
            faults: Faults::default(),
            children: std::collections::HashMap::new(),
            now,
            order: 0,
            queue: BTreeMap::new(),
            message_ms: 0,
            history,
            handled: 0,
            quiet: false,
        }
    }

    /// Runs `workflow` to its end.
    pub fn complete(workflow: &Workflow, input: Value, seed: u64, faults: Faults) -> VirtualRun {
        VirtualRun::complete_with(workflow, input, seed, faults, 0)
    }

    /// Runs `workflow` to its end, the orchestrator spending `message_ms` on every message
    /// it handles (a reply, an event it listens to, a retry or compensation it decides):
    /// each waits that long before the orchestrator acts on it.
    pub fn complete_with(
        workflow: &Workflow,
        input: Value,
        seed: u64,
        faults: Faults,
        message_ms: u64,
    ) -> VirtualRun {
        VirtualRun::complete_in(
            &Library::default(),
            workflow,
            input,
            seed,
            faults,
            message_ms,
        )
    }

    /// [`VirtualRun::complete_with`], sub-flow steps running the workflows of `library`.
    pub fn complete_in(
        library: &Library,
        workflow: &Workflow,
        input: Value,
        seed: u64,
        faults: Faults,
        message_ms: u64,
    ) -> VirtualRun {
        let mut run = VirtualRun::new_in(library, workflow, input, seed, faults);
        run.message_ms = message_ms;
        run.run_until(u64::MAX);
        run
    }

    /// Simulates child run `run` of stored workflow `workflow` to its end — refused when it
    /// would close a cycle of sub-flows, nest too deep or is not in the library — and feeds
    /// its end back at the virtual time it ends.
    fn start_child(&mut self, run: String, workflow: String, input: Value, seed: u64) {
        let refused = sub_flow_refusal(&self.above, &workflow).or_else(|| {
            (!self.library.contains_key(&workflow)).then(|| no_such_sub_flow(&workflow))
        });
        if let Some(why) = refused {
            return self.at(
                self.now,
                ended(run, RunStatus::Failed, Some(why), Default::default()),
            );
        }
        let spec = self.library[&workflow].clone();
        let mut above = self.above.clone();
        above.push(workflow);
        let child = self.simulate(above, &spec, input.clone(), seed, Input::Start, &run);
        self.children.insert(
            run,
            SimulatedChild {
                to_undo: child.core.to_undo(),
                workflow: spec,
                input,
                seed,
            },
        );
    }

    /// Simulates undo run `run` of simulated child `child` and feeds its end back.
    fn undo_child(&mut self, child: String, run: String) {
        let Some(done) = self.children.get(&child) else {
            let why = child_gone(&child);
            return self.at(
                self.now,
                ended(run, RunStatus::Failed, Some(why), Default::default()),
            );
        };
        let (spec, input, seed) = (done.workflow.clone(), done.input.clone(), done.seed);
        let first = Input::Undo {
            of: child,
            steps: done.to_undo.clone(),
        };
        self.simulate(
            self.above.clone(),
            &spec,
            input,
            seed ^ 0x756e_646f,
            first,
            &run,
        );
    }

    /// Runs a child (or undo) run to its end and feeds its end to this run when it ends.
    fn simulate(
        &mut self,
        above: Vec<String>,
        workflow: &Workflow,
        input: Value,
        seed: u64,
        first: Input,
        run: &str,
    ) -> VirtualRun {
        let library = self.library.clone();
        // Its services are as broken as this run's; a step failed on purpose is this run's.
        let faults = Faults {
            fail_step: None,
            ..self.faults.clone()
        };
        let mut child = VirtualRun::begin(&library, above, workflow, input, seed, faults, first);
        child.message_ms = self.message_ms;
        child.run_until(u64::MAX);
        let (status, diagnosis, _) = child.completed().unwrap_or((
            RunStatus::Failed,
            Some("the child run did not end".into()),
            Default::default(),
        ));
        let wrote = child.core.wrote().clone();
        let at = self.now + child.ended_at().unwrap_or(0);
        self.at(at, ended(run.to_string(), status, diagnosis, wrote));
        child
    }

    pub fn absorb(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Record(event) => self.history.push((self.now, event)),
                Action::Timer { after_ms, input } => self.at(self.now + after_ms, input),
                Action::Deliver { message, edge } => {
                    self.at(self.now, Input::Deliver { message, edge })
                }
                Action::StartChild {
                    run,
                    workflow,
                    input,
                    seed,
                    ..
                } => self.start_child(run, workflow, Value::Object(input), seed),
                Action::UndoChild { child, run, .. } => self.undo_child(child, run),
                // Simulated to its end already: what it says now comes too late to count.
                Action::CancelChild { .. } => {}
                // Virtual time simulates every step (its core makes no real calls).
                Action::Call { .. } => {}
            }
        }
    }

    /// Feeds `input` to the run at virtual time `time`.
    pub fn at(&mut self, time: u64, input: Input) {
        self.order += 1;
        self.queue.insert((time, self.order), (input, false));
    }

    /// Handles inputs due up to `until` (or all of them).
    pub fn run_until(&mut self, until: u64) -> &mut Self {
        loop {
            let Some((&(time, order), _)) = self.queue.iter().next() else {
                // Nothing is due any more: a step still waiting for a message will never
                // get it (in the lab nobody sends one); the core ends the run saying so.
                if until == u64::MAX && !self.core.is_finished() && !self.quiet {
                    self.quiet = true;
                    let actions = self.core.handle(Input::NothingMoreComes);
                    self.absorb(actions);
                    continue;
                }
                break;
            };
            if time > until || self.core.is_finished() || self.handled >= MAX_SIMULATED_INPUTS {
                break;
            }
            let (input, waited) = self.queue.remove(&(time, order)).expect("queued");
            self.now = time;
            if !waited && self.message_ms > 0 && self.core.needs_orchestrator(&input) {
                self.order += 1;
                self.queue
                    .insert((time + self.message_ms, self.order), (input, true));
                continue;
            }
            self.handled += 1;
            let actions = self.core.handle(input);
            self.absorb(actions);
        }
        self
    }

    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// How the run ended: status, diagnosis, messages — `None` while it has not.
    pub fn completed(&self) -> Option<(RunStatus, Option<String>, MessageCounts)> {
        match &self.history.last()?.1 {
            RunEvent::RunCompleted {
                status,
                diagnosis,
                messages,
                ..
            } => Some((*status, diagnosis.clone(), *messages)),
            _ => None,
        }
    }

    /// The virtual time the run ended at.
    pub fn ended_at(&self) -> Option<u64> {
        self.completed()?;
        self.history.last().map(|(t, _)| *t)
    }
}

/// A child run's end, as its parent hears it.
fn ended(
    run: String,
    status: RunStatus,
    diagnosis: Option<String>,
    wrote: serde_json::Map<String, Value>,
) -> Input {
    Input::ChildEnded {
        run,
        status,
        diagnosis,
        wrote,
    }
}
