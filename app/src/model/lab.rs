//! The trade-off lab's bodies: a compare request, a batch's progress, and its results per
//! coordination style (outcomes, latency, messages, orchestrator load, blast radius,
//! coupling), the fail-at-every-step matrix and the generated reading.

use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::lint::Warning;
use super::run::MessageCounts;

/// Runs per style a compare may ask for.
pub const MAX_LAB_RUNS: u32 = 5_000;
/// Runs per style when the request gives none.
pub const DEFAULT_LAB_RUNS: u32 = 50;
/// Runs per style a compare may ask for when the flow calls real services: each is a real
/// run whose bound steps call them.
pub const MAX_REAL_LAB_RUNS: u32 = 200;
/// Batches kept and listed per workflow.
pub const MAX_BATCHES_LISTED: usize = 100;

/// The three ways the lab runs one flow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabStyle {
    /// The workflow as the user drew it (often hybrid).
    AsDrawn,
    Orchestration,
    Choreography,
}

impl LabStyle {
    pub const ALL: [LabStyle; 3] = [
        LabStyle::AsDrawn,
        LabStyle::Orchestration,
        LabStyle::Choreography,
    ];

    pub fn label(self) -> &'static str {
        match self {
            LabStyle::AsDrawn => "as drawn",
            LabStyle::Orchestration => "orchestration",
            LabStyle::Choreography => "choreography",
        }
    }

    /// The style in `locale`'s words (`label` is the API's English name).
    pub fn words(self, locale: crate::i18n::Locale) -> &'static str {
        match self {
            LabStyle::AsDrawn => td_string!(locale, style.as_drawn),
            LabStyle::Orchestration => td_string!(locale, style.orchestration),
            LabStyle::Choreography => td_string!(locale, style.choreography),
        }
    }
}

/// `POST /api/lab/batches`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    pub workflow_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// Runs per style (1..=[`MAX_LAB_RUNS`], default [`DEFAULT_LAB_RUNS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// Run `i` of every style uses seed `seed + i`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Faults::is_none")]
    pub faults: Faults,
    /// Simulated ms the orchestrator spends on each message it handles, the hop cost
    /// (0..=[`MAX_ORCHESTRATOR_MESSAGE_MS`], default 0: not modelled).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub message_ms: u64,
    /// Verify instead of sampling: every schedule of failures within these bounds, for
    /// each style, checked against the invariants (`runs` and `faults` do not apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<super::verify::VerifyBounds>,
}

fn is_zero(ms: &u64) -> bool {
    *ms == 0
}

/// `POST /api/lab/convert`: a converted copy of a saved workflow is saved beside it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    pub workflow_id: String,
    pub to: super::convert::Style,
    /// Choreographed, who applies each decision's rule: the publisher (the default) or
    /// every subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<super::workflow::Decider>,
    /// The copy's name (the page names it in its language); by default the original's
    /// with " (as <style>)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The saved copy (its id) and the conversion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvertResponse {
    pub id: String,
    #[serde(flatten)]
    pub conversion: super::convert::Conversion,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    Running,
    Done,
    Cancelled,
}

/// How far one style of a batch is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleProgress {
    pub style: LabStyle,
    pub done: u32,
    pub total: u32,
}

/// A compare batch as the API returns it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub created_at: i64,
    pub state: BatchState,
    pub runs: u32,
    pub seed: u64,
    pub input: serde_json::Value,
    #[serde(default, skip_serializing_if = "Faults::is_none")]
    pub faults: Faults,
    /// Simulated ms the orchestrator spent on each message (0: the hop cost not modelled).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub message_ms: u64,
    pub progress: Vec<StyleProgress>,
    /// A verification (every schedule within these bounds), not a sample of runs: its
    /// progress counts schedules (of no known total), its result is `verifications`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<super::verify::VerifyBounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CompareResult>,
    /// The server process computing it (or that did), when several share one database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// The batches list: no results, only what identifies them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub created_at: i64,
    pub state: BatchState,
    pub runs: u32,
    pub seed: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompareResult {
    pub styles: Vec<StyleFigures>,
    pub matrix: FailMatrix,
    /// Sentences naming the trade-offs the numbers show.
    pub reading: Vec<String>,
    /// A verification's searches, one per style (the rest is empty then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifications: Vec<super::verify::StyleVerification>,
    /// The flow calls real services: the styles' figures come from real runs (their
    /// latencies measured, not simulated); the fail-at-every-step matrix stays simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real: Option<RealRuns>,
}

/// The real services a compare batch's runs called.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RealRuns {
    /// Each step bound to a real service, in the flow's order.
    pub services: Vec<RealService>,
}

impl RealRuns {
    /// The steps of `workflow` bound to a real service; `None` when there is none.
    pub fn of(workflow: &super::Workflow) -> Option<RealRuns> {
        let services: Vec<RealService> = workflow
            .nodes
            .iter()
            .filter_map(|n| {
                Some(RealService {
                    node: n.id.clone(),
                    label: n.label.clone(),
                    endpoint: n.call.as_ref()?.endpoint()?,
                })
            })
            .collect();
        (!services.is_empty()).then_some(RealRuns { services })
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RealService {
    pub node: String,
    pub label: String,
    /// Its URL, or `nats:<subject>`.
    pub endpoint: String,
}

/// How a run ended, as the lab counts it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabOutcome {
    /// Completed without any step failing.
    Succeeded,
    /// A step failed and a failure route (command or event) dealt with it.
    Handled,
    /// A saga undid the completed steps.
    Compensated,
    /// A failure nobody handled, with nothing left done that needed undoing.
    Unhandled,
    /// A failure nobody handled while steps with an undo action stayed done: some steps
    /// done and never undone.
    Inconsistent,
    /// The bus lost an event and the run could not go on.
    Stalled,
    Cancelled,
}

impl LabOutcome {
    pub const ALL: [LabOutcome; 7] = [
        LabOutcome::Succeeded,
        LabOutcome::Handled,
        LabOutcome::Compensated,
        LabOutcome::Unhandled,
        LabOutcome::Inconsistent,
        LabOutcome::Stalled,
        LabOutcome::Cancelled,
    ];

    /// The outcome in `l`'s words, with its mark (the fail matrix's, a story's end).
    pub fn words(self, l: crate::i18n::Locale) -> &'static str {
        match self {
            LabOutcome::Succeeded => td_string!(l, report.outcome.succeeded),
            LabOutcome::Handled => td_string!(l, report.outcome.handled),
            LabOutcome::Compensated => td_string!(l, report.outcome.compensated),
            LabOutcome::Unhandled => td_string!(l, report.outcome.unhandled),
            LabOutcome::Inconsistent => td_string!(l, report.outcome.inconsistent),
            LabOutcome::Stalled => td_string!(l, report.outcome.stalled),
            LabOutcome::Cancelled => td_string!(l, report.outcome.cancelled),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LabOutcome::Succeeded => "succeeded",
            LabOutcome::Handled => "handled",
            LabOutcome::Compensated => "compensated",
            LabOutcome::Unhandled => "unhandled",
            LabOutcome::Inconsistent => "inconsistent",
            LabOutcome::Stalled => "stalled",
            LabOutcome::Cancelled => "cancelled",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub succeeded: u32,
    pub handled: u32,
    pub compensated: u32,
    pub unhandled: u32,
    pub inconsistent: u32,
    pub stalled: u32,
    pub cancelled: u32,
}

impl OutcomeCounts {
    pub fn add(&mut self, outcome: LabOutcome) {
        *self.get_mut(outcome) += 1;
    }

    pub fn get(&self, outcome: LabOutcome) -> u32 {
        match outcome {
            LabOutcome::Succeeded => self.succeeded,
            LabOutcome::Handled => self.handled,
            LabOutcome::Compensated => self.compensated,
            LabOutcome::Unhandled => self.unhandled,
            LabOutcome::Inconsistent => self.inconsistent,
            LabOutcome::Stalled => self.stalled,
            LabOutcome::Cancelled => self.cancelled,
        }
    }

    fn get_mut(&mut self, outcome: LabOutcome) -> &mut u32 {
        match outcome {
            LabOutcome::Succeeded => &mut self.succeeded,
            LabOutcome::Handled => &mut self.handled,
            LabOutcome::Compensated => &mut self.compensated,
            LabOutcome::Unhandled => &mut self.unhandled,
            LabOutcome::Inconsistent => &mut self.inconsistent,
            LabOutcome::Stalled => &mut self.stalled,
            LabOutcome::Cancelled => &mut self.cancelled,
        }
    }
}

/// End-to-end latency percentiles over a style's runs, in simulated milliseconds (real
/// ones when the runs were real).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyFigures {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl LatencyFigures {
    pub fn is_zero(&self) -> bool {
        *self == LatencyFigures::default()
    }
}

/// Visibility over a style's runs: "where is order X now, and why?"
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VisibilityFigures {
    /// Places holding part of a run's state (the orchestrator's record; each service that
    /// ran a step started by an event), mean over the runs.
    pub state_places: f64,
    /// Logs to read to trace a run (those places, and the broker's), mean over the runs.
    pub logs_to_read: f64,
    /// The longest causal chain of any run, in steps.
    pub longest_chain: u32,
}

/// Who must know whom: the price of each style in dependencies.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coupling {
    /// Services the orchestrator must know (it commands them or acts on their replies).
    pub orchestrator_knows: u32,
    /// Distinct event names: the contracts publishers and subscribers share.
    pub event_contracts: u32,
    /// Decisions on the run data (steps with conditional edges, per outcome).
    #[serde(default)]
    pub rules: u32,
    /// Over the decisions, how many parties must know each rule (the orchestrator, the
    /// publishing service, or every filtering subscriber): who changes when a rule does.
    #[serde(default)]
    pub rule_holders: u32,
    /// Watchdogs: steps that wait, with a timeout, for an event another step publishes —
    /// what notices, in choreography, an event that is late or never comes.
    #[serde(default)]
    pub watchdogs: u32,
    /// Per service: what it must know (other services, event contracts, the orchestrator).
    pub services: Vec<ServiceCoupling>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceCoupling {
    pub service: String,
    /// "orchestrator" and/or the event names it publishes or subscribes to.
    pub knows: Vec<String>,
}

/// A style's figures over the batch.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleFigures {
    pub style: LabStyle,
    pub runs: u32,
    pub outcomes: OutcomeCounts,
    pub latency_ms: LatencyFigures,
    /// Summed over the runs.
    pub messages: MessageCounts,
    /// Commands and replies: what went through the one orchestrator.
    pub orchestrator_messages: u64,
    /// `orchestrator_messages` as a share of all messages (0..1).
    pub orchestrator_share: f64,
    pub steps_executed: u64,
    pub retries: u64,
    pub compensations: u64,
    /// Over runs where a step failed: steps whose outcome the failure changed (compared
    /// with the same seed run without failures), mean and worst.
    pub blast_radius_mean: f64,
    pub blast_radius_max: u32,
    /// Runs where a step failed (the blast radius is over these).
    pub runs_with_failure: u32,
    pub coupling: Coupling,
    /// Where a run's state lives and how much must be read to trace one (absent from
    /// batches stored before it was measured).
    #[serde(default)]
    pub visibility: VisibilityFigures,
    /// What the conversion to this style lost (empty for "as drawn").
    pub lost: Vec<Warning>,
    /// A diagnosis of an unhandled, inconsistent or stalled run, for the reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_diagnosis: Option<String>,
    /// Calls made to real services, summed over the runs (0 when none is bound).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub service_calls: u64,
    /// How long those calls took, answered or not.
    #[serde(default, skip_serializing_if = "LatencyFigures::is_zero")]
    pub call_ms: LatencyFigures,
}

/// For each step, one run per style with that step failing on every attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailMatrix {
    pub rows: Vec<FailRow>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailRow {
    pub node: String,
    pub label: String,
    /// In [`LabStyle::ALL`] order.
    pub cells: Vec<FailCell>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailCell {
    pub style: LabStyle,
    /// Whether the failing step ran at all in this style (a failure route's step only
    /// runs when something before it fails).
    pub reached: bool,
    pub outcome: LabOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// Steps whose outcome the failure changed.
    pub blast_radius: u32,
}

/// Runs started per second a load test may ask for (per style).
pub const MAX_LOAD_RATE: u32 = 5_000;
/// How long a load test starts runs, per style.
pub const MAX_LOAD_SECONDS: u32 = 30;
/// The largest orchestrator capacity (messages handled at once) a load test may set.
pub const MAX_ORCHESTRATOR_CAPACITY: u32 = 100_000;
/// The longest an orchestrator may take per message in a load test (simulated ms).
pub const MAX_ORCHESTRATOR_MESSAGE_MS: u64 = 1_000;

/// The load form's orchestrator: messages handled at once…
pub const DEFAULT_ORCHESTRATOR_CAPACITY: u32 = 4;
/// …and simulated ms spent on each.
pub const DEFAULT_ORCHESTRATOR_MESSAGE_MS: u64 = 10;
/// The default rate is this many times what that orchestrator can take for the flow.
pub const DEFAULT_LOAD_OVERSHOOT: f64 = 1.5;

/// Load-test defaults chosen from the flow's own shape, so that the first load test shows
/// the bottleneck: an orchestrator that handles [`DEFAULT_ORCHESTRATOR_CAPACITY`] messages
/// at once at [`DEFAULT_ORCHESTRATOR_MESSAGE_MS`] each, and a rate
/// [`DEFAULT_LOAD_OVERSHOOT`]× the runs per second it can take — the services, reacting in
/// parallel, keep up with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadDefaults {
    pub rate: u32,
    pub capacity: u32,
    pub message_ms: u64,
    /// Steps a run commands when nothing fails (each costs the orchestrator a message).
    pub steps_per_run: u32,
    /// Runs per second the orchestrator can take at most.
    pub orchestrator_takes: f64,
}

pub fn load_defaults(workflow: &super::Workflow) -> LoadDefaults {
    use std::collections::BTreeSet;
    // The steps a run reaches when nothing fails: from the starts, along success edges.
    let mut reached: BTreeSet<&str> = workflow
        .nodes
        .iter()
        .filter(|n| !workflow.edges.iter().any(|e| e.to == n.id))
        .map(|n| n.id.as_str())
        .collect();
    loop {
        let more: Vec<&str> = workflow
            .edges
            .iter()
            .filter(|e| e.on == super::Outcome::Success && reached.contains(e.from.as_str()))
            .map(|e| e.to.as_str())
            .filter(|to| !reached.contains(to))
            .collect();
        if more.is_empty() {
            break;
        }
        reached.extend(more);
    }
    let steps_per_run = (reached.len() as u32).max(1);
    let messages_per_second =
        f64::from(DEFAULT_ORCHESTRATOR_CAPACITY) * 1000.0 / DEFAULT_ORCHESTRATOR_MESSAGE_MS as f64;
    let orchestrator_takes = messages_per_second / f64::from(steps_per_run);
    LoadDefaults {
        rate: ((orchestrator_takes * DEFAULT_LOAD_OVERSHOOT).ceil() as u32).clamp(1, MAX_LOAD_RATE),
        capacity: DEFAULT_ORCHESTRATOR_CAPACITY,
        message_ms: DEFAULT_ORCHESTRATOR_MESSAGE_MS,
        steps_per_run,
        orchestrator_takes,
    }
}

/// `POST /api/lab/loads`: start `rate` runs per second for `seconds`, for each style in
/// turn, with one orchestrator of limited capacity shared by all of a style's runs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    pub workflow_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// Runs started per second (1..=[`MAX_LOAD_RATE`]).
    pub rate: u32,
    /// Seconds of starting runs, per style (1..=[`MAX_LOAD_SECONDS`]).
    pub seconds: u32,
    /// Messages the shared orchestrator handles at once (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Simulated ms the orchestrator spends on each message (default 0).
    #[serde(default)]
    pub message_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Simulated time factor of the runs (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
}

/// One second of a style's load test.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadSecond {
    pub second: u32,
    pub started: u32,
    pub completed: u32,
    /// Latency of the runs that completed in this second.
    pub p50_ms: u64,
    pub p95_ms: u64,
    /// Messages waiting for the orchestrator at the end of the second.
    pub waiting: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadStyle {
    pub style: LabStyle,
    pub started: u32,
    pub completed: u32,
    /// Runs completed per second, from the first run's end to the last one's (a style that
    /// keeps up ends runs as fast as they start, whatever their latency).
    pub throughput: f64,
    pub latency_ms: LatencyFigures,
    pub peak_waiting: u32,
    pub seconds: Vec<LoadSecond>,
}

/// A load test as listed: what was asked, without the figures.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub created_at: i64,
    pub state: BatchState,
    pub request: LoadRequest,
}

/// A load test as the API returns it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadTest {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub created_at: i64,
    pub state: BatchState,
    pub request: LoadRequest,
    /// Styles done or in progress, in [`LabStyle::ALL`] order.
    pub styles: Vec<LoadStyle>,
    /// Sentences naming what the curves show.
    #[serde(default)]
    pub reading: Vec<String>,
    /// The server process running it (or that did), when several share one database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}
