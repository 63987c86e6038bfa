//! Editing a workflow: every change the editor makes is a [`GraphChange`] applied by one
//! function, [`Workflow::apply`]. (Undo/redo will store the inverse of each change.)

use super::workflow::{Edge, EdgeKind, Node, Position, Workflow};

#[derive(Clone, Debug, PartialEq)]
pub enum GraphChange {
    Rename(String),
    AddNode(Node),
    /// Removes the node and every edge touching it.
    RemoveNode(String),
    MoveNode {
        id: String,
        to: Position,
    },
    /// Replaces the node with the same id (label, service, action, position…).
    UpdateNode(Node),
    AddEdge(Edge),
    RemoveEdge(String),
    /// Replaces the edge with the same id (kind, outcome, event name…).
    UpdateEdge(Edge),
}

impl Workflow {
    /// Applies one change; returns false (and changes nothing) when it does not apply,
    /// e.g. it names a node or edge that is not there, or adds a duplicate id.
    pub fn apply(&mut self, change: GraphChange) -> bool {
        match change {
            GraphChange::Rename(name) => {
                self.name = name;
                true
            }
            GraphChange::AddNode(node) => {
                if self.node(&node.id).is_some() {
                    return false;
                }
                self.nodes.push(node);
                true
            }
            GraphChange::RemoveNode(id) => {
                let before = self.nodes.len();
                self.nodes.retain(|n| n.id != id);
                self.edges.retain(|e| e.from != id && e.to != id);
                self.nodes.len() != before
            }
            GraphChange::MoveNode { id, to } => match self.nodes.iter_mut().find(|n| n.id == id) {
                Some(node) => {
                    node.position = to;
                    true
                }
                None => false,
            },
            GraphChange::UpdateNode(node) => {
                match self.nodes.iter_mut().find(|n| n.id == node.id) {
                    Some(slot) => {
                        *slot = node;
                        true
                    }
                    None => false,
                }
            }
            GraphChange::AddEdge(edge) => {
                let known = self.node(&edge.from).is_some() && self.node(&edge.to).is_some();
                if !known || self.edges.iter().any(|e| e.id == edge.id) {
                    return false;
                }
                self.edges.push(edge);
                true
            }
            GraphChange::RemoveEdge(id) => {
                let before = self.edges.len();
                self.edges.retain(|e| e.id != id);
                self.edges.len() != before
            }
            GraphChange::UpdateEdge(edge) => {
                match self.edges.iter_mut().find(|e| e.id == edge.id) {
                    Some(slot) => {
                        *slot = edge;
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// An id of the form `{prefix}{n}` that no node or edge uses.
    pub fn fresh_id(&self, prefix: &str) -> String {
        (1..)
            .map(|n| format!("{prefix}{n}"))
            .find(|id| {
                self.nodes.iter().all(|n| &n.id != id) && self.edges.iter().all(|e| &e.id != id)
            })
            .unwrap_or_default()
    }

    /// A new command edge from `from` to `to`, with a fresh id.
    pub fn new_edge(&self, from: &str, to: &str) -> Edge {
        Edge {
            id: self.fresh_id("e"),
            from: from.to_string(),
            to: to.to_string(),
            kind: EdgeKind::Command,
            on: Default::default(),
            event: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> Node {
        Node {
            id: id.into(),
            label: id.into(),
            service: "S".into(),
            action: "a".into(),
            ..Default::default()
        }
    }

    #[test]
    fn changes_apply_and_refuse_what_does_not_fit() {
        let mut w = Workflow::default();
        assert!(w.apply(GraphChange::AddNode(node("a"))));
        assert!(!w.apply(GraphChange::AddNode(node("a"))), "duplicate id");
        assert!(w.apply(GraphChange::AddNode(node("b"))));
        let edge = w.new_edge("a", "b");
        assert_eq!(edge.id, "e1");
        assert!(w.apply(GraphChange::AddEdge(edge.clone())));
        assert!(
            !w.apply(GraphChange::AddEdge(w.new_edge("a", "zz"))),
            "unknown target"
        );
        let mut event = edge.clone();
        event.kind = EdgeKind::Event;
        assert!(w.apply(GraphChange::UpdateEdge(event)));
        assert_eq!(w.edges[0].kind, EdgeKind::Event);
        assert!(w.apply(GraphChange::MoveNode {
            id: "b".into(),
            to: Position { x: 5.0, y: 6.0 }
        }));
        assert_eq!(w.nodes[1].position, Position { x: 5.0, y: 6.0 });
        assert!(w.apply(GraphChange::RemoveNode("a".into())));
        assert!(w.edges.is_empty(), "edges of a removed node go with it");
        assert!(!w.apply(GraphChange::RemoveEdge("e1".into())));
    }
}
