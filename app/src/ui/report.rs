//! The lab's results as HTML: the side-by-side table, a bar chart per figure, the reading,
//! the fail-at-every-step matrix, the coupling table, and a load test's per-second curves.
//! The results never change once computed, so they are rendered to one string (every text
//! escaped) rather than built as reactive views: the page stays the same for the user and
//! for assistive technology (tables, rows, cells, labelled images), at a fraction of the
//! code size.

use std::fmt::Write;

use crate::model::lab::{
    BatchState, CompareResult, LabOutcome, LabStyle, LoadSecond, LoadTest, StyleFigures,
};

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One row of the comparison table: a label and a figure per style.
struct Row {
    label: &'static str,
    value: fn(&StyleFigures) -> f64,
    text: fn(&StyleFigures) -> String,
    /// Drawn as a chart too (all but the breakdowns of another row).
    chart: bool,
}

fn unhandled(s: &StyleFigures) -> u32 {
    s.outcomes.unhandled + s.outcomes.inconsistent + s.outcomes.stalled
}

fn rows() -> Vec<Row> {
    macro_rules! row {
        ($label:expr, $value:expr, $text:expr, $chart:expr) => {
            Row {
                label: $label,
                value: $value,
                text: $text,
                chart: $chart,
            }
        };
        ($label:expr, $count:expr) => {
            Row {
                label: $label,
                value: |s| f64::from($count(s)),
                text: |s| $count(s).to_string(),
                chart: true,
            }
        };
    }
    vec![
        row!("Succeeded", |s: &StyleFigures| s.outcomes.succeeded),
        row!("Handled failure", |s: &StyleFigures| s.outcomes.handled),
        row!("Compensated", |s: &StyleFigures| s.outcomes.compensated),
        row!("Unhandled failure", unhandled),
        row!(
            "of which inconsistent",
            |s| s.outcomes.inconsistent as f64,
            |s| s.outcomes.inconsistent.to_string(),
            false
        ),
        row!(
            "of which stalled",
            |s| s.outcomes.stalled as f64,
            |s| s.outcomes.stalled.to_string(),
            false
        ),
        row!(
            "Latency p50 (ms)",
            |s| s.latency_ms.p50 as f64,
            |s| s.latency_ms.p50.to_string(),
            true
        ),
        row!(
            "Latency p95 (ms)",
            |s| s.latency_ms.p95 as f64,
            |s| s.latency_ms.p95.to_string(),
            true
        ),
        row!(
            "Latency p99 (ms)",
            |s| s.latency_ms.p99 as f64,
            |s| s.latency_ms.p99.to_string(),
            true
        ),
        row!(
            "Commands",
            |s| s.messages.commands as f64,
            |s| s.messages.commands.to_string(),
            true
        ),
        row!(
            "Replies",
            |s| s.messages.replies as f64,
            |s| s.messages.replies.to_string(),
            true
        ),
        row!(
            "Events",
            |s| s.messages.events as f64,
            |s| s.messages.events.to_string(),
            true
        ),
        row!(
            "Deliveries",
            |s| s.messages.deliveries as f64,
            |s| s.messages.deliveries.to_string(),
            true
        ),
        row!(
            "Through the orchestrator",
            |s| s.orchestrator_share * 100.0,
            |s| format!(
                "{} ({:.0}%)",
                s.orchestrator_messages,
                s.orchestrator_share * 100.0
            ),
            true
        ),
        row!(
            "Steps executed",
            |s| s.steps_executed as f64,
            |s| s.steps_executed.to_string(),
            true
        ),
        row!(
            "Retries",
            |s| s.retries as f64,
            |s| s.retries.to_string(),
            true
        ),
        row!(
            "Compensations",
            |s| s.compensations as f64,
            |s| s.compensations.to_string(),
            true
        ),
        row!(
            "Blast radius (mean steps)",
            |s| s.blast_radius_mean,
            |s| format!("{:.1} (max {})", s.blast_radius_mean, s.blast_radius_max),
            true
        ),
        row!("Orchestrator knows (services)", |s: &StyleFigures| s
            .coupling
            .orchestrator_knows),
        row!("Event contracts", |s: &StyleFigures| s
            .coupling
            .event_contracts),
        row!(
            "Places holding a run's state (mean)",
            |s| s.visibility.state_places,
            |s| format!("{:.1}", s.visibility.state_places),
            true
        ),
        row!(
            "Logs to read to trace a run (mean)",
            |s| s.visibility.logs_to_read,
            |s| format!("{:.1}", s.visibility.logs_to_read),
            true
        ),
        row!(
            "Longest causal chain (steps)",
            |s| f64::from(s.visibility.longest_chain),
            |s| s.visibility.longest_chain.to_string(),
            true
        ),
    ]
}

pub fn outcome_text(outcome: LabOutcome) -> &'static str {
    match outcome {
        LabOutcome::Succeeded => "✓ succeeded",
        LabOutcome::Handled => "✓ handled",
        LabOutcome::Compensated => "↺ compensated",
        LabOutcome::Unhandled => "✗ unhandled",
        LabOutcome::Inconsistent => "⚠ inconsistent",
        LabOutcome::Stalled => "⏸ stalled",
        LabOutcome::Cancelled => "cancelled",
    }
}

fn headers(first: &str) -> String {
    let mut h = format!("<thead><tr><th scope=\"col\">{first}</th>");
    for style in LabStyle::ALL {
        let _ = write!(h, "<th scope=\"col\">{}</th>", style.label());
    }
    h + "</tr></thead>"
}

/// A bar chart of one figure, the three styles side by side.
fn chart(out: &mut String, row: &Row, styles: &[StyleFigures]) {
    const WIDTH: f64 = 220.0;
    const BAR: f64 = 18.0;
    let max = styles
        .iter()
        .map(row.value)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let label = escape(row.label);
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{label}\">\
         <text class=\"title\" x=\"0\" y=\"12\">{label}</text>",
        WIDTH + 60.0,
        22.0 + 3.0 * (BAR + 8.0)
    );
    for (i, s) in styles.iter().enumerate() {
        let y = 22.0 + i as f64 * (BAR + 8.0);
        let w = ((row.value)(s) / max * (WIDTH - 110.0)).max(1.0);
        let _ = write!(
            out,
            "<g class=\"bar {}\"><text x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"100\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR}\"></rect>\
             <text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            s.style.label().replace(' ', "-"),
            y + 13.0,
            s.style.label(),
            104.0 + w,
            y + 13.0,
            escape(&(row.text)(s))
        );
    }
    out.push_str("</svg></figure>");
}

/// A compare batch's results.
pub fn compare_html(result: &CompareResult) -> String {
    let mut out = String::from(
        "<section class=\"lab-results\" aria-label=\"Results\"><h2>Reading</h2><ul class=\"reading\" aria-label=\"Reading\">",
    );
    for line in &result.reading {
        match line.strip_prefix("Headline: ") {
            Some(headline) => {
                let _ = write!(
                    out,
                    "<li class=\"headline\"><strong>{}</strong></li>",
                    escape(headline)
                );
            }
            None => {
                let _ = write!(out, "<li>{}</li>", escape(line));
            }
        }
    }
    out.push_str("</ul><h2>Side by side</h2><table class=\"compare\" aria-label=\"Comparison\">");
    out.push_str(&headers(""));
    out.push_str("<tbody>");
    let rows = rows();
    for row in &rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(row.label));
        for s in &result.styles {
            let _ = write!(out, "<td>{}</td>", escape(&(row.text)(s)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table><div class=\"charts\">");
    for row in rows.iter().filter(|r| r.chart) {
        chart(&mut out, row, &result.styles);
    }
    out.push_str(
        "</div><h2>Fail at every step</h2><p class=\"hint\">One run per cell: only that step fails (every attempt), every other step succeeds.</p>\
         <table class=\"matrix\" aria-label=\"Fail at every step\">",
    );
    out.push_str(&headers("Failing step"));
    out.push_str("<tbody>");
    for row in &result.matrix.rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(&row.label));
        for c in &row.cells {
            if c.reached {
                let _ = write!(
                    out,
                    "<td class=\"outcome {}\" title=\"{}\">{}<small> · {} changed</small></td>",
                    c.outcome.as_str(),
                    escape(c.diagnosis.as_deref().unwrap_or_default()),
                    outcome_text(c.outcome),
                    c.blast_radius
                );
            } else {
                out.push_str(
                    "<td class=\"outcome not-reached\" title=\"The step never ran on this path: its failure could not happen\">— not reached</td>",
                );
            }
        }
        out.push_str("</tr>");
    }
    out.push_str(
        "</tbody></table><h2>Coupling: what each service must know</h2><table class=\"coupling\" aria-label=\"Coupling\">",
    );
    out.push_str(&headers("Service"));
    out.push_str("<tbody>");
    let mut services: Vec<&str> = result
        .styles
        .iter()
        .flat_map(|s| s.coupling.services.iter().map(|c| c.service.as_str()))
        .collect();
    services.sort_unstable();
    services.dedup();
    for service in services {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(service));
        for s in &result.styles {
            let knows = s
                .coupling
                .services
                .iter()
                .find(|c| c.service == service)
                .map(|c| c.knows.join(", "))
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "—".into());
            let _ = write!(out, "<td>{}</td>", escape(&knows));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>");
    out
}

/// A small line chart of one figure over the seconds of a load test.
fn series(out: &mut String, label: &str, seconds: &[LoadSecond], value: fn(&LoadSecond) -> f64) {
    const W: f64 = 260.0;
    const H: f64 = 60.0;
    let max = seconds.iter().map(value).fold(0.0_f64, f64::max).max(1e-9);
    let step = W / (seconds.len().max(2) - 1) as f64;
    let points: Vec<String> = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - value(s) / max * (H - 4.0)
            )
        })
        .collect();
    let _ = write!(
        out,
        "<svg class=\"series\" viewBox=\"0 -14 {W} {}\" role=\"img\" aria-label=\"{label}\">\
         <text x=\"0\" y=\"-3\">{label} (max {max:.0})</text><polyline points=\"{}\"></polyline></svg>",
        H + 16.0,
        points.join(" ")
    );
}

/// A load test's state, per-style curves and reading.
pub fn load_html(test: &LoadTest) -> String {
    let state = match test.state {
        BatchState::Running => "running",
        BatchState::Done => "done",
        BatchState::Cancelled => "cancelled",
    };
    let mut out =
        format!("<p class=\"batch-state\">Load test {state}</p><div class=\"load-styles\">");
    for s in &test.styles {
        let _ = write!(
            out,
            "<figure class=\"load-style\" aria-label=\"Load {}\"><figcaption><strong>{}</strong> · {}/{} completed · {:.0} runs/s · p95 {} ms · queue ≤ {}</figcaption>",
            s.style.label(),
            s.style.label(),
            s.completed,
            s.started,
            s.throughput,
            s.latency_ms.p95,
            s.peak_waiting
        );
        series(&mut out, "completed per second", &s.seconds, |x| {
            f64::from(x.completed)
        });
        series(&mut out, "p95 latency (ms)", &s.seconds, |x| {
            x.p95_ms as f64
        });
        series(&mut out, "waiting for the orchestrator", &s.seconds, |x| {
            f64::from(x.waiting)
        });
        out.push_str("</figure>");
    }
    out.push_str("</div><ul class=\"reading\" aria-label=\"Load reading\">");
    for line in &test.reading {
        let _ = write!(out, "<li>{}</li>", escape(line));
    }
    out.push_str("</ul>");
    out
}
