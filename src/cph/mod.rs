//! CPH, not Terraform: a typed client of the Huawei Cloud Cloud Phone Host
//! API with request signing, token and password auth, retries, typed errors
//! and waiters for asynchronous jobs and flavor changes.
//!
//! - [`client`]: one method per endpoint; [`models`]: their bodies.
//! - [`transport`]: one call done right (auth, timeouts, retries, logging);
//!   [`retry`] decides what may be repeated, [`ratelimit`] spaces calls out.
//! - [`auth`] and [`signer`]: credentials, IAM tokens, `SDK-HMAC-SHA256`.
//! - [`bss`]: the billing service: order details and payment.
//! - [`waiters`]: polling until jobs or flavor changes are done.

pub mod auth;
pub mod bss;
pub mod client;
pub mod config;
pub mod error;
pub mod models;
pub mod ratelimit;
pub mod retry;
pub mod signer;
pub mod transport;
pub mod waiters;

pub use client::Client;
pub use config::{ClientConfig, Credentials};
pub use error::{Error, Result};
