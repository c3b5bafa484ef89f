//! `torvyn-sim pipeline SOURCE [STAGE...] SINK` (or `--file
//! PIPELINE.yaml`): runs a pipeline through
//! [`crate::pipeline::run_pipeline`]. A middle stage is a processor, a
//! filter or an aggregator, its role read from its exports; a router needs
//! `--file`, where its ports are mapped to stages.

use std::fmt::Write as _;

use super::cache::CacheChoice;
use super::error::CliError;
use super::{EngineArgs, Format, PipelineArgs, Report, check_component_ref, progress, table};
use crate::backend::EngineSettings;
use crate::drive::stage_id;
use crate::pipeline::{Pipeline, PipelineTranscript, StageSpec};
use crate::transcript::to_yaml;

/// The pipeline `torvyn-sim pipeline` runs for these arguments.
pub fn pipeline(args: &PipelineArgs) -> Result<Pipeline, CliError> {
    let mut p = match &args.file {
        Some(path) => Pipeline::load(path)?,
        None => {
            let [source, processors @ .., sink] = args.components.as_slice() else {
                return Err(CliError::usage(
                    "a pipeline needs at least a source and a sink: SOURCE [STAGE...] SINK \
                     (a stage is a processor, filter or aggregator; a router needs --file, \
                     since its ports must be mapped to stages)",
                ));
            };
            for c in &args.components {
                check_component_ref(c)?;
            }
            let name = args
                .components
                .iter()
                .map(|c| stage_id(c))
                .collect::<Vec<_>>()
                .join("-");
            Pipeline::new(
                name,
                StageSpec::new(source.clone()),
                processors.iter().cloned().map(StageSpec::new).collect(),
                StageSpec::new(sink.clone()),
            )
        }
    };
    apply_configs(&mut p, &args.config)?;
    apply_grants(&mut p, &args.grant)?;
    if let Some(fuel) = args.fuel {
        for s in stages_mut(&mut p) {
            s.fuel = Some(fuel);
        }
    }
    if let Some(n) = args.max_pulls {
        p.max_pulls = Some(n);
    }
    if let Some(ns) = args.drain_ns {
        p.drain_ns = Some(ns);
    }
    p.preview_bytes = args.observe.preview_bytes;
    p.trace_host_calls |= args.observe.trace_host_calls;
    apply_engine(&mut p, &args.engine);
    Ok(p)
}

pub(crate) fn apply_engine(p: &mut Pipeline, e: &EngineArgs) {
    // The CLI links imports the engine lacks to stubs unless told not to.
    p.stub_unknown_imports = !e.refuse_unknown_imports;
    if let Some(seed) = e.seed {
        p.seed = Some(seed);
    }
    if let Some(strategy) = e.strategy {
        p.strategy = strategy;
    }
    if let Some(clock) = e.clock {
        p.clock = clock;
    }
    if let Some(backend) = e.backend {
        p.backend = Some(backend);
    }
    if let Some(bytes) = e.max_memory {
        p.max_memory_bytes = Some(bytes);
    }
}

fn stages_mut(p: &mut Pipeline) -> impl Iterator<Item = &mut StageSpec> {
    p.all_stages_mut()
}

/// Applies `--grant NAME` (every stage) and `--grant STAGE=NAME` (one
/// stage) arguments.
fn apply_grants(p: &mut Pipeline, grants: &[String]) -> Result<(), CliError> {
    let names = p.stage_names();
    for arg in grants {
        match arg.split_once('=') {
            None => {
                for s in stages_mut(p) {
                    s.grants.push(arg.clone());
                }
            }
            Some((stage, name)) => {
                let Some(i) = names.iter().position(|n| n == stage) else {
                    return Err(CliError::usage(format!(
                        "--grant names stage `{stage}`, but the stages are: {}",
                        names.join(", ")
                    )));
                };
                if name.is_empty() {
                    return Err(CliError::usage(format!(
                        "--grant `{arg}` names no capability; write --grant {stage}=wasi-random"
                    )));
                }
                let spec = stages_mut(p).nth(i).expect("a stage per name");
                spec.grants.push(name.to_string());
            }
        }
    }
    Ok(())
}

/// Applies `--config STAGE=CONFIG` arguments.
fn apply_configs(p: &mut Pipeline, configs: &[String]) -> Result<(), CliError> {
    if configs.is_empty() {
        return Ok(());
    }
    let names = p.stage_names();
    for arg in configs {
        let Some((stage, config)) = arg.split_once('=') else {
            return Err(CliError::usage(format!(
                "--config `{arg}` is not STAGE=CONFIG; for example --config {}='{{\"count\": 5}}'",
                names[0]
            )));
        };
        let Some(i) = names.iter().position(|n| n == stage) else {
            return Err(CliError::usage(format!(
                "--config names stage `{stage}`, but the stages are: {}",
                names.join(", ")
            )));
        };
        let spec = stages_mut(p).nth(i).expect("a stage per name");
        spec.config = Some(super::input::read_config(config)?);
    }
    Ok(())
}

/// Runs `torvyn-sim pipeline`; `verbose` (`-v`) shows traps' backtraces
/// in the table.
pub fn run(args: &PipelineArgs, cache: &CacheChoice, verbose: bool) -> Result<Report, CliError> {
    let p = pipeline(args)?;
    let settings = EngineSettings {
        cache_dir: cache.resolve()?,
        cache_max_bytes: cache.max_bytes,
        ..p.settings()
    };
    #[cfg(feature = "profiling")]
    if let Some(path) = &args.observe.profile {
        let (t, profile) = progress::with_spinner(&format!("running pipeline {}", p.name), || {
            crate::profile::run_pipeline_profiled(p.effective_backend(), &p, &settings)
        })?;
        profile.write_to(path)?;
        return Ok(Report {
            failure: super::fail_on::check(&args.observe.fail_on, &t.entries),
            stderr: format!(
                "profile written to {} (open it in https://profiler.firefox.com)\n",
                path.display()
            ),
            ..Report::ok(render(&t, args.observe.format, verbose)?)
        });
    }
    let Some(dir) = &args.observe.record.record else {
        let (t, note) = progress::with_spinner(&format!("running pipeline {}", p.name), || {
            super::coverage::run_pipeline(
                args.observe.coverage.as_deref(),
                p.effective_backend(),
                &p,
                &settings,
            )
        })?;
        return Ok(Report {
            failure: super::fail_on::check(&args.observe.fail_on, &t.entries),
            stderr: note.unwrap_or_default(),
            ..Report::ok(render(&t, args.observe.format, verbose)?)
        });
    };
    let (t, recorded) = progress::with_spinner(&format!("running pipeline {}", p.name), || {
        crate::record::run_pipeline_recorded(
            p.effective_backend(),
            &p,
            &settings,
            crate::record::RecordTo::Dir(dir.clone()),
            args.observe.record.options(),
        )
    })?;
    let stdout = render(&t, args.observe.format, verbose)?;
    Ok(match super::record::recorded_note(&recorded) {
        Ok(note) => Report {
            stdout,
            stderr: note,
            failure: super::fail_on::check(&args.observe.fail_on, &t.entries),
            ..Report::default()
        },
        Err(e) => Report {
            stdout,
            failure: Some(e),
            ..Report::default()
        },
    })
}

/// A pipeline transcript in the chosen format: tables and a summary
/// (traps' backtraces only when `verbose`), or the snapshot form as YAML or
/// JSON.
pub fn render(t: &PipelineTranscript, format: Format, verbose: bool) -> Result<String, CliError> {
    Ok(match format {
        Format::Table => render_table(t, verbose),
        Format::Yaml => to_yaml(&t.snapshot_form())?,
        Format::Json => {
            let mut s = crate::transcript::to_json(&t.snapshot_form())?;
            s.push('\n');
            s
        }
    })
}

fn render_table(t: &PipelineTranscript, verbose: bool) -> String {
    let mut out = format!(
        "pipeline {} (seed {}, {}, {} clock)\n\n{}\n",
        t.pipeline,
        t.seed,
        t.backend.engine_label(t.strategy),
        t.clock.name(),
        table::entries(&t.entries, true, verbose)
    );
    let mut stages = table::Table::new(
        vec![
            "stage", "role", "calls", "in", "out", "dropped", "failed", "fuel p50", "fuel max",
            "busy",
        ],
        vec![false, false, true, true, true, true, true, true, true, true],
    );
    for s in &t.stages {
        let x = &s.totals;
        stages.row(
            vec![
                s.name.clone(),
                s.role.name().to_string(),
                x.calls.to_string(),
                x.elements_in.to_string(),
                x.elements_out.to_string(),
                x.elements_dropped.to_string(),
                x.elements_failed.to_string(),
                table::group(x.fuel_per_element.p50),
                table::group(x.fuel_per_element.max),
                table::duration(x.busy_ns),
            ],
            Vec::new(),
        );
    }
    out.push_str(&stages.render());
    out.push('\n');
    let m = &t.summary;
    let _ = writeln!(
        out,
        "elements      {} pulled, {} delivered, {} dropped, {} failed; {} pauses",
        m.elements_pulled, m.elements_delivered, m.elements_dropped, m.elements_failed, m.pauses
    );
    if let Some(why) = &m.stopped {
        let _ = writeln!(out, "stopped       {why}");
    }
    let _ = writeln!(
        out,
        "fuel          {} in {} calls",
        table::group(m.fuel_total),
        m.calls
    );
    let _ = writeln!(
        out,
        "engine time   {}  ({} elements delivered/s)",
        table::duration(m.virtual_time_ns),
        table::group(m.elements_per_virtual_second)
    );
    if let Some(w) = &m.wall {
        let _ = writeln!(
            out,
            "wall time     {}  ({} elements delivered/s)",
            table::duration(w.wall_ns),
            table::group(w.elements_per_second.round() as u64)
        );
    }
    out
}
