//! The inboxes of the runs this process drives, by run id: how timers, the event bus and
//! requests to change a run reach its driver. Shared by the engine and the bus's consumer
//! (which hands each delivery to its run here, if the run is driven here).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use super::core::Input;
use super::peers::Answer;

/// A change to a run whose caller waits to hear that it is durable.
pub struct ControlRequest {
    pub input: Input,
    pub reply: oneshot::Sender<Answer>,
}

/// One run's inboxes.
#[derive(Clone)]
pub struct RunInbox {
    /// Timers and deliveries.
    pub inputs: mpsc::UnboundedSender<Input>,
    pub controls: mpsc::UnboundedSender<ControlRequest>,
}

#[derive(Default)]
pub struct Inboxes {
    runs: Mutex<HashMap<String, RunInbox>>,
}

impl Inboxes {
    pub fn insert(&self, run_id: &str, inbox: RunInbox) {
        self.lock().insert(run_id.to_string(), inbox);
    }

    pub fn remove(&self, run_id: &str) {
        self.lock().remove(run_id);
    }

    /// Whether the run is driven here.
    pub fn contains(&self, run_id: &str) -> bool {
        self.lock().contains_key(run_id)
    }

    /// Hands a run driven here a delivery from the bus; false when it is not driven here.
    pub fn deliver(&self, run_id: &str, message: u64, edge: usize) -> bool {
        self.lock()
            .get(run_id)
            .is_some_and(|inbox| inbox.inputs.send(Input::Deliver { message, edge }).is_ok())
    }

    /// Hands a run driven here a change; the answer comes once it is durable. `None` when
    /// the run is not driven here.
    pub fn control(&self, run_id: &str, input: Input) -> Option<oneshot::Receiver<Answer>> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .lock()
            .get(run_id)
            .is_some_and(|inbox| inbox.controls.send(ControlRequest { input, reply }).is_ok());
        sent.then_some(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunInbox>> {
        // Single inserts and removes: a panic while holding it leaves the map consistent.
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
