//! The saga: when an orchestrated step fails unhandled, what the orchestrator completed is
//! compensated, newest first, one compensation at a time.

use super::*;

impl RunCore {
    pub(super) fn start_saga(&mut self, failed: usize, reason: FailureReason) {
        let compensate = self.compensable();
        if compensate.is_empty() {
            let diagnosis = format!(
                "{} failed ({}) after {} attempt(s); the orchestrator has no failure route for it and nothing to compensate",
                self.nodes[failed].label,
                reason_text(reason),
                self.steps[failed].attempt,
            );
            self.emit(RunEvent::FailureUnhandled {
                node: self.nodes[failed].id.clone(),
                event: None,
                diagnosis,
            });
            return;
        }
        self.emit(RunEvent::SagaStarted {
            failed: self.nodes[failed].id.clone(),
            compensate: compensate
                .iter()
                .map(|&n| self.nodes[n].id.clone())
                .collect(),
        });
        self.next_compensation();
    }

    /// What a saga would compensate now, newest first: the orchestrator's completed steps
    /// that are still succeeded.
    pub(super) fn compensable(&self) -> Vec<usize> {
        self.completed
            .iter()
            .rev()
            .copied()
            .filter(|&n| self.steps[n].state == StepState::Succeeded)
            .collect()
    }

    pub(super) fn next_compensation(&mut self) {
        let Some(next) = self.saga.as_ref().and_then(|q| q.front().copied()) else {
            return;
        };
        self.emit(RunEvent::CompensationStarted {
            node: self.nodes[next].id.clone(),
            action: self.compensation_action(next),
        });
        if let Some(child) = self.steps[next].child.clone() {
            // A sub-flow's child is undone as a unit, by an undo run of its own.
            let run = format!("{child}.undo");
            self.emit(RunEvent::ChildUndoStarted {
                node: self.nodes[next].id.clone(),
                child: child.clone(),
                run: run.clone(),
            });
            self.out.push(Action::UndoChild {
                node: next,
                child,
                run,
            });
            return;
        }
        if let Some(call) = self.undo_call(next, 1) {
            // Its real service undoes the work: its answer ends the compensation.
            self.out.push(call);
            return;
        }
        let plan = self.plan_compensation(next);
        self.out.push(Action::Timer {
            after_ms: plan.duration_ms,
            input: Input::CompensationDone { node: next },
        });
    }

    /// Undo call `attempt` of `node` to the real service it is bound to — in a live run
    /// (the lab simulates its compensation): the run data, the compensation's name, under
    /// the step's key with `/undo`.
    pub(super) fn undo_call(&self, node: usize, attempt: u32) -> Option<Action> {
        use app::model::call::{CallKind, CallRequest};
        let binding = self.nodes[node].call.as_ref().filter(|_| self.real_calls)?;
        let (id, execution) = (&self.nodes[node].id, self.steps[node].execution);
        let request = CallRequest {
            run: self.id.clone(),
            step: id.clone(),
            execution,
            attempt,
            idempotency_key: CallRequest::undo_key_of(&self.id, id, execution),
            kind: CallKind::Undo,
            event: None,
            action: Some(self.compensation_action(node)),
            data: self.data(),
        };
        Some(Action::Call {
            node,
            execution,
            attempt,
            request: Box::new(request),
            binding: Box::new(binding.clone()),
            timeout_ms: self.nodes[node].timeout_ms,
        })
    }

    /// Undo call `attempt` of `node` was answered: done, the step is compensated; declined,
    /// its compensation failed; broken, it is called again per the step's retry policy (the
    /// same key), until its attempts run out.
    pub(super) fn undo_answered(&mut self, node: usize, attempt: u32, called: Called) {
        if self.steps[node].undo_calls + 1 != attempt {
            return; // stale: answered already (a resend after a resume)
        }
        let action = self.compensation_action(node);
        let Called {
            status,
            took_ms,
            answer,
        } = called;
        let problem = answer.problem();
        let name = self.nodes[node].id.clone();
        self.emit(RunEvent::ServiceCalled {
            node: name.clone(),
            attempt,
            status,
            took_ms,
            problem,
            undo: Some(action.clone()),
        });
        match answer {
            CallAnswer::Done { .. } => {
                self.emit(RunEvent::StepCompensated { node: name, action });
            }
            CallAnswer::Broken { .. } if attempt < self.nodes[node].max_attempts() => {
                let after_ms = self.nodes[node]
                    .retry
                    .as_ref()
                    .map_or(0, |r| r.delay_before(attempt + 1));
                self.out.push(Action::Timer {
                    after_ms,
                    input: Input::UndoCallDue {
                        node,
                        attempt: attempt + 1,
                    },
                });
                return;
            }
            CallAnswer::Declined { .. } | CallAnswer::Broken { .. } => {
                self.emit(RunEvent::CompensationFailed { node: name, action });
            }
        }
        self.next_compensation();
    }

    /// What compensating `node` does: its compensation action; for a sub-flow, undoing its
    /// child run.
    pub(super) fn compensation_action(&self, node: usize) -> String {
        match (&self.nodes[node].compensation, &self.nodes[node].sub_flow) {
            (Some(action), _) => action.clone(),
            (None, Some(workflow)) => format!("undo {workflow}"),
            (None, None) => String::new(),
        }
    }

    pub(super) fn plan_compensation(&self, node: usize) -> AttemptPlan {
        let spec = &self.nodes[node];
        let fault = self.service_fault(node);
        let (min, max) = spec.latency().bounds();
        let execution = self.steps[node].execution;
        let drawn = min + self.draw(node, execution, 0, 3) % (max - min + 1);
        AttemptPlan {
            duration_ms: (drawn as f64 * fault.slow.unwrap_or(1.0)).round() as u64,
            failure: if fault.down {
                Some(FailureReason::Unavailable)
            } else {
                (unit(self.draw(node, execution, 0, 4)) < spec.failure_rate.unwrap_or(0.0))
                    .then_some(FailureReason::Error)
            },
        }
    }
}
