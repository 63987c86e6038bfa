//! A run's outcome in words, told from real histories: the engine's core runs the article's
//! e-commerce flow (and small flows with faults) in virtual time, and the story says what
//! the history holds — which failure was handled how, what the saga undid, the outage and
//! what waited, the event the bus lost.

use app::model::examples::{ecommerce_choreographed, ecommerce_orchestrated};
use app::model::faults::{BusFault, OrchestratorCrash};
use app::model::story::{Story, StoryLine, MAX_STORY_LINES};
use app::model::{parse_workflow, Faults, RunRecord, Workflow};
use serde_json::{json, Value};
use server::lab::simulate::VirtualRun;

fn workflow(doc: Value) -> Workflow {
    parse_workflow(doc.to_string().as_bytes()).expect("valid workflow")
}

/// The story of `workflow` run to its end on `input`, with `faults`.
fn told(workflow: &Workflow, input: Value, faults: Faults) -> Vec<StoryLine> {
    told_in(app::i18n::Locale::en, workflow, input, faults)
}

/// The story, in `locale`'s words.
fn told_in(
    locale: app::i18n::Locale,
    workflow: &Workflow,
    input: Value,
    faults: Faults,
) -> Vec<StoryLine> {
    let run = VirtualRun::complete(workflow, input, 7, faults);
    let records: Vec<RunRecord> = run
        .history
        .iter()
        .enumerate()
        .map(|(i, (at, event))| RunRecord::new(i as u64 + 1, *at as i64, event.clone()))
        .collect();
    Story::of(&records).lines(workflow, locale)
}

fn codes(lines: &[StoryLine]) -> Vec<&str> {
    lines.iter().map(|l| l.code.as_str()).collect()
}

fn messages(lines: &[StoryLine]) -> Vec<&str> {
    lines.iter().map(|l| l.message.as_str()).collect()
}

#[test]
fn a_happy_run_is_one_line() {
    let w = ecommerce_orchestrated();
    let lines = told(
        &w,
        json!({"card": "valid", "stock": "ok"}),
        Faults::default(),
    );
    assert_eq!(messages(&lines), ["Completed"]);
    assert_eq!(codes(&lines), ["run_completed"]);
}

#[test]
fn a_rejected_payment_names_the_refused_value_and_the_failure_route() {
    let w = ecommerce_orchestrated();
    let lines = told(&w, json!({"card": "expired"}), Faults::default());
    assert_eq!(codes(&lines), ["failure_handled_by_route", "run_completed"]);
    assert_eq!(
        lines[0].message,
        "Payment failed (card = \"expired\") → handled by the failure route to \
         Notify payment rejected, Update order (rejected)"
    );
    // The same rejection in the choreographed design travels as an event to the same steps.
    let c = ecommerce_choreographed();
    let lines = told(&c, json!({"card": "expired"}), Faults::default());
    assert_eq!(lines[0].code, "failure_handled_by_route");
    assert!(lines[0]
        .message
        .ends_with("Notify payment rejected, Update order (rejected)"));
}

#[test]
fn a_back_order_tells_the_saga_in_reverse_order() {
    let w = ecommerce_orchestrated();
    let lines = told(&w, json!({"stock": "none"}), Faults::default());
    assert_eq!(
        codes(&lines),
        ["failure_handled_by_saga", "compensated", "run_compensated"]
    );
    assert_eq!(
        messages(&lines),
        [
            "Fulfillment failed (stock = \"none\") → the orchestrator undid what it had done (a saga)",
            "Compensated, in reverse order: Payment (refund), Order Placement (cancel)",
            "Ended compensated: the saga undid the steps that had succeeded",
        ]
    );
}

#[test]
fn an_outage_says_how_long_and_what_waited_and_a_lost_event_what_stalled() {
    let w = workflow(json!({"name": "t",
        "nodes": [
            {"id": "a", "label": "Alpha", "service": "A", "action": "x", "latency_ms": 10},
            {"id": "b", "label": "Beta", "service": "B", "action": "x", "latency_ms": 10},
            {"id": "c", "label": "Gamma", "service": "C", "action": "x", "latency_ms": 10}],
        "edges": [{"from": "a", "to": "b", "kind": "command"},
                  {"from": "b", "to": "c", "kind": "event", "event": "BDone"}]}));
    let crash = Faults {
        orchestrator: Some(OrchestratorCrash {
            at_ms: 5,
            for_ms: 3000,
            standby_lease_ms: None,
        }),
        ..Faults::default()
    };
    let lines = told(&w, json!({}), crash);
    assert_eq!(codes(&lines), ["orchestrator_outage", "run_completed"]);
    assert!(
        lines[0]
            .message
            .starts_with("Orchestrator down 3.0 s: 1 message waited for it; it restarted"),
        "{}",
        lines[0].message
    );

    let lossy = Faults {
        bus: BusFault {
            drop: 1.0,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    let lines = told(&w, json!({}), lossy);
    assert_eq!(codes(&lines), ["event_lost", "run_stalled"]);
    assert_eq!(
        lines[0].message,
        "The bus lost BDone from Beta on its way to Gamma"
    );
    assert!(lines[1]
        .message
        .starts_with("Failed: stalled: the bus lost BDone"));
}

#[test]
fn a_story_is_capped_and_always_tells_the_end() {
    // A step that fails on every attempt, in an event cycle the runaway limit stops.
    let w = workflow(json!({"name": "loop",
        "nodes": [
            {"id": "s", "label": "S", "service": "S", "action": "x", "latency_ms": 1},
            {"id": "a", "label": "A", "service": "A", "action": "x", "latency_ms": 1, "failure_rate": 1.0},
            {"id": "b", "label": "B", "service": "B", "action": "x", "latency_ms": 1}],
        "edges": [{"from": "s", "to": "a", "kind": "event", "event": "SDone"},
                  {"from": "a", "to": "b", "kind": "event", "on": "failure", "event": "AFailed"},
                  {"from": "b", "to": "a", "kind": "event", "event": "BDone"}]}));
    let lines = told(&w, json!({}), Faults::default());
    assert_eq!(lines.len(), MAX_STORY_LINES, "{lines:#?}");
    let last = lines.last().expect("an end");
    assert!(last.code.starts_with("run_"), "{:?}", last);
}

#[test]
fn a_workflow_named_in_korean_runs_and_its_story_names_its_steps_as_they_are() {
    use app::model::formats::{import, ImportFormat};
    use app::model::FailWhen;
    let mut w = import(
        "name: 주문\n주문검증 -> 결제\n결제 -!> 주문취소\n",
        Some(ImportFormat::Text),
    )
    .unwrap();
    w.nodes[1].fail_when = Some(FailWhen {
        field: "카드".into(),
        equals: json!("만료"),
    });
    let lines = told(&w, json!({"카드": "만료"}), Faults::default());
    assert_eq!(
        messages(&lines),
        [
            "결제 failed (카드 = \"만료\") → handled by the failure route to 주문취소",
            "Completed"
        ]
    );
}

#[test]
fn the_story_speaks_korean_with_the_same_codes_and_a_diagnosis_of_its_own() {
    let w = ecommerce_orchestrated();
    let english = told(&w, json!({"card": "expired"}), Faults::default());
    let korean = told_in(
        app::i18n::Locale::ko,
        &w,
        json!({"card": "expired"}),
        Faults::default(),
    );
    assert_eq!(codes(&english), codes(&korean));
    assert!(
        korean[0].message.contains("card = \"expired\"")
            && korean[0].message.contains("실패 경로로"),
        "{}",
        korean[0].message
    );
    let w = workflow(json!({"name": "t",
        "nodes": [
            {"id": "a", "label": "가", "service": "A", "action": "x"},
            {"id": "b", "label": "나", "service": "B", "action": "x"}],
        "edges": [{"from": "a", "to": "b", "kind": "event", "event": "A완료"}]}));
    let lossy = Faults {
        bus: BusFault {
            drop: 1.0,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    let lines = told_in(app::i18n::Locale::ko, &w, json!({}), lossy);
    assert_eq!(codes(&lines), ["event_lost", "run_stalled"]);
    assert_eq!(
        lines[0].message,
        "버스가 가에서 나로 가던 A완료를 잃었습니다"
    );
    // The engine's English diagnosis is not repeated: the story says it.
    assert_eq!(
        lines[1].message,
        "실패: 멈춤: 버스가 가에서 나로 가던 A완료를 잃었습니다"
    );
}

#[test]
fn duplicated_events_are_told_with_what_ran_twice() {
    let flow = |idempotent: bool| {
        workflow(json!({"name": "t",
            "nodes": [
                {"id": "a", "label": "Alpha", "service": "A", "action": "x", "latency_ms": 10},
                {"id": "b", "label": "Beta", "service": "B", "action": "x", "latency_ms": 10, "idempotent": idempotent}],
            "edges": [{"from": "a", "to": "b", "kind": "event", "event": "ADone"}]}))
    };
    let twice = Faults {
        bus: BusFault {
            duplicate: 1.0,
            ..BusFault::default()
        },
        ..Faults::default()
    };
    // Every event delivered twice, heard by an idempotent step: said, and harmless.
    let lines = told(&flow(true), json!({}), twice.clone());
    assert_eq!(codes(&lines), ["events_duplicated", "run_completed"]);
    assert_eq!(
        lines[0].message,
        "The bus delivered 1 event(s) a second time (at-least-once delivery); every step that heard one twice was idempotent, so nothing ran twice"
    );
    // Heard by a step that is not idempotent: it ran again, by name.
    let lines = told(&flow(false), json!({}), twice.clone());
    assert_eq!(codes(&lines), ["events_duplicated", "run_completed"]);
    assert_eq!(
        lines[0].message,
        "The bus delivered 1 event(s) a second time (at-least-once delivery), and Beta ran again: not idempotent, its work was done twice"
    );
    // In Korean, with the particle the name takes.
    let lines = told_in(app::i18n::Locale::ko, &flow(false), json!({}), twice);
    assert!(
        lines[0].message.contains("Beta가 다시 실행되었습니다"),
        "{}",
        lines[0].message
    );
}
