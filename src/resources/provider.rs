//! The `cph` provider: its block, its configuration, and the shared client
//! every resource and data source uses once Terraform has configured it.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use std::collections::{BTreeMap, BTreeSet};

use super::{provider_config, routing, schemas};
use crate::cph::models::Phone;
use crate::cph::{self, Client};
use crate::fleet::Fleet;
use tf_framework::{
    CallContext, DataSource, Diagnostic, Diagnostics, Provider, Resource, Schema, Value,
};

tf_framework::model! {
    /// An agency to assume with the access keys (`HW_ASSUME_ROLE_*`
    /// variables when the block is absent).
    pub struct AssumeRoleModel {
        agency_name: String = optional("Name of the agency to assume (HW_ASSUME_ROLE_AGENCY_NAME). Required in the block.")
            .validate(not_blank()),
        domain_name: String = optional("Name of the account the agency belongs to (HW_ASSUME_ROLE_DOMAIN_NAME). Set it or `domain_id`.")
            .validate(not_blank()),
        domain_id: String = optional("Id of the account the agency belongs to (HW_ASSUME_ROLE_DOMAIN_ID). Set it or `domain_name`.")
            .validate(not_blank()),
        duration: i64 = optional("Lifetime of the temporary keys in seconds, 900 to 43200 (HW_ASSUME_ROLE_DURATION). Default IAM's, 900. They are renewed before they expire.")
            .validate(int_between(900, 43200)),
    }
}

tf_framework::model! {
    /// The provider block. Every attribute falls back to its `HW_*` variable,
    /// declared beside it; [`provider_config`] resolves the block into a
    /// client configuration.
    pub struct ProviderModel {
        region: String = optional("Region of the cloud phones, e.g. `cn-east-3` (lower-case letters, digits and `-`). CPH's, IAM's and the project's defaults derive from it.")
            .env("HW_REGION_NAME").validate(not_blank()).validate(provider_config::region_name()),
        project_id: String = optional("Project id the cloud phones belong to. Default: the project named after `region`, looked up at IAM once per provider process (`GET {auth_url}/projects?name={region}`).")
            .env("HW_PROJECT_ID").validate(not_blank()),
        domain_id: String = optional("Account (domain) id that calls to global services (BSS) are signed for with AK/SK (`X-Domain-Id`). Default: looked up at IAM once per provider process, at the first BSS call (`GET {auth_url}/auth/domains`).")
            .env("HW_DOMAIN_ID").validate(not_blank()),
        cloud: String = optional("Domain of the cloud's endpoints. Default `myhuaweicloud.com`; `myhuaweicloud.eu` for the `eu-west-1*` regions.")
            .env("HW_CLOUD").validate(not_blank()),
        endpoint: String = optional("CPH endpoint URL. Default `https://cph.{region}.{cloud}`.")
            .env("HW_CPH_ENDPOINT").validate(not_blank()).validate(http_url()),
        bss_endpoint: String = optional("BSS (billing) endpoint URL, where flavor-change orders are followed and paid. Default `https://bss.{cloud}` (`https://bss-intl.{cloud}` for international accounts).")
            .env("HW_BSS_ENDPOINT").validate(not_blank()).validate(http_url()),
        access_key: String = optional("Access key (AK) for request signing.")
            .env("HW_ACCESS_KEY").validate(not_blank()),
        secret_key: String = optional("Secret key (SK) for request signing.")
            .env("HW_SECRET_KEY").validate(not_blank()).sensitive(),
        security_token: String = optional("Security token of temporary AK/SK credentials.")
            .env("HW_SECURITY_TOKEN").validate(not_blank()).sensitive(),
        auth_token: String = optional("A ready IAM token (`X-Auth-Token`).")
            .env("HW_AUTH_TOKEN").validate(not_blank()).sensitive(),
        auth_url: String = optional("IAM endpoint, for every IAM call (project and account look-ups, password tokens). Default `https://iam.{region}.{cloud}/v3`.")
            .env("HW_AUTH_URL").validate(not_blank()).validate(http_url()),
        domain_name: String = optional("Account (domain) name for password authentication.")
            .env("HW_DOMAIN_NAME").validate(not_blank()),
        user_name: String = optional("IAM user name for password authentication.")
            .env("HW_USER_NAME").validate(not_blank()),
        password: String = optional("IAM user password.")
            .env("HW_USER_PASSWORD").validate(not_blank()).sensitive(),
        shared_config_file: String = optional("The hcloud CLI's configuration file to read a profile from (plain JSON: `hcloud configure set --cli-auth-encrypt=false`). Default `~/.hcloud/config.json` when `profile` is set.")
            .env("HW_SHARED_CONFIG_FILE").validate(not_blank()),
        profile: String = optional("The profile of `shared_config_file` to use (modes `AKSK`, `SSO`, `AssumeRole`). Default: the file's current profile. Its settings come after the block's and the variables'.")
            .env("HW_PROFILE").validate(not_blank()),
        assume_role: AssumeRoleModel = block(),
        insecure: bool = optional("Skip TLS certificate verification (test endpoints only).")
            .env("HW_INSECURE"),
        max_retries: i64 = optional("Retries of a failed API call (5xx, network errors; only when repeating it can do no harm). Default 5. A throttled call (429) may be retried four times as often, within the operation's timeout.")
            .env("HW_MAX_RETRIES").validate(int_between(0, 100)),
        max_requests_per_second: f64 = optional("Most API calls per second this provider process sends (all resources together). Default 30: CPH does not publish its quota, and Huawei Cloud's API gateway counts each API on its own, so an apply's two busy APIs (routes and jobs) see about 15 a second each. On a 429 the provider halves its pace (honouring `Retry-After`) and recovers after.")
            .env("HW_MAX_REQUESTS_PER_SECOND").validate(positive()),
    }
}

/// What the resources share: the client, set by `ConfigureProvider`, and
/// the fleet engine of this provider process.
#[derive(Default)]
pub struct Shared {
    client: RwLock<Option<Client>>,
    fleet: Fleet,
}

impl Shared {
    /// The configured client, or an error diagnostic if Terraform has not
    /// configured the provider (which it always does before resource calls).
    /// Its calls end as soon as Terraform stops the provider.
    pub fn client(&self, ctx: &CallContext) -> Result<Client, Diagnostic> {
        let guard = self.client.read().unwrap_or_else(|p| p.into_inner());
        let client = guard
            .as_ref()
            .map(|c| c.with_cancellation(ctx.stop.clone()));
        client.ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The cph provider was used before it was configured.",
            )
        })
    }

    /// [`Shared::client`], with its error added to `diags`.
    pub fn client_or_report(&self, ctx: &CallContext, diags: &mut Diagnostics) -> Option<Client> {
        self.client(ctx).map_err(|d| diags.push(d)).ok()
    }

    /// The phones among `phone_ids` that exist, with their routes; see
    /// [`routing::read_phones`].
    pub async fn read_phones(
        &self,
        client: &Client,
        phone_ids: &BTreeSet<String>,
        servers: &BTreeSet<String>,
    ) -> cph::Result<BTreeMap<String, Phone>> {
        routing::read_phones(client, self.fleet.phone_listings(), phone_ids, servers).await
    }

    /// Listings of every phone of a server, shared within this command.
    pub async fn server_phones(
        &self,
        client: &Client,
        server_id: &str,
    ) -> cph::Result<Arc<Vec<Phone>>> {
        self.fleet
            .phone_listings()
            .phones(client, Some(server_id))
            .await
    }

    /// Drops cached phone listings after this provider changed phones (an
    /// action restarted, reset or stopped them), so that nothing later in
    /// the command reads its own writes stale.
    pub fn forget_phone_listings(&self) {
        self.fleet.phone_listings().clear();
    }

    /// The fleet engine (batcher, job poller, claims).
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    fn set_client(&self, client: Client) {
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
    }
}

pub struct CphProvider {
    shared: Arc<Shared>,
}

impl CphProvider {
    pub fn new() -> CphProvider {
        CphProvider {
            shared: Arc::new(Shared::default()),
        }
    }
}

impl Default for CphProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for CphProvider {
    fn schema(&self) -> Schema {
        schemas::provider()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        provider_config::validate(config)
    }

    async fn configure(&self, ctx: &CallContext, config: Value) -> Diagnostics {
        let env = |name: &str| std::env::var(name).ok();
        let cfg = match provider_config::resolve(&config, &env) {
            Ok(cfg) => cfg,
            Err(diags) => return diags,
        };
        let looks_up = cfg.project_id.is_empty();
        let (region, iam, source) = (
            cfg.region.clone(),
            cfg.iam_endpoint.clone(),
            cfg.credential_source.clone(),
        );
        match Client::connect(cfg, Some(ctx.stop.clone())).await {
            Ok(client) => {
                self.shared.set_client(client);
                Diagnostics::new()
            }
            Err(e) => configure_error(&e, looks_up, &region, &iam, &source),
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        super::all_resources(&self.shared)
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        super::all_data_sources(&self.shared)
    }

    fn list_resources(&self) -> Vec<Arc<dyn tf_framework::ListResource>> {
        super::all_list_resources(&self.shared)
    }

    fn actions(&self) -> Vec<Arc<dyn tf_framework::Action>> {
        super::all_actions(&self.shared)
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn tf_framework::EphemeralResource>> {
        super::all_ephemeral_resources(&self.shared)
    }
}

/// The one error of a client that could not be made, by its kind: a host
/// not reached, an agency refused, credentials refused by IAM, a project
/// not found, or a configuration that cannot work.
fn configure_error(
    e: &cph::Error,
    looks_up: bool,
    region: &str,
    iam: &str,
    source: &str,
) -> Diagnostics {
    if let Some(host) = e.unreachable_host() {
        let skip = if looks_up {
            format!(
                " The provider was looking up the project of region {region:?} at IAM ({iam}); set {} to skip that look-up.",
                "`project_id` (or HW_PROJECT_ID)"
            )
        } else {
            String::new()
        };
        return Diagnostic::error(
            format!("Could not reach {host}"),
            format!("{e}. Check that setting and the network.{skip}"),
        )
        .into();
    }
    if let cph::Error::AgencyRefused { .. } = e {
        return Diagnostic::error(
            "Cannot assume the agency",
            format!(
                "{e} (the agency's temporary keys were asked for with the {source}). Check `assume_role` and that the agency trusts these keys."
            ),
        )
        .at(tf_framework::AttributePath::root("assume_role"))
        .into();
    }
    if looks_up && e.is_credential_failure() {
        return Diagnostic::error(
            "Credentials refused by IAM",
            format!(
                "IAM ({iam}) refused the {source} when the provider looked up the project of region {region:?}: {}. Check the keys (and security_token), or the agency.",
                bare_message(e)
            ),
        )
        .into();
    }
    if looks_up {
        return Diagnostic::error(
            format!("Cannot find the project of region {region:?}"),
            format!(
                "The project id was looked up at IAM ({iam}) with the {source}: {}. Check `region`, or set `project_id` (or HW_PROJECT_ID) to skip the look-up.",
                bare_message(e)
            ),
        )
        .at(tf_framework::AttributePath::root("region"))
        .into();
    }
    Diagnostic::error("Invalid provider configuration", e.to_string()).into()
}

/// An error's own words, without the "invalid client configuration"
/// prefix its kind adds, or the IAM URL an IAM error starts with.
fn bare_message(e: &cph::Error) -> String {
    match e {
        cph::Error::Config(m) => m.clone(),
        cph::Error::Iam { cause, .. } => cause.to_string(),
        other => other.to_string(),
    }
}
