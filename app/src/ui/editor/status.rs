//! The status line under the run panel: save state, run state, connection, the run's
//! diagnosis, an edit conflict with its two ways out, and the last failure with the
//! problems the server listed.

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::model::story::unhandled_words;
use crate::model::{Problem, RunEvent, RunRecord, RunStatus};
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{shown_event_name, shown_step};
use crate::ui::common::words::run_status;
use crate::ui::state::{Document, Notice, RunState, Saving};

/// Why the run failed, said from its log (the engine's diagnosis is English): the first
/// step whose failure nobody handled, else the first event the bus lost. (The Summary
/// tells the whole story.)
fn said_diagnosis(locale: Locale, log: &[RunRecord], document: Document) -> String {
    for record in log {
        match &record.event {
            RunEvent::FailureUnhandled {
                node, diagnosis, ..
            } => {
                let label = document.doc.with_untracked(|d| shown_step(locale, d, node));
                return unhandled_words(locale, &label, diagnosis);
            }
            RunEvent::Decided {
                node, to, problem, ..
            } if to.is_empty() => {
                let label = document.doc.with_untracked(|d| shown_step(locale, d, node));
                return td_string!(
                    locale,
                    story.undecided,
                    step = label,
                    problem = problem.clone().unwrap_or_default()
                )
                .to_string();
            }
            RunEvent::EventDropped { name, .. } => {
                let event = document
                    .doc
                    .with_untracked(|d| shown_event_name(locale, d, name));
                return td_string!(locale, story.stalled_short, event = event).to_string();
            }
            _ => {}
        }
    }
    run_status(locale, RunStatus::Failed).into()
}

#[component]
pub fn StatusLine() -> impl IntoView {
    let document = expect_context::<Document>();
    let saving = expect_context::<Saving>();
    let run = expect_context::<RunState>();
    let notice = expect_context::<Notice>();
    let lang = use_lang();
    let run_state = move || {
        run.run.with(|r| match r {
            None => String::new(),
            Some(r) => td_string!(
                lang.get(),
                status.run,
                status = run_status(lang.get(), r.status)
            )
            .to_string(),
        })
    };
    // The engine's diagnosis is English: another language says it from the run's story.
    let diagnosis = move || {
        let english = run
            .run
            .with(|r| r.as_ref().and_then(|r| r.diagnosis.clone()))?;
        let locale = lang.get();
        if locale == Locale::en {
            return Some(english);
        }
        Some(run.log.with(|log| said_diagnosis(locale, log, document)))
    };
    let problems = move || {
        notice
            .failure
            .with(|f| f.as_ref().map(|f| f.problems.clone()).unwrap_or_default())
    };
    view! {
        <footer class="status">
            <span class="save-state" role="status" aria-label=tr!(lang, status.save_state)>{move || saving.save_state(lang.get())}</span>
            <span class="run-state" role="status" aria-label=tr!(lang, status.run_state)>{run_state}</span>
            <span
                class=move || format!("connection connection-{}", run.connection.get().class())
                role="status"
                aria-label=tr!(lang, status.connection)
            >
                {move || run.connection.get().label(lang.get())}
            </span>
            <Show when=move || diagnosis().is_some()>
                <span class="diagnosis" role="status" aria-label=tr!(lang, status.diagnosis)>{diagnosis}</span>
            </Show>
            <Show when=move || saving.conflict.with(Option::is_some)>
                <div class="failure conflict" role="alert" aria-label=tr!(lang, status.conflict_label)>
                    <strong>
                        {move || td_string!(
                            lang.get(),
                            status.conflict,
                            revision = saving.conflict.get().unwrap_or_default()
                        ).to_string()}
                    </strong>
                    " "
                    <button on:click=move |_| saving.reload_theirs()>{tr!(lang, status.reload_theirs)}</button>
                    " "
                    <button on:click=move |_| saving.overwrite_theirs()>{tr!(lang, status.overwrite)}</button>
                </div>
            </Show>
            <Show when=move || notice.failure.with(Option::is_some)>
                <div class="failure" role="alert">
                    <strong>{move || notice.failure.with(|f| f.as_ref().map(|f| f.words(lang.get())))}</strong>
                    <button class="small dismiss" aria-label=tr!(lang, status.dismiss) on:click=move |_| notice.clear()>"×"</button>
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
