//! The writer thread: encodes each call as one JSON line (payloads as
//! base64 or digests, a CRC-32 per line), keeps parts under the byte cap
//! and rotates them, and reports errors to the recorder's shared state.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{
    End, Header, MemoryRecording, PayloadMode, Pending, RecordError, RecordOptions,
    RecordedMetrics, Shared, hex,
};
use crate::call::{Answer, Call};
use crate::error::InvokeError;
use crate::types::{OutputElement, StreamElement};
#[cfg(doc)]
use crate::world::WorldInterface;
use crate::world::{CallWorld, WorldRead};

/// Room kept in every part for its end line.
const END_RESERVE: u64 = 96;

/// How long the writer sleeps when it finds the queue empty right after
/// writing calls; each empty poll after that doubles it, up to
/// `MAX_POLL_INTERVAL`. The default queue (4096 calls) takes longer than
/// the longest sleep to fill at a microsecond a call, so the caller does
/// not wait for the writer.
const POLL_INTERVAL: Duration = Duration::from_micros(500);

/// The longest sleep between two polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_millis(2);

/// How long without a call (about) before the writer blocks until the
/// next one.
const IDLE_BEFORE_BLOCKING: Duration = Duration::from_secs(1);

/// Batches of written calls waiting to be dropped on the calling thread.
const HAND_BACK_BATCHES: usize = 16;

/// Calls in one hand-back batch.
const HAND_BACK_BATCH: usize = 64;

/// A call whose payloads are larger than this in all is dropped on the
/// writer thread.
const HAND_BACK_MAX_BYTES: usize = 16 << 10;

/// Written calls on their way back to the calling thread, which drops them
/// at its next call ([`super::Recorder`]).
///
/// What a call holds was allocated on the calling thread: the payloads
/// (the host's buffers, the guest's outputs), content types, error texts.
/// Freed here, it would go back to the calling thread's allocator arena
/// from another thread: with glibc's allocator the two threads then
/// contend for the arena's lock on every call, and the caller paid for it
/// in futex system calls (`benches/record.rs`, `uppercase`). Calls go back
/// in batches, so the caller takes one from the queue every
/// `HAND_BACK_BATCH` calls, not one a call. A call with large payloads is
/// dropped here (a large buffer has a mapping of its own: no arena lock),
/// and so is a batch that finds the queue full, so at most
/// `HAND_BACK_BATCHES * HAND_BACK_BATCH` calls (16 MiB of payloads) wait
/// for the caller.
struct HandBack {
    queue: SyncSender<Vec<Pending>>,
    batch: Vec<Pending>,
}

impl HandBack {
    fn keep(&mut self, call: Pending) {
        if call.payload_bytes() <= HAND_BACK_MAX_BYTES {
            self.batch.push(call);
            if self.batch.len() >= HAND_BACK_BATCH {
                self.send();
            }
        }
    }

    /// Sends the batch so far (when the queue is full, drops it here).
    fn send(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(HAND_BACK_BATCH));
            let _ = self.queue.try_send(batch);
        }
    }
}

/// Where the lines go.
pub(super) enum Sink {
    File { path: PathBuf, out: BufWriter<File> },
    Memory(MemoryRecording),
}

impl Sink {
    pub(super) fn file(path: &Path) -> Result<Self, RecordError> {
        let file = File::create(path).map_err(|e| io_error("create", path, &e))?;
        Ok(Self::File {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 18, file),
        })
    }

    pub(super) fn memory(memory: MemoryRecording) -> Self {
        if let Ok(mut parts) = memory.0.lock() {
            parts.clear();
            parts.push(Vec::new());
        }
        Self::Memory(memory)
    }

    fn path(&self) -> Option<PathBuf> {
        match self {
            Self::File { path, .. } => Some(path.clone()),
            Self::Memory(_) => None,
        }
    }

    fn write(&mut self, line: &[u8]) -> Result<(), RecordError> {
        match self {
            Self::File { path, out } => {
                out.write_all(line).map_err(|e| io_error("write", path, &e))
            }
            Self::Memory(m) => {
                if let Ok(mut parts) = m.0.lock()
                    && let Some(last) = parts.last_mut()
                {
                    last.extend_from_slice(line);
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        match self {
            Self::File { path, out } => out.flush().map_err(|e| io_error("write", path, &e)),
            Self::Memory(_) => Ok(()),
        }
    }

    /// Closes the current part and begins a new one, keeping `keep` old
    /// parts: `FILE.1` is the newest closed one.
    fn rotate(&mut self, keep: u32) -> Result<(), RecordError> {
        self.flush()?;
        match self {
            Self::File { path, out } => {
                let numbered = |k: u32| {
                    let mut p = path.clone().into_os_string();
                    p.push(format!(".{k}"));
                    PathBuf::from(p)
                };
                let _ = std::fs::remove_file(numbered(keep));
                for k in (1..keep).rev() {
                    let from = numbered(k);
                    if from.exists() {
                        std::fs::rename(&from, numbered(k + 1))
                            .map_err(|e| io_error("rotate", &from, &e))?;
                    }
                }
                std::fs::rename(&*path, numbered(1)).map_err(|e| io_error("rotate", path, &e))?;
                let file = File::create(&*path).map_err(|e| io_error("create", path, &e))?;
                *out = BufWriter::with_capacity(1 << 18, file);
                Ok(())
            }
            Self::Memory(m) => {
                if let Ok(mut parts) = m.0.lock() {
                    // The part that falls out becomes the new one, cleared:
                    // its memory is already allocated and paged in, so a
                    // long recording neither grows a vector from empty nor
                    // faults in fresh pages at every rotation.
                    let excess = parts.len().saturating_sub(keep as usize);
                    let mut fresh = parts
                        .drain(..excess)
                        .max_by_key(Vec::capacity)
                        .unwrap_or_default();
                    fresh.clear();
                    parts.push(fresh);
                }
                Ok(())
            }
        }
    }
}

fn io_error(action: &'static str, path: &Path, e: &std::io::Error) -> RecordError {
    RecordError::Io {
        action,
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The recorder's ends of a started writer.
pub(super) struct Spawned {
    /// Where calls go to be written.
    pub calls: SyncSender<Pending>,
    /// Where written calls come back, to be dropped (see [`HandBack`]).
    pub done: Receiver<Vec<Pending>>,
    /// The writer thread.
    pub thread: JoinHandle<()>,
}

/// Starts the writer: writes the header at once (so a file that cannot be
/// written fails here), then one line per call received.
pub(super) fn spawn(
    mut sink: Sink,
    header: Header,
    options: &RecordOptions,
    shared: Arc<Shared>,
) -> Result<Spawned, RecordError> {
    let mut state = Writer {
        header,
        max_bytes: options.max_bytes,
        keep: options.keep_rotated,
        payloads: options.payloads,
        part_bytes: 0,
        part_calls: 0,
        next_call: 0,
        stopped: false,
        line: Vec::with_capacity(4096),
        shared,
    };
    let header_line = state.header_line();
    if let Some(max) = options.max_bytes
        && header_line.len() as u64 + END_RESERVE > max
    {
        return Err(RecordError::InvalidOptions(format!(
            "max_bytes {max} is smaller than the header and end line ({} bytes); allow at \
             least a few KiB per part",
            header_line.len() as u64 + END_RESERVE
        )));
    }
    sink.write(&header_line)?;
    state.part_bytes = header_line.len() as u64;
    state.update_stats(|s| {
        s.parts = 1;
        s.bytes = header_line.len() as u64;
        s.path = sink.path();
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(options.queue_capacity.max(1));
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(HAND_BACK_BATCHES);
    let handle = std::thread::Builder::new()
        .name("torvyn-recorder".into())
        .spawn(move || state.run(sink, rx, done_tx))
        .map_err(|e| RecordError::Writer(format!("it could not be started: {e}")))?;
    Ok(Spawned {
        calls: tx,
        done: done_rx,
        thread: handle,
    })
}

struct Writer {
    header: Header,
    max_bytes: Option<u64>,
    keep: u32,
    payloads: PayloadMode,
    part_bytes: u64,
    part_calls: u64,
    next_call: u64,
    /// No more lines: an error, or the cap without rotation.
    stopped: bool,
    line: Vec<u8>,
    shared: Arc<Shared>,
}

impl Writer {
    fn run(mut self, mut sink: Sink, rx: Receiver<Pending>, done: SyncSender<Vec<Pending>>) {
        let mut done = HandBack {
            queue: done,
            batch: Vec::with_capacity(HAND_BACK_BATCH),
        };
        // Poll while calls come, block once they have stopped for a while.
        // A writer blocked in `recv` must be woken by the caller's `send`:
        // a futex wake-up, a system call on every call, more than the
        // line costs to write, and the scheduler tends to move the woken
        // writer onto the caller's core, where the two then take turns. A
        // polling writer is never asleep in the channel, so `send` is a
        // few atomic operations, and it wakes on its own timer where it
        // last ran. After `IDLE_BEFORE_BLOCKING` without a call the writer
        // blocks, and only the call that ends the pause wakes it.
        let mut interval = POLL_INTERVAL;
        let mut idle = Duration::ZERO;
        loop {
            let call = match rx.try_recv() {
                Ok(call) => call,
                Err(TryRecvError::Empty) if idle < IDLE_BEFORE_BLOCKING => {
                    done.send();
                    std::thread::sleep(interval);
                    idle += interval;
                    interval = (interval * 2).min(MAX_POLL_INTERVAL);
                    continue;
                }
                Err(TryRecvError::Empty) => match rx.recv() {
                    // (The batch went back at the first empty poll.)
                    Ok(call) => call,
                    Err(_) => break,
                },
                Err(TryRecvError::Disconnected) => break,
            };
            idle = Duration::ZERO;
            interval = POLL_INTERVAL;
            if self.stopped {
                self.update_stats(|s| s.calls_dropped += 1);
            } else if let Err(e) = self.write_call(&mut sink, &call) {
                self.fail(e);
                self.update_stats(|s| s.calls_dropped += 1);
            }
            done.keep(call);
        }
        if !self.stopped {
            let end = End {
                calls: self.part_calls,
                ..End::default()
            };
            let r = self.write_end(&mut sink, end).and_then(|()| sink.flush());
            if let Err(e) = r {
                self.fail(e);
            }
        } else {
            let _ = sink.flush();
        }
    }

    fn fail(&mut self, e: RecordError) {
        self.stopped = true;
        if let Ok(mut slot) = self.shared.error.lock() {
            slot.get_or_insert(e);
        }
    }

    fn update_stats(&self, f: impl FnOnce(&mut super::RecordingStats)) {
        if let Ok(mut s) = self.shared.stats.lock() {
            f(&mut s);
        }
    }

    fn header_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(&self.header).unwrap_or_default();
        // Re-open the object to append the checksum.
        line.pop();
        finish_line(&mut line);
        line
    }

    fn write_end(&mut self, sink: &mut Sink, end: End) -> Result<(), RecordError> {
        let mut line = b"{\"end\":".to_vec();
        line.extend(serde_json::to_vec(&end).unwrap_or_default());
        finish_line(&mut line);
        sink.write(&line)?;
        self.update_stats(|s| s.bytes += line.len() as u64);
        Ok(())
    }

    fn write_call(&mut self, sink: &mut Sink, call: &Pending) -> Result<(), RecordError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        encode_call(&mut line, self.next_call, call, self.payloads);
        finish_line(&mut line);
        let len = line.len() as u64;
        let result = self.place(sink, &line, len);
        self.line = line;
        result
    }

    /// Writes `line` in the current part, or in a new one, or stops.
    fn place(&mut self, sink: &mut Sink, line: &[u8], len: u64) -> Result<(), RecordError> {
        if let Some(max) = self.max_bytes
            && self.part_bytes + len + END_RESERVE > max
        {
            let fits_alone = self.header_line().len() as u64 + len + END_RESERVE <= max;
            if self.keep == 0 || !fits_alone || self.part_calls == 0 {
                // The cap ends the recording here.
                let end = End {
                    calls: self.part_calls,
                    truncated: true,
                    rotated: false,
                };
                self.write_end(sink, end)?;
                sink.flush()?;
                self.stopped = true;
                self.update_stats(|s| {
                    s.truncated = true;
                    s.calls_dropped += 1;
                });
                return Ok(());
            }
            let end = End {
                calls: self.part_calls,
                truncated: false,
                rotated: true,
            };
            self.write_end(sink, end)?;
            sink.rotate(self.keep)?;
            self.header.part += 1;
            self.header.first_call = self.next_call;
            let header = self.header_line();
            sink.write(&header)?;
            self.part_bytes = header.len() as u64;
            self.part_calls = 0;
            self.update_stats(|s| {
                s.parts += 1;
                s.bytes += header.len() as u64;
            });
        }
        sink.write(line)?;
        self.part_bytes += len;
        self.part_calls += 1;
        self.next_call += 1;
        self.update_stats(|s| {
            s.calls += 1;
            s.bytes += len;
        });
        Ok(())
    }
}

/// Appends `,"crc":"XXXXXXXX"}` and a newline: the CRC-32 of the bytes so
/// far (the line without its checksum and closing brace).
fn finish_line(line: &mut Vec<u8>) {
    let crc = crc32fast::hash(line);
    line.extend_from_slice(b",\"crc\":\"");
    // Writing to a Vec cannot fail.
    let _ = write!(line, "{crc:08x}");
    line.extend_from_slice(b"\"}\n");
}

/// `s` as a JSON string. Content types and ids are printable ASCII
/// without quotes or backslashes almost always: those are copied as they
/// are; anything else goes through `serde_json`, which escapes exactly as
/// JSON needs (writing to a Vec cannot fail).
fn push_str(line: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        line.push(b'"');
        line.extend_from_slice(s.as_bytes());
        line.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *line, s);
    }
}

/// `key` (its comma and quotes included) then `n`.
fn push_field_u64(line: &mut Vec<u8>, key: &[u8], n: u64) {
    line.extend_from_slice(key);
    push_u64(line, n);
}

/// A call's [`RecordedMetrics`] as its `Serialize` writes it (the fields in
/// declaration order), without going through `serde_json`.
fn push_metrics(line: &mut Vec<u8>, m: &RecordedMetrics) {
    push_field_u64(line, b"{\"fuel\":", m.fuel);
    push_field_u64(line, b",\"ns\":", m.ns);
    push_field_u64(line, b",\"bytes_in\":", m.bytes_in);
    push_field_u64(line, b",\"bytes_out\":", m.bytes_out);
    push_field_u64(line, b",\"buffers\":", u64::from(m.buffers));
    push_field_u64(line, b",\"host_calls\":", u64::from(m.host_calls));
    push_field_u64(line, b",\"reclaimed\":", u64::from(m.reclaimed));
    push_field_u64(line, b",\"memory\":", m.memory);
    line.push(b'}');
}

/// A flow context as [`super::RecordedContext`]'s `Serialize` writes it
/// (empty ids and no deadline left out), without copying its ids.
fn push_context(line: &mut Vec<u8>, c: &crate::FlowContext) {
    line.push(b'{');
    let mut first = true;
    let mut key = |line: &mut Vec<u8>, name: &[u8]| {
        if !first {
            line.push(b',');
        }
        first = false;
        line.extend_from_slice(name);
    };
    for (name, id) in [
        (&b"\"trace\":"[..], c.trace_id()),
        (b"\"span\":", c.span_id()),
        (b"\"flow\":", c.flow_id()),
    ] {
        if !id.is_empty() {
            key(line, name);
            push_str(line, id);
        }
    }
    if let Some(d) = c.deadline_ns() {
        key(line, b"\"deadline\":");
        push_u64(line, d);
    }
    line.push(b'}');
}

fn push_u64(line: &mut Vec<u8>, n: u64) {
    // `itoa` (serde_json's own): two digits per step from a table.
    line.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn push_payload(line: &mut Vec<u8>, bytes: &[u8], mode: PayloadMode) {
    match mode {
        PayloadMode::Stored => {
            line.extend_from_slice(b"{\"b64\":\"");
            base64_simd::STANDARD.encode_append(bytes, line);
            line.extend_from_slice(b"\"}");
        }
        PayloadMode::Digest => {
            line.extend_from_slice(b"{\"len\":");
            push_u64(line, bytes.len() as u64);
            line.extend_from_slice(b",\"sha256\":\"");
            line.extend_from_slice(hex(&super::sha256(bytes)).as_bytes());
            line.extend_from_slice(b"\"}");
        }
    }
}

/// `{"seq":N,"ts":N,"ct":"..."`: the fields an input and an output share
/// (the object is left open).
fn push_meta(line: &mut Vec<u8>, meta: &crate::types::ElementMeta) {
    line.extend_from_slice(b"{\"seq\":");
    push_u64(line, meta.sequence);
    line.extend_from_slice(b",\"ts\":");
    push_u64(line, meta.timestamp_ns);
    line.extend_from_slice(b",\"ct\":");
    push_str(line, meta.content_type.as_str());
}

fn push_input(line: &mut Vec<u8>, el: &StreamElement, mode: PayloadMode) {
    push_meta(line, &el.meta);
    line.extend_from_slice(b",\"payload\":");
    push_payload(line, &el.payload, mode);
    line.extend_from_slice(b",\"ctx\":");
    push_context(line, &el.context);
    line.push(b'}');
}

fn push_output(
    line: &mut Vec<u8>,
    out: &OutputElement,
    mode: PayloadMode,
    input: Option<&StreamElement>,
) {
    push_meta(line, &out.meta);
    if out.buffer_content_type != out.meta.content_type {
        line.extend_from_slice(b",\"bct\":");
        push_str(line, out.buffer_content_type.as_str());
    }
    line.extend_from_slice(b",\"payload\":");
    match input {
        // Stored once: the reader takes the input's bytes
        // (`read::output_payload`).
        Some(el) if mode == PayloadMode::Stored && el.payload == out.payload => {
            line.extend_from_slice(b"{\"in\":true}");
        }
        _ => push_payload(line, &out.payload, mode),
    }
    line.push(b'}');
}

fn encode_call(line: &mut Vec<u8>, index: u64, call: &Pending, mode: PayloadMode) {
    line.extend_from_slice(b"{\"call\":");
    push_u64(line, index);
    line.extend_from_slice(b",\"fn\":\"");
    line.extend_from_slice(call.call.function().name().as_bytes());
    line.push(b'"');
    match &call.call {
        Call::Init(config) => {
            line.extend_from_slice(b",\"arg\":");
            push_str(line, config);
        }
        Call::NotifyBackpressure(s) => {
            line.extend_from_slice(b",\"arg\":");
            push_str(line, s.name());
        }
        _ => {}
    }
    let input = call.call.element();
    if let Some(el) = input {
        line.extend_from_slice(b",\"in\":");
        push_input(line, el, mode);
    }
    line.extend_from_slice(b",\"out\":");
    match &call.outcome {
        Ok(Answer::Done) => line.extend_from_slice(b"\"ok\""),
        Ok(Answer::Drop) => line.extend_from_slice(b"\"drop\""),
        Ok(Answer::Nothing) => line.extend_from_slice(b"\"none\""),
        Ok(Answer::Emit(o)) => {
            line.extend_from_slice(b"{\"emit\":");
            push_output(line, o, mode, input);
            line.push(b'}');
        }
        Ok(Answer::Signal(s)) => {
            line.extend_from_slice(b"{\"signal\":\"");
            line.extend_from_slice(s.name().as_bytes());
            line.extend_from_slice(b"\"}");
        }
        Ok(Answer::Verdict(p)) => {
            line.extend_from_slice(if *p {
                b"{\"pass\":true}"
            } else {
                b"{\"pass\":false}"
            });
        }
        Ok(Answer::Ports(ports)) => {
            line.extend_from_slice(b"{\"ports\":");
            let _ = serde_json::to_writer(&mut *line, ports);
            line.push(b'}');
        }
        Ok(Answer::Flushed(outs)) => {
            line.extend_from_slice(b"{\"flushed\":[");
            for (i, o) in outs.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                push_output(line, o, mode, input);
            }
            line.extend_from_slice(b"]}");
        }
        Err(InvokeError::Guest(g)) => {
            line.extend_from_slice(b"{\"error\":{\"kind\":");
            push_str(line, g.kind());
            if let Some(m) = g.message() {
                line.extend_from_slice(b",\"message\":");
                push_str(line, m);
            }
            line.extend_from_slice(b"}}");
        }
        Err(InvokeError::Fault(f)) => {
            line.extend_from_slice(b"{\"fault\":{\"kind\":");
            push_str(line, f.kind.name());
            line.extend_from_slice(b",\"message\":");
            push_str(line, &f.kind.to_string());
            line.extend_from_slice(b"}}");
        }
    }
    line.extend_from_slice(b",\"m\":");
    push_metrics(line, &RecordedMetrics::from(&call.metrics));
    if let Some(world) = &call.world {
        push_world(line, world, mode);
    }
}

/// A call's `w` (what it read, when it read something), `stdout` and
/// `stderr` (when it wrote some), the payloads as `mode` says.
fn push_world(line: &mut Vec<u8>, world: &CallWorld, mode: PayloadMode) {
    if !world.reads.is_empty() {
        line.extend_from_slice(b",\"w\":[");
        for (i, r) in world.reads.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_read(line, r);
        }
        line.push(b']');
    }
    for (key, bytes) in [
        (&b",\"stdout\":"[..], &world.stdout),
        (b",\"stderr\":", &world.stderr),
    ] {
        if !bytes.is_empty() {
            line.extend_from_slice(key);
            push_payload(line, bytes, mode);
        }
    }
}

/// One read as `{"KEY": VALUE}`: `[SECONDS, NANOSECONDS]` for the wall
/// clock, a number for the monotonic clock and the `u64` reads, hex for
/// random bytes (see [`WorldInterface::key`]).
pub(super) fn push_read(line: &mut Vec<u8>, r: &WorldRead) {
    line.extend_from_slice(b"{\"");
    line.extend_from_slice(r.interface().key().as_bytes());
    line.extend_from_slice(b"\":");
    match r {
        WorldRead::WallClockNow(d) | WorldRead::WallClockResolution(d) => {
            line.push(b'[');
            push_u64(line, d.as_secs());
            line.push(b',');
            push_u64(line, u64::from(d.subsec_nanos()));
            line.push(b']');
        }
        WorldRead::MonotonicClockNow(n)
        | WorldRead::MonotonicClockResolution(n)
        | WorldRead::RandomU64(n)
        | WorldRead::InsecureRandomU64(n) => push_u64(line, *n),
        WorldRead::RandomBytes(b) | WorldRead::InsecureRandomBytes(b) => {
            line.push(b'"');
            line.extend_from_slice(hex(b).as_bytes());
            line.push(b'"');
        }
    }
    line.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FlowContext;

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut line = Vec::new();
        f(&mut line);
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "",
            "text/plain",
            "application/json; charset=utf-8",
            "a \"quoted\" type",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "\u{7f} delete",
            "caf\u{e9} \u{1f600}",
        ] {
            assert_eq!(
                written(|l| push_str(l, s)),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn metrics_are_written_as_serde_json_writes_them() {
        for m in [
            RecordedMetrics::default(),
            RecordedMetrics {
                fuel: u64::MAX,
                ns: 1,
                bytes_in: 1024,
                bytes_out: 7,
                buffers: u32::MAX,
                host_calls: 12,
                reclaimed: 3,
                memory: 1 << 20,
            },
        ] {
            assert_eq!(
                written(|l| push_metrics(l, &m)),
                serde_json::to_string(&m).unwrap()
            );
        }
    }

    #[test]
    fn contexts_are_written_as_serde_json_writes_them() {
        for c in [
            FlowContext::default(),
            FlowContext::new("flow-1"),
            FlowContext::new("").with_deadline_ns(5),
            FlowContext::new("f").with_trace("t\"race", "span"),
            FlowContext::new("")
                .with_trace("", "s")
                .with_deadline_ns(u64::MAX),
        ] {
            assert_eq!(
                written(|l| push_context(l, &c)),
                serde_json::to_string(&super::super::RecordedContext::of(&c)).unwrap(),
                "{c:?}"
            );
        }
    }
}
