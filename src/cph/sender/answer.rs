//! Reading what came back: error bodies into [`Error::Api`], the request id
//! of an answer, and a failure without an answer into words (never with its
//! URL, which would repeat the query string).

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::cph::error::Error;

/// The response header carrying the request id.
pub(crate) const HEADER_REQUEST_ID: &str = "X-Request-Id";

/// The request id of an answer: `X-Request-Id`, else the body's `request_id`.
pub(crate) fn request_id(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(id) = headers
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return Some(id.to_string());
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("request_id")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Turns an error answer into [`Error::Api`]. Understands
/// `{"error_code","error_msg"}`, `{"error":{"code","message"}}`,
/// `{"code","message"}` and bodies that are not JSON at all.
pub(crate) fn api_error(status: StatusCode, request_id: Option<String>, body: &[u8]) -> Error {
    let (code, message) = parse_error_body(body);
    let message = message.unwrap_or_else(|| message_from_text(status, body));
    Error::Api {
        status: status.as_u16(),
        code: code.unwrap_or_default(),
        message,
        request_id,
    }
}

/// The message of an answer without a readable error body: its text, or the
/// status' reason when it has none.
fn message_from_text(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no details")
            .to_string()
    } else {
        truncate(text, 300)
    }
}

fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let code = text(value.get("error_code"));
    let message = text(value.get("error_msg"));
    if code.is_some() || message.is_some() {
        return (code, message);
    }
    if let Some(inner) = value.get("error").filter(|v| v.is_object()) {
        let code = text(inner.get("code")).or_else(|| text(inner.get("error_code")));
        let message = text(inner.get("message"))
            .or_else(|| text(inner.get("error_msg")))
            .or_else(|| text(inner.get("title")));
        return (code, message);
    }
    (text(value.get("code")), text(value.get("message")))
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// The distinct causes of a reqwest error, outermost first.
fn causes(e: &reqwest::Error) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    causes
}

/// A failure without an answer as text: its kind and causes.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the connection failed"
    };
    let causes = causes(e);
    if causes.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}

/// Why a connection could not be made, in the words of the innermost cause
/// (`connection refused`, a DNS or a certificate error).
pub(crate) fn connect_cause(e: &reqwest::Error) -> String {
    causes(e)
        .pop()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "the connection failed".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn render(status: u16, rid: Option<&str>, body: &str) -> (String, String) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let e = api_error(status, rid.map(str::to_string), body.as_bytes());
        (e.code().unwrap_or("").to_string(), e.to_string())
    }

    #[test]
    fn parses_error_bodies() {
        let (code, text) = render(
            404,
            Some("1a2b"),
            r#"{"error_code":"CPS.0005","error_msg":"The server does not exist"}"#,
        );
        assert_eq!(code, "CPS.0005");
        assert_eq!(
            text,
            "CPS.0005: The server does not exist (HTTP 404, request 1a2b)"
        );

        let (code, text) = render(401, None, r#"{"error":{"code":401,"message":"bad token"}}"#);
        assert_eq!(code, "401");
        assert!(text.contains("bad token"), "{text}");

        let (code, text) = render(502, None, "<html>Bad Gateway</html>");
        assert_eq!(code, "");
        assert!(
            text.contains("<html>Bad Gateway</html>") && text.contains("502"),
            "{text}"
        );

        let (_, text) = render(503, None, "");
        assert!(text.contains("Service Unavailable"), "{text}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "x".repeat(1000);
        let (_, text) = render(500, None, &body);
        assert!(text.contains('…') && text.len() < 400, "{text}");
    }

    #[test]
    fn finds_request_id() {
        let mut h = HeaderMap::new();
        assert_eq!(
            request_id(&h, br#"{"request_id":"b1"}"#).as_deref(),
            Some("b1")
        );
        h.insert("x-request-id", HeaderValue::from_static("h1"));
        assert_eq!(
            request_id(&h, br#"{"request_id":"b1"}"#).as_deref(),
            Some("h1")
        );
        assert_eq!(request_id(&HeaderMap::new(), b"not json"), None);
    }
}
