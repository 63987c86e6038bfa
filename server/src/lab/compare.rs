//! A compare batch: one flow run as drawn, as all orchestration and as all choreography,
//! on the same seeds, in virtual time; then the fail-at-every-step matrix and a reading of
//! the numbers. Pure and deterministic: the same request gives the same result.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use app::i18n::Locale;
use app::model::convert::{convert, Style};
use app::model::lab::{
    CompareResult, FailCell, FailMatrix, FailRow, LabOutcome, LabStyle, LatencyFigures,
    OutcomeCounts, RealRuns, StyleFigures, VisibilityFigures,
};
use app::model::reading::compare_reading;
use app::model::{Faults, MessageCounts, RunEvent, Workflow};
use serde_json::Value;

use super::measure::{blast_radius, coupling_in, facts, percentile, RunFacts};
use super::simulate::{Library, VirtualRun};

/// What a batch runs.
#[derive(Clone, Debug)]
pub struct CompareSpec {
    pub workflow: Workflow,
    pub input: Value,
    pub runs: u32,
    pub seed: u64,
    pub faults: Faults,
    /// Virtual ms the orchestrator spends on each message it handles (the hop cost).
    pub message_ms: u64,
    /// The stored workflows its sub-flow steps run (see [`super::library`]).
    pub library: Library,
    /// Verify each style (every schedule within these bounds) instead of sampling runs.
    pub verify: Option<app::model::verify::VerifyBounds>,
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
    if let Some(bounds) = spec.verify {
        return verify_styles(spec, bounds, progress);
    }
    let mut styles = Vec::new();
    for (i, style) in LabStyle::ALL.into_iter().enumerate() {
        // Converting and linting a large workflow is work too: a cancel is heard before it.
        if progress.cancelled() {
            return None;
        }
        let (workflow, lost) = variant(&spec.workflow, style);
        let reference = facts(
            &workflow,
            &VirtualRun::complete_in(
                &spec.library,
                &without_failures(&workflow),
                spec.input.clone(),
                spec.seed,
                Faults::default(),
                spec.message_ms,
            ),
        );
        let mut runs = Vec::with_capacity(spec.runs as usize);
        for r in 0..spec.runs {
            if progress.cancelled() {
                return None;
            }
            let seed = spec.seed.wrapping_add(u64::from(r));
            let run = VirtualRun::complete_in(
                &spec.library,
                &workflow,
                spec.input.clone(),
                seed,
                spec.faults.clone(),
                spec.message_ms,
            );
            if let Some(f) = facts(&workflow, &run) {
                runs.push(f);
            }
            progress.done[i].fetch_add(1, Ordering::Relaxed);
        }
        styles.push(figures(
            &spec.library,
            style,
            &workflow,
            lost,
            &runs,
            reference.as_ref(),
        ));
    }
    if progress.cancelled() {
        return None;
    }
    let matrix = fail_matrix(&spec.library, &spec.workflow, &spec.input, spec.seed);
    let reading = reading(&styles, &spec.faults, spec.runs, spec.message_ms, None);
    Some(CompareResult {
        verifications: Vec::new(),
        styles,
        matrix,
        reading,
        real: None,
    })
}

/// A verification batch: every schedule within `bounds` of the flow as drawn, all
/// orchestrated and all choreographed, side by side; `None` when it was cancelled.
fn verify_styles(
    spec: &CompareSpec,
    bounds: app::model::verify::VerifyBounds,
    progress: &Progress,
) -> Option<CompareResult> {
    let mut verifications = Vec::new();
    // Each style's headline in words, the flow as drawn's first (the batch's reading).
    let mut reading = Vec::new();
    for (i, style) in LabStyle::ALL.into_iter().enumerate() {
        if progress.cancelled() {
            return None;
        }
        let (workflow, _) = variant(&spec.workflow, style);
        let exploration = crate::verify::explore_counting(
            &workflow,
            &spec.input,
            spec.seed,
            bounds.into(),
            &progress.cancel,
            &progress.done[i],
        );
        if progress.cancelled() {
            return None;
        }
        let headline = exploration.headline(&workflow, Locale::en);
        reading.push(if reading.is_empty() {
            format!("Headline: {}: {headline}", style.words(Locale::en))
        } else {
            format!("{}: {headline}", style.words(Locale::en))
        });
        verifications.push(app::model::verify::StyleVerification { style, exploration });
    }
    Some(CompareResult {
        verifications,
        reading,
        ..CompareResult::default()
    })
}

pub(super) fn figures(
    library: &Library,
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
    let mut calls: Vec<u64> = Vec::new();
    for run in runs {
        calls.extend(&run.calls_ms);
        outcomes.add(run.outcome);
        messages.add(&run.messages);
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
    calls.sort_unstable();
    let orchestrator = messages.orchestrator();
    let total = messages.total();
    StyleFigures {
        style,
        runs: runs.len() as u32,
        outcomes,
        latency_ms: latency_figures(&latencies),
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
        coupling: coupling_in(library, workflow),
        visibility: visibility(runs),
        lost,
        example_diagnosis: example,
        service_calls: calls.len() as u64,
        call_ms: latency_figures(&calls),
    }
}

/// The percentiles of sorted durations.
pub fn latency_figures(sorted: &[u64]) -> LatencyFigures {
    LatencyFigures {
        p50: percentile(sorted, 0.50),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
        max: sorted.last().copied().unwrap_or(0),
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
pub fn fail_matrix(library: &Library, workflow: &Workflow, input: &Value, seed: u64) -> FailMatrix {
    let variants: Vec<(LabStyle, Workflow)> = LabStyle::ALL
        .into_iter()
        .map(|style| (style, without_failures(&variant(workflow, style).0)))
        .collect();
    let references: Vec<Option<RunFacts>> = variants
        .iter()
        .map(|(_, w)| {
            facts(
                w,
                &VirtualRun::complete_in(library, w, input.clone(), seed, Faults::default(), 0),
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
                    let run = VirtualRun::complete_in(library, w, input.clone(), seed, faults, 0);
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

/// A few sentences naming the trade-offs the figures show, the headline finding first
/// ("Headline: …"), in English (the API's; the lab page says them in its language).
pub fn reading(
    styles: &[StyleFigures],
    faults: &Faults,
    runs: u32,
    message_ms: u64,
    real: Option<&RealRuns>,
) -> Vec<String> {
    compare_reading(Locale::en, styles, faults, runs, message_ms, real).into_lines(Locale::en)
}
