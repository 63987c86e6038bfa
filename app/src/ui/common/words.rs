//! The domain's words in the page's language: a run's status and a step's state as the
//! status line, the runs list, the canvas and the timeline say them (the API keeps its
//! English `as_str` codes).

use crate::i18n::Locale;
use crate::model::lab::BatchState;

pub use crate::model::log::state_words as step_state;
pub use crate::model::log::status_words as run_status;

/// A lab batch's or load test's state in `locale`'s words.
pub fn batch_state(locale: Locale, state: BatchState) -> &'static str {
    match state {
        BatchState::Running => td_string!(locale, lab.state_running),
        BatchState::Done => td_string!(locale, lab.state_done),
        BatchState::Cancelled => td_string!(locale, lab.state_cancelled),
    }
}

/// The address of the editor on a workflow (and one of its runs): what a link to a run —
/// a child's from its parent, a parent's from its child — points at.
pub fn editor_url(workflow: &str, run: Option<&str>) -> String {
    editor_url_at(workflow, run, None)
}

/// [`editor_url`], the canvas pointing at `step` as where the run went wrong (a
/// counterexample opened as a run).
pub fn editor_url_at(workflow: &str, run: Option<&str>, step: Option<&str>) -> String {
    let at = step
        .map(|s| format!("&at={}", url_encoded(s)))
        .unwrap_or_default();
    format!("{}{at}", editor_url_plain(workflow, run))
}

fn url_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn editor_url_plain(workflow: &str, run: Option<&str>) -> String {
    match run {
        Some(run) => format!("/?workflow={workflow}&run={run}"),
        None => format!("/?workflow={workflow}"),
    }
}
