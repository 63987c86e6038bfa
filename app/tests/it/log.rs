//! What a run's history means to a reader, checked on a small hand-made history:
//! a → (command) b → (event BDone) c, b retried once.

use app::i18n::Locale;
use app::model::log::{
    describe, describe_named, figures, triggered, triggered_by, view_at, LogKind,
};
use app::model::{Cause, FailureReason, Outcome, Owner, RunEvent, RunRecord, StepState};

fn started(node: &str, attempt: u32, cause: Cause) -> RunEvent {
    RunEvent::StepStarted {
        node: node.into(),
        attempt,
        execution: 1,
        owner: Owner::Orchestrator,
        hops: 0,
        cause,
    }
}

fn succeeded(node: &str, attempt: u32) -> RunEvent {
    RunEvent::StepSucceeded {
        node: node.into(),
        attempt,
        wrote: Default::default(),
    }
}

fn history() -> Vec<RunRecord> {
    let command = Cause::Command {
        edge: "e1".into(),
        from: "a".into(),
        message: 1,
    };
    let events = [
        (0, started("a", 1, Cause::Start)),
        (100, succeeded("a", 1)),
        (
            100,
            RunEvent::CommandSent {
                message: 1,
                edge: "e1".into(),
                from: "a".into(),
                to: "b".into(),
                hops: 1,
            },
        ),
        (110, started("b", 1, command.clone())),
        (
            150,
            RunEvent::AttemptFailed {
                node: "b".into(),
                attempt: 1,
                reason: FailureReason::Error,
            },
        ),
        (
            150,
            RunEvent::RetryScheduled {
                node: "b".into(),
                attempt: 2,
                delay_ms: 50,
                by: Owner::Orchestrator,
            },
        ),
        (
            200,
            started(
                "b",
                2,
                Cause::Retry {
                    owner: Owner::Orchestrator,
                },
            ),
        ),
        (250, succeeded("b", 2)),
        (
            250,
            RunEvent::EventPublished {
                message: 2,
                from: "b".into(),
                name: "BDone".into(),
                outcome: Outcome::Success,
                subscribers: vec!["c".into()],
                payload: Default::default(),
            },
        ),
        (
            260,
            started(
                "c",
                1,
                Cause::Event {
                    edge: "e2".into(),
                    from: "b".into(),
                    name: "BDone".into(),
                    message: 2,
                },
            ),
        ),
        (300, succeeded("c", 1)),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, (at, e))| RunRecord::new(i as u64 + 1, 10_000 + at, e))
        .collect()
}

#[test]
fn each_record_reads_as_a_line_with_its_kind_and_steps() {
    let log = history();
    let line = describe(&log[2].event, Locale::en);
    assert_eq!(line.kind, LogKind::Command);
    assert_eq!(line.steps, ["a", "b"]);
    assert_eq!(line.text, "orchestrator → b: command (after a)");
    let line = describe(&log[8].event, Locale::en);
    assert_eq!(
        (line.kind, line.text.as_str()),
        (LogKind::Event, "b published BDone → c")
    );
    let line = describe(&log[4].event, Locale::en);
    assert_eq!(line.kind, LogKind::Failure);
    assert!(line.text.starts_with("b attempt 1 failed"), "{}", line.text);
    // The page names steps by their labels; the line's steps stay ids (the filter's).
    let label = |id: &str| format!("Step {}", id.to_uppercase());
    let line = describe_named(&log[2].event, Locale::en, &label, &|e| e.to_string());
    assert_eq!(line.steps, ["a", "b"]);
    assert_eq!(line.text, "orchestrator → Step B: command (after Step A)");
    let line = describe_named(&log[8].event, Locale::en, &label, &|e| format!("«{e}»"));
    assert_eq!(line.text, "Step B published «BDone» → Step C");
}

#[test]
fn the_summary_counts_executions_failures_and_retries_from_the_log() {
    let f = figures(&history());
    assert_eq!(f.duration_ms, 300);
    assert_eq!(
        (f.executions, f.failed_attempts, f.retries, f.compensations),
        (4, 1, 1, 0)
    );
    assert_eq!(figures(&[]).duration_ms, 0);
}

#[test]
fn a_causal_chain_goes_back_to_the_start_through_commands_and_events_skipping_retries() {
    let log = history();
    let chain = triggered_by(&log, "c", Locale::en, &|id| id.to_string());
    let nodes: Vec<&str> = chain.iter().map(|l| l.node.as_str()).collect();
    assert_eq!(nodes, ["a", "b", "c"], "earliest first");
    assert_eq!(chain[0].how, "started by the run's start");
    assert!(
        chain[1]
            .how
            .starts_with("commanded by the orchestrator after a finished"),
        "{}",
        chain[1].how
    );
    assert_eq!(chain[2].how, "heard BDone, published by b");
    let after = triggered(&log, "b", Locale::en);
    assert_eq!(after.len(), 1);
    assert_eq!(
        (after[0].node.as_str(), after[0].how.as_str()),
        ("c", "by the event BDone")
    );
    assert!(triggered_by(&log, "nobody", Locale::en, &|id| id.to_string()).is_empty());
    // The page names the steps by their labels, and no edge id.
    let named = triggered_by(&log, "c", Locale::en, &|id| {
        format!("Step {}", id.to_uppercase())
    });
    assert_eq!(
        named[1].how,
        "commanded by the orchestrator after Step A finished"
    );
    assert_eq!(named[2].how, "heard BDone, published by Step B");
}

#[test]
fn replay_shows_the_run_as_it_stood_after_any_record() {
    let log = history();
    let ids: Vec<String> = ["a", "b", "c"].map(String::from).into();
    let early = view_at(&log, &ids, 6);
    assert_eq!(early.steps["a"].state, StepState::Succeeded);
    assert_eq!(early.steps["b"].state, StepState::Retrying);
    assert_eq!(early.steps["c"].state, StepState::Pending);
    let end = view_at(&log, &ids, log.len());
    assert_eq!(end.steps["c"].state, StepState::Succeeded);
    assert_eq!(view_at(&log, &ids, 0).steps["a"].state, StepState::Pending);
}

/// What a step wrote is said in its log line and gathered in one sentence of the story, in
/// both languages, the step by its label.
#[test]
fn what_a_step_wrote_is_told_in_the_log_and_the_story() {
    let mut wrote = serde_json::Map::new();
    wrote.insert("amount".into(), serde_json::json!(120));
    wrote.insert("approved".into(), serde_json::json!(true));
    let event = RunEvent::StepSucceeded {
        node: "pay".into(),
        attempt: 1,
        wrote,
    };
    assert_eq!(
        describe(&event, Locale::en).text,
        "pay succeeded (attempt 1) and wrote amount = 120, approved = true"
    );
    assert_eq!(
        describe(&event, Locale::ko).text,
        "pay 성공(1번째 시도), 기록: amount = 120, approved = true"
    );
    let log = vec![RunRecord::new(1, 10_000, event)];
    let story = app::model::story::Story::of(&log);
    let workflow: app::model::Workflow = serde_json::from_value(serde_json::json!({"name": "w",
        "nodes": [{"id": "pay", "label": "결제", "service": "Payments", "action": "charge"}]}))
    .unwrap();
    let lines = story.lines(&workflow, Locale::ko);
    assert_eq!(lines[0].code, "data_written");
    assert_eq!(
        lines[0].message,
        "실행 데이터에 기록됨: amount = 120, approved = true (결제)"
    );
    assert_eq!(
        story.lines(&workflow, Locale::en)[0].message,
        "Written into the run data: amount = 120, approved = true (결제)"
    );
    // A run's headline (the runs list) is about what went wrong, not the data.
    assert!(story.headline(&workflow.nodes, Locale::en).is_none());
}
