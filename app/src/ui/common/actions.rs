//! The editor's named actions and the keys bound to them: one table the keyboard handler,
//! the toolbar's tooltips and the shortcuts help read (as diagram-js's `KeyboardBindings`).

/// A direction on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

impl Direction {
    /// The unit vector, in canvas units (y grows downwards).
    pub fn vector(self) -> (f64, f64) {
        match self {
            Direction::Left => (-1.0, 0.0),
            Direction::Right => (1.0, 0.0),
            Direction::Up => (0.0, -1.0),
            Direction::Down => (0.0, 1.0),
        }
    }
}

/// Something a user can do in the editor, whatever started it (a key, a button, a menu).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Undo,
    Redo,
    Delete,
    Duplicate,
    ZoomIn,
    ZoomOut,
    Fit,
    /// Switch the selected edge to a command, or to an event.
    MakeCommand,
    MakeEvent,
    AutoLayout,
    ToggleHub,
    Save,
    Run,
    /// Canvas: select the focused step or edge (or finish a connection on it).
    Select,
    /// Canvas: cancel a connection, else clear the selection.
    Escape,
    /// Canvas: start a connection from the focused step; arrows pick the target.
    Connect,
    /// Give the keyboard focus to the inspector's field for the selection: an edge's
    /// condition, a step's first field.
    Inspect,
    /// Canvas: an arrow key (`far`: with Shift). It moves the selected steps that way (ten
    /// times as far with Shift); with no step selected it focuses the nearest step or edge
    /// that way; while connecting it picks the next target that way.
    Arrow(Direction, bool),
}

/// Where an action's key works: anywhere on the page (outside text fields), or only while
/// the canvas has the keyboard focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Page,
    Canvas,
}

/// A key press: the key's name (`KeyboardEvent.key`) and the modifiers held. Ctrl and Cmd
/// are the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord<'a> {
    pub key: &'a str,
    pub ctrl: bool,
    pub shift: bool,
    pub alt: bool,
}

impl<'a> Chord<'a> {
    pub fn key(key: &'a str) -> Self {
        Chord {
            key,
            ctrl: false,
            shift: false,
            alt: false,
        }
    }

    /// Reads "Ctrl+Shift+Z"-style text (as [`shortcut`] writes it).
    pub fn parse(text: &'a str) -> Self {
        let mut chord = Chord::key("");
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("Ctrl+") {
                chord.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("Shift+") {
                chord.shift = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("Alt+") {
                chord.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        chord.key = rest;
        chord
    }
}

/// How far one nudge moves a step, in canvas units (a far nudge moves ten times as far).
pub const NUDGE: f64 = 10.0;

fn arrow(key: &str) -> Option<Direction> {
    match key {
        "ArrowLeft" => Some(Direction::Left),
        "ArrowRight" => Some(Direction::Right),
        "ArrowUp" => Some(Direction::Up),
        "ArrowDown" => Some(Direction::Down),
        _ => None,
    }
}

/// The action bound to a key press, and where it works.
pub fn action_for(chord: Chord) -> Option<(Action, Scope)> {
    use Action::*;
    let Chord {
        key,
        ctrl,
        shift,
        alt,
    } = chord;
    if alt {
        return None;
    }
    if let Some(direction) = arrow(key) {
        return (!ctrl).then_some((Arrow(direction, shift), Scope::Canvas));
    }
    let key = if key.len() == 1 {
        key.to_ascii_lowercase()
    } else {
        key.to_string()
    };
    let page = |a| Some((a, Scope::Page));
    match (key.as_str(), ctrl, shift) {
        ("z", true, false) => page(Undo),
        ("z", true, true) | ("y", true, false) => page(Redo),
        ("d", true, false) => page(Duplicate),
        ("s", true, false) => page(Save),
        ("Enter", true, false) => page(Run),
        ("Delete" | "Backspace", false, false) => page(Delete),
        ("+" | "=", false, _) => page(ZoomIn),
        ("-", false, false) => page(ZoomOut),
        ("f", false, false) => page(Fit),
        ("c", false, false) => page(MakeCommand),
        ("e", false, false) => page(MakeEvent),
        ("h", false, false) => page(ToggleHub),
        ("i", false, false) => page(Inspect),
        ("a", false, true) => page(AutoLayout),
        ("Enter", false, false) => Some((Select, Scope::Canvas)),
        ("Escape", false, false) => Some((Escape, Scope::Canvas)),
        ("l", false, false) => Some((Connect, Scope::Canvas)),
        _ => None,
    }
}

/// The key that does `action`, as shown in tooltips and the shortcuts help.
pub fn shortcut(action: Action) -> &'static str {
    use Action::*;
    use Direction::*;
    match action {
        Undo => "Ctrl+Z",
        Redo => "Ctrl+Shift+Z",
        Delete => "Delete",
        Duplicate => "Ctrl+D",
        ZoomIn => "+",
        ZoomOut => "-",
        Fit => "F",
        MakeCommand => "C",
        MakeEvent => "E",
        AutoLayout => "Shift+A",
        ToggleHub => "H",
        Inspect => "I",
        Save => "Ctrl+S",
        Run => "Ctrl+Enter",
        Select => "Enter",
        Escape => "Escape",
        Connect => "L",
        Arrow(Left, false) => "ArrowLeft",
        Arrow(Right, false) => "ArrowRight",
        Arrow(Up, false) => "ArrowUp",
        Arrow(Down, false) => "ArrowDown",
        Arrow(Left, true) => "Shift+ArrowLeft",
        Arrow(Right, true) => "Shift+ArrowRight",
        Arrow(Up, true) => "Shift+ArrowUp",
        Arrow(Down, true) => "Shift+ArrowDown",
    }
}

/// Every action with a key the shortcuts help lists (with [`help_text`]).
pub const HELP: &[Action] = &[
    Action::Arrow(Direction::Right, false),
    Action::Select,
    Action::Connect,
    Action::Escape,
    Action::MakeCommand,
    Action::MakeEvent,
    Action::Inspect,
    Action::Delete,
    Action::Duplicate,
    Action::Undo,
    Action::Redo,
    Action::AutoLayout,
    Action::Fit,
    Action::ZoomIn,
    Action::ZoomOut,
    Action::ToggleHub,
    Action::Save,
    Action::Run,
];

/// What an action of [`HELP`] does, in `locale`'s words.
pub fn help_text(locale: crate::i18n::Locale, action: Action) -> &'static str {
    match action {
        Action::Arrow(..) => td_string!(locale, shortcut.arrows),
        Action::Select => td_string!(locale, shortcut.select),
        Action::Connect => td_string!(locale, shortcut.connect),
        Action::Escape => td_string!(locale, shortcut.escape),
        Action::MakeCommand => td_string!(locale, shortcut.make_command),
        Action::MakeEvent => td_string!(locale, shortcut.make_event),
        Action::Inspect => td_string!(locale, shortcut.inspect),
        Action::Delete => td_string!(locale, shortcut.delete),
        Action::Duplicate => td_string!(locale, shortcut.duplicate),
        Action::Undo => td_string!(locale, shortcut.undo),
        Action::Redo => td_string!(locale, shortcut.redo),
        Action::AutoLayout => td_string!(locale, shortcut.auto_layout),
        Action::Fit => td_string!(locale, shortcut.fit),
        Action::ZoomIn => td_string!(locale, shortcut.zoom_in),
        Action::ZoomOut => td_string!(locale, shortcut.zoom_out),
        Action::ToggleHub => td_string!(locale, shortcut.toggle_hub),
        Action::Save => td_string!(locale, shortcut.save),
        Action::Run => td_string!(locale, shortcut.run),
    }
}
