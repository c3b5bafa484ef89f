//! Replaying a recording: the recorded inputs, in order, to a component on
//! either backend, each answer compared with the recorded one; the first
//! that differs stops the replay, unless [`ReplayOptions::max_divergences`]
//! lets it go on and list more (`torvyn-sim replay --all`).
//!
//! What the guest reads from the outside world is given back too (format
//! version 3): before each call the instance is scripted with the values
//! the recorded call read ([`ComponentInvoker::script_world`]), so a
//! recording made under the system clock or any seed replays exactly
//! whatever the replaying engine's clock and seed. The reads the guest
//! makes are compared with the recorded ones: the first call that reads
//! differently (more reads of an interface, fewer, another one) is a
//! [`WorldDivergence`], and the replay goes on, each interface's recorded
//! values given back in order and live values once they run out. What the
//! guest writes to stdout and stderr is compared too (an
//! [`OutputDivergence`], which [`ReplayReport::ignore_output`] ignores).
//! Each kind of divergence is listed up to the same limit.

use torvyn_engine::record::{
    CallRecord, Payload, PayloadMode, RecordedOutcome, RecordedOutput, Recording,
};
use torvyn_engine::{
    Answer, CallWorld, ComponentId, ComponentInvoker, Function, Grants, InstanceOptions, Outcome,
    OutputElement, WasmEngine, WorldInterface, WorldRead,
};

use std::path::{Path, PathBuf};

use crate::backend::{EngineSettings, SimBackend, block_on};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// A call whose answer differs from the recording's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// The call's input, described (`seq=3 "hello"`), if it took one.
    pub input: Option<String>,
    /// The recorded answer, described.
    pub expected: String,
    /// The answer now, described.
    pub actual: String,
    /// Where two payloads first differ, when both are outputs.
    pub detail: Option<String>,
}

/// A call whose guest read the outside world differently from the
/// recording (see the module docs): more or fewer reads of an interface,
/// or the same reads in another order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldDivergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// The interface read differently, when one is (not for reads that
    /// only come in another order).
    pub interface: Option<WorldInterface>,
    /// What differs, on one line: `call 0: the guest read
    /// `wasi:clocks/wall-clock.now` twice; the recording has one read`.
    pub message: String,
}

/// A call whose guest wrote other bytes to stdout or stderr than the
/// recording has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDivergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// What the recording has, described.
    pub expected: String,
    /// What the guest wrote now, described.
    pub actual: String,
}

/// Fuel per call, recorded and now, over the calls compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuelFigures {
    /// Median fuel per call in the recording.
    pub recorded_p50: u64,
    /// 99th percentile in the recording.
    pub recorded_p99: u64,
    /// Median fuel per call now.
    pub now_p50: u64,
    /// 99th percentile now.
    pub now_p99: u64,
    /// Total fuel in the recording.
    pub recorded_total: u64,
    /// Total fuel now.
    pub now_total: u64,
}

/// What a replay found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The component replayed against (as named).
    pub component: String,
    /// The backend it ran on.
    pub backend: BackendKind,
    /// The recorded instance's id.
    pub recorded_id: String,
    /// Calls in the recording.
    pub calls: usize,
    /// Calls made (up to and including the last answer divergence the
    /// limit lets the replay list).
    pub replayed: usize,
    /// Calls whose answer was the recorded one.
    pub equal: usize,
    /// The most divergences of each kind listed
    /// ([`ReplayOptions::max_divergences`]).
    pub max_divergences: usize,
    /// The calls whose answer differs, in order, up to the limit (the
    /// replay stops at the last of them when the limit is reached).
    pub divergences: Vec<Divergence>,
    /// The calls that read the outside world differently, in order, up to
    /// the limit (the replay goes on past them).
    pub world_divergences: Vec<WorldDivergence>,
    /// The calls that wrote other stdout or stderr, in order, up to the
    /// limit (the replay goes on past them).
    pub output_divergences: Vec<OutputDivergence>,
    /// Whether an output divergence still lets the replay match
    /// (`torvyn-sim replay --ignore-output`); false unless set.
    pub ignore_output: bool,
    /// Fuel per call, recorded and now.
    pub fuel: FuelFigures,
    /// What the reader should know (a rotated part, another digest...).
    pub notes: Vec<String>,
}

impl ReplayReport {
    /// Whether every call answered as recorded, read the outside world as
    /// recorded, and (unless [`ReplayReport::ignore_output`]) wrote what
    /// was recorded.
    pub fn matches(&self) -> bool {
        self.divergences.is_empty()
            && self.world_divergences.is_empty()
            && (self.ignore_output || self.output_divergences.is_empty())
            && self.equal == self.calls
    }

    /// The first call whose answer differs, if one does.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergences.first()
    }

    /// The first call that read the outside world differently, if one did.
    pub fn world_divergence(&self) -> Option<&WorldDivergence> {
        self.world_divergences.first()
    }

    /// The first call that wrote other stdout or stderr, if one did.
    pub fn output_divergence(&self) -> Option<&OutputDivergence> {
        self.output_divergences.first()
    }

    /// Whether the replay stopped at its last answer divergence, before
    /// the recording's end, because the limit was reached.
    pub fn stopped_early(&self) -> bool {
        self.divergences.len() >= self.max_divergences && self.replayed < self.calls
    }

    /// The report for people: the divergences in call order (reads,
    /// output, then the answer of each call), then the summary.
    pub fn render_text(&self) -> String {
        let mut s = format!(
            "replay of {} ({} calls) against {} on {}\n",
            self.recorded_id,
            self.calls,
            self.component,
            self.backend.name()
        );
        for n in &self.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        // (call index, kind order, text) for every divergence, in call order.
        let mut blocks: Vec<(u64, u8, String)> = Vec::new();
        for (i, w) in self.world_divergences.iter().enumerate() {
            let mut b = format!(
                "\nreads diverge at call {} ({})\n  {}\n",
                w.index, w.function, w.message
            );
            if i == 0 {
                b.push_str(
                    "  the replay went on: each interface's recorded values are given back in \
                     order, live ones once they run out\n",
                );
            }
            blocks.push((w.index, 0, b));
        }
        for o in &self.output_divergences {
            blocks.push((
                o.index,
                1,
                format!(
                    "\noutput diverges at call {} ({}): {}{}\n  expected  {}\n  actual    {}\n",
                    o.index,
                    o.function,
                    o.stream,
                    if self.ignore_output {
                        " (ignored: --ignore-output)"
                    } else {
                        ""
                    },
                    o.expected,
                    o.actual
                ),
            ));
        }
        for (i, d) in self.divergences.iter().enumerate() {
            let mut b = format!(
                "\n{} at call {} ({})\n",
                if i == 0 {
                    "first divergence"
                } else {
                    "divergence"
                },
                d.index,
                d.function
            );
            if let Some(input) = &d.input {
                b.push_str(&format!("  input     {input}\n"));
            }
            b.push_str(&format!("  expected  {}\n", d.expected));
            b.push_str(&format!("  actual    {}\n", d.actual));
            if let Some(detail) = &d.detail {
                b.push_str(&format!("  {detail}\n"));
            }
            blocks.push((d.index, 2, b));
        }
        blocks.sort_by_key(|(index, order, _)| (*index, *order));
        for (_, _, b) in &blocks {
            s.push_str(b);
        }
        if self.stopped_early() {
            s.push_str(&if self.max_divergences == 1 {
                format!(
                    "\nthe replay stopped at the first divergence, after {} of {} calls; --all \
                     goes on and lists every divergence (--max-divergences N the first N)\n",
                    self.replayed, self.calls
                )
            } else {
                format!(
                    "\nthe replay stopped at divergence {} (the limit), after {} of {} calls; \
                     --all goes on to the end\n",
                    self.max_divergences, self.replayed, self.calls
                )
            });
        }
        if self.max_divergences > 1 && !self.matches() {
            s.push_str(&format!(
                "\ndivergences   {} answers, {} reads, {} output{}\n  a call after the first \
                 divergence may differ because an earlier one did (the component's state)\n",
                self.divergences.len(),
                self.world_divergences.len(),
                self.output_divergences.len(),
                if self.ignore_output { " (ignored)" } else { "" }
            ));
        }
        let f = &self.fuel;
        s.push_str(&format!(
            "\ncalls equal   {} of {} ({} replayed)\n\
             fuel/call     recorded p50 {}  p99 {}  (total {})\n\
             \x20             now      p50 {}  p99 {}  (total {})\n",
            self.equal,
            self.calls,
            self.replayed,
            f.recorded_p50,
            f.recorded_p99,
            f.recorded_total,
            f.now_p50,
            f.now_p99,
            f.now_total
        ));
        s.push_str(if self.matches() {
            "result        every call matches\n"
        } else {
            "result        diverges\n"
        });
        s
    }
}

/// Where the component a recording names is, for a replay run from any
/// directory: `named` as recorded (a fixture name, or a path: absolute in
/// recordings made by this harness, relative to where they were made in
/// older ones), else that path under the directory of the recording file
/// `recording`, else its file name beside the recording. The source and,
/// when it was not found where recorded, a note saying where it was;
/// `Err` with every path looked at when none exists.
pub fn locate_component(
    named: &str,
    recording: &Path,
) -> Result<(ComponentSource, Option<String>), Vec<PathBuf>> {
    let as_recorded = ComponentSource::parse(named, None);
    let path = match &as_recorded {
        ComponentSource::Wat(p) | ComponentSource::Wasm(p) => p.clone(),
        _ => return Ok((as_recorded, None)),
    };
    let dir = recording.parent().unwrap_or(Path::new(""));
    let mut candidates = vec![path.clone()];
    if path.is_relative() {
        candidates.push(dir.join(&path));
    }
    if let Some(name) = path.file_name() {
        candidates.push(dir.join(name));
    }
    candidates.dedup();
    let found = candidates.iter().position(|c| c.is_file());
    match found {
        Some(0) => Ok((as_recorded, None)),
        Some(i) => {
            let at = candidates[i].clone();
            let note = format!(
                "the recorded component {named} is not there; replaying against {}, beside the \
                 recording",
                at.display()
            );
            let source = match as_recorded {
                ComponentSource::Wat(_) => ComponentSource::Wat(at),
                _ => ComponentSource::Wasm(at),
            };
            Ok((source, Some(note)))
        }
        None => Err(candidates),
    }
}

/// How a replay runs ([`replay_with`], [`replay_on_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Fuel per call; the engine's default when `None`.
    pub fuel: Option<u64>,
    /// The most divergences of each kind (answers, reads, output) listed:
    /// the replay stops at the answer divergence that reaches it. 1 (the
    /// default) stops at the first; `usize::MAX` replays every call
    /// (`torvyn-sim replay --all`). 0 counts as 1.
    pub max_divergences: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            fuel: None,
            max_divergences: 1,
        }
    }
}

/// Replays `recording` against `source` on a new engine of `backend`,
/// stopping at the first divergence ([`replay_with`] to go on).
pub fn replay(
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    backend: BackendKind,
    settings: &EngineSettings,
    fuel: Option<u64>,
) -> Result<ReplayReport, HarnessError> {
    let options = ReplayOptions {
        fuel,
        ..ReplayOptions::default()
    };
    replay_with(recording, source, label, backend, settings, &options)
}

/// [`replay`] with `options`.
pub fn replay_with(
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    backend: BackendKind,
    settings: &EngineSettings,
    options: &ReplayOptions,
) -> Result<ReplayReport, HarnessError> {
    crate::with_backend!(backend, settings, |b| replay_on_with(
        b, recording, source, label, options
    ))?
}

/// [`replay_on_with`] stopping at the first divergence, with `fuel` per
/// call if given.
pub fn replay_on<B: SimBackend>(
    backend: &B,
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    fuel: Option<u64>,
) -> Result<ReplayReport, HarnessError> {
    let options = ReplayOptions {
        fuel,
        ..ReplayOptions::default()
    };
    replay_on_with(backend, recording, source, label, &options)
}

/// Replays `recording` against `source` (named `label` in messages) on
/// `backend`: instantiates it with the recorded id, grants and insecure
/// seed (and the options' fuel per call, if given), makes every recorded
/// call with the recorded input and the recorded reads of the outside
/// world (see the module docs), and stops at the answer divergence that
/// reaches [`ReplayOptions::max_divergences`]. Outputs are
/// compared by payload, content types and sequence number; guest errors by
/// kind and message; faults by kind (their messages name backend details).
/// Reads and stdout/stderr are compared for a version 3 recording (older
/// ones hold none: their guest reads live values).
pub fn replay_on_with<B: SimBackend>(
    backend: &B,
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    replay_options: &ReplayOptions,
) -> Result<ReplayReport, HarnessError> {
    let max = replay_options.max_divergences.max(1);
    let header = &recording.header;
    if header.payloads == PayloadMode::Digest && recording.calls.iter().any(|c| c.input.is_some()) {
        return Err(HarnessError::InvalidScenario {
            scenario: label.to_string(),
            problem: "the recording keeps digests of its payloads, not the payloads, so its \
                      inputs cannot be fed again; record with payloads stored (the default; \
                      no --digest-payloads) to replay"
                .into(),
        });
    }
    let compiled = backend.compile(source, label)?;
    let id = header.component.id.clone();
    let world = header.world.clone().unwrap_or_default();
    let options = InstanceOptions {
        grants: Grants::new(header.component.grants.iter().cloned()),
        insecure_seed: world.insecure_seed_value(),
        ..InstanceOptions::default()
    };
    let mut inst = backend
        .engine()
        .instantiate_with(&compiled, ComponentId::new(&id), &options)
        .map_err(|source| HarnessError::engine("instantiate", &id, source))?;
    // Recorded reads are compared from version 3 on.
    let compare_world = header.version >= 3;
    if let Some(fuel) = replay_options.fuel {
        backend.set_fuel(&mut inst, fuel, &id)?;
    }
    let mut notes = Vec::new();
    if header.first_call > 0 {
        notes.push(format!(
            "this is part {} of a rotated recording, from call {}: the component's state \
             before that call is not replayed, so early calls may differ",
            header.part, header.first_call
        ));
    }
    if !compare_world {
        notes.push(format!(
            "a version {} recording holds nothing of what the guest read from the outside \
             world: its clocks and random values are live, and its stdout and stderr are not \
             compared",
            header.version
        ));
    }
    if recording.end.is_none() {
        notes.push("the recording has no end line (its writer did not finish)".into());
    } else if recording.end.is_some_and(|e| e.truncated) {
        notes.push("the recording was stopped by its byte cap: later calls are not in it".into());
    }

    let mut report = ReplayReport {
        component: label.to_string(),
        backend: B::KIND,
        recorded_id: id,
        calls: recording.calls.len(),
        replayed: 0,
        equal: 0,
        max_divergences: max,
        divergences: Vec::new(),
        world_divergences: Vec::new(),
        output_divergences: Vec::new(),
        ignore_output: false,
        fuel: FuelFigures::default(),
        notes,
    };
    let (mut recorded_fuel, mut now_fuel) = (Vec::new(), Vec::new());
    for call in &recording.calls {
        if compare_world {
            inst.script_world(&call.reads);
        }
        let (actual, fuel_now) = make_call(&mut inst, call);
        if compare_world {
            let world = inst.take_world();
            if report.world_divergences.len() < max {
                report
                    .world_divergences
                    .extend(read_divergence(call, &world.reads));
            }
            if report.output_divergences.len() < max {
                report
                    .output_divergences
                    .extend(output_divergence(call, &world));
            }
        }
        report.replayed += 1;
        recorded_fuel.push(call.metrics.fuel);
        now_fuel.push(fuel_now);
        if same(&call.outcome, &actual) {
            report.equal += 1;
            continue;
        }
        report.divergences.push(Divergence {
            index: call.index,
            function: call.function,
            input: call
                .input
                .as_ref()
                .map(|i| format!("seq={} {}", i.sequence, describe_payload(&i.payload))),
            expected: describe_outcome(&call.outcome),
            actual: describe_outcome(&actual),
            detail: first_difference(&call.outcome, &actual),
        });
        if report.divergences.len() >= max {
            break;
        }
    }
    report.fuel = FuelFigures {
        recorded_p50: percentile(&recorded_fuel, 50),
        recorded_p99: percentile(&recorded_fuel, 99),
        now_p50: percentile(&now_fuel, 50),
        now_p99: percentile(&now_fuel, 99),
        recorded_total: recorded_fuel.iter().sum(),
        now_total: now_fuel.iter().sum(),
    };
    Ok(report)
}

/// The reads of a call with the runs of random bytes that follow each
/// other joined (the tap logs bytes as the generator hands them out, so
/// how one run splits into calls is not kept): `(interface, bytes)`, the
/// bytes 0 but for the bytes interfaces.
fn read_shape(reads: &[WorldRead]) -> Vec<(WorldInterface, usize)> {
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
fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// `no read`, `one read`, `2 reads`.
fn reads(n: usize) -> String {
    match n {
        0 => "no read".into(),
        1 => "one read".into(),
        n => format!("{n} reads"),
    }
}

/// How the reads `actual` of `call` differ from its recorded ones, if they
/// do: the first interface read more or less often than recorded, else
/// the first read in another place or with another number of bytes.
fn read_divergence(call: &CallRecord, actual: &[WorldRead]) -> Option<WorldDivergence> {
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
fn output_divergence(call: &CallRecord, world: &CallWorld) -> Option<OutputDivergence> {
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
fn percentile(values: &[u64], p: usize) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank.min(v.len()) - 1]
}

fn output(o: &OutputElement) -> RecordedOutput {
    RecordedOutput {
        sequence: o.meta.sequence,
        timestamp_ns: o.meta.timestamp_ns,
        content_type: o.meta.content_type.to_string(),
        buffer_content_type: o.buffer_content_type.to_string(),
        payload: Payload::Stored(o.payload.clone()),
    }
}

/// Makes the recorded call again: what it answered now, and its fuel.
fn make_call<I: ComponentInvoker + Send>(
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

fn same_output(expected: &RecordedOutput, actual: &RecordedOutput) -> bool {
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
fn same(expected: &RecordedOutcome, actual: &RecordedOutcome) -> bool {
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

fn describe_bytes(b: &[u8]) -> String {
    let shown = &b[..b.len().min(PREVIEW)];
    let more = if b.len() > PREVIEW { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(text) => format!("{text:?}{more}"),
        Err(_) => format!("hex {}{more}", torvyn_engine::record::hex(shown)),
    }
}

fn describe_payload(p: &Payload) -> String {
    match p {
        Payload::Stored(b) => format!("{} ({} bytes)", describe_bytes(b), b.len()),
        Payload::Digest { len, sha256 } => format!(
            "sha256 {}… ({len} bytes)",
            &torvyn_engine::record::hex(sha256)[..16]
        ),
    }
}

fn describe_output(o: &RecordedOutput) -> String {
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
fn first_difference(expected: &RecordedOutcome, actual: &RecordedOutcome) -> Option<String> {
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
