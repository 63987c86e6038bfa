//! The bar above the drawing: zoom, fit and the orchestrator hub, the orchestrator's load
//! during a run, and the legend. It sits above the canvas, so nothing covers a step.

use leptos::prelude::*;

use super::legend::Legend;
use crate::ui::state::{Document, RunState, ViewState};

#[component]
pub fn CanvasBar() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let view = expect_context::<ViewState>();
    let viewport = view.viewport;
    view! {
    <div class="canvas-bar">
        <div class="zoom" role="group" aria-label="Zoom">
            <button aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| view.zoom(1.25)>"+"</button>
            <button aria-label="Zoom out" title="Zoom out (-)" on:click=move |_| view.zoom(0.8)>"−"</button>
            <button aria-label="Fit to view" title="Fit to view (F)" on:click=move |_| document.doc.with_untracked(|d| view.fit(d))>"Fit"</button>
            <button
                aria-label="Show the orchestrator"
                title="Draw the orchestrator as the hub every command passes through (H)"
                aria-pressed=move || view.show_orchestrator.get().to_string()
                on:click=move |_| document.doc.with_untracked(|d| view.toggle_hub(d))
            >
                "Hub"
            </button>
            <span class="zoom-level" aria-label="Zoom level">
                {move || format!("{:.0}%", viewport.get().k * 100.0)}
            </span>
        </div>
        // The orchestrator's load during a run: every command and reply passes
        // through it; events go over the bus and never touch it.
        <Show when=move || run.run.with(Option::is_some)>
            <div class="orchestrator-load" role="status" aria-label="Orchestrator load">
                {move || run.run.with(|r| {
                    let m = r.as_ref().map(|r| r.messages).unwrap_or_default();
                    let down = r.as_ref().is_some_and(|r| r.orchestrator_down);
                    view! {
                        "Orchestrator: " <strong>{m.orchestrator()}</strong> " messages · bus: "
                        <strong>{m.events + m.deliveries}</strong>
                        {down.then(|| view! { <strong class="orchestrator-down">" · orchestrator DOWN: commands wait"</strong> })}
                    }
                })}
            </div>
        </Show>
        <Legend/>
    </div>
    }
    .into_any()
}
