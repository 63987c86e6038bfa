//! An edge on the canvas: a command (solid, with the conductor mark: it passes through the
//! orchestrator) or an event (dashed, labelled with its name); one publish to several
//! subscribers drawn as a shared trunk that splits; failure routes marked; edges a run went
//! along lit. Edges take the keyboard focus from the arrow keys.

use std::collections::{HashMap, HashSet};

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use crate::ui::common::language::use_lang;
use crate::ui::common::templates::{shown_event, shown_step};

use super::gesture::Target;
use super::node::Badge;
use super::Press;
use crate::model::{EdgeKind, Outcome, Workflow};
use crate::ui::common::geometry::{curve, input_point, output_point};
use crate::ui::common::issues::badge;
use crate::ui::common::selection::Selection;
use crate::ui::state::{Document, Selected};

/// How far a new edge of a fan-out runs before it splits: the shared stretch that makes
/// one publish to several subscribers read as one message.
const PUBLISH_TRUNK: f64 = 36.0;
/// A failure's fan-out: right this far, then down this far, before it splits.
const FAILURE_TRUNK: (f64, f64) = (22.0, 52.0);

/// Where each event edge that shares its publish with others sits in its group: whether it
/// draws the group's label, and how many subscribers the publish reaches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Publish {
    first: bool,
    subscribers: usize,
}

pub fn publishes(workflow: &Workflow) -> HashMap<String, Publish> {
    let mut groups: HashMap<(&str, Outcome, String), Vec<&str>> = Default::default();
    for e in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
        groups
            .entry((e.from.as_str(), e.on, workflow.event_name(e)))
            .or_default()
            .push(e.id.as_str());
    }
    groups
        .into_values()
        .filter(|ids| ids.len() > 1)
        .flat_map(|ids| {
            let n = ids.len();
            ids.into_iter().enumerate().map(move |(i, id)| {
                (
                    id.to_string(),
                    Publish {
                        first: i == 0,
                        subscribers: n,
                    },
                )
            })
        })
        .collect()
}

/// How an edge is drawn: its path, where its label (or conductor mark) sits, the label, and
/// whether it is the group's one drawing of a shared publish.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeShape {
    path: String,
    mid: (f64, f64),
    label: String,
    kind: EdgeKind,
    on: Outcome,
    /// For a fan-out: the point where the publish splits, if this edge draws it.
    junction: Option<(f64, f64)>,
    subscribers: usize,
    /// A fan-out branch's own words (its subscriber's filter), and where they go.
    branch: Option<(String, (f64, f64))>,
}

#[component]
pub fn EdgeView(
    id: String,
    press: Press,
    publish: Memo<HashMap<String, Publish>>,
    traversed: Memo<HashSet<String>>,
) -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let taken = {
        let id = id.clone();
        Memo::new(move |_| traversed.with(|t| t.contains(&id)))
    };
    let edge = {
        let id = id.clone();
        Memo::new(move |_| {
            let at = document.edge_index.with(|ix| ix.get(&id).copied());
            document.doc.with(|d| {
                at.and_then(|i| d.edges.get(i))
                    .filter(|e| e.id == id)
                    .cloned()
            })
        })
    };
    let fan_out = {
        let id = id.clone();
        Memo::new(move |_| publish.with(|p| p.get(&id).copied()))
    };
    let lang = use_lang();
    let shape = Memo::new(move |_| {
        let fan_out = fan_out.get();
        let locale = lang.get();
        edge.with(|e| {
            let e = e.as_ref()?;
            document.node_index.with(|ix| {
                document.doc.with(|d| {
                    let from = d.nodes.get(*ix.get(&e.from)?)?;
                    let to = d.nodes.get(*ix.get(&e.to)?)?;
                    let label = match e.kind {
                        EdgeKind::Event => shown_event(locale, d, e),
                        EdgeKind::Command if e.on == Outcome::Failure => {
                            td_string!(locale, canvas.on_failure).to_string()
                        }
                        EdgeKind::Command => String::new(),
                    };
                    // A decision's branch says its condition, as BPMN draws a guard.
                    // A subscriber's filter says so: the rule is in the subscriber (on its
                    // own branch when one publish fans out).
                    let filter = e
                        .filtered_by_subscriber()
                        .then_some(e.condition.as_ref())
                        .flatten()
                        .map(|c| format!("[{}: {c}]", td_string!(locale, canvas.filter)));
                    let label = match (&e.condition, label.is_empty()) {
                        (Some(_), _) if filter.is_some() && fan_out.is_some() => label,
                        (Some(_), _) if filter.is_some() => {
                            format!("{label} {}", filter.clone().unwrap_or_default())
                        }
                        (Some(c), true) => format!("[{c}]"),
                        (Some(c), false) => format!("{label} [{c}]"),
                        (None, _) => label,
                    };
                    // A loop's bound, as BPMN marks a loop: ↻ and how many times at most.
                    let label = match e.max_iterations {
                        Some(n) => {
                            let mark = td_string!(locale, canvas.loop_bound, n = n).to_string();
                            if label.is_empty() {
                                mark
                            } else {
                                format!("{label} {mark}")
                            }
                        }
                        None => label,
                    };
                    let start = output_point(from.position);
                    let end = input_point(to.position);
                    Some(match fan_out {
                        // One publish to several subscribers: a shared trunk, then a branch
                        // to each; the first edge of the group carries the event's name.
                        Some(p) => {
                            // A failure's reactions sit below the path that succeeded: its
                            // trunk turns down, so its name is written under the step's row
                            // and not over the next step's edge and name.
                            let (corner, junction) = if e.on == Outcome::Failure {
                                let corner = (start.0 + FAILURE_TRUNK.0, start.1);
                                (corner, (corner.0, corner.1 + FAILURE_TRUNK.1))
                            } else {
                                let junction = (start.0 + PUBLISH_TRUNK, start.1);
                                (junction, junction)
                            };
                            let (branch, branch_mid) = curve(junction, end);
                            EdgeShape {
                                branch: filter.map(|f| (f, branch_mid)),
                                path: format!(
                                    "M {:.1} {:.1} L {:.1} {:.1} L {:.1} {:.1} {branch}",
                                    start.0, start.1, corner.0, corner.1, junction.0, junction.1
                                ),
                                mid: junction,
                                label: if p.first { label } else { String::new() },
                                kind: e.kind,
                                on: e.on,
                                junction: p.first.then_some(junction),
                                subscribers: p.subscribers,
                            }
                        }
                        None => {
                            let (path, mid) = curve(start, end);
                            EdgeShape {
                                path,
                                mid,
                                label,
                                kind: e.kind,
                                on: e.on,
                                junction: None,
                                subscribers: 1,
                                branch: None,
                            }
                        }
                    })
                })
            })
        })
    });
    let selected = {
        let id = id.clone();
        Memo::new(move |_| selection.with(|s| s.as_ref() == Some(&Selection::Edge(id.clone()))))
    };
    let select = {
        let id = id.clone();
        move |ev: PointerEvent| press.run((ev, Target::Edge(id.clone())))
    };
    let issue = {
        let id = id.clone();
        Memo::new(move |_| {
            document
                .issues
                .with(|all| badge(all, |i| i.edge.as_deref() == Some(&id)))
        })
    };
    let lost = {
        let id = id.clone();
        let events = use_context::<super::LostEvents>();
        Memo::new(move |_| events.is_some_and(|l| l.0.with(|l| l.edges.contains(&id))))
    };
    let get =
        move |f: fn(&EdgeShape) -> String| shape.with(|s| s.as_ref().map(f).unwrap_or_default());
    let kind = move || shape.with(|s| s.as_ref().map(|s| s.kind).unwrap_or_default());
    let mid = move || shape.with(|s| s.as_ref().map(|s| s.mid).unwrap_or_default());
    let fan_label = move || shape.with(|s| s.as_ref().is_some_and(|s| s.junction.is_some()));
    let description = move || {
        let subscribers = shape.with(|s| s.as_ref().map(|s| s.subscribers).unwrap_or(1));
        edge.with(|e| {
            e.as_ref()
                .map(|e| {
                    let l = lang.get();
                    let kind = match e.kind {
                        EdgeKind::Command => td_string!(l, canvas.edge_kind.command),
                        EdgeKind::Event => td_string!(l, canvas.edge_kind.event),
                    };
                    // Steps by their labels, as the user sees them on the canvas.
                    let name = |id: &str| document.doc.with_untracked(|d| shown_step(l, d, id));
                    let mut text = td_string!(
                        l,
                        canvas.edge_description,
                        kind = kind,
                        from = name(&e.from),
                        to = name(&e.to)
                    )
                    .to_string();
                    if lost.get() {
                        text.push_str(td_string!(l, canvas.edge_lost));
                    }
                    if subscribers > 1 {
                        text.push_str(
                            &td_string!(l, canvas.edge_fan, count = subscribers).to_string(),
                        );
                    }
                    text
                })
                .unwrap_or_default()
        })
    };
    view! {
        <g
            class="edge-group"
            class:command=move || kind() == EdgeKind::Command
            class:event=move || kind() == EdgeKind::Event
            class:failure=move || shape.with(|s| s.as_ref().is_some_and(|s| s.on == Outcome::Failure))
            class:fan-out=move || shape.with(|s| s.as_ref().is_some_and(|s| s.subscribers > 1))
            class:traversed=move || taken.get()
            class:lost=lost
            class:selected=selected
            data-edge-id=id.clone()
            role="button"
            tabindex="-1"
            aria-label=description
            aria-pressed=move || selected.get().to_string()
            on:pointerdown=select
        >
            <path class="edge-hit" d=move || get(|s| s.path.clone())></path>
            <path
                class="edge"
                id=format!("edge-path-{id}")
                d=move || get(|s| s.path.clone())
                marker-end=move || match kind() {
                    EdgeKind::Command => "url(#arrow-command)",
                    EdgeKind::Event => "url(#arrow-event)",
                }
            ></path>
            // A command passes through the run's orchestrator: a small conductor mark says so.
            <Show when=move || kind() == EdgeKind::Command>
                <g class="conductor-mark" transform=move || format!("translate({:.1} {:.1})", mid().0, mid().1)>
                    <title>{tr!(lang, canvas.command_title)}</title>
                    <circle r="6"></circle>
                    <path d="M -3 2 L 3 -3"></path>
                </g>
            </Show>
            <Show when=fan_label>
                <circle class="publish-point" cx=move || mid().0 cy=move || mid().1 r="4">
                    <title>{tr!(lang, canvas.publish_title)}</title>
                </circle>
            </Show>
            <text
                class="edge-label"
                x=move || mid().0 + if fan_label() { 6.0 } else { 0.0 }
                y=move || {
                    let failure_fan = fan_label()
                        && shape.with(|s| s.as_ref().is_some_and(|s| s.on == Outcome::Failure));
                    if failure_fan {
                        mid().1 + 4.0
                    } else {
                        mid().1 - if kind() == EdgeKind::Command { 11.0 } else { 8.0 }
                    }
                }
                text-anchor=move || if fan_label() { "start" } else { "middle" }
            >
                {move || get(|s| s.label.clone())}
            </text>
            <Show when=move || shape.with(|s| s.as_ref().is_some_and(|s| s.branch.is_some()))>
                <text
                    class="edge-label branch-label"
                    x=move || shape.with(|s| s.as_ref().and_then(|s| s.branch.as_ref()).map_or(0.0, |b| b.1 .0))
                    y=move || shape.with(|s| s.as_ref().and_then(|s| s.branch.as_ref()).map_or(0.0, |b| b.1 .1 - 6.0))
                    text-anchor="middle"
                >
                    {move || shape.with(|s| s.as_ref().and_then(|s| s.branch.as_ref()).map(|b| b.0.clone()).unwrap_or_default())}
                </text>
            </Show>
            // Where the bus lost the event: a cross on the edge.
            <Show when=move || lost.get()>
                <g class="lost-mark" transform=move || format!("translate({:.1} {:.1})", mid().0, mid().1 + 10.0)>
                    <title>{tr!(lang, canvas.lost_title)}</title>
                    <circle r="7"></circle>
                    <path d="M -3 -3 L 3 3 M 3 -3 L -3 3"></path>
                </g>
            </Show>
            <g class="edge-badge" transform=move || format!("translate({:.1} {:.1})", mid().0 + 16.0, mid().1 + 12.0)>
                <Badge issue/>
            </g>
        </g>
    }
    .into_any()
}
