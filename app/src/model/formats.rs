//! Import and export: the native JSON, the article's `{"workflow": {"steps": […]}}`, a
//! Conductor-style subset, a text form (`a -> b`, `a ~> b : Event`, `a >> b >> c`),
//! Mermaid both ways ([`super::mermaid`]), BPMN 2.0 both ways ([`super::bpmn`]; its import
//! where the `bpmn` feature is on: the server) and an AsyncAPI 3.0 export
//! ([`super::asyncapi`]). Every import ends in [`super::validate::validate`]: a document that
//! parses but breaks the model is refused as a whole, never stored in part.
//!
//! Every importer is bounded *while* it builds, not after: a [`Budget`] counts the nodes,
//! edges and pending exits as they are created and the nesting as it deepens, and the import
//! stops with a problem naming the limit the moment one is crossed. Each importer is linear
//! in its input (lookups go through indexes, never scans), so a 1 MiB document of any format
//! is answered in milliseconds.
//!
//! (About 850 lines: four importers and three exporters that share one [`Budget`] and one
//! problem type; a format is added here, beside the others it must match.)

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::layout::apply_layout;
use super::validate::{
    parse_workflow_in, validate_in, DocumentError, Problem, MAX_DOCUMENT_BYTES, MAX_EDGES,
    MAX_NODES,
};
use super::workflow::{Edge, EdgeKind, Join, Latency, Node, Outcome, Workflow};
use crate::i18n::Locale;

/// The formats [`import`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    Native,
    Article,
    Conductor,
    Text,
    Mermaid,
    Bpmn,
    /// Amazon States Language (AWS Step Functions).
    Asl,
}

impl ImportFormat {
    pub fn parse(name: &str) -> Option<ImportFormat> {
        match name {
            "native" | "json" => Some(ImportFormat::Native),
            "article" => Some(ImportFormat::Article),
            "conductor" => Some(ImportFormat::Conductor),
            "text" => Some(ImportFormat::Text),
            "mermaid" => Some(ImportFormat::Mermaid),
            "bpmn" => Some(ImportFormat::Bpmn),
            "asl" | "stepfunctions" => Some(ImportFormat::Asl),
            _ => None,
        }
    }

    pub const ALL: [ImportFormat; 7] = [
        ImportFormat::Native,
        ImportFormat::Article,
        ImportFormat::Conductor,
        ImportFormat::Text,
        ImportFormat::Mermaid,
        ImportFormat::Bpmn,
        ImportFormat::Asl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Native => "native",
            ImportFormat::Article => "article",
            ImportFormat::Conductor => "conductor",
            ImportFormat::Text => "text",
            ImportFormat::Mermaid => "mermaid",
            ImportFormat::Bpmn => "bpmn",
            ImportFormat::Asl => "asl",
        }
    }

    pub const NAMES: &'static str = "native, article, conductor, text, mermaid, bpmn, asl";
}

/// The formats [`export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Mermaid,
    Text,
    Bpmn,
    AsyncApi,
    /// Amazon States Language (AWS Step Functions): a state machine.
    Asl,
}

impl ExportFormat {
    pub fn parse(name: &str) -> Option<ExportFormat> {
        match name {
            "json" | "native" => Some(ExportFormat::Json),
            "mermaid" => Some(ExportFormat::Mermaid),
            "text" => Some(ExportFormat::Text),
            "bpmn" => Some(ExportFormat::Bpmn),
            "asyncapi" => Some(ExportFormat::AsyncApi),
            "asl" | "stepfunctions" => Some(ExportFormat::Asl),
            _ => None,
        }
    }

    pub const ALL: [ExportFormat; 6] = [
        ExportFormat::Json,
        ExportFormat::Mermaid,
        ExportFormat::Text,
        ExportFormat::Bpmn,
        ExportFormat::AsyncApi,
        ExportFormat::Asl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Mermaid => "mermaid",
            ExportFormat::Text => "text",
            ExportFormat::Bpmn => "bpmn",
            ExportFormat::AsyncApi => "asyncapi",
            ExportFormat::Asl => "asl",
        }
    }

    /// The media type of the exported text.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Json | ExportFormat::AsyncApi | ExportFormat::Asl => "application/json",
            ExportFormat::Bpmn => "application/xml",
            ExportFormat::Mermaid | ExportFormat::Text => "text/plain",
        }
    }

    /// The usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Mermaid => "mmd",
            ExportFormat::Text => "txt",
            ExportFormat::Bpmn => "bpmn",
            ExportFormat::AsyncApi => "asyncapi.json",
            ExportFormat::Asl => "asl.json",
        }
    }

    pub const NAMES: &'static str = "json, mermaid, text, bpmn, asyncapi, asl";
}

impl ExportError {
    /// The refusal in `l`'s words: the format and what has no form in it.
    pub fn said(&self, format: ExportFormat, l: Locale) -> String {
        td_string!(l, export.refused, format = format.as_str()).to_string()
    }
}

/// Why a workflow could not be written in a format: only the States Language refuses (a
/// state machine commands every step; it cannot say everything a workflow can), by step
/// and edge.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("cannot export: {}", .0.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
pub struct ExportError(pub Vec<Problem>);

/// Why an import was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The input is well-formed but cannot be expressed as a workflow (a line of the text
    /// form, a Conductor task type), with where and why.
    #[error("cannot import: {}", .0.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "))]
    Unsupported(Vec<Problem>),
}

impl ImportError {
    /// The refusal in `l`'s words (the `Display` form is the API's English).
    pub fn said(&self, l: Locale) -> String {
        match self {
            ImportError::Document(d) => d.said(l),
            ImportError::Unsupported(problems) => td_string!(
                l,
                import.refused,
                problems = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.path, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

/// `line N` in `l`'s words: where a line-based importer (text, Mermaid, BPMN) found a problem.
pub(crate) fn line_at(l: Locale, n: usize) -> String {
    td_string!(l, import.line, n = n)
}

/// Most pending exits (steps whose completion leads on to what comes next) a Conductor
/// import may hold at once, summed over every branch: each becomes an edge, so this is the
/// edge limit. Without it, a few nested forks of many branches multiply them without bound.
pub const MAX_PENDING_EXITS: usize = MAX_EDGES;
/// Deepest nesting of forks and switches in a Conductor import.
pub const MAX_NESTING: usize = 32;
/// At most this many problems are reported; the rest are summed up in one line.
pub const MAX_PROBLEMS: usize = 100;

/// What an import may still create. Every importer charges it as it goes and stops at the
/// first limit crossed, so no input makes it build more than the limits allow.
#[derive(Debug)]
pub struct Budget {
    nodes: usize,
    edges: usize,
    exits: usize,
    /// The language a crossed limit is reported in.
    l: Locale,
}

/// A limit crossed while importing (already phrased as the problem to report).
#[derive(Debug)]
pub struct OverBudget(pub(crate) Problem);

impl Budget {
    /// The whole allowance, its problems said in `l`'s words.
    pub fn new(l: Locale) -> Self {
        Budget {
            nodes: MAX_NODES,
            edges: MAX_EDGES,
            exits: MAX_PENDING_EXITS,
            l,
        }
    }

    fn take(
        l: Locale,
        left: &mut usize,
        n: usize,
        path: &str,
        field: &str,
        what: String,
        limit: usize,
    ) -> Result<(), OverBudget> {
        match left.checked_sub(n) {
            Some(rest) => {
                *left = rest;
                Ok(())
            }
            None => Err(OverBudget(problem(
                path,
                field,
                td_string!(l, import.over_limit, limit = limit, what = what),
            ))),
        }
    }

    pub fn node(&mut self, path: &str) -> Result<(), OverBudget> {
        let what = td_string!(self.l, import.what_steps).to_string();
        Self::take(self.l, &mut self.nodes, 1, path, "nodes", what, MAX_NODES)
    }

    pub fn edges(&mut self, n: usize, path: &str) -> Result<(), OverBudget> {
        let what = td_string!(self.l, import.what_edges).to_string();
        Self::take(self.l, &mut self.edges, n, path, "edges", what, MAX_EDGES)
    }

    pub fn exits(&mut self, n: usize, path: &str) -> Result<(), OverBudget> {
        let what = td_string!(self.l, import.what_exits).to_string();
        Self::take(
            self.l,
            &mut self.exits,
            n,
            path,
            "forkTasks",
            what,
            MAX_PENDING_EXITS,
        )
    }
}

impl From<OverBudget> for ImportError {
    fn from(e: OverBudget) -> Self {
        ImportError::Unsupported(vec![e.0])
    }
}

/// At most [`MAX_PROBLEMS`] problems, the rest summed up in a last one (in `l`'s words).
pub(crate) fn capped(mut problems: Vec<Problem>, l: Locale) -> Vec<Problem> {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(problem(
            "",
            "",
            td_string!(l, import.more_problems, more = more, limit = MAX_PROBLEMS),
        ));
    }
    problems
}

pub(crate) fn problem(path: impl Into<String>, field: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        node: None,
        edge: None,
        field: field.to_string(),
        message: message.into(),
    }
}

/// Guesses the format: `<` opens BPMN's XML; a `flowchart`/`graph` (after Mermaid's
/// front matter) is Mermaid; JSON with `nodes` is native, with `workflow` the article's,
/// with `tasks` Conductor's, with `StartAt` and `States` a Step Functions state machine;
/// anything else is the text form.
pub fn detect(input: &str) -> ImportFormat {
    let start = input.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('<') {
        return ImportFormat::Bpmn;
    }
    let first = start
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("%%"))
        .unwrap_or("");
    if first == "---" || first.starts_with("flowchart") || first.starts_with("graph ") {
        return ImportFormat::Mermaid;
    }
    match serde_json::from_str::<Value>(input) {
        Ok(Value::Object(o)) if o.contains_key("workflow") => ImportFormat::Article,
        Ok(Value::Object(o)) if o.contains_key("tasks") => ImportFormat::Conductor,
        Ok(Value::Object(o)) if o.contains_key("StartAt") && o.contains_key("States") => {
            ImportFormat::Asl
        }
        Ok(_) => ImportFormat::Native,
        Err(_) if input.trim_start().starts_with('{') => ImportFormat::Native,
        Err(_) => ImportFormat::Text,
    }
}

/// Reads a workflow in `format` (detected when `None`); its problems in English, the API's
/// words.
pub fn import(input: &str, format: Option<ImportFormat>) -> Result<Workflow, ImportError> {
    import_in(input, format, Locale::en)
}

/// Reads a workflow in `format` (detected when `None`), every problem said in `l`'s words
/// (paths, fields and ids stay as they are in the input).
pub fn import_in(
    input: &str,
    format: Option<ImportFormat>,
    l: Locale,
) -> Result<Workflow, ImportError> {
    if input.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge {
            bytes: input.len(),
            limit: MAX_DOCUMENT_BYTES,
        }
        .into());
    }
    let workflow = match format.unwrap_or_else(|| detect(input)) {
        ImportFormat::Native => {
            let mut workflow = parse_workflow_in(input.as_bytes(), l)?;
            if piled_up(&workflow) {
                apply_layout(&mut workflow);
            }
            return Ok(workflow);
        }
        ImportFormat::Article => from_article(&json(input)?, l)?,
        ImportFormat::Conductor => from_conductor(&json(input)?, l)?,
        ImportFormat::Text => from_text(input, l)?,
        ImportFormat::Mermaid => super::mermaid::from_mermaid(input, l)?,
        #[cfg(feature = "conditions")]
        ImportFormat::Asl => super::asl::from_asl(&json(input)?, l)?,
        #[cfg(not(feature = "conditions"))]
        ImportFormat::Asl => {
            return Err(ImportError::Unsupported(vec![problem(
                "",
                "format",
                td_string!(l, export.asl_by_server).to_string(),
            )]))
        }
        #[cfg(feature = "bpmn")]
        ImportFormat::Bpmn => super::bpmn::import::from_bpmn(input, l)?,
        #[cfg(not(feature = "bpmn"))]
        ImportFormat::Bpmn => {
            return Err(ImportError::Unsupported(vec![problem(
                "",
                "format",
                td_string!(l, import.bpmn_by_server).to_string(),
            )]))
        }
    };
    let problems = validate_in(&workflow, l);
    if problems.is_empty() {
        Ok(workflow)
    } else {
        Err(DocumentError::Invalid(capped(problems, l)).into())
    }
}

/// Every step at one spot: a document written without positions (by hand, or by another
/// tool). Imported as is, its steps would lie on top of each other.
fn piled_up(workflow: &Workflow) -> bool {
    let mut positions = workflow.nodes.iter().map(|n| n.position);
    let first = positions.next();
    workflow.nodes.len() > 1 && positions.all(|p| Some(p) == first)
}

fn json(input: &str) -> Result<Value, ImportError> {
    serde_json::from_str(input).map_err(|e| {
        DocumentError::Malformed {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        }
        .into()
    })
}

/// Builds a workflow from nodes and edges, and lays it out left to right unless every
/// step was `placed` by the input (Mermaid's details, BPMN's diagram).
pub(crate) fn assemble(name: String, nodes: Vec<Node>, edges: Vec<Edge>, placed: bool) -> Workflow {
    let mut workflow = Workflow {
        name,
        nodes,
        edges,
        ..Workflow::default()
    };
    workflow.assign_edge_ids();
    if !placed {
        apply_layout(&mut workflow);
    }
    workflow
}

pub(crate) fn plain_node(id: &str, label: &str, service: &str, action: &str) -> Node {
    Node {
        id: id.to_string(),
        label: label.to_string(),
        service: service.to_string(),
        action: action.to_string(),
        ..Default::default()
    }
}

pub(crate) fn edge(
    from: &str,
    to: &str,
    kind: EdgeKind,
    on: Outcome,
    event: Option<String>,
) -> Edge {
    Edge {
        id: String::new(),
        from: from.to_string(),
        to: to.to_string(),
        kind,
        on,
        event,
        condition: None,
        decided_by: None,
        max_iterations: None,
        payload: None,
    }
}

fn str_field<'a>(value: &'a Value, path: &str, field: &str, l: Locale) -> Result<&'a str, Problem> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            problem(
                format!("{path}.{field}"),
                field,
                td_string!(l, import.non_empty_string).to_string(),
            )
        })
}

// ---- the article's JSON --------------------------------------------------------------

/// `{"workflow": {"name", "steps": [{"name", "service", "action"}]}}`: the steps become a
/// chain of commands, in order.
fn from_article(value: &Value, l: Locale) -> Result<Workflow, ImportError> {
    let mut problems = Vec::new();
    let workflow = &value["workflow"];
    let name = str_field(workflow, "workflow", "name", l).unwrap_or_else(|p| {
        problems.push(p);
        ""
    });
    let Some(steps) = workflow.get("steps").and_then(Value::as_array) else {
        problems.push(problem(
            "workflow.steps",
            "steps",
            td_string!(l, import.steps_array).to_string(),
        ));
        return Err(ImportError::Unsupported(problems));
    };
    let mut nodes = Vec::new();
    let mut budget = Budget::new(l);
    for (i, step) in steps.iter().enumerate() {
        let path = format!("workflow.steps[{i}]");
        budget.node(&path)?;
        if i > 0 {
            budget.edges(1, &path)?;
        }
        let fields: Vec<Result<&str, Problem>> = ["name", "service", "action"]
            .iter()
            .map(|f| str_field(step, &path, f, l))
            .collect();
        match fields.as_slice() {
            [Ok(n), Ok(s), Ok(a)] => nodes.push(plain_node(n, n, s, a)),
            _ => problems.extend(fields.into_iter().filter_map(Result::err)),
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Unsupported(capped(problems, l)));
    }
    let edges = nodes
        .windows(2)
        .map(|w| {
            edge(
                &w[0].id,
                &w[1].id,
                EdgeKind::Command,
                Outcome::Success,
                None,
            )
        })
        .collect();
    Ok(assemble(name.to_string(), nodes, edges, false))
}

// ---- Conductor -----------------------------------------------------------------------

/// What a run of tasks leads out of: the steps whose completion starts whatever comes
/// next, how (command or event), and on which outcome.
#[derive(Clone, Debug, Default)]
struct Exit {
    node: String,
    kind: EdgeKind,
    on: Outcome,
    event: Option<String>,
    /// A SWITCH case's condition on the edges it leads out by (CEL).
    condition: Option<String>,
    /// A DO_WHILE's bound on the edge back to its first task.
    bound: Option<u32>,
}

impl Exit {
    /// Out of step `node` on success, by a command.
    fn after(node: &str) -> Exit {
        Exit {
            node: node.to_string(),
            ..Exit::default()
        }
    }
}

/// The run data field a Conductor parameter reads: the last part of `${workflow.input.tier}`
/// or `${task.output.amount}`, else the parameter's own name.
fn parameter_field(task: &Value, parameter: &str) -> String {
    let source = task
        .get("inputParameters")
        .and_then(|p| p.get(parameter))
        .and_then(Value::as_str)
        .unwrap_or(parameter);
    let inner = source.trim().trim_start_matches("${").trim_end_matches('}');
    inner.rsplit('.').next().unwrap_or(inner).to_string()
}

/// `10s`, `10 seconds`, `5m`, `2 minutes`, `1h`, `500ms`: in milliseconds.
fn conductor_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let per = match unit.trim() {
        "ms" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        _ => return None,
    };
    number.checked_mul(per)
}

/// The iterations a DO_WHILE's `loopCondition` allows when it counts them the usual way,
/// `$.ref['iteration'] < N` (N) or `<= N` (N + 1); `None` for anything else.
fn do_while_iterations(condition: &str) -> Option<u64> {
    let squeezed: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    let at = squeezed
        .find("['iteration']")
        .map(|i| i + "['iteration']".len())
        .or_else(|| squeezed.find(".iteration").map(|i| i + ".iteration".len()))?;
    let rest = &squeezed[at..];
    let (inclusive, rest) = match rest.strip_prefix("<=") {
        Some(rest) => (true, rest),
        None => (false, rest.strip_prefix('<')?),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    Some(if inclusive { n + 1 } else { n })
}

struct Conductor {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    problems: Vec<Problem>,
    budget: Budget,
    /// How deep the forks and switches being read are nested.
    depth: usize,
    /// The language problems are said in.
    l: Locale,
}

type Built<T> = Result<T, OverBudget>;

impl Conductor {
    fn connect(&mut self, exits: &[Exit], to: &str, path: &str) -> Built<()> {
        self.budget.edges(exits.len(), path)?;
        for exit in exits {
            let mut made = edge(&exit.node, to, exit.kind, exit.on, exit.event.clone());
            made.condition = exit.condition.clone();
            made.max_iterations = exit.bound;
            self.edges.push(made);
        }
        Ok(())
    }

    fn node(&mut self, node: Node, path: &str) -> Built<()> {
        self.budget.node(path)?;
        self.nodes.push(node);
        Ok(())
    }

    /// A copy of `exits` for one more branch, charged to the budget before it is made.
    fn branch_exits(&mut self, exits: &[Exit], path: &str) -> Built<Vec<Exit>> {
        self.budget.exits(exits.len(), path)?;
        Ok(exits.to_vec())
    }

    /// Reads a sequence of tasks that follows `exits`; returns the sequence's own exits.
    fn sequence(&mut self, tasks: &[Value], path: &str, mut exits: Vec<Exit>) -> Built<Vec<Exit>> {
        for (i, task) in tasks.iter().enumerate() {
            let path = format!("{path}[{i}]");
            exits = self.task(task, &path, exits)?;
        }
        Ok(exits)
    }

    /// Reads a nested sequence (a fork's branch, a switch's case), one level deeper.
    fn nested(&mut self, tasks: &[Value], path: &str, exits: Vec<Exit>) -> Built<Vec<Exit>> {
        if self.depth >= MAX_NESTING {
            return Err(OverBudget(problem(
                path,
                "tasks",
                td_string!(self.l, import.nested_deep, limit = MAX_NESTING),
            )));
        }
        self.depth += 1;
        let out = self.sequence(tasks, path, exits);
        self.depth -= 1;
        out
    }

    fn task(&mut self, task: &Value, path: &str, exits: Vec<Exit>) -> Built<Vec<Exit>> {
        let name = task.get("name").and_then(Value::as_str).unwrap_or("");
        let reference = task
            .get("taskReferenceName")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or(name);
        if reference.is_empty() {
            self.problems.push(problem(
                format!("{path}.taskReferenceName"),
                "taskReferenceName",
                td_string!(self.l, import.task_needs_name).to_string(),
            ));
            return Ok(exits);
        }
        let kind = task.get("type").and_then(Value::as_str).unwrap_or("SIMPLE");
        match kind {
            "SIMPLE" => {
                let label = if name.is_empty() { reference } else { name };
                let mut node = plain_node(reference, label, label, "execute");
                if let Some(ms) = task.get("timeoutSeconds").and_then(Value::as_u64) {
                    node.timeout_ms = Some(ms.saturating_mul(1000));
                }
                self.node(node, path)?;
                self.connect(&exits, reference, path)?;
                Ok(vec![Exit::after(reference)])
            }
            "FORK_JOIN" => {
                let Some(branches) = task.get("forkTasks").and_then(Value::as_array) else {
                    self.problems.push(problem(
                        format!("{path}.forkTasks"),
                        "forkTasks",
                        td_string!(
                            self.l,
                            import.fork_needs_tasks,
                            task = format!("{reference:?}")
                        ),
                    ));
                    return Ok(exits);
                };
                let mut all = Vec::new();
                for (b, branch) in branches.iter().enumerate() {
                    let tasks = branch.as_array().map(Vec::as_slice).unwrap_or(&[]);
                    let branch_path = format!("{path}.forkTasks[{b}]");
                    let start = self.branch_exits(&exits, &branch_path)?;
                    let ends = self.nested(tasks, &branch_path, start)?;
                    self.budget.exits(ends.len(), &branch_path)?;
                    all.extend(ends);
                }
                Ok(all)
            }
            "JOIN" => {
                let joined: Vec<&str> = task
                    .get("joinOn")
                    .and_then(Value::as_array)
                    .map(|refs| refs.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut node = plain_node(reference, "Join", "Orchestrator", "join");
                node.join = Some(Join::All);
                node.latency_ms = Some(Latency::Fixed(0));
                self.node(node, path)?;
                let chosen: Vec<Exit> = if joined.is_empty() {
                    exits
                } else {
                    let ends: HashSet<&str> = exits.iter().map(|e| e.node.as_str()).collect();
                    let joined: HashSet<&str> = joined.into_iter().collect();
                    for r in &joined {
                        if !ends.contains(r) {
                            self.problems.push(problem(
                                format!("{path}.joinOn"),
                                "joinOn",
                                td_string!(
                                    self.l,
                                    import.join_not_branch,
                                    task = format!("{reference:?}"),
                                    reference = format!("{r:?}")
                                ),
                            ));
                        }
                    }
                    exits
                        .into_iter()
                        .filter(|e| joined.contains(e.node.as_str()))
                        .collect()
                };
                self.connect(&chosen, reference, path)?;
                Ok(vec![Exit::after(reference)])
            }
            "EVENT" => {
                // An EVENT task publishes: what follows it subscribes.
                let sink = task
                    .get("sink")
                    .and_then(Value::as_str)
                    .unwrap_or(reference);
                let event = sink.rsplit(':').next().unwrap_or(sink).to_string();
                if exits.is_empty() {
                    self.problems.push(problem(
                        path.to_string(),
                        "type",
                        td_string!(
                            self.l,
                            import.event_no_publisher,
                            task = format!("{reference:?}")
                        ),
                    ));
                }
                Ok(exits
                    .into_iter()
                    .map(|e| Exit {
                        kind: EdgeKind::Event,
                        event: Some(event.clone()),
                        ..e
                    })
                    .collect())
            }
            "SWITCH" | "DECISION" if self.switch_on_value(task).is_some() => {
                match self.switch_on_value(task) {
                    Some(Ok(field)) => {
                        self.switch_cases(task, path, kind, reference, &field, &exits)
                    }
                    Some(Err(evaluator)) => {
                        self.problems.push(problem(
                            format!("{path}.evaluatorType"),
                            "evaluatorType",
                            td_string!(
                                self.l,
                                import.switch_evaluator,
                                kind = kind,
                                task = format!("{reference:?}"),
                                evaluator = evaluator
                            ),
                        ));
                        Ok(exits)
                    }
                    None => Ok(exits),
                }
            }
            "WAIT" => {
                let mut node = plain_node(
                    reference,
                    if name.is_empty() { reference } else { name },
                    "Orchestrator",
                    "wait",
                );
                let parameters = task.get("inputParameters");
                let duration = parameters
                    .and_then(|p| p.get("duration"))
                    .and_then(Value::as_str);
                if parameters.and_then(|p| p.get("until")).is_some() {
                    self.problems.push(problem(
                        format!("{path}.inputParameters.until"),
                        "until",
                        td_string!(self.l, import.wait_until, task = format!("{reference:?}")),
                    ));
                    return Ok(exits);
                }
                node.wait = Some(match duration {
                    Some(text) => match conductor_duration(text) {
                        Some(ms) => app_wait_timer(ms),
                        None => {
                            self.problems.push(problem(
                                format!("{path}.inputParameters.duration"),
                                "duration",
                                td_string!(
                                    self.l,
                                    import.wait_duration,
                                    task = format!("{reference:?}"),
                                    duration = format!("{text:?}")
                                ),
                            ));
                            return Ok(exits);
                        }
                    },
                    // No duration: it waits for a signal from outside, by its name.
                    None => super::workflow::Wait {
                        message: Some(reference.to_string()),
                        ..Default::default()
                    },
                });
                self.node(node, path)?;
                self.connect(&exits, reference, path)?;
                Ok(vec![Exit::after(reference)])
            }
            "DO_WHILE" => {
                let tasks = task
                    .get("loopOver")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let first = tasks
                    .first()
                    .and_then(|t| t.get("taskReferenceName").or_else(|| t.get("name")))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let Some(first) = first else {
                    self.problems.push(problem(
                        format!("{path}.loopOver"),
                        "loopOver",
                        td_string!(
                            self.l,
                            import.loop_needs_tasks,
                            task = format!("{reference:?}")
                        ),
                    ));
                    return Ok(exits);
                };
                let condition = task
                    .get("loopCondition")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let Some(iterations) = do_while_iterations(condition).filter(|&n| {
                    n >= 1 && n <= u64::from(super::validate::MAX_LOOP_ITERATIONS) + 1
                }) else {
                    self.problems.push(problem(
                        format!("{path}.loopCondition"),
                        "loopCondition",
                        td_string!(
                            self.l,
                            import.loop_condition,
                            task = format!("{reference:?}"),
                            condition = format!("{condition:?}"),
                            limit = super::validate::MAX_LOOP_ITERATIONS + 1
                        ),
                    ));
                    return Ok(exits);
                };
                let ends = self.nested(tasks, &format!("{path}.loopOver"), exits)?;
                // Round again while iterations are left: the edge back is the loop's bound.
                let back = (iterations - 1) as u32;
                if back > 0 {
                    let again: Vec<Exit> = ends
                        .iter()
                        .map(|e| Exit {
                            bound: Some(back),
                            ..e.clone()
                        })
                        .collect();
                    self.connect(&again, &first, path)?;
                }
                Ok(ends)
            }
            "SUB_WORKFLOW" => {
                let called = task
                    .get("subWorkflowParam")
                    .and_then(|p| p.get("name"))
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or("");
                if called.is_empty() {
                    self.problems.push(problem(
                        format!("{path}.subWorkflowParam.name"),
                        "subWorkflowParam",
                        td_string!(
                            self.l,
                            import.sub_workflow_name,
                            task = format!("{reference:?}")
                        ),
                    ));
                    return Ok(exits);
                }
                // The workflow it names runs as a child run (found by id or by name).
                let label = if name.is_empty() { reference } else { name };
                let mut node = plain_node(reference, label, label, "execute");
                node.sub_flow = Some(called.to_string());
                if let Some(ms) = task.get("timeoutSeconds").and_then(Value::as_u64) {
                    node.timeout_ms = Some(ms.saturating_mul(1000));
                }
                self.node(node, path)?;
                self.connect(&exits, reference, path)?;
                Ok(vec![Exit::after(reference)])
            }
            "FORK_JOIN_DYNAMIC" => {
                let parameter = task
                    .get("dynamicForkTasksInputParamName")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if parameter.is_empty() {
                    self.problems.push(problem(
                        format!("{path}.dynamicForkTasksInputParamName"),
                        "dynamicForkTasksInputParamName",
                        td_string!(
                            self.l,
                            import.dynamic_fork_param,
                            task = format!("{reference:?}")
                        ),
                    ));
                    return Ok(exits);
                }
                let label = if name.is_empty() { reference } else { name };
                let mut node = plain_node(reference, label, label, "execute");
                node.for_each = Some(parameter_field(task, parameter));
                self.node(node, path)?;
                self.connect(&exits, reference, path)?;
                Ok(vec![Exit::after(reference)])
            }
            "SWITCH" | "DECISION" => {
                let mut out = Vec::new();
                let empty = serde_json::Map::new();
                let cases = task
                    .get("decisionCases")
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                for (case, tasks) in cases {
                    let on = match case.to_ascii_lowercase().as_str() {
                        "success" | "succeeded" | "ok" | "true" => Outcome::Success,
                        "failure" | "failed" | "error" | "false" => Outcome::Failure,
                        other => {
                            self.problems.push(problem(
                                format!("{path}.decisionCases.{case}"),
                                "decisionCases",
                                td_string!(
                                    self.l,
                                    import.case_not_route,
                                    kind = kind,
                                    task = format!("{reference:?}"),
                                    case = format!("{other:?}")
                                ),
                            ));
                            continue;
                        }
                    };
                    let case_path = format!("{path}.decisionCases.{case}");
                    let routed: Vec<Exit> = self
                        .branch_exits(&exits, &case_path)?
                        .into_iter()
                        .map(|e| Exit { on, ..e })
                        .collect();
                    let tasks = tasks.as_array().map(Vec::as_slice).unwrap_or(&[]);
                    let ends = self.nested(tasks, &case_path, routed)?;
                    self.budget.exits(ends.len(), &case_path)?;
                    out.extend(ends);
                }
                if let Some(default) = task.get("defaultCase").and_then(Value::as_array) {
                    if !default.is_empty() {
                        self.problems.push(problem(
                            format!("{path}.defaultCase"),
                            "defaultCase",
                            td_string!(
                                self.l,
                                import.default_case,
                                kind = kind,
                                task = format!("{reference:?}")
                            ),
                        ));
                    }
                }
                Ok(out)
            }
            other => {
                self.problems.push(problem(
                    format!("{path}.type"),
                    "type",
                    td_string!(
                        self.l,
                        import.task_type,
                        task = format!("{reference:?}"),
                        kind = other
                    ),
                ));
                Ok(exits)
            }
        }
    }
}

impl Conductor {
    /// A SWITCH on a value: `Some(Ok(field))` — the run data field its cases compare
    /// (`evaluatorType: value-param`, or a DECISION's `caseValueParam`) —, `Some(Err(name))`
    /// for an evaluator Hybridflow does not read (JavaScript), `None` for the older
    /// success/failure cases.
    fn switch_on_value(&self, task: &Value) -> Option<Result<String, String>> {
        if let Some(parameter) = task.get("caseValueParam").and_then(Value::as_str) {
            return Some(Ok(parameter_field(task, parameter)));
        }
        let evaluator = task.get("evaluatorType").and_then(Value::as_str)?;
        match evaluator {
            "value-param" => {
                let parameter = task.get("expression").and_then(Value::as_str).unwrap_or("");
                Some(Ok(parameter_field(task, parameter)))
            }
            other => Some(Err(other.to_string())),
        }
    }

    /// A SWITCH on run data field `field`: each case a branch on `field == 'case'`, the
    /// default case the default branch; the decision is the step's before it (exclusive).
    fn switch_cases(
        &mut self,
        task: &Value,
        path: &str,
        kind: &str,
        reference: &str,
        field: &str,
        exits: &[Exit],
    ) -> Built<Vec<Exit>> {
        if !super::validate::is_field_name(field) {
            self.problems.push(problem(
                format!("{path}.expression"),
                "expression",
                td_string!(
                    self.l,
                    import.switch_field,
                    kind = kind,
                    task = format!("{reference:?}"),
                    field = format!("{field:?}")
                ),
            ));
            return Ok(exits.to_vec());
        }
        if exits.is_empty() {
            self.problems.push(problem(
                path.to_string(),
                "type",
                td_string!(
                    self.l,
                    import.switch_first,
                    kind = kind,
                    task = format!("{reference:?}")
                ),
            ));
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let empty = serde_json::Map::new();
        let cases = task
            .get("decisionCases")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (case, tasks) in cases {
            let literal = case.replace('\\', "\\\\").replace('\'', "\\'");
            let rule = format!("{field} == '{literal}'");
            let case_path = format!("{path}.decisionCases.{case}");
            let routed: Vec<Exit> = self
                .branch_exits(exits, &case_path)?
                .into_iter()
                .map(|e| Exit {
                    condition: Some(match &e.condition {
                        Some(before) => format!("({before}) && {rule}"),
                        None => rule.clone(),
                    }),
                    ..e
                })
                .collect();
            let tasks = tasks.as_array().map(Vec::as_slice).unwrap_or(&[]);
            let ends = self.nested(tasks, &case_path, routed)?;
            self.budget.exits(ends.len(), &case_path)?;
            out.extend(ends);
        }
        let default = task
            .get("defaultCase")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let default_path = format!("{path}.defaultCase");
        let start = self.branch_exits(exits, &default_path)?;
        let ends = self.nested(default, &default_path, start)?;
        self.budget.exits(ends.len(), &default_path)?;
        out.extend(ends);
        Ok(out)
    }
}

/// A timer of `ms`.
fn app_wait_timer(ms: u64) -> super::workflow::Wait {
    super::workflow::Wait {
        for_ms: Some(ms),
        ..Default::default()
    }
}

/// A Conductor-style definition: `tasks` in order, `FORK_JOIN`/`forkTasks`, `JOIN`/`joinOn`,
/// `EVENT` (what follows it subscribes), `SWITCH` cases `success`/`failure`.
fn from_conductor(value: &Value, l: Locale) -> Result<Workflow, ImportError> {
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Imported workflow")
        .to_string();
    let Some(tasks) = value.get("tasks").and_then(Value::as_array) else {
        return Err(ImportError::Unsupported(vec![problem(
            "tasks",
            "tasks",
            td_string!(l, import.tasks_array).to_string(),
        )]));
    };
    let mut conductor = Conductor {
        nodes: Vec::new(),
        edges: Vec::new(),
        problems: Vec::new(),
        budget: Budget::new(l),
        depth: 0,
        l,
    };
    conductor.sequence(tasks, "tasks", Vec::new())?;
    if !conductor.problems.is_empty() {
        return Err(ImportError::Unsupported(capped(conductor.problems, l)));
    }
    Ok(assemble(name, conductor.nodes, conductor.edges, false))
}

// ---- the text form -------------------------------------------------------------------

/// One edge per line: `a -> b` (command), `a ~> b : EventName` (event), `a -!> b` and
/// `a ~!> b : Name` (the same on failure), Airflow's `a >> b >> c` (a command chain), a lone
/// `a` declares a step; `# comments` and blank lines are ignored; `name: Title` names it.
fn from_text(input: &str, l: Locale) -> Result<Workflow, ImportError> {
    let mut name = "Imported workflow".to_string();
    let mut nodes: Vec<Node> = Vec::new();
    let mut edges = Vec::new();
    let mut problems = Vec::new();
    let mut budget = Budget::new(l);
    // The steps declared so far, by id: a lookup per name, not a scan.
    let mut declared: HashSet<String> = HashSet::new();
    let mut declare = |id: &str, nodes: &mut Vec<Node>, at: &str| -> Result<(), OverBudget> {
        if !declared.contains(id) {
            budget.node(at)?;
            declared.insert(id.to_string());
            nodes.push(plain_node(id, id, id, "run"));
        }
        Ok(())
    };
    let mut edge_budget = Budget::new(l);
    let valid_id = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    for (i, raw) in input.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = line_at(l, line_no);
        if let Some(title) = line.strip_prefix("name:") {
            name = title.trim().to_string();
            continue;
        }
        let arrows: [(&str, EdgeKind, Outcome); 4] = [
            ("~!>", EdgeKind::Event, Outcome::Failure),
            ("-!>", EdgeKind::Command, Outcome::Failure),
            ("~>", EdgeKind::Event, Outcome::Success),
            ("->", EdgeKind::Command, Outcome::Success),
        ];
        if line.contains(">>") {
            let parts: Vec<&str> = line.split(">>").map(str::trim).collect();
            if let Some(bad) = parts.iter().find(|p| !valid_id(p)) {
                problems.push(problem(
                    at,
                    "line",
                    td_string!(
                        l,
                        import.chain_bad_name,
                        bad = format!("{bad:?}"),
                        line = format!("{line:?}")
                    ),
                ));
                continue;
            }
            for p in &parts {
                declare(p, &mut nodes, &at)?;
            }
            edge_budget.edges(parts.len().saturating_sub(1), &at)?;
            for w in parts.windows(2) {
                edges.push(edge(w[0], w[1], EdgeKind::Command, Outcome::Success, None));
            }
            continue;
        }
        let Some((arrow, kind, on)) = arrows.iter().find(|(a, _, _)| line.contains(a)) else {
            if valid_id(line) {
                declare(line, &mut nodes, &at)?;
            } else {
                problems.push(problem(
                    at,
                    "line",
                    td_string!(l, import.text_expected, line = format!("{line:?}")),
                ));
            }
            continue;
        };
        let (from, rest) = line.split_once(arrow).unwrap_or((line, ""));
        let (to, event) = match rest.split_once(':') {
            Some((to, event)) => (to.trim(), Some(event.trim().to_string())),
            None => (rest.trim(), None),
        };
        let from = from.trim();
        if !valid_id(from) || !valid_id(to) {
            problems.push(problem(
                at,
                "line",
                td_string!(l, import.both_ends, line = format!("{line:?}")),
            ));
            continue;
        }
        if event.is_some() && *kind == EdgeKind::Command {
            problems.push(problem(
                at,
                "line",
                td_string!(
                    l,
                    import.command_no_event,
                    arrow = arrow,
                    line = format!("{line:?}")
                ),
            ));
            continue;
        }
        if event.as_deref() == Some("") {
            problems.push(problem(
                at,
                "line",
                td_string!(l, import.empty_event, line = format!("{line:?}")),
            ));
            continue;
        }
        declare(from, &mut nodes, &at)?;
        declare(to, &mut nodes, &at)?;
        edge_budget.edges(1, &at)?;
        edges.push(edge(from, to, *kind, *on, event));
        if problems.len() > MAX_PROBLEMS {
            break;
        }
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
    Ok(assemble(name, nodes, edges, false))
}

// ---- export --------------------------------------------------------------------------

pub fn export(workflow: &Workflow, format: ExportFormat) -> Result<String, ExportError> {
    export_in(workflow, format, Locale::en)
}

/// The workflow in `format`, or why it cannot be written in it, in `l`'s words.
pub fn export_in(
    workflow: &Workflow,
    format: ExportFormat,
    l: Locale,
) -> Result<String, ExportError> {
    Ok(match format {
        ExportFormat::Json => serde_json::to_string_pretty(workflow).unwrap_or_default(),
        ExportFormat::Mermaid => super::mermaid::to_mermaid(workflow),
        ExportFormat::Text => to_text(workflow),
        ExportFormat::Bpmn => super::bpmn::export::to_bpmn(workflow),
        ExportFormat::AsyncApi => super::asyncapi::to_asyncapi(workflow),
        #[cfg(feature = "conditions")]
        ExportFormat::Asl => super::asl::to_asl(workflow, l).map_err(ExportError)?,
        #[cfg(not(feature = "conditions"))]
        ExportFormat::Asl => {
            return Err(ExportError(vec![problem(
                "",
                "format",
                td_string!(l, export.asl_by_server).to_string(),
            )]))
        }
    })
}

/// The text form; step details (labels, services, behaviour) are not part of it.
fn to_text(workflow: &Workflow) -> String {
    let mut out = format!("name: {}\n", workflow.name);
    let connected: std::collections::HashSet<&str> = workflow
        .edges
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .collect();
    for node in workflow
        .nodes
        .iter()
        .filter(|n| !connected.contains(n.id.as_str()))
    {
        let _ = writeln!(out, "{}", node.id);
    }
    for e in &workflow.edges {
        let arrow = match (e.kind, e.on) {
            (EdgeKind::Command, Outcome::Success) => "->",
            (EdgeKind::Command, Outcome::Failure) => "-!>",
            (EdgeKind::Event, Outcome::Success) => "~>",
            (EdgeKind::Event, Outcome::Failure) => "~!>",
        };
        match e.kind {
            EdgeKind::Command => {
                let _ = writeln!(out, "{} {arrow} {}", e.from, e.to);
            }
            EdgeKind::Event => {
                let _ = writeln!(
                    out,
                    "{} {arrow} {} : {}",
                    e.from,
                    e.to,
                    workflow.event_name(e)
                );
            }
        }
    }
    out
}
