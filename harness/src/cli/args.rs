//! The command line's arguments: the clap structs of every command, and
//! the parsers that read the engine's and the harness's own types
//! (compiler, role, backend, clock) straight from their names.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_engine::{CompilationStrategy, Role};

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

const MAIN_HELP: &str = "\
Examples:
  torvyn-sim demo
  torvyn-sim run uppercase --input words.txt
  torvyn-sim run passthrough --backend mock --input words.txt   (the fixture's mock model)
  echo '{\"payload\": \"hello\"}' | torvyn-sim run uppercase --input - --format json
  torvyn-sim run counter-source --config '{\"count\": 5}'
  torvyn-sim run ./my-filter.wasm --input events.jsonl --fuel 1000000 --deadline-ms 5
  torvyn-sim pipeline counter-source uppercase sink --max-pulls 10
  torvyn-sim pipeline --file fixtures/pipelines/counter-sink.yaml --format yaml
  torvyn-sim inspect counter-source
  torvyn-sim check fixtures/scenarios/uppercase.yaml --snapshot uppercase.yaml --update
  torvyn-sim -vv run trap --input words.txt     (log every call and fault to stderr)
  torvyn-sim -v run ./big.wasm --input words.txt (the torvyn.cache line names the tier)
  torvyn-sim cache stats
  torvyn-sim completions bash > /etc/bash_completion.d/torvyn-sim

COMPONENT is a fixture name (fixtures/components/NAME.wat), a .wat file (a core
module is componentized for the world its exports imply, or the one a
`;; world: NAME` line names) or a .wasm component. With --backend mock it is a
fixture with a mock model (passthrough, uppercase, filter, counter-source,
sink); a scenario or pipeline file can also script a mock component (`mock:`;
every field of those files: docs/scenario-reference.md).

Compiled components are cached on disk, in --cache-dir DIR or else
$XDG_CACHE_HOME/torvyn or $HOME/.cache/torvyn (created mode 0700; refused if
group or others can write it), so only the first command that meets a
component compiles it; the next ones load it, checked against its SHA-256.
Beside them, Cranelift's incremental cache keeps each compiled function, so
a rebuilt component compiles only the functions it does not find there.
--cache-max-size SIZE (default 1GiB) bounds the directory, the least
recently used files removed first. --no-cache compiles afresh and writes
nothing; `torvyn-sim cache stats` shows the directory, `cache clear`
empties it.

Exit codes:
  0  success
  1  the run completed but its transcript differs from the snapshot (check)
  2  usage error: unknown option, bad value, missing argument
  3  input error: a missing file, invalid WAT (the message has the line), a core
     module where a component is needed, a component for another world, a bad
     scenario, pipeline or input line (the message has the line number)
  4  engine or system error: the engine or an instance could not be created,
     a file could not be written
  5  run, pipeline: the run completed, but a call failed in a way --fail-on
     names (faults, errors, init, any); without --fail-on they exit 0 whatever
     the calls answered. bench: the component failed on an input element or
     its init config (a process-error, a trap, fuel)";

const RUN_HELP: &str = "\
Input (--input FILE, or - for stdin), one element per line; blank lines are skipped:
  JSON Lines, when the first non-blank line starts with `{`:
    {\"payload\": \"hello\", \"content_type\": \"text/plain\", \"deadline_ms\": 5}
    {\"payload_hex\": \"00ff10\", \"content_type\": \"application/octet-stream\"}
    {\"payload\": {\"id\": 7}}      (non-string JSON is sent as written, application/json)
  plain lines otherwise: each line is one text/plain element.
Payloads and guest stdout/stderr are previewed up to 64 bytes in every format;
--preview-bytes N shows N, --preview-bytes 0 every byte.
A processor gets `process` per element, a sink `push` per element then
`complete`; a source is pulled until `none` (or --pull-limit) and ignores input.
A filter gets `evaluate` per element (pass or reject), a router `route` per
element (the port names it answers), an aggregator `ingest` per element then
`flush`. --grant NAME grants a capability its capability-query import sees.

Examples:
  torvyn-sim run uppercase --input words.txt
  torvyn-sim run token-filter --input words.txt
  torvyn-sim run sentence-aggregator --input words.txt
  torvyn-sim run capability-probe --grant wasi-random --input words.txt
  torvyn-sim run uppercase --input events.jsonl --format json
  torvyn-sim run sink --config '{\"count\": 2}' --input words.txt
  torvyn-sim run counter-source --config '{\"count\": 5}' --pull-limit 3
  torvyn-sim run wasi-hello --input words.txt --preview-bytes 0 --format yaml
  torvyn-sim run uppercase --input words.txt --fail-host-call all
  torvyn-sim run uppercase --input words.txt --fail-host-call 3 --format yaml

--fail-host-call makes calls into the host fail on purpose, as the contract
lets them: allocate and clone-into-mutable answer allocation-failed, write and
append capacity-exceeded, any other host call traps (a `host` fault naming it).
`all` is a sweep: one run to count the host calls, then one run per host call
with that call failing, each checked for leaks and followed by a clean run that
must answer as the first; a row per case (failed_host_call in YAML and JSON).
Its `guest` column says how the guest took each failure: `handled` (it answered
a process-error or a value), `trapped` (on an error it could handle: an
uncaught exception ends so), `no error case` (the host call traps by contract).
--require-handled makes a sweep where the guest trapped on an error it could
handle exit 1, naming each such host call.

  torvyn-sim run buffer-hog --input words.txt --fail-host-call all --require-handled

--fail-on makes a run that completed exit 5 when a call failed so: `faults`
(an engine fault on any call: a trap, fuel, a deadline, a poisoned instance),
`errors` (a guest process-error, fatal among them), `init` (a failed init),
`any`; repeatable or comma-separated (--fail-on faults,init). Without it the
exit code does not depend on what the calls answered.

  torvyn-sim run trap --input words.txt --fail-on any

Exit codes: 0 ok (a sweep: every case ended cleanly), 1 a sweep case leaked or
broke an invariant (or, with --require-handled, the guest trapped), 2 usage, 3 input (file, WAT, world, input line), 4 engine,
5 a call failed as --fail-on names.";

const PIPELINE_HELP: &str = "\
The first component is the source, the last the sink, any in between are
middle stages, in order: processors, filters (`evaluate`: a rejected element
is dropped) and aggregators (`ingest`; at the end of the stream `flush`, whose
elements flow on before the sink completes), each stage's role read from its
exports. Routers, fan-out and several sinks need a pipeline file (--file),
where a router's ports are mapped to stages (`ports: {digits: digit-sink}`) and
any stage can name where its elements go (`to: [a, b]`); every field of a
pipeline file: docs/scenario-reference.md. Stages are named
after their components (`-2`, `-3`... when one repeats); --config STAGE=CONFIG
gives a stage its init config, --grant [STAGE=]NAME a capability.

Examples:
  torvyn-sim pipeline counter-source uppercase sink
  torvyn-sim pipeline counter-source filter uppercase sink --config counter-source='{\"count\": 8}'
  torvyn-sim pipeline token-source token-filter sentence-aggregator sink
  torvyn-sim pipeline --file fixtures/pipelines/token-streaming.yaml
  torvyn-sim pipeline --file fixtures/pipelines/mock-router-fan-out.yaml --format json

--fail-on faults|errors|init|any makes a pipeline that ran exit 5 when a call
of any stage failed so (as for `torvyn-sim run`).

Exit codes: 0 ok, 2 usage, 3 input (file, WAT, world), 4 engine, 5 a call
failed as --fail-on names.";

const INSPECT_HELP: &str = "\
Shows the component's roles, imports and exports, the contract worlds it
satisfies and, for every other world, what it lacks: exports the world needs,
imports the world does not allow. An export outside the contract is marked so
(the engine never calls it), e.g. the `exports` instance of every
componentize-py guest, componentize-py's build-time init hook. A component
that cannot be linked is still described (from its binary), and the command
exits with 3.

Examples:
  torvyn-sim inspect counter-source
  torvyn-sim inspect ./my-component.wasm --format json

Exit codes: 0 ok, 2 usage, 3 input (file, WAT, a component that cannot be linked), 4 engine.";

const CHECK_HELP: &str = "\
Runs the scenario (or pipeline) file and compares the snapshot form of its
transcript (YAML, without wall-clock figures) with FILE. An insta `.snap` file
is accepted too: its `---` header block is skipped. Both sides are compared as
YAML documents, so formatting differences do not count.

A file with a top-level `source` is a pipeline, any other a scenario. Every
field of both, with its type, default and an example: docs/scenario-reference.md.

How: --compare exact compares every field, fuel and engine-clock times
included; --compare behaviour compares what the component did (calls,
outcomes, payloads, errors, faults without their backtraces, host calls,
copies, allocations, captured output) and prints the fuel and time changes as
a table, failing only when --fuel-tolerance PCT is exceeded. Without a flag the
file's `compare` and `fuel_tolerance` decide, else exact when every component
is WAT text or a mock, behaviour when one is a .wasm component (a toolchain's
build: its fuel moves with every rebuild). The snapshot always keeps the costs.

--component runs another build against the same snapshot: C for a scenario,
STAGE=C for a pipeline stage.

Examples:
  torvyn-sim check fixtures/scenarios/uppercase.yaml --snapshot uppercase.yaml --update
  torvyn-sim check fixtures/scenarios/uppercase.yaml --snapshot uppercase.yaml
  torvyn-sim check my-app.yaml --snapshot my-app.snap.yaml --component build/app.wasm
  torvyn-sim check my-app.yaml --snapshot my-app.snap.yaml --fuel-tolerance 10
  torvyn-sim check fixtures/pipelines/counter-sink.yaml \\
      --snapshot tests/all/snapshots/all__snapshots__pipelines@counter-sink.yaml.snap \\
      --component sink=fixtures/components/sink.wat

Exit codes: 0 same, 1 differs (a line diff is printed) or fuel over the
tolerance, 2 usage, 3 input, 4 engine.";

const DEMO_HELP: &str = "\
Runs a bundled pipeline: a source of five lines of text → the uppercase
fixture → the sink fixture (which asks for a pause every third element). The
components are compiled into the binary, so it works from any directory.

Exit codes: 0 ok, 4 engine.";

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

const REPLAY_HELP: &str = "\
Reads a recording (`torvyn-sim run ... --record FILE`, or a host's
torvyn_engine::record::Recorder), instantiates the component with the recorded
id and grants, makes every recorded call with the recorded input, and compares
each answer with the recorded one: outputs by payload bytes, content types and
sequence number; guest errors by kind and message; faults by kind. It stops at
the first call that differs and prints it (call index, function, input,
expected and actual outcome and bytes), then a summary: calls equal, fuel per
call recorded and now (p50, p99). --all replays every call and lists every
divergence in call order; --max-divergences N lists up to N of each kind. A
directory is a pipeline's recording (one STAGE.jsonl per stage): every stage
is replayed, against --component STAGE=COMPONENT or the component its
recording names.

Without --component the replay runs the component the recording names: a
fixture, or the file by the absolute path it was recorded with (found from
any directory), else a file of the same name beside the recording; when
neither exists it says which --component to pass.

What each call read from the outside world (its WASI clocks and random
values) is given back to it, per interface in order, whatever clock and seed
the recording was made with; once an interface's recorded values run out the
guest gets live ones. A call that reads differently (more or fewer reads of
an interface, another one) is reported as `reads diverge at call N`, naming
the interface and what the recording has, and the replay goes on. Other bytes
on the guest's stdout or stderr are reported as `output diverges`, and count
as a difference unless --ignore-output.

Examples:
  torvyn-sim run stamp --input words.txt --record stamp.jsonl --clock system
  torvyn-sim replay stamp.jsonl
  torvyn-sim run passthrough --input words.txt --record words.jsonl
  torvyn-sim replay words.jsonl --component uppercase
  torvyn-sim replay words.jsonl --component ./new-build.wasm --all
  torvyn-sim replay words.jsonl --component passthrough --backend mock
  torvyn-sim pipeline counter-source uppercase sink --record rec/
  torvyn-sim replay rec/ --component uppercase=passthrough

Exit codes: 0 every call matches, 1 a call differs, 2 usage, 3 an unreadable,
truncated, edited or corrupt recording (or a bad component), 4 engine.";

const RECORD_HELP: &str = "\
`record to-scenario RECORDING` prints a scenario file that drives the recorded
component as the recording did: its role, init config, grants and the recorded
input elements (text as `payload`, other bytes as `payload_hex`), or for a
source its pulls and backpressure steps (its fields:
docs/scenario-reference.md). `torvyn-sim check` then snapshots it:

  torvyn-sim record to-scenario words.jsonl --output words.yaml
  torvyn-sim check words.yaml --snapshot words.snap.yaml --update

Exit codes: 0 ok, 2 usage, 3 an unreadable or corrupt recording, 4 the file
cannot be written.";

const COMPLETIONS_HELP: &str = "\
Examples:
  torvyn-sim completions bash > ~/.local/share/bash-completion/completions/torvyn-sim
  torvyn-sim completions zsh > ~/.zfunc/_torvyn-sim
  torvyn-sim completions fish > ~/.config/fish/completions/torvyn-sim.fish

Exit codes: 0 ok, 2 usage.";

const CACHE_HELP: &str = "\
The cache holds one file per compiled component (`<SHA-256 key>.twcc`), keyed
by the component's bytes and the engine's settings (Wasmtime version, compiler,
CPU features), and sealed with a digest checked before it is loaded: a damaged
or foreign entry is removed and the component compiled again. Beside them,
incremental/ holds Cranelift's per-function cache (packs `<SHA-256>.twip`, each
entry checked against its SHA-256 before use), so a rebuilt component compiles
only the functions that changed (Winch has no incremental cache). Both share
the bound --cache-max-size (default 1GiB): past it the least recently used
files are removed. Run a command with -v to see which tier answered each
lookup (memory, disk or compiled) and the incremental cache's hits.

Examples:
  torvyn-sim cache stats
  torvyn-sim cache stats --format json
  torvyn-sim --cache-max-size 512MiB cache stats
  torvyn-sim --cache-dir /tmp/torvyn-cache cache clear

Exit codes: 0 ok, 2 usage (e.g. with --no-cache), 4 the directory cannot be read.";

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

const BENCH_HELP: &str = "\
Runs COMPONENT through the engine and through a minimal bindgen! host in
interleaved rounds in one process and prints ns per element for each and
their ratio (engine / baseline). A processor is driven with process, a sink
with push, a source with pull. The baseline links WASI p2 as the engine does
(nothing granted, output discarded), so components importing WASI run too.
Figures from a debug build measure unoptimized host code: run it from a
release build.

Payloads: without --input, one built-in payload of --payload bytes of
lower-case text (text/plain). With --input FILE (or - for stdin), your
elements, read as `torvyn-sim run --input` reads them (JSON Lines with
payload or payload_hex and content_type, or plain lines; see `run --help`),
sent in turn: call K of each side sends element K mod N, so --elements at
least N sends each one (deadlines in the file are ignored). --config
JSON|@FILE is the init config, as for `run`; init is called as a runtime
calls it (with \"\" on a component that exports lifecycle, when no config).

The engine sends every element once, in order, before anything is measured
(the check pass, which is also its warm-up). When the component answers a
process-error or traps (or runs out of fuel, breaks a limit) on one of your
elements, or on its config, bench stops there, before the baseline is
built, and says which element (its index from 0 and line), the component's
answer and the lines of its stderr that say what went wrong (a Python
traceback's exception), and exits 5. --keep-going counts process-errors
instead (each element's count and first error are listed; the figures
include those calls), but still stops at a trap or fatal error: a trap
poisons the instance, fatal asks for nothing more.

The component is compiled through the compiled-component cache, as `run`
uses it (--cache-dir, --no-cache, $XDG_CACHE_HOME/torvyn): the compile line
gives its time apart from the per-call figures, and whether it was a cache
hit; the baseline loads the engine's compiled code instead of compiling
again. Imports the engine does not provide are linked to stubs that trap
when called, on both sides (a componentize-js guest's wasi:http imports),
unless --refuse-unknown-imports.

--format json (or yaml) prints the same figures as fields: calls and bytes
each side sent, the compile time and cache tier, refused elements.

Examples:
  cargo run --release -p torvyn-harness --bin torvyn-sim -- \
    bench uppercase --payload 1024 --elements 20000
  torvyn-sim bench ./my-processor.wasm --input events.jsonl --config @config.json
  torvyn-sim bench ./my-processor.wasm --input events.jsonl --keep-going --format json

Exit codes: 0 ok, 2 usage, 3 input (file, WAT, world, input line, an element
over the engine's size cap), 4 engine (or the baseline host), 5 the component
failed on an element or its config (a process-error, a trap, fuel).";

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
    /// (Wasmtime with Cranelift only)
    #[arg(long, value_name = "FILE")]
    pub coverage: Option<PathBuf>,
    /// Recording options.
    #[command(flatten)]
    pub record: record::RecordArgs,
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
    /// (Wasmtime with Cranelift only)
    #[arg(long, value_name = "FILE")]
    pub coverage: Option<PathBuf>,
    /// Recording options.
    #[command(flatten)]
    pub record: record::RecordArgs,
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
