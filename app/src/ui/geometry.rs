//! Where things are drawn: node boxes, handles and edge curves, in canvas units.

use crate::model::{Position, Workflow};

pub const NODE_WIDTH: f64 = 180.0;
pub const NODE_HEIGHT: f64 = 64.0;

/// Where an edge leaves its source (the output handle, right middle).
pub fn output_point(p: Position) -> (f64, f64) {
    (p.x + NODE_WIDTH, p.y + NODE_HEIGHT / 2.0)
}

/// Where an edge enters its target (left middle).
pub fn input_point(p: Position) -> (f64, f64) {
    (p.x, p.y + NODE_HEIGHT / 2.0)
}

/// The cubic Bézier between two points as SVG path data, and its midpoint (for labels).
pub fn curve(from: (f64, f64), to: (f64, f64)) -> (String, (f64, f64)) {
    let dx = ((to.0 - from.0).abs() / 2.0).max(40.0);
    let c1 = (from.0 + dx, from.1);
    let c2 = (to.0 - dx, to.1);
    let mid = (
        (from.0 + 3.0 * c1.0 + 3.0 * c2.0 + to.0) / 8.0,
        (from.1 + 3.0 * c1.1 + 3.0 * c2.1 + to.1) / 8.0,
    );
    (
        format!(
            "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            from.0, from.1, c1.0, c1.1, c2.0, c2.1, to.0, to.1
        ),
        mid,
    )
}

/// The topmost node whose box contains the point.
pub fn node_at(workflow: &Workflow, x: f64, y: f64) -> Option<String> {
    workflow
        .nodes
        .iter()
        .rev()
        .find(|n| {
            x >= n.position.x
                && x <= n.position.x + NODE_WIDTH
                && y >= n.position.y
                && y <= n.position.y + NODE_HEIGHT
        })
        .map(|n| n.id.clone())
}

/// A free spot for the n-th new node: a loose grid, four per row.
pub fn slot(index: usize) -> Position {
    Position {
        x: 60.0 + (index % 4) as f64 * 240.0,
        y: 60.0 + (index / 4) as f64 * 130.0,
    }
}
