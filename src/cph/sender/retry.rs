//! The retry policy of the sender: when a failed request may be sent again,
//! and after how long.
//!
//! A request is repeated only when repeating it cannot do harm:
//! - the connection could not be made (nothing reached the server): always;
//! - 429 and 503 (the API did not process the request): always, after
//!   `Retry-After` when the answer has one;
//! - 502 and 504, and timeouts or resets after the request went out: only for
//!   requests that are safe to repeat (reads, and idempotent writes such as
//!   setting a phone route);
//! - 500: only for reads.
//!
//! Delays grow exponentially with full jitter (a random delay between zero and
//! `min(cap, base * 2^n)`), so that many clients do not retry in lock-step.

use std::time::{Duration, SystemTime};

/// What repeating a request could do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// A read (GET): always safe to repeat.
    Read,
    /// A write whose repetition has the same effect as one call
    /// (`phones-traffic` sets a route).
    IdempotentWrite,
    /// A write that must not happen twice (`change-server-model` places an
    /// order): repeated only when the request certainly was not processed.
    NonIdempotent,
}

/// First backoff step.
pub(crate) const BASE_DELAY: Duration = Duration::from_millis(250);
/// Longest backoff step.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(10);
/// A `Retry-After` longer than this is not waited for; the error is returned.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Whether an HTTP error status may be retried for a request of `safety`.
pub(crate) fn status_is_retryable(status: u16, safety: Safety) -> bool {
    match status {
        429 | 503 => true,
        502 | 504 => safety != Safety::NonIdempotent,
        500 => safety == Safety::Read,
        _ => false,
    }
}

/// Whether a failure without an HTTP answer may be retried. `connect` is true
/// when the connection itself failed (DNS, TCP connect, TLS handshake), so the
/// request was never sent.
pub(crate) fn transport_error_is_retryable(connect: bool, safety: Safety) -> bool {
    connect || safety != Safety::NonIdempotent
}

/// The full-jitter backoff before retry number `retry` (0 for the first).
pub(crate) fn backoff(retry: u32) -> Duration {
    let ceiling = BASE_DELAY
        .checked_mul(1u32 << retry.min(16))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=millis))
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1e9)));
        }
        return None;
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        use Safety::*;
        for s in [Read, IdempotentWrite, NonIdempotent] {
            assert!(status_is_retryable(429, s));
            assert!(status_is_retryable(503, s));
            assert!(!status_is_retryable(400, s));
            assert!(!status_is_retryable(404, s));
        }
        assert!(status_is_retryable(502, IdempotentWrite));
        assert!(!status_is_retryable(502, NonIdempotent));
        assert!(!status_is_retryable(504, NonIdempotent));
        assert!(status_is_retryable(500, Read));
        assert!(!status_is_retryable(500, IdempotentWrite));
        assert!(transport_error_is_retryable(true, NonIdempotent));
        assert!(!transport_error_is_retryable(false, NonIdempotent));
        assert!(transport_error_is_retryable(false, IdempotentWrite));
    }

    #[test]
    fn backoff_is_bounded() {
        for n in 0..40 {
            let d = backoff(n);
            assert!(d <= MAX_DELAY, "{n}: {d:?}");
            assert!(d <= BASE_DELAY * 2u32.pow(n.min(10)), "{n}: {d:?}");
        }
    }

    #[test]
    fn parses_retry_after() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
