//! The workflow document: steps (nodes) joined by command or event edges.
//!
//! These types *are* the native file format: the field names on the wire are the field
//! names here, unknown fields are refused, and optional fields are left out when they hold
//! their default so a document round-trips unchanged. Later issues add behaviour fields to
//! [`Node`] and [`Edge`] as `#[serde(default)]` fields, which keeps older documents valid.

use serde::{Deserialize, Serialize};

/// A workflow as the user drew it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub name: String,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// One step of the workflow: a service performing an action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub service: String,
    pub action: String,
    #[serde(default)]
    pub position: Position,
}

/// Where a node sits on the canvas, in canvas units (its top-left corner).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// A connection from one step to the next, and how the next one learns of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Optional on input: [`Workflow::assign_edge_ids`] fills in the missing ones.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// Which outcome of `from` follows this edge.
    #[serde(default, skip_serializing_if = "Outcome::is_success")]
    pub on: Outcome,
    /// The event's name for an event edge; when absent it is derived from the source's
    /// label and outcome (see [`Workflow::event_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// Command = orchestration (the run's orchestrator sends it and waits for the reply);
/// event = choreography (the source publishes a fact, subscribers react).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    #[default]
    Command,
    Event,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 2] = [EdgeKind::Command, EdgeKind::Event];

    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Command => "command",
            EdgeKind::Event => "event",
        }
    }
}

/// The outcome of a step that an edge follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Outcome::Success, Outcome::Failure];

    pub fn is_success(&self) -> bool {
        *self == Outcome::Success
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

impl Workflow {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Gives every edge without an id a fresh one (`e1`, `e2`, …) that no edge uses yet.
    pub fn assign_edge_ids(&mut self) {
        let mut used: std::collections::HashSet<String> = self
            .edges
            .iter()
            .filter(|e| !e.id.is_empty())
            .map(|e| e.id.clone())
            .collect();
        let mut next = 1usize;
        for edge in self.edges.iter_mut().filter(|e| e.id.is_empty()) {
            while used.contains(&format!("e{next}")) {
                next += 1;
            }
            edge.id = format!("e{next}");
            used.insert(edge.id.clone());
        }
    }

    /// The name an event edge publishes: its own `event`, or `<source label>Completed` /
    /// `<source label>Failed` with the label's spaces removed.
    pub fn event_name(&self, edge: &Edge) -> String {
        if let Some(name) = edge.event.as_ref().filter(|n| !n.is_empty()) {
            return name.clone();
        }
        let label = self
            .node(&edge.from)
            .map(|n| n.label.as_str())
            .unwrap_or(edge.from.as_str());
        let base: String = label.split_whitespace().collect();
        match edge.on {
            Outcome::Success => format!("{base}Completed"),
            Outcome::Failure => format!("{base}Failed"),
        }
    }

    /// The edges leaving `node` that follow `outcome`.
    pub fn outgoing<'a>(
        &'a self,
        node: &'a str,
        outcome: Outcome,
    ) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.from == node && e.on == outcome)
    }

    /// Nodes nothing points at: where a run starts.
    pub fn roots(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(|n| !self.edges.iter().any(|e| e.to == n.id))
    }
}
