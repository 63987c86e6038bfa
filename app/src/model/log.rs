//! What a run's history means to a reader: each record as a log line in words with its kind
//! and the steps it concerns ([`describe`]), the summary's figures ([`figures`]), causal
//! chains — what started a step, back to the run's start, and what it started
//! ([`triggered_by`], [`triggered`]) — the run as it stood after any record ([`view_at`],
//! for replay), and how visible it is: where its state lives, how many logs tell its story,
//! its longest causal chain ([`visibility`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Cause, Owner, RunEvent, RunRecord, RunView, Workflow};

/// What a log entry is about, for the log's kind filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    Command,
    Event,
    Failure,
    Compensation,
    Step,
    Run,
    Fault,
}

impl LogKind {
    pub const ALL: [LogKind; 7] = [
        LogKind::Command,
        LogKind::Event,
        LogKind::Failure,
        LogKind::Compensation,
        LogKind::Step,
        LogKind::Run,
        LogKind::Fault,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Command => "command",
            LogKind::Event => "event",
            LogKind::Failure => "failure",
            LogKind::Compensation => "compensation",
            LogKind::Step => "step",
            LogKind::Run => "run",
            LogKind::Fault => "fault",
        }
    }
}

/// A record as a log line: what it is about, the steps it concerns, what happened in words.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine<'a> {
    pub kind: LogKind,
    pub steps: Vec<&'a str>,
    pub text: String,
}

/// The log line of one record.
pub fn describe(event: &RunEvent) -> LogLine<'_> {
    let (kind, steps, text) = parts(event);
    LogLine { kind, steps, text }
}

fn parts(event: &RunEvent) -> (LogKind, Vec<&str>, String) {
    use RunEvent::*;
    match event {
        RunStarted {
            seed,
            speed,
            faults,
            ..
        } => (
            LogKind::Run,
            vec![],
            if faults.is_none() {
                format!("run started (seed {seed}, speed {speed}×)")
            } else {
                format!(
                    "run started (seed {seed}, speed {speed}×) with faults: {}",
                    faults.describe()
                )
            },
        ),
        FaultsChanged { faults } => (
            LogKind::Fault,
            vec![],
            format!("faults now: {}", faults.describe()),
        ),
        OrchestratorCrashed {
            for_ms,
            standby_lease_ms,
        } => (
            LogKind::Fault,
            vec![],
            match standby_lease_ms {
                Some(lease) => format!(
                    "orchestrator crashed (down {for_ms} ms; a standby takes over after its {lease} ms lease)"
                ),
                None => format!("orchestrator crashed (down {for_ms} ms): commands and replies wait"),
            },
        ),
        OrchestratorRecovered {
            down_ms,
            standby,
            records,
            waited,
        } => (
            LogKind::Fault,
            vec![],
            format!(
                "{} after {down_ms} ms: rebuilt from {records} history records, {waited} waiting message(s) handled",
                if *standby { "standby orchestrator took over" } else { "orchestrator back" }
            ),
        ),
        EventDropped { name, to, .. } => (
            LogKind::Fault,
            vec![to.as_str()],
            format!("{name} to {to} lost by the bus: {to} never hears it"),
        ),
        CommandSent { from, to, .. } => (
            LogKind::Command,
            vec![from.as_str(), to.as_str()],
            format!("orchestrator → {to}: command (after {from})"),
        ),
        ReplyReceived {
            from,
            outcome,
            report,
        } => (
            LogKind::Command,
            vec![from.as_str()],
            format!(
                "{from} → orchestrator: {} ({outcome:?})",
                if *report { "report" } else { "reply" }
            ),
        ),
        EventPublished {
            from,
            name,
            subscribers,
            ..
        } => (
            LogKind::Event,
            vec![from.as_str()],
            if subscribers.is_empty() {
                format!("{from} published {name}: nobody subscribes")
            } else {
                format!("{from} published {name} → {}", subscribers.join(", "))
            },
        ),
        EventDelivered {
            name,
            to,
            duplicate,
            ..
        } => (
            LogKind::Event,
            vec![to.as_str()],
            format!(
                "{name} delivered to {to}{}",
                if *duplicate { " (duplicate)" } else { "" }
            ),
        ),
        StepWaiting {
            node, waiting_for, ..
        } => (
            LogKind::Step,
            vec![node.as_str()],
            format!("{node} waits for {}", waiting_for.join(", ")),
        ),
        StepStarted { node, attempt, .. } => (
            LogKind::Step,
            vec![node.as_str()],
            format!("{node} started (attempt {attempt})"),
        ),
        AttemptFailed {
            node,
            attempt,
            reason,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            format!("{node} attempt {attempt} failed: {reason:?}"),
        ),
        RetryScheduled {
            node,
            attempt,
            delay_ms,
            by,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            format!("{node} retries (attempt {attempt}) in {delay_ms} ms, by {by:?}"),
        ),
        StepSucceeded { node, attempt } => (
            LogKind::Step,
            vec![node.as_str()],
            format!("{node} succeeded (attempt {attempt})"),
        ),
        StepFailed {
            node,
            attempts,
            reason,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            format!("{node} failed after {attempts} attempt(s): {reason:?}"),
        ),
        FailureUnhandled {
            node, diagnosis, ..
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            format!("unhandled: {diagnosis}"),
        ),
        SagaStarted { failed, compensate } => (
            LogKind::Compensation,
            vec![failed.as_str()],
            format!("saga: {failed} failed, undoing {}", compensate.join(", ")),
        ),
        CompensationStarted { node, action } => (
            LogKind::Compensation,
            vec![node.as_str()],
            format!("{node} compensating ({action})"),
        ),
        StepCompensated { node, action } => (
            LogKind::Compensation,
            vec![node.as_str()],
            format!("{node} compensated ({action})"),
        ),
        CompensationFailed { node, action } => (
            LogKind::Failure,
            vec![node.as_str()],
            format!("{node} compensation {action} failed"),
        ),
        StepSkipped { node } => (
            LogKind::Step,
            vec![node.as_str()],
            format!("{node} skipped"),
        ),
        StepCancelled { node } => (
            LogKind::Step,
            vec![node.as_str()],
            format!("{node} cancelled"),
        ),
        CancelRequested => (LogKind::Run, vec![], "cancel requested".into()),
        RunawayStopped { reason } => (LogKind::Failure, vec![], format!("stopped: {reason}")),
        RunResumed { resent } => (
            LogKind::Run,
            vec![],
            format!("resumed after a restart; resent {}", resent.join(", ")),
        ),
        RunCompleted {
            status, diagnosis, ..
        } => (
            LogKind::Run,
            vec![],
            match diagnosis {
                Some(d) => format!("run {}: {d}", status.as_str()),
                None => format!("run {}", status.as_str()),
            },
        ),
    }
}

/// The figures of the summary tab, counted from the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub duration_ms: i64,
    pub executions: usize,
    pub failed_attempts: usize,
    pub retries: usize,
    pub compensations: usize,
}

pub fn figures(log: &[RunRecord]) -> Figures {
    let count = |f: fn(&RunEvent) -> bool| log.iter().filter(|r| f(&r.event)).count();
    Figures {
        duration_ms: match (log.first(), log.last()) {
            (Some(a), Some(b)) => b.at_ms - a.at_ms,
            _ => 0,
        },
        executions: count(|e| matches!(e, RunEvent::StepStarted { .. })),
        failed_attempts: count(|e| matches!(e, RunEvent::AttemptFailed { .. })),
        retries: count(|e| matches!(e, RunEvent::RetryScheduled { .. })),
        compensations: count(|e| matches!(e, RunEvent::StepCompensated { .. })),
    }
}

/// One link of a causal chain: `node` started because of `how`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub node: String,
    pub how: String,
}

/// What started `node` (its latest execution), back to the run's start: the first link is
/// the earliest. Retries are skipped to the execution they repeat.
pub fn triggered_by(log: &[RunRecord], node: &str) -> Vec<Link> {
    let mut chain = Vec::new();
    let mut current = node.to_string();
    let mut before = log.len();
    // A chain is at most as long as the history (cycles stop at the first repeat).
    while chain.len() <= log.len() {
        let found = log[..before]
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, r)| match &r.event {
                RunEvent::StepStarted { node, cause, .. }
                    if *node == current && !matches!(cause, Cause::Retry { .. }) =>
                {
                    Some((i, cause.clone()))
                }
                _ => None,
            });
        let Some((at, cause)) = found else {
            break;
        };
        let (how, from) = match cause {
            Cause::Start => ("started by the run's start".to_string(), None),
            Cause::Command { from, edge, .. } => (
                format!("commanded by the orchestrator after {from} finished (edge {edge})"),
                Some(from),
            ),
            Cause::Event { from, name, .. } => {
                (format!("heard {name}, published by {from}"), Some(from))
            }
            Cause::Retry { .. } => unreachable!("retries are skipped above"),
        };
        chain.push(Link {
            node: current.clone(),
            how,
        });
        match from {
            Some(from) if !chain.iter().any(|l| l.node == from) => {
                current = from;
                before = at;
            }
            _ => break,
        }
    }
    chain.reverse();
    chain
}

/// The steps `node` started, and how (by command or by which event).
pub fn triggered(log: &[RunRecord], node: &str) -> Vec<Link> {
    log.iter()
        .filter_map(|r| match &r.event {
            RunEvent::StepStarted {
                node: started,
                cause,
                ..
            } => match cause {
                Cause::Command { from, .. } if from == node => Some(Link {
                    node: started.clone(),
                    how: "by command (through the orchestrator)".into(),
                }),
                Cause::Event { from, name, .. } if from == node => Some(Link {
                    node: started.clone(),
                    how: format!("by the event {name}"),
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The run as it stood after the first `upto` records.
pub fn view_at(log: &[RunRecord], node_ids: &[String], upto: usize) -> RunView {
    let mut view = RunView::new(node_ids.iter().map(String::as_str));
    for record in log.iter().take(upto) {
        view.apply(record);
    }
    view
}

/// How visible a run is: how many places hold part of its state, how many logs must be
/// read to answer "where is it now, and why?", and its longest causal chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    /// The orchestrator (when it commanded any step: its record holds every step it drove)
    /// and every service that ran a step started by an event (no one else recorded it).
    pub state_places: u32,
    /// Those places' logs, and the broker's when events carried the run (to see which
    /// events went where, and which were lost).
    pub logs_to_read: u32,
    /// The most steps one after the other from the run's start, each started by the one
    /// before it.
    pub longest_chain: u32,
}

/// Folds a history into its [`Visibility`], record by record (the history need not be in
/// memory at once).
#[derive(Clone, Debug)]
pub struct Trace {
    service_of: BTreeMap<String, String>,
    orchestrated: bool,
    services: BTreeSet<String>,
    events: bool,
    longest: u32,
}

impl Trace {
    pub fn new(workflow: &Workflow) -> Trace {
        Trace {
            service_of: workflow
                .nodes
                .iter()
                .map(|n| (n.id.clone(), n.service.clone()))
                .collect(),
            orchestrated: false,
            services: BTreeSet::new(),
            events: false,
            longest: 0,
        }
    }

    pub fn apply(&mut self, event: &RunEvent) {
        match event {
            RunEvent::StepStarted {
                node, owner, hops, ..
            } => {
                match owner {
                    Owner::Orchestrator => self.orchestrated = true,
                    Owner::Itself => {
                        // The service, or the step itself when it names none.
                        let service = self.service_of.get(node).filter(|s| !s.is_empty());
                        if !self.services.contains(service.unwrap_or(node)) {
                            self.services.insert(service.unwrap_or(node).clone());
                        }
                    }
                }
                self.longest = self.longest.max(hops.saturating_add(1));
            }
            RunEvent::EventPublished { .. } => self.events = true,
            _ => {}
        }
    }

    pub fn visibility(&self) -> Visibility {
        let places = u32::from(self.orchestrated) + self.services.len() as u32;
        Visibility {
            state_places: places,
            logs_to_read: places + u32::from(self.events),
            longest_chain: self.longest,
        }
    }
}

/// The [`Visibility`] of a whole history.
pub fn visibility<'a>(
    events: impl IntoIterator<Item = &'a RunEvent>,
    workflow: &Workflow,
) -> Visibility {
    let mut trace = Trace::new(workflow);
    for event in events {
        trace.apply(event);
    }
    trace.visibility()
}
