//! An in-memory store: the same traits without durability, for benchmarks that measure the
//! engine alone. It behaves as the durable stores do (the conformance suite,
//! `server/tests/conformance.rs`, runs the same tests on all three): a record's `seq` is
//! unique within its run, history reads come in `seq` order, listings break ties by creation
//! order, and an append to a run it does not hold fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use super::{
    Claimed, LabDocument, LabStore, LeaseHolder, OwnershipStore, Recorded, Replaced, RunStore,
    StoreError, StoredRun, WorkflowStore, WorkflowVersion,
};

pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    /// In creation order.
    workflows: Mutex<Vec<WorkflowRecord>>,
    runs: Mutex<HashMap<String, HeldRun>>,
    /// Runs created so far: each run's creation number.
    created: AtomicU64,
    batches: Mutex<Vec<Batch>>,
    loads: Mutex<Vec<LoadTest>>,
    /// Each process's lease: when it runs out (ms, this store's clock).
    leases: Mutex<HashMap<String, i64>>,
}

/// A run with its history, in `seq` order, and its creation number.
struct HeldRun {
    run: StoredRun,
    history: Vec<RunRecord>,
    no: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(Arc::new(SystemClock))
    }
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryStore {
            clock,
            workflows: Mutex::default(),
            runs: Mutex::default(),
            created: AtomicU64::new(0),
            batches: Mutex::default(),
            loads: Mutex::default(),
            leases: Mutex::default(),
        }
    }

    /// Total history records held (benchmarks check nothing was lost).
    pub fn record_count(&self) -> usize {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|held| held.history.len())
            .sum()
    }
}

#[async_trait]
impl WorkflowStore for MemoryStore {
    async fn insert_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
    ) -> Result<WorkflowRecord, StoreError> {
        let now = self.clock.now_ms();
        let record = WorkflowRecord {
            id: id.to_string(),
            created_at: now,
            updated_at: now,
            revision: 1,
            workflow: workflow.clone(),
        };
        let mut list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        if list.iter().any(|w| w.id == id) {
            return Err(refused(format!("a workflow with id {id} exists")));
        }
        list.push(record.clone());
        Ok(record)
    }

    async fn put_template(&self, id: &str, workflow: &Workflow) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let mut list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        match list.iter_mut().find(|w| w.id == id) {
            Some(w) if w.workflow != *workflow => {
                w.workflow = workflow.clone();
                w.revision += 1;
                w.updated_at = now;
            }
            Some(_) => {}
            None => list.push(WorkflowRecord {
                id: id.to_string(),
                created_at: now,
                updated_at: now,
                revision: 1,
                workflow: workflow.clone(),
            }),
        }
        Ok(())
    }

    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError> {
        let list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        // Most recently updated first; among equals, the newest created first.
        let mut order: Vec<(usize, &WorkflowRecord)> = list.iter().enumerate().collect();
        order.sort_by_key(|(i, w)| std::cmp::Reverse((w.updated_at, *i)));
        Ok(order
            .into_iter()
            .map(|(_, w)| WorkflowSummary {
                id: w.id.clone(),
                name: w.workflow.name.clone(),
                nodes: w.workflow.nodes.len(),
                edges: w.workflow.edges.len(),
                updated_at: w.updated_at,
            })
            .collect())
    }

    async fn get_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        Ok(list.iter().find(|w| w.id == id).cloned())
    }

    async fn update_workflow(
        &self,
        id: &str,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<Replaced, StoreError> {
        let mut list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        let Some(w) = list.iter_mut().find(|w| w.id == id) else {
            return Ok(Replaced::Missing);
        };
        if if_revision.is_some_and(|r| r != w.revision) {
            return Ok(Replaced::Stale {
                revision: w.revision,
            });
        }
        w.workflow = workflow.clone();
        w.revision += 1;
        w.updated_at = self.clock.now_ms();
        Ok(Replaced::Done(w.clone()))
    }

    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|b| b.workflow_id != id);
        self.loads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|l| l.workflow_id != id);
        let mut list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        let before = list.len();
        list.retain(|w| w.id != id);
        Ok(list.len() != before)
    }
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn create_run(
        &self,
        run: &StoredRun,
        _version: &Arc<WorkflowVersion>,
        first: &[Recorded],
    ) -> Result<(), StoreError> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if runs.contains_key(&run.id) {
            return Err(refused(format!("run {} exists", run.id)));
        }
        let mut held = HeldRun {
            run: run.clone(),
            history: Vec::new(),
            no: self.created.fetch_add(1, Ordering::Relaxed),
        };
        append(&mut held, first)?;
        runs.insert(run.id.clone(), held);
        Ok(())
    }

    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(runs.get(id).map(|held| held.run.clone()))
    }

    async fn running_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut running: Vec<&HeldRun> = runs
            .values()
            .filter(|held| held.run.status == RunStatus::Running)
            .collect();
        running.sort_by_key(|held| (held.run.started_at, held.no));
        Ok(running.into_iter().map(|held| held.run.clone()).collect())
    }

    async fn append_history(
        &self,
        run_id: &str,
        epoch: i64,
        records: &[Recorded],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let held = runs
            .get_mut(run_id)
            .ok_or_else(|| refused(format!("history for run {run_id}, which is not stored")))?;
        if held.run.epoch != epoch {
            return Err(StoreError::Fenced {
                run: run_id.to_string(),
                epoch,
            });
        }
        append(held, records)
    }

    async fn history_after(
        &self,
        run_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(runs
            .get(run_id)
            .map(|held| {
                let start = held.history.partition_point(|r| r.seq <= after);
                held.history[start..].iter().take(limit).cloned().collect()
            })
            .unwrap_or_default())
    }

    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut listed: Vec<&HeldRun> = runs
            .values()
            .filter(|held| held.run.workflow_id == workflow_id)
            .collect();
        listed.sort_by_key(|held| std::cmp::Reverse((held.run.started_at, held.no)));
        Ok(listed
            .into_iter()
            .take(limit)
            .map(
                |HeldRun {
                     run: r, history, ..
                 }| {
                    let end = history.iter().rev().find_map(|h| match &h.event {
                        RunEvent::RunCompleted {
                            messages,
                            diagnosis,
                            outcome,
                            ..
                        } => Some((*messages, diagnosis.clone(), outcome.clone())),
                        _ => None,
                    });
                    RunSummary {
                        id: r.id.clone(),
                        workflow_id: r.workflow_id.clone(),
                        status: r.status,
                        started_at: r.started_at,
                        ended_at: r.ended_at,
                        messages: end.as_ref().map(|e| e.0),
                        input: r.input.clone(),
                        outcome: end.as_ref().and_then(|e| e.2.clone()),
                        diagnosis: end.and_then(|e| e.1),
                        speed: Some(r.speed),
                    }
                },
            )
            .collect())
    }

    async fn delete_ended_runs(
        &self,
        prefix: &str,
        keep: &str,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = runs
            .iter()
            .filter(|(_, held)| {
                held.run.workflow_id.starts_with(prefix)
                    && !held.run.workflow_id.starts_with(keep)
                    && held.run.status != RunStatus::Running
            })
            .map(|(id, _)| id.clone())
            .take(limit)
            .collect();
        for id in &gone {
            runs.remove(id);
        }
        Ok(gone.len() as u64)
    }

    async fn prune_runs(&self, keep: usize, limit: usize) -> Result<u64, StoreError> {
        let workflows: std::collections::HashSet<String> = self
            .workflows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|w| w.id.clone())
            .collect();
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        // Ended runs of each workflow, oldest created first.
        let mut by_workflow: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
        for (id, held) in runs.iter() {
            if held.run.status != RunStatus::Running
                && !held
                    .run
                    .workflow_id
                    .starts_with(crate::lab::LOAD_RUNS_PREFIX)
            {
                by_workflow
                    .entry(held.run.workflow_id.as_str())
                    .or_default()
                    .push((held.no, id.as_str()));
            }
        }
        let mut gone: Vec<String> = Vec::new();
        for (workflow_id, mut ended) in by_workflow {
            ended.sort_unstable();
            let past = if !workflows.contains(workflow_id) {
                ended.len()
            } else if keep > 0 {
                ended.len().saturating_sub(keep)
            } else {
                0
            };
            gone.extend(ended[..past].iter().map(|(_, id)| id.to_string()));
        }
        gone.truncate(limit);
        for id in &gone {
            runs.remove(id);
        }
        Ok(gone.len() as u64)
    }
}

#[async_trait]
impl OwnershipStore for MemoryStore {
    async fn renew_lease(&self, process: &str, lease: Duration) -> Result<(), StoreError> {
        let until = self.clock.now_ms() + lease.as_millis().min(i64::MAX as u128 / 2) as i64;
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(process.to_string(), until);
        Ok(())
    }

    async fn end_lease(&self, process: &str) -> Result<(), StoreError> {
        if let Some(until) = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(process)
        {
            *until = 0;
        }
        Ok(())
    }

    async fn claim_runs(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        let now = self.clock.now_ms();
        let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut claimable: Vec<&mut HeldRun> = runs
            .values_mut()
            .filter(|held| {
                held.run.status == RunStatus::Running
                    && match held.run.owner.as_deref() {
                        None => true,
                        Some(owner) if owner == process => own,
                        Some(owner) => leases.get(owner).is_none_or(|until| *until < now),
                    }
            })
            .collect();
        claimable.sort_by_key(|held| held.no);
        Ok(claimable
            .into_iter()
            .take(limit)
            .map(|held| {
                let previous = held.run.owner.replace(process.to_string());
                held.run.epoch += 1;
                Claimed {
                    run: held.run.clone(),
                    previous,
                }
            })
            .collect())
    }

    async fn lease_holders(&self) -> Result<Vec<LeaseHolder>, StoreError> {
        let now = self.clock.now_ms();
        let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut holders: Vec<LeaseHolder> = leases
            .iter()
            .filter(|(_, until)| **until >= now)
            .map(|(process, until)| LeaseHolder {
                process: process.clone(),
                lease_until: *until,
                runs: runs
                    .values()
                    .filter(|held| {
                        held.run.status == RunStatus::Running
                            && held.run.owner.as_deref() == Some(process)
                    })
                    .count() as u64,
            })
            .collect();
        holders.sort_by(|a, b| a.process.cmp(&b.process));
        Ok(holders)
    }
}

/// Adds `records` to the run's history, all or none: a `seq` the run already holds (or that
/// repeats within `records`) is refused, as the durable stores' unique key refuses it.
fn append(held: &mut HeldRun, records: &[Recorded]) -> Result<(), StoreError> {
    let mut seqs: Vec<u64> = records.iter().map(|r| r.record.seq).collect();
    seqs.sort_unstable();
    if let Some(seq) = seqs
        .windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .or_else(|| {
            seqs.iter()
                .copied()
                .find(|seq| held.history.binary_search_by_key(seq, |r| r.seq).is_ok())
        })
    {
        return Err(refused(format!(
            "run {} already has a record with seq {seq}",
            held.run.id
        )));
    }
    for Recorded { record, .. } in records {
        if let RunEvent::RunCompleted { status, .. } = &record.event {
            held.run.status = *status;
            held.run.ended_at = Some(record.at_ms);
        }
        let at = held.history.partition_point(|r| r.seq < record.seq);
        held.history.insert(at, record.clone());
    }
    Ok(())
}

/// The error a durable store's constraint would give.
fn refused(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(what))
}

#[async_trait]
impl LabStore for MemoryStore {
    async fn save_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        save(&self.batches, batch);
        Ok(())
    }

    async fn get_batch(&self, id: &str) -> Result<Option<Batch>, StoreError> {
        Ok(get(&self.batches, id))
    }

    async fn list_batches(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<Batch>, StoreError> {
        Ok(list(&self.batches, workflow_id, limit))
    }

    async fn running_batches(&self) -> Result<Vec<Batch>, StoreError> {
        let batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        Ok(batches
            .iter()
            .filter(|b| b.state == app::model::lab::BatchState::Running)
            .cloned()
            .collect())
    }

    async fn save_load(&self, test: &LoadTest) -> Result<(), StoreError> {
        save(&self.loads, test);
        Ok(())
    }

    async fn running_loads(&self) -> Result<Vec<LoadTest>, StoreError> {
        let loads = self.loads.lock().unwrap_or_else(|p| p.into_inner());
        let mut running: Vec<LoadTest> = loads
            .iter()
            .filter(|l| l.state == app::model::lab::BatchState::Running)
            .cloned()
            .collect();
        running.sort_by_key(|l| l.created_at);
        Ok(running)
    }

    async fn get_load(&self, id: &str) -> Result<Option<LoadTest>, StoreError> {
        Ok(get(&self.loads, id))
    }

    async fn list_loads(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<LoadTest>, StoreError> {
        Ok(list(&self.loads, workflow_id, limit))
    }
}

fn save<T: LabDocument>(docs: &Mutex<Vec<T>>, doc: &T) {
    let mut docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    match docs.iter_mut().find(|d| d.id() == doc.id()) {
        // A replaced document keeps its place (its row, in a durable store).
        Some(held) => *held = doc.clone(),
        None => docs.push(doc.clone()),
    }
}

fn get<T: LabDocument>(docs: &Mutex<Vec<T>>, id: &str) -> Option<T> {
    let docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    docs.iter().find(|d| d.id() == id).cloned()
}

fn list<T: LabDocument>(docs: &Mutex<Vec<T>>, workflow_id: &str, limit: usize) -> Vec<T> {
    let docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    let mut found: Vec<T> = docs
        .iter()
        .filter(|d| d.workflow_id() == workflow_id)
        .cloned()
        .collect();
    // Newest first; among equals, the last stored first (found is in storing order).
    found.reverse();
    found.sort_by_key(|d| std::cmp::Reverse(d.created_at()));
    found.truncate(limit);
    found
}
