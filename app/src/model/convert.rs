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

use crate::i18n::{td_string, Locale};
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::lint::{lint, Warning};
use super::workflow::{Edge, EdgeKind, Workflow};

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
    for edge in &workflow.edges {
        let mut next = edge.clone();
        if edge.kind != style.edge_kind() {
            converted.push(edge.id.clone());
            next = convert_edge(workflow, edge);
        }
        let duplicate = kept.iter().any(|k| {
            k.from == next.from
                && k.to == next.to
                && k.on == next.on
                && k.kind == next.kind
                && (next.kind == EdgeKind::Command
                    || workflow.event_name(k) == workflow.event_name(&next))
        });
        if duplicate {
            merged.push(edge.id.clone());
        } else {
            kept.push(next);
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
    match edge.kind {
        EdgeKind::Event => Edge {
            kind: EdgeKind::Command,
            event: None,
            ..edge.clone()
        },
        EdgeKind::Command => {
            let label = workflow
                .node(&edge.from)
                .map_or(edge.from.as_str(), |n| n.label.as_str());
            Edge {
                kind: EdgeKind::Event,
                event: Some(Workflow::default_event_name(label, edge.on)),
                ..edge.clone()
            }
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
