//! Test harness for `torvyn-engine`.
//!
//! * [`fixtures`]: loads the WAT guests in `fixtures/components/`, turning
//!   canonical-ABI core modules into components for the worlds of the
//!   `torvyn:streaming@0.1.0` contract (`wit/`) or of the fixture-only WIT
//!   package (`fixtures/wit/`).
#![deny(missing_docs)]

pub mod fixtures;
