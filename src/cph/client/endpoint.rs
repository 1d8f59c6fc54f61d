//! An endpoint of the client (CPH or BSS): a checked base URL that request
//! URLs are built on.

use crate::cph::error::{Error, Result};
use crate::cph::signer::canonical_query;

/// `scheme://host[:port][/path]`, checked.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `scheme://host[:port]`.
    origin: String,
    /// Path every call starts with (no trailing `/`), e.g.
    /// `/base/v1/{project_id}/cloud-phone`.
    prefix: String,
}

impl Endpoint {
    /// Parses the setting `name` (`endpoint`, `bss_endpoint`) whose value is
    /// `url`; `prefix` is appended to its path.
    pub(crate) fn parse(name: &str, url: &str, prefix: &str) -> Result<Endpoint> {
        let url = url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| Error::Config(format!("{name} {url:?} is not a URL: {e}")))?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(Error::Config(format!(
                "{name} {url:?} must start with https:// (or http:// for a local emulator)"
            )));
        }
        let Some(host) = parsed.host_str() else {
            return Err(Error::Config(format!("{name} {url:?} has no host")));
        };
        if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty()
        {
            return Err(Error::Config(format!(
                "{name} {url:?} must be scheme://host[:port][/path] only"
            )));
        }
        let origin = match parsed.port() {
            Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
            None => format!("{}://{host}", parsed.scheme()),
        };
        Ok(Endpoint {
            origin,
            prefix: format!("{}{prefix}", parsed.path().trim_end_matches('/')),
        })
    }

    /// The URL of `path` (segments already encoded) with the canonical
    /// query of `query`.
    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let query = canonical_query(query);
        if query.is_empty() {
            format!("{}{}{}", self.origin, self.prefix, path)
        } else {
            format!("{}{}{}?{}", self.origin, self.prefix, path, query)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_endpoints() {
        for bad in ["not a url", "ftp://x", "https://h?x=1", "https://u@h"] {
            assert!(
                matches!(Endpoint::parse("endpoint", bad, ""), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn builds_urls() {
        let e = Endpoint::parse("endpoint", "https://h:8443/base/", "/v1/p%201/cloud-phone")
            .expect("valid");
        assert_eq!(
            e.url("/servers", &[("limit", "2".into()), ("a b", "c".into())]),
            "https://h:8443/base/v1/p%201/cloud-phone/servers?a%20b=c&limit=2"
        );
        let bss = Endpoint::parse("bss_endpoint", "https://bss.example.com", "").expect("valid");
        assert_eq!(bss.url("/v2/x", &[]), "https://bss.example.com/v2/x");
    }
}
