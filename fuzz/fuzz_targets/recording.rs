//! `cargo fuzz run recording`: see `torvyn_harness::fuzz::targets::recording`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(recording);
