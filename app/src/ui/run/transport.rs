//! Following runs over the network: the open run's WebSocket, which reconnects by itself
//! with backoff and resumes after the last record it received (so no step is missed or
//! doubled), with records coalesced per animation frame; and the runs feed that keeps the
//! runs list current. It writes the run slice ([`RunState`]); nothing else does.

use leptos::prelude::*;

use crate::model::api::{merge_runs, RunFeed, RunSummary};
use crate::model::{RunRecord, Workflow};
use crate::ui::client;
use crate::ui::common::pulse::{MAX_PULSES, PULSE_MS};
use crate::ui::spawn_local;
use crate::ui::state::live_run::{RECONNECT_FIRST_MS, RECONNECT_MAX_MS};
use crate::ui::state::{Connection, Document, RunState};

fn backoff_ms(attempt: u32) -> u32 {
    RECONNECT_FIRST_MS
        .saturating_mul(1 << attempt.min(6))
        .min(RECONNECT_MAX_MS)
}

/// Shows run `run_id` (pending steps, empty log) and follows it until it completes or
/// another run is opened.
pub fn open_run(run: RunState, workflow: &Workflow, run_id: String) {
    run.show(&run_id, workflow);
    spawn_local(follow_run(run, run_id));
}

/// The run's socket and what it feeds are a chunk of their own (split by `make build`),
/// fetched when the first run is opened: the editor's first page needs none of it.
#[lazy]
async fn follow_run(run: RunState, run_id: String) {
    let mine = || run.is_open(&run_id);
    let mut attempt = 0;
    loop {
        if !mine() {
            return;
        }
        run.connection.set(if attempt == 0 {
            Connection::Connecting
        } else {
            Connection::Reconnecting { attempt }
        });
        let after = run.incoming.with_value(|i| i.last);
        let outcome = client::watch_run(&run_id, after, move |record| receive(run, record)).await;
        if !mine() {
            return;
        }
        match outcome {
            Ok(()) => {
                flush(run);
                run.connection.set(Connection::Done);
                return;
            }
            Err(e) => {
                // Whatever arrived counts as progress: start the backoff again.
                if run.incoming.with_value(|i| i.last) > after {
                    attempt = 0;
                }
                attempt += 1;
                leptos::logging::warn!("{}; reconnecting", e.message);
                run.connection.set(Connection::Reconnecting { attempt });
                client::sleep_ms(backoff_ms(attempt)).await;
            }
        }
    }
}

/// Takes one record off the socket: duplicates are dropped, the rest wait for the next
/// animation frame.
fn receive(run: RunState, record: RunRecord) {
    if run.connection.get_untracked() != Connection::Live {
        run.connection.set(Connection::Live);
    }
    if run
        .incoming
        .try_update_value(|i| i.accept(record))
        .flatten()
        == Some(true)
    {
        request_animation_frame(move || flush(run));
    }
}

/// Draws every record received since the last frame, in one update.
fn flush(run: RunState) {
    let (run_id, records) = run
        .incoming
        .try_update_value(|i| {
            i.scheduled = false;
            (i.run_id.clone(), std::mem::take(&mut i.pending))
        })
        .unwrap_or_default();
    if records.is_empty() || !run.is_open(&run_id) {
        return;
    }
    run.run.update(|view| {
        if let Some(view) = view {
            for record in &records {
                view.apply(record);
            }
        }
    });
    animate(run, &records);
    run.log.update(|log| log.extend(records));
}

/// Sets the messages among `records` travelling, and takes them off once they arrived.
fn animate(run: RunState, records: &[RunRecord]) {
    let now = client::now_ms();
    let pulses = run
        .incoming
        .try_update_value(|i| i.routes.pulses(records, now))
        .unwrap_or_default();
    if pulses.is_empty() {
        return;
    }
    let keys: Vec<u64> = pulses.iter().map(|p| p.key).collect();
    run.pulses.update(|all| {
        all.extend(pulses);
        let excess = all.len().saturating_sub(MAX_PULSES);
        all.drain(..excess);
    });
    // Not a page task (one per frame would pile up cleanups): it tolerates the page's end.
    leptos::task::spawn_local(async move {
        client::sleep_ms(PULSE_MS + 100).await;
        run.pulses
            .try_update(|all| all.retain(|p| !keys.contains(&p.key)));
    });
}

/// Loads the open workflow's runs, and keeps them current from the runs feed (reconnecting
/// with backoff; a "resync" or a reconnection reloads the list).
pub fn follow_runs_feed(document: Document, run: RunState) {
    Effect::new(move |_| {
        if let Some(id) = document.workflow_id.get() {
            spawn_local(reload_runs(document, run, id));
        } else {
            run.runs.set(Vec::new());
        }
    });
    // An effect runs in the browser only, and this one once: the server renders no feed.
    Effect::new(move |_| {
        spawn_local(async move {
            let mut attempt = 0;
            loop {
                let failure = client::watch_feed(move |message| match message {
                    RunFeed::Run(summary) => upsert_run(document, run, *summary),
                    RunFeed::Resync => {
                        if let Some(id) = document.workflow_id.get_untracked() {
                            spawn_local(reload_runs(document, run, id));
                        }
                    }
                })
                .await;
                leptos::logging::warn!("{}; reconnecting", failure.message);
                attempt += 1;
                client::sleep_ms(backoff_ms(attempt)).await;
                if let Some(id) = document.workflow_id.get_untracked() {
                    reload_runs(document, run, id).await;
                }
            }
        })
    });
}

async fn reload_runs(document: Document, run: RunState, workflow_id: String) {
    if let Ok(listed) = client::list_runs(&workflow_id).await {
        if document.workflow_id.get_untracked().as_deref() == Some(workflow_id.as_str()) {
            // The feed may have told of runs starting or ending while the list was read.
            run.runs
                .update(|known| *known = merge_runs(&workflow_id, listed, known));
        }
    }
}

fn upsert_run(document: Document, run: RunState, summary: RunSummary) {
    // A child run (of whatever workflow) is linked from its parent's line, when it is
    // listed here.
    if let Some(parent) = &summary.parent {
        run.runs.update(|runs| {
            if let Some(p) = runs.iter_mut().find(|r| r.id == parent.run) {
                if !p.children.contains(&summary.id) {
                    p.children.push(summary.id.clone());
                }
            }
        });
    }
    if document.workflow_id.get_untracked().as_deref() != Some(summary.workflow_id.as_str()) {
        return;
    }
    run.runs
        .update(|runs| match runs.iter_mut().find(|r| r.id == summary.id) {
            Some(known) => {
                // The feed does not list children: the line keeps those it knows.
                let children = std::mem::take(&mut known.children);
                *known = summary;
                if known.children.is_empty() {
                    known.children = children;
                }
            }
            None => runs.insert(0, summary),
        });
}
