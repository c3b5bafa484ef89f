//! Integration tests, one binary so Wasmtime links once.

mod cold_path;
mod limits;
mod roles;
mod support;
