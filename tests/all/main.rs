//! Integration tests, one binary so Wasmtime links once.

mod async_hosts;
mod bad_input;
mod cache;
mod cold_path;
mod conformance;
#[cfg(feature = "coverage")]
mod coverage;
mod determinism;
mod differential;
mod extensions;
mod frame;
mod fuzz_replay;
mod guests;
mod host_calls;
mod host_faults;
mod hostile;
mod incremental;
mod limits;
mod load;
mod mock;
mod post_return;
mod roles;
mod snapshots;
mod support;
mod virtual_time;
mod world;
