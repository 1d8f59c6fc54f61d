//! Identifiers and timestamps: random 32-hex ids (request, job, token), the
//! deterministic ids of the default fleet, order and product ids, and the
//! time formats used on the wire.

use rand::Rng;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The seed documents' first server and phone ids.
pub const FIRST_SERVER_ID: &str = "a176d8625981453bbafbc0a321d8d6a1";
pub const FIRST_PHONE_ID: &str = "631056bfb66b4f4ea02ba25f04830cb4";

/// 32 random lowercase hex characters.
pub fn random_hex32() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// First 32 hex characters of sha256(`input`).
fn derived(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    hex::encode(&digest[..16])
}

/// Id of server `index` (0-based) of the generated fleet.
pub fn server_id(index: usize) -> String {
    if index == 0 {
        FIRST_SERVER_ID.to_string()
    } else {
        derived(&format!("cph-emulator/server/{index}"))
    }
}

/// Id of phone `phone` (0-based) of server `server` (0-based).
pub fn phone_id(server: usize, phone: usize) -> String {
    if server == 0 && phone == 0 {
        FIRST_PHONE_ID.to_string()
    } else {
        derived(&format!("cph-emulator/phone/{server}/{phone}"))
    }
}

/// An order id: `CS` + `yyMMddHHmm` + 5 random uppercase alphanumerics.
pub fn order_id(now: OffsetDateTime) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..5)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    format!(
        "CS{:02}{:02}{:02}{:02}{:02}{tail}",
        now.year() % 100,
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

/// An IAM-style token: `MII` + 64 random hex characters.
pub fn token() -> String {
    format!("MII{}{}", random_hex32(), random_hex32())
}

/// RFC 3339 UTC, second precision: `2024-08-09T10:00:00Z`.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// RFC 3339 UTC with milliseconds, as IAM writes `expires_at`.
pub fn fmt_time_millis(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
