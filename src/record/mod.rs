//! Record and replay: [`Recorder`] wraps any [`ComponentInvoker`] and
//! writes every call it forwards to a **recording**, which
//! [`Recording::parse`] reads back (the harness replays it against another
//! build of the component: `torvyn-sim replay`).
//!
//! ```
//! use torvyn_engine::mock::{MockEngine, MockEngineConfig};
//! use torvyn_engine::record::{MemoryRecording, RecordOptions, Recorder, Recording};
//! use torvyn_engine::{Clock, ComponentId, ComponentInvoker, StreamElement, WasmEngine};
//!
//! let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::virtual_time(Default::default())).unwrap();
//! let compiled = engine.compile(&MockEngine::component_bytes("uppercase")).unwrap();
//! let upper = engine.instantiate(&compiled, ComponentId::new("upper")).unwrap();
//!
//! let memory = MemoryRecording::new();
//! let mut rec = Recorder::to_memory(upper, &memory, RecordOptions::default()).unwrap();
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let call = rt.block_on(rec.process(StreamElement::new(0, "hi", "text/plain")));
//! assert!(call.is_ok()); // the call's outcome is the wrapped invoker's
//! let (_upper, stats) = rec.finish();
//! assert_eq!(stats.unwrap().calls, 1);
//!
//! let recording = Recording::parse(&memory.bytes()).unwrap();
//! assert_eq!(recording.calls[0].function, torvyn_engine::Function::Process);
//! assert_eq!(recording.header.component.id, "upper");
//! ```
//!
//! # The format
//!
//! JSON Lines, UTF-8, one object a line: a header, one line per call, an
//! end line. Every line ends with `"crc":"XXXXXXXX"`, the CRC-32 of the
//! line's bytes before `,"crc"`, so a line that was edited or damaged is
//! refused, as is a file cut short. The field names are in [`Header`],
//! [`CallRecord`], [`RecordedElement`], [`RecordedOutput`],
//! [`RecordedOutcome`], [`RecordedMetrics`] and [`End`]; payloads are
//! base64 (`{"b64": "..."}`) or, with [`PayloadMode::Digest`], their length
//! and SHA-256 (`{"len": 1024, "sha256": "..."}`). An output whose payload
//! is the call's input payload, byte for byte (a processor that forwards
//! what it was given), is written `{"in": true}` when payloads are stored.
//!
//! What the guest read from the outside world is recorded too (version 3,
//! see [`FORMAT_VERSION`]): the header's `world` ([`crate::WorldInfo`]:
//! the clock's kind, the run's seed, the instance's insecure seed), and
//! per call `w`, every value its WASI clocks and random generators gave
//! it, in order ([`CallRecord::reads`]: `{"wall": [S, NS]}`,
//! `{"wall_res": [S, NS]}`, `{"mono": N}`, `{"mono_res": N}`,
//! `{"random": "HEX"}`, `{"random_u64": N}`, `{"insecure": "HEX"}`,
//! `{"insecure_u64": N}`; the keys are [`crate::WorldInterface::key`]),
//! and `stdout` and `stderr`, what it wrote, kept as payloads are. A
//! replay gives the reads back ([`ComponentInvoker::script_world`]), so a
//! recording made with the system clock and the OS's randomness replays
//! exactly. The recorder turns the wrapped invoker's logging on
//! ([`ComponentInvoker::log_world`]) and takes what each call read after
//! it ([`ComponentInvoker::take_world`]): nothing, without a lock or an
//! allocation, for a call that read nothing. Reads made while the instance
//! was created, before the recorder wrapped it, are not recorded.
//!
//! # What recording costs
//!
//! The calling thread copies what a call took and gave (the payloads are
//! [`crate::Bytes`]: a reference count each, no copy) and hands it to a
//! writer thread over a bounded queue; encoding, checksums and the file
//! are the writer's. The writer polls the queue while calls come (so a
//! call never has to wake it) and hands written calls back in batches, to
//! be dropped on the calling thread that allocated them. When the queue
//! is full the call waits for the writer: recording never drops a call
//! silently, and never changes an outcome. `benches/record.rs` measures
//! the cost per 1 KiB `process` call (`benches/RESULTS.md`).
//! Errors (a full disk, a cap reached) are reported by
//! [`Recorder::error`] and [`Recorder::finish`], never through the
//! wrapped calls.

mod read;
mod write;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use crate::call::{Answer, Call, Outcome};
use crate::error::{Fault, InvokeError};
use crate::traits::ComponentInvoker;
use crate::types::{
    BackpressureSignal, ComponentId, Function, Grants, Invocation, InvocationMetrics,
    OutputElement, ProcessResult, Roles, StreamElement,
};
use crate::world::{CallWorld, WorldInfo, WorldRead};

pub use read::{ReadOptions, RecordingError};

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

/// How to record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// Payloads stored or digested.
    pub payloads: PayloadMode,
    /// The most bytes one recording file (or memory part) may hold, header
    /// and end line included; `None`: no cap. When the next call's line
    /// would pass it, the part is closed and, with `keep_rotated > 0`, a
    /// new one begins (the old one moves to `FILE.1`, `FILE.1` to
    /// `FILE.2`, ...); with `keep_rotated == 0` recording stops there and
    /// [`RecordingStats::truncated`] says so.
    pub max_bytes: Option<u64>,
    /// How many closed parts to keep beside the current one when
    /// `max_bytes` rotates (the oldest is deleted); 0: no rotation.
    pub keep_rotated: u32,
    /// Calls the writer thread may lag behind; a call made while the queue
    /// is full waits for the writer. Default 4096.
    pub queue_capacity: usize,
    /// Where the component came from (a path or a fixture name), for the
    /// header: what a replay runs when it is given no other component.
    pub source: Option<String>,
    /// The SHA-256 of the component's bytes, for the header.
    pub digest: Option<[u8; 32]>,
    /// The backend that runs it (`wasmtime`, `mock`), for the header.
    pub backend: Option<String>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            payloads: PayloadMode::Stored,
            max_bytes: None,
            keep_rotated: 0,
            queue_capacity: 4096,
            source: None,
            digest: None,
            backend: None,
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
/// "message"}}` ([`Answer::variant`] names the answers). The reader checks
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

/// What a recorder wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordingStats {
    /// Calls written.
    pub calls: u64,
    /// Calls not written: after the cap stopped the recording, or after an
    /// error.
    pub calls_dropped: u64,
    /// Bytes written, every part together.
    pub bytes: u64,
    /// Parts begun (1 without rotation).
    pub parts: u32,
    /// Whether the byte cap stopped the recording before the last call.
    pub truncated: bool,
    /// The file written (the current part), if recording to a file.
    pub path: Option<PathBuf>,
}

/// Why recording failed (never why a call failed: calls are the wrapped
/// invoker's).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A file could not be created or written.
    #[error(
        "cannot {action} the recording file {}: {message}; check that its directory exists and is writable and that the disk has room, or record to memory",
        path.display()
    )]
    Io {
        /// `create`, `write`, `rotate`...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// The options cannot work.
    #[error("invalid recording options: {0}")]
    InvalidOptions(String),
    /// The writer thread stopped unexpectedly.
    #[error("the recording's writer thread stopped: {0}; the recording is incomplete")]
    Writer(String),
}

/// A recording kept in memory: every part's bytes, shared with the
/// recorder writing it.
#[derive(Clone, Debug, Default)]
pub struct MemoryRecording(Arc<Mutex<Vec<Vec<u8>>>>);

impl MemoryRecording {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of the current (last) part.
    pub fn bytes(&self) -> Vec<u8> {
        self.parts().pop().unwrap_or_default()
    }

    /// Every part kept, oldest first.
    pub fn parts(&self) -> Vec<Vec<u8>> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// What the recorder and its writer thread share.
#[derive(Debug, Default)]
struct Shared {
    error: Mutex<Option<RecordError>>,
    stats: Mutex<RecordingStats>,
}

/// A handle on a recorder's progress, usable after the recorder is gone
/// (a host that hands the recorder to code it does not control keeps one).
#[derive(Clone, Debug)]
pub struct RecordingHandle(Arc<Shared>);

impl RecordingHandle {
    /// The first recording error, if any.
    pub fn error(&self) -> Option<RecordError> {
        self.0.error.lock().ok().and_then(|e| e.clone())
    }

    /// What has been written so far (final once the recorder is finished
    /// or dropped).
    pub fn stats(&self) -> RecordingStats {
        self.0.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A call on its way to the writer thread.
struct Pending {
    /// The call, with its argument or input element.
    call: Call,
    /// What it answered (errors are described on the writer thread).
    outcome: Result<Answer, InvokeError>,
    metrics: InvocationMetrics,
    /// What the guest read and wrote (boxed: most calls have none).
    world: Option<Box<CallWorld>>,
}

impl Pending {
    /// The payload bytes it holds, input and outputs.
    fn payload_bytes(&self) -> usize {
        let input = self.call.element().map_or(0, |el| el.payload.len());
        let output: usize = match &self.outcome {
            Ok(answer) => answer.outputs().iter().map(|o| o.payload.len()).sum(),
            Err(_) => 0,
        };
        input + output
    }
}

/// A [`ComponentInvoker`] that forwards every call to `I` and records it.
///
/// The wrapped invoker's answers are returned unchanged, whatever happens
/// to the recording. The recording is finished (its end line written,
/// the file flushed) by [`Recorder::finish`] or when the recorder is
/// dropped.
pub struct Recorder<I> {
    inner: I,
    link: WriterLink,
}

/// The recorder's end of the writer thread; closing it (on drop too)
/// finishes the recording.
struct WriterLink {
    tx: Option<SyncSender<Pending>>,
    /// Calls the writer has written, handed back to be dropped on this
    /// thread (see `write::HandBack`).
    done: Receiver<Vec<Pending>>,
    writer: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl WriterLink {
    /// Drops the calls the writer has handed back.
    fn drop_written(&self) {
        while self.done.try_recv().is_ok() {}
    }

    fn close(&mut self) {
        drop(self.tx.take());
        if let Some(w) = self.writer.take()
            && w.join().is_err()
            && let Ok(mut e) = self.shared.error.lock()
        {
            e.get_or_insert(RecordError::Writer("it panicked".into()));
        }
    }
}

impl Drop for WriterLink {
    fn drop(&mut self) {
        self.close();
    }
}

impl<I: ComponentInvoker> Recorder<I> {
    /// Records `inner`'s calls to the file `path` (created or truncated).
    /// Fails, before any call, when the file cannot be created.
    pub fn to_file(
        inner: I,
        path: impl AsRef<Path>,
        options: RecordOptions,
    ) -> Result<Self, RecordError> {
        let path = path.as_ref().to_path_buf();
        let header = Self::header(&inner, &options);
        let sink = write::Sink::file(&path)?;
        Self::start(inner, sink, header, options)
    }

    /// Records `inner`'s calls into `memory`. Fails only for options that
    /// cannot work (a byte cap smaller than the header).
    pub fn to_memory(
        inner: I,
        memory: &MemoryRecording,
        options: RecordOptions,
    ) -> Result<Self, RecordError> {
        let header = Self::header(&inner, &options);
        let sink = write::Sink::memory(memory.clone());
        Self::start(inner, sink, header, options)
    }

    fn header(inner: &I, options: &RecordOptions) -> Header {
        Header {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            engine: format!("torvyn-engine {}", env!("CARGO_PKG_VERSION")),
            component: ComponentInfo {
                id: inner.component_id().as_str().to_string(),
                source: options.source.clone(),
                sha256: options.digest.as_ref().map(|d| hex(d)),
                backend: options.backend.clone(),
                roles: inner.roles().iter().map(|r| r.name().to_string()).collect(),
                grants: inner.grants().iter().map(str::to_string).collect(),
            },
            payloads: options.payloads,
            part: 0,
            first_call: 0,
            world: Some(inner.world_info()).filter(|w| !w.is_empty()),
        }
    }

    fn start(
        mut inner: I,
        sink: write::Sink,
        header: Header,
        options: RecordOptions,
    ) -> Result<Self, RecordError> {
        let shared = Arc::new(Shared::default());
        let spawned = write::spawn(sink, header, &options, shared.clone())?;
        // What each call reads from the outside world, from now on.
        inner.log_world(true);
        Ok(Self {
            inner,
            link: WriterLink {
                tx: Some(spawned.calls),
                done: spawned.done,
                writer: Some(spawned.thread),
                shared,
            },
        })
    }

    /// The wrapped invoker.
    pub fn inner(&self) -> &I {
        &self.inner
    }

    /// The wrapped invoker, mutably (calls made on it directly are not
    /// recorded).
    pub fn inner_mut(&mut self) -> &mut I {
        &mut self.inner
    }

    /// The first recording error so far, if any (a write that failed: the
    /// calls after it are not recorded; the calls themselves went on).
    pub fn error(&self) -> Option<RecordError> {
        self.handle().error()
    }

    /// A handle on the recording's errors and figures that outlives the
    /// recorder.
    pub fn handle(&self) -> RecordingHandle {
        RecordingHandle(self.link.shared.clone())
    }

    /// Finishes the recording (the end line, a flush) and gives back the
    /// wrapped invoker, with what was written or the first error.
    pub fn finish(self) -> (I, Result<RecordingStats, RecordError>) {
        let Self {
            mut inner,
            mut link,
        } = self;
        link.close();
        inner.log_world(false);
        let handle = RecordingHandle(link.shared.clone());
        let result = match handle.error() {
            Some(e) => Err(e),
            None => Ok(handle.stats()),
        };
        (inner, result)
    }

    /// Sends `call` and what it answered to the writer, and hands the
    /// answer back.
    fn record<T: Clone + Into<Answer>>(&mut self, call: Call, inv: Invocation<T>) -> Invocation<T> {
        // Empty, without a lock or an allocation, for a call that read and
        // wrote nothing outside.
        let world = self.inner.take_world();
        let world = (!world.is_empty()).then(|| Box::new(world));
        self.link.drop_written();
        if let Some(tx) = &self.link.tx {
            // After an error or the cap, the writer still takes every call
            // and counts it as dropped; `send` fails only if the writer
            // thread died, which `finish` reports.
            let _ = tx.send(Pending {
                call,
                outcome: inv.outcome.clone().map(Into::into),
                metrics: inv.metrics,
                world,
            });
        }
        inv
    }
}

impl<I: std::fmt::Debug> std::fmt::Debug for Recorder<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("inner", &self.inner)
            .field("stats", &RecordingHandle(self.link.shared.clone()).stats())
            .finish_non_exhaustive()
    }
}

impl<I: ComponentInvoker + Send> ComponentInvoker for Recorder<I> {
    fn component_id(&self) -> &ComponentId {
        self.inner.component_id()
    }

    fn roles(&self) -> Roles {
        self.inner.roles()
    }

    fn live_resources(&self) -> usize {
        self.inner.live_resources()
    }

    fn poisoned(&self) -> Option<&Fault> {
        self.inner.poisoned()
    }

    fn grants(&self) -> &Grants {
        self.inner.grants()
    }

    fn set_host_faults(&mut self, plan: crate::HostFaultPlan) {
        self.inner.set_host_faults(plan);
    }

    fn injected_fault(&self) -> Option<crate::InjectedFault> {
        self.inner.injected_fault()
    }

    fn world_info(&self) -> WorldInfo {
        self.inner.world_info()
    }

    /// The recorder logs what every call reads (it takes the log itself):
    /// logging cannot be turned off while it records.
    fn log_world(&mut self, on: bool) {
        let _ = on;
    }

    /// Empty: the recorder takes what each call read into its recording.
    fn take_world(&mut self) -> CallWorld {
        CallWorld::default()
    }

    fn script_world(&mut self, reads: &[WorldRead]) {
        self.inner.script_world(reads);
    }

    async fn init(&mut self, config: &str) -> Invocation<()> {
        let inv = self.inner.init(config).await;
        self.record(Call::Init(config.to_string()), inv)
    }

    async fn process(&mut self, element: StreamElement) -> Invocation<ProcessResult> {
        let inv = self.inner.process(element.clone()).await;
        self.record(Call::Process(element), inv)
    }

    async fn pull(&mut self) -> Invocation<Option<OutputElement>> {
        let inv = self.inner.pull().await;
        self.record(Call::Pull, inv)
    }

    async fn push(&mut self, element: StreamElement) -> Invocation<BackpressureSignal> {
        let inv = self.inner.push(element.clone()).await;
        self.record(Call::Push(element), inv)
    }

    async fn notify_backpressure(&mut self, signal: BackpressureSignal) -> Invocation<()> {
        let inv = self.inner.notify_backpressure(signal).await;
        self.record(Call::NotifyBackpressure(signal), inv)
    }

    async fn complete(&mut self) -> Invocation<()> {
        let inv = self.inner.complete().await;
        self.record(Call::Complete, inv)
    }

    async fn evaluate(&mut self, element: StreamElement) -> Invocation<bool> {
        let inv = self.inner.evaluate(element.clone()).await;
        self.record(Call::Evaluate(element), inv)
    }

    async fn route(&mut self, element: StreamElement) -> Invocation<Vec<String>> {
        let inv = self.inner.route(element.clone()).await;
        self.record(Call::Route(element), inv)
    }

    async fn ingest(&mut self, element: StreamElement) -> Invocation<Option<OutputElement>> {
        let inv = self.inner.ingest(element.clone()).await;
        self.record(Call::Ingest(element), inv)
    }

    async fn flush(&mut self) -> Invocation<Vec<OutputElement>> {
        let inv = self.inner.flush().await;
        self.record(Call::Flush, inv)
    }

    async fn teardown(&mut self) -> Invocation<()> {
        let inv = self.inner.teardown().await;
        self.record(Call::Teardown, inv)
    }
}

/// `ready` or `pause`.
pub fn signal_name(s: BackpressureSignal) -> &'static str {
    match s {
        BackpressureSignal::Ready => "ready",
        BackpressureSignal::Pause => "pause",
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
