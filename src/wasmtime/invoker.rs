//! [`WasmtimeInvoker`]: typed calls into one instance, with fuel,
//! deadlines, limits, copy accounting and poisoning.
//!
//! Hot path. Every call goes through the engine's call frame
//! (`crate::invoke::call`: admit, begin, body, finish, classify); this file
//! holds what is Wasmtime's in it ([`WasmtimeCall`]): the store's fuel and
//! epoch deadline, the typed export as the body, lowering the input,
//! reading fuel and memory back, and turning a `wasmtime::Error` into a
//! failure to classify. The async trait methods run the same synchronous
//! code: a guest call is CPU-bound and bounded by its fuel and deadline, so
//! it runs on the caller's task without a fiber switch.

use std::sync::Arc;

use wasmtime::component::Resource;
use wasmtime::{Store, Trap};

use super::answers::{self, FlushAnswer, RouteAnswer};
use super::bindings::torvyn::streaming::types;
use super::engine::EngineInner;
use super::exports::Exports;
use super::host::{HostState, HostTrap, UnlinkedImport};
use crate::clock::Clock;
use crate::config::Limits;
use crate::error::{FaultKind, TrapCode};
use crate::host::{DeadlinePassed, HostResources, KEEP_CONTENT_TYPE_BYTES};
use crate::invoke::{self, CallBackend, CallFrame, CallState, Failure};
use crate::types::{
    BackpressureSignal, ComponentId, ElementMeta, Function, GuestOutput, Invocation, OutputElement,
    ProcessError, ProcessResult, Roles, StreamElement,
};
use crate::world::{WorldInfo, WorldTap};

/// A live instance of a component on the Wasmtime backend.
///
/// Offers every contract call twice: through [`ComponentInvoker`](crate::ComponentInvoker) (async)
/// and as `*_sync` methods for callers without an async runtime. Both run
/// the same code.
pub struct WasmtimeInvoker {
    state: CallState,
    inst: WasmtimeCall,
    /// The instance's tap on its WASI clocks, random and output, and the
    /// value its `insecure-seed` answers.
    world: (WorldTap, u128),
}

/// How a typed call failed: the guest's `process-error`, a trap (any
/// error Wasmtime or the host raised), or an answer over a bound.
pub(crate) enum CallError {
    Guest(ProcessError),
    Wasm(wasmtime::Error),
    Answer(invoke::OverBound),
}

impl From<wasmtime::Error> for CallError {
    fn from(e: wasmtime::Error) -> Self {
        Self::Wasm(e)
    }
}

impl From<types::ProcessError> for CallError {
    fn from(e: types::ProcessError) -> Self {
        Self::Guest(e.into())
    }
}

/// What a call body returns: a value, or how it failed.
type Body<T> = Result<T, CallError>;

impl WasmtimeInvoker {
    pub(crate) fn new(
        engine: Arc<EngineInner>,
        store: Store<HostState>,
        exports: Exports,
        roles: Roles,
        id: ComponentId,
        world: (WorldTap, u128),
    ) -> Self {
        let state = CallState::new(id, roles, &engine.config.limits);
        let inst = WasmtimeCall {
            engine,
            store,
            exports,
            lowered_content_type: String::new(),
        };
        Self { state, inst, world }
    }

    /// The functions and source lines of the component this instance ran
    /// so far (see [`crate::coverage`]); `None` unless the engine records
    /// coverage ([`WasmtimeEngineConfig::coverage`](crate::wasmtime::WasmtimeEngineConfig::coverage)).
    pub fn coverage(&self) -> Option<crate::Coverage> {
        #[cfg(feature = "coverage")]
        return self.inst.exports.coverage.as_ref().map(|r| r.coverage());
        #[cfg(not(feature = "coverage"))]
        None
    }

    fn world_tap(&self) -> &WorldTap {
        &self.world.0
    }

    fn world_source(&self) -> WorldInfo {
        let engine = &self.inst.engine;
        WorldInfo {
            clock: Some(crate::world::clock_name(&engine.clock).into()),
            seed: match engine.config.random {
                crate::RandomSource::Seeded(seed) => Some(seed),
                crate::RandomSource::System => None,
            },
            insecure_seed: Some(WorldInfo::insecure_seed_hex(self.world.1)),
        }
    }

    pub(crate) fn set_fuel_budget(&mut self, fuel: u64) {
        self.state.set_fuel_budget(fuel);
    }

    fn host(&self) -> &HostResources {
        &self.inst.store.data().res
    }

    fn host_mut(&mut self) -> &mut HostResources {
        &mut self.inst.store.data_mut().res
    }

    /// The fuel budget each call starts with.
    pub fn fuel_budget(&self) -> u64 {
        self.state.fuel_budget
    }

    pub(crate) fn fuel_remaining(&self) -> Option<u64> {
        self.state.fuel_remaining
    }

    /// The instance's linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.inst.store.data().limiter.memory_bytes
    }

    /// Takes what the guest wrote to stdout so far (kept up to
    /// `max_captured_output` bytes; the rest is counted as discarded).
    pub fn take_stdout(&mut self) -> GuestOutput {
        let (bytes, discarded) = self.inst.store.data().stdout.take();
        GuestOutput { bytes, discarded }
    }

    /// Takes what the guest wrote to stderr so far.
    pub fn take_stderr(&mut self) -> GuestOutput {
        let (bytes, discarded) = self.inst.store.data().stderr.take();
        GuestOutput { bytes, discarded }
    }

    /// `processor.process`, synchronously.
    pub fn process_sync(&mut self, element: StreamElement) -> Invocation<ProcessResult> {
        self.call(Function::Process, Some(element), |store, ex, input| {
            let f = ex.process.as_ref().expect("role checked before the call");
            match ex.call(f, &mut *store, (input_of(input),))?.0? {
                types::ProcessResult::Emit(out) => {
                    Ok(ProcessResult::Emit(take_output(store, out)?))
                }
                types::ProcessResult::Drop => Ok(ProcessResult::Drop),
            }
        })
    }

    /// `source.pull`, synchronously.
    pub fn pull_sync(&mut self) -> Invocation<Option<OutputElement>> {
        self.call(Function::Pull, None, |store, ex, _| {
            let f = ex.pull.as_ref().expect("role checked before the call");
            match ex.call(f, &mut *store, ())?.0? {
                Some(out) => Ok(Some(take_output(store, out)?)),
                None => Ok(None),
            }
        })
    }

    /// `sink.push`, synchronously.
    pub fn push_sync(&mut self, element: StreamElement) -> Invocation<BackpressureSignal> {
        self.call(Function::Push, Some(element), |store, ex, input| {
            let f = ex.push.as_ref().expect("role checked before the call");
            Ok(ex.call(f, &mut *store, (input_of(input),))?.0?.into())
        })
    }

    /// `source.notify-backpressure`, synchronously.
    pub fn notify_backpressure_sync(&mut self, signal: BackpressureSignal) -> Invocation<()> {
        self.call(Function::NotifyBackpressure, None, |store, ex, _| {
            let f = ex
                .notify_backpressure
                .as_ref()
                .expect("role checked before the call");
            Ok(ex.call(f, &mut *store, (signal.into(),))?)
        })
    }

    /// `sink.complete`, synchronously.
    pub fn complete_sync(&mut self) -> Invocation<()> {
        self.call(Function::Complete, None, |store, ex, _| {
            let f = ex.complete.as_ref().expect("role checked before the call");
            Ok(ex.call(f, &mut *store, ())?.0?)
        })
    }

    /// `filter.evaluate`, synchronously.
    pub fn evaluate_sync(&mut self, element: StreamElement) -> Invocation<bool> {
        self.call(Function::Evaluate, Some(element), |store, ex, input| {
            let f = ex.evaluate.as_ref().expect("role checked before the call");
            Ok(ex.call(f, &mut *store, (input_of(input),))?.0?)
        })
    }

    /// `router.route`, synchronously; the answer is bounded (see
    /// [`ComponentInvoker::route`](crate::ComponentInvoker::route)): its
    /// length is checked before any name is read, the names' lengths before
    /// any is copied, all while it is lifted.
    pub fn route_sync(&mut self, element: StreamElement) -> Invocation<Vec<String>> {
        let limits = self.inst.engine.config.limits;
        self.call(Function::Route, Some(element), |store, ex, input| {
            let f = ex.route.as_ref().expect("role checked before the call");
            match answers::within(&limits, || ex.call(f, &mut *store, (input_of(input),)))?.0? {
                RouteAnswer::Names(names) => Ok(names),
                RouteAnswer::Refused(over) => Err(CallError::Answer(over)),
            }
        })
    }

    /// `aggregator.ingest`, synchronously.
    pub fn ingest_sync(&mut self, element: StreamElement) -> Invocation<Option<OutputElement>> {
        self.call(Function::Ingest, Some(element), |store, ex, input| {
            let f = ex.ingest.as_ref().expect("role checked before the call");
            match ex.call(f, &mut *store, (input_of(input),))?.0? {
                Some(out) => Ok(Some(take_output(store, out)?)),
                None => Ok(None),
            }
        })
    }

    /// `aggregator.flush`, synchronously; the answer is bounded (see
    /// [`ComponentInvoker::flush`](crate::ComponentInvoker::flush)): its
    /// length is checked before any element is lifted, the lengths of its
    /// content types before any is copied, all while it is lifted. An
    /// answer over a bound takes none of its buffers: the end of the call
    /// reclaims them all.
    pub fn flush_sync(&mut self) -> Invocation<Vec<OutputElement>> {
        let limits = self.inst.engine.config.limits;
        self.call(Function::Flush, None, |store, ex, _| {
            let f = ex.flush.as_ref().expect("role checked before the call");
            match answers::within(&limits, || ex.call(f, &mut *store, ()))?.0? {
                FlushAnswer::Outputs(outs) => outs
                    .into_iter()
                    .map(|out| take_output(store, out).map_err(CallError::from))
                    .collect(),
                FlushAnswer::Refused(over) => Err(CallError::Answer(over)),
            }
        })
    }

    /// `lifecycle.init`, synchronously (see [`ComponentInvoker::init`](crate::ComponentInvoker::init)).
    pub fn init_sync(&mut self, config: &str) -> Invocation<()> {
        if self.state.skips(Function::Init, config) {
            self.host_mut().skip_call();
            return invoke::noop();
        }
        self.call(Function::Init, None, |store, ex, _| {
            let f = ex.init.as_ref().expect("role checked before the call");
            Ok(ex.call(f, &mut *store, (config,))?.0?)
        })
    }

    /// `lifecycle.teardown`, synchronously and best effort (see
    /// [`ComponentInvoker::teardown`](crate::ComponentInvoker::teardown)).
    pub fn teardown_sync(&mut self) -> Invocation<()> {
        if self.state.skips(Function::Teardown, "") {
            self.host_mut().skip_call();
            return invoke::noop();
        }
        self.call(Function::Teardown, None, |store, ex, _| {
            let f = ex.teardown.as_ref().expect("role checked before the call");
            Ok(ex.call(f, &mut *store, ())?)
        })
    }

    /// Runs one call through the engine's call frame, with the typed
    /// export `body` as its body.
    fn call<T>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(&mut Store<HostState>, &Exports, Option<&types::StreamElement>) -> Body<T>,
    ) -> Invocation<T> {
        invoke::call(
            &mut self.inst,
            &mut self.state,
            function,
            element,
            |inst, _, input| body(&mut inst.store, &inst.exports, input),
            |_, _, _| {},
        )
    }
}

/// What is Wasmtime's in a call: the instance's store and typed exports,
/// which the call frame drives.
struct WasmtimeCall {
    engine: Arc<EngineInner>,
    store: Store<HostState>,
    exports: Exports,
    /// The `String` the bindings lower an input's content type from, kept
    /// between calls so lowering does not allocate (see
    /// [`WasmtimeCall::input`]).
    lowered_content_type: String,
}

impl CallBackend for WasmtimeCall {
    const RUNS_ON_AFTER_TRAP: bool = false;

    type Input = types::StreamElement;
    type Error = CallError;

    fn clock(&self) -> &Clock {
        &self.engine.clock
    }

    fn limits(&self) -> &Limits {
        &self.engine.config.limits
    }

    /// System clock: the deadline is an epoch deadline. Virtual clock: it
    /// is the fuel budget, so an overrun stops at the same instruction in
    /// every run.
    fn arm(&mut self, frame: &CallFrame) -> Result<(), FaultKind> {
        let engine = &*self.engine;
        self.store.set_epoch_deadline(match frame.allowed {
            Some(a) if !engine.clock.is_virtual() => engine.deadline_ticks(a),
            _ => u64::MAX / 2,
        });
        if engine.config.limits.fuel_enabled {
            self.store.set_fuel(frame.fuel).map_err(fuel_refused)?;
        }
        Ok(())
    }

    fn resources(&mut self) -> &mut HostResources {
        &mut self.store.data_mut().res
    }

    fn begin(&mut self) {
        self.store.data_mut().limiter.denied = None;
    }

    /// The bindings lower from an owned `String`: refill the one kept from
    /// the last call instead of allocating one. Inlined: out of line, a
    /// `process` cost 31 instructions more (callgrind, 64 B passthrough).
    #[inline]
    fn input(&mut self, meta: ElementMeta, payload: u32, context: u32) -> types::StreamElement {
        let mut content_type = std::mem::take(&mut self.lowered_content_type);
        content_type.clear();
        content_type.push_str(&meta.content_type);
        types::StreamElement {
            meta: types::ElementMeta {
                sequence: meta.sequence,
                timestamp_ns: meta.timestamp_ns,
                content_type,
            },
            payload: Resource::new_borrow(payload),
            context: Resource::new_borrow(context),
        }
    }

    fn release_input(&mut self, input: types::StreamElement) {
        if input.meta.content_type.capacity() <= KEEP_CONTENT_TYPE_BYTES {
            self.lowered_content_type = input.meta.content_type;
        }
    }

    /// What the guest burned: the call's fuel less what is left and what
    /// the deadline withheld (see `crate::host`'s timer).
    fn fuel_consumed(&mut self, frame: &CallFrame) -> u64 {
        let withheld = self.store.data().res.timer().map_or(0, |t| t.withheld);
        frame
            .fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(0))
            .saturating_sub(withheld)
    }

    fn memory_bytes(&self) -> u64 {
        self.store.data().limiter.memory_bytes
    }

    fn memory_denied(&self) -> Option<(u64, u64)> {
        self.store.data().limiter.denied
    }

    fn failure(&mut self, e: CallError) -> Failure {
        match e {
            CallError::Guest(e) => Failure::Guest(e),
            CallError::Wasm(e) => failure(e),
            CallError::Answer(over) => Failure::Answer(over),
        }
    }
}

#[cold]
#[inline(never)]
fn fuel_refused(e: wasmtime::Error) -> FaultKind {
    FaultKind::Host {
        detail: format!("cannot set fuel: {e:#}"),
    }
}

/// The lent input of a call that has one.
#[inline]
fn input_of(input: Option<&types::StreamElement>) -> &types::StreamElement {
    input.expect("the call has an input element")
}

/// Moves an output element's payload from the guest's handle to the caller.
fn take_output(
    store: &mut Store<HostState>,
    out: types::OutputElement,
) -> wasmtime::Result<OutputElement> {
    let res = &mut store.data_mut().res;
    let taken = res
        .take_buffer(out.payload.rep())
        .map_err(|v| wasmtime::Error::new(HostTrap(v)))?;
    Ok(OutputElement {
        meta: ElementMeta {
            sequence: out.meta.sequence,
            timestamp_ns: out.meta.timestamp_ns,
            content_type: res.content_type(&out.meta.content_type),
        },
        payload: taken.bytes,
        buffer_content_type: taken.content_type,
    })
}

/// What a trapped typed call was, for the call frame to classify: a
/// contract violation the host raised, fuel or the epoch deadline, or a
/// trap with its code and Wasmtime's description (with the guest
/// backtrace).
fn failure(e: wasmtime::Error) -> Failure {
    if let Some(HostTrap(v)) = e.downcast_ref::<HostTrap>() {
        return Failure::Contract(v.clone());
    }
    if e.downcast_ref::<DeadlinePassed>().is_some() {
        return Failure::Interrupted;
    }
    if let Some(stub) = e.downcast_ref::<UnlinkedImport>() {
        // The stub's message first (the headline is its first line), then
        // the guest backtrace when Wasmtime recorded one.
        let detail = match e.downcast_ref::<wasmtime::WasmBacktrace>() {
            Some(bt) => format!("{stub}\n{bt}"),
            None => stub.to_string(),
        };
        return Failure::Trap {
            code: TrapCode::UnlinkedImport,
            detail,
        };
    }
    let trap = e.downcast_ref::<Trap>().copied();
    let code = match trap {
        Some(Trap::OutOfFuel) => return Failure::OutOfFuel,
        Some(Trap::Interrupt) => return Failure::Interrupted,
        Some(Trap::UnreachableCodeReached) => TrapCode::Unreachable,
        Some(Trap::StackOverflow) => TrapCode::StackOverflow,
        Some(Trap::MemoryOutOfBounds) => TrapCode::MemoryOutOfBounds,
        Some(Trap::HeapMisaligned) => TrapCode::HeapMisaligned,
        Some(Trap::TableOutOfBounds) => TrapCode::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => TrapCode::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapCode::BadSignature,
        Some(Trap::IntegerOverflow) => TrapCode::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => TrapCode::IntegerDivisionByZero,
        Some(Trap::BadConversionToInteger) => TrapCode::BadConversionToInteger,
        Some(_) => TrapCode::Other,
        // Errors without a trap code come from the component model's
        // runtime checks (handles, borrows, strings, reallocs).
        None => TrapCode::ComponentModel,
    };
    Failure::Trap {
        code,
        detail: format!("{e:#}"),
    }
}

impl From<types::ProcessError> for ProcessError {
    fn from(e: types::ProcessError) -> Self {
        match e {
            types::ProcessError::InvalidInput(m) => Self::InvalidInput(m),
            types::ProcessError::Unavailable(m) => Self::Unavailable(m),
            types::ProcessError::Internal(m) => Self::Internal(m),
            types::ProcessError::DeadlineExceeded => Self::DeadlineExceeded,
            types::ProcessError::Fatal(m) => Self::Fatal(m),
        }
    }
}

impl From<types::BackpressureSignal> for BackpressureSignal {
    fn from(s: types::BackpressureSignal) -> Self {
        match s {
            types::BackpressureSignal::Ready => Self::Ready,
            types::BackpressureSignal::Pause => Self::Pause,
        }
    }
}

impl From<BackpressureSignal> for types::BackpressureSignal {
    fn from(s: BackpressureSignal) -> Self {
        match s {
            BackpressureSignal::Ready => Self::Ready,
            BackpressureSignal::Pause => Self::Pause,
        }
    }
}

invoke::async_invoker_from_sync!(WasmtimeInvoker);

#[cfg(feature = "profiling")]
impl WasmtimeInvoker {
    /// Sets the store's call hook (feature `profiling`; see
    /// [`crate::wasmtime::ProfileRecorder`]).
    pub(crate) fn set_call_hook(
        &mut self,
        hook: impl FnMut(
            wasmtime::StoreContextMut<'_, HostState>,
            wasmtime::CallHook,
        ) -> wasmtime::Result<()>
        + Send
        + Sync
        + 'static,
    ) {
        self.inst.store.call_hook(hook);
    }

    /// Records this instance's calls in `recorder` from now on, as the
    /// profile thread `name`.
    pub fn attach_profile(&mut self, recorder: &super::ProfileRecorder, name: &str) {
        recorder.attach(self, name);
    }
}
