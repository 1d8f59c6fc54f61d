//! The phone property keys the CPH reference documents (appendix "property
//! list"), each with the format of its value, and the plan-time checks of a
//! `properties` map: a documented key's value in its format (an error at
//! `properties["key"]`), a key the reference does not list (a warning: the
//! service's list goes on past what is documented), and the size of a
//! phone's property JSON (at most [`MAX_PROPERTY_BYTES`]).

use std::collections::BTreeMap;

use crate::cph::models::properties_text;
use tf_framework::{AttributePath, Diagnostic, Diagnostics};

/// What show phone gives in `property` at most: the JSON text of a phone's
/// properties, in bytes.
pub const MAX_PROPERTY_BYTES: usize = 2048;

/// The format of a documented key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `0` or `1`.
    Flag,
    /// Download cap in kbit/s: 1 to 99,999,999, or -1 for none.
    Bandwidth,
    /// 1 to N digits.
    Digits(usize),
    /// 1 to N characters.
    Text(usize),
    /// A language tag such as `en-US`: 1 to 64 letters, digits and `-`.
    Locale,
    /// A two-letter country code.
    Country,
}

/// The documented keys, their formats and what they do (shown on the page).
const KEYS: &[(&str, Format, &str)] = &[
    (
        "com.cph.mainkeys",
        Format::Flag,
        "0 shows the navigation keys, 1 hides them",
    ),
    ("disable.status.bar", Format::Flag, "1 hides the status bar"),
    (
        "ro.permission.changed",
        Format::Flag,
        "1 grants every permission an installed app asks",
    ),
    ("ro.install.auto", Format::Flag, "1 confirms installs"),
    (
        "ro.com.cph.non_root",
        Format::Flag,
        "0 root allowed, 1 non-root (the default)",
    ),
    (
        "ro.com.cph.notification_disable",
        Format::Flag,
        "1 disables notifications",
    ),
    (
        "com.cph.disable_fb_permission",
        Format::Flag,
        "1 allows screenshots of screens an app protects",
    ),
    (
        "ro.com.cph.toast_enable",
        Format::Flag,
        "1 enables toasts on a non-root phone",
    ),
    (
        "com.cph.bandwidth_limit",
        Format::Bandwidth,
        "download cap in kbit/s",
    ),
    (
        "com.cph.cam_local_pic_path",
        Format::Text(90),
        "the camera's local picture path",
    ),
    (
        "persist.sys.locale",
        Format::Locale,
        "the language, e.g. en-US",
    ),
    ("sys.prop.writeimsi", Format::Digits(15), "the SIM's IMSI"),
    (
        "sys.prop.writephonenum",
        Format::Digits(20),
        "the phone number",
    ),
    ("sys.prop.writewifissid", Format::Text(64), "the Wi-Fi SSID"),
    (
        "gsm.sim.operator.iso-country",
        Format::Country,
        "the SIM operator's country code",
    ),
    (
        "gsm.operator.iso-country",
        Format::Country,
        "the network operator's country code",
    ),
];

fn format_of(key: &str) -> Option<Format> {
    KEYS.iter().find(|(k, _, _)| *k == key).map(|(_, f, _)| *f)
}

/// What a value of `format` must be, in words.
fn expected(format: Format) -> String {
    match format {
        Format::Flag => "\"0\" or \"1\"".into(),
        Format::Bandwidth => "a download cap in kbit/s from 1 to 99999999, or -1 for none".into(),
        Format::Digits(n) => format!("1 to {n} digits"),
        Format::Text(n) => format!("1 to {n} characters"),
        Format::Locale => "a language tag such as \"en-US\": 1 to 64 letters, digits and -".into(),
        Format::Country => "a two-letter country code such as \"CN\"".into(),
    }
}

fn value_ok(format: Format, v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match format {
        Format::Flag => v == "0" || v == "1",
        Format::Bandwidth => {
            v == "-1"
                || (digits(v)
                    && v.parse::<u64>()
                        .is_ok_and(|n| (1..=99_999_999).contains(&n)))
        }
        Format::Digits(max) => digits(v) && v.len() <= max,
        Format::Text(max) => !v.is_empty() && v.chars().count() <= max,
        Format::Locale => {
            (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
        Format::Country => v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()),
    }
}

fn at_key(key: &str) -> AttributePath {
    AttributePath::root("properties").key(key)
}

/// The checks of a configuration's known `properties` (see the module).
pub fn check(properties: &BTreeMap<String, String>, diags: &mut Diagnostics) {
    let mut unlisted = Vec::new();
    for (key, value) in properties {
        if key.trim().is_empty() {
            diags.push(
                Diagnostic::error("Empty property key", "A property key must not be empty.")
                    .at(at_key(key)),
            );
            continue;
        }
        match format_of(key) {
            Some(format) if !value_ok(format, value) => diags.push(
                Diagnostic::error(
                    format!("Invalid value of property {key}"),
                    format!("{key} takes {}; got {value:?}.", expected(format)),
                )
                .at(at_key(key)),
            ),
            Some(_) => {}
            None => unlisted.push(key.as_str()),
        }
    }
    for key in unlisted {
        diags.push(
            Diagnostic::warning(
                format!("Property {key} is not in the CPH reference"),
                format!(
                    "The property list of the CPH API reference does not name {key:?}, so its value \
                     is not checked at plan. It is sent as it is; the service refuses a key it does \
                     not know when the phones apply it. Documented keys: {}.",
                    KEYS.iter().map(|(k, _, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            )
            .at(at_key(key)),
        );
    }
    let bytes = properties_text(properties).len();
    if bytes > MAX_PROPERTY_BYTES {
        diags.push(
            Diagnostic::error(
                "Phone properties too long",
                format!(
                    "These properties are {bytes} bytes of JSON; a phone holds at most \
                     {MAX_PROPERTY_BYTES} bytes of properties (every key together, including keys \
                     other resources or the console set)."
                ),
            )
            .at(AttributePath::root("properties")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags_of(pairs: &[(&str, &str)]) -> Diagnostics {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut d = Diagnostics::new();
        check(&map, &mut d);
        d
    }

    #[test]
    fn documented_values_pass_and_bad_ones_name_their_key() {
        let ok = diags_of(&[
            ("persist.sys.locale", "en-US"),
            ("com.cph.bandwidth_limit", "-1"),
            ("disable.status.bar", "1"),
            ("sys.prop.writeimsi", "460001234567890"),
            ("gsm.operator.iso-country", "CN"),
        ]);
        assert!(ok.is_empty(), "{ok:?}");
        for (key, bad) in [
            ("disable.status.bar", "yes"),
            ("com.cph.bandwidth_limit", "0"),
            ("com.cph.bandwidth_limit", "100000000"),
            ("sys.prop.writeimsi", "1234567890123456"),
            ("sys.prop.writephonenum", "+861234"),
            ("persist.sys.locale", "en_US"),
            ("persist.sys.locale", ""),
            ("gsm.sim.operator.iso-country", "CHN"),
            ("sys.prop.writewifissid", ""),
        ] {
            let d = diags_of(&[(key, bad)]);
            assert!(d.has_errors(), "{key}={bad:?} passed");
            assert_eq!(d.0[0].attribute, Some(at_key(key)));
        }
    }

    #[test]
    fn an_unlisted_key_is_a_warning_and_size_is_bounded() {
        let d = diags_of(&[("vendor.custom.key", "x")]);
        assert!(!d.has_errors());
        assert_eq!(d.0.len(), 1);
        let long = "x".repeat(MAX_PROPERTY_BYTES);
        let d = diags_of(&[("vendor.custom.key", long.as_str())]);
        assert!(d.has_errors());
    }
}
