//! Test harness for `torvyn-engine`: fixtures, deterministic simulation,
//! transcripts and pipeline runs.
//!
//! * [`fixtures`]: loads the WAT guests in `fixtures/components/`, turning
//!   canonical-ABI core modules into components for the worlds of the
//!   `torvyn:streaming@0.1.0` contract (`wit/`) or of the fixture-only WIT
//!   package (`fixtures/wit/`).
//! * [`sim`]: the seeded generator behind every id and generated input of a
//!   run, `TORVYN_SIM_SEED`, and a guard that prints the seed of a failing
//!   test.
//! * [`scenario`]: scenario files (YAML or JSON) naming a component, its
//!   role, config, inputs, fuel and backpressure script.
//! * [`runner`]: [`runner::run_scenario`] runs a scenario on a fresh engine
//!   and returns a [`transcript::Transcript`].
//! * [`pipeline`]: [`pipeline::run_pipeline`] simulates a pipeline graph
//!   (a source, processors, filters, routers, aggregators, one or more
//!   sinks) with backpressure on one shared clock.
//! * [`transcript`]: the records of runs, as YAML, JSON or text.
//! * [`backend`]: the one backend abstraction ([`backend::SimBackend`]) and
//!   its two implementations, the mock and Wasmtime; [`with_backend!`]
//!   picks one at run time.
//! * [`script`]: scripted mock components written in scenario files.
//! * [`error`] defines [`HarnessError`], the one error type.
//! * `fuzz` (with the `wasmtime-backend` feature): generators, oracles and
//!   the five fuzz targets `fuzz/` wraps for cargo-fuzz, also replayed by
//!   the main test suite.
//! * `cli` (with the `wasmtime-backend` feature): the `torvyn-sim` command
//!   line, whose binary is `src/bin/torvyn-sim.rs`.
//!
//! ```
//! use torvyn_harness::spec::BackendKind;
//! use torvyn_harness::runner::run_scenario;
//! use torvyn_harness::scenario::{InputElement, Scenario};
//!
//! // The mock runs the fixture's model; leave `backend` out (or say
//! // `BackendKind::Wasmtime`) to run the WebAssembly fixture itself.
//! let scenario = Scenario {
//!     inputs: vec![InputElement::text("hello")],
//!     backend: Some(BackendKind::Mock),
//!     ..Scenario::new("upper", "uppercase")
//! };
//! let transcript = run_scenario(&scenario)?;
//! println!("{}", transcript.render_text());
//! assert!(transcript.to_yaml()?.contains("text: HELLO"));
//! # Ok::<(), torvyn_harness::HarnessError>(())
//! ```
#![deny(missing_docs)]

pub mod backend;
#[cfg(feature = "wasmtime-backend")]
pub mod bench;
#[cfg(feature = "wasmtime-backend")]
pub mod cli;
#[cfg(feature = "coverage")]
pub mod coverage;
pub mod error;
pub mod faults;
pub mod fixtures;
#[cfg(feature = "wasmtime-backend")]
pub mod fuzz;
pub mod pipeline;
pub mod record;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod sim;
pub mod snapshot;
pub mod source;
pub mod spec;
pub mod table;
pub mod transcript;

pub use error::HarnessError;

/// Runs the Rust blocks of the workspace README as doc tests in the
/// mock-only build (CI: `cargo test -p torvyn-harness --no-default-features
/// --features mock --doc`): the mock section runs, the blocks that need
/// Wasmtime are wrapped in `#[cfg(feature = "wasmtime-backend")]` and
/// compile to nothing. The full build runs them all through the engine
/// crate's own README doc tests.
#[cfg(all(doctest, not(feature = "wasmtime-backend")))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
