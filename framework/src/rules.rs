//! Rules over several attributes of one block, declared on its model like
//! an attribute's validators (`exactly_one_of`, `required_together`,
//! `conflicts_with`): checked with the validators, described in the docs,
//! and their attribute names, like those of `keep_state_unless`, checked
//! when the types are registered ([`declaration_errors`]), so that a typo is
//! an error at start-up rather than a rule that never applies.

use crate::declare::KeepState;
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::Block;
use crate::value::Value;

/// A rule over attributes of one block.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Exactly one of these must be set.
    ExactlyOneOf(Vec<&'static str>),
    /// Either all of these are set or none is.
    RequiredTogether(Vec<&'static str>),
    /// At most one of these may be set.
    ConflictsWith(Vec<&'static str>),
}

/// Exactly one of `names` must be set.
pub fn exactly_one_of(names: &[&'static str]) -> Rule {
    Rule::ExactlyOneOf(names.to_vec())
}

/// All of `names` are set, or none is.
pub fn required_together(names: &[&'static str]) -> Rule {
    Rule::RequiredTogether(names.to_vec())
}

/// At most one of `names` may be set.
pub fn conflicts_with(names: &[&'static str]) -> Rule {
    Rule::ConflictsWith(names.to_vec())
}

/// "`a`, `b` and `c`".
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

impl Rule {
    /// The attributes the rule names.
    pub fn names(&self) -> &[&'static str] {
        match self {
            Rule::ExactlyOneOf(n) | Rule::RequiredTogether(n) | Rule::ConflictsWith(n) => n,
        }
    }

    /// Markdown for docs, e.g. "Exactly one of `a` and `b` must be set."
    pub fn description(&self) -> String {
        match self {
            Rule::ExactlyOneOf(n) => format!("Exactly one of {} must be set.", listed(n)),
            Rule::RequiredTogether(n) => format!("{} must be set together.", listed(n)),
            Rule::ConflictsWith(n) => format!("At most one of {} may be set.", listed(n)),
        }
    }

    /// Checks the rule on a block's configuration at `base`; nothing while
    /// any attribute it names is unknown.
    pub fn check(&self, config: &Value, base: &AttributePath, diags: &mut Diagnostics) {
        let names = self.names();
        let value = |n: &str| config.get(n).cloned().unwrap_or(Value::Null);
        if names.iter().any(|n| value(n).is_unknown()) {
            return;
        }
        let set: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !value(n).is_null())
            .collect();
        let at = |n: &str| base.clone().attr(n);
        match self {
            Rule::ExactlyOneOf(_) if set.is_empty() => diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("Exactly one of {} must be set.", listed(names)),
                )
                .at(base.clone()),
            ),
            Rule::ExactlyOneOf(_) | Rule::ConflictsWith(_) if set.len() > 1 => diags.push(
                Diagnostic::error(
                    "Conflicting configuration arguments",
                    format!(
                        "{} cannot be set together: set {} of {}.",
                        listed(&set),
                        if matches!(self, Rule::ExactlyOneOf(_)) {
                            "exactly one"
                        } else {
                            "at most one"
                        },
                        listed(names)
                    ),
                )
                .at(at(set[1])),
            ),
            Rule::RequiredTogether(_) if !set.is_empty() && set.len() < names.len() => {
                for missing in names.iter().filter(|n| !set.contains(n)) {
                    diags.push(
                        Diagnostic::error(
                            "Missing required argument",
                            format!("`{missing}` must be set together with {}.", listed(&set)),
                        )
                        .at(at(missing)),
                    );
                }
            }
            _ => {}
        }
    }
}

/// What is wrong with the attribute names given to the declarations of
/// `block` (rules and `keep_state_unless`), at any depth; `what` names the
/// type in messages ("resource cph_x").
pub fn declaration_errors(what: &str, block: &Block) -> Diagnostics {
    let mut diags = Diagnostics::new();
    check_names(what, block, "", &mut diags);
    diags
}

fn check_names(what: &str, block: &Block, prefix: &str, diags: &mut Diagnostics) {
    let known = |n: &str| {
        block.attributes.iter().any(|a| a.name == n)
            || block.blocks.iter().any(|b| b.type_name == n)
    };
    let mut report = |declared_by: String, name: &str| {
        diags.push(Diagnostic::error(
            "Declaration names an unknown attribute",
            format!(
                "The {what} declares {declared_by} over {name:?}, which its schema{} does not have. This is a bug in the provider; please report it.",
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!(" (block {prefix})")
                }
            ),
        ));
    };
    for rule in &block.rules {
        for n in rule.names().iter().filter(|n| !known(n)) {
            report(format!("the rule \"{}\"", rule.description()), n);
        }
    }
    for a in &block.attributes {
        if let KeepState::UnlessChanged(inputs) = &a.behaviour.keep_state {
            for n in inputs.iter().filter(|n| !known(n)) {
                report(format!("`{}` keep_state_unless", a.name), n);
            }
        }
    }
    for b in &block.blocks {
        let inner = if prefix.is_empty() {
            b.type_name.clone()
        } else {
            format!("{prefix}.{}", b.type_name)
        };
        check_names(what, &b.block, &inner, diags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;
    use crate::value::Type;

    fn block(rules: Vec<Rule>) -> Block {
        Block {
            attributes: ["a", "b", "c"]
                .map(|n| Attribute::optional(n, Type::String, "X."))
                .to_vec(),
            rules,
            ..Block::default()
        }
    }

    fn check(rule: Rule, set: &[&str]) -> Vec<(String, String)> {
        let config = Value::object(["a", "b", "c"].map(|n| {
            (
                n,
                if set.contains(&n) {
                    Value::string("x")
                } else {
                    Value::Null
                },
            )
        }));
        let mut diags = Diagnostics::new();
        rule.check(&config, &AttributePath::default(), &mut diags);
        diags
            .0
            .iter()
            .map(|d| (d.detail.clone(), format!("{:?}", d.attribute)))
            .collect()
    }

    #[test]
    fn exactly_one_of_wants_one() {
        let r = exactly_one_of(&["a", "b"]);
        assert!(check(r.clone(), &["a"]).is_empty());
        assert_eq!(
            check(r.clone(), &[])[0].0,
            "Exactly one of `a` and `b` must be set."
        );
        let both = check(r, &["a", "b"]);
        assert_eq!(
            both[0].0,
            "`a` and `b` cannot be set together: set exactly one of `a` and `b`."
        );
        assert!(both[0].1.contains("\"b\""), "{both:?}");
    }

    #[test]
    fn required_together_names_what_is_missing() {
        let r = required_together(&["a", "b", "c"]);
        assert!(check(r.clone(), &[]).is_empty());
        assert!(check(r.clone(), &["a", "b", "c"]).is_empty());
        let found = check(r, &["b"]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "`a` must be set together with `b`.");
    }

    #[test]
    fn conflicts_with_allows_none_or_one() {
        let r = conflicts_with(&["a", "c"]);
        assert!(check(r.clone(), &[]).is_empty());
        assert!(check(r.clone(), &["c"]).is_empty());
        assert_eq!(check(r, &["a", "c"]).len(), 1);
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let config = Value::object([("a", Value::Unknown), ("b", Value::Null)]);
        let mut diags = Diagnostics::new();
        exactly_one_of(&["a", "b"]).check(&config, &AttributePath::default(), &mut diags);
        assert!(diags.is_empty());
    }

    #[test]
    fn a_misspelt_name_is_a_declaration_error() {
        assert!(
            declaration_errors("resource t", &block(vec![exactly_one_of(&["a", "b"])])).is_empty()
        );
        let d = declaration_errors("resource t", &block(vec![required_together(&["a", "bb"])]));
        assert_eq!(d.0.len(), 1);
        assert!(d.0[0].detail.contains("\"bb\""), "{}", d.0[0].detail);
        let mut kept = block(vec![]);
        kept.attributes[0].behaviour.keep_state = KeepState::UnlessChanged(vec!["cc"]);
        let d = declaration_errors("resource t", &kept);
        assert!(
            d.0[0].detail.contains("keep_state_unless over \"cc\""),
            "{}",
            d.0[0].detail
        );
    }

    crate::model! {
        struct Login {
            token: String = optional("Token."),
            user: String = optional("User."),
            password: String = optional("Password."),
        }
        rules {
            conflicts_with(&["token", "user"]),
            required_together(&["user", "password"]),
        }
    }

    #[test]
    fn a_model_declares_its_rules_and_validation_runs_them() {
        use crate::model::Model;
        let block = Login::block();
        assert_eq!(block.rules.len(), 2);
        assert!(declaration_errors("resource login", &block).is_empty());
        let config = Value::object([
            ("token", Value::string("t")),
            ("user", Value::string("u")),
            ("password", Value::Null),
        ]);
        let diags = crate::declare::validate_block(&block, &config, &AttributePath::default());
        let details: Vec<&str> = diags.0.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "`token` and `user` cannot be set together: set at most one of `token` and `user`.",
                "`password` must be set together with `user`.",
            ]
        );
    }
}
