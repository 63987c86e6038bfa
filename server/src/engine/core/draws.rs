//! The seeded draws: an attempt's latency and outcome, a compensation's, and the bus's
//! losses and duplicates — the same seed always draws the same.

use super::*;

impl RunCore {
    /// What is broken on purpose in `node`'s service (nothing, by default).
    pub(super) fn service_fault(&self, node: usize) -> ServiceFault {
        let service = &self.nodes[node].service;
        self.faults.service(service).cloned().unwrap_or_default()
    }

    /// How attempt `attempt` of execution `execution` of `node` goes.
    pub fn plan(&self, node: usize, execution: u32, attempt: u32) -> AttemptPlan {
        let spec = &self.nodes[node];
        if let Some(wait) = &spec.wait {
            // A timer succeeds when it has run; a wait for a message ends at its timeout
            // unless the message comes first.
            return match (wait.for_ms, wait.timeout_ms) {
                (Some(ms), _) => AttemptPlan {
                    duration_ms: ms,
                    failure: None,
                },
                (None, timeout) => AttemptPlan {
                    duration_ms: timeout.unwrap_or(u64::MAX),
                    failure: Some(FailureReason::Timeout),
                },
            };
        }
        if spec.sub_flow.is_some() {
            // Its child run decides; only its timeout, when it has one, ends it here.
            return AttemptPlan {
                duration_ms: spec.timeout_ms.unwrap_or(u64::MAX),
                failure: Some(FailureReason::Timeout),
            };
        }
        if spec.for_each.is_some() {
            // Every item at once: as long as the slowest, failed by the first that fails.
            if self.steps[node].items_refused {
                return AttemptPlan {
                    duration_ms: 0,
                    failure: Some(FailureReason::Rejected),
                };
            }
            let items = self.item_plans(node, execution, attempt);
            let latency = items.iter().map(|i| i.duration_ms).max().unwrap_or(0);
            let failure = items.iter().find_map(|i| i.failure);
            return match spec.timeout_ms {
                Some(timeout) if latency > timeout => AttemptPlan {
                    duration_ms: timeout,
                    failure: Some(FailureReason::Timeout),
                },
                _ => AttemptPlan {
                    duration_ms: latency,
                    failure,
                },
            };
        }
        self.work_plan(node, execution, attempt, 0)
    }

    /// How each item of a for-each step's attempt goes (its own draws, item by item).
    pub(super) fn item_plans(&self, node: usize, execution: u32, attempt: u32) -> Vec<AttemptPlan> {
        (0..self.steps[node].items)
            .map(|i| self.work_plan(node, execution, attempt, u64::from(i) + 1))
            .collect()
    }

    /// How a piece of work of `node`'s attempt goes: the attempt's own (`item` 0), or one
    /// item of a for-each (its draws apart from the others').
    fn work_plan(&self, node: usize, execution: u32, attempt: u32, item: u64) -> AttemptPlan {
        let spec = &self.nodes[node];
        let salt = item << 24;
        let fault = self.service_fault(node);
        let latency = {
            let (min, max) = spec.latency().bounds();
            let drawn = min + self.draw(node, execution, attempt, 1 ^ salt) % (max - min + 1);
            (drawn as f64 * fault.slow.unwrap_or(1.0)).round() as u64
        };
        if let Some(script) = &self.script {
            // Forced, or it goes well (but for the step's own rule on the input).
            let rejected = spec
                .fail_when
                .as_ref()
                .is_some_and(|f| f.matches(&self.input));
            return match script.attempt(&spec.id, execution, attempt) {
                Some(script::Forced::TimeOut) => AttemptPlan {
                    duration_ms: spec.timeout_ms.unwrap_or(latency),
                    failure: Some(FailureReason::Timeout),
                },
                Some(script::Forced::Fail) => AttemptPlan {
                    duration_ms: latency,
                    failure: Some(FailureReason::Error),
                },
                None => AttemptPlan {
                    duration_ms: latency,
                    failure: rejected.then_some(FailureReason::Rejected),
                },
            };
        }
        let failure = if fault.down || self.faults.fail_step.as_deref() == Some(spec.id.as_str()) {
            Some(FailureReason::Unavailable)
        } else if spec
            .fail_when
            .as_ref()
            .is_some_and(|f| f.matches(&self.input))
        {
            Some(FailureReason::Rejected)
        } else if unit(self.draw(node, execution, attempt, 2 ^ salt))
            < spec.failure_rate.unwrap_or(0.0)
            || unit(self.draw(node, execution, attempt, 5 ^ salt)) < fault.flaky.unwrap_or(0.0)
        {
            Some(FailureReason::Error)
        } else {
            None
        };
        match spec.timeout_ms {
            Some(timeout) if latency > timeout => AttemptPlan {
                duration_ms: timeout,
                failure: Some(FailureReason::Timeout),
            },
            _ => AttemptPlan {
                duration_ms: latency,
                failure,
            },
        }
    }

    /// What `node` writes into the run data as attempt `attempt` of its current execution
    /// succeeds: each field's fixed value, or its choice drawn from the seed (a draw per
    /// field, so adding a field leaves the others' draws as they were).
    pub(super) fn written(
        &self,
        node: usize,
        attempt: u32,
    ) -> serde_json::Map<String, serde_json::Value> {
        let execution = self.steps[node].execution;
        self.nodes[node]
            .writes
            .iter()
            .map(|(field, written)| {
                let mut purpose = 0x7772_6974_6500_0000u64; // "write"
                for byte in field.bytes() {
                    purpose = splitmix(purpose ^ u64::from(byte));
                }
                let draw = unit(self.draw(node, execution, attempt, purpose));
                (field.clone(), written.pick(draw).clone())
            })
            .collect()
    }

    /// How long `owner`'s service takes to answer a query about event `message` delivered
    /// through `edge`: a request and a reply, drawn from its latency like an attempt's work.
    pub(super) fn query_ms(&self, message: u64, edge: usize, owner: usize) -> u64 {
        let (min, max) = self.nodes[owner].latency().bounds();
        let fault = self.service_fault(owner);
        let drawn =
            min + self.bus_draw(message, edge, 0x0071_7565_7279 ^ owner as u64) % (max - min + 1);
        (drawn as f64 * fault.slow.unwrap_or(1.0)).round() as u64
    }

    /// When the simulated message a waiting step waits for arrives, from the start of its
    /// wait: never (with the wait's `never` chance, or when it has no `arrives_ms`), or
    /// after a time drawn from `arrives_ms`.
    pub(super) fn arrival(&self, node: usize, execution: u32, attempt: u32) -> Option<u64> {
        let wait = self.nodes[node].wait.as_ref()?;
        let (min, max) = wait.arrives_ms?.bounds();
        if unit(self.draw(node, execution, attempt, 0x006e_6576_6572)) < wait.never.unwrap_or(0.0) {
            return None;
        }
        Some(min + self.draw(node, execution, attempt, 0x6172_7269_7665) % (max - min + 1))
    }

    /// A pseudo-random number for the bus's handling of one delivery.
    pub(super) fn bus_draw(&self, message: u64, edge: usize, purpose: u64) -> u64 {
        splitmix(
            splitmix(self.seed ^ 0x6a09_e667_f3bc_c908 ^ (message << 20) ^ edge as u64) ^ purpose,
        )
    }

    /// A pseudo-random number that depends only on the seed and what it is for.
    pub(super) fn draw(&self, node: usize, execution: u32, attempt: u32, purpose: u64) -> u64 {
        let mut h = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for byte in self.nodes[node].id.bytes() {
            h = splitmix(h ^ u64::from(byte));
        }
        splitmix(h ^ (u64::from(execution) << 40) ^ (u64::from(attempt) << 8) ^ purpose)
    }

    // ---- state changes: the only place the state is mutated ----------------------------
}
