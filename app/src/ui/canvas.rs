//! The canvas: the workflow drawn in SVG, and the pointer gestures that edit it — drag a
//! step to move it, drag from its output handle onto another step to connect them, click an
//! edge or a step to select it. During a run each step shows its live state.

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use super::editor::{Editor, Issue, Selection, Severity};
use super::geometry::{curve, input_point, node_at, output_point, NODE_HEIGHT, NODE_WIDTH};
use super::live::{Pulse, PULSE_MS};
use super::palette::add_step;
use crate::model::{EdgeKind, GraphChange, Outcome, Position, RunEvent, StepState, Workflow};

/// The gesture in progress.
#[derive(Clone, Debug, PartialEq)]
enum Gesture {
    Idle,
    /// Moving a step; `grab` is where the pointer holds it, relative to its corner;
    /// `group` are the other selected steps, with their offsets from it.
    Move {
        node: String,
        grab: (f64, f64),
        group: Vec<(String, (f64, f64))>,
    },
    /// Shift-dragging a selection rectangle, in canvas units.
    Marquee {
        from: (f64, f64),
        to: (f64, f64),
    },
    /// Drawing a new edge from `from`, currently ending at `to`.
    Connect {
        from: String,
        to: (f64, f64),
    },
    /// Panning: where the pointer went down (screen) and the view at that moment.
    Pan {
        start: (f64, f64),
        view: Viewport,
    },
    /// Two fingers on the canvas: their distance and midpoint (screen) when the second
    /// touched, and the view at that moment.
    Pinch {
        distance: f64,
        middle: (f64, f64),
        view: Viewport,
    },
}

/// How far a new edge of a fan-out runs before it splits: the shared stretch that makes
/// one publish to several subscribers read as one message.
const PUBLISH_TRUNK: f64 = 36.0;

/// Where each event edge that shares its publish with others sits in its group: whether it
/// draws the group's label, and how many subscribers the publish reaches.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Publish {
    first: bool,
    subscribers: usize,
}

fn publishes(workflow: &Workflow) -> std::collections::HashMap<String, Publish> {
    let mut groups: std::collections::HashMap<(&str, Outcome, String), Vec<&str>> =
        Default::default();
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

/// Which touch pointers are down, by pointer id, at their screen position.
type Touches = StoredValue<Vec<(i32, (f64, f64))>>;

fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().max(1.0)
}

fn middle(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
}

/// What part of the canvas is shown: canvas point `p` is drawn at `p * k + (x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            x: 0.0,
            y: 0.0,
            k: 1.0,
        }
    }
}

pub const MIN_ZOOM: f64 = 0.2;
pub const MAX_ZOOM: f64 = 3.0;

impl Viewport {
    /// Zooms by `factor`, keeping the screen point `(sx, sy)` where it is.
    pub fn zoomed(self, factor: f64, sx: f64, sy: f64) -> Viewport {
        self.pinched(factor, (sx, sy), (sx, sy))
    }

    /// Zooms by `factor` around the screen point `from` and moves that point to `to`
    /// (two fingers that spread and travel).
    pub fn pinched(self, factor: f64, from: (f64, f64), to: (f64, f64)) -> Viewport {
        let k = (self.k * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let ratio = k / self.k;
        Viewport {
            x: to.0 - (from.0 - self.x) * ratio,
            y: to.1 - (from.1 - self.y) * ratio,
            k,
        }
    }

    /// The view that shows every node of the workflow in a `width` × `height` canvas.
    pub fn fitting(workflow: &crate::model::Workflow, width: f64, height: f64) -> Viewport {
        if workflow.nodes.is_empty() || width <= 0.0 || height <= 0.0 {
            return Viewport::default();
        }
        let margin = 40.0;
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for n in &workflow.nodes {
            x0 = x0.min(n.position.x);
            y0 = y0.min(n.position.y);
            x1 = x1.max(n.position.x + NODE_WIDTH);
            y1 = y1.max(n.position.y + NODE_HEIGHT);
        }
        let k = ((width - 2.0 * margin) / (x1 - x0))
            .min((height - 2.0 * margin) / (y1 - y0))
            .clamp(MIN_ZOOM, 1.5);
        Viewport {
            x: (width - (x1 - x0) * k) / 2.0 - x0 * k,
            y: (height - (y1 - y0) * k) / 2.0 - y0 * k,
            k,
        }
    }
}

/// The size of the canvas on screen.
pub fn canvas_size() -> (f64, f64) {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("svg.canvas").ok().flatten())
        .map(|el| {
            let r = el.get_bounding_client_rect();
            (r.width(), r.height())
        })
        .unwrap_or((800.0, 600.0))
}

#[component]
pub fn Canvas(editor: Editor) -> impl IntoView {
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let gesture = RwSignal::new(Gesture::Idle);

    let viewport = editor.viewport;
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
    // Pointer position in canvas units (through the pan and zoom).
    let at = move |ev: &PointerEvent| -> (f64, f64) {
        let (sx, sy) = screen(ev.client_x(), ev.client_y());
        let v = viewport.get_untracked();
        ((sx - v.x) / v.k, (sy - v.y) / v.k)
    };

    // Touch pointers, for pinch zoom. Returns whether a second finger just started a pinch.
    let touches: Touches = StoredValue::new(Vec::new());
    let touch = move |ev: &PointerEvent| -> bool {
        if ev.pointer_type() != "touch" {
            return false;
        }
        let p = screen(ev.client_x(), ev.client_y());
        touches.update_value(|t| {
            t.retain(|(id, _)| *id != ev.pointer_id());
            t.push((ev.pointer_id(), p));
        });
        let pair = touches.with_value(|t| (t.len() == 2).then(|| (t[0].1, t[1].1)));
        let Some((a, b)) = pair else {
            return false;
        };
        if matches!(gesture.get_untracked(), Gesture::Move { .. }) {
            editor.end_gesture();
        }
        gesture.set(Gesture::Pinch {
            distance: distance(a, b),
            middle: middle(a, b),
            view: viewport.get_untracked(),
        });
        true
    };
    let untouch = move |ev: &PointerEvent| {
        touches.update_value(|t| t.retain(|(id, _)| *id != ev.pointer_id()));
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
    // Where a step dragged from the palette would land.
    let ghost = RwSignal::new(None::<(f64, f64)>);

    let on_move = move |ev: PointerEvent| {
        let (x, y) = at(&ev);
        if ev.pointer_type() == "touch" {
            let p = screen(ev.client_x(), ev.client_y());
            touches.update_value(|t| {
                if let Some(entry) = t.iter_mut().find(|(id, _)| *id == ev.pointer_id()) {
                    entry.1 = p;
                }
            });
        }
        if editor.palette_drag.get_untracked().is_some() {
            ghost.set(Some((x - NODE_WIDTH / 2.0, y - NODE_HEIGHT / 2.0)));
        }
        match gesture.get_untracked() {
            Gesture::Idle => {}
            Gesture::Pan { start, view } => {
                let (sx, sy) = screen(ev.client_x(), ev.client_y());
                viewport.set(Viewport {
                    x: view.x + sx - start.0,
                    y: view.y + sy - start.1,
                    k: view.k,
                });
            }
            Gesture::Pinch {
                distance: d0,
                middle: m0,
                view,
            } => {
                if let Some((a, b)) =
                    touches.with_value(|t| (t.len() >= 2).then(|| (t[0].1, t[1].1)))
                {
                    viewport.set(view.pinched(distance(a, b) / d0, m0, middle(a, b)));
                }
            }
            Gesture::Move { node, grab, group } => {
                let at = Position {
                    x: (x - grab.0).round(),
                    y: (y - grab.1).round(),
                };
                let mut moves = vec![GraphChange::MoveNode { id: node, to: at }];
                moves.extend(
                    group
                        .into_iter()
                        .map(|(id, (dx, dy))| GraphChange::MoveNode {
                            id,
                            to: Position {
                                x: at.x + dx,
                                y: at.y + dy,
                            },
                        }),
                );
                editor.edit(GraphChange::Batch(moves));
            }
            Gesture::Marquee { from, .. } => gesture.set(Gesture::Marquee { from, to: (x, y) }),
            Gesture::Connect { from, .. } => gesture.set(Gesture::Connect { from, to: (x, y) }),
        }
    };
    let on_up = move |ev: PointerEvent| {
        untouch(&ev);
        if let Some(preset) = editor.palette_drag.get_untracked() {
            // A step dragged from the palette lands centred under the pointer.
            let (x, y) = at(&ev);
            let position = Position {
                x: (x - NODE_WIDTH / 2.0).round(),
                y: (y - NODE_HEIGHT / 2.0).round(),
            };
            add_step(editor, preset, Some(position));
            editor.palette_drag.set(None);
            ghost.set(None);
        }
        if matches!(gesture.get_untracked(), Gesture::Move { .. }) {
            editor.end_gesture();
        }
        if let Gesture::Marquee { from, to } = gesture.get_untracked() {
            let (x0, x1) = (from.0.min(to.0), from.0.max(to.0));
            let (y0, y1) = (from.1.min(to.1), from.1.max(to.1));
            let inside = editor.doc.with_untracked(|d| {
                d.nodes
                    .iter()
                    .filter(|n| {
                        n.position.x < x1
                            && n.position.x + NODE_WIDTH > x0
                            && n.position.y < y1
                            && n.position.y + NODE_HEIGHT > y0
                    })
                    .map(|n| n.id.clone())
                    .collect::<Vec<_>>()
            });
            editor.selection.set(Selection::of_nodes(inside));
        }
        if let Gesture::Connect { from, .. } = gesture.get_untracked() {
            let (x, y) = at(&ev);
            let target = editor.doc.with_untracked(|d| node_at(d, x, y));
            if let Some(to) = target.filter(|to| *to != from) {
                let edge = editor.doc.with_untracked(|d| d.new_edge(&from, &to));
                let id = edge.id.clone();
                editor.edit(GraphChange::AddEdge(edge));
                editor.selection.set(Some(Selection::Edge(id)));
            }
        }
        gesture.set(Gesture::Idle);
    };
    let publish = Memo::new(move |_| {
        editor.shape_rev.track();
        editor.doc.with_untracked(publishes)
    });
    // The orchestrator as a hub: above the drawing's middle, with a spoke to every step it
    // commands (the targets of command edges).
    let hub = Memo::new(move |_| {
        if !editor.show_orchestrator.get() {
            return None;
        }
        editor.doc.with(|d| {
            if d.nodes.is_empty() {
                return None;
            }
            let left = d
                .nodes
                .iter()
                .map(|n| n.position.x)
                .fold(f64::MAX, f64::min);
            let right = d
                .nodes
                .iter()
                .map(|n| n.position.x + NODE_WIDTH)
                .fold(f64::MIN, f64::max);
            let top = d
                .nodes
                .iter()
                .map(|n| n.position.y)
                .fold(f64::MAX, f64::min);
            let center = ((left + right) / 2.0, top - 110.0);
            let mut commanded: Vec<&str> = d
                .edges
                .iter()
                .filter(|e| e.kind == EdgeKind::Command)
                .map(|e| e.to.as_str())
                .collect();
            commanded.sort_unstable();
            commanded.dedup();
            let spokes = commanded
                .into_iter()
                .filter_map(|id| d.node(id))
                .map(|n| {
                    let end = (n.position.x + NODE_WIDTH / 2.0, n.position.y);
                    (
                        n.id.clone(),
                        format!(
                            "M {:.1} {:.1} L {:.1} {:.1}",
                            center.0,
                            center.1 + 30.0,
                            end.0,
                            end.1
                        ),
                    )
                })
                .collect::<Vec<_>>();
            Some((center, spokes))
        })
    });
    // Edges a message went along in the run shown (up to the replay position): failure routes
    // and sagas stay lit once taken.
    let traversed = Memo::new(move |_| {
        let upto = editor.replay.get().unwrap_or(usize::MAX);
        editor.log.with(|log| {
            log.iter()
                .take(upto)
                .filter_map(|r| match &r.event {
                    RunEvent::CommandSent { edge, .. } | RunEvent::EventDelivered { edge, .. } => {
                        Some(edge.clone())
                    }
                    _ => None,
                })
                .collect::<std::collections::HashSet<_>>()
        })
    });
    // Steps whose failure nobody handled in the run shown (up to the replay position).
    let unhandled = Memo::new(move |_| {
        let upto = editor.replay.get().unwrap_or(usize::MAX);
        editor.log.with(|log| {
            log.iter()
                .take(upto)
                .filter_map(|r| match &r.event {
                    RunEvent::FailureUnhandled {
                        node, diagnosis, ..
                    } => Some((node.clone(), diagnosis.clone())),
                    _ => None,
                })
                .collect::<std::collections::HashMap<_, _>>()
        })
    });

    let node_ids = move || {
        editor
            .doc
            .with(|d| d.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>())
    };
    let edge_ids = move || {
        editor
            .doc
            .with(|d| d.edges.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
    };

    let draft = move || match gesture.get() {
        Gesture::Connect { from, to } => editor.doc.with(|d| {
            d.node(&from).map(|n| {
                let (path, _) = curve(output_point(n.position), to);
                view! { <path class="edge draft" d=path></path> }
            })
        }),
        _ => None,
    };

    let ghost_view = move || {
        editor.palette_drag.get()?;
        let (x, y) = ghost.get()?;
        Some(view! {
            <rect class="palette-ghost" x=x y=y width=NODE_WIDTH height=NODE_HEIGHT rx="10"></rect>
        })
    };

    let marquee = move || match gesture.get() {
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
    };

    view! {
        // The frame takes the pointer's moves and releases (they bubble up from the steps and
        // edges); the background `svg.canvas` takes presses on empty canvas; the drawing lives
        // in `div.world`, panned and zoomed by a CSS transform, so the browser only repaints.
        <div
            class="canvas-frame"
            role="application"
            aria-label="Workflow canvas"
            on:wheel=move |ev: leptos::ev::WheelEvent| {
                ev.prevent_default();
                let (sx, sy) = screen(ev.client_x(), ev.client_y());
                // A trackpad pinch arrives as a wheel with Ctrl held, in small steps.
                let speed = if ev.ctrl_key() { 0.01 } else { 0.0015 };
                let factor = (-ev.delta_y() * speed).exp();
                viewport.update(|v| *v = v.zoomed(factor, sx, sy));
            }
            on:pointerdown=move |ev: PointerEvent| {
                // Space held: a drag anywhere pans (steps and edges let the press through),
                // and the selection stays.
                if editor.space_held.get_untracked() {
                    gesture.set(Gesture::Pan {
                        start: screen(ev.client_x(), ev.client_y()),
                        view: viewport.get_untracked(),
                    });
                }
            }
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=move |ev: PointerEvent| {
                untouch(&ev);
                if matches!(gesture.get_untracked(), Gesture::Move { .. }) {
                    editor.end_gesture();
                }
                gesture.set(Gesture::Idle)
            }
            on:pointerenter=move |_| editor.canvas_hovered.set(true)
            on:pointerleave=move |ev: PointerEvent| {
                editor.canvas_hovered.set(false);
                untouch(&ev);
                ghost.set(None);
                if matches!(gesture.get_untracked(), Gesture::Move { .. }) {
                    editor.end_gesture();
                }
                gesture.set(Gesture::Idle)
            }
        >
            <svg
                node_ref=svg
                class="canvas"
                class:space-pan=move || editor.space_held.get()
                aria-hidden="true"
                on:pointerdown=move |ev: PointerEvent| {
                    if touch(&ev) || editor.space_held.get_untracked() {
                        return;
                    }
                    // Empty canvas: shift-drag selects with a rectangle; a plain drag pans.
                    editor.selection.set(None);
                    if ev.shift_key() {
                        let p = at(&ev);
                        gesture.set(Gesture::Marquee { from: p, to: p });
                    } else {
                        gesture.set(Gesture::Pan {
                            start: screen(ev.client_x(), ev.client_y()),
                            view: viewport.get_untracked(),
                        });
                    }
                }
            ></svg>
            <div
                class="world"
                class:space-pan=move || editor.space_held.get()
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
                            <EdgeView editor id publish traversed/>
                        </For>
                    </g>
                    {draft}
                    {marquee}
                    {ghost_view}
                    <g class="nodes">
                        <For each=node_ids key=|id| id.clone() let:id>
                            <NodeView editor id gesture at touch unhandled/>
                        </For>
                    </g>
                    {move || hub.get().map(|(center, spokes)| view! {
                        <g class="orchestrator-hub" class:down=move || editor.run.with(|r| r.as_ref().is_some_and(|r| r.orchestrator_down))>
                            {spokes.into_iter().map(|(id, path)| view! {
                                <path class="spoke" id=format!("spoke-{id}") d=path></path>
                            }).collect_view()}
                            <g
                                transform=format!("translate({:.1} {:.1})", center.0, center.1)
                                role="img"
                                aria-label=move || format!("Orchestrator: {} messages", editor.run.with(|r| r.as_ref().map_or(0, |r| r.messages.orchestrator())))
                            >
                                <circle r="30"></circle>
                                <text y="-2" text-anchor="middle">"Orchestrator"</text>
                                <text class="hub-count" y="13" text-anchor="middle">
                                    {move || format!("{} msgs", editor.run.with(|r| r.as_ref().map_or(0, |r| r.messages.orchestrator())))}
                                </text>
                            </g>
                        </g>
                    })}
                    <g class="pulses" aria-hidden="true">
                        <For each=move || editor.pulses.get() key=|p| p.key let:pulse>
                            <PulseView
                                begin=drawing_time()
                                via_hub=pulse.kind != "event" && hub.with_untracked(Option::is_some)
                                pulse
                            />
                        </For>
                    </g>
                </svg>
            </div>
            <div class="zoom" role="group" aria-label="Zoom">
                <button aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| editor.zoom(1.25)>"+"</button>
                <button aria-label="Zoom out" title="Zoom out (-)" on:click=move |_| editor.zoom(0.8)>"−"</button>
                <button aria-label="Fit to view" title="Fit to view (F)" on:click=move |_| editor.fit()>"Fit"</button>
                <button
                    aria-label="Show the orchestrator"
                    title="Draw the orchestrator as the hub every command passes through"
                    aria-pressed=move || editor.show_orchestrator.get().to_string()
                    on:click=move |_| editor.show_orchestrator.update(|s| *s = !*s)
                >
                    "Hub"
                </button>
                <span class="zoom-level" aria-label="Zoom level">
                    {move || format!("{:.0}%", viewport.get().k * 100.0)}
                </span>
            </div>
            <Legend/>
            // The orchestrator's load during a run: every command and reply passes through it;
            // events go over the bus and never touch it.
            <Show when=move || editor.run.with(Option::is_some)>
                <div class="orchestrator-load" role="status" aria-label="Orchestrator load">
                    {move || editor.run.with(|r| {
                        let m = r.as_ref().map(|r| r.messages).unwrap_or_default();
                        let down = r.as_ref().is_some_and(|r| r.orchestrator_down);
                        view! {
                            "Orchestrator: " <strong>{m.orchestrator()}</strong> " messages · bus: "
                            <strong>{m.events + m.deliveries}</strong>
                            {down.then(|| view! { <strong class="orchestrator-down">" · orchestrator DOWN: commands wait"</strong> })}
                        }
                    })}
                </div>
            </Show>
            <Show when=move || editor.doc.with(|d| d.nodes.is_empty())>
                <p class="empty-hint">"Empty workflow: click a step in the palette, or drag it here."</p>
            </Show>
        </div>
    }
    .into_any()
}

/// How an edge is drawn: its path, where its label (or conductor mark) sits, the label, and
/// whether it is the group's one drawing of a shared publish.
#[derive(Clone, Debug, PartialEq)]
struct EdgeShape {
    path: String,
    mid: (f64, f64),
    label: String,
    kind: EdgeKind,
    on: Outcome,
    /// For a fan-out: the point where the publish splits, if this edge draws it.
    junction: Option<(f64, f64)>,
    subscribers: usize,
}

#[component]
fn EdgeView(
    editor: Editor,
    id: String,
    publish: Memo<std::collections::HashMap<String, Publish>>,
    traversed: Memo<std::collections::HashSet<String>>,
) -> impl IntoView {
    let taken = {
        let id = id.clone();
        Memo::new(move |_| traversed.with(|t| t.contains(&id)))
    };
    let edge = {
        let id = id.clone();
        Memo::new(move |_| {
            let at = editor.edge_index.with(|ix| ix.get(&id).copied());
            editor.doc.with(|d| {
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
    let shape = Memo::new(move |_| {
        let fan_out = fan_out.get();
        edge.with(|e| {
            let e = e.as_ref()?;
            editor.node_index.with(|ix| {
                editor.doc.with(|d| {
                    let from = d.nodes.get(*ix.get(&e.from)?)?;
                    let to = d.nodes.get(*ix.get(&e.to)?)?;
                    let label = match e.kind {
                        EdgeKind::Event => match &e.event {
                            Some(name) if !name.is_empty() => name.clone(),
                            _ => Workflow::default_event_name(&from.label, e.on),
                        },
                        EdgeKind::Command if e.on == Outcome::Failure => "on failure".to_string(),
                        EdgeKind::Command => String::new(),
                    };
                    let start = output_point(from.position);
                    let end = input_point(to.position);
                    Some(match fan_out {
                        // One publish to several subscribers: a shared trunk, then a branch
                        // to each; the first edge of the group carries the event's name.
                        Some(p) => {
                            let junction = (start.0 + PUBLISH_TRUNK, start.1);
                            let (branch, _) = curve(junction, end);
                            EdgeShape {
                                path: format!(
                                    "M {:.1} {:.1} L {:.1} {:.1} {branch}",
                                    start.0, start.1, junction.0, junction.1
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
                            }
                        }
                    })
                })
            })
        })
    });
    let selected = {
        let id = id.clone();
        move || editor.selection.get() == Some(Selection::Edge(id.clone()))
    };
    let select = {
        let id = id.clone();
        move |ev: PointerEvent| {
            if editor.space_held.get_untracked() {
                return;
            }
            ev.stop_propagation();
            editor.selection.set(Some(Selection::Edge(id.clone())));
        }
    };
    let issue = {
        let id = id.clone();
        Memo::new(move |_| {
            editor
                .issues
                .with(|all| badge(all, |i| i.edge.as_deref() == Some(&id)))
        })
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
                    let mut text = format!("{} edge from {} to {}", e.kind.as_str(), e.from, e.to);
                    if subscribers > 1 {
                        text.push_str(&format!(" (one publish, {subscribers} subscribers)"));
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
            class:selected=selected
            data-edge-id=id.clone()
            role="button"
            aria-label=description
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
                    <title>"command: sent by the orchestrator, which waits for the reply"</title>
                    <circle r="6"></circle>
                    <path d="M -3 2 L 3 -3"></path>
                </g>
            </Show>
            <Show when=fan_label>
                <circle class="publish-point" cx=move || mid().0 cy=move || mid().1 r="4">
                    <title>"one publish, delivered to every subscriber"</title>
                </circle>
            </Show>
            <text
                class="edge-label"
                x=move || mid().0 + if fan_label() { 6.0 } else { 0.0 }
                y=move || mid().1 - if kind() == EdgeKind::Command { 11.0 } else { 8.0 }
                text-anchor=move || if fan_label() { "start" } else { "middle" }
            >
                {move || get(|s| s.label.clone())}
            </text>
            <g class="edge-badge" transform=move || format!("translate({:.1} {:.1})", mid().0 + 16.0, mid().1 + 12.0)>
                <Badge issue/>
            </g>
        </g>
    }
    .into_any()
}

#[component]
fn NodeView(
    editor: Editor,
    id: String,
    gesture: RwSignal<Gesture>,
    at: impl Fn(&PointerEvent) -> (f64, f64) + Copy + Send + Sync + 'static,
    touch: impl Fn(&PointerEvent) -> bool + Copy + Send + Sync + 'static,
    unhandled: Memo<std::collections::HashMap<String, String>>,
) -> impl IntoView {
    let unheard = {
        let id = id.clone();
        Memo::new(move |_| unhandled.with(|u| u.get(&id).cloned()))
    };
    let node = {
        let id = id.clone();
        Memo::new(move |_| {
            let at = editor.node_index.with(|ix| ix.get(&id).copied());
            editor.doc.with(|d| {
                at.and_then(|i| d.nodes.get(i))
                    .filter(|n| n.id == id)
                    .cloned()
            })
        })
    };
    let step = {
        let id = id.clone();
        Memo::new(move |_| {
            editor.shown_run.with(|r| {
                r.as_ref().and_then(|r| {
                    r.steps
                        .get(&id)
                        .map(|s| (s.state, s.attempts, r.reply_waiting(&id)))
                })
            })
        })
    };
    let state = Memo::new(move |_| step.get().map(|s| s.0));
    let reply_waiting = move || step.get().is_some_and(|s| s.2);
    // Colour is never the only signal: an icon and words say the state too.
    let state_text = move || {
        step.get()
            .map(|(state, attempts, waiting)| {
                let attempt = match state {
                    StepState::Retrying => format!(" · attempt {} failed", attempts),
                    _ if attempts > 1 => format!(" · attempt {attempts}"),
                    _ => String::new(),
                };
                // The attempt ended but the crashed orchestrator has not heard of it.
                if waiting && state == StepState::Running {
                    let icon = state_icon(StepState::Failed);
                    return format!("{icon} attempt {attempts} failed · reply waiting");
                }
                let reply = if waiting { " · reply waiting" } else { "" };
                format!("{} {}{attempt}{reply}", state_icon(state), state.as_str())
            })
            .unwrap_or_default()
    };
    let pos = move || node.with(|n| n.as_ref().map(|n| n.position).unwrap_or_default());
    let label = move || node.with(|n| n.as_ref().map(|n| n.label.clone()).unwrap_or_default());
    let service_action = move || {
        node.with(|n| {
            n.as_ref()
                .map(|n| format!("{}.{}", n.service, n.action))
                .unwrap_or_default()
        })
    };
    let selected = {
        let id = id.clone();
        move || {
            editor
                .selection
                .with(|s| s.as_ref().is_some_and(|s| s.contains_node(&id)))
        }
    };
    let grab = {
        let id = id.clone();
        move |ev: PointerEvent| {
            if editor.space_held.get_untracked() {
                return; // the canvas pans
            }
            ev.stop_propagation();
            if touch(&ev) {
                return; // a second finger: the canvas pinches
            }
            let current = editor.selection.get_untracked();
            if ev.shift_key() {
                // Shift-click adds the step to the selection, or takes it out.
                let mut ids = current.map(|s| s.nodes()).unwrap_or_default();
                match ids.iter().position(|n| *n == id) {
                    Some(i) => {
                        ids.remove(i);
                    }
                    None => ids.push(id.clone()),
                }
                editor.selection.set(Selection::of_nodes(ids));
                return;
            }
            let (x, y) = at(&ev);
            let p = pos();
            let group = match current.filter(|s| s.contains_node(&id)) {
                // Grabbing one of several selected steps moves them all.
                Some(selection) => editor.doc.with_untracked(|d| {
                    selection
                        .nodes()
                        .into_iter()
                        .filter(|n| *n != id)
                        .filter_map(|n| {
                            d.node(&n)
                                .map(|m| (n.clone(), (m.position.x - p.x, m.position.y - p.y)))
                        })
                        .collect()
                }),
                None => {
                    editor.selection.set(Some(Selection::Node(id.clone())));
                    Vec::new()
                }
            };
            editor.begin_gesture();
            gesture.set(Gesture::Move {
                node: id.clone(),
                grab: (x - p.x, y - p.y),
                group,
            });
        }
    };
    let connect = {
        let id = id.clone();
        move |ev: PointerEvent| {
            if editor.space_held.get_untracked() {
                return;
            }
            ev.stop_propagation();
            if touch(&ev) {
                return;
            }
            gesture.set(Gesture::Connect {
                from: id.clone(),
                to: at(&ev),
            });
        }
    };
    let state_name = move || state.get().map(StepState::as_str).unwrap_or("");
    let issue = {
        let id = id.clone();
        Memo::new(move |_| {
            editor
                .issues
                .with(|all| badge(all, |i| i.node.as_deref() == Some(&id)))
        })
    };
    view! {
        <g
            class=move || match state.get() {
                Some(s) => format!("node state-{}", s.as_str()),
                None => "node".to_string(),
            }
            class:selected=selected
            class:reply-waiting=reply_waiting
            data-node-id=id.clone()
            data-state=state_name
            transform=move || format!("translate({} {})", pos().x, pos().y)
        >
            <rect
                class="node-body"
                width=NODE_WIDTH
                height=NODE_HEIGHT
                rx="10"
                role="button"
                aria-label=label
                on:pointerdown=grab
            ></rect>
            <text class="node-label" x="14" y="26">{label}</text>
            <text class="node-service" x="14" y="46">{service_action}</text>
            <text class="node-state" x=NODE_WIDTH - 10.0 y="-8" text-anchor="end">{state_text}</text>
            <Badge issue/>
            // The failure nobody handled: marked on the step it happened to.
            <Show when=move || unheard.with(Option::is_some)>
                <g
                    class="unheard"
                    transform=format!("translate({} {})", NODE_WIDTH - 34.0, NODE_HEIGHT)
                    role="img"
                    aria-label=move || format!("unhandled failure: {}", unheard.get().unwrap_or_default())
                >
                    <title>{move || unheard.get().unwrap_or_default()}</title>
                    <rect x="-30" y="-9" width="60" height="18" rx="9"></rect>
                    <text x="0" y="4" text-anchor="middle">"unheard"</text>
                </g>
            </Show>
            <circle
                class="handle"
                cx=NODE_WIDTH
                cy=NODE_HEIGHT / 2.0
                r="8"
                role="button"
                aria-label=move || format!("Connect from {}", label())
                on:pointerdown=connect
            ></circle>
        </g>
    }
    .into_any()
}

/// A message travelling along its edge (a reply travels back).
#[component]
fn PulseView(pulse: Pulse, begin: f64, via_hub: bool) -> impl IntoView {
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
        <circle class=format!("pulse pulse-{}", pulse.kind) r="5" cx="0" cy="0">
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

/// The icon beside a step's state.
pub fn state_icon(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "○",
        StepState::Waiting => "◔",
        StepState::Running => "▶",
        StepState::Retrying => "↻",
        StepState::Succeeded => "✓",
        StepState::Failed => "✗",
        StepState::Compensating => "↶",
        StepState::Compensated => "↶",
        StepState::Skipped => "–",
        StepState::Cancelled => "⊘",
    }
}

/// What a step's or an edge's badge shows: the worst severity among its problems, and
/// their messages.
type BadgeText = Option<(&'static str, String)>;

fn badge(issues: &[Issue], mine: impl Fn(&Issue) -> bool) -> BadgeText {
    let mine: Vec<_> = issues.iter().filter(|i| mine(i)).collect();
    let severity = if mine.iter().any(|i| i.severity == Severity::Error) {
        "error"
    } else if mine.is_empty() {
        return None;
    } else {
        "warning"
    };
    let text = mine
        .iter()
        .map(|i| i.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    Some((severity, text))
}

/// A problem badge drawn at the origin (the caller places it); its label is the problems.
#[component]
fn Badge(issue: Memo<BadgeText>) -> impl IntoView {
    let text = move || issue.with(|i| i.as_ref().map(|i| i.1.clone()).unwrap_or_default());
    view! {
        <Show when=move || issue.with(Option::is_some)>
            <g
                class=move || format!("badge {}", issue.with(|i| i.as_ref().map(|i| i.0).unwrap_or("")))
                role="img"
                aria-label=text
            >
                <title>{text}</title>
                <circle cx="0" cy="0" r="9"></circle>
                <text x="0" y="4" text-anchor="middle">"!"</text>
            </g>
        </Show>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <div class="legend" aria-label="Legend">
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="36" y2="6" class="legend-command"></line>
                    <path d="M 34 1 L 44 6 L 34 11 z" class="arrow-command"></path>
                    <g class="conductor-mark" transform="translate(18 6)">
                        <circle r="5"></circle>
                        <path d="M -2.5 1.5 L 2.5 -2.5"></path>
                    </g>
                </svg>
                "command: the orchestrator (◦) sends, awaits the reply"
            </span>
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="38" y2="6" class="legend-event"></line>
                    <path d="M 35 1 L 44 6 L 35 11" class="arrow-event"></path>
                </svg>
                "event: published by name, subscribers react"
            </span>
            <span class="legend-item">
                <svg width="46" height="22" aria-hidden="true">
                    <path d="M 2 11 L 14 11 C 26 11, 26 3, 38 3 M 14 11 C 26 11, 26 19, 38 19" class="legend-event" fill="none"></path>
                    <circle cx="14" cy="11" r="3" class="publish-point"></circle>
                </svg>
                "one publish, several subscribers"
            </span>
            <span class="legend-item">
                <svg width="46" height="12" aria-hidden="true">
                    <line x1="2" y1="6" x2="36" y2="6" class="legend-failure"></line>
                    <path d="M 34 1 L 44 6 L 34 11 z" class="arrow-failure"></path>
                </svg>
                "failure route: taken when the step fails"
            </span>
        </div>
    }
    .into_any()
}
