//! The replay tab: scrub a finished run record by record, or play it back at 1× or 4×;
//! the canvas shows the run as it stood.

use leptos::prelude::*;

use crate::model::log::{describe_named, speed};
use crate::ui::client;
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{shown_event_name, shown_step};
use crate::ui::spawn_local;
use crate::ui::state::{Document, RunState};

/// Milliseconds of simulated history between replay frames are waited at most this long.
pub const REPLAY_MAX_GAP_MS: i64 = 1_000;

#[component]
pub fn Replay() -> impl IntoView {
    let run = expect_context::<RunState>();
    let document = expect_context::<Document>();
    let lang = use_lang();

    let total = move || run.log.with(Vec::len);
    let finished = move || {
        run.run
            .with(|r| r.as_ref().is_some_and(|r| r.status.is_final()))
    };
    // Each play (or pause) takes a new token; a playback stops when its token is stale.
    let token = StoredValue::new(0u64);
    let play = move |speed: i64| {
        let mine = token.get_value() + 1;
        token.set_value(mine);
        if run.replay.get_untracked().is_none_or(|at| at >= total()) {
            run.replay.set(Some(0));
        }
        spawn_local(async move {
            loop {
                let Some(at) = run.replay.get_untracked() else {
                    return;
                };
                if token.get_value() != mine || at >= total() {
                    return;
                }
                let gap = run.log.with_untracked(|log| {
                    match (at.checked_sub(1).and_then(|i| log.get(i)), log.get(at)) {
                        (Some(a), Some(b)) => (b.at_ms - a.at_ms).clamp(0, REPLAY_MAX_GAP_MS),
                        _ => 0,
                    }
                });
                client::sleep_ms((gap / speed).max(16) as u32).await;
                if token.get_value() != mine {
                    return;
                }
                run.replay.set(Some(at + 1));
            }
        });
    };
    let pause = move || token.set_value(token.get_value() + 1);
    let position = move || run.replay.get().unwrap_or_else(total);
    let at_text = move || {
        let at = position();
        let locale = lang.get();
        run.log.with(|log| {
            let start = log.first().map_or(0, |r| r.at_ms);
            match at.checked_sub(1).and_then(|i| log.get(i)) {
                Some(r) => td_string!(
                    locale,
                    replay.at,
                    at = at,
                    total = log.len(),
                    ms = ((r.at_ms - start) as f64 * speed(log)).round() as i64,
                    text = describe_named(
                        &r.event,
                        locale,
                        &|id| document.doc.with(|d| shown_step(locale, d, id)),
                        &|name| document.doc.with(|d| shown_event_name(locale, d, name)),
                    )
                    .text
                )
                .to_string(),
                None => td_string!(locale, replay.before, total = log.len()).to_string(),
            }
        })
    };
    view! {
        <Show
            when=finished
            fallback=move || view! { <p class="muted">{tr!(lang, replay.none)}</p> }
        >
            <div class="replay">
                <input
                    type="range"
                    aria-label=tr!(lang, replay.position)
                    min="0"
                    max=total
                    prop:value=move || position().to_string()
                    on:input=move |ev| {
                        pause();
                        if let Ok(at) = event_target_value(&ev).parse::<usize>() {
                            run.replay.set(Some(at));
                        }
                    }
                />
                <button on:click=move |_| play(1)>{tr!(lang, replay.play1)}</button>
                <button on:click=move |_| play(4)>{tr!(lang, replay.play4)}</button>
                <button on:click=move |_| pause()>{tr!(lang, replay.pause)}</button>
                <button on:click=move |_| { pause(); run.replay.set(None); }>{tr!(lang, replay.end)}</button>
                <p class="replay-at" role="status" aria-label=tr!(lang, replay.at_label)>{at_text}</p>
            </div>
        </Show>
    }
}
