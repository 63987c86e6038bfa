//! A run of the engine's core in virtual time: timers fire in time order, in-process
//! deliveries at once, nothing sleeps and nothing is written. The same core as live runs,
//! so the lab measures the engine's real rules; virtual time makes every figure exact and
//! reproducible from the seed. An orchestrator may spend time on each message it handles
//! ([`VirtualRun::complete_with`]): the hop cost, with no limit on how many at once.

use std::collections::BTreeMap;

use app::model::{Faults, MessageCounts, RunEvent, RunStatus, Workflow};
use serde_json::Value;

use crate::engine::core::{Action, Input, RunCore};

/// A simulated run handles at most this many inputs (the core's own runaway limits stop
/// long before; this only guards the lab against a bug looping forever).
pub const MAX_SIMULATED_INPUTS: usize = 1_000_000;

pub struct VirtualRun {
    pub core: RunCore,
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
        let mut run = VirtualRun {
            core: RunCore::new(workflow, input, seed, 1.0).with_faults(faults),
            now: 0,
            order: 0,
            queue: BTreeMap::new(),
            message_ms: 0,
            history: Vec::new(),
            handled: 0,
            quiet: false,
        };
        let actions = run.core.handle(Input::Start);
        run.absorb(actions);
        run
    }

    /// A run whose core was rebuilt elsewhere (e.g. replayed from a history), at `now`,
    /// with nothing queued yet.
    pub fn from_core(core: RunCore, now: u64, history: Vec<(u64, RunEvent)>) -> VirtualRun {
        VirtualRun {
            core,
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
        let mut run = VirtualRun::new(workflow, input, seed, faults);
        run.message_ms = message_ms;
        run.run_until(u64::MAX);
        run
    }

    pub fn absorb(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Record(event) => self.history.push((self.now, event)),
                Action::Timer { after_ms, input } => self.at(self.now + after_ms, input),
                Action::Deliver { message, edge } => {
                    self.at(self.now, Input::Deliver { message, edge })
                }
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
