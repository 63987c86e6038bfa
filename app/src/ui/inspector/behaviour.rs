//! The inspector's behaviour fields for a step: latency, failure rate, fail-when, timeout,
//! retry, compensation, join and idempotency. Each field validates as the user types and
//! says why a value is refused; only accepted values reach the workflow.

use leptos::prelude::*;

use crate::model::validate::behaviour_problems;
use crate::model::{FailWhen, GraphChange, Join, Latency, Node, RetryPolicy};
use crate::ui::state::Document;

type Read = fn(&Node) -> String;
type Write = fn(&mut Node, &str) -> Result<(), String>;

/// One text field of the behaviour section.
struct FieldSpec {
    label: &'static str,
    /// The validation path it answers for (see [`behaviour_problems`]).
    key: &'static str,
    placeholder: &'static str,
    read: Read,
    write: Write,
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{text:?} is not {what}"))
}

fn retry_mut(node: &mut Node) -> &mut RetryPolicy {
    node.retry.get_or_insert(RetryPolicy {
        max_attempts: 1,
        backoff_ms: 0,
        multiplier: 2.0,
    })
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        label: "Latency (ms)",
        key: "latency_ms",
        placeholder: "50-150 (default)",
        read: |n| match n.latency_ms {
            None => String::new(),
            Some(Latency::Fixed(ms)) => ms.to_string(),
            Some(Latency::Range([a, b])) => format!("{a}-{b}"),
        },
        write: |n, text| {
            n.latency_ms = if text.is_empty() {
                None
            } else if let Some((a, b)) = text.split_once('-') {
                Some(Latency::Range([
                    number(a.trim(), "a number of milliseconds")?,
                    number(b.trim(), "a number of milliseconds")?,
                ]))
            } else {
                Some(Latency::Fixed(number(
                    text,
                    "a number of milliseconds or min-max",
                )?))
            };
            Ok(())
        },
    },
    FieldSpec {
        label: "Failure rate (0-1)",
        key: "failure_rate",
        placeholder: "0",
        read: |n| n.failure_rate.map(|r| r.to_string()).unwrap_or_default(),
        write: |n, text| {
            n.failure_rate = if text.is_empty() {
                None
            } else {
                Some(number(text, "a number between 0 and 1")?)
            };
            Ok(())
        },
    },
    FieldSpec {
        label: "Fail when input field",
        key: "fail_when.field",
        placeholder: "e.g. card",
        read: |n| {
            n.fail_when
                .as_ref()
                .map(|f| f.field.clone())
                .unwrap_or_default()
        },
        write: |n, text| {
            if text.is_empty() {
                n.fail_when = None;
            } else {
                let equals = n
                    .fail_when
                    .as_ref()
                    .map(|f| f.equals.clone())
                    .unwrap_or(serde_json::Value::Bool(true));
                n.fail_when = Some(FailWhen {
                    field: text.to_string(),
                    equals,
                });
            }
            Ok(())
        },
    },
    FieldSpec {
        label: "…equals",
        key: "fail_when.field",
        placeholder: "e.g. expired",
        read: |n| match n.fail_when.as_ref().map(|f| &f.equals) {
            None => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        },
        write: |n, text| {
            let Some(fail_when) = n.fail_when.as_mut() else {
                return Err("name the input field first".to_string());
            };
            // A JSON value (number, true, null…) when it reads as one, else the text itself.
            fail_when.equals = serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
            Ok(())
        },
    },
    FieldSpec {
        label: "Timeout (ms)",
        key: "timeout_ms",
        placeholder: "none",
        read: |n| n.timeout_ms.map(|t| t.to_string()).unwrap_or_default(),
        write: |n, text| {
            n.timeout_ms = if text.is_empty() {
                None
            } else {
                Some(number(text, "a number of milliseconds")?)
            };
            Ok(())
        },
    },
    FieldSpec {
        label: "Retry: max attempts",
        key: "retry.max_attempts",
        placeholder: "1",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.max_attempts.to_string())
                .unwrap_or_default()
        },
        write: |n, text| {
            if text.is_empty() {
                n.retry = None;
            } else {
                retry_mut(n).max_attempts = number(text, "a whole number of attempts")?;
            }
            Ok(())
        },
    },
    FieldSpec {
        label: "Retry: backoff (ms)",
        key: "retry.backoff_ms",
        placeholder: "0",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.backoff_ms.to_string())
                .unwrap_or_default()
        },
        write: |n, text| {
            retry_mut(n).backoff_ms = if text.is_empty() {
                0
            } else {
                number(text, "a number of milliseconds")?
            };
            Ok(())
        },
    },
    FieldSpec {
        label: "Retry: multiplier",
        key: "retry.multiplier",
        placeholder: "2",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.multiplier.to_string())
                .unwrap_or_default()
        },
        write: |n, text| {
            retry_mut(n).multiplier = if text.is_empty() {
                2.0
            } else {
                number(text, "a number")?
            };
            Ok(())
        },
    },
    FieldSpec {
        label: "Compensation",
        key: "compensation",
        placeholder: "e.g. refund",
        read: |n| n.compensation.clone().unwrap_or_default(),
        write: |n, text| {
            n.compensation = (!text.is_empty()).then(|| text.to_string());
            Ok(())
        },
    },
];

#[component]
pub fn BehaviourFields(node: Memo<Option<Node>>) -> impl IntoView {
    let document = expect_context::<Document>();
    let node_id = Memo::new(move |_| node.with(|n| n.as_ref().map(|n| n.id.clone())));
    let fields = FIELDS
        .iter()
        .map(|spec| behaviour_field(document, node, node_id, spec))
        .collect_view();
    let update = move |change: fn(&mut Node, bool), value: bool| {
        if let Some(mut n) = node.get_untracked() {
            change(&mut n, value);
            document.edit(GraphChange::UpdateNode(n));
        }
    };
    view! {
        <h3>"Behaviour"</h3>
        {fields}
        <label>
            <span>"Join"</span>
            <select
                aria-label="Join"
                prop:value=move || node.with(|n| match n.as_ref().map(Node::join_mode) {
                    Some(Join::All) => "all",
                    _ => "any",
                })
                on:change=move |ev| update(
                    |n, all| n.join = all.then_some(Join::All),
                    event_target_value(&ev) == "all",
                )
            >
                <option value="any">"any: start on the first trigger"</option>
                <option value="all">"all: wait for every incoming edge"</option>
            </select>
        </label>
        <label class="checkbox">
            <input
                type="checkbox"
                aria-label="Idempotent"
                prop:checked=move || node.with(|n| n.as_ref().is_none_or(Node::is_idempotent))
                on:change=move |ev| update(
                    |n, on| n.idempotent = (!on).then_some(false),
                    event_target_checked(&ev),
                )
            />
            <span>"Idempotent (a duplicate delivery runs it once)"</span>
        </label>
    }
    .into_any()
}

fn behaviour_field(
    document: Document,
    node: Memo<Option<Node>>,
    node_id: Memo<Option<String>>,
    spec: &'static FieldSpec,
) -> impl IntoView {
    // What the user typed, for the step it was typed into: a newly selected step shows its
    // own values, and typing never resets the field under the cursor.
    let raw = RwSignal::new(None::<(String, String)>);
    let error = RwSignal::new(None::<(String, String)>);
    let mine = move |slot: RwSignal<Option<(String, String)>>| {
        let id = node_id.get();
        slot.with(|s| {
            s.as_ref()
                .filter(|(of, _)| Some(of) == id.as_ref())
                .map(|(_, text)| text.clone())
        })
    };
    let shown = move || {
        mine(raw).unwrap_or_else(|| node.with(|n| n.as_ref().map(spec.read).unwrap_or_default()))
    };
    let problem = move || mine(error);
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        let Some(mut candidate) = node.get_untracked() else {
            return;
        };
        let id = candidate.id.clone();
        raw.set(Some((id.clone(), text.clone())));
        let verdict = (spec.write)(&mut candidate, text.trim()).and_then(|()| {
            match behaviour_problems(&candidate)
                .into_iter()
                .find(|(field, _)| *field == spec.key)
            {
                Some((_, message)) => Err(message),
                None => Ok(()),
            }
        });
        match verdict {
            Ok(()) => {
                error.set(None);
                document.edit(GraphChange::UpdateNode(candidate));
            }
            Err(message) => error.set(Some((id, message))),
        }
    };
    view! {
        <label>
            <span>{spec.label}</span>
            <input
                aria-label=spec.label
                placeholder=spec.placeholder
                aria-invalid=move || problem().is_some().to_string()
                prop:value=shown
                on:focus=move |_| document.begin_gesture()
                on:blur=move |_| {
                    document.end_gesture();
                    // Leaving a valid field shows the model's value (undo may change it later).
                    if problem().is_none() {
                        raw.set(None);
                    }
                }
                on:input=on_input
            />
            <Show when=move || problem().is_some()>
                <span class="field-error" role="alert">
                    {move || problem().unwrap_or_default()}
                </span>
            </Show>
        </label>
    }
}
