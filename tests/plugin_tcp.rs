//! The plugin server over TCP on 127.0.0.1, the way it runs on Windows
//! (handshake `1|5|tcp|127.0.0.1:PORT|grpc|<cert>`): the same AutoMTLS as on
//! the unix socket, so only the client whose certificate Terraform pinned
//! gets through. Runs on every platform, in process.

mod plugin_client;

use std::time::Duration;

use base64::Engine;
use plugin_client::{ClientIdentity, tls_channel_tcp};
use tokio_util::sync::CancellationToken;

use tf_framework::automtls::{self, PinnedClientCert, ServerIdentity};
use tf_framework::handshake::{self, Addr};
use tf_framework::serve::{self, endpoint};
use tf_framework::testing::tfplugin5 as pb;
use tf_framework::testing::tfplugin5::provider_client::ProviderClient;

const INFO: tf_framework::ProviderInfo = tf_framework::ProviderInfo {
    binary: "terraform-provider-cph",
    address: "registry.terraform.io/cloudphone/cph",
    version: "0.1.0",
    log_targets: &["terraform_provider_cph"],
};

fn identity() -> (ServerIdentity, ClientIdentity) {
    let id = ServerIdentity::generate().unwrap();
    let client = ClientIdentity {
        der: id.cert_der.clone(),
        key: id.key_der.clone(),
    };
    (id, client)
}

async fn schema_call(channel: tonic::transport::Channel) -> Result<usize, tonic::Status> {
    let schema = ProviderClient::new(channel)
        .get_schema(pb::get_provider_schema::Request {})
        .await?
        .into_inner();
    Ok(schema.resource_schemas.len())
}

#[tokio::test]
async fn tcp_with_automtls_serves_only_the_pinned_client() {
    let (_, terraform) = identity();
    let (_, intruder) = identity();
    let (server, _) = identity();
    let tls =
        automtls::server_config(&server, PinnedClientCert::new(terraform.der.clone())).unwrap();
    let ports = endpoint::port_range(|_| None).unwrap();
    let (listener, addr) = endpoint::bind_tcp(ports).await.unwrap();
    assert!(addr.ip().is_loopback() && (10000..=25000).contains(&addr.port()));

    let line = handshake::line(&Addr::Tcp(addr), Some(&server.cert_der));
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(fields[..5], ["1", "5", "tcp", &addr.to_string(), "grpc"]);
    let announced = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .unwrap();
    assert_eq!(announced, server.cert_der);

    let shutdown = CancellationToken::new();
    let done = tokio::spawn(serve::serve_on(
        INFO,
        terraform_provider_cph::resources::provider(),
        listener,
        Some(tls),
        shutdown.clone(),
        Some(shutdown.clone()),
    ));

    let channel = tls_channel_tcp(addr, Some(announced), Some(&terraform))
        .await
        .unwrap();
    assert!(schema_call(channel).await.unwrap() > 0);

    let refused = match tls_channel_tcp(addr, None, Some(&intruder)).await {
        Err(_) => true,
        Ok(channel) => schema_call(channel).await.is_err(),
    };
    assert!(refused, "a client with another certificate was served");

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
