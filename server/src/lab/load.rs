//! Load mode: real runs on the real engine (SQLite history, in-process bus), `rate` per
//! second for `seconds`, one style after the other, each style's runs sharing one
//! orchestrator of limited capacity ([`OrchestratorPool`]). Every second records how many
//! runs started and completed, their latency and the orchestrator's queue, so the
//! orchestrator bottleneck shows when there is one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::i18n::Locale;
use app::model::lab::{BatchState, LabStyle, LatencyFigures, LoadSecond, LoadStyle, LoadTest};
use app::model::reading::load_reading;
use app::model::{Faults, Workflow};
use serde_json::Value;
use tokio::sync::mpsc;

use super::compare::{latency_figures, variant};
use super::measure::percentile;
use crate::engine::{Engine, OrchestratorPool, RunOptions};
use crate::store::{RunKind, WorkflowVersion};

/// After the last start, how long a style waits for its runs to end before moving on.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// Runs are started in slices this often.
const TICK: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub workflow: Workflow,
    pub input: Value,
    pub rate: u32,
    pub seconds: u32,
    pub capacity: Option<u32>,
    pub message_ms: u64,
    pub seed: u64,
    pub speed: f64,
}

/// Runs the load test, updating `test` as it goes; stops early when `cancel` is set.
pub async fn run_load(
    engine: Arc<Engine>,
    spec: LoadSpec,
    test: Arc<Mutex<LoadTest>>,
    cancel: Arc<AtomicBool>,
) {
    let id = lock(&test).id.clone();
    for style in LabStyle::ALL {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let (workflow, _) = variant(&spec.workflow, style);
        let capacity = spec
            .capacity
            .map_or(tokio::sync::Semaphore::MAX_PERMITS, |c| c as usize);
        let pool = OrchestratorPool::new(capacity, spec.message_ms);
        lock(&test).styles.push(empty(style));
        run_style(
            &engine,
            &spec,
            &workflow,
            &load_runs_of(&id, style),
            pool,
            &test,
            &cancel,
        )
        .await;
    }
    let mut t = lock(&test);
    t.state = if cancel.load(Ordering::Relaxed) {
        BatchState::Cancelled
    } else {
        BatchState::Done
    };
    t.reading = reading(&t.styles, spec.rate);
}

/// What a load test's runs of one style carry as their workflow id: the test's id, then the
/// style (so the lab can keep the latest test's runs and delete the others').
pub fn load_runs_of(test: &str, style: LabStyle) -> String {
    format!(
        "{}{}",
        load_runs_prefix(test),
        style.label().replace(' ', "-")
    )
}

/// The start of the workflow id of every run of load test `test`.
pub fn load_runs_prefix(test: &str) -> String {
    format!("{test}:")
}

fn empty(style: LabStyle) -> LoadStyle {
    LoadStyle {
        style,
        started: 0,
        completed: 0,
        throughput: 0.0,
        latency_ms: LatencyFigures::default(),
        peak_waiting: 0,
        seconds: Vec::new(),
    }
}

async fn run_style(
    engine: &Arc<Engine>,
    spec: &LoadSpec,
    workflow: &Workflow,
    tag: &str,
    pool: Arc<OrchestratorPool>,
    test: &Arc<Mutex<LoadTest>>,
    cancel: &AtomicBool,
) {
    let (tx, mut ended) = mpsc::unbounded_channel();
    // Encoded and hashed once: every run of the style refers to the same stored version.
    let version = WorkflowVersion::new(workflow.clone());
    // Shared by every run of the style, not copied into each.
    let input = app::model::RunInput::new(spec.input.clone());
    let begin = Instant::now();
    let total = spec.rate as u64 * spec.seconds as u64;
    let mut started = 0u64;
    let mut completed = 0u64;
    let mut seconds: Vec<(LoadSecond, Vec<u64>)> = Vec::new();
    let mut all = Vec::new();
    // When the first and the last run ended, in ms since the style began.
    let mut ends: Option<(u64, u64)> = None;
    let mut published = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let bucket = |seconds: &mut Vec<(LoadSecond, Vec<u64>)>, at: Duration| -> usize {
        let s = at.as_secs() as usize;
        while seconds.len() <= s {
            let second = seconds.len() as u32;
            seconds.push((
                LoadSecond {
                    second,
                    ..LoadSecond::default()
                },
                Vec::new(),
            ));
        }
        s
    };
    loop {
        let elapsed = begin.elapsed();
        let starting = started < total && !cancel.load(Ordering::Relaxed);
        if !starting && completed >= started {
            break;
        }
        if !starting && elapsed > Duration::from_secs(spec.seconds as u64) + DRAIN_LIMIT {
            break;
        }
        tokio::select! {
            _ = tick.tick() => {
                let due = ((elapsed.as_secs_f64() * spec.rate as f64) as u64 + 1).min(total);
                if starting {
                    while started < due {
                        let options = RunOptions {
                            faults: Faults::default(),
                            orchestrator: Some(pool.clone()),
                            on_end: Some(tx.clone()),
                            kind: RunKind::Load,
                            ..RunOptions::new(input.clone(), spec.seed.wrapping_add(started), spec.speed)
                        };
                        let engine = engine.clone();
                        let version = version.clone();
                        let tag = tag.to_string();
                        tokio::spawn(async move {
                            if let Err(e) = engine.start_run(&tag, version, options).await {
                                tracing::warn!(error = %e, "a load run could not start");
                            }
                        });
                        started += 1;
                        let b = bucket(&mut seconds, elapsed);
                        seconds[b].0.started += 1;
                    }
                }
                let b = bucket(&mut seconds, elapsed);
                seconds[b].0.waiting = pool.waiting() as u32;
            }
            Some(summary) = ended.recv() => {
                completed += 1;
                let at = begin.elapsed().as_millis() as u64;
                ends = Some(ends.map_or((at, at), |(first, _)| (first, at)));
                let latency = summary.ended_at.unwrap_or(summary.started_at) - summary.started_at;
                let b = bucket(&mut seconds, begin.elapsed());
                seconds[b].0.completed += 1;
                seconds[b].1.push(latency.max(0) as u64);
                all.push(latency.max(0) as u64);
            }
        }
        // Progress, about five times a second.
        if published.elapsed() >= Duration::from_millis(200) {
            publish(test, &mut seconds, &all, started, completed, spec, ends);
            published = Instant::now();
        }
    }
    publish(test, &mut seconds, &all, started, completed, spec, ends);
}

/// Runs completed per second, measured from the first run's end to the last one's: a style
/// that keeps up ends its runs as fast as they start (only shifted by their latency, however
/// long), one that falls behind keeps ending them long after the last start.
pub fn throughput(completed: u64, ends: Option<(u64, u64)>, seconds: u32) -> f64 {
    match ends {
        Some((first, last)) if completed >= 2 && last > first => {
            (completed - 1) as f64 * 1000.0 / (last - first) as f64
        }
        _ => completed as f64 / seconds.max(1) as f64,
    }
}

fn publish(
    test: &Arc<Mutex<LoadTest>>,
    seconds: &mut [(LoadSecond, Vec<u64>)],
    all: &[u64],
    started: u64,
    completed: u64,
    spec: &LoadSpec,
    ends: Option<(u64, u64)>,
) {
    for (second, latencies) in seconds.iter_mut() {
        latencies.sort_unstable();
        second.p50_ms = percentile(latencies, 0.50);
        second.p95_ms = percentile(latencies, 0.95);
    }
    let mut sorted = all.to_vec();
    sorted.sort_unstable();
    let mut t = lock(test);
    if let Some(style) = t.styles.last_mut() {
        style.started = started as u32;
        style.completed = completed as u32;
        style.throughput = throughput(completed, ends, spec.seconds);
        style.latency_ms = latency_figures(&sorted);
        style.peak_waiting = seconds.iter().map(|(s, _)| s.waiting).max().unwrap_or(0);
        style.seconds = seconds.iter().map(|(s, _)| s.clone()).collect();
    }
}

/// What the curves show, in English words (the API's): the headline first ("Headline: …").
pub fn reading(styles: &[LoadStyle], rate: u32) -> Vec<String> {
    load_reading(Locale::en, styles, rate).into_lines(Locale::en)
}

fn lock(test: &Arc<Mutex<LoadTest>>) -> std::sync::MutexGuard<'_, LoadTest> {
    test.lock().unwrap_or_else(|p| p.into_inner())
}
