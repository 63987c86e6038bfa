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
//! - positions come from the diagram (DI) when every step has a shape.
//!
//! Refused, each by id: exclusive, inclusive, event-based and complex gateways,
//! conditional flows, sub-processes and call activities, loop and multi-instance tasks,
//! timer, signal, escalation, conditional and error end events, and any element
//! BPMN defines that is not listed here.

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
    reader.config_mut().trim_text(true);
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
}

#[derive(Clone, Debug)]
enum Boundary {
    Error,
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
}

struct Model<'a> {
    lines: &'a Lines,
    els: &'a [El],
    ours: String,
    kinds: HashMap<String, (Kind, usize)>,
    next: HashMap<String, Vec<String>>,
    /// Sequence flows (by their two ends) that carry `hybridflow:details`: their element.
    flow_details: HashMap<(String, String), usize>,
    previous: HashMap<String, Vec<String>>,
    walked: usize,
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
        let mut seen: HashSet<String> = HashSet::new();
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
                Kind::Catch { message, flows_in } => {
                    if flows_in {
                        route.join = true;
                    } else {
                        route.kind = EdgeKind::Event;
                        route.event = message.or(route.event);
                    }
                }
            }
            if !seen.insert(at.clone()) {
                continue;
            }
            for n in self.next.get(&at).cloned().unwrap_or_default() {
                let mut route = route.clone();
                if let Some(&flow) = self.flow_details.get(&(at.clone(), n.clone())) {
                    route.details = Some(flow);
                }
                stack.push((n, route));
            }
        }
        Ok(())
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
    let mut flow_details: HashMap<(String, String), usize> = HashMap::new();
    let mut associations: Vec<(String, String)> = Vec::new();
    let mut pool_of: HashMap<String, String> = HashMap::new();
    let mut step_order: Vec<String> = Vec::new();
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
            let classified = match (kind, definition) {
                (k, _) if TASKS.contains(&k) => {
                    if let Some(&repeat) = e.children.iter().find(|&&c| {
                        matches!(
                            els[c].name.as_str(),
                            "multiInstanceLoopCharacteristics" | "standardLoopCharacteristics"
                        )
                    }) {
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
                    if e.children
                        .iter()
                        .any(|&c| els[c].name == "conditionExpression")
                    {
                        refuse(
                            &mut problems,
                            el,
                            td_string!(l, import.bpmn_condition, id = format!("{id:?}")),
                        );
                        continue;
                    }
                    match (e.attr("sourceRef"), e.attr("targetRef")) {
                        (Some(s), Some(t)) => {
                            let ours = ours.as_deref().unwrap_or("hybridflow");
                            if e.attr(&format!("{ours}:details")).is_some() {
                                flow_details.insert((s.to_string(), t.to_string()), el);
                            }
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
                (
                    "exclusiveGateway" | "inclusiveGateway" | "complexGateway"
                    | "eventBasedGateway",
                    _,
                ) => {
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
                ("subProcess" | "callActivity" | "transaction" | "adHocSubProcess", _) => {
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
        flow_details,
        previous,
        walked: 0,
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
        if let Some(details) = model.ext(el, "details") {
            let refused = |message: String| {
                ImportError::Unsupported(vec![problem(model.line(el), "details", message)])
            };
            let Ok(Value::Object(details)) = serde_json::from_str::<Value>(details) else {
                return Err(refused(td_string!(
                    l,
                    import.bpmn_details_not_object,
                    id = format!("{real:?}")
                )));
            };
            node = node.with_details(details).map_err(|e| {
                refused(td_string!(
                    l,
                    import.bpmn_details_error,
                    id = format!("{real:?}"),
                    error = e
                ))
            })?;
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
        };
        for target in model.next.get(id).cloned().unwrap_or_default() {
            batch += 1;
            let mut found = Vec::new();
            let start = Route {
                details: model
                    .flow_details
                    .get(&(id.clone(), target.clone()))
                    .copied(),
                ..start.clone()
            };
            model.follow(&[target], start, &mut found)?;
            reached.extend(found.into_iter().map(|(to, route)| (batch, to, route)));
        }
        let mut attached = boundaries.get(id).cloned().unwrap_or_default();
        attached.sort_by(|a, b| a.0.cmp(&b.0));
        for (boundary, what) in attached {
            let route = match what {
                Boundary::Error => Route {
                    kind: EdgeKind::Command,
                    on: Outcome::Failure,
                    event: None,
                    join: false,
                    details: None,
                },
                Boundary::Message(message) => Route {
                    kind: EdgeKind::Event,
                    on: Outcome::Success,
                    event: message,
                    join: false,
                    details: None,
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
            for target in model.next.get(&boundary).cloned().unwrap_or_default() {
                batch += 1;
                let mut found = Vec::new();
                let route = Route {
                    details: model
                        .flow_details
                        .get(&(boundary.clone(), target.clone()))
                        .copied(),
                    ..route.clone()
                };
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
    let mut joins: HashSet<String> = HashSet::new();
    for (batch, from, to, route) in routes {
        let (Some(from), Some(to)) = (node_id.get(&from), node_id.get(&to)) else {
            continue;
        };
        if route.join {
            joins.insert(to.clone());
        }
        if seen.insert((
            batch,
            from.clone(),
            to.clone(),
            route.kind,
            route.on,
            route.event.clone(),
        )) {
            budget.edges(1, "messageFlow").map_err(ImportError::from)?;
            let mut made = edge(from, to, route.kind, route.on, route.event);
            if let Some(flow) = route.details {
                let id = id_of(flow);
                let refused = |message: String| {
                    ImportError::Unsupported(vec![problem(model.line(flow), "details", message)])
                };
                let details = model.ext(flow, "details").unwrap_or("{}");
                let Ok(Value::Object(details)) = serde_json::from_str::<Value>(details) else {
                    return Err(refused(td_string!(
                        l,
                        import.bpmn_details_not_object,
                        id = format!("{id:?}")
                    )));
                };
                made = made.with_details(details).map_err(|e| {
                    refused(td_string!(
                        l,
                        import.bpmn_details_error,
                        id = format!("{id:?}"),
                        error = e
                    ))
                })?;
            }
            edges.push(made);
        }
    }
    for node in &mut nodes {
        if joins.contains(&node.id) {
            node.join = Some(Join::All);
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
