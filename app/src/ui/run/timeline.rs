//! The run's timeline drawn: one lane per step, a bar per attempt coloured by its outcome,
//! arrows for messages, bands for faults (laid out by [`crate::model::timeline`]). Zoom with
//! the buttons, scroll sideways; hovering a bar or an arrow shows its exact times.

use leptos::prelude::*;

use crate::ui::common::geometry::fitted;
use crate::ui::common::templates::shown_step;

use crate::model::timeline::timeline;
use crate::ui::common::language::use_lang;
use crate::ui::state::{Document, RunState};

/// Height of one lane, and the width of the step names before the time axis.
const LANE: f64 = 24.0;
const NAMES: f64 = 130.0;
/// At zoom 1 the whole run fits this many pixels (then ×/÷ 2 per click, within bounds).
const FIT_WIDTH: f64 = 800.0;
const MIN_ZOOM: f64 = 1.0 / 64.0;
const MAX_ZOOM: f64 = 16.0;

#[component]
pub fn TimelineView() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let zoom = RwSignal::new(1.0f64);
    let lang = use_lang();
    let layout = Memo::new(move |_| {
        let locale = lang.get();
        let steps: Vec<String> = document
            .doc
            .with(|d| d.nodes.iter().map(|n| n.id.clone()).collect());
        run.log.with(|log| timeline(log, &steps, locale))
    });
    let scale = move || {
        let span = layout.with(|t| t.span).max(1) as f64;
        (FIT_WIDTH / span).clamp(0.005, 8.0) * zoom.get()
    };
    let x = move |ms: i64| NAMES + ms as f64 * scale();
    let y = |lane: usize| lane as f64 * LANE + 4.0;
    view! {
        <div class="timeline-tools" role="group" aria-label=tr!(lang, timeline.zoom)>
            <button aria-label=tr!(lang, timeline.zoom_in) on:click=move |_| zoom.update(|z| *z = (*z * 2.0).min(MAX_ZOOM))>"+"</button>
            <button aria-label=tr!(lang, timeline.zoom_out) on:click=move |_| zoom.update(|z| *z = (*z / 2.0).max(MIN_ZOOM))>"−"</button>
            <span class="muted">{move || td_string!(lang.get(), timeline.axis, ms = layout.with(|t| t.span), scale = format!("{:.2}", scale())).to_string()}</span>
        </div>
        <div class="timeline-scroll">
            <svg
                class="timeline"
                role="img"
                aria-label=tr!(lang, timeline.label)
                width=move || x(layout.with(|t| t.span)) + 40.0
                height=move || layout.with(|t| t.lanes.len()) as f64 * LANE + 8.0
            >
                {move || layout.with(|t| {
                    // Lanes named by the steps' labels, as the canvas shows them.
                    let locale = lang.get();
                    let label = |id: &str| document.doc.with_untracked(|d| {
                        fitted(&shown_step(locale, d, id), NAMES - 8.0, 11.0, false)
                    });
                    let lanes = t.lanes.iter().enumerate().map(|(i, id)| view! {
                        <text class="lane-name" x="4" y=y(i) + 15.0>
                            <title>{id.clone()}</title>
                            {label(id)}
                        </text>
                        <line class="lane" x1=NAMES x2="100000" y1=y(i) + LANE - 2.0 y2=y(i) + LANE - 2.0></line>
                    }).collect_view();
                    let bars = t.bars.iter().map(|b| view! {
                        <rect
                            class=format!("bar bar-{}", b.outcome.as_str())
                            data-lane=t.lanes[b.lane].clone()
                            x=x(b.start)
                            y=y(b.lane) + 3.0
                            width=((b.end - b.start) as f64 * scale()).max(3.0)
                            height=LANE - 8.0
                            rx="3"
                        >
                            <title>{b.label.clone()}</title>
                        </rect>
                    }).collect_view();
                    let arrows = t.arrows.iter().map(|a| {
                        let (from, to) = (y(a.from) + LANE / 2.0, y(a.to) + LANE / 2.0);
                        view! {
                            <line
                                class=format!("arrow arrow-{}", a.kind.as_str())
                                x1=x(a.at) y1=from x2=x(a.at) y2=to
                            >
                                <title>{a.label.clone()}</title>
                            </line>
                            <circle class=format!("arrow-head arrow-{}", a.kind.as_str()) cx=x(a.at) cy=to r="2.5"></circle>
                        }
                    }).collect_view();
                    let height = t.lanes.len() as f64 * LANE + 4.0;
                    let faults = t.faults.iter().map(|f| view! {
                        <rect
                            class=format!("fault fault-{}", f.kind.as_str())
                            x=x(f.start)
                            y="0"
                            width=((f.end - f.start) as f64 * scale()).max(2.0)
                            height=height
                        >
                            <title>{f.label.clone()}</title>
                        </rect>
                    }).collect_view();
                    view! { {faults} {lanes} {bars} {arrows} }
                })}
            </svg>
        </div>
    }
}
