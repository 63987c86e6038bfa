//! The canvas's interaction core, driven without a browser: pointer gestures, the wheel,
//! two-finger pinch, palette drops and the keyboard, each checked for the edits, selection,
//! view and focus it produces.

use app::model::{Edge, EdgeKind, GraphChange, Node, Position, Workflow};
use app::ui::canvas::gesture::{
    nearest, Device, Effects, Gesture, Input, Interaction, Item, Pointer, Scene, Target,
};
use app::ui::common::actions::{action_for, shortcut, Action, Chord, Direction, Scope, HELP};
use app::ui::common::selection::Selection;
use app::ui::common::viewport::Viewport;

fn node(id: &str, x: f64, y: f64) -> Node {
    Node {
        id: id.into(),
        label: id.to_uppercase(),
        service: "S".into(),
        action: "run".into(),
        position: Position { x, y },
        ..Default::default()
    }
}

/// a at (0,0), b to its right at (300,0), c below a at (0,200); a → b.
fn doc() -> Workflow {
    Workflow {
        name: "w".into(),
        nodes: vec![
            node("a", 0.0, 0.0),
            node("b", 300.0, 0.0),
            node("c", 0.0, 200.0),
        ],
        edges: vec![Edge {
            id: "e1".into(),
            from: "a".into(),
            to: "b".into(),
            kind: EdgeKind::Command,
            on: Default::default(),
            event: None,
            condition: None,
            decided_by: None,
            max_iterations: None,
            payload: None,
        }],
        ..Default::default()
    }
}

/// The scene a test looks at: nothing selected, no pan, zoom 1.
struct World {
    doc: Workflow,
    selection: Option<Selection>,
    viewport: Viewport,
    focused: Option<Item>,
    space_held: bool,
    palette: Option<usize>,
    ix: Interaction,
}

impl World {
    fn new() -> Self {
        World {
            doc: doc(),
            selection: None,
            viewport: Viewport::default(),
            focused: None,
            space_held: false,
            palette: None,
            ix: Interaction::default(),
        }
    }

    /// Feeds an input, then applies its effects to the scene as the canvas would.
    fn feed(&mut self, input: Input) -> Effects {
        let scene = Scene {
            doc: &self.doc,
            selection: self.selection.as_ref(),
            viewport: self.viewport,
            focused: self.focused.as_ref(),
            space_held: self.space_held,
            palette: self.palette,
            locale: app::i18n::Locale::en,
        };
        let effects = self.ix.handle(input, &scene);
        let mut undo = app::model::edit::Undo::default();
        for edit in effects.edits.clone() {
            undo.apply(&mut self.doc, edit);
        }
        if let Some(selection) = effects.select.clone() {
            self.selection = selection;
        }
        if let Some(v) = effects.viewport {
            self.viewport = v;
        }
        if let Some(item) = effects.focus.clone() {
            self.focused = Some(item);
        }
        if effects.palette_done {
            self.palette = None;
        }
        effects
    }

    fn down(&mut self, x: f64, y: f64, on: Target) -> Effects {
        self.feed(Input::Down {
            pointer: Pointer::mouse(x, y),
            on,
        })
    }

    fn key(&mut self, action: Action) -> Effects {
        self.feed(Input::Key(action))
    }

    fn at(&self, id: &str) -> (f64, f64) {
        let p = self.doc.node(id).unwrap().position;
        (p.x, p.y)
    }
}

#[test]
fn dragging_a_step_moves_it_as_one_undoable_gesture_and_selects_it() {
    let mut w = World::new();
    let down = w.down(20.0, 10.0, Target::Node("a".into()));
    assert!(down.begin, "a drag opens an undo group");
    assert_eq!(w.selection, Some(Selection::Node("a".into())));
    w.feed(Input::Move(Pointer::mouse(70.0, 40.0)));
    assert_eq!(
        w.at("a"),
        (50.0, 30.0),
        "the step keeps where it was grabbed"
    );
    let up = w.feed(Input::Up(Pointer::mouse(70.0, 40.0)));
    assert!(up.end, "the release closes the undo group");
    assert_eq!(w.ix.gesture, Gesture::Idle);
}

#[test]
fn grabbing_one_of_several_selected_steps_moves_them_all_and_shift_click_toggles() {
    let mut w = World::new();
    w.down(10.0, 10.0, Target::Node("a".into()));
    w.feed(Input::Up(Pointer::mouse(10.0, 10.0)));
    let shift = Pointer {
        shift: true,
        ..Pointer::mouse(310.0, 10.0)
    };
    w.feed(Input::Down {
        pointer: shift,
        on: Target::Node("b".into()),
    });
    w.feed(Input::Up(shift));
    assert_eq!(
        w.selection,
        Some(Selection::Nodes(vec!["a".into(), "b".into()]))
    );
    w.down(10.0, 10.0, Target::Node("a".into()));
    w.feed(Input::Move(Pointer::mouse(10.0, 110.0)));
    w.feed(Input::Up(Pointer::mouse(10.0, 110.0)));
    assert_eq!(
        (w.at("a"), w.at("b"), w.at("c")),
        ((0.0, 100.0), (300.0, 100.0), (0.0, 200.0))
    );
    // Shift-click on a selected step takes it out.
    w.feed(Input::Down {
        pointer: shift,
        on: Target::Node("b".into()),
    });
    assert_eq!(w.selection, Some(Selection::Node("a".into())));
}

#[test]
fn dragging_from_a_handle_onto_another_step_connects_them_and_selects_the_edge() {
    let mut w = World::new();
    w.down(200.0, 32.0, Target::Handle("a".into()));
    w.feed(Input::Move(Pointer::mouse(20.0, 220.0)));
    match &w.ix.gesture {
        Gesture::Connect { target, .. } => assert_eq!(target.as_deref(), Some("c")),
        other => panic!("expected a connection, got {other:?}"),
    }
    let up = w.feed(Input::Up(Pointer::mouse(20.0, 220.0)));
    let [GraphChange::AddEdge(edge)] = &up.edits[..] else {
        panic!("expected one new edge, got {:?}", up.edits);
    };
    assert_eq!(
        (edge.from.as_str(), edge.to.as_str(), edge.kind),
        ("a", "c", EdgeKind::Command)
    );
    assert_eq!(w.selection, Some(Selection::Edge(edge.id.clone())));
    // Released over its own step or empty canvas: nothing is added.
    w.down(200.0, 32.0, Target::Handle("a".into()));
    assert!(w
        .feed(Input::Up(Pointer::mouse(50.0, 30.0)))
        .edits
        .is_empty());
    w.down(200.0, 32.0, Target::Handle("a".into()));
    assert!(w
        .feed(Input::Up(Pointer::mouse(900.0, 900.0)))
        .edits
        .is_empty());
    assert_eq!(w.doc.edges.len(), 2);
}

#[test]
fn a_shift_drag_on_empty_canvas_selects_what_the_rectangle_touches() {
    let mut w = World::new();
    let from = Pointer {
        shift: true,
        ..Pointer::mouse(-10.0, -10.0)
    };
    w.feed(Input::Down {
        pointer: from,
        on: Target::Canvas,
    });
    w.feed(Input::Move(Pointer::mouse(50.0, 250.0)));
    w.feed(Input::Up(Pointer::mouse(50.0, 250.0)));
    assert_eq!(
        w.selection,
        Some(Selection::Nodes(vec!["a".into(), "c".into()]))
    );
}

#[test]
fn a_plain_drag_on_empty_canvas_pans_and_space_held_pans_from_a_step_too() {
    let mut w = World::new();
    w.selection = Some(Selection::Node("a".into()));
    w.down(500.0, 500.0, Target::Canvas);
    assert_eq!(
        w.selection, None,
        "a press on empty canvas clears the selection"
    );
    w.feed(Input::Move(Pointer::mouse(530.0, 480.0)));
    w.feed(Input::Up(Pointer::mouse(530.0, 480.0)));
    assert_eq!((w.viewport.x, w.viewport.y), (30.0, -20.0));

    w.selection = Some(Selection::Node("a".into()));
    w.space_held = true;
    let before = w.at("a");
    w.down(40.0, 10.0, Target::Node("a".into()));
    w.feed(Input::Move(Pointer::mouse(60.0, 10.0)));
    w.feed(Input::Up(Pointer::mouse(60.0, 10.0)));
    assert_eq!(w.at("a"), before, "Space held: the step stays");
    assert_eq!(
        w.selection,
        Some(Selection::Node("a".into())),
        "and the selection too"
    );
    assert_eq!(w.viewport.x, 50.0);
}

#[test]
fn the_wheel_zooms_around_the_pointer_and_two_fingers_pinch() {
    let mut w = World::new();
    w.feed(Input::Wheel {
        screen: (100.0, 100.0),
        delta_y: -200.0,
        pinch: false,
    });
    assert!(w.viewport.k > 1.0);
    let (cx, cy) = w.viewport.to_canvas(100.0, 100.0);
    assert!(
        (cx - 100.0).abs() < 1e-9 && (cy - 100.0).abs() < 1e-9,
        "the point under the pointer stays"
    );

    let mut w = World::new();
    let finger = |id, x, y| Pointer {
        id,
        device: Device::Touch,
        screen: (x, y),
        shift: false,
    };
    w.feed(Input::Down {
        pointer: finger(1, 100.0, 100.0),
        on: Target::Node("a".into()),
    });
    w.feed(Input::Down {
        pointer: finger(2, 200.0, 100.0),
        on: Target::Canvas,
    });
    assert!(matches!(w.ix.gesture, Gesture::Pinch { .. }));
    w.feed(Input::Move(finger(2, 300.0, 100.0)));
    assert!(
        (w.viewport.k - 2.0).abs() < 1e-9,
        "fingers twice as far apart: zoom ×2"
    );
    assert_eq!(
        w.at("a"),
        (0.0, 0.0),
        "the first finger's step did not move"
    );
}

#[test]
fn a_palette_entry_released_over_the_canvas_lands_centred_under_the_pointer() {
    let mut w = World::new();
    w.palette = Some(1); // the retrying step
    w.feed(Input::Move(Pointer::mouse(600.0, 400.0)));
    assert_eq!(w.ix.ghost, Some(Position { x: 525.0, y: 368.0 }));
    let up = w.feed(Input::Up(Pointer::mouse(600.0, 400.0)));
    assert!(up.palette_done);
    let [GraphChange::AddNode(added)] = &up.edits[..] else {
        panic!("expected one new step, got {:?}", up.edits);
    };
    assert_eq!(added.position, Position { x: 525.0, y: 368.0 });
    assert!(
        added.retry.is_some(),
        "the preset's behaviour comes with it"
    );
    assert_eq!(w.selection, Some(Selection::Node(added.id.clone())));
}

#[test]
fn arrows_move_the_focus_to_the_nearest_step_or_edge_that_way_and_enter_selects() {
    let mut w = World::new();
    w.key(Action::Arrow(Direction::Down, false));
    assert_eq!(
        w.focused,
        Some(Item::Node("a".into())),
        "the first arrow focuses the first step"
    );
    w.key(Action::Arrow(Direction::Right, false));
    assert_eq!(
        w.focused,
        Some(Item::Edge("e1".into())),
        "the edge's midpoint is nearer than b"
    );
    w.key(Action::Arrow(Direction::Right, false));
    assert_eq!(w.focused, Some(Item::Node("b".into())));
    w.key(Action::Arrow(Direction::Left, false));
    w.key(Action::Arrow(Direction::Left, false));
    w.key(Action::Arrow(Direction::Down, false));
    assert_eq!(w.focused, Some(Item::Node("c".into())));
    assert_eq!(w.selection, None, "moving the focus selects nothing");
    w.key(Action::Select);
    assert_eq!(w.selection, Some(Selection::Node("c".into())));
    w.key(Action::Escape);
    assert_eq!(w.selection, None);
    // Nothing that way: the focus stays.
    w.focused = Some(Item::Node("b".into()));
    assert_eq!(
        nearest(&w.doc, &Item::Node("b".into()), Direction::Right, |_| true),
        None
    );
}

#[test]
fn arrows_move_the_selected_steps_and_shift_moves_them_ten_times_as_far() {
    let mut w = World::new();
    w.selection = Some(Selection::Nodes(vec!["a".into(), "c".into()]));
    let nudge = w.key(Action::Arrow(Direction::Right, false));
    assert!(nudge.begin && nudge.end, "one nudge is one undo step");
    assert_eq!((w.at("a"), w.at("c")), ((10.0, 0.0), (10.0, 200.0)));
    w.key(Action::Arrow(Direction::Up, true));
    assert_eq!((w.at("a"), w.at("c")), ((10.0, -100.0), (10.0, 100.0)));
}

#[test]
fn l_connects_from_the_focused_step_arrows_pick_the_target_and_enter_adds_the_edge() {
    let mut w = World::new();
    w.focused = Some(Item::Node("a".into()));
    w.key(Action::Connect);
    match &w.ix.gesture {
        Gesture::Connect {
            from,
            target,
            keyboard: true,
            ..
        } => assert_eq!((from.as_str(), target.as_deref()), ("a", Some("b"))),
        other => panic!("expected a keyboard connection, got {other:?}"),
    }
    // A pointer leaving the canvas does not end a keyboard connection.
    w.feed(Input::Cancel(Pointer::mouse(0.0, 0.0)));
    w.key(Action::Arrow(Direction::Left, false));
    w.key(Action::Arrow(Direction::Down, false));
    match &w.ix.gesture {
        Gesture::Connect { target, .. } => assert_eq!(target.as_deref(), Some("c")),
        other => panic!("expected a keyboard connection, got {other:?}"),
    }
    let done = w.key(Action::Select);
    let [GraphChange::AddEdge(edge)] = &done.edits[..] else {
        panic!("expected one new edge, got {:?}", done.edits);
    };
    assert_eq!((edge.from.as_str(), edge.to.as_str()), ("a", "c"));
    assert_eq!(w.focused, Some(Item::Edge(edge.id.clone())));
    assert_eq!(w.ix.gesture, Gesture::Idle);

    // Escape cancels and gives the focus back to the step.
    w.focused = Some(Item::Node("b".into()));
    w.key(Action::Connect);
    let cancelled = w.key(Action::Escape);
    assert!(cancelled.edits.is_empty());
    assert_eq!(w.focused, Some(Item::Node("b".into())));
    assert_eq!(w.ix.gesture, Gesture::Idle);
    assert_eq!(w.doc.edges.len(), 2);
}

#[test]
fn every_shortcut_shown_is_the_key_that_does_it() {
    let mut actions: Vec<Action> = HELP.to_vec();
    for d in [
        Direction::Left,
        Direction::Right,
        Direction::Up,
        Direction::Down,
    ] {
        actions.push(Action::Arrow(d, false));
        actions.push(Action::Arrow(d, true));
    }
    for action in actions {
        let text = shortcut(action);
        let found = action_for(Chord::parse(text)).map(|(a, _)| a);
        assert_eq!(found, Some(action), "{text:?}");
    }
    assert_eq!(
        action_for(Chord::key("Enter")),
        Some((Action::Select, Scope::Canvas))
    );
    assert_eq!(
        action_for(Chord::parse("Ctrl+Enter")),
        Some((Action::Run, Scope::Page))
    );
    assert_eq!(action_for(Chord::parse("Alt+Z")), None);
}
