//! A run's outcome in words: what the Summary, and the run report of the API, say happened —
//! a failure and how it was handled (a failure route, a saga, nobody), what a saga undid,
//! how long the orchestrator was down and what waited for it, which events the bus lost,
//! retries that saved a step, and how the run ended.
//!
//! [`Story`] folds a run's history one record at a time (the server replays a stored history
//! into it without holding the records; the browser folds the live log), keeping at most
//! [`MAX_STORY_LINES`] happenings. Each [`Happening`] has a stable [`Happening::code`] — the
//! API sends it beside the English sentence, so a client can say it in its own words.

use serde::{Deserialize, Serialize};

use super::{FailureReason, Node, Outcome, RunEvent, RunRecord, RunStatus, Workflow};
use crate::i18n::Locale;

/// The most happenings a story keeps (a runaway cycle fails again and again; the first ones
/// say what went wrong).
pub const MAX_STORY_LINES: usize = 12;

/// How a failed step's failure was handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Along failure routes (commands or events) to these steps.
    Route(Vec<String>),
    /// The orchestrator compensated what it had commanded (see [`Happening::Compensated`]).
    Saga,
    /// Nobody handles it: the run fails with this diagnosis.
    Unhandled(String),
    /// Not (yet) decided: the run is still going, or ended before anything followed.
    Open,
}

/// One thing that happened in a run, worth a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happening {
    /// `node` failed after `attempts` attempts, for `reason`; `handling` says what followed.
    StepFailed {
        node: String,
        attempts: u32,
        reason: FailureReason,
        handling: Handling,
    },
    /// `node` succeeded on attempt `attempt` (> 1): its retries saved it.
    SavedByRetry { node: String, attempt: u32 },
    /// A saga undid these steps, in this (reverse) order, with their compensating actions;
    /// `failed` lists the compensations that failed themselves.
    Compensated {
        undone: Vec<(String, String)>,
        failed: Vec<String>,
    },
    /// The orchestrator was down `down_ms`; `waited` replies and retries waited for it;
    /// `standby`: a standby took over (else the crashed one restarted).
    OrchestratorOutage {
        down_ms: u64,
        waited: u32,
        standby: bool,
    },
    /// The orchestrator crashed and the run ended before it was back.
    OrchestratorStillDown,
    /// The bus lost event `name` from `from` on its way to `to`.
    EventLost {
        name: String,
        from: String,
        to: String,
    },
    /// The bus delivered `deliveries` event messages a second time (at-least-once
    /// delivery); `ran_again`: the steps that ran once more because of it (not idempotent).
    Duplicated {
        deliveries: u32,
        ran_again: Vec<String>,
    },
    /// The run ended: `status`, with the engine's diagnosis when it failed.
    Ended {
        status: RunStatus,
        diagnosis: Option<String>,
    },
    /// A runaway limit stopped the run.
    Stopped { reason: String },
    /// What the steps wrote into the run data, in order: (step, `field = value, …`). One
    /// sentence for the whole run, however many steps wrote.
    Wrote { by_step: Vec<(String, String)> },
    /// The decisions on the run data, in order. One sentence for the whole run.
    Decided { decisions: Vec<Decision> },
    /// Subscribers checked their filters on the events that reached them, in order: (the
    /// subscriber, the event, whether it acted on it, what the filter read). One sentence.
    Filtered {
        filters: Vec<(String, String, bool, String)>,
    },
    /// Events carried too little: (the subscriber, the step it asked, the fields), in
    /// order. One sentence.
    Queried {
        queries: Vec<(String, String, Vec<String>)>,
    },
    /// A decision took no branch (`problem` says why): the run cannot go on that way.
    Undecided { node: String, problem: String },
    /// Messages that reached the run, in order: (name, the waiting step it ended — none
    /// when it was kept for later —, where it came from). One sentence.
    Received {
        messages: Vec<(String, Option<String>, super::run::MessageSource)>,
    },
    /// The loops the run went round, in order: (the step they go back from, the step they
    /// go back to, how many times, the bound). One sentence.
    Looped {
        loops: Vec<(String, String, u32, u32)>,
    },
    /// The child runs of sub-flow steps that ended, in order: (the step, the run, how it
    /// ended, whether it was an undo run). One sentence.
    Children {
        children: Vec<(String, String, RunStatus, bool)>,
    },
}

/// One decision a story tells: after `node`, on to `to`, having read `saw`; made by the
/// orchestrator, or by `node`'s own service choosing what to publish (`publisher`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub node: String,
    pub to: Vec<String>,
    pub saw: String,
    pub publisher: bool,
}

impl Happening {
    /// A stable, machine-readable name of the kind of happening.
    pub fn code(&self) -> &'static str {
        match self {
            Happening::StepFailed { handling, .. } => match handling {
                Handling::Route(_) => "failure_handled_by_route",
                Handling::Saga => "failure_handled_by_saga",
                Handling::Unhandled(_) => "failure_unhandled",
                Handling::Open => "step_failed",
            },
            Happening::SavedByRetry { .. } => "saved_by_retry",
            Happening::Compensated { .. } => "compensated",
            Happening::OrchestratorOutage { .. } => "orchestrator_outage",
            Happening::OrchestratorStillDown => "orchestrator_still_down",
            Happening::EventLost { .. } => "event_lost",
            Happening::Wrote { .. } => "data_written",
            Happening::Decided { .. } => "decided",
            Happening::Filtered { .. } => "events_filtered",
            Happening::Queried { .. } => "context_queried",
            Happening::Undecided { .. } => "undecided",
            Happening::Looped { .. } => "looped",
            Happening::Received { .. } => "messages_received",
            Happening::Children { .. } => "child_runs",
            Happening::Duplicated { .. } => "events_duplicated",
            Happening::Ended { status, diagnosis } => match status {
                RunStatus::Completed => "run_completed",
                RunStatus::Failed
                    if diagnosis
                        .as_deref()
                        .is_some_and(|d| d.starts_with("stalled")) =>
                {
                    "run_stalled"
                }
                RunStatus::Failed => "run_failed",
                RunStatus::Compensated => "run_compensated",
                RunStatus::Cancelled => "run_cancelled",
                RunStatus::Running => "run_running",
            },
            Happening::Stopped { .. } => "run_stopped",
        }
    }

    /// The happening in a sentence in `locale`'s words, steps named by their labels
    /// (`nodes`: the run's workflow's); the input shows which of its values a step's
    /// `fail_when` refused.
    pub fn say(&self, locale: Locale, nodes: &[Node], input: &serde_json::Value) -> String {
        let node_of = |id: &str| nodes.iter().find(|n| n.id == id);
        let label = |id: &str| {
            node_of(id)
                .map(|n| n.label.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let separator = td_string!(locale, story.list_separator);
        let labels = |ids: &[String]| {
            ids.iter()
                .map(|id| label(id))
                .collect::<Vec<_>>()
                .join(separator)
        };
        match self {
            Happening::StepFailed {
                node,
                attempts,
                reason,
                handling,
            } => {
                let why = match reason {
                    FailureReason::Rejected => node_of(node)
                        .and_then(|n| n.fail_when.as_ref())
                        .map(|f| {
                            let given = lookup(input, &f.field).unwrap_or(&f.equals);
                            format!("{} = {given}", f.field)
                        })
                        .unwrap_or_else(|| td_string!(locale, story.refused).into()),
                    FailureReason::Error => td_string!(locale, story.error).into(),
                    FailureReason::Timeout => td_string!(locale, story.timeout).into(),
                    FailureReason::Unavailable => td_string!(locale, story.unavailable).into(),
                    FailureReason::Declined => td_string!(locale, story.declined).into(),
                };
                let tries = if *attempts > 1 {
                    td_string!(locale, story.after_attempts, attempts = attempts).to_string()
                } else {
                    String::new()
                };
                let failed = td_string!(
                    locale,
                    story.failed,
                    step = label(node),
                    why = why,
                    tries = tries
                )
                .to_string();
                match handling {
                    Handling::Route(to) => {
                        td_string!(locale, story.by_route, failed = failed, to = labels(to))
                            .to_string()
                    }
                    Handling::Saga => {
                        td_string!(locale, story.by_saga, failed = failed).to_string()
                    }
                    Handling::Unhandled(_) => {
                        td_string!(locale, story.unhandled, failed = failed).to_string()
                    }
                    Handling::Open => failed,
                }
            }
            Happening::SavedByRetry { node, attempt } => td_string!(
                locale,
                story.saved_by_retry,
                step = label(node),
                attempt = attempt
            )
            .to_string(),
            Happening::Compensated { undone, failed } => {
                let undone = undone
                    .iter()
                    .map(|(node, action)| {
                        td_string!(locale, story.undone, step = label(node), action = action)
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(separator);
                let mut s = if undone.is_empty() {
                    td_string!(locale, story.compensated_nothing).to_string()
                } else {
                    td_string!(locale, story.compensated, undone = undone).to_string()
                };
                if !failed.is_empty() {
                    s.push_str(
                        &td_string!(locale, story.compensation_failed, steps = labels(failed))
                            .to_string(),
                    );
                }
                s
            }
            Happening::OrchestratorOutage {
                down_ms,
                waited,
                standby,
            } => {
                let back = if *standby {
                    td_string!(locale, story.standby)
                } else {
                    td_string!(locale, story.restarted)
                };
                let seconds = format!("{:.1}", *down_ms as f64 / 1000.0);
                if *waited == 1 {
                    td_string!(locale, story.outage1, seconds = seconds, back = back).to_string()
                } else {
                    td_string!(
                        locale,
                        story.outage,
                        seconds = seconds,
                        count = waited,
                        back = back
                    )
                    .to_string()
                }
            }
            Happening::OrchestratorStillDown => td_string!(locale, story.still_down).into(),
            Happening::EventLost { name, from, to } => td_string!(
                locale,
                story.event_lost,
                event = name,
                from = label(from),
                to = label(to)
            )
            .to_string(),
            Happening::Duplicated {
                deliveries,
                ran_again,
            } => {
                if ran_again.is_empty() {
                    td_string!(locale, story.duplicated_harmless, count = *deliveries).to_string()
                } else {
                    td_string!(
                        locale,
                        story.duplicated_ran_again,
                        count = *deliveries,
                        steps = labels(ran_again)
                    )
                    .to_string()
                }
            }
            Happening::Ended { status, diagnosis } => match status {
                RunStatus::Completed => td_string!(locale, story.completed).into(),
                RunStatus::Failed => match diagnosis {
                    Some(d) => td_string!(locale, story.failed_with, diagnosis = d).to_string(),
                    None => td_string!(locale, story.failed_plain).into(),
                },
                RunStatus::Compensated => td_string!(locale, story.ended_compensated).into(),
                RunStatus::Cancelled => td_string!(locale, story.cancelled).into(),
                RunStatus::Running => td_string!(locale, story.running).into(),
            },
            Happening::Stopped { reason } => {
                td_string!(locale, story.stopped, reason = reason).to_string()
            }
            Happening::Decided { decisions } => td_string!(
                locale,
                story.decided,
                decisions = decisions
                    .iter()
                    .map(|d| {
                        let to: Vec<String> = d.to.iter().map(|t| label(t)).collect();
                        if d.publisher {
                            td_string!(
                                locale,
                                story.decision_published,
                                step = label(&d.node),
                                to = to.join(", "),
                                saw = &d.saw
                            )
                        } else {
                            td_string!(
                                locale,
                                story.decision,
                                step = label(&d.node),
                                to = to.join(", "),
                                saw = &d.saw
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Filtered { filters } => td_string!(
                locale,
                story.filtered,
                filters = filters
                    .iter()
                    .map(|(to, name, passed, saw)| {
                        let event = name.as_str();
                        if *passed {
                            td_string!(
                                locale,
                                story.filter_in,
                                to = label(to),
                                event = event,
                                saw = saw
                            )
                        } else {
                            td_string!(
                                locale,
                                story.filter_out,
                                to = label(to),
                                event = event,
                                saw = saw
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Queried { queries } => td_string!(
                locale,
                story.queried,
                queries = queries
                    .iter()
                    .map(|(node, owner, fields)| td_string!(
                        locale,
                        story.query,
                        step = label(node),
                        owner = label(owner),
                        fields = fields.join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Children { children } => td_string!(
                locale,
                story.children,
                children = children
                    .iter()
                    .map(|(node, run, status, undo)| {
                        let run = super::log::short_run(run);
                        let status = super::log::status_words(locale, *status);
                        if *undo {
                            td_string!(
                                locale,
                                story.child_undone,
                                step = label(node),
                                run = run,
                                status = status
                            )
                        } else {
                            td_string!(
                                locale,
                                story.child_ran,
                                step = label(node),
                                run = run,
                                status = status
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Received { messages } => td_string!(
                locale,
                story.received,
                messages = messages
                    .iter()
                    .map(|(name, node, source)| {
                        let source = match source {
                            super::run::MessageSource::Outside => {
                                td_string!(locale, log.source_outside)
                            }
                            super::run::MessageSource::Simulated => {
                                td_string!(locale, log.source_simulated)
                            }
                            super::run::MessageSource::Event => {
                                td_string!(locale, log.source_event)
                            }
                        };
                        match node {
                            Some(node) => td_string!(
                                locale,
                                story.received_ended,
                                message = name,
                                source = source,
                                step = label(node)
                            )
                            .to_string(),
                            None => td_string!(
                                locale,
                                story.received_kept,
                                message = name,
                                source = source
                            )
                            .to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Looped { loops } => td_string!(
                locale,
                story.looped,
                loops = loops
                    .iter()
                    .map(|(from, to, times, max)| if times >= max {
                        td_string!(
                            locale,
                            story.loop_spent,
                            from = label(from),
                            to = label(to),
                            max = max
                        )
                        .to_string()
                    } else {
                        td_string!(
                            locale,
                            story.loop_times,
                            from = label(from),
                            to = label(to),
                            times = times,
                            max = max
                        )
                        .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
            Happening::Undecided { node, problem } => td_string!(
                locale,
                story.undecided,
                step = label(node),
                problem = problem
            )
            .to_string(),
            Happening::Wrote { by_step } => td_string!(
                locale,
                story.wrote,
                writes = by_step
                    .iter()
                    .map(|(node, values)| format!("{values} ({})", label(node)))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .to_string(),
        }
    }
}

/// An unhandled failure of step `step` in `locale`'s words: the engine's English
/// `diagnosis` as it is, or in another language that nobody handles the step's failure.
pub fn unhandled_words(locale: Locale, step: &str, diagnosis: &str) -> String {
    if locale == Locale::en {
        diagnosis.to_string()
    } else {
        td_string!(locale, story.unhandled_short, step = step).to_string()
    }
}

/// The value at a dotted path of the input.
fn lookup<'a>(input: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(input, |v, part| v.get(part))
}

/// A run's happenings, folded from its history record by record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Story {
    happenings: Vec<Happening>,
    /// The failed step whose handling is still to be seen, by index in `happenings`.
    open_failures: Vec<(String, usize)>,
    /// The saga being told, by index.
    saga: Option<usize>,
    /// The duplicate deliveries being told, by index.
    duplicated: Option<usize>,
    /// The run data's sentence, by index.
    wrote: Option<usize>,
    /// The decisions' sentence, by index.
    decided: Option<usize>,
    /// The subscribers' filters' sentence, by index.
    filtered: Option<usize>,
    /// The queries' sentence, by index.
    queried: Option<usize>,
    /// The loops' sentence, by index.
    looped: Option<usize>,
    /// The messages' sentence, by index.
    received: Option<usize>,
    /// The child runs' sentence, by index.
    children: Option<usize>,
    crashed: bool,
    /// The run's input (from its start), for the values a `fail_when` refused.
    input: super::run::RunInput,
}

impl Story {
    pub fn new() -> Self {
        Story::default()
    }

    pub fn happenings(&self) -> &[Happening] {
        &self.happenings
    }

    fn push(&mut self, happening: Happening) -> Option<usize> {
        if self.happenings.len() >= MAX_STORY_LINES {
            return None;
        }
        self.happenings.push(happening);
        Some(self.happenings.len() - 1)
    }

    fn handle(&mut self, node: &str, how: impl FnOnce(&mut Handling)) {
        if let Some(at) = self.open_failures.iter().position(|(n, _)| n == node) {
            let (_, index) = self.open_failures.remove(at);
            if let Some(Happening::StepFailed { handling, .. }) = self.happenings.get_mut(index) {
                how(handling);
            }
        }
    }

    /// Adds to the route of `node`'s failure (it stays open: a failure can take several
    /// routes).
    fn route(&mut self, node: &str, to: &[String]) {
        if let Some((_, index)) = self.open_failures.iter().find(|(n, _)| n == node) {
            if let Some(Happening::StepFailed { handling, .. }) = self.happenings.get_mut(*index) {
                match handling {
                    Handling::Route(targets) => {
                        for t in to {
                            if !targets.contains(t) {
                                targets.push(t.clone());
                            }
                        }
                    }
                    _ => *handling = Handling::Route(to.to_vec()),
                }
            }
        }
    }

    /// Takes in the next event of the run's history.
    pub fn apply(&mut self, event: &RunEvent) {
        use RunEvent::*;
        match event {
            RunStarted { input, .. } => self.input = input.clone(),
            StepFailed {
                node,
                attempts,
                reason,
            } => {
                // An earlier failure of the same step that was never routed stays as it is.
                self.open_failures.retain(|(n, _)| n != node);
                if let Some(index) = self.push(Happening::StepFailed {
                    node: node.clone(),
                    attempts: *attempts,
                    reason: *reason,
                    handling: Handling::Open,
                }) {
                    self.open_failures.push((node.clone(), index));
                }
            }
            // The orchestrator commands a failed step's successors only along its failure
            // routes (a step that runs again closes its failure first: see `StepStarted`).
            CommandSent { from, to, .. } => self.route(from, std::slice::from_ref(to)),
            StepStarted {
                node, execution, ..
            } => {
                self.open_failures.retain(|(n, _)| n != node);
                // Started again after a duplicate delivery: the step was not idempotent.
                if *execution > 1 {
                    if let Some(Happening::Duplicated { ran_again, .. }) =
                        self.duplicated.and_then(|i| self.happenings.get_mut(i))
                    {
                        if !ran_again.contains(node) {
                            ran_again.push(node.clone());
                        }
                    }
                }
            }
            EventPublished {
                from,
                outcome: Outcome::Failure,
                subscribers,
                ..
            } if !subscribers.is_empty() => self.route(from, subscribers),
            FailureUnhandled {
                node, diagnosis, ..
            } => {
                let diagnosis = diagnosis.clone();
                self.handle(node, |h| {
                    if *h == Handling::Open {
                        *h = Handling::Unhandled(diagnosis);
                    }
                });
            }
            SagaStarted { failed, .. } => {
                self.handle(failed, |h| *h = Handling::Saga);
                self.saga = self.push(Happening::Compensated {
                    undone: Vec::new(),
                    failed: Vec::new(),
                });
            }
            StepCompensated { node, action } => {
                if let Some(Happening::Compensated { undone, .. }) =
                    self.saga.and_then(|i| self.happenings.get_mut(i))
                {
                    undone.push((node.clone(), action.clone()));
                }
            }
            CompensationFailed { node, .. } => {
                if let Some(Happening::Compensated { failed, .. }) =
                    self.saga.and_then(|i| self.happenings.get_mut(i))
                {
                    failed.push(node.clone());
                }
            }
            Decided {
                node,
                to,
                saw,
                problem,
                publisher,
                loops,
                taken,
                ..
            } => {
                for turn in loops.iter().filter(|t| taken.contains(&t.edge)) {
                    let tally = (node.clone(), turn.to.clone(), turn.done + 1, turn.max);
                    match self.looped.and_then(|i| self.happenings.get_mut(i)) {
                        Some(Happening::Looped { loops }) => {
                            match loops.iter_mut().find(|l| l.0 == tally.0 && l.1 == tally.1) {
                                Some(known) => *known = tally,
                                None => loops.push(tally),
                            }
                        }
                        _ => self.looped = self.push(Happening::Looped { loops: vec![tally] }),
                    }
                }
                if to.is_empty() {
                    self.push(Happening::Undecided {
                        node: node.clone(),
                        problem: problem.clone().unwrap_or_default(),
                    });
                } else if saw.is_empty() && !loops.is_empty() {
                    // A loop's own decision (iterations left or not): told as the loop.
                } else {
                    let seen = super::log::written_words(saw);
                    let decision = Decision {
                        node: node.clone(),
                        to: to.clone(),
                        saw: seen,
                        publisher: *publisher,
                    };
                    match self.decided.and_then(|i| self.happenings.get_mut(i)) {
                        Some(Happening::Decided { decisions }) => decisions.push(decision),
                        _ => {
                            self.decided = self.push(Happening::Decided {
                                decisions: vec![decision],
                            })
                        }
                    }
                }
            }
            ChildEnded {
                node, run, status, ..
            } => {
                let said = (node.clone(), run.clone(), *status, run.ends_with(".undo"));
                match self.children.and_then(|i| self.happenings.get_mut(i)) {
                    Some(Happening::Children { children }) => children.push(said),
                    _ => {
                        self.children = self.push(Happening::Children {
                            children: vec![said],
                        })
                    }
                }
            }
            MessageReceived {
                name, node, source, ..
            } => {
                let said = (name.clone(), node.clone(), *source);
                match self.received.and_then(|i| self.happenings.get_mut(i)) {
                    Some(Happening::Received { messages }) => messages.push(said),
                    _ => {
                        self.received = self.push(Happening::Received {
                            messages: vec![said],
                        })
                    }
                }
            }
            EventFiltered {
                to,
                name,
                passed,
                saw,
                ..
            } => {
                let filter = (
                    to.clone(),
                    name.clone(),
                    *passed,
                    if saw.is_empty() {
                        "—".to_string()
                    } else {
                        super::log::written_words(saw)
                    },
                );
                match self.filtered.and_then(|i| self.happenings.get_mut(i)) {
                    Some(Happening::Filtered { filters }) => filters.push(filter),
                    _ => {
                        self.filtered = self.push(Happening::Filtered {
                            filters: vec![filter],
                        })
                    }
                }
            }
            QuerySent {
                node,
                owner,
                fields,
                ..
            } => {
                let query = (node.clone(), owner.clone(), fields.clone());
                match self.queried.and_then(|i| self.happenings.get_mut(i)) {
                    Some(Happening::Queried { queries }) => queries.push(query),
                    _ => {
                        self.queried = self.push(Happening::Queried {
                            queries: vec![query],
                        })
                    }
                }
            }
            StepSucceeded {
                node,
                attempt,
                wrote,
            } => {
                if !wrote.is_empty() {
                    let values = super::log::written_words(wrote);
                    match self.wrote.and_then(|i| self.happenings.get_mut(i)) {
                        Some(Happening::Wrote { by_step }) => by_step.push((node.clone(), values)),
                        _ => {
                            self.wrote = self.push(Happening::Wrote {
                                by_step: vec![(node.clone(), values)],
                            })
                        }
                    }
                }
                if *attempt > 1 {
                    self.push(Happening::SavedByRetry {
                        node: node.clone(),
                        attempt: *attempt,
                    });
                }
            }
            OrchestratorCrashed { .. } => self.crashed = true,
            OrchestratorRecovered {
                down_ms,
                standby,
                waited,
                ..
            } => {
                self.crashed = false;
                self.push(Happening::OrchestratorOutage {
                    down_ms: *down_ms,
                    waited: *waited,
                    standby: *standby,
                });
            }
            EventDelivered {
                duplicate: true, ..
            } => match self.duplicated.and_then(|i| self.happenings.get_mut(i)) {
                Some(Happening::Duplicated { deliveries, .. }) => *deliveries += 1,
                _ => {
                    self.duplicated = self.push(Happening::Duplicated {
                        deliveries: 1,
                        ran_again: Vec::new(),
                    })
                }
            },
            EventDropped { name, from, to, .. } => {
                self.push(Happening::EventLost {
                    name: name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            RunawayStopped { reason } => {
                self.push(Happening::Stopped {
                    reason: reason.clone(),
                });
            }
            RunCompleted {
                status, diagnosis, ..
            } => {
                if self.crashed {
                    self.push(Happening::OrchestratorStillDown);
                }
                // The end is always told, even when the story is full.
                self.happenings.truncate(MAX_STORY_LINES - 1);
                self.happenings.push(Happening::Ended {
                    status: *status,
                    diagnosis: diagnosis.clone(),
                });
            }
            _ => {}
        }
    }

    /// The story of a whole history.
    pub fn of(log: &[RunRecord]) -> Story {
        let mut story = Story::new();
        for record in log {
            story.apply(&record.event);
        }
        story
    }

    /// Each happening as its code and its sentence in `locale`'s words (the API's: English).
    /// Names the events the story tells of as `shown` says them (the engine's names are
    /// what the run recorded; a Korean template's page says its own words for them).
    pub fn rename_events(&mut self, shown: impl Fn(&str) -> String) {
        for happening in &mut self.happenings {
            match happening {
                Happening::EventLost { name, .. } => *name = shown(name),
                Happening::Filtered { filters } => {
                    for (_, name, _, _) in filters {
                        *name = shown(name);
                    }
                }
                _ => {}
            }
        }
    }

    pub fn lines(&self, workflow: &Workflow, locale: Locale) -> Vec<StoryLine> {
        self.happenings
            .iter()
            .map(|h| self.line(h, &workflow.nodes, locale))
            .collect()
    }

    fn line(&self, happening: &Happening, nodes: &[Node], locale: Locale) -> StoryLine {
        let message = match happening {
            // The engine's diagnosis is English; another language says it from the story.
            Happening::Ended {
                status: RunStatus::Failed,
                diagnosis: Some(_),
            } if locale != Locale::en => match self.diagnosis(locale, nodes) {
                Some(d) => td_string!(locale, story.failed_with, diagnosis = d).to_string(),
                None => happening.say(locale, nodes, &self.input),
            },
            _ => happening.say(locale, nodes, &self.input),
        };
        StoryLine {
            code: happening.code().to_string(),
            message,
        }
    }

    /// Whether a happening before the end already says why the run failed: a failure
    /// nobody handled, or an event the bus lost. (The page then ends the story with the
    /// outcome alone: the diagnosis is said once, on the status line.)
    pub fn tells_why(&self) -> bool {
        self.happenings.iter().any(|h| {
            matches!(
                h,
                Happening::StepFailed {
                    handling: Handling::Unhandled(_),
                    ..
                } | Happening::EventLost { .. }
                    | Happening::Undecided { .. }
            )
        })
    }

    /// Why the run failed, in `locale`'s words, from what the story saw: the first failure
    /// nobody handled, else the first event the bus lost (a stall). `None` when it saw
    /// neither. (The engine's own diagnosis, in the run's record, is English.)
    pub fn diagnosis(&self, locale: Locale, nodes: &[Node]) -> Option<String> {
        let unhandled = self.happenings.iter().find(|h| {
            matches!(
                h,
                Happening::StepFailed {
                    handling: Handling::Unhandled(_),
                    ..
                } | Happening::Undecided { .. }
            )
        });
        if let Some(h) = unhandled {
            return Some(h.say(locale, nodes, &self.input));
        }
        self.happenings
            .iter()
            .find(|h| matches!(h, Happening::EventLost { .. }))
            .map(|h| {
                td_string!(
                    locale,
                    story.stalled_diagnosis,
                    lost = h.say(locale, nodes, &self.input)
                )
                .to_string()
            })
    }

    /// The run's outcome in one line, for the runs list: its first happening (the end is
    /// not one yet when the engine asks, just before it records it); `None` when nothing
    /// happened but the steps' work.
    pub fn headline(&self, nodes: &[Node], locale: Locale) -> Option<StoryLine> {
        self.happenings
            .iter()
            .find(|h| {
                !matches!(
                    h,
                    Happening::Ended { .. }
                        | Happening::Wrote { .. }
                        | Happening::Decided { .. }
                        | Happening::Filtered { .. }
                        | Happening::Queried { .. }
                )
            })
            .map(|h| self.line(h, nodes, locale))
    }
}

/// One sentence of a run's story, as the API sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryLine {
    /// Stable and machine-readable (`failure_handled_by_route`, `compensated`, …).
    pub code: String,
    /// In English.
    pub message: String,
}
