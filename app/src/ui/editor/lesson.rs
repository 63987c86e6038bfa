//! A template's lesson on the editor: for a workflow made from a shipped template, a note
//! above the canvas says what the template shows and what to try, with one button per
//! scenario ("Happy path", "Card expired", "Out of stock") that sets the run's input and
//! runs it (at the speed control's speed, which opening the template set slow enough to
//! watch). Dismissed, it stays hidden for that workflow (remembered in the browser).
//!
//! The note itself is a lazily loaded chunk: the server never renders it (the page opens
//! its workflow in the browser).

use leptos::prelude::*;

use super::commands::Commands;
use crate::model::examples::template;
use crate::ui::client;

/// Where a dismissed note is remembered, per workflow id.
const DISMISSED_KEY: &str = "hybridflow.lesson-dismissed.";

fn dismissed(workflow_id: &str) -> bool {
    client::local_get(&format!("{DISMISSED_KEY}{workflow_id}")).is_some()
}

/// The note's place above the canvas (empty unless the open workflow has a lesson).
#[component]
pub fn LessonNote(commands: Commands) -> impl IntoView {
    let document = commands.document;
    // Bumped by a dismissal, so the note goes at once.
    let dismissals = RwSignal::new(0u32);
    let shown = Memo::new(move |_| {
        dismissals.track();
        let key = document.doc.with(|d| d.template.clone())?;
        template(&key)?;
        let id = document.workflow_id.get();
        if id.as_deref().is_some_and(dismissed) {
            return None;
        }
        Some(key)
    });
    view! {
        <div class="lesson-slot">
            {move || shown.get().map(|key| Suspend::new(lesson(commands, key, dismissals)))}
        </div>
    }
}

#[lazy]
fn lesson(commands: Commands, key: String, dismissals: RwSignal<u32>) -> AnyView {
    let Some(example) = template(&key) else {
        return ().into_any();
    };
    let run = commands.run;
    let hide = move |_| {
        if let Some(id) = commands.document.workflow_id.get_untracked() {
            client::local_set(&format!("{DISMISSED_KEY}{id}"), "1");
        }
        dismissals.update(|n| *n += 1);
    };
    view! {
        <aside class="lesson-note" aria-label="What to try">
            <p>
                <strong>{example.title}</strong>
                " — "
                {example.lesson}
            </p>
            <div class="scenarios" role="group" aria-label="Scenarios">
                {example
                    .scenarios
                    .iter()
                    .map(|scenario| {
                        view! {
                            <button
                                title=format!("Runs it with the input {}", scenario.input)
                                disabled=move || run.running()
                                on:click=move |_| {
                                    commands.form.input.set(scenario.input.to_string());
                                    commands.start_run();
                                }
                            >
                                {format!("▶ {}", scenario.name)}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <button class="dismiss" aria-label="Dismiss the lesson" title="Dismiss" on:click=hide>
                "×"
            </button>
        </aside>
    }
    .into_any()
}
