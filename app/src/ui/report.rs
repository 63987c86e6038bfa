//! The lab's results as HTML, in the page's language: the reading (headline first), the
//! side-by-side table, the fail-at-every-step matrix, the coupling table, and a load
//! test's per-second curves on shared scales with axes and units.
//! The results never change once computed, so they are rendered to one string (every text
//! escaped) rather than built as reactive views: the page stays the same for the user and
//! for assistive technology (tables, rows, cells, labelled images), at a fraction of the
//! code size.

use std::fmt::Write;

use crate::i18n::Locale;
use crate::model::lab::{Batch, LabOutcome, LabStyle, LoadSecond, LoadTest, StyleFigures};
use crate::model::reading::{compare_reading, load_reading};

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
    label: fn(Locale) -> &'static str,
    text: fn(Locale, &StyleFigures) -> String,
}

fn unhandled(s: &StyleFigures) -> u32 {
    s.outcomes.unhandled + s.outcomes.inconsistent + s.outcomes.stalled
}

fn rows() -> Vec<Row> {
    macro_rules! row {
        ($key:ident, $text:expr) => {
            Row {
                label: |l| td_string!(l, report.row.$key),
                text: $text,
            }
        };
    }
    vec![
        row!(succeeded, |_, s| s.outcomes.succeeded.to_string()),
        row!(handled, |_, s| s.outcomes.handled.to_string()),
        row!(compensated, |_, s| s.outcomes.compensated.to_string()),
        row!(unhandled, |_, s| unhandled(s).to_string()),
        row!(inconsistent, |_, s| s.outcomes.inconsistent.to_string()),
        row!(stalled, |_, s| s.outcomes.stalled.to_string()),
        row!(p50, |_, s| s.latency_ms.p50.to_string()),
        row!(p95, |_, s| s.latency_ms.p95.to_string()),
        row!(p99, |_, s| s.latency_ms.p99.to_string()),
        row!(commands, |_, s| s.messages.commands.to_string()),
        row!(replies, |_, s| s.messages.replies.to_string()),
        row!(events, |_, s| s.messages.events.to_string()),
        row!(deliveries, |_, s| s.messages.deliveries.to_string()),
        row!(orchestrator, |_, s| format!(
            "{} ({:.0}%)",
            s.orchestrator_messages,
            s.orchestrator_share * 100.0
        )),
        row!(steps, |_, s| s.steps_executed.to_string()),
        row!(retries, |_, s| s.retries.to_string()),
        row!(compensations, |_, s| s.compensations.to_string()),
        row!(blast, |l, s| td_string!(
            l,
            report.row.blast_value,
            mean = format!("{:.1}", s.blast_radius_mean),
            max = s.blast_radius_max
        )
        .to_string()),
        row!(knows, |_, s| s.coupling.orchestrator_knows.to_string()),
        row!(contracts, |_, s| s.coupling.event_contracts.to_string()),
        row!(places, |_, s| format!("{:.1}", s.visibility.state_places)),
        row!(logs, |_, s| format!("{:.1}", s.visibility.logs_to_read)),
        row!(chain, |_, s| s.visibility.longest_chain.to_string()),
    ]
}

/// A fail-matrix cell's outcome in `locale`'s words.
pub fn outcome_text(l: Locale, outcome: LabOutcome) -> &'static str {
    match outcome {
        LabOutcome::Succeeded => td_string!(l, report.outcome.succeeded),
        LabOutcome::Handled => td_string!(l, report.outcome.handled),
        LabOutcome::Compensated => td_string!(l, report.outcome.compensated),
        LabOutcome::Unhandled => td_string!(l, report.outcome.unhandled),
        LabOutcome::Inconsistent => td_string!(l, report.outcome.inconsistent),
        LabOutcome::Stalled => td_string!(l, report.outcome.stalled),
        LabOutcome::Cancelled => td_string!(l, report.outcome.cancelled),
    }
}

fn headers(l: Locale, first: &str) -> String {
    let mut h = format!("<thead><tr><th scope=\"col\">{first}</th>");
    for style in LabStyle::ALL {
        let _ = write!(h, "<th scope=\"col\">{}</th>", style.words(l));
    }
    h + "</tr></thead>"
}

/// A compare batch's results in `l`'s words (nothing while it has none): the reading (its
/// headline first, from the figures), the side-by-side table, the fail-at-every-step matrix
/// and the coupling table. The table is the figures' one place: no chart repeats it.
pub fn compare_html(l: Locale, batch: &Batch) -> String {
    let Some(result) = &batch.result else {
        return String::new();
    };
    let mut out = format!(
        "<section class=\"lab-results\" aria-label=\"{}\"><h2>{reading}</h2><ul class=\"reading\" aria-label=\"{reading}\">",
        td_string!(l, report.results),
        reading = td_string!(l, report.reading),
    );
    let reading = compare_reading(l, &result.styles, &batch.faults, batch.runs);
    if let Some(headline) = &reading.headline {
        let _ = write!(
            out,
            "<li class=\"headline\"><strong>{}</strong></li>",
            escape(headline)
        );
    }
    for line in &reading.lines {
        let _ = write!(out, "<li>{}</li>", escape(line));
    }
    let _ = write!(
        out,
        "</ul><h2>{}</h2><table class=\"compare\" aria-label=\"{}\">",
        td_string!(l, report.side_by_side),
        td_string!(l, report.comparison)
    );
    out.push_str(&headers(l, ""));
    out.push_str("<tbody>");
    for row in rows() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape((row.label)(l)));
        for s in &result.styles {
            let _ = write!(out, "<td>{}</td>", escape(&(row.text)(l, s)));
        }
        out.push_str("</tr>");
    }
    let matrix = td_string!(l, report.matrix);
    let _ = write!(
        out,
        "</tbody></table><h2>{matrix}</h2><p class=\"hint\">{}</p><table class=\"matrix\" aria-label=\"{matrix}\">",
        td_string!(l, report.matrix_hint)
    );
    out.push_str(&headers(l, td_string!(l, report.failing_step)));
    out.push_str("<tbody>");
    for row in &result.matrix.rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(&row.label));
        for c in &row.cells {
            if c.reached {
                let changed = if c.blast_radius == 1 {
                    td_string!(l, report.changed_title1).to_string()
                } else {
                    td_string!(l, report.changed_title, count = c.blast_radius).to_string()
                };
                // The engine's diagnoses are English.
                let title = match c.diagnosis.as_deref().filter(|_| l == Locale::en) {
                    Some(d) => format!("{changed}. {d}"),
                    None => changed,
                };
                let _ = write!(
                    out,
                    "<td class=\"outcome {}\" title=\"{}\">{}<small> · {}</small></td>",
                    c.outcome.as_str(),
                    escape(&title),
                    outcome_text(l, c.outcome),
                    td_string!(l, report.changed, count = c.blast_radius)
                );
            } else {
                let _ = write!(
                    out,
                    "<td class=\"outcome not-reached\" title=\"{}\">{}</td>",
                    td_string!(l, report.not_reached_title),
                    td_string!(l, report.not_reached)
                );
            }
        }
        out.push_str("</tr>");
    }
    let _ = write!(
        out,
        "</tbody></table><h2>{}</h2><table class=\"coupling\" aria-label=\"{}\">",
        td_string!(l, report.coupling_heading),
        td_string!(l, report.coupling)
    );
    out.push_str(&headers(l, td_string!(l, report.service)));
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

/// One figure of a load test over its seconds: the name, the unit, the value of a second.
struct Series {
    label: fn(Locale) -> &'static str,
    unit: &'static str,
    value: fn(&LoadSecond) -> f64,
}

const SERIES: [Series; 3] = [
    Series {
        label: |l| td_string!(l, report.series_completed),
        unit: "/s",
        value: |x| f64::from(x.completed),
    },
    Series {
        label: |l| td_string!(l, report.series_p95),
        unit: " ms",
        value: |x| x.p95_ms as f64,
    },
    Series {
        label: |l| td_string!(l, report.series_waiting),
        unit: "",
        value: |x| f64::from(x.waiting),
    },
];

/// A line chart of one figure over the seconds of a load test, on the scale `max` shared
/// by every style's chart of that figure, with its axes: value (0 and `max`, with the
/// unit) and time (0 and the last second).
fn series(out: &mut String, l: Locale, series: &Series, seconds: &[LoadSecond], max: f64) {
    const W: f64 = 260.0;
    const H: f64 = 60.0;
    /// Room for the value axis's labels, left, and the time axis's, below.
    const LEFT: f64 = 44.0;
    const BELOW: f64 = 14.0;
    let max = max.max(1.0);
    let step = W / (seconds.len().max(2) - 1) as f64;
    let points: Vec<String> = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{:.1},{:.1}",
                LEFT + i as f64 * step,
                H - (series.value)(s) / max * H
            )
        })
        .collect();
    let label = (series.label)(l);
    let seconds_unit = td_string!(l, report.axis_seconds);
    let _ = write!(
        out,
        "<svg class=\"series\" viewBox=\"0 -16 {} {}\" role=\"img\" aria-label=\"{label}\">\
         <text x=\"0\" y=\"-5\">{label}</text>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"0\" x2=\"{LEFT}\" y2=\"{H}\"></line>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{H}\" x2=\"{}\" y2=\"{H}\"></line>\
         <text class=\"tick\" x=\"{}\" y=\"8\" text-anchor=\"end\">{max:.0}{unit}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{H}\" text-anchor=\"end\">0</text>\
         <text class=\"tick\" x=\"{LEFT}\" y=\"{}\">0 {seconds_unit}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{} {seconds_unit}</text>\
         <polyline points=\"{}\"></polyline></svg>",
        LEFT + W + 4.0,
        H + 16.0 + BELOW,
        LEFT + W,
        LEFT - 3.0,
        LEFT - 3.0,
        H + BELOW - 2.0,
        LEFT + W,
        H + BELOW - 2.0,
        seconds.len(),
        points.join(" "),
        unit = series.unit,
    );
}

/// A load test's state, per-style curves (one scale per figure across the styles) and
/// reading, in `l`'s words.
pub fn load_html(l: Locale, test: &LoadTest) -> String {
    let state = crate::ui::common::words::batch_state(l, test.state);
    let mut out = format!(
        "<p class=\"batch-state\">{}</p><p class=\"hint\">{}</p><div class=\"load-styles\">",
        td_string!(l, report.load_test, state = state),
        td_string!(l, report.load_scale)
    );
    let maxima: Vec<f64> = SERIES
        .iter()
        .map(|series| {
            test.styles
                .iter()
                .flat_map(|s| s.seconds.iter().map(series.value))
                .fold(0.0_f64, f64::max)
        })
        .collect();
    for s in &test.styles {
        let style = s.style.words(l);
        let _ = write!(
            out,
            "<figure class=\"load-style\" aria-label=\"{}\"><figcaption><strong>{style}</strong> · {}</figcaption>",
            td_string!(l, report.load_style, style = style),
            td_string!(
                l,
                report.load_caption,
                completed = s.completed,
                started = s.started,
                throughput = format!("{:.0}", s.throughput),
                p95 = s.latency_ms.p95,
                queue = s.peak_waiting
            )
        );
        for (figure, max) in SERIES.iter().zip(&maxima) {
            series(&mut out, l, figure, &s.seconds, *max);
        }
        out.push_str("</figure>");
    }
    let _ = write!(
        out,
        "</div><ul class=\"reading\" aria-label=\"{}\">",
        td_string!(l, report.load_reading)
    );
    if !test.reading.is_empty() {
        for line in load_reading(l, &test.styles, test.request.rate) {
            let _ = write!(out, "<li>{}</li>", escape(&line));
        }
    }
    out.push_str("</ul>");
    out
}
