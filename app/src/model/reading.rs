//! The lab's findings in words: a compare batch's reading — the headline finding first,
//! then what each style's figures say — and a load test's. The API sends them in English
//! (`reading`); the lab page says them in the page's language from the same figures.

use super::faults::Faults;
use super::lab::{LabStyle, LoadStyle, RealRuns, StyleFigures};
use crate::i18n::Locale;

/// A compare batch's reading: its headline finding, and the other findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub headline: Option<String>,
    pub lines: Vec<String>,
}

impl Reading {
    /// As the API sends it: the headline first, marked "Headline: ", then the rest.
    pub fn into_lines(self, locale: Locale) -> Vec<String> {
        let prefix = td_string!(locale, reading.headline_prefix);
        self.headline
            .map(|h| format!("{prefix}{h}"))
            .into_iter()
            .chain(self.lines)
            .collect()
    }
}

fn bad(s: &StyleFigures) -> u32 {
    s.outcomes.unhandled + s.outcomes.inconsistent + s.outcomes.stalled
}

/// The one finding to read first: a failure one style left unhandled and another did not;
/// else what an orchestrator outage cost; else a clear latency gap; else where a run's
/// story must be read from.
fn headline(l: Locale, styles: &[StyleFigures], faults: &Faults, runs: u32) -> Option<String> {
    // The two pure styles named first ("as drawn" is often one of them): `min_by_key` keeps
    // the first of equals, `max_by_key` the last.
    let ordered: Vec<&StyleFigures> = [
        LabStyle::Orchestration,
        LabStyle::Choreography,
        LabStyle::AsDrawn,
    ]
    .iter()
    .filter_map(|&style| styles.iter().find(|s| s.style == style))
    .collect();
    if let (Some(worst), Some(best)) = (
        ordered.iter().rev().max_by_key(|s| bad(s)),
        ordered.iter().min_by_key(|s| bad(s)),
    ) {
        if bad(worst) > 0 && bad(best) == 0 {
            return Some(
                td_string!(
                    l,
                    reading.h_failures,
                    best = best.style.words(l),
                    worst = worst.style.words(l),
                    bad = bad(worst),
                    runs = runs
                )
                .to_string(),
            );
        }
    }
    let by = |style: LabStyle| styles.iter().find(|s| s.style == style);
    if let (Some(_), Some(o), Some(c)) = (
        &faults.orchestrator,
        by(LabStyle::Orchestration),
        by(LabStyle::Choreography),
    ) {
        if o.latency_ms.p50 > c.latency_ms.p50 {
            return Some(
                td_string!(
                    l,
                    reading.h_outage,
                    o = o.latency_ms.p50,
                    c = c.latency_ms.p50
                )
                .to_string(),
            );
        }
    }
    if let (Some(fast), Some(slow)) = (
        styles.iter().min_by_key(|s| s.latency_ms.p95),
        styles.iter().max_by_key(|s| s.latency_ms.p95),
    ) {
        if slow.latency_ms.p95 * 2 >= fast.latency_ms.p95 * 3
            && slow.latency_ms.p95 > fast.latency_ms.p95
        {
            return Some(
                td_string!(
                    l,
                    reading.h_latency,
                    slow_ms = slow.latency_ms.p95,
                    slow = slow.style.words(l),
                    fast_ms = fast.latency_ms.p95,
                    fast = fast.style.words(l)
                )
                .to_string(),
            );
        }
    }
    let o = by(LabStyle::Orchestration)?;
    let c = by(LabStyle::Choreography)?;
    Some(
        td_string!(
            l,
            reading.h_visibility,
            o_logs = format!("{:.1}", o.visibility.logs_to_read),
            c_logs = format!("{:.1}", c.visibility.logs_to_read),
            knows = o.coupling.orchestrator_knows,
            contracts = c.coupling.event_contracts
        )
        .to_string(),
    )
}

/// A few sentences naming the trade-offs the figures show, the headline finding apart.
/// `message_ms`: what the orchestrator spent on each message (0: the hop cost not
/// modelled, and the reading says so).
pub fn compare_reading(
    l: Locale,
    styles: &[StyleFigures],
    faults: &Faults,
    runs: u32,
    message_ms: u64,
    real: Option<&RealRuns>,
) -> Reading {
    let mut lines: Vec<String> = real
        .map(|real| real_lines(l, real, styles, runs))
        .unwrap_or_default();
    for s in styles {
        let name = s.style.words(l);
        if bad(s) > 0 {
            let mut line = td_string!(
                l,
                reading.unhandled,
                style = name,
                bad = bad(s),
                runs = runs
            )
            .to_string();
            if s.outcomes.inconsistent > 0 {
                line += &td_string!(l, reading.inconsistent, count = s.outcomes.inconsistent)
                    .to_string();
            }
            if s.outcomes.stalled > 0 {
                line += &td_string!(l, reading.stalled, count = s.outcomes.stalled).to_string();
            }
            // The engine's diagnoses are English: an example only in English.
            if let Some(d) = s.example_diagnosis.as_ref().filter(|_| l == Locale::en) {
                line += &td_string!(l, reading.example, diagnosis = d).to_string();
            }
            lines.push(line);
        } else if s.outcomes.handled + s.outcomes.compensated > 0 {
            lines.push(
                td_string!(
                    l,
                    reading.handled,
                    style = name,
                    runs = runs,
                    routes = s.outcomes.handled,
                    sagas = s.outcomes.compensated
                )
                .to_string(),
            );
        }
    }
    for s in styles {
        let name = s.style.words(l);
        if s.orchestrator_messages > 0 {
            lines.push(
                td_string!(
                    l,
                    reading.central,
                    style = name,
                    share = format!("{:.0}", s.orchestrator_share * 100.0),
                    count = s.orchestrator_messages,
                    knows = s.coupling.orchestrator_knows
                )
                .to_string(),
            );
        } else {
            lines.push(
                td_string!(
                    l,
                    reading.no_center,
                    style = name,
                    contracts = s.coupling.event_contracts
                )
                .to_string(),
            );
        }
    }
    let logs = |s: &&StyleFigures| s.visibility.logs_to_read;
    if let (Some(clear), Some(scattered)) = (
        styles.iter().min_by(|a, b| logs(a).total_cmp(&logs(b))),
        styles.iter().max_by(|a, b| logs(a).total_cmp(&logs(b))),
    ) {
        if scattered.visibility.logs_to_read > clear.visibility.logs_to_read {
            lines.push(
                td_string!(
                    l,
                    reading.visibility,
                    clear = clear.style.words(l),
                    clear_logs = format!("{:.1}", clear.visibility.logs_to_read),
                    clear_places = format!("{:.1}", clear.visibility.state_places),
                    scattered = scattered.style.words(l),
                    scattered_logs = format!("{:.1}", scattered.visibility.logs_to_read),
                    scattered_places = format!("{:.1}", scattered.visibility.state_places),
                    chain = scattered.visibility.longest_chain
                )
                .to_string(),
            );
        }
    }
    if let (Some(fast), Some(slow)) = (
        styles.iter().min_by_key(|s| s.latency_ms.p95),
        styles.iter().max_by_key(|s| s.latency_ms.p95),
    ) {
        if fast.latency_ms.p95 != slow.latency_ms.p95 {
            lines.push(
                td_string!(
                    l,
                    reading.p95,
                    fast = fast.style.words(l),
                    fast_ms = fast.latency_ms.p95,
                    slow = slow.style.words(l),
                    slow_ms = slow.latency_ms.p95
                )
                .to_string(),
            );
        }
    }
    if let Some(hop) = hop_line(l, styles, runs, message_ms) {
        lines.push(hop);
    }
    if styles.iter().any(|s| s.runs_with_failure > 0) {
        let list = styles
            .iter()
            .map(|s| {
                td_string!(
                    l,
                    reading.blast_item,
                    style = s.style.words(l),
                    mean = format!("{:.1}", s.blast_radius_mean)
                )
                .to_string()
            })
            .collect::<Vec<_>>()
            .join(td_string!(l, story.list_separator));
        lines.push(td_string!(l, reading.blast, list = list).to_string());
    }
    if let Some(crash) = &faults.orchestrator {
        lines.push(match crash.standby_lease_ms {
            Some(lease) if lease < crash.for_ms => {
                td_string!(l, reading.standby, ms = crash.for_ms, lease = lease).to_string()
            }
            _ => td_string!(l, reading.crash, ms = crash.for_ms).to_string(),
        });
    }
    for s in styles {
        for w in &s.lost {
            lines.push(
                td_string!(l, reading.lost, style = s.style.words(l), what = w.words(l))
                    .to_string(),
            );
        }
    }
    Reading {
        headline: headline(l, styles, faults, runs),
        lines,
    }
}

/// A batch of real runs: which services they called, and what the calls took per style.
fn real_lines(l: Locale, real: &RealRuns, styles: &[StyleFigures], runs: u32) -> Vec<String> {
    let steps = real
        .services
        .iter()
        .map(|s| s.label.as_str())
        .collect::<Vec<_>>()
        .join(td_string!(l, story.list_separator));
    let list = styles
        .iter()
        .map(|s| {
            td_string!(
                l,
                reading.real_calls_item,
                style = s.style.words(l),
                calls = format!("{:.1}", s.service_calls as f64 / f64::from(s.runs.max(1))),
                p50 = s.call_ms.p50,
                p95 = s.call_ms.p95
            )
            .to_string()
        })
        .collect::<Vec<_>>()
        .join(td_string!(l, story.list_separator));
    vec![
        td_string!(
            l,
            reading.real,
            runs = runs,
            count = real.services.len(),
            steps = steps
        )
        .to_string(),
        td_string!(l, reading.real_calls, list = list).to_string(),
    ]
}

/// The hop cost, modelled or not: with `message_ms`, what the replies through the
/// orchestrator cost each style's runs; without, that latency is the services' alone.
/// Nothing when no style has an orchestrator.
fn hop_line(l: Locale, styles: &[StyleFigures], runs: u32, message_ms: u64) -> Option<String> {
    if styles.iter().all(|s| s.orchestrator_messages == 0) {
        return None;
    }
    if message_ms == 0 {
        return Some(td_string!(l, reading.hop_none).to_string());
    }
    let list = styles
        .iter()
        .map(|s| {
            let replies = s.messages.replies as f64 / f64::from(runs.max(1));
            td_string!(
                l,
                reading.hop_item,
                style = s.style.words(l),
                replies = format!("{replies:.1}"),
                cost = format!("{:.0}", replies * message_ms as f64)
            )
            .to_string()
        })
        .collect::<Vec<_>>()
        .join(td_string!(l, story.list_separator));
    Some(td_string!(l, reading.hop, ms = message_ms, list = list).to_string())
}

/// Whether a style of a load test kept up with the rate it was given (90 % of it or more).
fn kept_up(s: &LoadStyle, rate: u32) -> bool {
    s.throughput >= f64::from(rate) * 0.9
}

/// The one finding to read before a load test's curves: which styles fell behind the rate
/// and which kept up; when all kept up (or none did), the p95 gap between them.
fn load_headline(l: Locale, styles: &[LoadStyle], rate: u32) -> Option<String> {
    let names = |keep: bool| {
        styles
            .iter()
            .filter(|s| kept_up(s, rate) == keep)
            .map(|s| s.style.words(l))
            .collect::<Vec<_>>()
            .join(td_string!(l, story.list_separator))
    };
    let (kept, behind) = (names(true), names(false));
    let fast = styles.iter().min_by_key(|s| s.latency_ms.p95)?;
    let slow = styles.iter().max_by_key(|s| s.latency_ms.p95)?;
    Some(if !kept.is_empty() && !behind.is_empty() {
        td_string!(
            l,
            reading.h_load_split,
            behind = behind,
            kept = kept,
            rate = rate
        )
        .to_string()
    } else {
        td_string!(
            l,
            reading.h_load_same,
            verdict = if kept.is_empty() {
                td_string!(l, reading.h_load_none)
            } else {
                td_string!(l, reading.h_load_all)
            },
            rate = rate,
            slow = slow.style.words(l),
            slow_ms = slow.latency_ms.p95,
            fast = fast.style.words(l),
            fast_ms = fast.latency_ms.p95
        )
        .to_string()
    })
}

/// What a load test's curves show, in words: the headline, then per style whether it kept
/// up with `rate`.
pub fn load_reading(l: Locale, styles: &[LoadStyle], rate: u32) -> Reading {
    Reading {
        headline: load_headline(l, styles, rate),
        lines: load_lines(l, styles, rate),
    }
}

fn load_lines(l: Locale, styles: &[LoadStyle], rate: u32) -> Vec<String> {
    styles
        .iter()
        .map(|s| {
            let first = s.seconds.first().map_or(0, |x| x.p95_ms);
            let last = s
                .seconds
                .iter()
                .rev()
                .find(|x| x.completed > 0)
                .map_or(0, |x| x.p95_ms);
            let verdict = if kept_up(s, rate) {
                td_string!(l, reading.kept_up)
            } else {
                td_string!(l, reading.fell_behind)
            };
            let waited = match s.peak_waiting {
                1 => td_string!(l, reading.waited1).to_string(),
                count => td_string!(l, reading.waited, count = count).to_string(),
            };
            td_string!(
                l,
                reading.load,
                style = s.style.words(l),
                completed = s.completed,
                started = s.started,
                throughput = format!("{:.0}", s.throughput),
                rate = rate,
                verdict = verdict,
                first = first,
                last = last,
                waited = waited
            )
            .to_string()
        })
        .collect()
}
