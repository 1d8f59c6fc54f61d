//! Ephemeral resource `cph_phone_connection` (Terraform 1.10+): access
//! information and a connection ticket per phone, read with
//! `phones/batch-connection` (at most 10 phones a call, the calls sent
//! concurrently within the provider's rate limit). Terraform keeps the
//! result out of plan files and state; the provider never logs it (the
//! client's ticket type prints as `<redacted>`), and the whole result is
//! sensitive, so that it is not shown either. Phones the API refuses are an
//! error naming each with its code.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use super::Shared;
use super::common::{api_error_at, cph_id};
use crate::cph::models::{ClientType, ConnectError, ConnectInfo, MAX_PHONES_PER_CONNECTION_CALL};
use tf_framework::ephemeral::EphemeralResourceType;
use tf_framework::*;

/// Calls in flight at once; the client's rate limiter paces them.
const CONCURRENT_CALLS: usize = 8;

const CLIENT_TYPES: &[(&str, &str)] = &[
    ("ANDROID", "the Android SDK"),
    ("WINDOWS", "the Windows SDK"),
    ("H5_MOBILE", "the H5 SDK on mobile"),
    ("H5_PC", "the H5 SDK on a PC"),
    ("IOS", "the iOS SDK"),
];

tf_framework::model! {
    /// How to reach one phone.
    pub struct Connection {
        access_ip: String = computed("Public address of the phone's access point."),
        intranet_ip: String = computed("Private address of the phone's access point."),
        access_ipv6: String = computed("IPv6 address of the phone's server (empty when it has none)."),
        access_port: i64 = computed("Port of the phone's access point."),
        session_id: String = computed("Id of this access session."),
        timestamp: String = computed("Time the ticket was issued, as the API gives it."),
        ticket: String = computed("The connection ticket the client SDK presents."),
    }
}

tf_framework::model! {
    /// The configuration and result of `ephemeral.cph_phone_connection`.
    pub struct PhoneConnectionModel {
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to connect to (any number: the provider asks 10 at a time).")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
        client_type: String = required("The client SDK that connects.")
            .validate(one_of(CLIENT_TYPES)),
        connections: BTreeMap<String, Connection> = computed("Access information by phone id: `access_ip`, `intranet_ip`, `access_ipv6`, `access_port`, `session_id`, `timestamp` and `ticket`. Sensitive as a whole (protocol 5 marks attributes, not their parts).")
            .sensitive(),
    }
}

pub struct PhoneConnection {
    shared: Arc<Shared>,
}

impl PhoneConnection {
    pub fn new(shared: Arc<Shared>) -> PhoneConnection {
        PhoneConnection { shared }
    }
}

impl From<&ConnectInfo> for Connection {
    fn from(c: &ConnectInfo) -> Connection {
        let a = &c.access_info;
        Connection {
            access_ip: a.access_ip.as_str().into(),
            intranet_ip: a.intranet_ip.as_str().into(),
            access_ipv6: a.access_ipv6.as_str().into(),
            access_port: Tf::Known(a.access_port),
            session_id: a.session_id.as_str().into(),
            timestamp: a.timestamp.as_str().into(),
            ticket: a.ticket.expose().into(),
        }
    }
}

/// One error naming every phone the API refused, with its code.
fn refused(errors: &[ConnectError]) -> Diagnostic {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("- {}: {} {}", e.phone_id, e.error_code, e.error_msg))
        .collect();
    Diagnostic::error(
        format!("{} phone(s) could not be connected to", errors.len()),
        format!(
            "batch-connection refused these phones:\n{}",
            lines.join("\n")
        ),
    )
    .at(AttributePath::root("phone_ids"))
}

#[async_trait]
impl EphemeralResourceType for PhoneConnection {
    type Model = PhoneConnectionModel;
    const TYPE_NAME: &'static str = "cph_phone_connection";
    const DESCRIPTION: &'static str = "Access information and connection tickets of cloud phones, for the length of one Terraform run (Terraform 1.10+). Never written to plan files or state.";

    async fn open(
        &self,
        ctx: &CallContext,
        config: PhoneConnectionModel,
        diags: &mut Diagnostics,
    ) -> PhoneConnectionModel {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return config;
        };
        let client_type = config.client_type.as_str().and_then(ClientType::parse);
        let Some(client_type) = client_type else {
            return config; // refused by the declared validator before open
        };
        let ids: Vec<String> = config
            .phone_ids
            .known()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let chunks: Vec<Vec<String>> = ids
            .chunks(MAX_PHONES_PER_CONNECTION_CALL)
            .map(<[String]>::to_vec)
            .collect();
        let answers: Vec<_> = futures::stream::iter(chunks)
            .map(|chunk| {
                let client = client.clone();
                async move { client.phone_connections(&chunk, client_type).await }
            })
            .buffer_unordered(CONCURRENT_CALLS)
            .collect()
            .await;
        let mut connections = BTreeMap::new();
        let mut errors = Vec::new();
        for answer in answers {
            match answer {
                Ok(a) => {
                    connections.extend(
                        a.connect_infos
                            .iter()
                            .map(|c| (c.phone_id.clone(), Connection::from(c))),
                    );
                    errors.extend(a.errors);
                }
                Err(e) => {
                    let doing = "get connection tickets of the cloud phones";
                    diags.push(api_error_at(doing, &e, AttributePath::root("phone_ids")));
                    return config;
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.phone_id.cmp(&b.phone_id));
            diags.push(refused(&errors));
        }
        tracing::debug!(
            target: "cph",
            phones = connections.len(),
            refused = errors.len(),
            "phone connections opened (tickets not logged)"
        );
        PhoneConnectionModel {
            connections: Tf::Known(connections),
            ..config
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_every_phone_and_code() {
        let e = |p: &str, c: &str| ConnectError {
            phone_id: p.into(),
            error_code: c.into(),
            error_msg: "no".into(),
        };
        let d = refused(&[e("p1", "CPS.0005"), e("p2", "CPS.0010")]);
        assert!(
            d.detail.contains("p1: CPS.0005") && d.detail.contains("p2: CPS.0010"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn client_types_are_the_apis() {
        let ours: Vec<&str> = CLIENT_TYPES.iter().map(|(t, _)| *t).collect();
        let api: Vec<&str> = ClientType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(ours, api);
    }
}
