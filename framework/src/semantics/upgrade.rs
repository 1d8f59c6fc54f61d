//! Stored states and identities of other versions: an older one goes
//! through the resource's upgrade, the current one is read as it is, a
//! newer one (written by a newer provider) is refused, and what comes out
//! must be wholly known.

use crate::diag::{Diagnostic, Diagnostics};
use crate::resource::Resource;
use crate::value::Value;

/// What is stored: a resource's state or its identity.
#[derive(Clone, Copy)]
enum Stored {
    State,
    Identity,
}

/// Refuses what a newer provider stored (`version` above `known`): this
/// one cannot know what it means.
fn refuse_newer(
    what: Stored,
    type_name: &str,
    version: i64,
    known: i64,
) -> Result<(), Diagnostics> {
    if version <= known {
        return Ok(());
    }
    let (summary, detail) = match what {
        Stored::State => (
            "State from a newer provider",
            format!(
                "This {type_name} was stored by a newer version of the provider (schema version {version}, this provider knows up to {known}). Upgrade the provider."
            ),
        ),
        Stored::Identity => (
            "Identity from a newer provider",
            format!(
                "The identity of this {type_name} was stored by a newer version of the provider (identity version {version}, this provider knows up to {known}). Upgrade the provider."
            ),
        ),
    };
    Err(Diagnostic::error(summary, detail).into())
}

/// An upgraded value with unknowns: the provider's bug.
fn require_known(what: Stored, v: &Value) -> Result<(), Diagnostics> {
    if v.is_wholly_known() {
        return Ok(());
    }
    let (summary, detail) = match what {
        Stored::State => (
            "Provider produced an invalid state",
            "The upgraded state has unknown values. This is a bug in the provider; please report it.",
        ),
        Stored::Identity => (
            "Provider produced an invalid identity",
            "The upgraded identity has unknown values. This is a bug in the provider; please report it.",
        ),
    };
    Err(Diagnostic::error(summary, detail).into())
}

/// The state `r` (at schema version `current`) stored at `version`, as
/// today's schema reads it: through [`Resource::upgrade_state`] when older
/// and stored as JSON, else as stored (`as_stored` decodes it).
pub(crate) fn upgrade_state(
    r: &dyn Resource,
    current: i64,
    version: i64,
    json: Option<&[u8]>,
    as_stored: impl FnOnce() -> Result<Value, Diagnostics>,
) -> Result<(Value, Diagnostics), Diagnostics> {
    refuse_newer(Stored::State, r.type_name(), version, current)?;
    let (state, diagnostics) = match json {
        Some(raw) if version < current && !raw.is_empty() => {
            let out = r.upgrade_state(version, raw);
            (out.state, out.diagnostics)
        }
        _ => (as_stored()?, Diagnostics::new()),
    };
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    require_known(Stored::State, &state)?;
    Ok((state, diagnostics))
}

/// The identity `r` (at identity version `current`) stored at `version`,
/// through [`Resource::upgrade_identity`]; `None` (with its diagnostics)
/// when that failed.
pub(crate) fn upgrade_identity(
    r: &dyn Resource,
    current: i64,
    version: i64,
    json: &[u8],
) -> Result<(Option<Value>, Diagnostics), Diagnostics> {
    refuse_newer(Stored::Identity, r.type_name(), version, current)?;
    let out = r.upgrade_identity(version, json);
    if out.diagnostics.has_errors() {
        return Ok((None, out.diagnostics));
    }
    require_known(Stored::Identity, &out.identity)?;
    Ok((Some(out.identity), out.diagnostics))
}
