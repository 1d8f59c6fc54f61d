//! IAM look-ups, as the official SDK makes them when its credentials lack
//! an id: the project of a region (`GET {iam}/v3/projects?name={region}`,
//! `BasicCredentials` without a project id) and the account id
//! (`GET {iam}/v3/auth/domains`, `GlobalCredentials` without a domain id).
//! Both are signed with the bare credentials: no `X-Project-Id`, no
//! `X-Domain-Id`. The callers cache what they find (once per process).

use reqwest::Method;
use serde::Deserialize;

use crate::cph::error::{Error, Result};
use crate::cph::sender::retry::Safety;
use crate::cph::sender::{Authorize, CallScope, Request, Sender};
use crate::cph::signer::canonical_query;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named {
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Projects {
    projects: Vec<Named>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Domains {
    domains: Vec<Named>,
}

/// `{iam}{path}` where `iam` is `auth_url` with or without its `/v3`, and
/// `path` starts with `/v3`.
pub(crate) fn iam_url(iam_endpoint: &str, path: &str) -> String {
    let base = iam_endpoint.trim_end_matches('/');
    let base = base.strip_suffix("/v3").unwrap_or(base);
    format!("{base}{path}")
}

/// `e`, an IAM call's failure, as an [`Error::Iam`] naming `url` (its kind
/// kept); a stop or a configuration error as it is.
pub(crate) fn at_iam(url: &str, e: Error) -> Error {
    match e {
        Error::Api { .. } | Error::Transport { .. } | Error::Decode { .. } => Error::Iam {
            url: url.to_string(),
            cause: Box::new(e),
        },
        other => other,
    }
}

/// `GET url` with `auth`; the decoded answer, or an error naming IAM.
async fn get<T: serde::de::DeserializeOwned, A: Authorize>(
    sender: &Sender,
    auth: &A,
    op: &'static str,
    url: &str,
    scope: &CallScope,
) -> Result<T> {
    let request = Request::new(op, Method::GET, url, None, Safety::Read)?;
    let answer = sender
        .send(&request, scope, auth)
        .await
        .map_err(|e| at_iam(url, e))?;
    serde_json::from_slice(&answer.body).map_err(|e| Error::Decode {
        url: url.to_string(),
        message: format!("{op} answer is not the expected JSON: {e}"),
    })
}

/// The id of the project named `region`: exactly one must exist.
pub(crate) async fn project_id<A: Authorize>(
    sender: &Sender,
    auth: &A,
    iam_endpoint: &str,
    region: &str,
    scope: &CallScope,
) -> Result<String> {
    let query = canonical_query(&[("name", region)]);
    let url = iam_url(iam_endpoint, &format!("/v3/projects?{query}"));
    let answer: Projects = get(sender, auth, "iam_list_projects", &url, scope).await?;
    let ids: Vec<String> = answer
        .projects
        .into_iter()
        .map(|p| p.id)
        .filter(|id| !id.is_empty())
        .collect();
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::Config(format!(
            "IAM at {url} knows no project named {region:?} in this account"
        ))),
        several => Err(Error::Config(format!(
            "IAM at {url} lists several projects named {region:?} ({}): set `project_id` to one of them",
            several.join(", ")
        ))),
    }
}

/// The id of the account the credentials belong to (the first domain).
pub(crate) async fn domain_id<A: Authorize>(
    sender: &Sender,
    auth: &A,
    iam_endpoint: &str,
    scope: &CallScope,
) -> Result<String> {
    let url = iam_url(iam_endpoint, "/v3/auth/domains");
    let answer: Domains = get(sender, auth, "iam_list_domains", &url, scope).await?;
    answer
        .domains
        .into_iter()
        .map(|d| d.id)
        .find(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::Config(format!(
                "IAM at {url} lists no account (domain) for these credentials: set `domain_id`"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_urls_with_or_without_v3() {
        for base in [
            "https://iam.r.myhuaweicloud.com/v3",
            "https://iam.r.myhuaweicloud.com/v3/",
            "https://iam.r.myhuaweicloud.com",
        ] {
            assert_eq!(
                iam_url(base, "/v3/auth/domains"),
                "https://iam.r.myhuaweicloud.com/v3/auth/domains"
            );
        }
    }
}
