//! A `cph-emulator` process for acceptance tests: started on a free loopback
//! port, stopped when dropped, with its admin API (`/_emulator/…`) and an
//! authenticated look at phones and servers through the CPH API itself.
//!
//! The binary comes from `CPH_EMULATOR_BIN`, else `target/debug/cph-emulator`
//! next to this crate (`make test` builds it first).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const REGION: &str = "cn-east-3";
pub const ACCESS_KEY: &str = "EMULATORACCESSKEY";
pub const SECRET_KEY: &str = "emulator-secret-key";
pub const AUTH_TOKEN: &str = "emulator-token";
pub const USER_NAME: &str = "emulator-user";
pub const PASSWORD: &str = "emulator-password";
pub const DOMAIN_NAME: &str = "emulator-domain";
/// The first server and phone of the default fleet (from the API documents).
pub const SERVER_ID: &str = "a176d8625981453bbafbc0a321d8d6a1";
pub const PHONE_ID: &str = "631056bfb66b4f4ea02ba25f04830cb4";
pub const FLAVOR: (&str, &str) = ("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1");
pub const SPECIAL_FLAVOR: (&str, &str) = ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5");

pub fn emulator_bin() -> PathBuf {
    if let Ok(p) = std::env::var("CPH_EMULATOR_BIN") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug/cph-emulator")
}

pub struct Emulator {
    child: Child,
    pub url: String,
    http: reqwest::blocking::Client,
}

impl Emulator {
    /// Starts an emulator with fast orders and jobs plus `extra` flags.
    pub fn start(extra: &[&str]) -> Emulator {
        let bin = emulator_bin();
        assert!(
            bin.exists(),
            "cph-emulator not found at {} (run `cargo build -p cph-emulator` or `make test`)",
            bin.display()
        );
        let mut args = vec!["--listen", "127.0.0.1:0"];
        for (flag, default) in [("--order-seconds", "1"), ("--job-seconds", "0.3")] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend_from_slice(extra);
        let mut child = Command::new(&bin)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("emulator's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {line:?}"))
            .to_string();
        // reqwest's rustls needs a process default provider (Cargo.toml).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Emulator { child, url, http }
    }

    /// Provider settings through `HW_*` variables, with token auth.
    pub fn token_env(&self) -> Vec<(String, String)> {
        let mut env = self.base_env();
        env.push(("HW_AUTH_TOKEN".into(), AUTH_TOKEN.into()));
        env
    }

    /// Provider settings through `HW_*` variables, with AK/SK signing.
    pub fn aksk_env(&self) -> Vec<(String, String)> {
        let mut env = self.base_env();
        env.push(("HW_ACCESS_KEY".into(), ACCESS_KEY.into()));
        env.push(("HW_SECRET_KEY".into(), SECRET_KEY.into()));
        env
    }

    /// Provider settings through `HW_*` variables, with IAM user and password.
    pub fn password_env(&self) -> Vec<(String, String)> {
        let mut env = self.base_env();
        env.push(("HW_USER_NAME".into(), USER_NAME.into()));
        env.push(("HW_USER_PASSWORD".into(), PASSWORD.into()));
        env.push(("HW_DOMAIN_NAME".into(), DOMAIN_NAME.into()));
        env
    }

    fn base_env(&self) -> Vec<(String, String)> {
        vec![
            ("HW_REGION_NAME".into(), REGION.into()),
            ("HW_PROJECT_ID".into(), PROJECT_ID.into()),
            ("HW_CPH_ENDPOINT".into(), self.url.clone()),
            // BSS and IAM are served on the same port.
            ("HW_BSS_ENDPOINT".into(), self.url.clone()),
            ("HW_AUTH_URL".into(), format!("{}/v3", self.url)),
        ]
    }

    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_emulator/{path}", self.url);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Calls per endpoint since start (or the last reset).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let v = self.admin(reqwest::Method::GET, "calls", None);
        serde_json::from_value(v["calls"].clone()).expect("calls map")
    }

    /// The whole `/_emulator/calls` answer (counters, held answers,
    /// `phones-traffic` requests per phone).
    pub fn admin_calls(&self) -> Value {
        self.admin(reqwest::Method::GET, "calls", None)
    }

    /// Calls answered 429 for being over `--quota-per-second` since start
    /// (or the last reset).
    pub fn throttled(&self) -> u64 {
        let v = self.admin(reqwest::Method::GET, "calls", None);
        v["throttled"].as_u64().expect("throttled count")
    }

    pub fn reset_calls(&self) {
        self.admin(reqwest::Method::POST, "calls/reset", None);
    }

    pub fn add_fault(&self, fault: Value) {
        self.admin(reqwest::Method::POST, "faults", Some(fault));
    }

    pub fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "faults", None);
    }

    /// The faults still queued, each with its `remaining` count.
    pub fn queued_faults(&self) -> Vec<Value> {
        let v = self.admin(reqwest::Method::GET, "faults", None);
        v["faults"].as_array().cloned().unwrap_or_default()
    }

    pub fn set_phone_route(&self, phone_id: &str, traffic_type: &str) {
        self.admin(
            reqwest::Method::POST,
            &format!("phones/{phone_id}/traffic"),
            Some(json!({ "traffic_type": traffic_type })),
        );
    }

    pub fn set_server_flavor(&self, server_id: &str, server_model: &str, phone_model: &str) {
        self.admin(
            reqwest::Method::POST,
            &format!("servers/{server_id}/flavor"),
            Some(json!({ "server_model_name": server_model, "phone_model_name": phone_model })),
        );
    }

    pub fn delete_server(&self, server_id: &str) {
        self.admin(
            reqwest::Method::DELETE,
            &format!("servers/{server_id}"),
            None,
        );
    }

    pub fn fail_jobs_for(&self, phone_ids: &[&str]) {
        self.admin(
            reqwest::Method::POST,
            "fail-jobs",
            Some(json!({ "phone_ids": phone_ids })),
        );
    }

    pub fn clear_failing_jobs(&self) {
        self.admin(reqwest::Method::DELETE, "fail-jobs", None);
    }

    /// Puts the account in `state`: "arrears", "frozen", "unverified" or
    /// "normal" (every CPH call refused with the state's code but the last).
    #[allow(dead_code)]
    pub fn set_account_state(&self, state: &str) {
        self.admin(
            reqwest::Method::PUT,
            "account",
            Some(json!({ "state": state })),
        );
    }

    pub fn settings(&self, settings: Value) {
        self.admin(reqwest::Method::PUT, "settings", Some(settings));
    }

    pub fn orders(&self) -> Vec<Value> {
        let v = self.admin(reqwest::Method::GET, "orders", None);
        match v {
            Value::Array(a) => a,
            other => other["orders"].as_array().cloned().unwrap_or_default(),
        }
    }

    /// An admin call on an order: `pay`, `cancel`, `lapse`, `complete`,
    /// `status`; the order as it is afterwards.
    pub fn order_admin(&self, order_id: &str, action: &str, body: Option<Value>) -> Value {
        let v = self.admin(
            reqwest::Method::POST,
            &format!("orders/{order_id}/{action}"),
            Some(body.unwrap_or_else(|| json!({}))),
        );
        v["order"].clone()
    }

    /// Calls per HTTP method since start (or the last reset).
    pub fn calls_by_method(&self) -> BTreeMap<String, u64> {
        let v = self.admin(reqwest::Method::GET, "calls", None);
        serde_json::from_value(v["methods"].clone()).expect("methods map")
    }

    pub fn api_get(&self, path: &str) -> Value {
        let url = format!("{}/v1/{PROJECT_ID}/cloud-phone/{path}", self.url);
        let resp = self
            .http
            .get(&url)
            .header("X-Auth-Token", AUTH_TOKEN)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(status.is_success(), "GET {url}: {status}: {text}");
        serde_json::from_str(&text).expect("json")
    }

    pub fn server(&self, server_id: &str) -> Value {
        self.api_get(&format!("servers/{server_id}"))
    }

    /// Every phone of a server, in the emulator's order.
    pub fn phones_of(&self, server_id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let page = self.api_get(&format!(
                "phones?server_id={server_id}&offset={}&limit=200",
                out.len()
            ));
            let phones = page["phones"].as_array().cloned().unwrap_or_default();
            if phones.is_empty() {
                return out;
            }
            out.extend(phones);
        }
    }

    pub fn phone_ids_of(&self, server_id: &str) -> Vec<String> {
        self.phones_of(server_id)
            .iter()
            .map(|p| p["phone_id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn route_of(&self, phone_id: &str) -> String {
        self.api_get(&format!("phones/{phone_id}"))["traffic_type"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn server_ids(&self) -> Vec<String> {
        let v = self.api_get("servers?offset=0&limit=100");
        v["servers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["server_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs async code (the provider's client and fleet engine) on a runtime of
/// its own, outside the emulator handle's blocking HTTP client.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The provider's CPH client for this emulator, with its token.
pub fn token_client(emu: &Emulator) -> terraform_provider_cph::cph::Client {
    use terraform_provider_cph::cph::{Client, ClientConfig, Credentials};
    Client::new(ClientConfig::new(
        emu.url.clone(),
        REGION,
        PROJECT_ID,
        Credentials::Token(AUTH_TOKEN.into()),
    ))
    .expect("client")
}

/// Every phone of every server.
pub fn all_phones(emu: &Emulator) -> Vec<String> {
    emu.server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect()
}
