//! The timeline's layout, checked on a small hand-made history.

use app::i18n::Locale;
use app::model::timeline::{timeline, ArrowKind, BarOutcome, FaultKind};
use app::model::{Cause, FailureReason, Owner, RunEvent, RunRecord};

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

#[test]
fn attempts_become_bars_with_their_outcome_and_messages_become_arrows() {
    let t0 = 1_000_000;
    let events = [
        (0, started("a", 1, Cause::Start)),
        (
            100,
            RunEvent::AttemptFailed {
                node: "a".into(),
                attempt: 1,
                reason: FailureReason::Error,
            },
        ),
        (
            100,
            RunEvent::RetryScheduled {
                node: "a".into(),
                attempt: 2,
                delay_ms: 200,
                by: Owner::Orchestrator,
            },
        ),
        (
            300,
            started(
                "a",
                2,
                Cause::Retry {
                    owner: Owner::Orchestrator,
                },
            ),
        ),
        (
            400,
            RunEvent::StepSucceeded {
                node: "a".into(),
                attempt: 2,
                wrote: Default::default(),
            },
        ),
        (
            400,
            RunEvent::CommandSent {
                message: 1,
                edge: "e1".into(),
                from: "a".into(),
                to: "b".into(),
                hops: 1,
            },
        ),
        (
            410,
            started(
                "b",
                1,
                Cause::Command {
                    edge: "e1".into(),
                    from: "a".into(),
                    message: 1,
                },
            ),
        ),
    ];
    let log: Vec<RunRecord> = events
        .into_iter()
        .enumerate()
        .map(|(i, (at, e))| RunRecord::new(i as u64 + 1, t0 + at, e))
        .collect();
    let t = timeline(&log, &["b".to_string(), "a".to_string()], Locale::en);
    assert_eq!(t.lanes, ["b", "a"], "the given order is kept");
    assert_eq!(t.span, 410);
    let bars: Vec<_> = t
        .bars
        .iter()
        .map(|b| (t.lanes[b.lane].as_str(), b.start, b.end, b.outcome))
        .collect();
    assert_eq!(
        bars,
        [
            ("a", 0, 100, BarOutcome::Failed),
            ("a", 300, 400, BarOutcome::Succeeded),
            ("b", 410, 410, BarOutcome::Running),
        ]
    );
    assert!(t.bars[1]
        .label
        .starts_with("a attempt 2 succeeded: +300 ms → +400 ms (100 ms)"));
    assert_eq!(t.arrows.len(), 1);
    let arrow = &t.arrows[0];
    assert_eq!(
        (arrow.from, arrow.to, arrow.at, arrow.kind),
        (1, 0, 400, ArrowKind::Command)
    );
}

#[test]
fn an_orchestrator_outage_is_a_band_and_a_lost_event_a_moment() {
    let t0 = 5_000;
    let mut faults = app::model::Faults::default();
    faults.bus.drop = 0.5;
    let events = [
        (
            0,
            RunEvent::RunStarted {
                input: serde_json::json!({}).into(),
                seed: 1,
                speed: 1.0,
                faults,
            },
        ),
        (0, started("a", 1, Cause::Start)),
        (
            50,
            RunEvent::OrchestratorCrashed {
                for_ms: 300,
                standby_lease_ms: Some(100),
            },
        ),
        (
            80,
            RunEvent::EventDropped {
                message: 2,
                edge: "e2".into(),
                from: "a".into(),
                name: "ADone".into(),
                to: "b".into(),
            },
        ),
        (
            150,
            RunEvent::OrchestratorRecovered {
                down_ms: 100,
                standby: true,
                records: 3,
                waited: 1,
            },
        ),
        (
            200,
            RunEvent::StepSucceeded {
                node: "a".into(),
                attempt: 1,
                wrote: Default::default(),
            },
        ),
    ];
    let log: Vec<RunRecord> = events
        .into_iter()
        .enumerate()
        .map(|(i, (at, e))| RunRecord::new(i as u64 + 1, t0 + at, e))
        .collect();
    let t = timeline(&log, &["a".into(), "b".into()], Locale::en);
    assert_eq!(t.faults.len(), 3);
    assert_eq!(t.faults[0].label, "started with faults: bus drops 50%");
    let outage = &t.faults[1];
    assert_eq!(
        (outage.kind, outage.start, outage.end),
        (FaultKind::Outage, 50, 150)
    );
    assert!(
        outage.label.contains("standby took over"),
        "{}",
        outage.label
    );
    let lost = &t.faults[2];
    assert_eq!(
        (lost.kind, lost.start, lost.end),
        (FaultKind::Dropped, 80, 80)
    );
    assert_eq!(lost.label, "ADone to b lost by the bus at +80 ms");
}
