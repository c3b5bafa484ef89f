//! Glue between cargo-fuzz and the fuzz targets in
//! [`torvyn_harness::fuzz`]. Each file in `fuzz_targets/` is one line,
//! [`target!`], which makes:
//!
//! * under `cargo fuzz` (`cfg(fuzzing)`): a libFuzzer entry point that runs
//!   the target and keeps discarded inputs out of the corpus;
//! * on stable: a replay tool, `cargo run -p torvyn-fuzz --bin NAME --
//!   [FILE|DIR]...`, that runs the target on the given files (or, with no
//!   argument, the committed corpus and regressions) and reports each.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use torvyn_harness::fuzz::{self, Verdict};

#[cfg(fuzzing)]
#[doc(hidden)]
pub use libfuzzer_sys;

/// The libFuzzer entry point (under `cargo fuzz`) or the stable replay
/// `main` for the target named `$name` in `torvyn_harness::fuzz::targets`.
#[macro_export]
macro_rules! target {
    ($name:ident) => {
        #[cfg(fuzzing)]
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| -> $crate::libfuzzer_sys::Corpus {
            $crate::corpus(::torvyn_harness::fuzz::targets::$name(data))
        });

        #[cfg(not(fuzzing))]
        fn main() -> ::std::process::ExitCode {
            $crate::replay_main(stringify!($name))
        }
    };
}

/// What libFuzzer does with an input after the target's verdict.
#[cfg(fuzzing)]
pub fn corpus(verdict: Verdict) -> libfuzzer_sys::Corpus {
    match verdict {
        Verdict::Checked => libfuzzer_sys::Corpus::Keep,
        Verdict::Discarded => libfuzzer_sys::Corpus::Reject,
    }
}

fn inputs(args: &[String], name: &str) -> Vec<PathBuf> {
    if args.is_empty() {
        return fuzz::committed_inputs(name);
    }
    let mut files = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            found.retain(|p| p.is_file());
            found.sort();
            files.extend(found);
        } else {
            files.push(path.to_path_buf());
        }
    }
    files
}

/// The stable `main` of a target: replays files and directories given as
/// arguments (the committed corpus and regressions without any) and exits
/// with 1 if any input fails an oracle, 2 if an input cannot be read.
pub fn replay_main(name: &str) -> ExitCode {
    let target = fuzz::target(name).expect("the macro names a target");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: {name} [FILE|DIR]...\n\nRuns the fuzz target `{name}` on each input file (every file \
             of a directory); with no argument, on fuzz/corpus/{name}/ and fuzz/regressions/{name}/.\n\
             Exit status: 0 all passed, 1 an oracle failed, 2 an input could not be read.\n\
             To fuzz: cargo +nightly fuzz run {name} (see fuzz/README.md)."
        );
        return ExitCode::SUCCESS;
    }
    let files = inputs(&args, name);
    let (mut failed, mut discarded) = (0usize, 0usize);
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{name}: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        match fuzz::run_caught(target, &bytes) {
            Ok(Verdict::Checked) => println!("ok        {}", file.display()),
            Ok(Verdict::Discarded) => {
                discarded += 1;
                println!("discarded {}", file.display());
            }
            Err(message) => {
                failed += 1;
                println!("FAILED    {}\n  {message}", file.display());
            }
        }
    }
    println!(
        "{name}: {} inputs, {failed} failed, {discarded} discarded",
        files.len()
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
