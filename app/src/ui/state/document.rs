//! The open workflow as a document: its content, undo history, selection, live problems,
//! and whether (and where) it is saved — with autosave, a local copy of unsaved edits, and
//! edit conflicts between tabs. Every edit goes through [`Document::edit`].

use std::collections::HashMap;

use leptos::prelude::*;

use super::notice::Notice;
use crate::model::api::{WorkflowRecord, WorkflowSummary};
use crate::model::edit::{Fragment, Undo};
use crate::model::examples::{distinct_name, is_template_id};
use crate::model::layout::layered;
use crate::model::{EdgeKind, GraphChange, Position, Workflow};
use crate::ui::client;
use crate::ui::common::issues::{issues_of, Issue};
use crate::ui::common::language::{use_lang, Lang};
use crate::ui::common::presets::new_step;
use crate::ui::common::selection::Selection;
use crate::ui::common::templates::template_title;
use crate::ui::spawn_local;

/// How long after the last edit autosave waits before saving.
pub const AUTOSAVE_DELAY_MS: u32 = 800;
/// The longest wait between retries of a failed save.
pub const SAVE_RETRY_MAX_MS: u32 = 16_000;

/// Where the browser keeps the local copy of a workflow's unsaved edits.
pub fn draft_key(id: Option<&str>) -> String {
    format!("hybridflow:draft:{}", id.unwrap_or("new"))
}

/// The document slice. Signals are `Copy`, so the slice is passed around by value.
#[derive(Clone, Copy)]
pub struct Document {
    pub doc: RwSignal<Workflow>,
    /// The server's id of the open workflow; `None` until it is first saved.
    pub workflow_id: RwSignal<Option<String>>,
    pub selection: RwSignal<Option<Selection>>,
    /// Inverses of the edits, for undo and redo.
    pub history: StoredValue<Undo>,
    /// Bumped on every edit, undo and redo, so the undo/redo buttons know when to look again.
    pub revision: RwSignal<u64>,
    /// Bumped on every change except pure moves: what depends on the workflow's structure
    /// (problems, id lookups) is not recomputed on every frame of a drag.
    pub shape_rev: RwSignal<u64>,
    /// Bumped each time another workflow is opened (the run and the view follow it).
    pub opened: RwSignal<u64>,
    /// Errors and design warnings of the open workflow, live.
    pub issues: Memo<Vec<Issue>>,
    /// Where each step and edge sits in the document, by id.
    pub node_index: Memo<HashMap<String, usize>>,
    pub edge_index: Memo<HashMap<String, usize>>,
    /// Edits not yet saved.
    pub dirty: RwSignal<bool>,
    pub saving: RwSignal<bool>,
    /// The last save failed; autosave keeps retrying.
    pub save_failed: RwSignal<bool>,
    /// The server's revision of the open workflow as this tab last read or saved it: saves
    /// send it as `If-Match`, so an edit made in another tab is never overwritten silently.
    pub server_revision: RwSignal<Option<i64>>,
    /// A save was refused: the workflow was changed elsewhere and is now at this revision.
    /// Autosave stops until the user reloads or overwrites.
    pub conflict: RwSignal<Option<i64>>,
    /// The saved workflows (the workflows column).
    pub workflows: RwSignal<Vec<WorkflowSummary>>,
    /// The list has come from the server at least once (until then the column is busy).
    pub listed: RwSignal<bool>,
    /// The open workflow is a template or a copy of one: the page shows its words in the
    /// page's language (see [`crate::ui::common::templates::word`]).
    pub of_template: Memo<bool>,
    /// The page's language (new steps and untitled workflows are named in it).
    pub lang: Lang,
    notice: Notice,
}

impl Document {
    pub fn new(notice: Notice) -> Self {
        let doc = RwSignal::new(Workflow::default());
        let shape_rev = RwSignal::new(0u64);
        let index = |ids: fn(&Workflow) -> Vec<String>| {
            Memo::new(move |_| {
                shape_rev.track();
                doc.with_untracked(|d| {
                    ids(d)
                        .into_iter()
                        .enumerate()
                        .map(|(i, id)| (id, i))
                        .collect()
                })
            })
        };
        let lang = use_lang();
        let opened = RwSignal::new(0u64);
        Document {
            lang,
            doc,
            of_template: Memo::new(move |_| doc.with(|d| d.template.is_some())),
            shape_rev,
            issues: {
                Memo::new(move |_| {
                    shape_rev.track();
                    // Before the first workflow opens the document is a blank placeholder,
                    // not the user's: it has no problems to show.
                    if opened.get() == 0 {
                        return Vec::new();
                    }
                    let locale = lang.get();
                    doc.with_untracked(|d| issues_of(d, locale))
                })
            },
            node_index: index(|d| d.nodes.iter().map(|n| n.id.clone()).collect()),
            edge_index: index(|d| d.edges.iter().map(|e| e.id.clone()).collect()),
            workflow_id: RwSignal::new(None),
            selection: RwSignal::new(None),
            history: StoredValue::new(Undo::default()),
            revision: RwSignal::new(0),
            opened,
            dirty: RwSignal::new(false),
            saving: RwSignal::new(false),
            save_failed: RwSignal::new(false),
            server_revision: RwSignal::new(None),
            conflict: RwSignal::new(None),
            workflows: RwSignal::new(Vec::new()),
            listed: RwSignal::new(false),
            notice,
        }
    }

    /// Whether the open workflow is a shipped template (stored read-only; the first edit
    /// makes the user's own copy).
    pub fn is_template(&self) -> bool {
        self.workflow_id
            .with(|id| id.as_deref().is_some_and(is_template_id))
    }

    /// The first edit of a template: from now on the document is the user's own copy, named
    /// apart from their other workflows, stored (once) by the save that follows the edit.
    fn copy_template(&self) {
        let locale = self.lang.get_untracked();
        let name = self.doc.with_untracked(|d| d.name.clone());
        let name = self.workflows.with_untracked(|list| {
            distinct_name(&name, locale, |n| list.iter().any(|w| w.name == n))
        });
        self.doc.update(|d| d.name = name);
        self.workflow_id.set(None);
        self.server_revision.set(None);
    }

    /// Applies an edit to the open workflow (undoably) and marks it unsaved.
    pub fn edit(&self, change: GraphChange) {
        if self
            .workflow_id
            .with_untracked(|id| id.as_deref().is_some_and(is_template_id))
        {
            self.copy_template();
        }
        let moves_only = change.moves_only();
        let mut changed = false;
        self.doc.update(|d| {
            self.history.update_value(|h| changed = h.apply(d, change));
        });
        if changed {
            if !moves_only {
                self.shape_rev.update(|r| *r += 1);
            }
            self.touched();
        }
    }

    fn touched(&self) {
        self.dirty.set(true);
        self.revision.update(|r| *r += 1);
    }

    /// Starts a gesture (a drag, typing in one field): its edits undo as one.
    pub fn begin_gesture(&self) {
        self.history.update_value(Undo::begin);
    }

    pub fn end_gesture(&self) {
        self.history.update_value(Undo::close);
        self.revision.update(|r| *r += 1);
    }

    pub fn can_undo(&self) -> bool {
        self.revision.track();
        self.history.with_value(Undo::can_undo)
    }

    pub fn can_redo(&self) -> bool {
        self.revision.track();
        self.history.with_value(Undo::can_redo)
    }

    pub fn undo(&self) {
        self.step_history(Undo::undo);
    }

    pub fn redo(&self) {
        self.step_history(Undo::redo);
    }

    /// Undoes or redoes one user action.
    fn step_history(&self, step: fn(&mut Undo, &mut Workflow) -> bool) {
        let mut done = false;
        self.doc
            .update(|d| self.history.update_value(|h| done = step(h, d)));
        if done {
            self.shape_rev.update(|r| *r += 1);
            self.drop_stale_selection();
            self.touched();
        }
    }

    /// Deletes what is selected.
    pub fn delete_selection(&self) {
        match self.selection.get_untracked() {
            Some(Selection::Node(id)) => self.edit(GraphChange::RemoveNode(id)),
            Some(Selection::Edge(id)) => self.edit(GraphChange::RemoveEdge(id)),
            Some(Selection::Nodes(ids)) => self.edit(GraphChange::Batch(
                ids.into_iter().map(GraphChange::RemoveNode).collect(),
            )),
            None => return,
        }
        self.selection.set(None);
    }

    /// The selected steps and the edges among them (what Ctrl+C copies).
    pub fn selected_fragment(&self) -> Option<Fragment> {
        let ids = self.selection.get_untracked()?.nodes();
        (!ids.is_empty()).then(|| self.doc.with_untracked(|d| d.fragment(&ids)))
    }

    /// Adds a copy of `fragment` next to where it came from and selects the copy.
    pub fn paste(&self, fragment: &Fragment) {
        if fragment.nodes.is_empty() {
            return;
        }
        let (change, ids) = self
            .doc
            .with_untracked(|d| d.paste(fragment, Position { x: 30.0, y: 30.0 }));
        self.edit(change);
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
                .doc
                .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
            _ => None,
        }
    }

    /// Switches the selected edge to `kind`.
    pub fn set_edge_kind(&self, kind: EdgeKind) {
        if let Some(Selection::Edge(id)) = self.selection.get_untracked() {
            let edge = self
                .doc
                .with_untracked(|d| d.edges.iter().find(|e| e.id == id).cloned());
            if let Some(mut edge) = edge.filter(|e| e.kind != kind) {
                edge.kind = kind;
                self.edit(GraphChange::UpdateEdge(edge));
            }
        }
    }

    /// Moves every step to the layered layout, as one undoable edit.
    pub fn auto_layout(&self) {
        let moves = self.doc.with_untracked(|d| {
            d.nodes
                .iter()
                .zip(layered(d))
                .filter(|(n, p)| n.position != *p)
                .map(|(n, p)| GraphChange::MoveNode {
                    id: n.id.clone(),
                    to: p,
                })
                .collect::<Vec<_>>()
        });
        if !moves.is_empty() {
            self.edit(GraphChange::Batch(moves));
        }
    }

    /// Adds a step of palette entry `preset` (at `at`, or in a free spot) and selects it.
    pub fn add_step(&self, preset: usize, at: Option<Position>) {
        let locale = self.lang.get_untracked();
        let node = self.doc.with_untracked(|d| new_step(d, preset, at, locale));
        let id = node.id.clone();
        self.edit(GraphChange::AddNode(node));
        self.selection.set(Some(Selection::Node(id)));
    }

    fn drop_stale_selection(&self) {
        let stale = match self.selection.get_untracked() {
            Some(Selection::Node(id)) => self.doc.with_untracked(|d| d.node(&id).is_none()),
            Some(Selection::Edge(id)) => self
                .doc
                .with_untracked(|d| !d.edges.iter().any(|e| e.id == id)),
            Some(Selection::Nodes(ids)) => self
                .doc
                .with_untracked(|d| ids.iter().any(|id| d.node(id).is_none())),
            None => false,
        };
        if stale {
            self.selection.set(None);
        }
    }

    /// Opens `workflow` (stored as `id`, or never saved): a fresh history, nothing selected.
    pub fn open(&self, id: Option<String>, workflow: Workflow) {
        self.doc.set(workflow);
        self.shape_rev.update(|r| *r += 1);
        self.history.set_value(Undo::default());
        self.revision.update(|r| *r += 1);
        self.workflow_id.set(id);
        self.selection.set(None);
        self.dirty.set(false);
        self.notice.clear();
        self.server_revision.set(None);
        self.conflict.set(None);
        self.opened.update(|o| *o += 1);
    }

    /// Opens a new, unsaved, empty workflow.
    pub fn open_untitled(&self) {
        self.open(
            None,
            Workflow {
                name: crate::i18n::td_string!(self.lang.get_untracked(), status.untitled).into(),
                ..Default::default()
            },
        );
    }

    /// Opens a workflow as the server stored it, remembering its revision. A template is
    /// shown under its title in the page's language.
    pub fn open_record(&self, record: WorkflowRecord) {
        let revision = record.revision;
        let mut workflow = record.workflow;
        if is_template_id(&record.id) {
            if let Some(key) = workflow.template.clone() {
                workflow.name = template_title(self.lang.get_untracked(), &key).to_string();
            }
        }
        self.open(Some(record.id), workflow);
        self.server_revision.set(Some(revision));
    }

    /// Opens a workflow loaded from the server, or the local copy of edits the server does
    /// not have yet (they are then saved again).
    pub fn open_loaded(&self, record: WorkflowRecord) {
        if is_template_id(&record.id) {
            return self.open_record(record);
        }
        let id = record.id.clone();
        let draft = client::local_get(&draft_key(Some(&id)))
            .and_then(|text| serde_json::from_str::<Workflow>(&text).ok())
            .filter(|draft| *draft != record.workflow);
        let revision = record.revision;
        match draft {
            Some(draft) => {
                self.open(Some(id), draft);
                self.server_revision.set(Some(revision));
                self.touched();
            }
            None => self.open_record(record),
        }
    }

    /// Loads workflow `id` from the server and opens it.
    pub fn load(&self, id: String) {
        let this = *self;
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => this.open_loaded(record),
                Err(e) => this.notice.fail(e),
            }
        });
    }

    /// Stores `workflow` as a new workflow on the server and opens it.
    pub fn create_and_open(&self, workflow: Workflow) {
        let this = *self;
        spawn_local(async move {
            match client::save_workflow(None, &workflow, None).await {
                Ok(record) => {
                    this.open_record(record);
                    this.refresh_list();
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }

    /// After a conflict: drops this tab's edits and opens the server's copy.
    pub fn reload_theirs(&self) {
        let Some(id) = self.workflow_id.get_untracked() else {
            return;
        };
        let this = *self;
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => {
                    client::local_remove(&draft_key(Some(&id)));
                    this.open_record(record);
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }

    /// After a conflict: saves this tab's copy over the server's.
    pub fn overwrite_theirs(&self) {
        let Some(revision) = self.conflict.get_untracked() else {
            return;
        };
        self.server_revision.set(Some(revision));
        self.conflict.set(None);
        let this = *self;
        spawn_local(async move {
            this.save().await;
        });
    }

    pub fn refresh_list(&self) {
        let this = *self;
        spawn_local(async move {
            match client::list_workflows().await {
                Ok(list) => {
                    this.workflows.set(list);
                    this.listed.set(true);
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }

    /// Saves the open workflow (creating it on the server the first time); returns its id.
    pub async fn save(&self) -> Option<String> {
        // One save at a time: a second one waits, so a new workflow is created only once.
        while self.saving.get_untracked() {
            client::sleep_ms(50).await;
        }
        self.saving.set(true);
        if self.conflict.get_untracked().is_some() {
            // Nothing is saved over another tab's edit until the user chooses.
            self.saving.set(false);
            return None;
        }
        let id = self.workflow_id.get_untracked();
        let doc = self.doc.get_untracked();
        let revision = self.server_revision.get_untracked();
        let result = client::save_workflow(id.as_deref(), &doc, revision).await;
        self.saving.set(false);
        match result {
            Ok(record) => {
                self.workflow_id.set(Some(record.id.clone()));
                self.server_revision.set(Some(record.revision));
                // Only what was sent is saved: edits made meanwhile stay unsaved.
                if self.doc.get_untracked() == doc {
                    self.dirty.set(false);
                    client::local_remove(&draft_key(id.as_deref()));
                    client::local_remove(&draft_key(Some(&record.id)));
                }
                self.save_failed.set(false);
                self.notice.clear();
                self.refresh_list();
                Some(record.id)
            }
            Err(e) if e.is_conflict() => {
                self.conflict.set(Some(e.revision.unwrap_or_default()));
                self.save_failed.set(false);
                None
            }
            Err(e) => {
                self.save_failed.set(true);
                self.notice.fail(e);
                None
            }
        }
    }

    /// Saves the edits of `revision` once the user paused, retrying with backoff until the
    /// server has them (or a newer edit takes over).
    async fn autosave(&self, revision: u64) {
        client::sleep_ms(AUTOSAVE_DELAY_MS).await;
        let mut wait = 1_000;
        while self.revision.get_untracked() == revision
            && self.dirty.get_untracked()
            && self.conflict.get_untracked().is_none()
        {
            if self.save().await.is_some() {
                return;
            }
            client::sleep_ms(wait).await;
            wait = (wait * 2).min(SAVE_RETRY_MAX_MS);
        }
    }

    /// Keeps the local copy of unsaved edits, then saves them after a pause.
    pub fn edited(&self) {
        if !self.dirty.get_untracked() {
            return;
        }
        let key = draft_key(self.workflow_id.get_untracked().as_deref());
        let json = self
            .doc
            .with_untracked(|d| serde_json::to_string(d).unwrap_or_default());
        client::local_set(&key, &json);
        let this = *self;
        let revision = self.revision.get_untracked();
        spawn_local(async move { this.autosave(revision).await });
    }

    /// The open workflow's id once the server has what is on screen: saves first when there
    /// are unsaved edits (or it was never saved). `None` when that save failed.
    pub async fn saved_id(&self) -> Option<String> {
        match self.workflow_id.get_untracked() {
            Some(id) if !self.dirty.get_untracked() => Some(id),
            _ => self.save().await,
        }
    }

    /// The save state in words, as the status line shows it.
    pub fn save_state(&self, locale: crate::i18n::Locale) -> &'static str {
        if self.opened.get() == 0 {
            // Nothing is open yet (the page is loading it): nothing to say.
            ""
        } else if self.is_template() {
            td_string!(locale, status.template)
        } else if self.conflict.with(Option::is_some) {
            td_string!(locale, status.not_saved_conflict)
        } else if self.saving.get() {
            td_string!(locale, status.saving)
        } else if self.save_failed.get() && self.dirty.get() {
            td_string!(locale, status.retrying)
        } else if self.dirty.get() || self.workflow_id.with(Option::is_none) {
            td_string!(locale, status.unsaved)
        } else {
            td_string!(locale, status.saved)
        }
    }
}
