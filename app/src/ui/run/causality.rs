//! The causality tab: how visible the run is (where its state lives, how many logs tell
//! its story, its longest causal chain), and for the selected step what started it — back
//! to the run's start — and what it started, by command or by which event.

use leptos::prelude::*;

use crate::model::log::{triggered, triggered_by, visibility, Link};
use crate::ui::common::language::use_lang;
use crate::ui::common::selection::Selection;
use crate::ui::common::templates::shown_step;
use crate::ui::state::{Document, RunState, Selected};

#[component]
pub fn Causality() -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let run = expect_context::<RunState>();

    let selected = Memo::new(move |_| match selection.get() {
        Some(Selection::Node(id)) => Some(id),
        _ => None,
    });
    let lang = use_lang();
    let chain = Memo::new(move |_| {
        let id = selected.get()?;
        let locale = lang.get();
        let (before, after) = run.log.with(|log| {
            let name = |id: &str| document.doc.with(|d| shown_step(locale, d, id));
            (
                triggered_by(log, &id, locale, &name),
                triggered(log, &id, locale),
            )
        });
        (!before.is_empty()).then_some((id, before, after))
    });
    // Steps named by their labels, as the canvas shows them.
    let name = move |id: &str| {
        document
            .doc
            .with_untracked(|d| shown_step(lang.get_untracked(), d, id))
    };
    let link = move |l: Link| view! { <li><strong>{name(&l.node)}</strong>" — "{l.how}</li> };
    let seen = Memo::new(move |_| {
        run.log.with(|log| {
            (!log.is_empty()).then(|| {
                document
                    .doc
                    .with(|doc| visibility(log.iter().map(|r| &r.event), doc))
            })
        })
    });
    view! {
        {move || seen.get().map(|v| view! {
            <p class="visibility" role="status" aria-label=tr!(lang, run.visibility.label)>
                {move || td_string!(lang.get(), run.visibility.line, places = v.state_places, logs = v.logs_to_read, chain = v.longest_chain).to_string()}
            </p>
        })}
        <Show
            when=move || chain.with(Option::is_some)
            fallback=move || view! { <p class="muted">{tr!(lang, causality.none)}</p> }
        >
            {move || chain.get().map(|(id, before, after)| view! {
                <div class="causality">
                    <h3>{td_string!(lang.get_untracked(), causality.what_started, step = name(&id)).to_string()}</h3>
                    <ol aria-label=tr!(lang, causality.triggered_by)>{before.into_iter().map(link).collect_view()}</ol>
                    <h3>{td_string!(lang.get_untracked(), causality.what_it_started, step = name(&id)).to_string()}</h3>
                    <Show when={let empty = after.is_empty(); move || empty}>
                        <p class="muted">{tr!(lang, causality.nothing)}</p>
                    </Show>
                    <ul aria-label=tr!(lang, causality.triggered)>{after.into_iter().map(link).collect_view()}</ul>
                </div>
            })}
        </Show>
    }
}
