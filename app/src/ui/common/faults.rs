//! The fault form: one service's fault, the bus's, and an orchestrator crash, as typed —
//! used by the lab's compare and by the editor's run controls — and the two field helpers
//! the forms share.

use leptos::prelude::*;

use crate::model::faults::{BusFault, OrchestratorCrash, ServiceFault};
use crate::model::Faults;

/// Fault fields as typed: one service's fault, the bus's, and an orchestrator crash.
#[derive(Clone, Copy)]
pub struct FaultForm {
    service: RwSignal<String>,
    down: RwSignal<bool>,
    slow: RwSignal<String>,
    flaky: RwSignal<String>,
    delay: RwSignal<String>,
    duplicate: RwSignal<String>,
    drop: RwSignal<String>,
    crash_at: RwSignal<String>,
    crash_for: RwSignal<String>,
    standby: RwSignal<String>,
}

impl Default for FaultForm {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultForm {
    pub fn new() -> Self {
        FaultForm {
            service: RwSignal::new(String::new()),
            down: RwSignal::new(false),
            slow: RwSignal::new(String::new()),
            flaky: RwSignal::new(String::new()),
            delay: RwSignal::new(String::new()),
            duplicate: RwSignal::new(String::new()),
            drop: RwSignal::new(String::new()),
            crash_at: RwSignal::new(String::new()),
            crash_for: RwSignal::new(String::new()),
            standby: RwSignal::new(String::new()),
        }
    }

    /// The faults the fields describe (empty fields: nothing broken), or the first wrong
    /// field and why.
    pub fn faults(&self) -> Result<Faults, String> {
        let mut faults = Faults::default();
        let service = self.service.get_untracked();
        if !service.is_empty() {
            let percent = |label: &str, text: &str| -> Result<Option<f64>, String> {
                Ok(number::<f64>(label, text)?.map(|p| p / 100.0))
            };
            let fault = ServiceFault {
                down: self.down.get_untracked(),
                slow: number("Slow ×", &self.slow.get_untracked())?,
                flaky: percent("Flaky %", &self.flaky.get_untracked())?,
            };
            if fault != ServiceFault::default() {
                faults.services.insert(service, fault);
            }
        }
        let rate = |label: &str, text: &str| -> Result<f64, String> {
            Ok(number::<f64>(label, text)?.unwrap_or(0.0) / 100.0)
        };
        faults.bus = BusFault {
            delay_ms: number("Bus delay", &self.delay.get_untracked())?.unwrap_or(0),
            duplicate: rate("Duplicate %", &self.duplicate.get_untracked())?,
            drop: rate("Drop %", &self.drop.get_untracked())?,
        };
        if let Some(for_ms) = number("Crash for", &self.crash_for.get_untracked())? {
            faults.orchestrator = Some(OrchestratorCrash {
                at_ms: number("Crash at", &self.crash_at.get_untracked())?.unwrap_or(0),
                for_ms,
                standby_lease_ms: number("Standby lease", &self.standby.get_untracked())?,
            });
        }
        match faults.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(faults),
        }
    }
}

/// A labelled text field bound to a signal.
pub fn text_field(
    label: &'static str,
    signal: RwSignal<String>,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            <input
                aria-label=label
                placeholder=hint
                prop:value=move || signal.get()
                on:input=move |ev| signal.set(event_target_value(&ev))
            />
        </label>
    }
}

/// The fault fields; `services` are the workflow's services to choose from.
#[component]
pub fn FaultFields(form: FaultForm, services: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <fieldset>
            <legend>"Break a service"</legend>
            <label>
                <span>"Service"</span>
                <select
                    aria-label="Service"
                    prop:value=move || form.service.get()
                    on:change=move |ev| form.service.set(event_target_value(&ev))
                >
                    <option value="">"(none)"</option>
                    <For each=move || services.get() key=|s| s.clone() let:service>
                        <option value=service.clone()>{service.clone()}</option>
                    </For>
                </select>
            </label>
            <label class="check">
                <input
                    type="checkbox"
                    aria-label="Down"
                    prop:checked=move || form.down.get()
                    on:change=move |ev| form.down.set(event_target_checked(&ev))
                />
                <span>"Down"</span>
            </label>
            {text_field("Slow ×", form.slow, "1")}
            {text_field("Flaky %", form.flaky, "0")}
        </fieldset>
        <fieldset>
            <legend>"Bus"</legend>
            {text_field("Bus delay", form.delay, "0 ms")}
            {text_field("Duplicate %", form.duplicate, "0")}
            {text_field("Drop %", form.drop, "0")}
        </fieldset>
        <fieldset>
            <legend>"Orchestrator crash"</legend>
            {text_field("Crash at", form.crash_at, "0 ms")}
            {text_field("Crash for", form.crash_for, "no crash")}
            {text_field("Standby lease", form.standby, "no standby")}
        </fieldset>
    }
    .into_any()
}

/// An optional number field: empty is `None`.
pub fn number<T: std::str::FromStr>(label: &str, text: &str) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("{label}: {text:?} is not a number"))
}
