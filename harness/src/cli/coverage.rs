//! `--coverage FILE` of `run`, `pipeline` and `check`: the LCOV file and
//! the note on stderr.

use std::path::Path;

use torvyn_engine::Coverage;

use super::error::CliError;

#[cfg(feature = "coverage")]
/// Writes `coverage` as LCOV to `path`; the note for stderr says how much
/// ran and where the file is.
pub(crate) fn write(path: &Path, coverage: &Coverage) -> Result<String, CliError> {
    std::fs::write(path, coverage.to_lcov()).map_err(|e| {
        CliError::engine(format!(
            "cannot write the coverage file {}: {e}; check that its directory exists and is \
             writable",
            path.display()
        ))
    })?;
    Ok(format!(
        "coverage: {} ran; LCOV in {}\n",
        coverage.summary(),
        path.display()
    ))
}

/// The error of `--coverage` in a build without the `coverage` feature.
#[cfg(not(feature = "coverage"))]
pub(crate) fn not_built() -> CliError {
    CliError::usage(
        "--coverage needs torvyn-harness's `coverage` feature (on by default), which this build \
         lacks; rebuild with it",
    )
}

/// Runs `plain` without `--coverage` (`path` `None`); with it, runs
/// `covered` with an empty [`Coverage`] to fill, writes it to `path`, and
/// gives the note for stderr too.
pub(crate) fn run<T>(
    path: Option<&Path>,
    plain: impl FnOnce() -> Result<T, crate::HarnessError>,
    covered: impl FnOnce(&mut Coverage) -> Result<T, crate::HarnessError>,
) -> Result<(T, Option<String>), CliError> {
    let Some(path) = path else {
        return Ok((plain()?, None));
    };
    #[cfg(feature = "coverage")]
    {
        let mut coverage = Coverage::new();
        let out = covered(&mut coverage)?;
        let note = write(path, &coverage)?;
        Ok((out, Some(note)))
    }
    #[cfg(not(feature = "coverage"))]
    {
        let _ = (path, covered);
        Err(not_built())
    }
}
