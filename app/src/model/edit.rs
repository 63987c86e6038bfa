//! Editing a workflow: every change the editor makes is a [`GraphChange`] applied by one
//! function, [`Workflow::apply`], which also returns the change that undoes it; [`Undo`]
//! keeps those inverses (grouped per gesture) for undo and redo.

use serde::{Deserialize, Serialize};

use super::workflow::{Edge, EdgeKind, Node, Position, Workflow};

/// A piece of a workflow on the clipboard: some steps and the edges among them. A whole
/// native document reads as one too (its name is ignored).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fragment {
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

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
    /// Puts a node back at a place in the list (the inverse of a removal).
    InsertNode {
        index: usize,
        node: Node,
    },
    /// Puts an edge back at a place in the list.
    InsertEdge {
        index: usize,
        edge: Edge,
    },
    /// Replaces the scenarios the document keeps (its tests).
    SetScenarios(Vec<super::scenario::Scenario>),
    /// Several changes as one (applied in order).
    Batch(Vec<GraphChange>),
}

impl GraphChange {
    /// Whether the change only moves steps (the workflow's structure stays the same).
    pub fn moves_only(&self) -> bool {
        match self {
            GraphChange::MoveNode { .. } => true,
            GraphChange::Batch(changes) => changes.iter().all(GraphChange::moves_only),
            _ => false,
        }
    }
}

impl Workflow {
    /// Applies one change and returns the change that undoes it; `None` (and nothing
    /// changed) when it does not apply, e.g. it names a node or edge that is not there.
    pub fn apply(&mut self, change: GraphChange) -> Option<GraphChange> {
        match change {
            GraphChange::Rename(name) => {
                Some(GraphChange::Rename(std::mem::replace(&mut self.name, name)))
            }
            GraphChange::SetScenarios(scenarios) => Some(GraphChange::SetScenarios(
                std::mem::replace(&mut self.scenarios, scenarios),
            )),
            GraphChange::AddNode(node) => {
                let index = self.nodes.len();
                self.apply(GraphChange::InsertNode { index, node })
            }
            GraphChange::InsertNode { index, node } => {
                if self.node(&node.id).is_some() || index > self.nodes.len() {
                    return None;
                }
                let id = node.id.clone();
                self.nodes.insert(index, node);
                Some(GraphChange::RemoveNode(id))
            }
            GraphChange::RemoveNode(id) => {
                let index = self.nodes.iter().position(|n| n.id == id)?;
                let node = self.nodes.remove(index);
                let mut restore = vec![GraphChange::InsertNode { index, node }];
                let mut i = 0;
                while i < self.edges.len() {
                    if self.edges[i].from == id || self.edges[i].to == id {
                        let edge = self.edges.remove(i);
                        restore.push(GraphChange::InsertEdge { index: i, edge });
                    } else {
                        i += 1;
                    }
                }
                // Edges are re-inserted in ascending order of their former places.
                let mut indexed: Vec<(usize, GraphChange)> = Vec::new();
                let mut removed_before = 0;
                for change in restore.drain(1..) {
                    if let GraphChange::InsertEdge { index, edge } = change {
                        indexed.push((
                            index + removed_before,
                            GraphChange::InsertEdge {
                                index: index + removed_before,
                                edge,
                            },
                        ));
                        removed_before += 1;
                    }
                }
                restore.extend(indexed.into_iter().map(|(_, c)| c));
                Some(GraphChange::Batch(restore))
            }
            GraphChange::MoveNode { id, to } => {
                let node = self.nodes.iter_mut().find(|n| n.id == id)?;
                let from = std::mem::replace(&mut node.position, to);
                Some(GraphChange::MoveNode { id, to: from })
            }
            GraphChange::UpdateNode(node) => {
                let slot = self.nodes.iter_mut().find(|n| n.id == node.id)?;
                Some(GraphChange::UpdateNode(std::mem::replace(slot, node)))
            }
            GraphChange::AddEdge(edge) => {
                let index = self.edges.len();
                self.apply(GraphChange::InsertEdge { index, edge })
            }
            GraphChange::InsertEdge { index, edge } => {
                let known = self.node(&edge.from).is_some() && self.node(&edge.to).is_some();
                if !known || index > self.edges.len() || self.edges.iter().any(|e| e.id == edge.id)
                {
                    return None;
                }
                let id = edge.id.clone();
                self.edges.insert(index, edge);
                Some(GraphChange::RemoveEdge(id))
            }
            GraphChange::RemoveEdge(id) => {
                let index = self.edges.iter().position(|e| e.id == id)?;
                let edge = self.edges.remove(index);
                Some(GraphChange::InsertEdge { index, edge })
            }
            GraphChange::UpdateEdge(edge) => {
                let slot = self.edges.iter_mut().find(|e| e.id == edge.id)?;
                Some(GraphChange::UpdateEdge(std::mem::replace(slot, edge)))
            }
            GraphChange::Batch(changes) => {
                let mut inverses = Vec::with_capacity(changes.len());
                for change in changes {
                    match self.apply(change) {
                        Some(inverse) => inverses.push(inverse),
                        None => {
                            // Roll back what was applied: a batch is all or nothing.
                            for inverse in inverses.into_iter().rev() {
                                self.apply(inverse);
                            }
                            return None;
                        }
                    }
                }
                inverses.reverse();
                Some(GraphChange::Batch(inverses))
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

    /// The steps `ids` and the edges among them.
    pub fn fragment(&self, ids: &[String]) -> Fragment {
        Fragment {
            nodes: self
                .nodes
                .iter()
                .filter(|n| ids.contains(&n.id))
                .cloned()
                .collect(),
            edges: self
                .edges
                .iter()
                .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
                .cloned()
                .collect(),
        }
    }

    /// The change that adds a copy of `fragment`, moved by `offset`, with fresh ids (edges
    /// whose ends are not in the fragment are dropped); and the new steps' ids.
    pub fn paste(&self, fragment: &Fragment, offset: Position) -> (GraphChange, Vec<String>) {
        let mut scratch = self.clone();
        let mut renamed = std::collections::HashMap::new();
        let mut changes = Vec::new();
        for node in &fragment.nodes {
            let base = node
                .id
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .trim_end_matches('-');
            let prefix = if base.is_empty() {
                "step-".to_string()
            } else {
                format!("{base}-")
            };
            let id = scratch.fresh_id(&prefix);
            let mut copy = node.clone();
            copy.id = id.clone();
            copy.position = Position {
                x: node.position.x + offset.x,
                y: node.position.y + offset.y,
            };
            scratch.nodes.push(copy.clone());
            renamed.insert(node.id.clone(), id);
            changes.push(GraphChange::AddNode(copy));
        }
        for edge in &fragment.edges {
            if let (Some(from), Some(to)) = (renamed.get(&edge.from), renamed.get(&edge.to)) {
                let mut copy = edge.clone();
                copy.id = scratch.fresh_id("e");
                copy.from = from.clone();
                copy.to = to.clone();
                scratch.edges.push(copy.clone());
                changes.push(GraphChange::AddEdge(copy));
            }
        }
        let ids = fragment
            .nodes
            .iter()
            .map(|n| renamed[&n.id].clone())
            .collect();
        (GraphChange::Batch(changes), ids)
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
            condition: None,
            decided_by: None,
            max_iterations: None,
            payload: None,
        }
    }
}

/// Undo and redo: the inverses of applied changes, one entry per user action.
#[derive(Clone, Debug, Default)]
pub struct Undo {
    undo: Vec<GraphChange>,
    redo: Vec<GraphChange>,
    /// While a gesture (a drag, typing in a field) is open, its changes merge into one entry.
    open: Option<Vec<GraphChange>>,
}

/// How many user actions can be undone.
pub const UNDO_DEPTH: usize = 200;

impl Undo {
    /// Applies `change` to `workflow` and remembers how to undo it.
    pub fn apply(&mut self, workflow: &mut Workflow, change: GraphChange) -> bool {
        let Some(inverse) = workflow.apply(change) else {
            return false;
        };
        self.redo.clear();
        match self.open.as_mut() {
            Some(group) => group.push(inverse),
            None => self.push(inverse),
        }
        true
    }

    fn push(&mut self, inverse: GraphChange) {
        self.undo.push(inverse);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
    }

    /// Starts a gesture: its changes undo together.
    pub fn begin(&mut self) {
        self.close();
        self.open = Some(Vec::new());
    }

    /// Ends the gesture in progress, if any.
    pub fn close(&mut self) {
        if let Some(mut group) = self.open.take() {
            if !group.is_empty() {
                group.reverse();
                self.push(GraphChange::Batch(group));
            }
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty() || self.open.as_ref().is_some_and(|g| !g.is_empty())
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self, workflow: &mut Workflow) -> bool {
        self.close();
        let Some(inverse) = self.undo.pop() else {
            return false;
        };
        match workflow.apply(inverse) {
            Some(redo) => {
                self.redo.push(redo);
                true
            }
            None => false,
        }
    }

    pub fn redo(&mut self, workflow: &mut Workflow) -> bool {
        self.close();
        let Some(change) = self.redo.pop() else {
            return false;
        };
        match workflow.apply(change) {
            Some(inverse) => {
                self.push(inverse);
                true
            }
            None => false,
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
        assert!(w.apply(GraphChange::AddNode(node("a"))).is_some());
        assert!(
            w.apply(GraphChange::AddNode(node("a"))).is_none(),
            "duplicate id"
        );
        assert!(w.apply(GraphChange::AddNode(node("b"))).is_some());
        let edge = w.new_edge("a", "b");
        assert_eq!(edge.id, "e1");
        assert!(w.apply(GraphChange::AddEdge(edge.clone())).is_some());
        let dangling = w.new_edge("a", "zz");
        assert!(
            w.apply(GraphChange::AddEdge(dangling)).is_none(),
            "unknown target"
        );
        let mut event = edge.clone();
        event.kind = EdgeKind::Event;
        assert!(w.apply(GraphChange::UpdateEdge(event)).is_some());
        assert_eq!(w.edges[0].kind, EdgeKind::Event);
        let to = Position { x: 5.0, y: 6.0 };
        assert!(w
            .apply(GraphChange::MoveNode { id: "b".into(), to })
            .is_some());
        assert_eq!(w.nodes[1].position, to);
        assert!(w.apply(GraphChange::RemoveNode("a".into())).is_some());
        assert!(w.edges.is_empty(), "edges of a removed node go with it");
        assert!(w.apply(GraphChange::RemoveEdge("e1".into())).is_none());
    }

    #[test]
    fn every_edit_undoes_and_redoes_exactly() {
        let mut w = Workflow::default();
        let mut undo = Undo::default();
        let mut snapshots = vec![w.clone()];
        fn edit(w: &mut Workflow, undo: &mut Undo, s: &mut Vec<Workflow>, change: GraphChange) {
            assert!(undo.apply(w, change));
            s.push(w.clone());
        }
        edit(
            &mut w,
            &mut undo,
            &mut snapshots,
            GraphChange::Rename("Shop".into()),
        );
        for id in ["a", "b", "c"] {
            edit(
                &mut w,
                &mut undo,
                &mut snapshots,
                GraphChange::AddNode(node(id)),
            );
        }
        for (from, to) in [("a", "b"), ("b", "c"), ("a", "c")] {
            let e = w.new_edge(from, to);
            edit(&mut w, &mut undo, &mut snapshots, GraphChange::AddEdge(e));
        }
        // A drag is one gesture of many moves: it undoes in one step.
        undo.begin();
        for x in 1..=5 {
            let to = Position {
                x: x as f64,
                y: 0.0,
            };
            assert!(undo.apply(&mut w, GraphChange::MoveNode { id: "b".into(), to }));
        }
        undo.close();
        snapshots.push(w.clone());
        let mut changed = w.edges[1].clone();
        changed.kind = EdgeKind::Event;
        edit(
            &mut w,
            &mut undo,
            &mut snapshots,
            GraphChange::UpdateEdge(changed),
        );
        edit(
            &mut w,
            &mut undo,
            &mut snapshots,
            GraphChange::RemoveNode("b".into()),
        );
        assert_eq!(w.edges.len(), 1, "b's two edges went with it");

        for expected in snapshots.iter().rev().skip(1) {
            assert!(undo.undo(&mut w));
            assert_eq!(&w, expected);
        }
        assert!(!undo.undo(&mut w));
        for expected in snapshots.iter().skip(1) {
            assert!(undo.redo(&mut w));
            assert_eq!(&w, expected);
        }
        assert!(!undo.can_redo());
        // A new edit after undoing drops what could have been redone.
        assert!(undo.undo(&mut w));
        assert!(undo.can_redo());
        assert!(undo.apply(&mut w, GraphChange::Rename("Other".into())));
        assert!(!undo.can_redo());
    }

    #[test]
    fn a_fragment_pastes_as_fresh_copies_with_its_inner_edges() {
        let mut w = Workflow {
            name: "w".into(),
            ..Default::default()
        };
        for id in ["step-1", "step-2", "pay"] {
            w.apply(GraphChange::AddNode(node(id)));
        }
        for (a, b) in [("step-1", "step-2"), ("step-2", "pay")] {
            let e = w.new_edge(a, b);
            w.apply(GraphChange::AddEdge(e));
        }
        let fragment = w.fragment(&["step-2".into(), "pay".into()]);
        assert_eq!(fragment.nodes.len(), 2);
        assert_eq!(
            fragment.edges.len(),
            1,
            "only the edge inside the selection"
        );
        let (change, ids) = w.paste(&fragment, Position { x: 30.0, y: 30.0 });
        assert_eq!(ids, ["step-3", "pay-1"]);
        assert!(w.apply(change).is_some());
        assert_eq!(w.nodes.len(), 5);
        let copy = w.edges.last().unwrap();
        assert_eq!((copy.from.as_str(), copy.to.as_str()), ("step-3", "pay-1"));
        assert_eq!(
            w.node("pay-1").unwrap().position,
            Position { x: 30.0, y: 30.0 }
        );
        assert!(crate::model::validate(&w).is_empty());
        // A whole document reads as a fragment too.
        let doc = serde_json::json!({"name": "x", "nodes": [{"id": "a", "label": "A", "service": "S", "action": "x"}], "edges": []});
        let f: Fragment = serde_json::from_value(doc).unwrap();
        assert_eq!(f.nodes.len(), 1);
    }
}
