//! What the batch actions (`cph_phone_restart`, `cph_phone_reset`,
//! `cph_phone_stop`, `cph_server_restart`, and any later one) share. A batch
//! action is one file: it implements [`BatchAction`] (its model, its call,
//! its words and its attribute) and is registered with [`batch_action`];
//! this module runs the call through the fleet engine's
//! [`Operations`](crate::fleet::operations::Operations), streams progress
//! as targets finish ("37 of 250 phones restarted"), and gives the
//! diagnostics at the end: failed targets with the API's code (a phone
//! still busy with an earlier job named with its status), and after a stop
//! the targets never sent and those whose jobs may still finish. Lists show
//! at most [`SHOWN`] ids, then "and N more"; the full lists go to the log.
//! Once Terraform has asked the provider to stop, no progress is sent, only
//! the completion (Terraform 1.15.5 crashes on a progress event after it
//! stopped reading).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::cph::Client;
use crate::fleet::operations::{AsyncProgress, BatchCall, Counts, Failure, Outcome, Target};
use tf_framework::action::action;
use tf_framework::*;

/// Ids listed per diagnostic, at most.
pub const SHOWN: usize = 20;
/// The API's code for a phone whose status does not allow the operation
/// (most often: a job started earlier still runs on it).
const BUSY: &str = "CPS.0010";

/// A batch action: one call on a set of ids, each id's job followed.
pub trait BatchAction: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;
    /// What it acts on, plural ("phones").
    const NOUN: &'static str;
    /// What a target is once done ("restarted").
    const DONE: &'static str;
    /// The attribute that holds the ids ("phone_ids").
    const ATTRIBUTE: &'static str;
    /// Whether the action changes phones (cached phone listings are
    /// dropped after it).
    const CHANGES_PHONES: bool = true;
    /// Whether each job's `execute_msg` is shown as progress.
    const SHOWS_JOB_MESSAGES: bool = false;

    /// The action's own static checks (values may be unknown).
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// The call to make for a configuration, and its targets.
    fn call(&self, config: &Self::Model) -> (Arc<dyn BatchCall>, Vec<Target>);
}

/// Serves a [`BatchAction`] through the provider's fleet engine.
pub fn batch_action<A: BatchAction>(a: A, shared: &Arc<Shared>) -> Arc<dyn Action> {
    action(Batch {
        action: a,
        shared: shared.clone(),
    })
}

struct Batch<A> {
    action: A,
    shared: Arc<Shared>,
}

/// What an action calls its targets.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    pub noun: &'static str,
    pub done: &'static str,
    pub attribute: &'static str,
}

impl Words {
    fn of<A: BatchAction>() -> Words {
        Words {
            noun: A::NOUN,
            done: A::DONE,
            attribute: A::ATTRIBUTE,
        }
    }

    /// "phone" for "phones".
    fn one(&self) -> &'static str {
        self.noun.trim_end_matches('s')
    }
}

#[async_trait]
impl<A: BatchAction> ActionType for Batch<A> {
    type Model = A::Model;
    const TYPE_NAME: &'static str = A::TYPE_NAME;
    const DESCRIPTION: &'static str = A::DESCRIPTION;

    fn validate(&self, config: &A::Model, diags: &mut Diagnostics) {
        self.action.validate(config, diags);
    }

    async fn invoke(
        &self,
        ctx: &CallContext,
        config: A::Model,
        progress: &Progress,
        diags: &mut Diagnostics,
    ) {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return;
        };
        let (call, targets) = self.action.call(&config);
        let words = Words::of::<A>();
        let report = Report {
            progress,
            words,
            stop: &ctx.stop,
            messages: A::SHOWS_JOB_MESSAGES,
        };
        report
            .say(format!(
                "{} {} to be {}",
                targets.len(),
                words.noun,
                words.done
            ))
            .await;
        let outcome = self
            .shared
            .fleet()
            .operations()
            .run_call(&client, call, targets, &ctx.stop, report)
            .await;
        if A::CHANGES_PHONES {
            self.shared.forget_phone_listings();
        }
        log_lists(A::TYPE_NAME, &outcome);
        let busy = if ctx.stop.is_cancelled() {
            BTreeMap::new()
        } else {
            self.busy_statuses(&client, &outcome).await
        };
        diags.extend(outcome_diagnostics(&words, &outcome, &busy));
    }
}

impl<A: BatchAction> Batch<A> {
    /// The status of each phone the API refused as busy (read once, through
    /// the shared phone listing); empty when the read fails.
    async fn busy_statuses(&self, client: &Client, o: &Outcome) -> BTreeMap<String, String> {
        let busy: BTreeSet<String> = o
            .failed
            .iter()
            .filter(|f| f.code.as_deref() == Some(BUSY))
            .map(|f| f.id.clone())
            .collect();
        if busy.is_empty() {
            return BTreeMap::new();
        }
        match self
            .shared
            .read_phones(client, &busy, &BTreeSet::new())
            .await
        {
            Ok(found) => found
                .into_iter()
                .map(|(id, p)| (id, phone_status(p.status).to_string()))
                .collect(),
            Err(e) => {
                tracing::warn!(target: "cph", error = %e, "reading the status of busy phones failed");
                BTreeMap::new()
            }
        }
    }
}

/// A phone's status as the API documents it.
fn phone_status(status: i32) -> &'static str {
    match status {
        1 => "creating",
        2 => "running",
        3 => "resetting",
        4 => "restarting",
        6 => "frozen",
        7 => "shutting down",
        8 => "shut down",
        -5 => "reset failed",
        -6 => "restart failed",
        -7 => "abnormal",
        -8 => "create failed",
        -9 => "shutdown failed",
        _ => "in an unknown status",
    }
}

/// Progress messages to Terraform, none once Terraform asked to stop.
struct Report<'a> {
    progress: &'a Progress,
    words: Words,
    stop: &'a CancellationToken,
    messages: bool,
}

impl Report<'_> {
    async fn say(&self, message: String) {
        if !self.stop.is_cancelled() {
            self.progress.send(message).await;
        }
    }
}

impl AsyncProgress for Report<'_> {
    async fn report(&mut self, c: &Counts) {
        self.say(progress_message(&self.words, c)).await;
    }

    async fn message(&mut self, id: &str, message: &str) {
        if self.messages {
            self.say(format!("{} {id}: {message}", self.words.one()))
                .await;
        }
    }
}

/// "37 of 250 phones restarted" (", 1 failed" when some did).
pub fn progress_message(words: &Words, c: &Counts) -> String {
    let mut m = format!(
        "{} of {} {} {}",
        c.succeeded, c.total, words.noun, words.done
    );
    if c.failed > 0 {
        m.push_str(&format!(", {} failed", c.failed));
    }
    m
}

/// At most [`SHOWN`] items, then "... and N more".
fn capped(items: &[String], separator: &str) -> String {
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(separator);
    if items.len() > SHOWN {
        let more = format!("and {} more", items.len() - SHOWN);
        if separator == "\n" {
            text.push_str(&format!("\n... {more}"));
        } else {
            text.push_str(&format!("{separator}{more}"));
        }
    }
    text
}

/// The full lists, in the log (the diagnostics show [`SHOWN`] of each).
fn log_lists(action: &str, o: &Outcome) {
    if !o.failed.is_empty() {
        let ids: Vec<&str> = o.failed.iter().map(|f| f.id.as_str()).collect();
        tracing::warn!(target: "cph", action, ids = %ids.join(","), "failed");
    }
    if !o.unfinished.is_empty() {
        tracing::warn!(target: "cph", action, ids = %o.unfinished.join(","), "still in progress when the action stopped");
    }
    if !o.not_sent.is_empty() {
        tracing::warn!(target: "cph", action, ids = %o.not_sent.join(","), "never sent");
    }
}

fn failure_line(w: &Words, f: &Failure, busy: &BTreeMap<String, String>) -> String {
    let one = w.one();
    match (&f.code, busy.get(&f.id)) {
        (Some(code), Some(status)) => format!(
            "- {one} {}: {code}: {status}: a job started earlier (by an interrupted invoke, for one) may still be running on it",
            f.id
        ),
        (Some(code), None) => format!("- {one} {}: {code}: {}", f.id, f.message),
        (None, _) => format!("- {one} {}: {}", f.id, f.message),
    }
}

/// The plan's check of an action's phone ids: ids that name no phone of
/// the project (or name a server) are a plan error, and nothing is sent.
/// Called once from the actions' shared plan; costs at most the census
/// shared by every plan of the process.
pub async fn check_phone_ids(
    shared: &Shared,
    ctx: &CallContext,
    ids: &Tf<BTreeSet<String>>,
    diags: &mut Diagnostics,
) {
    if let Some(ids) = ids.known() {
        super::common::check_phones_exist(shared, ctx, ids, "phone_ids", diags).await;
    }
}

/// Errors for failed, unfinished and unsent targets; nothing when all
/// succeeded. `busy` has the status of phones the API refused as busy.
pub fn outcome_diagnostics(w: &Words, o: &Outcome, busy: &BTreeMap<String, String>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let path = AttributePath::root(w.attribute);
    let (noun, done) = (w.noun, w.done);
    if !o.failed.is_empty() {
        let lines: Vec<String> = o.failed.iter().map(|f| failure_line(w, f, busy)).collect();
        let ok = o.succeeded.len();
        let total = ok + o.failed.len() + o.unfinished.len() + o.not_sent.len();
        let mut detail = format!(
            "{ok} {noun} {done}; these failed:\n{}\n",
            capped(&lines, "\n")
        );
        if !busy.is_empty() {
            detail.push_str(&format!(
                "{} of them are busy: invoke the action again for them once their status is back to running.\n",
                busy.len()
            ));
        }
        detail.push_str("Invoke the action again for the failed ones once the cause is fixed.");
        diags.push(
            Diagnostic::error(
                format!("{} of {total} {noun} not {done}", o.failed.len()),
                detail,
            )
            .at(path.clone()),
        );
    }
    if !o.unfinished.is_empty() {
        diags.push(
            Diagnostic::error(
                format!("{} {noun} may still be finishing", o.unfinished.len()),
                format!(
                    "The action was interrupted. Still in progress (they may yet finish): {}. \
                     Their jobs run on in the cloud; the full list is in the provider's log.",
                    capped(&o.unfinished, ", ")
                ),
            )
            .at(path.clone()),
        );
    }
    if !o.not_sent.is_empty() {
        diags.push(
            Diagnostic::error(
                format!("{} {noun} not {done}: never sent", o.not_sent.len()),
                format!(
                    "The action was interrupted. Never sent: {}. Invoke the action again for them.",
                    capped(&o.not_sent, ", ")
                ),
            )
            .at(path),
        );
    }
    diags
}

/// The targets for a set of ids, with per-id properties where given.
pub fn targets(
    ids: &BTreeSet<String>,
    properties: Option<&BTreeMap<String, String>>,
    factory_reset: Option<bool>,
) -> Vec<Target> {
    ids.iter()
        .map(|id| Target {
            id: id.clone(),
            property: properties.and_then(|p| p.get(id).cloned()),
            factory_reset,
        })
        .collect()
}

/// `properties` keys must be among `phone_ids`.
pub fn check_properties(
    ids: &Tf<BTreeSet<String>>,
    properties: &Tf<BTreeMap<String, String>>,
    diags: &mut Diagnostics,
) {
    let (Some(ids), Some(props)) = (ids.known(), properties.known()) else {
        return;
    };
    let stray: Vec<&str> = props
        .keys()
        .filter(|k| !ids.contains(*k))
        .map(String::as_str)
        .collect();
    if !stray.is_empty() {
        diags.push(
            Diagnostic::error(
                "Properties for phones not in phone_ids",
                format!(
                    "`properties` names phones that `phone_ids` does not: {}. Add them to phone_ids or remove their properties.",
                    stray.join(", ")
                ),
            )
            .at(AttributePath::root("properties")),
        );
    }
    for (id, p) in props {
        if !serde_json::from_str::<serde_json::Value>(p).is_ok_and(|v| v.is_object()) {
            diags.push(
                Diagnostic::error(
                    "Phone properties are not a JSON object",
                    format!("The properties of phone {id} must be a JSON object, such as jsonencode({{ \"com.cph.mainkeys_show\" = \"0\" }})."),
                )
                .at(AttributePath::root("properties").key(id)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONES: Words = Words {
        noun: "phones",
        done: "restarted",
        attribute: "phone_ids",
    };

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i:04}")).collect()
    }

    #[test]
    fn progress_counts_what_finished() {
        let c = Counts {
            total: 250,
            succeeded: 37,
            failed: 0,
        };
        assert_eq!(progress_message(&PHONES, &c), "37 of 250 phones restarted");
        let c = Counts { failed: 1, ..c };
        let servers = Words {
            noun: "servers",
            ..PHONES
        };
        assert_eq!(
            progress_message(&servers, &c),
            "37 of 250 servers restarted, 1 failed"
        );
    }

    #[test]
    fn each_failure_is_named_with_its_code() {
        let o = Outcome {
            succeeded: vec!["a".into(), "b".into()],
            failed: vec![Failure {
                id: "c".into(),
                code: Some("CPS.0005".into()),
                message: "boom".into(),
            }],
            ..Default::default()
        };
        let d = outcome_diagnostics(&PHONES, &o, &BTreeMap::new());
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].summary, "1 of 3 phones not restarted");
        assert!(
            d.0[0].detail.contains("phone c: CPS.0005: boom"),
            "{}",
            d.0[0].detail
        );
        let none = outcome_diagnostics(&PHONES, &Outcome::default(), &BTreeMap::new());
        assert!(none.0.is_empty());
    }

    #[test]
    fn a_busy_phone_is_named_with_its_status() {
        let o = Outcome {
            failed: vec![Failure {
                id: "c".into(),
                code: Some(BUSY.into()),
                message: "The phone status (4) does not allow this operation".into(),
            }],
            ..Default::default()
        };
        let busy = BTreeMap::from([("c".to_string(), phone_status(4).to_string())]);
        let d = outcome_diagnostics(&PHONES, &o, &busy);
        let detail = &d.0[0].detail;
        assert!(
            detail.contains("phone c: CPS.0010: restarting: a job started earlier"),
            "{detail}"
        );
        assert!(detail.contains("1 of them are busy"), "{detail}");
    }

    #[test]
    fn long_lists_are_cut_at_twenty_with_a_count_of_the_rest() {
        let failed: Vec<Failure> = ids(5000)
            .into_iter()
            .map(|id| Failure {
                id,
                code: Some("CPS.0006".into()),
                message: "no such phone".into(),
            })
            .collect();
        let o = Outcome {
            failed,
            unfinished: ids(30),
            not_sent: ids(21),
            ..Default::default()
        };
        let d = outcome_diagnostics(&PHONES, &o, &BTreeMap::new());
        assert_eq!(d.0.len(), 3);
        let failed = &d.0[0].detail;
        assert_eq!(
            failed.lines().filter(|l| l.starts_with("- phone")).count(),
            SHOWN
        );
        assert!(failed.contains("\n... and 4980 more\n"), "{failed}");
        assert!(
            d.0[1].detail.contains("p0019, and 10 more."),
            "{}",
            d.0[1].detail
        );
        assert!(d.0[1].detail.contains("Still in progress"));
        assert!(d.0[2].detail.contains("Never sent: p0000,"));
        assert!(d.0[2].detail.contains(", and 1 more."), "{}", d.0[2].detail);
    }

    #[test]
    fn properties_must_name_phones_of_the_set() {
        let ids = Tf::Known(["a".to_string()].into_iter().collect());
        let props = Tf::Known(
            [
                ("b".to_string(), "{}".to_string()),
                ("a".to_string(), "x".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        let mut d = Diagnostics::new();
        check_properties(&ids, &props, &mut d);
        assert_eq!(d.0.len(), 2);
    }
}
