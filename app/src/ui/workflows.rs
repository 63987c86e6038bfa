//! The workflows column: open, create, create from a template, duplicate and delete
//! (with a confirmation) the saved workflows.

use leptos::prelude::*;

use crate::model::examples::{from_template, Example, ALL};
use crate::ui::client;
use crate::ui::common::theme::ThemeToggle;
use crate::ui::spawn_local;
use crate::ui::state::document::draft_key;
use crate::ui::state::{Document, Notice, RunForm};

#[component]
pub fn WorkflowList() -> impl IntoView {
    let document = expect_context::<Document>();
    let notice = expect_context::<Notice>();
    let form = expect_context::<RunForm>();
    let confirming = RwSignal::new(None::<String>);
    let new_workflow = move |_| document.open_untitled();
    let open = move |id: String| document.load(id);
    let duplicate = move |id: String| {
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => {
                    let mut copy = record.workflow;
                    copy.name = format!("{} (copy)", copy.name);
                    document.create_and_open(copy);
                }
                Err(e) => notice.fail(e),
            }
        })
    };
    let delete = move |id: String| {
        spawn_local(async move {
            match client::delete_workflow(&id).await {
                Ok(()) => {
                    confirming.set(None);
                    client::local_remove(&draft_key(Some(&id)));
                    if document.workflow_id.get_untracked().as_deref() == Some(id.as_str()) {
                        document.open_untitled();
                    }
                    document.refresh_list();
                }
                Err(e) => notice.fail(e),
            }
        })
    };
    view! {
        <nav class="workflows" aria-label="Workflows">
            <div class="brand-row">
                <h1 class="brand">"Hybridflow"</h1>
                <ThemeToggle/>
            </div>
            <button class="primary" on:click=new_workflow>"New workflow"</button>
            <ul>
                <For
                    each=move || document.workflows.get()
                    key=|w| (w.id.clone(), w.name.clone(), w.nodes, w.edges)
                    children=move |w| {
                        let id = w.id.clone();
                        let current = {
                            let id = id.clone();
                            move || document.workflow_id.get().as_deref() == Some(id.as_str())
                        };
                        let asking = {
                            let id = id.clone();
                            move || confirming.get().as_deref() == Some(id.as_str())
                        };
                        let (open_id, dup_id, ask_id, del_id) = (id.clone(), id.clone(), id.clone(), id.clone());
                        let name = w.name.clone();
                        view! {
                            <li class="workflow-row">
                                <button
                                    class="workflow-link"
                                    class:current=current
                                    on:click=move |_| open(open_id.clone())
                                >
                                    <span class="name">{w.name.clone()}</span>
                                    <span class="meta">
                                        {format!("{} steps · {} edges", w.nodes, w.edges)}
                                    </span>
                                </button>
                                <span class="row-actions">
                                    <button
                                        class="small"
                                        aria-label=format!("Duplicate {name}")
                                        on:click=move |_| duplicate(dup_id.clone())
                                    >
                                        "Duplicate"
                                    </button>
                                    <button
                                        class="small"
                                        aria-label=format!("Delete {name}")
                                        on:click=move |_| confirming.set(Some(ask_id.clone()))
                                    >
                                        "Delete"
                                    </button>
                                </span>
                                <Show when=asking.clone()>
                                    <div class="confirm" role="alertdialog" aria-label="Confirm delete">
                                        <span>{format!("Delete {}? Its runs stay in the history.", w.name)}</span>
                                        <button class="danger" on:click={
                                            let del_id = del_id.clone();
                                            move |_| delete(del_id.clone())
                                        }>"Delete it"</button>
                                        <button on:click=move |_| confirming.set(None)>"Keep it"</button>
                                    </div>
                                </Show>
                            </li>
                        }
                    }
                />
            </ul>
            <h2 class="templates-title">"Templates"</h2>
            <ul class="templates">
                {ALL
                    .iter()
                    .map(|example: &'static Example| {
                        view! {
                            <li>
                                <button
                                    class="template"
                                    title=example.lesson
                                    aria-label=format!("Use template {}", example.title)
                                    on:click=move |_| {
                                        document.create_and_open(from_template(example));
                                        // Slow enough to watch; the speed control still rules.
                                        form.speed.set(example.watch_speed);
                                    }
                                >
                                    {example.title}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
    .into_any()
}
