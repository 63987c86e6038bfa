//! The canvas: the workflow drawn in SVG, edited by pointer and keyboard, showing each
//! step's live state during a run.
//!
//! - [`gesture`]: the interaction core — what a press, a move, a wheel turn or a key means
//!   (a pure reducer, unit-tested without a browser).
//! - [`node`], [`edge`]: how a step and an edge are drawn.
//! - [`pulses`]: messages in flight; [`hub`]: the orchestrator drawn as a hub.
//! - [`bar`]: zoom, fit and hub controls, the orchestrator's load, the legend (above the
//!   drawing, so they never cover a step); [`legend`]: what the marks mean, folded away.
//!
//! This module wires the browser's events to the reducer and applies its effects to the
//! document and view slices.

pub mod bar;
pub mod edge;
pub mod gesture;
pub mod hub;
pub mod legend;
pub mod node;
pub mod pulses;

use std::collections::{HashMap, HashSet};

use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::prelude::*;

use self::bar::CanvasBar;
use self::edge::{publishes, EdgeView};
use self::gesture::{Device, Effects, Gesture, Input, Interaction, Item, Pointer, Scene, Target};
use self::hub::HubView;
use self::node::NodeView;
use self::pulses::PulseView;
use crate::model::{GraphChange, RunEvent};
use crate::ui::common::actions::{action_for, Chord, Scope};
use crate::ui::common::geometry::{curve, hub, output_point, NODE_HEIGHT, NODE_WIDTH};
use crate::ui::state::{Document, RunState, Selected, ViewState};

/// A press on a step, a handle or an edge, passed down to their views.
pub type Press = Callback<(PointerEvent, Target)>;

/// The step or edge an event happened on (its element or an ancestor carries the id).
fn item_of(ev: &web_sys::Event) -> Option<Item> {
    use wasm_bindgen::JsCast;
    let el = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    let holder = el.closest("[data-node-id], [data-edge-id]").ok()??;
    if let Some(id) = holder.get_attribute("data-node-id") {
        return Some(Item::Node(id));
    }
    holder.get_attribute("data-edge-id").map(Item::Edge)
}

/// Gives the keyboard focus to a step's box or an edge.
fn focus_item(item: &Item) {
    use wasm_bindgen::JsCast;
    let (attribute, id, inner) = match item {
        Item::Node(id) => ("data-node-id", id, Some(".node-body")),
        Item::Edge(id) => ("data-edge-id", id, None),
    };
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(all) = document.query_selector_all(&format!("[{attribute}]")) else {
        return;
    };
    for i in 0..all.length() {
        let Some(el) = all
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        if el.get_attribute(attribute).as_deref() != Some(id.as_str()) {
            continue;
        }
        let target = match inner {
            Some(selector) => el.query_selector(selector).ok().flatten(),
            None => Some(el),
        };
        if let Some(svg) = target.and_then(|t| t.dyn_into::<web_sys::SvgElement>().ok()) {
            let _ = svg.focus();
        }
        return;
    }
}

/// The open run's lost events (edges and the steps never reached), for the steps and edges
/// to show.
#[derive(Clone, Copy)]
pub struct LostEvents(pub Memo<crate::model::log::Lost>);

#[component]
pub fn Canvas() -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let run = expect_context::<RunState>();
    // What a lost event cost the open run: its edges marked, the steps it never reached.
    // The log is read once: each update scans only the records that came since the last
    // (from the start again when another run, or a shorter log, is shown).
    let scanned = StoredValue::new((None::<String>, 0usize, Vec::<(String, String)>::new()));
    let drops = Memo::new(move |_| {
        let id = run.run_id.get();
        run.log.with(|log| {
            scanned.update_value(|(seen, upto, drops)| {
                if *seen != id || *upto > log.len() {
                    *seen = id.clone();
                    *upto = 0;
                    drops.clear();
                }
                crate::model::log::dropped(&log[*upto..], drops);
                *upto = log.len();
            });
        });
        scanned.with_value(|(_, _, drops)| drops.clone())
    });
    let lost = Memo::new(move |_| {
        drops.with(|drops| {
            if drops.is_empty() {
                return Default::default();
            }
            run.run.with(|view| {
                view.as_ref()
                    .map(|v| {
                        document
                            .doc
                            .with(|d| crate::model::log::lost_after(drops, d, v))
                    })
                    .unwrap_or_default()
            })
        })
    });
    provide_context(LostEvents(lost));
    let view = expect_context::<ViewState>();
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let interaction = RwSignal::new(Interaction::default());
    let viewport = view.viewport;
    follow_size(svg, view, document);

    // Pointer position relative to the canvas element, in screen pixels.
    let screen = move |x: i32, y: i32| -> (f64, f64) {
        let (left, top) = svg
            .get_untracked()
            .map(|el| {
                let r = el.get_bounding_client_rect();
                (r.left(), r.top())
            })
            .unwrap_or_default();
        (x as f64 - left, y as f64 - top)
    };
    let pointer = move |ev: &PointerEvent| Pointer {
        id: ev.pointer_id(),
        device: if ev.pointer_type() == "touch" {
            Device::Touch
        } else {
            Device::Mouse
        },
        screen: screen(ev.client_x(), ev.client_y()),
        shift: ev.shift_key(),
    };

    // Applies what the reducer decided: edits (one undoable change), selection, view, focus.
    let apply = move |mut effects: Effects| {
        if effects.begin {
            document.begin_gesture();
        }
        match effects.edits.len() {
            0 => {}
            1 => document.edit(effects.edits.remove(0)),
            _ => document.edit(GraphChange::Batch(std::mem::take(&mut effects.edits))),
        }
        if effects.end {
            document.end_gesture();
        }
        if let Some(chosen) = effects.select {
            selection.set(chosen);
        }
        if let Some(v) = effects.viewport {
            viewport.set(v);
        }
        if effects.palette_done {
            view.palette_drag.set(None);
        }
        if let Some(item) = effects.focus {
            // After the frame is drawn: a step or edge just added has no element yet.
            request_animation_frame(move || focus_item(&item));
        }
    };
    // Hands an input to the reducer with the scene as it is now.
    let dispatch = move |input: Input, focused: Option<Item>| -> bool {
        let effects = document.doc.with_untracked(|doc| {
            selection.with_untracked(|selection| {
                let scene = Scene {
                    doc,
                    selection: selection.as_ref(),
                    viewport: viewport.get_untracked(),
                    focused: focused.as_ref(),
                    space_held: view.space_held.get_untracked(),
                    palette: view.palette_drag.get_untracked(),
                    locale: document.lang.get_untracked(),
                };
                let mut effects = Effects::default();
                interaction.maybe_update(|i| {
                    let before = i.clone();
                    effects = i.handle(input, &scene);
                    *i != before
                });
                effects
            })
        });
        let handled = effects.handled;
        apply(effects);
        handled
    };
    let press: Press = Callback::new(move |(ev, on): (PointerEvent, Target)| {
        ev.stop_propagation();
        dispatch(
            Input::Down {
                pointer: pointer(&ev),
                on,
            },
            None,
        );
    });
    let on_key = move |ev: KeyboardEvent| {
        let chord = Chord {
            key: &ev.key(),
            ctrl: ev.ctrl_key() || ev.meta_key(),
            shift: ev.shift_key(),
            alt: ev.alt_key(),
        };
        if let Some((action, Scope::Canvas)) = action_for(chord) {
            if dispatch(Input::Key(action), item_of(&ev)) {
                ev.prevent_default();
                ev.stop_propagation();
            }
        }
    };

    // The drawing's animation clock: a message starts travelling when it is added.
    let drawing = NodeRef::<leptos::svg::Svg>::new();
    let drawing_time = move || -> f64 {
        use wasm_bindgen::JsCast;
        drawing
            .get_untracked()
            .and_then(|el| {
                let el: &web_sys::Element = el.as_ref();
                el.clone().dyn_into::<web_sys::SvgsvgElement>().ok()
            })
            .map(|svg| svg.get_current_time() as f64)
            .unwrap_or_default()
    };

    let publish = Memo::new(move |_| {
        document.shape_rev.track();
        document.doc.with_untracked(publishes)
    });
    let hub = Memo::new(move |_| {
        if !view.show_orchestrator.get() {
            return None;
        }
        document.doc.with(hub)
    });
    // Edges a message went along in the run shown (up to the replay position): failure routes
    // and sagas stay lit once taken.
    let traversed = Memo::new(move |_| {
        let upto = run.replay.get().unwrap_or(usize::MAX);
        run.log.with(|log| {
            log.iter()
                .take(upto)
                .filter_map(|r| match &r.event {
                    RunEvent::CommandSent { edge, .. } | RunEvent::EventDelivered { edge, .. } => {
                        Some(edge.clone())
                    }
                    _ => None,
                })
                .collect::<HashSet<_>>()
        })
    });
    // Steps whose failure nobody handled in the run shown (up to the replay position).
    let lang = crate::ui::common::language::use_lang();
    let unhandled = Memo::new(move |_| {
        let upto = run.replay.get().unwrap_or(usize::MAX);
        let locale = lang.get();
        run.log.with(|log| {
            log.iter()
                .take(upto)
                .filter_map(|r| match &r.event {
                    RunEvent::FailureUnhandled {
                        node, diagnosis, ..
                    } => Some((
                        node.clone(),
                        crate::model::story::unhandled_words(locale, node, diagnosis),
                    )),
                    _ => None,
                })
                .collect::<HashMap<_, _>>()
        })
    });
    let connecting_to = Memo::new(move |_| {
        interaction.with(|i| match &i.gesture {
            Gesture::Connect { target, .. } => target.clone(),
            _ => None,
        })
    });

    let node_ids = move || {
        document
            .doc
            .with(|d| d.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>())
    };
    let edge_ids = move || {
        document
            .doc
            .with(|d| d.edges.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
    };
    let draft = move || {
        interaction.with(|i| match &i.gesture {
            Gesture::Connect { from, to, .. } => document.doc.with(|d| {
                d.node(from).map(|n| {
                    let (path, _) = curve(output_point(n.position), *to);
                    view! { <path class="edge draft" d=path></path> }
                })
            }),
            _ => None,
        })
    };
    let ghost = move || {
        view.palette_drag.get()?;
        let p = interaction.with(|i| i.ghost)?;
        Some(view! {
            <rect class="palette-ghost" x=p.x y=p.y width=NODE_WIDTH height=NODE_HEIGHT rx="10"></rect>
        })
    };
    let marquee = move || {
        interaction.with(|i| match i.gesture {
            Gesture::Marquee { from, to } => Some(view! {
                <rect
                    class="marquee"
                    x=from.0.min(to.0)
                    y=from.1.min(to.1)
                    width=(to.0 - from.0).abs()
                    height=(to.1 - from.1).abs()
                ></rect>
            }),
            _ => None,
        })
    };
    let cancel = move |ev: PointerEvent| {
        dispatch(Input::Cancel(pointer(&ev)), None);
    };

    view! {
        <section class="canvas-area" aria-label=tr!(lang, canvas.area)>
            <CanvasBar/>
            // The frame takes the pointer's moves and releases (they bubble up from the steps
            // and edges); the background `svg.canvas` takes presses on empty canvas; the
            // drawing lives in `div.world`, panned and zoomed by a CSS transform, so the
            // browser only repaints.
            <div
                class="canvas-frame"
                id="canvas"
                tabindex="-1"
                role="application"
                aria-label=tr!(lang, canvas.canvas)
                aria-roledescription=tr!(lang, canvas.canvas_role)
                on:keydown=on_key
                on:wheel=move |ev: leptos::ev::WheelEvent| {
                    ev.prevent_default();
                    dispatch(
                        Input::Wheel {
                            screen: screen(ev.client_x(), ev.client_y()),
                            delta_y: ev.delta_y(),
                            pinch: ev.ctrl_key(),
                        },
                        None,
                    );
                }
                on:pointermove=move |ev: PointerEvent| {
                    dispatch(Input::Move(pointer(&ev)), None);
                }
                on:pointerup=move |ev: PointerEvent| {
                    dispatch(Input::Up(pointer(&ev)), None);
                }
                on:pointercancel=cancel
                on:pointerenter=move |_| view.canvas_hovered.set(true)
                on:pointerleave=move |ev: PointerEvent| {
                    view.canvas_hovered.set(false);
                    cancel(ev);
                }
            >
                <svg
                    node_ref=svg
                    class="canvas"
                    class:space-pan=move || view.space_held.get()
                    aria-hidden="true"
                    on:pointerdown=move |ev: PointerEvent| press.run((ev, Target::Canvas))
                ></svg>
                <div
                    class="world"
                    class:space-pan=move || view.space_held.get()
                    style:transform=move || {
                        let v = viewport.get();
                        format!("translate({:.1}px, {:.1}px) scale({:.4})", v.x, v.y, v.k)
                    }
                >
                    <svg class="drawing" width="1" height="1" node_ref=drawing>
                        <defs>
                            <marker id="arrow-command" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                                <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-command"></path>
                            </marker>
                            <marker id="arrow-event" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
                                <path d="M 1 1 L 9 5 L 1 9" class="arrow-event"></path>
                            </marker>
                        </defs>
                        <g class="edges">
                            <For each=edge_ids key=|id| id.clone() let:id>
                                <EdgeView id press publish traversed/>
                            </For>
                        </g>
                        {draft}
                        {marquee}
                        {ghost}
                        <g class="nodes">
                            <For each=node_ids key=|id| id.clone() let:id>
                                <NodeView id press unhandled connecting_to/>
                            </For>
                        </g>
                        {move || hub.get().map(|hub| view! { <HubView hub/> })}
                        <g class="pulses" aria-hidden="true">
                            <For each=move || run.pulses.get() key=|p| p.key let:pulse>
                                <PulseView
                                    begin=drawing_time()
                                    via_hub=pulse.kind.through_orchestrator() && hub.with_untracked(Option::is_some)
                                    pulse
                                />
                            </For>
                        </g>
                    </svg>
                </div>
                <Show when=move || document.doc.with(|d| d.nodes.is_empty())>
                    <p class="empty-hint">{tr!(lang, canvas.empty)}</p>
                </Show>
            </div>
        </section>
    }
    .into_any()
}

/// Fits the view again when the canvas changes size (the run panel opens or is resized, a
/// note above the canvas comes or goes, the window changes) and the user has not moved the
/// view since it was last fitted.
fn follow_size(svg: NodeRef<leptos::svg::Svg>, view: ViewState, document: Document) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Some(element) = svg.get() else {
            return;
        };
        let last = std::cell::Cell::new((0.0f64, 0.0f64));
        let callback = Closure::<dyn Fn(js_sys::Array)>::new(move |_entries: js_sys::Array| {
            let size = crate::ui::state::view::canvas_size();
            if size != last.get() {
                last.set(size);
                document.doc.with_untracked(|d| view.resized(d));
            }
        });
        let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        let element: &web_sys::Element = element.as_ref();
        observer.observe(element);
        let observer = send_wrapper::SendWrapper::new(observer);
        let callback = send_wrapper::SendWrapper::new(callback);
        on_cleanup(move || {
            observer.disconnect();
            drop(callback);
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (svg, view, document);
}
