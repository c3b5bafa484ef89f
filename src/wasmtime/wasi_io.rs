//! WASI p2's waiting calls without an async runtime, so a guest call can be
//! awaited inside any tokio runtime.
//!
//! Cold path (the guest's own WASI calls). wasmtime-wasi's synchronous
//! bindings run the waiting calls (`wasi:io/poll`, the `blocking-*`
//! functions and the drops of `wasi:io/streams`, `udp-create-socket`)
//! through a tokio `block_on` on the *current* runtime; called from a task
//! of a tokio runtime (how a streaming host awaits a
//! [`ComponentInvoker`](crate::ComponentInvoker) method), that panics the
//! host ("Cannot start a runtime from within a runtime") as soon as a guest
//! prints. The engine grants no files, sockets or stdin: everything a guest
//! can wait on is ready at once (its captured stdout and stderr, the closed
//! stdin) except time. So this module links those functions again, over
//! wasmtime-wasi's own (`Linker::allow_shadowing`), and runs each one's
//! future to completion on the calling thread without a runtime:
//!
//! - a future that is ready when first polled gives its value (a write to
//!   captured output, a closed stream, a refused socket);
//! - time is the engine's: `wasi:clocks/monotonic-clock`'s `subscribe-*`
//!   make pollables on the engine [`Clock`], and a guest that blocks on
//!   one waits on it (`HostResources::wait_until`): a virtual clock
//!   moves to the instant at once (deterministic, and counted against the
//!   call's deadline like any other time), the system clock is slept on,
//!   never past the call's deadline (the guest is then stopped with
//!   `DeadlineExceeded`);
//! - a future that can never be ready here is a trap that says so, not a
//!   hang.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable, ResourceType};
use wasmtime_wasi::clocks::{WasiClocksCtxView, WasiClocksView};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock::{self, Duration, Instant};
use wasmtime_wasi::p2::bindings::io::{poll as async_poll, streams as async_streams};
use wasmtime_wasi::p2::bindings::sockets::network;
use wasmtime_wasi::p2::bindings::sockets::udp_create_socket as async_udp;
use wasmtime_wasi::p2::bindings::sync::io::streams;
use wasmtime_wasi::p2::bindings::sync::sockets::udp_create_socket;
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, DynPollable, Pollable, SocketError, SocketResult, StreamError,
    StreamResult, UdpSocket, subscribe,
};
use wasmtime_wasi::sockets::{WasiSocketsCtxView, WasiSocketsView};

use super::host::{Cx, HostState};
use crate::clock::Clock;

/// The `wasi:io/poll` interface this module links (the version the
/// wasmtime-wasi bindings define; older 0.2 imports find it by semver).
const POLL: &str = "wasi:io/poll@0.2.12";

/// Links WASI p2 for `HostState`: wasmtime-wasi's synchronous bindings,
/// then this module's runtime-free waiting calls over theirs.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let shadowed = shadow(linker);
    linker.allow_shadowing(false);
    shadowed
}

fn shadow(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    streams::add_to_linker::<HostState, Streams>(l, |s| StreamsView(&mut s.wasi_table))?;
    monotonic_clock::add_to_linker::<HostState, Clocks>(l, |s| {
        let wake = Arc::clone(&s.wake);
        let clock = s.res.clock().clone();
        ClocksView {
            wasi: s.clocks(),
            wake,
            clock,
        }
    })?;
    udp_create_socket::add_to_linker::<HostState, Sockets>(l, |s| SocketsView(s.sockets()))?;
    add_poll(l)
}

/// The earliest instant any clock pollable polled since the last reset was
/// waiting for, shared by an instance's clock pollables and its waits.
#[derive(Debug)]
pub(crate) struct Wake(AtomicU64);

impl Default for Wake {
    fn default() -> Self {
        Self(AtomicU64::new(u64::MAX))
    }
}

impl Wake {
    fn reset(&self) {
        self.0.store(u64::MAX, Ordering::Relaxed);
    }

    fn wait_for(&self, at_ns: u64) {
        self.0.fetch_min(at_ns, Ordering::Relaxed);
    }

    fn earliest(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&at| at != u64::MAX)
    }
}

/// Polls `future` once: its value if it is ready.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// The trap of a waiting call that can never finish here.
fn never_ready(what: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "the guest waited in `{what}` on something that cannot become ready in this engine \
         (it grants no files, sockets or stdin, and runs no async runtime for WASI): keep the \
         guest from waiting on it"
    ))
}

/// A waiting stream call, run to completion: only futures that are ready
/// at once (every stream this engine gives a guest) finish; another one is
/// a trap.
fn stream_call<T>(what: &str, future: impl Future<Output = StreamResult<T>>) -> StreamResult<T> {
    poll_once(future).unwrap_or_else(|| Err(StreamError::Trap(never_ready(what))))
}

/// A waiting call of `wasi:io/poll` on the instance `cx`: `attempt` looks
/// once (`None`: nothing ready yet); in between, the instance waits for the
/// earliest clock pollable it polled, within the call's deadline.
fn wait_for<T>(
    cx: &mut Cx<'_>,
    what: &str,
    mut attempt: impl FnMut(&mut ResourceTable) -> wasmtime::Result<Option<T>>,
) -> wasmtime::Result<T> {
    loop {
        let state = cx.data_mut();
        state.wake.reset();
        if let Some(v) = attempt(&mut state.wasi_table)? {
            return Ok(v);
        }
        let Some(until) = state.wake.earliest() else {
            return Err(never_ready(what));
        };
        wait(cx, until)?;
    }
}

/// Waits until `until_ns` on the engine clock (see
/// `HostResources::wait_until`), cutting the guest's fuel to the time
/// its deadline leaves on a virtual clock.
fn wait(cx: &mut Cx<'_>, until_ns: u64) -> wasmtime::Result<()> {
    let fuel_left = cx.get_fuel().unwrap_or(0);
    match cx.data_mut().res.wait_until(until_ns, fuel_left) {
        Ok(Some(allowed)) => cx.set_fuel(allowed),
        Ok(None) => Ok(()),
        Err(passed) => Err(wasmtime::Error::new(passed)),
    }
}

/// `wasi:io/poll`, by hand: its functions need the store (the fuel a wait
/// may cut), which bindings' host traits do not give.
fn add_poll(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut p = l.instance(POLL)?;
    p.resource(
        "pollable",
        ResourceType::host::<DynPollable>(),
        |mut cx, rep| {
            async_poll::HostPollable::drop(&mut cx.data_mut().wasi_table, Resource::new_own(rep))
        },
    )?;
    p.func_wrap(
        "[method]pollable.ready",
        |mut cx: Cx<'_>, (p,): (Resource<DynPollable>,)| {
            let table = &mut cx.data_mut().wasi_table;
            let ready =
                poll_once(async_poll::HostPollable::ready(table, p)).unwrap_or(Ok(false))?;
            Ok((ready,))
        },
    )?;
    p.func_wrap(
        "[method]pollable.block",
        |mut cx: Cx<'_>, (p,): (Resource<DynPollable>,)| {
            let rep = p.rep();
            wait_for(&mut cx, "wasi:io/poll.[method]pollable.block", |table| {
                let p = Resource::new_borrow(rep);
                let ready = poll_once(async_poll::HostPollable::ready(table, p));
                Ok(ready.transpose()?.filter(|&r| r).map(|_| ()))
            })
        },
    )?;
    p.func_wrap(
        "poll",
        |mut cx: Cx<'_>, (list,): (Vec<Resource<DynPollable>>,)| {
            let reps: Vec<u32> = list.iter().map(Resource::rep).collect();
            let ready = wait_for(&mut cx, "wasi:io/poll.poll", |table| {
                let list = reps.iter().map(|&rep| Resource::new_borrow(rep)).collect();
                poll_once(async_poll::Host::poll(table, list)).transpose()
            })?;
            Ok((ready,))
        },
    )?;
    Ok(())
}

/// A pollable that is ready when the engine clock reaches an instant.
struct ClockPollable {
    at_ns: u64,
    clock: Clock,
    wake: Arc<Wake>,
}

#[wasmtime_wasi::async_trait]
impl Pollable for ClockPollable {
    async fn ready(&mut self) {
        std::future::poll_fn(|_| {
            if self.clock.now_ns() >= self.at_ns {
                Poll::Ready(())
            } else {
                self.wake.wait_for(self.at_ns);
                Poll::Pending
            }
        })
        .await
    }
}

/// `wasi:clocks/monotonic-clock` with pollables on the engine clock.
struct Clocks;

impl HasData for Clocks {
    type Data<'a> = ClocksView<'a>;
}

struct ClocksView<'a> {
    wasi: WasiClocksCtxView<'a>,
    wake: Arc<Wake>,
    clock: Clock,
}

impl ClocksView<'_> {
    fn subscribe_at(&mut self, at_ns: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let timer = self.wasi.table.push(ClockPollable {
            at_ns,
            clock: self.clock.clone(),
            wake: Arc::clone(&self.wake),
        })?;
        subscribe(self.wasi.table, timer)
    }
}

impl monotonic_clock::Host for ClocksView<'_> {
    /// The guest's clock, as wasmtime-wasi reads it (the context's
    /// monotonic clock, which reads the engine clock).
    fn now(&mut self) -> wasmtime::Result<Instant> {
        monotonic_clock::Host::now(&mut self.wasi)
    }

    fn resolution(&mut self) -> wasmtime::Result<Duration> {
        monotonic_clock::Host::resolution(&mut self.wasi)
    }

    /// An instant of the guest's monotonic clock is an engine-clock
    /// reading (both count nanoseconds from the clock's origin).
    fn subscribe_instant(&mut self, when: Instant) -> wasmtime::Result<Resource<DynPollable>> {
        self.subscribe_at(when)
    }

    fn subscribe_duration(&mut self, after: Duration) -> wasmtime::Result<Resource<DynPollable>> {
        let at = self.clock.now_ns().saturating_add(after);
        self.subscribe_at(at)
    }
}

/// `wasi:io/streams` with its waiting calls run without a runtime.
struct Streams;

impl HasData for Streams {
    type Data<'a> = StreamsView<'a>;
}

struct StreamsView<'a>(&'a mut ResourceTable);

impl streams::Host for StreamsView<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.0, err)
    }
}

impl streams::HostOutputStream for StreamsView<'_> {
    fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        poll_once(async_streams::HostOutputStream::drop(self.0, stream))
            .unwrap_or_else(|| Err(never_ready("wasi:io/streams.[resource-drop]output-stream")))
    }

    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.0, stream)
    }

    fn write(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        streams::HostOutputStream::write(self.0, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        stream_call(
            "wasi:io/streams.[method]output-stream.blocking-write-and-flush",
            async_streams::HostOutputStream::blocking_write_and_flush(self.0, stream, bytes),
        )
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        stream_call(
            "wasi:io/streams.[method]output-stream.blocking-write-zeroes-and-flush",
            async_streams::HostOutputStream::blocking_write_zeroes_and_flush(self.0, stream, len),
        )
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynOutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.0, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.0, stream, len)
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.0, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        stream_call(
            "wasi:io/streams.[method]output-stream.blocking-flush",
            async_streams::HostOutputStream::blocking_flush(self.0, stream),
        )
    }

    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.0, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        stream_call(
            "wasi:io/streams.[method]output-stream.blocking-splice",
            async_streams::HostOutputStream::blocking_splice(self.0, dst, src, len),
        )
    }
}

impl streams::HostInputStream for StreamsView<'_> {
    fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        poll_once(async_streams::HostInputStream::drop(self.0, stream))
            .unwrap_or_else(|| Err(never_ready("wasi:io/streams.[resource-drop]input-stream")))
    }

    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.0, stream, len)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        stream_call(
            "wasi:io/streams.[method]input-stream.blocking-read",
            async_streams::HostInputStream::blocking_read(self.0, stream, len),
        )
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.0, stream, len)
    }

    fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        stream_call(
            "wasi:io/streams.[method]input-stream.blocking-skip",
            async_streams::HostInputStream::blocking_skip(self.0, stream, len),
        )
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynInputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.0, stream)
    }
}

/// `wasi:sockets/udp-create-socket` without a runtime (the engine grants no
/// sockets: the answer is `access-denied`, at once).
struct Sockets;

impl HasData for Sockets {
    type Data<'a> = SocketsView<'a>;
}

struct SocketsView<'a>(WasiSocketsCtxView<'a>);

impl udp_create_socket::Host for SocketsView<'_> {
    fn create_udp_socket(
        &mut self,
        family: udp_create_socket::IpAddressFamily,
    ) -> SocketResult<Resource<UdpSocket>> {
        poll_once(async_udp::Host::create_udp_socket(&mut self.0, family)).unwrap_or_else(|| {
            Err(SocketError::trap(never_ready(
                "wasi:sockets/udp-create-socket.create-udp-socket",
            )))
        })
    }
}

impl network::Host for SocketsView<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<network::ErrorCode> {
        network::Host::convert_error_code(&mut self.0, error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<network::Error>,
    ) -> wasmtime::Result<Option<network::ErrorCode>> {
        network::Host::network_error_code(&mut self.0, err)
    }
}

impl network::HostNetwork for SocketsView<'_> {
    fn drop(&mut self, network: Resource<network::Network>) -> wasmtime::Result<()> {
        network::HostNetwork::drop(&mut self.0, network)
    }
}
