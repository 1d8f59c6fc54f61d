//! Durations as Terraform users write and read them: Go-style text such as
//! `90s`, `10m`, `1h30m`, `500ms` or `2.5h`. [`parse`] reads what a
//! `timeouts` block says (up to a week); [`format`] writes a duration back
//! the way Go's `time.Duration` prints it, for messages.

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

/// A duration the way Terraform users read them (Go's `time.Duration`):
/// `10m0s`, `1h30m0s`, `45s`, `1.5s`, `250ms`. Rounded (to seconds from 10 s
/// on, else to 100 ms) so that a timeout measured a few milliseconds after
/// it was set reads as it was configured.
pub fn format(d: Duration) -> String {
    let step: u128 = if d >= Duration::from_secs(10) {
        1000
    } else {
        100
    };
    let rounded = (d.as_millis() + step / 2) / step * step;
    let d = Duration::from_millis(u64::try_from(rounded).unwrap_or(u64::MAX));
    let total_ms = d.as_millis();
    if total_ms < 1000 {
        return format!("{total_ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let ms = d.subsec_millis();
    let sec_text = if ms == 0 {
        format!("{s}s")
    } else {
        let frac = format!("{ms:03}");
        format!("{s}.{}s", frac.trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{sec_text}")
    } else if m > 0 {
        format!("{m}m{sec_text}")
    } else {
        sec_text
    }
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

    #[test]
    fn formats_durations_like_go() {
        assert_eq!(format(Duration::from_secs(600)), "10m0s");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format(Duration::from_secs(45)), "45s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format(Duration::from_millis(250)), "300ms");
        assert_eq!(format(Duration::from_millis(599_996)), "10m0s");
        assert_eq!(format(Duration::from_millis(1_199)), "1.2s");
    }

    #[test]
    fn what_format_writes_parse_reads_back() {
        for d in [
            Duration::from_secs(600),
            Duration::from_secs(5400),
            Duration::from_millis(1500),
        ] {
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
