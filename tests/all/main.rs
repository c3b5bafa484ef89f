//! Integration tests, one binary so Wasmtime links once.

mod cache;
mod cold_path;
mod conformance;
mod determinism;
mod differential;
mod limits;
mod mock;
mod roles;
mod snapshots;
mod support;
mod virtual_time;
