//! The domain types that cross the engine's API: what a host hands to a
//! component and what it gets back.
//!
//! These are backend-neutral: the Wasmtime backend and the mock backend take
//! and return exactly these values, so a streaming host written against them
//! can swap backends without change. Payloads are [`Bytes`]: moving an element
//! from one stage to the next clones a reference count, never the bytes.

pub use bytes::Bytes;

mod content_type;
mod contract;
mod element;
mod ids;
mod incremental;
mod invocation;

pub use content_type::ContentType;
pub use contract::{
    BackpressureSignal, Function, ProcessError, ProcessErrorName, ProcessResult, Role, Roles, World,
};
pub use element::{ElementMeta, FlowContext, OutputElement, StreamElement};
pub use ids::{ComponentId, Grants};
pub use incremental::IncrementalStats;
pub use invocation::{GuestOutput, Invocation, InvocationMetrics};
