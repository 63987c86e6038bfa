//! The run's timeline: one lane per step, a bar per attempt coloured by its outcome (retry
//! gaps show between them), compensations as their own bars, and every command and event
//! delivery as an arrow between the lanes at the moment it happened. Zoom with the buttons,
//! scroll sideways; hovering a bar or an arrow shows its exact times.

use leptos::prelude::*;

use super::editor::Editor;
use crate::model::{RunEvent, RunRecord};

/// Height of one lane, and the width of the step names before the time axis.
const LANE: f64 = 24.0;
const NAMES: f64 = 130.0;
/// At zoom 1 the whole run fits this many pixels (then ×/÷ 2 per click, within bounds).
const FIT_WIDTH: f64 = 800.0;
const MIN_ZOOM: f64 = 1.0 / 64.0;
const MAX_ZOOM: f64 = 16.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub lane: usize,
    /// Milliseconds since the run's first record.
    pub start: i64,
    pub end: i64,
    /// `succeeded`, `failed`, `running`, `compensated`, `compensating`.
    pub outcome: &'static str,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub from: usize,
    pub to: usize,
    pub at: i64,
    /// `command` or `event`.
    pub kind: &'static str,
    pub label: String,
}

/// A fault on the timeline: an orchestrator outage is a band across every lane; a lost
/// event or a change of faults is a moment (`start == end`).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultMark {
    pub start: i64,
    pub end: i64,
    /// `outage`, `dropped` or `changed`.
    pub kind: &'static str,
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub lanes: Vec<String>,
    pub bars: Vec<Bar>,
    pub arrows: Vec<Arrow>,
    pub faults: Vec<FaultMark>,
    /// The run's length so far, in milliseconds.
    pub span: i64,
}

/// Lays out a run's history: steps in the order given (then any others as they appear).
pub fn timeline(log: &[RunRecord], steps: &[String]) -> Timeline {
    let mut t = Timeline {
        lanes: steps.to_vec(),
        ..Default::default()
    };
    let Some(t0) = log.first().map(|r| r.at_ms) else {
        return t;
    };
    let end = log.last().map_or(t0, |r| r.at_ms) - t0;
    t.span = end;
    let lane = |lanes: &mut Vec<String>, id: &str| match lanes.iter().position(|l| l == id) {
        Some(i) => i,
        None => {
            lanes.push(id.to_string());
            lanes.len() - 1
        }
    };
    // Open bars per lane: (index into bars).
    let mut open: std::collections::HashMap<usize, usize> = Default::default();
    // A bar that lasts until its outcome arrives (to the run's end so far if none has).
    let begin = |t: &mut Timeline,
                 open: &mut std::collections::HashMap<usize, usize>,
                 node: &str,
                 at: i64,
                 outcome: &'static str,
                 label: String| {
        let l = lane(&mut t.lanes, node);
        open.insert(l, t.bars.len());
        t.bars.push(Bar {
            lane: l,
            start: at,
            end: end.max(at),
            outcome,
            label,
        });
    };
    for r in log {
        let at = r.at_ms - t0;
        let mut close = |t: &mut Timeline, node: &str, outcome: &'static str, what: &str| {
            let l = lane(&mut t.lanes, node);
            if let Some(i) = open.remove(&l) {
                let bar = &mut t.bars[i];
                bar.end = at;
                bar.outcome = outcome;
                bar.label = format!(
                    "{} {what}: +{} ms → +{at} ms ({} ms)",
                    bar.label,
                    bar.start,
                    at - bar.start
                );
            }
        };
        match &r.event {
            RunEvent::StepStarted { node, attempt, .. } => {
                let label = format!("{node} attempt {attempt}");
                begin(&mut t, &mut open, node, at, "running", label)
            }
            RunEvent::StepSucceeded { node, .. } => close(&mut t, node, "succeeded", "succeeded"),
            RunEvent::AttemptFailed { node, .. } | RunEvent::StepFailed { node, .. } => {
                close(&mut t, node, "failed", "failed")
            }
            RunEvent::CompensationStarted { node, action } => {
                let label = format!("{node} compensation {action}");
                begin(&mut t, &mut open, node, at, "compensating", label)
            }
            RunEvent::StepCompensated { node, .. } => {
                close(&mut t, node, "compensated", "compensated")
            }
            RunEvent::CompensationFailed { node, .. } => close(&mut t, node, "failed", "failed"),
            RunEvent::CommandSent { from, to, .. } => {
                let (f, d) = (lane(&mut t.lanes, from), lane(&mut t.lanes, to));
                t.arrows.push(Arrow {
                    from: f,
                    to: d,
                    at,
                    kind: "command",
                    label: format!("command {from} → {to} at +{at} ms (through the orchestrator)"),
                });
            }
            RunEvent::OrchestratorCrashed { for_ms, .. } => t.faults.push(FaultMark {
                start: at,
                end: end.max(at),
                kind: "outage",
                label: format!(
                    "orchestrator down from +{at} ms (for {for_ms} ms of simulated time)"
                ),
            }),
            RunEvent::OrchestratorRecovered { standby, .. } => {
                if let Some(mark) = t.faults.iter_mut().rev().find(|f| f.kind == "outage") {
                    mark.end = at;
                    mark.label = format!(
                        "orchestrator down +{} ms → +{at} ms ({} ms), {}",
                        mark.start,
                        at - mark.start,
                        if *standby {
                            "then its standby took over"
                        } else {
                            "then it came back"
                        }
                    );
                }
            }
            RunEvent::EventDropped { name, to, .. } => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: "dropped",
                label: format!("{name} to {to} lost by the bus at +{at} ms"),
            }),
            RunEvent::RunStarted { faults, .. } if !faults.is_none() => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: "changed",
                label: format!("started with faults: {}", faults.describe()),
            }),
            RunEvent::FaultsChanged { faults } => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: "changed",
                label: format!("faults at +{at} ms: {}", faults.describe()),
            }),
            RunEvent::EventDelivered { from, to, name, .. } => {
                let (f, d) = (lane(&mut t.lanes, from), lane(&mut t.lanes, to));
                t.arrows.push(Arrow {
                    from: f,
                    to: d,
                    at,
                    kind: "event",
                    label: format!("{name} {from} → {to} at +{at} ms"),
                });
            }
            _ => {}
        }
    }
    t
}

#[component]
pub fn TimelineView(editor: Editor) -> impl IntoView {
    let zoom = RwSignal::new(1.0f64);
    let layout = Memo::new(move |_| {
        let steps: Vec<String> = editor
            .doc
            .with(|d| d.nodes.iter().map(|n| n.id.clone()).collect());
        editor.log.with(|log| timeline(log, &steps))
    });
    let scale = move || {
        let span = layout.with(|t| t.span).max(1) as f64;
        (FIT_WIDTH / span).clamp(0.005, 8.0) * zoom.get()
    };
    let x = move |ms: i64| NAMES + ms as f64 * scale();
    let y = |lane: usize| lane as f64 * LANE + 4.0;
    view! {
        <div class="timeline-tools" role="group" aria-label="Timeline zoom">
            <button aria-label="Timeline zoom in" on:click=move |_| zoom.update(|z| *z = (*z * 2.0).min(MAX_ZOOM))>"+"</button>
            <button aria-label="Timeline zoom out" on:click=move |_| zoom.update(|z| *z = (*z / 2.0).max(MIN_ZOOM))>"−"</button>
            <span class="muted">{move || format!("{} ms shown at {:.2} px/ms", layout.with(|t| t.span), scale())}</span>
        </div>
        <div class="timeline-scroll">
            <svg
                class="timeline"
                role="img"
                aria-label="Run timeline"
                width=move || x(layout.with(|t| t.span)) + 40.0
                height=move || layout.with(|t| t.lanes.len()) as f64 * LANE + 8.0
            >
                {move || layout.with(|t| {
                    let lanes = t.lanes.iter().enumerate().map(|(i, id)| view! {
                        <text class="lane-name" x="4" y=y(i) + 15.0>{id.clone()}</text>
                        <line class="lane" x1=NAMES x2="100000" y1=y(i) + LANE - 2.0 y2=y(i) + LANE - 2.0></line>
                    }).collect_view();
                    let bars = t.bars.iter().map(|b| view! {
                        <rect
                            class=format!("bar bar-{}", b.outcome)
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
                                class=format!("arrow arrow-{}", a.kind)
                                x1=x(a.at) y1=from x2=x(a.at) y2=to
                            >
                                <title>{a.label.clone()}</title>
                            </line>
                            <circle class=format!("arrow-head arrow-{}", a.kind) cx=x(a.at) cy=to r="2.5"></circle>
                        }
                    }).collect_view();
                    let height = t.lanes.len() as f64 * LANE + 4.0;
                    let faults = t.faults.iter().map(|f| view! {
                        <rect
                            class=format!("fault fault-{}", f.kind)
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
