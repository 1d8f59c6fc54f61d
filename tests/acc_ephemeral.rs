//! The ephemeral resource `cph_phone_connection` with Terraform 1.15 against
//! the emulator: its tickets reach a `local-exec` provisioner's environment
//! (the supported way to use them) and appear nowhere else: not in
//! `terraform.tfstate`, not in the saved plan (`terraform show -json`), not
//! in a `TF_LOG=trace` log of plan and apply. Phones are asked 10 at a time;
//! a phone the API refuses is an error naming it. Terraform 1.0.3 refuses
//! the `ephemeral` block itself.
//!
//! The emulator's tickets are `tkt` and 64 hex digits, so any ticket of any
//! call can be searched for, not only the one the provisioner saw.

mod emu;
mod support;

use emu::Emulator;
use support::{TfBin, TfWorkdir};

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut wd = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        wd.set_env(&k, &v);
    }
    wd
}

fn all_phone_ids(emu: &Emulator) -> Vec<String> {
    let page = emu.api_get("phones?limit=200");
    page["phones"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["phone_id"].as_str().map(str::to_string))
        .collect()
}

/// Every emulator ticket in `text`.
fn tickets_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("tkt") {
        let tail = &rest[i + 3..];
        let hex = tail
            .bytes()
            .take_while(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            .count();
        if hex == 64 {
            found.push(rest[i..i + 67].to_string());
        }
        rest = tail;
    }
    found
}

fn connection_config(phones: &[String], used: &str) -> String {
    format!(
        r#"
provider "cph" {{}}

ephemeral "cph_phone_connection" "fleet" {{
  phone_ids   = {ids}
  client_type = "ANDROID"
}}

resource "terraform_data" "connect" {{
  input = "connect"

  provisioner "local-exec" {{
    command = "printf '%s' \"$TICKET\" > ticket.txt && printf '%s' \"$PORT\" > port.txt"
    environment = {{
      TICKET = ephemeral.cph_phone_connection.fleet.connections["{used}"].ticket
      PORT   = ephemeral.cph_phone_connection.fleet.connections["{used}"].access_port
    }}
  }}
}}
"#,
        ids = serde_json::to_string(phones).expect("ids serialise"),
    )
}

#[test]
fn tickets_reach_a_provisioner_and_nothing_else() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "5"]);
    let phones = all_phone_ids(&emu);
    assert_eq!(phones.len(), 15);
    let mut wd = workdir(&tf, &emu, &connection_config(&phones, &phones[0]));
    wd.set_env("TF_LOG", "trace");
    emu.reset_calls();
    let plan = wd.run_ok(&["plan", "-no-color", "-out=tfplan"]);
    // 15 phones, 10 a call.
    assert_eq!(emu.calls().get("phone_connection").copied(), Some(2));
    let shown = wd.run_ok(&["show", "-json", "tfplan"]);
    let apply = wd.run_ok(&["apply", "-no-color", "tfplan"]);

    let read = |name: &str| std::fs::read_to_string(wd.path().join(name)).unwrap_or_default();
    let ticket = read("ticket.txt");
    assert_eq!(
        tickets_in(&ticket).len(),
        1,
        "the provisioner got a ticket: {ticket:?}"
    );
    assert_eq!(ticket.len(), 67);
    assert_eq!(read("port.txt"), "20000");
    let state = read("terraform.tfstate");
    assert!(state.contains("terraform_data"), "{state}");
    let places = [
        ("terraform.tfstate", state),
        ("the saved plan", shown.stdout),
        (
            "the plan's output and trace log",
            format!("{}{}", plan.stdout, plan.stderr),
        ),
        (
            "the apply's output and trace log",
            format!("{}{}", apply.stdout, apply.stderr),
        ),
    ];
    for (place, text) in places {
        assert!(
            tickets_in(&text).is_empty(),
            "a ticket is in {place}:\n{text}"
        );
    }
    assert!(
        apply.stderr.contains("OpenEphemeralResource"),
        "the trace log is the provider's too"
    );
}

#[test]
fn a_refused_phone_is_named() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let mut phones = all_phone_ids(&emu);
    let missing = "0".repeat(32);
    phones.push(missing.clone());
    let wd = workdir(&tf, &emu, &connection_config(&phones, &phones[0]));
    let out = wd.run(&["plan", "-no-color"]);
    assert!(!out.success(), "{}", out.stdout);
    let all = out.flat();
    assert!(all.contains("could not be connected to"), "{all}");
    assert!(all.contains(&missing), "{all}");

    let bad_type = connection_config(&phones[..1], &phones[0]).replace("ANDROID", "SYMBIAN");
    let wd = workdir(&tf, &emu, &bad_type);
    let out = wd.run(&["validate", "-no-color"]);
    assert!(!out.success(), "{}", out.stdout);
    assert!(out.flat().contains("H5_MOBILE"), "{}", out.flat());
}

#[test]
fn terraform_before_1_10_refuses_the_block() {
    let Some(tf) = support::acc() else {
        return;
    };
    if !tf.version().starts_with("Terraform v1.0") {
        return;
    }
    let emu = Emulator::start(&[]);
    let phones = all_phone_ids(&emu);
    let wd = workdir(&tf, &emu, &connection_config(&phones[..1], &phones[0]));
    let out = wd.run(&["validate", "-no-color"]);
    assert!(!out.success(), "{}", out.stdout);
    assert!(
        out.flat().contains("Unsupported block type"),
        "{}",
        out.flat()
    );
}
