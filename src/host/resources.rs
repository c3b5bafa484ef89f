//! The host side of the contract's resources: buffers, mutable buffers and
//! flow contexts, with every limit the contract puts on them.
//!
//! Hot path. One [`HostResources`] lives in each instance (in the Wasmtime
//! store's data, or in a mock instance) and is backend-neutral: the backends
//! translate guest handles to the `u32` reps used here and forward every
//! method call. Nothing here panics on guest input; every check happens
//! before the value is used.
//!
//! Ownership model: resources are **call-scoped**. The inputs of a call (the
//! payload and flow context of a `stream-element`) are lent to the guest and
//! released when the call ends; an output buffer moves to the caller; any
//! resource the guest still holds when the call ends is reclaimed (and
//! counted in [`InvocationMetrics::resources_reclaimed`]). After every call
//! [`HostResources::live`] is therefore back to zero, and a guest that uses a
//! handle kept from an earlier call gets a stale-handle contract violation.

use std::time::Duration;

use bytes::Bytes;

use super::timer::{CallTimer, DeadlinePassed};
use crate::clock::Clock;
use crate::error::ContractViolation;
use crate::faults::{FaultState, HostFaultPlan, HostFunction, InjectedFault};
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

enum MutData {
    /// Still the bytes of the buffer it was cloned from: no copy yet.
    Shared(Bytes),
    Owned(Vec<u8>),
}

impl MutData {
    fn len(&self) -> usize {
        match self {
            Self::Shared(b) => b.len(),
            Self::Owned(v) => v.len(),
        }
    }

    fn make_owned(&mut self) -> &mut Vec<u8> {
        if let Self::Shared(b) = self {
            *self = Self::Owned(b.to_vec());
        }
        match self {
            Self::Owned(v) => v,
            Self::Shared(_) => unreachable!("converted to owned just above"),
        }
    }

    fn freeze(self) -> Bytes {
        match self {
            Self::Shared(b) => b,
            Self::Owned(v) => Bytes::from(v),
        }
    }
}

enum Entry {
    Buffer {
        bytes: Bytes,
        content_type: ContentType,
        /// Counted against the buffer budget (made by the guest).
        budgeted: bool,
    },
    Mutable {
        data: MutData,
        capacity: u64,
        content_type: ContentType,
    },
    /// A mutable buffer that `freeze` consumed; the guest still holds the
    /// handle and must drop it, but any other use is a violation.
    Frozen,
    Flow(FlowContext),
}

impl Entry {
    fn kind(&self) -> &'static str {
        match self {
            Self::Buffer { .. } => "buffer",
            Self::Mutable { .. } | Self::Frozen => "mutable-buffer",
            Self::Flow(_) => "flow-context",
        }
    }
}

/// The live resources of one call. Every resource is call-scoped (what the
/// guest still holds when a call ends is reclaimed), so the reps handed out
/// during a call are consecutive from `base`: the first [`SLAB_SLOTS`] of
/// them are indices into `slots`, later ones (a guest churning through
/// resources) go to the `overflow` map, which frees what is removed. So the
/// store stays bounded by [`ResourceLimits::max_resources`] plus the fixed
/// slots however many resources one call creates and drops. A new call
/// starts past every rep handed out before, so reps are not reused (until
/// 2^32 have been handed out) and a stale guest handle cannot alias a newer
/// resource.
struct Slab {
    base: u32,
    /// Reps handed out this call (the next rep is `base + next`).
    next: u32,
    slots: Vec<Option<Entry>>,
    overflow: rustc_hash::FxHashMap<u32, Entry>,
    live: usize,
}

/// Reps of one call that are plain indices (more go to a map).
const SLAB_SLOTS: usize = 256;

impl Slab {
    fn new() -> Self {
        Self {
            base: 1,
            next: 0,
            slots: Vec::new(),
            overflow: rustc_hash::FxHashMap::default(),
            live: 0,
        }
    }

    /// The offset of `rep` in this call, if it was handed out this call.
    #[inline]
    fn offset(&self, rep: u32) -> Option<usize> {
        let off = rep.checked_sub(self.base)?;
        (off < self.next).then_some(off as usize)
    }

    fn len(&self) -> usize {
        self.live
    }

    #[inline]
    fn get(&self, rep: u32) -> Option<&Entry> {
        match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].as_ref(),
            _ => self.overflow.get(&rep),
        }
    }

    fn get_mut(&mut self, rep: u32) -> Option<&mut Entry> {
        match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].as_mut(),
            _ => self.overflow.get_mut(&rep),
        }
    }

    fn remove(&mut self, rep: u32) -> Option<Entry> {
        let entry = match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].take(),
            _ => self.overflow.remove(&rep),
        };
        self.live -= usize::from(entry.is_some());
        entry
    }

    /// Drops the entry at `rep` where it is (not moved out first),
    /// returning what `read` takes from it before.
    #[inline]
    fn discard<R>(&mut self, rep: u32, read: impl FnOnce(&Entry) -> R) -> Option<R> {
        let value = match self.offset(rep)? {
            off if off < SLAB_SLOTS => {
                let slot = &mut self.slots[off];
                let value = read(slot.as_ref()?);
                *slot = None;
                value
            }
            _ => read(&self.overflow.remove(&rep)?),
        };
        self.live -= 1;
        Some(value)
    }

    /// Puts back an entry just removed from `rep`.
    fn restore(&mut self, rep: u32, entry: Entry) {
        match self.offset(rep) {
            Some(off) if off < SLAB_SLOTS => self.slots[off] = Some(entry),
            Some(_) => {
                self.overflow.insert(rep, entry);
            }
            None => unreachable!("restore takes a rep of this call"),
        }
        self.live += 1;
    }

    /// Adds the entry `make` builds under the next rep (built in its slot,
    /// not moved there); `None` once reps would pass `u32::MAX`.
    #[inline(always)]
    fn push_with(&mut self, make: impl FnOnce() -> Entry) -> Option<u32> {
        let rep = self.base.checked_add(self.next)?;
        let off = self.next as usize;
        self.next = self.next.checked_add(1)?;
        if let Some(slot) = self.slots.get_mut(off) {
            // A slot an earlier call used (and `clear` emptied): written in
            // place, no growth.
            *slot = Some(make());
        } else {
            self.push_new(rep, off, make());
        }
        self.live += 1;
        Some(rep)
    }

    /// [`Slab::push_with`] past the slots used so far: a new slot, or the
    /// map.
    #[cold]
    #[inline(never)]
    fn push_new(&mut self, rep: u32, off: usize, entry: Entry) {
        if off < SLAB_SLOTS {
            self.slots.push(Some(entry));
        } else {
            self.overflow.insert(rep, entry);
        }
    }

    /// Drops every entry and returns how many were live; the next reps
    /// start past the ones handed out.
    fn clear(&mut self) -> usize {
        let live = self.live;
        // After about 4 billion reps: start over (no rep is live then).
        self.base = self.base.checked_add(self.next).unwrap_or(1);
        // Empty the slots this call used and keep them for the next calls
        // (slots past them are empty already).
        let used = (self.next as usize).min(self.slots.len());
        for slot in &mut self.slots[..used] {
            *slot = None;
        }
        self.next = 0;
        if !self.overflow.is_empty() {
            self.overflow = rustc_hash::FxHashMap::default();
        }
        self.live = 0;
        live
    }
}

/// A buffer the guest handed back to the host (an output's payload).
#[derive(Debug)]
pub struct TakenBuffer {
    /// The bytes.
    pub bytes: Bytes,
    /// The content type set on the buffer.
    pub content_type: ContentType,
}

/// The host resources of one instance. See the module docs for the
/// ownership model.
pub struct HostResources {
    entries: Slab,
    limits: ResourceLimits,
    held_bytes: u64,
    pub(crate) counters: CallCounters,
    clock: Clock,
    /// The rep of this call's lent input buffer (0: none), whose content
    /// type a guest that names the same one on its output (the usual case)
    /// shares instead of allocating.
    lent_buffer: u32,
    /// The last other content type the guest named (a source's, say),
    /// shared the same way across calls.
    recent_content_type: ContentType,
    /// The capabilities granted to the instance (`has-capability`).
    grants: Grants,
    /// The host-fault plan in force, if any (boxed: the common case, no
    /// plan, costs one pointer and one branch per host call).
    faults: Option<Box<FaultState>>,
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
            faults: None,
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

    /// The capabilities granted to the instance.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// `capability-query.has-capability(name)`: whether `name` was granted
    /// (one host call).
    pub fn has_capability(&mut self, name: &str) -> Result<bool, ContractViolation> {
        if self.host_call(HostFunction::HasCapability) {
            return Err(self.trap_here());
        }
        Ok(self.grants.contains(name))
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
        if let Some(f) = &mut self.faults {
            f.begin_call();
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
    fn timer_mut(&mut self) -> Option<&mut CallTimer> {
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
        self.faults = match plan {
            HostFaultPlan::None => None,
            plan => Some(Box::new(FaultState::new(plan))),
        };
    }

    /// The first host call the plan failed in the current (or last) call.
    pub fn injected_fault(&self) -> Option<InjectedFault> {
        self.faults.as_ref().and_then(|f| f.injected)
    }

    /// The violation a call ends with when the plan failed one of its host
    /// calls that has no error case (the guest trapped there), if one did.
    #[inline]
    pub(crate) fn injected_trap(&self) -> Option<ContractViolation> {
        self.faults
            .as_ref()
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
    fn release_all(&mut self, inputs: &[u32]) -> u32 {
        let lent_live = inputs
            .iter()
            .filter(|rep| self.entries.get(**rep).is_some())
            .count();
        let reclaimed = self.entries.clear() - lent_live;
        u32::try_from(reclaimed).unwrap_or(u32::MAX)
    }

    /// Adds the entry `make` builds, if the instance may hold one more.
    #[inline(always)]
    fn insert(&mut self, make: impl FnOnce() -> Entry) -> Result<u32, ContractViolation> {
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

    /// Counts one guest call into the host (and charges a virtual clock);
    /// `true` when the fault plan fails it. After a failure that trapped,
    /// the guest would have stopped: later host calls of the same call
    /// (which only a mock model makes) fail uncounted.
    #[inline]
    fn host_call(&mut self, function: HostFunction) -> bool {
        if let Some(f) = &mut self.faults {
            if f.trapped.is_some() {
                return true;
            }
            let index = self.counters.host_calls;
            self.counters.host_calls += 1;
            self.clock.charge_host_call();
            return f.fails(function, index);
        }
        self.counters.host_calls += 1;
        self.clock.charge_host_call();
        false
    }

    /// The error of a failed host call without an error case: the guest
    /// traps there.
    #[cold]
    fn trap_here(&self) -> ContractViolation {
        self.injected_trap()
            .expect("a failed host call without an error case set the trap")
    }

    /// The `allocation-failed` of an injected allocation failure.
    #[cold]
    fn injected_allocation_failure(&self) -> BufferError {
        BufferError::AllocationFailed(match self.injected_fault() {
            Some(f) => format!("{f} (fault injection)"),
            None => "failed on purpose (fault injection)".into(),
        })
    }

    fn get(&self, rep: u32, resource: &'static str) -> Result<&Entry, ContractViolation> {
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

    /// A content type the guest named, as a [`ContentType`]: the input's
    /// own, or the last one named, when it is the same string (no
    /// allocation); a new one otherwise.
    pub fn content_type(&mut self, content_type: &str) -> ContentType {
        if let Some(Entry::Buffer {
            content_type: lent, ..
        }) = self.entries.get(self.lent_buffer)
            && lent.as_str() == content_type
        {
            lent.clone()
        } else if content_type.is_empty() {
            ContentType::EMPTY
        } else if content_type == self.recent_content_type.as_str() {
            self.recent_content_type.clone()
        } else {
            let new = ContentType::from(content_type);
            if content_type.len() <= KEEP_CONTENT_TYPE_BYTES {
                self.recent_content_type = new.clone();
            }
            new
        }
    }

    fn buffer(&self, rep: u32) -> Result<(&Bytes, &ContentType), ContractViolation> {
        match self.get(rep, "buffer")? {
            Entry::Buffer {
                bytes,
                content_type,
                ..
            } => Ok((bytes, content_type)),
            other => Err(ContractViolation::StaleHandle {
                resource: other.kind(),
                rep,
            }),
        }
    }

    /// `buffer.size`.
    pub fn buffer_size(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        if self.host_call(HostFunction::BufferSize) {
            return Err(self.trap_here());
        }
        Ok(self.buffer(rep)?.0.len() as u64)
    }

    /// `buffer.content-type`.
    pub fn buffer_content_type(&mut self, rep: u32) -> Result<String, ContractViolation> {
        if self.host_call(HostFunction::BufferContentType) {
            return Err(self.trap_here());
        }
        Ok(self.buffer(rep)?.1.as_str().to_owned())
    }

    /// `buffer.read`: up to `len` bytes from `offset`, clamped to the bytes
    /// in bounds (a range past the end is not an error).
    pub fn buffer_read(
        &mut self,
        rep: u32,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, ContractViolation> {
        if self.host_call(HostFunction::BufferRead) {
            return Err(self.trap_here());
        }
        let (bytes, _) = self.buffer(rep)?;
        let size = bytes.len() as u64;
        let start = offset.min(size);
        let end = start.saturating_add(len).min(size);
        // Both bounds are <= size, which came from a usize.
        let out = bytes[start as usize..end as usize].to_vec();
        self.counters.bytes_into_guest += end - start;
        Ok(out)
    }

    /// `buffer.read-all`.
    pub fn buffer_read_all(&mut self, rep: u32) -> Result<Vec<u8>, ContractViolation> {
        if self.host_call(HostFunction::BufferReadAll) {
            return Err(self.trap_here());
        }
        let out = self.buffer(rep)?.0.to_vec();
        self.counters.bytes_into_guest += out.len() as u64;
        Ok(out)
    }

    /// The guest dropped its handle to a buffer.
    pub fn drop_buffer(&mut self, rep: u32) -> Result<(), ContractViolation> {
        let failed = self.host_call(HostFunction::BufferDrop);
        self.drop_rep(rep);
        if failed {
            return Err(self.trap_here());
        }
        Ok(())
    }

    fn drop_rep(&mut self, rep: u32) {
        // A rep that is gone was reclaimed at the end of an earlier call:
        // the guest dropping its stale handle now is harmless.
        if let Some(bytes) = self.entries.discard(rep, Self::budgeted_bytes) {
            self.held_bytes -= bytes;
        }
    }

    fn budgeted_bytes(entry: &Entry) -> u64 {
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

    /// Moves a buffer the guest returned (an output payload) to the caller.
    #[inline]
    pub fn take_buffer(&mut self, rep: u32) -> Result<TakenBuffer, ContractViolation> {
        // A guest that trapped in a failed host call returns nothing (a
        // mock model may try): the buffer stays, to be reclaimed.
        if let Some(v) = self.injected_trap() {
            return Err(v);
        }
        // One lookup: take the entry out, and put it back if it is not a
        // buffer (the rare, violating case).
        match self.entries.remove(rep) {
            Some(Entry::Buffer {
                bytes,
                content_type,
                budgeted,
            }) => {
                if budgeted {
                    self.held_bytes -= bytes.len() as u64;
                }
                Ok(TakenBuffer {
                    bytes,
                    content_type,
                })
            }
            Some(other) => {
                let resource = other.kind();
                self.entries.restore(rep, other);
                Err(ContractViolation::StaleHandle { resource, rep })
            }
            None => Err(ContractViolation::StaleHandle {
                resource: "buffer",
                rep,
            }),
        }
    }

    fn reserve(&mut self, capacity: u64) -> Result<(), BufferError> {
        if capacity > MAX_BUFFER_BYTES {
            return Err(BufferError::AllocationFailed(format!(
                "capacity {capacity} exceeds the {MAX_BUFFER_BYTES}-byte buffer cap"
            )));
        }
        let wanted = self.held_bytes.saturating_add(capacity);
        if wanted > self.limits.max_buffer_bytes {
            self.counters.budget_denied = Some((self.limits.max_buffer_bytes, wanted));
            return Err(BufferError::AllocationFailed(format!(
                "buffer budget exhausted: {} of {} bytes held, {capacity} more requested",
                self.held_bytes, self.limits.max_buffer_bytes
            )));
        }
        if self.entries.len() >= self.limits.max_resources {
            return Err(BufferError::AllocationFailed(format!(
                "the instance holds {} host resources, the most allowed",
                self.entries.len()
            )));
        }
        Ok(())
    }

    #[inline]
    fn insert_mutable(&mut self, data: MutData, capacity: u64, content_type: ContentType) -> u32 {
        self.held_bytes += capacity;
        self.counters.buffers_allocated += 1;
        self.insert(|| Entry::Mutable {
            data,
            capacity,
            content_type,
        })
        .expect("reserve checked the resource count")
    }

    /// `buffer-allocator.allocate`: a mutable buffer of exactly
    /// `capacity_hint` bytes of capacity.
    pub fn allocate(&mut self, capacity_hint: u64) -> Result<u32, BufferError> {
        if self.host_call(HostFunction::Allocate) {
            return Err(self.injected_allocation_failure());
        }
        self.reserve(capacity_hint)?;
        Ok(self.insert_mutable(
            MutData::Owned(Vec::new()),
            capacity_hint,
            ContentType::EMPTY,
        ))
    }

    /// `buffer-allocator.clone-into-mutable`: a mutable buffer holding the
    /// source's bytes (shared until first written) and content type, with
    /// capacity equal to the source's size.
    #[inline]
    pub fn clone_into_mutable(
        &mut self,
        source: u32,
    ) -> Result<Result<u32, BufferError>, ContractViolation> {
        if self.host_call(HostFunction::CloneIntoMutable) {
            return Ok(Err(self.injected_allocation_failure()));
        }
        let (bytes, content_type) = self.buffer(source)?;
        let (bytes, content_type) = (bytes.clone(), content_type.clone());
        let capacity = bytes.len() as u64;
        if let Err(e) = self.reserve(capacity) {
            return Ok(Err(e));
        }
        Ok(Ok(self.insert_mutable(
            MutData::Shared(bytes),
            capacity,
            content_type,
        )))
    }

    fn mutable(
        &mut self,
        rep: u32,
    ) -> Result<(&mut MutData, &mut u64, &mut ContentType), ContractViolation> {
        match self.mutable_entry(rep)? {
            Entry::Mutable {
                data,
                capacity,
                content_type,
            } => Ok((data, capacity, content_type)),
            _ => unreachable!("mutable_entry returns a live mutable buffer"),
        }
    }

    /// The entry of a live (not frozen) mutable buffer.
    fn mutable_entry(&mut self, rep: u32) -> Result<&mut Entry, ContractViolation> {
        match self.entries.get_mut(rep) {
            Some(entry @ Entry::Mutable { .. }) => Ok(entry),
            Some(Entry::Frozen) => Err(ContractViolation::UseAfterFreeze { rep }),
            Some(other) => Err(ContractViolation::StaleHandle {
                resource: other.kind(),
                rep,
            }),
            None => Err(ContractViolation::StaleHandle {
                resource: "mutable-buffer",
                rep,
            }),
        }
    }

    /// `mutable-buffer.write`: write at `offset` (at most the current size),
    /// growing up to the capacity.
    pub fn mutable_write(
        &mut self,
        rep: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        if self.host_call(HostFunction::MutableWrite) {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        self.write_at(rep, offset, bytes)
    }

    fn write_at(
        &mut self,
        rep: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        let (data, capacity, _) = self.mutable(rep)?;
        let size = data.len() as u64;
        if offset > size {
            return Ok(Err(BufferError::OutOfBounds));
        }
        let end = match offset.checked_add(bytes.len() as u64) {
            Some(end) if end <= *capacity => end,
            _ => return Ok(Err(BufferError::CapacityExceeded)),
        };
        let v = data.make_owned();
        // offset <= size and end <= capacity <= 16 MiB: both fit usize.
        let (offset, end) = (offset as usize, end as usize);
        if end > v.len() {
            v.resize(end, 0);
        }
        v[offset..end].copy_from_slice(bytes);
        self.counters.bytes_out_of_guest += bytes.len() as u64;
        Ok(Ok(()))
    }

    /// `mutable-buffer.append`.
    pub fn mutable_append(
        &mut self,
        rep: u32,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        if self.host_call(HostFunction::MutableAppend) {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        let size = self.mutable(rep)?.0.len() as u64;
        self.write_at(rep, size, bytes)
    }

    /// `mutable-buffer.size`.
    pub fn mutable_size(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        if self.host_call(HostFunction::MutableSize) {
            return Err(self.trap_here());
        }
        Ok(self.mutable(rep)?.0.len() as u64)
    }

    /// `mutable-buffer.capacity`.
    pub fn mutable_capacity(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        if self.host_call(HostFunction::MutableCapacity) {
            return Err(self.trap_here());
        }
        Ok(*self.mutable(rep)?.1)
    }

    /// `mutable-buffer.set-content-type`.
    pub fn mutable_set_content_type(
        &mut self,
        rep: u32,
        content_type: &str,
    ) -> Result<(), ContractViolation> {
        if self.host_call(HostFunction::MutableSetContentType) {
            return Err(self.trap_here());
        }
        let content_type = self.content_type(content_type);
        *self.mutable(rep)?.2 = content_type;
        Ok(())
    }

    /// `mutable-buffer.freeze`: consumes the mutable buffer (its handle
    /// stays with the guest, dead but for `drop`) and returns the rep of a
    /// new owned buffer.
    #[inline]
    pub fn mutable_freeze(&mut self, rep: u32) -> Result<u32, ContractViolation> {
        if self.host_call(HostFunction::MutableFreeze) {
            return Err(self.trap_here());
        }
        // One lookup: check the kind and leave `Frozen` in its place.
        let entry = self.mutable_entry(rep)?;
        let Entry::Mutable {
            data,
            capacity,
            content_type,
        } = std::mem::replace(entry, Entry::Frozen)
        else {
            unreachable!("mutable_entry returns a live mutable buffer")
        };
        let bytes = data.freeze();
        self.held_bytes = self.held_bytes - capacity + bytes.len() as u64;
        self.insert(|| Entry::Buffer {
            bytes,
            content_type,
            budgeted: true,
        })
    }

    /// The guest dropped its handle to a mutable buffer (frozen or not).
    #[inline]
    pub fn drop_mutable(&mut self, rep: u32) -> Result<(), ContractViolation> {
        let failed = self.host_call(HostFunction::MutableDrop);
        self.drop_rep(rep);
        if failed {
            return Err(self.trap_here());
        }
        Ok(())
    }

    fn flow(&self, rep: u32) -> Result<&FlowContext, ContractViolation> {
        match self.get(rep, "flow-context")? {
            Entry::Flow(ctx) => Ok(ctx),
            other => Err(ContractViolation::StaleHandle {
                resource: other.kind(),
                rep,
            }),
        }
    }

    /// `flow-context.trace-id`.
    pub fn flow_trace_id(&mut self, rep: u32) -> Result<String, ContractViolation> {
        if self.host_call(HostFunction::FlowTraceId) {
            return Err(self.trap_here());
        }
        Ok(self.flow(rep)?.trace_id().to_owned())
    }

    /// `flow-context.span-id`.
    pub fn flow_span_id(&mut self, rep: u32) -> Result<String, ContractViolation> {
        if self.host_call(HostFunction::FlowSpanId) {
            return Err(self.trap_here());
        }
        Ok(self.flow(rep)?.span_id().to_owned())
    }

    /// `flow-context.flow-id`.
    pub fn flow_id(&mut self, rep: u32) -> Result<String, ContractViolation> {
        if self.host_call(HostFunction::FlowId) {
            return Err(self.trap_here());
        }
        Ok(self.flow(rep)?.flow_id().to_owned())
    }

    /// `flow-context.deadline-ns`: the time left, 0 for no deadline, and 1
    /// once the deadline has passed (0 would read as "none").
    pub fn flow_deadline_ns(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        if self.host_call(HostFunction::FlowDeadlineNs) {
            return Err(self.trap_here());
        }
        Ok(match self.flow(rep)?.deadline_ns() {
            None => 0,
            Some(deadline) => deadline.saturating_sub(self.clock.now_ns()).max(1),
        })
    }

    /// The guest dropped its handle to a flow context.
    pub fn drop_flow(&mut self, rep: u32) -> Result<(), ContractViolation> {
        let failed = self.host_call(HostFunction::FlowDrop);
        self.drop_rep(rep);
        if failed {
            return Err(self.trap_here());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> HostResources {
        HostResources::new(
            ResourceLimits {
                max_buffer_bytes: 1024,
                max_resources: 8,
            },
            Clock::system(),
        )
    }

    fn end(res: &mut HostResources, inputs: &[u32]) -> InvocationMetrics {
        let mut m = InvocationMetrics::default();
        res.end_call(inputs, &mut m);
        m
    }

    #[track_caller]
    fn assert_stale<T: std::fmt::Debug>(result: Result<T, ContractViolation>) {
        assert!(
            matches!(result, Err(ContractViolation::StaleHandle { .. })),
            "expected a stale handle, got {result:?}"
        );
    }

    #[test]
    fn reads_clamp_to_the_bytes_in_bounds() {
        let mut r = store();
        r.begin_call();
        let b = r
            .lend_buffer(Bytes::from_static(b"0123456789"), "t".into())
            .unwrap();
        assert_eq!(r.buffer_read(b, 2, 3).unwrap(), b"234");
        assert_eq!(r.buffer_read(b, 8, 100).unwrap(), b"89");
        assert_eq!(r.buffer_read(b, 10, 1).unwrap(), b"");
        assert_eq!(r.buffer_read(b, u64::MAX, u64::MAX).unwrap(), b"");
        assert_eq!(r.buffer_read(b, 0, u64::MAX).unwrap(), b"0123456789");
        assert_eq!(r.buffer_read(b, u64::MAX - 1, 2).unwrap(), b"");
        assert_eq!(r.buffer_read_all(b).unwrap(), b"0123456789");
        assert_eq!(r.buffer_size(b).unwrap(), 10);
        assert_eq!(r.buffer_content_type(b).unwrap(), "t");
        let m = end(&mut r, &[b]);
        assert_eq!(m.bytes_into_guest, 3 + 2 + 10 + 10);
        assert_eq!(m.resources_reclaimed, 0);
        assert_eq!(r.live(), 0);
    }

    #[test]
    fn writes_check_offsets_and_capacity_before_use() {
        let mut r = store();
        r.begin_call();
        let m = r.allocate(8).unwrap();
        assert_eq!(
            r.mutable_write(m, 1, b"x").unwrap(),
            Err(BufferError::OutOfBounds)
        );
        assert_eq!(
            r.mutable_write(m, u64::MAX, b"x").unwrap(),
            Err(BufferError::OutOfBounds)
        );
        assert_eq!(r.mutable_append(m, b"abcdef").unwrap(), Ok(()));
        assert_eq!(r.mutable_write(m, 4, b"XYZW").unwrap(), Ok(()));
        assert_eq!(
            r.mutable_write(m, 6, b"123").unwrap(),
            Err(BufferError::CapacityExceeded)
        );
        assert_eq!(
            r.mutable_append(m, b"!!!").unwrap(),
            Err(BufferError::CapacityExceeded)
        );
        assert_eq!(r.mutable_size(m).unwrap(), 8);
        assert_eq!(r.mutable_capacity(m).unwrap(), 8);
        r.mutable_set_content_type(m, "text/plain").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(&taken.bytes[..], b"abcdXYZW");
        assert_eq!(taken.content_type, "text/plain");
        r.drop_mutable(m).unwrap();
        let metrics = end(&mut r, &[]);
        assert_eq!(metrics.bytes_out_of_guest, 6 + 4);
        assert_eq!(metrics.buffers_allocated, 1);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn a_frozen_mutable_buffer_is_dead_but_droppable() {
        let mut r = store();
        r.begin_call();
        let m = r.allocate(4).unwrap();
        let b = r.mutable_freeze(m).unwrap();
        assert_eq!(
            r.mutable_append(m, b"x").unwrap_err(),
            ContractViolation::UseAfterFreeze { rep: m }
        );
        assert_eq!(
            r.mutable_freeze(m).unwrap_err(),
            ContractViolation::UseAfterFreeze { rep: m }
        );
        r.drop_mutable(m).unwrap();
        assert_eq!(
            r.mutable_size(m).unwrap_err(),
            ContractViolation::StaleHandle {
                resource: "mutable-buffer",
                rep: m
            }
        );
        r.drop_buffer(b).unwrap();
        assert_eq!(r.live(), 0);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn a_handle_of_the_wrong_kind_is_stale() {
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
    fn the_budget_and_the_cap_refuse_allocations() {
        let mut r = store();
        r.begin_call();
        assert!(matches!(
            r.allocate(MAX_BUFFER_BYTES + 1),
            Err(BufferError::AllocationFailed(m)) if m.contains("cap")
        ));
        assert!(
            r.counters.budget_denied.is_none(),
            "the cap is not the budget"
        );
        let a = r.allocate(1000).unwrap();
        assert!(matches!(
            r.allocate(25),
            Err(BufferError::AllocationFailed(_))
        ));
        assert_eq!(r.counters.budget_denied, Some((1024, 1025)));
        r.drop_mutable(a).unwrap();
        let src = r
            .lend_buffer(Bytes::from(vec![1u8; 600]), ContentType::EMPTY)
            .unwrap();
        let c1 = r.clone_into_mutable(src).unwrap().unwrap();
        assert_eq!(r.mutable_capacity(c1).unwrap(), 600);
        assert!(r.clone_into_mutable(src).unwrap().is_err(), "1200 > 1024");
        end(&mut r, &[src]);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn the_resource_count_is_bounded() {
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
    fn clone_into_mutable_shares_until_written() {
        let mut r = store();
        let src_bytes = Bytes::from_static(b"shared");
        let src = r.lend_buffer(src_bytes.clone(), "a/b".into()).unwrap();
        let m = r.clone_into_mutable(src).unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.bytes.as_ptr(), src_bytes.as_ptr(), "no copy");
        assert_eq!(taken.content_type, "a/b");

        let m = r.clone_into_mutable(src).unwrap().unwrap();
        r.mutable_write(m, 0, b"S").unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(&taken.bytes[..], b"Shared");
        assert_eq!(&src_bytes[..], b"shared", "the source is untouched");
    }

    #[test]
    fn content_types_are_shared_not_copied() {
        let mut r = store();
        r.begin_call();
        let lent = ContentType::from("text/x-lent");
        let src = r.lend_buffer(Bytes::new(), lent.clone()).unwrap();
        // Cloned with the bytes: the same string, not a copy of it.
        let m = r.clone_into_mutable(src).unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type.as_ptr(), lent.as_ptr());
        // Set by the guest to the input's content type: shared again.
        let m = r.allocate(0).unwrap();
        r.mutable_set_content_type(m, "text/x-lent").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type.as_ptr(), lent.as_ptr());
        // Any other string is its own.
        let m = r.allocate(0).unwrap();
        r.mutable_set_content_type(m, "text/x-other").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type, "text/x-other");
        assert_ne!(taken.content_type.as_ptr(), lent.as_ptr());
        end(&mut r, &[src]);
        // The next call does not match against the last call's input...
        r.begin_call();
        let again = r.content_type("text/x-lent");
        assert_eq!(again, lent);
        assert_ne!(again.as_ptr(), lent.as_ptr());
        assert_eq!(r.content_type("").as_ptr(), ContentType::EMPTY.as_ptr());
        // ...but the last string named is shared from call to call (a
        // source's), unless it is long.
        end(&mut r, &[]);
        r.begin_call();
        assert_eq!(r.content_type("text/x-lent").as_ptr(), again.as_ptr());
        let long = "x".repeat(KEEP_CONTENT_TYPE_BYTES + 1);
        assert_ne!(
            r.content_type(&long).as_ptr(),
            r.content_type(&long).as_ptr()
        );
        assert_eq!(r.content_type("text/x-lent").as_ptr(), again.as_ptr());
    }

    #[test]
    fn deadlines_read_the_clock() {
        let clock = Clock::system();
        let mut r = HostResources::new(ResourceLimits::default(), clock.clone());
        let far = r
            .lend_flow(
                FlowContext::new("f")
                    .with_deadline_ns(clock.deadline_after(std::time::Duration::from_secs(60))),
            )
            .unwrap();
        let left = r.flow_deadline_ns(far).unwrap();
        assert!(left > 59_000_000_000 && left <= 60_000_000_000, "{left}");
        let past = r
            .lend_flow(FlowContext::new("f").with_deadline_ns(1))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert_eq!(
            r.flow_deadline_ns(past).unwrap(),
            1,
            "passed reads as 1, not 0 (none)"
        );
    }

    #[test]
    fn reps_are_not_reused_across_calls() {
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
    fn churning_resources_in_one_call_keeps_the_store_bounded() {
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
