//! Running the plugin: the listener, TLS, the gRPC server and exit.
//!
//! [`serve`] is what Terraform starts: it checks the handshake environment,
//! listens where [`endpoint`] says (a unix socket in a fresh private (0700)
//! directory; on Windows a TCP port on 127.0.0.1), prints the handshake line,
//! and serves the Provider, health, controller and stdio services until
//! Terraform calls `Shutdown`, SIGTERM arrives, or Terraform itself goes away.
//! Ctrl-C is ignored: Terraform calls `StopProvider` and decides when the
//! provider ends. The socket directory is removed on every clean exit.
//!
//! [`serve_debug`] serves the same services without the cookie or TLS and
//! prints a `TF_REATTACH_PROVIDERS` value for a person to export.

pub mod endpoint;

use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use self::endpoint::Accept;
use super::automtls::{self, PinnedClientCert, ServerIdentity};
use super::go_plugin::{Controller, Stdio};
use super::grpc::ProviderService;
use super::handshake::{self, Addr, HandshakeError};
use super::logging;
use super::proto::plugin::grpc_controller_server::GrpcControllerServer;
use super::proto::plugin::grpc_stdio_server::GrpcStdioServer;
use super::proto::tfplugin5::provider_server::ProviderServer;
use super::resource::Provider;

/// The largest gRPC message either way (as Terraform's own limit).
const MAX_MESSAGE: usize = 256 << 20;
/// How long a client may take to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight calls get to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Who is being served: the names the framework prints, logs under and
/// answers with. The framework knows no provider but the one passed in.
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    /// The binary's name, e.g. `terraform-provider-example`.
    pub binary: &'static str,
    /// The full registry address, e.g. `registry.terraform.io/acme/example`.
    pub address: &'static str,
    /// The provider's version, e.g. `0.1.0`.
    pub version: &'static str,
    /// The provider's tracing targets (crate names, custom targets), logged
    /// at the level `TF_LOG` asks for; see [`logging::init`].
    pub log_targets: &'static [&'static str],
}

impl ProviderInfo {
    /// The type name prefix and short name, e.g. `example`.
    pub fn name(&self) -> &'static str {
        self.address.rsplit('/').next().unwrap_or(self.address)
    }

    /// The source users write in `required_providers`, e.g. `acme/example`.
    pub fn source(&self) -> &'static str {
        self.address
            .strip_prefix("registry.terraform.io/")
            .unwrap_or(self.address)
    }
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Handshake(#[from] HandshakeError),
    #[error("{0}")]
    Tls(#[from] automtls::TlsSetupError),
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("gRPC server: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// One accepted connection (a unix or TCP stream `S`), with or without TLS.
pub enum Conn<S> {
    Plain(S),
    Tls(Box<tokio_rustls::server::TlsStream<S>>),
}

impl<S> tonic::transport::server::Connected for Conn<S> {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Conn<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Conn<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// Accepts connections on `listener` (finishing TLS handshakes off the accept
/// loop, so one slow client cannot block another) until `stop`.
fn incoming<L: Accept>(
    listener: L,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<Result<Conn<L::Stream>, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                a = listener.accept_stream() => a,
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match &tls {
                None => {
                    if tx.send(Ok(Conn::Plain(stream))).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => {
                                let _ = tx.send(Ok(Conn::Tls(Box::new(s)))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "TLS handshake refused")
                            }
                            Err(_) => tracing::warn!("TLS handshake timed out"),
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Serves every plugin service on `listener` until `shutdown` is cancelled,
/// then gives in-flight calls [`SHUTDOWN_GRACE`] to finish. With `tls`, only
/// clients that pass its verifier get through. `controller_shutdown` is the
/// token `GRPCController/Shutdown` cancels (`None`: ignore it).
#[doc(hidden)]
pub async fn serve_on<L: Accept>(
    info: ProviderInfo,
    provider: Arc<dyn Provider>,
    listener: L,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
    controller_shutdown: Option<CancellationToken>,
) -> Result<(), ServeError> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = ProviderServer::new(ProviderService::new(info.name(), provider))
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let conns = incoming(listener, tls.map(TlsAcceptor::from), shutdown.clone());

    let stopping = shutdown.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(provider_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: controller_shutdown,
        }))
        .add_service(GrpcStdioServer::new(Stdio))
        .serve_with_incoming_shutdown(conns, async move { stopping.cancelled().await });
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => return r.map_err(ServeError::from),
        _ = shutdown.cancelled() => {}
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(r) => r.map_err(ServeError::from),
        Err(_) => {
            tracing::warn!("in-flight calls did not finish in time; exiting anyway");
            Ok(())
        }
    }
}

fn print_stdout(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// Serves `provider` to the Terraform that started this process. Returns the
/// process's exit code; prints a message for people when not started by
/// Terraform.
pub async fn serve(info: ProviderInfo, provider: Arc<dyn Provider>) -> ExitCode {
    logging::init(info.log_targets);
    match serve_inner(info, provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::Handshake(e @ HandshakeError::NotStartedByTerraform)) => {
            eprintln!(
                "{e}\n({} is a Terraform provider: declare `{}`\nin required_providers and run terraform. For debugging, run it with --debug.)",
                info.binary,
                info.source()
            );
            ExitCode::FAILURE
        }
        Err(ServeError::Handshake(e)) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "provider failed");
            eprintln!("{}: {e}", info.binary);
            ExitCode::FAILURE
        }
    }
}

async fn serve_inner(info: ProviderInfo, provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    handshake::check_env(|k| std::env::var(k).ok())?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        Some(pem) => {
            let identity = ServerIdentity::generate()?;
            let cfg = automtls::server_config(&identity, PinnedClientCert::from_pem(&pem)?)?;
            Some((cfg, identity.cert_der))
        }
        None => None,
    };
    // Dropped on return: removes the socket and its directory.
    let (listener, addr, _cleanup) = endpoint::bind().await?;
    let shutdown = CancellationToken::new();
    endpoint::watch_signals(shutdown.clone(), true)?;

    print_stdout(&handshake::line(
        &addr,
        tls.as_ref().map(|(_, der)| der.as_slice()),
    ))?;
    tracing::info!(
        socket = %addr,
        tls = tls.is_some(),
        pid = std::process::id(),
        "serving"
    );

    let result = serve_on(
        info,
        provider,
        listener,
        tls.map(|(cfg, _)| cfg),
        shutdown.clone(),
        Some(shutdown),
    )
    .await;
    tracing::debug!("exiting");
    result
}

/// Serves `provider` for a debugger session: no cookie, no TLS, and a
/// `TF_REATTACH_PROVIDERS` value printed for the person to export. Runs until
/// Ctrl-C or SIGTERM.
pub async fn serve_debug(info: ProviderInfo, provider: Arc<dyn Provider>) -> ExitCode {
    logging::init(info.log_targets);
    match serve_debug_inner(info, provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", info.binary);
            ExitCode::FAILURE
        }
    }
}

/// The `TF_REATTACH_PROVIDERS` JSON for a provider listening at `addr`.
pub fn reattach_json(provider_address: &str, pid: u32, addr: &Addr) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": addr.network(), "String": addr.to_string()},
        }
    })
    .to_string()
}

async fn serve_debug_inner(
    info: ProviderInfo,
    provider: Arc<dyn Provider>,
) -> Result<(), ServeError> {
    let (listener, addr, _cleanup) = endpoint::bind().await?;
    let shutdown = CancellationToken::new();
    endpoint::watch_signals(shutdown.clone(), false)?;
    let reattach = reattach_json(info.address, std::process::id(), &addr);
    print_stdout(&format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\nStop with Ctrl-C."
    ))?;
    serve_on(info, provider, listener, None, shutdown, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_value() {
        let j: serde_json::Value = serde_json::from_str(&reattach_json(
            "registry.terraform.io/acme/example",
            42,
            &Addr::Unix("/tmp/p/plugin.sock".into()),
        ))
        .unwrap();
        let p = &j["registry.terraform.io/acme/example"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 5);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/p/plugin.sock");
    }

    #[test]
    fn reattach_value_for_tcp() {
        let addr = Addr::Tcp("127.0.0.1:10001".parse().unwrap());
        let j: serde_json::Value = serde_json::from_str(&reattach_json(
            "registry.terraform.io/acme/example",
            7,
            &addr,
        ))
        .unwrap();
        let a = &j["registry.terraform.io/acme/example"]["Addr"];
        assert_eq!(a["Network"], "tcp");
        assert_eq!(a["String"], "127.0.0.1:10001");
    }
}
