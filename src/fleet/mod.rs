//! The fleet engine: one per provider process, shared by every resource
//! (held in [`crate::resources::Shared`]).

pub mod catalogue;
pub mod orders;
