//! The toolbar: the workflow's name, the selected edge's kind, delete, undo and redo, auto
//! layout, the "More" menu (import, export, convert, the lab, keyboard shortcuts),
//! and — never wrapped away — Save, the live run's controls and Run. Tooltips show each
//! action's key from the one key table.

use leptos::prelude::*;

use super::commands::Commands;
use crate::model::{EdgeKind, GraphChange};
use crate::ui::common::actions::{shortcut, Action, HELP};
use crate::ui::transfer::Dialog;

fn tip(what: &str, action: Action) -> String {
    format!("{what} ({})", shortcut(action))
}

#[component]
pub fn Toolbar(commands: Commands, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let Commands {
        document,
        run,
        form,
        ..
    } = commands;
    let kind_is = move |kind: EdgeKind| document.selected_edge().map(|e| e.kind) == Some(kind);
    let no_edge = move || document.selected_edge().is_none();
    let menu = RwSignal::new(false);
    let help = RwSignal::new(false);
    let pick = move |d: Dialog| {
        menu.set(false);
        dialog.set(Some(d));
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label="Editor tools">
            <input
                class="workflow-name"
                aria-label="Workflow name"
                prop:value=move || document.doc.with(|d| d.name.clone())
                on:input=move |ev| document.edit(GraphChange::Rename(event_target_value(&ev)))
            />
            <span class="group" role="group" aria-label="Edge kind">
                <button
                    class="kind command"
                    title=tip("Make the selected edge a command", Action::MakeCommand)
                    aria-pressed=move || kind_is(EdgeKind::Command).to_string()
                    disabled=no_edge
                    on:click=move |_| commands.perform(Action::MakeCommand)
                >
                    "Command"
                </button>
                <button
                    class="kind event"
                    title=tip("Make the selected edge an event", Action::MakeEvent)
                    aria-pressed=move || kind_is(EdgeKind::Event).to_string()
                    disabled=no_edge
                    on:click=move |_| commands.perform(Action::MakeEvent)
                >
                    "Event"
                </button>
            </span>
            <button
                title=tip("Delete the selection", Action::Delete)
                on:click=move |_| commands.perform(Action::Delete)
                disabled=move || document.selection.with(Option::is_none)
            >
                "Delete"
            </button>
            <button
                aria-label="Undo"
                title=tip("Undo", Action::Undo)
                on:click=move |_| commands.perform(Action::Undo)
                disabled=move || !document.can_undo()
            >
                "↶"
            </button>
            <button
                aria-label="Redo"
                title=tip("Redo", Action::Redo)
                on:click=move |_| commands.perform(Action::Redo)
                disabled=move || !document.can_redo()
            >
                "↷"
            </button>
            <button
                title=tip("Lay the steps out left to right", Action::AutoLayout)
                on:click=move |_| commands.perform(Action::AutoLayout)
            >
                "Auto layout"
            </button>
            <div class="menu-holder">
                <button
                    class="menu-button"
                    aria-haspopup="true"
                    aria-expanded=move || menu.get().to_string()
                    aria-controls="toolbar-more"
                    on:click=move |_| menu.update(|m| *m = !*m)
                >
                    "More ▾"
                </button>
                <Show when=move || menu.get()>
                    <div
                        class="menu"
                        id="toolbar-more"
                        role="group"
                        aria-label="More"
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" {
                                menu.set(false);
                            }
                        }
                    >
                        <button on:click=move |_| pick(Dialog::Import)>"Import…"</button>
                        <button on:click=move |_| pick(Dialog::Export)>"Export…"</button>
                        <button on:click=move |_| pick(Dialog::Convert)>"Convert…"</button>
                        <a
                            class="button"
                            href=move || format!("/lab?workflow={}", document.workflow_id.get().unwrap_or_default())
                            title="Run this flow as drawn, as all orchestration and as all choreography, side by side"
                        >
                            "Lab"
                        </a>
                        <button on:click=move |_| {
                            menu.set(false);
                            help.set(true);
                        }>"Keyboard shortcuts"</button>
                    </div>
                </Show>
            </div>
            <span class="spacer"></span>
            <div class="run-controls" role="group" aria-label="Run controls">
                <button title=tip("Save", Action::Save) on:click=move |_| commands.save() disabled=move || document.saving.get()>
                    "Save"
                </button>
                <Show when=move || run.running()>
                    <button class="cancel" aria-label="Cancel run" on:click=move |_| commands.cancel_run()>"Cancel"</button>
                    <button
                        class="crash"
                        aria-label="Crash orchestrator"
                        title="The orchestrator is down for 3 s of simulated time: commands and replies wait, events keep flowing"
                        on:click=move |_| commands.crash(None)
                    >
                        "⚡ Crash"
                    </button>
                    <button
                        class="crash"
                        aria-label="Crash (standby)"
                        title="Crash it with a standby that takes over after a 500 ms lease"
                        on:click=move |_| commands.crash(Some(500))
                    >
                        "⚡ Standby"
                    </button>
                </Show>
                <button
                    class="primary run"
                    title=tip("Run", Action::Run)
                    on:click=move |_| commands.start_run()
                    disabled=move || run.running() || !form.valid()
                >
                    "Run"
                </button>
            </div>
        </div>
        // The shortcuts list is a chunk of its own, fetched when first asked for.
        {move || help.get().then(|| Suspend::new(shortcuts_dialog(help)))}
    }
    .into_any()
}

/// The keyboard shortcuts, from the key table (lazily loaded).
#[lazy]
fn shortcuts_dialog(help: RwSignal<bool>) -> AnyView {
    view! {
            <div class="dialog shortcuts" role="dialog" aria-modal="false" aria-label="Keyboard shortcuts">
                <h2>"Keyboard shortcuts"</h2>
                <dl>
                    {HELP.iter().map(|(action, what)| view! {
                        <dt><kbd>{shortcut(*action)}</kbd></dt>
                        <dd>{*what}</dd>
                    }).collect_view()}
                    <dt><kbd>"Tab"</kbd></dt>
                    <dd>"move between the steps (and everything else on the page)"</dd>
                    <dt><kbd>"Space"</kbd></dt>
                    <dd>"hold and drag to pan"</dd>
                </dl>
                <button on:click=move |_| help.set(false)>"Close"</button>
            </div>
    }
    .into_any()
}
