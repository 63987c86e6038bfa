//! The open workflow as a document: its content, where the server keeps it, its undo
//! history, live problems and whether it has edits the server does not have yet. Every edit
//! goes through [`Document::edit`]. What is selected ([`super::selected`]), saving
//! ([`super::saving`]) and the workflows list ([`super::workflow_list`]) are slices of
//! their own.

use std::collections::HashMap;

use leptos::prelude::*;

use super::notice::Notice;
use super::workflow_list::WorkflowList;
use crate::model::api::WorkflowRecord;
use crate::model::edit::Undo;
use crate::model::examples::{distinct_name, is_template_id};
use crate::model::layout::layered;
use crate::model::{GraphChange, Workflow};
use crate::ui::client;
use crate::ui::common::issues::{issues_of, Issue};
use crate::ui::common::language::{use_lang, Lang};
use crate::ui::common::templates::template_title;
use crate::ui::spawn_local;

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
    /// The server's revision of the open workflow as this tab last read or saved it: saves
    /// send it as `If-Match`, so an edit made in another tab is never overwritten silently.
    pub server_revision: RwSignal<Option<i64>>,
    /// Edits the server does not have yet.
    pub dirty: RwSignal<bool>,
    /// Inverses of the edits, for undo and redo.
    pub history: StoredValue<Undo>,
    /// Bumped on every edit, undo and redo, so the undo/redo buttons know when to look again.
    pub revision: RwSignal<u64>,
    /// Bumped on every change except pure moves: what depends on the workflow's structure
    /// (problems, id lookups) is not recomputed on every frame of a drag.
    pub shape_rev: RwSignal<u64>,
    /// Bumped each time another workflow is opened (the run, the view, the selection and
    /// the save state follow it).
    pub opened: RwSignal<u64>,
    /// Errors and design warnings of the open workflow, live.
    pub issues: Memo<Vec<Issue>>,
    /// Where each step and edge sits in the document, by id.
    pub node_index: Memo<HashMap<String, usize>>,
    pub edge_index: Memo<HashMap<String, usize>>,
    /// The open workflow is a template or a copy of one: the page shows its words in the
    /// page's language (see [`crate::ui::common::templates::word`]).
    pub of_template: Memo<bool>,
    /// The page's language (new steps and untitled workflows are named in it).
    pub lang: Lang,
    /// The saved workflows: a template's copy is named apart from them.
    list: WorkflowList,
    notice: Notice,
}

impl Document {
    /// `input`: the next run's input as typed (its fields count as provided).
    pub fn new(notice: Notice, list: WorkflowList, input: RwSignal<String>) -> Self {
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
        // The input's top-level fields: the problems are listed again when they change, not
        // at every key typed.
        let given = Memo::new(move |_| {
            input.with(
                |text| match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
                    _ => Vec::<String>::new(),
                },
            )
        });
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
                    given.with(|given| doc.with_untracked(|d| issues_of(d, locale, given)))
                })
            },
            node_index: index(|d| d.nodes.iter().map(|n| n.id.clone()).collect()),
            edge_index: index(|d| d.edges.iter().map(|e| e.id.clone()).collect()),
            workflow_id: RwSignal::new(None),
            server_revision: RwSignal::new(None),
            dirty: RwSignal::new(false),
            history: StoredValue::new(Undo::default()),
            revision: RwSignal::new(0),
            opened,
            list,
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
        let name = self.list.workflows.with_untracked(|list| {
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

    pub(super) fn touched(&self) {
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
            self.touched();
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

    /// Opens `workflow` (stored as `id`, or never saved): a fresh history (the selection
    /// and the save state follow `opened`).
    pub fn open(&self, id: Option<String>, workflow: Workflow) {
        self.doc.set(workflow);
        self.shape_rev.update(|r| *r += 1);
        self.history.set_value(Undo::default());
        self.revision.update(|r| *r += 1);
        self.workflow_id.set(id);
        self.dirty.set(false);
        self.notice.clear();
        self.server_revision.set(None);
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
                    this.list.refresh();
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }
}
