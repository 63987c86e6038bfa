//! What the editor does across slices: run the open workflow, cancel or crash its run,
//! and carry out a named action — from the toolbar, the keyboard or a menu alike.

use leptos::prelude::*;

use crate::model::api::{CrashRequest, FaultRequest};
use crate::model::EdgeKind;
use crate::ui::client;
use crate::ui::common::actions::Action;
use crate::ui::common::language::use_lang;
use crate::ui::run::transport::open_run;
use crate::ui::spawn_local;
use crate::ui::state::{Document, Notice, RunForm, RunState, Saving, Selected, ViewState};

/// How long the toolbar's "Crash orchestrator" keeps it down (simulated ms).
pub const CRASH_MS: u64 = 3_000;

/// The slices the page's commands work on (all `Copy`).
#[derive(Clone, Copy)]
pub struct Commands {
    pub document: Document,
    pub selected: Selected,
    pub saving: Saving,
    pub run: RunState,
    pub view: ViewState,
    pub form: RunForm,
    pub notice: Notice,
}

impl Commands {
    /// Saves if needed, starts a run and follows its events.
    pub fn start_run(&self) {
        let this = *self;
        let locale = use_lang().get_untracked();
        spawn_local(async move {
            let Some(id) = this.saving.saved_id().await else {
                return;
            };
            let request = match this.form.request(locale) {
                Ok(request) => request,
                Err(message) => return this.notice.say(message),
            };
            match client::start_run(&id, &request).await {
                Ok(report) => this
                    .document
                    .doc
                    .with_untracked(|d| open_run(this.run, d, report.id)),
                Err(e) => this.notice.fail(e),
            }
        });
    }

    pub fn cancel_run(&self) {
        let Some(id) = self.run.run_id.get_untracked() else {
            return;
        };
        let notice = self.notice;
        spawn_local(async move {
            if let Err(e) = client::cancel_run(&id).await {
                notice.fail(e);
            }
        });
    }

    /// Crashes the live run's orchestrator for [`CRASH_MS`] (with a standby taking over
    /// after its lease, if given).
    pub fn crash(&self, standby_lease_ms: Option<u64>) {
        let Some(run_id) = self.run.run_id.get_untracked() else {
            return;
        };
        let request = FaultRequest {
            faults: None,
            crash_orchestrator: Some(CrashRequest {
                for_ms: CRASH_MS,
                standby_lease_ms,
            }),
        };
        let notice = self.notice;
        spawn_local(async move {
            if let Err(e) = client::post_ok(&format!("/api/runs/{run_id}/faults"), &request).await {
                notice.fail(e);
            }
        });
    }

    pub fn save(&self) {
        let saving = self.saving;
        spawn_local(async move {
            saving.save().await;
        });
    }

    /// Carries out a page-wide action (canvas actions go to the canvas's reducer).
    pub fn perform(&self, action: Action) {
        let document = self.document;
        match action {
            Action::Undo => document.undo(),
            Action::Redo => document.redo(),
            Action::Delete => self.selected.delete_selection(),
            Action::Duplicate => self.selected.duplicate_selection(),
            Action::ZoomIn => self.view.zoom(1.25),
            Action::ZoomOut => self.view.zoom(0.8),
            Action::Fit => document.doc.with_untracked(|d| self.view.fit(d)),
            Action::ToggleHub => document.doc.with_untracked(|d| self.view.toggle_hub(d)),
            Action::MakeCommand => self.selected.set_edge_kind(EdgeKind::Command),
            Action::MakeEvent => self.selected.set_edge_kind(EdgeKind::Event),
            Action::AutoLayout => {
                document.auto_layout();
                document.doc.with_untracked(|d| self.view.fit(d));
            }
            Action::Save => self.save(),
            Action::Run => {
                if !self.run.running() && self.form.valid() {
                    self.start_run();
                }
            }
            Action::Inspect => focus_inspector(),
            Action::Select | Action::Escape | Action::Connect | Action::Arrow(..) => {}
        }
    }
}

/// Gives the keyboard focus to the inspector's field for the selection: the one marked
/// `data-inspect` (an edge's condition), else its first field.
fn focus_inspector() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let field = document
        .query_selector("aside.inspector [data-inspect]")
        .ok()
        .flatten()
        .or_else(|| {
            document
                .query_selector("aside.inspector input, aside.inspector select")
                .ok()
                .flatten()
        });
    if let Some(field) = field.and_then(|f| f.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = field.focus();
    }
}
