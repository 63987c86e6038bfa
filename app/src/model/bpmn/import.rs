//! BPMN 2.0 XML in: what a modeler drew, as a workflow, or every element that cannot be
//! one, by id, type and line.
//!
//! The XML is read into a small element tree, bounded while it is read ([`MAX_ELEMENTS`],
//! [`MAX_DEPTH`], [`MAX_ATTRIBUTES`]); entities other than XML's five and character
//! references are refused (no DTD is read, so no entity can expand). Then:
//! - tasks of any kind become steps (a task marked `isForCompensation` is the
//!   compensation of the task whose compensation boundary event is associated with it);
//!   the service is `hybridflow:service`, else the task's lane, else its pool, else its
//!   name; the action `hybridflow:action`, else its name;
//! - sequence flows become commands; a path through a message catch event becomes an event
//!   named by the message (when a message flow also arrives there, the step waits for both:
//!   `join: all`); message flows between pools become events from the sending step (or
//!   the steps before a throw event) to the steps after the receiving one;
//! - boundary error events become failure routes, boundary message events events;
//! - parallel gateways pass their paths through; a converging one makes its step
//!   `join: all`; none start, end and throw events pass too;
//! - exclusive and inclusive gateways pass their paths through with their flows'
//!   conditions (JUEL `${…}` or FEEL `=…`, translated to CEL by [`super::feel`]; the
//!   `default` flow has none): the step before decides, inclusively after an inclusive one;
//!   a condition on a flow straight from a task is the same decision;
//! - a receive task waits for its message; an interrupting timer boundary event is its
//!   timeout (a task's timeout, for other tasks) and its flows the failure route; an
//!   intermediate timer catch event (`timeDuration`) is a timer step; an event-based
//!   gateway racing one message catch event against at most one timer catch event is a
//!   step that waits for the message, the timer its timeout, the flows after the timer
//!   its failure route;
//! - a multi-instance task is a for-each over its collection's field; a standard loop with
//!   a `loopMaximum` a bounded loop back to itself;
//! - positions come from the diagram (DI) when every step has a shape.
//!
//! Refused, each by id: complex gateways, event-based gateways racing anything else (a
//! second message, a receive task, a signal), conditions it cannot translate,
//! sub-processes, timers with a date or a cycle, non-interrupting
//! timers, loops with a condition, signal, escalation, conditional and error end events,
//! and any element BPMN defines that is not listed here.

use std::collections::{HashMap, HashSet};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::Value;

use super::NAMESPACE;
use crate::i18n::Locale;
use crate::model::formats::{assemble, capped, edge, line_at, problem, Budget, ImportError};
use crate::model::validate::{Problem, MAX_EDGES};
use crate::model::workflow::{Edge, EdgeKind, Join, Node, Outcome, Position, Workflow};

/// Most XML elements a document may have (a 2,000-step diagram with its flows and shapes
/// has about 20,000).
pub const MAX_ELEMENTS: usize = 50_000;
/// Deepest nesting of XML elements.
pub const MAX_DEPTH: usize = 64;
/// Most attributes on one element.
pub const MAX_ATTRIBUTES: usize = 64;
/// Most elements visited while following flows through gateways and events, over the
/// whole import: tangled gateways cannot make it quadratic.
pub const MAX_WALK: usize = 200_000;

struct El {
    /// The local name (`serviceTask` of `bpmn:serviceTask`).
    name: String,
    /// Attributes by qualified name.
    attrs: Vec<(String, String)>,
    children: Vec<usize>,
    text: String,
    /// Byte offset of its `<`.
    at: usize,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The process a call activity calls: its `calledElement` (Camunda 7, the BPMN standard),
/// or the `processId` of a `zeebe:calledElement` among its extension elements (Camunda 8).
fn called_element(els: &[El], el: usize) -> Option<String> {
    let named = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    if let Some(called) = els[el].attr("calledElement").and_then(named) {
        return Some(called);
    }
    els[el]
        .children
        .iter()
        .filter(|&&c| els[c].name == "extensionElements")
        .flat_map(|&c| els[c].children.iter())
        .filter(|&&c| els[c].name == "calledElement")
        .find_map(|&c| els[c].attr("processId").and_then(named))
}

/// The 1-based line of a byte offset.
fn line_of(input: &str, at: usize) -> usize {
    input.as_bytes()[..at.min(input.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where each line starts: a line number in O(log n), however many problems are reported
/// (a scan per problem would make a document of many refused elements quadratic).
/// Its lines are named in `l`'s words.
struct Lines(Vec<usize>, Locale);

impl Lines {
    fn new(input: &str, l: Locale) -> Lines {
        Lines(
            input
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect(),
            l,
        )
    }

    fn at(&self, offset: usize) -> String {
        line_at(self.1, self.0.partition_point(|&nl| nl < offset) + 1)
    }
}

fn refused(l: Locale, input: &str, at: usize, field: &str, message: String) -> ImportError {
    ImportError::Unsupported(vec![problem(
        line_at(l, line_of(input, at)),
        field,
        message,
    )])
}

/// The element tree (index 0 is the document) and the prefix bound to [`NAMESPACE`].
fn read_tree(input: &str, l: Locale) -> Result<(Vec<El>, Option<String>), ImportError> {
    let mut reader = Reader::from_str(input);
    // Text keeps its spaces (`a &gt; b` is three pieces, the spaces between them meant); every
    // reader of an element's text trims its ends.
    reader.config_mut().trim_text(false);
    let mut els = vec![El {
        name: String::new(),
        attrs: Vec::new(),
        children: Vec::new(),
        text: String::new(),
        at: 0,
    }];
    let mut stack = vec![0usize];
    let mut ours: Option<String> = None;
    let start = |e: &BytesStart, at: usize, els: &mut Vec<El>, ours: &mut Option<String>| {
        if els.len() > MAX_ELEMENTS {
            return Err(refused(
                l,
                input,
                at,
                "elements",
                td_string!(l, import.xml_too_many, limit = MAX_ELEMENTS),
            ));
        }
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| {
                refused(
                    l,
                    input,
                    at,
                    "attribute",
                    td_string!(l, import.xml_bad_attribute, element = &name, error = err),
                )
            })?;
            if attrs.len() >= MAX_ATTRIBUTES {
                return Err(refused(
                    l,
                    input,
                    at,
                    "attributes",
                    td_string!(
                        l,
                        import.xml_attributes,
                        element = &name,
                        limit = MAX_ATTRIBUTES
                    ),
                ));
            }
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map_err(|err| {
                    refused(
                        l,
                        input,
                        at,
                        "attribute",
                        td_string!(
                            l,
                            import.xml_attribute_value,
                            element = &name,
                            key = &key,
                            error = err
                        ),
                    )
                })?
                .into_owned();
            if value == NAMESPACE {
                if let Some(prefix) = key.strip_prefix("xmlns:") {
                    *ours = Some(prefix.to_string());
                }
            }
            attrs.push((key, value));
        }
        els.push(El {
            name,
            attrs,
            children: Vec::new(),
            text: String::new(),
            at,
        });
        Ok(els.len() - 1)
    };
    loop {
        // Where the next markup starts: past the whitespace the reader trims.
        let mut at = reader.buffer_position() as usize;
        while input
            .as_bytes()
            .get(at)
            .is_some_and(u8::is_ascii_whitespace)
        {
            at += 1;
        }
        let parent = *stack.last().unwrap_or(&0);
        match reader.read_event() {
            Err(e) => {
                let at = reader.error_position() as usize;
                return Err(ImportError::Unsupported(vec![problem(
                    line_at(l, line_of(input, at)),
                    "xml",
                    td_string!(l, import.xml_malformed, error = e),
                )]));
            }
            Ok(Event::Start(e)) => {
                if stack.len() > MAX_DEPTH {
                    return Err(refused(
                        l,
                        input,
                        at,
                        "depth",
                        td_string!(l, import.xml_depth, limit = MAX_DEPTH),
                    ));
                }
                let i = start(&e, at, &mut els, &mut ours)?;
                els[parent].children.push(i);
                stack.push(i);
            }
            Ok(Event::Empty(e)) => {
                let i = start(&e, at, &mut els, &mut ours)?;
                els[parent].children.push(i);
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Text(t)) => {
                let text = t
                    .decode()
                    .map_err(|e| refused(l, input, at, "xml", e.to_string()))?;
                els[parent].text.push_str(&text);
            }
            Ok(Event::CData(t)) => {
                let text = t
                    .decode()
                    .map_err(|e| refused(l, input, at, "xml", e.to_string()))?;
                els[parent].text.push_str(&text);
            }
            Ok(Event::GeneralRef(r)) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => {
                        let name = String::from_utf8_lossy(&r).into_owned();
                        quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                    }
                };
                match resolved {
                    Some(s) => els[parent].text.push_str(&s),
                    None => {
                        return Err(refused(
                            l,
                            input,
                            at,
                            "xml",
                            td_string!(l, import.xml_entity, name = String::from_utf8_lossy(&r)),
                        ))
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
        }
    }
    if stack.len() > 1 {
        let open = &els[stack[stack.len() - 1]];
        return Err(refused(
            l,
            input,
            open.at,
            "xml",
            td_string!(l, import.xml_not_closed, element = &open.name),
        ));
    }
    Ok((els, ours))
}

/// What an element of a process is to the import.
#[derive(Clone, Debug)]
enum Kind {
    Step,
    /// A task marked `isForCompensation`.
    Handler,
    /// A none start, throw or intermediate throw event: paths pass through.
    Pass,
    End,
    Gateway,
    /// An exclusive or inclusive gateway: its outgoing flows' conditions decide (the
    /// `default` flow, by id, when none holds).
    Choice {
        inclusive: bool,
    },
    /// A message catch event (or message start event), by message name; whether message
    /// flows arrive at it.
    Catch {
        message: Option<String>,
        flows_in: bool,
    },
    Boundary {
        attached: String,
        what: Boundary,
    },
    /// An event an event-based gateway races: its message (the wait's success) or its
    /// timer (its timeout: the failure route). Paths pass through.
    Raced {
        timeout: bool,
    },
}

#[derive(Clone, Debug)]
enum Boundary {
    Error,
    /// An interrupting timer: the task's timeout, its flows the failure route.
    Timer,
    Message(Option<String>),
    Compensate,
}

const TASKS: [&str; 8] = [
    "task",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "userTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
];

/// Children of a process that carry no behaviour Hybridflow models.
const IGNORED: [&str; 14] = [
    "laneSet",
    "textAnnotation",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "group",
    "category",
    "documentation",
    "extensionElements",
    "ioSpecification",
    "property",
    "dataInputAssociation",
    "dataOutputAssociation",
    "incoming",
];

/// How a route leads on, as it is followed through events and gateways.
#[derive(Clone, Debug)]
struct Route {
    kind: EdgeKind,
    on: Outcome,
    event: Option<String>,
    join: bool,
    /// The sequence flow (element) that carries the edge's details, when the path passed
    /// one that does.
    details: Option<usize>,
    /// The conditions of the flows the path passed (CEL, joined by `&&`).
    condition: Option<String>,
    /// The path passed an inclusive gateway: its step decides inclusively.
    inclusive: bool,
    /// Which flow out of an exclusive or inclusive gateway the path took (0 before one):
    /// each is a route of its own, even to the same step on the same terms.
    branch: usize,
}

struct Model<'a> {
    lines: &'a Lines,
    els: &'a [El],
    ours: String,
    kinds: HashMap<String, (Kind, usize)>,
    next: HashMap<String, Vec<String>>,
    /// What each sequence flow carries beyond its ends, by its two ends, one entry per flow
    /// in document order (two flows may join the same elements): the element with
    /// `hybridflow:details`, if it has them, and its condition in CEL.
    flow_extras: HashMap<(String, String), Vec<FlowExtra>>,
    previous: HashMap<String, Vec<String>>,
    walked: usize,
    /// Flows out of exclusive and inclusive gateways taken so far (each path's `branch`).
    branches: usize,
}

impl Model<'_> {
    fn line(&self, el: usize) -> String {
        self.lines.at(self.els[el].at)
    }

    fn ext(&self, el: usize, local: &str) -> Option<&str> {
        self.els[el]
            .attr(&format!("{}:{local}", self.ours))
            .filter(|v| !v.trim().is_empty())
    }

    fn step(&mut self) -> Result<(), ImportError> {
        self.walked += 1;
        if self.walked > MAX_WALK {
            return Err(ImportError::Unsupported(vec![problem(
                "",
                "flows",
                td_string!(self.lines.1, import.bpmn_walk, limit = MAX_WALK),
            )]));
        }
        Ok(())
    }

    /// The steps a route reaches from `targets`, and how.
    fn follow(
        &mut self,
        targets: &[String],
        route: Route,
        out: &mut Vec<(String, Route)>,
    ) -> Result<(), ImportError> {
        let mut stack: Vec<(String, Route)> =
            targets.iter().map(|t| (t.clone(), route.clone())).collect();
        let mut seen: HashSet<(String, Option<String>, usize)> = HashSet::new();
        while let Some((at, mut route)) = stack.pop() {
            self.step()?;
            let Some((kind, _)) = self.kinds.get(&at) else {
                continue;
            };
            match kind.clone() {
                Kind::Step => {
                    out.push((at, route));
                    continue;
                }
                Kind::End | Kind::Handler | Kind::Boundary { .. } => continue,
                Kind::Pass => {}
                Kind::Gateway => {
                    if self.previous.get(&at).map_or(0, Vec::len) > 1 {
                        route.join = true;
                    }
                }
                Kind::Choice { inclusive } => route.inclusive |= inclusive,
                Kind::Raced { timeout } => {
                    if timeout {
                        route.on = Outcome::Failure;
                    }
                }
                Kind::Catch { message, flows_in } => {
                    if flows_in {
                        route.join = true;
                    } else {
                        route.kind = EdgeKind::Event;
                        route.event = message.or(route.event);
                    }
                }
            }
            if !seen.insert((at.clone(), route.condition.clone(), route.branch)) {
                continue;
            }
            let decides = matches!(kind, Kind::Choice { .. });
            for (n, nth) in self.targets(&at) {
                let mut route = self.along(&at, &n, nth, route.clone());
                if decides {
                    self.branches += 1;
                    route.branch = self.branches;
                }
                stack.push((n, route));
            }
        }
        Ok(())
    }

    /// `route` along the `nth` sequence flow from `from` to `to`: the flow's details, and its
    /// condition added to the path's.
    fn along(&self, from: &str, to: &str, nth: usize, mut route: Route) -> Route {
        let key = (from.to_string(), to.to_string());
        let Some(extra) = self.flow_extras.get(&key).and_then(|e| e.get(nth)) else {
            return route;
        };
        if let Some(flow) = extra.details {
            route.details = Some(flow);
        }
        if let Some(condition) = &extra.condition {
            route.condition = Some(match route.condition.take() {
                Some(before) => format!("({before}) && ({condition})"),
                None => condition.clone(),
            });
        }
        route
    }

    /// Element `el`'s `hybridflow:details` (a JSON object) read over what `id` already is
    /// by `apply`, or refused by line, naming `id`.
    fn read_details<T>(
        &self,
        el: usize,
        id: &str,
        l: Locale,
        apply: impl FnOnce(serde_json::Map<String, Value>) -> Result<T, serde_json::Error>,
    ) -> Result<T, ImportError> {
        let refused = |message: String| {
            ImportError::Unsupported(vec![problem(self.line(el), "details", message)])
        };
        let details = self.ext(el, "details").unwrap_or("{}");
        let Ok(Value::Object(details)) = serde_json::from_str::<Value>(details) else {
            return Err(refused(td_string!(
                l,
                import.bpmn_details_not_object,
                id = format!("{id:?}")
            )));
        };
        apply(details).map_err(|e| {
            refused(td_string!(
                l,
                import.bpmn_details_error,
                id = format!("{id:?}"),
                error = e
            ))
        })
    }

    /// The elements after `at`, each with which of the flows from `at` to it leads there
    /// (0 for the first: two flows may join the same elements).
    fn targets(&self, at: &str) -> Vec<(String, usize)> {
        let mut nth: HashMap<String, usize> = HashMap::new();
        self.next
            .get(at)
            .into_iter()
            .flatten()
            .map(|n| {
                let k = nth.entry(n.clone()).or_default();
                *k += 1;
                (n.clone(), *k - 1)
            })
            .collect()
    }

    /// The steps a message flow leaves from: the step itself, or the steps before a throw
    /// event.
    fn senders(&mut self, from: &str) -> Result<Vec<String>, ImportError> {
        let mut out = Vec::new();
        let mut stack = vec![from.to_string()];
        let mut seen = HashSet::new();
        while let Some(at) = stack.pop() {
            self.step()?;
            if !seen.insert(at.clone()) {
                continue;
            }
            match self.kinds.get(&at).map(|(k, _)| k.clone()) {
                Some(Kind::Step) => out.push(at),
                Some(Kind::Boundary { attached, .. }) => stack.push(attached),
                Some(_) => stack.extend(self.previous.get(&at).cloned().unwrap_or_default()),
                None => {}
            }
        }
        Ok(out)
    }
}

/// Reads a BPMN 2.0 document.
pub fn from_bpmn(input: &str, l: Locale) -> Result<Workflow, ImportError> {
    let (els, ours) = read_tree(input, l)?;
    let definitions = els[0]
        .children
        .first()
        .copied()
        .filter(|&d| els[d].name == "definitions")
        .ok_or_else(|| {
            refused(
                l,
                input,
                0,
                "definitions",
                td_string!(l, import.bpmn_root).to_string(),
            )
        })?;
    let lines = Lines::new(input, l);
    let mut problems: Vec<Problem> = Vec::new();
    let refuse = |problems: &mut Vec<Problem>, el: usize, message: String| {
        let e = &els[el];
        problems.push(Problem {
            path: lines.at(e.at),
            node: e.attr("id").map(str::to_string),
            edge: None,
            field: e.name.clone(),
            message,
        });
    };
    let id_of = |el: usize| els[el].attr("id").unwrap_or("").to_string();

    // Every element, depth first, with what it sits in.
    let mut order: Vec<usize> = Vec::new();
    let mut stack = vec![definitions];
    while let Some(el) = stack.pop() {
        order.push(el);
        stack.extend(els[el].children.iter().rev());
    }
    let messages: HashMap<&str, &str> = order
        .iter()
        .filter(|&&e| els[e].name == "message")
        .filter_map(|&e| Some((els[e].attr("id")?, els[e].attr("name").unwrap_or(""))))
        .collect();
    let message_name = |reference: Option<&str>| -> Option<String> {
        reference
            .and_then(|r| messages.get(r))
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
    };
    let mut pools: HashMap<String, String> = HashMap::new();
    let mut black_boxes: HashSet<String> = HashSet::new();
    for &e in order.iter().filter(|&&e| els[e].name == "participant") {
        match els[e].attr("processRef") {
            Some(process) => {
                pools.insert(
                    process.to_string(),
                    els[e].attr("name").unwrap_or("").trim().to_string(),
                );
            }
            None => {
                black_boxes.insert(id_of(e));
            }
        }
    }
    let mut lanes: HashMap<String, String> = HashMap::new();
    for &e in order.iter().filter(|&&e| els[e].name == "lane") {
        let name = els[e].attr("name").unwrap_or("").trim().to_string();
        for &r in &els[e].children {
            if els[r].name == "flowNodeRef" && !name.is_empty() {
                lanes.insert(els[r].text.trim().to_string(), name.clone());
            }
        }
    }
    let mut shapes: HashMap<String, Position> = HashMap::new();
    for &e in order.iter().filter(|&&e| els[e].name == "BPMNShape") {
        let Some(element) = els[e].attr("bpmnElement") else {
            continue;
        };
        if let Some(&b) = els[e].children.iter().find(|&&c| els[c].name == "Bounds") {
            let n = |k: &str| {
                els[b]
                    .attr(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite())
            };
            if let (Some(x), Some(y)) = (n("x"), n("y")) {
                shapes.insert(element.to_string(), Position { x, y });
            }
        }
    }

    // The processes' elements.
    let mut kinds: HashMap<String, (Kind, usize)> = HashMap::new();
    let mut flows: Vec<(String, String)> = Vec::new();
    let mut flow_extras: HashMap<(String, String), Vec<FlowExtra>> = HashMap::new();
    // What steps are beyond their task: timers (ms), waits for a message, for-eaches,
    // standard loops (their bound), and the timeouts boundary timers give.
    let mut timers: HashMap<String, u64> = HashMap::new();
    let mut receives: HashMap<String, String> = HashMap::new();
    let mut for_each: HashMap<String, String> = HashMap::new();
    // Call activities: the process each calls (a stored workflow's id or name).
    let mut calls: HashMap<String, String> = HashMap::new();
    let mut loops: HashMap<String, u32> = HashMap::new();
    let mut timeouts: HashMap<String, u64> = HashMap::new();
    let mut associations: Vec<(String, String)> = Vec::new();
    let mut pool_of: HashMap<String, String> = HashMap::new();
    let mut step_order: Vec<String> = Vec::new();
    // An event-based gateway is a step that waits: for the message of the one message
    // catch event after it, timed out by the one timer catch event after it (if any).
    let racing: HashSet<&str> = order
        .iter()
        .filter(|&&e| els[e].name == "eventBasedGateway")
        .filter_map(|&e| els[e].attr("id"))
        .collect();
    let mut raced: HashMap<String, String> = HashMap::new();
    for &e in order.iter().filter(|&&e| els[e].name == "sequenceFlow") {
        if let (Some(s), Some(t)) = (els[e].attr("sourceRef"), els[e].attr("targetRef")) {
            if racing.contains(s) {
                raced.insert(t.to_string(), s.to_string());
            }
        }
    }
    let mut race_message: HashMap<String, (String, String)> = HashMap::new();
    let mut race_timer: HashMap<String, u64> = HashMap::new();
    // A waiting gateway without a name is called what its message catch event is.
    let mut race_labels: HashMap<String, String> = HashMap::new();
    let mut name = None;
    for &process in order.iter().filter(|&&e| els[e].name == "process") {
        let process_id = id_of(process);
        let pool = pools.get(&process_id).cloned().unwrap_or_default();
        if name.is_none() {
            name = els[process]
                .attr("name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .or_else(|| (!pool.is_empty()).then(|| pool.clone()));
        }
        for &el in &els[process].children {
            let e = &els[el];
            let id = id_of(el);
            let kind = e.name.as_str();
            if IGNORED.contains(&kind) || kind == "outgoing" || kind == "lane" {
                continue;
            }
            if id.is_empty() {
                refuse(
                    &mut problems,
                    el,
                    td_string!(l, import.bpmn_no_id, element = kind),
                );
                continue;
            }
            let definition = e
                .children
                .iter()
                .map(|&c| els[c].name.as_str())
                .find(|n| n.ends_with("EventDefinition"));
            let message = e
                .children
                .iter()
                .find(|&&c| els[c].name == "messageEventDefinition")
                .and_then(|&c| message_name(els[c].attr("messageRef")));
            let message = message.or_else(|| {
                e.attr("name")
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
            });
            if let Some(gateway) = raced.get(&id) {
                let caught = match (kind, definition) {
                    ("intermediateCatchEvent", Some("messageEventDefinition"))
                        if !race_message.contains_key(gateway) =>
                    {
                        let label = e.attr("name").unwrap_or("").trim().to_string();
                        race_message.insert(
                            gateway.clone(),
                            (message.clone().unwrap_or_else(|| id.clone()), label),
                        );
                        Ok(false)
                    }
                    ("intermediateCatchEvent", Some("timerEventDefinition"))
                        if !race_timer.contains_key(gateway) =>
                    {
                        timer_ms(&els, el)
                            .map(|ms| {
                                race_timer.insert(gateway.clone(), ms);
                                true
                            })
                            .map_err(|why| {
                                td_string!(l, import.bpmn_timer, id = format!("{id:?}"), why = why)
                                    .to_string()
                            })
                    }
                    _ => Err(td_string!(
                        l,
                        import.bpmn_race,
                        gateway = format!("{gateway:?}"),
                        element = kind,
                        id = format!("{id:?}")
                    )
                    .to_string()),
                };
                match caught {
                    Ok(timeout) => {
                        pool_of.insert(id.clone(), pool.clone());
                        kinds.insert(id, (Kind::Raced { timeout }, el));
                    }
                    Err(why) => refuse(&mut problems, el, why),
                }
                continue;
            }
            let classified = match (kind, definition) {
                ("eventBasedGateway", _) => {
                    step_order.push(id.clone());
                    Kind::Step
                }
                ("callActivity", _) => match called_element(&els, el) {
                    Some(called) => {
                        calls.insert(id.clone(), called);
                        step_order.push(id.clone());
                        Kind::Step
                    }
                    None => {
                        refuse(
                            &mut problems,
                            el,
                            td_string!(l, import.bpmn_call_nothing, id = format!("{id:?}")),
                        );
                        continue;
                    }
                },
                (k, _) if TASKS.contains(&k) => {
                    if let Some(&repeat) = e.children.iter().find(|&&c| {
                        matches!(
                            els[c].name.as_str(),
                            "multiInstanceLoopCharacteristics" | "standardLoopCharacteristics"
                        )
                    }) {
                        match repetition(&els, repeat) {
                            Some(Repeat::ForEach(field)) => {
                                for_each.insert(id.clone(), field);
                            }
                            Some(Repeat::AtMost(max)) => {
                                loops.insert(id.clone(), max);
                            }
                            None => {
                                refuse(
                                    &mut problems,
                                    el,
                                    td_string!(
                                        l,
                                        import.bpmn_loop,
                                        element = kind,
                                        id = format!("{id:?}"),
                                        repeat = &els[repeat].name
                                    ),
                                );
                                continue;
                            }
                        }
                    }
                    if kind == "receiveTask" && e.attr("isForCompensation") != Some("true") {
                        let waits_for = message_name(e.attr("messageRef"))
                            .or_else(|| e.attr("name").map(|n| n.trim().to_string()))
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| id.clone());
                        receives.insert(id.clone(), waits_for);
                    }
                    if e.attr("isForCompensation") == Some("true") {
                        Kind::Handler
                    } else {
                        step_order.push(id.clone());
                        Kind::Step
                    }
                }
                ("startEvent", None)
                | ("intermediateThrowEvent", None | Some("messageEventDefinition")) => Kind::Pass,
                (
                    "endEvent",
                    None | Some("terminateEventDefinition" | "messageEventDefinition"),
                ) => Kind::End,
                ("intermediateCatchEvent", Some("timerEventDefinition")) => {
                    match timer_ms(&els, el) {
                        Ok(ms) => {
                            timers.insert(id.clone(), ms);
                            step_order.push(id.clone());
                            Kind::Step
                        }
                        Err(why) => {
                            refuse(
                                &mut problems,
                                el,
                                td_string!(l, import.bpmn_timer, id = format!("{id:?}"), why = why),
                            );
                            continue;
                        }
                    }
                }
                ("boundaryEvent", Some("timerEventDefinition")) => {
                    let attached = e.attr("attachedToRef").unwrap_or("").to_string();
                    let ms = if e.attr("cancelActivity") == Some("false") {
                        Err(td_string!(l, import.bpmn_timer_not_interrupting).to_string())
                    } else {
                        timer_ms(&els, el)
                    };
                    match ms {
                        Ok(ms) if !attached.is_empty() => {
                            timeouts.insert(attached.clone(), ms);
                            Kind::Boundary {
                                attached,
                                what: Boundary::Timer,
                            }
                        }
                        Ok(_) => {
                            refuse(
                                &mut problems,
                                el,
                                td_string!(
                                    l,
                                    import.bpmn_boundary_unattached,
                                    id = format!("{id:?}")
                                ),
                            );
                            continue;
                        }
                        Err(why) => {
                            refuse(
                                &mut problems,
                                el,
                                td_string!(l, import.bpmn_timer, id = format!("{id:?}"), why = why),
                            );
                            continue;
                        }
                    }
                }
                ("startEvent" | "intermediateCatchEvent", Some("messageEventDefinition")) => {
                    Kind::Catch {
                        message,
                        flows_in: false,
                    }
                }
                (
                    "boundaryEvent",
                    Some(
                        d @ ("errorEventDefinition"
                        | "messageEventDefinition"
                        | "compensateEventDefinition"),
                    ),
                ) => {
                    let Some(attached) = e.attr("attachedToRef") else {
                        refuse(
                            &mut problems,
                            el,
                            td_string!(l, import.bpmn_boundary_unattached, id = format!("{id:?}")),
                        );
                        continue;
                    };
                    Kind::Boundary {
                        attached: attached.to_string(),
                        what: match d {
                            "errorEventDefinition" => Boundary::Error,
                            "messageEventDefinition" => Boundary::Message(message),
                            _ => Boundary::Compensate,
                        },
                    }
                }
                ("parallelGateway", _) => Kind::Gateway,
                ("sequenceFlow", _) => {
                    let condition = e
                        .children
                        .iter()
                        .find(|&&c| els[c].name == "conditionExpression")
                        .map(|&c| match els[c].attr("language") {
                            // CEL already (what the export writes when FEEL has no words
                            // for it): checked as every condition is, when the workflow is.
                            Some(super::feel::CEL) => {
                                let chars = els[c].text.chars().count();
                                if chars > crate::model::validate::MAX_CONDITION_CHARS {
                                    Err(super::feel::Untranslatable::TooLong { chars })
                                } else {
                                    Ok(els[c].text.trim().to_string())
                                }
                            }
                            _ => super::feel::to_cel(&els[c].text),
                        });
                    if let Some(Err(why)) = &condition {
                        refuse(
                            &mut problems,
                            el,
                            td_string!(
                                l,
                                import.bpmn_condition,
                                id = format!("{id:?}"),
                                why = untranslatable_words(why, l)
                            ),
                        );
                        continue;
                    }
                    match (e.attr("sourceRef"), e.attr("targetRef")) {
                        (Some(s), Some(t)) => {
                            let ours = ours.as_deref().unwrap_or("hybridflow");
                            let details = e.attr(&format!("{ours}:details")).map(|_| el);
                            // One entry per flow, in the order `next` lists them.
                            flow_extras
                                .entry((s.to_string(), t.to_string()))
                                .or_default()
                                .push(FlowExtra {
                                    details,
                                    condition: condition.and_then(Result::ok),
                                });
                            flows.push((s.to_string(), t.to_string()))
                        }
                        _ => refuse(
                            &mut problems,
                            el,
                            td_string!(l, import.bpmn_flow_ends, id = format!("{id:?}")),
                        ),
                    }
                    continue;
                }
                ("association", _) => {
                    if let (Some(s), Some(t)) = (e.attr("sourceRef"), e.attr("targetRef")) {
                        associations.push((s.to_string(), t.to_string()));
                    }
                    continue;
                }
                ("exclusiveGateway" | "inclusiveGateway", _) => Kind::Choice {
                    inclusive: kind == "inclusiveGateway",
                },
                ("complexGateway", _) => {
                    refuse(
                        &mut problems,
                        el,
                        td_string!(
                            l,
                            import.bpmn_choice,
                            element = kind,
                            id = format!("{id:?}")
                        ),
                    );
                    continue;
                }
                ("subProcess" | "transaction" | "adHocSubProcess", _) => {
                    refuse(
                        &mut problems,
                        el,
                        td_string!(
                            l,
                            import.bpmn_subprocess,
                            element = kind,
                            id = format!("{id:?}")
                        ),
                    );
                    continue;
                }
                (k, Some(d)) if k.ends_with("Event") => {
                    refuse(
                        &mut problems,
                        el,
                        td_string!(
                            l,
                            import.bpmn_event_definition,
                            element = k,
                            id = format!("{id:?}"),
                            definition = d
                        ),
                    );
                    continue;
                }
                (k, _) => {
                    refuse(
                        &mut problems,
                        el,
                        td_string!(l, import.bpmn_element, element = k, id = format!("{id:?}")),
                    );
                    continue;
                }
            };
            pool_of.insert(id.clone(), pool.clone());
            kinds.insert(id, (classified, el));
        }
    }
    for &gateway in &racing {
        match race_message.remove(gateway) {
            Some((message, label)) => {
                receives.insert(gateway.to_string(), message);
                if let Some(ms) = race_timer.get(gateway) {
                    timeouts.insert(gateway.to_string(), *ms);
                }
                if !label.is_empty() {
                    race_labels.insert(gateway.to_string(), label);
                }
            }
            None => {
                if let Some(&el) = order.iter().find(|&&e| els[e].attr("id") == Some(gateway)) {
                    refuse(
                        &mut problems,
                        el,
                        td_string!(l, import.bpmn_race_no_message, id = format!("{gateway:?}")),
                    );
                }
            }
        }
    }
    // Every refused element's id: an element nested in a refused one is refused once, in
    // time linear in the document (a scan of the problems for each was quadratic).
    let mut refused_ids: HashSet<String> = problems.iter().filter_map(|p| p.node.clone()).collect();
    for &e in order.iter().filter(|&&e| {
        matches!(els[e].name.as_str(), "subProcess" | "callActivity")
            && !kinds.contains_key(&id_of(e))
    }) {
        // Nested in something already refused or outside a process: refused once.
        if refused_ids.insert(id_of(e)) {
            refuse(
                &mut problems,
                e,
                td_string!(
                    l,
                    import.bpmn_nested,
                    element = &els[e].name,
                    id = format!("{:?}", id_of(e))
                ),
            );
        }
    }

    let mut next: HashMap<String, Vec<String>> = HashMap::new();
    let mut previous: HashMap<String, Vec<String>> = HashMap::new();
    for (s, t) in &flows {
        next.entry(s.clone()).or_default().push(t.clone());
        previous.entry(t.clone()).or_default().push(s.clone());
    }
    let message_flows: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&e| els[e].name == "messageFlow")
        .collect();
    for &mf in &message_flows {
        if let Some(t) = els[mf].attr("targetRef") {
            if let Some((Kind::Catch { flows_in, .. }, _)) = kinds.get_mut(t) {
                // Waits for the message and for what comes before it: both.
                *flows_in = previous.contains_key(t);
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Unsupported(capped(problems, l)));
    }

    let mut model = Model {
        lines: &lines,
        els: &els,
        ours: ours.unwrap_or_else(|| "hybridflow".into()),
        kinds,
        next,
        flow_extras,
        previous,
        walked: 0,
        branches: 0,
    };
    let mut budget = Budget::new(l);
    let mut nodes: Vec<Node> = Vec::new();
    let mut node_id: HashMap<String, String> = HashMap::new();
    let mut placed = 0usize;
    for id in &step_order {
        let el = model.kinds[id].1;
        budget.node(&model.line(el))?;
        let e = &els[el];
        let label = e
            .attr("name")
            .or(race_labels.get(id).map(String::as_str))
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.clone());
        let service = model
            .ext(el, "service")
            .map(str::to_string)
            .or_else(|| lanes.get(id).cloned())
            .or_else(|| pool_of.get(id).cloned().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| label.clone());
        let action = model
            .ext(el, "action")
            .map(str::to_string)
            .unwrap_or_else(|| label.clone());
        let real = model.ext(el, "id").unwrap_or(id).to_string();
        let mut node = Node {
            id: real.clone(),
            label,
            service,
            action,
            position: shapes.get(id).copied().unwrap_or_default(),
            ..Default::default()
        };
        placed += usize::from(shapes.contains_key(id));
        if model.ext(el, "details").is_some() {
            node = model.read_details(el, &real, l, |d| node.with_details(d))?;
        }
        if let Some(&ms) = timers.get(id) {
            let mut wait = node.wait.take().unwrap_or_default();
            wait.for_ms = Some(ms);
            node.wait = Some(wait);
        }
        if let Some(message) = receives.get(id) {
            // The wait its details describe (a file Hybridflow wrote), if any, is kept.
            let mut wait = node.wait.take().unwrap_or_default();
            wait.message = Some(message.clone());
            if let Some(&ms) = timeouts.get(id) {
                wait.timeout_ms = Some(ms);
            }
            node.wait = Some(wait);
        } else if let Some(&ms) = timeouts.get(id) {
            node.timeout_ms = Some(ms);
        }
        if let Some(called) = calls.get(id) {
            node.sub_flow = Some(called.clone());
        }
        if let Some(field) = for_each.get(id) {
            node.for_each = Some(field.clone());
        }
        node_id.insert(id.clone(), real);
        nodes.push(node);
    }
    if nodes.is_empty() {
        return Err(refused(
            l,
            input,
            els[definitions].at,
            "process",
            td_string!(l, import.bpmn_no_tasks).to_string(),
        ));
    }

    // Routes out of each step, and out of its boundary events.
    let mut boundaries: HashMap<String, Vec<(String, Boundary)>> = HashMap::new();
    for (id, (kind, _)) in &model.kinds {
        if let Kind::Boundary { attached, what } = kind {
            boundaries
                .entry(attached.clone())
                .or_default()
                .push((id.clone(), what.clone()));
        }
    }
    // Each flow leaving a step (or a boundary event, or each message flow) is one batch:
    // paths of one batch that reach the same step through gateways are one edge, two
    // flows drawn between the same tasks are two.
    let mut routes: Vec<(usize, String, String, Route)> = Vec::new();
    let mut batch = 0usize;
    let mut compensation: HashMap<String, String> = HashMap::new();
    for id in &step_order {
        let mut reached = Vec::new();
        let start = Route {
            kind: EdgeKind::Command,
            on: Outcome::Success,
            event: None,
            join: false,
            details: None,
            condition: None,
            inclusive: false,
            branch: 0,
        };
        for (target, nth) in model.targets(id) {
            batch += 1;
            let mut found = Vec::new();
            let start = model.along(id, &target, nth, start.clone());
            model.follow(&[target], start, &mut found)?;
            reached.extend(found.into_iter().map(|(to, route)| (batch, to, route)));
        }
        let mut attached = boundaries.get(id).cloned().unwrap_or_default();
        attached.sort_by(|a, b| a.0.cmp(&b.0));
        for (boundary, what) in attached {
            let route = match what {
                Boundary::Error | Boundary::Timer => Route {
                    kind: EdgeKind::Command,
                    on: Outcome::Failure,
                    event: None,
                    join: false,
                    details: None,
                    condition: None,
                    inclusive: false,
                    branch: 0,
                },
                Boundary::Message(message) => Route {
                    kind: EdgeKind::Event,
                    on: Outcome::Success,
                    event: message,
                    join: false,
                    details: None,
                    condition: None,
                    inclusive: false,
                    branch: 0,
                },
                Boundary::Compensate => {
                    for (_, handler) in associations.iter().filter(|(s, _)| *s == boundary) {
                        if let Some((Kind::Handler, el)) = model.kinds.get(handler) {
                            let action = model
                                .ext(*el, "action")
                                .or(els[*el]
                                    .attr("name")
                                    .map(str::trim)
                                    .filter(|n| !n.is_empty()))
                                .unwrap_or(handler)
                                .to_string();
                            compensation.insert(id.clone(), action);
                        }
                    }
                    continue;
                }
            };
            for (target, nth) in model.targets(&boundary) {
                batch += 1;
                let mut found = Vec::new();
                let route = model.along(&boundary, &target, nth, route.clone());
                model.follow(&[target], route, &mut found)?;
                reached.extend(found.into_iter().map(|(to, route)| (batch, to, route)));
            }
        }
        for (batch, to, route) in reached {
            routes.push((batch, id.clone(), to, route));
        }
    }
    // Events made by pairing message flows' senders with their receivers, over the whole
    // import: charged before they are made.
    let mut paired = 0usize;
    for &mf in &message_flows {
        let e = &els[mf];
        let (Some(source), Some(target)) = (e.attr("sourceRef"), e.attr("targetRef")) else {
            return Err(ImportError::Unsupported(vec![problem(
                model.line(mf),
                "messageFlow",
                td_string!(l, import.bpmn_message_ends, id = format!("{:?}", id_of(mf))),
            )]));
        };
        // Named by the flow's message, else the catch event's, else the flow's name.
        let caught = match model.kinds.get(target) {
            Some((Kind::Catch { message, .. }, _)) => message.clone(),
            _ => None,
        };
        let event = message_name(e.attr("messageRef")).or(caught).or_else(|| {
            e.attr("name")
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        });
        let senders = model.senders(source)?;
        let mut receivers = Vec::new();
        match model.kinds.get(target).map(|(k, _)| k.clone()) {
            Some(Kind::Step) => receivers.push((
                target.to_string(),
                Route {
                    kind: EdgeKind::Event,
                    on: Outcome::Success,
                    event: None,
                    join: false,
                    details: None,
                    condition: None,
                    inclusive: false,
                    branch: 0,
                },
            )),
            Some(Kind::Catch { .. }) => {
                let out = model.next.get(target).cloned().unwrap_or_default();
                let route = Route {
                    kind: EdgeKind::Event,
                    on: Outcome::Success,
                    event: None,
                    join: false,
                    details: None,
                    condition: None,
                    inclusive: false,
                    branch: 0,
                };
                model.follow(&out, route, &mut receivers)?;
            }
            _ if black_boxes.contains(target) => {}
            _ => {
                return Err(ImportError::Unsupported(vec![problem(
                    model.line(mf),
                    "messageFlow",
                    td_string!(
                        l,
                        import.bpmn_message_target,
                        id = format!("{:?}", id_of(mf)),
                        target = format!("{target:?}")
                    ),
                )]));
            }
        }
        if senders.is_empty()
            && !black_boxes.contains(source)
            && !matches!(model.kinds.get(target), Some((Kind::Catch { .. }, _)))
        {
            return Err(ImportError::Unsupported(vec![problem(
                model.line(mf),
                "messageFlow",
                td_string!(
                    l,
                    import.bpmn_message_source,
                    id = format!("{:?}", id_of(mf)),
                    source = format!("{source:?}")
                ),
            )]));
        }
        // A step reached by several paths is one receiver.
        let mut reached = HashSet::new();
        receivers.retain(|(to, _)| reached.insert(to.clone()));
        // Every sender with every receiver: charged before a single one is made (two long
        // fan-ins joined by a message flow would otherwise pair thousands with thousands).
        let pairs = senders.len().saturating_mul(receivers.len());
        paired = paired.saturating_add(pairs);
        if paired > MAX_EDGES {
            return Err(ImportError::Unsupported(vec![problem(
                model.line(mf),
                "messageFlow",
                td_string!(
                    l,
                    import.bpmn_message_pairs,
                    id = format!("{:?}", id_of(mf)),
                    senders = senders.len(),
                    receivers = receivers.len(),
                    pairs = pairs,
                    limit = MAX_EDGES
                ),
            )]));
        }
        batch += 1;
        for from in &senders {
            for (to, route) in &receivers {
                routes.push((
                    batch,
                    from.clone(),
                    to.clone(),
                    Route {
                        event: event.clone(),
                        ..route.clone()
                    },
                ));
            }
        }
    }

    let mut edges: Vec<Edge> = Vec::new();
    let mut seen = HashSet::new();
    let mut inclusive: HashSet<String> = HashSet::new();
    let mut joins: HashSet<String> = HashSet::new();
    for (batch, from, to, route) in routes {
        let (Some(from), Some(to)) = (node_id.get(&from), node_id.get(&to)) else {
            continue;
        };
        if route.join {
            joins.insert(to.clone());
        }
        if route.inclusive {
            inclusive.insert(from.clone());
        }
        if seen.insert((
            batch,
            from.clone(),
            to.clone(),
            route.kind,
            route.on,
            route.event.clone(),
            route.condition.clone(),
            route.branch,
        )) {
            budget.edges(1, "messageFlow").map_err(ImportError::from)?;
            let mut made = edge(from, to, route.kind, route.on, route.event);
            made.condition = route.condition;
            if let Some(flow) = route.details {
                made = model.read_details(flow, &id_of(flow), l, |d| made.with_details(d))?;
            }
            edges.push(made);
        }
    }
    for node in &mut nodes {
        if joins.contains(&node.id) {
            node.join = Some(Join::All);
        }
        if inclusive.contains(&node.id) {
            node.decide = Some(crate::model::workflow::Decide::Inclusive);
        }
    }
    // A standard loop: the task again, at most its loopMaximum times in all.
    for (element, max) in &loops {
        if let Some(id) = node_id.get(element) {
            budget
                .edges(1, "standardLoopCharacteristics")
                .map_err(ImportError::from)?;
            let mut again = edge(id, id, EdgeKind::Command, Outcome::Success, None);
            again.max_iterations = Some(max.saturating_sub(1).max(1));
            edges.push(again);
        }
    }
    // `nodes` are in `step_order`'s order.
    for (node, element) in nodes.iter_mut().zip(&step_order) {
        if let Some(action) = compensation.get(element) {
            node.compensation = Some(action.clone());
        }
    }
    let name = name.unwrap_or_else(|| {
        els[definitions]
            .attr("name")
            .map(str::to_string)
            .unwrap_or_else(|| "Imported BPMN".into())
    });
    let placed = placed == nodes.len();
    Ok(assemble(name, nodes, edges, placed))
}

/// What a sequence flow carries beyond its ends.
#[derive(Clone, Debug, Default)]
struct FlowExtra {
    /// Its element, when it has `hybridflow:details`.
    details: Option<usize>,
    /// Its condition, in CEL.
    condition: Option<String>,
}

/// How a task repeats: for each item of a collection (multi-instance), or at most so many
/// times (a standard loop with `loopMaximum`).
enum Repeat {
    ForEach(String),
    AtMost(u32),
}

/// The run data field a BPMN collection names: `${items}`, `=order.items`, `items` → its
/// last part.
fn collection_field(text: &str) -> Option<String> {
    let inner = text
        .trim()
        .trim_start_matches("${")
        .trim_start_matches("#{")
        .trim_start_matches('=')
        .trim_end_matches('}')
        .trim();
    let field = inner.rsplit('.').next().unwrap_or(inner);
    crate::model::validate::is_field_name(field).then(|| field.to_string())
}

/// What a loop characteristics element says: a multi-instance's collection (Camunda 7's
/// `camunda:collection`, Camunda 8's `zeebe:loopCharacteristics inputCollection`, or BPMN's
/// `loopDataInputRef`), or a standard loop's `loopMaximum` (2 to the loop limit + 1).
/// `None`: nothing Hybridflow can run.
fn repetition(els: &[El], at: usize) -> Option<Repeat> {
    let e = &els[at];
    if e.name == "standardLoopCharacteristics" {
        let max: u32 = e.attr("loopMaximum")?.trim().parse().ok()?;
        let has_condition = e.children.iter().any(|&c| els[c].name == "loopCondition");
        return (!has_condition
            && (2..=crate::model::validate::MAX_LOOP_ITERATIONS + 1).contains(&max))
        .then_some(Repeat::AtMost(max));
    }
    let attribute = e
        .attrs
        .iter()
        .find(|(k, _)| k.ends_with(":collection"))
        .map(|(_, v)| v.clone());
    let zeebe = || {
        e.children
            .iter()
            .flat_map(|&c| els[c].children.iter().copied().chain([c]))
            .find_map(|c| els[c].attr("inputCollection").map(str::to_string))
    };
    let input_ref = || {
        e.children
            .iter()
            .find(|&&c| els[c].name == "loopDataInputRef")
            .map(|&c| els[c].text.clone())
    };
    attribute
        .or_else(zeebe)
        .or_else(input_ref)
        .and_then(|t| collection_field(&t))
        .map(Repeat::ForEach)
}

/// A timer event's duration (`<timeDuration>PT5S</timeDuration>`, ISO 8601) in ms, or why
/// not (a date, a cycle, a duration it cannot read or over the simulated limit).
fn timer_ms(els: &[El], at: usize) -> Result<u64, String> {
    let definition = els[at]
        .children
        .iter()
        .copied()
        .find(|&c| els[c].name == "timerEventDefinition")
        .ok_or_else(|| "no timerEventDefinition".to_string())?;
    let child = els[definition].children.first().copied();
    match child.map(|c| (els[c].name.as_str(), els[c].text.trim())) {
        Some(("timeDuration", text)) => iso_duration_ms(text)
            .filter(|&ms| ms <= crate::model::validate::MAX_SIMULATED_MS)
            .ok_or_else(|| format!("the duration {text:?} is not an ISO 8601 duration of at most an hour (PT30S, PT5M)")),
        Some((other, _)) => Err(format!("{other} is not simulated: give a timeDuration (PT30S)")),
        None => Err("the timer has no timeDuration".to_string()),
    }
}

/// `PT1M30S`, `PT0.5S`, `P1DT2H`: in milliseconds.
fn iso_duration_ms(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut ms: f64 = 0.0;
    if !days.is_empty() {
        ms += days.strip_suffix('D')?.parse::<f64>().ok()? * 86_400_000.0;
    }
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' | 'M' | 'S' => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                ms += n * match c {
                    'H' => 3_600_000.0,
                    'M' => 60_000.0,
                    _ => 1_000.0,
                };
            }
            _ => return None,
        }
    }
    (number.is_empty() && (days.len() + time.len()) > 0 && ms.is_finite())
        .then(|| ms.round() as u64)
}

/// Why a condition could not be translated, in `l`'s words.
fn untranslatable_words(why: &super::feel::Untranslatable, l: Locale) -> String {
    use super::feel::Untranslatable::*;
    match why {
        TooLong { chars } => td_string!(
            l,
            import.feel_too_long,
            chars = chars,
            limit = crate::model::validate::MAX_CONDITION_CHARS
        )
        .to_string(),
        Word(word) => td_string!(l, import.feel_word, word = format!("{word:?}")).to_string(),
        Unclosed => td_string!(l, import.feel_unclosed).to_string(),
        Empty => td_string!(l, import.feel_empty).to_string(),
    }
}
