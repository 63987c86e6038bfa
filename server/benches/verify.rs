//! What the explorer costs (issue #28): each shipped template explored exhaustively at the
//! default bounds (2 faults on attempts — an orchestrator crash counts as one — and 1 on
//! the bus): schedules, distinct states, what it found, the time and schedules per second.
//! The goal is under 10 s a template on this 2-core machine. The reduction's effect: the
//! schedules a search over orders of faults would run (`unreduced`, `Bounds::reduce` off)
//! beside the schedules run, and their times.
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
        "{:<34} {:>9} {:>9} {:>7} {:>9} {:>12} {:>9} {:>9}  broken invariants",
        "template", "schedules", "states", "broken", "ms", "schedules/s", "unreduced", "ms"
    );
    let (mut all, mut all_unreduced) = (0u64, 0u64);
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
        let started = Instant::now();
        let unreduced = explore(
            &workflow,
            &input,
            1,
            Bounds {
                reduce: false,
                ..Bounds::default()
            },
            &never,
        );
        let unreduced_ms = started.elapsed().as_secs_f64() * 1000.0;
        all += found.schedules;
        all_unreduced += unreduced.schedules;
        if ms > slowest.1 {
            slowest = (template.key.to_string(), ms);
        }
        println!(
            "{:<34} {:>9} {:>9} {:>7} {:>9.1} {:>12.0} {:>9} {:>9.1}  {}{}",
            template.key,
            found.schedules,
            found.states,
            found.broken,
            ms,
            found.schedules as f64 / (ms / 1000.0).max(1e-9),
            unreduced.schedules,
            unreduced_ms,
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
    println!(
        "the reduction: {all} schedules run where a search over orders would run {all_unreduced} ({:.2}×)",
        all_unreduced as f64 / all.max(1) as f64
    );
}
