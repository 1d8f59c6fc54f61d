//! Import of `cph_phone_properties`: the id `<phone ids>/<keys>`, both
//! comma-separated (e.g. `p1,p2/persist.sys.locale,disable.status.bar`).
//! Every phone must show every key with one value; those values become
//! `properties`, and also `original_properties` (what a destroy puts back:
//! the values the phones had when Terraform began managing them).

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// The phones and keys of an import id, or why it is malformed.
fn parse(id: &str) -> Result<(BTreeSet<String>, BTreeSet<String>), Diagnostic> {
    let bad = || {
        Diagnostic::error(
            "Invalid import id",
            format!(
                "Import cph_phone_properties by its phone ids and keys, each list comma-separated, \
                 joined by `/`: e.g. `terraform import cph_phone_properties.this \
                 phone1,phone2/persist.sys.locale,disable.status.bar`; got {id:?}."
            ),
        )
    };
    let (phones, keys) = id.split_once('/').ok_or_else(bad)?;
    let phones: BTreeSet<String> = phones.split(',').map(|s| s.trim().to_string()).collect();
    let keys: BTreeSet<String> = keys.split(',').map(|s| s.trim().to_string()).collect();
    if phones.iter().any(|p| cph_id().problem(p).is_some()) || keys.iter().any(|k| k.is_empty()) {
        return Err(bad());
    }
    Ok((phones, keys))
}

/// The one value of each key on every phone, or why there is none.
fn common_values(
    found: &BTreeMap<String, crate::cph::models::PhoneProperties>,
    keys: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, Diagnostic> {
    let mut out = BTreeMap::new();
    for k in keys {
        let mut values: BTreeMap<Option<&String>, Vec<String>> = BTreeMap::new();
        for (p, props) in found {
            values.entry(props.get(k)).or_default().push(p.clone());
        }
        let single = values.len() == 1 && !values.contains_key(&None);
        if let (true, Some(Some(v))) = (single, values.keys().next()) {
            out.insert(k.clone(), (*v).clone());
            continue;
        }
        let groups: Vec<String> = values
            .iter()
            .map(|(v, ps)| match v {
                Some(v) => format!("{v:?} on {}", shown(ps)),
                None => format!("no value on {}", shown(ps)),
            })
            .collect();
        return Err(Diagnostic::error(
            format!("Property {k} differs between the phones"),
            format!(
                "A cph_phone_properties gives every phone the same value of each key; import each group of phones that share values separately. Found {}.",
                groups.join("; ")
            ),
        ));
    }
    Ok(out)
}

/// The import id of a set of phones and keys (sorted, so stable).
pub(super) fn import_form(phones: &BTreeSet<String>, keys: &BTreeSet<String>) -> String {
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(",");
    format!("{}/{}", join(phones), join(keys))
}

impl PhonePropertiesResource {
    pub(super) async fn import_id(
        &self,
        ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<PhonePropertiesModel> {
        let (phones, keys) = match parse(id) {
            Ok(x) => x,
            Err(d) => {
                diags.push(d);
                return Vec::new();
            }
        };
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Vec::new();
        };
        let found = match apply::read_for_import(&client, &phones).await {
            Ok(f) => f,
            Err(d) => {
                diags.push(d);
                return Vec::new();
            }
        };
        let properties = match common_values(&found, &keys) {
            Ok(p) => p,
            Err(d) => {
                diags.push(d);
                return Vec::new();
            }
        };
        vec![imported(phones, &keys, properties)]
    }
}

/// The state of `phones` that all hold `properties` (their values of
/// `keys`), as import and the list resource adopt them: those values are
/// also the originals a destroy puts back.
pub(super) fn imported(
    phones: BTreeSet<String>,
    keys: &BTreeSet<String>,
    properties: BTreeMap<String, String>,
) -> PhonePropertiesModel {
    let originals = phones
        .iter()
        .map(|p| (p.clone(), properties.clone()))
        .collect();
    PhonePropertiesModel {
        id: Tf::Known(import_form(&phones, keys)),
        phone_ids: Tf::Known(phones),
        properties: Tf::Known(properties),
        on_destroy: "restore".into(),
        apply_with_restart: Tf::Known(false),
        original_properties: Tf::Known(originals),
        failed: Tf::Known(BTreeMap::new()),
        timeouts: Tf::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_phones_and_keys() {
        let (p, k) = parse("b, a/x.y,w").expect("valid");
        assert_eq!(import_form(&p, &k), "a,b/w,x.y");
        for bad in ["a,b", "a/", "/k", "a b/k"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_must_have_one_value_on_every_phone() {
        let props = |v: Option<&str>| {
            v.map(|v| BTreeMap::from([("k".to_string(), v.to_string())]))
                .unwrap_or_default()
        };
        let keys = BTreeSet::from(["k".to_string()]);
        let same = BTreeMap::from([
            ("a".into(), props(Some("1"))),
            ("b".into(), props(Some("1"))),
        ]);
        assert_eq!(common_values(&same, &keys).expect("same")["k"], "1");
        let differ = BTreeMap::from([("a".into(), props(Some("1"))), ("b".into(), props(None))]);
        let e = common_values(&differ, &keys).expect_err("differs");
        assert!(e.detail.contains("no value on b"), "{}", e.detail);
    }
}
