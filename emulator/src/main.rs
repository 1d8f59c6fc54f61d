//! The `cph-emulator` binary: command line, logging to stderr, binding, the
//! one `listening on http://ADDR` line on stdout, the provider settings to
//! paste (on stderr), and exit on SIGINT/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cph_emulator::config::{self, Config};

/// The version of the emulator's user surface (seed file, flags, admin API),
/// as emulator/README.md states it; a change to that surface raises it.
macro_rules! surface_version {
    () => {
        "1"
    };
}

/// A local emulator of Huawei Cloud's Cloud Phone Host (CPH) API.
#[derive(Parser, Debug)]
#[command(name = "cph-emulator", version = VERSION)]
struct Cli {
    /// Address to listen on; loopback only. Port 0 picks a free port.
    #[arg(long, default_value = config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The only project id the API accepts in paths.
    #[arg(long, default_value = config::DEFAULT_PROJECT_ID)]
    project_id: String,
    /// Region name (availability zones are `{region}a`; IAM scope by name).
    #[arg(long, default_value = config::DEFAULT_REGION)]
    region: String,
    /// Access key accepted in AK/SK signatures.
    #[arg(long, default_value = config::DEFAULT_ACCESS_KEY)]
    access_key: String,
    /// Secret key that AK/SK signatures are checked with.
    #[arg(long, default_value = config::DEFAULT_SECRET_KEY)]
    secret_key: String,
    /// When given, AK/SK requests must carry it as X-Security-Token.
    #[arg(long)]
    security_token: Option<String>,
    /// A token always accepted as X-Auth-Token.
    #[arg(long, default_value = config::DEFAULT_AUTH_TOKEN)]
    auth_token: String,
    /// IAM user name for POST /v3/auth/tokens.
    #[arg(long, default_value = config::DEFAULT_USER_NAME)]
    user_name: String,
    /// IAM password for POST /v3/auth/tokens.
    #[arg(long, default_value = config::DEFAULT_PASSWORD)]
    password: String,
    /// IAM domain (account) name for POST /v3/auth/tokens.
    #[arg(long, default_value = config::DEFAULT_DOMAIN_NAME)]
    domain_name: String,
    /// Account (domain) id: `GET /v3/auth/domains` answers it and AK/SK
    /// calls to BSS must sign it as X-Domain-Id.
    #[arg(long, default_value = config::DEFAULT_DOMAIN_ID)]
    domain_id: String,
    /// The agency the user may assume (POST /v3.0/OS-CREDENTIAL/securitytokens).
    #[arg(long, default_value = config::DEFAULT_AGENCY_NAME)]
    agency_name: String,
    /// Lifetime of an agency's temporary credentials in seconds, whatever
    /// was asked (default: duration_seconds as asked, 900 when not).
    #[arg(long)]
    agency_seconds: Option<u64>,
    /// An international account: BSS answers 403 CBC.0150 at its Chinese
    /// endpoint and is served under /intl or for a Host of bss-intl.* (the
    /// international endpoint).
    #[arg(long)]
    international: bool,
    /// Seconds a paid flavor-change order takes to apply (fractions allowed).
    #[arg(long, default_value_t = 5.0)]
    order_seconds: f64,
    /// Seconds a route job takes to finish (fractions allowed).
    #[arg(long, default_value_t = 1.0)]
    job_seconds: f64,
    /// Seconds an upgrade ordered without auto pay waits for payment before
    /// it is cancelled (default seven days; fractions allowed).
    #[arg(long, default_value_t = config::DEFAULT_PAYMENT_SECONDS)]
    payment_seconds: f64,
    /// Servers in the generated fleet (ignored with --seed).
    #[arg(long, default_value_t = 2)]
    servers: usize,
    /// Phones per server in the generated fleet (ignored with --seed).
    #[arg(long, default_value_t = 3)]
    phones_per_server: usize,
    /// JSON fleet to start with instead of the generated one.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Latency added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Calls each API takes per second before answering 429 `APIGW.0308`,
    /// as the API gateway throttles (0: no quota).
    #[arg(long, default_value_t = 0)]
    quota_per_second: u64,
    /// Phone ids whose route jobs fail (comma-separated).
    #[arg(long, value_delimiter = ',')]
    fail_jobs_for: Vec<String>,
}

/// `--version`: the release's version (the workspace's, which the provider
/// has too) and the surface version.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (surface version ",
    surface_version!(),
    ")"
);

impl From<Cli> for Config {
    fn from(c: Cli) -> Config {
        Config {
            listen: c.listen,
            project_id: c.project_id,
            region: c.region,
            access_key: c.access_key,
            secret_key: c.secret_key,
            security_token: c.security_token,
            auth_token: c.auth_token,
            user_name: c.user_name,
            password: c.password,
            domain_name: c.domain_name,
            domain_id: c.domain_id,
            agency_name: c.agency_name,
            agency_seconds: c.agency_seconds,
            international: c.international,
            order_seconds: c.order_seconds,
            job_seconds: c.job_seconds,
            payment_seconds: c.payment_seconds,
            servers: c.servers,
            phones_per_server: c.phones_per_server,
            seed: c.seed,
            latency_ms: c.latency_ms,
            quota_per_second: c.quota_per_second,
            fail_jobs_for: c
                .fail_jobs_for
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

fn main() -> ExitCode {
    let config: Config = Cli::parse().into();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CPH_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(e) = config.validate() {
        eprintln!("cph-emulator: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cph-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cph-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), cph_emulator::Error> {
    // Fail on a bad seed before announcing the address.
    config.build_world()?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    eprint!("{}", provider_settings(&config, &format!("http://{addr}")));
    cph_emulator::serve(config, listener).await?;
    tracing::info!("shut down");
    Ok(())
}

/// The provider settings that reach this emulator, as one block of shell
/// `export`s to paste (AK/SK signing; BSS and IAM are on the same port).
fn provider_settings(config: &Config, url: &str) -> String {
    let bss = if config.international {
        format!("{url}{}", cph_emulator::endpoints::BSS_INTL_PREFIX)
    } else {
        url.to_string()
    };
    let mut vars = vec![
        ("HW_CPH_ENDPOINT", url.to_string()),
        ("HW_BSS_ENDPOINT", bss),
        ("HW_AUTH_URL", format!("{url}/v3")),
        ("HW_REGION_NAME", config.region.clone()),
        ("HW_PROJECT_ID", config.project_id.clone()),
        ("HW_ACCESS_KEY", config.access_key.clone()),
        ("HW_SECRET_KEY", config.secret_key.clone()),
    ];
    if let Some(token) = &config.security_token {
        vars.push(("HW_SECURITY_TOKEN", token.clone()));
    }
    let mut block = format!("# cph-emulator {VERSION}: provider settings, paste into a shell\n");
    for (name, value) in vars {
        block.push_str(&format!("export {name}={}\n", shell_quote(&value)));
    }
    block.push_str("# end of provider settings\n");
    block
}

/// `value` as one shell word: as is when it is plainly safe, else in single
/// quotes.
fn shell_quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}
