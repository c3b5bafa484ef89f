//! `torvyn-sim run COMPONENT`: runs one component in its role over input
//! elements, through [`crate::scenario::run_scenario`].

use std::io::Read as _;

use super::cache::CacheChoice;
use super::error::CliError;
use super::{EngineArgs, Format, Report, RunArgs, check_component_ref, input, progress, table};
use crate::backend::EngineSettings;
use crate::drive::stage_id;
use crate::faults::{Sweep, sweep};
use crate::scenario::scenario_settings;
use crate::scenario::{InputElement, Scenario};
use crate::transcript::{OutputFormat, Transcript};

/// The scenario `torvyn-sim run` runs for these arguments and inputs.
pub fn scenario(args: &RunArgs, inputs: Vec<InputElement>) -> Scenario {
    let mut s = Scenario {
        config: args.config.clone(),
        role: args.role,
        grants: args.grant.clone(),
        fuel: args.fuel,
        pull_limit: args.pull_limit,
        preview_bytes: args.observe.preview_bytes,
        fail_host_call: args.fail_host_call,
        sweep_limit: args.sweep_limit,
        require_handled: args.require_handled,
        trace_host_calls: args.observe.trace_host_calls,
        inputs,
        ..Scenario::new(stage_id(&args.component), args.component.clone())
    };
    if let Some(ms) = args.deadline_ms {
        let ns = ms.saturating_mul(1_000_000);
        for i in &mut s.inputs {
            i.deadline_ns.get_or_insert(ns);
        }
    }
    apply_engine(&mut s, &args.engine);
    s
}

fn apply_engine(s: &mut Scenario, e: &EngineArgs) {
    // The CLI links imports the engine lacks to stubs unless told not to.
    s.stub_unknown_imports = !e.refuse_unknown_imports;
    if let Some(seed) = e.seed {
        s.seed = Some(seed);
    }
    if let Some(strategy) = e.strategy {
        s.strategy = strategy;
    }
    if let Some(clock) = e.clock {
        s.clock = clock;
    }
    if let Some(backend) = e.backend {
        s.backend = Some(backend);
    }
    if let Some(bytes) = e.max_memory {
        s.max_memory_bytes = Some(bytes);
    }
}

/// Reads the input elements named by `--input` (a file, or `-` for stdin).
pub fn read_inputs(arg: Option<&str>) -> Result<Vec<InputElement>, CliError> {
    let Some(arg) = arg else {
        return Ok(Vec::new());
    };
    let (text, origin) = read_input_text(arg)?;
    input::parse_inputs(&text, &origin)
}

/// The text `--input ARG` names (a file, or `-` for stdin) and its origin
/// for messages (the path, or `<stdin>`).
///
/// # Errors
///
/// An input error when it cannot be read or is not UTF-8.
pub fn read_input_text(arg: &str) -> Result<(String, String), CliError> {
    let (bytes, origin) = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::input(format!("cannot read the input from stdin: {e}")))?;
        (buf, "<stdin>".to_string())
    } else {
        let bytes = std::fs::read(arg).map_err(|e| {
            CliError::input(format!(
                "cannot read the input file {arg}: {e}; check the path, or pass - to read stdin"
            ))
        })?;
        (bytes, arg.to_string())
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::input(format!(
            "the input {origin} is not UTF-8 (byte {}); write binary payloads as JSON Lines with \
             \"payload_hex\"",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, origin))
}

/// Runs `torvyn-sim run`; `verbose` (`-v`) shows traps' backtraces in the
/// table.
pub fn run(args: &RunArgs, cache: &CacheChoice, verbose: bool) -> Result<Report, CliError> {
    check_component_ref(&args.component)?;
    let inputs = read_inputs(args.input.as_deref())?;
    let had_inputs = !inputs.is_empty();
    let mut scenario = scenario(args, inputs);
    scenario.config = args.config.as_deref().map(input::read_config).transpose()?;
    let settings = EngineSettings {
        cache_dir: cache.resolve()?,
        cache_max_bytes: cache.max_bytes,
        ..scenario_settings(&scenario)
    };
    let is_sweep = scenario.fail_host_call.is_some_and(|f| f.is_sweep());
    if args.require_handled && !is_sweep {
        return Err(CliError::usage(
            "--require-handled applies to a sweep (--fail-host-call all), which fails each host \
             call in turn; pass --fail-host-call all, or drop --require-handled",
        ));
    }
    if args.observe.coverage.is_some() && is_sweep {
        return Err(CliError::usage(
            "--coverage records one run, not a sweep (--fail-host-call all); drop one of them",
        ));
    }
    if is_sweep {
        #[cfg(feature = "profiling")]
        if args.observe.profile.is_some() {
            return Err(CliError::usage(
                "--profile profiles one run, and a sweep (--fail-host-call all) is many: drop \
                 --profile, or fail one host call (--fail-host-call K)",
            ));
        }
        if !args.observe.fail_on.is_empty() {
            return Err(CliError::usage(
                "--fail-on does not apply to a sweep (--fail-host-call all), whose calls fail on \
                 purpose: its exit code is 1 when a case leaked or broke an invariant; drop \
                 --fail-on, or fail one host call (--fail-host-call K)",
            ));
        }
        let label = format!("sweeping the host calls of {}", args.component);
        let sweep = progress::with_spinner(&label, || {
            sweep(
                scenario.effective_backend(),
                &scenario,
                &settings,
                scenario.sweep_limit,
            )
        })?;
        return sweep_report(&sweep, args.observe.format);
    }
    let label = format!("running {}", args.component);
    #[cfg(feature = "profiling")]
    if let Some(path) = &args.observe.profile {
        let (transcript, profile) = progress::with_spinner(&label, || {
            crate::profile::run_scenario_profiled(
                scenario.effective_backend(),
                &scenario,
                &settings,
            )
        })?;
        profile.write_to(path)?;
        let mut report = Report::ok(render(&transcript, args.observe.format, verbose)?);
        report.failure = super::fail_on::check(&args.observe.fail_on, &transcript.entries);
        report.stderr += &format!(
            "profile written to {} (open it in https://profiler.firefox.com)\n",
            path.display()
        );
        return Ok(report);
    }
    let mut coverage_note = None;
    let (transcript, recorded) = match &args.observe.record.record {
        None => {
            let (t, note) = progress::with_spinner(&label, || {
                super::coverage::run_scenario(
                    args.observe.coverage.as_deref(),
                    scenario.effective_backend(),
                    &scenario,
                    &settings,
                )
            })?;
            coverage_note = note;
            (t, None)
        }
        Some(path) => {
            let (t, r) = progress::with_spinner(&label, || {
                crate::record::run_scenario_recorded(
                    scenario.effective_backend(),
                    &scenario,
                    &settings,
                    crate::record::RecordTo::File(path.clone()),
                    args.observe.record.options(),
                )
            })?;
            (t, Some(r))
        }
    };
    let mut report = Report::ok(render(&transcript, args.observe.format, verbose)?);
    if let Some(note) = coverage_note {
        report.stderr.push_str(&note);
    }
    if let Some(recorded) = recorded {
        match super::record::recorded_note(&recorded) {
            Ok(note) => report.stderr.push_str(&note),
            Err(e) => report.failure = Some(e),
        }
    }
    if report.failure.is_none() {
        report.failure = super::fail_on::check(&args.observe.fail_on, &transcript.entries);
    }
    if had_inputs && transcript.role == "source" {
        report.stderr += &format!(
            "note: {} was driven as a source, which is pulled and takes no input; the input \
             elements were not sent (use --role processor or --role sink to send them)\n",
            args.component
        );
    }
    Ok(report)
}

/// A sweep in the chosen format; exit code 1 when a case did not end
/// cleanly.
pub fn sweep_report(sweep: &Sweep, format: Format) -> Result<Report, CliError> {
    let text = match format {
        Format::Table => sweep.render_text(),
        Format::Yaml => sweep.render(OutputFormat::Yaml)?,
        Format::Json => sweep.render(OutputFormat::Json)? + "\n",
    };
    let mut report = Report::ok(text);
    if !sweep.clean {
        report.code = super::error::EXIT_DIFFERS;
        if format != Format::Table {
            // The table says why in its rows; YAML and JSON say it in
            // `problems`, which a reader of the exit code may not open.
            let bad: Vec<_> = sweep.cases.iter().filter(|c| !c.clean()).collect();
            for c in bad.iter().take(10) {
                report.stderr += &format!(
                    "host call {} ({}): {}\n",
                    c.failed_host_call,
                    c.function.as_deref().unwrap_or("never made"),
                    c.problems.join("; ")
                );
            }
            report.stderr += &format!(
                "{} of {} sweep cases did not end cleanly{}\n",
                bad.len(),
                sweep.cases.len(),
                if bad.len() > 10 {
                    " (the first 10 above; every one in `problems`)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(report)
}

/// A transcript in the chosen format: the table with a summary (traps'
/// backtraces only when `verbose`), or the snapshot form (no wall-clock
/// figures) as YAML or JSON.
pub fn render(t: &Transcript, format: Format, verbose: bool) -> Result<String, CliError> {
    Ok(match format {
        Format::Table => {
            format!(
                "{} as {} (seed {}, {}, {} clock)\n\n{}\n{}",
                t.component,
                t.role,
                t.seed,
                t.backend.engine_label(t.strategy),
                t.clock.name(),
                table::entries(&t.entries, false, verbose),
                table::summary(&t.summary)
            )
        }
        Format::Yaml => t.snapshot_form().to_yaml()?,
        Format::Json => {
            let mut s = t.snapshot_form().to_json()?;
            s.push('\n');
            s
        }
    })
}
