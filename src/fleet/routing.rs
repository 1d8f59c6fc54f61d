//! What a route change comes to (one record per phone, and a report naming
//! the phones that did not get the route), and route reads that list phones
//! per server instead of one detail call per phone. The changes themselves
//! go through the [coordinator](super::coordinator).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::phone_cache::PhoneListingCache;
use crate::cph::models::Phone;
use crate::cph::{self, Client};

/// Listings or detail calls in flight at once (the client's rate limiter still applies).
const CONCURRENT_BATCHES: usize = 4;
/// Above this many phones of unknown server, one paged listing of the whole
/// project is cheaper than one detail call per phone.
const DETAIL_CALLS_LIMIT: usize = 20;

/// What became of one phone in a route change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub phone_id: String,
    pub job_id: Option<String>,
    pub status: JobStatus,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Succeeded,
    Failed,
    Running,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Running => "running",
        }
    }
}

/// Why a wait ended before what it waited for did (every job of a route
/// change, a flavor order): the engine's own outcome, not an API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitEnded {
    /// Terraform asked the provider to stop.
    #[error("cancelled: Terraform asked the provider to stop")]
    Stopped,
    /// The deadline passed; the text says after how long and what was left.
    #[error("{0}")]
    TimedOut(String),
}

/// The outcome of routing a set of phones.
#[derive(Debug, Default)]
pub struct RouteOutcome {
    /// One record per phone asked for, sorted by phone id.
    pub jobs: Vec<JobRecord>,
    /// Server of each phone, as the jobs reported it.
    pub servers: BTreeMap<String, String>,
    /// Why the wait ended early (timeout, stop, API failure), if it did.
    pub wait_error: Option<WaitEnded>,
    /// The API refused the credentials or the account: this one error says
    /// everything about the phones that failed without a job.
    pub refused: Option<Refusal>,
}

/// Why the engine stopped sending for the rest of the process: no call
/// could succeed, so each phone is not failed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The API's answer, as told to the user.
    pub why: String,
    /// The account's state (arrears, frozen, not verified) refused it, not
    /// the credentials.
    pub account: bool,
}

impl RouteOutcome {
    pub fn succeeded(&self) -> BTreeSet<String> {
        self.jobs
            .iter()
            .filter(|j| j.status == JobStatus::Succeeded)
            .map(|j| j.phone_id.clone())
            .collect()
    }

    pub fn unsuccessful(&self) -> Vec<&JobRecord> {
        self.jobs
            .iter()
            .filter(|j| j.status != JobStatus::Succeeded)
            .collect()
    }

    /// A release to the default route is done for a phone that no longer
    /// exists: it has no route to return from.
    pub fn gone_counts_as_released(mut self) -> RouteOutcome {
        for j in &mut self.jobs {
            if is_gone(j) {
                j.status = JobStatus::Succeeded;
            }
        }
        self
    }

    /// A paragraph naming the phones that did not get the route; `then`
    /// says what becomes of them, and must be true where it is used.
    pub fn failure_report(&self, traffic_type: &str, then: &str) -> Option<String> {
        let bad = self.unsuccessful();
        if bad.is_empty() && self.wait_error.is_none() {
            return None;
        }
        let total = self.jobs.len();
        let mut text = format!(
            "{} of {total} {} did not get route {traffic_type:?}. {then}",
            bad.len(),
            if total == 1 { "phone" } else { "phones" },
        );
        let gone = bad.iter().filter(|j| is_gone(j)).count();
        if gone > 0 {
            text.push_str(&format!(
                "\nPhones among them that no longer exist: {gone}. Sending them again cannot \
                 succeed: remove them from `phone_ids` (a list from the `cph_phones` data source \
                 drops them by itself)."
            ));
        }
        if let Some(e) = &self.wait_error {
            text.push_str(&format!("\nWaiting for the jobs ended early: {e}"));
        }
        const SHOWN: usize = 20;
        for j in bad.iter().take(SHOWN) {
            let what = match (j.status, &j.error_code, &j.error_msg) {
                (JobStatus::Running, _, Some(m)) if j.job_id.is_none() => m.clone(),
                (JobStatus::Running, _, _) => "still running".to_string(),
                // A refused call's message already starts with its code.
                (_, Some(c), Some(m)) if m.starts_with(c.as_str()) => m.clone(),
                (_, Some(c), Some(m)) => format!("{c}: {m}"),
                (_, Some(c), None) => c.clone(),
                (_, None, Some(m)) => m.clone(),
                (_, None, None) => "failed".to_string(),
            };
            let job = j
                .job_id
                .as_deref()
                .map(|id| format!(" (job {id})"))
                .unwrap_or_default();
            text.push_str(&format!("\n  - phone {}{job}: {what}", j.phone_id));
        }
        if bad.len() > SHOWN {
            text.push_str(&format!("\n  ... and {} more", bad.len() - SHOWN));
        }
        Some(text)
    }
}

/// The phones found among `phone_ids`, with their current route and server.
/// Phones that no longer exist are absent. Lists each server in `servers`
/// (paged, shared through `cache`), then finds the rest by detail calls, or
/// by one listing of the whole project when many are left.
pub async fn read_phones(
    client: &Client,
    cache: &PhoneListingCache,
    phone_ids: &BTreeSet<String>,
    servers: &BTreeSet<String>,
) -> cph::Result<BTreeMap<String, Phone>> {
    let mut found: BTreeMap<String, Phone> = BTreeMap::new();
    let listings: Vec<cph::Result<Arc<Vec<Phone>>>> = stream::iter(servers.iter().cloned())
        .map(|server_id| async move { cache.phones(client, Some(&server_id)).await })
        .buffer_unordered(CONCURRENT_BATCHES)
        .collect()
        .await;
    for listing in listings {
        match listing {
            Ok(phones) => keep_wanted(&mut found, phone_ids, &phones),
            // A server that vanished takes its phones with it; others fail the read.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let missing: Vec<String> = phone_ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .cloned()
        .collect();
    if missing.len() > DETAIL_CALLS_LIMIT {
        keep_wanted(&mut found, phone_ids, &cache.phones(client, None).await?);
    } else {
        let details: Vec<cph::Result<Phone>> = stream::iter(missing)
            .map(|id| async move { client.show_phone(&id).await })
            .buffer_unordered(CONCURRENT_BATCHES)
            .collect()
            .await;
        for detail in details {
            match detail {
                Ok(phone) => {
                    found.insert(phone.phone_id.clone(), phone);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(found)
}

fn keep_wanted(found: &mut BTreeMap<String, Phone>, wanted: &BTreeSet<String>, phones: &[Phone]) {
    for p in phones {
        if wanted.contains(&p.phone_id) {
            found.insert(p.phone_id.clone(), p.clone());
        }
    }
}

/// Whether a job failed because its phone no longer exists.
fn is_gone(job: &JobRecord) -> bool {
    job.status == JobStatus::Failed
        && job
            .error_code
            .as_deref()
            .is_some_and(cph::error::is_not_found_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: JobStatus, code: Option<&str>) -> JobRecord {
        JobRecord {
            phone_id: id.into(),
            job_id: Some(format!("job-{id}")),
            status,
            error_code: code.map(str::to_string),
            error_msg: code.map(|_| "boom".to_string()),
        }
    }

    /// A phone that no longer exists and one whose job failed otherwise.
    fn gone_and_failed() -> RouteOutcome {
        RouteOutcome {
            jobs: vec![
                record("p1", JobStatus::Failed, Some("CPS.0005")),
                record("p2", JobStatus::Failed, Some("CPS.0233")),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn an_account_in_arrears_or_frozen_is_never_a_phone_gone() {
        for code in ["CPS.0006", "CPS.0007", "CPS.0008"] {
            assert!(
                !is_gone(&record("p1", JobStatus::Failed, Some(code))),
                "{code}"
            );
        }
        assert!(is_gone(&record("p1", JobStatus::Failed, Some("CPS.0005"))));
    }

    #[test]
    fn report_names_failed_phones_with_codes() {
        let outcome = RouteOutcome {
            jobs: vec![
                record("p1", JobStatus::Succeeded, None),
                record("p2", JobStatus::Failed, Some("CPS.0233")),
                record("p3", JobStatus::Running, None),
            ],
            ..Default::default()
        };
        let text = outcome.failure_report("routing", "Then.").unwrap();
        assert!(text.starts_with("2 of 3 phones"), "{text}");
        assert!(
            text.contains("phone p2 (job job-p2): CPS.0233: boom"),
            "{text}"
        );
        assert!(
            text.contains("phone p3 (job job-p3): still running"),
            "{text}"
        );
        assert_eq!(
            outcome.succeeded().into_iter().collect::<Vec<_>>(),
            vec!["p1".to_string()]
        );
    }

    #[test]
    fn report_says_that_phones_which_no_longer_exist_must_leave_the_config() {
        let text = gone_and_failed()
            .failure_report("routing", "Then.")
            .unwrap();
        assert!(
            text.contains("\nPhones among them that no longer exist: 1. Sending them again"),
            "{text}"
        );
        let none_gone = RouteOutcome {
            jobs: vec![record("p2", JobStatus::Failed, Some("CPS.0233"))],
            ..Default::default()
        };
        let text = none_gone.failure_report("routing", "Then.").unwrap();
        assert!(!text.contains("no longer exist"), "{text}");
    }

    #[test]
    fn report_does_not_repeat_the_code_of_a_refused_call() {
        let mut r = record("p1", JobStatus::Failed, Some("CPS.9999"));
        r.error_msg = Some("CPS.9999: Internal server error (HTTP 500, request ab12)".into());
        let outcome = RouteOutcome {
            jobs: vec![r],
            ..Default::default()
        };
        let text = outcome.failure_report("routing", "Then.").unwrap();
        assert!(
            text.contains("): CPS.9999: Internal server error (HTTP 500, request ab12)"),
            "{text}"
        );
        assert!(!text.contains("CPS.9999: CPS.9999"), "{text}");
    }

    #[test]
    fn a_phone_that_no_longer_exists_counts_as_released() {
        let outcome = gone_and_failed().gone_counts_as_released();
        assert_eq!(
            outcome.succeeded().into_iter().collect::<Vec<_>>(),
            vec!["p1".to_string()]
        );
        let text = outcome.failure_report("direct", "Then.").unwrap();
        assert!(
            text.starts_with("1 of 2 phones") && text.contains("Then."),
            "{text}"
        );
    }

    #[test]
    fn all_succeeded_reports_nothing() {
        let outcome = RouteOutcome {
            jobs: vec![record("p1", JobStatus::Succeeded, None)],
            ..Default::default()
        };
        assert!(outcome.failure_report("direct", "Then.").is_none());
    }
}
