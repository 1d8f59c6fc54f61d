//! Acceptance tests: no state is ever trapped. A server deleted outside
//! Terraform (with its phones) must not block `terraform destroy`, in the
//! quick start's shape and in a fleet's (`for_each` over servers with
//! `cph_phones`); ids CPH would refuse are refused at plan, before any call.

mod emu;
mod support;

use emu::{Emulator, SPECIAL_FLAVOR};
use support::{TfBin, TfWorkdir};

/// The quick start's shape: both data sources, a flavor and a route.
const QUICKSTART_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
variable "server_model" {}
variable "phone_model" {}
data "cph_server" "this" {
  server_id = var.server_id
}
data "cph_phones" "this" {
  server_id = var.server_id
}
resource "cph_server_flavor" "this" {
  server_id         = data.cph_server.this.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
}
resource "cph_phone_route" "this" {
  phone_ids    = data.cph_phones.this.phone_ids
  traffic_type = "routing"
  depends_on   = [cph_server_flavor.this]
}
"#;

/// The fleet example's shape: one route per server, phones from the data source.
const FLEET_TF: &str = r#"
provider "cph" {}
variable "server_ids" { type = set(string) }
data "cph_phones" "fleet" {
  for_each  = var.server_ids
  server_id = each.value
}
resource "cph_phone_route" "fleet" {
  for_each     = data.cph_phones.fleet
  phone_ids    = each.value.phone_ids
  traffic_type = "routing"
}
"#;

const ROUTE_TF: &str = r#"
provider "cph" {}
variable "phones" { type = list(string) }
resource "cph_phone_route" "r" {
  phone_ids    = var.phones
  traffic_type = "routing"
}
"#;

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
resource "cph_server_flavor" "f" {
  server_id         = var.server_id
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
}
"#;

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn resources_in_state(w: &TfWorkdir) -> usize {
    w.state_json()["values"]["root_module"]["resources"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|r| r["mode"] == "managed").count())
}

#[test]
fn destroy_after_the_server_vanished_quickstart_shape() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "3"]);
    let server = emu.server_ids()[0].clone();
    let w = workdir(&tf, &emu, QUICKSTART_TF);
    let vars = [
        format!("-var=server_id={server}"),
        format!("-var=server_model={}", SPECIAL_FLAVOR.0),
        format!("-var=phone_model={}", SPECIAL_FLAVOR.1),
    ];
    let mut apply = vec!["apply", "-auto-approve", "-input=false"];
    apply.extend(vars.iter().map(String::as_str));
    w.run_ok(&apply);
    assert_eq!(resources_in_state(&w), 2);

    emu.delete_server(&server);

    // The plan says what is true: the server is gone (a warning, not an error).
    let mut plan = vec!["plan", "-input=false"];
    plan.extend(vars.iter().map(String::as_str));
    let out = w.run(&plan);
    assert!(
        out.success(),
        "plan after the server vanished:\n{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("not found") || out.stderr.contains("not found"),
        "the plan warns that the server is gone:\n{}{}",
        out.stdout,
        out.stderr
    );

    let mut destroy = vec!["destroy", "-auto-approve", "-input=false"];
    destroy.extend(vars.iter().map(String::as_str));
    w.run_ok(&destroy);
    assert_eq!(resources_in_state(&w), 0, "destroy leaves an empty state");
}

#[test]
fn destroy_after_a_server_vanished_fleet_shape() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "3"]);
    let servers = emu.server_ids();
    let w = workdir(&tf, &emu, FLEET_TF);
    let var = format!(
        "-var=server_ids={}",
        serde_json::to_string(&servers).unwrap()
    );
    w.run_ok(&["apply", "-auto-approve", "-input=false", &var]);
    assert_eq!(resources_in_state(&w), 2);
    let survivors = emu.phone_ids_of(&servers[1]);
    assert!(survivors.iter().all(|p| emu.route_of(p) == "routing"));

    emu.delete_server(&servers[0]);
    w.run_ok(&["destroy", "-auto-approve", "-input=false", &var]);
    assert_eq!(resources_in_state(&w), 0, "destroy leaves an empty state");
    for p in &survivors {
        assert_eq!(emu.route_of(p), "direct", "phone {p} is back on direct");
    }
}

#[test]
fn destroy_without_refresh_counts_vanished_phones_as_released() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "2"]);
    let servers = emu.server_ids();
    let mut phones = emu.phone_ids_of(&servers[0]);
    let survivors = emu.phone_ids_of(&servers[1]);
    phones.extend(survivors.iter().cloned());
    let w = workdir(&tf, &emu, ROUTE_TF);
    let var = format!("-var=phones={}", serde_json::to_string(&phones).unwrap());
    w.run_ok(&["apply", "-auto-approve", "-input=false", &var]);

    emu.delete_server(&servers[0]);
    w.run_ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-refresh=false",
        &var,
    ]);
    assert_eq!(resources_in_state(&w), 0);
    for p in &survivors {
        assert_eq!(emu.route_of(p), "direct");
    }
}

#[test]
fn bad_ids_are_refused_at_plan_without_a_call() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, ROUTE_TF);
    emu.reset_calls();
    for (bad, why) in [
        ("631056BFB66B4F4EA02BA25F04830CB4", "contains 'B'"),
        ("6310 56bf", "contains ' '"),
        ("", "has 0 characters"),
    ] {
        let var = format!(
            "-var=phones={}",
            serde_json::to_string(&["631056bfb66b4f4ea02ba25f04830cb4", bad]).unwrap()
        );
        let out = w.run(&["plan", "-input=false", &var]);
        assert!(!out.success(), "{bad:?} must be refused");
        assert!(
            support::flat(&out.stderr).contains("phone_ids")
                && support::flat(&out.stderr).contains(why),
            "the error names the attribute and the element {bad:?}:\n{}",
            out.stderr
        );
    }
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = w.run(&["plan", "-input=false", "-var=server_id=A176D8625981453B"]);
    assert!(!out.success());
    assert!(
        support::flat(&out.stderr).contains("server_id")
            && support::flat(&out.stderr).contains("contains 'A'"),
        "{}",
        out.stderr
    );
    let calls: u64 = emu.calls().values().sum();
    assert_eq!(calls, 0, "no request for a refused id: {:?}", emu.calls());
}
