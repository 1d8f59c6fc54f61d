//! `make demo`, the first command of the quick start, as users run it:
//! `scripts/demo.sh` from start to finish (init, apply, an empty plan, a
//! flavor change, a route change, destroy), on the debug build the tests
//! use (`DEMO_PROFILE=debug`) instead of a release build. Acceptance test:
//! runs with `TF_ACC=1`.

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn the_demo_runs_from_start_to_finish() {
    if support::acc().is_none() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .current_dir(root)
        .env("DEMO_PROFILE", "debug")
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("TF_LOG")
        .output()
        .expect("run scripts/demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "make demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for step in [
        "Apply complete!",
        "flavor change: 1 changed in place, 0 destroyed.",
        "route change: 1 changed in place, 0 destroyed.",
        "Destroy complete!",
        "The demo ran init, apply, an empty plan, a flavor change, a route change and destroy.",
    ] {
        assert!(
            stdout.contains(step),
            "the demo did not say {step:?}:\n{stdout}"
        );
    }
}
