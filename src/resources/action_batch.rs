//! What the batch actions (`cph_phone_restart`, `cph_phone_reset`,
//! `cph_phone_stop`, `cph_server_restart`) share: running the operation
//! through the fleet engine's [`Operations`], progress messages as targets
//! finish ("37 of 250 phones restarted"), and the diagnostics at the end,
//! one per failed phone or server with the API's code, given only once every
//! other target has finished.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Shared;
use crate::fleet::operations::{AsyncProgress, Counts, OpKind, Operations, Outcome, Target};
use tf_framework::*;

/// The shared parts of every batch action.
#[derive(Clone)]
pub struct BatchRunner {
    pub shared: Arc<Shared>,
    pub operations: Arc<Operations>,
}

/// Progress messages to Terraform.
struct Report<'a> {
    progress: &'a Progress,
    kind: OpKind,
}

impl AsyncProgress for Report<'_> {
    async fn report(&mut self, c: &Counts) {
        self.progress.send(progress_message(self.kind, c)).await;
    }
}

/// "37 of 250 phones restarted" (", 1 failed" when some did).
pub fn progress_message(kind: OpKind, c: &Counts) -> String {
    let mut m = format!(
        "{} of {} {} {}",
        c.succeeded,
        c.total,
        kind.noun(),
        kind.done()
    );
    if c.failed > 0 {
        m.push_str(&format!(", {} failed", c.failed));
    }
    m
}

impl BatchRunner {
    /// Runs `kind` on `targets`, reporting progress, and turns the outcome
    /// into diagnostics at the ids' attribute.
    pub async fn run(
        &self,
        ctx: &CallContext,
        kind: OpKind,
        image_id: Option<String>,
        targets: Vec<Target>,
        progress: &Progress,
        diags: &mut Diagnostics,
    ) {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return;
        };
        let total = targets.len();
        progress
            .send(format!("{} {} to be {}", total, kind.noun(), kind.done()))
            .await;
        let report = Report { progress, kind };
        let outcome = self
            .operations
            .run(&client, kind, image_id, targets, &ctx.stop, report)
            .await;
        if kind != OpKind::RestartServers {
            self.shared.forget_phone_listings();
        }
        let attribute = match kind {
            OpKind::RestartServers => "server_ids",
            _ => "phone_ids",
        };
        diags.extend(outcome_diagnostics(kind, &outcome, attribute));
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
/// succeeded.
pub fn outcome_diagnostics(kind: OpKind, o: &Outcome, attribute: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let path = AttributePath::root(attribute);
    let noun = kind.noun();
    let one = noun.trim_end_matches('s');
    if !o.failed.is_empty() {
        let lines: Vec<String> = o
            .failed
            .iter()
            .map(|f| match &f.code {
                Some(code) => format!("- {} {}: {code}: {}", one, f.id, f.message),
                None => format!("- {} {}: {}", one, f.id, f.message),
            })
            .collect();
        let done = o.succeeded.len();
        diags.push(
            Diagnostic::error(
                format!("{} of {} {noun} not {}", o.failed.len(), done + o.failed.len() + o.unfinished.len() + o.not_sent.len(), kind.done()),
                format!(
                    "{done} {noun} {}; these failed:\n{}\nInvoke the action again for the failed ones once the cause is fixed.",
                    kind.done(),
                    lines.join("\n")
                ),
            )
            .at(path.clone()),
        );
    }
    if !o.unfinished.is_empty() || !o.not_sent.is_empty() {
        let mut detail = String::from("The action was interrupted.");
        if !o.unfinished.is_empty() {
            detail.push_str(&format!(
                " Still in progress (they may yet finish): {}.",
                o.unfinished.join(", ")
            ));
        }
        if !o.not_sent.is_empty() {
            detail.push_str(&format!(" Never sent: {}.", o.not_sent.join(", ")));
        }
        diags.push(
            Diagnostic::error(
                format!("Not every one of the {noun} was {}", kind.done()),
                detail,
            )
            .at(path),
        );
    }
    diags
}

/// The targets for a set of ids, with per-id properties where given.
pub fn targets(
    ids: &BTreeSet<String>,
    properties: Option<&std::collections::BTreeMap<String, String>>,
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
    properties: &Tf<std::collections::BTreeMap<String, String>>,
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
    use crate::fleet::operations::Failure;

    #[test]
    fn progress_counts_what_finished() {
        let c = Counts {
            total: 250,
            succeeded: 37,
            failed: 0,
        };
        assert_eq!(
            progress_message(OpKind::RestartPhones, &c),
            "37 of 250 phones restarted"
        );
        let c = Counts { failed: 1, ..c };
        assert_eq!(
            progress_message(OpKind::RestartServers, &c),
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
        let d = outcome_diagnostics(OpKind::RestartPhones, &o, "phone_ids");
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].summary, "1 of 3 phones not restarted");
        assert!(
            d.0[0].detail.contains("phone c: CPS.0005: boom"),
            "{}",
            d.0[0].detail
        );
        assert!(
            outcome_diagnostics(OpKind::RestartPhones, &Outcome::default(), "x")
                .0
                .is_empty()
        );
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
