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
use torvyn_harness::backend::{BackendKind, EngineSettings, MockBackend, SimBackend};
#[cfg(feature = "wasmtime-backend")]
use torvyn_harness::record::replay;
use torvyn_harness::record::{
    RecordTo, RecordingBackend, ReplayOptions, replay_on, replay_on_with, run_pipeline_recorded,
    run_scenario_recorded, to_scenario,
};
use torvyn_harness::runner::run_scenario_on;
use torvyn_harness::scenario::{ComponentSource, InputElement, Scenario};

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

/// CRC-32 (IEEE), as the recorder writes it, to re-seal an edited line.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `line` (without its checksum) with a valid checksum.
fn sealed(line: &str) -> String {
    let body = line.split(",\"crc\":").next().unwrap();
    format!("{body},\"crc\":\"{:08x}\"}}", crc32(body.as_bytes()))
}

/// Every line of `bytes` passed through `edit`, and sealed again.
fn edited(bytes: &[u8], edit: impl Fn(usize, &str) -> String) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(&sealed(&edit(i, line)));
        out.push('\n');
    }
    out.into_bytes()
}

/// `bytes` with line `target`'s first payload object that opens with
/// `opening` after the text `after` replaced by `{"in": true}`, resealed.
fn payload_as_input(bytes: &[u8], target: usize, after: &str, opening: &str) -> Vec<u8> {
    edited(bytes, |i, line| {
        if i != target {
            return line.to_string();
        }
        let from = line.find(after).unwrap();
        let at = from + line[from..].find(opening).unwrap();
        let end = at + line[at..].find('}').unwrap() + 1;
        format!("{}{{\"in\":true}}{}", &line[..at], &line[end..])
    })
}

#[test]
fn an_output_equal_to_its_input_is_stored_once_and_reads_back_whole() {
    // uppercase leaves "123", "4 5" and "" as they are: written `{"in":
    // true}`; "ab1" and "Zz" change: written in full.
    let bytes = valid_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(text.matches("{\"in\":true}").count(), 3, "{text}");
    let r = Recording::parse(&bytes).unwrap();
    let mut same = 0;
    for c in r.calls.iter().filter(|c| c.function == Function::Process) {
        let input = c.input.as_ref().unwrap().payload.bytes().unwrap();
        let torvyn_engine::Outcome::Answer(torvyn_engine::Answer::Emit(o)) = &c.outcome else {
            panic!("uppercase emits: {c:?}");
        };
        let output = o.payload.bytes().unwrap();
        assert_eq!(output, &input.to_ascii_uppercase());
        same += usize::from(output == input);
    }
    assert_eq!(same, 3);

    // A version 1 recording (no `{"in": true}`: every payload in full)
    // still reads, and reads as the same calls.
    let v1 = edited(&bytes, |i, line| {
        let line = if i == 0 {
            line.replacen(
                &format!("\"version\":{}", torvyn_engine::record::FORMAT_VERSION),
                "\"version\":1",
                1,
            )
        } else {
            line.to_string()
        };
        // The input's base64 stands in for `{"in": true}`.
        match line.find("\"payload\":{\"b64\":\"") {
            Some(at) if line.contains("{\"in\":true}") => {
                let b64 = &line[at + 18..];
                let b64 = &b64[..b64.find('"').unwrap()];
                line.replace("{\"in\":true}", &format!("{{\"b64\":\"{b64}\"}}"))
            }
            _ => line,
        }
    });
    let old = Recording::parse(&v1).unwrap();
    assert_eq!(old.header.version, 1);
    assert_eq!(old.calls, r.calls);
    assert!(!std::str::from_utf8(&v1).unwrap().contains("\"in\":true"));

    // `{"in": true}` where there is no stored input payload to take.
    let digest_bytes = recorded_bytes(
        "passthrough",
        RecordOptions {
            payloads: PayloadMode::Digest,
            ..RecordOptions::default()
        },
    );
    let digest_text = std::str::from_utf8(&digest_bytes).unwrap();
    assert!(
        !digest_text.contains("\"in\":true"),
        "digests are not shared"
    );
    let target = digest_text
        .lines()
        .position(|l| l.contains("\"emit\""))
        .unwrap();
    let bad = payload_as_input(&digest_bytes, target, "\"out\"", "{\"len\"");
    let e = Recording::parse(&bad).unwrap_err();
    assert!(
        matches!(e, RecordingError::Corrupt { line, .. } if line == target + 1),
        "{e:?}"
    );
    assert!(e.to_string().contains("no stored input payload"), "{e}");

    // An input cannot be `{"in": true}`.
    let bad = payload_as_input(&bytes, 1, "\"in\"", "{\"b64\"");
    let e = Recording::parse(&bad).unwrap_err();
    assert!(
        e.to_string().contains("not written as the header says"),
        "{e}"
    );
}

/// The bytes of a recording of `component` over WORDS, on the mock.
fn recorded_bytes(component: &str, options: RecordOptions) -> Vec<u8> {
    let s = words_scenario(component, BackendKind::Mock);
    let (_, recorded) = run_scenario_recorded(
        BackendKind::Mock,
        &s,
        &settings(),
        RecordTo::Memory,
        options,
    )
    .unwrap();
    recorded[0].bytes().unwrap()
}

/// A valid recording's bytes (uppercase over WORDS, on the mock).
fn valid_bytes() -> Vec<u8> {
    recorded_bytes("uppercase", RecordOptions::default())
}

#[test]
fn truncated_edited_and_foreign_recordings_are_refused_with_what_to_do() {
    let bytes = valid_bytes();
    let lines = bytes.iter().filter(|b| **b == b'\n').count();

    // Cut mid-line: truncated, the line named.
    let cut = &bytes[..bytes.len() - 5];
    let e = Recording::parse(cut).unwrap_err();
    assert_eq!(e, RecordingError::Truncated { line: lines });
    assert!(e.to_string().contains("cut short"), "{e}");

    // Cut at a line: no end line.
    let last_line_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let e = Recording::parse(&bytes[..last_line_start]).unwrap_err();
    assert!(matches!(e, RecordingError::Incomplete { .. }), "{e}");
    assert!(e.to_string().contains("--allow-incomplete"), "{e}");
    let r = Recording::parse_with(
        &bytes[..last_line_start],
        ReadOptions {
            allow_incomplete: true,
        },
    )
    .unwrap();
    assert!(r.end.is_none());

    // One payload byte edited: the line's checksum fails.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let edited = text.replacen("\"process\"", "\"procesz\"", 1);
    let line = text[..text.find("\"process\"").unwrap()].lines().count();
    let e = Recording::parse(edited.as_bytes()).unwrap_err();
    assert_eq!(e, RecordingError::Checksum { line });
    assert!(e.to_string().contains("edited"), "{e}");

    // A line removed: the order of calls says so.
    let mut ls: Vec<&str> = text.lines().collect();
    ls.remove(2);
    let e = Recording::parse(format!("{}\n", ls.join("\n")).as_bytes()).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");

    // Not a recording, a newer format, nothing.
    assert!(matches!(
        Recording::parse(b"{\"name\": \"x\"}\n").unwrap_err(),
        RecordingError::NotARecording { .. }
    ));
    let newer = text.replacen(
        &format!("\"version\":{}", torvyn_engine::record::FORMAT_VERSION),
        "\"version\":9",
        1,
    );
    assert!(matches!(
        Recording::parse(newer.as_bytes()).unwrap_err(),
        RecordingError::UnsupportedVersion { found: 9, .. }
    ));
    assert_eq!(Recording::parse(b"").unwrap_err(), RecordingError::Empty);
}

/// xorshift64*: the edits below, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn the_reader_never_panics_on_truncations_edits_or_random_bytes() {
    let bytes = valid_bytes();
    assert!(Recording::parse(&bytes).is_ok());
    // Every truncation is refused.
    for len in 0..bytes.len() {
        assert!(
            Recording::parse(&bytes[..len]).is_err(),
            "a recording cut at {len} of {} is refused",
            bytes.len()
        );
        let _ = Recording::parse_with(
            &bytes[..len],
            ReadOptions {
                allow_incomplete: true,
            },
        );
    }
    let seed = torvyn_harness::sim::seed_from_env();
    let mut rng = Rng(seed | 1);
    // Single-byte edits, insertions and deletions: refused or (rarely, a
    // change the checksum cannot see is impossible here) read; never a panic.
    for _ in 0..3000 {
        let mut b = bytes.clone();
        let at = (rng.next() as usize) % b.len();
        match rng.next() % 3 {
            0 => b[at] = rng.next() as u8,
            1 => b.insert(at, rng.next() as u8),
            _ => {
                b.remove(at);
            }
        }
        if b != bytes {
            assert!(
                Recording::parse(&b).is_err(),
                "an edit at byte {at} is noticed (seed {seed})"
            );
        }
    }
    // Random bytes, and random lines after a valid header.
    let header_end = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    for _ in 0..500 {
        let n = (rng.next() % 300) as usize;
        let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        assert!(Recording::parse(&junk).is_err() || junk.is_empty());
        let mut b = bytes[..header_end].to_vec();
        b.extend_from_slice(&junk);
        b.push(b'\n');
        let _ = Recording::parse(&b);
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

#[cfg(feature = "wasmtime-backend")]
mod wasmtime {
    use super::*;
    use assert_cmd::Command;

    #[test]
    fn wasmtime_recordings_replay_on_the_mock_and_mock_recordings_on_wasmtime() {
        for name in ["passthrough", "uppercase"] {
            let on_wasmtime = record(name, BackendKind::Wasmtime, RecordOptions::default());
            assert_eq!(
                on_wasmtime.header.component.backend.as_deref(),
                Some("wasmtime")
            );
            let report = replay(
                &on_wasmtime,
                &fixture(name),
                name,
                BackendKind::Mock,
                &settings(),
                None,
            )
            .unwrap();
            assert!(report.matches(), "{name}: {}", report.render_text());

            let on_mock = record(name, BackendKind::Mock, RecordOptions::default());
            let report = replay(
                &on_mock,
                &fixture(name),
                name,
                BackendKind::Wasmtime,
                &settings(),
                None,
            )
            .unwrap();
            assert!(report.matches(), "{name}: {}", report.render_text());
            assert!(report.fuel.now_total > 0 && report.fuel.recorded_total > 0);
        }
        // A Wasmtime recording of passthrough, replayed on uppercase's model.
        let r = record(
            "passthrough",
            BackendKind::Wasmtime,
            RecordOptions::default(),
        );
        let report = replay(
            &r,
            &fixture("uppercase"),
            "uppercase",
            BackendKind::Mock,
            &settings(),
            None,
        )
        .unwrap();
        assert_eq!(report.divergence().unwrap().index, first_with_letter(&r));
    }

    #[test]
    fn sources_sinks_and_filters_replay_across_backends() {
        for (name, config) in [
            ("counter-source", Some("{\"count\": 3}")),
            ("sink", None),
            ("filter", None),
        ] {
            let s = Scenario {
                config: config.map(str::to_string),
                ..words_scenario(name, BackendKind::Wasmtime)
            };
            let (_, recorded) = run_scenario_recorded(
                BackendKind::Wasmtime,
                &s,
                &settings(),
                RecordTo::Memory,
                RecordOptions::default(),
            )
            .unwrap();
            let r = Recording::parse(&recorded[0].bytes().unwrap()).unwrap();
            assert!(r.calls.len() > 1, "{name}");
            let report = replay(
                &r,
                &fixture(name),
                name,
                BackendKind::Mock,
                &settings(),
                None,
            )
            .unwrap();
            assert!(report.matches(), "{name}: {}", report.render_text());
        }
    }

    fn sim() -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_torvyn-sim"));
        cmd.arg("--no-cache").env_remove("RUST_LOG");
        cmd
    }

    #[test]
    fn the_cli_records_replays_and_exits_0_1_or_3() {
        let dir = tempfile::tempdir().unwrap();
        let words = dir.path().join("words.txt");
        std::fs::write(&words, WORDS.join("\n")).unwrap();
        let rec = dir.path().join("words.jsonl");
        let out = sim()
            .args(["run", "passthrough", "--input"])
            .arg(&words)
            .arg("--record")
            .arg(&rec)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("recorded") && stderr.contains("words.jsonl"),
            "{stderr}"
        );

        let same = sim().arg("replay").arg(&rec).output().unwrap();
        assert_eq!(same.status.code(), Some(0), "{same:?}");
        assert!(String::from_utf8_lossy(&same.stdout).contains("every call matches"));
        let on_mock = sim()
            .arg("replay")
            .arg(&rec)
            .args(["--component", "passthrough", "--backend", "mock"])
            .output()
            .unwrap();
        assert_eq!(on_mock.status.code(), Some(0), "{on_mock:?}");

        let changed = sim()
            .arg("replay")
            .arg(&rec)
            .args(["--component", "uppercase"])
            .output()
            .unwrap();
        assert_eq!(changed.status.code(), Some(1), "{changed:?}");
        let text = String::from_utf8_lossy(&changed.stdout);
        let r = Recording::read(&rec).unwrap();
        assert!(
            text.contains(&format!(
                "first divergence at call {} (process)",
                first_with_letter(&r)
            )),
            "{text}"
        );
        assert!(text.contains("expected  emit \"ab1\""), "{text}");
        assert!(text.contains("actual    emit \"AB1\""), "{text}");

        // Cut short, and edited: exit 3 with the problem named.
        let bytes = std::fs::read(&rec).unwrap();
        let cut = dir.path().join("cut.jsonl");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let out = sim().arg("replay").arg(&cut).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cut.jsonl") && stderr.contains("truncated"),
            "{stderr}"
        );
        let edited = dir.path().join("edited.jsonl");
        let text = String::from_utf8(bytes)
            .unwrap()
            .replacen("\"fuel\":", "\"fuel\":1", 1);
        std::fs::write(&edited, text).unwrap();
        let out = sim().arg("replay").arg(&edited).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("edited"));

        // to-scenario, then check: the recording is a snapshot test.
        let scenario = dir.path().join("words.yaml");
        let out = sim()
            .args(["record", "to-scenario"])
            .arg(&rec)
            .arg("--output")
            .arg(&scenario)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let snap = dir.path().join("words.snap.yaml");
        for extra in [&["--update"][..], &[][..]] {
            let out = sim()
                .arg("check")
                .arg(&scenario)
                .arg("--snapshot")
                .arg(&snap)
                .args(extra)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{out:?}");
        }
        assert!(std::fs::read_to_string(&snap).unwrap().contains("ab1"));
    }

    #[test]
    fn the_cli_records_a_pipeline_per_stage_and_replays_one_stage_changed() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("rec");
        let out = sim()
            .args([
                "pipeline",
                "token-source",
                "uppercase",
                "sink",
                "--max-pulls",
                "4",
            ])
            .arg("--record")
            .arg(&rec)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        for stage in ["token-source", "uppercase", "sink"] {
            assert!(rec.join(format!("{stage}.jsonl")).is_file(), "{stage}");
        }
        let same = sim().arg("replay").arg(&rec).output().unwrap();
        assert_eq!(same.status.code(), Some(0), "{same:?}");
        let changed = sim()
            .arg("replay")
            .arg(&rec)
            .args(["--component", "uppercase=passthrough"])
            .output()
            .unwrap();
        assert_eq!(changed.status.code(), Some(1), "{changed:?}");
        let text = String::from_utf8_lossy(&changed.stdout);
        assert!(
            text.contains("== stage uppercase") && text.contains("diverges"),
            "{text}"
        );
        let bad = sim()
            .arg("replay")
            .arg(&rec)
            .args(["--component", "nope=passthrough"])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    }

    /// `replay --all` and `--max-divergences N` list more divergences than
    /// the first, with the same exit codes.
    #[test]
    fn the_cli_replay_all_lists_every_divergence_with_the_same_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let words = dir.path().join("words.txt");
        std::fs::write(&words, "ab1\n123\ncd\nxy\n").unwrap();
        let rec = dir.path().join("words.jsonl");
        let out = sim()
            .args(["run", "passthrough", "--input"])
            .arg(&words)
            .arg("--record")
            .arg(&rec)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let upper = ["--component", "uppercase"];

        let (code, text) = replay_cli(&rec, &[&upper[..], &["--all"]].concat());
        assert_eq!(code, Some(1), "{text}");
        for at in [
            "first divergence at call 0",
            "divergence at call 2",
            "call 3",
        ] {
            assert!(text.contains(at), "{at}: {text}");
        }
        assert!(!text.contains("at call 1 "), "{text}");
        assert!(text.contains("divergences   3 answers"), "{text}");
        assert!(text.contains("calls equal   2 of 5 (5 replayed)"), "{text}");

        let (code, text) = replay_cli(&rec, &[&upper[..], &["--max-divergences", "2"]].concat());
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("divergence at call 2"), "{text}");
        assert!(!text.contains("call 3"), "{text}");
        assert!(
            text.contains("the replay stopped at divergence 2 (the limit), after 3 of 5 calls"),
            "{text}"
        );

        let (code, text) = replay_cli(&rec, &upper);
        assert_eq!(code, Some(1), "{text}");
        assert!(!text.contains("divergence at call 2"), "{text}");
        assert!(text.contains("--all goes on"), "{text}");

        let (code, text) = replay_cli(&rec, &["--all"]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("every call matches"), "{text}");
        let (code, _) = replay_cli(&rec, &["--all", "--max-divergences", "2"]);
        assert_eq!(code, Some(2));
        let (code, _) = replay_cli(&rec, &["--max-divergences", "0"]);
        assert_eq!(code, Some(2));
    }

    /// A recording names its component's file by its absolute path, so a
    /// replay finds it from another directory; moved along with the
    /// recording, it is found beside it; gone, the error says which
    /// `--component` to pass.
    #[test]
    fn the_cli_replays_a_recording_from_another_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (made, elsewhere) = (dir.path().join("made"), dir.path().join("elsewhere"));
        std::fs::create_dir_all(&made).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::copy(
            torvyn_harness::fixtures::fixture_path("passthrough"),
            made.join("comp.wat"),
        )
        .unwrap();
        std::fs::write(made.join("in.txt"), "ab\ncd\n").unwrap();
        let out = sim()
            .current_dir(&made)
            .args([
                "run",
                "comp.wat",
                "--input",
                "in.txt",
                "--record",
                "rec.jsonl",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let r = Recording::read(made.join("rec.jsonl")).unwrap();
        let source = r.header.component.source.unwrap();
        assert!(std::path::Path::new(&source).is_absolute(), "{source}");

        let replay_from = |cwd: &std::path::Path, rec: &str, args: &[&str]| {
            let out = sim()
                .current_dir(cwd)
                .arg("replay")
                .arg(rec)
                .args(args)
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (code, text, _) = replay_from(&elsewhere, "../made/rec.jsonl", &[]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("every call matches"), "{text}");

        // Moved, component and recording together.
        let moved = dir.path().join("moved");
        std::fs::rename(&made, &moved).unwrap();
        let (code, text, _) = replay_from(&elsewhere, "../moved/rec.jsonl", &[]);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains(
                "is not there; replaying against ../moved/comp.wat, beside the recording"
            ),
            "{text}"
        );

        // Gone: exit 3, naming the flag; with it, the replay runs.
        std::fs::rename(moved.join("comp.wat"), elsewhere.join("build.wat")).unwrap();
        let (code, _, stderr) = replay_from(&elsewhere, "../moved/rec.jsonl", &[]);
        assert_eq!(code, Some(3), "{stderr}");
        assert!(
            stderr.contains(&format!("made of the component {source}")),
            "{stderr}"
        );
        assert!(
            stderr.contains("pass the build to replay against with --component PATH"),
            "{stderr}"
        );
        let (code, text, _) = replay_from(
            &elsewhere,
            "../moved/rec.jsonl",
            &["--component", "build.wat"],
        );
        assert_eq!(code, Some(0), "{text}");
    }

    /// Records `component` with `torvyn-sim run ... --record REC --clock
    /// system --seed 7` over three inputs; the recording's path.
    fn record_system_seed_7(dir: &std::path::Path, component: &str) -> std::path::PathBuf {
        let input = dir.join("in.txt");
        std::fs::write(&input, "alpha\nbeta\ngamma").unwrap();
        let rec = dir.join("stamp.jsonl");
        let out = sim()
            .args(["run", component, "--input"])
            .arg(&input)
            .arg("--record")
            .arg(&rec)
            .args(["--clock", "system", "--seed", "7"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let r = Recording::read(&rec).unwrap();
        let world = r.header.world.unwrap();
        assert_eq!(
            (world.clock.as_deref(), world.seed),
            (Some("system"), Some(7))
        );
        rec
    }

    /// `torvyn-sim replay REC [ARGS]`: the exit code and stdout.
    fn replay_cli(rec: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
        let out = sim().arg("replay").arg(rec).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    #[test]
    fn the_cli_replays_a_stamp_recorded_on_the_system_clock_and_seed_7_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let rec = record_system_seed_7(dir.path(), "stamp");
        let (code, text) = replay_cli(&rec, &[]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("every call matches"), "{text}");

        // A build that reads the wall clock twice: exit 1, call 0 named
        // with the interface.
        let wat = std::fs::read_to_string(torvyn_harness::fixtures::fixture_path("stamp")).unwrap();
        let twice = dir.path().join("stamp-twice.wat");
        std::fs::write(
            &twice,
            wat.replacen(
                "    (call $now (i32.const 0))\n",
                "    (call $now (i32.const 0))\n    (call $now (i32.const 0))\n",
                1,
            ),
        )
        .unwrap();
        let (code, text) = replay_cli(&rec, &["--component", twice.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains(
                "call 0: the guest read `wasi:clocks/wall-clock.now` twice; the recording has \
                 one read"
            ),
            "{text}"
        );
        assert!(!text.contains("reads diverge at call 1"), "{text}");
        // --all: every call's reads, each named.
        let (code, text) = replay_cli(&rec, &["--component", twice.to_str().unwrap(), "--all"]);
        assert_eq!(code, Some(1), "{text}");
        for call in 0..3 {
            assert!(
                text.contains(&format!(
                    "call {call}: the guest read `wasi:clocks/wall-clock.now` twice"
                )),
                "call {call}: {text}"
            );
        }

        // Other stdout only: exit 1, or 0 with --ignore-output.
        let stomp = dir.path().join("stomp.wat");
        std::fs::write(
            &stomp,
            wat.replacen("144) \"stamp \"", "144) \"stomp \"", 1),
        )
        .unwrap();
        let (code, text) = replay_cli(&rec, &["--component", stomp.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains("output diverges at call 0 (process): stdout"),
            "{text}"
        );
        let (code, text) = replay_cli(
            &rec,
            &["--component", stomp.to_str().unwrap(), "--ignore-output"],
        );
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("(ignored: --ignore-output)"), "{text}");
    }

    /// Where `fixtures/guests/build.sh` put the guests
    /// (`$TORVYN_GUESTS`, default `target/guests`).
    fn guest(name: &str) -> Option<std::path::PathBuf> {
        let dir = match std::env::var_os("TORVYN_GUESTS") {
            Some(d) => std::path::PathBuf::from(d),
            None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"),
        };
        let path = dir.join(format!("{name}.wasm"));
        if path.is_file() {
            return Some(path);
        }
        let why = format!(
            "{} is not built: run fixtures/guests/build.sh (needs python3 and the network the \
             first time)",
            path.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        None
    }

    #[test]
    fn the_cli_replays_the_python_stamp_guest_and_names_where_its_changed_build_diverges() {
        let (Some(stamp), Some(changed)) = (guest("py-stamp"), guest("py-stamp-changed")) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let rec = record_system_seed_7(dir.path(), stamp.to_str().unwrap());
        let r = Recording::read(&rec).unwrap();
        let first = r
            .calls
            .iter()
            .find(|c| c.function == Function::Process)
            .unwrap();
        let kinds: Vec<_> = first.reads.iter().map(|r| r.interface()).collect();
        for read in [
            torvyn_engine::WorldInterface::WallClockNow,
            torvyn_engine::WorldInterface::MonotonicClockNow,
            torvyn_engine::WorldInterface::RandomBytes,
        ] {
            assert!(kinds.contains(&read), "{read} not in {kinds:?}");
        }
        let stdout = first.stdout.as_ref().unwrap().bytes().unwrap();
        assert_eq!(&stdout[..], b"stamp: 5 bytes\n");

        let (code, text) = replay_cli(&rec, &[]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("every call matches"), "{text}");

        let (code, text) = replay_cli(&rec, &["--component", changed.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{text}");
        let at = format!("reads diverge at call {} (process)", first.index);
        assert!(text.contains(&at), "{text}");
        assert!(
            text.contains(&format!(
                "call {}: the guest read `wasi:clocks/wall-clock.now`",
                first.index
            )),
            "{text}"
        );
    }
}
