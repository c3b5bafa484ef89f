//! The recording format: its header, call and end lines, payloads, and the
//! [`Recording`] that `read.rs` parses them into (the writer, `write.rs`,
//! writes the same fields by hand, faster).
//!
//! Cold path: reading a recording, and the types both sides share.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read::{self, ReadOptions, RecordingError};
use crate::call::{Call, Outcome};
use crate::types::{BackpressureSignal, Function, InvocationMetrics, OutputElement, StreamElement};
use crate::world::{WorldInfo, WorldRead};

/// The `format` field of every recording's header.
pub const FORMAT_NAME: &str = "torvyn-recording";
/// The format version this engine writes, and the newest it reads.
///
/// Version 2 added `{"in": true}` for an output payload that is the
/// call's input payload byte for byte (stored once, not twice); a version
/// 1 recording never has it and reads as before.
///
/// Version 3 added what a guest reads from the outside world and writes
/// to it: the header's `world` (clock kind, seed, insecure seed), and per
/// call `w` (every clock and random value read, in order), `stdout` and
/// `stderr`. A version 1 or 2 recording has none of them and reads as a
/// recording of calls that read and wrote nothing (its replay gives the
/// guest live values).
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this engine reads.
pub const OLDEST_VERSION: u32 = 1;

/// How payload bytes are kept in a recording.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadMode {
    /// Every payload in full (base64): the recording can be replayed.
    #[default]
    Stored,
    /// Each payload's length and SHA-256 only: smaller, and no payload
    /// leaves the host, but the inputs cannot be fed again (a replay
    /// refuses it); outputs can still be compared by digest.
    Digest,
}

impl PayloadMode {
    /// `stored` or `digest`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Digest => "digest",
        }
    }
}

/// The first line of a recording (and of every rotated part).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// The engine that wrote it (`torvyn-engine 0.2.0`).
    pub engine: String,
    /// The component recorded.
    pub component: ComponentInfo,
    /// How payloads are kept.
    pub payloads: PayloadMode,
    /// Which part of a rotated recording this is (0: the first).
    pub part: u32,
    /// The index of the first call in this part (0 unless rotated).
    pub first_call: u64,
    /// Where the instance's clocks and randomness came from (version 3;
    /// `None` when the invoker did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<WorldInfo>,
}

/// The component a recording is of.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentInfo {
    /// The instance's id.
    pub id: String,
    /// Where it came from: a path or a fixture name, if the host said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// SHA-256 of its bytes (64 hex digits), if the host said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The backend that ran it, if the host said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The roles it exports (`processor`, `lifecycle`, ...).
    pub roles: Vec<String>,
    /// The capabilities it was granted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
}

/// One recorded call: what the component was given and what it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// The call's index in the recording (`call`), from 0 across parts.
    pub index: u64,
    /// The function (`fn`: `process`, `pull`, ...).
    pub function: Function,
    /// `init`'s config, or `notify-backpressure`'s signal (`arg`).
    pub argument: Option<String>,
    /// The element given to `process`, `push`, `evaluate`, `route` or
    /// `ingest` (`in`).
    pub input: Option<RecordedElement>,
    /// What the call returned (`out`).
    pub outcome: RecordedOutcome,
    /// What it cost (`m`).
    pub metrics: RecordedMetrics,
    /// What the guest read from the outside world during the call, in
    /// order (`w`, version 3; empty: nothing, or an older recording).
    pub reads: Vec<WorldRead>,
    /// What the guest wrote to stdout during the call (`stdout`, version
    /// 3), stored or digested as the payloads are.
    pub stdout: Option<Payload>,
    /// What it wrote to stderr (`stderr`).
    pub stderr: Option<Payload>,
}

impl CallRecord {
    /// The call to make again: the function with its recorded argument or
    /// input. `None` when there is none to make: the input's payload was
    /// digested (its bytes are not in the recording), or the function is
    /// no call ([`Function::Instantiate`], which the reader refuses).
    pub fn to_call(&self) -> Option<Call> {
        let element = || self.input.as_ref().and_then(RecordedElement::to_element);
        Some(match self.function {
            Function::Instantiate => return None,
            Function::Init => Call::Init(self.argument.clone().unwrap_or_default()),
            Function::Process => Call::Process(element()?),
            Function::Pull => Call::Pull,
            Function::Push => Call::Push(element()?),
            Function::NotifyBackpressure => {
                Call::NotifyBackpressure(match self.argument.as_deref() {
                    Some("pause") => BackpressureSignal::Pause,
                    _ => BackpressureSignal::Ready,
                })
            }
            Function::Complete => Call::Complete,
            Function::Teardown => Call::Teardown,
            Function::Evaluate => Call::Evaluate(element()?),
            Function::Route => Call::Route(element()?),
            Function::Ingest => Call::Ingest(element()?),
            Function::Flush => Call::Flush,
        })
    }
}

/// A payload as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// The bytes (`{"b64": "..."}`).
    Stored(crate::Bytes),
    /// Their length and SHA-256 (`{"len": N, "sha256": "..."}`).
    Digest {
        /// Bytes.
        len: u64,
        /// SHA-256.
        sha256: [u8; 32],
    },
}

impl Payload {
    /// The length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Stored(b) => b.len() as u64,
            Self::Digest { len, .. } => *len,
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, when stored.
    pub fn bytes(&self) -> Option<&crate::Bytes> {
        match self {
            Self::Stored(b) => Some(b),
            Self::Digest { .. } => None,
        }
    }

    /// The SHA-256 of the bytes (computed for a stored payload).
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Self::Stored(b) => sha256(b),
            Self::Digest { sha256, .. } => *sha256,
        }
    }

    /// Whether `bytes` are this payload (by digest when only that is kept).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        match self {
            Self::Stored(b) => b[..] == *bytes,
            Self::Digest { len, sha256: d } => *len == bytes.len() as u64 && sha256(bytes) == *d,
        }
    }
}

/// An element given to a call (`in`): its meta, payload and flow context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedElement {
    /// `seq`.
    pub sequence: u64,
    /// `ts`.
    pub timestamp_ns: u64,
    /// `ct`.
    pub content_type: String,
    /// `payload`.
    pub payload: Payload,
    /// `ctx`: trace and span ids, flow id, absolute deadline.
    pub context: RecordedContext,
}

/// A flow context (`ctx`: `trace`, `span`, `flow`, `deadline`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedContext {
    /// Trace id.
    #[serde(default, rename = "trace", skip_serializing_if = "String::is_empty")]
    pub trace_id: String,
    /// Span id.
    #[serde(default, rename = "span", skip_serializing_if = "String::is_empty")]
    pub span_id: String,
    /// Flow id.
    #[serde(default, rename = "flow", skip_serializing_if = "String::is_empty")]
    pub flow_id: String,
    /// Absolute deadline on the recording engine's clock.
    #[serde(default, rename = "deadline", skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
}

impl RecordedContext {
    /// The context of `c`.
    pub fn of(c: &crate::FlowContext) -> Self {
        Self {
            trace_id: c.trace_id().to_owned(),
            span_id: c.span_id().to_owned(),
            flow_id: c.flow_id().to_owned(),
            deadline_ns: c.deadline_ns(),
        }
    }

    /// The engine's flow context.
    pub fn to_context(&self) -> crate::FlowContext {
        let mut c = crate::FlowContext::new(self.flow_id.clone())
            .with_trace(self.trace_id.clone(), self.span_id.clone());
        if let Some(d) = self.deadline_ns {
            c = c.with_deadline_ns(d);
        }
        c
    }
}

impl RecordedElement {
    /// The element to feed again; `None` when its payload was digested.
    pub fn to_element(&self) -> Option<StreamElement> {
        let payload = self.payload.bytes()?.clone();
        Some(StreamElement {
            meta: crate::ElementMeta {
                sequence: self.sequence,
                timestamp_ns: self.timestamp_ns,
                content_type: self.content_type.as_str().into(),
            },
            payload,
            context: self.context.to_context(),
        })
    }
}

/// An element a call produced (`seq`, `ts`, `ct`, `bct` when the buffer's
/// content type differs, `payload`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedOutput {
    /// `seq`.
    pub sequence: u64,
    /// `ts`.
    pub timestamp_ns: u64,
    /// `ct`: the meta's content type.
    pub content_type: String,
    /// `bct`: the content type set on the buffer (the same as `ct` when
    /// the line has none).
    pub buffer_content_type: String,
    /// `payload`.
    pub payload: Payload,
}

impl RecordedOutput {
    /// Whether `out` is this output: the same payload, content types and
    /// sequence number (timestamps are the host's, and not compared).
    pub fn matches(&self, out: &OutputElement) -> bool {
        self.payload.matches(&out.payload)
            && self.content_type == out.meta.content_type.as_str()
            && self.buffer_content_type == out.buffer_content_type.as_str()
            && self.sequence == out.meta.sequence
    }
}

/// What a call returned (`out`), its elements as the recording holds
/// them: `"ok"`, `{"emit": OUTPUT}`, `"drop"`, `"none"`, `{"signal":
/// "ready"|"pause"}`, `{"pass": BOOL}`, `{"ports": [..]}`, `{"flushed":
/// [OUTPUT...]}`, `{"error": {"kind", "message"}}` or `{"fault": {"kind",
/// "message"}}` ([`Answer::variant`](crate::Answer::variant) names the answers). The reader checks
/// that the function could answer it ([`Outcome::fits`]).
pub type RecordedOutcome = Outcome<RecordedOutput>;

/// What a call cost (`m`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedMetrics {
    /// Fuel consumed.
    pub fuel: u64,
    /// Duration in ns on the engine clock.
    pub ns: u64,
    /// Bytes copied into the guest.
    pub bytes_in: u64,
    /// Bytes copied out of the guest.
    pub bytes_out: u64,
    /// Buffers the guest allocated.
    pub buffers: u32,
    /// Host calls the guest made.
    pub host_calls: u32,
    /// Resources reclaimed at the end of the call.
    pub reclaimed: u32,
    /// Linear memory after the call, in bytes.
    pub memory: u64,
}

impl From<&InvocationMetrics> for RecordedMetrics {
    fn from(m: &InvocationMetrics) -> Self {
        Self {
            fuel: m.fuel_consumed,
            ns: u64::try_from(m.duration.as_nanos()).unwrap_or(u64::MAX),
            bytes_in: m.bytes_into_guest,
            bytes_out: m.bytes_out_of_guest,
            buffers: m.buffers_allocated,
            host_calls: m.host_calls,
            reclaimed: m.resources_reclaimed,
            memory: m.memory_bytes,
        }
    }
}

/// The last line of a recording part (`{"end": {"calls", "truncated"}}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    /// Calls in this part.
    pub calls: u64,
    /// Whether the byte cap stopped the recording here (later calls were
    /// not recorded), or a rotation closed this part (`rotated`).
    #[serde(default)]
    pub truncated: bool,
    /// Whether a rotation closed this part (the next part holds the
    /// following calls).
    #[serde(default)]
    pub rotated: bool,
}

/// A recording read back: its header, its calls, its end line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The header.
    pub header: Header,
    /// The calls, in order.
    pub calls: Vec<CallRecord>,
    /// The end line (`None` only when read with
    /// [`ReadOptions::allow_incomplete`] from a recording whose writer did
    /// not finish).
    pub end: Option<End>,
}

impl Recording {
    /// Reads a complete recording from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordingError> {
        read::parse(bytes, ReadOptions::default())
    }

    /// Reads a recording from its bytes with `options`.
    pub fn parse_with(bytes: &[u8], options: ReadOptions) -> Result<Self, RecordingError> {
        read::parse(bytes, options)
    }

    /// Reads a complete recording file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        Self::read_with(path, ReadOptions::default())
    }

    /// Reads a recording file with `options`.
    pub fn read_with(path: impl AsRef<Path>, options: ReadOptions) -> Result<Self, RecordingError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| RecordingError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        read::parse(&bytes, options).map_err(|e| e.in_file(path))
    }
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The bytes of hex digits (either case; ASCII whitespace between them is
/// ignored), or what is wrong with them. The inverse of [`hex`].
pub fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "`{text}` has an odd number of hex digits; write two per byte"
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(s, 16).map_err(|_| format!("`{s}` in `{text}` is not a hex byte"))
        })
        .collect()
}
