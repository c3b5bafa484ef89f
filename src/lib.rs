//! # torvyn-engine
//!
//! The WebAssembly engine layer of the Torvyn reactive streaming runtime. It
//! runs WebAssembly **components** built against the contract
//! `torvyn:streaming@0.1.0`: sources `pull` elements, processors `process`
//! them, sinks `push` them, and every payload lives in host buffers the
//! guest reaches through resource handles. The optional tiers run too:
//! filters (`evaluate`) and routers (`route`) of `torvyn:filtering@0.1.0`,
//! aggregators (`ingest`, `flush`) of `torvyn:aggregation@0.1.0`, and the
//! `torvyn:capabilities@0.1.0` query, answered from per-instance
//! [`Grants`]. Components built against either spelling of the streaming
//! package (`torvyn:streaming/types@0.1.0` or unversioned
//! `torvyn:streaming/types`) link to the same host implementation.
//!
//! ## Two traits, two paths
//!
//! - [`WasmEngine`] is the **cold path**: compile (from bytes or WAT),
//!   serialize and `unsafe`-deserialize compiled code, instantiate, set an
//!   instance's fuel, read its memory use.
//! - [`ComponentInvoker`] is the **hot path**: `process`, `pull`, `push`,
//!   `notify_backpressure`, `complete`, `init`, `teardown`, and `evaluate`,
//!   `route`, `ingest`, `flush` for the extension roles. Each call returns
//!   an [`Invocation`]: the value, the guest's [`ProcessError`], or an engine
//!   [`Fault`], with [`InvocationMetrics`] (fuel, duration, bytes copied,
//!   buffers allocated, memory) in every case.
//!
//! ## Backends
//!
//! - `wasmtime` (feature `wasmtime-backend`, default): Cranelift or Winch,
//!   fuel per call, epoch deadlines, memory/table/instance limits, WASI p2
//!   with nothing granted, `InstancePre` per compiled component, the pooling
//!   allocator on request.
//! - `mock` (feature `mock`): the same two traits without Wasmtime. Guests
//!   are models (a trait, or closures per function) or scripts; fuel and
//!   memory follow a cost model; cold-path failures can be injected; a
//!   journal records every call for `Expectations::verify`. Every call on
//!   either backend runs through one call frame (admission, lending, the
//!   metrics, fault classification, poisoning) over the same host-resource
//!   rules and the same [`Limits`], so a host tested against the mock sees
//!   the same behaviour.
//! - [`cache`]: [`cache::CompiledComponentCache`] over any [`WasmEngine`], a
//!   memory tier and a disk tier keyed by SHA-256 of the component and the
//!   engine's [`WasmEngine::fingerprint`]. Disk entries are sealed and
//!   verified before `deserialize` sees a byte.
//!
//! ## Determinism
//!
//! A run replays exactly when nothing in it reads the real world:
//! [`Clock::virtual_time`] makes time a function of work done (fuel consumed
//! and host calls made), so deadlines fire at the same instruction on every
//! run; [`RandomSource::Seeded`] gives each instance a WASI random stream
//! derived from the seed and the instance's id, not from creation order.
//! Fuel is deterministic for a given compiler (Cranelift and Winch can
//! differ by a few units). A run that does read the real world (the system
//! clock, the OS's randomness) replays exactly from a recording: every
//! value a guest's WASI clocks and random generators gave it goes through a
//! per-instance tap ([`CallWorld`]), which a [`record::Recorder`] logs and a
//! replay gives back. The harness crate (`torvyn-harness`) builds
//! seeded scenarios, transcripts and snapshot tests on top.
//!
//! ## Feature flags
//!
//! | feature | default | what it costs |
//! |---|---|---|
//! | `wasmtime-backend` | yes | a full Wasmtime build (minutes on 2 cores) |
//! | `mock` | no | nothing heavy: builds without Wasmtime |
//! | `tracing-support` | no | the `tracing` crate. A `torvyn.invoke` span per call (component, function, fuel, duration, outcome), `torvyn.cold` spans for compile and instantiate, a `torvyn.cache` span per lookup (its tier), and events for faults and rejected cache entries. With no subscriber listening, a span costs a cached-interest check. Off: nothing is compiled in |
//! | `profiling` | no | Wasmtime's `call-hook` (a check per host/guest transition) and `fxprof-processed-profile`: guest profiles on a fuel clock (`wasmtime::ProfileRecorder`) |
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

#![deny(missing_docs, unnameable_types)]

pub mod cache;
mod call;
mod clock;
mod config;
pub mod coverage;
mod error;
mod faults;
pub mod host;
mod host_calls;
mod instance;
mod invoke;
mod random;
pub mod record;
mod strategy;
mod trace;
mod traits;
mod types;
mod world;

#[cfg(feature = "mock")]
pub mod mock;
#[cfg(feature = "wasmtime-backend")]
pub mod wasmtime;

pub use call::{Answer, Call, Outcome};
pub use clock::{Clock, VirtualTime};
pub use config::Limits;
pub use coverage::{Coverage, CoverageSummary, FileCoverage, FunctionCoverage};
pub use error::{
    AnswerLimit, ConfigProblem, ContractViolation, EngineError, Fault, FaultKind, FaultName,
    InvokeError, TrapCode,
};
pub use faults::{HostFaultPlan, HostFunction, InjectedFault};
pub use host_calls::{HostAnswer, HostArgs, HostCall, MAX_TRACED_HOST_CALLS};
pub use instance::InstanceOptions;
pub use random::{RandomSource, SplitMix64, derive_seed};
pub use strategy::CompilationStrategy;
pub use traits::{ComponentInvoker, WasmEngine};
pub use types::{
    BackpressureSignal, Bytes, ComponentId, ContentType, ElementMeta, FlowContext, Function,
    Grants, GuestOutput, IncrementalStats, Invocation, InvocationMetrics, OutputElement,
    ProcessError, ProcessErrorName, ProcessResult, Role, Roles, StreamElement, World,
};
pub use world::{CallWorld, WorldInfo, WorldInterface, WorldRead};

/// Runs the Rust code blocks of README.md as doc tests.
#[cfg(all(doctest, feature = "mock", feature = "wasmtime-backend"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Runs the Rust code blocks of the guide's chapters that use the engine's
/// API (`docs/src/`) as doc tests. Blocks that need Wasmtime are wrapped in
/// `#[cfg(feature = "wasmtime-backend")]`, so the mock-only build compiles
/// them to nothing and runs the rest.
#[cfg(doctest)]
pub mod guide {
    /// docs/src/introduction.md
    #[doc = include_str!("../docs/src/introduction.md")]
    pub struct Introduction;
    /// docs/src/mock.md
    #[cfg(feature = "mock")]
    #[doc = include_str!("../docs/src/mock.md")]
    pub struct Mock;
    /// docs/src/record-replay.md
    #[doc = include_str!("../docs/src/record-replay.md")]
    pub struct RecordReplay;
    /// docs/src/host-faults.md
    #[doc = include_str!("../docs/src/host-faults.md")]
    pub struct HostFaults;
    /// docs/src/guarantees.md
    #[doc = include_str!("../docs/src/guarantees.md")]
    pub struct Guarantees;
    /// docs/src/extensions.md
    #[doc = include_str!("../docs/src/extensions.md")]
    pub struct Extensions;
    /// docs/src/cache.md
    #[doc = include_str!("../docs/src/cache.md")]
    pub struct Cache;
    /// docs/src/features.md
    #[doc = include_str!("../docs/src/features.md")]
    pub struct Features;
    /// docs/src/benchmarks.md
    #[doc = include_str!("../docs/src/benchmarks.md")]
    pub struct Benchmarks;
    /// docs/src/migrating-from-0.1.md
    #[doc = include_str!("../docs/src/migrating-from-0.1.md")]
    pub struct MigratingFrom01;
}
