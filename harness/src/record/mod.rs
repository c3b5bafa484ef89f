//! Record and replay in the harness: run a scenario or a pipeline with
//! every instance wrapped in the engine's
//! [`torvyn_engine::record::Recorder`] ([`RecordingBackend`]), feed a
//! recording's inputs to another build of the component and compare what
//! it answers call by call ([`replay`]), and turn a recording into a
//! scenario file ([`to_scenario`]), so recorded traffic becomes a snapshot
//! test.
//!
//! Built in every configuration of the harness, the mock-only one too:
//! recording and replaying a mock model compiles no Wasmtime.
//!
//! ```
//! use torvyn_engine::record::Recording;
//! use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend};
//! use torvyn_harness::spec::BackendKind;
//! use torvyn_harness::record::{RecordTo, RecordingBackend, replay_on};
//! use torvyn_harness::scenario::run_scenario_on;
//! use torvyn_harness::scenario::{InputElement, Scenario};
//! use torvyn_harness::source::ComponentSource;
//!
//! let settings = EngineSettings::deterministic(7);
//! let scenario = Scenario {
//!     inputs: vec![InputElement::text("hi"), InputElement::text("42")],
//!     backend: Some(BackendKind::Mock),
//!     ..Scenario::new("p", "passthrough")
//! };
//! let recorder = RecordingBackend::wrap(MockBackend::new(&settings)?, RecordTo::Memory, Default::default());
//! run_scenario_on(&recorder, &scenario)?;
//! let recording = Recording::parse(&recorder.recordings()[0].bytes()?).unwrap();
//!
//! // The same traffic against `uppercase`: the first element has a letter.
//! let upper = ComponentSource::Fixture("uppercase".into());
//! let report = replay_on(&MockBackend::new(&settings)?, &recording, &upper, "uppercase", None)?;
//! assert_eq!(report.divergence().unwrap().index, 0);
//! # Ok::<(), torvyn_harness::HarnessError>(())
//! ```

mod backend;
mod compare;
mod replay;
mod report;
mod scenario;

pub use backend::{
    RecordTo, RecordedCompiled, RecordedInstance, RecordingBackend, RecordingEngine,
};
pub use compare::describe_outcome;
pub use replay::{ReplayOptions, locate_component, replay, replay_on, replay_on_with, replay_with};
pub use report::{Divergence, FuelFigures, OutputDivergence, ReplayReport, WorldDivergence};
pub use scenario::to_scenario;

use torvyn_engine::record::RecordOptions;

use crate::backend::EngineSettings;
use crate::error::HarnessError;
use crate::pipeline::{Pipeline, PipelineTranscript, run_pipeline_on};
use crate::scenario::Scenario;
use crate::scenario::run_scenario_on;
use crate::spec::BackendKind;
use crate::transcript::Transcript;

/// Runs `scenario` on a new engine of `backend` built from `settings`,
/// recording its instance to `to`. The recordings are complete when this
/// returns; [`RecordedInstance::result`] says whether each was written.
pub fn run_scenario_recorded(
    backend: BackendKind,
    scenario: &Scenario,
    settings: &EngineSettings,
    to: RecordTo,
    options: RecordOptions,
) -> Result<(Transcript, Vec<RecordedInstance>), HarnessError> {
    crate::with_backend!(backend, settings, |b| {
        let recording = RecordingBackend::wrap(b.clone(), to, options);
        run_scenario_on(&recording, scenario).map(|t| (t, recording.recordings()))
    })?
}

/// Runs `pipeline` on a new engine of `backend` built from `settings`,
/// recording every stage to `to` (a [`RecordTo::Dir`]: one
/// `STAGE.jsonl` per stage).
pub fn run_pipeline_recorded(
    backend: BackendKind,
    pipeline: &Pipeline,
    settings: &EngineSettings,
    to: RecordTo,
    options: RecordOptions,
) -> Result<(PipelineTranscript, Vec<RecordedInstance>), HarnessError> {
    crate::with_backend!(backend, settings, |b| {
        let recording = RecordingBackend::wrap(b.clone(), to, options);
        run_pipeline_on(&recording, pipeline).map(|t| (t, recording.recordings()))
    })?
}
