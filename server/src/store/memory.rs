//! An in-memory store: the same traits without durability, for benchmarks that measure the
//! engine alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::model::api::{RunSummary, WorkflowRecord, WorkflowSummary};
use app::model::lab::{Batch, LoadTest};
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use async_trait::async_trait;

use super::{
    LabDocument, LabStore, Recorded, Replaced, RunStore, StoreError, StoredRun, WorkflowStore,
    WorkflowVersion,
};

#[derive(Default)]
pub struct MemoryStore {
    workflows: Mutex<Vec<WorkflowRecord>>,
    runs: Mutex<HashMap<String, (StoredRun, Vec<RunRecord>)>>,
    batches: Mutex<Vec<Batch>>,
    loads: Mutex<Vec<LoadTest>>,
}

impl MemoryStore {
    /// Total history records held (benchmarks check nothing was lost).
    pub fn record_count(&self) -> usize {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|(_, h)| h.len())
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
        let record = WorkflowRecord {
            id: id.to_string(),
            created_at: 0,
            updated_at: 0,
            revision: 1,
            workflow: workflow.clone(),
        };
        self.workflows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
        Ok(record)
    }

    async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>, StoreError> {
        let list = self.workflows.lock().unwrap_or_else(|p| p.into_inner());
        Ok(list
            .iter()
            .map(|w| WorkflowSummary {
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
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run.id.clone(), (run.clone(), Vec::new()));
        self.append_history(&run.id, first).await
    }

    async fn get_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(runs.get(id).map(|(r, _)| r.clone()))
    }

    async fn running_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(runs
            .values()
            .filter(|(r, _)| r.status == RunStatus::Running)
            .map(|(r, _)| r.clone())
            .collect())
    }

    async fn append_history(&self, run_id: &str, records: &[Recorded]) -> Result<(), StoreError> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((run, history)) = runs.get_mut(run_id) {
            for Recorded { record, .. } in records {
                if let RunEvent::RunCompleted { status, .. } = &record.event {
                    run.status = *status;
                    run.ended_at = Some(record.at_ms);
                }
                history.push(record.clone());
            }
        }
        Ok(())
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
            .map(|(_, h)| {
                h.iter()
                    .filter(|r| r.seq > after)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_runs(
        &self,
        workflow_id: &str,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut listed: Vec<RunSummary> = runs
            .values()
            .filter(|(r, _)| r.workflow_id == workflow_id)
            .map(|(r, history)| {
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
            })
            .collect();
        listed.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        listed.truncate(limit);
        Ok(listed)
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
            .filter(|(_, (r, _))| {
                r.workflow_id.starts_with(prefix)
                    && !r.workflow_id.starts_with(keep)
                    && r.status != RunStatus::Running
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
        // Ended runs of each workflow, oldest first (ids are random: order by start time).
        let mut by_workflow: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
        for (id, (r, _)) in runs.iter() {
            if r.status != RunStatus::Running
                && !r.workflow_id.starts_with(crate::lab::LOAD_RUNS_PREFIX)
            {
                by_workflow
                    .entry(r.workflow_id.as_str())
                    .or_default()
                    .push((r.started_at, id.as_str()));
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
    docs.retain(|d| d.id() != doc.id());
    docs.push(doc.clone());
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
    found.sort_by_key(|d| std::cmp::Reverse(d.created_at()));
    found.truncate(limit);
    found
}
