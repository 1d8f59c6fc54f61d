//! cph-emulator: a local, faithful emulator of Huawei Cloud's Cloud Phone Host
//! (CPH) API, for the provider's tests, demos and benchmarks.
//!
//! Map of the crate, outside in:
//! - [`server`]: the HTTP/1.1 serve loop (can drop a connection unanswered).
//! - [`gateway`]: request ids, logs, call counts, faults, authentication.
//! - [`auth`]: `SDK-HMAC-SHA256` signatures and tokens; [`iam`]: local IAM.
//! - [`api`]: the CPH endpoints; [`admin`]: the `/_emulator/` admin API.
//! - [`state`]: the locked world; [`fleet`], [`catalogue`], [`orders`],
//!   [`jobs`], [`faults`]: what it holds and the rules that change it;
//!   [`device`] (properties and packages per phone), [`properties`] and
//!   [`adb`]: what property and command jobs check and do.
//! - [`errors`]: error codes and bodies; [`ids`]: ids and time formats;
//!   [`endpoints`]: endpoint names; [`config`]: settings and defaults.

pub mod adb;
pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod device;
pub mod endpoints;
pub mod errors;
pub mod faults;
pub mod fleet;
pub mod gateway;
pub mod iam;
pub mod ids;
pub mod jobs;
pub mod orders;
pub mod properties;
pub mod quota;
pub mod server;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use config::Config;

/// Why the emulator cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("refusing to listen on {0}: only loopback addresses (127.0.0.0/8, ::1) are allowed")]
    NotLoopback(SocketAddr),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot load the seed fleet: {0}")]
    Seed(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Serve on `listener` until SIGINT or SIGTERM.
pub async fn serve(config: Config, listener: TcpListener) -> Result<(), Error> {
    serve_until(config, listener, shutdown_signal()).await
}

/// Serve on `listener` until `shutdown` completes. The listener must be bound
/// to a loopback address; `config.listen` is not used (the listener is).
pub async fn serve_until(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let addr = listener.local_addr()?;
    config::check_loopback(addr)?;
    config.listen = addr;
    let app = app::App::new(config)?;
    server::run(listener, api::router(app), shutdown).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
