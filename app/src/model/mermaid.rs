//! Mermaid `flowchart`, both ways. The export draws commands `-->`, events
//! `-. Name .->`, failure routes labelled (`-- on failure -->`, `-. on failure: Name .->`)
//! and red; the import reads that subset back (and Mermaid's other spellings of the same
//! links, `-->|text|`, `-.->|Name|`), so a workflow survives export → import.
//!
//! Mermaid ids are ASCII letters, digits and underscores: a step whose id is not one
//! (Korean, say) gets a generated `n<k>` with the real id in a `%% n1 = real-id` comment
//! beside it; the rest of a step (its behaviour, its position) rides in a
//! `%% n1 details {…}` comment, a link's condition, loop bound and payload in a
//! `%% link 3 details {…}` comment (links counted as `linkStyle` counts them), and the
//! workflow's name in the front matter's `title`.
//! Mermaid shows none of the comments; the import reads them all. A hand-drawn decision —
//! a rhombus (`check{Amount?}`) after a step, its links labelled with conditions
//! (`-->|amount > 1000|`, `-->|else|`) — becomes that step's conditional edges.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::formats::{assemble, capped, edge, line_at, problem, Budget, ImportError, OverBudget};
use super::validate::Problem;
use super::workflow::{EdgeKind, Node, Outcome, Workflow};
use crate::i18n::Locale;

/// The label of a command taken on failure.
const ON_FAILURE: &str = "on failure";

// ---- export --------------------------------------------------------------------------

/// Mermaid ids given so far: by node id, and the set of those used.
#[derive(Default)]
struct MermaidIds {
    by_node: HashMap<String, String>,
    used: HashSet<String>,
}

/// A Mermaid id for a node id. An ASCII id keeps its look (other characters become `_`,
/// `notify-rejected` → `notify_rejected`); an id with other letters (Korean, say) gets a
/// generated `n<k>` rather than a row of underscores.
fn mermaid_id(id: &str, taken: &mut MermaidIds) -> String {
    if let Some(m) = taken.by_node.get(id) {
        return m.clone();
    }
    let mut m: String = if id.is_ascii() {
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    } else {
        format!("n{}", taken.by_node.len() + 1)
    };
    if m.is_empty() || m.starts_with(|c: char| c.is_ascii_digit()) {
        m.insert(0, 'n');
    }
    while taken.used.contains(&m) {
        m.push('_');
    }
    taken.used.insert(m.clone());
    taken.by_node.insert(id.to_string(), m.clone());
    m
}

/// Text for a `%%` comment: one line.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Text inside a quoted label or between link dashes: Mermaid's entity codes for what
/// would end it, and for `<` and `>`, so no text can pass for the markup the export writes
/// around it (a label `Pay<br/><small>Evil.steal</small>` would otherwise come back with
/// the service `Evil`; `>` could also close a link early, found by the `mermaid` fuzz
/// target).
fn text(s: &str) -> String {
    s.replace('#', "#35;")
        .replace('"', "#quot;")
        .replace('|', "#124;")
        .replace('<', "#60;")
        .replace('>', "#62;")
        .replace(['\n', '\r'], " ")
}

/// Words a link's text must not begin with, as the reader or Mermaid would take them for
/// syntax (`on failure` marks a failure route; `end` closes a subgraph in Mermaid).
const RESERVED: [&str; 2] = [ON_FAILURE, "end"];

/// Text between a link's dashes: a reserved word at its start (an event named
/// `on failure: X` is not a failure route) is written with its first letter as an entity.
fn link_text(s: &str) -> String {
    let t = text(s);
    let lower = t.to_lowercase();
    let reserved = RESERVED.iter().any(|word| {
        lower.starts_with(word)
            && lower[word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    });
    match t.chars().next() {
        Some(first) if reserved => format!("#{};{}", u32::from(first), &t[first.len_utf8()..]),
        _ => t,
    }
}

/// `flowchart LR` with the workflow's name as its title.
pub fn to_mermaid(workflow: &Workflow) -> String {
    let mut ids = MermaidIds::default();
    let title = serde_json::to_string(&workflow.name).unwrap_or_default();
    let mut out = format!("---\ntitle: {title}\n---\nflowchart LR\n");
    for node in &workflow.nodes {
        let id = mermaid_id(&node.id, &mut ids);
        if id != node.id {
            let _ = writeln!(out, "    %% {id} = {}", comment(&node.id));
        }
        let _ = writeln!(out, "    %% {id} details {}", Value::Object(node.details()));
        // Mermaid's own shapes where it has one: a subroutine for a sub-flow, a stadium
        // for a wait or a timer.
        let (open, close) = if node.sub_flow.is_some() {
            ("[[", "]]")
        } else if node.wait.is_some() {
            ("([", "])")
        } else {
            ("[", "]")
        };
        let _ = writeln!(
            out,
            "    {id}{open}\"{}<br/><small>{}.{}</small>\"{close}",
            text(&node.label),
            // The first raw `.` ends the service: its own dots are written as entities.
            text(&node.service).replace('.', "#46;"),
            text(&node.action)
        );
    }
    let mut failure_links = Vec::new();
    for (i, e) in workflow.edges.iter().enumerate() {
        let (from, to) = (mermaid_id(&e.from, &mut ids), mermaid_id(&e.to, &mut ids));
        let line = match (e.kind, e.on) {
            (EdgeKind::Command, Outcome::Success) => format!("{from} --> {to}"),
            (EdgeKind::Command, Outcome::Failure) => format!("{from} -- {ON_FAILURE} --> {to}"),
            (EdgeKind::Event, Outcome::Success) => {
                format!("{from} -. {} .-> {to}", link_text(&workflow.event_name(e)))
            }
            (EdgeKind::Event, Outcome::Failure) => format!(
                "{from} -. {ON_FAILURE}: {} .-> {to}",
                link_text(&workflow.event_name(e))
            ),
        };
        let details = e.details();
        if !details.is_empty() {
            let _ = writeln!(out, "    %% link {i} details {}", Value::Object(details));
        }
        let _ = writeln!(out, "    {line}");
        if e.on == Outcome::Failure {
            failure_links.push(i.to_string());
        }
    }
    if !failure_links.is_empty() {
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:#c8322f,color:#c8322f",
            failure_links.join(",")
        );
    }
    out
}

// ---- import --------------------------------------------------------------------------

/// Mermaid's entity codes back to characters (`#quot;`, `#35;`, `#124;`…), and `<br>` to
/// a space.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let entity = after.find(';').filter(|&end| end <= 8).and_then(|end| {
            let code = &after[..end];
            let c = match code {
                "quot" => Some('"'),
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => code.parse::<u32>().ok().and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match entity {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('#');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A step as a diagram declares it: its label, and the service and action when the label
/// carries them (`Label<br/><small>service.action</small>`).
struct Declared {
    label: String,
    service_action: Option<(String, String)>,
}

fn declared(raw: &str) -> Declared {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    for br in ["<br/>", "<br>", "<br />"] {
        if let Some((label, small)) = raw.split_once(br) {
            let small = small
                .trim()
                .strip_prefix("<small>")
                .and_then(|s| s.strip_suffix("</small>"))
                .unwrap_or(small);
            let label = decode(label).trim().to_string();
            return Declared {
                label,
                service_action: small
                    .split_once('.')
                    .map(|(s, a)| (decode(s).trim().to_string(), decode(a).trim().to_string())),
            };
        }
    }
    Declared {
        label: decode(raw).trim().to_string(),
        service_action: None,
    }
}

/// What is read of one line: node references (with a declaration when a shape follows
/// the id) and the links between them.
struct Link {
    kind: EdgeKind,
    text: Option<String>,
}

/// Why a line was not read: a limit crossed (the import stops) or a line refused (the
/// import goes on to list the other problems).
enum LineError {
    Over(OverBudget),
    Refused(String),
}

struct Reader<'a> {
    line: &'a str,
    at: usize,
    /// The language a refused line is said in.
    l: Locale,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.line[self.at..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn id(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        (len > 0).then(|| {
            self.at += len;
            &rest[..len]
        })
    }

    /// A shape after an id: `[…]`, `(…)`, `([…])`, `[[…]]`, `((…))`, `{…}`, `{{…}}`,
    /// `>…]`; its text, quoted or not, and whether it is a rhombus (`{…}`: a decision).
    fn shape(&mut self) -> Result<Option<(String, bool)>, String> {
        let rest = self.rest();
        let opens: usize = rest
            .chars()
            .take_while(|c| matches!(c, '[' | '(' | '{' | '>' | '/' | '\\'))
            .count();
        if opens == 0 {
            return Ok(None);
        }
        let inner = &rest[opens..];
        let (label, used) = if let Some(quoted) = inner.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| td_string!(self.l, import.quote_open).to_string())?;
            (quoted[..end].to_string(), 1 + end + 1)
        } else {
            let end = inner
                .find([']', ')', '}'])
                .ok_or_else(|| td_string!(self.l, import.shape_open).to_string())?;
            (inner[..end].to_string(), end)
        };
        let after = &inner[used..];
        let closes: usize = after
            .chars()
            .take_while(|c| matches!(c, ']' | ')' | '}' | '/' | '\\'))
            .count();
        if closes == 0 {
            return Err(td_string!(self.l, import.shape_open).to_string());
        }
        let rhombus = opens == 1 && rest.starts_with('{');
        self.at += opens + used + closes;
        Ok(Some((format!("\"{label}\""), rhombus)))
    }

    /// A link: `-->`, `-->|text|`, `-- text -->`, `-.->`, `-.->|text|`, `-. text .->`.
    fn link(&mut self) -> Result<Option<Link>, String> {
        let rest = self.rest();
        if rest.is_empty() {
            return Ok(None);
        }
        let l = self.l;
        let piped = |after: &'a str, used: usize| -> Result<(Option<String>, usize), String> {
            match after.strip_prefix('|') {
                Some(inner) => {
                    let end = inner
                        .find('|')
                        .ok_or_else(|| td_string!(l, import.pipe_open).to_string())?;
                    Ok((Some(inner[..end].to_string()), used + 1 + end + 1))
                }
                None => Ok((None, used)),
            }
        };
        let (kind, text, used) = if let Some(after) = rest.strip_prefix("-.->") {
            let (text, used) = piped(after, 4)?;
            (EdgeKind::Event, text, used)
        } else if let Some(after) = rest.strip_prefix("-->") {
            let (text, used) = piped(after, 3)?;
            (EdgeKind::Command, text, used)
        } else if let Some(after) = rest.strip_prefix("-.") {
            let end = after
                .find(".->")
                .ok_or_else(|| td_string!(l, import.dotted_open).to_string())?;
            (EdgeKind::Event, Some(after[..end].to_string()), 2 + end + 3)
        } else if let Some(after) = rest.strip_prefix("-- ") {
            let end = after
                .find("-->")
                .ok_or_else(|| td_string!(l, import.dashed_open).to_string())?;
            (
                EdgeKind::Command,
                Some(after[..end].to_string()),
                3 + end + 3,
            )
        } else {
            let arrow: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return Err(td_string!(l, import.not_link, arrow = format!("{arrow:?}")));
        };
        self.at += used;
        // Kept as written: what marks a failure route is read before entities are decoded
        // (an escaped `#111;n failure: X` is an event named `on failure: X`).
        Ok(Some(Link {
            kind,
            text: text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
        }))
    }
}

/// Reads a `flowchart` (or `graph`) in the subset [`to_mermaid`] writes; styling lines
/// (`linkStyle`, `classDef`, `class`, `style`, `click`) and subgraph frames are skipped,
/// anything else that is not a step or a link is refused with its line.
pub fn from_mermaid(input: &str, l: Locale) -> Result<Workflow, ImportError> {
    let mut name = "Imported workflow".to_string();
    let mut lines = input.lines().enumerate().peekable();
    // Front matter: `---`, `title: …`, `---`.
    while lines.peek().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.next();
    }
    if lines.peek().is_some_and(|(_, l)| l.trim() == "---") {
        lines.next();
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            let line = line.trim();
            if line == "---" {
                closed = true;
                break;
            }
            if let Some(title) = line.strip_prefix("title:") {
                let title = title.trim();
                name = serde_json::from_str::<String>(title).unwrap_or_else(|_| title.into());
            }
        }
        if !closed {
            return Err(ImportError::Unsupported(vec![problem(
                line_at(l, 1),
                "line",
                td_string!(l, import.front_matter).to_string(),
            )]));
        }
    }
    let mut headed = false;
    let mut budget = Budget::new(l);
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut real_ids: HashMap<String, String> = HashMap::new();
    let mut extra: HashMap<String, (Map<String, Value>, String)> = HashMap::new();
    let mut edges = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut declare = |id: &str,
                       shape: Option<String>,
                       nodes: &mut Vec<Node>,
                       at: &str|
     -> Result<(), OverBudget> {
        let i = match index.get(id) {
            Some(&i) => i,
            None => {
                budget.node(at)?;
                index.insert(id.to_string(), nodes.len());
                nodes.push(Node {
                    id: id.to_string(),
                    label: id.to_string(),
                    service: id.to_string(),
                    action: "run".into(),
                    ..Default::default()
                });
                nodes.len() - 1
            }
        };
        if let Some(shape) = shape {
            let d = declared(&shape);
            let node = &mut nodes[i];
            node.label = d.label;
            match d.service_action {
                Some((service, action)) => (node.service, node.action) = (service, action),
                None => node.service = node.label.clone(),
            }
        }
        Ok(())
    };
    let mut edge_budget = Budget::new(l);
    // Rhombus nodes (decisions), and command links with a label: (edge, label, line).
    let mut decisions: HashSet<String> = HashSet::new();
    let mut labelled: Vec<(usize, String, String)> = Vec::new();
    let mut link_extra: HashMap<usize, (Map<String, Value>, String)> = HashMap::new();
    for (i, raw) in lines {
        let at = line_at(l, i + 1);
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix("%%") {
            let c = c.trim();
            // `%% link 3 details {…}`: the fourth link's condition, bound and payload.
            let link = c
                .strip_prefix("link ")
                .and_then(|rest| rest.split_once(" details "))
                .and_then(|(k, json)| Some((k.trim().parse::<usize>().ok()?, json)));
            if let Some((k, json)) = link {
                match serde_json::from_str::<Value>(json) {
                    Ok(Value::Object(o)) => {
                        link_extra.insert(k, (o, at));
                    }
                    _ => problems.push(problem(
                        at,
                        "details",
                        td_string!(l, import.details_not_object, id = format!("link {k}")),
                    )),
                }
            } else if let Some((id, json)) = c.split_once(" details ") {
                match serde_json::from_str::<Value>(json) {
                    Ok(Value::Object(o)) => {
                        extra.insert(id.trim().to_string(), (o, at));
                    }
                    _ => problems.push(problem(
                        at,
                        "details",
                        td_string!(
                            l,
                            import.details_not_object,
                            id = format!("{:?}", id.trim())
                        ),
                    )),
                }
            } else if let Some((id, real)) = c.split_once(" = ") {
                real_ids.insert(id.trim().to_string(), real.trim().to_string());
            }
            continue;
        }
        if !headed {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("flowchart" | "graph") => {
                    headed = true;
                    continue;
                }
                _ => {
                    return Err(ImportError::Unsupported(vec![problem(
                        at,
                        "line",
                        td_string!(l, import.mermaid_start, line = format!("{line:?}")),
                    )]))
                }
            }
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "linkStyle"
                | "classDef"
                | "class"
                | "style"
                | "click"
                | "subgraph"
                | "end"
                | "direction"
        ) {
            continue;
        }
        let mut reader = Reader { line, at: 0, l };
        let mut previous: Option<&str> = None;
        let mut pending: Option<Link> = None;
        let result: Result<(), LineError> = (|| loop {
            reader.skip_spaces();
            let Some(id) = reader.id() else {
                return Err(LineError::Refused(td_string!(
                    l,
                    import.expected_id,
                    rest = format!("{:?}", reader.rest())
                )));
            };
            let shape = reader.shape().map_err(LineError::Refused)?;
            if let Some((_, true)) = &shape {
                decisions.insert(id.to_string());
            }
            declare(id, shape.map(|(s, _)| s), &mut nodes, &at).map_err(LineError::Over)?;
            if let (Some(from), Some(link)) = (previous, pending.take()) {
                edge_budget.edges(1, &at).map_err(LineError::Over)?;
                let (on, event) = match (link.kind, link.text) {
                    (_, None) => (Outcome::Success, None),
                    (EdgeKind::Command, Some(t)) if t.eq_ignore_ascii_case(ON_FAILURE) => {
                        (Outcome::Failure, None)
                    }
                    (EdgeKind::Command, Some(t)) => {
                        // A branch of a decision (`{…}`) when `from` is one — known once
                        // every line is read.
                        labelled.push((edges.len(), decode(&t), at.clone()));
                        (Outcome::Success, None)
                    }
                    (EdgeKind::Event, Some(t)) => {
                        let lower = t.to_lowercase();
                        if lower == ON_FAILURE {
                            (Outcome::Failure, None)
                        } else if lower.starts_with(ON_FAILURE)
                            && t[ON_FAILURE.len()..].starts_with(':')
                        {
                            let name = decode(&t[ON_FAILURE.len() + 1..]).trim().to_string();
                            (Outcome::Failure, (!name.is_empty()).then_some(name))
                        } else {
                            let name = decode(&t).trim().to_string();
                            (Outcome::Success, (!name.is_empty()).then_some(name))
                        }
                    }
                };
                edges.push(edge(from, id, link.kind, on, event));
            }
            previous = Some(id);
            reader.skip_spaces();
            match reader.link().map_err(LineError::Refused)? {
                Some(link) => {
                    pending = Some(link);
                    reader.skip_spaces();
                    if reader.rest().is_empty() {
                        return Err(LineError::Refused(
                            td_string!(l, import.link_end).to_string(),
                        ));
                    }
                }
                None => return Ok(()),
            }
        })();
        match result {
            Ok(()) => {}
            Err(LineError::Over(over)) => return Err(over.into()),
            Err(LineError::Refused(message)) => problems.push(problem(at, "line", message)),
        }
        if problems.len() > super::formats::MAX_PROBLEMS {
            break;
        }
    }
    if !headed && problems.is_empty() {
        return Err(ImportError::Unsupported(vec![problem(
            line_at(l, 1),
            "line",
            td_string!(l, import.no_flowchart).to_string(),
        )]));
    }
    // Behaviour and positions from the details comments.
    let mut placed = 0usize;
    for node in &mut nodes {
        let Some((details, at)) = extra.remove(&node.id) else {
            continue;
        };
        let has_position = details.contains_key("position");
        match node.clone().with_details(details) {
            Ok(full) => {
                *node = full;
                placed += usize::from(has_position);
            }
            Err(e) => problems.push(problem(
                at,
                "details",
                td_string!(
                    l,
                    import.details_error,
                    id = format!("{:?}", node.id),
                    error = e
                ),
            )),
        }
    }
    // A labelled command is a decision's branch, or refused as before.
    let mut conditions: HashMap<usize, String> = HashMap::new();
    for (k, label, at) in labelled {
        let e = &edges[k];
        if decisions.contains(&e.from) {
            conditions.insert(k, label);
        } else {
            problems.push(problem(
                at,
                "line",
                td_string!(
                    l,
                    import.command_label,
                    from = e.from.as_str(),
                    to = e.to.as_str(),
                    text = format!("{label:?}"),
                    failure = ON_FAILURE,
                    plain = label.as_str()
                ),
            ));
        }
    }
    // Conditions, bounds and payloads from the links' details comments.
    for (k, (details, at)) in link_extra {
        let Some(e) = edges.get_mut(k) else {
            problems.push(problem(
                at,
                "details",
                td_string!(l, import.details_no_link, index = k, count = edges.len()),
            ));
            continue;
        };
        match e.clone().with_details(details) {
            Ok(full) => *e = full,
            Err(error) => problems.push(problem(
                at,
                "details",
                td_string!(
                    l,
                    import.details_error,
                    id = format!("link {k}"),
                    error = error
                ),
            )),
        }
    }
    // Decisions after the links' details (their indices are the diagram's).
    if !decisions.is_empty() {
        edges = decide(
            edges,
            &conditions,
            &decisions,
            &mut edge_budget,
            &mut problems,
            l,
        )?;
        nodes.retain(|n| !decisions.contains(&n.id));
    }
    if !problems.is_empty() {
        return Err(ImportError::Unsupported(capped(problems, l)));
    }
    if nodes.is_empty() {
        return Err(ImportError::Unsupported(vec![problem(
            line_at(l, 1),
            "line",
            td_string!(l, import.no_steps).to_string(),
        )]));
    }
    // The real ids, where the diagram gave them.
    let rename = |id: &mut String| {
        if let Some(real) = real_ids.get(id.as_str()) {
            *id = real.clone();
        }
    };
    for node in &mut nodes {
        rename(&mut node.id);
    }
    for e in &mut edges {
        rename(&mut e.from);
        rename(&mut e.to);
    }
    let placed = placed == nodes.len();
    Ok(assemble(name, nodes, edges, placed))
}

/// The decisions (rhombus nodes) taken out: each step that leads into one gets its branches
/// as its own command edges, the label their condition (`else`, `default`, `otherwise` or
/// none: the default). A decision that no step leads into, one reached by an event or by
/// another decision, and an event out of one are refused, by decision.
fn decide(
    edges: Vec<super::workflow::Edge>,
    conditions: &HashMap<usize, String>,
    decisions: &HashSet<String>,
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
    l: Locale,
) -> Result<Vec<super::workflow::Edge>, ImportError> {
    let mut kept = Vec::new();
    let mut into: HashMap<&str, Vec<&super::workflow::Edge>> = HashMap::new();
    let mut out_of: HashMap<&str, Vec<(usize, &super::workflow::Edge)>> = HashMap::new();
    for (k, e) in edges.iter().enumerate() {
        if decisions.contains(&e.to) {
            into.entry(e.to.as_str()).or_default().push(e);
        }
        if decisions.contains(&e.from) {
            out_of.entry(e.from.as_str()).or_default().push((k, e));
        }
        if !decisions.contains(&e.to) && !decisions.contains(&e.from) {
            kept.push(e.clone());
        }
    }
    let mut ids: Vec<&String> = decisions.iter().collect();
    ids.sort();
    for decision in ids {
        let incoming = into.get(decision.as_str()).cloned().unwrap_or_default();
        let branches = out_of.get(decision.as_str()).cloned().unwrap_or_default();
        let refused = |why: String, problems: &mut Vec<Problem>| {
            problems.push(problem(
                decision.clone(),
                "decision",
                td_string!(
                    l,
                    import.mermaid_decision,
                    id = format!("{decision:?}"),
                    why = why
                ),
            ));
        };
        if incoming.is_empty() {
            refused(
                td_string!(l, import.mermaid_decision_unreached).to_string(),
                problems,
            );
            continue;
        }
        if incoming
            .iter()
            .any(|e| e.kind == EdgeKind::Event || decisions.contains(&e.from))
            || branches.iter().any(|(_, e)| e.kind == EdgeKind::Event)
        {
            refused(
                td_string!(l, import.mermaid_decision_commands).to_string(),
                problems,
            );
            continue;
        }
        budget
            .edges(incoming.len().saturating_mul(branches.len()), decision)
            .map_err(ImportError::from)?;
        for from in &incoming {
            for (k, branch) in &branches {
                let label = conditions.get(k).map(|c| c.trim()).unwrap_or("");
                let mut made = edge(&from.from, &branch.to, EdgeKind::Command, from.on, None);
                made.condition = (!matches!(
                    label.to_lowercase().as_str(),
                    "" | "else" | "default" | "otherwise"
                ))
                .then(|| label.to_string());
                kept.push(made);
            }
        }
    }
    Ok(kept)
}
