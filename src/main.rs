//! The terraform-provider-cph binary: Terraform starts it and talks to it
//! over the plugin protocol; `--debug` serves it for a debugger session.

use std::process::ExitCode;

use clap::Parser;

/// The provider's address in the registry, as users write `cloudphone/cph`.
const PROVIDER_ADDRESS: &str = "registry.terraform.io/cloudphone/cph";

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
        terraform_provider_cph::plugin::serve_debug(provider, PROVIDER_ADDRESS).await
    } else {
        terraform_provider_cph::plugin::serve(provider).await
    }
}
