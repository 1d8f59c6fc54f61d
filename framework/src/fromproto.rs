//! Protocol messages to plain types: values (msgpack or JSON), stored state,
//! attribute paths. The mirror of [`super::toproto`].

use super::codec::CodecError;
use super::diag::{AttributePath, PathStep};
use super::json::{self, ExtraAttributes};
use super::msgpack;
use super::proto::tfplugin5 as pb;
use super::value::{Type, Value};

/// A `DynamicValue` of type `ty`. An absent or empty one is null (Terraform
/// sends nothing for, e.g., a missing `provider_meta`).
pub(crate) fn dynamic_value(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, CodecError> {
    match dv {
        Some(dv) if !dv.msgpack.is_empty() => msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => json::decode(&dv.json, ty, ExtraAttributes::Reject),
        _ => Ok(Value::Null),
    }
}

/// A `ResourceIdentityData` of type `ty`; null when absent.
pub(crate) fn identity(
    id: Option<&pb::ResourceIdentityData>,
    ty: &Type,
) -> Result<Value, CodecError> {
    dynamic_value(id.and_then(|i| i.identity_data.as_ref()), ty)
}

/// Stored state in JSON, decoded against the current schema's type:
/// attributes the schema dropped are ignored, new ones are null.
pub(crate) fn raw_state(rs: Option<&pb::RawState>, ty: &Type) -> Result<Value, CodecError> {
    match rs {
        Some(rs) if !rs.json.is_empty() => json::decode(&rs.json, ty, ExtraAttributes::Drop),
        Some(rs) if !rs.flatmap.is_empty() => Err(CodecError::new(
            &[],
            "state in the legacy flatmap format (Terraform 0.11 and older) is not supported",
        )),
        _ => Ok(Value::Null),
    }
}

/// (Terraform never sends paths today; kept as the mirror of `toproto`.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn attribute_path(p: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath(
        p.steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(a) => PathStep::Attribute(a.clone()),
                    Selector::ElementKeyString(k) => PathStep::ElementKeyString(k.clone()),
                    Selector::ElementKeyInt(i) => PathStep::ElementKeyInt(*i),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::toproto;
    use super::*;

    #[test]
    fn attribute_paths_round_trip() {
        let p = AttributePath::root("jobs").index(2).attr("job_id").key("k");
        assert_eq!(attribute_path(&toproto::attribute_path(&p)), p);
    }

    #[test]
    fn empty_dynamic_value_is_null() {
        assert_eq!(dynamic_value(None, &Type::String), Ok(Value::Null));
        let dv = pb::DynamicValue::default();
        assert_eq!(dynamic_value(Some(&dv), &Type::String), Ok(Value::Null));
        let dv = pb::DynamicValue {
            msgpack: vec![],
            json: br#""x""#.to_vec(),
        };
        assert_eq!(
            dynamic_value(Some(&dv), &Type::String),
            Ok(Value::string("x"))
        );
    }
}
