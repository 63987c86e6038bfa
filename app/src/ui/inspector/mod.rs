//! The inspector beside the canvas: the selected step's fields and behaviour, the selected
//! edge's kind, outcome and event name — or, with nothing selected, the next run's settings —
//! and the live problems list. It scrolls on its own, so every field stays reachable.
//!
//! - [`selected`]: the selected step's or edge's fields (a lazily loaded chunk).
//! - [`behaviour`]: a step's behaviour fields, validated as typed.
//! - [`run_controls`]: the next run's input, seed, speed and faults.
//! - [`problems`]: the errors and warnings, each selecting its culprit.

pub mod behaviour;
pub mod problems;
pub mod run_controls;
pub mod selected;

use leptos::prelude::*;

use self::problems::ProblemList;
use self::run_controls::RunControls;
use self::selected::selection_fields;
use crate::ui::common::selection::Selection;
use crate::ui::state::{Document, Selected};

#[component]
pub fn Inspector() -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let lang = crate::ui::common::language::use_lang();
    let node = Memo::new(move |_| match selection.get() {
        Some(Selection::Node(id)) => document.doc.with(|d| d.node(&id).cloned()),
        _ => None,
    });
    let edge = Memo::new(move |_| match selection.get() {
        Some(Selection::Edge(id)) => document
            .doc
            .with(|d| d.edges.iter().find(|e| e.id == id).cloned()),
        _ => None,
    });
    // The selected step's and edge's fields are a chunk of their own, fetched when
    // something is first selected (split by `make build`).
    let ever_selected = Memo::new(move |was: Option<&bool>| {
        was.copied().unwrap_or(false) || selection.with(Option::is_some)
    });
    view! {
        <aside class="inspector" aria-label=tr!(lang, inspector.label)>
            {move || ever_selected.get().then(|| Suspend::new(selection_fields(node, edge)))}
            <Show when=move || selection.with(Option::is_none)>
                <p class="hint">{tr!(lang, inspector.hint)}</p>
                <RunControls/>
            </Show>
            <ProblemList/>
        </aside>
    }
    .into_any()
}
