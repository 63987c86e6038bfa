//! The fault form: one service's fault, the bus's, and an orchestrator crash, as typed —
//! used by the lab's compare and by the editor's run controls — and the two field helpers
//! the forms share.

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::model::faults::{BusFault, OrchestratorCrash, ServiceFault};
use crate::model::Faults;
use crate::ui::common::language::{use_lang, Lang, Words};

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
    pub fn faults(&self, locale: Locale) -> Result<Faults, String> {
        let mut faults = Faults::default();
        let service = self.service.get_untracked();
        if !service.is_empty() {
            let percent = |label: &str, text: &str| -> Result<Option<f64>, String> {
                Ok(percent(locale, label, text)?.map(|p| p / 100.0))
            };
            let fault = ServiceFault {
                down: self.down.get_untracked(),
                slow: number(
                    locale,
                    td_string!(locale, faults.slow),
                    &self.slow.get_untracked(),
                )?,
                flaky: percent(
                    td_string!(locale, faults.flaky),
                    &self.flaky.get_untracked(),
                )?,
            };
            if fault != ServiceFault::default() {
                faults.services.insert(service, fault);
            }
        }
        let rate = |label: &str, text: &str| -> Result<f64, String> {
            Ok(percent(locale, label, text)?.unwrap_or(0.0) / 100.0)
        };
        faults.bus = BusFault {
            delay_ms: number(
                locale,
                td_string!(locale, faults.bus_delay),
                &self.delay.get_untracked(),
            )?
            .unwrap_or(0),
            duplicate: rate(
                td_string!(locale, faults.duplicate),
                &self.duplicate.get_untracked(),
            )?,
            drop: rate(td_string!(locale, faults.drop), &self.drop.get_untracked())?,
        };
        if let Some(for_ms) = number(
            locale,
            td_string!(locale, faults.crash_for),
            &self.crash_for.get_untracked(),
        )? {
            faults.orchestrator = Some(OrchestratorCrash {
                at_ms: number(
                    locale,
                    td_string!(locale, faults.crash_at),
                    &self.crash_at.get_untracked(),
                )?
                .unwrap_or(0),
                for_ms,
                standby_lease_ms: number(
                    locale,
                    td_string!(locale, faults.standby),
                    &self.standby.get_untracked(),
                )?,
            });
        }
        match faults.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(faults),
        }
    }
}

/// What is wrong with a field's text, if anything: (language, the field's label, the text).
type Check = fn(Locale, &str, &str) -> Option<String>;

/// A labelled text field (its hint as placeholder).
pub fn text_field(
    lang: Lang,
    label: Words,
    signal: RwSignal<String>,
    hint: Words,
) -> impl IntoView {
    field(lang, label, signal, hint, None)
}

/// A labelled field of a number in `unit`s that says at once, under itself, what is wrong
/// with what was typed (in the units shown: "between 0 and 100 %"), and marks itself invalid.
pub fn checked_field(
    lang: Lang,
    label: Words,
    signal: RwSignal<String>,
    hint: Words,
    check: Check,
) -> impl IntoView {
    field(lang, label, signal, hint, Some(check))
}

/// A labelled field, and with a `check` what is wrong with what was typed, said under it.
fn field(
    lang: Lang,
    label: Words,
    signal: RwSignal<String>,
    hint: Words,
    check: Option<Check>,
) -> impl IntoView {
    let problem =
        move || check.and_then(|check| check(lang.get(), label(lang.get()), &signal.get()));
    static FIELDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let id = check.map(|_| {
        format!(
            "field-problem-{}",
            FIELDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    });
    view! {
        <label>
            <span>{move || label(lang.get())}</span>
            <input
                aria-label=move || label(lang.get())
                placeholder=move || hint(lang.get())
                aria-invalid=move || problem().is_some().then_some("true")
                aria-describedby=id.clone()
                prop:value=move || signal.get()
                on:input=move |ev| signal.set(event_target_value(&ev))
            />
            {id.map(|id| view! { <span class="field-problem" id=id role="alert">{problem}</span> })}
        </label>
    }
}

/// What is wrong with a percentage as typed, if anything.
fn percent_problem(locale: Locale, label: &str, text: &str) -> Option<String> {
    percent(locale, label, text).err()
}

/// What is wrong with a number of milliseconds as typed, if anything.
fn ms_problem(locale: Locale, label: &str, text: &str) -> Option<String> {
    number::<u64>(locale, label, text).err()
}

/// What is wrong with a factor (how many times slower) as typed, if anything.
fn factor_problem(locale: Locale, label: &str, text: &str) -> Option<String> {
    number::<f64>(locale, label, text).err()
}

/// An optional percentage field: empty is `None`; 0 to 100, said in percent when not.
pub fn percent(locale: Locale, label: &str, text: &str) -> Result<Option<f64>, String> {
    match number::<f64>(locale, label, text)? {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(td_string!(
            locale,
            faults.percent_range,
            label = label,
            value = text.trim()
        )),
        other => Ok(other),
    }
}

/// The fault fields; `services` are the workflow's services to choose from.
#[component]
pub fn FaultFields(form: FaultForm, services: Signal<Vec<String>>) -> impl IntoView {
    let lang = use_lang();
    let zero: Words = |_| "0";
    let one: Words = |_| "1";
    view! {
        <fieldset>
            <legend>{tr!(lang, faults.break_service)}</legend>
            <label>
                <span>{tr!(lang, faults.service)}</span>
                <select
                    aria-label=tr!(lang, faults.service)
                    prop:value=move || form.service.get()
                    on:change=move |ev| form.service.set(event_target_value(&ev))
                >
                    <option value="">{tr!(lang, faults.none)}</option>
                    <For each=move || services.get() key=|s| s.clone() let:service>
                        <option value=service.clone()>{service.clone()}</option>
                    </For>
                </select>
            </label>
            <label class="check">
                <input
                    type="checkbox"
                    aria-label=tr!(lang, faults.down)
                    prop:checked=move || form.down.get()
                    on:change=move |ev| form.down.set(event_target_checked(&ev))
                />
                <span>{tr!(lang, faults.down)}</span>
            </label>
            {checked_field(lang, |l| td_string!(l, faults.slow), form.slow, one, factor_problem)}
            {checked_field(lang, |l| td_string!(l, faults.flaky), form.flaky, zero, percent_problem)}
        </fieldset>
        <fieldset>
            <legend>{tr!(lang, faults.bus)}</legend>
            {checked_field(lang, |l| td_string!(l, faults.bus_delay), form.delay, |l| td_string!(l, faults.hint_ms), ms_problem)}
            {checked_field(lang, |l| td_string!(l, faults.duplicate), form.duplicate, zero, percent_problem)}
            {checked_field(lang, |l| td_string!(l, faults.drop), form.drop, zero, percent_problem)}
        </fieldset>
        <fieldset>
            <legend>{tr!(lang, faults.crash)}</legend>
            {checked_field(lang, |l| td_string!(l, faults.crash_at), form.crash_at, |l| td_string!(l, faults.hint_ms), ms_problem)}
            {checked_field(lang, |l| td_string!(l, faults.crash_for), form.crash_for, |l| td_string!(l, faults.hint_no_crash), ms_problem)}
            {checked_field(lang, |l| td_string!(l, faults.standby), form.standby, |l| td_string!(l, faults.hint_no_standby), ms_problem)}
        </fieldset>
    }
    .into_any()
}

/// An optional number field: empty is `None`.
pub fn number<T: std::str::FromStr>(
    locale: Locale,
    label: &str,
    text: &str,
) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        td_string!(
            locale,
            faults.not_number,
            label = label,
            text = format!("{text:?}")
        )
        .to_string()
    })
}
