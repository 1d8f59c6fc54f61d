//! The rules every managed resource follows whatever the wire says: the
//! server-side semantics of protocol 5, kept apart from its transport
//! ([`crate::grpc`] decodes, calls one function here per RPC, and encodes),
//! as terraform-plugin-framework keeps `fwserver` apart from `proto5server`.
//! One module per protocol concern:
//!
//! - [`resource`]: plan, read, apply and import. A destroy is planned here,
//!   without asking the resource (the planned state is null, the private
//!   data kept); the configuration is validated again at plan, where values
//!   unknown at validation may be known; an apply that cannot tell what it
//!   did answers with the prior state ([`resource::prior_stands`]).
//! - [`identity`]: the identity sent with every state (none for a type
//!   without one or a gone object; unknown only in the plan of a new object,
//!   and then not sent), kept for the object's whole life: a read, an
//!   update's plan or an apply that changes it is an error; a destroy ends
//!   with the identity the object had.
//! - [`config`]: the `config` block of a `list` or `action` block, an
//!   object of nulls when absent; an action invoked only when it is known.
//! - [`upgrade`]: stored states and identities of older versions go through
//!   the resource's upgrade, ones of newer versions are refused, and what an
//!   upgrade returns must be wholly known.

pub(crate) mod config;
pub(crate) mod identity;
pub(crate) mod resource;
pub(crate) mod upgrade;

#[cfg(test)]
mod tests;
