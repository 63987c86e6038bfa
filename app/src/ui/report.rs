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

/// The table's rows; a batch of real runs says its latencies were measured, and adds its
/// calls to real services.
fn rows(real: bool) -> Vec<Row> {
    macro_rules! row {
        ($key:ident, $text:expr) => {
            Row {
                label: |l| td_string!(l, report.row.$key),
                text: $text,
            }
        };
    }
    let mut rows = vec![
        row!(succeeded, |_, s| s.outcomes.succeeded.to_string()),
        row!(handled, |_, s| s.outcomes.handled.to_string()),
        row!(compensated, |_, s| s.outcomes.compensated.to_string()),
        row!(unhandled, |_, s| unhandled(s).to_string()),
        row!(inconsistent, |_, s| s.outcomes.inconsistent.to_string()),
        row!(stalled, |_, s| s.outcomes.stalled.to_string()),
    ];
    if real {
        rows.extend([
            row!(p50_real, |_, s| s.latency_ms.p50.to_string()),
            row!(p95_real, |_, s| s.latency_ms.p95.to_string()),
            row!(p99_real, |_, s| s.latency_ms.p99.to_string()),
            row!(calls, |_, s| s.service_calls.to_string()),
            row!(call_ms, |l, s| td_string!(
                l,
                report.row.call_ms_value,
                p50 = s.call_ms.p50,
                p95 = s.call_ms.p95
            )
            .to_string()),
        ]);
    } else {
        rows.extend([
            row!(p50, |_, s| s.latency_ms.p50.to_string()),
            row!(p95, |_, s| s.latency_ms.p95.to_string()),
            row!(p99, |_, s| s.latency_ms.p99.to_string()),
        ]);
    }
    rows.extend([
        row!(commands, |_, s| s.messages.commands.to_string()),
        row!(replies, |_, s| s.messages.replies.to_string()),
        row!(events, |_, s| s.messages.events.to_string()),
        row!(deliveries, |_, s| s.messages.deliveries.to_string()),
        row!(queries, |_, s| s.messages.queries.to_string()),
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
        row!(rule_holders, |l, s| td_string!(
            l,
            report.row.rule_holders_value,
            rules = s.coupling.rules,
            holders = s.coupling.rule_holders
        )
        .to_string()),
        row!(watchdogs, |_, s| s.coupling.watchdogs.to_string()),
        row!(places, |_, s| format!("{:.1}", s.visibility.state_places)),
        row!(logs, |_, s| format!("{:.1}", s.visibility.logs_to_read)),
        row!(chain, |_, s| s.visibility.longest_chain.to_string()),
    ]);
    rows
}

/// A fail-matrix cell's outcome in `locale`'s words.
pub fn outcome_text(l: Locale, outcome: LabOutcome) -> &'static str {
    outcome.words(l)
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
    let reading = compare_reading(
        l,
        &result.styles,
        &batch.faults,
        batch.runs,
        batch.message_ms,
        result.real.as_ref(),
    );
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
    out.push_str("</ul>");
    compare_charts(
        &mut out,
        l,
        &result.styles,
        batch.runs,
        result.real.is_some(),
    );
    let _ = write!(
        out,
        "<h2>{}</h2><table class=\"compare\" aria-label=\"{}\">",
        td_string!(l, report.side_by_side),
        td_string!(l, report.comparison)
    );
    out.push_str(&headers(l, ""));
    out.push_str("<tbody>");
    for row in rows(result.real.is_some()) {
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

/// `value` rounded up to a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of
/// ten): an axis's end that reads well and leaves little of the chart empty.
fn axis_end(value: f64) -> f64 {
    if value <= 1.0 {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|end| *end >= value)
        .unwrap_or(10.0 * power)
}

/// A number as an axis or a bar says it: whole when it is, else one decimal.
fn amount(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// One part of a style's bar: its class (its colour), its value and what it is.
struct Part {
    class: &'static str,
    value: f64,
    label: &'static str,
}

/// A horizontal bar chart with a bar per style, every style on one axis (0 to `end`, with
/// the unit): the same length is the same number. `stacked` parts follow one another (a
/// whole split in kinds); otherwise each starts at 0, the largest drawn first (a median
/// inside its p95). Each bar says its figures in words too, for the eye and for a reader.
fn bar_chart(
    out: &mut String,
    title: &str,
    unit: &str,
    styles: &[(String, Vec<Part>)],
    stacked: bool,
) {
    const LABEL: f64 = 96.0;
    const WIDTH: f64 = 250.0;
    const ROW: f64 = 26.0;
    const BAR: f64 = 12.0;
    const TOP: f64 = 18.0;
    let total = |parts: &[Part]| -> f64 {
        if stacked {
            parts.iter().map(|p| p.value).sum()
        } else {
            parts.iter().map(|p| p.value).fold(0.0, f64::max)
        }
    };
    let end = axis_end(styles.iter().map(|(_, p)| total(p)).fold(0.0, f64::max));
    let height = TOP + ROW * styles.len() as f64 + 16.0;
    let x = |v: f64| LABEL + v / end * WIDTH;
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"{}\">\
         <text class=\"title\" x=\"0\" y=\"11\">{}</text>",
        LABEL + WIDTH + 12.0,
        escape(title),
        escape(title)
    );
    for (i, (style, parts)) in styles.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let said = parts
            .iter()
            .map(|p| format!("{} {}", p.label, amount(p.value)))
            .collect::<Vec<_>>()
            .join(" · ");
        let _ = write!(
            out,
            "<g class=\"bar\" role=\"img\" aria-label=\"{style}: {said}{unit}\"><title>{style}: {said}{unit}</title>\
             <text x=\"0\" y=\"{}\">{style}</text>",
            y + BAR - 2.0,
            style = escape(style),
            said = escape(&said),
            unit = escape(unit),
        );
        let mut drawn: Vec<&Part> = parts.iter().collect();
        if !stacked {
            drawn.sort_by(|a, b| b.value.total_cmp(&a.value));
        }
        let mut from = 0.0;
        for p in drawn {
            let start = if stacked { from } else { 0.0 };
            if p.value > 0.0 {
                let _ = write!(
                    out,
                    "<rect class=\"{}\" x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"{BAR}\"></rect>",
                    p.class,
                    x(start),
                    x(start + p.value) - x(start)
                );
            }
            from += p.value;
        }
        let _ = write!(
            out,
            "<text class=\"said\" x=\"{LABEL}\" y=\"{}\">{}</text></g>",
            y + BAR + 10.0,
            escape(&said)
        );
    }
    let axis_y = TOP + ROW * styles.len() as f64;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LABEL}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"></line>\
         <text class=\"tick\" x=\"{LABEL}\" y=\"{}\">0</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}{}</text></svg></figure>",
        LABEL + WIDTH,
        axis_y + 11.0,
        LABEL + WIDTH / 2.0,
        axis_y + 11.0,
        amount(end / 2.0),
        LABEL + WIDTH,
        axis_y + 11.0,
        amount(end),
        escape(unit)
    );
}

/// The compare batch's figures drawn: outcomes, latency and messages per run, each chart
/// with the three styles on one axis. The table below has every figure; these show the
/// differences at a glance.
fn compare_charts(out: &mut String, l: Locale, styles: &[StyleFigures], runs: u32, real: bool) {
    let per_run = |n: u64| n as f64 / f64::from(runs.max(1));
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"charts\" role=\"group\" aria-label=\"{}\">",
        td_string!(l, report.charts),
        td_string!(l, report.charts)
    );
    // Each style's bar: its name, and its parts from its figures.
    let bars = |parts: &dyn Fn(&StyleFigures) -> Vec<Part>| -> Vec<(String, Vec<Part>)> {
        styles
            .iter()
            .map(|s| (s.style.words(l).to_string(), parts(s)))
            .collect()
    };
    let part = |class, value, label| Part {
        class,
        value,
        label,
    };
    bar_chart(
        out,
        &td_string!(l, report.chart_outcomes, runs = runs).to_string(),
        "",
        &bars(&|s| {
            vec![
                part(
                    "ok",
                    f64::from(s.outcomes.succeeded),
                    td_string!(l, report.part.succeeded),
                ),
                part(
                    "handled",
                    f64::from(s.outcomes.handled + s.outcomes.compensated),
                    td_string!(l, report.part.handled),
                ),
                part(
                    "bad",
                    f64::from(unhandled(s)),
                    td_string!(l, report.part.unhandled),
                ),
            ]
        }),
        true,
    );
    bar_chart(
        out,
        if real {
            td_string!(l, report.chart_latency_real)
        } else {
            td_string!(l, report.chart_latency)
        },
        " ms",
        &bars(&|s| {
            vec![
                part("median", s.latency_ms.p50 as f64, "p50"),
                part("tail", s.latency_ms.p95 as f64, "p95"),
            ]
        }),
        false,
    );
    bar_chart(
        out,
        td_string!(l, report.chart_messages),
        "",
        &bars(&|s| {
            vec![
                part(
                    "command",
                    per_run(s.messages.commands),
                    td_string!(l, report.part.commands),
                ),
                part(
                    "reply",
                    per_run(s.messages.replies),
                    td_string!(l, report.part.replies),
                ),
                part(
                    "event",
                    per_run(s.messages.deliveries),
                    td_string!(l, report.part.deliveries),
                ),
            ]
        }),
        true,
    );
    out.push_str("</div>");
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

/// A value axis's end as its label says it: milliseconds from a second on in seconds
/// ("2 s", not "2000 ms", which would not fit), anything else as it is, with its unit.
fn axis_label(end: f64, unit: &str) -> String {
    if unit == " ms" && end >= 1000.0 {
        format!("{} s", amount(end / 1000.0))
    } else {
        format!("{}{unit}", amount(end))
    }
}

/// A line chart of one figure over the seconds of a load test, on the axes every style's
/// chart of that figure shares: value 0 to `end` (with the unit), time 0 to `span` seconds.
fn series(
    out: &mut String,
    l: Locale,
    series: &Series,
    seconds: &[LoadSecond],
    end: f64,
    span: usize,
) {
    const W: f64 = 250.0;
    const H: f64 = 60.0;
    /// Room for the value axis's labels, left, and the time axis's, below.
    const LEFT: f64 = 52.0;
    const BELOW: f64 = 14.0;
    let end = axis_end(end);
    let step = W / span.max(1) as f64;
    // Second n's figure is drawn at the end of that second: a curve of n seconds reaches
    // n on the shared time axis.
    let points: Vec<String> = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{:.1},{:.1}",
                LEFT + (i + 1) as f64 * step,
                H - (series.value)(s) / end * H
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
         <text class=\"tick\" x=\"{}\" y=\"8\" text-anchor=\"end\">{}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{H}\" text-anchor=\"end\">0</text>\
         <text class=\"tick\" x=\"{LEFT}\" y=\"{}\">0 {seconds_unit}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{span} {seconds_unit}</text>\
         <polyline points=\"{}\"></polyline></svg>",
        LEFT + W + 4.0,
        H + 16.0 + BELOW,
        LEFT + W,
        LEFT - 3.0,
        axis_label(end, series.unit),
        LEFT - 3.0,
        H + BELOW - 2.0,
        LEFT + W,
        H + BELOW - 2.0,
        points.join(" "),
    );
}

/// A load test's state, its reading (the headline first), then the per-style curves (one
/// pair of axes per figure across the styles), in `l`'s words.
pub fn load_html(l: Locale, test: &LoadTest) -> String {
    let state = crate::ui::common::words::batch_state(l, test.state);
    let mut out = format!(
        "<p class=\"batch-state\">{}</p><ul class=\"reading\" aria-label=\"{}\">",
        td_string!(l, report.load_test, state = state),
        td_string!(l, report.load_reading)
    );
    if !test.reading.is_empty() {
        let reading = load_reading(l, &test.styles, test.request.rate);
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
    }
    let _ = write!(
        out,
        "</ul><p class=\"hint\">{}</p><div class=\"load-styles\">",
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
    let span = test
        .styles
        .iter()
        .map(|s| s.seconds.len())
        .max()
        .unwrap_or(1);
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
            series(&mut out, l, figure, &s.seconds, *max, span);
        }
        out.push_str("</figure>");
    }
    out.push_str("</div>");
    out
}
