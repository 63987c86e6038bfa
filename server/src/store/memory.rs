//! An in-memory store: the same traits without durability, for benchmarks that measure the
//! engine alone. It behaves as the durable stores do (the conformance suite,
//! `server/tests/it/conformance.rs`, runs the same tests on all three): a record's `seq` is
//! unique within its run, history reads come in `seq` order, listings break ties by creation
//! order, and an append to a run it does not hold fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, BatchState, LoadTest};
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use super::{
    CancelStored, Claimed, LabClaim, LabDocument, LabSaved, LabStore, LeaseHolder, OwnershipStore,
    Recorded, Replaced, RunKind, RunStore, Store, StoreError, StoredRun, WorkflowStore,
    WorkflowVersion, FIRST_EPOCH,
};

pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    /// In creation order.
    workflows: Mutex<Vec<WorkflowRecord>>,
    runs: Mutex<HashMap<String, HeldRun>>,
    /// Runs created so far: each run's creation number.
    created: AtomicU64,
    batches: Mutex<Vec<Held<Batch>>>,
    loads: Mutex<Vec<Held<LoadTest>>>,
    /// Each process's lease: when it runs out (ms, this store's clock).
    leases: Mutex<HashMap<String, i64>>,
}

/// A lab document with its epoch and whether a cancel was stored for it.
struct Held<T> {
    doc: T,
    epoch: i64,
    cancel_requested: bool,
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
            return Err(StoreError::Duplicate {
                what: "workflow",
                id: id.to_string(),
            });
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
        Ok(Replaced::Done(Box::new(w.clone())))
    }

    async fn delete_workflow(&self, id: &str) -> Result<bool, StoreError> {
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|b| b.doc.workflow_id != id);
        self.loads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|l| l.doc.workflow_id != id);
        let mut list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        let before = list.len();
        list.retain(|w| w.id != id);
        Ok(list.len() != before)
    }
}

impl MemoryStore {
    /// Deletes up to `limit` ended runs that `picked` picks; returns how many went.
    fn delete_ended(&self, limit: usize, picked: impl Fn(&StoredRun) -> bool) -> u64 {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = runs
            .iter()
            .filter(|(_, held)| held.run.status != RunStatus::Running && picked(&held.run))
            .map(|(id, _)| id.clone())
            .take(limit)
            .collect();
        for id in &gone {
            runs.remove(id);
        }
        gone.len() as u64
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
            return Err(StoreError::Duplicate {
                what: "run",
                id: run.id.clone(),
            });
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

    async fn running_runs(&self, workflow_id: &str) -> Result<Vec<String>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(runs
            .values()
            .filter(|held| {
                held.run.status == RunStatus::Running && held.run.workflow_id == workflow_id
            })
            .map(|held| held.run.id.clone())
            .collect())
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
        // A run that is gone (deleted while a stale owner still drove it) fences its writer.
        let held = runs.get_mut(run_id).filter(|held| held.run.epoch == epoch);
        let Some(held) = held else {
            return Err(StoreError::Fenced {
                run: run_id.to_string(),
                epoch,
            });
        };
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
                        parent: r.parent.clone(),
                        children: {
                            let mut children: Vec<&HeldRun> = runs
                                .values()
                                .filter(|c| c.run.parent.as_ref().is_some_and(|p| p.run == r.id))
                                .collect();
                            children.sort_by_key(|c| (c.run.started_at, c.no));
                            children.into_iter().map(|c| c.run.id.clone()).collect()
                        },
                    }
                },
            )
            .collect())
    }

    async fn delete_load_runs(&self, keep: &str, limit: usize) -> Result<u64, StoreError> {
        Ok(self.delete_ended(limit, |run| {
            run.kind == RunKind::Load && !run.workflow_id.starts_with(keep)
        }))
    }

    async fn delete_lab_runs(&self, prefix: &str, limit: usize) -> Result<u64, StoreError> {
        Ok(self.delete_ended(limit, |run| {
            run.kind == RunKind::Lab && run.workflow_id.starts_with(prefix)
        }))
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
        // Ended runs of each workflow, oldest created first; never a child whose parent
        // still runs (its saga may yet undo it, reading the child's history).
        let parent_runs = |held: &HeldRun| {
            held.run.parent.as_ref().is_some_and(|p| {
                runs.get(&p.run)
                    .is_some_and(|parent| parent.run.status == RunStatus::Running)
            })
        };
        let mut by_workflow: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
        for (id, held) in runs.iter() {
            if held.run.status != RunStatus::Running
                && held.run.kind == RunKind::Run
                && !parent_runs(held)
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

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
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

    async fn release_run(
        &self,
        run_id: &str,
        process: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        match runs.get_mut(run_id) {
            Some(held)
                if held.run.owner.as_deref() == Some(process)
                    && held.run.epoch == epoch
                    && held.run.status == RunStatus::Running =>
            {
                held.run.owner = None;
                Ok(true)
            }
            _ => Ok(false),
        }
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
        return Err(StoreError::Duplicate {
            what: "history record",
            id: format!("{}/{seq}", held.run.id),
        });
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

#[async_trait]
impl LabStore for MemoryStore {
    async fn insert_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        insert(&self.batches, batch)
    }

    async fn save_batch(&self, batch: &Batch, epoch: i64) -> Result<LabSaved, StoreError> {
        Ok(save(&self.batches, batch, epoch))
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

    async fn claim_batches(
        &self,
        process: &str,
        own: bool,
        limit: usize,
    ) -> Result<Vec<LabClaim<Batch>>, StoreError> {
        let claimable = self.claimable(process, own);
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        Ok(batches
            .iter_mut()
            .filter(|held| {
                held.doc.state == BatchState::Running && claimable(held.doc.owner.as_deref())
            })
            .take(limit)
            .map(|held| {
                held.doc.owner = Some(process.to_string());
                held.epoch += 1;
                LabClaim {
                    doc: held.doc.clone(),
                    epoch: held.epoch,
                    cancel_requested: held.cancel_requested,
                }
            })
            .collect())
    }

    async fn cancel_batch(&self, id: &str) -> Result<CancelStored, StoreError> {
        Ok(cancel(&self.batches, id))
    }

    async fn insert_load(&self, test: &LoadTest) -> Result<bool, StoreError> {
        let claimable = self.claimable("", false);
        let mut loads = self.loads.lock().unwrap_or_else(|p| p.into_inner());
        for held in loads.iter_mut() {
            if held.doc.state == BatchState::Running && claimable(held.doc.owner.as_deref()) {
                held.doc.state = BatchState::Cancelled;
                held.epoch += 1;
            }
        }
        if loads
            .iter()
            .any(|held| held.doc.state == BatchState::Running)
        {
            return Ok(false);
        }
        loads.push(Held {
            doc: test.clone(),
            epoch: FIRST_EPOCH,
            cancel_requested: false,
        });
        Ok(true)
    }

    async fn save_load(&self, test: &LoadTest, epoch: i64) -> Result<LabSaved, StoreError> {
        Ok(save(&self.loads, test, epoch))
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

    async fn cancel_load(&self, id: &str) -> Result<CancelStored, StoreError> {
        Ok(cancel(&self.loads, id))
    }
}

impl Store for MemoryStore {}

impl MemoryStore {
    /// Whether `process` may claim what `owner` holds: unowned, its own (`own`), or an
    /// owner whose lease ran out.
    fn claimable(&self, process: &str, own: bool) -> impl Fn(Option<&str>) -> bool {
        let now = self.clock.now_ms();
        let leases = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let process = process.to_string();
        move |owner| match owner {
            None => true,
            Some(owner) if owner == process => own,
            Some(owner) => leases.get(owner).is_none_or(|until| *until < now),
        }
    }
}

fn insert<T: LabDocument>(docs: &Mutex<Vec<Held<T>>>, doc: &T) -> Result<(), StoreError> {
    let mut docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    if docs.iter().any(|d| d.doc.id() == doc.id()) {
        return Err(StoreError::Duplicate {
            what: T::WHAT,
            id: doc.id().to_string(),
        });
    }
    docs.push(Held {
        doc: doc.clone(),
        epoch: FIRST_EPOCH,
        cancel_requested: false,
    });
    Ok(())
}

fn save<T: LabDocument>(docs: &Mutex<Vec<Held<T>>>, doc: &T, epoch: i64) -> LabSaved {
    let mut docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    // A replaced document keeps its place (its row, in a durable store).
    let Some(held) = docs
        .iter_mut()
        .find(|d| d.doc.id() == doc.id() && d.epoch == epoch)
    else {
        return LabSaved::Fenced;
    };
    held.doc = doc.clone();
    if held.cancel_requested && doc.state() != BatchState::Running {
        held.doc.set_state(BatchState::Cancelled);
    }
    if held.cancel_requested {
        LabSaved::CancelRequested
    } else {
        LabSaved::Saved
    }
}

fn cancel<T: LabDocument>(docs: &Mutex<Vec<Held<T>>>, id: &str) -> CancelStored {
    let mut docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    match docs.iter_mut().find(|d| d.doc.id() == id) {
        Some(held) if held.doc.state() == BatchState::Running => {
            held.cancel_requested = true;
            CancelStored::Stored {
                owner: held.doc.owner().map(str::to_string),
            }
        }
        Some(held) => CancelStored::Ended(held.doc.state()),
        None => CancelStored::Missing,
    }
}

fn get<T: LabDocument>(docs: &Mutex<Vec<Held<T>>>, id: &str) -> Option<T> {
    let docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    docs.iter()
        .find(|d| d.doc.id() == id)
        .map(|d| d.doc.clone())
}

fn list<T: LabDocument>(docs: &Mutex<Vec<Held<T>>>, workflow_id: &str, limit: usize) -> Vec<T> {
    let docs = docs.lock().unwrap_or_else(|p| p.into_inner());
    let mut found: Vec<T> = docs
        .iter()
        .filter(|d| d.doc.workflow_id() == workflow_id)
        .map(|d| d.doc.clone())
        .collect();
    // Newest first; among equals, the last stored first (found is in storing order).
    found.reverse();
    found.sort_by_key(|d| std::cmp::Reverse(d.created_at()));
    found.truncate(limit);
    found
}
