//! [`compare_with`]: the engine against the baseline (or the mock) on one
//! component, in interleaved rounds, on the built-in payload or on given
//! inputs ([`BenchInput`]).
//!
//! Cold path: compiling, the check pass and the warm-up; the rounds run
//! [`super::side`]'s timed loop.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use torvyn_engine::mock::{JournalMode, MockEngineConfig, MockInvoker};
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Bytes, ComponentId, ContentType, InvokeError, Role, WasmEngine};

use super::side::{BaselineDriver, Drive, Driver, EngineDriver, OtherSide, Side, Stop};
use super::{
    Baseline, BenchError, BenchReport, CallFailure, CompileReport, FailedInput, InputSizes,
    RefusedInput, load_component, text_payload,
};
use crate::backend::{EngineSettings, SimBackend, WasmtimeBackend};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::ClockSetting;

/// One payload a benchmark sends: its bytes, its content type and where it
/// came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchInput {
    /// The payload.
    pub payload: Bytes,
    /// Its content type (shared: every call sends a clone, no copy).
    pub content_type: ContentType,
    /// Where it came from, for messages (`line 3 of data.jsonl`); empty
    /// for a payload the benchmark made up.
    pub origin: String,
}

impl BenchInput {
    /// A payload with a content type, from nowhere in particular.
    pub fn new(payload: impl Into<Bytes>, content_type: impl Into<ContentType>) -> Self {
        Self {
            payload: payload.into(),
            content_type: content_type.into(),
            origin: String::new(),
        }
    }

    /// The same input, saying where it came from (`line 3 of in.jsonl`).
    pub fn from_origin(self, origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            ..self
        }
    }

    /// The payload on one line, cut at 64 bytes.
    pub fn preview(&self) -> String {
        crate::transcript::PayloadPreview::of(&self.payload).short()
    }
}

/// What [`compare_with`] measures.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// A fixture name, a `.wat` file or a `.wasm` component.
    pub component: String,
    /// Payload bytes of the built-in payload (lower-case text), sent when
    /// `inputs` is empty.
    pub payload_bytes: usize,
    /// The payloads to send, in turn: call `k` of a side sends
    /// `inputs[k % inputs.len()]`. Empty (the default): the built-in
    /// payload of `payload_bytes` bytes, `text/plain`.
    pub inputs: Vec<BenchInput>,
    /// `init(config)` on the engine's and the other side's instance before
    /// any element. `None` (the default) calls `init("")` on a component
    /// that exports `lifecycle`, as a runtime does, and nothing on one
    /// that does not; a config for a component without `lifecycle` is
    /// [`BenchError::NoLifecycle`].
    pub init_config: Option<String>,
    /// A compiled-component cache directory for the engine's compile
    /// (a [`torvyn_engine::cache::CompiledComponentCache`] disk tier, as
    /// `torvyn-sim run` uses it). `None` (the default) compiles afresh and
    /// writes nothing.
    pub cache_dir: Option<PathBuf>,
    /// The bound on that directory's size (`None`: the default,
    /// [`torvyn_engine::cache::DEFAULT_MAX_DISK_BYTES`]).
    pub cache_max_bytes: Option<u64>,
    /// Count the calls the component answers with a `process-error`
    /// (other than `fatal`) and go on, instead of stopping at the first
    /// ([`BenchError::Failed`]). A fault (a trap, fuel...) or a `fatal`
    /// error still stops the benchmark: the instance is poisoned or has
    /// asked for nothing more.
    pub keep_going: bool,
    /// Elements (calls) per side, spread over the rounds.
    pub elements: u64,
    /// Rounds; each runs the engine and the baseline one after the other,
    /// alternating which goes first. The figures are the medians.
    pub rounds: u32,
    /// The engine configuration; the baseline copies its code-generation
    /// settings (and, with [`torvyn_engine::wasmtime::UnknownImports::Trap`], stubs
    /// the imports it lacks as the engine does), the mock its limits.
    pub config: WasmtimeEngineConfig,
    /// What the engine is measured against.
    pub against: Against,
}

/// The other side of a comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Against {
    /// A minimal `bindgen!` host running the same component: the ratio is
    /// engine / baseline, the engine's fixed cost.
    #[default]
    Baseline,
    /// The mock backend running the fixture's model: the ratio is mock /
    /// engine, what a host's mock-only tests save per call.
    Mock,
}

impl Against {
    /// `baseline` or `mock`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Mock => "mock",
        }
    }
}

impl CompareOptions {
    /// 1 KiB built-in payloads, 20 000 elements in 7 rounds, the default
    /// engine configuration (Cranelift, fuel on), no cache, no init
    /// config, stopping at the first failed call.
    pub fn new(component: impl Into<String>) -> Self {
        Self {
            component: component.into(),
            payload_bytes: 1024,
            inputs: Vec::new(),
            init_config: None,
            cache_dir: None,
            cache_max_bytes: None,
            keep_going: false,
            elements: 20_000,
            rounds: 7,
            config: WasmtimeEngineConfig::default(),
            against: Against::Baseline,
        }
    }
}

/// Engine versus minimal baseline on `component` (a fixture name, a `.wat`
/// file or a `.wasm` component) with `payload_bytes`-byte payloads and
/// `elements` calls per side, with the default engine configuration (see
/// [`CompareOptions::new`]). A processor is driven with `process`, a sink
/// with `push`, a source with `pull` (an exhausted source keeps answering
/// `none`; every call counts).
pub fn compare(
    component: &str,
    payload_bytes: usize,
    elements: u64,
) -> Result<BenchReport, BenchError> {
    compare_with(&CompareOptions {
        payload_bytes,
        elements,
        ..CompareOptions::new(component)
    })
}

/// What a comparison's errors name: the component, its function and the
/// inputs.
struct Context<'a> {
    name: &'a str,
    drive: Drive,
    inputs: &'a [BenchInput],
}

impl Context<'_> {
    /// The engine's `init(config)` failed, with `stderr` captured during it.
    fn init_failed(&self, config: &str, error: InvokeError, stderr: &[u8]) -> BenchError {
        self.failure(
            "init",
            "init",
            None,
            Some(config.to_string()),
            error,
            stderr,
        )
    }

    fn failure(
        &self,
        function: &'static str,
        phase: &str,
        input: Option<usize>,
        config: Option<String>,
        error: InvokeError,
        stderr: &[u8],
    ) -> BenchError {
        BenchError::Failed(Box::new(CallFailure {
            component: self.name.to_string(),
            function,
            phase: phase.to_string(),
            input: input.map(|index| FailedInput {
                index,
                of: self.inputs.len(),
                origin: self.inputs[index].origin.clone(),
                preview: self.inputs[index].preview(),
            }),
            config,
            error,
            stderr_error: crate::transcript::guest_error_lines(stderr),
        }))
    }

    /// The engine's side stopped in `phase`.
    fn stopped(&self, phase: &str, stop: Stop<InvokeError>, stderr: &[u8]) -> BenchError {
        // A source is pulled: no input was sent.
        let input = (self.drive != Drive::Pull).then_some(stop.input);
        self.failure(self.drive.name(), phase, input, None, stop.error, stderr)
    }

    /// The other side (`baseline` or `mock`) stopped in `phase`.
    fn other_failed(&self, side: &'static str, phase: &str, stop: Stop<String>) -> BenchError {
        let input = &self.inputs[stop.input];
        let sent = if self.drive == Drive::Pull {
            String::new()
        } else {
            format!(
                " on input {} of {} ({}{}{})",
                stop.input,
                self.inputs.len(),
                input.origin,
                if input.origin.is_empty() { "" } else { ": " },
                input.preview()
            )
        };
        BenchError::Call {
            component: self.name.to_string(),
            side,
            message: format!(
                "`{}`{sent} ({phase}): {}; the engine got through every input in its check \
                 pass",
                self.drive.name(),
                stop.error
            ),
        }
    }
}

/// [`compare`] with every option.
///
/// In order: the engine compiles the component (through the cache when
/// [`CompareOptions::cache_dir`] names one) and instantiates it, calls
/// `init`, then sends every input once, in order (the check pass, not
/// timed), so an input the component fails stops the benchmark at once
/// ([`BenchError::Failed`], with the input and the guest's stderr) before
/// the other side is even built. Then the baseline loads the engine's code
/// (or the mock builds its model), both sides warm up, and the rounds are
/// timed, each side starting again from the first input.
pub fn compare_with(options: &CompareOptions) -> Result<BenchReport, BenchError> {
    if options.against == Against::Mock {
        // Before anything is compiled: only a fixture with a model runs on
        // the mock.
        let modelled = matches!(
            ComponentSource::parse(&options.component, None),
            ComponentSource::Fixture(name) if torvyn_engine::mock::models::NAMES.contains(&name.as_str())
        );
        if !modelled {
            return Err(BenchError::NoMockModel {
                component: options.component.clone(),
            });
        }
    }
    let (bytes, name) = load_component(&options.component)?;
    let engine_err = |action| {
        let name = name.clone();
        move |source| {
            BenchError::Harness(HarnessError::Engine {
                action,
                component: name,
                source,
            })
        }
    };
    let settings = EngineSettings {
        clock: ClockSetting::System,
        cache_dir: options.cache_dir.clone(),
        cache_max_bytes: options.cache_max_bytes,
        ..EngineSettings::deterministic(0)
    };
    let backend = WasmtimeBackend::with_config(options.config.clone(), &settings)?;
    let started = Instant::now();
    let (compiled, tier) = backend
        .compile_tiered(&bytes, &name)
        .map_err(engine_err("compile"))?;
    let engine_compile = started.elapsed();
    let engine = backend.wasmtime();
    let roles = compiled.roles();
    let drive = if roles.contains(Role::Processor) {
        Drive::Process
    } else if roles.contains(Role::Sink) {
        Drive::Push
    } else if roles.contains(Role::Source) {
        Drive::Pull
    } else {
        return Err(BenchError::NoRole { component: name });
    };
    let lifecycle = roles.contains(Role::Lifecycle);
    if options.init_config.is_some() && !lifecycle {
        return Err(BenchError::NoLifecycle { component: name });
    }
    let init_config = lifecycle.then(|| options.init_config.clone().unwrap_or_default());
    let given = !options.inputs.is_empty();
    let builtin;
    let inputs: &[BenchInput] = if given {
        &options.inputs
    } else {
        builtin = [BenchInput::new(
            text_payload(options.payload_bytes),
            ContentType::from_static("text/plain"),
        )];
        &builtin
    };
    let sizes = InputSizes::of(inputs, given);
    let payload_bytes = match drive {
        Drive::Pull => 0,
        _ if given => (sizes.total_bytes / inputs.len() as u64) as usize,
        _ => options.payload_bytes,
    };

    let mut invoker = engine
        .instantiate(&compiled, ComponentId::new(&name))
        .map_err(engine_err("instantiate"))?;
    let cx = Context {
        name: &name,
        drive,
        inputs,
    };
    if let Some(config) = &init_config
        && let Err(error) = invoker.init_sync(config).outcome
    {
        let stderr = invoker.take_stderr().bytes;
        return Err(cx.init_failed(config, error, &stderr));
    }

    let rounds = options.rounds.max(1);
    let per_round = options.elements.div_ceil(u64::from(rounds)).max(1);
    // Warm up both (caches, branch predictors, lazy initialization).
    let warm = per_round.min(1_000);
    let keep_going = options.keep_going;
    let mut engine_side = Side::new(EngineDriver(&mut invoker), drive, inputs, keep_going);
    if let Err(stop) = engine_side.check() {
        let stderr = engine_side.driver.stderr();
        return Err(cx.stopped("check", stop, &stderr));
    }
    let more = warm.saturating_sub(inputs.len() as u64);
    if more > 0 {
        engine_side.driver.clear_output();
        if let Err(stop) = engine_side.run(more) {
            let stderr = engine_side.driver.stderr();
            return Err(cx.stopped("warm-up", stop, &stderr));
        }
    }

    let started = Instant::now();
    let mut base;
    let mut mock;
    let mut reused = false;
    let side_name = options.against.name();
    let init_failed = |e: String| BenchError::Call {
        component: name.clone(),
        side: side_name,
        message: format!("init: {e}"),
    };
    let mut other: Box<dyn OtherSide + '_> = match options.against {
        Against::Baseline => {
            let b = Baseline::from_engine_code(&options.config, engine, &compiled, &bytes, &name)?;
            reused = b.reuses_engine_code();
            base = b.instantiate()?;
            if let Some(config) = &init_config {
                base.init(config).map_err(|e| init_failed(e.to_string()))?;
            }
            Box::new(Side::new(
                BaselineDriver(&mut base),
                drive,
                inputs,
                keep_going,
            ))
        }
        Against::Mock => {
            mock = mock_instance(options, &name)?;
            if let Some(config) = &init_config {
                mock.init_sync(config)
                    .outcome
                    .map_err(|e| init_failed(e.to_string()))?;
            }
            Box::new(Side::new(
                EngineDriver(&mut mock),
                drive,
                inputs,
                keep_going,
            ))
        }
    };
    let other_ready = started.elapsed();
    other
        .run(warm)
        .map_err(|stop| cx.other_failed(side_name, "warm-up", stop))?;

    engine_side.restart();
    other.restart();
    let per = |d: Duration| d.as_nanos() as f64 / per_round as f64;
    let (mut e_ns, mut b_ns) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let phase = format!("round {}", round + 1);
        engine_side.driver.clear_output();
        // Alternate which side goes first.
        for engine_turn in [round % 2 == 0, round % 2 != 0] {
            if engine_turn {
                let took = engine_side.run(per_round).map_err(|stop| {
                    let stderr = engine_side.driver.stderr();
                    cx.stopped(&phase, stop, &stderr)
                })?;
                e_ns.push(per(took));
            } else {
                let took = other
                    .run(per_round)
                    .map_err(|stop| cx.other_failed(side_name, &phase, stop))?;
                b_ns.push(per(took));
            }
        }
    }
    let (engine_ns, baseline_ns) = (median(&mut e_ns), median(&mut b_ns));
    let ratio = match options.against {
        Against::Baseline => engine_ns / baseline_ns,
        Against::Mock => baseline_ns / engine_ns,
    };
    let other_refused = other.refused();
    let refused = engine_side
        .first_refusal
        .iter()
        .map(|(&index, error)| RefusedInput {
            index,
            origin: inputs[index].origin.clone(),
            preview: inputs[index].preview(),
            error: error.clone(),
            engine_calls: engine_side.refused[index],
            other_calls: other_refused.get(index).copied().unwrap_or(0),
        })
        .collect();
    Ok(BenchReport {
        component: name.clone(),
        function: drive.name(),
        payload_bytes,
        inputs: sizes,
        elements: per_round * u64::from(rounds),
        rounds,
        strategy: options.config.strategy,
        fuel: options.config.limits.fuel_enabled,
        compile: CompileReport {
            tier,
            cache_dir: options.cache_dir.clone(),
            engine: engine_compile,
            other: other_ready,
            baseline_reused_engine_code: reused,
        },
        engine_ns,
        baseline_ns,
        engine_sent: engine_side.feed.sent,
        other_sent: other.sent(),
        against: options.against,
        ratio,
        refused,
    })
}

/// A mock instance of the fixture `name`'s model, with the engine's limits
/// and its journal off (as a host's mock-only suite would run it).
fn mock_instance(options: &CompareOptions, name: &str) -> Result<MockInvoker, BenchError> {
    let c = &options.config;
    let config = MockEngineConfig {
        limits: c.limits,
        journal: JournalMode::Off,
        ..MockEngineConfig::default()
    };
    let settings = crate::backend::EngineSettings {
        clock: crate::spec::ClockSetting::System,
        ..crate::backend::EngineSettings::deterministic(0)
    };
    let backend = crate::backend::MockBackend::with_config(config, &settings)?;
    let source = ComponentSource::parse(&options.component, None);
    let compiled = backend.compile(&source, name)?;
    Ok(backend.instantiate(&compiled, name)?)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use torvyn_engine::cache::CacheTier;

    use super::*;
    use crate::bench::{Blame, Sent};

    #[test]
    fn the_mock_side_needs_a_fixture_with_a_model() {
        for component in ["trap", "x.wat", "x.wasm"] {
            let err = compare_with(&CompareOptions {
                against: Against::Mock,
                ..CompareOptions::new(component)
            })
            .unwrap_err();
            assert!(
                matches!(&err, BenchError::NoMockModel { component: c } if c == component),
                "{err}"
            );
            assert!(err.to_string().contains("passthrough"), "{err}");
        }
        let report = compare_with(&CompareOptions {
            elements: 100,
            rounds: 1,
            payload_bytes: 64,
            against: Against::Mock,
            ..CompareOptions::new("sink")
        })
        .unwrap();
        assert_eq!((report.function, report.against), ("push", Against::Mock));
        assert!((report.ratio - report.baseline_ns / report.engine_ns).abs() < 1e-9);
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].ends_with("(mock / engine)"), "{text}");
        assert!(
            lines[4].contains("; the mock built its model in "),
            "{text}"
        );
    }

    /// Text inputs, from `in.txt`, one per line.
    fn inputs(texts: &[&str]) -> Vec<BenchInput> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                BenchInput::new(t.as_bytes().to_vec(), "text/plain")
                    .from_origin(format!("line {} of in.txt", i + 1))
            })
            .collect()
    }

    /// The payload bytes `calls` calls send, the inputs in turn.
    fn cycled_bytes(inputs: &[BenchInput], calls: u64) -> u64 {
        (0..calls)
            .map(|k| inputs[(k % inputs.len() as u64) as usize].payload.len() as u64)
            .sum()
    }

    #[test]
    fn given_inputs_are_sent_in_turn_on_both_sides() {
        let given = inputs(&["hello", "hello world", "abc"]);
        let report = compare_with(&CompareOptions {
            inputs: given.clone(),
            elements: 14,
            rounds: 7,
            ..CompareOptions::new("uppercase")
        })
        .unwrap();
        assert_eq!(report.elements, 14);
        let sent = Sent {
            calls: 14,
            bytes: cycled_bytes(&given, 14),
        };
        assert_eq!(sent.bytes, 4 * 19 + 5 + 11);
        assert_eq!((report.engine_sent, report.other_sent), (sent, sent));
        assert_eq!(
            report.inputs,
            InputSizes {
                given: true,
                count: 3,
                min_bytes: 3,
                max_bytes: 11,
                total_bytes: 19
            }
        );
        assert_eq!(report.payload_bytes, 19 / 3);
        assert!(report.compile.baseline_reused_engine_code);
        assert_eq!(
            (report.compile.tier, report.compile.cache_hit()),
            (CacheTier::Compiled, false)
        );
        assert!(report.refused.is_empty());
        let text = report.to_string();
        assert!(
            text.starts_with("process `uppercase`: 14 elements cycling 3 inputs of 3..11 B"),
            "{text}"
        );
        assert!(text.contains("compiled (no cache)"), "{text}");
    }

    #[test]
    fn a_refused_input_stops_the_check_pass_at_that_input() {
        // scribble answers invalid-input to a payload starting with `!`.
        let err = compare_with(&CompareOptions {
            inputs: inputs(&["ok", "fine", "!bad", "never sent"]),
            elements: 7,
            ..CompareOptions::new("scribble")
        })
        .unwrap_err();
        let BenchError::Failed(f) = err else {
            panic!("not a call failure: {err}")
        };
        assert_eq!((f.function, f.phase.as_str()), ("process", "check"));
        assert_eq!(f.blame(), Blame::Component);
        let input = f.input.as_ref().unwrap();
        assert_eq!((input.index, input.of), (2, 4));
        assert_eq!(input.origin, "line 3 of in.txt");
        assert!(
            matches!(&f.error, InvokeError::Guest(torvyn_engine::ProcessError::InvalidInput(m)) if m == "!bad"),
            "{f}"
        );
    }

    #[test]
    fn keep_going_counts_the_refused_calls_of_each_input() {
        let given = inputs(&["ok", "!bad", "fine"]);
        let report = compare_with(&CompareOptions {
            inputs: given,
            elements: 14,
            keep_going: true,
            ..CompareOptions::new("scribble")
        })
        .unwrap();
        // Calls 1, 4, 7, 10, 13 of 14 send input 1.
        assert_eq!(report.refused.len(), 1, "{report}");
        let r = &report.refused[0];
        assert_eq!((r.index, r.engine_calls, r.other_calls), (1, 5, 5));
        assert_eq!(r.error, "invalid-input: !bad");
        assert_eq!(report.engine_sent.calls, 14);
        assert!(report.to_string().contains("refused   input 1"), "{report}");
    }

    #[test]
    fn a_fault_stops_even_with_keep_going_and_an_init_config_needs_lifecycle() {
        let err = compare_with(&CompareOptions {
            keep_going: true,
            elements: 7,
            ..CompareOptions::new("trap")
        })
        .unwrap_err();
        let BenchError::Failed(f) = err else {
            panic!("not a call failure: {err}")
        };
        assert!(!f.answered() && f.blame() == Blame::Component, "{f}");
        assert_eq!(f.input.as_ref().map(|i| i.index), Some(0));
        assert!(f.input.as_ref().unwrap().origin.is_empty());

        let err = compare_with(&CompareOptions {
            init_config: Some("{}".into()),
            ..CompareOptions::new("passthrough")
        })
        .unwrap_err();
        assert!(matches!(err, BenchError::NoLifecycle { .. }), "{err}");
        // A config the component refuses is its failure, in init.
        let err = compare_with(&CompareOptions {
            init_config: Some("{\"count\": 0}".into()),
            ..CompareOptions::new("sink")
        })
        .unwrap_err();
        let BenchError::Failed(f) = err else {
            panic!("not a call failure: {err}")
        };
        assert_eq!((f.function, f.input.is_none()), ("init", true));
        assert_eq!(f.config.as_deref(), Some("{\"count\": 0}"));
    }

    #[test]
    fn a_trap_on_an_input_comes_with_what_the_guest_wrote_to_stderr() {
        // validator writes two lines to stderr, then traps, on `#`.
        let err = compare_with(&CompareOptions {
            inputs: inputs(&["{}", "#x", "{\"a\": 1}"]),
            elements: 7,
            ..CompareOptions::new("validator")
        })
        .unwrap_err();
        let BenchError::Failed(f) = err else {
            panic!("not a call failure: {err}")
        };
        assert_eq!(f.input.as_ref().map(|i| i.index), Some(1));
        assert!(!f.answered(), "{f}");
        assert_eq!(
            f.stderr_error.as_deref(),
            Some("validator: cannot handle #x\nRuntimeError: unsupported record")
        );
    }

    #[test]
    fn the_second_compare_with_a_cache_directory_loads_the_component() {
        let dir = tempfile::tempdir().unwrap();
        let options = CompareOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            elements: 7,
            payload_bytes: 16,
            ..CompareOptions::new("passthrough")
        };
        let first = compare_with(&options).unwrap();
        assert_eq!(first.compile.tier, CacheTier::Compiled);
        let second = compare_with(&options).unwrap();
        assert_eq!(second.compile.tier, CacheTier::Disk);
        assert!(second.compile.cache_hit());
        assert!(
            second.compile_line().contains("cache hit (disk tier of "),
            "{}",
            second.compile_line()
        );
    }

    #[test]
    fn compare_reports_both_sides() {
        let report = compare_with(&CompareOptions {
            elements: 200,
            rounds: 3,
            payload_bytes: 64,
            ..CompareOptions::new("passthrough")
        })
        .unwrap();
        assert_eq!(report.function, "process");
        assert!(report.engine_ns > 0.0 && report.baseline_ns > 0.0);
        assert!(report.ratio.is_finite());
        let text = report.to_string();
        assert!(text.contains("engine") && text.contains("ratio"), "{text}");
    }
}
