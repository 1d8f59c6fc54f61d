//! The generated protocol code (`proto/*.proto` compiled by `build.rs`).
//! Only the conversion modules and the gRPC services touch these types; the
//! client halves exist for the protocol tests.
#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    dead_code,
    unreachable_pub
)]

/// Terraform's plugin protocol 5.
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin's controller and stdio services.
pub mod plugin {
    tonic::include_proto!("plugin");
}
