//! How a replayed call is compared with its record: outcomes, outputs, and
//! the reads of the outside world.

use torvyn_engine::record::{CallRecord, Payload, RecordedOutcome, RecordedOutput};
use torvyn_engine::{
    Answer, CallWorld, ComponentInvoker, Outcome, OutputElement, WorldInterface, WorldRead,
};

use super::report::{OutputDivergence, WorldDivergence};
use crate::backend::block_on;

/// The reads of a call with the runs of random bytes that follow each
/// other joined (the tap logs bytes as the generator hands them out, so
/// how one run splits into calls is not kept): `(interface, bytes)`, the
/// bytes 0 but for the bytes interfaces.
pub(super) fn read_shape(reads: &[WorldRead]) -> Vec<(WorldInterface, usize)> {
    let mut shape: Vec<(WorldInterface, usize)> = Vec::with_capacity(reads.len());
    for r in reads {
        let (interface, len) = match r {
            WorldRead::RandomBytes(b) | WorldRead::InsecureRandomBytes(b) => {
                (r.interface(), b.len())
            }
            _ => (r.interface(), 0),
        };
        match shape.last_mut() {
            Some((last, n)) if *last == interface && len > 0 => *n += len,
            _ => shape.push((interface, len)),
        }
    }
    shape
}

/// `once`, `twice`, `3 times`.
pub(super) fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// `no read`, `one read`, `2 reads`.
pub(super) fn reads(n: usize) -> String {
    match n {
        0 => "no read".into(),
        1 => "one read".into(),
        n => format!("{n} reads"),
    }
}

/// How the reads `actual` of `call` differ from its recorded ones, if they
/// do: the first interface read more or less often than recorded, else
/// the first read in another place or with another number of bytes.
pub(super) fn read_divergence(call: &CallRecord, actual: &[WorldRead]) -> Option<WorldDivergence> {
    let (want, got) = (read_shape(&call.reads), read_shape(actual));
    let at = (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i))?;
    let count = |shape: &[(WorldInterface, usize)], i: WorldInterface| {
        shape.iter().filter(|(x, _)| *x == i).count()
    };
    let prefix = format!("call {}", call.index);
    // The interface at the first difference whose count differs.
    let counted = [got.get(at), want.get(at)]
        .into_iter()
        .flatten()
        .map(|(i, _)| *i)
        .find(|i| count(&want, *i) != count(&got, *i));
    let (interface, message) = match (counted, got.get(at), want.get(at)) {
        (Some(i), _, _) => {
            let n = count(&got, i);
            (
                Some(i),
                format!(
                    "{prefix}: the guest read `{i}` {}; the recording has {}",
                    if n == 0 { "never".into() } else { times(n) },
                    reads(count(&want, i))
                ),
            )
        }
        (None, Some((g, gn)), Some((w, wn))) if g == w => (
            Some(*g),
            format!(
                "{prefix}: read {at} of the guest (`{g}`) is {gn} bytes; the recording has {wn}"
            ),
        ),
        (None, Some((g, _)), Some((w, _))) => (
            None,
            format!("{prefix}: read {at} of the guest is `{g}`; the recording has `{w}` there"),
        ),
        // A read on one side only changes a count, handled above.
        (None, _, _) => (
            None,
            format!("{prefix}: the guest's reads differ at read {at}"),
        ),
    };
    Some(WorldDivergence {
        index: call.index,
        function: call.function,
        interface,
        message,
    })
}

/// How what the guest wrote to stdout or stderr in `call` differs from the
/// recording, if it does.
pub(super) fn output_divergence(call: &CallRecord, world: &CallWorld) -> Option<OutputDivergence> {
    [
        ("stdout", &call.stdout, &world.stdout),
        ("stderr", &call.stderr, &world.stderr),
    ]
    .into_iter()
    .find_map(|(stream, recorded, actual)| {
        let same = match recorded {
            Some(p) => p.matches(actual),
            None => actual.is_empty(),
        };
        (!same).then(|| OutputDivergence {
            index: call.index,
            function: call.function,
            stream,
            expected: match recorded {
                Some(p) => describe_payload(p),
                None => "nothing".into(),
            },
            actual: if actual.is_empty() {
                "nothing".into()
            } else {
                format!("{} ({} bytes)", describe_bytes(actual), actual.len())
            },
        })
    })
}

/// The nearest-rank percentile `p` of `values` (0 when empty).
pub(super) fn percentile(values: &[u64], p: usize) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank.min(v.len()) - 1]
}

pub(super) fn output(o: &OutputElement) -> RecordedOutput {
    RecordedOutput {
        sequence: o.meta.sequence,
        timestamp_ns: o.meta.timestamp_ns,
        content_type: o.meta.content_type.to_string(),
        buffer_content_type: o.buffer_content_type.to_string(),
        payload: Payload::Stored(o.payload.clone()),
    }
}

/// Makes the recorded call again: what it answered now, and its fuel.
pub(super) fn make_call<I: ComponentInvoker + Send>(
    inst: &mut I,
    call: &CallRecord,
) -> (RecordedOutcome, u64) {
    // Stored payloads are checked before the replay starts; the reader
    // accepts only the functions of `Function::CALLS`.
    let Some(c) = call.to_call() else {
        return (Outcome::Answer(Answer::Done), 0);
    };
    let inv = block_on(inst.call(c));
    let outcome = Outcome::of(inv.outcome).map_outputs(|o| output(&o));
    (outcome, inv.metrics.fuel_consumed)
}

pub(super) fn same_output(expected: &RecordedOutput, actual: &RecordedOutput) -> bool {
    let payload = match &actual.payload {
        Payload::Stored(b) => expected.payload.matches(b),
        other => expected.payload == *other,
    };
    payload
        && expected.content_type == actual.content_type
        && expected.buffer_content_type == actual.buffer_content_type
        && expected.sequence == actual.sequence
}

/// Whether `actual` is the answer `expected` recorded.
pub(super) fn same(expected: &RecordedOutcome, actual: &RecordedOutcome) -> bool {
    use {Answer as A, Outcome as O};
    match (expected, actual) {
        (O::Answer(A::Emit(e)), O::Answer(A::Emit(a))) => same_output(e, a),
        (O::Answer(A::Flushed(e)), O::Answer(A::Flushed(a))) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| same_output(e, a))
        }
        (O::Fault { kind: e, .. }, O::Fault { kind: a, .. }) => e == a,
        (e, a) => e == a,
    }
}

/// At most this many payload bytes are shown.
const PREVIEW: usize = 64;

pub(super) fn describe_bytes(b: &[u8]) -> String {
    let shown = &b[..b.len().min(PREVIEW)];
    let more = if b.len() > PREVIEW { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(text) => format!("{text:?}{more}"),
        Err(_) => format!("hex {}{more}", torvyn_engine::record::hex(shown)),
    }
}

pub(super) fn describe_payload(p: &Payload) -> String {
    match p {
        Payload::Stored(b) => format!("{} ({} bytes)", describe_bytes(b), b.len()),
        Payload::Digest { len, sha256 } => format!(
            "sha256 {}… ({len} bytes)",
            &torvyn_engine::record::hex(sha256)[..16]
        ),
    }
}

pub(super) fn describe_output(o: &RecordedOutput) -> String {
    let mut s = format!("{} {}", describe_payload(&o.payload), o.content_type);
    if !o.buffer_content_type.is_empty() && o.buffer_content_type != o.content_type {
        s.push_str(&format!(" (buffer {})", o.buffer_content_type));
    }
    s.push_str(&format!(" seq={}", o.sequence));
    s
}

/// An outcome on one line: `emit "HELLO" (5 bytes) text/plain seq=0`,
/// `drop`, `error invalid-input: ...`, `fault fuel-exhausted: ...`.
pub fn describe_outcome(o: &RecordedOutcome) -> String {
    match o {
        Outcome::Answer(a) => match a {
            Answer::Done => "ok".into(),
            Answer::Drop => "drop".into(),
            Answer::Nothing => "none".into(),
            Answer::Emit(out) => format!("emit {}", describe_output(out)),
            Answer::Signal(s) => format!("signal {s}"),
            Answer::Verdict(p) => if *p { "pass" } else { "reject" }.into(),
            Answer::Ports(p) => format!("ports [{}]", p.join(", ")),
            Answer::Flushed(outs) => format!(
                "flushed [{}]",
                outs.iter()
                    .map(describe_output)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        },
        Outcome::Error { kind, message } => match message {
            Some(m) => format!("error {kind}: {m}"),
            None => format!("error {kind}"),
        },
        Outcome::Fault { kind, message } => {
            let first = message.lines().next().unwrap_or("");
            format!("fault {kind}: {first}")
        }
    }
}

/// Where two emitted payloads first differ.
pub(super) fn first_difference(
    expected: &RecordedOutcome,
    actual: &RecordedOutcome,
) -> Option<String> {
    let (Outcome::Answer(Answer::Emit(e)), Outcome::Answer(Answer::Emit(a))) = (expected, actual)
    else {
        return None;
    };
    let (Payload::Stored(e), Payload::Stored(a)) = (&e.payload, &a.payload) else {
        return None;
    };
    let at = e.iter().zip(a.iter()).position(|(x, y)| x != y);
    match at {
        Some(i) => Some(format!(
            "payloads differ first at byte {i}: expected 0x{:02x}, actual 0x{:02x}",
            e[i], a[i]
        )),
        None if e.len() != a.len() => Some(format!(
            "payloads agree on their first {} bytes; expected {} bytes, actual {}",
            e.len().min(a.len()),
            e.len(),
            a.len()
        )),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_engine::Function;

    fn emit(content_type: &str, buffer_content_type: &str) -> RecordedOutcome {
        Outcome::Answer(Answer::Emit(RecordedOutput {
            sequence: 3,
            timestamp_ns: 0,
            content_type: content_type.into(),
            buffer_content_type: buffer_content_type.into(),
            payload: Payload::Stored("hi".into()),
        }))
    }

    #[test]
    fn a_buffer_content_type_is_shown_only_when_there_is_one_that_differs() {
        assert_eq!(
            describe_outcome(&emit("text/plain", "")),
            "emit \"hi\" (2 bytes) text/plain seq=3"
        );
        assert_eq!(
            describe_outcome(&emit("text/plain", "text/plain")),
            "emit \"hi\" (2 bytes) text/plain seq=3"
        );
        assert_eq!(
            describe_outcome(&emit("text/plain", "application/json")),
            "emit \"hi\" (2 bytes) text/plain (buffer application/json) seq=3"
        );
    }

    fn call(reads: Vec<WorldRead>) -> CallRecord {
        CallRecord {
            index: 4,
            function: Function::Process,
            argument: None,
            input: None,
            outcome: Outcome::Answer(Answer::Drop),
            metrics: Default::default(),
            reads,
            stdout: None,
            stderr: None,
        }
    }

    #[test]
    fn reads_diverge_by_count_by_bytes_and_by_place() {
        use std::time::Duration;
        let wall = || WorldRead::WallClockNow(Duration::from_secs(1));
        let mono = || WorldRead::MonotonicClockNow(5);
        let bytes = |b: &[u8]| WorldRead::RandomBytes(b.to_vec());
        let recorded = call(vec![wall(), bytes(&[1, 2]), mono()]);
        // The same reads, the random bytes split in two runs: no divergence.
        assert_eq!(
            read_divergence(&recorded, &[wall(), bytes(&[1]), bytes(&[2]), mono()]),
            None
        );
        let more = read_divergence(&recorded, &[wall(), wall(), bytes(&[1, 2]), mono()]).unwrap();
        assert_eq!(
            more.message,
            "call 4: the guest read `wasi:clocks/wall-clock.now` twice; the recording has one read"
        );
        let fewer = read_divergence(&recorded, &[wall(), bytes(&[1, 2])]).unwrap();
        assert_eq!(fewer.interface, Some(WorldInterface::MonotonicClockNow));
        assert!(
            fewer.message.contains("never; the recording has one read"),
            "{fewer:?}"
        );
        let longer = read_divergence(&recorded, &[wall(), bytes(&[1, 2, 3]), mono()]).unwrap();
        assert_eq!(
            longer.message,
            "call 4: read 1 of the guest (`wasi:random/random.get-random-bytes`) is 3 bytes; \
             the recording has 2"
        );
        let swapped = read_divergence(&recorded, &[wall(), mono(), bytes(&[1, 2])]).unwrap();
        assert_eq!(swapped.interface, None);
        assert_eq!(
            swapped.message,
            "call 4: read 1 of the guest is `wasi:clocks/monotonic-clock.now`; the recording \
             has `wasi:random/random.get-random-bytes` there"
        );
    }
}
