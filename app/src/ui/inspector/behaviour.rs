//! The inspector's behaviour fields for a step: latency, failure rate, fail-when, timeout,
//! retry, what it writes into the run data, compensation, join and idempotency. Each field
//! validates as the user types and says why a value is refused; only accepted values reach
//! the workflow.

use leptos::prelude::*;

use crate::i18n::Locale;
use crate::model::validate::behaviour_problems;
use crate::model::{Decide, FailWhen, GraphChange, Join, Latency, Node, RetryPolicy, Wait};
use crate::ui::common::language::{use_lang, Words};
use crate::ui::state::Document;

type Read = fn(&Node) -> String;
type Write = fn(&mut Node, &str, Locale) -> Result<(), String>;

/// One text field of the behaviour section.
struct FieldSpec {
    label: Words,
    /// The validation path it answers for (see [`behaviour_problems`]).
    key: &'static str,
    placeholder: Words,
    read: Read,
    write: Write,
}

/// `text` as a number, or why not: it is not `what` (in `l`'s words).
fn number<T: std::str::FromStr>(l: Locale, text: &str, what: Words) -> Result<T, String> {
    text.parse().map_err(|_| {
        td_string!(
            l,
            behaviour.not_a,
            text = format!("{text:?}"),
            what = what(l)
        )
        .to_string()
    })
}

const MS: Words = |l| td_string!(l, behaviour.ms);

/// The step's wait, made when a wait field is first given; gone once it waits for nothing.
fn wait_mut(node: &mut Node) -> &mut Wait {
    node.wait.get_or_insert_with(Wait::default)
}

fn drop_empty_wait(node: &mut Node) {
    if node.wait.as_ref().is_some_and(|w| *w == Wait::default()) {
        node.wait = None;
    }
}

/// A time in the form the fields show it: `120`, or a range `50-150`; `""` for none.
fn latency_text(latency: Option<Latency>) -> String {
    match latency {
        None => String::new(),
        Some(Latency::Fixed(ms)) => ms.to_string(),
        Some(Latency::Range([a, b])) => format!("{a}-{b}"),
    }
}

/// Reads [`latency_text`]'s form back, or says why not.
fn parse_latency(l: Locale, text: &str) -> Result<Option<Latency>, String> {
    if text.is_empty() {
        Ok(None)
    } else if let Some((a, b)) = text.split_once('-') {
        Ok(Some(Latency::Range([
            number(l, a.trim(), MS)?,
            number(l, b.trim(), MS)?,
        ])))
    } else {
        let ms = number(l, text, |l| td_string!(l, behaviour.ms_or_range))?;
        Ok(Some(Latency::Fixed(ms)))
    }
}

/// An optional number of milliseconds (`""` is none).
fn optional_ms(l: Locale, text: &str) -> Result<Option<u64>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        number(l, text, MS).map(Some)
    }
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
        label: |l| td_string!(l, behaviour.latency),
        key: "latency_ms",
        placeholder: |l| td_string!(l, behaviour.latency_hint),
        read: |n| latency_text(n.latency_ms),
        write: |n, text, l| {
            n.latency_ms = parse_latency(l, text)?;
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.failure_rate),
        key: "failure_rate",
        placeholder: |_| "0",
        read: |n| n.failure_rate.map(|r| r.to_string()).unwrap_or_default(),
        write: |n, text, l| {
            n.failure_rate = if text.is_empty() {
                None
            } else {
                Some(number(l, text, |l| td_string!(l, behaviour.rate))?)
            };
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.fail_when),
        key: "fail_when.field",
        placeholder: |l| td_string!(l, behaviour.fail_when_hint),
        read: |n| {
            n.fail_when
                .as_ref()
                .map(|f| f.field.clone())
                .unwrap_or_default()
        },
        write: |n, text, _| {
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
        label: |l| td_string!(l, behaviour.equals),
        key: "fail_when.field",
        placeholder: |l| td_string!(l, behaviour.equals_hint),
        read: |n| match n.fail_when.as_ref().map(|f| &f.equals) {
            None => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        },
        write: |n, text, l| {
            let Some(fail_when) = n.fail_when.as_mut() else {
                return Err(td_string!(l, behaviour.field_first).to_string());
            };
            // A JSON value (number, true, null…) when it reads as one, else the text itself.
            fail_when.equals = serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.timeout),
        key: "timeout_ms",
        placeholder: |l| td_string!(l, behaviour.none),
        read: |n| n.timeout_ms.map(|t| t.to_string()).unwrap_or_default(),
        write: |n, text, l| {
            n.timeout_ms = if text.is_empty() {
                None
            } else {
                Some(number(l, text, MS)?)
            };
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.max_attempts),
        key: "retry.max_attempts",
        placeholder: |_| "1",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.max_attempts.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            if text.is_empty() {
                n.retry = None;
            } else {
                retry_mut(n).max_attempts = number(l, text, |l| td_string!(l, behaviour.attempts))?;
            }
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.backoff),
        key: "retry.backoff_ms",
        placeholder: |_| "0",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.backoff_ms.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            retry_mut(n).backoff_ms = if text.is_empty() {
                0
            } else {
                number(l, text, MS)?
            };
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.multiplier),
        key: "retry.multiplier",
        placeholder: |_| "2",
        read: |n| {
            n.retry
                .as_ref()
                .map(|r| r.multiplier.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            retry_mut(n).multiplier = if text.is_empty() {
                2.0
            } else {
                number(l, text, |l| td_string!(l, behaviour.number))?
            };
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.writes),
        key: "writes",
        placeholder: |l| td_string!(l, behaviour.writes_hint),
        read: |n| crate::model::data::writes_text(&n.writes),
        write: |n, text, l| {
            n.writes = crate::model::data::parse_writes(text, l)?;
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.wait_message),
        key: "wait.message",
        placeholder: |l| td_string!(l, behaviour.wait_message_hint),
        read: |n| {
            n.wait
                .as_ref()
                .and_then(|w| w.message.clone())
                .unwrap_or_default()
        },
        write: |n, text, _| {
            wait_mut(n).message = (!text.is_empty()).then(|| text.to_string());
            drop_empty_wait(n);
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.wait_timeout),
        key: "wait.timeout_ms",
        placeholder: |l| td_string!(l, behaviour.none),
        read: |n| {
            n.wait
                .as_ref()
                .and_then(|w| w.timeout_ms)
                .map(|t| t.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            wait_mut(n).timeout_ms = optional_ms(l, text)?;
            drop_empty_wait(n);
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.wait_arrives),
        key: "wait.arrives_ms",
        placeholder: |l| td_string!(l, behaviour.wait_arrives_hint),
        read: |n| latency_text(n.wait.as_ref().and_then(|w| w.arrives_ms)),
        write: |n, text, l| {
            wait_mut(n).arrives_ms = parse_latency(l, text)?;
            drop_empty_wait(n);
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.wait_never),
        key: "wait.never",
        placeholder: |_| "0",
        read: |n| {
            n.wait
                .as_ref()
                .and_then(|w| w.never)
                .map(|p| p.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            wait_mut(n).never = if text.is_empty() {
                None
            } else {
                Some(number(l, text, |l| td_string!(l, behaviour.rate))?)
            };
            drop_empty_wait(n);
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.wait_timer),
        key: "wait.for_ms",
        placeholder: |l| td_string!(l, behaviour.none),
        read: |n| {
            n.wait
                .as_ref()
                .and_then(|w| w.for_ms)
                .map(|t| t.to_string())
                .unwrap_or_default()
        },
        write: |n, text, l| {
            wait_mut(n).for_ms = optional_ms(l, text)?;
            drop_empty_wait(n);
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.reads),
        key: "reads",
        placeholder: |l| td_string!(l, behaviour.reads_hint),
        read: |n| crate::model::data::fields_text(&n.reads),
        write: |n, text, l| {
            n.reads = crate::model::data::parse_fields(text, l)?;
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.for_each),
        key: "for_each",
        placeholder: |l| td_string!(l, behaviour.for_each_hint),
        read: |n| n.for_each.clone().unwrap_or_default(),
        write: |n, text, _| {
            // A name the validator does not take is said by it, on this field.
            n.for_each = (!text.is_empty()).then(|| text.to_string());
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.call_url),
        key: "call.http.url",
        placeholder: |l| td_string!(l, behaviour.call_url_hint),
        read: |n| {
            n.call
                .as_ref()
                .and_then(|c| c.http.as_ref())
                .map(|h| h.url.clone())
                .unwrap_or_default()
        },
        write: |n, text, _| {
            // Empty: simulated again (its headers go with the binding). A URL the
            // validator or the server does not take is said on this field.
            n.call = (!text.is_empty()).then(|| crate::model::call::ServiceCall {
                http: Some(crate::model::call::HttpEndpoint {
                    url: text.to_string(),
                }),
                nats: None,
                headers: n.call.take().map(|c| c.headers).unwrap_or_default(),
            });
            Ok(())
        },
    },
    FieldSpec {
        label: |l| td_string!(l, behaviour.compensation),
        key: "compensation",
        placeholder: |l| td_string!(l, behaviour.compensation_hint),
        read: |n| n.compensation.clone().unwrap_or_default(),
        write: |n, text, _| {
            n.compensation = (!text.is_empty()).then(|| text.to_string());
            Ok(())
        },
    },
];

#[component]
pub fn BehaviourFields(node: Memo<Option<Node>>) -> impl IntoView {
    let document = expect_context::<Document>();
    let list = expect_context::<crate::ui::state::WorkflowList>();
    let lang = use_lang();
    let node_id = Memo::new(move |_| node.with(|n| n.as_ref().map(|n| n.id.clone())));
    let fields = FIELDS
        .iter()
        .map(|spec| behaviour_field(document, lang, node, node_id, spec))
        .collect_view();
    let update = move |change: fn(&mut Node, bool), value: bool| {
        if let Some(mut n) = node.get_untracked() {
            change(&mut n, value);
            document.edit(GraphChange::UpdateNode(n));
        }
    };
    view! {
        <h3>{tr!(lang, behaviour.heading)}</h3>
        {fields}
        <label>
            <span>{tr!(lang, behaviour.sub_flow)}</span>
            <select
                aria-label=tr!(lang, behaviour.sub_flow)
                prop:value=move || node.with(|n| n.as_ref().and_then(|n| n.sub_flow.clone()).unwrap_or_default())
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if let Some(mut n) = node.get_untracked() {
                        n.sub_flow = (!chosen.is_empty()).then_some(chosen);
                        document.edit(GraphChange::UpdateNode(n));
                    }
                }
            >
                <option value="">{tr!(lang, behaviour.sub_flow_none)}</option>
                {move || {
                    let me = document.workflow_id.get();
                    let current = node.with(|n| n.as_ref().and_then(|n| n.sub_flow.clone()));
                    let mut choices: Vec<(String, String)> = list
                        .workflows
                        .with(|w| {
                            w.iter()
                                .filter(|w| Some(&w.id) != me.as_ref())
                                .map(|w| (w.id.clone(), w.name.clone()))
                                .collect()
                        });
                    // One named by the document but not listed (a template, another
                    // server's) stays choosable as it is.
                    if let Some(id) = current.filter(|c| !choices.iter().any(|(i, _)| i == c)) {
                        choices.push((id.clone(), id));
                    }
                    choices
                        .into_iter()
                        .map(|(id, name)| view! { <option value=id.clone()>{name}</option> })
                        .collect_view()
                }}
            </select>
        </label>
        <label>
            <span>{tr!(lang, behaviour.join)}</span>
            <select
                aria-label=tr!(lang, behaviour.join)
                prop:value=move || node.with(|n| match n.as_ref().map(Node::join_mode) {
                    Some(Join::All) => "all",
                    _ => "any",
                })
                on:change=move |ev| update(
                    |n, all| n.join = all.then_some(Join::All),
                    event_target_value(&ev) == "all",
                )
            >
                <option value="any">{tr!(lang, behaviour.join_any)}</option>
                <option value="all">{tr!(lang, behaviour.join_all)}</option>
            </select>
        </label>
        <label>
            <span>{tr!(lang, behaviour.decide)}</span>
            <select
                aria-label=tr!(lang, behaviour.decide)
                prop:value=move || node.with(|n| match n.as_ref().and_then(|n| n.decide) {
                    Some(Decide::Inclusive) => "inclusive",
                    _ => "exclusive",
                })
                on:change=move |ev| update(
                    |n, inclusive| n.decide = inclusive.then_some(Decide::Inclusive),
                    event_target_value(&ev) == "inclusive",
                )
            >
                <option value="exclusive">{tr!(lang, behaviour.decide_exclusive)}</option>
                <option value="inclusive">{tr!(lang, behaviour.decide_inclusive)}</option>
            </select>
        </label>
        <label class="checkbox">
            <input
                type="checkbox"
                aria-label=tr!(lang, behaviour.idempotent)
                prop:checked=move || node.with(|n| n.as_ref().is_none_or(Node::is_idempotent))
                on:change=move |ev| update(
                    |n, on| n.idempotent = (!on).then_some(false),
                    event_target_checked(&ev),
                )
            />
            <span>{tr!(lang, behaviour.idempotent_text)}</span>
        </label>
    }
    .into_any()
}

fn behaviour_field(
    document: Document,
    lang: crate::ui::common::language::Lang,
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
        let locale = lang.get_untracked();
        let verdict = (spec.write)(&mut candidate, text.trim(), locale).and_then(|()| {
            match behaviour_problems(&candidate, locale)
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
            <span>{move || (spec.label)(lang.get())}</span>
            <input
                aria-label=move || (spec.label)(lang.get())
                placeholder=move || (spec.placeholder)(lang.get())
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
