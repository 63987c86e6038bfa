//! The workflows column: the templates first (each opens read-only; the first edit makes the
//! user's own copy, named apart from earlier ones), then the user's workflows — open,
//! create, duplicate and delete (with a confirmation).

use leptos::prelude::*;

use crate::model::examples::{distinct_name, template_id, Example, ALL};
use crate::ui::client;
use crate::ui::common::language::use_lang;
use crate::ui::common::language::LanguageSwitch;
use crate::ui::common::templates::template_title;
use crate::ui::common::theme::ThemeToggle;
use crate::ui::spawn_local;
use crate::ui::state::document::draft_key;
use crate::ui::state::{Document, Notice, RunForm, WorkflowList};

#[component]
pub fn WorkflowList() -> impl IntoView {
    let document = expect_context::<Document>();
    let list = expect_context::<WorkflowList>();
    let notice = expect_context::<Notice>();
    let form = expect_context::<RunForm>();
    let confirming = RwSignal::new(None::<String>);
    let new_workflow = move |_| document.open_untitled();
    let open = move |id: String| document.load(id);
    let lang = use_lang();
    // A name none of the user's workflows has yet.
    let unused_name = move |name: &str| {
        let locale = lang.get_untracked();
        list.workflows.with_untracked(|list| {
            distinct_name(name, locale, |n| list.iter().any(|w| w.name == n))
        })
    };
    // A template opens as it is stored, read-only: the user's first edit makes their own
    // copy (one, however often the template is opened).
    let open_template = move |example: &'static Example| {
        // Going on to a template is reading the introduction.
        client::local_set(crate::ui::common::INTRO_READ_KEY, "1");
        document.load(template_id(example.key));
        // Slow enough to watch; the speed control still rules.
        form.speed.set(example.watch_speed);
    };
    let duplicate = move |id: String| {
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => {
                    let mut copy = record.workflow;
                    copy.name = unused_name(&copy.name);
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
                    list.refresh();
                }
                Err(e) => notice.fail(e),
            }
        })
    };
    view! {
        <nav
            class="workflows"
            aria-label=tr!(lang, workflows.label)
            aria-busy=move || (!list.listed.get()).to_string()
        >
            <div class="brand-row">
                <h1 class="brand">{tr!(lang, brand)}</h1>
                <LanguageSwitch/>
                <ThemeToggle/>
            </div>
            <div class="nav-links">
                <a class="button learn-link" href="/learn" title=tr!(lang, nav.learn_title)>
                    {tr!(lang, nav.learn)}
                </a>
                <a class="button api-link" href="/docs/api" rel="external" title=tr!(lang, nav.api_title)>
                    {tr!(lang, nav.api)}
                </a>
            </div>
            <h2 class="templates-title">{tr!(lang, templates.heading)}</h2>
            <ul class="templates">
                {ALL
                    .iter()
                    .map(|example: &'static Example| {
                        let title = move || template_title(lang.get(), example.key);
                        view! {
                            <li>
                                <button
                                    class="template"
                                    class:current=move || document.workflow_id.with(|id| id.as_deref() == Some(template_id(example.key).as_str()))
                                    aria-label=move || {
                                        td_string!(lang.get(), templates.use_label, title = title()).to_string()
                                    }
                                    on:click=move |_| open_template(example)
                                >
                                    {title}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <h2 class="yours-title">{tr!(lang, workflows.yours)}</h2>
            <button class="primary" on:click=new_workflow>{tr!(lang, workflows.new_workflow)}</button>
            <Show when=move || list.workflows.with(Vec::is_empty)>
                <p class="hint">{tr!(lang, workflows.none)}</p>
            </Show>
            <ul>
                <For
                    each=move || list.workflows.get()
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
                        let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
                        let (nodes, edges) = (w.nodes, w.edges);
                        view! {
                            <li class="workflow-row">
                                <button
                                    class="workflow-link"
                                    class:current=current
                                    on:click=move |_| open(open_id.clone())
                                >
                                    <span class="name">{w.name.clone()}</span>
                                    <span class="meta">
                                        {move || {
                                            let l = lang.get();
                                            let steps = match nodes {
                                                1 => td_string!(l, workflows.steps1).to_string(),
                                                n => td_string!(l, workflows.steps, count = n).to_string(),
                                            };
                                            let edges = match edges {
                                                1 => td_string!(l, workflows.edges1).to_string(),
                                                n => td_string!(l, workflows.edges, count = n).to_string(),
                                            };
                                            format!("{steps} · {edges}")
                                        }}
                                    </span>
                                </button>
                                <span class="row-actions">
                                    <button
                                        class="small"
                                        aria-label=move || td_string!(lang.get(), workflows.duplicate_label, name = n1.clone()).to_string()
                                        on:click=move |_| duplicate(dup_id.clone())
                                    >
                                        {tr!(lang, workflows.duplicate)}
                                    </button>
                                    <button
                                        class="small"
                                        aria-label=move || td_string!(lang.get(), workflows.delete_label, name = n2.clone()).to_string()
                                        on:click=move |_| confirming.set(Some(ask_id.clone()))
                                    >
                                        {tr!(lang, workflows.delete)}
                                    </button>
                                </span>
                                <Show when=asking.clone()>
                                    <div class="confirm" role="alertdialog" aria-label=tr!(lang, workflows.confirm_label)>
                                        <span>{
                                            let n3 = n3.clone();
                                            move || td_string!(lang.get(), workflows.confirm, name = n3.clone()).to_string()
                                        }</span>
                                        <button class="danger" on:click={
                                            let del_id = del_id.clone();
                                            move |_| delete(del_id.clone())
                                        }>{tr!(lang, workflows.delete_it)}</button>
                                        <button on:click=move |_| confirming.set(None)>{tr!(lang, workflows.keep_it)}</button>
                                    </div>
                                </Show>
                            </li>
                        }
                    }
                />
            </ul>
        </nav>
    }
    .into_any()
}
