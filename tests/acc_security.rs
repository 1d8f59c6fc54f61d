//! Secrets stay secret, and the plugin channel is closed to everyone but
//! Terraform.
//!
//! - Every way to authenticate (AK/SK with a security token, from the
//!   environment and from the provider block; a token; IAM user and password;
//!   a wrong password) goes through apply, plan, a failing apply and destroy
//!   with `TF_LOG=TRACE`. Neither terraform's output (provider logs arrive on
//!   its stderr), nor the `TF_LOG_PATH` file, nor the state files contain the
//!   secret key, the security token, the auth token, a password, a token
//!   issued by IAM (the emulator's are `MII` + 64 hex digits) or an AK/SK
//!   `Signature=` value.
//! - While terraform runs the provider: its socket lives in a directory only
//!   this user can enter, and a local client that is not terraform (plaintext,
//!   TLS without a certificate, TLS with a certificate of its own) cannot call
//!   the provider's gRPC service.
//!
//! Runs when `TF_ACC=1`.

mod emu;
mod plugin_client;
mod support;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use emu::{Emulator, SERVER_ID};
use plugin_client::{ClientIdentity, plaintext_channel, tls_channel};
use support::{TfOutput, TfWorkdir};
use tf_framework::testing::tfplugin5 as pb;
use tf_framework::testing::tfplugin5::provider_client::ProviderClient;

// Distinctive secrets, so that any appearance is a leak and not a coincidence.
const SECRET_KEY: &str = "sk-Zq81vN-secret-key-never-printed";
const SECURITY_TOKEN: &str = "st-Wx52pR-security-token-never-printed";
const AUTH_TOKEN: &str = "at-Kd09tE-auth-token-never-printed";
const PASSWORD: &str = "pw-Lm77yU-password-never-printed";
const WRONG_PASSWORD: &str = "pw-Qa31zZ-wrong-password-never-printed";

const SECRETS: [&str; 5] = [
    SECRET_KEY,
    SECURITY_TOKEN,
    AUTH_TOKEN,
    PASSWORD,
    WRONG_PASSWORD,
];

const MAIN_TF: &str = r#"
provider "cph" {}
variable "server_model" { default = "physical.rx1.xlarge" }
variable "phone_model" { default = "rx1.cp.c15.d46.e1v1" }
data "cph_server" "s" { server_id = "a176d8625981453bbafbc0a321d8d6a1" }
data "cph_phones" "all" { server_id = data.cph_server.s.server_id }
resource "cph_phone_route" "r" {
  phone_ids    = data.cph_phones.all.phone_ids
  traffic_type = "routing"
}
resource "cph_server_flavor" "f" {
  server_id         = data.cph_server.s.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
}
"#;

fn start_emulator(order_seconds: &str) -> Emulator {
    Emulator::start(&[
        "--order-seconds",
        order_seconds,
        "--job-seconds",
        "0.3",
        "--secret-key",
        SECRET_KEY,
        "--security-token",
        SECURITY_TOKEN,
        "--auth-token",
        AUTH_TOKEN,
        "--password",
        PASSWORD,
    ])
}

fn base_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("HW_REGION_NAME", emu::REGION.to_string()),
        ("HW_PROJECT_ID", emu::PROJECT_ID.to_string()),
        ("HW_CPH_ENDPOINT", emu.url.clone()),
        ("HW_MAX_RETRIES", "1".to_string()),
    ]
}

/// How the provider authenticates in one run of the check.
struct Method {
    name: &'static str,
    env: Vec<(&'static str, String)>,
    /// Replaces `provider "cph" {}` when set.
    block: Option<String>,
    /// The apply is expected to fail (wrong credentials).
    fails: bool,
}

fn methods(emu: &Emulator) -> Vec<Method> {
    let with = |extra: Vec<(&'static str, String)>| {
        let mut env = base_env(emu);
        env.extend(extra);
        env
    };
    let password = |pw: &str| {
        with(vec![
            ("HW_AUTH_URL", format!("{}/v3", emu.url)),
            ("HW_USER_NAME", emu::USER_NAME.to_string()),
            ("HW_USER_PASSWORD", pw.to_string()),
            ("HW_DOMAIN_NAME", emu::DOMAIN_NAME.to_string()),
        ])
    };
    vec![
        Method {
            name: "AK/SK + security token (environment)",
            env: with(vec![
                ("HW_ACCESS_KEY", emu::ACCESS_KEY.to_string()),
                ("HW_SECRET_KEY", SECRET_KEY.to_string()),
                ("HW_SECURITY_TOKEN", SECURITY_TOKEN.to_string()),
            ]),
            block: None,
            fails: false,
        },
        Method {
            name: "AK/SK + security token (provider block)",
            env: base_env(emu),
            block: Some(format!(
                "provider \"cph\" {{\n  access_key     = \"{}\"\n  secret_key     = \"{SECRET_KEY}\"\n  security_token = \"{SECURITY_TOKEN}\"\n}}",
                emu::ACCESS_KEY
            )),
            fails: false,
        },
        Method {
            name: "auth token",
            env: with(vec![("HW_AUTH_TOKEN", AUTH_TOKEN.to_string())]),
            block: None,
            fails: false,
        },
        Method {
            name: "IAM user and password",
            env: password(PASSWORD),
            block: None,
            fails: false,
        },
        Method {
            name: "IAM user and a wrong password",
            env: password(WRONG_PASSWORD),
            block: None,
            fails: true,
        },
    ]
}

/// What leaked in `text`, if anything.
fn leaks(text: &str) -> Vec<String> {
    let mut found: Vec<String> = SECRETS
        .iter()
        .filter(|s| text.contains(*s))
        .map(|s| format!("secret {s:?}"))
        .collect();
    // Tokens the emulator's IAM issues: "MII" and 64 hex digits.
    for (i, _) in text.match_indices("MII") {
        let hex = text[i + 3..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        if hex >= 64 {
            found.push(format!("IAM token {}…", &text[i..i + 12]));
            break;
        }
    }
    // An AK/SK signature: "Signature=" and a hex digest.
    for (i, _) in text.match_indices("Signature=") {
        let hex = text[i + 10..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        if hex >= 16 {
            found.push(format!("signature {}…", &text[i..i + 20]));
            break;
        }
    }
    found
}

fn check(what: &str, text: &str, problems: &mut Vec<String>) {
    for leak in leaks(text) {
        problems.push(format!("{what}: {leak}"));
    }
}

fn check_output(what: &str, out: &TfOutput, problems: &mut Vec<String>) {
    check(&format!("{what} stdout"), &out.stdout, problems);
    check(&format!("{what} stderr"), &out.stderr, problems);
}

fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

#[test]
fn the_leak_check_finds_what_it_looks_for() {
    assert!(leaks("nothing here Signature=<redacted> MIIabc").is_empty());
    assert_eq!(leaks(&format!("x {SECRET_KEY} y")).len(), 1);
    assert_eq!(
        leaks(&format!("token MII{}", "ab".repeat(32))).len(),
        1,
        "an IAM token"
    );
    assert_eq!(
        leaks("Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=0123456789abcdef0123").len(),
        1
    );
}

#[test]
fn no_secret_in_output_logs_or_state_with_tf_log_trace() {
    let Some(tf) = support::acc() else { return };
    let emu = start_emulator("1");
    let mut problems = Vec::new();
    for method in methods(&emu) {
        let main = match &method.block {
            Some(block) => MAIN_TF.replace("provider \"cph\" {}", block),
            None => MAIN_TF.to_string(),
        };
        let mut w = TfWorkdir::new(&tf, &main);
        for (k, v) in &method.env {
            w.set_env(k, v);
        }
        w.set_env("TF_LOG", "TRACE");
        let name = method.name;
        let apply = |w: &TfWorkdir, flavor: (&str, &str)| {
            w.run(&[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &format!("-var=server_model={}", flavor.0),
                &format!("-var=phone_model={}", flavor.1),
            ])
        };

        // Apply with TRACE logs on stderr: routes, data sources, a flavor change.
        let out = apply(&w, emu::SPECIAL_FLAVOR);
        assert_eq!(
            out.success(),
            !method.fails,
            "{name}: apply\n{}",
            out.stderr
                .lines()
                .filter(|l| l.contains("Error"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            out.stderr.contains("provider.terraform-provider-cph"),
            "{name}: the provider's logs reach terraform's stderr"
        );
        check_output(&format!("{name}: apply"), &out, &mut problems);
        if method.fails {
            assert!(
                out.stderr.contains("IAM.") || out.stderr.contains("401"),
                "{name}: the error says why"
            );
        }

        // A failing apply (the API refuses) and a plan, logging to a file.
        let log = w.path().join("tf.log");
        w.set_env("TF_LOG_PATH", &log.display().to_string());
        emu.add_fault(serde_json::json!({"endpoint": "show_server", "kind": "status", "status": 500, "count": 2}));
        let out = apply(&w, emu::FLAVOR);
        emu.clear_faults();
        assert!(!out.success(), "{name}: the API refused");
        check_output(&format!("{name}: failing apply"), &out, &mut problems);
        let out = w.run(&["plan", "-input=false", "-no-color"]);
        check_output(&format!("{name}: plan"), &out, &mut problems);
        let log_text = read(&log);
        assert!(
            log_text.contains("provider.terraform-provider-cph") && log_text.contains("CPH call"),
            "{name}: TF_LOG_PATH has the provider's logs, down to each HTTP call"
        );
        check(
            &format!("{name}: TF_LOG_PATH file"),
            &log_text,
            &mut problems,
        );

        // Destroy (routes go back to direct).
        let out = w.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
        check_output(&format!("{name}: destroy"), &out, &mut problems);
        check(
            &format!("{name}: TF_LOG_PATH file after destroy"),
            &read(&log),
            &mut problems,
        );
        for state in ["terraform.tfstate", "terraform.tfstate.backup"] {
            check(
                &format!("{name}: {state}"),
                &read(&w.path().join(state)),
                &mut problems,
            );
        }
        // Put the flavor back for the next method.
        emu.set_server_flavor(SERVER_ID, emu::FLAVOR.0, emu::FLAVOR.1);
    }
    assert!(
        emu.calls()["iam_tokens"] >= 1,
        "password auth went through IAM"
    );
    assert!(
        problems.is_empty(),
        "secrets leaked:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The plugin channel while terraform runs the provider.

/// How the intruder talks to the socket.
#[derive(Debug, Clone, Copy)]
enum Intruder {
    Plaintext,
    TlsWithoutCertificate,
    TlsWithOwnCertificate,
}

async fn intrude(socket: PathBuf, how: Intruder) -> Result<(), String> {
    let channel = match how {
        Intruder::Plaintext => plaintext_channel(socket).await?,
        Intruder::TlsWithoutCertificate => tls_channel(socket, None, None).await?,
        Intruder::TlsWithOwnCertificate => {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| e.to_string())?;
            let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])
                .map_err(|e| e.to_string())?;
            let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
            let own = ClientIdentity {
                der: cert.der().to_vec(),
                key: key.serialize_der(),
            };
            tls_channel(socket, None, Some(&own)).await?
        }
    };
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        ProviderClient::new(channel).get_schema(pb::get_provider_schema::Request {}),
    )
    .await
    .map_err(|_| "no answer".to_string())?;
    match answer {
        Ok(_) => Ok(()),
        Err(status) => Err(status.to_string()),
    }
}

/// The provider's socket, from its "serving" log line in the `TF_LOG_PATH` file.
fn socket_from_log(log: &str) -> Option<PathBuf> {
    log.lines().filter(|l| l.contains("serving")).find_map(|l| {
        let i = l.find("socket=")?;
        let path: String = l[i + 7..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(PathBuf::from(path))
    })
}

#[test]
fn the_plugin_channel_of_a_running_provider_is_closed_to_other_clients() {
    let Some(tf) = support::acc() else { return };
    // A flavor change that takes a while keeps the provider serving.
    let emu = start_emulator("8");
    let mut w = TfWorkdir::new(&tf, MAIN_TF);
    for (k, v) in base_env(&emu) {
        w.set_env(k, &v);
    }
    w.set_env("HW_AUTH_TOKEN", AUTH_TOKEN);
    let log = w.path().join("tf.log");
    w.set_env("TF_LOG", "DEBUG");
    w.set_env("TF_LOG_PATH", &log.display().to_string());

    std::thread::scope(|s| {
        let apply = s.spawn(|| {
            w.run(&[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &format!("-var=server_model={}", emu::SPECIAL_FLAVOR.0),
                &format!("-var=phone_model={}", emu::SPECIAL_FLAVOR.1),
            ])
        });
        // Wait until the provider applying the change is serving and waiting.
        let until = Instant::now() + Duration::from_secs(60);
        while emu.orders().is_empty() {
            assert!(Instant::now() < until, "no order was placed");
            assert!(!apply.is_finished(), "apply ended early");
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = read(&log);
        // The last "serving" line is the provider of the apply walk.
        let socket = text
            .lines()
            .rfind(|l| l.contains("serving") && l.contains("socket="))
            .and_then(socket_from_log)
            .expect("the provider logged its socket");
        assert!(
            text.contains("tls=true"),
            "terraform 1.0 runs the provider with AutoMTLS"
        );
        let meta = std::fs::symlink_metadata(&socket).expect("the socket exists");
        assert!(meta.file_type().is_socket(), "{}", socket.display());
        let dir = socket.parent().expect("socket directory");
        let dmeta = std::fs::metadata(dir).expect("socket directory");
        assert_eq!(
            dmeta.permissions().mode() & 0o777,
            0o700,
            "only the user can enter {}",
            dir.display()
        );
        // This user: the owner of a directory the test made.
        let uid = std::fs::metadata(w.path()).expect("workdir").uid();
        assert_eq!(dmeta.uid(), uid, "the directory belongs to the user");

        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for how in [
            Intruder::Plaintext,
            Intruder::TlsWithoutCertificate,
            Intruder::TlsWithOwnCertificate,
        ] {
            let result = rt.block_on(intrude(socket.clone(), how));
            assert!(
                result.is_err(),
                "{how:?}: a client that is not terraform called the provider"
            );
            eprintln!("{how:?} refused: {}", result.err().unwrap_or_default());
        }

        let out = apply.join().expect("apply thread");
        assert!(
            out.success(),
            "the apply went on undisturbed:\n{}",
            out.stderr
        );
    });
}
