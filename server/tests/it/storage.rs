//! Storage stays bounded and edits are not lost: revisions with ETag / If-Match, retention
//! per workflow, runs that refer to one stored copy of their workflow, deleting a workflow
//! deleting its runs, and histories read in pages.

use crate::common;

use std::time::Duration;

use common::{collect, eventually, node, node_taking, TestServer};
use serde_json::{json, Value};

fn doc(name: &str) -> Value {
    json!({"name": name, "nodes": [node("a")], "edges": []})
}

#[tokio::test]
async fn a_stale_edit_is_refused_with_412_and_changes_nothing() {
    let server = TestServer::start().await;
    let id = server.create_workflow(&doc("First")).await;
    let url = server.url(&format!("/api/workflows/{id}"));
    let read = server.http.get(&url).send().await.unwrap();
    assert_eq!(read.headers()["etag"], "\"r1\"");
    // Tab one saves on top of revision 1.
    let saved = server
        .http
        .put(&url)
        .header("If-Match", "\"r1\"")
        .json(&doc("Tab one"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    assert_eq!(saved.headers()["etag"], "\"r2\"");
    let body: Value = saved.json().await.unwrap();
    assert_eq!(body["revision"], 2);
    // Tab two still thinks it edits revision 1.
    let stale = server
        .http
        .put(&url)
        .header("If-Match", "\"r1\"")
        .json(&doc("Tab two"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.headers()["etag"], "\"r2\"");
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["details"][0]["revision"], 2);
    assert!(
        body["error"].as_str().unwrap().contains("revision 2"),
        "{body}"
    );
    let now: Value = server.get_json(&format!("/api/workflows/{id}")).await;
    assert_eq!(now["name"], "Tab one");
    assert_eq!(now["revision"], 2);
    // A malformed If-Match is a 400, not a silent overwrite.
    let bad = server
        .http
        .put(&url)
        .header("If-Match", "yesterday")
        .json(&doc("Tab three"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // Without If-Match (a script that does not care), the save goes through.
    let blind = server
        .http
        .put(&url)
        .json(&doc("Script"))
        .send()
        .await
        .unwrap();
    assert_eq!(blind.headers()["etag"], "\"r3\"");
}

async fn run_to_end(server: &TestServer, workflow: &str) -> String {
    let response = server
        .post_json(&format!("/api/workflows/{workflow}/runs"), &json!({}))
        .await;
    assert_eq!(response.status(), 201);
    let run: Value = response.json().await.unwrap();
    let id = run["id"].as_str().unwrap().to_string();
    server.wait_run(&id).await;
    id
}

async fn count(server: &TestServer, query: &'static str) -> i64 {
    let url = format!(
        "sqlite://{}",
        server.dir.path().join("data/test.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar(query).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// How many rows `query` (a `SELECT COUNT(*) …`) counts.
async fn stored_runs_of(server: &TestServer, workflow: &str) -> i64 {
    let url = format!(
        "sqlite://{}",
        server.dir.path().join("data/test.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE workflow_id = ?")
        .bind(workflow)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn retention_keeps_the_newest_runs_and_one_copy_of_each_workflow() {
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |s| {
        s.keep_runs = 3;
        s.retention_sweep = Duration::from_millis(100);
    })
    .await;
    // Another workflow's runs keep the history writer busy all along: the sweep must prune
    // while others write (a sweep that read first and then wrote failed with "database is
    // locked" under load, and pruned nothing until the load stopped).
    let chain: Vec<Value> = (0..30).map(|i| node_taking(&format!("s{i}"), 0)).collect();
    let hops: Vec<Value> = (1..30)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "event"}))
        .collect();
    let busy = server
        .create_workflow(&json!({"name": "Busy", "nodes": chain, "edges": hops}))
        .await;
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let http = server.http.clone();
            let url = server.url(&format!("/api/workflows/{busy}/runs"));
            let started = started.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok(response) = http.post(&url).json(&json!({})).send().await {
                        if response.status() == 201 {
                            started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    while stored_runs_of(&server, &busy).await < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // From here, while the quick runs are made and pruned, the busy runs keep coming.
    let before = started.load(std::sync::atomic::Ordering::Relaxed);
    let quick = json!({"name": "Quick", "nodes": [node_taking("a", 0)], "edges": []});
    let workflow = server.create_workflow(&quick).await;
    let mut runs = Vec::new();
    for _ in 0..7 {
        runs.push(run_to_end(&server, &workflow).await);
    }
    // Seven runs of one document (and many of the busy one): one stored copy each.
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM workflow_versions").await,
        2
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM runs WHERE workflow <> ''").await,
        0
    );

    let listed = eventually(
        "pruning under load",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            let listed: Vec<Value> = server
                .get_json(&format!("/api/workflows/{workflow}/runs"))
                .await;
            if listed.len() == 3 {
                Ok(listed)
            } else {
                Err(format!("{} runs listed", listed.len()))
            }
        },
    )
    .await;
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let newest: Vec<&str> = runs[4..].iter().rev().map(String::as_str).collect();
    assert_eq!(ids, newest, "the newest three are kept");
    // Busy runs were started all along (how many are still stored depends on how fast
    // they end and are pruned, so that is not what is counted).
    let after = started.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        after > before,
        "the busy workflow was not busy ({before} → {after} started)"
    );
    for writer in writers {
        writer.abort();
    }
    let gone = server
        .http
        .get(server.url(&format!("/api/runs/{}", runs[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    // The busy workflow's runs come down to three too once they have ended.
    eventually(
        "the busy workflow's runs pruned to three",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            let stored = stored_runs_of(&server, &busy).await;
            if stored <= 3 {
                return Ok(());
            }
            let listed: Vec<Value> = server
                .get_json(&format!("/api/workflows/{busy}/runs?limit=200"))
                .await;
            let running = listed.iter().filter(|r| r["status"] == "running").count();
            Err(format!(
                "{stored} stored, {running} of the newest {} running",
                listed.len()
            ))
        },
    )
    .await;
    // History went with the runs: only the six kept runs have any. (Eventually: a busy
    // run whose request was already sent when its writer stopped may still be created,
    // and pruned at the next sweep.)
    eventually(
        "history of the six kept runs only",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            match count(&server, "SELECT COUNT(DISTINCT run) FROM run_history").await {
                6 => Ok(()),
                n => Err(format!("{n} runs have history")),
            }
        },
    )
    .await;

    // A new version of the document is stored once more; deleting the workflow deletes its
    // runs, their history and, with the last run referring to them, its stored versions.
    let url = server.url(&format!("/api/workflows/{workflow}"));
    let edited = json!({"name": "Quick v2", "nodes": [node_taking("a", 0)], "edges": []});
    let saved = server.http.put(&url).json(&edited).send().await.unwrap();
    assert_eq!(saved.status(), 200);
    run_to_end(&server, &workflow).await;
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM workflow_versions").await,
        3
    );
    assert_eq!(server.http.delete(&url).send().await.unwrap().status(), 204);
    assert_eq!(stored_runs_of(&server, &workflow).await, 0);
    assert_eq!(
        count(&server, "SELECT COUNT(DISTINCT run) FROM run_history").await,
        3
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM workflow_versions").await,
        1,
        "only the busy workflow's version is left"
    );
}

#[tokio::test]
async fn long_histories_are_read_in_pages_whole() {
    let server = TestServer::start().await;
    let steps = 800;
    let nodes: Vec<Value> = (0..steps)
        .map(|i| node_taking(&format!("s{i}"), 0))
        .collect();
    let edges: Vec<Value> = (1..steps)
        .map(|i| json!({"from": format!("s{}", i - 1), "to": format!("s{i}"), "kind": "command"}))
        .collect();
    let workflow = server
        .create_workflow(&json!({"name": "Long", "nodes": nodes, "edges": edges}))
        .await;
    let run = run_to_end(&server, &workflow).await;
    let report: Value = server.get_json(&format!("/api/runs/{run}")).await;
    let last = report["last_seq"].as_u64().unwrap();
    assert!(
        last > 2 * server::store::HISTORY_PAGE as u64,
        "{last} records: not enough to need pages"
    );
    assert_eq!(report["status"], "completed");
    let steps_done = report["steps"]
        .as_object()
        .unwrap()
        .values()
        .filter(|s| s["state"] == "succeeded")
        .count();
    assert_eq!(steps_done, steps, "the report read every page");
    let history = collect(server.ws_url(&format!("/api/runs/{run}/events?after=0"))).await;
    let seqs: Vec<u64> = history.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_linked_sqlite_has_the_2025_fixes() {
    // CVE-2025-6965 (fixed in 3.50.2), CVE-2025-29088 and CVE-2025-3277 (3.49.1): the
    // bundled SQLite must not fall back below these.
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts >= vec![3, 50, 2], "SQLite {version}");
}
