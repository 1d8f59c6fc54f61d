//! CPH, not Terraform: a typed client of the Huawei Cloud Cloud Phone Host
//! API with request signing, token and password auth, retries, typed errors
//! and waiters for asynchronous jobs and flavor changes.

pub mod client;
pub mod config;
pub mod error;
pub mod models;
pub mod waiters;

pub use client::Client;
pub use config::{ClientConfig, Credentials};
pub use error::{Error, Result};
