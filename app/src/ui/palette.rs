//! The palette: the kinds of step a user adds (see [`crate::ui::common::presets`]). A click
//! (or Enter) places the step in a free spot; dragging it onto the canvas places it where it
//! is dropped (the canvas's interaction core takes the drop).

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use crate::ui::common::language::use_lang;
use wasm_bindgen::JsCast;

use crate::ui::common::presets::PRESETS;
use crate::ui::state::{Selected, ViewState};

#[component]
pub fn Palette() -> impl IntoView {
    let selected = expect_context::<Selected>();
    let view = expect_context::<ViewState>();
    let lang = use_lang();
    // A drag that ends anywhere but the canvas adds nothing.
    crate::ui::window_listener(leptos::ev::pointerup, move |_| view.palette_drag.set(None));
    view! {
        <div class="palette" role="group" aria-label=tr!(lang, canvas.palette)>
            {PRESETS
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    view! {
                        <button
                            class="palette-item"
                            class:dragging=move || view.palette_drag.get() == Some(i)
                            aria-label=move || td_string!(lang.get(), canvas.add, name = (p.name)(lang.get())).to_string()
                            title=move || {
                                let l = lang.get();
                                td_string!(l, canvas.palette_title, name = (p.name)(l), hint = (p.hint)(l)).to_string()
                            }
                            on:pointerdown=move |ev: PointerEvent| {
                                if ev.button() != 0 {
                                    return;
                                }
                                // Touch captures the pointer to the button; release it so the
                                // canvas sees where the finger lifts.
                                if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                    let _ = el.release_pointer_capture(ev.pointer_id());
                                }
                                view.palette_drag.set(Some(i));
                            }
                            on:click=move |_| selected.add_step(i, None)
                        >
                            <span aria-hidden="true">{p.glyph}</span>
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}
