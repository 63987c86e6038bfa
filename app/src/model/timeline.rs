//! A run's timeline, laid out from its history: one lane per step, a bar per attempt with
//! its outcome (retry gaps show between them), compensations as their own bars, every command
//! and event delivery as an arrow between lanes at the moment it happened, and faults as
//! bands or moments. The browser draws it (`ui::run::timeline`).

use super::{RunEvent, RunRecord};
use crate::i18n::Locale;

/// How an attempt (or a compensation) on the timeline ended, or that it has not yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarOutcome {
    Running,
    Succeeded,
    Failed,
    Compensating,
    Compensated,
}

impl BarOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            BarOutcome::Running => "running",
            BarOutcome::Succeeded => "succeeded",
            BarOutcome::Failed => "failed",
            BarOutcome::Compensating => "compensating",
            BarOutcome::Compensated => "compensated",
        }
    }
}

/// What travelled between two lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    /// Sent by the orchestrator (after `from` finished) to `to`.
    Command,
    /// Published by `from`, delivered to `to`.
    Event,
}

impl ArrowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrowKind::Command => "command",
            ArrowKind::Event => "event",
        }
    }
}

/// What kind of fault a mark shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The orchestrator was down (a band across every lane).
    Outage,
    /// The bus lost an event (a moment).
    Dropped,
    /// The run's faults were set or changed (a moment).
    Changed,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Outage => "outage",
            FaultKind::Dropped => "dropped",
            FaultKind::Changed => "changed",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub lane: usize,
    /// Milliseconds since the run's first record.
    pub start: i64,
    pub end: i64,
    pub outcome: BarOutcome,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub from: usize,
    pub to: usize,
    pub at: i64,
    pub kind: ArrowKind,
    pub label: String,
}

/// A fault on the timeline: an orchestrator outage is a band across every lane; a lost
/// event or a change of faults is a moment (`start == end`).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultMark {
    pub start: i64,
    pub end: i64,
    pub kind: FaultKind,
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub lanes: Vec<String>,
    pub bars: Vec<Bar>,
    pub arrows: Vec<Arrow>,
    pub faults: Vec<FaultMark>,
    /// The run's length so far, in simulated milliseconds (as every time here: wall time ×
    /// the speed the run was played at).
    pub span: i64,
}

/// Lays out a run's history: steps in the order given (then any others as they appear).
pub fn timeline(log: &[RunRecord], steps: &[String], l: Locale) -> Timeline {
    let mut t = Timeline {
        lanes: steps.to_vec(),
        ..Default::default()
    };
    let Some(t0) = log.first().map(|r| r.at_ms) else {
        return t;
    };
    let speed = super::log::speed(log);
    let simulated = |at_ms: i64| ((at_ms - t0) as f64 * speed).round() as i64;
    let end = simulated(log.last().map_or(t0, |r| r.at_ms));
    t.span = end;
    let lane = |lanes: &mut Vec<String>, id: &str| match lanes.iter().position(|l| l == id) {
        Some(i) => i,
        None => {
            lanes.push(id.to_string());
            lanes.len() - 1
        }
    };
    // Open bars per lane: (index into bars).
    let mut open: std::collections::HashMap<usize, usize> = Default::default();
    // A bar that lasts until its outcome arrives (to the run's end so far if none has).
    let begin = |t: &mut Timeline,
                 open: &mut std::collections::HashMap<usize, usize>,
                 node: &str,
                 at: i64,
                 outcome: BarOutcome,
                 label: String| {
        let l = lane(&mut t.lanes, node);
        open.insert(l, t.bars.len());
        t.bars.push(Bar {
            lane: l,
            start: at,
            end: end.max(at),
            outcome,
            label,
        });
    };
    for r in log {
        let at = simulated(r.at_ms);
        let mut close = |t: &mut Timeline, node: &str, outcome: BarOutcome, what: &str| {
            let at_lane = lane(&mut t.lanes, node);
            if let Some(i) = open.remove(&at_lane) {
                let bar = &mut t.bars[i];
                bar.end = at;
                bar.outcome = outcome;
                bar.label = td_string!(
                    l,
                    timeline.closed,
                    bar = &bar.label,
                    what = what,
                    start = bar.start,
                    at = at,
                    ms = at - bar.start
                )
                .to_string();
            }
        };
        match &r.event {
            RunEvent::StepStarted { node, attempt, .. } => {
                let label =
                    td_string!(l, timeline.attempt, step = node, attempt = attempt).to_string();
                begin(&mut t, &mut open, node, at, BarOutcome::Running, label)
            }
            RunEvent::StepSucceeded { node, .. } => close(
                &mut t,
                node,
                BarOutcome::Succeeded,
                td_string!(l, state.succeeded),
            ),
            RunEvent::AttemptFailed { node, .. } | RunEvent::StepFailed { node, .. } => close(
                &mut t,
                node,
                BarOutcome::Failed,
                td_string!(l, state.failed),
            ),
            RunEvent::CompensationStarted { node, action } => {
                let label =
                    td_string!(l, timeline.compensation, step = node, action = action).to_string();
                begin(&mut t, &mut open, node, at, BarOutcome::Compensating, label)
            }
            RunEvent::StepCompensated { node, .. } => close(
                &mut t,
                node,
                BarOutcome::Compensated,
                td_string!(l, state.compensated),
            ),
            RunEvent::CompensationFailed { node, .. } => close(
                &mut t,
                node,
                BarOutcome::Failed,
                td_string!(l, state.failed),
            ),
            RunEvent::CommandSent { from, to, .. } => {
                let (f, d) = (lane(&mut t.lanes, from), lane(&mut t.lanes, to));
                t.arrows.push(Arrow {
                    from: f,
                    to: d,
                    at,
                    kind: ArrowKind::Command,
                    label: td_string!(l, timeline.command, from = from, to = to, at = at)
                        .to_string(),
                });
            }
            RunEvent::OrchestratorCrashed { for_ms, .. } => t.faults.push(FaultMark {
                start: at,
                end: end.max(at),
                kind: FaultKind::Outage,
                label: td_string!(l, timeline.down, at = at, ms = for_ms).to_string(),
            }),
            RunEvent::OrchestratorRecovered { standby, .. } => {
                if let Some(mark) = t
                    .faults
                    .iter_mut()
                    .rev()
                    .find(|f| f.kind == FaultKind::Outage)
                {
                    mark.end = at;
                    mark.label = td_string!(
                        l,
                        timeline.down_span,
                        start = mark.start,
                        at = at,
                        ms = at - mark.start,
                        then = if *standby {
                            td_string!(l, timeline.standby)
                        } else {
                            td_string!(l, timeline.came_back)
                        }
                    )
                    .to_string();
                }
            }
            RunEvent::EventDropped { name, to, .. } => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: FaultKind::Dropped,
                label: td_string!(l, timeline.lost, event = name, to = to, at = at).to_string(),
            }),
            RunEvent::RunStarted { faults, .. } if !faults.is_none() => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: FaultKind::Changed,
                label: td_string!(l, timeline.started_faults, faults = faults.describe(l))
                    .to_string(),
            }),
            RunEvent::FaultsChanged { faults } => t.faults.push(FaultMark {
                start: at,
                end: at,
                kind: FaultKind::Changed,
                label: td_string!(l, timeline.faults_at, at = at, faults = faults.describe(l))
                    .to_string(),
            }),
            RunEvent::EventDelivered { from, to, name, .. } => {
                let (f, d) = (lane(&mut t.lanes, from), lane(&mut t.lanes, to));
                t.arrows.push(Arrow {
                    from: f,
                    to: d,
                    at,
                    kind: ArrowKind::Event,
                    label: td_string!(
                        l,
                        timeline.event,
                        event = name,
                        from = from,
                        to = to,
                        at = at
                    )
                    .to_string(),
                });
            }
            _ => {}
        }
    }
    t
}
