//! The host side of the contract, shared by every backend: buffers,
//! mutable buffers and flow contexts, with every limit the contract puts on
//! them.
//!
//! Hot path. One [`HostResources`] lives in each instance (in the Wasmtime
//! store's data, or in a mock instance) and is backend-neutral: the backends
//! translate guest handles to the `u32` reps used here and forward every
//! method call. Nothing here panics on guest input; every check happens
//! before the value is used.
//!
//! Ownership model: resources are **call-scoped**. The inputs of a call (the
//! payload and flow context of a `stream-element`) are lent to the guest and
//! released when the call ends; an output buffer moves to the caller; any
//! resource the guest still holds when the call ends is reclaimed (and
//! counted in [`InvocationMetrics::resources_reclaimed`]). After every call
//! [`HostResources::live`] is therefore back to zero, and a guest that uses a
//! handle kept from an earlier call gets a stale-handle contract violation.
//!
//! [`InvocationMetrics::resources_reclaimed`]: crate::InvocationMetrics::resources_reclaimed

mod buffers;
mod flow;
mod resources;
mod table;
#[cfg(test)]
mod testing;
mod timer;

pub use buffers::TakenBuffer;
#[cfg(feature = "wasmtime-backend")]
pub(crate) use resources::KEEP_CONTENT_TYPE_BYTES;
pub use resources::{BufferError, HostResources, MAX_BUFFER_BYTES, ResourceLimits};
#[cfg(feature = "wasmtime-backend")]
pub(crate) use timer::DeadlinePassed;
