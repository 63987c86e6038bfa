//! The Learn page's experiments against a real server: every lesson's parts run on the
//! shipped templates through the lab's API, and the figures read from the results show
//! what the lesson claims.

use crate::common;

use std::time::Duration;

use app::model::lab::{Batch, LoadTest};
use app::model::lessons::{figures, value, Finished, Part, LESSONS};
use common::{eventually, TestServer};

async fn finish(server: &TestServer, part: Part) -> Finished {
    let (path, body) = match &part {
        Part::Compare(r) => ("/api/lab/batches", serde_json::to_value(r).unwrap()),
        Part::Load(r) => ("/api/lab/loads", serde_json::to_value(r).unwrap()),
    };
    // One load test at a time: the one before may still be deleting its runs (503, "wait
    // for it to end"), as a user clicking again at once would see.
    let started: serde_json::Value = eventually(
        &format!("{path} taking the request"),
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let response = server.post_json(path, &body).await;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                Ok(serde_json::from_str(&text).unwrap())
            } else {
                assert_eq!(status, 503, "{path}: {text}");
                Err(text)
            }
        },
    )
    .await;
    let at = format!("{path}/{}", started["id"].as_str().unwrap());
    let ended: serde_json::Value = eventually(
        &format!("the end of {at}"),
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async {
            let value: serde_json::Value = server.get_json(&at).await;
            if value["state"] == "done" {
                Ok(value)
            } else {
                Err(value["state"].to_string())
            }
        },
    )
    .await;
    match part {
        Part::Compare(_) => {
            Finished::Compare(Box::new(serde_json::from_value::<Batch>(ended).unwrap()))
        }
        Part::Load(_) => {
            Finished::Load(Box::new(serde_json::from_value::<LoadTest>(ended).unwrap()))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lesson_proves_its_claim_on_the_shipped_templates() {
    let server = TestServer::start().await;
    for lesson in LESSONS {
        for key in lesson.examples {
            assert!(
                app::model::examples::template(key).is_some(),
                "{}: no template {key}",
                lesson.key
            );
        }
        let mut done = Vec::new();
        for part in (lesson.parts)() {
            done.push(finish(&server, part).await);
        }
        // Every compare's reading opens with its headline finding.
        for part in &done {
            if let Finished::Compare(batch) = part {
                let reading = &batch.result.as_ref().unwrap().reading;
                assert!(
                    reading[0].starts_with("Headline: "),
                    "{}: {reading:?}",
                    lesson.key
                );
            }
        }
        if lesson.key == "errors" {
            let Finished::Compare(stock) = &done[1] else {
                panic!("a batch")
            };
            assert_eq!(
                stock.result.as_ref().unwrap().reading[0],
                "Headline: orchestration handled every failure; choreography left 20 of 20 runs with a failure nobody handled"
            );
        }
        let found = figures(lesson.key, &done);
        assert!(!found.is_empty(), "{}: no figures", lesson.key);
        let v = |id: &str| {
            value(&found, id).unwrap_or_else(|| panic!("{}: no figure {id}", lesson.key))
        };
        match lesson.key {
            "single_point" => {
                assert!(
                    v("orchestration_p50") >= v("choreography_p50") + 2_000.0,
                    "{found:?}"
                );
                assert!(v("standby_p50") < v("orchestration_p50"), "{found:?}");
            }
            "bottleneck" => {
                assert!(
                    v("orchestration_throughput") < 0.75 * v("rate"),
                    "{found:?}"
                );
                assert!(
                    v("choreography_throughput") > 1.5 * v("orchestration_throughput"),
                    "{found:?}"
                );
                assert!(
                    v("orchestration_queue") > 0.0 && v("choreography_queue") == 0.0,
                    "{found:?}"
                );
            }
            // The sentence explains the cost by the replies the orchestrator handles: the
            // measured difference is that, give or take the services' random times.
            "hop" => {
                assert_eq!(v("hop_replies"), 3.0, "{found:?}");
                assert_eq!(v("hop_modelled"), 30.0, "{found:?}");
                let (cost, modelled) = (v("hop_cost"), v("hop_modelled"));
                assert!(
                    cost >= 0.5 * modelled && cost <= 1.5 * modelled,
                    "{found:?}"
                );
            }
            "errors" => {
                assert_eq!(v("card_handled_orchestration"), v("runs"), "{found:?}");
                assert_eq!(v("stock_compensated_orchestration"), v("runs"), "{found:?}");
                assert!(v("stock_broken_choreography") > 0.0, "{found:?}");
            }
            "coupling" => {
                assert!(
                    v("orchestrator_knows") > 1.0 && v("service_knows_orchestration") == 1.0,
                    "{found:?}"
                );
                assert!(v("event_contracts") > 0.0, "{found:?}");
            }
            "visibility" => {
                assert_eq!(v("orchestration_places"), 1.0, "{found:?}");
                assert_eq!(v("orchestration_logs"), 1.0, "{found:?}");
                assert!(v("choreography_places") >= 3.0, "{found:?}");
                assert!(
                    v("choreography_logs") > v("choreography_places"),
                    "{found:?}"
                );
                assert!(v("longest_chain") >= 3.0, "{found:?}");
            }
            "semantic" => assert!(v("large_steps") > v("small_steps"), "{found:?}"),
            "hybrid" => {
                assert!(
                    v("hybrid_orchestrator_messages") < v("orchestration_orchestrator_messages"),
                    "{found:?}"
                );
                assert!(v("hybrid_knows") < v("orchestration_knows"), "{found:?}");
            }
            "waiting" => {
                let never = v("orchestrated_compensated");
                assert!(never > 0.0, "{found:?}");
                assert_eq!(v("unwatched_stalled"), never, "{found:?}");
                assert_eq!(v("watched_handled"), never, "{found:?}");
            }
            "conditional_choice" => {
                assert_eq!(v("rule_orchestrator"), 1.0, "{found:?}");
                assert_eq!(v("rule_publisher"), 1.0, "{found:?}");
                assert_eq!(v("rule_subscribers"), 3.0, "{found:?}");
            }
            "rely_on_input" => {
                assert_eq!(v("lean_queries"), 1.0, "{found:?}");
                assert_eq!(v("carried_queries"), 0.0, "{found:?}");
                assert_eq!(v("orchestrated_queries"), 0.0, "{found:?}");
                // The query's wait: Order Placement's answer, 50 to 150 ms.
                let added = v("lean_p50") - v("carried_p50");
                assert!((50.0..=150.0).contains(&added), "{found:?}");
            }
            // The choreographed saga breaks under some schedule; orchestrated, none does.
            "find_the_bug" => {
                assert!(v("choreographed_broken") > 0.0, "{found:?}");
                assert!(
                    v("choreographed_schedules") > v("choreographed_broken"),
                    "{found:?}"
                );
                assert_eq!(v("orchestrated_broken"), 0.0, "{found:?}");
                assert!(v("orchestrated_schedules") > 0.0, "{found:?}");
                let Finished::Compare(batch) = &done[0] else {
                    panic!("a batch")
                };
                let reading = &batch.result.as_ref().unwrap().reading;
                assert!(
                    reading[0].starts_with("Headline: as drawn: ")
                        && reading[0]
                            .contains(" schedules break an invariant. Shortest, against “"),
                    "{reading:?}"
                );
                assert!(
                    reading[1].starts_with("orchestration: No schedule breaks an invariant ("),
                    "{reading:?}"
                );
            }
            other => panic!("a lesson without a check: {other}"),
        }
    }
}
