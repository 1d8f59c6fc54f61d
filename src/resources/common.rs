//! Helpers every resource shares: durations of `timeouts` blocks, plan-time
//! checks of string attributes, and API errors turned into diagnostics.

use std::time::{Duration, Instant};

use crate::cph;
use tf_framework::{AttributePath, Diagnostic, Diagnostics, Value};

/// Parses a Go-style duration: `90s`, `10m`, `1h30m`, `500ms`, `2.5h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "{text:?} is not a duration like \"30s\", \"10m\" or \"1h30m\""
            ));
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| {
            format!("{text:?} is not a duration like \"30s\", \"10m\" or \"1h30m\"")
        })?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("{text:?} lacks a unit (ms, s, m or h)")),
            u => {
                return Err(format!(
                    "{text:?} has an unknown unit {u:?} (use ms, s, m or h)"
                ));
            }
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    if !total.is_finite() || total > 7.0 * 24.0 * 3600.0 {
        return Err(format!("{text:?} is longer than a week"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Checks `timeouts.{name}` of a configuration for each name given.
pub fn validate_timeouts(config: &Value, names: &[&str], diags: &mut Diagnostics) {
    let Some(block) = config.get("timeouts") else {
        return;
    };
    for name in names {
        if let Some(Value::String(text)) = block.get(name)
            && let Err(e) = parse_duration(text)
        {
            diags.push(
                Diagnostic::error("Invalid timeout", e)
                    .at(AttributePath::root("timeouts").attr(name)),
            );
        }
    }
}

/// The deadline of an operation: `timeouts.{name}` of the planned state, or
/// `default` when unset (or, defensively, unparsable).
pub fn deadline(planned: &Value, name: &str, default: Duration) -> (Instant, Duration) {
    let d = planned
        .get("timeouts")
        .and_then(|t| t.get_str(name))
        .and_then(|t| parse_duration(t).ok())
        .unwrap_or(default);
    (Instant::now() + d, d)
}

/// A string attribute that must not be empty and must fit in `max_bytes`.
pub fn validate_name(config: &Value, attr: &str, max_bytes: usize, diags: &mut Diagnostics) {
    if let Some(Value::String(s)) = config.get(attr) {
        if s.trim().is_empty() {
            diags.push(
                Diagnostic::error(
                    format!("Empty {attr}"),
                    format!("`{attr}` must not be empty."),
                )
                .at(AttributePath::root(attr)),
            );
        } else if s.len() > max_bytes {
            diags.push(
                Diagnostic::error(
                    format!("{attr} too long"),
                    format!(
                        "`{attr}` may be at most {max_bytes} bytes; {:?} has {}.",
                        s,
                        s.len()
                    ),
                )
                .at(AttributePath::root(attr)),
            );
        }
    }
}

/// An API failure as a diagnostic: the summary says what was being done, the
/// detail carries the API's code, message and request id.
pub fn api_error(doing: &str, err: &cph::Error) -> Diagnostic {
    Diagnostic::error(format!("Failed to {doing}"), err.to_string())
}

/// The same, pointing at an attribute.
pub fn api_error_at(doing: &str, err: &cph::Error, path: AttributePath) -> Diagnostic {
    api_error(doing, err).at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        for bad in ["", "10", "m", "10x", "1h-5m", "9999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_checks_point_at_the_attribute() {
        let mut d = Diagnostics::new();
        let cfg = Value::object([
            ("a", Value::string("")),
            ("b", Value::string("x".repeat(65))),
            ("c", Value::Unknown),
        ]);
        validate_name(&cfg, "a", 64, &mut d);
        validate_name(&cfg, "b", 64, &mut d);
        validate_name(&cfg, "c", 64, &mut d);
        let paths: Vec<_> =
            d.0.iter()
                .map(|d| d.attribute.clone().unwrap().to_string())
                .collect();
        assert_eq!(paths, vec!["a", "b"]);
    }

    #[test]
    fn bad_timeouts_are_named() {
        let mut d = Diagnostics::new();
        let cfg = Value::object([(
            "timeouts",
            Value::object([("create", Value::string("soon")), ("update", Value::Null)]),
        )]);
        validate_timeouts(&cfg, &["create", "update"], &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "timeouts.create"
        );
    }
}
