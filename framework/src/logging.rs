//! hclog-style JSON logs on stderr, the format go-plugin (and so Terraform)
//! parses from a provider: one JSON object per line with `@level`,
//! `@message`, `@timestamp` (RFC 3339, microseconds) and `@module`, plus the
//! event's fields. Terraform shows them under `TF_LOG` / `TF_LOG_PROVIDER`.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (`TRACE`, `DEBUG`,
//! `INFO`, `WARN`, `ERROR`, `OFF`; `JSON` means `TRACE`); `INFO` when neither
//! is set. Dependencies (gRPC, TLS, HTTP) log at `WARN` at most, so that a
//! `TRACE` log shows the provider and not every frame on the wire.
//!
//! Secrets: the plugin layer never logs values, only type names, RPC names
//! and diagnostics' summaries; resources log identifiers, never credentials.

use std::io::Write;

use serde_json::{Map, Value as Json};

use super::schema::{Block, Nesting};
use super::value::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// This crate's own target: its events are the provider's too.
const FRAMEWORK_TARGET: &str = env!("CARGO_CRATE_NAME");

/// The provider's own tracing targets (its crate names and any custom
/// targets), set once by [`init`]; everything else is a dependency.
static OWN_TARGETS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

fn own_targets() -> &'static [&'static str] {
    OWN_TARGETS.get().map(Vec::as_slice).unwrap_or(&[])
}

/// The level named by `TF_LOG_PROVIDER` / `TF_LOG` (through `get`).
pub fn level_from_env(get: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let raw = get("TF_LOG_PROVIDER")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| get("TF_LOG").filter(|s| !s.trim().is_empty()));
    match raw.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
        None => LevelFilter::INFO,
        Some("TRACE" | "JSON") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("INFO") => LevelFilter::INFO,
        Some("WARN") => LevelFilter::WARN,
        Some("ERROR") => LevelFilter::ERROR,
        Some("OFF") => LevelFilter::OFF,
        Some(_) => LevelFilter::TRACE, // Terraform treats unknown levels as TRACE
    }
}

/// Installs the stderr JSON logger for the process (once; later calls are
/// no-ops). `own_targets` are the provider's tracing targets: its crate
/// names and any custom targets, logged at the level asked for.
pub fn init(own_targets: &[&'static str]) {
    let _ = OWN_TARGETS.set(own_targets.to_vec());
    let level = level_from_env(|k| std::env::var(k).ok());
    let _ = tracing_subscriber::registry()
        .with(HclogLayer.with_filter(filter(level, own_targets)))
        .try_init();
}

/// The provider's own events (this crate's and `own`) at `level`,
/// dependencies at `WARN` at most.
fn filter(level: LevelFilter, own: &[&'static str]) -> Targets {
    let deps = std::cmp::min(level, LevelFilter::WARN);
    own.iter()
        .fold(Targets::new(), |t, target| t.with_target(*target, level))
        .with_target(FRAMEWORK_TARGET, level)
        .with_default(deps)
}

/// The `@module` of an event: `provider.<area>` for events of the
/// provider's own targets (the module under a crate, or a custom target),
/// `provider` for this crate's and the dependencies' events.
fn module_of(target: &str, own: &[&str]) -> String {
    let mut parts = target.split("::");
    match (parts.next(), parts.next()) {
        (Some(root), Some(area)) if own.contains(&root) => format!("provider.{area}"),
        (Some(root), None) if own.contains(&root) => format!("provider.{root}"),
        _ => "provider".to_string(),
    }
}

fn level_name(l: &Level) -> &'static str {
    match *l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// One log line for `event` at time `now`.
pub(crate) fn format_line(
    level: &Level,
    target: &str,
    now: time::OffsetDateTime,
    fields: Map<String, Json>,
    message: String,
) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), level_name(level).into());
    obj.insert("@message".into(), message.into());
    obj.insert("@module".into(), module_of(target, own_targets()).into());
    obj.insert("@timestamp".into(), timestamp(now).into());
    for (k, v) in fields {
        if !k.starts_with('@') {
            obj.insert(k, v);
        }
    }
    Json::Object(obj).to_string()
}

/// hclog's `2006-01-02T15:04:05.000000Z07:00`, in UTC.
fn timestamp(now: time::OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A copy of `value` (an object of `block`'s type) fit for logs: every
/// sensitive attribute that is set reads `"(sensitive)"`, in nested blocks
/// too. Log `format!("{:?}", redact(..))`, never the value itself.
pub fn redact(value: &Value, block: &Block) -> Value {
    let Value::Object(m) = value else {
        return value.clone();
    };
    let mut out = m.clone();
    for a in block.attributes.iter().filter(|a| a.sensitive) {
        if let Some(v) = out.get_mut(&a.name)
            && !v.is_null()
        {
            *v = Value::string("(sensitive)");
        }
    }
    for nb in &block.blocks {
        if let Some(v) = out.get_mut(&nb.type_name) {
            *v = match (nb.nesting, &*v) {
                (Nesting::Single | Nesting::Group, inner) => redact(inner, &nb.block),
                (_, Value::List(e)) => {
                    Value::List(e.iter().map(|x| redact(x, &nb.block)).collect())
                }
                (_, Value::Set(e)) => Value::Set(e.iter().map(|x| redact(x, &nb.block)).collect()),
                (_, Value::Map(e)) => Value::Map(
                    e.iter()
                        .map(|(k, x)| (k.clone(), redact(x, &nb.block)))
                        .collect(),
                ),
                (_, other) => other.clone(),
            };
        }
    }
    Value::Object(out)
}

struct HclogLayer;

#[derive(Default)]
struct Fields {
    message: String,
    map: Map<String, Json>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.map.insert(field.name().into(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.map.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.map.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.map.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.map.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.map
                .insert(field.name().into(), format!("{value:?}").into());
        }
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let meta = event.metadata();
        let line = format_line(
            meta.level(),
            meta.target(),
            time::OffsetDateTime::now_utc(),
            f.map,
            f.message,
        );
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from_env(env(&[])), LevelFilter::INFO);
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug")])),
            LevelFilter::DEBUG
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug"), ("TF_LOG_PROVIDER", "ERROR")])),
            LevelFilter::ERROR
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "JSON")])),
            LevelFilter::TRACE
        );
        assert_eq!(level_from_env(env(&[("TF_LOG", "off")])), LevelFilter::OFF);
    }

    /// A provider's own targets, as a provider would pass them.
    const OWN: &[&str] = &["terraform_provider_example", "api"];

    #[test]
    fn an_api_clients_calls_are_logged_at_the_level_asked_for() {
        let f = filter(LevelFilter::DEBUG, OWN);
        assert!(f.would_enable("api", &Level::DEBUG));
        assert!(f.would_enable("terraform_provider_example::resources", &Level::DEBUG));
        assert!(!f.would_enable("api", &Level::TRACE));
        assert!(!f.would_enable("h2::proto", &Level::DEBUG));
        assert!(f.would_enable("h2::proto", &Level::WARN));
        assert!(!filter(LevelFilter::INFO, OWN).would_enable("api", &Level::DEBUG));
        assert_eq!(module_of("api", OWN), "provider.api");
    }

    #[test]
    fn redact_hides_sensitive_attributes() {
        let schema = crate::Schema {
            version: 0,
            block: crate::Block {
                attributes: vec![
                    crate::Attribute::optional("region", crate::Type::String, ""),
                    crate::Attribute::optional("secret_key", crate::Type::String, "").sensitive(),
                    crate::Attribute::optional("password", crate::Type::String, "").sensitive(),
                ],
                ..Default::default()
            },
        };
        let v = Value::object([
            ("region", Value::string("cn-east-3")),
            ("secret_key", Value::string("SK-123")),
            ("password", Value::Null),
        ]);
        let r = redact(&v, &schema.block);
        let shown = format!("{r:?}");
        assert!(!shown.contains("SK-123"), "{shown}");
        assert_eq!(r.get_str("secret_key"), Some("(sensitive)"));
        assert_eq!(r.get_str("region"), Some("cn-east-3"));
        assert_eq!(r.get("password"), Some(&Value::Null));
    }

    #[test]
    fn line_is_hclog_json() {
        let _ = OWN_TARGETS.set(OWN.to_vec());
        let now = time::macros::datetime!(2024-05-06 07:08:09.123456 UTC);
        let mut fields = Map::new();
        fields.insert("rpc".into(), "PlanResourceChange".into());
        let line = format_line(
            &Level::WARN,
            "terraform_provider_example::api::client",
            now,
            fields,
            "retrying".into(),
        );
        let j: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(j["@level"], "warn");
        assert_eq!(j["@message"], "retrying");
        assert_eq!(j["@module"], "provider.api");
        assert_eq!(j["@timestamp"], "2024-05-06T07:08:09.123456Z");
        assert_eq!(j["rpc"], "PlanResourceChange");
        assert_eq!(module_of("tf_framework::grpc", OWN), "provider");
        assert_eq!(module_of("h2::proto", OWN), "provider");
        assert_eq!(
            module_of("terraform_provider_example::api::client", OWN),
            "provider.api"
        );
    }
}
