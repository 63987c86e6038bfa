//! Changing a run at the process that owns it, with the other processes played by a fake
//! behind the engine's one seam for them (`engine::peers::Peers`): the change goes to the
//! owner the store names, follows the run to a new owner when the first one lost it, and is
//! never called accepted unless an owner confirmed it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::api::RunSummary;
use async_trait::async_trait;
use server::clock::SystemClock;
use server::engine::control::ControlError;
use server::engine::peers::{Answer, Control, Link, Peers, PeersError, RecordBatches, Target};
use server::engine::{Engine, Membership, Wiring};
use server::store::{
    MemoryStore, OwnershipStore, Recorded, RunKind, RunStore, Store, StoredRun, WorkflowVersion,
    FIRST_EPOCH,
};

/// The other processes, as a script: each request to an owner is recorded and answered in
/// turn from `answers` (then `Unreachable`); `then` runs after each answer (e.g. a
/// takeover in the store).
struct Scripted {
    asked: Mutex<Vec<(String, Target)>>,
    answers: Mutex<Vec<Answer>>,
    then: Box<dyn Fn(usize) + Send + Sync>,
}

#[async_trait]
impl Peers for Scripted {
    fn publish_records(&self, _run_id: &str, _records: &[Recorded]) {}
    fn publish_summary(&self, _summary: &RunSummary) {}
    async fn follow(&self, _run_id: &str) -> Result<Option<RecordBatches>, PeersError> {
        Ok(None)
    }
    async fn ask(&self, owner: &str, target: Target) -> Answer {
        let n = {
            let mut asked = self.asked.lock().unwrap();
            asked.push((owner.to_string(), target));
            asked.len()
        };
        let answer = {
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                Answer::Unreachable
            } else {
                answers.remove(0)
            }
        };
        (self.then)(n);
        answer
    }
    fn link(&self) -> Link {
        Link::Connected
    }
}

/// A store holding one run in progress, owned by `owner`.
async fn store_with_run(owner: &str) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::default());
    let workflow = app::model::Workflow {
        name: "W".into(),
        ..Default::default()
    };
    let run = StoredRun {
        id: "r".into(),
        workflow_id: "w".into(),
        workflow: Arc::new(workflow.clone()),
        input: Arc::new(serde_json::json!({})),
        status: app::model::RunStatus::Running,
        started_at: 1,
        ended_at: None,
        speed: 1.0,
        owner: Some(owner.into()),
        epoch: FIRST_EPOCH,
        kind: RunKind::Run,
        parent: None,
    };
    store
        .create_run(&run, &WorkflowVersion::new(workflow), &[])
        .await
        .unwrap();
    store
        .renew_lease(owner, Duration::from_secs(60))
        .await
        .unwrap();
    store
}

fn engine_with(store: Arc<MemoryStore>, peers: Arc<Scripted>) -> Arc<Engine> {
    let wiring = Wiring {
        peers,
        ..Wiring::default()
    };
    let membership = Membership {
        process: "p1".into(),
        lease: Duration::from_secs(5),
    };
    Engine::wired(
        store as Arc<dyn Store>,
        Arc::new(SystemClock),
        membership,
        wiring,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_goes_to_the_owner_the_store_names_and_follows_the_run_to_its_next_owner() {
    let store = store_with_run("p2").await;
    // p2 lost the run while the change was on its way; p3 took it over meanwhile.
    let takeover = {
        let store = store.clone();
        move |n: usize| {
            if n == 1 {
                let store = store.clone();
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        store.end_lease("p2").await.unwrap();
                        store
                            .renew_lease("p3", Duration::from_secs(60))
                            .await
                            .unwrap();
                        assert_eq!(store.claim_runs("p3", false, 10).await.unwrap().len(), 1);
                    })
                });
            }
        }
    };
    let peers = Arc::new(Scripted {
        asked: Mutex::default(),
        answers: Mutex::new(vec![Answer::Fenced, Answer::Applied]),
        then: Box::new(takeover),
    });
    let engine = engine_with(store.clone(), peers.clone());
    engine.control("r", Control::Cancel).await.unwrap();
    let asked = peers.asked.lock().unwrap().clone();
    let owners: Vec<&str> = asked.iter().map(|(owner, _)| owner.as_str()).collect();
    assert_eq!(owners, ["p2", "p3"], "to the owner, then to the next one");
    assert_eq!(
        asked[1].1,
        Target::Run {
            run: "r".into(),
            control: Control::Cancel
        }
    );
}

/// On tokio's paused clock: the eight seconds of patience pass at once.
#[tokio::test(start_paused = true)]
async fn a_change_no_owner_confirms_is_refused_not_accepted() {
    let store = store_with_run("p2").await;
    let peers = Arc::new(Scripted {
        asked: Mutex::default(),
        answers: Mutex::new(Vec::new()),
        then: Box::new(|_| {}),
    });
    let engine = engine_with(store, peers.clone());
    let started = tokio::time::Instant::now();
    let refused = engine
        .control(
            "r",
            Control::CrashOrchestrator {
                for_ms: 100,
                standby_lease_ms: None,
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(ControlError::Unconfirmed { why, .. }) if why.contains("p2 did not answer")),
        "{refused:?}"
    );
    assert!(
        started.elapsed() >= server::engine::control::CONTROL_PATIENCE - Duration::from_millis(200),
        "asked again until its patience ran out"
    );
    assert!(
        peers.asked.lock().unwrap().len() > 1,
        "asked more than once"
    );
    // An unknown run and an ended one are told apart.
    assert!(matches!(
        engine.control("nope", Control::Cancel).await,
        Err(ControlError::NotFound(_))
    ));
}
