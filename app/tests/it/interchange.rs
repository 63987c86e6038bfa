//! The interchange formats: Mermaid and BPMN both ways, AsyncAPI out. Every shipped
//! template survives export → import; a BPMN file written by hand the way Camunda Modeler
//! saves one imports to the workflow it draws; what cannot be mapped is refused by
//! element and line.

use app::model::examples;
use app::model::formats::{detect, export, import, ExportFormat, ImportError, ImportFormat};
use app::model::workflow::{Edge, EdgeKind, Join, Outcome, Workflow};
use serde_json::Value;

const CAMUNDA_FILE: &str = include_str!("../fixtures/order-fulfilment.bpmn");
/// 990 tasks into a throw event, 100 message flows to a catch event, 990 tasks after it.
const FAN_FILE: &str = include_str!("../fixtures/message-flow-fan.bpmn");

/// Edges compared as a set, without their generated ids.
fn edge_set(w: &Workflow) -> Vec<(String, String, EdgeKind, Outcome, String)> {
    let mut edges: Vec<_> = w
        .edges
        .iter()
        .map(|e: &Edge| (e.from.clone(), e.to.clone(), e.kind, e.on, w.event_name(e)))
        .collect();
    edges.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    edges
}

/// Each edge's details (condition, who decides, payload, loop bound) as JSON text, by its
/// ends, kind and outcome, sorted.
fn edge_details(w: &Workflow) -> Vec<String> {
    let mut details: Vec<String> = w
        .edges
        .iter()
        .map(|e| {
            format!(
                "{} {} {:?} {:?} {}",
                e.from,
                e.to,
                e.kind,
                e.on,
                Value::Object(e.details())
            )
        })
        .collect();
    details.sort();
    details
}

fn templates() -> Vec<Workflow> {
    examples::ALL
        .iter()
        .map(|t| {
            let mut w = examples::from_template(t);
            w.template = None;
            w
        })
        .collect()
}

fn problems(e: ImportError) -> Vec<(String, String, Option<String>, String)> {
    match e {
        ImportError::Unsupported(p) => p
            .into_iter()
            .map(|p| (p.path, p.field, p.node, p.message))
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn every_template_survives_mermaid_export_and_import() {
    for w in templates() {
        let text = export(&w, ExportFormat::Mermaid).unwrap();
        assert_eq!(detect(&text), ImportFormat::Mermaid);
        let back = import(&text, None).unwrap_or_else(|e| panic!("{}: {e}\n{text}", w.name));
        assert_eq!(back.name, w.name);
        assert_eq!(back.nodes, w.nodes, "{}", w.name);
        assert_eq!(edge_set(&back), edge_set(&w), "{}", w.name);
        assert_eq!(edge_details(&back), edge_details(&w), "{}", w.name);
    }
}

#[test]
fn korean_ids_and_names_survive_mermaid_with_generated_ids() {
    let mut w = import(
        "name: 주문 사가\n주문검증 -> 결제\n결제 ~> 배송 : 결제완료\n결제 ~!> 주문취소 : 결제실패\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    w.nodes[0].label = "주문 \"검증\"".into();
    w.nodes[1].compensation = Some("환불".into());
    let text = export(&w, ExportFormat::Mermaid).unwrap();
    assert!(text.contains("%% n1 = 주문검증"), "{text}");
    assert!(!text.contains("__"), "no id mangled to underscores: {text}");
    assert!(text.contains("n2 -. on failure: 결제실패 .-> n4"), "{text}");
    let back = import(&text, Some(ImportFormat::Mermaid)).unwrap();
    assert_eq!(back.name, "주문 사가");
    assert_eq!(back.nodes, w.nodes);
    assert_eq!(edge_set(&back), edge_set(&w));
}

#[test]
fn hand_written_mermaid_with_pipe_labels_imports_and_lays_out() {
    let text = "flowchart TD\n  order[Place order] --> pay([Charge card])\n  pay -.->|PaymentCompleted| ship\n  pay -->|on failure| cancel\n  classDef red fill:#f00\n  linkStyle 2 stroke:red\n";
    let w = import(text, None).unwrap();
    assert_eq!(w.name, "Imported workflow");
    let ids: Vec<&str> = w.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["order", "pay", "ship", "cancel"]);
    assert_eq!(w.nodes[0].label, "Place order");
    let edges = edge_set(&w);
    assert!(edges.contains(&(
        "pay".into(),
        "ship".into(),
        EdgeKind::Event,
        Outcome::Success,
        "PaymentCompleted".into()
    )));
    assert!(edges.contains(&(
        "pay".into(),
        "cancel".into(),
        EdgeKind::Command,
        Outcome::Failure,
        "ChargecardFailed".into()
    )));
    // No positions in the diagram: laid out, not piled up.
    assert_ne!(w.nodes[0].position, w.nodes[1].position);
}

#[test]
fn mermaid_refuses_what_it_cannot_read_by_line() {
    let e = import(
        "flowchart LR\n  a --> b\n  b ==> c\n  c -->|maybe| d\n",
        Some(ImportFormat::Mermaid),
    )
    .unwrap_err();
    let p = problems(e);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].0, "line 3");
    assert!(p[0].3.contains("\"==>\""), "{p:?}");
    assert_eq!(p[1].0, "line 4");
    assert!(p[1].3.contains("\"maybe\""), "{p:?}");
    let e = import("sequenceDiagram\n a->>b: hi\n", Some(ImportFormat::Mermaid)).unwrap_err();
    assert!(problems(e)[0].3.contains("flowchart"));
}

#[test]
fn every_template_survives_bpmn_export_and_import() {
    for w in templates() {
        let xml = export(&w, ExportFormat::Bpmn).unwrap();
        assert_eq!(detect(&xml), ImportFormat::Bpmn);
        let back = import(&xml, None).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", w.name));
        assert_eq!(back.name, w.name);
        assert_eq!(back.nodes, w.nodes, "{}", w.name);
        assert_eq!(edge_set(&back), edge_set(&w), "{}", w.name);
        assert_eq!(edge_details(&back), edge_details(&w), "{}", w.name);
    }
}

#[test]
fn bpmn_export_is_laid_out_for_a_modeler() {
    let w = &templates()[0];
    let xml = export(w, ExportFormat::Bpmn).unwrap();
    for n in &w.nodes {
        assert!(
            xml.contains(&format!(
                "<dc:Bounds x=\"{}\" y=\"{}\" width=\"100\" height=\"80\" />",
                n.position.x, n.position.y
            )),
            "{} has its shape where it is drawn",
            n.id
        );
    }
    assert_eq!(
        xml.matches("<bpmndi:BPMNEdge ").count(),
        xml.matches("<bpmn:sequenceFlow ").count() + xml.matches("<bpmn:association ").count(),
        "every flow is drawn"
    );
}

#[test]
fn a_camunda_modeler_file_imports_to_the_workflow_it_draws() {
    let w = import(CAMUNDA_FILE, None).unwrap();
    assert_eq!(w.name, "Order fulfilment");
    let steps: Vec<(&str, &str, &str, &str)> = w
        .nodes
        .iter()
        .map(|n| {
            (
                n.id.as_str(),
                n.label.as_str(),
                n.service.as_str(),
                n.action.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                "Task_PlaceOrder",
                "Place order",
                "Order Service",
                "Place order"
            ),
            (
                "Task_Charge",
                "Charge card",
                "Payment Service",
                "Charge card"
            ),
            (
                "Task_Reserve",
                "Reserve stock",
                "Inventory Service",
                "Reserve stock"
            ),
            (
                "Task_Ship",
                "Request shipment",
                "Order Service",
                "Request shipment"
            ),
            ("Task_Close", "Close order", "Order Service", "Close order"),
            (
                "Task_Cancel",
                "Cancel order",
                "Order Service",
                "Cancel order"
            ),
            (
                "Task_Deliver",
                "Deliver parcel",
                "Shipping Service",
                "Deliver parcel"
            ),
        ]
    );
    let node = |id: &str| w.node(id).unwrap();
    // Positions from the diagram.
    assert_eq!(
        (
            node("Task_Charge").position.x,
            node("Task_Charge").position.y
        ),
        (550.0, 280.0)
    );
    // The compensation association; the parallel join; the message catch that waits for
    // the step before it and for the message.
    assert_eq!(
        node("Task_Reserve").compensation.as_deref(),
        Some("Release stock")
    );
    assert_eq!(node("Task_Ship").join, Some(Join::All));
    assert_eq!(node("Task_Close").join, Some(Join::All));
    assert_eq!(node("Task_Charge").join, None);
    let c = |a: &str, b: &str, kind, on, event: &str| {
        (a.to_string(), b.to_string(), kind, on, event.to_string())
    };
    use EdgeKind::{Command, Event};
    use Outcome::{Failure, Success};
    let mut expected = vec![
        c(
            "Task_PlaceOrder",
            "Task_Charge",
            Command,
            Success,
            "PlaceorderCompleted",
        ),
        c(
            "Task_PlaceOrder",
            "Task_Reserve",
            Command,
            Success,
            "PlaceorderCompleted",
        ),
        c(
            "Task_Charge",
            "Task_Ship",
            Command,
            Success,
            "ChargecardCompleted",
        ),
        c(
            "Task_Reserve",
            "Task_Ship",
            Command,
            Success,
            "ReservestockCompleted",
        ),
        c(
            "Task_Charge",
            "Task_Cancel",
            Command,
            Failure,
            "ChargecardFailed",
        ),
        c(
            "Task_Ship",
            "Task_Close",
            Command,
            Success,
            "RequestshipmentCompleted",
        ),
        c(
            "Task_Ship",
            "Task_Deliver",
            Event,
            Success,
            "ShipmentRequested",
        ),
        c(
            "Task_Deliver",
            "Task_Close",
            Event,
            Success,
            "ParcelDelivered",
        ),
    ];
    expected.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(edge_set(&w), expected);
}

#[test]
fn bpmn_refuses_each_element_it_cannot_map_by_id_type_and_line() {
    let xml = CAMUNDA_FILE
        .replace(
            "<bpmn:parallelGateway id=\"Gateway_Fork\">",
            "<bpmn:complexGateway id=\"Gateway_Fork\">",
        )
        .replacen("</bpmn:parallelGateway>", "</bpmn:complexGateway>", 1)
        .replace(
            "<bpmn:task id=\"Task_Deliver\" name=\"Deliver parcel\">",
            "<bpmn:task id=\"Task_Deliver\" name=\"Deliver parcel\"><bpmn:multiInstanceLoopCharacteristics />",
        )
        .replace(
            "<bpmn:endEvent id=\"EndEvent_Delivered\">",
            "<bpmn:callActivity id=\"Call_Audit\" /><bpmn:endEvent id=\"EndEvent_Delivered\">",
        );
    let p = problems(import(&xml, Some(ImportFormat::Bpmn)).unwrap_err());
    let named: Vec<(&str, Option<&str>)> = p
        .iter()
        .map(|(_, field, node, _)| (field.as_str(), node.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            ("complexGateway", Some("Gateway_Fork")),
            ("task", Some("Task_Deliver")),
            ("callActivity", Some("Call_Audit")),
        ]
    );
    let line = CAMUNDA_FILE
        .lines()
        .position(|l| l.contains("id=\"Gateway_Fork\">"))
        .unwrap()
        + 1;
    assert_eq!(p[0].0, format!("line {line}"));
    assert!(
        p[0].3
            .contains("chooses a path by a rule Hybridflow does not model"),
        "{}",
        p[0].3
    );
    assert!(
        p[1].3.contains("a multi-instance needs a collection"),
        "{}",
        p[1].3
    );
}

#[test]
fn bpmn_is_bounded_while_it_is_read() {
    let many = format!(
        "<definitions>{}</definitions>",
        "<documentation/>".repeat(app::model::bpmn::import::MAX_ELEMENTS + 1)
    );
    let p = problems(import(&many, Some(ImportFormat::Bpmn)).unwrap_err());
    assert!(p[0].3.contains("more than 50000 XML elements"), "{p:?}");
    let deep = format!("<definitions>{}", "<a>".repeat(100));
    let p = problems(import(&deep, Some(ImportFormat::Bpmn)).unwrap_err());
    assert!(p[0].3.contains("nested more than 64"), "{p:?}");
    let entity = "<!DOCTYPE d [<!ENTITY x \"xxxxxxxx\">]><definitions><process id=\"p\"><task id=\"t\" name=\"&x;\"/></process></definitions>";
    let p = problems(import(entity, Some(ImportFormat::Bpmn)).unwrap_err());
    assert!(p[0].3.contains("only XML's own entities"), "{p:?}");
    let broken = "<definitions>\n<process id=\"p\">\n<task id=\"t\">\n</process>";
    let p = problems(import(broken, Some(ImportFormat::Bpmn)).unwrap_err());
    assert_eq!(p[0].0, "line 4", "{p:?}");
}

#[test]
fn pairing_message_flows_is_charged_before_it_is_built() {
    // Within every limit on elements and walks; pairing every sender with every receiver
    // would make 98 million events (and once took 3 GB and the server with it).
    let p = problems(import(FAN_FILE, Some(ImportFormat::Bpmn)).unwrap_err());
    assert_eq!(p.len(), 1, "{p:?}");
    let (line, field, _, message) = &p[0];
    assert_eq!(field, "messageFlow");
    let at = FAN_FILE
        .lines()
        .position(|l| l.contains("id=\"m0\""))
        .unwrap()
        + 1;
    assert_eq!(line, &format!("line {at}"), "the first message flow");
    assert!(
        message.contains(
            "message flow \"m0\" connects 990 sending step(s) with 990 receiving step(s)"
        ) && message.contains("the limit is 5000"),
        "{message}"
    );
    // A fan of the same shape within the limit imports, each sender to each receiver.
    let small = FAN_FILE
        .lines()
        .filter(|l| {
            let past = |prefix: &str, limit: usize| {
                l.split(prefix)
                    .nth(1)
                    .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| n >= limit)
            };
            !past("id=\"a", 20)
                && !past("id=\"b", 20)
                && !past("id=\"m", 10)
                && !past("id=\"fa", 20)
                && !past("id=\"fb", 20)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let w = import(&small, Some(ImportFormat::Bpmn)).unwrap();
    assert_eq!(w.nodes.len(), 40);
    assert_eq!(
        w.edges.len(),
        10 * 20 * 20,
        "10 flows, each of 20 x 20 events"
    );
}

#[test]
fn refusing_a_megabyte_of_sub_processes_names_the_first_and_counts_the_rest() {
    let many: String = (0..30_000)
        .map(|i| format!("<subProcess id=\"s{i}\"/>"))
        .collect();
    let xml = format!("<definitions><process id=\"p\">{many}</process></definitions>");
    let p = problems(import(&xml, Some(ImportFormat::Bpmn)).unwrap_err());
    assert_eq!(p.len(), app::model::formats::MAX_PROBLEMS + 1);
    assert_eq!(
        (p[0].1.as_str(), p[0].2.as_deref()),
        ("subProcess", Some("s0"))
    );
    assert!(
        p.last().unwrap().3.contains("29900 more problem(s)"),
        "each refused once: {:?}",
        p.last()
    );
}

#[test]
fn asyncapi_lists_a_channel_per_event_with_its_senders_and_receivers() {
    let mut w = import(
        "name: 주문\norder -> pay\npay ~> ship : PaymentCompleted\npay ~> mail : PaymentCompleted\npay ~!> 취소 : 결제실패\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    w.nodes[1].service = "Payment".into();
    let doc: Value = serde_json::from_str(&export(&w, ExportFormat::AsyncApi).unwrap()).unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "주문");
    let channels = doc["channels"].as_object().unwrap();
    assert_eq!(channels.len(), 2, "{channels:?}");
    assert_eq!(channels["PaymentCompleted"]["address"], "PaymentCompleted");
    // A Korean event name gets a generated key, its name intact as the address.
    let korean = channels
        .iter()
        .find(|(_, c)| c["address"] == "결제실패")
        .map(|(k, _)| k.clone())
        .unwrap();
    assert!(korean.is_ascii());
    let operations = doc["operations"].as_object().unwrap();
    let actions: Vec<(String, String)> = operations
        .values()
        .map(|o| {
            (
                o["x-hybridflow-service"].as_str().unwrap().to_string(),
                format!(
                    "{} {}",
                    o["action"].as_str().unwrap(),
                    o["channel"]["$ref"].as_str().unwrap()
                ),
            )
        })
        .collect();
    assert!(actions.contains(&("Payment".into(), "send #/channels/PaymentCompleted".into())));
    assert!(actions.contains(&("ship".into(), "receive #/channels/PaymentCompleted".into())));
    assert!(actions.contains(&("mail".into(), "receive #/channels/PaymentCompleted".into())));
    assert_eq!(operations.len(), 5, "{operations:?}");
    assert_eq!(
        doc["components"]["messages"]["PaymentCompleted"]["payload"]["type"],
        "object"
    );
    // Every $ref points at something in the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/").skip(1) {
        let path = &r[..r.find('"').unwrap()];
        let mut at = &doc;
        for part in path.split('/') {
            at = &at[part];
        }
        assert!(!at.is_null(), "dangling $ref #/{path}");
    }
}

/// Found by the `mermaid` fuzz target: an event name that holds a link's own arrow.
#[test]
fn an_event_named_like_an_arrow_survives_mermaid() {
    let input = "flowchart LR\n   b -.->|] --> b<<<<<<<<<<<<<<<<b -.->|Plowa\n";
    let first = import(input, Some(ImportFormat::Mermaid)).unwrap();
    assert_eq!(
        first.edges[0].event.as_deref(),
        Some("] --> b<<<<<<<<<<<<<<<<b -.->")
    );
    let again = import(
        &export(&first, ExportFormat::Mermaid).unwrap(),
        Some(ImportFormat::Mermaid),
    )
    .unwrap();
    assert_eq!(edge_set(&again), edge_set(&first));
}

/// Found by the `mermaid` fuzz target: a service with a dot (`service.action` is split at
/// the first one).
#[test]
fn a_service_with_dots_survives_mermaid() {
    let mut w = import("a -> b\n", Some(ImportFormat::Text)).unwrap();
    w.nodes[0].service = ".payments.v2".into();
    w.nodes[0].action = "charge.card".into();
    let again = import(
        &export(&w, ExportFormat::Mermaid).unwrap(),
        Some(ImportFormat::Mermaid),
    )
    .unwrap();
    assert_eq!(again.nodes, w.nodes);
}

/// Found by the round-trip property: two commands drawn between the same steps stay two
/// through BPMN (paths through gateways that reach one step are still one edge).
#[test]
fn two_flows_between_the_same_tasks_stay_two_through_bpmn() {
    let w = import("d >> z_3\nd >> z_3\n", Some(ImportFormat::Text)).unwrap();
    assert_eq!(w.edges.len(), 2);
    let again = import(
        &export(&w, ExportFormat::Bpmn).unwrap(),
        Some(ImportFormat::Bpmn),
    )
    .unwrap();
    assert_eq!(edge_set(&again), edge_set(&w));
}

const PAYMENT_FILE: &str = include_str!("../fixtures/payment-decision.bpmn");

/// A Camunda-Modeler-style file with an exclusive gateway (a JUEL condition and a default
/// flow), a receive task with an interrupting timer boundary event, a multi-instance task
/// and an intermediate timer: a decision, a wait with its timeout route, a for-each and a
/// timer step.
#[test]
fn bpmn_gateways_timers_receive_tasks_and_multi_instance_import() {
    let w = import(PAYMENT_FILE, None).unwrap();
    assert!(
        app::model::validate(&w).is_empty(),
        "{:?}",
        app::model::validate(&w)
    );
    let edges: Vec<(String, String, Outcome, Option<String>)> = w
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.on, e.condition.clone()))
        .collect();
    let has = |from: &str, to: &str, on: Outcome, condition: Option<&str>| {
        edges.contains(&(
            from.to_string(),
            to.to_string(),
            on,
            condition.map(str::to_string),
        ))
    };
    assert!(
        has(
            "Task_Authorize",
            "Task_Review",
            Outcome::Success,
            Some("amount > 1000")
        ),
        "{edges:?}"
    );
    assert!(
        has("Task_Authorize", "Task_Confirm", Outcome::Success, None),
        "{edges:?}"
    );
    assert!(has("Task_Review", "Task_Confirm", Outcome::Success, None));
    assert!(
        has("Task_Confirm", "Task_Cancel", Outcome::Failure, None),
        "{edges:?}"
    );
    assert!(has("Task_Pack", "Timer_Cooling", Outcome::Success, None));
    assert!(has("Timer_Cooling", "Task_Ship", Outcome::Success, None));
    let confirm = w.node("Task_Confirm").unwrap().wait.clone().unwrap();
    assert_eq!(
        (confirm.message.as_deref(), confirm.timeout_ms),
        (Some("PaymentConfirmed"), Some(3_000))
    );
    assert_eq!(
        w.node("Timer_Cooling")
            .unwrap()
            .wait
            .as_ref()
            .unwrap()
            .for_ms,
        Some(1_500)
    );
    assert_eq!(
        w.node("Task_Pack").unwrap().for_each.as_deref(),
        Some("items")
    );
    // The call activity runs the process it calls as a sub-flow, and is one again on export.
    assert_eq!(
        w.node("Task_Ship").unwrap().sub_flow.as_deref(),
        Some("Shipping")
    );
    let exported = export(&w, ExportFormat::Bpmn).unwrap();
    assert!(
        exported.contains(
            "<bpmn:callActivity id=\"Task_Ship\" name=\"Ship\" calledElement=\"Shipping\""
        ),
        "{exported}"
    );
    let again = import(&exported, Some(ImportFormat::Bpmn)).unwrap();
    assert_eq!(
        again.node("Task_Ship").unwrap().sub_flow.as_deref(),
        Some("Shipping")
    );

    // What cannot be translated is refused by flow and why.
    for (condition, why) in [
        (
            "${contains(tags, 'vip')}",
            "\"contains(\" is not a comparison",
        ),
        (
            "${amount &gt; 1000",
            "a string or a parenthesis is not closed",
        ),
        ("= amount in [1..10]", "\"in\" is not a comparison"),
    ] {
        let xml = PAYMENT_FILE.replace("${amount &gt; 1000}", condition);
        let p = problems(import(&xml, None).unwrap_err());
        assert!(
            p.iter().any(|(_, _, _, m)| m
                .starts_with("sequence flow \"Flow_Big\" has a condition Hybridflow cannot read")
                && m.contains(why)),
            "{condition}: {p:?}"
        );
    }
    let xml = PAYMENT_FILE
        .replace("PT3S", "R3/PT10S")
        .replace("timeDuration", "timeCycle");
    let p = problems(import(&xml, None).unwrap_err());
    assert!(
        p.iter()
            .any(|(_, _, _, m)| m.contains("timeCycle is not simulated")),
        "{p:?}"
    );
}

/// FEEL and JUEL conditions read as the same CEL.
#[test]
fn feel_and_juel_conditions_translate_to_cel() {
    use app::model::bpmn::feel::to_cel;
    for (bpmn, cel) in [
        ("${amount > 1000}", "amount > 1000"),
        (
            "${approved && tier == \"gold\"}",
            "approved && tier == 'gold'",
        ),
        (
            "${amount gt 100 and not approved}",
            "amount > 100 && !approved",
        ),
        (
            "= amount > 1000 and tier = \"gold\"",
            "amount > 1000 && tier == 'gold'",
        ),
        (
            "=not(approved) or customer.tier != \"it's\"",
            "!(approved) || customer.tier != 'it\\'s'",
        ),
        ("= (amount * 2) >= 10.5", "(amount * 2) >= 10.5"),
    ] {
        assert_eq!(to_cel(bpmn).as_deref(), Ok(cel), "{bpmn}");
    }
}

/// Found by the round-trip property: two flows between the same two steps, one with a
/// condition and one without, stay two — each with its own details.
#[test]
fn two_flows_between_the_same_steps_keep_their_own_details() {
    let mut w = import("a -> b\na -> b\n", Some(ImportFormat::Text)).unwrap();
    w.edges[1].condition = Some("amount > 1".into());
    assert!(app::model::validate(&w).is_empty());
    for format in [ExportFormat::Bpmn, ExportFormat::Mermaid] {
        let text = export(&w, format).unwrap();
        let back = import(&text, None).unwrap();
        assert_eq!(edge_details(&back), edge_details(&w), "{format:?}\n{text}");
    }
}

/// A hand-written Mermaid decision: a rhombus after a step, its labelled links the
/// branches (`else` the default) — the step's own conditional edges; a rhombus nothing
/// leads into, or with an event in or out, is refused by its id.
#[test]
fn mermaid_decision_shapes_with_labelled_links_are_decisions() {
    let text = "flowchart LR\n  order[Place order] --> check{Amount?}\n  check -->|amount > 1000| review[Manual review]\n  check -->|else| ship[Ship]\n  review --> ship\n";
    let w = import(text, None).unwrap();
    assert!(
        app::model::validate(&w).is_empty(),
        "{:?}",
        app::model::validate(&w)
    );
    let ids: Vec<&str> = w.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["order", "review", "ship"]);
    let edges: Vec<(String, String, Option<String>)> = w
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.condition.clone()))
        .collect();
    assert_eq!(
        edges,
        [
            ("review".to_string(), "ship".to_string(), None),
            (
                "order".to_string(),
                "review".to_string(),
                Some("amount > 1000".to_string())
            ),
            ("order".to_string(), "ship".to_string(), None),
        ]
    );
    let refused =
        problems(import("flowchart LR\n  check{Alone?} -->|x > 1| a\n", None).unwrap_err());
    assert_eq!(
        refused[0].3,
        "decision \"check\": no step leads into it (a decision decides after a step)"
    );
    let refused = problems(
        import(
            "flowchart LR\n  a -.->|Paid| check{?}\n  check -->|x > 1| b\n",
            None,
        )
        .unwrap_err(),
    );
    assert!(
        refused[0]
            .3
            .contains("its links must be commands from steps"),
        "{refused:?}"
    );
}

/// Mermaid draws a sub-flow as a subroutine (`[[…]]`) and a wait as a stadium (`([…])`),
/// and reads them back as they were.
#[test]
fn mermaid_draws_sub_flows_and_waits_in_their_own_shapes() {
    let w = examples::from_template(examples::template("order-with-payment-sub-flow").unwrap());
    let text = export(&w, ExportFormat::Mermaid).unwrap();
    assert!(
        text.contains("    pay[[\"Pay<br/><small>OrderService.pay</small>\"]]"),
        "{text}"
    );
    let again = import(&text, Some(ImportFormat::Mermaid)).unwrap();
    assert_eq!(again.nodes, w.nodes);
    let waits = examples::from_template(examples::template("payment-confirmation").unwrap());
    let text = export(&waits, ExportFormat::Mermaid).unwrap();
    assert!(
        text.contains("    confirm([\"Await bank confirmation<br/><small>"),
        "{text}"
    );
    assert_eq!(
        import(&text, Some(ImportFormat::Mermaid)).unwrap().nodes,
        waits.nodes
    );
}

/// BPMN's own elements where it has one: a wait for a message is a receive task naming its
/// message, a for-each a multi-instance task over its list — read back as they were.
#[test]
fn bpmn_writes_waits_as_receive_tasks_and_for_eaches_as_multi_instance() {
    for key in ["payment-confirmation", "order-items-for-each"] {
        let w = examples::from_template(examples::template(key).unwrap());
        let xml = export(&w, ExportFormat::Bpmn).unwrap();
        let again =
            import(&xml, Some(ImportFormat::Bpmn)).unwrap_or_else(|e| panic!("{key}: {e}\n{xml}"));
        assert_eq!(again.nodes, w.nodes, "{key}\n{xml}");
        assert_eq!(again.edges.len(), w.edges.len(), "{key}");
    }
    let waits = export(
        &examples::from_template(examples::template("payment-confirmation").unwrap()),
        ExportFormat::Bpmn,
    )
    .unwrap();
    assert!(waits.contains("<bpmn:receiveTask id=\"confirm\" name=\"Await bank confirmation\" messageRef=\"Message_"), "{waits}");
    assert!(waits.contains("name=\"BankConfirmed\" />"), "{waits}");
    let items = export(
        &examples::from_template(examples::template("order-items-for-each").unwrap()),
        ExportFormat::Bpmn,
    )
    .unwrap();
    assert!(
        items.contains("<bpmn:multiInstanceLoopCharacteristics camunda:collection=\"${items}\" />"),
        "{items}"
    );
}

/// BPMN written as Camunda Modeler draws it: a deciding step's routes leave through an
/// exclusive (or inclusive) gateway, each with its condition in FEEL (in CEL, said so,
/// when FEEL has no words for it) and the route without one its `default`; a timer is an
/// intermediate timer event; a message wait's timeout a timer on its receive task — or,
/// when a route follows the timeout, an event-based gateway racing the message against a
/// timer; a step's bounded loop back to itself a standard loop. Every one reads back as it
/// was.
#[test]
fn bpmn_writes_decisions_as_gateways_timers_as_timer_events_and_loops_as_standard_loops() {
    let w = examples::from_template(examples::template("payment-by-amount").unwrap());
    let xml = export(&w, ExportFormat::Bpmn).unwrap();
    assert!(
        xml.contains(
            "<bpmn:exclusiveGateway id=\"Decide_1\" name=\"Authorize payment?\" default=\"Flow_"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=not(approved)</bpmn:conditionExpression>")
            || xml.contains("<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=approved = false</bpmn:conditionExpression>"),
        "{xml}"
    );
    assert!(
        xml.contains("=amount &gt; 1000</bpmn:conditionExpression>"),
        "{xml}"
    );
    let back = import(&xml, Some(ImportFormat::Bpmn)).unwrap();
    assert_eq!(back.nodes, w.nodes);
    assert_eq!(edge_set(&back), edge_set(&w));
    assert_eq!(edge_details(&back), edge_details(&w));

    let confirm = examples::from_template(examples::template("payment-confirmation").unwrap());
    let xml = export(&confirm, ExportFormat::Bpmn).unwrap();
    assert!(
        xml.contains("<bpmn:boundaryEvent id=\"TimedOut_1\" name=\"timed out\" attachedToRef=\"confirm\">\n      <bpmn:timerEventDefinition>\n        <bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">PT3S</bpmn:timeDuration>"),
        "{xml}"
    );

    // A wait with somewhere to go when it times out (the watchdog's failure route): an
    // event-based gateway racing its message against a timer, each path its own route.
    let watchdog =
        examples::from_template(examples::template("payment-confirmation-watchdog").unwrap());
    let xml = export(&watchdog, ExportFormat::Bpmn).unwrap();
    for expected in [
        "<bpmn:eventBasedGateway id=\"watchdog\" name=\"Watchdog\"",
        "<bpmn:intermediateCatchEvent id=\"Received_1\" name=\"PaymentConfirmed\">\n      <bpmn:messageEventDefinition messageRef=\"Message_",
        "<bpmn:intermediateCatchEvent id=\"TimedOut_1\" name=\"timed out\">\n      <bpmn:timerEventDefinition>\n        <bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">PT3S</bpmn:timeDuration>",
        "sourceRef=\"watchdog\" targetRef=\"Received_1\"",
        "sourceRef=\"watchdog\" targetRef=\"TimedOut_1\"",
    ] {
        assert!(xml.contains(expected), "{expected}\n{xml}");
    }
    assert!(!xml.contains("<bpmn:receiveTask id=\"watchdog\""), "{xml}");
    let back = import(&xml, Some(ImportFormat::Bpmn)).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(back.nodes, watchdog.nodes);
    assert_eq!(edge_set(&back), edge_set(&watchdog));
    assert_eq!(edge_details(&back), edge_details(&watchdog));

    let drawn: Workflow = serde_json::from_value(serde_json::json!({
        "name": "Timers and loops",
        "nodes": [
            {"id": "order", "label": "Order", "service": "OrderService", "action": "place",
             "position": {"x": 40.0, "y": 100.0}, "decide": "inclusive"},
            {"id": "cool", "label": "Cool off", "service": "OrderService", "action": "wait",
             "position": {"x": 300.0, "y": 40.0}, "wait": {"for_ms": 1500}},
            {"id": "poll", "label": "Poll stock", "service": "StockService", "action": "poll",
             "position": {"x": 300.0, "y": 200.0}},
            {"id": "ship", "label": "Ship", "service": "ShippingService", "action": "ship",
             "position": {"x": 560.0, "y": 100.0}},
        ],
        "edges": [
            {"from": "order", "to": "cool", "kind": "command", "condition": "amount > 100"},
            {"from": "order", "to": "poll", "kind": "command", "condition": "size(items) > 2"},
            {"from": "cool", "to": "ship", "kind": "command"},
            {"from": "poll", "to": "poll", "kind": "command", "max_iterations": 4},
            {"from": "poll", "to": "ship", "kind": "command"},
        ]
    }))
    .unwrap();
    let xml = export(&drawn, ExportFormat::Bpmn).unwrap();
    for expected in [
        "<bpmn:inclusiveGateway id=\"Decide_1\" name=\"Order?\" />",
        "<bpmn:intermediateCatchEvent id=\"cool\" name=\"Cool off\"",
        "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">PT1.5S</bpmn:timeDuration>",
        "<bpmn:standardLoopCharacteristics loopMaximum=\"5\" />",
        "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\" language=\"https://github.com/google/cel-spec\">size(items) &gt; 2</bpmn:conditionExpression>",
        "<dc:Bounds x=\"300\" y=\"40\" width=\"36\" height=\"36\" />",
    ] {
        assert!(xml.contains(expected), "{expected}\n{xml}");
    }
    // Read back by what BPMN says alone (the details Hybridflow adds removed), then whole.
    let bare = xml
        .lines()
        .map(|line| match line.find(" hybridflow:details=\"") {
            Some(at) => {
                let rest = &line[at + 21..];
                let end = rest.find('"').unwrap();
                format!("{}{}", &line[..at], &rest[end + 1..])
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let read = import(&bare, Some(ImportFormat::Bpmn)).unwrap_or_else(|e| panic!("{e}\n{bare}"));
    let node = |id: &str| read.nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(
        node("cool").wait.as_ref().and_then(|w| w.for_ms),
        Some(1500)
    );
    assert_eq!(
        node("order").decide,
        Some(app::model::workflow::Decide::Inclusive)
    );
    let conditions: Vec<_> = read
        .edges
        .iter()
        .filter_map(|e| Some((e.to.as_str(), e.condition.as_deref()?)))
        .collect();
    assert!(
        conditions.contains(&("cool", "amount > 100")),
        "{conditions:?}"
    );
    assert!(
        conditions.contains(&("poll", "size(items) > 2")),
        "{conditions:?}"
    );
    let again = read
        .edges
        .iter()
        .find(|e| e.from == "poll" && e.to == "poll")
        .expect("the standard loop");
    assert_eq!(again.max_iterations, Some(4));
    let whole = import(&xml, Some(ImportFormat::Bpmn)).unwrap();
    assert_eq!(whole.nodes, drawn.nodes);
    assert_eq!(edge_set(&whole), edge_set(&drawn));
    assert_eq!(edge_details(&whole), edge_details(&drawn));
}

/// CEL's comparisons in FEEL, and FEEL read back as the same CEL; what FEEL has no words
/// for is said.
#[test]
fn cel_conditions_write_as_feel_and_read_back() {
    use app::model::bpmn::feel::{from_cel, to_cel, Untranslatable};
    for (cel, feel) in [
        ("amount > 100", "=amount > 100"),
        ("tier == 'gold' && !vip", "=tier = \"gold\" and not(vip)"),
        ("!(a || b.c <= 2.5)", "=not(a or b.c <= 2.5)"),
        ("note == 'a\"b'", "=note = \"a\\\"b\""),
        ("(x - 1) * 2 != y / 3", "=(x - 1) * 2 != y / 3"),
    ] {
        assert_eq!(from_cel(cel).as_deref(), Ok(feel), "{cel}");
        let back = to_cel(feel).unwrap();
        assert_eq!(
            from_cel(&back).as_deref(),
            Ok(feel),
            "{cel} → {feel} → {back}"
        );
    }
    for (cel, word) in [
        ("size(items) > 2", "size"),
        ("x in [1, 2]", "in"),
        ("a % 2 == 0", "%"),
        ("n > 1e3", "1e3"),
        ("s == 'a\\nb'", "\\"),
    ] {
        assert_eq!(
            from_cel(cel),
            Err(Untranslatable::Word(word.into())),
            "{cel}"
        );
    }
}

/// An event-based gateway racing a message against a timer (Camunda Modeler's "wait for
/// the payment, or give up after 30 s") is a step that waits for the message with that
/// timeout: the message's path its success route, the timer's its failure route. Racing
/// anything else is refused by the element raced.
#[test]
fn an_event_based_gateway_racing_a_message_and_a_timer_is_a_wait_with_a_timeout() {
    let race = |second: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D">
  <bpmn:message id="Message_Paid" name="PaymentConfirmed" />
  <bpmn:process id="Process_Race" name="Wait for the payment" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:serviceTask id="Task_Order" name="Place order" />
    <bpmn:eventBasedGateway id="Gateway_Wait" />
    <bpmn:intermediateCatchEvent id="Catch_Paid" name="Payment confirmed">
      <bpmn:messageEventDefinition messageRef="Message_Paid" />
    </bpmn:intermediateCatchEvent>
    {second}
    <bpmn:serviceTask id="Task_Ship" name="Ship" />
    <bpmn:serviceTask id="Task_Cancel" name="Cancel order" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Order" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Order" targetRef="Gateway_Wait" />
    <bpmn:sequenceFlow id="F3" sourceRef="Gateway_Wait" targetRef="Catch_Paid" />
    <bpmn:sequenceFlow id="F4" sourceRef="Gateway_Wait" targetRef="Second" />
    <bpmn:sequenceFlow id="F5" sourceRef="Catch_Paid" targetRef="Task_Ship" />
    <bpmn:sequenceFlow id="F6" sourceRef="Second" targetRef="Task_Cancel" />
  </bpmn:process>
</bpmn:definitions>"#
        )
    };
    let timer = r#"<bpmn:intermediateCatchEvent id="Second" name="30 seconds">
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT30S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>"#;
    let w = import(&race(timer), None).unwrap();
    let wait = w.nodes.iter().find(|n| n.id == "Gateway_Wait").unwrap();
    assert_eq!(wait.label, "Payment confirmed");
    let waits = wait.wait.as_ref().unwrap();
    assert_eq!(waits.message.as_deref(), Some("PaymentConfirmed"));
    assert_eq!(waits.timeout_ms, Some(30_000));
    assert_eq!(
        w.nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["Task_Order", "Gateway_Wait", "Task_Ship", "Task_Cancel"],
        "the raced events are not steps"
    );
    let mut routes: Vec<(&str, &str, Outcome)> = w
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.on))
        .collect();
    routes.sort_by_key(|r| (r.0, r.1));
    assert_eq!(
        routes,
        [
            ("Gateway_Wait", "Task_Cancel", Outcome::Failure),
            ("Gateway_Wait", "Task_Ship", Outcome::Success),
            ("Task_Order", "Gateway_Wait", Outcome::Success),
        ]
    );
    assert!(w.edges.iter().all(|e| e.kind == EdgeKind::Command));

    // Racing a second message, or a receive task: refused by what is raced.
    for (second, element) in [
        (
            r#"<bpmn:intermediateCatchEvent id="Second"><bpmn:messageEventDefinition messageRef="Message_Paid" /></bpmn:intermediateCatchEvent>"#,
            "intermediateCatchEvent",
        ),
        (
            r#"<bpmn:receiveTask id="Second" name="Ask" />"#,
            "receiveTask",
        ),
    ] {
        let p = problems(import(&race(second), None).unwrap_err());
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].2.as_deref(), Some("Second"));
        assert!(
            p[0].3.contains(&format!("event-based gateway \"Gateway_Wait\" races {element} \"Second\": Hybridflow waits for one message catch event, timed out by at most one timer catch event")),
            "{}",
            p[0].3
        );
    }
    // Racing nothing it can wait for.
    let none = race(timer).replace(
        r#"<bpmn:sequenceFlow id="F3" sourceRef="Gateway_Wait" targetRef="Catch_Paid" />"#,
        "",
    );
    let p = problems(import(&none, None).unwrap_err());
    assert!(
        p.iter().any(|p| p.2.as_deref() == Some("Gateway_Wait")
            && p.3.contains("waits for no message")),
        "{p:?}"
    );
}
