//! The summary tab: what happened, in sentences (the run's [`Story`]; the diagnosis is the
//! status line's, said once), then its status and figures — executions, failures, retries, compensations, and messages by
//! kind (through the orchestrator or over the bus).

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::model::log::{figures, Figures};
use crate::model::story::Story;
use crate::model::RunView;
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{shown_event_name, shown_workflow};
use crate::ui::common::words::run_status;
use crate::ui::state::{Document, RunState};

/// The summary tab: "No run yet", or the open run's story and figures (a chunk of its own,
/// fetched when a run is first shown: the server never renders a run here).
#[component]
pub fn Summary() -> impl IntoView {
    let run = expect_context::<RunState>();
    let lang = use_lang();
    view! {
        <Show
            when=move || run.run.with(Option::is_some)
            fallback=move || view! { <p class="muted">{tr!(lang, summary.none)}</p> }
        >
            {Suspend::new(run_summary())}
        </Show>
    }
}

#[lazy]
fn run_summary() -> AnyView {
    let run = expect_context::<RunState>();
    let document = expect_context::<Document>();
    let lang = use_lang();
    let story = Memo::new(move |_| {
        let locale = lang.get();
        run.log.with(|log| {
            let mut story = Story::of(log);
            // A template's steps and events in the page's words.
            let mut lines = document.doc.with(|d| match shown_workflow(locale, d) {
                Some(shown) => {
                    story.rename_events(|name| shown_event_name(locale, d, name));
                    story.lines(&shown, locale)
                }
                None => story.lines(d, locale),
            });
            // The status line says the diagnosis; a story that told why ends with the
            // outcome, not the diagnosis again.
            if story.tells_why() {
                for line in &mut lines {
                    match line.code.as_str() {
                        "run_failed" => {
                            line.message = td_string!(locale, story.failed_above).into()
                        }
                        "run_stalled" => {
                            line.message = td_string!(locale, story.stalled_above).into()
                        }
                        _ => {}
                    }
                }
            }
            lines
        })
    });

    let figures = Memo::new(move |_| run.log.with(|log| figures(log)));
    let row = move |label: fn(Locale) -> &'static str, value: Signal<String>| {
        view! {
            <dt>{move || label(lang.get())}</dt>
            <dd aria-label=move || label(lang.get())>{value}</dd>
        }
    };
    let from_run = move |f: fn(Locale, &RunView) -> String| {
        Signal::derive(move || {
            let locale = lang.get();
            run.run
                .with(|r| r.as_ref().map(|r| f(locale, r)).unwrap_or_default())
        })
    };
    let from_figures = move |f: fn(Locale, &Figures) -> String| {
        Signal::derive(move || {
            let locale = lang.get();
            figures.with(|figures| f(locale, figures))
        })
    };
    view! {
            <ul class="story" aria-label=tr!(lang, summary.what_happened)>
                {move || {
                    story
                        .get()
                        .into_iter()
                        .map(|line| view! { <li data-code=line.code>{line.message}</li> })
                        .collect_view()
                }}
            </ul>
            <dl class="summary">
                {row(|l| td_string!(l, summary.status), from_run(|l, r| run_status(l, r.status).to_string()))}
                {row(|l| td_string!(l, summary.duration), from_figures(|l, f| td_string!(l, summary.duration_value, ms = f.duration_ms, speed = f.speed).to_string()))}
                {row(|l| td_string!(l, summary.steps), from_figures(|_, f| f.executions.to_string()))}
                {row(|l| td_string!(l, summary.failed_attempts), from_figures(|_, f| f.failed_attempts.to_string()))}
                {row(|l| td_string!(l, summary.retries), from_figures(|_, f| f.retries.to_string()))}
                {row(|l| td_string!(l, summary.compensations), from_figures(|_, f| f.compensations.to_string()))}
                {row(|l| td_string!(l, summary.commands), from_run(|_, r| r.messages.commands.to_string()))}
                {row(|l| td_string!(l, summary.replies), from_run(|_, r| r.messages.replies.to_string()))}
                {row(|l| td_string!(l, summary.events), from_run(|_, r| r.messages.events.to_string()))}
                {row(|l| td_string!(l, summary.deliveries), from_run(|_, r| r.messages.deliveries.to_string()))}
                {row(|l| td_string!(l, summary.orchestrator), from_run(|_, r| r.messages.orchestrator().to_string()))}
            </dl>
    }
    .into_any()
}
