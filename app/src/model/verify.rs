//! The explorer's requests and results, shared by the server that searches and the pages
//! that show it: the faults a schedule forces, the invariants, a shortest counterexample
//! per broken invariant, coverage — and all of it in words, the headline first.

use serde::{Deserialize, Serialize};

use crate::i18n::Locale;
use crate::model::lab::LabOutcome;
use crate::model::Workflow;

/// Faults on attempts per schedule, unless told otherwise.
pub const DEFAULT_MAX_FAULTS: u32 = 2;
/// Faults on the bus per schedule, unless told otherwise.
pub const DEFAULT_BUS_FAULTS: u32 = 1;
/// The most faults of either kind a schedule may be asked to hold.
pub const MAX_FAULT_BOUND: u32 = 5;
/// The most schedules one exploration runs; past it, the result says it stopped there.
pub const MAX_SCHEDULES: u32 = 200_000;

/// How far a search goes (the API's and the lab's `verify`): faults on attempts (an
/// orchestrator crash counts as one), faults on the bus, whether the orchestrator may crash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBounds {
    #[serde(default = "default_max_faults")]
    pub max_faults: u32,
    #[serde(default = "default_bus_faults")]
    pub bus_faults: u32,
    #[serde(default = "yes")]
    pub crash: bool,
}

fn default_max_faults() -> u32 {
    DEFAULT_MAX_FAULTS
}

fn default_bus_faults() -> u32 {
    DEFAULT_BUS_FAULTS
}

fn yes() -> bool {
    true
}

impl Default for VerifyBounds {
    fn default() -> Self {
        VerifyBounds {
            max_faults: DEFAULT_MAX_FAULTS,
            bus_faults: DEFAULT_BUS_FAULTS,
            crash: true,
        }
    }
}

impl VerifyBounds {
    /// The bounds in words: "at most 2 faults on attempts and 1 on the bus".
    pub fn words(&self, l: Locale) -> String {
        td_string!(
            l,
            verify.bounds,
            attempts = self.max_faults,
            bus = self.bus_faults
        )
        .to_string()
    }

    /// What is wrong with them, each naming its field and limit.
    pub fn problems(&self) -> Vec<String> {
        [
            ("max_faults", self.max_faults),
            ("bus_faults", self.bus_faults),
        ]
        .into_iter()
        .filter(|(_, v)| *v > MAX_FAULT_BOUND)
        .map(|(field, v)| format!("verify.{field} must be at most {MAX_FAULT_BOUND}, got {v}"))
        .collect()
    }
}

/// `POST /api/workflows/{id}/verify`: the run's input and seed (latencies are drawn from
/// it) and the bounds, each defaulted as [`VerifyBounds`] is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_faults: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_faults: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<bool>,
}

/// One style's search in a side-by-side verification (a lab batch with `verify`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleVerification {
    pub style: super::lab::LabStyle,
    pub exploration: Exploration,
}

/// What a schedule makes of one attempt of a step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forced {
    /// The service answers with an error.
    Fail,
    /// No answer within the step's timeout.
    TimeOut,
}

/// What a schedule makes of one delivery of an event to one subscriber.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusChoice {
    /// Lost: the subscriber never hears it.
    Drop,
    /// Delivered twice.
    Duplicate,
    /// Delivered after every other event due (reordered).
    HoldBack,
}

/// What must hold whatever the schedule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// The run ends: nothing stalls on an event nobody heard.
    Ends,
    /// Every completed step with an undo action is kept (the run completed) or undone.
    AllOrCompensated,
    /// Every failure has a route or a saga.
    NoUnhandledFailure,
    /// A step that does not recognise duplicates (`idempotent: false`) never works twice
    /// for one message.
    AtMostOnce,
    /// No event is published that nobody hears: none without a subscriber (a failure
    /// event without one is an unhandled failure), none every subscriber drops.
    EveryEventHeard,
    /// The flow's own assertions hold: its `never` orderings and `always` facts
    /// ([`super::scenario::Assertions`]).
    Asserted,
}

impl Invariant {
    pub const ALL: [Invariant; 6] = [
        Invariant::Ends,
        Invariant::AllOrCompensated,
        Invariant::NoUnhandledFailure,
        Invariant::AtMostOnce,
        Invariant::EveryEventHeard,
        Invariant::Asserted,
    ];

    /// What it promises, in `l`'s words.
    pub fn words(self, l: Locale) -> String {
        match self {
            Invariant::Ends => td_string!(l, verify.ends),
            Invariant::AllOrCompensated => td_string!(l, verify.all_or_compensated),
            Invariant::NoUnhandledFailure => td_string!(l, verify.no_unhandled_failure),
            Invariant::AtMostOnce => td_string!(l, verify.at_most_once),
            Invariant::EveryEventHeard => td_string!(l, verify.every_event_heard),
            Invariant::Asserted => td_string!(l, verify.asserted),
        }
        .to_string()
    }
}

/// One fault of a schedule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Choice {
    Attempt {
        node: String,
        execution: u32,
        attempt: u32,
        forced: Forced,
    },
    Delivery {
        message: u64,
        edge: String,
        event: String,
        to: String,
        choice: BusChoice,
    },
    /// The orchestrator crashes `at_ms` into the run (virtual ms), just before what happens
    /// then; with a `standby`, it takes over after [`STANDBY_LEASE_MS`], else the crashed
    /// one is back after [`CRASH_MS`].
    Crash { at_ms: u64, standby: bool },
}

/// How long a crashed orchestrator stays down in a schedule (virtual ms).
pub const CRASH_MS: u64 = 2_000;
/// The lease after which a standby orchestrator takes over in a schedule (virtual ms).
pub const STANDBY_LEASE_MS: u64 = 500;

impl Choice {
    /// The fault in `l`'s words, steps by their names in `workflow`.
    pub fn words(&self, workflow: &Workflow, l: Locale) -> String {
        match self {
            Choice::Attempt {
                node,
                attempt,
                forced,
                ..
            } => {
                let step = workflow.step_name(node);
                match forced {
                    Forced::Fail => td_string!(l, verify.fails, step = step, attempt = attempt),
                    Forced::TimeOut => {
                        td_string!(l, verify.times_out, step = step, attempt = attempt)
                    }
                }
            }
            Choice::Delivery {
                event, to, choice, ..
            } => {
                let to = workflow.step_name(to);
                let event = event.clone();
                match choice {
                    BusChoice::Drop => td_string!(l, verify.dropped, event = event, to = to),
                    BusChoice::Duplicate => {
                        td_string!(l, verify.duplicated, event = event, to = to)
                    }
                    BusChoice::HoldBack => td_string!(l, verify.held_back, event = event, to = to),
                }
            }
            Choice::Crash {
                at_ms,
                standby: true,
            } => td_string!(
                l,
                verify.crash_standby,
                at = at_ms,
                lease = STANDBY_LEASE_MS
            ),
            Choice::Crash {
                at_ms,
                standby: false,
            } => td_string!(l, verify.crash_alone, at = at_ms, down = CRASH_MS),
        }
        .to_string()
    }
}

/// A schedule that breaks an invariant: its faults in the order they happen, and how the
/// run ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    pub invariant: Invariant,
    pub choices: Vec<Choice>,
    pub outcome: LabOutcome,
    pub diagnosis: Option<String>,
    /// Which of the flow's own assertions it breaks, and how (for [`Invariant::Asserted`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke: Option<super::scenario::Difference>,
}

impl Counterexample {
    /// The step where it went wrong, for the canvas to point at: the step a broken
    /// assertion names, else the step of the last fault (the attempt that failed, the step
    /// a lost or doubled event was on its way to).
    pub fn broken_step(&self) -> Option<&str> {
        use super::scenario::Difference;
        match &self.broke {
            Some(Difference::Never { step, .. }) => return Some(step),
            Some(Difference::Step { node, .. }) => return Some(node),
            _ => {}
        }
        self.choices.iter().rev().find_map(|c| match c {
            Choice::Attempt { node, .. } => Some(node.as_str()),
            Choice::Delivery { to, .. } => Some(to.as_str()),
            Choice::Crash { .. } => None,
        })
    }

    /// The schedule as a story: what went wrong, in order, then how the run ended.
    pub fn story(&self, workflow: &Workflow, l: Locale) -> String {
        let faults = if self.choices.is_empty() {
            td_string!(l, verify.no_fault).to_string()
        } else {
            self.choices
                .iter()
                .map(|c| c.words(workflow, l))
                .collect::<Vec<_>>()
                .join(td_string!(l, verify.then))
        };
        // A broken assertion says how it broke; otherwise the run's own diagnosis (the
        // engine says it in English), in other languages how the run ended.
        let how = match (&self.broke, l) {
            (Some(broke), _) => Some(broke.words(workflow, l)),
            (None, Locale::en) => self.diagnosis.clone(),
            (None, _) => Some(self.outcome.words(l).to_string()),
        };
        match how {
            Some(how) => td_string!(l, verify.story, faults = faults, diagnosis = how).to_string(),
            None => faults,
        }
    }
}

/// What some schedule exercised, and what none did: steps that succeeded, edges followed
/// (a command sent or an event delivered along them), undo actions run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub steps: Vec<String>,
    pub edges: Vec<String>,
    pub compensations: Vec<String>,
    /// Steps no schedule got to succeed.
    pub steps_never: Vec<String>,
    /// Edges (routes, failure routes included) no schedule followed.
    pub edges_never: Vec<String>,
    /// Undo actions no schedule ran.
    pub compensations_never: Vec<String>,
}

impl Coverage {
    /// What no schedule exercised, a sentence per kind, steps by their labels: steps none
    /// got to succeed, undo actions none ran, and (when `edges`, the drawn flow's own ids)
    /// edges none followed.
    pub fn never_words(&self, workflow: &Workflow, l: Locale, edges: bool) -> Vec<String> {
        let steps = |ids: &[String]| {
            ids.iter()
                .map(|id| workflow.step_name(id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines = Vec::new();
        if !self.steps_never.is_empty() {
            let steps = steps(&self.steps_never);
            lines.push(td_string!(l, verify.steps_never, steps = steps).to_string());
        }
        if !self.compensations_never.is_empty() {
            let steps = steps(&self.compensations_never);
            lines.push(td_string!(l, verify.compensations_never, steps = steps).to_string());
        }
        let followed: Vec<String> = self
            .edges_never
            .iter()
            .filter(|_| edges)
            .filter_map(|id| workflow.edges.iter().find(|e| &e.id == id))
            .map(|e| {
                format!(
                    "{} → {}",
                    workflow.step_name(&e.from),
                    workflow.step_name(&e.to)
                )
            })
            .collect();
        if !followed.is_empty() {
            let edges = followed.join(", ");
            lines.push(td_string!(l, verify.edges_never, edges = edges).to_string());
        }
        lines
    }
}

/// What a search found.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    /// Schedules run (each a distinct set of faults that all happened).
    pub schedules: u64,
    /// Distinct histories they gave.
    pub states: u64,
    /// For each broken invariant, a shortest schedule that breaks it.
    pub counterexamples: Vec<Counterexample>,
    /// Schedules that broke some invariant.
    pub broken: u64,
    /// The search stopped at its schedule limit, or was cancelled, before it was done.
    pub truncated: bool,
    /// What the reduction saved: sets of faults reached again in another order (the same
    /// schedule), not run again.
    #[serde(default)]
    pub reduced: u64,
    /// How long the search took, in microseconds.
    #[serde(default)]
    pub took_us: u64,
    pub coverage: Coverage,
}

impl Exploration {
    /// The result in one sentence, first: how many schedules break something and the
    /// shortest that does, or that none does.
    pub fn headline(&self, workflow: &Workflow, l: Locale) -> String {
        let shortest = self
            .counterexamples
            .iter()
            .min_by_key(|c| (c.choices.len(), c.invariant));
        let line = match shortest {
            Some(c) => td_string!(
                l,
                verify.headline_broken,
                broken = self.broken,
                schedules = self.schedules,
                invariant = c.invariant.words(l),
                story = c.story(workflow, l)
            ),
            None => td_string!(
                l,
                verify.headline_none,
                schedules = self.schedules,
                states = self.states
            ),
        }
        .to_string();
        if self.truncated {
            format!("{line} {}", td_string!(l, verify.truncated))
        } else {
            line
        }
    }

    /// What the search did, in one line: schedules and distinct histories, the time taken,
    /// histories per second, and what the reduction saved.
    pub fn figures(&self, l: Locale) -> String {
        let seconds = self.took_us as f64 / 1e6;
        let took = if self.took_us >= 1_000_000 {
            format!("{seconds:.1} s")
        } else {
            format!("{:.1} ms", self.took_us as f64 / 1e3)
        };
        let per_second = if self.took_us == 0 {
            0
        } else {
            (self.states as f64 / seconds).round() as u64
        };
        td_string!(
            l,
            verify.figures,
            schedules = self.schedules,
            states = self.states,
            took = took,
            per_second = per_second,
            reduced = self.reduced
        )
        .to_string()
    }
}
