//! `--coverage FILE` of `run`, `pipeline` and `check`: the LCOV file and
//! the note on stderr.

use std::path::Path;

use torvyn_engine::Coverage;

use super::error::CliError;
use crate::backend::EngineSettings;
use crate::pipeline::{Pipeline, PipelineTranscript, run_pipeline_using};
use crate::scenario::{Scenario, run_scenario_using};
use crate::spec::BackendKind;
use crate::transcript::Transcript;

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

/// `scenario` run on `kind` (`run_scenario_using`), or with `--coverage`
/// (`path`) covered, the LCOV written and the note for stderr given.
pub(crate) fn run_scenario(
    path: Option<&Path>,
    kind: BackendKind,
    scenario: &Scenario,
    settings: &EngineSettings,
) -> Result<(Transcript, Option<String>), CliError> {
    run(
        path,
        || run_scenario_using(kind, scenario, settings),
        |_coverage| {
            #[cfg(feature = "coverage")]
            return crate::coverage::run_scenario_covered(scenario, settings, _coverage);
            #[cfg(not(feature = "coverage"))]
            unreachable!("refused without the feature")
        },
    )
}

/// `pipeline` run on `kind`, as [`run_scenario`] runs a scenario.
pub(crate) fn run_pipeline(
    path: Option<&Path>,
    kind: BackendKind,
    pipeline: &Pipeline,
    settings: &EngineSettings,
) -> Result<(PipelineTranscript, Option<String>), CliError> {
    run(
        path,
        || run_pipeline_using(kind, pipeline, settings),
        |_coverage| {
            #[cfg(feature = "coverage")]
            return crate::coverage::run_pipeline_covered(pipeline, settings, _coverage);
            #[cfg(not(feature = "coverage"))]
            unreachable!("refused without the feature")
        },
    )
}

/// Runs `plain` without `--coverage` (`path` `None`); with it, runs
/// `covered` with an empty [`Coverage`] to fill, writes it to `path`, and
/// gives the note for stderr too.
fn run<T>(
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
