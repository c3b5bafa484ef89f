//! What a guest reads from the outside world, recorded and given back:
//! the `stamp` fixture (both WASI clocks, random bytes, stdout) recorded
//! by a `Recorder` over an invoker as a production host builds it (the
//! system clock, the operating system's randomness) replays exactly on an
//! engine with another clock and seed; a build that reads differently is
//! named at the call and interface it diverges on.

use std::time::Duration;

use torvyn_engine::record::{MemoryRecording, RecordOptions, Recorder, Recording};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    Bytes, ComponentId, ComponentInvoker, ProcessResult, RandomSource, StreamElement, WasmEngine,
    WorldInterface, WorldRead,
};
use torvyn_harness::backend::{EngineSettings, SimBackend, WasmtimeBackend};
use torvyn_harness::record::{ReplayReport, replay_on};
use torvyn_harness::source::ComponentSource;
use torvyn_harness::spec::ClockSetting;

const INPUTS: [&str; 3] = ["alpha", "", "gamma"];

/// The payload `stamp` emitted for `input`: the input, then 24 bytes.
fn stamp_of(out: &[u8], input: &str) -> (Duration, u64, [u8; 4]) {
    assert_eq!(out.len(), input.len() + 24, "{out:?}");
    assert_eq!(&out[..input.len()], input.as_bytes());
    let s = &out[input.len()..];
    let secs = u64::from_le_bytes(s[..8].try_into().unwrap());
    let nanos = u32::from_le_bytes(s[8..12].try_into().unwrap());
    let mono = u64::from_le_bytes(s[12..20].try_into().unwrap());
    (
        Duration::new(secs, nanos),
        mono,
        s[20..24].try_into().unwrap(),
    )
}

/// `stamp` (or `fixture`) recorded on an engine with `config` and `clock`,
/// one `process` per input.
fn record_on(engine: &WasmtimeEngine, fixture: &str) -> (Recording, Vec<Bytes>) {
    let compiled = crate::support::compile_on(engine, fixture);
    let inst = engine
        .instantiate(&compiled, ComponentId::new("stamp-1"))
        .unwrap();
    let memory = MemoryRecording::new();
    let options = RecordOptions {
        source: Some(fixture.into()),
        backend: Some("wasmtime".into()),
        ..RecordOptions::default()
    };
    let mut rec = Recorder::to_memory(inst, &memory, options).unwrap();
    let mut outputs = Vec::new();
    for (i, input) in INPUTS.iter().enumerate() {
        let el = StreamElement::new(i as u64, *input, "text/plain");
        let call = torvyn_harness::backend::block_on(rec.process(el));
        match call.outcome.unwrap() {
            ProcessResult::Emit(o) => outputs.push(o.payload),
            ProcessResult::Drop => panic!("stamp emits"),
        }
    }
    let (_, stats) = rec.finish();
    assert_eq!(stats.unwrap().calls, INPUTS.len() as u64);
    (Recording::parse(&memory.bytes()).unwrap(), outputs)
}

/// A Wasmtime backend unlike the recording one: the virtual clock, seed 0.
fn replayer() -> WasmtimeBackend {
    WasmtimeBackend::new(&EngineSettings::deterministic(0)).unwrap()
}

fn replay(recording: &Recording, source: &ComponentSource) -> ReplayReport {
    replay_on(&replayer(), recording, source, "stamp", None).unwrap()
}

/// The `stamp` fixture's text with `edit` applied, written to a file.
fn edited_stamp(dir: &std::path::Path, edit: impl Fn(&str) -> String) -> ComponentSource {
    let text = std::fs::read_to_string(torvyn_harness::fixtures::fixture_path("stamp")).unwrap();
    let changed = edit(&text);
    assert_ne!(changed, text, "the edit changes the fixture");
    let path = dir.join("stamp-changed.wat");
    std::fs::write(&path, changed).unwrap();
    ComponentSource::Wat(path)
}

#[test]
fn a_production_recorder_over_the_system_clock_and_os_randomness_replays_exactly() {
    // What a production host builds: the system clock, OS randomness.
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    assert_eq!(engine.config().random, RandomSource::System);
    let (recording, outputs) = record_on(&engine, "stamp");

    let world = recording.header.world.clone().unwrap();
    assert_eq!(world.clock.as_deref(), Some("system"));
    assert_eq!(world.seed, None);
    assert!(world.insecure_seed_value().is_some(), "{world:?}");
    for ((call, out), input) in recording.calls.iter().zip(&outputs).zip(INPUTS) {
        let (wall, mono, random) = stamp_of(out, input);
        // Every value the guest read, in order, is the one it stamped.
        assert_eq!(
            call.reads,
            [
                WorldRead::WallClockNow(wall),
                WorldRead::MonotonicClockNow(mono),
                WorldRead::RandomBytes(random.to_vec()),
            ],
            "call {}",
            call.index
        );
        let stdout = call.stdout.as_ref().unwrap().bytes().unwrap();
        assert_eq!(&stdout[..], format!("stamp {input}\n").as_bytes());
        assert_eq!(call.stderr, None);
    }
    // A real clock: the time moved on between calls.
    assert!(stamp_of(&outputs[2], INPUTS[2]).1 > stamp_of(&outputs[0], INPUTS[0]).1);

    // The same component on another engine, another clock, another seed:
    // every call answers as recorded.
    let report = replay(&recording, &ComponentSource::Fixture("stamp".into()));
    assert!(report.matches(), "{}", report.render_text());
    assert_eq!(report.equal, INPUTS.len());

    // Without the recorded reads, the same calls answer otherwise: what
    // the replay gives back is what makes it match.
    let backend = replayer();
    let compiled = backend
        .compile(&ComponentSource::Fixture("stamp".into()), "stamp")
        .unwrap();
    let mut live = backend.instantiate(&compiled, "stamp-1").unwrap();
    let el = recording.calls[0]
        .input
        .as_ref()
        .unwrap()
        .to_element()
        .unwrap();
    match live.process_sync(el).outcome.unwrap() {
        ProcessResult::Emit(o) => assert_ne!(o.payload, outputs[0]),
        ProcessResult::Drop => panic!("stamp emits"),
    }
}

#[test]
fn a_seeded_recording_replays_on_an_engine_with_another_seed_and_clock() {
    let settings = EngineSettings {
        clock: ClockSetting::System,
        ..EngineSettings::deterministic(7)
    };
    let backend = WasmtimeBackend::new(&settings).unwrap();
    let (recording, _) = record_on(backend.engine(), "stamp");
    let world = recording.header.world.clone().unwrap();
    assert_eq!(
        (world.clock.as_deref(), world.seed),
        (Some("system"), Some(7))
    );
    let report = replay(&recording, &ComponentSource::Fixture("stamp".into()));
    assert!(report.matches(), "{}", report.render_text());
}

#[test]
fn a_build_that_reads_the_clock_twice_diverges_at_that_call_and_interface() {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    let (recording, _) = record_on(&engine, "stamp");
    let dir = tempfile::tempdir().unwrap();
    // The wall clock read once more before the one stamped.
    let twice = edited_stamp(dir.path(), |t| {
        t.replacen(
            "    (call $now (i32.const 0))\n",
            "    (call $now (i32.const 0))\n    (call $now (i32.const 0))\n",
            1,
        )
    });
    let report = replay(&recording, &twice);
    assert!(!report.matches());
    let w = report.world_divergence().unwrap();
    assert_eq!(w.index, 0);
    assert_eq!(w.interface, Some(WorldInterface::WallClockNow));
    assert_eq!(
        w.message,
        "call 0: the guest read `wasi:clocks/wall-clock.now` twice; the recording has one read"
    );
    // The replay went on: the second read got a live value, so the output
    // differs at the first call.
    assert_eq!(report.divergence().unwrap().index, 0);
    let text = report.render_text();
    assert!(text.contains("reads diverge at call 0 (process)"), "{text}");

    // Fewer reads: no random bytes.
    let none = edited_stamp(dir.path(), |t| {
        t.replacen(
            "(call $get-random-bytes (i64.const 4) (i32.const 0))",
            "(i32.store offset=4 (i32.const 0) (i32.const 0))",
            1,
        )
    });
    let report = replay(&recording, &none);
    let w = report.world_divergence().unwrap();
    assert_eq!(w.interface, Some(WorldInterface::RandomBytes));
    assert!(
        w.message
            .ends_with("`wasi:random/random.get-random-bytes` never; the recording has one read"),
        "{}",
        w.message
    );
}

#[test]
fn other_stdout_is_a_divergence_of_its_own_that_can_be_ignored() {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    let (recording, _) = record_on(&engine, "stamp");
    let dir = tempfile::tempdir().unwrap();
    let stomp = edited_stamp(dir.path(), |t| {
        t.replacen("144) \"stamp \"", "144) \"stomp \"", 1)
    });
    let mut report = replay(&recording, &stomp);
    let o = report.output_divergence().cloned().unwrap();
    assert_eq!((o.index, o.stream), (0, "stdout"));
    assert!(o.expected.contains("stamp alpha"), "{o:?}");
    assert!(o.actual.contains("stomp alpha"), "{o:?}");
    // Every answer is the recorded one: only the output differs.
    assert!(report.divergence().is_none() && report.world_divergence().is_none());
    assert_eq!(report.equal, INPUTS.len());
    assert!(!report.matches());
    report.ignore_output = true;
    assert!(report.matches(), "{}", report.render_text());
    assert!(report.render_text().contains("(ignored: --ignore-output)"));
}

#[test]
fn a_call_that_reads_nothing_records_no_world_and_the_insecure_seed_is_given_back() {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    let (recording, _) = record_on(&engine, "passthrough");
    for call in &recording.calls {
        assert!(call.reads.is_empty() && call.stdout.is_none(), "{call:?}");
    }
    // The header's insecure seed is what a replay instance answers.
    let seed = recording
        .header
        .world
        .as_ref()
        .and_then(|w| w.insecure_seed_value())
        .unwrap();
    let compiled = crate::support::compile_on(&engine, "passthrough");
    let inst = engine
        .instantiate_with(
            &compiled,
            ComponentId::new("p"),
            &torvyn_engine::InstanceOptions {
                insecure_seed: Some(seed),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(inst.world_info().insecure_seed_value(), Some(seed));
}
