//! The examples as users run them, on Terraform 1.15 against a fresh
//! emulator each, so that the docs' snippets (docs/ embeds examples/) cannot
//! rot:
//! - `examples/module-testing/` (the guide docs/guides/testing-modules.md)
//!   passes `terraform test` against an emulator started with its seed file;
//! - every other example is applied (its plan then empty), its actions
//!   invoked (`-invoke`), its `.tfquery.hcl` files queried, and destroyed.
//!   Not run: `coexistence` (it needs the huaweicloud provider, which is not
//!   available offline; `docs_schema` checks its formatting) and the
//!   `import.sh` / `import-by-identity.tf` snippets (they name phones as a
//!   template, `id2,id3`).

mod emu;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use emu::Emulator;
use support::{TfBin, TfWorkdir};

fn example_dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(rel)
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A working directory holding a copy of the example `rel`, the test build
/// of the provider installed from a filesystem mirror (no dev_overrides, as
/// a user's `terraform init` installs it), and the emulator's settings.
fn example_workdir(tf: &TfBin, rel: &str, emu: &Emulator) -> TfWorkdir {
    let src = example_dir(rel);
    let main = std::fs::read_to_string(src.join("main.tf")).expect("the example's main.tf");
    let mut wd = TfWorkdir::new(tf, &main);
    for file in files_under(&src) {
        let text = std::fs::read_to_string(src.join(&file))
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        wd.write(&file.to_string_lossy(), &text);
    }
    install_from_mirror(&mut wd, emu);
    wd.run_ok(&["init", "-input=false", "-no-color"]);
    wd
}

/// How many `run` blocks the example's test files hold.
fn run_blocks(rel: &str) -> usize {
    let src = example_dir(rel);
    files_under(&src)
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".tftest.hcl"))
        .map(|f| {
            std::fs::read_to_string(src.join(f))
                .expect("a test file")
                .lines()
                .filter(|l| l.starts_with("run \""))
                .count()
        })
        .sum()
}

#[test]
fn module_testing_example_passes_terraform_test_against_its_seeded_emulator() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let seed = example_dir("module-testing/seed.json");
    let emu = Emulator::start(&["--seed", &seed.display().to_string()]);
    let wd = example_workdir(&tf, "module-testing", &emu);
    let out = wd.run(&["test", "-no-color"]);
    let runs = run_blocks("module-testing");
    assert!(runs >= 10, "the example's test files hold its run blocks");
    assert!(
        out.success()
            && out
                .stdout
                .contains(&format!("Success! {runs} passed, 0 failed.")),
        "terraform test of examples/module-testing ({runs} run blocks):\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
    // What the tests did went through the emulator: the failed job, the
    // vanished server, the restart, the flavor order and the properties.
    // The trigger restarts a route's phones after each update: the route
    // switch, and the retry of the failed phone.
    let calls = emu.calls();
    assert_eq!(calls["restart_phones"], 2, "one restart per route update");
    assert_eq!(emu.orders().len(), 2, "one flavor order per server");
    assert!(
        emu.server_ids().len() == 1,
        "server b was deleted by the test"
    );
    // Teardown put every remaining phone back on direct, and gave server
    // a's phones back the locale they had before the properties test (the
    // bandwidth cap had no value, and keeps the one Terraform set).
    for phone in emu.phone_ids_of("a0000000000000000000000000000001") {
        assert_eq!(
            emu.route_of(&phone),
            "direct",
            "phone {phone} after teardown"
        );
        let props = properties_of(&emu, &phone);
        assert_eq!(
            props.get("persist.sys.locale").map(String::as_str),
            Some("zh-CN"),
            "phone {phone}'s original locale after teardown: {props:?}"
        );
        assert_eq!(
            props.get("com.cph.bandwidth_limit").map(String::as_str),
            Some("20000"),
            "phone {phone}'s bandwidth cap after teardown: {props:?}"
        );
    }
    // Set out of band, then set again by Terraform.
    assert!(
        calls["update_phone_property"] >= 5,
        "the original, the apply, the drift, its repair and the restore: {calls:?}"
    );
}

/// A phone's properties, as the CPH API shows them.
fn properties_of(emu: &Emulator, phone_id: &str) -> BTreeMap<String, String> {
    let shown = emu.api_get(&format!("phones/{phone_id}"));
    let text = shown["property"].as_str().unwrap_or("{}");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("property of {phone_id}: {e}: {text}"))
}

/// The examples `every_example_applies_against_the_emulator` runs: every
/// folder under examples/ with `.tf` or `.tfquery.hcl` files, but
/// module-testing (its own test above) and coexistence (another provider).
fn walked_examples() -> Vec<String> {
    let root = example_dir("");
    let mut dirs: Vec<String> = files_under(&root)
        .iter()
        .filter(|f| {
            let name = f.to_string_lossy();
            name.ends_with(".tf") || name.ends_with(".tfquery.hcl")
        })
        .filter_map(|f| f.parent().map(|p| p.to_string_lossy().into_owned()))
        .filter(|d| !d.starts_with("module-testing") && d != "coexistence")
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `-var` arguments an example's variables without defaults need, with ids
/// of the emulator's default fleet.
fn example_vars(dir: &str) -> Vec<String> {
    let vars: &[&str] = match dir {
        "actions/cph_phone_reset" => &["image_id=0f1e2d3c4b5a69788796a5b4c3d2e1f0"],
        "actions/cph_phone_restart" => &[
            "server_id=a176d8625981453bbafbc0a321d8d6a1",
            r#"phone_ids=["631056bfb66b4f4ea02ba25f04830cb4","148c297cd8be07944ba5598874b344d0"]"#,
        ],
        "actions/cph_phone_stop" => &["server_id=a176d8625981453bbafbc0a321d8d6a1"],
        "actions/cph_server_restart" => &[r#"server_ids=["a176d8625981453bbafbc0a321d8d6a1"]"#],
        "actions/cph_phone_command" => &[
            "server_id=a176d8625981453bbafbc0a321d8d6a1",
            r#"phone_ids=["631056bfb66b4f4ea02ba25f04830cb4","148c297cd8be07944ba5598874b344d0"]"#,
        ],
        "actions/cph_phone_command/rollout/app" => &[
            "server_id=a176d8625981453bbafbc0a321d8d6a1",
            "apk=obs://my-bucket/apps/v1/com.example.shop.apk",
        ],
        "ephemeral-resources/cph_phone_connection" => {
            &["server_id=a176d8625981453bbafbc0a321d8d6a1"]
        }
        _ => &[],
    };
    vars.iter()
        .flat_map(|v| ["-var".to_string(), v.to_string()])
        .collect()
}

/// `action "type" "name"` blocks of the example's files, as `type.name`.
fn actions_of(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (_, text) in files {
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("action \"") else {
                continue;
            };
            let parts: Vec<&str> = rest.split('"').collect();
            if parts.len() >= 3 {
                out.push(format!("{}.{}", parts[0], parts[2]));
            }
        }
    }
    out
}

/// The example's own modules (`source = "./NAME"`), copied beside it.
fn copy_local_modules(wd: &TfWorkdir, src: &Path, files: &[(String, String)]) {
    for (_, text) in files {
        for line in text.lines() {
            let Some(name) = line
                .trim()
                .strip_prefix("source")
                .map(|r| r.trim_start_matches([' ', '=']).trim_matches('"'))
                .and_then(|r| r.strip_prefix("./"))
            else {
                continue;
            };
            for file in files_under(&src.join(name)) {
                let text = std::fs::read_to_string(src.join(name).join(&file)).unwrap_or_default();
                wd.write(&format!("{name}/{}", file.to_string_lossy()), &text);
            }
        }
    }
}

/// Runs one example; the first failure, if any, as text.
fn run_example(tf: &TfBin, dir: &str) -> Result<(), String> {
    let emu = Emulator::start(&[]);
    if dir == "resources/cph_server_flavor/with_cph_server" {
        // It keeps the phone flavor: start where a bigger server flavor
        // sells the same phone flavor.
        emu.set_server_flavor(
            emu::SERVER_ID,
            "physical.rx1.xlarge.special",
            "rx1.cp.sp.c105.d8.e5v5",
        );
    }
    let src = example_dir(dir);
    let files: Vec<(String, String)> = std::fs::read_dir(&src)
        .map_err(|e| format!("{dir}: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| {
            (n.ends_with(".tf") || n.ends_with(".tfquery.hcl")) && n != "import-by-identity.tf"
        })
        .map(|n| {
            let text = std::fs::read_to_string(src.join(&n)).unwrap_or_default();
            (n, text)
        })
        .collect();
    // main.tf, else the file with the terraform block (provider.tf), else
    // a provider block (list resources: `.tfquery.hcl` files only).
    let (main_name, main) = files
        .iter()
        .find(|(n, _)| n == "main.tf")
        .or_else(|| files.iter().find(|(_, t)| t.contains("required_providers")))
        .cloned()
        .unwrap_or_else(|| (String::new(), "provider \"cph\" {}\n".to_string()));
    let mut wd = TfWorkdir::new(tf, &main);
    for (name, text) in &files {
        if *name != main_name {
            wd.write(name, text);
        }
    }
    copy_local_modules(&wd, &src, &files);
    install_from_mirror(&mut wd, &emu);
    let vars = example_vars(dir);
    let run = |args: Vec<String>| -> Result<support::TfOutput, String> {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = wd.run(&argv);
        if out.success() {
            Ok(out)
        } else {
            Err(format!(
                "examples/{dir}: terraform {} failed:\n{}\n{}",
                args.join(" "),
                out.stdout,
                out.stderr
            ))
        }
    };
    let with_vars = |base: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        a.extend(vars.iter().cloned());
        a
    };
    run(vec![
        "init".into(),
        "-input=false".into(),
        "-no-color".into(),
    ])?;
    run(with_vars(&["apply", "-auto-approve", "-no-color"]))?;
    // The apply converged: the next plan changes no resource (outputs read
    // from data sources before the apply may change, as in cph_phones's).
    let again = run(with_vars(&["plan", "-no-color"]))?;
    if again
        .stdout
        .contains("Terraform will perform the following actions")
    {
        return Err(format!(
            "examples/{dir}: the plan after apply changes resources:\n{}",
            again.stdout
        ));
    }
    for action in actions_of(&files) {
        let invoke = format!("-invoke=action.{action}");
        run(with_vars(&["apply", "-auto-approve", "-no-color", &invoke]))?;
    }
    if files.iter().any(|(n, _)| n.ends_with(".tfquery.hcl")) {
        run(with_vars(&["query", "-no-color"]))?;
    }
    run(with_vars(&["destroy", "-auto-approve", "-no-color"]))?;
    Ok(())
}

/// The test build installed from a filesystem mirror, and the emulator's
/// settings.
fn install_from_mirror(wd: &mut TfWorkdir, emu: &Emulator) {
    wd.add_provider_to_mirror(env!("CARGO_PKG_VERSION"));
    wd.write_cli_config(&format!(
        "disable_checkpoint = true\n\nprovider_installation {{\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
        support::hcl_string(&wd.mirror_dir()),
    ));
    for (k, v) in emu.aksk_env() {
        wd.set_env(&k, &v);
    }
}

#[test]
fn every_example_applies_against_the_emulator() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let examples = walked_examples();
    for want in [
        "quickstart",
        "fleet",
        "actions/cph_phone_reset",
        "list-resources/cph_phone_route",
    ] {
        assert!(
            examples.iter().any(|e| e == want),
            "{want} is walked: {examples:?}"
        );
    }
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|dir| run_example(&tf, dir).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}
