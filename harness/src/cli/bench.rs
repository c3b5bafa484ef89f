//! `torvyn-sim bench`: quick figures without criterion — ns per element for
//! the engine and for a minimal `bindgen!` host, and their ratio, from
//! interleaved rounds in one process.

use super::error::CliError;
use super::{BenchArgs, Report};
use crate::bench::{BenchError, compare};

/// Runs the comparison and prints its report.
pub fn run(args: &BenchArgs) -> Result<Report, CliError> {
    super::check_component_ref(&args.component)?;
    if args.elements == 0 {
        return Err(CliError::usage("--elements must be at least 1"));
    }
    match compare(&args.component, args.payload, args.elements) {
        Ok(report) => Ok(Report::ok(format!("{report}\n"))),
        Err(BenchError::Harness(e)) => Err(e.into()),
        Err(e) => Err(CliError::engine(e.to_string())),
    }
}
