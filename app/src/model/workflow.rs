//! The workflow document: steps (nodes) joined by command or event edges.
//!
//! These types *are* the native file format: the field names on the wire are the field
//! names here, unknown fields are refused, and optional fields are left out when they hold
//! their default so a document round-trips unchanged. Later issues add behaviour fields to
//! [`Node`] and [`Edge`] as `#[serde(default)]` fields, which keeps older documents valid.

use serde::{Deserialize, Serialize};

/// A workflow as the user drew it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub name: String,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// The shipped template this workflow was made from (its key in
    /// [`super::examples::ALL`]): the editor shows that template's lesson and scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Named runs kept with the flow and what each must show: its tests (at most 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<super::scenario::Scenario>,
    /// What every run of the flow must keep: `never` orderings, `always` facts.
    #[serde(default, skip_serializing_if = "super::scenario::Assertions::is_empty")]
    pub assertions: super::scenario::Assertions,
}

/// One step of the workflow: a service performing an action.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub service: String,
    pub action: String,
    #[serde(default)]
    pub position: Position,

    // Behaviour: every field optional, absent means the default (see the accessors below).
    /// Simulated work time: a number of milliseconds or `[min, max]` (uniform). Default `[50, 150]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Latency>,
    /// Probability (0..1) that an attempt fails. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Fail every attempt when the run input has this value (reproducible failure scenarios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_when: Option<FailWhen>,
    /// An attempt that takes longer fails with a timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Retries with exponential backoff. Default: one attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// The undo action a saga runs for this step (e.g. `refund`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<String>,
    /// When a step with several incoming edges starts. Default `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<Join>,
    /// Whether a duplicated delivery is recognised (default true). When false, a duplicate
    /// executes the step again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// What the step writes into the run data when it succeeds, by field: a fixed value, or
    /// a choice among values drawn from the run's seed. Nothing by default.
    // In the JSON Schema a field's value is any JSON: `Written`'s two forms overlap, and an
    // untagged enum would be described as a `oneOf` that a choice matches twice.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, serde_json::Value>))]
    pub writes: std::collections::BTreeMap<String, Written>,
    /// How the conditions on its outgoing edges combine. Default `exclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decide: Option<Decide>,
    /// The run data fields the step needs to do its work (e.g. `address`). In orchestration
    /// the orchestrator sends them with its command; in choreography a subscriber has only
    /// the payload of the event that reached it, and asks the service that owns each
    /// missing field: a query, counted and timed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// The step waits instead of working: for a message from outside the run (with a
    /// timeout, whose expiry is the step's failure and follows its failure route), or a
    /// fixed time (a timer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    /// A for-each: the step's work runs once for each item of this run data field (a
    /// list), all at once, and the step succeeds when every item has — one failed item
    /// fails the attempt. Step Functions' Map, BPMN's parallel multi-instance, Conductor's
    /// dynamic fork. At most [`crate::model::validate::MAX_FOR_EACH_ITEMS`] items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<String>,
    /// A sub-flow: the step runs the stored workflow with this id as a child run — with the
    /// run data as its input — and waits for it: it succeeds when the child completes (what
    /// the child wrote joins the run data) and fails when the child does not. A saga
    /// compensates a completed child as a unit: an undo run of the child's workflow undoes
    /// its completed steps, newest first. BPMN's call activity, Conductor's `SUB_WORKFLOW`,
    /// Temporal's child workflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_flow: Option<String>,
    /// A real service does the step's work: each attempt is a call to it (an HTTP POST or
    /// a NATS request of [`super::call::CallRequest`]), its reply the outcome — instead of
    /// the simulated latency and failures, which the lab's virtual time still uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<super::call::ServiceCall>,
}

/// What a waiting step waits for: a `message` (e.g. `PaymentConfirmed`, sent to the run from
/// the editor or the API, published on the bus by another step, or — simulated — arriving
/// by itself after `arrives_ms` unless it `never` comes), or a time (`for_ms`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A timer: the step succeeds after this long (simulated ms, scaled by the run's speed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
    /// How long the step waits for its message before it fails with a timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Simulated: the message arrives by itself this long after the wait starts…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrives_ms: Option<Latency>,
    /// …unless it never comes, with this probability (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub never: Option<f64>,
}

/// A value a step writes into the run data: `{"choose": [{"value": true, "p": 0.8},
/// {"value": false, "p": 0.2}]}` draws one of the values (their chances add up to 1) from
/// the run's seed; anything else is the value itself, written as it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Written {
    Choice { choose: Vec<Chance> },
    Value(serde_json::Value),
}

/// One value of a [`Written::Choice`] and its chance (0..1).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chance {
    pub value: serde_json::Value,
    pub p: f64,
}

impl Written {
    /// The value written, given a draw uniform in `0..1`: the fixed value, or the first
    /// choice whose running total of chances passes the draw (the last one on rounding).
    pub fn pick(&self, draw: f64) -> &serde_json::Value {
        match self {
            Written::Value(v) => v,
            Written::Choice { choose } => {
                let mut total = 0.0;
                for chance in choose {
                    total += chance.p;
                    if draw < total {
                        return &chance.value;
                    }
                }
                choose.last().map_or(&serde_json::Value::Null, |c| &c.value)
            }
        }
    }
}

/// The default simulated work time, when a node gives none.
pub const DEFAULT_LATENCY: Latency = Latency::Range([50, 150]);

/// `value`'s fields that `carried` names, as a JSON object (a step's or an edge's details).
fn fields_of<T: Serialize>(
    value: &T,
    carried: impl Fn(&str) -> bool,
) -> serde_json::Map<String, serde_json::Value> {
    let Ok(serde_json::Value::Object(mut all)) = serde_json::to_value(value) else {
        return serde_json::Map::new();
    };
    all.retain(|k, _| carried(k));
    all
}

/// `value` with the fields of `details` that `carried` names read back over its own.
fn with_fields<T: Serialize + serde::de::DeserializeOwned>(
    value: &T,
    details: serde_json::Map<String, serde_json::Value>,
    carried: impl Fn(&str) -> bool,
) -> Result<T, serde_json::Error> {
    let mut all = match serde_json::to_value(value)? {
        serde_json::Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    all.extend(details.into_iter().filter(|(k, _)| carried(k)));
    serde_json::from_value(serde_json::Value::Object(all))
}

/// The fields that say which step it is; [`Node::details`] is everything else.
const IDENTITY: [&str; 4] = ["id", "label", "service", "action"];

impl Node {
    /// Everything but the step's identity (its position always, its behaviour when set),
    /// as a JSON object: what formats without a place for them carry alongside
    /// (Mermaid's `%% details` comments, BPMN's `hybridflow:details`).
    pub fn details(&self) -> serde_json::Map<String, serde_json::Value> {
        fields_of(self, |k| !IDENTITY.contains(&k))
    }

    /// This step with `details` read back over its fields (its identity stays as it is).
    pub fn with_details(
        self,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Node, serde_json::Error> {
        with_fields(&self, details, |k| !IDENTITY.contains(&k))
    }

    pub fn latency(&self) -> Latency {
        self.latency_ms.unwrap_or(DEFAULT_LATENCY)
    }

    pub fn max_attempts(&self) -> u32 {
        self.retry.as_ref().map_or(1, |r| r.max_attempts.max(1))
    }

    pub fn join_mode(&self) -> Join {
        self.join.unwrap_or_default()
    }

    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(true)
    }
}

/// Simulated work time in milliseconds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Latency {
    Fixed(u64),
    /// Uniform between the two bounds, inclusive.
    Range([u64; 2]),
}

impl Latency {
    pub fn bounds(self) -> (u64, u64) {
        match self {
            Latency::Fixed(ms) => (ms, ms),
            Latency::Range([a, b]) => (a, b),
        }
    }
}

/// `{"field": "card", "equals": "expired"}`: the attempt fails when the run input's `field`
/// (a dotted path such as `customer.card`) equals the value.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailWhen {
    pub field: String,
    pub equals: serde_json::Value,
}

impl FailWhen {
    pub fn matches(&self, input: &serde_json::Value) -> bool {
        let mut value = input;
        for part in self.field.split('.') {
            match value.get(part) {
                Some(v) => value = v,
                None => return false,
            }
        }
        *value == self.equals
    }
}

/// Exponential backoff: attempt `n + 1` starts `backoff_ms * multiplier^(n-1)` after
/// attempt `n` failed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    #[serde(default)]
    pub backoff_ms: u64,
    #[serde(default = "RetryPolicy::default_multiplier")]
    pub multiplier: f64,
}

impl RetryPolicy {
    fn default_multiplier() -> f64 {
        2.0
    }

    /// The wait before attempt `next` (2, 3, …).
    pub fn delay_before(&self, next: u32) -> u64 {
        let exponent = next.saturating_sub(2) as i32;
        (self.backoff_ms as f64 * self.multiplier.powi(exponent)).round() as u64
    }
}

/// `any`: start on the first arriving trigger. `all`: wait for every incoming edge that can
/// still arrive (fork/join).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Join {
    #[default]
    Any,
    All,
}

/// How a step's conditional edges combine. `exclusive`: the first whose condition holds
/// (in the document's order), else the default edge. `inclusive`: every one whose condition
/// holds, and the default edges too (a `join: all` after them waits for the branches taken).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decide {
    #[default]
    Exclusive,
    Inclusive,
}

/// Where a node sits on the canvas, in canvas units (its top-left corner).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// A connection from one step to the next, and how the next one learns of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Optional on input: [`Workflow::assign_edge_ids`] fills in the missing ones.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// Which outcome of `from` follows this edge.
    #[serde(default, skip_serializing_if = "Outcome::is_success")]
    pub on: Outcome,
    /// The event's name for an event edge; when absent it is derived from the source's
    /// label and outcome (see [`Workflow::event_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// A condition on the run data (CEL, e.g. `amount > 100`): the edge is followed only
    /// when it holds (see [`Node::decide`] for how a step's conditional edges combine). An
    /// edge without one beside conditional ones is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Who applies an event edge's condition: the publisher, which then publishes the event
    /// only when it holds (the rule lives in the publishing service — the default), or the
    /// subscriber, which hears every such event and drops those it does not want (every
    /// subscriber must know the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Decider>,
    /// The run data fields an event carries (its payload). When absent: the fields its
    /// publisher writes, and the run's input when the publisher is where a run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Vec<String>>,
    /// A loop's bound: this edge (usually one going back to an earlier step) is followed at
    /// most this many times in a run. While iterations are left it is a branch like a
    /// conditional one (its condition, if it has one, must hold too); once they are spent
    /// the step's other edges on that outcome decide (the default ones, exclusively). For an
    /// event, the publisher counts (the event carries its iteration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
}

/// Who applies a choreographed decision's rule (see [`Edge::decided_by`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decider {
    #[default]
    Publisher,
    Subscriber,
}

/// What an edge carries beyond its ends, kind, outcome and event name; [`Edge::details`].
const EDGE_DETAILS: [&str; 4] = ["condition", "decided_by", "payload", "max_iterations"];

impl Edge {
    /// Its condition, who decides it, its payload and its loop bound (those set), as a
    /// JSON object: what formats without a place for them carry alongside (Mermaid's
    /// `%% link N details` comments, BPMN's `hybridflow:details` on a sequence flow).
    pub fn details(&self) -> serde_json::Map<String, serde_json::Value> {
        fields_of(self, |k| EDGE_DETAILS.contains(&k))
    }

    /// This edge with `details` read back (only the fields [`Edge::details`] gives).
    pub fn with_details(
        self,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Edge, serde_json::Error> {
        with_fields(&self, details, |k| EDGE_DETAILS.contains(&k))
    }

    /// Whether this edge's condition is checked where it is published from: by the
    /// orchestrator (a command edge) or by the publishing service (an event edge it
    /// decides) — not by the subscriber on delivery.
    pub fn decided_at_source(&self) -> bool {
        self.condition.is_some()
            && (self.kind == EdgeKind::Command
                || self.decided_by.unwrap_or_default() == Decider::Publisher)
    }

    /// Whether the subscriber checks this event edge's condition when the event reaches it.
    pub fn filtered_by_subscriber(&self) -> bool {
        self.condition.is_some()
            && self.kind == EdgeKind::Event
            && self.decided_by == Some(Decider::Subscriber)
    }
}

/// Command = orchestration (the run's orchestrator sends it and waits for the reply);
/// event = choreography (the source publishes a fact, subscribers react).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    #[default]
    Command,
    Event,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 2] = [EdgeKind::Command, EdgeKind::Event];

    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Command => "command",
            EdgeKind::Event => "event",
        }
    }
}

/// The outcome of a step that an edge follows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Outcome::Success, Outcome::Failure];

    pub fn is_success(&self) -> bool {
        *self == Outcome::Success
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

impl Workflow {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Step `id` as a person reads it: its label, else (no label, or no such step) its id.
    pub fn step_name(&self, id: &str) -> String {
        self.node(id)
            .map(|n| n.label.trim())
            .filter(|l| !l.is_empty())
            .unwrap_or(id)
            .to_string()
    }

    /// Gives every edge without an id a fresh one (`e1`, `e2`, …) that no edge uses yet.
    pub fn assign_edge_ids(&mut self) {
        let mut used: std::collections::HashSet<String> = self
            .edges
            .iter()
            .filter(|e| !e.id.is_empty())
            .map(|e| e.id.clone())
            .collect();
        let mut next = 1usize;
        for edge in self.edges.iter_mut().filter(|e| e.id.is_empty()) {
            while used.contains(&format!("e{next}")) {
                next += 1;
            }
            edge.id = format!("e{next}");
            used.insert(edge.id.clone());
        }
    }

    /// The name an event edge publishes: its own `event`, or `<source label>Completed` /
    /// `<source label>Failed` with the label's spaces removed.
    pub fn event_name(&self, edge: &Edge) -> String {
        let label = self
            .node(&edge.from)
            .map(|n| n.label.as_str())
            .unwrap_or(edge.from.as_str());
        Self::event_name_from(edge, label)
    }

    /// [`Workflow::event_name`] when the source's label is at hand (no search for the
    /// source: what code naming every edge of a large workflow uses).
    pub fn event_name_from(edge: &Edge, source_label: &str) -> String {
        match edge.event.as_ref().filter(|n| !n.is_empty()) {
            Some(name) => name.clone(),
            None => Self::default_event_name(source_label, edge.on),
        }
    }

    /// The default name of the event a step publishes on an outcome.
    pub fn default_event_name(label: &str, outcome: Outcome) -> String {
        let base: String = label.split_whitespace().collect();
        match outcome {
            Outcome::Success => format!("{base}Completed"),
            Outcome::Failure => format!("{base}Failed"),
        }
    }

    /// The edges leaving `node` that follow `outcome`.
    pub fn outgoing<'a>(
        &'a self,
        node: &'a str,
        outcome: Outcome,
    ) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.from == node && e.on == outcome)
    }

    /// The services its steps call, sorted, each once.
    pub fn services(&self) -> Vec<String> {
        let mut list: Vec<String> = self.nodes.iter().map(|n| n.service.clone()).collect();
        list.sort();
        list.dedup();
        list
    }

    /// Nodes nothing points at: where a run starts.
    pub fn roots(&self) -> impl Iterator<Item = &Node> {
        // In time linear in the workflow: large ones (2,000 steps, 5,000 edges) stay quick.
        let targets: std::collections::HashSet<&str> =
            self.edges.iter().map(|e| e.to.as_str()).collect();
        self.nodes
            .iter()
            .filter(move |n| !targets.contains(n.id.as_str()))
    }
}
