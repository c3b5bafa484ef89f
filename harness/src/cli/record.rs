//! `--record` of `run` and `pipeline`, `torvyn-sim replay` and
//! `torvyn-sim record to-scenario`, over [`crate::record`].

use std::path::{Path, PathBuf};

use torvyn_engine::record::{PayloadMode, ReadOptions, RecordOptions, Recording};

use super::Report;
use super::args::{named_backend, named_strategy};
use super::cache::CacheChoice;
use super::error::{CliError, EXIT_DIFFERS, EXIT_OK};
use crate::backend::EngineSettings;
use crate::record::{RecordedInstance, ReplayOptions, locate_component, replay_with};
use crate::source::ComponentSource;
use crate::spec::BackendKind;
use crate::spec::ClockSetting;

/// Recording options of `run` and `pipeline`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RecordArgs {
    /// Record every call (inputs, outcomes, outputs, metrics) as JSON
    /// Lines: `run` to the file PATH; `pipeline` to the directory PATH,
    /// one PATH/STAGE.jsonl per stage (created if missing). Replay with
    /// `torvyn-sim replay PATH`
    #[arg(long, value_name = "PATH")]
    pub record: Option<PathBuf>,
    /// Keep each payload's length and SHA-256 instead of its bytes (a
    /// smaller recording that cannot be replayed, only read)
    #[arg(long, requires = "record")]
    pub digest_payloads: bool,
    /// The most bytes of one recording file; past it the file rotates
    /// (with --record-keep) or recording stops [default: no cap]
    #[arg(long, value_name = "BYTES", requires = "record")]
    pub record_max_bytes: Option<u64>,
    /// Rotated files to keep beside the current one (FILE.1 the newest)
    /// when --record-max-bytes is reached [default: 0, no rotation]
    #[arg(long, value_name = "N", requires = "record_max_bytes")]
    pub record_keep: Option<u32>,
}

impl RecordArgs {
    /// The recorder's options.
    pub fn options(&self) -> RecordOptions {
        RecordOptions {
            payloads: if self.digest_payloads {
                PayloadMode::Digest
            } else {
                PayloadMode::Stored
            },
            max_bytes: self.record_max_bytes,
            keep_rotated: self.record_keep.unwrap_or(0),
            ..RecordOptions::default()
        }
    }
}

/// What the recordings of a run say on stderr, or the first that failed.
pub fn recorded_note(recorded: &[RecordedInstance]) -> Result<String, CliError> {
    let mut note = String::new();
    for r in recorded {
        let path = r
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        match r.result() {
            Ok(stats) => {
                note.push_str(&format!(
                    "recorded {} calls of {} to {path} ({} bytes{}{})\n",
                    stats.calls,
                    r.id,
                    stats.bytes,
                    if stats.parts > 1 {
                        format!(", {} parts", stats.parts)
                    } else {
                        String::new()
                    },
                    if stats.truncated {
                        format!(
                            "; the byte cap stopped it, {} calls not recorded",
                            stats.calls_dropped
                        )
                    } else {
                        String::new()
                    },
                ));
            }
            Err(e) => return Err(CliError::engine(format!("recording {}: {e}", r.id))),
        }
    }
    Ok(note)
}

/// `torvyn-sim replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A recording file, or a directory of them (a pipeline's: every
    /// STAGE.jsonl in it)
    #[arg(value_name = "RECORDING")]
    pub recording: PathBuf,
    /// The component to replay against: a fixture name, a .wat or .wasm
    /// file; for a directory STAGE=COMPONENT (repeatable) [default: the
    /// component the recording names, found where it was recorded or
    /// beside the recording]
    #[arg(long, short, value_name = "[STAGE=]COMPONENT")]
    pub component: Vec<String>,
    /// Backend [default: the recording's, else wasmtime]
    #[arg(long, value_parser = named_backend())]
    pub backend: Option<BackendKind>,
    /// Compiler [default: cranelift]
    #[arg(long, value_parser = named_strategy())]
    pub strategy: Option<torvyn_engine::CompilationStrategy>,
    /// Fuel budget of every call [default: 50000000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Read a recording without its end line (its writer did not finish)
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Refuse a component that imports what the engine does not provide
    #[arg(long)]
    pub refuse_unknown_imports: bool,
    /// Do not count what the guest writes to stdout and stderr: a call
    /// that writes other bytes than recorded is still shown, but the
    /// replay matches
    #[arg(long)]
    pub ignore_output: bool,
    /// Replay every call and list every divergence (answers, reads,
    /// output) instead of stopping at the first; the exit code is the same
    #[arg(long, conflicts_with = "max_divergences")]
    pub all: bool,
    /// List up to N divergences of each kind, stopping at the Nth answer
    /// that differs [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_divergences: Option<u64>,
}

/// `torvyn-sim record`.
#[derive(Debug, clap::Args)]
pub struct RecordCmdArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: RecordAction,
}

/// `torvyn-sim record to-scenario`.
#[derive(Debug, clap::Subcommand)]
pub enum RecordAction {
    /// Print (or write) a scenario file that sends the recorded inputs
    ToScenario {
        /// The recording file
        #[arg(value_name = "RECORDING")]
        recording: PathBuf,
        /// Write the scenario to FILE instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Read a recording without its end line
        #[arg(long)]
        allow_incomplete: bool,
    },
}

fn read(path: &Path, allow_incomplete: bool) -> Result<Recording, CliError> {
    Recording::read_with(path, ReadOptions { allow_incomplete })
        .map_err(|e| CliError::input(e.to_string()))
}

/// Runs `torvyn-sim record ...`.
pub fn run_record(args: &RecordCmdArgs) -> Result<Report, CliError> {
    match &args.action {
        RecordAction::ToScenario {
            recording,
            output,
            allow_incomplete,
        } => {
            let r = read(recording, *allow_incomplete)?;
            let scenario = crate::record::to_scenario(&r)?;
            let yaml = serde_yaml_ng::to_string(&scenario)
                .map_err(|e| CliError::engine(format!("cannot write the scenario: {e}")))?;
            match output {
                None => Ok(Report::ok(yaml)),
                Some(path) => {
                    std::fs::write(path, &yaml).map_err(|e| {
                        CliError::engine(format!(
                            "cannot write the scenario {}: {e}; check the directory exists \
                             and is writable",
                            path.display()
                        ))
                    })?;
                    Ok(Report {
                        stderr: format!(
                            "wrote {} ({} inputs); run it with `torvyn-sim check {} --snapshot \
                             FILE --update`\n",
                            path.display(),
                            scenario.inputs.len(),
                            path.display()
                        ),
                        ..Report::default()
                    })
                }
            }
        }
    }
}

/// The recordings to replay: the file, or every `.jsonl` in the directory
/// (sorted), each with its stage name (the file stem).
fn recordings(path: &Path) -> Result<Vec<(String, PathBuf)>, CliError> {
    if !path.is_dir() {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(stem, path.to_path_buf())]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| {
        CliError::input(format!(
            "cannot read the recording directory {}: {e}",
            path.display()
        ))
    })?;
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (stem, p)
        })
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(CliError::input(format!(
            "{} holds no recording (no .jsonl file); record a pipeline with `torvyn-sim \
             pipeline ... --record {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(found)
}

/// Runs `torvyn-sim replay`.
pub fn run_replay(args: &ReplayArgs, cache: &CacheChoice) -> Result<Report, CliError> {
    let files = recordings(&args.recording)?;
    let dir = files.len() > 1 || args.recording.is_dir();
    // --component C, or STAGE=C for a directory.
    let mut chosen: Vec<(Option<String>, String)> = Vec::new();
    for c in &args.component {
        match c.split_once('=') {
            Some((stage, comp)) if dir => chosen.push((Some(stage.to_string()), comp.to_string())),
            _ if dir => {
                return Err(CliError::usage(format!(
                    "`--component {c}`: a directory of recordings takes STAGE=COMPONENT (its \
                     stages: {})",
                    files
                        .iter()
                        .map(|f| f.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            _ => chosen.push((None, c.clone())),
        }
    }
    if !dir && chosen.len() > 1 {
        return Err(CliError::usage(
            "one recording is replayed against one --component",
        ));
    }
    for (stage, _) in &chosen {
        if let Some(s) = stage
            && !files.iter().any(|f| &f.0 == s)
        {
            return Err(CliError::usage(format!(
                "no recording of a stage `{s}` in {} (its stages: {})",
                args.recording.display(),
                files
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    // Every recording is read (and refused) before any is replayed.
    let mut read_all = Vec::new();
    for (stage, path) in &files {
        read_all.push((stage.clone(), read(path, args.allow_incomplete)?));
    }
    let options = ReplayOptions {
        fuel: args.fuel,
        max_divergences: match (args.all, args.max_divergences) {
            (true, _) => usize::MAX,
            (false, Some(n)) => usize::try_from(n).unwrap_or(usize::MAX),
            (false, None) => 1,
        },
    };
    let component_flag = |stage: &str| {
        if dir {
            format!("--component {stage}=PATH")
        } else {
            "--component PATH".to_string()
        }
    };
    let mut out = String::new();
    let mut code = EXIT_OK;
    for ((stage, recording), (_, path)) in read_all.iter().zip(&files) {
        let given = chosen
            .iter()
            .find(|(s, _)| s.is_none() || s.as_deref() == Some(stage.as_str()))
            .map(|(_, c)| c.clone());
        let (component, source, note) = match given {
            Some(c) => {
                super::check_component_ref(&c)?;
                let source = ComponentSource::parse(&c, None);
                (c, source, None)
            }
            None => {
                let named = recording.header.component.source.clone().ok_or_else(|| {
                    CliError::usage(format!(
                        "the recording of `{stage}` names no component; give one with {}",
                        component_flag(stage)
                    ))
                })?;
                super::check_component_ref(&named)?;
                let (source, note) = locate_component(&named, path).map_err(|looked| {
                    CliError::input(format!(
                        "the recording {} was made of the component {named}, which is not \
                         there (looked at {}); pass the build to replay against with {}",
                        path.display(),
                        looked
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        component_flag(stage)
                    ))
                })?;
                let label = match (&note, &source) {
                    (Some(_), ComponentSource::Wat(p) | ComponentSource::Wasm(p)) => {
                        p.display().to_string()
                    }
                    _ => named,
                };
                (label, source, note)
            }
        };
        let backend = match (args.backend, recording.header.component.backend.as_deref()) {
            (Some(b), _) => b,
            (None, Some("mock")) => BackendKind::Mock,
            _ => BackendKind::Wasmtime,
        };
        let settings = EngineSettings {
            strategy: args.strategy.unwrap_or_default(),
            clock: ClockSetting::Virtual,
            cache_dir: cache.resolve()?,
            cache_max_bytes: cache.max_bytes,
            stub_unknown_imports: !args.refuse_unknown_imports,
            ..EngineSettings::deterministic(crate::sim::DEFAULT_SEED)
        };
        let mut report = replay_with(recording, &source, &component, backend, &settings, &options)?;
        report.notes.extend(note);
        report.ignore_output = args.ignore_output;
        if dir {
            out.push_str(&format!("== stage {stage}\n"));
        }
        out.push_str(&report.render_text());
        if !report.matches() {
            code = EXIT_DIFFERS;
        }
    }
    Ok(Report {
        stdout: out,
        code,
        ..Report::default()
    })
}
