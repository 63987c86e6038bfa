//! The runs tab: the open workflow's runs, newest first, kept current by the runs feed —
//! each with its status, time, duration (simulated) and messages, the input it was started with and its
//! outcome in one line; one click opens a run (live if it still goes on).

use leptos::prelude::*;

use super::transport::open_run;
use crate::i18n::Locale;
use crate::model::api::RunSummary;
use crate::model::story::StoryLine;
use crate::ui::common::language::use_lang;
use crate::ui::common::time::js_time;
use crate::ui::common::words::{editor_url, run_status};
use crate::ui::state::{Document, RunState};

/// The most characters of a run's input the list shows.
const INPUT_SHOWN: usize = 60;

#[component]
pub fn Runs() -> impl IntoView {
    let document = expect_context::<Document>();
    let state = expect_context::<RunState>();
    let lang = use_lang();

    let describe_run = |l: Locale, r: &RunSummary| {
        let duration = r
            .ended_at
            .map(|end| {
                let simulated = ((end - r.started_at) as f64 * r.speed.unwrap_or(1.0)).round();
                td_string!(l, runs.duration, ms = simulated as i64).to_string()
            })
            .unwrap_or_else(|| td_string!(l, runs.still_running).into());
        let messages = r
            .messages
            .map(|m| match m.total() {
                1 => td_string!(l, runs.messages1).to_string(),
                count => td_string!(l, runs.messages, count = count).to_string(),
            })
            .unwrap_or_default();
        let started = js_time(l, r.started_at);
        format!(
            "{} · {started} · {duration} · {messages}",
            run_status(l, r.status)
        )
    };
    // The input as compact JSON, cut to fit one line.
    let input_of = |l: Locale, r: &RunSummary| {
        let text = serde_json::to_string(&r.input).unwrap_or_default();
        let text = if text.chars().count() > INPUT_SHOWN {
            let cut: String = text.chars().take(INPUT_SHOWN - 1).collect();
            format!("{cut}…")
        } else {
            text
        };
        td_string!(l, runs.input, input = text).to_string()
    };
    view! {
        <Show
            when=move || state.runs.with(|r| !r.is_empty())
            fallback=move || view! { <p class="muted">{tr!(lang, runs.none)}</p> }
        >
            <ul class="runs" aria-label=tr!(lang, runs.label)>
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
                            <span class="run-head">{
                                let run = run.clone();
                                move || describe_run(lang.get(), &run)
                            }</span>
                            <span class="run-input">{
                                let run = run.clone();
                                move || input_of(lang.get(), &run)
                            }</span>
                            {run.outcome.clone().map(|o| view! {
                                <span class="run-outcome" data-code=o.code.clone()>{
                                    let o = o.clone();
                                    move || outcome(lang.get(), &o)
                                }</span>
                            })}
                        </button>
                        {run.parent.clone().map(|p| {
                            let href = editor_url(&p.workflow_id, Some(&p.run));
                            let short = crate::model::log::short_run(&p.run);
                            view! {
                                <a class="run-link" href=href>{
                                    move || td_string!(lang.get(), runs.from_parent, step = p.node.clone(), run = short.clone())
                                }</a>
                            }
                        })}
                        {run.children.clone().into_iter().map(|child| {
                            // The editor asks the server which workflow the child runs.
                            let href = format!("/?run={child}");
                            let short = crate::model::log::short_run(&child);
                            view! {
                                <a class="run-link" href=href>{
                                    move || td_string!(lang.get(), runs.to_child, run = short.clone())
                                }</a>
                            }
                        }).collect_view()}
                    </li>
                </For>
            </ul>
        </Show>
    }
}

/// A run's outcome line: the server's English sentence, or in another language the kind of
/// outcome its stable code names (the Summary tells it in full).
fn outcome(locale: Locale, line: &StoryLine) -> String {
    if locale == Locale::en {
        return line.message.clone();
    }
    match line.code.as_str() {
        "failure_handled_by_route" => td_string!(locale, runs.outcome.failure_handled_by_route),
        "failure_handled_by_saga" => td_string!(locale, runs.outcome.failure_handled_by_saga),
        "failure_unhandled" => td_string!(locale, runs.outcome.failure_unhandled),
        "saved_by_retry" => td_string!(locale, runs.outcome.saved_by_retry),
        "compensated" => td_string!(locale, runs.outcome.compensated),
        "orchestrator_outage" => td_string!(locale, runs.outcome.orchestrator_outage),
        "orchestrator_still_down" => td_string!(locale, runs.outcome.orchestrator_still_down),
        "event_lost" => td_string!(locale, runs.outcome.event_lost),
        "events_duplicated" => td_string!(locale, runs.outcome.events_duplicated),
        "run_stopped" => td_string!(locale, runs.outcome.run_stopped),
        _ => td_string!(locale, runs.outcome.step_failed),
    }
    .to_string()
}
