//! The article's scenarios, as shipped, run through the engine: order and final states are
//! what the article describes for each coordination style.

use crate::sim;

use app::model::examples::{self, ALL};
use app::model::{validate, Owner, RunEvent, RunStatus, StepState, Workflow};
use serde_json::{json, Value};
use sim::Sim;

fn run(workflow: fn() -> Workflow, input: Value) -> Sim {
    let mut sim = Sim::new(&workflow(), input, 2024);
    sim.run();
    sim
}

fn succeeded_at(sim: &Sim, node: &str) -> usize {
    sim.index_of(|e| matches!(e, RunEvent::StepSucceeded { node: n, .. } if n == node))
}

fn started_at(sim: &Sim, node: &str) -> usize {
    sim.index_of(|e| matches!(e, RunEvent::StepStarted { node: n, .. } if n == node))
}

fn state(sim: &Sim, node: &str) -> StepState {
    sim.core.state_of(node).expect("known node")
}

#[test]
fn every_example_is_a_valid_workflow() {
    for example in ALL {
        let w = (example.workflow)();
        assert_eq!(validate(&w), vec![], "{}", example.key);
        assert!(!example.lesson.is_empty());
    }
}

#[test]
fn order_processing_orchestrated_then_choreographed() {
    for (workflow, orchestrated) in [
        (examples::order_processing as fn() -> Workflow, true),
        (examples::order_processing_choreographed, false),
    ] {
        let sim = run(workflow, json!({}));
        assert_eq!(sim.status(), RunStatus::Completed);
        assert!(succeeded_at(&sim, "validate") < started_at(&sim, "charge"));
        assert!(succeeded_at(&sim, "charge") < started_at(&sim, "confirm"));
        let (_, _, messages) = sim.completed();
        if orchestrated {
            assert_eq!(
                (messages.commands, messages.replies, messages.events),
                (2, 3, 0)
            );
        } else {
            assert_eq!(
                (messages.commands, messages.replies, messages.events),
                (0, 0, 2)
            );
            let names: Vec<&str> = sim
                .history
                .iter()
                .filter_map(|(_, e)| match e {
                    RunEvent::EventPublished { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(names, ["orderValidated", "paymentCharged"]);
            assert!(matches!(
                sim.find(|e| matches!(e, RunEvent::StepStarted { node, .. } if node == "confirm"))
                    .unwrap()
                    .2,
                RunEvent::StepStarted {
                    owner: Owner::Itself,
                    ..
                }
            ));
        }
    }
}

#[test]
fn payment_rejected_orchestrated_the_orchestrator_notifies_and_updates_the_order() {
    let sim = run(examples::ecommerce_orchestrated, json!({"card": "expired"}));
    assert_eq!(
        sim.status(),
        RunStatus::Completed,
        "the orchestrator handled it"
    );
    assert_eq!(state(&sim, "payment"), StepState::Failed);
    assert_eq!(state(&sim, "notify-rejected"), StepState::Succeeded);
    assert_eq!(state(&sim, "order-rejected"), StepState::Succeeded);
    assert_eq!(state(&sim, "fulfillment"), StepState::Skipped);
    assert_eq!(state(&sim, "email"), StepState::Skipped);
    // The payment service reports to the orchestrator, which then commands both.
    let reply =
        sim.index_of(|e| matches!(e, RunEvent::ReplyReceived { from, .. } if from == "payment"));
    assert!(
        reply
            < sim.index_of(
                |e| matches!(e, RunEvent::CommandSent { to, .. } if to == "notify-rejected")
            )
    );
    assert!(
        reply
            < sim.index_of(
                |e| matches!(e, RunEvent::CommandSent { to, .. } if to == "order-rejected")
            )
    );
    assert!(sim
        .find(|e| matches!(e, RunEvent::SagaStarted { .. }))
        .is_none());
}

#[test]
fn back_order_orchestrated_the_saga_refunds_then_cancels() {
    let sim = run(examples::ecommerce_orchestrated, json!({"stock": "none"}));
    assert_eq!(sim.status(), RunStatus::Compensated);
    assert_eq!(state(&sim, "fulfillment"), StepState::Failed);
    let refund = sim.index_of(|e| matches!(e, RunEvent::StepCompensated { node, action } if node == "payment" && action == "refund"));
    let cancel = sim.index_of(|e| matches!(e, RunEvent::StepCompensated { node, action } if node == "order" && action == "cancel"));
    assert!(
        refund < cancel,
        "reverse order of completion: payment before order"
    );
    assert_eq!(state(&sim, "payment"), StepState::Compensated);
    assert_eq!(state(&sim, "order"), StepState::Compensated);
    assert_eq!(state(&sim, "email"), StepState::Skipped);
}

#[test]
fn payment_rejected_choreographed_subscribers_react() {
    let sim = run(
        examples::ecommerce_choreographed,
        json!({"card": "expired"}),
    );
    assert_eq!(sim.status(), RunStatus::Completed);
    let published = sim
        .find(|e| matches!(e, RunEvent::EventPublished { name, .. } if name == "PaymentRejected"))
        .unwrap()
        .2;
    assert!(
        matches!(published, RunEvent::EventPublished { subscribers, .. }
        if subscribers == &["notify-rejected", "order-rejected"])
    );
    assert_eq!(state(&sim, "notify-rejected"), StepState::Succeeded);
    assert_eq!(state(&sim, "order-rejected"), StepState::Succeeded);
    assert_eq!(state(&sim, "fulfillment"), StepState::Skipped);
    let (_, _, messages) = sim.completed();
    assert_eq!(messages.orchestrator(), 0, "nobody coordinates");
}

#[test]
fn back_order_choreographed_email_payment_and_order_all_react() {
    let sim = run(examples::ecommerce_choreographed, json!({"stock": "none"}));
    assert_eq!(sim.status(), RunStatus::Completed);
    let failed =
        sim.index_of(|e| matches!(e, RunEvent::StepFailed { node, .. } if node == "fulfillment"));
    for reactor in ["notify-backorder", "refund", "order-backordered"] {
        assert_eq!(state(&sim, reactor), StepState::Succeeded, "{reactor}");
        assert!(started_at(&sim, reactor) > failed);
        assert!(matches!(
            sim.find(|e| matches!(e, RunEvent::StepStarted { node, .. } if node == reactor))
                .unwrap()
                .2,
            RunEvent::StepStarted {
                owner: Owner::Itself,
                ..
            }
        ));
    }
    assert_eq!(
        state(&sim, "payment"),
        StepState::Succeeded,
        "payment compensates by its own refund step"
    );
    assert_eq!(state(&sim, "email"), StepState::Skipped);
}

#[test]
fn image_fork_join_waits_for_both_uploads() {
    let sim = run(examples::image_fork_join, json!({}));
    assert_eq!(sim.status(), RunStatus::Completed);
    assert_eq!(sim.starts_of("output").len(), 1, "the join runs once");
    let output = started_at(&sim, "output");
    assert!(output > succeeded_at(&sim, "upload-jpg"));
    assert!(output > succeeded_at(&sim, "upload-webp"));
    // The two branches run in parallel: both start when the image is received.
    let (jpg, webp) = (sim.starts_of("jpg")[0].0, sim.starts_of("webp")[0].0);
    assert_eq!(jpg, webp);
}

#[test]
fn financial_transaction_runs_strictly_in_order() {
    let sim = run(examples::financial_transaction, json!({}));
    assert_eq!(sim.status(), RunStatus::Completed);
    assert!(succeeded_at(&sim, "approve") < started_at(&sim, "process"));
    assert!(succeeded_at(&sim, "process") < started_at(&sim, "record"));
    let running_at_once = sim
        .history
        .iter()
        .scan(0i32, |running, (_, e)| {
            match e {
                RunEvent::StepStarted { .. } => *running += 1,
                RunEvent::StepSucceeded { .. } => *running -= 1,
                _ => {}
            }
            Some(*running)
        })
        .max();
    assert_eq!(running_at_once, Some(1), "never two steps at once");
}

#[test]
fn the_other_scenarios_run_as_the_article_describes() {
    // 4: the checks react in parallel to one publication.
    let sim = run(examples::onboarding_events, json!({}));
    assert_eq!(sim.status(), RunStatus::Completed);
    let (_, _, messages) = sim.completed();
    assert_eq!(
        (messages.events, messages.deliveries, messages.commands),
        (1, 3, 0)
    );
    // 4, hybrid: the core is commanded, the enrolments are events after the join.
    let sim = run(examples::onboarding_hybrid, json!({}));
    assert_eq!(sim.status(), RunStatus::Completed);
    assert_eq!(sim.starts_of("approve").len(), 1);
    for check in ["credit", "address", "criminal"] {
        assert!(succeeded_at(&sim, check) < started_at(&sim, "approve"));
    }
    assert!(matches!(
        sim.find(|e| matches!(e, RunEvent::StepStarted { node, .. } if node == "bonus"))
            .unwrap()
            .2,
        RunEvent::StepStarted {
            owner: Owner::Itself,
            ..
        }
    ));
    // 6 and 10: chains, in order.
    let sim = run(examples::airflow_chain, json!({}));
    assert!(succeeded_at(&sim, "get_pictures") < started_at(&sim, "notify"));
    let sim = run(examples::order_pipeline, json!({}));
    assert!(succeeded_at(&sim, "shipping") < started_at(&sim, "complete"));
    // 7: ten adds commanded at once, collected once.
    let sim = run(examples::fan_out_group, json!({}));
    let starts: Vec<u64> = (0..10)
        .map(|i| sim.starts_of(&format!("add-{i}"))[0].0)
        .collect();
    assert!(
        starts.iter().all(|&t| t == starts[0]),
        "all ten start together"
    );
    assert_eq!(sim.starts_of("collect").len(), 1);
    // 8: one publication, two independent reactions.
    let sim = run(examples::cart_fan_out, json!({}));
    let (_, _, messages) = sim.completed();
    assert_eq!((messages.events, messages.deliveries), (1, 2));
}

/// Payment by amount: the same branch whoever holds the rule — the orchestrator, or every
/// subscriber filtering one event — for a small and a large payment and for a declined
/// authorization (whichever the seed draws).
#[test]
fn payment_by_amount_takes_the_same_branch_orchestrated_and_filtered() {
    for amount in [120, 5000] {
        for seed in 0..30u64 {
            let path = |w: fn() -> Workflow| {
                let mut sim = Sim::new(&w(), json!({"amount": amount}), seed);
                sim.run();
                assert_eq!(sim.status(), RunStatus::Completed);
                let approved = sim.core.data()["approved"] == json!(true);
                let ran: Vec<&str> = ["declined", "review", "ship"]
                    .into_iter()
                    .filter(|s| state(&sim, s) == StepState::Succeeded)
                    .collect();
                (approved, ran)
            };
            let orchestrated = path(examples::payment_by_amount);
            assert_eq!(orchestrated, path(examples::payment_by_amount_filtered));
            let expected = match (orchestrated.0, amount > 1000) {
                (false, _) => "declined",
                (true, true) => "review",
                (true, false) => "ship",
            };
            assert_eq!(orchestrated.1, [expected], "amount {amount}, seed {seed}");
        }
    }
}

/// Shipping on lean events asks Order Placement for the address in every run; with
/// event-carried state nobody asks, and the run is shorter by the query's wait.
#[test]
fn lean_events_cost_a_query_that_carried_state_does_not() {
    let lean = run(examples::shipping_lean_events, json!({}));
    let carried = run(examples::shipping_carried_events, json!({}));
    assert_eq!(lean.status(), RunStatus::Completed);
    assert_eq!(carried.status(), RunStatus::Completed);
    assert_eq!(lean.completed().2.queries, 1);
    assert_eq!(carried.completed().2.queries, 0);
    assert!(matches!(
        lean.find(|e| matches!(e, RunEvent::QuerySent { .. })),
        Some((_, _, RunEvent::QuerySent { node, owner, fields, .. }))
            if node == "ship" && owner == "order" && *fields == ["address"]
    ));
    assert!(lean.now > carried.now, "{} vs {}", lean.now, carried.now);
}

/// The bank's confirmation never comes about one run in three. Orchestrated, the
/// orchestrator's timeout catches each such run and compensates the order; on events with
/// nobody watching, each stalls; with a watchdog, each is noticed and the order cancelled.
/// The same seeds draw the same confirmations in the three versions.
#[test]
fn a_confirmation_that_never_comes_is_compensated_stalls_or_is_noticed() {
    use server::lab::measure::facts;
    use server::lab::simulate::VirtualRun;
    let mut never = 0;
    for seed in 0..30u64 {
        let outcome = |w: fn() -> Workflow| {
            let w = w();
            let run = VirtualRun::complete(&w, json!({}), seed, Default::default());
            facts(&w, &run).expect("finished").outcome
        };
        use app::model::lab::LabOutcome::*;
        match outcome(examples::payment_confirmation) {
            Compensated => {
                never += 1;
                assert_eq!(
                    outcome(examples::payment_confirmation_events),
                    Stalled,
                    "seed {seed}"
                );
                assert_eq!(
                    outcome(examples::payment_confirmation_watchdog),
                    Handled,
                    "seed {seed}"
                );
            }
            Succeeded => {
                assert_eq!(
                    outcome(examples::payment_confirmation_events),
                    Succeeded,
                    "seed {seed}"
                );
                assert_eq!(
                    outcome(examples::payment_confirmation_watchdog),
                    Succeeded,
                    "seed {seed}"
                );
            }
            other => panic!("seed {seed}: {other:?}"),
        }
    }
    assert!((5..=15).contains(&never), "{never} of 30 never confirmed");
}
