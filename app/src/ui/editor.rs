//! The editor page: the workflows list, the toolbar, the canvas, the inspector and the
//! status line. It owns the page's state ([`Editor`]) and the calls to the server.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::canvas::Canvas;
use super::client::{self, ApiFailure};
use super::geometry::free_slot;
use crate::model::api::WorkflowSummary;
use crate::model::{EdgeKind, GraphChange, Node, Outcome, Problem, RunView, Workflow};

/// What is selected on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Node(String),
    Edge(String),
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
}

impl Editor {
    fn new() -> Self {
        Editor {
            doc: RwSignal::new(Workflow::default()),
            workflow_id: RwSignal::new(None),
            selection: RwSignal::new(None),
            run: RwSignal::new(None),
            run_id: RwSignal::new(None),
            dirty: RwSignal::new(false),
            saving: RwSignal::new(false),
            failure: RwSignal::new(None),
            workflows: RwSignal::new(Vec::new()),
        }
    }

    /// Applies an edit to the open workflow and marks it unsaved.
    pub fn edit(&self, change: GraphChange) {
        let mut changed = false;
        self.doc.update(|d| changed = d.apply(change).is_some());
        if changed {
            self.dirty.set(true);
        }
    }

    fn open(&self, id: Option<String>, workflow: Workflow) {
        self.doc.set(workflow);
        self.workflow_id.set(id);
        self.selection.set(None);
        self.run.set(None);
        self.dirty.set(false);
        self.failure.set(None);
    }

    fn refresh_list(&self) {
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
        self.saving.set(true);
        let id = self.workflow_id.get_untracked();
        let doc = self.doc.get_untracked();
        let result = client::save_workflow(id.as_deref(), &doc).await;
        self.saving.set(false);
        match result {
            Ok(record) => {
                self.workflow_id.set(Some(record.id.clone()));
                // Only what was sent is saved: edits made meanwhile stay unsaved.
                if self.doc.get_untracked() == doc {
                    self.dirty.set(false);
                }
                self.failure.set(None);
                self.refresh_list();
                Some(record.id)
            }
            Err(e) => {
                self.failure.set(Some(e));
                None
            }
        }
    }

    /// Saves if needed, starts a run and follows its events.
    async fn run(&self) {
        let id = match self.workflow_id.get_untracked() {
            Some(id) if !self.dirty.get_untracked() => id,
            _ => match self.save().await {
                Some(id) => id,
                None => return,
            },
        };
        let report = match client::start_run(&id).await {
            Ok(report) => report,
            Err(e) => return self.failure.set(Some(e)),
        };
        let doc = self.doc.get_untracked();
        self.run
            .set(Some(RunView::new(doc.nodes.iter().map(|n| n.id.as_str()))));
        self.run_id.set(Some(report.id.clone()));
        let run = self.run;
        let outcome = client::watch_run(&report.id, 0, move |record| {
            run.update(|view| {
                if let Some(view) = view {
                    view.apply(&record);
                }
            })
        })
        .await;
        if let Err(e) = outcome {
            self.failure.set(Some(e));
        }
    }
}

#[component]
pub fn EditorPage() -> impl IntoView {
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
                Ok(record) => editor.open(Some(record.id), record.workflow),
                Err(e) => editor.failure.set(Some(e)),
            }
        });
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

    view! {
        <div class="editor">
            <WorkflowList editor/>
            <main class="workspace">
                <Toolbar editor/>
                <div class="stage">
                    <Canvas editor/>
                    <Inspector editor/>
                </div>
                <StatusLine editor/>
            </main>
        </div>
    }
    .into_any()
}

#[component]
fn WorkflowList(editor: Editor) -> impl IntoView {
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
                Ok(record) => editor.open(Some(record.id), record.workflow),
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
                        view! {
                            <li>
                                <button
                                    class="workflow-link"
                                    class:current=current
                                    on:click=move |_| open(id.clone())
                                >
                                    <span class="name">{w.name.clone()}</span>
                                    <span class="meta">
                                        {format!("{} steps · {} edges", w.nodes, w.edges)}
                                    </span>
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </nav>
    }
    .into_any()
}

#[component]
fn Toolbar(editor: Editor) -> impl IntoView {
    let add_step = move |_| {
        let doc = editor.doc.get_untracked();
        let id = doc.fresh_id("step-");
        let n = id.trim_start_matches("step-").to_string();
        let node = Node {
            id: id.clone(),
            label: format!("Step {n}"),
            service: format!("Service{n}"),
            action: "run".into(),
            position: free_slot(&doc),
            ..Default::default()
        };
        editor.edit(GraphChange::AddNode(node));
        editor.selection.set(Some(Selection::Node(id)));
    };
    let selected_edge = Memo::new(move |_| match editor.selection.get() {
        Some(Selection::Edge(id)) => editor
            .doc
            .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
        _ => None,
    });
    let set_kind = move |kind: EdgeKind| {
        if let Some(mut edge) = selected_edge.get_untracked() {
            edge.kind = kind;
            editor.edit(GraphChange::UpdateEdge(edge));
        }
    };
    let kind_is =
        move |kind: EdgeKind| selected_edge.with(|e| e.as_ref().map(|e| e.kind) == Some(kind));
    let delete = move |_| match editor.selection.get_untracked() {
        Some(Selection::Node(id)) => {
            editor.edit(GraphChange::RemoveNode(id));
            editor.selection.set(None);
        }
        Some(Selection::Edge(id)) => {
            editor.edit(GraphChange::RemoveEdge(id));
            editor.selection.set(None);
        }
        None => {}
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

    view! {
        <div class="toolbar" role="toolbar" aria-label="Editor tools">
            <input
                class="workflow-name"
                aria-label="Workflow name"
                prop:value=move || editor.doc.with(|d| d.name.clone())
                on:input=move |ev| editor.edit(GraphChange::Rename(event_target_value(&ev)))
            />
            <button on:click=add_step>"Add step"</button>
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
            <span class="spacer"></span>
            <button on:click=save disabled=move || editor.saving.get()>
                "Save"
            </button>
            <Show when=running>
                <button class="cancel" on:click=cancel>"Cancel run"</button>
            </Show>
            <button class="primary run" on:click=run disabled=running>
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
            </Show>
            <Show when=move || edge.with(Option::is_some)>
                <h2>"Edge"</h2>
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
            </Show>
        </aside>
    }
    .into_any()
}

#[component]
fn StatusLine(editor: Editor) -> impl IntoView {
    let save_state = move || {
        if editor.saving.get() {
            "Saving…"
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
            <Show when=move || diagnosis().is_some()>
                <span class="diagnosis" role="status" aria-label="Diagnosis">{diagnosis}</span>
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
