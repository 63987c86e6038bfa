//! A schedule forced on a run — the explorer's ([`crate::verify`]), or its counterexample
//! replayed as a real run (`faults.schedule`, recorded in `RunStarted`, so a resumed run
//! keeps it): which attempts fail or time out and which deliveries the bus drops,
//! duplicates or holds back. Everything the
//! script does not name goes well — every attempt succeeds (unless the step's own rule on
//! the input rejects it), every event is delivered once, in time — instead of being drawn
//! from the seed. Latencies are still drawn from the seed, so a script and a seed give one
//! exact history.

use std::collections::BTreeMap;

/// How long a held-back delivery waits (virtual ms): past every other delivery of a
/// simulated run, so the events after it overtake it (a reordering).
pub const HELD_BACK_MS: u64 = 3_600_000;

pub use app::model::verify::{BusChoice, Choice, Forced};

/// A forced schedule: attempts by (step id, execution, attempt), deliveries by (message,
/// subscription edge id).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Script {
    pub attempts: BTreeMap<(String, u32, u32), Forced>,
    pub deliveries: BTreeMap<(u64, String), BusChoice>,
    /// The orchestrator crashes at this virtual ms, with a standby or not.
    pub crash: Option<(u64, bool)>,
}

impl Script {
    pub fn attempt(&self, node: &str, execution: u32, attempt: u32) -> Option<Forced> {
        self.attempts
            .get(&(node.to_string(), execution, attempt))
            .copied()
    }

    pub fn delivery(&self, message: u64, edge: &str) -> Option<BusChoice> {
        self.deliveries.get(&(message, edge.to_string())).copied()
    }

    /// The script a list of faults makes (a later fault on the same attempt or delivery
    /// replaces an earlier one).
    pub fn from_choices(choices: &[Choice]) -> Script {
        let mut script = Script::default();
        for choice in choices {
            script.set(choice);
        }
        script
    }

    /// Adds `choice` unless the script already forces something at its place (the same
    /// attempt, the same delivery, or a crash already): whether it did.
    pub fn add(&mut self, choice: &Choice) -> bool {
        let taken = match choice {
            Choice::Attempt {
                node,
                execution,
                attempt,
                ..
            } => self
                .attempts
                .contains_key(&(node.clone(), *execution, *attempt)),
            Choice::Delivery { message, edge, .. } => {
                self.deliveries.contains_key(&(*message, edge.clone()))
            }
            Choice::Crash { .. } => self.crash.is_some(),
        };
        if !taken {
            self.set(choice);
        }
        !taken
    }

    /// Forces `choice`, over whatever the script forced at its place.
    fn set(&mut self, choice: &Choice) {
        match choice {
            Choice::Attempt {
                node,
                execution,
                attempt,
                forced,
            } => {
                self.attempts
                    .insert((node.clone(), *execution, *attempt), *forced);
            }
            Choice::Delivery {
                message,
                edge,
                choice,
                ..
            } => {
                self.deliveries.insert((*message, edge.clone()), *choice);
            }
            Choice::Crash { at_ms, standby } => self.crash = Some((*at_ms, *standby)),
        }
    }

    /// Faults it forces on attempts and the orchestrator, and on the bus.
    pub fn faults(&self) -> (usize, usize) {
        (
            self.attempts.len() + usize::from(self.crash.is_some()),
            self.deliveries.len(),
        )
    }
}
