//! The lab's HTML report escapes everything it did not write itself, and says it in the
//! page's language.

use app::i18n::Locale;
use app::model::lab::{
    Batch, BatchState, CompareResult, Coupling, FailCell, FailMatrix, FailRow, LabOutcome,
    LabStyle, LatencyFigures, LoadRequest, LoadSecond, LoadStyle, LoadTest, OutcomeCounts,
    RealRuns, RealService, StyleFigures, VisibilityFigures,
};
use app::model::MessageCounts;
use app::ui::report::{compare_html, escape, load_html};

fn style(style: LabStyle, unhandled: u32, diagnosis: &str) -> StyleFigures {
    StyleFigures {
        style,
        runs: 2,
        outcomes: OutcomeCounts {
            succeeded: 2 - unhandled,
            unhandled,
            ..Default::default()
        },
        latency_ms: LatencyFigures::default(),
        messages: MessageCounts::default(),
        orchestrator_messages: 0,
        orchestrator_share: 0.0,
        steps_executed: 0,
        retries: 0,
        compensations: 0,
        blast_radius_mean: 0.0,
        blast_radius_max: 0,
        runs_with_failure: unhandled,
        coupling: Coupling::default(),
        visibility: VisibilityFigures::default(),
        lost: Vec::new(),
        example_diagnosis: (!diagnosis.is_empty()).then(|| diagnosis.to_string()),
        service_calls: 0,
        call_ms: LatencyFigures::default(),
    }
}

fn batch() -> Batch {
    let result = CompareResult {
        styles: vec![
            style(LabStyle::AsDrawn, 0, ""),
            style(LabStyle::Orchestration, 0, ""),
            style(LabStyle::Choreography, 1, "a < b"),
        ],
        matrix: FailMatrix {
            rows: vec![FailRow {
                node: "n".into(),
                label: "<img src=x onerror=alert(1)>".into(),
                cells: vec![FailCell {
                    style: LabStyle::AsDrawn,
                    reached: true,
                    outcome: LabOutcome::Unhandled,
                    diagnosis: Some("\"><script>alert(2)</script>".into()),
                    blast_radius: 2,
                }],
            }],
        },
        reading: Vec::new(),
        verifications: Vec::new(),
        real: None,
    };
    Batch {
        id: "b".into(),
        workflow_id: "w".into(),
        workflow_name: "W".into(),
        created_at: 0,
        state: BatchState::Done,
        runs: 2,
        seed: 1,
        input: serde_json::json!({}),
        faults: Default::default(),
        message_ms: 0,
        progress: Vec::new(),
        verify: None,
        result: Some(result),
        owner: None,
    }
}

#[test]
fn text_is_escaped_in_content_and_attributes() {
    assert_eq!(
        escape(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    let batch = batch();
    let html = compare_html(Locale::en, &batch);
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{html}"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;"));
    // The reading, from the figures: the headline first, the diagnosis escaped.
    assert!(html.contains("<li class=\"headline\"><strong>orchestration handled every failure; choreography left 1 of 2 runs with a failure nobody handled</strong></li>"), "{html}");
    assert!(html.contains("e.g. “a &lt; b”"), "{html}");
    // "N changed" is explained beside the matrix and in each cell's title.
    assert!(html.contains("✗ unhandled<small> · 2 changed</small>"));
    assert!(html.contains("title=\"2 other steps ended differently than without this failure."));
    assert!(
        html.contains("the failure&#39;s blast radius")
            || html.contains("the failure's blast radius")
    );
    // …and said honestly: fewer steps changed can mean nothing was undone.
    assert!(html.contains("Smaller is not always better"), "{html}");
    // The charts draw the three styles on one axis: choreography's 1 succeeded and 1
    // unhandled run split its bar in halves of the others' whole (2 runs = 250 units).
    assert!(html.contains("aria-label=\"How 2 runs ended\""), "{html}");
    assert!(html.contains("aria-label=\"orchestration: succeeded 2 · handled or compensated 0 · unhandled 0\"><title>orchestration: succeeded 2 · handled or compensated 0 · unhandled 0</title><text x=\"0\" y=\"54\">orchestration</text><rect class=\"ok\" x=\"96.0\" y=\"44\" width=\"250.0\""), "{html}");
    assert!(html.contains("<rect class=\"ok\" x=\"96.0\" y=\"70\" width=\"125.0\" height=\"12\"></rect><rect class=\"bad\" x=\"221.0\" y=\"70\" width=\"125.0\""), "{html}");
    // The charts come between the reading and the table.
    let (reading, charts, table) = (
        html.find("class=\"reading\"").unwrap(),
        html.find("class=\"charts\"").unwrap(),
        html.find("class=\"compare\"").unwrap(),
    );
    assert!(reading < charts && charts < table, "{html}");
}

/// A batch of real runs says so, in both languages: its latencies measured, its calls to
/// real services per run and what they took; a simulated batch says "simulated".
#[test]
fn a_batch_of_real_runs_says_its_latencies_were_measured() {
    let simulated = compare_html(Locale::en, &batch());
    assert!(
        simulated.contains("Latency p50 (ms, simulated)"),
        "{simulated}"
    );
    assert!(!simulated.contains("Calls to real services"));
    let mut real = batch();
    let result = real.result.as_mut().unwrap();
    result.real = Some(RealRuns {
        services: vec![
            RealService {
                node: "order".into(),
                label: "Order".into(),
                endpoint: "http://127.0.0.1:4101/".into(),
            },
            RealService {
                node: "payment".into(),
                label: "Payment".into(),
                endpoint: "http://127.0.0.1:4102/".into(),
            },
        ],
    });
    for s in &mut result.styles {
        s.service_calls = 4;
        s.call_ms = LatencyFigures {
            p50: 3,
            p95: 1510,
            p99: 1510,
            max: 1510,
        };
        s.latency_ms.p50 = 1520;
    }
    let html = compare_html(Locale::en, &real);
    assert!(html.contains("<li>these are real runs: each style&#39;s 2 runs called the 2 real services bound to Order, Payment, so their latencies are measured, not simulated (the fail-at-every-step table stays simulated)</li>"), "{html}");
    assert!(html.contains("calls to real services per run, and what a call took (median, p95): as drawn 2.0 (3 ms, 1510 ms), orchestration 2.0 (3 ms, 1510 ms)"), "{html}");
    assert!(
        html.contains("<th scope=\"row\">Latency p50 (ms, measured)</th><td>1520</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">Calls to real services</th><td>4</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">Call time p50 / p95 (ms)</th><td>3 / 1510</td>"),
        "{html}"
    );
    assert!(
        html.contains("Latency (ms, measured on real services)"),
        "{html}"
    );
    assert!(!html.contains("(ms, simulated)"), "{html}");
    let ko = compare_html(Locale::ko, &real);
    assert!(ko.contains("실제 실행입니다: 스타일마다 2번의 실행이 Order, Payment에 연결된 실제 서비스 2개를 호출했으므로 지연 시간은 시뮬레이션이 아니라 측정값입니다"), "{ko}");
    assert!(
        ko.contains("<th scope=\"row\">지연 p50(ms, 측정)</th>"),
        "{ko}"
    );
}

/// A batch whose orchestration passes replies through the orchestrator and is slower.
fn hop_batch(message_ms: u64) -> Batch {
    let mut batch = batch();
    batch.message_ms = message_ms;
    let result = batch.result.as_mut().unwrap();
    for s in &mut result.styles {
        s.outcomes = OutcomeCounts {
            succeeded: 2,
            ..Default::default()
        };
        s.runs_with_failure = 0;
        s.example_diagnosis = None;
    }
    let o = &mut result.styles[1];
    o.messages.commands = 6;
    o.messages.replies = 6;
    o.orchestrator_messages = 12;
    o.latency_ms.p50 = 60 + 3 * message_ms;
    o.latency_ms.p95 = 70 + 3 * message_ms;
    let c = &mut result.styles[2];
    c.messages.events = 6;
    c.messages.deliveries = 6;
    c.latency_ms.p50 = 60;
    c.latency_ms.p95 = 70;
    batch
}

#[test]
fn the_hop_cost_is_named_whether_modelled_or_not() {
    let html = compare_html(Locale::en, &hop_batch(10));
    assert!(html.contains("<li>the hop cost is modelled: the orchestrator spends 10 ms on each message it handles, so every reply costs a run that long (as drawn 0.0 replies per run, about 0 ms, orchestration 3.0 replies per run, about 30 ms, choreography 0.0 replies per run, about 0 ms); lesson 3 measures the same cost</li>"), "{html}");
    // The latency chart: orchestration's p95 (100 ms) is the axis's end, choreography's
    // 70 ms is 70 % of it.
    assert!(
        html.contains("aria-label=\"orchestration: p50 90 · p95 100 ms\""),
        "{html}"
    );
    assert!(
        html.contains("<rect class=\"tail\" x=\"96.0\" y=\"70\" width=\"175.0\""),
        "{html}"
    );
    let html = compare_html(Locale::en, &hop_batch(0));
    assert!(
        html.contains("<li>the hop cost is not modelled here (0 ms per orchestrator message)"),
        "{html}"
    );
    let html = compare_html(Locale::ko, &hop_batch(10));
    assert!(
        html.contains(
            "홉 비용을 모델링했습니다. 오케스트레이터가 처리하는 메시지마다 10ms를 쓰므로"
        ),
        "{html}"
    );
}

#[test]
fn the_report_speaks_korean() {
    let batch = batch();
    let html = compare_html(Locale::ko, &batch);
    assert!(html.contains("<h2>해석</h2>"), "{html}");
    assert!(
        html.contains("오케스트레이션은 모든 실패를 처리했고"),
        "{html}"
    );
    assert!(
        html.contains("✗ 처리 안 됨<small> · 2개 바뀜</small>"),
        "{html}"
    );
    // The words shown (tags and attribute names aside) hold no English.
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    for english in [
        "Reading",
        "Side by side",
        "Succeeded",
        "unhandled",
        "changed",
        "runs",
    ] {
        assert!(!text.contains(english), "{english} in {text}");
    }
}

fn load_style(style: LabStyle, seconds: u32, throughput: f64, p95: u64) -> LoadStyle {
    LoadStyle {
        style,
        started: 300,
        completed: 300,
        throughput,
        latency_ms: LatencyFigures {
            p95,
            ..Default::default()
        },
        peak_waiting: 0,
        seconds: (0..seconds)
            .map(|second| LoadSecond {
                second,
                started: 100,
                completed: 100,
                p50_ms: p95 / 2,
                p95_ms: p95,
                waiting: 0,
            })
            .collect(),
    }
}

#[test]
fn a_load_test_reads_its_headline_first_and_draws_on_shared_axes() {
    let test = LoadTest {
        id: "l".into(),
        workflow_id: "w".into(),
        workflow_name: "W".into(),
        created_at: 0,
        state: BatchState::Done,
        request: LoadRequest {
            workflow_id: "w".into(),
            input: None,
            rate: 100,
            seconds: 3,
            capacity: Some(4),
            message_ms: 10,
            seed: Some(1),
            speed: None,
        },
        styles: vec![
            load_style(LabStyle::AsDrawn, 4, 95.0, 1710),
            load_style(LabStyle::Orchestration, 6, 50.0, 1710),
            load_style(LabStyle::Choreography, 4, 99.0, 80),
        ],
        reading: vec!["stored".into()],
        owner: None,
    };
    let html = load_html(Locale::en, &test);
    let headline = html
        .find("<li class=\"headline\"><strong>at 100 runs/s, orchestration fell behind while as drawn, choreography kept up</strong></li>")
        .unwrap_or_else(|| panic!("{html}"));
    let first_chart = html.find("<svg").unwrap();
    assert!(headline < first_chart, "{html}");
    // One time axis for all: 6 s, the longest style's, on every chart (a 4-second curve
    // ends two thirds of the way).
    assert_eq!(html.matches(">6 s</text>").count(), 9, "{html}");
    assert!(!html.contains(">4 s</text>"), "{html}");
    // A value axis past a second is said in seconds, not clipped: 1710 ms ends at 2 s.
    assert!(html.contains(">2 s</text>"), "{html}");
    assert!(!html.contains("1710 ms</text>"), "{html}");
}
