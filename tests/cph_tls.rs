//! The CPH client's TLS (Cargo.toml: rustls, webpki-roots): a self-signed
//! endpoint is refused unless `insecure` is set, and answers with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use terraform_provider_cph::cph::{Client, ClientConfig, Credentials};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SERVER: &str = r#"{"server_id":"srv1","server_name":"s","server_model_name":"physical.rx1.xlarge","phone_model_name":"rx1.cp.c15.d46.e1v1","status":5}"#;

/// An HTTPS server on 127.0.0.1 with a fresh self-signed certificate that
/// answers every request with [`SERVER`].
async fn self_signed_server() -> SocketAddr {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key der"),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let _ = tls.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{SERVER}",
                    SERVER.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn client(addr: SocketAddr, insecure: bool) -> Client {
    let mut c = ClientConfig::new(
        format!("https://{addr}"),
        "cn-east-3",
        "proj1",
        Credentials::Token("token".into()),
    );
    c.max_retries = 0;
    c.request_timeout = Duration::from_secs(10);
    c.insecure = insecure;
    Client::new(c).expect("client")
}

#[tokio::test]
async fn a_self_signed_endpoint_is_refused_without_insecure() {
    let addr = self_signed_server().await;
    let err = client(addr, false)
        .show_server("srv1")
        .await
        .expect_err("a certificate no public root vouches for");
    let text = format!("{err:?} {err}").to_lowercase();
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn a_self_signed_endpoint_answers_with_insecure() {
    let addr = self_signed_server().await;
    let server = client(addr, true)
        .show_server("srv1")
        .await
        .expect("insecure skips the verification");
    assert_eq!(server.server_id, "srv1");
}
