//! `cargo fuzz run invoke_elements`: see `torvyn_harness::fuzz::targets::invoke_elements`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(invoke_elements);
