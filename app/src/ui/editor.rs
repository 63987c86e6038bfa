//! The editor page: the workflows list, the toolbar, the canvas, the inspector and the
//! status line. It owns the page's state ([`Editor`]) and the calls to the server.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::behaviour::BehaviourFields;
use super::canvas::{canvas_size, Canvas, Viewport};
use super::client::{self, ApiFailure};
use super::lab::{FaultFields, FaultForm};
use super::live::{follow_runs_feed, open_run, view_at, Connection, Incoming, Pulse, RunPanel};
use super::palette::Palette;
use super::spawn_local;
use super::transfer::{Dialog, TransferDialogs};
use super::workflows::WorkflowList;
use crate::model::api::{
    CrashRequest, FaultRequest, RunRequest, RunSummary, WorkflowRecord, WorkflowSummary, MAX_SEED,
};
use crate::model::edit::{Fragment, Undo};
use crate::model::layout::layered;
use crate::model::{
    EdgeKind, GraphChange, Node, Outcome, Position, Problem, RunRecord, RunView, Workflow,
};

/// What is selected on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Node(String),
    Edge(String),
    /// Two or more steps (marquee or shift-click), moved, deleted and copied together.
    Nodes(Vec<String>),
}

impl Selection {
    /// The selected steps.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Selection::Node(id) => vec![id.clone()],
            Selection::Nodes(ids) => ids.clone(),
            Selection::Edge(_) => Vec::new(),
        }
    }

    pub fn contains_node(&self, id: &str) -> bool {
        match self {
            Selection::Node(n) => n == id,
            Selection::Nodes(ids) => ids.iter().any(|n| n == id),
            Selection::Edge(_) => false,
        }
    }

    /// The selection of exactly these steps (none, one or many).
    pub fn of_nodes(mut ids: Vec<String>) -> Option<Selection> {
        ids.dedup();
        match ids.len() {
            0 => None,
            1 => ids.pop().map(Selection::Node),
            _ => Some(Selection::Nodes(ids)),
        }
    }
}

/// How bad a problem is: errors stop saving, warnings are design advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One entry of the problems list (and one badge on the canvas).
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub node: Option<String>,
    pub edge: Option<String>,
    pub message: String,
}

/// The model's errors and the design warnings of a workflow.
pub fn issues_of(workflow: &Workflow) -> Vec<Issue> {
    let errors = crate::model::validate(workflow).into_iter().map(|p| Issue {
        severity: Severity::Error,
        node: p.node,
        edge: p.edge,
        message: format!("{}: {}", p.path, p.message),
    });
    let warnings = crate::model::lint::lint(workflow)
        .into_iter()
        .map(|w| Issue {
            severity: Severity::Warning,
            node: w.node,
            edge: w.edge,
            message: w.message,
        });
    errors.chain(warnings).collect()
}

/// The page's state. Signals are `Copy`, so the whole editor is passed around by value.
#[derive(Clone, Copy)]
pub struct Editor {
    pub doc: RwSignal<Workflow>,
    /// The server's id of the open workflow; `None` until it is first saved.
    pub workflow_id: RwSignal<Option<String>>,
    pub selection: RwSignal<Option<Selection>>,
    /// The live (or last) run of the open workflow, and its id.
    pub run: RwSignal<Option<RunView>>,
    pub run_id: RwSignal<Option<String>>,
    /// Edits not yet saved.
    pub dirty: RwSignal<bool>,
    pub saving: RwSignal<bool>,
    pub failure: RwSignal<Option<ApiFailure>>,
    pub workflows: RwSignal<Vec<WorkflowSummary>>,
    /// Inverses of the edits, for undo and redo.
    pub history: StoredValue<Undo>,
    /// Bumped on every edit, undo and redo, so the undo/redo buttons know when to look again.
    pub revision: RwSignal<u64>,
    /// Errors and design warnings of the open workflow, live.
    pub issues: Memo<Vec<Issue>>,
    /// Bumped on every change except pure moves: what depends on the workflow's structure
    /// (problems, id lookups) is not recomputed on every frame of a drag.
    pub shape_rev: RwSignal<u64>,
    /// Where each step and edge sits in the document, by id.
    pub node_index: Memo<std::collections::HashMap<String, usize>>,
    pub edge_index: Memo<std::collections::HashMap<String, usize>>,
    /// The next run's input, as the user typed it (a JSON object).
    pub run_input: RwSignal<String>,
    /// The last save failed; autosave keeps retrying.
    pub save_failed: RwSignal<bool>,
    /// The server's revision of the open workflow as this tab last read or saved it: saves
    /// send it as `If-Match`, so an edit made in another tab is never overwritten silently.
    pub server_revision: RwSignal<Option<i64>>,
    /// A save was refused: the workflow was changed elsewhere and is now at this revision.
    /// Autosave stops until the user reloads or overwrites.
    pub conflict: RwSignal<Option<i64>>,
    /// The canvas's pan and zoom.
    pub viewport: RwSignal<Viewport>,
    /// The palette entry being dragged towards the canvas, if any.
    pub palette_drag: RwSignal<Option<usize>>,
    /// The space bar is held: a drag anywhere on the canvas pans.
    pub space_held: RwSignal<bool>,
    /// The pointer is over the canvas: Space means "pan" there, even if a button has focus.
    pub canvas_hovered: RwSignal<bool>,
    /// Every history record of the open run, in order.
    pub log: RwSignal<Vec<RunRecord>>,
    /// Records received for the open run and not yet drawn.
    pub incoming: StoredValue<Incoming>,
    /// The open run's live connection.
    pub connection: RwSignal<Connection>,
    /// Replaying the open run: the canvas shows it after this many records.
    pub replay: RwSignal<Option<usize>>,
    /// What the canvas shows of the run: live, or at the replay position.
    pub shown_run: Memo<Option<RunView>>,
    /// Draw the run's orchestrator as a hub node every command and reply passes through.
    pub show_orchestrator: RwSignal<bool>,
    /// Messages travelling along edges right now.
    pub pulses: RwSignal<Vec<Pulse>>,
    /// The open workflow's runs, newest first.
    pub runs: RwSignal<Vec<RunSummary>>,
    /// The next run's seed as typed (empty: random) and speed.
    pub run_seed: RwSignal<String>,
    /// Faults the next run starts with (and that can be applied to the live run).
    pub run_faults: FaultForm,
    pub run_speed: RwSignal<f64>,
}

/// How long after the last edit autosave waits before saving.
pub const AUTOSAVE_DELAY_MS: u32 = 800;
/// The longest wait between retries of a failed save.
pub const SAVE_RETRY_MAX_MS: u32 = 16_000;

/// Where the browser keeps the local copy of a workflow's unsaved edits.
pub fn draft_key(id: Option<&str>) -> String {
    format!("hybridflow:draft:{}", id.unwrap_or("new"))
}

/// The run input as JSON, or why it is refused.
pub fn parse_run_input(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("the input must be a JSON object, e.g. {\"card\": \"expired\"}".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

impl Editor {
    fn new() -> Self {
        let doc = RwSignal::new(Workflow::default());
        let shape_rev = RwSignal::new(0u64);
        let run = RwSignal::new(None::<RunView>);
        let log = RwSignal::new(Vec::<RunRecord>::new());
        let replay = RwSignal::new(None::<usize>);
        Editor {
            run,
            log,
            replay,
            shown_run: Memo::new(move |_| match replay.get() {
                Some(upto) => {
                    let ids: Vec<String> =
                        doc.with_untracked(|d| d.nodes.iter().map(|n| n.id.clone()).collect());
                    Some(log.with(|log| view_at(log, &ids, upto)))
                }
                None => run.get(),
            }),
            doc,
            shape_rev,
            issues: Memo::new(move |_| {
                shape_rev.track();
                doc.with_untracked(issues_of)
            }),
            node_index: Memo::new(move |_| {
                shape_rev.track();
                doc.with_untracked(|d| {
                    d.nodes
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (n.id.clone(), i))
                        .collect()
                })
            }),
            edge_index: Memo::new(move |_| {
                shape_rev.track();
                doc.with_untracked(|d| {
                    d.edges
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.id.clone(), i))
                        .collect()
                })
            }),
            run_input: RwSignal::new("{}".to_string()),
            save_failed: RwSignal::new(false),
            server_revision: RwSignal::new(None),
            conflict: RwSignal::new(None),
            viewport: RwSignal::new(Viewport::default()),
            palette_drag: RwSignal::new(None),
            space_held: RwSignal::new(false),
            canvas_hovered: RwSignal::new(false),
            incoming: StoredValue::new(Incoming::default()),
            connection: RwSignal::new(Connection::Idle),
            runs: RwSignal::new(Vec::new()),
            pulses: RwSignal::new(Vec::new()),
            show_orchestrator: RwSignal::new(false),
            run_seed: RwSignal::new(String::new()),
            run_faults: FaultForm::new(),
            run_speed: RwSignal::new(1.0),
            workflow_id: RwSignal::new(None),
            selection: RwSignal::new(None),
            run_id: RwSignal::new(None),
            dirty: RwSignal::new(false),
            saving: RwSignal::new(false),
            failure: RwSignal::new(None),
            workflows: RwSignal::new(Vec::new()),
            history: StoredValue::new(Undo::default()),
            revision: RwSignal::new(0),
        }
    }

    /// Applies an edit to the open workflow (undoably) and marks it unsaved.
    pub fn edit(&self, change: GraphChange) {
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

    /// Zooms around the canvas's centre.
    pub fn zoom(&self, factor: f64) {
        let (w, h) = canvas_size();
        self.viewport
            .update(|v| *v = v.zoomed(factor, w / 2.0, h / 2.0));
    }

    /// Shows the whole workflow.
    pub fn fit(&self) {
        let (w, h) = canvas_size();
        let view = self.doc.with_untracked(|d| Viewport::fitting(d, w, h));
        self.viewport.set(view);
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

    pub fn open(&self, id: Option<String>, workflow: Workflow) {
        self.doc.set(workflow);
        self.shape_rev.update(|r| *r += 1);
        self.viewport.set(Viewport::default());
        self.history.set_value(Undo::default());
        self.revision.update(|r| *r += 1);
        self.workflow_id.set(id);
        self.selection.set(None);
        self.run.set(None);
        self.replay.set(None);
        self.run_id.set(None);
        self.log.set(Vec::new());
        self.connection.set(Connection::Idle);
        self.dirty.set(false);
        self.failure.set(None);
        self.server_revision.set(None);
        self.conflict.set(None);
    }

    /// Opens a workflow as the server stored it, remembering its revision.
    pub fn open_record(&self, record: WorkflowRecord) {
        self.open(Some(record.id), record.workflow);
        self.server_revision.set(Some(record.revision));
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
                Err(e) => this.failure.set(Some(e)),
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
                Ok(list) => this.workflows.set(list),
                Err(e) => this.failure.set(Some(e)),
            }
        });
    }

    /// Saves the open workflow (creating it on the server the first time); returns its id.
    async fn save(&self) -> Option<String> {
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
                self.failure.set(None);
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
                self.failure.set(Some(e));
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
    fn edited(&self) {
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

    /// Opens a workflow loaded from the server, or the local copy of edits the server does
    /// not have yet (they are then saved again).
    pub fn open_loaded(&self, record: WorkflowRecord) {
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

    /// The open workflow's id once the server has what is on screen: saves first when there
    /// are unsaved edits (or it was never saved). `None` when that save failed.
    pub async fn saved_id(&self) -> Option<String> {
        match self.workflow_id.get_untracked() {
            Some(id) if !self.dirty.get_untracked() => Some(id),
            _ => self.save().await,
        }
    }

    /// Saves if needed, starts a run and follows its events.
    async fn run(&self) {
        let Some(id) = self.saved_id().await else {
            return;
        };
        let input = match parse_run_input(&self.run_input.get_untracked()) {
            Ok(input) => input,
            Err(message) => {
                return self.failure.set(Some(ApiFailure {
                    message: format!("run input: {message}"),
                    problems: Vec::new(),
                    ..Default::default()
                }))
            }
        };
        let seed = match parse_seed(&self.run_seed.get_untracked()) {
            Ok(seed) => seed,
            Err(message) => {
                return self.failure.set(Some(ApiFailure {
                    message: format!("seed: {message}"),
                    problems: Vec::new(),
                    ..Default::default()
                }))
            }
        };
        let faults = match self.run_faults.faults() {
            Ok(faults) => (!faults.is_none()).then_some(faults),
            Err(message) => {
                return self.failure.set(Some(ApiFailure {
                    message: format!("faults: {message}"),
                    problems: Vec::new(),
                    ..Default::default()
                }))
            }
        };
        let request = RunRequest {
            input: Some(input),
            seed,
            speed: Some(self.run_speed.get_untracked()),
            faults,
        };
        match client::start_run(&id, &request).await {
            Ok(report) => open_run(*self, report.id),
            Err(e) => self.failure.set(Some(e)),
        }
    }
}

/// The run seed as typed: empty for a random one, else a whole number up to [`MAX_SEED`].
pub fn parse_seed(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(seed) if seed <= MAX_SEED => Ok(Some(seed)),
        _ => Err(format!("a whole number from 0 to {MAX_SEED}, got {text:?}")),
    }
}

/// How long the toolbar's "Crash orchestrator" keeps it down (simulated ms).
pub const CRASH_MS: u64 = 3_000;

/// The speeds a run can be played at (simulated time ÷ wall time).
pub const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0];

#[component]
pub fn EditorPage() -> impl IntoView {
    super::provide_page();
    let editor = Editor::new();
    let query = use_query_map();
    let navigate = use_navigate();

    // Load the workflow named in the URL, or the most recently edited one. Effects run only
    // in the browser, after hydration, so server and browser render the same first page.
    Effect::new(move |_| {
        let wanted = query.with(|q| q.get("workflow"));
        if wanted.is_some() && wanted == editor.workflow_id.get_untracked() {
            return;
        }
        spawn_local(async move {
            let list = match client::list_workflows().await {
                Ok(list) => list,
                Err(e) => return editor.failure.set(Some(e)),
            };
            editor.workflows.set(list.clone());
            let Some(id) = wanted.or_else(|| list.first().map(|w| w.id.clone())) else {
                return;
            };
            match client::load_workflow(&id).await {
                Ok(record) => editor.open_loaded(record),
                Err(e) => editor.failure.set(Some(e)),
            }
        });
    });

    // Autosave: every edit keeps a local copy and is saved after a pause.
    Effect::new(move |_| {
        editor.revision.track();
        editor.edited();
    });

    // Keep the URL on the open workflow, so a reload opens it again.
    Effect::new(move |_| {
        if let Some(id) = editor.workflow_id.get() {
            let wanted = query.with_untracked(|q| q.get("workflow"));
            if wanted.as_deref() != Some(id.as_str()) {
                navigate(
                    &format!("/?workflow={id}"),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
        }
    });

    // Keyboard: undo/redo, delete, and C/E to switch the selected edge's kind — except
    // while the user types in a field.
    super::window_listener(leptos::ev::keydown, move |ev| {
        if typing_in_a_field(&ev) {
            return;
        }
        let ctrl = ev.ctrl_key() || ev.meta_key();
        match (ev.key().as_str(), ctrl, ev.shift_key()) {
            ("z" | "Z", true, false) => {
                ev.prevent_default();
                editor.undo();
            }
            ("z" | "Z", true, true) | ("y" | "Y", true, _) => {
                ev.prevent_default();
                editor.redo();
            }
            ("Delete" | "Backspace", false, _) => {
                ev.prevent_default();
                editor.delete_selection();
            }
            ("d" | "D", true, _) => {
                ev.prevent_default();
                editor.duplicate_selection();
            }
            ("+" | "=", false, _) => editor.zoom(1.25),
            ("-", false, _) => editor.zoom(0.8),
            ("f" | "F", false, _) => editor.fit(),
            (" ", false, _) if editor.canvas_hovered.get_untracked() || !on_a_control(&ev) => {
                // Space held turns every drag on the canvas into a pan (as in design tools).
                ev.prevent_default();
                editor.space_held.set(true);
            }
            ("c" | "C", false, _) => editor.set_edge_kind(EdgeKind::Command),
            ("e" | "E", false, _) => editor.set_edge_kind(EdgeKind::Event),
            _ => {}
        }
    });

    super::window_listener(leptos::ev::keyup, move |ev| {
        if ev.key() == " " && editor.space_held.get_untracked() {
            // The pan is over; a focused button is not pressed by it.
            ev.prevent_default();
            editor.space_held.set(false);
        }
    });
    super::window_listener(leptos::ev::blur, move |_| editor.space_held.set(false));

    // Copy and paste the selected steps as JSON: through the system clipboard, so it
    // works between tabs (and into a text editor).
    super::window_listener(leptos::ev::copy, move |ev| {
        if typing_in_a_field(&ev) {
            return;
        }
        if let (Some(fragment), Some(data)) = (editor.selected_fragment(), ev.clipboard_data()) {
            let json = serde_json::to_string_pretty(&fragment).unwrap_or_default();
            if data.set_data("text/plain", &json).is_ok() {
                ev.prevent_default();
            }
        }
    });
    super::window_listener(leptos::ev::paste, move |ev| {
        if typing_in_a_field(&ev) {
            return;
        }
        let text = ev
            .clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
            .unwrap_or_default();
        match serde_json::from_str::<Fragment>(&text) {
            Ok(fragment) => {
                ev.prevent_default();
                editor.paste(&fragment);
            }
            Err(_) if !text.trim().is_empty() => editor.failure.set(Some(ApiFailure {
                message:
                    "paste: the clipboard holds no Hybridflow steps (expected JSON with \"nodes\")"
                        .into(),
                ..Default::default()
            })),
            Err(_) => {}
        }
    });

    follow_runs_feed(editor);

    let dialog = RwSignal::new(None::<Dialog>);
    view! {
        <div class="editor">
            <WorkflowList editor/>
            <main class="workspace">
                <Toolbar editor dialog/>
                <TransferDialogs editor dialog/>
                <div class="stage">
                    <Palette editor/>
                    <Canvas editor/>
                    <Inspector editor/>
                </div>
                <RunPanel editor/>
                <StatusLine editor/>
            </main>
        </div>
    }
    .into_any()
}

fn target_is(ev: &web_sys::Event, tags: &[&str]) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| tags.contains(&el.tag_name().as_str()))
}

fn typing_in_a_field(ev: &web_sys::Event) -> bool {
    target_is(ev, &["INPUT", "TEXTAREA", "SELECT"])
}

/// Whether the event's target is a button or link, where Space means "press".
fn on_a_control(ev: &web_sys::Event) -> bool {
    target_is(ev, &["BUTTON", "A"])
}

#[component]
fn Toolbar(editor: Editor, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let selected_edge = Memo::new(move |_| match editor.selection.get() {
        Some(Selection::Edge(id)) => editor
            .doc
            .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
        _ => None,
    });
    let set_kind = move |kind: EdgeKind| editor.set_edge_kind(kind);
    let kind_is =
        move |kind: EdgeKind| selected_edge.with(|e| e.as_ref().map(|e| e.kind) == Some(kind));
    let delete = move |_| editor.delete_selection();
    let can_undo = move || {
        editor.revision.track();
        editor.history.with_value(Undo::can_undo)
    };
    let can_redo = move || {
        editor.revision.track();
        editor.history.with_value(Undo::can_redo)
    };
    let save = move |_| {
        spawn_local(async move {
            editor.save().await;
        })
    };
    let run = move |_| spawn_local(async move { editor.run().await });
    let cancel = move |_| {
        if let Some(id) = editor.run_id.get_untracked() {
            spawn_local(async move {
                if let Err(e) = client::cancel_run(&id).await {
                    editor.failure.set(Some(e));
                }
            });
        }
    };
    let running = move || {
        editor
            .run
            .with(|r| r.as_ref().is_some_and(|r| !r.status.is_final()))
    };
    let crash = move |standby_lease_ms: Option<u64>| {
        let Some(run_id) = editor.run_id.get_untracked() else {
            return;
        };
        let request = FaultRequest {
            faults: None,
            crash_orchestrator: Some(CrashRequest {
                for_ms: CRASH_MS,
                standby_lease_ms,
            }),
        };
        spawn_local(async move {
            if let Err(e) = client::post_ok(&format!("/api/runs/{run_id}/faults"), &request).await {
                editor.failure.set(Some(e));
            }
        });
    };

    view! {
        <div class="toolbar" role="toolbar" aria-label="Editor tools">
            <input
                class="workflow-name"
                aria-label="Workflow name"
                prop:value=move || editor.doc.with(|d| d.name.clone())
                on:input=move |ev| editor.edit(GraphChange::Rename(event_target_value(&ev)))
            />
            <span class="group" role="group" aria-label="Edge kind">
                <button
                    class="kind command"
                    aria-pressed=move || kind_is(EdgeKind::Command).to_string()
                    disabled=move || selected_edge.with(Option::is_none)
                    on:click=move |_| set_kind(EdgeKind::Command)
                >
                    "Command"
                </button>
                <button
                    class="kind event"
                    aria-pressed=move || kind_is(EdgeKind::Event).to_string()
                    disabled=move || selected_edge.with(Option::is_none)
                    on:click=move |_| set_kind(EdgeKind::Event)
                >
                    "Event"
                </button>
            </span>
            <button
                on:click=delete
                disabled=move || editor.selection.with(Option::is_none)
            >
                "Delete"
            </button>
            <button
                aria-label="Undo"
                title="Undo (Ctrl+Z)"
                on:click=move |_| editor.undo()
                disabled=move || !can_undo()
            >
                "↶ Undo"
            </button>
            <button
                aria-label="Redo"
                title="Redo (Ctrl+Shift+Z)"
                on:click=move |_| editor.redo()
                disabled=move || !can_redo()
            >
                "↷ Redo"
            </button>
            <button on:click=move |_| editor.auto_layout()>"Auto layout"</button>
            <button on:click=move |_| dialog.set(Some(Dialog::Import))>"Import…"</button>
            <button on:click=move |_| dialog.set(Some(Dialog::Export))>"Export…"</button>
            <button on:click=move |_| dialog.set(Some(Dialog::Convert))>"Convert…"</button>
            <a
                class="button"
                href=move || format!("/lab?workflow={}", editor.workflow_id.get().unwrap_or_default())
                title="Run this flow as drawn, as all orchestration and as all choreography, side by side"
            >
                "Lab"
            </a>
            <span class="spacer"></span>
            <button on:click=save disabled=move || editor.saving.get()>
                "Save"
            </button>
            <Show when=running>
                <button class="cancel" on:click=cancel>"Cancel run"</button>
                <button
                    class="crash"
                    title="The orchestrator is down for 3 s of simulated time: commands and replies wait, events keep flowing"
                    on:click=move |_| crash(None)
                >
                    "Crash orchestrator"
                </button>
                <button
                    class="crash"
                    title="Crash it with a standby that takes over after a 500 ms lease"
                    on:click=move |_| crash(Some(500))
                >
                    "Crash (standby)"
                </button>
            </Show>
            <button
                class="primary run"
                on:click=run
                disabled=move || {
                    running()
                        || editor.run_input.with(|t| parse_run_input(t).is_err())
                        || editor.run_seed.with(|t| parse_seed(t).is_err())
                }
            >
                "Run"
            </button>
        </div>
    }
    .into_any()
}

#[component]
fn Inspector(editor: Editor) -> impl IntoView {
    let node = Memo::new(move |_| match editor.selection.get() {
        Some(Selection::Node(id)) => editor.doc.with(|d| d.node(&id).cloned()),
        _ => None,
    });
    let edge = Memo::new(move |_| match editor.selection.get() {
        Some(Selection::Edge(id)) => editor
            .doc
            .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
        _ => None,
    });
    let node_field =
        move |label: &'static str, get: fn(&Node) -> String, set: fn(&mut Node, String)| {
            view! {
                <label>
                    <span>{label}</span>
                    <input
                        aria-label=format!("Step {}", label.to_lowercase())
                        prop:value=move || node.with(|n| n.as_ref().map(get).unwrap_or_default())
                        on:input=move |ev| {
                            if let Some(mut n) = node.get_untracked() {
                                set(&mut n, event_target_value(&ev));
                                editor.edit(GraphChange::UpdateNode(n));
                            }
                        }
                    />
                </label>
            }
        };
    let event_name = move || {
        edge.with(|e| {
            e.as_ref()
                .map(|e| editor.doc.with(|d| d.event_name(e)))
                .unwrap_or_default()
        })
    };
    view! {
        <aside class="inspector" aria-label="Inspector">
            <Show when=move || node.with(Option::is_some)>
                <h2>"Step"</h2>
                {node_field("Label", |n| n.label.clone(), |n, v| n.label = v)}
                {node_field("Service", |n| n.service.clone(), |n, v| n.service = v)}
                {node_field("Action", |n| n.action.clone(), |n, v| n.action = v)}
                <BehaviourFields editor node/>
            </Show>
            <Show when=move || edge.with(Option::is_some)>
                <h2>"Edge"</h2>
                <label>
                    <span>"Kind"</span>
                    <select
                        aria-label="Edge kind"
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.kind.as_str()).unwrap_or("command"))
                        on:change=move |ev| editor.set_edge_kind(if event_target_value(&ev) == "event" {
                            EdgeKind::Event
                        } else {
                            EdgeKind::Command
                        })
                    >
                        <option value="command">"command: the orchestrator sends it and waits"</option>
                        <option value="event">"event: published, subscribers react"</option>
                    </select>
                </label>
                <label>
                    <span>"Follows"</span>
                    <select
                        aria-label="Edge follows outcome"
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.on.as_str()).unwrap_or("success"))
                        on:change=move |ev| {
                            if let Some(mut e) = edge.get_untracked() {
                                e.on = if event_target_value(&ev) == "failure" {
                                    Outcome::Failure
                                } else {
                                    Outcome::Success
                                };
                                editor.edit(GraphChange::UpdateEdge(e));
                            }
                        }
                    >
                        <option value="success">"on success"</option>
                        <option value="failure">"on failure"</option>
                    </select>
                </label>
                <Show when=move || edge.with(|e| e.as_ref().is_some_and(|e| e.kind == EdgeKind::Event))>
                    <label>
                        <span>"Event name"</span>
                        <input
                            aria-label="Event name"
                            prop:value=event_name
                            on:input=move |ev| {
                                if let Some(mut e) = edge.get_untracked() {
                                    let v = event_target_value(&ev);
                                    e.event = (!v.is_empty()).then_some(v);
                                    editor.edit(GraphChange::UpdateEdge(e));
                                }
                            }
                        />
                    </label>
                </Show>
            </Show>
            <Show when=move || editor.selection.with(Option::is_none)>
                <p class="hint">
                    "Select a step or an edge to edit it. Drag from a step's right handle onto another step to connect them."
                </p>
                <label>
                    <span>"Run input (JSON)"</span>
                    <textarea
                        aria-label="Run input"
                        rows="3"
                        aria-invalid=move || editor.run_input.with(|t| parse_run_input(t).is_err()).to_string()
                        prop:value=move || editor.run_input.get()
                        on:input=move |ev| editor.run_input.set(event_target_value(&ev))
                    ></textarea>
                    <Show when=move || editor.run_input.with(|t| parse_run_input(t).is_err())>
                        <span class="field-error" role="alert">
                            {move || editor.run_input.with(|t| parse_run_input(t).err().unwrap_or_default())}
                        </span>
                    </Show>
                </label>
                <label>
                    <span>"Seed (empty: random)"</span>
                    <input
                        aria-label="Run seed"
                        inputmode="numeric"
                        placeholder="random"
                        aria-invalid=move || editor.run_seed.with(|t| parse_seed(t).is_err()).to_string()
                        prop:value=move || editor.run_seed.get()
                        on:input=move |ev| editor.run_seed.set(event_target_value(&ev))
                    />
                    <Show when=move || editor.run_seed.with(|t| parse_seed(t).is_err())>
                        <span class="field-error" role="alert">
                            {move || editor.run_seed.with(|t| parse_seed(t).err().unwrap_or_default())}
                        </span>
                    </Show>
                </label>
                <label>
                    <span>"Speed"</span>
                    <select
                        aria-label="Run speed"
                        prop:value=move || editor.run_speed.get().to_string()
                        on:change=move |ev| {
                            if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
                                editor.run_speed.set(speed);
                            }
                        }
                    >
                        {SPEEDS.iter().map(|s| view! { <option value=s.to_string()>{format!("{s}×")}</option> }).collect_view()}
                    </select>
                </label>
                <RunFaults editor/>
            </Show>
            <ProblemList editor/>
        </aside>
    }
    .into_any()
}

/// Faults for the next run, and applied to the live one on request.
#[component]
fn RunFaults(editor: Editor) -> impl IntoView {
    let services = Signal::derive(move || editor.doc.with(Workflow::services));
    let running = move || {
        editor
            .run
            .with(|r| r.as_ref().is_some_and(|r| !r.status.is_final()))
    };
    let apply = move |_| {
        let Some(run_id) = editor.run_id.get_untracked() else {
            return;
        };
        let mut faults = match editor.run_faults.faults() {
            Ok(faults) => faults,
            Err(message) => {
                return editor.failure.set(Some(ApiFailure {
                    message: format!("faults: {message}"),
                    problems: Vec::new(),
                    ..Default::default()
                }))
            }
        };
        // A crash applied to a live run happens now (its "at" is for runs that start).
        let crash = faults.orchestrator.take().map(|c| CrashRequest {
            for_ms: c.for_ms,
            standby_lease_ms: c.standby_lease_ms,
        });
        let request = FaultRequest {
            faults: Some(faults),
            crash_orchestrator: crash,
        };
        spawn_local(async move {
            if let Err(e) = client::post_ok(&format!("/api/runs/{run_id}/faults"), &request).await {
                editor.failure.set(Some(e));
            }
        });
    };
    view! {
        <details class="run-faults">
            <summary>"Faults (break things)"</summary>
            <p class="hint">"The next run starts with these; “Apply to the live run” changes a running one."</p>
            <FaultFields form=editor.run_faults services/>
            <button on:click=apply disabled=move || !running()>"Apply to the live run"</button>
        </details>
    }
    .into_any()
}

/// The live list of errors and warnings; an entry selects its culprit on the canvas.
#[component]
fn ProblemList(editor: Editor) -> impl IntoView {
    let count = move || editor.issues.with(Vec::len);
    view! {
        <section class="problems" aria-label="Problems">
            <h2>{move || format!("Problems ({})", count())}</h2>
            <ul>
                {move || {
                    editor
                        .issues
                        .get()
                        .into_iter()
                        .map(|issue| {
                            let target = match (&issue.node, &issue.edge) {
                                (Some(n), _) => Some(Selection::Node(n.clone())),
                                (None, Some(e)) => Some(Selection::Edge(e.clone())),
                                _ => None,
                            };
                            let class = match issue.severity {
                                Severity::Error => "problem error",
                                Severity::Warning => "problem warning",
                            };
                            let icon = match issue.severity {
                                Severity::Error => "✖ ",
                                Severity::Warning => "⚠ ",
                            };
                            view! {
                                <li>
                                    <button
                                        class=class
                                        on:click=move |_| {
                                            if target.is_some() {
                                                editor.selection.set(target.clone());
                                            }
                                        }
                                    >
                                        {icon}
                                        {issue.message.clone()}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn StatusLine(editor: Editor) -> impl IntoView {
    let save_state = move || {
        if editor.conflict.with(Option::is_some) {
            "Not saved — changed in another tab"
        } else if editor.saving.get() {
            "Saving…"
        } else if editor.save_failed.get() && editor.dirty.get() {
            "Not saved — retrying (kept in this browser)"
        } else if editor.dirty.get() || editor.workflow_id.with(Option::is_none) {
            "Unsaved changes"
        } else {
            "Saved"
        }
    };
    let run_state = move || {
        editor.run.with(|r| match r {
            None => String::new(),
            Some(r) => format!("Run {}", r.status.as_str()),
        })
    };
    let diagnosis = move || {
        editor
            .run
            .with(|r| r.as_ref().and_then(|r| r.diagnosis.clone()))
    };
    let problems = move || {
        editor
            .failure
            .with(|f| f.as_ref().map(|f| f.problems.clone()).unwrap_or_default())
    };
    view! {
        <footer class="status">
            <span class="save-state" role="status" aria-label="Save state">{save_state}</span>
            <span class="run-state" role="status" aria-label="Run state">{run_state}</span>
            <span
                class=move || format!("connection connection-{}", match editor.connection.get() {
                    Connection::Live => "live",
                    Connection::Reconnecting { .. } | Connection::Connecting => "reconnecting",
                    _ => "idle",
                })
                role="status"
                aria-label="Connection"
            >
                {move || editor.connection.get().label()}
            </span>
            <Show when=move || diagnosis().is_some()>
                <span class="diagnosis" role="status" aria-label="Diagnosis">{diagnosis}</span>
            </Show>
            <Show when=move || editor.conflict.with(Option::is_some)>
                <div class="failure conflict" role="alert" aria-label="Edit conflict">
                    <strong>
                        {move || format!(
                            "This workflow was changed in another tab (it is now at revision {}). \
                             Your edits are kept in this browser and were not saved.",
                            editor.conflict.get().unwrap_or_default()
                        )}
                    </strong>
                    " "
                    <button on:click=move |_| editor.reload_theirs()>"Reload theirs"</button>
                    " "
                    <button on:click=move |_| editor.overwrite_theirs()>"Overwrite with mine"</button>
                </div>
            </Show>
            <Show when=move || editor.failure.with(Option::is_some)>
                <div class="failure" role="alert">
                    <strong>{move || editor.failure.with(|f| f.as_ref().map(|f| f.message.clone()))}</strong>
                    <ul>
                        {move || problems().into_iter().map(|p: Problem| view! {
                            <li>{format!("{}: {}", p.path, p.message)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
        </footer>
    }
    .into_any()
}
