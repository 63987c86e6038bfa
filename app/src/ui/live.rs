//! The live run view: following a run over a WebSocket that reconnects by itself with backoff
//! and resumes after the last record it received (so no step is missed or doubled), with
//! records coalesced per animation frame; the runs feed that keeps the runs list current;
//! and the run panel: summary, log and the workflow's past runs.

use leptos::prelude::*;

use super::client;
use super::editor::{Editor, Selection};
use super::spawn_local;
use super::timeline::TimelineView;
use crate::model::api::{RunFeed, RunSummary};
use crate::model::{Cause, RunEvent, RunRecord, RunView};

/// The state of the open run's live connection, as the status line shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    #[default]
    Idle,
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
    },
    /// The run completed and the stream closed: nothing more will come.
    Done,
}

/// Attempts in a row after which the view calls itself offline (it keeps retrying).
pub const OFFLINE_AFTER_ATTEMPTS: u32 = 4;
pub const RECONNECT_FIRST_MS: u32 = 250;
pub const RECONNECT_MAX_MS: u32 = 8_000;
/// The newest log entries drawn (the summary counts them all).
pub const LOG_SHOWN: usize = 500;

impl Connection {
    pub fn label(self) -> String {
        match self {
            Connection::Idle => String::new(),
            Connection::Connecting => "Connecting…".into(),
            Connection::Live => "Live".into(),
            Connection::Reconnecting { attempt } if attempt > OFFLINE_AFTER_ATTEMPTS => {
                format!("Offline — retrying every {} s", RECONNECT_MAX_MS / 1000)
            }
            Connection::Reconnecting { attempt } => format!("Reconnecting (attempt {attempt})…"),
            Connection::Done => "Complete".into(),
        }
    }
}

/// Records received but not yet drawn, for the run being followed.
#[derive(Default)]
pub struct Incoming {
    run_id: String,
    /// The seq of the newest record received: a reconnection resumes after it.
    last: u64,
    pending: Vec<RunRecord>,
    scheduled: bool,
    /// The command edge that last reached each step: its reply travels back along it.
    commanded_by: std::collections::HashMap<String, String>,
}

/// A message travelling along an edge on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Pulse {
    /// The record's seq: unique within the run.
    pub key: u64,
    pub edge: String,
    /// A reply: from the step back to the orchestrator, against the edge's direction.
    pub back: bool,
    pub kind: &'static str,
    /// The step a command goes to or a reply comes from: with the orchestrator drawn as a
    /// hub, the message travels the hub's spoke to that step instead of the edge.
    pub step: String,
}

/// How long a message takes to travel along an edge on the canvas.
pub const PULSE_MS: u32 = 700;
/// The most messages drawn in flight at once.
pub const MAX_PULSES: usize = 200;
/// Records older than this when they arrive are history being replayed: not animated.
pub const LIVE_WITHIN_MS: f64 = 3_000.0;

fn backoff_ms(attempt: u32) -> u32 {
    RECONNECT_FIRST_MS
        .saturating_mul(1 << attempt.min(6))
        .min(RECONNECT_MAX_MS)
}

/// Shows run `run_id` (pending steps, empty log) and follows it until it completes or
/// another run is opened.
pub fn open_run(editor: Editor, run_id: String) {
    let doc = editor.doc.get_untracked();
    editor
        .run
        .set(Some(RunView::new(doc.nodes.iter().map(|n| n.id.as_str()))));
    editor.log.set(Vec::new());
    editor.replay.set(None);
    editor.incoming.set_value(Incoming {
        run_id: run_id.clone(),
        ..Default::default()
    });
    editor.run_id.set(Some(run_id.clone()));
    spawn_local(follow_run(editor, run_id));
}

async fn follow_run(editor: Editor, run_id: String) {
    let mine = || editor.run_id.get_untracked().as_deref() == Some(run_id.as_str());
    let mut attempt = 0;
    loop {
        if !mine() {
            return;
        }
        editor.connection.set(if attempt == 0 {
            Connection::Connecting
        } else {
            Connection::Reconnecting { attempt }
        });
        let after = editor.incoming.with_value(|i| i.last);
        let outcome =
            client::watch_run(&run_id, after, move |record| receive(editor, record)).await;
        if !mine() {
            return;
        }
        match outcome {
            Ok(()) => {
                flush(editor);
                editor.connection.set(Connection::Done);
                return;
            }
            Err(e) => {
                // Whatever arrived counts as progress: start the backoff again.
                if editor.incoming.with_value(|i| i.last) > after {
                    attempt = 0;
                }
                attempt += 1;
                leptos::logging::warn!("{}; reconnecting", e.message);
                editor.connection.set(Connection::Reconnecting { attempt });
                client::sleep_ms(backoff_ms(attempt)).await;
            }
        }
    }
}

/// Takes one record off the socket: duplicates (at or before the last one) are dropped, the
/// rest wait for the next animation frame.
fn receive(editor: Editor, record: RunRecord) {
    if editor.connection.get_untracked() != Connection::Live {
        editor.connection.set(Connection::Live);
    }
    let schedule = editor.incoming.try_update_value(|i| {
        if record.seq <= i.last {
            return false;
        }
        i.last = record.seq;
        i.pending.push(record);
        !std::mem::replace(&mut i.scheduled, true)
    });
    if schedule == Some(true) {
        request_animation_frame(move || flush(editor));
    }
}

/// Draws every record received since the last frame, in one update.
fn flush(editor: Editor) {
    let (run_id, records) = editor
        .incoming
        .try_update_value(|i| {
            i.scheduled = false;
            (i.run_id.clone(), std::mem::take(&mut i.pending))
        })
        .unwrap_or_default();
    if records.is_empty() || editor.run_id.get_untracked().as_deref() != Some(run_id.as_str()) {
        return;
    }
    editor.run.update(|view| {
        if let Some(view) = view {
            for record in &records {
                view.apply(record);
            }
        }
    });
    animate(editor, &records);
    editor.log.update(|log| log.extend(records));
}

/// Sets the messages among `records` travelling: commands out along their edge, replies
/// back along the command edge that reached the step, events to each subscriber.
fn animate(editor: Editor, records: &[RunRecord]) {
    let now = client::now_ms();
    let mut pulses = Vec::new();
    editor.incoming.update_value(|incoming| {
        for r in records {
            let live = now - (r.at_ms as f64) < LIVE_WITHIN_MS;
            let pulse = match &r.event {
                RunEvent::CommandSent { edge, to, .. } => {
                    incoming.commanded_by.insert(to.clone(), edge.clone());
                    Some((edge.clone(), false, "command", to.clone()))
                }
                RunEvent::ReplyReceived { from, .. } => incoming
                    .commanded_by
                    .get(from)
                    .map(|edge| (edge.clone(), true, "reply", from.clone())),
                RunEvent::EventDelivered { edge, to, .. } => {
                    Some((edge.clone(), false, "event", to.clone()))
                }
                _ => None,
            };
            if let (true, Some((edge, back, kind, step))) = (live, pulse) {
                pulses.push(Pulse {
                    key: r.seq,
                    edge,
                    back,
                    kind,
                    step,
                });
            }
        }
    });
    if pulses.is_empty() {
        return;
    }
    let keys: Vec<u64> = pulses.iter().map(|p| p.key).collect();
    editor.pulses.update(|all| {
        all.extend(pulses);
        let excess = all.len().saturating_sub(MAX_PULSES);
        all.drain(..excess);
    });
    // Not a page task (one per frame would pile up cleanups): it tolerates the page's end.
    leptos::task::spawn_local(async move {
        client::sleep_ms(PULSE_MS + 100).await;
        editor
            .pulses
            .try_update(|all| all.retain(|p| !keys.contains(&p.key)));
    });
}

/// Loads the open workflow's runs, and keeps them current from the runs feed (reconnecting
/// with backoff; a "resync" or a reconnection reloads the list).
pub fn follow_runs_feed(editor: Editor) {
    Effect::new(move |_| {
        if let Some(id) = editor.workflow_id.get() {
            spawn_local(reload_runs(editor, id));
        } else {
            editor.runs.set(Vec::new());
        }
    });
    // An effect runs in the browser only, and this one once: the server renders no feed.
    Effect::new(move |_| {
        spawn_local(async move {
            let mut attempt = 0;
            loop {
                let failure = client::watch_feed(move |message| match message {
                    RunFeed::Run(summary) => upsert_run(editor, summary),
                    RunFeed::Resync => {
                        if let Some(id) = editor.workflow_id.get_untracked() {
                            spawn_local(reload_runs(editor, id));
                        }
                    }
                })
                .await;
                leptos::logging::warn!("{}; reconnecting", failure.message);
                attempt += 1;
                client::sleep_ms(backoff_ms(attempt)).await;
                if let Some(id) = editor.workflow_id.get_untracked() {
                    reload_runs(editor, id).await;
                }
            }
        })
    });
}

async fn reload_runs(editor: Editor, workflow_id: String) {
    if let Ok(runs) = client::list_runs(&workflow_id).await {
        if editor.workflow_id.get_untracked().as_deref() == Some(workflow_id.as_str()) {
            editor.runs.set(runs);
        }
    }
}

fn upsert_run(editor: Editor, summary: RunSummary) {
    if editor.workflow_id.get_untracked().as_deref() != Some(summary.workflow_id.as_str()) {
        return;
    }
    editor
        .runs
        .update(|runs| match runs.iter_mut().find(|r| r.id == summary.id) {
            Some(known) => *known = summary,
            None => runs.insert(0, summary),
        });
}

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

/// A log line: its kind, the steps it concerns, and what happened in words.
pub fn describe(event: &RunEvent) -> (LogKind, Vec<&str>, String) {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Summary,
    Timeline,
    Log,
    Causality,
    Replay,
    Runs,
}

#[component]
pub fn RunPanel(editor: Editor) -> impl IntoView {
    let tab = RwSignal::new(Tab::Summary);
    let tab_button = move |which: Tab, label: &'static str| {
        view! {
            <button
                role="tab"
                aria-selected=move || (tab.get() == which).to_string()
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="run-panel" aria-label="Run panel">
            <div class="tabs" role="tablist" aria-label="Run views">
                {tab_button(Tab::Summary, "Summary")}
                {tab_button(Tab::Timeline, "Timeline")}
                {tab_button(Tab::Log, "Log")}
                {tab_button(Tab::Causality, "Causality")}
                {tab_button(Tab::Replay, "Replay")}
                {tab_button(Tab::Runs, "Runs")}
            </div>
            <div class="tab-body" role="tabpanel">
                {move || match tab.get() {
                    Tab::Summary => view! { <Summary editor/> }.into_any(),
                    Tab::Timeline => view! { <TimelineView editor/> }.into_any(),
                    Tab::Log => view! { <Log editor/> }.into_any(),
                    Tab::Causality => view! { <Causality editor/> }.into_any(),
                    Tab::Replay => view! { <Replay editor/> }.into_any(),
                    Tab::Runs => view! { <Runs editor/> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn Summary(editor: Editor) -> impl IntoView {
    let figures = Memo::new(move |_| editor.log.with(|log| figures(log)));
    let row = move |label: &'static str, value: Signal<String>| {
        view! {
            <dt>{label}</dt>
            <dd aria-label=label>{value}</dd>
        }
    };
    let from_run = move |f: fn(&RunView) -> String| {
        Signal::derive(move || editor.run.with(|r| r.as_ref().map(f).unwrap_or_default()))
    };
    let from_figures = move |f: fn(&Figures) -> String| Signal::derive(move || figures.with(f));
    view! {
        <Show
            when=move || editor.run.with(Option::is_some)
            fallback=|| view! { <p class="muted">"No run yet: press Run, or open one from Runs."</p> }
        >
            <dl class="summary">
                {row("Status", from_run(|r| r.status.as_str().to_string()))}
                {row("Diagnosis", from_run(|r| r.diagnosis.clone().unwrap_or_else(|| "—".into())))}
                {row("Duration", from_figures(|f| format!("{} ms", f.duration_ms)))}
                {row("Steps executed", from_figures(|f| f.executions.to_string()))}
                {row("Failed attempts", from_figures(|f| f.failed_attempts.to_string()))}
                {row("Retries", from_figures(|f| f.retries.to_string()))}
                {row("Compensations", from_figures(|f| f.compensations.to_string()))}
                {row("Commands", from_run(|r| r.messages.commands.to_string()))}
                {row("Replies", from_run(|r| r.messages.replies.to_string()))}
                {row("Events", from_run(|r| r.messages.events.to_string()))}
                {row("Deliveries", from_run(|r| r.messages.deliveries.to_string()))}
                {row("Through the orchestrator", from_run(|r| r.messages.orchestrator().to_string()))}
            </dl>
        </Show>
    }
}

#[component]
fn Log(editor: Editor) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let step = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    // With follow off, the log stays as it was when it was turned off.
    let frozen_at = RwSignal::new(usize::MAX);
    let steps = move || {
        editor
            .doc
            .with(|d| d.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>())
    };
    let lines = Memo::new(move |_| {
        let text = text.get().to_lowercase();
        let kind = kind.get();
        let step = step.get();
        let limit = frozen_at.get();
        editor.log.with(|log| {
            let start = log.first().map_or(0, |r| r.at_ms);
            log.iter()
                .take(limit)
                .rev()
                .filter_map(|r| {
                    let (k, nodes, words) = describe(&r.event);
                    let keep = (kind.is_empty() || k.as_str() == kind)
                        && (step.is_empty() || nodes.contains(&step.as_str()))
                        && (text.is_empty() || words.to_lowercase().contains(&text));
                    keep.then(|| (r.seq, r.at_ms - start, k.as_str(), words))
                })
                .take(LOG_SHOWN)
                .collect::<Vec<_>>()
        })
    });
    view! {
        <div class="log-tools">
            <input
                aria-label="Filter log"
                placeholder="Filter text"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <select aria-label="Log kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                <option value="">"every kind"</option>
                {LogKind::ALL
                    .iter()
                    .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> })
                    .collect_view()}
            </select>
            <select aria-label="Log step" on:change=move |ev| step.set(event_target_value(&ev))>
                <option value="">"every step"</option>
                {move || steps().into_iter().map(|id| view! { <option value=id.clone()>{id.clone()}</option> }).collect_view()}
            </select>
            <label class="checkbox">
                <input
                    type="checkbox"
                    aria-label="Follow"
                    prop:checked=move || follow.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        follow.set(on);
                        frozen_at.set(if on { usize::MAX } else { editor.log.with_untracked(Vec::len) });
                    }
                />
                <span>"Follow"</span>
            </label>
        </div>
        <ol class="log" aria-label="Run log">
            <For each=move || lines.get() key=|l| l.0 let:line>
                <li class=format!("log-{}", line.2) data-seq=line.0>
                    <span class="log-seq">{format!("#{}", line.0)}</span>
                    <span class="log-time">{format!("+{} ms", line.1)}</span>
                    <span class="log-kind">{line.2}</span>
                    <span class="log-text">{line.3}</span>
                </li>
            </For>
        </ol>
    }
}

#[component]
fn Causality(editor: Editor) -> impl IntoView {
    let selected = Memo::new(move |_| match editor.selection.get() {
        Some(Selection::Node(id)) => Some(id),
        _ => None,
    });
    let chain = Memo::new(move |_| {
        let id = selected.get()?;
        let (before, after) = editor
            .log
            .with(|log| (triggered_by(log, &id), triggered(log, &id)));
        (!before.is_empty()).then_some((id, before, after))
    });
    let link = |l: Link| view! { <li><strong>{l.node}</strong>" — "{l.how}</li> };
    view! {
        <Show
            when=move || chain.with(Option::is_some)
            fallback=|| view! { <p class="muted">"Select a step that ran to see what triggered it, back to the run's start, and what it triggered."</p> }
        >
            {move || chain.get().map(|(id, before, after)| view! {
                <div class="causality">
                    <h3>{format!("What started {id}")}</h3>
                    <ol aria-label="Triggered by">{before.into_iter().map(link).collect_view()}</ol>
                    <h3>{format!("What {id} started")}</h3>
                    <Show when={let empty = after.is_empty(); move || empty}>
                        <p class="muted">"Nothing: the chain ends here."</p>
                    </Show>
                    <ul aria-label="Triggered">{after.into_iter().map(link).collect_view()}</ul>
                </div>
            })}
        </Show>
    }
}

/// Milliseconds of simulated history between replay frames are waited at most this long.
pub const REPLAY_MAX_GAP_MS: i64 = 1_000;

#[component]
fn Replay(editor: Editor) -> impl IntoView {
    let total = move || editor.log.with(Vec::len);
    let finished = move || {
        editor
            .run
            .with(|r| r.as_ref().is_some_and(|r| r.status.is_final()))
    };
    // Each play (or pause) takes a new token; a playback stops when its token is stale.
    let token = StoredValue::new(0u64);
    let play = move |speed: i64| {
        let mine = token.get_value() + 1;
        token.set_value(mine);
        if editor.replay.get_untracked().is_none_or(|at| at >= total()) {
            editor.replay.set(Some(0));
        }
        spawn_local(async move {
            loop {
                let Some(at) = editor.replay.get_untracked() else {
                    return;
                };
                if token.get_value() != mine || at >= total() {
                    return;
                }
                let gap = editor.log.with_untracked(|log| {
                    match (at.checked_sub(1).and_then(|i| log.get(i)), log.get(at)) {
                        (Some(a), Some(b)) => (b.at_ms - a.at_ms).clamp(0, REPLAY_MAX_GAP_MS),
                        _ => 0,
                    }
                });
                client::sleep_ms((gap / speed).max(16) as u32).await;
                if token.get_value() != mine {
                    return;
                }
                editor.replay.set(Some(at + 1));
            }
        });
    };
    let pause = move || token.set_value(token.get_value() + 1);
    let position = move || editor.replay.get().unwrap_or_else(total);
    let at_text = move || {
        let at = position();
        editor.log.with(|log| {
            let start = log.first().map_or(0, |r| r.at_ms);
            match at.checked_sub(1).and_then(|i| log.get(i)) {
                Some(r) => format!(
                    "record {at} of {} · +{} ms · {}",
                    log.len(),
                    r.at_ms - start,
                    describe(&r.event).2
                ),
                None => format!("before the first record (of {})", log.len()),
            }
        })
    };
    view! {
        <Show
            when=finished
            fallback=|| view! { <p class="muted">"Replay scrubs a finished run: run one, or open one from Runs."</p> }
        >
            <div class="replay">
                <input
                    type="range"
                    aria-label="Replay position"
                    min="0"
                    max=total
                    prop:value=move || position().to_string()
                    on:input=move |ev| {
                        pause();
                        if let Ok(at) = event_target_value(&ev).parse::<usize>() {
                            editor.replay.set(Some(at));
                        }
                    }
                />
                <button on:click=move |_| play(1)>"Play 1×"</button>
                <button on:click=move |_| play(4)>"Play 4×"</button>
                <button on:click=move |_| pause()>"Pause"</button>
                <button on:click=move |_| { pause(); editor.replay.set(None); }>"End (live view)"</button>
                <p class="replay-at" role="status" aria-label="Replay at">{at_text}</p>
            </div>
        </Show>
    }
}

#[component]
fn Runs(editor: Editor) -> impl IntoView {
    let describe_run = |r: &RunSummary| {
        let duration = r
            .ended_at
            .map(|end| format!("{} ms", end - r.started_at))
            .unwrap_or_else(|| "running".into());
        let messages = r
            .messages
            .map(|m| {
                format!(
                    "{} messages",
                    m.commands + m.replies + m.events + m.deliveries
                )
            })
            .unwrap_or_default();
        let started = js_time(r.started_at);
        format!(
            "{} · {started} · {duration} · {messages}",
            r.status.as_str()
        )
    };
    view! {
        <Show
            when=move || editor.runs.with(|r| !r.is_empty())
            fallback=|| view! { <p class="muted">"No runs of this workflow yet."</p> }
        >
            <ul class="runs" aria-label="Runs">
                <For
                    each=move || editor.runs.get()
                    key=|r| (r.id.clone(), r.status, r.ended_at)
                    let:run
                >
                    <li>
                        <button
                            class=format!("run-row status-{}", run.status.as_str())
                            class:open={
                                let id = run.id.clone();
                                move || editor.run_id.get().as_deref() == Some(id.as_str())
                            }
                            on:click={
                                let id = run.id.clone();
                                move |_| open_run(editor, id.clone())
                            }
                        >
                            {describe_run(&run)}
                        </button>
                    </li>
                </For>
            </ul>
        </Show>
    }
}

/// A Unix time in milliseconds as the browser's local time of day (the number itself on
/// the server, which renders no runs list).
pub fn js_time(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(time) = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_time_string("en-GB")
        .as_string()
    {
        return time;
    }
    ms.to_string()
}
