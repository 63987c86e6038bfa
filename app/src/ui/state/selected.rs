//! What is selected on the canvas — a step, an edge or several steps — and the edits that
//! act on it: delete, copy and paste, duplicate, switch an edge's kind, add a step and
//! select it. The selection follows the document: nothing is selected in a workflow just
//! opened, and what an edit or an undo took away is no longer selected.

use leptos::prelude::*;

use super::document::Document;
use crate::model::edit::Fragment;
use crate::model::{EdgeKind, GraphChange, Position};
use crate::ui::common::presets::new_step;
use crate::ui::common::selection::Selection;

/// The selection slice.
#[derive(Clone, Copy)]
pub struct Selected {
    pub selection: RwSignal<Option<Selection>>,
    document: Document,
}

impl Selected {
    pub fn new(document: Document) -> Self {
        let this = Selected {
            selection: RwSignal::new(None),
            document,
        };
        // A workflow just opened has nothing selected.
        Effect::new(move |_| {
            document.opened.track();
            this.selection.set(None);
        });
        // What an undo, a redo or an edit took away is no longer selected.
        Effect::new(move |_| {
            document.shape_rev.track();
            this.drop_stale_selection();
        });
        this
    }

    /// Deletes what is selected.
    pub fn delete_selection(&self) {
        match self.selection.get_untracked() {
            Some(Selection::Node(id)) => self.document.edit(GraphChange::RemoveNode(id)),
            Some(Selection::Edge(id)) => self.document.edit(GraphChange::RemoveEdge(id)),
            Some(Selection::Nodes(ids)) => self.document.edit(GraphChange::Batch(
                ids.into_iter().map(GraphChange::RemoveNode).collect(),
            )),
            None => return,
        }
        self.selection.set(None);
    }

    /// The selected steps and the edges among them (what Ctrl+C copies).
    pub fn selected_fragment(&self) -> Option<Fragment> {
        let ids = self.selection.get_untracked()?.nodes();
        (!ids.is_empty()).then(|| self.document.doc.with_untracked(|d| d.fragment(&ids)))
    }

    /// Adds a copy of `fragment` next to where it came from and selects the copy.
    pub fn paste(&self, fragment: &Fragment) {
        if fragment.nodes.is_empty() {
            return;
        }
        let (change, ids) = self
            .document
            .doc
            .with_untracked(|d| d.paste(fragment, Position { x: 30.0, y: 30.0 }));
        self.document.edit(change);
        self.selection.set(Selection::of_nodes(ids));
    }

    /// Ctrl+D: a copy of the selected steps.
    pub fn duplicate_selection(&self) {
        if let Some(fragment) = self.selected_fragment() {
            self.paste(&fragment);
        }
    }

    /// The selected edge, if an edge is selected.
    pub fn selected_edge(&self) -> Option<crate::model::Edge> {
        match self.selection.get() {
            Some(Selection::Edge(id)) => self
                .document
                .doc
                .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
            _ => None,
        }
    }

    /// Switches the selected edge to `kind`.
    pub fn set_edge_kind(&self, kind: EdgeKind) {
        if let Some(Selection::Edge(id)) = self.selection.get_untracked() {
            let edge = self
                .document
                .doc
                .with_untracked(|d| d.edges.iter().find(|e| e.id == id).cloned());
            if let Some(mut edge) = edge.filter(|e| e.kind != kind) {
                edge.kind = kind;
                self.document.edit(GraphChange::UpdateEdge(edge));
            }
        }
    }

    /// Adds a step of palette entry `preset` (at `at`, or in a free spot) and selects it.
    pub fn add_step(&self, preset: usize, at: Option<Position>) {
        let locale = self.document.lang.get_untracked();
        let node = self
            .document
            .doc
            .with_untracked(|d| new_step(d, preset, at, locale));
        let id = node.id.clone();
        self.document.edit(GraphChange::AddNode(node));
        self.selection.set(Some(Selection::Node(id)));
    }

    /// Drops a selection whose steps or edge an undo, a redo or an edit took away.
    fn drop_stale_selection(&self) {
        let stale = match self.selection.get_untracked() {
            Some(Selection::Node(id)) => {
                self.document.doc.with_untracked(|d| d.node(&id).is_none())
            }
            Some(Selection::Edge(id)) => self
                .document
                .doc
                .with_untracked(|d| !d.edges.iter().any(|e| e.id == id)),
            Some(Selection::Nodes(ids)) => self
                .document
                .doc
                .with_untracked(|d| ids.iter().any(|id| d.node(id).is_none())),
            None => false,
        };
        if stale {
            self.selection.set(None);
        }
    }
}
