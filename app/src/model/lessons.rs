//! The Learn page's lessons: each of the article's claims as an experiment on a shipped
//! template — the lab requests that prove it, and the figures a reader is pointed at,
//! read from the lab's own results (never computed apart from them).
//!
//! A lesson is one or more parts (a compare batch or a load test); [`figures`] reads the
//! finished parts. The words (the lesson, the finding) are the UI's catalogues', keyed by
//! [`Lesson::key`] and [`Figure::id`].

use serde_json::json;

use super::examples::template_id;
use super::faults::{Faults, OrchestratorCrash};
use super::lab::{
    Batch, CompareRequest, LabOutcome, LabStyle, LoadRequest, LoadTest, StyleFigures,
};

/// The orchestrator's outage in the single-point-of-failure lesson (simulated ms).
pub const CRASH_MS: u64 = 3_000;
/// The standby's lease in the same lesson: it takes over after this long.
pub const STANDBY_LEASE_MS: u64 = 500;
/// What the orchestrator spends on each message in the bottleneck and hop lessons.
pub const ORCHESTRATOR_MESSAGE_MS: u64 = 10;
/// Messages the orchestrator handles at once in the bottleneck lesson.
pub const BOTTLENECK_CAPACITY: u32 = 4;
/// Runs started per second in the bottleneck lesson: more than the orchestrator can take
/// (4 messages at once, 10 ms each: 400 messages/s, shared by every run's commands and
/// replies), far less than the services can.
pub const BOTTLENECK_RATE: u32 = 200;
/// Seconds of load in the load lessons.
pub const LOAD_SECONDS: u32 = 3;
/// The hop lesson's workflow: a chain of three steps.
pub const HOP_EXAMPLE: &str = "airflow-chain";
/// Runs started per second in the hop lesson: few enough that nothing queues.
pub const HOP_RATE: u32 = 10;
/// Runs per style of the lessons' compare batches.
pub const LESSON_RUNS: u32 = 20;
/// The seed of every lesson's runs (the same experiment gives the same numbers).
pub const LESSON_SEED: u64 = 1;

/// One lesson.
pub struct Lesson {
    /// Stable identifier: the catalogues' key (`learn.<key>`) and the page's anchor.
    pub key: &'static str,
    /// The article's examples it uses: template keys, each one click from the lesson.
    pub examples: &'static [&'static str],
    /// The experiment's parts, in order.
    pub parts: fn() -> Vec<Part>,
}

/// One part of an experiment: a lab request.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Compare(CompareRequest),
    Load(LoadRequest),
}

/// A finished part.
#[derive(Clone, Debug, PartialEq)]
pub enum Finished {
    Compare(Box<Batch>),
    Load(Box<LoadTest>),
}

/// A number the lesson points at.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What it is (the catalogues' `learn.figure.<id>`, and `data-figure` on the page).
    pub id: &'static str,
    pub value: f64,
    pub unit: Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Ms,
    PerSecond,
    Count,
}

/// The payment the conditional-choice lesson decides on: over the review limit.
pub const LARGE_PAYMENT: u64 = 5_000;

fn compare(template: &str, runs: u32, input: Option<serde_json::Value>, faults: Faults) -> Part {
    Part::Compare(CompareRequest {
        workflow_id: template_id(template),
        input,
        runs: Some(runs),
        seed: Some(LESSON_SEED),
        faults,
        // The compare lessons are about failures and coupling: services' times alone.
        message_ms: 0,
        verify: None,
    })
}

/// Every schedule of failures and bus faults of a template within the default bounds, as
/// drawn, all orchestrated and all choreographed (the explorer, as a lab batch).
fn verify(template: &str) -> Part {
    Part::Compare(CompareRequest {
        workflow_id: template_id(template),
        input: None,
        runs: None,
        seed: Some(LESSON_SEED),
        faults: Faults::default(),
        message_ms: 0,
        verify: Some(super::verify::VerifyBounds::default()),
    })
}

/// The flow the find-the-bug lesson verifies: the choreographed e-commerce saga.
pub const FIND_THE_BUG_EXAMPLE: &str = "ecommerce-choreographed";

fn load(template: &str, rate: u32, capacity: u32) -> Part {
    Part::Load(LoadRequest {
        workflow_id: template_id(template),
        input: None,
        rate,
        seconds: LOAD_SECONDS,
        capacity: Some(capacity),
        message_ms: ORCHESTRATOR_MESSAGE_MS,
        seed: Some(LESSON_SEED),
        speed: None,
    })
}

fn crash(standby: bool) -> Faults {
    Faults {
        orchestrator: Some(OrchestratorCrash {
            at_ms: 0,
            for_ms: CRASH_MS,
            standby_lease_ms: standby.then_some(STANDBY_LEASE_MS),
        }),
        ..Faults::default()
    }
}

/// The lessons, in the article's order.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        key: "single_point",
        examples: &["order-orchestrated", "order-choreographed"],
        parts: || {
            vec![
                compare("order-orchestrated", LESSON_RUNS, None, crash(false)),
                compare("order-orchestrated", LESSON_RUNS, None, crash(true)),
            ]
        },
    },
    Lesson {
        key: "bottleneck",
        examples: &["ecommerce-orchestrated", "fan-out-group"],
        parts: || {
            vec![load(
                "ecommerce-orchestrated",
                BOTTLENECK_RATE,
                BOTTLENECK_CAPACITY,
            )]
        },
    },
    Lesson {
        key: "hop",
        examples: &["airflow-chain", "image-fork-join"],
        // Capacity to spare: nothing queues, so the difference is the hops alone.
        parts: || vec![load(HOP_EXAMPLE, HOP_RATE, 1_000)],
    },
    Lesson {
        key: "errors",
        examples: &["ecommerce-orchestrated", "ecommerce-choreographed"],
        parts: || {
            vec![
                compare(
                    "ecommerce-orchestrated",
                    LESSON_RUNS,
                    Some(json!({"card": "expired"})),
                    Faults::default(),
                ),
                compare(
                    "ecommerce-orchestrated",
                    LESSON_RUNS,
                    Some(json!({"stock": "none"})),
                    Faults::default(),
                ),
            ]
        },
    },
    Lesson {
        key: "coupling",
        examples: &["cart-fan-out", "ecommerce-orchestrated"],
        parts: || {
            vec![compare(
                "ecommerce-orchestrated",
                1,
                None,
                Faults::default(),
            )]
        },
    },
    Lesson {
        key: "visibility",
        examples: &["ecommerce-orchestrated", "ecommerce-choreographed"],
        parts: || {
            vec![compare(
                "ecommerce-orchestrated",
                LESSON_RUNS,
                None,
                Faults::default(),
            )]
        },
    },
    Lesson {
        key: "semantic",
        examples: &["order-orchestrated", "order-pipeline"],
        parts: || {
            vec![
                compare("order-orchestrated", 1, None, Faults::default()),
                compare("order-pipeline", 1, None, Faults::default()),
            ]
        },
    },
    Lesson {
        key: "hybrid",
        examples: &["onboarding-hybrid", "onboarding-events"],
        parts: || {
            vec![compare(
                "onboarding-hybrid",
                LESSON_RUNS,
                None,
                Faults::default(),
            )]
        },
    },
    Lesson {
        key: "waiting",
        examples: &[
            "payment-confirmation",
            "payment-confirmation-events",
            "payment-confirmation-watchdog",
        ],
        parts: || {
            [
                "payment-confirmation",
                "payment-confirmation-events",
                "payment-confirmation-watchdog",
            ]
            .into_iter()
            .map(|t| compare(t, LESSON_RUNS, None, Faults::default()))
            .collect()
        },
    },
    Lesson {
        key: "conditional_choice",
        examples: &["payment-by-amount", "payment-by-amount-filtered"],
        parts: || {
            let large = || Some(json!({ "amount": LARGE_PAYMENT }));
            vec![
                compare("payment-by-amount", 1, large(), Faults::default()),
                compare("payment-by-amount-filtered", 1, large(), Faults::default()),
            ]
        },
    },
    Lesson {
        key: "rely_on_input",
        examples: &["shipping-lean-events", "shipping-carried-events"],
        parts: || {
            vec![
                compare("shipping-lean-events", LESSON_RUNS, None, Faults::default()),
                compare(
                    "shipping-carried-events",
                    LESSON_RUNS,
                    None,
                    Faults::default(),
                ),
            ]
        },
    },
    Lesson {
        key: "find_the_bug",
        examples: &["ecommerce-choreographed", "ecommerce-orchestrated"],
        parts: || vec![verify(FIND_THE_BUG_EXAMPLE)],
    },
];

fn style(batch: &Batch, style: LabStyle) -> Option<&StyleFigures> {
    batch
        .result
        .as_ref()?
        .styles
        .iter()
        .find(|s| s.style == style)
}

fn ms(id: &'static str, value: u64) -> Figure {
    Figure {
        id,
        value: value as f64,
        unit: Unit::Ms,
    }
}

fn count(id: &'static str, value: u64) -> Figure {
    Figure {
        id,
        value: value as f64,
        unit: Unit::Count,
    }
}

/// The lesson's figures, read from its finished parts (empty while a part is missing).
pub fn figures(key: &str, parts: &[Finished]) -> Vec<Figure> {
    let batch = |i: usize| match parts.get(i) {
        Some(Finished::Compare(b)) => Some(b.as_ref()),
        _ => None,
    };
    let load = |i: usize| match parts.get(i) {
        Some(Finished::Load(t)) => Some(t.as_ref()),
        _ => None,
    };
    let found = match key {
        "single_point" => (|| {
            let crashed = batch(0)?;
            let standby = batch(1)?;
            Some(vec![
                ms(
                    "orchestration_p50",
                    style(crashed, LabStyle::Orchestration)?.latency_ms.p50,
                ),
                ms(
                    "choreography_p50",
                    style(crashed, LabStyle::Choreography)?.latency_ms.p50,
                ),
                ms(
                    "standby_p50",
                    style(standby, LabStyle::Orchestration)?.latency_ms.p50,
                ),
            ])
        })(),
        "bottleneck" | "hop" => (|| {
            let test = load(0)?;
            let of = |s: LabStyle| test.styles.iter().find(|x| x.style == s);
            let orchestration = of(LabStyle::Orchestration)?;
            let choreography = of(LabStyle::Choreography)?;
            Some(if key == "bottleneck" {
                vec![
                    Figure {
                        id: "rate",
                        value: f64::from(test.request.rate),
                        unit: Unit::PerSecond,
                    },
                    Figure {
                        id: "orchestration_throughput",
                        value: orchestration.throughput.round(),
                        unit: Unit::PerSecond,
                    },
                    Figure {
                        id: "choreography_throughput",
                        value: choreography.throughput.round(),
                        unit: Unit::PerSecond,
                    },
                    count("orchestration_queue", u64::from(orchestration.peak_waiting)),
                    count("choreography_queue", u64::from(choreography.peak_waiting)),
                ]
            } else {
                let (o, c) = (orchestration.latency_ms.p50, choreography.latency_ms.p50);
                // Orchestrated, every step's reply goes through the orchestrator before the
                // run goes on: one message per step, each costing ORCHESTRATOR_MESSAGE_MS.
                let replies = super::examples::template(HOP_EXAMPLE)
                    .map_or(0, |e| (e.workflow)().nodes.len() as u64);
                vec![
                    ms("orchestration_p50", o),
                    ms("choreography_p50", c),
                    ms("hop_cost", o.saturating_sub(c)),
                    count("hop_replies", replies),
                    ms("hop_modelled", replies * ORCHESTRATOR_MESSAGE_MS),
                ]
            })
        })(),
        "errors" => (|| {
            let card = batch(0)?;
            let stock = batch(1)?;
            let outcome = |b: &Batch, s: LabStyle, o: &[LabOutcome]| {
                style(b, s).map(|f| o.iter().map(|&o| u64::from(f.outcomes.get(o))).sum::<u64>())
            };
            let broken = [
                LabOutcome::Unhandled,
                LabOutcome::Inconsistent,
                LabOutcome::Stalled,
            ];
            Some(vec![
                count("runs", u64::from(card.runs)),
                count(
                    "card_handled_orchestration",
                    outcome(card, LabStyle::Orchestration, &[LabOutcome::Handled])?,
                ),
                count(
                    "card_handled_choreography",
                    outcome(card, LabStyle::Choreography, &[LabOutcome::Handled])?,
                ),
                count(
                    "stock_compensated_orchestration",
                    outcome(stock, LabStyle::Orchestration, &[LabOutcome::Compensated])?,
                ),
                count(
                    "stock_broken_choreography",
                    outcome(stock, LabStyle::Choreography, &broken)?,
                ),
            ])
        })(),
        "coupling" => (|| {
            let b = batch(0)?;
            let orchestration = &style(b, LabStyle::Orchestration)?.coupling;
            let choreography = &style(b, LabStyle::Choreography)?.coupling;
            let most = |c: &super::lab::Coupling| {
                c.services
                    .iter()
                    .map(|s| s.knows.len() as u64)
                    .max()
                    .unwrap_or(0)
            };
            Some(vec![
                count(
                    "orchestrator_knows",
                    u64::from(orchestration.orchestrator_knows),
                ),
                count("service_knows_orchestration", most(orchestration)),
                count("event_contracts", u64::from(choreography.event_contracts)),
                count("service_knows_choreography", most(choreography)),
            ])
        })(),
        "visibility" => (|| {
            let b = batch(0)?;
            let orchestration = style(b, LabStyle::Orchestration)?.visibility;
            let choreography = style(b, LabStyle::Choreography)?.visibility;
            let mean = |id, v: f64| Figure {
                id,
                value: (v * 10.0).round() / 10.0,
                unit: Unit::Count,
            };
            Some(vec![
                mean("orchestration_places", orchestration.state_places),
                mean("choreography_places", choreography.state_places),
                mean("orchestration_logs", orchestration.logs_to_read),
                mean("choreography_logs", choreography.logs_to_read),
                count("longest_chain", u64::from(choreography.longest_chain)),
            ])
        })(),
        "semantic" => (|| {
            let small = batch(0)?.result.as_ref()?;
            let large = batch(1)?.result.as_ref()?;
            // Steps whose outcome some failure changes, summed over the failing steps.
            let changed = |m: &super::lab::FailMatrix, s: LabStyle| {
                m.rows
                    .iter()
                    .flat_map(|r| r.cells.iter())
                    .filter(|c| c.style == s && c.reached)
                    .map(|c| u64::from(c.blast_radius))
                    .sum::<u64>()
            };
            Some(vec![
                count("small_steps", small.matrix.rows.len() as u64),
                count(
                    "small_changed",
                    changed(&small.matrix, LabStyle::Orchestration),
                ),
                count("large_steps", large.matrix.rows.len() as u64),
                count(
                    "large_changed",
                    changed(&large.matrix, LabStyle::Orchestration),
                ),
            ])
        })(),
        "hybrid" => (|| {
            let b = batch(0)?;
            let drawn = style(b, LabStyle::AsDrawn)?;
            let orchestration = style(b, LabStyle::Orchestration)?;
            let choreography = style(b, LabStyle::Choreography)?;
            let per_run = |f: &StyleFigures| f.orchestrator_messages / u64::from(f.runs.max(1));
            Some(vec![
                count("hybrid_orchestrator_messages", per_run(drawn)),
                count(
                    "orchestration_orchestrator_messages",
                    per_run(orchestration),
                ),
                count("hybrid_knows", u64::from(drawn.coupling.orchestrator_knows)),
                count(
                    "orchestration_knows",
                    u64::from(orchestration.coupling.orchestrator_knows),
                ),
                count(
                    "hybrid_contracts",
                    u64::from(drawn.coupling.event_contracts),
                ),
                count(
                    "choreography_contracts",
                    u64::from(choreography.coupling.event_contracts),
                ),
            ])
        })(),
        "find_the_bug" => (|| {
            let verified = &batch(0)?.result.as_ref()?.verifications;
            let of = |s: LabStyle| {
                verified
                    .iter()
                    .find(|v| v.style == s)
                    .map(|v| &v.exploration)
            };
            let drawn = of(LabStyle::AsDrawn)?;
            let orchestrated = of(LabStyle::Orchestration)?;
            Some(vec![
                count("choreographed_schedules", drawn.schedules),
                count("choreographed_broken", drawn.broken),
                count("orchestrated_schedules", orchestrated.schedules),
                count("orchestrated_broken", orchestrated.broken),
            ])
        })(),
        "waiting" => (|| {
            let outcome = |i: usize, o: LabOutcome| {
                style(batch(i)?, LabStyle::AsDrawn).map(|f| u64::from(f.outcomes.get(o)))
            };
            Some(vec![
                count("runs", u64::from(batch(0)?.runs)),
                count(
                    "orchestrated_compensated",
                    outcome(0, LabOutcome::Compensated)?,
                ),
                count("unwatched_stalled", outcome(1, LabOutcome::Stalled)?),
                count("watched_handled", outcome(2, LabOutcome::Handled)?),
            ])
        })(),
        "conditional_choice" => (|| {
            let orchestrated = batch(0)?;
            let filtered = batch(1)?;
            let holders =
                |b: &Batch, s: LabStyle| style(b, s).map(|f| u64::from(f.coupling.rule_holders));
            Some(vec![
                count(
                    "rule_orchestrator",
                    holders(orchestrated, LabStyle::AsDrawn)?,
                ),
                count(
                    "rule_publisher",
                    holders(orchestrated, LabStyle::Choreography)?,
                ),
                count("rule_subscribers", holders(filtered, LabStyle::AsDrawn)?),
            ])
        })(),
        "rely_on_input" => (|| {
            let lean = batch(0)?;
            let carried = batch(1)?;
            let per_run = |f: &StyleFigures| f.messages.queries / u64::from(f.runs.max(1));
            let drawn_lean = style(lean, LabStyle::AsDrawn)?;
            let drawn_carried = style(carried, LabStyle::AsDrawn)?;
            Some(vec![
                count("lean_queries", per_run(drawn_lean)),
                ms("lean_p50", drawn_lean.latency_ms.p50),
                count("carried_queries", per_run(drawn_carried)),
                ms("carried_p50", drawn_carried.latency_ms.p50),
                count(
                    "orchestrated_queries",
                    per_run(style(lean, LabStyle::Orchestration)?),
                ),
            ])
        })(),
        _ => None,
    };
    found.unwrap_or_default()
}

/// A figure's value by id.
pub fn value(figures: &[Figure], id: &str) -> Option<f64> {
    figures.iter().find(|f| f.id == id).map(|f| f.value)
}
