//! Installing the provider as users do: `terraform init` from a provider
//! registry and from a network mirror, both served over HTTPS on 127.0.0.1,
//! on Terraform 1.0.3 and 1.15.5 (`TF_ACC=1`).
//!
//! The release is made by `scripts/package_release.py`, the packager
//! `make release` uses, from the provider binary cargo built for the tests
//! (no second, release-profile build), signed with a throwaway GPG key. A
//! small Python HTTPS server (certificate made here with rcgen, trusted
//! through `SSL_CERT_FILE`) serves three copies of it:
//!
//! - `good/`: as released; the CLI configuration's `host "registry.terraform.io"`
//!   block points `providers.v1` at its `registry/v1/providers/`;
//! - `badsig/`: the same with a corrupted `SHA256SUMS.sig`;
//! - `badzip/`: the same with a corrupted zip (SHA256SUMS unchanged).
//!
//! Needs `gpg` and `python3` (or `CPH_TEST_PYTHON`).

mod emu;
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use emu::Emulator;
use support::{TfBin, TfWorkdir, hcl_string};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const SITES: [&str; 3] = ["good", "badsig", "badzip"];

/// Serves a directory over HTTPS on 127.0.0.1 and prints its port; JSON
/// content type for extension-less files (the registry documents). Exits
/// when its stdin closes, that is when the test process ends.
const SERVER_PY: &str = r#"
import functools, http.server, os, ssl, sys, threading
root, cert, key = sys.argv[1:4]
class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      "": "application/json", ".json": "application/json"}
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
    functools.partial(Handler, directory=root))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
os._exit(0)
"#;

/// The packaged release behind the HTTPS server, shared by the tests.
struct Release {
    root: tempfile::TempDir,
    port: u16,
    key_id: String,
    _server: Child,
}

impl Release {
    fn url(&self, site: &str, path: &str) -> String {
        format!("https://127.0.0.1:{}/{site}/{path}", self.port)
    }

    fn cert(&self) -> PathBuf {
        self.root.path().join("cert.pem")
    }

    fn site(&self, site: &str) -> PathBuf {
        self.root.path().join("www").join(site)
    }

    fn zip_name(&self) -> String {
        format!(
            "terraform-provider-cph_{VERSION}_{}.zip",
            support::terraform_platform()
        )
    }
}

fn python() -> String {
    std::env::var("CPH_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A self-signed certificate for 127.0.0.1: (cert.pem, key.pem) in `dir`.
fn write_certificate(dir: &Path) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("write cert.pem");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write key.pem");
}

fn start_server(root: &Path) -> (Child, u16) {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(SERVER_PY)
        .arg(root.join("www"))
        .arg(root.join("cert.pem"))
        .arg(root.join("key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start the HTTPS server with {}: {e}", python()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("server stdout"))
        .read_line(&mut line)
        .expect("the server's port");
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the server printed {line:?}, not a port"));
    (child, port)
}

/// Runs the release packager on the test build into `www/good`.
fn package(root: &Path, port: u16) -> String {
    let platform = support::terraform_platform();
    let out = Command::new(python())
        .arg(repo().join("scripts/package_release.py"))
        .args(["--version", VERSION, "--dist"])
        .arg(root.join("www/good"))
        .arg("--manifest")
        .arg(repo().join("terraform-registry-manifest.json"))
        .arg("--binary")
        .arg(format!(
            "{platform}={}",
            support::provider_binary().display()
        ))
        // The emulator's zip is released beside the provider's, its line in
        // the same SHA256SUMS: `terraform init` must not mind it.
        .arg("--emulator")
        .arg(format!("{platform}={}", emu::emulator_bin().display()))
        .args(["--base-url", &format!("https://127.0.0.1:{port}/good/")])
        .output()
        .expect("run scripts/package_release.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "package_release.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("signed by key ID "))
        .expect("the packager names the key")
        .trim()
        .to_string()
}

/// A copy of the good site as `site`, its download documents pointing at it.
fn copy_site(release: &Release, site: &str) {
    let copy = Command::new("cp")
        .arg("-R")
        .arg(release.site("good"))
        .arg(release.site(site))
        .status()
        .expect("cp -R");
    assert!(copy.success(), "copy the site");
    let downloads = release
        .site(site)
        .join("registry/v1/providers/cloudphone/cph")
        .join(VERSION)
        .join("download");
    for os in std::fs::read_dir(&downloads)
        .expect("download dir")
        .flatten()
    {
        for doc in std::fs::read_dir(os.path()).expect("os dir").flatten() {
            let text = std::fs::read_to_string(doc.path()).expect("download document");
            std::fs::write(doc.path(), text.replace("/good/", &format!("/{site}/")))
                .expect("rewrite download document");
        }
    }
}

/// Flips one byte in the middle of `path`.
fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read file to corrupt");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(path, bytes).expect("write corrupted file");
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("cph-registry")
            .tempdir()
            .expect("temp dir");
        write_certificate(root.path());
        std::fs::create_dir_all(root.path().join("www")).expect("www");
        let (server, port) = start_server(root.path());
        let key_id = package(root.path(), port);
        let release = Release {
            root,
            port,
            key_id,
            _server: server,
        };
        copy_site(&release, "badsig");
        corrupt(
            &release
                .site("badsig")
                .join(format!("terraform-provider-cph_{VERSION}_SHA256SUMS.sig")),
        );
        copy_site(&release, "badzip");
        corrupt(&release.site("badzip").join(release.zip_name()));
        for site in SITES {
            assert!(release.site(site).is_dir());
        }
        release
    })
}

/// A CLI configuration whose registry.terraform.io is `site` of the server.
fn registry_config(release: &Release, site: &str) -> String {
    format!(
        "disable_checkpoint = true\n\nhost \"registry.terraform.io\" {{\n  services = {{\n    \"providers.v1\" = {}\n  }}\n}}\n",
        hcl_string(Path::new(&release.url(site, "registry/v1/providers/")))
    )
}

fn mirror_config(release: &Release) -> String {
    format!(
        "disable_checkpoint = true\n\nprovider_installation {{\n  network_mirror {{\n    url = {}\n  }}\n}}\n",
        hcl_string(Path::new(&release.url("good", "network-mirror/")))
    )
}

const REQUIRES: &str = "terraform {\n  required_providers {\n    cph = {\n      source  = \"cloudphone/cph\"\n      version = \"VERSION\"\n    }\n  }\n}\n";

/// A directory that installs the provider with `cli_config`.
fn workdir(tf: &TfBin, release: &Release, cli_config: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, &REQUIRES.replace("VERSION", VERSION));
    w.write_cli_config(cli_config);
    w.set_env("SSL_CERT_FILE", &release.cert().display().to_string());
    w
}

fn init(w: &TfWorkdir) -> support::TfOutput {
    w.run(&["init", "-input=false", "-no-color"])
}

fn lock_file(w: &TfWorkdir) -> String {
    std::fs::read_to_string(w.path().join(".terraform.lock.hcl")).expect("a lock file")
}

/// The `prefix` hashes (e.g. "h1:") the lock file records.
fn hashes(lock: &str, prefix: &str) -> Vec<String> {
    lock.split('"')
        .filter(|s| s.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("read")))
}

/// Every line of SHA256SUMS as a zh: hash, sorted as lock files sort them.
fn sums_as_zh(release: &Release) -> Vec<String> {
    let sums = release
        .site("good")
        .join(format!("terraform-provider-cph_{VERSION}_SHA256SUMS"));
    let mut zh: Vec<String> = std::fs::read_to_string(sums)
        .expect("SHA256SUMS")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|h| format!("zh:{h}"))
        .collect();
    zh.sort();
    zh
}

/// The h1: hash the network mirror's `{version}.json` gives for this platform.
fn mirror_h1(release: &Release) -> String {
    let doc = release
        .site("good")
        .join("network-mirror/registry.terraform.io/cloudphone/cph")
        .join(format!("{VERSION}.json"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(doc).expect("mirror doc")).expect("JSON");
    doc["archives"][support::terraform_platform()]["hashes"][0]
        .as_str()
        .expect("an h1 hash")
        .to_string()
}

fn assert_refused(out: &support::TfOutput, what: &str, words: &[&str]) {
    let text = format!("{}{}", out.stdout, out.stderr).to_lowercase();
    assert!(
        !out.success(),
        "init accepted {what}:\n{}{}",
        out.stdout,
        out.stderr
    );
    assert!(
        words.iter().any(|w| text.contains(w)),
        "init refused {what}, but did not say why ({words:?}):\n{text}"
    );
}

/// Installs from the registry, checks authentication and the lock file.
fn install_signed(tf: &TfBin, release: &Release) -> TfWorkdir {
    let w = workdir(tf, release, &registry_config(release, "good"));
    let out = init(&w);
    assert!(out.success(), "init:\n{}\n{}", out.stdout, out.stderr);
    let said = out.stdout.replace('\n', " ");
    assert!(
        said.contains(&format!("(self-signed, key ID {})", release.key_id)),
        "not installed as signed by key {}:\n{}",
        release.key_id,
        out.stdout
    );
    let lock = lock_file(&w);
    let zip = release.site("good").join(release.zip_name());
    let zh = hashes(&lock, "zh:");
    assert!(
        zh.contains(&format!("zh:{}", sha256_hex(&zip))),
        "the lock file records the zip's SHA-256:\n{lock}"
    );
    assert_eq!(
        zh,
        sums_as_zh(release),
        "zh: hashes are SHA256SUMS' lines:\n{lock}"
    );
    assert_eq!(
        hashes(&lock, "h1:"),
        vec![mirror_h1(release)],
        "Terraform's own h1: hash of the package equals the mirror's:\n{lock}"
    );
    w
}

/// A fresh directory with the lock file installs, and checks it: a lock
/// file with another h1: hash is refused.
fn reinstall_with_lock(tf: &TfBin, release: &Release, lock: &str) {
    let again = workdir(tf, release, &registry_config(release, "good"));
    again.write(".terraform.lock.hcl", lock);
    let out = init(&again);
    assert!(
        out.success(),
        "init with the lock file:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(lock_file(&again), lock, "the lock file is unchanged");

    // Terraform accepts a package matching any recorded hash: change them all.
    let mut wrong = lock.to_string();
    for h in hashes(lock, "h1:") {
        wrong = wrong.replace(&h, &format!("h1:{}=", "A".repeat(43)));
    }
    for (i, h) in hashes(lock, "zh:").into_iter().enumerate() {
        wrong = wrong.replace(&h, &format!("zh:{i:064x}"));
    }
    let tampered = workdir(tf, release, &registry_config(release, "good"));
    tampered.write(".terraform.lock.hcl", &wrong);
    assert_refused(
        &init(&tampered),
        "a package that does not match the lock file",
        &["checksum"],
    );
}

fn refuses_corrupted(tf: &TfBin, release: &Release) {
    let w = workdir(tf, release, &registry_config(release, "badsig"));
    assert_refused(&init(&w), "a corrupted SHA256SUMS.sig", &["signature"]);
    let w = workdir(tf, release, &registry_config(release, "badzip"));
    assert_refused(&init(&w), "a corrupted zip", &["checksum"]);
}

fn installs_from_network_mirror(tf: &TfBin, release: &Release) {
    let w = workdir(tf, release, &mirror_config(release));
    let out = init(&w);
    assert!(
        out.success(),
        "init from the network mirror:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout
            .contains(&format!("Installed cloudphone/cph v{VERSION}")),
        "{}",
        out.stdout
    );
    assert_eq!(hashes(&lock_file(&w), "h1:"), vec![mirror_h1(release)]);
}

/// The quick start, in the directory the registry installed the provider in.
fn quickstart_applies(w: &mut TfWorkdir) {
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "2"]);
    std::fs::remove_file(w.path().join("main.tf")).expect("remove main.tf");
    for file in ["main.tf", "variables.tf", "outputs.tf"] {
        let text = std::fs::read_to_string(repo().join("examples/quickstart").join(file))
            .expect("quickstart file");
        w.write(file, &text);
    }
    for (k, v) in emu.aksk_env() {
        w.set_env(&k, &v);
    }
    let server = format!("-var=server_id={}", emu.server_ids()[0]);
    w.run_ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &server,
    ]);
    let state = w.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources");
    assert!(
        resources.iter().any(|r| r["type"] == "cph_server_flavor"
            && r["provider_name"]
                .as_str()
                .is_some_and(|p| p.ends_with("cloudphone/cph"))),
        "the installed provider applied the quick start: {state}"
    );
}

fn journey(tf: &TfBin) {
    let release = release();
    let mut w = install_signed(tf, release);
    reinstall_with_lock(tf, release, &lock_file(&w));
    refuses_corrupted(tf, release);
    installs_from_network_mirror(tf, release);
    quickstart_applies(&mut w);
}

fn terraform(var: &str, file: &str, expect: &str) -> Option<TfBin> {
    support::acc()?;
    let tf = TfBin::at(support::tool_path(var, file));
    let version = tf.version();
    assert!(
        version.starts_with(expect),
        "TF_ACC=1 but {} ({var}) is not {expect}x but {version:?} (run `make tools`)",
        tf.path().display()
    );
    Some(tf)
}

#[test]
fn registry_install_on_terraform_1_0() {
    let Some(tf) = terraform("TF_ACC_TERRAFORM_PATH", "terraform", "Terraform v1.0.") else {
        return;
    };
    journey(&tf);
}

#[test]
fn registry_install_on_terraform_1_15() {
    let Some(tf) = terraform(
        "TF_ACC_TERRAFORM_1_15_PATH",
        "terraform-1.15",
        "Terraform v1.15.",
    ) else {
        return;
    };
    journey(&tf);
}
