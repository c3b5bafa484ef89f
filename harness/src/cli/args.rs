//! The command line's arguments: the clap structs of every command, and
//! the parsers that read the engine's and the harness's own types
//! (compiler, role, backend, clock) straight from their names.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_engine::{CompilationStrategy, Role};

use super::help::{
    BENCH_HELP, CACHE_HELP, CHECK_HELP, COMPLETIONS_HELP, DEMO_HELP, INSPECT_HELP, MAIN_HELP,
    PIPELINE_HELP, RECORD_HELP, REPLAY_HELP, RUN_HELP,
};
use super::{cache, fail_on, record};
use crate::scenario::DRIVEN_ROLES;
use crate::spec::{BackendKind, ClockSetting};

/// A parser of one of `values` by its name, listing each name with its
/// description in `--help` (as a clap `ValueEnum` would): the engine's
/// types get no clap derive, and the harness's own keep one name each.
#[derive(Clone, Copy)]
pub(super) struct Named<T: 'static> {
    values: &'static [T],
    name: fn(T) -> &'static str,
    describe: fn(T) -> &'static str,
}

impl<T: Copy + Send + Sync + 'static> Named<T> {
    fn possible(&self) -> impl Iterator<Item = PossibleValue> + '_ {
        self.values
            .iter()
            .map(|&v| PossibleValue::new((self.name)(v)).help((self.describe)(v)))
    }
}

impl<T: Copy + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let found = value.to_str().and_then(|text| {
            self.values
                .iter()
                .copied()
                .find(|&v| (self.name)(v) == text)
        });
        match found {
            Some(v) => Ok(v),
            // clap's own error: the value, the possible values, a suggestion.
            None => PossibleValuesParser::new(self.possible())
                .parse_ref(cmd, arg, value)
                .and_then(|_| Err(clap::Error::new(clap::error::ErrorKind::InvalidValue))),
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.possible()))
    }
}

/// `--strategy`: [`CompilationStrategy`] by its name.
pub(super) fn named_strategy() -> Named<CompilationStrategy> {
    Named {
        values: &CompilationStrategy::ALL,
        name: CompilationStrategy::name,
        describe: CompilationStrategy::describe,
    }
}

/// `--role`: a [`Role`] a scenario can drive ([`DRIVEN_ROLES`]), by its name.
pub(super) fn named_role() -> Named<Role> {
    Named {
        values: &DRIVEN_ROLES,
        name: Role::name,
        describe: Role::describe,
    }
}

/// `--backend`: [`BackendKind`] by its name.
pub(super) fn named_backend() -> Named<BackendKind> {
    Named {
        values: &BackendKind::ALL,
        name: BackendKind::name,
        describe: BackendKind::describe,
    }
}

/// `--clock`: [`ClockSetting`] by its name.
pub(super) fn named_clock() -> Named<ClockSetting> {
    Named {
        values: &ClockSetting::ALL,
        name: ClockSetting::name,
        describe: ClockSetting::describe,
    }
}

/// `torvyn-sim`: simulate torvyn:streaming components deterministically.
#[derive(Debug, Parser)]
#[command(
    name = "torvyn-sim",
    version,
    about = "Run torvyn:streaming@0.1.0 components and pipelines deterministically and print what every call did",
    after_help = MAIN_HELP
)]
pub struct Cli {
    /// Log to stderr what the engine does: -v compiles, instantiations,
    /// cache lookups (with the tier that answered), faults and rejected
    /// cache entries; -vv also every call (component, function, fuel,
    /// duration, outcome). RUST_LOG, when set, overrides it (e.g.
    /// RUST_LOG=torvyn_engine=debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Keep compiled components in DIR (created mode 0700 if missing)
    /// [default: $XDG_CACHE_HOME/torvyn, else $HOME/.cache/torvyn]
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Compile every component afresh and write no cache
    #[arg(long, global = true, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// The most the cache directory may take (compiled components and the
    /// incremental compilation cache together; the least recently used are
    /// removed past it): bytes, or a number with KB, MB, GB, KiB, MiB or
    /// GiB [default: 1GiB]
    #[arg(long, value_name = "SIZE", global = true, value_parser = cache::parse_size, conflicts_with = "no_cache")]
    pub cache_max_size: Option<u64>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one component in its role over input elements
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Run source → stages → sinks (processors, filters, routers, aggregators) on one clock
    #[command(after_help = PIPELINE_HELP)]
    Pipeline(PipelineArgs),
    /// Show a component's roles, imports, exports and contract worlds
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Run a scenario and compare its transcript with a snapshot file
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Run the bundled source → uppercase → sink demo (no files needed)
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
    /// Measure a component on your elements: ns per element, engine vs a minimal bindgen! host
    #[command(after_help = BENCH_HELP)]
    Bench(BenchArgs),
    /// Show or empty the compiled-component cache
    #[command(after_help = CACHE_HELP)]
    Cache(CacheArgs),
    /// Feed a recording's inputs to a component and compare every answer
    #[command(after_help = REPLAY_HELP)]
    Replay(record::ReplayArgs),
    /// Work with recordings: turn one into a scenario file
    #[command(after_help = RECORD_HELP)]
    Record(record::RecordCmdArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

/// `torvyn-sim cache`.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,
}

/// `torvyn-sim cache stats` or `cache clear`.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// The cache directory: its size and bound, its compiled components and
    /// incremental packs, and what commands did with it (hits, misses,
    /// evictions)
    Stats {
        /// Output format
        #[arg(long, short, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove every compiled component and incremental pack and reset the
    /// counters (the directory and other files stay)
    Clear,
}

/// `torvyn-sim completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `torvyn-sim bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A fixture name, a `.wat` file or a `.wasm` component
    pub component: String,
    /// Your elements: a JSON Lines or plain-lines file (as `run --input`
    /// reads it), or - for stdin, sent in turn [default: one built-in
    /// payload of --payload bytes]
    #[arg(long, short, value_name = "FILE|-")]
    pub input: Option<String>,
    /// Bytes of the built-in payload (lower-case text), without --input
    #[arg(long, default_value_t = 1024, conflicts_with = "input")]
    pub payload: usize,
    /// init config: the text itself (usually JSON), or @FILE for a file's
    /// content (@@ for a leading @) [default: init("") when the component
    /// exports lifecycle]
    #[arg(long, value_name = "JSON|@FILE")]
    pub config: Option<String>,
    /// Elements per side
    #[arg(long, default_value_t = 20_000)]
    pub elements: u64,
    /// Count the elements the component answers with a process-error
    /// (not fatal) and go on, instead of stopping at the first (exit 5);
    /// a trap or fatal error still stops
    #[arg(long)]
    pub keep_going: bool,
    /// wasmtime: the engine against a minimal bindgen! host; mock: the
    /// mock (the fixture's model) against the engine
    #[arg(long, value_parser = named_backend(), default_value_t = BackendKind::Wasmtime)]
    pub backend: BackendKind,
    /// Refuse a component that imports what the engine does not provide
    /// (by default each such import is linked to a stub that traps when
    /// called, on the engine and the baseline)
    #[arg(long)]
    pub refuse_unknown_imports: bool,
    /// The most linear memory one instance may have: bytes, or a number
    /// with KB, MB, GB, KiB, MiB or GiB [default: 16MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_size)]
    pub max_memory: Option<u64>,
    /// Output format: table (text), yaml or json (the same figures as
    /// fields; wall-clock figures, which vary per run)
    #[arg(
        long,
        short,
        value_enum,
        default_value_t = Format::Table,
        hide_possible_values = true
    )]
    pub format: Format,
}

/// How to print a transcript or report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A human-readable table, then a summary.
    #[default]
    Table,
    /// The transcript's snapshot form as YAML (deterministic: no wall time).
    Yaml,
    /// The transcript's snapshot form as pretty JSON (deterministic: no wall time).
    Json,
}

/// What `run` and `pipeline` observe of a run, and how they report it.
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// List under each call the contract host calls the guest made
    /// (function, arguments in short, answer)
    #[arg(long)]
    pub trace_host_calls: bool,
    /// Write a profile of the guest's calls and functions to FILE
    /// (Firefox profiler format, sampled at host calls, timed by fuel:
    /// the same run writes the same file; Wasmtime backend)
    #[cfg(feature = "profiling")]
    #[arg(long, value_name = "FILE", conflicts_with_all = ["coverage", "record"])]
    pub profile: Option<PathBuf>,
    /// Exit with 5 when a call failed so: faults (engine faults: traps,
    /// fuel, deadlines...), errors (guest process-errors), init (a failed
    /// init), any; repeatable or comma-separated [default: exit 0 whatever
    /// the calls answered]
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "faults|errors|init|any"
    )]
    pub fail_on: Vec<fail_on::FailOn>,
    /// Write LCOV coverage of the run's components to FILE: by .wat line
    /// for WAT, by source line for components with DWARF (built with -g),
    /// else by function; the output is the same, stderr says how much ran
    /// (Wasmtime with Cranelift only). Profiling, coverage and recording
    /// each run the component their own way: one of them per run
    #[arg(long, value_name = "FILE", conflicts_with = "record")]
    pub coverage: Option<PathBuf>,
    /// Recording options.
    #[command(flatten)]
    pub record: record::RecordArgs,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Bytes of each payload and guest stdout/stderr preview, in every
    /// format; 0 shows every byte [default: 64]
    #[arg(long, value_name = "N")]
    pub preview_bytes: Option<usize>,
}

/// Engine options shared by the commands that run something.
#[derive(Clone, Debug, Default, Args)]
pub struct EngineArgs {
    /// Backend: wasmtime runs the WebAssembly, mock runs the fixture's
    /// model [default: wasmtime, or the file's]
    #[arg(long, value_parser = named_backend())]
    pub backend: Option<BackendKind>,
    /// Seed of ids, generated inputs and WASI randomness, decimal or 0x hex
    /// [default: 1880579821 (0x70175eed), or the file's]
    #[arg(long, value_name = "N", value_parser = parse_seed_arg)]
    pub seed: Option<u64>,
    /// Compiler [default: cranelift, or the file's]
    #[arg(long, value_parser = named_strategy())]
    pub strategy: Option<CompilationStrategy>,
    /// Clock [default: virtual, or the file's]
    #[arg(long, value_parser = named_clock())]
    pub clock: Option<ClockSetting>,
    /// Refuse a component that imports what the engine does not provide
    /// (by default each such import is linked to a stub that traps when
    /// called, so a component built with a toolchain's default flags, such
    /// as componentize-js's wasi:http imports, runs)
    #[arg(long)]
    pub refuse_unknown_imports: bool,
    /// The most linear memory one instance may have: bytes, or a number
    /// with KB, MB, GB, KiB, MiB or GiB [default: 16MiB, or the file's]
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_size)]
    pub max_memory: Option<u64>,
}

/// `--max-memory`: a size (as `--cache-max-size` takes one) from one
/// 64 KiB WebAssembly page to 4 GiB, the engine's bounds.
fn parse_memory_size(text: &str) -> Result<u64, String> {
    let bytes = super::cache::parse_size(text)?;
    if bytes < 64 * 1024 {
        Err(format!(
            "`{text}` is less than one 64 KiB WebAssembly page: no component could start; give \
             at least 64KiB (the default is 16MiB)"
        ))
    } else if bytes > 4 << 30 {
        Err(format!(
            "`{text}` is more than 4 GiB, the most a 32-bit linear memory can address; give at \
             most 4GiB"
        ))
    } else {
        Ok(bytes)
    }
}

fn parse_seed_arg(text: &str) -> Result<u64, String> {
    crate::sim::parse_seed(text)
        .map_err(|_| format!("`{text}` is not a u64 seed; write it in decimal (42) or hex (0x2a)"))
}

/// `torvyn-sim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A fixture name, a .wat file or a .wasm component
    #[arg(value_name = "COMPONENT")]
    pub component: String,
    /// Input elements: a JSON Lines or plain-lines file, or - for stdin
    #[arg(long, short, value_name = "FILE|-")]
    pub input: Option<String>,
    /// Call init(CONFIG) first: the text itself (usually JSON, passed as
    /// is), or @FILE for a file's content (@@ for a leading @)
    #[arg(long, value_name = "JSON|@FILE")]
    pub config: Option<String>,
    /// The role to drive [default: processor if exported, else source, sink,
    /// filter, router, aggregator]
    #[arg(long, value_parser = named_role())]
    pub role: Option<Role>,
    /// Grant a capability to the component (what its capability-query
    /// import answers true for), e.g. wasi-random (repeatable)
    #[arg(long, value_name = "NAME")]
    pub grant: Vec<String>,
    /// Fuel budget of every call [default: 50000000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Deadline of every element without its own, in ms after its call starts
    #[arg(long, value_name = "N")]
    pub deadline_ms: Option<u64>,
    /// Sources: the most pulls [default: 1000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pull_limit: Option<u64>,
    /// Fail host calls on purpose: `all` sweeps (one run per host call,
    /// each with that call failing), K fails host call K of the run (from
    /// 0), `every-call:K` host call K of every call, `probability:P` each
    /// with probability P (seeded by --seed)
    #[arg(long, value_name = "all|K|every-call:K|probability:P")]
    pub fail_host_call: Option<crate::spec::FailHostCall>,
    /// The most cases a sweep runs [default: 10000]
    #[arg(long, value_name = "N", requires = "fail_host_call")]
    pub sweep_limit: Option<u64>,
    /// A sweep fails (exit 1) when the guest trapped on a failure the
    /// contract lets it handle (allocation-failed, capacity-exceeded)
    /// instead of answering a process-error
    #[arg(long, requires = "fail_host_call")]
    pub require_handled: bool,
    /// What to observe of the run and how to report it.
    #[command(flatten)]
    pub observe: ObserveArgs,
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `torvyn-sim pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// SOURCE [STAGE...] SINK: fixture names, .wat or .wasm files; a STAGE
    /// is a processor, filter or aggregator (routers need --file)
    #[arg(
        value_name = "COMPONENT",
        num_args = 2..,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub components: Vec<String>,
    /// Run a pipeline file (YAML or JSON) instead
    #[arg(long, value_name = "PIPELINE.yaml")]
    pub file: Option<PathBuf>,
    /// init config of a stage, as STAGE=CONFIG or STAGE=@FILE (a file's
    /// content) (repeatable)
    #[arg(long, value_name = "STAGE=JSON|@FILE")]
    pub config: Vec<String>,
    /// Grant a capability: NAME to every stage, STAGE=NAME to one (repeatable)
    #[arg(long, value_name = "[STAGE=]NAME")]
    pub grant: Vec<String>,
    /// Fuel budget of every call of every stage [default: 50000000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// The most pulls from the source [default: 1000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pulls: Option<u64>,
    /// Virtual time the sink takes to drain after a pause, in ns [default: 10000]
    #[arg(long, value_name = "NS")]
    pub drain_ns: Option<u64>,
    /// What to observe of the run and how to report it.
    #[command(flatten)]
    pub observe: ObserveArgs,
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `torvyn-sim inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A fixture name, a .wat file or a .wasm component
    #[arg(value_name = "COMPONENT")]
    pub component: String,
    /// Refuse imports the engine does not provide instead of listing them
    /// as stubbed
    #[arg(long)]
    pub refuse_unknown_imports: bool,
    /// Output format (yaml and json give the same fields)
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `torvyn-sim check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A scenario or pipeline file (YAML or JSON), or the name of one in
    /// fixtures/scenarios/ or fixtures/pipelines/
    #[arg(value_name = "SCENARIO")]
    pub scenario: String,
    /// The snapshot to compare with (YAML, or an insta .snap file)
    #[arg(long, value_name = "FILE")]
    pub snapshot: PathBuf,
    /// Write the snapshot instead of comparing
    #[arg(long)]
    pub update: bool,
    /// Backend [default: the file's, else wasmtime]
    #[arg(long, value_parser = named_backend())]
    pub backend: Option<BackendKind>,
    /// Run another build: C in place of the scenario's component, or
    /// STAGE=C in place of a pipeline stage's (repeatable). The snapshot
    /// keeps the file's name for it
    #[arg(long, value_name = "[STAGE=]C")]
    pub component: Vec<String>,
    /// Compare everything (exact) or what the component did, not what it
    /// cost (behaviour) [default: the file's `compare`, else exact for WAT
    /// text and mocks, behaviour for .wasm components]
    #[arg(long, value_name = "HOW", value_parser = clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(crate::snapshot::Compare::NAMES), |s| s.parse::<crate::snapshot::Compare>().expect("a listed name")))]
    pub compare: Option<crate::snapshot::Compare>,
    /// With behaviour comparison: fail when the run's fuel exceeds the
    /// snapshot's by more than PCT percent (e.g. 10) [default: the file's
    /// `fuel_tolerance`, else fuel is only reported]
    #[arg(long, value_name = "PCT")]
    pub fuel_tolerance: Option<crate::snapshot::Percent>,
    /// Run with the host-call trace on (as `trace_host_calls: true` in the
    /// file): the snapshot lists under each call the host calls the guest
    /// made
    #[arg(long)]
    pub trace_host_calls: bool,
    /// Write LCOV coverage of the run's components to FILE: by .wat line
    /// for WAT, by source line for components with DWARF (built with -g),
    /// else by function; the output is the same, stderr says how much ran
    /// (Wasmtime with Cranelift only)
    #[arg(long, value_name = "FILE")]
    pub coverage: Option<PathBuf>,
}

/// `torvyn-sim demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Bytes of each payload and guest stdout/stderr preview, in every
    /// format; 0 shows every byte [default: 64]
    #[arg(long, value_name = "N")]
    pub preview_bytes: Option<usize>,
}
