//! The SQLite store on a real file: group commit, and one bad write failing alone.

use std::sync::Arc;

use app::model::story::StoryLine;
use app::model::{RunEvent, RunRecord, RunStatus, Workflow};
use server::clock::SystemClock;
use server::store::{Recorded, RunStore, SqliteStore, StoredRun, WorkflowVersion};

fn run(id: &str) -> StoredRun {
    StoredRun {
        id: id.into(),
        workflow_id: "w".into(),
        workflow: Arc::new(Workflow {
            name: "w".into(),
            ..Default::default()
        }),
        input: serde_json::json!({"card": id}),
        status: RunStatus::Running,
        started_at: 1,
        ended_at: None,
        speed: 0.5,
    }
}

fn record(seq: u64) -> Recorded {
    Recorded::new(RunRecord::new(seq, 1, RunEvent::CancelRequested))
}

#[tokio::test]
async fn a_bad_append_fails_alone_and_good_ones_in_its_group_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/store.db").display().to_string();
    let (store, is_new) = SqliteStore::open(&path, Arc::new(SystemClock))
        .await
        .unwrap();
    assert!(is_new, "the folder and the file are created");
    for id in ["a", "b", "c"] {
        let r = run(id);
        let version = WorkflowVersion::new((*r.workflow).clone());
        store.create_run(&r, &version, &[]).await.unwrap();
    }
    store.append_history("a", &[record(1)]).await.unwrap();

    // Three appends at once share a commit; a's repeats seq 1 and must fail on its own.
    let (again, two, one) = ([record(1)], [record(1), record(2)], [record(1)]);
    let (dup, b, c) = tokio::join!(
        store.append_history("a", &again),
        store.append_history("b", &two),
        store.append_history("c", &one),
    );
    assert!(dup.is_err(), "a duplicate seq is refused");
    b.unwrap();
    c.unwrap();
    assert_eq!(
        store.history_after("a", 0, usize::MAX).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.history_after("b", 0, usize::MAX).await.unwrap().len(),
        2
    );
    assert_eq!(
        store.history_after("b", 1, usize::MAX).await.unwrap()[0].seq,
        2
    );
    assert_eq!(
        store.history_after("c", 0, usize::MAX).await.unwrap().len(),
        1
    );

    // RunCompleted ends the run in the same commit as its record, and its outcome line
    // goes to the runs list with the run's input.
    let outcome = StoryLine {
        code: "failure_handled_by_route".into(),
        message: "Payment failed (card = \"expired\") → handled by the failure route to Notify"
            .into(),
    };
    let done = RunRecord::new(
        3,
        99,
        RunEvent::RunCompleted {
            status: RunStatus::Completed,
            diagnosis: None,
            messages: Default::default(),
            outcome: Some(outcome.clone()),
        },
    );
    store
        .append_history("b", &[Recorded::new(done)])
        .await
        .unwrap();
    let b = store.get_run("b").await.unwrap().unwrap();
    assert_eq!((b.status, b.ended_at), (RunStatus::Completed, Some(99)));
    assert_eq!(b.speed, 0.5, "the speed it was played at is kept");
    let listed = store.list_runs("w", 10).await.unwrap();
    let b = listed.iter().find(|r| r.id == "b").unwrap();
    assert_eq!(b.outcome.as_ref(), Some(&outcome));
    assert_eq!(b.speed, Some(0.5));
    assert_eq!(b.input, serde_json::json!({"card": "b"}));
    let a = listed.iter().find(|r| r.id == "a").unwrap();
    assert_eq!(a.outcome, None, "a run still going has no outcome yet");
    let running: Vec<String> = store
        .running_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(running, ["a", "c"]);
}

#[tokio::test]
async fn pruning_deletes_ended_runs_under_a_prefix_with_their_history_a_chunk_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db").display().to_string();
    let (store, _) = SqliteStore::open(&path, Arc::new(SystemClock))
        .await
        .unwrap();
    let completed = |seq| {
        RunRecord::new(
            seq,
            2,
            RunEvent::RunCompleted {
                status: RunStatus::Completed,
                diagnosis: None,
                messages: Default::default(),
                outcome: None,
            },
        )
    };
    // Old test "o": three ended runs and one still going; kept test "k": one ended run;
    // a user's workflow "w": one ended run.
    for (id, workflow, ended) in [
        ("o1", "lab-load-o-x", true),
        ("o2", "lab-load-o-x", true),
        ("o3", "lab-load-o-y", true),
        ("o4", "lab-load-o-y", false),
        ("k1", "lab-load-k-x", true),
        ("w1", "w", true),
    ] {
        let mut r = run(id);
        r.workflow_id = workflow.into();
        let version = WorkflowVersion::new((*r.workflow).clone());
        store.create_run(&r, &version, &[]).await.unwrap();
        store.append_history(id, &[record(1)]).await.unwrap();
        if ended {
            store
                .append_history(id, &[Recorded::new(completed(2))])
                .await
                .unwrap();
        }
    }
    let prune = || store.delete_ended_runs("lab-load-", "lab-load-k-", 2);
    assert_eq!(prune().await.unwrap(), 2, "a chunk of at most 2");
    assert_eq!(prune().await.unwrap(), 1);
    assert_eq!(prune().await.unwrap(), 0, "nothing left to delete");
    for gone in ["o1", "o2", "o3"] {
        assert!(store.get_run(gone).await.unwrap().is_none(), "{gone}");
        assert!(
            store
                .history_after(gone, 0, usize::MAX)
                .await
                .unwrap()
                .is_empty(),
            "{gone}'s history"
        );
    }
    for kept in ["o4", "k1", "w1"] {
        assert!(store.get_run(kept).await.unwrap().is_some(), "{kept}");
        assert!(
            !store
                .history_after(kept, 0, usize::MAX)
                .await
                .unwrap()
                .is_empty(),
            "{kept}'s history"
        );
    }
}
