//! `cargo fuzz run cache_entry`: see `torvyn_harness::fuzz::targets::cache_entry`.
#![cfg_attr(fuzzing, no_main)]

torvyn_fuzz::target!(cache_entry);
