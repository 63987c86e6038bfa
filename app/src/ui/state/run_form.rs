//! The next run's settings as typed: input, seed, speed and faults — and what they mean
//! once parsed, or which field is wrong and why.

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::model::api::{RunRequest, MAX_SEED};
use crate::ui::common::faults::FaultForm;

/// The speeds a run can be played at (simulated time ÷ wall time).
pub const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0];

/// The run form slice. The inspector's run controls own it; the toolbar's Run reads it.
#[derive(Clone, Copy)]
pub struct RunForm {
    /// The next run's input, as the user typed it (a JSON object).
    pub input: RwSignal<String>,
    /// The next run's seed as typed (empty: random).
    pub seed: RwSignal<String>,
    pub speed: RwSignal<f64>,
    /// Faults the next run starts with (and that can be applied to the live run).
    pub faults: FaultForm,
}

impl RunForm {
    pub fn new() -> Self {
        RunForm {
            input: RwSignal::new("{}".to_string()),
            seed: RwSignal::new(String::new()),
            speed: RwSignal::new(1.0),
            faults: FaultForm::new(),
        }
    }

    /// Whether the input and seed as typed are acceptable (the Run button's state).
    pub fn valid(&self) -> bool {
        self.input.with(|t| parse_run_input(Locale::en, t).is_ok())
            && self.seed.with(|t| parse_seed(Locale::en, t).is_ok())
    }

    /// The request the form describes, or which field is wrong and why.
    pub fn request(&self, locale: Locale) -> Result<RunRequest, String> {
        let input = parse_run_input(locale, &self.input.get_untracked())
            .map_err(|message| td_string!(locale, run_form.input, message = message).to_string())?;
        let seed = parse_seed(locale, &self.seed.get_untracked())
            .map_err(|message| td_string!(locale, run_form.seed, message = message).to_string())?;
        let faults = self.faults.faults(locale).map_err(|message| {
            td_string!(locale, run_form.faults, message = message).to_string()
        })?;
        Ok(RunRequest {
            input: Some(input),
            seed,
            speed: Some(self.speed.get_untracked()),
            faults: (!faults.is_none()).then_some(faults),
        })
    }
}

impl Default for RunForm {
    fn default() -> Self {
        Self::new()
    }
}

/// The run input as JSON, or why it is refused.
pub fn parse_run_input(locale: Locale, text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(td_string!(locale, run_form.not_object).into()),
        Err(e) => Err(td_string!(locale, run_form.not_json, error = e).to_string()),
    }
}

/// The run seed as typed: empty for a random one, else a whole number up to [`MAX_SEED`].
pub fn parse_seed(locale: Locale, text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(seed) if seed <= MAX_SEED => Ok(Some(seed)),
        _ => Err(td_string!(
            locale,
            run_form.seed_range,
            max = MAX_SEED,
            text = format!("{text:?}")
        )
        .to_string()),
    }
}
