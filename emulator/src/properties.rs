//! Phone properties: the rules of the `property` JSON string that
//! `batch-update-property`, `batch-restart` and `batch-reset` take per phone
//! (a JSON object of string values; the documented keys' value formats), and
//! of `custom_property`. Keys the reference does not list are accepted as
//! they are, as the service's list goes on past what is documented.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::errors::{ApiError, code};

/// What a phone shows in `property` at most (bytes of its JSON text).
pub const MAX_STORED_BYTES: usize = 2048;
/// `property` and `custom_property` of one phone together, in a request.
pub const MAX_REQUEST_BYTES: usize = 7800;

/// Properties by key, in key order.
pub type Properties = BTreeMap<String, String>;

/// The value format of a documented key.
enum Format {
    /// `0` or `1`.
    Flag,
    /// Download cap in kbit/s: 1 to 99,999,999, or -1 for none.
    Bandwidth,
    /// Digits only, 1 to N of them.
    Digits(usize),
    /// Any text of 1 to N characters.
    Text(usize),
    /// A language tag such as `en-US`, at most 64 characters.
    Locale,
    /// A two-letter country code.
    Country,
}

fn format_of(key: &str) -> Option<Format> {
    Some(match key {
        "com.cph.mainkeys"
        | "disable.status.bar"
        | "ro.permission.changed"
        | "ro.install.auto"
        | "ro.com.cph.non_root"
        | "ro.com.cph.notification_disable"
        | "com.cph.disable_fb_permission"
        | "ro.com.cph.toast_enable" => Format::Flag,
        "com.cph.bandwidth_limit" => Format::Bandwidth,
        "com.cph.cam_local_pic_path" => Format::Text(90),
        "persist.sys.locale" => Format::Locale,
        "sys.prop.writeimsi" => Format::Digits(15),
        "sys.prop.writephonenum" => Format::Digits(20),
        "sys.prop.writewifissid" => Format::Text(64),
        "gsm.sim.operator.iso-country" | "gsm.operator.iso-country" => Format::Country,
        _ => return None,
    })
}

fn value_ok(format: &Format, v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match format {
        Format::Flag => v == "0" || v == "1",
        Format::Bandwidth => {
            v == "-1"
                || (digits(v)
                    && v.parse::<u64>()
                        .is_ok_and(|n| (1..=99_999_999).contains(&n)))
        }
        Format::Digits(max) => digits(v) && v.len() <= *max,
        Format::Text(max) => !v.is_empty() && v.chars().count() <= *max,
        Format::Locale => v.len() <= 64 && locale_ok(v),
        Format::Country => v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()),
    }
}

/// `ll`, `ll-CC`, `ll-Script-CC`...: a 2 to 8 letter language, then
/// segments of 1 to 8 letters or digits.
fn locale_ok(v: &str) -> bool {
    let mut parts = v.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=8).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    lang_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn bad(phone_id: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        code::BAD_PROPERTY,
        format!("Parameter: property of phone {phone_id} is invalid: {why}"),
    )
}

/// Parse and check one phone's `property` string: a JSON object whose values
/// are strings, documented keys in their formats.
pub fn parse(phone_id: &str, text: &str) -> Result<Properties, ApiError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| bad(phone_id, format!("not JSON ({e})")))?;
    let Value::Object(map) = value else {
        return Err(bad(phone_id, "not a JSON object"));
    };
    let mut out = Properties::new();
    for (key, value) in map {
        let Value::String(value) = value else {
            return Err(bad(phone_id, format!("the value of {key} is not a string")));
        };
        if key.is_empty() {
            return Err(bad(phone_id, "a key is empty"));
        }
        if let Some(format) = format_of(&key)
            && !value_ok(&format, &value)
        {
            return Err(bad(phone_id, format!("{value:?} is not a valid {key}")));
        }
        out.insert(key, value);
    }
    Ok(out)
}

/// Check that `property` and `custom_property` together fit a request.
pub fn check_request_size(
    phone_id: &str,
    property: &str,
    custom: &Properties,
) -> Result<(), ApiError> {
    let custom_len = serde_json::to_string(custom).map_or(0, |s| s.len());
    if property.len() + custom_len > MAX_REQUEST_BYTES {
        return Err(bad(
            phone_id,
            format!("property and custom_property exceed {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The JSON text a phone shows in `property`.
pub fn to_text(props: &Properties) -> String {
    serde_json::to_string(props).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_formats() {
        let ok = |t: &str| parse("p", t).is_ok();
        assert!(ok(
            r#"{"com.cph.mainkeys":"1","persist.sys.locale":"en-US"}"#
        ));
        assert!(ok(r#"{"com.cph.bandwidth_limit":"-1"}"#));
        assert!(ok(r#"{"com.cph.bandwidth_limit":"99999999"}"#));
        assert!(!ok(r#"{"com.cph.bandwidth_limit":"0"}"#));
        assert!(!ok(r#"{"com.cph.bandwidth_limit":"100000000"}"#));
        assert!(!ok(r#"{"disable.status.bar":"2"}"#));
        assert!(!ok(r#"{"disable.status.bar":1}"#));
        assert!(ok(r#"{"sys.prop.writeimsi":"460021624617113"}"#));
        assert!(!ok(r#"{"sys.prop.writeimsi":"4600216246171130"}"#));
        assert!(!ok(r#"{"sys.prop.writephonenum":"+861"}"#));
        assert!(!ok(r#"{"persist.sys.locale":"en_US"}"#));
        assert!(ok(r#"{"gsm.operator.iso-country":"cn"}"#));
        assert!(!ok(r#"{"gsm.operator.iso-country":"chn"}"#));
        assert!(ok(r#"{"vendor.unlisted.key":"anything"}"#));
        assert!(!ok(r#"["a"]"#));
        assert!(!ok("not json"));
    }

    #[test]
    fn refusal_names_phone_key_and_code() {
        let e = parse("phone-x", r#"{"ro.install.auto":"yes"}"#).expect_err("refused");
        assert_eq!(e.code, code::BAD_PROPERTY);
        assert!(e.msg.contains("phone-x") && e.msg.contains("ro.install.auto"));
    }
}
