//! Ctrl-C during an action (issue [T], Terraform 1.15.5): after StopProvider
//! the provider sends no progress event, only the completion, so Terraform
//! does not crash (exit 11, "range function continued iteration") and the
//! user is told which phones may still be restarting. The reproduction:
//! 1,000 phones, `max_requests_per_second = 2`, 1.5 s latency on every
//! restart call, SIGINT to the process group at a random moment after the
//! action started. 3 runs; 20 with `CPH_LONG_TESTS=1` (`make test-long`),
//! `CPH_ACTION_STOP_RUNS=N` for another number.
//!
//! Runs when `TF_ACC=1`.

mod emu;
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use emu::Emulator;
use serde_json::json;
use support::{TfBin, TfWorkdir};

fn hcl_list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("ids serialise")
}

fn restart_all(phones: &[String]) -> String {
    format!(
        r#"
provider "cph" {{
  max_requests_per_second = 2
}}

action "cph_phone_restart" "all" {{
  config {{
    phone_ids = {}
  }}
}}
"#,
        hcl_list(phones)
    )
}

/// `terraform apply -invoke` of the restart of every phone.
const INVOKE: [&str; 4] = [
    "apply",
    "-no-color",
    "-auto-approve",
    "-invoke=action.cph_phone_restart.all",
];

fn restart_workdir(tf: &TfBin, emu: &Emulator, phones: &[String]) -> TfWorkdir {
    let mut wd = TfWorkdir::new(tf, &restart_all(phones));
    for (k, v) in emu.token_env() {
        wd.set_env(&k, &v);
    }
    wd
}

fn output(wd: &TfWorkdir) -> String {
    std::fs::read_to_string(wd.path().join("apply.stdout")).unwrap_or_default()
        + &std::fs::read_to_string(wd.path().join("apply.stderr")).unwrap_or_default()
}

/// One run: invoke, SIGINT at a random moment after the action started,
/// then what Terraform said. Err with the reason when the run is wrong.
fn one_run(tf: &TfBin, emu: &Emulator, phones: &[String]) -> Result<(), String> {
    let wd = restart_workdir(tf, emu, phones);
    let mut apply = wd.spawn_in_group(&INVOKE, &[]);
    let until = Instant::now() + Duration::from_secs(120);
    while !output(&wd).contains("to be restarted") {
        if Instant::now() > until || apply.try_wait().ok().flatten().is_some() {
            let _ = apply.kill();
            let _ = apply.wait();
            return Err(format!("the action did not start:\n{}", output(&wd)));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Calls go every 0.5 s and take 1.5 s: within 4 s some are answered,
    // some on their way and most not sent.
    std::thread::sleep(Duration::from_millis(100 + support::rand_below(4000)));
    let pgid = format!("-{}", apply.id());
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &pgid])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = apply.kill();
        let _ = apply.wait();
        return Err("kill -INT the process group failed".into());
    }
    let status = loop {
        match apply.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() <= until => {}
            _ => {
                let _ = apply.kill();
                let _ = apply.wait();
                return Err("terraform did not exit after Ctrl-C".into());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = output(&wd);
    if status.code() == Some(11) || out.contains("range function continued iteration") {
        return Err(format!("terraform crashed ({status}):\n{out}"));
    }
    if status.success() {
        return Err(format!("an interrupted action succeeded:\n{out}"));
    }
    if !out.contains("Still in progress (they may yet finish)") && !out.contains("Never sent") {
        return Err(format!(
            "the phones still in progress are not named:\n{out}"
        ));
    }
    // Terraform shows each diagnostic on stdout and on stderr.
    let stdout = std::fs::read_to_string(wd.path().join("apply.stdout")).unwrap_or_default();
    if stdout.lines().filter(|l| l.starts_with("- phone ")).count() > 20 {
        return Err(format!(
            "more than 20 phones listed in one diagnostic:\n{out}"
        ));
    }
    Ok(())
}

#[test]
fn ctrl_c_in_a_1000_phone_restart_never_crashes_terraform_and_names_the_phones_in_progress() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let long = std::env::var("CPH_LONG_TESTS").as_deref() == Ok("1");
    let runs: usize = std::env::var("CPH_ACTION_STOP_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if long { 20 } else { 3 });
    let emu = Emulator::start(&["--servers", "10", "--phones-per-server", "100"]);
    emu.add_fault(json!({"endpoint": "restart_phones", "kind": "latency", "latency_ms": 1500}));
    let phones: Vec<String> = emu
        .server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect();
    assert_eq!(phones.len(), 1000);
    let mut failures = Vec::new();
    for run in 0..runs {
        // Phones still restarting from the last run refuse the next one
        // (CPS.0010): let them finish.
        std::thread::sleep(Duration::from_secs(2));
        if let Err(e) = one_run(&tf, &emu, &phones) {
            failures.push(format!("run {run}: {e}"));
        }
    }
    println!("{} of {runs} runs as expected", runs - failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Issue [T] 4: after an interrupted restart, the next invoke is refused for
/// the phones still restarting (CPS.0010) and names each with its status.
#[test]
fn the_next_invoke_names_the_phones_still_busy_with_their_status() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[
        "--servers",
        "1",
        "--phones-per-server",
        "5",
        "--job-seconds",
        "120",
    ]);
    let phones: Vec<String> = emu
        .server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect();
    let wd = restart_workdir(&tf, &emu, &phones);
    let mut first = wd.spawn_in_group(&INVOKE, &[]);
    let until = Instant::now() + Duration::from_secs(60);
    let status = |id: &str| emu.api_get(&format!("phones/{id}"))["status"].as_i64();
    while status(&phones[0]) != Some(4) {
        assert!(Instant::now() < until, "the restart did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pgid = format!("-{}", first.id());
    assert!(
        Command::new("kill")
            .args(["-s", "INT", "--", &pgid])
            .status()
            .is_ok_and(|s| s.success())
    );
    let ended = loop {
        if let Some(st) = first.try_wait().expect("try_wait") {
            break st;
        }
        assert!(
            Instant::now() < until,
            "terraform did not exit after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!ended.success(), "{}", output(&wd));
    assert!(output(&wd).contains("Still in progress"), "{}", output(&wd));

    let again = wd.run(&INVOKE);
    let all = format!("{}\n{}", again.stdout, again.stderr);
    assert!(!again.status.success(), "{all}");
    assert!(all.contains("5 of them are busy"), "{all}");
    assert!(
        all.contains(&format!("phone {}: CPS.0010: restarting", phones[0])),
        "{all}"
    );
}
