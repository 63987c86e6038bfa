//! The editor page (`/?workflow=ID&run=ID`): the workflows column, the toolbar, the palette,
//! the canvas, the inspector, the run panel and the status line, laid out on a grid that
//! fits the window. The page creates the state slices, ties them together (opening a
//! workflow clears the run and fits the view; the URL names the open workflow and run, so a
//! reload comes back to both), and listens to the keyboard.
//!
//! - [`commands`]: what the page does across slices (run, cancel, crash, named actions).
//! - [`keys`]: keyboard shortcuts, Space-to-pan, copy and paste.
//! - [`lesson`]: a template's lesson and scenario buttons above the canvas.
//! - [`toolbar`], [`status`]: the toolbar and the status line.

pub mod commands;
pub mod keys;
pub mod lesson;
pub mod status;
pub mod toolbar;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use self::commands::Commands;
use self::lesson::LessonNote;
use self::status::StatusLine;
use self::toolbar::Toolbar;
use crate::model::api::RunReport;
use crate::model::examples::{template_id, ALL};
use crate::ui::canvas::Canvas;
use crate::ui::client;
use crate::ui::common::words::editor_url;
use crate::ui::inspector::Inspector;
use crate::ui::palette::Palette;
use crate::ui::run::transport::{follow_runs_feed, open_run};
use crate::ui::run::RunPanel;
use crate::ui::spawn_local;
use crate::ui::state::provide_editor_state;
use crate::ui::transfer::{Dialog, TransferDialogs};
use crate::ui::workflows::WorkflowList;

/// The skip link: the keyboard focus goes to the canvas (the router is not asked to
/// navigate to the fragment).
fn skip_to_canvas(ev: leptos::ev::MouseEvent) {
    use wasm_bindgen::JsCast;
    ev.prevent_default();
    if let Some(canvas) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("canvas"))
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = canvas.focus();
    }
}

/// The Import/Export/Convert dialogs, lazily loaded (split by `make build`).
#[lazy]
fn transfer_dialogs(dialog: RwSignal<Option<Dialog>>) -> AnyView {
    view! { <TransferDialogs dialog/> }.into_any()
}

#[component]
pub fn EditorPage() -> impl IntoView {
    crate::ui::provide_page();
    let state = provide_editor_state();
    let (document, run, view, notice) = (state.document, state.run, state.view, state.notice);
    let commands = Commands {
        document,
        selected: state.selected,
        saving: state.saving,
        run,
        view,
        form: state.form,
        notice,
    };
    let lang = crate::ui::common::language::use_lang();
    let query = use_query_map();
    let navigate = use_navigate();
    // A run named in the address, waiting for its workflow to open.
    let pending_run = StoredValue::new(None::<String>);
    // The workflow and run the address names while the page catches up with it (a Back or
    // Forward, a link, the first load): no history entry is pushed until the page shows them.
    let following = StoredValue::new(None::<(String, Option<String>)>);

    // Load the workflow (and run) named in the URL, or the most recently edited workflow.
    // Effects run only in the browser, after hydration, so server and browser render the
    // same first page.
    Effect::new(move |_| {
        let (wanted, wanted_run) = query.with(|q| (q.get("workflow"), q.get("run")));
        run.broke_at
            .set(query.with(|q| q.get("at")).filter(|_| wanted_run.is_some()));
        if wanted.is_some() && wanted == document.workflow_id.get_untracked() {
            // The same workflow: Back or Forward between its runs (or to none).
            if wanted_run != run.run_id.get_untracked() {
                match wanted_run {
                    Some(run_id) => document.doc.with_untracked(|d| open_run(run, d, run_id)),
                    None => run.clear(),
                }
            }
            return;
        }
        // What was open when this load began: if the user opens another workflow meanwhile
        // (New workflow, a template) before the server answers, the late answer must not
        // replace it.
        let opened = document.opened.get_untracked();
        let overtaken = move || document.opened.get_untracked() != opened;
        spawn_local(async move {
            let list = match client::list_workflows().await {
                Ok(list) => list,
                Err(e) => return notice.fail(e),
            };
            if overtaken() {
                return;
            }
            state.list.workflows.set(list.clone());
            state.list.listed.set(true);
            let mut wanted = wanted;
            let mut missing = None;
            if let Some(run_id) = wanted_run {
                match client::get_json::<RunReport>(&format!("/api/runs/{run_id}")).await {
                    Ok(report) => {
                        wanted = Some(report.workflow_id);
                        pending_run.set_value(Some(run_id));
                    }
                    Err(e) => {
                        missing = Some(
                            td_string!(
                                lang.get_untracked(),
                                status.missing_run,
                                run = run_id.clone(),
                                message = e.words(lang.get_untracked())
                            )
                            .to_string(),
                        )
                    }
                }
            }
            // Nothing named and nothing of the user's yet (a first visit): the first
            // template, read-only, so the canvas shows a flow to run rather than nothing.
            let first_template = || template_id(ALL[0].key);
            let named = wanted.is_some();
            let id = wanted
                .unwrap_or_else(|| list.first().map_or_else(first_template, |w| w.id.clone()));
            if named {
                following.set_value(Some((id.clone(), pending_run.get_value())));
            }
            match client::load_workflow(&id).await {
                Ok(_) if overtaken() => following.set_value(None),
                Ok(record) => document.open_loaded(record),
                Err(e) => {
                    following.set_value(None);
                    notice.fail(e)
                }
            }
            // Said after the workflow opened (opening clears the last failure).
            if let Some(message) = missing {
                notice.say(message);
            }
        });
    });

    // Another workflow opened: its run (if the URL named one) or none, and the view fitted.
    // `settled` says which opening this was done for: until then the run shown is the
    // previous workflow's, and the address is not written.
    let settled = RwSignal::new(0u64);
    Effect::new(move |previous: Option<()>| {
        let opened = document.opened.get();
        if previous.is_some() {
            run.clear();
            document.doc.with_untracked(|d| view.fit(d));
            if let Some(run_id) = pending_run.try_update_value(Option::take).flatten() {
                document.doc.with_untracked(|d| open_run(run, d, run_id));
            }
        }
        settled.set(opened);
    });

    // Autosave: every edit keeps a local copy and is saved after a pause.
    Effect::new(move |_| {
        document.revision.track();
        state.saving.edited();
    });

    // Keep the URL on the open workflow and run, so a reload opens them again: each change
    // of workflow or run is a history entry (Back and Forward move between them); the
    // first one replaces the bare address the page was opened at.
    Effect::new(move |_| {
        let Some(id) = document.workflow_id.get() else {
            return;
        };
        if settled.get() != document.opened.get() {
            return;
        }
        let run_id = run.run_id.get();
        let now = (id.clone(), run_id.clone());
        if let Some(target) = following.get_value() {
            if target == now {
                following.set_value(None);
            }
            // Still catching up with the address (the run opens after its workflow).
            return;
        }
        let shown = query.with_untracked(|q| (q.get("workflow"), q.get("run")));
        if shown != (Some(id.clone()), run_id.clone()) {
            navigate(
                &editor_url(&id, run_id.as_deref()),
                NavigateOptions {
                    replace: shown.0.is_none(),
                    ..Default::default()
                },
            );
        }
    });

    keys::listen(commands);
    follow_runs_feed(document, run);

    let dialog = RwSignal::new(None::<Dialog>);
    let opened_a_dialog = Memo::new(move |was: Option<&bool>| {
        was.copied().unwrap_or(false) || dialog.with(Option::is_some)
    });
    view! {
        <div class="editor">
            // Shown only on a narrow screen (a phone), where the editor does not fit: said
            // plainly, with what does work there.
            <p class="narrow-screen" role="note">
                {tr!(lang, status.narrow)}
                " "
                <a href="/learn">{tr!(lang, nav.learn)}</a>
                " · "
                <a href="/docs/api" rel="external">{tr!(lang, nav.api)}</a>
            </p>
            <a class="skip-link" href="#canvas" on:click=skip_to_canvas>{tr!(lang, status.skip)}</a>
            <WorkflowList/>
            <main class="workspace">
                <Toolbar commands dialog/>
                <LessonNote commands/>
                // Import/Export/Convert are a chunk of their own, fetched when one first opens.
                {move || opened_a_dialog.get().then(|| Suspend::new(transfer_dialogs(dialog)))}
                <div class="stage">
                    <Palette/>
                    <Canvas/>
                    <Inspector/>
                </div>
                <RunPanel/>
                <StatusLine/>
            </main>
        </div>
    }
    .into_any()
}
