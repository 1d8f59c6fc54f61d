//! The provider block turned into a CPH client configuration: each attribute
//! falls back to its `HW_*` variable, credentials are checked for a complete,
//! unambiguous set before any request is sent.

use crate::cph::{ClientConfig, Credentials};
use tf_framework::{AttributePath, Diagnostic, Diagnostics, Value};

/// Environment variable of each provider attribute.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("region", "HW_REGION_NAME"),
    ("project_id", "HW_PROJECT_ID"),
    ("endpoint", "HW_CPH_ENDPOINT"),
    ("access_key", "HW_ACCESS_KEY"),
    ("secret_key", "HW_SECRET_KEY"),
    ("security_token", "HW_SECURITY_TOKEN"),
    ("auth_token", "HW_AUTH_TOKEN"),
    ("auth_url", "HW_AUTH_URL"),
    ("domain_name", "HW_DOMAIN_NAME"),
    ("user_name", "HW_USER_NAME"),
    ("password", "HW_USER_PASSWORD"),
    ("insecure", "HW_INSECURE"),
    ("max_retries", "HW_MAX_RETRIES"),
    ("max_requests_per_second", "HW_MAX_REQUESTS_PER_SECOND"),
];

const CREDENTIAL_ATTRS: &[&str] = &[
    "access_key",
    "secret_key",
    "security_token",
    "auth_token",
    "domain_name",
    "user_name",
    "password",
];

fn env_var_of(attr: &str) -> &'static str {
    ENV_VARS
        .iter()
        .find(|(a, _)| *a == attr)
        .map(|(_, e)| *e)
        .unwrap_or("")
}

/// Where each setting is read from: the block first, then the environment.
struct Settings<'a> {
    config: &'a Value,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// When the block sets any credential, credentials come from the block only,
    /// so that a stray `HW_AUTH_TOKEN` cannot conflict with a configured AK/SK.
    credentials_from_config: bool,
}

impl Settings<'_> {
    fn configured(&self, attr: &str) -> Option<String> {
        self.config
            .get_str(attr)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    fn get(&self, attr: &str) -> Option<String> {
        if let Some(v) = self.configured(attr) {
            return Some(v);
        }
        if CREDENTIAL_ATTRS.contains(&attr) && self.credentials_from_config {
            return None;
        }
        (self.env)(env_var_of(attr)).filter(|s| !s.is_empty())
    }

    /// "the `x` argument (or HW_X)" for messages.
    fn name(&self, attr: &str) -> String {
        format!("`{attr}` (or {})", env_var_of(attr))
    }
}

/// Static checks that need no environment: values present in the block that
/// can never work. Unknown values are skipped.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (attr, _) in ENV_VARS {
        if let Some(Value::String(s)) = config.get(attr)
            && s.trim().is_empty()
        {
            diags.push(
                Diagnostic::error(
                    format!("Empty `{attr}`"),
                    format!("`{attr}` is set to an empty string; remove it or give it a value."),
                )
                .at(AttributePath::root(attr)),
            );
        }
    }
    if let Some(Value::String(e)) = config.get("endpoint")
        && !e.trim().is_empty()
        && !(e.starts_with("https://") || e.starts_with("http://"))
    {
        diags.push(
            Diagnostic::error(
                "Invalid endpoint",
                format!("`endpoint` must be an http:// or https:// URL, got {e:?}."),
            )
            .at(AttributePath::root("endpoint")),
        );
    }
    if let Some(v @ Value::Number(_)) = config.get("max_retries")
        && !matches!(v.as_i64(), Some(0..=100))
    {
        diags.push(
            Diagnostic::error(
                "Invalid max_retries",
                "`max_retries` must be a whole number from 0 to 100.",
            )
            .at(AttributePath::root("max_retries")),
        );
    }
    diags
}

/// Resolves the block (with `env` as the fallback) into a client configuration.
pub fn resolve(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, Diagnostics> {
    let credentials_from_config = CREDENTIAL_ATTRS
        .iter()
        .any(|a| config.get_str(a).is_some_and(|s| !s.is_empty()));
    let s = Settings {
        config,
        env,
        credentials_from_config,
    };
    let mut diags = validate(config);

    let region = s.get("region");
    let project_id = s.get("project_id");
    if project_id.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing project_id",
                format!(
                    "Set {} to the project id of your cloud phones.",
                    s.name("project_id")
                ),
            )
            .at(AttributePath::root("project_id")),
        );
    }
    let endpoint = match (s.get("endpoint"), &region) {
        (Some(e), _) => Some(e),
        (None, Some(r)) => Some(format!("https://cph.{r}.myhuaweicloud.com")),
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    "Missing region",
                    format!(
                        "Set {} (the CPH endpoint is derived from it), or {}.",
                        s.name("region"),
                        s.name("endpoint")
                    ),
                )
                .at(AttributePath::root("region")),
            );
            None
        }
    };
    if let Some(e) = &endpoint
        && !(e.starts_with("https://") || e.starts_with("http://"))
    {
        diags.push(
            Diagnostic::error(
                "Invalid endpoint",
                format!("The endpoint must be an http:// or https:// URL, got {e:?}."),
            )
            .at(AttributePath::root("endpoint")),
        );
    }

    let credentials = resolve_credentials(&s, region.as_deref(), &mut diags);

    let insecure = match config.get("insecure") {
        Some(Value::Bool(b)) => *b,
        _ => match (s.env)("HW_INSECURE") {
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "" | "0" | "false" | "no" => false,
                other => {
                    diags.push(
                        Diagnostic::error(
                            "Invalid HW_INSECURE",
                            format!("HW_INSECURE must be true or false, got {other:?}."),
                        )
                        .at(AttributePath::root("insecure")),
                    );
                    false
                }
            },
            None => false,
        },
    };
    let max_retries = match config.get("max_retries") {
        Some(v @ Value::Number(_)) => v.as_i64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        _ => {
            match (s.env)("HW_MAX_RETRIES") {
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if n <= 100 => n,
                    _ => {
                        diags.push(
                        Diagnostic::error(
                            "Invalid HW_MAX_RETRIES",
                            format!("HW_MAX_RETRIES must be a whole number from 0 to 100, got {v:?}."),
                        )
                        .at(AttributePath::root("max_retries")),
                    );
                        0
                    }
                },
                None => ClientConfig::DEFAULT_MAX_RETRIES,
            }
        }
    };

    let max_requests_per_second = rate_limit(&s, &mut diags);

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
    cfg.insecure = insecure;
    cfg.max_retries = max_retries;
    cfg.max_requests_per_second = max_requests_per_second;
    Ok(cfg)
}

/// `max_requests_per_second` from the block, else `HW_MAX_REQUESTS_PER_SECOND`,
/// else the default. The block's value was checked by its validator.
fn rate_limit(s: &Settings, diags: &mut Diagnostics) -> f64 {
    const ATTR: &str = "max_requests_per_second";
    if let Some(Value::Number(n)) = s.config.get(ATTR) {
        return n
            .as_f64()
            .unwrap_or(ClientConfig::DEFAULT_MAX_REQUESTS_PER_SECOND);
    }
    let Some(text) = (s.env)(env_var_of(ATTR)).filter(|v| !v.trim().is_empty()) else {
        return ClientConfig::DEFAULT_MAX_REQUESTS_PER_SECOND;
    };
    match text.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => n,
        _ => {
            diags.push(
                Diagnostic::error(
                    "Invalid HW_MAX_REQUESTS_PER_SECOND",
                    format!(
                        "HW_MAX_REQUESTS_PER_SECOND must be a number greater than 0, got {text:?}."
                    ),
                )
                .at(AttributePath::root(ATTR)),
            );
            ClientConfig::DEFAULT_MAX_REQUESTS_PER_SECOND
        }
    }
}

fn resolve_credentials(
    s: &Settings<'_>,
    region: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<Credentials> {
    let ak = s.get("access_key");
    let sk = s.get("secret_key");
    let st = s.get("security_token");
    let token = s.get("auth_token");
    let user = s.get("user_name");
    let password = s.get("password");
    let domain = s.get("domain_name");

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
                        format!("`access_key` is set; set {} too.", s.name("secret_key")),
                    )
                    .at(at("secret_key")),
                );
                None
            }
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Missing access_key",
                        format!("`secret_key` is set; set {} too.", s.name("access_key")),
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
                    format!("Password authentication needs {}.", s.name(attr)),
                )
                .at(at(attr)),
            );
            missing = true;
        }
    }
    let auth_url = s
        .get("auth_url")
        .or_else(|| region.map(|r| format!("https://iam.{r}.myhuaweicloud.com/v3")));
    if auth_url.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing auth_url",
                format!(
                    "Password authentication needs {} or `region`.",
                    s.name("auth_url")
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
