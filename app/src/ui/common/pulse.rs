//! Messages travelling along edges on the canvas while a run goes on: which records become
//! pulses, and along which edge (a reply goes back along the command edge that reached its
//! step).

use std::collections::HashMap;

use crate::model::{RunEvent, RunRecord};

/// How long a message takes to travel along an edge on the canvas.
pub const PULSE_MS: u32 = 700;
/// The most messages drawn in flight at once.
pub const MAX_PULSES: usize = 200;
/// Records older than this when they arrive are history being replayed: not animated.
pub const LIVE_WITHIN_MS: f64 = 3_000.0;

/// What kind of message a pulse is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PulseKind {
    Command,
    Reply,
    Event,
}

impl PulseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PulseKind::Command => "command",
            PulseKind::Reply => "reply",
            PulseKind::Event => "event",
        }
    }

    /// Commands and replies pass through the orchestrator (drawn as a hub, they travel its
    /// spokes); events do not.
    pub fn through_orchestrator(self) -> bool {
        self != PulseKind::Event
    }
}

/// A message travelling along an edge on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Pulse {
    /// The record's seq: unique within the run.
    pub key: u64,
    pub edge: String,
    /// A reply: from the step back to the orchestrator, against the edge's direction.
    pub back: bool,
    pub kind: PulseKind,
    /// The step a command goes to or a reply comes from: with the orchestrator drawn as a
    /// hub, the message travels the hub's spoke to that step instead of the edge.
    pub step: String,
}

/// Which command edge last reached each step, so its reply can travel back along it.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    commanded_by: HashMap<String, String>,
}

impl Routes {
    /// The pulses among `records`: commands out along their edge, replies back along the
    /// command edge that reached the step, events to each subscriber. Records that happened
    /// more than [`LIVE_WITHIN_MS`] before `now_ms` are history: remembered, not animated.
    pub fn pulses(&mut self, records: &[RunRecord], now_ms: f64) -> Vec<Pulse> {
        let mut pulses = Vec::new();
        for r in records {
            let live = now_ms - (r.at_ms as f64) < LIVE_WITHIN_MS;
            let pulse = match &r.event {
                RunEvent::CommandSent { edge, to, .. } => {
                    self.commanded_by.insert(to.clone(), edge.clone());
                    Some((edge.clone(), false, PulseKind::Command, to.clone()))
                }
                RunEvent::ReplyReceived { from, .. } => self
                    .commanded_by
                    .get(from)
                    .map(|edge| (edge.clone(), true, PulseKind::Reply, from.clone())),
                RunEvent::EventDelivered { edge, to, .. } => {
                    Some((edge.clone(), false, PulseKind::Event, to.clone()))
                }
                _ => None,
            };
            if let (true, Some((edge, back, kind, step))) = (live, pulse) {
                pulses.push(Pulse {
                    key: r.seq,
                    edge,
                    back,
                    kind,
                    step,
                });
            }
        }
        pulses
    }
}
