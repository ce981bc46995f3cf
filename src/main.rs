//! `provider-registry`: parse the command line, set up logging, run.

use clap::Parser;
use provider_registry::cli::{self, Cli};
use provider_registry::telemetry;

/// glibc's malloc settings for the service: at most two arenas, and a fixed mmap threshold of
/// 128 KiB. With the defaults, each thread that once hashed a password (argon2id: a 19 MiB
/// buffer) kept those 19 MiB in its own arena for good — freeing an mmapped block raises the
/// threshold to its size, so the next ones come from the arena and are never given back —
/// which left 250–355 MB resident after 2,000 registrations. A fixed threshold keeps every
/// block of 128 KiB or more mmapped and returned to the system when freed. glibc reads its
/// tunables once, at start-up, and this crate has no `unsafe` for `mallopt`, so the process
/// executes itself again with them set (an operator's own `GLIBC_TUNABLES` is left alone).
/// mimalloc was measured instead and refused: under the extraction child's address-space
/// limit it could no longer start `pdftotext` nor report the memory limit (README).
const GLIBC_TUNABLES: &str = "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072";

fn with_malloc_tuning() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    // Returns only if the new image could not be started; the service then runs untuned.
    let err = command
        .args(args)
        .env("GLIBC_TUNABLES", GLIBC_TUNABLES)
        .exec();
    eprintln!("warning: cannot restart with the malloc tuning ({GLIBC_TUNABLES}): {err}");
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The PDF extraction child: its limits come first, and it needs no logging or runtime.
    if let Some(pdf) = cli.pdf_child() {
        return provider_registry::pdf::child_main(pdf);
    }
    with_malloc_tuning();
    telemetry::init();
    let result = actix_web::rt::System::new().block_on(cli::run(cli));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
