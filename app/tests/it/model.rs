//! The native format and its validation: each problem kind, all reported at once.

use app::model::validate::{MAX_DOCUMENT_BYTES, MAX_EDGES, MAX_NODES, MAX_STRING_CHARS};
use app::model::{parse_workflow, DocumentError, EdgeKind, Outcome, Problem, Workflow};
use serde_json::{json, Value};

fn node(id: &str) -> Value {
    json!({"id": id, "label": id, "service": "S", "action": "a", "position": {"x": 1, "y": 2}})
}

fn problems(doc: Value) -> Vec<Problem> {
    match parse_workflow(doc.to_string().as_bytes()) {
        Err(DocumentError::Invalid(p)) => p,
        other => panic!("expected an invalid workflow, got {other:?}"),
    }
}

fn find<'a>(problems: &'a [Problem], path: &str) -> &'a Problem {
    problems
        .iter()
        .find(|p| p.path == path)
        .unwrap_or_else(|| panic!("no problem at {path} in {problems:#?}"))
}

#[test]
fn the_issue_example_parses_and_round_trips() {
    let text = r#"{"name":"Order","nodes":[{"id":"order","label":"Order Placement","service":"OrderService","action":"place","position":{"x":80,"y":120}}],"edges":[]}"#;
    let w = parse_workflow(text.as_bytes()).unwrap();
    assert_eq!(w.nodes[0].position.x, 80.0);
    let again: Workflow = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
    assert_eq!(again, w);

    let doc = json!({
        "name": "Two",
        "nodes": [node("a"), node("b")],
        "edges": [
            {"from": "a", "to": "b", "kind": "command"},
            {"id": "e1", "from": "b", "to": "a", "kind": "event", "on": "failure", "event": "BFailed"}
        ]
    });
    let w = parse_workflow(doc.to_string().as_bytes()).unwrap();
    assert_eq!(w.edges[0].id, "e2", "assigned ids avoid the ones given");
    assert_eq!(w.edges[0].on, Outcome::Success);
    assert_eq!(w.edges[1].kind, EdgeKind::Event);
    assert_eq!(w.event_name(&w.edges[1]), "BFailed");
    let mut derived = w.edges[1].clone();
    derived.event = None;
    assert_eq!(w.event_name(&derived), "bFailed");
    // Serialised, it is the same document with the ids filled in and defaults left out.
    let out: Value = serde_json::to_value(&w).unwrap();
    assert_eq!(
        out["edges"][0],
        json!({"id": "e2", "from": "a", "to": "b", "kind": "command"})
    );
    assert_eq!(out["edges"][1]["on"], "failure");
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(json!({
        "name": " ",
        "nodes": [
            node("a"),
            node("a"),
            {"id": "", "label": "L", "service": "", "action": "a"},
            {"id": "c", "label": "C", "service": "S", "action": "x".repeat(MAX_STRING_CHARS + 1)}
        ],
        "edges": [
            {"from": "a", "to": "nowhere", "kind": "command"},
            {"from": "", "to": "a", "kind": "event"},
            {"id": "k", "from": "a", "to": "c", "kind": "signal", "on": "maybe"},
            {"id": "k", "from": "a", "to": "c", "kind": "event", "event": ""}
        ]
    }));
    assert_eq!(find(&p, "name").message, "must not be empty");
    let dup = find(&p, "nodes[1].id");
    assert_eq!(dup.node.as_deref(), Some("a"));
    assert!(dup.message.contains("duplicate node id"));
    assert_eq!(find(&p, "nodes[2].id").message, "must not be empty");
    assert_eq!(find(&p, "nodes[2].service").field, "service");
    assert!(find(&p, "nodes[3].action").message.contains("limit is 200"));
    let unknown = find(&p, "edges[0].to");
    assert_eq!(unknown.edge.as_deref(), Some("#0"));
    assert!(unknown.message.contains("unknown node \"nowhere\""));
    assert_eq!(find(&p, "edges[1].from").message, "must not be empty");
    let kind = find(&p, "edges[2].kind");
    assert_eq!(kind.edge.as_deref(), Some("k"));
    assert!(kind
        .message
        .contains("\"command\" or \"event\", got \"signal\""));
    assert!(find(&p, "edges[2].on")
        .message
        .contains("\"success\" or \"failure\""));
    assert!(find(&p, "edges[3].id")
        .message
        .contains("duplicate edge id"));
    assert_eq!(find(&p, "edges[3].event").message, "must not be empty");
    assert_eq!(p.len(), 11, "{p:#?}");
}

#[test]
fn shape_errors_name_the_path() {
    let p = problems(
        json!({"name": "X", "nodes": [node("a"), {"id": "b", "label": "B", "service": "S", "action": "a", "colour": 1}]}),
    );
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "nodes[1].colour");
    assert_eq!(p[0].field, "colour");
    assert!(p[0].message.contains("unknown field `colour`"), "{p:?}");

    let p = problems(
        json!({"name": "X", "nodes": [{"id": "a", "label": "A", "service": "S", "action": "a", "position": {"x": "left", "y": 0}}]}),
    );
    assert_eq!(p[0].path, "nodes[0].position.x");
    assert_eq!(p[0].field, "x");

    let p = problems(json!({"nodes": []}));
    assert!(p[0].message.contains("missing field `name`"), "{p:?}");
}

#[test]
fn limits_and_malformed_input() {
    let many: Vec<Value> = (0..=MAX_NODES).map(|i| node(&format!("n{i}"))).collect();
    let p = problems(json!({"name": "Big", "nodes": many}));
    assert_eq!(
        find(&p, "nodes").message,
        format!("has {} nodes; the limit is {MAX_NODES}", MAX_NODES + 1)
    );

    let edges: Vec<Value> = (0..=MAX_EDGES)
        .map(|_| json!({"from": "a", "to": "a", "kind": "event"}))
        .collect();
    let p = problems(json!({"name": "Dense", "nodes": [node("a")], "edges": edges}));
    assert!(find(&p, "edges")
        .message
        .contains(&format!("the limit is {MAX_EDGES}")));

    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert!(matches!(
        parse_workflow(&big),
        Err(DocumentError::TooLarge {
            limit: MAX_DOCUMENT_BYTES,
            ..
        })
    ));
    match parse_workflow(b"{\"name\": \"x\",\n \"nodes\": [}") {
        Err(DocumentError::Malformed { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected malformed, got {other:?}"),
    }
}

#[test]
fn behaviour_fields_round_trip_and_are_checked() {
    let doc = json!({"name": "B", "edges": [], "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x", "position": {"x": 0.5, "y": 1.5},
         "latency_ms": [10, 20], "failure_rate": 0.25, "fail_when": {"field": "customer.card", "equals": "expired"},
         "timeout_ms": 15, "retry": {"max_attempts": 3, "backoff_ms": 100, "multiplier": 1.5},
         "compensation": "refund", "join": "all", "idempotent": false},
        {"id": "b", "label": "B", "service": "S", "action": "x", "position": {"x": 2.5, "y": 3.5}, "latency_ms": 5}
    ]});
    let w = parse_workflow(doc.to_string().as_bytes()).unwrap();
    assert_eq!(
        serde_json::to_value(&w).unwrap(),
        doc,
        "round trip exact, defaults left out"
    );
    let a = &w.nodes[0];
    assert_eq!(a.max_attempts(), 3);
    assert!(!a.is_idempotent());
    assert_eq!(a.retry.as_ref().unwrap().delay_before(3), 150);
    assert!(a
        .fail_when
        .as_ref()
        .unwrap()
        .matches(&json!({"customer": {"card": "expired"}})));
    assert!(!a
        .fail_when
        .as_ref()
        .unwrap()
        .matches(&json!({"card": "expired"})));
    assert!(w.nodes[1].is_idempotent() && w.nodes[1].max_attempts() == 1);

    let p = problems(json!({"name": "B", "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x",
         "latency_ms": [30, 20], "failure_rate": 1.5, "fail_when": {"field": "", "equals": 1},
         "timeout_ms": 0, "retry": {"max_attempts": 0, "backoff_ms": 4000000, "multiplier": 0.5},
         "compensation": " "}
    ]}));
    for path in [
        "nodes[0].latency_ms",
        "nodes[0].failure_rate",
        "nodes[0].fail_when.field",
        "nodes[0].timeout_ms",
        "nodes[0].retry.max_attempts",
        "nodes[0].retry.backoff_ms",
        "nodes[0].retry.multiplier",
        "nodes[0].compensation",
    ] {
        let problem = find(&p, path);
        assert_eq!(problem.node.as_deref(), Some("a"));
    }
    assert_eq!(p.len(), 8, "{p:#?}");
    assert!(find(&p, "nodes[0].latency_ms")
        .message
        .contains("minimum is above the maximum"));

    let p = problems(json!({"name": "B", "nodes": [
        {"id": "a", "label": "A", "service": "S", "action": "x", "join": "some"}]}));
    assert_eq!(p[0].path, "nodes[0].join");
}

#[test]
fn a_runs_list_read_while_a_run_ended_does_not_bring_it_back_to_running() {
    use app::model::api::{merge_runs, RunSummary};
    use app::model::RunStatus;
    let run = |id: &str, started_at: i64, ended_at: Option<i64>| RunSummary {
        id: id.into(),
        workflow_id: if id == "other" { "v" } else { "w" }.into(),
        status: if ended_at.is_some() {
            RunStatus::Completed
        } else {
            RunStatus::Running
        },
        started_at,
        ended_at,
        messages: None,
        diagnosis: None,
        input: json!({}).into(),
        outcome: None,
        speed: None,
        parent: None,
        children: Vec::new(),
    };
    // The list was read while "b" ran and before "c" started; the feed has told of both.
    let listed = vec![run("b", 2, None), run("a", 1, Some(5))];
    // (The list still holds a run of the workflow open before, which goes.)
    let known = vec![
        run("c", 3, None),
        run("b", 2, Some(4)),
        run("other", 9, None),
    ];
    let merged = merge_runs("w", listed, &known);
    let ids: Vec<(&str, Option<i64>)> =
        merged.iter().map(|r| (r.id.as_str(), r.ended_at)).collect();
    assert_eq!(ids, [("c", None), ("b", Some(4)), ("a", Some(5))]);
    // A list that knows more (the run ended) wins over an older feed message.
    let merged = merge_runs("w", vec![run("b", 2, Some(4))], &[run("b", 2, None)]);
    assert_eq!(merged[0].ended_at, Some(4));
}

#[test]
fn a_workflow_made_from_a_template_names_it_and_an_unknown_template_is_refused() {
    use app::model::examples::{from_template, template, ALL};
    use app::model::validate;
    let example = template("ecommerce-orchestrated").expect("shipped");
    let w = from_template(example);
    assert_eq!(w.template.as_deref(), Some("ecommerce-orchestrated"));
    assert!(validate(&w).is_empty(), "{:?}", validate(&w));
    // It round-trips through the document format.
    let text = serde_json::to_string(&w).unwrap();
    assert_eq!(parse_workflow(text.as_bytes()).unwrap(), w);
    // Every template has at least one scenario, its input a JSON object, kept by its
    // document with what the run must show.
    for e in ALL {
        assert!(!e.scenarios.is_empty(), "{}", e.key);
        for s in e.scenarios {
            assert!(serde_json::from_str::<Value>(s.input)
                .unwrap_or_else(|err| panic!("{}: {err}", e.key))
                .is_object());
        }
        let document = from_template(e);
        assert_eq!(document.scenarios.len(), e.scenarios.len(), "{}", e.key);
        assert!(
            document
                .scenarios
                .iter()
                .all(|s| s.expect.outcome.is_some()),
            "{}",
            e.key
        );
    }
    let mut doc = serde_json::to_value(&w).unwrap();
    doc["template"] = json!("no-such-template");
    let problems = problems(doc);
    let p = find(&problems, "template");
    assert!(
        p.message
            .starts_with("names no shipped template (\"no-such-template\")"),
        "{}",
        p.message
    );
}

/// The runs feed does not list a run's children: merging it with a list that does keeps
/// them.
#[test]
fn a_runs_feed_end_keeps_the_children_the_list_knows() {
    use app::model::api::RunSummary;
    use app::model::RunStatus;
    let line = |ended: Option<i64>, children: Vec<String>| RunSummary {
        id: "p".into(),
        workflow_id: "w".into(),
        status: if ended.is_some() {
            RunStatus::Completed
        } else {
            RunStatus::Running
        },
        started_at: 1,
        ended_at: ended,
        messages: None,
        diagnosis: None,
        input: json!({}).into(),
        outcome: None,
        speed: None,
        parent: None,
        children,
    };
    let listed = vec![line(None, vec!["p.pay.1.1".into()])];
    let fed = vec![line(Some(5), Vec::new())];
    let merged = app::model::api::merge_runs("w", listed, &fed);
    assert_eq!(merged[0].ended_at, Some(5));
    assert_eq!(merged[0].children, ["p.pay.1.1"]);
}
