//! The provider block turned into a CPH client configuration: each attribute
//! falls back to the `HW_*` variable declared beside it in
//! [`ProviderModel`], and credentials are checked for a complete, unambiguous
//! set before any request is sent.

use tf_framework::declare::{fill_from_env, validate_block};
use tf_framework::{AttributePath, Diagnostic, Diagnostics, Model, Tf, Value};

use super::provider::ProviderModel;
use crate::cph::{ClientConfig, Credentials};

/// The credential attributes. When the block sets any of them, credentials
/// come from the block only, so that a stray `HW_AUTH_TOKEN` cannot conflict
/// with a configured AK/SK.
const CREDENTIAL_ATTRS: &[&str] = &[
    "access_key",
    "secret_key",
    "security_token",
    "auth_token",
    "domain_name",
    "user_name",
    "password",
];

/// A string setting, unless unset or empty.
fn set(v: &Tf<String>) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// "`x` (or HW_X)", for messages.
fn named(attr: &str) -> String {
    let block = ProviderModel::block();
    match block.attribute(attr).and_then(|a| a.behaviour.env) {
        Some(var) => format!("`{attr}` (or {var})"),
        None => format!("`{attr}`"),
    }
}

/// Static checks of the block that need no environment: its declared
/// validators. Unknown values are skipped.
pub fn validate(config: &Value) -> Diagnostics {
    validate_block(&ProviderModel::block(), config, &AttributePath::default())
}

/// The block with unset attributes read from their variables.
fn settings(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(ProviderModel, Diagnostics), Diagnostics> {
    let in_block = ProviderModel::from_value(config)?;
    let credentials_in_block = [
        &in_block.access_key,
        &in_block.secret_key,
        &in_block.security_token,
        &in_block.auth_token,
        &in_block.domain_name,
        &in_block.user_name,
        &in_block.password,
    ]
    .into_iter()
    .any(|v| set(v).is_some());
    let skip = |attr: &str| credentials_in_block && CREDENTIAL_ATTRS.contains(&attr);
    let (merged, diags) = fill_from_env(&ProviderModel::block(), config, env, &skip);
    Ok((ProviderModel::from_value(&merged)?, diags))
}

/// Resolves the block (with `env` as the fallback) into a client configuration.
pub fn resolve(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, Diagnostics> {
    let mut diags = validate(config);
    let (m, env_diags) = settings(config, env)?;
    diags.extend(env_diags);

    let region = set(&m.region);
    let project_id = set(&m.project_id);
    if project_id.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing project_id",
                format!(
                    "Set {} to the project id of your cloud phones.",
                    named("project_id")
                ),
            )
            .at(AttributePath::root("project_id")),
        );
    }
    let endpoint = endpoint(set(&m.endpoint), region.as_deref(), &mut diags);
    let credentials = resolve_credentials(&m, region.as_deref(), &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    let (Some(endpoint), Some(project_id), Some(credentials)) = (endpoint, project_id, credentials)
    else {
        return Err(diags);
    };
    let mut cfg = ClientConfig::new(
        endpoint,
        region.unwrap_or_default(),
        project_id,
        credentials,
    );
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
    if let Some(bss) = set(&m.bss_endpoint) {
        cfg.bss_endpoint = bss.trim_end_matches('/').to_string();
    }
    cfg.credential_source = credential_source(config, &cfg.credentials);
    Ok(cfg)
}

/// Where the credentials in use come from, in words for error messages.
fn credential_source(config: &Value, credentials: &Credentials) -> String {
    let (attr, attrs, vars) = match credentials {
        Credentials::AkSk { .. } => (
            "access_key",
            "access_key/secret_key",
            "HW_ACCESS_KEY/HW_SECRET_KEY",
        ),
        Credentials::Token(_) => ("auth_token", "auth_token", "HW_AUTH_TOKEN"),
        Credentials::Password { .. } => (
            "user_name",
            "user_name/password",
            "HW_USER_NAME/HW_USER_PASSWORD",
        ),
    };
    match config.get(attr) {
        Some(v) if !v.is_null() => format!("{attrs} from the provider block"),
        _ => format!("{vars} environment variables"),
    }
}

/// The CPH endpoint: as set, or derived from the region.
fn endpoint(set: Option<String>, region: Option<&str>, diags: &mut Diagnostics) -> Option<String> {
    match (set, region) {
        (Some(e), _) => Some(e),
        (None, Some(r)) => Some(format!("https://cph.{r}.myhuaweicloud.com")),
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

fn resolve_credentials(
    m: &ProviderModel,
    region: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<Credentials> {
    let ak = set(&m.access_key);
    let sk = set(&m.secret_key);
    let st = set(&m.security_token);
    let token = set(&m.auth_token);
    let user = set(&m.user_name);
    let password = set(&m.password);
    let domain = set(&m.domain_name);

    let mut kinds = Vec::new();
    if ak.is_some() || sk.is_some() {
        kinds.push("access_key/secret_key");
    }
    if token.is_some() {
        kinds.push("auth_token");
    }
    if user.is_some() || password.is_some() {
        kinds.push("user_name/password");
    }
    let at = |attr: &str| AttributePath::root(attr);
    match kinds.len() {
        0 => {
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
        1 => {}
        _ => {
            let first = if token.is_some() {
                "auth_token"
            } else {
                "user_name"
            };
            diags.push(
                Diagnostic::error(
                    "Conflicting credentials",
                    format!(
                        "Only one way to authenticate may be set, found: {}.",
                        kinds.join(", ")
                    ),
                )
                .at(at(first)),
            );
            return None;
        }
    }
    if st.is_some() && ak.is_none() {
        diags.push(
            Diagnostic::error("security_token without access_key", "`security_token` belongs to temporary AK/SK credentials: set `access_key` and `secret_key` too.")
                .at(at("security_token")),
        );
        return None;
    }
    if let Some(token) = token {
        return Some(Credentials::Token(token));
    }
    if ak.is_some() || sk.is_some() {
        return match (ak, sk) {
            (Some(access_key), Some(secret_key)) => Some(Credentials::AkSk {
                access_key,
                secret_key,
                security_token: st,
            }),
            (Some(_), None) => {
                diags.push(
                    Diagnostic::error(
                        "Missing secret_key",
                        format!("`access_key` is set; set {} too.", named("secret_key")),
                    )
                    .at(at("secret_key")),
                );
                None
            }
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Missing access_key",
                        format!("`secret_key` is set; set {} too.", named("access_key")),
                    )
                    .at(at("access_key")),
                );
                None
            }
        };
    }
    let mut missing = false;
    for (attr, val) in [
        ("user_name", &user),
        ("password", &password),
        ("domain_name", &domain),
    ] {
        if val.is_none() {
            diags.push(
                Diagnostic::error(
                    format!("Missing {attr}"),
                    format!("Password authentication needs {}.", named(attr)),
                )
                .at(at(attr)),
            );
            missing = true;
        }
    }
    let auth_url = set(&m.auth_url)
        .or_else(|| region.map(|r| format!("https://iam.{r}.myhuaweicloud.com/v3")));
    if auth_url.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing auth_url",
                format!(
                    "Password authentication needs {} or `region`.",
                    named("auth_url")
                ),
            )
            .at(at("auth_url")),
        );
        missing = true;
    }
    if missing {
        return None;
    }
    Some(Credentials::Password {
        auth_url: auth_url.unwrap_or_default(),
        domain_name: domain.unwrap_or_default(),
        user_name: user.unwrap_or_default(),
        password: password.unwrap_or_default(),
    })
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
    fn missing_project_and_region() {
        let err = resolve(&block(&[("auth_token", "t")]), &env_of(&[])).unwrap_err();
        assert_eq!(paths(&err), vec!["project_id", "region"]);
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
}
