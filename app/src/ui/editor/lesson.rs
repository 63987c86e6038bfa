//! A template's lesson on the editor: for a workflow made from a shipped template, a note
//! above the canvas says what the template shows and what to try, with one button per
//! scenario ("Happy path", "Card expired", "Out of stock") that sets the run's input and
//! runs it (at the speed control's speed, which opening the template set slow enough to
//! watch). Dismissed, it stays hidden for that workflow (remembered in the browser).
//!
//! Until it is read (dismissed, or the user went on to a template or the lessons) the same
//! place holds the introduction: draw, run, break, compare — and the way to the lessons;
//! once read, one line of it stays on an empty canvas, and opens again.
//!
//! Both are lazily loaded chunks: the server never renders them (the page opens its
//! workflow in the browser).

use leptos::prelude::*;

use super::commands::Commands;
use crate::model::examples::template;
use crate::ui::client;
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{scenario_name, template_lesson, template_title};
use crate::ui::common::INTRO_READ_KEY;

/// Where a dismissed note is remembered, per workflow id.
const DISMISSED_KEY: &str = "hybridflow.lesson-dismissed.";

/// What the slot above the canvas shows.
#[derive(Clone, PartialEq)]
enum Shown {
    Lesson(String),
    /// The introduction: whole until it is read (dismissed), then one line on an empty canvas.
    Intro {
        read: bool,
    },
}

fn dismissed(workflow_id: &str) -> bool {
    client::local_get(&format!("{DISMISSED_KEY}{workflow_id}")).is_some()
}

/// The note's place above the canvas (empty unless the open workflow has a lesson).
#[component]
pub fn LessonNote(commands: Commands) -> impl IntoView {
    let document = commands.document;
    // Bumped by a dismissal, so the note goes at once.
    let dismissals = RwSignal::new(0u32);
    // Effects run only in the browser: the server renders an empty slot (what the browser
    // remembers decides what the slot shows, and the chunks load there).
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let shown = Memo::new(move |_| {
        dismissals.track();
        if !in_browser.get() {
            return None;
        }
        // Decided when a workflow opens, not at each edit: the canvas does not jump while
        // the user draws.
        document.opened.track();
        let id = document.workflow_id.get_untracked();
        let read = client::local_get(INTRO_READ_KEY).is_some();
        if !read {
            return Some(Shown::Intro { read });
        }
        match document.doc.with_untracked(|d| d.template.clone()) {
            Some(key) if template(&key).is_some() => {
                (!id.as_deref().is_some_and(dismissed)).then_some(Shown::Lesson(key))
            }
            _ => (id.is_none() && document.doc.with_untracked(|d| d.nodes.is_empty()))
                .then_some(Shown::Intro { read }),
        }
    });
    view! {
        <div class="lesson-slot">
            {move || {
                shown
                    .get()
                    .map(|shown| match shown {
                        Shown::Lesson(key) => Suspend::new(lesson(commands, key, dismissals)).into_any(),
                        Shown::Intro { read } => Suspend::new(intro(dismissals, read)).into_any(),
                    })
            }}
        </div>
    }
}

#[lazy]
fn intro(dismissals: RwSignal<u32>, read: bool) -> AnyView {
    let lang = use_lang();
    let hide = move |_| {
        client::local_set(INTRO_READ_KEY, "1");
        dismissals.update(|n| *n += 1);
    };
    // Once read, one line that opens to the whole introduction again.
    let expanded = RwSignal::new(false);
    if read {
        return view! {
            <Show
                when=move || expanded.get()
                fallback=move || {
                    view! {
                        <aside class="lesson-note intro-line" aria-label=tr!(lang, intro.line_label)>
                            <p>
                                <strong>{tr!(lang, intro.heading)}</strong>
                                " "
                                <a href="/learn">{tr!(lang, intro.learn)}</a>
                            </p>
                            <button class="small" aria-expanded="false" on:click=move |_| expanded.set(true)>
                                {tr!(lang, intro.more)}
                            </button>
                        </aside>
                    }
                }
            >
                <IntroWhole on_hide=Callback::new(move |()| expanded.set(false))/>
            </Show>
        }
        .into_any();
    }
    view! { <IntroWhole on_hide=Callback::new(move |()| hide(()))/> }.into_any()
}

/// The whole introduction, and its × (which marks it read).
#[component]
fn IntroWhole(on_hide: Callback<()>) -> impl IntoView {
    let lang = use_lang();
    let hide = move |_| on_hide.run(());
    view! {
        <aside class="lesson-note intro" aria-label=tr!(lang, intro.label)>
            <div>
                <p><strong>{tr!(lang, intro.heading)}</strong></p>
                <ol class="intro-steps">
                    <li>{tr!(lang, intro.draw)}</li>
                    <li>{tr!(lang, intro.run)}</li>
                    <li>{tr!(lang, intro.break_it)}</li>
                    <li>{tr!(lang, intro.compare)}</li>
                </ol>
                <p class="scenarios">
                    <a class="button primary" href="/learn">{tr!(lang, intro.learn)}</a>
                    <span class="hint">{tr!(lang, intro.templates)}</span>
                </p>
            </div>
            <button
                class="dismiss"
                aria-label=tr!(lang, intro.dismiss)
                title=tr!(lang, intro.dismiss)
                on:click=hide
            >
                "×"
            </button>
        </aside>
    }
    .into_any()
}

#[lazy]
fn lesson(commands: Commands, key: String, dismissals: RwSignal<u32>) -> AnyView {
    let Some(example) = template(&key) else {
        return ().into_any();
    };
    let run = commands.run;
    let lang = use_lang();
    let hide = move |_| {
        if let Some(id) = commands.document.workflow_id.get_untracked() {
            client::local_set(&format!("{DISMISSED_KEY}{id}"), "1");
        }
        dismissals.update(|n| *n += 1);
    };
    view! {
        <aside class="lesson-note" aria-label=tr!(lang, templates.what_to_try)>
            <p>
                <strong>{move || template_title(lang.get(), example.key)}</strong>
                " — "
                {move || template_lesson(lang.get(), example.key)}
            </p>
            <div class="scenarios" role="group" aria-label=tr!(lang, templates.scenarios)>
                {move || {
                    commands
                        .document
                        .doc
                        .with(|w| w.scenarios.clone())
                        .into_iter()
                        .map(|scenario| {
                            let input = scenario.input_text();
                            let name = scenario.name.clone();
                            let key = scenario.key.clone();
                            let seed = scenario.seed;
                            let title = input.clone();
                            view! {
                                <button
                                    title=move || td_string!(lang.get(), templates.runs_with, input = title.clone()).to_string()
                                    disabled=move || run.running()
                                    on:click=move |_| {
                                        commands.form.input.set(input.clone());
                                        if let Some(seed) = seed {
                                            commands.form.seed.set(seed.to_string());
                                        }
                                        commands.start_run();
                                    }
                                >
                                    {move || format!("▶ {}", scenario_name(lang.get(), key.as_deref(), &name))}
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </div>
            <button
                class="dismiss"
                aria-label=tr!(lang, templates.dismiss)
                title=tr!(lang, templates.dismiss)
                on:click=hide
            >
                "×"
            </button>
        </aside>
    }
    .into_any()
}
