//! The host side of the contract, shared by every backend.

mod resources;
mod timer;

#[cfg(feature = "wasmtime-backend")]
pub(crate) use resources::KEEP_CONTENT_TYPE_BYTES;
pub use resources::{BufferError, HostResources, MAX_BUFFER_BYTES, ResourceLimits, TakenBuffer};
#[cfg(feature = "wasmtime-backend")]
pub(crate) use timer::DeadlinePassed;
