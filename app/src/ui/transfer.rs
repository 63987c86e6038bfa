//! Import and export dialogs: a workflow out as Mermaid, the text form or native JSON
//! (rendered in the browser by the shared model), or the canvas as SVG; a workflow in from
//! any supported format through the server, which refuses it whole with the line or field.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::{self, ApiFailure};
use super::editor::Editor;
use crate::model::formats::{export, ExportFormat};

/// Which dialog is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    Import,
    Export,
}

fn data_url(mime: &str, text: &str) -> String {
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("data:{mime};charset=utf-8,{encoded}")
}

#[component]
pub fn TransferDialogs(editor: Editor, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let format = RwSignal::new("mermaid".to_string());
    let exported = move || {
        let f = ExportFormat::parse(&format.get()).unwrap_or(ExportFormat::Mermaid);
        editor.doc.with(|d| export(d, f))
    };
    let file_name = move || {
        let ext = match format.get().as_str() {
            "json" => "json",
            "text" => "txt",
            _ => "mmd",
        };
        let stem: String = editor
            .doc
            .with(|d| d.name.chars().filter(|c| c.is_alphanumeric()).collect());
        format!(
            "{}.{ext}",
            if stem.is_empty() {
                "workflow".into()
            } else {
                stem
            }
        )
    };
    let svg_href = move || {
        editor.revision.track();
        let markup = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("svg.canvas").ok().flatten())
            .map(|el| el.outer_html())
            .unwrap_or_default();
        data_url("image/svg+xml", &markup)
    };

    let source = RwSignal::new(String::new());
    let import_format = RwSignal::new("auto".to_string());
    let import_error = RwSignal::new(None::<ApiFailure>);
    let import = move |_| {
        let text = source.get_untracked();
        let chosen = import_format.get_untracked();
        spawn_local(async move {
            let format = (chosen != "auto").then_some(chosen.as_str());
            match client::import_workflow(&text, format).await {
                Ok(record) => {
                    import_error.set(None);
                    source.set(String::new());
                    dialog.set(None);
                    editor.open(Some(record.id), record.workflow);
                    editor.refresh_list();
                }
                Err(e) => import_error.set(Some(e)),
            }
        });
    };

    view! {
        <Show when=move || dialog.get() == Some(Dialog::Export)>
            <div class="dialog" role="dialog" aria-label="Export">
                <h2>"Export"</h2>
                <label>
                    <span>"Format"</span>
                    <select
                        aria-label="Export format"
                        prop:value=move || format.get()
                        on:change=move |ev| format.set(event_target_value(&ev))
                    >
                        <option value="mermaid">"Mermaid (flowchart LR)"</option>
                        <option value="text">"Text (a -> b, a ~> b : Event)"</option>
                        <option value="json">"Native JSON"</option>
                    </select>
                </label>
                <textarea aria-label="Exported text" readonly rows="12" prop:value=exported></textarea>
                <div class="dialog-actions">
                    <a
                        class="button"
                        download=file_name
                        href=move || data_url("text/plain", &exported())
                    >
                        "Download"
                    </a>
                    <a class="button" download="workflow.svg" href=svg_href>
                        "Download canvas (SVG)"
                    </a>
                    <button on:click=move |_| dialog.set(None)>"Close"</button>
                </div>
            </div>
        </Show>
        <Show when=move || dialog.get() == Some(Dialog::Import)>
            <div class="dialog" role="dialog" aria-label="Import">
                <h2>"Import"</h2>
                <label>
                    <span>"Format"</span>
                    <select
                        aria-label="Import format"
                        prop:value=move || import_format.get()
                        on:change=move |ev| import_format.set(event_target_value(&ev))
                    >
                        <option value="auto">"Detect"</option>
                        <option value="native">"Native JSON"</option>
                        <option value="article">"Article JSON {workflow: {steps}}"</option>
                        <option value="conductor">"Conductor JSON (tasks)"</option>
                        <option value="text">"Text (a -> b, a ~> b : Event, a >> b)"</option>
                    </select>
                </label>
                <textarea
                    aria-label="Text to import"
                    rows="12"
                    placeholder="order -> payment\npayment ~> email : PaymentCharged"
                    prop:value=move || source.get()
                    on:input=move |ev| source.set(event_target_value(&ev))
                ></textarea>
                <Show when=move || import_error.with(Option::is_some)>
                    <div class="failure" role="alert">
                        <strong>{move || import_error.with(|e| e.as_ref().map(|e| e.message.clone()))}</strong>
                        <ul>
                            {move || import_error.with(|e| e.as_ref().map(|e| e.problems.clone()).unwrap_or_default())
                                .into_iter()
                                .map(|p| view! { <li>{format!("{}: {}", p.path, p.message)}</li> })
                                .collect_view()}
                        </ul>
                    </div>
                </Show>
                <div class="dialog-actions">
                    <button class="primary" on:click=import>"Import"</button>
                    <button on:click=move |_| dialog.set(None)>"Close"</button>
                </div>
            </div>
        </Show>
    }
    .into_any()
}
