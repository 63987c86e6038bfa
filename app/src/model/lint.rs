//! Design warnings: a workflow can be valid and still be a poor design. Each warning names
//! the step or edge it is about, so the editor can put a badge on it and focus it.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::workflow::{Edge, EdgeKind, Join, Node, Outcome, Workflow};
use crate::i18n::Locale;

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
    /// A step waits for a message with no timeout: if the message never comes, the run
    /// waits for ever and nobody is told.
    WaitWithoutTimeout,
    /// Commands and events lead round a loop none of whose edges has a bound
    /// (`max_iterations`): it runs until the run's runaway limit stops it.
    UnboundedLoop,
    /// A for-each works on a field no step writes: only a run whose input carries the
    /// list gets past it.
    ForEachUnwritten,
    /// A branch of a decision can never be taken: its condition is `false`, an earlier
    /// branch of an exclusive decision has the same condition, or one is `true`.
    BranchNeverTaken,
    /// A condition reads a field nobody provides: no step writes it, no step says it reads
    /// it from the run's input, no event carries it, and neither the template's runs nor
    /// the input typed for the next run bring it — a misspelt name, most often.
    UnknownField,
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
    WaitWithoutTimeout {
        step: String,
        message: String,
    },
    UnboundedLoop {
        edge: String,
        from: String,
        to: String,
    },
    ForEachUnwritten {
        step: String,
        field: String,
    },
    BranchNeverTaken {
        edge: String,
        step: String,
        why: NeverTaken,
    },
    UnknownField {
        edge: String,
        step: String,
        field: String,
        /// A known field close to it (one or two letters away): what was meant, likely.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        near: Option<String>,
    },
}

/// Why a branch can never be taken ([`WarningKind::BranchNeverTaken`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeverTaken {
    /// Its condition is `false`.
    False,
    /// An earlier branch of the exclusive decision has the same condition (that edge).
    Same(String),
    /// An earlier branch of the exclusive decision is `true` (that edge).
    AfterTrue(String),
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
            Says::WaitWithoutTimeout { step, message } => {
                td_string!(l, lint.wait_without_timeout, step = step, message = message).to_string()
            }
            Says::UnboundedLoop { edge, from, to } => {
                td_string!(l, lint.unbounded_loop, edge = edge, from = from, to = to).to_string()
            }
            Says::ForEachUnwritten { step, field } => {
                td_string!(l, lint.for_each_unwritten, step = step, field = field).to_string()
            }
            Says::UnknownField {
                edge,
                step,
                field,
                near: Some(near),
            } => td_string!(
                l,
                lint.unknown_field_near,
                edge = edge,
                step = step,
                field = field,
                near = near
            )
            .to_string(),
            Says::UnknownField {
                edge, step, field, ..
            } => td_string!(
                l,
                lint.unknown_field,
                edge = edge,
                step = step,
                field = field
            )
            .to_string(),
            Says::BranchNeverTaken { edge, step, why } => match why {
                NeverTaken::False => {
                    td_string!(l, lint.never_false, edge = edge, step = step).to_string()
                }
                NeverTaken::Same(earlier) => td_string!(
                    l,
                    lint.never_same,
                    edge = edge,
                    step = step,
                    earlier = earlier
                )
                .to_string(),
                NeverTaken::AfterTrue(earlier) => td_string!(
                    l,
                    lint.never_after_true,
                    edge = edge,
                    step = step,
                    earlier = earlier
                )
                .to_string(),
            },
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
        || node.wait.as_ref().is_some_and(|w| w.timeout_ms.is_some())
        // Its child run may not complete.
        || node.sub_flow.is_some()
}

/// Steps a warning names at most; the rest are counted ("and 12 more").
pub const MAX_NAMED_STEPS: usize = 8;

/// The workflow's edges by source and by target, built once: every question below is then
/// answered in time linear in the workflow (a 2,000-step, 5,000-edge workflow is linted
/// in milliseconds, where scanning every edge for each step made it take half a minute).
struct Graph<'a> {
    workflow: &'a Workflow,
    out: HashMap<&'a str, Vec<&'a Edge>>,
    into: HashMap<&'a str, Vec<&'a Edge>>,
}

impl<'a> Graph<'a> {
    fn new(workflow: &'a Workflow) -> Self {
        let mut out: HashMap<&str, Vec<&Edge>> = HashMap::new();
        let mut into: HashMap<&str, Vec<&Edge>> = HashMap::new();
        for e in &workflow.edges {
            out.entry(e.from.as_str()).or_default().push(e);
            into.entry(e.to.as_str()).or_default().push(e);
        }
        Graph {
            workflow,
            out,
            into,
        }
    }

    fn incoming(&self, id: &str) -> impl Iterator<Item = &'a Edge> + '_ {
        self.into.get(id).into_iter().flatten().copied()
    }

    fn outgoing(&self, id: &str) -> impl Iterator<Item = &'a Edge> + '_ {
        self.out.get(id).into_iter().flatten().copied()
    }
}

/// Every design warning of the workflow, in a stable order.
pub fn lint(workflow: &Workflow) -> Vec<Warning> {
    lint_given(workflow, &[])
}

/// [`lint`], knowing that the next run's input brings the fields `given` (the run form's
/// input, in the editor): a condition reading one of them reads a field someone provides.
pub fn lint_given(workflow: &Workflow, given: &[String]) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let graph = Graph::new(workflow);
    let failure_commands = workflow
        .edges
        .iter()
        .any(|e| e.on == Outcome::Failure && e.kind == EdgeKind::Command);
    let failure_events = workflow
        .edges
        .iter()
        .any(|e| e.on == Outcome::Failure && e.kind == EdgeKind::Event);
    let routed = |id: &str| graph.outgoing(id).any(|e| e.on == Outcome::Failure);

    for node in workflow.nodes.iter().filter(|n| can_fail(n)) {
        let event_driven = graph.incoming(&node.id).any(|e| e.kind == EdgeKind::Event);
        let commanded = graph
            .incoming(&node.id)
            .any(|e| e.kind == EdgeKind::Command);
        if routed(&node.id) {
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

    // Orchestrated steps that something failing may need undone: those from which a chain
    // of successful commands leads to a step that can fail with nothing routed on its
    // failure (the orchestrator's saga then undoes what came before).
    let before_failing = command_ancestors_of_failing(&graph);
    for node in &workflow.nodes {
        let commands_next = graph
            .outgoing(&node.id)
            .any(|e| e.kind == EdgeKind::Command && e.on == Outcome::Success);
        // A sub-flow is undone by its child's own compensations.
        let undoable = node.compensation.is_some() || node.sub_flow.is_some();
        if commands_next && !undoable && before_failing.contains(node.id.as_str()) {
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
        graph.incoming(id).any(|e| e.kind == EdgeKind::Command)
            || (graph.incoming(id).next().is_none()
                && graph.outgoing(id).any(|e| e.kind == EdgeKind::Command))
    };
    let compensated = |i: usize| workflow.nodes[i].compensation.is_some();
    // The compensated steps before each step, and those of them no saga would undo: found
    // for every step at once (their first few by node order, which is all a warning names).
    let before = ancestors_among(workflow, compensated);
    let before_unsaved = ancestors_among(workflow, |i| {
        compensated(i) && !orchestrated(&workflow.nodes[i].id)
    });
    for (i, failing) in workflow
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| can_fail(n))
    {
        if routed(&failing.id) {
            continue;
        }
        let stranded = if orchestrated(&failing.id) {
            &before_unsaved[i]
        } else {
            &before[i]
        };
        if !stranded.is_empty() {
            let mut steps: Vec<String> = stranded
                .iter()
                .take(MAX_NAMED_STEPS)
                .map(|&n| workflow.nodes[n].label.clone())
                .collect();
            if stranded.len() > MAX_NAMED_STEPS {
                steps.push("…".to_string());
            }
            let event = Workflow::default_event_name(&failing.label, Outcome::Failure);
            warnings.push(Warning::new(
                WarningKind::Uncompensated,
                Some(failing.id.clone()),
                None,
                Says::Uncompensated {
                    steps,
                    step: failing.label.clone(),
                    event,
                },
            ));
        }
    }

    // A wait nobody times out — unless a watchdog does: a step with a timeout that waits
    // for an event the waiting step publishes.
    let watched: std::collections::HashSet<&str> = workflow
        .nodes
        .iter()
        .filter_map(|n| n.wait.as_ref())
        .filter(|w| w.timeout_ms.is_some())
        .filter_map(|w| w.message.as_deref())
        .collect();
    for node in &workflow.nodes {
        let publishes_watched = graph.outgoing(&node.id).any(|e| {
            e.kind == EdgeKind::Event && watched.contains(workflow.event_name(e).as_str())
        });
        if publishes_watched {
            continue;
        }
        if let Some(message) = node
            .wait
            .as_ref()
            .filter(|w| w.timeout_ms.is_none())
            .and_then(|w| w.message.clone())
        {
            warnings.push(Warning::new(
                WarningKind::WaitWithoutTimeout,
                Some(node.id.clone()),
                None,
                Says::WaitWithoutTimeout {
                    step: node.label.clone(),
                    message,
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

    // Loops of commands and events: each loop once, named by the edge that closes it.
    // (Loops of commands alone are refused by the validator, of events alone are event
    // cycles.)
    for looped in super::validate::unbounded_loop_edges(workflow, |_| true) {
        let kinds: HashSet<EdgeKind> = looped.iter().map(|&i| workflow.edges[i].kind).collect();
        if kinds.len() < 2 {
            continue;
        }
        if let Some(i) = super::validate::closing_edge(workflow, &[looped]) {
            let e = &workflow.edges[i];
            warnings.push(Warning::new(
                WarningKind::UnboundedLoop,
                None,
                Some(e.id.clone()),
                Says::UnboundedLoop {
                    edge: e.id.clone(),
                    from: workflow.step_name(&e.from),
                    to: workflow.step_name(&e.to),
                },
            ));
        }
    }

    // A for-each over a list no step writes: only the run's input can bring it.
    let written: HashSet<&str> = workflow
        .nodes
        .iter()
        .flat_map(|n| n.writes.keys().map(String::as_str))
        .collect();
    for node in &workflow.nodes {
        if let Some(field) = node.for_each.as_deref().filter(|f| !written.contains(f)) {
            warnings.push(Warning::new(
                WarningKind::ForEachUnwritten,
                Some(node.id.clone()),
                None,
                Says::ForEachUnwritten {
                    step: node.label.clone(),
                    field: field.to_string(),
                },
            ));
        }
    }

    warnings.extend(never_taken(workflow));
    warnings.extend(unknown_fields(workflow, &written, given));

    let reachable = reachable(&graph);
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
        let arriving: Vec<&Edge> = graph.incoming(&node.id).collect();
        let mut by_source: Vec<(&str, HashSet<Outcome>)> = Vec::new();
        for e in &arriving {
            match by_source.iter_mut().find(|(s, _)| *s == e.from) {
                Some((_, outcomes)) => {
                    outcomes.insert(e.on);
                }
                None => by_source.push((e.from.as_str(), HashSet::from([e.on]))),
            }
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

/// Steps from which a chain of one or more successful commands leads to a step that can
/// fail: every such chain walked backwards from the failing steps at once.
fn command_ancestors_of_failing<'a>(graph: &Graph<'a>) -> HashSet<&'a str> {
    let success_command = |e: &&Edge| e.kind == EdgeKind::Command && e.on == Outcome::Success;
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = graph
        .workflow
        .nodes
        .iter()
        // A failure routed somewhere is handled there; an unrouted one starts the saga.
        .filter(|n| can_fail(n) && !graph.outgoing(&n.id).any(|e| e.on == Outcome::Failure))
        .flat_map(|n| graph.incoming(&n.id).filter(success_command))
        .map(|e| e.from.as_str())
        .collect();
    while let Some(id) = queue.pop_front() {
        if seen.insert(id) {
            queue.extend(
                graph
                    .incoming(id)
                    .filter(success_command)
                    .map(|e| e.from.as_str()),
            );
        }
    }
    seen
}

/// For each step (by index), the first [`MAX_NAMED_STEPS`] + 1 steps by node order among
/// those `chosen` that run successfully before it (through success edges of either kind,
/// the step itself only when it lies on a cycle). Found for every step at once, in time
/// linear in the workflow: the success edges' strongly connected components are walked in
/// topological order, each carrying the few smallest indices of the chosen steps above it
/// (the smallest of a union are among the smallest of its parts).
fn ancestors_among(workflow: &Workflow, chosen: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    const KEPT: usize = MAX_NAMED_STEPS + 1;
    fn merge(into: &mut Vec<usize>, from: &[usize]) {
        into.extend_from_slice(from);
        into.sort_unstable();
        into.dedup();
        into.truncate(KEPT);
    }
    let n = workflow.nodes.len();
    let index: HashMap<&str, usize> = workflow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (node.id.as_str(), i))
        .collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in workflow.edges.iter().filter(|e| e.on == Outcome::Success) {
        if let (Some(&from), Some(&to)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            next[from].push(to);
        }
    }
    let component = strongly_connected(&next);
    let components = component.iter().map(|c| c + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); components];
    for (v, &c) in component.iter().enumerate() {
        members[c].push(v);
    }
    // Chosen steps above each component (outside it), and whether it is a cycle.
    let mut above: Vec<Vec<usize>> = vec![Vec::new(); components];
    let mut cyclic = vec![false; components];
    for (v, targets) in next.iter().enumerate() {
        if targets.contains(&v) {
            cyclic[component[v]] = true;
        }
    }
    // Tarjan numbers a component after every one it reaches: the highest number first is a
    // topological order.
    for c in (0..components).rev() {
        cyclic[c] |= members[c].len() > 1;
        let mut passed = above[c].clone();
        let own: Vec<usize> = members[c].iter().copied().filter(|&v| chosen(v)).collect();
        merge(&mut passed, &own);
        for &v in &members[c] {
            for &w in &next[v] {
                let d = component[w];
                if d != c {
                    merge(&mut above[d], &passed);
                }
            }
        }
    }
    (0..n)
        .map(|v| {
            let c = component[v];
            let mut list = above[c].clone();
            if cyclic[c] {
                let others: Vec<usize> = members[c]
                    .iter()
                    .copied()
                    .filter(|&w| w != v && chosen(w))
                    .collect();
                merge(&mut list, &others);
            }
            list
        })
        .collect()
}

/// Steps reachable from the roots (steps without incoming edges).
fn reachable<'a>(graph: &Graph<'a>) -> HashSet<&'a str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = graph.workflow.roots().map(|n| n.id.as_str()).collect();
    while let Some(id) = queue.pop_front() {
        if seen.insert(id) {
            queue.extend(graph.outgoing(id).map(|e| e.to.as_str()));
        }
    }
    seen
}

/// Event edges that lie on a cycle made of unbounded event edges only (a loop with a bound,
/// `max_iterations`, is no runaway): those whose two ends are in
/// one strongly connected component of the event edges (Tarjan's algorithm, without
/// recursion: a browser's stack is small), in edge order.
fn event_cycle_edges(workflow: &Workflow) -> Vec<String> {
    let index: HashMap<&str, usize> = workflow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let events: Vec<(usize, usize, &Edge)> = workflow
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Event && e.max_iterations.is_none())
        .filter_map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?, e)))
        .collect();
    let n = workflow.nodes.len();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to, _) in &events {
        next[from].push(to);
    }
    let component = strongly_connected(&next);
    events
        .iter()
        .filter(|(from, to, _)| component[*from] == component[*to])
        .map(|(_, _, e)| e.id.clone())
        .collect()
}

/// Each vertex's strongly connected component (a number), for the graph whose edges from
/// vertex `v` go to `next[v]`.
pub(crate) fn strongly_connected(next: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = next.len();
    let (mut order, mut low) = (vec![UNSEEN; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let (mut stack, mut counter, mut components) = (Vec::new(), 0, 0);
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        // (vertex, next edge to look at)
        let mut calls = vec![(root, 0usize)];
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = calls.last_mut() {
            if let Some(&w) = next[v].get(*i) {
                *i += 1;
                if order[w] == UNSEEN {
                    order[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == order[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = components;
                    if w == v {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

/// Branches that can never be taken, where the conditions' words alone say so (the browser
/// has no expression evaluator: what a condition computes is the server's): a condition
/// `false`; in an exclusive decision, a condition an earlier branch already has, or any
/// branch after one that is `true` (its default among them). Decided once per (step,
/// outcome), in one pass over the edges.
fn never_taken(workflow: &Workflow) -> Vec<Warning> {
    use super::workflow::Decide;
    let normal = |c: &str| c.split_whitespace().collect::<Vec<_>>().join(" ");
    let exclusive: HashMap<&str, bool> = workflow
        .nodes
        .iter()
        .map(|n| {
            (
                n.id.as_str(),
                n.decide.unwrap_or_default() == Decide::Exclusive,
            )
        })
        .collect();
    // (step, outcome, and for an event its name when the subscriber filters) → the
    // conditions seen so far, with their edge, and the `true` one if any.
    type Seen<'a> = (Vec<(String, &'a str, Option<String>)>, Option<&'a str>);
    let mut seen: HashMap<(&str, Outcome), Seen> = HashMap::new();
    let mut warnings = Vec::new();
    let mut warn = |e: &Edge, why: NeverTaken| {
        warnings.push(Warning::new(
            WarningKind::BranchNeverTaken,
            None,
            Some(e.id.clone()),
            Says::BranchNeverTaken {
                edge: e.id.clone(),
                step: workflow.step_name(&e.from),
                why,
            },
        ))
    };
    for e in &workflow.edges {
        let Some(condition) = e.condition.as_deref().map(normal) else {
            continue;
        };
        if condition == "false" {
            warn(e, NeverTaken::False);
            continue;
        }
        if e.filtered_by_subscriber() || !exclusive.get(e.from.as_str()).copied().unwrap_or(true) {
            continue;
        }
        // The edges of one event are one branch (the publisher decides once per event).
        let event = (e.kind == EdgeKind::Event).then(|| workflow.event_name(e));
        let (earlier, after_true) = seen.entry((e.from.as_str(), e.on)).or_default();
        if event.is_some() && earlier.iter().any(|(_, _, n)| *n == event) {
            continue;
        }
        if let Some(first) = after_true {
            warn(e, NeverTaken::AfterTrue(first.to_string()));
        } else if let Some((_, same, _)) = earlier.iter().find(|(c, _, _)| *c == condition) {
            warn(e, NeverTaken::Same(same.to_string()));
        } else {
            if condition == "true" {
                *after_true = Some(e.id.as_str());
            }
            earlier.push((condition, e.id.as_str(), event));
        }
    }
    // The default branches of an exclusive decision with a `true` branch.
    for e in workflow
        .edges
        .iter()
        .filter(|e| e.condition.is_none() && e.max_iterations.is_none())
    {
        if let Some((_, Some(first))) = seen.get(&(e.from.as_str(), e.on)) {
            warn(e, NeverTaken::AfterTrue(first.to_string()));
        }
    }
    warnings
}

/// Conditions reading a field nobody provides (see [`WarningKind::UnknownField`]). Not
/// told where data can come from outside the workflow's sight: a message from outside, a
/// sub-flow's child.
fn unknown_fields(workflow: &Workflow, written: &HashSet<&str>, given: &[String]) -> Vec<Warning> {
    let opaque = workflow
        .nodes
        .iter()
        .any(|n| n.sub_flow.is_some() || n.wait.as_ref().is_some_and(|w| w.message.is_some()));
    if opaque {
        return Vec::new();
    }
    let mut known: HashSet<String> = written.iter().map(|f| f.to_string()).collect();
    known.extend(given.iter().cloned());
    known.extend(workflow.nodes.iter().flat_map(|n| n.reads.iter().cloned()));
    known.extend(
        workflow
            .edges
            .iter()
            .flat_map(|e| e.payload.iter().flatten().cloned()),
    );
    // A scenario's input is run input a user means to give.
    for scenario in &workflow.scenarios {
        known.extend(scenario.input.keys().cloned());
    }
    let mut warnings = Vec::new();
    for e in &workflow.edges {
        let Some(condition) = &e.condition else {
            continue;
        };
        for field in super::data::condition_fields(condition) {
            if known.contains(&field) {
                continue;
            }
            // A known field a letter or two away is what was meant, most likely.
            let near = known
                .iter()
                .filter(|k| edits(k, &field) <= 2)
                .min_by_key(|k| (edits(k, &field), k.to_string()))
                .cloned();
            warnings.push(Warning::new(
                WarningKind::UnknownField,
                None,
                Some(e.id.clone()),
                Says::UnknownField {
                    edge: e.id.clone(),
                    step: workflow.step_name(&e.from),
                    field,
                    near,
                },
            ));
        }
    }
    warnings
}

/// How many letters differ between two names (insertions, deletions, substitutions), for
/// names up to a field name's length.
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
