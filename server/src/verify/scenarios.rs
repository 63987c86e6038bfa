//! Scenarios as tests: each scenario a workflow document keeps runs on the engine's own
//! core in virtual time ([`crate::lab::simulate`]) — its input, faults and seed — and is
//! checked against what it expects (outcome, step states) and the flow's assertions
//! (`never` orderings, `always` facts). Deterministic: the same document gives the same
//! report, on the command line (`hybridflow test`), in the editor's Tests panel and from
//! `POST /api/workflows/{id}/test`.

use app::model::scenario::{
    broken_facts, broken_orderings, expected_differences, Scenario, ScenarioResult, TestReport,
};
use app::model::{RunStatus, StepState, Workflow};
use serde_json::Value;

use crate::lab::simulate::{Library, VirtualRun};

/// Runs every scenario of `workflow` (sub-flow steps run the workflows of `library`).
pub fn run_scenarios(library: &Library, workflow: &Workflow) -> TestReport {
    let results = workflow
        .scenarios
        .iter()
        .map(|scenario| run_scenario(library, workflow, scenario))
        .collect();
    TestReport::new(workflow.name.clone(), results)
}

/// Runs one scenario to its end and lists how it differs from what it expects.
pub fn run_scenario(library: &Library, workflow: &Workflow, scenario: &Scenario) -> ScenarioResult {
    let mut workflow = workflow.clone();
    workflow.assign_edge_ids();
    let run = VirtualRun::complete_in(
        library,
        &workflow,
        Value::Object(scenario.input.clone()),
        scenario.seed(),
        scenario.faults.clone(),
        0,
    );
    let (status, diagnosis) = match run.completed() {
        Some((status, diagnosis, _)) => (status, diagnosis),
        None => (RunStatus::Running, None),
    };
    let mut differences = expected_differences(&workflow, &scenario.expect, status, |node| {
        run.core.state_of(node).unwrap_or(StepState::Pending)
    });
    differences.extend(broken_orderings(&workflow.assertions, &run.history));
    if status != RunStatus::Running {
        differences.extend(broken_facts(&workflow.assertions, &run.core.data()));
    }
    ScenarioResult {
        name: scenario.name.clone(),
        key: scenario.key.clone(),
        passed: differences.is_empty(),
        status,
        duration_ms: run.ended_at().unwrap_or(run.now),
        differences,
        diagnosis,
    }
}
