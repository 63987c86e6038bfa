//! The toolbar: the workflow's name, the selected edge's kind, delete, undo and redo, auto
//! layout, the "More" menu (import, export, convert, the lab, keyboard shortcuts),
//! and — never wrapped away — Save, the live run's controls and Run. Tooltips show each
//! action's key from the one key table.

use leptos::prelude::*;

use super::commands::Commands;
use crate::model::{EdgeKind, GraphChange};
use crate::ui::common::actions::{help_text, shortcut, Action, HELP};
use crate::ui::common::language::{use_lang, Lang};
use crate::ui::transfer::Dialog;

fn tip(what: &str, action: Action) -> String {
    format!("{what} ({})", shortcut(action))
}

#[component]
pub fn Toolbar(commands: Commands, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let Commands {
        document,
        selected,
        saving,
        run,
        form,
        ..
    } = commands;
    let lang = use_lang();
    let tip = move |what: fn(crate::i18n::Locale) -> &'static str, action: Action| {
        move || tip(what(lang.get()), action)
    };
    let kind_is = move |kind: EdgeKind| selected.selected_edge().map(|e| e.kind) == Some(kind);
    let no_edge = move || selected.selected_edge().is_none();
    let menu = RwSignal::new(false);
    let help = RwSignal::new(false);
    let pick = move |d: Dialog| {
        menu.set(false);
        dialog.set(Some(d));
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label=tr!(lang, toolbar.label)>
            <input
                class="workflow-name"
                aria-label=tr!(lang, toolbar.name)
                prop:value=move || document.doc.with(|d| d.name.clone())
                on:input=move |ev| document.edit(GraphChange::Rename(event_target_value(&ev)))
            />
            <span class="group" role="group" aria-label=tr!(lang, toolbar.edge_kind)>
                <button
                    class="kind command"
                    title=tip(|l| td_string!(l, toolbar.make_command), Action::MakeCommand)
                    aria-pressed=move || kind_is(EdgeKind::Command).to_string()
                    disabled=no_edge
                    on:click=move |_| commands.perform(Action::MakeCommand)
                >
                    {tr!(lang, toolbar.command)}
                </button>
                <button
                    class="kind event"
                    title=tip(|l| td_string!(l, toolbar.make_event), Action::MakeEvent)
                    aria-pressed=move || kind_is(EdgeKind::Event).to_string()
                    disabled=no_edge
                    on:click=move |_| commands.perform(Action::MakeEvent)
                >
                    {tr!(lang, toolbar.event)}
                </button>
            </span>
            <button
                title=tip(|l| td_string!(l, toolbar.delete_title), Action::Delete)
                on:click=move |_| commands.perform(Action::Delete)
                disabled=move || selected.selection.with(Option::is_none)
            >
                {tr!(lang, toolbar.delete)}
            </button>
            <button
                aria-label=tr!(lang, toolbar.undo)
                title=tip(|l| td_string!(l, toolbar.undo), Action::Undo)
                on:click=move |_| commands.perform(Action::Undo)
                disabled=move || !document.can_undo()
            >
                "↶"
            </button>
            <button
                aria-label=tr!(lang, toolbar.redo)
                title=tip(|l| td_string!(l, toolbar.redo), Action::Redo)
                on:click=move |_| commands.perform(Action::Redo)
                disabled=move || !document.can_redo()
            >
                "↷"
            </button>
            <button
                title=tip(|l| td_string!(l, toolbar.auto_layout_title), Action::AutoLayout)
                on:click=move |_| commands.perform(Action::AutoLayout)
            >
                {tr!(lang, toolbar.auto_layout)}
            </button>
            <div class="menu-holder">
                <button
                    class="menu-button"
                    aria-haspopup="true"
                    aria-expanded=move || menu.get().to_string()
                    aria-controls="toolbar-more"
                    on:click=move |_| menu.update(|m| *m = !*m)
                >
                    {tr!(lang, toolbar.more)}
                </button>
                <Show when=move || menu.get()>
                    <div
                        class="menu"
                        id="toolbar-more"
                        role="group"
                        aria-label=tr!(lang, toolbar.more_label)
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" {
                                menu.set(false);
                            }
                        }
                    >
                        <button on:click=move |_| pick(Dialog::Import)>{tr!(lang, toolbar.import)}</button>
                        <button on:click=move |_| pick(Dialog::Export)>{tr!(lang, toolbar.export)}</button>
                        <button on:click=move |_| pick(Dialog::Convert)>{tr!(lang, toolbar.convert)}</button>
                        <a
                            class="button"
                            href=move || format!("/lab?workflow={}", document.workflow_id.get().unwrap_or_default())
                            title=tr!(lang, toolbar.lab_title)
                        >
                            {tr!(lang, toolbar.lab)}
                        </a>
                        <button on:click=move |_| {
                            menu.set(false);
                            help.set(true);
                        }>{tr!(lang, toolbar.shortcuts)}</button>
                    </div>
                </Show>
            </div>
            <span class="spacer"></span>
            <div class="run-controls" role="group" aria-label=tr!(lang, toolbar.run_controls)>
                <button title=tip(|l| td_string!(l, toolbar.save), Action::Save) on:click=move |_| commands.save() disabled=move || saving.saving.get()>
                    {tr!(lang, toolbar.save)}
                </button>
                <Show when=move || run.running()>
                    <button class="cancel" aria-label=tr!(lang, toolbar.cancel_label) on:click=move |_| commands.cancel_run()>{tr!(lang, toolbar.cancel)}</button>
                    <button
                        class="crash"
                        aria-label=tr!(lang, toolbar.crash_label)
                        title=tr!(lang, toolbar.crash_title)
                        on:click=move |_| commands.crash(None)
                    >
                        {tr!(lang, toolbar.crash)}
                    </button>
                    <button
                        class="crash"
                        aria-label=tr!(lang, toolbar.standby_label)
                        title=tr!(lang, toolbar.standby_title)
                        on:click=move |_| commands.crash(Some(500))
                    >
                        {tr!(lang, toolbar.standby)}
                    </button>
                </Show>
                <button
                    class="primary run"
                    title=tip(|l| td_string!(l, toolbar.run), Action::Run)
                    on:click=move |_| commands.start_run()
                    disabled=move || run.running() || !form.valid()
                >
                    {tr!(lang, toolbar.run)}
                </button>
            </div>
        </div>
        // The shortcuts list is a chunk of its own, fetched when first asked for.
        {move || help.get().then(|| Suspend::new(shortcuts_dialog(help, lang)))}
    }
    .into_any()
}

/// The keyboard shortcuts, from the key table (lazily loaded).
#[lazy]
fn shortcuts_dialog(help: RwSignal<bool>, lang: Lang) -> AnyView {
    view! {
            <div class="dialog shortcuts" role="dialog" aria-modal="false" aria-label=tr!(lang, toolbar.shortcuts)>
                <h2>{tr!(lang, toolbar.shortcuts)}</h2>
                <dl>
                    {HELP.iter().map(|action| view! {
                        <dt><kbd>{shortcut(*action)}</kbd></dt>
                        <dd>{move || help_text(lang.get(), *action)}</dd>
                    }).collect_view()}
                    <dt><kbd>"Tab"</kbd></dt>
                    <dd>{tr!(lang, toolbar.tab)}</dd>
                    <dt><kbd>"Space"</kbd></dt>
                    <dd>{tr!(lang, toolbar.space)}</dd>
                </dl>
                <button on:click=move |_| help.set(false)>{tr!(lang, toolbar.close)}</button>
            </div>
    }
    .into_any()
}
