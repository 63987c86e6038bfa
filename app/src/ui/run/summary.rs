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
use crate::ui::common::words::{editor_url, run_status};
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
            <RelatedRuns/>
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

/// The runs the open run is tied to by sub-flows: the run whose step started it (when it
/// is a child), and the child runs its sub-flow steps started (and their undo runs) —
/// each a link that opens it.
#[component]
fn RelatedRuns() -> impl IntoView {
    let run = expect_context::<RunState>();
    let document = expect_context::<Document>();
    let lang = use_lang();
    let parent = Memo::new(move |_| {
        let id = run.run_id.get()?;
        run.runs.with(|runs| {
            runs.iter()
                .find(|r| r.id == id)
                .and_then(|r| r.parent.clone())
        })
    });
    let children = Memo::new(move |_| {
        run.shown_run
            .with(|r| r.as_ref().map(|r| r.children.clone()).unwrap_or_default())
    });
    let label = move |node: &str| {
        document.doc.with(|d| {
            d.nodes
                .iter()
                .find(|n| n.id == node)
                .map_or_else(|| node.to_string(), |n| n.label.clone())
        })
    };
    view! {
        <Show when=move || parent.with(Option::is_some) || children.with(|c| !c.is_empty())>
            <ul class="related-runs" aria-label=tr!(lang, summary.related)>
                {move || parent.get().map(|p| {
                    let href = editor_url(&p.workflow_id, Some(&p.run));
                    let short = crate::model::log::short_run(&p.run);
                    let node = p.node.clone();
                    view! {
                        <li class="parent-run">
                            {move || td_string!(lang.get(), summary.started_by, step = node.clone(), run = short.clone())}
                            " "
                            <a href=href>{tr!(lang, summary.open_parent)}</a>
                        </li>
                    }
                })}
                {move || children.get().into_iter().map(|(node, child)| {
                    let step = label(&node);
                    // The editor asks the server which workflow a run is of (a sub-flow
                    // may name its workflow by name).
                    let href = format!("/?run={}", child.run);
                    let short = crate::model::log::short_run(&child.run);
                    let status = child.status;
                    let undo = child.undo.clone().map(|undo| {
                        let href = format!("/?run={undo}");
                        view! { " · " <a href=href>{tr!(lang, summary.open_undo)}</a> }
                    });
                    view! {
                        <li class="child-run">
                            {move || {
                                let l = lang.get();
                                let status = status.map_or_else(
                                    || td_string!(l, state.running),
                                    |s| crate::model::log::status_words(l, s),
                                );
                                td_string!(l, summary.child_run, step = step.clone(), run = short.clone(), status = status)
                            }}
                            " "
                            <a href=href>{tr!(lang, summary.open_child)}</a>
                            {undo}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
    }
}
