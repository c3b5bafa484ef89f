//! `torvyn-sim bench`: quick figures without criterion — ns per element for
//! the engine and for a minimal `bindgen!` host (or, with `--backend mock`,
//! for the mock running the fixture's model), and their ratio, from
//! interleaved rounds in one process.

use super::error::CliError;
use super::{BenchArgs, Report};
use crate::bench::{Against, BenchError, CompareOptions, compare_with};

/// Runs the comparison and prints its report.
pub fn run(args: &BenchArgs) -> Result<Report, CliError> {
    super::check_component_ref(&args.component)?;
    if args.elements == 0 {
        return Err(CliError::usage("--elements must be at least 1"));
    }
    let options = CompareOptions {
        payload_bytes: args.payload,
        elements: args.elements,
        against: match args.backend {
            super::BackendArg::Wasmtime => Against::Baseline,
            super::BackendArg::Mock => Against::Mock,
        },
        ..CompareOptions::new(&args.component)
    };
    match compare_with(&options) {
        Ok(report) => Ok(Report::ok(format!("{report}\n"))),
        Err(BenchError::Harness(e)) => Err(e.into()),
        Err(e @ BenchError::NoMockModel { .. }) => Err(CliError::input(e.to_string())),
        Err(e) => Err(CliError::engine(e.to_string())),
    }
}
