//! Scenarios as tests: a document's scenarios run to their ends and are checked against
//! what each expects and the flow's assertions — the shipped templates' scenarios, a
//! planted ordering bug, a fact that only a fault breaks (found by the explorer too), the
//! refusals of a bad document, the command line with its JUnit report, and the API.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::common::TestServer;
use app::i18n::Locale;
use app::model::examples::{self, from_template, template, template_id, ALL};
use app::model::scenario::{Assertions, Difference, Never, MAX_SCENARIOS};
use app::model::{parse_workflow, RunStatus, StepState, Workflow};
use serde_json::{json, Value};
use server::lab::simulate::Library;
use server::verify::scenarios::run_scenarios;
use server::verify::{explore, Bounds, Choice, Forced, Invariant};

fn templates() -> Library {
    Arc::new(
        ALL.iter()
            .map(|e| (template_id(e.key), from_template(e)))
            .collect(),
    )
}

fn said(workflow: &Workflow, differences: &[Difference], l: Locale) -> Vec<String> {
    differences.iter().map(|d| d.words(workflow, l)).collect()
}

#[test]
fn every_shipped_scenario_passes_as_its_template_keeps_it() {
    let library = templates();
    let mut scenarios = 0;
    for example in ALL {
        let workflow = from_template(example);
        let report = run_scenarios(&library, &workflow);
        assert_eq!(
            report.results.len(),
            example.scenarios.len(),
            "{}",
            example.key
        );
        for r in &report.results {
            assert!(
                r.passed,
                "{} / {}: {:?}",
                example.key, r.name, r.differences
            );
        }
        assert_eq!(report.failed, 0);
        scenarios += report.results.len();
    }
    assert!(
        scenarios > ALL.len(),
        "some templates keep several scenarios"
    );
    assert_eq!(
        run_scenarios(
            &library,
            &from_template(template("ecommerce-choreographed").unwrap())
        )
        .headline(Locale::en),
        "All 3 scenarios pass."
    );
}

/// The orchestrated flow's expectations held against the choreographed flow: the
/// differences say, step by step, what the article says differs.
#[test]
fn a_scenario_that_fails_names_every_difference_in_both_languages() {
    let orchestrated = from_template(template("ecommerce-orchestrated").unwrap());
    let choreographed = Workflow {
        scenarios: orchestrated.scenarios.clone(),
        ..from_template(template("ecommerce-choreographed").unwrap())
    };
    let report = run_scenarios(&templates(), &choreographed);
    assert_eq!((report.passed, report.failed), (2, 1));
    assert_eq!(report.headline(Locale::en), "1 of 3 scenarios fail.");
    assert_eq!(
        report.headline(Locale::ko),
        "시나리오 3개 중 1개가 실패합니다."
    );
    let out_of_stock = &report.results[2];
    assert_eq!(out_of_stock.name, "Out of stock");
    assert_eq!(out_of_stock.status, RunStatus::Completed);
    assert_eq!(
        said(&choreographed, &out_of_stock.differences, Locale::en),
        [
            "the run ended completed; expected compensated",
            "Order Placement ended succeeded; expected compensated",
            "Payment ended succeeded; expected compensated",
        ]
    );
    assert_eq!(
        said(&choreographed, &out_of_stock.differences[..1], Locale::ko),
        ["실행이 완료로 끝났습니다. 기대한 끝은 보상됨입니다"]
    );
}

/// Email wired to the order instead of the fulfilment: the `never` ordering catches it
/// on the happy path, and the explorer with no fault at all.
#[test]
fn a_never_ordering_catches_a_step_that_starts_too_early() {
    let mut workflow = from_template(template("ecommerce-choreographed").unwrap());
    workflow.assertions = Assertions {
        never: vec![Never {
            step: "email".into(),
            before: "payment".into(),
        }],
        always: vec![],
    };
    let report = run_scenarios(&templates(), &workflow);
    assert_eq!(report.failed, 0, "{:?}", report.results);
    let wired = workflow.edges.iter_mut().find(|e| e.to == "email").unwrap();
    wired.from = "order".into();
    wired.event = Some("OrderPlaced".into());
    let report = run_scenarios(&templates(), &workflow);
    let happy = &report.results[0];
    assert!(!happy.passed);
    let words = said(&workflow, &happy.differences, Locale::en);
    let broken = words
        .iter()
        .find(|w| w.starts_with("Email started at "))
        .unwrap_or_else(|| panic!("{words:?}"));
    assert!(
        broken.ends_with(" ms, before Payment had succeeded"),
        "{broken}"
    );
    let found = explore(
        &workflow,
        &json!({}),
        1,
        Bounds::default(),
        &AtomicBool::new(false),
    );
    let asserted = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::Asserted)
        .expect("the explorer checks the flow's own assertions");
    assert!(asserted.choices.is_empty(), "no fault is needed");
    assert!(
        asserted
            .story(&workflow, Locale::en)
            .starts_with("nothing goes wrong: Email started at "),
        "{}",
        asserted.story(&workflow, Locale::en)
    );
}

/// `always paid implies shipped`: true when nothing goes wrong; the explorer finds the one
/// fault that breaks it, and a scenario with that fault reports the final data.
#[test]
fn an_always_fact_broken_only_by_a_fault_is_found_and_reported_with_the_data() {
    let doc = json!({
        "name": "Pay then ship",
        "nodes": [
            {"id": "pay", "label": "Pay", "service": "Payments", "action": "charge", "latency_ms": 100,
             "compensation": "refund", "writes": {"paid": true}},
            {"id": "ship", "label": "Ship", "service": "Shipping", "action": "ship", "latency_ms": 100,
             "writes": {"shipped": true}}],
        "edges": [{"from": "pay", "to": "ship", "kind": "command"}],
        "assertions": {"always": ["!paid || shipped"]},
        "scenarios": [
            {"name": "Ships", "input": {"paid": false, "shipped": false}, "expect": {"outcome": "completed"}},
            {"name": "Shipping down", "input": {"paid": false, "shipped": false},
             "faults": {"services": {"Shipping": {"down": true}}},
             "expect": {"outcome": "compensated", "steps": {"pay": "compensated"}}}
        ]
    });
    let workflow = parse_workflow(doc.to_string().as_bytes()).expect("valid");
    let report = run_scenarios(&Library::default(), &workflow);
    assert!(report.results[0].passed, "{:?}", report.results[0]);
    let down = &report.results[1];
    assert_eq!(down.status, RunStatus::Compensated);
    assert_eq!(
        said(&workflow, &down.differences, Locale::en),
        [
            r#"“!paid || shipped” does not hold at the end (run data: {"paid":true,"shipped":false})"#
        ]
    );
    assert_eq!(
        said(&workflow, &down.differences, Locale::ko),
        [
            r#"끝에서 “!paid || shipped”가 성립하지 않습니다(실행 데이터: {"paid":true,"shipped":false})"#
        ]
    );
    let found = explore(
        &workflow,
        &json!({"paid": false, "shipped": false}),
        1,
        Bounds {
            bus_faults: 0,
            crash: false,
            ..Bounds::default()
        },
        &AtomicBool::new(false),
    );
    let asserted = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::Asserted)
        .expect("a fault breaks the fact");
    assert_eq!(
        asserted.choices,
        [Choice::Attempt {
            node: "ship".into(),
            execution: 1,
            attempt: 1,
            forced: Forced::Fail
        }]
    );
    assert!(matches!(
        asserted.broke,
        Some(Difference::Always { index: 0, .. })
    ));
}

#[test]
fn a_document_with_bad_scenarios_or_assertions_is_refused_naming_each() {
    let doc = json!({
        "name": "Bad",
        "nodes": [{"id": "a", "label": "A", "service": "S", "action": "x"}],
        "scenarios": [
            {"name": "One"},
            {"name": "One", "expect": {"outcome": "running"}},
            {"name": "Three", "faults": {"bus": {"drop": 2.0}}}
        ],
        "assertions": {"never": [{"step": "a", "before": "a"}],
                       "always": ["amount >"]}
    });
    let Err(app::model::validate::DocumentError::Invalid(problems)) =
        parse_workflow(doc.to_string().as_bytes())
    else {
        panic!("refused");
    };
    let at = |path: &str| {
        problems
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path}: {problems:?}"))
            .message
            .clone()
    };
    assert_eq!(
        at("scenarios[1].name"),
        "another scenario is already called “One”"
    );
    assert_eq!(
        at("scenarios[1].expect.outcome"),
        "a run ends completed, compensated or failed"
    );
    assert_eq!(
        at("scenarios[2].faults"),
        "faults.bus.drop must be a probability between 0 and 1, got 2"
    );
    assert_eq!(
        at("assertions.never[0].before"),
        "a step cannot start before itself has succeeded: name two steps"
    );
    assert!(!at("assertions.always[0]").is_empty());
    assert_eq!(problems.len(), 5, "{problems:?}");
    // Too many scenarios are refused before any is built.
    let many: Vec<Value> = (0..=MAX_SCENARIOS)
        .map(|i| json!({"name": format!("s{i}")}))
        .collect();
    let doc = json!({"name": "Many", "nodes": [], "scenarios": many});
    let Err(app::model::validate::DocumentError::Invalid(problems)) =
        parse_workflow(doc.to_string().as_bytes())
    else {
        panic!("refused");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "scenarios");
    assert!(problems[0].message.contains(&MAX_SCENARIOS.to_string()));
}

fn hybridflow(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hybridflow"))
        .args(args)
        .env_remove("HYBRIDFLOW_SERVER")
        .output()
        .expect("run hybridflow")
}

#[test]
fn hybridflow_test_runs_each_files_scenarios_with_exit_codes_and_a_junit_report() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, workflow: &Workflow| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(workflow).unwrap()).unwrap();
        path.to_string_lossy().into_owned()
    };
    let choreographed = from_template(template("ecommerce-choreographed").unwrap());
    let passing = write("choreographed.json", &choreographed);
    let out = hybridflow(&["test", &passing]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("E-commerce (choreographed): All 3 scenarios pass."),
        "{stdout}"
    );
    assert!(stdout.contains("  ✓ Out of stock (completed, "), "{stdout}");
    let wrong = Workflow {
        scenarios: from_template(template("ecommerce-orchestrated").unwrap()).scenarios,
        ..choreographed.clone()
    };
    let failing = write("wrong.json", &wrong);
    let junit = dir.path().join("scenarios.xml");
    let out = hybridflow(&[
        "test",
        &passing,
        &failing,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(8), "{stdout}");
    assert!(stdout.contains("  ✗ Out of stock (completed, "), "{stdout}");
    assert!(
        stdout.contains("      Payment ended succeeded; expected compensated"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testsuites name="hybridflow test" tests="6" skipped="0" failures="1""#),
        "{xml}"
    );
    assert!(xml.contains(r#"<testcase name="Out of stock""#), "{xml}");
    assert!(
        xml.contains(r#"<failure message="the run ended completed; expected compensated; "#),
        "{xml}"
    );
    // In Korean, and as JSON.
    let out = hybridflow(&["test", &failing, "--json", "--lang", "ko"]);
    assert_eq!(out.status.code(), Some(8));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["failed"], 1);
    assert_eq!(doc["headline"], "시나리오 3개 중 1개가 실패합니다.");
    assert_eq!(doc["results"][2]["differences"][0]["type"], "outcome");
    assert_eq!(
        doc["results"][2]["said"][0],
        "실행이 완료로 끝났습니다. 기대한 끝은 보상됨입니다"
    );
    // A file that keeps no scenario: nothing to run is not a pass.
    let bare = write("bare.json", &examples::order_processing());
    let out = hybridflow(&["test", &bare]);
    assert_eq!(out.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scenario to run"));
}

#[tokio::test]
async fn the_api_runs_a_stored_workflows_scenarios() {
    let server = TestServer::start().await;
    let report: Value = server
        .post_json(
            "/api/workflows/template-ecommerce-orchestrated/test",
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["workflow"], "E-commerce (orchestrated)");
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(report["results"][2]["name"], "Out of stock");
    assert_eq!(report["results"][2]["status"], "compensated");
    // A stored copy whose expectation is wrong fails, saying how.
    let mut wrong = from_template(template("ecommerce-orchestrated").unwrap());
    wrong.template = None;
    wrong.scenarios[0]
        .expect
        .steps
        .insert("email".into(), StepState::Skipped);
    let id = server
        .create_workflow(&serde_json::to_value(&wrong).unwrap())
        .await;
    let response = server
        .post_json(&format!("/api/workflows/{id}/test"), &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["failed"], 1);
    assert_eq!(
        report["results"][0]["differences"][0],
        json!({"type": "step", "node": "email", "expected": "skipped", "got": "succeeded"})
    );
    let missing = server
        .post_json("/api/workflows/no-such/test", &json!({}))
        .await;
    assert_eq!(missing.status(), 404);
}

/// A step deleted after a scenario was kept: the document still saves, and the test says
/// what it can no longer check.
#[test]
fn a_scenario_naming_a_deleted_step_fails_saying_so() {
    let mut workflow = from_template(template("ecommerce-orchestrated").unwrap());
    workflow.template = None;
    workflow.assertions.never.push(Never {
        step: "email".into(),
        before: "fulfillment".into(),
    });
    workflow.apply(app::model::edit::GraphChange::RemoveNode("email".into()));
    let text = serde_json::to_string(&workflow).unwrap();
    let workflow = parse_workflow(text.as_bytes()).expect("still a valid document");
    let report = run_scenarios(&templates(), &workflow);
    let happy = &report.results[0];
    assert_eq!(
        said(&workflow, &happy.differences, Locale::en),
        ["the flow has no step email any more, which this test names"]
    );
    assert_eq!(
        said(&workflow, &happy.differences, Locale::ko),
        ["이 테스트가 가리키는 email 단계가 흐름에 더 이상 없습니다"]
    );
}

/// A Korean story ends with how the run ended in Korean, not the engine's English
/// diagnosis (which English keeps, being more precise).
#[test]
fn a_counterexample_story_speaks_the_readers_language_to_its_end() {
    let workflow = from_template(template("ecommerce-choreographed").unwrap());
    let found = explore(
        &workflow,
        &json!({}),
        1,
        Bounds::default(),
        &AtomicBool::new(false),
    );
    let stalled = found
        .counterexamples
        .iter()
        .find(|c| c.invariant == Invariant::Ends)
        .expect("a lost event stalls the choreographed saga");
    let en = stalled.story(&workflow, Locale::en);
    assert!(en.contains(": stalled: the bus lost "), "{en}");
    let ko = stalled.story(&workflow, Locale::ko);
    assert!(ko.ends_with(": ⏸ 멈춤"), "{ko}");
    assert!(!ko.contains("stalled"), "{ko}");
}

/// An `always` fact that reads but cannot be evaluated on the run's final data (it names a
/// value the run never wrote) fails its scenario saying why, not "does not hold".
#[test]
fn an_always_fact_that_cannot_be_evaluated_at_the_end_says_why() {
    let doc = json!({
        "name": "Refunds",
        "nodes": [{"id": "pay", "label": "Pay", "service": "Payments", "action": "charge", "latency_ms": 100,
                   "writes": {"paid": true}}],
        "edges": [],
        "assertions": {"always": ["refunded_total > 0"]},
        "scenarios": [{"name": "Pays", "expect": {"outcome": "completed"}}]
    });
    let workflow = parse_workflow(doc.to_string().as_bytes()).expect("valid: the fact reads");
    let report = run_scenarios(&Library::default(), &workflow);
    let pays = &report.results[0];
    assert!(!pays.passed);
    assert!(
        matches!(
            &pays.differences[..],
            [Difference::AlwaysUnreadable { index: 0, .. }]
        ),
        "{:?}",
        pays.differences
    );
    let said = said(&workflow, &pays.differences, Locale::en);
    assert!(
        said[0].starts_with("“refunded_total > 0” cannot be evaluated at the end: "),
        "{said:?}"
    );
    assert!(said[0].contains("refunded_total"), "{said:?}");
}

/// At most `MAX_RUNNING_TESTS` workflows' scenarios run at once: a third request while two
/// long ones run is refused with 503 and says why; once they end, it goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_a_third_test_while_two_run() {
    let server = TestServer::start().await;
    // 990 steps in a chain (under the 1,000 hops of a causal chain), 50 scenarios: about
    // a second of work for each request.
    let nodes: Vec<Value> = (0..990)
        .map(|i| json!({"id": format!("s{i}"), "label": format!("S{i}"), "service": format!("Svc{}", i % 5),
                        "action": "do", "latency_ms": 2}))
        .collect();
    let edges: Vec<Value> = (0..989)
        .map(|i| json!({"from": format!("s{i}"), "to": format!("s{}", i + 1), "kind": "command"}))
        .collect();
    let scenarios: Vec<Value> = (0..50)
        .map(|k| json!({"name": format!("Run {k}"), "seed": k, "expect": {"outcome": "completed"}}))
        .collect();
    let id = server
        .create_workflow(
            &json!({"name": "Heavy", "nodes": nodes, "edges": edges, "scenarios": scenarios}),
        )
        .await;
    let path = format!("/api/workflows/{id}/test");
    let empty = json!({});
    let asked = (0..4).map(|_| server.post_json(&path, &empty));
    let answers = futures::future::join_all(asked).await;
    let mut refused = 0;
    let mut answered = 0;
    for answer in answers {
        match answer.status().as_u16() {
            200 => {
                let report: Value = answer.json().await.unwrap();
                assert_eq!(report["passed"], 50, "{}", report["results"][0]);
                answered += 1;
            }
            503 => {
                let body: Value = answer.json().await.unwrap();
                assert_eq!(
                    body["error"],
                    "2 workflows' scenarios are running; try again when one has ended",
                    "{body}"
                );
                refused += 1;
            }
            other => panic!("a test request answered {other}"),
        }
    }
    assert!(
        refused >= 1 && answered >= 2,
        "{answered} answered, {refused} refused"
    );
    // The permits came back: the next request runs.
    assert_eq!(server.post_json(&path, &json!({})).await.status(), 200);
}
