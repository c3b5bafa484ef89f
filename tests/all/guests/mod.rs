//! Components built by real toolchains (`fixtures/guests/`, built by
//! `fixtures/guests/build.sh` into `$TORVYN_GUESTS`, default
//! `target/guests/`): a Python processor, sink, aggregator and router
//! (componentize-py), a JavaScript processor (componentize-js, default
//! flags: it imports `wasi:http`, which the engine links to stubs) and,
//! where the `wasm32-wasip2` target is installed, a Rust processor
//! (wit-bindgen).
//!
//! They run as pipelines behind a WAT source; the tests compare what
//! reaches the sink and what the sink printed with what the source
//! produced, and exercise the runner's `init` and `fatal` semantics on
//! them. The Python aggregator and router answer with lists and strings
//! that CPython frees in its post-return, which Wasmtime runs before the
//! call returns: the engine must have read them whole by then. The host-call
//! sweep fails each host call of the Python and JavaScript processors in
//! turn: both catch the buffer errors (and `py-unhandled`, which does not,
//! traps). The Python `stamp` guest, which reads both clocks and random
//! bytes, is recorded and replayed. CI (`.ci/run`) builds them first, so
//! there a missing guest fails; elsewhere a test without its guests says
//! why and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use torvyn_engine::Function;

use torvyn_engine::{ComponentInvoker, ElementMeta, InvokeError, ProcessError, StreamElement};
use torvyn_harness::backend::{EngineSettings, SimBackend, WasmtimeBackend};
use torvyn_harness::pipeline::{Pipeline, PipelineTranscript, StageSpec, run_pipeline_using};
use torvyn_harness::source::ComponentSource;
use torvyn_harness::spec::BackendKind;
use torvyn_harness::transcript::{Entry, Outcome, PayloadPreview};

mod sweep;

/// Where `build.sh` put the guests.
fn guests_dir() -> PathBuf {
    match std::env::var_os("TORVYN_GUESTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/guests"),
    }
}

/// The guests named, or `None` (with the reason printed) when one is not
/// built and this is not CI; in CI a missing guest fails the test.
fn guests<const N: usize>(names: [&str; N]) -> Option<[PathBuf; N]> {
    let dir = guests_dir();
    let paths = names.map(|n| dir.join(format!("{n}.wasm")));
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        let why = format!(
            "{} is not built: run fixtures/guests/build.sh (needs python3, node, npm \
             and the network the first time)",
            missing.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return None;
    }
    Some(paths)
}

/// One compile of each 11–36 MB guest for the whole suite: the tests take
/// turns, and the first one's compiled code is in the disk cache for the
/// rest (and for the next run).
static TURN: Mutex<()> = Mutex::new(());

fn run(pipeline: &Pipeline) -> PipelineTranscript {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let settings = EngineSettings {
        cache_dir: Some(guests_dir().join("compiled")),
        ..pipeline.settings()
    };
    run_pipeline_using(BackendKind::Wasmtime, pipeline, &settings)
        .unwrap_or_else(|e| panic!("pipeline {}: {e}", pipeline.name))
}

fn pipeline(name: &str, stages: &[&Path], sink_config: Option<&str>) -> Pipeline {
    let stage = |p: &Path| StageSpec::new(p.display().to_string());
    let (sink, middle) = stages.split_last().expect("a sink");
    let mut sink = stage(sink);
    sink.config = sink_config.map(str::to_owned);
    let mut p = Pipeline::new(
        name,
        StageSpec::new("token-source"),
        middle.iter().map(|p| stage(p)).collect(),
        sink,
    );
    // componentize-js's defaults import wasi:http, as torvyn-sim allows.
    p.stub_unknown_imports = true;
    // Whole payloads and whole lines of guest output.
    p.preview_bytes = Some(0);
    p
}

fn text(p: &PayloadPreview) -> String {
    assert!(!p.truncated, "no preview cap");
    p.text.clone().expect("printable text")
}

/// What the source emitted, in order.
fn pulled(t: &PipelineTranscript) -> Vec<String> {
    entries(t, "token-source", Function::Pull)
        .filter_map(|e| match &e.outcome {
            Outcome::Emit { payload, .. } => Some(text(payload)),
            _ => None,
        })
        .collect()
}

fn entries<'a>(
    t: &'a PipelineTranscript,
    stage: &'a str,
    call: Function,
) -> impl Iterator<Item = &'a Entry> + 'a {
    t.stage_entries(stage).filter(move |e| e.call == call)
}

/// What each push to `sink` carried, and what the sink printed meanwhile.
fn pushes(t: &PipelineTranscript, sink: &str) -> Vec<(String, String)> {
    entries(t, sink, Function::Push)
        .map(|e| {
            let input = e.input.as_ref().expect("a pushed element");
            let stdout = e.stdout.as_ref().map(text).unwrap_or_default();
            (text(&input.payload), stdout)
        })
        .collect()
}

fn stdout_of(t: &PipelineTranscript, stage: &str, call: Function) -> String {
    entries(t, stage, call)
        .filter_map(|e| e.stdout.as_ref().map(text))
        .collect()
}

/// A guest on its own Wasmtime backend, compiled once into the guests'
/// disk cache, for calls through the engine's API.
fn guest_instance(path: &Path, id: &str) -> torvyn_engine::wasmtime::WasmtimeInvoker {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let b = WasmtimeBackend::new(&EngineSettings {
        cache_dir: Some(guests_dir().join("compiled")),
        ..EngineSettings::deterministic(0)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let compiled = b
        .compile(&ComponentSource::Wasm(path.to_owned()), id)
        .unwrap_or_else(|e| panic!("{e}"));
    b.instantiate(&compiled, id)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn python_and_javascript_guests_run_as_a_pipeline_and_print_what_they_receive() {
    let Some([upper, exclaim, sink]) = guests(["py-uppercase", "js-exclaim", "py-sink"]) else {
        return;
    };
    let t = run(&pipeline(
        "py-js-py",
        &[&upper, &exclaim, &sink],
        Some(r#"{"label": "out"}"#),
    ));

    let tokens = pulled(&t);
    assert!(tokens.len() > 3, "the source emitted {tokens:?}");
    let want: Vec<(String, String)> = tokens
        .iter()
        .enumerate()
        .map(|(seq, tok)| {
            let out = format!("{}!", tok.to_uppercase());
            let line = format!("out {seq}: {out}\n");
            (out, line)
        })
        .collect();
    assert_eq!(
        pushes(&t, "py-sink"),
        want,
        "what reached the sink, and its stdout"
    );
    assert_eq!(
        stdout_of(&t, "py-sink", Function::Complete),
        format!("out complete after {} elements\n", tokens.len())
    );
    // Every stage ran every element, and nothing failed or leaked.
    let s = &t.summary;
    assert_eq!(s.elements_pulled, tokens.len() as u64);
    assert_eq!(s.elements_delivered, tokens.len() as u64);
    assert_eq!((s.elements_failed, s.elements_dropped), (0, 0));
    assert_eq!(s.stopped, None);
    for e in &t.entries {
        assert!(!e.failed(), "{e:?}");
        assert_eq!(e.live_resources, 0, "{e:?}");
    }
    // The guests are metered like any other: real fuel on every call.
    for stage in ["py-uppercase", "js-exclaim"] {
        assert!(
            entries(&t, stage, Function::Process).all(|e| e.fuel > 0),
            "{stage}"
        );
    }
}

#[test]
fn a_python_sink_whose_init_refuses_its_config_takes_no_element() {
    let Some([upper, sink]) = guests(["py-uppercase", "py-sink"]) else {
        return;
    };
    let t = run(&pipeline(
        "bad-config",
        &[&upper, &sink],
        Some("label = out"),
    ));
    let init: Vec<_> = entries(&t, "py-sink", Function::Init).collect();
    assert_eq!(init.len(), 1);
    assert_eq!(init[0].argument.as_deref(), Some("label = out"));
    match &init[0].outcome {
        Outcome::ProcessError { kind, message } => {
            assert_eq!(kind, "invalid-input");
            let message = message.as_deref().unwrap_or_default();
            assert!(message.starts_with("config is not JSON"), "{message}");
        }
        other => panic!("init answered {other:?}"),
    }
    // Stopped before the stream: no pull, no push, no complete.
    assert!(
        t.summary
            .stopped
            .as_deref()
            .unwrap_or_default()
            .contains("py-sink")
    );
    for call in [
        Function::Pull,
        Function::Process,
        Function::Push,
        Function::Complete,
    ] {
        assert_eq!(
            t.entries.iter().filter(|e| e.call == call).count(),
            0,
            "{call:?}"
        );
    }
}

#[test]
fn a_python_sink_that_answers_fatal_gets_no_further_element_and_no_complete() {
    let Some([upper, sink]) = guests(["py-uppercase", "py-sink"]) else {
        return;
    };
    // The fourth token, in upper case, stops the sink.
    let probe = run(&pipeline("probe", &[&upper, &sink], None));
    let tokens = pulled(&probe);
    let stop_at = tokens[3].to_uppercase();
    let config = format!(r#"{{"fatal_on": "{stop_at}"}}"#);
    let t = run(&pipeline("fatal", &[&upper, &sink], Some(&config)));

    let pushes = pushes(&t, "py-sink");
    assert_eq!(pushes.len(), 4, "{pushes:?}");
    assert_eq!(pushes[3], (stop_at.clone(), format!("sink 3: {stop_at}\n")));
    let last = entries(&t, "py-sink", Function::Push)
        .last()
        .expect("a push");
    match &last.outcome {
        Outcome::ProcessError { kind, message } => {
            assert_eq!(kind, "fatal");
            assert!(message.as_deref().unwrap_or_default().contains(&stop_at));
        }
        other => panic!("the last push answered {other:?}"),
    }
    // `fatal` is terminal: no sink is left, so the runtime pulls no more,
    // and a stopped sink gets no `complete`; every stage is torn down.
    assert_eq!(t.summary.elements_pulled, 4);
    assert_eq!(t.summary.elements_delivered, 3);
    assert!(
        t.summary
            .stopped
            .as_deref()
            .unwrap_or_default()
            .contains("py-sink")
    );
    assert_eq!(entries(&t, "py-sink", Function::Complete).count(), 0);
    assert_eq!(entries(&t, "py-sink", Function::Teardown).count(), 1);
    assert!(t.entries.iter().all(|e| e.live_resources == 0));
}

/// The Rust guest (wit-bindgen) gives what the Python guest gives. Built
/// only where the `wasm32-wasip2` target is installed (this machine's
/// toolchain has none, and `build.sh` says so): without it, this test
/// prints why and passes, in CI too.
#[test]
fn the_rust_guest_gives_what_the_python_guest_gives() {
    let rust = guests_dir().join("rust-uppercase.wasm");
    if !rust.is_file() {
        eprintln!(
            "skipped: {} is not built: fixtures/guests/build.sh builds it when the \
             wasm32-wasip2 target is installed (rustup target add wasm32-wasip2)",
            rust.display()
        );
        return;
    }
    let Some([py, sink]) = guests(["py-uppercase", "py-sink"]) else {
        return;
    };
    let by_python = run(&pipeline("py", &[&py, &sink], None));
    let by_rust = run(&pipeline("rust", &[&rust, &sink], None));
    assert_eq!(pushes(&by_rust, "py-sink"), pushes(&by_python, "py-sink"));
    assert!(!pushes(&by_rust, "py-sink").is_empty());
}

/// The Python sink and processor awaited inside tokio runtimes of both
/// flavours, as a streaming host awaits them: the sink prints on every
/// call (CPython's `print` flushes through `wasi:io/streams`), and both
/// answer as they do outside a runtime.
#[test]
fn python_guests_that_print_answer_when_awaited_inside_tokio() {
    use torvyn_engine::{BackpressureSignal, ComponentInvoker, ProcessResult, StreamElement};
    use torvyn_harness::backend::{SimBackend, WasmtimeBackend};
    use torvyn_harness::source::ComponentSource;

    let Some([upper, sink]) = guests(["py-uppercase", "py-sink"]) else {
        return;
    };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let settings = EngineSettings {
        cache_dir: Some(guests_dir().join("compiled")),
        ..EngineSettings::deterministic(0)
    };
    let backend = WasmtimeBackend::new(&settings).unwrap();
    let upper = backend
        .compile(&ComponentSource::Wasm(upper), "py-uppercase")
        .unwrap();
    let sink = backend
        .compile(&ComponentSource::Wasm(sink), "py-sink")
        .unwrap();
    let runtimes = [
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ];
    for rt in runtimes {
        let mut u = backend.instantiate(&upper, "upper").unwrap();
        let mut s = backend.instantiate(&sink, "sink").unwrap();
        let (u, mut s, answers) = rt
            .block_on(rt.spawn(async move {
                let mut answers = Vec::new();
                assert!(s.init(r#"{"label": "t"}"#).await.is_ok());
                for (seq, word) in ["tokio", "host"].into_iter().enumerate() {
                    let el = StreamElement::new(seq as u64, word, "text/plain");
                    let Ok(ProcessResult::Emit(out)) = u.process(el).await.outcome else {
                        panic!("py-uppercase did not emit");
                    };
                    answers.push(String::from_utf8(out.payload.to_vec()).unwrap());
                    let el = StreamElement::new(seq as u64, out.payload, "text/plain");
                    assert_eq!(s.push(el).await.outcome.unwrap(), BackpressureSignal::Ready);
                }
                assert!(s.complete().await.is_ok());
                (u, s, answers)
            }))
            .unwrap();
        assert_eq!(answers, ["TOKIO", "HOST"]);
        assert_eq!(u.live_resources(), 0);
        let printed = String::from_utf8(s.take_stdout().bytes).unwrap();
        assert_eq!(
            printed,
            "t 0: TOKIO\nt 1: HOST\nt complete after 2 elements\n"
        );
    }
}

/// The Python aggregator's `flush` answers the whole text in one element:
/// `token-source → token-filter → py-router → py-aggregator → sink`, the
/// filter dropping the tokens with "darn" and the router the one ending in
/// "." (the only token that would end a sentence). CPython frees the
/// answer in its post-return, before the call returns.
#[test]
fn a_python_aggregator_flushes_the_whole_text_to_the_sink() {
    let Some([router, aggregator]) = guests(["py-router", "py-aggregator"]) else {
        return;
    };
    let mut router = StageSpec::new(router.display().to_string());
    router.ports = BTreeMap::from([("words".to_owned(), "py-aggregator".to_owned())]);
    let mut p = Pipeline::new(
        "py-sentences",
        StageSpec::new("token-source"),
        vec![
            StageSpec::new("token-filter"),
            router,
            StageSpec::new(aggregator.display().to_string()),
        ],
        StageSpec::new("sink"),
    );
    p.preview_bytes = Some(0);
    let t = run(&p);

    let pushed: Vec<String> = entries(&t, "sink", Function::Push)
        .map(|e| text(&e.input.as_ref().expect("a pushed element").payload))
        .collect();
    assert_eq!(pushed, ["the quick fox is it late? oh well see you"]);
    let flushes: Vec<_> = entries(&t, "py-aggregator", Function::Flush).collect();
    assert_eq!(flushes.len(), 1);
    // The router saw the 11 tokens the filter let through; only "jumps."
    // went nowhere.
    assert_eq!(entries(&t, "py-router", Function::Route).count(), 11);
    assert_eq!(entries(&t, "py-aggregator", Function::Ingest).count(), 10);
    for e in &t.entries {
        assert!(!e.failed(), "{e:?}");
        assert_eq!(e.live_resources, 0, "{e:?}");
    }
    assert_eq!(t.summary.stopped, None);
}

/// The Python aggregator through the async API, awaited in a tokio
/// runtime: a sentence from `ingest`, the rest from `flush`, each answer
/// read whole.
#[test]
fn a_python_aggregator_answers_through_the_async_api() {
    let Some([aggregator]) = guests(["py-aggregator"]) else {
        return;
    };
    let mut agg = guest_instance(&aggregator, "py-aggregator");
    crate::support::on_tokio(async {
        agg.init("").await.outcome.unwrap();
        let mut answered = Vec::new();
        for (seq, token) in ["the", "quick", "fox", "jumps.", "oh", "well"]
            .into_iter()
            .enumerate()
        {
            let element = StreamElement::new(seq as u64, token, "text/plain");
            answered.extend(agg.ingest(element).await.outcome.unwrap());
        }
        assert_eq!(answered.len(), 1);
        assert_eq!(&answered[0].payload[..], b"the quick fox jumps.");
        assert_eq!(answered[0].meta, ElementMeta::new(0, "text/plain"));
        let flushed = agg.flush().await.outcome.unwrap();
        assert_eq!(flushed.len(), 1);
        assert_eq!(&flushed[0].payload[..], b"oh well");
        assert_eq!(flushed[0].meta, ElementMeta::new(1, "text/plain"));
        assert_eq!(&*flushed[0].buffer_content_type, "text/plain");
        assert_eq!(agg.flush().await.outcome.unwrap(), []);
        assert_eq!(
            agg.init("{}").await.outcome.unwrap_err(),
            InvokeError::Guest(ProcessError::InvalidInput(
                "the aggregator takes no config".into()
            ))
        );
    });
    assert_eq!(agg.live_resources(), 0);
    assert!(agg.poisoned().is_none());
}

/// The Python router's port names, many and long and not ASCII, come back
/// whole, through the async API and the sync one.
#[test]
fn a_python_routers_port_names_come_back_whole() {
    let Some([router]) = guests(["py-router"]) else {
        return;
    };
    let mut inst = guest_instance(&router, "py-router");
    let ports = vec![
        "words".to_owned(),
        "ünïcödé-Πort".to_owned(),
        "ü".repeat(700),
        "x".to_owned(),
    ];
    let config = serde_json::json!({ "ports": ports, "echo": true }).to_string();
    crate::support::on_tokio(async {
        inst.init(&config).await.outcome.unwrap();
        for text in ["héllo wörld", "plain", "a😀b"] {
            let names = inst
                .route(StreamElement::new(0, text, "text/plain"))
                .await
                .outcome
                .unwrap();
            let mut want = ports.clone();
            want.push(text.to_owned());
            assert_eq!(names, want);
        }
        let none = inst
            .route(StreamElement::new(1, "end.", "text/plain"))
            .await
            .outcome
            .unwrap();
        assert!(none.is_empty());
    });
    let names = inst
        .route_sync(StreamElement::new(2, "sync", "text/plain"))
        .outcome
        .unwrap();
    assert_eq!(names.len(), ports.len() + 1);
    assert_eq!(names[..ports.len()], ports[..]);
    assert_eq!(names[ports.len()], "sync");
    assert_eq!(inst.live_resources(), 0);
    assert!(inst.poisoned().is_none());
}

/// The Python `stamp` guest (`time.time_ns()`, `time.monotonic_ns()`,
/// `os.urandom(4)`, a `print`), recorded by a `Recorder` over an engine as
/// a production host builds it (the system clock, the OS's randomness),
/// replays exactly on an engine with the virtual clock and seed 0; its
/// changed build, which reads the wall clock twice, diverges at the first
/// `process` on `wasi:clocks/wall-clock.now`.
#[test]
fn the_python_stamp_guest_recorded_on_the_system_clock_and_os_randomness_replays_exactly() {
    use torvyn_engine::record::{MemoryRecording, RecordOptions, Recorder, Recording};
    use torvyn_engine::wasmtime::WasmtimeEngineConfig;
    use torvyn_engine::{ComponentInvoker, ProcessResult, StreamElement, WorldInterface};
    use torvyn_harness::backend::{SimBackend, WasmtimeBackend, block_on};
    use torvyn_harness::record::replay_on;
    use torvyn_harness::source::ComponentSource;
    use torvyn_harness::spec::ClockSetting;

    let Some([stamp, changed]) = guests(["py-stamp", "py-stamp-changed"]) else {
        return;
    };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let cached = |clock| EngineSettings {
        clock,
        cache_dir: Some(guests_dir().join("compiled")),
        ..EngineSettings::deterministic(0)
    };
    let production = WasmtimeBackend::with_config(
        WasmtimeEngineConfig::default(),
        &cached(ClockSetting::System),
    )
    .unwrap();
    let source = ComponentSource::Wasm(stamp);
    let compiled = production.compile(&source, "py-stamp").unwrap();
    let inst = production.instantiate(&compiled, "py-stamp").unwrap();
    assert_eq!(inst.world_info().seed, None, "the OS's randomness");
    let memory = MemoryRecording::new();
    let mut rec = Recorder::to_memory(inst, &memory, RecordOptions::default()).unwrap();
    let mut outputs = Vec::new();
    for (i, word) in ["alpha", "beta"].into_iter().enumerate() {
        let call = block_on(rec.process(StreamElement::new(i as u64, word, "text/plain")));
        match call.outcome.unwrap() {
            ProcessResult::Emit(o) => outputs.push(o.payload),
            ProcessResult::Drop => panic!("stamp emits"),
        }
    }
    let (_, stats) = rec.finish();
    stats.unwrap();
    let recording = Recording::parse(&memory.bytes()).unwrap();
    let first = &recording.calls[0];
    let reads: Vec<_> = first.reads.iter().map(|r| r.interface()).collect();
    for read in [
        WorldInterface::WallClockNow,
        WorldInterface::MonotonicClockNow,
        WorldInterface::RandomBytes,
    ] {
        assert!(reads.contains(&read), "{read} not in {reads:?}");
    }
    assert_eq!(
        &first.stdout.as_ref().unwrap().bytes().unwrap()[..],
        b"stamp: 5 bytes\n"
    );
    // Two runs of the guest never stamp the same bytes...
    assert_ne!(outputs[0], outputs[1]);

    // ...but a replay gives every call what it read: the same bytes.
    let replayer = WasmtimeBackend::new(&cached(ClockSetting::Virtual)).unwrap();
    let report = replay_on(&replayer, &recording, &source, "py-stamp", None).unwrap();
    assert!(report.matches(), "{}", report.render_text());

    let report = replay_on(
        &replayer,
        &recording,
        &ComponentSource::Wasm(changed),
        "py-stamp-changed",
        None,
    )
    .unwrap();
    let w = report.world_divergence().unwrap();
    assert_eq!(
        (w.index, w.interface),
        (0, Some(WorldInterface::WallClockNow))
    );
    assert!(
        w.message
            .starts_with("call 0: the guest read `wasi:clocks/wall-clock.now` twice;"),
        "{}",
        w.message
    );
}

/// With `trace_host_calls`, the Python and JavaScript processors' entries
/// list the contract host calls their code makes: `read-all` once,
/// `allocate` once, `append`, `freeze` (a toolchain adds drops and may
/// order them its way: only the calls of the source code are pinned).
#[test]
fn real_toolchain_guests_trace_the_host_calls_of_their_code() {
    let Some([upper, exclaim, sink]) = guests(["py-uppercase", "js-exclaim", "py-sink"]) else {
        return;
    };
    let mut p = pipeline("traced", &[&upper, &exclaim, &sink], None);
    p.trace_host_calls = true;
    let t = run(&p);
    for stage in ["py-uppercase", "js-exclaim"] {
        let calls: Vec<&Entry> = entries(&t, stage, Function::Process).collect();
        assert!(!calls.is_empty(), "{stage}");
        for e in calls {
            let trace = e.host_call_trace.as_ref().expect("traced");
            assert_eq!(trace.len() as u32, e.host_calls, "{stage}: {trace:?}");
            let made = |f: &str| {
                trace
                    .iter()
                    .filter(|l| l.starts_with(&format!("{f}(")))
                    .count()
            };
            let bytes_in = e.input.as_ref().map_or(0, |i| i.payload.len);
            assert_eq!(made("buffer.read-all"), 1, "{stage}: {trace:?}");
            let whole = format!("-> {bytes_in} bytes");
            assert!(
                trace
                    .iter()
                    .any(|l| l.starts_with("buffer.read-all(") && l.ends_with(&whole)),
                "{stage}: the whole payload is read: {trace:?}"
            );
            assert_eq!(made("buffer-allocator.allocate"), 1, "{stage}: {trace:?}");
            assert!(made("mutable-buffer.append") + made("mutable-buffer.write") >= 1);
            assert_eq!(made("mutable-buffer.freeze"), 1, "{stage}: {trace:?}");
            assert_eq!(made("buffer-allocator.clone-into-mutable"), 0);
            assert!(
                trace.iter().all(|l| !l.ends_with("-> trap")),
                "{stage}: {trace:?}"
            );
        }
    }
    // Every stage's calls are traced, the sink's too.
    let pushes: Vec<&Entry> = entries(&t, "py-sink", Function::Push).collect();
    assert!(!pushes.is_empty());
    for e in pushes {
        let trace = e.host_call_trace.as_ref().expect("traced");
        assert_eq!(trace.len() as u32, e.host_calls, "{trace:?}");
    }
}
