//! Converting a workflow between coordination styles, keeping its steps and layout.
//!
//! - **To orchestration**: every event edge becomes a command edge from the same source to
//!   the same subscriber on the same outcome (the orchestrator invokes each former
//!   subscriber when the publisher finishes); failure-event subscribers become failure
//!   routes. Two event edges that become the same command are merged.
//! - **To choreography**: every command edge becomes an event edge named after its source's
//!   outcome (`<Source>Completed` / `<Source>Failed`).
//!
//! A decision (conditional edges after a step) moves with the conversion, and
//! [`Conversion::moved`] says where each went: orchestrated, into the orchestrator;
//! choreographed, either into the publishing service — which publishes a different event per
//! branch (`<Source>To<Target>`) — or into every subscriber, each filtering one shared event
//! with the whole rule (an exclusive decision's branch holds only when the earlier ones do
//! not). [`convert_with`] lets the caller choose; [`convert`] lets the publisher decide.
//!
//! Nothing is added to make up for what a style cannot do: what the result loses shows as
//! the design warnings ([`super::lint`]) it has and the original had not — e.g. an
//! orchestrator's saga has no equivalent in choreography unless compensating steps
//! subscribe to the failure events.

use crate::i18n::Locale;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::lint::{lint, Warning};
use super::validate::MAX_CONDITION_CHARS;
use super::workflow::{Decide, Decider, Edge, EdgeKind, Outcome, Workflow};

/// A coordination style a workflow can be converted to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Orchestration,
    Choreography,
}

impl Style {
    pub const ALL: [Style; 2] = [Style::Orchestration, Style::Choreography];

    pub fn as_str(self) -> &'static str {
        match self {
            Style::Orchestration => "orchestration",
            Style::Choreography => "choreography",
        }
    }

    /// The edge kind every edge gets in this style.
    pub fn edge_kind(self) -> EdgeKind {
        match self {
            Style::Orchestration => EdgeKind::Command,
            Style::Choreography => EdgeKind::Event,
        }
    }
}

/// The converted copy and what the conversion did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    pub workflow: Workflow,
    /// Edges whose kind changed (by id).
    pub converted: Vec<String>,
    /// Edges dropped because they became duplicates of another (by id).
    pub merged: Vec<String>,
    /// What the result can no longer do: its design warnings the original did not have.
    pub lost: Vec<Warning>,
    /// Where each decision's rule went.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Moved>,
    /// Who times out each wait for a message now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits: Vec<WaitMoved>,
}

/// A wait for a message after a conversion: step `node` waits for `message`; orchestrated
/// (`orchestrated`), the orchestrator waits with it and acts on its timeout; choreographed,
/// the step waits on its own and its timeout (if it has one) is only a failure event
/// someone must hear — without one, only a watchdog notices a message that never comes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitMoved {
    pub node: String,
    pub message: String,
    pub orchestrated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// A step waits, with a timeout, for an event this step publishes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub watched: bool,
}

impl WaitMoved {
    /// Where the wait went, in `l`'s words.
    pub fn said(&self, l: Locale, workflow: &Workflow) -> String {
        let step = workflow.step_name(&self.node);
        let message = self.message.as_str();
        match (self.orchestrated, self.timeout_ms, self.watched) {
            (true, _, _) => {
                td_string!(l, convert.wait_orchestrated, step = step, message = message).to_string()
            }
            (false, _, true) => {
                td_string!(l, convert.wait_watched, step = step, message = message).to_string()
            }
            (false, Some(_), false) => {
                let event = Workflow::default_event_name(&step, Outcome::Failure);
                td_string!(
                    l,
                    convert.wait_timeout_event,
                    step = step,
                    message = message,
                    event = event
                )
                .to_string()
            }
            (false, None, false) => {
                td_string!(l, convert.wait_unwatched, step = step, message = message).to_string()
            }
        }
    }
}

/// One decision's rule, moved by a conversion: after `node` on `outcome`, it now lives in
/// `now`, and `known_by` are the services that must know it (change when it changes).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    pub node: String,
    pub outcome: Outcome,
    pub now: RuleHolder,
    pub known_by: Vec<String>,
    /// The events the publisher now chooses among (when it decides).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

/// Who applies a decision's rule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleHolder {
    Orchestrator,
    Publisher,
    Subscribers,
}

impl Moved {
    /// Where the rule went, in `l`'s words, steps named by their labels in `workflow`.
    pub fn said(&self, l: Locale, workflow: &Workflow) -> String {
        let step = workflow.step_name(&self.node);
        let services = self.known_by.join(", ");
        match self.now {
            RuleHolder::Orchestrator => {
                td_string!(l, convert.moved_orchestrator, step = step).to_string()
            }
            RuleHolder::Publisher => td_string!(
                l,
                convert.moved_publisher,
                step = step,
                service = services,
                events = self.events.join(", ")
            )
            .to_string(),
            RuleHolder::Subscribers => td_string!(
                l,
                convert.moved_subscribers,
                step = step,
                services = services,
                count = self.known_by.len()
            )
            .to_string(),
        }
    }
}

/// Converts every edge of `workflow` to `style`; the copy is named after the style (in
/// English: [`copy_name`] names it in another language). Choreographed, each decision's
/// publisher decides.
pub fn convert(workflow: &Workflow, style: Style) -> Conversion {
    convert_with(workflow, style, Decider::Publisher)
}

/// [`convert`], with `rules` saying who applies each decision's rule when it becomes
/// choreographed.
pub fn convert_with(workflow: &Workflow, style: Style, rules: Decider) -> Conversion {
    let mut result = workflow.clone();
    result.name = copy_name(&workflow.name, style, Locale::en);
    let mut converted = Vec::new();
    let mut merged = Vec::new();
    let mut kept: Vec<Edge> = Vec::new();
    let labels: HashMap<&str, &str> = workflow
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.label.as_str()))
        .collect();
    let rewritten = subscriber_rules(workflow, style, rules);
    // What makes two edges the same once converted: their ends, outcome, kind, condition,
    // and for an event its name (looked up once per edge, not against every edge kept).
    type Key = (
        String,
        String,
        Outcome,
        EdgeKind,
        Option<String>,
        Option<String>,
    );
    let mut seen: HashSet<Key> = HashSet::new();
    for (i, edge) in workflow.edges.iter().enumerate() {
        let mut next = edge.clone();
        if edge.kind != style.edge_kind() {
            converted.push(edge.id.clone());
            next = flip(&labels, edge);
            if let Some(condition) = rewritten.get(&i) {
                next.condition = condition.clone();
                next.decided_by = Some(Decider::Subscriber);
                next.event = Some(Workflow::default_event_name(
                    labels
                        .get(edge.from.as_str())
                        .copied()
                        .unwrap_or(&edge.from),
                    edge.on,
                ));
            }
        }
        let name = (next.kind == EdgeKind::Event).then(|| event_name(&labels, &next));
        let key = (
            next.from.clone(),
            next.to.clone(),
            next.on,
            next.kind,
            next.condition.clone(),
            name,
        );
        if seen.insert(key) {
            kept.push(next);
        } else {
            merged.push(edge.id.clone());
        }
    }
    // Subscribers deciding independently are an inclusive decision, orchestrated.
    if style == Style::Orchestration {
        for edge in workflow.edges.iter().filter(|e| e.filtered_by_subscriber()) {
            if let Some(node) = result.nodes.iter_mut().find(|n| n.id == edge.from) {
                node.decide = Some(Decide::Inclusive);
            }
        }
    }
    result.edges = kept;
    let lost = lost_by(workflow, &result);
    let moved = moved_by(workflow, &result);
    let waits = waits_after(workflow, &result, style);
    Conversion {
        workflow: result,
        converted,
        merged,
        lost,
        moved,
        waits,
    }
}

/// The conditions every subscriber of a decision checks when the subscribers decide (by
/// edge index): an exclusive decision's branch holds only when it holds and no earlier one
/// does, its default when none does; an inclusive one's branches keep their own. `None`
/// for a default that needs no filter. Decisions whose whole rule would be longer than a
/// condition may be stay with the publisher.
fn subscriber_rules(
    workflow: &Workflow,
    style: Style,
    rules: Decider,
) -> HashMap<usize, Option<String>> {
    let mut rewritten = HashMap::new();
    if style != Style::Choreography || rules != Decider::Subscriber {
        return rewritten;
    }
    let mut groups: Vec<((&str, Outcome), Vec<usize>)> = Vec::new();
    let mut at: HashMap<(&str, Outcome), usize> = HashMap::new();
    for (i, e) in workflow.edges.iter().enumerate() {
        if e.kind != EdgeKind::Command {
            continue;
        }
        let key = (e.from.as_str(), e.on);
        let slot = *at.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(i);
    }
    for ((from, _), edges) in groups {
        if edges.iter().all(|&i| workflow.edges[i].condition.is_none())
            || edges
                .iter()
                .any(|&i| workflow.edges[i].max_iterations.is_some())
        {
            // No rule, or a loop's: its count is the publisher's to keep.
            continue;
        }
        let exclusive = workflow
            .node(from)
            .and_then(|n| n.decide)
            .unwrap_or_default()
            == Decide::Exclusive;
        let mut earlier: Vec<String> = Vec::new();
        let mut group = HashMap::new();
        for &i in &edges {
            let own = workflow.edges[i].condition.as_deref();
            let rule = match (own, exclusive) {
                (Some(c), false) => Some(c.to_string()),
                (None, false) => None,
                (own, true) => {
                    let mut parts: Vec<String> =
                        earlier.iter().map(|c| format!("!({c})")).collect();
                    if let Some(c) = own {
                        parts.push(format!("({c})"));
                        earlier.push(c.to_string());
                    }
                    (!parts.is_empty()).then(|| parts.join(" && "))
                }
            };
            group.insert(i, rule);
        }
        // An exclusive default comes after every branch: its rule is that none held.
        if exclusive {
            for &i in edges
                .iter()
                .filter(|&&i| workflow.edges[i].condition.is_none())
            {
                let parts: Vec<String> = earlier.iter().map(|c| format!("!({c})")).collect();
                group.insert(i, Some(parts.join(" && ")));
            }
        }
        let fits = group
            .values()
            .flatten()
            .all(|c| c.chars().count() <= MAX_CONDITION_CHARS);
        if fits {
            rewritten.extend(group);
        }
    }
    rewritten
}

/// Who times out each wait for a message of `after`, when the conversion changed who
/// coordinates it (the step's incoming edges changed kind).
fn waits_after(before: &Workflow, after: &Workflow, style: Style) -> Vec<WaitMoved> {
    let watched: HashSet<&str> = after
        .nodes
        .iter()
        .filter_map(|n| n.wait.as_ref())
        .filter(|w| w.timeout_ms.is_some())
        .filter_map(|w| w.message.as_deref())
        .collect();
    let kinds = |w: &Workflow, id: &str| -> HashSet<EdgeKind> {
        w.edges
            .iter()
            .filter(|e| e.to == id)
            .map(|e| e.kind)
            .collect()
    };
    after
        .nodes
        .iter()
        .filter_map(|node| {
            let wait = node.wait.as_ref()?;
            let message = wait.message.clone()?;
            if kinds(before, &node.id) == kinds(after, &node.id) {
                return None;
            }
            let publishes_watched = after.outgoing(&node.id, Outcome::Success).any(|e| {
                e.kind == EdgeKind::Event && watched.contains(after.event_name(e).as_str())
            });
            Some(WaitMoved {
                node: node.id.clone(),
                message,
                orchestrated: style == Style::Orchestration,
                timeout_ms: wait.timeout_ms,
                watched: publishes_watched,
            })
        })
        .collect()
}

/// Where each decision of `before` went in `after`: for every (step, outcome) with
/// conditional edges whose rule changed hands.
fn moved_by(before: &Workflow, after: &Workflow) -> Vec<Moved> {
    let service_of: HashMap<&str, &str> = after
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.service.as_str()))
        .collect();
    let holder = |w: &Workflow, from: &str, on: Outcome| -> Option<RuleHolder> {
        let edges: Vec<&Edge> = w.outgoing(from, on).collect();
        let conditional = edges
            .iter()
            .find(|e| e.condition.is_some() || e.max_iterations.is_some())?;
        Some(match conditional.kind {
            EdgeKind::Command => RuleHolder::Orchestrator,
            EdgeKind::Event if edges.iter().any(|e| e.filtered_by_subscriber()) => {
                RuleHolder::Subscribers
            }
            EdgeKind::Event => RuleHolder::Publisher,
        })
    };
    let mut moved = Vec::new();
    for node in &before.nodes {
        for on in Outcome::ALL {
            let (Some(was), Some(now)) =
                (holder(before, &node.id, on), holder(after, &node.id, on))
            else {
                continue;
            };
            if was == now {
                continue;
            }
            let mut known_by: Vec<String> = Vec::new();
            let mut events: Vec<String> = Vec::new();
            for edge in after.outgoing(&node.id, on) {
                let service = match now {
                    RuleHolder::Orchestrator => "orchestrator",
                    RuleHolder::Publisher => {
                        service_of.get(edge.from.as_str()).copied().unwrap_or("")
                    }
                    RuleHolder::Subscribers if edge.filtered_by_subscriber() => {
                        service_of.get(edge.to.as_str()).copied().unwrap_or("")
                    }
                    RuleHolder::Subscribers => continue,
                };
                if !known_by.iter().any(|s| s == service) {
                    known_by.push(service.to_string());
                }
                if now == RuleHolder::Publisher {
                    let name = after.event_name(edge);
                    if !events.contains(&name) {
                        events.push(name);
                    }
                }
            }
            moved.push(Moved {
                node: node.id.clone(),
                outcome: on,
                now,
                known_by,
                events,
            });
        }
    }
    moved
}

/// One edge flipped to the other kind (the editor's `C`/`E` on a single edge).
pub fn convert_edge(workflow: &Workflow, edge: &Edge) -> Edge {
    let labels: HashMap<&str, &str> = [&edge.from, &edge.to]
        .into_iter()
        .filter_map(|id| workflow.node(id).map(|n| (id.as_str(), n.label.as_str())))
        .collect();
    flip(&labels, edge)
}

/// `edge` flipped, its ends' labels read from `labels` (by step id). A command becomes an
/// event named after its source's outcome — after its source and target when it is a
/// branch of a decision, so that the publisher decides between distinct events — and an
/// event a command, without what only events have.
fn flip(labels: &HashMap<&str, &str>, edge: &Edge) -> Edge {
    let label = |id: &str| labels.get(id).copied().unwrap_or(id).to_string();
    match edge.kind {
        EdgeKind::Event => Edge {
            kind: EdgeKind::Command,
            event: None,
            decided_by: None,
            payload: None,
            ..edge.clone()
        },
        EdgeKind::Command => Edge {
            kind: EdgeKind::Event,
            event: Some(
                match edge.condition.is_some() || edge.max_iterations.is_some() {
                    false => Workflow::default_event_name(&label(&edge.from), edge.on),
                    true => {
                        let squeeze = |s: String| s.split_whitespace().collect::<String>();
                        format!(
                            "{}To{}",
                            squeeze(label(&edge.from)),
                            squeeze(label(&edge.to))
                        )
                    }
                },
            ),
            ..edge.clone()
        },
    }
}

/// An event edge's name: its own, or the default from its source's label.
fn event_name(labels: &HashMap<&str, &str>, edge: &Edge) -> String {
    match edge.event.as_ref().filter(|n| !n.is_empty()) {
        Some(name) => name.clone(),
        None => {
            let label = labels
                .get(edge.from.as_str())
                .copied()
                .unwrap_or(&edge.from);
            Workflow::default_event_name(label, edge.on)
        }
    }
}

/// The design warnings `after` has that `before` had not: what a change lost.
pub fn lost_by(before: &Workflow, after: &Workflow) -> Vec<Warning> {
    let had: HashSet<(String, Option<String>, Option<String>)> = lint(before)
        .into_iter()
        .map(|w| (format!("{:?}", w.kind), w.node, w.edge))
        .collect();
    lint(after)
        .into_iter()
        .filter(|w| !had.contains(&(format!("{:?}", w.kind), w.node.clone(), w.edge.clone())))
        .collect()
}

/// The name of `name`'s copy converted to `style`, in `locale`'s words: "Order (as
/// choreography)", "주문 (코레오그래피 방식)".
pub fn copy_name(name: &str, style: Style, locale: Locale) -> String {
    format!("{}{}", base_name(name), suffix(style, locale))
}

fn suffix(style: Style, locale: Locale) -> String {
    let words = match style {
        Style::Orchestration => super::lab::LabStyle::Orchestration,
        Style::Choreography => super::lab::LabStyle::Choreography,
    }
    .words(locale);
    td_string!(locale, convert.suffix, style = words).to_string()
}

/// A name without an earlier conversion's suffix (in either language), so converting twice
/// does not stack them.
fn base_name(name: &str) -> &str {
    Style::ALL
        .iter()
        .flat_map(|&s| [Locale::en, Locale::ko].map(|l| suffix(s, l)))
        .find_map(|suffix| name.strip_suffix(suffix.as_str()))
        .unwrap_or(name)
}
