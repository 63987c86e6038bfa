//! The canvas's legend: what a command, an event, a shared publish and a failure route look
//! like. It folds away to one button, so it never covers steps.

use leptos::prelude::*;

use crate::ui::common::language::use_lang;

#[component]
pub fn Legend() -> impl IntoView {
    let lang = use_lang();
    view! {
        <details class="legend">
            <summary>{tr!(lang, canvas.legend)}</summary>
            <div class="legend-items" aria-label=tr!(lang, canvas.legend)>
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="36" y2="6" class="legend-command"></line>
                    <path d="M 34 1 L 44 6 L 34 11 z" class="arrow-command"></path>
                    <g class="conductor-mark" transform="translate(18 6)">
                        <circle r="5"></circle>
                        <path d="M -2.5 1.5 L 2.5 -2.5"></path>
                    </g>
                </svg>
                {tr!(lang, canvas.legend_command)}
            </span>
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="38" y2="6" class="legend-event"></line>
                    <path d="M 35 1 L 44 6 L 35 11" class="arrow-event"></path>
                </svg>
                {tr!(lang, canvas.legend_event)}
            </span>
            <span class="legend-item">
                <svg width="46" height="22" aria-hidden="true">
                    <path d="M 2 11 L 14 11 C 26 11, 26 3, 38 3 M 14 11 C 26 11, 26 19, 38 19" class="legend-event" fill="none"></path>
                    <circle cx="14" cy="11" r="3" class="publish-point"></circle>
                </svg>
                {tr!(lang, canvas.legend_fan)}
            </span>
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="36" y2="6" class="legend-failure"></line>
                    <path d="M 34 1 L 44 6 L 34 11 z" class="arrow-failure"></path>
                </svg>
                {tr!(lang, canvas.legend_failure)}
            </span>
        </div>
        </details>
    }
    .into_any()
}
