//! The run data a step writes, in the inspector's text form: fields separated by `;`, each
//! `field = value`, or a choice `field = value chance% | value chance%`. A value is JSON
//! (`true`, `120`, `"gold"`), or a bare word taken as text (`tier = gold`). For example
//! `approved = true 80% | false 20%; amount = 120`. (A `;` or `|` inside a text value is
//! not read; the document's JSON has no such limit.)

use std::collections::BTreeMap;

use serde_json::Value;

use super::workflow::{Chance, Written};
use crate::i18n::Locale;

/// The writes in the text form.
pub fn writes_text(writes: &BTreeMap<String, Written>) -> String {
    writes
        .iter()
        .map(|(field, written)| match written {
            Written::Value(v) => format!("{field} = {v}"),
            Written::Choice { choose } => format!(
                "{field} = {}",
                choose
                    .iter()
                    .map(|c| format!("{} {}%", c.value, percent(c.p)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A chance as a percentage, without trailing zeros (`80`, `12.5`).
fn percent(p: f64) -> String {
    let s = format!("{:.4}", p * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A list of run data fields (a step's reads, an event's payload) as the inspector shows
/// it: `address, amount`.
pub fn fields_text(fields: &[String]) -> String {
    fields.join(", ")
}

/// Reads a list of fields separated by commas or spaces, each a field name, or says (in
/// `l`'s words) which one is not.
pub fn parse_fields(text: &str, l: Locale) -> Result<Vec<String>, String> {
    let mut fields: Vec<String> = Vec::new();
    for field in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
    {
        if !super::validate::is_field_name(field) {
            return Err(td_string!(
                l,
                problem.field_name,
                field = format!("{field:?}"),
                limit = super::validate::MAX_FIELD_CHARS
            ));
        }
        if !fields.iter().any(|f| f == field) {
            fields.push(field.to_string());
        }
    }
    Ok(fields)
}

/// The run data fields `workflow`'s steps write, sorted: what a condition can name besides
/// the run's input.
pub fn written_fields(workflow: &super::workflow::Workflow) -> Vec<String> {
    let mut fields: Vec<String> = workflow
        .nodes
        .iter()
        .flat_map(|n| n.writes.keys().cloned())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// Reads the text form, or says (in `l`'s words) which part is not understood. The model's
/// own rules (names, counts, chances adding up to 1) are the validator's.
pub fn parse_writes(text: &str, l: Locale) -> Result<BTreeMap<String, Written>, String> {
    let mut writes = BTreeMap::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, rest)) = part.split_once('=') else {
            return Err(td_string!(
                l,
                behaviour.writes_expected,
                part = format!("{part:?}")
            ));
        };
        let (field, rest) = (field.trim(), rest.trim());
        if field.is_empty() || rest.is_empty() {
            return Err(td_string!(
                l,
                behaviour.writes_expected,
                part = format!("{part:?}")
            ));
        }
        let choices: Vec<&str> = rest.split('|').map(str::trim).collect();
        let written = if choices.len() == 1 && !rest.ends_with('%') {
            Written::Value(value(rest))
        } else {
            let mut choose = Vec::new();
            for choice in choices {
                let chance = choice
                    .rsplit_once(char::is_whitespace)
                    .and_then(|(v, p)| {
                        let p = p.strip_suffix('%')?.parse::<f64>().ok()?;
                        Some((v.trim(), p))
                    })
                    .filter(|(v, p)| !v.is_empty() && p.is_finite());
                let Some((v, p)) = chance else {
                    return Err(td_string!(
                        l,
                        behaviour.writes_choice,
                        part = format!("{choice:?}")
                    ));
                };
                choose.push(Chance {
                    value: value(v),
                    p: p / 100.0,
                });
            }
            Written::Choice { choose }
        };
        writes.insert(field.to_string(), written);
    }
    Ok(writes)
}

/// A value as JSON, else the text itself.
fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The run data fields a condition reads, each once, in order: the names that start a
/// path (`customer` of `customer.tier`), outside string literals, that are not a function
/// called (`size(…)`) nor one of CEL's words. A scan, not a parse (the browser has no CEL):
/// a condition the validator refuses may give odd names, and is refused anyway. Bounded by
/// the condition's own limit.
pub fn condition_fields(condition: &str) -> Vec<String> {
    const WORDS: [&str; 4] = ["true", "false", "null", "in"];
    let chars: Vec<char> = condition
        .chars()
        .take(super::validate::MAX_CONDITION_CHARS)
        .collect();
    let mut fields: Vec<String> = Vec::new();
    let mut i = 0;
    let mut after_dot = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // A string literal: skipped to its closing quote.
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            after_dot = false;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let called = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
            if !after_dot && !called && !WORDS.contains(&word.as_str()) && !fields.contains(&word) {
                fields.push(word);
            }
            after_dot = false;
            continue;
        }
        if c.is_ascii_digit() {
            // A number (its exponent or suffix is not a name).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            after_dot = false;
            continue;
        }
        after_dot = c == '.' || (c.is_whitespace() && after_dot);
        i += 1;
    }
    fields
}
