//! Amazon States Language — the JSON of AWS Step Functions' state machines — read and
//! written. A state machine is an orchestrator: every transition is a command.
//!
//! | States Language | Hybridflow |
//! |---|---|
//! | `Task` | a step (its `Resource` names the service; `TimeoutSeconds` its timeout) |
//! | `Task` on `states:startExecution` | a sub-flow step running the state machine it names |
//! | `Task` on a `.waitForTaskToken` resource | a step waiting for a message (its timeout the task's) |
//! | `Retry` (one retrier) | the step's retry policy |
//! | `Catch` (one catcher) | the step's failure route |
//! | `Choice` | a decision step of no duration: each rule a condition (CEL) on an edge, `Default` the default edge |
//! | `Wait` with `Seconds` | a timer step |
//! | `Map` over `ItemsPath` of one `Task` | a for-each step |
//! | `Parallel` | its branches commanded at once; the state after it waits for them all (`join: all`) |
//! | `Succeed`, `Fail` | steps of no duration; a `Fail` step always fails |
//!
//! Anything else (`Pass`, JSONata, a distributed Map, several catchers…) is refused by
//! state name and why. Reading is bounded while it builds: states are charged to the import
//! [`Budget`] as they are made, `Parallel` and `Map` nest at most [`MAX_ASL_NESTING`] deep.
//!
//! A state written by Hybridflow carries the step's details in its `Comment`
//! (`hybridflow {…}`: label, service, action, position, behaviour), so what it writes reads
//! back as it was.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::condition::Condition;
use super::formats::{assemble, edge, plain_node, problem, Budget, ImportError, MAX_PROBLEMS};
use super::validate::Problem;
use super::workflow::{
    Decide, EdgeKind, Join, Latency, Node, Outcome, RetryPolicy, Wait, Workflow,
};
use crate::i18n::Locale;

/// Deepest nesting of `Parallel` branches and `Map` processors read.
pub const MAX_ASL_NESTING: usize = 16;
/// The service of the states a state machine runs itself (`Choice`, `Succeed`, `Fail`,
/// `Wait`).
pub const STATES_SERVICE: &str = "StepFunctions";
/// How a `Comment` written by Hybridflow starts; the step's details follow as JSON.
const COMMENT_PREFIX: &str = "hybridflow ";
/// The ARN a sub-flow's state machine is named under when written (the account and
/// region are the reader's to fill in).
const STATE_MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";

// ---- reading ------------------------------------------------------------------------

/// What a state of a machine became.
#[derive(Clone, Debug)]
enum Shape {
    /// One step, by id.
    Step(String),
    /// A `Parallel`: the steps its branches start at, and those they end with.
    Parallel {
        entries: Vec<String>,
        exits: Vec<String>,
    },
}

impl Shape {
    fn entries(&self) -> Vec<String> {
        match self {
            Shape::Step(id) => vec![id.clone()],
            Shape::Parallel { entries, .. } => entries.clone(),
        }
    }

    fn tails(&self) -> Vec<String> {
        match self {
            Shape::Step(id) => vec![id.clone()],
            Shape::Parallel { exits, .. } => exits.clone(),
        }
    }
}

struct Reader {
    l: Locale,
    budget: Budget,
    nodes: Vec<Node>,
    edges: Vec<super::workflow::Edge>,
    problems: Vec<Problem>,
    /// Every state name seen so far (names are unique in the whole machine).
    names: HashSet<String>,
    /// Every step came with its position (a state machine Hybridflow wrote).
    placed: bool,
}

/// An import stopped at a limit.
struct Stop(Problem);

type Read<T> = Result<T, Stop>;

/// Reads a state machine (its JSON already parsed).
pub fn from_asl(value: &Value, l: Locale) -> Result<Workflow, ImportError> {
    let mut reader = Reader {
        l,
        budget: Budget::new(l),
        nodes: Vec::new(),
        edges: Vec::new(),
        problems: Vec::new(),
        names: HashSet::new(),
        placed: true,
    };
    if value.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        return Err(ImportError::Unsupported(vec![problem(
            "QueryLanguage",
            "QueryLanguage",
            td_string!(l, import.asl_jsonata).to_string(),
        )]));
    }
    if let Err(Stop(p)) = reader.machine(value, "", 0) {
        return Err(ImportError::Unsupported(vec![p]));
    }
    if !reader.problems.is_empty() {
        reader.problems.truncate(MAX_PROBLEMS);
        return Err(ImportError::Unsupported(reader.problems));
    }
    let name = value
        .get("Comment")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("State machine")
        .chars()
        .take(super::validate::MAX_STRING_CHARS)
        .collect();
    let placed = reader.placed && !reader.nodes.is_empty();
    // In a canonical order: a state machine's states are a map, and a Parallel's name is
    // not kept — the same machine written again reads back the same.
    let mut nodes = reader.nodes;
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut edges = reader.edges;
    edges.sort_by(|a, b| {
        (&a.from, a.on == Outcome::Failure, &a.to, &a.condition).cmp(&(
            &b.from,
            b.on == Outcome::Failure,
            &b.to,
            &b.condition,
        ))
    });
    Ok(assemble(name, nodes, edges, placed))
}

impl Reader {
    fn refuse(&mut self, path: &str, field: &str, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem(path, field, message));
        }
    }

    /// Reads machine `m` (the whole state machine, a branch or a Map's processor): its
    /// states, then its transitions. Returns the steps it starts at and those it ends
    /// with.
    fn machine(&mut self, m: &Value, path: &str, depth: usize) -> Read<(Vec<String>, Vec<String>)> {
        let at = |field: &str| {
            if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        if depth > MAX_ASL_NESTING {
            return Err(Stop(problem(
                at("States"),
                "States",
                td_string!(self.l, import.asl_nesting, limit = MAX_ASL_NESTING).to_string(),
            )));
        }
        let empty = Map::new();
        let states = match m.get("States").and_then(Value::as_object) {
            Some(states) => states,
            None => {
                self.refuse(
                    &at("States"),
                    "States",
                    td_string!(self.l, import.asl_no_states).to_string(),
                );
                &empty
            }
        };
        let start = m.get("StartAt").and_then(Value::as_str).unwrap_or("");
        if !states.is_empty() && !states.contains_key(start) {
            self.refuse(
                &at("StartAt"),
                "StartAt",
                td_string!(self.l, import.asl_start, state = format!("{start:?}")).to_string(),
            );
        }
        // The states, each a step (or a Parallel's branches).
        let mut shapes: BTreeMap<&str, Shape> = BTreeMap::new();
        for (name, state) in states {
            let here = at(&format!("States.{name}"));
            if !self.names.insert(name.clone()) {
                self.refuse(
                    &here,
                    "States",
                    td_string!(self.l, import.asl_twice, state = format!("{name:?}")).to_string(),
                );
                continue;
            }
            if let Some(shape) = self.state(name, state, &here, depth)? {
                shapes.insert(name.as_str(), shape);
            }
        }
        // Their transitions.
        let mut exits = Vec::new();
        for (name, state) in states {
            let Some(shape) = shapes.get(name.as_str()).cloned() else {
                continue;
            };
            let here = at(&format!("States.{name}"));
            let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
            let target = |reader: &mut Reader, next: &str, field: &str| -> Option<Vec<String>> {
                match shapes.get(next) {
                    Some(s) => Some(s.entries()),
                    None => {
                        reader.refuse(
                            &format!("{here}.{field}"),
                            field,
                            td_string!(
                                reader.l,
                                import.asl_next,
                                state = format!("{name:?}"),
                                next = format!("{next:?}")
                            )
                            .to_string(),
                        );
                        None
                    }
                }
            };
            match kind {
                "Choice" => {
                    let id = &shape.tails()[0];
                    let rules = state
                        .get("Choices")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for (i, choice) in rules.iter().enumerate() {
                        let field = format!("Choices[{i}]");
                        let condition = match choice_condition(choice) {
                            Ok(c) => c,
                            Err(why) => {
                                self.refuse(
                                    &format!("{here}.{field}"),
                                    "Choices",
                                    td_string!(
                                        self.l,
                                        import.asl_rule,
                                        state = format!("{name:?}"),
                                        why = why
                                    )
                                    .to_string(),
                                );
                                continue;
                            }
                        };
                        // The Choice state reads its rules' fields from its input.
                        let fields = super::data::condition_fields(&condition);
                        if let Some(n) = self.nodes.iter_mut().find(|n| &n.id == id) {
                            for field in fields {
                                if !n.reads.contains(&field)
                                    && n.reads.len() < super::validate::MAX_READS
                                {
                                    n.reads.push(field);
                                }
                            }
                        }
                        let next = choice.get("Next").and_then(Value::as_str).unwrap_or("");
                        if let Some(to) = target(self, next, &format!("{field}.Next")) {
                            for t in to {
                                let mut e = edge(id, &t, EdgeKind::Command, Outcome::Success, None);
                                e.condition = Some(condition.clone());
                                self.connect(e, &here)?;
                            }
                        }
                    }
                    if let Some(next) = state.get("Default").and_then(Value::as_str) {
                        if let Some(to) = target(self, next, "Default") {
                            for t in to {
                                self.connect(
                                    edge(id, &t, EdgeKind::Command, Outcome::Success, None),
                                    &here,
                                )?;
                            }
                        }
                    }
                }
                "Succeed" | "Fail" => exits.extend(shape.tails()),
                _ => {
                    if let Some(next) = state.get("Next").and_then(Value::as_str) {
                        if let Some(to) = target(self, next, "Next") {
                            let tails = shape.tails();
                            if tails.len() > 1 {
                                // After a Parallel: the next state waits for every branch.
                                for t in &to {
                                    if let Some(n) = self.nodes.iter_mut().find(|n| &n.id == t) {
                                        n.join = Some(Join::All);
                                    }
                                }
                            }
                            for from in &tails {
                                for t in &to {
                                    self.connect(
                                        edge(from, t, EdgeKind::Command, Outcome::Success, None),
                                        &here,
                                    )?;
                                }
                            }
                        }
                    } else if state.get("End").and_then(Value::as_bool) == Some(true) {
                        exits.extend(shape.tails());
                    } else {
                        self.refuse(
                            &here,
                            "Next",
                            td_string!(self.l, import.asl_no_next, state = format!("{name:?}"))
                                .to_string(),
                        );
                    }
                    let catchers = state
                        .get("Catch")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    match (catchers.as_slice(), &shape) {
                        ([], _) => {}
                        ([catcher], Shape::Step(id)) => {
                            let next = catcher.get("Next").and_then(Value::as_str).unwrap_or("");
                            if let Some(to) = target(self, next, "Catch[0].Next") {
                                for t in to {
                                    self.connect(
                                        edge(id, &t, EdgeKind::Command, Outcome::Failure, None),
                                        &here,
                                    )?;
                                }
                            }
                        }
                        (_, Shape::Parallel { .. }) => self.refuse(
                            &format!("{here}.Catch"),
                            "Catch",
                            td_string!(
                                self.l,
                                import.asl_parallel_catch,
                                state = format!("{name:?}")
                            )
                            .to_string(),
                        ),
                        (many, _) => self.refuse(
                            &format!("{here}.Catch"),
                            "Catch",
                            td_string!(
                                self.l,
                                import.asl_catchers,
                                state = format!("{name:?}"),
                                count = many.len()
                            )
                            .to_string(),
                        ),
                    }
                }
            }
        }
        let entries = shapes.get(start).map(Shape::entries).unwrap_or_default();
        Ok((entries, exits))
    }

    fn connect(&mut self, e: super::workflow::Edge, path: &str) -> Read<()> {
        self.budget.edges(1, path).map_err(|o| Stop(o.0))?;
        self.edges.push(e);
        Ok(())
    }

    fn add(&mut self, node: Node, path: &str) -> Read<Shape> {
        self.budget.node(path).map_err(|o| Stop(o.0))?;
        let id = node.id.clone();
        self.nodes.push(node);
        Ok(Shape::Step(id))
    }

    /// What state `name` becomes (`None`: refused, said in the problems).
    fn state(
        &mut self,
        name: &str,
        state: &Value,
        path: &str,
        depth: usize,
    ) -> Read<Option<Shape>> {
        let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
        let quoted = format!("{name:?}");
        let refuse_retry = |reader: &mut Reader| {
            if state.get("Retry").is_some() {
                reader.refuse(
                    &format!("{path}.Retry"),
                    "Retry",
                    td_string!(
                        reader.l,
                        import.asl_retry_here,
                        state = quoted.clone(),
                        kind = kind
                    )
                    .to_string(),
                );
            }
        };
        let shape = match kind {
            "Task" => {
                let Some(mut node) = self.task(name, state, path) else {
                    return Ok(None);
                };
                self.behaviour(&mut node, state, path);
                self.add(node, path)?
            }
            "Map" => {
                if state.get("ItemReader").is_some() {
                    self.refuse(
                        path,
                        "ItemReader",
                        td_string!(self.l, import.asl_distributed, state = quoted).to_string(),
                    );
                    return Ok(None);
                }
                let items = state
                    .get("ItemsPath")
                    .and_then(Value::as_str)
                    .and_then(field_of);
                let Some(items) = items else {
                    self.refuse(
                        &format!("{path}.ItemsPath"),
                        "ItemsPath",
                        td_string!(self.l, import.asl_items, state = quoted).to_string(),
                    );
                    return Ok(None);
                };
                let processor = state.get("ItemProcessor").or_else(|| state.get("Iterator"));
                let inner = processor
                    .and_then(|p| p.get("States"))
                    .and_then(Value::as_object)
                    .filter(|s| s.len() == 1)
                    .and_then(|s| s.values().next())
                    .filter(|s| s.get("Type").and_then(Value::as_str) == Some("Task"));
                let Some(inner) = inner else {
                    self.refuse(
                        &format!("{path}.ItemProcessor"),
                        "ItemProcessor",
                        td_string!(self.l, import.asl_map_task, state = quoted).to_string(),
                    );
                    return Ok(None);
                };
                if depth + 1 > MAX_ASL_NESTING {
                    return Err(Stop(problem(
                        path,
                        "ItemProcessor",
                        td_string!(self.l, import.asl_nesting, limit = MAX_ASL_NESTING).to_string(),
                    )));
                }
                let Some(mut node) = self.task(name, inner, path) else {
                    return Ok(None);
                };
                if let Some(details) = comment_details(state) {
                    node = with_comment(node, details);
                }
                node.for_each = Some(items);
                self.behaviour(&mut node, state, path);
                self.add(node, path)?
            }
            "Wait" => {
                refuse_retry(self);
                let Some(seconds) = state.get("Seconds").and_then(Value::as_u64) else {
                    self.refuse(
                        path,
                        "Seconds",
                        td_string!(self.l, import.asl_wait, state = quoted).to_string(),
                    );
                    return Ok(None);
                };
                let mut node = plain_node(name, name, STATES_SERVICE, "wait");
                node.wait = Some(Wait {
                    for_ms: Some(seconds.saturating_mul(1000)),
                    ..Wait::default()
                });
                self.own(&mut node, state);
                self.add(node, path)?
            }
            "Choice" => {
                let mut node = plain_node(name, name, STATES_SERVICE, "choice");
                node.latency_ms = Some(Latency::Fixed(0));
                node.decide = Some(Decide::Exclusive);
                self.own(&mut node, state);
                self.add(node, path)?
            }
            "Succeed" => {
                let mut node = plain_node(name, name, STATES_SERVICE, "succeed");
                node.latency_ms = Some(Latency::Fixed(0));
                self.own(&mut node, state);
                self.add(node, path)?
            }
            "Fail" => {
                let mut node = plain_node(name, name, STATES_SERVICE, "fail");
                node.latency_ms = Some(Latency::Fixed(0));
                node.failure_rate = Some(1.0);
                self.own(&mut node, state);
                self.add(node, path)?
            }
            "Parallel" => {
                refuse_retry(self);
                let branches = state
                    .get("Branches")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if branches.is_empty() {
                    self.refuse(
                        &format!("{path}.Branches"),
                        "Branches",
                        td_string!(self.l, import.asl_branches, state = quoted).to_string(),
                    );
                    return Ok(None);
                }
                let (mut entries, mut exits) = (Vec::new(), Vec::new());
                for (b, branch) in branches.iter().enumerate() {
                    let (e, x) =
                        self.machine(branch, &format!("{path}.Branches[{b}]"), depth + 1)?;
                    entries.extend(e);
                    exits.extend(x);
                }
                Shape::Parallel { entries, exits }
            }
            other => {
                self.refuse(
                    &format!("{path}.Type"),
                    "Type",
                    td_string!(
                        self.l,
                        import.asl_type,
                        state = quoted,
                        kind = format!("{other:?}")
                    )
                    .to_string(),
                );
                return Ok(None);
            }
        };
        Ok(Some(shape))
    }

    /// A step a state machine runs itself: its details from its `Comment`, when it has
    /// them.
    fn own(&mut self, node: &mut Node, state: &Value) {
        match comment_details(state) {
            Some(details) => *node = with_comment(node.clone(), details),
            None => self.placed = false,
        }
    }

    /// The step a `Task` state is (`None`: refused).
    fn task(&mut self, name: &str, state: &Value, path: &str) -> Option<Node> {
        let resource = state.get("Resource").and_then(Value::as_str).unwrap_or("");
        let parameters = state.get("Parameters").or_else(|| state.get("Arguments"));
        let parameter = |key: &str| parameters.and_then(|p| p.get(key)).and_then(Value::as_str);
        let (service, action) = service_of(resource, parameters);
        let mut node = plain_node(name, name, &service, &action);
        if resource.contains(":states:startExecution") {
            let machine = parameter("StateMachineArn").map(|arn| {
                arn.rsplit_once(":stateMachine:")
                    .map_or(arn, |(_, n)| n)
                    .to_string()
            });
            match machine.filter(|m| !m.is_empty()) {
                Some(m) => node.sub_flow = Some(m),
                None => {
                    self.refuse(
                        &format!("{path}.Parameters.StateMachineArn"),
                        "Parameters",
                        td_string!(self.l, import.asl_machine, state = format!("{name:?}"))
                            .to_string(),
                    );
                    return None;
                }
            }
        } else if resource.ends_with(".waitForTaskToken") {
            let message = parameters
                .and_then(|p| p.pointer("/Entries/0/DetailType"))
                .and_then(Value::as_str)
                .unwrap_or(name);
            node.wait = Some(Wait {
                message: Some(message.to_string()),
                ..Wait::default()
            });
        }
        match comment_details(state) {
            Some(details) => node = with_comment(node, details),
            None => self.placed = false,
        }
        Some(node)
    }

    /// What a state says of how its step behaves — its timeout and its retrier — unless
    /// its `Comment` said it all already.
    fn behaviour(&mut self, node: &mut Node, state: &Value, path: &str) {
        if comment_details(state).is_some() {
            return;
        }
        if let Some(seconds) = state.get("TimeoutSeconds").and_then(Value::as_u64) {
            let ms = seconds.saturating_mul(1000);
            match node.wait.as_mut() {
                Some(wait) => wait.timeout_ms = Some(ms),
                None => node.timeout_ms = Some(ms),
            }
        }
        let retriers = state
            .get("Retry")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match retriers.as_slice() {
            [] => {}
            [retrier] => {
                let attempts = retrier
                    .get("MaxAttempts")
                    .and_then(Value::as_u64)
                    .unwrap_or(3);
                if attempts > 0 {
                    let interval = retrier
                        .get("IntervalSeconds")
                        .and_then(Value::as_u64)
                        .unwrap_or(1);
                    node.retry = Some(RetryPolicy {
                        max_attempts: u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX),
                        backoff_ms: interval.saturating_mul(1000),
                        multiplier: retrier
                            .get("BackoffRate")
                            .and_then(Value::as_f64)
                            .unwrap_or(2.0),
                    });
                }
            }
            many => self.refuse(
                &format!("{path}.Retry"),
                "Retry",
                td_string!(
                    self.l,
                    import.asl_retriers,
                    state = format!("{:?}", node.id),
                    count = many.len()
                )
                .to_string(),
            ),
        }
    }
}

/// A service and action from a Task's resource: a Lambda function's name, an AWS
/// service integration's service and API, an activity's name.
fn service_of(resource: &str, parameters: Option<&Value>) -> (String, String) {
    let function = |name: &str| -> String {
        let name = name.rsplit_once(":function:").map_or(name, |(_, n)| n);
        name.split(':').next().unwrap_or(name).to_string()
    };
    let cut = |s: &str| {
        s.chars()
            .take(super::validate::MAX_STRING_CHARS)
            .collect::<String>()
    };
    if let Some(integration) = resource.strip_prefix("arn:aws:states:::") {
        let (service, api) = integration
            .split_once(':')
            .unwrap_or((integration, "invoke"));
        let api = api.split('.').next().unwrap_or(api);
        if service == "lambda" {
            if let Some(name) = parameters
                .and_then(|p| p.get("FunctionName"))
                .and_then(Value::as_str)
            {
                return (cut(&function(name)), "invoke".into());
            }
        }
        return (cut(service), cut(api));
    }
    if resource.contains(":function:") {
        return (cut(&function(resource)), "invoke".into());
    }
    if let Some((_, activity)) = resource.rsplit_once(":activity:") {
        return (cut(activity), "work".into());
    }
    if resource.is_empty() {
        return ("Task".into(), "invoke".into());
    }
    (cut(resource), "invoke".into())
}

/// The details a `Comment` written by Hybridflow carries.
fn comment_details(state: &Value) -> Option<Map<String, Value>> {
    let comment = state.get("Comment")?.as_str()?;
    match serde_json::from_str(comment.strip_prefix(COMMENT_PREFIX)?) {
        Ok(Value::Object(details)) => Some(details),
        _ => None,
    }
}

/// `node` with a Hybridflow comment's details over it (its label, service and action too).
fn with_comment(node: Node, mut details: Map<String, Value>) -> Node {
    let text = |details: &mut Map<String, Value>, key: &str| match details.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let label = text(&mut details, "label");
    let service = text(&mut details, "service");
    let action = text(&mut details, "action");
    let mut node = node.clone().with_details(details).unwrap_or(node);
    node.label = label.unwrap_or(node.label);
    node.service = service.unwrap_or(node.service);
    node.action = action.unwrap_or(node.action);
    node
}

/// A run data field from a JSONPath (`$.order.items` is `order.items`); `None` for
/// anything but a plain path of names.
fn field_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("$.")?;
    let plain = rest.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    plain.then(|| rest.to_string())
}

/// A Choice rule as a CEL condition, or why it has none.
fn choice_condition(rule: &Value) -> Result<String, String> {
    condition_of(rule, 0)
}

fn condition_of(rule: &Value, depth: usize) -> Result<String, String> {
    if depth > MAX_ASL_NESTING {
        return Err(format!("rules nest more than {MAX_ASL_NESTING} deep"));
    }
    if rule.get("Condition").is_some() {
        return Err("a JSONata condition".into());
    }
    let all = |key: &str, joint: &str| -> Option<Result<String, String>> {
        let rules = rule.get(key)?.as_array()?;
        Some(
            rules
                .iter()
                .map(|r| condition_of(r, depth + 1).map(|c| format!("({c})")))
                .collect::<Result<Vec<_>, _>>()
                .map(|parts| parts.join(joint)),
        )
    };
    if let Some(and) = all("And", " && ") {
        return and;
    }
    if let Some(or) = all("Or", " || ") {
        return or;
    }
    if let Some(not) = rule.get("Not") {
        return Ok(format!("!({})", condition_of(not, depth + 1)?));
    }
    let variable = rule.get("Variable").and_then(Value::as_str).unwrap_or("");
    let field = field_of(variable)
        .ok_or_else(|| format!("the variable {variable:?} is not a plain path ($.field)"))?;
    let operators = [
        ("Equals", "=="),
        ("LessThanEquals", "<="),
        ("GreaterThanEquals", ">="),
        ("LessThan", "<"),
        ("GreaterThan", ">"),
    ];
    for (key, value) in rule.as_object().into_iter().flatten() {
        if key == "Variable" || key == "Next" || key == "Comment" {
            continue;
        }
        if key == "IsNull" {
            let op = if value == &Value::Bool(true) {
                "=="
            } else {
                "!="
            };
            return Ok(format!("{field} {op} null"));
        }
        for kind in ["String", "Numeric", "Boolean", "Timestamp"] {
            let Some(rest) = key.strip_prefix(kind) else {
                continue;
            };
            if kind == "Timestamp" {
                return Err(format!("{key} (timestamps)"));
            }
            let (name, against_path) = match rest.strip_suffix("Path") {
                Some(name) => (name, true),
                None => (rest, false),
            };
            let Some((_, op)) = operators.iter().find(|(n, _)| *n == name) else {
                return Err(key.clone());
            };
            let other = if against_path {
                let path = value.as_str().unwrap_or("");
                field_of(path)
                    .ok_or_else(|| format!("the path {path:?} is not a plain path ($.field)"))?
            } else {
                match (kind, value) {
                    ("String", Value::String(_))
                    | ("Numeric", Value::Number(_))
                    | ("Boolean", Value::Bool(_)) => value.to_string(),
                    _ => return Err(format!("{key} with {value}")),
                }
            };
            return Ok(format!("{field} {op} {other}"));
        }
        return Err(key.clone());
    }
    Err(format!("a rule on {variable:?} with no comparison"))
}

// ---- writing ------------------------------------------------------------------------

/// Why a workflow has no state machine, by step or edge.
pub type Refusals = Vec<Problem>;

/// The workflow as a state machine, or every reason it cannot be one (a state machine
/// commands every step: events, several starts, loops with a bound and conditions beyond
/// Choice rules have no form in it).
pub fn to_asl(workflow: &Workflow, l: Locale) -> Result<String, Refusals> {
    let mut writer = Writer {
        w: workflow,
        l,
        index: workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect(),
        problems: Vec::new(),
        written: HashSet::new(),
    };
    for (i, e) in workflow.edges.iter().enumerate() {
        let here = format!("edges[{i}]");
        if e.kind == EdgeKind::Event {
            writer.refuse_edge(
                &here,
                e,
                td_string!(l, export.asl_event, edge = e.id.clone()).to_string(),
            );
        }
        if e.max_iterations.is_some() {
            writer.refuse_edge(
                &here,
                e,
                td_string!(l, export.asl_loop, edge = e.id.clone()).to_string(),
            );
        }
    }
    for (i, node) in workflow.nodes.iter().enumerate() {
        let failures = writer
            .out_of(&node.id)
            .filter(|e| e.on == Outcome::Failure)
            .count();
        if failures > 1 {
            writer.refuse_node(
                i,
                td_string!(
                    l,
                    export.asl_failures,
                    step = node.id.clone(),
                    count = failures
                )
                .to_string(),
            );
        }
    }
    let roots: Vec<&Node> = workflow
        .nodes
        .iter()
        .filter(|n| !workflow.edges.iter().any(|e| e.to == n.id))
        .collect();
    let start = match roots.as_slice() {
        [one] => one.id.clone(),
        [] if workflow.nodes.is_empty() => {
            return Err(vec![problem(
                "nodes",
                "nodes",
                td_string!(l, export.asl_empty).to_string(),
            )])
        }
        [] => workflow.nodes[0].id.clone(),
        many => {
            let names = many
                .iter()
                .map(|n| n.id.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(vec![problem(
                "nodes",
                "nodes",
                td_string!(l, export.asl_starts, steps = names).to_string(),
            )]);
        }
    };
    if !writer.problems.is_empty() {
        return Err(writer.problems);
    }
    let states = writer.machine(&start, None);
    for (i, node) in workflow.nodes.iter().enumerate() {
        if !writer.written.contains(node.id.as_str()) {
            writer.refuse_node(
                i,
                td_string!(l, export.asl_unreached, step = node.id.clone()).to_string(),
            );
        }
    }
    if !writer.problems.is_empty() {
        return Err(writer.problems);
    }
    let machine = json!({"Comment": workflow.name, "StartAt": start, "States": states});
    Ok(serde_json::to_string_pretty(&machine).unwrap_or_default())
}

struct Writer<'a> {
    w: &'a Workflow,
    l: Locale,
    index: HashMap<&'a str, usize>,
    problems: Refusals,
    /// The steps written so far (each is a state in exactly one machine).
    written: HashSet<&'a str>,
}

impl<'a> Writer<'a> {
    fn refuse_edge(&mut self, path: &str, e: &super::workflow::Edge, message: String) {
        let mut p = problem(path, "kind", message);
        p.edge = Some(e.id.clone());
        self.problems.push(p);
    }

    fn refuse_node(&mut self, i: usize, message: String) {
        let mut p = problem(format!("nodes[{i}]"), "id", message);
        p.node = Some(self.w.nodes[i].id.clone());
        self.problems.push(p);
    }

    fn out_of(&self, id: &'a str) -> impl Iterator<Item = &'a super::workflow::Edge> + 'a {
        let id = id.to_string();
        self.w.edges.iter().filter(move |e| e.from == id)
    }

    fn node(&self, id: &str) -> Option<(usize, &'a Node)> {
        self.index.get(id).map(|&i| (i, &self.w.nodes[i]))
    }

    /// The states reached from `start`, up to (not including) `stop` — the step a
    /// Parallel's branches join at — as one machine's `States`.
    fn machine(&mut self, start: &str, stop: Option<&'a str>) -> Map<String, Value> {
        let mut states = Map::new();
        let mut queue = vec![start.to_string()];
        while let Some(id) = queue.pop() {
            let Some((_, node)) = self.node(&id) else {
                continue;
            };
            if Some(node.id.as_str()) == stop || !self.written.insert(node.id.as_str()) {
                continue;
            }
            let next = self.state(node, stop, &mut states);
            queue.extend(next);
        }
        self.refuse_going_elsewhere(&states);
        states
    }

    /// Refuses each step whose state goes on (`Next`, `Default`, a rule's or a catcher's
    /// `Next`) to a state this machine does not hold — one written in a Parallel's branch,
    /// or outside it: a state goes only to the states beside it.
    fn refuse_going_elsewhere(&mut self, states: &Map<String, Value>) {
        for (name, state) in states {
            let mut targets: Vec<&str> = Vec::new();
            for key in ["Next", "Default"] {
                targets.extend(state.get(key).and_then(Value::as_str));
            }
            for list in ["Choices", "Catch"] {
                for item in state
                    .get(list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    targets.extend(item.get("Next").and_then(Value::as_str));
                }
            }
            // A Choice or Parallel written after a step is that step's.
            let step = name
                .strip_suffix('?')
                .or_else(|| name.strip_suffix(" branches"))
                .filter(|s| self.index.contains_key(s))
                .unwrap_or(name);
            for target in targets {
                if states.contains_key(target) {
                    continue;
                }
                if let Some(&i) = self.index.get(step) {
                    self.refuse_node(
                        i,
                        td_string!(
                            self.l,
                            export.asl_elsewhere,
                            step = step.to_string(),
                            target = target.to_string()
                        )
                        .to_string(),
                    );
                }
            }
        }
    }

    /// Writes step `node`'s state (and the Choice or Parallel after it) into `states`;
    /// returns the steps its transitions lead to in this machine.
    fn state(
        &mut self,
        node: &'a Node,
        stop: Option<&'a str>,
        states: &mut Map<String, Value>,
    ) -> Vec<String> {
        let mut state = Map::new();
        let mut leads = Vec::new();
        let kind = match (node.service.as_str(), node.action.as_str()) {
            (STATES_SERVICE, "choice") => "Choice",
            (STATES_SERVICE, "succeed") => "Succeed",
            (STATES_SERVICE, "fail") => "Fail",
            _ if node.wait.as_ref().is_some_and(|w| w.message.is_none()) => "Wait",
            _ if node.for_each.is_some() => "Map",
            _ => "Task",
        };
        state.insert("Type".into(), kind.into());
        match kind {
            "Wait" => {
                let ms = node.wait.as_ref().and_then(|w| w.for_ms).unwrap_or(0);
                state.insert("Seconds".into(), ms.div_ceil(1000).into());
            }
            "Map" => {
                let field = node.for_each.clone().unwrap_or_default();
                state.insert("ItemsPath".into(), format!("$.{field}").into());
                let mut item = task_resource(node);
                item.insert("Type".into(), "Task".into());
                item.insert("End".into(), true.into());
                state.insert(
                    "ItemProcessor".into(),
                    json!({"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": node.id, "States": {node.id.clone(): item}}),
                );
            }
            "Task" => state.extend(task_resource(node)),
            _ => {}
        }
        if matches!(kind, "Task" | "Map") {
            if let Some(ms) = node
                .wait
                .as_ref()
                .and_then(|w| w.timeout_ms)
                .or(node.timeout_ms)
            {
                state.insert("TimeoutSeconds".into(), ms.div_ceil(1000).max(1).into());
            }
            if let Some(retry) = &node.retry {
                state.insert(
                    "Retry".into(),
                    json!([{"ErrorEquals": ["States.ALL"], "IntervalSeconds": retry.backoff_ms.div_ceil(1000).max(1),
                            "MaxAttempts": retry.max_attempts.saturating_sub(1), "BackoffRate": retry.multiplier.max(1.0)}]),
                );
            }
        }
        // The step's own words and behaviour, to read back as they were.
        let mut details = node.details();
        details.insert("label".into(), node.label.clone().into());
        details.insert("service".into(), node.service.clone().into());
        details.insert("action".into(), node.action.clone().into());
        state.insert(
            "Comment".into(),
            format!("{COMMENT_PREFIX}{}", Value::Object(details)).into(),
        );

        let out: Vec<&'a super::workflow::Edge> = self.out_of(&node.id).collect();
        if let Some(failure) = out.iter().find(|e| e.on == Outcome::Failure) {
            state.insert(
                "Catch".into(),
                json!([{"ErrorEquals": ["States.ALL"], "Next": failure.to}]),
            );
            leads.push(failure.to.clone());
        }
        let success: Vec<&&super::workflow::Edge> =
            out.iter().filter(|e| e.on == Outcome::Success).collect();
        let conditional = success.iter().any(|e| e.condition.is_some());
        let ends = |state: &mut Map<String, Value>, kind: &str| {
            if !matches!(kind, "Choice" | "Succeed" | "Fail") {
                state.insert("End".into(), true.into());
            }
        };
        if conditional {
            // The rules: in the step's own Choice state, or one written after it.
            let choice_name = if kind == "Choice" {
                node.id.clone()
            } else {
                format!("{}?", node.id)
            };
            let mut choices = Vec::new();
            let mut default = None;
            for e in &success {
                match &e.condition {
                    Some(c) => match Condition::read(c)
                        .map_err(|e| e.to_string())
                        .and_then(|c| c.choice_rule())
                    {
                        Ok(Value::Object(mut rule)) => {
                            rule.insert("Next".into(), e.to.clone().into());
                            choices.push(Value::Object(rule));
                        }
                        Ok(_) => {}
                        Err(why) => {
                            let edge_at = self
                                .w
                                .edges
                                .iter()
                                .position(|x| std::ptr::eq(x, **e))
                                .unwrap_or(0);
                            self.refuse_edge(
                                &format!("edges[{edge_at}].condition"),
                                e,
                                td_string!(
                                    self.l,
                                    export.asl_condition,
                                    edge = e.id.clone(),
                                    condition = c.clone(),
                                    why = why
                                )
                                .to_string(),
                            );
                        }
                    },
                    None => default = Some(e.to.clone()),
                }
                leads.push(e.to.clone());
            }
            let mut choice = Map::new();
            choice.insert("Type".into(), "Choice".into());
            choice.insert("Choices".into(), Value::Array(choices));
            if let Some(d) = default {
                choice.insert("Default".into(), d.into());
            }
            if kind == "Choice" {
                state.extend(choice);
            } else {
                state.insert("Next".into(), choice_name.clone().into());
                states.insert(choice_name, Value::Object(choice));
            }
        } else {
            let targets: Vec<&'a str> = success.iter().map(|e| e.to.as_str()).collect();
            match targets.as_slice() {
                [] => ends(&mut state, kind),
                [one] if Some(*one) == stop => ends(&mut state, kind),
                [one] => {
                    state.insert("Next".into(), (*one).into());
                    leads.push((*one).to_string());
                }
                many => {
                    // Commanded at once: a Parallel, its branches joining where they meet.
                    let join = self.join_of(many);
                    let name = format!("{} branches", node.id);
                    let branches: Vec<Value> = many
                        .iter()
                        .map(|t| json!({"StartAt": t, "States": self.machine(t, join.or(stop))}))
                        .collect();
                    let mut parallel = Map::new();
                    parallel.insert("Type".into(), "Parallel".into());
                    parallel.insert("Branches".into(), Value::Array(branches));
                    match join {
                        Some(j) if Some(j) != stop => {
                            parallel.insert("Next".into(), j.into());
                            leads.push(j.to_string());
                        }
                        _ => {
                            parallel.insert("End".into(), true.into());
                        }
                    }
                    state.insert("Next".into(), name.clone().into());
                    states.insert(name, Value::Object(parallel));
                }
            }
        }
        states.insert(node.id.clone(), Value::Object(state));
        leads
    }

    /// Where branches started at `targets` meet again: the first step that waits for all
    /// its triggers (`join: all`) reached from every one of them.
    fn join_of(&self, targets: &[&'a str]) -> Option<&'a str> {
        let reach = |from: &'a str| -> Vec<&'a str> {
            let mut seen: Vec<&'a str> = Vec::new();
            let mut queue = vec![from];
            while let Some(id) = queue.pop() {
                if seen.contains(&id) || seen.len() > self.w.nodes.len() {
                    continue;
                }
                seen.push(id);
                queue.extend(
                    self.out_of(id)
                        .filter(|e| e.on == Outcome::Success)
                        .map(|e| e.to.as_str()),
                );
            }
            seen
        };
        let first = reach(targets[0]);
        first.into_iter().find(|id| {
            self.node(id)
                .is_some_and(|(_, n)| n.join == Some(Join::All))
                && targets[1..].iter().all(|t| reach(t).contains(id))
        })
    }
}

/// A Task's `Resource` (and `Parameters`) for a step: a sub-flow starts an execution of
/// its state machine and waits for it, a wait for a message waits for a task token, any
/// other step invokes a Lambda function named after its service.
fn task_resource(node: &Node) -> Map<String, Value> {
    let value = if let Some(machine) = &node.sub_flow {
        json!({"Resource": "arn:aws:states:::states:startExecution.sync:2",
               "Parameters": {"StateMachineArn": format!("{STATE_MACHINE_ARN}{machine}"), "Input.$": "$"}})
    } else if let Some(message) = node.wait.as_ref().and_then(|w| w.message.clone()) {
        json!({"Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
               "Parameters": {"Entries": [{"DetailType": message, "Source": node.service, "Detail": {"TaskToken.$": "$$.Task.Token"}}]}})
    } else {
        json!({"Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": node.service, "Payload.$": "$"}})
    };
    match value {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}
