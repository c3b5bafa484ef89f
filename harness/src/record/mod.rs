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
//! use torvyn_harness::backend::{BackendKind, EngineSettings, MockBackend, SimBackend};
//! use torvyn_harness::record::{RecordTo, RecordingBackend, replay_on};
//! use torvyn_harness::runner::run_scenario_on;
//! use torvyn_harness::scenario::{ComponentSource, InputElement, Scenario};
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
//! assert_eq!(report.divergence.unwrap().index, 0);
//! # Ok::<(), torvyn_harness::HarnessError>(())
//! ```

mod backend;
mod replay;
mod scenario;

pub use backend::{RecordTo, RecordedCompiled, RecordedInstance, RecordingBackend, RecordingEngine};
pub use replay::{Divergence, FuelFigures, ReplayReport, describe_outcome, replay, replay_on};
pub use scenario::to_scenario;
