//! Record and replay: recordings made on one backend replay on the other,
//! a changed component diverges at the right call, recordings that were
//! cut, edited or made of random bytes are refused with a typed error
//! (never a panic), byte caps and rotation hold, and `torvyn-sim replay`
//! exits 0, 1 or 3 accordingly.

use torvyn_engine::record::{
    End, MemoryRecording, PayloadMode, ReadOptions, RecordError, RecordOptions, Recorder,
    Recording, RecordingError,
};
use torvyn_engine::{ComponentInvoker, Function};
use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend};
#[cfg(feature = "wasmtime-backend")]
use torvyn_harness::record::replay;
use torvyn_harness::record::{
    RecordTo, RecordingBackend, ReplayOptions, replay_on, replay_on_with, run_pipeline_recorded,
    run_scenario_recorded, to_scenario,
};
use torvyn_harness::scenario::run_scenario_on;
use torvyn_harness::scenario::{InputElement, Scenario};
use torvyn_harness::source::ComponentSource;
use torvyn_harness::spec::BackendKind;

fn settings() -> EngineSettings {
    EngineSettings::deterministic(7)
}

/// Digits and spaces first, then letters: `uppercase` changes element 2
/// first.
const WORDS: [&str; 5] = ["123", "4 5", "ab1", "", "Zz"];

fn words_scenario(component: &str, backend: BackendKind) -> Scenario {
    Scenario {
        inputs: WORDS.iter().map(|w| InputElement::text(*w)).collect(),
        backend: Some(backend),
        ..Scenario::new("words", component)
    }
}

/// Records `component` over [`WORDS`] on `backend`, in memory.
fn record(component: &str, backend: BackendKind, options: RecordOptions) -> Recording {
    let s = words_scenario(component, backend);
    let (_, recorded) =
        run_scenario_recorded(backend, &s, &settings(), RecordTo::Memory, options).unwrap();
    assert_eq!(recorded.len(), 1);
    let stats = recorded[0].result().unwrap();
    let r = Recording::parse(&recorded[0].bytes().unwrap()).unwrap();
    assert_eq!(stats.calls, r.calls.len() as u64);
    r
}

fn fixture(name: &str) -> ComponentSource {
    ComponentSource::Fixture(name.into())
}

/// The index of the first recorded call whose input has a letter.
fn first_with_letter(r: &Recording) -> u64 {
    r.calls
        .iter()
        .find(|c| {
            c.input
                .as_ref()
                .and_then(|i| i.payload.bytes().cloned())
                .is_some_and(|b| b.iter().any(u8::is_ascii_alphabetic))
        })
        .map(|c| c.index)
        .unwrap()
}

#[test]
fn a_recording_holds_every_call_with_its_inputs_outputs_and_metrics() {
    let r = record("uppercase", BackendKind::Mock, RecordOptions::default());
    assert_eq!(r.header.format, "torvyn-recording");
    assert_eq!(r.header.version, torvyn_engine::record::FORMAT_VERSION);
    assert_eq!(r.header.component.id, "uppercase");
    assert_eq!(r.header.component.source.as_deref(), Some("uppercase"));
    assert_eq!(r.header.component.backend.as_deref(), Some("mock"));
    assert!(
        r.header
            .component
            .sha256
            .as_ref()
            .is_some_and(|d| d.len() == 64)
    );
    let process: Vec<_> = r
        .calls
        .iter()
        .filter(|c| c.function == Function::Process)
        .collect();
    assert_eq!(process.len(), WORDS.len());
    let third = process[2];
    assert_eq!(
        third.input.as_ref().unwrap().payload.bytes().unwrap(),
        "ab1"
    );
    match &third.outcome {
        torvyn_engine::Outcome::Answer(torvyn_engine::Answer::Emit(o)) => {
            assert_eq!(o.payload.bytes().unwrap(), "AB1")
        }
        other => panic!("uppercase emits: {other:?}"),
    }
    assert!(third.metrics.fuel > 0 && third.metrics.host_calls > 0);
    assert_eq!(r.calls.last().unwrap().function, Function::Teardown);
    assert_eq!(
        r.end,
        Some(End {
            calls: r.calls.len() as u64,
            truncated: false,
            rotated: false
        })
    );
}

#[test]
fn a_mock_recording_replays_on_the_mock_and_a_changed_model_diverges_at_the_first_letter() {
    let r = record("passthrough", BackendKind::Mock, RecordOptions::default());
    let b = MockBackend::new(&settings()).unwrap();
    let same = replay_on(&b, &r, &fixture("passthrough"), "passthrough", None).unwrap();
    assert!(same.matches(), "{}", same.render_text());
    assert_eq!(same.equal, r.calls.len());

    let b = MockBackend::new(&settings()).unwrap();
    let upper = replay_on(&b, &r, &fixture("uppercase"), "uppercase", None).unwrap();
    let d = upper
        .divergence()
        .cloned()
        .expect("uppercase changes letters");
    assert_eq!(d.index, first_with_letter(&r));
    assert_eq!(d.function, Function::Process);
    assert!(d.expected.contains("\"ab1\""), "{d:?}");
    assert!(d.actual.contains("\"AB1\""), "{d:?}");
    assert_eq!(
        d.detail.as_deref(),
        Some("payloads differ first at byte 0: expected 0x61, actual 0x41")
    );
    assert_eq!(upper.equal as u64, d.index);
    let text = upper.render_text();
    assert!(text.contains("first divergence at call"), "{text}");
    assert!(text.contains("fuel/call"), "{text}");
    assert!(upper.stopped_early());
    assert!(text.contains("--all goes on"), "{text}");
}

/// With a limit above 1 the replay goes on past a divergence and lists
/// each, stopping at the limit; without one reached it replays every call.
#[test]
fn a_replay_lists_divergences_up_to_its_limit_then_stops() {
    let r = record("passthrough", BackendKind::Mock, RecordOptions::default());
    let with_letters: Vec<u64> = r
        .calls
        .iter()
        .filter(|c| {
            c.input
                .as_ref()
                .and_then(|i| i.payload.bytes().cloned())
                .is_some_and(|b| b.iter().any(u8::is_ascii_alphabetic))
        })
        .map(|c| c.index)
        .collect();
    assert_eq!(with_letters.len(), 2, "WORDS has two words with letters");
    let replay_upper = |max_divergences| {
        let b = MockBackend::new(&settings()).unwrap();
        let options = ReplayOptions {
            max_divergences,
            ..ReplayOptions::default()
        };
        replay_on_with(&b, &r, &fixture("uppercase"), "uppercase", &options).unwrap()
    };

    let all = replay_upper(usize::MAX);
    let at: Vec<u64> = all.divergences.iter().map(|d| d.index).collect();
    assert_eq!(at, with_letters);
    assert_eq!(all.replayed, r.calls.len(), "every call replayed");
    assert_eq!(all.equal, r.calls.len() - 2);
    assert!(!all.matches() && !all.stopped_early());
    let text = all.render_text();
    assert!(
        text.contains("divergences   2 answers, 0 reads, 0 output"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\ndivergence at call {} (process)",
            with_letters[1]
        )),
        "{text}"
    );

    let one = replay_upper(1);
    assert_eq!(one.divergences.len(), 1);
    assert_eq!(one.replayed as u64, with_letters[0] + 1);
    let two = replay_upper(2);
    assert_eq!(two.divergences.len(), 2);
    assert_eq!(two.replayed as u64, with_letters[1] + 1);
    assert_eq!(two.stopped_early(), two.replayed < r.calls.len());

    // A replay that matches is the same whatever the limit.
    let b = MockBackend::new(&settings()).unwrap();
    let options = ReplayOptions {
        max_divergences: usize::MAX,
        ..ReplayOptions::default()
    };
    let same = replay_on_with(&b, &r, &fixture("passthrough"), "passthrough", &options).unwrap();
    assert!(same.matches(), "{}", same.render_text());
}

#[test]
fn a_digest_recording_is_smaller_and_cannot_be_replayed() {
    let stored = record("uppercase", BackendKind::Mock, RecordOptions::default());
    let digest = record(
        "uppercase",
        BackendKind::Mock,
        RecordOptions {
            payloads: PayloadMode::Digest,
            ..RecordOptions::default()
        },
    );
    assert_eq!(digest.header.payloads, PayloadMode::Digest);
    assert_eq!(digest.calls.len(), stored.calls.len());
    for (s, d) in stored.calls.iter().zip(&digest.calls) {
        if let (Some(si), Some(di)) = (&s.input, &d.input) {
            assert_eq!(si.payload.sha256(), di.payload.sha256());
            assert!(di.payload.bytes().is_none());
            assert!(di.payload.matches(si.payload.bytes().unwrap()));
        }
    }
    let b = MockBackend::new(&settings()).unwrap();
    let e = replay_on(&b, &digest, &fixture("uppercase"), "uppercase", None).unwrap_err();
    assert!(e.to_string().contains("digests of its payloads"), "{e}");
    let e = to_scenario(&digest).unwrap_err();
    assert!(e.to_string().contains("digests"), "{e}");
}

/// Runs the recorder directly over a mock instance, to memory.
fn direct(
    options: RecordOptions,
    n: usize,
    payload: usize,
) -> (
    MemoryRecording,
    Result<torvyn_engine::record::RecordingStats, RecordError>,
) {
    let b = MockBackend::new(&settings()).unwrap();
    let compiled = b.compile(&fixture("passthrough"), "passthrough").unwrap();
    let inst = b.instantiate(&compiled, "p").unwrap();
    let memory = MemoryRecording::new();
    let mut rec = Recorder::to_memory(inst, &memory, options).unwrap();
    for i in 0..n {
        let el = torvyn_engine::StreamElement::new(i as u64, vec![b'x'; payload], "text/plain");
        let call = torvyn_harness::backend::block_on(rec.process(el));
        assert!(call.is_ok(), "recording never changes the outcome");
    }
    let (_inst, stats) = rec.finish();
    (memory, stats)
}

#[test]
fn a_byte_cap_stops_the_recording_and_rotation_keeps_the_newest_parts() {
    let (memory, stats) = direct(
        RecordOptions {
            max_bytes: Some(2048),
            ..RecordOptions::default()
        },
        50,
        100,
    );
    let stats = stats.unwrap();
    assert!(
        stats.truncated && stats.calls > 0 && stats.calls < 50,
        "{stats:?}"
    );
    assert_eq!(stats.calls + stats.calls_dropped, 50);
    let bytes = memory.bytes();
    assert!(bytes.len() <= 2048, "{}", bytes.len());
    let r = Recording::parse(&bytes).unwrap();
    assert!(r.end.unwrap().truncated);
    assert_eq!(r.calls.len() as u64, stats.calls);

    let (memory, stats) = direct(
        RecordOptions {
            max_bytes: Some(2048),
            keep_rotated: 2,
            ..RecordOptions::default()
        },
        50,
        100,
    );
    let stats = stats.unwrap();
    assert!(
        !stats.truncated && stats.calls == 50 && stats.parts > 3,
        "{stats:?}"
    );
    let parts = memory.parts();
    assert_eq!(parts.len(), 3, "two rotated parts and the current one");
    let mut next = None;
    for p in &parts {
        assert!(p.len() <= 2048);
        let r = Recording::parse(p).unwrap();
        if let Some(n) = next {
            assert_eq!(r.header.first_call, n, "parts follow each other");
        }
        next = Some(r.header.first_call + r.calls.len() as u64);
    }
    assert_eq!(next, Some(50));

    let e = Recorder::to_memory(
        MockBackend::new(&settings())
            .and_then(|b| {
                let c = b.compile(&fixture("passthrough"), "p")?;
                b.instantiate(&c, "p")
            })
            .unwrap(),
        &MemoryRecording::new(),
        RecordOptions {
            max_bytes: Some(10),
            ..RecordOptions::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(e, RecordError::InvalidOptions(_)), "{e}");
}

#[test]
fn a_file_that_cannot_be_created_is_a_clear_error_before_any_call() {
    let s = words_scenario("passthrough", BackendKind::Mock);
    let e = run_scenario_recorded(
        BackendKind::Mock,
        &s,
        &settings(),
        RecordTo::File("/nonexistent-dir/rec.jsonl".into()),
        RecordOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("/nonexistent-dir/rec.jsonl") && e.contains("writable"),
        "{e}"
    );
}

#[test]
fn a_recorder_idle_for_over_a_second_records_the_call_that_ends_the_pause() {
    // The writer polls while calls come and blocks after a second without
    // one; the call after the pause must wake it.
    let b = MockBackend::new(&settings()).unwrap();
    let compiled = b.compile(&fixture("passthrough"), "passthrough").unwrap();
    let inst = b.instantiate(&compiled, "p").unwrap();
    let memory = MemoryRecording::new();
    let mut rec = Recorder::to_memory(inst, &memory, RecordOptions::default()).unwrap();
    let call = |rec: &mut Recorder<_>, seq: u64| {
        let el = torvyn_engine::StreamElement::new(seq, format!("e{seq}"), "text/plain");
        assert!(torvyn_harness::backend::block_on(rec.process(el)).is_ok());
    };
    call(&mut rec, 0);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let written = rec.handle().stats().calls;
    assert_eq!(written, 1, "the first call was written during the pause");
    call(&mut rec, 1);
    let (_, stats) = rec.finish();
    assert_eq!(stats.unwrap().calls, 2);
    let r = Recording::parse(&memory.bytes()).unwrap();
    let inputs: Vec<_> = r
        .calls
        .iter()
        .map(|c| c.input.as_ref().unwrap().payload.bytes().unwrap().clone())
        .collect();
    assert_eq!(inputs, ["e0", "e1"]);
}

#[test]
fn many_calls_small_and_large_are_all_recorded_in_order() {
    // More calls than the queue and the hand-back batches hold, and
    // payloads on both sides of the size the writer hands back.
    for (n, payload) in [(6000, 8), (300, 40 << 10)] {
        let (memory, stats) = direct(RecordOptions::default(), n, payload);
        let stats = stats.unwrap();
        assert_eq!((stats.calls, stats.calls_dropped), (n as u64, 0));
        let r = Recording::parse(&memory.bytes()).unwrap();
        assert_eq!(r.calls.len(), n);
        for (i, c) in r.calls.iter().enumerate() {
            assert_eq!(c.index, i as u64);
            let input = c.input.as_ref().unwrap();
            assert_eq!(input.sequence, i as u64);
            assert_eq!(input.payload.bytes().unwrap().len(), payload);
        }
    }
}

#[test]
fn a_recording_becomes_a_scenario_whose_run_sends_the_same_inputs() {
    let r = record("uppercase", BackendKind::Mock, RecordOptions::default());
    let s = to_scenario(&r).unwrap();
    assert_eq!(s.component, "uppercase");
    assert_eq!(s.backend, Some(BackendKind::Mock));
    let sent: Vec<_> = s
        .inputs
        .iter()
        .map(|i| i.payload.clone().unwrap())
        .collect();
    assert_eq!(sent, WORDS);
    // The scenario, written and read back, records the same calls.
    let yaml = serde_yaml_ng::to_string(&s).unwrap();
    let back = Scenario::from_yaml_str(&yaml, "recorded.yaml").unwrap();
    let b = MockBackend::new(&settings()).unwrap();
    let rb = RecordingBackend::wrap(b, RecordTo::Memory, RecordOptions::default());
    run_scenario_on(&rb, &back).unwrap();
    let again = Recording::parse(&rb.recordings()[0].bytes().unwrap()).unwrap();
    let outs = |r: &Recording| -> Vec<_> { r.calls.iter().map(|c| c.outcome.clone()).collect() };
    // Outputs' timestamps come from the run's clock; payloads and kinds match.
    let b = MockBackend::new(&settings()).unwrap();
    let report = replay_on(&b, &again, &fixture("uppercase"), "uppercase", None).unwrap();
    assert!(report.matches(), "{}", report.render_text());
    assert_eq!(outs(&r).len(), outs(&again).len());
}

#[test]
fn a_pipeline_records_one_file_per_stage() {
    let dir = tempfile::tempdir().unwrap();
    let p = torvyn_harness::pipeline::Pipeline::load(
        torvyn_harness::pipeline::pipelines_dir().join("counter-sink.yaml"),
    )
    .unwrap();
    let (t, recorded) = run_pipeline_recorded(
        BackendKind::Mock,
        &p,
        &settings(),
        RecordTo::Dir(dir.path().to_path_buf()),
        RecordOptions::default(),
    )
    .unwrap();
    assert_eq!(recorded.len(), p.stage_names().len());
    for r in &recorded {
        let path = r.path.clone().unwrap();
        assert_eq!(path, dir.path().join(format!("{}.jsonl", r.id)));
        let rec = Recording::read(&path).unwrap();
        let calls = t.stage_entries(&r.id).count();
        assert_eq!(rec.calls.len(), calls, "stage {}", r.id);
    }
}

/// A mock model that reads the outside world as the `stamp` fixture does:
/// the payload, then the wall clock, the monotonic clock and 4 random
/// bytes; `wall_reads` times the wall clock (the last one stamped).
fn mock_stamp(name: &str, wall_reads: usize) -> torvyn_engine::mock::MockComponent {
    use torvyn_engine::mock::MockBuilder;
    use torvyn_engine::{ElementMeta, ProcessResult, Role};
    MockBuilder::new(name)
        .roles([Role::Processor])
        .on_process(move |ctx, el| {
            let mut out = ctx.read_payload()?;
            let mut wall = std::time::Duration::ZERO;
            for _ in 0..wall_reads {
                wall = ctx.wall_clock_now();
            }
            out.extend_from_slice(&wall.as_nanos().to_le_bytes());
            out.extend_from_slice(&ctx.monotonic_clock_now().to_le_bytes());
            let mut random = [0u8; 4];
            ctx.fill_random(&mut random);
            out.extend_from_slice(&random);
            out.extend_from_slice(&ctx.random_u64().to_le_bytes());
            let meta = ElementMeta {
                content_type: "application/octet-stream".into(),
                ..el.meta.clone()
            };
            Ok(ProcessResult::Emit(ctx.emit_bytes(
                meta,
                &out,
                "application/octet-stream",
            )?))
        })
        .build()
}

/// A mock backend as a production host has one: the system clock, the
/// OS's randomness, with [`mock_stamp`] models registered.
fn production_mock() -> MockBackend {
    use torvyn_engine::mock::{MockEngine, MockEngineConfig};
    let engine = MockEngine::with_clock(
        MockEngineConfig {
            random: torvyn_engine::RandomSource::System,
            ..MockEngineConfig::default()
        },
        torvyn_engine::Clock::system(),
    )
    .unwrap();
    engine.register(mock_stamp("mock-stamp", 1));
    engine.register(mock_stamp("mock-stamp-twice", 2));
    MockBackend::from_engine(engine)
}

#[test]
fn a_mock_model_reading_the_clock_and_random_replays_exactly_and_a_changed_one_diverges() {
    let recorder = RecordingBackend::wrap(production_mock(), RecordTo::Memory, Default::default());
    let s = words_scenario("mock-stamp", BackendKind::Mock);
    run_scenario_on(&recorder, &s).unwrap();
    let r = Recording::parse(&recorder.recordings()[0].bytes().unwrap()).unwrap();
    let world = r.header.world.clone().unwrap();
    assert_eq!((world.clock.as_deref(), world.seed), (Some("system"), None));
    let process: Vec<_> = r
        .calls
        .iter()
        .filter(|c| c.function == Function::Process)
        .collect();
    assert_eq!(process.len(), WORDS.len());
    for c in &process {
        let kinds: Vec<_> = c.reads.iter().map(|r| r.interface().key()).collect();
        assert_eq!(kinds, ["wall", "mono", "random", "random_u64"], "{c:?}");
    }

    // Replayed on a mock with the virtual clock and seed 0: the recorded
    // values come back, every answer is the recorded one.
    let replayer = || {
        let b = MockBackend::new(&EngineSettings::deterministic(0)).unwrap();
        b.mock().register(mock_stamp("mock-stamp", 1));
        b.mock().register(mock_stamp("mock-stamp-twice", 2));
        b
    };
    let report = replay_on(&replayer(), &r, &fixture("mock-stamp"), "mock-stamp", None).unwrap();
    assert!(report.matches(), "{}", report.render_text());

    let report = replay_on(
        &replayer(),
        &r,
        &fixture("mock-stamp-twice"),
        "mock-stamp-twice",
        None,
    )
    .unwrap();
    let w = report.world_divergence().cloned().unwrap();
    let first = process[0].index;
    assert_eq!(w.index, first);
    assert_eq!(
        w.message,
        format!(
            "call {first}: the guest read `wasi:clocks/wall-clock.now` twice; the recording has \
             one read"
        )
    );
    assert!(!report.matches());
}

#[test]
fn a_version_2_recording_reads_and_replays_with_live_values() {
    let bytes = recorded_bytes("passthrough", RecordOptions::default());
    let v3 = Recording::parse(&bytes).unwrap();
    assert_eq!(v3.header.version, 3);
    assert!(v3.header.world.is_some());
    let v2 = edited(&bytes, |i, line| {
        if i != 0 {
            return line.to_string();
        }
        // A version 2 header: no `world`.
        let line = line.replacen("\"version\":3", "\"version\":2", 1);
        let at = line.find(",\"world\":").unwrap();
        let end = at + line[at..].find('}').unwrap() + 1;
        format!("{}{}", &line[..at], &line[end..])
    });
    let old = Recording::parse(&v2).unwrap();
    assert_eq!(old.header.version, 2);
    assert_eq!(old.header.world, None);
    assert_eq!(old.calls, v3.calls);
    let report = replay_on(
        &MockBackend::new(&settings()).unwrap(),
        &old,
        &fixture("passthrough"),
        "passthrough",
        None,
    )
    .unwrap();
    assert!(report.matches(), "{}", report.render_text());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("a version 2 recording")),
        "{:?}",
        report.notes
    );
}

#[test]
fn reads_are_written_as_documented_and_a_bad_one_is_refused() {
    let recorder = RecordingBackend::wrap(production_mock(), RecordTo::Memory, Default::default());
    run_scenario_on(&recorder, &words_scenario("mock-stamp", BackendKind::Mock)).unwrap();
    let bytes = recorder.recordings()[0].bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let line = text.lines().find(|l| l.contains("\"w\":")).unwrap();
    // `"w":[{"wall":[S,N]},{"mono":N},{"random":"8 hex"},{"random_u64":N}]`
    let w = &line[line.find("\"w\":[").unwrap()..];
    assert!(w.starts_with("\"w\":[{\"wall\":["), "{w}");
    assert!(w.contains("]},{\"mono\":"), "{w}");
    assert!(w.contains("},{\"random\":\""), "{w}");
    assert!(w.contains("\"},{\"random_u64\":"), "{w}");

    let target = text.lines().position(|l| l.contains("\"w\":")).unwrap();
    for (edit, problem) in [
        ("{\"mono\":", "{\"moon\":"),
        ("{\"random\":\"", "{\"random\":\"zz"),
    ] {
        let bad = edited(&bytes, |i, l| {
            if i == target {
                l.replacen(edit, problem, 1)
            } else {
                l.to_string()
            }
        });
        let e = Recording::parse(&bad).unwrap_err();
        assert!(
            matches!(e, RecordingError::Corrupt { line, .. } if line == target + 1),
            "{e:?}"
        );
        assert!(e.to_string().contains("of `w`"), "{e}");
    }
}

mod reader;
use reader::*;
#[cfg(feature = "wasmtime-backend")]
mod wasmtime;
