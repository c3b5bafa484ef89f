//! The call frame: the one sequence every call runs, on every backend.
//!
//! Hot path. [`call`] runs a call as
//!
//! 1. **admit**: poisoned, role, payload cap, deadline already past
//!    ([`super::admit`]); the fuel the call may burn, with the deadline as
//!    fuel on a virtual clock ([`super::fuel_budget`]); the backend arms
//!    its own limits ([`CallBackend::arm`]: Wasmtime's store fuel and epoch
//!    deadline);
//! 2. **begin**: the host resources start a call, the inputs are lent (a
//!    refusal here is a `Rejected` fault with one text), the clock starts;
//! 3. **body**: the backend's guest code (a typed export, a mock model),
//!    whose value moves to the outcome as it is;
//! 4. **finish**: the fuel consumed is read and charged to the clock, the
//!    clock stops, the call ends on the host resources (inputs released,
//!    leftovers reclaimed, counters read) and the memory size is read, all
//!    into one [`InvocationMetrics`];
//! 5. **classify**: the body's error becomes the guest's `process-error`
//!    or a [`Failure`] ([`CallBackend::failure`]), and a failure becomes a
//!    [`FaultKind`] in one order
//!    (contract violation; fuel or deadline; then a refused memory growth,
//!    then a refused buffer allocation, then the trap itself), and a fault
//!    from inside the guest poisons the instance.
//!
//! What differs between backends is behind [`CallBackend`], implemented by
//! the part of each invoker that is not [`CallState`] (its store and
//! exports, or its model and memory) and monomorphized: no allocation,
//! boxing or dynamic dispatch is added to a call, and nothing is built per
//! call to drive it (a view struct of borrowed fields cost the mock 30
//! instructions per call, callgrind on `compare/published-mock/examples/
//! mock_loop.rs`).

use std::time::Duration;

use crate::clock::Clock;
use crate::config::Limits;
use crate::error::{ContractViolation, Fault, FaultKind, InvokeError, TrapCode};
use crate::host::HostResources;
use crate::trace;
use crate::types::{
    ComponentId, ElementMeta, Function, Invocation, InvocationMetrics, ProcessError, Role, Roles,
    StreamElement,
};

use super::admit::{admit, fuel_budget};

/// What every invoker keeps about its instance for the call discipline:
/// who it is, what it exports, its fuel and its poison.
pub(crate) struct CallState {
    /// The instance's id (every fault names it).
    pub id: ComponentId,
    /// The roles the component exports.
    pub roles: Roles,
    /// The fuel each call starts with.
    pub fuel_budget: u64,
    /// What the last call left of its budget (`None` with fuel off).
    pub fuel_remaining: Option<u64>,
    /// The fault that poisoned the instance.
    pub poisoned: Option<Fault>,
}

impl CallState {
    /// A fresh instance's state under `limits`.
    pub fn new(id: ComponentId, roles: Roles, limits: &Limits) -> Self {
        Self {
            id,
            roles,
            fuel_budget: limits.fuel_per_call,
            fuel_remaining: limits.fuel_enabled.then_some(limits.fuel_per_call),
            poisoned: None,
        }
    }

    /// Whether a lifecycle call has nothing to do and succeeds at once,
    /// without reaching the guest: `init` with an empty config, and
    /// `teardown`, on a component without the lifecycle role (see
    /// [`crate::ComponentInvoker::init`] and
    /// [`crate::ComponentInvoker::teardown`]).
    pub fn skips(&self, function: Function, init_config: &str) -> bool {
        !self.roles.contains(Role::Lifecycle)
            && match function {
                Function::Init => init_config.is_empty(),
                Function::Teardown => true,
                _ => false,
            }
    }

    /// Gives every later call `fuel` (see [`crate::WasmEngine::set_fuel`]).
    pub fn set_fuel_budget(&mut self, fuel: u64) {
        self.fuel_budget = fuel;
        if self.poisoned.is_none() {
            self.fuel_remaining = Some(fuel);
        }
    }
}

/// One admitted call: what it is and what it may spend.
pub(crate) struct CallFrame {
    /// The function called.
    pub function: Function,
    /// How long the call may run (`None`: no deadline).
    pub allowed: Option<Duration>,
    /// The fuel the call may burn.
    pub fuel: u64,
    /// Whether the deadline, turned into fuel on a virtual clock, is what
    /// bounds `fuel` (running out is then a deadline fault).
    pub deadline_in_fuel: bool,
}

/// How a call body failed, before classification.
pub(crate) enum Failure {
    /// The guest answered with a contract `process-error` (not a fault).
    Guest(ProcessError),
    /// The guest broke the contract in a host call.
    Contract(ContractViolation),
    /// The guest's answer broke a bound on answers: the bound, its value
    /// and what the answer held ([`FaultKind::AnswerTooLarge`]).
    Answer(super::OverBound),
    /// The call's fuel ran out ([`CallFrame::fuel`] all burned).
    OutOfFuel,
    /// The (epoch) deadline interrupted the guest.
    Interrupted,
    /// The guest trapped (or gave up after a refused limit).
    Trap {
        /// The trap code.
        code: TrapCode,
        /// The backend's description.
        detail: String,
    },
}

/// What differs between backends around a call. Implemented by the part of
/// an invoker beside its [`CallState`] (its store, or its model and memory).
pub(crate) trait CallBackend {
    /// The lent input element as the body takes it.
    type Input;

    /// How the body fails (a guest error among them); turned into a
    /// [`Failure`] by [`CallBackend::failure`] on the failure path only, so
    /// a value moves from the body to the outcome untouched.
    type Error;

    /// Whether the body may go on after a host call trapped (a mock model
    /// is Rust code that gets an error back; a Wasm guest unwinds at once,
    /// so its body always fails with the trap): then the frame checks for
    /// an injected trap after the body.
    const RUNS_ON_AFTER_TRAP: bool;

    /// The engine clock.
    fn clock(&self) -> &Clock;

    /// The engine's limits.
    fn limits(&self) -> &Limits;

    /// Sets the backend's own limits for the call (Wasmtime: store fuel
    /// and epoch deadline). An error refuses the call; nothing is lent yet.
    fn arm(&mut self, frame: &CallFrame) -> Result<(), FaultKind>;

    /// The instance's host resources.
    fn resources(&mut self) -> &mut HostResources;

    /// Resets what the backend records per call (a refused memory growth,
    /// fuel used); runs before the inputs are lent.
    fn begin(&mut self);

    /// The body's input for a lent element.
    fn input(&mut self, meta: ElementMeta, payload: u32, context: u32) -> Self::Input;

    /// Takes the input back after the body (to keep what it can reuse).
    fn release_input(&mut self, input: Self::Input) {
        drop(input);
    }

    /// The fuel the call consumed (read only with fuel metering on).
    fn fuel_consumed(&mut self, frame: &CallFrame) -> u64;

    /// The instance's linear memory now, in bytes.
    fn memory_bytes(&self) -> u64;

    /// A memory growth refused during the call: `(limit, requested)`.
    fn memory_denied(&self) -> Option<(u64, u64)>;

    /// The clock reading that ended the call.
    fn ended(&mut self, now_ns: u64) {
        let _ = now_ns;
    }

    /// What the body's error was, for classification (after the call
    /// finished). May record what it implies (a refused memory growth).
    fn failure(&mut self, e: Self::Error) -> Failure;
}

/// Runs one call through the frame (see the module docs), inside its trace
/// span; `after` sees the finished call (the mock journals it there, before
/// the invocation moves to the caller).
#[inline]
pub(crate) fn call<B: CallBackend, T>(
    backend: &mut B,
    state: &mut CallState,
    function: Function,
    element: Option<StreamElement>,
    body: impl FnOnce(&mut B, &CallFrame, Option<&B::Input>) -> Result<T, B::Error>,
    after: impl FnOnce(&mut B, &CallState, &Invocation<T>),
) -> Invocation<T> {
    let span = trace::call(&state.id, function);
    let invocation = run(backend, state, function, element, body);
    let fault = invocation.fault().map(|f| f as &dyn std::fmt::Display);
    span.finish(
        &invocation.metrics,
        trace::outcome_name(&invocation.outcome),
        fault,
    );
    after(backend, state, &invocation);
    invocation
}

#[inline]
fn run<B: CallBackend, T>(
    b: &mut B,
    state: &mut CallState,
    function: Function,
    element: Option<StreamElement>,
    body: impl FnOnce(&mut B, &CallFrame, Option<&B::Input>) -> Result<T, B::Error>,
) -> Invocation<T> {
    // Per-call host state starts here, so that a refused call also leaves
    // no trace of the last one (an injected host fault, say).
    b.resources().begin_call();

    // Admit.
    let admitted = admit(
        state.poisoned.as_ref(),
        state.roles,
        function,
        element.as_ref(),
        b.clock(),
        b.limits().call_deadline,
    );
    let allowed = match admitted {
        Ok(allowed) => allowed,
        Err(kind) => return refused(&state.id, function, kind),
    };
    let (fuel, deadline_in_fuel) = fuel_budget(b.clock(), allowed, state.fuel_budget);
    let frame = CallFrame {
        function,
        allowed,
        fuel,
        deadline_in_fuel,
    };
    if let Err(kind) = b.arm(&frame) {
        return refused(&state.id, function, kind);
    }

    // Begin: lend the inputs, start the clock.
    b.begin();
    let res = b.resources();
    let mut lent = [0u32; 2];
    let mut n_lent = 0;
    let input = match element {
        None => None,
        Some(StreamElement {
            meta,
            payload,
            context,
        }) => {
            let reps = res
                .lend_buffer(payload, meta.content_type.clone())
                .and_then(|p| Ok((p, res.lend_flow(context)?)));
            match reps {
                Ok((payload, context)) => {
                    lent = [payload, context];
                    n_lent = 2;
                    Some(b.input(meta, payload, context))
                }
                Err(v) => return refused_lending(res, &state.id, function, v),
            }
        }
    };
    let start = b.clock().now_ns();
    b.resources().start_timer(start, frame.allowed, frame.fuel);

    // Body.
    let result = body(b, &frame, input.as_ref());
    if let Some(input) = input {
        b.release_input(input);
    }
    // A host call the fault plan failed without an error case, or the
    // deadline at a host call, stopped the guest (a mock model may have
    // carried on; the stop stands).
    let stopped = if B::RUNS_ON_AFTER_TRAP {
        stopped_at_host_call(b.resources())
    } else {
        None
    };

    // Finish: fuel, time, the end of the call on the host resources, memory.
    let mut metrics = InvocationMetrics::default();
    if b.limits().fuel_enabled {
        let consumed = b.fuel_consumed(&frame);
        metrics.fuel_consumed = consumed;
        state.fuel_remaining = Some(state.fuel_budget.saturating_sub(consumed));
        b.clock().charge_fuel(consumed);
    }
    let now = b.clock().now_ns();
    b.ended(now);
    metrics.duration = Duration::from_nanos(now.saturating_sub(start));
    b.resources().end_call(&lent[..n_lent], &mut metrics);
    metrics.memory_bytes = b.memory_bytes();

    // Classify.
    Invocation {
        outcome: match (result, stopped) {
            (Ok(value), None) => Ok(value),
            (Err(e), None) => Err(failed(b, state, &frame, e)),
            (_, Some(failure)) => Err(failed_with(b, state, &frame, failure)),
        },
        metrics,
    }
}

/// Why the host stopped a guest that may have carried on (a mock model):
/// a host call the fault plan failed without an error case, or the
/// deadline at a host call.
#[inline]
fn stopped_at_host_call(res: &HostResources) -> Option<Failure> {
    if let Some(v) = res.injected_trap() {
        return Some(Failure::Contract(v));
    }
    res.timer()
        .is_some_and(|t| t.fired)
        .then_some(Failure::Interrupted)
}

/// The error of a call whose body failed: the guest's `process-error`, or
/// the fault it classifies as (which poisons the instance). Out of line:
/// the hot path stays compact.
#[cold]
#[inline(never)]
fn failed<B: CallBackend>(
    b: &mut B,
    state: &mut CallState,
    frame: &CallFrame,
    e: B::Error,
) -> InvokeError {
    match b.failure(e) {
        Failure::Guest(e) => InvokeError::Guest(e),
        failure => failed_with(b, state, frame, failure),
    }
}

/// The fault a failed call classifies as (which poisons the instance).
#[cold]
#[inline(never)]
fn failed_with<B: CallBackend>(
    b: &mut B,
    state: &mut CallState,
    frame: &CallFrame,
    failure: Failure,
) -> InvokeError {
    let memory_denied = b.memory_denied();
    let res = b.resources();
    let budget_denied = res.counters.budget_denied;
    // The deadline bounds the fuel when it set the call's fuel, or when
    // host calls took fuel from the guest's allowance for their time.
    let time_bound = frame.deadline_in_fuel || res.timer().is_some_and(|t| t.withheld > 0);
    let kind = classify(
        failure,
        frame,
        time_bound,
        state.fuel_budget,
        memory_denied,
        budget_denied,
    );
    fault(&mut state.poisoned, &state.id, frame.function, kind)
}

/// Turns a failed call into a fault kind. A contract violation is itself;
/// running out of fuel is exhaustion unless the deadline bounded the fuel
/// (`time_bound`), and an interrupt is the deadline; then limits come
/// first: a trap that follows a refused memory growth, or else a refused
/// buffer allocation, in the same call is reported as the limit it hit.
fn classify(
    failure: Failure,
    frame: &CallFrame,
    time_bound: bool,
    fuel_budget: u64,
    memory_denied: Option<(u64, u64)>,
    budget_denied: Option<(u64, u64)>,
) -> FaultKind {
    match failure {
        Failure::Guest(_) => unreachable!("a guest error is not classified"),
        Failure::Contract(ContractViolation::Injected(f)) => FaultKind::Host {
            detail: format!(
                "{f}: the function has no error case, so the guest trapped there \
                 (fault injection)"
            ),
        },
        Failure::Contract(v) => FaultKind::ContractViolation(v),
        Failure::Answer((limit, allowed, got)) => FaultKind::AnswerTooLarge {
            limit,
            allowed,
            got,
        },
        Failure::OutOfFuel if !time_bound => FaultKind::FuelExhausted {
            budget: fuel_budget,
        },
        Failure::OutOfFuel | Failure::Interrupted => FaultKind::DeadlineExceeded {
            allowed: frame.allowed.unwrap_or_default(),
        },
        Failure::Trap { code, detail } => match (memory_denied, budget_denied) {
            (Some((limit, requested)), _) => FaultKind::MemoryLimitExceeded { limit, requested },
            (None, Some((limit, requested))) => {
                FaultKind::BufferBudgetExceeded { limit, requested }
            }
            (None, None) => FaultKind::Trap { code, detail },
        },
    }
}

/// A faulted call that never reached the guest. Out of line, like every
/// failure path, so the hot path stays compact.
#[cold]
#[inline(never)]
pub(crate) fn refused<T>(
    component: &ComponentId,
    function: Function,
    kind: FaultKind,
) -> Invocation<T> {
    Invocation {
        outcome: Err(InvokeError::Fault(Fault {
            component: component.clone(),
            function,
            kind,
        })),
        metrics: InvocationMetrics::default(),
    }
}

/// A call whose inputs could not be lent (the instance's resource limit):
/// the call ends on the host resources and is refused.
#[cold]
#[inline(never)]
fn refused_lending<T>(
    res: &mut HostResources,
    component: &ComponentId,
    function: Function,
    v: ContractViolation,
) -> Invocation<T> {
    res.end_call(&[], &mut InvocationMetrics::default());
    let reason = format!("cannot lend the input to the guest: {v}");
    refused(component, function, FaultKind::Rejected { reason })
}

/// The fault of a call that failed inside the guest, recorded as the
/// instance's poison when the fault poisons and nothing poisoned it before
/// (a call on a poisoned instance is refused before it gets here, so the
/// first poison is never overwritten). Out of line: the hot path stays
/// compact.
#[cold]
#[inline(never)]
fn fault(
    poisoned: &mut Option<Fault>,
    component: &ComponentId,
    function: Function,
    kind: FaultKind,
) -> InvokeError {
    let fault = Fault {
        component: component.clone(),
        function,
        kind,
    };
    if fault.poisons() && poisoned.is_none() {
        *poisoned = Some(fault.clone());
    }
    InvokeError::Fault(fault)
}

/// A call that has nothing to do (`teardown` without the lifecycle role...).
pub(crate) fn noop() -> Invocation<()> {
    Invocation {
        outcome: Ok(()),
        metrics: InvocationMetrics::default(),
    }
}
