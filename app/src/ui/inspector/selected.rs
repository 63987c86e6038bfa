//! The selected step's fields (label, service, action and its behaviour) or the selected
//! edge's (kind, outcome, event name, condition — with the fields the steps write at a click —,
//! who decides it, a loop's bound and the event's payload). Lazily loaded: the editor's first page does not
//! need them, so their code is fetched the first time something is selected.

use leptos::prelude::*;

use crate::ui::common::language::{use_lang, Words};

use super::behaviour::BehaviourFields;
use crate::model::data::{fields_text, parse_fields, written_fields};
use crate::model::workflow::Decider;
use crate::model::{Edge, EdgeKind, GraphChange, Node, Outcome};
use crate::ui::state::{Document, Selected};

/// The fields of whatever is selected: `node` or `edge` (the inspector's memos of it).
#[lazy]
pub fn selection_fields(node: Memo<Option<Node>>, edge: Memo<Option<Edge>>) -> AnyView {
    let document = expect_context::<Document>();
    let selected = expect_context::<Selected>();
    let lang = use_lang();
    let node_field =
        move |label: Words, aria: Words, get: fn(&Node) -> String, set: fn(&mut Node, String)| {
            view! {
                <label>
                    <span>{move || label(lang.get())}</span>
                    <input
                        aria-label=move || aria(lang.get())
                        prop:value=move || node.with(|n| n.as_ref().map(get).unwrap_or_default())
                        on:input=move |ev| {
                            if let Some(mut n) = node.get_untracked() {
                                set(&mut n, event_target_value(&ev));
                                document.edit(GraphChange::UpdateNode(n));
                            }
                        }
                    />
                </label>
            }
        };
    let event_name = move || {
        edge.with(|e| {
            e.as_ref()
                .map(|e| document.doc.with(|d| d.event_name(e)))
                .unwrap_or_default()
        })
    };
    // What a condition can name besides the input: the fields the steps write.
    let known_fields = Memo::new(move |_| document.doc.with(written_fields));
    let payload_error = RwSignal::new(None::<String>);
    view! {
            <Show when=move || node.with(Option::is_some)>
                <h2>{tr!(lang, inspector.step)}</h2>
                {node_field(|l| td_string!(l, inspector.step_label), |l| td_string!(l, inspector.step_label_aria), |n| n.label.clone(), |n, v| n.label = v)}
                {node_field(|l| td_string!(l, inspector.service), |l| td_string!(l, inspector.service_aria), |n| n.service.clone(), |n, v| n.service = v)}
                {node_field(|l| td_string!(l, inspector.action), |l| td_string!(l, inspector.action_aria), |n| n.action.clone(), |n, v| n.action = v)}
                <BehaviourFields node/>
            </Show>
            <Show when=move || edge.with(Option::is_some)>
                <h2>{tr!(lang, inspector.edge)}</h2>
                <label>
                    <span>{tr!(lang, inspector.kind)}</span>
                    <select
                        aria-label=tr!(lang, inspector.edge_kind)
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.kind.as_str()).unwrap_or("command"))
                        on:change=move |ev| selected.set_edge_kind(if event_target_value(&ev) == "event" {
                            EdgeKind::Event
                        } else {
                            EdgeKind::Command
                        })
                    >
                        <option value="command">{tr!(lang, inspector.kind_command)}</option>
                        <option value="event">{tr!(lang, inspector.kind_event)}</option>
                    </select>
                </label>
                <label>
                    <span>{tr!(lang, inspector.follows)}</span>
                    <select
                        aria-label=tr!(lang, inspector.follows_aria)
                        prop:value=move || edge.with(|e| e.as_ref().map(|e| e.on.as_str()).unwrap_or("success"))
                        on:change=move |ev| {
                            if let Some(mut e) = edge.get_untracked() {
                                e.on = if event_target_value(&ev) == "failure" {
                                    Outcome::Failure
                                } else {
                                    Outcome::Success
                                };
                                document.edit(GraphChange::UpdateEdge(e));
                            }
                        }
                    >
                        <option value="success">{tr!(lang, inspector.on_success)}</option>
                        <option value="failure">{tr!(lang, inspector.on_failure)}</option>
                    </select>
                </label>
                <Show when=move || edge.with(|e| e.as_ref().is_some_and(|e| e.kind == EdgeKind::Event))>
                    <label>
                        <span>{tr!(lang, inspector.event_name)}</span>
                        <input
                            aria-label=tr!(lang, inspector.event_name)
                            prop:value=event_name
                            on:input=move |ev| {
                                if let Some(mut e) = edge.get_untracked() {
                                    let v = event_target_value(&ev);
                                    e.event = (!v.is_empty()).then_some(v);
                                    document.edit(GraphChange::UpdateEdge(e));
                                }
                            }
                        />
                    </label>
                </Show>
                <label>
                    <span>{tr!(lang, inspector.condition)}</span>
                    <input
                        aria-label=tr!(lang, inspector.condition)
                        data-inspect=""
                        placeholder=tr!(lang, inspector.condition_hint)
                        prop:value=move || edge.with(|e| e.as_ref().and_then(|e| e.condition.clone()).unwrap_or_default())
                        on:input=move |ev| {
                            if let Some(mut e) = edge.get_untracked() {
                                let v = event_target_value(&ev);
                                let v = v.trim();
                                e.condition = (!v.is_empty()).then(|| v.to_string());
                                document.edit(GraphChange::UpdateEdge(e));
                            }
                        }
                    />
                </label>
                <Show when=move || !known_fields.with(Vec::is_empty)>
                    <div class="known-fields" role="group" aria-label=tr!(lang, inspector.known_fields)>
                        <span>{tr!(lang, inspector.known_fields)}</span>
                        {move || known_fields.get().into_iter().map(|field| {
                            let name = field.clone();
                            view! {
                                <button
                                    type="button"
                                    class="chip"
                                    on:click=move |_| {
                                        if let Some(mut e) = edge.get_untracked() {
                                            e.condition = Some(with_field(e.condition.as_deref(), &name));
                                            document.edit(GraphChange::UpdateEdge(e));
                                        }
                                    }
                                >{field}</button>
                            }
                        }).collect_view()}
                    </div>
                </Show>
                <Show when=move || edge.with(|e| e.as_ref().is_some_and(|e| e.kind == EdgeKind::Event && e.condition.is_some()))>
                    <label>
                        <span>{tr!(lang, inspector.decided_by)}</span>
                        <select
                            aria-label=tr!(lang, inspector.decided_by)
                            prop:value=move || edge.with(|e| match e.as_ref().and_then(|e| e.decided_by) {
                                Some(Decider::Subscriber) => "subscriber",
                                _ => "publisher",
                            })
                            on:change=move |ev| {
                                if let Some(mut e) = edge.get_untracked() {
                                    e.decided_by = (event_target_value(&ev) == "subscriber").then_some(Decider::Subscriber);
                                    document.edit(GraphChange::UpdateEdge(e));
                                }
                            }
                        >
                            <option value="publisher">{tr!(lang, inspector.decided_by_publisher)}</option>
                            <option value="subscriber">{tr!(lang, inspector.decided_by_subscriber)}</option>
                        </select>
                    </label>
                </Show>
                <label>
                    <span>{tr!(lang, inspector.max_iterations)}</span>
                    <input
                        type="number"
                        min="1"
                        aria-label=tr!(lang, inspector.max_iterations)
                        placeholder=tr!(lang, inspector.max_iterations_hint)
                        prop:value=move || edge.with(|e| e.as_ref().and_then(|e| e.max_iterations).map(|n| n.to_string()).unwrap_or_default())
                        on:change=move |ev| {
                            if let Some(mut e) = edge.get_untracked() {
                                let v = event_target_value(&ev);
                                // What is not a whole number counts as none; 0 and what is
                                // over the limit are the validator's to say.
                                e.max_iterations = v.trim().parse::<u32>().ok();
                                document.edit(GraphChange::UpdateEdge(e));
                            }
                        }
                    />
                </label>
                <Show when=move || edge.with(|e| e.as_ref().is_some_and(|e| e.kind == EdgeKind::Event))>
                    <label>
                        <span>{tr!(lang, inspector.payload)}</span>
                        <input
                            aria-label=tr!(lang, inspector.payload)
                            placeholder=tr!(lang, inspector.payload_hint)
                            prop:value=move || edge.with(|e| e.as_ref().and_then(|e| e.payload.as_deref().map(fields_text)).unwrap_or_default())
                            on:change=move |ev| {
                                if let Some(mut e) = edge.get_untracked() {
                                    let text = event_target_value(&ev);
                                    match parse_fields(&text, lang.get_untracked()) {
                                        Ok(fields) => {
                                            payload_error.set(None);
                                            e.payload = (!text.trim().is_empty()).then_some(fields);
                                            document.edit(GraphChange::UpdateEdge(e));
                                        }
                                        Err(message) => payload_error.set(Some(message)),
                                    }
                                }
                            }
                        />
                    </label>
                    <Show when=move || payload_error.with(Option::is_some)>
                        <p class="failure" role="alert">{move || payload_error.get().unwrap_or_default()}</p>
                    </Show>
                </Show>
            </Show>
    }
    .into_any()
}

/// A condition with `field` added: the field alone in an empty condition, else after what
/// is there, joined by `&&` unless the condition ends in an operator or a parenthesis that
/// waits for it.
fn with_field(condition: Option<&str>, field: &str) -> String {
    let now = condition.unwrap_or("").trim_end();
    if now.is_empty() {
        return field.to_string();
    }
    let waits = [
        "&&", "||", "!", "(", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", ",", " in",
    ]
    .iter()
    .any(|op| now.ends_with(op));
    if waits {
        format!("{now} {field}")
    } else {
        format!("{now} && {field}")
    }
}
