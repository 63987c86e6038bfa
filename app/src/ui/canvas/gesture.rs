//! The canvas's interaction core, without a browser: a reducer from (gesture, input,
//! document, selection, viewport) to (gesture, typed edits, selection, viewport, focus). The
//! canvas component turns pointer, wheel and key events into [`Input`]s and applies the
//! [`Effects`]; tests drive it directly (`app/tests/it/gesture.rs`). As xyflow's `XYDrag` and
//! diagram-js's keyboard bindings, one place decides what a press, a move or a key means.
//!
//! Pointer gestures: drag a step to move it (the selected steps move together); drag from
//! its handle onto another step to connect them; drag empty canvas to pan, with Shift to
//! select with a rectangle; Space held makes any drag a pan; two fingers pinch-zoom; a
//! palette entry dragged in lands where it is released. Keys: arrows focus the nearest step
//! or edge that way, or move the selected steps (Shift: ten times as far); Enter selects;
//! L connects from the focused step, arrows pick the target, Enter connects, Escape cancels.
//!
//! (About 600 lines: one reducer over one state; its transitions are kept in one file so
//! each can be read against the others.)

use crate::model::{GraphChange, Position, Workflow};
use crate::ui::common::actions::{Action, Direction, NUDGE};
use crate::ui::common::geometry::{
    curve, input_point, node_at, node_center, output_point, NODE_HEIGHT, NODE_WIDTH,
};
use crate::ui::common::presets::new_step;
use crate::ui::common::selection::Selection;
use crate::ui::common::viewport::Viewport;

/// What a pointer went down on.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Empty canvas.
    Canvas,
    Node(String),
    /// A step's output handle (where connections start).
    Handle(String),
    Edge(String),
}

/// A step or an edge that can hold the keyboard focus.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Node(String),
    Edge(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Mouse,
    Touch,
}

/// A pointer at a moment: which one, where on the canvas element (screen pixels from its
/// top left corner), and whether Shift was held.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pointer {
    pub id: i32,
    pub device: Device,
    pub screen: (f64, f64),
    pub shift: bool,
}

impl Pointer {
    pub fn mouse(x: f64, y: f64) -> Pointer {
        Pointer {
            id: 1,
            device: Device::Mouse,
            screen: (x, y),
            shift: false,
        }
    }
}

/// What happened on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Down {
        pointer: Pointer,
        on: Target,
    },
    Move(Pointer),
    Up(Pointer),
    /// The pointer was cancelled, or left the canvas.
    Cancel(Pointer),
    /// A wheel turn (`pinch`: a trackpad pinch, which arrives as a wheel with Ctrl held).
    Wheel {
        screen: (f64, f64),
        delta_y: f64,
        pinch: bool,
    },
    /// A canvas key's action (see [`crate::ui::common::actions`]).
    Key(Action),
}

/// The gesture in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Gesture {
    #[default]
    Idle,
    /// Moving a step; `grab` is where the pointer holds it, relative to its corner;
    /// `group` are the other selected steps, with their offsets from it.
    Move {
        node: String,
        grab: (f64, f64),
        group: Vec<(String, (f64, f64))>,
    },
    /// Shift-dragging a selection rectangle, in canvas units.
    Marquee { from: (f64, f64), to: (f64, f64) },
    /// Drawing a new edge from `from`, ending at `to` (canvas units) — over `target` if it
    /// would connect there. `keyboard`: started with L, the target picked with arrows.
    Connect {
        from: String,
        to: (f64, f64),
        target: Option<String>,
        keyboard: bool,
    },
    /// Panning: where the pointer went down (screen) and the view at that moment.
    Pan { start: (f64, f64), view: Viewport },
    /// Two fingers: their distance and midpoint (screen) when the second touched, and the
    /// view at that moment.
    Pinch {
        distance: f64,
        middle: (f64, f64),
        view: Viewport,
    },
}

/// What the canvas looks at when it decides.
#[derive(Clone, Copy, Debug)]
pub struct Scene<'a> {
    pub doc: &'a Workflow,
    pub selection: Option<&'a Selection>,
    pub viewport: Viewport,
    /// The step or edge holding the keyboard focus.
    pub focused: Option<&'a Item>,
    /// Space is held: any drag pans.
    pub space_held: bool,
    /// A palette entry is being dragged in.
    pub palette: Option<usize>,
    /// The page's language (a step dropped from the palette is named in it).
    pub locale: crate::i18n::Locale,
}

/// What an input changes. Edits are applied in order, as one change; `begin` opens an undo
/// group before them and `end` closes it after (a drag undoes as one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    pub edits: Vec<GraphChange>,
    pub begin: bool,
    pub end: bool,
    /// The new selection, if it changes.
    pub select: Option<Option<Selection>>,
    pub viewport: Option<Viewport>,
    /// Move the keyboard focus to this step or edge.
    pub focus: Option<Item>,
    /// The palette drag is over (dropped here, or cancelled).
    pub palette_done: bool,
    /// The input was used (a key's default action is then prevented).
    pub handled: bool,
}

/// The interaction's own state: the gesture, the touch points, and where a step dragged
/// from the palette would land.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interaction {
    pub gesture: Gesture,
    touches: Vec<(i32, (f64, f64))>,
    pub ghost: Option<Position>,
}

/// Wheel zoom per pixel of scroll, and per pixel of trackpad pinch.
pub const WHEEL_ZOOM: f64 = 0.0015;
pub const PINCH_ZOOM: f64 = 0.01;
/// A far nudge (Shift+arrow) moves this many nudges.
pub const FAR: f64 = 10.0;

fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().max(1.0)
}

fn middle(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
}

/// A step dropped (or a ghost shown) centred under canvas point `(x, y)`.
fn centred(x: f64, y: f64) -> Position {
    Position {
        x: (x - NODE_WIDTH / 2.0).round(),
        y: (y - NODE_HEIGHT / 2.0).round(),
    }
}

impl Interaction {
    /// Decides what `input` means in `scene`, updating the gesture.
    pub fn handle(&mut self, input: Input, scene: &Scene) -> Effects {
        match input {
            Input::Down { pointer, on } => self.down(pointer, on, scene),
            Input::Move(pointer) => self.moved(pointer, scene),
            Input::Up(pointer) => self.up(pointer, scene),
            Input::Cancel(pointer) => self.cancel(pointer),
            Input::Wheel {
                screen,
                delta_y,
                pinch,
            } => {
                let speed = if pinch { PINCH_ZOOM } else { WHEEL_ZOOM };
                let factor = (-delta_y * speed).exp();
                Effects {
                    viewport: Some(scene.viewport.zoomed(factor, screen.0, screen.1)),
                    handled: true,
                    ..Default::default()
                }
            }
            Input::Key(action) => self.key(action, scene),
        }
    }

    /// Ends a drag in progress (its undo group closes) and forgets the gesture.
    fn stop(&mut self, effects: &mut Effects) {
        if matches!(self.gesture, Gesture::Move { .. }) {
            effects.end = true;
        }
        self.gesture = Gesture::Idle;
    }

    fn touch(&mut self, pointer: Pointer) {
        if pointer.device == Device::Touch {
            self.touches.retain(|(id, _)| *id != pointer.id);
            self.touches.push((pointer.id, pointer.screen));
        }
    }

    fn untouch(&mut self, pointer: Pointer) {
        self.touches.retain(|(id, _)| *id != pointer.id);
    }

    fn down(&mut self, pointer: Pointer, on: Target, scene: &Scene) -> Effects {
        let mut effects = Effects {
            handled: true,
            ..Default::default()
        };
        self.touch(pointer);
        if let [(_, a), (_, b)] = self.touches[..] {
            // A second finger: whatever the first was doing becomes a pinch.
            self.stop(&mut effects);
            self.gesture = Gesture::Pinch {
                distance: distance(a, b),
                middle: middle(a, b),
                view: scene.viewport,
            };
            return effects;
        }
        if scene.space_held {
            // Space held: a drag anywhere pans, and the selection stays.
            self.gesture = Gesture::Pan {
                start: pointer.screen,
                view: scene.viewport,
            };
            return effects;
        }
        let at = scene.viewport.to_canvas(pointer.screen.0, pointer.screen.1);
        match on {
            Target::Canvas => {
                effects.select = Some(None);
                self.gesture = if pointer.shift {
                    Gesture::Marquee { from: at, to: at }
                } else {
                    Gesture::Pan {
                        start: pointer.screen,
                        view: scene.viewport,
                    }
                };
            }
            Target::Edge(id) => {
                effects.select = Some(Some(Selection::Edge(id.clone())));
                effects.focus = Some(Item::Edge(id));
            }
            Target::Handle(id) => {
                self.gesture = Gesture::Connect {
                    from: id,
                    to: at,
                    target: None,
                    keyboard: false,
                };
            }
            Target::Node(id) => {
                let Some(node) = scene.doc.node(&id) else {
                    return effects;
                };
                let current = scene.selection;
                if pointer.shift {
                    // Shift-click adds the step to the selection, or takes it out.
                    let mut ids = current.map(Selection::nodes).unwrap_or_default();
                    match ids.iter().position(|n| *n == id) {
                        Some(i) => {
                            ids.remove(i);
                        }
                        None => ids.push(id.clone()),
                    }
                    effects.select = Some(Selection::of_nodes(ids));
                    return effects;
                }
                let p = node.position;
                let group = match current.filter(|s| s.contains_node(&id)) {
                    // Grabbing one of several selected steps moves them all.
                    Some(selection) => selection
                        .nodes()
                        .into_iter()
                        .filter(|n| *n != id)
                        .filter_map(|n| {
                            let m = scene.doc.node(&n)?;
                            Some((n, (m.position.x - p.x, m.position.y - p.y)))
                        })
                        .collect(),
                    None => {
                        effects.select = Some(Some(Selection::Node(id.clone())));
                        Vec::new()
                    }
                };
                effects.begin = true;
                effects.focus = Some(Item::Node(id.clone()));
                self.gesture = Gesture::Move {
                    node: id,
                    grab: (at.0 - p.x, at.1 - p.y),
                    group,
                };
            }
        }
        effects
    }

    fn moved(&mut self, pointer: Pointer, scene: &Scene) -> Effects {
        let mut effects = Effects::default();
        if pointer.device == Device::Touch {
            if let Some(entry) = self.touches.iter_mut().find(|(id, _)| *id == pointer.id) {
                entry.1 = pointer.screen;
            }
        }
        let (x, y) = scene.viewport.to_canvas(pointer.screen.0, pointer.screen.1);
        self.ghost = scene.palette.map(|_| centred(x, y));
        match &mut self.gesture {
            Gesture::Idle => {}
            Gesture::Pan { start, view } => {
                effects.viewport =
                    Some(view.panned(pointer.screen.0 - start.0, pointer.screen.1 - start.1));
            }
            Gesture::Pinch {
                distance: d0,
                middle: m0,
                view,
            } => {
                if let [(_, a), (_, b), ..] = self.touches[..] {
                    effects.viewport = Some(view.pinched(distance(a, b) / *d0, *m0, middle(a, b)));
                }
            }
            Gesture::Move { node, grab, group } => {
                let at = Position {
                    x: (x - grab.0).round(),
                    y: (y - grab.1).round(),
                };
                effects.edits.push(GraphChange::MoveNode {
                    id: node.clone(),
                    to: at,
                });
                effects
                    .edits
                    .extend(group.iter().map(|(id, (dx, dy))| GraphChange::MoveNode {
                        id: id.clone(),
                        to: Position {
                            x: at.x + dx,
                            y: at.y + dy,
                        },
                    }));
            }
            Gesture::Marquee { to, .. } => *to = (x, y),
            Gesture::Connect {
                from, to, target, ..
            } => {
                *to = (x, y);
                *target = node_at(scene.doc, x, y).filter(|t| t != from);
            }
        }
        effects
    }

    fn up(&mut self, pointer: Pointer, scene: &Scene) -> Effects {
        let mut effects = Effects::default();
        self.untouch(pointer);
        let (x, y) = scene.viewport.to_canvas(pointer.screen.0, pointer.screen.1);
        if let Some(preset) = scene.palette {
            // A step dragged from the palette lands centred under the pointer.
            let node = new_step(scene.doc, preset, Some(centred(x, y)), scene.locale);
            effects.select = Some(Some(Selection::Node(node.id.clone())));
            effects.edits.push(GraphChange::AddNode(node));
            effects.palette_done = true;
            self.ghost = None;
        }
        match std::mem::take(&mut self.gesture) {
            Gesture::Move { .. } => effects.end = true,
            Gesture::Marquee { from, to } => {
                let (x0, x1) = (from.0.min(to.0), from.0.max(to.0));
                let (y0, y1) = (from.1.min(to.1), from.1.max(to.1));
                let inside = scene
                    .doc
                    .nodes
                    .iter()
                    .filter(|n| {
                        n.position.x < x1
                            && n.position.x + NODE_WIDTH > x0
                            && n.position.y < y1
                            && n.position.y + NODE_HEIGHT > y0
                    })
                    .map(|n| n.id.clone())
                    .collect();
                effects.select = Some(Selection::of_nodes(inside));
            }
            Gesture::Connect {
                from,
                keyboard: false,
                ..
            } => {
                if let Some(to) = node_at(scene.doc, x, y).filter(|to| *to != from) {
                    self.connect(&from, &to, scene, &mut effects);
                }
            }
            other @ Gesture::Connect { keyboard: true, .. } => self.gesture = other,
            _ => {}
        }
        effects
    }

    fn cancel(&mut self, pointer: Pointer) -> Effects {
        let mut effects = Effects::default();
        self.untouch(pointer);
        self.ghost = None;
        if !matches!(self.gesture, Gesture::Connect { keyboard: true, .. }) {
            self.stop(&mut effects);
        }
        effects
    }

    fn connect(&mut self, from: &str, to: &str, scene: &Scene, effects: &mut Effects) {
        let edge = scene.doc.new_edge(from, to);
        effects.select = Some(Some(Selection::Edge(edge.id.clone())));
        effects.focus = Some(Item::Edge(edge.id.clone()));
        effects.edits.push(GraphChange::AddEdge(edge));
    }

    fn key(&mut self, action: Action, scene: &Scene) -> Effects {
        let mut effects = Effects {
            handled: true,
            ..Default::default()
        };
        let keyboard_connect = match &self.gesture {
            Gesture::Connect {
                from,
                target,
                keyboard: true,
                ..
            } => Some((from.clone(), target.clone())),
            _ => None,
        };
        match (action, keyboard_connect) {
            (Action::Arrow(direction, _), Some((from, target))) => {
                let origin = target.as_deref().unwrap_or(&from);
                let next = nearest(
                    scene.doc,
                    &Item::Node(origin.to_string()),
                    direction,
                    |i| matches!(i, Item::Node(n) if *n != from),
                );
                if let Some(Item::Node(next)) = next {
                    self.aim(&from, Some(next), scene);
                }
            }
            (Action::Select, Some((from, Some(target)))) => {
                self.gesture = Gesture::Idle;
                self.connect(&from, &target, scene, &mut effects);
            }
            (Action::Escape, Some((from, _))) => {
                self.gesture = Gesture::Idle;
                effects.focus = Some(Item::Node(from));
            }
            (Action::Select, Some(_)) => {}
            (Action::Connect, _) => {
                let from = match (scene.focused, scene.selection) {
                    (Some(Item::Node(id)), _) | (None, Some(Selection::Node(id))) => id.clone(),
                    _ => return Effects::default(),
                };
                // The first target: the nearest step to the right, else the nearest at all.
                let first = [
                    Direction::Right,
                    Direction::Down,
                    Direction::Up,
                    Direction::Left,
                ]
                .into_iter()
                .find_map(|d| {
                    nearest(
                        scene.doc,
                        &Item::Node(from.clone()),
                        d,
                        |i| matches!(i, Item::Node(n) if *n != from),
                    )
                })
                .and_then(|i| match i {
                    Item::Node(n) => Some(n),
                    Item::Edge(_) => None,
                });
                self.aim(&from, first, scene);
            }
            (Action::Select, None) => match scene.focused {
                Some(Item::Node(id)) => effects.select = Some(Some(Selection::Node(id.clone()))),
                Some(Item::Edge(id)) => effects.select = Some(Some(Selection::Edge(id.clone()))),
                None => return Effects::default(),
            },
            (Action::Escape, None) => effects.select = Some(None),
            (Action::Arrow(direction, far), None) => {
                let moving = scene.selection.map(Selection::nodes).unwrap_or_default();
                if moving.is_empty() {
                    // Nothing to move: the arrow moves the focus.
                    let next = match scene.focused {
                        Some(item) => nearest(scene.doc, item, direction, |_| true),
                        None => scene.doc.nodes.first().map(|n| Item::Node(n.id.clone())),
                    };
                    effects.focus = next;
                } else {
                    let (dx, dy) = direction.vector();
                    let step = if far { NUDGE * FAR } else { NUDGE };
                    effects.begin = true;
                    effects.end = true;
                    effects.edits = moving
                        .iter()
                        .filter_map(|id| scene.doc.node(id))
                        .map(|n| GraphChange::MoveNode {
                            id: n.id.clone(),
                            to: Position {
                                x: n.position.x + dx * step,
                                y: n.position.y + dy * step,
                            },
                        })
                        .collect();
                }
            }
            _ => return Effects::default(),
        }
        effects
    }

    /// A keyboard connection from `from`, aimed at `target` (or nowhere yet).
    fn aim(&mut self, from: &str, target: Option<String>, scene: &Scene) {
        let to = match target.as_deref().and_then(|t| scene.doc.node(t)) {
            Some(node) => input_point(node.position),
            None => match scene.doc.node(from) {
                Some(node) => {
                    let (x, y) = output_point(node.position);
                    (x + 60.0, y)
                }
                None => return,
            },
        };
        self.gesture = Gesture::Connect {
            from: from.to_string(),
            to,
            target,
            keyboard: true,
        };
    }
}

/// Where a step or an edge is, for moving the focus between them: a step's centre, an
/// edge's midpoint.
pub fn item_point(doc: &Workflow, item: &Item) -> Option<(f64, f64)> {
    match item {
        Item::Node(id) => doc.node(id).map(|n| node_center(n.position)),
        Item::Edge(id) => {
            let e = doc.edges.iter().find(|e| e.id == *id)?;
            let (from, to) = (doc.node(&e.from)?, doc.node(&e.to)?);
            Some(curve(output_point(from.position), input_point(to.position)).1)
        }
    }
}

/// The step or edge nearest to `from` in `direction` (among those `eligible`): ahead of it
/// that way, straight ahead counting most.
pub fn nearest(
    doc: &Workflow,
    from: &Item,
    direction: Direction,
    eligible: impl Fn(&Item) -> bool,
) -> Option<Item> {
    let origin = item_point(doc, from)?;
    let (ux, uy) = direction.vector();
    let items = doc
        .nodes
        .iter()
        .map(|n| Item::Node(n.id.clone()))
        .chain(doc.edges.iter().map(|e| Item::Edge(e.id.clone())));
    items
        .filter(|i| i != from && eligible(i))
        .filter_map(|i| {
            let (x, y) = item_point(doc, &i)?;
            let (dx, dy) = (x - origin.0, y - origin.1);
            let ahead = dx * ux + dy * uy;
            let aside = (dx * uy - dy * ux).abs();
            (ahead > 1.0).then_some((ahead + 2.0 * aside, i))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, i)| i)
}
