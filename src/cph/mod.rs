//! CPH and BSS, not Terraform: a typed client of the Huawei Cloud Cloud
//! Phone Host API and of the billing service's orders, in three layers
//! with no cycle, each knowing only the one below:
//!
//! - [`client`]: one method per endpoint ([`Client`]); [`models`]: their
//!   bodies.
//! - [`auth`]: who sends a request (AK/SK signatures by [`signer`], a
//!   static token, or an IAM password token cache with its own sender).
//! - [`sender`]: one HTTP call done right (rate limit, timeouts, retries
//!   when safe, deadline and cancellation, logs without secrets, error
//!   answers into [`Error::Api`]); it knows nothing of credentials.
//!
//! Beside them: [`config`] (settings), [`error`] and [`secret`] (strings
//! never printed). Waiting for jobs and orders is the fleet engine's
//! (`fleet::poller`, `fleet::orders`).

pub(crate) mod auth;
pub(crate) mod client;
pub mod config;
pub mod error;
pub mod models;
pub(crate) mod secret;
pub(crate) mod sender;
pub mod signer;

pub use client::{Client, JOBS_PAGE_SIZE, MAX_REQUEST_IDS_PER_CALL};
pub use config::{AgencyDomain, AssumeRole, ClientConfig, Credentials, HostSettings};
pub use error::{Error, Result};
