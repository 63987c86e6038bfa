//! Where things are drawn: node boxes, handles and edge curves, in canvas units.

use crate::model::{Position, Workflow};

/// A step's box: as wide as the layout places steps (one constant for both).
pub const NODE_WIDTH: f64 = crate::model::layout::STEP_WIDTH;
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

/// Where a step's text starts inside its box, and the room it has (the output handle takes
/// the right edge).
pub const TEXT_LEFT: f64 = 10.0;
pub const TEXT_ROOM: f64 = NODE_WIDTH - TEXT_LEFT - 10.0;
/// The step label's font size (bold) and the service line's (monospace), in canvas units.
pub const LABEL_PX: f64 = 12.0;
pub const SERVICE_PX: f64 = 11.0;

/// About how wide `text` is drawn at `px` (a bold sans-serif such as DejaVu Sans Bold, or
/// monospace), erring wide: Hangul and other wide characters take a whole em, capitals
/// four fifths, narrow letters and punctuation under half, the rest seven tenths.
pub fn text_width(text: &str, px: f64, monospace: bool) -> f64 {
    text.chars()
        .map(|c| {
            let wide = matches!(c as u32, 0x1100..=0x11FF | 0x2E80..=0xA4CF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF);
            if wide {
                1.0
            } else if monospace {
                0.61
            } else if c.is_ascii_uppercase() {
                0.82
            } else if matches!(c, 'i' | 'l' | 'j' | 't' | 'f' | 'r' | '.' | ',' | '(' | ')' | '\'' | ':' | ';' | '|' | '!') {
                0.46
            } else if c == ' ' {
                0.36
            } else {
                0.71
            }
        })
        .sum::<f64>()
        * px
}

/// `text` cut to fit `room` at `px`, ending in "…" when it was cut.
pub fn fitted(text: &str, room: f64, px: f64, monospace: bool) -> String {
    if text_width(text, px, monospace) <= room {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() && text_width(&format!("{cut}…"), px, monospace) > room {
        cut.pop();
    }
    format!("{}…", cut.trim_end())
}

/// A step's label as it is drawn in its box: one line, or two broken between words, the
/// second cut with "…" if even two do not hold it.
pub fn label_lines(label: &str) -> Vec<String> {
    if text_width(label, LABEL_PX, false) <= TEXT_ROOM {
        return vec![label.to_string()];
    }
    // The most words that fit the first line (at least one, cut if it alone is too long).
    let words: Vec<&str> = label.split(' ').collect();
    let mut first = String::new();
    let mut taken = 0;
    for word in &words {
        let candidate = if first.is_empty() {
            word.to_string()
        } else {
            format!("{first} {word}")
        };
        if text_width(&candidate, LABEL_PX, false) > TEXT_ROOM {
            break;
        }
        first = candidate;
        taken += 1;
    }
    if taken == 0 {
        // One long word (or Korean without spaces): break it by characters.
        let mut head = String::new();
        for c in label.chars() {
            if text_width(&format!("{head}{c}"), LABEL_PX, false) > TEXT_ROOM {
                break;
            }
            head.push(c);
        }
        let rest: String = label.chars().skip(head.chars().count()).collect();
        return vec![head, fitted(rest.trim_start(), TEXT_ROOM, LABEL_PX, false)];
    }
    let rest = words[taken..].join(" ");
    vec![first, fitted(&rest, TEXT_ROOM, LABEL_PX, false)]
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn short_labels_take_one_line_and_long_ones_two_inside_the_box() {
        assert_eq!(label_lines("Payment"), ["Payment"]);
        assert_eq!(
            label_lines("Update order (back order)"),
            ["Update order", "(back order)"]
        );
        for label in [
            "Notify payment rejected",
            "Update order (back order)",
            "Convert + resize WebP",
            "A label far too long to be held by two lines of a narrow step box",
            "결제가 거절되었음을 고객에게 알리는 단계의 아주 긴 이름",
            "Supercalifragilisticexpialidocious",
        ] {
            let lines = label_lines(label);
            assert!(lines.len() <= 2, "{label}: {lines:?}");
            for line in &lines {
                assert!(
                    text_width(line, LABEL_PX, false) <= TEXT_ROOM,
                    "{label}: {line}"
                );
            }
        }
        let service = fitted("OrderService.markBackOrdered", TEXT_ROOM, SERVICE_PX, true);
        assert!(
            service.starts_with("OrderService.mark") && service.ends_with('…'),
            "{service}"
        );
        assert!(
            text_width(&service, SERVICE_PX, true) <= TEXT_ROOM,
            "{service}"
        );
        assert_eq!(
            fitted("OrderService.place", TEXT_ROOM, SERVICE_PX, true),
            "OrderService.place"
        );
    }
}
