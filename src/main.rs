//! The terraform-provider-cph binary: Terraform starts it and talks to it
//! over the plugin protocol; `--debug` serves it for a debugger session.

use std::process::ExitCode;

use clap::Parser;

/// What the framework serves this binary as.
const PROVIDER: tf_framework::ProviderInfo = tf_framework::ProviderInfo {
    binary: "terraform-provider-cph",
    address: "registry.terraform.io/cloudphone/cph",
    version: env!("CARGO_PKG_VERSION"),
    // The crate's modules, and the CPH client's HTTP calls and polls.
    log_targets: &["terraform_provider_cph", "cph"],
};

/// Terraform provider for Huawei Cloud Cloud Phone Host. Terraform starts
/// this binary itself; run it by hand only with --debug.
#[derive(Parser)]
#[command(name = "terraform-provider-cph", version, about, long_about = None)]
struct Cli {
    /// Serve without Terraform starting the process, and print a
    /// TF_REATTACH_PROVIDERS value to use in another terminal.
    #[arg(long)]
    debug: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let provider = terraform_provider_cph::resources::provider();
    if cli.debug {
        tf_framework::serve_debug(PROVIDER, provider).await
    } else {
        tf_framework::serve(PROVIDER, provider).await
    }
}
