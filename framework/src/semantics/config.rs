//! The `config` block of a `list` or `action` block, whatever the wire
//! says: Terraform sends an object of nulls for a block the user left out,
//! and a client that sends nothing gets the same; an action runs only with
//! a wholly known configuration.

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::Block;
use crate::value::Value;

/// `config` as decoded, or an object of nulls when none was sent.
pub(crate) fn block_or_nulls(config: Value, block: &Block) -> Value {
    if config.is_null() {
        block.null_object()
    } else {
        config
    }
}

/// Refuses to invoke an action with values that are not known yet.
pub(crate) fn known_for_invoke(config: &Value) -> Result<(), Diagnostics> {
    if config.is_wholly_known() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Action configuration not known",
        "Terraform invoked the action with values that are not known yet; this is a bug in Terraform or the provider.",
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;
    use crate::value::Type;

    #[test]
    fn an_absent_block_is_an_object_of_nulls() {
        let block = Block {
            attributes: vec![Attribute::optional("a", Type::String, "")],
            ..Default::default()
        };
        assert_eq!(
            block_or_nulls(Value::Null, &block),
            Value::object([("a", Value::Null)])
        );
        let sent = Value::object([("a", Value::string("x"))]);
        assert_eq!(block_or_nulls(sent.clone(), &block), sent);
    }

    #[test]
    fn an_action_runs_only_with_known_values() {
        assert!(known_for_invoke(&Value::object([("a", Value::string("x"))])).is_ok());
        let unknown = known_for_invoke(&Value::object([("a", Value::Unknown)])).unwrap_err();
        assert_eq!(unknown.0[0].summary, "Action configuration not known");
    }
}
