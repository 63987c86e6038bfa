//! Where things are drawn: node boxes, handles and edge curves, in canvas units.

use crate::model::{Position, Workflow};

pub const NODE_WIDTH: f64 = 200.0;
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

/// Columns of the grid new steps are placed on: three fit a small canvas.
const SLOT_COLUMNS: usize = 3;

/// Where a new step goes: the first cell of a loose grid (row by row) whose box overlaps no
/// existing step, so a new step is never hidden under another one.
pub fn free_slot(workflow: &Workflow) -> Position {
    let overlaps = |p: Position| {
        workflow.nodes.iter().any(|n| {
            (n.position.x - p.x).abs() < NODE_WIDTH + 20.0
                && (n.position.y - p.y).abs() < NODE_HEIGHT + 20.0
        })
    };
    (0..)
        .map(|i| Position {
            x: 40.0 + (i % SLOT_COLUMNS) as f64 * 235.0,
            y: 60.0 + (i / SLOT_COLUMNS) as f64 * 130.0,
        })
        .find(|p| !overlaps(*p))
        .unwrap_or_default()
}

/// How far above the topmost step the orchestrator hub's centre sits, and its radius.
pub const HUB_RISE: f64 = 110.0;
pub const HUB_RADIUS: f64 = 30.0;

/// The orchestrator drawn as a hub: its centre, and a spoke (SVG path data) to every step
/// it commands (the targets of command edges), by step id.
#[derive(Clone, Debug, PartialEq)]
pub struct Hub {
    pub center: (f64, f64),
    pub spokes: Vec<(String, String)>,
}

/// Where the hub goes: above the drawing's middle. `None` for an empty workflow.
pub fn hub(workflow: &Workflow) -> Option<Hub> {
    let (left, top, right, _) = bounds(workflow)?;
    let center = ((left + right) / 2.0, top - HUB_RISE);
    let mut commanded: Vec<&str> = workflow
        .edges
        .iter()
        .filter(|e| e.kind == crate::model::EdgeKind::Command)
        .map(|e| e.to.as_str())
        .collect();
    commanded.sort_unstable();
    commanded.dedup();
    let spokes = commanded
        .into_iter()
        .filter_map(|id| workflow.node(id))
        .map(|n| {
            let end = (n.position.x + NODE_WIDTH / 2.0, n.position.y);
            (
                n.id.clone(),
                format!(
                    "M {:.1} {:.1} L {:.1} {:.1}",
                    center.0,
                    center.1 + HUB_RADIUS,
                    end.0,
                    end.1
                ),
            )
        })
        .collect();
    Some(Hub { center, spokes })
}

/// The box around every step: (left, top, right, bottom); `None` for an empty workflow.
pub fn bounds(workflow: &Workflow) -> Option<(f64, f64, f64, f64)> {
    if workflow.nodes.is_empty() {
        return None;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for n in &workflow.nodes {
        x0 = x0.min(n.position.x);
        y0 = y0.min(n.position.y);
        x1 = x1.max(n.position.x + NODE_WIDTH);
        y1 = y1.max(n.position.y + NODE_HEIGHT);
    }
    Some((x0, y0, x1, y1))
}

/// The centre of a step's box.
pub fn node_center(p: Position) -> (f64, f64) {
    (p.x + NODE_WIDTH / 2.0, p.y + NODE_HEIGHT / 2.0)
}
