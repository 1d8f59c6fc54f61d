//! Data source `cph_phones`: the phones of a server, optionally filtered by
//! id, name, status and route, so that nobody pastes phone ids by hand.

use std::sync::Arc;

use async_trait::async_trait;

use super::common::{api_error_at, validate_name};
use super::phone_route::TRAFFIC_TYPES;
use super::{Shared, schemas};
use crate::cph::models::Phone;
use tf_framework::*;

pub struct PhonesData {
    shared: Arc<Shared>,
}

impl PhonesData {
    pub fn new(shared: Arc<Shared>) -> PhonesData {
        PhonesData { shared }
    }
}

fn phone_value(p: &Phone) -> Value {
    Value::object([
        ("phone_id", Value::string(&p.phone_id)),
        ("phone_name", Value::string(&p.phone_name)),
        ("server_id", Value::string(&p.server_id)),
        ("phone_model_name", Value::string(&p.phone_model_name)),
        ("status", Value::Number(Number::Int(p.status.into()))),
        ("traffic_type", Value::string(&p.traffic_type)),
    ])
}

#[async_trait]
impl DataSource for PhonesData {
    fn type_name(&self) -> &'static str {
        "cph_phones"
    }

    fn schema(&self) -> Schema {
        schemas::phones_data()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_name(config, "server_id", 64, &mut diags);
        if let Some(Value::String(t)) = config.get("traffic_type")
            && !TRAFFIC_TYPES.contains(&t.as_str())
        {
            diags.push(
                Diagnostic::error(
                    "Invalid traffic_type",
                    format!("`traffic_type` must be \"direct\" or \"routing\"; got {t:?}."),
                )
                .at(AttributePath::root("traffic_type")),
            );
        }
        diags
    }

    async fn read(&self, ctx: &CallContext, config: Value) -> DataReadResponse {
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(diagnostics) => {
                return DataReadResponse {
                    state: config,
                    diagnostics,
                };
            }
        };
        let server_id = config.get_str("server_id").unwrap_or_default().to_string();
        let phones = match self.shared.server_phones(&client, &server_id).await {
            Ok(p) => p,
            Err(e) => {
                let doing = format!("list the phones of server {server_id:?}");
                return DataReadResponse {
                    state: config,
                    diagnostics: api_error_at(&doing, &e, AttributePath::root("server_id")).into(),
                };
            }
        };
        let want_id = config.get_str("phone_id");
        let want_name = config.get_str("phone_name");
        let want_status = config.get("status").and_then(Value::as_i64);
        let want_route = config.get_str("traffic_type");
        let mut selected: Vec<&Phone> = phones
            .iter()
            .filter(|p| want_id.is_none_or(|id| p.phone_id == id))
            .filter(|p| want_name.is_none_or(|n| p.phone_name == n))
            .filter(|p| want_status.is_none_or(|s| i64::from(p.status) == s))
            .filter(|p| want_route.is_none_or(|r| p.traffic_type == r))
            .collect();
        selected.sort_by(|a, b| a.phone_id.cmp(&b.phone_id));
        let mut state = config;
        state.set_attr("id", Value::string(&server_id));
        state.set_attr(
            "phones",
            Value::List(selected.iter().map(|p| phone_value(p)).collect()),
        );
        state.set_attr(
            "phone_ids",
            Value::List(
                selected
                    .iter()
                    .map(|p| Value::string(&p.phone_id))
                    .collect(),
            ),
        );
        DataReadResponse {
            state,
            ..Default::default()
        }
    }
}
