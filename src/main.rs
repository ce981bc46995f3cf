//! `provider-registry`: parse the command line, set up logging, run.

use clap::Parser;
use provider_registry::cli::{self, Cli};
use provider_registry::telemetry;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The PDF extraction child: its limits come first, and it needs no logging or runtime.
    if let Some(pdf) = cli.pdf_child() {
        return provider_registry::pdf::child_main(pdf);
    }
    let malloc = provider_registry::allocator::configure();
    telemetry::init();
    tracing::debug!(%malloc, "malloc settings");
    let result = actix_web::rt::System::new().block_on(cli::run(cli));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
