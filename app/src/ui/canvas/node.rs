//! A step on the canvas: its box, label, service and action, its live state in words and
//! icon (colour is never the only signal), its problem badge, the unhandled-failure mark,
//! and the output handle connections start from. The box takes the keyboard focus.

use std::collections::HashMap;

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use crate::i18n::Locale;
use crate::ui::common::language::use_lang;
use crate::ui::common::templates::word;
use crate::ui::common::words::step_state;

use super::gesture::Target;
use super::Press;
use crate::model::StepState;
use crate::ui::common::geometry::{
    fitted, label_lines, NODE_HEIGHT, NODE_WIDTH, SERVICE_PX, TEXT_LEFT, TEXT_ROOM,
};
use crate::ui::common::issues::{badge, BadgeText};
use crate::ui::state::{Document, RunState, Selected};

/// The icon beside a step's state.
pub fn state_icon(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "○",
        StepState::Waiting => "◔",
        StepState::Running => "▶",
        StepState::Retrying => "↻",
        StepState::Succeeded => "✓",
        StepState::Failed => "✗",
        StepState::Compensating => "↶",
        StepState::Compensated => "↶",
        StepState::Skipped => "–",
        StepState::Cancelled => "⊘",
    }
}

/// A step's state line: icon, state, attempt, and whether its reply waits for a crashed
/// orchestrator.
fn state_line(l: Locale, state: StepState, attempts: u32, waiting: bool) -> String {
    let attempt = match state {
        StepState::Retrying => td_string!(l, canvas.attempt_failed, attempt = attempts).to_string(),
        _ if attempts > 1 => td_string!(l, canvas.attempt, attempt = attempts).to_string(),
        _ => String::new(),
    };
    // The attempt ended but the crashed orchestrator has not heard of it.
    if waiting && state == StepState::Running {
        let icon = state_icon(StepState::Failed);
        return td_string!(
            l,
            canvas.reply_waiting_failed,
            icon = icon,
            attempt = attempts
        )
        .to_string();
    }
    let reply = if waiting {
        td_string!(l, canvas.reply_waiting)
    } else {
        ""
    };
    format!(
        "{} {}{attempt}{reply}",
        state_icon(state),
        step_state(l, state)
    )
}

/// A step that is more than work, drawn as its own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepKind {
    Decision,
    Wait,
    Timer,
    Loop,
    ForEach,
    SubFlow,
}

impl StepKind {
    fn class(self) -> &'static str {
        match self {
            StepKind::Decision => " kind-decision",
            StepKind::Wait => " kind-wait",
            StepKind::Timer => " kind-timer",
            StepKind::Loop => " kind-loop",
            StepKind::ForEach => " kind-for-each",
            StepKind::SubFlow => " kind-sub-flow",
        }
    }

    fn glyph(self) -> &'static str {
        match self {
            StepKind::Decision => "◇",
            StepKind::Wait => "✉",
            StepKind::Timer => "⏱",
            StepKind::Loop => "↻",
            StepKind::ForEach => "⫴",
            StepKind::SubFlow => "⧉",
        }
    }

    fn words(self, l: Locale) -> &'static str {
        match self {
            StepKind::Decision => td_string!(l, canvas.kind_decision),
            StepKind::Wait => td_string!(l, canvas.kind_wait),
            StepKind::Timer => td_string!(l, canvas.kind_timer),
            StepKind::Loop => td_string!(l, canvas.kind_loop),
            StepKind::ForEach => td_string!(l, canvas.kind_for_each),
            StepKind::SubFlow => td_string!(l, canvas.kind_sub_flow),
        }
    }
}

#[component]
pub fn NodeView(
    id: String,
    press: Press,
    unhandled: Memo<HashMap<String, String>>,
    /// The step a keyboard or pointer connection would end on.
    connecting_to: Memo<Option<String>>,
) -> impl IntoView {
    let document = expect_context::<Document>();
    let selection = expect_context::<Selected>().selection;
    let run = expect_context::<RunState>();
    let unheard = {
        let id = id.clone();
        Memo::new(move |_| unhandled.with(|u| u.get(&id).cloned()))
    };
    let node = {
        let id = id.clone();
        Memo::new(move |_| {
            let at = document.node_index.with(|ix| ix.get(&id).copied());
            document.doc.with(|d| {
                at.and_then(|i| d.nodes.get(i))
                    .filter(|n| n.id == id)
                    .cloned()
            })
        })
    };
    let step = {
        let id = id.clone();
        Memo::new(move |_| {
            run.shown_run.with(|r| {
                r.as_ref().and_then(|r| {
                    r.steps
                        .get(&id)
                        .map(|s| (s.state, s.attempts, r.reply_waiting(&id)))
                })
            })
        })
    };
    let state = Memo::new(move |_| step.get().map(|s| s.0));
    let broke_here = {
        let id = id.clone();
        move || run.broke_at.with(|at| at.as_deref() == Some(id.as_str()))
    };
    let reply_waiting = move || step.get().is_some_and(|s| s.2);
    let lang = use_lang();
    // A step a lost event kept the run from: "never reached", not "skipped".
    let never_reached = {
        let id = id.clone();
        let lost = use_context::<super::LostEvents>();
        Memo::new(move |_| lost.is_some_and(|l| l.0.with(|l| l.never_reached.contains(&id))))
    };
    let state_text = move || {
        if never_reached.get() {
            return format!("⊘ {}", td_string!(lang.get(), canvas.never_reached));
        }
        step.get()
            .map(|(state, attempts, waiting)| state_line(lang.get(), state, attempts, waiting))
            .unwrap_or_default()
    };
    let pos = move || node.with(|n| n.as_ref().map(|n| n.position).unwrap_or_default());
    // A template's words in the page's language (the workflow keeps its own).
    let of_template = document.of_template;
    // The label and its lines, worked out once per change of the label (not on every frame
    // of a drag, which changes only the step's position).
    let label = Memo::new(move |_| {
        node.with(|n| {
            n.as_ref()
                .map(|n| word(lang.get(), of_template.get(), &n.label).into_owned())
                .unwrap_or_default()
        })
    });
    let lines = Memo::new(move |_| label.with(|l| label_lines(l)));
    let service_action = move || {
        node.with(|n| {
            n.as_ref()
                .map(|n| {
                    format!(
                        "{}.{}",
                        word(lang.get(), of_template.get(), &n.service),
                        n.action
                    )
                })
                .unwrap_or_default()
        })
    };
    let service_y = move || {
        if lines.with(Vec::len) > 1 {
            54.0
        } else {
            46.0
        }
    };
    let selected = {
        let id = id.clone();
        Memo::new(move |_| selection.with(|s| s.as_ref().is_some_and(|s| s.contains_node(&id))))
    };
    let target = {
        let id = id.clone();
        move || connecting_to.with(|t| t.as_deref() == Some(id.as_str()))
    };
    let grab = {
        let id = id.clone();
        move |ev: PointerEvent| press.run((ev, Target::Node(id.clone())))
    };
    let connect = {
        let id = id.clone();
        move |ev: PointerEvent| press.run((ev, Target::Handle(id.clone())))
    };
    let state_name = move || state.get().map(StepState::as_str).unwrap_or("");
    // What kind of step it is, drawn as its own shape: a decision (conditional edges
    // leave it), a wait for a message, a timer, a for-each, the step a loop goes back
    // from.
    let kind = {
        let id = id.clone();
        Memo::new(move |_| {
            let (decides, loops) = document.doc.with(|d| {
                let out = || d.edges.iter().filter(|e| e.from == id);
                (
                    out().any(|e| e.condition.is_some()),
                    out().any(|e| e.max_iterations.is_some()),
                )
            });
            node.with(|n| {
                let n = n.as_ref()?;
                match n.wait.as_ref() {
                    Some(w) if w.message.is_some() => Some(StepKind::Wait),
                    Some(_) => Some(StepKind::Timer),
                    None if n.for_each.is_some() => Some(StepKind::ForEach),
                    None if n.sub_flow.is_some() => Some(StepKind::SubFlow),
                    None if loops => Some(StepKind::Loop),
                    None if decides => Some(StepKind::Decision),
                    None => None,
                }
            })
        })
    };
    // A wait under way: what for, and the time left (ticking while it waits).
    let waiting = {
        let id = id.clone();
        Memo::new(move |_| {
            run.shown_run
                .with(|r| r.as_ref().and_then(|r| r.waiting.get(&id).cloned()))
        })
    };
    let now = RwSignal::new(crate::ui::client::now_ms());
    let ticking = StoredValue::new(None::<leptos::prelude::IntervalHandle>);
    let stop_ticking = move || {
        if let Some(h) = ticking.try_update_value(Option::take).flatten() {
            h.clear();
        }
    };
    Effect::new(move |_| {
        stop_ticking();
        if waiting.with(Option::is_some) {
            now.set(crate::ui::client::now_ms());
            let handle = leptos::prelude::set_interval_with_handle(
                move || now.set(crate::ui::client::now_ms()),
                std::time::Duration::from_millis(250),
            );
            ticking.set_value(handle.ok());
        }
    });
    on_cleanup(stop_ticking);
    let speed = Memo::new(move |_| {
        run.log.with(|log| {
            log.iter()
                .find_map(|r| match &r.event {
                    crate::model::RunEvent::RunStarted { speed, .. } => Some(*speed),
                    _ => None,
                })
                .unwrap_or(1.0)
        })
    });
    let wait_text = move || {
        let l = lang.get();
        waiting.with(|w| {
            let Some(w) = w.as_ref() else {
                return String::new();
            };
            let left = w.for_ms.map(|ms| {
                let ends = w.since_ms as f64 + ms as f64 / speed.get().max(0.01);
                ((ends - now.get()) / 1000.0).max(0.0).ceil() as u64
            });
            match (&w.message, left) {
                (Some(m), Some(s)) => {
                    td_string!(l, canvas.waits_for_left, message = m, s = s).to_string()
                }
                (Some(m), None) => td_string!(l, canvas.waits_for, message = m).to_string(),
                (None, Some(s)) => td_string!(l, canvas.timer_left, s = s).to_string(),
                (None, None) => String::new(),
            }
        })
    };
    let live = move || {
        run.replay.with(Option::is_none)
            && run.run.with(|r| {
                r.as_ref()
                    .is_some_and(|r| r.status == crate::model::RunStatus::Running)
            })
    };
    let send = move || {
        let Some(message) = waiting.with(|w| w.as_ref().and_then(|w| w.message.clone())) else {
            return;
        };
        let Some(run_id) = run.run_id.get_untracked() else {
            return;
        };
        crate::ui::spawn_local(async move {
            let request = crate::model::api::MessageRequest {
                name: message,
                data: Default::default(),
            };
            // The history says it arrived; a failure (the run ended meanwhile) changes nothing.
            let _ =
                crate::ui::client::post_ok(&format!("/api/runs/{run_id}/messages"), &request).await;
        });
    };
    let issue = {
        let id = id.clone();
        Memo::new(move |_| {
            document
                .issues
                .with(|all| badge(all, |i| i.node.as_deref() == Some(&id)))
        })
    };
    view! {
        <g
            // (What changes with the run's end is in the class string: a `class:` toggle
            // set before the string is written again would be wiped by it.)
            class=move || {
                let never = if never_reached.get() { " never-reached" } else { "" };
                let kind = kind.get().map(StepKind::class).unwrap_or("");
                match state.get() {
                    Some(s) => format!("node state-{}{never}{kind}", s.as_str()),
                    None => format!("node{never}{kind}"),
                }
            }
            class:selected=selected
            class:connect-target=target
            class:reply-waiting=reply_waiting
            data-node-id=id.clone()
            data-state=state_name
            transform=move || format!("translate({} {})", pos().x, pos().y)
        >
            <rect
                class="node-body"
                width=NODE_WIDTH
                height=NODE_HEIGHT
                rx="10"
                role="button"
                tabindex="0"
                aria-label=move || label.get()
                aria-pressed=move || selected.get().to_string()
                aria-keyshortcuts="Enter L"
                on:pointerdown=grab
            ></rect>
            // The label on one line, or two (cut with "…" past that); the service line cut
            // to the box: nothing spills out of a step.
            <text class="node-label">
                {move || {
                    let lines = lines.get();
                    let first_y = if lines.len() > 1 { 19.0 } else { 26.0 };
                    lines
                        .into_iter()
                        .enumerate()
                        .map(|(i, line)| view! { <tspan x=TEXT_LEFT y=first_y + 15.0 * i as f64>{line}</tspan> })
                        .collect_view()
                }}
            </text>
            <text class="node-service" x=TEXT_LEFT y=service_y>
                {move || fitted(&service_action(), TEXT_ROOM, SERVICE_PX, true)}
            </text>
            <text class="node-state" x=NODE_WIDTH - 10.0 y="-8" text-anchor="end">{state_text}</text>
            <Badge issue/>
            <Show when=move || kind.with(Option::is_some)>
                <g class="kind-mark" transform="translate(-8 -8)" role="img" aria-label=move || kind.get().map(|k| k.words(lang.get())).unwrap_or_default()>
                    <title>{move || kind.get().map(|k| k.words(lang.get())).unwrap_or_default()}</title>
                    <circle r="10"></circle>
                    <text x="0" y="4" text-anchor="middle">{move || kind.get().map(StepKind::glyph).unwrap_or("")}</text>
                </g>
            </Show>
            <Show when=move || waiting.with(Option::is_some)>
                <text class="wait-text" x="0" y=NODE_HEIGHT + 16.0>{wait_text}</text>
                <Show when=move || live() && waiting.with(|w| w.as_ref().is_some_and(|w| w.message.is_some()))>
                    <g
                        class="send-message"
                        transform=format!("translate(0 {})", NODE_HEIGHT + 24.0)
                        role="button"
                        tabindex="0"
                        aria-label=move || td_string!(lang.get(), canvas.send_message, message = waiting.with(|w| w.as_ref().and_then(|w| w.message.clone()).unwrap_or_default())).to_string()
                        on:pointerdown=|ev: PointerEvent| ev.stop_propagation()
                        on:click=move |_| send()
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" || ev.key() == " " {
                                ev.prevent_default();
                                ev.stop_propagation();
                                send();
                            }
                        }
                    >
                        <rect width=NODE_WIDTH height="24" rx="6"></rect>
                        <text x=NODE_WIDTH / 2.0 y="16" text-anchor="middle">
                            {move || td_string!(lang.get(), canvas.send_message, message = waiting.with(|w| w.as_ref().and_then(|w| w.message.clone()).unwrap_or_default())).to_string()}
                        </text>
                    </g>
                </Show>
            </Show>
            // A counterexample opened as a run: where it went wrong.
            <Show when=move || broke_here()>
                <g
                    class="broke-here"
                    role="img"
                    aria-label=move || td_string!(lang.get(), canvas.broke_here, step = label.get()).to_string()
                >
                    <rect class="broke-ring" x="-6" y="-6" width=NODE_WIDTH + 12.0 height=NODE_HEIGHT + 12.0 rx="14"></rect>
                    <text class="broke-text" x=NODE_WIDTH / 2.0 y="-24" text-anchor="middle">{tr!(lang, canvas.broke_here_short)}</text>
                </g>
            </Show>
            // The failure nobody handled: marked on the step it happened to.
            <Show when=move || unheard.with(Option::is_some)>
                <g
                    class="unheard"
                    transform=format!("translate({} {})", NODE_WIDTH - 34.0, NODE_HEIGHT)
                    role="img"
                    aria-label=move || td_string!(lang.get(), canvas.unhandled, text = unheard.get().unwrap_or_default()).to_string()
                >
                    <title>{move || unheard.get().unwrap_or_default()}</title>
                    <rect x="-30" y="-9" width="60" height="18" rx="9"></rect>
                    <text x="0" y="4" text-anchor="middle">{tr!(lang, canvas.unheard)}</text>
                </g>
            </Show>
            <circle
                class="handle"
                cx=NODE_WIDTH
                cy=NODE_HEIGHT / 2.0
                r="8"
                role="button"
                aria-label=move || td_string!(lang.get(), canvas.connect_from, step = label.get()).to_string()
                on:pointerdown=connect
            ></circle>
        </g>
    }
    .into_any()
}

/// A problem badge drawn at the origin (the caller places it); its label is the problems.
#[component]
pub fn Badge(issue: Memo<BadgeText>) -> impl IntoView {
    let text = move || issue.with(|i| i.as_ref().map(|i| i.1.clone()).unwrap_or_default());
    view! {
        <Show when=move || issue.with(Option::is_some)>
            <g
                class=move || format!("badge {}", issue.with(|i| i.as_ref().map(|i| i.0.as_str()).unwrap_or("")))
                role="img"
                aria-label=text
            >
                <title>{text}</title>
                <circle cx="0" cy="0" r="9"></circle>
                <text x="0" y="4" text-anchor="middle">"!"</text>
            </g>
        </Show>
    }
}
