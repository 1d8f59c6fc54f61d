//! Adopting an existing fleet with Terraform 1.15: resource identity
//! (`import { identity = { ... } }`) and list resources (`terraform query
//! -generate-config-out`), against the emulator.
//!
//! Terraform 1.15 is `TF_ACC_TERRAFORM_1_15_PATH`, else the project's
//! `.tools/bin/terraform-1.15`. Like every acceptance test these run with
//! `TF_ACC=1`, and then a missing Terraform 1.15 is a failure.

mod emu;
mod support;

use std::collections::BTreeSet;

use emu::Emulator;
use support::{TfBin, TfWorkdir};

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut wd = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        wd.set_env(&k, &v);
    }
    wd
}

/// The `Plan: …` line of a plan's output.
fn plan_line(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with("Plan:"))
        .unwrap_or_else(|| panic!("no Plan: line in\n{out}"))
        .to_string()
}

/// Calls that may change something: every POST/PUT/DELETE to the emulator.
fn writes(emu: &Emulator) -> u64 {
    let calls = emu.calls();
    [
        "change_server_model",
        "phones_traffic",
        "bss_pay_order",
        "bss_cancel_order",
    ]
    .iter()
    .map(|k| calls.get(*k).copied().unwrap_or(0))
    .sum()
}

#[test]
fn import_by_identity_plans_exactly_one_import() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let (server_model, phone_model) = emu::FLAVOR;
    let wd = workdir(
        &tf,
        &emu,
        &format!(
            r#"
provider "cph" {{}}

import {{
  to       = cph_server_flavor.this
  identity = {{ server_id = "{server}" }}
}}

resource "cph_server_flavor" "this" {{
  server_id         = "{server}"
  server_model_name = "{server_model}"
  phone_model_name  = "{phone_model}"
}}
"#,
            server = emu::SERVER_ID
        ),
    );
    let plan = wd.run_ok(&["plan", "-no-color", "-out=tfplan"]);
    assert_eq!(
        plan_line(&plan.stdout),
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.",
        "{}",
        plan.stdout
    );
    emu.reset_calls();
    wd.run_ok(&["apply", "-no-color", "tfplan"]);
    assert_eq!(writes(&emu), 0, "an import sends no write call");
    let state = wd.state_json();
    let r = &state["values"]["root_module"]["resources"][0];
    assert_eq!(r["identity"]["server_id"], emu::SERVER_ID);
    let again = wd.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", again.stdout);
}

#[test]
fn a_created_route_keeps_its_identity_as_its_phones_change() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(emu::SERVER_ID);
    let config = |ids: &[String]| {
        format!(
            r#"
terraform {{
  required_providers {{
    cph = {{ source = "cloudphone/cph" }}
  }}
}}

provider "cph" {{}}

resource "cph_phone_route" "this" {{
  phone_ids    = {ids:?}
  traffic_type = "routing"
}}
"#
        )
    };
    let wd = workdir(&tf, &emu, &config(&phones[..1]));
    let created = wd.run_ok(&["apply", "-auto-approve", "-no-color"]);
    // The plan of a create renders whole: its identity is learned at apply.
    let shown = format!("{}{}", created.stdout, created.stderr);
    assert!(!shown.contains("Failed to marshal"), "{shown}");
    let identity = |wd: &TfWorkdir| {
        wd.state_json()["values"]["root_module"]["resources"][0]["identity"].clone()
    };
    let before = identity(&wd);
    assert!(
        before["id"]
            .as_str()
            .is_some_and(|s| s.starts_with("route-"))
    );
    wd.write("main.tf", &config(&phones[..2]));
    wd.run_ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(identity(&wd), before);
}

#[test]
fn query_generates_config_that_adopts_a_whole_fleet() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "15"]);
    let servers = emu.server_ids();
    assert_eq!(servers.len(), 3);
    let mut all_phones = BTreeSet::new();
    for s in &servers {
        let ids = emu.phone_ids_of(s);
        assert_eq!(ids.len(), 15);
        all_phones.extend(ids);
    }
    // Some phones are routed: every third phone of the first two servers.
    for s in &servers[..2] {
        for p in emu.phone_ids_of(s).iter().step_by(3) {
            emu.set_phone_route(p, "routing");
        }
    }
    let wd = workdir(&tf, &emu, "provider \"cph\" {}\n");
    wd.write(
        "fleet.tfquery.hcl",
        r#"
list "cph_server_flavor" "servers" {
  provider = cph
}

list "cph_phone_route" "routes" {
  provider = cph
}
"#,
    );

    emu.reset_calls();
    let query = wd.run_ok(&["query", "-no-color", "-generate-config-out=fleet.tf"]);
    let calls = emu.calls();
    assert_eq!(calls["list_servers"], 1, "{calls:?}");
    assert_eq!(calls["list_phones"], 1, "45 phones are one page: {calls:?}");
    assert_eq!(calls["show_phone"] + calls["show_server"], 0, "{calls:?}");
    assert!(
        query.stdout.contains("list.cph_phone_route.routes"),
        "{}",
        query.stdout
    );

    let fleet = std::fs::read_to_string(wd.path().join("fleet.tf")).unwrap();
    let flavors = fleet.matches("resource \"cph_server_flavor\"").count();
    let routes = fleet.matches("resource \"cph_phone_route\"").count();
    assert_eq!(flavors, 3, "{fleet}");
    // Servers 1 and 2 have phones on both routes, server 3 on direct only.
    assert_eq!(routes, 5, "{fleet}");
    assert_eq!(fleet.matches("identity = {").count(), flavors + routes);
    let mut covered = BTreeSet::new();
    for p in &all_phones {
        let n = fleet.matches(&format!("\"{p}\"")).count();
        assert_eq!(n, 1, "phone {p} appears {n} times in\n{fleet}");
        covered.insert(p.clone());
    }
    assert_eq!(covered.len(), 45);

    emu.reset_calls();
    let plan = wd.run_ok(&["plan", "-no-color", "-out=tfplan"]);
    assert_eq!(
        plan_line(&plan.stdout),
        "Plan: 8 to import, 0 to add, 0 to change, 0 to destroy.",
        "{}",
        plan.stdout
    );
    let calls = emu.calls();
    assert_eq!(
        calls["show_phone"], 0,
        "never one call per phone: {calls:?}"
    );
    assert!(calls["list_phones"] <= 3, "{calls:?}");

    emu.reset_calls();
    let apply = wd.run_ok(&["apply", "-no-color", "tfplan"]);
    assert!(
        apply
            .stdout
            .contains("Resources: 8 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    assert_eq!(writes(&emu), 0, "adoption sends no write call");

    let again = wd.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "the next plan is empty:\n{}\n{}",
        again.stdout,
        again.stderr
    );
    let state = wd.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .clone();
    let mut in_state = BTreeSet::new();
    for r in &resources {
        if r["type"] == "cph_phone_route" {
            let id = r["values"]["id"].as_str().unwrap();
            assert_eq!(r["identity"]["id"], id);
            let route = r["values"]["traffic_type"].as_str().unwrap();
            assert!(id.ends_with(&format!("/{route}")), "{id}");
            for p in r["values"]["phone_ids"].as_array().unwrap() {
                let p = p.as_str().unwrap();
                assert_eq!(emu.route_of(p), route);
                assert!(in_state.insert(p.to_string()), "{p} twice");
            }
        } else {
            assert!(servers.contains(&r["identity"]["server_id"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(in_state, all_phones);
}

#[test]
fn list_filters_narrow_the_query() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "4"]);
    let servers = emu.server_ids();
    let routed = emu.phone_ids_of(&servers[1])[0].clone();
    emu.set_phone_route(&routed, "routing");
    let wd = workdir(&tf, &emu, "provider \"cph\" {}\n");
    wd.write(
        "narrow.tfquery.hcl",
        &format!(
            r#"
list "cph_server_flavor" "one" {{
  provider = cph
  config {{
    server_ids = ["{s0}"]
  }}
}}

list "cph_phone_route" "routed" {{
  provider = cph
  config {{
    traffic_type = "routing"
  }}
}}
"#,
            s0 = servers[0]
        ),
    );
    let out = wd.run_ok(&["query", "-no-color"]);
    assert_eq!(
        out.stdout.matches("list.cph_server_flavor.one").count(),
        1,
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("list.cph_phone_route.routed").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("{}/routing", servers[1])),
        "{}",
        out.stdout
    );

    wd.write(
        "narrow.tfquery.hcl",
        "list \"cph_phone_route\" \"bad\" {\n  provider = cph\n  config {\n    traffic_type = \"fast\"\n  }\n}\n",
    );
    let bad = wd.run(&["query", "-no-color"]);
    assert!(!bad.success());
    assert!(bad.stderr.contains("traffic_type"), "{}", bad.stderr);

    // A server id CPH would never issue is refused before any call.
    for list in ["cph_server_flavor", "cph_phone_route"] {
        wd.write(
            "narrow.tfquery.hcl",
            &format!(
                "list \"{list}\" \"bad\" {{\n  provider = cph\n  config {{\n    server_ids = [\"A176 D862\"]\n  }}\n}}\n"
            ),
        );
        emu.reset_calls();
        let bad = wd.run(&["query", "-no-color"]);
        assert!(!bad.success(), "{list}");
        assert!(
            bad.stderr.contains("server_ids") && bad.stderr.contains("'A'"),
            "{list}: {}",
            bad.stderr
        );
        let calls: u64 = emu.calls().values().sum();
        assert_eq!(calls, 0, "{list}: {:?}", emu.calls());
    }
}
