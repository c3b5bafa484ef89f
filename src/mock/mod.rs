//! The mock backend (feature `mock`): [`MockEngine`] and [`MockInvoker`]
//! implement the same traits as the Wasmtime backend without compiling any
//! WebAssembly.
//!
//! A mock component is a Rust model ([`MockModel`], or closures through
//! [`MockComponent::processor`]) or a script of responses
//! ([`MockComponent::scripted`]). Its calls go through the same host buffer
//! store as real guests, cost modelled fuel on the same clock, poison the
//! instance on the same faults, and are written to a [`Journal`] that
//! [`Expectations`] are verified against. [`models`] has models of the
//! benign fixtures, checked differentially against them. With the `serde`
//! feature, `MockSpec` is the file form of a scripted component.

mod engine;
mod faults;
mod invoker;
mod journal;
mod model;
pub mod models;
mod script;
#[cfg(feature = "serde")]
mod spec;

pub use engine::{MockCompiled, MockEngine, MockEngineConfig};
pub use faults::{ColdFaults, CostModel, DeserializeFailure, FailOn};
pub use invoker::MockInvoker;
pub use journal::{
    Expectations, Journal, JournalEntry, JournalMode, JournalOutcome, PayloadDigest, VerifyError,
    digest,
};
pub use model::{
    Buf, MemoryModel, MockBuilder, MockComponent, MockCtx, MockError, MockModel, MockResult,
    ModelElement, MutBuf, PendingOutput,
};
pub use script::{Response, Script, ScriptMode, ScriptedOutput, Scripts};
#[cfg(feature = "serde")]
pub use spec::{EmitSpec, MockSpec, ResponseSpec, ScriptSpec};
