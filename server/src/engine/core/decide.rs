//! Deciding: what an input means for the run. Everything here emits history events (and
//! timers); the state they imply changes in `apply`, except the derived `stalled` queue.

use super::*;

impl RunCore {
    /// Whether handling `input` needs the orchestrator: replies to its commands, the
    /// retries it schedules, its saga, and the commands that follow a step it hears from.
    pub fn needs_orchestrator(&self, input: &Input) -> bool {
        match input {
            Input::AttemptDone { node, .. }
            | Input::CallAnswered { node, .. }
            | Input::Heard { node } => self.hears_from(*node),
            // An event-started step retries by itself.
            Input::RetryDue { node, .. } => self.steps[*node].owner == Owner::Orchestrator,
            Input::CompensationDone { .. }
            | Input::UndoCallDue { .. }
            | Input::FailureHeard { .. } => true,
            _ => false,
        }
    }

    /// Whether `input` must wait while the orchestrator is down: as
    /// [`RunCore::needs_orchestrator`], except that an attempt's end is the step's own to
    /// record — a success with the events it publishes, or a failed attempt — and only what
    /// the orchestrator decides from it waits (see [`RunCore::failure_waits`]).
    pub(super) fn waits_for_orchestrator(&self, input: &Input) -> bool {
        match input {
            Input::AttemptDone { .. } | Input::CallAnswered { .. } => false,
            other => self.needs_orchestrator(other),
        }
    }

    /// Whether, with the orchestrator down, what follows a failed `attempt` of `node` waits
    /// for it: the retry of a step it commanded is its decision; an event-started step retries
    /// by itself, and only its last failure, which the orchestrator must hear because commands
    /// follow it, waits.
    pub(super) fn failure_waits(&self, node: usize, attempt: u32) -> bool {
        self.orchestrator_down.is_some()
            && match self.steps[node].owner {
                Owner::Orchestrator => true,
                Owner::Itself => {
                    self.routes.commands_anything(node)
                        && attempt >= self.nodes[node].max_attempts()
                }
            }
    }

    /// Whether the orchestrator must hear how `node` ends: it commanded it, or commands
    /// follow it.
    pub(super) fn hears_from(&self, node: usize) -> bool {
        self.steps[node].owner == Owner::Orchestrator || self.routes.commands_anything(node)
    }

    pub(super) fn decide(&mut self, input: Input) {
        if self.orchestrator_down.is_some() && self.waits_for_orchestrator(&input) {
            self.stalled.push(input);
            return;
        }
        match input {
            Input::Start => {
                self.emit(RunEvent::RunStarted {
                    input: self.input.clone(),
                    seed: self.seed,
                    speed: self.speed,
                    faults: self.faults.clone(),
                });
                let scripted =
                    self.script
                        .as_ref()
                        .and_then(|s| s.crash)
                        .map(|(at_ms, standby)| app::model::faults::OrchestratorCrash {
                            at_ms,
                            for_ms: app::model::verify::CRASH_MS,
                            standby_lease_ms: standby
                                .then_some(app::model::verify::STANDBY_LEASE_MS),
                        });
                if let Some(crash) = self.faults.orchestrator.clone().or(scripted) {
                    self.out.push(Action::Timer {
                        after_ms: crash.at_ms,
                        input: Input::CrashOrchestrator {
                            for_ms: crash.for_ms,
                            standby_lease_ms: crash.standby_lease_ms,
                        },
                    });
                }
                for root in self.roots.clone() {
                    self.trigger(root, Cause::Start, 0, None);
                }
            }
            Input::AttemptDone {
                node,
                execution,
                attempt,
            } => {
                if !self.is_under_way(node, execution, attempt) {
                    return; // stale: a resent attempt already reported
                }
                if self.nodes[node].sub_flow.is_some() {
                    // Its timeout: the child no longer counts, and is stopped.
                    if let Some(run) = self.steps[node].child.clone() {
                        self.out.push(Action::CancelChild { run });
                    }
                }
                if self.nodes[node].for_each.is_some() && !self.steps[node].items_refused {
                    let items = self.item_plans(node, execution, attempt);
                    let plan = self.plan(node, execution, attempt);
                    let failed = items
                        .iter()
                        .enumerate()
                        .filter(|(_, item)| {
                            item.failure.is_some() || item.duration_ms > plan.duration_ms
                        })
                        .map(|(i, _)| i as u32)
                        .collect();
                    self.emit(RunEvent::ItemsDone {
                        node: self.nodes[node].id.clone(),
                        items: items.len() as u32,
                        failed,
                        slowest_ms: items.iter().map(|i| i.duration_ms).max().unwrap_or(0),
                    });
                }
                match self.plan(node, execution, attempt).failure {
                    None => self.succeed(node),
                    Some(reason) => self.attempt_failed(node, reason),
                }
            }
            Input::CallAnswered {
                node,
                execution,
                attempt,
                called,
            } => {
                if self.steps[node].state == StepState::Compensating
                    && self.steps[node].execution == execution
                {
                    return self.undo_answered(node, attempt, *called);
                }
                if !self.is_under_way(node, execution, attempt) {
                    return; // stale: the attempt ended otherwise (cancelled, timed out)
                }
                let Called {
                    status,
                    took_ms,
                    answer,
                } = *called;
                let problem = answer.problem();
                self.emit(RunEvent::ServiceCalled {
                    node: self.nodes[node].id.clone(),
                    attempt,
                    status,
                    took_ms,
                    problem,
                    undo: None,
                });
                match answer {
                    CallAnswer::Done { writes, publish } => {
                        self.steps[node].publish_only = publish;
                        self.succeed_with(node, Some(writes));
                    }
                    CallAnswer::Declined { .. } => {
                        self.attempt_failed(node, FailureReason::Declined)
                    }
                    CallAnswer::Broken { timed_out, .. } => self.attempt_failed(
                        node,
                        if timed_out {
                            FailureReason::Timeout
                        } else {
                            FailureReason::Unavailable
                        },
                    ),
                }
            }
            Input::RetryDue {
                node,
                execution,
                attempt,
            } => {
                let step = &self.steps[node];
                if step.state != StepState::Retrying
                    || step.execution != execution
                    || step.attempt + 1 != attempt
                {
                    return;
                }
                let owner = step.owner;
                let hops = step.hops;
                self.start_attempt(
                    node,
                    attempt,
                    execution,
                    owner,
                    hops,
                    Cause::Retry { owner },
                );
            }
            Input::UndoCallDue { node, attempt } => {
                if self.steps[node].state == StepState::Compensating
                    && self.steps[node].undo_calls + 1 == attempt
                {
                    if let Some(call) = self.undo_call(node, attempt) {
                        self.out.push(call);
                    }
                }
            }
            Input::CompensationDone { node } => {
                if self.steps[node].state != StepState::Compensating {
                    return;
                }
                let action = self.compensation_action(node);
                let name = self.nodes[node].id.clone();
                if self.plan_compensation(node).failure.is_some() {
                    self.emit(RunEvent::CompensationFailed { node: name, action });
                } else {
                    self.emit(RunEvent::StepCompensated { node: name, action });
                }
                self.next_compensation();
            }
            Input::Deliver { message, edge } => {
                let Some(&hops) = self.undelivered.get(&(message, edge)) else {
                    return; // already delivered
                };
                self.deliver(message, edge, hops, false);
            }
            Input::Redeliver { message, edge } => {
                let Some(&hops) = self.delivered.get(&(message, edge)) else {
                    return;
                };
                self.deliver(message, edge, hops, true);
            }
            Input::Answered {
                message,
                edge,
                owner,
            } => self.answer(message, edge, owner),
            Input::Arrives {
                node,
                execution,
                attempt,
            } => {
                if !self.is_under_way(node, execution, attempt) {
                    return; // the wait is over already
                }
                if let Some(name) = self.nodes[node]
                    .wait
                    .as_ref()
                    .and_then(|w| w.message.clone())
                {
                    self.receive(
                        name,
                        Some(node),
                        app::model::MessageSource::Simulated,
                        serde_json::Map::new(),
                    );
                }
            }
            Input::Message { name, data } => {
                self.receive(name, None, app::model::MessageSource::Outside, data)
            }
            Input::ChildEnded {
                run,
                status,
                diagnosis,
                wrote,
            } => self.child_ended(run, status, diagnosis, wrote),
            Input::Undo { of, steps } => {
                self.emit(RunEvent::RunStarted {
                    input: self.input.clone(),
                    seed: self.seed,
                    speed: self.speed,
                    faults: self.faults.clone(),
                });
                let compensate = steps
                    .into_iter()
                    .filter(|id| self.index.contains_key(id))
                    .collect();
                self.emit(RunEvent::UndoStarted { of, compensate });
                self.next_compensation();
            }
            Input::NothingMoreComes => {
                // Someone noticed: a failure was routed or compensated (a watchdog's
                // timeout, say). The waits left are abandoned, not a stall nobody saw.
                let noticed = self.saga_ran
                    || (0..self.nodes.len()).any(|n| {
                        self.steps[n].state == StepState::Failed
                            && (!self.routes.commands(n, Outcome::Failure).is_empty()
                                || !self.routes.publications(n, Outcome::Failure).is_empty())
                    });
                for node in 0..self.nodes.len() {
                    let Some(message) = self.nodes[node]
                        .wait
                        .as_ref()
                        .and_then(|w| w.message.clone())
                        .filter(|m| self.waits_for(node, m))
                    else {
                        continue;
                    };
                    if !noticed {
                        let diagnosis = format!(
                            "stalled: {} waited for {message}, which never came, and nothing watched for it",
                            self.nodes[node].label
                        );
                        self.emit(RunEvent::FailureUnhandled {
                            node: self.nodes[node].id.clone(),
                            event: None,
                            diagnosis,
                        });
                    }
                    self.emit(RunEvent::StepCancelled {
                        node: self.nodes[node].id.clone(),
                    });
                }
            }
            Input::Cancel => {
                self.emit(RunEvent::CancelRequested);
            }
            Input::SetFaults(faults) => {
                self.emit(RunEvent::FaultsChanged { faults });
            }
            Input::CrashOrchestrator {
                for_ms,
                standby_lease_ms,
            } => {
                if self.orchestrator_down.is_some() {
                    return; // already down
                }
                self.emit(RunEvent::OrchestratorCrashed {
                    for_ms,
                    standby_lease_ms,
                });
                let outage = self.orchestrator_down.as_ref().map_or(0, |c| c.outage_ms());
                self.out.push(Action::Timer {
                    after_ms: outage,
                    input: Input::OrchestratorBack,
                });
            }
            Input::Heard { node } => {
                if self.steps[node].owner == Owner::Orchestrator {
                    self.emit(RunEvent::ReplyReceived {
                        from: self.nodes[node].id.clone(),
                        outcome: Outcome::Success,
                        report: false,
                    });
                }
                self.command(node, Outcome::Success);
            }
            Input::FailureHeard { node } => {
                let step = &self.steps[node];
                if step.state == StepState::Running && step.failure_unheard {
                    let reason = step.last_reason.unwrap_or(FailureReason::Error);
                    self.decide_after_failure(node, reason);
                }
            }
            Input::OrchestratorBack => {
                let Some(crash) = self.orchestrator_down.clone() else {
                    return;
                };
                let waiting = std::mem::take(&mut self.stalled);
                self.emit(RunEvent::OrchestratorRecovered {
                    down_ms: crash.outage_ms(),
                    standby: crash.standby_lease_ms.is_some_and(|l| l < crash.for_ms),
                    records: self.applied,
                    waited: waiting.len() as u32,
                });
                for input in waiting {
                    self.decide(input);
                }
            }
        }
    }

    pub(super) fn deliver(&mut self, message: u64, edge: usize, hops: u32, duplicate: bool) {
        let e = &self.edges[edge];
        let (to, from) = (e.to, e.from);
        self.emit(RunEvent::EventDelivered {
            message,
            edge: e.id.clone(),
            from: self.nodes[from].id.clone(),
            name: e.name.clone(),
            to: self.nodes[to].id.clone(),
            hops,
            duplicate,
        });
        if duplicate && self.steps[to].seen.contains(&message) && self.nodes[to].is_idempotent() {
            // Recognised: nothing is asked again.
            return self.act_on(message, edge, hops, serde_json::Map::new());
        }
        // What the subscriber needs and its event did not carry, asked of each owner.
        let asks = self.missing(message, edge);
        if asks.is_empty() {
            return self.act_on(message, edge, hops, serde_json::Map::new());
        }
        for (owner, fields) in asks {
            let after_ms = self.query_ms(message, edge, owner);
            self.emit(RunEvent::QuerySent {
                message,
                edge: self.edges[edge].id.clone(),
                name: self.edges[edge].name.clone(),
                node: self.nodes[to].id.clone(),
                owner: self.nodes[owner].id.clone(),
                fields,
            });
            self.out.push(Action::Timer {
                after_ms,
                input: Input::Answered {
                    message,
                    edge,
                    owner,
                },
            });
        }
    }

    /// `owner` answers the query the subscriber of `edge` sent about event `message`: with
    /// the fields asked, as the run data holds them now; once every owner has answered, the
    /// subscriber acts on the event.
    pub(super) fn answer(&mut self, message: u64, edge: usize, owner: usize) {
        let Some(querying) = self.querying.get(&(message, edge)) else {
            return;
        };
        if !querying.waiting.contains(&owner) {
            return; // answered already (a timer re-armed by a resume)
        }
        let data = self.data();
        let answer: serde_json::Map<String, serde_json::Value> = self
            .missing(message, edge)
            .remove(&owner)
            .unwrap_or_default()
            .iter()
            .filter_map(|f| data.get(f).map(|v| (f.clone(), v.clone())))
            .collect();
        let last = querying.waiting.len() == 1;
        let hops = querying.hops;
        let mut answers = querying.answers.clone();
        answers.extend(answer.clone());
        self.emit(RunEvent::QueryAnswered {
            message,
            edge: self.edges[edge].id.clone(),
            node: self.nodes[self.edges[edge].to].id.clone(),
            owner: self.nodes[owner].id.clone(),
            answer,
        });
        if last {
            self.act_on(message, edge, hops, answers);
        }
    }

    /// What the subscriber of `edge` needs of event `message` and the event did not carry —
    /// its step's reads and its filter's fields — by the step that owns each (the one that
    /// writes it; the start step for the input's). Fields the subscriber owns are its own.
    fn missing(&self, message: u64, edge: usize) -> BTreeMap<usize, Vec<String>> {
        let payload = self.payloads.get(&message);
        let to = self.edges[edge].to;
        let filter = self.edges[edge]
            .filtered
            .then(|| self.conditions[edge].as_ref())
            .flatten();
        let needed = self.nodes[to]
            .reads
            .iter()
            .map(String::as_str)
            .chain(filter.into_iter().flat_map(|c| c.fields()));
        let mut asks: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for field in needed {
            if payload.is_some_and(|p| p.contains_key(field)) {
                continue;
            }
            let owner = self
                .owner_of
                .get(field)
                .copied()
                .or_else(|| self.roots.first().copied());
            if let Some(owner) = owner.filter(|&o| o != to) {
                let fields = asks.entry(owner).or_default();
                if !fields.iter().any(|f| f == field) {
                    fields.push(field.to_string());
                }
            }
        }
        asks
    }

    /// The subscriber of `edge` acts on event `message`, all it needs at hand: it checks
    /// its filter, when it has one, on what the event carried and what its queries
    /// answered, then the step is triggered.
    fn act_on(
        &mut self,
        message: u64,
        edge: usize,
        hops: u32,
        answers: serde_json::Map<String, serde_json::Value>,
    ) {
        let (to, from) = (self.edges[edge].to, self.edges[edge].from);
        if self.edges[edge].filtered {
            if let Some(condition) = self.conditions[edge].clone() {
                let mut seen = self.payloads.get(&message).cloned().unwrap_or_default();
                seen.extend(answers);
                let saw: serde_json::Map<String, serde_json::Value> = condition
                    .fields()
                    .filter_map(|f| seen.get(f).map(|v| (f.to_string(), v.clone())))
                    .collect();
                let (passed, problem) = match condition.holds(&seen) {
                    Ok(passed) => (passed, None),
                    Err(error) => (
                        false,
                        Some(format!(
                            "the condition {:?} could not be decided: {error}",
                            condition.source()
                        )),
                    ),
                };
                self.emit(RunEvent::EventFiltered {
                    message,
                    edge: self.edges[edge].id.clone(),
                    to: self.nodes[to].id.clone(),
                    name: self.edges[edge].name.clone(),
                    passed,
                    saw,
                    problem,
                });
                if !passed {
                    return;
                }
            }
        }
        let cause = Cause::Event {
            edge: self.edges[edge].id.clone(),
            from: self.nodes[from].id.clone(),
            name: self.edges[edge].name.clone(),
            message,
        };
        self.trigger(to, cause, hops, Some(edge));
    }

    /// A trigger reaches `node`: start it, make it wait (join all), or absorb it.
    pub(super) fn trigger(&mut self, node: usize, cause: Cause, hops: u32, edge: Option<usize>) {
        // The event a step waits for ends its wait: it never starts the step.
        if let Cause::Event { name, .. } = &cause {
            let awaited = self.nodes[node]
                .wait
                .as_ref()
                .and_then(|w| w.message.as_deref());
            if awaited == Some(name.as_str()) {
                let name = name.clone();
                let data = cause
                    .message()
                    .and_then(|m| self.payloads.get(&m).cloned())
                    .unwrap_or_default();
                return self.receive(name, Some(node), app::model::MessageSource::Event, data);
            }
        }
        if hops > MAX_CHAIN_HOPS {
            return self.stop_runaway(format!(
                "a causal chain reached {hops} hops at step {} (limit {MAX_CHAIN_HOPS}): an event cycle that never ends",
                self.nodes[node].id
            ));
        }
        let step = &self.steps[node];
        if let Some(message) = cause.message() {
            if step.seen.contains(&message) {
                if self.nodes[node].is_idempotent() {
                    return; // recognised duplicate: nothing runs twice
                }
                if step.state.is_active() {
                    self.steps[node]
                        .queued
                        .push_back((message, edge.unwrap_or(usize::MAX), hops));
                    return;
                }
                return self.start_execution(node, cause, hops);
            }
        }
        if self.nodes[node].join_mode() == Join::All {
            if let Some(edge) = edge {
                if matches!(step.state, StepState::Pending | StepState::Waiting) {
                    let mut arrived = step.arrived.clone();
                    arrived.insert(edge);
                    let waiting_for: Vec<String> = self.incoming[node]
                        .iter()
                        .filter(|e| {
                            !arrived.contains(e) && self.can_arrive(**e, &mut HashSet::new())
                        })
                        .map(|e| self.edges[*e].id.clone())
                        .collect();
                    if !waiting_for.is_empty() {
                        self.emit(RunEvent::StepWaiting {
                            node: self.nodes[node].id.clone(),
                            edge: self.edges[edge].id.clone(),
                            waiting_for,
                        });
                        return;
                    }
                }
            }
        }
        match self.steps[node].state {
            StepState::Running | StepState::Retrying | StepState::Compensating => {
                // join any: the step is already under way for an earlier trigger
            }
            _ => self.start_execution(node, cause, hops),
        }
    }

    pub(super) fn start_execution(&mut self, node: usize, cause: Cause, hops: u32) {
        if self.executions >= MAX_STEP_EXECUTIONS {
            return self.stop_runaway(format!(
                "the run executed {MAX_STEP_EXECUTIONS} steps (the limit) and step {} was about to run again",
                self.nodes[node].id
            ));
        }
        let owner = match &cause {
            Cause::Command { .. } => Owner::Orchestrator,
            Cause::Event { .. } => Owner::Itself,
            Cause::Retry { owner } => *owner,
            Cause::Start => {
                if self.routes.commands_anything(node) {
                    Owner::Orchestrator
                } else {
                    Owner::Itself
                }
            }
        };
        let execution = self.steps[node].execution + 1;
        self.start_attempt(node, 1, execution, owner, hops, cause);
    }

    pub(super) fn start_attempt(
        &mut self,
        node: usize,
        attempt: u32,
        execution: u32,
        owner: Owner,
        hops: u32,
        cause: Cause,
    ) {
        self.emit(RunEvent::StepStarted {
            node: self.nodes[node].id.clone(),
            attempt,
            execution,
            owner,
            hops,
            cause,
        });
        if let Some(field) = self.nodes[node].for_each.clone() {
            let (items, problem) = self.items_of(&field);
            self.emit(RunEvent::ItemsStarted {
                node: self.nodes[node].id.clone(),
                field,
                items,
                problem,
            });
        }
        if let Some(workflow) = self.nodes[node].sub_flow.clone() {
            let run = format!("{}.{}.{execution}.{attempt}", self.id, self.nodes[node].id);
            let input = self.data();
            self.emit(RunEvent::ChildStarted {
                node: self.nodes[node].id.clone(),
                run: run.clone(),
                workflow: workflow.clone(),
                input: input.clone(),
            });
            self.out.push(Action::StartChild {
                node,
                run,
                workflow,
                input,
                seed: self.child_seed(node, execution, attempt),
            });
        }
        if let Some(wait) = self.nodes[node].wait.clone() {
            let kept = wait
                .message
                .as_ref()
                .is_some_and(|m| self.inbox.contains(m));
            self.emit(RunEvent::WaitStarted {
                node: self.nodes[node].id.clone(),
                message: wait.message.clone(),
                for_ms: wait.for_ms,
                timeout_ms: wait.timeout_ms,
            });
            if kept {
                // The message came before the wait: it ends it at once.
                return self.succeed(node);
            }
        }
        let mut out = std::mem::take(&mut self.out);
        self.attempt_timers(node, execution, attempt, &mut out);
        self.out = out;
    }

    /// What ends attempt `attempt` of `node`, added to `timers`: its work (or a timer's
    /// time, or a wait's timeout), and for a wait the simulated message's arrival. Armed
    /// when it starts, and again when a resumed run finds it under way.
    pub(super) fn attempt_timers(
        &self,
        node: usize,
        execution: u32,
        attempt: u32,
        timers: &mut Vec<Action>,
    ) {
        if let Some(request) = self.call_request(node, execution, attempt) {
            // A real service does the work: its answer ends the attempt.
            timers.push(Action::Call {
                node,
                execution,
                attempt,
                request: Box::new(request),
                binding: Box::new(self.nodes[node].call.clone().unwrap_or_default()),
                timeout_ms: self.nodes[node].timeout_ms,
            });
            return;
        }
        let plan = self.plan(node, execution, attempt);
        if plan.duration_ms != u64::MAX {
            timers.push(Action::Timer {
                after_ms: plan.duration_ms,
                input: Input::AttemptDone {
                    node,
                    execution,
                    attempt,
                },
            });
        }
        if let Some(after_ms) = self.arrival(node, execution, attempt) {
            timers.push(Action::Timer {
                after_ms,
                input: Input::Arrives {
                    node,
                    execution,
                    attempt,
                },
            });
        }
    }

    /// What the real service `node` is bound to is sent for attempt `attempt` — in a live
    /// run (the lab simulates every step): the run data when the orchestrator commands it,
    /// the payload of the event that started it otherwise, with what its queries about that
    /// event brought back (the fields it reads that the event did not carry).
    fn call_request(
        &self,
        node: usize,
        execution: u32,
        attempt: u32,
    ) -> Option<app::model::call::CallRequest> {
        use app::model::call::{CallKind, CallRequest};
        if !self.real_calls || self.nodes[node].call.is_none() {
            return None;
        }
        let step = &self.steps[node];
        let id = &self.nodes[node].id;
        let (kind, event, data) = match (&step.trigger, step.owner) {
            (Some((message, name)), Owner::Itself) => {
                // The event's payload, and what the step's queries about it brought back.
                let mut data = self.payloads.get(message).cloned().unwrap_or_default();
                if let Some(answers) = self.answered.get(&(*message, node)) {
                    data.extend(answers.clone());
                }
                (CallKind::Event, Some(name.clone()), data)
            }
            _ => (CallKind::Command, None, self.data()),
        };
        Some(CallRequest {
            run: self.id.clone(),
            step: id.clone(),
            execution,
            attempt,
            idempotency_key: CallRequest::key_of(&self.id, id, execution),
            kind,
            event,
            action: None,
            data,
        })
    }

    /// How many items a for-each over run data field `field` works on now, or why it cannot:
    /// the field is missing, not a list, or a list longer than the limit.
    fn items_of(&self, field: &str) -> (u32, Option<String>) {
        use app::model::validate::MAX_FOR_EACH_ITEMS;
        let value = self.written.get(field).or_else(|| self.input.get(field));
        match value {
            Some(serde_json::Value::Array(items)) if items.len() <= MAX_FOR_EACH_ITEMS => {
                (items.len() as u32, None)
            }
            Some(serde_json::Value::Array(items)) => (
                0,
                Some(format!(
                    "{field} has {} items; the limit is {MAX_FOR_EACH_ITEMS}",
                    items.len()
                )),
            ),
            Some(other) => (0, Some(format!("{field} is {other}, not a list"))),
            None => (0, Some(format!("the run data has no {field}"))),
        }
    }

    /// Whether attempt `attempt` of execution `execution` of `node` is the one running now
    /// (a timer for an earlier one is stale).
    fn is_under_way(&self, node: usize, execution: u32, attempt: u32) -> bool {
        let step = &self.steps[node];
        step.state == StepState::Running && step.execution == execution && step.attempt == attempt
    }

    /// Whether `node` is waiting for message `name` now.
    fn waits_for(&self, node: usize, name: &str) -> bool {
        self.steps[node].state == StepState::Running
            && self.nodes[node]
                .wait
                .as_ref()
                .and_then(|w| w.message.as_deref())
                == Some(name)
    }

    /// Message `name` reaches the run from `source`: it ends the wait of `to` (or of the
    /// first step waiting for it), or is kept until a step waits for it.
    pub(super) fn receive(
        &mut self,
        name: String,
        to: Option<usize>,
        source: app::model::MessageSource,
        data: serde_json::Map<String, serde_json::Value>,
    ) {
        let waiting = match to {
            Some(node) => Some(node).filter(|&n| self.waits_for(n, &name)),
            None => (0..self.nodes.len()).find(|&n| self.waits_for(n, &name)),
        };
        self.emit(RunEvent::MessageReceived {
            name,
            node: waiting.map(|n| self.nodes[n].id.clone()),
            source,
            data,
        });
        if let Some(node) = waiting {
            self.succeed(node);
        }
    }

    pub(super) fn succeed(&mut self, node: usize) {
        self.succeed_with(node, None);
    }

    /// [`Self::succeed`]; `replied`: what a real service's reply writes, instead of the
    /// simulated writes.
    pub(super) fn succeed_with(
        &mut self,
        node: usize,
        replied: Option<serde_json::Map<String, serde_json::Value>>,
    ) {
        let attempt = self.steps[node].attempt;
        let mut wrote = replied.unwrap_or_else(|| self.written(node, attempt));
        for (field, value) in std::mem::take(&mut self.steps[node].child_wrote) {
            wrote.entry(field).or_insert(value);
        }
        self.emit(RunEvent::StepSucceeded {
            node: self.nodes[node].id.clone(),
            attempt,
            wrote,
        });
        if self.orchestrator_down.is_some() && self.hears_from(node) {
            // The step publishes its own events; its reply waits for the orchestrator.
            self.publish(node, Outcome::Success);
            self.stalled.push(Input::Heard { node });
            self.run_queued(node);
            return;
        }
        if self.steps[node].owner == Owner::Orchestrator {
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome: Outcome::Success,
                report: false,
            });
        }
        self.follow(node, Outcome::Success);
        self.run_queued(node);
    }

    /// The seed of the child run attempt `attempt` of `node` starts: drawn from this run's,
    /// so the same seed gives the same child.
    pub(super) fn child_seed(&self, node: usize, execution: u32, attempt: u32) -> u64 {
        self.draw(node, execution, attempt, 0x6368_696c_6400) & app::model::api::MAX_SEED
    }

    /// Child run `run` ended: the attempt of the sub-flow step waiting for it succeeds or
    /// fails by its outcome, or the compensation waiting for its undo run is done. An end
    /// nobody waits for (a child of an attempt that timed out, told twice) changes nothing.
    fn child_ended(
        &mut self,
        run: String,
        status: RunStatus,
        diagnosis: Option<String>,
        wrote: serde_json::Map<String, serde_json::Value>,
    ) {
        let waiting = (0..self.steps.len()).find(|&n| {
            let step = &self.steps[n];
            (step.state == StepState::Running && step.child.as_deref() == Some(run.as_str()))
                || (step.state == StepState::Compensating
                    && step.undo.as_deref() == Some(run.as_str()))
        });
        let Some(node) = waiting else {
            return;
        };
        let undoing = self.steps[node].state == StepState::Compensating;
        self.emit(RunEvent::ChildEnded {
            node: self.nodes[node].id.clone(),
            run,
            status,
            diagnosis,
            wrote: if undoing {
                serde_json::Map::new()
            } else {
                wrote
            },
        });
        let fine = matches!(status, RunStatus::Completed | RunStatus::Compensated);
        if undoing {
            let name = self.nodes[node].id.clone();
            let action = self.compensation_action(node);
            if fine {
                self.emit(RunEvent::StepCompensated { node: name, action });
            } else {
                self.emit(RunEvent::CompensationFailed { node: name, action });
            }
            self.next_compensation();
        } else if status == RunStatus::Completed {
            self.succeed(node);
        } else {
            self.attempt_failed(node, FailureReason::Error);
        }
    }

    pub(super) fn attempt_failed(&mut self, node: usize, reason: FailureReason) {
        let attempt = self.steps[node].attempt;
        self.emit(RunEvent::AttemptFailed {
            node: self.nodes[node].id.clone(),
            attempt,
            reason,
        });
        if self.failure_waits(node, attempt) {
            // The service failed now; what follows is the orchestrator's to decide.
            self.stalled.push(Input::FailureHeard { node });
            return;
        }
        self.decide_after_failure(node, reason);
    }

    /// After a failed attempt: a retry, or the step has failed and what follows that.
    pub(super) fn decide_after_failure(&mut self, node: usize, reason: FailureReason) {
        let step = &self.steps[node];
        let (attempt, owner) = (step.attempt, step.owner);
        // A service that declined the work would decline it again: no retry.
        if attempt < self.nodes[node].max_attempts() && reason != FailureReason::Declined {
            let delay = self.nodes[node]
                .retry
                .as_ref()
                .map_or(0, |r| r.delay_before(attempt + 1));
            self.emit(RunEvent::RetryScheduled {
                node: self.nodes[node].id.clone(),
                attempt: attempt + 1,
                delay_ms: delay,
                by: owner,
            });
            let execution = self.steps[node].execution;
            self.out.push(Action::Timer {
                after_ms: delay,
                input: Input::RetryDue {
                    node,
                    execution,
                    attempt: attempt + 1,
                },
            });
            return;
        }
        self.emit(RunEvent::StepFailed {
            node: self.nodes[node].id.clone(),
            attempts: attempt,
            reason,
        });
        if owner == Owner::Orchestrator {
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome: Outcome::Failure,
                report: false,
            });
        }
        let handled = self.follow(node, Outcome::Failure);
        if !handled {
            match owner {
                Owner::Orchestrator => self.start_saga(node, reason),
                Owner::Itself => {
                    // Nobody owns the chain: all the step can do is publish its failure.
                    let label = &self.nodes[node].label;
                    let name = Workflow::default_event_name(label, Outcome::Failure);
                    let message = self.next_message;
                    self.emit(RunEvent::EventPublished {
                        message,
                        from: self.nodes[node].id.clone(),
                        name: name.clone(),
                        outcome: Outcome::Failure,
                        subscribers: Vec::new(),
                        payload: serde_json::Map::new(),
                    });
                    let diagnosis = format!(
                        "{} failed ({}) after {attempt} attempt{} and published {name}, but nobody subscribes to it: the failure is unhandled",
                        self.nodes[node].label,
                        reason_text(reason),
                        if attempt == 1 { "" } else { "s" },
                    );
                    self.emit(RunEvent::FailureUnhandled {
                        node: self.nodes[node].id.clone(),
                        event: Some(name),
                        diagnosis,
                    });
                }
            }
        }
        self.run_queued(node);
    }

    /// Runs the non-idempotent duplicates that arrived while the step was busy.
    pub(super) fn run_queued(&mut self, node: usize) {
        if let Some((message, edge, hops)) = self.steps[node].queued.pop_front() {
            if edge != usize::MAX && !self.runaway {
                let e = &self.edges[edge];
                let cause = Cause::Event {
                    edge: e.id.clone(),
                    from: self.nodes[e.from].id.clone(),
                    name: e.name.clone(),
                    message,
                };
                self.start_execution(node, cause, hops);
            }
        }
    }
}
