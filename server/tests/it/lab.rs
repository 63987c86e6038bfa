//! The trade-off lab: fault semantics on the core in virtual time, the figures computed
//! on small hand-checked runs, determinism by seed, and the compare of the e-commerce
//! flow (whose outcomes the article predicts).

use crate::sim;

use app::model::examples::{ecommerce_choreographed, ecommerce_orchestrated};
use app::model::faults::{BusFault, OrchestratorCrash, ServiceFault};
use app::model::lab::{LabOutcome, LabStyle};
use app::model::{
    parse_workflow, FailureReason, Faults, RunEvent, RunRecord, RunStatus, RunView, StepState,
    Workflow,
};
use serde_json::{json, Value};
use server::lab::compare::{compare, fail_matrix, CompareSpec, Progress};
use server::lab::measure::{blast_radius, coupling, facts};
use server::lab::simulate::VirtualRun;
use sim::Sim;

fn workflow(doc: Value) -> Workflow {
    parse_workflow(doc.to_string().as_bytes()).expect("valid workflow")
}

fn node(id: &str, service: &str, latency: u64) -> Value {
    json!({"id": id, "label": id, "service": service, "action": "a", "latency_ms": latency})
}

/// a -cmd-> b -cmd-> c, and a ~> x ~> y: a commanded part and an event-driven part.
fn two_parts() -> Workflow {
    workflow(json!({"name": "t",
    "nodes": [node("a", "A", 10), node("b", "B", 10), node("c", "C", 10), node("x", "X", 10), node("y", "Y", 10)],
    "edges": [
        {"from": "a", "to": "b", "kind": "command"},
        {"from": "b", "to": "c", "kind": "command"},
        {"from": "a", "to": "x", "kind": "event"},
        {"from": "x", "to": "y", "kind": "event"}
    ]}))
}

/// The orchestrator crashes at 15 ms and is back at 515 ms (no standby).
fn down_from_15_to_515() -> Faults {
    Faults {
        orchestrator: Some(OrchestratorCrash {
            at_ms: 15,
            for_ms: 500,
            standby_lease_ms: None,
        }),
        ..Faults::default()
    }
}

fn time_of(sim: &Sim, pred: impl Fn(&RunEvent) -> bool) -> u64 {
    sim.find(pred)
        .unwrap_or_else(|| panic!("missing in {:#?}", sim.history))
        .1
}

fn replied(node: &'static str) -> impl Fn(&RunEvent) -> bool {
    move |e| matches!(e, RunEvent::ReplyReceived { from, .. } if from == node)
}

fn succeeded(node: &'static str) -> impl Fn(&RunEvent) -> bool {
    move |e| matches!(e, RunEvent::StepSucceeded { node: n, .. } if n == node)
}

#[test]
fn an_orchestrator_crash_stalls_the_commands_while_events_keep_going_then_it_resumes() {
    // a ends at 10 (command to b, event to x); the orchestrator is down from 15 to 515.
    let faults = down_from_15_to_515();
    let mut sim = Sim::with_faults(&two_parts(), json!({}), 1, faults);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    assert_eq!(
        time_of(&sim, |e| matches!(e, RunEvent::OrchestratorCrashed { .. })),
        15
    );
    let back = sim
        .find(|e| matches!(e, RunEvent::OrchestratorRecovered { .. }))
        .unwrap();
    assert_eq!(back.1, 515);
    match back.2 {
        RunEvent::OrchestratorRecovered {
            down_ms,
            standby,
            records,
            waited,
        } => {
            assert_eq!(
                (*down_ms, *standby, *waited),
                (500, false, 1),
                "b's reply waited"
            );
            assert_eq!(
                *records as usize, back.0,
                "rebuilt from every record before it"
            );
        }
        _ => unreachable!(),
    }
    // The event-driven chain finished during the outage; the commanded part after it.
    assert_eq!(time_of(&sim, succeeded("y")), 30);
    assert_eq!(time_of(&sim, succeeded("b")), 20, "b did its work at once");
    assert_eq!(
        time_of(&sim, replied("b")),
        515,
        "b's reply waited for the orchestrator"
    );
    assert_eq!(time_of(&sim, succeeded("c")), 525);

    // What the canvas shows at 100 ms (down) and at the end: b's reply waits, x's does not.
    let view_at = |until: u64| {
        let mut view = RunView::new(["a", "b", "c", "x", "y"]);
        for (i, (_, event)) in sim
            .history
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| *t <= until)
        {
            view.apply(&RunRecord::new(i as u64 + 1, 0, event.clone()));
        }
        view
    };
    let down = view_at(100);
    assert!(down.orchestrator_down);
    assert!(down.reply_waiting("b"), "{down:#?}");
    assert!(!down.reply_waiting("x") && !down.reply_waiting("y") && !down.reply_waiting("c"));
    let end = view_at(u64::MAX);
    assert!(
        !end.reply_waiting("b") && end.awaiting_reply.is_empty(),
        "{end:#?}"
    );
}

#[test]
fn a_standby_takes_over_after_its_lease_and_shortens_the_stall() {
    let crash = |lease| {
        let mut faults = down_from_15_to_515();
        if let Some(crash) = faults.orchestrator.as_mut() {
            crash.standby_lease_ms = lease;
        }
        faults
    };
    let mut alone = Sim::with_faults(&two_parts(), json!({}), 1, crash(None));
    alone.run();
    let mut standby = Sim::with_faults(&two_parts(), json!({}), 1, crash(Some(100)));
    standby.run();
    let back = standby
        .find(|e| {
            matches!(
                e,
                RunEvent::OrchestratorRecovered {
                    standby: true,
                    down_ms: 100,
                    ..
                }
            )
        })
        .expect("the standby took over");
    assert_eq!(back.1, 115);
    assert_eq!(time_of(&standby, replied("b")), 115);
    assert_eq!(
        alone.ended_at().unwrap() - standby.ended_at().unwrap(),
        400,
        "the run ends as much earlier as the outage was shorter"
    );
}

#[test]
fn a_duplicated_delivery_runs_a_non_idempotent_step_twice_and_an_idempotent_one_once() {
    let doc = |idempotent: bool| {
        let mut b = node("b", "B", 10);
        b["idempotent"] = json!(idempotent);
        workflow(json!({"name": "t", "nodes": [node("a", "A", 10), b],
            "edges": [{"from": "a", "to": "b", "kind": "event"}]}))
    };
    let faults = Faults {
        bus: BusFault {
            duplicate: 1.0,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    for (idempotent, executions) in [(true, 1), (false, 2)] {
        let mut sim = Sim::with_faults(&doc(idempotent), json!({}), 3, faults.clone());
        sim.run();
        assert!(sim
            .find(|e| matches!(
                e,
                RunEvent::EventDelivered {
                    duplicate: true,
                    ..
                }
            ))
            .is_some());
        assert_eq!(
            sim.starts_of("b").len(),
            executions,
            "idempotent: {idempotent}"
        );
        assert_eq!(sim.status(), RunStatus::Completed);
    }
}

#[test]
fn a_dropped_event_stalls_the_run_and_the_diagnosis_says_where() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", "A", 10), node("b", "B", 10), node("c", "C", 10)],
        "edges": [{"from": "a", "to": "b", "kind": "event", "event": "ADone"},
                  {"from": "b", "to": "c", "kind": "command"}]}));
    let faults = Faults {
        bus: BusFault {
            drop: 1.0,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    let run = VirtualRun::complete(&w, json!({}), 1, faults);
    let (status, diagnosis, _) = run.completed().unwrap();
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(
        diagnosis.as_deref(),
        Some("stalled: the bus lost ADone (message 1) from a to b; nobody resends it, so b, c never ran")
    );
    assert_eq!(facts(&w, &run).unwrap().outcome, LabOutcome::Stalled);
}

#[test]
fn services_down_slow_or_flaky_and_a_bus_delay() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", "A", 10), node("b", "B", 10)],
        "edges": [{"from": "a", "to": "b", "kind": "event"}]}));
    let with = |services: Vec<(&str, ServiceFault)>, delay_ms| Faults {
        services: services
            .into_iter()
            .map(|(s, f)| (s.to_string(), f))
            .collect(),
        bus: BusFault {
            delay_ms,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    let down = VirtualRun::complete(
        &w,
        json!({}),
        1,
        with(
            vec![(
                "B",
                ServiceFault {
                    down: true,
                    ..Default::default()
                },
            )],
            0,
        ),
    );
    assert!(down.history.iter().any(|(_, e)| matches!(e,
        RunEvent::StepFailed { node, reason: FailureReason::Unavailable, .. } if node == "b")));
    let slow = VirtualRun::complete(
        &w,
        json!({}),
        1,
        with(
            vec![(
                "B",
                ServiceFault {
                    slow: Some(3.0),
                    ..Default::default()
                },
            )],
            0,
        ),
    );
    assert_eq!(slow.ended_at(), Some(10 + 30));
    let flaky = VirtualRun::complete(
        &w,
        json!({}),
        1,
        with(
            vec![(
                "A",
                ServiceFault {
                    flaky: Some(1.0),
                    ..Default::default()
                },
            )],
            0,
        ),
    );
    assert!(flaky.history.iter().any(|(_, e)| matches!(e,
        RunEvent::StepFailed { node, reason: FailureReason::Error, .. } if node == "a")));
    let late = VirtualRun::complete(&w, json!({}), 1, with(vec![], 200));
    assert_eq!(late.ended_at(), Some(10 + 200 + 10));
    // Every fault is in the history from the start.
    assert!(
        matches!(&late.history[0].1, RunEvent::RunStarted { faults, .. } if faults.bus.delay_ms == 200)
    );
}

#[test]
fn facts_and_blast_radius_of_a_small_run_checked_by_hand() {
    // a -cmd-> b -cmd-> c; b has 2 attempts and fails both: c never runs.
    let mut b = node("b", "B", 20);
    b["retry"] = json!({"max_attempts": 2, "backoff_ms": 5});
    b["fail_when"] = json!({"field": "fail", "equals": true});
    let w = workflow(
        json!({"name": "t", "nodes": [node("a", "A", 10), b, node("c", "C", 10)],
        "edges": [{"from": "a", "to": "b", "kind": "command"}, {"from": "b", "to": "c", "kind": "command"}]}),
    );
    let failing = facts(
        &w,
        &VirtualRun::complete(&w, json!({"fail": true}), 1, Faults::default()),
    )
    .unwrap();
    assert_eq!(failing.outcome, LabOutcome::Unhandled);
    assert_eq!(failing.latency_ms, 10 + 20 + 5 + 20);
    assert_eq!(failing.steps_executed, 2);
    assert_eq!(failing.retries, 1);
    assert_eq!(
        (failing.messages.commands, failing.messages.replies),
        (1, 2)
    );
    assert_eq!(failing.final_states["c"], StepState::Skipped);
    let fine = facts(
        &w,
        &VirtualRun::complete(&w, json!({}), 1, Faults::default()),
    )
    .unwrap();
    assert_eq!(fine.outcome, LabOutcome::Succeeded);
    assert_eq!(fine.latency_ms, 40);
    // Only c's outcome changed (b, the failing step, does not count).
    assert_eq!(blast_radius(&failing, &fine), 1);
}

#[test]
fn coupling_of_the_two_e_commerce_designs() {
    let orchestrated = coupling(&ecommerce_orchestrated());
    assert_eq!(orchestrated.orchestrator_knows, 4);
    assert_eq!(orchestrated.event_contracts, 0);
    assert!(orchestrated
        .services
        .iter()
        .all(|s| s.knows == vec!["orchestrator".to_string()]));
    let choreographed = coupling(&ecommerce_choreographed());
    assert_eq!(choreographed.orchestrator_knows, 0);
    assert_eq!(choreographed.event_contracts, 5);
    let payment = choreographed
        .services
        .iter()
        .find(|s| s.service == "PaymentService")
        .unwrap();
    assert_eq!(
        payment.knows,
        vec![
            "BackOrdered",
            "OrderPlaced",
            "PaymentCharged",
            "PaymentRejected"
        ]
    );
}

fn spec(input: Value, runs: u32, seed: u64) -> CompareSpec {
    CompareSpec {
        workflow: ecommerce_orchestrated(),
        input,
        runs,
        seed,
        faults: Faults::default(),
        message_ms: 0,
        library: Default::default(),
        verify: None,
    }
}

#[test]
fn the_same_seed_gives_the_same_table_and_another_seed_another() {
    let mut flaky = spec(json!({}), 30, 7);
    flaky.workflow.nodes[2].failure_rate = Some(0.3);
    let first = compare(&flaky, &Progress::default()).unwrap();
    let again = compare(&flaky, &Progress::default()).unwrap();
    assert_eq!(first, again);
    flaky.seed = 8;
    assert_ne!(
        compare(&flaky, &Progress::default()).unwrap().styles,
        first.styles
    );
}

#[test]
fn a_back_order_is_compensated_by_the_orchestrator_and_left_inconsistent_by_choreography() {
    let progress = Progress::default();
    let result = compare(&spec(json!({"stock": "none"}), 20, 1), &progress).unwrap();
    let by = |style| result.styles.iter().find(|s| s.style == style).unwrap();
    assert_eq!(by(LabStyle::AsDrawn).outcomes.compensated, 20);
    assert_eq!(by(LabStyle::Orchestration).outcomes.compensated, 20);
    assert_eq!(by(LabStyle::Choreography).outcomes.inconsistent, 20);
    assert_eq!(by(LabStyle::Choreography).orchestrator_messages, 0);
    assert!(by(LabStyle::AsDrawn).orchestrator_share > 0.99);
    assert_eq!(progress.done(2), 20);
    assert!(result.reading.iter().any(|l| l.starts_with("choreography: 20/20 runs ended with a failure nobody handled (20 left steps done and never undone)")), "{:#?}", result.reading);
    assert!(result.reading.iter().any(|l| l.contains("converting to choreography lost: saga over Order Placement, Payment no longer runs when Fulfillment fails")));
    // The matrix: a failing Fulfillment is compensated as drawn, inconsistent in choreography.
    let row = result
        .matrix
        .rows
        .iter()
        .find(|r| r.node == "fulfillment")
        .unwrap();
    assert_eq!(row.cells[0].outcome, LabOutcome::Compensated);
    assert_eq!(row.cells[2].outcome, LabOutcome::Inconsistent);
    // The payment-rejected notification only runs when Payment fails: never reached here.
    let row = result
        .matrix
        .rows
        .iter()
        .find(|r| r.node == "notify-rejected")
        .unwrap();
    assert!(row.cells.iter().all(|c| !c.reached), "{row:#?}");
    assert!(result.matrix.rows[0].cells.iter().all(|c| c.reached));
    // A failing Payment has its rejected route in every style.
    let row = result
        .matrix
        .rows
        .iter()
        .find(|r| r.node == "payment")
        .unwrap();
    assert!(
        row.cells.iter().all(|c| c.outcome == LabOutcome::Handled),
        "{row:#?}"
    );
}

#[test]
fn the_fail_matrix_covers_every_step_in_every_style() {
    let w = ecommerce_choreographed();
    let matrix = fail_matrix(&Default::default(), &w, &json!({}), 3);
    assert_eq!(matrix.rows.len(), w.nodes.len());
    assert!(matrix.rows.iter().all(|r| r.cells.len() == 3));
    let email = matrix.rows.iter().find(|r| r.node == "email").unwrap();
    // Email has no failure route in any style: choreography leaves Payment charged.
    assert_eq!(email.cells[2].outcome, LabOutcome::Inconsistent);
}

#[test]
fn a_cancelled_compare_stops_and_returns_nothing() {
    let progress = Progress::default();
    progress
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(compare(&spec(json!({}), 100, 1), &progress).is_none());
}

#[test]
fn a_restart_during_the_outage_still_delivers_the_replies_that_waited() {
    let faults = down_from_15_to_515();
    let w = two_parts();
    let mut whole = Sim::with_faults(&w, json!({}), 1, faults.clone());
    whole.run();
    // Cut at 100 ms: b has done its work (at 20) but the orchestrator has not heard.
    let mut first = Sim::with_faults(&w, json!({}), 1, faults);
    first.run_until(100);
    assert!(first.find(succeeded("b")).is_some() && first.find(replied("b")).is_none());
    let mut resumed = first.restarted(&w, json!({}), 1);
    resumed.run();
    assert_eq!(resumed.status(), RunStatus::Completed);
    let replies = resumed
        .history
        .iter()
        .filter(|(_, e)| matches!(e, RunEvent::ReplyReceived { from, .. } if from == "b"))
        .count();
    assert_eq!(replies, 1, "b's reply is heard once");
    assert_eq!(resumed.starts_of("c").len(), 1);
    assert_eq!(
        resumed.core.state_of("c"),
        whole.core.state_of("c"),
        "the same end as without the restart"
    );
}

/// a -cmd-> b -cmd-> c and a ~> x ~> y, where b fails every attempt (2, no backoff) and has
/// no failure route, and the orchestrator is down from 15 to 515.
fn failing_b_during_an_outage() -> (Workflow, Faults) {
    let mut b = node("b", "B", 10);
    b["retry"] = json!({"max_attempts": 2, "backoff_ms": 0});
    b["fail_when"] = json!({"field": "fail", "equals": true});
    let w = workflow(json!({"name": "t",
    "nodes": [node("a", "A", 10), b, node("c", "C", 10), node("x", "X", 10), node("y", "Y", 10)],
    "edges": [
        {"from": "a", "to": "b", "kind": "command"},
        {"from": "b", "to": "c", "kind": "command"},
        {"from": "a", "to": "x", "kind": "event"},
        {"from": "x", "to": "y", "kind": "event"}
    ]}));
    let faults = down_from_15_to_515();
    (w, faults)
}

#[test]
fn a_commanded_attempt_that_fails_during_the_outage_is_recorded_at_once_and_its_retry_waits() {
    let (w, faults) = failing_b_during_an_outage();
    let mut sim = Sim::with_faults(&w, json!({"fail": true}), 1, faults);
    sim.run();
    let failed_attempt = |n: u32| move |e: &RunEvent| matches!(e, RunEvent::AttemptFailed { node, attempt, .. } if node == "b" && *attempt == n);
    // b's service failed at 20, while the orchestrator was down: that is history at once…
    assert_eq!(time_of(&sim, failed_attempt(1)), 20);
    // …but the retry is the orchestrator's decision: it comes when it is back.
    assert_eq!(
        time_of(
            &sim,
            |e| matches!(e, RunEvent::RetryScheduled { node, .. } if node == "b")
        ),
        515
    );
    assert_eq!(time_of(&sim, failed_attempt(2)), 525);
    assert_eq!(
        time_of(
            &sim,
            |e| matches!(e, RunEvent::StepFailed { node, .. } if node == "b")
        ),
        525
    );
    assert_eq!(sim.starts_of("b").len(), 2, "two attempts, no more");
    assert!(sim.starts_of("c").is_empty());
    match sim.find(|e| matches!(e, RunEvent::OrchestratorRecovered { .. })) {
        Some((_, 515, RunEvent::OrchestratorRecovered { waited: 1, .. })) => {}
        other => panic!("b's failure waited for the orchestrator: {other:?}"),
    }

    // The canvas at 100 ms: b's attempt failed and its reply waits; nothing is decided.
    let mut view = RunView::new(["a", "b", "c", "x", "y"]);
    for (i, (_, event)) in sim
        .history
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| *t <= 100)
    {
        view.apply(&RunRecord::new(i as u64 + 1, 0, event.clone()));
    }
    assert_eq!(view.steps["b"].state, StepState::Running);
    assert!(
        view.steps["b"].attempt_failed && view.reply_waiting("b"),
        "{view:#?}"
    );
}

#[test]
fn a_restart_during_the_outage_decides_a_failed_attempt_once_without_running_it_again() {
    let (w, faults) = failing_b_during_an_outage();
    let input = json!({"fail": true});
    let mut whole = Sim::with_faults(&w, input.clone(), 1, faults.clone());
    whole.run();
    let mut first = Sim::with_faults(&w, input.clone(), 1, faults);
    first.run_until(100);
    assert!(first
        .find(|e| matches!(e, RunEvent::AttemptFailed { node, .. } if node == "b"))
        .is_some());
    let mut resumed = first.restarted(&w, input, 1);
    resumed.run();
    assert_eq!(
        resumed.starts_of("b").len(),
        2,
        "the failed attempt is not re-run after the restart: {:#?}",
        resumed.history
    );
    let retries = resumed
        .history
        .iter()
        .filter(|(_, e)| matches!(e, RunEvent::RetryScheduled { node, .. } if node == "b"))
        .count();
    assert_eq!(retries, 1, "decided once");
    let failures_of_attempt_1 = resumed
        .history
        .iter()
        .filter(
            |(_, e)| matches!(e, RunEvent::AttemptFailed { node, attempt: 1, .. } if node == "b"),
        )
        .count();
    assert_eq!(
        failures_of_attempt_1, 1,
        "the failed attempt is not sent again"
    );
    assert_eq!(resumed.status(), whole.status());
    assert_eq!(resumed.core.state_of("b"), Some(StepState::Failed));
}

#[test]
fn load_throughput_is_not_mistaken_for_latency() {
    use server::lab::load::{reading, throughput};
    // 300 runs started over 3 s, each taking 530 ms: they end from 0.53 s to 3.53 s — the
    // style kept up, although only 82 % of them ended within the 3 s of starting.
    let kept_up = throughput(300, Some((530, 3_520)), 3);
    assert!((kept_up - 100.0).abs() < 0.5, "{kept_up}");
    // The same 300 runs ending over 9 s: a backlog.
    let behind = throughput(300, Some((530, 9_530)), 3);
    assert!((behind - 33.2).abs() < 0.5, "{behind}");
    // Too few ends to measure a span: runs per second of the test.
    assert_eq!(throughput(1, Some((10, 10)), 2), 0.5);

    let style = |throughput| app::model::lab::LoadStyle {
        style: LabStyle::Choreography,
        started: 300,
        completed: 300,
        throughput,
        latency_ms: Default::default(),
        peak_waiting: 0,
        seconds: Vec::new(),
    };
    let lines = reading(&[style(kept_up), style(behind)], 100);
    assert_eq!(
        lines[0],
        "Headline: at 100 runs/s, choreography fell behind while choreography kept up"
    );
    assert!(lines[1].contains("it kept up"), "{}", lines[1]);
    assert!(
        lines[2].contains("it fell behind: a bottleneck"),
        "{}",
        lines[2]
    );
}

#[test]
fn an_event_started_step_retries_by_itself_during_the_outage_and_only_its_last_failure_waits() {
    // a ~> b (b fails every attempt, 2 attempts, no backoff) and b -cmd-> c: b is started by
    // an event, but the orchestrator must hear how it ends because it commands c.
    let mut b = node("b", "B", 10);
    b["retry"] = json!({"max_attempts": 2, "backoff_ms": 0});
    b["fail_when"] = json!({"field": "fail", "equals": true});
    let w = workflow(json!({"name": "t",
    "nodes": [node("a", "A", 10), b, node("c", "C", 10)],
    "edges": [
        {"from": "a", "to": "b", "kind": "event"},
        {"from": "b", "to": "c", "kind": "command"}
    ]}));
    let faults = down_from_15_to_515();
    let mut sim = Sim::with_faults(&w, json!({"fail": true}), 1, faults);
    sim.run();
    let failed = |n: u32| move |e: &RunEvent| matches!(e, RunEvent::AttemptFailed { node, attempt, .. } if node == "b" && *attempt == n);
    assert_eq!(time_of(&sim, failed(1)), 20);
    match sim.find(|e| matches!(e, RunEvent::RetryScheduled { node, .. } if node == "b")) {
        Some((_, 20, RunEvent::RetryScheduled { by, .. })) => {
            assert_eq!(*by, app::model::Owner::Itself)
        }
        other => panic!("b retries by itself, at once: {other:?}"),
    }
    assert_eq!(time_of(&sim, failed(2)), 30, "its own retry did not wait");
    assert_eq!(
        time_of(
            &sim,
            |e| matches!(e, RunEvent::StepFailed { node, .. } if node == "b")
        ),
        515,
        "its last failure is the orchestrator's to hear"
    );
    assert!(sim.starts_of("c").is_empty());
    assert_eq!(sim.status(), RunStatus::Failed);
}

/// The lab simulates a sub-flow's child run in the same virtual time: the step takes as
/// long as its child, a saga undoes the child by an undo run, the same seed gives the same
/// run, and a sub-flow that would run its own workflow again (a cycle) or is not in the
/// library fails its step saying so.
#[test]
fn the_lab_simulates_a_child_run_in_virtual_time_and_undoes_it_as_a_unit() {
    let mut reserve = node("reserve", "Payments", 40);
    reserve["compensation"] = json!("release");
    let mut charge = node("charge", "Payments", 60);
    charge["compensation"] = json!("refund");
    let payment = workflow(json!({"name": "payment", "nodes": [reserve, charge],
        "edges": [{"from": "reserve", "to": "charge", "kind": "command"}]}));
    let mut pay = node("pay", "Orders", 0);
    pay["sub_flow"] = json!("payment");
    let mut ship = node("ship", "Shipping", 10);
    ship["failure_rate"] = json!(1.0);
    let order = workflow(
        json!({"name": "order", "nodes": [node("place", "Orders", 10), pay, ship],
        "edges": [{"from": "place", "to": "pay", "kind": "command"},
                  {"from": "pay", "to": "ship", "kind": "command"}]}),
    );
    let library: server::lab::simulate::Library =
        std::sync::Arc::new([("payment".to_string(), payment)].into_iter().collect());
    let run = VirtualRun::complete_in(&library, &order, json!({}), 5, Faults::default(), 0);
    let at = |wanted: &dyn Fn(&RunEvent) -> bool| {
        run.history
            .iter()
            .find(|(_, e)| wanted(e))
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("{:#?}", run.history))
    };
    let started = at(&|e| matches!(e, RunEvent::ChildStarted { .. }));
    let ended = at(&|e| {
        matches!(
            e,
            RunEvent::ChildEnded {
                status: RunStatus::Completed,
                ..
            }
        )
    });
    assert_eq!(ended - started, 100, "reserve 40 ms + charge 60 ms");
    assert_eq!(run.completed().unwrap().0, RunStatus::Compensated);
    let undone = at(&|e| matches!(e, RunEvent::ChildEnded { run, .. } if run.ends_with(".undo")));
    let undo_started = at(&|e| matches!(e, RunEvent::ChildUndoStarted { .. }));
    assert_eq!(
        undone - undo_started,
        100,
        "release and refund, one after the other"
    );
    let again = VirtualRun::complete_in(&library, &order, json!({}), 5, Faults::default(), 0);
    assert_eq!(again.history, run.history);
    // The coupling figures count the child's services too: alone, the order flow's
    // orchestrator knows Orders and Shipping; with its payment child, Payments as well.
    let services = |c: &app::model::lab::Coupling| {
        c.services
            .iter()
            .map(|s| s.service.clone())
            .collect::<Vec<_>>()
    };
    let alone = server::lab::measure::coupling(&order);
    assert_eq!(alone.orchestrator_knows, 2);
    assert_eq!(services(&alone), ["Orders", "Shipping"]);
    let whole = server::lab::measure::coupling_in(&library, &order);
    assert_eq!(whole.orchestrator_knows, 3);
    assert_eq!(services(&whole), ["Orders", "Payments", "Shipping"]);

    // A cycle ends one level down (its child's own child is refused), and a sub-flow that
    // is not there fails its step saying why.
    let mut itself = node("again", "Orders", 0);
    itself["sub_flow"] = json!("loop");
    let looping = workflow(json!({"name": "loop", "nodes": [itself], "edges": []}));
    let library: server::lab::simulate::Library = std::sync::Arc::new(
        [("loop".to_string(), looping.clone())]
            .into_iter()
            .collect(),
    );
    let run = VirtualRun::complete_in(&library, &looping, json!({}), 1, Faults::default(), 0);
    let ended: Vec<RunStatus> = run
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::ChildEnded { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(ended, [RunStatus::Failed]);
    assert_eq!(run.completed().unwrap().0, RunStatus::Failed);
    let alone = VirtualRun::complete(&order, json!({}), 1, Faults::default());
    assert!(alone.history.iter().any(|(_, e)| matches!(e,
        RunEvent::ChildEnded { diagnosis: Some(d), .. } if d == "there is no workflow \"payment\" to run as a sub-flow")));
}
