//! The run: following it live, and the run panel under the canvas.
//!
//! - [`transport`]: the run's WebSocket (reconnect, resume, per-frame batching) and the runs
//!   feed — the only writer of the run slice.
//! - The panel's tabs: [`summary`], [`timeline`], [`log_view`], [`causality`], [`replay`],
//!   [`runs`], [`tests`] (the workflow's scenarios, run as tests).

pub mod causality;
pub mod log_view;
pub mod replay;
pub mod runs;
pub mod summary;
pub mod tests;
pub mod timeline;
pub mod transport;

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::ui::common::language::use_lang;

use self::causality::Causality;
use self::log_view::Log;
use self::replay::Replay;
use self::runs::Runs;
use self::summary::Summary;
use self::tests::Tests;
use self::timeline::TimelineView;

/// The tabs other than Summary (which the server renders with the page): their code is a
/// chunk of its own, fetched the first time one is opened (split by `make build`).
#[lazy]
fn lazy_tab(tab: Tab) -> AnyView {
    match tab {
        Tab::Summary => view! { <Summary/> }.into_any(),
        Tab::Timeline => view! { <TimelineView/> }.into_any(),
        Tab::Log => view! { <Log/> }.into_any(),
        Tab::Causality => view! { <Causality/> }.into_any(),
        Tab::Replay => view! { <Replay/> }.into_any(),
        Tab::Runs => view! { <Runs/> }.into_any(),
        Tab::Tests => view! { <Tests/> }.into_any(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Summary,
    Timeline,
    Log,
    Causality,
    Replay,
    Runs,
    Tests,
}

impl Tab {
    const ALL: [Tab; 7] = [
        Tab::Summary,
        Tab::Timeline,
        Tab::Log,
        Tab::Causality,
        Tab::Replay,
        Tab::Runs,
        Tab::Tests,
    ];

    fn label(self, locale: Locale) -> &'static str {
        match self {
            Tab::Summary => td_string!(locale, tabs.summary),
            Tab::Timeline => td_string!(locale, tabs.timeline),
            Tab::Log => td_string!(locale, tabs.log),
            Tab::Causality => td_string!(locale, tabs.causality),
            Tab::Replay => td_string!(locale, tabs.replay),
            Tab::Runs => td_string!(locale, tabs.runs),
            Tab::Tests => td_string!(locale, tabs.tests),
        }
    }
}

/// Where the run panel's height is remembered.
const HEIGHT_KEY: &str = "hybridflow.run-panel-height";
/// The run panel's height when open, unless the user chose another (canvas pixels).
pub const PANEL_HEIGHT: f64 = 230.0;
/// The least height of an open run panel, and the most, as a share of the window.
pub const PANEL_MIN_HEIGHT: f64 = 110.0;
pub const PANEL_MAX_SHARE: f64 = 0.6;
/// How far one arrow key press moves the panel's top edge.
const KEY_STEP: f64 = 20.0;

fn window_height() -> f64 {
    web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(800.0)
}

fn clamp_height(height: f64) -> f64 {
    height.clamp(
        PANEL_MIN_HEIGHT,
        (window_height() * PANEL_MAX_SHARE).max(PANEL_MIN_HEIGHT),
    )
}

/// The run panel: its tabs, under the canvas. It stays folded to its tab strip until there
/// is a run (the canvas keeps the room), opens when one starts or is opened, and folds or
/// opens with its ▾/▴ button or a tab; its height is the user's (drag its top edge, or
/// focus the edge and press the arrow keys), remembered in the browser.
/// Arrow keys move between the tabs, as in any tab list.
#[component]
pub fn RunPanel() -> impl IntoView {
    let lang = use_lang();
    let run = expect_context::<crate::ui::state::RunState>();
    let tab = RwSignal::new(Tab::Summary);
    let open = RwSignal::new(false);
    let height = RwSignal::new(PANEL_HEIGHT);
    Effect::new(move |_| {
        if let Some(saved) =
            crate::ui::client::local_get(HEIGHT_KEY).and_then(|h| h.parse::<f64>().ok())
        {
            height.set(clamp_height(saved));
        }
    });
    // A run started or opened: the panel opens to show it.
    Effect::new(move |previous: Option<Option<String>>| {
        let now = run.run_id.get();
        if now.is_some() && previous.is_some_and(|p| p != now) {
            open.set(true);
        }
        now
    });
    let resize_to = move |h: f64| {
        let h = clamp_height(h);
        height.set(h);
        crate::ui::client::local_set(HEIGHT_KEY, &format!("{h:.0}"));
    };
    // Dragging the top edge: where the drag began, and the height then.
    let dragging = StoredValue::new(None::<(f64, f64)>);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let at = Tab::ALL
            .iter()
            .position(|t| *t == tab.get_untracked())
            .unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (at + 1) % Tab::ALL.len(),
            "ArrowLeft" => (at + Tab::ALL.len() - 1) % Tab::ALL.len(),
            "Home" => 0,
            "End" => Tab::ALL.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        tab.set(Tab::ALL[next]);
        open.set(true);
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&format!("run-tab-{next}")))
        {
            use wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    };
    view! {
        <section
            class="run-panel"
            class:folded=move || !open.get()
            aria-label=tr!(lang, tabs.panel)
            style=move || open.get().then(|| format!("height: {:.0}px", height.get()))
        >
            <Show when=move || open.get()>
                <div
                    class="panel-edge"
                    role="separator"
                    aria-orientation="horizontal"
                    aria-label=tr!(lang, tabs.resize)
                    aria-valuemin=PANEL_MIN_HEIGHT
                    aria-valuemax=move || (window_height() * PANEL_MAX_SHARE).round()
                    aria-valuenow=move || height.get().round()
                    tabindex="0"
                    on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                        ev.prevent_default();
                        use wasm_bindgen::JsCast;
                        if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                            let _ = el.set_pointer_capture(ev.pointer_id());
                        }
                        dragging.set_value(Some((f64::from(ev.client_y()), height.get_untracked())));
                    }
                    on:pointermove=move |ev: leptos::ev::PointerEvent| {
                        if let Some((from, start)) = dragging.get_value() {
                            resize_to(start + from - f64::from(ev.client_y()));
                        }
                    }
                    on:pointerup=move |_| dragging.set_value(None)
                    on:pointercancel=move |_| dragging.set_value(None)
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        let by = match ev.key().as_str() {
                            "ArrowUp" => KEY_STEP,
                            "ArrowDown" => -KEY_STEP,
                            _ => return,
                        };
                        ev.prevent_default();
                        resize_to(height.get_untracked() + by);
                    }
                ></div>
            </Show>
            <div class="tab-strip">
                <div class="tabs" role="tablist" aria-label=tr!(lang, tabs.views) on:keydown=on_key>
                    {Tab::ALL
                        .into_iter()
                        .enumerate()
                        .map(|(i, which)| view! {
                            <button
                                role="tab"
                                id=format!("run-tab-{i}")
                                aria-controls="run-tab-body"
                                aria-selected=move || (tab.get() == which).to_string()
                                tabindex=move || if tab.get() == which { "0" } else { "-1" }
                                on:click=move |_| {
                                    tab.set(which);
                                    open.set(true);
                                }
                            >
                                {move || which.label(lang.get())}
                            </button>
                        })
                        .collect_view()}
                </div>
                <button
                    class="small fold"
                    aria-expanded=move || open.get().to_string()
                    aria-controls="run-tab-body"
                    title=move || if open.get() { td_string!(lang.get(), tabs.collapse) } else { td_string!(lang.get(), tabs.expand) }
                    aria-label=move || if open.get() { td_string!(lang.get(), tabs.collapse) } else { td_string!(lang.get(), tabs.expand) }
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "▾" } else { "▴" }}
                </button>
            </div>
            <div
                class="tab-body"
                id="run-tab-body"
                role="tabpanel"
                tabindex="0"
                hidden=move || !open.get()
                aria-labelledby=move || {
                    let at = Tab::ALL.iter().position(|t| *t == tab.get()).unwrap_or(0);
                    format!("run-tab-{at}")
                }
            >
                {move || match tab.get() {
                    Tab::Summary => view! { <Summary/> }.into_any(),
                    other => Suspend::new(lazy_tab(other)).into_any(),
                }}
            </div>
        </section>
    }
}
