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

mod format;
mod read;
mod recorder;
mod write;

pub use format::{
    CallRecord, ComponentInfo, End, FORMAT_NAME, FORMAT_VERSION, Header, OLDEST_VERSION, Payload,
    PayloadMode, RecordedContext, RecordedElement, RecordedMetrics, RecordedOutcome,
    RecordedOutput, Recording, decode_hex, hex, sha256,
};
pub use read::{ReadOptions, RecordingError};
pub use recorder::{
    MemoryRecording, RecordError, RecordOptions, Recorder, RecordingHandle, RecordingStats,
};
use recorder::{Pending, Shared};

#[cfg(doc)]
use crate::ComponentInvoker;
