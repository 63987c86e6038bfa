//! Reading a workflow document and checking it, reporting *every* problem at once.
//!
//! [`parse_workflow`] is the one entry point for documents from outside (API bodies, files):
//! it enforces the size limit, tells malformed JSON (the client sent garbage) from an invalid
//! workflow (well-formed JSON that breaks the model's rules), and assigns missing edge ids.

use crate::i18n::Locale;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::workflow::{EdgeKind, Outcome, Workflow, Written};

/// At most this many steps: a canvas past this is no longer readable, and it bounds the
/// engine's per-run memory.
pub const MAX_NODES: usize = 2_000;
/// At most this many edges (2.5 per node on average at the node limit).
pub const MAX_EDGES: usize = 5_000;
/// At most this many characters in any string field: names, ids, labels, event names.
pub const MAX_STRING_CHARS: usize = 200;
/// At most this many bytes in one workflow document (also the API's request-body cap).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Longest simulated duration (latency, timeout, backoff): one hour of simulated time.
pub const MAX_SIMULATED_MS: u64 = 3_600_000;
/// Most attempts a retry policy may ask for.
pub const MAX_ATTEMPTS: u32 = 100;
/// Largest backoff multiplier: beyond this a few retries already exceed any useful wait.
pub const MAX_BACKOFF_MULTIPLIER: f64 = 10.0;
/// Most fields one step writes into the run data.
pub const MAX_WRITES: usize = 16;
/// Most values a written field chooses among.
pub const MAX_CHOICES: usize = 16;
/// Longest value a step writes, as compact JSON.
pub const MAX_WRITTEN_BYTES: usize = 512;
/// Longest name of a run data field (a CEL identifier: a letter or `_`, then letters,
/// digits and `_`, so that a condition can name it).
pub const MAX_FIELD_CHARS: usize = 64;
/// Longest condition, in characters.
pub const MAX_CONDITION_CHARS: usize = 400;
/// Most run data fields a step reads.
pub const MAX_READS: usize = 16;
/// Most run data fields one event carries.
pub const MAX_PAYLOAD_FIELDS: usize = 32;
/// The most items a for-each step works on in one attempt (`for_each`): a longer list fails
/// the attempt, saying so.
pub const MAX_FOR_EACH_ITEMS: usize = 1_000;
/// The most iterations a loop's edge may allow in one run (`max_iterations`).
pub const MAX_LOOP_ITERATIONS: u32 = 1_000;
/// How deep sub-flows may nest: a child run's child's … at most this many levels below the
/// run a user started (a deeper chain is refused when the workflow is stored or run).
pub const MAX_SUB_FLOW_DEPTH: usize = 8;

/// Why workflow `workflow` may not start as a child run below the workflows running above
/// it (`above`, outermost first): it is one of them (a cycle of sub-flows), or they are as
/// deep as sub-flows may nest. The engine and the lab's simulation refuse alike.
pub fn sub_flow_refusal(above: &[String], workflow: &str) -> Option<String> {
    if above.iter().any(|w| w == workflow) {
        return Some(format!(
            "a cycle of sub-flows: {} would run {workflow} again",
            above.join(" → ")
        ));
    }
    (above.len() >= MAX_SUB_FLOW_DEPTH).then(|| {
        format!(
            "sub-flows nest at most {MAX_SUB_FLOW_DEPTH} deep; {workflow} would be one level more"
        )
    })
}

/// Why a sub-flow naming `workflow` cannot run: no stored workflow has that id or name.
pub fn no_such_sub_flow(workflow: &str) -> String {
    format!("there is no workflow {workflow:?} to run as a sub-flow")
}

/// Why child run `child` cannot be undone: it is not there any more.
pub fn child_gone(child: &str) -> String {
    format!("child run {child} is gone: there is nothing left to undo it from")
}
/// How far the chances of a choice may add up away from 1 (decimal rounding).
const CHANCE_TOLERANCE: f64 = 1e-6;

/// One thing wrong with a workflow, precise enough to point at it on the canvas.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where in the document, e.g. `nodes[2].label` or `edges[0].to`.
    pub path: String,
    /// The node concerned, by id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The edge concerned, by id (or `#index` when it has none yet), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    /// The offending field's name.
    pub field: String,
    pub message: String,
}

/// Why a document was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("the document is {bytes} bytes; the limit is {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Malformed {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("the workflow has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
}

impl DocumentError {
    /// The refusal in `l`'s words (the `Display` form is the API's English; a JSON parser's
    /// own detail stays as it said it).
    pub fn said(&self, l: Locale) -> String {
        match self {
            DocumentError::TooLarge { bytes, limit } => {
                td_string!(l, import.too_large, bytes = bytes, limit = limit)
            }
            DocumentError::Malformed {
                message,
                line,
                column,
            } => td_string!(
                l,
                import.malformed,
                line = line,
                column = column,
                error = message
            ),
            DocumentError::Invalid(problems) => {
                td_string!(l, import.invalid, count = problems.len())
            }
        }
    }
}

/// Parses and validates a native workflow document (its problems in English, the API's
/// words).
pub fn parse_workflow(bytes: &[u8]) -> Result<Workflow, DocumentError> {
    parse_workflow_in(bytes, Locale::en)
}

/// Parses and validates a native workflow document, its problems said in `l`'s words.
pub fn parse_workflow_in(bytes: &[u8], l: Locale) -> Result<Workflow, DocumentError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge {
            bytes: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| DocumentError::Malformed {
        message: e.to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    // A document may name its JSON Schema for editors (`"$schema": ".../workflow.json"`);
    // it is not part of the workflow.
    if let Some(doc) = value.as_object_mut() {
        if doc.get("$schema").is_some_and(Value::is_string) {
            doc.remove("$schema");
        }
    }
    // Counts are checked on the raw value, before the typed parse builds anything of them.
    for (field, limit) in [
        ("nodes", MAX_NODES),
        ("edges", MAX_EDGES),
        ("scenarios", super::scenario::MAX_SCENARIOS),
        ("assertions.never", super::scenario::MAX_ASSERTIONS),
        ("assertions.always", super::scenario::MAX_ASSERTIONS),
    ] {
        let count = field
            .split('.')
            .try_fold(&value, |v, key| v.get(key))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if count > limit {
            return Err(DocumentError::Invalid(vec![Problem {
                path: field.to_string(),
                node: None,
                edge: None,
                field: field.to_string(),
                message: td_string!(
                    l,
                    problem.too_many,
                    count = count,
                    field = field,
                    limit = limit
                ),
            }]));
        }
    }
    // Enum fields are checked on the raw value first, so that a wrong `kind` is reported
    // together with every other problem instead of stopping the typed parse.
    let mut problems = check_edge_enums(&mut value, l);
    let workflow: Workflow = match serde_path_to_error::deserialize(value) {
        Ok(w) => w,
        Err(err) => {
            let path = err.path().to_string();
            let field = last_field(&path);
            problems.push(Problem {
                path: path.clone(),
                node: None,
                edge: None,
                field,
                message: err.into_inner().to_string(),
            });
            return Err(DocumentError::Invalid(problems));
        }
    };
    problems.extend(validate_in(&workflow, l));
    if !problems.is_empty() {
        return Err(DocumentError::Invalid(problems));
    }
    let mut workflow = workflow;
    workflow.assign_edge_ids();
    Ok(workflow)
}

fn last_field(path: &str) -> String {
    let tail = path.rsplit('.').next().unwrap_or(path);
    tail.split('[').next().unwrap_or(tail).to_string()
}

/// Checks `kind` and `on` of every edge object; replaces bad values by a valid one so the
/// typed parse can go on to find the remaining problems.
fn check_edge_enums(value: &mut Value, l: Locale) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(edges) = value.get_mut("edges").and_then(Value::as_array_mut) else {
        return problems;
    };
    for (i, edge) in edges.iter_mut().enumerate() {
        let Some(obj) = edge.as_object_mut() else {
            continue;
        };
        let edge_ref = obj
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{i}"));
        let allowed_kinds: Vec<&str> = EdgeKind::ALL.iter().map(|k| k.as_str()).collect();
        let allowed_ons: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        for (field, allowed, fallback) in [
            ("kind", allowed_kinds, "command"),
            ("on", allowed_ons, "success"),
        ] {
            let Some(v) = obj.get(field) else { continue };
            if v.as_str().is_some_and(|s| allowed.contains(&s)) {
                continue;
            }
            problems.push(Problem {
                path: format!("edges[{i}].{field}"),
                node: None,
                edge: Some(edge_ref.clone()),
                field: field.to_string(),
                message: td_string!(
                    l,
                    problem.one_of,
                    allowed = allowed
                        .iter()
                        .map(|a| format!("\"{a}\""))
                        .collect::<Vec<_>>()
                        .join(td_string!(l, problem.or)),
                    value = v
                ),
            });
            obj.insert(field.to_string(), Value::String(fallback.to_string()));
        }
    }
    problems
}

/// Every rule of the model that a well-formed document can still break (in English: the
/// API's words).
pub fn validate(workflow: &Workflow) -> Vec<Problem> {
    validate_in(workflow, Locale::en)
}

/// Every rule of the model that a well-formed document can still break, each problem said
/// in `l`'s words.
pub fn validate_in(workflow: &Workflow, l: Locale) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(key) = &workflow.template {
        if super::examples::template(key).is_none() {
            let known: Vec<&str> = super::examples::ALL.iter().map(|e| e.key).collect();
            problems.push(Problem {
                path: "template".into(),
                node: None,
                edge: None,
                field: "template".into(),
                message: td_string!(
                    l,
                    problem.no_template,
                    key = format!("{key:?}"),
                    known = known.join(", ")
                )
                .to_string(),
            });
        }
    }
    let mut text = |path: String, node: Option<&str>, edge: Option<&str>, field: &str, v: &str| {
        let message = if v.trim().is_empty() {
            td_string!(l, problem.empty).to_string()
        } else if v.chars().count() > MAX_STRING_CHARS {
            td_string!(
                l,
                problem.too_long,
                count = v.chars().count(),
                limit = MAX_STRING_CHARS
            )
            .to_string()
        } else {
            return;
        };
        problems.push(Problem {
            path,
            node: node.map(str::to_string),
            edge: edge.map(str::to_string),
            field: field.to_string(),
            message,
        });
    };

    text("name".into(), None, None, "name", &workflow.name);
    for (i, node) in workflow.nodes.iter().enumerate() {
        let id = (!node.id.is_empty()).then_some(node.id.as_str());
        for (field, v) in [
            ("id", &node.id),
            ("label", &node.label),
            ("service", &node.service),
            ("action", &node.action),
        ] {
            text(format!("nodes[{i}].{field}"), id, None, field, v);
        }
    }
    for (i, edge) in workflow.edges.iter().enumerate() {
        let edge_ref = edge_ref(i, &edge.id);
        if !edge.id.is_empty() {
            text(
                format!("edges[{i}].id"),
                None,
                Some(&edge_ref),
                "id",
                &edge.id,
            );
        }
        if let Some(event) = &edge.event {
            text(
                format!("edges[{i}].event"),
                None,
                Some(&edge_ref),
                "event",
                event,
            );
        }
    }

    let mut push =
        |path: String, node: Option<String>, edge: Option<String>, field: &str, message: String| {
            problems.push(Problem {
                path,
                node,
                edge,
                field: field.to_string(),
                message,
            })
        };
    for (field, count, limit) in [
        ("nodes", workflow.nodes.len(), MAX_NODES),
        ("edges", workflow.edges.len(), MAX_EDGES),
    ] {
        if count > limit {
            let message = td_string!(
                l,
                problem.too_many,
                count = count,
                field = field,
                limit = limit
            );
            push(field.into(), None, None, field, message.to_string());
        }
    }

    for (i, node) in workflow.nodes.iter().enumerate() {
        for (field, message) in behaviour_problems(node, l) {
            push(
                format!("nodes[{i}].{field}"),
                Some(node.id.clone()),
                None,
                field.rsplit('.').next().unwrap_or(field),
                message,
            );
        }
    }

    let mut node_ids = HashSet::new();
    for (i, node) in workflow.nodes.iter().enumerate() {
        if !node.id.is_empty() && !node_ids.insert(node.id.as_str()) {
            push(
                format!("nodes[{i}].id"),
                Some(node.id.clone()),
                None,
                "id",
                td_string!(l, problem.duplicate_node, id = &node.id).to_string(),
            );
        }
        for (field, v) in [("x", node.position.x), ("y", node.position.y)] {
            if !v.is_finite() {
                push(
                    format!("nodes[{i}].position.{field}"),
                    Some(node.id.clone()),
                    None,
                    field,
                    td_string!(l, problem.not_finite).into(),
                );
            }
        }
    }
    let mut edge_ids = HashSet::new();
    for (i, edge) in workflow.edges.iter().enumerate() {
        let edge_ref = edge_ref(i, &edge.id);
        if !edge.id.is_empty() && !edge_ids.insert(edge.id.as_str()) {
            push(
                format!("edges[{i}].id"),
                None,
                Some(edge_ref.clone()),
                "id",
                td_string!(l, problem.duplicate_edge, id = &edge.id).to_string(),
            );
        }
        for (field, end) in [("from", &edge.from), ("to", &edge.to)] {
            let message = if end.is_empty() {
                td_string!(l, problem.empty).to_string()
            } else if !node_ids.contains(end.as_str()) {
                td_string!(l, problem.unknown_node, id = end).to_string()
            } else {
                continue;
            };
            push(
                format!("edges[{i}].{field}"),
                None,
                Some(edge_ref.clone()),
                field,
                message,
            );
        }
        if let Some(condition) = &edge.condition {
            if let Some(message) = condition_problem(condition, l) {
                push(
                    format!("edges[{i}].condition"),
                    None,
                    Some(edge_ref.clone()),
                    "condition",
                    message,
                );
            }
        }
        if edge.kind == EdgeKind::Command {
            for (field, set) in [
                ("decided_by", edge.decided_by.is_some()),
                ("payload", edge.payload.is_some()),
            ] {
                if set {
                    push(
                        format!("edges[{i}].{field}"),
                        None,
                        Some(edge_ref.clone()),
                        field,
                        td_string!(l, problem.event_only, field = field).to_string(),
                    );
                }
            }
        }
        if let Some(max) = edge.max_iterations {
            if max == 0 || max > MAX_LOOP_ITERATIONS {
                push(
                    format!("edges[{i}].max_iterations"),
                    None,
                    Some(edge_ref.clone()),
                    "max_iterations",
                    td_string!(
                        l,
                        problem.attempts_range,
                        limit = MAX_LOOP_ITERATIONS,
                        value = max
                    )
                    .to_string(),
                );
            }
        }
        if let Some(fields) = &edge.payload {
            if let Some(message) = fields_problem(fields, MAX_PAYLOAD_FIELDS, l) {
                push(
                    format!("edges[{i}].payload"),
                    None,
                    Some(edge_ref.clone()),
                    "payload",
                    message,
                );
            }
        }
    }
    decision_problems(workflow, l, &mut push);
    if let Some((i, edge)) = unbounded_loop(workflow) {
        let label = |id: &str| {
            workflow
                .nodes
                .iter()
                .find(|n| n.id == id)
                .map_or(id.to_string(), |n| n.label.clone())
        };
        push(
            format!("edges[{i}].max_iterations"),
            None,
            Some(edge_ref(i, &edge.id)),
            "max_iterations",
            td_string!(
                l,
                problem.unbounded_loop,
                edge = edge_ref(i, &edge.id),
                from = label(&edge.from),
                to = label(&edge.to)
            )
            .to_string(),
        );
    }
    for (path, node, field, message) in super::scenario::problems(workflow, l) {
        problems.push(Problem {
            path,
            node,
            edge: None,
            field,
            message,
        });
    }
    problems
}

/// A loop of commands none of whose edges has a bound (`max_iterations`): the
/// orchestrator would command round it until the run's runaway limit. Every edge inside a
/// strongly connected component of the unbounded command edges lies on such a loop; the
/// one named is the edge that goes furthest back (see [`closing_edge`]). (A loop with an
/// event in it is a design warning, [`super::lint::WarningKind::UnboundedLoop`] or
/// [`super::lint::WarningKind::EventCycle`]: no orchestrator owns it whole.)
fn unbounded_loop(workflow: &Workflow) -> Option<(usize, &super::workflow::Edge)> {
    let loops = unbounded_loop_edges(workflow, |e| e.kind == EdgeKind::Command);
    closing_edge(workflow, &loops).map(|i| (i, &workflow.edges[i]))
}

/// The edges (by index) among those `counted` without a bound that lie on a loop of such
/// edges, grouped by loop (strongly connected component), in edge order.
pub(crate) fn unbounded_loop_edges(
    workflow: &Workflow,
    counted: impl Fn(&super::workflow::Edge) -> bool,
) -> Vec<Vec<usize>> {
    use std::collections::{BTreeMap, HashMap};
    let index: HashMap<&str, usize> = workflow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let ends = |e: &super::workflow::Edge| {
        Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?))
    };
    let edges: Vec<(usize, usize, usize)> = workflow
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.max_iterations.is_none() && counted(e))
        .filter_map(|(i, e)| ends(e).map(|(from, to)| (i, from, to)))
        .collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); workflow.nodes.len()];
    for &(_, from, to) in &edges {
        next[from].push(to);
    }
    let component = super::lint::strongly_connected(&next);
    let mut loops: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, from, to) in edges {
        if component[from] == component[to] {
            loops.entry(component[from]).or_default().push(i);
        }
    }
    let mut loops: Vec<Vec<usize>> = loops.into_values().collect();
    loops.sort();
    loops
}

/// Of the first loop in `loops`, the edge that closes it: the one that goes furthest back
/// in the order a run reaches the steps (breadth first from where runs start), else its
/// first edge.
pub(crate) fn closing_edge(workflow: &Workflow, loops: &[Vec<usize>]) -> Option<usize> {
    use std::collections::{HashMap, VecDeque};
    let first = loops.first()?;
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut queue: VecDeque<&str> = workflow.roots().map(|n| n.id.as_str()).collect();
    for id in &queue {
        depth.insert(id, 0);
    }
    let mut outgoing: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &workflow.edges {
        outgoing
            .entry(e.from.as_str())
            .or_default()
            .push(e.to.as_str());
    }
    while let Some(id) = queue.pop_front() {
        let d = depth[id];
        for &to in outgoing.get(id).into_iter().flatten() {
            if !depth.contains_key(to) {
                depth.insert(to, d + 1);
                queue.push_back(to);
            }
        }
    }
    let back = |i: &usize| {
        let e = &workflow.edges[*i];
        match (depth.get(e.from.as_str()), depth.get(e.to.as_str())) {
            (Some(&from), Some(&to)) if to <= from => Some(from - to),
            _ => None,
        }
    };
    first
        .iter()
        .filter_map(|i| back(i).map(|b| (b, *i)))
        // Furthest back first; among equals, the first in the document.
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, i)| i)
        .or_else(|| first.first().copied())
}

/// The rules of a step's decision. An exclusive decision takes the one default branch when
/// no condition holds: two would be a second decision nobody wrote. A publisher decides per
/// event, so the edges of one event it decides share their condition. (In one pass over
/// the edges: this runs on every edit, and a scan of the edges per step would be
/// quadratic.)
fn decision_problems(
    workflow: &Workflow,
    l: Locale,
    push: &mut impl FnMut(String, Option<String>, Option<String>, &str, String),
) {
    use std::collections::HashMap;
    // (step, outcome) → (default branches, whether some branch is conditional); the
    // default branches of a publisher are its unconditional events, by name.
    let mut branches: HashMap<(&str, Outcome), (usize, bool)> = HashMap::new();
    let mut defaults_named: HashSet<(&str, Outcome, String)> = HashSet::new();
    let mut published: HashMap<(&str, Outcome, String), (usize, Option<&str>)> = HashMap::new();
    let labels: HashMap<&str, &str> = workflow
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.label.as_str()))
        .collect();
    for (i, e) in workflow.edges.iter().enumerate() {
        if e.filtered_by_subscriber() {
            continue;
        }
        let key = (e.from.as_str(), e.on);
        let name = (e.kind == EdgeKind::Event).then(|| {
            Workflow::event_name_from(e, labels.get(e.from.as_str()).copied().unwrap_or(&e.from))
        });
        let (defaults, conditional) = branches.entry(key).or_default();
        match (e.condition.is_some() || e.max_iterations.is_some(), name) {
            (false, None) => *defaults += 1,
            (false, Some(name)) => {
                if defaults_named.insert((key.0, key.1, name)) {
                    *defaults += 1;
                }
            }
            (true, _) => *conditional = true,
        }
        if e.kind == EdgeKind::Event {
            let name = Workflow::event_name_from(
                e,
                labels.get(e.from.as_str()).copied().unwrap_or(&e.from),
            );
            let condition = e.condition.as_deref();
            match published.entry((key.0, key.1, name.clone())) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((i, condition));
                }
                std::collections::hash_map::Entry::Occupied(o) if o.get().1 != condition => {
                    let first = o.get().0;
                    push(
                        format!("edges[{i}].condition"),
                        None,
                        Some(edge_ref(i, &e.id)),
                        "condition",
                        td_string!(
                            l,
                            problem.publication_condition,
                            event = name,
                            edge = edge_ref(first, &workflow.edges[first].id)
                        )
                        .to_string(),
                    );
                }
                std::collections::hash_map::Entry::Occupied(o)
                    if workflow.edges[o.get().0].max_iterations != e.max_iterations =>
                {
                    let first = o.get().0;
                    push(
                        format!("edges[{i}].max_iterations"),
                        None,
                        Some(edge_ref(i, &e.id)),
                        "max_iterations",
                        td_string!(
                            l,
                            problem.publication_bound,
                            event = name,
                            edge = edge_ref(first, &workflow.edges[first].id)
                        )
                        .to_string(),
                    );
                }
                std::collections::hash_map::Entry::Occupied(_) => {}
            }
        }
    }
    for (n, node) in workflow.nodes.iter().enumerate() {
        if node.decide.unwrap_or_default() != super::workflow::Decide::Exclusive {
            continue;
        }
        for on in Outcome::ALL {
            let (defaults, conditional) = branches
                .get(&(node.id.as_str(), on))
                .copied()
                .unwrap_or_default();
            if defaults > 1 && conditional {
                push(
                    format!("nodes[{n}].decide"),
                    Some(node.id.clone()),
                    None,
                    "decide",
                    td_string!(l, problem.defaults, count = defaults),
                );
            }
        }
    }
}

/// A wait's rules: a message or a time, not both; a timeout and a simulated arrival only
/// for a message; times within [`MAX_SIMULATED_MS`]; a chance in 0..1.
fn wait_problems(wait: &super::workflow::Wait, l: Locale) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    match (&wait.message, wait.for_ms) {
        (Some(_), Some(_)) | (None, None) => {
            problems.push(("wait", td_string!(l, problem.wait_what).to_string()))
        }
        (Some(name), None) if name.trim().is_empty() => problems.push((
            "wait.message",
            td_string!(l, problem.empty_when_given).to_string(),
        )),
        (Some(name), None) if name.chars().count() > MAX_STRING_CHARS => problems.push((
            "wait.message",
            td_string!(l, problem.chars_limit, limit = MAX_STRING_CHARS).to_string(),
        )),
        (None, Some(_)) => {
            for (field, set) in [
                ("wait.timeout_ms", wait.timeout_ms.is_some()),
                ("wait.arrives_ms", wait.arrives_ms.is_some()),
                ("wait.never", wait.never.is_some()),
            ] {
                if set {
                    problems.push((field, td_string!(l, problem.wait_message_only).to_string()));
                }
            }
        }
        _ => {}
    }
    let times = [
        ("wait.for_ms", wait.for_ms),
        ("wait.timeout_ms", wait.timeout_ms),
        ("wait.arrives_ms", wait.arrives_ms.map(|a| a.bounds().1)),
    ];
    for (field, ms) in times {
        if let Some(ms) = ms.filter(|&ms| ms > MAX_SIMULATED_MS) {
            problems.push((
                field,
                td_string!(l, problem.over_limit, ms = ms, limit = MAX_SIMULATED_MS).to_string(),
            ));
        }
    }
    if let Some((min, max)) = wait.arrives_ms.map(|a| a.bounds()) {
        if min > max {
            problems.push((
                "wait.arrives_ms",
                td_string!(l, problem.latency_order, min = min, max = max).to_string(),
            ));
        }
    }
    if let Some(p) = wait.never.filter(|p| !(0.0..=1.0).contains(p)) {
        problems.push((
            "wait.never",
            td_string!(l, problem.rate_range, value = p).to_string(),
        ));
    }
    problems
}

/// What is wrong with a list of run data fields (a step's `reads`, an event's `payload`).
fn fields_problem(fields: &[String], limit: usize, l: Locale) -> Option<String> {
    if fields.len() > limit {
        return Some(td_string!(
            l,
            problem.fields_count,
            count = fields.len(),
            limit = limit
        ));
    }
    fields.iter().find(|f| !is_field_name(f)).map(|f| {
        td_string!(
            l,
            problem.field_name,
            field = format!("{f:?}"),
            limit = MAX_FIELD_CHARS
        )
    })
}

/// Whether a condition can be read (the server reads conditions; the browser's build has no
/// CEL and leaves this to the server's answer when the workflow is saved).
#[cfg(feature = "conditions")]
pub(crate) fn condition_problem(condition: &str, l: Locale) -> Option<String> {
    use super::condition::Condition;
    match Condition::shared(condition) {
        Ok(_) => None,
        Err(e) => Some(e.said(l)),
    }
}

#[cfg(not(feature = "conditions"))]
pub(crate) fn condition_problem(_: &str, _: Locale) -> Option<String> {
    None
}

/// The behaviour fields' rules: (field path within the node, message in `l`'s words).
pub fn behaviour_problems(node: &super::workflow::Node, l: Locale) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let too_long = |ms: u64| ms > MAX_SIMULATED_MS;
    if let Some(latency) = node.latency_ms {
        let (min, max) = latency.bounds();
        if min > max {
            problems.push((
                "latency_ms",
                td_string!(l, problem.latency_order, min = min, max = max).to_string(),
            ));
        } else if too_long(max) {
            problems.push((
                "latency_ms",
                td_string!(l, problem.over_limit, ms = max, limit = MAX_SIMULATED_MS).to_string(),
            ));
        }
    }
    if let Some(rate) = node.failure_rate {
        if !(0.0..=1.0).contains(&rate) {
            problems.push((
                "failure_rate",
                td_string!(l, problem.rate_range, value = rate).to_string(),
            ));
        }
    }
    if let Some(fail_when) = &node.fail_when {
        if fail_when.field.trim().is_empty() {
            problems.push(("fail_when.field", td_string!(l, problem.empty).to_string()));
        } else if fail_when.field.chars().count() > MAX_STRING_CHARS {
            problems.push((
                "fail_when.field",
                td_string!(l, problem.chars_limit, limit = MAX_STRING_CHARS).to_string(),
            ));
        }
    }
    if let Some(timeout) = node.timeout_ms {
        if timeout == 0 || too_long(timeout) {
            problems.push((
                "timeout_ms",
                td_string!(
                    l,
                    problem.timeout_range,
                    limit = MAX_SIMULATED_MS,
                    value = timeout
                )
                .to_string(),
            ));
        }
    }
    if let Some(retry) = &node.retry {
        if retry.max_attempts == 0 || retry.max_attempts > MAX_ATTEMPTS {
            problems.push((
                "retry.max_attempts",
                td_string!(
                    l,
                    problem.attempts_range,
                    limit = MAX_ATTEMPTS,
                    value = retry.max_attempts
                )
                .to_string(),
            ));
        }
        if too_long(retry.backoff_ms) {
            problems.push((
                "retry.backoff_ms",
                td_string!(
                    l,
                    problem.over_limit,
                    ms = retry.backoff_ms,
                    limit = MAX_SIMULATED_MS
                )
                .to_string(),
            ));
        }
        if !(1.0..=MAX_BACKOFF_MULTIPLIER).contains(&retry.multiplier) {
            problems.push((
                "retry.multiplier",
                td_string!(
                    l,
                    problem.multiplier_range,
                    limit = MAX_BACKOFF_MULTIPLIER,
                    value = retry.multiplier
                )
                .to_string(),
            ));
        }
    }
    if node.writes.len() > MAX_WRITES {
        problems.push((
            "writes",
            td_string!(
                l,
                problem.writes_count,
                count = node.writes.len(),
                limit = MAX_WRITES
            ),
        ));
    }
    for (field, written) in node.writes.iter().take(MAX_WRITES) {
        if let Some(message) = written_problem(field, written, l) {
            problems.push(("writes", message));
        }
    }
    if let Some(wait) = &node.wait {
        problems.extend(wait_problems(wait, l));
    }
    if let Some(message) = fields_problem(&node.reads, MAX_READS, l) {
        problems.push(("reads", message));
    }
    if let Some(field) = &node.for_each {
        if let Some(message) = fields_problem(std::slice::from_ref(field), 1, l) {
            problems.push(("for_each", message));
        }
        if node.wait.is_some() {
            problems.push(("for_each", td_string!(l, problem.for_each_wait).to_string()));
        }
    }
    if let Some(workflow) = &node.sub_flow {
        if workflow.trim().is_empty() {
            problems.push((
                "sub_flow",
                td_string!(l, problem.empty_when_given).to_string(),
            ));
        } else if workflow.chars().count() > MAX_STRING_CHARS {
            problems.push((
                "sub_flow",
                td_string!(l, problem.chars_limit, limit = MAX_STRING_CHARS).to_string(),
            ));
        }
        if node.wait.is_some() || node.for_each.is_some() {
            problems.push(("sub_flow", td_string!(l, problem.sub_flow_with).to_string()));
        }
    }
    if let Some(call) = &node.call {
        problems.extend(call.problems(l));
        if node.wait.is_some() || node.for_each.is_some() || node.sub_flow.is_some() {
            problems.push(("call", td_string!(l, problem.call_with).to_string()));
        }
    }
    if let Some(action) = &node.compensation {
        if action.trim().is_empty() {
            problems.push((
                "compensation",
                td_string!(l, problem.empty_when_given).to_string(),
            ));
        } else if action.chars().count() > MAX_STRING_CHARS {
            problems.push((
                "compensation",
                td_string!(l, problem.chars_limit, limit = MAX_STRING_CHARS).to_string(),
            ));
        }
    }
    problems
}

/// Whether `name` can name a run data field: a CEL identifier, at most
/// [`MAX_FIELD_CHARS`] long.
pub fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_FIELD_CHARS
}

/// What is wrong with one written field, said with its name first.
fn written_problem(field: &str, written: &Written, l: Locale) -> Option<String> {
    if !is_field_name(field) {
        return Some(td_string!(
            l,
            problem.field_name,
            field = format!("{field:?}"),
            limit = MAX_FIELD_CHARS
        ));
    }
    let too_big = |v: &Value| serde_json::to_string(v).map_or(0, |s| s.len()) > MAX_WRITTEN_BYTES;
    match written {
        Written::Value(v) if too_big(v) => Some(td_string!(
            l,
            problem.written_size,
            field = field,
            limit = MAX_WRITTEN_BYTES
        )),
        Written::Value(_) => None,
        Written::Choice { choose } => {
            if choose.is_empty() || choose.len() > MAX_CHOICES {
                return Some(td_string!(
                    l,
                    problem.choices_count,
                    field = field,
                    count = choose.len(),
                    limit = MAX_CHOICES
                ));
            }
            if let Some(c) = choose.iter().find(|c| !(0.0..=1.0).contains(&c.p)) {
                return Some(td_string!(
                    l,
                    problem.chance_range,
                    field = field,
                    value = c.p
                ));
            }
            if choose.iter().any(|c| too_big(&c.value)) {
                return Some(td_string!(
                    l,
                    problem.written_size,
                    field = field,
                    limit = MAX_WRITTEN_BYTES
                ));
            }
            let total: f64 = choose.iter().map(|c| c.p).sum();
            ((total - 1.0).abs() > CHANCE_TOLERANCE).then(|| {
                td_string!(
                    l,
                    problem.chances_total,
                    field = field,
                    total = format!("{total:.3}")
                )
            })
        }
    }
}

fn edge_ref(index: usize, id: &str) -> String {
    if id.is_empty() {
        format!("#{index}")
    } else {
        id.to_string()
    }
}
