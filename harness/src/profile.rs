//! Guest profiles of scenario and pipeline runs (feature `profiling`, on
//! by default; Wasmtime backend only).
//!
//! [`run_scenario_profiled`] and [`run_pipeline_profiled`] run as
//! [`crate::scenario::run_scenario_using`] and
//! [`crate::pipeline::run_pipeline_using`] do, and also return a
//! [`GuestProfile`]: the guest's call stacks, sampled at every host call
//! and at the end of every call, weighted by the fuel burned, on a virtual
//! clock (one unit of fuel a nanosecond), in the Firefox profiler's
//! processed format (open it in <https://profiler.firefox.com/>). The same
//! run writes the same bytes. Each instance is a thread of the profile
//! (named by its stage id); each guest call is a `guest call` marker. See
//! [`torvyn_engine::wasmtime::ProfileRecorder`] for how samples are taken.

use std::path::Path;

use torvyn_engine::wasmtime::ProfileRecorder;

use crate::backend::{EngineSettings, WasmtimeBackend};
use crate::error::HarnessError;
use crate::pipeline::{Pipeline, PipelineTranscript, run_pipeline_on};
use crate::scenario::{Scenario, run_scenario_on};
use crate::spec::BackendKind;
use crate::transcript::Transcript;

/// A recorded guest profile: JSON in the Firefox profiler's processed
/// format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestProfile {
    json: Vec<u8>,
}

impl GuestProfile {
    /// The profile's JSON bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.json
    }

    /// Writes the profile to `path`.
    ///
    /// # Errors
    ///
    /// [`HarnessError::Io`] naming `path` when it cannot be written.
    pub fn write_to(&self, path: &Path) -> Result<(), HarnessError> {
        std::fs::write(path, &self.json).map_err(|source| HarnessError::Io {
            action: "write the profile to",
            path: path.to_path_buf(),
            source,
        })
    }
}

fn needs_wasmtime(backend: BackendKind, what: &str) -> Result<(), HarnessError> {
    match backend {
        BackendKind::Wasmtime => Ok(()),
        BackendKind::Mock => Err(HarnessError::Unsupported {
            component: what.to_string(),
            problem: "a guest profile samples WebAssembly stacks, which only the Wasmtime \
                      backend runs; drop the profile or use `--backend wasmtime`"
                .into(),
        }),
    }
}

/// Runs `scenario` on a new Wasmtime engine built from `settings`, with
/// its instance profiled.
///
/// # Errors
///
/// [`HarnessError::Unsupported`] when `backend` is the mock; otherwise
/// those of [`run_scenario_on`].
pub fn run_scenario_profiled(
    backend: BackendKind,
    scenario: &Scenario,
    settings: &EngineSettings,
) -> Result<(Transcript, GuestProfile), HarnessError> {
    needs_wasmtime(backend, &scenario.component)?;
    profiled(&scenario.name, settings, |b| run_scenario_on(b, scenario))
}

/// Runs `pipeline` on a new Wasmtime engine built from `settings`, with
/// every stage's instance profiled (a thread each).
///
/// # Errors
///
/// [`HarnessError::Unsupported`] when `backend` is the mock; otherwise
/// those of [`run_pipeline_on`].
pub fn run_pipeline_profiled(
    backend: BackendKind,
    pipeline: &Pipeline,
    settings: &EngineSettings,
) -> Result<(PipelineTranscript, GuestProfile), HarnessError> {
    needs_wasmtime(backend, &pipeline.name)?;
    profiled(&pipeline.name, settings, |b| run_pipeline_on(b, pipeline))
}

/// `run` on a new Wasmtime engine from `settings` whose instances are
/// profiled, into a profile named `name`.
fn profiled<T>(
    name: &str,
    settings: &EngineSettings,
    run: impl FnOnce(&WasmtimeBackend) -> Result<T, HarnessError>,
) -> Result<(T, GuestProfile), HarnessError> {
    let recorder = ProfileRecorder::new(name);
    let b = WasmtimeBackend::new(settings)?.with_profile(recorder.clone());
    let transcript = run(&b)?;
    Ok((
        transcript,
        GuestProfile {
            json: recorder.to_json(),
        },
    ))
}
