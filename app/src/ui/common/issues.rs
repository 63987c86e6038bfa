//! A workflow's problems as the editor lists them: the model's errors and the design
//! warnings, and the badge a step or an edge draws for its own.

use crate::i18n::Locale;
use crate::model::Workflow;

/// How bad a problem is: errors stop saving, warnings are design advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One entry of the problems list (and one badge on the canvas).
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub node: Option<String>,
    pub edge: Option<String>,
    pub message: String,
}

/// The model's errors and the design warnings of a workflow, in `locale`'s words; `given`:
/// the fields the next run's input brings.
pub fn issues_of(workflow: &Workflow, locale: Locale, given: &[String]) -> Vec<Issue> {
    let errors = crate::model::validate::validate_in(workflow, locale)
        .into_iter()
        .map(|p| Issue {
            severity: Severity::Error,
            node: p.node,
            edge: p.edge,
            message: format!("{}: {}", p.path, p.message),
        });
    let warnings = crate::model::lint::lint_given(workflow, given)
        .into_iter()
        .map(|w| Issue {
            severity: Severity::Warning,
            message: w.words(locale),
            node: w.node,
            edge: w.edge,
        });
    errors.chain(warnings).collect()
}

/// What a step's or an edge's badge shows: the worst severity among its problems, and
/// their messages.
pub type BadgeText = Option<(Severity, String)>;

pub fn badge(issues: &[Issue], mine: impl Fn(&Issue) -> bool) -> BadgeText {
    let mine: Vec<_> = issues.iter().filter(|i| mine(i)).collect();
    let severity = if mine.iter().any(|i| i.severity == Severity::Error) {
        Severity::Error
    } else if mine.is_empty() {
        return None;
    } else {
        Severity::Warning
    };
    let text = mine
        .iter()
        .map(|i| i.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    Some((severity, text))
}
