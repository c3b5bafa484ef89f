//! `torvyn-sim bench`: quick figures without criterion — ns per element for
//! the engine and for a minimal `bindgen!` host (or, with `--backend mock`,
//! for the mock running the fixture's model), and their ratio, from
//! interleaved rounds in one process, on the built-in payload or on the
//! author's own elements (`--input`, read as `run --input` reads them).
//!
//! The component is compiled through the compiled-component cache as `run`
//! compiles it ([`CacheChoice`]); the compile time and whether it was a
//! cache hit are reported apart from the per-call figures. A call the
//! component fails on one of the elements (or on its init config) stops
//! the benchmark with the element, the component's answer and its stderr,
//! and exit code [`EXIT_CALLS_FAILED`] ([`crate::bench::CallFailure`]);
//! `--keep-going` counts `process-error`s instead.

use std::path::Path;

use serde::Serialize;

use super::cache::CacheChoice;
use super::error::{CliError, EXIT_CALLS_FAILED};
use super::{BenchArgs, Format, Report, input, progress, table};
use crate::bench::{
    Against, BenchError, BenchInput, BenchReport, Blame, CallFailure, CompareOptions, Sent,
    compare_with,
};
use crate::spec::BackendKind;
use torvyn_engine::wasmtime::UnknownImports;
use torvyn_engine::wasmtime::WasmtimeEngineConfig;

/// Runs the comparison and prints its report; `verbose` (`-v`) shows a
/// trap's whole backtrace in the error.
pub fn run(args: &BenchArgs, cache: &CacheChoice, verbose: bool) -> Result<Report, CliError> {
    super::check_component_ref(&args.component)?;
    if args.elements == 0 {
        return Err(CliError::usage("--elements must be at least 1"));
    }
    let mut notes = String::new();
    let inputs = match &args.input {
        None => Vec::new(),
        Some(arg) => read_inputs(arg, &mut notes)?,
    };
    let init_config = args.config.as_deref().map(input::read_config).transpose()?;
    let options = CompareOptions {
        payload_bytes: args.payload,
        elements: args.elements,
        inputs,
        init_config,
        cache_dir: cache.resolve()?,
        cache_max_bytes: cache.max_bytes,
        keep_going: args.keep_going,
        config: WasmtimeEngineConfig {
            unknown_imports: if args.refuse_unknown_imports {
                UnknownImports::Refuse
            } else {
                UnknownImports::Trap
            },
            limits: torvyn_engine::Limits {
                max_memory_bytes: args
                    .max_memory
                    .unwrap_or(torvyn_engine::Limits::default().max_memory_bytes),
                ..torvyn_engine::Limits::default()
            },
            ..WasmtimeEngineConfig::default()
        },
        against: match args.backend {
            BackendKind::Wasmtime => Against::Baseline,
            BackendKind::Mock => Against::Mock,
        },
        ..CompareOptions::new(&args.component)
    };
    let label = format!("benchmarking {}", args.component);
    let report = match progress::with_spinner(&label, || compare_with(&options)) {
        Ok(report) => report,
        Err(BenchError::Harness(e)) => return Err(e.into()),
        Err(e @ (BenchError::NoMockModel { .. } | BenchError::NoRole { .. })) => {
            return Err(CliError::input(e.to_string()));
        }
        Err(e @ BenchError::NoLifecycle { .. }) => return Err(CliError::usage(e.to_string())),
        Err(BenchError::Failed(f)) => return Err(failure_error(&f, args, verbose)),
        Err(e) => return Err(CliError::engine(e.to_string())),
    };
    if report.inputs.given && report.function == "pull" {
        notes += &format!(
            "note: {} was driven as a source, which is pulled and takes no input; the input \
             elements were not sent\n",
            args.component
        );
    } else if report.inputs.given && report.elements < report.inputs.count as u64 {
        notes += &format!(
            "note: the {} measured calls per side sent the first {} of the {} elements (the \
             check pass sent each once); --elements {} or more measures them all\n",
            report.elements, report.elements, report.inputs.count, report.inputs.count
        );
    }
    let stdout = match args.format {
        Format::Table => format!("{report}\n"),
        Format::Yaml => crate::transcript::to_yaml(&View::of(&report))?,
        Format::Json => format!("{}\n", crate::transcript::to_json(&View::of(&report))?),
    };
    Ok(Report {
        stderr: notes,
        ..Report::ok(stdout)
    })
}

/// The elements of `--input ARG`, as `run --input` reads them, each
/// saying which line it came from.
fn read_inputs(arg: &str, notes: &mut String) -> Result<Vec<BenchInput>, CliError> {
    let (text, origin) = super::run::read_input_text(arg)?;
    let numbered = input::parse_numbered(&text, &origin)?;
    if numbered.is_empty() {
        return Err(CliError::input(format!(
            "the input {origin} has no elements (every line is blank); give one element per \
             line, or leave out --input for the built-in payload"
        )));
    }
    let mut with_deadline = 0;
    let inputs = numbered
        .into_iter()
        .map(|(line, element)| {
            let resolved = element.resolve().map_err(|problem| {
                CliError::input(format!("bad input in {origin} at line {line}: {problem}"))
            })?;
            with_deadline += usize::from(resolved.deadline_ns.is_some());
            Ok(BenchInput::new(resolved.payload, resolved.content_type)
                .from_origin(format!("line {line} of {origin}")))
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    if with_deadline > 0 {
        *notes += &format!(
            "note: {with_deadline} element{} of {origin} set a deadline, which bench ignores \
             (it measures calls; `torvyn-sim run` checks deadlines)\n",
            if with_deadline == 1 { "" } else { "s" }
        );
    }
    Ok(inputs)
}

/// The error for a call the component failed: the element, the answer or
/// fault, the guest's stderr, what to do; its exit code by whose failure
/// it is.
fn failure_error(f: &CallFailure, args: &BenchArgs, verbose: bool) -> CliError {
    let when = match f.phase.as_str() {
        "init" => String::new(),
        "check" => " in the check pass, before anything was measured".into(),
        "warm-up" => " while warming up".into(),
        round => format!(" in measured {round}"),
    };
    let mut lines = vec![format!("`{}` failed on {}{when}:", f.component, f.what())];
    let answer = if f.answered() {
        vec![format!("`{}` answered {}", f.function, f.answer())]
    } else {
        let mut fault = table::fault_lines(&f.answer(), verbose);
        if let Some(first) = fault.first_mut() {
            *first = format!("`{}` faulted: {first}", f.function);
        }
        fault
    };
    lines.extend(answer.into_iter().map(|l| format!("  {l}")));
    if let Some(stderr) = &f.stderr_error {
        let mut stderr = stderr.lines();
        if let Some(first) = stderr.next() {
            lines.push(format!("  guest error (stderr): {first}"));
        }
        lines.extend(stderr.map(|l| format!("                        {l}")));
    }
    let component = &args.component;
    let run_it = match (&args.input, &args.config) {
        (Some(i), Some(c)) => format!("torvyn-sim run {component} --input {i} --config '{c}'"),
        (Some(i), None) => format!("torvyn-sim run {component} --input {i}"),
        (None, Some(c)) => format!("torvyn-sim run {component} --config '{c}' --input FILE"),
        (None, None) => format!("torvyn-sim run {component} --input FILE"),
    };
    match f.blame() {
        Blame::Component => {
            let fix = if f.input.is_none() {
                "fix the init config (--config)".to_string()
            } else if args.input.is_none() {
                "the built-in payload is lower-case text: pass elements the component accepts \
                 with --input FILE"
                    .to_string()
            } else if f.answered() && !args.keep_going {
                "fix or remove that element, or pass --keep-going to count process-errors as \
                 part of the workload"
                    .to_string()
            } else if f.answered() {
                "a fatal error stops the benchmark even with --keep-going (the component asked \
                 for nothing more): fix or remove that element"
                    .to_string()
            } else {
                "fix or remove that element (--keep-going does not go past a fault: it \
                 poisons the instance)"
                    .to_string()
            };
            lines.push(format!(
                "This is the component's failure, not the engine's: bench measures elements the \
                 component accepts. {}{}; `{run_it}` shows every call (exit code \
                 {EXIT_CALLS_FAILED}).",
                fix[..1].to_uppercase(),
                &fix[1..]
            ));
            CliError::calls_failed(lines.join("\n"))
        }
        Blame::Input => {
            lines.push(
                "The engine refused the element before the component saw it: shrink or remove \
                 it."
                .into(),
            );
            CliError::input(lines.join("\n"))
        }
        Blame::Engine => CliError::engine(lines.join("\n")),
    }
}

/// `--format yaml|json`: the report's figures as fields.
#[derive(Serialize)]
struct View<'a> {
    component: &'a str,
    function: &'a str,
    strategy: &'a str,
    fuel: bool,
    rounds: u32,
    /// Measured calls per side.
    elements: u64,
    inputs: InputsView,
    compile: CompileView<'a>,
    engine: SideView,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<SideView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mock: Option<SideView>,
    ratio: f64,
    ratio_of: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refused: Vec<RefusedView<'a>>,
}

#[derive(Serialize)]
struct InputsView {
    /// `--input` (true) or the built-in payload (false).
    given: bool,
    count: usize,
    min_bytes: usize,
    max_bytes: usize,
    total_bytes: u64,
}

#[derive(Serialize)]
struct CompileView<'a> {
    /// `compiled`, `disk` or `memory`.
    tier: &'static str,
    cache_hit: bool,
    cache_dir: Option<&'a Path>,
    ms: f64,
    /// The other side getting ready (the baseline loading the engine's
    /// code, or the mock its model).
    other_ms: f64,
    baseline_reused_engine_code: bool,
}

#[derive(Serialize)]
struct SideView {
    ns_per_element: f64,
    /// Calls in the measured rounds.
    calls: u64,
    /// Payload bytes sent with them.
    bytes: u64,
}

impl SideView {
    fn of(ns: f64, sent: Sent) -> Self {
        Self {
            ns_per_element: ns,
            calls: sent.calls,
            bytes: sent.bytes,
        }
    }
}

#[derive(Serialize)]
struct RefusedView<'a> {
    index: usize,
    origin: &'a str,
    preview: &'a str,
    error: &'a str,
    engine_calls: u64,
    other_calls: u64,
}

/// Milliseconds, to the microsecond.
fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl<'a> View<'a> {
    fn of(r: &'a BenchReport) -> Self {
        let other = SideView::of(r.baseline_ns, r.other_sent);
        let (baseline, mock, ratio_of) = match r.against {
            Against::Baseline => (Some(other), None, "engine / baseline"),
            Against::Mock => (None, Some(other), "mock / engine"),
        };
        Self {
            component: &r.component,
            function: r.function,
            strategy: r.strategy.name(),
            fuel: r.fuel,
            rounds: r.rounds,
            elements: r.elements,
            inputs: InputsView {
                given: r.inputs.given,
                count: r.inputs.count,
                min_bytes: r.inputs.min_bytes,
                max_bytes: r.inputs.max_bytes,
                total_bytes: r.inputs.total_bytes,
            },
            compile: CompileView {
                tier: r.compile.tier.name(),
                cache_hit: r.compile.cache_hit(),
                cache_dir: r.compile.cache_dir.as_deref(),
                ms: millis(r.compile.engine),
                other_ms: millis(r.compile.other),
                baseline_reused_engine_code: r.compile.baseline_reused_engine_code,
            },
            engine: SideView::of(r.engine_ns, r.engine_sent),
            baseline,
            mock,
            ratio: r.ratio,
            ratio_of,
            refused: r
                .refused
                .iter()
                .map(|x| RefusedView {
                    index: x.index,
                    origin: &x.origin,
                    preview: &x.preview,
                    error: &x.error,
                    engine_calls: x.engine_calls,
                    other_calls: x.other_calls,
                })
                .collect(),
        }
    }
}
