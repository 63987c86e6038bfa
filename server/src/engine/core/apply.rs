//! Applying: every change of a run's state, one history event at a time. Replaying a
//! stored history through it rebuilds the exact state.

use super::*;

impl RunCore {
    /// Applies one stored history record while replaying: its event, at its time (what a
    /// resumed wait's time left is measured from).
    pub fn apply_record(&mut self, record: &app::model::RunRecord) {
        self.clock_ms = Some(record.at_ms);
        self.apply(&record.event);
        self.clock_ms = None;
    }

    /// Applies one history event to the state. Used for new events and for replay.
    pub fn apply(&mut self, event: &RunEvent) {
        use RunEvent::*;
        let idx = |core: &Self, id: &str| core.index.get(id).copied();
        self.applied += 1;
        self.story.apply(event);
        match event {
            RunStarted { faults, .. } | FaultsChanged { faults } => {
                self.faults = faults.clone();
                if !faults.schedule.is_empty() {
                    self.script = Some(std::sync::Arc::new(script::Script::from_choices(
                        &faults.schedule,
                    )));
                }
            }
            OrchestratorCrashed {
                for_ms,
                standby_lease_ms,
            } => {
                self.orchestrator_down = Some(OrchestratorCrash {
                    at_ms: 0,
                    for_ms: *for_ms,
                    standby_lease_ms: *standby_lease_ms,
                })
            }
            OrchestratorRecovered { .. } => {
                // What waited is handled right after, in the same batch of records.
                self.orchestrator_down = None;
                self.unheard.clear();
            }
            EventDropped { message, edge, .. } => {
                if let Some(e) = self.edges.iter().position(|x| x.id == *edge) {
                    self.undelivered.remove(&(*message, e));
                    self.dropped.push((*message, e));
                }
            }
            CommandSent { message, edge, .. } => {
                let bounded = if self.loops {
                    self.edges.iter().position(|x| x.id == *edge)
                } else {
                    None
                };
                if let Some(e) = bounded {
                    if self.edges[e].max_iterations.is_some() {
                        *self.iterations.entry(e).or_default() += 1;
                    }
                }
                self.counts.commands += 1;
                self.next_message = self.next_message.max(message + 1);
            }
            ReplyReceived { .. } => self.counts.replies += 1,
            EventPublished {
                message,
                from,
                name,
                outcome,
                payload,
                ..
            } => {
                self.counts.events += 1;
                if !payload.is_empty() {
                    self.payloads.insert(*message, payload.clone());
                }
                self.next_message = self.next_message.max(message + 1);
                if let Some(from) = idx(self, from) {
                    let hops = self.steps[from].hops + 1;
                    let subscribers: Vec<usize> = self
                        .routes
                        .publications(from, *outcome)
                        .iter()
                        .filter(|(n, _)| n == name)
                        .flat_map(|(_, subs)| subs.iter().copied())
                        .collect();
                    for edge in subscribers {
                        self.undelivered.insert((*message, edge), hops);
                        if self.edges[edge].max_iterations.is_some() {
                            *self.iterations.entry(edge).or_default() += 1;
                        }
                    }
                }
            }
            EventDelivered {
                message,
                edge,
                hops,
                ..
            } => {
                self.counts.deliveries += 1;
                if let Some(e) = self.edges.iter().position(|x| x.id == *edge) {
                    self.undelivered.remove(&(*message, e));
                    self.delivered.insert((*message, e), *hops);
                }
            }
            QuerySent {
                message,
                edge,
                owner,
                ..
            } => {
                self.counts.queries += 1;
                if let (Some(e), Some(owner)) = (
                    self.edges.iter().position(|x| x.id == *edge),
                    idx(self, owner),
                ) {
                    let hops = self.delivered.get(&(*message, e)).copied().unwrap_or(0);
                    let querying = self.querying.entry((*message, e)).or_default();
                    querying.hops = hops;
                    querying.waiting.push(owner);
                }
            }
            QueryAnswered {
                message,
                edge,
                owner,
                answer,
                ..
            } => {
                if let (Some(e), Some(owner)) = (
                    self.edges.iter().position(|x| x.id == *edge),
                    idx(self, owner),
                ) {
                    if let Some(querying) = self.querying.get_mut(&(*message, e)) {
                        querying.waiting.retain(|&w| w != owner);
                        querying.answers.extend(answer.clone());
                        if querying.waiting.is_empty() {
                            let answers = std::mem::take(&mut querying.answers);
                            self.querying.remove(&(*message, e));
                            if self.real_calls && !answers.is_empty() {
                                self.answered.insert((*message, self.edges[e].to), answers);
                            }
                        }
                    }
                }
            }
            EventFiltered { .. } => {}
            WaitStarted {
                message: Some(message),
                ..
            } => {
                // A message kept for the step that waits for it: taken now.
                if let Some(at) = self.inbox.iter().position(|m| m == message) {
                    self.inbox.remove(at);
                }
            }
            WaitStarted { .. } | ItemsDone { .. } => {}
            ItemsStarted {
                node,
                items,
                problem,
                ..
            } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].items = *items;
                    self.steps[n].items_refused = problem.is_some();
                }
            }
            MessageReceived {
                name, node, data, ..
            } => {
                for (field, value) in data {
                    self.written.insert(field.clone(), value.clone());
                }
                if node.is_none() {
                    self.inbox.push(name.clone());
                }
            }
            StepWaiting { node, edge, .. } => {
                if let (Some(n), Some(e)) = (
                    idx(self, node),
                    self.edges.iter().position(|x| x.id == *edge),
                ) {
                    self.steps[n].state = StepState::Waiting;
                    self.steps[n].arrived.insert(e);
                }
            }
            StepStarted {
                node,
                attempt,
                execution,
                owner,
                hops,
                cause,
            } => {
                if let Some(n) = idx(self, node) {
                    let step = &mut self.steps[n];
                    if *attempt == 1 {
                        self.executions += 1;
                        step.arrived.clear();
                    }
                    step.state = StepState::Running;
                    step.attempt = *attempt;
                    step.execution = *execution;
                    step.owner = *owner;
                    step.hops = *hops;
                    step.since_ms = self.clock_ms;
                    if let Some(message) = cause.message() {
                        step.seen.insert(message);
                    }
                    match cause {
                        Cause::Event { message, name, .. } => {
                            step.trigger = Some((*message, name.clone()))
                        }
                        Cause::Retry { .. } => {}
                        _ => step.trigger = None,
                    }
                }
            }
            AttemptFailed {
                node,
                attempt,
                reason,
            } => {
                if let Some(n) = idx(self, node) {
                    let waits = self.failure_waits(n, *attempt);
                    let step = &mut self.steps[n];
                    step.last_reason = Some(*reason);
                    step.failure_unheard = waits;
                }
            }
            RetryScheduled { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Retrying;
                    self.steps[n].failure_unheard = false;
                }
            }
            StepSucceeded { node, wrote, .. } => {
                for (field, value) in wrote {
                    self.written.insert(field.clone(), value.clone());
                }
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Succeeded;
                    self.steps[n].wrote_fields = wrote.keys().cloned().collect();
                    if self.orchestrator_down.is_some()
                        && self.hears_from(n)
                        && !self.unheard.contains(&n)
                    {
                        self.unheard.push(n);
                    }
                    if self.steps[n].owner == Owner::Orchestrator
                        && (self.nodes[n].compensation.is_some()
                            || self.nodes[n].sub_flow.is_some())
                    {
                        self.completed.retain(|&c| c != n);
                        self.completed.push(n);
                    }
                }
            }
            StepFailed { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Failed;
                    self.steps[n].failure_unheard = false;
                }
            }
            FailureUnhandled { diagnosis, .. } => self.unhandled.push(diagnosis.clone()),
            // A decision that took no branch: the run cannot go on that way, and fails
            // saying why once nothing else is at work.
            Decided { taken, problem, .. } if taken.is_empty() => {
                self.unhandled.push(
                    problem
                        .clone()
                        .unwrap_or_else(|| "no branch was taken".into()),
                );
            }
            Decided { .. } => {}
            SagaStarted { compensate, .. } => {
                self.saga = Some(compensate.iter().filter_map(|id| idx(self, id)).collect());
                self.saga_ran = true;
            }
            CompensationStarted { node, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Compensating;
                    self.steps[n].undo_calls = 0;
                }
            }
            StepCompensated { node, .. } | CompensationFailed { node, .. } => {
                if let Some(n) = idx(self, node) {
                    let failed = matches!(event, CompensationFailed { .. });
                    self.steps[n].state = if failed {
                        StepState::Failed
                    } else {
                        StepState::Compensated
                    };
                    self.compensation_failed |= failed;
                    if let Some(queue) = self.saga.as_mut() {
                        queue.retain(|&q| q != n);
                        if queue.is_empty() {
                            self.saga = None;
                        }
                    }
                }
            }
            StepSkipped { node } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Skipped;
                }
            }
            StepCancelled { node } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].state = StepState::Cancelled;
                }
            }
            CancelRequested => self.cancelled = true,
            RunawayStopped { reason } => {
                self.runaway = true;
                self.unhandled.insert(0, reason.clone());
            }
            RunResumed { .. } => {}
            RunCompleted {
                status, diagnosis, ..
            } => {
                self.status = Some(*status);
                self.diagnosis = diagnosis.clone();
            }
            ChildStarted {
                node, run, input, ..
            } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].child = Some(run.clone());
                    self.steps[n].child_input = input.clone();
                    self.steps[n].undo = None;
                    self.steps[n].child_wrote.clear();
                }
            }
            ChildEnded {
                node,
                run,
                status,
                wrote,
                ..
            } => {
                if let Some(n) = idx(self, node) {
                    let step = &mut self.steps[n];
                    if step.child.as_deref() == Some(run) && *status == RunStatus::Completed {
                        step.child_wrote = wrote.clone();
                    }
                }
            }
            ChildUndoStarted { node, run, .. } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].undo = Some(run.clone());
                }
            }
            // What a real service answered: the attempt's end follows in its own records.
            ServiceCalled {
                node,
                attempt,
                undo: Some(_),
                ..
            } => {
                if let Some(n) = idx(self, node) {
                    self.steps[n].undo_calls = *attempt;
                }
            }
            ServiceCalled { .. } => {}
            UndoStarted { compensate, .. } => {
                let queue: VecDeque<usize> =
                    compensate.iter().filter_map(|id| idx(self, id)).collect();
                for &n in &queue {
                    self.steps[n].state = StepState::Succeeded;
                }
                self.completed = queue.iter().rev().copied().collect();
                if !queue.is_empty() {
                    self.saga = Some(queue);
                    self.saga_ran = true;
                }
            }
        }
    }
}
