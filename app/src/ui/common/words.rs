//! The domain's words in the page's language: a run's status and a step's state as the
//! status line, the runs list, the canvas and the timeline say them (the API keeps its
//! English `as_str` codes).

use crate::i18n::Locale;
use crate::model::lab::BatchState;
use crate::model::StepState;

pub use crate::model::log::status_words as run_status;

/// A step's state in `locale`'s words.
pub fn step_state(locale: Locale, state: StepState) -> &'static str {
    match state {
        StepState::Pending => td_string!(locale, state.pending),
        StepState::Waiting => td_string!(locale, state.waiting),
        StepState::Running => td_string!(locale, state.running),
        StepState::Retrying => td_string!(locale, state.retrying),
        StepState::Succeeded => td_string!(locale, state.succeeded),
        StepState::Failed => td_string!(locale, state.failed),
        StepState::Compensating => td_string!(locale, state.compensating),
        StepState::Compensated => td_string!(locale, state.compensated),
        StepState::Skipped => td_string!(locale, state.skipped),
        StepState::Cancelled => td_string!(locale, state.cancelled),
    }
}

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
    match run {
        Some(run) => format!("/?workflow={workflow}&run={run}"),
        None => format!("/?workflow={workflow}"),
    }
}
