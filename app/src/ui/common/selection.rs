//! What is selected on the canvas.

/// What is selected on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Node(String),
    Edge(String),
    /// Two or more steps (marquee or shift-click), moved, deleted and copied together.
    Nodes(Vec<String>),
}

impl Selection {
    /// The selected steps.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Selection::Node(id) => vec![id.clone()],
            Selection::Nodes(ids) => ids.clone(),
            Selection::Edge(_) => Vec::new(),
        }
    }

    pub fn contains_node(&self, id: &str) -> bool {
        match self {
            Selection::Node(n) => n == id,
            Selection::Nodes(ids) => ids.iter().any(|n| n == id),
            Selection::Edge(_) => false,
        }
    }

    /// The selection of exactly these steps (none, one or many).
    pub fn of_nodes(mut ids: Vec<String>) -> Option<Selection> {
        ids.dedup();
        match ids.len() {
            0 => None,
            1 => ids.pop().map(Selection::Node),
            _ => Some(Selection::Nodes(ids)),
        }
    }
}
