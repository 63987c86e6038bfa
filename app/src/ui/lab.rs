//! The trade-off lab page (`/lab?workflow=ID`): pick an input, runs per style, a seed and
//! faults; compare the flow as drawn, as all orchestration and as all choreography; watch
//! the batch's progress (and cancel it); read the table, the charts, the generated reading
//! and the fail-at-every-step matrix; open any earlier batch. Below, load mode, with its
//! earlier load tests.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::i18n::Locale;
use crate::model::api::MAX_SEED;
use crate::model::lab::{
    load_defaults, Batch, BatchState, BatchSummary, CompareRequest, LoadRequest, LoadSummary,
    LoadTest, RealRuns, DEFAULT_LAB_RUNS, DEFAULT_ORCHESTRATOR_MESSAGE_MS, MAX_LAB_RUNS,
    MAX_ORCHESTRATOR_MESSAGE_MS, MAX_REAL_LAB_RUNS,
};
use crate::model::verify::{Choice, VerifyRequest};
use crate::model::Workflow;
use crate::ui::client;
use crate::ui::common::faults::{number, text_field, FaultFields, FaultForm};
use crate::ui::common::language::{use_lang, Lang, Words};
use crate::ui::common::time::js_time;
use crate::ui::common::words::batch_state;
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
    /// The orchestrator's ms per message: the hop cost, modelled by default as in lesson 3.
    hop_ms: RwSignal<String>,
    faults: FaultForm,
}

impl Form {
    fn new() -> Self {
        Form {
            input: RwSignal::new("{}".into()),
            runs: RwSignal::new(DEFAULT_LAB_RUNS.to_string()),
            seed: RwSignal::new("1".into()),
            hop_ms: RwSignal::new(DEFAULT_ORCHESTRATOR_MESSAGE_MS.to_string()),
            faults: FaultForm::new(),
        }
    }

    /// The verification the form describes (its input and seed; the explorer's bounds are
    /// the defaults), or which field is wrong and why.
    fn verify_request(&self, locale: Locale, workflow_id: &str) -> Result<VerifyRequest, String> {
        let compare = self.request(locale, workflow_id)?;
        Ok(VerifyRequest {
            input: compare.input,
            seed: compare.seed,
            ..VerifyRequest::default()
        })
    }

    /// The request the form describes, or which field is wrong and why.
    fn request(&self, locale: Locale, workflow_id: &str) -> Result<CompareRequest, String> {
        let input: serde_json::Value = serde_json::from_str(&self.input.get_untracked())
            .map_err(|e| td_string!(locale, lab.input_not_json, error = e).to_string())?;
        if !input.is_object() {
            return Err(td_string!(locale, lab.input_not_object).into());
        }
        let runs_label = td_string!(locale, lab.runs);
        let runs: u32 = number(locale, runs_label, &self.runs.get_untracked())?
            .ok_or_else(|| give_number(locale, runs_label))?;
        if !(1..=MAX_LAB_RUNS).contains(&runs) {
            return Err(td_string!(locale, lab.runs_range, max = MAX_LAB_RUNS).to_string());
        }
        let seed: Option<u64> = number(
            locale,
            td_string!(locale, lab.seed),
            &self.seed.get_untracked(),
        )?;
        if seed.is_some_and(|s| s > MAX_SEED) {
            return Err(td_string!(locale, lab.seed_max, max = MAX_SEED).to_string());
        }
        let message_ms: u64 = number(
            locale,
            td_string!(locale, lab.hop_ms),
            &self.hop_ms.get_untracked(),
        )?
        .unwrap_or(0);
        if message_ms > MAX_ORCHESTRATOR_MESSAGE_MS {
            return Err(
                td_string!(locale, lab.hop_ms_max, max = MAX_ORCHESTRATOR_MESSAGE_MS).to_string(),
            );
        }
        Ok(CompareRequest {
            workflow_id: workflow_id.to_string(),
            input: Some(input),
            runs: Some(runs),
            seed,
            faults: self.faults.faults(locale)?,
            message_ms,
            verify: None,
        })
    }
}

/// "`label`: give a number".
fn give_number(locale: Locale, label: &str) -> String {
    td_string!(locale, lab.give_number, label = label).to_string()
}

/// The lab as a lazily loaded route: its code is a chunk of its own (built with
/// split by `make build`), fetched when the lab is opened, not with the editor.
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
    let lang = use_lang();
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
                td_string!(lang.get_untracked(), lab.no_workflow).into(),
            ));
            return;
        }
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => workflow.set(Some(record.workflow)),
                Err(e) => failure.set(Some(e.words(lang.get_untracked()))),
            }
        });
        refresh_list();
    });

    // Follows a batch until it ends.
    let follow = move |id: String| {
        let url = format!("/api/lab/batches/{id}");
        follow_until_ended(
            url,
            POLL_MS,
            batch,
            |b| b.state,
            failure,
            lang,
            refresh_list,
        );
    };

    let compare = move |_| {
        failure.set(None);
        let request = match form.request(lang.get_untracked(), &workflow_id.get_untracked()) {
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
                Err(e) => failure.set(Some(e.words(lang.get_untracked()))),
            }
        });
    };
    let verify = move |_| {
        failure.set(None);
        let id = workflow_id.get_untracked();
        let request = match form.verify_request(lang.get_untracked(), &id) {
            Ok(r) => r,
            Err(message) => return failure.set(Some(message)),
        };
        spawn_local(async move {
            match client::post_json::<Batch>(&format!("/api/workflows/{id}/verify"), &request).await
            {
                Ok(b) => {
                    let id = b.id.clone();
                    batch.set(Some(b));
                    follow(id);
                }
                Err(e) => failure.set(Some(e.words(lang.get_untracked()))),
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
                    failure.set(Some(e.words(lang.get_untracked())));
                }
            });
        }
    };
    let running =
        move || batch.with(|b| b.as_ref().is_some_and(|b| b.state == BatchState::Running));
    let services = Signal::derive(move || {
        workflow.with(|w| w.as_ref().map(Workflow::services).unwrap_or_default())
    });
    // The steps bound to real services, named: Compare runs real runs against them.
    let real = Memo::new(move |_| {
        let real = workflow.with(|w| w.as_ref().and_then(RealRuns::of))?;
        let steps: Vec<String> = real.services.into_iter().map(|s| s.label).collect();
        Some(steps.join(", "))
    });

    let form_view = view! {
            <section class="lab-form" aria-label=tr!(lang, lab.settings)>
                <label class="wide">
                    <span>{tr!(lang, lab.input)}</span>
                    <textarea
                        aria-label=tr!(lang, lab.input)
                        rows="2"
                        prop:value=move || form.input.get()
                        on:input=move |ev| form.input.set(event_target_value(&ev))
                    ></textarea>
                </label>
                {text_field(lang, |l| td_string!(l, lab.runs), form.runs, |_| "50")}
                {text_field(lang, |l| td_string!(l, lab.seed), form.seed, |l| td_string!(l, lab.random))}
                {text_field(lang, |l| td_string!(l, lab.hop_ms), form.hop_ms, |_| "0")}
                <FaultFields form=form.faults services/>
                {move || real.get().map(|steps| view! {
                    <p class="hint real-runs">
                        {move || td_string!(lang.get(), lab.real_hint, steps = steps.clone(), max = MAX_REAL_LAB_RUNS).to_string()}
                    </p>
                })}
                <div class="lab-actions">
                    <button class="primary" on:click=compare disabled=running>
                        {tr!(lang, lab.compare)}
                    </button>
                    <button on:click=verify disabled=running title=tr!(lang, lab.verify_title)>
                        {tr!(lang, lab.verify)}
                    </button>
                    <Show when=running>
                        <button class="cancel" on:click=cancel>{tr!(lang, lab.cancel_batch)}</button>
                    </Show>
                </div>
            </section>
    }
    .into_any();
    let list_view = earlier(
        lang,
        |l| td_string!(l, lab.earlier_batches),
        batches,
        follow,
        |l, b: &BatchSummary| {
            (
                b.id.clone(),
                td_string!(
                    l,
                    lab.batch_line,
                    time = js_time(l, b.created_at),
                    runs = b.runs,
                    seed = b.seed,
                    state = batch_state(l, b.state)
                )
                .to_string(),
            )
        },
    );
    view! {
        <main class="lab">
            <header class="lab-head">
                <a href=move || format!("/?workflow={}", workflow_id.get())>{tr!(lang, lab.back)}</a>
                <h1>
                    {tr!(lang, lab.heading)}
                    {move || workflow.with(|w| w.as_ref().map(|w| w.name.clone()).unwrap_or_default())}
                </h1>
            </header>
            {form_view}
            <Show when=move || failure.with(Option::is_some)>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <Show when=move || batch.with(Option::is_some)>
                <BatchView batch workflow/>
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
    lang: Lang,
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
                Err(e) => {
                    failure.set(Some(e.words(lang.get_untracked())));
                    break;
                }
            }
            client::sleep_ms(every_ms).await;
        }
        ended();
    });
}

/// The list of earlier batches or load tests: a button each that opens it.
fn earlier<T: Clone + Send + Sync + 'static>(
    lang: Lang,
    title: Words,
    items: RwSignal<Vec<T>>,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    describe: fn(Locale, &T) -> (String, String),
) -> AnyView {
    view! {
        <section class="lab-batches" aria-label=move || title(lang.get())>
            <h2>{move || title(lang.get())}</h2>
            <ul>
                <For
                    each=move || {
                        let locale = lang.get();
                        items.with(|all| all.iter().map(|item| describe(locale, item)).collect::<Vec<_>>())
                    }
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
fn BatchView(
    batch: RwSignal<Option<Batch>>,
    workflow: RwSignal<Option<Workflow>>,
) -> impl IntoView {
    let lang = use_lang();
    let progress =
        move || batch.with(|b| b.as_ref().map(|b| b.progress.clone()).unwrap_or_default());
    let state = move || {
        batch.with(|b| {
            b.as_ref()
                .map(|b| {
                    td_string!(
                        lang.get(),
                        lab.batch,
                        state = batch_state(lang.get(), b.state)
                    )
                    .to_string()
                })
                .unwrap_or_default()
        })
    };
    let done = Memo::new(move |_| batch.with(|b| b.as_ref().is_some_and(|b| b.result.is_some())));
    view! {
        <section class="lab-progress" aria-label=tr!(lang, lab.progress)>
            <p class="batch-state">{state}</p>
            <For each=progress key=|p| (p.style, p.done) let:p>
                <div class="progress-row">
                    <span>{move || p.style.words(lang.get())}</span>
                    // A verification has no known total: its bar is indeterminate, its
                    // count the schedules explored so far.
                    {if p.total == 0 {
                        view! {
                            <progress aria-label=move || td_string!(lang.get(), lab.style_progress, style = p.style.words(lang.get())).to_string()></progress>
                            <span class="count">{move || td_string!(lang.get(), lab.schedules, count = p.done).to_string()}</span>
                        }.into_any()
                    } else {
                        view! {
                            <progress
                                max=p.total
                                value=p.done
                                aria-label=move || td_string!(lang.get(), lab.style_progress, style = p.style.words(lang.get())).to_string()
                            ></progress>
                            <span class="count">{format!("{}/{}", p.done, p.total)}</span>
                        }.into_any()
                    }}
                </div>
            </For>
        </section>
        <Show when=move || done.get()>
            {move || if batch.with(|b| b.as_ref().is_some_and(|b| b.verify.is_some())) {
                view! { <Verifications batch workflow/> }.into_any()
            } else {
                view! { <Results batch/> }.into_any()
            }}
        </Show>
    }
}

/// The results of a batch: static once computed, so rendered as one escaped HTML string
/// ([`super::report`]) instead of hundreds of reactive nodes (this keeps the bundle small).
#[component]
fn Results(batch: RwSignal<Option<Batch>>) -> impl IntoView {
    let lang = use_lang();
    let html = move || {
        let locale = lang.get();
        batch.with(|b| {
            b.as_ref()
                .map(|b| report::compare_html(locale, b))
                .unwrap_or_default()
        })
    };
    view! { <div class="lab-results-host" inner_html=html></div> }
}

/// A verification's results, style by style: the headline first, then each broken
/// invariant with its shortest schedule in words — the flow as drawn's with **Open as a
/// run** (started with that schedule forced, then opened in the editor) — and what no
/// schedule exercised.
#[component]
fn Verifications(
    batch: RwSignal<Option<Batch>>,
    workflow: RwSignal<Option<Workflow>>,
) -> impl IntoView {
    let lang = use_lang();
    let failure: RwSignal<Option<String>> = RwSignal::new(None);
    let open = move |choices: Vec<Choice>, at: Option<String>| {
        let Some((workflow_id, seed, input)) = batch.with_untracked(|b| {
            b.as_ref()
                .map(|b| (b.workflow_id.clone(), b.seed, b.input.clone()))
        }) else {
            return;
        };
        spawn_local(async move {
            let request =
                serde_json::json!({"seed": seed, "input": input, "faults": {"schedule": choices}});
            match client::post_json::<serde_json::Value>(
                &format!("/api/workflows/{workflow_id}/runs"),
                &request,
            )
            .await
            {
                Ok(run) => {
                    let run = run["id"].as_str().unwrap_or_default().to_string();
                    let url = crate::ui::common::words::editor_url_at(
                        &workflow_id,
                        Some(&run),
                        at.as_deref(),
                    );
                    let _ = window().location().set_href(&url);
                }
                Err(e) => failure.set(Some(e.words(lang.get_untracked()))),
            }
        });
    };
    let styles = move || {
        batch.with(|b| {
            b.as_ref()
                .and_then(|b| b.result.as_ref())
                .map(|r| r.verifications.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <section class="lab-verifications" aria-label=tr!(lang, lab.verifications)>
            <Show when=move || failure.with(Option::is_some)>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <For each=styles key=|v| v.style let:v>
                {
                    let style = v.style;
                    let exploration = v.exploration.clone();
                    let headline = {
                        let exploration = exploration.clone();
                        move || workflow.with(|w| w.as_ref().map(|w| exploration.headline(w, lang.get())).unwrap_or_default())
                    };
                    let broken = exploration.counterexamples.clone();
                    let figures = {
                        let exploration = exploration.clone();
                        move || exploration.figures(lang.get())
                    };
                    // The drawn flow's edges are the canvas's; a converted copy has others.
                    let never = {
                        let coverage = exploration.coverage.clone();
                        let drawn = style == crate::model::lab::LabStyle::AsDrawn;
                        move || workflow.with(|w| w.as_ref().map(|w| {
                            let mut w = w.clone();
                            w.assign_edge_ids();
                            coverage.never_words(&w, lang.get(), drawn)
                        }).unwrap_or_default())
                    };
                    view! {
                        <article class="verification" aria-label=move || style.words(lang.get())>
                            <h3>{move || style.words(lang.get())}</h3>
                            <p class="headline">{headline}</p>
                            <p class="figures">{figures}</p>
                            <ul>
                                {broken.into_iter().map(|c| {
                                    let story = {
                                        let c = c.clone();
                                        move || workflow.with(|w| w.as_ref().map(|w| c.story(w, lang.get())).unwrap_or_default())
                                    };
                                    let invariant = c.invariant;
                                    let choices = c.choices.clone();
                                    let at = c.broken_step().map(str::to_string);
                                    let drawn = style == crate::model::lab::LabStyle::AsDrawn;
                                    view! {
                                        <li>
                                            <strong>{move || invariant.words(lang.get())}</strong>
                                            ": "
                                            <span class="story">{story}</span>
                                            <Show when=move || drawn>
                                                {
                                                    let choices = choices.clone();
                                                    let at = at.clone();
                                                    view! {
                                                        <button class="open-run" on:click=move |_| open(choices.clone(), at.clone())>
                                                            {tr!(lang, lab.open_as_run)}
                                                        </button>
                                                    }
                                                }
                                            </Show>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {move || never().into_iter().map(|line| view! { <p class="coverage">{line}</p> }).collect_view()}
                        </article>
                    }
                }
            </For>
        </section>
    }
}

/// How often a running load test's figures are read.
const LOAD_POLL_MS: u32 = 300;

/// Load mode: real runs at a rate, each style's runs sharing one orchestrator of limited
/// capacity; throughput and latency per second, per style.
#[component]
fn LoadSection(workflow_id: Memo<String>, workflow: RwSignal<Option<Workflow>>) -> impl IntoView {
    let lang = use_lang();
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
            td_string!(
                lang.get(),
                lab.load_reason,
                steps = d.steps_per_run,
                capacity = d.capacity,
                ms = d.message_ms,
                takes = format!("{:.0}", d.orchestrator_takes),
                rate = d.rate
            )
            .to_string()
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
        follow_until_ended(
            url,
            LOAD_POLL_MS,
            test,
            |t| t.state,
            failure,
            lang,
            refresh_list,
        );
    };
    let start = move |_| {
        failure.set(None);
        let l = lang.get_untracked();
        let request = (|| -> Result<LoadRequest, String> {
            let (rate_label, seconds_label) = (td_string!(l, lab.rate), td_string!(l, lab.seconds));
            Ok(LoadRequest {
                workflow_id: workflow_id.get_untracked(),
                input: None,
                rate: number(l, rate_label, &rate.get_untracked())?
                    .ok_or_else(|| give_number(l, rate_label))?,
                seconds: number(l, seconds_label, &seconds.get_untracked())?
                    .ok_or_else(|| give_number(l, seconds_label))?,
                capacity: number(l, td_string!(l, lab.capacity), &capacity.get_untracked())?,
                message_ms: number(
                    l,
                    td_string!(l, lab.message_ms),
                    &message_ms.get_untracked(),
                )?
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
                Err(e) => failure.set(Some(e.words(lang.get_untracked()))),
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
                    failure.set(Some(e.words(lang.get_untracked())));
                }
            });
        }
    };
    let results = move || {
        let locale = lang.get();
        test.with(|t| {
            t.as_ref()
                .map(|t| report::load_html(locale, t))
                .unwrap_or_default()
        })
    };
    view! {
        <section class="lab-load" aria-label=tr!(lang, lab.load)>
            <h2>{tr!(lang, lab.load)}</h2>
            <p class="hint">{tr!(lang, lab.load_hint)}</p>
            <p class="hint load-defaults">{reason}</p>
            <div class="lab-form">
                {text_field(lang, |l| td_string!(l, lab.rate_field), rate, |_| "100")}
                {text_field(lang, |l| td_string!(l, lab.seconds), seconds, |_| "3")}
                {text_field(lang, |l| td_string!(l, lab.capacity), capacity, |l| td_string!(l, lab.no_limit))}
                {text_field(lang, |l| td_string!(l, lab.message_ms), message_ms, |_| "0")}
                <div class="lab-actions">
                    <button class="primary" on:click=start disabled=running>{tr!(lang, lab.start_load)}</button>
                    <Show when=running>
                        <button class="cancel" on:click=cancel>{tr!(lang, lab.stop_load)}</button>
                    </Show>
                </div>
            </div>
            <Show when=move || failure.with(Option::is_some)>
                <p class="error" role="alert">{move || failure.get().unwrap_or_default()}</p>
            </Show>
            <div class="lab-load-host" inner_html=results></div>
            {earlier(lang, |l| td_string!(l, lab.earlier_loads), tests, follow, |l, t: &LoadSummary| {
                let r = &t.request;
                let capacity = r.capacity.map_or(td_string!(l, lab.no_limit).to_string(), |c| c.to_string());
                (
                    t.id.clone(),
                    td_string!(
                        l,
                        lab.load_line,
                        time = js_time(l, t.created_at),
                        rate = r.rate,
                        seconds = r.seconds,
                        capacity = capacity,
                        ms = r.message_ms,
                        state = batch_state(l, t.state)
                    )
                    .to_string(),
                )
            })}
        </section>
    }
    .into_any()
}
