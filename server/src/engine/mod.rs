//! The run engine.
//!
//! - [`core`]: the pure transition function of one run (input → state → actions).
//! - [`orchestrator`]: the run's orchestrator, owner of the command edges.
//! - [`bus`]: the in-process event bus, where event edges become subscriptions.
//! - [`hub`]: live broadcast of durable history records to watchers.
//!
//! [`Engine`] drives each run in its own task: it feeds inputs to the core, appends the
//! recorded events to the store *before* broadcasting them or executing anything, and
//! simulates each step's work with a timer.

pub mod bus;
pub mod core;
pub mod hub;
pub mod orchestrator;

use std::sync::Arc;
use std::time::Duration;

use app::model::{RunRecord, RunStatus, Workflow};
use tokio::sync::mpsc;

use self::core::{Action, Input, RunCore};
use self::hub::RunHub;
use crate::clock::Clock;
use crate::store::{Store, StoreError, StoredRun};

/// How long a step's simulated work takes unless configured otherwise.
pub const DEFAULT_STEP_TIME: Duration = Duration::from_millis(300);

pub struct Engine {
    store: Arc<dyn Store>,
    hub: Arc<RunHub>,
    clock: Arc<dyn Clock>,
    step_time: Duration,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, step_time: Duration) -> Self {
        Engine {
            store,
            hub: Arc::new(RunHub::default()),
            clock,
            step_time,
        }
    }

    pub fn hub(&self) -> &Arc<RunHub> {
        &self.hub
    }

    /// Stores a new run of `workflow` and starts driving it; returns the run as stored.
    pub async fn start_run(
        &self,
        workflow_id: &str,
        workflow: Workflow,
        input: serde_json::Value,
    ) -> Result<StoredRun, StoreError> {
        let run = StoredRun {
            id: uuid::Uuid::new_v4().simple().to_string(),
            workflow_id: workflow_id.to_string(),
            workflow,
            input,
            status: RunStatus::Running,
            started_at: self.clock.now_ms(),
            ended_at: None,
        };
        self.store.create_run(&run).await?;
        self.hub.open(&run.id);
        let driver = Driver {
            run_id: run.id.clone(),
            core: RunCore::new(&run.workflow),
            store: self.store.clone(),
            hub: self.hub.clone(),
            clock: self.clock.clone(),
            step_time: self.step_time,
            seq: 0,
        };
        tokio::spawn(driver.drive(run.input.clone()));
        Ok(run)
    }
}

struct Driver {
    run_id: String,
    core: RunCore,
    store: Arc<dyn Store>,
    hub: Arc<RunHub>,
    clock: Arc<dyn Clock>,
    step_time: Duration,
    seq: u64,
}

impl Driver {
    async fn drive(mut self, input: serde_json::Value) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut next = Some(Input::Start { input });
        while let Some(input) = next.take() {
            let actions = self.core.handle(input);
            if let Err(e) = self.perform(actions, &tx).await {
                // Without a durable history the run cannot go on truthfully: halt it rather
                // than show watchers states that the store does not have.
                tracing::error!(run = %self.run_id, error = %e, "history write failed; run halted");
                break;
            }
            if self.core.is_finished() {
                break;
            }
            next = rx.recv().await;
        }
        self.hub.close(&self.run_id);
    }

    /// Records first (one transaction per input), then broadcasts, then executes.
    async fn perform(
        &mut self,
        actions: Vec<Action>,
        tx: &mpsc::UnboundedSender<Input>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let mut records = Vec::new();
        let mut work = Vec::new();
        for action in actions {
            match action {
                Action::Record(event) => {
                    self.seq += 1;
                    records.push(RunRecord::new(self.seq, now, event));
                }
                Action::Execute { node } => work.push(node),
            }
        }
        self.store.append_history(&self.run_id, &records).await?;
        for record in records {
            self.hub.publish(&self.run_id, record);
        }
        for node in work {
            let tx = tx.clone();
            let step_time = self.step_time;
            tokio::spawn(async move {
                tokio::time::sleep(step_time).await;
                let _ = tx.send(Input::StepFinished { node });
            });
        }
        Ok(())
    }
}
