//! `cargo fuzz run component_bytes`: see `torvyn_harness::fuzz::targets::component_bytes`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(component_bytes);
