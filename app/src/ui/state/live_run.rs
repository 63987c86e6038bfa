//! The open run: its view, its history as received, its live connection, the replay
//! position, the messages in flight, and the open workflow's runs. The transport
//! (`ui::run::transport`) fills it; the canvas, the status line and the run panel read it.

use leptos::prelude::*;

use crate::model::api::RunSummary;
use crate::model::log::view_at;
use crate::model::{RunRecord, RunView, Workflow};
use crate::ui::common::pulse::{Pulse, Routes};

/// Attempts in a row after which the view calls itself offline (it keeps retrying).
pub const OFFLINE_AFTER_ATTEMPTS: u32 = 4;
pub const RECONNECT_FIRST_MS: u32 = 250;
pub const RECONNECT_MAX_MS: u32 = 8_000;

/// The state of the open run's live connection, as the status line shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    #[default]
    Idle,
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
    },
    /// The run completed and the stream closed: nothing more will come.
    Done,
}

impl Connection {
    /// The connection in `locale`'s words, as the status line shows it.
    pub fn label(self, locale: crate::i18n::Locale) -> String {
        match self {
            Connection::Idle => String::new(),
            Connection::Connecting => td_string!(locale, status.connecting).into(),
            Connection::Live => td_string!(locale, status.live).into(),
            Connection::Reconnecting { attempt } if attempt > OFFLINE_AFTER_ATTEMPTS => {
                td_string!(locale, status.offline, seconds = RECONNECT_MAX_MS / 1000).to_string()
            }
            Connection::Reconnecting { attempt } => {
                td_string!(locale, status.reconnecting, attempt = attempt).to_string()
            }
            Connection::Done => td_string!(locale, status.complete).into(),
        }
    }

    /// The status line's class: live, reconnecting, or idle.
    pub fn class(self) -> &'static str {
        match self {
            Connection::Live => "live",
            Connection::Reconnecting { .. } | Connection::Connecting => "reconnecting",
            _ => "idle",
        }
    }
}

/// Records received but not yet drawn, for the run being followed.
#[derive(Default)]
pub struct Incoming {
    pub run_id: String,
    /// The seq of the newest record received: a reconnection resumes after it.
    pub last: u64,
    pub pending: Vec<RunRecord>,
    pub scheduled: bool,
    /// Where replies travel back.
    pub routes: Routes,
}

impl Incoming {
    /// Takes a record: `None` if it is a duplicate (at or before the last one), else
    /// whether a frame must be scheduled to draw it.
    pub fn accept(&mut self, record: RunRecord) -> Option<bool> {
        if record.seq <= self.last {
            return None;
        }
        self.last = record.seq;
        self.pending.push(record);
        Some(!std::mem::replace(&mut self.scheduled, true))
    }
}

/// The run slice. The transport owns its writes.
#[derive(Clone, Copy)]
pub struct RunState {
    /// The live (or last) run of the open workflow, and its id.
    pub run: RwSignal<Option<RunView>>,
    pub run_id: RwSignal<Option<String>>,
    /// Every history record of the open run, in order.
    pub log: RwSignal<Vec<RunRecord>>,
    /// Records received for the open run and not yet drawn.
    pub incoming: StoredValue<Incoming>,
    /// The open run's live connection.
    pub connection: RwSignal<Connection>,
    /// Replaying the open run: the canvas shows it after this many records.
    pub replay: RwSignal<Option<usize>>,
    /// What the canvas shows of the run: live, or at the replay position.
    pub shown_run: Memo<Option<RunView>>,
    /// Messages travelling along edges right now.
    pub pulses: RwSignal<Vec<Pulse>>,
    /// The open workflow's runs, newest first.
    pub runs: RwSignal<Vec<RunSummary>>,
    /// The step where the open run went wrong, when it was opened as a counterexample
    /// (the address's `at`): the canvas points at it.
    pub broke_at: RwSignal<Option<String>>,
}

impl RunState {
    /// `doc` is the open workflow (its steps are the replayed view's steps).
    pub fn new(doc: RwSignal<Workflow>) -> Self {
        let run = RwSignal::new(None::<RunView>);
        let log = RwSignal::new(Vec::<RunRecord>::new());
        let replay = RwSignal::new(None::<usize>);
        RunState {
            run,
            log,
            replay,
            shown_run: Memo::new(move |_| match replay.get() {
                Some(upto) => {
                    let ids: Vec<String> =
                        doc.with_untracked(|d| d.nodes.iter().map(|n| n.id.clone()).collect());
                    Some(log.with(|log| view_at(log, &ids, upto)))
                }
                None => run.get(),
            }),
            run_id: RwSignal::new(None),
            incoming: StoredValue::new(Incoming::default()),
            connection: RwSignal::new(Connection::Idle),
            pulses: RwSignal::new(Vec::new()),
            runs: RwSignal::new(Vec::new()),
            broke_at: RwSignal::new(None),
        }
    }

    /// Whether the open run is still going.
    pub fn running(&self) -> bool {
        self.run
            .with(|r| r.as_ref().is_some_and(|r| !r.status.is_final()))
    }

    /// Shows run `run_id` from its start: every step pending, an empty log.
    pub fn show(&self, run_id: &str, workflow: &Workflow) {
        self.run.set(Some(RunView::new(
            workflow.nodes.iter().map(|n| n.id.as_str()),
        )));
        self.log.set(Vec::new());
        self.replay.set(None);
        self.pulses.set(Vec::new());
        self.incoming.set_value(Incoming {
            run_id: run_id.to_string(),
            ..Default::default()
        });
        self.run_id.set(Some(run_id.to_string()));
    }

    /// Shows no run (another workflow was opened).
    pub fn clear(&self) {
        self.run.set(None);
        self.replay.set(None);
        self.run_id.set(None);
        self.log.set(Vec::new());
        self.pulses.set(Vec::new());
        self.incoming.set_value(Incoming::default());
        self.connection.set(Connection::Idle);
    }

    /// Whether `run_id` is the run shown.
    pub fn is_open(&self, run_id: &str) -> bool {
        self.run_id.with_untracked(|r| r.as_deref() == Some(run_id))
    }
}
