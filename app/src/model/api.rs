//! The JSON bodies of the REST API that are not the workflow document itself.

use serde::{Deserialize, Serialize};

use super::run::{RunStatus, StepView};
use super::workflow::Workflow;
use std::collections::BTreeMap;

/// A workflow as stored: the document plus the server's bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    pub id: String,
    /// Unix time in milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// One line of the workflows list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub nodes: usize,
    pub edges: usize,
    pub updated_at: i64,
}

/// The body of `POST /api/workflows/{id}/runs` (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    pub input: Option<serde_json::Value>,
}

/// A run as `GET /api/runs/{id}` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub id: String,
    pub workflow_id: String,
    pub status: RunStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub input: serde_json::Value,
    pub steps: BTreeMap<String, StepView>,
    /// The seq of the newest history record; a WebSocket resumes `after` it.
    pub last_seq: u64,
}

/// Every error response: a sentence, plus the precise problems when there are several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
}
