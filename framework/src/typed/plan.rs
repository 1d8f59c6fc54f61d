//! The declared plan of a typed resource: defaults, requires-replace,
//! unknown computed values and kept state, from the declarations of its
//! model; and what an apply did not learn turned into null.

use crate::declare::KeepState;
use crate::diag::AttributePath;
use crate::schema::Block;
use crate::value::Value;

/// Values an apply did not learn become null, at any depth: Terraform
/// refuses unknown values after apply. (An unknown set element is dropped:
/// a set holds no nulls.)
pub(super) fn without_unknowns(mut v: Value) -> Value {
    fn clear(v: &mut Value) {
        match v {
            _ if v.is_unknown() => *v = Value::Null,
            Value::Set(elems) => {
                elems.retain(|e| !e.is_unknown());
                elems.iter_mut().for_each(clear);
            }
            Value::List(elems) | Value::Tuple(elems) => elems.iter_mut().for_each(clear),
            Value::Map(m) | Value::Object(m) => m.values_mut().for_each(clear),
            _ => {}
        }
    }
    clear(&mut v);
    v
}

/// True when `v` holds a refined unknown anywhere.
pub(super) fn has_refinements(v: &Value) -> bool {
    match v {
        Value::Refined(_) => true,
        Value::List(e) | Value::Set(e) | Value::Tuple(e) => e.iter().any(has_refinements),
        Value::Map(m) | Value::Object(m) => m.values().any(has_refinements),
        _ => false,
    }
}

/// Puts back the refinements of `from` where `to` has a plain unknown at the
/// same place (by attribute, key or list index; set elements are not
/// addressable, but a partly-known set is planned back as it came): a
/// [`Tf::Unknown`](crate::Tf) field knows no refinements, and a plan must
/// not say less than the configuration it came from.
pub fn keep_refinements(to: &mut Value, from: &Value) {
    match (to, from) {
        (to @ Value::Unknown, Value::Refined(r)) => *to = Value::Refined(r.clone()),
        (Value::Object(t), Value::Object(f)) | (Value::Map(t), Value::Map(f)) => {
            for (k, tv) in t.iter_mut() {
                if let Some(fv) = f.get(k) {
                    keep_refinements(tv, fv);
                }
            }
        }
        (Value::List(t), Value::List(f)) | (Value::Tuple(t), Value::Tuple(f))
            if t.len() == f.len() =>
        {
            t.iter_mut()
                .zip(f)
                .for_each(|(tv, fv)| keep_refinements(tv, fv));
        }
        _ => {}
    }
}

/// The declared plan: defaults, replacement, and which computed values
/// become unknown. Returns the planned value and the paths that replace.
pub fn plan_declared(
    block: &Block,
    prior: &Value,
    proposed: Value,
    config: &Value,
) -> (Value, Vec<AttributePath>) {
    let mut planned = proposed;
    let unset = |name: &str| config.get(name).is_none_or(Value::is_null);
    for a in &block.attributes {
        if let Some(d) = a.behaviour.default.as_ref().filter(|_| unset(&a.name)) {
            planned.set_attr(&a.name, d.clone());
        }
    }
    let computed_unset: Vec<_> = block
        .attributes
        .iter()
        .filter(|a| a.computed && a.behaviour.default.is_none() && unset(&a.name))
        .collect();
    if prior.is_null() {
        for a in &computed_unset {
            planned.set_attr(&a.name, Value::Unknown);
        }
        return (planned, Vec::new());
    }
    let differs = |name: &str| planned.get(name) != prior.get(name);
    let replace: Vec<AttributePath> = block
        .attributes
        .iter()
        .filter(|a| a.behaviour.requires_replace && differs(&a.name))
        .map(|a| AttributePath::root(&a.name))
        .collect();
    let changed: Vec<&str> = block
        .attributes
        .iter()
        .filter(|a| (a.required || a.optional) && differs(&a.name))
        .map(|a| a.name.as_str())
        .collect();
    for a in &computed_unset {
        let keep = replace.is_empty()
            && match &a.behaviour.keep_state {
                _ if changed.is_empty() => true,
                KeepState::Always => true,
                KeepState::UnlessChanged(inputs) => !inputs.iter().any(|i| changed.contains(i)),
                KeepState::Never => false,
            };
        if !keep {
            planned.set_attr(&a.name, Value::Unknown);
        }
    }
    (planned, replace)
}
