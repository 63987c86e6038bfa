//! The Tests tab: the scenarios the open workflow keeps, run as tests on the server
//! (`POST /api/workflows/{id}/test`, virtual time, the engine's own core) — the headline
//! first, then each scenario passed (✓) or failed (✗) with every difference in words. A
//! scenario plays as a real run with ▶ (its input, seed and faults), goes with ×, and an
//! ended run becomes one with "Keep this run as a scenario": its input, seed and faults,
//! and how it ended — its outcome and every step's final state — as what it expects.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::transport::open_run;
use crate::model::api::RunRequest;
use crate::model::edit::GraphChange;
use crate::model::scenario::{Expect, Scenario, TestReport};
use crate::model::{RunEvent, RunStatus, Workflow};
use crate::ui::client;
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::scenario_name;
use crate::ui::common::words::run_status;
use crate::ui::state::{Document, Notice, RunState, Saving};

/// A scenario of the open run: what started it and how it ended (`None` while it runs).
fn kept_from(run: &RunState, workflow: &Workflow, l: crate::i18n::Locale) -> Option<Scenario> {
    let view = run.run.get_untracked()?;
    if view.status == RunStatus::Running {
        return None;
    }
    let (input, seed, faults) = run.log.with_untracked(|log| {
        log.iter().find_map(|r| match &r.event {
            RunEvent::RunStarted {
                input,
                seed,
                faults,
                ..
            } => Some((input.as_ref().clone(), *seed, faults.clone())),
            _ => None,
        })
    })?;
    let taken: Vec<&str> = workflow.scenarios.iter().map(|s| s.name.as_str()).collect();
    let name = (1..)
        .map(|n| format!("{} {n}", run_status(l, view.status)))
        .map(|n| capitalised(&n))
        .find(|n| !taken.contains(&n.as_str()))
        .unwrap_or_default();
    Some(Scenario {
        name,
        key: None,
        input: match input {
            serde_json::Value::Object(map) => map,
            _ => Default::default(),
        },
        faults,
        seed: Some(seed),
        expect: Expect {
            outcome: Some(view.status),
            steps: workflow
                .nodes
                .iter()
                .map(|n| {
                    let state = view.steps.get(&n.id).map(|s| s.state).unwrap_or_default();
                    (n.id.clone(), state)
                })
                .collect(),
        },
    })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[component]
pub fn Tests() -> impl IntoView {
    let document = expect_context::<Document>();
    let run = expect_context::<RunState>();
    let saving = expect_context::<Saving>();
    let notice = expect_context::<Notice>();
    let lang = use_lang();
    let report = RwSignal::new(None::<TestReport>);
    let testing = RwSignal::new(false);
    // A report is of the flow and its scenarios as they were: any edit leaves it behind.
    Effect::new(move |previous: Option<u64>| {
        let now = document.revision.get();
        if previous.is_some_and(|p| p != now) {
            report.set(None);
        }
        now
    });
    let run_tests = move |_| {
        testing.set(true);
        spawn_local(async move {
            let Some(id) = saving.saved_id().await else {
                testing.set(false);
                return;
            };
            let path = format!("/api/workflows/{id}/test");
            match client::post_json::<TestReport>(&path, &serde_json::json!({})).await {
                Ok(r) => report.set(Some(r)),
                Err(e) => notice.fail(e),
            }
            testing.set(false);
        });
    };
    let keep = move |_| {
        let l = lang.get_untracked();
        let Some(scenario) = document.doc.with_untracked(|w| kept_from(&run, w, l)) else {
            return;
        };
        let mut all = document.doc.with_untracked(|w| w.scenarios.clone());
        all.push(scenario);
        document.edit(GraphChange::SetScenarios(all));
    };
    let remove = move |index: usize| {
        let mut all = document.doc.with_untracked(|w| w.scenarios.clone());
        if index < all.len() {
            all.remove(index);
            document.edit(GraphChange::SetScenarios(all));
        }
    };
    let play = move |scenario: Scenario| {
        spawn_local(async move {
            let Some(id) = saving.saved_id().await else {
                return;
            };
            let request = RunRequest {
                input: Some(serde_json::Value::Object(scenario.input.clone())),
                seed: Some(scenario.seed()),
                speed: None,
                faults: Some(scenario.faults.clone()),
            };
            match client::start_run(&id, &request).await {
                Ok(started) => document
                    .doc
                    .with_untracked(|w| open_run(run, w, started.id)),
                Err(e) => notice.fail(e),
            }
        });
    };
    let can_keep = move || {
        run.run
            .with(|r| r.as_ref().is_some_and(|v| v.status != RunStatus::Running))
    };
    let headline = move || {
        let l = lang.get();
        match report.get() {
            Some(r) => r.headline(l),
            None => match document.doc.with(|w| w.scenarios.len()) {
                0 => td_string!(l, scenario.headline_none).to_string(),
                count => td_string!(l, tests.not_run, count = count).to_string(),
            },
        }
    };
    view! {
        <div class="tests">
            <div class="tests-bar">
                <button
                    class="primary"
                    disabled=move || testing.get() || document.doc.with(|w| w.scenarios.is_empty())
                    on:click=run_tests
                >
                    {move || if testing.get() { tr!(lang, tests.running) } else { tr!(lang, tests.run) }}
                </button>
                <button disabled=move || !can_keep() on:click=keep title=tr!(lang, tests.keep_hint)>
                    {tr!(lang, tests.keep)}
                </button>
            </div>
            <p class="tests-headline" role="status">{headline}</p>
            <ul class="tests-list">
                {move || {
                    let l = lang.get();
                    let shown = report.get();
                    document.doc.with(|w| {
                        w.scenarios
                            .iter()
                            .enumerate()
                            .map(|(index, scenario)| {
                                let result = shown
                                    .as_ref()
                                    .and_then(|r| r.results.iter().find(|r| r.name == scenario.name))
                                    .cloned();
                                let name = scenario_name(l, scenario.key.as_deref(), &scenario.name);
                                let (mark, class) = match &result {
                                    Some(r) if r.passed => ("✓", "scenario passed"),
                                    Some(_) => ("✗", "scenario failed"),
                                    None => ("·", "scenario"),
                                };
                                let expects = scenario
                                    .expect
                                    .outcome
                                    .map(|o| td_string!(l, tests.expects, outcome = run_status(l, o)).to_string())
                                    .unwrap_or_default();
                                let ended = result
                                    .as_ref()
                                    .map(|r| td_string!(l, tests.ended, outcome = run_status(l, r.status), ms = r.duration_ms).to_string())
                                    .unwrap_or_default();
                                let differences: Vec<String> = result
                                    .map(|r| r.differences.iter().map(|d| d.words(w, l)).collect())
                                    .unwrap_or_default();
                                let to_play = scenario.clone();
                                let play_label = td_string!(l, tests.play, name = name.clone()).to_string();
                                let remove_label = td_string!(l, tests.remove, name = name.clone()).to_string();
                                view! {
                                    <li class=class>
                                        <div class="scenario-line">
                                            <span class="verdict" aria-hidden="true">{mark}</span>
                                            <strong>{name}</strong>
                                            <span class="muted">{expects}</span>
                                            <span class="muted">{ended}</span>
                                            <button class="small" aria-label=play_label.clone() title=play_label on:click=move |_| play(to_play.clone())>"▶"</button>
                                            <button class="small" aria-label=remove_label.clone() title=remove_label on:click=move |_| remove(index)>"×"</button>
                                        </div>
                                        <ul class="differences">
                                            {differences.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                                        </ul>
                                    </li>
                                }
                            })
                            .collect_view()
                    })
                }}
            </ul>
        </div>
    }
}
