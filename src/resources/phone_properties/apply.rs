//! Create, update, destroy and refresh of `cph_phone_properties`: what to
//! read, write and restore (decided from the prior state and the plan, with
//! no call), then the calls, then the state that is true afterwards.

use std::collections::{BTreeMap, BTreeSet};

use super::calls::{self, Seen};
use super::*;
use crate::cph::Client;
use crate::cph::error::is_not_found_code;
use crate::cph::models::PhoneProperties as Values;
use crate::fleet::operations::Outcome;
use crate::resources::common::{api_error, deadline};

type Originals = BTreeMap<String, BTreeMap<String, String>>;

/// What a create or update does, decided before any call.
#[derive(Debug, Default, PartialEq)]
struct Decision {
    /// Phones to show first: some planned key's original is not known yet.
    to_read: BTreeSet<String>,
    /// Phones to send the planned properties.
    to_write: BTreeSet<String>,
    /// Keys leaving the resource, restored on the phones that stay.
    keys_leaving: BTreeSet<String>,
    /// Phones leaving the resource, restored.
    phones_leaving: BTreeSet<String>,
}

fn decide(prior: Option<&PhonePropertiesModel>, planned: &PhonePropertiesModel) -> Decision {
    let phones = planned.phones();
    let keys = planned.keys();
    let (prior_phones, prior_keys, prior_originals) = match prior {
        Some(p) => (p.phones(), p.keys(), p.originals()),
        None => Default::default(),
    };
    let known = |p: &String| prior_phones.contains(p) || prior_originals.contains_key(p);
    let keys_added = keys.iter().any(|k| !prior_keys.contains(k));
    let to_read = phones
        .iter()
        .filter(|p| keys_added || !known(p))
        .cloned()
        .collect();
    let rewrite_all = match prior {
        None => true,
        // A key leaving is restored on its own; a key added or changed goes to every phone.
        Some(p) => {
            let before = p.managed();
            p.via() != planned.via()
                || planned
                    .managed()
                    .iter()
                    .any(|(k, v)| before.get(k) != Some(v))
        }
    };
    let retry: BTreeSet<String> = match (prior, &planned.failed) {
        (Some(p), Tf::Unknown) => p.failed_phones(),
        _ => BTreeSet::new(),
    };
    let to_write = phones
        .iter()
        .filter(|p| rewrite_all || !prior_phones.contains(*p) || retry.contains(*p))
        .cloned()
        .collect();
    let restores = planned.restores();
    Decision {
        to_read,
        to_write,
        keys_leaving: match restores {
            true => prior_keys.difference(&keys).cloned().collect(),
            false => BTreeSet::new(),
        },
        phones_leaving: match restores {
            true => prior_phones.difference(&phones).cloned().collect(),
            false => BTreeSet::new(),
        },
    }
}

/// The originals of the planned phones and keys: the prior state's, then
/// what was just read for the rest. Every planned phone has an entry (empty
/// when none of its keys had a value), so it is never read again.
fn originals_of(
    prior: Option<&PhonePropertiesModel>,
    planned: &PhonePropertiesModel,
    seen: &BTreeMap<String, Seen>,
) -> Originals {
    let keys = planned.keys();
    let prior_originals = prior
        .map(PhonePropertiesModel::originals)
        .unwrap_or_default();
    let prior_keys = prior.map(PhonePropertiesModel::keys).unwrap_or_default();
    let mut out = Originals::new();
    for p in planned.phones() {
        let mut o: BTreeMap<String, String> = prior_originals
            .get(&p)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| keys.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(Seen::Properties(now)) = seen.get(&p) {
            let fresh = !prior_originals.contains_key(&p);
            for k in keys.iter().filter(|k| fresh || !prior_keys.contains(*k)) {
                if let Some(v) = now.get(k) {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        out.insert(p, o);
    }
    out
}

/// Whether a phone already shows every managed value.
fn already_set(seen: Option<&Seen>, managed: &BTreeMap<String, String>) -> bool {
    matches!(seen, Some(Seen::Properties(now)) if managed.iter().all(|(k, v)| now.get(k) == Some(v)))
}

fn failed_phone(code: Option<String>, message: impl Into<String>) -> FailedPhone {
    FailedPhone {
        error_code: Tf::from_option(code),
        error_msg: Tf::Known(message.into()),
    }
}

/// Phones of `outcome` that did not get their properties (failed, or never
/// sent); jobs still running count as done (a refresh checks them).
fn not_done(outcome: &Outcome) -> BTreeMap<String, FailedPhone> {
    let mut out = BTreeMap::new();
    for f in &outcome.failed {
        out.insert(
            f.id.clone(),
            failed_phone(f.code.clone(), f.message.clone()),
        );
    }
    for p in &outcome.not_sent {
        out.insert(
            p.clone(),
            failed_phone(None, "not sent: the apply was stopped or timed out first"),
        );
    }
    out
}

fn report(failed: &BTreeMap<String, FailedPhone>) -> String {
    let lines: Vec<String> = failed
        .iter()
        .take(20)
        .map(|(p, f)| {
            let code = f.error_code.as_str().unwrap_or("no code");
            format!(
                "- {p}: {} ({code})",
                f.error_msg.as_str().unwrap_or_default()
            )
        })
        .collect();
    let more = match failed.len() {
        n if n > 20 => format!("\n... and {} more (see `failed` in state)", n - 20),
        _ => String::new(),
    };
    format!("{}{more}", lines.join("\n"))
}

/// What to send each phone to write: the managed values (unless the phone
/// already shows them) on top of the keys being restored; phones that are
/// gone are failures instead.
fn writes_of(
    to_write: &BTreeSet<String>,
    seen: &BTreeMap<String, Seen>,
    managed: &BTreeMap<String, String>,
    mut writes: BTreeMap<String, Values>,
) -> (BTreeMap<String, Values>, BTreeMap<String, FailedPhone>) {
    let mut gone = BTreeMap::new();
    for p in to_write {
        match seen.get(p) {
            Some(Seen::Gone) => {
                gone.insert(p.clone(), failed_phone(None, "the phone does not exist"));
            }
            s if already_set(s, managed) && !writes.contains_key(p) => {}
            _ => writes.entry(p.clone()).or_default().extend(managed.clone()),
        }
    }
    (writes, gone)
}

/// The error naming phones that left the resource and could not be
/// restored (a phone that no longer exists needs nothing).
fn report_not_restored(restored: &Outcome, diags: &mut Diagnostics) {
    let not_restored: BTreeMap<String, FailedPhone> = not_done(restored)
        .into_iter()
        .filter(|(_, f)| !f.error_code.as_str().is_some_and(is_not_found_code))
        .collect();
    if !not_restored.is_empty() {
        diags.push(Diagnostic::error(
            "Some phones that left the resource could not get their original properties back",
            format!(
                "These phones are no longer managed by this resource and keep the values it set; no later apply retries them:\n{}",
                report(&not_restored)
            ),
        ));
    }
}

impl PhonePropertiesResource {
    /// The originals of `phones` for `keys` not claimed by another owner:
    /// what a restore sends (phones with nothing to send are left out).
    fn restore_writes(
        &self,
        owner: &str,
        originals: &Originals,
        phones: &BTreeSet<String>,
        keys: &BTreeSet<String>,
    ) -> BTreeMap<String, Values> {
        let mut out = BTreeMap::new();
        for p in phones {
            let back: Values = originals
                .get(p)
                .into_iter()
                .flatten()
                .filter(|(k, _)| {
                    keys.contains(*k) && !self.claims.claimed_by_other(owner, &slot(p, k))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !back.is_empty() {
                out.insert(p.clone(), back);
            }
        }
        out
    }

    pub(super) async fn change(
        &self,
        ctx: &CallContext,
        change: Change<PhonePropertiesModel, PhonePropertiesPrivate>,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(change.prior, change.private);
        };
        let Change {
            prior,
            planned,
            mut private,
            ..
        } = change;
        private.owner = owner_of(&private);
        let owner = private.owner.clone();
        let limit = planned.timeout(if prior.is_none() {
            |t| &t.create
        } else {
            |t| &t.update
        });
        let (deadline, _) = deadline(&limit, DEFAULT_TIMEOUT);
        let (phones, keys) = (planned.phones(), planned.keys());
        let id = match prior.as_ref().and_then(|p| p.id.as_str()) {
            Some(id) => id.to_string(),
            None => properties_id(&phones, &keys),
        };
        self.claims
            .register(&owner, Some(&id), &slots(&phones, &keys), None);
        let d = decide(prior.as_ref(), &planned);
        let seen = match calls::read(&client, &d.to_read).await {
            Ok(seen) => seen,
            Err(e) => {
                diags.push(read_error(
                    "read the phones' properties before changing them",
                    &e,
                ));
                return Applied::new(prior, private);
            }
        };
        let originals = originals_of(prior.as_ref(), &planned, &seen);
        let prior_originals = prior
            .as_ref()
            .map(PhonePropertiesModel::originals)
            .unwrap_or_default();
        let restored_keys = self.restore_writes(&owner, &prior_originals, &phones, &d.keys_leaving);
        let (writes, gone) = writes_of(&d.to_write, &seen, &planned.managed(), restored_keys);
        let prior_keys = prior
            .as_ref()
            .map(PhonePropertiesModel::keys)
            .unwrap_or_default();
        let leaving = self.restore_writes(&owner, &prior_originals, &d.phones_leaving, &prior_keys);
        let fleet = self.shared.fleet();
        let via = planned.via();
        let (written, restored) = tokio::join!(
            calls::write(fleet, &client, via, &keys, &writes, deadline, &ctx.stop),
            calls::write(
                fleet,
                &client,
                via,
                &prior_keys,
                &leaving,
                deadline,
                &ctx.stop
            ),
        );
        let mut failed = not_done(&written);
        failed.extend(gone);
        report_not_restored(&restored, diags);
        self.settle(
            prior.is_none(),
            planned,
            id,
            originals,
            failed,
            private,
            diags,
        )
    }

    /// The state after a create or update whose writes left `failed`.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        creating: bool,
        planned: PhonePropertiesModel,
        id: String,
        originals: Originals,
        failed: BTreeMap<String, FailedPhone>,
        private: PhonePropertiesPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        let phones = planned.phones();
        let mut state = planned;
        state.id = Tf::Known(id);
        if !state.original_properties.is_known() {
            state.original_properties = Tf::Known(originals);
        }
        if !state.failed.is_known() {
            state.failed = Tf::Known(failed.clone());
        }
        if failed.is_empty() {
            return Applied::new(Some(state), private);
        }
        let detail = report(&failed);
        if creating && failed.len() == phones.len() {
            self.claims.forget(&private.owner);
            diags.push(
                Diagnostic::error("No phone got its properties", detail)
                    .at(AttributePath::root("phone_ids")),
            );
            return Applied::new(None, PhonePropertiesPrivate::default());
        }
        if creating {
            diags.push(Diagnostic::warning(
                "Some phones did not get their properties",
                format!(
                    "{detail}\nThis is a warning, not an error, so that Terraform does not taint the new resource (its replacement would restore and set every healthy phone again). They are recorded in `failed`: the next plan shows an update that sends only them again."
                ),
            ).at(AttributePath::root("phone_ids")));
            return Applied::new(Some(state), private);
        }
        state.phone_ids = Tf::Known(
            phones
                .into_iter()
                .filter(|p| !failed.contains_key(p))
                .collect(),
        );
        diags.push(
            Diagnostic::error(
                "Some phones did not get their properties",
                format!("{detail}\nThey are left out of `phone_ids` in state, so the next plan shows them to add again."),
            )
            .at(AttributePath::root("phone_ids")),
        );
        Applied::new(Some(state), private)
    }

    /// Puts back the originals (unless `on_destroy = "keep"`); phones that
    /// could not be restored stay in state for a second destroy.
    pub(super) async fn destroy(
        &self,
        ctx: &CallContext,
        state: PhonePropertiesModel,
        private: PhonePropertiesPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        let owner = owner_of(&private);
        let originals = state.originals();
        let writes = match state.restores() {
            true => self.restore_writes(&owner, &originals, &state.phones(), &state.keys()),
            false => BTreeMap::new(),
        };
        if writes.is_empty() {
            self.claims.forget(&owner);
            return Applied::new(None, PhonePropertiesPrivate::default());
        }
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let (deadline, _) = deadline(&state.timeout(|t| &t.delete), DEFAULT_TIMEOUT);
        let fleet = self.shared.fleet();
        let restored = calls::write(
            fleet,
            &client,
            state.via(),
            &state.keys(),
            &writes,
            deadline,
            &ctx.stop,
        )
        .await;
        let mut left = not_done(&restored);
        left.retain(|_, f| !f.error_code.as_str().is_some_and(is_not_found_code));
        for p in &restored.unfinished {
            left.insert(
                p.clone(),
                failed_phone(None, "its job had not ended when the destroy was stopped"),
            );
        }
        if left.is_empty() {
            self.claims.forget(&owner);
            return Applied::new(None, PhonePropertiesPrivate::default());
        }
        diags.push(Diagnostic::error(
            "Some phones could not get their original properties back",
            format!(
                "{}\nThese phones stay in state, so running the destroy again retries them.",
                report(&left)
            ),
        ));
        let mut state = state;
        state.phone_ids = Tf::Known(left.keys().cloned().collect());
        state.failed = Tf::Known(left);
        Applied::new(Some(state), private)
    }

    /// Shows each phone; a phone whose managed keys differ (or that is gone)
    /// leaves `phone_ids`, so that the next plan puts it back.
    pub(super) async fn refresh(
        &self,
        ctx: &CallContext,
        mut state: PhonePropertiesModel,
        private: PhonePropertiesPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let phones = state.phones();
        let seen = match calls::read(&client, &phones).await {
            Ok(seen) => seen,
            Err(e) => {
                diags.push(read_error("read the phones' properties", &e));
                return Applied::new(Some(state), private);
            }
        };
        let managed = state.managed();
        let holding: BTreeSet<String> = phones
            .iter()
            .filter(|p| already_set(seen.get(*p), &managed))
            .cloned()
            .collect();
        if holding.len() != phones.len() {
            tracing::info!(
                expected = phones.len(),
                holding = holding.len(),
                "phones whose managed properties changed outside Terraform; the next plan sets them again"
            );
        }
        state.phone_ids = Tf::Known(holding);
        Applied::new(Some(state), private)
    }
}

fn read_error(doing: &str, e: &calls::ReadError) -> Diagnostic {
    match e.api() {
        Some(api) => api_error(doing, api),
        None => Diagnostic::error(format!("Cannot {doing}"), e.to_string()),
    }
}

/// Reads phones for an import: their properties, or an error naming those
/// that do not exist.
pub(super) async fn read_for_import(
    client: &Client,
    phones: &BTreeSet<String>,
) -> Result<BTreeMap<String, Values>, Diagnostic> {
    let seen = calls::read(client, phones)
        .await
        .map_err(|e| read_error("read the cloud phones", &e))?;
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for (p, s) in seen {
        match s {
            Seen::Properties(props) => {
                out.insert(p, props);
            }
            Seen::Gone => missing.push(p),
        }
    }
    if !missing.is_empty() {
        return Err(Diagnostic::error(
            "Cloud phones not found",
            format!(
                "These phones do not exist in this project: {}",
                shown(&missing)
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(phones: &[&str], props: &[(&str, &str)]) -> PhonePropertiesModel {
        PhonePropertiesModel {
            phone_ids: Tf::Known(phones.iter().map(|p| p.to_string()).collect()),
            properties: Tf::Known(
                props
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            on_destroy: "restore".into(),
            apply_with_restart: Tf::Known(false),
            ..Default::default()
        }
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_create_reads_and_writes_every_phone() {
        let d = decide(None, &model(&["a", "b"], &[("k", "1")]));
        assert_eq!(d.to_read, set(&["a", "b"]));
        assert_eq!(d.to_write, set(&["a", "b"]));
        assert!(d.keys_leaving.is_empty() && d.phones_leaving.is_empty());
    }

    #[test]
    fn an_update_touches_only_what_changed() {
        let mut prior = model(&["a", "b"], &[("k", "1"), ("old", "x")]);
        prior.original_properties = Tf::Known(BTreeMap::from([
            ("a".to_string(), BTreeMap::new()),
            ("b".to_string(), BTreeMap::new()),
        ]));
        let mut planned = model(&["b", "c"], &[("k", "1")]);
        planned.failed = Tf::Known(BTreeMap::new());
        let d = decide(Some(&prior), &planned);
        assert_eq!(d.to_read, set(&["c"]));
        assert_eq!(d.to_write, set(&["c"]));
        assert_eq!(d.keys_leaving, set(&["old"]));
        assert_eq!(d.phones_leaving, set(&["a"]));
        planned.on_destroy = "keep".into();
        let d = decide(Some(&prior), &planned);
        assert!(d.keys_leaving.is_empty() && d.phones_leaving.is_empty());
    }

    #[test]
    fn failed_phones_are_retried_when_the_plan_says_so() {
        let mut prior = model(&["a", "b"], &[("k", "1")]);
        prior.failed = Tf::Known(BTreeMap::from([("b".to_string(), failed_phone(None, "x"))]));
        let mut planned = model(&["a", "b"], &[("k", "1")]);
        planned.failed = Tf::Unknown;
        assert_eq!(decide(Some(&prior), &planned).to_write, set(&["b"]));
    }

    #[test]
    fn originals_keep_the_first_values_and_add_new_keys() {
        let mut prior = model(&["a"], &[("k", "1")]);
        prior.original_properties = Tf::Known(BTreeMap::from([(
            "a".to_string(),
            BTreeMap::from([("k".to_string(), "0".to_string())]),
        )]));
        let planned = model(&["a"], &[("k", "1"), ("n", "2")]);
        let now = Values::from([
            ("k".to_string(), "9".to_string()),
            ("n".to_string(), "7".to_string()),
        ]);
        let seen = BTreeMap::from([("a".to_string(), Seen::Properties(now))]);
        let o = originals_of(Some(&prior), &planned, &seen);
        assert_eq!(o["a"]["k"], "0");
        assert_eq!(o["a"]["n"], "7");
    }
}
