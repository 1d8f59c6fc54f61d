//! Helpers every resource shares: deadlines from `timeouts` blocks and API
//! errors turned into diagnostics.

use std::time::{Duration, Instant};

use crate::cph;
use tf_framework::{AttributePath, Diagnostic, Tf};

/// The longest id or flavor name CPH takes.
pub const MAX_NAME_BYTES: usize = 64;

/// The characters of a CPH id: the API's ids are 32 lower-case hex digits
/// (`a176d8625981453bbafbc0a321d8d6a1`); this accepts lower-case letters,
/// digits, `-` and `_`, so that a pasted id with a space, an upper-case
/// letter or a separator is refused at plan rather than by the API.
fn id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

/// A server or phone id as CPH issues them (see [`id_char`]).
pub fn cph_id() -> tf_framework::declare::IdFormat {
    tf_framework::declare::id_format(
        1,
        MAX_NAME_BYTES,
        id_char,
        "lower-case letters, digits, `-` and `_`",
    )
}

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
    fn ids_are_checked_like_cph_issues_them() {
        let f = cph_id();
        assert!(f.problem("a176d8625981453bbafbc0a321d8d6a1").is_none());
        for bad in ["", "A176", "a b", "a,b", " a", &"a".repeat(65)] {
            assert!(f.problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn deadlines_fall_back_to_the_default() {
        let (_, d) = deadline(&Tf::Known("30s".into()), Duration::from_secs(5));
        assert_eq!(d, Duration::from_secs(30));
        let (_, d) = deadline(&Tf::Null, Duration::from_secs(5));
        assert_eq!(d, Duration::from_secs(5));
    }
}
