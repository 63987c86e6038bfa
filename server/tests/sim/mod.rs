//! The pure run core driven in virtual time, for tests: timers fire in time order,
//! deliveries at once; nothing sleeps.

#![allow(dead_code)] // each test binary uses a different part of this helper

use std::collections::BTreeMap;

use app::model::{MessageCounts, RunEvent, RunStatus, Workflow};
use serde_json::Value;
use server::engine::core::{Action, Input, RunCore};

/// A run of the core in virtual time: timers fire in time order, deliveries at once.
pub struct Sim {
    pub core: RunCore,
    pub now: u64,
    pub order: u64,
    pub queue: BTreeMap<(u64, u64), Input>,
    pub history: Vec<(u64, RunEvent)>,
}

impl Sim {
    pub fn new(workflow: &Workflow, input: Value, seed: u64) -> Sim {
        let mut sim = Sim {
            core: RunCore::new(workflow, input, seed, 1.0),
            now: 0,
            order: 0,
            queue: BTreeMap::new(),
            history: Vec::new(),
        };
        let actions = sim.core.handle(Input::Start);
        sim.absorb(actions);
        sim
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

    pub fn at(&mut self, time: u64, input: Input) {
        self.order += 1;
        self.queue.insert((time, self.order), input);
    }

    /// Handles inputs due up to `until` (or all of them).
    pub fn run_until(&mut self, until: u64) -> &mut Self {
        while let Some((&(time, order), _)) = self.queue.iter().next() {
            if time > until || self.core.is_finished() {
                break;
            }
            let input = self.queue.remove(&(time, order)).expect("queued");
            self.now = time;
            let actions = self.core.handle(input);
            self.absorb(actions);
        }
        self
    }

    pub fn run(&mut self) -> &mut Self {
        self.run_until(u64::MAX);
        assert!(
            self.core.is_finished(),
            "the run did not finish: {:#?}",
            self.history
        );
        self
    }

    pub fn status(&self) -> RunStatus {
        self.core.status().expect("finished")
    }

    pub fn find(&self, pred: impl Fn(&RunEvent) -> bool) -> Option<(usize, u64, &RunEvent)> {
        self.history
            .iter()
            .enumerate()
            .find(|(_, (_, e))| pred(e))
            .map(|(i, (t, e))| (i, *t, e))
    }

    pub fn starts_of(&self, node: &str) -> Vec<(u64, &RunEvent)> {
        self.history
            .iter()
            .filter(|(_, e)| matches!(e, RunEvent::StepStarted { node: n, .. } if n == node))
            .map(|(t, e)| (*t, e))
            .collect()
    }

    pub fn index_of(&self, pred: impl Fn(&RunEvent) -> bool) -> usize {
        self.find(pred)
            .unwrap_or_else(|| panic!("event missing from {:#?}", self.history))
            .0
    }

    pub fn completed(&self) -> (RunStatus, Option<String>, MessageCounts) {
        match &self.history.last().expect("history").1 {
            RunEvent::RunCompleted {
                status,
                diagnosis,
                messages,
            } => (*status, diagnosis.clone(), *messages),
            other => panic!("the run ends with RunCompleted, not {other:?}"),
        }
    }
}
