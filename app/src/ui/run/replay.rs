//! The replay tab: scrub a finished run record by record, or play it back at 1× or 4×;
//! the canvas shows the run as it stood.

use leptos::prelude::*;

use crate::model::log::describe;
use crate::ui::client;
use crate::ui::spawn_local;
use crate::ui::state::RunState;

/// Milliseconds of simulated history between replay frames are waited at most this long.
pub const REPLAY_MAX_GAP_MS: i64 = 1_000;

#[component]
pub fn Replay() -> impl IntoView {
    let run = expect_context::<RunState>();

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
        run.log.with(|log| {
            let start = log.first().map_or(0, |r| r.at_ms);
            match at.checked_sub(1).and_then(|i| log.get(i)) {
                Some(r) => format!(
                    "record {at} of {} · +{} ms · {}",
                    log.len(),
                    r.at_ms - start,
                    describe(&r.event).text
                ),
                None => format!("before the first record (of {})", log.len()),
            }
        })
    };
    view! {
        <Show
            when=finished
            fallback=|| view! { <p class="muted">"Replay scrubs a finished run: run one, or open one from Runs."</p> }
        >
            <div class="replay">
                <input
                    type="range"
                    aria-label="Replay position"
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
                <button on:click=move |_| play(1)>"Play 1×"</button>
                <button on:click=move |_| play(4)>"Play 4×"</button>
                <button on:click=move |_| pause()>"Pause"</button>
                <button on:click=move |_| { pause(); run.replay.set(None); }>"End (live view)"</button>
                <p class="replay-at" role="status" aria-label="Replay at">{at_text}</p>
            </div>
        </Show>
    }
}
