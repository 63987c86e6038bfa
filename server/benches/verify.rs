//! What the explorer costs (issue #28): each shipped template explored exhaustively at the
//! default bounds (2 faults on attempts — an orchestrator crash counts as one — and 1 on
//! the bus): schedules, distinct states, what it found, the time and schedules per second.
//! The goal is under 10 s a template on this 2-core machine.
//!
//! `cargo bench -p server --bench verify` (`VERIFY_ONLY=ecommerce` to run the templates
//! whose key has it).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use app::model::examples::{from_template, ALL};
use server::verify::{explore, Bounds};

fn main() {
    let only = std::env::var("VERIFY_ONLY").ok();
    let never = AtomicBool::new(false);
    println!(
        "{:<34} {:>9} {:>9} {:>7} {:>9} {:>12}  broken invariants",
        "template", "schedules", "states", "broken", "ms", "schedules/s"
    );
    let mut slowest = (String::new(), 0.0f64);
    for template in ALL {
        if only.as_deref().is_some_and(|o| !template.key.contains(o)) {
            continue;
        }
        let workflow = from_template(template);
        let input = serde_json::Value::Object(
            workflow
                .scenarios
                .first()
                .map(|s| s.input.clone())
                .unwrap_or_default(),
        );
        let started = Instant::now();
        let found = explore(&workflow, &input, 1, Bounds::default(), &never);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if ms > slowest.1 {
            slowest = (template.key.to_string(), ms);
        }
        println!(
            "{:<34} {:>9} {:>9} {:>7} {:>9.1} {:>12.0}  {}{}",
            template.key,
            found.schedules,
            found.states,
            found.broken,
            ms,
            found.schedules as f64 / (ms / 1000.0).max(1e-9),
            found
                .counterexamples
                .iter()
                .map(|c| format!("{:?}({})", c.invariant, c.choices.len()))
                .collect::<Vec<_>>()
                .join(" "),
            if found.truncated {
                "  (stopped at the limit)"
            } else {
                ""
            }
        );
    }
    println!("slowest: {} in {:.1} ms", slowest.0, slowest.1);
}
