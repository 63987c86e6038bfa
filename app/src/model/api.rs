//! The JSON bodies of the REST API that are not the workflow document itself.

use serde::{Deserialize, Serialize};

use super::run::{MessageCounts, RunStatus, StepView};
use super::workflow::Workflow;
use std::collections::BTreeMap;

/// A workflow as stored: the document plus the server's bookkeeping.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    pub id: String,
    /// Unix time in milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped by every save: what `ETag` says and a `PUT`'s `If-Match` must repeat.
    #[serde(default)]
    pub revision: i64,
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// One line of the workflows list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub nodes: usize,
    pub edges: usize,
    pub updated_at: i64,
}

/// The largest seed: seeds stay exact in JavaScript numbers (2^53 - 1).
pub const MAX_SEED: u64 = (1 << 53) - 1;
/// Simulated time may run at most this much slower than real time.
pub const MIN_SPEED: f64 = 0.01;
/// …and at most this much faster (tests and benchmarks run fast).
pub const MAX_SPEED: f64 = 10_000.0;

/// The largest run input, as JSON: a run holds its input while it is in progress (once,
/// shared by its row, its core, its first record and its summaries), so this bounds what
/// runs in flight hold of their own. Measured (`cargo bench -p server --bench engine`): an
/// input at this limit made of hundreds of tiny fields — the costliest shape in memory —
/// costs a run about 130 KiB; an input of a few fields, well under 1 KiB. So the default
/// 10,000 runs in flight hold at most about 1.3 GB of inputs (README, "Server flags").
pub const MAX_RUN_INPUT_BYTES: usize = 8 * 1024;

/// Why a run's input is refused, if it is: not an object, or larger than
/// [`MAX_RUN_INPUT_BYTES`].
pub fn input_problem(input: &serde_json::Value) -> Option<String> {
    if !input.is_object() {
        return Some("must be a JSON object".to_string());
    }
    let size = serde_json::to_string(input).map_or(usize::MAX, |text| text.len());
    (size > MAX_RUN_INPUT_BYTES)
        .then(|| format!("is {size} bytes as JSON; the limit is {MAX_RUN_INPUT_BYTES} bytes"))
}

/// The body of `POST /api/workflows/{id}/runs` (every field optional).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The run's input (a JSON object); `fail_when` conditions read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// Same workflow + input + seed = same latencies and failures. Random when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Simulated time factor (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// What is broken on purpose from the start (see [`super::faults`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<super::Faults>,
}

/// `POST /api/runs/{id}/messages`: a message for a run — it ends the wait of the step that
/// waits for `name` (or is kept until one does); `data` goes into the run data.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl MessageRequest {
    /// What is wrong with it: the name's length, the data's fields and size.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let chars = self.name.chars().count();
        if self.name.trim().is_empty() || chars > super::validate::MAX_STRING_CHARS {
            problems.push(format!(
                "name must be 1 to {} characters, got {chars}",
                super::validate::MAX_STRING_CHARS
            ));
        }
        if self.data.len() > super::validate::MAX_WRITES {
            problems.push(format!(
                "data has {} fields; the limit is {}",
                self.data.len(),
                super::validate::MAX_WRITES
            ));
        }
        for (field, value) in &self.data {
            if !super::validate::is_field_name(field) {
                problems.push(format!(
                    "data: {field:?} is not a field name (a letter or _, then letters, digits or _, at most {} characters)",
                    super::validate::MAX_FIELD_CHARS
                ));
            } else if serde_json::to_string(value).map_or(0, |s| s.len())
                > super::validate::MAX_WRITTEN_BYTES
            {
                problems.push(format!(
                    "data.{field}: longer than {} bytes as JSON",
                    super::validate::MAX_WRITTEN_BYTES
                ));
            }
        }
        problems
    }
}

/// `POST /api/runs/{id}/faults`: break something while the run goes on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// The faults in effect from now on (replacing the run's current set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<super::Faults>,
    /// Crash the orchestrator now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_orchestrator: Option<CrashRequest>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashRequest {
    pub for_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_lease_ms: Option<u64>,
}

impl FaultRequest {
    /// Every problem, each naming its field and limit, checked against the run's workflow.
    pub fn problems_for(&self, workflow: &super::Workflow) -> Vec<String> {
        let mut problems = Vec::new();
        if self.faults.is_none() && self.crash_orchestrator.is_none() {
            problems.push("give `faults`, `crash_orchestrator`, or both".to_string());
        }
        if let Some(faults) = &self.faults {
            problems.extend(faults.problems_for(workflow));
        }
        if let Some(crash) = &self.crash_orchestrator {
            let as_faults = super::Faults {
                orchestrator: Some(super::faults::OrchestratorCrash {
                    at_ms: 0,
                    for_ms: crash.for_ms,
                    standby_lease_ms: crash.standby_lease_ms,
                }),
                ..Default::default()
            };
            problems.extend(
                as_faults
                    .problems()
                    .into_iter()
                    .map(|p| p.replace("faults.orchestrator.", "crash_orchestrator.")),
            );
        }
        problems
    }
}

impl RunRequest {
    /// Every reason to refuse the request, as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(problem) = self.input.as_ref().and_then(input_problem) {
            problems.push(("input", problem));
        }
        if let Some(seed) = self.seed {
            if seed > MAX_SEED {
                problems.push(("seed", format!("must be at most {MAX_SEED}, got {seed}")));
            }
        }
        if let Some(speed) = self.speed {
            if !(MIN_SPEED..=MAX_SPEED).contains(&speed) {
                problems.push((
                    "speed",
                    format!("must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}"),
                ));
            }
        }
        problems
    }
}

/// A run as `GET /api/runs/{id}` reports it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub id: String,
    pub workflow_id: String,
    pub status: RunStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: super::run::RunInput,
    pub steps: BTreeMap<String, StepView>,
    pub messages: MessageCounts,
    /// Why the run failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// The seq of the newest history record; a WebSocket resumes `after` it.
    pub last_seq: u64,
    /// Steps waiting now (for a message or a time), by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub waiting: BTreeMap<String, super::run::Waiting>,
    /// The server process that drives (or last drove) the run, when several share one
    /// database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What happened, in sentences, each with a stable `code` (see [`super::story`]).
    #[serde(default)]
    pub story: Vec<super::story::StoryLine>,
    /// Where the run's state lives and how much must be read to trace it (the report of
    /// one run; absent from the stream's first message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<super::log::Visibility>,
    /// The run whose sub-flow step started this one, when it is a child run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentLink>,
    /// The child runs of its sub-flow steps, by step id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, super::run::ChildLink>,
}

/// The `code` of every error response: the request is malformed (`bad_request`) or breaks
/// a rule (`invalid`, with the problems), is not allowed (`forbidden`), came for another
/// host (`misdirected`), has a body of the wrong type (`unsupported_media_type`), edits a
/// workflow changed since it was read (`stale_revision`), names nothing (`not_found`),
/// conflicts with the current state (`conflict`), is too large (`too_large`), finds the
/// server at a limit (`unavailable`), or failed on our side (`internal`).
pub const ERROR_CODES: [&str; 11] = [
    "bad_request",
    "invalid",
    "forbidden",
    "misdirected",
    "unsupported_media_type",
    "stale_revision",
    "not_found",
    "conflict",
    "too_large",
    "unavailable",
    "internal",
];

/// Every error response: a sentence, plus the precise problems when there are several.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable and machine-readable, one per kind of refusal ([`ERROR_CODES`]), so a client
    /// can say it in its own words.
    #[serde(default)]
    pub code: String,
    /// In English.
    pub error: String,
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
}

/// One run in a workflow's runs list (`GET /api/workflows/{id}/runs`), and one message of the
/// runs feed (`/api/runs/feed`: a run started, or ended).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub workflow_id: String,
    pub status: RunStatus,
    pub started_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// The messages the run exchanged, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessageCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// What the run was started with.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: super::run::RunInput,
    /// Its outcome in one line, once it ended (see [`super::story::Story::headline`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<super::story::StoryLine>,
    /// The speed it is played at (simulated time ÷ wall time): its duration in simulated
    /// milliseconds is (`ended_at` − `started_at`) × `speed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// The run whose sub-flow step started this one, when it is a child run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentLink>,
    /// The child runs this run's sub-flow steps started (and their undo runs), oldest
    /// first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

/// Where a child run comes from: step `node` of run `run` of workflow `workflow_id`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    pub run: String,
    pub node: String,
    pub workflow_id: String,
}

/// Workflow `workflow_id`'s runs list just fetched, merged with what the runs feed told
/// meanwhile (`known`, which may still hold another workflow's runs): a run the feed saw
/// end stays ended even if the list was read while it ran, and a run the list was read too
/// early to hold stays in. Newest first.
pub fn merge_runs(
    workflow_id: &str,
    listed: Vec<RunSummary>,
    known: &[RunSummary],
) -> Vec<RunSummary> {
    let known: Vec<&RunSummary> = known
        .iter()
        .filter(|k| k.workflow_id == workflow_id)
        .collect();
    let mut merged: Vec<RunSummary> = known
        .iter()
        .filter(|k| !listed.iter().any(|l| l.id == k.id))
        .map(|k| (*k).clone())
        .collect();
    for run in listed {
        match known.iter().find(|k| k.id == run.id) {
            Some(k) if k.ended_at.is_some() && run.ended_at.is_none() => {
                // The feed's word on its end; the list's on its children.
                let mut ended = (*k).clone();
                if ended.children.is_empty() {
                    ended.children = run.children;
                }
                merged.push(ended)
            }
            _ => merged.push(run),
        }
    }
    merged.sort_by_key(|r| std::cmp::Reverse(r.started_at));
    merged
}

/// The most runs a runs list returns (newest first).
pub const MAX_RUNS_LISTED: usize = 200;

/// A message of the runs feed (`/api/runs/feed`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunFeed {
    /// A run started, or ended (its status says which).
    Run(Box<RunSummary>),
    /// This client fell behind and missed some: it should read the runs list again.
    Resync,
}
