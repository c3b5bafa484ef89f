//! What a mock component does: a [`MockModel`] (Rust code with the
//! contract's host operations at hand through [`MockCtx`]) built per
//! instance by a [`MockComponent`].
//!
//! Hot path of the mock. A model reads its input and builds its outputs
//! through the same [`HostResources`] the Wasmtime backend uses, so copies,
//! allocations, host calls, budgets and leak accounting are the real ones.

use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{ContractViolation, TrapCode};
use crate::host::{BufferError, HostResources};
use crate::random::SplitMix64;
use crate::types::{
    BackpressureSignal, ElementMeta, OutputElement, ProcessError, ProcessResult, Role, Roles,
};
use crate::world::WorldTap;

/// Why a model call did not return a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MockError {
    /// The component answers with a contract `process-error`.
    Guest(ProcessError),
    /// A buffer operation failed and the model gave up, as a Rust guest
    /// that unwraps it would: reported as a trap (or as the budget fault
    /// when the buffer budget refused it).
    Buffer(BufferError),
    /// The model broke the contract (a stale handle, a use after freeze).
    Contract(ContractViolation),
    /// The model's answer broke a bound on answers (set by the invoker's
    /// check of a `route` or `flush` answer; reported as
    /// [`crate::FaultKind::AnswerTooLarge`]).
    Answer {
        /// The bound that was broken.
        limit: crate::AnswerLimit,
        /// The bound's value.
        allowed: u64,
        /// What the answer held.
        got: u64,
    },
    /// The component traps.
    Trap(TrapCode),
    /// The component runs out of fuel.
    FuelExhausted,
    /// The component runs past its deadline.
    DeadlineExceeded,
    /// The component grew its memory past the limit and trapped: it asked
    /// for `requested` bytes in all (see
    /// [`MockCtx::grow_memory_until_refused`], which returns this error).
    MemoryLimitExceeded {
        /// The memory size the component asked for, in bytes.
        requested: u64,
    },
}

impl From<ProcessError> for MockError {
    fn from(e: ProcessError) -> Self {
        Self::Guest(e)
    }
}

impl From<BufferError> for MockError {
    fn from(e: BufferError) -> Self {
        Self::Buffer(e)
    }
}

impl From<ContractViolation> for MockError {
    fn from(e: ContractViolation) -> Self {
        Self::Contract(e)
    }
}

/// The result type of model calls.
pub type MockResult<T> = Result<T, MockError>;

/// A mutable buffer the model allocated (a `mutable-buffer` handle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MutBuf(u32);

/// A frozen buffer the model owns (an owned `buffer` handle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buf(u32);

/// An element a model's `flush` returns whose payload is still the
/// model's frozen buffer: the invoker checks the answer's length against
/// [`crate::Limits::max_flush_outputs`] first, then moves each buffer to
/// the host, as the Wasmtime backend does with a guest's answer (an answer
/// over the bound takes none, and the end of the call reclaims them all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOutput {
    /// The element's metadata.
    pub meta: ElementMeta,
    /// Its payload.
    pub buf: Buf,
}

/// The input element of a `process` or `push` call, as the model sees it:
/// its metadata, and its payload and context behind [`MockCtx`].
#[derive(Clone, Debug)]
pub struct ModelElement {
    /// The element's metadata.
    pub meta: ElementMeta,
}

/// The contract's host operations, for a model. Every method is one host
/// call, counted and charged to the clock exactly as a guest's would be.
pub struct MockCtx<'a> {
    pub(crate) res: &'a mut HostResources,
    /// The fuel the call has left after the model's cost (burned up
    /// front), for the deadline check of each host call.
    pub(crate) fuel_left: u64,
    pub(crate) input: Option<(u32, u32)>,
    pub(crate) memory_bytes: &'a mut u64,
    pub(crate) memory_limit: u64,
    pub(crate) memory_denied: &'a mut Option<(u64, u64)>,
    pub(crate) rng: &'a mut SplitMix64,
    pub(crate) world: &'a WorldTap,
    pub(crate) clock: &'a Clock,
}

/// A Wasm page: the unit linear memory grows by.
const WASM_PAGE: u64 = 64 * 1024;

impl MockCtx<'_> {
    /// The host resources for a host call, after the deadline check a
    /// Wasm guest's host calls get on a virtual clock (see `crate::host`'s
    /// timer): past the deadline, the call is stopped with
    /// `DeadlineExceeded` there.
    fn res(&mut self) -> MockResult<&mut HostResources> {
        if self.res.checks_deadline() {
            match self.res.check_deadline(self.fuel_left) {
                // The fuel the time left allows (the rest is withheld).
                Ok(Some(allowed)) => self.fuel_left = allowed,
                Ok(None) => {}
                Err(_) => return Err(MockError::DeadlineExceeded),
            }
        }
        Ok(&mut *self.res)
    }

    fn input(&self) -> MockResult<(u32, u32)> {
        self.input.ok_or(MockError::Trap(TrapCode::Unreachable))
    }

    /// `buffer.size` of the input payload.
    pub fn payload_size(&mut self) -> MockResult<u64> {
        let rep = self.input()?.0;
        Ok(self.res()?.buffer_size(rep)?)
    }

    /// `buffer.read-all` of the input payload (copied "into the guest").
    pub fn read_payload(&mut self) -> MockResult<Vec<u8>> {
        let rep = self.input()?.0;
        Ok(self.res()?.buffer_read_all(rep)?)
    }

    /// `buffer.read` of the input payload.
    pub fn read_payload_range(&mut self, offset: u64, len: u64) -> MockResult<Vec<u8>> {
        let rep = self.input()?.0;
        Ok(self.res()?.buffer_read(rep, offset, len)?)
    }

    /// `buffer.content-type` of the input payload.
    pub fn payload_content_type(&mut self) -> MockResult<String> {
        let rep = self.input()?.0;
        Ok(self.res()?.buffer_content_type(rep)?)
    }

    /// `flow-context.flow-id` of the input.
    pub fn flow_id(&mut self) -> MockResult<String> {
        let rep = self.input()?.1;
        Ok(self.res()?.flow_id(rep)?)
    }

    /// `flow-context.trace-id` of the input.
    pub fn trace_id(&mut self) -> MockResult<String> {
        let rep = self.input()?.1;
        Ok(self.res()?.flow_trace_id(rep)?)
    }

    /// `flow-context.deadline-ns` of the input (0: none).
    pub fn deadline_ns(&mut self) -> MockResult<u64> {
        let rep = self.input()?.1;
        Ok(self.res()?.flow_deadline_ns(rep)?)
    }

    /// `buffer-allocator.allocate`.
    pub fn allocate(&mut self, capacity: u64) -> MockResult<MutBuf> {
        Ok(MutBuf(self.res()?.allocate(capacity)?))
    }

    /// `buffer-allocator.clone-into-mutable` of the input payload (shares
    /// the bytes until written).
    pub fn clone_payload(&mut self) -> MockResult<MutBuf> {
        let rep = self.input()?.0;
        Ok(MutBuf(self.res()?.clone_into_mutable(rep)??))
    }

    /// `mutable-buffer.append`.
    pub fn append(&mut self, buf: MutBuf, bytes: &[u8]) -> MockResult<()> {
        Ok(self.res()?.mutable_append(buf.0, bytes)??)
    }

    /// `mutable-buffer.write`.
    pub fn write(&mut self, buf: MutBuf, offset: u64, bytes: &[u8]) -> MockResult<()> {
        Ok(self.res()?.mutable_write(buf.0, offset, bytes)??)
    }

    /// `mutable-buffer.set-content-type`.
    pub fn set_content_type(&mut self, buf: MutBuf, content_type: &str) -> MockResult<()> {
        Ok(self.res()?.mutable_set_content_type(buf.0, content_type)?)
    }

    /// `mutable-buffer.freeze` (the mutable handle stays to be dropped).
    pub fn freeze(&mut self, buf: MutBuf) -> MockResult<Buf> {
        Ok(Buf(self.res()?.mutable_freeze(buf.0)?))
    }

    /// Drops a mutable-buffer handle (frozen or not).
    pub fn drop_mutable(&mut self, buf: MutBuf) {
        // A failure here (fault injection) traps; the call frame reports
        // it whatever the model does next.
        if let Ok(res) = self.res() {
            let _ = res.drop_mutable(buf.0);
        }
    }

    /// Returns a frozen buffer to the host as an output element's payload.
    pub fn output(&mut self, meta: ElementMeta, buf: Buf) -> MockResult<OutputElement> {
        let taken = self.res.take_buffer(buf.0)?;
        Ok(OutputElement {
            meta,
            payload: taken.bytes,
            buffer_content_type: taken.content_type,
        })
    }

    /// Allocates, appends `bytes`, sets the content type, freezes and drops
    /// the mutable handle: the host calls a typical producer makes.
    pub fn emit_bytes(
        &mut self,
        meta: ElementMeta,
        bytes: &[u8],
        content_type: &str,
    ) -> MockResult<OutputElement> {
        let b = self.frozen_bytes(bytes, content_type)?;
        self.output(meta, b)
    }

    /// The buffer [`MockCtx::emit_bytes`] builds, kept by the model (for a
    /// [`PendingOutput`], or to leak).
    pub fn frozen_bytes(&mut self, bytes: &[u8], content_type: &str) -> MockResult<Buf> {
        let m = self.allocate(bytes.len() as u64)?;
        self.append(m, bytes)?;
        self.set_content_type(m, content_type)?;
        let b = self.freeze(m)?;
        self.drop_mutable(m);
        Ok(b)
    }

    /// `capability-query.has-capability(name)`: whether the instance was
    /// granted `name` ([`crate::InstanceOptions::grants`]).
    pub fn has_capability(&mut self, name: &str) -> bool {
        // As for `drop_mutable`: an injected failure traps.
        self.res()
            .is_ok_and(|res| res.has_capability(name).unwrap_or(false))
    }

    /// Clones the input payload, freezes and drops the mutable handle: the
    /// zero-copy passthrough.
    pub fn emit_input(&mut self, meta: ElementMeta) -> MockResult<OutputElement> {
        let m = self.clone_payload()?;
        let b = self.freeze(m)?;
        self.drop_mutable(m);
        self.output(meta, b)
    }

    /// Grows the simulated linear memory by `bytes`; `false` (and a
    /// memory-limit fault if the model then fails) past the limit.
    pub fn grow_memory(&mut self, bytes: u64) -> bool {
        let wanted = self.memory_bytes.saturating_add(bytes);
        if wanted > self.memory_limit {
            *self.memory_denied = Some((self.memory_limit, wanted));
            return false;
        }
        *self.memory_bytes = wanted;
        true
    }

    /// Grows the simulated memory one 64 KiB page at a time until the limit
    /// refuses a page, as a guest that allocates without bound does, and
    /// returns the error to give up with: the memory ends at the last page
    /// that fit and the fault reports the size of the refused growth (what
    /// the Wasmtime backend reports for such a guest).
    pub fn grow_memory_until_refused(&mut self) -> MockError {
        let room = self.memory_limit.saturating_sub(*self.memory_bytes);
        *self.memory_bytes += room / WASM_PAGE * WASM_PAGE;
        let requested = self.memory_bytes.saturating_add(WASM_PAGE);
        *self.memory_denied = Some((self.memory_limit, requested));
        MockError::MemoryLimitExceeded { requested }
    }

    /// The next 64 bits of the instance's random stream. With
    /// [`crate::RandomSource::Seeded`] in the engine's configuration the
    /// stream depends only on the seed and the instance's id (as a Wasmtime
    /// guest's WASI random seed does), so a run replays.
    ///
    /// Read as a guest's `wasi:random/random.get-random-u64` is: logged
    /// for a recording, given back by a replay (`crate::world`).
    pub fn random_u64(&mut self) -> u64 {
        let rng = &mut *self.rng;
        self.world.random_u64(false, || rng.next_u64())
    }

    /// Fills `buf` from the instance's random stream (see
    /// [`MockCtx::random_u64`]), as `get-random-bytes` would.
    pub fn fill_random(&mut self, buf: &mut [u8]) {
        let rng = &mut *self.rng;
        self.world.random_bytes(false, false, buf, |b| rng.fill(b));
    }

    /// The wall-clock time (since the Unix epoch) as a guest's
    /// `wasi:clocks/wall-clock.now` reads it from the engine clock; logged
    /// and given back like the random reads.
    pub fn wall_clock_now(&mut self) -> std::time::Duration {
        let clock = self.clock;
        self.world.wall_clock_now(|| clock.wall_now())
    }

    /// Nanoseconds on the engine clock, as a guest's
    /// `wasi:clocks/monotonic-clock.now` reads them; logged and given back
    /// like the random reads.
    pub fn monotonic_clock_now(&mut self) -> u64 {
        let clock = self.clock;
        self.world.monotonic_clock_now(|| clock.now_ns())
    }
}

/// The behaviour of one mock instance. Every method has a default that
/// succeeds doing nothing; which of them can be called depends on the
/// component's roles, not on which are overridden.
#[expect(
    unused_variables,
    reason = "the default methods ignore their arguments"
)]
pub trait MockModel: Send + 'static {
    /// `lifecycle.init`.
    fn init(&mut self, ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        Ok(())
    }
    /// `processor.process`.
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        Ok(ProcessResult::Drop)
    }
    /// `source.pull`.
    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
        Ok(None)
    }
    /// `source.notify-backpressure`.
    fn notify_backpressure(
        &mut self,
        ctx: &mut MockCtx<'_>,
        signal: BackpressureSignal,
    ) -> MockResult<()> {
        Ok(())
    }
    /// `sink.push`.
    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        Ok(BackpressureSignal::Ready)
    }
    /// `sink.complete`.
    fn complete(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        Ok(())
    }
    /// `lifecycle.teardown`.
    fn teardown(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        Ok(())
    }
    /// `filter.evaluate`: `true` passes the element on.
    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<bool> {
        Ok(true)
    }
    /// `router.route`: the ports the element goes to.
    fn route(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<Vec<String>> {
        Ok(Vec::new())
    }
    /// `aggregator.ingest`.
    fn ingest(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<Option<OutputElement>> {
        Ok(None)
    }
    /// `aggregator.flush`: what is still buffered, as buffers the model
    /// still holds (see [`PendingOutput`]).
    fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
        Ok(Vec::new())
    }
}

/// How much simulated linear memory an instance has, and how it grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryModel {
    /// Bytes at instantiation.
    pub initial: u64,
    /// Bytes added by every call.
    pub growth_per_call: u64,
}

impl Default for MemoryModel {
    /// One 64 KiB page, no growth.
    fn default() -> Self {
        Self {
            initial: 65536,
            growth_per_call: 0,
        }
    }
}

type Factory = dyn Fn() -> Box<dyn MockModel> + Send + Sync;

/// A mock component: a name, the roles it exports, and a factory that
/// builds a fresh model for every instance.
#[derive(Clone)]
pub struct MockComponent {
    pub(crate) name: Arc<str>,
    pub(crate) roles: Roles,
    pub(crate) factory: Arc<Factory>,
    pub(crate) memory: MemoryModel,
}

impl fmt::Debug for MockComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockComponent")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl MockComponent {
    /// A component whose instances each get `factory()` as their model.
    pub fn new<M: MockModel>(
        name: impl AsRef<str>,
        roles: impl IntoIterator<Item = Role>,
        factory: impl Fn() -> M + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: Arc::from(name.as_ref()),
            roles: roles.into_iter().collect(),
            factory: Arc::new(move || Box::new(factory()) as Box<dyn MockModel>),
            memory: MemoryModel::default(),
        }
    }

    /// A processor from a closure (`lifecycle` not exported); see
    /// [`MockBuilder`] for the other functions.
    pub fn processor(
        name: impl AsRef<str>,
        process: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<ProcessResult>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        MockBuilder::new(name.as_ref()).on_process(process).build()
    }

    /// The same component with another memory model.
    pub fn with_memory(mut self, memory: MemoryModel) -> Self {
        self.memory = memory;
        self
    }

    /// The component's name (what `MockEngine::compile` looks up).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roles it exports.
    pub fn roles(&self) -> Roles {
        self.roles
    }
}

type ProcessFn = dyn Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<ProcessResult> + Send + Sync;

type InitFn = dyn Fn(&mut MockCtx<'_>, &str) -> MockResult<()> + Send + Sync;
type PullFn = dyn Fn(&mut MockCtx<'_>) -> MockResult<Option<OutputElement>> + Send + Sync;
type PushFn =
    dyn Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<BackpressureSignal> + Send + Sync;
type NotifyFn = dyn Fn(&mut MockCtx<'_>, BackpressureSignal) -> MockResult<()> + Send + Sync;
type UnitFn = dyn Fn(&mut MockCtx<'_>) -> MockResult<()> + Send + Sync;
type EvaluateFn = dyn Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<bool> + Send + Sync;
type RouteFn = dyn Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<Vec<String>> + Send + Sync;
type IngestFn =
    dyn Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<Option<OutputElement>> + Send + Sync;
type FlushFn = dyn Fn(&mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> + Send + Sync;

/// Builds a [`MockComponent`] from closures, one per contract function.
/// The roles follow from the closures given (`process` → processor, `pull`
/// or `notify_backpressure` → source, `push` or `complete` → sink, `init`
/// or `teardown` → lifecycle, `evaluate` → filter, `route` → router,
/// `ingest` or `flush` → aggregator) unless set with [`MockBuilder::roles`].
/// Closures are shared by all instances; keep per-instance state in a
/// [`MockModel`] instead, or behind a lock.
#[derive(Clone, Default)]
pub struct MockBuilder {
    name: String,
    roles: Option<Roles>,
    memory: MemoryModel,
    init: Option<Arc<InitFn>>,
    process: Option<Arc<ProcessFn>>,
    pull: Option<Arc<PullFn>>,
    push: Option<Arc<PushFn>>,
    notify: Option<Arc<NotifyFn>>,
    complete: Option<Arc<UnitFn>>,
    teardown: Option<Arc<UnitFn>>,
    evaluate: Option<Arc<EvaluateFn>>,
    route: Option<Arc<RouteFn>>,
    ingest: Option<Arc<IngestFn>>,
    flush: Option<Arc<FlushFn>>,
}

impl MockBuilder {
    /// A builder for a component named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the exported roles explicitly.
    pub fn roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.roles = Some(roles.into_iter().collect());
        self
    }

    /// Sets the memory model.
    pub fn memory(mut self, memory: MemoryModel) -> Self {
        self.memory = memory;
        self
    }

    /// `lifecycle.init`.
    pub fn on_init(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &str) -> MockResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.init = Some(Arc::new(f));
        self
    }

    /// `processor.process`.
    pub fn on_process(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<ProcessResult> + Send + Sync + 'static,
    ) -> Self {
        self.process = Some(Arc::new(f));
        self
    }

    /// `source.pull`.
    pub fn on_pull(
        mut self,
        f: impl Fn(&mut MockCtx<'_>) -> MockResult<Option<OutputElement>> + Send + Sync + 'static,
    ) -> Self {
        self.pull = Some(Arc::new(f));
        self
    }

    /// `sink.push`.
    pub fn on_push(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<BackpressureSignal>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.push = Some(Arc::new(f));
        self
    }

    /// `source.notify-backpressure`.
    pub fn on_notify_backpressure(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, BackpressureSignal) -> MockResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.notify = Some(Arc::new(f));
        self
    }

    /// `sink.complete`.
    pub fn on_complete(
        mut self,
        f: impl Fn(&mut MockCtx<'_>) -> MockResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.complete = Some(Arc::new(f));
        self
    }

    /// `lifecycle.teardown`.
    pub fn on_teardown(
        mut self,
        f: impl Fn(&mut MockCtx<'_>) -> MockResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.teardown = Some(Arc::new(f));
        self
    }

    /// `filter.evaluate`.
    pub fn on_evaluate(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<bool> + Send + Sync + 'static,
    ) -> Self {
        self.evaluate = Some(Arc::new(f));
        self
    }

    /// `router.route`.
    pub fn on_route(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<Vec<String>> + Send + Sync + 'static,
    ) -> Self {
        self.route = Some(Arc::new(f));
        self
    }

    /// `aggregator.ingest`.
    pub fn on_ingest(
        mut self,
        f: impl Fn(&mut MockCtx<'_>, &ModelElement) -> MockResult<Option<OutputElement>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.ingest = Some(Arc::new(f));
        self
    }

    /// `aggregator.flush`.
    pub fn on_flush(
        mut self,
        f: impl Fn(&mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> + Send + Sync + 'static,
    ) -> Self {
        self.flush = Some(Arc::new(f));
        self
    }

    /// The component.
    pub fn build(self) -> MockComponent {
        let inferred = [
            (Role::Processor, self.process.is_some()),
            (Role::Source, self.pull.is_some() || self.notify.is_some()),
            (Role::Sink, self.push.is_some() || self.complete.is_some()),
            (
                Role::Lifecycle,
                self.init.is_some() || self.teardown.is_some(),
            ),
            (Role::Filter, self.evaluate.is_some()),
            (Role::Router, self.route.is_some()),
            (
                Role::Aggregator,
                self.ingest.is_some() || self.flush.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(role, set)| set.then_some(role));
        let roles: Vec<Role> = match self.roles {
            Some(roles) => roles.iter().collect(),
            None => inferred.collect(),
        };
        let name = self.name.clone();
        let memory = self.memory;
        MockComponent::new(name, roles, move || self.clone()).with_memory(memory)
    }
}

impl MockModel for MockBuilder {
    fn init(&mut self, ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        self.init.as_ref().map_or(Ok(()), |f| f(ctx, config))
    }

    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        self.process
            .as_ref()
            .map_or(Ok(ProcessResult::Drop), |f| f(ctx, input))
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
        self.pull.as_ref().map_or(Ok(None), |f| f(ctx))
    }

    fn notify_backpressure(
        &mut self,
        ctx: &mut MockCtx<'_>,
        signal: BackpressureSignal,
    ) -> MockResult<()> {
        self.notify.as_ref().map_or(Ok(()), |f| f(ctx, signal))
    }

    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        self.push
            .as_ref()
            .map_or(Ok(BackpressureSignal::Ready), |f| f(ctx, input))
    }

    fn complete(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        self.complete.as_ref().map_or(Ok(()), |f| f(ctx))
    }

    fn teardown(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        self.teardown.as_ref().map_or(Ok(()), |f| f(ctx))
    }

    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<bool> {
        self.evaluate.as_ref().map_or(Ok(true), |f| f(ctx, input))
    }

    fn route(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<Vec<String>> {
        self.route
            .as_ref()
            .map_or(Ok(Vec::new()), |f| f(ctx, input))
    }

    fn ingest(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<Option<OutputElement>> {
        self.ingest.as_ref().map_or(Ok(None), |f| f(ctx, input))
    }

    fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
        self.flush.as_ref().map_or(Ok(Vec::new()), |f| f(ctx))
    }
}
