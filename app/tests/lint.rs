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
    assert!(
        k.iter().any(|k| k.0 == WarningKind::UnboundedLoop),
        "{k:?}"
    );
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
        let w = (example.workflow)();
        let found: Vec<(WarningKind, Option<String>)> =
            lint(&w).into_iter().map(|w| (w.kind, w.node)).collect();
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
