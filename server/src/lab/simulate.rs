//! A run of the engine's core in virtual time: timers fire in time order, in-process
//! deliveries at once, nothing sleeps and nothing is written. The same core as live runs,
//! so the lab measures the engine's real rules; virtual time makes every figure exact and
//! reproducible from the seed.

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
    queue: BTreeMap<(u64, u64), Input>,
    /// Every event with the virtual time it happened at.
    pub history: Vec<(u64, RunEvent)>,
    handled: usize,
}

impl VirtualRun {
    pub fn new(workflow: &Workflow, input: Value, seed: u64, faults: Faults) -> VirtualRun {
        let mut run = VirtualRun {
            core: RunCore::new(workflow, input, seed, 1.0).with_faults(faults),
            now: 0,
            order: 0,
            queue: BTreeMap::new(),
            history: Vec::new(),
            handled: 0,
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
            history,
            handled: 0,
        }
    }

    /// Runs `workflow` to its end.
    pub fn complete(workflow: &Workflow, input: Value, seed: u64, faults: Faults) -> VirtualRun {
        let mut run = VirtualRun::new(workflow, input, seed, faults);
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
        self.queue.insert((time, self.order), input);
    }

    /// Handles inputs due up to `until` (or all of them).
    pub fn run_until(&mut self, until: u64) -> &mut Self {
        while let Some((&(time, order), _)) = self.queue.iter().next() {
            if time > until || self.core.is_finished() || self.handled >= MAX_SIMULATED_INPUTS {
                break;
            }
            let input = self.queue.remove(&(time, order)).expect("queued");
            self.now = time;
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
