//! Settling: after every input, whether the run is over — completed, failed with what
//! nobody handled, stalled on an event the bus lost, or stopped as a runaway — and the
//! diagnosis that says why.

use super::*;

impl RunCore {
    pub(super) fn stop_runaway(&mut self, reason: String) {
        if !self.runaway {
            self.emit(RunEvent::RunawayStopped { reason });
        }
    }

    /// Ends the run when nothing can happen any more; starts `join: all` steps whose
    /// remaining edges can no longer arrive.
    pub(super) fn settle(&mut self) {
        if self.status.is_some() {
            return;
        }
        let stopping = self.cancelled || self.runaway;
        if !stopping {
            loop {
                let ready: Vec<usize> = (0..self.steps.len())
                    .filter(|&n| self.steps[n].state == StepState::Waiting)
                    .filter(|&n| {
                        self.incoming[n].iter().all(|e| {
                            self.steps[n].arrived.contains(e)
                                || !self.can_arrive(*e, &mut HashSet::new())
                        })
                    })
                    .collect();
                if ready.is_empty() || self.runaway {
                    break;
                }
                for n in ready {
                    let cause = Cause::Start;
                    let hops = self.steps[n].hops;
                    self.start_execution(n, cause, hops);
                }
            }
            let busy = self.steps.iter().any(|s| s.state.is_active())
                || !self.undelivered.is_empty()
                || !self.querying.is_empty()
                || !self.stalled.is_empty()
                || self.saga.is_some();
            if busy {
                return;
            }
        }
        for n in 0..self.steps.len() {
            let id = self.nodes[n].id.clone();
            match self.steps[n].state {
                StepState::Pending | StepState::Waiting => {
                    self.emit(RunEvent::StepSkipped { node: id })
                }
                s if s.is_active() => {
                    // A child it waits for is stopped too.
                    let child = match s {
                        StepState::Compensating => self.steps[n].undo.clone(),
                        _ => self.steps[n].child.clone(),
                    };
                    if let Some(run) = child.filter(|_| self.nodes[n].sub_flow.is_some()) {
                        self.out.push(Action::CancelChild { run });
                    }
                    self.emit(RunEvent::StepCancelled { node: id })
                }
                _ => {}
            }
        }
        let (status, diagnosis) = if self.cancelled {
            (
                RunStatus::Cancelled,
                Some("cancelled on request".to_string()),
            )
        } else if self.runaway {
            (RunStatus::Failed, self.unhandled.first().cloned())
        } else if self.saga_ran {
            if self.compensation_failed {
                (
                    RunStatus::Failed,
                    Some("a compensation failed: the saga could not undo every step".to_string()),
                )
            } else {
                (RunStatus::Compensated, self.unhandled.first().cloned())
            }
        } else if let Some(stall) = self.stall() {
            (RunStatus::Failed, Some(stall))
        } else if let Some(first) = self.unhandled.first() {
            (RunStatus::Failed, Some(first.clone()))
        } else {
            (RunStatus::Completed, None)
        };
        let outcome = self.story.headline(&self.nodes, app::i18n::Locale::en);
        self.emit(RunEvent::RunCompleted {
            status,
            diagnosis,
            messages: self.counts,
            outcome,
        });
    }

    /// Where the run stalled because the bus lost an event its subscriber was waiting for.
    pub(super) fn stall(&self) -> Option<String> {
        let (message, edge) = self.dropped.iter().copied().find(|&(_, e)| {
            matches!(
                self.steps[self.edges[e].to].state,
                StepState::Pending | StepState::Waiting | StepState::Skipped
            )
        })?;
        let e = &self.edges[edge];
        let never: Vec<&str> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == StepState::Skipped)
            .map(|(i, _)| self.nodes[i].label.as_str())
            .collect();
        Some(format!(
            "stalled: the bus lost {} (message {message}) from {} to {}; nobody resends it, so {} never ran",
            e.name,
            self.nodes[e.from].label,
            self.nodes[e.to].label,
            never.join(", ")
        ))
    }

    /// Whether `edge` may still deliver a trigger: its source is at work, or may yet start.
    pub(super) fn can_arrive(&self, edge: usize, visiting: &mut HashSet<usize>) -> bool {
        let source = self.edges[edge].from;
        match self.steps[source].state {
            StepState::Running | StepState::Retrying | StepState::Waiting => true,
            StepState::Pending => {
                if !visiting.insert(source) {
                    return false; // a cycle nothing enters
                }
                let arriving = self.incoming[source]
                    .iter()
                    .any(|e| self.can_arrive(*e, visiting));
                arriving
                    || self
                        .undelivered
                        .keys()
                        .chain(self.querying.keys())
                        .any(|(_, e)| self.edges[*e].to == source)
            }
            _ => self
                .undelivered
                .keys()
                .chain(self.querying.keys())
                .any(|(_, e)| *e == edge),
        }
    }

    // ---- outcomes drawn from the seed ------------------------------------------------
}
