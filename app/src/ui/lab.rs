//! The trade-off lab page (`/lab?workflow=ID`): pick an input, runs per style, a seed and
//! faults; compare the flow as drawn, as all orchestration and as all choreography; watch
//! the batch's progress (and cancel it); read the table, the charts, the generated reading
//! and the fail-at-every-step matrix; open any earlier batch. Below, load mode, with its
//! earlier load tests.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::api::MAX_SEED;
use crate::model::lab::{
    load_defaults, Batch, BatchState, BatchSummary, CompareRequest, CompareResult, LoadRequest,
    LoadSummary, LoadTest, DEFAULT_LAB_RUNS, MAX_LAB_RUNS,
};
use crate::model::Workflow;
use crate::ui::client::{self, ApiFailure};
use crate::ui::common::faults::{number, text_field, FaultFields, FaultForm};
use crate::ui::common::time::js_time;
use crate::ui::report;
use crate::ui::spawn_local;

/// How often a running batch's progress is read.
const POLL_MS: u32 = 200;

/// The compare form's fields, as typed.
#[derive(Clone, Copy)]
struct Form {
    input: RwSignal<String>,
    runs: RwSignal<String>,
    seed: RwSignal<String>,
    faults: FaultForm,
}

impl Form {
    fn new() -> Self {
        Form {
            input: RwSignal::new("{}".into()),
            runs: RwSignal::new(DEFAULT_LAB_RUNS.to_string()),
            seed: RwSignal::new("1".into()),
            faults: FaultForm::new(),
        }
    }

    /// The request the form describes, or which field is wrong and why.
    fn request(&self, workflow_id: &str) -> Result<CompareRequest, String> {
        let input: serde_json::Value = serde_json::from_str(&self.input.get_untracked())
            .map_err(|e| format!("Input: not JSON ({e})"))?;
        if !input.is_object() {
            return Err("Input: must be a JSON object".into());
        }
        let runs: u32 = number("Runs per style", &self.runs.get_untracked())?
            .ok_or("Runs per style: give a number")?;
        if !(1..=MAX_LAB_RUNS).contains(&runs) {
            return Err(format!("Runs per style: from 1 to {MAX_LAB_RUNS}"));
        }
        let seed: Option<u64> = number("Seed", &self.seed.get_untracked())?;
        if seed.is_some_and(|s| s > MAX_SEED) {
            return Err(format!("Seed: at most {MAX_SEED}"));
        }
        Ok(CompareRequest {
            workflow_id: workflow_id.to_string(),
            input: Some(input),
            runs: Some(runs),
            seed,
            faults: self.faults.faults()?,
        })
    }
}

/// The lab as a lazily loaded route: its code is a chunk of its own (built with
/// `cargo leptos build --split`), fetched when the lab is opened, not with the editor.
pub struct LabRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for LabRoute {
    fn data() -> Self {
        LabRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LabPage/> }.into_any()
    }
}

#[component]
pub fn LabPage() -> impl IntoView {
    crate::ui::provide_page();
    let query = use_query_map();
    let workflow_id = Memo::new(move |_| query.with(|q| q.get("workflow")).unwrap_or_default());
    let workflow: RwSignal<Option<Workflow>> = RwSignal::new(None);
    let batch: RwSignal<Option<Batch>> = RwSignal::new(None);
    let batches: RwSignal<Vec<BatchSummary>> = RwSignal::new(Vec::new());
    let failure: RwSignal<Option<String>> = RwSignal::new(None);
    let form = Form::new();

    let refresh_list = move || {
        read_list(
            format!("/api/lab/batches?workflow={}", workflow_id.get_untracked()),
            batches,
        )
    };

    Effect::new(move |_| {
        let id = workflow_id.get();
        if id.is_empty() {
            failure.set(Some(
                "No workflow chosen: open a saved workflow in the editor and press Lab.".into(),
            ));
            return;
        }
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => workflow.set(Some(record.workflow)),
                Err(e) => failure.set(Some(e.message)),
            }
        });
        refresh_list();
    });

    // Follows a batch until it ends.
    let follow = move |id: String| {
        let url = format!("/api/lab/batches/{id}");
        follow_until_ended(url, POLL_MS, batch, |b| b.state, failure, refresh_list);
    };

    let compare = move |_| {
        failure.set(None);
        let request = match form.request(&workflow_id.get_untracked()) {
            Ok(r) => r,
            Err(message) => return failure.set(Some(message)),
        };
        spawn_local(async move {
            match client::post_json::<Batch>("/api/lab/batches", &request).await {
                Ok(b) => {
                    let id = b.id.clone();
                    batch.set(Some(b));
                    follow(id);
                }
                Err(e) => failure.set(Some(e.message)),
            }
        });
    };
    let cancel = move |_| {
        if let Some(id) = batch.with_untracked(|b| b.as_ref().map(|b| b.id.clone())) {
            spawn_local(async move {
                if let Err(e) = client::post_ok(
                    &format!("/api/lab/batches/{id}/cancel"),
                    &serde_json::json!({}),
                )
                .await
                {
                    failure.set(Some(e.message));
                }
            });
        }
    };
    let running =
        move || batch.with(|b| b.as_ref().is_some_and(|b| b.state == BatchState::Running));
    let services = Signal::derive(move || {
        workflow.with(|w| w.as_ref().map(Workflow::services).unwrap_or_default())
    });

    let form_view = view! {
            <section class="lab-form" aria-label="Compare settings">
                <label class="wide">
                    <span>"Input"</span>
                    <textarea
                        aria-label="Input"
                        rows="2"
                        prop:value=move || form.input.get()
                        on:input=move |ev| form.input.set(event_target_value(&ev))
                    ></textarea>
                </label>
                {text_field("Runs per style", form.runs, "50")}
                {text_field("Seed", form.seed, "random")}
                <FaultFields form=form.faults services/>
                <div class="lab-actions">
                    <button class="primary" on:click=compare disabled=running>
                        "Compare"
                    </button>
                    <Show when=running>
                        <button class="cancel" on:click=cancel>"Cancel batch"</button>
                    </Show>
                </div>
            </section>
    }
    .into_any();
    let list_view = earlier("Earlier batches", batches, follow, |b: &BatchSummary| {
        (
            b.id.clone(),
            format!(
                "{} · {} runs × 3, seed {} — {}",
                js_time(b.created_at),
                b.runs,
                b.seed,
                state_word(b.state)
            ),
        )
    });
    view! {
        <main class="lab">
            <header class="lab-head">
                <a href=move || format!("/?workflow={}", workflow_id.get())>"← Editor"</a>
                <h1>
                    "Trade-off lab: "
                    {move || workflow.with(|w| w.as_ref().map(|w| w.name.clone()).unwrap_or_default())}
                </h1>
            </header>
            {form_view}
            <Show when=move || failure.with(Option::is_some)>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <Show when=move || batch.with(Option::is_some)>
                <BatchView batch/>
            </Show>
            {list_view}
            <LoadSection workflow_id workflow/>
        </main>
    }
    .into_any()
}

/// Reads a list of batches or load tests into `into` (on failure, the list stays as it was).
fn read_list<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    url: String,
    into: RwSignal<Vec<T>>,
) {
    spawn_local(async move {
        if let Ok(list) = client::get_json::<Vec<T>>(&url).await {
            into.set(list);
        }
    });
}

/// Reads a batch or load test into `into` every `every_ms` until it is no longer running
/// (or a read fails, into `failure`), then calls `ended`.
fn follow_until_ended<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    url: String,
    every_ms: u32,
    into: RwSignal<Option<T>>,
    state: fn(&T) -> BatchState,
    failure: RwSignal<Option<String>>,
    ended: impl Fn() + 'static,
) {
    spawn_local(async move {
        loop {
            match client::get_json::<T>(&url).await {
                Ok(value) => {
                    let running = state(&value) == BatchState::Running;
                    into.set(Some(value));
                    if !running {
                        break;
                    }
                }
                Err(ApiFailure { message, .. }) => {
                    failure.set(Some(message));
                    break;
                }
            }
            client::sleep_ms(every_ms).await;
        }
        ended();
    });
}

fn state_word(state: BatchState) -> &'static str {
    match state {
        BatchState::Running => "running",
        BatchState::Done => "done",
        BatchState::Cancelled => "cancelled",
    }
}

/// The list of earlier batches or load tests: a button each that opens it.
fn earlier<T: Clone + Send + Sync + 'static>(
    title: &'static str,
    items: RwSignal<Vec<T>>,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    describe: fn(&T) -> (String, String),
) -> AnyView {
    view! {
        <section class="lab-batches" aria-label=title>
            <h2>{title}</h2>
            <ul>
                <For
                    each=move || items.with(|all| all.iter().map(describe).collect::<Vec<_>>())
                    key=|item| item.clone()
                    let:item
                >
                    <li>
                        <button on:click=move |_| open(item.0.clone())>{item.1}</button>
                    </li>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn BatchView(batch: RwSignal<Option<Batch>>) -> impl IntoView {
    let progress =
        move || batch.with(|b| b.as_ref().map(|b| b.progress.clone()).unwrap_or_default());
    let state = move || {
        batch.with(|b| match b.as_ref().map(|b| b.state) {
            Some(BatchState::Running) => "running",
            Some(BatchState::Done) => "done",
            Some(BatchState::Cancelled) => "cancelled",
            None => "",
        })
    };
    let result = Memo::new(move |_| batch.with(|b| b.as_ref().and_then(|b| b.result.clone())));
    view! {
        <section class="lab-progress" aria-label="Progress">
            <p class="batch-state">"Batch " {state}</p>
            <For each=progress key=|p| (p.style, p.done) let:p>
                <div class="progress-row">
                    <span>{p.style.label()}</span>
                    <progress max=p.total value=p.done aria-label=format!("{} progress", p.style.label())></progress>
                    <span class="count">{format!("{}/{}", p.done, p.total)}</span>
                </div>
            </For>
        </section>
        <Show when=move || result.with(Option::is_some)>
            <Results result=Signal::derive(move || result.get().unwrap_or_default())/>
        </Show>
    }
}

/// The results of a batch: static once computed, so rendered as one escaped HTML string
/// ([`super::report`]) instead of hundreds of reactive nodes (this keeps the bundle small).
#[component]
fn Results(result: Signal<CompareResult>) -> impl IntoView {
    view! { <div class="lab-results-host" inner_html=move || result.with(report::compare_html)></div> }
}

/// How often a running load test's figures are read.
const LOAD_POLL_MS: u32 = 300;

/// Load mode: real runs at a rate, each style's runs sharing one orchestrator of limited
/// capacity; throughput and latency per second, per style.
#[component]
fn LoadSection(workflow_id: Memo<String>, workflow: RwSignal<Option<Workflow>>) -> impl IntoView {
    let rate = RwSignal::new(String::new());
    let seconds = RwSignal::new("3".to_string());
    let capacity = RwSignal::new(String::new());
    let message_ms = RwSignal::new(String::new());
    // Defaults from the flow's shape, once it has loaded: a rate its orchestrator cannot
    // take, said with the reason.
    let defaults = Memo::new(move |_| workflow.with(|w| w.as_ref().map(load_defaults)));
    Effect::new(move |_| {
        if let Some(d) = defaults.get() {
            // Only into fields the user has not filled.
            for (field, value) in [
                (rate, d.rate.to_string()),
                (capacity, d.capacity.to_string()),
                (message_ms, d.message_ms.to_string()),
            ] {
                if field.get_untracked().is_empty() {
                    field.set(value);
                }
            }
        }
    });
    let reason = move || {
        defaults.get().map(|d| {
            format!(
                "Defaults for this flow: a run commands {} steps when nothing fails, so one orchestrator handling {} messages at once at {} ms each takes at most {:.0} runs/s; {} runs/s is more than it can take, and far less than the services, reacting in parallel, can.",
                d.steps_per_run, d.capacity, d.message_ms, d.orchestrator_takes, d.rate
            )
        })
    };
    let test: RwSignal<Option<LoadTest>> = RwSignal::new(None);
    let tests: RwSignal<Vec<LoadSummary>> = RwSignal::new(Vec::new());
    let failure: RwSignal<Option<String>> = RwSignal::new(None);
    let running = move || test.with(|t| t.as_ref().is_some_and(|t| t.state == BatchState::Running));
    let refresh_list = move || {
        read_list(
            format!("/api/lab/loads?workflow={}", workflow_id.get_untracked()),
            tests,
        )
    };
    Effect::new(move |_| {
        if !workflow_id.get().is_empty() {
            refresh_list();
        }
    });
    // Reads a load test, and follows it until it ends.
    let follow = move |id: String| {
        let url = format!("/api/lab/loads/{id}");
        follow_until_ended(url, LOAD_POLL_MS, test, |t| t.state, failure, refresh_list);
    };
    let start = move |_| {
        failure.set(None);
        let request = (|| -> Result<LoadRequest, String> {
            Ok(LoadRequest {
                workflow_id: workflow_id.get_untracked(),
                input: None,
                rate: number("Rate", &rate.get_untracked())?.ok_or("Rate: give a number")?,
                seconds: number("Seconds", &seconds.get_untracked())?
                    .ok_or("Seconds: give a number")?,
                capacity: number("Orchestrator capacity", &capacity.get_untracked())?,
                message_ms: number("Orchestrator ms per message", &message_ms.get_untracked())?
                    .unwrap_or(0),
                seed: Some(1),
                speed: None,
            })
        })();
        let request = match request {
            Ok(r) => r,
            Err(message) => return failure.set(Some(message)),
        };
        spawn_local(async move {
            match client::post_json::<LoadTest>("/api/lab/loads", &request).await {
                Ok(t) => {
                    let id = t.id.clone();
                    test.set(Some(t));
                    refresh_list();
                    follow(id);
                }
                Err(e) => failure.set(Some(e.message)),
            }
        });
    };
    let cancel = move |_| {
        if let Some(id) = test.with_untracked(|t| t.as_ref().map(|t| t.id.clone())) {
            spawn_local(async move {
                if let Err(e) = client::post_ok(
                    &format!("/api/lab/loads/{id}/cancel"),
                    &serde_json::json!({}),
                )
                .await
                {
                    failure.set(Some(e.message));
                }
            });
        }
    };
    let results = move || test.with(|t| t.as_ref().map(report::load_html).unwrap_or_default());
    view! {
        <section class="lab-load" aria-label="Load">
            <h2>"Load"</h2>
            <p class="hint">
                "Starts real runs at this rate for these seconds, one style after the other; each style's runs share one orchestrator that handles at most “capacity” messages at once, each taking the given time."
            </p>
            <p class="hint load-defaults">{reason}</p>
            <div class="lab-form">
                {text_field("Rate (runs/s)", rate, "100")}
                {text_field("Seconds", seconds, "3")}
                {text_field("Orchestrator capacity", capacity, "no limit")}
                {text_field("Orchestrator ms per message", message_ms, "0")}
                <div class="lab-actions">
                    <button class="primary" on:click=start disabled=running>"Start load"</button>
                    <Show when=running>
                        <button class="cancel" on:click=cancel>"Stop load"</button>
                    </Show>
                </div>
            </div>
            <Show when=move || failure.with(Option::is_some)>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <div class="lab-load-host" inner_html=results></div>
            {earlier("Earlier load tests", tests, follow, |t: &LoadSummary| {
                let r = &t.request;
                let capacity = r.capacity.map_or("no limit".to_string(), |c| c.to_string());
                (
                    t.id.clone(),
                    format!(
                        "{} · {} runs/s × {} s, capacity {capacity}, {} ms per message — {}",
                        js_time(t.created_at),
                        r.rate,
                        r.seconds,
                        r.message_ms,
                        state_word(t.state)
                    ),
                )
            })}
        </section>
    }
    .into_any()
}
