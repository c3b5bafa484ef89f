//! # torvyn-engine
//!
//! The WebAssembly engine layer of the Torvyn reactive streaming runtime. It
//! runs WebAssembly **components** built against the contract
//! `torvyn:streaming@0.1.0`: sources `pull` elements, processors `process`
//! them, sinks `push` them, and every payload lives in host buffers the
//! guest reaches through resource handles.
//!
//! ## Two traits, two paths
//!
//! - [`WasmEngine`] is the **cold path**: compile (from bytes or WAT),
//!   serialize and `unsafe`-deserialize compiled code, instantiate, set an
//!   instance's fuel, read its memory use.
//! - [`ComponentInvoker`] is the **hot path**: `process`, `pull`, `push`,
//!   `notify_backpressure`, `complete`, `init`, `teardown`. Each call returns
//!   an [`Invocation`]: the value, the guest's [`ProcessError`], or an engine
//!   [`Fault`], with [`InvocationMetrics`] (fuel, duration, bytes copied,
//!   buffers allocated, memory) in every case.
//!
//! ## Backends
//!
//! - [`wasmtime`] (feature `wasmtime-backend`, default): Cranelift or Winch,
//!   fuel per call, epoch deadlines, memory/table/instance limits, WASI p2
//!   with nothing granted, `InstancePre` per compiled component.
//!
//! ## Feature flags
//!
//! | feature | default | what it costs |
//! |---|---|---|
//! | `wasmtime-backend` | yes | a full Wasmtime build (minutes on 2 cores) |
//! | `mock` | no | nothing heavy: builds without Wasmtime |
//! | `tracing-support` | no | the `tracing` crate; spans per call when on |
//!
//! ## Limits a guest cannot pass
//!
//! One buffer holds at most 16 MiB ([`host::MAX_BUFFER_BYTES`]); offsets and
//! lengths are checked before use; each instance has a budget of bytes held
//! in buffers it allocated and of live host resources; every host resource a
//! guest still holds when a call ends is reclaimed, so
//! [`ComponentInvoker::live_resources`] is zero between calls. A trap, fuel
//! exhaustion or a deadline poisons the instance (later calls fail with
//! [`FaultKind::Poisoned`]) while other instances keep working.

#![deny(missing_docs)]

pub mod cache;
pub mod clock;
pub mod config;
pub mod error;
pub mod host;
mod invoke;
pub mod random;
mod trace;
pub mod traits;
pub mod types;

#[cfg(feature = "mock")]
pub mod mock;
#[cfg(feature = "wasmtime-backend")]
pub mod wasmtime;

#[cfg(feature = "wasmtime-backend")]
pub use self::wasmtime::{WasmtimeCompiled, WasmtimeEngine, WasmtimeInvoker};
pub use cache::{
    CacheConfig, CacheKey, CacheOutcome, CacheStats, CacheTier, CompiledComponentCache,
    RejectReason,
};
pub use clock::Clock;
pub use config::{CompilationStrategy, PoolingConfig, WasmtimeEngineConfig};
pub use error::{
    ConfigProblem, ContractViolation, EngineError, Fault, FaultKind, InvokeError, TrapCode,
};
pub use random::RandomSource;
pub use traits::{ComponentInvoker, WasmEngine};
pub use types::{
    BackpressureSignal, Bytes, ComponentId, ElementMeta, FlowContext, Function, GuestOutput,
    Invocation, InvocationMetrics, OutputElement, ProcessError, ProcessResult, Role, Roles,
    StreamElement, World,
};

/// Runs the Rust code blocks of README.md as doc tests.
#[cfg(all(doctest, feature = "mock", feature = "wasmtime-backend"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
