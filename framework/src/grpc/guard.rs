//! What every RPC shares: the panic guard that turns a panic into an error
//! diagnostic ([`catch_panic`], the one place a panic is caught: unary RPCs
//! through [`guarded`], the tasks of the streaming ones directly), and the
//! diagnostics for values that do not decode (Terraform's fault) or do not
//! encode (the provider's).

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::codec::CodecError;
use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin5 as pb;
use crate::toproto;

/// A value Terraform sent that does not decode: Terraform's bug or a
/// corrupted message, reported with the path at fault.
pub(super) fn bad_input(what: &str, e: CodecError) -> Diagnostics {
    let mut d = Diagnostic::error(
        format!("Invalid {what} from Terraform"),
        format!("The provider could not decode the {what}: {e}"),
    );
    if !e.path.0.is_empty() {
        d = d.at(e.path);
    }
    d.into()
}

/// A value the provider produced that does not fit its schema: our bug.
pub(super) fn bad_output(what: &str, e: CodecError) -> Diagnostics {
    Diagnostic::error(
        "Provider produced an invalid value",
        format!(
            "The {what} does not fit the schema: {e}. This is a bug in the provider; please report it."
        ),
    )
    .into()
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `body`, the provider's part of the RPC `rpc`; a panic inside it
/// becomes an error diagnostic naming the RPC (a panic never crosses gRPC).
pub(super) async fn catch_panic<T>(
    rpc: &'static str,
    body: impl Future<Output = T>,
) -> Result<T, Diagnostics> {
    AssertUnwindSafe(body).catch_unwind().await.map_err(|p| {
        let msg = panic_message(p.as_ref());
        tracing::error!(rpc, panic = %msg, "provider panicked");
        Diagnostic::error(
            "Provider internal error",
            format!(
                "The provider panicked in {rpc}: {msg}. This is a bug in the provider; please report it."
            ),
        )
        .into()
    })
}

/// Runs one RPC body; what it fails with, or a panic inside it, becomes the
/// response built by `on_error`.
pub(super) async fn guarded<T, F>(
    rpc: &'static str,
    body: F,
    on_error: impl FnOnce(Diagnostics) -> T,
) -> T
where
    F: Future<Output = Result<T, Diagnostics>>,
{
    tracing::debug!(rpc, "call");
    match catch_panic(rpc, body).await.and_then(|r| r) {
        Ok(t) => t,
        Err(diags) => {
            for d in &diags.0 {
                tracing::debug!(rpc, summary = %d.summary, "call failed");
            }
            on_error(diags)
        }
    }
}

/// [`guarded`] for an RPC whose failure is a response with diagnostics
/// alone.
pub(super) async fn answer<T: Failed>(
    rpc: &'static str,
    body: impl Future<Output = Result<T, Diagnostics>>,
) -> Result<tonic::Response<T>, tonic::Status> {
    Ok(tonic::Response::new(guarded(rpc, body, T::failed).await))
}

/// A response that can carry diagnostics alone: what an RPC answers when it
/// fails before it has anything else to say.
pub(super) trait Failed {
    fn failed(diagnostics: Diagnostics) -> Self;
}

macro_rules! failed_with_diagnostics_alone {
    ($($rpc:ident),* $(,)?) => {$(
        impl Failed for pb::$rpc::Response {
            #[allow(clippy::needless_update)]
            fn failed(diagnostics: Diagnostics) -> Self {
                pb::$rpc::Response {
                    diagnostics: toproto::diagnostics(&diagnostics),
                    ..Default::default()
                }
            }
        }
    )*};
}

failed_with_diagnostics_alone!(
    get_metadata,
    get_provider_schema,
    get_resource_identity_schemas,
    read_resource,
    plan_resource_change,
    import_resource_state,
    move_resource_state,
    read_data_source,
    open_ephemeral_resource,
    renew_ephemeral_resource,
    close_ephemeral_resource,
    get_functions,
    upgrade_resource_state,
    upgrade_resource_identity,
);

/// Diagnostics as the one line of text some RPCs answer with instead
/// (`StopProvider`, `CallFunction`).
pub(super) fn error_text(d: &Diagnostics) -> String {
    let lines: Vec<&str> = d.0.iter().map(|d| d.detail.as_str()).collect();
    lines.join(" ")
}

/// The error of a call naming a `kind` (e.g. "resource type") of which
/// `provider` declares no `name`.
pub(super) fn unknown_type(provider: &str, kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind}"),
        format!("The {provider} provider has no {kind} {name:?}."),
    )
    .into()
}

pub(super) fn not_supported(provider: &str, what: &str) -> Diagnostics {
    Diagnostic::error(
        format!("{what} not supported"),
        format!("The {provider} provider does not support {what}."),
    )
    .into()
}
