//! The runs tab: the open workflow's runs, newest first, kept current by the runs feed —
//! each with its status, time, duration and messages, the input it was started with and its
//! outcome in one line; one click opens a run (live if it still goes on).

use leptos::prelude::*;

use super::transport::open_run;
use crate::model::api::RunSummary;
use crate::ui::common::time::js_time;
use crate::ui::state::{Document, RunState};

/// The most characters of a run's input the list shows.
const INPUT_SHOWN: usize = 60;

#[component]
pub fn Runs() -> impl IntoView {
    let document = expect_context::<Document>();
    let state = expect_context::<RunState>();

    let describe_run = |r: &RunSummary| {
        let duration = r
            .ended_at
            .map(|end| format!("{} ms", end - r.started_at))
            .unwrap_or_else(|| "running".into());
        let messages = r
            .messages
            .map(|m| {
                format!(
                    "{} messages",
                    m.commands + m.replies + m.events + m.deliveries
                )
            })
            .unwrap_or_default();
        let started = js_time(r.started_at);
        format!(
            "{} · {started} · {duration} · {messages}",
            r.status.as_str()
        )
    };
    // The input as compact JSON, cut to fit one line.
    let input_of = |r: &RunSummary| {
        let text = serde_json::to_string(&r.input).unwrap_or_default();
        if text.chars().count() > INPUT_SHOWN {
            let cut: String = text.chars().take(INPUT_SHOWN - 1).collect();
            format!("input {cut}…")
        } else {
            format!("input {text}")
        }
    };
    view! {
        <Show
            when=move || state.runs.with(|r| !r.is_empty())
            fallback=|| view! { <p class="muted">"No runs of this workflow yet."</p> }
        >
            <ul class="runs" aria-label="Runs">
                <For
                    each=move || state.runs.get()
                    key=|r| (r.id.clone(), r.status, r.ended_at)
                    let:run
                >
                    <li>
                        <button
                            class=format!("run-row status-{}", run.status.as_str())
                            class:open={
                                let id = run.id.clone();
                                move || state.run_id.get().as_deref() == Some(id.as_str())
                            }
                            on:click={
                                let id = run.id.clone();
                                move |_| document.doc.with_untracked(|d| open_run(state, d, id.clone()))
                            }
                        >
                            <span class="run-head">{describe_run(&run)}</span>
                            <span class="run-input">{input_of(&run)}</span>
                            {run.outcome.as_ref().map(|o| view! {
                                <span class="run-outcome" data-code=o.code.clone()>{o.message.clone()}</span>
                            })}
                        </button>
                    </li>
                </For>
            </ul>
        </Show>
    }
}
