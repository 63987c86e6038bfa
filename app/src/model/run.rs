//! What happens in a run: the history records the engine appends and the live stream sends,
//! and the fold of those records into the run's current view (used by the API and the UI).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a step is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Succeeded => "succeeded",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            StepState::Succeeded | StepState::Failed | StepState::Skipped
        )
    }
}

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Running,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Completed, RunStatus::Failed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != RunStatus::Running
    }
}

/// Why a step started: the causality the live view draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum Cause {
    /// The step has no incoming edge: the run's start triggered it.
    Start,
    /// The orchestrator sent it a command along `edge`, after `from` finished.
    Command { edge: String, from: String },
    /// It received event `name`, published by `from`, through its subscription `edge`.
    Event {
        edge: String,
        from: String,
        name: String,
    },
}

/// One fact in a run's history. Every state change is one of these, appended to the
/// history before anything acts on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RunEvent {
    RunStarted {
        input: serde_json::Value,
    },
    /// The orchestrator sent `to` a command along `edge`.
    CommandSent {
        edge: String,
        from: String,
        to: String,
    },
    /// `from` published `name` on the event bus; `subscribers` are the steps that will hear it.
    EventPublished {
        from: String,
        name: String,
        subscribers: Vec<String>,
    },
    /// The bus delivered `name` to subscriber `to` through `edge`.
    EventDelivered {
        edge: String,
        name: String,
        to: String,
    },
    StepStarted {
        node: String,
        attempt: u32,
        cause: Cause,
    },
    StepSucceeded {
        node: String,
    },
    /// The run ended before this step was ever triggered.
    StepSkipped {
        node: String,
    },
    RunCompleted {
        status: RunStatus,
    },
}

impl RunEvent {
    /// The step whose state this event changes, and the new state.
    pub fn step_change(&self) -> Option<(&str, StepState)> {
        match self {
            RunEvent::StepStarted { node, .. } => Some((node, StepState::Running)),
            RunEvent::StepSucceeded { node } => Some((node, StepState::Succeeded)),
            RunEvent::StepSkipped { node } => Some((node, StepState::Skipped)),
            _ => None,
        }
    }
}

/// A history row as stored and streamed: the event with its place and time.
///
/// On the wire a step-state change also carries `node` and `state` at the top level, so a
/// client that only wants states needs no knowledge of event types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Strictly increasing within a run, starting at 1, without gaps.
    pub seq: u64,
    /// Unix time in milliseconds.
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StepState>,
    #[serde(flatten)]
    pub event: RunEvent,
}

impl RunRecord {
    pub fn new(seq: u64, at_ms: i64, event: RunEvent) -> Self {
        let state = event.step_change().map(|(_, s)| s);
        RunRecord {
            seq,
            at_ms,
            state,
            event,
        }
    }
}

/// A step as the run sees it now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub state: StepState,
    pub attempts: u32,
}

/// The current picture of a run, folded from its history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub status: RunStatus,
    pub steps: BTreeMap<String, StepView>,
    /// The last record folded in; a live client resumes after it.
    pub last_seq: u64,
}

impl RunView {
    /// A view with every node of the workflow pending.
    pub fn new<'a>(node_ids: impl IntoIterator<Item = &'a str>) -> Self {
        RunView {
            status: RunStatus::Running,
            steps: node_ids
                .into_iter()
                .map(|id| (id.to_string(), StepView::default()))
                .collect(),
            last_seq: 0,
        }
    }

    /// Folds one record in. Records at or before `last_seq` are ignored, so replaying an
    /// overlapping stretch of history is harmless.
    pub fn apply(&mut self, record: &RunRecord) {
        if record.seq <= self.last_seq {
            return;
        }
        self.last_seq = record.seq;
        match &record.event {
            RunEvent::StepStarted { node, attempt, .. } => {
                let step = self.steps.entry(node.clone()).or_default();
                step.state = StepState::Running;
                step.attempts = (*attempt).max(step.attempts);
            }
            RunEvent::RunCompleted { status } => self.status = *status,
            other => {
                if let Some((node, state)) = other.step_change() {
                    self.steps.entry(node.to_string()).or_default().state = state;
                }
            }
        }
    }
}
