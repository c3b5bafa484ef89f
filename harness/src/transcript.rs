//! Transcripts: the record of a simulated run, one [`Entry`] per call, and a
//! [`Summary`]. Serializable as YAML and JSON, and printable as text.
//!
//! A transcript under the virtual clock is deterministic for a given seed,
//! Wasmtime version and compiler, except for [`Summary::wall`] (real time
//! spent), which [`Transcript::snapshot_form`] removes. Snapshots and
//! equality checks use that form.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use torvyn_engine::{
    Answer, BackpressureSignal, Function, GuestOutput, InjectedFault, InvocationMetrics,
    InvokeError, OutputElement,
};

use crate::error::HarnessError;
use crate::spec::BackendKind;
use crate::spec::ClockSetting;
use torvyn_engine::CompilationStrategy;

/// Payload bytes shown in a preview by default; the full length is always
/// recorded. A scenario's or pipeline's `preview_bytes` (the CLI's
/// `--preview-bytes N`) changes it for one run, `0` showing every byte.
pub const PREVIEW_BYTES: usize = 64;

/// The record of one scenario run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The scenario's name.
    pub scenario: String,
    /// The component as the scenario named it.
    pub component: String,
    /// The role it was driven in (`processor`, `source`, `sink`).
    pub role: String,
    /// The seed of the run.
    pub seed: u64,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// The compiler (Wasmtime; the mock compiles nothing).
    pub strategy: CompilationStrategy,
    /// The clock.
    pub clock: ClockSetting,
    /// The capabilities granted to the component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// The trace id every element carried.
    pub trace_id: String,
    /// The flow id every element carried.
    pub flow_id: String,
    /// Every call, in order.
    pub entries: Vec<Entry>,
    /// Totals.
    pub summary: Summary,
}

/// The contract function an entry called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Call {
    /// `lifecycle.init`.
    Init,
    /// `processor.process`.
    Process,
    /// `source.pull`.
    Pull,
    /// `sink.push`.
    Push,
    /// `source.notify-backpressure`.
    NotifyBackpressure,
    /// `sink.complete`.
    Complete,
    /// `lifecycle.teardown`.
    Teardown,
    /// `filter.evaluate`.
    Evaluate,
    /// `router.route`.
    Route,
    /// `aggregator.ingest`.
    Ingest,
    /// `aggregator.flush`.
    Flush,
}

impl Call {
    /// The entry's call for a call of the engine.
    pub fn of(call: &torvyn_engine::Call) -> Self {
        use torvyn_engine::Call as C;
        match call {
            C::Init(_) => Self::Init,
            C::Process(_) => Self::Process,
            C::Pull => Self::Pull,
            C::Push(_) => Self::Push,
            C::NotifyBackpressure(_) => Self::NotifyBackpressure,
            C::Complete => Self::Complete,
            C::Teardown => Self::Teardown,
            C::Evaluate(_) => Self::Evaluate,
            C::Route(_) => Self::Route,
            C::Ingest(_) => Self::Ingest,
            C::Flush => Self::Flush,
        }
    }

    /// The contract's name (`notify-backpressure`, ...).
    pub fn name(self) -> &'static str {
        self.function().name()
    }

    /// The engine's function.
    pub fn function(self) -> Function {
        match self {
            Self::Init => Function::Init,
            Self::Process => Function::Process,
            Self::Pull => Function::Pull,
            Self::Push => Function::Push,
            Self::NotifyBackpressure => Function::NotifyBackpressure,
            Self::Complete => Function::Complete,
            Self::Teardown => Function::Teardown,
            Self::Evaluate => Function::Evaluate,
            Self::Route => Function::Route,
            Self::Ingest => Function::Ingest,
            Self::Flush => Function::Flush,
        }
    }

    /// Whether the call carries (or produces) a stream element.
    pub fn is_element_call(self) -> bool {
        matches!(
            self,
            Self::Process | Self::Pull | Self::Push | Self::Evaluate | Self::Route | Self::Ingest
        )
    }
}

/// One call and what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the transcript, from 0.
    pub index: usize,
    /// The pipeline stage called (pipelines only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The function called.
    pub call: Call,
    /// Where the element went next (pipelines only): the stages a filter
    /// passed it to, or a router's ports resolved to stages, each lent the
    /// same buffer (no copy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lent_to: Vec<String>,
    /// The argument of `init` (the config) or `notify-backpressure` (the
    /// signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    /// The element handed to `process` or `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSummary>,
    /// What the call returned.
    pub outcome: Outcome,
    /// Fuel the guest consumed.
    pub fuel: u64,
    /// The engine clock after the call, in ns.
    pub now_ns: u64,
    /// How long the call took on the engine clock, in ns.
    pub duration_ns: u64,
    /// Bytes copied from host buffers into the guest.
    pub bytes_in: u64,
    /// Bytes copied from the guest into host buffers.
    pub bytes_out: u64,
    /// Host buffers the guest allocated.
    pub buffers_allocated: u32,
    /// Calls the guest made into the host.
    pub host_calls: u32,
    /// Host resources the guest left behind, reclaimed by the engine.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub resources_reclaimed: u32,
    /// Host resources the instance held after the call (0 unless leaking).
    pub live_resources: usize,
    /// The guest's linear memory after the call, in bytes.
    pub memory_bytes: u64,
    /// What the guest wrote to stdout during the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<PayloadPreview>,
    /// What the guest wrote to stderr during the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<PayloadPreview>,
    /// For a failed call that wrote to stderr: the lines of it that say
    /// what went wrong, whole, however short the preview
    /// ([`guest_error_lines`]: a Python traceback's last frame and its
    /// exception, else the last lines). `torvyn-sim run` shows them first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_error: Option<String>,
    /// The host call the scenario's `fail_host_call` failed in this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_host_call: Option<FailedHostCall>,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl Entry {
    /// An entry for `call` with an outcome and metrics; the clock reading,
    /// live resources and guest output are filled in by the caller.
    pub fn new(index: usize, call: Call, outcome: Outcome, metrics: &InvocationMetrics) -> Self {
        Self {
            index,
            stage: None,
            call,
            lent_to: Vec::new(),
            argument: None,
            input: None,
            outcome,
            fuel: metrics.fuel_consumed,
            now_ns: 0,
            duration_ns: u64::try_from(metrics.duration.as_nanos()).unwrap_or(u64::MAX),
            bytes_in: metrics.bytes_into_guest,
            bytes_out: metrics.bytes_out_of_guest,
            buffers_allocated: metrics.buffers_allocated,
            host_calls: metrics.host_calls,
            resources_reclaimed: metrics.resources_reclaimed,
            live_resources: 0,
            memory_bytes: metrics.memory_bytes,
            stdout: None,
            stderr: None,
            stderr_error: None,
            failed_host_call: None,
        }
    }

    /// Whether the call failed (a `process-error` or a fault).
    pub fn failed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::ProcessError { .. } | Outcome::Fault { .. }
        )
    }
}

/// The host call a plan failed in one call, as a transcript entry records
/// it (`failed_host_call:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedHostCall {
    /// Its index among the run's host calls (from 0).
    pub index: u64,
    /// Its index among the host calls of its call.
    pub in_call: u32,
    /// The host function (`buffer-allocator.allocate`...).
    pub function: String,
    /// What the guest got: `allocation-failed`, `capacity-exceeded` or
    /// `trap`.
    pub answer: String,
}

impl From<InjectedFault> for FailedHostCall {
    fn from(f: InjectedFault) -> Self {
        Self {
            index: f.index_in_run,
            in_call: f.index_in_call,
            function: f.function.name().into(),
            answer: f.answer().into(),
        }
    }
}

/// The element an entry sent, in short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The sequence number the runtime assigned.
    pub sequence: u64,
    /// The timestamp the runtime assigned (engine clock, ns).
    pub timestamp_ns: u64,
    /// The content type.
    pub content_type: String,
    /// The absolute deadline, if any (engine clock, ns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
    /// The payload.
    pub payload: PayloadPreview,
}

/// A short view of some bytes: UTF-8 text when valid and printable, else
/// hex; at most [`PREVIEW_BYTES`] bytes (or the cap of
/// [`PayloadPreview::with_cap`]), with the full length.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadPreview {
    /// The full length in bytes.
    pub len: usize,
    /// The bytes as text, when they are printable UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The bytes as lower-case hex, otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Whether the preview is cut short of `len`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
    /// Guest output only: bytes the engine discarded past its capture cap.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub discarded: u64,
}

impl PayloadPreview {
    /// A preview of `bytes`, cut at [`PREVIEW_BYTES`].
    pub fn of(bytes: &[u8]) -> Self {
        Self::with_cap(bytes, PREVIEW_BYTES)
    }

    /// A preview of `bytes`, cut at `cap` bytes; `0` is no cap (every byte
    /// is shown).
    pub fn with_cap(bytes: &[u8], cap: usize) -> Self {
        let cap = if cap == 0 { usize::MAX } else { cap };
        let truncated = bytes.len() > cap;
        let mut cut = bytes.len().min(cap);
        // Text: back off to a character boundary when cutting mid-character.
        let text = loop {
            match std::str::from_utf8(&bytes[..cut]) {
                Ok(s) => break Some(s),
                Err(e) if truncated && e.error_len().is_none() && e.valid_up_to() > 0 => {
                    cut = e.valid_up_to();
                }
                Err(_) => break None,
            }
        };
        match text.filter(|s| printable(s)) {
            Some(s) => Self {
                len: bytes.len(),
                text: Some(s.to_string()),
                hex: None,
                truncated,
                discarded: 0,
            },
            None => Self {
                len: bytes.len(),
                text: None,
                hex: Some(hex(&bytes[..bytes.len().min(cap)])),
                truncated,
                discarded: 0,
            },
        }
    }

    /// A preview of guest output cut at [`PREVIEW_BYTES`], or `None` when
    /// the guest wrote nothing.
    pub fn of_guest_output(out: &GuestOutput) -> Option<Self> {
        Self::of_guest_output_with_cap(out, PREVIEW_BYTES)
    }

    /// A preview of guest output cut at `cap` bytes (`0`: no cap), or
    /// `None` when the guest wrote nothing.
    pub fn of_guest_output_with_cap(out: &GuestOutput, cap: usize) -> Option<Self> {
        if out.bytes.is_empty() && out.discarded == 0 {
            return None;
        }
        Some(Self {
            discarded: out.discarded,
            ..Self::with_cap(&out.bytes, cap)
        })
    }

    /// The preview on one line: `"text"` or `0x..`, with `…(N bytes)` when
    /// truncated.
    pub fn short(&self) -> String {
        self.short_noting("")
    }

    /// [`PayloadPreview::short`], with `how` (how to see every byte) added
    /// to the `…(N bytes; HOW)` of a truncated preview; `""` adds nothing.
    pub fn short_noting(&self, how: &str) -> String {
        let body = match (&self.text, &self.hex) {
            (Some(t), _) => format!("{t:?}"),
            (None, Some(h)) => format!("0x{h}"),
            (None, None) => "\"\"".into(),
        };
        match (self.truncated, how) {
            (false, _) => body,
            (true, "") => format!("{body}…({} bytes)", self.len),
            (true, how) => format!("{body}…({} bytes; {how})", self.len),
        }
    }
}

/// Lines of a guest's stderr shown at most by [`guest_error_lines`] when
/// the stderr is not a Python traceback.
const ERROR_LINES: usize = 3;
/// Characters kept of one line by [`guest_error_lines`] (the rest is cut,
/// marked `…`), so a guest printing one huge line cannot flood a table.
const ERROR_LINE_CHARS: usize = 400;

/// The lines of a failed call's stderr that say what went wrong, whole
/// (not cut at a preview's byte count), or `None` when it has no
/// non-blank line. For a Python traceback (CPython prints one to stderr
/// on an uncaught exception; componentize-py then prints its runtime's
/// panic after it), the last traceback's last frame (`File "...", line
/// N, in f` and its source line) and the exception (`TypeError: ...`, up
/// to the next blank line); for anything else, the last three non-blank
/// lines. Only the bytes the engine kept are read (a flood past its
/// capture cap loses its end). Control characters are escaped.
pub fn guest_error_lines(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let picked: Vec<&str> = match python_traceback(&lines) {
        Some(picked) => picked,
        None => {
            let mut tail: Vec<&str> = lines
                .iter()
                .rev()
                .filter(|l| !l.trim().is_empty())
                .take(ERROR_LINES)
                .copied()
                .collect();
            tail.reverse();
            tail
        }
    };
    if picked.is_empty() {
        return None;
    }
    let shown: Vec<String> = picked.iter().map(|l| clean_line(l)).collect();
    Some(shown.join("\n"))
}

/// A Python traceback's last frame and exception lines, if `lines` hold a
/// traceback followed by its exception.
fn python_traceback<'a>(lines: &[&'a str]) -> Option<Vec<&'a str>> {
    let start = lines
        .iter()
        .rposition(|l| l.trim_end() == "Traceback (most recent call last):")?;
    let body = &lines[start + 1..];
    // Frames are indented; the exception is the first line that is not.
    let exception = body
        .iter()
        .position(|l| !l.trim().is_empty() && !l.starts_with(char::is_whitespace))?;
    let frames = &body[..exception];
    let mut picked: Vec<&str> = match frames
        .iter()
        .rposition(|l| l.trim_start().starts_with("File \""))
    {
        // The frame and its source line; not the `^^^^` markers under it.
        Some(f) => frames[f..]
            .iter()
            .filter(|l| !l.trim().chars().all(|c| matches!(c, '^' | '~')))
            .map(|l| l.trim())
            .collect(),
        None => Vec::new(),
    };
    picked.extend(
        body[exception..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .copied(),
    );
    Some(picked)
}

/// A line of guest output made safe to print: control characters escaped
/// (tabs kept), at most [`ERROR_LINE_CHARS`] characters.
fn clean_line(line: &str) -> String {
    let mut out = String::new();
    for (i, c) in line.trim_end().chars().enumerate() {
        if i == ERROR_LINE_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn printable(s: &str) -> bool {
    s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The first line of a Wasmtime backtrace in a fault's message.
const BACKTRACE: &str = "error while executing at wasm backtrace:";

/// A fault's message without the Wasmtime backtrace in it
/// (`... error while executing at wasm backtrace:`, a line per frame, the
/// trap after the last frame): the lines before it, then the fault's first
/// line with the trap in place of the frames; and how many frames there
/// were. `None` when the message has no backtrace.
///
/// The frames name code offsets and function indices, which move with
/// every build of a component; the rest says what happened. The table
/// shows this form unless `-v`, and a behaviour comparison
/// ([`crate::snapshot::Compare::Behaviour`]) compares this form.
pub fn without_backtrace(message: &str) -> Option<(String, usize)> {
    let lines: Vec<&str> = message.lines().collect();
    let at = lines.iter().position(|l| l.ends_with(BACKTRACE))?;
    let frames = lines[at + 1..].iter().filter(|l| is_frame(l)).count();
    let last = lines.last().filter(|_| frames > 0)?;
    // The trap follows the last frame's function name (`N: 0x.. - name:
    // wasm trap: ...`), or a note Wasmtime put after the frames.
    let cause = if is_frame(last) {
        last.split_once(" - ")
            .and_then(|(_, rest)| rest.split_once(": "))
            .map(|(_, cause)| cause)
    } else {
        last.split_once("information: ").map(|(_, cause)| cause)
    }
    .unwrap_or(last.trim());
    let mut out = String::new();
    for l in &lines[..at] {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&lines[at][..lines[at].len() - BACKTRACE.len()]);
    out.push_str(cause);
    Some((out, frames))
}

/// Whether `line` is a backtrace frame: `  N: ...`.
fn is_frame(line: &str) -> bool {
    line.trim_start()
        .split_once(':')
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What a call returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// `process` emitted, or `pull` produced, an element.
    Emit {
        /// The sequence number the component put in the meta (advisory).
        sequence: u64,
        /// The content type of the meta: the element's, the one the next
        /// stage gets.
        content_type: String,
        /// The content type set on the buffer itself
        /// (`set-content-type`), when it differs from the meta's (empty
        /// when the guest set none). The meta's counts; see
        /// [`torvyn_engine::OutputElement`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buffer_content_type: Option<String>,
        /// The payload.
        payload: PayloadPreview,
    },
    /// `process` consumed the element and emitted nothing.
    Drop,
    /// `pull` said the source is exhausted.
    PulledNone,
    /// `push` answered with a backpressure signal.
    Backpressure(BackpressureSignal),
    /// `evaluate` passed the element on.
    Pass,
    /// `evaluate` dropped the element.
    Reject,
    /// `route` named these output ports (none: dropped).
    Routed {
        /// The port names, as the router returned them.
        ports: Vec<String>,
    },
    /// `ingest` absorbed the element with nothing ready yet.
    Absorbed,
    /// `flush` returned these elements (each an [`Outcome::Emit`]).
    Flushed {
        /// The elements, in order.
        elements: Vec<Outcome>,
    },
    /// The call succeeded with no value (`init`, `complete`, ...).
    Ok,
    /// The guest returned a `process-error`.
    ProcessError {
        /// `invalid-input`, `unavailable`, `internal`, `deadline-exceeded`
        /// or `fatal`.
        kind: String,
        /// The guest's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The engine stopped the call.
    Fault {
        /// [`torvyn_engine::FaultKind::name`] (`trap`, `fuel-exhausted`...).
        kind: String,
        /// The engine's message.
        message: String,
        /// Whether the fault poisoned the instance.
        poisons: bool,
    },
}

impl Outcome {
    /// The outcome of an emitted or pulled element, its payload previewed
    /// up to [`PREVIEW_BYTES`].
    pub fn emit(out: &OutputElement) -> Self {
        Self::emit_with_cap(out, PREVIEW_BYTES)
    }

    /// The outcome of an emitted or pulled element, its payload previewed
    /// up to `cap` bytes (`0`: no cap).
    pub fn emit_with_cap(out: &OutputElement, cap: usize) -> Self {
        Self::Emit {
            sequence: out.meta.sequence,
            content_type: out.meta.content_type.to_string(),
            buffer_content_type: (out.buffer_content_type != out.meta.content_type)
                .then(|| out.buffer_content_type.to_string()),
            payload: PayloadPreview::with_cap(&out.payload, cap),
        }
    }

    /// The outcome of a call of `function` that answered `answer`,
    /// payloads previewed up to `cap` bytes (`0`: no cap).
    pub fn of_answer(answer: &Answer, function: Function, cap: usize) -> Self {
        match answer {
            Answer::Done => Self::Ok,
            Answer::Emit(out) => Self::emit_with_cap(out, cap),
            Answer::Drop => Self::Drop,
            Answer::Nothing if function == Function::Ingest => Self::Absorbed,
            Answer::Nothing => Self::PulledNone,
            Answer::Signal(s) => Self::backpressure(*s),
            Answer::Verdict(pass) => Self::verdict(*pass),
            Answer::Ports(ports) => Self::Routed {
                ports: ports.clone(),
            },
            Answer::Flushed(outs) => Self::flushed_with_cap(outs, cap),
        }
    }

    /// The outcome of a failed call.
    pub fn error(e: &InvokeError) -> Self {
        match e {
            InvokeError::Guest(g) => Self::ProcessError {
                kind: g.kind().into(),
                message: g.message().map(str::to_string),
            },
            InvokeError::Fault(f) => Self::Fault {
                kind: f.kind.name().into(),
                message: f.kind.to_string(),
                poisons: f.poisons(),
            },
        }
    }

    /// The outcome of a `push`.
    pub fn backpressure(s: BackpressureSignal) -> Self {
        Self::Backpressure(s)
    }

    /// The outcome of an `evaluate`.
    pub fn verdict(pass: bool) -> Self {
        if pass { Self::Pass } else { Self::Reject }
    }

    /// The outcome of a `flush`, payloads previewed up to [`PREVIEW_BYTES`].
    pub fn flushed(outs: &[OutputElement]) -> Self {
        Self::flushed_with_cap(outs, PREVIEW_BYTES)
    }

    /// The outcome of a `flush`, payloads previewed up to `cap` bytes (`0`:
    /// no cap).
    pub fn flushed_with_cap(outs: &[OutputElement], cap: usize) -> Self {
        Self::Flushed {
            elements: outs.iter().map(|o| Self::emit_with_cap(o, cap)).collect(),
        }
    }

    /// The outcome on one line.
    pub fn short(&self) -> String {
        match self {
            Self::Emit {
                sequence,
                content_type,
                payload,
                ..
            } => format!("emit seq={sequence} {content_type} {}", payload.short()),
            Self::Drop => "drop".into(),
            Self::PulledNone => "none".into(),
            Self::Backpressure(s) => s.name().into(),
            Self::Pass => "pass".into(),
            Self::Reject => "reject".into(),
            Self::Routed { ports } if ports.is_empty() => "routed to no port (dropped)".into(),
            Self::Routed { ports } => format!("routed to {}", ports.join(", ")),
            Self::Absorbed => "absorbed".into(),
            Self::Flushed { elements } => {
                let payloads: Vec<String> = elements
                    .iter()
                    .map(|e| match e {
                        Self::Emit { payload, .. } => payload.short(),
                        other => other.short(),
                    })
                    .collect();
                format!("flushed [{}]", payloads.join(", "))
            }
            Self::Ok => "ok".into(),
            Self::ProcessError {
                kind,
                message: Some(m),
            } => format!("process-error {kind}: {m}"),
            Self::ProcessError {
                kind,
                message: None,
            } => format!("process-error {kind}"),
            Self::Fault { kind, .. } => format!("FAULT {kind}"),
        }
    }
}

/// Fuel per element call: nearest-rank percentiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuelStats {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

impl FuelStats {
    /// Percentiles of `values` (zeros when empty).
    pub fn of(values: &[u64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let rank = |p: f64| {
            let r = (p * v.len() as f64).ceil() as usize;
            v[r.clamp(1, v.len()) - 1]
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: *v.last().expect("non-empty"),
        }
    }
}

/// Real time a run took. Never deterministic: kept out of snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WallStats {
    /// Wall-clock nanoseconds from the first call to the last.
    pub wall_ns: u64,
    /// Elements in per wall-clock second.
    pub elements_per_second: f64,
}

/// Totals of a run (or of one pipeline stage).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Calls made.
    pub calls: u64,
    /// Elements sent in (`process`, `push`) or pulled out of a source.
    pub elements_in: u64,
    /// Elements emitted (`process`, `ingest`, `flush`), pulled (`pull`),
    /// accepted (`push`), passed (`evaluate`) or routed to a port (`route`).
    pub elements_out: u64,
    /// Elements a processor, filter or router dropped.
    pub elements_dropped: u64,
    /// Element calls that failed (`process-error` or fault).
    pub elements_failed: u64,
    /// Guest `process-error`s, on any call.
    pub process_errors: u64,
    /// Engine faults, on any call.
    pub faults: u64,
    /// Fuel of every call.
    pub fuel_total: u64,
    /// Fuel per element call (`process`, `pull`, `push`).
    pub fuel_per_element: FuelStats,
    /// Bytes copied into the guest.
    pub bytes_in: u64,
    /// Bytes copied out of the guest.
    pub bytes_out: u64,
    /// Time the calls took, summed (engine clock, ns).
    pub busy_ns: u64,
    /// Time on the engine clock from before the first call to after the
    /// last (virtual nanoseconds under the virtual clock).
    pub virtual_time_ns: u64,
    /// Elements in per second of engine-clock time (0 when no time passed).
    pub elements_per_virtual_second: u64,
    /// Why the component took no more elements before its stream ended:
    /// its `init` failed, or it answered `fatal` (the contract's terminal
    /// error). Absent when it took every element it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Input elements not sent to a processor or sink because it had
    /// stopped (a source is pulled, so it skips none).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub elements_skipped: u64,
    /// Real time; absent in the snapshot form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallStats>,
}

impl Summary {
    /// Totals over `entries`, with `virtual_time_ns` elapsed on the engine
    /// clock; `wall` is left empty.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>, virtual_time_ns: u64) -> Self {
        let mut s = Summary {
            virtual_time_ns,
            ..Summary::default()
        };
        let mut fuel = Vec::new();
        for e in entries {
            s.calls += 1;
            s.fuel_total += e.fuel;
            s.bytes_in += e.bytes_in;
            s.bytes_out += e.bytes_out;
            s.busy_ns += e.duration_ns;
            match &e.outcome {
                Outcome::ProcessError { .. } => s.process_errors += 1,
                Outcome::Fault { .. } => s.faults += 1,
                Outcome::Flushed { elements } => s.elements_out += elements.len() as u64,
                _ => {}
            }
            if !e.call.is_element_call() {
                continue;
            }
            fuel.push(e.fuel);
            if e.call != Call::Pull {
                s.elements_in += 1;
            }
            match &e.outcome {
                Outcome::Emit { .. } if e.call == Call::Pull => {
                    s.elements_in += 1;
                    s.elements_out += 1;
                }
                Outcome::Emit { .. } | Outcome::Backpressure(_) | Outcome::Pass => {
                    s.elements_out += 1
                }
                Outcome::Routed { ports } if !ports.is_empty() => s.elements_out += 1,
                Outcome::Drop | Outcome::Reject | Outcome::Routed { .. } => s.elements_dropped += 1,
                _ if e.failed() => s.elements_failed += 1,
                _ => {}
            }
        }
        s.fuel_per_element = FuelStats::of(&fuel);
        s.elements_per_virtual_second = per_second(s.elements_in, virtual_time_ns);
        s
    }

    /// Fills in [`Summary::wall`] from real time spent.
    pub fn set_wall(&mut self, wall: std::time::Duration) {
        let wall_ns = u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX);
        self.wall = Some(WallStats {
            wall_ns,
            elements_per_second: if wall_ns == 0 {
                0.0
            } else {
                self.elements_in as f64 * 1e9 / wall_ns as f64
            },
        });
    }

    /// The summary as a few lines of text.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "elements: {} in, {} out, {} dropped, {} failed ({} process-errors, {} faults in {} calls)",
            self.elements_in,
            self.elements_out,
            self.elements_dropped,
            self.elements_failed,
            self.process_errors,
            self.faults,
            self.calls
        );
        match (&self.stopped, self.elements_skipped) {
            (Some(why), 0) => {
                let _ = writeln!(s, "stopped: {why}");
            }
            (Some(why), n) => {
                let _ = writeln!(s, "stopped: {why}; {n} elements not sent");
            }
            (None, _) => {}
        }
        let _ = writeln!(
            s,
            "fuel: {} total; per element p50 {} p99 {} max {}",
            self.fuel_total,
            self.fuel_per_element.p50,
            self.fuel_per_element.p99,
            self.fuel_per_element.max
        );
        let _ = writeln!(
            s,
            "bytes: {} into the guest, {} out of it",
            self.bytes_in, self.bytes_out
        );
        let _ = writeln!(
            s,
            "time: {} ns on the engine clock ({} elements/s)",
            self.virtual_time_ns, self.elements_per_virtual_second
        );
        if let Some(w) = &self.wall {
            let _ = writeln!(
                s,
                "wall: {} ns ({:.0} elements/s)",
                w.wall_ns, w.elements_per_second
            );
        }
        s
    }
}

/// `count` per second over `ns` nanoseconds (0 when `ns` is 0).
pub(crate) fn per_second(count: u64, ns: u64) -> u64 {
    if ns == 0 {
        0
    } else {
        u64::try_from(u128::from(count) * 1_000_000_000 / u128::from(ns)).unwrap_or(u64::MAX)
    }
}

/// How to write a transcript.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// YAML (serde_yaml_ng).
    #[default]
    Yaml,
    /// Pretty-printed JSON.
    Json,
    /// One line per call, then the summary.
    Text,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            "text" | "txt" => Ok(Self::Text),
            other => Err(format!("unknown format `{other}`; use yaml, json or text")),
        }
    }
}

/// Serializes any transcript-like value as YAML.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, HarnessError> {
    serde_yaml_ng::to_string(value).map_err(|e| HarnessError::Serialize {
        format: "YAML",
        message: e.to_string(),
    })
}

/// Serializes any transcript-like value as pretty JSON.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, HarnessError> {
    serde_json::to_string_pretty(value).map_err(|e| HarnessError::Serialize {
        format: "JSON",
        message: e.to_string(),
    })
}

/// Entries as text, one line per call.
pub fn render_entries(entries: &[Entry]) -> String {
    let mut s = String::new();
    for e in entries {
        let stage = e
            .stage
            .as_deref()
            .map(|st| format!("[{st}] "))
            .unwrap_or_default();
        let arg = match (&e.argument, &e.input) {
            (_, Some(i)) => format!("seq={} {}", i.sequence, i.payload.short()),
            (Some(a), None) => format!("{a:?}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            s,
            "#{:<3} {stage}{:<19} {:<28} -> {:<40} fuel={} t={}ns",
            e.index,
            e.call.name(),
            arg,
            e.outcome.short(),
            e.fuel,
            e.now_ns
        );
        if let Outcome::Fault { message, .. } = &e.outcome {
            let _ = writeln!(s, "       {message}");
        }
        if let Some(f) = &e.failed_host_call {
            let _ = writeln!(
                s,
                "       failed host call {} ({} of the call): {} answered {}",
                f.index, f.in_call, f.function, f.answer
            );
        }
        if let Some(out) = &e.stdout {
            let _ = writeln!(s, "       stdout: {}", out.short());
        }
        if let Some(err) = &e.stderr {
            let _ = writeln!(s, "       stderr: {}", err.short());
        }
    }
    s
}

impl Transcript {
    /// The form snapshots and equality checks use: no wall-clock figures,
    /// and under the system clock no times at all.
    pub fn snapshot_form(&self) -> Self {
        let mut t = self.clone();
        t.summary.wall = None;
        if t.clock == ClockSetting::System {
            mask_times(&mut t.entries);
            t.summary.busy_ns = 0;
            t.summary.virtual_time_ns = 0;
            t.summary.elements_per_virtual_second = 0;
        }
        t
    }

    /// The snapshot form with fuel and time zeroed too: what must agree
    /// between compilers (outputs, errors, fault kinds), and not the cost.
    pub fn without_costs(&self) -> Self {
        let mut t = self.snapshot_form();
        mask_times(&mut t.entries);
        for e in &mut t.entries {
            e.fuel = 0;
        }
        t.summary.fuel_total = 0;
        t.summary.fuel_per_element = FuelStats::default();
        t.summary.busy_ns = 0;
        t.summary.virtual_time_ns = 0;
        t.summary.elements_per_virtual_second = 0;
        t
    }

    /// What must agree between backends: [`Transcript::without_costs`]
    /// (no fuel, no time) with the backend and compiler labels masked too.
    /// Outputs, errors, fault kinds, copies, allocations, host calls,
    /// reclaimed resources and linear memory stay.
    pub fn backend_neutral(&self) -> Self {
        let mut t = self.without_costs();
        t.backend = BackendKind::Mock;
        t.strategy = CompilationStrategy::default();
        t
    }

    /// The one-line outcomes ([`Outcome::short`]) of every `call` call, in
    /// order: what a test asserts a component answered.
    pub fn outcomes(&self, call: Call) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.call == call)
            .map(|e| e.outcome.short())
            .collect()
    }

    /// The transcript in `format`.
    pub fn render(&self, format: OutputFormat) -> Result<String, HarnessError> {
        match format {
            OutputFormat::Yaml => to_yaml(self),
            OutputFormat::Json => to_json(self),
            OutputFormat::Text => Ok(self.render_text()),
        }
    }

    /// The transcript as YAML.
    pub fn to_yaml(&self) -> Result<String, HarnessError> {
        to_yaml(self)
    }

    /// The transcript as pretty JSON.
    pub fn to_json(&self) -> Result<String, HarnessError> {
        to_json(self)
    }

    /// A header line, one line per call, then the summary.
    pub fn render_text(&self) -> String {
        format!(
            "scenario {} ({} as {}, seed {}, {}, {} clock{})\n{}{}",
            self.scenario,
            self.component,
            self.role,
            self.seed,
            self.backend.engine_label(self.strategy),
            match self.clock {
                ClockSetting::Virtual => "virtual",
                ClockSetting::System => "system",
            },
            if self.grants.is_empty() {
                String::new()
            } else {
                format!(", granted {}", self.grants.join(", "))
            },
            render_entries(&self.entries),
            self.summary.render_text()
        )
    }
}

/// Zeroes the clock readings and durations of `entries`.
pub(crate) fn mask_times(entries: &mut [Entry]) {
    for e in entries {
        e.now_ns = 0;
        e.duration_ns = 0;
        if let Some(i) = &mut e.input {
            i.timestamp_ns = 0;
            i.deadline_ns = i.deadline_ns.map(|_| 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_show_text_or_hex_and_cut_long_payloads() {
        let p = PayloadPreview::of(b"hello");
        assert_eq!(
            (p.text.as_deref(), p.len, p.truncated),
            (Some("hello"), 5, false)
        );
        let p = PayloadPreview::of(&[0, 1, 0xff]);
        assert_eq!(p.hex.as_deref(), Some("0001ff"));
        let long = "é".repeat(40); // 80 bytes; byte 64 is a boundary
        let p = PayloadPreview::of(long.as_bytes());
        assert!(p.truncated && p.len == 80);
        assert_eq!(p.text.as_deref().map(str::len), Some(64));
        let odd = format!("a{}", "é".repeat(40)); // cut falls mid-character
        let p = PayloadPreview::of(odd.as_bytes());
        assert_eq!(p.text.as_deref().map(str::len), Some(63));
        assert!(
            PayloadPreview::of(b"a\x07b").hex.is_some(),
            "control characters are hex"
        );
    }

    #[test]
    fn a_cap_of_zero_shows_every_byte() {
        let long = "x".repeat(200);
        let p = PayloadPreview::with_cap(long.as_bytes(), 0);
        assert_eq!(
            (p.text.as_deref(), p.truncated),
            (Some(long.as_str()), false)
        );
        let p = PayloadPreview::with_cap(long.as_bytes(), 10);
        assert_eq!((p.text.as_deref(), p.truncated), (Some("xxxxxxxxxx"), true));
        let bin = vec![0u8; 100];
        let p = PayloadPreview::with_cap(&bin, 0);
        assert_eq!(p.hex.map(|h| h.len()), Some(200));
        assert_eq!(
            PayloadPreview::of(long.as_bytes()),
            PayloadPreview::with_cap(long.as_bytes(), PREVIEW_BYTES)
        );
    }

    #[test]
    fn the_guest_error_is_a_tracebacks_last_frame_and_exception_else_the_last_lines() {
        // componentize-py: CPython's traceback, then the runtime's panic.
        let py = "Traceback (most recent call last):\n  File \"/0/app.py\", line 32, in init\n\
                  TypeError: 'int' object is not iterable\n\nthread '<unnamed>' panicked at \
                  runtime/src/lib.rs:515:25:\nPython function threw an unexpected exception\n";
        assert_eq!(
            guest_error_lines(py.as_bytes()).as_deref(),
            Some("File \"/0/app.py\", line 32, in init\nTypeError: 'int' object is not iterable")
        );
        // Python 3.11+: a source line with markers under it, chained
        // exceptions (the last traceback counts), a two-line message.
        let chained = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n\
                       KeyError: 'x'\n\nDuring handling of the above exception, another \
                       exception occurred:\n\nTraceback (most recent call last):\n  \
                       File \"a.py\", line 9, in g\n    raise ValueError(\"bad\\nworse\")\n    \
                       ^^^^^^^^^^^^^^^^\nValueError: bad\nworse\n";
        assert_eq!(
            guest_error_lines(chained.as_bytes()).as_deref(),
            Some(
                "File \"a.py\", line 9, in g\nraise ValueError(\"bad\\nworse\")\nValueError: bad\nworse"
            )
        );
        assert_eq!(
            guest_error_lines(b"one\n\ntwo\nthree\n\nfour\x1b[0m\n").as_deref(),
            Some("two\nthree\nfour\\u{1b}[0m")
        );
        assert_eq!(guest_error_lines(b"\n  \n"), None);
        let long = "x".repeat(1000);
        let shown = guest_error_lines(long.as_bytes()).unwrap();
        assert_eq!(shown.chars().count(), ERROR_LINE_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(
            FuelStats::of(&v),
            FuelStats {
                p50: 50,
                p99: 99,
                max: 100
            }
        );
        assert_eq!(
            FuelStats::of(&[7]),
            FuelStats {
                p50: 7,
                p99: 7,
                max: 7
            }
        );
        assert_eq!(FuelStats::of(&[]), FuelStats::default());
    }
}
