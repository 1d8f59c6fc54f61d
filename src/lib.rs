//! terraform-provider-cph: a Terraform provider for Huawei Cloud's Cloud Phone
//! Host, speaking plugin protocol 5.
//!
//! Terraform's side (handshake, gRPC, cty values, schemas, typed models) is
//! the `tf_framework` crate, which knows no provider.
//!
//! - [`cph`]: the CPH API's side (HTTP client, auth, retries).
//! - [`fleet`]: the engine every resource of one provider process shares
//!   (one batcher and one job poller for every batch call, route changes and
//!   actions alike; phone claims, phone listings, flavor catalogue and plan
//!   check, flavor order lifecycle, order tracker).
//! - [`resources`]: the provider block, resources and data sources joining them.

pub mod cph;
pub mod fleet;
pub mod resources;

/// The registry docs of this provider, page by page (relative to `docs/`):
/// the templates under `root/templates` with the live schema of every type
/// the provider serves rendered in. `make docs` writes them; the docs test
/// checks that `docs/` holds exactly them.
pub fn docs(
    root: &std::path::Path,
) -> Result<std::collections::BTreeMap<String, String>, tf_framework::docs::DocsErrors> {
    tf_framework::docs::generate(&*resources::provider(), "cph", root)
}
