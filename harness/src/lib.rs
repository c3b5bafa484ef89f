//! Test harness for `torvyn-engine`: fixtures, deterministic simulation,
//! transcripts and pipeline runs.
//!
//! The modules, by concept:
//!
//! * What a run is given: [`spec`] (the settings every run shares: backend,
//!   compiler, clock, seed, host faults), [`source`] (where a component
//!   comes from: a fixture, a file, or a scripted mock read by
//!   [`source::mock_spec_from_yaml`]), [`fixtures`] (the WAT guests of
//!   `fixtures/components/`, componentized for the contract's worlds) and
//!   [`sim`] (the seeded generator behind every id and generated input,
//!   `TORVYN_SIM_SEED`).
//! * What runs: [`scenario`] (a scenario file, and
//!   [`scenario::run_scenario`], which drives one component by role) and
//!   [`pipeline`] (a pipeline file, its graph, [`pipeline::run_pipeline`]
//!   and its report), both on a [`backend::SimBackend`] (the mock or
//!   Wasmtime; [`with_backend!`] picks one at run time) and both calling
//!   their instances through one private driver that records each call.
//! * What a run leaves: [`transcript`] (its model, outcomes, previews,
//!   totals and renderings), [`snapshot`] (comparing a run with a snapshot,
//!   exactly or by behaviour), [`record`] (record and replay), [`faults`]
//!   (host-call fault injection and the sweep) and [`table`] (the plain-text
//!   tables they print).
//! * Tools: `bench` (the `bindgen!` baseline host the engine is measured
//!   against), `fuzz` (generators, oracles and the six fuzz targets, one
//!   module each) and `cli` (the `torvyn-sim` command line, whose binary is
//!   `src/bin/torvyn-sim.rs`), all with the `wasmtime-backend` feature.
//! * [`error`] defines [`HarnessError`], the one error type.
//!
//! ```
//! use torvyn_harness::spec::BackendKind;
//! use torvyn_harness::scenario::run_scenario;
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
mod drive;
pub mod error;
pub mod faults;
pub mod fixtures;
#[cfg(feature = "wasmtime-backend")]
pub mod fuzz;
pub mod host_calls;
pub mod pipeline;
#[cfg(feature = "profiling")]
pub mod profile;
pub mod record;
pub mod scenario;
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

/// Runs the Rust code blocks of the guide's chapters that use the
/// harness's API (the workspace's `docs/src/`) as doc tests, in every build
/// (the mock is always built).
#[cfg(doctest)]
pub mod guide {
    /// docs/src/mock.md, the engine's mock API: run here in the mock-only
    /// build (as README is), by the engine crate's doc tests otherwise.
    #[cfg(not(feature = "wasmtime-backend"))]
    #[doc = include_str!("../../docs/src/mock.md")]
    pub struct Mock;
    /// docs/src/scenarios.md
    #[doc = include_str!("../../docs/src/scenarios.md")]
    pub struct Scenarios;
    /// docs/src/cli.md
    #[doc = include_str!("../../docs/src/cli.md")]
    pub struct Cli;
    /// docs/src/first-component.md
    #[doc = include_str!("../../docs/src/first-component.md")]
    pub struct FirstComponent;
    /// docs/src/component-authors.md
    #[doc = include_str!("../../docs/src/component-authors.md")]
    pub struct ComponentAuthors;
    /// docs/src/scenario-reference.md
    #[doc = include_str!("../../docs/src/scenario-reference.md")]
    pub struct ScenarioReference;
    /// docs/src/fuzzing.md
    #[doc = include_str!("../../docs/src/fuzzing.md")]
    pub struct Fuzzing;
    /// docs/src/profiles.md
    #[doc = include_str!("../../docs/src/profiles.md")]
    pub struct Profiles;
    /// docs/src/inside-the-guest.md
    #[doc = include_str!("../../docs/src/inside-the-guest.md")]
    pub struct InsideTheGuest;
    /// docs/src/layout.md
    #[doc = include_str!("../../docs/src/layout.md")]
    pub struct Layout;
}
