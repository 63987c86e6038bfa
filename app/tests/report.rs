//! The lab's HTML report escapes everything it did not write itself, and says it in the
//! page's language.

use app::i18n::Locale;
use app::model::lab::{
    Batch, BatchState, CompareResult, Coupling, FailCell, FailMatrix, FailRow, LabOutcome,
    LabStyle, LatencyFigures, OutcomeCounts, StyleFigures, VisibilityFigures,
};
use app::model::MessageCounts;
use app::ui::report::{compare_html, escape};

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
        progress: Vec::new(),
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
    // No chart repeats the table.
    assert!(!html.contains("class=\"chart\""), "{html}");
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
