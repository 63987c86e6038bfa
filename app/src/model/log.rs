//! What a run's history means to a reader: each record as a log line in words with its kind
//! and the steps it concerns ([`describe`]), the summary's figures ([`figures`]), causal
//! chains — what started a step, back to the run's start, and what it started
//! ([`triggered_by`], [`triggered`]) — the run as it stood after any record ([`view_at`],
//! for replay), and how visible it is: where its state lives, how many logs tell its story,
//! its longest causal chain ([`visibility`]); and what a lost event cost it ([`lost`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    Cause, FailureReason, Outcome, Owner, RunEvent, RunRecord, RunStatus, RunView, StepState,
    Workflow,
};
use crate::i18n::Locale;

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

/// The log line of one record, in `locale`'s words, steps named by their ids.
pub fn describe(event: &RunEvent, locale: Locale) -> LogLine<'_> {
    describe_named(event, locale, &|id| id.to_string(), &|name| {
        name.to_string()
    })
}

/// The log line of one record, in `locale`'s words, each step named by `step` (the page
/// gives their labels) and each event by `event` (the page's word for a template's event);
/// `steps` keeps their ids.
pub fn describe_named<'a>(
    record: &'a RunEvent,
    locale: Locale,
    step: &dyn Fn(&str) -> String,
    event: &dyn Fn(&str) -> String,
) -> LogLine<'a> {
    let (kind, steps, text) = parts(record, locale, step, event);
    LogLine { kind, steps, text }
}

/// A log kind in `locale`'s words (the filter's options).
pub fn kind_words(locale: Locale, kind: LogKind) -> &'static str {
    match kind {
        LogKind::Command => td_string!(locale, log.kind.command),
        LogKind::Event => td_string!(locale, log.kind.event),
        LogKind::Failure => td_string!(locale, log.kind.failure),
        LogKind::Compensation => td_string!(locale, log.kind.compensation),
        LogKind::Step => td_string!(locale, log.kind.step),
        LogKind::Run => td_string!(locale, log.kind.run),
        LogKind::Fault => td_string!(locale, log.kind.fault),
    }
}

/// Why an attempt failed, in `locale`'s words.
pub fn reason_words(locale: Locale, reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::Error => td_string!(locale, log.reason.error),
        FailureReason::Rejected => td_string!(locale, log.reason.rejected),
        FailureReason::Timeout => td_string!(locale, log.reason.timeout),
        FailureReason::Unavailable => td_string!(locale, log.reason.unavailable),
        FailureReason::Declined => td_string!(locale, log.reason.declined),
    }
}

/// A loop a decision weighed, in words: its iteration now, or that its bound is spent.
pub fn loop_words(
    l: Locale,
    turn: &super::run::LoopTurn,
    label: &dyn Fn(&str) -> String,
) -> String {
    if turn.spent() {
        td_string!(l, log.loop_spent, to = label(&turn.to), max = turn.max).to_string()
    } else {
        td_string!(
            l,
            log.loop_turn,
            to = label(&turn.to),
            n = turn.done + 1,
            max = turn.max
        )
        .to_string()
    }
}

/// A run id as the log shows it: a child's id is its parent's with the step, execution and
/// attempt after it, so only its tail is shown (`….pay.1.1`); a plain id, its first eight
/// digits.
pub fn short_run(id: &str) -> String {
    match id.find('.') {
        Some(dot) => format!("…{}", &id[dot..]),
        None => id.chars().take(8).collect(),
    }
}

/// What a decision or a filter read, in words ("—" when it read nothing).
fn saw_words(saw: &serde_json::Map<String, serde_json::Value>) -> String {
    if saw.is_empty() {
        "—".to_string()
    } else {
        written_words(saw)
    }
}

fn parts<'a>(
    event: &'a RunEvent,
    l: Locale,
    label: &dyn Fn(&str) -> String,
    event_word: &dyn Fn(&str) -> String,
) -> (LogKind, Vec<&'a str>, String) {
    use RunEvent::*;
    let list = |ids: &[String]| {
        ids.iter()
            .map(|id| label(id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outcome_words = |o: &Outcome| match o {
        Outcome::Success => td_string!(l, log.success),
        Outcome::Failure => td_string!(l, log.failure),
    };
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
                td_string!(l, log.run_started, seed = seed, speed = speed).to_string()
            } else {
                td_string!(
                    l,
                    log.run_started_faults,
                    seed = seed,
                    speed = speed,
                    faults = faults.describe(l)
                )
                .to_string()
            },
        ),
        FaultsChanged { faults } => (
            LogKind::Fault,
            vec![],
            td_string!(l, log.faults_now, faults = faults.describe(l)).to_string(),
        ),
        OrchestratorCrashed {
            for_ms,
            standby_lease_ms,
        } => (
            LogKind::Fault,
            vec![],
            match standby_lease_ms {
                Some(lease) => {
                    td_string!(l, log.crashed_standby, ms = for_ms, lease = lease).to_string()
                }
                None => td_string!(l, log.crashed, ms = for_ms).to_string(),
            },
        ),
        OrchestratorRecovered {
            down_ms,
            standby,
            records,
            waited,
        } => (LogKind::Fault, vec![], {
            let who = if *standby {
                td_string!(l, log.standby_took_over)
            } else {
                td_string!(l, log.orchestrator_back)
            };
            if *waited == 1 {
                td_string!(
                    l,
                    log.recovered1,
                    who = who,
                    ms = down_ms,
                    records = records
                )
                .to_string()
            } else {
                td_string!(
                    l,
                    log.recovered,
                    who = who,
                    ms = down_ms,
                    records = records,
                    waited = waited
                )
                .to_string()
            }
        }),
        EventDropped { name, to, .. } => (
            LogKind::Fault,
            vec![to.as_str()],
            td_string!(l, log.dropped, event = event_word(name), to = label(to)).to_string(),
        ),
        CommandSent { from, to, .. } => (
            LogKind::Command,
            vec![from.as_str(), to.as_str()],
            td_string!(l, log.command_sent, to = label(to), from = label(from)).to_string(),
        ),
        ReplyReceived {
            from,
            outcome,
            report,
        } => (
            LogKind::Command,
            vec![from.as_str()],
            if *report {
                td_string!(
                    l,
                    log.report,
                    from = label(from),
                    outcome = outcome_words(outcome)
                )
                .to_string()
            } else {
                td_string!(
                    l,
                    log.reply,
                    from = label(from),
                    outcome = outcome_words(outcome)
                )
                .to_string()
            },
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
                td_string!(
                    l,
                    log.published_nobody,
                    from = label(from),
                    event = event_word(name)
                )
                .to_string()
            } else {
                td_string!(
                    l,
                    log.published,
                    from = label(from),
                    event = event_word(name),
                    to = list(subscribers)
                )
                .to_string()
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
            if *duplicate {
                td_string!(
                    l,
                    log.delivered_duplicate,
                    event = event_word(name),
                    to = label(to)
                )
                .to_string()
            } else {
                td_string!(l, log.delivered, event = event_word(name), to = label(to)).to_string()
            },
        ),
        StepWaiting {
            node, waiting_for, ..
        } => (
            LogKind::Step,
            vec![node.as_str()],
            td_string!(
                l,
                log.waits,
                step = label(node),
                targets = list(waiting_for)
            )
            .to_string(),
        ),
        StepStarted { node, attempt, .. } => (
            LogKind::Step,
            vec![node.as_str()],
            td_string!(l, log.started, step = label(node), attempt = attempt).to_string(),
        ),
        AttemptFailed {
            node,
            attempt,
            reason,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            td_string!(
                l,
                log.attempt_failed,
                step = label(node),
                attempt = attempt,
                reason = reason_words(l, *reason)
            )
            .to_string(),
        ),
        RetryScheduled {
            node,
            attempt,
            delay_ms,
            by,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            td_string!(
                l,
                log.retries,
                step = label(node),
                attempt = attempt,
                ms = delay_ms,
                by = match by {
                    Owner::Orchestrator => td_string!(l, log.by_orchestrator),
                    Owner::Itself => td_string!(l, log.by_itself),
                }
            )
            .to_string(),
        ),
        Decided {
            node,
            taken,
            to,
            saw,
            problem,
            publisher,
            loops,
            ..
        } => (
            match (taken.is_empty(), publisher) {
                (true, _) => LogKind::Failure,
                (false, false) => LogKind::Command,
                (false, true) => LogKind::Event,
            },
            vec![node.as_str()],
            {
                let mut text = match (problem, publisher) {
                    (Some(problem), false) if taken.is_empty() => {
                        td_string!(l, log.decided_none, step = label(node), problem = problem)
                            .to_string()
                    }
                    (Some(problem), true) if taken.is_empty() => {
                        td_string!(l, log.published_none, step = label(node), problem = problem)
                            .to_string()
                    }
                    (_, false) => td_string!(
                        l,
                        log.decided,
                        step = label(node),
                        taken = list(to),
                        saw = saw_words(saw)
                    )
                    .to_string(),
                    (_, true) => td_string!(
                        l,
                        log.published_decided,
                        step = label(node),
                        taken = list(to),
                        saw = saw_words(saw)
                    )
                    .to_string(),
                };
                for turn in loops
                    .iter()
                    .filter(|t| t.spent() || taken.contains(&t.edge))
                {
                    text.push_str("; ");
                    text.push_str(&loop_words(l, turn, label));
                }
                text
            },
        ),
        EventFiltered {
            to,
            name,
            passed,
            saw,
            problem,
            ..
        } => (
            LogKind::Event,
            vec![to.as_str()],
            match problem {
                Some(problem) => td_string!(
                    l,
                    log.filter_broken,
                    to = label(to),
                    event = event_word(name),
                    problem = problem
                )
                .to_string(),
                None if *passed => td_string!(
                    l,
                    log.filtered_in,
                    to = label(to),
                    event = event_word(name),
                    saw = saw_words(saw)
                )
                .to_string(),
                None => td_string!(
                    l,
                    log.filtered_out,
                    to = label(to),
                    event = event_word(name),
                    saw = saw_words(saw)
                )
                .to_string(),
            },
        ),
        ItemsStarted {
            node,
            field,
            items,
            problem,
        } => match problem {
            Some(problem) => (
                LogKind::Failure,
                vec![node.as_str()],
                td_string!(l, log.items_refused, step = label(node), problem = problem).to_string(),
            ),
            None => (
                LogKind::Step,
                vec![node.as_str()],
                td_string!(
                    l,
                    log.items_started,
                    step = label(node),
                    count = items,
                    field = field
                )
                .to_string(),
            ),
        },
        ItemsDone {
            node,
            items,
            failed,
            slowest_ms,
        } => (
            if failed.is_empty() {
                LogKind::Step
            } else {
                LogKind::Failure
            },
            vec![node.as_str()],
            if failed.is_empty() {
                td_string!(
                    l,
                    log.items_done,
                    step = label(node),
                    count = items,
                    ms = slowest_ms
                )
                .to_string()
            } else {
                td_string!(
                    l,
                    log.items_failed,
                    step = label(node),
                    failed = failed.len(),
                    count = items,
                    which = failed
                        .iter()
                        .map(|i| format!("#{}", i + 1))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .to_string()
            },
        ),
        WaitStarted {
            node,
            message,
            for_ms,
            timeout_ms,
        } => (
            LogKind::Step,
            vec![node.as_str()],
            match (message, for_ms, timeout_ms) {
                (Some(m), _, Some(t)) => td_string!(
                    l,
                    log.waits_for_until,
                    step = label(node),
                    message = event_word(m),
                    ms = *t
                )
                .to_string(),
                (Some(m), _, None) => td_string!(
                    l,
                    log.waits_for,
                    step = label(node),
                    message = event_word(m)
                )
                .to_string(),
                (None, Some(ms), _) => {
                    td_string!(l, log.timer, step = label(node), ms = *ms).to_string()
                }
                (None, None, _) => String::new(),
            },
        ),
        MessageReceived {
            name,
            node,
            source,
            data,
        } => {
            let from = match source {
                crate::model::run::MessageSource::Outside => td_string!(l, log.source_outside),
                crate::model::run::MessageSource::Simulated => td_string!(l, log.source_simulated),
                crate::model::run::MessageSource::Event => td_string!(l, log.source_event),
            };
            let data = if data.is_empty() {
                String::new()
            } else {
                format!(" ({})", written_words(data))
            };
            match node {
                Some(node) => (
                    LogKind::Step,
                    vec![node.as_str()],
                    td_string!(
                        l,
                        log.message_received,
                        message = event_word(name),
                        from = from,
                        step = label(node)
                    )
                    .to_string()
                        + &data,
                ),
                None => (
                    LogKind::Step,
                    vec![],
                    td_string!(l, log.message_kept, message = event_word(name), from = from)
                        .to_string()
                        + &data,
                ),
            }
        }
        QuerySent {
            name,
            node,
            owner,
            fields,
            ..
        } => (
            LogKind::Event,
            vec![node.as_str(), owner.as_str()],
            td_string!(
                l,
                log.query_sent,
                step = label(node),
                owner = label(owner),
                fields = fields.join(", "),
                event = event_word(name)
            )
            .to_string(),
        ),
        QueryAnswered {
            node,
            owner,
            answer,
            ..
        } => (
            LogKind::Event,
            vec![node.as_str(), owner.as_str()],
            td_string!(
                l,
                log.query_answered,
                step = label(node),
                owner = label(owner),
                values = saw_words(answer)
            )
            .to_string(),
        ),
        StepSucceeded {
            node,
            attempt,
            wrote,
        } => (
            LogKind::Step,
            vec![node.as_str()],
            if wrote.is_empty() {
                td_string!(l, log.succeeded, step = label(node), attempt = attempt).to_string()
            } else {
                td_string!(
                    l,
                    log.succeeded_wrote,
                    step = label(node),
                    attempt = attempt,
                    values = written_words(wrote)
                )
                .to_string()
            },
        ),
        StepFailed {
            node,
            attempts,
            reason,
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            if *attempts == 1 {
                td_string!(
                    l,
                    log.failed1,
                    step = label(node),
                    reason = reason_words(l, *reason)
                )
                .to_string()
            } else {
                td_string!(
                    l,
                    log.failed,
                    step = label(node),
                    attempts = attempts,
                    reason = reason_words(l, *reason)
                )
                .to_string()
            },
        ),
        FailureUnhandled {
            node, diagnosis, ..
        } => (
            LogKind::Failure,
            vec![node.as_str()],
            td_string!(
                l,
                log.unhandled,
                diagnosis = super::story::unhandled_words(l, &label(node), diagnosis)
            )
            .to_string(),
        ),
        SagaStarted { failed, compensate } => (
            LogKind::Compensation,
            vec![failed.as_str()],
            td_string!(
                l,
                log.saga,
                failed = label(failed),
                steps = list(compensate)
            )
            .to_string(),
        ),
        ChildStarted {
            node,
            run,
            workflow,
            ..
        } => (
            LogKind::Step,
            vec![node.as_str()],
            td_string!(
                l,
                log.child_started,
                step = label(node),
                workflow = workflow,
                run = short_run(run)
            )
            .to_string(),
        ),
        ChildEnded {
            node,
            run,
            status,
            diagnosis,
            ..
        } => (
            if matches!(status, RunStatus::Completed | RunStatus::Compensated) {
                LogKind::Step
            } else {
                LogKind::Failure
            },
            vec![node.as_str()],
            match diagnosis {
                Some(why) => td_string!(
                    l,
                    log.child_ended_why,
                    step = label(node),
                    run = short_run(run),
                    status = status.as_str(),
                    why = why
                )
                .to_string(),
                None => td_string!(
                    l,
                    log.child_ended,
                    step = label(node),
                    run = short_run(run),
                    status = status.as_str()
                )
                .to_string(),
            },
        ),
        ServiceCalled {
            node,
            status,
            took_ms,
            problem,
            undo,
            ..
        } => (
            if status.is_some_and(|s| (200..300).contains(&s)) {
                LogKind::Step
            } else {
                LogKind::Failure
            },
            vec![node.as_str()],
            {
                let answer = match status {
                    Some(status) => status.to_string(),
                    None => td_string!(l, log.no_answer).to_string(),
                };
                let step = label(node);
                match (undo, problem) {
                    (Some(action), Some(problem)) => td_string!(
                        l,
                        log.service_undo_why,
                        step = step,
                        action = action,
                        answer = answer,
                        ms = took_ms,
                        why = problem
                    )
                    .to_string(),
                    (Some(action), None) => td_string!(
                        l,
                        log.service_undo,
                        step = step,
                        action = action,
                        answer = answer,
                        ms = took_ms
                    )
                    .to_string(),
                    (None, Some(problem)) => td_string!(
                        l,
                        log.service_called_why,
                        step = step,
                        answer = answer,
                        ms = took_ms,
                        why = problem
                    )
                    .to_string(),
                    (None, None) => td_string!(
                        l,
                        log.service_called,
                        step = step,
                        answer = answer,
                        ms = took_ms
                    )
                    .to_string(),
                }
            },
        ),
        ChildUndoStarted { node, child, run } => (
            LogKind::Compensation,
            vec![node.as_str()],
            td_string!(
                l,
                log.child_undo,
                step = label(node),
                child = short_run(child),
                run = short_run(run)
            )
            .to_string(),
        ),
        UndoStarted { of, compensate } => (
            LogKind::Compensation,
            compensate.iter().map(String::as_str).collect(),
            if compensate.is_empty() {
                td_string!(l, log.undo_nothing, run = short_run(of)).to_string()
            } else {
                td_string!(
                    l,
                    log.undo_started,
                    run = short_run(of),
                    steps = list(compensate)
                )
                .to_string()
            },
        ),
        CompensationStarted { node, action } => (
            LogKind::Compensation,
            vec![node.as_str()],
            td_string!(l, log.compensating, step = label(node), action = action).to_string(),
        ),
        StepCompensated { node, action } => (
            LogKind::Compensation,
            vec![node.as_str()],
            td_string!(l, log.compensated, step = label(node), action = action).to_string(),
        ),
        CompensationFailed { node, action } => (
            LogKind::Failure,
            vec![node.as_str()],
            td_string!(
                l,
                log.compensation_failed,
                step = label(node),
                action = action
            )
            .to_string(),
        ),
        StepSkipped { node } => (
            LogKind::Step,
            vec![node.as_str()],
            td_string!(l, log.skipped, step = label(node)).to_string(),
        ),
        StepCancelled { node } => (
            LogKind::Step,
            vec![node.as_str()],
            td_string!(l, log.cancelled, step = label(node)).to_string(),
        ),
        CancelRequested => (
            LogKind::Run,
            vec![],
            td_string!(l, log.cancel_requested).into(),
        ),
        RunawayStopped { reason } => (
            LogKind::Failure,
            vec![],
            td_string!(l, log.stopped, reason = reason).to_string(),
        ),
        RunResumed { resent, by } => (
            LogKind::Run,
            vec![],
            match by.as_ref().and_then(|by| Some((by, by.other()?))) {
                Some((by, from)) => td_string!(
                    l,
                    log.taken_over,
                    process = by.process.as_str(),
                    from = from,
                    steps = list(resent)
                )
                .to_string(),
                None => td_string!(l, log.resumed, steps = list(resent)).to_string(),
            },
        ),
        RunCompleted {
            status, diagnosis, ..
        } => (
            LogKind::Run,
            vec![],
            match diagnosis.as_ref().filter(|_| l == Locale::en) {
                Some(d) => td_string!(
                    l,
                    log.run_ended_with,
                    status = status_words(l, *status),
                    diagnosis = d
                )
                .to_string(),
                None => td_string!(l, log.run_ended, status = status_words(l, *status)).to_string(),
            },
        ),
    }
}

/// A run's status in `locale`'s words.
pub fn status_words(locale: Locale, status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => td_string!(locale, state.running),
        RunStatus::Completed => td_string!(locale, state.completed),
        RunStatus::Failed => td_string!(locale, state.failed),
        RunStatus::Compensated => td_string!(locale, state.compensated),
        RunStatus::Cancelled => td_string!(locale, state.cancelled),
    }
}

/// A step's state in `locale`'s words (the canvas's, the timeline's, a test's difference).
pub fn state_words(locale: Locale, state: super::StepState) -> &'static str {
    use super::StepState;
    match state {
        StepState::Pending => td_string!(locale, state.pending),
        StepState::Waiting => td_string!(locale, state.waiting),
        StepState::Running => td_string!(locale, state.running),
        StepState::Retrying => td_string!(locale, state.retrying),
        StepState::Succeeded => td_string!(locale, state.succeeded),
        StepState::Failed => td_string!(locale, state.failed),
        StepState::Compensating => td_string!(locale, state.compensating),
        StepState::Compensated => td_string!(locale, state.compensated),
        StepState::Skipped => td_string!(locale, state.skipped),
        StepState::Cancelled => td_string!(locale, state.cancelled),
    }
}

/// The speed a run was played at (simulated time ÷ wall time), from its start record; 1
/// when the log does not hold it. Wall-time gaps × this = simulated milliseconds.
pub fn speed(log: &[RunRecord]) -> f64 {
    log.iter()
        .find_map(|r| match r.event {
            RunEvent::RunStarted { speed, .. } if speed > 0.0 => Some(speed),
            _ => None,
        })
        .unwrap_or(1.0)
}

/// The figures of the summary tab, counted from the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// How long the run took in simulated time: wall time × the speed it was played at.
    pub duration_ms: i64,
    /// The speed it was played at (simulated time ÷ wall time; 1 before its start is known).
    pub speed: f64,
    pub executions: usize,
    pub failed_attempts: usize,
    pub retries: usize,
    pub compensations: usize,
}

pub fn figures(log: &[RunRecord]) -> Figures {
    let count = |f: fn(&RunEvent) -> bool| log.iter().filter(|r| f(&r.event)).count();
    let speed = speed(log);
    Figures {
        duration_ms: match (log.first(), log.last()) {
            (Some(a), Some(b)) => ((b.at_ms - a.at_ms) as f64 * speed).round() as i64,
            _ => 0,
        },
        speed,
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
/// the earliest. Retries are skipped to the execution they repeat. `how` names the steps
/// by `name` (the page gives their labels).
pub fn triggered_by(
    log: &[RunRecord],
    node: &str,
    locale: Locale,
    name: &dyn Fn(&str) -> String,
) -> Vec<Link> {
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
            Cause::Start => (td_string!(locale, causes.start).to_string(), None),
            Cause::Command { from, .. } => (
                td_string!(locale, causes.command, from = name(&from)).to_string(),
                Some(from),
            ),
            Cause::Event {
                from, name: event, ..
            } => (
                td_string!(locale, causes.event, event = event, from = name(&from)).to_string(),
                Some(from),
            ),
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
pub fn triggered(log: &[RunRecord], node: &str, locale: Locale) -> Vec<Link> {
    log.iter()
        .filter_map(|r| match &r.event {
            RunEvent::StepStarted {
                node: started,
                cause,
                ..
            } => match cause {
                Cause::Command { from, .. } if from == node => Some(Link {
                    node: started.clone(),
                    how: td_string!(locale, causes.by_command).into(),
                }),
                Cause::Event { from, name, .. } if from == node => Some(Link {
                    node: started.clone(),
                    how: td_string!(locale, causes.by_event, event = name).to_string(),
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// What a lost event cost a run: the edges the bus lost an event on, and the steps the run
/// never reached because of them — each lost event's subscriber and what follows it, as far
/// as those steps never ran (a step some other path reached is not counted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lost {
    pub edges: BTreeSet<String>,
    pub never_reached: BTreeSet<String>,
}

pub fn lost(log: &[RunRecord], workflow: &Workflow, view: &RunView) -> Lost {
    let mut drops = Vec::new();
    dropped(log, &mut drops);
    lost_after(&drops, workflow, view)
}

/// The events the bus lost in `records` (its edge and the step it was for), added to
/// `drops`: a live run's view reads only the records that came since it last looked.
pub fn dropped(records: &[RunRecord], drops: &mut Vec<(String, String)>) {
    for record in records {
        if let RunEvent::EventDropped { edge, to, .. } = &record.event {
            drops.push((edge.clone(), to.clone()));
        }
    }
}

/// [`lost`] from the events the bus lost ([`dropped`]).
pub fn lost_after(drops: &[(String, String)], workflow: &Workflow, view: &RunView) -> Lost {
    let mut out = Lost::default();
    if drops.is_empty() {
        return out;
    }
    let mut todo: Vec<String> = Vec::new();
    for (edge, to) in drops {
        out.edges.insert(edge.clone());
        todo.push(to.clone());
    }
    let ran = |id: &str| {
        view.steps
            .get(id)
            .is_some_and(|s| !matches!(s.state, StepState::Pending | StepState::Skipped))
    };
    let mut seen = BTreeSet::new();
    while let Some(step) = todo.pop() {
        if !seen.insert(step.clone()) || ran(&step) {
            continue;
        }
        out.never_reached.insert(step.clone());
        todo.extend(
            workflow
                .edges
                .iter()
                .filter(|e| e.from == step)
                .map(|e| e.to.clone()),
        );
    }
    out
}

/// What a step wrote, as a reader sees it: `approved = true, amount = 120`.
pub fn written_words(wrote: &serde_json::Map<String, serde_json::Value>) -> String {
    wrote
        .iter()
        .map(|(field, value)| format!("{field} = {value}"))
        .collect::<Vec<_>>()
        .join(", ")
}
