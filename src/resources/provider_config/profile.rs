//! A profile of the hcloud CLI's configuration file (`~/.hcloud/config.json`):
//! `{"current": name, "profiles": [{"name", "mode", "accessKeyId",
//! "secretAccessKey", "securityToken", "region", "projectId", "domainId",
//! "agencyName", "agencyDomainName", "agencyDomainId", "ssoAuth":
//! {"stsToken": {..}}}]}`. Modes: `AKSK` (the keys), `SSO` (temporary keys
//! in `ssoAuth.stsToken`) and `AssumeRole` (the keys, and the agency to
//! assume with them, its account named by `agencyDomainName` or by
//! `agencyDomainId` as hcloud writes it). The file
//! must be the CLI's unencrypted JSON; anything else is an error naming it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cph::AgencyDomain;

/// The CLI's default file, under the home directory.
pub const DEFAULT_FILE: &str = "~/.hcloud/config.json";

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct File {
    current: String,
    profiles: Vec<RawProfile>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawProfile {
    name: String,
    mode: String,
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
    region: String,
    project_id: String,
    domain_id: String,
    agency_name: String,
    agency_domain_name: String,
    agency_domain_id: String,
    sso_auth: SsoAuth,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SsoAuth {
    sts_token: StsToken,
}

/// SSO's temporary keys (the CLI's names, or IAM's).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct StsToken {
    #[serde(alias = "access")]
    access_key_id: String,
    #[serde(alias = "secret")]
    secret_access_key: String,
    #[serde(alias = "securitytoken")]
    security_token: String,
}

/// What a profile gives the provider: settings by attribute name (only
/// those it sets), and the agency to assume (mode `AssumeRole`).
#[derive(Debug, Default, PartialEq)]
pub struct Profile {
    pub name: String,
    pub path: PathBuf,
    pub settings: Vec<(&'static str, String)>,
    pub agency: Option<(String, AgencyDomain)>,
}

/// `~/x` under `home`.
pub fn expand(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// What is wrong, and the attribute to blame (`shared_config_file`, or
/// `profile` for a name the file does not have).
pub type Problem = (&'static str, String);

/// The profile `wanted` (else the file's `current`) of the file at `path`.
/// The error says what is wrong, naming the file (and the profile).
pub fn load(path: &Path, wanted: Option<&str>) -> Result<Profile, Problem> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        (
            "shared_config_file",
            format!("cannot read the shared config file {shown}: {e}"),
        )
    })?;
    parse(&text, path, wanted)
}

fn parse(text: &str, path: &Path, wanted: Option<&str>) -> Result<Profile, Problem> {
    let shown = path.display();
    let file: File = serde_json::from_str(text).map_err(|e| {
        ("shared_config_file", format!(
            "{shown} is not the hcloud CLI's configuration in plain JSON ({e}); an encrypted file cannot be read: run `hcloud configure set --cli-auth-encrypt=false` and save the profile again"
        ))
    })?;
    let name = wanted.unwrap_or(&file.current);
    let names: Vec<&str> = file.profiles.iter().map(|p| p.name.as_str()).collect();
    let Some(raw) = file.profiles.iter().find(|p| p.name == name) else {
        let known = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        return Err((
            "profile",
            format!("{shown} has no profile {name:?} (it has: {known})"),
        ));
    };
    profile(raw, path).map_err(|m| ("profile", m))
}

fn profile(raw: &RawProfile, path: &Path) -> Result<Profile, String> {
    let shown = path.display();
    let name = &raw.name;
    let (ak, sk, token) = match raw.mode.as_str() {
        "AKSK" | "AssumeRole" | "" => (
            &raw.access_key_id,
            &raw.secret_access_key,
            &raw.security_token,
        ),
        "SSO" => {
            let t = &raw.sso_auth.sts_token;
            (&t.access_key_id, &t.secret_access_key, &t.security_token)
        }
        other => {
            return Err(format!(
                "profile {name:?} of {shown} has mode {other:?}; this provider reads AKSK, SSO and AssumeRole profiles"
            ));
        }
    };
    if ak.is_empty() || sk.is_empty() {
        return Err(format!(
            "profile {name:?} of {shown} holds no access key and secret key (an encrypted profile cannot be read: run `hcloud configure set --cli-auth-encrypt=false` and save the profile again)"
        ));
    }
    let mut settings = vec![("access_key", ak.clone()), ("secret_key", sk.clone())];
    for (attr, value) in [
        ("security_token", token),
        ("region", &raw.region),
        ("project_id", &raw.project_id),
        ("domain_id", &raw.domain_id),
    ] {
        if !value.is_empty() {
            settings.push((attr, value.clone()));
        }
    }
    let agency = if raw.mode == "AssumeRole" {
        Some(agency(raw).ok_or_else(|| {
            format!(
                "profile {name:?} of {shown} is an AssumeRole profile without agencyName and one of agencyDomainName and agencyDomainId"
            )
        })?)
    } else {
        None
    };
    Ok(Profile {
        name: name.clone(),
        path: path.to_path_buf(),
        settings,
        agency,
    })
}

/// The agency of an `AssumeRole` profile: its name, and its account by
/// name or, failing that, by id; `None` when either is missing.
fn agency(raw: &RawProfile) -> Option<(String, AgencyDomain)> {
    if raw.agency_name.is_empty() {
        return None;
    }
    let domain = match (
        raw.agency_domain_name.as_str(),
        raw.agency_domain_id.as_str(),
    ) {
        ("", "") => return None,
        ("", id) => AgencyDomain::Id(id.to_string()),
        (name, _) => AgencyDomain::Name(name.to_string()),
    };
    Some((raw.agency_name.clone(), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "current": "dev",
      "profiles": [
        {"name": "dev", "mode": "AKSK", "accessKeyId": "AK", "secretAccessKey": "SK",
         "region": "cn-east-3", "projectId": "", "domainId": "D"},
        {"name": "sso", "mode": "SSO", "region": "cn-north-4",
         "ssoAuth": {"stsToken": {"accessKeyId": "TAK", "secretAccessKey": "TSK", "securityToken": "ST"}}},
        {"name": "agent", "mode": "AssumeRole", "accessKeyId": "AK", "secretAccessKey": "SK",
         "agencyName": "ops", "agencyDomainName": "other"},
        {"name": "hcloud-agent", "mode": "AssumeRole", "accessKeyId": "AK", "secretAccessKey": "SK",
         "agencyName": "ops", "agencyDomainId": "D1"},
        {"name": "no-account", "mode": "AssumeRole", "accessKeyId": "AK", "secretAccessKey": "SK",
         "agencyName": "ops"},
        {"name": "locked", "mode": "AKSK", "accessKeyId": "", "secretAccessKey": ""}
      ]
    }"#;

    fn get(wanted: Option<&str>) -> Result<Profile, String> {
        parse(FILE, Path::new("/h/.hcloud/config.json"), wanted).map_err(|(_, m)| m)
    }

    #[test]
    fn reads_each_mode() {
        let dev = get(None).unwrap();
        assert_eq!(dev.name, "dev");
        assert_eq!(
            dev.settings,
            vec![
                ("access_key", "AK".into()),
                ("secret_key", "SK".into()),
                ("region", "cn-east-3".into()),
                ("domain_id", "D".into()),
            ]
        );
        let sso = get(Some("sso")).unwrap();
        assert!(sso.settings.contains(&("security_token", "ST".into())));
        assert!(sso.settings.contains(&("access_key", "TAK".into())));
        let agent = get(Some("agent")).unwrap();
        assert_eq!(
            agent.agency,
            Some(("ops".into(), AgencyDomain::Name("other".into())))
        );
        let by_id = get(Some("hcloud-agent")).unwrap();
        assert_eq!(
            by_id.agency,
            Some(("ops".into(), AgencyDomain::Id("D1".into())))
        );
        let err = get(Some("no-account")).unwrap_err();
        assert!(err.contains("agencyDomainId"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_the_profile() {
        let err = get(Some("prod")).unwrap_err();
        assert!(
            err.contains("/h/.hcloud/config.json has no profile \"prod\""),
            "{err}"
        );
        assert!(
            err.contains("dev, sso, agent, hcloud-agent, no-account, locked"),
            "{err}"
        );
        let err = get(Some("locked")).unwrap_err();
        assert!(err.contains("encrypted"), "{err}");
        let (attr, err) = parse("U2FsdGVkX1+encrypted", Path::new("/f"), None).unwrap_err();
        assert!(
            err.starts_with("/f is not") && err.contains("encrypted"),
            "{err}"
        );
        assert_eq!(attr, "shared_config_file");
        let (attr, err) = load(Path::new("/nonexistent/config.json"), None).unwrap_err();
        assert!(err.contains("/nonexistent/config.json"), "{err}");
        assert_eq!(attr, "shared_config_file");
        let (attr, _) = parse(FILE, Path::new("/f"), Some("prod")).unwrap_err();
        assert_eq!(attr, "profile");
    }

    #[test]
    fn expands_the_home_directory() {
        assert_eq!(
            expand(DEFAULT_FILE, Some("/home/u")),
            PathBuf::from("/home/u/.hcloud/config.json")
        );
        assert_eq!(expand("/etc/x", Some("/home/u")), PathBuf::from("/etc/x"));
    }
}
