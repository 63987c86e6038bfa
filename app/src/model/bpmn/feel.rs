//! A BPMN condition in CEL: Camunda 7's `${amount > 100}` (JUEL) and Camunda 8's
//! `=amount > 100` (FEEL), for the comparisons the three languages mean alike — fields
//! (dotted), numbers, strings, `true`/`false`, comparisons (FEEL's `=`, JUEL's `eq`, `gt`…),
//! arithmetic, `and`/`or`/`not`, parentheses. Anything else (a function call, a list, a
//! range, `null`) is refused, saying which word; the input is bounded before it is read.

use crate::model::validate::MAX_CONDITION_CHARS;

/// Why a condition could not be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Untranslatable {
    TooLong { chars: usize },
    Word(String),
    Unclosed,
    Empty,
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
