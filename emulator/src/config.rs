//! The emulator's configuration: every setting with its documented default,
//! the loopback-only rule, and building the initial world from it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::Error;
use crate::fleet::Fleet;
use crate::state::{Settings, World};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8790";
pub const DEFAULT_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_REGION: &str = "cn-east-3";
pub const DEFAULT_ACCESS_KEY: &str = "EMULATORACCESSKEY";
pub const DEFAULT_SECRET_KEY: &str = "emulator-secret-key";
pub const DEFAULT_AUTH_TOKEN: &str = "emulator-token";
pub const DEFAULT_USER_NAME: &str = "emulator-user";
pub const DEFAULT_PASSWORD: &str = "emulator-password";
pub const DEFAULT_DOMAIN_NAME: &str = "emulator-domain";
/// The account (domain) id: what `GET /v3/auth/domains` answers and what
/// AK/SK calls to BSS must sign as `X-Domain-Id`.
pub const DEFAULT_DOMAIN_ID: &str = "fedcba9876543210fedcba9876543210";
/// The agency `POST /v3.0/OS-CREDENTIAL/securitytokens` lets the user assume
/// (in the emulator's one account).
pub const DEFAULT_AGENCY_NAME: &str = "cph-agency";
/// Seven days, as BSS gives a pending order.
pub const DEFAULT_PAYMENT_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Everything the emulator can be told at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub project_id: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// When set, AK/SK requests must carry it as `X-Security-Token`.
    pub security_token: Option<String>,
    pub auth_token: String,
    pub user_name: String,
    pub password: String,
    pub domain_name: String,
    pub domain_id: String,
    pub agency_name: String,
    /// Lifetime of an agency's temporary credentials; `None`: as asked
    /// (`duration_seconds`, default 900).
    pub agency_seconds: Option<u64>,
    /// An international account: BSS answers 403 `CBC.0150` at its Chinese
    /// endpoint and serves it at the international one, under `/intl` (or
    /// for a `Host` of `bss-intl.…`, as a proxy passes the real one on).
    pub international: bool,
    pub order_seconds: f64,
    pub job_seconds: f64,
    /// Time an upgrade without auto pay waits for payment before BSS
    /// cancels it (`pending_payment_end_time`).
    pub payment_seconds: f64,
    pub servers: usize,
    pub phones_per_server: usize,
    pub seed: Option<PathBuf>,
    pub latency_ms: u64,
    /// Calls each API takes per second before answering 429 (0: none).
    pub quota_per_second: u64,
    pub fail_jobs_for: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8790)),
            project_id: DEFAULT_PROJECT_ID.into(),
            region: DEFAULT_REGION.into(),
            access_key: DEFAULT_ACCESS_KEY.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            security_token: None,
            auth_token: DEFAULT_AUTH_TOKEN.into(),
            user_name: DEFAULT_USER_NAME.into(),
            password: DEFAULT_PASSWORD.into(),
            domain_name: DEFAULT_DOMAIN_NAME.into(),
            domain_id: DEFAULT_DOMAIN_ID.into(),
            agency_name: DEFAULT_AGENCY_NAME.into(),
            agency_seconds: None,
            international: false,
            order_seconds: 5.0,
            job_seconds: 1.0,
            payment_seconds: DEFAULT_PAYMENT_SECONDS,
            servers: 2,
            phones_per_server: 3,
            seed: None,
            latency_ms: 0,
            quota_per_second: 0,
            fail_jobs_for: Vec::new(),
        }
    }
}

/// Refuse anything but a loopback address.
pub fn check_loopback(addr: SocketAddr) -> Result<(), Error> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(Error::NotLoopback(addr))
    }
}

impl Config {
    /// Check values that the type does not.
    pub fn validate(&self) -> Result<(), Error> {
        check_loopback(self.listen)?;
        for (name, v) in [
            ("order-seconds", self.order_seconds),
            ("job-seconds", self.job_seconds),
            ("payment-seconds", self.payment_seconds),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::Config(format!(
                    "--{name} must be a number >= 0, got {v}"
                )));
            }
        }
        if self.project_id.is_empty() || self.access_key.is_empty() || self.secret_key.is_empty() {
            return Err(Error::Config(
                "project id, access key and secret key must not be empty".into(),
            ));
        }
        Ok(())
    }

    /// The initial world: the seed file's fleet, or the generated one.
    pub fn build_world(&self) -> Result<World, Error> {
        let fleet = match &self.seed {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Seed(format!("{}: {e}", path.display())))?;
                Fleet::from_seed(&text, &self.region)
                    .map_err(|e| Error::Seed(format!("{}: {e}", path.display())))?
            }
            None => Fleet::generated(self.servers, self.phones_per_server, &self.region),
        };
        let settings = Settings {
            order_seconds: self.order_seconds,
            job_seconds: self.job_seconds,
            latency_ms: self.latency_ms,
            payment_seconds: self.payment_seconds,
            quota_per_second: self.quota_per_second,
        };
        let fail: HashSet<String> = self.fail_jobs_for.iter().cloned().collect();
        Ok(World::new(fleet, settings, fail))
    }
}
