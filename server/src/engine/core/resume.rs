//! Resuming after a replay: the attempts, compensations, deliveries and outage that were in
//! flight are armed again, and the `stalled` queue is rebuilt.

use super::*;

impl RunCore {
    /// After replaying a stored history through [`RunCore::apply`]: what was in flight is
    /// started again — attempts re-sent under their idempotency key (no new `StepStarted`),
    /// retries and compensations re-armed, undelivered events delivered. `by`: which
    /// process resumes it (recorded in the `RunResumed` record). `now_ms` (Unix ms): when,
    /// so a wait, a timer and a sub-flow's timeout — durable deadlines, not work sent again
    /// — keep the time they had left (in simulated time: the wall time since their record,
    /// scaled by the run's speed) rather than start over; `None` arms them in full.
    pub fn resume(
        &mut self,
        run_id: &str,
        by: Option<Takeover>,
        now_ms: Option<i64>,
    ) -> Vec<Action> {
        self.id = run_id.to_string();
        if self.status.is_some() {
            return Vec::new();
        }
        let mut resent = Vec::new();
        let mut timers = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let key = format!(
                "{run_id}/{}/{}/{}",
                self.nodes[i].id, step.execution, step.attempt
            );
            match step.state {
                StepState::Running if step.failure_unheard => {
                    // Its attempt failed; only the orchestrator's decision waits (below).
                }
                StepState::Running => {
                    let mut armed = Vec::new();
                    self.attempt_timers(i, step.execution, step.attempt, &mut armed);
                    let deadline = self.nodes[i].wait.is_some() || self.nodes[i].sub_flow.is_some();
                    if let (true, Some(since), Some(now)) = (deadline, step.since_ms, now_ms) {
                        let spent = ((now - since).max(0) as f64 * self.speed) as u64;
                        for action in &mut armed {
                            if let Action::Timer { after_ms, .. } = action {
                                *after_ms = after_ms.saturating_sub(spent);
                            }
                        }
                    }
                    timers.extend(armed);
                    if let (Some(workflow), Some(run)) = (&self.nodes[i].sub_flow, &step.child) {
                        // Started again unless it exists; if it ended meanwhile, its end
                        // is heard now.
                        timers.push(Action::StartChild {
                            node: i,
                            run: run.clone(),
                            workflow: workflow.clone(),
                            input: step.child_input.clone(),
                            seed: self.child_seed(i, step.execution, step.attempt),
                        });
                        resent.push(format!("{key}/child"));
                    } else if self.nodes[i].wait.is_none() {
                        // A wait sends nothing: its timers are armed again.
                        resent.push(key);
                    }
                }
                StepState::Compensating if step.undo.is_some() => {
                    let (child, run) = (step.child.clone(), step.undo.clone());
                    timers.push(Action::UndoChild {
                        node: i,
                        child: child.unwrap_or_default(),
                        run: run.unwrap_or_default(),
                    });
                    resent.push(format!("{key}/undo"));
                }
                StepState::Retrying => {
                    let delay = self.nodes[i]
                        .retry
                        .as_ref()
                        .map_or(0, |r| r.delay_before(step.attempt + 1));
                    timers.push(Action::Timer {
                        after_ms: delay,
                        input: Input::RetryDue {
                            node: i,
                            execution: step.execution,
                            attempt: step.attempt + 1,
                        },
                    });
                }
                StepState::Compensating if self.undo_call(i, step.undo_calls + 1).is_some() => {
                    // Its real service was asked to undo the work (or is about to be):
                    // asked again, under the same key.
                    timers.extend(self.undo_call(i, step.undo_calls + 1));
                    resent.push(format!("{key}/undo"));
                }
                StepState::Compensating => {
                    let plan = self.plan_compensation(i);
                    timers.push(Action::Timer {
                        after_ms: plan.duration_ms,
                        input: Input::CompensationDone { node: i },
                    });
                    resent.push(format!("{key}/compensate"));
                }
                _ => {}
            }
        }
        for &node in &self.unheard {
            self.stalled.push(Input::Heard { node });
        }
        for node in 0..self.steps.len() {
            if self.steps[node].failure_unheard && self.steps[node].state == StepState::Running {
                self.stalled.push(Input::FailureHeard { node });
            }
        }
        if let Some(crash) = &self.orchestrator_down {
            timers.push(Action::Timer {
                after_ms: crash.outage_ms(),
                input: Input::OrchestratorBack,
            });
        }
        for &(message, edge) in self.undelivered.keys() {
            timers.push(Action::Deliver { message, edge });
            resent.push(format!("{run_id}/event/{message}/{}", self.edges[edge].id));
        }
        for (&(message, edge), querying) in &self.querying {
            for &owner in &querying.waiting {
                timers.push(Action::Timer {
                    after_ms: self.query_ms(message, edge, owner),
                    input: Input::Answered {
                        message,
                        edge,
                        owner,
                    },
                });
                resent.push(format!(
                    "{run_id}/query/{message}/{}/{}",
                    self.edges[edge].id, self.nodes[owner].id
                ));
            }
        }
        self.emit(RunEvent::RunResumed { resent, by });
        self.out.extend(timers);
        self.settle();
        std::mem::take(&mut self.out)
    }

    // ---- decisions -------------------------------------------------------------------
}
