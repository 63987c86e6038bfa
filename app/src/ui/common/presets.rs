//! The kinds of step a user adds from the palette: each a plain step with a behaviour preset.

use super::geometry::free_slot;
use crate::model::{Latency, Node, Position, RetryPolicy, Workflow};

/// One entry of the palette.
pub struct Preset {
    /// What a screen reader hears (prefixed with "Add ").
    pub name: &'static str,
    /// The button's face.
    pub glyph: &'static str,
    pub hint: &'static str,
    /// Sets the preset's behaviour on a fresh step.
    shape: fn(&mut Node),
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "step",
        glyph: "▭",
        hint: "A service call with the default behaviour",
        shape: |_| {},
    },
    Preset {
        name: "retrying step",
        glyph: "↻",
        hint: "Retries up to 3 attempts, 200 ms backoff doubling",
        shape: |n| {
            n.retry = Some(RetryPolicy {
                max_attempts: 3,
                backoff_ms: 200,
                multiplier: 2.0,
            })
        },
    },
    Preset {
        name: "flaky step",
        glyph: "⚡",
        hint: "Fails 30% of its attempts",
        shape: |n| n.failure_rate = Some(0.3),
    },
    Preset {
        name: "slow step",
        glyph: "◔",
        hint: "Takes 0.8–1.5 s, times out after 1 s",
        shape: |n| {
            n.latency_ms = Some(Latency::Range([800, 1500]));
            n.timeout_ms = Some(1000);
        },
    },
    Preset {
        name: "compensable step",
        glyph: "↶",
        hint: "Has an undo action a saga can run (refund)",
        shape: |n| n.compensation = Some("undo".into()),
    },
];

/// A new step of preset `preset`, with a fresh id, at `at` (or in a free spot).
pub fn new_step(doc: &Workflow, preset: usize, at: Option<Position>) -> Node {
    let id = doc.fresh_id("step-");
    let n = id.trim_start_matches("step-").to_string();
    let mut node = Node {
        id: id.clone(),
        label: format!("Step {n}"),
        service: format!("Service{n}"),
        action: "run".into(),
        position: at.unwrap_or_else(|| free_slot(doc)),
        ..Default::default()
    };
    if let Some(p) = PRESETS.get(preset) {
        (p.shape)(&mut node);
    }
    node
}
