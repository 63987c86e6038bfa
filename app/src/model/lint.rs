//! Design warnings: a workflow can be valid and still be a poor design. Each warning names
//! the step or edge it is about, so the editor can put a badge on it and focus it.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::workflow::{Edge, EdgeKind, Join, Node, Outcome, Workflow};
use crate::i18n::{td_string, Locale};

/// What kind of design problem a warning reports.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A step can fail, nothing is routed on its failure, and it is event-driven: its
    /// failure event reaches nobody.
    UnheardFailure,
    /// Failures are routed for commands but not for events, or the reverse.
    InconsistentFailureHandling,
    /// An orchestrated step runs before steps that can fail, and has nothing to undo it.
    NoCompensation,
    /// A step with a compensation that nothing would run when a later step fails: no
    /// orchestrator saga covers it and nobody subscribes to the failure.
    Uncompensated,
    /// Events lead back to where they started.
    EventCycle,
    /// No run can ever reach the step.
    Unreachable,
    /// A `join: all` step waits for an edge that cannot arrive together with the others.
    JoinNeverCompletes,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub kind: WarningKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    /// In English.
    pub message: String,
    /// What the message says, with its values, so a client can say it in its own words
    /// (absent from warnings stored before it was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub says: Option<Says>,
}

/// A warning's sentence and its values (`says`: which sentence).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "says", rename_all = "snake_case")]
pub enum Says {
    UnheardFailure {
        step: String,
        event: String,
    },
    UnroutedEventStep {
        step: String,
    },
    UnroutedCommandStep {
        step: String,
    },
    NoCompensation {
        step: String,
    },
    Uncompensated {
        steps: Vec<String>,
        step: String,
        event: String,
    },
    EventCycle {
        edge: String,
    },
    Unreachable {
        step: String,
    },
    JoinBothRoutes {
        step: String,
        source: String,
    },
    JoinUnreachable {
        step: String,
        source: String,
    },
}

impl Says {
    /// The sentence in `locale`'s words.
    pub fn words(&self, l: Locale) -> String {
        match self {
            Says::UnheardFailure { step, event } => {
                td_string!(l, lint.unheard_failure, step = step, event = event).to_string()
            }
            Says::UnroutedEventStep { step } => {
                td_string!(l, lint.unrouted_event_step, step = step).to_string()
            }
            Says::UnroutedCommandStep { step } => {
                td_string!(l, lint.unrouted_command_step, step = step).to_string()
            }
            Says::NoCompensation { step } => {
                td_string!(l, lint.no_compensation, step = step).to_string()
            }
            Says::Uncompensated { steps, step, event } => td_string!(
                l,
                lint.uncompensated,
                steps = steps.join(td_string!(l, story.list_separator)),
                step = step,
                event = event
            )
            .to_string(),
            Says::EventCycle { edge } => td_string!(l, lint.event_cycle, edge = edge).to_string(),
            Says::Unreachable { step } => td_string!(l, lint.unreachable, step = step).to_string(),
            Says::JoinBothRoutes { step, source } => {
                td_string!(l, lint.join_both_routes, step = step, source = source).to_string()
            }
            Says::JoinUnreachable { step, source } => {
                td_string!(l, lint.join_unreachable, step = step, source = source).to_string()
            }
        }
    }
}

impl Warning {
    /// A warning of `kind` about `node` or `edge`, saying `says` (in English as `message`).
    pub fn new(kind: WarningKind, node: Option<String>, edge: Option<String>, says: Says) -> Self {
        Warning {
            kind,
            node,
            edge,
            message: says.words(Locale::en),
            says: Some(says),
        }
    }

    /// The warning in `locale`'s words (the stored English for warnings without `says`).
    pub fn words(&self, locale: Locale) -> String {
        match &self.says {
            Some(says) => says.words(locale),
            None => self.message.clone(),
        }
    }
}

fn can_fail(node: &Node) -> bool {
    node.failure_rate.is_some_and(|r| r > 0.0)
        || node.fail_when.is_some()
        || node.timeout_ms.is_some()
}

/// Every design warning of the workflow, in a stable order.
pub fn lint(workflow: &Workflow) -> Vec<Warning> {
    let mut warnings = Vec::new();
    fn incoming<'a>(w: &'a Workflow, id: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        w.edges.iter().filter(move |e| e.to == id)
    }
    fn outgoing<'a>(
        w: &'a Workflow,
        id: &'a str,
        on: Outcome,
    ) -> impl Iterator<Item = &'a Edge> + 'a {
        w.edges.iter().filter(move |e| e.from == id && e.on == on)
    }
    let failure_commands = workflow
        .edges
        .iter()
        .any(|e| e.on == Outcome::Failure && e.kind == EdgeKind::Command);
    let failure_events = workflow
        .edges
        .iter()
        .any(|e| e.on == Outcome::Failure && e.kind == EdgeKind::Event);

    for node in workflow.nodes.iter().filter(|n| can_fail(n)) {
        let event_driven = incoming(workflow, &node.id).any(|e| e.kind == EdgeKind::Event);
        let commanded = incoming(workflow, &node.id).any(|e| e.kind == EdgeKind::Command);
        let routed = outgoing(workflow, &node.id, Outcome::Failure)
            .next()
            .is_some();
        if routed {
            continue;
        }
        if event_driven {
            let event = Workflow::default_event_name(&node.label, Outcome::Failure);
            warnings.push(Warning::new(
                WarningKind::UnheardFailure,
                Some(node.id.clone()),
                None,
                Says::UnheardFailure {
                    step: node.label.clone(),
                    event,
                },
            ));
            if failure_commands {
                warnings.push(Warning::new(
                    WarningKind::InconsistentFailureHandling,
                    Some(node.id.clone()),
                    None,
                    Says::UnroutedEventStep {
                        step: node.label.clone(),
                    },
                ));
            }
        } else if commanded && failure_events {
            warnings.push(Warning::new(
                WarningKind::InconsistentFailureHandling,
                Some(node.id.clone()),
                None,
                Says::UnroutedCommandStep {
                    step: node.label.clone(),
                },
            ));
        }
    }

    // Orchestrated steps that something failing may need undone.
    for node in &workflow.nodes {
        let commanded_next: Vec<&str> = outgoing(workflow, &node.id, Outcome::Success)
            .filter(|e| e.kind == EdgeKind::Command)
            .map(|e| e.to.as_str())
            .collect();
        if commanded_next.is_empty() || node.compensation.is_some() {
            continue;
        }
        let later_can_fail = command_descendants(workflow, &node.id)
            .iter()
            .any(|id| workflow.node(id).is_some_and(can_fail));
        if later_can_fail {
            warnings.push(Warning::new(
                WarningKind::NoCompensation,
                Some(node.id.clone()),
                None,
                Says::NoCompensation {
                    step: node.label.clone(),
                },
            ));
        }
    }

    // Compensations nothing would run: a saga only undoes orchestrated steps, and only
    // when an orchestrated step fails without a route.
    let orchestrated = |id: &str| {
        incoming(workflow, id).any(|e| e.kind == EdgeKind::Command)
            || (incoming(workflow, id).next().is_none()
                && workflow
                    .edges
                    .iter()
                    .any(|e| e.from == id && e.kind == EdgeKind::Command))
    };
    for failing in workflow.nodes.iter().filter(|n| can_fail(n)) {
        if outgoing(workflow, &failing.id, Outcome::Failure)
            .next()
            .is_some()
        {
            continue;
        }
        let saga = orchestrated(&failing.id);
        let stranded: Vec<String> = success_ancestors(workflow, &failing.id)
            .into_iter()
            .filter_map(|id| workflow.node(id))
            .filter(|n| n.compensation.is_some() && !(saga && orchestrated(&n.id)))
            .map(|n| n.label.clone())
            .collect();
        if !stranded.is_empty() {
            let event = Workflow::default_event_name(&failing.label, Outcome::Failure);
            warnings.push(Warning::new(
                WarningKind::Uncompensated,
                Some(failing.id.clone()),
                None,
                Says::Uncompensated {
                    steps: stranded,
                    step: failing.label.clone(),
                    event,
                },
            ));
        }
    }

    for cycle_edge in event_cycle_edges(workflow) {
        warnings.push(Warning::new(
            WarningKind::EventCycle,
            None,
            Some(cycle_edge.clone()),
            Says::EventCycle {
                edge: cycle_edge.clone(),
            },
        ));
    }

    let reachable = reachable(workflow);
    for node in workflow
        .nodes
        .iter()
        .filter(|n| !reachable.contains(n.id.as_str()))
    {
        warnings.push(Warning::new(
            WarningKind::Unreachable,
            Some(node.id.clone()),
            None,
            Says::Unreachable {
                step: node.label.clone(),
            },
        ));
    }

    for node in workflow.nodes.iter().filter(|n| n.join_mode() == Join::All) {
        let arriving: Vec<_> = incoming(workflow, &node.id).collect();
        let mut by_source: HashMap<&str, HashSet<Outcome>> = HashMap::new();
        for e in &arriving {
            by_source.entry(e.from.as_str()).or_default().insert(e.on);
        }
        for (source, outcomes) in by_source {
            if outcomes.len() > 1 {
                warnings.push(Warning::new(
                    WarningKind::JoinNeverCompletes,
                    Some(node.id.clone()),
                    None,
                    Says::JoinBothRoutes {
                        step: node.label.clone(),
                        source: source.to_string(),
                    },
                ));
            }
        }
        for e in &arriving {
            if !reachable.contains(e.from.as_str()) {
                warnings.push(Warning::new(
                    WarningKind::JoinNeverCompletes,
                    Some(node.id.clone()),
                    Some(e.id.clone()),
                    Says::JoinUnreachable {
                        step: node.label.clone(),
                        source: e.from.clone(),
                    },
                ));
            }
        }
    }
    warnings
}

/// Steps reached from `from` through successful commands, transitively.
fn command_descendants<'a>(workflow: &'a Workflow, from: &str) -> Vec<&'a str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = workflow
        .edges
        .iter()
        .filter(|e| e.from == from && e.kind == EdgeKind::Command && e.on == Outcome::Success)
        .map(|e| e.to.as_str())
        .collect();
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        queue.extend(
            workflow
                .edges
                .iter()
                .filter(|e| e.from == id && e.kind == EdgeKind::Command && e.on == Outcome::Success)
                .map(|e| e.to.as_str()),
        );
    }
    seen.into_iter().collect()
}

/// Steps that ran successfully before `to` (through success edges of either kind), in the
/// workflow's node order.
fn success_ancestors<'a>(workflow: &'a Workflow, to: &str) -> Vec<&'a str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = VecDeque::from([to]);
    while let Some(id) = queue.pop_front() {
        for e in workflow
            .edges
            .iter()
            .filter(|e| e.to == id && e.on == Outcome::Success)
        {
            if e.from != to && seen.insert(e.from.as_str()) {
                queue.push_back(e.from.as_str());
            }
        }
    }
    workflow
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .filter(|id| seen.contains(id))
        .collect()
}

/// Steps reachable from the roots (steps without incoming edges).
fn reachable(workflow: &Workflow) -> HashSet<&str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = workflow.roots().map(|n| n.id.as_str()).collect();
    while let Some(id) = queue.pop_front() {
        if seen.insert(id) {
            queue.extend(
                workflow
                    .edges
                    .iter()
                    .filter(|e| e.from == id)
                    .map(|e| e.to.as_str()),
            );
        }
    }
    seen
}

/// Event edges that lie on a cycle made of event edges only.
fn event_cycle_edges(workflow: &Workflow) -> Vec<String> {
    let events: Vec<_> = workflow
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Event)
        .collect();
    let reaches = |from: &str, to: &str| {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut queue = VecDeque::from([from]);
        while let Some(id) = queue.pop_front() {
            if id == to {
                return true;
            }
            if seen.insert(id) {
                queue.extend(
                    events
                        .iter()
                        .filter(|e| e.from == id)
                        .map(|e| e.to.as_str()),
                );
            }
        }
        false
    };
    events
        .iter()
        .filter(|e| reaches(&e.to, &e.from))
        .map(|e| e.id.clone())
        .collect()
}
