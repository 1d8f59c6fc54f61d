//! A loopback HTTPS proxy that stands for BSS's two public hosts in
//! acceptance tests: the provider (reqwest honours `HTTPS_PROXY`) asks it to
//! `CONNECT bss.{cloud}:443` or `bss-intl.{cloud}:443`; it answers TLS with
//! a self-signed certificate (the provider block sets `insecure`) and relays
//! each request, one per tunnel, unchanged (path and `Host`, which the
//! signature covers) to the emulator, which tells the international host by
//! its `Host`. It records every request by host and refuses any other host.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request relayed: the host it was sent to, its method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub host: String,
    pub method: String,
    pub path: String,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
    refused: Vec<String>,
}

/// The running proxy; it stops with the test process.
pub struct BssProxy {
    /// `http://127.0.0.1:{port}`, for `HTTPS_PROXY`.
    pub url: String,
    log: Arc<Mutex<Log>>,
}

impl BssProxy {
    /// A proxy for `bss.{cloud}` and `bss-intl.{cloud}` in front of the
    /// plain-HTTP emulator at `emulator` (`http://127.0.0.1:port`).
    pub fn start(cloud: &str, emulator: &str) -> BssProxy {
        let target: SocketAddr = emulator
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the emulator's address");
        let hosts = vec![format!("bss.{cloud}"), format!("bss-intl.{cloud}")];
        let log = Arc::new(Mutex::new(Log::default()));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", std_listener.local_addr().expect("addr"));
        let shared = log.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(std_listener, hosts, target, shared));
        });
        BssProxy { url, log }
    }

    /// Every request relayed so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().seen.clone()
    }

    /// The `CONNECT` targets refused (hosts other than BSS's two).
    pub fn refused(&self) -> Vec<String> {
        self.log.lock().unwrap().refused.clone()
    }
}

async fn serve(
    listener: std::net::TcpListener,
    hosts: Vec<String>,
    target: SocketAddr,
    log: Arc<Mutex<Log>>,
) {
    let listener = TcpListener::from_std(listener).expect("listener");
    let acceptor = tls_acceptor(&hosts);
    while let Ok((tcp, _)) = listener.accept().await {
        let (acceptor, hosts, log) = (acceptor.clone(), hosts.clone(), log.clone());
        tokio::spawn(async move {
            let _ = tunnel(tcp, acceptor, &hosts, target, log).await;
        });
    }
}

/// TLS for both host names with a fresh self-signed certificate.
fn tls_acceptor(hosts: &[String]) -> tokio_rustls::TlsAcceptor {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let params = rcgen::CertificateParams::new(hosts.to_vec()).expect("params");
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
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// One `CONNECT`: refused unless to a BSS host on 443; else TLS, then its
/// request relayed to the emulator with `Connection: close`.
async fn tunnel(
    mut tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    hosts: &[String],
    target: SocketAddr,
    log: Arc<Mutex<Log>>,
) -> std::io::Result<()> {
    let (head, _) = read_head(&mut tcp).await?;
    let authority = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let host = authority
        .strip_suffix(":443")
        .unwrap_or_default()
        .to_string();
    if !head.starts_with("CONNECT ") || !hosts.contains(&host) {
        log.lock().unwrap().refused.push(authority);
        tcp.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    tcp.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    let mut tls = acceptor.accept(tcp).await?;
    let (head, rest) = read_head(&mut tls).await?;
    let mut words = head.split_whitespace();
    let seen = Seen {
        host,
        method: words.next().unwrap_or_default().to_string(),
        path: words.next().unwrap_or_default().to_string(),
    };
    log.lock().unwrap().seen.push(seen);
    let mut upstream = TcpStream::connect(target).await?;
    upstream.write_all(closing(&head).as_bytes()).await?;
    upstream.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut tls, &mut upstream).await?;
    Ok(())
}

/// The head (request line and headers, with the blank line) and the bytes
/// read past it.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `head` asking the emulator to close after its answer (one request per
/// tunnel), every other header as sent.
fn closing(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}
