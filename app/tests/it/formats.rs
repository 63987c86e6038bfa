//! Import and export formats, and the automatic layout.

use app::model::formats::{detect, export, import, ExportFormat, ImportError, ImportFormat};
use app::model::layout::layered;
use app::model::{DocumentError, EdgeKind, Join, Outcome, Workflow};
use serde_json::json;

fn edges(w: &Workflow) -> Vec<(String, String, EdgeKind, Outcome, Option<String>)> {
    w.edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.kind, e.on, e.event.clone()))
        .collect()
}

fn unsupported(result: Result<Workflow, ImportError>) -> Vec<(String, String)> {
    match result {
        Err(ImportError::Unsupported(p)) => p.into_iter().map(|p| (p.path, p.message)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_articles_json_becomes_a_command_chain() {
    let text = r#"{"workflow": {"name": "OrderProcessing", "steps": [
        {"name": "ValidateOrder", "service": "OrderService", "action": "validate"},
        {"name": "ChargePayment", "service": "PaymentService", "action": "charge"},
        {"name": "SendConfirmation", "service": "NotificationService", "action": "send"}]}}"#;
    assert_eq!(detect(text), ImportFormat::Article);
    let w = import(text, None).unwrap();
    assert_eq!(w.name, "OrderProcessing");
    let services: Vec<&str> = w.nodes.iter().map(|n| n.service.as_str()).collect();
    assert_eq!(
        services,
        ["OrderService", "PaymentService", "NotificationService"]
    );
    assert_eq!(
        edges(&w),
        vec![
            (
                "ValidateOrder".into(),
                "ChargePayment".into(),
                EdgeKind::Command,
                Outcome::Success,
                None
            ),
            (
                "ChargePayment".into(),
                "SendConfirmation".into(),
                EdgeKind::Command,
                Outcome::Success,
                None
            ),
        ]
    );
    assert!(
        w.nodes[0].position.x < w.nodes[1].position.x,
        "laid out left to right"
    );

    let bad = unsupported(import(
        r#"{"workflow": {"name": "X", "steps": [{"name": "A", "service": ""}]}}"#,
        None,
    ));
    assert!(bad.contains(&(
        "workflow.steps[0].service".into(),
        "must be a non-empty string".into()
    )));
    assert!(bad.iter().any(|(p, _)| p == "workflow.steps[0].action"));
}

#[test]
fn a_conductor_subset_maps_fork_join_events_and_switches() {
    let text = json!({
        "name": "image_convert_resize",
        "tasks": [
            {"name": "receive", "taskReferenceName": "receive", "type": "SIMPLE"},
            {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": [
                [{"name": "jpg", "taskReferenceName": "jpg", "type": "SIMPLE"},
                 {"name": "upload", "taskReferenceName": "upload_jpg", "type": "SIMPLE"}],
                [{"name": "webp", "taskReferenceName": "webp", "type": "SIMPLE"},
                 {"name": "upload", "taskReferenceName": "upload_webp", "type": "SIMPLE"}]
            ]},
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["upload_jpg", "upload_webp"]},
            {"name": "announce", "taskReferenceName": "announce", "type": "EVENT", "sink": "conductor:ImagesReady"},
            {"name": "notify", "taskReferenceName": "notify", "type": "SIMPLE"},
            {"name": "check", "taskReferenceName": "check", "type": "SWITCH", "decisionCases": {
                "success": [{"name": "archive", "taskReferenceName": "archive", "type": "SIMPLE"}],
                "failure": [{"name": "alert", "taskReferenceName": "alert", "type": "SIMPLE"}]
            }}
        ],
        "outputParameters": {"jpg": "${upload_jpg.output.location}", "webp": "${upload_webp.output.location}"}
    })
    .to_string();
    assert_eq!(detect(&text), ImportFormat::Conductor);
    let w = import(&text, None).unwrap();
    let e = edges(&w);
    let has = |from: &str, to: &str, kind, on| {
        e.iter()
            .any(|x| x.0 == from && x.1 == to && x.2 == kind && x.3 == on)
    };
    assert!(has("receive", "jpg", EdgeKind::Command, Outcome::Success));
    assert!(has("receive", "webp", EdgeKind::Command, Outcome::Success));
    assert!(has(
        "upload_jpg",
        "join",
        EdgeKind::Command,
        Outcome::Success
    ));
    assert!(has(
        "upload_webp",
        "join",
        EdgeKind::Command,
        Outcome::Success
    ));
    assert_eq!(w.node("join").unwrap().join, Some(Join::All));
    let event = e.iter().find(|x| x.1 == "notify").unwrap();
    assert_eq!(
        (event.2, event.4.as_deref()),
        (EdgeKind::Event, Some("ImagesReady"))
    );
    assert!(has(
        "notify",
        "archive",
        EdgeKind::Command,
        Outcome::Success
    ));
    assert!(has("notify", "alert", EdgeKind::Command, Outcome::Failure));
    assert_eq!(
        w.nodes.len(),
        9,
        "control tasks other than JOIN are not steps"
    );

    let refused = unsupported(import(
        &json!({"name": "x", "tasks": [
            {"name": "a", "taskReferenceName": "a", "type": "SIMPLE"},
            {"name": "loop", "taskReferenceName": "loop", "type": "DO_WHILE"},
            {"name": "s", "taskReferenceName": "s", "type": "SWITCH", "decisionCases": {"maybe": []}}
        ]})
        .to_string(),
        None,
    ));
    assert!(
        refused.iter().any(|(p, m)| p == "tasks[1].loopOver"
            && m.contains("DO_WHILE task \"loop\" has no tasks in loopOver")),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|(p, m)| p == "tasks[2].decisionCases.maybe" && m.contains("\"maybe\"")),
        "{refused:?}"
    );
}

#[test]
fn the_text_form_reads_commands_events_failures_and_airflow_chains() {
    let text = "name: Shop\n# the happy path\norder -> payment\npayment ~> email : PaymentCharged\npayment ~!> refund : PaymentFailed\npayment -!> alert\ndownload_launches >> get_pictures >> notify\nlonely\n";
    assert_eq!(detect(text), ImportFormat::Text);
    let w = import(text, None).unwrap();
    assert_eq!(w.name, "Shop");
    let e = edges(&w);
    assert!(e.contains(&(
        "order".into(),
        "payment".into(),
        EdgeKind::Command,
        Outcome::Success,
        None
    )));
    assert!(e.contains(&(
        "payment".into(),
        "email".into(),
        EdgeKind::Event,
        Outcome::Success,
        Some("PaymentCharged".into())
    )));
    assert!(e.contains(&(
        "payment".into(),
        "refund".into(),
        EdgeKind::Event,
        Outcome::Failure,
        Some("PaymentFailed".into())
    )));
    assert!(e.contains(&(
        "payment".into(),
        "alert".into(),
        EdgeKind::Command,
        Outcome::Failure,
        None
    )));
    assert!(e.contains(&(
        "download_launches".into(),
        "get_pictures".into(),
        EdgeKind::Command,
        Outcome::Success,
        None
    )));
    assert!(e.contains(&(
        "get_pictures".into(),
        "notify".into(),
        EdgeKind::Command,
        Outcome::Success,
        None
    )));
    assert!(w.node("lonely").is_some());

    // Exported as text and read back: the same steps and edges.
    let again = import(
        &export(&w, ExportFormat::Text).unwrap(),
        Some(ImportFormat::Text),
    )
    .unwrap();
    assert_eq!(edges(&again), e);
    assert_eq!(again.nodes.len(), w.nodes.len());

    let refused = unsupported(import(
        "a -> b\nthis is not an edge\nc -> d : Named\nx ~> y :\n",
        Some(ImportFormat::Text),
    ));
    assert_eq!(
        refused.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["line 2", "line 3", "line 4"]
    );
    assert!(refused[1].1.contains("use ~> for an event"));
}

#[test]
fn native_json_round_trips_and_errors_say_where() {
    let doc = json!({"name": "N", "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x", "position": {"x": 1.5, "y": 2.5}, "retry": {"max_attempts": 2, "backoff_ms": 10, "multiplier": 2.0}},
        {"id": "b", "label": "B", "service": "S", "action": "x", "position": {"x": 3.5, "y": 4.5}}],
        "edges": [{"id": "e1", "from": "a", "to": "b", "kind": "event", "event": "Done"}]});
    let w = import(&doc.to_string(), None).unwrap();
    let out: serde_json::Value =
        serde_json::from_str(&export(&w, ExportFormat::Json).unwrap()).unwrap();
    assert_eq!(out, doc);
    match import("{\"name\": \"x\",\n\"nodes\": [1,]}", None) {
        Err(ImportError::Document(DocumentError::Malformed { line, .. })) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn native_json_without_positions_is_laid_out_and_positions_given_are_kept() {
    let doc = json!({"name": "N", "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x"},
        {"id": "b", "label": "B", "service": "S", "action": "x"},
        {"id": "c", "label": "C", "service": "S", "action": "x"}],
        "edges": [{"from": "a", "to": "b", "kind": "command"}, {"from": "a", "to": "c", "kind": "event"}]});
    let w = import(&doc.to_string(), None).unwrap();
    let positions: Vec<_> = w.nodes.iter().map(|n| n.position).collect();
    assert_eq!(positions, layered(&w), "laid out like Auto layout");
    assert!(positions[0].x < positions[1].x && positions[1].y != positions[2].y);
    // One step, or steps placed on purpose (even at the same x), stay where they are.
    let placed = json!({"name": "P", "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x", "position": {"x": 10.0, "y": 0.0}},
        {"id": "b", "label": "B", "service": "S", "action": "x", "position": {"x": 10.0, "y": 200.0}}],
        "edges": []});
    let w = import(&placed.to_string(), None).unwrap();
    assert_eq!((w.nodes[0].position.y, w.nodes[1].position.y), (0.0, 200.0));
}

#[test]
fn mermaid_export_draws_commands_events_and_failure_routes() {
    let w = import(
        "name: M\norder -> pay\npay ~> mail : Paid\npay -!> undo\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    // The details comments (each step's position) aside.
    let mermaid: String = export(&w, ExportFormat::Mermaid)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(" details {"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        mermaid,
        "---\ntitle: \"M\"\n---\nflowchart LR\n    order[\"order<br/><small>order.run</small>\"]\n    pay[\"pay<br/><small>pay.run</small>\"]\n    mail[\"mail<br/><small>mail.run</small>\"]\n    undo[\"undo<br/><small>undo.run</small>\"]\n    order --> pay\n    pay -. Paid .-> mail\n    pay -- on failure --> undo\n    linkStyle 2 stroke:#c8322f,color:#c8322f\n"
    );
}

#[test]
fn layout_is_layered_left_to_right_without_overlaps() {
    let w = import(
        "a -> b\na -> c\nb -> d\nc -> d\nd ~> a : Again\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    let p = layered(&w);
    let x = |id: &str| p[w.nodes.iter().position(|n| n.id == id).unwrap()].x;
    assert!(
        x("a") < x("b") && x("b") == x("c") && x("c") < x("d"),
        "{p:?}"
    );
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            assert!(
                p[i] != p[j],
                "{} and {} overlap",
                w.nodes[i].id,
                w.nodes[j].id
            );
        }
    }
}

#[test]
fn auto_layout_leaves_room_between_layers_for_the_longest_label_leaving_each() {
    use app::model::layout::{MIN_LAYER_SPACE, STEP_WIDTH};
    let w = import(
        "a ~> b : AVeryLongEventNameThatNeedsRoomToBeRead\nb -> c\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    let p = layered(&w);
    let x = |id: &str| p[w.nodes.iter().position(|n| n.id == id).unwrap()].x;
    let label = "AVeryLongEventNameThatNeedsRoomToBeRead".len() as f64;
    // After a: the event's name fits (about 7 px a character at 12 px) with a margin.
    assert!(x("b") - x("a") - STEP_WIDTH >= label * 7.0, "{p:?}");
    // After b: a plain command, the least room (still long enough to grab the edge).
    assert_eq!(x("c") - x("b") - STEP_WIDTH, MIN_LAYER_SPACE);
}

/// Conductor's value SWITCH (cases on one value, a default), WAIT (a duration, or a signal),
/// DO_WHILE (a loop counting its iterations) and FORK_JOIN_DYNAMIC (a for-each) map to
/// decisions, timers and waits, bounded loops and for-eaches; what Hybridflow cannot run is
/// refused by task and why: the JavaScript evaluator, a loop condition that does not count,
/// a wait until a date, a sub-workflow.
#[test]
fn conductor_switches_waits_loops_and_dynamic_forks() {
    let text = json!({
        "name": "order_flow",
        "tasks": [
            {"name": "check", "taskReferenceName": "check", "type": "SIMPLE"},
            {"name": "route", "taskReferenceName": "route", "type": "SWITCH", "evaluatorType": "value-param",
             "expression": "tier", "inputParameters": {"tier": "${workflow.input.tier}"},
             "decisionCases": {"gold": [{"name": "vip", "taskReferenceName": "vip", "type": "SIMPLE"}], "silver": []},
             "defaultCase": [{"name": "standard", "taskReferenceName": "standard", "type": "SIMPLE"}]},
            {"name": "pause", "taskReferenceName": "pause", "type": "WAIT", "inputParameters": {"duration": "2 seconds"}},
            {"name": "retry_charge", "taskReferenceName": "charge_loop", "type": "DO_WHILE",
             "loopCondition": "if ($.charge_loop['iteration'] < 3) { true; } else { false; }",
             "loopOver": [{"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"}]},
            {"name": "pack", "taskReferenceName": "pack", "type": "FORK_JOIN_DYNAMIC", "dynamicForkTasksParam": "dynamicTasks",
             "dynamicForkTasksInputParamName": "dynamicTasksInput", "inputParameters": {"dynamicTasksInput": "${workflow.input.items}"}},
            {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
            {"name": "confirm", "taskReferenceName": "confirm", "type": "WAIT"}
        ]
    })
    .to_string();
    let w = import(&text, None).unwrap();
    let said: Vec<(String, String, Option<String>, Option<u32>)> = w
        .edges
        .iter()
        .map(|e| {
            (
                e.from.clone(),
                e.to.clone(),
                e.condition.clone(),
                e.max_iterations,
            )
        })
        .collect();
    let edge = |from: &str, to: &str, condition: Option<&str>, bound: Option<u32>| {
        (
            from.to_string(),
            to.to_string(),
            condition.map(str::to_string),
            bound,
        )
    };
    for expected in [
        edge("check", "vip", Some("tier == 'gold'"), None),
        edge("check", "pause", Some("tier == 'silver'"), None),
        edge("check", "standard", None, None),
        edge("vip", "pause", None, None),
        edge("standard", "pause", None, None),
        edge("pause", "charge", None, None),
        edge("charge", "charge", None, Some(2)),
        edge("charge", "pack", None, None),
        edge("pack", "join", None, None),
        edge("join", "confirm", None, None),
    ] {
        assert!(said.contains(&expected), "{expected:?} in {said:?}");
    }
    assert_eq!(said.len(), 10, "{said:?}");
    assert_eq!(
        w.node("pause").unwrap().wait.as_ref().unwrap().for_ms,
        Some(2_000)
    );
    assert_eq!(
        w.node("confirm")
            .unwrap()
            .wait
            .as_ref()
            .unwrap()
            .message
            .as_deref(),
        Some("confirm")
    );
    assert_eq!(w.node("pack").unwrap().for_each.as_deref(), Some("items"));
    assert!(
        app::model::validate(&w).is_empty(),
        "{:?}",
        app::model::validate(&w)
    );

    let refused = unsupported(import(
        &json!({"name": "x", "tasks": [
            {"name": "a", "taskReferenceName": "a", "type": "SIMPLE"},
            {"name": "js", "taskReferenceName": "js", "type": "SWITCH", "evaluatorType": "javascript",
             "expression": "$.amount > 100 ? 'big' : 'small'", "decisionCases": {"big": []}},
            {"name": "forever", "taskReferenceName": "forever", "type": "DO_WHILE", "loopCondition": "$.done == false",
             "loopOver": [{"name": "b", "taskReferenceName": "b", "type": "SIMPLE"}]},
            {"name": "later", "taskReferenceName": "later", "type": "WAIT", "inputParameters": {"until": "2027-01-01 00:00 UTC"}},
            {"name": "soon", "taskReferenceName": "soon", "type": "WAIT", "inputParameters": {"duration": "a while"}},
            {"name": "child", "taskReferenceName": "child", "type": "KAFKA_PUBLISH"}
        ]})
        .to_string(),
        None,
    ));
    assert_eq!(
        refused,
        [
            ("tasks[1].evaluatorType".to_string(), "SWITCH task \"js\" uses the javascript evaluator, which Hybridflow does not run: use evaluatorType \"value-param\" (its cases compare one value)".to_string()),
            ("tasks[2].loopCondition".to_string(), "DO_WHILE task \"forever\": Hybridflow reads a loopCondition that counts its iterations ($.ref['iteration'] < N, at most 1001), not \"$.done == false\"".to_string()),
            ("tasks[3].inputParameters.until".to_string(), "WAIT task \"later\" waits until a date: Hybridflow simulates durations (\"duration\": \"10s\") or waits for a signal".to_string()),
            ("tasks[4].inputParameters.duration".to_string(), "WAIT task \"soon\": the duration \"a while\" is not a number with a unit (ms, s, m, h)".to_string()),
            ("tasks[5].type".to_string(), "task \"child\" has type KAFKA_PUBLISH, which Hybridflow does not import (supported: SIMPLE, FORK_JOIN, JOIN, EVENT, SWITCH, DECISION, WAIT, DO_WHILE, FORK_JOIN_DYNAMIC, SUB_WORKFLOW)".to_string()),
        ]
    );
}

/// A Conductor `SUB_WORKFLOW` runs the workflow its `subWorkflowParam` names as a child run
/// (a sub-flow step, its timeout kept); one that names none is refused by task.
#[test]
fn a_conductor_sub_workflow_is_a_sub_flow_step() {
    let definition = serde_json::json!({
        "name": "order",
        "tasks": [
            {"name": "place", "taskReferenceName": "place", "type": "SIMPLE"},
            {"name": "pay", "taskReferenceName": "pay", "type": "SUB_WORKFLOW", "timeoutSeconds": 30,
             "subWorkflowParam": {"name": "payment", "version": 2}},
            {"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"}
        ]
    });
    let w = import(&definition.to_string(), Some(ImportFormat::Conductor)).unwrap();
    let pay = w.node("pay").unwrap();
    assert_eq!(pay.sub_flow.as_deref(), Some("payment"));
    assert_eq!(pay.timeout_ms, Some(30_000));
    assert!(w.edges.iter().any(|e| e.from == "place" && e.to == "pay"));
    assert!(w.edges.iter().any(|e| e.from == "pay" && e.to == "ship"));

    let nameless = serde_json::json!({"name": "x", "tasks": [
        {"name": "pay", "taskReferenceName": "pay", "type": "SUB_WORKFLOW", "subWorkflowParam": {}}]});
    match import(&nameless.to_string(), Some(ImportFormat::Conductor)) {
        Err(ImportError::Unsupported(problems)) => {
            assert_eq!(problems[0].path, "tasks[0].subWorkflowParam.name");
            assert_eq!(
                problems[0].message,
                "task \"pay\" is a SUB_WORKFLOW with no subWorkflowParam.name: name the workflow it runs"
            );
        }
        other => panic!("{other:?}"),
    }
}
