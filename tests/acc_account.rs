//! Acceptance tests of issue [O], a real account on day one: a provider
//! block with only `region`, `access_key` and `secret_key` (plus the
//! emulator's addresses) finds its project and account at IAM, signs BSS
//! for the account, and pays a flavor-change order through BSS; IAM
//! look-ups happen once per provider process per kind; a region without a
//! project is one clear error before any CPH call. The real terraform
//! (1.0.3 and 1.15.5) against a `cph-emulator`; `TF_ACC=1`.

mod emu;
mod proxy;
mod support;

use emu::{Emulator, FLAVOR, SERVER_ID, SPECIAL_FLAVOR};
use proxy::BssProxy;
use support::{TfBin, TfWorkdir};

/// The quickstart's resources with a provider block of `{provider}`.
const QUICKSTART_TF: &str = r#"
provider "cph" {
{provider}
}
variable "server_model" {}
variable "phone_model" {}
variable "auto_pay" { default = false }
variable "timeout" { default = "1m" }
data "cph_server" "this" { server_id = "{server}" }
data "cph_phones" "this" { server_id = data.cph_server.this.server_id }
resource "cph_server_flavor" "this" {
  server_id         = data.cph_server.this.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = var.auto_pay
  timeouts {
    create = var.timeout
    update = var.timeout
  }
}
resource "cph_phone_route" "this" {
  phone_ids    = data.cph_phones.this.phone_ids
  traffic_type = "routing"
  depends_on   = [cph_server_flavor.this]
}
"#;

/// Terraform 1.0.3 (the default) and 1.15.5.
fn terraforms(tf: &TfBin) -> Vec<TfBin> {
    vec![
        tf.clone(),
        TfBin::at(support::tool_path(
            "TF_ACC_TERRAFORM_1_15_PATH",
            "terraform-1.15",
        )),
    ]
}

/// The emulator's addresses: CPH, BSS and IAM on one port.
fn addresses(emu: &Emulator) -> String {
    format!(
        "  endpoint     = \"{url}\"\n  bss_endpoint = \"{url}\"\n  auth_url     = \"{url}/v3\"\n",
        url = emu.url
    )
}

/// Region and keys only (and the addresses).
fn keys_block(emu: &Emulator, region: &str) -> String {
    format!(
        "  region     = \"{region}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n{}",
        emu::ACCESS_KEY,
        emu::SECRET_KEY,
        addresses(emu)
    )
}

fn quickstart(tf: &TfBin, provider: &str) -> TfWorkdir {
    let main = QUICKSTART_TF
        .replace("{provider}", provider)
        .replace("{server}", SERVER_ID);
    TfWorkdir::new(tf, &main)
}

fn apply(w: &TfWorkdir, flavor: (&str, &str), auto_pay: bool, timeout: &str) -> support::TfOutput {
    w.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &format!("-var=server_model={}", flavor.0),
        &format!("-var=phone_model={}", flavor.1),
        &format!("-var=auto_pay={auto_pay}"),
        &format!("-var=timeout={timeout}"),
    ])
}

fn assert_ok(out: &support::TfOutput) {
    assert!(
        out.success(),
        "terraform failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
}

/// The quickstart, then an upgrade left pending payment and paid through
/// BSS by the next apply: all with region and keys only.
fn quickstart_and_a_paid_upgrade(
    tf: &TfBin,
    emulator_args: &[&str],
    provider: impl Fn(&Emulator) -> String,
) -> TfWorkdir {
    let mut args = vec!["--order-seconds", "1"];
    args.extend_from_slice(emulator_args);
    let emu = Emulator::start(&args);
    quickstart_and_a_paid_upgrade_on(tf, &emu, &provider(&emu), &[])
}

/// [`quickstart_and_a_paid_upgrade`] against `emu`, terraform run with `env`.
fn quickstart_and_a_paid_upgrade_on(
    tf: &TfBin,
    emu: &Emulator,
    provider: &str,
    env: &[(&str, &str)],
) -> TfWorkdir {
    let version = tf.version();
    let mut w = quickstart(tf, provider);
    for (key, value) in env {
        w.set_env(key, value);
    }
    w.set_env("TF_LOG_PROVIDER", "DEBUG");
    w.set_env(
        "TF_LOG_PATH",
        &w.path().join("tf.log").display().to_string(),
    );
    assert_ok(&apply(&w, FLAVOR, false, "1m"));
    let phones = emu.phone_ids_of(SERVER_ID);
    assert!(
        phones.iter().all(|p| emu.route_of(p) == "routing"),
        "{version}"
    );
    let calls = emu.calls();
    assert!(calls["iam_projects"] >= 1, "{version}: {calls:?}");

    let out = apply(&w, SPECIAL_FLAVOR, false, "3s");
    assert!(!out.success(), "{version}: waits for payment");
    assert!(
        out.stderr.contains("pending payment"),
        "{version}: BSS told the order's state:\n{}",
        out.stderr
    );
    assert_ok(&apply(&w, SPECIAL_FLAVOR, true, "1m"));
    let calls = emu.calls();
    assert_eq!(calls["bss_pay_order"], 1, "{version}: {calls:?}");
    assert!(calls["iam_domains"] >= 1, "{version}: {calls:?}");
    let server = emu.server(SERVER_ID);
    assert_eq!(
        server["server_model_name"], SPECIAL_FLAVOR.0,
        "{version}: {server}"
    );
    w
}

#[test]
fn region_and_keys_are_enough_for_the_quickstart_and_a_paid_upgrade() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        quickstart_and_a_paid_upgrade(&tf, &[], |emu| keys_block(emu, emu::REGION));
    }
}

/// Asserts that the emulator answered no call but IAM's.
fn assert_only_iam_called(emu: &Emulator, version: &str) {
    let calls = emu.calls();
    let other: u64 = calls
        .iter()
        .filter(|(name, _)| !name.starts_with("iam_"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(other, 0, "{version}: no call but IAM's: {calls:?}");
}

#[test]
fn a_wrong_secret_key_is_one_credentials_error_at_the_project_look_up() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&[]);
        let block = keys_block(&emu, emu::REGION).replace(emu::SECRET_KEY, "not-the-secret-key");
        let w = quickstart(&tf, &block);
        let out = apply(&w, FLAVOR, false, "1m");
        assert!(!out.success(), "{version}");
        let text = out.flat();
        assert_eq!(
            text.matches("Error: ").count(),
            1,
            "{version}: one error:\n{text}"
        );
        assert!(
            text.contains("Credentials refused by IAM"),
            "{version}:\n{text}"
        );
        assert!(
            text.contains("access_key/secret_key from the provider block"),
            "{version}: names the source:\n{text}"
        );
        assert!(
            !text.contains("Cannot find the project"),
            "{version}:\n{text}"
        );
        assert_only_iam_called(&emu, &version);
    }
}

#[test]
fn a_region_without_a_project_is_one_clear_error_before_any_cph_call() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&[]);
        let w = quickstart(&tf, &keys_block(&emu, "eu-west-101"));
        let out = apply(&w, FLAVOR, false, "1m");
        assert!(!out.success(), "{version}");
        let text = out.flat();
        assert_eq!(
            text.matches("Cannot find the project of region \"eu-west-101\"")
                .count(),
            1,
            "{version}: one error:\n{text}"
        );
        assert!(text.contains("no project named"), "{version}:\n{text}");
        assert_only_iam_called(&emu, &version);
    }
}

/// A host that cannot be reached is told as such, naming the setting that
/// chose it and `project_id`, never as a credentials refusal: (a) an
/// `auth_url` nothing listens on, (b) a region whose IAM host does not
/// resolve (a `cloud` under `.invalid`: the name fails at the resolver, so
/// nothing else leaves the machine).
#[test]
fn an_iam_host_that_cannot_be_reached_is_not_a_credentials_refusal() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&[]);
        let keys = format!(
            "  access_key   = \"{}\"\n  secret_key   = \"{}\"\n  endpoint     = \"{url}\"\n  bss_endpoint = \"{url}\"\n",
            emu::ACCESS_KEY,
            emu::SECRET_KEY,
            url = emu.url
        );
        let cases = [
            (
                format!(
                    "  region   = \"{}\"\n  auth_url = \"http://127.0.0.1:1/v3\"\n{keys}",
                    emu::REGION
                ),
                "127.0.0.1:1",
                "`auth_url`",
            ),
            (
                format!("  region = \"eu-west-101\"\n  cloud  = \"cph-acc.invalid\"\n{keys}"),
                "iam.eu-west-101.cph-acc.invalid:443",
                "`region` (or HW_REGION_NAME) and `cloud` (or HW_CLOUD)",
            ),
        ];
        for (block, host, setting) in &cases {
            let w = quickstart(&tf, block);
            let out = w.run(&[
                "plan",
                "-input=false",
                "-no-color",
                "-var=server_model=x",
                "-var=phone_model=y",
            ]);
            assert!(!out.success(), "{version}");
            let text = out.flat();
            assert_eq!(
                text.matches("Error: ").count(),
                1,
                "{version}: one error:\n{text}"
            );
            assert!(
                text.contains(&format!("Error: Could not reach {host}"))
                    && text.contains(&format!("could not reach {host} (")),
                "{version}: names the host:\n{text}"
            );
            assert!(
                text.contains(&format!("{host} is chosen by {setting}")),
                "{version}: names {setting}:\n{text}"
            );
            assert!(
                text.contains("set `project_id` (or HW_PROJECT_ID) to skip that look-up"),
                "{version}: names project_id:\n{text}"
            );
            assert!(
                !text.contains("Credentials refused") && !text.contains("Check the keys"),
                "{version}: not a refusal:\n{text}"
            );
            let sent: u64 = emu.calls().values().sum();
            assert_eq!(sent, 0, "{version}: nothing sent to CPH or BSS");
        }
    }
}

/// Ten flavor changes (ten servers) in one apply, with the project and the
/// account to find: each provider process looks each up once at most, however
/// many resources ask for it at the same time.
#[test]
fn iam_is_asked_once_per_process_per_kind_in_a_ten_resource_apply() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "10", "--phones-per-server", "1"]);
    let servers = emu.server_ids();
    assert_eq!(servers.len(), 10);
    let ids: Vec<String> = servers.iter().map(|s| format!("\"{s}\"")).collect();
    let main = format!(
        r#"
provider "cph" {{
{provider}
}}
variable "servers" {{ default = [{ids}] }}
resource "cph_server_flavor" "f" {{
  count             = 10
  server_id         = var.servers[count.index]
  server_model_name = "{model}"
  phone_model_name  = "{phone}"
  auto_pay          = true
}}
"#,
        provider = keys_block(&emu, emu::REGION),
        ids = ids.join(", "),
        model = SPECIAL_FLAVOR.0,
        phone = SPECIAL_FLAVOR.1,
    );
    let mut w = TfWorkdir::new(&tf, &main);
    w.set_env("TF_LOG_PROVIDER", "DEBUG");
    w.set_env(
        "TF_LOG_PATH",
        &w.path().join("tf.log").display().to_string(),
    );
    let out = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ok(&out);
    let log = std::fs::read_to_string(w.path().join("tf.log")).unwrap_or_default();
    let configured = log.matches("project id found at IAM").count() as u64;
    let calls = emu.calls();
    eprintln!(
        "10-resource apply: provider processes that looked the project up: {configured}, calls: {calls:?}"
    );
    assert!(calls["bss_show_order"] >= 10, "{calls:?}");
    assert!(configured >= 1, "the provider logs its look-ups");
    assert_eq!(calls["iam_projects"], configured, "once per process");
    assert!(
        calls["iam_domains"] >= 1 && calls["iam_domains"] <= configured,
        "at most once per process: {calls:?}"
    );
    for s in &servers {
        assert_eq!(emu.server(s)["server_model_name"], SPECIAL_FLAVOR.0);
    }
}

/// An hcloud CLI configuration file holding `text`, in a directory of its own.
fn hcloud_file(tag: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("cph-acc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("config.json");
    std::fs::write(&path, text).expect("config file");
    path.display().to_string()
}

/// The CLI's file with the emulator's keys in profile `dev` (current: `old`).
fn profiles_json() -> String {
    format!(
        r#"{{"current":"old","profiles":[
  {{"name":"old","mode":"AKSK","accessKeyId":"OLD","secretAccessKey":"old","region":"cn-north-4"}},
  {{"name":"dev","mode":"AKSK","accessKeyId":"{}","secretAccessKey":"{}","region":"{}","projectId":"","domainId":""}}
]}}"#,
        emu::ACCESS_KEY,
        emu::SECRET_KEY,
        emu::REGION
    )
}

#[test]
fn a_profile_of_the_hcloud_cli_is_enough_for_the_quickstart_and_a_paid_upgrade() {
    let Some(tf) = support::acc() else { return };
    let file = hcloud_file("profile", &profiles_json());
    for tf in terraforms(&tf) {
        quickstart_and_a_paid_upgrade(&tf, &[], |emu| {
            format!(
                "  shared_config_file = \"{file}\"\n  profile            = \"dev\"\n{}",
                addresses(emu)
            )
        });
    }
}

#[test]
fn a_wrong_profile_or_an_encrypted_or_missing_file_is_one_clear_error_before_any_call() {
    let Some(tf) = support::acc() else { return };
    let good = hcloud_file("wrong-profile", &profiles_json());
    let encrypted = hcloud_file("encrypted", "U2FsdGVkX19ZmFrZWVuY3J5cHRlZGNvbmZpZw==\n");
    let missing = format!("{good}.missing");
    let cases = [
        (
            good.clone(),
            "prod",
            "has no profile \"prod\" (it has: old, dev)",
        ),
        (encrypted.clone(), "dev", "an encrypted file cannot be read"),
        (missing, "dev", "cannot read the shared config file"),
    ];
    for tf in terraforms(&tf) {
        let version = tf.version();
        for (file, profile, expected) in &cases {
            let emu = Emulator::start(&[]);
            let provider = format!(
                "  shared_config_file = \"{file}\"\n  profile            = \"{profile}\"\n{}",
                addresses(&emu)
            );
            let w = quickstart(&tf, &provider);
            let out = apply(&w, FLAVOR, false, "1m");
            assert!(!out.success(), "{version}");
            let text = out.flat();
            assert_eq!(
                text.matches("Error: Cannot use the shared config file")
                    .count(),
                1,
                "{version}: one error:\n{text}"
            );
            assert_eq!(
                text.matches("Error: ").count(),
                1,
                "{version}: nothing but that error (no \"Missing region\", no \"No credentials\"):\n{text}"
            );
            assert!(
                text.contains(expected) && text.contains(file.as_str()),
                "{version}: names the file and says why:\n{text}"
            );
            let sent: u64 = emu.calls().values().sum();
            assert_eq!(sent, 0, "{version}: nothing sent");
        }
    }
}

#[test]
fn an_agency_is_assumed_and_renewed_within_one_apply() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        // Temporary keys that live 2 s (renewed after 1 s): every apply
        // outlives its first keys.
        let w = quickstart_and_a_paid_upgrade(&tf, &["--agency-seconds", "2"], |emu| {
            format!(
                "{}  assume_role {{\n    agency_name = \"cph-agency\"\n    domain_name = \"{}\"\n  }}\n",
                keys_block(emu, emu::REGION),
                emu::DOMAIN_NAME
            )
        });
        let log = std::fs::read_to_string(w.path().join("tf.log")).unwrap_or_default();
        let processes = log.matches("project id found at IAM").count();
        let assumed = log.matches("assumed the agency").count();
        eprintln!("{version}: {processes} provider processes assumed the agency {assumed} times");
        assert!(processes >= 1, "{version}");
        assert!(
            assumed > processes,
            "{version}: keys renewed within a process ({assumed} fetches, {processes} processes)"
        );
    }
}

#[test]
fn an_agency_refusal_is_one_clear_error_before_any_cph_call() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&[]);
        let provider = format!(
            "{}  assume_role {{\n    agency_name = \"nobody\"\n    domain_name = \"{}\"\n  }}\n",
            keys_block(&emu, emu::REGION),
            emu::DOMAIN_NAME
        );
        let w = quickstart(&tf, &provider);
        let out = apply(&w, FLAVOR, false, "1m");
        assert!(!out.success(), "{version}");
        let text = out.flat();
        assert_eq!(
            text.matches("Error: Cannot assume the agency").count(),
            1,
            "{version}: one error:\n{text}"
        );
        assert!(text.contains("\"nobody\""), "{version}:\n{text}");
        let calls = emu.calls();
        let sent: u64 = calls.values().sum();
        assert_eq!(sent, calls["iam_securitytokens"], "{version}: {calls:?}");
    }
}

/// A cloud no resolver knows: only the proxy ever sees its host names.
const CLOUD: &str = "example.test";

/// Region and keys, CPH and IAM at the emulator, BSS left to the provider
/// (`https://bss.{CLOUD}`, probed) unless `bss_endpoint` is given.
fn international_block(emu: &Emulator, bss_endpoint: Option<&str>) -> String {
    let bss = bss_endpoint
        .map(|b| format!("  bss_endpoint = \"{b}\"\n"))
        .unwrap_or_default();
    format!(
        "  region     = \"{}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n  cloud      = \"{CLOUD}\"\n  insecure   = true\n  endpoint   = \"{url}\"\n  auth_url   = \"{url}/v3\"\n{bss}",
        emu::REGION,
        emu::ACCESS_KEY,
        emu::SECRET_KEY,
        url = emu.url
    )
}

/// What terraform needs to reach BSS's hosts through `proxy` (and nothing
/// else through it).
fn proxy_env(proxy: &BssProxy) -> [(&str, &str); 3] {
    [
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("https_proxy", proxy.url.as_str()),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ]
}

/// An international account with `bss_endpoint` unset: the provider probes
/// `https://bss.{cloud}` once per process, is refused with `CBC.0150`, and
/// follows and pays the upgrade's order at `https://bss-intl.{cloud}`.
#[test]
fn an_international_account_is_found_by_the_probe_and_pays_at_bss_intl() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&["--international"]);
        let proxy = BssProxy::start(CLOUD, &emu.url);
        let provider = international_block(&emu, None);
        let w = quickstart_and_a_paid_upgrade_on(&tf, &emu, &provider, &proxy_env(&proxy));
        let seen = proxy.seen();
        assert!(
            proxy.refused().is_empty(),
            "{version}: {:?}",
            proxy.refused()
        );
        let (chinese, intl): (Vec<_>, Vec<_>) =
            seen.iter().partition(|s| s.host == format!("bss.{CLOUD}"));
        let probe =
            |s: &&proxy::Seen| s.method == "GET" && s.path == "/v2/products/service-types?limit=1";
        assert!(
            chinese.iter().all(probe),
            "{version}: nothing but the probe at the Chinese host: {chinese:?}"
        );
        let paid = intl
            .iter()
            .filter(|s| s.method == "POST" && s.path == "/v3/orders/customer-orders/pay")
            .count();
        assert_eq!(paid, 1, "{version}: paid at bss-intl: {intl:?}");
        assert!(
            intl.iter()
                .any(|s| s.path.starts_with("/v2/orders/customer-orders/details/")),
            "{version}: the order followed at bss-intl: {intl:?}"
        );
        assert!(!intl.iter().any(probe), "{version}: {intl:?}");
        let log = std::fs::read_to_string(w.path().join("tf.log")).unwrap_or_default();
        let processes = log.matches("project id found at IAM").count();
        let found = log
            .matches("international account: BSS at its international endpoint")
            .count();
        eprintln!(
            "{version}: {} probes, {found} found international, {processes} provider processes, {} calls at bss-intl",
            chinese.len(),
            intl.len()
        );
        // BSS is asked by the processes that apply the second and third
        // applies (plans never ask it): one probe each, then every BSS call
        // of that process at bss-intl.
        assert_eq!(
            chinese.len(),
            2,
            "{version}: one probe per process: {seen:?}"
        );
        assert_eq!(found, chinese.len(), "{version}: every probe told it");
        let runs: Vec<usize> = seen
            .split(|s| s.host == format!("bss.{CLOUD}"))
            .skip(1)
            .map(<[proxy::Seen]>::len)
            .collect();
        // At least the order's read follows each probe (an order that is
        // not waiting for payment is read once, then the server; issue
        // [T] 7 stopped reading BSS again meanwhile).
        assert!(
            runs.iter().all(|n| *n >= 1),
            "{version}: BSS calls after each probe: {seen:?}"
        );
    }
}

/// The same account with BSS set to the Chinese host (so not probed): BSS
/// refuses every call there (403 `CBC.0150`), the upgrade's order is never
/// seen pending payment nor paid, nothing reaches bss-intl, and the warning
/// says that the account is international and which `bss_endpoint` serves it.
#[test]
fn an_international_account_fails_at_the_chinese_bss_host() {
    let Some(tf) = support::acc() else { return };
    for tf in terraforms(&tf) {
        let version = tf.version();
        let emu = Emulator::start(&["--international"]);
        let proxy = BssProxy::start(CLOUD, &emu.url);
        let provider = international_block(&emu, Some(&format!("https://bss.{CLOUD}")));
        let mut w = quickstart(&tf, &provider);
        for (key, value) in proxy_env(&proxy) {
            w.set_env(key, value);
        }
        assert_ok(&apply(&w, FLAVOR, false, "1m"));
        let out = apply(&w, SPECIAL_FLAVOR, false, "3s");
        assert!(!out.success(), "{version}: not paid");
        let told = out.flat();
        assert!(
            told.contains("refuses this account as an international one")
                && told.contains(&format!("bss_endpoint = \"https://bss-intl.{CLOUD}\"")),
            "{version}: the refusal says where the account's orders are:\n{told}"
        );
        assert!(
            !out.stderr.contains("pending payment"),
            "{version}: BSS could not tell the order's state:\n{}",
            out.stderr
        );
        let out = apply(&w, SPECIAL_FLAVOR, true, "3s");
        assert!(!out.success(), "{version}: never paid");
        let seen = proxy.seen();
        assert!(!seen.is_empty(), "{version}: BSS was called");
        assert!(
            seen.iter().all(|s| s.host == format!("bss.{CLOUD}")),
            "{version}: {seen:?}"
        );
        assert!(
            !seen
                .iter()
                .any(|s| s.path.starts_with("/v2/products/service-types")),
            "{version}: no probe when bss_endpoint is set: {seen:?}"
        );
        assert!(
            seen.iter()
                .any(|s| s.path.starts_with("/v2/orders/customer-orders/details/")),
            "{version}: the order was asked after at the Chinese host: {seen:?}"
        );
        assert_eq!(emu.calls()["bss_pay_order"], 0, "{version}");
        let server = emu.server(SERVER_ID);
        assert_eq!(server["server_model_name"], FLAVOR.0, "{version}: {server}");
    }
}
