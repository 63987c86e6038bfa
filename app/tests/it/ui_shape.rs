//! The browser code's shape, checked on every `make test`: among the top modules of
//! `app/src/ui` no two import each other, directly or round a circle; no panel imports a page
//! (`editor`, `lab`, `learn`), and no page imports another. Imports are read as text
//! (`super::x`, `crate::ui::x`, `ui::x`, and the heads of `{…}` groups), comments left out —
//! as `../shared/tools/ui-shape` reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const PAGES: [&str; 3] = ["editor", "lab", "learn"];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read app/src/ui") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without `//` comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module names a source refers to through `super::`, `crate::ui::` or `ui::`.
fn references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for prefix in ["super::", "crate::ui::", "ui::"] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            let after = &rest[at + prefix.len()..];
            rest = after;
            // `ui::` inside another path (`crate::ui::` is read by its own prefix).
            if prefix == "ui::"
                && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            if let Some(group) = after.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for part in group.split(',') {
                    let head = part.trim().split("::").next().unwrap_or("");
                    found.insert(head.to_string());
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                found.insert(name);
            }
        }
    }
    found
}

/// The import graph between the top modules of `app/src/ui`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut files = Vec::new();
    sources(&ui, &mut files);
    let top = |path: &Path| -> String {
        let rel = path.strip_prefix(&ui).expect("under ui");
        let first = rel
            .components()
            .next()
            .expect("a file")
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        first.trim_end_matches(".rs").to_string()
    };
    let names: BTreeSet<String> = files
        .iter()
        .map(|f| top(f))
        .filter(|n| n != "mod")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> =
        names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for file in &files {
        let module = top(file);
        if module == "mod" {
            continue;
        }
        let text = code(&std::fs::read_to_string(file).expect("read a source"));
        for target in references(&text) {
            if target != module && names.contains(&target) {
                edges.get_mut(&module).expect("a module").insert(target);
            }
        }
    }
    edges
}

/// The circles of the graph: its strongly connected parts of more than one module.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in &edges[&m] {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for m in edges.keys() {
        let circle: Vec<String> = edges
            .keys()
            .filter(|n| *n == m || (reached[m].contains(*n) && reached[*n].contains(m)))
            .cloned()
            .collect();
        if circle.len() > 1 && !out.contains(&circle) {
            out.push(circle);
        }
    }
    out
}

#[test]
fn no_import_circle_among_the_ui_modules_and_no_page_imported_by_another_module() {
    let edges = graph();
    assert!(
        edges.len() >= 10,
        "the ui modules were not found: {edges:?}"
    );
    for page in PAGES {
        assert!(edges.contains_key(page), "no page {page}");
    }
    let circles = circles(&edges);
    assert!(circles.is_empty(), "import circles: {circles:?}");
    let mut wrong = Vec::new();
    for (module, targets) in &edges {
        for page in PAGES {
            if targets.contains(page) {
                wrong.push(format!("{module} imports the page {page}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn the_check_finds_a_circle_and_a_page_import_when_there_is_one() {
    let text =
        "use super::{canvas, state::Document};\nuse crate::ui::editor::x; // crate::ui::lab\n";
    let found = references(&code(text));
    assert_eq!(
        found,
        ["canvas", "editor", "state"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_string(), t.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        circles(&edges),
        vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]
    );
}
