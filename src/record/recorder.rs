//! The [`Recorder`]: a [`ComponentInvoker`] that forwards every call and
//! hands it to the writer thread (`write.rs`), and what a host keeps of a
//! recording in progress.
//!
//! Hot path: every recorded call crosses here.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::call::{Answer, Call};
use crate::error::{Fault, InvokeError};
use crate::traits::ComponentInvoker;
use crate::types::{
    BackpressureSignal, ComponentId, Grants, Invocation, InvocationMetrics, OutputElement,
    ProcessResult, Roles, StreamElement,
};
use crate::world::{CallWorld, WorldInfo, WorldRead};

use super::format::{ComponentInfo, FORMAT_NAME, FORMAT_VERSION, Header, PayloadMode, hex};
use super::write;

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
pub struct MemoryRecording(pub(super) Arc<Mutex<Vec<Vec<u8>>>>);

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
pub(super) struct Shared {
    pub(super) error: Mutex<Option<RecordError>>,
    pub(super) stats: Mutex<RecordingStats>,
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
pub(super) struct Pending {
    /// The call, with its argument or input element.
    pub(super) call: Call,
    /// What it answered (errors are described on the writer thread).
    pub(super) outcome: Result<Answer, InvokeError>,
    pub(super) metrics: InvocationMetrics,
    /// What the guest read and wrote (boxed: most calls have none).
    pub(super) world: Option<Box<CallWorld>>,
}

impl Pending {
    /// The payload bytes it holds, input and outputs.
    pub(super) fn payload_bytes(&self) -> usize {
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

    fn trace_host_calls(&mut self, on: bool) {
        self.inner.trace_host_calls(on);
    }

    fn host_call_trace(&self) -> &[crate::HostCall] {
        self.inner.host_call_trace()
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
