//! The kinds of step a user adds from the palette: each a plain step with a behaviour preset.

use super::geometry::free_slot;
use crate::i18n::Locale;
use crate::model::{Latency, Node, Position, RetryPolicy, Workflow};

/// One entry of the palette.
pub struct Preset {
    /// What a screen reader hears (prefixed with "Add "), in a language.
    pub name: fn(Locale) -> &'static str,
    /// The button's face.
    pub glyph: &'static str,
    pub hint: fn(Locale) -> &'static str,
    /// Sets the preset's behaviour on a fresh step.
    shape: fn(&mut Node),
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: |l| td_string!(l, preset.step),
        glyph: "▭",
        hint: |l| td_string!(l, preset.step_hint),
        shape: |_| {},
    },
    Preset {
        name: |l| td_string!(l, preset.retrying),
        glyph: "↻",
        hint: |l| td_string!(l, preset.retrying_hint),
        shape: |n| {
            n.retry = Some(RetryPolicy {
                max_attempts: 3,
                backoff_ms: 200,
                multiplier: 2.0,
            })
        },
    },
    Preset {
        name: |l| td_string!(l, preset.flaky),
        glyph: "⚡",
        hint: |l| td_string!(l, preset.flaky_hint),
        shape: |n| n.failure_rate = Some(0.3),
    },
    Preset {
        name: |l| td_string!(l, preset.slow),
        glyph: "◔",
        hint: |l| td_string!(l, preset.slow_hint),
        shape: |n| {
            n.latency_ms = Some(Latency::Range([800, 1500]));
            n.timeout_ms = Some(1000);
        },
    },
    Preset {
        name: |l| td_string!(l, preset.compensable),
        glyph: "↶",
        hint: |l| td_string!(l, preset.compensable_hint),
        shape: |n| n.compensation = Some("undo".into()),
    },
];

/// A new step of preset `preset`, with a fresh id, at `at` (or in a free spot), named in
/// `locale`'s words.
pub fn new_step(doc: &Workflow, preset: usize, at: Option<Position>, locale: Locale) -> Node {
    let id = doc.fresh_id("step-");
    let n = id.trim_start_matches("step-").to_string();
    let mut node = Node {
        id: id.clone(),
        label: td_string!(locale, canvas.new_step, n = &n).to_string(),
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
