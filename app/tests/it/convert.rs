//! Converting between coordination styles: each rule, and each thing a conversion loses
//! reported as a warning on the result instead of being patched over.

use app::model::convert::{convert, convert_edge, lost_by, Style};
use app::model::examples::{ecommerce_choreographed, ecommerce_orchestrated};
use app::model::formats::{import, ImportFormat};
use app::model::lint::WarningKind;
use app::model::{EdgeKind, Outcome, Workflow};

fn text(src: &str) -> Workflow {
    import(src, Some(ImportFormat::Text)).expect("valid text workflow")
}

fn edges(w: &Workflow) -> Vec<(String, String, EdgeKind, Outcome, String)> {
    w.edges
        .iter()
        .map(|e| {
            let name = match e.kind {
                EdgeKind::Event => w.event_name(e),
                EdgeKind::Command => String::new(),
            };
            (e.from.clone(), e.to.clone(), e.kind, e.on, name)
        })
        .collect()
}

#[test]
fn to_orchestration_every_event_becomes_a_command_from_the_same_source() {
    let w =
        text("order ~> pay : OrderPlaced\npay ~!> refund : PaymentFailed\npay ~> ship : Paid\n");
    let c = convert(&w, Style::Orchestration);
    assert_eq!(
        edges(&c.workflow),
        vec![
            (
                "order".into(),
                "pay".into(),
                EdgeKind::Command,
                Outcome::Success,
                String::new()
            ),
            // A failure-event subscriber becomes a failure route.
            (
                "pay".into(),
                "refund".into(),
                EdgeKind::Command,
                Outcome::Failure,
                String::new()
            ),
            (
                "pay".into(),
                "ship".into(),
                EdgeKind::Command,
                Outcome::Success,
                String::new()
            ),
        ]
    );
    assert_eq!(c.converted.len(), 3);
    assert!(c.merged.is_empty());
    assert!(c.workflow.edges.iter().all(|e| e.event.is_none()));
    // Steps and their layout are untouched; the copy says what it is.
    assert_eq!(c.workflow.nodes, w.nodes);
    assert!(c.workflow.name.ends_with("(as orchestration)"));
}

#[test]
fn to_choreography_every_command_becomes_an_event_named_after_its_source_outcome() {
    let w = text("order -> pay\npay -!> alert\n");
    let c = convert(&w, Style::Choreography);
    let order = &w.node("order").unwrap().label;
    let pay = &w.node("pay").unwrap().label;
    assert_eq!(
        edges(&c.workflow),
        vec![
            (
                "order".into(),
                "pay".into(),
                EdgeKind::Event,
                Outcome::Success,
                Workflow::default_event_name(order, Outcome::Success)
            ),
            (
                "pay".into(),
                "alert".into(),
                EdgeKind::Event,
                Outcome::Failure,
                Workflow::default_event_name(pay, Outcome::Failure)
            ),
        ]
    );
    assert!(c.workflow.edges[0]
        .event
        .as_deref()
        .unwrap()
        .ends_with("Completed"));
    assert!(c.workflow.edges[1]
        .event
        .as_deref()
        .unwrap()
        .ends_with("Failed"));
}

#[test]
fn two_subscriptions_that_become_the_same_command_are_merged() {
    let w = text("a ~> b : Ready\na ~> b : Go\n");
    let c = convert(&w, Style::Orchestration);
    assert_eq!(c.workflow.edges.len(), 1);
    assert_eq!(c.merged, vec![w.edges[1].id.clone()]);
}

#[test]
fn converting_to_the_style_a_workflow_has_changes_nothing_and_loses_nothing() {
    let w = ecommerce_orchestrated();
    let c = convert(&w, Style::Orchestration);
    assert_eq!(c.workflow.edges, w.edges);
    assert!(c.converted.is_empty() && c.lost.is_empty());
    // Converting a copy again does not stack the suffix.
    let twice = convert(&c.workflow, Style::Choreography);
    assert_eq!(
        twice.workflow.name,
        "E-commerce (orchestrated) (as choreography)"
    );
}

#[test]
fn the_orchestrated_saga_is_lost_in_choreography_and_said_so() {
    let w = ecommerce_orchestrated();
    let c = convert(&w, Style::Choreography);
    let saga: Vec<_> = c
        .lost
        .iter()
        .filter(|x| x.kind == WarningKind::Uncompensated)
        .collect();
    assert_eq!(saga.len(), 1, "{:#?}", c.lost);
    assert_eq!(saga[0].node.as_deref(), Some("fulfillment"));
    assert_eq!(
        saga[0].message,
        "saga over Order Placement, Payment no longer runs when Fulfillment fails: nobody compensates on FulfillmentFailed"
    );
    // Fulfillment's failure now reaches nobody, too.
    assert!(
        c.lost
            .iter()
            .any(|x| x.kind == WarningKind::UnheardFailure
                && x.node.as_deref() == Some("fulfillment"))
    );
    // The payment-rejected route survives as failure events: nothing lost there.
    assert!(!c.lost.iter().any(|x| x.node.as_deref() == Some("payment")));
}

#[test]
fn the_choreographed_flow_loses_nothing_as_orchestration() {
    let w = ecommerce_choreographed();
    let c = convert(&w, Style::Orchestration);
    assert!(c.lost.is_empty(), "{:#?}", c.lost);
    assert_eq!(c.converted.len(), w.edges.len());
    // Three subscribers of BackOrdered become three failure routes of Fulfillment.
    let routes = c
        .workflow
        .edges
        .iter()
        .filter(|e| {
            e.from == "fulfillment" && e.on == Outcome::Failure && e.kind == EdgeKind::Command
        })
        .count();
    assert_eq!(routes, 3);
}

#[test]
fn one_edge_flipped_reports_what_it_loses_with_the_same_lint() {
    let w = ecommerce_orchestrated();
    // payment -> fulfillment as an event: Fulfillment is no longer the orchestrator's, so
    // its failure starts no saga.
    let i = w
        .edges
        .iter()
        .position(|e| e.from == "payment" && e.to == "fulfillment")
        .unwrap();
    let mut flipped = w.clone();
    flipped.edges[i] = convert_edge(&w, &w.edges[i]);
    assert_eq!(flipped.edges[i].kind, EdgeKind::Event);
    assert_eq!(flipped.edges[i].event.as_deref(), Some("PaymentCompleted"));
    let lost = lost_by(&w, &flipped);
    assert!(
        lost.iter().any(|x| x.kind == WarningKind::Uncompensated
            && x.message.starts_with(
                "saga over Order Placement, Payment no longer runs when Fulfillment fails"
            )),
        "{lost:#?}"
    );
    // And back: nothing lost compared with the original.
    let mut back = flipped.clone();
    back.edges[i] = convert_edge(&flipped, &flipped.edges[i]);
    assert!(lost_by(&w, &back).is_empty());
}

#[test]
fn a_copy_is_named_in_the_pages_language_and_converting_again_does_not_stack_names() {
    use app::i18n::Locale;
    use app::model::convert::copy_name;
    assert_eq!(
        copy_name("Order", Style::Choreography, Locale::en),
        "Order (as choreography)"
    );
    let korean = copy_name("주문", Style::Choreography, Locale::ko);
    assert_eq!(korean, "주문 (코레오그래피 방식)");
    assert_eq!(
        copy_name(&korean, Style::Orchestration, Locale::ko),
        "주문 (오케스트레이션 방식)"
    );
    assert_eq!(
        copy_name("Order (as choreography)", Style::Orchestration, Locale::ko),
        "Order (오케스트레이션 방식)"
    );
}

#[test]
fn a_long_or_circular_saga_names_its_first_steps_in_order_and_never_the_failing_one() {
    use app::model::lint::{lint, MAX_NAMED_STEPS};
    use serde_json::json;
    // Twelve compensated steps joined by events, then one that fails: nobody undoes them.
    let mut nodes: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": "S",
                        "action": "a", "compensation": "undo"})
        })
        .collect();
    nodes.push(
        json!({"id": "f", "label": "F", "service": "S", "action": "a",
                      "failure_rate": 0.5}),
    );
    let mut edges: Vec<serde_json::Value> = (1..12)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "event"}))
        .collect();
    edges.push(json!({"from": "s11", "to": "f", "kind": "event"}));
    let doc = json!({"name": "Long", "nodes": nodes, "edges": edges}).to_string();
    let w = app::model::parse_workflow(doc.as_bytes()).unwrap();
    let warning = lint(&w)
        .into_iter()
        .find(|x| x.kind == WarningKind::Uncompensated)
        .expect("nobody undoes them");
    let listed: Vec<String> = (0..MAX_NAMED_STEPS).map(|i| format!("S{i}")).collect();
    assert!(
        warning
            .message
            .starts_with(&format!("saga over {}, …", listed.join(", "))),
        "{}",
        warning.message
    );
    // A cycle of events: each step is before the other, neither before itself.
    let doc = json!({"name": "Loop", "nodes": [
            {"id": "a", "label": "A", "service": "S", "action": "a", "compensation": "undo"},
            {"id": "b", "label": "B", "service": "S", "action": "a", "compensation": "undo",
             "failure_rate": 0.5}],
        "edges": [{"from": "a", "to": "b", "kind": "event"},
                  {"from": "b", "to": "a", "kind": "event"}]})
    .to_string();
    let w = app::model::parse_workflow(doc.as_bytes()).unwrap();
    let saga: Vec<String> = lint(&w)
        .into_iter()
        .filter(|x| x.kind == WarningKind::Uncompensated)
        .map(|x| x.message)
        .collect();
    assert_eq!(
        saga,
        ["saga over A no longer runs when B fails: nobody compensates on BFailed"]
    );
}

/// An exclusive decision of the orchestrator's: amount > 100 → review, gold → vip, else
/// ship; each step a service of its own.
fn decision() -> Workflow {
    serde_json::from_value(serde_json::json!({"name": "Decide", "nodes": [
        {"id": "check", "label": "Check amount", "service": "Payments", "action": "a"},
        {"id": "review", "label": "Review", "service": "Risk", "action": "a"},
        {"id": "vip", "label": "VIP", "service": "Loyalty", "action": "a"},
        {"id": "ship", "label": "Ship", "service": "Shipping", "action": "a"}],
      "edges": [
        {"id": "big", "from": "check", "to": "review", "kind": "command", "condition": "amount > 100"},
        {"id": "gold", "from": "check", "to": "vip", "kind": "command", "condition": "tier == 'gold'"},
        {"id": "else", "from": "check", "to": "ship", "kind": "command"}]}))
    .unwrap()
}

#[test]
fn a_decision_moves_into_the_publisher_with_an_event_per_branch() {
    use app::i18n::Locale;
    use app::model::convert::RuleHolder;
    let w = decision();
    let c = convert(&w, Style::Choreography);
    let named: Vec<(String, Option<String>)> = c
        .workflow
        .edges
        .iter()
        .map(|e| (c.workflow.event_name(e), e.condition.clone()))
        .collect();
    assert_eq!(
        named,
        [
            (
                "CheckamountToReview".to_string(),
                Some("amount > 100".to_string())
            ),
            (
                "CheckamountToVIP".to_string(),
                Some("tier == 'gold'".to_string())
            ),
            ("CheckamountCompleted".to_string(), None),
        ]
    );
    assert!(c.workflow.edges.iter().all(|e| !e.filtered_by_subscriber()));
    assert_eq!(app::model::validate::validate(&c.workflow), []);
    assert_eq!(c.moved.len(), 1);
    assert_eq!(c.moved[0].now, RuleHolder::Publisher);
    assert_eq!(c.moved[0].known_by, ["Payments"]);
    assert_eq!(
        c.moved[0].said(Locale::en, &c.workflow),
        "The rule after Check amount moved into Payments: it publishes a different event per branch (CheckamountToReview, CheckamountToVIP, CheckamountCompleted)."
    );
    assert_eq!(
        c.moved[0].said(Locale::ko, &c.workflow),
        "Check amount 다음의 규칙이 Payments 서비스로 옮겨졌습니다. 갈래마다 다른 이벤트를 발행합니다(CheckamountToReview, CheckamountToVIP, CheckamountCompleted)."
    );
}

#[test]
fn a_decision_moved_into_every_subscriber_gives_each_the_whole_rule() {
    use app::i18n::Locale;
    use app::model::convert::{convert_with, RuleHolder};
    use app::model::workflow::Decider;
    let w = decision();
    let c = convert_with(&w, Style::Choreography, Decider::Subscriber);
    let rules: Vec<(String, Option<String>, bool)> = c
        .workflow
        .edges
        .iter()
        .map(|e| {
            (
                c.workflow.event_name(e),
                e.condition.clone(),
                e.filtered_by_subscriber(),
            )
        })
        .collect();
    // One event; each subscriber knows the branches before its own.
    assert_eq!(
        rules,
        [
            (
                "CheckamountCompleted".to_string(),
                Some("(amount > 100)".to_string()),
                true
            ),
            (
                "CheckamountCompleted".to_string(),
                Some("!(amount > 100) && (tier == 'gold')".to_string()),
                true
            ),
            (
                "CheckamountCompleted".to_string(),
                Some("!(amount > 100) && !(tier == 'gold')".to_string()),
                true
            ),
        ]
    );
    assert_eq!(app::model::validate::validate(&c.workflow), []);
    assert_eq!(c.moved[0].now, RuleHolder::Subscribers);
    assert_eq!(c.moved[0].known_by, ["Risk", "Loyalty", "Shipping"]);
    assert_eq!(
        c.moved[0].said(Locale::en, &c.workflow),
        "The rule after Check amount is now in every subscriber: Risk, Loyalty, Shipping each check it, so 3 services change when it changes."
    );
    // Back to orchestration: the orchestrator checks each subscriber's rule (inclusive, as
    // the subscribers did, each on its own), and the rule moves into it.
    let back = convert(&c.workflow, Style::Orchestration);
    assert!(back
        .workflow
        .edges
        .iter()
        .all(|e| e.kind == EdgeKind::Command && e.decided_by.is_none() && e.payload.is_none()));
    assert_eq!(
        back.workflow.node("check").unwrap().decide,
        Some(app::model::workflow::Decide::Inclusive)
    );
    assert_eq!(back.moved[0].now, RuleHolder::Orchestrator);
    assert_eq!(
        back.moved[0].said(Locale::ko, &back.workflow),
        "Check amount 다음의 규칙이 오케스트레이터로 옮겨졌습니다. 한 곳만 압니다."
    );
    assert_eq!(app::model::validate::validate(&back.workflow), []);
}

/// A wait for a message says where it went: orchestrated, the orchestrator waits with it;
/// choreographed, the step waits alone, and its timeout is only a failure event someone
/// must hear — with no timeout and no watchdog, nothing notices a message that never comes.
#[test]
fn a_wait_says_who_times_it_out_after_a_conversion() {
    use app::i18n::Locale;
    use app::model::examples::{payment_confirmation, payment_confirmation_events};
    let to_events = convert(&payment_confirmation(), Style::Choreography);
    let said: Vec<String> = to_events
        .waits
        .iter()
        .map(|w| w.said(Locale::en, &to_events.workflow))
        .collect();
    assert_eq!(
        said,
        ["Await bank confirmation waits for BankConfirmed on its own: its timeout is only its failure event AwaitbankconfirmationFailed — someone must subscribe to it."]
    );
    let to_commands = convert(&payment_confirmation_events(), Style::Orchestration);
    assert_eq!(
        to_commands.waits[0].said(Locale::ko, &to_commands.workflow),
        "Await bank confirmation: 오케스트레이터와 함께 BankConfirmed를 기다리고, 오케스트레이터가 타임아웃에 대응합니다."
    );
    // No timeout, choreographed: said plainly.
    let mut bare = payment_confirmation();
    bare.nodes[1].wait.as_mut().unwrap().timeout_ms = None;
    let c = convert(&bare, Style::Choreography);
    assert!(c.waits[0].said(Locale::en, &c.workflow).ends_with(
        "if it never comes, the run stalls with nobody told — add a timeout or a watchdog."
    ));
    // Converting to the style it has moves nothing.
    assert!(convert(&payment_confirmation(), Style::Orchestration)
        .waits
        .is_empty());
}
