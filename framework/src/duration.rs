//! Durations as Terraform users write them in `timeouts` blocks: Go-style
//! text such as `90s`, `10m`, `1h30m`, `500ms` or `2.5h`, up to a week.

use std::time::Duration;

/// Parses a Go-style duration: `90s`, `10m`, `1h30m`, `500ms`, `2.5h`.
pub fn parse(text: &str) -> Result<Duration, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1.5m").unwrap(), Duration::from_secs(90));
        for bad in ["", "10", "m", "10x", "1h-5m", "9999h"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
