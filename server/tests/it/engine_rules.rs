//! The engine's rules, one test each, on the pure core driven in simulated time: no I/O,
//! no sleeping, exact timings, fixed seeds.

use crate::sim;

use app::model::{
    parse_workflow, Cause, FailureReason, MessageCounts, Owner, RunEvent, RunStatus, StepState,
    Workflow,
};
use serde_json::{json, Value};
use server::engine::core::{Input, RunCore, MAX_CHAIN_HOPS, MAX_STEP_EXECUTIONS};
use server::lab::simulate::VirtualRun;
use sim::Sim;

fn workflow(doc: Value) -> Workflow {
    parse_workflow(doc.to_string().as_bytes()).expect("valid workflow")
}

fn node(id: &str, extra: Value) -> Value {
    let mut n = json!({"id": id, "label": id, "service": "S", "action": "a", "latency_ms": 10});
    if let (Some(n), Some(extra)) = (n.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            n.insert(k.clone(), v.clone());
        }
    }
    n
}

fn cmd(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "kind": "command"})
}

fn evt(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "kind": "event"})
}

fn is_started(node: &'static str) -> impl Fn(&RunEvent) -> bool {
    move |e| matches!(e, RunEvent::StepStarted { node: n, .. } if n == node)
}

#[test]
fn a_command_is_owned_by_the_orchestrator_and_an_event_by_nobody() {
    // a -cmd-> b, a ~> c, c -cmd-> d: c reports its completion to the orchestrator once.
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({})), node("b", json!({})), node("c", json!({})), node("d", json!({}))],
        "edges": [cmd("a", "b"), evt("a", "c"), cmd("c", "d")]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    let b = sim.starts_of("b");
    match b[0].1 {
        RunEvent::StepStarted { owner, cause, .. } => {
            assert_eq!(*owner, Owner::Orchestrator);
            assert!(matches!(cause, Cause::Command { from, .. } if from == "a"));
        }
        _ => unreachable!(),
    }
    let c = sim.starts_of("c");
    match c[0].1 {
        RunEvent::StepStarted { owner, cause, .. } => {
            assert_eq!(*owner, Owner::Itself);
            assert!(matches!(cause, Cause::Event { name, .. } if name == "aCompleted"));
        }
        _ => unreachable!(),
    }
    assert!(
        sim.index_of(|e| matches!(e, RunEvent::CommandSent { to, .. } if to == "b"))
            < sim.index_of(is_started("b"))
    );
    assert!(
        sim.index_of(|e| matches!(e, RunEvent::EventPublished { from, .. } if from == "a"))
            < sim.index_of(|e| matches!(e, RunEvent::EventDelivered { to, .. } if to == "c"))
    );
    let reports: Vec<_> = sim
        .history
        .iter()
        .filter(|(_, e)| matches!(e, RunEvent::ReplyReceived { report: true, .. }))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "c reports to the orchestrator before it commands d"
    );
    let (_, _, messages) = sim.completed();
    // commands a→b, c→d; replies from a, b, d and c's report; one event, one delivery
    assert_eq!(
        messages,
        MessageCounts {
            commands: 2,
            replies: 4,
            events: 1,
            deliveries: 1,
            queries: 0,
        }
    );
}

#[test]
fn retries_back_off_exponentially_under_their_owner() {
    let flaky = json!({"failure_rate": 1.0, "retry": {"max_attempts": 3, "backoff_ms": 100, "multiplier": 2}});
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({})), node("b", flaky.clone()), node("c", flaky)],
        "edges": [cmd("a", "b"), evt("a", "c")]}));
    let mut sim = Sim::new(&w, json!({}), 7);
    sim.run();
    let times: Vec<u64> = sim.starts_of("b").iter().map(|(t, _)| *t).collect();
    // a ends at 10; b's attempts take 10 each; waits of 100 then 200.
    assert_eq!(times, vec![10, 10 + 10 + 100, 10 + 10 + 100 + 10 + 200]);
    let scheduled: Vec<(u32, u64, Owner)> = sim
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::RetryScheduled {
                node,
                attempt,
                delay_ms,
                by,
            } if node == "b" || node == "c" => Some((*attempt, *delay_ms, *by)),
            _ => None,
        })
        .collect();
    assert!(scheduled.contains(&(2, 100, Owner::Orchestrator)));
    assert!(scheduled.contains(&(3, 200, Owner::Orchestrator)));
    assert!(
        scheduled.contains(&(2, 100, Owner::Itself)),
        "c retries itself"
    );
    let failed = sim
        .find(|e| matches!(e, RunEvent::StepFailed { node, .. } if node == "b"))
        .unwrap();
    assert!(matches!(
        failed.2,
        RunEvent::StepFailed {
            attempts: 3,
            reason: FailureReason::Error,
            ..
        }
    ));
    assert_eq!(sim.core.state_of("b"), Some(StepState::Failed));
}

#[test]
fn an_attempt_past_its_timeout_fails_at_the_timeout() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({"latency_ms": 500, "timeout_ms": 100, "retry": {"max_attempts": 2, "backoff_ms": 50}}))],
        "edges": []}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    let failures: Vec<u64> = sim
        .history
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                RunEvent::AttemptFailed {
                    reason: FailureReason::Timeout,
                    ..
                }
            )
        })
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(failures, vec![100, 100 + 50 + 100]);
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Failed);
    assert!(diagnosis.unwrap().contains("timed out"));
}

#[test]
fn a_failure_route_is_followed_instead_of_a_saga() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("pay", json!({"fail_when": {"field": "card", "equals": "expired"}, "compensation": "refund"})),
                  node("ship", json!({})), node("email", json!({}))],
        "edges": [cmd("pay", "ship"), {"from": "pay", "to": "email", "kind": "command", "on": "failure"}]}));
    let mut sim = Sim::new(&w, json!({"card": "expired"}), 1);
    sim.run();
    assert_eq!(
        sim.status(),
        RunStatus::Completed,
        "the failure was handled"
    );
    assert_eq!(sim.core.state_of("email"), Some(StepState::Succeeded));
    assert_eq!(sim.core.state_of("ship"), Some(StepState::Skipped));
    assert!(sim
        .find(|e| matches!(e, RunEvent::SagaStarted { .. }))
        .is_none());
    assert!(matches!(
        sim.find(|e| matches!(e, RunEvent::StepFailed { .. }))
            .unwrap()
            .2,
        RunEvent::StepFailed {
            reason: FailureReason::Rejected,
            ..
        }
    ));
    // The same workflow with a good card never takes the route.
    let mut ok = Sim::new(&w, json!({"card": "valid"}), 1);
    ok.run();
    assert_eq!(ok.core.state_of("email"), Some(StepState::Skipped));
}

#[test]
fn a_saga_compensates_in_reverse_order_of_completion() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({"compensation": "cancel"})),
                  node("pay", json!({"compensation": "refund"})),
                  node("note", json!({})),
                  node("reserve", json!({"compensation": "release"})),
                  node("ship", json!({"failure_rate": 1.0}))],
        "edges": [cmd("order", "pay"), cmd("pay", "note"), cmd("note", "reserve"), cmd("reserve", "ship")]}));
    let mut sim = Sim::new(&w, json!({}), 3);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Compensated);
    let saga = sim
        .find(|e| matches!(e, RunEvent::SagaStarted { .. }))
        .unwrap();
    assert!(
        matches!(saga.2, RunEvent::SagaStarted { failed, compensate }
        if failed == "ship" && compensate == &["reserve", "pay", "order"])
    );
    let compensated: Vec<&str> = sim
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::StepCompensated { node, .. } => Some(node.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        compensated,
        ["reserve", "pay", "order"],
        "one at a time, newest first"
    );
    for step in ["reserve", "pay", "order"] {
        assert_eq!(sim.core.state_of(step), Some(StepState::Compensated));
    }
    assert_eq!(
        sim.core.state_of("note"),
        Some(StepState::Succeeded),
        "no compensation defined"
    );
}

#[test]
fn an_event_failure_nobody_hears_is_diagnosed() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("Charge Payment", json!({"failure_rate": 1.0}))],
        "edges": [evt("order", "Charge Payment")]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Failed);
    let diagnosis = diagnosis.unwrap();
    assert!(diagnosis.contains("Charge Payment failed"), "{diagnosis}");
    assert!(
        diagnosis.contains("published ChargePaymentFailed, but nobody subscribes"),
        "{diagnosis}"
    );
    assert!(sim
        .find(|e| matches!(e, RunEvent::EventPublished { name, subscribers, .. } if name == "ChargePaymentFailed" && subscribers.is_empty()))
        .is_some());
    assert!(sim
        .find(|e| matches!(e, RunEvent::FailureUnhandled { event: Some(ev), .. } if ev == "ChargePaymentFailed"))
        .is_some());
}

#[test]
fn join_all_waits_for_every_edge_that_can_still_arrive_and_join_any_does_not() {
    let doc = |join: &str, c_fails: bool| {
        workflow(json!({"name": "t",
            "nodes": [node("a", json!({})), node("b", json!({"latency_ms": 10})),
                      node("c", json!({"latency_ms": 50, "failure_rate": if c_fails { 1.0 } else { 0.0 }})),
                      node("j", json!({"join": join, "latency_ms": 20}))],
            "edges": [cmd("a", "b"), cmd("a", "c"), cmd("b", "j"), cmd("c", "j")]}))
    };
    let mut all = Sim::new(&doc("all", false), json!({}), 1);
    all.run();
    let starts = all.starts_of("j");
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].0, 60, "after c, the slower branch");
    assert!(all.find(|e| matches!(e, RunEvent::StepWaiting { node, waiting_for, .. } if node == "j" && waiting_for.len() == 1)).is_some());

    // If c fails (no route), its edge can no longer arrive: j starts with b's trigger alone.
    let mut partial = Sim::new(&doc("all", true), json!({}), 1);
    partial.run();
    assert_eq!(partial.starts_of("j").len(), 1);
    assert_eq!(partial.starts_of("j")[0].0, 60);

    // join any starts on the first trigger, and runs again for a trigger after it finished.
    let mut any = Sim::new(&doc("any", false), json!({}), 1);
    any.run();
    let starts: Vec<u64> = any.starts_of("j").iter().map(|(t, _)| *t).collect();
    assert_eq!(starts, vec![20, 60]);
}

#[test]
fn cancel_stops_running_steps_and_skips_the_rest() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({"latency_ms": 100})), node("b", json!({}))],
        "edges": [cmd("a", "b")]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run_until(50);
    sim.at(50, Input::Cancel);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Cancelled);
    assert_eq!(sim.core.state_of("a"), Some(StepState::Cancelled));
    assert_eq!(sim.core.state_of("b"), Some(StepState::Skipped));
    assert!(
        sim.find(|e| matches!(e, RunEvent::StepSucceeded { .. }))
            .is_none(),
        "a's late completion is ignored"
    );
}

#[test]
fn runaway_cycles_are_stopped_at_the_limits() {
    // An event ping-pong: the chain grows one hop per step.
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({"latency_ms": 0})), node("b", json!({"latency_ms": 0})), node("start", json!({"latency_ms": 0}))],
        "edges": [evt("start", "a"), evt("a", "b"), evt("b", "a")]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Failed);
    assert!(diagnosis
        .unwrap()
        .contains(&format!("limit {MAX_CHAIN_HOPS}")));

    // A fan-out cycle: executions grow faster than hops, so the execution limit comes first.
    let mut nodes = vec![
        node("hub", json!({"latency_ms": 0})),
        node("start", json!({"latency_ms": 0})),
    ];
    let mut edges = vec![evt("start", "hub")];
    for i in 0..30 {
        let id = format!("s{i}");
        nodes.push(node(&id, json!({"latency_ms": 0})));
        edges.push(evt("hub", &id));
        edges.push(evt(&id, "hub"));
    }
    let w = workflow(json!({"name": "t", "nodes": nodes, "edges": edges}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Failed);
    let diagnosis = diagnosis.unwrap();
    assert!(
        diagnosis.contains(&format!("executed {MAX_STEP_EXECUTIONS} steps")),
        "{diagnosis}"
    );
    let executions = sim
        .history
        .iter()
        .filter(|(_, e)| matches!(e, RunEvent::StepStarted { attempt: 1, .. }))
        .count();
    assert_eq!(executions, MAX_STEP_EXECUTIONS as usize);
}

#[test]
fn a_duplicate_delivery_runs_a_step_twice_only_when_it_is_not_idempotent() {
    for idempotent in [true, false] {
        let w = workflow(json!({"name": "t",
            "nodes": [node("a", json!({})), node("b", json!({"idempotent": idempotent, "latency_ms": 30}))],
            "edges": [evt("a", "b")]}));
        let mut sim = Sim::new(&w, json!({}), 1);
        sim.run_until(15); // b was delivered at 10 and is running
        let (message, edge) = match sim
            .find(|e| matches!(e, RunEvent::EventDelivered { .. }))
            .unwrap()
            .2
        {
            RunEvent::EventDelivered { message, .. } => (*message, 0),
            _ => unreachable!(),
        };
        sim.at(15, Input::Redeliver { message, edge });
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
        let executions: Vec<u32> = sim
            .starts_of("b")
            .iter()
            .map(|(_, e)| match e {
                RunEvent::StepStarted { execution, .. } => *execution,
                _ => unreachable!(),
            })
            .collect();
        if idempotent {
            assert_eq!(executions, vec![1], "the duplicate is recognised");
        } else {
            assert_eq!(
                executions,
                vec![1, 2],
                "the duplicate ran the step again, after the first"
            );
        }
        assert_eq!(sim.status(), RunStatus::Completed);
    }
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({"latency_ms": [10, 500], "failure_rate": 0.5, "retry": {"max_attempts": 3}})),
                  node("b", json!({"latency_ms": [10, 500], "failure_rate": 0.5})), node("c", json!({"latency_ms": [10, 500]}))],
        "edges": [cmd("a", "b"), evt("a", "c")]}));
    let run = |seed| {
        let mut sim = Sim::new(&w, json!({}), seed);
        sim.run();
        sim.history.clone()
    };
    assert_eq!(run(42), run(42));
    let distinct: std::collections::HashSet<String> =
        (0..10).map(|s| format!("{:?}", run(s))).collect();
    assert!(distinct.len() > 5, "seeds change latencies and failures");
}

#[test]
fn replaying_a_history_resumes_the_run_without_running_anything_twice() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({})), node("b", json!({"latency_ms": 40, "failure_rate": 0.5, "retry": {"max_attempts": 5, "backoff_ms": 10}})),
                  node("c", json!({})), node("d", json!({}))],
        "edges": [cmd("a", "b"), evt("b", "c"), cmd("c", "d")]}));
    let mut whole = Sim::new(&w, json!({}), 9);
    whole.run();
    for cut in [5, 15, 35, 60, 90] {
        let mut first = Sim::new(&w, json!({}), 9);
        first.run_until(cut);
        // "Crash": a new core rebuilt from the history alone, its timers re-armed.
        let mut resumed = first.restarted(&w, json!({}), 9);
        resumed.run();
        assert_eq!(resumed.status(), whole.status(), "cut at {cut}");
        for step in ["a", "b", "c", "d"] {
            assert_eq!(
                resumed.core.state_of(step),
                whole.core.state_of(step),
                "{step} cut at {cut}"
            );
            let mut keys: Vec<(u32, u32)> = resumed
                .starts_of(step)
                .iter()
                .map(|(_, e)| match e {
                    RunEvent::StepStarted {
                        execution, attempt, ..
                    } => (*execution, *attempt),
                    _ => unreachable!(),
                })
                .collect();
            let before = keys.len();
            keys.dedup();
            assert_eq!(
                keys.len(),
                before,
                "{step} started twice for one attempt (cut at {cut})"
            );
        }
    }
}

#[test]
fn an_event_published_but_not_delivered_before_a_crash_is_delivered_after_it() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("a", json!({})), node("b", json!({})), node("c", json!({}))],
        "edges": [evt("a", "b"), evt("a", "c")]}));
    let mut core = RunCore::new(&w, json!({}), 1, 1.0);
    let mut history: Vec<RunEvent> = Vec::new();
    let keep = |actions: Vec<server::engine::core::Action>, history: &mut Vec<RunEvent>| {
        for action in actions {
            if let server::engine::core::Action::Record(e) = action {
                history.push(e);
            }
        }
    };
    keep(core.handle(Input::Start), &mut history);
    keep(
        core.handle(Input::AttemptDone {
            node: 0,
            execution: 1,
            attempt: 1,
        }),
        &mut history,
    );
    assert!(
        matches!(history.last(), Some(RunEvent::EventPublished { subscribers, .. }) if subscribers.len() == 2)
    );
    // Crash before the bus delivered anything: rebuild from the history alone.
    let mut rebuilt = RunCore::new(&w, json!({}), 1, 1.0);
    for event in &history {
        rebuilt.apply(event);
    }
    let actions = rebuilt.resume("r", None, None);
    let deliveries: Vec<_> = actions
        .iter()
        .filter(|a| matches!(a, server::engine::core::Action::Deliver { .. }))
        .collect();
    assert_eq!(deliveries.len(), 2, "both subscribers get the event again");
    assert!(actions.iter().any(|a| matches!(a,
        server::engine::core::Action::Record(RunEvent::RunResumed { resent, .. }) if resent.len() == 2)));
    let mut sim = Sim(VirtualRun::from_core(
        rebuilt,
        10,
        history.into_iter().map(|e| (10, e)).collect(),
    ));
    sim.absorb(actions);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    assert_eq!(sim.starts_of("b").len(), 1);
    assert_eq!(sim.starts_of("c").len(), 1);
}

/// A step's writes go into the run data when it succeeds: a fixed value as it is, a choice
/// drawn from the seed — the same seed always draws the same, the chances show over many
/// seeds, and a run rebuilt from its history alone has the same data.
#[test]
fn a_step_writes_into_the_run_data_what_the_seed_draws() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({"writes": {"amount": 120, "tier": "gold"}})),
                  node("pay", json!({"writes": {"approved": {"choose": [{"value": true, "p": 0.8}, {"value": false, "p": 0.2}]}}}))],
        "edges": [cmd("order", "pay")]}));
    let wrote = |sim: &Sim, step: &str| -> serde_json::Map<String, Value> {
        match sim.find(|e| matches!(e, RunEvent::StepSucceeded { node, .. } if node == step)) {
            Some((_, _, RunEvent::StepSucceeded { wrote, .. })) => wrote.clone(),
            _ => panic!("{step} did not succeed"),
        }
    };
    let mut sim = Sim::new(&w, json!({"customer": "kim"}), 3);
    sim.run();
    assert_eq!(
        Value::Object(wrote(&sim, "order")),
        json!({"amount": 120, "tier": "gold"})
    );
    let approved = wrote(&sim, "pay")["approved"].clone();
    assert!(approved.is_boolean());
    // The run data: the input's fields, then what the steps wrote.
    assert_eq!(
        Value::Object(sim.core.data()),
        json!({"customer": "kim", "amount": 120, "tier": "gold", "approved": approved})
    );
    // The same seed draws the same, again and after a crash mid-run.
    let mut again = Sim::new(&w, json!({"customer": "kim"}), 3);
    again.run();
    assert_eq!(wrote(&again, "pay"), wrote(&sim, "pay"));
    let mut first = Sim::new(&w, json!({"customer": "kim"}), 3);
    first.run_until(15);
    let mut resumed = first.restarted(&w, json!({"customer": "kim"}), 3);
    resumed.run();
    assert_eq!(resumed.core.data(), sim.core.data());
    // Over many seeds the chances show: about 80 % approved.
    let approvals = (0..1000u64)
        .filter(|&seed| {
            let mut s = Sim::new(&w, json!({}), seed);
            s.run();
            s.core.data()["approved"] == json!(true)
        })
        .count();
    assert!(
        (740..=860).contains(&approvals),
        "{approvals} of 1000 approved"
    );
}

fn when(from: &str, to: &str, id: &str, condition: &str) -> Value {
    json!({"id": id, "from": from, "to": to, "kind": "command", "condition": condition})
}

/// The orchestrator decides on the run data: an exclusive decision takes the first edge
/// whose condition holds, else the default; the history says what it took and what it saw;
/// the branch not taken never runs, and the run completes.
#[test]
fn an_exclusive_decision_takes_the_first_branch_that_holds_else_the_default() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("review", json!({})), node("vip", json!({})), node("ship", json!({}))],
        "edges": [when("order", "review", "big", "amount > 100"), when("order", "vip", "gold", "tier == 'gold'"),
                  {"id": "default", "from": "order", "to": "ship", "kind": "command"}]}));
    let decided = |sim: &Sim| match sim.find(|e| matches!(e, RunEvent::Decided { .. })) {
        Some((
            _,
            _,
            RunEvent::Decided {
                taken,
                saw,
                exclusive,
                ..
            },
        )) => (taken.clone(), Value::Object(saw.clone()), *exclusive),
        _ => panic!("no decision"),
    };
    let mut big = Sim::new(&w, json!({"amount": 150, "tier": "gold"}), 1);
    big.run();
    assert_eq!(big.status(), RunStatus::Completed);
    // The first that holds, though the next holds too; it saw what it read.
    assert_eq!(
        decided(&big),
        (vec!["big".to_string()], json!({"amount": 150}), true)
    );
    assert_eq!(big.starts_of("review").len(), 1);
    assert!(big.starts_of("vip").is_empty() && big.starts_of("ship").is_empty());
    let mut small = Sim::new(&w, json!({"amount": 50, "tier": "silver"}), 1);
    small.run();
    assert_eq!(
        decided(&small),
        (
            vec!["default".to_string()],
            json!({"amount": 50, "tier": "silver"}),
            true
        )
    );
    assert_eq!(small.starts_of("ship").len(), 1);
    assert!(small.starts_of("review").is_empty());
    assert_eq!(small.status(), RunStatus::Completed);
}

/// An inclusive decision takes every branch that holds; a `join: all` after it waits for
/// the branches taken and not for the others.
#[test]
fn an_inclusive_decision_takes_every_branch_that_holds_and_the_join_waits_for_those_only() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("pay", json!({"decide": "inclusive"})), node("gift", json!({"latency_ms": 30})), node("mail", json!({})),
                  node("ship", json!({})), node("done", json!({"join": "all"}))],
        "edges": [when("pay", "gift", "g", "tier == 'gold'"), when("pay", "mail", "m", "newsletter"),
                  {"id": "s", "from": "pay", "to": "ship", "kind": "command"},
                  cmd("gift", "done"), cmd("mail", "done"), cmd("ship", "done")]}));
    let mut all = Sim::new(&w, json!({"tier": "gold", "newsletter": true}), 1);
    all.run();
    assert_eq!(all.status(), RunStatus::Completed);
    for step in ["gift", "mail", "ship", "done"] {
        assert_eq!(all.starts_of(step).len(), 1, "{step}");
    }
    // done started after gift, the slowest branch taken.
    let gift_done =
        all.index_of(|e| matches!(e, RunEvent::StepSucceeded { node, .. } if node == "gift"));
    assert!(all.index_of(is_started("done")) > gift_done);
    let mut some = Sim::new(&w, json!({"tier": "silver", "newsletter": true}), 1);
    some.run();
    assert_eq!(some.status(), RunStatus::Completed);
    assert!(some.starts_of("gift").is_empty());
    assert_eq!(
        some.starts_of("done").len(),
        1,
        "the join does not wait for the branch not taken"
    );
}

/// When nothing holds and there is no default, or a condition cannot be decided, the run
/// fails saying why — never silently completes.
#[test]
fn a_decision_that_takes_nothing_fails_the_run_with_why() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("review", json!({}))],
        "edges": [when("order", "review", "big", "amount > 100")]}));
    let mut none = Sim::new(&w, json!({"amount": 5}), 1);
    none.run();
    let (status, diagnosis, _) = none.completed();
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(
        diagnosis.as_deref(),
        Some("no condition after order holds, and no edge is the default")
    );
    // The story says it, in Korean too, and counts as having told why.
    let log: Vec<app::model::RunRecord> = none
        .history
        .iter()
        .enumerate()
        .map(|(i, (at, e))| app::model::RunRecord::new(i as u64 + 1, *at as i64, e.clone()))
        .collect();
    let story = app::model::story::Story::of(&log);
    assert!(story.tells_why());
    assert_eq!(
        story.lines(&w, app::i18n::Locale::ko)[0].message,
        "order 다음의 결정이 어느 갈래도 고르지 못했습니다: no condition after order holds, and no edge is the default"
    );
    let mut missing = Sim::new(&w, json!({"total": 5}), 1);
    missing.run();
    let (status, diagnosis, _) = missing.completed();
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(
        diagnosis.as_deref(),
        Some("the condition \"amount > 100\" on the edge to review could not be decided: the run data has no field \"amount\"")
    );
}

/// What a step wrote decides: the drawn value chooses the branch, the same seed the same
/// branch, and a run resumed from its history after a crash takes it too.
#[test]
fn a_decision_on_drawn_data_takes_the_same_branch_for_the_same_seed() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("pay", json!({"writes": {"approved": {"choose": [{"value": true, "p": 0.5}, {"value": false, "p": 0.5}]}}})),
                  node("ship", json!({})), node("refund", json!({}))],
        "edges": [when("pay", "ship", "yes", "approved"), {"id": "no", "from": "pay", "to": "refund", "kind": "command"}]}));
    let branch = |seed: u64| {
        let mut sim = Sim::new(&w, json!({}), seed);
        sim.run();
        (sim.starts_of("ship").len(), sim.starts_of("refund").len())
    };
    let paths: Vec<_> = (0..40).map(branch).collect();
    assert!(
        paths.contains(&(1, 0)) && paths.contains(&(0, 1)),
        "both branches over 40 seeds"
    );
    assert!((0..40).all(|seed| branch(seed) == paths[seed as usize]));
    let mut first = Sim::new(&w, json!({}), 7);
    first.run_until(15);
    let mut resumed = first.restarted(&w, json!({}), 7);
    resumed.run();
    assert_eq!(
        (
            resumed.starts_of("ship").len(),
            resumed.starts_of("refund").len()
        ),
        paths[7]
    );
}

fn on_event(
    from: &str,
    to: &str,
    id: &str,
    event: &str,
    condition: Option<&str>,
    by: &str,
) -> Value {
    let mut e = json!({"id": id, "from": from, "to": to, "kind": "event", "event": event});
    if let Some(c) = condition {
        e["condition"] = json!(c);
        e["decided_by"] = json!(by);
    }
    e
}

fn published(sim: &Sim) -> Vec<String> {
    sim.history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::EventPublished { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Choreographed, the publisher decides: the rule lives in its service, which publishes
/// only the event its decision takes (the unconditional one as the default); the history
/// records the decision as the publisher's, with what it saw.
#[test]
fn a_publisher_decides_which_event_to_publish() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("check", json!({})), node("review", json!({})), node("ship", json!({}))],
        "edges": [on_event("check", "review", "high", "AmountHigh", Some("amount > 100"), "publisher"),
                  on_event("check", "ship", "ok", "AmountOk", None, "publisher")]}));
    let mut big = Sim::new(&w, json!({"amount": 150}), 1);
    big.run();
    assert_eq!(big.status(), RunStatus::Completed);
    assert_eq!(published(&big), vec!["AmountHigh"]);
    assert!(matches!(
        big.find(|e| matches!(e, RunEvent::Decided { .. })),
        Some((_, _, RunEvent::Decided { publisher: true, taken, saw, .. }))
            if *taken == vec!["high".to_string()] && Value::Object(saw.clone()) == json!({"amount": 150})
    ));
    assert_eq!(big.starts_of("review").len(), 1);
    assert!(big.starts_of("ship").is_empty());
    let mut small = Sim::new(&w, json!({"amount": 50}), 1);
    small.run();
    assert_eq!(published(&small), vec!["AmountOk"]);
    assert!(small.starts_of("review").is_empty());
    assert_eq!(small.starts_of("ship").len(), 1);
    // No orchestrator took part.
    assert_eq!(small.completed().2.orchestrator(), 0);
}

/// Choreographed, every subscriber filters: one event goes to both, each checks its own
/// copy of the rule on what the event carries, one acts and the other drops it.
#[test]
fn every_subscriber_filters_the_event_it_hears() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("check", json!({})), node("review", json!({})), node("ship", json!({}))],
        "edges": [on_event("check", "review", "high", "AmountChecked", Some("amount > 100"), "subscriber"),
                  on_event("check", "ship", "ok", "AmountChecked", Some("!(amount > 100)"), "subscriber")]}));
    let mut big = Sim::new(&w, json!({"amount": 150}), 1);
    big.run();
    assert_eq!(big.status(), RunStatus::Completed);
    assert_eq!(published(&big), vec!["AmountChecked"]);
    // The event carries the input its publisher received: no query.
    assert!(matches!(
        big.find(|e| matches!(e, RunEvent::EventPublished { .. })),
        Some((_, _, RunEvent::EventPublished { payload, .. })) if Value::Object(payload.clone()) == json!({"amount": 150})
    ));
    let filtered: Vec<(String, bool)> = big
        .history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::EventFiltered { to, passed, .. } => Some((to.clone(), *passed)),
            _ => None,
        })
        .collect();
    assert_eq!(filtered.len(), 2);
    assert!(
        filtered.contains(&("review".into(), true)) && filtered.contains(&("ship".into(), false))
    );
    assert_eq!(big.starts_of("review").len(), 1);
    assert!(big.starts_of("ship").is_empty());
    let (_, _, counts) = big.completed();
    assert_eq!(
        (counts.events, counts.deliveries, counts.queries),
        (1, 2, 0)
    );
    // In words: who dropped what, having seen what.
    let log: Vec<app::model::RunRecord> = big
        .history
        .iter()
        .enumerate()
        .map(|(i, (at, e))| app::model::RunRecord::new(i as u64 + 1, *at as i64, e.clone()))
        .collect();
    let story = app::model::story::Story::of(&log);
    let lines = story.lines(&w, app::i18n::Locale::en);
    assert!(
        lines.iter().any(|l| l.code == "events_filtered"
            && l.message
                .contains("review acted on AmountChecked (it saw amount = 150)")
            && l.message
                .contains("ship dropped AmountChecked (it saw amount = 150)")),
        "{lines:?}"
    );
}

/// An event that carries too little costs a query: the subscriber asks the service that
/// wrote the field, waits for the answer, then works. Orchestrated, the orchestrator holds
/// the run data and nobody asks; an event that carries the field needs no query either.
#[test]
fn a_subscriber_queries_the_owner_of_a_field_its_event_lacks() {
    let doc = |kind: &str, payload: Option<Value>| {
        let mut second = json!({"id": "e2", "from": "pay", "to": "ship", "kind": kind});
        if let Some(p) = payload {
            second["payload"] = p;
        }
        workflow(json!({"name": "t",
            "nodes": [node("order", json!({"writes": {"address": "Seoul"}})), node("pay", json!({"latency_ms": 10})),
                      node("ship", json!({"reads": ["address"]})), ],
            "edges": [{"id": "e1", "from": "order", "to": "pay", "kind": kind}, second]}))
    };
    let lean = doc("event", None);
    let mut sim = Sim::new(&lean, json!({}), 1);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    let (asked_at, answered_at) = match (
        sim.find(|e| matches!(e, RunEvent::QuerySent { .. })),
        sim.find(|e| matches!(e, RunEvent::QueryAnswered { .. })),
    ) {
        (
            Some((
                _,
                t1,
                RunEvent::QuerySent {
                    node,
                    owner,
                    fields,
                    name,
                    ..
                },
            )),
            Some((_, t2, RunEvent::QueryAnswered { answer, .. })),
        ) => {
            assert_eq!(
                (node.as_str(), owner.as_str(), name.as_str()),
                ("ship", "order", "payCompleted")
            );
            assert_eq!(fields, &vec!["address".to_string()]);
            assert_eq!(Value::Object(answer.clone()), json!({"address": "Seoul"}));
            (t1, t2)
        }
        other => panic!("no query: {other:?}"),
    };
    // The answer took order's latency (10 ms), and ship started after it.
    assert_eq!(answered_at - asked_at, 10);
    assert!(sim.starts_of("ship")[0].0 >= answered_at);
    assert_eq!(sim.completed().2.queries, 1);
    // Event-carried state: the event lists the field, nobody asks.
    let carried = doc("event", Some(json!(["address"])));
    let mut sim = Sim::new(&carried, json!({}), 1);
    sim.run();
    assert_eq!(sim.completed().2.queries, 0);
    assert!(sim
        .find(|e| matches!(e, RunEvent::QuerySent { .. }))
        .is_none());
    // Orchestrated: the orchestrator sends what the step needs.
    let commanded = doc("command", None);
    let mut sim = Sim::new(&commanded, json!({}), 1);
    sim.run();
    assert_eq!(sim.completed().2.queries, 0);
}

/// A crash while a query is unanswered: the rebuilt core asks again, the subscriber acts
/// once, and the run ends as the uninterrupted one did.
#[test]
fn a_query_in_flight_is_asked_again_after_a_crash() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({"writes": {"address": "Seoul"}, "latency_ms": 40})), node("pay", json!({})),
                  node("ship", json!({"reads": ["address"]}))],
        "edges": [evt("order", "pay"), evt("pay", "ship")]}));
    let mut whole = Sim::new(&w, json!({}), 2);
    whole.run();
    let asked = whole
        .find(|e| matches!(e, RunEvent::QuerySent { .. }))
        .expect("a query")
        .1;
    let mut first = Sim::new(&w, json!({}), 2);
    first.run_until(asked + 5);
    assert!(first
        .find(|e| matches!(e, RunEvent::QuerySent { .. }))
        .is_some());
    assert!(first
        .find(|e| matches!(e, RunEvent::QueryAnswered { .. }))
        .is_none());
    let mut resumed = first.restarted(&w, json!({}), 2);
    assert!(matches!(
        resumed.history.last(),
        Some((_, RunEvent::RunResumed { resent, .. })) if resent.iter().any(|r| r.starts_with("run/query/"))
    ));
    resumed.run();
    assert_eq!(resumed.status(), RunStatus::Completed);
    assert_eq!(resumed.starts_of("ship").len(), 1);
    assert_eq!(resumed.core.data(), whole.core.data());
}

/// A subscriber's filter on a field its event does not carry: it asks the owner first,
/// then decides on the answer.
#[test]
fn a_filter_on_a_field_the_event_lacks_asks_for_it_first() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({"writes": {"tier": "gold"}})), node("pay", json!({})), node("gift", json!({}))],
        "edges": [evt("order", "pay"),
                  on_event("pay", "gift", "g", "PaymentDone", Some("tier == 'gold'"), "subscriber")]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    let asked = sim.index_of(|e| matches!(e, RunEvent::QueryAnswered { .. }));
    let filtered = sim.index_of(|e| matches!(e, RunEvent::EventFiltered { passed: true, .. }));
    assert!(asked < filtered);
    assert_eq!(sim.starts_of("gift").len(), 1);
}

/// A decision converted to choreography — the publisher deciding, or every subscriber
/// filtering — takes the same branches as the orchestrator for every input; the coupling
/// figures count who must know the rule: one party, one service, or every subscriber.
#[test]
fn a_converted_decision_takes_the_same_branches_and_counts_who_knows_the_rule() {
    use app::model::convert::{convert, convert_with, Style};
    use app::model::workflow::Decider;
    use server::lab::measure::coupling;
    let service = |id: &str, s: &str| {
        let mut n = node(id, json!({}));
        n["service"] = json!(s);
        n
    };
    let w = workflow(json!({"name": "t",
        "nodes": [service("check", "Payments"), service("review", "Risk"), service("vip", "Loyalty"), service("ship", "Shipping")],
        "edges": [when("check", "review", "big", "amount > 100"), when("check", "vip", "gold", "tier == 'gold'"),
                  {"id": "else", "from": "check", "to": "ship", "kind": "command"}]}));
    let publisher = convert(&w, Style::Choreography).workflow;
    let subscribers = convert_with(&w, Style::Choreography, Decider::Subscriber).workflow;
    let ran = |w: &Workflow, input: Value| {
        let mut sim = Sim::new(w, input, 1);
        sim.run();
        assert_eq!(sim.status(), RunStatus::Completed);
        ["review", "vip", "ship"]
            .into_iter()
            .filter(|s| !sim.starts_of(s).is_empty())
            .collect::<Vec<_>>()
    };
    for (input, branch) in [
        (json!({"amount": 150, "tier": "gold"}), "review"),
        (json!({"amount": 50, "tier": "gold"}), "vip"),
        (json!({"amount": 50, "tier": "silver"}), "ship"),
    ] {
        for version in [&w, &publisher, &subscribers] {
            assert_eq!(ran(version, input.clone()), [branch], "{input}");
        }
    }
    let figures = |w: &Workflow| {
        let c = coupling(w);
        (c.rules, c.rule_holders)
    };
    assert_eq!(figures(&w), (1, 1));
    assert_eq!(figures(&publisher), (1, 1));
    assert_eq!(figures(&subscribers), (1, 3));
    let risk = coupling(&subscribers)
        .services
        .into_iter()
        .find(|s| s.service == "Risk")
        .unwrap();
    assert!(
        risk.knows.contains(&"rule after check".to_string()),
        "{risk:?}"
    );
}

fn started_at(sim: &Sim, node: &str) -> u64 {
    sim.starts_of(node)
        .first()
        .map(|(t, _)| *t)
        .expect("started")
}

fn succeeded_time(sim: &Sim, node: &str) -> Option<u64> {
    sim.find(|e| matches!(e, RunEvent::StepSucceeded { node: n, .. } if n == node))
        .map(|(_, t, _)| t)
}

/// A timer waits its time; a wait for a message ends when the simulated message arrives,
/// or at its timeout, which follows the step's failure route.
#[test]
fn a_timer_waits_its_time_and_a_wait_ends_on_its_message_or_its_timeout() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("pause", json!({"wait": {"for_ms": 500}})),
                  node("confirm", json!({"wait": {"message": "PaymentConfirmed", "timeout_ms": 300, "arrives_ms": [100, 200]}})),
                  node("ship", json!({})), node("cancel", json!({}))],
        "edges": [cmd("order", "pause"), cmd("pause", "confirm"), cmd("confirm", "ship"),
                  {"from": "confirm", "to": "cancel", "kind": "command", "on": "failure"}]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    assert_eq!(
        succeeded_time(&sim, "pause").unwrap() - started_at(&sim, "pause"),
        500
    );
    let waited = succeeded_time(&sim, "confirm").unwrap() - started_at(&sim, "confirm");
    assert!((100..=200).contains(&waited), "{waited}");
    assert!(matches!(
        sim.find(|e| matches!(e, RunEvent::MessageReceived { .. })),
        Some((_, _, RunEvent::MessageReceived { name, node: Some(n), source: app::model::MessageSource::Simulated, .. }))
            if name == "PaymentConfirmed" && n == "confirm"
    ));
    assert_eq!(sim.starts_of("ship").len(), 1);
    assert!(sim.starts_of("cancel").is_empty());

    // The message never comes: the timeout fails the step, and its failure route runs.
    let mut never = w.clone();
    never.nodes[2].wait.as_mut().unwrap().never = Some(1.0);
    let mut sim = Sim::new(&never, json!({}), 1);
    sim.run();
    assert_eq!(sim.status(), RunStatus::Completed);
    assert!(matches!(
        sim.find(|e| matches!(e, RunEvent::AttemptFailed { node, .. } if node == "confirm")),
        Some((_, t, RunEvent::AttemptFailed { reason: FailureReason::Timeout, .. })) if t - started_at(&sim, "confirm") == 300
    ));
    assert_eq!(sim.starts_of("cancel").len(), 1);
    assert!(sim.starts_of("ship").is_empty());
    // The same seed draws the same arrival; over many seeds, `never` holds its chance.
    let mut half = w.clone();
    half.nodes[2].wait.as_mut().unwrap().never = Some(0.5);
    let cancelled = (0..400u64)
        .filter(|&seed| {
            let mut s = Sim::new(&half, json!({}), seed);
            s.run();
            !s.starts_of("cancel").is_empty()
        })
        .count();
    assert!((150..=250).contains(&cancelled), "{cancelled} of 400");
}

/// A message from outside ends the wait and writes its data into the run data; one sent
/// before anyone waits is kept and ends the wait as it starts.
#[test]
fn a_message_from_outside_ends_the_wait_early_or_late() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({"latency_ms": 100})), node("confirm", json!({"wait": {"message": "PaymentConfirmed", "timeout_ms": 5000}})),
                  node("ship", json!({"reads": ["confirmed_by"]}))],
        "edges": [cmd("order", "confirm"), cmd("confirm", "ship")]}));
    let mut data = serde_json::Map::new();
    data.insert("confirmed_by".into(), json!("bank"));
    // Late: the step waits, then the message comes.
    let mut late = Sim::new(&w, json!({}), 1);
    late.run_until(300);
    assert!(late
        .find(|e| matches!(e, RunEvent::WaitStarted { .. }))
        .is_some());
    assert!(late.starts_of("ship").is_empty());
    late.at(
        300,
        Input::Message {
            name: "PaymentConfirmed".into(),
            data: data.clone(),
        },
    );
    late.run();
    assert_eq!(late.status(), RunStatus::Completed);
    assert_eq!(succeeded_time(&late, "confirm"), Some(300));
    assert_eq!(late.core.data()["confirmed_by"], json!("bank"));
    // Early: sent before the step waits, it is kept, then taken at once.
    let mut early = Sim::new(&w, json!({}), 1);
    early.at(
        10,
        Input::Message {
            name: "PaymentConfirmed".into(),
            data,
        },
    );
    early.run();
    assert_eq!(early.status(), RunStatus::Completed);
    assert!(matches!(
        early.find(|e| matches!(e, RunEvent::MessageReceived { .. })),
        Some((
            _,
            10,
            RunEvent::MessageReceived {
                node: None,
                source: app::model::MessageSource::Outside,
                ..
            }
        ))
    ));
    assert_eq!(
        succeeded_time(&early, "confirm"),
        Some(started_at(&early, "confirm"))
    );
    // A message nobody waits for is kept, and changes nothing else.
    let mut stray = Sim::new(&w, json!({}), 1);
    stray.at(
        10,
        Input::Message {
            name: "Unrelated".into(),
            data: serde_json::Map::new(),
        },
    );
    stray.at(
        400,
        Input::Message {
            name: "PaymentConfirmed".into(),
            data: serde_json::Map::new(),
        },
    );
    stray.run();
    assert_eq!(stray.status(), RunStatus::Completed);
    assert_eq!(succeeded_time(&stray, "confirm"), Some(400));
}

/// A SIGKILL-like restart while a step waits: the rebuilt core arms the wait again — its
/// timer, its timeout and the simulated arrival — and the run ends as the whole one did.
#[test]
fn a_wait_under_way_is_armed_again_after_a_crash() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("confirm", json!({"wait": {"message": "PaymentConfirmed", "timeout_ms": 800, "arrives_ms": 300}})),
                  node("pause", json!({"wait": {"for_ms": 200}})), node("ship", json!({}))],
        "edges": [cmd("order", "confirm"), cmd("confirm", "pause"), cmd("pause", "ship")]}));
    let mut whole = Sim::new(&w, json!({}), 4);
    whole.run();
    assert_eq!(whole.status(), RunStatus::Completed);
    for crash_at in [100, 400] {
        let mut first = Sim::new(&w, json!({}), 4);
        first.run_until(crash_at);
        let mut resumed = first.restarted(&w, json!({}), 4);
        resumed.run();
        assert_eq!(
            resumed.status(),
            RunStatus::Completed,
            "crash at {crash_at}"
        );
        for step in ["confirm", "pause", "ship"] {
            assert_eq!(
                resumed.starts_of(step).len(),
                1,
                "{step}, crash at {crash_at}"
            );
        }
        let received = |s: &Sim| {
            s.history
                .iter()
                .filter(|(_, e)| matches!(e, RunEvent::MessageReceived { .. }))
                .count()
        };
        assert_eq!(received(&resumed), 1, "crash at {crash_at}");
    }
}

/// Choreographed, a message that never comes stalls the run and nobody knows — until the
/// lab's simulation says so; a watchdog (a step that waits for the event with a timeout)
/// notices and its failure event sets the compensation going.
#[test]
fn without_a_watchdog_a_lost_confirmation_stalls_with_one_it_is_noticed() {
    let no_watchdog = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("confirm", json!({"wait": {"message": "PaymentConfirmed", "never": 1.0, "arrives_ms": 100}})),
                  node("ship", json!({}))],
        "edges": [evt("order", "confirm"), evt("confirm", "ship")]}));
    let mut sim = Sim::new(&no_watchdog, json!({}), 1);
    sim.run();
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(
        diagnosis.as_deref(),
        Some("stalled: confirm waited for PaymentConfirmed, which never came, and nothing watched for it")
    );
    // With a watchdog: it hears OrderPlaced, waits for PaymentConfirmed on the bus, and
    // when that is late its failure event reaches the compensation.
    let watched = |payment_ms: u64| {
        workflow(json!({"name": "t",
            "nodes": [node("order", json!({})), node("pay", json!({"latency_ms": payment_ms})),
                      node("watchdog", json!({"wait": {"message": "PaymentConfirmed", "timeout_ms": 500}})),
                      node("ship", json!({})), node("cancel", json!({}))],
            "edges": [{"from": "order", "to": "pay", "kind": "event", "event": "OrderPlaced"},
                      {"from": "order", "to": "watchdog", "kind": "event", "event": "OrderPlaced"},
                      {"from": "pay", "to": "ship", "kind": "event", "event": "PaymentConfirmed"},
                      {"from": "pay", "to": "watchdog", "kind": "event", "event": "PaymentConfirmed"},
                      {"from": "watchdog", "to": "cancel", "kind": "event", "on": "failure"}]}))
    };
    let mut on_time = Sim::new(&watched(100), json!({}), 1);
    on_time.run();
    assert_eq!(on_time.status(), RunStatus::Completed);
    assert!(matches!(
        on_time.find(|e| matches!(e, RunEvent::MessageReceived { .. })),
        Some((_, _, RunEvent::MessageReceived { node: Some(n), source: app::model::MessageSource::Event, .. })) if n == "watchdog"
    ));
    assert!(on_time.starts_of("cancel").is_empty());
    // PaymentConfirmed only starts ship: the watchdog ran once, started by OrderPlaced.
    assert_eq!(on_time.starts_of("watchdog").len(), 1);
    assert_eq!(server::lab::measure::coupling(&watched(100)).watchdogs, 1);
    assert_eq!(server::lab::measure::coupling(&no_watchdog).watchdogs, 0);
    let mut late = Sim::new(&watched(2000), json!({}), 1);
    late.run();
    assert_eq!(late.starts_of("cancel").len(), 1, "the watchdog noticed");
    assert!(matches!(
        late.find(|e| matches!(e, RunEvent::AttemptFailed { node, .. } if node == "watchdog")),
        Some((
            _,
            _,
            RunEvent::AttemptFailed {
                reason: FailureReason::Timeout,
                ..
            }
        ))
    ));
}

/// "Retry the payment with another card, at most 3 times": charge fails, the orchestrator
/// asks for another card and charges again, round the loop while its bound allows; then
/// the default edge (cancel) follows. The history counts each iteration.
fn card_loop(kind: &str) -> Workflow {
    let mut w = json!({"name": "t",
        "nodes": [node("reserve", json!({"compensation": "release"})),
                  node("charge", json!({"failure_rate": 1.0})),
                  node("ask", json!({})), node("cancel", json!({})), node("ship", json!({}))],
        "edges": [{"from": "reserve", "to": "charge", "kind": kind},
                  {"id": "again", "from": "charge", "to": "ask", "kind": kind, "on": "failure", "max_iterations": 3},
                  {"id": "give-up", "from": "charge", "to": "cancel", "kind": kind, "on": "failure"},
                  {"id": "back", "from": "ask", "to": "charge", "kind": kind},
                  {"from": "charge", "to": "ship", "kind": kind}]});
    if kind == "event" {
        // Two events on a failure: the publisher decides which to publish.
        w["edges"][1]["event"] = json!("CardDeclined");
        w["edges"][2]["event"] = json!("PaymentGivenUp");
    }
    workflow(w)
}

fn loop_turns(sim: &Sim) -> Vec<(u32, u32, bool)> {
    sim.history
        .iter()
        .filter_map(|(_, e)| match e {
            RunEvent::Decided { loops, taken, .. } if !loops.is_empty() => {
                Some((loops[0].done, loops[0].max, taken.contains(&loops[0].edge)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_loop_goes_round_while_its_bound_allows_then_the_default_edge_follows() {
    for kind in ["command", "event"] {
        let w = card_loop(kind);
        let mut sim = Sim::new(&w, json!({}), 3);
        sim.run();
        assert_eq!(sim.status(), RunStatus::Completed, "{kind}");
        // Charged once, then three more times round the loop; asked three times.
        assert_eq!(sim.starts_of("charge").len(), 4, "{kind}");
        assert_eq!(sim.starts_of("ask").len(), 3, "{kind}");
        assert_eq!(sim.starts_of("cancel").len(), 1, "{kind}");
        assert!(sim.starts_of("ship").is_empty(), "{kind}");
        assert_eq!(
            loop_turns(&sim),
            vec![(0, 3, true), (1, 3, true), (2, 3, true), (3, 3, false)],
            "{kind}"
        );
        // Each execution of charge is a new one, attempt 1.
        let executions: Vec<u32> = sim
            .starts_of("charge")
            .iter()
            .map(|(_, e)| match e {
                RunEvent::StepStarted { execution, .. } => *execution,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(executions, vec![1, 2, 3, 4], "{kind}");
        // Who kept count: the orchestrator, or the publishing service.
        let publisher = sim.history.iter().any(|(_, e)| {
            matches!(e, RunEvent::Decided { publisher: true, loops, .. } if !loops.is_empty())
        });
        assert_eq!(publisher, kind == "event");
        let story = story_lines(&sim, &w);
        assert!(
            story
                .iter()
                .any(|l| l
                    .contains("Looped: from charge back to ask 3 time(s), all its bound allows")),
            "{kind}: {story:?}"
        );
    }
}

#[test]
fn a_spent_loop_without_a_default_fails_the_orchestrated_step_into_its_saga() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("reserve", json!({"compensation": "release"})),
                  node("charge", json!({"failure_rate": 1.0})), node("ask", json!({}))],
        "edges": [cmd("reserve", "charge"),
                  {"id": "again", "from": "charge", "to": "ask", "kind": "command", "on": "failure", "max_iterations": 2},
                  {"id": "back", "from": "ask", "to": "charge", "kind": "command"}]}));
    let mut sim = Sim::new(&w, json!({}), 1);
    sim.run();
    assert_eq!(sim.starts_of("charge").len(), 3);
    let (status, diagnosis, _) = sim.completed();
    assert_eq!(status, RunStatus::Compensated);
    assert_eq!(
        diagnosis.as_deref(),
        Some("the loop from charge back to ask ran its 2 iterations, and no edge is the default")
    );
    assert_eq!(sim.core.state_of("reserve"), Some(StepState::Compensated));
}

#[test]
fn a_loop_that_succeeds_early_leaves_by_the_success_edge_and_resumes_exactly() {
    // Charge fails half the time: some seeds pay with the first card, some with a later
    // one, some run out of cards. The same seed always takes the same way round.
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})), node("charge", json!({"failure_rate": 0.5})), node("ask", json!({})),
                  node("cancel", json!({})), node("ship", json!({}))],
        "edges": [cmd("order", "charge"), {"id": "again", "from": "charge", "to": "ask", "kind": "command", "on": "failure", "max_iterations": 3},
                  {"id": "give-up", "from": "charge", "to": "cancel", "kind": "command", "on": "failure"},
                  {"id": "back", "from": "ask", "to": "charge", "kind": "command"},
                  cmd("charge", "ship")]}));
    let mut shipped_after = std::collections::BTreeSet::new();
    let mut cancelled = 0;
    for seed in 0..60 {
        let mut whole = Sim::new(&w, json!({}), seed);
        whole.run();
        assert_eq!(whole.status(), RunStatus::Completed);
        let charges = whole.starts_of("charge").len();
        if whole.starts_of("ship").len() == 1 {
            shipped_after.insert(charges);
        } else {
            assert_eq!(charges, 4, "seed {seed}");
            assert_eq!(whole.starts_of("cancel").len(), 1);
            cancelled += 1;
        }
        let mut again = Sim::new(&w, json!({}), seed);
        again.run();
        assert_eq!(again.history, whole.history, "seed {seed}");
        // A crash in the middle of the loop: the resumed run goes the same way round.
        let mut first = Sim::new(&w, json!({}), seed);
        first.run_until(25);
        let mut resumed = first.restarted(&w, json!({}), seed);
        resumed.run();
        assert_eq!(resumed.starts_of("charge").len(), charges, "seed {seed}");
        assert_eq!(resumed.core.state_of("ship"), whole.core.state_of("ship"));
        assert_eq!(loop_turns(&resumed), loop_turns(&whole), "seed {seed}");
    }
    assert_eq!(
        shipped_after,
        [1, 2, 3, 4].into_iter().collect(),
        "paid with the 1st to the 4th card"
    );
    assert!(cancelled > 0);
}

/// The run's story, in English, as the Summary tells it.
fn story_lines(sim: &Sim, w: &Workflow) -> Vec<String> {
    let mut story = app::model::story::Story::new();
    for (_, event) in &sim.history {
        story.apply(event);
    }
    story
        .lines(w, app::i18n::Locale::en)
        .into_iter()
        .map(|l| l.message)
        .collect()
}

/// A loop converts with its bound: choreographed, the publishing service counts and
/// publishes a distinct event for the way round (the conversion says the rule moved into
/// it), and the run goes round the same number of times; back to orchestration, the
/// orchestrator counts again.
#[test]
fn a_converted_loop_goes_round_as_often_and_says_who_counts() {
    use app::model::convert::{convert, convert_with, RuleHolder, Style};
    use app::model::validate::validate;
    use app::model::workflow::Decider;
    let w = card_loop("command");
    for rules in [Decider::Publisher, Decider::Subscriber] {
        let choreographed = convert_with(&w, Style::Choreography, rules);
        assert_eq!(validate(&choreographed.workflow), [], "{rules:?}");
        let moved = &choreographed.moved;
        assert_eq!(moved.len(), 1, "{moved:?}");
        assert_eq!(moved[0].now, RuleHolder::Publisher);
        assert_eq!(moved[0].node, "charge");
        // The way round the loop is its own event; giving up is the plain failure event.
        assert_eq!(moved[0].events, ["chargeToask", "chargeFailed"]);
        let back = convert(&choreographed.workflow, Style::Orchestration);
        assert_eq!(validate(&back.workflow), []);
        for version in [&choreographed.workflow, &back.workflow] {
            let mut sim = Sim::new(version, json!({}), 3);
            sim.run();
            assert_eq!(sim.starts_of("charge").len(), 4);
            assert_eq!(sim.starts_of("cancel").len(), 1);
            assert!(sim.starts_of("ship").is_empty());
        }
    }
}

/// A for-each works on every item of a list in the run data at once: as long as its
/// slowest item, failed by any item that fails (each item drawn apart from the seed), and
/// refused — rejected by its input, saying why — when the field is not a list or too long.
#[test]
fn a_for_each_works_on_every_item_at_once_and_fails_with_any() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("order", json!({})),
                  node("pack", json!({"for_each": "items", "latency_ms": [10, 200], "failure_rate": 0.2})),
                  node("ship", json!({})), node("refund", json!({}))],
        "edges": [cmd("order", "pack"), cmd("pack", "ship"),
                  {"from": "pack", "to": "refund", "kind": "command", "on": "failure"}]}));
    let items = |sim: &Sim| -> (u32, Vec<u32>, u64) {
        match sim.find(|e| matches!(e, RunEvent::ItemsDone { .. })) {
            Some((
                _,
                _,
                RunEvent::ItemsDone {
                    items,
                    failed,
                    slowest_ms,
                    ..
                },
            )) => (*items, failed.clone(), *slowest_ms),
            _ => panic!("no ItemsDone: {:#?}", sim.history),
        }
    };
    let (mut shipped, mut refunded) = (0, 0);
    for seed in 0..40 {
        let mut sim = Sim::new(&w, json!({"items": ["a", "b", "c", "d"]}), seed);
        sim.run();
        let (count, failed, slowest) = items(&sim);
        assert_eq!(count, 4);
        // The step took as long as its slowest item.
        let started = started_at(&sim, "pack");
        let ended = sim
            .find(|e| matches!(e, RunEvent::ItemsDone { .. }))
            .map(|(_, t, _)| t)
            .unwrap();
        assert_eq!(ended - started, slowest, "seed {seed}");
        if failed.is_empty() {
            assert_eq!(sim.starts_of("ship").len(), 1);
            shipped += 1;
        } else {
            assert_eq!(sim.starts_of("refund").len(), 1);
            refunded += 1;
        }
        let mut again = Sim::new(&w, json!({"items": ["a", "b", "c", "d"]}), seed);
        again.run();
        assert_eq!(again.history, sim.history);
    }
    // 1 − 0.8⁴ ≈ 59 % of attempts lose an item.
    assert!(
        shipped > 5 && refunded > 5,
        "{shipped} shipped, {refunded} refunded"
    );
    // Not a list, no list, too long: refused at once, saying why.
    for (input, said) in [
        (json!({"items": "a"}), "items is \"a\", not a list"),
        (json!({}), "the run data has no items"),
        (
            json!({"items": vec![0; app::model::validate::MAX_FOR_EACH_ITEMS + 1]}),
            "items has 1001 items; the limit is 1000",
        ),
    ] {
        let mut sim = Sim::new(&w, input, 1);
        sim.run();
        assert!(
            sim.find(|e| matches!(e, RunEvent::ItemsStarted { problem: Some(p), .. } if p == said))
                .is_some(),
            "{said}: {:#?}",
            sim.history
        );
        assert!(sim
            .find(|e| matches!(
                e,
                RunEvent::AttemptFailed {
                    reason: FailureReason::Rejected,
                    ..
                }
            ))
            .is_some());
        assert_eq!(sim.starts_of("refund").len(), 1);
    }
    // An empty list: nothing to do, done at once.
    let mut sim = Sim::new(&w, json!({"items": []}), 1);
    sim.run();
    assert_eq!(items(&sim), (0, vec![], 0));
    assert_eq!(sim.starts_of("ship").len(), 1);
}

/// A for-each killed in the middle resumes with the items it started with, even if the
/// run data's list changed since: the count is in the history.
#[test]
fn a_for_each_under_way_resumes_with_the_items_it_started_with() {
    let w = workflow(json!({"name": "t",
        "nodes": [node("pack", json!({"for_each": "items", "latency_ms": [50, 300]})), node("ship", json!({}))],
        "edges": [cmd("pack", "ship")]}));
    let input = json!({"items": [1, 2, 3]});
    let mut whole = Sim::new(&w, input.clone(), 4);
    whole.run();
    let mut first = Sim::new(&w, input.clone(), 4);
    first.run_until(40);
    let mut resumed = first.restarted(&w, input, 4);
    resumed.run();
    let done = |sim: &Sim| {
        sim.history
            .iter()
            .filter(|(_, e)| matches!(e, RunEvent::ItemsDone { .. }))
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(done(&resumed), done(&whole));
    assert_eq!(resumed.status(), RunStatus::Completed);
}

/// A Conductor definition with a value SWITCH, a WAIT, a DO_WHILE and a dynamic fork runs
/// as Conductor would run it: the case the input names, the pause, three charges, one pack
/// per item, and the signal that ends the last wait.
#[test]
fn an_imported_conductor_flow_decides_waits_loops_and_forks_as_conductor_would() {
    use app::model::formats::import;
    let text = json!({
        "name": "order_flow",
        "tasks": [
            {"name": "check", "taskReferenceName": "check", "type": "SIMPLE"},
            {"name": "route", "taskReferenceName": "route", "type": "SWITCH", "evaluatorType": "value-param",
             "expression": "tier", "inputParameters": {"tier": "${workflow.input.tier}"},
             "decisionCases": {"gold": [{"name": "vip", "taskReferenceName": "vip", "type": "SIMPLE"}]},
             "defaultCase": [{"name": "standard", "taskReferenceName": "standard", "type": "SIMPLE"}]},
            {"name": "pause", "taskReferenceName": "pause", "type": "WAIT", "inputParameters": {"duration": "2s"}},
            {"name": "retry_charge", "taskReferenceName": "charge_loop", "type": "DO_WHILE",
             "loopCondition": "$.charge_loop['iteration'] < 3",
             "loopOver": [{"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"}]},
            {"name": "pack", "taskReferenceName": "pack", "type": "FORK_JOIN_DYNAMIC",
             "dynamicForkTasksInputParamName": "list", "inputParameters": {"list": "${workflow.input.items}"}},
            {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
            {"name": "confirm", "taskReferenceName": "confirm", "type": "WAIT"}
        ]
    })
    .to_string();
    let w = import(&text, None).expect("imports");
    for (tier, branch) in [("gold", "vip"), ("silver", "standard")] {
        let mut sim = Sim::new(&w, json!({"tier": tier, "items": ["a", "b"]}), 1);
        sim.0.at(
            60_000,
            Input::Message {
                name: "confirm".into(),
                data: Default::default(),
            },
        );
        sim.run();
        assert_eq!(sim.status(), RunStatus::Completed, "{tier}");
        assert_eq!(sim.starts_of(branch).len(), 1, "{tier}");
        assert_eq!(sim.starts_of("charge").len(), 3, "{tier}");
        assert!(sim
            .find(|e| matches!(e, RunEvent::ItemsDone { items: 2, .. }))
            .is_some());
        // The pause took its two seconds.
        assert!(started_at(&sim, "charge") >= started_at(&sim, "pause") + 2_000);
    }
}

/// The Camunda-style BPMN fixture runs both branches by its input, waits for the bank's
/// confirmation (ended by a message, or failed by the boundary timer onto Cancel order),
/// packs every item, waits its cooling-off timer, and ships by running the Shipping process
/// it calls as a child run.
#[test]
fn an_imported_bpmn_flow_decides_by_input_and_times_out_when_no_message_comes() {
    let w = app::model::formats::import(
        include_str!("../../../app/tests/fixtures/payment-decision.bpmn"),
        None,
    )
    .expect("imports");
    let confirmed = |sim: &mut Sim| {
        sim.0.at(
            1_000,
            Input::Message {
                name: "PaymentConfirmed".into(),
                data: Default::default(),
            },
        );
    };
    // Ship is a call activity: it runs the Shipping process as a child run.
    let shipping = workflow(
        json!({"name": "Shipping", "nodes": [node("label", json!({})), node("hand_over", json!({}))],
        "edges": [cmd("label", "hand_over")]}),
    );
    let library: server::lab::simulate::Library =
        std::sync::Arc::new([("Shipping".to_string(), shipping)].into_iter().collect());
    for (amount, reviewed) in [(1500, true), (200, false)] {
        let mut sim = Sim::in_library(
            &library,
            &w,
            json!({"amount": amount, "items": ["a", "b", "c"]}),
            1,
        );
        confirmed(&mut sim);
        sim.run();
        assert_eq!(sim.status(), RunStatus::Completed, "{amount}");
        assert_eq!(
            sim.starts_of("Task_Review").len(),
            usize::from(reviewed),
            "{amount}"
        );
        assert_eq!(sim.starts_of("Task_Ship").len(), 1);
        assert!(sim
            .find(|e| matches!(e, RunEvent::ItemsDone { items: 3, .. }))
            .is_some());
        let cooling = started_at(&sim, "Timer_Cooling");
        assert!(started_at(&sim, "Task_Ship") >= cooling + 1_500);
        assert!(sim
            .find(|e| matches!(e, RunEvent::ChildEnded { node, status: RunStatus::Completed, .. } if node == "Task_Ship"))
            .is_some());
    }
    // No confirmation: the boundary timer fails the wait after 3 s, and the order is
    // cancelled.
    let mut sim = Sim::new(&w, json!({"amount": 200, "items": []}), 1);
    sim.run();
    assert_eq!(sim.starts_of("Task_Cancel").len(), 1);
    assert!(sim.starts_of("Task_Ship").is_empty());
    assert!(sim
        .find(|e| matches!(e, RunEvent::AttemptFailed { node, reason: FailureReason::Timeout, .. } if node == "Task_Confirm"))
        .is_some());
}
