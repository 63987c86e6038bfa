//! Sub-flows against a real server on a real SQLite file: a step runs a stored workflow as a
//! child run and goes on by its outcome; parent and child name each other in their reports
//! and in the runs lists; a saga undoes a completed child as a unit, by an undo run; a
//! cancelled parent cancels its child; a cycle of sub-flows, or a sub-flow that is not
//! there, is refused by step.

use crate::common;

use common::{collect, node_taking, TestServer};
use serde_json::{json, Value};

/// Payment: reserve → charge, both commanded and compensable; charge writes `paid` and is
/// rejected when the card is declined.
fn payment() -> Value {
    let mut reserve = node_taking("reserve", 30);
    reserve["compensation"] = json!("release");
    let mut charge = node_taking("charge", 30);
    charge["compensation"] = json!("refund");
    charge["writes"] = json!({"paid": true});
    charge["fail_when"] = json!({"field": "card", "equals": "declined"});
    json!({"name": "Payment", "nodes": [reserve, charge],
           "edges": [{"from": "reserve", "to": "charge", "kind": "command"}]})
}

/// Order: place → pay (the payment sub-flow) → ship; a failed payment goes to cancel.
fn order(payment: &str, ship: Value) -> Value {
    let mut pay = node_taking("pay", 0);
    pay["sub_flow"] = json!(payment);
    pay["label"] = json!("Pay");
    json!({"name": "Order", "nodes": [node_taking("place", 20), pay, ship, node_taking("cancel", 20)],
           "edges": [{"from": "place", "to": "pay", "kind": "command"},
                     {"from": "pay", "to": "ship", "kind": "command"},
                     {"from": "pay", "to": "cancel", "kind": "command", "on": "failure"}]})
}

async fn run(server: &TestServer, workflow: &str, input: Value) -> String {
    let response = server
        .post_json(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": input, "seed": 3}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let run: Value = response.json().await.unwrap();
    run["id"].as_str().unwrap().to_string()
}

async fn history(server: &TestServer, run: &str) -> Vec<Value> {
    collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

#[tokio::test]
async fn a_sub_flow_runs_its_child_and_goes_on_by_its_outcome() {
    let server = TestServer::start().await;
    let payment = server.create_workflow(&payment()).await;
    let order = server
        .create_workflow(&order(&payment, node_taking("ship", 20)))
        .await;

    // Paid: the child completes, what it wrote joins the parent's run data, ship follows.
    let parent = run(&server, &order, json!({"amount": 42})).await;
    let report = server.wait_run(&parent).await;
    assert_eq!(report["status"], "completed", "{report}");
    let child = format!("{parent}.pay.1.1");
    assert_eq!(report["children"]["pay"]["run"], child.as_str());
    assert_eq!(report["children"]["pay"]["workflow"], payment.as_str());
    assert_eq!(report["children"]["pay"]["status"], "completed");
    let child_report = server.wait_run(&child).await;
    assert_eq!(child_report["status"], "completed");
    assert_eq!(child_report["workflow_id"], payment.as_str());
    assert_eq!(
        child_report["parent"],
        json!({"run": parent, "node": "pay", "workflow_id": order})
    );
    // The child got the parent's run data as its input.
    assert_eq!(child_report["input"]["amount"], 42);
    let records = history(&server, &parent).await;
    let succeeded = of_type(&records, "StepSucceeded");
    let pay = succeeded.iter().find(|r| r["node"] == "pay").expect("pay");
    assert_eq!(pay["wrote"]["paid"], true, "{pay}");
    assert_eq!(of_type(&records, "ChildStarted").len(), 1);
    let told: Vec<&str> = report["story"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert!(
        told.contains(&"Sub-flows: Pay ran child run ….pay.1.1, which ended completed"),
        "{told:?}"
    );

    // Declined: the child fails, so does its step, and the failure route is taken.
    let declined = run(&server, &order, json!({"amount": 50, "card": "declined"})).await;
    let report = server.wait_run(&declined).await;
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["steps"]["pay"]["state"], "failed");
    assert_eq!(report["steps"]["cancel"]["state"], "succeeded");
    assert_eq!(report["steps"]["ship"]["state"], "skipped");
    let records = history(&server, &declined).await;
    let ended = of_type(&records, "ChildEnded");
    assert_eq!(ended.len(), 1);
    // The child's own saga released the reservation: it ended compensated, not completed.
    assert_eq!(ended[0]["status"], "compensated", "{}", ended[0]);

    // The runs lists link them both ways.
    let children: Vec<Value> = server
        .get_json(&format!("/api/workflows/{payment}/runs"))
        .await;
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c["parent"]["node"] == "pay"));
    let parents: Vec<Value> = server
        .get_json(&format!("/api/workflows/{order}/runs"))
        .await;
    let listed = parents.iter().find(|p| p["id"] == parent.as_str()).unwrap();
    assert_eq!(listed["children"], json!([child]));
}

#[tokio::test]
async fn a_saga_undoes_a_completed_child_as_a_unit() {
    let server = TestServer::start().await;
    let payment = server.create_workflow(&payment()).await;
    let mut ship = node_taking("ship", 20);
    ship["failure_rate"] = json!(1.0);
    let mut doc = order(&payment, ship);
    // No failure route for ship: the orchestrator's saga unwinds what it completed.
    doc["edges"].as_array_mut().unwrap().pop();
    let order = server.create_workflow(&doc).await;
    let parent = run(&server, &order, json!({"amount": 42})).await;
    let report = server.wait_run(&parent).await;
    assert_eq!(report["status"], "compensated", "{report}");
    assert_eq!(report["steps"]["pay"]["state"], "compensated");
    let child = format!("{parent}.pay.1.1");
    let undo = format!("{child}.undo");
    assert_eq!(report["children"]["pay"]["undo"], undo.as_str());

    // The undo run undid the child's steps, newest first, and nothing else.
    let undone = server.wait_run(&undo).await;
    assert_eq!(undone["status"], "compensated", "{undone}");
    assert_eq!(undone["parent"]["run"], parent.as_str());
    let records = history(&server, &undo).await;
    assert_eq!(
        of_type(&records, "UndoStarted")[0]["compensate"],
        json!(["charge", "reserve"])
    );
    let compensated: Vec<&str> = of_type(&records, "StepCompensated")
        .iter()
        .map(|r| r["node"].as_str().unwrap())
        .collect();
    assert_eq!(compensated, ["charge", "reserve"]);
    assert!(of_type(&records, "StepStarted").is_empty());
    // The child itself stays as it ended: completed.
    assert_eq!(server.wait_run(&child).await["status"], "completed");
    let parent_records = history(&server, &parent).await;
    let undo_started = of_type(&parent_records, "ChildUndoStarted");
    assert_eq!(undo_started.len(), 1);
    assert_eq!(undo_started[0]["run"], undo.as_str());
    assert_eq!(
        of_type(&parent_records, "CompensationStarted")[0]["action"],
        format!("undo {payment}")
    );
}

#[tokio::test]
async fn a_cancelled_parent_cancels_its_child() {
    let server = TestServer::start().await;
    let slow = server
        .create_workflow(
            &json!({"name": "Slow", "nodes": [node_taking("crawl", 60_000)], "edges": []}),
        )
        .await;
    let order = server
        .create_workflow(&order(&slow, node_taking("ship", 20)))
        .await;
    let parent = run(&server, &order, json!({})).await;
    let child = format!("{parent}.pay.1.1");
    common::eventually(
        "the child running",
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(20),
        || async {
            let response = server
                .http
                .get(server.url(&format!("/api/runs/{child}")))
                .send()
                .await
                .unwrap();
            if response.status() == 200 {
                Ok(())
            } else {
                Err(response.status().to_string())
            }
        },
    )
    .await;
    let cancelled = server
        .post_json(&format!("/api/runs/{parent}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status(), 202);
    assert_eq!(server.wait_run(&parent).await["status"], "cancelled");
    assert_eq!(server.wait_run(&child).await["status"], "cancelled");
}

#[tokio::test]
async fn a_cycle_of_sub_flows_or_a_missing_one_is_refused_by_step() {
    let server = TestServer::start().await;
    let a = server
        .create_workflow(&json!({"name": "A", "nodes": [node_taking("a1", 10)], "edges": []}))
        .await;
    let mut calls_a = node_taking("call_a", 0);
    calls_a["sub_flow"] = json!(a);
    let b = server
        .create_workflow(&json!({"name": "B", "nodes": [calls_a], "edges": []}))
        .await;
    // A now runs B, which runs A: refused, naming the step and the chain; A is unchanged.
    let mut calls_b = node_taking("call_b", 0);
    calls_b["sub_flow"] = json!(b);
    let replaced = server
        .http
        .put(server.url(&format!("/api/workflows/{a}")))
        .json(&json!({"name": "A", "nodes": [calls_b], "edges": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 422);
    let body: Value = replaced.json().await.unwrap();
    let problem = &body["details"][0];
    assert_eq!(problem["node"], "call_b", "{body}");
    assert_eq!(problem["field"], "sub_flow");
    assert_eq!(
        problem["message"],
        format!(
            "step call_b runs sub-flow {b}, and that leads back: {a} → {b} → {a} — a cycle of sub-flows is refused"
        )
    );
    let stored: Value = server.get_json(&format!("/api/workflows/{a}")).await;
    assert_eq!(stored["nodes"][0]["id"], "a1");

    // A sub-flow that is not stored is allowed in a document, refused when it would run.
    let mut ghost = node_taking("ghost", 0);
    ghost["sub_flow"] = json!("no-such-flow");
    let haunted = server
        .create_workflow(&json!({"name": "H", "nodes": [ghost], "edges": []}))
        .await;
    let response = server
        .post_json(&format!("/api/workflows/{haunted}/runs"), &json!({}))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["details"][0]["message"],
        "step ghost runs sub-flow no-such-flow, and there is no workflow with id or name \"no-such-flow\""
    );
}

/// A sub-flow may name its workflow by name, as a BPMN call activity or a Conductor
/// `SUB_WORKFLOW` does: the child runs the one stored workflow of that name; two of that
/// name are ambiguous, refused when a run starts.
#[tokio::test]
async fn a_sub_flow_named_by_name_runs_the_one_workflow_of_that_name() {
    let server = TestServer::start().await;
    let audit = server
        .create_workflow(
            &json!({"name": "Audit trail", "nodes": [node_taking("record", 10)], "edges": []}),
        )
        .await;
    let mut call = node_taking("audit", 0);
    call["sub_flow"] = json!("Audit trail");
    let parent_flow = server
        .create_workflow(&json!({"name": "Caller", "nodes": [call], "edges": []}))
        .await;
    let parent = run(&server, &parent_flow, json!({})).await;
    assert_eq!(server.wait_run(&parent).await["status"], "completed");
    let child = server.wait_run(&format!("{parent}.audit.1.1")).await;
    assert_eq!(child["workflow_id"], audit.as_str());

    server
        .create_workflow(
            &json!({"name": "Audit trail", "nodes": [node_taking("other", 10)], "edges": []}),
        )
        .await;
    let response = server
        .post_json(&format!("/api/workflows/{parent_flow}/runs"), &json!({}))
        .await;
    assert_eq!(response.status(), 422);
}
