//! A compare batch: one flow run as drawn, as all orchestration and as all choreography,
//! on the same seeds, in virtual time; then the fail-at-every-step matrix and a reading of
//! the numbers. Pure and deterministic: the same request gives the same result.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use app::model::convert::{convert, Style};
use app::model::lab::{
    CompareResult, FailCell, FailMatrix, FailRow, LabOutcome, LabStyle, LatencyFigures,
    OutcomeCounts, StyleFigures, VisibilityFigures,
};
use app::model::{Faults, MessageCounts, RunEvent, Workflow};
use serde_json::Value;

use super::measure::{blast_radius, coupling, facts, percentile, RunFacts};
use super::simulate::VirtualRun;

/// What a batch runs.
#[derive(Clone, Debug)]
pub struct CompareSpec {
    pub workflow: Workflow,
    pub input: Value,
    pub runs: u32,
    pub seed: u64,
    pub faults: Faults,
}

/// Runs done per style (in [`LabStyle::ALL`] order), and the cancel switch.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: [AtomicU32; 3],
    pub cancel: AtomicBool,
}

impl Progress {
    pub fn done(&self, style: usize) -> u32 {
        self.done[style].load(Ordering::Relaxed)
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The workflow a style runs, and what converting to it lost.
pub fn variant(workflow: &Workflow, style: LabStyle) -> (Workflow, Vec<app::model::lint::Warning>) {
    match style {
        LabStyle::AsDrawn => (workflow.clone(), Vec::new()),
        LabStyle::Orchestration => {
            let c = convert(workflow, Style::Orchestration);
            (c.workflow, c.lost)
        }
        LabStyle::Choreography => {
            let c = convert(workflow, Style::Choreography);
            (c.workflow, c.lost)
        }
    }
}

/// The same workflow with nothing that can fail: the reference a failure is measured
/// against.
pub fn without_failures(workflow: &Workflow) -> Workflow {
    let mut w = workflow.clone();
    for n in &mut w.nodes {
        n.failure_rate = None;
        n.fail_when = None;
        n.timeout_ms = None;
    }
    w
}

/// Runs the whole batch; `None` when it was cancelled.
pub fn compare(spec: &CompareSpec, progress: &Progress) -> Option<CompareResult> {
    let mut styles = Vec::new();
    for (i, style) in LabStyle::ALL.into_iter().enumerate() {
        let (workflow, lost) = variant(&spec.workflow, style);
        let reference = facts(
            &workflow,
            &VirtualRun::complete(
                &without_failures(&workflow),
                spec.input.clone(),
                spec.seed,
                Faults::default(),
            ),
        );
        let mut runs = Vec::with_capacity(spec.runs as usize);
        for r in 0..spec.runs {
            if progress.cancelled() {
                return None;
            }
            let seed = spec.seed.wrapping_add(u64::from(r));
            let run =
                VirtualRun::complete(&workflow, spec.input.clone(), seed, spec.faults.clone());
            if let Some(f) = facts(&workflow, &run) {
                runs.push(f);
            }
            progress.done[i].fetch_add(1, Ordering::Relaxed);
        }
        styles.push(figures(style, &workflow, lost, &runs, reference.as_ref()));
    }
    let matrix = fail_matrix(&spec.workflow, &spec.input, spec.seed);
    let reading = reading(&styles, &spec.faults, spec.runs);
    Some(CompareResult {
        styles,
        matrix,
        reading,
    })
}

fn figures(
    style: LabStyle,
    workflow: &Workflow,
    lost: Vec<app::model::lint::Warning>,
    runs: &[RunFacts],
    reference: Option<&RunFacts>,
) -> StyleFigures {
    let mut outcomes = OutcomeCounts::default();
    let mut messages = MessageCounts::default();
    let (mut steps, mut retries, mut compensations) = (0, 0, 0);
    let mut latencies: Vec<u64> = Vec::with_capacity(runs.len());
    let mut radii = Vec::new();
    let mut example = None;
    for run in runs {
        outcomes.add(run.outcome);
        messages.commands += run.messages.commands;
        messages.replies += run.messages.replies;
        messages.events += run.messages.events;
        messages.deliveries += run.messages.deliveries;
        steps += run.steps_executed;
        retries += run.retries;
        compensations += run.compensations;
        latencies.push(run.latency_ms);
        if !run.failed_steps.is_empty() {
            if let Some(reference) = reference {
                radii.push(blast_radius(run, reference));
            }
        }
        if example.is_none()
            && matches!(
                run.outcome,
                LabOutcome::Unhandled | LabOutcome::Inconsistent | LabOutcome::Stalled
            )
        {
            example = run.diagnosis.clone();
        }
    }
    latencies.sort_unstable();
    let orchestrator = messages.orchestrator();
    let total = messages.commands + messages.replies + messages.events + messages.deliveries;
    StyleFigures {
        style,
        runs: runs.len() as u32,
        outcomes,
        latency_ms: LatencyFigures {
            p50: percentile(&latencies, 0.50),
            p95: percentile(&latencies, 0.95),
            p99: percentile(&latencies, 0.99),
            max: latencies.last().copied().unwrap_or(0),
        },
        messages,
        orchestrator_messages: orchestrator,
        orchestrator_share: if total == 0 {
            0.0
        } else {
            orchestrator as f64 / total as f64
        },
        steps_executed: steps,
        retries,
        compensations,
        blast_radius_mean: if radii.is_empty() {
            0.0
        } else {
            radii.iter().map(|&r| f64::from(r)).sum::<f64>() / radii.len() as f64
        },
        blast_radius_max: radii.iter().copied().max().unwrap_or(0),
        runs_with_failure: radii.len() as u32,
        coupling: coupling(workflow),
        visibility: visibility(runs),
        lost,
        example_diagnosis: example,
    }
}

fn visibility(runs: &[RunFacts]) -> VisibilityFigures {
    let n = runs.len().max(1) as f64;
    let mean = |f: fn(&RunFacts) -> u32| runs.iter().map(|r| f64::from(f(r))).sum::<f64>() / n;
    VisibilityFigures {
        state_places: mean(|r| r.visibility.state_places),
        logs_to_read: mean(|r| r.visibility.logs_to_read),
        longest_chain: runs
            .iter()
            .map(|r| r.visibility.longest_chain)
            .max()
            .unwrap_or(0),
    }
}

/// For each step, one run per style where only that step fails (every attempt), every
/// other step succeeds, with the batch's input and seed.
pub fn fail_matrix(workflow: &Workflow, input: &Value, seed: u64) -> FailMatrix {
    let variants: Vec<(LabStyle, Workflow)> = LabStyle::ALL
        .into_iter()
        .map(|style| (style, without_failures(&variant(workflow, style).0)))
        .collect();
    let references: Vec<Option<RunFacts>> = variants
        .iter()
        .map(|(_, w)| {
            facts(
                w,
                &VirtualRun::complete(w, input.clone(), seed, Faults::default()),
            )
        })
        .collect();
    let rows = workflow
        .nodes
        .iter()
        .map(|node| FailRow {
            node: node.id.clone(),
            label: node.label.clone(),
            cells: variants
                .iter()
                .zip(&references)
                .map(|((style, w), reference)| {
                    let faults = Faults {
                        fail_step: Some(node.id.clone()),
                        ..Faults::default()
                    };
                    let run = VirtualRun::complete(w, input.clone(), seed, faults);
                    let reached = run.history.iter().any(|(_, e)| {
                        matches!(e, RunEvent::StepStarted { node: n, .. } if *n == node.id)
                    });
                    match facts(w, &run) {
                        Some(f) => FailCell {
                            style: *style,
                            reached,
                            outcome: f.outcome,
                            blast_radius: reference.as_ref().map_or(0, |r| blast_radius(&f, r)),
                            diagnosis: f.diagnosis,
                        },
                        None => FailCell {
                            style: *style,
                            reached,
                            outcome: LabOutcome::Stalled,
                            blast_radius: 0,
                            diagnosis: Some("the simulation did not finish".into()),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    FailMatrix { rows }
}

/// The one finding to read first: a failure one style left unhandled and another did not;
/// else what an orchestrator outage cost; else a clear latency gap; else where a run's
/// story must be read from.
fn headline(styles: &[StyleFigures], faults: &Faults, runs: u32) -> Option<String> {
    let bad =
        |s: &StyleFigures| s.outcomes.unhandled + s.outcomes.inconsistent + s.outcomes.stalled;
    // The two pure styles named first ("as drawn" is often one of them): `min_by_key` keeps
    // the first of equals, `max_by_key` the last.
    let ordered: Vec<&StyleFigures> = [
        LabStyle::Orchestration,
        LabStyle::Choreography,
        LabStyle::AsDrawn,
    ]
    .iter()
    .filter_map(|&style| styles.iter().find(|s| s.style == style))
    .collect();
    if let (Some(worst), Some(best)) = (
        ordered.iter().rev().max_by_key(|s| bad(s)),
        ordered.iter().min_by_key(|s| bad(s)),
    ) {
        if bad(worst) > 0 && bad(best) == 0 {
            return Some(format!(
                "Headline: {} handled every failure; {} left {} of {runs} runs with a failure nobody handled",
                best.style.label(),
                worst.style.label(),
                bad(worst)
            ));
        }
    }
    let by = |style: LabStyle| styles.iter().find(|s| s.style == style);
    if let (Some(_), Some(o), Some(c)) = (
        &faults.orchestrator,
        by(LabStyle::Orchestration),
        by(LabStyle::Choreography),
    ) {
        if o.latency_ms.p50 > c.latency_ms.p50 {
            return Some(format!(
                "Headline: while the orchestrator was down, orchestration's median run took {} ms and choreography's {} ms",
                o.latency_ms.p50, c.latency_ms.p50
            ));
        }
    }
    if let (Some(fast), Some(slow)) = (
        styles.iter().min_by_key(|s| s.latency_ms.p95),
        styles.iter().max_by_key(|s| s.latency_ms.p95),
    ) {
        if slow.latency_ms.p95 * 2 >= fast.latency_ms.p95 * 3
            && slow.latency_ms.p95 > fast.latency_ms.p95
        {
            return Some(format!(
                "Headline: end-to-end p95 {} ms in {}, {} ms in {}",
                slow.latency_ms.p95,
                slow.style.label(),
                fast.latency_ms.p95,
                fast.style.label()
            ));
        }
    }
    let o = by(LabStyle::Orchestration)?;
    let c = by(LabStyle::Choreography)?;
    Some(format!(
        "Headline: to trace a run, orchestration has {:.1} log to read, choreography {:.1}; the orchestrator must know {} services, choreography's services share {} event contracts",
        o.visibility.logs_to_read, c.visibility.logs_to_read, o.coupling.orchestrator_knows, c.coupling.event_contracts
    ))
}

/// A few sentences naming the trade-offs the figures show, the headline finding first.
pub fn reading(styles: &[StyleFigures], faults: &Faults, runs: u32) -> Vec<String> {
    let mut lines: Vec<String> = headline(styles, faults, runs).into_iter().collect();
    for s in styles {
        let bad = s.outcomes.unhandled + s.outcomes.inconsistent + s.outcomes.stalled;
        let name = s.style.label();
        if bad > 0 {
            let mut line = format!("{name}: {bad}/{runs} runs ended with a failure nobody handled");
            if s.outcomes.inconsistent > 0 {
                line += &format!(
                    " ({} left steps done and never undone)",
                    s.outcomes.inconsistent
                );
            }
            if s.outcomes.stalled > 0 {
                line += &format!(" ({} stalled on a lost event)", s.outcomes.stalled);
            }
            if let Some(d) = &s.example_diagnosis {
                line += &format!(", e.g. “{d}”");
            }
            lines.push(line);
        } else if s.outcomes.handled + s.outcomes.compensated > 0 {
            lines.push(format!(
                "{name} handled every failure in all {runs} runs ({} by a failure route, {} by a saga)",
                s.outcomes.handled, s.outcomes.compensated
            ));
        }
    }
    for s in styles {
        let name = s.style.label();
        if s.orchestrator_messages > 0 {
            lines.push(format!(
                "{name}: {:.0}% of all messages ({}) passed through one component, the orchestrator, which must know {} services",
                s.orchestrator_share * 100.0,
                s.orchestrator_messages,
                s.coupling.orchestrator_knows
            ));
        } else {
            lines.push(format!(
                "{name}: no central component, but {} event contracts that publishers and subscribers must agree on",
                s.coupling.event_contracts
            ));
        }
    }
    if let (Some(clear), Some(scattered)) = (
        styles.iter().min_by(|a, b| {
            a.visibility
                .logs_to_read
                .total_cmp(&b.visibility.logs_to_read)
        }),
        styles.iter().max_by(|a, b| {
            a.visibility
                .logs_to_read
                .total_cmp(&b.visibility.logs_to_read)
        }),
    ) {
        if scattered.visibility.logs_to_read > clear.visibility.logs_to_read {
            lines.push(format!(
                "where is a run now, and why? {}: {:.1} logs to read ({:.1} places hold its state); {}: {:.1} ({:.1}); the longest causal chain is {} steps",
                clear.style.label(),
                clear.visibility.logs_to_read,
                clear.visibility.state_places,
                scattered.style.label(),
                scattered.visibility.logs_to_read,
                scattered.visibility.state_places,
                scattered.visibility.longest_chain
            ));
        }
    }
    if let (Some(fast), Some(slow)) = (
        styles.iter().min_by_key(|s| s.latency_ms.p95),
        styles.iter().max_by_key(|s| s.latency_ms.p95),
    ) {
        if fast.latency_ms.p95 != slow.latency_ms.p95 {
            lines.push(format!(
                "end-to-end p95: {} {} ms vs {} {} ms",
                fast.style.label(),
                fast.latency_ms.p95,
                slow.style.label(),
                slow.latency_ms.p95
            ));
        }
    }
    if styles.iter().any(|s| s.runs_with_failure > 0) {
        lines.push(format!(
            "blast radius of a failure (other steps whose outcome it changed, mean): {}",
            styles
                .iter()
                .map(|s| format!("{} {:.1}", s.style.label(), s.blast_radius_mean))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(crash) = &faults.orchestrator {
        lines.push(match crash.standby_lease_ms {
            Some(lease) if lease < crash.for_ms => format!(
                "the orchestrator crashed for {} ms; its standby took over after {lease} ms — redundancy shortened the stall, at the cost of a second orchestrator",
                crash.for_ms
            ),
            _ => format!(
                "the orchestrator crashed for {} ms: command-driven steps waited for it, event-driven chains kept going",
                crash.for_ms
            ),
        });
    }
    for s in styles {
        for w in &s.lost {
            lines.push(format!(
                "converting to {} lost: {}",
                s.style.label(),
                w.message
            ));
        }
    }
    lines
}
