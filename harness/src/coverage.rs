//! Coverage of scenario and pipeline runs: which functions and source
//! lines of the components ran, as [`torvyn_engine::Coverage`] (LCOV with
//! [`Coverage::to_lcov`]).
//!
//! Each run gets a Wasmtime engine that records coverage
//! ([`WasmtimeBackend::new_covering`]): fixtures and `.wat` files are
//! compiled with DWARF line tables of their text, so their coverage is by
//! `.wat` line; a `.wasm` component is covered by line where it carries
//! DWARF (built with `-g`), by function otherwise. The run itself is the
//! same as without coverage (same transcript); only slower (figures in
//! `benches/RESULTS.md`).
//!
//! A suite accumulates coverage over its runs by passing the same
//! [`Coverage`] to each:
//!
//! ```no_run
//! use torvyn_engine::Coverage;
//! use torvyn_harness::coverage::run_scenario_covered;
//! use torvyn_harness::scenario::scenario_settings;
//! use torvyn_harness::scenario::Scenario;
//!
//! let mut coverage = Coverage::new();
//! for path in ["fixtures/scenarios/filter.yaml", "fixtures/scenarios/passthrough.yaml"] {
//!     let scenario = Scenario::load(path)?;
//!     run_scenario_covered(&scenario, &scenario_settings(&scenario), &mut coverage)?;
//! }
//! std::fs::write("lcov.info", coverage.to_lcov())?;
//! println!("covered {}", coverage.summary());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use torvyn_engine::Coverage;

use crate::backend::{EngineSettings, WasmtimeBackend};
use crate::error::HarnessError;
use crate::pipeline::{Pipeline, PipelineTranscript, run_pipeline_on};
use crate::scenario::Scenario;
use crate::scenario::run_scenario_on;
use crate::spec::BackendKind;
use crate::transcript::Transcript;

/// Runs `scenario` as [`crate::scenario::run_scenario_using`] does on
/// Wasmtime with `settings`, and adds what its component ran to
/// `coverage`.
///
/// # Errors
///
/// As a run's; [`HarnessError::Unsupported`] for a scenario on the mock
/// backend (it runs no guest code) or with the Winch compiler (no guest
/// debugging to record coverage with).
pub fn run_scenario_covered(
    scenario: &Scenario,
    settings: &EngineSettings,
    coverage: &mut Coverage,
) -> Result<Transcript, HarnessError> {
    let backend = covering_backend(scenario.effective_backend(), &scenario.component, settings)?;
    covered(&backend, coverage, |b| run_scenario_on(b, scenario))
}

/// Runs `pipeline` as [`crate::pipeline::run_pipeline_using`] does on
/// Wasmtime with `settings`, and adds what its stages ran to `coverage`
/// (two stages of one component add up).
///
/// # Errors
///
/// As [`run_scenario_covered`]'s.
pub fn run_pipeline_covered(
    pipeline: &Pipeline,
    settings: &EngineSettings,
    coverage: &mut Coverage,
) -> Result<PipelineTranscript, HarnessError> {
    let backend = covering_backend(pipeline.effective_backend(), &pipeline.name, settings)?;
    covered(&backend, coverage, |b| run_pipeline_on(b, pipeline))
}

/// `run` on `backend`, then what it ran added to `coverage`.
fn covered<T>(
    backend: &WasmtimeBackend,
    coverage: &mut Coverage,
    run: impl FnOnce(&WasmtimeBackend) -> Result<T, HarnessError>,
) -> Result<T, HarnessError> {
    let transcript = run(backend)?;
    if let Some(c) = backend.wasmtime().coverage() {
        coverage.merge(&c);
    }
    Ok(transcript)
}

/// A Wasmtime backend recording coverage for a run on `backend` of
/// `what` (named in errors).
pub(crate) fn covering_backend(
    backend: BackendKind,
    what: &str,
    settings: &EngineSettings,
) -> Result<WasmtimeBackend, HarnessError> {
    if backend == BackendKind::Mock {
        return Err(HarnessError::Unsupported {
            component: what.to_string(),
            problem: "coverage records which guest code ran on Wasmtime, and the mock backend \
                      runs none; run on Wasmtime (drop `backend: mock` or `--backend mock`)"
                .into(),
        });
    }
    WasmtimeBackend::new_covering(settings)
}
