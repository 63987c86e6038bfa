//! One conformance suite for every store: each test below runs against the memory store, a
//! real SQLite file and a real PostgreSQL schema (`make test-rust` starts PostgreSQL). A store
//! that behaves differently from the others fails here.

use crate::common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use app::model::lab::{Batch, BatchState, LoadRequest, LoadTest};
use app::model::story::StoryLine;
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use server::clock::Clock;
use server::store::{
    self, replay_history, Appended, CancelStored, Claimed, LabSaved, MemoryStore, Recorded,
    Replaced, RunKind, SqlStore, Store, StoreError, StoredRun, WorkflowVersion, FIRST_EPOCH,
    HISTORY_PAGE,
};

/// A clock that moves one millisecond each time it is read: every write has its own time,
/// so orderings by time are decided by the test, not by the machine's speed.
#[derive(Default)]
struct Ticking(AtomicI64);

impl Clock for Ticking {
    fn now_ms(&self) -> i64 {
        1_000 + self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// A store under test, with what must live as long as it does.
struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn memory() -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new(Arc::new(Ticking::default()))),
        _dir: None,
    }
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/store.db");
    let store = SqlStore::open(&path.display().to_string(), Arc::new(Ticking::default()))
        .await
        .unwrap();
    assert!(path.exists(), "the folder and the file are created");
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

async fn postgres() -> Fixture {
    let url = common::postgres_schema().await;
    let store = SqlStore::open(&url, Arc::new(Ticking::default()))
        .await
        .unwrap();
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        schema.starts_with("test_"),
        "the test's own schema: {schema}"
    );
    Fixture {
        store: Arc::new(store),
        _dir: None,
    }
}

/// Each named test, once per store.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory_store {
            $(#[tokio::test] async fn $test() { super::$test(super::memory().await.store).await })*
        }
        mod sqlite_store {
            $(#[tokio::test] async fn $test() {
                let fixture = super::sqlite().await;
                super::$test(fixture.store.clone()).await
            })*
        }
        mod postgres_store {
            $(#[tokio::test] async fn $test() { super::$test(super::postgres().await.store).await })*
        }
    };
}

conformance!(
    history_is_read_in_seq_order_a_page_at_a_time,
    a_seq_is_stored_once_and_a_refused_append_stores_nothing,
    a_refused_append_fails_alone_among_appends_committed_together,
    an_append_to_a_run_that_is_not_stored_is_fenced,
    a_write_reported_failed_is_found_stored_absent_or_fenced,
    a_completed_record_ends_the_run_with_its_outcome,
    a_run_created_with_its_whole_history_is_stored_ended,
    runs_are_listed_per_workflow_newest_first,
    a_child_run_names_its_parent_and_the_parent_lists_its_children,
    workflows_keep_revisions_and_refuse_stale_edits,
    templates_are_stored_once_and_replaced_when_changed,
    lab_documents_are_replaced_in_place_and_listed_newest_first,
    deleting_a_workflow_deletes_its_lab_documents,
    ended_load_runs_are_deleted_a_chunk_at_a_time_but_the_latest_test_s,
    a_batch_s_ended_real_runs_are_deleted_and_no_other_run,
    retention_keeps_the_newest_ended_runs_of_each_workflow,
    retention_spares_a_child_while_its_parent_runs,
    claims_take_orphans_and_the_runs_of_lapsed_leases_and_fence_the_old_owner,
    a_lease_runs_out_unless_renewed,
    a_released_run_is_claimed_again_by_any_process,
    lab_saves_are_fenced_and_cancels_are_stored_first,
    one_load_test_runs_at_a_time_in_the_whole_cluster,
);

fn workflow(name: &str) -> Workflow {
    Workflow {
        name: name.into(),
        ..Default::default()
    }
}

fn run(id: &str, workflow_id: &str, started_at: i64) -> StoredRun {
    StoredRun {
        id: id.into(),
        workflow_id: workflow_id.into(),
        workflow: Arc::new(workflow(workflow_id)),
        input: Arc::new(serde_json::json!({"card": id})),
        status: RunStatus::Running,
        started_at,
        ended_at: None,
        speed: 0.5,
        owner: Some("p".into()),
        epoch: FIRST_EPOCH,
        kind: RunKind::Run,
        parent: None,
    }
}

fn record(seq: u64) -> Recorded {
    Recorded::new(RunRecord::new(seq, seq as i64, RunEvent::CancelRequested))
}

fn records(seqs: impl IntoIterator<Item = u64>) -> Vec<Recorded> {
    seqs.into_iter().map(record).collect()
}

fn completed(seq: u64, at_ms: i64, outcome: Option<StoryLine>) -> Recorded {
    Recorded::new(RunRecord::new(
        seq,
        at_ms,
        RunEvent::RunCompleted {
            status: RunStatus::Completed,
            diagnosis: None,
            messages: Default::default(),
            outcome,
        },
    ))
}

async fn create(store: &dyn Store, run: &StoredRun, first: &[Recorded]) {
    let version = WorkflowVersion::new((*run.workflow).clone());
    store.create_run(run, &version, first).await.unwrap();
}

async fn seqs(store: &dyn Store, run_id: &str) -> Vec<u64> {
    store
        .history_after(run_id, 0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect()
}

async fn history_is_read_in_seq_order_a_page_at_a_time(store: Arc<dyn Store>) {
    let last = 2 * HISTORY_PAGE as u64 + 37;
    create(&*store, &run("r", "w", 1), &records([1, 2])).await;
    // Appended in batches, one batch with its records out of order: reads are by seq.
    store
        .append_history("r", 1, &records([4, 3]))
        .await
        .unwrap();
    let mut next = 5;
    while next <= last {
        let end = (next + 99).min(last);
        store
            .append_history("r", 1, &records(next..=end))
            .await
            .unwrap();
        next = end + 1;
    }
    let page = store.history_after("r", 0, HISTORY_PAGE).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=HISTORY_PAGE as u64).collect::<Vec<_>>()
    );
    assert_eq!(page[2], record(3).record, "a record reads back as written");
    let tail = store.history_after("r", last - 3, 10).await.unwrap();
    assert_eq!(
        tail.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [last - 2, last - 1, last]
    );
    assert!(store.history_after("r", last, 10).await.unwrap().is_empty());
    let mut seen = Vec::new();
    let end = replay_history(&*store, "r", 10, |r| seen.push(r.seq))
        .await
        .unwrap();
    assert_eq!(end, last);
    assert_eq!(seen, (11..=last).collect::<Vec<_>>(), "whole, in order");
    // The JSON watchers get is the record's own, with its seq.
    let live = store.history_json_after("r", 40, 3).await.unwrap();
    assert_eq!(live.iter().map(|l| l.seq).collect::<Vec<_>>(), [41, 42, 43]);
    assert!(live.iter().all(|l| !l.ends_run));
    let decoded: RunRecord = serde_json::from_str(live[0].json.as_str()).unwrap();
    assert_eq!(decoded, record(41).record);
    assert!(store
        .history_after("unknown", 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_seq_is_stored_once_and_a_refused_append_stores_nothing(store: Arc<dyn Store>) {
    create(&*store, &run("r", "w", 1), &records([1])).await;
    store
        .append_history("r", 1, &records([2, 3]))
        .await
        .unwrap();
    assert!(
        store.append_history("r", 1, &records([3])).await.is_err(),
        "a seq the run holds"
    );
    assert!(
        store
            .append_history("r", 1, &records([4, 2]))
            .await
            .is_err(),
        "a batch with one seq the run holds"
    );
    assert!(
        store
            .append_history("r", 1, &records([5, 5]))
            .await
            .is_err(),
        "a batch repeating a seq"
    );
    assert_eq!(
        seqs(&*store, "r").await,
        [1, 2, 3],
        "nothing of them stored"
    );
    store.append_history("r", 1, &records([4])).await.unwrap();
    assert_eq!(seqs(&*store, "r").await, [1, 2, 3, 4]);
    // A second creation of the same run id is refused, and changes nothing.
    let version = WorkflowVersion::new(workflow("w"));
    let again = store
        .create_run(&run("r", "other", 2), &version, &records([9]))
        .await;
    assert!(
        matches!(again, Err(StoreError::Duplicate { what: "run", .. })),
        "{again:?}"
    );
    assert_eq!(store.get_run("r").await.unwrap().unwrap().workflow_id, "w");
    assert_eq!(seqs(&*store, "r").await, [1, 2, 3, 4]);
}

async fn a_refused_append_fails_alone_among_appends_committed_together(store: Arc<dyn Store>) {
    for id in ["a", "b", "c"] {
        create(&*store, &run(id, "w", 1), &[]).await;
    }
    store.append_history("a", 1, &records([1])).await.unwrap();
    // Three appends at once share a commit where the store groups them; a's repeats seq 1.
    let (again, two, one) = (records([1]), records([1, 2]), records([1]));
    let (dup, b, c) = tokio::join!(
        store.append_history("a", 1, &again),
        store.append_history("b", 1, &two),
        store.append_history("c", 1, &one),
    );
    assert!(dup.is_err(), "a duplicate seq is refused");
    b.unwrap();
    c.unwrap();
    assert_eq!(seqs(&*store, "a").await, [1]);
    assert_eq!(seqs(&*store, "b").await, [1, 2]);
    assert_eq!(seqs(&*store, "c").await, [1]);
}

async fn an_append_to_a_run_that_is_not_stored_is_fenced(store: Arc<dyn Store>) {
    // A stale owner's append to a run deleted meanwhile: the run is not its to write, which
    // is no failure of the store (nothing to retry).
    let append = store.append_history("nobody", 1, &records([1])).await;
    assert!(
        matches!(append, Err(StoreError::Fenced { ref run, epoch: 1 }) if run == "nobody"),
        "{append:?}"
    );
    assert!(store.get_run("nobody").await.unwrap().is_none());
    assert!(store
        .history_after("nobody", 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_completed_record_ends_the_run_with_its_outcome(store: Arc<dyn Store>) {
    create(&*store, &run("a", "w", 1), &records([1])).await;
    create(&*store, &run("b", "w", 2), &records([1, 2])).await;
    create(&*store, &run("c", "w", 3), &records([1])).await;
    let outcome = StoryLine {
        code: "failure_handled_by_route".into(),
        message: "Payment failed (card = \"expired\") → handled by the failure route to Notify"
            .into(),
    };
    store
        .append_history("b", 1, &[completed(3, 99, Some(outcome.clone()))])
        .await
        .unwrap();
    let b = store.get_run("b").await.unwrap().unwrap();
    assert_eq!((b.status, b.ended_at), (RunStatus::Completed, Some(99)));
    assert_eq!(b.speed, 0.5, "the speed it was played at is kept");
    assert_eq!(*b.workflow, workflow("w"), "the workflow it runs");
    assert_eq!(*b.input, serde_json::json!({"card": "b"}));
    let live = store.history_json_after("b", 2, 10).await.unwrap();
    assert!(live[0].ends_run, "the last record says it ends the run");
    let listed = store.list_runs("w", 10).await.unwrap();
    let b = listed.iter().find(|r| r.id == "b").unwrap();
    assert_eq!(b.outcome.as_ref(), Some(&outcome));
    assert_eq!((b.status, b.ended_at), (RunStatus::Completed, Some(99)));
    assert_eq!(b.speed, Some(0.5));
    assert_eq!(*b.input, serde_json::json!({"card": "b"}));
    let a = listed.iter().find(|r| r.id == "a").unwrap();
    assert_eq!(a.outcome, None, "a run still going has no outcome yet");
    assert_eq!(a.status, RunStatus::Running);
    let mut running = store.running_runs("w").await.unwrap();
    running.sort();
    assert_eq!(running, ["a", "c"]);
    assert!(store.running_runs("other").await.unwrap().is_empty());
}

async fn a_run_created_with_its_whole_history_is_stored_ended(store: Arc<dyn Store>) {
    let mut whole = records([1, 2]);
    whole.push(completed(3, 7, None));
    create(&*store, &run("r", "w", 5), &whole).await;
    let stored = store.get_run("r").await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.started_at, stored.ended_at),
        (RunStatus::Completed, 5, Some(7))
    );
    assert!(store.running_runs("w").await.unwrap().is_empty());
    assert_eq!(seqs(&*store, "r").await, [1, 2, 3]);
    let listed = store.list_runs("w", 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, RunStatus::Completed);
    assert!(listed[0].messages.is_some(), "what it exchanged is listed");
}

async fn runs_are_listed_per_workflow_newest_first(store: Arc<dyn Store>) {
    // "b" and "c" start at the same time: the one created later is listed first.
    for (id, workflow_id, started_at) in [
        ("a", "w", 10),
        ("b", "w", 20),
        ("c", "w", 20),
        ("d", "w", 30),
        ("x", "other", 40),
    ] {
        create(&*store, &run(id, workflow_id, started_at), &[]).await;
    }
    let ids = |listed: Vec<app::model::api::RunSummary>| -> Vec<String> {
        listed.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(
        ids(store.list_runs("w", 10).await.unwrap()),
        ["d", "c", "b", "a"]
    );
    assert_eq!(ids(store.list_runs("w", 2).await.unwrap()), ["d", "c"]);
    assert_eq!(ids(store.list_runs("other", 10).await.unwrap()), ["x"]);
    assert!(store.list_runs("none", 10).await.unwrap().is_empty());
}

async fn a_child_run_names_its_parent_and_the_parent_lists_its_children(store: Arc<dyn Store>) {
    create(&*store, &run("p", "order", 10), &[]).await;
    let link = app::model::api::ParentLink {
        run: "p".into(),
        node: "pay".into(),
        workflow_id: "order".into(),
    };
    for (id, started_at) in [("p.pay.1.1", 20), ("p.pay.1.1.undo", 30)] {
        let child = StoredRun {
            parent: Some(link.clone()),
            ..run(id, "payment", started_at)
        };
        create(&*store, &child, &[]).await;
    }
    let child = store.get_run("p.pay.1.1").await.unwrap().unwrap();
    assert_eq!(child.parent.as_ref(), Some(&link));
    assert_eq!(store.get_run("p").await.unwrap().unwrap().parent, None);
    let parents = store.list_runs("order", 10).await.unwrap();
    assert_eq!(parents[0].children, ["p.pay.1.1", "p.pay.1.1.undo"]);
    let children = store.list_runs("payment", 10).await.unwrap();
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c.parent.as_ref() == Some(&link)));
    assert!(children.iter().all(|c| c.children.is_empty()));
}

async fn workflows_keep_revisions_and_refuse_stale_edits(store: Arc<dyn Store>) {
    let a = store.insert_workflow("a", &workflow("A")).await.unwrap();
    assert_eq!(a.revision, 1);
    assert_eq!(a.created_at, a.updated_at);
    store.insert_workflow("b", &workflow("B")).await.unwrap();
    store.insert_workflow("c", &workflow("C")).await.unwrap();
    assert!(
        store
            .insert_workflow("a", &workflow("again"))
            .await
            .is_err(),
        "an id is stored once"
    );
    let version = store.version("a").await.unwrap().unwrap();
    assert_eq!(*version.workflow, workflow("A"));
    let Replaced::Done(edited) = store
        .update_workflow("a", &workflow("A2"), Some(1))
        .await
        .unwrap()
    else {
        panic!("the edit of the current revision is stored");
    };
    assert_eq!(edited.revision, 2);
    assert!(edited.updated_at > a.updated_at);
    assert_eq!(edited.created_at, a.created_at);
    assert!(matches!(
        store
            .update_workflow("a", &workflow("lost"), Some(1))
            .await
            .unwrap(),
        Replaced::Stale { revision: 2 }
    ));
    assert!(matches!(
        store
            .update_workflow("missing", &workflow("M"), None)
            .await
            .unwrap(),
        Replaced::Missing
    ));
    let stored = store.get_workflow("a").await.unwrap().unwrap();
    assert_eq!((stored.workflow.name.as_str(), stored.revision), ("A2", 2));
    let version = store.version("a").await.unwrap().unwrap();
    assert_eq!(
        *version.workflow,
        workflow("A2"),
        "runs start the new version"
    );
    assert_eq!(version.hash, store::content_hash(&version.document));
    assert!(store.version("missing").await.unwrap().is_none());
    // Unconditional edit.
    assert!(matches!(
        store
            .update_workflow("b", &workflow("B2"), None)
            .await
            .unwrap(),
        Replaced::Done(_)
    ));
    let listed: Vec<String> = store
        .list_workflows()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(listed, ["B2", "A2", "C"], "most recently updated first");
    assert!(store.delete_workflow("a").await.unwrap());
    assert!(!store.delete_workflow("a").await.unwrap());
    assert!(store.get_workflow("a").await.unwrap().is_none());
    assert!(store.version("a").await.unwrap().is_none());
}

async fn templates_are_stored_once_and_replaced_when_changed(store: Arc<dyn Store>) {
    store.put_template("t", &workflow("T")).await.unwrap();
    store.put_template("t", &workflow("T")).await.unwrap();
    let stored = store.get_workflow("t").await.unwrap().unwrap();
    assert_eq!(stored.revision, 1, "an unchanged template is left alone");
    store.put_template("t", &workflow("T2")).await.unwrap();
    let stored = store.get_workflow("t").await.unwrap().unwrap();
    assert_eq!((stored.workflow.name.as_str(), stored.revision), ("T2", 2));
    // Processes (or tasks) starting together each store the templates: both succeed.
    let u = workflow("U");
    let (one, two) = tokio::join!(store.put_template("u", &u), store.put_template("u", &u));
    one.unwrap();
    two.unwrap();
    let count = store
        .list_workflows()
        .await
        .unwrap()
        .iter()
        .filter(|w| w.id == "u")
        .count();
    assert_eq!(count, 1);
}

fn batch(id: &str, workflow_id: &str, created_at: i64, state: BatchState) -> Batch {
    Batch {
        id: id.into(),
        workflow_id: workflow_id.into(),
        workflow_name: "W".into(),
        created_at,
        state,
        runs: 10,
        seed: 7,
        input: serde_json::json!({}),
        faults: Default::default(),
        message_ms: 0,
        progress: Vec::new(),
        verify: None,
        result: None,
        owner: Some("p".into()),
    }
}

fn load(id: &str, workflow_id: &str, created_at: i64) -> LoadTest {
    LoadTest {
        id: id.into(),
        workflow_id: workflow_id.into(),
        workflow_name: "W".into(),
        created_at,
        state: BatchState::Running,
        request: LoadRequest {
            workflow_id: workflow_id.into(),
            rate: 10,
            seconds: 2,
            ..Default::default()
        },
        styles: Vec::new(),
        reading: Vec::new(),
        owner: None,
    }
}

async fn lab_documents_are_replaced_in_place_and_listed_newest_first(store: Arc<dyn Store>) {
    for b in [
        batch("b1", "w", 10, BatchState::Running),
        batch("b2", "w", 20, BatchState::Running),
        batch("b3", "w", 20, BatchState::Done),
        batch("x", "other", 30, BatchState::Running),
    ] {
        store.insert_batch(&b).await.unwrap();
    }
    assert!(
        matches!(
            store
                .insert_batch(&batch("b1", "w", 10, BatchState::Running))
                .await,
            Err(StoreError::Duplicate { .. })
        ),
        "an id is stored once"
    );
    // b1 is done now: replaced, not added.
    let done = batch("b1", "w", 10, BatchState::Done);
    assert_eq!(
        store.save_batch(&done, FIRST_EPOCH).await.unwrap(),
        LabSaved::Saved
    );
    assert_eq!(store.get_batch("b1").await.unwrap(), Some(done));
    assert_eq!(store.get_batch("none").await.unwrap(), None);
    let ids = |list: Vec<Batch>| -> Vec<String> { list.into_iter().map(|b| b.id).collect() };
    assert_eq!(
        ids(store.list_batches("w", 10).await.unwrap()),
        ["b3", "b2", "b1"],
        "newest first; among equals the last stored"
    );
    assert_eq!(ids(store.list_batches("w", 1).await.unwrap()), ["b3"]);
    assert!(store.insert_load(&load("l1", "w", 10)).await.unwrap());
    let mut l1 = load("l1", "w", 10);
    l1.state = BatchState::Cancelled;
    l1.reading = vec!["cancelled".into()];
    assert_eq!(
        store.save_load(&l1, FIRST_EPOCH).await.unwrap(),
        LabSaved::Saved
    );
    assert_eq!(store.get_load("l1").await.unwrap(), Some(l1));
    assert!(store.insert_load(&load("l2", "w", 11)).await.unwrap());
    let loads: Vec<String> = store
        .list_loads("w", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(loads, ["l2", "l1"]);
}

async fn deleting_a_workflow_deletes_its_lab_documents(store: Arc<dyn Store>) {
    store.insert_workflow("w", &workflow("W")).await.unwrap();
    store.insert_workflow("v", &workflow("V")).await.unwrap();
    store
        .insert_batch(&batch("b", "w", 1, BatchState::Done))
        .await
        .unwrap();
    store
        .insert_batch(&batch("kept", "v", 1, BatchState::Done))
        .await
        .unwrap();
    assert!(store.insert_load(&load("l", "w", 1)).await.unwrap());
    assert!(store.delete_workflow("w").await.unwrap());
    assert_eq!(store.get_batch("b").await.unwrap(), None);
    assert_eq!(store.get_load("l").await.unwrap(), None);
    assert!(store.get_batch("kept").await.unwrap().is_some());
}

/// Stores each run with one record, and ends those marked ended.
async fn create_ended_or_not(store: &dyn Store, runs: impl IntoIterator<Item = (StoredRun, bool)>) {
    for (run, ended) in runs {
        create(store, &run, &records([1])).await;
        if ended {
            store
                .append_history(&run.id, 1, &[completed(2, 2, None)])
                .await
                .unwrap();
        }
    }
}

fn load_run(id: &str, test: &str) -> StoredRun {
    StoredRun {
        kind: RunKind::Load,
        parent: None,
        ..run(id, test, 1)
    }
}

async fn ended_load_runs_are_deleted_a_chunk_at_a_time_but_the_latest_test_s(
    store: Arc<dyn Store>,
) {
    // Old test "o": three ended runs and one still going; kept test "k": one ended run;
    // a user's workflow "o:w" (whose id looks like a test's runs but is no test's): one
    // ended run.
    create_ended_or_not(
        &*store,
        [
            (load_run("o1", "o:x"), true),
            (load_run("o2", "o:x"), true),
            (load_run("o3", "o:y"), true),
            (load_run("o4", "o:y"), false),
            (load_run("k1", "k:x"), true),
            (run("w1", "o:w", 1), true),
        ],
    )
    .await;
    assert_eq!(
        store.get_run("o1").await.unwrap().unwrap().kind,
        RunKind::Load
    );
    let prune = || store.delete_load_runs("k:", 2);
    assert_eq!(prune().await.unwrap(), 2, "a chunk of at most 2");
    assert_eq!(prune().await.unwrap(), 1);
    assert_eq!(prune().await.unwrap(), 0, "nothing left to delete");
    for gone in ["o1", "o2", "o3"] {
        assert!(store.get_run(gone).await.unwrap().is_none(), "{gone}");
        assert!(seqs(&*store, gone).await.is_empty(), "{gone}'s history");
    }
    for kept in ["o4", "k1", "w1"] {
        assert!(store.get_run(kept).await.unwrap().is_some(), "{kept}");
        assert!(!seqs(&*store, kept).await.is_empty(), "{kept}'s history");
    }
}

/// A compare batch's real runs (kind `lab`, under its prefix) go when it deletes them —
/// its ended ones only; another batch's, a load test's and a user's stay; neither the load
/// tests' pruning nor retention takes them.
async fn a_batch_s_ended_real_runs_are_deleted_and_no_other_run(store: Arc<dyn Store>) {
    let lab_run = |id: &str, tag: &str| StoredRun {
        kind: RunKind::Lab,
        parent: None,
        ..run(id, tag, 1)
    };
    create_ended_or_not(
        &*store,
        [
            (lab_run("b1", "lab-b:as-drawn"), true),
            (lab_run("b2", "lab-b:choreography"), true),
            (lab_run("b3", "lab-b:choreography"), false),
            (lab_run("c1", "lab-c:as-drawn"), true),
            (load_run("l1", "lab-b:load"), true),
            (run("w1", "lab-b:w", 1), true),
        ],
    )
    .await;
    assert_eq!(
        store.get_run("b1").await.unwrap().unwrap().kind,
        RunKind::Lab
    );
    // Not the load tests' to prune.
    assert_eq!(
        store.delete_load_runs("k:", 100).await.unwrap(),
        1,
        "l1 only"
    );
    let delete = || store.delete_lab_runs("lab-b:", 1);
    assert_eq!(delete().await.unwrap(), 1, "a chunk of at most 1");
    assert_eq!(delete().await.unwrap(), 1);
    assert_eq!(delete().await.unwrap(), 0, "the one still going stays");
    for gone in ["b1", "b2"] {
        assert!(store.get_run(gone).await.unwrap().is_none(), "{gone}");
        assert!(seqs(&*store, gone).await.is_empty(), "{gone}'s history");
    }
    for kept in ["b3", "c1", "w1"] {
        assert!(store.get_run(kept).await.unwrap().is_some(), "{kept}");
    }
    // Nor retention's (which takes w1: its workflow is not stored).
    assert_eq!(store.prune_runs(0, 100).await.unwrap(), 1);
    assert!(store.get_run("c1").await.unwrap().is_some());
}

/// A completed child whose parent still runs is never pruned — the parent's saga may yet
/// undo it, and the undo run reads the child's history — even past retention or with its
/// workflow deleted; once the parent has ended, it goes like any run.
async fn retention_spares_a_child_while_its_parent_runs(store: Arc<dyn Store>) {
    store
        .insert_workflow("payment", &workflow("Payment"))
        .await
        .unwrap();
    create(&*store, &run("p", "order", 1), &records([1])).await;
    let link = app::model::api::ParentLink {
        run: "p".into(),
        node: "pay".into(),
        workflow_id: "order".into(),
    };
    let child = StoredRun {
        parent: Some(link),
        ..run("p.pay.1.1", "payment", 2)
    };
    create(&*store, &child, &[record(1), completed(2, 2, None)]).await;
    // Newer runs of the payment workflow, and the parent's workflow was never stored (as if
    // deleted): retention would take the child twice over.
    for i in 3..=5 {
        create(
            &*store,
            &run(&format!("n{i}"), "payment", i),
            &[record(1), completed(2, i, None)],
        )
        .await;
    }
    assert_eq!(store.prune_runs(1, 100).await.unwrap(), 2, "n3 and n4 go");
    assert!(
        store.get_run("p.pay.1.1").await.unwrap().is_some(),
        "the child stays"
    );
    assert_eq!(seqs(&*store, "p.pay.1.1").await, [1, 2], "with its history");
    // The parent ends (its workflow gone, so it goes too): then the child may go.
    store
        .append_history("p", 1, &[completed(2, 6, None)])
        .await
        .unwrap();
    assert_eq!(
        store.prune_runs(1, 100).await.unwrap(),
        2,
        "the parent and its child"
    );
    assert!(store.get_run("p.pay.1.1").await.unwrap().is_none());
    assert!(
        store.get_run("n5").await.unwrap().is_some(),
        "the newest stays"
    );
}

async fn retention_keeps_the_newest_ended_runs_of_each_workflow(store: Arc<dyn Store>) {
    store.insert_workflow("w", &workflow("W")).await.unwrap();
    // w: five ended runs created in order, one still going; "gone": a deleted workflow's
    // two ended runs; a load test's ended run (the lab's to prune).
    for i in 1..=5 {
        let id = format!("w{i}");
        create(
            &*store,
            &run(&id, "w", i),
            &[record(1), completed(2, i, None)],
        )
        .await;
    }
    create(&*store, &run("w-running", "w", 0), &records([1])).await;
    for id in ["g1", "g2"] {
        create(&*store, &run(id, "gone", 1), &[completed(1, 1, None)]).await;
    }
    create(&*store, &load_run("load", "t:w"), &[completed(1, 1, None)]).await;
    let runs_of = |workflow_id: &'static str| {
        let store = store.clone();
        async move {
            let mut ids: Vec<String> = store
                .list_runs(workflow_id, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        store.prune_runs(2, 2).await.unwrap(),
        2,
        "at most the limit"
    );
    assert_eq!(store.prune_runs(2, 100).await.unwrap(), 3);
    assert_eq!(store.prune_runs(2, 100).await.unwrap(), 0);
    assert_eq!(runs_of("w").await, ["w-running", "w4", "w5"]);
    assert!(
        runs_of("gone").await.is_empty(),
        "a deleted workflow's runs go"
    );
    assert_eq!(runs_of("t:w").await, ["load"]);
    assert!(seqs(&*store, "w1").await.is_empty(), "with their history");
    assert_eq!(seqs(&*store, "w4").await, [1, 2]);
    // keep = 0 keeps every run of a workflow that exists.
    assert_eq!(store.prune_runs(0, 100).await.unwrap(), 0);
    // The runs left still read their workflow (versions in use are never pruned).
    assert_eq!(
        *store.get_run("w5").await.unwrap().unwrap().workflow,
        workflow("w")
    );
}

fn owned_by(id: &str, owner: Option<&str>, epoch: i64) -> StoredRun {
    StoredRun {
        owner: owner.map(String::from),
        epoch,
        ..run(id, "w", 1)
    }
}

/// What a claim returned: (run, its new epoch, who held it before), in claim order.
fn claimed(claims: Vec<Claimed>) -> Vec<(String, i64, Option<String>)> {
    claims
        .into_iter()
        .map(|c| {
            assert_eq!(c.run.owner.as_deref(), Some("q"), "claimed by q");
            (c.run.id, c.run.epoch, c.previous)
        })
        .collect()
}

async fn claims_take_orphans_and_the_runs_of_lapsed_leases_and_fence_the_old_owner(
    store: Arc<dyn Store>,
) {
    let minute = std::time::Duration::from_secs(60);
    store.renew_lease("p", minute).await.unwrap();
    store.renew_lease("q", minute).await.unwrap();
    create(
        &*store,
        &owned_by("a", Some("p"), FIRST_EPOCH),
        &records([1]),
    )
    .await;
    create(
        &*store,
        &owned_by("b", Some("q"), FIRST_EPOCH),
        &records([1]),
    )
    .await;
    // Stored before ownership was recorded: nobody's.
    create(&*store, &owned_by("c", None, 0), &records([1])).await;
    create(&*store, &owned_by("e", None, 0), &records([1])).await;
    // Ended: never claimed.
    create(
        &*store,
        &owned_by("d", Some("p"), FIRST_EPOCH),
        &[completed(1, 1, None)],
    )
    .await;
    let stored = store.get_run("a").await.unwrap().unwrap();
    assert_eq!((stored.owner.as_deref(), stored.epoch), (Some("p"), 1));

    // Unowned runs, oldest first, at most the limit.
    let q = |own, limit| store.claim_runs("q", own, limit);
    assert_eq!(claimed(q(false, 1).await.unwrap()), [("c".into(), 1, None)]);
    assert_eq!(
        claimed(q(false, 10).await.unwrap()),
        [("e".into(), 1, None)]
    );
    assert!(q(false, 10).await.unwrap().is_empty(), "p's lease holds");
    // A process starting again takes back every run recorded as its own.
    assert_eq!(
        claimed(q(true, 10).await.unwrap()),
        [
            ("b".into(), 2, Some("q".into())),
            ("c".into(), 2, Some("q".into())),
            ("e".into(), 2, Some("q".into()))
        ]
    );
    // p stops: its run in progress goes to q, at the next epoch.
    store.end_lease("p").await.unwrap();
    assert_eq!(
        claimed(q(false, 10).await.unwrap()),
        [("a".into(), 2, Some("p".into()))]
    );
    let a = store.get_run("a").await.unwrap().unwrap();
    assert_eq!((a.owner.as_deref(), a.epoch), (Some("q"), 2));
    let d = store.get_run("d").await.unwrap().unwrap();
    assert_eq!(
        (d.owner.as_deref(), d.epoch),
        (Some("p"), 1),
        "ended runs stay"
    );

    // p, still holding epoch 1, cannot write any more — even in a commit shared with q's
    // good appends; q at epoch 2 can.
    let (stale, good, other) = (records([2]), records([2]), records([2]));
    let (fenced, written, also) = tokio::join!(
        store.append_history("a", 1, &stale),
        store.append_history("b", 2, &good),
        store.append_history("c", 2, &other),
    );
    assert!(
        matches!(fenced, Err(StoreError::Fenced { ref run, epoch: 1 }) if run == "a"),
        "{fenced:?}"
    );
    written.unwrap();
    also.unwrap();
    assert_eq!(seqs(&*store, "a").await, [1], "nothing of the fenced write");
    store.append_history("a", 2, &records([2])).await.unwrap();
    assert_eq!(seqs(&*store, "a").await, [1, 2]);
    // A fenced RunCompleted does not end the run either.
    assert!(matches!(
        store.append_history("b", 1, &[completed(3, 9, None)]).await,
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(
        store.get_run("e").await.unwrap().unwrap().status,
        RunStatus::Running
    );

    let holders: Vec<(String, u64)> = store
        .lease_holders()
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.process, h.runs))
        .collect();
    assert_eq!(holders, [("q".to_string(), 4)], "p's lease ended");
}

async fn a_lease_runs_out_unless_renewed(store: Arc<dyn Store>) {
    store
        .renew_lease("p", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    create(&*store, &owned_by("a", Some("p"), FIRST_EPOCH), &[]).await;
    assert!(store.claim_runs("q", false, 10).await.unwrap().is_empty());
    // Renewed to end now: it has run out by the next look.
    store
        .renew_lease("p", std::time::Duration::ZERO)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(store.lease_holders().await.unwrap().is_empty());
    store
        .renew_lease("q", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let taken = store.claim_runs("q", false, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].previous.as_deref(), Some("p"));
    // p renews after the fact (it was paused): the run stays q's, p's appends are fenced.
    store
        .renew_lease("p", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(store.claim_runs("p", false, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.append_history("a", FIRST_EPOCH, &records([1])).await,
        Err(StoreError::Fenced { .. })
    ));
}

async fn a_write_reported_failed_is_found_stored_absent_or_fenced(store: Arc<dyn Store>) {
    create(&*store, &run("r", "w", 1), &records([1])).await;
    let written = records([2, 3]);
    assert_eq!(
        store.check_append("r", 1, &written).await.unwrap(),
        Appended::Absent,
        "not written: write it again"
    );
    store.append_history("r", 1, &written).await.unwrap();
    assert_eq!(
        store.check_append("r", 1, &written).await.unwrap(),
        Appended::Stored,
        "written as it was: go on"
    );
    // Other records hold those seqs (another writer's): never taken for ours.
    let other = vec![
        Recorded::new(RunRecord::new(2, 2, RunEvent::CancelRequested)),
        completed(3, 3, None),
    ];
    assert_eq!(
        store.check_append("r", 1, &other).await.unwrap(),
        Appended::Fenced
    );
    // Only part of them there: not ours either.
    assert_eq!(
        store.check_append("r", 1, &records([3, 4])).await.unwrap(),
        Appended::Fenced
    );
    // Claimed by another process since: whatever became of the write, it is not ours.
    store.end_lease("p").await.unwrap();
    store
        .renew_lease("q", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(store.claim_runs("q", false, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.check_append("r", 1, &written).await.unwrap(),
        Appended::Fenced
    );
    assert_eq!(
        store.check_append("gone", 1, &written).await.unwrap(),
        Appended::Fenced,
        "a run that is not stored"
    );
}

async fn a_released_run_is_claimed_again_by_any_process(store: Arc<dyn Store>) {
    let minute = std::time::Duration::from_secs(60);
    store.renew_lease("p", minute).await.unwrap();
    store.renew_lease("q", minute).await.unwrap();
    create(&*store, &owned_by("a", None, 0), &records([1])).await;
    let taken = store.claim_runs("p", false, 10).await.unwrap();
    assert_eq!(taken[0].run.epoch, 1);
    assert!(
        !store.release_run("a", "q", 1).await.unwrap(),
        "only its owner releases it"
    );
    assert!(
        !store.release_run("a", "p", 0).await.unwrap(),
        "at the epoch it holds"
    );
    assert!(store.release_run("a", "p", 1).await.unwrap());
    let a = store.get_run("a").await.unwrap().unwrap();
    assert_eq!((a.owner, a.epoch), (None, 1));
    // Any live process claims it now, and the releaser's epoch is fenced.
    let taken = store.claim_runs("q", false, 10).await.unwrap();
    assert_eq!((taken[0].run.id.as_str(), taken[0].run.epoch), ("a", 2));
    assert!(matches!(
        store.append_history("a", 1, &records([2])).await,
        Err(StoreError::Fenced { .. })
    ));
}

async fn lab_saves_are_fenced_and_cancels_are_stored_first(store: Arc<dyn Store>) {
    let minute = std::time::Duration::from_secs(60);
    store.renew_lease("p", minute).await.unwrap();
    store.renew_lease("q", minute).await.unwrap();
    store
        .insert_batch(&batch("b", "w", 1, BatchState::Running))
        .await
        .unwrap();
    store
        .insert_batch(&batch("c", "w", 2, BatchState::Running))
        .await
        .unwrap();
    assert!(
        store
            .claim_batches("q", false, 10)
            .await
            .unwrap()
            .is_empty(),
        "p's lease holds"
    );
    let running = batch("b", "w", 1, BatchState::Running);
    assert_eq!(
        store.save_batch(&running, 1).await.unwrap(),
        LabSaved::Saved
    );
    // A cancel is stored first; its owner hears it at its next save.
    assert_eq!(
        store.cancel_batch("b").await.unwrap(),
        CancelStored::Stored {
            owner: Some("p".into())
        }
    );
    assert_eq!(
        store.save_batch(&running, 1).await.unwrap(),
        LabSaved::CancelRequested
    );
    // p stops (its lease ends) before it saw it: q takes both, b with the cancel.
    store.end_lease("p").await.unwrap();
    let mut claims = store.claim_batches("q", false, 10).await.unwrap();
    claims.sort_by(|a, b| a.doc.id.cmp(&b.doc.id));
    let taken: Vec<(String, i64, bool, Option<String>)> = claims
        .iter()
        .map(|c| {
            (
                c.doc.id.clone(),
                c.epoch,
                c.cancel_requested,
                c.doc.owner.clone(),
            )
        })
        .collect();
    assert_eq!(
        taken,
        [
            ("b".into(), 2, true, Some("q".into())),
            ("c".into(), 2, false, Some("q".into()))
        ]
    );
    // p comes back (it was paused) and saves: refused, and the cancel is not undone.
    let mut done = batch("b", "w", 1, BatchState::Done);
    assert_eq!(store.save_batch(&done, 1).await.unwrap(), LabSaved::Fenced);
    // q ends it: a stored cancel wins over an ending.
    done.owner = Some("q".into());
    assert_eq!(
        store.save_batch(&done, 2).await.unwrap(),
        LabSaved::CancelRequested
    );
    assert_eq!(
        store.get_batch("b").await.unwrap().unwrap().state,
        BatchState::Cancelled
    );
    assert_eq!(
        store.cancel_batch("b").await.unwrap(),
        CancelStored::Ended(BatchState::Cancelled)
    );
    assert_eq!(
        store.cancel_batch("none").await.unwrap(),
        CancelStored::Missing
    );
    let c = batch("c", "w", 2, BatchState::Done);
    assert_eq!(store.save_batch(&c, 2).await.unwrap(), LabSaved::Saved);
    assert_eq!(
        store.get_batch("c").await.unwrap().unwrap().state,
        BatchState::Done
    );
}

async fn one_load_test_runs_at_a_time_in_the_whole_cluster(store: Arc<dyn Store>) {
    let minute = std::time::Duration::from_secs(60);
    store.renew_lease("p", minute).await.unwrap();
    store.renew_lease("q", minute).await.unwrap();
    let owned = |id: &str, owner: &str| LoadTest {
        owner: Some(owner.into()),
        ..load(id, "w", 1)
    };
    // Two processes starting one at the same moment: exactly one of them does.
    let (l1, l2) = (owned("l1", "p"), owned("l2", "q"));
    let (one, two) = tokio::join!(store.insert_load(&l1), store.insert_load(&l2));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(one ^ two, "one of the two: {one} {two}");
    let (first, other) = if one { ("l1", "q") } else { ("l2", "p") };
    assert!(!store.insert_load(&owned("l3", other)).await.unwrap());
    assert_eq!(
        store.cancel_load(first).await.unwrap(),
        CancelStored::Stored {
            owner: Some((if one { "p" } else { "q" }).into())
        }
    );
    // Its process stops without ending it: the next test may start, and the old one reads
    // as cancelled and is no longer its process's to save.
    store.end_lease(if one { "p" } else { "q" }).await.unwrap();
    assert!(store.insert_load(&owned("l4", other)).await.unwrap());
    assert_eq!(
        store.get_load(first).await.unwrap().unwrap().state,
        BatchState::Cancelled
    );
    let mut stale = owned(first, "p");
    stale.reading = vec!["late".into()];
    assert_eq!(
        store.save_load(&stale, FIRST_EPOCH).await.unwrap(),
        LabSaved::Fenced
    );
}
