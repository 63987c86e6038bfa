//! The editor's keyboard and clipboard: named actions from the key table (except while the
//! user types in a field), Space held to pan, and copy/paste of steps as JSON through the
//! system clipboard (so it works between tabs, and into a text editor).

use leptos::prelude::*;

use super::commands::Commands;
use crate::model::edit::Fragment;
use crate::ui::common::actions::{action_for, Chord, Scope};
use crate::ui::window_listener;

fn target_is(ev: &web_sys::Event, tags: &[&str]) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| tags.contains(&el.tag_name().as_str()))
}

fn typing_in_a_field(ev: &web_sys::Event) -> bool {
    target_is(ev, &["INPUT", "TEXTAREA", "SELECT"])
}

/// Whether the event's target is a button or link, where Space means "press".
fn on_a_control(ev: &web_sys::Event) -> bool {
    target_is(ev, &["BUTTON", "A", "SUMMARY"])
}

/// Listens, for as long as the page lives, to the keys and the clipboard.
pub fn listen(commands: Commands) {
    let Commands {
        selected,
        view,
        notice,
        ..
    } = commands;
    window_listener(leptos::ev::keydown, move |ev| {
        if typing_in_a_field(&ev) || ev.default_prevented() {
            return;
        }
        let key = ev.key();
        let ctrl = ev.ctrl_key() || ev.meta_key();
        if key == " " && !ctrl && (view.canvas_hovered.get_untracked() || !on_a_control(&ev)) {
            // Space held turns every drag on the canvas into a pan (as in design tools).
            ev.prevent_default();
            view.space_held.set(true);
            return;
        }
        let chord = Chord {
            key: &key,
            ctrl,
            shift: ev.shift_key(),
            alt: ev.alt_key(),
        };
        if let Some((action, Scope::Page)) = action_for(chord) {
            // Enter on a focused button presses it; only Ctrl+Enter runs.
            ev.prevent_default();
            commands.perform(action);
        }
    });
    window_listener(leptos::ev::keyup, move |ev| {
        if ev.key() == " " && view.space_held.get_untracked() {
            // The pan is over; a focused button is not pressed by it.
            ev.prevent_default();
            view.space_held.set(false);
        }
    });
    window_listener(leptos::ev::blur, move |_| view.space_held.set(false));

    window_listener(leptos::ev::copy, move |ev| {
        if typing_in_a_field(&ev) {
            return;
        }
        if let (Some(fragment), Some(data)) = (selected.selected_fragment(), ev.clipboard_data()) {
            let json = serde_json::to_string_pretty(&fragment).unwrap_or_default();
            if data.set_data("text/plain", &json).is_ok() {
                ev.prevent_default();
            }
        }
    });
    window_listener(leptos::ev::paste, move |ev| {
        if typing_in_a_field(&ev) {
            return;
        }
        let text = ev
            .clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
            .unwrap_or_default();
        match serde_json::from_str::<Fragment>(&text) {
            Ok(fragment) => {
                ev.prevent_default();
                selected.paste(&fragment);
            }
            Err(_) if !text.trim().is_empty() => notice.say(
                "paste: the clipboard holds no Hybridflow steps (expected JSON with \"nodes\")",
            ),
            Err(_) => {}
        }
    });
}
