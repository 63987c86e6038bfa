//! Engine benchmarks: `cargo bench -p server --bench engine`. Prints its numbers.
//!
//! 1. In-memory history, 1,000 concurrent runs of a 10-step command chain, zero latency:
//!    step completions per second; the same as an event chain: deliveries per second.
//! 2. SQLite history (WAL, synchronous=FULL, group commit), the same command chain: step
//!    completions per second and the time from a step's completion to its history being
//!    durable (p50/p99). Then the same on PostgreSQL (the project's, started by
//!    `server/services/postgres.sh` if needed; a fresh schema). `BENCH_ONLY=sqlite` or
//!    `postgres` for one of them.
//! 3. Memory: 10,000 runs of a 10-node workflow in flight at once: resident memory.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{parse_workflow, RunEvent, RunRecord, Workflow};
use async_trait::async_trait;
use serde_json::json;
use server::clock::{Clock, SystemClock};
use server::engine::{Engine, RunOptions};
use server::store::{
    CancelStored, Claimed, LabClaim, LabSaved, LabStore, LeaseHolder, MemoryStore, OwnershipStore,
    Recorded, Replaced, RunStore, SqlStore, Store, StoreError, StoredRun, WorkflowStore,
    WorkflowVersion,
};

/// Step completions per second through a durable store, with the time from a step's
/// completion to its record being durable: saturated (zero-latency steps, five rounds) and
/// paced.
async fn durable<S: Store + 'static>(label: &str, store: S, clock: &Arc<dyn Clock>) {
    let timed = Arc::new(Timed {
        inner: store,
        latencies: Mutex::new(Vec::new()),
    });
    let engine = Engine::new(timed.clone() as Arc<dyn Store>, clock.clone());
    // Its lease first: a process on a shared store takes no runs without one.
    engine.recover().await.expect("the lease");
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        timed.latencies.lock().unwrap().clear();
        let elapsed = run_all(&engine, &chain("command", 0), RUNS).await;
        let mut latencies = timed.latencies.lock().unwrap().clone();
        latencies.sort();
        rounds.push((
            (RUNS * STEPS) as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        ));
    }
    let mut by_rate = rounds.clone();
    by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, p50, p99) = by_rate[ROUNDS / 2];
    println!(
        "{label} command chain: median round {rate:.0} step completions/s, completion -> durable p50 {p50:.1} ms, p99 {p99:.1} ms"
    );
    // The same load paced: each step takes 12 to 32 ms (22 on average, drawn per step so the
    // runs do not march in lockstep), so 1,000 runs complete about 30,000 steps/s without
    // saturating the writer; latency is then the commit's own.
    timed.latencies.lock().unwrap().clear();
    let elapsed = run_all(&engine, &chain("command", [12, 32]), RUNS).await;
    let mut latencies = timed.latencies.lock().unwrap().clone();
    latencies.sort();
    println!(
        "{label} paced (steps of 12-32 ms): {:.0} step completions/s, completion -> durable p50 {:.1} ms, p99 {:.1} ms",
        (RUNS * STEPS) as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    println!(
        "  saturated rounds (completions/s, p50 ms, p99 ms): {}",
        rounds
            .iter()
            .map(|(r, a, b)| format!("({r:.0}, {a:.1}, {b:.1})"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 1_000;
const STEPS: usize = 10;
const ROUNDS: usize = 5;

fn chain(kind: &str, latency_ms: impl Into<serde_json::Value> + Copy) -> Workflow {
    let nodes: Vec<_> = (0..STEPS)
        .map(|i| json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": "S", "action": "a", "latency_ms": latency_ms.into()}))
        .collect();
    let edges: Vec<_> = (1..STEPS)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": kind}))
        .collect();
    parse_workflow(
        json!({"name": "bench", "nodes": nodes, "edges": edges})
            .to_string()
            .as_bytes(),
    )
    .expect("valid")
}

/// Starts `runs` runs at once (as concurrent requests would) and waits for all to end.
async fn run_all(engine: &Arc<Engine>, workflow: &Workflow, runs: usize) -> Duration {
    let version = WorkflowVersion::new(workflow.clone());
    let started = Instant::now();
    let starts = (0..runs).map(|seed| {
        engine.start_run(
            "bench",
            version.clone(),
            RunOptions::new(json!({}), seed as u64, 1.0),
        )
    });
    for started in futures::future::join_all(starts).await {
        started.expect("start");
    }
    while engine.hub().open_runs() > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    started.elapsed()
}

/// Times every append until it is durable.
struct Timed<S> {
    inner: S,
    latencies: Mutex<Vec<Duration>>,
}

#[async_trait]
impl<S: WorkflowStore> WorkflowStore for Timed<S> {
    async fn insert_workflow(&self, id: &str, w: &Workflow) -> Result<WorkflowRecord, StoreError> {
        self.inner.insert_workflow(id, w).await
    }
    async fn put_template(&self, id: &str, w: &Workflow) -> Result<(), StoreError> {
        self.inner.put_template(id, w).await
    }
    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError> {
        self.inner.list_workflows().await
    }
    async fn get_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        self.inner.get_workflow(id).await
    }
    async fn update_workflow(
        &self,
        id: &str,
        w: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError> {
        self.inner.update_workflow(id, w, if_revision).await
    }
    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.delete_workflow(id).await
    }
}

#[async_trait]
impl<S: LabStore> LabStore for Timed<S> {
    async fn insert_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        self.inner.insert_batch(batch).await
    }
    async fn save_batch(&self, batch: &Batch, epoch: i64) -> Result<LabSaved, StoreError> {
        self.inner.save_batch(batch, epoch).await
    }
    async fn get_batch(&self, id: &str) -> Result<Option<Batch>, StoreError> {
        self.inner.get_batch(id).await
    }
    async fn list_batches(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<Batch>, StoreError> {
        self.inner.list_batches(workflow_id, limit).await
    }
    async fn claim_batches(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<LabClaim<Batch>>, StoreError> {
        self.inner.claim_batches(process, own, limit).await
    }
    async fn cancel_batch(&self, id: &str) -> Result<CancelStored, StoreError> {
        self.inner.cancel_batch(id).await
    }
    async fn insert_load(&self, test: &LoadTest) -> Result<bool, StoreError> {
        self.inner.insert_load(test).await
    }
    async fn save_load(&self, test: &LoadTest, epoch: i64) -> Result<LabSaved, StoreError> {
        self.inner.save_load(test, epoch).await
    }
    async fn get_load(&self, id: &str) -> Result<Option<LoadTest>, StoreError> {
        self.inner.get_load(id).await
    }
    async fn list_loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError> {
        self.inner.list_loads(workflow_id, limit).await
    }
    async fn cancel_load(&self, id: &str) -> Result<CancelStored, StoreError> {
        self.inner.cancel_load(id).await
    }
}

#[async_trait]
impl<S: OwnershipStore> OwnershipStore for Timed<S> {
    async fn renew_lease(&self, process: &str, lease: Duration) -> Result<(), StoreError> {
        self.inner.renew_lease(process, lease).await
    }
    async fn end_lease(&self, process: &str) -> Result<(), StoreError> {
        self.inner.end_lease(process).await
    }
    async fn claim_runs(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.inner.claim_runs(process, own, limit).await
    }
    async fn release_run(
        &self,
        run_id: &str,
        process: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        self.inner.release_run(run_id, process, epoch).await
    }
    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError> {
        self.inner.lease_holders().await
    }
}

#[async_trait]
impl<S: RunStore> RunStore for Timed<S> {
    /// A run of steps that take no time is created with all its records: timed as well.
    async fn create_run(
        &self,
        run: &StoredRun,
        version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.create_run(run, version, first).await;
        if first
            .iter()
            .any(|r| matches!(r.record.event, RunEvent::StepSucceeded { .. }))
        {
            self.latencies.lock().unwrap().push(start.elapsed());
        }
        result
    }
    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        self.inner.get_run(id).await
    }
    async fn running_runs(&self, workflow_id: &str) -> Result<Vec<String>, StoreError> {
        self.inner.running_runs(workflow_id).await
    }
    /// Measures the appends that record a step's completion: from the completion to its
    /// rows being durable (run creation and first records are not step completions).
    async fn append_history(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.append_history(run_id, epoch, records).await;
        if records
            .iter()
            .any(|r| matches!(r.record.event, RunEvent::StepSucceeded { .. }))
        {
            self.latencies.lock().unwrap().push(start.elapsed());
        }
        result
    }
    async fn history_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.history_after(run_id, after, limit).await
    }
    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        self.inner.list_runs(workflow_id, limit).await
    }
    async fn delete_load_runs(&self, keep: &str, limit: usize) -> Result<u64, StoreError> {
        self.inner.delete_load_runs(keep, limit).await
    }
    async fn delete_lab_runs(&self, prefix: &str, limit: usize) -> Result<u64, StoreError> {
        self.inner.delete_lab_runs(prefix, limit).await
    }
    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError> {
        self.inner.prune_runs(keep, limit).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

impl<S: Store> Store for Timed<S> {
    fn is_shared(&self) -> bool {
        self.inner.is_shared()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    println!("engine benchmark: {RUNS} concurrent runs x {STEPS} steps, zero simulated latency");

    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for (kind, what) in [("command", "step completions"), ("event", "deliveries")] {
        if !only.is_empty() && only != "memory-history" {
            break;
        }
        // Five rounds each: the median is robust to a noisy neighbour on the machine.
        let mut rates = Vec::new();
        for _ in 0..ROUNDS {
            let store = Arc::new(MemoryStore::default());
            let engine = Engine::new(store.clone() as Arc<dyn Store>, clock.clone());
            let elapsed = run_all(&engine, &chain(kind, 0), RUNS).await;
            let count = if kind == "command" {
                RUNS * STEPS
            } else {
                RUNS * (STEPS - 1)
            };
            assert_eq!(
                store.record_count(),
                RUNS * if kind == "command" { 41 } else { 40 }
            );
            rates.push(count as f64 / elapsed.as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "in-memory {kind} chain: median {:>7.0} {what}/s (rounds: {})",
            rates[ROUNDS / 2],
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    if only.is_empty() || only == "sqlite" {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bench.db").display().to_string();
        let sqlite = SqlStore::open(&path, clock.clone()).await.expect("open");
        durable(
            "sqlite (WAL, synchronous=FULL, group commit)",
            sqlite,
            &clock,
        )
        .await;
    }
    if only.is_empty() || only == "postgres" {
        // The project's PostgreSQL (started if needed), a fresh schema.
        let parts = support::ClusterParts::new("engine").await;
        let postgres = SqlStore::open(&parts.database, clock.clone())
            .await
            .expect("connect");
        durable(
            "postgres (synchronous_commit=on, group commit)",
            postgres,
            &clock,
        )
        .await;
        parts.remove().await;
    }

    if !only.is_empty() {
        return;
    }
    let before = support::resident_mb();
    let store = Arc::new(MemoryStore::default());
    let engine = Engine::new(store as Arc<dyn Store>, clock.clone());
    let slow = chain("command", 600_000);
    for seed in 0..10_000u64 {
        engine
            .start_run(
                "bench",
                WorkflowVersion::new(slow.clone()),
                RunOptions::new(json!({}), seed, 1.0),
            )
            .await
            .expect("start");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_empty_inputs = support::resident_mb();
    println!(
        "memory: 10000 runs of a {STEPS}-node workflow in flight ({} open): resident {with_empty_inputs:.0} MB (process was {:.0} MB before)",
        engine.hub().open_runs(),
        before
    );
    // The same with every run's input at the limit (16 KiB of small values, the costliest
    // shape in memory): what a run in progress holds of its own input.
    let input = {
        let mut fields = serde_json::Map::new();
        let mut i = 0;
        while serde_json::to_string(&fields).unwrap().len() + 16
            < app::model::api::MAX_RUN_INPUT_BYTES
        {
            fields.insert(format!("k{i}"), json!(i));
            i += 1;
        }
        serde_json::Value::Object(fields)
    };
    let store = Arc::new(MemoryStore::default());
    let engine = Engine::new(store as Arc<dyn Store>, clock.clone());
    let version = WorkflowVersion::new(slow.clone());
    for seed in 0..1_000u64 {
        engine
            .start_run(
                "bench",
                version.clone(),
                RunOptions::new(input.clone(), seed, 1.0),
            )
            .await
            .expect("start");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_inputs = support::resident_mb();
    println!(
        "memory: 1000 more runs, each with a {} byte input ({} fields): resident {with_inputs:.0} MB, {:.1} KiB per run",
        serde_json::to_string(&input).unwrap().len(),
        input.as_object().unwrap().len(),
        (with_inputs - with_empty_inputs) * 1024.0 / 1000.0
    );
}
