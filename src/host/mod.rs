//! The host side of the contract, shared by every backend.

mod resources;

pub use resources::{BufferError, HostResources, MAX_BUFFER_BYTES, ResourceLimits, TakenBuffer};
