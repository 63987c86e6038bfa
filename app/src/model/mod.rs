//! The workflow model shared by the browser and the server.
//!
//! - [`workflow`]: the document a user draws (nodes, command/event edges) — the native format.
//! - [`edit`]: the typed changes the editor applies to a workflow.
//! - [`validate`]: parsing a document and listing every problem, with the model's limits.
//! - [`data`]: what a step writes into the run data, in the inspector's text form.
//! - [`run`]: a run's history records, step states and the fold into a current view.
//! - [`log`]: what a history means to a reader: log lines, figures, causal chains, replay.
//! - [`story`]: a run's outcome in words (failures and their handling, sagas, outages,
//!   lost events, the end), with a stable code per sentence.
//! - [`timeline`]: a history laid out as lanes, bars, message arrows and fault marks.
//! - [`api`]: the REST API's other bodies (stored records, run reports, errors).
//! - [`call`]: the contract with a real service a step is bound to: the request it gets
//!   (command or event alike), what its reply means.
//! - [`formats`]: import (native, article JSON, Conductor subset, text, Mermaid, BPMN) and
//!   export (JSON, Mermaid, text, BPMN, AsyncAPI), one entry point for every format.
//! - [`mermaid`], [`bpmn`], [`asyncapi`]: the interchange formats, each both ways where
//!   it can be read back.
//! - [`faults`]: what a user breaks on purpose (services, bus, orchestrator) and its limits.
//! - [`convert`]: converting a workflow to all orchestration or all choreography, and what
//!   the conversion loses.
//! - [`lab`]: the trade-off lab's requests and results (styles compared, fail matrix).
//! - [`reading`]: the lab's findings in words (a batch's headline first, a load test's).
//! - [`verify`]: the explorer's results (invariants, counterexamples, coverage) and their
//!   words, the headline first.
//! - [`scenario`]: scenarios as tests — named runs with their expected outcome and step
//!   states, `never` orderings and `always` facts — and how a finished run differs.
//! - [`lint`]: design warnings (unheard failures, missing compensation, event cycles…).
//! - [`layout`]: automatic layered layout, left to right.
//! - [`examples`]: the shipped templates (the article's scenarios), stored read-only.
//! - [`lessons`]: the Learn page's experiments, one per claim, and the figures they prove.
//! - [`korean`]: Korean particles chosen by the name before them (은/는, 이/가, 을/를, (으)로).
//! - `condition` (the `conditions` feature: the server): conditions on a run's data in CEL,
//!   bounded while read and while evaluated.
//! - `asl` (the `conditions` feature: the server): AWS Step Functions state machines
//!   (Amazon States Language), read and written.

pub mod api;
#[cfg(feature = "conditions")]
pub mod asl;
pub mod asyncapi;
pub mod bpmn;
pub mod call;
#[cfg(feature = "conditions")]
pub mod condition;
pub mod convert;
pub mod data;
pub mod edit;
pub mod examples;
pub mod faults;
pub mod formats;
pub mod korean;
pub mod lab;
pub mod layout;
pub mod lessons;
pub mod lint;
pub mod log;
pub mod mermaid;
pub mod reading;
pub mod run;
pub mod scenario;
pub mod story;
pub mod timeline;
pub mod validate;
pub mod verify;
pub mod workflow;

pub use convert::{convert, Conversion, Style};
pub use edit::GraphChange;
pub use faults::Faults;
pub use run::{
    Cause, FailureReason, LoopTurn, MessageCounts, MessageSource, Owner, RunEvent, RunInput,
    RunRecord, RunStatus, RunView, StepState, StepView, Takeover,
};
pub use validate::{parse_workflow, validate, DocumentError, Problem};
pub use workflow::{
    Chance, Decide, Edge, EdgeKind, FailWhen, Join, Latency, Node, Outcome, Position, RetryPolicy,
    Wait, Workflow, Written,
};
