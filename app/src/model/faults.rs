//! Faults a user injects on purpose, to see how each coordination style copes: a service
//! down, slow or flaky; the event bus delaying, duplicating or dropping deliveries; the
//! orchestrator crashing for a while (optionally with a standby that takes over after a
//! lease). A run starts with a set of faults (recorded in its `RunStarted`), and the set can
//! change while it runs (recorded as `FaultsChanged`), so a run's history tells the whole
//! story. Every random choice a fault makes is drawn from the run's seed.

use crate::i18n::Locale;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The most a service can be slowed down (latency × this).
pub const MAX_SLOWDOWN: f64 = 100.0;
/// The longest bus delay, orchestrator crash, crash start and standby lease, in simulated ms.
pub const MAX_FAULT_MS: u64 = 600_000;
/// The most services a fault set names.
pub const MAX_FAULTY_SERVICES: usize = 200;

/// What is broken during a run. Empty (the default) means nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Service name → what is wrong with it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceFault>,
    #[serde(default, skip_serializing_if = "BusFault::is_none")]
    pub bus: BusFault,
    /// The orchestrator crashes once, `at_ms` after the run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrator: Option<OrchestratorCrash>,
    /// Every attempt of this step fails (the lab's "fail at every step").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_step: Option<String>,
    /// A forced schedule — the explorer's counterexample, replayed as a run: these
    /// attempts fail or time out, these deliveries are lost, doubled or held back, and
    /// every other attempt succeeds and every other event is delivered once (the steps'
    /// failure rates and the faults above do not apply). At most [`MAX_SCHEDULE_CHOICES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<super::verify::Choice>,
}

/// The most faults a forced schedule names.
pub const MAX_SCHEDULE_CHOICES: usize = 64;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFault {
    /// Every call fails.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub down: bool,
    /// Latency × this (1 = normal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<f64>,
    /// Each attempt fails with this probability, on top of the step's own failure rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaky: Option<f64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusFault {
    /// Every delivery arrives this much later.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// Probability that a delivery is made twice.
    #[serde(default, skip_serializing_if = "is_zero_rate")]
    pub duplicate: f64,
    /// Probability that a delivery is lost.
    #[serde(default, skip_serializing_if = "is_zero_rate")]
    pub drop: f64,
}

/// The orchestrator is down from `at_ms` for `for_ms`; with a standby, the standby takes
/// over once the crashed one's lease (`standby_lease_ms`) has expired.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorCrash {
    #[serde(default)]
    pub at_ms: u64,
    pub for_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_lease_ms: Option<u64>,
}

impl OrchestratorCrash {
    /// How long commands and replies wait: the crash, or the lease if a standby is faster.
    pub fn outage_ms(&self) -> u64 {
        match self.standby_lease_ms {
            Some(lease) => lease.min(self.for_ms),
            None => self.for_ms,
        }
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_zero_rate(v: &f64) -> bool {
    *v == 0.0
}

impl BusFault {
    pub fn is_none(&self) -> bool {
        *self == BusFault::default()
    }
}

impl Faults {
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    /// Every problem with the values, each naming its field and limit.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let rate = |problems: &mut Vec<String>, field: String, v: f64| {
            if !(0.0..=1.0).contains(&v) {
                problems.push(format!(
                    "{field} must be a probability between 0 and 1, got {v}"
                ));
            }
        };
        let ms = |problems: &mut Vec<String>, field: &str, v: u64| {
            if v > MAX_FAULT_MS {
                problems.push(format!(
                    "{field} must be at most {MAX_FAULT_MS} ms, got {v}"
                ));
            }
        };
        if self.services.len() > MAX_FAULTY_SERVICES {
            problems.push(format!(
                "faults.services names {} services; the limit is {MAX_FAULTY_SERVICES}",
                self.services.len()
            ));
        }
        for (name, fault) in &self.services {
            if let Some(k) = fault.slow {
                if !(1.0..=MAX_SLOWDOWN).contains(&k) {
                    problems.push(format!(
                        "faults.services.{name}.slow must be between 1 and {MAX_SLOWDOWN} (a latency factor), got {k}"
                    ));
                }
            }
            if let Some(p) = fault.flaky {
                rate(&mut problems, format!("faults.services.{name}.flaky"), p);
            }
        }
        rate(
            &mut problems,
            "faults.bus.duplicate".into(),
            self.bus.duplicate,
        );
        rate(&mut problems, "faults.bus.drop".into(), self.bus.drop);
        ms(&mut problems, "faults.bus.delay_ms", self.bus.delay_ms);
        if self.schedule.len() > MAX_SCHEDULE_CHOICES {
            problems.push(format!(
                "faults.schedule names {} faults; the limit is {MAX_SCHEDULE_CHOICES}",
                self.schedule.len()
            ));
        }
        if let Some(crash) = &self.orchestrator {
            ms(&mut problems, "faults.orchestrator.at_ms", crash.at_ms);
            ms(&mut problems, "faults.orchestrator.for_ms", crash.for_ms);
            if crash.for_ms == 0 {
                problems.push("faults.orchestrator.for_ms must be more than 0".into());
            }
            if let Some(lease) = crash.standby_lease_ms {
                ms(&mut problems, "faults.orchestrator.standby_lease_ms", lease);
            }
        }
        problems
    }

    /// [`Faults::problems`], plus names this workflow does not have.
    pub fn problems_for(&self, workflow: &super::Workflow) -> Vec<String> {
        let mut problems = self.problems();
        for name in self.services.keys() {
            if !workflow.nodes.iter().any(|n| n.service == *name) {
                problems.push(format!(
                    "faults.services.{name}: no step of this workflow uses a service called {name}"
                ));
            }
        }
        if let Some(step) = &self.fail_step {
            if workflow.node(step).is_none() {
                problems.push(format!(
                    "faults.fail_step: this workflow has no step {step}"
                ));
            }
        }
        for (i, choice) in self.schedule.iter().enumerate() {
            match choice {
                super::verify::Choice::Attempt { node, .. } if workflow.node(node).is_none() => {
                    problems.push(format!(
                        "faults.schedule[{i}].node: this workflow has no step {node}"
                    ))
                }
                super::verify::Choice::Delivery { edge, .. }
                    if !workflow.edges.iter().any(|e| e.id == *edge) =>
                {
                    problems.push(format!(
                        "faults.schedule[{i}].edge: this workflow has no edge {edge}"
                    ))
                }
                _ => {}
            }
        }
        problems
    }

    /// In `locale`'s words, e.g. "PaymentService down; bus drops 10%; orchestrator down
    /// 2000 ms at 500 ms".
    pub fn describe(&self, locale: Locale) -> String {
        let mut parts: Vec<String> = Vec::new();
        let percent = |p: f64| (p * 100.0).round();
        for (name, f) in &self.services {
            if f.down {
                parts.push(td_string!(locale, fault_words.down, service = name).to_string());
            }
            if let Some(k) = f.slow {
                parts.push(
                    td_string!(locale, fault_words.slow, service = name, factor = k).to_string(),
                );
            }
            if let Some(p) = f.flaky {
                parts.push(
                    td_string!(
                        locale,
                        fault_words.flaky,
                        service = name,
                        percent = percent(p)
                    )
                    .to_string(),
                );
            }
        }
        if self.bus.delay_ms > 0 {
            parts.push(
                td_string!(locale, fault_words.bus_delay, ms = self.bus.delay_ms).to_string(),
            );
        }
        if self.bus.duplicate > 0.0 {
            parts.push(
                td_string!(
                    locale,
                    fault_words.bus_duplicate,
                    percent = percent(self.bus.duplicate)
                )
                .to_string(),
            );
        }
        if self.bus.drop > 0.0 {
            parts.push(
                td_string!(
                    locale,
                    fault_words.bus_drop,
                    percent = percent(self.bus.drop)
                )
                .to_string(),
            );
        }
        if let Some(c) = &self.orchestrator {
            parts.push(match c.standby_lease_ms {
                Some(lease) => td_string!(
                    locale,
                    fault_words.crash_standby,
                    ms = c.for_ms,
                    at = c.at_ms,
                    lease = lease
                )
                .to_string(),
                None => {
                    td_string!(locale, fault_words.crash, ms = c.for_ms, at = c.at_ms).to_string()
                }
            });
        }
        if let Some(step) = &self.fail_step {
            parts.push(td_string!(locale, fault_words.always_fails, step = step).to_string());
        }
        if parts.is_empty() {
            td_string!(locale, fault_words.none).into()
        } else {
            parts.join(td_string!(locale, fault_words.separator))
        }
    }

    /// The fault on `service`, if any.
    pub fn service(&self, service: &str) -> Option<&ServiceFault> {
        self.services.get(service)
    }
}
