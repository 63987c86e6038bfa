//! The explorer over the engine's pure core: it finds a bug planted in a small flow with
//! the expected shortest counterexample, finds nothing where nothing can go wrong, counts
//! what a brute-force enumeration counts, and keeps its bounds.

use std::sync::atomic::AtomicBool;

use crate::common;
use app::model::lab::LabOutcome;
use app::model::Workflow;
use serde_json::{json, Value};
use server::engine::core::script::{BusChoice, Forced};

use server::verify::{explore, run_schedule, Bounds, Choice, Invariant};

fn workflow(doc: Value) -> Workflow {
    serde_json::from_value(doc).unwrap()
}

fn step(id: &str, service: &str) -> Value {
    json!({"id": id, "label": id, "service": service, "action": id, "latency_ms": 100})
}

/// Order → Pay → Ship on events; Pay can be refunded, but nobody listens for Ship's
/// failure: the choreographed saga forgot its compensation route.
fn forgetful_saga() -> Workflow {
    let mut pay = step("pay", "Payments");
    pay["compensation"] = json!("refund");
    workflow(
        json!({"name": "forgetful", "nodes": [step("order", "Orders"), pay, step("ship", "Shipping")],
        "edges": [{"from": "order", "to": "pay", "kind": "event"},
                  {"from": "pay", "to": "ship", "kind": "event"}]}),
    )
}

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

#[test]
fn the_explorer_finds_the_planted_bug_with_its_shortest_counterexample() {
    let found = explore(
        &forgetful_saga(),
        &json!({}),
        1,
        Bounds::default(),
        &never(),
    );
    assert!(!found.truncated);
    let by = |invariant: Invariant| {
        found
            .counterexamples
            .iter()
            .find(|c| c.invariant == invariant)
            .unwrap_or_else(|| panic!("{invariant:?} not broken: {found:#?}"))
    };
    // Ship fails once: Pay stays done, never refunded.
    let half_done = by(Invariant::AllOrCompensated);
    assert_eq!(half_done.outcome, LabOutcome::Inconsistent);
    assert_eq!(
        half_done.choices,
        [Choice::Attempt {
            node: "ship".into(),
            execution: 1,
            attempt: 1,
            forced: Forced::Fail
        }]
    );
    // The bus loses the event Pay waits for: the run stalls.
    let stalled = by(Invariant::Ends);
    assert_eq!(stalled.choices.len(), 1, "{stalled:?}");
    assert!(matches!(
        &stalled.choices[0],
        Choice::Delivery {
            choice: BusChoice::Drop,
            ..
        }
    ));
}

#[test]
fn the_explorer_counts_what_a_brute_force_enumeration_counts() {
    // a → b, commands: each attempt succeeds or fails (no timeouts, no bus). By hand: a
    // fails (b never runs); a succeeds and b fails; both succeed — 3 schedules, 3 histories.
    let w = workflow(
        json!({"name": "tiny", "nodes": [step("a", "A"), step("b", "B")],
        "edges": [{"from": "a", "to": "b", "kind": "command"}]}),
    );
    let bounds = Bounds {
        max_faults: 2,
        bus_faults: 0,
        crash: false,
        ..Bounds::default()
    };
    let found = explore(&w, &json!({}), 1, bounds, &never());
    assert_eq!((found.schedules, found.states), (3, 3), "{found:#?}");
    // With a retry on b (two attempts): a fails; b1 succeeds; b1 fails and b2 succeeds;
    // both fail — 4 (the attempts of b a failing a never makes are no schedule of their own).
    let mut b = step("b", "B");
    b["retry"] = json!({"max_attempts": 2, "backoff_ms": 10});
    let w = workflow(json!({"name": "tiny", "nodes": [step("a", "A"), b],
        "edges": [{"from": "a", "to": "b", "kind": "command"}]}));
    let found = explore(&w, &json!({}), 1, bounds, &never());
    assert_eq!((found.schedules, found.states), (4, 4), "{found:#?}");
}

/// A counterexample becomes a real run: started with `faults.schedule`, the engine (a real
/// server, SQLite, its timer thread) runs that exact schedule — the same events, in the
/// same order, as the explorer's run of it — and the stored run ends as the explorer said.
#[tokio::test]
async fn a_counterexample_replayed_as_a_run_gives_the_same_history() {
    let w = forgetful_saga();
    let found = explore(&w, &json!({}), 7, Bounds::default(), &never());
    let half_done = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::AllOrCompensated)
        .unwrap()
        .clone();
    let explored = run_schedule(&w, &json!({}), 7, &half_done.choices);
    let server = common::TestServer::start().await;
    let id = server
        .create_workflow(&serde_json::to_value(&w).unwrap())
        .await;
    let started = server
        .post_json(
            &format!("/api/workflows/{id}/runs"),
            &json!({"seed": 7, "speed": 10, "faults": {"schedule": half_done.choices}}),
        )
        .await;
    assert_eq!(started.status(), 201);
    let run: Value = started.json().await.unwrap();
    let run = run["id"].as_str().unwrap().to_string();
    let ended = server.wait_run(&run).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    let records = common::collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    let said = |event: &Value| {
        format!(
            "{} {}",
            event["type"].as_str().unwrap_or(""),
            event["node"].as_str().unwrap_or("")
        )
    };
    let live: Vec<String> = records
        .iter()
        .filter(|r| r["type"] != "RunStarted")
        .map(said)
        .collect();
    let simulated: Vec<String> = explored
        .history
        .iter()
        .map(|(_, e)| serde_json::to_value(e).unwrap())
        .filter(|r| r["type"] != "RunStarted")
        .map(|r| said(&r))
        .collect();
    assert_eq!(live, simulated);
    // A schedule naming a step the workflow does not have is refused, naming it.
    let refused = server
        .post_json(
            &format!("/api/workflows/{id}/runs"),
            &json!({"faults": {"schedule": [{"type": "attempt", "node": "nope", "execution": 1, "attempt": 1, "forced": "fail"}]}}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body.to_string()
            .contains("faults.schedule[0].node: this workflow has no step nope"),
        "{body}"
    );
}

#[test]
fn the_explorer_keeps_its_bounds_and_stops_when_cancelled() {
    let w = forgetful_saga();
    let bounds = Bounds {
        max_schedules: 2,
        ..Bounds::default()
    };
    let found = explore(&w, &json!({}), 1, bounds, &never());
    assert!(found.truncated);
    assert_eq!(found.schedules, 2);
    let cancelled = AtomicBool::new(true);
    let found = explore(&w, &json!({}), 1, Bounds::default(), &cancelled);
    assert!(found.truncated);
    assert_eq!(found.schedules, 0);
}

#[test]
fn the_explorer_finds_nothing_where_by_hand_nothing_can_go_wrong() {
    // Two commanded steps with three attempts each: two faults cannot exhaust either; no
    // event, so the bus has nothing to lose. Every schedule completes.
    let retried = |id: &str| {
        let mut s = step(id, "S");
        s["retry"] = json!({"max_attempts": 3, "backoff_ms": 10});
        s
    };
    let w = workflow(
        json!({"name": "sturdy", "nodes": [retried("a"), retried("b")],
        "edges": [{"from": "a", "to": "b", "kind": "command"}]}),
    );
    let calm = Bounds {
        crash: false,
        ..Bounds::default()
    };
    let found = explore(&w, &json!({}), 1, calm, &never());
    assert!(found.counterexamples.is_empty(), "{found:#?}");
    assert_eq!(found.broken, 0);
    // By hand: no fault; a1 or b1 fails (retried); two faults: a1+a2, a1+b1, b1+b2 (a
    // second attempt exists only after the first failed) — 6 schedules.
    assert_eq!(found.schedules, 6, "{found:#?}");
}

#[test]
fn the_templates_explored() {
    for key in ["ecommerce-orchestrated", "ecommerce-choreographed"] {
        let w = app::model::examples::from_template(app::model::examples::template(key).unwrap());
        let started = std::time::Instant::now();
        let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
        println!(
            "{key}: {} schedules, {} states, {} broken, {:?}; {:?}",
            found.schedules,
            found.states,
            found.broken,
            started.elapsed(),
            found
                .counterexamples
                .iter()
                .map(|c| (c.invariant, c.choices.len()))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_step_that_does_not_recognise_duplicates_is_caught_working_twice() {
    // Charge hears OrderPlaced and does not recognise a second delivery of it: one
    // duplicate on the bus charges twice.
    let mut charge = step("charge", "Payments");
    charge["idempotent"] = json!(false);
    charge["retry"] = json!({"max_attempts": 3, "backoff_ms": 10});
    let mut order = step("order", "Orders");
    order["retry"] = json!({"max_attempts": 3, "backoff_ms": 10});
    let w = workflow(json!({"name": "double charge", "nodes": [order, charge],
        "edges": [{"from": "order", "to": "charge", "kind": "event"}]}));
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    let twice = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::AtMostOnce)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(
        matches!(&twice.choices[..], [Choice::Delivery { choice: BusChoice::Duplicate, to, .. }] if to == "charge"),
        "{twice:?}"
    );
    // Recognising duplicates (the default), the same schedule charges once.
    let mut w = w;
    w.nodes[1].idempotent = None;
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    assert!(
        found
            .counterexamples
            .iter()
            .all(|c| c.invariant != Invariant::AtMostOnce),
        "{found:#?}"
    );
}

#[test]
fn coverage_names_what_no_schedule_exercised() {
    // Order → Pay (refundable) → Ship, commanded, and a failure route from Pay to Notify:
    // with faults allowed, some schedule exercises every step, edge and undo action.
    let mut pay = step("pay", "Payments");
    pay["compensation"] = json!("refund");
    let w = workflow(
        json!({"name": "covered", "nodes": [step("order", "Orders"), pay, step("ship", "Shipping"), step("notify", "Notifications")],
        "edges": [{"id": "placed", "from": "order", "to": "pay", "kind": "command"},
                  {"id": "paid", "from": "pay", "to": "ship", "kind": "command"},
                  {"id": "declined", "from": "pay", "to": "notify", "kind": "command", "on": "failure"}]}),
    );
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    let c = &found.coverage;
    assert_eq!(c.steps, ["order", "pay", "ship", "notify"]);
    assert_eq!(c.edges, ["placed", "paid", "declined"]);
    assert!(
        c.steps_never.is_empty() && c.edges_never.is_empty(),
        "{c:?}"
    );
    // Ship failing is the only way to refund Pay: with one fault allowed it is exercised;
    // with none, nothing fails — no failure route, no refund.
    assert_eq!(c.compensations, ["pay"]);
    let calm = explore(
        &w,
        &json!({}),
        1,
        Bounds {
            max_faults: 0,
            bus_faults: 0,
            ..Bounds::default()
        },
        &never(),
    );
    assert_eq!(calm.schedules, 1);
    assert_eq!(calm.coverage.steps_never, ["notify"]);
    assert_eq!(calm.coverage.edges_never, ["declined"]);
    assert_eq!(calm.coverage.compensations_never, ["pay"]);
}

#[test]
fn the_headline_comes_first_in_words_in_both_languages() {
    let w = forgetful_saga();
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    let en = found.headline(&w, app::i18n::Locale::en);
    assert!(
        en.starts_with(&format!("{} of {} schedules break an invariant. Shortest, against “every run ends (none stalls on an event nobody heard)”: the bus loses orderCompleted on its way to pay: stalled:", found.broken, found.schedules)),
        "{en}"
    );
    let half = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::AllOrCompensated)
        .unwrap();
    assert_eq!(
        half.story(&w, app::i18n::Locale::en),
        "ship fails (attempt 1): ship failed (service error) after 1 attempt and published shipFailed, but nobody subscribes to it: the failure is unhandled"
    );
    assert!(
        half.story(&w, app::i18n::Locale::ko)
            .starts_with("ship가 실패합니다(시도 1): "),
        "{}",
        half.story(&w, app::i18n::Locale::ko)
    );
    let sturdy = workflow(json!({"name": "one", "nodes": [step("a", "A")], "edges": []}));
    let calm = explore(
        &sturdy,
        &json!({}),
        1,
        Bounds {
            max_faults: 0,
            ..Bounds::default()
        },
        &never(),
    );
    assert_eq!(
        calm.headline(&sturdy, app::i18n::Locale::en),
        "No schedule breaks an invariant (1 schedules, 1 distinct histories)."
    );
    assert_eq!(
        calm.headline(&sturdy, app::i18n::Locale::ko),
        "불변식을 깨는 일정이 없습니다(일정 1개, 서로 다른 이력 1개)."
    );
}

#[test]
fn an_orchestrator_crash_is_explored_before_each_thing_it_does() {
    // a → b commanded: the run starts a by itself; the orchestrator acts at 100 (a's
    // reply, the command to b) and 200 (b's reply). A crash before each, with a standby or
    // not: 4 schedules more than without crashes.
    let w = workflow(
        json!({"name": "tiny", "nodes": [step("a", "A"), step("b", "B")],
        "edges": [{"from": "a", "to": "b", "kind": "command"}]}),
    );
    let only_crashes = Bounds {
        max_faults: 1,
        bus_faults: 0,
        ..Bounds::default()
    };
    let with = explore(&w, &json!({}), 1, only_crashes, &never());
    let without = explore(
        &w,
        &json!({}),
        1,
        Bounds {
            crash: false,
            ..only_crashes
        },
        &never(),
    );
    assert_eq!(with.schedules, without.schedules + 4, "{with:#?}");
    let crash = [Choice::Crash {
        at_ms: 100,
        standby: true,
    }];
    let run = run_schedule(&w, &json!({}), 1, &crash);
    assert!(
        run.history
            .iter()
            .any(|(at, e)| *at == 100
                && matches!(e, app::model::RunEvent::OrchestratorCrashed { .. }))
    );
    assert_eq!(
        crash[0].words(&w, app::i18n::Locale::en),
        "the orchestrator crashes at 100 ms and a standby takes over after its 500 ms lease"
    );
}

#[test]
fn an_event_every_subscriber_drops_is_an_event_nobody_hears() {
    // Order publishes; its only subscriber keeps gold orders and this one is plain: the
    // event reaches it and is dropped — with no fault at all.
    let mut order = step("order", "Orders");
    order["writes"] = json!({"tier": "plain"});
    let w = workflow(
        json!({"name": "unheard", "nodes": [order, step("gold", "Shipping")],
        "edges": [{"from": "order", "to": "gold", "kind": "event", "condition": "tier == 'gold'", "decided_by": "subscriber"}]}),
    );
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    let unheard = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::EveryEventHeard)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(unheard.choices.is_empty(), "{unheard:?}");
    assert!(unheard
        .story(&w, app::i18n::Locale::en)
        .starts_with("nothing goes wrong"));
    // A gold order is heard.
    let mut w = w;
    w.nodes[0].writes.insert(
        "tier".into(),
        app::model::workflow::Written::Value(json!("gold")),
    );
    let found = explore(&w, &json!({}), 1, Bounds::default(), &never());
    let schedules_without = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::EveryEventHeard);
    assert!(schedules_without.is_none(), "{found:#?}");
}

/// The reduction on the anchor's saga (docs/anchor-tla.md): at one fault on attempts and one
/// on the bus, 6 sets of two faults are each reached in both orders; with the reduction each
/// runs once (16 schedules, 6 orders merged), without it 22 — and the same invariants break.
#[test]
fn the_reduction_runs_each_set_of_faults_once_and_finds_the_same() {
    let step = |id: &str, service: &str| json!({"id": id, "label": id, "service": service, "action": id, "latency_ms": 100});
    let mut pay = step("pay", "Payments");
    pay["compensation"] = json!("refund");
    let w = workflow(json!({"name": "saga",
        "nodes": [step("order", "Orders"), pay, step("ship", "Shipping")],
        "edges": [{"from": "order", "to": "pay", "kind": "event"}, {"from": "pay", "to": "ship", "kind": "event"}]}));
    let bounds = Bounds {
        max_faults: 1,
        bus_faults: 1,
        crash: false,
        ..Bounds::default()
    };
    let reduced = explore(&w, &json!({}), 1, bounds, &never());
    assert_eq!(
        (reduced.schedules, reduced.broken, reduced.reduced),
        (16, 11, 6)
    );
    let full = explore(
        &w,
        &json!({}),
        1,
        Bounds {
            reduce: false,
            ..bounds
        },
        &never(),
    );
    // Each of the 6 two-fault sets runs twice, and breaks twice: 11 - 6 + 12.
    assert_eq!((full.schedules, full.broken, full.reduced), (22, 17, 0));
    let invariants = |e: &app::model::verify::Exploration| {
        e.counterexamples
            .iter()
            .map(|c| (c.invariant, c.choices.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(invariants(&reduced), invariants(&full));
}

/// What the result says about the search itself, as the lab and the CLI show it: the counts,
/// the time and rate, what the reduction saved, and what no schedule exercised — in words,
/// in both languages.
#[test]
fn the_result_says_what_was_explored_reduced_and_never_exercised() {
    use app::i18n::Locale;
    let mut pay = step("pay", "Payments");
    pay["compensation"] = json!("refund");
    pay["label"] = json!("Payment");
    let mut w = workflow(json!({"name": "saga",
        "nodes": [step("order", "Orders"), pay, step("ship", "Shipping"), step("spare", "Spare")],
        "edges": [{"from": "order", "to": "pay", "kind": "event"}, {"from": "pay", "to": "ship", "kind": "event"},
                  {"from": "ship", "to": "spare", "kind": "event", "on": "failure", "condition": "false"}]}));
    let bounds = Bounds {
        max_faults: 1,
        bus_faults: 1,
        crash: false,
        ..Bounds::default()
    };
    let found = explore(&w, &json!({}), 1, bounds, &never());
    assert!(found.took_us > 0);
    let figures = found.figures(Locale::en);
    let prefix = format!(
        "{} schedules, {} distinct histories in ",
        found.schedules, found.states
    );
    assert!(figures.starts_with(&prefix), "{figures}");
    assert!(
        figures.ends_with(&format!(
            " histories/s); {} orders of the same faults run once, not again",
            found.reduced
        )),
        "{figures}"
    );
    assert!(found.reduced > 0, "{found:#?}");
    // The rate is the histories over the time the search took.
    let rate: f64 = figures
        .split(" (")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let expected = found.states as f64 / (found.took_us as f64 / 1e6);
    assert!((rate - expected).abs() <= 1.0, "{rate} vs {expected}");
    w.assign_edge_ids();
    // The failure route's condition never holds: Spare never runs, its edge is never
    // followed; nothing ever undoes the payment (nobody hears Shipping's failure).
    assert_eq!(
        found.coverage.never_words(&w, Locale::en, true),
        [
            "No schedule got these steps to succeed: spare",
            "No schedule ran the undo action of: Payment",
            "No schedule followed these edges: ship → spare",
        ]
    );
    // A converted copy's edges are not the drawn flow's: those are left out.
    assert_eq!(found.coverage.never_words(&w, Locale::en, false).len(), 2);
    assert_eq!(
        found.coverage.never_words(&w, Locale::ko, true)[1],
        "어떤 일정에서도 되돌리기 동작이 실행되지 않은 단계: Payment"
    );
    assert!(found.figures(Locale::ko).starts_with(&format!(
        "일정 {}개, 서로 다른 이력 {}개, ",
        found.schedules, found.states
    )));
}
