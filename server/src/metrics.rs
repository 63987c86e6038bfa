//! `GET /metrics` in Prometheus text format: runs by status, step executions, messages by
//! kind, history write latency and open WebSockets; and what a process sharing its store
//! with others sees: its lease's margin, whether it fenced itself, writes refused by
//! fencing, runs taken over and lost, resumes that failed, deliveries made again. The
//! engine and the API update the counters as things happen; rendering only reads them.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use app::model::{MessageCounts, RunStatus};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

pub struct Metrics {
    registry: Registry,
    runs_started: Counter,
    runs_ended: Family<StatusLabel, Counter>,
    runs_in_progress: Gauge,
    step_executions: Counter,
    messages: Family<KindLabel, Counter>,
    history_write_seconds: Histogram,
    websockets_open: Gauge,
    stream_catch_ups: Counter,
    runs_lost: Counter,
    runs_taken_over: Counter,
    writes_fenced: Counter,
    resumes_failed: Counter,
    deliveries_again: Counter,
    deliveries_here: Counter,
    lease_margin_seconds: Gauge<f64, AtomicU64>,
    self_fenced: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hybridflow");
        let m = Metrics {
            runs_started: Counter::default(),
            runs_ended: Family::default(),
            runs_in_progress: Gauge::default(),
            step_executions: Counter::default(),
            messages: Family::default(),
            // 0.1 ms .. ~3.3 s
            history_write_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            websockets_open: Gauge::default(),
            stream_catch_ups: Counter::default(),
            runs_lost: Counter::default(),
            runs_taken_over: Counter::default(),
            writes_fenced: Counter::default(),
            resumes_failed: Counter::default(),
            deliveries_again: Counter::default(),
            deliveries_here: Counter::default(),
            lease_margin_seconds: Gauge::default(),
            self_fenced: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("runs_started", "Runs started", m.runs_started.clone());
        registry.register(
            "runs_ended",
            "Runs ended, by final status",
            m.runs_ended.clone(),
        );
        registry.register(
            "runs_in_progress",
            "Runs being driven by this process",
            m.runs_in_progress.clone(),
        );
        registry.register(
            "step_executions",
            "Step attempts started",
            m.step_executions.clone(),
        );
        registry.register(
            "messages",
            "Messages of ended runs, by kind (command, reply, event, delivery)",
            m.messages.clone(),
        );
        registry.register(
            "history_write_seconds",
            "Time from handing history records to the store to their being durable",
            m.history_write_seconds.clone(),
        );
        registry.register(
            "websockets_open",
            "Open WebSocket connections (run streams and the runs feed)",
            m.websockets_open.clone(),
        );
        registry.register(
            "stream_catch_ups",
            "Times a run stream fell behind the live buffer and caught up from the stored history",
            m.stream_catch_ups.clone(),
        );
        registry.register(
            "runs_lost",
            "Runs this process stopped driving because another process claimed them (its lease had run out)",
            m.runs_lost.clone(),
        );
        registry.register(
            "runs_taken_over",
            "Runs this process claimed from another process whose lease had run out",
            m.runs_taken_over.clone(),
        );
        registry.register(
            "writes_fenced",
            "History writes refused because the run was claimed by another process (or deleted) since this one held it",
            m.writes_fenced.clone(),
        );
        registry.register(
            "resumes_failed",
            "Tries to resume a claimed run that failed (each is tried again, then the run is released)",
            m.resumes_failed.clone(),
        );
        registry.register(
            "deliveries_again",
            "Event deliveries published again because they were overdue on the bus",
            m.deliveries_again.clone(),
        );
        registry.register(
            "deliveries_here",
            "Event deliveries made in this process after the bus failed to deliver them",
            m.deliveries_here.clone(),
        );
        registry.register(
            "lease_margin_seconds",
            "How long this process's lease still holds unless renewed (0 when it has run out)",
            m.lease_margin_seconds.clone(),
        );
        registry.register(
            "self_fenced",
            "1 while this process stops acting on its runs because it could not renew its lease in time",
            m.self_fenced.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn run_started(&self) {
        self.runs_started.inc();
        self.runs_in_progress.inc();
    }

    /// A run claimed here is driven again (`taken`: from another process).
    pub fn run_resumed(&self, taken: bool) {
        self.runs_in_progress.inc();
        if taken {
            self.runs_taken_over.inc();
        }
    }

    /// A run driven here stopped without ending (shutdown, or its writes failed for good).
    pub fn run_stopped(&self) {
        self.runs_in_progress.dec();
    }

    pub fn write_fenced(&self) {
        self.writes_fenced.inc();
    }

    pub fn resume_failed(&self) {
        self.resumes_failed.inc();
    }

    pub fn delivery_again(&self) {
        self.deliveries_again.inc();
    }

    pub fn delivery_here(&self) {
        self.deliveries_here.inc();
    }

    /// The lease as it stands now (set before rendering).
    pub fn lease(&self, margin: std::time::Duration, fenced: bool) {
        self.lease_margin_seconds.set(margin.as_secs_f64());
        self.self_fenced.set(i64::from(fenced));
    }

    /// A run driven here went to another process.
    pub fn run_lost(&self) {
        self.runs_in_progress.dec();
        self.runs_lost.inc();
    }

    pub fn run_ended(&self, status: RunStatus, messages: &MessageCounts) {
        self.runs_in_progress.dec();
        self.runs_ended
            .get_or_create(&StatusLabel {
                status: status.as_str().to_string(),
            })
            .inc();
        for (kind, n) in [
            ("command", messages.commands),
            ("reply", messages.replies),
            ("event", messages.events),
            ("delivery", messages.deliveries),
            ("query", messages.queries),
        ] {
            self.messages
                .get_or_create(&KindLabel { kind: kind.into() })
                .inc_by(n);
        }
    }

    pub fn steps_executed(&self, n: u64) {
        if n > 0 {
            self.step_executions.inc_by(n);
        }
    }

    pub fn history_written(&self, seconds: f64) {
        self.history_write_seconds.observe(seconds);
    }

    pub fn websocket_opened(&self) {
        self.websockets_open.inc();
    }

    pub fn websocket_closed(&self) {
        self.websockets_open.dec();
    }

    pub fn stream_caught_up(&self) {
        self.stream_catch_ups.inc();
    }

    pub fn websockets_open(&self) -> i64 {
        self.websockets_open.get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
