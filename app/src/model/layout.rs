//! Automatic layout: layered, left to right (a Sugiyama-style sketch). Each step goes one
//! layer right of its furthest predecessor; within a layer, steps are ordered by the mean
//! position of their predecessors (the barycenter heuristic), which removes most crossings.

use std::collections::{HashMap, VecDeque};

use super::workflow::{Position, Workflow};

/// The width of a step on the canvas (the UI draws steps this wide): narrow enough that the
/// e-commerce templates, four steps and three event names wide, fit a 1280-pixel screen at
/// 80 % or more; a longer label takes a second line in the box.
pub const STEP_WIDTH: f64 = 150.0;
/// The least room between two layers, in canvas units: an edge stays long enough to hit.
pub const MIN_LAYER_SPACE: f64 = 120.0;
/// The most room between two layers, however long an event's name.
pub const MAX_LAYER_SPACE: f64 = 420.0;
/// About how wide one character of an edge's label is (12 px text), and the label's margin.
const LABEL_CHAR: f64 = 7.2;
const LABEL_MARGIN: f64 = 56.0;
/// Vertical distance between steps of one layer.
pub const ROW_GAP: f64 = 110.0;
const MARGIN: f64 = 40.0;

/// The layered positions for every node (same order as `workflow.nodes`).
pub fn layered(workflow: &Workflow) -> Vec<Position> {
    let n = workflow.nodes.len();
    let index: HashMap<&str, usize> = workflow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (node.id.as_str(), i))
        .collect();
    let mut successors = vec![Vec::new(); n];
    let mut predecessors = vec![Vec::new(); n];
    for edge in &workflow.edges {
        if let (Some(&a), Some(&b)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str())) {
            if a != b {
                successors[a].push(b);
                predecessors[b].push(a);
            }
        }
    }
    // Longest path from the roots over the graph with back edges ignored: a node is placed
    // once all predecessors that are not part of a cycle through it are placed.
    let mut layer = vec![0usize; n];
    let mut pending: Vec<usize> = predecessors.iter().map(Vec::len).collect();
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut placed = vec![false; n];
    // Where the search for an unplaced node goes on from: each node is looked at once in
    // all (the search used to start again from 0 for every cycle, O(n²)).
    let mut unplaced_from = 0;
    loop {
        while let Some(a) = queue.pop_front() {
            if placed[a] {
                continue;
            }
            placed[a] = true;
            for &b in &successors[a] {
                if placed[b] {
                    continue; // a back edge: ignored
                }
                layer[b] = layer[b].max(layer[a] + 1);
                pending[b] = pending[b].saturating_sub(1);
                if pending[b] == 0 {
                    queue.push_back(b);
                }
            }
        }
        // Whatever is left sits on cycles: start from the first such node.
        while unplaced_from < n && placed[unplaced_from] {
            unplaced_from += 1;
        }
        if unplaced_from == n {
            break;
        }
        queue.push_back(unplaced_from);
    }
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..n {
        rows[layer[i]].push(i);
    }
    let mut row_of = vec![0.0f64; n];
    for row in rows.iter_mut() {
        let key = |i: usize| {
            let preds = &predecessors[i];
            if preds.is_empty() {
                i as f64
            } else {
                preds.iter().map(|&p| row_of[p]).sum::<f64>() / preds.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = row.iter().map(|&i| (key(i), i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *row = keyed.into_iter().map(|(_, i)| i).collect();
        for (r, &i) in row.iter().enumerate() {
            row_of[i] = r as f64;
        }
    }
    // Each layer leaves room after it for the longest label on an edge leaving it (an
    // event's name, "on failure"), so labels are not clipped and edges are easy to hit.
    let mut space = vec![MIN_LAYER_SPACE; layers];
    for edge in &workflow.edges {
        let (Some(&from), Some(_)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        else {
            continue;
        };
        let label = match edge.kind {
            super::workflow::EdgeKind::Event => workflow.event_name(edge).chars().count(),
            super::workflow::EdgeKind::Command if !edge.on.is_success() => "on failure".len(),
            super::workflow::EdgeKind::Command => 0,
        };
        let room =
            (label as f64 * LABEL_CHAR + LABEL_MARGIN).clamp(MIN_LAYER_SPACE, MAX_LAYER_SPACE);
        space[layer[from]] = space[layer[from]].max(room);
    }
    let mut left = vec![MARGIN; layers];
    for l in 1..layers {
        left[l] = left[l - 1] + STEP_WIDTH + space[l - 1];
    }
    (0..n)
        .map(|i| Position {
            x: left[layer[i]],
            y: MARGIN + row_of[i] * ROW_GAP,
        })
        .collect()
}

/// Moves every node to its layered position.
pub fn apply_layout(workflow: &mut Workflow) {
    let positions = layered(workflow);
    for (node, position) in workflow.nodes.iter_mut().zip(positions) {
        node.position = position;
    }
}
