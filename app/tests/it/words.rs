//! What the model says to a reader — log lines, design warnings, the document's problems,
//! faults, causes — in Korean as in English: the same facts, no English left in the Korean.

use app::i18n::Locale;
use app::model::faults::{BusFault, OrchestratorCrash};
use app::model::lint::lint;
use app::model::log::describe;
use app::model::validate::validate_in;
use app::model::{parse_workflow, FailureReason, Faults, RunEvent, Workflow};
use serde_json::json;

fn has_latin_words(text: &str) -> bool {
    // Names from the document (ids, labels, events) are excluded by the callers' choice of
    // Hangul names; anything else Latin is English left over.
    text.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 3 && w != "ms")
}

fn workflow() -> Workflow {
    parse_workflow(
        json!({"name": "주문", "nodes": [
            {"id": "가", "label": "주문접수", "service": "주문서비스", "action": "접수"},
            {"id": "나", "label": "결제", "service": "결제서비스", "action": "청구", "failure_rate": 0.5}],
          "edges": [{"from": "가", "to": "나", "kind": "event", "event": "주문됨"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

#[test]
fn log_lines_speak_korean() {
    let failed = RunEvent::StepFailed {
        node: "결제".into(),
        attempts: 2,
        reason: FailureReason::Timeout,
    };
    assert_eq!(
        describe(&failed, Locale::en).text,
        "결제 failed after 2 attempts: timed out"
    );
    assert_eq!(
        describe(&failed, Locale::ko).text,
        "결제 2번 시도 후 실패: 시간 초과"
    );
    let once = RunEvent::StepFailed {
        node: "결제".into(),
        attempts: 1,
        reason: FailureReason::Unavailable,
    };
    assert_eq!(
        describe(&once, Locale::en).text,
        "결제 failed after 1 attempt: service down"
    );
    let faults = Faults {
        bus: BusFault {
            drop: 0.1,
            ..BusFault::default()
        },
        orchestrator: Some(OrchestratorCrash {
            at_ms: 500,
            for_ms: 2000,
            standby_lease_ms: None,
        }),
        ..Faults::default()
    };
    assert_eq!(
        faults.describe(Locale::en),
        "bus drops 10%; orchestrator down 2000 ms at 500 ms"
    );
    let korean = faults.describe(Locale::ko);
    assert!(!has_latin_words(&korean), "{korean}");
}

#[test]
fn design_warnings_say_the_same_thing_in_both_languages() {
    let warnings = lint(&workflow());
    assert!(!warnings.is_empty());
    for w in &warnings {
        assert_eq!(
            w.words(Locale::en),
            w.message,
            "the API's message is the English words"
        );
        let korean = w.words(Locale::ko);
        // The failure event's default name ("결제Failed") is the document's, not words.
        assert!(
            !has_latin_words(&korean.replace("결제Failed", "")),
            "{korean}"
        );
        assert!(korean.contains("결제"), "{korean}");
    }
    // Sent to a client, a warning keeps what it says, so the client can say it again.
    let sent: app::model::lint::Warning =
        serde_json::from_value(serde_json::to_value(&warnings[0]).unwrap()).unwrap();
    assert_eq!(sent.words(Locale::ko), warnings[0].words(Locale::ko));
}

#[test]
fn the_documents_problems_speak_korean() {
    let mut w = workflow();
    w.nodes[0].label = String::new();
    w.nodes[1].retry = Some(app::model::RetryPolicy {
        max_attempts: 0,
        backoff_ms: 0,
        multiplier: 2.0,
    });
    w.edges[0].to = "없음".into();
    let english = validate_in(&w, Locale::en);
    let korean = validate_in(&w, Locale::ko);
    assert_eq!(english.len(), 3, "{english:?}");
    assert_eq!(
        english.iter().map(|p| &p.path).collect::<Vec<_>>(),
        korean.iter().map(|p| &p.path).collect::<Vec<_>>(),
        "the same problems, in the same places"
    );
    for p in &korean {
        assert!(!has_latin_words(&p.message), "{}", p.message);
    }
    assert!(english
        .iter()
        .any(|p| p.message == "refers to unknown node \"없음\""));
    assert!(korean
        .iter()
        .any(|p| p.message == "없는 단계 \"없음\"을 가리킵니다"));
}
