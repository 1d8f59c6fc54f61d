//! Acceptance tests of the plugin core with the real terraform (TF_ACC=1):
//! installation through dev_overrides and a filesystem mirror, validate,
//! the schema Terraform reads, and that no provider process outlives a plan.

mod support;

use support::{TfWorkdir, acc, hcl_string};

const FULL_CONFIG: &str = r#"
provider "cph" {
  region     = "cn-east-3"
  project_id = "0123456789abcdef"
  auth_token = "not-a-real-token"
}

resource "cph_server_flavor" "s" {
  server_id         = "server-1"
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  auto_pay          = true

  timeouts {
    update = "30m"
  }
}

resource "cph_phone_route" "r" {
  phone_ids    = ["phone-1", "phone-2"]
  traffic_type = "routing"
}

data "cph_server" "s" {
  server_id = "server-1"
}

data "cph_phones" "p" {
  server_id = data.cph_server.s.server_id
}
"#;

#[test]
fn validate_passes_with_both_resources_and_data_sources() {
    let Some(tf) = acc() else { return };
    let wd = TfWorkdir::new(&tf, FULL_CONFIG);
    let out = wd.run_ok(&["validate", "-no-color"]);
    assert!(out.stdout.contains("Success!"), "{}", out.stdout);
}

#[test]
fn init_through_dev_overrides() {
    let Some(tf) = acc() else { return };
    let wd = TfWorkdir::new(&tf, FULL_CONFIG);
    // Terraform 1.0 init still resolves the provider in the installation
    // sources; the override then decides which binary runs.
    wd.add_provider_to_mirror("0.1.0");
    let out = wd.run_ok(&["init", "-no-color"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("Provider development overrides are in effect"),
        "{all}"
    );
    let out = wd.run_ok(&["validate", "-no-color"]);
    assert!(out.stdout.contains("Success!"), "{}", out.stdout);
}

#[test]
fn init_through_a_filesystem_mirror() {
    let Some(tf) = acc() else { return };
    let wd = TfWorkdir::new(
        &tf,
        &format!(
            "terraform {{\n  required_providers {{\n    cph = {{\n      source  = \"cloudphone/cph\"\n      version = \"0.1.0\"\n    }}\n  }}\n}}\n{FULL_CONFIG}"
        ),
    );
    wd.add_provider_to_mirror("0.1.0");
    let mirror = wd.mirror_dir();
    // Only the mirror: no dev_overrides, no network.
    wd.write_cli_config(&format!(
        "disable_checkpoint = true\nprovider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"cloudphone/cph\"]\n  }}\n}}\n",
        hcl_string(&mirror)
    ));
    let out = wd.run_ok(&["init", "-no-color"]);
    assert!(
        out.stdout.contains("Installed cloudphone/cph v0.1.0"),
        "{}",
        out.stdout
    );
    assert!(wd.path().join(".terraform.lock.hcl").exists());
    wd.run_ok(&["validate", "-no-color"]);
}

#[test]
fn providers_schema_lists_attributes_resources_and_sensitive_flags() {
    let Some(tf) = acc() else { return };
    let wd = TfWorkdir::new(&tf, FULL_CONFIG);
    let out = wd.run_ok(&["providers", "schema", "-json"]);
    let j: serde_json::Value = serde_json::from_str(&out.stdout).expect("schema JSON");
    let p = &j["provider_schemas"]["registry.terraform.io/cloudphone/cph"];
    let attrs = &p["provider"]["block"]["attributes"];
    for name in [
        "region",
        "project_id",
        "endpoint",
        "access_key",
        "secret_key",
        "security_token",
        "auth_token",
        "insecure",
        "max_retries",
    ] {
        assert!(
            attrs.get(name).is_some(),
            "provider attribute {name} missing"
        );
    }
    for secret in ["secret_key", "security_token", "auth_token", "password"] {
        assert_eq!(
            attrs[secret]["sensitive"], true,
            "{secret} must be sensitive"
        );
    }
    for plain in ["region", "project_id", "access_key"] {
        assert!(
            attrs[plain].get("sensitive").is_none(),
            "{plain} is not secret"
        );
    }
    assert_eq!(attrs["max_retries"]["type"], "number");
    assert_eq!(attrs["insecure"]["type"], "bool");
    for r in ["cph_server_flavor", "cph_phone_route"] {
        assert!(
            p["resource_schemas"].get(r).is_some(),
            "resource {r} missing"
        );
    }
    for d in ["cph_server", "cph_phones"] {
        assert!(
            p["data_source_schemas"].get(d).is_some(),
            "data source {d} missing"
        );
    }
    let route = &p["resource_schemas"]["cph_phone_route"]["block"]["attributes"];
    assert_eq!(
        route["phone_ids"]["type"],
        serde_json::json!(["set", "string"])
    );
}

/// Provider pids from Terraform's own log ("plugin started ... pid=N").
fn provider_pids(log: &str) -> Vec<u32> {
    log.lines()
        .filter(|l| l.contains("plugin started") && l.contains("terraform-provider-cph"))
        .filter_map(|l| l.split("pid=").nth(1))
        .filter_map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect()
}

/// True when `pid` is a live (not zombie) process running our binary.
fn provider_alive(pid: u32) -> bool {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        .unwrap_or(true);
    let ours = exe
        .map(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("terraform-provider-cph"))
        })
        .unwrap_or(false);
    ours && !zombie
}

#[test]
fn no_provider_process_is_left_after_plan() {
    let Some(tf) = acc() else { return };
    let mut wd = TfWorkdir::new(
        &tf,
        r#"
provider "cph" {
  region     = "cn-east-3"
  project_id = "0123456789abcdef"
  auth_token = "not-a-real-token"
}
"#,
    );
    wd.set_env("TF_LOG", "DEBUG");
    let out = wd.run_ok(&["plan", "-no-color"]);
    let pids = provider_pids(&out.stderr);
    assert!(
        !pids.is_empty(),
        "terraform never started the provider:\n{}",
        out.stderr
    );
    let alive: Vec<u32> = pids.into_iter().filter(|p| provider_alive(*p)).collect();
    assert!(
        alive.is_empty(),
        "provider processes left after plan: {alive:?}"
    );
    assert!(
        !out.stderr.contains("not-a-real-token"),
        "a secret reached the logs"
    );
}
