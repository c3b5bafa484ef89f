//! `torvyn-sim`: run torvyn:streaming components and pipelines
//! deterministically. The commands live in `torvyn_harness::cli`; this only
//! parses the arguments, prints, and maps errors to exit codes (see
//! `torvyn-sim --help`).

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use torvyn_harness::cli::{Cli, execute, init_logging};

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit with 2, --help with 0
    if let Some(note) = init_logging(cli.verbose) {
        eprintln!("{note}");
    }
    let (report, failure) = match execute(cli) {
        Ok(mut r) => {
            let f = r.failure.take();
            (r, f)
        }
        Err(e) => (Default::default(), Some(e)),
    };
    // A closed stdout (`torvyn-sim ... | head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(report.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    eprint!("{}", report.stderr);
    match failure {
        Some(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.code())
        }
        None => ExitCode::from(report.code),
    }
}
