//! The lab's HTML report escapes everything it did not write itself.

use app::model::lab::{CompareResult, FailCell, FailMatrix, FailRow, LabOutcome, LabStyle};
use app::ui::report::{compare_html, escape};

#[test]
fn text_is_escaped_in_content_and_attributes() {
    assert_eq!(
        escape(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    let result = CompareResult {
        styles: Vec::new(),
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
        reading: vec!["a < b".into()],
    };
    let html = compare_html(&result);
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{html}"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("title=\"&quot;&gt;&lt;script&gt;"));
    assert!(html.contains("<li>a &lt; b</li>"));
    assert!(html.contains("✗ unhandled<small> · 2 changed</small>"));
}
