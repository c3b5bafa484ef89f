//! The host resources of one instance ([`HostResources`]): the table of
//! what a call handed out, the limits on it, the per-call counters, the
//! call's deadline and the host-fault plan. Buffers (`buffers.rs`) and flow
//! contexts (`flow.rs`) add their methods to it.
//!
//! Hot path. The ownership model is in the `host` module's docs.

use std::time::Duration;

use bytes::Bytes;

use super::table::{Entry, Slab};
use super::timer::{CallTimer, DeadlinePassed};
use crate::clock::Clock;
use crate::error::ContractViolation;
use crate::faults::{FaultState, HostFaultPlan, HostFunction, InjectedFault};
use crate::host_calls::{HostAnswer, HostArgs, HostCall, MAX_TRACED_HOST_CALLS};
use crate::types::{ContentType, FlowContext, Grants, InvocationMetrics};

/// The longest content type kept from one call for the next (the last one
/// a guest named, the string the Wasmtime invoker lowers from); longer ones
/// are made anew each time rather than held on to.
pub(crate) const KEEP_CONTENT_TYPE_BYTES: usize = 1024;

/// The most bytes one buffer may hold: 16 MiB.
pub const MAX_BUFFER_BYTES: u64 = 16 * 1024 * 1024;

/// Limits on the host resources one instance may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Most bytes held at once in buffers the guest allocated (mutable
    /// buffers count their capacity, frozen ones their size).
    pub max_buffer_bytes: u64,
    /// Most host resources (of all kinds) live at once.
    pub max_resources: usize,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            max_buffer_bytes: 64 * 1024 * 1024,
            max_resources: 10_000,
        }
    }
}

/// A contract `buffer-error`, as the host answers a guest's buffer call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BufferError {
    /// The write would pass the buffer's capacity.
    CapacityExceeded,
    /// The offset is past the bytes written so far.
    OutOfBounds,
    /// The host refused the allocation (budget, resource count or cap).
    AllocationFailed(String),
}

/// Per-call counters, reset at the start of every call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallCounters {
    pub bytes_into_guest: u64,
    pub bytes_out_of_guest: u64,
    pub buffers_allocated: u32,
    pub host_calls: u32,
    /// Set when the buffer budget refused an allocation in this call:
    /// `(limit, requested)`.
    pub budget_denied: Option<(u64, u64)>,
}

/// The host resources of one instance. See the [`host`](crate::host)
/// module for the ownership model.
pub struct HostResources {
    pub(super) entries: Slab,
    pub(super) limits: ResourceLimits,
    pub(super) held_bytes: u64,
    pub(crate) counters: CallCounters,
    pub(super) clock: Clock,
    /// The rep of this call's lent input buffer (0: none), whose content
    /// type a guest that names the same one on its output (the usual case)
    /// shares instead of allocating.
    pub(super) lent_buffer: u32,
    /// The last other content type the guest named (a source's, say),
    /// shared the same way across calls.
    pub(super) recent_content_type: ContentType,
    /// The capabilities granted to the instance (`has-capability`).
    grants: Grants,
    /// The host-fault plan in force and the host-call trace, if either is
    /// on (boxed: the common case, neither, costs one pointer and one
    /// branch per host call).
    observer: Option<Box<Observer>>,
    /// When the call in progress started, how long it may run and its
    /// fuel, from which its [`CallTimer`] is built when first needed.
    call_start: CallStart,
    /// The deadline of the call in progress, once a host call or a wait
    /// looked at it.
    timer: Option<CallTimer>,
    /// Whether the engine clock is virtual (it never changes).
    virtual_clock: bool,
    /// Whether host calls of the call in progress are checked against its
    /// deadline (a deadline on a virtual clock).
    checks_deadline: bool,
}

/// What [`HostResources::start_timer`] keeps of a call.
#[derive(Clone, Copy, Debug, Default)]
struct CallStart {
    start_ns: u64,
    allowed: Option<Duration>,
    fuel: u64,
}

impl HostResources {
    /// An empty store with the given limits, reading deadlines from `clock`.
    pub fn new(limits: ResourceLimits, clock: Clock) -> Self {
        let virtual_clock = clock.is_virtual();
        Self {
            entries: Slab::new(),
            limits,
            held_bytes: 0,
            counters: CallCounters::default(),
            clock,
            lent_buffer: 0,
            recent_content_type: ContentType::EMPTY,
            grants: Grants::default(),
            observer: None,
            call_start: CallStart::default(),
            timer: None,
            virtual_clock,
            checks_deadline: false,
        }
    }

    /// The same store granting `grants` to its instance.
    pub fn with_grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }

    /// The same store failing host calls as `plan` says
    /// ([`HostResources::set_fault_plan`]).
    pub fn with_fault_plan(mut self, plan: HostFaultPlan) -> Self {
        self.set_fault_plan(plan);
        self
    }

    /// The same store tracing host calls when `on`
    /// ([`HostResources::set_host_call_trace`]).
    pub fn with_host_call_trace(mut self, on: bool) -> Self {
        if on {
            self.set_host_call_trace(true);
        }
        self
    }

    /// The capabilities granted to the instance.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// `capability-query.has-capability(name)`: whether `name` was granted
    /// (one host call).
    pub fn has_capability(&mut self, name: &str) -> Result<bool, ContractViolation> {
        let args = || HostArgs::Capability { name: name.into() };
        self.serve(
            HostFunction::HasCapability,
            args,
            #[inline(always)]
            |s| Ok(s.grants.contains(name)),
        )
    }

    /// Host resources live now (after a call: zero).
    pub fn live(&self) -> usize {
        self.entries.len()
    }

    /// Bytes held now in guest-made buffers.
    pub fn held_bytes(&self) -> u64 {
        self.held_bytes
    }

    /// The limits in force.
    pub fn limits(&self) -> ResourceLimits {
        self.limits
    }

    /// Starts a call: resets the per-call counters.
    #[inline]
    pub fn begin_call(&mut self) {
        self.counters = CallCounters::default();
        self.timer = None;
        if let Some(o) = &mut self.observer {
            o.begin_call();
        }
    }

    /// Starts the call's deadline: it began at `start_ns` on the engine
    /// clock, may run for `allowed` and burn `fuel`. The [`CallTimer`] is
    /// built from these when a host call or a wait first needs it: the
    /// common call pays a few stores.
    #[inline]
    pub(crate) fn start_timer(&mut self, start_ns: u64, allowed: Option<Duration>, fuel: u64) {
        self.call_start = CallStart {
            start_ns,
            allowed,
            fuel,
        };
        self.checks_deadline = self.virtual_clock & allowed.is_some();
    }

    /// The call's timer, built on first use; `None` without a deadline.
    #[cold]
    pub(super) fn timer_mut(&mut self) -> Option<&mut CallTimer> {
        if self.timer.is_none() {
            let c = self.call_start;
            let allowed_ns = u64::try_from(c.allowed?.as_nanos()).unwrap_or(u64::MAX);
            self.timer = Some(CallTimer::new(&self.clock, c.start_ns, allowed_ns, c.fuel));
        }
        self.timer.as_mut()
    }

    /// The engine clock.
    #[cfg(feature = "wasmtime-backend")]
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The deadline of the call in progress (or the last one), if a host
    /// call or a wait looked at it.
    #[inline]
    pub(crate) fn timer(&self) -> Option<&CallTimer> {
        self.timer.as_ref()
    }

    /// Whether host calls are checked against the call's deadline (a
    /// deadline on a virtual clock): then a backend calls
    /// [`HostResources::check_deadline`] before each one.
    #[inline]
    pub(crate) fn checks_deadline(&self) -> bool {
        self.checks_deadline
    }

    /// Before a host call on a virtual clock, with the guest's `fuel_left`:
    /// `Err` when the call's time with this host call passes its deadline;
    /// otherwise the most fuel the guest may still burn, when less than it
    /// has (see [`CallTimer::host_call`]).
    #[cold]
    pub(crate) fn check_deadline(&mut self, fuel_left: u64) -> Result<Option<u64>, DeadlinePassed> {
        let host_call_ns = self.clock.virtual_model().map_or(0, |m| m.ns_per_host_call);
        let clock = self.clock.clone();
        match self.timer_mut() {
            Some(t) => t.host_call(&clock, host_call_ns, fuel_left),
            None => Ok(None),
        }
    }

    /// A guest wait (`wasi:io/poll`, a Wasm guest's) until `until_ns` on the engine clock,
    /// with the guest's `fuel_left` on a virtual clock: a virtual clock
    /// moves there at once; the system clock is waited for, in this
    /// thread. `Err` when the call's deadline comes first (the clock is
    /// then at the deadline); otherwise the most fuel the guest may still
    /// burn, when less than it has.
    #[cold]
    #[cfg(feature = "wasmtime-backend")]
    pub(crate) fn wait_until(
        &mut self,
        until_ns: u64,
        fuel_left: u64,
    ) -> Result<Option<u64>, DeadlinePassed> {
        let clock = self.clock.clone();
        if self.virtual_clock {
            return match self.timer_mut() {
                Some(t) => t.wait_virtual(&clock, until_ns, fuel_left),
                None => {
                    clock.advance(until_ns.saturating_sub(clock.now_ns()));
                    Ok(None)
                }
            };
        }
        let deadline = self.timer_mut().map_or(u64::MAX, |t| t.deadline_ns);
        let wake = until_ns.min(deadline);
        loop {
            let now = clock.now_ns();
            if now >= wake {
                break;
            }
            std::thread::sleep(Duration::from_nanos(wake - now));
        }
        if until_ns > deadline {
            if let Some(t) = &mut self.timer {
                t.fired = true;
            }
            return Err(DeadlinePassed);
        }
        Ok(None)
    }

    /// Makes host calls fail from now on as `plan` says (counting host
    /// calls afresh); [`HostFaultPlan::None`] serves every call again.
    pub fn set_fault_plan(&mut self, plan: HostFaultPlan) {
        let faults = match plan {
            HostFaultPlan::None => None,
            plan => Some(FaultState::new(plan)),
        };
        self.observer_mut(|o| o.faults = faults);
    }

    /// Starts (`true`) or stops tracing the host calls of each call
    /// ([`HostResources::host_call_trace`]).
    pub fn set_host_call_trace(&mut self, on: bool) {
        self.observer_mut(|o| o.trace = on.then(Vec::new));
    }

    /// The host calls of the current (or last) call, in order, with
    /// tracing on ([`HostResources::set_host_call_trace`]); empty
    /// otherwise. At most [`MAX_TRACED_HOST_CALLS`].
    pub fn host_call_trace(&self) -> &[HostCall] {
        self.observer
            .as_ref()
            .and_then(|o| o.trace.as_deref())
            .unwrap_or_default()
    }

    /// Forgets what the last call did at the host boundary, for a call that
    /// did not reach the guest (an `init` or `teardown` without the
    /// lifecycle role): it made no host calls, so its trace is empty and
    /// no host call of it was failed by the plan.
    #[cold]
    pub(crate) fn skip_call(&mut self) {
        if let Some(o) = self.observer.as_mut() {
            if let Some(t) = o.trace.as_mut() {
                t.clear();
            }
            if let Some(f) = o.faults.as_mut() {
                f.begin_call();
            }
        }
    }

    /// Changes the observer with `f`, dropping it when nothing is left to
    /// observe (so the hot path is back to one branch on `None`).
    fn observer_mut(&mut self, f: impl FnOnce(&mut Observer)) {
        let mut o = self.observer.take().unwrap_or_default();
        f(&mut o);
        if o.faults.is_some() || o.trace.is_some() {
            self.observer = Some(o);
        }
    }

    /// The first host call the plan failed in the current (or last) call.
    pub fn injected_fault(&self) -> Option<InjectedFault> {
        self.faults().and_then(|f| f.injected)
    }

    #[inline]
    fn faults(&self) -> Option<&FaultState> {
        self.observer.as_ref().and_then(|o| o.faults.as_ref())
    }

    /// The violation a call ends with when the plan failed one of its host
    /// calls that has no error case (the guest trapped there), if one did.
    #[inline]
    pub(crate) fn injected_trap(&self) -> Option<ContractViolation> {
        self.faults()
            .and_then(|f| f.trapped)
            .map(ContractViolation::Injected)
    }

    /// Ends a call: releases `inputs` (handles the host lent), reclaims
    /// whatever the guest still holds, and writes the counters into
    /// `metrics`. Inlined, with the release out of line and skipped when
    /// the call handed out no rep (an empty `pull`): 50 instructions less
    /// per such call (callgrind, `examples/call_loop.rs pull`, 2 609 → 2 559).
    #[inline]
    pub fn end_call(&mut self, inputs: &[u32], metrics: &mut InvocationMetrics) {
        metrics.resources_reclaimed = if self.entries.next == 0 {
            0
        } else {
            self.release_all(inputs)
        };
        self.held_bytes = 0;
        self.lent_buffer = 0;
        metrics.bytes_into_guest = self.counters.bytes_into_guest;
        metrics.bytes_out_of_guest = self.counters.bytes_out_of_guest;
        metrics.buffers_allocated = self.counters.buffers_allocated;
        metrics.host_calls = self.counters.host_calls;
    }

    /// Releases every rep of the call; returns how many the guest still
    /// held (lent inputs are released too, but not counted as reclaimed).
    #[inline(never)]
    pub(super) fn release_all(&mut self, inputs: &[u32]) -> u32 {
        let lent_live = inputs
            .iter()
            .filter(|rep| self.entries.get(**rep).is_some())
            .count();
        let reclaimed = self.entries.clear() - lent_live;
        u32::try_from(reclaimed).unwrap_or(u32::MAX)
    }

    /// Adds the entry `make` builds, if the instance may hold one more.
    #[inline(always)]
    pub(super) fn insert(
        &mut self,
        make: impl FnOnce() -> Entry,
    ) -> Result<u32, ContractViolation> {
        if self.entries.len() >= self.limits.max_resources {
            return Err(ContractViolation::TooManyResources {
                live: self.entries.len(),
            });
        }
        // Reps are not reused (see `Slab`), so a stale guest handle cannot
        // alias a newer resource.
        self.entries
            .push_with(make)
            .ok_or(ContractViolation::TooManyResources {
                live: self.entries.len(),
            })
    }

    /// Serves one guest call into the host: counts it (and charges a
    /// virtual clock) and answers what `body` does. With a fault plan or a
    /// trace on, [`HostResources::serve_observed`] does it instead: the one
    /// branch on the hot path, as before traces. `args` is only evaluated
    /// there.
    #[inline(always)]
    pub(super) fn serve<R: Served>(
        &mut self,
        function: HostFunction,
        args: impl FnOnce() -> HostArgs,
        body: impl FnOnce(&mut Self) -> R,
    ) -> R {
        if self.observer.is_none() {
            self.counters.host_calls += 1;
            self.clock.charge_host_call();
            return body(self);
        }
        self.serve_observed(function, args, body)
    }

    /// [`HostResources::serve`] with a fault plan or a trace on: the plan
    /// may fail the call ([`HostResources::observe_host_call`]), and the
    /// trace records it.
    #[cold]
    #[inline(never)]
    fn serve_observed<R: Served>(
        &mut self,
        function: HostFunction,
        args: impl FnOnce() -> HostArgs,
        body: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let (answer, injected) = match self.observe_host_call(function) {
            Observed::Served => (body(self), false),
            Observed::Failed => (R::failed(self, function), true),
            Observed::Stopped => return R::failed(self, function),
        };
        self.record_host_call(function, args(), &answer, injected);
        answer
    }

    /// Counts a host call with a fault plan or a trace on: whether it is
    /// served or failed on purpose. After a failure that trapped, the
    /// guest would have stopped: later host calls of the same call (which
    /// only a mock model makes) fail uncounted and untraced.
    #[cold]
    #[inline(never)]
    fn observe_host_call(&mut self, function: HostFunction) -> Observed {
        let index = self.counters.host_calls;
        let failed = match self.observer.as_mut().and_then(|o| o.faults.as_mut()) {
            Some(f) if f.trapped.is_some() => return Observed::Stopped,
            Some(f) => f.fails(function, index),
            None => false,
        };
        self.counters.host_calls += 1;
        self.clock.charge_host_call();
        if failed {
            Observed::Failed
        } else {
            Observed::Served
        }
    }

    /// Adds a host call to the trace, if one is on (and not full).
    #[cold]
    #[inline(never)]
    fn record_host_call<R: Served>(
        &mut self,
        function: HostFunction,
        args: HostArgs,
        answer: &R,
        injected: bool,
    ) {
        if let Some(trace) = self.observer.as_mut().and_then(|o| o.trace.as_mut())
            && trace.len() < MAX_TRACED_HOST_CALLS
        {
            trace.push(HostCall {
                function,
                args,
                answer: answer.answer(),
                injected,
            });
        }
    }

    /// The error of a failed host call without an error case: the guest
    /// traps there.
    #[cold]
    pub(super) fn trap_here(&self) -> ContractViolation {
        self.injected_trap()
            .expect("a failed host call without an error case set the trap")
    }

    /// The `allocation-failed` of an injected allocation failure.
    #[cold]
    pub(super) fn injected_allocation_failure(&self) -> BufferError {
        BufferError::AllocationFailed(match self.injected_fault() {
            Some(f) => format!("{f} (fault injection)"),
            None => "failed on purpose (fault injection)".into(),
        })
    }

    pub(super) fn get(
        &self,
        rep: u32,
        resource: &'static str,
    ) -> Result<&Entry, ContractViolation> {
        self.entries
            .get(rep)
            .ok_or(ContractViolation::StaleHandle { resource, rep })
    }

    /// Lends an input payload to the guest; returns its rep.
    #[inline]
    pub fn lend_buffer(
        &mut self,
        bytes: Bytes,
        content_type: ContentType,
    ) -> Result<u32, ContractViolation> {
        let rep = self.insert(|| Entry::Buffer {
            bytes,
            content_type,
            budgeted: false,
        })?;
        self.lent_buffer = rep;
        Ok(rep)
    }

    /// Lends a flow context to the guest; returns its rep.
    #[inline]
    pub fn lend_flow(&mut self, ctx: FlowContext) -> Result<u32, ContractViolation> {
        self.insert(|| Entry::Flow(ctx))
    }

    /// The guest dropped its handle `rep` (`function`: the resource-drop
    /// it called), served as every host call is. A failed drop still
    /// drops: the guest's handle is gone.
    #[inline]
    pub(super) fn drop_served(
        &mut self,
        function: HostFunction,
        rep: u32,
    ) -> Result<(), ContractViolation> {
        let answer = self.serve(
            function,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |_| Ok(()),
        );
        self.drop_rep(rep);
        answer
    }

    fn drop_rep(&mut self, rep: u32) {
        // A rep that is gone was reclaimed at the end of an earlier call:
        // the guest dropping its stale handle now is harmless.
        if let Some(bytes) = self.entries.discard(rep, Self::budgeted_bytes) {
            self.held_bytes -= bytes;
        }
    }

    pub(super) fn budgeted_bytes(entry: &Entry) -> u64 {
        match entry {
            Entry::Buffer {
                bytes,
                budgeted: true,
                ..
            } => bytes.len() as u64,
            Entry::Mutable { capacity, .. } => *capacity,
            _ => 0,
        }
    }
}

/// What [`HostResources::observe_host_call`] decided.
enum Observed {
    /// Counted; the host serves it.
    Served,
    /// Counted; the fault plan fails it.
    Failed,
    /// Not counted: the guest trapped at an earlier failed host call of
    /// this call.
    Stopped,
}

/// What observes an instance's host calls: a fault plan, a trace, or both.
#[derive(Debug, Default)]
struct Observer {
    faults: Option<FaultState>,
    /// The current (or last) call's host calls, with tracing on.
    trace: Option<Vec<HostCall>>,
}

impl Observer {
    #[cold]
    #[inline(never)]
    fn begin_call(&mut self) {
        if let Some(f) = &mut self.faults {
            f.begin_call();
        }
        if let Some(t) = &mut self.trace {
            t.clear();
        }
    }
}

/// What a host function returns, as [`HostResources::serve`] answers it:
/// how a failed call of it answers, and how its answer reads in a trace.
pub(super) trait Served: Sized {
    /// The answer of a call of `function` a fault plan failed.
    fn failed(res: &HostResources, function: HostFunction) -> Self;
    /// The answer, summarized for a trace.
    fn answer(&self) -> HostAnswer;
}

/// A value a host function returns, summarized for a trace.
pub(super) trait TracedValue {
    fn traced(&self) -> HostAnswer;
}

impl TracedValue for () {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Done
    }
}

impl TracedValue for u64 {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Value(*self)
    }
}

/// A handle the host handed out.
impl TracedValue for u32 {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Handle(*self)
    }
}

impl TracedValue for bool {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Bool(*self)
    }
}

impl TracedValue for String {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Text(self.clone())
    }
}

/// Bytes copied into the guest: how many.
impl TracedValue for Vec<u8> {
    fn traced(&self) -> HostAnswer {
        HostAnswer::Bytes(self.len() as u64)
    }
}

fn traced_error(e: &BufferError) -> HostAnswer {
    HostAnswer::Error(match e {
        BufferError::CapacityExceeded => "capacity-exceeded",
        BufferError::OutOfBounds => "out-of-bounds",
        BufferError::AllocationFailed(_) => "allocation-failed",
    })
}

/// A function without an error case: a failure traps.
impl<T: TracedValue> Served for Result<T, ContractViolation> {
    fn failed(res: &HostResources, _: HostFunction) -> Self {
        Err(res.trap_here())
    }

    fn answer(&self) -> HostAnswer {
        match self {
            Ok(v) => v.traced(),
            Err(_) => HostAnswer::Trap,
        }
    }
}

/// `allocate`: a failure is `allocation-failed`.
impl Served for Result<u32, BufferError> {
    fn failed(res: &HostResources, _: HostFunction) -> Self {
        Err(res.injected_allocation_failure())
    }

    fn answer(&self) -> HostAnswer {
        match self {
            Ok(h) => HostAnswer::Handle(*h),
            Err(e) => traced_error(e),
        }
    }
}

/// `clone-into-mutable`, `write` and `append`: a failure answers the
/// function's contract error.
impl<T: TracedValue> Served for Result<Result<T, BufferError>, ContractViolation> {
    fn failed(res: &HostResources, function: HostFunction) -> Self {
        Ok(Err(match function.error_case() {
            Some("allocation-failed") => res.injected_allocation_failure(),
            _ => BufferError::CapacityExceeded,
        }))
    }

    fn answer(&self) -> HostAnswer {
        match self {
            Ok(Ok(v)) => v.traced(),
            Ok(Err(e)) => traced_error(e),
            Err(_) => HostAnswer::Trap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::table::SLAB_SLOTS;
    use crate::host::testing::{assert_stale, end, store};

    #[test]
    pub(super) fn a_handle_of_the_wrong_kind_is_stale() {
        let mut r = store();
        let f = r.lend_flow(FlowContext::new("f")).unwrap();
        assert!(matches!(
            r.buffer_size(f),
            Err(ContractViolation::StaleHandle {
                resource: "flow-context",
                ..
            })
        ));
        assert!(r.buffer_read(12345, 0, 1).is_err());
        assert!(r.take_buffer(f).is_err());
        assert_eq!(r.flow_id(f).unwrap(), "f");
        assert_eq!(r.flow_deadline_ns(f).unwrap(), 0);
    }

    #[test]
    pub(super) fn the_resource_count_is_bounded() {
        let mut r = store();
        let reps: Vec<u32> = (0..8).map(|_| r.allocate(0).unwrap()).collect();
        assert!(matches!(
            r.allocate(0),
            Err(BufferError::AllocationFailed(_))
        ));
        assert_eq!(
            r.lend_flow(FlowContext::default()).unwrap_err(),
            ContractViolation::TooManyResources { live: 8 }
        );
        let m = end(&mut r, &[]);
        assert_eq!(m.resources_reclaimed, 8);
        // Reclaimed reps are stale, and never handed out again.
        assert!(r.mutable_size(reps[0]).is_err());
        let fresh = r.allocate(0).unwrap();
        assert!(!reps.contains(&fresh));
    }

    #[test]
    pub(super) fn reps_are_not_reused_across_calls() {
        let mut res = store();
        res.begin_call();
        let a = res.lend_flow(FlowContext::new("a")).unwrap();
        let kept = res.allocate(8).unwrap();
        let metrics = end(&mut res, &[a]);
        assert_eq!(
            metrics.resources_reclaimed, 1,
            "the kept buffer is reclaimed"
        );
        res.begin_call();
        let b = res.lend_flow(FlowContext::new("b")).unwrap();
        assert!(b > kept && kept > a, "reps only grow: {a} {kept} {b}");
        assert_stale(res.flow_id(a));
        assert_stale(res.mutable_size(kept));
        assert_eq!(res.flow_id(b).unwrap(), "b");
        res.drop_flow(a).unwrap(); // a stale drop is harmless
        assert_eq!(res.live(), 1);
        end(&mut res, &[b]);
        assert_eq!(res.live(), 0);
    }

    #[test]
    pub(super) fn churning_resources_in_one_call_keeps_the_store_bounded() {
        let mut res = store();
        res.begin_call();
        let first = res.allocate(8).unwrap();
        let mut last = first;
        for _ in 0..100_000 {
            last = res.allocate(8).unwrap();
            res.drop_mutable(last).unwrap();
        }
        assert_eq!(res.live(), 1);
        assert_eq!(
            res.entries.slots.len(),
            SLAB_SLOTS,
            "the slots stop growing"
        );
        assert!(
            res.entries.overflow.is_empty(),
            "dropped overflow reps are freed"
        );
        // Reps past the slots behave like the others.
        let late = res.allocate(4).unwrap();
        assert!(late > last);
        res.mutable_append(late, b"abcd").unwrap().unwrap();
        assert_eq!(res.mutable_size(late).unwrap(), 4);
        assert_eq!(res.mutable_size(first).unwrap(), 0);
        assert_stale(res.mutable_size(last));
        let metrics = end(&mut res, &[]);
        assert_eq!(metrics.resources_reclaimed, 2);
        res.begin_call();
        assert_stale(res.mutable_size(late));
        assert!(res.allocate(1).unwrap() > late, "reps only grow");
    }
}
