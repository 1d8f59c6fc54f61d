//! Acceptance-test harness: runs the real `terraform` against this provider.
//!
//! Terraform convention: acceptance tests run only when `TF_ACC=1`. Start
//! every such test with
//!
//! ```ignore
//! let Some(tf) = support::acc() else { return };
//! let wd = support::TfWorkdir::new(&tf, r#"provider "cph" { ... }"#);
//! wd.run_ok(&["apply", "-auto-approve"]);
//! let state = wd.state_json();
//! ```
//!
//! - [`acc`] returns `None` (and prints a note) unless `TF_ACC=1`; with
//!   `TF_ACC=1` a missing terraform is a failure, not a skip.
//! - Terraform is `TF_ACC_TERRAFORM_PATH`, else the project's
//!   `.tools/bin/terraform` (Terraform 1.0.3, installed by `make tools`).
//! - [`TfWorkdir`] is a temporary directory with `main.tf` and a private CLI
//!   configuration whose `dev_overrides` point `cloudphone/cph` at the
//!   directory of the provider binary cargo built for these tests. With
//!   dev_overrides `terraform init` is unnecessary (Terraform warns if run);
//!   `plan`/`apply` work directly. No network: other providers come from a
//!   filesystem mirror in the directory (empty at first), checkpoint is off,
//!   no plugin cache. Terraform 1.0's `init` still looks `cloudphone/cph` up
//!   in the installation sources despite dev_overrides; call
//!   [`TfWorkdir::add_provider_to_mirror`] first when a test needs `init`.
//!
//! Add `mod support;` to a test file to use it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// The terraform binary the acceptance tests drive.
#[derive(Debug, Clone)]
pub struct TfBin {
    path: PathBuf,
}

impl TfBin {
    /// A terraform at `path`, e.g. an older release for cross-version tests.
    pub fn at(path: PathBuf) -> TfBin {
        TfBin { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `terraform version`'s first line, e.g. `Terraform v1.0.3`.
    pub fn version(&self) -> String {
        Command::new(&self.path)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default()
    }
}

/// Where terraform is expected: `TF_ACC_TERRAFORM_PATH`, else `.tools/bin/terraform`.
pub fn terraform_path() -> PathBuf {
    match std::env::var_os("TF_ACC_TERRAFORM_PATH").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform"),
    }
}

/// A tool's path from the environment variable `var` (when set and not
/// empty), else `.tools/bin/<file>` in the project, e.g.
/// `tool_path("TF_ACC_TERRAFORM_1_15_PATH", "terraform-1.15")` for the
/// cross-version tests.
pub fn tool_path(var: &str, file: &str) -> PathBuf {
    match std::env::var_os(var).filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".tools/bin")
            .join(file),
    }
}
/// Terraform 1.15 when acceptance tests are on (`None`, with a note, when
/// they are off); an error when `TF_ACC=1` and it cannot run.
pub fn terraform_1_15() -> Option<TfBin> {
    if std::env::var("TF_ACC").as_deref() != Ok("1") {
        eprintln!("note: acceptance test skipped; set TF_ACC=1 to run it with Terraform 1.15");
        return None;
    }
    let path = tool_path("TF_ACC_TERRAFORM_1_15_PATH", "terraform-1.15");
    let tf = TfBin::at(path.clone());
    let version = tf.version();
    assert!(
        version.starts_with("Terraform v1.15"),
        "TF_ACC=1 but Terraform 1.15 is not runnable at {} (got {version:?}); set TF_ACC_TERRAFORM_1_15_PATH or run `make tools`",
        path.display()
    );
    Some(tf)
}

/// The terraform to use when acceptance tests are on (`TF_ACC=1`); `None`
/// with a printed note when they are off. Panics when they are on and
/// terraform cannot be found.
pub fn acc() -> Option<TfBin> {
    if std::env::var("TF_ACC").as_deref() != Ok("1") {
        eprintln!("note: acceptance test skipped; set TF_ACC=1 to run it with the real terraform");
        return None;
    }
    let path = terraform_path();
    let runs = Command::new(&path)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        runs,
        "TF_ACC=1 but terraform is not runnable at {} (set TF_ACC_TERRAFORM_PATH, or run `make tools` to install Terraform 1.0.3 into .tools/)",
        path.display()
    );
    Some(TfBin { path })
}

/// The provider binary cargo built for the tests.
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cph"))
}

/// Terraform's name for this platform, e.g. `linux_amd64`.
pub fn terraform_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// What one terraform command did.
#[derive(Debug)]
pub struct TfOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout, then stderr, as one [`flat`] line.
    pub fn flat(&self) -> String {
        flat(&format!("{}\n{}", self.stdout, self.stderr))
    }
}

/// Terraform's output as one line, its diagnostic boxes and wrapping
/// removed, so that a message matches whatever the terminal's width.
pub fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A terraform working directory with `main.tf` and its own CLI config.
pub struct TfWorkdir {
    dir: tempfile::TempDir,
    tf: TfBin,
    env: Vec<(String, String)>,
}

impl TfWorkdir {
    /// A fresh directory with `main_tf` as `main.tf`. A `terraform` block
    /// requiring `cloudphone/cph` is added unless `main_tf` has one.
    pub fn new(tf: &TfBin, main_tf: &str) -> TfWorkdir {
        let dir = tempfile::Builder::new()
            .prefix("tfacc")
            .tempdir()
            .expect("create a temporary directory");
        let wd = TfWorkdir {
            dir,
            tf: tf.clone(),
            env: Vec::new(),
        };
        let main = if main_tf.contains("required_providers") {
            main_tf.to_string()
        } else {
            format!(
                "terraform {{\n  required_providers {{\n    cph = {{ source = \"cloudphone/cph\" }}\n  }}\n}}\n\n{main_tf}"
            )
        };
        wd.write("main.tf", &main);
        std::fs::create_dir_all(wd.mirror_dir()).expect("create mirror dir");
        let provider_dir = provider_binary()
            .parent()
            .expect("the provider binary has a directory")
            .to_path_buf();
        wd.write_cli_config(&format!(
            "disable_checkpoint = true\n\nprovider_installation {{\n  dev_overrides {{\n    \"cloudphone/cph\" = {}\n  }}\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
            hcl_string(&provider_dir),
            hcl_string(&wd.mirror_dir()),
        ));
        wd
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A directory for terraform releases without `dev_overrides` (before
    /// 0.14): the test build is installed from the filesystem mirror as
    /// `version`, and `terraform init` is run.
    pub fn with_mirror_install(tf: &TfBin, main_tf: &str, version: &str) -> TfWorkdir {
        let wd = TfWorkdir::new(tf, main_tf);
        wd.add_provider_to_mirror(version);
        wd.write_cli_config(&format!(
            "disable_checkpoint = true\n\nprovider_installation {{\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
            hcl_string(&wd.mirror_dir()),
        ));
        wd.run_ok(&["init", "-input=false", "-no-color"]);
        wd
    }

    /// The filesystem mirror of the default CLI configuration.
    pub fn mirror_dir(&self) -> PathBuf {
        self.dir.path().join(".mirror")
    }

    /// Puts the test build of the provider into the mirror as `version`, in
    /// the unpacked layout
    /// `registry.terraform.io/cloudphone/cph/<version>/<os_arch>/terraform-provider-cph_v<version>`.
    pub fn add_provider_to_mirror(&self, version: &str) {
        let pkg = self
            .mirror_dir()
            .join("registry.terraform.io/cloudphone/cph")
            .join(version)
            .join(terraform_platform());
        std::fs::create_dir_all(&pkg).expect("create mirror package dir");
        std::fs::copy(
            provider_binary(),
            pkg.join(format!("terraform-provider-cph_v{version}")),
        )
        .expect("copy the provider into the mirror");
    }

    /// Writes (or replaces) a file in the directory.
    pub fn write(&self, name: &str, content: &str) {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Replaces the CLI configuration (`TF_CLI_CONFIG_FILE`) with `content`.
    pub fn write_cli_config(&self, content: &str) {
        self.write(".terraformrc", content);
    }

    /// An environment variable for every later command (e.g. `HW_*`, `TF_LOG`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Runs `terraform <args>` in the directory.
    pub fn run(&self, args: &[&str]) -> TfOutput {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.tf.path().display()));
        TfOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `terraform <args>` with `input` on its standard input (e.g.
    /// expressions for `terraform console`).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> TfOutput {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.tf.path().display()));
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .expect("write terraform's input");
        }
        let out = child.wait_with_output().expect("terraform's output");
        TfOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts `terraform <args>` in its own process group, as a shell
    /// starts a foreground job, so that a test can send SIGINT to the group
    /// as Ctrl-C does; `env` on top of the directory's. Its output goes to
    /// `apply.stdout` and `apply.stderr` in the directory.
    #[cfg(unix)]
    pub fn spawn_in_group(&self, args: &[&str], env: &[(String, String)]) -> Child {
        use std::os::unix::process::CommandExt;
        let file = |name: &str| {
            std::fs::File::create(self.dir.path().join(name))
                .unwrap_or_else(|e| panic!("create {name}: {e}"))
        };
        self.command(args)
            .stdout(file("apply.stdout"))
            .stderr(file("apply.stderr"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.tf.path().display()))
    }

    /// `terraform <args>` in this directory, with its CLI configuration and
    /// environment, and nothing of the caller's that changes what it does.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.tf.path());
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join(".terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_CLI_ARGS")
            .env_remove("TF_DATA_DIR")
            .env_remove("TF_WORKSPACE");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform <args>` and panics, showing both streams, unless it succeeds.
    pub fn run_ok(&self, args: &[&str]) -> TfOutput {
        let out = self.run(args);
        assert!(
            out.success(),
            "terraform {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            out.status,
            out.stdout,
            out.stderr
        );
        out
    }

    /// The state as `terraform show -json` prints it.
    pub fn state_json(&self) -> serde_json::Value {
        let out = self.run_ok(&["show", "-json"]);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "terraform show -json printed invalid JSON ({e}):\n{}",
                out.stdout
            )
        })
    }
}

/// A path as an HCL string literal.
pub fn hcl_string(p: &Path) -> String {
    serde_json::to_string(&p.display().to_string()).expect("a string serialises")
}

/// A number in `0..n` from the clock and a counter (no test depends on it
/// being uniform).
pub fn rand_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() % n.max(1)
}

/// Collects formatted log output: a `tracing_subscriber` writer for tests
/// that check what the client logs.
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    /// A buffer that, while the guard lives, receives what this thread logs
    /// at `level` and above (formatted, no ANSI colours).
    pub fn capture(level: tracing::Level) -> (LogBuffer, tracing::subscriber::DefaultGuard) {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// What was written so far, as text (empty if it is not UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
