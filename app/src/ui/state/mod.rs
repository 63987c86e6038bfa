//! The editor page's state, in slices with one owner each, provided by context to the
//! components below the page (`expect_context::<Document>()` and so on):
//!
//! - [`document`]: the open workflow, its undo history, selection, problems and save state.
//! - [`live_run`]: the open run: view, history, connection, replay, pulses, runs list.
//! - [`view`]: pan and zoom, the orchestrator hub, palette drags and Space-to-pan.
//! - [`run_form`]: the next run's input, seed, speed and faults.
//! - [`notice`]: what went wrong last.
//!
//! Slices do not reach into each other, except that the document and the run report
//! failures through [`Notice`] and the run's replayed view reads the document's steps. The
//! page ties them together (opening a workflow clears the run and fits the view).

pub mod document;
pub mod live_run;
pub mod notice;
pub mod run_form;
pub mod view;

pub use document::Document;
pub use live_run::{Connection, RunState};
pub use notice::Notice;
pub use run_form::RunForm;
pub use view::ViewState;

use leptos::prelude::provide_context;

/// Creates the editor page's slices and provides them to the components below.
pub fn provide_editor_state() -> (Document, RunState, ViewState, RunForm, Notice) {
    let notice = Notice::new();
    let document = Document::new(notice);
    let run = RunState::new(document.doc);
    let view = ViewState::new();
    let form = RunForm::new();
    provide_context(notice);
    provide_context(document);
    provide_context(run);
    provide_context(view);
    provide_context(form);
    (document, run, view, form, notice)
}
