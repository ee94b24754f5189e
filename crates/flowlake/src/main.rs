//! The `flowlake` command line: argument parsing, logging and error reporting around the engine.
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

/// `println!` that returns an error instead of panicking when stdout is gone (`flowlake query … | head`): the
/// error travels up to `main`, which ends the run quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

mod cli;
mod commands;
mod progress_bar;
mod render;
mod term;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, LogFormat};

/// mimalloc instead of glibc's allocator: building rows allocates many small strings per item, and perf showed
/// the benchmark's producer thread spending about half its time in glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(cli: &Cli) {
    // A service's log is how its jobs are followed: it says what each one does by default.
    let service = matches!(
        cli.command,
        cli::Command::Run { .. } | cli::Command::Serve | cli::Command::TrackerExporter { .. }
    );
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) if service => "info",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(term::stderr_colour());
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    term::set_json_stderr(cli.log_format == LogFormat::Json);
    init_logging(&cli);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): what it wanted was printed.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            term::error_line(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
