//! Import and export dialogs: a workflow out as Mermaid, the text form or native JSON
//! (rendered in the browser by the shared model), or the canvas as SVG; a workflow in from
//! any supported format through the server, which refuses it whole with the line or field.

use leptos::prelude::*;

use crate::ui::common::language::use_lang;

use crate::model::convert::{convert_with, copy_name};
use crate::model::formats::{export_in, ExportFormat};
use crate::model::lab::{ConvertRequest, ConvertResponse};
use crate::model::workflow::Decider;
use crate::model::Style;
use crate::ui::client::{self, ApiFailure};
use crate::ui::common::viewport::Viewport;
use crate::ui::spawn_local;
use crate::ui::state::{Document, Notice, Saving, ViewState, WorkflowList};

/// Which dialog is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    Import,
    Export,
    Convert,
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

/// The canvas as a standalone SVG document: what the canvas shows (the drawing through the
/// current pan and zoom) with the page's styles inlined, sized as it is on screen; and that size.
#[cfg(feature = "hydrate")]
fn canvas_svg(view: Viewport, dark: bool) -> Option<(String, f64, f64)> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let frame = document.query_selector("svg.canvas").ok()??;
    let svg = document.query_selector("svg.drawing").ok()??;
    let rect = frame.get_bounding_client_rect();
    let (width, height) = (rect.width().round(), rect.height().round());
    let mut css = String::new();
    let sheets = document.style_sheets();
    for i in 0..sheets.length() {
        let Some(sheet) = sheets
            .item(i)
            .and_then(|s| s.dyn_into::<web_sys::CssStyleSheet>().ok())
        else {
            continue;
        };
        let Ok(rules) = sheet.css_rules() else {
            continue;
        };
        for j in 0..rules.length() {
            if let Some(rule) = rules.item(j) {
                css.push_str(&rule.css_text());
                css.push('\n');
            }
        }
    }
    // The page sizes the canvas to its frame; a file has no frame.
    css.push_str(&format!(
        "svg.drawing {{ width: {width}px; height: {height}px; background: var(--bg); }}"
    ));
    // A file keeps the light theme (whatever the page or the viewer prefers) unless the
    // user asked for the dark one: in the file, the drawing is the root the theme reads.
    let theme = if dark { "dark" } else { "light" };
    let markup = web_sys::XmlSerializer::new()
        .ok()?
        .serialize_to_string(&svg)
        .ok()?;
    let open_end = markup.find('>')?;
    let (x, y, w, h) = (
        -view.x / view.k,
        -view.y / view.k,
        width / view.k,
        height / view.k,
    );
    let opening = markup[..open_end]
        .replace(" width=\"1\"", "")
        .replace(" height=\"1\"", "");
    let markup = format!(
        "{opening} data-theme=\"{theme}\" width=\"{width}\" height=\"{height}\" viewBox=\"{x:.1} {y:.1} {w:.1} {h:.1}\"><style><![CDATA[{css}]]></style>{}",
        &markup[open_end + 1..]
    );
    Some((markup, width, height))
}

#[cfg(not(feature = "hydrate"))]
fn canvas_svg(_view: Viewport, _dark: bool) -> Option<(String, f64, f64)> {
    None
}

/// Pixels per canvas pixel in the PNG download, so text stays sharp.
#[cfg(feature = "hydrate")]
const PNG_SCALE: f64 = 2.0;

/// Draws the canvas's SVG into a bitmap and downloads it as a PNG file.
#[cfg(feature = "hydrate")]
async fn download_png(file_name: String, view: Viewport, dark: bool) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let locale = crate::ui::common::language::use_lang().get_untracked();
    let failed = |what: &str| td_string!(locale, transfer.png_failed, what = what).to_string();
    let (markup, width, height) =
        canvas_svg(view, dark).ok_or_else(|| failed("no canvas on the page"))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| failed("no document"))?;
    let image = web_sys::HtmlImageElement::new().map_err(|_| failed("no image element"))?;
    image.set_src(&data_url("image/svg+xml", &markup));
    wasm_bindgen_futures::JsFuture::from(image.decode())
        .await
        .map_err(|_| failed("the browser could not draw the canvas's SVG"))?;
    let bitmap: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .ok()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| failed("no canvas element"))?;
    bitmap.set_width((width * PNG_SCALE) as u32);
    bitmap.set_height((height * PNG_SCALE) as u32);
    let context: web_sys::CanvasRenderingContext2d = bitmap
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| failed("no 2D context"))?;
    context.set_fill_style_str(if dark { "#12151b" } else { "#ffffff" });
    context.fill_rect(0.0, 0.0, width * PNG_SCALE, height * PNG_SCALE);
    context
        .draw_image_with_html_image_element_and_dw_and_dh(
            &image,
            0.0,
            0.0,
            width * PNG_SCALE,
            height * PNG_SCALE,
        )
        .map_err(|_| failed("drawing failed"))?;
    let url = bitmap
        .to_data_url_with_type("image/png")
        .map_err(|_| failed("the bitmap could not be encoded"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into().ok())
        .ok_or_else(|| failed("no link element"))?;
    link.set_href(&url);
    link.set_download(&file_name);
    link.click();
    Ok(())
}

#[cfg(not(feature = "hydrate"))]
async fn download_png(_file_name: String, _view: Viewport, _dark: bool) -> Result<(), String> {
    Ok(())
}

/// The text of the file chosen in a file input (refused past the document limit), and its
/// name; `None` when none was chosen.
#[cfg(feature = "hydrate")]
async fn read_chosen_file(ev: &leptos::ev::Event) -> Option<Result<(String, String), String>> {
    use wasm_bindgen::JsCast;
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0)?;
    input.set_value("");
    let limit = crate::model::validate::MAX_DOCUMENT_BYTES;
    if file.size() > limit as f64 {
        return Some(Err(format!(
            "{} is {} bytes; the limit is {limit} bytes",
            file.name(),
            file.size()
        )));
    }
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    Some(Ok((file.name(), text.as_string()?)))
}

#[cfg(not(feature = "hydrate"))]
async fn read_chosen_file(_ev: &leptos::ev::Event) -> Option<Result<(String, String), String>> {
    None
}

#[component]
pub fn TransferDialogs(dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let document = expect_context::<Document>();
    let saving = expect_context::<Saving>();
    let list = expect_context::<WorkflowList>();
    let view = expect_context::<ViewState>();
    let notice = expect_context::<Notice>();
    let lang = use_lang();
    let format = RwSignal::new("mermaid".to_string());
    // A state machine is written by the server (the browser does not read conditions):
    // asked for once the workflow is saved as shown, again after each save.
    let from_server = RwSignal::new(None::<Result<String, ApiFailure>>);
    Effect::new(move |_| {
        let shown = dialog.get() == Some(Dialog::Export) && format.get() == "asl";
        let saved = !document.dirty.get();
        document.revision.track();
        let (Some(id), true, true) = (document.workflow_id.get(), shown, saved) else {
            return;
        };
        let l = lang.get();
        spawn_local(async move {
            from_server.set(Some(client::export_workflow(&id, "asl", l).await));
        });
    });
    let exported = move || {
        let f = ExportFormat::parse(&format.get()).unwrap_or(ExportFormat::Mermaid);
        if f == ExportFormat::Asl {
            return from_server.with(|r| match r {
                Some(Ok(text)) => text.clone(),
                _ => String::new(),
            });
        }
        document
            .doc
            .with(|d| export_in(d, f, lang.get()))
            .unwrap_or_default()
    };
    let export_refused = move || {
        (format.get() == "asl")
            .then(|| from_server.with(|r| r.as_ref().and_then(|r| r.as_ref().err().cloned())))
            .flatten()
    };
    let stem = move || {
        let stem: String = document
            .doc
            .with(|d| d.name.chars().filter(|c| c.is_alphanumeric()).collect());
        if stem.is_empty() {
            "workflow".to_string()
        } else {
            stem
        }
    };
    let chosen_format = move || ExportFormat::parse(&format.get()).unwrap_or(ExportFormat::Mermaid);
    let file_name = move || format!("{}.{}", stem(), chosen_format().extension());
    // Pictures of the canvas keep the light theme unless asked.
    let dark_export = RwSignal::new(false);
    let svg_href = move || {
        document.revision.track();
        data_url(
            "image/svg+xml",
            &canvas_svg(view.viewport.get(), dark_export.get())
                .map(|c| c.0)
                .unwrap_or_default(),
        )
    };
    let png = move |_| {
        let name = format!("{}.png", stem());
        spawn_local(async move {
            if let Err(message) = download_png(
                name,
                view.viewport.get_untracked(),
                dark_export.get_untracked(),
            )
            .await
            {
                notice.say(message);
            }
        });
    };

    let source = RwSignal::new(String::new());
    let import_format = RwSignal::new("auto".to_string());
    let import_error = RwSignal::new(None::<ApiFailure>);
    // A file's text goes into the box (BPMN files are rarely pasted); its extension names
    // the format where it is unambiguous.
    let open_file = move |ev: leptos::ev::Event| {
        spawn_local(async move {
            match read_chosen_file(&ev).await {
                Some(Ok((name, text))) => {
                    let lower = name.to_lowercase();
                    if lower.ends_with(".bpmn") {
                        import_format.set("bpmn".into());
                    } else if lower.ends_with(".mmd") || lower.ends_with(".mermaid") {
                        import_format.set("mermaid".into());
                    } else if lower.ends_with(".asl.json") || lower.ends_with(".asl") {
                        import_format.set("asl".into());
                    }
                    import_error.set(None);
                    source.set(text);
                }
                Some(Err(message)) => import_error.set(Some(ApiFailure::new(message))),
                None => {}
            }
        });
    };
    let import = move |_| {
        let text = source.get_untracked();
        let chosen = import_format.get_untracked();
        spawn_local(async move {
            let format = (chosen != "auto").then_some(chosen.as_str());
            match client::import_workflow(&text, format, lang.get_untracked()).await {
                Ok(record) => {
                    import_error.set(None);
                    source.set(String::new());
                    dialog.set(None);
                    document.open_record(record);
                    list.refresh();
                }
                Err(e) => import_error.set(Some(e)),
            }
        });
    };

    let convert_to = RwSignal::new(Style::Choreography);
    let rules = RwSignal::new(Decider::Publisher);
    let preview = Memo::new(move |_| {
        document
            .doc
            .with(|d| convert_with(d, convert_to.get(), rules.get()))
    });
    let decides = Memo::new(move |_| {
        document
            .doc
            .with(|d| d.edges.iter().any(|e| e.condition.is_some()))
    });
    let convert_error = RwSignal::new(None::<String>);
    let create_copy = move |_| {
        let to = convert_to.get_untracked();
        spawn_local(async move {
            // The copy is made from the saved workflow: the server gets what is on screen first.
            let Some(workflow_id) = saving.saved_id().await else {
                return convert_error.set(Some(
                    td_string!(lang.get_untracked(), transfer.not_saved).into(),
                ));
            };
            // Named in the page's language (the server's default is English).
            let name = document
                .doc
                .with_untracked(|d| copy_name(&d.name, to, lang.get_untracked()));
            let request = ConvertRequest {
                workflow_id,
                to,
                rules: Some(rules.get_untracked()),
                name: Some(name),
            };
            match client::post_json::<ConvertResponse>("/api/lab/convert", &request).await {
                Ok(converted) => {
                    convert_error.set(None);
                    dialog.set(None);
                    document.open(Some(converted.id), converted.conversion.workflow);
                    // A copy the server just created is at its first revision.
                    document.server_revision.set(Some(1));
                    list.refresh();
                }
                Err(e) => convert_error.set(Some(e.words(lang.get_untracked()))),
            }
        });
    };
    let convert_view = view! {
        <Show when=move || dialog.get() == Some(Dialog::Convert)>
            <div class="dialog" role="dialog" aria-label=tr!(lang, transfer.convert)>
                <h2>{tr!(lang, transfer.convert_heading)}</h2>
                <p class="hint">{tr!(lang, transfer.convert_hint)}</p>
                <div class="group" role="radiogroup" aria-label=tr!(lang, transfer.target)>
                    {Style::ALL.into_iter().map(|style| {
                        let name = move || match style {
                            Style::Orchestration => td_string!(lang.get(), transfer.all_orchestration),
                            Style::Choreography => td_string!(lang.get(), transfer.all_choreography),
                        };
                        view! {
                        <label class="check">
                            <input
                                type="radio"
                                name="convert-to"
                                aria-label=name
                                prop:checked=move || convert_to.get() == style
                                on:change=move |_| convert_to.set(style)
                            />
                            <span>{name}</span>
                        </label>
                    }}).collect_view()}
                </div>
                <Show when=move || decides.get() && convert_to.get() == Style::Choreography>
                    <div class="group" role="radiogroup" aria-label=tr!(lang, transfer.rules)>
                        {[Decider::Publisher, Decider::Subscriber].into_iter().map(|who| {
                            let name = move || match who {
                                Decider::Publisher => td_string!(lang.get(), transfer.rules_publisher),
                                Decider::Subscriber => td_string!(lang.get(), transfer.rules_subscribers),
                            };
                            view! {
                                <label class="check">
                                    <input
                                        type="radio"
                                        name="convert-rules"
                                        aria-label=name
                                        prop:checked=move || rules.get() == who
                                        on:change=move |_| rules.set(who)
                                    />
                                    <span>{name}</span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </Show>
                <p class="convert-summary">
                    {move || preview.with(|c| {
                        let l = lang.get();
                        let changed = match c.converted.len() {
                            1 => td_string!(l, transfer.summary1).to_string(),
                            n => td_string!(l, transfer.summary, count = n).to_string(),
                        };
                        if c.merged.is_empty() {
                            changed
                        } else {
                            let merged = td_string!(l, transfer.merged, merged = c.merged.len()).to_string();
                            match changed.strip_suffix('.') {
                                Some(head) => format!("{head}{merged}."),
                                None => format!("{changed}{merged}"),
                            }
                        }
                    })}
                </p>
                <Show when=move || preview.with(|c| !c.moved.is_empty() || !c.waits.is_empty())>
                    <h3>{tr!(lang, transfer.moves)}</h3>
                    <ul class="moved" aria-label=tr!(lang, transfer.moves)>
                        {move || preview.with(|c| {
                            let l = lang.get();
                            c.moved
                                .iter()
                                .map(|m| m.said(l, &c.workflow))
                                .chain(c.waits.iter().map(|w| w.said(l, &c.workflow)))
                                .map(|text| view! { <li>{text}</li> })
                                .collect_view()
                        })}
                    </ul>
                </Show>
                <h3>{tr!(lang, transfer.loses)}</h3>
                <ul class="lost" aria-label=tr!(lang, transfer.loses)>
                    {move || preview.with(|c| if c.lost.is_empty() {
                        view! { <li>{tr!(lang, transfer.loses_nothing)}</li> }.into_any()
                    } else {
                        let l = lang.get();
                        c.lost.iter().map(|w| view! { <li class="warning">{w.words(l)}</li> }).collect_view().into_any()
                    })}
                </ul>
                <Show when=move || convert_error.with(Option::is_some)>
                    <p class="failure" role="alert">{move || convert_error.get().unwrap_or_default()}</p>
                </Show>
                <div class="dialog-actions">
                    <button class="primary" on:click=create_copy>{tr!(lang, transfer.create)}</button>
                    <button on:click=move |_| dialog.set(None)>{tr!(lang, transfer.close)}</button>
                </div>
            </div>
        </Show>
    }
    .into_any();

    view! {
        {convert_view}
        <Show when=move || dialog.get() == Some(Dialog::Export)>
            <div class="dialog" role="dialog" aria-label=tr!(lang, transfer.export)>
                <h2>{tr!(lang, transfer.export)}</h2>
                <label>
                    <span>{tr!(lang, transfer.format)}</span>
                    <select
                        aria-label=tr!(lang, transfer.export_format)
                        prop:value=move || format.get()
                        on:change=move |ev| format.set(event_target_value(&ev))
                    >
                        <option value="mermaid">{tr!(lang, transfer.mermaid)}</option>
                        <option value="text">{tr!(lang, transfer.text_export)}</option>
                        <option value="json">{tr!(lang, transfer.native)}</option>
                        <option value="bpmn">{tr!(lang, transfer.bpmn)}</option>
                        <option value="asyncapi">{tr!(lang, transfer.asyncapi)}</option>
                        <option value="asl">{tr!(lang, transfer.asl)}</option>
                    </select>
                </label>
                <textarea aria-label=tr!(lang, transfer.exported) readonly rows="12" prop:value=exported></textarea>
                {move || export_refused().map(|e| view! {
                    <div class="failure" role="alert">
                        <strong>{e.words(lang.get())}</strong>
                        <ul>
                            {e.problems.iter().map(|p| view! { <li>{p.message.clone()}</li> }).collect_view()}
                        </ul>
                    </div>
                })}
                <div class="dialog-actions">
                    <a
                        class="button"
                        download=file_name
                        href=move || data_url(chosen_format().media_type(), &exported())
                    >
                        {tr!(lang, transfer.download)}
                    </a>
                    <a class="button" download=move || format!("{}.svg", stem()) href=svg_href>
                        {tr!(lang, transfer.download_svg)}
                    </a>
                    <button on:click=png>{tr!(lang, transfer.download_png)}</button>
                    <label class="check">
                        <input
                            type="checkbox"
                            aria-label=tr!(lang, transfer.dark)
                            prop:checked=move || dark_export.get()
                            on:change=move |ev| dark_export.set(event_target_checked(&ev))
                        />
                        <span>{tr!(lang, transfer.dark_text)}</span>
                    </label>
                    <button on:click=move |_| dialog.set(None)>{tr!(lang, transfer.close)}</button>
                </div>
            </div>
        </Show>
        <Show when=move || dialog.get() == Some(Dialog::Import)>
            <div class="dialog" role="dialog" aria-label=tr!(lang, transfer.import)>
                <h2>{tr!(lang, transfer.import)}</h2>
                <label>
                    <span>{tr!(lang, transfer.format)}</span>
                    <select
                        aria-label=tr!(lang, transfer.import_format)
                        prop:value=move || import_format.get()
                        on:change=move |ev| import_format.set(event_target_value(&ev))
                    >
                        <option value="auto">{tr!(lang, transfer.detect)}</option>
                        <option value="native">{tr!(lang, transfer.native)}</option>
                        <option value="article">{tr!(lang, transfer.article)}</option>
                        <option value="conductor">{tr!(lang, transfer.conductor)}</option>
                        <option value="text">{tr!(lang, transfer.text_import)}</option>
                        <option value="mermaid">{tr!(lang, transfer.mermaid_import)}</option>
                        <option value="bpmn">{tr!(lang, transfer.bpmn)}</option>
                        <option value="asl">{tr!(lang, transfer.asl)}</option>
                    </select>
                </label>
                <label class="button file-button">
                    <span>{tr!(lang, transfer.from_file)}</span>
                    <input
                        type="file"
                        class="file-input"
                        accept=".bpmn,.xml,.mmd,.mermaid,.json,.asl,.txt"
                        aria-label=tr!(lang, transfer.from_file)
                        on:change=open_file
                    />
                </label>
                <textarea
                    aria-label=tr!(lang, transfer.to_import)
                    rows="12"
                    placeholder="order -> payment\npayment ~> email : PaymentCharged"
                    prop:value=move || source.get()
                    on:input=move |ev| source.set(event_target_value(&ev))
                ></textarea>
                <Show when=move || import_error.with(Option::is_some)>
                    <div class="failure" role="alert">
                        <strong>{move || import_error.with(|e| e.as_ref().map(|e| e.words(lang.get())))}</strong>
                        <ul>
                            {move || import_error.with(|e| e.as_ref().map(|e| e.problems.clone()).unwrap_or_default())
                                .into_iter()
                                .map(|p| view! { <li>{format!("{}: {}", p.path, p.message)}</li> })
                                .collect_view()}
                        </ul>
                    </div>
                </Show>
                <div class="dialog-actions">
                    <button class="primary" on:click=import>{tr!(lang, transfer.import)}</button>
                    <button on:click=move |_| dialog.set(None)>{tr!(lang, transfer.close)}</button>
                </div>
            </div>
        </Show>
    }
    .into_any()
}
