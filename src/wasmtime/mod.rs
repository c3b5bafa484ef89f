//! The Wasmtime backend (feature `wasmtime-backend`, on by default).
//!
//! [`WasmtimeEngine`] compiles components with Cranelift or Winch, links
//! them once against WASI p2 and the contract's host functions, and creates
//! [`WasmtimeInvoker`]s, each in its own store with fuel, an epoch deadline,
//! memory/table/instance limits and its own host resources.

mod answers;
mod bindings;
mod config;
#[cfg(feature = "coverage")]
mod coverage;
mod engine;
mod exports;
mod host;
mod invoker;
mod limiter;
#[cfg(feature = "profiling")]
mod profile;
mod stubs;
mod ticker;
mod wasi;
mod wasi_io;

pub use config::{PoolingConfig, UnknownImports, WasmtimeEngineConfig};
pub use engine::{WasmtimeCompiled, WasmtimeEngine, codegen_config};
pub use invoker::WasmtimeInvoker;
#[cfg(feature = "profiling")]
pub use profile::ProfileRecorder;
pub use stubs::define_stubs;
