//! Authentication as the API gateway does it: the `SDK-HMAC-SHA256` AK/SK
//! signature (canonical request exactly as `huaweicloudsdkcore`'s signer
//! builds it), the optional security token, and `X-Auth-Token` tokens.
//! Also a signer, so that tests can make correctly signed requests.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// How far `X-Sdk-Date` may be from the emulator's clock.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;

/// Python's `quote(s, safe='~')`: everything but `A-Za-z0-9_.-~` is encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

type HmacSha256 = Hmac<Sha256>;

/// The parts of a request that the signature covers.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded), without the query.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Canonical URI: each decoded path segment re-encoded, with a trailing `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = decode(path);
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Canonical query: decoded pairs sorted by key then value, re-encoded.
pub fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

fn hash_payload(req: &RequestParts<'_>) -> String {
    if req.body.is_empty() {
        return hex::encode(Sha256::digest(b""));
    }
    if let Some(h) = header_value(req.headers, "x-sdk-content-sha256") {
        return h;
    }
    hex::encode(Sha256::digest(req.body))
}

/// The canonical request for the given signed header names (lower case).
pub fn canonical_request(
    req: &RequestParts<'_>,
    signed_headers: &[String],
) -> Result<String, String> {
    let mut headers = String::new();
    for name in signed_headers {
        let value = header_value(req.headers, name)
            .ok_or_else(|| format!("signed header {name} is missing"))?;
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&value);
        headers.push('\n');
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        headers,
        signed_headers.join(";"),
        hash_payload(req)
    ))
}

pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn mac(secret_key: &str) -> Result<HmacSha256, String> {
    HmacSha256::new_from_slice(secret_key.as_bytes()).map_err(|e| e.to_string())
}

/// Sign a request: returns the `Authorization` header value. The request's
/// headers must already hold every header in `signed_headers` (with
/// `x-sdk-date` among them).
pub fn sign(
    req: &RequestParts<'_>,
    signed_headers: &[String],
    access_key: &str,
    secret_key: &str,
) -> Result<String, String> {
    let date = header_value(req.headers, "x-sdk-date").ok_or("x-sdk-date is missing")?;
    let sts = string_to_sign(&canonical_request(req, signed_headers)?, &date);
    let mut m = mac(secret_key)?;
    m.update(sts.as_bytes());
    Ok(format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        signed_headers.join(";"),
        hex::encode(m.finalize().into_bytes())
    ))
}

/// The three parts of an `Authorization: SDK-HMAC-SHA256 ...` header.
struct Authorization {
    access: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| format!("unsupported authorization algorithm, expected {ALGORITHM}"))?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k.trim() {
            "Access" => access = Some(v.trim().to_string()),
            "SignedHeaders" => signed = Some(v.trim().to_string()),
            "Signature" => signature = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let signed = signed.ok_or("SignedHeaders is missing")?;
    Ok(Authorization {
        access: access.ok_or("Access is missing")?,
        signed_headers: signed
            .split(';')
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect(),
        signature: signature.ok_or("Signature is missing")?,
    })
}

/// The access key an AK/SK-signed request names.
pub fn access_key_of(headers: &HeaderMap) -> Option<String> {
    parse_authorization(&header_value(headers, "authorization")?)
        .ok()
        .map(|a| a.access)
}

/// The value of header `name` when the request's AK/SK signature covers it
/// (it is among `SignedHeaders`); `None` when absent or unsigned.
pub fn signed_header(headers: &HeaderMap, name: &str) -> Option<String> {
    let auth = parse_authorization(&header_value(headers, "authorization")?).ok()?;
    auth.signed_headers
        .iter()
        .any(|h| h == name)
        .then(|| header_value(headers, name))
        .flatten()
}

/// Parse `YYYYMMDDTHHMMSSZ`.
pub fn parse_sdk_date(value: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, fmt)
        .ok()
        .map(|t| t.assume_utc())
}

/// Format `YYYYMMDDTHHMMSSZ`.
pub fn format_sdk_date(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(fmt).unwrap_or_default()
}

/// The AK/SK (and optional security token) the emulator accepts.
#[derive(Debug, Clone)]
pub struct AkSk {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
}

/// Verify an AK/SK-signed request. The error is the reason, for `error_msg`.
pub fn verify_signature(
    req: &RequestParts<'_>,
    creds: &AkSk,
    now: OffsetDateTime,
) -> Result<(), String> {
    let value = header_value(req.headers, "authorization").ok_or("Authorization is missing")?;
    let auth = parse_authorization(&value)?;
    if auth.access != creds.access_key {
        return Err("the access key does not exist".into());
    }
    let date = header_value(req.headers, "x-sdk-date").ok_or("X-Sdk-Date is missing")?;
    let t = parse_sdk_date(&date).ok_or("X-Sdk-Date is not in YYYYMMDDTHHMMSSZ format")?;
    if (now - t).whole_seconds().abs() > MAX_CLOCK_SKEW_SECONDS {
        return Err("X-Sdk-Date is more than 15 minutes away from the server time".into());
    }
    let token = header_value(req.headers, "x-security-token");
    match (&creds.security_token, token) {
        (Some(expected), Some(got)) if *expected == got => {}
        (Some(_), Some(_)) => return Err("the security token is invalid".into()),
        (Some(_), None) => return Err("the security token is missing".into()),
        (None, Some(_)) => return Err("the security token is invalid".into()),
        (None, None) => {}
    }
    let provided = hex::decode(&auth.signature).map_err(|_| "the signature is not hex")?;
    let sts = string_to_sign(&canonical_request(req, &auth.signed_headers)?, &date);
    let mut m = mac(&creds.secret_key)?;
    m.update(sts.as_bytes());
    m.verify_slice(&provided)
        .map_err(|_| "verify aksk signature fail".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn canonical_forms_match_the_python_signer() {
        assert_eq!(
            canonical_uri("/v1/p/cloud-phone/servers"),
            "/v1/p/cloud-phone/servers/"
        );
        assert_eq!(canonical_uri("/a%20b/c"), "/a%20b/c/");
        assert_eq!(
            canonical_query(Some("limit=10&offset=0&a=x%2Cy")),
            "a=x%2Cy&limit=10&offset=0"
        );
        assert_eq!(
            canonical_query(Some("request_ids=a,b")),
            "request_ids=a%2Cb"
        );
        assert_eq!(canonical_query(None), "");
    }

    #[test]
    fn sign_then_verify_round_trips_and_detects_tampering() {
        let now = OffsetDateTime::now_utc();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        headers.insert(
            "x-sdk-date",
            HeaderValue::from_str(&format_sdk_date(now)).expect("date header"),
        );
        let signed = vec!["host".to_string(), "x-sdk-date".to_string()];
        let creds = AkSk {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            security_token: None,
        };
        fn parts(headers: &HeaderMap) -> RequestParts<'_> {
            RequestParts {
                method: "POST",
                path: "/v1/p/x",
                query: Some("b=2&a=1"),
                headers,
                body: b"{}",
            }
        }
        let auth = sign(&parts(&headers), &signed, "AK", "SK").expect("sign");
        headers.insert("authorization", HeaderValue::from_str(&auth).expect("auth"));
        let ok = parts(&headers);
        assert_eq!(verify_signature(&ok, &creds, now), Ok(()));
        let tampered = RequestParts {
            body: b"{\"a\":1}",
            ..parts(&headers)
        };
        assert!(verify_signature(&tampered, &creds, now).is_err());
        let wrong_sk = AkSk {
            secret_key: "other".into(),
            ..creds.clone()
        };
        assert!(verify_signature(&ok, &wrong_sk, now).is_err());
        let late = now + time::Duration::minutes(16);
        assert!(verify_signature(&ok, &creds, late).is_err());
    }
}
