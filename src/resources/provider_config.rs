//! The provider block turned into a CPH client configuration: each attribute
//! falls back to the `HW_*` variable declared beside it in
//! [`ProviderModel`], and credentials are checked for a complete, unambiguous
//! set before any request is sent.
//!
//! Precedence, in one place ([`settings`]): the provider block, then the
//! `HW_*` variables, then the hcloud CLI profile ([`profile`]) when
//! `shared_config_file` or `profile` is set. Each setting comes from the
//! first that sets it; credentials are taken whole from the first that sets
//! any credential attribute, so that a stray `HW_AUTH_TOKEN` cannot conflict
//! with a configured AK/SK. The ways to authenticate, and what each needs,
//! are the table [`WAYS`].

mod profile;

use tf_framework::declare::{Validator, fill_from_env, validate_block};
use tf_framework::{AttributePath, Diagnostic, Diagnostics, Model, Tf, Value};

use super::provider::ProviderModel;
use crate::cph::{AgencyDomain, AssumeRole, ClientConfig, Credentials, HostSettings};

/// Whether `attr` is a credential attribute: one that a way to
/// authenticate needs ([`WAYS`]), or `security_token`, which goes with the
/// access keys.
fn is_credential(attr: &str) -> bool {
    attr == "security_token" || WAYS.iter().any(|w| w.needs.contains(&attr))
}

/// A way to authenticate: the attributes that choose it, and all it needs.
struct Way {
    name: &'static str,
    chosen_by: &'static [&'static str],
    needs: &'static [&'static str],
}

/// The ways to authenticate; exactly one may be chosen. `security_token`
/// belongs to AK/SK only; `domain_name` to the password only.
const WAYS: &[Way] = &[
    Way {
        name: "access_key/secret_key",
        chosen_by: &["access_key", "secret_key"],
        needs: &["access_key", "secret_key"],
    },
    Way {
        name: "auth_token",
        chosen_by: &["auth_token"],
        needs: &["auth_token"],
    },
    Way {
        name: "user_name/password",
        chosen_by: &["user_name", "password"],
        needs: &["user_name", "password", "domain_name"],
    },
];

/// Where the credentials in use were found, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Block,
    Environment,
    /// A profile of the hcloud CLI's file: its name and the file.
    Profile(String, String),
}

impl Source {
    /// "access_key/secret_key from the provider block", "HW_ACCESS_KEY/HW_SECRET_KEY
    /// environment variables", "profile \"x\" of ~/.hcloud/config.json".
    fn describe(&self, way: &Way) -> String {
        match self {
            Source::Block => format!("{} from the provider block", way.name),
            Source::Profile(name, path) => format!("profile {name:?} of {path}"),
            Source::Environment => {
                let vars: Vec<&str> = way.chosen_by.iter().filter_map(|a| env_var(a)).collect();
                let noun = if vars.len() == 1 {
                    "environment variable"
                } else {
                    "environment variables"
                };
                format!("{} {noun}", vars.join("/"))
            }
        }
    }
}

/// A string setting, unless unset or empty.
fn set(v: &Tf<String>) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// The `HW_*` variable of `attr`.
fn env_var(attr: &str) -> Option<&'static str> {
    ProviderModel::block()
        .attribute(attr)
        .and_then(|a| a.behaviour.env)
}

/// "`x` (or HW_X)", for messages.
fn named(attr: &str) -> String {
    match env_var(attr) {
        Some(var) => format!("`{attr}` (or {var})"),
        None => format!("`{attr}`"),
    }
}

/// A region name: lower-case letters, digits and `-`.
pub fn region_name() -> RegionName {
    RegionName
}

pub struct RegionName;

impl Validator for RegionName {
    fn description(&self) -> String {
        "a region name: lower-case letters, digits and `-`".into()
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let bad = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'));
        if let Some(c) = bad {
            diags.push(
                Diagnostic::error(
                    "Invalid region",
                    format!(
                        "`region` {s:?} contains {c:?}; a region name holds only lower-case letters, digits and `-` (e.g. `cn-east-3`)."
                    ),
                )
                .at(path.clone()),
            );
        }
    }
}

/// Static checks of the block that need no environment: its declared
/// validators. Unknown values are skipped.
pub fn validate(config: &Value) -> Diagnostics {
    validate_block(&ProviderModel::block(), config, &AttributePath::default())
}

/// The block with unset attributes read from their variables, then from
/// the profile; and where the credentials come from: the first of the three
/// that sets any credential attribute.
fn settings(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, Diagnostics> {
    let attrs = ProviderModel::block().attributes;
    let has_credentials = |m: &ProviderModel| {
        attrs
            .iter()
            .any(|a| is_credential(&a.name) && credential(m, &a.name).is_some())
    };
    let in_block = ProviderModel::from_value(config)?;
    let block_credentials = has_credentials(&in_block);
    let skip = |attr: &str| block_credentials && is_credential(attr);
    let (mut merged, diags) = fill_from_env(&ProviderModel::block(), config, env, &skip);
    let with_env = ProviderModel::from_value(&merged)?;
    let mut profile_agency = None;
    let mut source = match (block_credentials, has_credentials(&with_env)) {
        (true, _) => Source::Block,
        _ => Source::Environment,
    };
    let wants_profile =
        set(&with_env.shared_config_file).is_some() || set(&with_env.profile).is_some();
    if wants_profile {
        let file =
            set(&with_env.shared_config_file).unwrap_or_else(|| profile::DEFAULT_FILE.into());
        let path = profile::expand(&file, env("HOME").as_deref());
        match profile::load(&path, set(&with_env.profile).as_deref()) {
            Ok(p) => {
                let take_credentials = !has_credentials(&with_env);
                if take_credentials {
                    source = Source::Profile(p.name.clone(), file.clone());
                }
                for (attr, value) in &p.settings {
                    let unset = merged.get(attr).is_none_or(|v| matches!(v, Value::Null));
                    if unset && (take_credentials || !is_credential(attr)) {
                        merged.set_attr(attr, Value::string(value.as_str()));
                    }
                }
                if take_credentials {
                    profile_agency = p.agency;
                }
            }
            // The profile was to supply settings: without it, whatever else
            // is missing (region, credentials) follows from this one error.
            Err((attr, message)) => {
                return Err(Diagnostic::error(
                    "Cannot use the shared config file",
                    format!("{message}."),
                )
                .at(AttributePath::root(attr))
                .into());
            }
        }
    }
    Ok(Settings {
        model: ProviderModel::from_value(&merged)?,
        source,
        profile_agency,
        diags,
    })
}

/// What [`settings`] found.
struct Settings {
    model: ProviderModel,
    source: Source,
    /// The agency of an `AssumeRole` profile whose keys are used.
    profile_agency: Option<(String, AgencyDomain)>,
    diags: Diagnostics,
}

/// The agency to assume: the `assume_role` block, else the
/// `HW_ASSUME_ROLE_*` variables, else an `AssumeRole` profile's. Access keys
/// only; `domain_name` or `domain_id`, not both.
fn assume_role(
    m: &ProviderModel,
    env: &dyn Fn(&str) -> Option<String>,
    profile_agency: Option<(String, AgencyDomain)>,
    diags: &mut Diagnostics,
) -> Option<AssumeRole> {
    let at = AttributePath::root("assume_role");
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let (agency, domain_name, domain_id, duration) = match m.assume_role.known() {
        Some(b) => (
            set(&b.agency_name),
            set(&b.domain_name),
            set(&b.domain_id),
            b.duration.known().map(|d| Ok(*d)),
        ),
        None => match var("HW_ASSUME_ROLE_AGENCY_NAME") {
            Some(agency) => (
                Some(agency),
                var("HW_ASSUME_ROLE_DOMAIN_NAME"),
                var("HW_ASSUME_ROLE_DOMAIN_ID"),
                var("HW_ASSUME_ROLE_DURATION").map(|d| d.trim().parse::<i64>().map_err(|_| d)),
            ),
            None => {
                let (agency, domain) = profile_agency?;
                let (name, id) = match domain {
                    AgencyDomain::Name(n) => (Some(n), None),
                    AgencyDomain::Id(i) => (None, Some(i)),
                };
                (Some(agency), name, id, None)
            }
        },
    };
    let problem = |what: String, diags: &mut Diagnostics| {
        diags.push(Diagnostic::error("Invalid assume_role", what).at(at.clone()));
        None
    };
    let Some(agency_name) = agency else {
        return problem("`agency_name` is required.".into(), diags);
    };
    let domain = match (domain_name, domain_id) {
        (Some(n), None) => AgencyDomain::Name(n),
        (None, Some(i)) => AgencyDomain::Id(i),
        _ => {
            return problem(
                "Set one of `domain_name` and `domain_id` (the agency's account).".into(),
                diags,
            );
        }
    };
    let duration_seconds = match duration {
        None => None,
        Some(Ok(d)) if (900..=43200).contains(&d) => u32::try_from(d).ok(),
        Some(Ok(d)) => {
            return problem(
                format!("`duration` must be from 900 to 43200 seconds, got {d}."),
                diags,
            );
        }
        Some(Err(raw)) => {
            return problem(
                format!("HW_ASSUME_ROLE_DURATION must be a number of seconds, got {raw:?}."),
                diags,
            );
        }
    };
    Some(AssumeRole {
        agency_name,
        domain,
        duration_seconds,
    })
}

/// The value of the credential attribute `attr`.
fn credential(m: &ProviderModel, attr: &str) -> Option<String> {
    let v = match attr {
        "access_key" => &m.access_key,
        "secret_key" => &m.secret_key,
        "security_token" => &m.security_token,
        "auth_token" => &m.auth_token,
        "domain_name" => &m.domain_name,
        "user_name" => &m.user_name,
        "password" => &m.password,
        _ => return None,
    };
    set(v)
}

/// The cloud's domain: as set, else by region (`eu-west-1*`: the European
/// cloud).
fn cloud(set_cloud: Option<String>, region: Option<&str>) -> String {
    set_cloud.unwrap_or_else(|| match region {
        Some(r) if r.starts_with("eu-west-1") => "myhuaweicloud.eu".into(),
        _ => ClientConfig::DEFAULT_CLOUD.into(),
    })
}

/// Resolves the block (with `env` as the fallback) into a client
/// configuration. An empty `project_id` is looked up later
/// ([`crate::cph::Client::connect`]).
pub fn resolve(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, Diagnostics> {
    let mut diags = validate(config);
    let Settings {
        model: m,
        source,
        profile_agency,
        diags: found,
    } = settings(config, env)?;
    diags.extend(found);

    let region = set(&m.region);
    let cloud = cloud(set(&m.cloud), region.as_deref());
    let endpoint = cph_endpoint(&m, region.as_deref(), &cloud, &mut diags);
    let iam = set(&m.auth_url).unwrap_or_else(|| match region.as_deref() {
        Some(r) => ClientConfig::default_iam_endpoint(r, &cloud),
        None => format!("https://iam.{cloud}/v3"),
    });
    let credentials = resolve_credentials(&m, &iam, &mut diags);
    let agency = assume_role(&m, env, profile_agency, &mut diags);
    let keys = credentials
        .as_ref()
        .is_some_and(|(_, way)| way.name == WAYS[0].name);
    if agency.is_some() && credentials.is_some() && !keys {
        diags.push(
            Diagnostic::error(
                "Invalid assume_role",
                "An agency is assumed with access keys: set `access_key` and `secret_key`.",
            )
            .at(AttributePath::root("assume_role")),
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let (Some(endpoint), Some((credentials, way))) = (endpoint, credentials) else {
        return Err(diags);
    };
    let project_id = set(&m.project_id).unwrap_or_default();
    let mut cfg = ClientConfig::new(
        endpoint,
        region.unwrap_or_default(),
        project_id,
        credentials,
    );
    cfg.iam_endpoint = iam;
    cfg.domain_id = set(&m.domain_id);
    cfg.credential_source = match &agency {
        Some(a) => format!(
            "agency {:?} assumed with the {}",
            a.agency_name,
            source.describe(way)
        ),
        None => source.describe(way),
    };
    cfg.assume_role = agency;
    tune(&mut cfg, &m, &cloud);
    cfg.host_settings = host_settings(&m);
    Ok(cfg)
}

/// The settings that chose the CPH, BSS and IAM hosts: each URL setting when
/// set, else what it is derived from.
fn host_settings(m: &ProviderModel) -> HostSettings {
    let derived = format!("{} and {}", named("region"), named("cloud"));
    let either = |v: &Tf<String>, attr: &str, otherwise: &str| match set(v) {
        Some(_) => named(attr),
        None => otherwise.to_string(),
    };
    HostSettings {
        cph: either(&m.endpoint, "endpoint", &derived),
        bss: either(&m.bss_endpoint, "bss_endpoint", &named("cloud")),
        iam: either(&m.auth_url, "auth_url", &derived),
    }
}

/// The CPH endpoint, and `region` checked as needed: required unless both
/// `endpoint` and `project_id` are set, and not reported missing when it was
/// refused already.
fn cph_endpoint(
    m: &ProviderModel,
    region: Option<&str>,
    cloud: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let region_path = AttributePath::root("region");
    let region_refused = diags
        .0
        .iter()
        .any(|d| d.attribute.as_ref() == Some(&region_path));
    let mut found = Diagnostics::new();
    let set_endpoint = set(&m.endpoint);
    if set(&m.project_id).is_none() && region.is_none() && set_endpoint.is_some() {
        found.push(
            Diagnostic::error(
                "Missing region",
                format!(
                    "Set {} (the project is looked up from it), or {}.",
                    named("region"),
                    named("project_id")
                ),
            )
            .at(region_path),
        );
    }
    let endpoint = endpoint(set_endpoint, region, cloud, &mut found);
    if !region_refused {
        diags.extend(found);
    }
    endpoint
}

/// How the client behaves (TLS, retries, rate) and where BSS is: as set,
/// or `bss.{cloud}` with the international probe.
fn tune(cfg: &mut ClientConfig, m: &ProviderModel, cloud: &str) {
    cfg.insecure = m.insecure.known().copied().unwrap_or(false);
    cfg.max_retries = m
        .max_retries
        .known()
        .and_then(|n| u32::try_from(*n).ok())
        .unwrap_or(ClientConfig::DEFAULT_MAX_RETRIES);
    cfg.max_requests_per_second = m
        .max_requests_per_second
        .known()
        .copied()
        .unwrap_or(ClientConfig::DEFAULT_MAX_REQUESTS_PER_SECOND);
    match set(&m.bss_endpoint) {
        Some(bss) => cfg.bss_endpoint = bss.trim_end_matches('/').to_string(),
        None => {
            cfg.bss_endpoint = format!("https://bss.{cloud}");
            cfg.bss_international_endpoint = Some(format!("https://bss-intl.{cloud}"));
        }
    }
}

/// The CPH endpoint: as set, or derived from the region.
fn endpoint(
    set: Option<String>,
    region: Option<&str>,
    cloud: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    match (set, region) {
        (Some(e), _) => Some(e),
        (None, Some(r)) => Some(format!("https://cph.{r}.{cloud}")),
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    "Missing region",
                    format!(
                        "Set {} (the CPH endpoint is derived from it), or {}.",
                        named("region"),
                        named("endpoint")
                    ),
                )
                .at(AttributePath::root("region")),
            );
            None
        }
    }
}

/// The one way to authenticate `m` sets, complete; else why not, at the
/// attribute to blame: none set, several set, `security_token` without
/// keys, or a piece missing.
fn chosen_way(m: &ProviderModel, diags: &mut Diagnostics) -> Option<&'static Way> {
    let value = |attr: &str| credential(m, attr);
    let at = |attr: &str| AttributePath::root(attr);
    let chosen: Vec<&'static Way> = WAYS
        .iter()
        .filter(|w| w.chosen_by.iter().any(|a| value(a).is_some()))
        .collect();
    let way = match chosen.as_slice() {
        [] => {
            diags.push(
                Diagnostic::error(
                    "No credentials",
                    "Set one way to authenticate: `access_key` and `secret_key` (HW_ACCESS_KEY, HW_SECRET_KEY), \
                     `auth_token` (HW_AUTH_TOKEN), or `user_name`, `password` and `domain_name` \
                     (HW_USER_NAME, HW_USER_PASSWORD, HW_DOMAIN_NAME).",
                )
                .at(at("access_key")),
            );
            return None;
        }
        [way] => *way,
        several => {
            let names: Vec<&str> = several.iter().map(|w| w.name).collect();
            diags.push(
                Diagnostic::error(
                    "Conflicting credentials",
                    format!(
                        "Only one way to authenticate may be set, found: {}.",
                        names.join(", ")
                    ),
                )
                .at(at(several[1].chosen_by[0])),
            );
            return None;
        }
    };
    if value("security_token").is_some() && way.name != WAYS[0].name {
        diags.push(
            Diagnostic::error("security_token without access_key", "`security_token` belongs to temporary AK/SK credentials: set `access_key` and `secret_key` too.")
                .at(at("security_token")),
        );
        return None;
    }
    let missing: Vec<&str> = way
        .needs
        .iter()
        .copied()
        .filter(|a| value(a).is_none())
        .collect();
    for attr in &missing {
        diags.push(
            Diagnostic::error(
                format!("Missing {attr}"),
                format!("{} authentication needs {} too.", way.name, named(attr)),
            )
            .at(at(attr)),
        );
    }
    missing.is_empty().then_some(way)
}

/// The credentials of `m` (see [`chosen_way`]), and which way they are.
fn resolve_credentials(
    m: &ProviderModel,
    iam: &str,
    diags: &mut Diagnostics,
) -> Option<(Credentials, &'static Way)> {
    let way = chosen_way(m, diags)?;
    let value = |attr: &str| credential(m, attr);
    let v = |attr: &str| value(attr).unwrap_or_default();
    let credentials = match way.chosen_by[0] {
        "access_key" => Credentials::AkSk {
            access_key: v("access_key"),
            secret_key: v("secret_key"),
            security_token: value("security_token"),
        },
        "auth_token" => Credentials::Token(v("auth_token")),
        _ => Credentials::Password {
            auth_url: iam.to_string(),
            domain_name: v("domain_name"),
            user_name: v("user_name"),
            password: v("password"),
        },
    };
    Some((credentials, way))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn block(attrs: &[(&str, &str)]) -> Value {
        let mut v = crate::resources::schemas::provider().block.null_object();
        for (k, val) in attrs {
            v.set_attr(k, Value::string(*val));
        }
        v
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect()
    }

    #[test]
    fn token_from_block_and_default_endpoint() {
        let cfg = resolve(
            &block(&[
                ("region", "cn-east-3"),
                ("project_id", "p"),
                ("auth_token", "t"),
            ]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(cfg.endpoint, "https://cph.cn-east-3.myhuaweicloud.com");
        assert!(matches!(cfg.credentials, Credentials::Token(ref t) if t == "t"));
        assert_eq!(cfg.max_retries, ClientConfig::DEFAULT_MAX_RETRIES);
        assert_eq!(cfg.bss_endpoint, "https://bss.myhuaweicloud.com");
    }

    #[test]
    fn bss_endpoint_from_block_or_environment() {
        let base = [("region", "r"), ("project_id", "p"), ("auth_token", "t")];
        let env = env_of(&[("HW_BSS_ENDPOINT", "https://bss-intl.myhuaweicloud.com/")]);
        let cfg = resolve(&block(&base), &env).unwrap();
        assert_eq!(cfg.bss_endpoint, "https://bss-intl.myhuaweicloud.com");
        let mut attrs = base.to_vec();
        attrs.push(("bss_endpoint", "http://127.0.0.1:2"));
        let cfg = resolve(&block(&attrs), &env).unwrap();
        assert_eq!(cfg.bss_endpoint, "http://127.0.0.1:2");
        assert_eq!(cfg.bss_international_endpoint, None, "as set: no probe");
        attrs.pop();
        attrs.push(("bss_endpoint", "bss.example"));
        let d = resolve(&block(&attrs), &env_of(&[])).unwrap_err();
        assert!(paths(&d).contains(&"bss_endpoint".to_string()));
    }

    #[test]
    fn everything_from_environment() {
        let env = env_of(&[
            ("HW_REGION_NAME", "r"),
            ("HW_PROJECT_ID", "p"),
            ("HW_CPH_ENDPOINT", "http://127.0.0.1:1"),
            ("HW_ACCESS_KEY", "ak"),
            ("HW_SECRET_KEY", "sk"),
            ("HW_SECURITY_TOKEN", "st"),
            ("HW_INSECURE", "true"),
            ("HW_MAX_RETRIES", "2"),
        ]);
        let cfg = resolve(&block(&[]), &env).unwrap();
        assert_eq!(cfg.endpoint, "http://127.0.0.1:1");
        assert!(cfg.insecure);
        assert_eq!(cfg.max_retries, 2);
        assert!(
            matches!(cfg.credentials, Credentials::AkSk { ref security_token, .. } if security_token.as_deref() == Some("st"))
        );
    }

    #[test]
    fn block_credentials_shadow_environment_credentials() {
        let env = env_of(&[("HW_AUTH_TOKEN", "stray")]);
        let cfg = resolve(
            &block(&[
                ("region", "r"),
                ("project_id", "p"),
                ("access_key", "a"),
                ("secret_key", "s"),
            ]),
            &env,
        )
        .unwrap();
        assert!(matches!(cfg.credentials, Credentials::AkSk { .. }));
    }

    #[test]
    fn conflicting_and_missing_credentials_name_the_attribute() {
        let err = resolve(
            &block(&[
                ("region", "r"),
                ("project_id", "p"),
                ("auth_token", "t"),
                ("access_key", "a"),
            ]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(err.0[0].summary.contains("Conflicting"), "{err:?}");
        assert_eq!(paths(&err), vec!["auth_token"]);

        let err = resolve(
            &block(&[("region", "r"), ("project_id", "p")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(err.0[0].summary, "No credentials");

        let err = resolve(
            &block(&[("region", "r"), ("project_id", "p"), ("access_key", "a")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["secret_key"]);

        let err = resolve(
            &block(&[("region", "r"), ("project_id", "p"), ("user_name", "u")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["password", "domain_name"]);
    }

    #[test]
    fn missing_region() {
        let err = resolve(&block(&[("auth_token", "t")]), &env_of(&[])).unwrap_err();
        assert_eq!(paths(&err), vec!["region"]);
        let err = resolve(
            &block(&[("auth_token", "t"), ("endpoint", "http://127.0.0.1:1")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["region"]);
    }

    #[test]
    fn each_host_names_the_setting_that_chose_it() {
        let base = [("region", "r"), ("project_id", "p"), ("auth_token", "t")];
        let cfg = resolve(&block(&base), &env_of(&[])).unwrap();
        let derived = "`region` (or HW_REGION_NAME) and `cloud` (or HW_CLOUD)";
        assert_eq!(cfg.host_settings.cph, derived);
        assert_eq!(cfg.host_settings.iam, derived);
        assert_eq!(cfg.host_settings.bss, "`cloud` (or HW_CLOUD)");
        let mut attrs = base.to_vec();
        attrs.extend([
            ("endpoint", "http://127.0.0.1:2"),
            ("auth_url", "http://127.0.0.1:1/v3"),
            ("bss_endpoint", "http://127.0.0.1:3"),
        ]);
        let cfg = resolve(&block(&attrs), &env_of(&[])).unwrap();
        assert!(cfg.host_settings.cph.starts_with("`endpoint`"));
        assert!(cfg.host_settings.iam.starts_with("`auth_url`"));
        assert!(cfg.host_settings.bss.starts_with("`bss_endpoint`"));
        assert_eq!(
            cfg.setting_of_host("127.0.0.1:1").as_deref(),
            Some(cfg.host_settings.iam.as_str())
        );
    }

    #[test]
    fn region_and_keys_are_enough() {
        let cfg = resolve(
            &block(&[
                ("region", "cn-east-3"),
                ("access_key", "a"),
                ("secret_key", "s"),
            ]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(cfg.project_id, "", "looked up later");
        assert_eq!(cfg.domain_id, None, "looked up later");
        assert_eq!(
            cfg.iam_endpoint,
            "https://iam.cn-east-3.myhuaweicloud.com/v3"
        );
        assert_eq!(cfg.bss_endpoint, "https://bss.myhuaweicloud.com");
        assert_eq!(
            cfg.bss_international_endpoint.as_deref(),
            Some("https://bss-intl.myhuaweicloud.com"),
            "probed"
        );
        assert_eq!(
            cfg.credential_source,
            "access_key/secret_key from the provider block"
        );
    }

    #[test]
    fn cloud_and_ids_from_the_environment_and_the_european_default() {
        let base = [("access_key", "a"), ("secret_key", "s")];
        let mut eu = base.to_vec();
        eu.push(("region", "eu-west-101"));
        let cfg = resolve(&block(&eu), &env_of(&[])).unwrap();
        assert_eq!(cfg.endpoint, "https://cph.eu-west-101.myhuaweicloud.eu");
        assert_eq!(
            cfg.iam_endpoint,
            "https://iam.eu-west-101.myhuaweicloud.eu/v3"
        );
        assert_eq!(cfg.bss_endpoint, "https://bss.myhuaweicloud.eu");
        let env = env_of(&[
            ("HW_REGION_NAME", "ap-southeast-1"),
            ("HW_CLOUD", "example.com"),
            ("HW_DOMAIN_ID", "d"),
            ("HW_AUTH_URL", "http://127.0.0.1:9/v3"),
        ]);
        let cfg = resolve(&block(&base), &env).unwrap();
        assert_eq!(cfg.endpoint, "https://cph.ap-southeast-1.example.com");
        assert_eq!(cfg.iam_endpoint, "http://127.0.0.1:9/v3");
        assert_eq!(cfg.domain_id.as_deref(), Some("d"));
    }

    #[test]
    fn credential_source_names_the_variables() {
        let env = env_of(&[
            ("HW_REGION_NAME", "r"),
            ("HW_ACCESS_KEY", "a"),
            ("HW_SECRET_KEY", "s"),
        ]);
        let cfg = resolve(&block(&[]), &env).unwrap();
        assert_eq!(
            cfg.credential_source,
            "HW_ACCESS_KEY/HW_SECRET_KEY environment variables"
        );
        let env = env_of(&[("HW_REGION_NAME", "r"), ("HW_AUTH_TOKEN", "t")]);
        let cfg = resolve(&block(&[]), &env).unwrap();
        assert_eq!(cfg.credential_source, "HW_AUTH_TOKEN environment variable");
    }

    #[test]
    fn region_is_checked_as_a_region_even_with_an_endpoint() {
        for attrs in [
            vec![("region", "cn east 3"), ("auth_token", "t")],
            vec![
                ("region", "cn east 3"),
                ("auth_token", "t"),
                ("endpoint", "http://127.0.0.1:1"),
                ("project_id", "p"),
            ],
        ] {
            let err = resolve(&block(&attrs), &env_of(&[])).unwrap_err();
            assert_eq!(paths(&err), vec!["region"], "{err:?}");
            assert_eq!(err.0[0].summary, "Invalid region");
        }
        let err = resolve(
            &block(&[("auth_token", "t")]),
            &env_of(&[("HW_REGION_NAME", "CN-East-3")]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["region"], "{err:?}");
    }

    #[test]
    fn password_defaults_auth_url_from_region() {
        let cfg = resolve(
            &block(&[
                ("region", "r"),
                ("project_id", "p"),
                ("user_name", "u"),
                ("password", "pw"),
                ("domain_name", "d"),
            ]),
            &env_of(&[]),
        )
        .unwrap();
        assert!(
            matches!(cfg.credentials, Credentials::Password { ref auth_url, .. } if auth_url == "https://iam.r.myhuaweicloud.com/v3")
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let mut b = block(&[
            ("region", "r"),
            ("project_id", "p"),
            ("auth_token", "t"),
            ("endpoint", "cph.example"),
        ]);
        b.set_attr("max_retries", Value::Number(tf_framework::Number::Int(-1)));
        let err = resolve(&b, &env_of(&[])).unwrap_err();
        let p = paths(&err);
        assert!(
            p.contains(&"endpoint".to_string()) && p.contains(&"max_retries".to_string()),
            "{p:?}"
        );
        let err = resolve(
            &block(&[("region", "r"), ("project_id", "p"), ("auth_token", "t")]),
            &env_of(&[("HW_MAX_RETRIES", "x")]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["max_retries"]);
    }

    #[test]
    fn rate_limit_from_the_environment_or_the_default() {
        let base = [("region", "r"), ("project_id", "p"), ("auth_token", "t")];
        let cfg = resolve(&block(&base), &env_of(&[])).unwrap();
        assert_eq!(
            cfg.max_requests_per_second,
            ClientConfig::DEFAULT_MAX_REQUESTS_PER_SECOND
        );
        let cfg = resolve(
            &block(&base),
            &env_of(&[("HW_MAX_REQUESTS_PER_SECOND", "7.5")]),
        )
        .unwrap();
        assert_eq!(cfg.max_requests_per_second, 7.5);
        let err = resolve(
            &block(&base),
            &env_of(&[("HW_MAX_REQUESTS_PER_SECOND", "0")]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["max_requests_per_second"]);
    }

    /// An hcloud CLI file in a fresh temporary directory.
    fn hcloud_file(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("cph-profile-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"current":"dev","profiles":[
              {"name":"dev","mode":"AKSK","accessKeyId":"PAK","secretAccessKey":"PSK","region":"cn-east-3","projectId":"PP"},
              {"name":"other","mode":"AKSK","accessKeyId":"OAK","secretAccessKey":"OSK","region":"cn-north-4"}]}"#,
        )
        .unwrap();
        path.display().to_string()
    }

    #[test]
    fn a_profile_comes_after_the_block_and_the_variables() {
        let file = hcloud_file("order");
        let cfg = resolve(&block(&[("shared_config_file", &file)]), &env_of(&[])).unwrap();
        assert_eq!(cfg.region, "cn-east-3");
        assert_eq!(cfg.project_id, "PP");
        assert!(
            matches!(cfg.credentials, Credentials::AkSk { ref access_key, .. } if access_key == "PAK")
        );
        assert_eq!(cfg.credential_source, format!("profile \"dev\" of {file}"));

        let vars = [
            ("HW_SHARED_CONFIG_FILE", file.as_str()),
            ("HW_PROFILE", "other"),
            ("HW_ACCESS_KEY", "EAK"),
            ("HW_SECRET_KEY", "ESK"),
        ];
        let env = env_of(&vars);
        let cfg = resolve(&block(&[("region", "ap-southeast-1")]), &env).unwrap();
        assert_eq!(cfg.region, "ap-southeast-1", "the block first");
        assert!(
            matches!(cfg.credentials, Credentials::AkSk { ref access_key, .. } if access_key == "EAK"),
            "the variables next"
        );
        assert_eq!(
            cfg.credential_source,
            "HW_ACCESS_KEY/HW_SECRET_KEY environment variables"
        );
    }

    #[test]
    fn a_wrong_profile_or_file_is_an_error_naming_it() {
        let file = hcloud_file("wrong");
        let err = resolve(
            &block(&[("shared_config_file", &file), ("profile", "prod")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(paths(&err), vec!["profile"], "one error: {err:?}");
        assert!(
            err.0[0].detail.contains("no profile \"prod\"") && err.0[0].detail.contains(&file),
            "{err:?}"
        );
        let err = resolve(
            &block(&[("shared_config_file", "/nonexistent/config.json")]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(
            paths(&err),
            vec!["shared_config_file"],
            "one error: {err:?}"
        );
        let err = resolve(
            &block(&[("profile", "dev")]),
            &env_of(&[("HOME", "/nonexistent-home")]),
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 1, "one error: {err:?}");
        assert!(
            err.0[0]
                .detail
                .contains("/nonexistent-home/.hcloud/config.json"),
            "{err:?}"
        );
    }

    #[test]
    fn an_assume_role_profile_names_its_account_by_name_or_by_id() {
        let dir = std::env::temp_dir().join(format!("cph-profile-agency-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"current":"byid","profiles":[
              {"name":"byid","mode":"AssumeRole","accessKeyId":"AK","secretAccessKey":"SK","region":"r",
               "agencyName":"ops","agencyDomainId":"D1"},
              {"name":"byname","mode":"AssumeRole","accessKeyId":"AK","secretAccessKey":"SK","region":"r",
               "agencyName":"ops","agencyDomainName":"acct"}]}"#,
        )
        .unwrap();
        let file = path.display().to_string();
        for (profile, domain) in [
            ("byid", AgencyDomain::Id("D1".into())),
            ("byname", AgencyDomain::Name("acct".into())),
        ] {
            let cfg = resolve(
                &block(&[("shared_config_file", &file), ("profile", profile)]),
                &env_of(&[]),
            )
            .unwrap();
            let a = cfg.assume_role.expect("agency");
            assert_eq!((a.agency_name.as_str(), a.domain), ("ops", domain));
        }
    }

    #[test]
    fn an_agency_from_the_block_the_variables_or_the_profile() {
        let keys = [("region", "r"), ("access_key", "a"), ("secret_key", "s")];
        let mut b = block(&keys);
        let mut role = crate::resources::schemas::provider()
            .block
            .blocks
            .iter()
            .find(|t| t.type_name == "assume_role")
            .expect("assume_role block")
            .block
            .null_object();
        role.set_attr("agency_name", Value::string("ops"));
        role.set_attr("domain_id", Value::string("D"));
        b.set_attr("assume_role", role.clone());
        let cfg = resolve(&b, &env_of(&[])).unwrap();
        let a = cfg.assume_role.expect("agency");
        assert_eq!(
            (a.agency_name.as_str(), a.domain),
            ("ops", AgencyDomain::Id("D".into()))
        );
        assert_eq!(
            cfg.credential_source,
            "agency \"ops\" assumed with the access_key/secret_key from the provider block"
        );

        let env = env_of(&[
            ("HW_ASSUME_ROLE_AGENCY_NAME", "ops"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "acct"),
            ("HW_ASSUME_ROLE_DURATION", "3600"),
        ]);
        let a = resolve(&block(&keys), &env)
            .unwrap()
            .assume_role
            .expect("agency");
        assert_eq!(a.domain, AgencyDomain::Name("acct".into()));
        assert_eq!(a.duration_seconds, Some(3600));

        role.set_attr("domain_name", Value::string("both"));
        b.set_attr("assume_role", role);
        let err = resolve(&b, &env_of(&[])).unwrap_err();
        assert_eq!(paths(&err), vec!["assume_role"], "{err:?}");
        let err = resolve(
            &block(&[("region", "r"), ("auth_token", "t")]),
            &env_of(&[
                ("HW_ASSUME_ROLE_AGENCY_NAME", "ops"),
                ("HW_ASSUME_ROLE_DOMAIN_ID", "D"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            paths(&err),
            vec!["assume_role"],
            "access keys only: {err:?}"
        );
    }
}
