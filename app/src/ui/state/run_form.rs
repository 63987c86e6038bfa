//! The next run's settings as typed: input, seed, speed and faults — and what they mean
//! once parsed, or which field is wrong and why.

use leptos::prelude::*;

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
        self.input.with(|t| parse_run_input(t).is_ok()) && self.seed.with(|t| parse_seed(t).is_ok())
    }

    /// The request the form describes, or which field is wrong and why.
    pub fn request(&self) -> Result<RunRequest, String> {
        let input = parse_run_input(&self.input.get_untracked())
            .map_err(|message| format!("run input: {message}"))?;
        let seed =
            parse_seed(&self.seed.get_untracked()).map_err(|message| format!("seed: {message}"))?;
        let faults = self
            .faults
            .faults()
            .map_err(|message| format!("faults: {message}"))?;
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
pub fn parse_run_input(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("the input must be a JSON object, e.g. {\"card\": \"expired\"}".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// The run seed as typed: empty for a random one, else a whole number up to [`MAX_SEED`].
pub fn parse_seed(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(seed) if seed <= MAX_SEED => Ok(Some(seed)),
        _ => Err(format!("a whole number from 0 to {MAX_SEED}, got {text:?}")),
    }
}
