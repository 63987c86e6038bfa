//! The article's e-commerce services as real HTTP services on loopback — Order, Payment,
//! Inventory, Fulfillment, Email — each its own process (`hybridflow demo-service <name>`,
//! all five: `make demo-services`), speaking the call contract ([`app::model::call`]).
//!
//! Each does a little real work and answers what it wrote. How it fails is switched by the
//! data it receives, so one flow shows every case:
//! - `"card": "expired"` → Payment declines (`422`, `failure: card expired`);
//! - `"stock": "none"` → Inventory and Fulfillment decline (`422`, `failure: out of stock`);
//! - `"down": "payment"` (a name or a list) → that service answers `503` to every call;
//! - `"flaky": "payment"` → its first attempt of each execution answers `503`, the retry
//!   works;
//! - `"slow": "payment"` → it takes [`SLOW_MS`] more before it answers.
//!
//! An undo call (`kind: undo`, the saga compensating the step) reverses the work: Order
//! cancels, Payment refunds (`refund_id`), Inventory releases, Fulfillment cancels the
//! shipment, Email sends a correction; the switches apply to it too.
//!
//! Each honours the idempotency key: the first sending that it answers with a result (a
//! success or a business failure) does the work, later sendings of the key get the same
//! answer without doing it again. `GET /stats` counts the calls it saw and the work it did,
//! per key. `5xx` answers are not remembered (the caller retries them).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::call::{CallKind, CallReply, CallRequest, MAX_CALL_BODY_BYTES};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// How much longer a service switched to `slow` takes to answer.
pub const SLOW_MS: u64 = 1_500;
/// The most idempotency keys a service remembers; past it, the oldest is forgotten.
pub const MAX_REMEMBERED_KEYS: usize = 100_000;
/// The first port of the five on loopback (`make demo-services`): Order 4101, Payment 4102,
/// Inventory 4103, Fulfillment 4104, Email 4105.
pub const FIRST_PORT: u16 = 4101;

/// One of the article's e-commerce services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoService {
    Order,
    Payment,
    Inventory,
    Fulfillment,
    Email,
}

impl DemoService {
    pub const ALL: [DemoService; 5] = [
        DemoService::Order,
        DemoService::Payment,
        DemoService::Inventory,
        DemoService::Fulfillment,
        DemoService::Email,
    ];

    /// Its name, as the run data's switches name it.
    pub fn name(self) -> &'static str {
        match self {
            DemoService::Order => "order",
            DemoService::Payment => "payment",
            DemoService::Inventory => "inventory",
            DemoService::Fulfillment => "fulfillment",
            DemoService::Email => "email",
        }
    }

    /// Its port under `make demo-services`.
    pub fn port(self) -> u16 {
        FIRST_PORT + Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as u16
    }

    /// Its work on `data` for the execution `key`: what it writes, or why it declines.
    fn work(self, data: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, String> {
        let is = |field: &str, value: &str| data.get(field).and_then(Value::as_str) == Some(value);
        let id = |prefix: &str| format!("{prefix}-{:08x}", fnv(key) as u32);
        let writes = match self {
            DemoService::Order => json!({"order_id": id("ord")}),
            DemoService::Payment if is("card", "expired") => return Err("card expired".into()),
            DemoService::Payment => json!({"paid": true, "payment_id": id("pay")}),
            DemoService::Inventory | DemoService::Fulfillment if is("stock", "none") => {
                return Err("out of stock".into())
            }
            DemoService::Inventory => json!({"reserved": true}),
            DemoService::Fulfillment => json!({"shipped": true, "tracking": id("trk")}),
            DemoService::Email => json!({"emailed": true}),
        };
        Ok(writes.as_object().cloned().unwrap_or_default())
    }

    /// Its undo of the work it did under `key` (an undo call's key is the work's with
    /// `/undo`): what it writes. Undoing never declines.
    fn undo(self, key: &str) -> Map<String, Value> {
        let id = |prefix: &str| format!("{prefix}-{:08x}", fnv(key) as u32);
        let writes = match self {
            DemoService::Order => json!({"cancelled": true}),
            DemoService::Payment => json!({"refunded": true, "refund_id": id("ref")}),
            DemoService::Inventory => json!({"released": true}),
            DemoService::Fulfillment => json!({"shipment_cancelled": true}),
            // An email cannot be unsent: a correction goes out.
            DemoService::Email => json!({"correction_sent": true}),
        };
        writes.as_object().cloned().unwrap_or_default()
    }
}

/// FNV-1a: a short, stable id from a key (not a security measure).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a service remembers of one idempotency key.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeyStats {
    /// Calls that carried it.
    pub seen: u32,
    /// Times the work was done for it (1 for a service that honours the key).
    pub executed: u32,
    #[serde(skip)]
    answer: Option<(u16, Value)>,
    /// A sending of the key is being worked on now.
    #[serde(skip)]
    working: bool,
}

/// `GET /stats`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub service: &'static str,
    pub requests: u64,
    pub executions: u64,
    pub keys: HashMap<String, KeyStats>,
}

struct Service {
    which: DemoService,
    stats: Mutex<(Stats, VecDeque<String>)>,
}

/// The router of one demo service.
pub fn router(which: DemoService) -> Router {
    let state = Arc::new(Service {
        which,
        stats: Mutex::new((
            Stats {
                service: which.name(),
                ..Stats::default()
            },
            VecDeque::new(),
        )),
    });
    Router::new()
        .route("/", post(call))
        .route("/stats", get(stats))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_CALL_BODY_BYTES))
        .with_state(state)
}

/// Serves `which` on `bind` until the process ends; says where on standard output.
pub async fn serve(which: DemoService, bind: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!(
        "{} listening on http://{}",
        which.name(),
        listener.local_addr()?
    );
    axum::serve(listener, router(which)).await?;
    Ok(())
}

async fn stats(State(service): State<Arc<Service>>) -> Json<Stats> {
    Json(service.stats.lock().unwrap().0.clone())
}

fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// Whether the run data's switch `field` names `service` (a name, or a list of them).
fn switched(data: &Map<String, Value>, field: &str, service: DemoService) -> bool {
    let named = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(service.name()))
    };
    match data.get(field) {
        Some(Value::Array(names)) => names.iter().any(named),
        Some(v) => named(v),
        None => false,
    }
}

async fn call(
    State(service): State<Arc<Service>>,
    request: Result<Json<CallRequest>, JsonRejection>,
) -> Response {
    let request = match request {
        Ok(Json(request)) => request,
        Err(rejection) => {
            return answer(
                rejection.status().as_u16(),
                json!({"error": rejection.body_text()}),
            )
        }
    };
    let which = service.which;
    let key = request.idempotency_key.clone();
    // Seen, and answered from memory when this key already has its answer.
    let remembered = {
        let mut guard = service.stats.lock().unwrap();
        let (stats, order) = &mut *guard;
        stats.requests += 1;
        if !stats.keys.contains_key(&key) {
            if order.len() >= MAX_REMEMBERED_KEYS {
                if let Some(oldest) = order.pop_front() {
                    stats.keys.remove(&oldest);
                }
            }
            order.push_back(key.clone());
        }
        let entry = stats.keys.entry(key.clone()).or_default();
        entry.seen += 1;
        if entry.answer.is_none() && !entry.working {
            entry.working = true;
            None
        } else {
            Some(entry.answer.clone())
        }
    };
    match remembered {
        Some(Some((status, body))) => return answer(status, body),
        // Another sending of this key is being worked on: try again later (a 5xx, which
        // the caller retries with the same key, and by then the answer is here).
        Some(None) => {
            return answer(
                503,
                json!({"error": format!("{} is already working on {key}", which.name())}),
            )
        }
        None => {}
    }
    // The work goes on if the caller goes away mid-call (as a real service's would): its
    // answer is remembered for the key's next sending.
    let worker = tokio::spawn(async move {
        let (status, body) = execute(which, &request).await;
        let mut guard = service.stats.lock().unwrap();
        let stats = &mut guard.0;
        if let Some(entry) = stats.keys.get_mut(&key) {
            entry.working = false;
            if status < 500 {
                entry.executed += 1;
                entry.answer = Some((status, body.clone()));
            }
        }
        if status < 500 {
            stats.executions += 1;
        }
        (status, body)
    });
    match worker.await {
        Ok((status, body)) => answer(status, body),
        Err(e) => answer(500, json!({"error": format!("the work stopped: {e}")})),
    }
}

/// One sending's work: the switches first (slow, down, flaky), then the service's own.
async fn execute(which: DemoService, request: &CallRequest) -> (u16, Value) {
    let key = &request.idempotency_key;
    let data = &request.data;
    if switched(data, "slow", which) {
        tokio::time::sleep(Duration::from_millis(SLOW_MS)).await;
    }
    if switched(data, "down", which) {
        return (503, json!({"error": format!("{} is down", which.name())}));
    }
    if switched(data, "flaky", which) && request.attempt == 1 {
        return (
            503,
            json!({"error": format!("{} failed this attempt (flaky)", which.name())}),
        );
    }
    let work = match request.kind {
        CallKind::Undo => Ok(which.undo(key)),
        CallKind::Command | CallKind::Event => which.work(data, key),
    };
    match work {
        Ok(writes) => (
            200,
            serde_json::to_value(CallReply {
                writes,
                ..CallReply::default()
            })
            .unwrap_or_default(),
        ),
        Err(failure) => (
            422,
            serde_json::to_value(CallReply {
                failure: Some(failure),
                ..CallReply::default()
            })
            .unwrap_or_default(),
        ),
    }
}
