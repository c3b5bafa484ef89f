//! `cargo fuzz run differential`: see `torvyn_harness::fuzz::targets::differential`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(differential);
