//! The run: following it live, and the run panel under the canvas.
//!
//! - [`transport`]: the run's WebSocket (reconnect, resume, per-frame batching) and the runs
//!   feed — the only writer of the run slice.
//! - The panel's tabs: [`summary`], [`timeline`], [`log_view`], [`causality`], [`replay`],
//!   [`runs`].

pub mod causality;
pub mod log_view;
pub mod replay;
pub mod runs;
pub mod summary;
pub mod timeline;
pub mod transport;

use leptos::prelude::*;

use crate::i18n::{td_string, Locale};
use crate::ui::common::language::use_lang;

use self::causality::Causality;
use self::log_view::Log;
use self::replay::Replay;
use self::runs::Runs;
use self::summary::Summary;
use self::timeline::TimelineView;

/// The tabs other than Summary (which the server renders with the page): their code is a
/// chunk of its own, fetched the first time one is opened (`cargo leptos build --split`).
#[lazy]
fn lazy_tab(tab: Tab) -> AnyView {
    match tab {
        Tab::Summary => view! { <Summary/> }.into_any(),
        Tab::Timeline => view! { <TimelineView/> }.into_any(),
        Tab::Log => view! { <Log/> }.into_any(),
        Tab::Causality => view! { <Causality/> }.into_any(),
        Tab::Replay => view! { <Replay/> }.into_any(),
        Tab::Runs => view! { <Runs/> }.into_any(),
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
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Summary,
        Tab::Timeline,
        Tab::Log,
        Tab::Causality,
        Tab::Replay,
        Tab::Runs,
    ];

    fn label(self, locale: Locale) -> &'static str {
        match self {
            Tab::Summary => td_string!(locale, tabs.summary),
            Tab::Timeline => td_string!(locale, tabs.timeline),
            Tab::Log => td_string!(locale, tabs.log),
            Tab::Causality => td_string!(locale, tabs.causality),
            Tab::Replay => td_string!(locale, tabs.replay),
            Tab::Runs => td_string!(locale, tabs.runs),
        }
    }
}

/// The run panel: its tabs, under the canvas, with a height of its own (drag its top edge).
/// Arrow keys move between the tabs, as in any tab list.
#[component]
pub fn RunPanel() -> impl IntoView {
    let lang = use_lang();
    let tab = RwSignal::new(Tab::Summary);
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
        <section class="run-panel" aria-label=tr!(lang, tabs.panel)>
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
                            on:click=move |_| tab.set(which)
                        >
                            {move || which.label(lang.get())}
                        </button>
                    })
                    .collect_view()}
            </div>
            <div
                class="tab-body"
                id="run-tab-body"
                role="tabpanel"
                tabindex="0"
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
