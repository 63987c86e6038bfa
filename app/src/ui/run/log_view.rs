//! The log tab: every record of the run in words, newest first, filtered by text, kind and
//! step; "Follow" off freezes it where it is.

use leptos::prelude::*;

use crate::model::log::{describe_named, kind_words, speed, LogKind};
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{shown_event_name, shown_step};
use crate::ui::state::{Document, RunState};

/// The newest log entries drawn (the summary counts them all).
pub const LOG_SHOWN: usize = 500;

#[component]
pub fn Log() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let lang = use_lang();

    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let step = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    // With follow off, the log stays as it was when it was turned off.
    let frozen_at = RwSignal::new(usize::MAX);
    // The step filter: each step by its label, chosen by its id.
    let steps = move || {
        document.doc.with(|d| {
            d.nodes
                .iter()
                .map(|n| (n.id.clone(), shown_step(lang.get(), d, &n.id)))
                .collect::<Vec<_>>()
        })
    };
    let lines = Memo::new(move |_| {
        let text = text.get().to_lowercase();
        let kind = kind.get();
        let step = step.get();
        let limit = frozen_at.get();
        let locale = lang.get();
        let label = |id: &str| document.doc.with(|d| shown_step(locale, d, id));
        let event = |name: &str| document.doc.with(|d| shown_event_name(locale, d, name));
        run.log.with(|log| {
            let start = log.first().map_or(0, |r| r.at_ms);
            let speed = speed(log);
            log.iter()
                .take(limit)
                .rev()
                .filter_map(|r| {
                    let line = describe_named(&r.event, locale, &label, &event);
                    let (k, nodes, words) = (line.kind, line.steps, line.text);
                    let keep = (kind.is_empty() || k.as_str() == kind)
                        && (step.is_empty() || nodes.contains(&step.as_str()))
                        && (text.is_empty() || words.to_lowercase().contains(&text));
                    let at = ((r.at_ms - start) as f64 * speed).round() as i64;
                    keep.then_some((r.seq, at, k, words))
                })
                .take(LOG_SHOWN)
                .collect::<Vec<_>>()
        })
    });
    view! {
        <div class="log-tools">
            <input
                aria-label=tr!(lang, log_view.filter)
                placeholder=tr!(lang, log_view.filter_text)
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <select aria-label=tr!(lang, log_view.kind) on:change=move |ev| kind.set(event_target_value(&ev))>
                <option value="">{tr!(lang, log_view.every_kind)}</option>
                {LogKind::ALL
                    .iter()
                    .map(|k| view! { <option value=k.as_str()>{move || kind_words(lang.get(), *k)}</option> })
                    .collect_view()}
            </select>
            <select aria-label=tr!(lang, log_view.step) on:change=move |ev| step.set(event_target_value(&ev))>
                <option value="">{tr!(lang, log_view.every_step)}</option>
                {move || steps().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
            </select>
            <label class="checkbox">
                <input
                    type="checkbox"
                    aria-label=tr!(lang, log_view.follow)
                    prop:checked=move || follow.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        follow.set(on);
                        frozen_at.set(if on { usize::MAX } else { run.log.with_untracked(Vec::len) });
                    }
                />
                <span>{tr!(lang, log_view.follow)}</span>
            </label>
        </div>
        <ol class="log" aria-label=tr!(lang, log_view.label)>
            <For each=move || lines.get() key=|l| l.0 let:line>
                <li class=format!("log-{}", line.2.as_str()) data-seq=line.0>
                    <span class="log-seq">{format!("#{}", line.0)}</span>
                    <span class="log-time">{move || td_string!(lang.get(), log_view.time, ms = line.1).to_string()}</span>
                    <span class="log-kind">{move || kind_words(lang.get(), line.2)}</span>
                    <span class="log-text">{line.3}</span>
                </li>
            </For>
        </ol>
    }
}
