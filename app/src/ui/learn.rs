//! The Learn page (`/learn`): the article's claims as short lessons, each with one button
//! that runs its experiment on a shipped template ([`crate::model::lessons`]) through the
//! lab's API and then points at the number that proves it. The templates it uses are one
//! click away (opened read-only in the editor; the first edit there makes the user's copy).
//!
//! The page is a lazily loaded chunk of its own (`#[lazy_route]`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::Locale;
use crate::model::examples::{template, template_id};
use crate::model::lab::{Batch, BatchState, LoadTest};
use crate::model::lessons::{figures, Figure, Finished, Lesson, Part, Unit, LESSONS};
use crate::ui::client::{self, ApiFailure};
use crate::ui::common::language::{format_tag, use_lang, LanguageSwitch};
use crate::ui::common::templates::template_title;
use crate::ui::common::theme::ThemeToggle;
use crate::ui::spawn_local;

/// How often a running experiment is asked for its state.
const POLL_MS: u32 = 300;

pub struct LearnRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for LearnRoute {
    fn data() -> Self {
        LearnRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LearnPage/> }.into_any()
    }
}

#[component]
pub fn LearnPage() -> impl IntoView {
    crate::ui::provide_page();
    let lang = use_lang();
    // The lessons are where the editor's introduction points: it has been read.
    Effect::new(move |_| client::local_set(crate::ui::common::INTRO_READ_KEY, "1"));
    view! {
        <Title text=tr!(lang, learn.page_title)/>
        <main class="learn">
            <header class="learn-head">
                <a href="/">{tr!(lang, learn.back)}</a>
                <h1>{tr!(lang, learn.heading)}</h1>
                <LanguageSwitch/>
                <ThemeToggle/>
            </header>
            <p class="lead">{tr!(lang, learn.lead)}</p>
            <nav class="lesson-index" aria-label=tr!(lang, learn.lessons)>
                <ul>
                    {LESSONS
                        .iter()
                        .map(|lesson| {
                            view! {
                                <li>
                                    <a href=format!("#{}", lesson.key)>
                                        {move || text(lang.get(), lesson.key).title}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            {LESSONS.iter().map(|lesson| view! { <LessonCard lesson/> }).collect_view()}
        </main>
    }
}

/// Where an experiment is.
#[derive(Clone, Debug, PartialEq)]
enum Progress {
    Idle,
    /// How far the experiment is, in percent.
    Running(u8),
    Done(Vec<Finished>),
    Failed(String),
}

#[component]
fn LessonCard(lesson: &'static Lesson) -> impl IntoView {
    let lang = use_lang();
    let progress = RwSignal::new(Progress::Idle);
    let running = move || progress.with(|p| matches!(p, Progress::Running(_)));
    let start = move |_| {
        progress.set(Progress::Running(0));
        spawn_local(async move {
            let mut done = Vec::new();
            let parts = (lesson.parts)();
            let count = parts.len().max(1) as f64;
            for (i, part) in parts.into_iter().enumerate() {
                let report = move |fraction: f64| {
                    let percent = ((i as f64 + fraction.clamp(0.0, 1.0)) / count * 100.0).floor();
                    progress.set(Progress::Running(percent as u8));
                };
                match run_part(part, report).await {
                    Ok(finished) => done.push(finished),
                    Err(e) => return progress.set(Progress::Failed(e.words(lang.get_untracked()))),
                }
            }
            progress.set(Progress::Done(done));
        });
    };
    let heading_id = format!("{}-title", lesson.key);
    let lab_workflow = (lesson.parts)()
        .first()
        .map(|part| match part {
            Part::Compare(r) => r.workflow_id.clone(),
            Part::Load(r) => r.workflow_id.clone(),
        })
        .unwrap_or_default();
    view! {
        <section class="lesson" id=lesson.key aria-labelledby=heading_id.clone()>
            <h2 id=heading_id.clone()>{move || text(lang.get(), lesson.key).title}</h2>
            <p>{move || text(lang.get(), lesson.key).claim}</p>
            <p class="experiment">{move || text(lang.get(), lesson.key).experiment}</p>
            <div class="lesson-actions">
                <button class="primary" on:click=start disabled=running>
                    {move || match progress.get() {
                        Progress::Running(_) => td_string!(lang.get(), learn.running),
                        Progress::Done(_) => td_string!(lang.get(), learn.again),
                        _ => td_string!(lang.get(), learn.run),
                    }}
                </button>
                <a class="button" href=format!("/lab?workflow={lab_workflow}")>
                    {tr!(lang, learn.open_lab)}
                </a>
            </div>
            <div
                class="finding"
                role="status"
                aria-label=move || {
                    td_string!(lang.get(), learn.result, lesson = text(lang.get(), lesson.key).title)
                        .to_string()
                }
                data-parts=move || progress.with(part_ids)
            >
                {move || match progress.get() {
                    Progress::Running(percent) => Some(
                        view! {
                            <div class="lesson-progress">
                                <progress
                                    max="100"
                                    value=percent
                                    aria-label=td_string!(lang.get(), learn.progress, percent = percent)
                                ></progress>
                                <span>{td_string!(lang.get(), learn.progress, percent = percent)}</span>
                            </div>
                        }
                        .into_any(),
                    ),
                    Progress::Done(parts) => {
                        let found = figures(lesson.key, &parts);
                        let verdicts = verdicts(lang.get(), lesson, &parts);
                        Some(view! { {finding_view(lang.get(), lesson.key, &found)} {verdicts} }.into_any())
                    }
                    Progress::Failed(message) => Some(
                        view! {
                            <p class="error" role="alert">
                                {td_string!(lang.get(), learn.failed, message = message.clone()).to_string()}
                            </p>
                        }
                        .into_any(),
                    ),
                    _ => None,
                }}
            </div>
            <p class="examples">
                {tr!(lang, learn.examples)}
                {lesson
                    .examples
                    .iter()
                    .map(|&key| {
                        view! {
                            " "
                            <button
                                class="small"
                                aria-label=move || {
                                    td_string!(lang.get(), learn.open_example, title = template_title(lang.get(), key))
                                        .to_string()
                                }
                                on:click=move |_| open_example(key)
                            >
                                {move || template_title(lang.get(), key)}
                            </button>
                        }
                    })
                    .collect_view()}
            </p>
        </section>
    }
}

/// For a lesson that verifies: each style's headline in words — how many schedules break
/// an invariant and the shortest that does, as a story — the flow as drawn first.
fn verdicts(locale: Locale, lesson: &'static Lesson, parts: &[Finished]) -> Option<impl IntoView> {
    let Some(Finished::Compare(batch)) = parts.first() else {
        return None;
    };
    let verified = &batch.result.as_ref()?.verifications;
    if verified.is_empty() {
        return None;
    }
    let workflow = template(lesson.examples.first()?).map(crate::model::examples::from_template)?;
    Some(view! {
        <ul class="verdicts">
            {verified
                .iter()
                .filter(|v| v.style != crate::model::lab::LabStyle::Choreography)
                .map(|v| {
                    view! {
                        <li data-style=format!("{:?}", v.style).to_lowercase()>
                            <strong>{v.style.words(locale)}</strong>
                            ": "
                            {v.exploration.headline(&workflow, locale)}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    })
}

/// The ids of the finished parts (`batch:<id>` or `load:<id>`), for whoever checks the
/// figures against the lab's own results.
fn part_ids(progress: &Progress) -> String {
    match progress {
        Progress::Done(parts) => parts
            .iter()
            .map(|p| match p {
                Finished::Compare(b) => format!("batch:{}", b.id),
                Finished::Load(t) => format!("load:{}", t.id),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Starts one part in the lab and waits for it to end, reporting how far it is (0 to 1)
/// at each look.
async fn run_part(part: Part, report: impl Fn(f64)) -> Result<Finished, ApiFailure> {
    match part {
        Part::Compare(request) => {
            let batch: Batch = client::post_json("/api/lab/batches", &request).await?;
            let path = format!("/api/lab/batches/{}", batch.id);
            let batch: Batch = client::until_ended(&path, POLL_MS, |b: &Batch| {
                let (done, total) = b
                    .progress
                    .iter()
                    .fold((0, 0), |(d, t), p| (d + p.done, t + p.total));
                report(f64::from(done) / f64::from(total.max(1)));
                b.state == BatchState::Running
            })
            .await?;
            Ok(Finished::Compare(Box::new(batch)))
        }
        Part::Load(request) => {
            let test: LoadTest = client::post_json("/api/lab/loads", &request).await?;
            let path = format!("/api/lab/loads/{}", test.id);
            let styles = crate::model::lab::LabStyle::ALL.len() as f64;
            let test: LoadTest = client::until_ended(&path, POLL_MS, |t: &LoadTest| {
                // Each style's share, by the runs it has started of those it will start.
                let planned = f64::from(t.request.rate * t.request.seconds).max(1.0);
                let started: f64 = t
                    .styles
                    .iter()
                    .map(|s| (f64::from(s.started) / planned).min(1.0))
                    .sum();
                report(started / styles);
                t.state == BatchState::Running
            })
            .await?;
            Ok(Finished::Load(Box::new(test)))
        }
    }
}

/// Opens a template in the editor, read-only (the first edit there makes the user's copy).
fn open_example(key: &'static str) {
    if template(key).is_some() {
        let _ = window()
            .location()
            .set_href(&format!("/?workflow={}", template_id(key)));
    }
}

/// A number as the page's language writes it.
fn number(locale: Locale, value: f64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let format = js_sys::Intl::NumberFormat::new(
            &js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(format_tag(locale))),
            &js_sys::Object::new(),
        );
        if let Some(text) = format
            .format()
            .call1(
                &wasm_bindgen::JsValue::NULL,
                &wasm_bindgen::JsValue::from_f64(value),
            )
            .ok()
            .and_then(|v| v.as_string())
        {
            return text;
        }
    }
    let _ = (locale, format_tag(locale));
    format!("{value}")
}

fn with_unit(locale: Locale, figure: &Figure) -> String {
    let value = number(locale, figure.value);
    match figure.unit {
        Unit::Ms => td_string!(locale, learn.unit_ms, value = value).to_string(),
        Unit::PerSecond => td_string!(locale, learn.unit_rate, value = value).to_string(),
        Unit::Count => value,
    }
}

/// The finding in words, then the figures, each marked for the reader (and for tests).
fn finding_view(locale: Locale, key: &str, found: &[Figure]) -> impl IntoView {
    let v = |id: &str| {
        found
            .iter()
            .find(|f| f.id == id)
            .map(|f| number(locale, f.value))
            .unwrap_or_default()
    };
    let sentence = match key {
        "single_point" => td_string!(
            locale,
            learn.single_point.finding,
            orchestration = v("orchestration_p50"),
            choreography = v("choreography_p50"),
            standby = v("standby_p50")
        )
        .to_string(),
        "bottleneck" => td_string!(
            locale,
            learn.bottleneck.finding,
            rate = v("rate"),
            orchestration = v("orchestration_throughput"),
            queue = v("orchestration_queue"),
            choreography = v("choreography_throughput")
        )
        .to_string(),
        "hop" => td_string!(
            locale,
            learn.hop.finding,
            orchestration = v("orchestration_p50"),
            choreography = v("choreography_p50"),
            cost = v("hop_cost"),
            replies = v("hop_replies"),
            message = crate::model::lessons::ORCHESTRATOR_MESSAGE_MS,
            modelled = v("hop_modelled")
        )
        .to_string(),
        "errors" => td_string!(
            locale,
            learn.errors.finding,
            runs = v("runs"),
            card_orchestration = v("card_handled_orchestration"),
            card_choreography = v("card_handled_choreography"),
            stock_orchestration = v("stock_compensated_orchestration"),
            stock_choreography = v("stock_broken_choreography")
        )
        .to_string(),
        "coupling" => td_string!(
            locale,
            learn.coupling.finding,
            orchestrator = v("orchestrator_knows"),
            orchestration_service = v("service_knows_orchestration"),
            contracts = v("event_contracts"),
            choreography_service = v("service_knows_choreography")
        )
        .to_string(),
        "visibility" => td_string!(
            locale,
            learn.visibility.finding,
            orchestration_places = v("orchestration_places"),
            orchestration_logs = v("orchestration_logs"),
            choreography_places = v("choreography_places"),
            choreography_logs = v("choreography_logs"),
            chain = v("longest_chain")
        )
        .to_string(),
        "semantic" => td_string!(
            locale,
            learn.semantic.finding,
            small = v("small_steps"),
            small_changed = v("small_changed"),
            large = v("large_steps"),
            large_changed = v("large_changed")
        )
        .to_string(),
        "hybrid" => td_string!(
            locale,
            learn.hybrid.finding,
            hybrid_messages = v("hybrid_orchestrator_messages"),
            hybrid_knows = v("hybrid_knows"),
            orchestration_messages = v("orchestration_orchestrator_messages"),
            orchestration_knows = v("orchestration_knows"),
            hybrid_contracts = v("hybrid_contracts"),
            choreography_contracts = v("choreography_contracts")
        )
        .to_string(),
        "waiting" => td_string!(
            locale,
            learn.waiting.finding,
            runs = v("runs"),
            orchestrated = v("orchestrated_compensated"),
            stalled = v("unwatched_stalled"),
            handled = v("watched_handled")
        )
        .to_string(),
        "conditional_choice" => td_string!(
            locale,
            learn.conditional_choice.finding,
            orchestrator = v("rule_orchestrator"),
            publisher = v("rule_publisher"),
            subscribers = v("rule_subscribers")
        )
        .to_string(),
        "find_the_bug" => td_string!(
            locale,
            learn.find_the_bug.finding,
            choreographed_broken = v("choreographed_broken"),
            choreographed_schedules = v("choreographed_schedules"),
            orchestrated_broken = v("orchestrated_broken"),
            orchestrated_schedules = v("orchestrated_schedules")
        )
        .to_string(),
        "rely_on_input" => td_string!(
            locale,
            learn.rely_on_input.finding,
            lean_queries = v("lean_queries"),
            lean_p50 = v("lean_p50"),
            carried_queries = v("carried_queries"),
            carried_p50 = v("carried_p50"),
            orchestrated_queries = v("orchestrated_queries")
        )
        .to_string(),
        _ => String::new(),
    };
    view! {
        <p class="finding-sentence">{sentence}</p>
        <dl class="figures">
            {found
                .iter()
                .map(|figure| {
                    view! {
                        <div class="figure" data-figure=figure.id data-value=figure.value.to_string()>
                            <dt>{figure_label(locale, figure.id)}</dt>
                            <dd>{with_unit(locale, figure)}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// A lesson's words in the page's language.
struct LessonText {
    title: &'static str,
    claim: &'static str,
    experiment: &'static str,
}

fn text(locale: Locale, key: &str) -> LessonText {
    macro_rules! lesson {
        ($k:ident) => {
            LessonText {
                title: td_string!(locale, learn.$k.title),
                claim: td_string!(locale, learn.$k.claim),
                experiment: td_string!(locale, learn.$k.experiment),
            }
        };
    }
    match key {
        "single_point" => lesson!(single_point),
        "bottleneck" => lesson!(bottleneck),
        "hop" => lesson!(hop),
        "errors" => lesson!(errors),
        "coupling" => lesson!(coupling),
        "visibility" => lesson!(visibility),
        "semantic" => lesson!(semantic),
        "waiting" => lesson!(waiting),
        "conditional_choice" => lesson!(conditional_choice),
        "rely_on_input" => lesson!(rely_on_input),
        "find_the_bug" => lesson!(find_the_bug),
        _ => lesson!(hybrid),
    }
}

fn figure_label(locale: Locale, id: &str) -> &'static str {
    macro_rules! labels {
        ($($k:ident),*) => {
            match id {
                $(stringify!($k) => td_string!(locale, learn.figure.$k),)*
                _ => "",
            }
        };
    }
    labels!(
        orchestration_p50,
        choreography_p50,
        standby_p50,
        rate,
        orchestration_throughput,
        choreography_throughput,
        orchestration_queue,
        choreography_queue,
        hop_cost,
        hop_replies,
        hop_modelled,
        runs,
        card_handled_orchestration,
        card_handled_choreography,
        stock_compensated_orchestration,
        stock_broken_choreography,
        orchestrator_knows,
        service_knows_orchestration,
        event_contracts,
        service_knows_choreography,
        small_steps,
        small_changed,
        large_steps,
        large_changed,
        hybrid_orchestrator_messages,
        orchestration_orchestrator_messages,
        hybrid_knows,
        orchestration_knows,
        hybrid_contracts,
        choreography_contracts,
        orchestration_places,
        choreography_places,
        orchestration_logs,
        choreography_logs,
        longest_chain,
        rule_orchestrator,
        rule_publisher,
        rule_subscribers,
        lean_queries,
        lean_p50,
        carried_queries,
        carried_p50,
        orchestrated_queries,
        orchestrated_compensated,
        unwatched_stalled,
        watched_handled,
        choreographed_schedules,
        choreographed_broken,
        orchestrated_schedules,
        orchestrated_broken
    )
}
