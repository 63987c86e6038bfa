//! The workflows column: open, create, create from a template, duplicate and delete
//! (with a confirmation) the saved workflows.

use leptos::prelude::*;

use super::client;
use super::editor::{draft_key, Editor};
use super::spawn_local;
use crate::model::examples::{Example, ALL};
use crate::model::Workflow;

/// Stores `workflow` as a new workflow on the server and opens it.
fn create_and_open(editor: Editor, workflow: Workflow) {
    spawn_local(async move {
        match client::save_workflow(None, &workflow, None).await {
            Ok(record) => {
                editor.open_record(record);
                editor.refresh_list();
            }
            Err(e) => editor.failure.set(Some(e)),
        }
    });
}

#[component]
pub fn WorkflowList(editor: Editor) -> impl IntoView {
    let confirming = RwSignal::new(None::<String>);
    let new_workflow = move |_| {
        editor.open(
            None,
            Workflow {
                name: "Untitled workflow".into(),
                ..Default::default()
            },
        )
    };
    let open = move |id: String| {
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => editor.open_loaded(record),
                Err(e) => editor.failure.set(Some(e)),
            }
        })
    };
    let duplicate = move |id: String| {
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => {
                    let mut copy = record.workflow;
                    copy.name = format!("{} (copy)", copy.name);
                    create_and_open(editor, copy);
                }
                Err(e) => editor.failure.set(Some(e)),
            }
        })
    };
    let delete = move |id: String| {
        spawn_local(async move {
            match client::delete_workflow(&id).await {
                Ok(()) => {
                    confirming.set(None);
                    client::local_remove(&draft_key(Some(&id)));
                    if editor.workflow_id.get_untracked().as_deref() == Some(id.as_str()) {
                        editor.open(
                            None,
                            Workflow {
                                name: "Untitled workflow".into(),
                                ..Default::default()
                            },
                        );
                    }
                    editor.refresh_list();
                }
                Err(e) => editor.failure.set(Some(e)),
            }
        })
    };
    view! {
        <nav class="workflows" aria-label="Workflows">
            <h1 class="brand">"Hybridflow"</h1>
            <button class="primary" on:click=new_workflow>"New workflow"</button>
            <ul>
                <For
                    each=move || editor.workflows.get()
                    key=|w| (w.id.clone(), w.name.clone(), w.nodes, w.edges)
                    children=move |w| {
                        let id = w.id.clone();
                        let current = {
                            let id = id.clone();
                            move || editor.workflow_id.get().as_deref() == Some(id.as_str())
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
                                    on:click=move |_| create_and_open(editor, (example.workflow)())
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
