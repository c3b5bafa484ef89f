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
//! [`crate::RandomSource::Seeded`], from a seeded generator. Every clock
//! and random read, and every write to stdout and stderr, goes through the
//! instance's [`WorldTap`] (`crate::world`), which logs it when a recorder
//! asks and gives recorded values back when a replay does.

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
use crate::world::WorldTap;
use rand_core::Rng as _;

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    discarded: u64,
}

/// Guest output kept in memory up to a cap; cloning shares the buffer.
/// What the guest writes is also shown to the instance's tap (which logs
/// it per call when a recorder asks).
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    inner: Arc<Mutex<Captured>>,
    cap: usize,
    tap: WorldTap,
    stderr: bool,
}

impl CapturedOutput {
    /// Stdout (`stderr` false) or stderr of the instance whose tap is `tap`.
    pub fn new(cap: usize, tap: &WorldTap, stderr: bool) -> Self {
        Self {
            inner: Arc::default(),
            cap,
            tap: tap.clone(),
            stderr,
        }
    }

    fn write(&self, bytes: &[u8]) {
        self.tap.wrote(self.stderr, bytes);
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

/// The guest's wall clock: the engine clock's, through the tap.
struct WallClock {
    clock: Clock,
    tap: WorldTap,
}

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        self.tap.wall_clock_resolution(|| Duration::from_nanos(1))
    }

    fn now(&self) -> Duration {
        self.tap.wall_clock_now(|| self.clock.wall_now())
    }
}

/// The guest's monotonic clock: the engine clock's, through the tap.
struct MonotonicClock {
    clock: Clock,
    tap: WorldTap,
}

impl HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        self.tap.monotonic_clock_resolution(|| 1)
    }

    fn now(&self) -> u64 {
        self.tap.monotonic_clock_now(|| self.clock.now_ns())
    }
}

/// Where a guest's random values come from when nothing is scripted.
enum Live {
    /// A generator from the instance's seed.
    Seeded(SplitMix64),
    /// The operating system's randomness (Wasmtime's default generator,
    /// seeded from it).
    Os(Box<dyn wasmtime_wasi::Rng + Send>),
}

impl Live {
    fn next_u32(&mut self) -> u32 {
        match self {
            Self::Seeded(g) => (g.next_u64() >> 32) as u32,
            Self::Os(g) => g.next_u32(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self {
            Self::Seeded(g) => g.next_u64(),
            Self::Os(g) => g.next_u64(),
        }
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self {
            Self::Seeded(g) => g.fill(buf),
            Self::Os(g) => g.fill_bytes(buf),
        }
    }
}

/// A guest's `wasi:random/random` (or `insecure`) generator, through the
/// tap. WASI's `get-random-bytes` draws one `u32` per byte and keeps its
/// low byte; `get-random-u64` draws one `u64`.
struct TapRng {
    live: Live,
    tap: WorldTap,
    insecure: bool,
}

impl rand_core::TryRng for TapRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        // A byte of `get-random-bytes`: logged as one, given back as one.
        let mut byte = [0u8];
        let live = &mut self.live;
        self.tap.random_bytes(self.insecure, true, &mut byte, |b| {
            b[0] = live.next_u32() as u8
        });
        Ok(u32::from(byte[0]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let live = &mut self.live;
        Ok(self.tap.random_u64(self.insecure, || live.next_u64()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let live = &mut self.live;
        self.tap
            .random_bytes(self.insecure, false, dst, |b| live.fill(b));
        Ok(())
    }
}

/// The value `wasi:random/insecure-seed` answers for an instance: the one
/// given (a replay's, from its recording), else one from `seed`, else one
/// from the operating system.
pub(crate) fn insecure_seed(given: Option<u128>, seed: Option<u64>) -> u128 {
    given.or(seed.map(u128::from)).unwrap_or_else(|| {
        let mut os = wasmtime_wasi::thread_rng();
        u128::from(os.next_u64()) << 64 | u128::from(os.next_u64())
    })
}

/// A WASI context that grants nothing, with captured output, the engine's
/// clocks and the engine's randomness: generators from `seed` (the
/// instance's, [`crate::RandomSource::seed_for`]), or the OS generator
/// without one; `insecure-seed` answers `insecure_seed`. Clocks and
/// generators read through `tap`.
pub(crate) fn context(
    clock: &Clock,
    seed: Option<u64>,
    insecure_seed: u128,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
    tap: &WorldTap,
) -> WasiCtx {
    let live = |salt: u64| match seed {
        Some(seed) => Live::Seeded(SplitMix64::new(seed ^ salt)),
        None => Live::Os(wasmtime_wasi::thread_rng()),
    };
    let mut b = WasiCtxBuilder::new();
    b.stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(WallClock {
            clock: clock.clone(),
            tap: tap.clone(),
        })
        .monotonic_clock(MonotonicClock {
            clock: clock.clone(),
            tap: tap.clone(),
        })
        .secure_random(TapRng {
            live: live(0),
            tap: tap.clone(),
            insecure: false,
        })
        .insecure_random(TapRng {
            live: live(0x5EED),
            tap: tap.clone(),
            insecure: true,
        })
        .insecure_random_seed(insecure_seed)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    b.build()
}
