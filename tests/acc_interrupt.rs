//! Ctrl-C during a long wait: SIGINT to terraform's process group (as a
//! terminal sends it, so the provider gets it too) while a flavor change
//! order is being waited for. Terraform must stop the provider through
//! `StopProvider` and exit promptly, the provider must be gone, the state must
//! record the order, and the next apply must pick the order up without
//! placing another one.
//!
//! Runs when `TF_ACC=1`.

mod emu;
mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use emu::{Emulator, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::Value;
use support::TfWorkdir;

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_model" {}
variable "phone_model" {}
resource "cph_server_flavor" "f" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
  timeouts {
    create = "5m"
    update = "5m"
  }
}
"#;

/// How long terraform may take to exit after Ctrl-C ("promptly").
const PROMPTLY: Duration = Duration::from_secs(15);

fn vars() -> Vec<String> {
    vec![
        format!("-var=server_model={}", SPECIAL_FLAVOR.0),
        format!("-var=phone_model={}", SPECIAL_FLAVOR.1),
    ]
}

/// `terraform apply` started in its own process group, as a shell starts a
/// foreground job; output to files in the work directory.
fn spawn_apply(w: &TfWorkdir, env: &[(String, String)]) -> Child {
    let mut cmd = Command::new(support::terraform_path());
    cmd.args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .args(vars())
        .current_dir(w.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(w.path().join("apply.stdout")).expect("stdout file"))
        .stderr(std::fs::File::create(w.path().join("apply.stderr")).expect("stderr file"))
        .env("TF_CLI_CONFIG_FILE", w.path().join(".terraformrc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_LOG", "DEBUG")
        .env("TF_LOG_PATH", w.path().join("apply.log"))
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_DATA_DIR")
        .env_remove("TF_WORKSPACE")
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start terraform apply")
}

/// `(state, parent pid, command name)` of a process, from `/proc/PID/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid, comm))
}

/// The provider process among terraform's descendants (terraform 1.0 runs
/// itself again under a panic wrapper, so the provider is a grandchild).
fn provider_under(terraform: u32) -> Option<u32> {
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| proc_stat(pid).map(|(_, ppid, comm)| (pid, ppid, comm)))
        .collect();
    let mut family = vec![terraform];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        for (pid, ppid, comm) in &procs {
            if *ppid == parent {
                if comm.starts_with("terraform-prov") {
                    return Some(*pid);
                }
                family.push(*pid);
            }
        }
        i += 1;
    }
    None
}

fn alive(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _, _)| state != 'Z' && state != 'X')
}

fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn resource_values(w: &TfWorkdir) -> Value {
    let state = w.state_json();
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["address"] == "cph_server_flavor.f"))
        .map(|r| r["values"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn ctrl_c_while_waiting_for_an_order_keeps_it_and_the_next_apply_does_not_order_again() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "30", "--job-seconds", "0.3"]);
    let env = emu.token_env();
    let mut w = TfWorkdir::new(&tf, FLAVOR_TF);
    for (k, v) in &env {
        w.set_env(k, v);
    }

    let mut apply = spawn_apply(&w, &env);
    let terraform = apply.id();
    wait_until("the order", Duration::from_secs(60), || {
        !emu.orders().is_empty() || apply.try_wait().ok().flatten().is_some()
    });
    assert!(
        apply.try_wait().expect("try_wait").is_none(),
        "terraform ended before the order was waited for:\n{}",
        read(&w.path().join("apply.stderr"))
    );
    let orders = emu.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order_id = orders[0]["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let provider = provider_under(terraform).expect("the provider process is running");
    // Let the provider settle into its wait.
    std::thread::sleep(Duration::from_millis(500));

    // Ctrl-C: SIGINT to the foreground process group.
    let interrupted = Instant::now();
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &format!("-{terraform}")])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT the process group");
    let status = loop {
        if let Some(st) = apply.try_wait().expect("try_wait") {
            break st;
        }
        if interrupted.elapsed() > PROMPTLY {
            let _ = apply.kill();
            let _ = apply.wait();
            panic!(
                "terraform did not exit within {PROMPTLY:?} of Ctrl-C:\n{}",
                read(&w.path().join("apply.stderr"))
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = interrupted.elapsed();
    let stderr = read(&w.path().join("apply.stderr"));
    let log = read(&w.path().join("apply.log"));
    assert!(!status.success(), "an interrupted apply fails:\n{stderr}");
    wait_until("the provider to exit", Duration::from_secs(5), || {
        !alive(provider)
    });
    assert!(
        log.contains("StopProvider"),
        "terraform stopped the provider through StopProvider (log {} bytes)",
        log.len()
    );
    assert!(
        stderr.contains(&order_id) && stderr.contains("Stopped while waiting"),
        "the error names order {order_id}:\n{stderr}"
    );
    eprintln!("terraform exited {took:?} after Ctrl-C ({status})");

    // The state records what is known: the order, and the old flavors.
    let v = resource_values(&w);
    assert_eq!(
        v["order_id"],
        order_id.as_str(),
        "the order is in state: {v}"
    );
    assert_eq!(v["server_model_name"], emu::FLAVOR.0, "{v}");
    assert_eq!(emu.orders().len(), 1, "no second order");

    // The next apply waits for that order (the rest of its 30 s) and orders nothing.
    emu.reset_calls();
    let again = w.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &vars()[0],
        &vars()[1],
    ]);
    assert!(again.success(), "{}\n{}", again.stdout, again.stderr);
    assert_eq!(
        emu.calls()["change_server_model"],
        0,
        "the second apply did not order:\n{}",
        again.stdout
    );
    assert_eq!(emu.orders().len(), 1, "still one order");
    let server = emu.server(SERVER_ID);
    assert_eq!(server["server_model_name"], SPECIAL_FLAVOR.0);
    assert_eq!(server["phone_model_name"], SPECIAL_FLAVOR.1);
    let v = resource_values(&w);
    assert_eq!(v["server_model_name"], SPECIAL_FLAVOR.0, "{v}");
    assert_eq!(v["order_id"], order_id.as_str(), "{v}");
    let plan = w.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        &vars()[0],
        &vars()[1],
    ]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "empty plan:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
}
