//! The status line under the run panel: save state, run state, connection, the run's
//! diagnosis, an edit conflict with its two ways out, and the last failure with the
//! problems the server listed.

use leptos::prelude::*;

use crate::model::Problem;
use crate::ui::state::{Document, Notice, RunState};

#[component]
pub fn StatusLine() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let notice = expect_context::<Notice>();
    let run_state = move || {
        run.run.with(|r| match r {
            None => String::new(),
            Some(r) => format!("Run {}", r.status.as_str()),
        })
    };
    let diagnosis = move || {
        run.run
            .with(|r| r.as_ref().and_then(|r| r.diagnosis.clone()))
    };
    let problems = move || {
        notice
            .failure
            .with(|f| f.as_ref().map(|f| f.problems.clone()).unwrap_or_default())
    };
    view! {
        <footer class="status">
            <span class="save-state" role="status" aria-label="Save state">{move || document.save_state()}</span>
            <span class="run-state" role="status" aria-label="Run state">{run_state}</span>
            <span
                class=move || format!("connection connection-{}", run.connection.get().class())
                role="status"
                aria-label="Connection"
            >
                {move || run.connection.get().label()}
            </span>
            <Show when=move || diagnosis().is_some()>
                <span class="diagnosis" role="status" aria-label="Diagnosis">{diagnosis}</span>
            </Show>
            <Show when=move || document.conflict.with(Option::is_some)>
                <div class="failure conflict" role="alert" aria-label="Edit conflict">
                    <strong>
                        {move || format!(
                            "This workflow was changed in another tab (it is now at revision {}). \
                             Your edits are kept in this browser and were not saved.",
                            document.conflict.get().unwrap_or_default()
                        )}
                    </strong>
                    " "
                    <button on:click=move |_| document.reload_theirs()>"Reload theirs"</button>
                    " "
                    <button on:click=move |_| document.overwrite_theirs()>"Overwrite with mine"</button>
                </div>
            </Show>
            <Show when=move || notice.failure.with(Option::is_some)>
                <div class="failure" role="alert">
                    <strong>{move || notice.failure.with(|f| f.as_ref().map(|f| f.message.clone()))}</strong>
                    <button class="small dismiss" aria-label="Dismiss" on:click=move |_| notice.clear()>"×"</button>
                    <ul>
                        {move || problems().into_iter().map(|p: Problem| view! {
                            <li>{format!("{}: {}", p.path, p.message)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
        </footer>
    }
    .into_any()
}
