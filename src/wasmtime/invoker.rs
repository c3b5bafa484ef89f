//! [`WasmtimeInvoker`]: typed calls into one instance, with fuel,
//! deadlines, limits, copy accounting and poisoning.
//!
//! Hot path. Every call goes through [`WasmtimeInvoker::call`], which
//! applies the budget and deadline, lends the inputs, runs the typed export,
//! moves the output out, ends the call on the host resources (releasing and
//! reclaiming), measures, and classifies any failure into a [`FaultKind`].
//! The async trait methods run the same synchronous code: a guest call is
//! CPU-bound and bounded by its fuel and deadline, so it runs on the
//! caller's task without a fiber switch.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;
use wasmtime::{Store, Trap};

use super::bindings::exports::torvyn::streaming::{lifecycle, processor, sink, source};
use super::bindings::torvyn::streaming::types;
use super::engine::EngineInner;
use super::host::{HostState, HostTrap};
use crate::error::{Fault, FaultKind, InvokeError, TrapCode};
use crate::host::KEEP_CONTENT_TYPE_BYTES;
use crate::types::{
    BackpressureSignal, ComponentId, ElementMeta, Function, GuestOutput, Invocation,
    InvocationMetrics, OutputElement, ProcessError, ProcessResult, Roles, StreamElement,
};
use crate::{invoke, trace};

/// The typed exports of one instance, loaded (and type-checked) at
/// instantiation.
pub(crate) struct Exports {
    pub processor: Option<processor::Guest>,
    pub source: Option<source::Guest>,
    pub sink: Option<sink::Guest>,
    pub lifecycle: Option<lifecycle::Guest>,
}

/// A live instance of a component on the Wasmtime backend.
///
/// Offers every contract call twice: through [`ComponentInvoker`](crate::ComponentInvoker) (async)
/// and as `*_sync` methods for callers without an async runtime. Both run
/// the same code.
pub struct WasmtimeInvoker {
    engine: Arc<EngineInner>,
    store: Store<HostState>,
    exports: Exports,
    roles: Roles,
    id: ComponentId,
    fuel_budget: u64,
    fuel_remaining: Option<u64>,
    poisoned: Option<Fault>,
    /// The `String` the bindings lower an input's content type from, kept
    /// between calls so lowering does not allocate (see `run`).
    lowered_content_type: String,
}

/// What a call body returns: a value or the guest's error, or a trap.
type Body<T> = wasmtime::Result<Result<T, ProcessError>>;

impl WasmtimeInvoker {
    pub(crate) fn new(
        engine: Arc<EngineInner>,
        store: Store<HostState>,
        exports: Exports,
        roles: Roles,
        id: ComponentId,
    ) -> Self {
        let fuel_budget = engine.config.fuel_per_call;
        let fuel_remaining = engine.config.fuel_enabled.then_some(fuel_budget);
        Self {
            engine,
            store,
            exports,
            roles,
            id,
            fuel_budget,
            fuel_remaining,
            poisoned: None,
            lowered_content_type: String::new(),
        }
    }

    pub(crate) fn set_fuel_budget(&mut self, fuel: u64) {
        self.fuel_budget = fuel;
        if self.poisoned.is_none() {
            self.fuel_remaining = Some(fuel);
        }
    }

    fn live(&self) -> usize {
        self.store.data().res.live()
    }

    /// The fuel budget each call starts with.
    pub fn fuel_budget(&self) -> u64 {
        self.fuel_budget
    }

    pub(crate) fn fuel_remaining(&self) -> Option<u64> {
        self.fuel_remaining
    }

    /// The instance's linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.store.data().limiter.memory_bytes
    }

    /// Takes what the guest wrote to stdout so far (kept up to
    /// `max_captured_output` bytes; the rest is counted as discarded).
    pub fn take_stdout(&mut self) -> GuestOutput {
        let (bytes, discarded) = self.store.data().stdout.take();
        GuestOutput { bytes, discarded }
    }

    /// Takes what the guest wrote to stderr so far.
    pub fn take_stderr(&mut self) -> GuestOutput {
        let (bytes, discarded) = self.store.data().stderr.take();
        GuestOutput { bytes, discarded }
    }

    /// `processor.process`, synchronously.
    pub fn process_sync(&mut self, element: StreamElement) -> Invocation<ProcessResult> {
        self.call(Function::Process, Some(element), |store, ex, input| {
            let guest = ex.processor.as_ref().expect("role checked before the call");
            let input = input.expect("process has an input element");
            match guest.call_process(&mut *store, input)? {
                Ok(types::ProcessResult::Emit(out)) => {
                    Ok(Ok(ProcessResult::Emit(take_output(store, out)?)))
                }
                Ok(types::ProcessResult::Drop) => Ok(Ok(ProcessResult::Drop)),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    /// `source.pull`, synchronously.
    pub fn pull_sync(&mut self) -> Invocation<Option<OutputElement>> {
        self.call(Function::Pull, None, |store, ex, _| {
            let guest = ex.source.as_ref().expect("role checked before the call");
            match guest.call_pull(&mut *store)? {
                Ok(Some(out)) => Ok(Ok(Some(take_output(store, out)?))),
                Ok(None) => Ok(Ok(None)),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    /// `sink.push`, synchronously.
    pub fn push_sync(&mut self, element: StreamElement) -> Invocation<BackpressureSignal> {
        self.call(Function::Push, Some(element), |store, ex, input| {
            let guest = ex.sink.as_ref().expect("role checked before the call");
            let input = input.expect("push has an input element");
            Ok(guest
                .call_push(&mut *store, input)?
                .map(Into::into)
                .map_err(Into::into))
        })
    }

    /// `source.notify-backpressure`, synchronously.
    pub fn notify_backpressure_sync(&mut self, signal: BackpressureSignal) -> Invocation<()> {
        self.call(Function::NotifyBackpressure, None, |store, ex, _| {
            let guest = ex.source.as_ref().expect("role checked before the call");
            guest.call_notify_backpressure(&mut *store, signal.into())?;
            Ok(Ok(()))
        })
    }

    /// `sink.complete`, synchronously.
    pub fn complete_sync(&mut self) -> Invocation<()> {
        self.call(Function::Complete, None, |store, ex, _| {
            let guest = ex.sink.as_ref().expect("role checked before the call");
            Ok(guest.call_complete(&mut *store)?.map_err(Into::into))
        })
    }

    /// `lifecycle.init`, synchronously (see [`ComponentInvoker::init`](crate::ComponentInvoker::init)).
    pub fn init_sync(&mut self, config: &str) -> Invocation<()> {
        if !self.roles.contains(crate::Role::Lifecycle) && config.is_empty() {
            return invoke::noop();
        }
        self.call(Function::Init, None, |store, ex, _| {
            let guest = ex.lifecycle.as_ref().expect("role checked before the call");
            Ok(guest.call_init(&mut *store, config)?.map_err(Into::into))
        })
    }

    /// `lifecycle.teardown`, synchronously and best effort (see
    /// [`ComponentInvoker::teardown`](crate::ComponentInvoker::teardown)).
    pub fn teardown_sync(&mut self) -> Invocation<()> {
        if !self.roles.contains(crate::Role::Lifecycle) {
            return invoke::noop();
        }
        self.call(Function::Teardown, None, |store, ex, _| {
            let guest = ex.lifecycle.as_ref().expect("role checked before the call");
            guest.call_teardown(&mut *store)?;
            Ok(Ok(()))
        })
    }

    /// Runs one call inside its trace span.
    fn call<T>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(&mut Store<HostState>, &Exports, Option<&types::StreamElement>) -> Body<T>,
    ) -> Invocation<T> {
        let span = trace::call(&self.id, function);
        let invocation = self.run(function, element, body);
        let fault = invocation.fault().map(|f| f as &dyn std::fmt::Display);
        span.finish(
            &invocation.metrics,
            trace::outcome_name(&invocation.outcome),
            fault,
        );
        invocation
    }

    /// Runs one call: checks, budget, deadline, lending, the typed call,
    /// metrics, classification.
    fn run<T>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(&mut Store<HostState>, &Exports, Option<&types::StreamElement>) -> Body<T>,
    ) -> Invocation<T> {
        let engine = &*self.engine;
        let (clock, config) = (&engine.clock, &engine.config);
        let admitted = invoke::admit(
            self.poisoned.as_ref(),
            self.roles,
            function,
            element.as_ref(),
            clock,
            config.call_deadline,
        );
        let allowed = match admitted {
            Ok(allowed) => allowed,
            Err(kind) => return invoke::refused(&self.id, function, kind),
        };

        // System clock: the deadline is an epoch deadline. Virtual clock: it
        // is a fuel budget, so an overrun stops at the same instruction in
        // every run.
        let store = &mut self.store;
        let (budget, deadline_in_fuel) = invoke::fuel_budget(clock, allowed, self.fuel_budget);
        store.set_epoch_deadline(match allowed {
            Some(a) if !clock.is_virtual() => engine.ticks_for(a),
            _ => u64::MAX / 2,
        });
        if config.fuel_enabled
            && let Err(e) = store.set_fuel(budget)
        {
            let detail = format!("cannot set fuel: {e:#}");
            return invoke::refused(&self.id, function, FaultKind::Host { detail });
        }
        let data = store.data_mut();
        data.res.begin_call();
        data.limiter.denied = None;

        let mut lent = [0u32; 2];
        let input = match element {
            Some(StreamElement {
                meta,
                payload,
                context,
            }) => {
                let reps = data
                    .res
                    .lend_buffer(payload, meta.content_type.clone())
                    .and_then(|p| Ok((p, data.res.lend_flow(context)?)));
                let (payload, context) = match reps {
                    Ok(reps) => reps,
                    Err(v) => {
                        let reason = format!("cannot lend the input to the guest: {v}");
                        data.res.end_call(&[], &mut InvocationMetrics::default());
                        return invoke::refused(&self.id, function, FaultKind::Rejected { reason });
                    }
                };
                lent = [payload, context];
                // The bindings lower from an owned `String`: refill the one
                // kept from the last call instead of allocating one.
                let mut content_type = std::mem::take(&mut self.lowered_content_type);
                content_type.clear();
                content_type.push_str(&meta.content_type);
                Some(types::StreamElement {
                    meta: types::ElementMeta {
                        sequence: meta.sequence,
                        timestamp_ns: meta.timestamp_ns,
                        content_type,
                    },
                    payload: Resource::new_borrow(payload),
                    context: Resource::new_borrow(context),
                })
            }
            None => None,
        };

        let start = clock.now_ns();
        let result = body(store, &self.exports, input.as_ref());
        if let Some(input) = input
            && input.meta.content_type.capacity() <= KEEP_CONTENT_TYPE_BYTES
        {
            self.lowered_content_type = input.meta.content_type;
        }
        let mut metrics = InvocationMetrics::default();
        if config.fuel_enabled {
            let left = store.get_fuel().unwrap_or(0);
            metrics.fuel_consumed = budget.saturating_sub(left);
            self.fuel_remaining = Some(self.fuel_budget.saturating_sub(metrics.fuel_consumed));
            clock.charge_fuel(metrics.fuel_consumed);
        }
        metrics.duration = Duration::from_nanos(clock.now_ns().saturating_sub(start));
        let data = store.data_mut();
        let inputs = if lent[0] == 0 { &lent[..0] } else { &lent[..] };
        data.res.end_call(inputs, &mut metrics);
        metrics.memory_bytes = data.limiter.memory_bytes;

        let outcome = match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(InvokeError::Guest(e)),
            Err(e) => {
                let kind = classify(
                    store.data(),
                    &e,
                    self.fuel_budget,
                    deadline_in_fuel,
                    allowed,
                );
                Err(invoke::fault(&mut self.poisoned, &self.id, function, kind))
            }
        };
        Invocation { outcome, metrics }
    }
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

/// Turns a failed call into a fault kind. Limits come first: a trap that
/// follows a refused memory growth or buffer allocation in the same call is
/// reported as the limit it hit.
#[cold]
#[inline(never)]
fn classify(
    data: &HostState,
    e: &wasmtime::Error,
    budget: u64,
    deadline_in_fuel: bool,
    allowed: Option<Duration>,
) -> FaultKind {
    if let Some(HostTrap(v)) = e.downcast_ref::<HostTrap>() {
        return FaultKind::ContractViolation(v.clone());
    }
    let trap = e.downcast_ref::<Trap>().copied();
    match trap {
        Some(Trap::OutOfFuel) if !deadline_in_fuel => {
            return FaultKind::FuelExhausted { budget };
        }
        Some(Trap::OutOfFuel | Trap::Interrupt) => {
            return FaultKind::DeadlineExceeded {
                allowed: allowed.unwrap_or_default(),
            };
        }
        _ => {}
    }
    if let Some((limit, requested)) = data.limiter.denied {
        return FaultKind::MemoryLimitExceeded { limit, requested };
    }
    if let Some((limit, requested)) = data.res.counters.budget_denied {
        return FaultKind::BufferBudgetExceeded { limit, requested };
    }
    let code = match trap {
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
    FaultKind::Trap {
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
