//! Conditions on a run's data: the expressions a deciding edge will carry ("take this edge
//! when `amount > 100`"), in the Common Expression Language (CEL) through the `cel` crate.
//!
//! Why CEL: it is made for exactly this — a safe, non-Turing-complete language for policy
//! and routing decisions (Kubernetes admission, Envoy, Google Cloud IAM use it), with a
//! specification and a conformance suite, C-like syntax an engineer reads at once
//! (`approved && amount <= 100`), and no loops, assignments or I/O. The alternatives
//! weighed: JSON Logic (safe too, but a JSON tree nobody writes by hand on an edge label),
//! Rhai or Lua (general scripting: loops and unbounded work to fence off), `evalexpr` (a
//! one-crate dialect with no specification), FEEL (what Camunda writes, but no maintained
//! Rust implementation; BPMN's FEEL comparisons are translated to CEL on import instead).
//!
//! Bounded while read and while evaluated — a condition is user input:
//! - at most [`MAX_CONDITION_CHARS`] characters, checked before the parser sees it;
//! - nesting at most [`MAX_CONDITION_NESTING`] deep, enforced by the parser itself, which
//!   runs on a thread of its own with [`PARSER_STACK_BYTES`] of stack (the generated parser
//!   has no stack guard of its own and is deep in a debug build);
//! - no comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`): without them
//!   an evaluation visits each node of the expression once, so its cost is bounded by the
//!   expression's size and the run data's (itself bounded by the run input limit);
//! - only the functions in [`FUNCTIONS`]: no regular expressions, no clocks.
//!
//! A condition reads the run data's top-level fields by name (`amount`, `customer.tier`);
//! [`Condition::fields`] lists them, so that a lint can name a field no step writes.

use std::collections::BTreeSet;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use serde_json::{Map, Value};

pub use super::validate::MAX_CONDITION_CHARS;
/// Deepest nesting of a condition's expression (parentheses, operators, calls).
pub const MAX_CONDITION_NESTING: u16 = 24;
/// Stack of the thread that parses a condition: the generated parser needs about 350 KiB
/// for `a + b` in a debug build and grows with the nesting; this leaves a wide margin at
/// [`MAX_CONDITION_NESTING`]. Reserved, not committed: only the pages touched cost memory.
pub const PARSER_STACK_BYTES: usize = 32 * 1024 * 1024;
/// Functions and operators a condition may call (CEL's operator names are `_+_` and such).
pub const FUNCTIONS: &[&str] = &[
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "_&&_",
    "_||_",
    "!_",
    "-_",
    "_+_",
    "_-_",
    "_*_",
    "_/_",
    "_%_",
    "_[_]",
    "_?_:_",
    "@in",
    "@not_strictly_false",
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "int",
    "uint",
    "double",
    "string",
    "max",
    "min",
];

/// Conditions kept read by [`Condition::shared`]; past this many the cache starts again.
pub const MAX_SHARED_CONDITIONS: usize = 1024;

/// Why a condition was refused, or could not be decided.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition is empty")]
    Empty,
    #[error("the condition is {chars} characters long; the limit is {limit}")]
    TooLong { chars: usize, limit: usize },
    /// Not CEL, or nested deeper than [`MAX_CONDITION_NESTING`] (the parser's words).
    #[error("the condition cannot be read: {0}")]
    Unreadable(String),
    #[error("{0}() is not available in a condition (a condition may not loop over a list)")]
    Comprehension(String),
    #[error("{0}() is not available in a condition")]
    Function(String),
    /// Evaluated to something other than true or false.
    #[error("the condition gave {0}, not true or false")]
    NotBoolean(String),
    /// Named a field the run data does not have.
    #[error("the run data has no field {0:?}")]
    NoField(String),
    /// Any other failure of the evaluation (a comparison of a string with a number…).
    #[error("the condition failed: {0}")]
    Failed(String),
}

impl ConditionError {
    /// The error in `l`'s words (the `Display` form is the API's English; the parser's own
    /// detail stays as it said it).
    pub fn said(&self, l: crate::i18n::Locale) -> String {
        match self {
            ConditionError::Empty => td_string!(l, condition.empty).to_string(),
            ConditionError::TooLong { chars, limit } => {
                td_string!(l, condition.too_long, chars = chars, limit = limit)
            }
            ConditionError::Unreadable(detail) => {
                td_string!(l, condition.unreadable, detail = detail)
            }
            ConditionError::Comprehension(name) => {
                td_string!(l, condition.comprehension, name = name)
            }
            ConditionError::Function(name) => td_string!(l, condition.function, name = name),
            ConditionError::NotBoolean(value) => {
                td_string!(l, condition.not_boolean, value = value)
            }
            ConditionError::NoField(field) => {
                td_string!(l, condition.no_field, field = format!("{field:?}"))
            }
            ConditionError::Failed(detail) => td_string!(l, condition.failed, detail = detail),
        }
    }
}

/// A condition that was read and passed every bound, ready to be evaluated many times.
#[derive(Clone, Debug)]
pub struct Condition {
    source: String,
    program: Arc<cel::Program>,
    fields: BTreeSet<String>,
}

impl Condition {
    /// Reads `source`, refusing it at the first bound it crosses.
    pub fn read(source: &str) -> Result<Condition, ConditionError> {
        let source = source.trim();
        if source.is_empty() {
            return Err(ConditionError::Empty);
        }
        let chars = source.chars().count();
        if chars > MAX_CONDITION_CHARS {
            return Err(ConditionError::TooLong {
                chars,
                limit: MAX_CONDITION_CHARS,
            });
        }
        let program = parse_on_own_stack(source)?;
        let mut fields = BTreeSet::new();
        check(program.expression(), 0, &mut fields)?;
        Ok(Condition {
            source: source.to_string(),
            program: Arc::new(program),
            fields,
        })
    }

    /// `source` read once for every run of every workflow that carries it: a run reads its
    /// workflow's conditions as it starts, and reading (a thread, a parse) costs a hundred
    /// times a decision.
    pub fn shared(source: &str) -> Result<Arc<Condition>, ConditionError> {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static SHARED: OnceLock<Mutex<HashMap<String, Arc<Condition>>>> = OnceLock::new();
        let cache = SHARED.get_or_init(Default::default);
        if let Some(c) = cache.lock().ok().and_then(|c| c.get(source).cloned()) {
            return Ok(c);
        }
        let read = Arc::new(Condition::read(source)?);
        if let Ok(mut c) = cache.lock() {
            if c.len() >= MAX_SHARED_CONDITIONS {
                c.clear();
            }
            c.insert(source.to_string(), read.clone());
        }
        Ok(read)
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The run data's top-level fields the condition reads.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }

    /// Whether the condition holds for `data` (the run data: its input and what the steps
    /// wrote). A field it reads that `data` lacks is [`ConditionError::NoField`].
    pub fn holds(&self, data: &Map<String, Value>) -> Result<bool, ConditionError> {
        if let Some(missing) = self.fields.iter().find(|f| !data.contains_key(*f)) {
            return Err(ConditionError::NoField(missing.clone()));
        }
        // The standard functions are registered once per thread; each evaluation adds its
        // fields in a scope of its own over them.
        thread_local! {
            static ROOT: cel::Context<'static, 'static> = cel::Context::default();
        }
        ROOT.with(|root| self.decide(root.new_inner_scope(), data))
    }

    fn decide(
        &self,
        mut context: cel::Context<'_, '_>,
        data: &Map<String, Value>,
    ) -> Result<bool, ConditionError> {
        for field in &self.fields {
            if let Some(value) = data.get(field) {
                context.add_variable_from_value(field.as_str(), cel_value(value));
            }
        }
        match self.program.execute(&context) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(ConditionError::NotBoolean(format!("{other:?}"))),
            Err(cel::ExecutionError::NoSuchKey(key)) => Err(ConditionError::NoField(
                key.to_string().trim_matches('"').to_string(),
            )),
            Err(e) => Err(ConditionError::Failed(e.to_string())),
        }
    }
}

/// A JSON value as CEL sees it: a whole number is an `int` (CEL's integer, so that
/// `amount * 2 > 300` mixes with the literals), unless it only fits a `uint`.
fn cel_value(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(cel_value).collect())),
        Value::Object(fields) => cel::Value::Map(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), cel_value(v)))
                .collect::<std::collections::HashMap<String, cel::Value>>()
                .into(),
        ),
    }
}

impl Condition {
    /// The condition as an Amazon States Language Choice rule (without its `Next`):
    /// comparisons of a field (`amount`, `customer.tier`) with a literal or another field,
    /// `&&`, `||` and `!`, a bare boolean field. Anything else has no Choice rule: `Err`
    /// says which part.
    pub fn choice_rule(&self) -> Result<Value, String> {
        rule(self.program.expression())
    }
}

fn rule(e: &IdedExpr) -> Result<Value, String> {
    use cel::common::ast::LiteralValue;
    let Expr::Call(call) = &e.expr else {
        // A bare field is true when it is.
        return Ok(serde_json::json!({"Variable": path_of(e)?, "BooleanEquals": true}));
    };
    let both = |f: &str| -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for arg in &call.args {
            // `a && b && c` nests: the rules of one operator flatten into one list.
            match &arg.expr {
                Expr::Call(inner) if inner.func_name == f => match rule(arg)? {
                    Value::Object(mut o) => {
                        match o.remove(if f == "_&&_" { "And" } else { "Or" }) {
                            Some(Value::Array(items)) => out.extend(items),
                            _ => return Err("a nested rule".into()),
                        }
                    }
                    other => out.push(other),
                },
                _ => out.push(rule(arg)?),
            }
        }
        Ok(out)
    };
    let compare = |op: &str| -> Result<Value, String> {
        let [left, right] = call.args.as_slice() else {
            return Err(format!("{op} with {} operands", call.args.len()));
        };
        // The field on the left: `1000 < amount` is `amount > 1000`.
        let (field, other, op) = match (&left.expr, &right.expr) {
            (Expr::Literal(_), _) => (right, left, flip(op)),
            _ => (left, right, op),
        };
        let variable = path_of(field)?;
        let (kind, value) = match &other.expr {
            Expr::Literal(LiteralValue::Int(i)) => ("Numeric", Value::from(*i.inner())),
            Expr::Literal(LiteralValue::UInt(u)) => ("Numeric", Value::from(*u.inner())),
            Expr::Literal(LiteralValue::Double(d)) => ("Numeric", Value::from(*d.inner())),
            Expr::Literal(LiteralValue::String(s)) => ("String", Value::from(s.inner())),
            Expr::Literal(LiteralValue::Boolean(b)) if op == "Equals" => {
                ("Boolean", Value::from(*b.inner()))
            }
            Expr::Literal(LiteralValue::Null) if op == "Equals" => {
                return Ok(serde_json::json!({"Variable": variable, "IsNull": true}))
            }
            Expr::Ident(_) | Expr::Select(_) => {
                // Field against field: Step Functions must know the type; numbers are
                // what conditions between two fields compare.
                return Ok(serde_json::json!({
                    "Variable": variable,
                    format!("Numeric{op}Path"): path_of(other)?
                }));
            }
            _ => return Err("a comparison with a computed value".into()),
        };
        Ok(serde_json::json!({"Variable": variable, format!("{kind}{op}"): value}))
    };
    match call.func_name.as_str() {
        "_&&_" => Ok(serde_json::json!({"And": both("_&&_")?})),
        "_||_" => Ok(serde_json::json!({"Or": both("_||_")?})),
        "!_" => Ok(serde_json::json!({"Not": rule(&call.args[0])?})),
        "_==_" => compare("Equals"),
        "_!=_" => Ok(serde_json::json!({"Not": compare("Equals")?})),
        "_<_" => compare("LessThan"),
        "_<=_" => compare("LessThanEquals"),
        "_>_" => compare("GreaterThan"),
        "_>=_" => compare("GreaterThanEquals"),
        other => Err(format!("the operator {}", other.trim_matches('_'))),
    }
}

/// The comparison with its sides swapped (`1 < a` is `a > 1`).
fn flip(op: &str) -> &str {
    match op {
        "LessThan" => "GreaterThan",
        "GreaterThan" => "LessThan",
        "LessThanEquals" => "GreaterThanEquals",
        "GreaterThanEquals" => "LessThanEquals",
        same => same,
    }
}

/// A field as a JSONPath into the state's input: `customer.tier` is `$.customer.tier`.
fn path_of(e: &IdedExpr) -> Result<String, String> {
    match &e.expr {
        Expr::Ident(name) => Ok(format!("$.{name}")),
        Expr::Select(select) if !select.test => {
            Ok(format!("{}.{}", path_of(&select.operand)?, select.field))
        }
        _ => Err("a value that is not a field".into()),
    }
}

/// Parses on a thread with a stack of known size, so that reading never depends on how
/// much stack the caller has left (an async worker, a test thread).
fn parse_on_own_stack(source: &str) -> Result<cel::Program, ConditionError> {
    let owned = source.to_string();
    let parsed = std::thread::Builder::new()
        .name("condition-parser".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || {
            // The nesting bound is the parser's own; it stops where it crosses it.
            cel::parser::Parser::new()
                .max_recursion_depth(MAX_CONDITION_NESTING)
                .parse(&owned)
                .map_err(|e| e.to_string())?;
            cel::Program::compile(&owned).map_err(|e| e.to_string())
        })
        .map_err(|e| ConditionError::Failed(format!("no thread to read the condition on: {e}")))?
        .join()
        .map_err(|_| ConditionError::Unreadable("the parser failed".into()))?;
    parsed.map_err(|e| ConditionError::Unreadable(first_line(&e)))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

/// Walks the expression: refuses one nested deeper than [`MAX_CONDITION_NESTING`] (the
/// parser folds some chains, `!!!!x`, that evaluation would still recurse through),
/// comprehensions and functions outside [`FUNCTIONS`], and collects the top-level fields
/// it reads. (No comprehension means no variable a scope binds: every name is a field.)
fn check(e: &IdedExpr, depth: u16, fields: &mut BTreeSet<String>) -> Result<(), ConditionError> {
    if depth > MAX_CONDITION_NESTING {
        return Err(ConditionError::Unreadable(format!(
            "it is nested more than {MAX_CONDITION_NESTING} deep; the limit is {MAX_CONDITION_NESTING}"
        )));
    }
    let deeper = depth + 1;
    match &e.expr {
        Expr::Ident(name) => {
            fields.insert(name.clone());
        }
        Expr::Select(select) => check(&select.operand, deeper, fields)?,
        Expr::Call(call) => {
            if !FUNCTIONS.contains(&call.func_name.as_str()) {
                return Err(ConditionError::Function(call.func_name.clone()));
            }
            if let Some(target) = &call.target {
                check(target, deeper, fields)?;
            }
            for arg in &call.args {
                check(arg, deeper, fields)?;
            }
        }
        // Macros expand to comprehensions; the macro is named as written where its
        // shape tells it (`all`, `exists`, `exists_one`, `map`, `filter`).
        Expr::Comprehension(_) => return Err(ConditionError::Comprehension(macro_name(e))),
        Expr::List(list) => {
            for element in &list.elements {
                check(element, deeper, fields)?;
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(m) = &entry.expr {
                    check(&m.key, deeper, fields)?;
                    check(&m.value, deeper, fields)?;
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    check(&f.value, deeper, fields)?;
                }
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
    Ok(())
}

/// A comprehension's macro, told from its shape: `all` and `exists` fold with `&&`/`||`,
/// `exists_one` counts, `map` and `filter` build a list.
fn macro_name(e: &IdedExpr) -> String {
    let Expr::Comprehension(c) = &e.expr else {
        return "a loop".into();
    };
    let step = match &c.loop_step.expr {
        Expr::Call(call) => call.func_name.as_str(),
        _ => "",
    };
    match step {
        "_&&_" => "all",
        "_||_" => "exists",
        "_?_:_" => match &c.accu_init.expr {
            Expr::Literal(cel::common::ast::LiteralValue::Int(_)) => "exists_one",
            _ => "filter",
        },
        "_+_" => "map",
        _ => "a loop",
    }
    .to_string()
}
