//! Bodies of the calls that configure and reach phones (SDK models
//! `UpdateCloudPhonePropertyRequestBody`/`PropertyToUpdate`,
//! `RunShellCommandRequestBody`, `ConnectionRequestBody`,
//! `BatchShowPhoneConnectInfosResponse`/`ConnectInfo`/`ConnectInfoAccessInfo`/
//! `ConnectErrorInfo`) and a phone's properties as show phone gives them.
//! A connection ticket is a [`Ticket`]: it never prints, and its answer has
//! no `Serialize`, so it cannot be written anywhere by accident.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::Phone;
use crate::cph::secret::Secret;

/// Phone properties by key (values are strings in the API's JSON).
pub type PhoneProperties = BTreeMap<String, String>;

/// Most phones one batch-connection call takes.
pub const MAX_PHONES_PER_CONNECTION_CALL: usize = 10;
/// Most phones (or servers) one commands call takes.
pub const MAX_IDS_PER_COMMAND_CALL: usize = 100;

/// One phone of `phones/batch-update-property`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PropertyUpdate {
    pub phone_id: String,
    /// A JSON object as a string, as the API takes it.
    pub property: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_property: Option<BTreeMap<String, String>>,
}

impl PropertyUpdate {
    /// The update setting `properties` on `phone_id`.
    pub fn new(phone_id: &str, properties: &PhoneProperties) -> PropertyUpdate {
        PropertyUpdate {
            phone_id: phone_id.to_string(),
            property: properties_text(properties),
            custom_property: None,
        }
    }
}

/// `properties` as the JSON text the API takes (keys in order).
pub fn properties_text(properties: &PhoneProperties) -> String {
    serde_json::to_string(properties).unwrap_or_else(|_| "{}".into())
}

/// The body of `phones/batch-update-property`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdatePropertyRequest {
    pub phones: Vec<PropertyUpdate>,
}

impl Phone {
    /// The properties show phone gave (empty when it gave none). Values
    /// that are not strings are taken as their JSON text. An error says why
    /// `property` is not a JSON object.
    pub fn properties(&self) -> Result<PhoneProperties, String> {
        let text = match self.property.as_deref().map(str::trim) {
            None | Some("") => return Ok(PhoneProperties::new()),
            Some(t) => t,
        };
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("the phone's property is not JSON: {e}"))?;
        let serde_json::Value::Object(map) = value else {
            return Err("the phone's property is not a JSON object".into());
        };
        Ok(map
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect())
    }
}

/// An ADB command of `phones/commands`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdbCommand {
    Install,
    InstallMultiple,
    Push,
    Uninstall,
    Shell,
}

impl AdbCommand {
    pub const ALL: [AdbCommand; 5] = [
        AdbCommand::Install,
        AdbCommand::InstallMultiple,
        AdbCommand::Push,
        AdbCommand::Uninstall,
        AdbCommand::Shell,
    ];

    /// The name the API takes.
    pub fn as_str(self) -> &'static str {
        match self {
            AdbCommand::Install => "install",
            AdbCommand::InstallMultiple => "install-multiple",
            AdbCommand::Push => "push",
            AdbCommand::Uninstall => "uninstall",
            AdbCommand::Shell => "shell",
        }
    }

    /// The command named `s`, if any.
    pub fn parse(s: &str) -> Option<AdbCommand> {
        AdbCommand::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The body of `phones/commands`: `phone_ids`, or when empty `server_ids`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub command: AdbCommand,
    pub content: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub phone_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub server_ids: Vec<String>,
}

/// The client a connection is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientType {
    Android,
    Windows,
    #[serde(rename = "H5_MOBILE")]
    H5Mobile,
    #[serde(rename = "H5_PC")]
    H5Pc,
    Ios,
}

impl ClientType {
    pub const ALL: [ClientType; 5] = [
        ClientType::Android,
        ClientType::Windows,
        ClientType::H5Mobile,
        ClientType::H5Pc,
        ClientType::Ios,
    ];

    /// The name the API takes.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Android => "ANDROID",
            ClientType::Windows => "WINDOWS",
            ClientType::H5Mobile => "H5_MOBILE",
            ClientType::H5Pc => "H5_PC",
            ClientType::Ios => "IOS",
        }
    }

    /// The client type named `s`, if any.
    pub fn parse(s: &str) -> Option<ClientType> {
        ClientType::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The body of `phones/batch-connection`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionRequest {
    pub phone_ids: Vec<String>,
    pub client_type: ClientType,
}

/// A connection ticket: printed as `<redacted>`, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket(Secret);

impl Ticket {
    pub fn new(s: String) -> Ticket {
        Ticket(Secret::new(s))
    }
    /// The ticket itself, for handing it to the client that connects.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl Default for Ticket {
    fn default() -> Ticket {
        Ticket::new(String::new())
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for Ticket {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ticket, D::Error> {
        Ok(Ticket::new(
            Option::<String>::deserialize(d)?.unwrap_or_default(),
        ))
    }
}

/// How to reach one phone (`access_info`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessInfo {
    #[serde(deserialize_with = "super::lenient::string")]
    pub access_ip: String,
    #[serde(deserialize_with = "super::lenient::string")]
    pub intranet_ip: String,
    #[serde(deserialize_with = "super::lenient::string")]
    pub access_ipv6: String,
    #[serde(deserialize_with = "super::lenient::int")]
    pub access_port: i64,
    #[serde(deserialize_with = "super::lenient::string")]
    pub session_id: String,
    #[serde(deserialize_with = "super::lenient::string")]
    pub timestamp: String,
    pub ticket: Ticket,
}

/// One phone of a batch-connection answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnectInfo {
    pub phone_id: String,
    pub access_info: AccessInfo,
}

/// A phone batch-connection could not give access to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnectError {
    pub phone_id: String,
    pub error_code: String,
    pub error_msg: String,
}

/// The answer of `phones/batch-connection` (partial success is normal).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnectionAnswer {
    pub request_id: String,
    pub connect_infos: Vec<ConnectInfo>,
    pub errors: Vec<ConnectError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_body_has_the_sdk_field_names() {
        let mut props = PhoneProperties::new();
        props.insert("persist.sys.locale".into(), "en-US".into());
        let body = UpdatePropertyRequest {
            phones: vec![PropertyUpdate::new("p1", &props)],
        };
        assert_eq!(
            serde_json::to_value(&body).expect("encodes"),
            json!({"phones": [{"phone_id": "p1", "property": "{\"persist.sys.locale\":\"en-US\"}"}]})
        );
    }

    #[test]
    fn command_and_connection_bodies() {
        let body = CommandRequest {
            command: AdbCommand::InstallMultiple,
            content: "obs://b/a.apk".into(),
            phone_ids: vec![],
            server_ids: vec!["s".into()],
        };
        assert_eq!(
            serde_json::to_value(&body).expect("encodes"),
            json!({"command": "install-multiple", "content": "obs://b/a.apk", "server_ids": ["s"]})
        );
        for t in ClientType::ALL {
            let v = serde_json::to_value(ConnectionRequest {
                phone_ids: vec!["p".into()],
                client_type: t,
            })
            .expect("encodes");
            assert_eq!(v["client_type"], t.as_str());
            assert_eq!(ClientType::parse(t.as_str()), Some(t));
        }
        for c in AdbCommand::ALL {
            assert_eq!(serde_json::to_value(c).expect("encodes"), c.as_str());
            assert_eq!(AdbCommand::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn connection_answer_reads_the_sdk_fields_and_hides_the_ticket() {
        let a: ConnectionAnswer = serde_json::from_value(json!({
            "request_id": "r",
            "connect_infos": [{"phone_id": "p1", "access_info": {
                "access_ip": "1.2.3.4", "intranet_ip": "10.0.0.1", "access_ipv6": "::1",
                "access_port": "20001", "session_id": "s", "timestamp": 1700000000,
                "ticket": "TICKET-VALUE"}}],
            "errors": [{"phone_id": "p2", "error_code": "CPS.0005", "error_msg": "gone"}]
        }))
        .expect("decodes");
        let info = &a.connect_infos[0].access_info;
        assert_eq!(info.access_port, 20001);
        assert_eq!(info.timestamp, "1700000000");
        assert_eq!(info.ticket.expose(), "TICKET-VALUE");
        let printed = format!("{a:?} {}", info.ticket);
        assert!(!printed.contains("TICKET-VALUE"), "{printed}");
        assert!(printed.contains("<redacted>"));
        assert_eq!(a.errors[0].error_code, "CPS.0005");
    }

    #[test]
    fn phone_properties_from_show_phone() {
        let phone = |p: Option<&str>| Phone {
            property: p.map(str::to_string),
            ..Default::default()
        };
        assert!(phone(None).properties().expect("none").is_empty());
        assert!(phone(Some("{}")).properties().expect("empty").is_empty());
        let props = phone(Some(r#"{"a":"1","b":2}"#))
            .properties()
            .expect("object");
        assert_eq!(props.get("a").map(String::as_str), Some("1"));
        assert_eq!(props.get("b").map(String::as_str), Some("2"));
        assert!(phone(Some("[1]")).properties().is_err());
        assert!(phone(Some("{")).properties().is_err());
    }
}
