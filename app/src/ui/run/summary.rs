//! The summary tab: what happened, in sentences (the run's [`Story`]), then its status,
//! diagnosis and figures — executions, failures, retries, compensations, and messages by
//! kind (through the orchestrator or over the bus).

use leptos::prelude::*;

use crate::model::log::{figures, Figures};
use crate::model::story::Story;
use crate::model::RunView;
use crate::ui::state::{Document, RunState};

/// The summary tab: "No run yet", or the open run's story and figures (a chunk of its own,
/// fetched when a run is first shown: the server never renders a run here).
#[component]
pub fn Summary() -> impl IntoView {
    let run = expect_context::<RunState>();
    view! {
        <Show
            when=move || run.run.with(Option::is_some)
            fallback=|| view! { <p class="muted">"No run yet: press Run, or open one from Runs."</p> }
        >
            {Suspend::new(run_summary())}
        </Show>
    }
}

#[lazy]
fn run_summary() -> AnyView {
    let run = expect_context::<RunState>();
    let document = expect_context::<Document>();
    let story = Memo::new(move |_| {
        run.log
            .with(|log| document.doc.with(|d| Story::of(log).lines(d)))
    });

    let figures = Memo::new(move |_| run.log.with(|log| figures(log)));
    let row = move |label: &'static str, value: Signal<String>| {
        view! {
            <dt>{label}</dt>
            <dd aria-label=label>{value}</dd>
        }
    };
    let from_run = move |f: fn(&RunView) -> String| {
        Signal::derive(move || run.run.with(|r| r.as_ref().map(f).unwrap_or_default()))
    };
    let from_figures = move |f: fn(&Figures) -> String| Signal::derive(move || figures.with(f));
    view! {
            <ul class="story" aria-label="What happened">
                {move || {
                    story
                        .get()
                        .into_iter()
                        .map(|line| view! { <li data-code=line.code>{line.message}</li> })
                        .collect_view()
                }}
            </ul>
            <dl class="summary">
                {row("Status", from_run(|r| r.status.as_str().to_string()))}
                {row("Diagnosis", from_run(|r| r.diagnosis.clone().unwrap_or_else(|| "—".into())))}
                {row("Duration", from_figures(|f| format!("{} ms", f.duration_ms)))}
                {row("Steps executed", from_figures(|f| f.executions.to_string()))}
                {row("Failed attempts", from_figures(|f| f.failed_attempts.to_string()))}
                {row("Retries", from_figures(|f| f.retries.to_string()))}
                {row("Compensations", from_figures(|f| f.compensations.to_string()))}
                {row("Commands", from_run(|r| r.messages.commands.to_string()))}
                {row("Replies", from_run(|r| r.messages.replies.to_string()))}
                {row("Events", from_run(|r| r.messages.events.to_string()))}
                {row("Deliveries", from_run(|r| r.messages.deliveries.to_string()))}
                {row("Through the orchestrator", from_run(|r| r.messages.orchestrator().to_string()))}
            </dl>
    }
    .into_any()
}
