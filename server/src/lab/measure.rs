//! What one simulated run tells the lab (its outcome, latency, messages, final states),
//! and what a workflow's shape costs in coupling.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::model::lab::{Coupling, LabOutcome, ServiceCoupling};
use app::model::log::{Trace, Visibility};
use app::model::{EdgeKind, MessageCounts, Outcome, RunEvent, RunStatus, StepState, Workflow};

use super::simulate::{Library, VirtualRun};

/// The facts of one finished run that the lab aggregates.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFacts {
    pub outcome: LabOutcome,
    pub latency_ms: u64,
    pub messages: MessageCounts,
    pub steps_executed: u64,
    pub retries: u64,
    pub compensations: u64,
    /// Steps that failed for good (after their retries).
    pub failed_steps: BTreeSet<String>,
    /// Each step's state at the end.
    pub final_states: HashMap<String, StepState>,
    pub diagnosis: Option<String>,
    /// Where the run's state lived and how much must be read to trace it.
    pub visibility: Visibility,
    /// How long each call to a real service took (none in virtual time).
    pub calls_ms: Vec<u64>,
}

/// Reads a finished simulated run. `None` if it did not finish.
pub fn facts(workflow: &Workflow, run: &VirtualRun) -> Option<RunFacts> {
    facts_of(workflow, &run.history)
}

/// Reads a finished run from its history, each event with the ms since the run began
/// (virtual, or measured when the run was real). `None` if it did not finish.
pub fn facts_of(workflow: &Workflow, history: &[(u64, RunEvent)]) -> Option<RunFacts> {
    let (ended_at, status, diagnosis, messages) = match history.last()? {
        (
            at,
            RunEvent::RunCompleted {
                status,
                diagnosis,
                messages,
                ..
            },
        ) => (*at, *status, diagnosis.clone(), *messages),
        _ => return None,
    };
    let mut final_states: HashMap<String, StepState> = workflow
        .nodes
        .iter()
        .map(|n| (n.id.clone(), StepState::Pending))
        .collect();
    let mut steps_executed = 0;
    let mut retries = 0;
    let mut compensations = 0;
    let mut failed_steps = BTreeSet::new();
    let mut dropped_to = Vec::new();
    let mut trace = Trace::new(workflow);
    let mut calls_ms = Vec::new();
    for (_, event) in history {
        trace.apply(event);
        if let Some((node, state)) = event.step_change() {
            final_states.insert(node.to_string(), state);
        }
        match event {
            RunEvent::StepStarted { attempt: 1, .. } => steps_executed += 1,
            RunEvent::RetryScheduled { .. } => retries += 1,
            RunEvent::StepCompensated { .. } => compensations += 1,
            RunEvent::StepFailed { node, .. } => {
                failed_steps.insert(node.clone());
            }
            RunEvent::EventDropped { to, .. } => dropped_to.push(to.clone()),
            RunEvent::ServiceCalled { took_ms, .. } => calls_ms.push(*took_ms),
            _ => {}
        }
    }
    // Stalled: an event the bus lost never reached the step it was for, or a step waited
    // for a message that never came.
    let stalled = dropped_to
        .iter()
        .any(|to| final_states.get(to) == Some(&StepState::Skipped))
        || diagnosis
            .as_deref()
            .is_some_and(|d| d.starts_with("stalled"));
    let undo_left = workflow.nodes.iter().any(|n| {
        n.compensation.is_some() && final_states.get(&n.id) == Some(&StepState::Succeeded)
    });
    let outcome = match status {
        RunStatus::Cancelled => LabOutcome::Cancelled,
        _ if stalled => LabOutcome::Stalled,
        RunStatus::Compensated => LabOutcome::Compensated,
        RunStatus::Completed if failed_steps.is_empty() => LabOutcome::Succeeded,
        RunStatus::Completed => LabOutcome::Handled,
        _ if undo_left => LabOutcome::Inconsistent,
        _ => LabOutcome::Unhandled,
    };
    Some(RunFacts {
        outcome,
        latency_ms: ended_at,
        messages,
        steps_executed,
        retries,
        compensations,
        failed_steps,
        final_states,
        diagnosis,
        visibility: trace.visibility(),
        calls_ms,
    })
}

/// Steps, other than the ones that failed, whose final state differs from `reference`
/// (the same run without failures): how far the failure reached.
pub fn blast_radius(run: &RunFacts, reference: &RunFacts) -> u32 {
    run.final_states
        .iter()
        .filter(|(node, _)| !run.failed_steps.contains(*node))
        .filter(|(node, state)| reference.final_states.get(*node) != Some(state))
        .count() as u32
}

/// Who must know whom in `workflow`: the orchestrator knows every service it commands or
/// hears replies from; a service knows the orchestrator if any of its steps is commanded
/// or commands follow it, and every event contract it publishes or subscribes to.
pub fn coupling(workflow: &Workflow) -> Coupling {
    coupling_in(&Library::default(), workflow)
}

/// [`coupling`] over `workflow` and the workflows its sub-flow steps run (found in
/// `library`, and theirs, each once): a child's services, contracts and rules are known by
/// whoever its own edges say, and count as the parent's.
pub fn coupling_in(library: &Library, workflow: &Workflow) -> Coupling {
    let mut flows: Vec<&Workflow> = vec![workflow];
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut at = 0;
    while at < flows.len() {
        for called in flows[at].nodes.iter().filter_map(|n| n.sub_flow.as_deref()) {
            if let (true, Some(child)) = (seen.insert(called), library.get(called)) {
                flows.push(child);
            }
        }
        at += 1;
    }
    let mut orchestrated: BTreeSet<&str> = BTreeSet::new();
    let mut contracts: BTreeSet<String> = BTreeSet::new();
    let mut knows: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    // Each decision's rule (a loop's bound is one), and who must know it.
    let mut rules: HashMap<(usize, &str, Outcome), BTreeSet<&str>> = HashMap::new();
    let mut watchdogs = 0;
    for (flow, workflow) in flows.iter().enumerate() {
        let service_of: HashMap<&str, &str> = workflow
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.service.as_str()))
            .collect();
        for n in &workflow.nodes {
            knows.entry(n.service.as_str()).or_default();
        }
        for edge in &workflow.edges {
            let (Some(from), Some(to)) = (
                service_of.get(edge.from.as_str()),
                service_of.get(edge.to.as_str()),
            ) else {
                continue;
            };
            match edge.kind {
                EdgeKind::Command => {
                    orchestrated.insert(from);
                    orchestrated.insert(to);
                    for s in [from, to] {
                        knows.entry(s).or_default().insert("orchestrator".into());
                    }
                }
                EdgeKind::Event => {
                    let name = workflow.event_name(edge);
                    contracts.insert(name.clone());
                    for s in [from, to] {
                        knows.entry(s).or_default().insert(name.clone());
                    }
                }
            }
        }
        for edge in workflow
            .edges
            .iter()
            .filter(|e| e.condition.is_some() || e.max_iterations.is_some())
        {
            let holder = match edge.kind {
                EdgeKind::Command => "orchestrator",
                EdgeKind::Event if edge.filtered_by_subscriber() => {
                    service_of.get(edge.to.as_str()).copied().unwrap_or("")
                }
                EdgeKind::Event => service_of.get(edge.from.as_str()).copied().unwrap_or(""),
            };
            rules
                .entry((flow, edge.from.as_str(), edge.on))
                .or_default()
                .insert(holder);
            if holder != "orchestrator" {
                let rule = format!("rule after {}", workflow.step_name(&edge.from));
                knows.entry(holder).or_default().insert(rule);
            }
        }
        let published: BTreeSet<String> = workflow
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Event)
            .map(|e| workflow.event_name(e))
            .collect();
        watchdogs += workflow
            .nodes
            .iter()
            .filter_map(|n| n.wait.as_ref())
            .filter(|w| w.timeout_ms.is_some())
            .filter(|w| w.message.as_ref().is_some_and(|m| published.contains(m)))
            .count() as u32;
    }
    Coupling {
        watchdogs,
        rules: rules.len() as u32,
        rule_holders: rules.values().map(|h| h.len() as u32).sum(),
        orchestrator_knows: orchestrated.len() as u32,
        event_contracts: contracts.len() as u32,
        services: knows
            .into_iter()
            .map(|(service, knows)| ServiceCoupling {
                service: service.to_string(),
                knows: knows.into_iter().collect(),
            })
            .collect(),
    }
}

/// The `p`-th percentile (nearest rank) of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
