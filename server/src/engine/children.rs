//! Sub-flows: the child runs that sub-flow steps start, the undo runs that compensate them,
//! and telling a parent how its child ended.
//!
//! A child is a run of its own — stored, driven, resumed and taken over like any other —
//! whose id is made from its parent's (`<parent>.<step>.<execution>.<attempt>`; its undo
//! run's is the child's with `.undo`), so starting it again is harmless: a child that exists
//! is not started twice, and one that has ended is told to its parent once more. The parent
//! records first (`ChildStarted`, `ChildUndoStarted`) and only then is the child started;
//! a resumed parent starts every child it waits for again, which is how a child's end lost
//! in a crash (or while the parent was between owners) still reaches it. The parent hears
//! the end as a change of its run ([`super::control`]): at whichever process owns it,
//! answered once durable, tried again while it is not confirmed.

use std::sync::Arc;
use std::time::Duration;

use app::model::api::ParentLink;
use app::model::validate::{child_gone, no_such_sub_flow, sub_flow_refusal, MAX_SUB_FLOW_DEPTH};
use app::model::{RunEvent, RunStatus};

use super::control::ControlError;
use super::core::{Input, RunCore};
use super::peers::Control;
use super::{Engine, RunOptions, StartError};
use crate::store::{named_workflow, replay_history, StoreError, StoredRun, WorkflowVersion};

/// How long a child's start is tried again while this process cannot take it (too many
/// runs in flight, the store failing, the lease lapsing); then its parent hears that it
/// could not start.
pub const CHILD_START_PATIENCE: Duration = Duration::from_secs(30);
/// How long a child's end is offered to its parent, at the usual pace, while the parent's
/// owner does not confirm it; after that it is offered every [`TELL_PARENT_AGAIN`] for as
/// long as the parent is stored running (an owner cut off from the bus but not from the
/// database keeps its lease: nobody else would resume the parent and hear the end).
pub const TELL_PARENT_PATIENCE: Duration = Duration::from_secs(60);
/// How often a child's end is offered to its parent after [`TELL_PARENT_PATIENCE`].
pub const TELL_PARENT_AGAIN: Duration = Duration::from_secs(10);
/// The first wait before trying again; it doubles up to a second.
const AGAIN_FIRST: Duration = Duration::from_millis(50);
const AGAIN_MAX: Duration = Duration::from_secs(1);

/// How a child run ended, as its parent hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildOutcome {
    pub status: RunStatus,
    pub diagnosis: Option<String>,
    /// What it wrote into its run data.
    pub wrote: serde_json::Map<String, serde_json::Value>,
}

impl ChildOutcome {
    /// A child that could not run at all.
    fn failed(why: String) -> Self {
        ChildOutcome {
            status: RunStatus::Failed,
            diagnosis: Some(why),
            wrote: serde_json::Map::new(),
        }
    }

    fn control(self, run: &str) -> Control {
        Control::ChildEnded {
            run: run.to_string(),
            status: self.status,
            diagnosis: self.diagnosis,
            wrote: self.wrote,
        }
    }
}

/// A child run a sub-flow step starts.
#[derive(Clone, Debug)]
pub(crate) struct ChildStart {
    pub parent: ParentLink,
    pub run: String,
    pub workflow: String,
    pub input: serde_json::Map<String, serde_json::Value>,
    pub seed: u64,
    pub speed: f64,
}

/// What starting a child came to.
enum Started {
    /// It runs (started now, or before): it tells its parent when it ends.
    Running,
    /// It had ended already: its parent hears how.
    Ended(ChildOutcome),
    /// Shutting down: the parent starts it again when it is resumed.
    Later,
}

impl Engine {
    /// Starts child run `start.run` unless it exists; tells the parent how it ended if it
    /// has, and that it failed if it cannot run (no such workflow, a cycle of sub-flows,
    /// nested too deep, or no room to start it within [`CHILD_START_PATIENCE`]).
    pub(crate) async fn start_child(self: Arc<Self>, start: ChildStart) {
        let started = self
            .patiently(|| async {
                if let Some(existing) = self.store.get_run(&start.run).await? {
                    return self.existing(&existing).await;
                }
                if let Some(why) = self.refusal(&start.parent, &start.workflow).await? {
                    return Ok(Started::Ended(ChildOutcome::failed(why)));
                }
                let found = named_workflow(self.store.as_ref(), &start.workflow).await?;
                let version = match found {
                    Some(record) => self
                        .store
                        .version(&record.id)
                        .await?
                        .map(|v| (record.id, v)),
                    None => None,
                };
                let Some((workflow_id, version)) = version else {
                    return Ok(Started::Ended(ChildOutcome::failed(no_such_sub_flow(
                        &start.workflow,
                    ))));
                };
                let options = RunOptions {
                    child: Some((start.run.clone(), start.parent.clone())),
                    ..RunOptions::new(
                        serde_json::Value::Object(start.input.clone()),
                        start.seed,
                        start.speed,
                    )
                };
                self.start_run(&workflow_id, version, options).await?;
                Ok(Started::Running)
            })
            .await;
        self.after_start(&start.parent, &start.run, started).await;
    }

    /// Starts undo run `run` of step `parent.node`'s completed child `child` unless it
    /// exists: a run of the child's workflow that compensates, newest first, the steps the
    /// child completed.
    pub(crate) async fn undo_child(
        self: Arc<Self>,
        parent: ParentLink,
        child: String,
        run: String,
    ) {
        let started = self
            .patiently(|| async {
                if let Some(existing) = self.store.get_run(&run).await? {
                    return self.existing(&existing).await;
                }
                let Some(done) = self.store.get_run(&child).await? else {
                    return Ok(Started::Ended(ChildOutcome::failed(child_gone(&child))));
                };
                let (core, seed) = self.replayed(&done).await?;
                let version = WorkflowVersion::new(done.workflow.as_ref().clone());
                let options = RunOptions {
                    child: Some((run.clone(), parent.clone())),
                    first: Input::Undo {
                        of: child.clone(),
                        steps: core.to_undo(),
                    },
                    ..RunOptions::new(done.input.as_ref().clone(), seed ^ 0x756e_646f, done.speed)
                };
                self.start_run(&done.workflow_id, version, options).await?;
                Ok(Started::Running)
            })
            .await;
        self.after_start(&parent, &run, started).await;
    }

    /// Cancels child run `run` (its step no longer waits for it). A child not stored yet
    /// (its start is under way) is looked for again a few times.
    pub(crate) async fn cancel_child(self: Arc<Self>, run: String) {
        let mut wait = AGAIN_FIRST;
        for _ in 0..8 {
            match self.control(&run, Control::Cancel).await {
                Ok(()) | Err(ControlError::Ended { .. }) => return,
                Err(ControlError::NotFound(_)) if !self.is_shutting_down() => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(AGAIN_MAX);
                }
                Err(e) => {
                    tracing::warn!(run = %run, error = %e, "could not cancel a child run");
                    return;
                }
            }
        }
    }

    /// Tells `parent` that its child `run` ended, at whichever process owns it, trying
    /// again while that is not confirmed: with backoff for [`TELL_PARENT_PATIENCE`], then
    /// every [`TELL_PARENT_AGAIN`] while the parent is stored running. A parent that has
    /// ended (or is gone) needs nothing more; one resumed after this process stops hears
    /// the end then.
    pub(crate) async fn tell_parent(&self, parent: &ParentLink, run: &str, outcome: ChildOutcome) {
        let deadline = tokio::time::Instant::now() + TELL_PARENT_PATIENCE;
        let mut wait = AGAIN_FIRST;
        let mut warned = false;
        loop {
            match self
                .control(&parent.run, outcome.clone().control(run))
                .await
            {
                Ok(()) | Err(ControlError::Ended { .. }) | Err(ControlError::NotFound(_)) => return,
                Err(e) => {
                    if self.is_shutting_down() {
                        return;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        match self.store.get_run(&parent.run).await {
                            Ok(Some(stored)) if stored.status.is_final() => return,
                            Ok(None) => return,
                            _ => {}
                        }
                        if !std::mem::replace(&mut warned, true) {
                            tracing::warn!(run = %run, parent = %parent.run, error = %e, "a parent run has not confirmed its child's end; offering it every {}s while the parent runs", TELL_PARENT_AGAIN.as_secs());
                        }
                        wait = TELL_PARENT_AGAIN;
                    }
                    tokio::time::sleep(wait).await;
                    if wait < TELL_PARENT_AGAIN {
                        wait = (wait * 2).min(AGAIN_MAX);
                    }
                }
            }
        }
    }

    async fn after_start(&self, parent: &ParentLink, run: &str, started: Started) {
        match started {
            Started::Running | Started::Later => {}
            Started::Ended(outcome) => self.tell_parent(parent, run, outcome).await,
        }
    }

    /// Tries `start` again, with backoff, while it fails for a reason that passes (the
    /// store failing, no room) for up to [`CHILD_START_PATIENCE`]; then it failed.
    async fn patiently<F, Fut>(&self, start: F) -> Started
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Started, Refused>>,
    {
        let deadline = tokio::time::Instant::now() + CHILD_START_PATIENCE;
        let mut wait = AGAIN_FIRST;
        loop {
            let why = match start().await {
                Ok(started) => return started,
                Err(Refused::Start(StartError::ShuttingDown)) => return Started::Later,
                Err(Refused::Start(e)) => e.to_string(),
                Err(Refused::Store(e)) => e.to_string(),
            };
            if self.is_shutting_down() {
                return Started::Later;
            }
            if tokio::time::Instant::now() >= deadline {
                return Started::Ended(ChildOutcome::failed(format!(
                    "the child run could not start: {why}"
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(AGAIN_MAX);
        }
    }

    /// A child (or undo) run stored already: running, or how it ended.
    async fn existing(&self, run: &StoredRun) -> Result<Started, Refused> {
        if !run.status.is_final() {
            return Ok(Started::Running);
        }
        let (core, _) = self.replayed(run).await?;
        Ok(Started::Ended(ChildOutcome {
            status: run.status,
            diagnosis: core.diagnosis(),
            wrote: core.wrote().clone(),
        }))
    }

    /// Run `run`'s core rebuilt from its history, and its seed.
    async fn replayed(&self, run: &StoredRun) -> Result<(RunCore, u64), StoreError> {
        let mut core = RunCore::new(&run.workflow, run.input.clone(), 0, run.speed);
        let mut seed = 0;
        replay_history(self.store.as_ref(), &run.id, 0, |record| {
            if let RunEvent::RunStarted { seed: s, .. } = &record.event {
                seed = *s;
            }
            core.apply(&record.event);
        })
        .await?;
        Ok((core, seed))
    }

    /// Why workflow `workflow` may not run below `parent`: it is already running above it
    /// (a cycle of sub-flows), or the chain of parents is as deep as allowed.
    async fn refusal(
        &self,
        parent: &ParentLink,
        workflow: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut chain = vec![parent.workflow_id.clone()];
        let mut above = parent.run.clone();
        while let Some(run) = self.store.get_run(&above).await? {
            let Some(link) = run.parent else { break };
            chain.push(link.workflow_id.clone());
            above = link.run;
            if chain.len() > MAX_SUB_FLOW_DEPTH {
                break;
            }
        }
        chain.reverse();
        Ok(sub_flow_refusal(&chain, workflow))
    }
}

/// Why a child's start did not go through this time.
enum Refused {
    Start(StartError),
    Store(StoreError),
}

impl From<StartError> for Refused {
    fn from(e: StartError) -> Self {
        Refused::Start(e)
    }
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}
