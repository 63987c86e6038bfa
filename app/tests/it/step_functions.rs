//! AWS Step Functions state machines (Amazon States Language): the AWS-style fixture reads
//! as the steps, decisions, waits, for-each, failure routes and parallel branches it means;
//! what Hybridflow writes reads back unchanged; what has no form on either side is refused
//! by state, step or edge.

#![cfg(feature = "ssr")]

use app::model::formats::{
    detect, export, export_in, import, ExportFormat, ImportError, ImportFormat,
};
use app::model::workflow::{Join, Outcome, Workflow};
use app::model::{validate, Latency};
use serde_json::json;

const FIXTURE: &str = include_str!("../fixtures/order-state-machine.asl.json");

fn edges(w: &Workflow) -> Vec<(String, String, Outcome, Option<String>)> {
    w.edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.on, e.condition.clone()))
        .collect()
}

fn has(w: &Workflow, from: &str, to: &str, on: Outcome, condition: Option<&str>) -> bool {
    edges(w).contains(&(from.into(), to.into(), on, condition.map(str::to_string)))
}

#[test]
fn an_aws_style_state_machine_reads_as_what_it_means() {
    assert_eq!(detect(FIXTURE), ImportFormat::Asl);
    let w = import(FIXTURE, None).unwrap();
    assert!(validate(&w).is_empty(), "{:?}", validate(&w));
    assert_eq!(
        w.name,
        "Order with payment, in the style of the AWS Step Functions examples"
    );
    // Task: its service from the Lambda function, its retrier and its timeout.
    let check = w.node("Check stock").unwrap();
    assert_eq!(check.service, "InventoryService");
    let retry = check.retry.as_ref().unwrap();
    assert_eq!(
        (retry.max_attempts, retry.backoff_ms, retry.multiplier),
        (3, 1_000, 2.0)
    );
    assert_eq!(w.node("Charge card").unwrap().timeout_ms, Some(5_000));
    assert_eq!(w.node("Send receipt").unwrap().service, "sns");
    // Choice: a decision of no duration, its rule in CEL, its Default the default edge.
    let choice = w.node("Amount?").unwrap();
    assert_eq!(choice.latency_ms, Some(Latency::Fixed(0)));
    assert!(has(&w, "Check stock", "Amount?", Outcome::Success, None));
    assert!(has(
        &w,
        "Amount?",
        "Manual review",
        Outcome::Success,
        Some("(amount > 1000) && (!(tier == \"gold\"))")
    ));
    assert!(has(&w, "Amount?", "Charge card", Outcome::Success, None));
    // It reads its rules' fields from its input: no design warning calls them unknown.
    assert_eq!(choice.reads, ["amount", "tier"]);
    assert!(!app::model::lint::lint(&w)
        .iter()
        .any(|x| x.kind == app::model::lint::WarningKind::UnknownField));
    // Catch: the failure route; Wait: a timer; Map: a for-each.
    assert!(has(
        &w,
        "Charge card",
        "Cancel order",
        Outcome::Failure,
        None
    ));
    assert!(has(
        &w,
        "Pack items",
        "Cancel order",
        Outcome::Failure,
        None
    ));
    assert_eq!(
        w.node("Cooling-off").unwrap().wait.as_ref().unwrap().for_ms,
        Some(2_000)
    );
    let pack = w.node("Pack items").unwrap();
    assert_eq!(pack.for_each.as_deref(), Some("items"));
    assert_eq!(pack.service, "FulfillmentService");
    // Parallel: both branches commanded at once, joined where it goes on.
    assert!(has(
        &w,
        "Pack items",
        "Send receipt",
        Outcome::Success,
        None
    ));
    assert!(has(&w, "Pack items", "Ship", Outcome::Success, None));
    assert!(has(&w, "Send receipt", "Done", Outcome::Success, None));
    assert!(has(&w, "Ship", "Done", Outcome::Success, None));
    assert_eq!(w.node("Done").unwrap().join, Some(Join::All));
    // Fail: a step that always fails.
    assert_eq!(w.node("Order failed").unwrap().failure_rate, Some(1.0));
    assert!(w
        .edges
        .iter()
        .all(|e| e.kind == app::model::EdgeKind::Command));
}

#[test]
fn what_hybridflow_writes_as_a_state_machine_reads_back_unchanged() {
    let w = import(FIXTURE, None).unwrap();
    let written = export(&w, ExportFormat::Asl).unwrap();
    let machine: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(machine["StartAt"], "Check stock");
    assert_eq!(machine["States"]["Amount?"]["Type"], "Choice");
    assert_eq!(
        machine["States"]["Amount?"]["Choices"][0],
        json!({"And": [{"Variable": "$.amount", "NumericGreaterThan": 1000},
                       {"Not": {"Variable": "$.tier", "StringEquals": "gold"}}],
               "Next": "Manual review"})
    );
    assert_eq!(machine["States"]["Cooling-off"]["Seconds"], 2);
    assert_eq!(machine["States"]["Pack items"]["Type"], "Map");
    assert_eq!(machine["States"]["Pack items"]["ItemsPath"], "$.items");
    assert_eq!(machine["States"]["Pack items branches"]["Type"], "Parallel");
    assert_eq!(machine["States"]["Pack items branches"]["Next"], "Done");
    assert_eq!(
        machine["States"]["Charge card"]["Catch"],
        json!([{"ErrorEquals": ["States.ALL"], "Next": "Cancel order"}])
    );
    assert_eq!(machine["States"]["Done"]["Type"], "Succeed");
    assert_eq!(machine["States"]["Order failed"]["Type"], "Fail");
    let again = import(&written, Some(ImportFormat::Asl)).unwrap();
    assert_eq!(again, w);
    // And once more: a fixed point.
    assert_eq!(export(&again, ExportFormat::Asl).unwrap(), written);
}

#[test]
fn a_sub_flow_and_a_wait_for_a_message_are_tasks_of_their_own() {
    let w = import(
        &json!({"StartAt": "Pay", "States": {
            "Pay": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:Payment"},
                    "Next": "Confirm"},
            "Confirm": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        "TimeoutSeconds": 30, "End": true}}})
        .to_string(),
        None,
    )
    .unwrap();
    assert_eq!(w.node("Pay").unwrap().sub_flow.as_deref(), Some("Payment"));
    let confirm = w.node("Confirm").unwrap().wait.clone().unwrap();
    assert_eq!(confirm.message.as_deref(), Some("Confirm"));
    assert_eq!(confirm.timeout_ms, Some(30_000));
    let again = import(&export(&w, ExportFormat::Asl).unwrap(), None).unwrap();
    assert_eq!(again, w);
}

#[test]
fn what_has_no_form_is_refused_by_state_step_or_edge() {
    let refused =
        |machine: serde_json::Value| match import(&machine.to_string(), Some(ImportFormat::Asl)) {
            Err(ImportError::Unsupported(problems)) => problems
                .into_iter()
                .map(|p| (p.path, p.message))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
    assert_eq!(
        refused(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})),
        [(
            "States.A.Type".to_string(),
            "state \"A\" has type \"Pass\", which Hybridflow does not import (supported: Task, Choice, Wait, Parallel, Map, Succeed, Fail)".to_string()
        )]
    );
    assert_eq!(
        refused(json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.name", "StringMatches": "a*", "Next": "D"}]},
            "D": {"Type": "Succeed"}}})),
        [(
            "States.C.Choices[0]".to_string(),
            "a Choice rule of state \"C\" cannot be read: StringMatches".to_string()
        )]
    );
    assert_eq!(
        refused(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x",
            "Catch": [{"ErrorEquals": ["A"], "Next": "U"}, {"ErrorEquals": ["B"], "Next": "U"}], "End": true},
            "U": {"Type": "Succeed"}}}))[0]
            .1,
        "state \"T\" has 2 catchers: Hybridflow's failures carry no error name, so a step has one failure route"
    );
    assert_eq!(
        refused(json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {}}))[0].1,
        "the state machine's QueryLanguage is JSONata: Hybridflow reads JSONPath state machines (the default)"
    );
    // Nested deeper than the limit: stopped while it reads.
    let mut machine =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x", "End": true}}});
    for level in 0..20 {
        let name = format!("P{level}");
        machine = json!({"StartAt": name, "States": {name.clone(): {"Type": "Parallel", "Branches": [machine], "End": true}}});
    }
    let problems = match import(&machine.to_string(), Some(ImportFormat::Asl)) {
        Err(ImportError::Unsupported(p)) => p,
        other => panic!("{other:?}"),
    };
    assert!(
        problems[0].message.contains("nest more than 16 deep"),
        "{problems:?}"
    );

    // Writing: an event, two starts, a condition beyond a Choice rule.
    let w = import("a ~> b : Done\n", Some(ImportFormat::Text)).unwrap();
    let problems = export(&w, ExportFormat::Asl).unwrap_err().0;
    assert_eq!(problems[0].edge.as_deref(), Some(w.edges[0].id.as_str()));
    assert_eq!(
        problems[0].message,
        format!("edge {} is an event: a state machine commands every step — convert the workflow to orchestration first", w.edges[0].id)
    );
    let two = import("a -> b\nc -> b\n", Some(ImportFormat::Text)).unwrap();
    assert_eq!(
        export(&two, ExportFormat::Asl).unwrap_err().0[0].message,
        "steps a, c all start the flow: a state machine starts at one state"
    );
    let mut sized = import("a -> b\na -> c\n", Some(ImportFormat::Text)).unwrap();
    sized.edges[0].condition = Some("size(items) > 2".into());
    let problems = export_in(&sized, ExportFormat::Asl, app::i18n::Locale::ko)
        .unwrap_err()
        .0;
    assert_eq!(
        problems[0].edge.as_deref(),
        Some(sized.edges[0].id.as_str())
    );
    assert!(
        problems[0].message.contains("Choice 규칙이 없습니다"),
        "{problems:?}"
    );
    // A failure route into a step the fork puts in a Parallel's branch: no state beside it.
    let forked = import("a -> b\na -> c\na -!> b\n", Some(ImportFormat::Text)).unwrap();
    let problems = export(&forked, ExportFormat::Asl).unwrap_err().0;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].node.as_deref(), Some("a"));
    assert_eq!(
        problems[0].message,
        "step a goes on to b, which a state machine would hold in another branch of a Parallel: a state goes only to the states beside it"
    );
}
