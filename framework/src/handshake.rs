//! The go-plugin handshake: how Terraform recognises a provider it started.
//!
//! Terraform starts the binary with a magic cookie in the environment and the
//! plugin protocol versions it speaks; the provider answers with exactly one
//! line on stdout, `1|5|unix|<socket>|grpc|<cert>`: go-plugin's core protocol
//! 1, plugin protocol 5, a unix socket (on Windows `tcp|127.0.0.1:<port>`),
//! gRPC, and the server certificate (base64 DER, no padding) when AutoMTLS is
//! on. Nothing else may ever be written to stdout. Without the cookie a person
//! ran the binary: say what it is and exit 1.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version (the first field of the line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const PROTOCOL_VERSION: u32 = 5;

/// Why the process will not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will\n\
         load any plugins automatically."
    )]
    NotStartedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider speaks \
         only protocol 5 (Terraform 0.12 and later). Use a Terraform release that supports \
         protocol 5."
    )]
    UnsupportedProtocol { offered: String },
}

/// Checks the environment Terraform sets (read through `get`).
pub fn check_env(get: impl Fn(&str) -> Option<String>) -> Result<(), HandshakeError> {
    if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotStartedByTerraform);
    }
    // go-plugin falls back to the plugin's default version when the list is
    // absent; when it is present it must contain ours.
    if let Some(offered) = get("PLUGIN_PROTOCOL_VERSIONS") {
        let ok = offered
            .split(',')
            .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION));
        if !ok {
            return Err(HandshakeError::UnsupportedProtocol { offered });
        }
    }
    Ok(())
}

/// Where the provider listens, as go-plugin names it to Terraform: the
/// handshake line's network and address fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    /// A unix socket (every Unix).
    Unix(PathBuf),
    /// A TCP address on loopback (Windows).
    Tcp(SocketAddr),
}

impl Addr {
    /// go-plugin's network name: `unix` or `tcp`.
    pub fn network(&self) -> &'static str {
        match self {
            Addr::Unix(_) => "unix",
            Addr::Tcp(_) => "tcp",
        }
    }
}

/// The address field: the socket's path, or `host:port`.
impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Unix(path) => write!(f, "{}", path.display()),
            Addr::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

/// The handshake line (without newline). `cert_der` is absent without AutoMTLS.
pub fn line(addr: &Addr, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{}|{addr}|grpc|{cert}",
        addr.network()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn cookie_and_versions() {
        assert_eq!(
            check_env(env(&[])),
            Err(HandshakeError::NotStartedByTerraform)
        );
        assert_eq!(
            check_env(env(&[(MAGIC_COOKIE_KEY, "nope")])),
            Err(HandshakeError::NotStartedByTerraform)
        );
        assert_eq!(
            check_env(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])),
            Ok(())
        );
        assert_eq!(
            check_env(env(&[
                (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
                ("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            ])),
            Ok(())
        );
        assert!(matches!(
            check_env(env(&[
                (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
                ("PLUGIN_PROTOCOL_VERSIONS", "6")
            ])),
            Err(HandshakeError::UnsupportedProtocol { .. })
        ));
    }

    #[test]
    fn line_has_six_fields() {
        let unix = Addr::Unix("/tmp/x/plugin.sock".into());
        let l = line(&unix, Some(&[0xff, 0x00, 0x10]));
        assert_eq!(l, "1|5|unix|/tmp/x/plugin.sock|grpc|/wAQ");
        let l = line(&Addr::Unix("/s".into()), None);
        assert_eq!(l.split('|').count(), 6);
    }

    #[test]
    fn line_for_tcp_names_host_and_port() {
        let tcp = Addr::Tcp("127.0.0.1:10003".parse().unwrap());
        assert_eq!(
            line(&tcp, Some(&[0xff, 0x00, 0x10])),
            "1|5|tcp|127.0.0.1:10003|grpc|/wAQ"
        );
        assert_eq!(line(&tcp, None), "1|5|tcp|127.0.0.1:10003|grpc|");
    }
}
