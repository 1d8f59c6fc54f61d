//! gRPC clients of a running provider on its unix socket (or TCP address, as
//! on Windows), for the tests that check who may talk to it: plaintext, or TLS
//! with or without a client certificate, checking the server's certificate
//! against the one the handshake line announced (`pinned`) or not at all (an
//! intruder).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::{TcpStream, UnixStream};
use tonic::transport::{Channel, Endpoint, Uri};

/// A client certificate (DER) and its PKCS#8 key (DER).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub der: Vec<u8>,
    pub key: Vec<u8>,
}

/// Accepts the server certificate `pinned` only, or any with `None`.
#[derive(Debug)]
struct ServerCheck {
    pinned: Option<Vec<u8>>,
}

impl ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.pinned {
            Some(pinned) if end_entity.as_ref() != pinned.as_slice() => Err(
                rustls::Error::General("unexpected server certificate".into()),
            ),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(m, c, d, &algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(m, c, d, &algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A plaintext gRPC channel on the socket.
pub async fn plaintext_channel(socket: PathBuf) -> Result<Channel, String> {
    Endpoint::try_from("http://localhost")
        .map_err(|e| e.to_string())?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .map_err(|e| e.to_string())
}

/// A gRPC channel over TLS on the socket, presenting `client` (if any) and
/// accepting the server certificate `pinned` (any, with `None`).
pub async fn tls_channel(
    socket: PathBuf,
    pinned: Option<Vec<u8>>,
    client: Option<&ClientIdentity>,
) -> Result<Channel, String> {
    let connector = tls_connector(pinned, client)?;
    Endpoint::try_from("http://localhost")
        .map_err(|e| e.to_string())?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            let connector = connector.clone();
            async move {
                let stream = UnixStream::connect(socket).await?;
                let tls = connector.connect(localhost(), stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| e.to_string())
}

/// [`tls_channel`] to a TCP address (the Windows handshake's `tcp` network).
pub async fn tls_channel_tcp(
    addr: SocketAddr,
    pinned: Option<Vec<u8>>,
    client: Option<&ClientIdentity>,
) -> Result<Channel, String> {
    let connector = tls_connector(pinned, client)?;
    Endpoint::try_from("http://localhost")
        .map_err(|e| e.to_string())?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            async move {
                let stream = TcpStream::connect(addr).await?;
                let tls = connector.connect(localhost(), stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| e.to_string())
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a valid name")
}

/// A TLS client presenting `client` (if any) and accepting the server
/// certificate `pinned` (any, with `None`), speaking h2.
fn tls_connector(
    pinned: Option<Vec<u8>>,
    client: Option<&ClientIdentity>,
) -> Result<tokio_rustls::TlsConnector, String> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(ServerCheck { pinned }));
    let mut cfg = match client {
        Some(c) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(c.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .map_err(|e| e.to_string())?,
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}
