//! Helpers the resources share (one home, so that no resource file imports
//! another's): id formats and import ids, deadlines from `timeouts` blocks,
//! API errors and fleet-engine findings turned into diagnostics, and the
//! routes a phone can have.

use std::time::{Duration, Instant};

use crate::cph;
use crate::fleet::flavor_check::{Finding, Severity};
use crate::fleet::phone_cache::CensusError;
use tf_framework::{AttributePath, Diagnostic, Diagnostics, Tf};

/// The routes a phone can have, with what each means.
pub const TRAFFIC_TYPES: &[(&str, &str)] = &[
    ("direct", "the default route"),
    ("routing", "routed to the encoding container"),
];

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

/// The server id of an import id of `type_name` (a resource imported by the
/// id of one cloud phone server), or `None` with an error in `diags`.
pub fn import_server_id<'a>(
    type_name: &str,
    id: &'a str,
    diags: &mut Diagnostics,
) -> Option<&'a str> {
    let id = id.trim();
    if cph_id().problem(id).is_none() {
        return Some(id);
    }
    diags.push(Diagnostic::error(
        "Invalid import id",
        format!("Import {type_name} by the id of one cloud phone server, e.g. `terraform import {type_name}.this a176d8625981453bbafbc0a321d8d6a1`; got {id:?}."),
    ));
    None
}

/// A server a resource could not read, at `server_id`: not found (an error
/// naming it), or the API's failure.
pub fn server_error(server_id: &str, e: &cph::Error) -> Diagnostic {
    let at = AttributePath::root("server_id");
    if !e.is_not_found() {
        return api_error_at("read the cloud phone server", e, at);
    }
    let detail = format!("Server {server_id:?} does not exist in this project: {e}");
    Diagnostic::error("Cloud phone server not found", detail).at(at)
}

/// The warning a read of a server that does not exist gives.
pub fn server_gone(server_id: &str, e: &cph::Error) -> Diagnostic {
    Diagnostic::warning(
        "Cloud phone server not found",
        format!(
            "Server {server_id:?} does not exist in this project ({e}). The data source answers as \
             for a server with no phones, so that what was built on it can still be planned and destroyed."
        ),
    )
    .at(AttributePath::root("server_id"))
}

/// A finding of the fleet engine (e.g. the flavor catalogue check) as a
/// diagnostic, at its attribute.
pub fn finding(f: Finding) -> Diagnostic {
    let d = match f.severity {
        Severity::Error => Diagnostic::error(f.summary, f.detail),
        Severity::Warning => Diagnostic::warning(f.summary, f.detail),
    };
    match f.attribute {
        Some(a) => d.at(AttributePath::root(a)),
        None => d,
    }
}

/// Ids listed per diagnostic, at most; the rest are counted.
pub const IDS_SHOWN: usize = 20;

/// `ids` joined with ", ": at most [`IDS_SHOWN`] of them, then "and N more".
pub fn list_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut text = ids[..ids.len().min(IDS_SHOWN)].join(", ");
    if ids.len() > IDS_SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - IDS_SHOWN));
    }
    text
}

/// "1 phone", "2 phones".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Refuses, at plan, ids of `attribute` that name no phone of the project
/// (or name a server), through the fleet engine's census of phones (one
/// paged listing per provider process per plan, see
/// [`PhoneListingCache::unknown_phones`](crate::fleet::phone_cache::PhoneListingCache::unknown_phones)).
/// Nothing is checked before the provider is configured; refused
/// credentials are one error (as an apply tells them), another failed
/// listing a warning (the apply will tell).
pub async fn check_phones_exist(
    shared: &super::Shared,
    ctx: &tf_framework::CallContext,
    ids: &std::collections::BTreeSet<String>,
    attribute: &str,
    diags: &mut Diagnostics,
) {
    let Ok(client) = shared.client(ctx) else {
        return;
    };
    match shared
        .fleet()
        .phone_listings()
        .unknown_phones(&client, ids)
        .await
    {
        Ok(unknown) => diags.extend(unknown_phones(&unknown, attribute)),
        // Told as an apply tells it: one error, nothing sent.
        Err(CensusError::Refused(why)) => diags.push(Diagnostic::error(
            "Credentials refused",
            format!("{why} Fix the credentials, then plan again."),
        )),
        Err(CensusError::Api(e)) => {
            let mut d = api_error("check that the phone ids exist", &e);
            d.severity = tf_framework::Severity::Warning;
            diags.push(d.at(AttributePath::root(attribute)));
        }
    }
}

/// The words of one kind of id that names no phone.
struct IdsNotPhones {
    summary: &'static str,
    /// The verb for one id and for several.
    verb: (&'static str, &'static str),
    what: &'static str,
    then: String,
}

impl IdsNotPhones {
    fn error(&self, ids: &[String], attribute: &str) -> Diagnostic {
        let verb = if ids.len() == 1 {
            self.verb.0
        } else {
            self.verb.1
        };
        Diagnostic::error(
            self.summary,
            format!(
                "{} in `{attribute}` {verb} {}: {}. {}",
                count(ids.len(), "id", "ids"),
                self.what,
                list_ids(ids.iter().map(String::as_str)),
                self.then,
            ),
        )
    }
}

/// The plan errors for ids that name no phone: servers given as phones,
/// and ids that name nothing in the project. The full lists go to the log.
pub fn unknown_phones(
    u: &crate::fleet::phone_cache::UnknownPhones,
    attribute: &str,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let path = AttributePath::root(attribute);
    let servers = IdsNotPhones {
        summary: "Server ids given as phone ids",
        verb: ("is the id", "are ids"),
        what: "of a cloud phone server, not of a phone",
        then: "List a server's phones with the cph_phones data source (server_id = ...).".into(),
    };
    let missing = IdsNotPhones {
        summary: "Cloud phones not found",
        verb: ("names", "name"),
        what: "no cloud phone of this project",
        then: format!(
            "Nothing was sent. Check the ids, and remove phones that no longer exist from \
             `{attribute}` (a list from the cph_phones data source drops them by itself)."
        ),
    };
    for (ids, words) in [(&u.servers, servers), (&u.missing, missing)] {
        if !ids.is_empty() {
            tracing::info!(?ids, "{} in {attribute}", words.summary);
            diags.push(words.error(ids, attribute).at(path.clone()));
        }
    }
    diags
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

    #[test]
    fn ids_that_name_no_phone_are_listed_twenty_at_most() {
        let u = crate::fleet::phone_cache::UnknownPhones {
            servers: vec!["s1".into()],
            missing: (0..25).map(|i| format!("p{i:02}")).collect(),
        };
        let d = unknown_phones(&u, "phone_ids");
        assert_eq!(d.0.len(), 2);
        assert!(
            d.0[0]
                .detail
                .starts_with("1 id in `phone_ids` is the id of a cloud phone server"),
            "{}",
            d.0[0].detail
        );
        let missing = &d.0[1].detail;
        assert!(
            missing.starts_with("25 ids in `phone_ids` name no cloud phone"),
            "{missing}"
        );
        assert!(
            missing.contains("p19 and 5 more.") && !missing.contains("p20"),
            "{missing}"
        );
        assert!(unknown_phones(&Default::default(), "phone_ids").is_empty());
    }
}
