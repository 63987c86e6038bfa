//! The live list of a workflow's errors and warnings; an entry selects its culprit.

use leptos::prelude::*;

use crate::ui::common::language::use_lang;

use crate::ui::common::issues::Severity;
use crate::ui::common::selection::Selection;
use crate::ui::state::{Document, Selected};

/// The live list of errors and warnings; an entry selects its culprit on the canvas.
#[component]
pub fn ProblemList() -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let count = move || document.issues.with(Vec::len);
    let lang = use_lang();
    view! {
        <section class="problems" aria-label=tr!(lang, inspector.problems)>
            <h2>{move || td_string!(lang.get(), inspector.problems_count, count = count()).to_string()}</h2>
            <ul>
                {move || {
                    document
                        .issues
                        .get()
                        .into_iter()
                        .map(|issue| {
                            let target = match (&issue.node, &issue.edge) {
                                (Some(n), _) => Some(Selection::Node(n.clone())),
                                (None, Some(e)) => Some(Selection::Edge(e.clone())),
                                _ => None,
                            };
                            let class = format!("problem {}", issue.severity.as_str());
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
                                                selection.set(target.clone());
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
