//! Converting a workflow between coordination styles, keeping its steps and layout.
//!
//! - **To orchestration**: every event edge becomes a command edge from the same source to
//!   the same subscriber on the same outcome (the orchestrator invokes each former
//!   subscriber when the publisher finishes); failure-event subscribers become failure
//!   routes. Two event edges that become the same command are merged.
//! - **To choreography**: every command edge becomes an event edge named after its source's
//!   outcome (`<Source>Completed` / `<Source>Failed`).
//!
//! Nothing is added to make up for what a style cannot do: what the result loses shows as
//! the design warnings ([`super::lint`]) it has and the original had not — e.g. an
//! orchestrator's saga has no equivalent in choreography unless compensating steps
//! subscribe to the failure events.

use crate::i18n::Locale;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::lint::{lint, Warning};
use super::workflow::{Edge, EdgeKind, Outcome, Workflow};

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
}

/// Converts every edge of `workflow` to `style`; the copy is named after the style (in
/// English: [`copy_name`] names it in another language).
pub fn convert(workflow: &Workflow, style: Style) -> Conversion {
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
    // What makes two edges the same once converted: their ends, outcome, kind, and for an
    // event its name (looked up once per edge, not against every edge kept).
    let mut seen: HashSet<(String, String, Outcome, EdgeKind, Option<String>)> = HashSet::new();
    for edge in &workflow.edges {
        let mut next = edge.clone();
        if edge.kind != style.edge_kind() {
            converted.push(edge.id.clone());
            next = flip(&labels, edge);
        }
        let name = (next.kind == EdgeKind::Event).then(|| event_name(&labels, &next));
        if seen.insert((next.from.clone(), next.to.clone(), next.on, next.kind, name)) {
            kept.push(next);
        } else {
            merged.push(edge.id.clone());
        }
    }
    result.edges = kept;
    let lost = lost_by(workflow, &result);
    Conversion {
        workflow: result,
        converted,
        merged,
        lost,
    }
}

/// One edge flipped to the other kind (the editor's `C`/`E` on a single edge).
pub fn convert_edge(workflow: &Workflow, edge: &Edge) -> Edge {
    let label = workflow.node(&edge.from).map(|n| n.label.as_str());
    let labels: HashMap<&str, &str> = label.map(|l| (edge.from.as_str(), l)).into_iter().collect();
    flip(&labels, edge)
}

/// `edge` flipped, its source's label read from `labels` (by step id).
fn flip(labels: &HashMap<&str, &str>, edge: &Edge) -> Edge {
    match edge.kind {
        EdgeKind::Event => Edge {
            kind: EdgeKind::Command,
            event: None,
            ..edge.clone()
        },
        EdgeKind::Command => {
            let label = labels
                .get(edge.from.as_str())
                .copied()
                .unwrap_or(&edge.from);
            Edge {
                kind: EdgeKind::Event,
                event: Some(Workflow::default_event_name(label, edge.on)),
                ..edge.clone()
            }
        }
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
