//! WASI p2 for guests: nothing granted, output captured, time and
//! randomness from the engine's own sources.
//!
//! Cold path (one context per instance), except the guest's own WASI calls.
//! A component built with a `wasm32-wasip2` toolchain imports WASI
//! interfaces even when it never uses them; they are all linked, but a
//! guest gets no files, no sockets, no environment and no arguments. Its
//! stdout and stderr are kept in memory up to a cap (the rest is counted and
//! discarded, never an error for the guest); its clocks read the engine
//! [`Clock`]; its random numbers come from the system generator or, with
//! [`crate::RandomSource::Seeded`], from a seeded generator.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

use crate::clock::Clock;
use crate::random::SplitMix64;

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    discarded: u64,
}

/// Guest output kept in memory up to a cap; cloning shares the buffer.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    inner: Arc<Mutex<Captured>>,
    cap: usize,
}

impl CapturedOutput {
    pub fn new(cap: usize) -> Self {
        Self {
            inner: Arc::default(),
            cap,
        }
    }

    fn write(&self, bytes: &[u8]) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let room = self.cap.saturating_sub(c.bytes.len());
        let kept = room.min(bytes.len());
        c.bytes.extend_from_slice(&bytes[..kept]);
        c.discarded += (bytes.len() - kept) as u64;
    }

    /// Takes what was captured so far, and how many bytes were discarded.
    pub fn take(&self) -> (Vec<u8>, u64) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = std::mem::take(&mut *c);
        (taken.bytes, taken.discarded)
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        CapturedOutput::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: what passes the cap is counted and discarded.
        Ok(1024 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        CapturedOutput::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct WallClock(Clock);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.0.wall_now()
    }
}

struct MonotonicClock(Clock);

impl HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.now_ns()
    }
}

/// A WASI context that grants nothing, with captured output, the engine's
/// clocks and the engine's randomness: generators from `seed` (the
/// instance's, [`crate::RandomSource::seed_for`]), or the OS generator without one.
pub(crate) fn context(
    clock: &Clock,
    seed: Option<u64>,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(WallClock(clock.clone()))
        .monotonic_clock(MonotonicClock(clock.clone()))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    if let Some(seed) = seed {
        b.secure_random(SplitMix64::new(seed))
            .insecure_random(SplitMix64::new(seed ^ 0x5EED))
            .insecure_random_seed(u128::from(seed));
    }
    b.build()
}
