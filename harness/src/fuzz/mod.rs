//! Fuzzing the guest/host boundary: generators, oracles and the five
//! targets that the cargo-fuzz crate in `fuzz/` wraps.
//!
//! The targets live here, not in `fuzz/`, so that normal tests run them
//! too: the replay test in the main suite feeds every target its committed
//! corpus (`fuzz/corpus/<target>/`), every committed crash
//! (`fuzz/regressions/<target>/`) and a fixed number of seeded random
//! inputs, on stable, in every `cargo test`.
//!
//! | target | what it drives | oracle |
//! |---|---|---|
//! | [`targets::invoke_elements`] | an element stream through every fixture, hostile ones included | [`oracle::CallCheck`] after every call |
//! | [`targets::differential`] | an element stream through a fixture and its mock model | [`oracle::Observed`] equal on both |
//! | [`targets::api_sequence`] | engine and invoker calls over live instances | [`oracle::CallCheck`], other instances untouched |
//! | [`targets::component_bytes`] | raw, mutated and wasm-smith-generated components | no panic, no hang, [`oracle::CallCheck`] |
//! | [`targets::cache_entry`] | arbitrary disk cache entries | nothing unverified reaches `deserialize` ([`spy::SpyEngine`]) |
//!
//! A target panics when an oracle fails; that is what libFuzzer reports as
//! a crash and what fails the replay test.
//!
//! ```
//! use torvyn_harness::fuzz::{self, Verdict};
//!
//! let target = fuzz::target("invoke_elements").unwrap();
//! assert_eq!((target.run)(b"any bytes at all"), Verdict::Checked);
//! ```

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

pub mod generate;
pub mod oracle;

pub mod spy;
pub mod targets;
pub mod world;

/// What a target did with one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The case ran and every oracle held.
    Checked,
    /// The input made no case worth checking (libFuzzer is told to keep it
    /// out of the corpus).
    Discarded,
}

/// A fuzz target: its name (the cargo-fuzz binary's) and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name, as in `cargo fuzz run NAME`.
    pub name: &'static str,
    /// Runs one input; panics when an oracle fails.
    pub run: fn(&[u8]) -> Verdict,
    /// How many seeded random inputs the replay test runs.
    pub random_inputs: usize,
}

/// Every target.
pub const TARGETS: [Target; 6] = [
    Target {
        name: "invoke_elements",
        run: targets::invoke_elements,
        random_inputs: 96,
    },
    Target {
        name: "differential",
        run: targets::differential,
        random_inputs: 64,
    },
    Target {
        name: "api_sequence",
        run: targets::api_sequence,
        random_inputs: 64,
    },
    Target {
        name: "component_bytes",
        run: targets::component_bytes,
        random_inputs: 64,
    },
    Target {
        name: "cache_entry",
        run: targets::cache_entry,
        random_inputs: 32,
    },
    Target {
        name: "recording",
        run: targets::recording,
        random_inputs: 64,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The `fuzz/` directory of the workspace.
pub fn fuzz_dir() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).join("fuzz")
}

/// The files a target replays: its seed corpus (`fuzz/corpus/<name>/`) and
/// its committed crashes (`fuzz/regressions/<name>/`), sorted by path.
pub fn committed_inputs(name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(name);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file()),
            );
        }
    }
    files.sort();
    files
}

/// `count` inputs of 0 to `max_len` bytes from `seed` (the same seed gives
/// the same inputs), for a target named `name`.
pub fn random_inputs(seed: u64, name: &str, count: usize, max_len: usize) -> Vec<Vec<u8>> {
    let mut rng = crate::sim::SimRng::new(seed).fork(name);
    (0..count)
        .map(|_| {
            let len = rng.below(max_len as u64 + 1) as usize;
            rng.bytes(len)
        })
        .collect()
}

/// What a replay found.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Inputs run.
    pub ran: usize,
    /// Inputs the target discarded.
    pub discarded: usize,
    /// Inputs that failed an oracle: where they came from, and the panic.
    pub failures: Vec<(String, String)>,
}

/// Runs `target` on one input, turning a panic into an error message.
pub fn run_caught(target: &Target, input: &[u8]) -> Result<Verdict, String> {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

thread_local! {
    /// What the case running on this thread observed, while
    /// [`run_observed`] records.
    static OBSERVED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Records one line of what a case observed (a call's outcome and
/// metrics, the clocks at its end) when [`run_observed`] is recording on
/// this thread; otherwise `line` is not called, so the fuzz loop pays one
/// thread-local read.
pub(crate) fn observe(line: impl FnOnce() -> String) {
    OBSERVED.with(|o| {
        if let Some(lines) = o.borrow_mut().as_mut() {
            lines.push(line());
        }
    });
}

/// [`run_caught`], also returning what the case observed: per call, the
/// outcome, the accounting ([`oracle::Observed`]), the fuel consumed, the
/// duration on the engine clock and the memory size; per `cache_entry`
/// case, the tier and the counters it moved; and every fuzz clock's
/// reading when the case ended. One input must give the same lines every
/// time, in any order of inputs: a target that read a real clock (or
/// carried state from one input to the next) would not.
pub fn run_observed(target: &Target, input: &[u8]) -> (Result<Verdict, String>, Vec<String>) {
    OBSERVED.with(|o| *o.borrow_mut() = Some(Vec::new()));
    let verdict = run_caught(target, input);
    let lines = OBSERVED.with(|o| o.borrow_mut().take()).unwrap_or_default();
    (verdict, lines)
}

/// Replays `target`: its committed inputs, then
/// [`Target::random_inputs`] seeded inputs from `seed`.
pub fn replay(target: &Target, seed: u64) -> ReplayReport {
    let mut report = ReplayReport::default();
    let mut run = |origin: String, input: &[u8]| {
        report.ran += 1;
        match run_caught(target, input) {
            Ok(Verdict::Checked) => {}
            Ok(Verdict::Discarded) => report.discarded += 1,
            Err(message) => report.failures.push((origin, message)),
        }
    };
    for path in committed_inputs(target.name) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        run(path.display().to_string(), &bytes);
    }
    for (i, input) in random_inputs(seed, target.name, target.random_inputs, 4096)
        .iter()
        .enumerate()
    {
        run(
            format!("seeded input {i} of seed {seed:#x} (TORVYN_SIM_SEED)"),
            input,
        );
    }
    report
}
