//! The inspector beside the canvas: the selected step's fields and behaviour, the selected
//! edge's kind, outcome and event name — or, with nothing selected, the next run's settings —
//! and the live problems list. It scrolls on its own, so every field stays reachable.
//!
//! - [`behaviour`]: a step's behaviour fields, validated as typed.
//! - [`run_controls`]: the next run's input, seed, speed and faults.
//! - [`problems`]: the errors and warnings, each selecting its culprit.

pub mod behaviour;
pub mod problems;
pub mod run_controls;

use leptos::prelude::*;

use self::behaviour::BehaviourFields;
use self::problems::ProblemList;
use self::run_controls::RunControls;
use crate::model::{EdgeKind, GraphChange, Node, Outcome};
use crate::ui::common::selection::Selection;
use crate::ui::state::Document;

#[component]
pub fn Inspector() -> impl IntoView {
    let document = expect_context::<Document>();
    let node = Memo::new(move |_| match document.selection.get() {
        Some(Selection::Node(id)) => document.doc.with(|d| d.node(&id).cloned()),
        _ => None,
    });
    let edge = Memo::new(move |_| match document.selection.get() {
        Some(Selection::Edge(id)) => document
            .doc
            .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
        _ => None,
    });
    let node_field =
        move |label: &'static str, get: fn(&Node) -> String, set: fn(&mut Node, String)| {
            view! {
                <label>
                    <span>{label}</span>
                    <input
                        aria-label=format!("Step {}", label.to_lowercase())
                        prop:value=move || node.with(|n| n.as_ref().map(get).unwrap_or_default())
                        on:input=move |ev| {
                            if let Some(mut n) = node.get_untracked() {
                                set(&mut n, event_target_value(&ev));
                                document.edit(GraphChange::UpdateNode(n));
                            }
                        }
                    />
                </label>
            }
        };
    let event_name = move || {
        edge.with(|e| {
            e.as_ref()
                .map(|e| document.doc.with(|d| d.event_name(e)))
                .unwrap_or_default()
        })
    };
    view! {
        <aside class="inspector" aria-label="Inspector">
            <Show when=move || node.with(Option::is_some)>
                <h2>"Step"</h2>
                {node_field("Label", |n| n.label.clone(), |n, v| n.label = v)}
                {node_field("Service", |n| n.service.clone(), |n, v| n.service = v)}
                {node_field("Action", |n| n.action.clone(), |n, v| n.action = v)}
                <BehaviourFields node/>
            </Show>
            <Show when=move || edge.with(Option::is_some)>
                <h2>"Edge"</h2>
                <label>
                    <span>"Kind"</span>
                    <select
                        aria-label="Edge kind"
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.kind.as_str()).unwrap_or("command"))
                        on:change=move |ev| document.set_edge_kind(if event_target_value(&ev) == "event" {
                            EdgeKind::Event
                        } else {
                            EdgeKind::Command
                        })
                    >
                        <option value="command">"command: the orchestrator sends it and waits"</option>
                        <option value="event">"event: published, subscribers react"</option>
                    </select>
                </label>
                <label>
                    <span>"Follows"</span>
                    <select
                        aria-label="Edge follows outcome"
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.on.as_str()).unwrap_or("success"))
                        on:change=move |ev| {
                            if let Some(mut e) = edge.get_untracked() {
                                e.on = if event_target_value(&ev) == "failure" {
                                    Outcome::Failure
                                } else {
                                    Outcome::Success
                                };
                                document.edit(GraphChange::UpdateEdge(e));
                            }
                        }
                    >
                        <option value="success">"on success"</option>
                        <option value="failure">"on failure"</option>
                    </select>
                </label>
                <Show when=move || edge.with(|e| e.as_ref().is_some_and(|e| e.kind == EdgeKind::Event))>
                    <label>
                        <span>"Event name"</span>
                        <input
                            aria-label="Event name"
                            prop:value=event_name
                            on:input=move |ev| {
                                if let Some(mut e) = edge.get_untracked() {
                                    let v = event_target_value(&ev);
                                    e.event = (!v.is_empty()).then_some(v);
                                    document.edit(GraphChange::UpdateEdge(e));
                                }
                            }
                        />
                    </label>
                </Show>
            </Show>
            <Show when=move || document.selection.with(Option::is_none)>
                <p class="hint">
                    "Select a step or an edge to edit it. Drag from a step's right handle onto another step to connect them — or focus a step, press L, pick the target with the arrow keys and press Enter."
                </p>
                <RunControls/>
            </Show>
            <ProblemList/>
        </aside>
    }
    .into_any()
}
