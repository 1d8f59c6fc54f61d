//! Private state as JSON: a resource's private data between plan, apply and
//! read, with a version key for upgrades.

use super::PrivateState;

/// The key of the private state's version in its JSON object; absent
/// means version 0 (private state written before versions).
pub const PRIVATE_VERSION_KEY: &str = "$version";

/// Decodes private state of version 0 (no upgrades); no bytes is the
/// default, bytes that do not decode are an error.
pub fn decode_private<P: PrivateState>(bytes: &[u8]) -> Result<P, String> {
    decode_private_versioned(bytes, 0, |v, _| {
        Err(format!("no upgrade from private state version {v}"))
    })
}

/// Decodes private state written at any version up to `current`: no bytes
/// is the default; the version is read from [`PRIVATE_VERSION_KEY`] (none:
/// 0) and an older one goes through `upgrade` (its JSON without the key).
/// What cannot be read is an error, never a silent default: a lost field of
/// private state can be a lost pending order.
pub fn decode_private_versioned<P: PrivateState>(
    bytes: &[u8],
    current: i64,
    upgrade: impl FnOnce(i64, serde_json::Value) -> Result<P, String>,
) -> Result<P, String> {
    if bytes.is_empty() {
        return Ok(P::default());
    }
    let mut stored: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not JSON ({e})"))?;
    let version = match stored.as_object_mut() {
        Some(o) => match o.remove(PRIVATE_VERSION_KEY) {
            None => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| format!("its version is not a number: {v}"))?,
        },
        None => 0,
    };
    if version > current {
        return Err(format!(
            "it was written by a newer provider (private state version {version}, this provider knows up to {current}); upgrade the provider"
        ));
    }
    if version < current {
        return upgrade(version, stored);
    }
    serde_json::from_value(stored).map_err(|e| format!("{e} (private state version {version})"))
}

/// Encodes private state of version 0; the default, or an empty object, is
/// no bytes.
pub fn encode_private<P: PrivateState>(p: &P) -> Vec<u8> {
    encode_private_versioned(p, 0)
}

/// Encodes private state with its `version` (kept out of the bytes at
/// version 0, so that they read the same as before versions); the
/// default, or an empty object, is no bytes.
pub fn encode_private_versioned<P: PrivateState>(p: &P, version: i64) -> Vec<u8> {
    if version == 0 {
        return match serde_json::to_vec(p) {
            Ok(b) if b != b"{}" && b != b"null" => b,
            _ => Vec::new(),
        };
    }
    let mut json = match serde_json::to_value(p) {
        Ok(j) => j,
        Err(_) => return Vec::new(),
    };
    let empty = json.is_null() || json.as_object().is_some_and(|o| o.is_empty());
    if empty {
        return Vec::new();
    }
    if let Some(o) = json.as_object_mut() {
        o.insert(PRIVATE_VERSION_KEY.to_string(), version.into());
    }
    serde_json::to_vec(&json).unwrap_or_default()
}
