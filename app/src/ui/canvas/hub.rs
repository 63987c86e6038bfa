//! The orchestrator drawn as a hub above the steps, with a spoke to every step it commands
//! and the count of messages that passed through it; it greys out while it is down.

use leptos::prelude::*;

use crate::ui::common::language::use_lang;

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
    let lang = use_lang();
    view! {
        <g class="orchestrator-hub" class:down=move || run.run.with(|r| r.as_ref().is_some_and(|r| r.orchestrator_down))>
            {hub.spokes.into_iter().map(|(id, path)| view! {
                <path class="spoke" id=format!("spoke-{id}") d=path></path>
            }).collect_view()}
            <g
                transform=format!("translate({x:.1} {y:.1})")
                role="img"
                aria-label=move || td_string!(lang.get(), canvas.hub_aria, count = messages()).to_string()
            >
                <circle r=HUB_RADIUS></circle>
                <text y="-2" text-anchor="middle">{tr!(lang, canvas.hub_name)}</text>
                <text class="hub-count" y="13" text-anchor="middle">{move || td_string!(lang.get(), canvas.hub_count, count = messages()).to_string()}</text>
            </g>
        </g>
    }
}
