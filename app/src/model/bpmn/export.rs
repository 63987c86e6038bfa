//! A workflow as BPMN 2.0 XML with its diagram, for Camunda Modeler and bpmn.io.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::{BPMN_MODEL, NAMESPACE};
use crate::model::workflow::{Decide, EdgeKind, Join, Node, Outcome, Workflow};

/// A task's size in the diagram (bpmn.io's default).
const TASK: (f64, f64) = (100.0, 80.0);
/// An event's diameter.
const EVENT: f64 = 36.0;
/// A gateway's side.
const GATEWAY: f64 = 50.0;

/// XML text in an attribute.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `s` may be an XML id (an NCName): a letter or `_`, then letters, digits,
/// `-`, `_`, `.`.
pub fn is_xml_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// XML ids, unique in the document.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    /// The number [`Ids::fresh`] would give `base` next.
    fn peek(&self, base: &str) -> usize {
        (1usize..)
            .find(|n| !self.used.contains(&format!("{base}_{n}")))
            .unwrap_or(1)
    }

    fn fresh(&mut self, base: &str) -> String {
        let mut n = 1usize;
        loop {
            let id = format!("{base}_{n}");
            if self.used.insert(id.clone()) {
                return id;
            }
            n += 1;
        }
    }
}

/// A shape of the diagram: element id, bounds.
struct Shape {
    element: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The diagram's shapes, found by element id.
#[derive(Default)]
struct Shapes {
    all: Vec<Shape>,
    at: HashMap<String, usize>,
}

impl Shapes {
    fn push(&mut self, shape: Shape) {
        self.at.insert(shape.element.clone(), self.all.len());
        self.all.push(shape);
    }

    fn get(&self, element: &str) -> Option<&Shape> {
        self.at.get(element).map(|&i| &self.all[i])
    }
}

impl Shape {
    fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
}

/// The Hybridflow attributes of a step: its real id when it is not an XML id, its
/// service and action, and its behaviour (JSON) when it has any.
fn step_attributes(node: &Node, xml_id: &str) -> String {
    let mut out = String::new();
    if xml_id != node.id {
        let _ = write!(out, " hybridflow:id=\"{}\"", attr(&node.id));
    }
    let _ = write!(
        out,
        " hybridflow:service=\"{}\" hybridflow:action=\"{}\"",
        attr(&node.service),
        attr(&node.action)
    );
    // The position is the diagram's, the compensation its boundary event's, the sub-flow its
    // call activity's.
    let mut details = node.details();
    details.remove("position");
    details.remove("compensation");
    details.remove("sub_flow");
    if !details.is_empty() {
        let _ = write!(
            out,
            " hybridflow:details=\"{}\"",
            attr(&Value::Object(details).to_string())
        );
    }
    out
}

/// The workflow as a BPMN 2.0 document: one process named after it, a diagram laid out
/// from the steps' positions.
pub fn to_bpmn(workflow: &Workflow) -> String {
    let mut ids = Ids::default();
    // Steps keep their ids where XML allows; the others get `Step_<n>`.
    let mut task_id: HashMap<&str, String> = HashMap::new();
    for node in &workflow.nodes {
        if is_xml_id(&node.id) && ids.used.insert(node.id.clone()) {
            task_id.insert(&node.id, node.id.clone());
        }
    }
    for node in &workflow.nodes {
        if !task_id.contains_key(node.id.as_str()) {
            let id = ids.fresh("Step");
            task_id.insert(&node.id, id);
        }
    }
    let process = ids.fresh("Process");
    let position: HashMap<&str, (f64, f64)> = workflow
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), (n.position.x, n.position.y)))
        .collect();
    // One message per event name, in order of first use.
    let mut messages: BTreeMap<String, String> = BTreeMap::new();
    let mut message_order: Vec<String> = Vec::new();
    for e in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
        let name = workflow.event_name(e);
        if !messages.contains_key(&name) {
            let id = ids.fresh("Message");
            messages.insert(name.clone(), id);
            message_order.push(name);
        }
    }

    // …then one per message a step waits for (after the events', whose ids stay).
    for name in workflow
        .nodes
        .iter()
        .filter_map(|n| n.wait.as_ref().and_then(|w| w.message.clone()))
    {
        if !messages.contains_key(&name) {
            let id = ids.fresh("Message");
            messages.insert(name.clone(), id);
            message_order.push(name);
        }
    }

    let mut elements = String::new();
    let mut flows = String::new();
    let mut shapes = Shapes::default();
    let mut edges_di = String::new();

    // Which steps are BPMN's own elements: a timer (an intermediate timer catch event, when
    // nothing attaches to it), a standard loop (a step's one unconditional command back to
    // itself), a deciding step (an exclusive or inclusive gateway after it).
    let failing: HashSet<&str> = workflow
        .edges
        .iter()
        .filter(|e| e.on == Outcome::Failure)
        .map(|e| e.from.as_str())
        .collect();
    let is_timer = |node: &Node| {
        node.wait
            .as_ref()
            .is_some_and(|w| w.for_ms.is_some() && w.message.is_none())
            && node.sub_flow.is_none()
            && node.for_each.is_none()
            && node.compensation.is_none()
            && !failing.contains(node.id.as_str())
    };
    // A wait for a message with a timeout and a route for when it times out: an
    // event-based gateway racing the message against a timer, each leading its own way.
    let is_race = |node: &Node| {
        node.wait
            .as_ref()
            .is_some_and(|w| w.message.is_some() && w.timeout_ms.is_some())
            && node.sub_flow.is_none()
            && node.for_each.is_none()
            && node.compensation.is_none()
            && failing.contains(node.id.as_str())
    };
    // A raced step's message catch event, its success routes' source.
    let mut received: HashMap<&str, String> = HashMap::new();
    let mut error_boundary: HashMap<&str, String> = HashMap::new();
    let deciding: HashSet<&str> = workflow
        .nodes
        .iter()
        .filter(|n| {
            let out: Vec<_> = workflow
                .edges
                .iter()
                .filter(|e| e.from == n.id && e.on == Outcome::Success)
                .collect();
            out.iter().any(|e| e.condition.is_some())
                || (n.decide == Some(Decide::Inclusive) && out.len() > 1)
        })
        .map(|n| n.id.as_str())
        .collect();
    let mut standard_loop: HashMap<&str, (usize, u32)> = HashMap::new();
    for (k, e) in workflow.edges.iter().enumerate() {
        if let (true, Some(max)) = (
            e.from == e.to
                && e.kind == EdgeKind::Command
                && e.on == Outcome::Success
                && e.condition.is_none()
                && !deciding.contains(e.from.as_str()),
            e.max_iterations,
        ) {
            let node = workflow.nodes.iter().find(|n| n.id == e.from);
            if node.is_some_and(|n| n.for_each.is_none() && !is_timer(n) && !is_race(n)) {
                standard_loop.entry(&e.from).or_insert((k, max));
            }
        }
    }

    for node in &workflow.nodes {
        let id = &task_id[node.id.as_str()];
        let (x, y) = position[node.id.as_str()];
        let attributes = step_attributes(node, id);
        if is_race(node) {
            let wait = node.wait.clone().unwrap_or_default();
            let message = wait.message.unwrap_or_default();
            let (caught, timed_out) = (ids.fresh("Received"), ids.fresh("TimedOut"));
            let _ = writeln!(
                elements,
                "    <bpmn:eventBasedGateway id=\"{id}\" name=\"{}\"{attributes} />\n    <bpmn:intermediateCatchEvent id=\"{caught}\" name=\"{}\">\n      <bpmn:messageEventDefinition messageRef=\"{}\" />\n    </bpmn:intermediateCatchEvent>\n    <bpmn:intermediateCatchEvent id=\"{timed_out}\" name=\"timed out\">\n      <bpmn:timerEventDefinition>\n        <bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:intermediateCatchEvent>",
                attr(&node.label),
                attr(&message),
                messages[message.as_str()],
                iso_duration(wait.timeout_ms.unwrap_or_default())
            );
            for (element, dx, dy, w) in [
                (id.clone(), 0.0, 0.0, GATEWAY),
                (caught.clone(), GATEWAY + 50.0, -40.0, EVENT),
                (timed_out.clone(), GATEWAY + 50.0, GATEWAY + 4.0, EVENT),
            ] {
                shapes.push(Shape {
                    element,
                    x: x + dx,
                    y: y + dy,
                    w,
                    h: w,
                });
            }
            for to in [&caught, &timed_out] {
                let flow = ids.fresh("Flow");
                let _ = writeln!(
                    flows,
                    "    <bpmn:sequenceFlow id=\"{flow}\" sourceRef=\"{id}\" targetRef=\"{to}\" />"
                );
                edges_di.push_str(&edge_di(&flow, &shapes, id, to));
            }
            received.insert(&node.id, caught);
            error_boundary.insert(&node.id, timed_out);
            continue;
        }
        if is_timer(node) {
            let ms = node
                .wait
                .as_ref()
                .and_then(|w| w.for_ms)
                .unwrap_or_default();
            let _ = writeln!(
                elements,
                "    <bpmn:intermediateCatchEvent id=\"{id}\" name=\"{}\"{attributes}>\n      <bpmn:timerEventDefinition>\n        <bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:intermediateCatchEvent>",
                attr(&node.label),
                iso_duration(ms)
            );
            shapes.push(Shape {
                element: id.clone(),
                x,
                y,
                w: EVENT,
                h: EVENT,
            });
            continue;
        }
        // BPMN's own element where it has one: a call activity runs the workflow a
        // sub-flow names, a receive task waits for its message; a for-each is a
        // multi-instance task over its list, a loop back to itself a standard loop.
        let waits_for = node.wait.as_ref().and_then(|w| w.message.as_ref());
        let (element, extra) = match (&node.sub_flow, waits_for) {
            (Some(called), _) => (
                "callActivity",
                format!(" calledElement=\"{}\"", attr(called)),
            ),
            (None, Some(message)) => (
                "receiveTask",
                format!(" messageRef=\"{}\"", messages[message.as_str()]),
            ),
            (None, None) => ("serviceTask", String::new()),
        };
        let repeat = match (&node.for_each, standard_loop.get(node.id.as_str())) {
            (Some(field), _) => Some(format!(
                "      <bpmn:multiInstanceLoopCharacteristics camunda:collection=\"${{{}}}\" />",
                attr(field)
            )),
            (None, Some((_, max))) => Some(format!(
                "      <bpmn:standardLoopCharacteristics loopMaximum=\"{}\" />",
                max.saturating_add(1)
            )),
            (None, None) => None,
        };
        match repeat {
            Some(repeat) => {
                let _ = writeln!(
                    elements,
                    "    <bpmn:{element} id=\"{id}\" name=\"{}\"{extra}{attributes}>\n{repeat}\n    </bpmn:{element}>",
                    attr(&node.label),
                );
            }
            None => {
                let _ = writeln!(
                    elements,
                    "    <bpmn:{element} id=\"{id}\" name=\"{}\"{extra}{attributes} />",
                    attr(&node.label),
                );
            }
        }
        shapes.push(Shape {
            element: id.clone(),
            x,
            y,
            w: TASK.0,
            h: TASK.1,
        });
    }

    // A step reached by more than one route with `join: all` waits at a parallel gateway.
    let mut incoming: HashMap<&str, usize> = HashMap::new();
    for e in &workflow.edges {
        *incoming.entry(e.to.as_str()).or_default() += 1;
    }
    let mut join_gateway: HashMap<&str, String> = HashMap::new();
    for node in &workflow.nodes {
        if node.join == Some(Join::All) && incoming.get(node.id.as_str()).copied() > Some(1) {
            let gateway = ids.fresh("Join");
            let _ = writeln!(elements, "    <bpmn:parallelGateway id=\"{gateway}\" />");
            let (x, y) = position[node.id.as_str()];
            shapes.push(Shape {
                element: gateway.clone(),
                x: x - GATEWAY - 40.0,
                y: y + (TASK.1 - GATEWAY) / 2.0,
                w: GATEWAY,
                h: GATEWAY,
            });
            join_gateway.insert(&node.id, gateway);
        }
    }
    for (to, gateway) in &join_gateway {
        let flow = ids.fresh("Flow");
        let _ = writeln!(
            flows,
            "    <bpmn:sequenceFlow id=\"{flow}\" sourceRef=\"{gateway}\" targetRef=\"{}\" />",
            task_id[to]
        );
        edges_di.push_str(&edge_di(&flow, &shapes, gateway, &task_id[to]));
    }

    // A wait for a message with a timeout (and nowhere to go when it times out): an
    // interrupting timer on its receive task (a wait fails only when its time is up).
    for node in workflow.nodes.iter().filter(|n| !is_race(n)) {
        let Some((Some(_), Some(ms))) = node
            .wait
            .as_ref()
            .map(|w| (w.message.as_ref(), w.timeout_ms))
        else {
            continue;
        };
        if node.sub_flow.is_some() {
            continue;
        }
        let boundary = ids.fresh("TimedOut");
        let _ = writeln!(
            elements,
            "    <bpmn:boundaryEvent id=\"{boundary}\" name=\"timed out\" attachedToRef=\"{}\">\n      <bpmn:timerEventDefinition>\n        <bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>",
            task_id[node.id.as_str()],
            iso_duration(ms)
        );
        let (x, y) = position[node.id.as_str()];
        shapes.push(Shape {
            element: boundary.clone(),
            x: x + TASK.0 - EVENT / 2.0 - 10.0,
            y: y + TASK.1 - EVENT / 2.0,
            w: EVENT,
            h: EVENT,
        });
        error_boundary.insert(&node.id, boundary);
    }
    // Other failure routes leave from one boundary error event per step.
    for e in workflow.edges.iter().filter(|e| e.on == Outcome::Failure) {
        if error_boundary.contains_key(e.from.as_str()) {
            continue;
        }
        let boundary = ids.fresh("Failed");
        let _ = writeln!(
            elements,
            "    <bpmn:boundaryEvent id=\"{boundary}\" name=\"on failure\" attachedToRef=\"{}\">\n      <bpmn:errorEventDefinition />\n    </bpmn:boundaryEvent>",
            task_id[e.from.as_str()]
        );
        let (x, y) = position[e.from.as_str()];
        shapes.push(Shape {
            element: boundary.clone(),
            x: x + TASK.0 - EVENT / 2.0 - 10.0,
            y: y + TASK.1 - EVENT / 2.0,
            w: EVENT,
            h: EVENT,
        });
        error_boundary.insert(&e.from, boundary);
    }

    // A deciding step's routes leave through a gateway after it: exclusive (the first
    // condition that holds, else the default: the flow without one) or inclusive (every
    // one that holds).
    let mut decision: HashMap<&str, String> = HashMap::new();
    let mut gateways: Vec<(String, &'static str, &str)> = Vec::new();
    let mut default_flow: HashMap<String, String> = HashMap::new();
    for node in workflow
        .nodes
        .iter()
        .filter(|n| deciding.contains(n.id.as_str()))
    {
        let gateway = ids.fresh("Decide");
        let element = match node.decide {
            Some(Decide::Inclusive) => "inclusiveGateway",
            _ => "exclusiveGateway",
        };
        let (x, y) = position[node.id.as_str()];
        shapes.push(Shape {
            element: gateway.clone(),
            x: x + TASK.0 + 25.0,
            y: y + (TASK.1 - GATEWAY) / 2.0,
            w: GATEWAY,
            h: GATEWAY,
        });
        let flow = ids.fresh("Flow");
        let task = received
            .get(node.id.as_str())
            .unwrap_or(&task_id[node.id.as_str()]);
        let _ = writeln!(
            flows,
            "    <bpmn:sequenceFlow id=\"{flow}\" sourceRef=\"{task}\" targetRef=\"{gateway}\" />"
        );
        edges_di.push_str(&edge_di(&flow, &shapes, task, &gateway));
        gateways.push((gateway.clone(), element, node.label.as_str()));
        decision.insert(&node.id, gateway);
    }

    for (k, e) in workflow.edges.iter().enumerate() {
        if standard_loop
            .get(e.from.as_str())
            .is_some_and(|&(at, _)| at == k)
        {
            continue;
        }
        let source = match e.on {
            Outcome::Success => decision
                .get(e.from.as_str())
                .or(received.get(e.from.as_str()))
                .cloned()
                .unwrap_or_else(|| task_id[e.from.as_str()].clone()),
            Outcome::Failure => error_boundary[e.from.as_str()].clone(),
        };
        let decided = e.on == Outcome::Success && decision.contains_key(e.from.as_str());
        if decided && e.condition.is_none() && e.max_iterations.is_none() {
            // Its flow out of the gateway, written next, is the default.
            default_flow.insert(source.clone(), format!("Flow_{}", ids.peek("Flow")));
        }
        let target = join_gateway
            .get(e.to.as_str())
            .cloned()
            .unwrap_or_else(|| task_id[e.to.as_str()].clone());
        match e.kind {
            EdgeKind::Command => {
                let flow = ids.fresh("Flow");
                let _ = writeln!(
                    flows,
                    "    <bpmn:sequenceFlow id=\"{flow}\" sourceRef=\"{source}\" targetRef=\"{target}\"{}{}",
                    edge_details(e),
                    condition_expression(e.condition.as_deref().filter(|_| decided))
                );
                edges_di.push_str(&edge_di(&flow, &shapes, &source, &target));
            }
            EdgeKind::Event => {
                // The subscriber waits for the message between the two steps.
                let name = workflow.event_name(e);
                let catch = ids.fresh("Event");
                let _ = writeln!(
                    elements,
                    "    <bpmn:intermediateCatchEvent id=\"{catch}\" name=\"{}\">\n      <bpmn:messageEventDefinition messageRef=\"{}\" />\n    </bpmn:intermediateCatchEvent>",
                    attr(&name),
                    messages[&name]
                );
                let (a, b) = (
                    shapes.get(&source).map(Shape::centre),
                    shapes.get(&target).map(Shape::centre),
                );
                let ((ax, ay), (bx, by)) = (a.unwrap_or_default(), b.unwrap_or_default());
                shapes.push(Shape {
                    element: catch.clone(),
                    x: (ax + bx) / 2.0 - EVENT / 2.0,
                    y: (ay + by) / 2.0 - EVENT / 2.0,
                    w: EVENT,
                    h: EVENT,
                });
                for (from, to) in [(&source, &catch), (&catch, &target)] {
                    let flow = ids.fresh("Flow");
                    // The subscriber's side carries the edge's details, the gateway's its
                    // condition.
                    let (details, condition) = if to == &target {
                        (edge_details(e), condition_expression(None))
                    } else {
                        (
                            String::new(),
                            condition_expression(e.condition.as_deref().filter(|_| decided)),
                        )
                    };
                    let _ = writeln!(
                        flows,
                        "    <bpmn:sequenceFlow id=\"{flow}\" sourceRef=\"{from}\" targetRef=\"{to}\"{details}{condition}"
                    );
                    edges_di.push_str(&edge_di(&flow, &shapes, from, to));
                }
            }
        }
    }

    for (gateway, element, label) in &gateways {
        let default = default_flow
            .get(gateway)
            .map(|f| format!(" default=\"{f}\""))
            .unwrap_or_default();
        let _ = writeln!(
            elements,
            "    <bpmn:{element} id=\"{gateway}\" name=\"{}?\"{default} />",
            attr(label)
        );
    }

    // Compensation: a boundary compensation event associated with its handler task.
    let mut associations = String::new();
    for node in &workflow.nodes {
        let Some(action) = &node.compensation else {
            continue;
        };
        let (boundary, handler, association) = (
            ids.fresh("Compensate"),
            ids.fresh("Undo"),
            ids.fresh("Association"),
        );
        let task = &task_id[node.id.as_str()];
        let _ = writeln!(
            elements,
            "    <bpmn:boundaryEvent id=\"{boundary}\" attachedToRef=\"{task}\">\n      <bpmn:compensateEventDefinition />\n    </bpmn:boundaryEvent>\n    <bpmn:serviceTask id=\"{handler}\" name=\"{}\" isForCompensation=\"true\" hybridflow:service=\"{}\" hybridflow:action=\"{}\" />",
            attr(action),
            attr(&node.service),
            attr(action)
        );
        let _ = writeln!(
            associations,
            "    <bpmn:association id=\"{association}\" associationDirection=\"One\" sourceRef=\"{boundary}\" targetRef=\"{handler}\" />"
        );
        let (x, y) = position[node.id.as_str()];
        shapes.push(Shape {
            element: boundary.clone(),
            x: x + 10.0,
            y: y + TASK.1 - EVENT / 2.0,
            w: EVENT,
            h: EVENT,
        });
        shapes.push(Shape {
            element: handler.clone(),
            x,
            y: y + TASK.1 + 60.0,
            w: TASK.0,
            h: TASK.1,
        });
        edges_di.push_str(&edge_di(&association, &shapes, &boundary, &handler));
    }

    let mut out = String::new();
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<bpmn:definitions xmlns:bpmn=\"{BPMN_MODEL}\" xmlns:bpmndi=\"http://www.omg.org/spec/BPMN/20100524/DI\" xmlns:dc=\"http://www.omg.org/spec/DD/20100524/DC\" xmlns:di=\"http://www.omg.org/spec/DD/20100524/DI\" xmlns:hybridflow=\"{NAMESPACE}\" xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" id=\"{}\" targetNamespace=\"{NAMESPACE}\" exporter=\"Hybridflow\" exporterVersion=\"{}\">",
        ids.fresh("Definitions"),
        env!("CARGO_PKG_VERSION")
    );
    for name in &message_order {
        let _ = writeln!(
            out,
            "  <bpmn:message id=\"{}\" name=\"{}\" />",
            messages[name],
            attr(name)
        );
    }
    let _ = writeln!(
        out,
        "  <bpmn:process id=\"{process}\" name=\"{}\" isExecutable=\"false\">",
        attr(&workflow.name)
    );
    out.push_str(&elements);
    out.push_str(&flows);
    out.push_str(&associations);
    let _ = writeln!(out, "  </bpmn:process>");
    let _ = writeln!(
        out,
        "  <bpmndi:BPMNDiagram id=\"{}\">\n    <bpmndi:BPMNPlane id=\"{}\" bpmnElement=\"{process}\">",
        ids.fresh("Diagram"),
        ids.fresh("Plane")
    );
    for s in &shapes.all {
        let _ = writeln!(
            out,
            "      <bpmndi:BPMNShape id=\"{}_di\" bpmnElement=\"{}\">\n        <dc:Bounds x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" />\n      </bpmndi:BPMNShape>",
            s.element, s.element, s.x, s.y, s.w, s.h
        );
    }
    out.push_str(&edges_di);
    let _ = writeln!(out, "    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>");
    let _ = writeln!(out, "</bpmn:definitions>");
    out
}

/// A straight edge of the diagram between two shapes, side to side.
fn edge_di(element: &str, shapes: &Shapes, from: &str, to: &str) -> String {
    let (Some(a), Some(b)) = (shapes.get(from), shapes.get(to)) else {
        return String::new();
    };
    let ((ax, ay), (bx, by)) = (a.centre(), b.centre());
    let (sx, tx) = if bx >= ax {
        (a.x + a.w, b.x)
    } else {
        (a.x, b.x + b.w)
    };
    format!(
        "      <bpmndi:BPMNEdge id=\"{element}_di\" bpmnElement=\"{element}\">\n        <di:waypoint x=\"{sx}\" y=\"{ay}\" />\n        <di:waypoint x=\"{tx}\" y=\"{by}\" />\n      </bpmndi:BPMNEdge>\n"
    )
}

/// A sequence flow's ` hybridflow:details="…"` attribute: the edge's condition, who decides
/// it, its payload and its loop bound, when it has any (else nothing).
fn edge_details(edge: &crate::model::Edge) -> String {
    let details = edge.details();
    if details.is_empty() {
        return String::new();
    }
    format!(
        " hybridflow:details=\"{}\"",
        attr(&serde_json::Value::Object(details).to_string())
    )
}

/// A sequence flow's end: ` />`, or its `conditionExpression` and its closing tag when it
/// has a condition: FEEL when the condition has FEEL words ([`super::feel::from_cel`]), else
/// the CEL itself, its `language` saying so.
fn condition_expression(condition: Option<&str>) -> String {
    let Some(cel) = condition else {
        return " />".to_string();
    };
    let expression = match super::feel::from_cel(cel) {
        Ok(feel) => format!(
            "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:conditionExpression>",
            attr(&feel)
        ),
        Err(_) => format!(
            "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\" language=\"{}\">{}</bpmn:conditionExpression>",
            super::feel::CEL,
            attr(cel)
        ),
    };
    format!(">\n      {expression}\n    </bpmn:sequenceFlow>")
}

/// Milliseconds as an ISO 8601 duration (`PT1.5S`), as BPMN timers give them.
fn iso_duration(ms: u64) -> String {
    match ms % 1000 {
        0 => format!("PT{}S", ms / 1000),
        rest => format!(
            "PT{}.{}S",
            ms / 1000,
            format!("{rest:03}").trim_end_matches('0')
        ),
    }
}
