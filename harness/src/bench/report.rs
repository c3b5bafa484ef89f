//! [`BenchReport`]: what a comparison measured (ns per element on each
//! side, what each sent, the compile apart) and its text form.
//!
//! Cold path: built once, after the rounds.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use torvyn_engine::CompilationStrategy;
use torvyn_engine::cache::CacheTier;

use super::{Against, BenchInput};

/// The sizes of the payloads a comparison sent in turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputSizes {
    /// Whether they were given ([`CompareOptions::inputs`](super::CompareOptions::inputs)) rather than the
    /// built-in payload.
    pub given: bool,
    /// How many.
    pub count: usize,
    /// The smallest, in bytes.
    pub min_bytes: usize,
    /// The largest, in bytes.
    pub max_bytes: usize,
    /// All of them together, in bytes.
    pub total_bytes: u64,
}

impl InputSizes {
    pub(super) fn of(inputs: &[BenchInput], given: bool) -> Self {
        let lens = inputs.iter().map(|i| i.payload.len());
        Self {
            given,
            count: inputs.len(),
            min_bytes: lens.clone().min().unwrap_or(0),
            max_bytes: lens.clone().max().unwrap_or(0),
            total_bytes: lens.map(|l| l as u64).sum(),
        }
    }
}

/// What one side sent in the measured rounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Calls made.
    pub calls: u64,
    /// Payload bytes sent with them (0 for `pull`).
    pub bytes: u64,
}

/// How the engine got the component's code, and the other side its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileReport {
    /// The cache tier that answered the engine's lookup, or
    /// [`CacheTier::Compiled`] (a miss, or no cache).
    pub tier: CacheTier,
    /// The cache directory ([`CompareOptions::cache_dir`](super::CompareOptions::cache_dir)).
    pub cache_dir: Option<PathBuf>,
    /// The time the engine took to compile or load the component (and link
    /// it), apart from every per-call figure.
    pub engine: Duration,
    /// The time the other side took to get ready: the baseline loading the
    /// engine's code (or compiling) and linking, or the mock building its
    /// model.
    pub other: Duration,
    /// Whether the baseline runs the engine's compiled code
    /// ([`Baseline::from_engine_code`](super::Baseline::from_engine_code)) rather than a compile of its own.
    pub baseline_reused_engine_code: bool,
}

impl CompileReport {
    /// Whether a cache tier had the component.
    pub fn cache_hit(&self) -> bool {
        self.tier != CacheTier::Compiled
    }
}

/// An input the component answered with a `process-error`
/// ([`CompareOptions::keep_going`](super::CompareOptions::keep_going)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedInput {
    /// Its index in the inputs.
    pub index: usize,
    /// Where it came from.
    pub origin: String,
    /// Its payload on one line.
    pub preview: String,
    /// The engine's first answer to it.
    pub error: String,
    /// How many of the engine's measured calls it failed.
    pub engine_calls: u64,
    /// How many of the other side's measured calls it failed.
    pub other_calls: u64,
}

/// The result of [`compare`](super::compare): engine and baseline on one component, in one
/// process, in interleaved rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// The component.
    pub component: String,
    /// The function called: `process`, `push` or `pull`.
    pub function: &'static str,
    /// Payload bytes per element: the built-in payload's size, or with
    /// given inputs their mean, rounded down (0 for `pull`).
    pub payload_bytes: usize,
    /// The payloads sent in turn.
    pub inputs: InputSizes,
    /// Elements per side.
    pub elements: u64,
    /// Rounds run.
    pub rounds: u32,
    /// The compiler.
    pub strategy: CompilationStrategy,
    /// Whether fuel was metered.
    pub fuel: bool,
    /// How the component was compiled or loaded: reported apart from the
    /// per-call figures, which it is not part of.
    pub compile: CompileReport,
    /// The engine (`WasmtimeInvoker`, synchronous calls): median ns per
    /// element over the rounds.
    pub engine_ns: f64,
    /// The other side ([`BenchReport::against`]): median ns per element.
    pub baseline_ns: f64,
    /// What the engine sent in the measured rounds.
    pub engine_sent: Sent,
    /// What the other side sent in the measured rounds.
    pub other_sent: Sent,
    /// What the other side was.
    pub against: Against,
    /// Against the baseline: `engine_ns / baseline_ns` (1.05 means the
    /// engine costs 5% more). Against the mock: `baseline_ns / engine_ns`,
    /// the mock's cost as a share of the engine's.
    pub ratio: f64,
    /// With [`CompareOptions::keep_going`](super::CompareOptions::keep_going): the inputs the component
    /// answered with a `process-error`, in input order.
    pub refused: Vec<RefusedInput>,
}

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.1} ms", secs * 1e3)
    }
}

impl BenchReport {
    /// The compile line of the text report: time, tier, cache directory,
    /// and how the other side got its code.
    pub fn compile_line(&self) -> String {
        let c = &self.compile;
        let how = match (&c.cache_dir, c.tier) {
            (None, _) => "compiled (no cache)".to_string(),
            (Some(dir), CacheTier::Compiled) => {
                format!("compiled (cache miss; written to {})", dir.display())
            }
            (Some(dir), tier) => format!("cache hit ({tier} tier of {})", dir.display()),
        };
        let other = match self.against {
            Against::Baseline if c.baseline_reused_engine_code => {
                "the baseline loaded the engine's code"
            }
            Against::Baseline => "the baseline compiled its own",
            Against::Mock => "the mock built its model",
        };
        format!(
            "compile   {}: {how}; {other} in {}",
            human_duration(c.engine),
            human_duration(c.other)
        )
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.inputs.given {
            let i = &self.inputs;
            let sizes = if i.min_bytes == i.max_bytes {
                format!("{} B", i.min_bytes)
            } else {
                format!("{}..{} B", i.min_bytes, i.max_bytes)
            };
            format!(
                "elements cycling {} input{} of {sizes}",
                i.count,
                if i.count == 1 { "" } else { "s" }
            )
        } else {
            format!("elements of {} B", self.payload_bytes)
        };
        writeln!(
            f,
            "{} `{}`: {} {what} in {} rounds ({}, fuel {})",
            self.function,
            self.component,
            self.elements,
            self.rounds,
            self.strategy.name(),
            if self.fuel { "on" } else { "off" },
        )?;
        writeln!(f, "  engine    {:>10.1} ns/element", self.engine_ns)?;
        match self.against {
            Against::Baseline => {
                writeln!(f, "  baseline  {:>10.1} ns/element", self.baseline_ns)?;
                write!(f, "  ratio     {:>10.3} (engine / baseline)", self.ratio)?;
            }
            Against::Mock => {
                writeln!(f, "  mock      {:>10.1} ns/element", self.baseline_ns)?;
                write!(f, "  ratio     {:>10.3} (mock / engine)", self.ratio)?;
            }
        }
        write!(f, "\n  {}", self.compile_line())?;
        for r in &self.refused {
            write!(
                f,
                "\n  refused   input {} ({}{}{}): {} of {} engine calls, {} of {} {} calls; {}",
                r.index,
                r.origin,
                if r.origin.is_empty() { "" } else { ": " },
                r.preview,
                r.engine_calls,
                self.engine_sent.calls,
                r.other_calls,
                self.other_sent.calls,
                self.against.name(),
                r.error
            )?;
        }
        Ok(())
    }
}
