//! The palette: the kinds of step a user adds, each a plain step with a behaviour preset.
//! A click (or Enter) places the step in a free spot; dragging it onto the canvas places it
//! where it is dropped (the canvas takes the drop, see `canvas.rs`).

use leptos::ev::PointerEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::editor::{Editor, Selection};
use super::geometry::free_slot;
use crate::model::{GraphChange, Latency, Node, Position, RetryPolicy, Workflow};

/// One entry of the palette.
pub struct Preset {
    /// What a screen reader hears (prefixed with "Add ").
    pub name: &'static str,
    /// The button's face.
    pub glyph: &'static str,
    pub hint: &'static str,
    /// Sets the preset's behaviour on a fresh step.
    shape: fn(&mut Node),
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "step",
        glyph: "▭",
        hint: "A service call with the default behaviour",
        shape: |_| {},
    },
    Preset {
        name: "retrying step",
        glyph: "↻",
        hint: "Retries up to 3 attempts, 200 ms backoff doubling",
        shape: |n| {
            n.retry = Some(RetryPolicy {
                max_attempts: 3,
                backoff_ms: 200,
                multiplier: 2.0,
            })
        },
    },
    Preset {
        name: "flaky step",
        glyph: "⚡",
        hint: "Fails 30% of its attempts",
        shape: |n| n.failure_rate = Some(0.3),
    },
    Preset {
        name: "slow step",
        glyph: "◔",
        hint: "Takes 0.8–1.5 s, times out after 1 s",
        shape: |n| {
            n.latency_ms = Some(Latency::Range([800, 1500]));
            n.timeout_ms = Some(1000);
        },
    },
    Preset {
        name: "compensable step",
        glyph: "↶",
        hint: "Has an undo action a saga can run (refund)",
        shape: |n| n.compensation = Some("undo".into()),
    },
];

/// A new step of preset `preset`, with a fresh id, at `at` (or in a free spot).
pub fn new_step(doc: &Workflow, preset: usize, at: Option<Position>) -> Node {
    let id = doc.fresh_id("step-");
    let n = id.trim_start_matches("step-").to_string();
    let mut node = Node {
        id: id.clone(),
        label: format!("Step {n}"),
        service: format!("Service{n}"),
        action: "run".into(),
        position: at.unwrap_or_else(|| free_slot(doc)),
        ..Default::default()
    };
    if let Some(p) = PRESETS.get(preset) {
        (p.shape)(&mut node);
    }
    node
}

/// Adds a step of `preset` to the open workflow and selects it.
pub fn add_step(editor: Editor, preset: usize, at: Option<Position>) {
    let node = editor.doc.with_untracked(|d| new_step(d, preset, at));
    let id = node.id.clone();
    editor.edit(GraphChange::AddNode(node));
    editor.selection.set(Some(Selection::Node(id)));
}

#[component]
pub fn Palette(editor: Editor) -> impl IntoView {
    // A drag that ends anywhere but the canvas adds nothing.
    super::window_listener(leptos::ev::pointerup, move |_| {
        editor.palette_drag.set(None)
    });
    view! {
        <div class="palette" role="group" aria-label="Palette: click or drag a step onto the canvas">
            {PRESETS
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    view! {
                        <button
                            class="palette-item"
                            class:dragging=move || editor.palette_drag.get() == Some(i)
                            aria-label=format!("Add {}", p.name)
                            title=format!("{}: {} (click, or drag onto the canvas)", p.name, p.hint)
                            on:pointerdown=move |ev: PointerEvent| {
                                if ev.button() != 0 {
                                    return;
                                }
                                // Touch captures the pointer to the button; release it so the
                                // canvas sees where the finger lifts.
                                if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                    let _ = el.release_pointer_capture(ev.pointer_id());
                                }
                                editor.palette_drag.set(Some(i));
                            }
                            on:click=move |_| add_step(editor, i, None)
                        >
                            <span aria-hidden="true">{p.glyph}</span>
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}
