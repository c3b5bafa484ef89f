//! The `recording` fuzz target: the recording reader
//! ([`torvyn_engine::record::Recording::parse`]) and the harness's replay
//! and conversion of what it accepts, on arbitrary bytes and on edits of
//! a valid recording.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use torvyn_engine::record::{ReadOptions, RecordOptions, Recording};

use crate::backend::{EngineSettings, MockBackend};
use crate::fuzz::Verdict;
use crate::record::{RecordTo, RecordingBackend, replay_on, to_scenario};
use crate::scenario::run_scenario_on;
use crate::scenario::{InputElement, Scenario};
use crate::source::ComponentSource;

/// A valid recording: `uppercase`'s model over text, an empty payload and
/// bytes that are not UTF-8.
fn valid() -> &'static [u8] {
    static VALID: OnceLock<Vec<u8>> = OnceLock::new();
    VALID.get_or_init(|| {
        let settings = EngineSettings::deterministic(1);
        let scenario = Scenario {
            inputs: vec![
                InputElement::text("hello"),
                InputElement::text(""),
                InputElement {
                    payload_hex: Some("00ff7f".into()),
                    ..InputElement::default()
                },
            ],
            backend: Some(crate::spec::BackendKind::Mock),
            ..Scenario::new("upper", "uppercase")
        };
        let backend = MockBackend::new(&settings).expect("a mock backend");
        let recording = RecordingBackend::wrap(backend, RecordTo::Memory, RecordOptions::default());
        run_scenario_on(&recording, &scenario).expect("the scenario runs");
        recording.recordings()[0].bytes().expect("memory")
    })
}

/// Edits `bytes` as the fuzzer's data says: cut, overwrite, insert,
/// delete, duplicate or swap lines.
fn edit(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) -> arbitrary::Result<()> {
    for _ in 0..u.int_in_range(1..=4u8)? {
        if bytes.is_empty() {
            break;
        }
        let at = u.choose_index(bytes.len())?;
        match u.int_in_range(0..=5u8)? {
            0 => bytes.truncate(at),
            1 => bytes[at] = u.arbitrary()?,
            2 => {
                let junk: Vec<u8> = u.arbitrary()?;
                bytes.splice(at..at, junk);
            }
            3 => {
                let end = (at + u.int_in_range(1..=64usize)?).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let mut lines: Vec<Vec<u8>> = bytes
                    .split_inclusive(|b| *b == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                let a = u.choose_index(lines.len())?;
                let b = u.choose_index(lines.len())?;
                if u.arbitrary()? {
                    let line = lines[a].clone();
                    lines.insert(b, line);
                } else {
                    lines.swap(a, b);
                }
                *bytes = lines.concat();
            }
        }
    }
    Ok(())
}

/// Reads `data` (or an edit of a valid recording) as a recording: the
/// reader never panics; a strict prefix of a valid recording is always
/// refused; whatever it accepts converts to a scenario and replays on the
/// mock without a panic.
pub fn recording(data: &[u8]) -> Verdict {
    let _case = super::world::case();
    let mut u = Unstructured::new(data);
    let bytes = match u.arbitrary::<bool>() {
        Ok(false) | Err(_) => u.take_rest().to_vec(),
        Ok(true) => {
            let mut b = valid().to_vec();
            if edit(&mut u, &mut b).is_err() {
                return Verdict::Discarded;
            }
            b
        }
    };
    let valid = valid();
    let strict = Recording::parse(&bytes);
    if bytes.len() < valid.len() && valid.starts_with(&bytes) {
        assert!(
            strict.is_err(),
            "a recording cut at {} was accepted",
            bytes.len()
        );
    }
    let lenient = Recording::parse_with(
        &bytes,
        ReadOptions {
            allow_incomplete: true,
        },
    );
    crate::fuzz::observe(|| {
        format!(
            "recording: {} bytes; strict {}, lenient {}",
            bytes.len(),
            verdict(&strict),
            verdict(&lenient)
        )
    });
    for recording in [strict, lenient].into_iter().flatten() {
        let _ = to_scenario(&recording);
        if let Ok(backend) = MockBackend::new(&EngineSettings::deterministic(1)) {
            let source = ComponentSource::Fixture("uppercase".into());
            let replayed = replay_on(&backend, &recording, &source, "uppercase", Some(1_000_000));
            crate::fuzz::observe(|| match &replayed {
                Ok(r) => format!(
                    "replay: {} calls, first divergence {:?}",
                    r.calls,
                    r.divergence().map(|d| d.index)
                ),
                Err(e) => format!("replay: {e}"),
            });
        }
    }
    Verdict::Checked
}

/// A parse result in short, for the observations.
fn verdict<T>(r: &Result<T, torvyn_engine::record::RecordingError>) -> String {
    match r {
        Ok(_) => "accepted".into(),
        Err(e) => format!("refused ({e})"),
    }
}
