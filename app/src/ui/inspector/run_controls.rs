//! The next run's settings in the inspector: input (JSON), seed, speed, and the faults it
//! starts with — which "Apply to the live run" also sends to a running one.

use leptos::prelude::*;

use crate::model::api::{CrashRequest, FaultRequest};
use crate::model::Workflow;
use crate::ui::client;
use crate::ui::common::faults::FaultFields;
use crate::ui::common::language::use_lang;
use crate::ui::spawn_local;
use crate::ui::state::run_form::{parse_run_input, parse_seed, SPEEDS};
use crate::ui::state::{Document, Notice, RunForm, RunState};

/// The run form's fields.
#[component]
pub fn RunControls() -> impl IntoView {
    let form = expect_context::<RunForm>();
    let lang = use_lang();
    view! {
                <label>
                    <span>{tr!(lang, run_controls.input)}</span>
                    <textarea
                        aria-label=tr!(lang, run_controls.input_label)
                        rows="3"
                        aria-invalid=move || form.input.with(|t| parse_run_input(lang.get(), t).is_err()).to_string()
                        prop:value=move || form.input.get()
                        on:input=move |ev| form.input.set(event_target_value(&ev))
                    ></textarea>
                    <Show when=move || form.input.with(|t| parse_run_input(lang.get(), t).is_err())>
                        <span class="field-error" role="alert">
                            {move || form.input.with(|t| parse_run_input(lang.get(), t).err().unwrap_or_default())}
                        </span>
                    </Show>
                </label>
                <label>
                    <span>{tr!(lang, run_controls.seed)}</span>
                    <input
                        aria-label=tr!(lang, run_controls.seed_label)
                        inputmode="numeric"
                        placeholder=tr!(lang, run_controls.random)
                        aria-invalid=move || form.seed.with(|t| parse_seed(lang.get(), t).is_err()).to_string()
                        prop:value=move || form.seed.get()
                        on:input=move |ev| form.seed.set(event_target_value(&ev))
                    />
                    <Show when=move || form.seed.with(|t| parse_seed(lang.get(), t).is_err())>
                        <span class="field-error" role="alert">
                            {move || form.seed.with(|t| parse_seed(lang.get(), t).err().unwrap_or_default())}
                        </span>
                    </Show>
                </label>
                <label>
                    <span>{tr!(lang, run_controls.speed)}</span>
                    <select
                        aria-label=tr!(lang, run_controls.speed_label)
                        prop:value=move || form.speed.get().to_string()
                        on:change=move |ev| {
                            if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
                                form.speed.set(speed);
                            }
                        }
                    >
                        {SPEEDS.iter().map(|s| view! { <option value=s.to_string()>{format!("{s}×")}</option> }).collect_view()}
                    </select>
                </label>
                <RunFaults/>
    }
    .into_any()
}

/// Faults for the next run, and applied to the live one on request. The form is a chunk of
/// its own, fetched when the panel is first opened (split by `make build`).
#[component]
fn RunFaults() -> impl IntoView {
    let lang = use_lang();
    let opened = RwSignal::new(false);
    let on_toggle = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open());
        if open {
            opened.set(true);
        }
    };
    view! {
        <details class="run-faults" on:toggle=on_toggle>
            <summary>{tr!(lang, run_controls.faults)}</summary>
            {move || opened.get().then(|| Suspend::new(run_faults_form()))}
        </details>
    }
    .into_any()
}

#[lazy]
fn run_faults_form() -> AnyView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let form = expect_context::<RunForm>();
    let notice = expect_context::<Notice>();
    let lang = use_lang();
    let services = Signal::derive(move || document.doc.with(Workflow::services));
    let running = move || run.running();
    let apply = move |_| {
        let Some(run_id) = run.run_id.get_untracked() else {
            return;
        };
        let locale = lang.get_untracked();
        let mut faults = match form.faults.faults(locale) {
            Ok(faults) => faults,
            Err(message) => {
                return notice
                    .say(td_string!(locale, run_form.faults, message = message).to_string())
            }
        };
        // A crash applied to a live run happens now (its "at" is for runs that start).
        let crash = faults.orchestrator.take().map(|c| CrashRequest {
            for_ms: c.for_ms,
            standby_lease_ms: c.standby_lease_ms,
        });
        let request = FaultRequest {
            faults: Some(faults),
            crash_orchestrator: crash,
        };
        spawn_local(async move {
            if let Err(e) = client::post_ok(&format!("/api/runs/{run_id}/faults"), &request).await {
                notice.fail(e);
            }
        });
    };
    view! {
            <p class="hint">{tr!(lang, run_controls.faults_hint)}</p>
            <FaultFields form=form.faults services/>
            <button on:click=apply disabled=move || !running()>{tr!(lang, run_controls.apply)}</button>
    }
    .into_any()
}
