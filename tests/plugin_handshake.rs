//! The built binary as Terraform starts it: the magic cookie, the one
//! handshake line on stdout, AutoMTLS with a Terraform-like ECDSA P-521 CA
//! client certificate over the unix socket, signals, and Shutdown.

mod plugin_client;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use plugin_client::{ClientIdentity, tls_channel};
use tonic::transport::Channel;

use tf_framework::testing::plugin::Empty;
use tf_framework::testing::plugin::grpc_controller_client::GrpcControllerClient;
use tf_framework::testing::tfplugin5 as pb;
use tf_framework::testing::tfplugin5::provider_client::ProviderClient;

const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_terraform-provider-cph"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    c
}

/// Terraform's kind of client certificate: self-signed, a CA, ECDSA P-521.
struct TerraformCert {
    pem: String,
    id: ClientIdentity,
}

fn terraform_like_client_cert() -> TerraformCert {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    TerraformCert {
        pem: cert.pem(),
        id: ClientIdentity {
            der: cert.der().to_vec(),
            key: key.serialize_der(),
        },
    }
}

struct Started {
    child: Child,
    socket: PathBuf,
    server_cert: Vec<u8>,
    stdout: BufReader<std::process::ChildStdout>,
}

/// Starts the binary with the cookie and `client_pem`; reads the handshake line.
fn start(client_pem: &str) -> Started {
    let mut child = binary()
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line: {line:?}");
    assert_eq!(&fields[..3], ["1", "5", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert!(!fields[5].contains('='), "no base64 padding");
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("the certificate is base64");
    assert_eq!(server_cert.first(), Some(&0x30), "a DER certificate");
    Started {
        child,
        socket: PathBuf::from(fields[3]),
        server_cert,
        stdout,
    }
}

/// A gRPC channel over TLS on the socket, checking the server certificate
/// against the handshake's; `client` is the certificate to present.
async fn connect(s: &Started, client: Option<&TerraformCert>) -> Result<Channel, String> {
    tls_channel(
        s.socket.clone(),
        Some(s.server_cert.clone()),
        client.map(|c| &c.id),
    )
    .await
}

async fn schema_call(ch: Channel) -> Result<pb::get_provider_schema::Response, tonic::Status> {
    ProviderClient::new(ch)
        .get_schema(pb::get_provider_schema::Request {})
        .await
        .map(|r| r.into_inner())
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("the provider did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

#[test]
fn without_the_cookie_it_tells_a_person_and_exits_nonzero() {
    let out = binary().output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("This binary is a plugin"), "{err}");
}

#[test]
fn without_protocol_5_it_explains_and_exits_nonzero() {
    let out = binary()
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 5"));
}

#[tokio::test(flavor = "multi_thread")]
async fn automtls_handshake_serves_only_terraforms_certificate() {
    let client = terraform_like_client_cert();
    let mut s = start(&client.pem);
    let dir = s.socket.parent().unwrap().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "socket directory is private");

    let ch = connect(&s, Some(&client)).await.expect("mTLS connects");
    let schema = schema_call(ch.clone())
        .await
        .expect("GetProviderSchema over mTLS");
    assert!(schema.resource_schemas.contains_key("cph_server_flavor"));

    // A client without a certificate, or with another one, gets nothing.
    let refused = match connect(&s, None).await {
        Ok(ch) => schema_call(ch).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client without the certificate must be refused");
    let other = terraform_like_client_cert();
    let refused = match connect(&s, Some(&other)).await {
        Ok(ch) => schema_call(ch).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client with another certificate must be refused");

    // Ctrl-C in the terminal reaches the provider too: it keeps serving.
    signal(&s.child, "-INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.child.try_wait().unwrap().is_none(), "SIGINT is ignored");
    schema_call(ch.clone())
        .await
        .expect("still serving after SIGINT");

    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .expect("Shutdown answers");
    let status = wait_exit(&mut s.child, Duration::from_secs(10));
    assert!(status.success(), "clean exit after Shutdown: {status}");
    assert!(!dir.exists(), "the socket directory is removed");
    let mut rest = String::new();
    s.stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "nothing but the handshake on stdout");
}

#[test]
fn sigterm_exits_cleanly_and_removes_the_socket() {
    let client = terraform_like_client_cert();
    let mut s = start(&client.pem);
    let dir = s.socket.parent().unwrap().to_path_buf();
    signal(&s.child, "-TERM");
    let status = wait_exit(&mut s.child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(!dir.exists());
}

#[test]
fn plaintext_without_a_client_certificate() {
    let mut child = binary()
        .env(COOKIE.0, COOKIE.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "{line:?}");
    assert_eq!(fields[5], "", "no certificate without AutoMTLS");
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[test]
fn debug_mode_prints_a_reattach_value() {
    let mut child = binary()
        .arg("--debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(v.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    let j: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    let p = &j["registry.terraform.io/cloudphone/cph"];
    assert_eq!(p["ProtocolVersion"], 5);
    assert_eq!(p["Pid"], child.id());
    assert!(std::path::Path::new(p["Addr"]["String"].as_str().unwrap()).exists());
    signal(&child, "-INT");
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}
