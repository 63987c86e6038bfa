//! The orchestrator drawn as a hub above the steps, with a spoke to every step it commands
//! and the count of messages that passed through it; it greys out while it is down.

use leptos::prelude::*;

use crate::ui::common::geometry::{Hub, HUB_RADIUS};
use crate::ui::state::RunState;

#[component]
pub fn HubView(hub: Hub) -> impl IntoView {
    let run = expect_context::<RunState>();
    let messages = move || {
        run.run
            .with(|r| r.as_ref().map_or(0, |r| r.messages.orchestrator()))
    };
    let (x, y) = hub.center;
    view! {
        <g class="orchestrator-hub" class:down=move || run.run.with(|r| r.as_ref().is_some_and(|r| r.orchestrator_down))>
            {hub.spokes.into_iter().map(|(id, path)| view! {
                <path class="spoke" id=format!("spoke-{id}") d=path></path>
            }).collect_view()}
            <g
                transform=format!("translate({x:.1} {y:.1})")
                role="img"
                aria-label=move || format!("Orchestrator: {} messages", messages())
            >
                <circle r=HUB_RADIUS></circle>
                <text y="-2" text-anchor="middle">"Orchestrator"</text>
                <text class="hub-count" y="13" text-anchor="middle">{move || format!("{} msgs", messages())}</text>
            </g>
        </g>
    }
}
