//! Design warnings: each one appears on the design that deserves it, names its culprit, and
//! goes away when the design is fixed.

use app::model::examples::ALL;
use app::model::formats::{import, ImportFormat};
use app::model::lint::{lint, WarningKind};
use app::model::{Join, Workflow};

fn text(src: &str) -> Workflow {
    import(src, Some(ImportFormat::Text)).expect("valid text workflow")
}

fn kinds(w: &Workflow) -> Vec<(WarningKind, Option<String>, Option<String>)> {
    lint(w)
        .into_iter()
        .map(|x| (x.kind, x.node, x.edge))
        .collect()
}

#[test]
fn an_event_driven_step_that_can_fail_unheard() {
    let mut w = text("order ~> pay : OrderPlaced\n");
    w.nodes[1].failure_rate = Some(0.1);
    let warnings = lint(&w);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind, WarningKind::UnheardFailure);
    assert_eq!(warnings[0].node.as_deref(), Some("pay"));
    assert!(warnings[0]
        .message
        .contains("nobody subscribes to payFailed"));
    // Subscribing to the failure clears it.
    let mut fixed = text("order ~> pay : OrderPlaced\npay ~!> refund : PaymentFailed\n");
    fixed.nodes[1].failure_rate = Some(0.1);
    assert_eq!(kinds(&fixed), vec![]);
}

#[test]
fn failure_handling_that_differs_between_commands_and_events() {
    let mut w = text("a -> b\nb -!> alert\na ~> c : Go\n");
    for id in ["b", "c"] {
        w.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap()
            .failure_rate = Some(0.5);
    }
    let k = kinds(&w);
    assert!(
        k.contains(&(
            WarningKind::InconsistentFailureHandling,
            Some("c".into()),
            None
        )),
        "{k:?}"
    );
    assert!(k.contains(&(WarningKind::UnheardFailure, Some("c".into()), None)));
}

#[test]
fn an_orchestrated_step_without_compensation_before_a_risky_one() {
    let mut w = text("order -> pay\npay -> ship\n");
    w.nodes[2].fail_when = Some(app::model::FailWhen {
        field: "stock".into(),
        equals: "none".into(),
    });
    let k = kinds(&w);
    assert!(k.contains(&(WarningKind::NoCompensation, Some("order".into()), None)));
    assert!(k.contains(&(WarningKind::NoCompensation, Some("pay".into()), None)));
    for n in w.nodes.iter_mut().take(2) {
        n.compensation = Some("undo".into());
    }
    assert!(!kinds(&w).iter().any(|k| k.0 == WarningKind::NoCompensation));
}

#[test]
fn event_cycles_unreachable_steps_and_impossible_joins() {
    // x -> y ~> x: a loop of a command and an event, unbounded, that nothing enters.
    let w = text("start -> a\na ~> b : Ping\nb ~> a : Pong\nx -> y\ny ~> x : Back\n");
    let k = kinds(&w);
    let cycle_edges: Vec<_> = k
        .iter()
        .filter(|k| k.0 == WarningKind::EventCycle)
        .collect();
    assert_eq!(cycle_edges.len(), 2, "{k:?}");
    assert!(k.iter().any(|k| k.0 == WarningKind::UnboundedLoop), "{k:?}");
    let unreachable: Vec<_> = k
        .iter()
        .filter(|k| k.0 == WarningKind::Unreachable)
        .map(|k| k.1.clone().unwrap())
        .collect();
    assert_eq!(unreachable, ["x", "y"]);

    let mut join = text("a -> j\na -!> j\nb -> j\n");
    join.nodes.iter_mut().find(|n| n.id == "j").unwrap().join = Some(Join::All);
    let k = kinds(&join);
    assert!(
        k.contains(&(WarningKind::JoinNeverCompletes, Some("j".into()), None)),
        "{k:?}"
    );
}

#[test]
fn the_shipped_examples_are_clean_designs() {
    for example in ALL {
        // As stored: knowing its template (whose runs bring their input).
        let w = app::model::examples::from_template(example);
        let found: Vec<(WarningKind, Option<String>)> = lint(&w)
            .into_iter()
            .map(|w| (w.kind, w.node.or(w.edge)))
            .collect();
        // One template shows a flaw on purpose: a wait nobody watches (its lesson).
        let expected = match example.key {
            "payment-confirmation-events" => {
                vec![(WarningKind::WaitWithoutTimeout, Some("confirm".to_string()))]
            }
            _ => vec![],
        };
        assert_eq!(found, expected, "{}", example.key);
    }
}

/// Branches that can never be taken are named, with why; a for-each over a list no step
/// writes is a warning (only the input can bring it), and none once a step writes it.
#[test]
fn branches_never_taken_and_for_each_over_unwritten_lists() {
    let doc = |edges: serde_json::Value, extra: serde_json::Value| -> Workflow {
        let step = |id: &str| serde_json::json!({"id": id, "label": id.to_uppercase(), "service": "S", "action": "a"});
        let mut nodes = vec![step("a"), step("b"), step("c"), step("d")];
        if let Some(extra) = extra.as_object() {
            for (k, v) in extra {
                nodes[0][k] = v.clone();
            }
        }
        serde_json::from_value(serde_json::json!({"name": "t", "nodes": nodes, "edges": edges}))
            .unwrap()
    };
    let said = |w: &Workflow| -> Vec<(Option<String>, String)> {
        lint(w)
            .into_iter()
            .filter(|x| {
                matches!(
                    x.kind,
                    WarningKind::BranchNeverTaken | WarningKind::ForEachUnwritten
                )
            })
            .map(|x| (x.edge.or(x.node), x.message))
            .collect()
    };
    let w = doc(
        serde_json::json!([
            {"id": "e1", "from": "a", "to": "b", "kind": "command", "condition": "amount > 100"},
            {"id": "e2", "from": "a", "to": "c", "kind": "command", "condition": "amount  >  100"},
            {"id": "e3", "from": "a", "to": "d", "kind": "command", "condition": "false"}]),
        serde_json::json!({}),
    );
    assert_eq!(
        said(&w),
        [
            (Some("e2".to_string()), "edge e2 after A can never be taken: edge e1 has the same condition and comes first in this exclusive decision".to_string()),
            (Some("e3".to_string()), "edge e3 after A can never be taken: its condition is false".to_string()),
        ]
    );
    // Inclusive: both branches are taken; only `false` never is.
    let mut inclusive = w.clone();
    inclusive.nodes[0].decide = Some(app::model::Decide::Inclusive);
    assert_eq!(said(&inclusive).len(), 1);
    // After `true`, neither a later branch nor the default.
    let w = doc(
        serde_json::json!([
            {"id": "e1", "from": "a", "to": "b", "kind": "command", "condition": "true"},
            {"id": "e2", "from": "a", "to": "c", "kind": "command", "condition": "tier == 'gold'"},
            {"id": "e3", "from": "a", "to": "d", "kind": "command"}]),
        serde_json::json!({}),
    );
    let found: Vec<Option<String>> = said(&w).into_iter().map(|x| x.0).collect();
    assert_eq!(found, [Some("e2".to_string()), Some("e3".to_string())]);
    // One event to two subscribers is one branch, decided once: not a duplicate.
    let w = doc(
        serde_json::json!([
            {"id": "e1", "from": "a", "to": "b", "kind": "event", "event": "Big", "condition": "amount > 100"},
            {"id": "e2", "from": "a", "to": "c", "kind": "event", "event": "Big", "condition": "amount > 100"}]),
        serde_json::json!({}),
    );
    assert_eq!(said(&w), []);
    // A for-each over a list nobody writes, then written.
    let w = doc(
        serde_json::json!([{"from": "a", "to": "b", "kind": "command"}]),
        serde_json::json!({"for_each": "items"}),
    );
    assert_eq!(
        said(&w),
        [(Some("a".to_string()), "A works on each item of items, which no step writes: only a run whose input carries the list gets past it".to_string())]
    );
    let w = doc(
        serde_json::json!([{"from": "a", "to": "b", "kind": "command"}]),
        serde_json::json!({"for_each": "items", "writes": {"items": ["x", "y"]}}),
    );
    assert_eq!(said(&w), []);
}

/// A condition reading a field nobody provides is named, by edge — with the known field a
/// letter or two away, when there is one (a misspelling); a field a step writes, declares
/// it reads from the input, an event carries, the template's runs or the input typed for
/// the next run bring is known.
#[test]
fn a_condition_on_a_field_nobody_provides_is_named() {
    let w: Workflow = serde_json::from_value(serde_json::json!({"name": "t",
        "nodes": [
            {"id": "a", "label": "Authorize", "service": "S", "action": "a", "writes": {"approved": true}, "reads": ["amount"]},
            {"id": "b", "label": "B", "service": "S", "action": "a"},
            {"id": "c", "label": "C", "service": "S", "action": "a"}],
        "edges": [
            {"id": "e1", "from": "a", "to": "b", "kind": "command", "condition": "approved && amout > 1000 && customer.tier == \"gold\""},
            {"id": "e2", "from": "a", "to": "c", "kind": "command", "condition": "amount <= 1000 && size('approved') > 0"}]}))
    .unwrap();
    let said: Vec<(Option<String>, String)> = lint(&w)
        .into_iter()
        .filter(|x| x.kind == WarningKind::UnknownField)
        .map(|x| (x.edge, x.message))
        .collect();
    assert_eq!(
        said,
        [
            (Some("e1".to_string()), "the condition of edge e1 (after Authorize) reads amout, which nobody provides: did you mean amount?".to_string()),
            (Some("e1".to_string()), "the condition of edge e1 (after Authorize) reads customer, which no step writes or reads from the input and no event carries: only a run whose input has it decides on it".to_string()),
        ]
    );
    // The input typed for the next run brings `customer`: only the misspelling is left.
    let given = app::model::lint::lint_given(&w, &["customer".to_string(), "note".to_string()]);
    let said: Vec<String> = given
        .into_iter()
        .filter(|x| x.kind == WarningKind::UnknownField)
        .map(|x| x.message)
        .collect();
    assert_eq!(said, ["the condition of edge e1 (after Authorize) reads amout, which nobody provides: did you mean amount?"]);
    assert_eq!(
        app::model::data::condition_fields("a.b + size(c) > 1e3 && 'd' == e[\"f\"] && x in [1, 2]"),
        ["a", "c", "e", "x"]
    );
}
