//! # torvyn-engine 0.1 (compatibility release)
//!
//! The API of torvyn-engine 0.1.1, the engine layer Torvyn's 0.1 crates
//! (`torvyn-reactor` 0.1.1 among them) are written against, implemented
//! over torvyn-engine 0.2 ([`v2`]). Code written for 0.1.1 builds
//! unchanged, and now runs `torvyn:streaming@0.1.0` components for real:
//!
//! - [`WasmtimeEngine`] compiles and instantiates components with 0.2's
//!   Wasmtime backend (WASI p2 and the contract's host interfaces linked,
//!   nothing granted); [`WasmtimeEngine::imports`] gives the
//!   [`ImportBindings`] to instantiate with.
//! - [`WasmtimeInvoker`] calls `pull`, `process`, `push`, `init` and
//!   `teardown` through 0.2's typed calls, with fuel and a deadline per
//!   call. Guest `process-error`s keep their kind and message; engine faults
//!   become [`torvyn_types::ProcessError`]s as 0.1.1 mapped traps (see
//!   [`ComponentInvoker`]).
//! - Payloads: a [`torvyn_types::BufferHandle`] names bytes the invoker holds
//!   in its [`Payloads`] table. A handle passed into a call is consumed;
//!   every output gets a fresh one; a host puts bytes in and reads them out
//!   with [`Payloads::insert`] and [`Payloads::take`]. The table belongs to
//!   the invoker, which a flow owns, so no handle outlives its flow.
//! - [`mock::MockEngine`] and [`mock::MockInvoker`] (feature `mock`) run
//!   0.2's mock: its models of the fixtures when the bytes name one
//!   ([`v2::mock::models::NAMES`]), and 0.1.1's canned behaviour otherwise.
//!
//! What 0.1.1 had and this release does differently, and how to move to
//! 0.2 itself: the repository's `docs/src/migrating-from-0.1.md`.
//!
//! # Feature flags
//! - `wasmtime-backend` (default): the Wasmtime backend.
//! - `mock`: [`mock::MockEngine`] and [`mock::MockInvoker`]; builds without
//!   Wasmtime.
//! - `tracing-support`: 0.2's spans and events through `tracing`, and a
//!   warning when a teardown fails.

#![deny(missing_docs)]

pub mod cache;
pub mod config;
pub mod error;
pub mod payload;
pub mod traits;
pub mod types;

mod bridge;

#[cfg(feature = "wasmtime-backend")]
pub mod wasmtime_engine;

#[cfg(feature = "wasmtime-backend")]
pub mod wasmtime_invoker;

#[cfg(feature = "mock")]
pub mod mock;

/// torvyn-engine 0.2, which this release runs on: for what the 0.1 API has
/// no words for (deadlines, grants, unknown imports, the mock's models),
/// and for porting code to 0.2 one piece at a time.
pub use v2;

pub use cache::CompiledComponentCache;
pub use config::{CompilationStrategy, WasmtimeEngineConfig};
pub use error::EngineError;
pub use payload::{PayloadStats, Payloads};
pub use traits::{ComponentInvoker, WasmEngine};
pub use types::{
    CompiledComponent, ComponentInstance, ImportBindings, InvocationResult, OutputElement,
    ProcessResult, StreamElement,
};

#[cfg(feature = "wasmtime-backend")]
pub use wasmtime_engine::{GuestOutputs, WasmtimeEngine};

#[cfg(feature = "wasmtime-backend")]
pub use wasmtime_invoker::WasmtimeInvoker;

/// Runs the Rust code blocks of README.md as doc tests.
#[cfg(all(doctest, feature = "wasmtime-backend"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
