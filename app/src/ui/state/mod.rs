//! The editor page's state, in slices with one owner each, provided by context to the
//! components below the page (`expect_context::<Document>()` and so on):
//!
//! - [`document`]: the open workflow, where the server keeps it, its undo history and
//!   problems, and whether it has unsaved edits.
//! - [`selected`]: what is selected, and the edits that act on it.
//! - [`saving`]: autosave, the local copy of unsaved edits, edit conflicts, the save state.
//! - [`workflow_list`]: the saved workflows (the workflows column).
//! - [`live_run`]: the open run: view, history, connection, replay, pulses, runs list.
//! - [`view`]: pan and zoom, the orchestrator hub, palette drags and Space-to-pan.
//! - [`run_form`]: the next run's input, seed, speed and faults.
//! - [`notice`]: what went wrong last.
//!
//! Slices reach only down this list's order: the selection and saving act on the document,
//! the document names a template's copy apart from the workflows list, every slice reports
//! failures through [`Notice`], and the run's replayed view reads the document's steps. A
//! panel takes the slices it reads and no more. The page ties them together (opening a
//! workflow clears the run and fits the view).

pub mod document;
pub mod live_run;
pub mod notice;
pub mod run_form;
pub mod saving;
pub mod selected;
pub mod view;
pub mod workflow_list;

pub use document::Document;
pub use live_run::{Connection, RunState};
pub use notice::Notice;
pub use run_form::RunForm;
pub use saving::Saving;
pub use selected::Selected;
pub use view::ViewState;
pub use workflow_list::WorkflowList;

use leptos::prelude::provide_context;

/// The editor page's slices.
#[derive(Clone, Copy)]
pub struct EditorState {
    pub document: Document,
    pub selected: Selected,
    pub saving: Saving,
    pub list: WorkflowList,
    pub run: RunState,
    pub view: ViewState,
    pub form: RunForm,
    pub notice: Notice,
}

/// Creates the editor page's slices and provides them to the components below.
pub fn provide_editor_state() -> EditorState {
    let notice = Notice::new();
    let list = WorkflowList::new(notice);
    let form = RunForm::new();
    let document = Document::new(notice, list, form.input);
    let state = EditorState {
        document,
        selected: Selected::new(document),
        saving: Saving::new(document, list, notice),
        list,
        run: RunState::new(document.doc),
        view: ViewState::new(),
        form,
        notice,
    };
    provide_context(notice);
    provide_context(list);
    provide_context(document);
    provide_context(state.selected);
    provide_context(state.saving);
    provide_context(state.run);
    provide_context(state.view);
    provide_context(state.form);
    state
}
