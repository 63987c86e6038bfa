//! Messages in flight drawn on the canvas: a dot travelling along its edge (a reply travels
//! back), or along the hub's spoke when the orchestrator is drawn.

use leptos::prelude::*;

use crate::ui::common::pulse::{Pulse, PULSE_MS};

/// A message travelling along its edge (a reply travels back).
#[component]
pub fn PulseView(pulse: Pulse, begin: f64, via_hub: bool) -> impl IntoView {
    let path = if via_hub {
        format!("#spoke-{}", pulse.step)
    } else {
        format!("#edge-path-{}", pulse.edge)
    };
    let (points, times) = if pulse.back {
        ("1;0", "0;1")
    } else {
        ("0;1", "0;1")
    };
    view! {
        <circle class=format!("pulse pulse-{}", pulse.kind.as_str()) r="5" cx="0" cy="0">
            <animateMotion
                begin=format!("{begin:.3}s")
                dur=format!("{}ms", PULSE_MS)
                fill="freeze"
                calcMode="linear"
                keyPoints=points
                keyTimes=times
            >
                <mpath href=path></mpath>
            </animateMotion>
        </circle>
    }
}
