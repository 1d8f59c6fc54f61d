//! Helpers every resource shares: deadlines from `timeouts` blocks and API
//! errors turned into diagnostics.

use std::time::{Duration, Instant};

use crate::cph;
use tf_framework::{AttributePath, Diagnostic, Tf};

/// The longest id or flavor name CPH takes.
pub const MAX_NAME_BYTES: usize = 64;

/// The deadline of an operation: its `timeouts` entry, or `default` when
/// unset (or, defensively, unparsable).
pub fn deadline(limit: &Tf<String>, default: Duration) -> (Instant, Duration) {
    let d = limit
        .as_str()
        .and_then(|t| tf_framework::duration::parse(t).ok())
        .unwrap_or(default);
    (Instant::now() + d, d)
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
    fn deadlines_fall_back_to_the_default() {
        let (_, d) = deadline(&Tf::Known("30s".into()), Duration::from_secs(5));
        assert_eq!(d, Duration::from_secs(30));
        let (_, d) = deadline(&Tf::Null, Duration::from_secs(5));
        assert_eq!(d, Duration::from_secs(5));
    }
}
