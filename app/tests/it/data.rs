//! What a step writes into the run data: the inspector's text form both ways, and the
//! validator's limits on names, counts, sizes and chances (in both languages).

use app::i18n::Locale;
use app::model::data::{parse_writes, writes_text};
use app::model::validate::{behaviour_problems, MAX_WRITES};
use app::model::{Node, Written};
use serde_json::json;

#[test]
fn the_text_form_reads_values_and_choices_and_writes_them_back() {
    let writes = parse_writes(
        "approved = true 80% | false 20%;  amount = 120 ; tier = gold; note = \"a b\"",
        Locale::en,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&writes).unwrap(),
        json!({"amount": 120, "approved": {"choose": [{"value": true, "p": 0.8}, {"value": false, "p": 0.2}]}, "note": "a b", "tier": "gold"})
    );
    let text = writes_text(&writes);
    assert_eq!(
        text,
        "amount = 120; approved = true 80% | false 20%; note = \"a b\"; tier = \"gold\""
    );
    assert_eq!(parse_writes(&text, Locale::en).unwrap(), writes);
    assert!(parse_writes("  ", Locale::en).unwrap().is_empty());
    // A choice draws by its running total; the last value takes what rounding leaves.
    let Written::Choice { .. } = &writes["approved"] else {
        panic!()
    };
    assert_eq!(writes["approved"].pick(0.79), &json!(true));
    assert_eq!(writes["approved"].pick(0.8), &json!(false));
    assert_eq!(writes["approved"].pick(0.9999999), &json!(false));
}

#[test]
fn what_the_text_form_cannot_read_is_said_where() {
    assert_eq!(
        parse_writes("approved true", Locale::en).unwrap_err(),
        "expected `field = value` (fields separated by ;), got \"approved true\""
    );
    assert_eq!(
        parse_writes("approved = true 80% | false", Locale::en).unwrap_err(),
        "a choice is `value chance%`, as in `true 80%`; got \"false\""
    );
    assert_eq!(
        parse_writes("approved = true 80% | false", Locale::ko).unwrap_err(),
        "선택지는 `true 80%`처럼 `값 확률%`로 씁니다. 입력: \"false\""
    );
}

#[test]
fn the_validator_refuses_bad_names_sizes_counts_and_chances() {
    let problems = |writes: serde_json::Value, l: Locale| -> Vec<String> {
        let node = Node {
            writes: serde_json::from_value(writes).unwrap(),
            ..Default::default()
        };
        behaviour_problems(&node, l)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    };
    assert!(problems(
        json!({"approved": {"choose": [{"value": true, "p": 0.8}, {"value": false, "p": 0.2}]}}),
        Locale::en
    )
    .is_empty());
    assert_eq!(
        problems(
            json!({"approved": {"choose": [{"value": true, "p": 0.8}, {"value": false, "p": 0.1}]}}),
            Locale::en
        ),
        ["approved: the chances add up to 0.900, not 1"]
    );
    assert_eq!(
        problems(
            json!({"approved": {"choose": [{"value": true, "p": 1.5}, {"value": false, "p": -0.5}]}}),
            Locale::ko
        ),
        ["approved: 확률은 0과 1 사이여야 합니다. 입력: 1.5"]
    );
    assert_eq!(
        problems(json!({"2fast": 1}), Locale::en),
        ["\"2fast\" is not a field name: a letter or _, then letters, digits or _, at most 64 characters"]
    );
    assert_eq!(problems(json!({"2fast": 1}), Locale::ko), ["\"2fast\"는 필드 이름이 아닙니다. 글자나 _로 시작하고 글자, 숫자, _만 쓰며 최대 64자입니다"]);
    assert_eq!(
        problems(json!({"blob": "x".repeat(600)}), Locale::en),
        ["blob: a value is longer than 512 bytes as JSON"]
    );
    assert_eq!(
        problems(json!({"c": {"choose": []}}), Locale::en),
        ["c: chooses among 0 values; it takes 1 to 16"]
    );
    let many: serde_json::Map<String, serde_json::Value> = (0..=MAX_WRITES)
        .map(|i| (format!("f{i}"), json!(i)))
        .collect();
    assert_eq!(
        problems(serde_json::Value::Object(many), Locale::en),
        ["writes 17 fields; the limit is 16"]
    );
}

/// What a step writes travels with it through every format that can carry its details:
/// native JSON, Mermaid (`%% details`) and BPMN (`hybridflow:details`).
#[test]
fn writes_survive_json_mermaid_and_bpmn() {
    use app::model::formats::{export, import, ExportFormat};
    let doc = json!({"name": "Writes", "nodes": [
        {"id": "order", "label": "Order", "service": "Orders", "action": "place", "writes": {"amount": 120}},
        {"id": "pay", "label": "Pay", "service": "Payments", "action": "charge",
         "writes": {"approved": {"choose": [{"value": true, "p": 0.8}, {"value": false, "p": 0.2}]}, "tier": "gold"}}],
        "edges": [{"from": "order", "to": "pay", "kind": "command"}]});
    let workflow = import(&doc.to_string(), None).unwrap();
    for format in [
        ExportFormat::Json,
        ExportFormat::Mermaid,
        ExportFormat::Bpmn,
    ] {
        let again = import(&export(&workflow, format).unwrap(), None).unwrap();
        for (before, after) in workflow.nodes.iter().zip(&again.nodes) {
            assert_eq!(after.writes, before.writes, "{format:?}: {}", before.id);
        }
    }
    assert!(matches!(
        workflow.nodes[1].writes["approved"],
        Written::Choice { .. }
    ));
}

/// An event's payload and a step's reads are lists of field names within their limits; a
/// command edge has neither a payload nor a subscriber to decide; a publisher decides once
/// per event, so the edges of one event share their condition. Each problem names its edge
/// or step and field, in both languages.
#[test]
fn payloads_reads_and_choreographed_decisions_are_checked_where_they_are() {
    use app::model::validate::{validate_in, MAX_READS};
    let problems = |doc: serde_json::Value, l: Locale| -> Vec<(String, String)> {
        let w: app::model::Workflow = serde_json::from_value(doc).unwrap();
        validate_in(&w, l)
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    };
    let step = |id: &str| json!({"id": id, "label": id, "service": "S", "action": "a"});
    let ok = json!({"name": "t", "nodes": [step("a"), step("b"), step("c")], "edges": [
        {"id": "x", "from": "a", "to": "b", "kind": "event", "event": "Big", "condition": "amount > 100", "payload": ["amount"]},
        {"id": "y", "from": "a", "to": "c", "kind": "event", "event": "Big", "condition": "amount > 100"},
        {"id": "z", "from": "a", "to": "c", "kind": "event", "event": "Checked", "condition": "amount > 5", "decided_by": "subscriber"}]});
    assert_eq!(problems(ok, Locale::en), []);
    let bad = json!({"name": "t", "nodes": [step("a"), step("b"), step("c")], "edges": [
        {"id": "x", "from": "a", "to": "b", "kind": "event", "event": "Big", "condition": "amount > 100"},
        {"id": "y", "from": "a", "to": "c", "kind": "event", "event": "Big", "condition": "amount > 50"},
        {"id": "w", "from": "b", "to": "c", "kind": "command", "decided_by": "subscriber", "payload": ["2x"]}]});
    assert_eq!(
        problems(bad.clone(), Locale::en),
        [
            ("edges[2].decided_by".to_string(), "decided_by is for event edges: a command's data is the orchestrator's".to_string()),
            ("edges[2].payload".to_string(), "payload is for event edges: a command's data is the orchestrator's".to_string()),
            ("edges[2].payload".to_string(), "\"2x\" is not a field name: a letter or _, then letters, digits or _, at most 64 characters".to_string()),
            ("edges[1].condition".to_string(), "the edges of Big must share their condition (the publisher decides once per event; see edge x), or let the subscribers decide".to_string()),
        ]
    );
    assert_eq!(
        problems(bad, Locale::ko)[3].1,
        "Big의 연결은 같은 조건을 가져야 합니다(발행자는 이벤트마다 한 번 결정합니다. 연결 x 참고). 아니면 구독자가 결정하게 하세요"
    );
    let reads: Vec<String> = (0..=MAX_READS).map(|i| format!("f{i}")).collect();
    let node = Node {
        reads,
        ..Default::default()
    };
    assert_eq!(
        behaviour_problems(&node, Locale::en),
        [("reads", "lists 17 fields; the limit is 16".to_string())]
    );
}

/// A loop needs a bound: an orchestrated loop without one is refused, naming the edge that
/// closes it and the steps it joins; a bound lies within its limit; a publisher counts per
/// event, so the edges of one event share their bound. A loop of events only stays a
/// design warning, and none once it is bounded.
#[test]
fn a_loop_without_a_bound_is_refused_where_it_closes() {
    use app::model::lint::{lint, WarningKind};
    use app::model::validate::{validate_in, MAX_LOOP_ITERATIONS};
    let problems = |doc: &serde_json::Value, l: Locale| -> Vec<(String, String)> {
        let w: app::model::Workflow = serde_json::from_value(doc.clone()).unwrap();
        validate_in(&w, l)
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    };
    let step =
        |id: &str, label: &str| json!({"id": id, "label": label, "service": "S", "action": "a"});
    let steps = json!([
        step("o", "Order"),
        step("c", "Charge card"),
        step("k", "Ask for another card")
    ]);
    let mut doc = json!({"name": "t", "nodes": steps, "edges": [
        {"id": "e1", "from": "o", "to": "c", "kind": "command"},
        {"id": "e2", "from": "c", "to": "k", "kind": "command", "on": "failure"},
        {"id": "e3", "from": "k", "to": "c", "kind": "command"}]});
    assert_eq!(
        problems(&doc, Locale::en),
        [(
            "edges[2].max_iterations".to_string(),
            "edge e3 from Ask for another card back to Charge card closes a loop with no bound: the orchestrator would command round it for ever; give one of the loop's edges max_iterations".to_string()
        )]
    );
    assert_eq!(
        problems(&doc, Locale::ko)[0].1,
        "Ask for another card에서 Charge card로 돌아가는 연결 e3은 끝이 없는 반복을 만듭니다. 오케스트레이터가 끝없이 명령합니다. 반복의 연결 하나에 max_iterations를 주세요"
    );
    // A loop of commands and events is a design warning, named where it closes.
    let mut mixed = doc.clone();
    mixed["edges"][1]["kind"] = json!("event");
    assert_eq!(problems(&mixed, Locale::en), []);
    let w: app::model::Workflow = serde_json::from_value(mixed.clone()).unwrap();
    let said: Vec<(WarningKind, Option<String>, String)> = lint(&w)
        .into_iter()
        .filter(|w| w.kind == WarningKind::UnboundedLoop)
        .map(|w| (w.kind, w.edge, w.message))
        .collect();
    assert_eq!(
        said,
        [(
            WarningKind::UnboundedLoop,
            Some("e3".to_string()),
            "edge e3 from Ask for another card back to Charge card closes a loop of commands and events with no bound: it runs until the runaway limit stops the run; give one of its edges max_iterations".to_string()
        )]
    );
    mixed["edges"][1]["max_iterations"] = json!(2);
    let w: app::model::Workflow = serde_json::from_value(mixed).unwrap();
    assert!(!lint(&w)
        .iter()
        .any(|w| w.kind == WarningKind::UnboundedLoop));
    // A bound on any of its edges will do.
    doc["edges"][2]["max_iterations"] = json!(3);
    assert_eq!(problems(&doc, Locale::en), []);
    for bad in [0, MAX_LOOP_ITERATIONS + 1] {
        doc["edges"][2]["max_iterations"] = json!(bad);
        assert_eq!(
            problems(&doc, Locale::en),
            [(
                "edges[2].max_iterations".to_string(),
                format!("must be between 1 and {MAX_LOOP_ITERATIONS}, got {bad}")
            )]
        );
    }
    // Events: a warning while unbounded, nothing once bounded; one event, one bound.
    let mut events = json!({"name": "t", "nodes": steps, "edges": [
        {"id": "e1", "from": "o", "to": "c", "kind": "event"},
        {"id": "e2", "from": "c", "to": "k", "kind": "event", "on": "failure", "event": "Declined"},
        {"id": "e3", "from": "k", "to": "c", "kind": "event"},
        {"id": "e4", "from": "c", "to": "o", "kind": "event", "on": "failure", "event": "Declined"}]});
    let w: app::model::Workflow = serde_json::from_value(events.clone()).unwrap();
    assert!(lint(&w)
        .iter()
        .any(|w| w.kind == WarningKind::EventCycle && w.edge.as_deref() == Some("e2")));
    events["edges"][1]["max_iterations"] = json!(3);
    assert_eq!(
        problems(&events, Locale::en),
        [(
            "edges[3].max_iterations".to_string(),
            "the edges of Declined must share their max_iterations (the publisher counts once per event; see edge e2)".to_string()
        )]
    );
    events["edges"][3]["max_iterations"] = json!(3);
    assert_eq!(problems(&events, Locale::en), []);
    let w: app::model::Workflow = serde_json::from_value(events).unwrap();
    assert!(!lint(&w).iter().any(|w| w.kind == WarningKind::EventCycle));
}
