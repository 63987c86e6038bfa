//! Every importer stops at a limit *while* it builds: a small document that would expand
//! into millions of nodes, edges or pending branch ends is refused the moment a limit is
//! crossed, with a problem naming it.

use app::model::formats::{import, ImportError, ImportFormat, MAX_NESTING, MAX_PROBLEMS};
use app::model::validate::{MAX_DOCUMENT_BYTES, MAX_EDGES, MAX_NODES};
use app::model::DocumentError;
use serde_json::{json, Value};

fn refusal(result: Result<app::model::Workflow, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Unsupported(p)) => p.into_iter().map(|p| p.message).collect(),
        Err(ImportError::Document(DocumentError::Invalid(p))) => {
            p.into_iter().map(|p| p.message).collect()
        }
        other => panic!("expected a refusal, got {:?}", other.map(|w| w.nodes.len())),
    }
}

/// FORK_JOINs of `branches` empty branches, `forks` of them in a row: each fork multiplies
/// the pending exits by `branches` (the 6 KB document that killed the server).
fn fork_bomb(forks: usize, branches: usize) -> String {
    let mut tasks = vec![json!({"name": "start", "taskReferenceName": "start", "type": "SIMPLE"})];
    for f in 0..forks {
        let fork: Vec<Value> = (0..branches).map(|_| json!([])).collect();
        tasks.push(
            json!({"name": format!("f{f}"), "taskReferenceName": format!("f{f}"),
            "type": "FORK_JOIN", "forkTasks": fork}),
        );
    }
    tasks.push(json!({"name": "end", "taskReferenceName": "end", "type": "SIMPLE"}));
    json!({"name": "bomb", "tasks": tasks}).to_string()
}

#[test]
fn a_fork_bomb_is_refused_while_it_builds() {
    let text = fork_bomb(6, 100);
    assert!(text.len() < 8 * 1024, "{} bytes", text.len());
    // 100^6 pending exits if nothing stopped it; the budget stops it at the limit.
    let problems = refusal(import(&text, Some(ImportFormat::Conductor)));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&format!("the limit is {MAX_EDGES}")),
        "{problems:?}"
    );
}

#[test]
fn deep_nesting_is_refused_naming_the_limit() {
    let mut branch = json!([{"name": "leaf", "taskReferenceName": "leaf", "type": "SIMPLE"}]);
    for d in 0..(MAX_NESTING + 5) {
        branch = json!([{"name": format!("f{d}"), "taskReferenceName": format!("f{d}"),
            "type": "FORK_JOIN", "forkTasks": [branch]}]);
    }
    let text = json!({"name": "deep", "tasks": branch}).to_string();
    let problems = refusal(import(&text, Some(ImportFormat::Conductor)));
    assert!(
        problems[0].contains(&format!("the limit is {MAX_NESTING}")),
        "{problems:?}"
    );
}

#[test]
fn a_megabyte_of_distinct_names_stops_at_the_node_limit() {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < MAX_DOCUMENT_BYTES - 32 {
        text.push_str(&format!("step{i}\n"));
        i += 1;
    }
    assert!(i > 10 * MAX_NODES);
    let problems = refusal(import(&text, Some(ImportFormat::Text)));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains(&format!("more than {MAX_NODES} steps")),
        "{problems:?}"
    );
    // The same for a chain line, for the article's steps and for native JSON.
    let chain: Vec<String> = (0..MAX_NODES + 1).map(|i| format!("n{i}")).collect();
    let problems = refusal(import(&chain.join(" >> "), Some(ImportFormat::Text)));
    assert!(problems[0].contains("steps"), "{problems:?}");
    let steps: Vec<Value> = (0..MAX_NODES + 1)
        .map(|i| json!({"name": format!("s{i}"), "service": "S", "action": "a"}))
        .collect();
    let article = json!({"workflow": {"name": "big", "steps": steps}}).to_string();
    let problems = refusal(import(&article, Some(ImportFormat::Article)));
    assert!(
        problems[0].contains(&format!("{MAX_NODES}")),
        "{problems:?}"
    );
    let nodes: Vec<Value> = (0..MAX_NODES + 1)
        .map(|i| json!({"id": format!("n{i}"), "label": "L", "service": "S", "action": "a"}))
        .collect();
    let native = json!({"name": "big", "nodes": nodes, "edges": []}).to_string();
    let problems = refusal(import(&native, Some(ImportFormat::Native)));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("the limit is 2000"), "{problems:?}");
}

#[test]
fn a_flood_of_bad_lines_reports_at_most_the_problem_limit() {
    let text = "?? nonsense\n".repeat(50_000);
    let problems = refusal(import(&text, Some(ImportFormat::Text)));
    assert!(problems.len() <= MAX_PROBLEMS + 1, "{}", problems.len());
    assert!(
        problems.last().unwrap().contains("more problem"),
        "{problems:?}"
    );
}

#[test]
fn a_megabyte_of_any_format_is_answered_quickly_enough_to_measure_once() {
    // Not a timing assertion (that is the bench's job): it checks the large inputs of every
    // format are accepted or refused, never hang. `cargo bench -p server --bench import`
    // prints how long each takes.
    let edges: Vec<String> = (1..MAX_NODES)
        .map(|i| format!("n{} -> n{i}", i - 1))
        .collect();
    let w = import(&edges.join("\n"), Some(ImportFormat::Text)).unwrap();
    assert_eq!(w.nodes.len(), MAX_NODES);
    assert_eq!(w.edges.len(), MAX_NODES - 1);
}
