//! The environment fallback of provider blocks: an attribute that declares
//! a variable (`.env("HW_X")`) is read from it when unset, typed and checked
//! like the attribute's own value.

use super::error;
use crate::diag::{AttributePath, Diagnostics};
use crate::schema::Block;
use crate::value::{Type, Value};

/// The configuration with each attribute that declares an environment
/// variable, and is null (or empty) in `config`, read from it, typed by the
/// attribute: strings as they are, bools as `true`/`false`/`1`/`0`/`yes`/`no`,
/// numbers in decimal. `skip` names attributes not to read. What a variable
/// holds is checked like the attribute's own value; problems name the
/// variable and point at the attribute.
pub fn fill_from_env(
    block: &Block,
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
    skip: &dyn Fn(&str) -> bool,
) -> (Value, Diagnostics) {
    let mut merged = config.clone();
    let mut diags = Diagnostics::new();
    for a in &block.attributes {
        let Some(var) = a.behaviour.env else { continue };
        let unset = match config.get(&a.name) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        let Some(raw) = env(var).filter(|v| unset && !skip(&a.name) && !v.is_empty()) else {
            continue;
        };
        let path = AttributePath::root(&a.name);
        let value = match env_value(&a.ty, &raw) {
            Ok(v) => v,
            Err(expected) => {
                diags.push(error(
                    &path,
                    format!("Invalid {var}"),
                    format!("{var} must be {expected}, got {raw:?}."),
                ));
                continue;
            }
        };
        let mut found = Diagnostics::new();
        for validator in &a.behaviour.validators.0 {
            validator.check(&value, &path, &mut found);
        }
        if found.is_empty() {
            merged.set_attr(&a.name, value);
        }
        for mut d in found.0 {
            d.summary = format!("Invalid {var}");
            d.detail = format!("{var}: {}", d.detail);
            diags.push(d);
        }
    }
    (merged, diags)
}

/// An environment variable's text as a value of type `ty`, or what it
/// should have been.
fn env_value(ty: &Type, raw: &str) -> Result<Value, &'static str> {
    match ty {
        Type::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(Value::Bool(true)),
            "0" | "false" | "no" => Ok(Value::Bool(false)),
            _ => Err("true or false"),
        },
        Type::Number => {
            let t = raw.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Value::Number(crate::Number::Int(i)));
            }
            t.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| Value::Number(crate::Number::Float(f)))
                .ok_or("a number")
        }
        _ => Ok(Value::string(raw)),
    }
}
