//! The reader: CRC-sealed lines, edits, truncations and random bytes.

use super::*;

/// CRC-32 (IEEE), as the recorder writes it, to re-seal an edited line.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
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
pub(super) fn sealed(line: &str) -> String {
    let body = line.split(",\"crc\":").next().unwrap();
    format!("{body},\"crc\":\"{:08x}\"}}", crc32(body.as_bytes()))
}

/// Every line of `bytes` passed through `edit`, and sealed again.
pub(super) fn edited(bytes: &[u8], edit: impl Fn(usize, &str) -> String) -> Vec<u8> {
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
pub(super) fn payload_as_input(bytes: &[u8], target: usize, after: &str, opening: &str) -> Vec<u8> {
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
pub(super) fn recorded_bytes(component: &str, options: RecordOptions) -> Vec<u8> {
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
pub(super) fn valid_bytes() -> Vec<u8> {
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
pub(super) struct Rng(u64);

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
