//! Where the plugin listens and which signals end it, per platform, as
//! go-plugin does it: on Unix a socket in a fresh private (0700) directory;
//! on Windows the first free TCP port on 127.0.0.1 in the range Terraform
//! passes as `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT`.
//!
//! Ctrl-C (SIGINT on Unix, the console's Ctrl-C event on Windows) is ignored
//! while Terraform runs the provider: Terraform calls `StopProvider` and
//! decides when the provider ends. On Unix SIGTERM and the loss of the parent
//! process end it too; Windows has neither, and Terraform ends the provider
//! through `Shutdown` or by killing it.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

#[cfg(unix)]
pub use unix::{Cleanup, Listener, bind, watch_signals};
#[cfg(windows)]
pub use windows::{Cleanup, Listener, bind, watch_signals};

/// A listener the server accepts connections from.
pub trait Accept: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept_stream(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl Accept for TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_stream(&self) -> io::Result<Self::Stream> {
        let (stream, _) = self.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

#[cfg(unix)]
impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_stream(&self) -> io::Result<Self::Stream> {
        Ok(self.accept().await?.0)
    }
}

/// go-plugin's port range when Terraform gives none.
const DEFAULT_PORTS: RangeInclusive<u16> = 10000..=25000;

/// The TCP ports to try, from `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` (read
/// through `get`), each defaulting to go-plugin's bound.
pub fn port_range(get: impl Fn(&str) -> Option<String>) -> io::Result<RangeInclusive<u16>> {
    let bound = |key: &str, default: u16| -> io::Result<u16> {
        match get(key).filter(|v| !v.trim().is_empty()) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{key}={v:?} is not a port number"),
                )
            }),
        }
    };
    let min = bound("PLUGIN_MIN_PORT", *DEFAULT_PORTS.start())?;
    let max = bound("PLUGIN_MAX_PORT", *DEFAULT_PORTS.end())?;
    if min > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("PLUGIN_MIN_PORT {min} is above PLUGIN_MAX_PORT {max}"),
        ));
    }
    Ok(min..=max)
}

/// Listens on the first free port of `ports` on 127.0.0.1.
pub async fn bind_tcp(ports: RangeInclusive<u16>) -> io::Result<(TcpListener, SocketAddr)> {
    let (first, last) = (*ports.start(), *ports.end());
    for port in ports {
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            let addr = listener.local_addr()?;
            return Ok((listener, addr));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free TCP port on 127.0.0.1 in {first}..={last}"),
    ))
}

#[cfg(unix)]
mod unix {
    use std::io;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use tokio::net::UnixListener;
    use tokio_util::sync::CancellationToken;

    use crate::handshake::Addr;

    pub type Listener = UnixListener;
    /// Removes the socket and its directory when dropped.
    pub type Cleanup = tempfile::TempDir;

    /// A fresh private directory for the socket: under `PLUGIN_UNIX_SOCKET_DIR`
    /// when go-plugin sets it, else the system temp dir; mode 0700.
    pub(super) fn socket_dir() -> io::Result<tempfile::TempDir> {
        let mut b = tempfile::Builder::new();
        b.prefix("plugin");
        let dir = match std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").filter(|d| !d.is_empty()) {
            Some(base) => b.tempdir_in(base)?,
            None => b.tempdir()?,
        };
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        Ok(dir)
    }

    /// Listens on `plugin.sock` in a fresh [`socket_dir`].
    pub async fn bind() -> io::Result<(Listener, Addr, Cleanup)> {
        let dir = socket_dir()?;
        let path = dir.path().join("plugin.sock");
        let listener = UnixListener::bind(&path)?;
        Ok((listener, Addr::Unix(path), dir))
    }

    /// SIGINT is noted and ignored; SIGTERM and the loss of the parent process
    /// (Terraform killed) cancel `shutdown`.
    pub fn watch_signals(shutdown: CancellationToken, ignore_sigint: bool) -> io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let t = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {
                        if ignore_sigint {
                            tracing::debug!("SIGINT ignored; Terraform decides through StopProvider");
                        } else {
                            tracing::info!("interrupted");
                            t.cancel();
                            return;
                        }
                    }
                    _ = term.recv() => {
                        tracing::info!("SIGTERM: shutting down");
                        t.cancel();
                        return;
                    }
                }
            }
        });
        if ignore_sigint {
            watch_parent(shutdown);
        }
        Ok(())
    }

    /// Cancels `shutdown` once the parent process is gone (re-parented).
    fn watch_parent(shutdown: CancellationToken) {
        let parent = std::os::unix::process::parent_id();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                if std::os::unix::process::parent_id() != parent {
                    tracing::warn!("Terraform went away; shutting down");
                    shutdown.cancel();
                    return;
                }
            }
        });
    }
}

#[cfg(windows)]
mod windows {
    use std::io;

    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    use crate::handshake::Addr;

    pub type Listener = TcpListener;
    /// Nothing to remove on Windows.
    pub struct Cleanup;

    /// Listens on the first free port of Terraform's range on 127.0.0.1.
    pub async fn bind() -> io::Result<(Listener, Addr, Cleanup)> {
        let ports = super::port_range(|k| std::env::var(k).ok())?;
        let (listener, addr) = super::bind_tcp(ports).await?;
        Ok((listener, Addr::Tcp(addr), Cleanup))
    }

    /// Ctrl-C is noted and ignored (the handler stays registered, so the
    /// console does not end the process); in debug mode it cancels `shutdown`.
    pub fn watch_signals(shutdown: CancellationToken, ignore_ctrl_c: bool) -> io::Result<()> {
        let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
        tokio::spawn(async move {
            while ctrl_c.recv().await.is_some() {
                if ignore_ctrl_c {
                    tracing::debug!("Ctrl-C ignored; Terraform decides through StopProvider");
                } else {
                    tracing::info!("interrupted");
                    shutdown.cancel();
                    return;
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn port_range_defaults_to_go_plugins() {
        assert_eq!(port_range(env(&[])).unwrap(), 10000..=25000);
        assert_eq!(
            port_range(env(&[
                ("PLUGIN_MIN_PORT", "12000"),
                ("PLUGIN_MAX_PORT", "12010")
            ]))
            .unwrap(),
            12000..=12010
        );
        assert_eq!(
            port_range(env(&[("PLUGIN_MAX_PORT", "10005")])).unwrap(),
            10000..=10005
        );
    }

    #[test]
    fn port_range_refuses_nonsense() {
        let e = port_range(env(&[("PLUGIN_MIN_PORT", "abc")])).unwrap_err();
        assert!(e.to_string().contains("PLUGIN_MIN_PORT"), "{e}");
        assert!(port_range(env(&[("PLUGIN_MAX_PORT", "70000")])).is_err());
        let e = port_range(env(&[("PLUGIN_MIN_PORT", "3"), ("PLUGIN_MAX_PORT", "2")])).unwrap_err();
        assert!(e.to_string().contains("above"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn socket_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = unix::socket_dir().unwrap();
        let mode = std::fs::metadata(d.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[tokio::test]
    async fn bind_tcp_skips_a_taken_port() {
        let (taken, addr) = bind_tcp(20000..=30000).await.unwrap();
        let port = addr.port();
        let (next, next_addr) = bind_tcp(port..=port.saturating_add(50)).await.unwrap();
        assert!(next_addr.ip().is_loopback());
        assert!(next_addr.port() > port, "{next_addr} should skip {addr}");
        drop((taken, next));
    }

    #[tokio::test]
    async fn bind_tcp_fails_when_every_port_is_taken() {
        let (_taken, addr) = bind_tcp(30000..=40000).await.unwrap();
        let port = addr.port();
        let e = bind_tcp(port..=port).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
    }
}
