//! The `torvyn-sim` binary, run as a user would: every command, its output
//! formats, and its errors with their exit codes.
//!
//! Most of it is data: `cases/<topic>/<name>.t` lists commands, and the
//! blessed `<name>.stdout` / `<name>.stderr` beside it are what they print
//! ([`cases`] runs them; `cases/README.md` describes the format and
//! `BLESS=1`). The modules here hold what needs code: files built or
//! edited between commands, two runs compared, a cache directory looked
//! into, figures checked against each other, and the real-toolchain
//! guests, whose output moves with their toolchain.

// The mock-only build (`--no-default-features --features mock`) skips
// this binary: the `torvyn-sim` binary needs the Wasmtime backend.
#![cfg(feature = "wasmtime-backend")]

mod bench;
mod cache;
mod case_file;
mod cases;
mod check;
mod completions;
#[cfg(feature = "coverage")]
mod coverage;
mod guests;
mod normalize;
mod support;
