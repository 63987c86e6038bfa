//! A compare batch of a flow that calls real services: each style's runs are real runs on
//! the engine — stored, their bound steps calling the services, the others simulated at
//! speed 1 — at most [`REAL_RUNS_AT_ONCE`] at a time, so every latency is a measured one.
//! A reference run per style (nothing failing, for the blast radius) runs beside them.
//! Their facts are read from their stored histories, the same way a simulated run's are
//! ([`super::measure::facts_of`]); the runs are then deleted (their figures stay). The
//! fail-at-every-step matrix stays simulated: it asks "what if this step failed", which a
//! real service does not answer on demand.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use app::model::lab::{CompareResult, LabStyle, RealRuns};
use app::model::{Faults, RunEvent, RunInput, Workflow};
use tokio::sync::mpsc;

use super::compare::{
    fail_matrix, figures, reading, variant, without_failures, CompareSpec, Progress,
};
use super::measure::{facts_of, RunFacts};
use crate::engine::peers::Control;
use crate::engine::{Engine, OrchestratorPool, RunOptions};
use crate::store::{replay_history, RunKind, Store, WorkflowVersion};

/// Real runs of a batch under way at once (per batch): enough to keep a few services busy,
/// few enough that a batch does not crowd out the users' runs.
pub const REAL_RUNS_AT_ONCE: usize = 8;

/// A real run of a batch still going after this long is cancelled (it counts as it ends).
pub const REAL_RUN_LIMIT: Duration = Duration::from_secs(120);

/// Ended lab runs deleted per transaction once the batch read them.
const DELETE_CHUNK: usize = 500;

/// What a batch's real runs of one style carry as their workflow id: the batch's id, then
/// the style (so the batch can delete them once read).
pub fn real_runs_of(batch: &str, style: LabStyle) -> String {
    format!(
        "{}{}",
        real_runs_prefix(batch),
        style.label().replace(' ', "-")
    )
}

pub fn real_runs_prefix(batch: &str) -> String {
    format!("lab-{batch}:")
}

/// Runs the batch with real runs; `None` when it was cancelled.
pub async fn compare_real(
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    batch: String,
    spec: CompareSpec,
    progress: Arc<Progress>,
) -> Option<CompareResult> {
    let batch = batch.as_str();
    let real = RealRuns::of(&spec.workflow)?;
    let mut styles = Vec::new();
    for (i, style) in LabStyle::ALL.into_iter().enumerate() {
        if progress.cancelled() {
            break;
        }
        let (workflow, lost) = variant(&spec.workflow, style);
        let tag = real_runs_of(batch, style);
        // The same seed without failures (what a failure's reach is measured against), run
        // beside the style's runs rather than before them.
        let reference_flow = without_failures(&workflow);
        let (reference, runs) = tokio::join!(
            run_many(
                &engine,
                store.as_ref(),
                &tag,
                &reference_flow,
                &spec,
                Faults::default(),
                1,
                None,
                &progress,
            ),
            run_many(
                &engine,
                store.as_ref(),
                &tag,
                &workflow,
                &spec,
                spec.faults.clone(),
                spec.runs,
                Some(i),
                &progress,
            )
        );
        let reference = reference.into_iter().next();
        styles.push(figures(
            &spec.library,
            style,
            &workflow,
            lost,
            &runs,
            reference.as_ref(),
        ));
    }
    delete_runs(store.as_ref(), batch).await;
    if progress.cancelled() {
        return None;
    }
    let (library, workflow, input, seed) = (
        spec.library.clone(),
        spec.workflow.clone(),
        spec.input.clone(),
        spec.seed,
    );
    let matrix =
        tokio::task::spawn_blocking(move || fail_matrix(&library, &workflow, &input, seed))
            .await
            .ok()?;
    let reading = reading(
        &styles,
        &spec.faults,
        spec.runs,
        spec.message_ms,
        Some(&real),
    );
    Some(CompareResult {
        styles,
        matrix,
        reading,
        verifications: Vec::new(),
        real: Some(real),
    })
}

/// Runs `count` real runs of `workflow` (seeds from the batch's), at most
/// [`REAL_RUNS_AT_ONCE`] at once, counting each end in `progress.done[style]`; the facts of
/// those that ended, in the order they ended. On a cancel, starts no more and cancels
/// those under way.
#[allow(clippy::too_many_arguments)]
async fn run_many(
    engine: &Arc<Engine>,
    store: &dyn Store,
    tag: &str,
    workflow: &Workflow,
    spec: &CompareSpec,
    faults: Faults,
    count: u32,
    style: Option<usize>,
    progress: &Progress,
) -> Vec<RunFacts> {
    let version = WorkflowVersion::new(workflow.clone());
    let input = RunInput::new(spec.input.clone());
    let pool = OrchestratorPool::new(tokio::sync::Semaphore::MAX_PERMITS, spec.message_ms);
    let (tx, mut ended) = mpsc::unbounded_channel();
    let mut facts = Vec::with_capacity(count as usize);
    let mut going: Vec<(String, tokio::time::Instant)> = Vec::new();
    let mut started = 0u32;
    let mut cancelling = false;
    loop {
        if progress.cancelled() && !cancelling {
            // The user cancelled (or the server stops): the runs under way end cancelled.
            cancelling = true;
            for (id, _) in &going {
                let (engine, id) = (engine.clone(), id.clone());
                tokio::spawn(async move { engine.control(&id, Control::Cancel).await });
            }
        }
        while started < count && going.len() < REAL_RUNS_AT_ONCE && !progress.cancelled() {
            let options = RunOptions {
                faults: faults.clone(),
                orchestrator: Some(pool.clone()),
                on_end: Some(tx.clone()),
                kind: RunKind::Lab,
                ..RunOptions::new(
                    input.clone(),
                    spec.seed.wrapping_add(u64::from(started)),
                    1.0,
                )
            };
            started += 1;
            match engine.start_run(tag, version.clone(), options).await {
                Ok(run) => going.push((run.id, tokio::time::Instant::now())),
                Err(e) => tracing::warn!(error = %e, "a lab run on real services could not start"),
            }
        }
        if going.is_empty() {
            break;
        }
        let oldest = going
            .iter()
            .map(|(_, at)| *at)
            .min()
            .expect("a run is going");
        tokio::select! {
            Some(summary) = ended.recv() => {
                going.retain(|(id, _)| *id != summary.id);
                if let Some(f) = read_facts(store, workflow, &summary.id).await {
                    facts.push(f);
                }
                if let Some(i) = style {
                    progress.done[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            _ = tokio::time::sleep_until(oldest + REAL_RUN_LIMIT) => {
                // Its end comes through `ended` like any other.
                if let Some((id, at)) = going.iter_mut().find(|(_, at)| *at == oldest) {
                    tracing::warn!(run = %id, "a lab run on real services took too long: cancelled");
                    *at += REAL_RUN_LIMIT;
                    let (engine, id) = (engine.clone(), id.clone());
                    tokio::spawn(async move { engine.control(&id, Control::Cancel).await });
                }
            }
        }
    }
    facts
}

/// A stored run's facts, each event at the ms since its first.
async fn read_facts(store: &dyn Store, workflow: &Workflow, run: &str) -> Option<RunFacts> {
    let mut history: Vec<(u64, RunEvent)> = Vec::new();
    let mut began = None;
    let read = replay_history(store, run, 0, |record| {
        let began = *began.get_or_insert(record.at_ms);
        history.push(((record.at_ms - began).max(0) as u64, record.event.clone()));
    })
    .await;
    if let Err(e) = read {
        tracing::warn!(run, error = %e, "reading a lab run's history failed");
        return None;
    }
    facts_of(workflow, &history)
}

/// Deletes the batch's ended real runs (a chunk at a time).
pub async fn delete_runs(store: &dyn Store, batch: &str) {
    let prefix = real_runs_prefix(batch);
    loop {
        match store.delete_lab_runs(&prefix, DELETE_CHUNK).await {
            Ok(0) => break,
            Ok(_) => tokio::task::yield_now().await,
            Err(e) => {
                tracing::warn!(batch, error = %e, "deleting a batch's real runs failed");
                break;
            }
        }
    }
}
