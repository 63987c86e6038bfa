//! The scenarios of the source article as ready workflows: a fresh installation starts with
//! the first, the engine's tests run them all, and the editor offers them as templates.

use serde_json::json;

use super::run::{RunStatus, StepState};
use super::scenario::{Expect, Scenario};
use super::workflow::Workflow;

/// One shipped scenario.
pub struct Example {
    /// Stable identifier (used by tests and the templates list).
    pub key: &'static str,
    pub title: &'static str,
    /// What running it shows.
    pub lesson: &'static str,
    pub workflow: fn() -> Workflow,
    /// The runs worth trying, each a name and its input (JSON): one click runs each.
    pub scenarios: &'static [ShippedScenario],
    /// A speed slow enough to watch its runs step by step (the speed control still rules).
    pub watch_speed: f64,
}

/// A run worth trying on a template — a scenario of its document (one click runs it, the
/// Tests panel and `hybridflow test` check it): its name, its input (JSON text) and what
/// it must show.
pub struct ShippedScenario {
    /// Stable identifier (the UI's catalogues name it in each language).
    pub key: &'static str,
    pub name: &'static str,
    pub input: &'static str,
    /// The seed it runs with (a template whose chance decides the run names one).
    pub seed: Option<u64>,
    pub outcome: RunStatus,
    /// Steps' final states worth checking (the article's claim for this run).
    pub steps: &'static [(&'static str, StepState)],
}

impl ShippedScenario {
    /// The scenario as the template's document keeps it.
    pub fn scenario(&self) -> Scenario {
        Scenario {
            name: self.name.to_string(),
            key: Some(self.key.to_string()),
            input: serde_json::from_str(self.input).unwrap_or_default(),
            seed: self.seed,
            expect: Expect {
                outcome: Some(self.outcome),
                steps: self
                    .steps
                    .iter()
                    .map(|(id, state)| (id.to_string(), *state))
                    .collect(),
            },
            ..Scenario::default()
        }
    }
}

const HAPPY_PATH: &[ShippedScenario] = &[ShippedScenario {
    key: "happy-path",
    name: "Happy path",
    input: "{}",
    seed: None,
    outcome: RunStatus::Completed,
    steps: &[],
}];

use RunStatus::{Compensated as RunCompensated, Completed as RunCompleted};
use StepState::{Compensated, Failed, Skipped, Succeeded};

/// Both e-commerce styles agree on these two runs: every step succeeds, or an expired card
/// takes the payment's failure route and nothing after it runs.
const ECOMMERCE_HAPPY_PATH: ShippedScenario = ShippedScenario {
    key: "happy-path",
    name: "Happy path",
    input: "{}",
    seed: None,
    outcome: RunCompleted,
    steps: &[
        ("order", Succeeded),
        ("payment", Succeeded),
        ("fulfillment", Succeeded),
        ("email", Succeeded),
    ],
};

const CARD_EXPIRED: ShippedScenario = ShippedScenario {
    key: "card-expired",
    name: "Card expired",
    input: r#"{"card": "expired"}"#,
    seed: None,
    outcome: RunCompleted,
    steps: &[
        ("payment", Failed),
        ("notify-rejected", Succeeded),
        ("order-rejected", Succeeded),
        ("fulfillment", Skipped),
    ],
};

/// The article's two failures of the orchestrated e-commerce flow, and the run without
/// them: an expired card takes the payment's failure route; a back order has none, so the
/// orchestrator's saga refunds the payment and cancels the order.
const ECOMMERCE_ORCHESTRATED_SCENARIOS: &[ShippedScenario] = &[
    ECOMMERCE_HAPPY_PATH,
    CARD_EXPIRED,
    ShippedScenario {
        key: "out-of-stock",
        name: "Out of stock",
        input: r#"{"stock": "none"}"#,
        seed: None,
        outcome: RunCompensated,
        steps: &[
            ("fulfillment", Failed),
            ("payment", Compensated),
            ("order", Compensated),
            ("email", Skipped),
        ],
    },
];

/// The same three runs choreographed: every failure is an event the other services react
/// to — the refund is Payment's own step, not the orchestrator's saga.
const ECOMMERCE_CHOREOGRAPHED_SCENARIOS: &[ShippedScenario] = &[
    ECOMMERCE_HAPPY_PATH,
    CARD_EXPIRED,
    ShippedScenario {
        key: "out-of-stock",
        name: "Out of stock",
        input: r#"{"stock": "none"}"#,
        seed: None,
        outcome: RunCompleted,
        steps: &[
            ("fulfillment", Failed),
            ("refund", Succeeded),
            ("notify-backorder", Succeeded),
            ("order-backordered", Succeeded),
            ("email", Skipped),
        ],
    },
];

/// The bank's confirmation comes, or (another seed) never does: the orchestrator's
/// timeout and saga cancel the order.
const CONFIRMATION_SCENARIOS: &[ShippedScenario] = &[
    ShippedScenario {
        key: "confirmation-arrives",
        name: "Confirmation arrives",
        input: "{}",
        seed: Some(4),
        outcome: RunCompleted,
        steps: &[("confirm", Succeeded), ("ship", Succeeded)],
    },
    ShippedScenario {
        key: "confirmation-never-comes",
        name: "Confirmation never comes",
        input: "{}",
        seed: Some(1),
        outcome: RunCompensated,
        steps: &[
            ("confirm", Failed),
            ("order", Compensated),
            ("ship", Skipped),
        ],
    },
];

/// On events with nobody watching, a confirmation that never comes stalls the run.
const CONFIRMATION_EVENTS_SCENARIOS: &[ShippedScenario] = &[
    ShippedScenario {
        key: "confirmation-arrives",
        name: "Confirmation arrives",
        input: "{}",
        seed: Some(4),
        outcome: RunCompleted,
        steps: &[("confirm", Succeeded), ("ship", Succeeded)],
    },
    ShippedScenario {
        key: "confirmation-never-comes",
        name: "Confirmation never comes",
        input: "{}",
        seed: Some(1),
        outcome: RunStatus::Failed,
        steps: &[("ship", Skipped)],
    },
];

/// With the watchdog, the same never-coming confirmation ends cleanly: the order cancelled.
const CONFIRMATION_WATCHDOG_SCENARIOS: &[ShippedScenario] = &[
    ShippedScenario {
        key: "confirmation-arrives",
        name: "Confirmation arrives",
        input: "{}",
        seed: Some(4),
        outcome: RunCompleted,
        steps: &[("ship", Succeeded), ("cancel", Skipped)],
    },
    ShippedScenario {
        key: "confirmation-never-comes",
        name: "Confirmation never comes",
        input: "{}",
        seed: Some(1),
        outcome: RunCompleted,
        steps: &[("cancel", Succeeded), ("ship", Skipped)],
    },
];

/// A payment small enough to approve, and one large enough for a review.
const AMOUNT_SCENARIOS: &[ShippedScenario] = &[
    ShippedScenario {
        key: "small-payment",
        name: "Small payment",
        input: r#"{"amount": 120}"#,
        seed: None,
        outcome: RunCompleted,
        steps: &[("review", Skipped), ("ship", Succeeded)],
    },
    ShippedScenario {
        key: "large-payment",
        name: "Large payment",
        input: r#"{"amount": 5000}"#,
        seed: None,
        outcome: RunCompleted,
        steps: &[("review", Succeeded)],
    },
];

/// The shipped template with this key.
pub fn template(key: &str) -> Option<&'static Example> {
    ALL.iter().find(|e| e.key == key)
}

/// Templates are stored read-only under these ids (so the lab and the lessons can run them);
/// the workflows list leaves them out — it holds the user's own work.
pub const TEMPLATE_ID_PREFIX: &str = "template-";

/// The id a template is stored under.
pub fn template_id(key: &str) -> String {
    format!("{TEMPLATE_ID_PREFIX}{key}")
}

/// Whether a stored workflow is a shipped template (read-only).
pub fn is_template_id(id: &str) -> bool {
    id.starts_with(TEMPLATE_ID_PREFIX)
}

/// `name`, or the first of "name (copy 2)", "name (copy 3)"… (in `locale`'s words) that is
/// not `taken`: opening a template twice gives two workflows one can tell apart.
pub fn distinct_name(
    name: &str,
    locale: crate::i18n::Locale,
    taken: impl Fn(&str) -> bool,
) -> String {
    if !taken(name) {
        return name.to_string();
    }
    (2..)
        .map(|n| crate::i18n::td_string!(locale, workflows.copy_n, name = name, n = n).to_string())
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_string())
}

/// A copy of a template's workflow that remembers where it came from, with its scenarios.
pub fn from_template(example: &Example) -> Workflow {
    Workflow {
        template: Some(example.key.to_string()),
        scenarios: example
            .scenarios
            .iter()
            .map(ShippedScenario::scenario)
            .collect(),
        ..(example.workflow)()
    }
}

/// Every shipped scenario, in the article's order.
pub const ALL: &[Example] = &[
    Example {
        key: "order-orchestrated",
        title: "Order processing, orchestrated",
        lesson: "The orchestrator validates the order, charges the payment and sends the confirmation, waiting for each reply.",
        workflow: order_processing,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "order-choreographed",
        title: "Order processing, choreographed",
        lesson: "orderValidated → the payment service charges and emits paymentCharged → the notification service emits confirmationSent. Nobody coordinates.",
        workflow: order_processing_choreographed,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "ecommerce-orchestrated",
        title: "E-commerce with two failures, orchestrated",
        lesson: "Run with {\"card\": \"expired\"}: Payment reports the failure, the orchestrator notifies the customer and updates the order. Run with {\"stock\": \"none\"}: Fulfillment fails after payment; the orchestrator refunds the payment and cancels the order (a saga, in reverse order).",
        workflow: ecommerce_orchestrated,
        scenarios: ECOMMERCE_ORCHESTRATED_SCENARIOS,
        watch_speed: 0.25,
    },
    Example {
        key: "ecommerce-choreographed",
        title: "E-commerce with two failures, choreographed",
        lesson: "Run with {\"card\": \"expired\"}: Payment publishes PaymentRejected; Email and Order Placement subscribe. Run with {\"stock\": \"none\"}: Fulfillment publishes BackOrdered; Email, Payment (refund) and Order Placement react.",
        workflow: ecommerce_choreographed,
        scenarios: ECOMMERCE_CHOREOGRAPHED_SCENARIOS,
        watch_speed: 0.25,
    },
    Example {
        key: "ecommerce-real-orchestrated",
        title: "E-commerce on real services, orchestrated",
        lesson: "Start the article's services first: make demo-services (Order, Payment, Fulfillment, Email on 127.0.0.1:4101-4105). Each run calls them: the latencies are real, and each service counts what it did at /stats. Run with {\"card\": \"expired\"}: Payment declines, the orchestrator takes the failure route. {\"flaky\": \"payment\"}: its first attempt fails, the retry works under the same idempotency key. {\"down\": \"fulfillment\"}: retried, then the saga refunds the payment.",
        workflow: ecommerce_real_orchestrated,
        scenarios: ECOMMERCE_ORCHESTRATED_SCENARIOS,
        watch_speed: 1.0,
    },
    Example {
        key: "ecommerce-real-choreographed",
        title: "E-commerce on real services, choreographed",
        lesson: "The same services, reacting to events: start them first (make demo-services). Payment receives OrderPlaced with what Order Placement wrote — its real order id. Run with {\"stock\": \"none\"}: Fulfillment declines and publishes BackOrdered; the refund and the notifications follow.",
        workflow: ecommerce_real_choreographed,
        scenarios: ECOMMERCE_CHOREOGRAPHED_SCENARIOS,
        watch_speed: 1.0,
    },
    Example {
        key: "onboarding-events",
        title: "Customer onboarding, event-driven",
        lesson: "Registration publishes CustomerRegistered; credit, address and criminal checks react in parallel through the broker; nobody waits for anybody.",
        workflow: onboarding_events,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "onboarding-hybrid",
        title: "Customer onboarding, hybrid",
        lesson: "The core (registration and the three checks) is orchestrated; once the customer is approved, newsletter and bonus enrolment happen by event — nobody needs to wait for them.",
        workflow: onboarding_hybrid,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "image-fork-join",
        title: "Image processing fork/join",
        lesson: "Two parallel branches convert and resize to JPG and WebP and upload each; the join waits for both uploads.",
        workflow: image_fork_join,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "airflow-chain",
        title: "Airflow-style chain",
        lesson: "download_launches >> get_pictures >> notify: a plain chain of commands.",
        workflow: airflow_chain,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "fan-out-group",
        title: "Fan-out group (ten parallel adds)",
        lesson: "Like Celery's group: ten add tasks commanded at once, joined when all are done.",
        workflow: fan_out_group,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "cart-fan-out",
        title: "Cart event fan-out",
        lesson: "The cart service publishes ItemAdded once; recommendation and inventory react independently.",
        workflow: cart_fan_out,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "financial-transaction",
        title: "Financial transaction, strictly ordered",
        lesson: "Approve → process → record, one after the other, each only after the previous one replied: why orchestration suits it.",
        workflow: financial_transaction,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "order-pipeline",
        title: "Order pipeline",
        lesson: "Order received → payment → stock check → shipping preparation → order complete.",
        workflow: order_pipeline,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "payment-by-amount",
        title: "Payment approved or declined by amount",
        lesson: "The orchestrator decides on the run data: a declined authorization goes to Notify declined, an amount over 1000 to Manual review, anything else straight to Shipping. The rule lives in one place.",
        workflow: payment_by_amount,
        scenarios: AMOUNT_SCENARIOS,
        watch_speed: 0.25,
    },
    Example {
        key: "payment-by-amount-filtered",
        title: "Payment by amount, every subscriber filters",
        lesson: "Choreographed with one PaymentAuthorized event: Notify declined, Manual review and Shipping each hear it and check their own copy of the rule. Change the limit and three services change.",
        workflow: payment_by_amount_filtered,
        scenarios: AMOUNT_SCENARIOS,
        watch_speed: 0.25,
    },
    Example {
        key: "payment-confirmation",
        title: "Order with payment confirmation and a timeout",
        lesson: "The bank's confirmation comes after 0.5 to 2.5 s — or, one time in three, never. The orchestrator waits at most 3 s: past that it times out and compensates the order. Press Send BankConfirmed on the waiting step to confirm by hand.",
        workflow: payment_confirmation,
        scenarios: CONFIRMATION_SCENARIOS,
        watch_speed: 1.0,
    },
    Example {
        key: "payment-confirmation-events",
        title: "Payment confirmation on events, no watchdog",
        lesson: "Choreographed, the confirmation that never comes is noticed by nobody: the order waits for ever, and the run stalls.",
        workflow: payment_confirmation_events,
        scenarios: CONFIRMATION_EVENTS_SCENARIOS,
        watch_speed: 1.0,
    },
    Example {
        key: "payment-confirmation-watchdog",
        title: "Payment confirmation on events, with a watchdog",
        lesson: "A watchdog hears OrderPlaced and waits 3 s for PaymentConfirmed; when it does not come, its timeout event makes Order Placement cancel the order.",
        workflow: payment_confirmation_watchdog,
        scenarios: CONFIRMATION_WATCHDOG_SCENARIOS,
        watch_speed: 1.0,
    },
    Example {
        key: "shipping-lean-events",
        title: "Shipping on events that carry too little",
        lesson: "OrderPlaced carries the order, but PaymentCharged carries only the payment: Shipping must ask Order Placement for the address — a query and its wait in every run.",
        workflow: shipping_lean_events,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "shipping-carried-events",
        title: "Shipping on events that carry the state",
        lesson: "The same flow with event-carried state: PaymentCharged carries the address too, so Shipping works from the event alone and nobody asks.",
        workflow: shipping_carried_events,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "card-retry-loop",
        title: "Payment with another card, at most 3 times",
        lesson: "Charge card fails half the time. The orchestrator asks the customer for another card and charges again — round the loop at most 3 times; then it cancels the order. The canvas marks the loop ↻, the Summary counts its turns.",
        workflow: card_retry_loop,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "order-items-for-each",
        title: "Pack every item of the order at once",
        lesson: "Order Placement writes the order's items; Pack items works on each of them at once, as Step Functions' Map or BPMN's multi-instance does. The step lasts as long as its slowest item, and one item that fails fails the packing: the order is cancelled.",
        workflow: order_items_for_each,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "payment-sub-flow",
        title: "Payment, a flow of its own",
        lesson: "Reserve funds, then charge the card — each with its undo. Other flows run it as a sub-flow: a child run of its own, which its parent waits for and, when the parent's saga unwinds, undoes as a unit.",
        workflow: payment_sub_flow,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
    Example {
        key: "order-with-payment-sub-flow",
        title: "Order with its payment as a sub-flow",
        lesson: "Pay runs the Payment flow as a child run and waits for it. When Shipping fails, the orchestrator's saga cancels the order and undoes the payment as a unit: an undo run releases and refunds what the child did. The Summary links parent and child.",
        workflow: order_with_payment_sub_flow,
        scenarios: HAPPY_PATH,
        watch_speed: 0.25,
    },
];

/// A payment as a flow of its own, for other flows to run as a sub-flow: Reserve funds,
/// then Charge card (which writes `paid`), both commanded and each with its undo.
pub fn payment_sub_flow() -> Workflow {
    let mut reserve = step(
        "reserve",
        "Reserve funds",
        "PaymentService",
        "reserve",
        40.0,
        140.0,
    );
    reserve["compensation"] = json!("release");
    let mut charge = step(
        "charge",
        "Charge card",
        "PaymentService",
        "charge",
        310.0,
        140.0,
    );
    charge["compensation"] = json!("refund");
    charge["writes"] = json!({"paid": true});
    parse(json!({
        "name": "Payment",
        "nodes": [reserve, charge],
        "edges": [{"id": "e1", "from": "reserve", "to": "charge", "kind": "command"}]
    }))
}

/// An order whose payment is a sub-flow: Order Placement, then Pay — which runs
/// [`payment_sub_flow`] as a child run — then Shipping, which fails one time in three; no
/// failure route, so the saga undoes Pay's child as a unit and cancels the order.
pub fn order_with_payment_sub_flow() -> Workflow {
    let mut order = step(
        "order",
        "Order Placement",
        "OrderService",
        "place",
        40.0,
        140.0,
    );
    order["compensation"] = json!("cancel");
    let mut pay = step("pay", "Pay", "OrderService", "pay", 310.0, 140.0);
    pay["sub_flow"] = json!(template_id("payment-sub-flow"));
    let mut ship = step("ship", "Shipping", "ShippingService", "ship", 580.0, 140.0);
    ship["failure_rate"] = json!(1.0 / 3.0);
    parse(json!({
        "name": "Order with a payment sub-flow",
        "nodes": [order, pay, ship],
        "edges": [
            {"id": "e1", "from": "order", "to": "pay", "kind": "command"},
            {"id": "e2", "from": "pay", "to": "ship", "kind": "command"},
        ]
    }))
}

/// A for-each: Order Placement writes three items, Pack items packs each at once (one
/// item in ten fails), then Shipping — or, when an item fails, Cancel order.
pub fn order_items_for_each() -> Workflow {
    let mut order = step(
        "order",
        "Order Placement",
        "OrderService",
        "place",
        40.0,
        140.0,
    );
    order["writes"] = json!({"items": ["book", "lamp", "mug"]});
    let mut pack = step(
        "pack",
        "Pack items",
        "FulfillmentService",
        "pack",
        310.0,
        140.0,
    );
    pack["for_each"] = json!("items");
    pack["latency_ms"] = json!([40, 400]);
    pack["failure_rate"] = json!(0.1);
    parse(json!({
        "name": "Order items",
        "nodes": [
            order,
            pack,
            step("ship", "Shipping", "ShippingService", "ship", 580.0, 140.0),
            step("cancel", "Cancel order", "OrderService", "cancel", 580.0, 300.0),
        ],
        "edges": [
            {"id": "e1", "from": "order", "to": "pack", "kind": "command"},
            {"id": "e2", "from": "pack", "to": "ship", "kind": "command"},
            {"id": "e3", "from": "pack", "to": "cancel", "kind": "command", "on": "failure"},
        ]
    }))
}

/// "Retry the payment with another card, at most 3 times": Charge card fails half the
/// time; its failure goes round a bounded loop (Ask for another card, then Charge card
/// again) while iterations are left, then to Cancel order, the default.
pub fn card_retry_loop() -> Workflow {
    let mut charge = step(
        "charge",
        "Charge card",
        "PaymentService",
        "charge",
        310.0,
        140.0,
    );
    charge["failure_rate"] = json!(0.5);
    parse(json!({
        "name": "Payment with another card",
        "nodes": [
            step("order", "Order Placement", "OrderService", "place", 40.0, 140.0),
            charge,
            step("ask", "Ask for another card", "NotificationService", "ask", 310.0, 300.0),
            step("ship", "Shipping", "ShippingService", "ship", 580.0, 140.0),
            step("cancel", "Cancel order", "OrderService", "cancel", 580.0, 300.0),
        ],
        "edges": [
            {"id": "e1", "from": "order", "to": "charge", "kind": "command"},
            {"id": "e2", "from": "charge", "to": "ship", "kind": "command"},
            {"id": "e3", "from": "charge", "to": "ask", "kind": "command", "on": "failure", "max_iterations": 3},
            {"id": "e4", "from": "ask", "to": "charge", "kind": "command"},
            {"id": "e5", "from": "charge", "to": "cancel", "kind": "command", "on": "failure"},
        ]
    }))
}

/// A payment decided on the run data, orchestrated: the authorization writes `approved`
/// (declined one time in ten), and an exclusive decision takes Notify declined when it is
/// not, Manual review when the input's `amount` is over 1000, else Shipping.
pub fn payment_by_amount() -> Workflow {
    let mut authorize = step(
        "authorize",
        "Authorize payment",
        "PaymentService",
        "authorize",
        40.0,
        180.0,
    );
    authorize["writes"] =
        json!({"approved": {"choose": [{"value": true, "p": 0.9}, {"value": false, "p": 0.1}]}});
    parse(json!({
        "name": "Payment by amount",
        "nodes": [
            authorize,
            step("declined", "Notify declined", "NotificationService", "notify", 380.0, 40.0),
            step("review", "Manual review", "RiskService", "review", 380.0, 180.0),
            step("ship", "Shipping", "ShippingService", "ship", 380.0, 320.0),
        ],
        "edges": [
            {"id": "e1", "from": "authorize", "to": "declined", "kind": "command", "condition": "!approved"},
            {"id": "e2", "from": "authorize", "to": "review", "kind": "command", "condition": "amount > 1000"},
            {"id": "e3", "from": "authorize", "to": "ship", "kind": "command"},
        ]
    }))
}

/// [`payment_by_amount`] choreographed with the rule in every subscriber: one
/// `PaymentAuthorized` event, each subscriber filtering it with the whole rule (what the
/// conversion gives when the subscribers decide).
pub fn payment_by_amount_filtered() -> Workflow {
    let mut w = super::convert::convert_with(
        &payment_by_amount(),
        super::convert::Style::Choreography,
        super::workflow::Decider::Subscriber,
    )
    .workflow;
    w.name = "Payment by amount (every subscriber filters)".into();
    for edge in &mut w.edges {
        edge.event = Some("PaymentAuthorized".into());
    }
    w
}

/// How long the bank's confirmation takes, how often it never comes, and how long anyone
/// waits for it, in the payment-confirmation templates.
const CONFIRMATION_ARRIVES_MS: [u64; 2] = [500, 2_500];
const CONFIRMATION_NEVER: f64 = 1.0 / 3.0;
const CONFIRMATION_TIMEOUT_MS: u64 = 3_000;

/// The step that waits for the bank's confirmation (the same id in every version, so the
/// same seed draws the same arrival), with or without a timeout.
fn await_confirmation(timeout: bool) -> serde_json::Value {
    let mut wait = json!({"message": "BankConfirmed", "arrives_ms": CONFIRMATION_ARRIVES_MS, "never": CONFIRMATION_NEVER});
    if timeout {
        wait["timeout_ms"] = json!(CONFIRMATION_TIMEOUT_MS);
    }
    let mut confirm = step(
        "confirm",
        "Await bank confirmation",
        "PaymentService",
        "await",
        310.0,
        140.0,
    );
    confirm["wait"] = wait;
    confirm
}

/// An order that waits for the bank's confirmation, orchestrated: the orchestrator times
/// the wait out and its saga cancels the order.
pub fn payment_confirmation() -> Workflow {
    let mut order = step(
        "order",
        "Order Placement",
        "OrderService",
        "place",
        40.0,
        140.0,
    );
    order["compensation"] = json!("cancel");
    parse(json!({
        "name": "Payment confirmation",
        "nodes": [order, await_confirmation(true),
                  step("ship", "Fulfillment", "FulfillmentService", "ship", 580.0, 140.0)],
        "edges": [
            {"id": "e1", "from": "order", "to": "confirm", "kind": "command"},
            {"id": "e2", "from": "confirm", "to": "ship", "kind": "command"},
        ]
    }))
}

/// The same on events, nobody watching: a confirmation that never comes stalls the run.
pub fn payment_confirmation_events() -> Workflow {
    parse(json!({
        "name": "Payment confirmation (events)",
        "nodes": [step("order", "Order Placement", "OrderService", "place", 40.0, 140.0),
                  await_confirmation(false),
                  step("ship", "Fulfillment", "FulfillmentService", "ship", 580.0, 140.0)],
        "edges": [
            {"id": "e1", "from": "order", "to": "confirm", "kind": "event", "event": "OrderPlaced"},
            {"id": "e2", "from": "confirm", "to": "ship", "kind": "event", "event": "PaymentConfirmed"},
        ]
    }))
}

/// On events with a watchdog: it hears OrderPlaced, waits for PaymentConfirmed, and its
/// timeout (its failure event) makes Order Placement's service cancel the order.
pub fn payment_confirmation_watchdog() -> Workflow {
    let mut watchdog = step(
        "watchdog",
        "Watchdog",
        "OrderService",
        "watch",
        310.0,
        300.0,
    );
    watchdog["wait"] =
        json!({"message": "PaymentConfirmed", "timeout_ms": CONFIRMATION_TIMEOUT_MS});
    parse(json!({
        "name": "Payment confirmation (events, watchdog)",
        "nodes": [step("order", "Order Placement", "OrderService", "place", 40.0, 140.0),
                  await_confirmation(false),
                  step("ship", "Fulfillment", "FulfillmentService", "ship", 580.0, 140.0),
                  watchdog,
                  step("cancel", "Cancel order", "OrderService", "cancel", 580.0, 300.0)],
        "edges": [
            {"id": "e1", "from": "order", "to": "confirm", "kind": "event", "event": "OrderPlaced"},
            {"id": "e2", "from": "confirm", "to": "ship", "kind": "event", "event": "PaymentConfirmed"},
            {"id": "e3", "from": "order", "to": "watchdog", "kind": "event", "event": "OrderPlaced"},
            {"id": "e4", "from": "confirm", "to": "watchdog", "kind": "event", "event": "PaymentConfirmed"},
            {"id": "e5", "from": "watchdog", "to": "cancel", "kind": "event", "on": "failure", "event": "PaymentTimedOut"},
        ]
    }))
}

/// Order Placement takes the order and writes the address; Payment charges; Shipping
/// needs the address. Choreographed on events that carry what their publisher wrote (or,
/// from the start step, the order): PaymentCharged does not carry the address.
pub fn shipping_lean_events() -> Workflow {
    let mut order = step(
        "order",
        "Order Placement",
        "OrderService",
        "place",
        40.0,
        140.0,
    );
    order["writes"] = json!({"address": "Seoul"});
    let mut payment = step(
        "payment",
        "Payment",
        "PaymentService",
        "charge",
        310.0,
        140.0,
    );
    payment["writes"] = json!({"paid": true});
    let mut ship = step(
        "ship",
        "Shipping preparation",
        "ShippingService",
        "prepare",
        580.0,
        140.0,
    );
    ship["reads"] = json!(["address"]);
    parse(json!({
        "name": "Shipping (lean events)",
        "nodes": [order, payment, ship],
        "edges": [
            {"id": "e1", "from": "order", "to": "payment", "kind": "event", "event": "OrderPlaced"},
            {"id": "e2", "from": "payment", "to": "ship", "kind": "event", "event": "PaymentCharged"},
        ]
    }))
}

/// [`shipping_lean_events`] with event-carried state: PaymentCharged carries the address.
pub fn shipping_carried_events() -> Workflow {
    let mut w = shipping_lean_events();
    w.name = "Shipping (event-carried state)".into();
    w.edges[0].payload = Some(vec!["address".into()]);
    w.edges[1].payload = Some(vec!["paid".into(), "address".into()]);
    w
}

fn parse(value: serde_json::Value) -> Workflow {
    // The examples are written by us and covered by tests: a failure here is a bug in them.
    let mut workflow: Workflow =
        serde_json::from_value(value).unwrap_or_else(|e| panic!("example workflow: {e}"));
    workflow.assign_edge_ids();
    workflow
}

fn step(id: &str, label: &str, service: &str, action: &str, x: f64, y: f64) -> serde_json::Value {
    json!({"id": id, "label": label, "service": service, "action": action, "position": {"x": x, "y": y}})
}

/// Scenario 1: the article's `OrderProcessing` workflow, orchestrated.
pub fn order_processing() -> Workflow {
    parse(json!({
        "name": "OrderProcessing",
        "nodes": [
            step("validate", "ValidateOrder", "OrderService", "validate", 40.0, 140.0),
            step("charge", "ChargePayment", "PaymentService", "charge", 300.0, 140.0),
            step("confirm", "SendConfirmation", "NotificationService", "send", 560.0, 140.0),
        ],
        "edges": [
            {"id": "e1", "from": "validate", "to": "charge", "kind": "command"},
            {"id": "e2", "from": "charge", "to": "confirm", "kind": "command"},
        ]
    }))
}

/// Scenario 2: the same, choreographed (the article's EventEmitter example).
pub fn order_processing_choreographed() -> Workflow {
    parse(json!({
        "name": "OrderProcessing (events)",
        "nodes": [
            step("validate", "ValidateOrder", "OrderService", "validate", 40.0, 140.0),
            step("charge", "ChargePayment", "PaymentService", "charge", 300.0, 140.0),
            step("confirm", "SendConfirmation", "NotificationService", "send", 560.0, 140.0),
        ],
        "edges": [
            {"from": "validate", "to": "charge", "kind": "event", "event": "orderValidated"},
            {"from": "charge", "to": "confirm", "kind": "event", "event": "paymentCharged"},
        ]
    }))
}

/// Where the e-commerce templates' steps sit: the happy path on the first row, each
/// failure's reactions in a column to the right of the step that failed, one row each, so
/// every event's name has the room between two columns to itself (the templates fit a
/// 1280 × 720 screen at 80 % or more; `app/tests/it/templates.rs` checks the labels' room).
const SHOP_COLUMNS: [f64; 4] = [40.0, 310.0, 580.0, 850.0];
const SHOP_ROWS: [f64; 4] = [40.0, 180.0, 320.0, 460.0];

/// The e-commerce steps both styles share, with the payment-rejected reactions.
fn ecommerce_steps() -> Vec<serde_json::Value> {
    let [c0, c1, c2, c3] = SHOP_COLUMNS;
    let [r0, r1, r2, _] = SHOP_ROWS;
    let mut order = step("order", "Order Placement", "OrderService", "place", c0, r0);
    order["compensation"] = json!("cancel");
    let mut payment = step("payment", "Payment", "PaymentService", "charge", c1, r0);
    payment["compensation"] = json!("refund");
    payment["fail_when"] = json!({"field": "card", "equals": "expired"});
    let mut fulfillment = step(
        "fulfillment",
        "Fulfillment",
        "FulfillmentService",
        "ship",
        c2,
        r0,
    );
    fulfillment["fail_when"] = json!({"field": "stock", "equals": "none"});
    vec![
        order,
        payment,
        fulfillment,
        step("email", "Email", "EmailService", "confirm", c3, r0),
        step(
            "notify-rejected",
            "Notify payment rejected",
            "EmailService",
            "notifyRejected",
            c2,
            r1,
        ),
        step(
            "order-rejected",
            "Update order (rejected)",
            "OrderService",
            "markRejected",
            c2,
            r2,
        ),
    ]
}

/// Scenario 3, orchestrated: Order Placement → Payment → Fulfillment → Email, with the
/// payment-rejected route; a back order (no route) makes the orchestrator run its saga.
pub fn ecommerce_orchestrated() -> Workflow {
    parse(json!({
        "name": "E-commerce (orchestrated)",
        "nodes": ecommerce_steps(),
        "edges": [
            {"from": "order", "to": "payment", "kind": "command"},
            {"from": "payment", "to": "fulfillment", "kind": "command"},
            {"from": "fulfillment", "to": "email", "kind": "command"},
            {"from": "payment", "to": "notify-rejected", "kind": "command", "on": "failure"},
            {"from": "payment", "to": "order-rejected", "kind": "command", "on": "failure"},
        ]
    }))
}

/// Scenario 3, choreographed: every service reacts to the facts the others publish,
/// including the failures, and compensates its own work.
pub fn ecommerce_choreographed() -> Workflow {
    let [_, _, _, c3] = SHOP_COLUMNS;
    let [_, r1, r2, r3] = SHOP_ROWS;
    let mut nodes = ecommerce_steps();
    nodes.push(step(
        "notify-backorder",
        "Notify back order",
        "EmailService",
        "notifyBackOrder",
        c3,
        r1,
    ));
    nodes.push(step(
        "refund",
        "Refund payment",
        "PaymentService",
        "refund",
        c3,
        r2,
    ));
    nodes.push(step(
        "order-backordered",
        "Update order (back order)",
        "OrderService",
        "markBackOrdered",
        c3,
        r3,
    ));
    parse(json!({
        "name": "E-commerce (choreographed)",
        "nodes": nodes,
        "edges": [
            {"from": "order", "to": "payment", "kind": "event", "event": "OrderPlaced"},
            {"from": "payment", "to": "fulfillment", "kind": "event", "event": "PaymentCharged"},
            {"from": "fulfillment", "to": "email", "kind": "event", "event": "OrderFulfilled"},
            {"from": "payment", "to": "notify-rejected", "kind": "event", "on": "failure", "event": "PaymentRejected"},
            {"from": "payment", "to": "order-rejected", "kind": "event", "on": "failure", "event": "PaymentRejected"},
            {"from": "fulfillment", "to": "notify-backorder", "kind": "event", "on": "failure", "event": "BackOrdered"},
            {"from": "fulfillment", "to": "refund", "kind": "event", "on": "failure", "event": "BackOrdered"},
            {"from": "fulfillment", "to": "order-backordered", "kind": "event", "on": "failure", "event": "BackOrdered"},
        ]
    }))
}

/// The demo services' ports on loopback (`make demo-services`, `hybridflow demo-service`),
/// by the e-commerce flow's step they do the work of.
pub const DEMO_SERVICE_PORTS: [(&str, u16); 4] = [
    ("order", 4101),
    ("payment", 4102),
    ("fulfillment", 4104),
    ("email", 4105),
];

/// `workflow` with its order, payment, fulfillment and email steps bound to the demo
/// services (each retried twice, 200 ms apart: a flaky service gets its second attempt);
/// the notifications and order updates stay simulated — one flow, both kinds of step.
fn on_demo_services(mut workflow: Workflow, name: &str) -> Workflow {
    use super::call::{HttpEndpoint, ServiceCall};
    workflow.name = name.to_string();
    for node in &mut workflow.nodes {
        if let Some((_, port)) = DEMO_SERVICE_PORTS.iter().find(|(id, _)| *id == node.id) {
            node.call = Some(ServiceCall {
                http: Some(HttpEndpoint {
                    url: format!("http://127.0.0.1:{port}/"),
                }),
                ..ServiceCall::default()
            });
            node.retry = Some(super::workflow::RetryPolicy {
                max_attempts: 3,
                backoff_ms: 200,
                multiplier: 1.0,
            });
        }
    }
    workflow
}

/// The article's e-commerce flow, orchestrated, on the demo services.
pub fn ecommerce_real_orchestrated() -> Workflow {
    on_demo_services(
        ecommerce_orchestrated(),
        "E-commerce on real services (orchestrated)",
    )
}

/// The article's e-commerce flow, choreographed, on the demo services.
pub fn ecommerce_real_choreographed() -> Workflow {
    on_demo_services(
        ecommerce_choreographed(),
        "E-commerce on real services (choreographed)",
    )
}

/// Scenario 5: convert and resize an image into JPG and WebP in parallel, upload each,
/// join on both uploads, output both locations.
pub fn image_fork_join() -> Workflow {
    let mut join = step(
        "output",
        "Output locations",
        "ImageService",
        "output",
        820.0,
        130.0,
    );
    join["join"] = json!("all");
    parse(json!({
        "name": "Image processing (fork/join)",
        "nodes": [
            step("receive", "Receive image", "ImageService", "receive", 40.0, 130.0),
            step("jpg", "Convert + resize JPG", "ImageService", "convertJpg", 300.0, 40.0),
            step("webp", "Convert + resize WebP", "ImageService", "convertWebp", 300.0, 220.0),
            step("upload-jpg", "Upload JPG", "StorageService", "upload", 560.0, 40.0),
            step("upload-webp", "Upload WebP", "StorageService", "upload", 560.0, 220.0),
            join,
        ],
        "edges": [
            {"from": "receive", "to": "jpg", "kind": "command"},
            {"from": "receive", "to": "webp", "kind": "command"},
            {"from": "jpg", "to": "upload-jpg", "kind": "command"},
            {"from": "webp", "to": "upload-webp", "kind": "command"},
            {"from": "upload-jpg", "to": "output", "kind": "command"},
            {"from": "upload-webp", "to": "output", "kind": "command"},
        ]
    }))
}

/// Scenario 9: approve → process → record, strictly in order.
pub fn financial_transaction() -> Workflow {
    parse(json!({
        "name": "Financial transaction",
        "nodes": [
            step("approve", "Approve", "RiskService", "approve", 40.0, 140.0),
            step("process", "Process", "LedgerService", "process", 300.0, 140.0),
            step("record", "Record", "AuditService", "record", 560.0, 140.0),
        ],
        "edges": [
            {"from": "approve", "to": "process", "kind": "command"},
            {"from": "process", "to": "record", "kind": "command"},
        ]
    }))
}

/// Scenario 4: customer onboarding through a broker.
pub fn onboarding_events() -> Workflow {
    parse(json!({
        "name": "Customer onboarding (events)",
        "nodes": [
            step("register", "Registration", "RegistrationService", "register", 40.0, 130.0),
            step("credit", "Credit check", "CreditService", "check", 300.0, 20.0),
            step("address", "Address check", "AddressService", "check", 300.0, 130.0),
            step("criminal", "Criminal check", "ComplianceService", "check", 300.0, 240.0),
        ],
        "edges": [
            {"from": "register", "to": "credit", "kind": "event", "event": "CustomerRegistered"},
            {"from": "register", "to": "address", "kind": "event", "event": "CustomerRegistered"},
            {"from": "register", "to": "criminal", "kind": "event", "event": "CustomerRegistered"},
        ]
    }))
}

/// Scenario 4, hybrid: the core orchestrated, the enrolments leaving the domain by event.
pub fn onboarding_hybrid() -> Workflow {
    let mut approve = step(
        "approve",
        "Approve customer",
        "OnboardingService",
        "approve",
        560.0,
        130.0,
    );
    approve["join"] = json!("all");
    parse(json!({
        "name": "Customer onboarding (hybrid)",
        "nodes": [
            step("register", "Registration", "RegistrationService", "register", 40.0, 130.0),
            step("credit", "Credit check", "CreditService", "check", 300.0, 20.0),
            step("address", "Address check", "AddressService", "check", 300.0, 130.0),
            step("criminal", "Criminal check", "ComplianceService", "check", 300.0, 240.0),
            approve,
            step("newsletter", "Newsletter enrolment", "MarketingService", "enrol", 820.0, 60.0),
            step("bonus", "Bonus programme", "LoyaltyService", "enrol", 820.0, 200.0),
        ],
        "edges": [
            {"from": "register", "to": "credit", "kind": "command"},
            {"from": "register", "to": "address", "kind": "command"},
            {"from": "register", "to": "criminal", "kind": "command"},
            {"from": "credit", "to": "approve", "kind": "command"},
            {"from": "address", "to": "approve", "kind": "command"},
            {"from": "criminal", "to": "approve", "kind": "command"},
            {"from": "approve", "to": "newsletter", "kind": "event", "event": "CustomerOnboarded"},
            {"from": "approve", "to": "bonus", "kind": "event", "event": "CustomerOnboarded"},
        ]
    }))
}

/// Scenario 6: Airflow's `download_launches >> get_pictures >> notify`.
pub fn airflow_chain() -> Workflow {
    parse(json!({
        "name": "Airflow chain",
        "nodes": [
            step("download_launches", "download_launches", "LaunchService", "download", 40.0, 130.0),
            step("get_pictures", "get_pictures", "PictureService", "fetch", 300.0, 130.0),
            step("notify", "notify", "NotificationService", "notify", 560.0, 130.0),
        ],
        "edges": [
            {"from": "download_launches", "to": "get_pictures", "kind": "command"},
            {"from": "get_pictures", "to": "notify", "kind": "command"},
        ]
    }))
}

/// Scenario 7: a Celery-style group of ten parallel `add` tasks, joined.
pub fn fan_out_group() -> Workflow {
    let mut nodes = vec![step("start", "Start group", "Worker", "group", 40.0, 370.0)];
    let mut edges = Vec::new();
    for i in 0..10 {
        let id = format!("add-{i}");
        nodes.push(step(
            &id,
            &format!("add({i}, {i})"),
            "MathService",
            "add",
            300.0,
            10.0 + i as f64 * 80.0,
        ));
        edges.push(json!({"from": "start", "to": id, "kind": "command"}));
        edges.push(json!({"from": id, "to": "collect", "kind": "command"}));
    }
    let mut collect = step(
        "collect",
        "Collect results",
        "Worker",
        "collect",
        560.0,
        370.0,
    );
    collect["join"] = json!("all");
    nodes.push(collect);
    parse(json!({"name": "Fan-out group", "nodes": nodes, "edges": edges}))
}

/// Scenario 8: a cart event fanned out to independent reactors.
pub fn cart_fan_out() -> Workflow {
    parse(json!({
        "name": "Cart event fan-out",
        "nodes": [
            step("cart", "Add to cart", "CartService", "add", 40.0, 130.0),
            step("recommend", "Recommendations", "RecommendationService", "update", 300.0, 60.0),
            step("inventory", "Inventory", "InventoryService", "reserve", 300.0, 200.0),
        ],
        "edges": [
            {"from": "cart", "to": "recommend", "kind": "event", "event": "ItemAdded"},
            {"from": "cart", "to": "inventory", "kind": "event", "event": "ItemAdded"},
        ]
    }))
}

/// Scenario 10: order received → payment → stock check → shipping preparation → complete.
pub fn order_pipeline() -> Workflow {
    parse(json!({
        "name": "Order pipeline",
        "nodes": [
            step("received", "Order received", "OrderService", "receive", 40.0, 40.0),
            step("payment", "Payment", "PaymentService", "charge", 300.0, 40.0),
            step("stock", "Stock check", "InventoryService", "check", 560.0, 40.0),
            step("shipping", "Shipping preparation", "ShippingService", "prepare", 300.0, 180.0),
            step("complete", "Order complete", "OrderService", "complete", 560.0, 180.0),
        ],
        "edges": [
            {"from": "received", "to": "payment", "kind": "command"},
            {"from": "payment", "to": "stock", "kind": "command"},
            {"from": "stock", "to": "shipping", "kind": "command"},
            {"from": "shipping", "to": "complete", "kind": "command"},
        ]
    }))
}
