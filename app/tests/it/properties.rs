//! Property tests of the importers and the validator, run in the normal test command:
//! whatever the input, an import never panics, never builds past the limits, and anything
//! it accepts is a valid workflow; the text form, Mermaid and BPMN survive
//! import → export → import (BPMN and Mermaid with any names, Korean and XML's and
//! Mermaid's special characters included).

use app::model::formats::{export, import, ExportFormat, ImportFormat};
use app::model::validate::{parse_workflow, validate, MAX_EDGES, MAX_NODES};
use app::model::workflow::{Decide, Wait};
use proptest::prelude::*;
use serde_json::{json, Value};

fn accepted_is_valid(result: Result<app::model::Workflow, impl std::fmt::Debug>) {
    if let Ok(w) = result {
        assert!(validate(&w).is_empty(), "accepted an invalid workflow");
        assert!(w.nodes.len() <= MAX_NODES && w.edges.len() <= MAX_EDGES);
    }
}

/// Names drawn from a small alphabet, so that lines refer to each other.
fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a", "b", "c", "d", "e", "pay", "ship", "x.1", "y-2", "z_3",
    ])
    .prop_map(str::to_string)
}

/// One line of the text form, valid or not.
fn text_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (name(), name()).prop_map(|(a, b)| format!("{a} -> {b}")),
        (name(), name(), name()).prop_map(|(a, b, e)| format!("{a} ~> {b} : {e}Done")),
        (name(), name()).prop_map(|(a, b)| format!("{a} -!> {b}")),
        (name(), name(), name()).prop_map(|(a, b, e)| format!("{a} ~!> {b} : {e}Failed")),
        prop::collection::vec(name(), 2..5).prop_map(|v| v.join(" >> ")),
        name(),
        "[ -~]{0,30}",
    ]
}

/// Each edge's details (condition, loop bound…) by its ends and outcome, sorted.
fn edge_details(w: &app::model::Workflow) -> Vec<String> {
    let mut all: Vec<String> = w
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
    all.sort();
    all
}

/// A Conductor task tree of bounded depth, with every task type and some nonsense.
fn conductor_task() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        name().prop_map(|n| json!({"name": n, "taskReferenceName": n, "type": "SIMPLE"})),
        name().prop_map(|n| json!({"name": n, "type": "EVENT", "sink": format!("conductor:{n}")})),
        (name(), prop::collection::vec(name(), 0..3))
            .prop_map(|(n, on)| json!({"name": format!("j{n}"), "type": "JOIN", "joinOn": on})),
        Just(json!({"type": "HTTP", "name": "web"})),
        Just(json!({})),
        (name(), prop::sample::select(vec!["2s", "10 seconds", "1m", "soon", ""]))
            .prop_map(|(n, d)| json!({"name": format!("w{n}"), "type": "WAIT", "inputParameters": {"duration": d}})),
        name().prop_map(|n| json!({"name": format!("sig{n}"), "type": "WAIT"})),
        (name(), name()).prop_map(|(n, field)| json!({"name": format!("m{n}"), "type": "FORK_JOIN_DYNAMIC",
            "dynamicForkTasksInputParamName": "list", "inputParameters": {"list": format!("${{workflow.input.{field}}}")}})),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            (name(), prop::collection::vec(prop::collection::vec(inner.clone(), 0..3), 0..4))
                .prop_map(|(n, branches)| json!({"name": format!("f{n}"), "type": "FORK_JOIN", "forkTasks": branches})),
            (name(), prop::collection::vec(inner.clone(), 0..3), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(n, ok, bad)| json!({"name": format!("s{n}"), "type": "SWITCH",
                    "decisionCases": {"success": ok, "failure": bad}})),
            (name(), prop::collection::vec(inner.clone(), 0..3), prop::collection::vec(inner.clone(), 0..3),
             prop::sample::select(vec!["value-param", "javascript"]))
                .prop_map(|(n, gold, other, evaluator)| json!({"name": format!("v{n}"), "type": "SWITCH",
                    "evaluatorType": evaluator, "expression": "tier",
                    "decisionCases": {"gold": gold, "it's": []}, "defaultCase": other})),
            (name(), prop::collection::vec(inner, 0..3), 0u32..2000)
                .prop_map(|(n, body, turns)| json!({"name": format!("l{n}"), "type": "DO_WHILE",
                    "loopCondition": format!("$.l{n}['iteration'] < {turns}"), "loopOver": body})),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_imported_or_refused_never_more(lines in prop::collection::vec(text_line(), 0..40)) {
        accepted_is_valid(import(&lines.join("\n"), Some(ImportFormat::Text)));
    }

    #[test]
    fn any_bytes_in_any_format_never_panic(text in "\\PC{0,400}") {
        for format in [None, Some(ImportFormat::Native), Some(ImportFormat::Article),
                       Some(ImportFormat::Conductor), Some(ImportFormat::Text),
                       Some(ImportFormat::Mermaid), Some(ImportFormat::Bpmn)] {
            accepted_is_valid(import(&text, format));
        }
        let _ = parse_workflow(text.as_bytes());
    }

    #[test]
    fn any_conductor_tree_is_bounded(tasks in prop::collection::vec(conductor_task(), 0..6)) {
        let doc = json!({"name": "p", "tasks": tasks}).to_string();
        accepted_is_valid(import(&doc, Some(ImportFormat::Conductor)));
    }

    #[test]
    fn documents_with_wrong_fields_are_refused_not_crashed(
        nodes in prop::collection::vec((name(), any::<i64>(), prop::option::of(any::<f64>())), 0..8),
        edges in prop::collection::vec((name(), name(), "[a-z]{0,8}", any::<bool>()), 0..8),
    ) {
        let nodes: Vec<Value> = nodes.into_iter().map(|(id, latency, rate)| json!({
            "id": id, "label": id, "service": "S", "action": "a",
            "latency_ms": latency, "failure_rate": rate})).collect();
        let edges: Vec<Value> = edges.into_iter().map(|(from, to, kind, fail)| json!({
            "from": from, "to": to, "kind": kind, "on": if fail { "failure" } else { "success" }})).collect();
        let doc = json!({"name": "p", "nodes": nodes, "edges": edges}).to_string();
        accepted_is_valid(parse_workflow(doc.as_bytes()));
    }

    #[test]
    fn the_text_form_round_trips(lines in prop::collection::vec(text_line(), 1..30)) {
        if let Ok(first) = import(&lines.join("\n"), Some(ImportFormat::Text)) {
            let again = import(&export(&first, ExportFormat::Text).unwrap(), Some(ImportFormat::Text))
                .expect("our own export imports");
            let ids = |w: &app::model::Workflow| {
                let mut ids: Vec<String> = w.nodes.iter().map(|n| n.id.clone()).collect();
                ids.sort();
                ids
            };
            let links = |w: &app::model::Workflow| {
                let mut links: Vec<String> = w.edges.iter()
                    .map(|e| format!("{} {:?} {:?} {} {}", e.from, e.kind, e.on, e.to, w.event_name(e)))
                    .collect();
                links.sort();
                links
            };
            prop_assert_eq!(&first.name, &again.name);
            prop_assert_eq!(ids(&first), ids(&again));
            prop_assert_eq!(links(&first), links(&again));
            prop_assert_eq!(export(&first, ExportFormat::Text).unwrap(), export(&again, ExportFormat::Text).unwrap());
        }
    }
}

/// A label, service or action in any script, with the characters XML and Mermaid escape.
fn any_name() -> impl Strategy<Value = String> {
    "[가-힣a-zA-Z0-9\"'>&#|;:._()\\[\\]{}-]{1,12}"
}

/// Edges compared as a set, without their generated ids.
fn links(w: &app::model::Workflow) -> Vec<String> {
    let mut links: Vec<String> = w
        .edges
        .iter()
        .map(|e| {
            format!(
                "{} {:?} {:?} {} {}",
                e.from,
                e.kind,
                e.on,
                e.to,
                w.event_name(e)
            )
        })
        .collect();
    links.sort();
    links
}

/// A name built to be mistaken for the syntax around it: Mermaid's markup the export writes
/// around a label (`<br/><small>service.action</small>`), link arrows, the words that mark a
/// failure route or close a subgraph, entity codes, comment starts — mixed with any text.
fn hostile_name() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "on failure",
        "on failure:",
        "On Failure: ",
        "end",
        "End",
        "<br/>",
        "<br>",
        "<small>",
        "</small>",
        ".",
        "..",
        "-->",
        ".->",
        "-.",
        "-- ",
        "|",
        "%%",
        "#quot;",
        "#35;",
        "&lt;",
        "\"",
        "[",
        "]",
        "(",
        "{",
        "결제",
        "Evil.steal",
    ]);
    (pieces.clone(), any_name(), pieces, any_name())
        .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}"))
        .prop_filter("no blank ends", |s| s.trim() == s && !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Mermaid export → import is the identity, whatever the labels, services, actions and
    /// event names say: none of them is read back as markup, a route or another service.
    #[test]
    fn mermaid_export_then_import_is_the_identity_for_any_label_and_event_name(
        names in prop::collection::vec((hostile_name(), hostile_name(), hostile_name()), 2..6),
        events in prop::collection::vec((hostile_name(), any::<bool>(), any::<bool>()), 1..6),
    ) {
        let nodes: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, (label, service, action))| {
                json!({"id": format!("s{i}"), "label": label, "service": service, "action": action})
            })
            .collect();
        let n = names.len();
        let edges: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, (event, is_event, on_failure))| {
                let (from, to) = (i % (n - 1), i % (n - 1) + 1);
                let mut e = json!({"from": format!("s{from}"), "to": format!("s{to}"),
                                   "kind": if *is_event { "event" } else { "command" }});
                if *on_failure {
                    e["on"] = json!("failure");
                }
                if *is_event {
                    e["event"] = json!(event);
                }
                e
            })
            .collect();
        let doc = json!({"name": "Hostile", "nodes": nodes, "edges": edges}).to_string();
        let Ok(first) = parse_workflow(doc.as_bytes()) else {
            // Edges the model itself refuses (e.g. the same route twice): not this test's.
            return Ok(());
        };
        let text = export(&first, ExportFormat::Mermaid).unwrap();
        let again = import(&text, Some(ImportFormat::Mermaid))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(&first.nodes, &again.nodes, "{}", text);
        prop_assert_eq!(links(&first), links(&again), "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn mermaid_and_bpmn_round_trip_any_workflow(
        lines in prop::collection::vec(text_line(), 1..30),
        names in prop::collection::vec((any_name(), any_name(), any_name()), 12),
        workflow_name in any_name(),
        details in prop::collection::vec((0u8..6, 1u32..5), 30),
        kinds in prop::collection::vec((0u8..5, 1u64..5000), 12),
    ) {
        if let Ok(mut first) = import(&lines.join("\n"), Some(ImportFormat::Text)) {
            first.name = workflow_name;
            // Timers, waits for a message with a timeout, inclusive decisions on some steps.
            for (node, ((label, service, action), (kind, ms))) in
                first.nodes.iter_mut().zip(names.into_iter().zip(kinds))
            {
                node.label = label;
                node.service = service;
                node.action = action;
                match kind {
                    1 => node.wait = Some(Wait { for_ms: Some(ms), ..Wait::default() }),
                    2 => node.wait = Some(Wait {
                        message: Some(format!("Confirmed{ms}")),
                        timeout_ms: Some(ms),
                        ..Wait::default()
                    }),
                    3 => node.decide = Some(Decide::Inclusive),
                    _ => {}
                }
            }
            // Conditions (with quotes and markup in them, with and without FEEL for them)
            // and loop bounds on some edges.
            for (edge, (what, k)) in first.edges.iter_mut().zip(details) {
                match what {
                    1 => edge.condition = Some(format!("amount > {k}")),
                    2 => edge.condition = Some(format!("note == 'a\"<&>{k}' || tier != \"g'{k}\"")),
                    3 => edge.max_iterations = Some(k),
                    4 => edge.condition = Some(format!("size(items) > {k} && !(x < {k})")),
                    5 => edge.condition = Some(format!("!vip && amount - {k} >= 0")),
                    _ => {}
                }
            }
            if !validate(&first).is_empty() {
                return Ok(()); // details the model refuses here (two defaults, say): not this test's
            }
            for format in [ExportFormat::Mermaid, ExportFormat::Bpmn] {
                let text = export(&first, format).unwrap();
                let again = import(&text, None)
                    .unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
                prop_assert_eq!(&first.name, &again.name);
                prop_assert_eq!(&first.nodes, &again.nodes, "{:?}\n{}", format, text);
                prop_assert_eq!(links(&first), links(&again));
                prop_assert_eq!(edge_details(&first), edge_details(&again), "{:?}\n{}", format, text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// AsyncAPI is written, not read: any workflow gives a document with one channel per
    /// event name, a `send` per publishing service and a `receive` per subscribing one, and
    /// every `$ref` pointing inside it, whatever the names.
    #[test]
    fn asyncapi_describes_every_event_of_any_workflow(
        lines in prop::collection::vec(text_line(), 1..30),
        names in prop::collection::vec(any_name(), 12),
    ) {
        if let Ok(mut w) = import(&lines.join("\n"), Some(ImportFormat::Text)) {
            for (node, service) in w.nodes.iter_mut().zip(names) {
                node.service = service;
            }
            let doc: Value = serde_json::from_str(&export(&w, ExportFormat::AsyncApi).unwrap()).unwrap();
            let events: std::collections::BTreeSet<String> = w.edges.iter()
                .filter(|e| e.kind == app::model::workflow::EdgeKind::Event)
                .map(|e| w.event_name(e))
                .collect();
            let channels = doc["channels"].as_object().unwrap();
            let addresses: std::collections::BTreeSet<String> = channels.values()
                .map(|c| c["address"].as_str().unwrap().to_string())
                .collect();
            prop_assert_eq!(&addresses, &events);
            for key in channels.keys().chain(doc["operations"].as_object().unwrap().keys()) {
                prop_assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "key {:?}", key);
            }
            let mut sends = std::collections::BTreeSet::new();
            for e in w.edges.iter().filter(|e| e.kind == app::model::workflow::EdgeKind::Event) {
                sends.insert((w.node(&e.from).unwrap().service.clone(), "send", w.event_name(e)));
                sends.insert((w.node(&e.to).unwrap().service.clone(), "receive", w.event_name(e)));
            }
            prop_assert_eq!(doc["operations"].as_object().unwrap().len(), sends.len());
            let text = doc.to_string();
            for r in text.split("\"$ref\":\"#/").skip(1) {
                let path = &r[..r.find('"').unwrap()];
                let mut at = &doc;
                for part in path.split('/') {
                    at = &at[part];
                }
                prop_assert!(!at.is_null(), "dangling $ref #/{}", path);
            }
        }
    }
}

/// Found by the `document` fuzz target: a number given with more digits than a float holds
/// must be read exactly (to the nearest float), or what we write back reads as another
/// number and the workflow does not equal itself after a save.
#[test]
fn a_saved_document_reads_back_equal() {
    let doc = json!({"name": "Saga", "nodes": [{"id": "pay", "label": "Pay", "service": "P",
        "action": "charge", "failure_rate": 0.25}], "edges": []})
    .to_string()
    .replace("0.25", "0.23333333333333333333333");
    let w = parse_workflow(doc.as_bytes()).unwrap();
    let again = parse_workflow(&serde_json::to_vec(&w).unwrap()).unwrap();
    assert_eq!(w, again);
}

proptest! {
    #[test]
    fn any_failure_rate_survives_a_save(rate in 0.0f64..=1.0, latency in 0u64..3_600_000) {
        let doc = json!({"name": "p", "nodes": [{"id": "a", "label": "A", "service": "S",
            "action": "a", "failure_rate": rate, "latency_ms": latency,
            "position": {"x": rate * 1e6, "y": -rate}}], "edges": []});
        let w = parse_workflow(doc.to_string().as_bytes()).unwrap();
        let again = parse_workflow(&serde_json::to_vec(&w).unwrap()).unwrap();
        prop_assert_eq!(w, again);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any workflow of the text form, with any names: written as a state machine (when it
    /// has one) it reads back as a workflow that, written again, reads back unchanged —
    /// and a state machine built from arbitrary JSON never panics the reader.
    #[test]
    fn a_state_machine_reads_back_unchanged(
        lines in prop::collection::vec(text_line(), 1..30),
        names in prop::collection::vec(any_name(), 12),
    ) {
        if let Ok(mut w) = import(&lines.join("\n"), Some(ImportFormat::Text)) {
            for (node, label) in w.nodes.iter_mut().zip(names) {
                node.label = label;
            }
            if let Ok(text) = export(&w, ExportFormat::Asl) {
                let first = import(&text, Some(ImportFormat::Asl))
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                prop_assert_eq!(first.nodes.len(), w.nodes.len());
                let again = export(&first, ExportFormat::Asl).unwrap();
                let second = import(&again, Some(ImportFormat::Asl)).unwrap();
                prop_assert_eq!(&first, &second, "{}", again);
            }
        }
    }

    #[test]
    fn the_state_machine_reader_takes_any_json(
        states in prop::collection::btree_map(name(), prop_oneof![
            Just(json!({"Type": "Task", "Resource": "arn:aws:lambda:x:function:F", "End": true})),
            name().prop_map(|n| json!({"Type": "Task", "Resource": "r", "Next": n})),
            name().prop_map(|n| json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericGreaterThan": 1, "Next": n}]})),
            name().prop_map(|n| json!({"Type": "Wait", "Seconds": 1, "Next": n})),
            name().prop_map(|n| json!({"Type": "Parallel", "Branches": [{"StartAt": n, "States": {}}], "End": true})),
            Just(json!({"Type": "Succeed"})),
            Just(json!({"Type": "Fail"})),
            Just(json!({"Type": "Pass", "End": true})),
        ], 0..8),
        start in name(),
    ) {
        let machine = json!({"StartAt": start, "States": states});
        accepted_is_valid(import(&machine.to_string(), Some(ImportFormat::Asl)));
    }
}
