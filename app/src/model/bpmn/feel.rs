//! A BPMN condition in CEL: Camunda 7's `${amount > 100}` (JUEL) and Camunda 8's
//! `=amount > 100` (FEEL), for the comparisons the three languages mean alike — fields
//! (dotted), numbers, strings, `true`/`false`, comparisons (FEEL's `=`, JUEL's `eq`, `gt`…),
//! arithmetic, `and`/`or`/`not`, parentheses. Anything else (a function call, a list, a
//! range, `null`) is refused, saying which word; the input is bounded before it is read.
//!
//! [`from_cel`] goes the other way for the export: the same comparisons, written as FEEL
//! (`=amount > 100`), which Camunda 8 evaluates; a condition with more in it has no FEEL
//! and is written as CEL, in a `conditionExpression` whose `language` says so ([`CEL`]).

use crate::model::validate::MAX_CONDITION_CHARS;

/// Why a condition could not be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Untranslatable {
    TooLong { chars: usize },
    Word(String),
    Unclosed,
    Empty,
}

/// The `language` of a `conditionExpression` written in CEL (the export's, when a condition
/// has no FEEL): read back as it is.
pub const CEL: &str = "https://github.com/google/cel-spec";

/// A CEL condition as FEEL (`=amount > 100 and tier = "gold"`), when it is only fields,
/// numbers, strings, booleans, comparisons, arithmetic (but `%`), `&&`, `||`, `!` and
/// parentheses; else which word has no FEEL.
pub fn from_cel(cel: &str) -> Result<String, Untranslatable> {
    let chars_count = cel.chars().count();
    if chars_count > MAX_CONDITION_CHARS {
        return Err(Untranslatable::TooLong { chars: chars_count });
    }
    let chars: Vec<char> = cel.chars().collect();
    let mut out: Vec<String> = Vec::new();
    // For each open parenthesis, whether it is a `not(` that a bare `!field` opened (and
    // that closes after the field).
    let mut depth = 0i32;
    let mut i = 0;
    let mut negate_next = false;
    let word_at = |i: usize| -> usize {
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || "_.".contains(chars[j])) {
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let mut token = if c.is_ascii_alphabetic() || c == '_' {
            let end = word_at(i);
            let word: String = chars[i..end].iter().collect();
            let next = chars[end..].iter().find(|c| !c.is_whitespace());
            i = end;
            match word.as_str() {
                "true" | "false" => word,
                "in" | "null" | "and" | "or" | "not" | "has" | "size" => {
                    return Err(Untranslatable::Word(word))
                }
                _ if next == Some(&'(') => return Err(Untranslatable::Word(format!("{word}("))),
                _ if word.ends_with('.') || word.contains("..") => {
                    return Err(Untranslatable::Word(word))
                }
                _ => word,
            }
        } else if c.is_ascii_digit() {
            let end = word_at(i);
            let number: String = chars[i..end].iter().collect();
            i = end;
            // FEEL's numbers are digits and a point (no `1e3`, no `10u`).
            if number.parse::<f64>().is_err()
                || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
            {
                return Err(Untranslatable::Word(number));
            }
            number
        } else if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(Untranslatable::Unclosed),
                    Some('\\') => match chars.get(i + 1) {
                        Some(&e @ ('\\' | '\'' | '"')) => {
                            value.push(e);
                            i += 2;
                        }
                        _ => return Err(Untranslatable::Word("\\".into())),
                    },
                    Some(&q) if q == quote => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (said, width) = match two.as_str() {
                "==" => ("=", 2),
                "!=" | "<=" | ">=" => (two.as_str(), 2),
                "&&" => ("and", 2),
                "||" => ("or", 2),
                _ => match c {
                    '<' | '>' | '+' | '-' | '*' | '/' => (&two[..1], 1),
                    '(' => {
                        depth += 1;
                        ("(", 1)
                    }
                    ')' => {
                        depth -= 1;
                        if depth < 0 {
                            return Err(Untranslatable::Word(")".into()));
                        }
                        (")", 1)
                    }
                    '!' => {
                        // `!(…)` is `not(…)`; `!field` is `not(field)`.
                        i += 1;
                        if negate_next {
                            return Err(Untranslatable::Word("!!".into()));
                        }
                        negate_next = true;
                        continue;
                    }
                    other => return Err(Untranslatable::Word(other.to_string())),
                },
            };
            i += width;
            said.to_string()
        };
        if std::mem::take(&mut negate_next) {
            token = match token.as_str() {
                "(" => "not(".to_string(),
                t if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
                    format!("not({t})")
                }
                _ => return Err(Untranslatable::Word("!".into())),
            };
        }
        out.push(token);
    }
    if depth != 0 || negate_next {
        return Err(Untranslatable::Unclosed);
    }
    if out.is_empty() {
        return Err(Untranslatable::Empty);
    }
    let mut feel = String::from("=");
    for (k, token) in out.iter().enumerate() {
        let glued = k == 0 || out[k - 1] == "(" || out[k - 1] == "not(" || token == ")";
        if !glued {
            feel.push(' ');
        }
        feel.push_str(token);
    }
    Ok(feel)
}

/// `text` (a `conditionExpression`'s body) as a CEL condition.
pub fn to_cel(text: &str) -> Result<String, Untranslatable> {
    let chars = text.chars().count();
    if chars > MAX_CONDITION_CHARS {
        return Err(Untranslatable::TooLong { chars });
    }
    let text = text.trim();
    // JUEL's `${…}` or `#{…}`, FEEL's leading `=`.
    let (body, feel) =
        if let Some(inner) = text.strip_prefix("${").or_else(|| text.strip_prefix("#{")) {
            (
                inner.strip_suffix('}').ok_or(Untranslatable::Unclosed)?,
                false,
            )
        } else if let Some(inner) = text.strip_prefix('=') {
            (inner, true)
        } else {
            (text, true)
        };
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut depth = 0i32;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_.".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let said = match word.as_str() {
                "and" => "&&",
                "or" => "||",
                "true" | "false" => word.as_str(),
                "eq" if !feel => "==",
                "ne" if !feel => "!=",
                "lt" if !feel => "<",
                "gt" if !feel => ">",
                "le" if !feel => "<=",
                "ge" if !feel => ">=",
                "not" if next == Some(&'(') || !feel => "!",
                "not" => return Err(Untranslatable::Word(word)),
                "null" | "nil" | "empty" | "in" | "between" | "instance" | "some" | "every"
                | "for" | "if" | "then" | "else" | "function" | "satisfies" => {
                    return Err(Untranslatable::Word(word))
                }
                _ if next == Some(&'(') => return Err(Untranslatable::Word(format!("{word}("))),
                _ if word.ends_with('.') || word.contains("..") => {
                    return Err(Untranslatable::Word(word))
                }
                _ => word.as_str(),
            };
            out.push(said.to_string());
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            if number.parse::<f64>().is_err() {
                return Err(Untranslatable::Word(number));
            }
            out.push(number);
            continue;
        }
        if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(Untranslatable::Unclosed),
                    Some('\\') => {
                        if let Some(&next) = chars.get(i + 1) {
                            value.push(next);
                        }
                        i += 2;
                    }
                    Some(&q) if q == quote => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            out.push(format!(
                "'{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            ));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (said, width) = match two.as_str() {
            "==" | "!=" | "<=" | ">=" | "&&" | "||" => (two.clone(), 2),
            _ => match c {
                '=' if feel => ("==".to_string(), 1),
                '<' | '>' | '+' | '-' | '*' | '/' | '%' => (c.to_string(), 1),
                '!' if !feel => ("!".to_string(), 1),
                '(' => {
                    depth += 1;
                    ("(".to_string(), 1)
                }
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(Untranslatable::Word(")".into()));
                    }
                    (")".to_string(), 1)
                }
                other => return Err(Untranslatable::Word(other.to_string())),
            },
        };
        out.push(said);
        i += width;
    }
    if depth != 0 {
        return Err(Untranslatable::Unclosed);
    }
    if out.is_empty() {
        return Err(Untranslatable::Empty);
    }
    // Words joined by single spaces, but no space after a `!` or inside parentheses.
    let mut cel = String::new();
    for (k, token) in out.iter().enumerate() {
        let glued = k == 0 || out[k - 1] == "!" || out[k - 1] == "(" || token == ")";
        if !glued {
            cel.push(' ');
        }
        cel.push_str(token);
    }
    Ok(cel)
}
