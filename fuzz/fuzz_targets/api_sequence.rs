//! `cargo fuzz run api_sequence`: see `torvyn_harness::fuzz::targets::api_sequence`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(api_sequence);
