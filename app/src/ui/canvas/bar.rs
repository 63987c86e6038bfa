//! The bar above the drawing: zoom, fit and the orchestrator hub, the orchestrator's load
//! during a run, and the legend. It sits above the canvas, so nothing covers a step.

use leptos::prelude::*;

use crate::ui::common::language::use_lang;

use super::legend::Legend;
use crate::ui::state::{Document, RunState, ViewState};

#[component]
pub fn CanvasBar() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let view = expect_context::<ViewState>();
    let viewport = view.viewport;
    let lang = use_lang();
    view! {
    <div class="canvas-bar">
        <div class="zoom" role="group" aria-label=tr!(lang, canvas.zoom)>
            <button aria-label=tr!(lang, canvas.zoom_in) title=tr!(lang, canvas.zoom_in_title) on:click=move |_| view.zoom(1.25)>"+"</button>
            <button aria-label=tr!(lang, canvas.zoom_out) title=tr!(lang, canvas.zoom_out_title) on:click=move |_| view.zoom(0.8)>"−"</button>
            <button aria-label=tr!(lang, canvas.fit_label) title=tr!(lang, canvas.fit_title) on:click=move |_| document.doc.with_untracked(|d| view.fit(d))>{tr!(lang, canvas.fit)}</button>
            <button
                aria-label=tr!(lang, canvas.hub_label)
                title=tr!(lang, canvas.hub_title)
                aria-pressed=move || view.show_orchestrator.get().to_string()
                on:click=move |_| document.doc.with_untracked(|d| view.toggle_hub(d))
            >
                {tr!(lang, canvas.hub)}
            </button>
            <span class="zoom-level" aria-label=tr!(lang, canvas.zoom_level)>
                {move || format!("{:.0}%", viewport.get().k * 100.0)}
            </span>
        </div>
        // The orchestrator's load during a run: every command and reply passes
        // through it; events go over the bus and never touch it.
        <Show when=move || run.run.with(Option::is_some)>
            <div class="orchestrator-load" role="status" aria-label=tr!(lang, canvas.load)>
                {move || run.run.with(|r| {
                    let l = lang.get();
                    let m = r.as_ref().map(|r| r.messages).unwrap_or_default();
                    let down = r.as_ref().is_some_and(|r| r.orchestrator_down);
                    view! {
                        {td_string!(l, canvas.load_orchestrator)} <strong>{m.orchestrator()}</strong> {td_string!(l, canvas.load_messages)}
                        <strong>{m.events + m.deliveries}</strong>
                        {down.then(|| view! { <strong class="orchestrator-down">{td_string!(l, canvas.load_down)}</strong> })}
                    }
                })}
            </div>
        </Show>
        <Legend/>
    </div>
    }
    .into_any()
}
