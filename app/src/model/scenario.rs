//! Scenarios as tests. A workflow document keeps named runs worth repeating — an input,
//! faults, a seed — with what each must show (how the run ends, the steps' final states),
//! and assertions every run of the flow must keep: `never` orderings ("Email never starts
//! before Payment succeeded") and `always` facts about the final run data (conditions,
//! as on edges). `hybridflow test`, the editor's Tests panel and
//! `POST /api/workflows/{id}/test` run the scenarios; the explorer checks the assertions on
//! every schedule it visits.
//!
//! What is checked is pure: [`differences`] reads a finished run (its history, status, step
//! states and data) and lists each way it differs from what was expected, each said in both
//! languages by [`Difference::words`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::faults::Faults;
use super::run::{RunEvent, RunStatus, StepState};
use super::workflow::Workflow;
use crate::i18n::Locale;

/// The most scenarios a document keeps.
pub const MAX_SCENARIOS: usize = 50;
/// The most `never` orderings, and the most `always` facts, a document keeps.
pub const MAX_ASSERTIONS: usize = 50;
/// The most step states one scenario expects.
pub const MAX_EXPECTED_STEPS: usize = 200;
/// The most bytes of a scenario's input (as JSON).
pub const MAX_SCENARIO_INPUT_BYTES: usize = 16 * 1024;
/// The seed a scenario runs with unless it names one.
pub const DEFAULT_SCENARIO_SEED: u64 = 1;

/// A named run kept with the workflow, and what it must show.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// A shipped template's scenario: its stable key (the page names it in each language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The run input.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub input: Map<String, Value>,
    /// What is broken during the run (as the editor's Break panel sets it).
    #[serde(default, skip_serializing_if = "Faults::is_none")]
    pub faults: Faults,
    /// The seed of every random choice (latencies, failure rates); 1 unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Expect::is_empty")]
    pub expect: Expect,
}

impl Scenario {
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(DEFAULT_SCENARIO_SEED)
    }

    /// The input as the run form's text, as a person writes it: `{"card": "expired"}`.
    pub fn input_text(&self) -> String {
        let fields: Vec<String> = self
            .input
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    Value::String(k.clone()),
                    serde_json::to_string(v).unwrap_or_default()
                )
            })
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}

/// What a scenario's run must show; what is not named is not checked.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// How the run ends: `completed`, `compensated` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunStatus>,
    /// Step id → its state when the run has ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: BTreeMap<String, StepState>,
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        self.outcome.is_none() && self.steps.is_empty()
    }
}

/// What every run of the flow must keep, whatever its input and faults.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never: Vec<Never>,
    /// Conditions on the final run data (the input and what the steps wrote), in the
    /// language of edge conditions: each must hold when a run has ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub always: Vec<String>,
}

impl Assertions {
    pub fn is_empty(&self) -> bool {
        self.never.is_empty() && self.always.is_empty()
    }
}

/// `step` never starts before `before` has succeeded: "Email never before Payment
/// succeeded".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Never {
    pub step: String,
    pub before: String,
}

/// One way a finished run differs from what was expected of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Difference {
    /// The run ended otherwise (`got` is `running` when it never ended).
    Outcome { expected: RunStatus, got: RunStatus },
    /// A step ended in another state.
    Step {
        node: String,
        expected: StepState,
        got: StepState,
    },
    /// `assertions.never[index]` broke: `step` started at `at_ms` (virtual) before
    /// `before` had succeeded.
    Never {
        index: usize,
        step: String,
        before: String,
        at_ms: u64,
    },
    /// `assertions.always[index]` is false on the final run data (shown as `data`).
    Always {
        index: usize,
        fact: String,
        data: String,
    },
    /// A scenario expects a state of, or an assertion names, a step the flow no longer has
    /// (it was deleted or renamed after the scenario was kept).
    NoSuchStep { node: String },
    /// `assertions.always[index]` could not be evaluated on the final run data.
    AlwaysUnreadable {
        index: usize,
        fact: String,
        error: String,
    },
}

/// The most characters of the run data a broken `always` fact quotes.
pub const MAX_QUOTED_DATA_CHARS: usize = 200;

impl Difference {
    /// The difference in `l`'s words, steps by their names in `workflow`.
    pub fn words(&self, workflow: &Workflow, l: Locale) -> String {
        use super::log::{state_words, status_words};
        match self {
            Difference::Outcome {
                expected,
                got: RunStatus::Running,
            } => td_string!(
                l,
                scenario.did_not_end,
                expected = status_words(l, *expected)
            )
            .to_string(),
            Difference::Outcome { expected, got } => td_string!(
                l,
                scenario.outcome,
                expected = status_words(l, *expected),
                got = status_words(l, *got)
            )
            .to_string(),
            Difference::Step {
                node,
                expected,
                got,
            } => td_string!(
                l,
                scenario.step,
                step = workflow.step_name(node),
                expected = state_words(l, *expected),
                got = state_words(l, *got)
            )
            .to_string(),
            Difference::Never {
                step,
                before,
                at_ms,
                ..
            } => td_string!(
                l,
                scenario.never_broken,
                step = workflow.step_name(step),
                before = workflow.step_name(before),
                at = at_ms
            )
            .to_string(),
            Difference::Always { fact, data, .. } => {
                td_string!(l, scenario.always_broken, fact = fact, data = data).to_string()
            }
            Difference::NoSuchStep { node } => {
                td_string!(l, scenario.no_such_step, id = node).to_string()
            }
            Difference::AlwaysUnreadable { fact, error, .. } => {
                td_string!(l, scenario.always_unreadable, fact = fact, error = error).to_string()
            }
        }
    }

    /// Which assertion it broke, when it is one: (`never` or `always`, its index).
    pub fn assertion(&self) -> Option<(&'static str, usize)> {
        match self {
            Difference::Never { index, .. } => Some(("never", *index)),
            Difference::Always { index, .. } | Difference::AlwaysUnreadable { index, .. } => {
                Some(("always", *index))
            }
            _ => None,
        }
    }
}

/// A `never` ordering in `l`'s words ("Email never starts before Payment has succeeded").
pub fn never_words(never: &Never, workflow: &Workflow, l: Locale) -> String {
    td_string!(
        l,
        scenario.never,
        step = workflow.step_name(&never.step),
        before = workflow.step_name(&never.before)
    )
    .to_string()
}

/// The `never` orderings a history breaks: for each, the first start of its step before
/// its other step had succeeded.
pub fn broken_orderings(assertions: &Assertions, history: &[(u64, RunEvent)]) -> Vec<Difference> {
    let mut out = Vec::new();
    for (index, never) in assertions.never.iter().enumerate() {
        let mut succeeded = false;
        for (at, event) in history {
            match event {
                RunEvent::StepSucceeded { node, .. } if *node == never.before => succeeded = true,
                RunEvent::StepStarted { node, .. } if *node == never.step && !succeeded => {
                    out.push(Difference::Never {
                        index,
                        step: never.step.clone(),
                        before: never.before.clone(),
                        at_ms: *at,
                    });
                    break;
                }
                _ => {}
            }
        }
    }
    out
}

/// How `expect` differs from a run that ended `status` with steps in `state_of`'s states.
pub fn expected_differences(
    workflow: &Workflow,
    expect: &Expect,
    status: RunStatus,
    state_of: impl Fn(&str) -> StepState,
) -> Vec<Difference> {
    let mut out = Vec::new();
    // Steps named that the flow no longer has (an assertion's too): the test cannot hold.
    let named = expect.steps.keys().chain(
        workflow
            .assertions
            .never
            .iter()
            .flat_map(|n| [&n.step, &n.before]),
    );
    let mut missing: Vec<&String> = named.filter(|id| workflow.node(id).is_none()).collect();
    missing.sort();
    missing.dedup();
    out.extend(
        missing
            .into_iter()
            .map(|node| Difference::NoSuchStep { node: node.clone() }),
    );
    if let Some(expected) = expect.outcome {
        if expected != status {
            out.push(Difference::Outcome {
                expected,
                got: status,
            });
        }
    }
    for (node, expected) in expect
        .steps
        .iter()
        .filter(|(id, _)| workflow.node(id).is_some())
    {
        let got = state_of(node);
        if got != *expected {
            out.push(Difference::Step {
                node: node.clone(),
                expected: *expected,
                got,
            });
        }
    }
    out
}

/// The final run data quoted in a difference: compact JSON, cut at
/// [`MAX_QUOTED_DATA_CHARS`].
pub fn quoted_data(data: &Map<String, Value>) -> String {
    let text = serde_json::to_string(data).unwrap_or_default();
    if text.chars().count() <= MAX_QUOTED_DATA_CHARS {
        text
    } else {
        let cut: String = text.chars().take(MAX_QUOTED_DATA_CHARS).collect();
        format!("{cut}…")
    }
}

/// The `always` facts the final run `data` breaks (the server's build reads conditions).
#[cfg(feature = "conditions")]
pub fn broken_facts(assertions: &Assertions, data: &Map<String, Value>) -> Vec<Difference> {
    use super::condition::Condition;
    let mut out = Vec::new();
    for (index, fact) in assertions.always.iter().enumerate() {
        let held = Condition::shared(fact).and_then(|c| c.holds(data));
        match held {
            Ok(true) => {}
            Ok(false) => out.push(Difference::Always {
                index,
                fact: fact.clone(),
                data: quoted_data(data),
            }),
            Err(e) => out.push(Difference::AlwaysUnreadable {
                index,
                fact: fact.clone(),
                error: e.to_string(),
            }),
        }
    }
    out
}

/// How one scenario's run went.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub passed: bool,
    /// How the run ended (`running`: it never did).
    pub status: RunStatus,
    /// Its virtual duration, in simulated ms.
    pub duration_ms: u64,
    pub differences: Vec<Difference>,
    /// The run's story, in English (the API's words).
    pub diagnosis: Option<String>,
}

/// Every scenario of one workflow, run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub workflow: String,
    pub results: Vec<ScenarioResult>,
    pub passed: usize,
    pub failed: usize,
}

impl TestReport {
    pub fn new(workflow: String, results: Vec<ScenarioResult>) -> TestReport {
        let passed = results.iter().filter(|r| r.passed).count();
        let failed = results.len() - passed;
        TestReport {
            workflow,
            results,
            passed,
            failed,
        }
    }

    /// The result in one sentence, first.
    pub fn headline(&self, l: Locale) -> String {
        if self.results.is_empty() {
            td_string!(l, scenario.headline_none).to_string()
        } else if self.failed == 0 {
            td_string!(l, scenario.headline_passed, passed = self.passed).to_string()
        } else {
            td_string!(
                l,
                scenario.headline_failed,
                failed = self.failed,
                total = self.results.len()
            )
            .to_string()
        }
    }
}

/// Every problem of a document's scenarios and assertions: (path, node concerned, field,
/// message in `l`'s words). A step they name that the flow does not have is not one — a
/// deleted step must not make the document unsaveable — but a difference when they run.
pub fn problems(workflow: &Workflow, l: Locale) -> Vec<(String, Option<String>, String, String)> {
    let mut out = Vec::new();
    let mut push = |path: String, node: Option<&str>, field: &str, message: String| {
        out.push((path, node.map(str::to_string), field.to_string(), message));
    };
    let mut names = std::collections::HashSet::new();
    for (i, scenario) in workflow.scenarios.iter().enumerate() {
        let at = format!("scenarios[{i}]");
        let name = scenario.name.trim();
        if name.is_empty() {
            push(
                format!("{at}.name"),
                None,
                "name",
                td_string!(l, problem.empty).to_string(),
            );
        } else if name.chars().count() > super::validate::MAX_STRING_CHARS {
            push(
                format!("{at}.name"),
                None,
                "name",
                td_string!(
                    l,
                    problem.too_long,
                    count = name.chars().count(),
                    limit = super::validate::MAX_STRING_CHARS
                )
                .to_string(),
            );
        } else if !names.insert(name.to_string()) {
            push(
                format!("{at}.name"),
                None,
                "name",
                td_string!(l, scenario.duplicate_name, name = name).to_string(),
            );
        }
        let bytes = serde_json::to_string(&scenario.input).map_or(0, |s| s.len());
        if bytes > MAX_SCENARIO_INPUT_BYTES {
            push(
                format!("{at}.input"),
                None,
                "input",
                td_string!(
                    l,
                    scenario.input_too_large,
                    bytes = bytes,
                    limit = MAX_SCENARIO_INPUT_BYTES
                )
                .to_string(),
            );
        }
        // Value ranges only: a scenario naming a service or step the flow no longer has
        // still saves (its test says so when it runs).
        for problem in scenario.faults.problems() {
            push(format!("{at}.faults"), None, "faults", problem);
        }
        if matches!(
            scenario.expect.outcome,
            Some(RunStatus::Running | RunStatus::Cancelled)
        ) {
            push(
                format!("{at}.expect.outcome"),
                None,
                "outcome",
                td_string!(l, scenario.outcome_not_an_end).to_string(),
            );
        }
        if scenario.expect.steps.len() > MAX_EXPECTED_STEPS {
            push(
                format!("{at}.expect.steps"),
                None,
                "steps",
                td_string!(
                    l,
                    problem.too_many,
                    count = scenario.expect.steps.len(),
                    field = "steps",
                    limit = MAX_EXPECTED_STEPS
                )
                .to_string(),
            );
        }
    }
    for (i, never) in workflow.assertions.never.iter().enumerate() {
        if never.step == never.before {
            push(
                format!("assertions.never[{i}].before"),
                Some(&never.step),
                "before",
                td_string!(l, scenario.never_itself).to_string(),
            );
        }
    }
    for (i, fact) in workflow.assertions.always.iter().enumerate() {
        if fact.chars().count() > super::validate::MAX_CONDITION_CHARS {
            push(
                format!("assertions.always[{i}]"),
                None,
                "always",
                td_string!(
                    l,
                    problem.too_long,
                    count = fact.chars().count(),
                    limit = super::validate::MAX_CONDITION_CHARS
                )
                .to_string(),
            );
        } else if let Some(problem) = super::validate::condition_problem(fact, l) {
            push(format!("assertions.always[{i}]"), None, "always", problem);
        }
    }
    out
}
