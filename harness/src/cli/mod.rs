//! The `torvyn-sim` command line: run a component or a pipeline, inspect a
//! component, check a scenario against a snapshot, or run the bundled demo.
//!
//! The binary (`src/bin/torvyn-sim.rs`) only parses the arguments into
//! [`Cli`], calls [`execute`] and maps the result to an exit code. Every
//! command builds a [`crate::scenario::Scenario`] or
//! [`crate::pipeline::Pipeline`] and runs it through
//! [`crate::scenario::run_scenario`] or [`crate::pipeline::run_pipeline`],
//! the same code path as the snapshot suite.
//!
//! | command | module |
//! |---|---|
//! | `torvyn-sim run COMPONENT [--input FILE\|-] ...` | [`run`] (inputs: [`input`]) |
//! | `torvyn-sim pipeline SOURCE [PROCESSOR...] SINK` or `--file PIPELINE.yaml` | [`pipeline`] |
//! | `torvyn-sim inspect COMPONENT` | [`inspect`] |
//! | `torvyn-sim check SCENARIO --snapshot FILE [--update]` | [`check`] |
//! | `torvyn-sim demo` | [`demo`] |
//! | `torvyn-sim bench COMPONENT [--input FILE\|-] [--config C]` | [`mod@bench`] |
//! | `torvyn-sim cache stats\|clear` | [`cache`] |
//! | `torvyn-sim replay RECORDING`, `torvyn-sim record to-scenario RECORDING`, `--record` | [`record`] |
//! | `torvyn-sim completions SHELL` | clap_complete |
//!
//! Compiled components are kept in a disk cache (`--cache-dir`,
//! `--no-cache`; [`cache`]), so a command compiles a component only the
//! first time it sees it. `-v` (or `RUST_LOG`) sends the engine's
//! `tracing` spans to stderr ([`init_logging`]), among them which cache
//! tier answered.
//!
//! Exit codes are in [`error`].

mod args;
pub mod bench;
pub mod cache;
pub mod check;
mod coverage;
pub mod demo;
pub mod error;
pub mod fail_on;
mod help;
pub mod input;
pub mod inspect;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod run;
pub mod table;

pub use args::{
    BenchArgs, CacheAction, CacheArgs, CheckArgs, Cli, Command, CompletionsArgs, DemoArgs,
    EngineArgs, Format, InspectArgs, ObserveArgs, PipelineArgs, RunArgs,
};
pub use error::{
    CliError, EXIT_CALLS_FAILED, EXIT_DIFFERS, EXIT_ENGINE, EXIT_INPUT, EXIT_OK, EXIT_USAGE,
};

/// What a command printed, and its exit code.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// For stdout.
    pub stdout: String,
    /// For stderr (notes; errors come as [`CliError`]).
    pub stderr: String,
    /// The exit code ([`EXIT_OK`] or [`EXIT_DIFFERS`]) when there is no
    /// `failure`.
    pub code: u8,
    /// An error to report after printing `stdout` (its code is the exit
    /// code): `inspect` describes a component that does not link, then
    /// fails.
    pub failure: Option<CliError>,
}

impl Report {
    /// A successful report printing `stdout`.
    pub fn ok(stdout: String) -> Self {
        Self {
            stdout,
            ..Self::default()
        }
    }
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> Result<Report, CliError> {
    let cache = cache::CacheChoice {
        dir: cli.cache_dir,
        off: cli.no_cache,
        max_bytes: cli.cache_max_size,
    };
    match cli.command {
        Command::Run(a) => run::run(&a, &cache, cli.verbose > 0),
        Command::Pipeline(a) => pipeline::run(&a, &cache, cli.verbose > 0),
        Command::Inspect(a) => inspect::run(&a, &cache),
        Command::Check(a) => check::run(&a, &cache),
        Command::Demo(a) => demo::run(&a, &cache, cli.verbose > 0),
        Command::Bench(a) => bench::run(&a, &cache, cli.verbose > 0),
        Command::Cache(a) => cache::run(&a, &cache),
        Command::Replay(a) => record::run_replay(&a, &cache),
        Command::Record(a) => record::run_record(&a),
        Command::Completions(a) => Ok(completions(a.shell)),
    }
}

/// The completion script of `torvyn-sim` for `shell`.
fn completions(shell: clap_complete::Shell) -> Report {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "torvyn-sim", &mut script);
    Report {
        stdout: String::from_utf8_lossy(&script).into_owned(),
        ..Report::default()
    }
}

/// Sends the engine's `tracing` spans and events to stderr: `RUST_LOG` if
/// it is set, else the level `verbose` (the count of `-v`) asks for.
/// Returns a note for stderr when logging was asked for but cannot be
/// given.
pub fn init_logging(verbose: u8) -> Option<String> {
    let from_env = std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty());
    if verbose == 0 && !from_env {
        return None;
    }
    logging::init(verbose, from_env)
}

#[cfg(feature = "tracing")]
mod logging {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::FmtSpan;

    pub(super) fn init(verbose: u8, from_env: bool) -> Option<String> {
        let filter = if from_env {
            match EnvFilter::try_from_default_env() {
                Ok(f) => f,
                Err(e) => return Some(format!("note: RUST_LOG ignored: {e}")),
            }
        } else {
            let level = match verbose {
                1 => "info",
                2 => "debug",
                _ => "trace",
            };
            EnvFilter::new(format!("torvyn_engine={level},torvyn_harness={level}"))
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            .try_init()
            .err()
            .map(|e| format!("note: logging not set up: {e}"))
    }
}

#[cfg(not(feature = "tracing"))]
mod logging {
    pub(super) fn init(_verbose: u8, _from_env: bool) -> Option<String> {
        Some("note: -v and RUST_LOG need torvyn-harness built with its `tracing` feature".into())
    }
}

/// Checks that a component reference means what it says: a name without
/// `.wat` or `.wasm` is a fixture, so an existing file under another name
/// is a usage error rather than a confusing "fixture not found".
pub(crate) fn check_component_ref(component: &str) -> Result<(), CliError> {
    if component.ends_with(".wat") || component.ends_with(".wasm") {
        return Ok(());
    }
    if component.contains('/') || std::path::Path::new(component).is_file() {
        return Err(CliError::usage(format!(
            "`{component}` looks like a file, but only names ending in .wat or .wasm are read \
             as files (anything else is a fixture name); rename it to .wat (text) or .wasm \
             (a binary component)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::CommandFactory as _;

    use super::Cli;

    /// The long help of `cmd` and of every command under it.
    fn helps(cmd: &mut clap::Command, out: &mut Vec<(String, String)>) {
        out.push((
            cmd.get_name().to_string(),
            cmd.render_long_help().to_string(),
        ));
        for sub in cmd.get_subcommands_mut() {
            helps(sub, out);
        }
    }

    #[test]
    fn every_file_a_help_text_cites_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut texts = Vec::new();
        helps(&mut Cli::command(), &mut texts);
        let mut cited = 0;
        for (command, text) in &texts {
            for word in text.split(|c: char| c.is_whitespace() || "`'\"()".contains(c)) {
                let path = word.trim_end_matches([',', '.', ':', ';']);
                if !["fixtures/", "tests/", "docs/"]
                    .iter()
                    .any(|dir| path.starts_with(dir))
                {
                    continue;
                }
                cited += 1;
                // `fixtures/components/NAME.wat`: a placeholder in an
                // existing directory.
                let file = Path::new(path);
                let placeholder = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.chars().all(|c| c.is_ascii_uppercase()));
                let must_exist = if placeholder {
                    file.parent().unwrap_or(file)
                } else {
                    file
                };
                assert!(
                    root.join(must_exist).exists(),
                    "`torvyn-sim {command} --help` cites {path}, which does not exist"
                );
            }
        }
        assert!(
            cited >= 5,
            "the help texts cite {cited} files: the scan misses them"
        );
    }
}
