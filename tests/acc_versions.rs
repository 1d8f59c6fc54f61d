//! The same user journey on other Terraform releases than the 1.0.3 the
//! rest of the suite uses: 0.13.5 (an older protocol-5 client that sends
//! `PrepareProviderConfig` and installs providers from a filesystem mirror,
//! installed by `make test`), plus any release listed in
//! `TF_ACC_EXTRA_TERRAFORM` (colon-separated paths; `make test` adds a
//! terraform found on PATH, e.g. a newer 1.x).

mod emu;
mod support;

use std::path::PathBuf;

use emu::{Emulator, SERVER_ID, SPECIAL_FLAVOR};
use support::{TfBin, TfWorkdir};

const JOURNEY_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "route" { default = "routing" }
variable "server_model" { default = "physical.rx1.xlarge.special" }
variable "phone_model" { default = "rx1.cp.sp.c105.d8.e5v5" }
data "cph_phones" "all" { server_id = "a176d8625981453bbafbc0a321d8d6a1" }
resource "cph_phone_route" "r" {
  phone_ids    = data.cph_phones.all.phone_ids
  traffic_type = var.route
}
resource "cph_server_flavor" "f" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
}
output "routed" { value = length(cph_phone_route.r.phone_ids) }
"#;

fn older_terraforms() -> Vec<TfBin> {
    let mut out = vec![TfBin::at(
        std::env::var_os("TF_ACC_TERRAFORM_0_13_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform-0.13")
            }),
    )];
    if let Ok(extra) = std::env::var("TF_ACC_EXTRA_TERRAFORM") {
        out.extend(
            extra
                .split(':')
                .filter(|p| !p.is_empty())
                .map(|p| TfBin::at(PathBuf::from(p))),
        );
    }
    out
}

/// 0.13 has no `dev_overrides`; newer releases use the default harness.
fn workdir(tf: &TfBin, emu: &Emulator) -> TfWorkdir {
    let version = tf.version();
    let mut w = if version.starts_with("Terraform v0.13") {
        TfWorkdir::with_mirror_install(tf, JOURNEY_TF, "0.1.0")
    } else {
        TfWorkdir::new(tf, JOURNEY_TF)
    };
    for (k, v) in emu.aksk_env() {
        w.set_env(&k, &v);
    }
    w
}

fn journey(tf: &TfBin) {
    let version = tf.version();
    assert!(
        version.starts_with("Terraform v"),
        "not runnable: {}",
        tf.path().display()
    );
    eprintln!("journey on {version}");
    let emu = Emulator::start(&[]);
    let w = workdir(tf, &emu);
    w.run_ok(&["validate", "-no-color"]);
    let schema = w.run_ok(&["providers", "schema", "-json"]);
    assert!(
        schema.stdout.contains("cph_phone_route") && schema.stdout.contains("cph_server_flavor"),
        "{version}"
    );

    w.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let phones = emu.phone_ids_of(SERVER_ID);
    assert!(
        phones.iter().all(|p| emu.route_of(p) == "routing"),
        "{version}"
    );
    assert_eq!(
        emu.server(SERVER_ID)["server_model_name"],
        SPECIAL_FLAVOR.0,
        "{version}"
    );
    let plan = w.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{version}: second plan not empty:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );

    let plan = w.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-var=route=direct",
    ]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{version}:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "{version}:\n{}",
        plan.stdout
    );
    w.run_ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var=route=direct",
    ]);
    assert!(
        phones.iter().all(|p| emu.route_of(p) == "direct"),
        "{version}"
    );

    w.run_ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var=route=direct",
    ]);
    assert_eq!(
        emu.server(SERVER_ID)["server_model_name"],
        SPECIAL_FLAVOR.0,
        "{version}: destroy keeps the flavor"
    );
}

#[test]
fn the_user_journey_on_other_terraform_releases() {
    let Some(_default) = support::acc() else {
        return;
    };
    for tf in older_terraforms() {
        // This journey's HCL (`required_providers` with `source`) needs 0.13+.
        if tf.version().starts_with("Terraform v0.12") {
            eprintln!(
                "note: {} is 0.12, which this journey's HCL does not support; skipped",
                tf.path().display()
            );
            continue;
        }
        journey(&tf);
    }
}
