//! Markdown and HCL text for the docs: type labels, literals, anchors,
//! sentences and wrapped bullets.

use crate::value::{Number, Type, Value};

/// How a type is written in the docs: `String`, `Set of String`,
/// `List of Object`, ...
pub fn type_label(ty: &Type) -> String {
    match ty {
        Type::Bool => "Bool".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::List(t) => format!("List of {}", type_label(t)),
        Type::Set(t) => format!("Set of {}", type_label(t)),
        Type::Map(t) => format!("Map of {}", type_label(t)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
        Type::Dynamic => "Dynamic".into(),
    }
}

/// A value as HCL writes it, for defaults.
pub fn hcl_literal(v: &Value) -> String {
    let join = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
    match v {
        Value::Null => "null".into(),
        Value::Unknown | Value::Refined(_) => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(Number::Int(i)) => i.to_string(),
        Value::Number(Number::Float(f)) => f.to_string(),
        Value::Number(Number::Big(s)) => s.clone(),
        Value::String(s) => format!("{s:?}"),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            format!("[{}]", join(&mut xs.iter().map(hcl_literal)))
        }
        Value::Map(m) | Value::Object(m) => format!(
            "{{ {} }}",
            join(&mut m.iter().map(|(k, v)| format!("{k} = {}", hcl_literal(v))))
        ),
    }
}

/// The GitHub / registry anchor of a heading's text.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// A sentence: trimmed, ending in a full stop unless it ends in one already.
pub(super) fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() || s.ends_with(['.', '!', '?', ':']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// Words that would start a list, a heading or a quote at the start of a
/// continuation line.
pub(super) fn starts_block(word: &str) -> bool {
    matches!(word, "*" | "-" | "+" | ">")
        || word.starts_with('#')
        || word
            .strip_suffix(['.', ')'])
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Wraps `text` at `width` columns: the first line after `first`, the
/// others indented by `indent` spaces.
pub(super) fn wrap(first: &str, text: &str, indent: usize, width: usize) -> String {
    let mut out = first.to_string();
    let mut col = out.chars().count();
    let mut line_has_word = !first.trim().is_empty() && !first.ends_with(' ');
    for word in text.split_whitespace() {
        let len = word.chars().count();
        let fits = col + 1 + len <= width;
        if line_has_word && !fits && !starts_block(word) && col > indent {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if line_has_word {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        line_has_word = true;
    }
    out
}

pub(super) const WIDTH: usize = 88;
