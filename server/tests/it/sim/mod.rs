//! The pure run core driven in virtual time, for tests: the lab's [`VirtualRun`] with a
//! few helpers to find events in its history.

#![allow(dead_code)] // each module uses a different part of this helper

use app::model::{Faults, MessageCounts, RunEvent, RunStatus, Workflow};
use serde_json::Value;
use server::engine::core::RunCore;
use server::lab::simulate::VirtualRun;

pub struct Sim(pub VirtualRun);

impl std::ops::Deref for Sim {
    type Target = VirtualRun;
    fn deref(&self) -> &VirtualRun {
        &self.0
    }
}

impl std::ops::DerefMut for Sim {
    fn deref_mut(&mut self) -> &mut VirtualRun {
        &mut self.0
    }
}

impl Sim {
    pub fn new(workflow: &Workflow, input: Value, seed: u64) -> Sim {
        Sim(VirtualRun::new(workflow, input, seed, Faults::default()))
    }

    /// A run whose sub-flow steps run the workflows of `library`.
    pub fn in_library(
        library: &server::lab::simulate::Library,
        workflow: &Workflow,
        input: Value,
        seed: u64,
    ) -> Sim {
        Sim(VirtualRun::new_in(
            library,
            workflow,
            input,
            seed,
            Faults::default(),
        ))
    }

    pub fn with_faults(workflow: &Workflow, input: Value, seed: u64, faults: Faults) -> Sim {
        Sim(VirtualRun::new(workflow, input, seed, faults))
    }

    pub fn run(&mut self) -> &mut Self {
        self.0.run_until(u64::MAX);
        assert!(
            self.0.is_finished(),
            "the run did not finish: {:#?}",
            self.0.history
        );
        self
    }

    pub fn run_until(&mut self, until: u64) -> &mut Self {
        self.0.run_until(until);
        self
    }

    /// A "crash" of the server here: a new core of `workflow` rebuilt from this history
    /// alone, what was in flight resumed, its timers re-armed; it goes on from `now`.
    pub fn restarted(&self, workflow: &Workflow, input: Value, seed: u64) -> Sim {
        let mut core = RunCore::new(workflow, input, seed, 1.0);
        for (_, event) in &self.0.history {
            core.apply(event);
        }
        let mut resumed = Sim(VirtualRun::from_core(
            core,
            self.0.now,
            self.0.history.clone(),
        ));
        let actions = resumed.0.core.resume("run", None, None);
        resumed.0.absorb(actions);
        resumed
    }

    pub fn status(&self) -> RunStatus {
        self.0.core.status().expect("finished")
    }

    pub fn find(&self, pred: impl Fn(&RunEvent) -> bool) -> Option<(usize, u64, &RunEvent)> {
        self.0
            .history
            .iter()
            .enumerate()
            .find(|(_, (_, e))| pred(e))
            .map(|(i, (t, e))| (i, *t, e))
    }

    pub fn starts_of(&self, node: &str) -> Vec<(u64, &RunEvent)> {
        self.0
            .history
            .iter()
            .filter(|(_, e)| matches!(e, RunEvent::StepStarted { node: n, .. } if n == node))
            .map(|(t, e)| (*t, e))
            .collect()
    }

    pub fn index_of(&self, pred: impl Fn(&RunEvent) -> bool) -> usize {
        self.find(pred)
            .unwrap_or_else(|| panic!("event missing from {:#?}", self.0.history))
            .0
    }

    pub fn completed(&self) -> (RunStatus, Option<String>, MessageCounts) {
        self.0
            .completed()
            .unwrap_or_else(|| panic!("the run ends with RunCompleted: {:#?}", self.0.history))
    }
}
