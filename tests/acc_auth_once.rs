//! Credentials the API refuses are told once: wrong AK/SK on a create of
//! 300 phones ends with one error that names where the credentials come
//! from and the endpoint, after at most 2 API calls, never with one failure
//! per phone or a promise that the next apply sends them again.
//!
//! Runs when `TF_ACC=1`.

mod emu;
mod support;

use emu::Emulator;
use support::{TfOutput, TfWorkdir};

const ROUTE_TF: &str = r#"
variable "phones" {
  type = list(string)
}
resource "cph_phone_route" "r" {
  phone_ids    = var.phones
  traffic_type = "routing"
}
"#;

const WRONG_SECRET: &str = "not-the-secret-key";

/// Applies a route of 300 phones with `provider_block` and the variables
/// `env` gives for the emulator; the output and the API calls made (IAM,
/// CPH and BSS together).
fn refused_apply(
    provider_block: &str,
    env: impl Fn(&Emulator) -> Vec<(String, String)>,
) -> (TfOutput, u64, Emulator) {
    let tf = support::acc().expect("TF_ACC");
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "100"]);
    let phones: Vec<String> = emu
        .server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect();
    assert_eq!(phones.len(), 300);
    let mut w = TfWorkdir::new(&tf, &format!("{provider_block}\n{ROUTE_TF}"));
    for (k, v) in env(&emu) {
        w.set_env(&k, &v);
    }
    let vars = serde_json::json!({ "phones": phones });
    w.write("terraform.tfvars.json", &vars.to_string());
    emu.reset_calls();
    let out = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let calls = emu.calls().values().sum();
    (out, calls, emu)
}

fn assert_told_once(out: &TfOutput, calls: u64, source: &str, emu: &Emulator) {
    let text = out.flat();
    assert!(!out.success(), "the apply fails:\n{text}");
    assert_eq!(text.matches("Error: ").count(), 1, "one error:\n{text}");
    assert!(text.contains("Credentials refused"), "{text}");
    assert!(
        text.contains(source),
        "names the credential source {source:?}:\n{text}"
    );
    assert!(
        text.contains(&emu.url),
        "names the endpoint {}:\n{text}",
        emu.url
    );
    for per_phone in ["more", "sends them again", "did not get route", "- phone "] {
        assert!(
            !text.contains(per_phone),
            "no per-phone report ({per_phone:?}):\n{text}"
        );
    }
    assert!(calls <= 2, "at most 2 API calls, made {calls}:\n{text}");
    eprintln!("refused after {calls} API call(s):\n{}", out.stderr);
}

#[test]
fn wrong_aksk_from_the_environment_is_one_error_naming_the_variables() {
    if support::acc().is_none() {
        return;
    }
    let (out, calls, emu) = refused_apply("provider \"cph\" {}", |emu| {
        emu.aksk_env()
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "HW_SECRET_KEY" => (k, WRONG_SECRET.to_string()),
                _ => (k, v),
            })
            .collect()
    });
    assert_told_once(
        &out,
        calls,
        "HW_ACCESS_KEY/HW_SECRET_KEY environment variables",
        &emu,
    );
}

#[test]
fn wrong_aksk_in_the_provider_block_is_one_error_naming_the_block() {
    if support::acc().is_none() {
        return;
    }
    let block = format!(
        "provider \"cph\" {{\n  access_key = \"{}\"\n  secret_key = \"{WRONG_SECRET}\"\n}}",
        emu::ACCESS_KEY
    );
    let (out, calls, emu) = refused_apply(&block, |emu| {
        emu.aksk_env()
            .into_iter()
            .filter(|(k, _)| k != "HW_ACCESS_KEY" && k != "HW_SECRET_KEY")
            .collect()
    });
    assert_told_once(
        &out,
        calls,
        "access_key/secret_key from the provider block",
        &emu,
    );
}
